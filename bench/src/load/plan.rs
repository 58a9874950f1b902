//! What a load run is given and what it gives back: the [`Plan`], the
//! [`Milestone`]s at which the server is looked at, and the [`Stats`].

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// At most this many problems are kept word for word.
const KEPT_PROBLEMS: usize = 10;

/// What the load consists of.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The server.
    pub server: SocketAddrV4,
    /// Source addresses, used in turn.
    pub sources: Vec<Ipv4Addr>,
    /// Connections held open at once.
    pub held: usize,
    /// Largest payload of a held connection (each draws 1..=this).
    pub max_payload: u64,
    /// Short connections, one after another.
    pub short: usize,
    /// Short connections open at once.
    pub short_parallel: usize,
    /// Largest payload of a short connection.
    pub short_max_payload: u64,
    /// Connections reset as soon as they are connected.
    pub resets: usize,
    /// Connections that write and never read.
    pub never_readers: usize,
    /// How much each never-reader tries to write.
    pub never_read_bytes: u64,
    /// Dribblers open at once.
    pub dribblers: usize,
    /// Bytes each dribbler sends, one per write.
    pub dribble_bytes: u64,
    /// The pause between two of its writes.
    pub dribble_pause: Duration,
    /// Connections opened but not yet echoing (so possibly still in the
    /// server's accept queue) at most.
    pub connect_window: usize,
    /// Seed for payload sizes and contents.
    pub seed: u64,
    /// The whole run must end within this.
    pub time_limit: Duration,
}

/// Points at which the observer looks at the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Milestone {
    /// Another second went by.
    Tick,
    /// A tenth of the short connections are done.
    ShortWarm,
    /// All short connections and resets are done.
    ShortDone,
    /// Every held connection is open and verified.
    AllHeld,
    /// Every held connection is closed.
    HeldClosed,
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Short connections completed (echo verified, closed by the server).
    pub short_done: usize,
    /// Time from the first short connect to the last close.
    pub short_elapsed: Duration,
    /// Held connections whose whole payload came back.
    pub held_verified: usize,
    /// Held connections open at the most.
    pub held_open_max: usize,
    /// Time from the first held connect until all were verified.
    pub held_elapsed: Duration,
    /// Held connections closed cleanly after release.
    pub held_closed: usize,
    /// Resets sent.
    pub resets_done: usize,
    /// Dribblers completed (echo verified).
    pub dribbles_done: usize,
    /// Echoed bytes checked, of every connection kind.
    pub bytes_verified: u64,
    /// What each never-reader managed to write before the run ended.
    pub never_read_written: Vec<u64>,
    /// The slowest connect.
    pub connect_max: Duration,
    /// Connects slower than a second (a SYN retransmit: the server's
    /// accept queue overflowed).
    pub connect_slow: usize,
    /// Problems, the first few in words.
    pub problems: Vec<String>,
    /// How many problems there were in all.
    pub problem_count: usize,
}

impl Stats {
    pub(super) fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < KEPT_PROBLEMS {
            self.problems.push(text);
        }
    }
}
