//! Charts as SVG, drawn here: no script, no library in the page.

use std::collections::BTreeMap;

use maud::{Markup, html};

use crate::time::Millis;

/// One week's hours.
#[derive(Debug, Default, Clone)]
pub struct Week {
    /// Monday 00:00, local time.
    pub start: Millis,
    pub by_client: BTreeMap<String, f64>,
    pub billable: f64,
    pub non_billable: f64,
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 28.0;

/// Stacked bars of hours per client per week, with the billable share as a
/// line of figures under each bar and a legend of clients.
pub fn weekly_bars(weeks: &[Week]) -> Markup {
    let clients: Vec<&String> = {
        let mut all: BTreeMap<&String, f64> = BTreeMap::new();
        for w in weeks {
            for (c, h) in &w.by_client {
                *all.entry(c).or_default() += h;
            }
        }
        let mut v: Vec<(&String, f64)> = all.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.into_iter().map(|(c, _)| c).collect()
    };
    let max = weeks
        .iter()
        .map(|w| w.by_client.values().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let top = nice_ceiling(max);
    let plot_h = H - BOTTOM - 10.0;
    let slot = (W - LEFT) / weeks.len().max(1) as f64;
    let bar_w = slot * 0.6;
    let y = |h: f64| 10.0 + plot_h * (1.0 - h / top);
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {W} {H}")) role="img" aria-label="Hours per client per week" {
                @for i in 0..=4 {
                    @let v = top * f64::from(i) / 4.0;
                    line.grid x1=(LEFT) x2=(W) y1=(format!("{:.1}", y(v))) y2=(format!("{:.1}", y(v))) {}
                    text.axis x=(LEFT - 6.0) y=(format!("{:.1}", y(v) + 4.0)) text-anchor="end" { (format!("{v:.0}")) }
                }
                @for (i, w) in weeks.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                    @for (ci, c, h, below) in stack(w, &clients) {
                        @let (y0, y1) = (y(below + h), y(below));
                        rect class=(format!("c{}", ci % 8)) x=(format!("{x:.1}")) y=(format!("{y0:.1}"))
                            width=(format!("{bar_w:.1}")) height=(format!("{:.1}", (y1 - y0).max(0.0))) {
                            title { (c) ": " (format!("{h:.1}")) " h" }
                        }
                    }
                    text.axis x=(format!("{:.1}", x + bar_w / 2.0)) y=(format!("{:.1}", H - 12.0)) text-anchor="middle" {
                        (week_label(w.start))
                    }
                    text.axis.billable x=(format!("{:.1}", x + bar_w / 2.0)) y=(format!("{:.1}", H - 1.0)) text-anchor="middle" {
                        (format!("{:.0}/{:.0} h", w.billable, w.billable + w.non_billable))
                    }
                }
            }
            figcaption {
                @for (ci, c) in clients.iter().enumerate() {
                    span.legend { span class=(format!("swatch c{}", ci % 8)) {} (c) }
                }
                span.muted { " · under each week: billable / all hours" }
            }
        }
    }
}

/// One work session on the timeline: its day row and hours within the day.
#[derive(Debug, Clone)]
pub struct Span {
    /// Row label (the local day).
    pub day: String,
    /// Local hours since midnight, start and end (end may pass 24 for a
    /// session over midnight: it is cut at the day's end).
    pub from: f64,
    pub to: f64,
    pub label: String,
    pub billable: bool,
}

/// The last days' sessions as bars on a 24-hour axis, a row per day.
pub fn timeline(days: &[String], spans: &[Span]) -> Markup {
    let row = 18.0;
    let left = 86.0;
    let height = 20.0 + row * days.len() as f64;
    let x = |h: f64| left + (W - left - 10.0) * h.clamp(0.0, 24.0) / 24.0;
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {W} {height}")) role="img" aria-label="Work sessions of the last days" {
                @for h in (0..=24).step_by(3) {
                    line.grid x1=(format!("{:.1}", x(f64::from(h)))) x2=(format!("{:.1}", x(f64::from(h)))) y1="0" y2=(format!("{:.1}", height - 16.0)) {}
                    text.axis x=(format!("{:.1}", x(f64::from(h)))) y=(format!("{:.1}", height - 3.0)) text-anchor="middle" { (format!("{h:02}")) }
                }
                @for (i, d) in days.iter().enumerate() {
                    text.axis x=(left - 8.0) y=(format!("{:.1}", 13.0 + row * i as f64)) text-anchor="end" { (d) }
                    @for s in spans.iter().filter(|s| &s.day == d) {
                        rect class=(if s.billable { "c0" } else { "c7" }) x=(format!("{:.1}", x(s.from))) y=(format!("{:.1}", 2.0 + row * i as f64))
                            width=(format!("{:.1}", (x(s.to) - x(s.from)).max(2.0))) height=(format!("{:.1}", row - 5.0)) {
                            title { (s.label) }
                        }
                    }
                }
            }
            figcaption {
                span.legend { span.swatch.c0 {} "billable" }
                span.legend { span.swatch.c7 {} "not billable" }
            }
        }
    }
}

/// A week's segments, bottom up: (client index, client, hours, hours below).
fn stack<'a>(w: &'a Week, clients: &[&'a String]) -> Vec<(usize, &'a str, f64, f64)> {
    let mut below = 0.0;
    let mut out = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        if let Some(&h) = w.by_client.get(*c) {
            out.push((ci, c.as_str(), h, below));
            below += h;
        }
    }
    out
}

/// 1, 2 or 5 times a power of ten, at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

fn week_label(start: Millis) -> String {
    use chrono::{Local, TimeZone};
    Local
        .timestamp_millis_opt(start)
        .single()
        .map_or_else(String::new, |d| d.format("%b %d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(41.0), 50.0);
    }

    #[test]
    fn bars_are_drawn_per_client_with_their_hours() {
        let mut w = Week::default();
        w.by_client.insert("Dataforth".into(), 6.0);
        w.by_client.insert("Acme".into(), 2.0);
        w.billable = 6.0;
        w.non_billable = 2.0;
        let svg = weekly_bars(&[Week::default(), w]).into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains("Dataforth: 6.0 h") && svg.contains("6/8 h"),
            "{svg}"
        );
    }

    #[test]
    fn the_timeline_draws_each_session_in_its_day_row() {
        let days = vec!["2026-12-04".to_string(), "2026-12-05".to_string()];
        let span = |day: &str, from, to| Span {
            day: day.into(),
            from,
            to,
            label: format!("{day} work"),
            billable: true,
        };
        let svg = timeline(
            &days,
            &[span("2026-12-05", 9.0, 11.5), span("2026-11-01", 9.0, 10.0)],
        )
        .into_string();
        assert_eq!(
            svg.matches("<rect").count(),
            1,
            "only the days shown: {svg}"
        );
        assert!(svg.contains("2026-12-05 work"), "{svg}");
    }
}
