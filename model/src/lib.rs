//! A reference model of what the kernel and evq must do, and the harness
//! that checks evq against it: the engine of the fuzz targets in `fuzz/`
//! and of the randomized tests run by `cargo test`.
//!
//! An unpublished crate of the evq workspace (`cargo test` at the root runs
//! its tests; `fuzz/` depends on it), so that neither evq's package nor the
//! builds of evq's users (`cargo fuzz` sets `--cfg fuzzing` for every
//! crate) ever compile it. It uses evq's public API and `evq::sys` only.
//! Linux (epoll) only: the readiness rules in [`channel`] are Linux's; on
//! other targets, and under `--cfg evq_force_kqueue`, the crate is empty.
//!
//! - [`kernel`]: the model proper. Registrations (token, interest, trigger,
//!   armed or not), what each registry call must return, and what a poll
//!   must and may report.
//! - [`channel`]: the state of one source and its peer (unread data, shut
//!   down, closed, reset) and the readiness Linux computes from it.
//! - [`bits`]: readiness as epoll bits and as an `Event`'s flags.
//! - [`op`]: the operations, decoded with `arbitrary`, printed as Rust.
//! - [`real`], [`targets`]: the real fds behind the operations;
//!   [`signals_and_children`]: the real `Signals` and `ChildExit` ones.
//! - [`registration`], [`threads`], [`inputs`]: the three fuzz targets'
//!   logic, each behind one `fuzz_*` function taking the raw input
//!   ([`watchdog`] keeps the `inputs` target's long waits from hanging).
//! - [`rng`]: a PRNG and random sequences for `cargo test` on stable.
//!
//! The tests (`tests.rs`) run the model over seeded random sequences,
//! replay `fuzz/corpus/*/seed-*` and `fuzz/regressions/*/*`, and check the
//! checker's own verdicts on made-up polls.

#![cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(rust_2018_idioms, clippy::undocumented_unsafe_blocks)]
// Built only for tests and fuzzing, which may use std newer than the
// library's MSRV (1.71).
#![allow(clippy::incompatible_msrv)]

pub mod bits;
pub mod channel;
#[cfg(test)]
mod encode;
#[path = "../../tests/util/fd.rs"]
mod fd;
pub mod inputs;
pub mod kernel;
pub mod op;
mod os;
pub mod real;
pub mod registration;
pub mod rng;
pub mod signals_and_children;
pub mod targets;
pub mod threads;
pub mod watchdog;

#[cfg(test)]
mod tests;

/// A poll on the backend the model describes: epoll, also with the
/// `io-uring` feature, whose documented differences (a registration holds
/// its file open, errors answered in the CQ) the model does not encode.
pub fn new_poll() -> evq::Poll {
    evq::Poll::with_backend(evq::Backend::Epoll).expect("Poll::with_backend(Epoll)")
}

/// The `registration` target: decodes `data` into operations and checks
/// every result and every poll against the model.
pub fn fuzz_registration(data: &[u8]) {
    let ops: Vec<op::Op> = op::decode(data, op::MAX_OPS);
    let _transcript = registration::run(&ops);
}

/// The `threads` target: operations split across threads sharing a
/// `Registry` while another thread polls.
pub fn fuzz_threads(data: &[u8]) {
    threads::run(&threads::decode(data), threads::Checks::fuzzing());
}

/// The `inputs` target: hostile arguments, each must end in a clear error
/// or success, without a panic, a hang or a leaked fd.
pub fn fuzz_inputs(data: &[u8]) {
    let ops: Vec<inputs::InputOp> = op::decode(data, inputs::MAX_OPS);
    inputs::run(&ops, inputs::Checks::fuzzing());
}
