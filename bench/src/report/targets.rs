//! The targets, checked against a run.

use super::short;
use crate::event_loop::LoopKind::{self, Evq, Mio, RawC};
use crate::harness::CaseResult;
use crate::stats::Spread;

/// How a target fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Met.
    Met,
    /// Missed by the median, but the per-round ratios straddle the bound:
    /// the difference is within this run's noise.
    Noise,
    /// Missed.
    Missed,
    /// Not measured in this run (scenario or loop not run, no counters).
    Unknown,
}

impl Verdict {
    /// The word in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Noise => "within noise",
            Verdict::Missed => "MISSED",
            Verdict::Unknown => "not measured",
        }
    }
}

/// One checked target.
#[derive(Clone, Debug)]
pub struct Target {
    /// What the issue asks.
    pub goal: String,
    /// How it fared.
    pub verdict: Verdict,
    /// The numbers behind the verdict.
    pub detail: String,
}

fn cases<'a>(
    results: &'a [CaseResult],
    scenario: &'a str,
) -> impl Iterator<Item = &'a CaseResult> + 'a {
    results.iter().filter(move |case| case.scenario == scenario)
}

/// Checks `evq / other <= bound` in every case of `scenario`; reports the
/// worst case.
fn ratio_target(results: &[CaseResult], scenario: &str, other: LoopKind, bound: f64) -> Target {
    let name = if other == RawC { "raw C" } else { other.name() };
    let goal = format!(
        "{}: evq / {name} ≤ {bound:.2} in every case",
        super::title(scenario)
    );
    let mut worst: Option<(&CaseResult, Spread)> = None;
    let mut verdict = Verdict::Unknown;
    let mut missed = Vec::new();
    for case in cases(results, scenario) {
        let Some(ratio) = case.ratio(Evq, other) else {
            continue;
        };
        let this = if ratio.median <= bound {
            Verdict::Met
        } else if ratio.min <= bound {
            Verdict::Noise
        } else {
            missed.push(describe(case, ratio));
            Verdict::Missed
        };
        verdict = match (verdict, this) {
            (Verdict::Missed, _) | (_, Verdict::Missed) => Verdict::Missed,
            (Verdict::Noise, _) | (_, Verdict::Noise) => Verdict::Noise,
            _ => Verdict::Met,
        };
        if worst.is_none_or(|(_, w)| ratio.median > w.median) {
            worst = Some((case, ratio));
        }
    }
    let detail = match worst {
        _ if !missed.is_empty() => format!("missed (every round above): {}", missed.join("; ")),
        Some((case, ratio)) => format!("worst median: {}", describe(case, ratio)),
        None => String::new(),
    };
    Target {
        goal,
        verdict,
        detail,
    }
}

/// `label at median [min–max]`.
fn describe(case: &CaseResult, ratio: Spread) -> String {
    format!(
        "{} at {:.3} [{:.3}–{:.3}]",
        case.label, ratio.median, ratio.min, ratio.max
    )
}

fn evq_median(case: &CaseResult) -> Option<f64> {
    case.get(Evq)?.spread().map(|s| s.median)
}

