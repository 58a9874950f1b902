//! The committed bindings: which target and headers make each file, which
//! other targets it serves, and their regeneration for `tests/bindings.rs`
//! (part of build.rs, with the `bindgen` feature).
//!
//! Every file in `src/sys/bindings/` is regenerated into
//! `$OUT_DIR/fresh/<family>/<arch>.rs`, or `<arch>.missing` says why it
//! could not be. Each other target the file serves is generated from its
//! own headers and compared item by item (`same_items.rs`);
//! `<arch>.proof` records the outcome, one line per target:
//! `same: <target> (<headers>)`, `DIFFERENT: <target>: <items>` or
//! `unchecked: <target>: <why>`.

use super::{same_items, Backend, COMMITTED_DIR};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The environment variable that points bindgen at a target's headers: a
/// `PATH`-style list of include directories. `EVQ_BINDGEN_INCLUDE_<triple>`
/// (dashes or underscores) applies to that target only and wins over
/// everything else; the plain name applies to the target being built.
const INCLUDE_VAR: &str = "EVQ_BINDGEN_INCLUDE";

/// The `lib/libc/include` directory of a Zig installation (the `ziglang`
/// package on PyPI), which holds real libc headers for glibc, musl, macOS
/// and the BSDs.
const ZIG_INCLUDE_VAR: &str = "EVQ_ZIG_LIBC_INCLUDE";

