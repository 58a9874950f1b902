//! A reference model of what the kernel and evq must do, and the harness
//! that checks evq against it: the engine of the fuzz targets in `fuzz/`
//! and of the randomized tests run by `cargo test`.
//!
//! An unpublished crate of the evq workspace (`cargo test` at the root runs
//! its tests; `fuzz/` depends on it), so that neither evq's package nor the
//! builds of evq's users (`cargo fuzz` sets `--cfg fuzzing` for every
//! crate) ever compile it. It uses evq's public API and `evq::sys` only.
//! Linux only: the readiness rules in [`channel`] are Linux's; on other
//! targets, and under `--cfg evq_force_kqueue`, the crate is empty. It
//! describes epoll, and with its `io-uring` feature (which turns on evq's)
//! io_uring too: [`uring`] holds what that backend does differently, and
//! every test and fuzz target runs on each backend in [`BACKENDS`].
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
//! - [`uring`]: io_uring's documented differences from epoll.
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

use evq::Backend;

pub mod bits;
pub mod channel;
mod check;
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
pub mod uring;
pub mod watchdog;

#[cfg(test)]
mod tests;

/// The backends the model describes: epoll, and io_uring with this
/// crate's `io-uring` feature.
pub const BACKENDS: &[Backend] = &[
    Backend::Epoll,
    #[cfg(feature = "io-uring")]
    Backend::IoUring,
];

/// Says which backend a run was on if it panics (the `threads` target's
/// panics come from its worker threads, whose messages cannot know).
pub struct NameOnPanic(pub Backend);

impl Drop for NameOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("(the run above was on {:?})", self.0);
        }
    }
}

/// A poll on `backend`; panics if the kernel does not allow it (the model
/// runs only where it is available: a test that cannot run says so).
pub fn new_poll(backend: Backend) -> evq::Poll {
    evq::Poll::with_backend(backend)
        .unwrap_or_else(|e| panic!("Poll::with_backend({backend:?}): {e}"))
}

/// The `registration` target: decodes `data` into operations and checks
/// every result and every poll against the model, on each backend.
pub fn fuzz_registration(data: &[u8]) {
    let ops: Vec<op::Op> = op::decode(data, op::MAX_OPS);
    for &backend in BACKENDS {
        let _transcript = registration::run(&ops, backend);
    }
}

/// The `threads` target: operations split across threads sharing a
/// `Registry` while another thread polls, on each backend.
pub fn fuzz_threads(data: &[u8]) {
    for &backend in BACKENDS {
        threads::run(&threads::decode(data), backend, threads::Checks::fuzzing());
    }
}

/// The `inputs` target: hostile arguments, each must end in a clear error
/// or success, without a panic, a hang or a leaked fd, on each backend.
pub fn fuzz_inputs(data: &[u8]) {
    let ops: Vec<inputs::InputOp> = op::decode(data, inputs::MAX_OPS);
    for &backend in BACKENDS {
        inputs::run(&ops, backend, inputs::Checks::fuzzing());
    }
}
