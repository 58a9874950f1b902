//! `Signals`: real signals sent with `kill`, from this thread and another.
//!
//! No test harness (`harness = false` in Cargo.toml): libtest runs each test
//! in a thread of its own, and a signal blocked in one thread only is
//! delivered to another. `main` blocks every signal used here before any
//! thread exists, as `Signals` tells its users to, then runs the tests one
//! after the other.
mod util;

// Not on NetBSD and OpenBSD, which have no `Signals` (see its docs). Not
// under Miri, which emulates no signalfd and no kill. Not on Windows, which
// has no signals.
#[cfg(any(windows, miri, target_os = "netbsd", target_os = "openbsd"))]
fn main() {
    println!("test result: ok. 0 passed (no Signals to test here: see tests/signals.rs)");
}

#[cfg(not(any(windows, miri, target_os = "netbsd", target_os = "openbsd")))]
fn main() {
    cases::main();
}

#[cfg(not(any(windows, miri, target_os = "netbsd", target_os = "openbsd")))]
mod cases {
    use crate::util::{expect_event, expect_no_event};
    use evq::{sys, Error, Events, Interest, Poll, Signals, Token, Trigger};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    const SIGNALS: Token = Token(9);
    const SIGUSR1: i32 = sys::SIGUSR1 as i32;
    const SIGUSR2: i32 = sys::SIGUSR2 as i32;
    const SIGWINCH: i32 = sys::SIGWINCH as i32;

    type Test = (&'static str, fn());

    const TESTS: &[Test] = &[
        (
            "kill_to_self_is_reported_and_consumed",
            kill_to_self_is_reported_and_consumed,
        ),
        (
            "a_signal_from_another_thread_is_reported",
            a_signal_from_another_thread_is_reported,
        ),
        (
            "repeated_standard_signals_are_reported_once",
            repeated_standard_signals_are_reported_once,
        ),
        (
            "pending_reports_every_watched_signal",
            pending_reports_every_watched_signal,
        ),
        (
            "added_signals_are_watched_and_removed_ones_stay_blocked",
            added_signals_are_watched_and_removed_ones_stay_blocked,
        ),
        (
            "edge_reports_once_per_sending",
            edge_reports_once_per_sending,
        ),
        (
            "level_repeats_until_pending_takes_the_signal",
            level_repeats_until_pending_takes_the_signal,
        ),
        (
            "oneshot_reports_once_until_rearmed",
            oneshot_reports_once_until_rearmed,
        ),
        (
            "deregistering_drops_the_event_but_not_the_signal",
            deregistering_drops_the_event_but_not_the_signal,
        ),
        (
            "two_signals_for_one_signal_report_it_as_documented",
            two_signals_for_one_signal_report_it_as_documented,
        ),
        (
            "new_blocks_in_the_calling_thread_and_new_threads_inherit_it",
            new_blocks_in_the_calling_thread_and_new_threads_inherit_it,
        ),
        (
            "children_inherit_the_mask_unless_pre_exec_clears_it",
            children_inherit_the_mask_unless_pre_exec_clears_it,
        ),
        (
            "unblockable_and_unknown_signals_are_refused",
            unblockable_and_unknown_signals_are_refused,
        ),
    ];

    pub fn main() {
        // Before any thread: block the signals for the whole process. Dropping
        // the `Signals` leaves them blocked (evq never unblocks).
        drop(Signals::new(&[SIGUSR1, SIGUSR2]).expect("block the test signals"));
        let filter: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        let mut ran = 0;
        for (name, test) in TESTS {
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            print!("test {name} ... ");
            test();
            println!("ok");
            ran += 1;
        }
        println!("\ntest result: ok. {ran} passed");
    }

    /// Sends `signal` to this process, and returns once it has reached
    /// every `Signals` watching it. A kernel records a signal sent to
    /// oneself before `kill` returns; libkqueue hands it to its filters
    /// later, from a thread of its own that reads a signalfd. A witness
    /// (`Signals` only polled, never read, so it consumes nothing) sees it
    /// when that thread has handed it to every filter (it does so for all
    /// of them at once, under one lock).
    fn kill_self(signal: i32) {
        let witness = Signals::new(&[signal]).unwrap();
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&witness, Token(0), Interest::READABLE)
            .unwrap();
        // SAFETY: kill takes no pointers.
        let ret = unsafe { sys::kill(std::process::id() as i32, signal) };
        assert_eq!(ret, 0, "kill: {}", std::io::Error::last_os_error());
        expect_event(&mut poll, &mut Events::with_capacity(1), Token(0));
    }

