//! The `inputs` target: hostile arguments. Every call must end in `Ok` or
//! in the one clear [`Error`] the model names (with the errno, the call and
//! the fd in its message), never in a panic, a hang or a leaked fd.

use super::kernel::Outcome;
use super::op::TriggerChoice;
use super::real::PATIENCE;
use super::targets::{Nature, Target, Targets, NUMBERED};
use super::watchdog::Watchdog;
use arbitrary::Arbitrary;
use evq::{Backend, Error, Events, Interest, Poll, Registry, Token, Waker};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The longest sequence one input decodes to.
pub const MAX_OPS: usize = 64;

/// The token of the source that is made ready before any long wait.
const READY: Token = Token(0xEEEE_0000);

/// A token value: the extremes, or any.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenValue {
    /// `Token(usize::MAX)`.
    Max,
    /// `Token(0)`.
    Zero,
    /// Anything.
    Any(u64),
}

impl TokenValue {
    fn token(self) -> Token {
        match self {
            TokenValue::Max => Token(usize::MAX),
            TokenValue::Zero => Token(0),
            TokenValue::Any(value) => Token(value as usize),
        }
    }
}

/// A poll timeout.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Wait forever.
    Forever,
    /// `Duration::ZERO`.
    Zero,
    /// 1 ns: a whole millisecond for the kernel.
    OneNanosecond,
    /// Up to 255 µs.
    Micros(u8),
    /// Up to 3 ms.
    Millis(u8),
    /// `Duration::MAX`.
    Max,
    /// `u64::MAX / 2` seconds.
    HalfMax,
    /// One millisecond more than `epoll_wait` can take.
    OverKernelLimit,
    /// Up to ~136 years.
    Seconds(u32),
}

impl Timeout {
    fn duration(self) -> Option<Duration> {
        Some(match self {
            Timeout::Forever => return None,
            Timeout::Zero => Duration::ZERO,
            Timeout::OneNanosecond => Duration::from_nanos(1),
            Timeout::Micros(us) => Duration::from_micros(u64::from(us)),
            Timeout::Millis(ms) => Duration::from_millis(u64::from(ms % 4)),
            Timeout::Max => Duration::MAX,
            Timeout::HalfMax => Duration::from_secs(u64::MAX / 2),
            Timeout::OverKernelLimit => Duration::from_millis(i32::MAX as u64 + 1),
            Timeout::Seconds(s) => Duration::from_secs(u64::from(s)),
        })
    }

    /// Whether the wait could be long enough to notice (then the harness
    /// makes something ready first, or it would really wait).
    fn is_long(self) -> bool {
        self.duration()
            .is_none_or(|d| d > Duration::from_millis(20))
    }
}

/// An `Events` capacity.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// 0: `poll` must refuse it.
    Zero,
    /// Up to 255.
    Small(u8),
    /// `usize::MAX`, clamped to what one `epoll_wait` takes (made once
    /// per process: it reserves 2 GiB).
    Max,
}

/// One step of an `inputs` sequence.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputOp {
    /// `register_with`, through the poll's registry or its clone.
    Register {
        /// The fd.
        target: Target,
        /// The token.
        token: TokenValue,
        /// Any bit pattern.
        interest: u8,
        /// The trigger.
        trigger: TriggerChoice,
        /// Through `try_clone`'s registry.
        via_clone: bool,
    },
    /// `reregister_with`.
    Reregister {
        /// The fd.
        target: Target,
        /// The token.
        token: TokenValue,
        /// Any bit pattern.
        interest: u8,
        /// The trigger.
        trigger: TriggerChoice,
        /// Through `try_clone`'s registry.
        via_clone: bool,
    },
    /// `deregister`.
    Deregister {
        /// The fd.
        target: Target,
        /// Through `try_clone`'s registry.
        via_clone: bool,
    },
    /// `poll` with any timeout into any buffer.
    Poll {
        /// The timeout.
        timeout: Timeout,
        /// The buffer's capacity.
        capacity: Capacity,
    },
    /// Makes a target readable.
    MakeReady {
        /// Which.
        target: Target,
    },
    /// Puts a fresh socket at the `Numbered` fd number.
    ReopenNumbered,
    /// Closes the `Numbered` fd.
    CloseNumbered,
    /// `Waker::new` with any token (at most four live wakers).
    NewWaker {
        /// Its token.
        token: TokenValue,
    },
    /// Wakes one of the wakers.
    Wake {
        /// Which (modulo the number alive).
        which: u8,
    },
    /// Drops one of the wakers.
    DropWaker {
        /// Which (modulo the number alive).
        which: u8,
    },
}

