//! The load itself: every client connection, of every kind, on one evq
//! [`Poll`] in one thread. Each connection is a small state machine
//! registered edge-triggered for reading and writing, driven until
//! `WouldBlock` on each event.
//!
//! The run goes through stages, in order, each ending by itself:
//!
//! 1. short: `short` connections, at most `short_parallel` at a time, each
//!    sending a few bytes, shutting down its writing side, checking the
//!    echo and the server's close; resets are spread over this stage;
//! 2. opening: `held` connections, each echoing one payload of up to
//!    `max_payload` bytes, all kept open until every one is verified;
//! 3. releasing: every held connection shuts down its writing side and
//!    waits for the server's close;
//! 4. finishing: the last dribblers finish, the never-readers are reset.
//!
//! Never-readers and dribblers misbehave through stages 1 to 3.

use super::payload::{Payload, Rng};
use super::plan::{Milestone, Plan, Stats};
use super::socket;
use evq::{Events, Interest, Poll, Token, Trigger};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// The largest read or write.
const CHUNK: usize = 64 * 1024;

/// How often the observer hears a [`Milestone::Tick`].
const TICK: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Short,
    Held,
    Dribble,
    /// Writes this many bytes once connected, then resets.
    Reset(u64),
    NeverRead(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Short,
    Opening,
    Releasing,
    Finishing,
}

struct Connection {
    stream: TcpStream,
    role: Role,
    payload: Payload,
    opened: Instant,
    connected: bool,
    /// No echoed byte yet: it may still wait in the accept queue.
    awaiting_echo: bool,
    written: u64,
    verified: u64,
    write_shut: bool,
    /// A held connection may shut down its writing side.
    released: bool,
    next_dribble: Option<Instant>,
}

/// The client: its poll, connections and counters.
struct Client<'a> {
    plan: &'a Plan,
    poll: Poll,
    connections: Vec<Option<Connection>>,
    free: Vec<usize>,
    closed: Vec<usize>,
    /// Sizes of held payloads, of short ones, and all seeds: apart, so the
    /// sizes do not depend on how misbehaving clients interleave.
    held_sizes: Rng,
    short_sizes: Rng,
    rng: Rng,
    next_source: usize,
    stats: Stats,
    stage: Stage,
    short_started: usize,
    short_open: usize,
    short_began: Option<Instant>,
    resets_started: usize,
    held_started: usize,
    held_open: usize,
    /// Held connections that failed before their echo was verified.
    held_failed: usize,
    held_began: Option<Instant>,
    awaiting_echo: usize,
    dribblers_open: usize,
    /// The slots of the open dribblers, so their timers are found without
    /// a walk over thousands of held connections.
    dribbler_slots: Vec<usize>,
    out: Vec<u8>,
    input: Vec<u8>,
    expected: Vec<u8>,
}

/// Runs the plan; `observe` hears each milestone as it passes.
pub fn run(plan: &Plan, mut observe: impl FnMut(Milestone, &Stats)) -> io::Result<Stats> {
    let mut client = Client {
        plan,
        poll: Poll::new()?,
        connections: Vec::new(),
        free: Vec::new(),
        closed: Vec::new(),
        held_sizes: Rng::new(plan.seed ^ 0x4845_4c44),
        short_sizes: Rng::new(plan.seed ^ 0x5348_4f52),
        rng: Rng::new(plan.seed),
        next_source: 0,
        stats: Stats {
            never_read_written: vec![0; plan.never_readers],
            ..Stats::default()
        },
        stage: Stage::Short,
        short_started: 0,
        short_open: 0,
        short_began: None,
        resets_started: 0,
        held_started: 0,
        held_open: 0,
        held_failed: 0,
        held_began: None,
        awaiting_echo: 0,
        dribblers_open: 0,
        dribbler_slots: Vec::new(),
        out: vec![0; CHUNK],
        input: vec![0; CHUNK],
        expected: vec![0; CHUNK],
    };
    let began = Instant::now();
    let mut next_tick = began + TICK;
    let mut warm_reported = false;
    let mut events = Events::with_capacity(1024);

    for index in 0..plan.never_readers {
        client.open(Role::NeverRead(index), 0)?;
    }
    loop {
        client.open_more()?;
        if client.advance(&mut observe, &mut warm_reported)? {
            break;
        }
        let now = Instant::now();
        if now >= next_tick {
            observe(Milestone::Tick, &client.stats);
            next_tick = now + TICK;
        }
        if now.duration_since(began) > plan.time_limit {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!(
                    "the load did not finish within {:?} (stage {:?}, {} short done, {} held verified, {} held closed, {} dribblers open)",
                    plan.time_limit,
                    client.stage,
                    client.stats.short_done,
                    client.stats.held_verified,
                    client.stats.held_closed,
                    client.dribblers_open
                ),
            ));
        }
        let wake = client
            .next_dribble()
            .map_or(next_tick, |at| at.min(next_tick));
        client
            .poll
            .poll(&mut events, Some(wake.saturating_duration_since(now)))?;
        for event in &events {
            let index = event.token().0;
            if let Some(Some(_)) = client.connections.get(index) {
                client.drive(index, event.is_error());
            }
        }
        client.dribble();
        client.free.append(&mut client.closed);
    }
    Ok(client.stats)
}

