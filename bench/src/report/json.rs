//! The machine-readable report (`--json`), written without dependencies.

use super::info::RunInfo;
use super::targets::Target;
use crate::event_loop::LoopKind::{self, Evq, Mio, Polling, RawC};
use crate::harness::CaseResult;
use crate::stats::Spread;
use std::fmt::Write;

/// A JSON string literal.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` for NaN and infinities).
fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "null".to_owned()
    }
}

fn spread(s: Option<Spread>) -> String {
    match s {
        Some(s) => format!(
            "{{\"median\":{},\"min\":{},\"max\":{}}}",
            number(s.median),
            number(s.min),
            number(s.max)
        ),
        None => "null".to_owned(),
    }
}

fn object(fields: &[(&str, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", string(k)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn array(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

fn case_json(case: &CaseResult, loops: &[LoopKind]) -> String {
    let per_loop: Vec<(&str, String)> = loops
        .iter()
        .filter_map(|&kind| {
            let result = case.get(kind)?;
            let syscalls = result.syscalls.map_or("null".to_owned(), |s| {
                object(&[
                    ("total", number(s.total)),
                    ("epoll_wait", number(s.wait)),
                    ("epoll_ctl", number(s.ctl)),
                    ("other", number(s.other())),
                ])
            });
            let strace = result.strace.as_ref().map_or("null".to_owned(), |s| {
                let calls: Vec<(&str, String)> = s
                    .calls
                    .iter()
                    .map(|(k, v)| (k.as_str(), number(*v)))
                    .collect();
                object(&[("total", number(s.total)), ("calls", object(&calls))])
            });
            let extra: Vec<(&str, String)> =
                result.extra.iter().map(|(k, v)| (*k, number(*v))).collect();
            Some((
                kind.name(),
                object(&[
                    ("ns_per_op", spread(result.spread())),
                    ("rounds_ns", array(result.ns.iter().map(|v| number(*v)))),
                    ("ratio_to_raw_c", spread(case.ratio(kind, RawC))),
                    ("syscalls_per_op", syscalls),
                    ("strace_per_op", strace),
                    ("extra", object(&extra)),
                ]),
            ))
        })
        .collect();
    object(&[
        ("scenario", string(case.scenario)),
        ("index", case.index.to_string()),
        ("case", string(&case.label)),
        ("unit", string(case.unit)),
        (
            "note",
            case.note.as_deref().map_or("null".to_owned(), string),
        ),
        ("ops_per_sample", case.ops.to_string()),
        ("loops", object(&per_loop)),
        ("evq_to_mio", spread(case.ratio(Evq, Mio))),
        ("evq_to_polling", spread(case.ratio(Evq, Polling))),
    ])
}

/// The whole run as JSON.
pub fn render(
    info: &RunInfo,
    results: &[CaseResult],
    targets: &[Target],
    loops: &[LoopKind],
) -> String {
    let run = object(&[
        ("command", string(&info.command)),
        ("cpu", string(&info.cpu)),
        ("kernel", string(&info.kernel)),
        ("load_before", string(&info.load_before)),
        ("load_after", string(&info.load_after)),
        ("rounds", info.rounds.to_string()),
        ("sample_ms", info.sample_ms.to_string()),
        ("syscall_counters", info.counters.to_string()),
        ("cpu_idle_held_off", info.no_idle.to_string()),
        ("fd_limit_soft", info.fd_limit.0.to_string()),
        ("fd_limit_hard", info.fd_limit.1.to_string()),
        ("seconds", number(info.seconds)),
    ]);
    let targets = array(targets.iter().map(|t| {
        object(&[
            ("goal", string(&t.goal)),
            ("result", string(t.verdict.word())),
            ("numbers", string(&t.detail)),
        ])
    }));
    let cases = array(results.iter().map(|case| case_json(case, loops)));
    format!(
        "{}\n",
        object(&[("run", run), ("cases", cases), ("targets", targets)])
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped() {
        assert_eq!(super::string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(super::number(f64::NAN), "null");
    }
}
