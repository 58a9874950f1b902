//! The committed bindings in `src/sys/bindings/<family>/<arch>.rs` are byte
//! for byte what bindgen makes today from `wrapper.h` and real headers, and
//! every other target a file serves gets the same items from its own
//! headers (e.g. musl's for `linux/x86_64.rs`, made from glibc's).
//!
//! Runs with `--features bindgen` (build.rs regenerates every committed
//! file into `$OUT_DIR/fresh/` and checks the targets each one serves; see
//! `build/regenerate.rs`). `EVQ_BLESS=1` rewrites the committed files from
//! the fresh output instead of failing on a difference.
// Not with `--cfg evq_force_kqueue`: build.rs then makes libkqueue bindings
// only, and regenerates no committed file (no EVQ_FRESH_BINDINGS).
#![cfg(all(feature = "bindgen", not(evq_force_kqueue)))]

use std::fs;
use std::path::{Path, PathBuf};

/// Every `<family>/<arch>.rs` under `dir`, as `<family>/<arch>`.
fn committed_keys(dir: &Path) -> Vec<PathBuf> {
    let mut keys = Vec::new();
    for family in fs::read_dir(dir).expect("src/sys/bindings is readable") {
        let family = family.expect("readable entry").path();
        for file in fs::read_dir(&family).expect("a family directory") {
            let path = file.expect("readable entry").path();
            if path.extension().is_some_and(|ext| ext == "rs") {
                keys.push(path.strip_prefix(dir).unwrap().with_extension(""));
            }
        }
    }
    keys.sort();
    keys
}

#[test]
fn committed_bindings_match_fresh_bindgen_output() {
    let fresh_dir = Path::new(env!("EVQ_FRESH_BINDINGS"));
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys/bindings");
    let bless = std::env::var_os("EVQ_BLESS").is_some_and(|v| v == "1");

    let keys = committed_keys(&committed_dir);
    assert!(!keys.is_empty(), "no committed bindings found");
    let mut problems = Vec::new();
    for key in &keys {
        let path = committed_dir.join(key).with_extension("rs");
        let Ok(fresh) = fs::read_to_string(fresh_dir.join(key).with_extension("rs")) else {
            let why = fs::read_to_string(fresh_dir.join(key).with_extension("missing"))
                .unwrap_or_else(|_| "build.rs did not regenerate it".to_string());
            problems.push(format!("{}: {why}", key.display()));
            continue;
        };
        let old = fs::read_to_string(&path).expect("committed bindings are readable");
        if old != fresh {
            if bless {
                fs::write(&path, &fresh).expect("committed bindings are writable");
                eprintln!("blessed {}", path.display());
            } else {
                problems.push(format!(
                    "{}: differs from fresh bindgen output ({})",
                    key.display(),
                    first_difference(&old, &fresh)
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "stale or unverifiable bindings (rerun with EVQ_BLESS=1 to rewrite them):\n  {}",
        problems.join("\n  ")
    );
}

/// A committed file serves other targets (musl, Android, Apple's other
/// OSes) only where their own headers declare the same items with the same
/// ABI. A target whose headers are not available here is listed as
/// unchecked (printed, not failed); one whose headers disagree fails, and
/// then needs its own file.
#[test]
fn every_target_a_file_serves_has_the_same_items() {
    let fresh_dir = Path::new(env!("EVQ_FRESH_BINDINGS"));
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys/bindings");
    let mut different = Vec::new();
    let mut checked = 0;
    for key in committed_keys(&committed_dir) {
        let Ok(proof) = fs::read_to_string(fresh_dir.join(&key).with_extension("proof")) else {
            // The freshness test reports why this file was not regenerated.
            continue;
        };
        for line in proof.lines() {
            eprintln!("{}: {line}", key.display());
            if line.starts_with("same: ") {
                checked += 1;
            } else if !line.starts_with("unchecked: ") {
                different.push(format!("{}: {line}", key.display()));
            }
        }
    }
    assert!(
        different.is_empty(),
        "targets served by a committed file whose headers disagree with it:\n  {}",
        different.join("\n  ")
    );
    assert!(checked > 0, "no served target was checked");
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
