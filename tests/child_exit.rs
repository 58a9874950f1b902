//! `ChildExit`: real children that exit, fail, are killed, or exited long
//! before anyone asked.
// Not under Miri, which emulates epoll and eventfd but none of timerfd,
// signalfd, pidfd_open, waitid or process spawning.
#![cfg(not(miri))]
// ChildExit is Unix only for now (its docs).
#![cfg(unix)]
// The children are reaped by ChildExit::try_wait, which clippy cannot see.
#![allow(clippy::zombie_processes)]

mod util;

use evq::{sys, ChildExit, Events, Interest, Poll, Token, Trigger};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};
use util::{expect_event, expect_no_event};

const CHILD: Token = Token(4);
/// The same numbers on every Linux architecture.
const ECHILD: i32 = 10;
const ESRCH: i32 = 3;

fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program).args(args).spawn().unwrap()
}

fn registered(child: &Child, trigger: Trigger) -> (Poll, Events, ChildExit) {
    let poll = Poll::new().unwrap();
    let exit = ChildExit::new(child).unwrap();
    poll.registry()
        .register_with(&exit, CHILD, Interest::READABLE, trigger)
        .unwrap();
    (poll, Events::with_capacity(8), exit)
}

/// Blocks until `child` has exited, without reaping it: it stays a
/// zombie. Watches it with a `ChildExit` of its own, in a poll of its own,
/// and drops both (neither reaps).
fn wait_until_zombie(child: &Child) {
    let (mut poll, mut events, _exit) = registered(child, Trigger::Edge);
    expect_event(&mut poll, &mut events, CHILD);
}

/// Polls until the child's event, then reaps it.
fn status_after_event(poll: &mut Poll, events: &mut Events, exit: &ChildExit) -> ExitStatus {
    let event = expect_event(poll, events, CHILD);
    assert!(event.is_readable());
    exit.try_wait().unwrap().expect("the event means it exited")
}

#[test]
fn a_child_that_exits_later_is_reported_with_its_status() {
    let start = Instant::now();
    let child = spawn("sleep", &["0.05"]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    let status = status_after_event(&mut poll, &mut events, &exit);
    assert!(status.success(), "{status}");
    assert!(
        start.elapsed() >= Duration::from_millis(50),
        "not before it exited"
    );
}

#[test]
fn exit_codes_come_through() {
    for (args, code) in [(&["-c", "true"][..], 0), (&["-c", "exit 3"][..], 3)] {
        let child = spawn("sh", args);
        let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
        let status = status_after_event(&mut poll, &mut events, &exit);
        assert_eq!(status.code(), Some(code));
    }
}

#[test]
fn a_running_child_is_not_ready_and_a_killed_one_reports_the_signal() {
    let mut child = spawn("sleep", &["10"]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    assert_eq!(exit.try_wait().unwrap(), None);
    expect_no_event(&mut poll, &mut events, CHILD);
    child.kill().unwrap(); // SIGKILL
    let status = status_after_event(&mut poll, &mut events, &exit);
    assert_eq!(status.signal(), Some(sys::SIGKILL as i32));
    assert_eq!(status.code(), None);
}

#[test]
fn a_child_that_exited_before_new_is_reported_at_once() {
    let child = spawn("true", &[]);
    wait_until_zombie(&child);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    let status = status_after_event(&mut poll, &mut events, &exit);
    assert!(status.success());
}

#[test]
fn try_wait_returns_the_reaped_status_again() {
    let child = spawn("sh", &["-c", "exit 7"]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    let status = status_after_event(&mut poll, &mut events, &exit);
    assert_eq!(exit.try_wait().unwrap(), Some(status));
    assert_eq!(status.code(), Some(7));
}

#[test]
fn a_child_reaped_already_is_refused() {
    let mut child = spawn("true", &[]);
    child.wait().unwrap();
    let error = ChildExit::new(&child).expect_err("reaped: no longer our child");
    // ECHILD if the pid is free or names a process that is not our child,
    // ESRCH if no process has it.
    assert!(
        error.raw_os_error() == Some(ECHILD) || error.raw_os_error() == Some(ESRCH),
        "{error}"
    );
}

#[test]
fn reaping_through_child_first_makes_try_wait_fail() {
    let mut child = spawn("true", &[]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    expect_event(&mut poll, &mut events, CHILD);
    child.wait().unwrap();
    let error = exit.try_wait().expect_err("reaped elsewhere");
    assert_eq!(error.raw_os_error(), Some(ECHILD), "{error}");
}

#[test]
fn level_keeps_reporting_an_exited_child_even_after_reaping() {
    let child = spawn("true", &[]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Level);
    status_after_event(&mut poll, &mut events, &exit);
    expect_event(&mut poll, &mut events, CHILD);
}

#[test]
fn edge_reports_the_exit_once() {
    let child = spawn("true", &[]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Edge);
    expect_event(&mut poll, &mut events, CHILD);
    expect_no_event(&mut poll, &mut events, CHILD);
    assert!(exit.try_wait().unwrap().is_some());
}

#[test]
fn oneshot_reports_once_until_rearmed() {
    let child = spawn("true", &[]);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Oneshot);
    expect_event(&mut poll, &mut events, CHILD);
    expect_no_event(&mut poll, &mut events, CHILD);
    poll.registry()
        .reregister_with(&exit, CHILD, Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    expect_event(&mut poll, &mut events, CHILD);
    assert!(exit.try_wait().unwrap().is_some());
}

#[test]
fn deregistering_an_exited_child_drops_its_event() {
    let child = spawn("true", &[]);
    wait_until_zombie(&child);
    let (mut poll, mut events, exit) = registered(&child, Trigger::Level);
    poll.registry().deregister(&exit).unwrap();
    expect_no_event(&mut poll, &mut events, CHILD);
    assert!(exit.try_wait().unwrap().unwrap().success());
}

#[test]
fn two_child_exits_for_one_child_in_one_poll_both_report() {
    let child = spawn("true", &[]);
    let (mut poll, mut events, first) = registered(&child, Trigger::Level);
    let second = ChildExit::new(&child).unwrap();
    poll.registry()
        .register_with(&second, Token(5), Interest::READABLE, Trigger::Level)
        .unwrap();
    expect_event(&mut poll, &mut events, CHILD);
    expect_event(&mut poll, &mut events, Token(5));
    // Deregistering one leaves the other watched.
    poll.registry().deregister(&first).unwrap();
    expect_no_event(&mut poll, &mut events, CHILD);
    expect_event(&mut poll, &mut events, Token(5));
    assert!(second.try_wait().unwrap().unwrap().success());
}
