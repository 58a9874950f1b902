//! Compiles the raw C epoll loop (`c/raw_epoll.c`), the floor the Rust
//! event loops are measured against. Linux only, like the benchmark.

fn main() {
    println!("cargo:rerun-if-changed=c/raw_epoll.c");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    cc::Build::new()
        .file("c/raw_epoll.c")
        .flag_if_supported("-std=c11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("raw_epoll");
}
