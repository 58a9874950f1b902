//! The checker: a poll's events against the model's expectations.

use super::bits::Flags;
use super::kernel::{Expectation, Origin};
use super::op::Hex;
use evq::Token;
use std::fmt;

/// One reported event, as the checker sees it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its token.
    pub token: Token,
    /// Its accessor flags.
    pub flags: Flags,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", Hex(self.token), self.flags)
    }
}

/// Checks a poll's events against the model's expectations. Returns where
/// each event came from, for [`Model::polled`](super::kernel::Model::polled), or what is wrong.
///
/// Tokens identify registrations, but on io_uring a closed fd's
/// registration lingers and may carry the token a new one uses too: events
/// are matched to expectations of their token whose flags fit (a bipartite
/// matching that covers the ones that must be reported first).
pub fn check_poll(
    expected: &[Expectation],
    seen: &[Seen],
    capacity: usize,
) -> Result<Vec<Origin>, String> {
    if seen.len() > capacity {
        return Err(format!("{} events in a buffer of {capacity}", seen.len()));
    }
    let fits = |e: usize, v: usize| {
        expected[e].token == seen[v].token
            && expected[e]
                .readiness
                .allowed_flags()
                .contains(&seen[v].flags)
    };
    let mut event_to: Vec<Option<usize>> = vec![None; seen.len()];
    let order = (0..expected.len())
        .filter(|&e| expected[e].must)
        .chain((0..expected.len()).filter(|&e| !expected[e].must));
    for e in order {
        let mut visited = vec![false; seen.len()];
        augment(e, &fits, &mut event_to, &mut visited);
    }
    for (v, event) in seen.iter().enumerate() {
        if event_to[v].is_some() {
            continue;
        }
        let same_token = |e: &&Expectation| e.token == event.token;
        let expectations = expected.iter().filter(same_token).count();
        let events = seen.iter().filter(|s| s.token == event.token).count();
        return Err(match expected.iter().find(|e| e.token == event.token) {
            None => format!("{event:?} must not be reported"),
            Some(_) if events > expectations => {
                format!("{} reported twice in one poll", Hex(event.token))
            }
            Some(expectation) => format!(
                "{event:?}: flags must be one of {:?} (conditions {:?})",
                expectation.readiness.allowed_flags(),
                expectation.readiness
            ),
        });
    }
    if seen.len() < capacity {
        if let Some(missing) =
            (0..expected.len()).find(|&e| expected[e].must && !event_to.contains(&Some(e)))
        {
            return Err(format!(
                "{} must be reported (conditions {:?})",
                Hex(expected[missing].token),
                expected[missing].readiness
            ));
        }
    }
    Ok(event_to
        .into_iter()
        .map(|e| expected[e.expect("every event is matched")].origin)
        .collect())
}

/// Kuhn's augmenting path from expectation `e`: matches it to an event,
/// moving earlier matches along if that frees one.
fn augment(
    e: usize,
    fits: &impl Fn(usize, usize) -> bool,
    event_to: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for v in 0..event_to.len() {
        if visited[v] || !fits(e, v) {
            continue;
        }
        visited[v] = true;
        let free = match event_to[v] {
            None => true,
            Some(other) => augment(other, fits, event_to, visited),
        };
        if free {
            event_to[v] = Some(e);
            return true;
        }
    }
    false
}
