//! The Markdown report printed on stdout.

use super::info::RunInfo;
use super::targets::Target;
use super::{short, title};
use crate::event_loop::LoopKind::{self, Evq, EvqIoUring, Mio, Polling, RawC};
use crate::harness::{CaseResult, LoopResult};
use std::fmt::Write;

/// The whole report.
pub fn render(
    info: &RunInfo,
    results: &[CaseResult],
    targets: &[Target],
    loops: &[LoopKind],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# evq-bench\n");
    let _ = writeln!(out, "- command: `{}`", info.command);
    let _ = writeln!(out, "- CPU: {}; kernel {}", info.cpu, info.kernel);
    let _ = writeln!(
        out,
        "- load average (1, 5, 15 min): {} at start, {} at end",
        info.load_before, info.load_after
    );
    let _ = writeln!(
        out,
        "- {} measured rounds per case after a discarded warm-up round, samples of ~{} ms, loops interleaved in the order {}; wall time {:.0} s",
        info.rounds,
        info.sample_ms,
        loops.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
        info.seconds
    );
    let _ = writeln!(
        out,
        "- CPU idle states: {}",
        if info.no_idle {
            "held off for the run (PM QoS: /dev/cpu_dma_latency = 0), so cross-thread wake-ups do not pay the hypervisor's halt/wake latency"
        } else {
            "allowed (cross-thread wake-ups include the idle CPU's wake-up latency)"
        }
    );
    let _ = writeln!(
        out,
        "- RLIMIT_NOFILE: soft {}, hard {}",
        info.fd_limit.0, info.fd_limit.1
    );
    let _ = writeln!(
        out,
        "- ns/op cells: median [min–max] over the rounds; ratios are paired (median over rounds of the two loops' ratio in the same round); syscalls/op {}",
        if info.counters {
            "counted in-kernel (perf tracepoint counters) in one extra, untimed sample per loop"
        } else {
            "not counted (no tracepoint counters here; use --syscalls)"
        }
    );

    let mut scenario = "";
    let mut start = 0;
    for (i, case) in results.iter().enumerate() {
        if case.scenario != scenario {
            if i > start {
                scenario_tables(&mut out, &results[start..i], loops);
            }
            scenario = case.scenario;
            start = i;
        }
    }
    if start < results.len() {
        scenario_tables(&mut out, &results[start..], loops);
    }

    if !targets.is_empty() {
        let _ = writeln!(out, "\n## Targets\n");
        let _ = writeln!(out, "| target | result | numbers |");
        let _ = writeln!(out, "|---|---|---|");
        for target in targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                target.goal,
                target.verdict.word(),
                target.detail
            );
        }
    }
    out
}

fn cell(result: Option<&LoopResult>) -> String {
    match result.and_then(LoopResult::spread) {
        Some(s) => format!("{} [{}–{}]", short(s.median), short(s.min), short(s.max)),
        None => "–".to_owned(),
    }
}

fn ratio_cell(case: &CaseResult, a: LoopKind, b: LoopKind, range: bool) -> String {
    match case.ratio(a, b) {
        Some(r) if range => format!("{:.3} [{:.2}–{:.2}]", r.median, r.min, r.max),
        Some(r) => format!("{:.3}", r.median),
        None => "–".to_owned(),
    }
}

fn scenario_tables(out: &mut String, cases: &[CaseResult], loops: &[LoopKind]) {
    let first = &cases[0];
    let _ = writeln!(out, "\n## {} — ns per operation\n", title(first.scenario));
    let names: Vec<&str> = loops.iter().map(|k| k.name()).collect();
    let _ = writeln!(
        out,
        "| case | unit | {} | evq/C | evq/io_uring/C | mio/C | polling/C | evq/mio | evq/polling |",
        names.join(" | ")
    );
    let _ = writeln!(
        out,
        "|---|---|{}---|---|---|---|---|---|",
        "---|".repeat(loops.len())
    );
    for case in cases {
        let cells: Vec<String> = loops.iter().map(|&k| cell(case.get(k))).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.label,
            case.unit,
            cells.join(" | "),
            ratio_cell(case, Evq, RawC, true),
            ratio_cell(case, EvqIoUring, RawC, true),
            ratio_cell(case, Mio, RawC, false),
            ratio_cell(case, Polling, RawC, false),
            ratio_cell(case, Evq, Mio, true),
            ratio_cell(case, Evq, Polling, false),
        );
    }

    if cases.iter().any(|case| {
        case.loops
            .iter()
            .any(|l| l.syscalls.is_some() || l.strace.is_some())
    }) {
        let _ = writeln!(
            out,
            "\nSyscalls per operation: total (epoll_wait + epoll_ctl + other){}\n",
            if cases
                .iter()
                .any(|c| c.loops.iter().any(|l| l.strace.is_some()))
            {
                "; strace -f -c in the second line of a cell"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "| case | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(loops.len()));
        for case in cases {
            let cells: Vec<String> = loops
                .iter()
                .map(|&k| {
                    let Some(result) = case.get(k) else {
                        return "–".to_owned();
                    };
                    let mut text = match result.syscalls {
                        Some(s) => format!(
                            "{} ({} + {} + {})",
                            short(s.total),
                            short(s.wait),
                            short(s.ctl),
                            short(s.other())
                        ),
                        None => "–".to_owned(),
                    };
                    if let Some(strace) = &result.strace {
                        let calls: Vec<String> = strace
                            .calls
                            .iter()
                            .take(5)
                            .map(|(name, n)| format!("{name} {}", short(*n)))
                            .collect();
                        let calls = if calls.is_empty() {
                            "none".to_owned()
                        } else {
                            calls.join(", ")
                        };
                        let _ = write!(text, "<br>strace {}: {calls}", short(strace.total));
                    }
                    text
                })
                .collect();
            let _ = writeln!(out, "| {} | {} |", case.label, cells.join(" | "));
        }
    }

    let mut extras: Vec<&str> = Vec::new();
    for case in cases {
        for result in &case.loops {
            for (key, _) in &result.extra {
                if !extras.contains(key) {
                    extras.push(key);
                }
            }
        }
    }
    if !extras.is_empty() {
        let _ = writeln!(
            out,
            "\nOther figures (per second: from the median; others: last timed sample, or the counting sample for syscalls)\n"
        );
        let _ = writeln!(out, "| case | figure | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(loops.len()));
        for case in cases {
            for key in &extras {
                let cells: Vec<String> = loops
                    .iter()
                    .map(|&k| {
                        case.get(k)
                            .and_then(|r| r.extra.iter().find(|(name, _)| name == key))
                            .map_or("–".to_owned(), |(_, v)| short(*v))
                    })
                    .collect();
                if cells.iter().any(|c| c != "–") {
                    let _ = writeln!(out, "| {} | {} | {} |", case.label, key, cells.join(" | "));
                }
            }
        }
    }

    let notes: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            case.note
                .as_ref()
                .map(|note| format!("- {}: {note}", case.label))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\n{}", notes.join("\n"));
    }
}