/// What a run checks beyond panics and hangs.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    /// Count the process's fds before and after.
    pub fd_leaks: bool,
}

impl Checks {
    /// Everything: the process runs nothing else meanwhile.
    pub fn fuzzing() -> Checks {
        Checks { fd_leaks: true }
    }

    /// Within `cargo test`, where other tests open fds meanwhile.
    pub fn shared_process() -> Checks {
        Checks { fd_leaks: false }
    }
}

/// One `inputs` run at a time per process: they share the fd at
/// [`NUMBERED`].
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The `Events` of capacity `usize::MAX`, made once per process.
fn max_events() -> &'static Mutex<Events> {
    static EVENTS: OnceLock<Mutex<Events>> = OnceLock::new();
    EVENTS.get_or_init(|| Mutex::new(Events::with_capacity(usize::MAX)))
}

/// Runs `ops` on `backend`; panics on any result other than the model's.
pub fn run(ops: &[InputOp], backend: Backend, checks: Checks) {
    // The guard first, as every run takes it (then the numbered fd).
    let _alone = super::signals_and_children::run_guard(backend == Backend::IoUring);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _ = max_events();
    let before = checks.fd_leaks.then(super::threads::open_fds);
    let mut state = State::new(backend);
    for (i, op) in ops.iter().enumerate() {
        if let Err(problem) = state.step(op) {
            let steps: Vec<String> = ops[..=i].iter().map(|op| format!("    {op:?}")).collect();
            panic!("inputs on {backend:?}: {problem}\n{}", steps.join("\n"));
        }
    }
    drop(state);
    if let Some(before) = before {
        let after = super::threads::open_fds();
        assert_eq!(
            after, before,
            "fds leaked: {before} open before, {after} after"
        );
    }
}

struct State {
    watchdog: Watchdog,
    poll: Poll,
    clone: Registry,
    targets: Targets,
    /// The source behind [`READY`]: a level-triggered eventfd.
    ready: std::fs::File,
    ready_on: bool,
    /// Registered targets and their tokens.
    registered: HashMap<Target, Token>,
    /// io_uring: registered targets whose record the kernel's late `EBADF`
    /// may have dropped (a number not open when the request was submitted).
    unsure: HashSet<Target>,
    backend: Backend,
    wakers: Vec<(Waker, Token)>,
    buffers: HashMap<usize, Events>,
}

impl State {
    fn new(backend: Backend) -> State {
        let poll = crate::new_poll(backend);
        let clone = poll.registry().try_clone().expect("try_clone");
        let ready = File::from(super::fd::eventfd());
        poll.registry()
            .register_with(&ready, READY, Interest::READABLE, evq::Trigger::Level)
            .expect("register the ready source");
        State {
            watchdog: Watchdog::new(&clone),
            poll,
            clone,
            targets: Targets::open(backend),
            ready,
            ready_on: false,
            registered: HashMap::new(),
            unsure: HashSet::new(),
            backend,
            wakers: Vec::new(),
            buffers: HashMap::new(),
        }
    }

    fn set_ready(&mut self, on: bool) {
        use std::io::Write;
        if on && !self.ready_on {
            (&self.ready)
                .write_all(&1u64.to_ne_bytes())
                .expect("write eventfd");
        } else if !on && self.ready_on {
            let mut buf = [0u8; 8];
            (&self.ready).read_exact(&mut buf).expect("read eventfd");
        }
        self.ready_on = on;
    }

    /// The model's outcome for a registry call on `target`, and another
    /// it also accepts (io_uring, where a record may have been dropped).
    fn expect(
        &self,
        target: Target,
        interest: Option<u8>,
        wants_registered: Option<bool>,
    ) -> (Outcome, Option<Outcome>) {
        if interest.is_some_and(|bits| Interest::from_bits_truncate(bits).is_empty()) {
            return (Outcome::InvalidInput, None);
        }
        let nature = if self.backend == Backend::IoUring {
            // evq answers from its record; the kernel's answers come later.
            Nature::Pollable
        } else if target == Target::Numbered && !self.targets.numbered_open() {
            Nature::Refused(super::targets::EBADF)
        } else {
            target.nature()
        };
        match nature {
            Nature::Refused(errno) => (Outcome::Os(errno), None),
            Nature::Pollable => {
                let target = self.record_key(target);
                let registered = self.registered.contains_key(&target);
                let unsure = self.unsure.contains(&target);
                match wants_registered {
                    // register
                    None if registered && unsure => (Outcome::AlreadyRegistered, Some(Outcome::Ok)),
                    None if registered => (Outcome::AlreadyRegistered, None),
                    None => (Outcome::Ok, None),
                    // reregister, deregister
                    Some(_) if registered && unsure => (Outcome::Ok, Some(Outcome::NotRegistered)),
                    Some(_) if registered => (Outcome::Ok, None),
                    Some(_) => (Outcome::NotRegistered, None),
                }
            }
        }
    }

