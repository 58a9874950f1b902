//! The committed bindings files: the target and headers that make each
//! one, and the other targets it serves (part of build.rs, with the
//! `bindgen` feature; `regenerate.rs` acts on this table).

/// Where a target's headers come from.
#[derive(Clone, Copy)]
pub enum Source {
    /// A Debian package, and the include directories it installs.
    Debian(&'static str, &'static [&'static str]),
    /// Directories under Zig's `lib/libc/include` (Zig's own order:
    /// arch-libc, generic libc, arch-OS, generic OS), and defines Zig
    /// passes itself (or other clang arguments the headers need).
    Zig(&'static [&'static str], &'static [&'static str]),
    /// Nothing packaged here: only `EVQ_BINDGEN_INCLUDE_<target>`.
    Configured(&'static str),
}

/// A target and the headers its bindings are made from.
pub struct Made {
    pub target: &'static str,
    pub source: Source,
}

/// One committed file.
pub struct Committed {
    /// `<family>/<arch>`: its path under `src/sys/bindings/`.
    pub key: &'static str,
    /// What it is, for its first line.
    pub description: &'static str,
    /// The target and headers that make it.
    pub made_from: Made,
    /// The other targets it serves, each checked against its own headers.
    pub serves: &'static [Made],
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
pub const COMMITTED: &[Committed] = &[
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
    // mingw-w64's headers, as Zig ships them for every Windows
    // architecture (one pinned set, whatever mingw-w64 Debian packages).
    // The MSVC targets are checked against the same headers laid out by
    // clang for the MSVC ABI: Microsoft's SDK headers are not packaged
    // here, and they declare the same documented Win32 API. In MSVC mode
    // clang does not define __GNUC__, and mingw-w64's headers then define
    // `__attribute__` away and break clang's own intrinsics headers:
    // `-fgnuc-version` keeps the GNU syntax on. 32-bit x86 also needs
    // `_X86_`, which only GNU-mode compilers predefine (winnt.h selects
    // the i386 CONTEXT with it).
    Committed {
        key: "windows/x86_64",
        description: "Windows on x86_64 (the GNU, GNU-LLVM and MSVC toolchains)",
        made_from: Made {
            target: "x86_64-pc-windows-gnu",
            source: zig(&["any-windows-any"]),
        },
        serves: &[
            Made {
                target: "x86_64-pc-windows-msvc",
                source: Source::Zig(&["any-windows-any"], MSVC_MODE),
            },
            Made {
                target: "x86_64-pc-windows-gnullvm",
                source: zig(&["any-windows-any"]),
            },
        ],
    },
    Committed {
        key: "windows/aarch64",
        description: "Windows on aarch64 (the MSVC and GNU-LLVM toolchains)",
        made_from: Made {
            target: "aarch64-pc-windows-gnullvm",
            source: zig(&["any-windows-any"]),
        },
        serves: &[Made {
            target: "aarch64-pc-windows-msvc",
            source: Source::Zig(&["any-windows-any"], MSVC_MODE),
        }],
    },
    Committed {
        key: "windows/x86",
        description: "Windows on 32-bit x86 (the GNU, GNU-LLVM and MSVC toolchains)",
        made_from: Made {
            target: "i686-pc-windows-gnu",
            source: zig(&["any-windows-any"]),
        },
        serves: &[
            Made {
                target: "i686-pc-windows-msvc",
                source: Source::Zig(&["any-windows-any"], &["-fgnuc-version=4.2.1", "-D_X86_=1"]),
            },
            Made {
                target: "i686-pc-windows-gnullvm",
                source: zig(&["any-windows-any"]),
            },
        ],
    },
];

/// The clang arguments that let mingw-w64's headers parse for an MSVC
/// target (see the Windows rows).
const MSVC_MODE: &[&str] = &["-fgnuc-version=4.2.1"];
