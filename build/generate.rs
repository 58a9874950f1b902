//! Runs bindgen over `wrapper.h` (part of build.rs, with the `bindgen`
//! feature).

use super::Backend;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust version the generated code targets: evq's MSRV
/// (`rust-version` in Cargo.toml), so no `unsafe extern` blocks. Pinned,
/// like everything else here, so that the output depends only on the
/// headers and the bindgen version, never on the compiler running the
/// build. Below Rust 1.77 (`offset_of!`) bindgen checks struct layouts
/// in `#[test]` functions rather than at compile time.
const RUST_TARGET: (u64, u64) = (71, 0);

/// Runs bindgen over `wrapper.h` for `target` with the extra clang
/// arguments `clang_args` (header search and defines). The output starts
/// with a line naming `description` (what the file is for) and ends with
/// `GENERATED_FROM`, naming bindgen's version, `target` and `origin`, the
/// headers.
pub fn bindings(
    manifest_dir: &Path,
    target: &str,
    backend: Backend,
    clang_args: &[String],
    description: &str,
    origin: &str,
) -> Result<String, String> {
    // bindgen adds these to the clang arguments itself; LIBCLANG_PATH
    // chooses the libclang.
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    for var in [
        "BINDGEN_EXTRA_CLANG_ARGS".to_string(),
        format!("BINDGEN_EXTRA_CLANG_ARGS_{target}"),
        format!("BINDGEN_EXTRA_CLANG_ARGS_{}", target.replace('-', "_")),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let wrapper = manifest_dir.join("wrapper.h");
    let mut builder = bindgen::Builder::default()
        .header(wrapper.to_string_lossy())
        .clang_arg(format!("--target={}", clang_target(target)))
        .clang_args(resource_dir_arg())
        .clang_args(clang_args)
        // glibc's feature set is fixed by the first header included, which
        // may come before wrapper.h (`-include` in BINDGEN_EXTRA_CLANG_ARGS):
        // define _GNU_SOURCE, which wrapper.h asks for (accept4, pipe2), up
        // front.
        .clang_args(target.contains("-linux").then_some("-D_GNU_SOURCE=1"))
        .use_core()
        .layout_tests(true)
        .generate_comments(false)
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .formatter(bindgen::Formatter::Prettyplease)
        .rust_target(
            bindgen::RustTarget::stable(RUST_TARGET.0, RUST_TARGET.1).map_err(|e| e.to_string())?,
        )
        .rust_edition(bindgen::RustEdition::Edition2021)
        .raw_line(format!(
            "// evq `sys` bindings for {description}. Do not edit; regenerate \
             (README.md, \"Bindings\")."
        ));
    if backend == Backend::Kqueue {
        // `kevent` is a struct and a function; `Default` builds the struct
        // (EV_SET is a macro bindgen cannot translate) whatever extra
        // fields an OS adds.
        builder = builder.derive_default(true);
    }
    if backend == Backend::Iocp {
        // OVERLAPPED, IO_STATUS_BLOCK and AFD_POLL_INFO are handed to the
        // kernel zeroed: `Default` makes them without `unsafe`. The AMX
        // tile type that mingw-w64's intrinsics headers declare has a
        // vector layout bindgen cannot represent; nothing evq uses refers
        // to it.
        builder = builder.derive_default(true).blocklist_type("__tile1024i.*");
    }
    for group in backend.items() {
        builder = group
            .functions
            .iter()
            .fold(builder, |b, f| b.allowlist_function(f));
        builder = group.types.iter().fold(builder, |b, t| b.allowlist_type(t));
        builder = group.vars.iter().fold(builder, |b, v| b.allowlist_var(v));
    }
    // libclang aborts bindgen with a panic, not an error, on a target it
    // does not know (LLVM 14 has no loongarch64): report it like one.
    let generated = std::panic::catch_unwind(AssertUnwindSafe(|| builder.generate()));
    let generated = generated.map_err(|_| {
        format!(
            "{} cannot parse for this target: use a newer libclang (LLVM 16+ for \
             loongarch64, 17+ for visionOS), e.g. LIBCLANG_PATH=/usr/lib/llvm-19/lib \
             as .ci/regenerate-bindings sets",
            bindgen::clang_version().full
        )
    })?;
    let text = generated.map_err(|e| e.to_string())?.to_string();
    let mut text = non_const_mut_accessors(&name_anonymous_enum_types(&text));
    // bindgen names its version only in its header comment.
    let version = text
        .lines()
        .next()
        .and_then(|line| line.split("by ").nth(1))
        .map_or("rust-bindgen", |rest| rest.trim_end_matches(" */"));
    let generated_from = format!("{version} for {target}, from {origin}");
    text.push_str(&format!(
        "/// Where these bindings came from: the bindgen version, the target and \
         the C headers.\npub const GENERATED_FROM: &str = {generated_from:?};\n"
    ));
    Ok(text)
}

/// bindgen 0.73 declares `__BindgenUnionField::as_mut` (the accessor of a
/// union member it cannot make a Rust union, such as io_uring_sqe's
/// flexible `cmd`) a `const fn` whatever `rust_target` says, but `&mut` in
/// a `const fn` needs Rust 1.83 and evq's MSRV is 1.71: make it a plain
/// `unsafe fn`, as bindgen does for older targets. Nothing calls it in a
/// constant.
fn non_const_mut_accessors(text: &str) -> String {
    text.replace(
        "pub const unsafe fn as_mut(&mut self)",
        "pub unsafe fn as_mut(&mut self)",
    )
}

/// Gives the constants of an anonymous C enum (glibc's `enum {
/// EPOLL_CLOEXEC = .. }`) the enum's integer type instead of the alias
/// bindgen invents for it (`pub type _bindgen_ty_1 = c_uint;`), so no
/// made-up name reaches the docs or the API. Nested anonymous types keep
/// bindgen's names, which start with their parent's.
fn name_anonymous_enum_types(text: &str) -> String {
    let mut aliases = Vec::new();
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        let alias = line
            .strip_prefix("pub type _bindgen_ty_")
            .and_then(|rest| rest.strip_suffix(';'))
            .and_then(|rest| rest.split_once(" = "));
        match alias {
            Some((number, integer)) => aliases.push((format!("_bindgen_ty_{number}"), integer)),
            None => {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    for (alias, integer) in &aliases {
        kept = replace_identifier(&kept, alias, integer);
    }
    kept
}

/// Replaces whole-identifier occurrences of `name` in `text`.
fn replace_identifier(text: &str, name: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

/// `-resource-dir=<dir>` for clang's own headers (`stddef.h`, `stdint.h`),
/// which libclang finds only next to a clang installation. Debian's
/// libclang-N-dev has them in `/usr/lib/llvm-N/lib/clang/<version>`, where a
/// libclang loaded from `/usr/lib/<multiarch>/` does not look, and without
/// them any target whose headers are not the host's fails with "'stddef.h'
/// file not found". Taken from, in order: `EVQ_CLANG_RESOURCE_DIR`;
/// `clang -print-resource-dir` if a clang of libclang's major version is
/// on `PATH`; the `/usr/lib/llvm-<major>/lib/clang/*` of libclang's
/// version. None if none of the last two has `include/stddef.h` (then
/// libclang's own guess stands; set EVQ_CLANG_RESOURCE_DIR).
fn resource_dir_arg() -> Option<String> {
    println!("cargo:rerun-if-env-changed=EVQ_CLANG_RESOURCE_DIR");
    let has_builtins = |dir: &PathBuf| dir.join("include/stddef.h").is_file();
    let major = bindgen::clang_version().parsed.map(|(major, _)| major);
    if let Some(dir) = std::env::var_os("EVQ_CLANG_RESOURCE_DIR") {
        return Some(format!("-resource-dir={}", Path::new(&dir).display()));
    }
    let from_clang = || {
        let output = Command::new("clang")
            .arg("-print-resource-dir")
            .output()
            .ok()?;
        let dir = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
        let version = dir.file_name()?.to_str()?.to_string();
        let same_major = major.is_some_and(|m| version.split('.').next() == Some(&m.to_string()));
        same_major.then_some(dir)
    };
    let from_llvm = || {
        let root = PathBuf::from(format!("/usr/lib/llvm-{}/lib/clang", major?));
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(has_builtins)
            .collect();
        dirs.sort();
        dirs.pop()
    };
    from_clang()
        .or_else(from_llvm)
        .filter(has_builtins)
        .map(|dir| format!("-resource-dir={}", dir.display()))
}

/// clang spells a few targets differently from rustc.
fn clang_target(rust_target: &str) -> String {
    let mut parts: Vec<&str> = rust_target.split('-').collect();
    if parts[0].starts_with("riscv64") {
        parts[0] = "riscv64";
    }
    // Rust's GNU-LLVM Windows targets are clang's MinGW ones (libc++ and
    // lld instead of libstdc++ and ld are no part of the C declarations).
    if parts.get(3) == Some(&"gnullvm") {
        parts[3] = "gnu";
    }
    if parts.get(1) == Some(&"apple") {
        if parts[0] == "aarch64" {
            parts[0] = "arm64";
        }
        if parts.get(2) == Some(&"visionos") {
            parts[2] = "xros";
        }
        if parts.get(3) == Some(&"sim") {
            parts[3] = "simulator";
        }
    }
    parts.join("-")
}
