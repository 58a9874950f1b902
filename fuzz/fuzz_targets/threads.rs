//! The registration operations split across two or three threads sharing a
//! `Registry` while another thread polls: no crash, no lost wake, no event
//! for a deregistered fd after `deregister` returned, no fd leak. Each
//! input runs on epoll, then on io_uring.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evq_model::fuzz_threads(data));