    /// Whether the kernel answers a request for `target` with `EBADF` when
    /// it gets it (io_uring; epoll answers at once).
    fn is_bad(&self, target: Target) -> bool {
        match target {
            Target::PathOnly | Target::NeverOpen => true,
            Target::Numbered => !self.targets.numbered_open(),
            _ => false,
        }
    }

    /// The target whose registration a call on `target` concerns: on
    /// io_uring, whose record is keyed by number, a registry clone's
    /// descriptor is the poll's own.
    fn record_key(&self, target: Target) -> Target {
        match target {
            Target::CloneOfSelf if self.backend == Backend::IoUring => Target::SelfPoll,
            other => other,
        }
    }

    /// Records what a registry call on `target` did: `outcome`, with
    /// `token` for a (re)registration.
    fn record(&mut self, target: Target, outcome: Outcome, token: Option<Token>) {
        let target = self.record_key(target);
        match (outcome, token) {
            (Outcome::Ok, Some(token)) => {
                self.registered.insert(target, token);
                if self.backend == Backend::IoUring && self.is_bad(target) {
                    self.unsure.insert(target);
                } else {
                    self.unsure.remove(&target);
                }
            }
            (Outcome::Ok | Outcome::NotRegistered, _) => {
                self.registered.remove(&target);
                self.unsure.remove(&target);
            }
            _ => {}
        }
    }

    fn step(&mut self, op: &InputOp) -> Result<(), String> {
        match *op {
            InputOp::Register {
                target,
                token,
                interest,
                trigger,
                via_clone,
            }
            | InputOp::Reregister {
                target,
                token,
                interest,
                trigger,
                via_clone,
            } => {
                let register = matches!(op, InputOp::Register { .. });
                let (expected, alternative) =
                    self.expect(target, Some(interest), (!register).then_some(true));
                let registry = if via_clone {
                    &self.clone
                } else {
                    self.poll.registry()
                };
                let fd = self.targets.fd(target, &self.poll, &self.clone);
                let bits = Interest::from_bits_retain(interest);
                let result = if register {
                    registry.register_with(&fd, token.token(), bits, trigger.trigger())
                } else {
                    registry.reregister_with(&fd, token.token(), bits, trigger.trigger())
                };
                let operation = if register {
                    "epoll_ctl(ADD)"
                } else {
                    "epoll_ctl(MOD)"
                };
                let outcome = Outcome::of(&result);
                let expected = alternative.filter(|&a| a == outcome).unwrap_or(expected);
                check_result(&result, expected, operation, fd_number(target, &fd))?;
                self.record(target, outcome, Some(token.token()));
            }
            InputOp::Deregister { target, via_clone } => {
                let (expected, alternative) = self.expect(target, None, Some(false));
                let registry = if via_clone {
                    &self.clone
                } else {
                    self.poll.registry()
                };
                let fd = self.targets.fd(target, &self.poll, &self.clone);
                let result = registry.deregister(&fd);
                let outcome = Outcome::of(&result);
                let expected = alternative.filter(|&a| a == outcome).unwrap_or(expected);
                check_result(&result, expected, "epoll_ctl(DEL)", fd_number(target, &fd))?;
                self.record(target, outcome, None);
            }
            InputOp::Poll { timeout, capacity } => self.poll(timeout, capacity)?,
            InputOp::MakeReady { target } => self.targets.make_ready(target),
            // epoll drops a registration with its file; io_uring keeps
            // the record of the number (whose request may meet it closed).
            InputOp::ReopenNumbered => {
                self.targets.reopen_numbered();
                if self.backend != Backend::IoUring {
                    self.registered.remove(&Target::Numbered);
                }
            }
            InputOp::CloseNumbered => {
                self.targets.close_numbered();
                if self.backend != Backend::IoUring {
                    self.registered.remove(&Target::Numbered);
                } else if self.registered.contains_key(&Target::Numbered) {
                    self.unsure.insert(Target::Numbered);
                }
            }
            InputOp::NewWaker { token } if self.wakers.len() < 4 => {
                let waker = Waker::new(&self.clone, token.token())
                    .map_err(|e| format!("Waker::new: {e}"))?;
                self.wakers.push((waker, token.token()));
            }
            InputOp::NewWaker { .. } => {}
            InputOp::Wake { which } if !self.wakers.is_empty() => {
                let (waker, _) = &self.wakers[usize::from(which) % self.wakers.len()];
                waker.wake().map_err(|e| format!("wake: {e}"))?;
            }
            InputOp::DropWaker { which } if !self.wakers.is_empty() => {
                let index = usize::from(which) % self.wakers.len();
                self.wakers.remove(index);
            }
            InputOp::Wake { .. } | InputOp::DropWaker { .. } => {}
        }
        Ok(())
    }

