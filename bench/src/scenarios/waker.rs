//! S6 `waker`: waking a loop from another thread.
//!
//! - `ping-pong`: two threads, each blocked in its own loop; one wakes the
//!   other, which wakes it back. Metric: ns per round trip.
//! - `flood`: one thread calls `wake` as fast as it can while another polls.
//!   Metric: ns per `wake` on the waking thread (wakes/s is its inverse),
//!   and that thread's system calls per wake; also reported: events
//!   delivered to the poller per wake, and the poller's syscalls per wake.
//!
//! Wakes carry no data, so both sides publish progress in atomics and
//! treat every waker event as "look again": spurious and coalesced events
//! are handled as a real program must.

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, LoopKind};
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::{Counts, Scope};
use crate::with_loop;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

/// The waker's token (not `usize::MAX`, which polling reserves).
const WAKE: usize = 1 << 20;

/// Which waker scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    PingPong,
    Flood,
}

/// One waker case.
#[derive(Debug)]
pub struct Waker {
    kind: Kind,
}

/// The cases: ping-pong and flood.
pub fn cases(_options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    Ok([Kind::PingPong, Kind::Flood]
        .into_iter()
        .map(|kind| Box::new(Waker { kind }) as Box<dyn Case>)
        .collect())
}

/// Polls until `done` holds, counting the waker's events.
fn poll_until<L: EventLoop>(event_loop: &mut L, mut done: impl FnMut() -> bool) -> io::Result<u64> {
    let mut events = 0;
    while !done() {
        event_loop.poll(None, |event| {
            if event.token == WAKE {
                events += 1;
            }
        })?;
    }
    Ok(events)
}

fn ping_pong<L: EventLoop>(round_trips: u64, count: bool) -> io::Result<Sample> {
    let ping = Arc::new(AtomicU64::new(0));
    let pong = Arc::new(AtomicU64::new(0));
    let mut here = L::new(CAPACITY)?;
    let here_waker = Arc::new(here.waker(WAKE)?);
    // Opened before the partner thread starts, so that it is counted too.
    let mut meter = Meter::new(count, Scope::ThreadAndNewThreads)?;
    let (send_waker, receive_waker) = mpsc::channel();
    let partner = {
        let (ping, pong, here_waker) = (
            Arc::clone(&ping),
            Arc::clone(&pong),
            Arc::clone(&here_waker),
        );
        thread::spawn(move || -> io::Result<()> {
            let mut there = L::new(CAPACITY)?;
            send_waker
                .send(Arc::new(there.waker(WAKE)?))
                .map_err(|_| broken("waker: main thread gone"))?;
            let mut seen = 0;
            while seen < round_trips {
                poll_until(&mut there, || ping.load(Ordering::Acquire) > seen)?;
                seen = ping.load(Ordering::Acquire);
                pong.store(seen, Ordering::Release);
                L::wake(&here_waker)?;
            }
            Ok(())
        })
    };
    let there_waker = receive_waker
        .recv()
        .map_err(|_| broken("waker: partner thread failed to start"))?;
    meter.start()?;
    for i in 1..=round_trips {
        ping.store(i, Ordering::Release);
        L::wake(&there_waker)?;
        poll_until(&mut here, || pong.load(Ordering::Acquire) >= i)?;
    }
    let (elapsed, syscalls) = meter.stop()?;
    partner
        .join()
        .map_err(|_| broken("waker: partner thread panicked"))??;
    let mut sample = Sample::new(
        elapsed,
        round_trips,
        vec![("round trips", pong.load(Ordering::Acquire))],
    );
    sample.syscalls = syscalls;
    Ok(sample)
}

fn flood<L: EventLoop>(wakes: u64, count: bool) -> io::Result<Sample> {
    let mut event_loop = L::new(CAPACITY)?;
    // Kept here as well: dropping a waker may unregister it (evq, mio), and
    // the waking thread ends before the poller has seen its last wake.
    let waker = Arc::new(L::waker(&mut event_loop, WAKE)?);
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(2));
    let waking = {
        let (done, start, waker) = (Arc::clone(&done), Arc::clone(&start), Arc::clone(&waker));
        thread::spawn(
            move || -> io::Result<(std::time::Duration, Option<Counts>)> {
                let mut meter = Meter::new(count, Scope::Thread)?;
                start.wait();
                meter.start()?;
                for _ in 0..wakes {
                    L::wake(&waker)?;
                }
                let measured = meter.stop()?;
                done.store(true, Ordering::Release);
                L::wake(&waker)?;
                Ok(measured)
            },
        )
    };
    let mut poller_meter = Meter::new(count, Scope::Thread)?;
    start.wait();
    poller_meter.start()?;
    let delivered = poll_until(&mut event_loop, || done.load(Ordering::Acquire))?;
    let (_, poller_syscalls) = poller_meter.stop()?;
    let (elapsed, syscalls) = waking
        .join()
        .map_err(|_| broken("waker: waking thread panicked"))??;
    let mut sample = Sample::new(elapsed, wakes, vec![("wakes", wakes)]);
    sample.syscalls = syscalls;
    sample
        .extra
        .push(("delivered/wake", delivered as f64 / wakes as f64));
    if let Some(poller) = poller_syscalls {
        sample
            .extra
            .push(("poller syscalls/wake", poller.total as f64 / wakes as f64));
    }
    Ok(sample)
}

impl Case for Waker {
    fn scenario(&self) -> &'static str {
        "waker"
    }

    fn label(&self) -> String {
        match self.kind {
            Kind::PingPong => "ping-pong".to_owned(),
            Kind::Flood => "flood (2 threads)".to_owned(),
        }
    }

    fn unit(&self) -> &'static str {
        match self.kind {
            Kind::PingPong => "round trip",
            Kind::Flood => "wake",
        }
    }

    fn throughput(&self) -> bool {
        self.kind == Kind::Flood
    }

    fn initial_ops(&self) -> u64 {
        match self.kind {
            Kind::PingPong => 1_000,
            Kind::Flood => 20_000,
        }
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        match self.kind {
            Kind::PingPong => with_loop!(kind, L => ping_pong::<L>(ops, count)),
            Kind::Flood => with_loop!(kind, L => flood::<L>(ops, count)),
        }
    }
}