/// Every target of the issue, in its order.
pub fn check(results: &[CaseResult]) -> Vec<Target> {
    let mut targets = Vec::new();
    for scenario in ["chain", "idle-poll", "sparse"] {
        targets.push(ratio_target(results, scenario, RawC, 1.05));
        targets.push(ratio_target(results, scenario, Mio, 1.0));
    }

    // S3 flat: the largest N against the smallest.
    let sparse: Vec<&CaseResult> = cases(results, "sparse").collect();
    let flat = match (sparse.first(), sparse.last()) {
        (Some(small), Some(large)) if sparse.len() > 1 => {
            match (evq_median(small), evq_median(large)) {
                (Some(a), Some(b)) => {
                    let growth = b / a;
                    let verdict = if growth <= 1.10 {
                        Verdict::Met
                    } else {
                        Verdict::Missed
                    };
                    (
                        verdict,
                        format!(
                            "evq {} → {}: {:.0} → {:.0} ns ({growth:.3}×)",
                            small.label, large.label, a, b
                        ),
                    )
                }
                _ => (Verdict::Unknown, String::new()),
            }
        }
        _ => (Verdict::Unknown, String::new()),
    };
    targets.push(Target {
        goal: "S3 sparse: evq flat within 10% from smallest to largest N".into(),
        verdict: flat.0,
        detail: flat.1,
    });

    // S2: exactly one syscall per poll(Some(0)).
    let per_poll: Vec<(String, f64)> = cases(results, "idle-poll")
        .filter_map(|case| Some((case.label.clone(), case.get(Evq)?.syscalls?.total)))
        .collect();
    let verdict = if per_poll.is_empty() {
        Verdict::Unknown
    } else if per_poll.iter().all(|(_, n)| (n - 1.0).abs() < 0.01) {
        Verdict::Met
    } else {
        Verdict::Missed
    };
    let detail = per_poll
        .iter()
        .map(|(label, n)| format!("{label}: {n:.3}"))
        .collect::<Vec<_>>()
        .join(", ");
    targets.push(Target {
        goal: "S2 idle-poll: exactly 1 syscall per poll(Some(0))".into(),
        verdict,
        detail,
    });

    // S6: at most one syscall per wake, none while one is pending.
    let flood = cases(results, "waker")
        .find(|case| case.unit == "wake")
        .and_then(|case| case.get(Evq));
    let (at_most_one, coalesced) = match flood.and_then(|evq| Some((evq, evq.syscalls?))) {
        Some((evq, syscalls)) => {
            let delivered = evq
                .extra
                .iter()
                .find(|(k, _)| *k == "delivered/wake")
                .map_or(f64::NAN, |(_, v)| *v);
            let one = Target {
                goal: "S6 waker: at most 1 syscall per wake".into(),
                verdict: if syscalls.total <= 1.01 {
                    Verdict::Met
                } else {
                    Verdict::Missed
                },
                detail: format!("flood: {} syscalls per wake", short(syscalls.total)),
            };
            let none = Target {
                goal:
                    "S6 waker: no syscall when a wake is already pending (≤ 1 per delivered event)"
                        .into(),
                verdict: if syscalls.total <= delivered * 1.01 + 1e-3 {
                    Verdict::Met
                } else {
                    Verdict::Missed
                },
                detail: format!(
                    "flood: {} syscalls per wake, {} events delivered per wake",
                    short(syscalls.total),
                    short(delivered)
                ),
            };
            (one, none)
        }
        None => (
            Target {
                goal: "S6 waker: at most 1 syscall per wake".into(),
                verdict: Verdict::Unknown,
                detail: String::new(),
            },
            Target {
                goal: "S6 waker: no syscall when a wake is already pending".into(),
                verdict: Verdict::Unknown,
                detail: String::new(),
            },
        ),
    };
    targets.push(at_most_one);
    targets.push(coalesced);
    let ping_pong: Vec<CaseResult> = cases(results, "waker")
        .filter(|case| case.unit == "round trip")
        .cloned()
        .collect();
    let mut round_trip = ratio_target(&ping_pong, "waker", Mio, 1.0);
    round_trip.goal = "S6 waker: round trip evq / mio ≤ 1.00".into();
    targets.push(round_trip);

    for scenario in ["churn", "rearm"] {
        targets.push(ratio_target(results, scenario, Mio, 1.0));
    }
    let edge = cases(results, "rearm")
        .find(|case| case.label == "edge")
        .and_then(|case| case.get(Evq)?.syscalls);
    targets.push(match edge {
        Some(syscalls) => Target {
            goal: "S5 rearm: edge cycle with no epoll_ctl".into(),
            verdict: if syscalls.ctl == 0.0 {
                Verdict::Met
            } else {
                Verdict::Missed
            },
            detail: format!(
                "evq: {:.3} epoll_ctl, {:.3} syscalls per cycle",
                syscalls.ctl, syscalls.total
            ),
        },
        None => Target {
            goal: "S5 rearm: edge cycle with no epoll_ctl".into(),
            verdict: Verdict::Unknown,
            detail: String::new(),
        },
    });
    targets
}