impl Client<'_> {
    /// Opens a connection of `role` with a `len`-byte payload.
    fn open(&mut self, role: Role, len: u64) -> io::Result<()> {
        let source = self.plan.sources[self.next_source % self.plan.sources.len()];
        self.next_source += 1;
        let stream = socket::connect_from(source, self.plan.server)
            .map_err(|e| io::Error::new(e.kind(), format!("connect from {source}: {e}")))?;
        let index = self.free.pop().unwrap_or(self.connections.len());
        self.poll.registry().register_with(
            &stream,
            Token(index),
            Interest::READABLE | Interest::WRITABLE,
            Trigger::Edge,
        )?;
        let awaiting_echo = matches!(role, Role::Short | Role::Held);
        self.awaiting_echo += usize::from(awaiting_echo);
        let connection = Connection {
            stream,
            role,
            payload: Payload::new(self.rng.next_u64(), len),
            opened: Instant::now(),
            connected: false,
            awaiting_echo,
            written: 0,
            verified: 0,
            write_shut: false,
            released: false,
            next_dribble: None,
        };
        if index == self.connections.len() {
            self.connections.push(Some(connection));
        } else {
            self.connections[index] = Some(connection);
        }
        if role == Role::Dribble {
            self.dribbler_slots.push(index);
        }
        Ok(())
    }

    /// Opens what the current stage asks for.
    fn open_more(&mut self) -> io::Result<()> {
        let plan = self.plan;
        if self.stage < Stage::Finishing {
            while self.dribblers_open < plan.dribblers {
                self.dribblers_open += 1;
                self.open(Role::Dribble, plan.dribble_bytes)?;
            }
        }
        match self.stage {
            Stage::Short => {
                while self.short_started < plan.short
                    && self.short_open < plan.short_parallel
                    && self.awaiting_echo < plan.connect_window
                {
                    self.short_began.get_or_insert_with(Instant::now);
                    self.short_started += 1;
                    self.short_open += 1;
                    let len = self.short_sizes.range(1, plan.short_max_payload);
                    self.open(Role::Short, len)?;
                }
                // Reset k starts once k / resets of the short connections have.
                while self.resets_started < plan.resets
                    && self.resets_started * plan.short <= self.short_started * plan.resets
                {
                    self.resets_started += 1;
                    let write_first = if self.resets_started.is_multiple_of(2) {
                        self.rng.range(1, CHUNK as u64)
                    } else {
                        0
                    };
                    self.open(Role::Reset(write_first), 0)?;
                }
            }
            Stage::Opening => {
                while self.held_started < plan.held && self.awaiting_echo < plan.connect_window {
                    self.held_began.get_or_insert_with(Instant::now);
                    self.held_started += 1;
                    self.held_open += 1;
                    self.stats.held_open_max = self.stats.held_open_max.max(self.held_open);
                    let len = self.held_sizes.range(1, plan.max_payload);
                    self.open(Role::Held, len)?;
                }
            }
            Stage::Releasing | Stage::Finishing => {}
        }
        Ok(())
    }

    /// Moves to the next stage when this one is done; `true` at the end.
    fn advance(
        &mut self,
        observe: &mut impl FnMut(Milestone, &Stats),
        warm_reported: &mut bool,
    ) -> io::Result<bool> {
        let plan = self.plan;
        if !*warm_reported && self.stats.short_done >= plan.short / 10 {
            *warm_reported = true;
            observe(Milestone::ShortWarm, &self.stats);
        }
        match self.stage {
            Stage::Short => {
                if self.short_started == plan.short
                    && self.short_open == 0
                    && self.resets_started == plan.resets
                    && self.stats.resets_done == plan.resets
                {
                    if let Some(began) = self.short_began {
                        self.stats.short_elapsed = began.elapsed();
                    }
                    observe(Milestone::ShortDone, &self.stats);
                    self.stage = Stage::Opening;
                }
            }
            Stage::Opening => {
                if self.held_started == plan.held
                    && self.stats.held_verified + self.held_failed == plan.held
                {
                    if let Some(began) = self.held_began {
                        self.stats.held_elapsed = began.elapsed();
                    }
                    observe(Milestone::AllHeld, &self.stats);
                    self.stage = Stage::Releasing;
                    for index in 0..self.connections.len() {
                        let held =
                            matches!(&self.connections[index], Some(c) if c.role == Role::Held);
                        if held {
                            self.connections[index].as_mut().unwrap().released = true;
                            self.drive(index, false);
                        }
                    }
                }
            }
            Stage::Releasing => {
                if self.held_open == 0 {
                    observe(Milestone::HeldClosed, &self.stats);
                    self.stage = Stage::Finishing;
                }
            }
            Stage::Finishing => {
                if self.dribblers_open == 0 {
                    for slot in &mut self.connections {
                        if let Some(connection) =
                            slot.take_if(|c| matches!(c.role, Role::NeverRead(_)))
                        {
                            // Unread echoes wait in its receive queue, so this
                            // close resets the connection whatever we ask.
                            socket::reset(connection.stream)?;
                        }
                    }
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The earliest dribbler write due.
    fn next_dribble(&self) -> Option<Instant> {
        self.dribbler_slots
            .iter()
            .filter_map(|&index| self.connections[index].as_ref()?.next_dribble)
            .min()
    }

    /// Makes the dribbler writes that are due.
    fn dribble(&mut self) {
        let now = Instant::now();
        for slot in 0..self.dribbler_slots.len() {
            let Some(&index) = self.dribbler_slots.get(slot) else {
                break; // finished and removed while driving an earlier one
            };
            let due = matches!(&self.connections[index], Some(c) if c.next_dribble.is_some_and(|at| at <= now));
            if due {
                self.drive(index, false);
            }
        }
    }

    /// Does what connection `index` can do now.
    fn drive(&mut self, index: usize, error: bool) {
        let result = self.step(index, error);
        let connection = self.connections[index]
            .as_ref()
            .expect("driven slot is open");
        let role = connection.role;
        match result {
            Ok(false) => {}
            Ok(true) => self.finish(index, None),
            Err(e) => {
                let what = format!(
                    "{role:?} connection ({} of {} bytes written, {} verified): {e}",
                    connection.written, connection.payload.len, connection.verified
                );
                self.finish(index, Some(what));
            }
        }
    }

    /// `Ok(true)` when the connection is done and can go.
    fn step(&mut self, index: usize, error: bool) -> io::Result<bool> {
        let plan = self.plan;
        let c = self.connections[index]
            .as_mut()
            .expect("driven slot is open");
        if !c.connected {
            if let Some(e) = c.stream.take_error()? {
                return Err(io::Error::new(e.kind(), format!("connect: {e}")));
            }
            if error {
                return Err(io::Error::other("connect: error event"));
            }
            // A connected socket has a peer; one still connecting has not.
            if c.stream.peer_addr().is_err() {
                return Ok(false);
            }
            c.connected = true;
            let took = c.opened.elapsed();
            self.stats.connect_max = self.stats.connect_max.max(took);
            self.stats.connect_slow += usize::from(took >= Duration::from_secs(1));
            match c.role {
                Role::Reset(write_first) => {
                    let len = (write_first as usize).min(CHUNK);
                    if len > 0 {
                        // Best effort: what it writes only matters to the server.
                        let _ = c.stream.write(&self.out[..len]);
                    }
                    return Ok(true);
                }
                Role::Dribble => c.next_dribble = Some(Instant::now()),
                _ => {}
            }
        }

        // Write.
        match c.role {
            Role::Short | Role::Held => {
                while c.written < c.payload.len {
                    let len = (c.payload.len - c.written).min(CHUNK as u64) as usize;
                    c.payload.fill(c.written, &mut self.out[..len]);
                    match c.stream.write(&self.out[..len]) {
                        Ok(n) => c.written += n as u64,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Role::Dribble => {
                if c.next_dribble.is_some_and(|at| at <= Instant::now()) {
                    if c.written < c.payload.len {
                        c.payload.fill(c.written, &mut self.out[..1]);
                        match c.stream.write(&self.out[..1]) {
                            Ok(n) => c.written += n as u64,
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                            Err(e) => return Err(e),
                        }
                    }
                    c.next_dribble =
                        (c.written < c.payload.len).then(|| Instant::now() + plan.dribble_pause);
                }
            }
            Role::NeverRead(n) => {
                while self.stats.never_read_written[n] < plan.never_read_bytes {
                    let left = plan.never_read_bytes - self.stats.never_read_written[n];
                    let len = left.min(CHUNK as u64) as usize;
                    match c.stream.write(&self.out[..len]) {
                        Ok(n_written) => self.stats.never_read_written[n] += n_written as u64,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                return Ok(false);
            }
            Role::Reset(_) => unreachable!("a reset connection is gone once connected"),
        }
        let may_shut = c.role != Role::Held || c.released;
        if c.written == c.payload.len && may_shut && !c.write_shut {
            c.stream.shutdown(Shutdown::Write)?;
            c.write_shut = true;
        }

        // Read and check.
        loop {
            match c.stream.read(&mut self.input) {
                Ok(0) => {
                    if c.verified < c.payload.len {
                        return Err(io::Error::other(format!(
                            "end of file after {} of {} echoed bytes",
                            c.verified, c.payload.len
                        )));
                    }
                    if !c.write_shut {
                        return Err(io::Error::other("the server closed first"));
                    }
                    return Ok(true);
                }
                Ok(n) => {
                    if c.awaiting_echo {
                        c.awaiting_echo = false;
                        self.awaiting_echo -= 1;
                    }
                    if c.verified + n as u64 > c.payload.len {
                        return Err(io::Error::other(format!(
                            "{} bytes echoed, {} sent",
                            c.verified + n as u64,
                            c.payload.len
                        )));
                    }
                    if let Err(at) =
                        c.payload
                            .check(c.verified, &self.input[..n], &mut self.expected)
                    {
                        return Err(io::Error::other(format!("echoed byte {at} differs")));
                    }
                    c.verified += n as u64;
                    self.stats.bytes_verified += n as u64;
                    if c.role == Role::Held && c.verified == c.payload.len {
                        self.stats.held_verified += 1;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Closes connection `index`, counting it as done or as a problem.
    fn finish(&mut self, index: usize, problem: Option<String>) {
        let c = self.connections[index]
            .take()
            .expect("finished slot is open");
        // Deregister before the socket closes: on io_uring (the bench
        // builds evq with the feature) a registration outlives a close
        // (see `Registry`), and the number is soon reused. Each open
        // connection is registered, so only an OS error can come back, and
        // the close that follows ends the registration on epoll anyway.
        let _ = self.poll.registry().deregister(&c.stream);
        self.closed.push(index);
        if c.awaiting_echo {
            self.awaiting_echo -= 1;
        }
        let ok = problem.is_none();
        match c.role {
            Role::Short => {
                self.short_open -= 1;
                self.stats.short_done += usize::from(ok);
            }
            Role::Held => {
                self.held_open -= 1;
                self.stats.held_closed += usize::from(ok);
                self.held_failed += usize::from(!ok && c.verified < c.payload.len);
            }
            Role::Dribble => {
                self.dribbler_slots.retain(|&slot| slot != index);
                self.dribblers_open -= 1;
                self.stats.dribbles_done += usize::from(ok);
            }
            Role::Reset(_) => {
                self.stats.resets_done += 1;
                if let Err(e) = socket::reset(c.stream) {
                    self.stats.problem(format!("reset: {e}"));
                }
            }
            Role::NeverRead(_) => {}
        }
        if let Some(problem) = problem {
            self.stats.problem(problem);
        }
    }
}
