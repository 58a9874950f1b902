//! Hostile arguments: extreme timeouts and capacities, every token and
//! interest bit pattern, fds of every kind (regular files, directories,
//! `/dev/null`, `O_PATH`, the poll itself, closed and reused numbers):
//! always `Ok` or a clear error, never a panic, a hang or a leak. Each
//! input runs on epoll, then on io_uring.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evq_model::fuzz_inputs(data));
