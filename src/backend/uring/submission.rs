//! The submission side: queueing `POLL_ADD`/`POLL_REMOVE` entries in the
//! SQ, taking back entries no enter has claimed, and submitting.
//!
//! Entries are *claimed* by the `io_uring_enter` that is asked to submit
//! them (`State::claim`); the kernel consumes entries in ring order, so the
//! unclaimed ones are always the last `State::unclaimed` positions before
//! the tail, and only those may still be rewritten or taken back.

use super::registrations::Armed;
use super::ring::blank_sqe;
use super::{Selector, Shared, State, INTERNAL};
use crate::{sys, Error, Interest, Result, Trigger};
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

impl Selector {
    /// Queues a new request for `fd`'s registration, with a new generation.
    pub(super) fn arm(&self, state: &mut State, fd: RawFd) -> Result<()> {
        // u32::MAX is never a generation: `disarm` marks with it.
        let generation = state.next_generation;
        state.next_generation = (generation + 1) % u32::MAX;
        let registration = state
            .registrations
            .get_mut(fd)
            .expect("armed fds are registered");
        let mut sqe = blank_sqe();
        sqe.opcode = sys::IORING_OP_POLL_ADD as u8;
        sqe.fd = fd;
        sqe.len = match registration.trigger {
            Trigger::Edge => sys::IORING_POLL_ADD_MULTI,
            _ => 0,
        };
        sqe.__bindgen_anon_3.poll32_events = poll_events(registration.interest);
        sqe.user_data = user_data(fd, generation);
        registration.generation = generation;
        registration.multishot_ran = false;
        let position = self.push(state, sqe)?;
        if let Some(registration) = state.registrations.get_mut(fd) {
            registration.armed = Armed::Queued { position };
        }
        Ok(())
    }

    /// Makes sure `fd`'s current request reports nothing more: withdrawn
    /// from the SQ if no enter has claimed it, else removed in the kernel
    /// by a queued `POLL_REMOVE` (then returns true).
    pub(super) fn disarm(&self, state: &mut State, fd: RawFd) -> Result<bool> {
        let registration = state
            .registrations
            .get_mut(fd)
            .expect("disarmed fds are registered");
        let armed = std::mem::replace(&mut registration.armed, Armed::Disarmed);
        let target = user_data(fd, registration.generation);
        // Whatever happens below, completions of the old request no longer
        // match the registration.
        registration.generation = u32::MAX;
        match armed {
            Armed::Disarmed => Ok(false),
            Armed::Queued { position } if state.is_unclaimed(position) => {
                self.withdraw(state, position);
                Ok(false)
            }
            Armed::Queued { .. } | Armed::InKernel => {
                let mut sqe = blank_sqe();
                sqe.opcode = sys::IORING_OP_POLL_REMOVE as u8;
                sqe.fd = -1;
                sqe.__bindgen_anon_2.addr = target;
                sqe.user_data = INTERNAL;
                sqe.flags = 1 << sys::IOSQE_CQE_SKIP_SUCCESS_BIT;
                self.push(state, sqe).map(|_| true)
            }
        }
    }

    /// Takes back an entry no enter has claimed: the last one is simply
    /// un-pushed, others become a `NOP` whose success posts nothing.
    pub(super) fn withdraw(&self, state: &mut State, position: u32) {
        if position == state.sq_tail.wrapping_sub(1) {
            state.sq_tail = position;
            state.unclaimed -= 1;
            self.shared
                .unclaimed
                .store(state.unclaimed, Ordering::Release);
            self.shared.ring.publish_sq_tail(position);
        } else {
            let mut nop = blank_sqe();
            nop.opcode = sys::IORING_OP_NOP as u8;
            nop.flags = 1 << sys::IOSQE_CQE_SKIP_SUCCESS_BIT;
            nop.user_data = INTERNAL;
            self.shared.ring.write_sqe(position, nop);
        }
    }

    /// Appends `sqe` to the SQ, submitting what is queued first if the SQ
    /// is full; returns its position.
    pub(super) fn push(&self, state: &mut State, sqe: sys::io_uring_sqe) -> Result<u32> {
        let ring = &self.shared.ring;
        if ring.sq_space(state.sq_tail) == 0 {
            self.submit(state)?;
            if ring.sq_space(state.sq_tail) == 0 {
                return Err(Error::Os {
                    operation: "io_uring_enter",
                    fd: None,
                    source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
                });
            }
        }
        let position = state.sq_tail;
        ring.write_sqe(position, sqe);
        state.sq_tail = position.wrapping_add(1);
        ring.publish_sq_tail(state.sq_tail);
        state.unclaimed += 1;
        self.shared
            .unclaimed
            .store(state.unclaimed, Ordering::Release);
        Ok(position)
    }

    /// Submits the queued entries now if a poll is blocked, so that they
    /// take effect during its wait.
    pub(super) fn submit_if_waiting(&self, state: &mut State) -> Result<()> {
        if self.shared.waiting.load(Ordering::Relaxed) && state.unclaimed > 0 {
            self.submit(state)?;
        }
        Ok(())
    }

    /// `io_uring_enter` submitting every unclaimed entry, without waiting.
    pub(super) fn submit(&self, state: &mut State) -> Result<()> {
        let to_submit = state.claim(&self.shared);
        let result = self.shared.ring.enter(to_submit, false, None);
        state.unclaim(&self.shared, to_submit, &result);
        result.map(drop)
    }
}

impl State {
    pub(super) fn is_unclaimed(&self, position: u32) -> bool {
        let age = self.sq_tail.wrapping_sub(position);
        age >= 1 && age <= self.unclaimed
    }

    /// Takes every unclaimed entry for one `io_uring_enter`.
    pub(super) fn claim(&mut self, shared: &Shared) -> u32 {
        let to_submit = self.unclaimed;
        self.unclaimed = 0;
        shared.unclaimed.store(0, Ordering::Release);
        to_submit
    }

    /// Gives back the entries an `io_uring_enter` did not submit.
    pub(super) fn unclaim(&mut self, shared: &Shared, claimed: u32, result: &Result<u32>) {
        let submitted = match result {
            Ok(submitted) => (*submitted).min(claimed),
            Err(_) => 0,
        };
        if submitted < claimed {
            self.unclaimed += claimed - submitted;
            shared.unclaimed.store(self.unclaimed, Ordering::Release);
        }
    }
}

pub(super) fn user_data(fd: RawFd, generation: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(fd as u32)
}

/// The poll mask for `interest`: the epoll bits, which are poll(2)'s
/// (errors and hang-ups are always watched, as on epoll). The kernel reads
/// the 32-bit field with its 16-bit halves swapped on big-endian targets.
pub(super) fn poll_events(interest: Interest) -> u32 {
    let mut events = 0;
    if interest.contains(Interest::READABLE) {
        events |= sys::EPOLLIN | sys::EPOLLRDHUP;
    }
    if interest.contains(Interest::WRITABLE) {
        events |= sys::EPOLLOUT;
    }
    if interest.contains(Interest::PRIORITY) {
        events |= sys::EPOLLPRI;
    }
    if cfg!(target_endian = "big") {
        events.rotate_left(16)
    } else {
        events
    }
}
