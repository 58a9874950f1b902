//! Operation sequences over a small pool of real fds (pipes, socket pairs,
//! eventfds, TCP on 127.0.0.1), each result and each poll checked against
//! evq's reference model (`evq::model`); a difference panics with the
//! sequence as Rust-like steps. Each input runs on epoll, then on io_uring.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evq_model::fuzz_registration(data));