/// Where a target's headers come from.
#[derive(Clone, Copy)]
enum Source {
    /// A Debian package, and the include directories it installs.
    Debian(&'static str, &'static [&'static str]),
    /// Directories under Zig's `lib/libc/include` (Zig's own order:
    /// arch-libc, generic libc, arch-OS, generic OS), and defines Zig
    /// passes itself.
    Zig(&'static [&'static str], &'static [&'static str]),
    /// Nothing packaged here: only `EVQ_BINDGEN_INCLUDE_<target>`.
    Configured(&'static str),
}

/// A target and the headers its bindings are made from.
struct Made {
    target: &'static str,
    source: Source,
}

/// One committed file.
struct Committed {
    /// `<family>/<arch>`: its path under `src/sys/bindings/`.
    key: &'static str,
    /// What it is, for its first line.
    description: &'static str,
    /// The target and headers that make it.
    made_from: Made,
    /// The other targets it serves, each checked against its own headers.
    serves: &'static [Made],
}

const fn debian(package: &'static str, dirs: &'static [&'static str]) -> Source {
    Source::Debian(package, dirs)
}

const fn zig(dirs: &'static [&'static str]) -> Source {
    Source::Zig(dirs, &[])
}

const NO_NDK: Source = Source::Configured(
    "Android's bionic headers are not packaged here: point EVQ_BINDGEN_INCLUDE_<target> at an \
     NDK sysroot's usr/include and usr/include/<arch>-linux-android",
);

/// Every committed file. To add one, add its row, create the empty file
/// and bless (README.md, "Bindings").
const COMMITTED: &[Committed] = &[
    // Two files per architecture: glibc's headers, and musl's, which
    // also serve Android. The ABI is the kernel's in both, but the
    // declarations differ: glibc (with _GNU_SOURCE) passes socket
    // addresses as a transparent union and names in6_addr's fields and
    // SOMAXCONN differently; bionic declares them as musl does (plain
    // pointers).
    Committed {
        key: "linux/x86_64",
        description: "Linux on x86_64 with glibc",
        made_from: Made {
            target: "x86_64-unknown-linux-gnu",
            source: debian(
                "libc6-dev",
                &["/usr/include/x86_64-linux-gnu", "/usr/include"],
            ),
        },
        serves: &[],
    },
    Committed {
        key: "linux/x86_64-musl",
        description: "Linux on x86_64 with musl, and Android (bionic)",
        made_from: Made {
            target: "x86_64-unknown-linux-musl",
            source: zig(&[
                "x86_64-linux-musl",
                "generic-musl",
                "x86-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[Made {
            target: "x86_64-linux-android",
            source: NO_NDK,
        }],
    },
    Committed {
        key: "linux/x86",
        description: "Linux on 32-bit x86 with glibc",
        made_from: Made {
            target: "i686-unknown-linux-gnu",
            source: debian("libc6-dev-i386-cross", &["/usr/i686-linux-gnu/include"]),
        },
        serves: &[],
    },
    // glibc packs `struct epoll_event` on 32-bit x86 too (alignment 1),
    // musl and bionic only on x86_64 (alignment 4; same size and offsets).
    Committed {
        key: "linux/x86-musl",
        description: "Linux on 32-bit x86 with musl, and Android (bionic)",
        made_from: Made {
            target: "i686-unknown-linux-musl",
            source: zig(&[
                "x86-linux-musl",
                "generic-musl",
                "x86-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[Made {
            target: "i686-linux-android",
            source: NO_NDK,
        }],
    },
    Committed {
        key: "linux/aarch64",
        description: "Linux on aarch64 with glibc",
        made_from: Made {
            target: "aarch64-unknown-linux-gnu",
            source: debian("libc6-dev-arm64-cross", &["/usr/aarch64-linux-gnu/include"]),
        },
        serves: &[],
    },
    Committed {
        key: "linux/aarch64-musl",
        description: "Linux on aarch64 with musl, and Android (bionic)",
        made_from: Made {
            target: "aarch64-unknown-linux-musl",
            source: zig(&[
                "aarch64-linux-musl",
                "generic-musl",
                "aarch64-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[Made {
            target: "aarch64-linux-android",
            source: NO_NDK,
        }],
    },
    Committed {
        key: "linux/arm",
        description: "Linux on 32-bit Arm with glibc",
        made_from: Made {
            target: "armv7-unknown-linux-gnueabihf",
            source: debian(
                "libc6-dev-armhf-cross",
                &["/usr/arm-linux-gnueabihf/include"],
            ),
        },
        serves: &[],
    },
    Committed {
        key: "linux/arm-musl",
        description: "Linux on 32-bit Arm with musl, and Android (bionic)",
        made_from: Made {
            target: "armv7-unknown-linux-musleabihf",
            source: zig(&[
                "arm-linux-musl",
                "generic-musl",
                "arm-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[Made {
            target: "armv7-linux-androideabi",
            source: NO_NDK,
        }],
    },
    Committed {
        key: "linux/riscv64",
        description: "Linux on riscv64 with glibc",
        made_from: Made {
            target: "riscv64gc-unknown-linux-gnu",
            source: debian(
                "libc6-dev-riscv64-cross",
                &["/usr/riscv64-linux-gnu/include"],
            ),
        },
        serves: &[],
    },
    Committed {
        key: "linux/riscv64-musl",
        description: "Linux on riscv64 with musl",
        made_from: Made {
            target: "riscv64gc-unknown-linux-musl",
            source: zig(&[
                "riscv64-linux-musl",
                "generic-musl",
                "riscv-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[],
    },
    Committed {
        key: "linux/powerpc64le",
        description: "Linux on little-endian powerpc64 with glibc",
        made_from: Made {
            target: "powerpc64le-unknown-linux-gnu",
            source: debian(
                "libc6-dev-ppc64el-cross",
                &["/usr/powerpc64le-linux-gnu/include"],
            ),
        },
        serves: &[],
    },
    Committed {
        key: "linux/powerpc64le-musl",
        description: "Linux on little-endian powerpc64 with musl",
        made_from: Made {
            target: "powerpc64le-unknown-linux-musl",
            source: zig(&[
                "powerpc64-linux-musl",
                "generic-musl",
                "powerpc-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[],
    },
    Committed {
        key: "linux/s390x",
        description: "Linux on s390x with glibc",
        made_from: Made {
            target: "s390x-unknown-linux-gnu",
            source: debian("libc6-dev-s390x-cross", &["/usr/s390x-linux-gnu/include"]),
        },
        serves: &[],
    },
    Committed {
        key: "linux/s390x-musl",
        description: "Linux on s390x with musl",
        made_from: Made {
            target: "s390x-unknown-linux-musl",
            source: zig(&[
                "s390x-linux-musl",
                "generic-musl",
                "s390x-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[],
    },
    Committed {
        key: "linux/loongarch64",
        description: "Linux on loongarch64 with glibc",
        made_from: Made {
            target: "loongarch64-unknown-linux-gnu",
            // Debian 12 has no loongarch64 cross headers. Zig passes the
            // glibc version it targets; 2.36 is the first with loongarch.
            source: Source::Zig(
                &[
                    "loongarch-linux-gnu",
                    "generic-glibc",
                    "loongarch-linux-any",
                    "any-linux-any",
                ],
                &["-D__GLIBC_MINOR__=36"],
            ),
        },
        serves: &[],
    },
    Committed {
        key: "linux/loongarch64-musl",
        description: "Linux on loongarch64 with musl",
        made_from: Made {
            target: "loongarch64-unknown-linux-musl",
            source: zig(&[
                "loongarch64-linux-musl",
                "generic-musl",
                "loongarch-linux-any",
                "any-linux-any",
            ]),
        },
        serves: &[],
    },
    Committed {
        key: "apple/x86_64",
        description: "Apple's OSes on x86_64 (macOS; the iOS, tvOS and watchOS simulators)",
        made_from: Made {
            target: "x86_64-apple-darwin",
            source: zig(&["any-darwin-any"]),
        },
        serves: &[
            Made {
                target: "x86_64-apple-ios",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "x86_64-apple-tvos",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "x86_64-apple-watchos-sim",
                source: zig(&["any-darwin-any"]),
            },
        ],
    },
    Committed {
        key: "apple/aarch64",
        description:
            "Apple's OSes on aarch64 (macOS, iOS, tvOS, watchOS, visionOS and their simulators)",
        made_from: Made {
            target: "aarch64-apple-darwin",
            source: zig(&["any-darwin-any"]),
        },
        serves: &[
            Made {
                target: "aarch64-apple-ios",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-ios-sim",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-ios-macabi",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-tvos",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-tvos-sim",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-watchos",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-watchos-sim",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-visionos",
                source: zig(&["any-darwin-any"]),
            },
            Made {
                target: "aarch64-apple-visionos-sim",
                source: zig(&["any-darwin-any"]),
            },
        ],
    },
    Committed {
        key: "freebsd/x86_64",
        description: "FreeBSD on x86_64",
        made_from: Made {
            target: "x86_64-unknown-freebsd",
            source: zig(&["x86_64-freebsd-none", "generic-freebsd"]),
        },
        serves: &[],
    },
    Committed {
        key: "freebsd/aarch64",
        description: "FreeBSD on aarch64",
        made_from: Made {
            target: "aarch64-unknown-freebsd",
            source: zig(&["aarch64-freebsd-none", "generic-freebsd"]),
        },
        serves: &[],
    },
    Committed {
        key: "netbsd/x86_64",
        description: "NetBSD on x86_64",
        made_from: Made {
            target: "x86_64-unknown-netbsd",
            source: zig(&["x86_64-netbsd-none", "generic-netbsd"]),
        },
        serves: &[],
    },
    Committed {
        key: "openbsd/x86_64",
        description: "OpenBSD on x86_64",
        made_from: Made {
            target: "x86_64-unknown-openbsd",
            source: zig(&["x86_64-openbsd-none", "generic-openbsd"]),
        },
        serves: &[],
    },
];

/// A header set: clang arguments that search it, and where it comes from
/// for the bindings' `GENERATED_FROM`.
pub struct Headers {
    dirs: Vec<PathBuf>,
    defines: Vec<String>,
    pub origin: String,
}

impl Headers {
    /// clang arguments that search these directories (and clang's builtin
    /// headers) and nothing else; none, so clang's default search, when
    /// there are no directories.
    pub fn args(&self) -> Vec<String> {
        if self.dirs.is_empty() {
            return self.defines.clone();
        }
        let mut args = vec!["-nostdlibinc".to_string()];
        args.extend(
            self.dirs
                .iter()
                .map(|dir| format!("-isystem{}", dir.display())),
        );
        args.extend(self.defines.iter().cloned());
        args
    }
}

/// The headers for the target being built: configured ones, the ones the
/// table names for it, or else clang's default search (a native build on
/// any distribution).
pub fn headers_for_build_target(target: &str) -> Headers {
    let listed = COMMITTED
        .iter()
        .flat_map(|file| std::iter::once(&file.made_from).chain(file.serves))
        .find(|made| made.target == target);
    configured(target, true)
        .or_else(|| listed.and_then(|made| found(made.source).ok()))
        .unwrap_or_else(|| Headers {
            dirs: Vec::new(),
            defines: Vec::new(),
            origin: "the system headers clang finds by default".to_string(),
        })
}

/// Regenerates every committed file into `$OUT_DIR/fresh/` and checks the
/// targets each one serves (see the module docs).
pub fn committed(manifest_dir: &Path, out_dir: &Path) {
    let fresh_dir = out_dir.join("fresh");
    let _ = fs::remove_dir_all(&fresh_dir);
    println!("cargo:rustc-env=EVQ_FRESH_BINDINGS={}", fresh_dir.display());
    println!("cargo:rerun-if-env-changed={ZIG_INCLUDE_VAR}");

    for family in fs::read_dir(manifest_dir.join(COMMITTED_DIR)).expect("committed bindings dir") {
        let family = family.expect("readable bindings dir").path();
        for file in fs::read_dir(&family).into_iter().flatten() {
            let path = file.expect("readable bindings dir").path();
            let (Some(family), Some(arch)) = (
                family.file_name().and_then(|n| n.to_str()),
                path.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".rs")),
            ) else {
                continue;
            };
            let key = format!("{family}/{arch}");
            let out = fresh_dir.join(family);
            fs::create_dir_all(&out).expect("OUT_DIR is writable");
            let Some(file) = COMMITTED.iter().find(|file| file.key == key) else {
                let why = format!("{key} has no row in COMMITTED (build/regenerate.rs)");
                fs::write(out.join(format!("{arch}.missing")), why).expect("OUT_DIR is writable");
                continue;
            };
            match generate_for(manifest_dir, file, &file.made_from) {
                Ok(text) => {
                    let proof = check_served(manifest_dir, file, &text);
                    fs::write(out.join(format!("{arch}.rs")), text).expect("OUT_DIR is writable");
                    fs::write(out.join(format!("{arch}.proof")), proof)
                        .expect("OUT_DIR is writable");
                }
                Err(why) => fs::write(out.join(format!("{arch}.missing")), why)
                    .expect("OUT_DIR is writable"),
            }
        }
    }
}

/// Generates `file` as `made` would have it: `made`'s target and headers.
fn generate_for(manifest_dir: &Path, file: &Committed, made: &Made) -> Result<String, String> {
    let backend = target_os(made.target)
        .and_then(Backend::for_os)
        .ok_or_else(|| format!("no backend for {}", made.target))?;
    let headers = configured(made.target, false)
        .map_or_else(|| found(made.source), Ok)
        .map_err(|why| format!("{}: {why}", made.target))?;
    super::generate::bindings(
        manifest_dir,
        made.target,
        backend,
        &headers.args(),
        file.description,
        &headers.origin,
    )
    .map_err(|e| format!("bindgen failed for {}: {e}", made.target))
}

/// Checks each target `file` serves: its own headers give the same items
/// as `text`, the file's fresh output. One line per target.
fn check_served(manifest_dir: &Path, file: &Committed, text: &str) -> String {
    let mut proof = String::new();
    for made in file.serves {
        let serves_key = committed_key_of(manifest_dir, made.target);
        let line = if serves_key.as_deref() != Some(file.key) {
            format!(
                "DIFFERENT: {}: build.rs picks {serves_key:?} for it, not {}",
                made.target, file.key
            )
        } else {
            match generate_for(manifest_dir, file, made) {
                Err(why) if matches!(made.source, Source::Configured(_)) => {
                    format!("unchecked: {}: {why}", made.target)
                }
                Err(why) => format!("DIFFERENT: {}: could not generate: {why}", made.target),
                Ok(theirs) => match same_items::differences(text, &theirs) {
                    Ok(diffs) if diffs.is_empty() => {
                        format!("same: {} ({})", made.target, origin_of(&theirs))
                    }
                    Ok(diffs) => format!("DIFFERENT: {}: {}", made.target, diffs.join("; ")),
                    Err(why) => format!("DIFFERENT: {}: {why}", made.target),
                },
            }
        };
        let _ = writeln!(proof, "{line}");
    }
    proof
}

/// The header set a `GENERATED_FROM` names.
fn origin_of(text: &str) -> &str {
    text.lines()
        .find_map(|line| line.strip_prefix("pub const GENERATED_FROM: &str = \""))
        .and_then(|rest| rest.split(", from ").nth(1))
        .map_or("", |rest| rest.trim_end_matches("\";"))
}

/// The committed file build.rs would pick for `target`, from its triple
/// (the arches in the table; `None` for others).
fn committed_key_of(manifest_dir: &Path, target: &str) -> Option<String> {
    let arch = target.split('-').next()?;
    let (arch, endian, width) = match arch {
        "x86_64" => ("x86_64", "little", "64"),
        "i686" => ("x86", "little", "32"),
        "aarch64" => ("aarch64", "little", "64"),
        a if a.starts_with("armv7") => ("arm", "little", "32"),
        a if a.starts_with("riscv64") => ("riscv64", "little", "64"),
        "powerpc64le" => ("powerpc64", "little", "64"),
        "s390x" => ("s390x", "big", "64"),
        "loongarch64" => ("loongarch64", "little", "64"),
        _ => return None,
    };
    let family = super::os_family(target_os(target)?)?;
    let stem = super::ARCHES
        .iter()
        .find(|(a, e, w, _)| (*a, *e, *w) == (arch, endian, width))?
        .3;
    // Android takes the musl file (see `committed_key` in build.rs).
    let libc = (target.contains("android") || target.contains("musl")).then_some("musl");
    let own = libc.map(|libc| format!("{family}/{stem}-{libc}"));
    match own {
        Some(key) if super::committed_path(manifest_dir, &key).is_file() => Some(key),
        _ => Some(format!("{family}/{stem}")),
    }
}

/// The OS of a target triple, as `CARGO_CFG_TARGET_OS` spells it.
fn target_os(target: &str) -> Option<&str> {
    let parts: Vec<&str> = target.split('-').collect();
    match parts.as_slice() {
        [_, "apple", os, ..] => Some(if *os == "darwin" { "macos" } else { os }),
        [_, "linux", "android" | "androideabi"] => Some("android"),
        [_, _, os, ..] => Some(os),
        _ => None,
    }
}

/// The include directories named by the environment for `target`.
fn configured(target: &str, is_build_target: bool) -> Option<Headers> {
    let suffixed = [
        format!("{INCLUDE_VAR}_{target}"),
        format!("{INCLUDE_VAR}_{}", target.replace('-', "_")),
    ];
    for name in &suffixed {
        println!("cargo:rerun-if-env-changed={name}");
    }
    println!("cargo:rerun-if-env-changed={INCLUDE_VAR}");
    let plain = is_build_target.then(|| INCLUDE_VAR.to_string());
    suffixed.iter().chain(plain.iter()).find_map(|name| {
        env::var_os(name).map(|list| Headers {
            dirs: env::split_paths(&list).collect(),
            defines: Vec::new(),
            origin: format!("headers from ${name}"),
        })
    })
}

/// The installed headers of `source`, or why they cannot be used.
fn found(source: Source) -> Result<Headers, String> {
    let headers = match source {
        Source::Debian(package, dirs) => Headers {
            dirs: dirs.iter().map(PathBuf::from).collect(),
            defines: Vec::new(),
            origin: format!("glibc headers from Debian's {package}"),
        },
        Source::Zig(dirs, defines) => {
            let root = env::var_os(ZIG_INCLUDE_VAR).ok_or_else(|| {
                format!(
                    "no headers: set {ZIG_INCLUDE_VAR} to Zig's lib/libc/include \
                     (pip install ziglang==0.17.1; see README.md, \"Bindings\")"
                )
            })?;
            Headers {
                dirs: dirs.iter().map(|dir| Path::new(&root).join(dir)).collect(),
                defines: defines.iter().map(ToString::to_string).collect(),
                origin: format!(
                    "libc headers shipped with Zig (the ziglang package on PyPI): {}",
                    dirs.join(" + ")
                ),
            }
        }
        Source::Configured(why) => return Err(why.to_string()),
    };
    match headers.dirs.iter().find(|dir| !dir.is_dir()) {
        Some(missing) => Err(format!(
            "no headers: {} is not installed",
            missing.display()
        )),
        None => Ok(headers),
    }
}
