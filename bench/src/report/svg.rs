//! `--plot`: a hand-made SVG bar chart of each loop's paired ratio to the
//! raw C loop, one group of bars per case (shorter is faster; 1 is the C
//! floor, and the dashed line the 5% target).

use super::title;
use crate::event_loop::LoopKind::{self, RawC};
use crate::harness::CaseResult;
use std::fmt::Write;

const LABEL_WIDTH: f64 = 330.0;
const PLOT_WIDTH: f64 = 560.0;
const BAR: f64 = 7.0;
const GAP: f64 = 9.0;
const TOP: f64 = 60.0;
/// Ratios beyond this are drawn clipped, with their value written out.
const CLIP: f64 = 4.0;

fn color(kind: LoopKind) -> &'static str {
    match kind {
        LoopKind::Evq => "#1f77b4",
        LoopKind::EvqIoUring => "#9467bd",
        LoopKind::Mio => "#ff7f0e",
        LoopKind::Polling => "#2ca02c",
        LoopKind::RawC => "#7f7f7f",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart.
pub fn render(results: &[CaseResult], loops: &[LoopKind]) -> String {
    let bars: Vec<LoopKind> = loops.iter().copied().filter(|&k| k != RawC).collect();
    let group = bars.len() as f64 * BAR + GAP;
    let max = results
        .iter()
        .flat_map(|case| {
            bars.iter()
                .filter_map(|&k| case.ratio(k, RawC))
                .map(|r| r.median)
        })
        .fold(1.1_f64, f64::max)
        .min(CLIP);
    let max = (max * 2.0).ceil() / 2.0;
    let x = |ratio: f64| LABEL_WIDTH + PLOT_WIDTH * ratio.min(max) / max;
    let height = TOP + group * results.len() as f64 + 40.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + 80.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">Time per operation relative to the raw C epoll loop (median of paired ratios; shorter is faster)</text>"#
    );
    for (i, &kind) in bars.iter().enumerate() {
        let lx = LABEL_WIDTH + i as f64 * 110.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="30" width="12" height="12" fill="{}"/>"#,
            color(kind)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="40">{}</text>"#,
            lx + 16.0,
            kind.name()
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="40">black line: raw C (1.0); red dashed: 1.05</text>"#,
        LABEL_WIDTH + bars.len() as f64 * 110.0
    );
    // Grid: every 0.5, the C floor at 1 and the 5% target.
    let mut tick = 0.0;
    while tick <= max + 1e-9 {
        let tx = x(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{tx}" y1="{TOP}" x2="{tx}" y2="{}" stroke="#ddd"/><text x="{tx}" y="{}" text-anchor="middle">{tick:.1}</text>"##,
            height - 35.0,
            height - 22.0
        );
        tick += 0.5;
    }
    let _ = writeln!(
        svg,
        r#"<line x1="{0}" y1="{TOP}" x2="{0}" y2="{1}" stroke="black"/>"#,
        x(1.0),
        height - 35.0
    );
    let _ = writeln!(
        svg,
        r#"<line x1="{0}" y1="{TOP}" x2="{0}" y2="{1}" stroke="red" stroke-dasharray="4 3"/>"#,
        x(1.05),
        height - 35.0
    );

    for (row, case) in results.iter().enumerate() {
        let y = TOP + row as f64 * group;
        let label = format!("{} {}", title(case.scenario), case.label);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LABEL_WIDTH - 6.0,
            y + group / 2.0,
            escape(&label)
        );
        for (i, &kind) in bars.iter().enumerate() {
            let Some(ratio) = case.ratio(kind, RawC) else {
                continue;
            };
            let by = y + i as f64 * BAR;
            let w = x(ratio.median) - LABEL_WIDTH;
            let _ = writeln!(
                svg,
                r#"<rect x="{LABEL_WIDTH}" y="{by}" width="{w:.1}" height="{}" fill="{}"><title>{} {}: {:.3}</title></rect>"#,
                BAR - 1.0,
                color(kind),
                kind.name(),
                escape(&case.label),
                ratio.median
            );
            if ratio.median > max {
                let _ = writeln!(
                    svg,
                    r#"<text x="{}" y="{}" font-size="9">{:.2}</text>"#,
                    x(max) + 3.0,
                    by + BAR - 1.0,
                    ratio.median
                );
            }
        }
    }
    let _ = writeln!(svg, "</svg>");
    svg
}
