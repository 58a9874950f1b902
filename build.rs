//! Chooses the event-queue backend for the target and provides its `sys`
//! bindings.
//!
//! By default the bindings are the committed bindgen output in
//! `src/sys/bindings/<target>.rs`, so building evq needs no libclang. With
//! the `bindgen` feature they are regenerated from `wrapper.h` and the
//! target's C headers instead, and every committed file whose headers can be
//! found is regenerated too, into `$OUT_DIR/fresh/`, where
//! `tests/bindings.rs` compares them byte for byte.
//!
//! `--cfg evq_force_kqueue` (in RUSTFLAGS) selects the kqueue backend on
//! Linux, against libkqueue: it needs the `bindgen` feature,
//! `EVQ_KQUEUE_INCLUDE_DIR` (the directory holding libkqueue's
//! `sys/event.h`) and, to link, `EVQ_KQUEUE_LIB_DIR`.
//!
//! Everything here describes the *target* (`CARGO_CFG_TARGET_*`, `TARGET`),
//! never the host: `cfg!()` in a build script answers for the machine that
//! runs it.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Where the committed bindings live, one file per target triple.
const COMMITTED_DIR: &str = "src/sys/bindings";

/// The environment variable that points bindgen at a target's headers: a
/// `PATH`-style list of include directories. `EVQ_BINDGEN_INCLUDE_<triple>`
/// (dashes or underscores) applies to that target only and wins over the
/// plain name, which applies to the target being built.
const INCLUDE_VAR: &str = "EVQ_BINDGEN_INCLUDE";

/// The `lib/libc/include` directory of a Zig installation (the `ziglang`
/// package on PyPI), which holds real libc headers for macOS and the BSDs.
#[cfg(feature = "bindgen")]
const ZIG_INCLUDE_VAR: &str = "EVQ_ZIG_LIBC_INCLUDE";

/// The kernel mechanism behind `Poll` on the target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Epoll,
    Kqueue,
}

impl Backend {
    fn for_os(os: &str) -> Option<Backend> {
        match os {
            "linux" | "android" => Some(Backend::Epoll),
            "macos" | "ios" | "tvos" | "watchos" | "visionos" | "freebsd" | "netbsd"
            | "openbsd" | "dragonfly" => Some(Backend::Kqueue),
            _ => None,
        }
    }

