//! A reference model of what the kernel and evq must do, and the harness
//! that checks evq against it: the engine of the fuzz targets in `fuzz/`
//! and of the randomized tests run by `cargo test`.
//!
//! Built only for tests and under `cargo fuzz` (`--cfg fuzzing`); not part
//! of evq's API. Linux (epoll) only: the readiness rules in [`channel`] are
//! Linux's.
//!
//! - [`kernel`]: the model proper. Registrations (token, interest, trigger,
//!   armed or not), what each registry call must return, and what a poll
//!   must and may report.
//! - [`channel`]: the state of one source and its peer (unread data, shut
//!   down, closed, reset) and the readiness Linux computes from it.
//! - [`bits`]: readiness as epoll bits and as an `Event`'s flags.
//! - [`op`]: the operations, decoded with `arbitrary`, printed as Rust.
//! - [`real`], [`targets`]: the real fds behind the operations.
//! - [`registration`], [`threads`], [`inputs`]: the three fuzz targets'
//!   logic, each behind one `fuzz_*` function taking the raw input
//!   ([`watchdog`] keeps the `inputs` target's long waits from hanging).
//! - [`rng`]: a PRNG and random sequences for `cargo test` on stable.
//!
//! The tests (`tests.rs`) run the model over seeded random sequences,
//! replay `fuzz/corpus/*/seed-*` and `fuzz/regressions/*/*`, and check the
//! checker's own verdicts on made-up polls.

// Built only for tests and fuzzing, which may use std newer than the
// library's MSRV (1.71).
#![allow(clippy::incompatible_msrv)]

pub mod bits;
pub mod channel;
#[cfg(test)]
mod encode;
pub mod inputs;
pub mod kernel;
mod libc;
pub mod op;
pub mod real;
pub mod registration;
pub mod rng;
pub mod targets;
pub mod threads;
pub mod watchdog;

#[cfg(test)]
mod tests;

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
