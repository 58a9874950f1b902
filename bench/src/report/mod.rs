//! Turning results into a Markdown table, JSON, an SVG chart, and target
//! verdicts.

pub mod info;
pub mod json;
pub mod markdown;
pub mod svg;
pub mod targets;

/// The scenario's number in the issue (`S1` ... `S7`) and name.
pub fn title(scenario: &str) -> String {
    let number = crate::scenarios::NAMES
        .iter()
        .position(|&name| name == scenario)
        .map_or(0, |i| i + 1);
    format!("S{number} {scenario}")
}

/// A number with about three significant digits, for tables.
pub fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.1 || magnitude == 0.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}