    fn cfg(self) -> &'static str {
        match self {
            Backend::Epoll => "evq_epoll",
            Backend::Kqueue => "evq_kqueue",
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=wrapper.h");
    println!("cargo::rerun-if-changed={COMMITTED_DIR}");
    println!("cargo::rustc-check-cfg=cfg(evq_epoll)");
    println!("cargo::rustc-check-cfg=cfg(evq_kqueue)");
    println!("cargo::rustc-check-cfg=cfg(evq_force_kqueue)");

    let target = env::var("TARGET").expect("cargo sets TARGET for build scripts");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // `--cfg evq_force_kqueue` in RUSTFLAGS reaches build scripts as this.
    let force_kqueue = env::var_os("CARGO_CFG_EVQ_FORCE_KQUEUE").is_some();

    let backend = if force_kqueue {
        Some(Backend::Kqueue)
    } else {
        Backend::for_os(&os)
    };
    let Some(backend) = backend else {
        let message = format!(
            "evq has no event queue backend for target OS `{os}` ({target}): \
             it supports epoll (Linux, Android) and kqueue (macOS, iOS and the BSDs)"
        );
        point_sys_at(&write_compile_error(&out_dir, &message));
        return;
    };
    println!("cargo::rustc-cfg={}", backend.cfg());

    let bindings = if force_kqueue {
        libkqueue_bindings(&manifest_dir, &out_dir, &target)
    } else {
        target_bindings(&manifest_dir, &out_dir, &target, backend)
    };
    point_sys_at(&bindings);
}

/// Tells `src/sys/mod.rs` which file to `include!`.
fn point_sys_at(path: &Path) {
    println!("cargo::rustc-env=EVQ_SYS_BINDINGS={}", path.display());
}

/// Writes a bindings file that stops the build with `message`, so the error
/// shows up as a normal compile error at the `include!` site.
fn write_compile_error(out_dir: &Path, message: &str) -> PathBuf {
    let path = out_dir.join("bindings_missing.rs");
    fs::write(&path, format!("::core::compile_error!({message:?});\n"))
        .expect("OUT_DIR is writable");
    path
}

#[cfg(not(feature = "bindgen"))]
fn target_bindings(manifest_dir: &Path, out_dir: &Path, target: &str, _: Backend) -> PathBuf {
    let committed = manifest_dir
        .join(COMMITTED_DIR)
        .join(format!("{target}.rs"));
    if committed.is_file() {
        return committed;
    }
    let message = format!(
        "evq has no committed bindings for target `{target}` (expected {}). \
         Build with `--features bindgen` (needs libclang) to generate them from the \
         target's headers, pointing {INCLUDE_VAR}_{} (or, for macOS and the BSDs, \
         EVQ_ZIG_LIBC_INCLUDE) at them; see README.md, \"Bindings\".",
        committed.display(),
        target.replace('-', "_"),
    );
    write_compile_error(out_dir, &message)
}

#[cfg(not(feature = "bindgen"))]
fn libkqueue_bindings(_manifest_dir: &Path, out_dir: &Path, _target: &str) -> PathBuf {
    write_compile_error(
        out_dir,
        "`--cfg evq_force_kqueue` needs `--features bindgen` and EVQ_KQUEUE_INCLUDE_DIR \
         (the directory holding libkqueue's sys/event.h); see README.md, \"Platforms\".",
    )
}

#[cfg(feature = "bindgen")]
fn target_bindings(manifest_dir: &Path, out_dir: &Path, target: &str, backend: Backend) -> PathBuf {
    // docs.rs has neither libclang nor foreign headers: document the
    // committed bindings even if a feature set turned `bindgen` on.
    println!("cargo::rerun-if-env-changed=DOCS_RS");
    let committed = manifest_dir
        .join(COMMITTED_DIR)
        .join(format!("{target}.rs"));
    if env::var_os("DOCS_RS").is_some() && committed.is_file() {
        return committed;
    }
    // The build target: its configured or known headers, or else clang's
    // default search (a native build on any distribution).
    let headers = configured_includes(target, true)
        .or_else(|| known_includes(target))
        .unwrap_or_else(|| Headers {
            dirs: Vec::new(),
            origin: "the system headers clang finds by default".to_string(),
        });
    let generated = generate::bindings(
        manifest_dir,
        target,
        backend,
        &headers.args(),
        &headers.origin,
    )
    .unwrap_or_else(|e| panic!("bindgen failed for {target}: {e}"));
    let path = out_dir.join("bindings.rs");
    fs::write(&path, generated).expect("OUT_DIR is writable");

    regenerate_committed(manifest_dir, out_dir);
    path
}

#[cfg(feature = "bindgen")]
fn libkqueue_bindings(manifest_dir: &Path, out_dir: &Path, target: &str) -> PathBuf {
    for var in ["EVQ_KQUEUE_INCLUDE_DIR", "EVQ_KQUEUE_LIB_DIR"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let Some(include) = env::var_os("EVQ_KQUEUE_INCLUDE_DIR") else {
        return write_compile_error(
            out_dir,
            "`--cfg evq_force_kqueue` needs EVQ_KQUEUE_INCLUDE_DIR: the directory \
             holding libkqueue's sys/event.h",
        );
    };
    // The system headers first, libkqueue's only for what they lack
    // (sys/event.h).
    let args = vec![
        "-DEVQ_FORCE_KQUEUE".to_string(),
        format!("-idirafter{}", Path::new(&include).display()),
    ];
    let origin = "libkqueue's sys/event.h from $EVQ_KQUEUE_INCLUDE_DIR and the system headers";
    let generated = generate::bindings(manifest_dir, target, Backend::Kqueue, &args, origin)
        .unwrap_or_else(|e| panic!("bindgen failed for {target} with libkqueue: {e}"));
    let path = out_dir.join("bindings.rs");
    fs::write(&path, generated).expect("OUT_DIR is writable");

    if let Some(lib_dir) = env::var_os("EVQ_KQUEUE_LIB_DIR") {
        println!(
            "cargo::rustc-link-search=native={}",
            Path::new(&lib_dir).display()
        );
    }
    println!("cargo::rustc-link-lib=kqueue");
    path
}

#[cfg(feature = "bindgen")]
impl Headers {
    /// clang arguments that search these directories (and clang's builtin
    /// headers) and nothing else; none, so clang's default search, when
    /// there are no directories.
    fn args(&self) -> Vec<String> {
        if self.dirs.is_empty() {
            return Vec::new();
        }
        let mut args = vec!["-nostdlibinc".to_string()];
        args.extend(
            self.dirs
                .iter()
                .map(|dir| format!("-isystem{}", dir.display())),
        );
        args
    }
}

/// Regenerates every committed bindings file into `$OUT_DIR/fresh/`, or
/// writes `<target>.missing` saying why it could not, for the freshness test.
#[cfg(feature = "bindgen")]
fn regenerate_committed(manifest_dir: &Path, out_dir: &Path) {
    let fresh_dir = out_dir.join("fresh");
    let _ = fs::remove_dir_all(&fresh_dir);
    fs::create_dir_all(&fresh_dir).expect("OUT_DIR is writable");
    println!(
        "cargo::rustc-env=EVQ_FRESH_BINDINGS={}",
        fresh_dir.display()
    );

    let entries = fs::read_dir(manifest_dir.join(COMMITTED_DIR)).expect("committed bindings dir");
    for entry in entries {
        let path = entry.expect("readable bindings dir").path();
        let Some(target) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".rs"))
        else {
            continue;
        };
        let Some(backend) = target_os(target).and_then(Backend::for_os) else {
            continue;
        };
        let outcome = match configured_includes(target, false).or_else(|| known_includes(target)) {
            None => Err(format!(
                "no headers found for {target}: set {INCLUDE_VAR}_{} to its include \
                 directories, or {ZIG_INCLUDE_VAR} for macOS and the BSDs \
                 (see README.md, \"Bindings\")",
                target.replace('-', "_")
            )),
            Some(headers) => generate::bindings(
                manifest_dir,
                target,
                backend,
                &headers.args(),
                &headers.origin,
            )
            .map_err(|e| format!("bindgen failed for {target}: {e}")),
        };
        match outcome {
            Ok(text) => fs::write(fresh_dir.join(format!("{target}.rs")), text),
            Err(why) => fs::write(fresh_dir.join(format!("{target}.missing")), why),
        }
        .expect("OUT_DIR is writable");
    }
}