    fn registered(signals: &[i32], trigger: Trigger) -> (Poll, Events, Signals) {
        let poll = Poll::new().unwrap();
        let source = Signals::new(signals).unwrap();
        poll.registry()
            .register_with(&source, SIGNALS, Interest::READABLE, trigger)
            .unwrap();
        (poll, Events::with_capacity(8), source)
    }

    fn kill_to_self_is_reported_and_consumed() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1], Trigger::Edge);
        assert_eq!(signals.pending().count(), 0, "nothing sent yet");
        kill_self(SIGUSR1);
        let event = expect_event(&mut poll, &mut events, SIGNALS);
        assert!(event.is_readable());
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
        assert_eq!(signals.pending().count(), 0, "taken by the first pending");
    }

    fn a_signal_from_another_thread_is_reported() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR2], Trigger::Edge);
        std::thread::spawn(|| kill_self(SIGUSR2)).join().unwrap();
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);
    }

    fn repeated_standard_signals_are_reported_once() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1], Trigger::Edge);
        for _ in 0..3 {
            kill_self(SIGUSR1);
        }
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
    }

    fn pending_reports_every_watched_signal() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1, SIGUSR2], Trigger::Edge);
        kill_self(SIGUSR2);
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(
            signals.pending().collect::<Vec<_>>(),
            [SIGUSR1, SIGUSR2],
            "lowest first"
        );
    }

    fn added_signals_are_watched_and_removed_ones_stay_blocked() {
        let (mut poll, mut events, signals) = registered(&[], Trigger::Level);
        signals.add(SIGUSR1).unwrap();
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);

        signals.remove(SIGUSR1).unwrap();
        kill_self(SIGUSR1);
        // Not watched here any more, and still blocked (the process lives on).
        expect_no_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().count(), 0);
        // On Linux it is pending in the process, where a new `Signals`
        // finds it. (A kqueue filter records only sendings after it exists.)
        #[cfg(evq_epoll)]
        {
            let other = Signals::new(&[SIGUSR1]).unwrap();
            assert_eq!(other.pending().collect::<Vec<_>>(), [SIGUSR1]);
        }
    }

    fn edge_reports_once_per_sending() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1, SIGUSR2], Trigger::Edge);
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        expect_no_event(&mut poll, &mut events, SIGNALS);
        kill_self(SIGUSR2);
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
    }

    fn level_repeats_until_pending_takes_the_signal() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1], Trigger::Level);
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().count(), 1);
        expect_no_event(&mut poll, &mut events, SIGNALS);
    }

    fn oneshot_reports_once_until_rearmed() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1, SIGUSR2], Trigger::Oneshot);
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        kill_self(SIGUSR2);
        expect_no_event(&mut poll, &mut events, SIGNALS);
        poll.registry()
            .reregister_with(&signals, SIGNALS, Interest::READABLE, Trigger::Oneshot)
            .unwrap();
        expect_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
    }

    fn deregistering_drops_the_event_but_not_the_signal() {
        let (mut poll, mut events, signals) = registered(&[SIGUSR1], Trigger::Level);
        kill_self(SIGUSR1);
        poll.registry().deregister(&signals).unwrap();
        expect_no_event(&mut poll, &mut events, SIGNALS);
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
    }

    fn two_signals_for_one_signal_report_it_as_documented() {
        let (mut poll, mut events, first) = registered(&[SIGUSR1], Trigger::Level);
        let second = Signals::new(&[SIGUSR1]).unwrap();
        poll.registry()
            .register_with(&second, Token(10), Interest::READABLE, Trigger::Level)
            .unwrap();
        kill_self(SIGUSR1);
        expect_event(&mut poll, &mut events, SIGNALS);
        expect_event(&mut poll, &mut events, Token(10));
        let taken = second.pending().count() + first.pending().count();
        // signalfd: the first read dequeues it; kqueue: each filter records it.
        let expected = if cfg!(evq_epoll) { 1 } else { 2 };
        assert_eq!(taken, expected, "as `Signals` documents");
    }

    /// Whether `signal` is blocked in the calling thread.
    fn blocked_here(signal: i32) -> bool {
        // SAFETY: sigset_t is plain data; all zeroes is a valid (empty) set,
        // which pthread_sigmask overwrites with the current mask.
        let mut mask: sys::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a null new set only reads the mask into `mask`.
        let ret =
            unsafe { sys::pthread_sigmask(sys::SIG_BLOCK as i32, std::ptr::null(), &mut mask) };
        assert_eq!(ret, 0);
        // SAFETY: `mask` is an initialised set.
        unsafe { sys::sigismember(&mask, signal) == 1 }
    }

    fn new_blocks_in_the_calling_thread_and_new_threads_inherit_it() {
        assert!(!blocked_here(SIGWINCH), "nothing blocked SIGWINCH yet");
        let signals = Signals::new(&[SIGWINCH]).unwrap();
        assert!(blocked_here(SIGWINCH));
        assert!(std::thread::spawn(|| blocked_here(SIGWINCH))
            .join()
            .unwrap());
        drop(signals);
        assert!(blocked_here(SIGWINCH), "dropping does not unblock");
    }

    /// The signal mask of a child started by `command`: grep reads its own
    /// from /proc (SigBlk: hex, bit n - 1 for signal n).
    fn child_mask(mut command: Command) -> u64 {
        let output = command
            .args(["SigBlk", "/proc/self/status"])
            .output()
            .unwrap();
        let line = String::from_utf8(output.stdout).unwrap();
        let mask = line.trim().trim_start_matches("SigBlk:").trim();
        u64::from_str_radix(mask, 16).unwrap()
    }

    fn children_inherit_the_mask_unless_pre_exec_clears_it() {
        // The child reads its mask from /proc, which only Linux has.
        if cfg!(not(target_os = "linux")) {
            return;
        }
        assert!(blocked_here(SIGUSR1));
        let bit = 1 << (SIGUSR1 - 1);
        assert_ne!(child_mask(Command::new("grep")) & bit, 0, "inherited");

        // The recipe in the `Signals` docs.
        let mut command = Command::new("grep");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                let mut empty = std::mem::MaybeUninit::uninit();
                sys::sigemptyset(empty.as_mut_ptr());
                let how = sys::SIG_SETMASK as i32;
                sys::pthread_sigmask(how, empty.as_ptr(), std::ptr::null_mut());
                Ok(())
            });
        }
        assert_eq!(child_mask(command), 0, "cleared");
    }

    fn unblockable_and_unknown_signals_are_refused() {
        for signal in [sys::SIGKILL as i32, sys::SIGSTOP as i32, 0, -1, 1000] {
            match Signals::new(&[signal]) {
                Err(Error::InvalidInput { .. }) => {}
                other => panic!("signal {signal}: expected InvalidInput, got {other:?}"),
            }
            let signals = Signals::new(&[]).unwrap();
            assert!(
                matches!(signals.add(signal), Err(Error::InvalidInput { .. })),
                "{signal}"
            );
        }
    }
}
