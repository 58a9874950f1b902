//! The committed bindings in `src/sys/bindings/` are byte for byte what
//! bindgen makes today from `wrapper.h` and each target's real headers.
//!
//! Runs with `--features bindgen` (build.rs regenerates every committed
//! file into `$OUT_DIR/fresh/`). `EVQ_BLESS=1` rewrites the committed files
//! from the fresh output instead of failing.
// Not with `--cfg evq_force_kqueue`: build.rs then makes libkqueue bindings
// only, and regenerates no committed file (no EVQ_FRESH_BINDINGS).
#![cfg(all(feature = "bindgen", not(evq_force_kqueue)))]

use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn committed_bindings_match_fresh_bindgen_output() {
    let fresh_dir = Path::new(env!("EVQ_FRESH_BINDINGS"));
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys/bindings");
    let bless = std::env::var_os("EVQ_BLESS").is_some_and(|v| v == "1");

    let mut committed: Vec<PathBuf> = fs::read_dir(&committed_dir)
        .expect("src/sys/bindings is readable")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    committed.sort();
    assert!(!committed.is_empty(), "no committed bindings found");

    let mut problems = Vec::new();
    for path in &committed {
        let name = path.file_name().expect("a file name");
        let target = Path::new(name).with_extension("");
        let fresh_path = fresh_dir.join(name);
        let Ok(fresh) = fs::read_to_string(&fresh_path) else {
            let why = fs::read_to_string(fresh_dir.join(target.with_extension("missing")))
                .unwrap_or_else(|_| "build.rs did not regenerate it".to_string());
            problems.push(format!("{}: {why}", target.display()));
            continue;
        };
        let old = fs::read_to_string(path).expect("committed bindings are readable");
        if old == fresh {
            continue;
        }
        if bless {
            fs::write(path, &fresh).expect("committed bindings are writable");
            eprintln!("blessed {}", path.display());
        } else {
            problems.push(format!(
                "{}: differs from fresh bindgen output ({})",
                target.display(),
                first_difference(&old, &fresh)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "stale or unverifiable bindings (rerun with EVQ_BLESS=1 to rewrite them):\n  {}",
        problems.join("\n  ")
    );
}

fn first_difference(old: &str, new: &str) -> String {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for line in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                return format!(
                    "line {line}: committed {:?}, fresh {:?}",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                )
            }
        }
    }
    unreachable!("`1..` does not end")
}