/// The OS of a target triple, as `CARGO_CFG_TARGET_OS` spells it.
#[cfg(feature = "bindgen")]
fn target_os(target: &str) -> Option<&str> {
    let parts: Vec<&str> = target.split('-').collect();
    match parts.as_slice() {
        [_, "apple", os, ..] => Some(if *os == "darwin" { "macos" } else { os }),
        [_, _, os, ..] => Some(os),
        _ => None,
    }
}

/// The include directories named by the environment for `target`.
#[cfg(feature = "bindgen")]
fn configured_includes(target: &str, is_build_target: bool) -> Option<Headers> {
    let suffixed = [
        format!("{INCLUDE_VAR}_{target}"),
        format!("{INCLUDE_VAR}_{}", target.replace('-', "_")),
    ];
    for name in &suffixed {
        println!("cargo::rerun-if-env-changed={name}");
    }
    println!("cargo::rerun-if-env-changed={INCLUDE_VAR}");
    let plain = is_build_target.then(|| INCLUDE_VAR.to_string());
    suffixed.iter().chain(plain.iter()).find_map(|name| {
        env::var_os(name).map(|list| Headers {
            dirs: env::split_paths(&list).collect(),
            origin: format!("headers from ${name}"),
        })
    })
}

/// The well-known header sets for `target`, if installed: Debian's
/// multiarch headers for the host, its `libc6-dev-<arch>-cross` packages for
/// other Linux targets, and Zig's libc headers for macOS and the BSDs.
#[cfg(feature = "bindgen")]
fn known_includes(target: &str) -> Option<Headers> {
    println!("cargo::rerun-if-env-changed={ZIG_INCLUDE_VAR}");
    let debian: &[&str] = match target {
        "x86_64-unknown-linux-gnu" => &["/usr/include/x86_64-linux-gnu", "/usr/include"],
        "aarch64-unknown-linux-gnu" => &["/usr/aarch64-linux-gnu/include"],
        "i686-unknown-linux-gnu" => &["/usr/i686-linux-gnu/include"],
        "armv7-unknown-linux-gnueabihf" => &["/usr/arm-linux-gnueabihf/include"],
        "riscv64gc-unknown-linux-gnu" => &["/usr/riscv64-linux-gnu/include"],
        _ => &[],
    };
    let zig: &[&str] = match target {
        t if t.contains("-apple-") => &["any-darwin-any"],
        "x86_64-unknown-freebsd" => &["x86_64-freebsd-none", "generic-freebsd"],
        "aarch64-unknown-freebsd" => &["aarch64-freebsd-none", "generic-freebsd"],
        "x86_64-unknown-netbsd" => &["x86_64-netbsd-none", "generic-netbsd"],
        "x86_64-unknown-openbsd" => &["x86_64-openbsd-none", "generic-openbsd"],
        _ => &[],
    };
    let (dirs, origin): (Vec<PathBuf>, String) = if !debian.is_empty() {
        let package = match target {
            "x86_64-unknown-linux-gnu" => "libc6-dev".to_string(),
            _ => {
                let arch = debian[0].trim_start_matches("/usr/").split('-').next();
                let arch = match arch {
                    Some("aarch64") => "arm64",
                    Some("arm") => "armhf",
                    Some("i686") => "i386",
                    other => other.unwrap_or("?"),
                };
                format!("libc6-dev-{arch}-cross")
            }
        };
        let dirs = debian.iter().map(PathBuf::from).collect();
        (dirs, format!("glibc headers from Debian's {package}"))
    } else {
        let root = PathBuf::from(env::var_os(ZIG_INCLUDE_VAR)?);
        let dirs = zig.iter().map(|dir| root.join(dir)).collect();
        let origin = format!(
            "libc headers shipped with Zig (the ziglang package on PyPI): {}",
            zig.join(" + ")
        );
        (dirs, origin)
    };
    (!dirs.is_empty() && dirs.iter().all(|dir| dir.is_dir())).then_some(Headers { dirs, origin })
}