    fn poll(&mut self, timeout: Timeout, capacity: Capacity) -> Result<(), String> {
        // A long wait returns at once only if something is ready; a short
        // one gets the ready source as it happens to be.
        if timeout.is_long() {
            self.set_ready(true);
        }
        let mut max_guard;
        let events = match capacity {
            Capacity::Max => {
                max_guard = max_events().lock().unwrap_or_else(|p| p.into_inner());
                &mut *max_guard
            }
            Capacity::Zero => self
                .buffers
                .entry(0)
                .or_insert_with(|| Events::with_capacity(0)),
            Capacity::Small(n) => {
                let n = usize::from(n.max(1));
                self.buffers
                    .entry(n)
                    .or_insert_with(|| Events::with_capacity(n))
            }
        };
        let long = timeout.is_long();
        if long {
            self.watchdog.set(true);
        }
        let result = self.poll.poll(events, timeout.duration());
        if long && self.watchdog.disarm() {
            return Err(format!(
                "poll({timeout:?}) hung for {PATIENCE:?} although a level-triggered source was ready"
            ));
        }
        if capacity == Capacity::Zero {
            return match result {
                Err(Error::InvalidInput { .. }) if events.is_empty() => Ok(()),
                other => Err(format!(
                    "poll into a zero-capacity buffer returned {other:?}"
                )),
            };
        }
        result.map_err(|e| format!("poll({timeout:?}) failed: {e}"))?;
        if events.len() > events.capacity() {
            return Err(format!(
                "{} events in a buffer of {}",
                events.len(),
                events.capacity()
            ));
        }
        if self.ready_on && events.is_empty() {
            return Err("a level-triggered source is ready, yet poll reported nothing".into());
        }
        for event in events.iter() {
            let token = event.token();
            let live = (token == READY && self.ready_on)
                || self.registered.values().any(|t| *t == token)
                || self.wakers.iter().any(|(_, t)| *t == token);
            if !live {
                return Err(format!("{event:?}: no live registration has that token"));
            }
        }
        Ok(())
    }
}

/// The number the call was made with, as the error must name it.
fn fd_number(target: Target, fd: &impl std::os::fd::AsRawFd) -> i32 {
    match target {
        Target::Numbered => NUMBERED,
        _ => fd.as_raw_fd(),
    }
}

/// Checks a registry call's result against the expected outcome, and that
/// an error says what it is: its variant, errno, kind, call and fd.
fn check_result(
    result: &evq::Result<()>,
    expected: Outcome,
    operation: &str,
    fd: i32,
) -> Result<(), String> {
    let outcome = Outcome::of(result);
    if outcome != expected {
        return Err(format!("returned {result:?}, the model says {expected:?}"));
    }
    let Err(error) = result else { return Ok(()) };
    let message = error.to_string();
    let good = match (error, expected) {
        (Error::AlreadyRegistered { fd: got, .. }, _)
        | (Error::NotRegistered { fd: got, .. }, _) => *got == fd,
        (Error::InvalidInput { .. }, _) => error.kind() == std::io::ErrorKind::InvalidInput,
        (Error::Os { .. }, Outcome::Os(errno)) => {
            message.starts_with(&format!("{operation} on fd {fd}: "))
                && error.kind() == std::io::Error::from_raw_os_error(errno).kind()
        }
        _ => false,
    };
    if good {
        Ok(())
    } else {
        Err(format!(
            "unclear error for {operation} on fd {fd}: {message:?} ({error:?})"
        ))
    }
}