/// A header set: the include directories, and a description of where they
/// come from for the bindings' `GENERATED_FROM`.
#[cfg(feature = "bindgen")]
struct Headers {
    dirs: Vec<PathBuf>,
    origin: String,
}

#[cfg(feature = "bindgen")]
mod generate {
    use super::Backend;
    use std::path::Path;

    /// The Rust language version the generated code targets. Pinned, like
    /// everything else here, so that the output depends only on the headers
    /// and the bindgen version, never on the compiler running the build.
    const RUST_TARGET: (u64, u64) = (87, 0);

    /// Runs bindgen over `wrapper.h` for `target` with the extra clang
    /// arguments `clang_args` (header search and defines), and appends
    /// `GENERATED_FROM`, naming bindgen's version and `origin`, the headers.
    pub fn bindings(
        manifest_dir: &Path,
        target: &str,
        backend: Backend,
        clang_args: &[String],
        origin: &str,
    ) -> Result<String, String> {
        // bindgen adds these to the clang arguments itself.
        for var in [
            "BINDGEN_EXTRA_CLANG_ARGS".to_string(),
            format!("BINDGEN_EXTRA_CLANG_ARGS_{target}"),
            format!("BINDGEN_EXTRA_CLANG_ARGS_{}", target.replace('-', "_")),
        ] {
            println!("cargo::rerun-if-env-changed={var}");
        }
        let wrapper = manifest_dir.join("wrapper.h");
        let builder = bindgen::Builder::default()
            .header(wrapper.to_string_lossy())
            .clang_arg(format!("--target={}", clang_target(target)))
            .clang_args(clang_args)
            .use_core()
            .layout_tests(true)
            .generate_comments(false)
            .default_enum_style(bindgen::EnumVariation::Consts)
            .prepend_enum_name(false)
            .formatter(bindgen::Formatter::Prettyplease)
            .rust_target(
                bindgen::RustTarget::stable(RUST_TARGET.0, RUST_TARGET.1)
                    .map_err(|e| e.to_string())?,
            )
            .rust_edition(bindgen::RustEdition::Edition2021)
            .raw_line(format!(
                "// evq `sys` bindings for {target}: bindgen output for wrapper.h. \
                 Do not edit; regenerate (README.md, \"Bindings\")."
            ));
        let builder = match backend {
            // One line per purpose: Poll and Waker; epoll_pwait2 and
            // pidfd_open by number; Timer; Signals; ChildExit.
            Backend::Epoll => builder
                .allowlist_function(
                    "epoll_create1|epoll_ctl|epoll_wait|eventfd|read|write|fcntl|getsockopt",
                )
                .allowlist_function("syscall")
                .allowlist_function("timerfd_create|timerfd_settime")
                .allowlist_function(
                    "signalfd|sigemptyset|sigaddset|sigdelset|sigismember|pthread_sigmask|kill",
                )
                .allowlist_function("waitid|waitpid|poll")
                .allowlist_type("EPOLL_EVENTS|socklen_t")
                .allowlist_type("__kernel_timespec")
                .allowlist_type("itimerspec")
                .allowlist_type("signalfd_siginfo")
                .allowlist_type("idtype_t|pollfd")
                .allowlist_var(
                    "EPOLL_CTL_(ADD|MOD|DEL)|EPOLL_CLOEXEC|EFD_(CLOEXEC|NONBLOCK)\
                     |F_GETFL|O_NONBLOCK|SOL_SOCKET|SO_TYPE",
                )
                .allowlist_var("SYS_(epoll_pwait2|pidfd_open)")
                .allowlist_var("CLOCK_MONOTONIC|TFD_(CLOEXEC|NONBLOCK)")
                .allowlist_var("SFD_(CLOEXEC|NONBLOCK)|SIG_(BLOCK|UNBLOCK|SETMASK)|SIG[A-Z]+[0-9]*")
                .allowlist_var("P_PIDFD|W(EXITED|NOHANG|NOWAIT)|POLLIN"),
            // `kevent` is a struct and a function; `Default` builds the
            // struct (EV_SET is a macro bindgen cannot translate) whatever
            // extra fields an OS adds.
            // Poll and Waker; then Timer; Signals; ChildExit.
            Backend::Kqueue => builder
                .derive_default(true)
                .allowlist_function("kqueue|kqueue1|kevent|fcntl|getsockopt")
                .allowlist_function(
                    "sigemptyset|sigaddset|sigdelset|sigismember|pthread_sigmask|kill",
                )
                .allowlist_function("waitpid")
                .allowlist_type("kevent|timespec|socklen_t")
                .allowlist_var(
                    "EV_(ADD|DELETE|ENABLE|DISABLE|CLEAR|DISPATCH|RECEIPT|ERROR|EOF)\
                     |EVFILT_(READ|WRITE|USER)|NOTE_TRIGGER|F_SETFD|FD_CLOEXEC|O_CLOEXEC\
                     |F_GETFL|O_NONBLOCK|SOL_SOCKET|SO_TYPE",
                )
                .allowlist_var("EV_ONESHOT|EVFILT_TIMER|NOTE_(NSECONDS|USECONDS)")
                .allowlist_var("EVFILT_SIGNAL|SIG_(BLOCK|UNBLOCK|SETMASK)|SIG[A-Z]+[0-9]*")
                .allowlist_var("EVFILT_PROC|NOTE_EXIT|WNOHANG"),
        };
        let mut text = builder.generate().map_err(|e| e.to_string())?.to_string();
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

    /// clang spells a few targets differently from rustc.
    fn clang_target(rust_target: &str) -> String {
        let mut parts: Vec<&str> = rust_target.split('-').collect();
        if parts[0].starts_with("riscv64") {
            parts[0] = "riscv64";
        }
        if parts.get(1) == Some(&"apple") && parts[0] == "aarch64" {
            parts[0] = "arm64";
        }
        parts.join("-")
    }
}
