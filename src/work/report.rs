//! Time reports: sessions grouped by client, project or day, clipped to the
//! reporting period, with total and billable hours.

use std::collections::BTreeMap;

use serde::Serialize;

use super::sessions::{self, Filter, SessionView};
use crate::error::Result;
use crate::store::Db;
use crate::time::{Millis, local_day, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Client,
    Project,
    Day,
}

#[derive(Debug, Serialize)]
pub struct ReportRow {
    pub key: String,
    pub sessions: u32,
    pub total_seconds: i64,
    pub billable_seconds: i64,
    pub total_hours: f64,
    pub billable_hours: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub by: GroupBy,
    pub from: Option<String>,
    pub to: Option<String>,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    /// Pairs of sessions on one machine that share time: that time is in
    /// the totals twice.
    pub overlaps: Vec<Overlap>,
    /// Seconds counted twice (the sum of the overlaps).
    pub overlap_seconds: i64,
}

/// Two sessions on the same machine that share time within the period.
#[derive(Debug, Clone, Serialize)]
pub struct Overlap {
    pub first_id: String,
    pub first: String,
    pub second_id: String,
    pub second: String,
    pub machine: String,
    pub from: String,
    pub to: String,
    pub seconds: i64,
    #[serde(skip)]
    pub from_ms: Millis,
    #[serde(skip)]
    pub to_ms: Millis,
}

/// Every pair of sessions on one machine whose spans (already clipped to
/// the period) share time, in the order they start.
fn overlaps(spans: &[(&SessionView, Millis, Millis)]) -> Vec<Overlap> {
    let mut sorted: Vec<&(&SessionView, Millis, Millis)> = spans.iter().collect();
    sorted.sort_by(|a, b| (&a.0.machine_id, a.1).cmp(&(&b.0.machine_id, b.1)));
    let mut out = Vec::new();
    for (i, (a, a_start, a_end)) in sorted.iter().map(|x| (x.0, x.1, x.2)).enumerate() {
        for (b, b_start, b_end) in sorted[i + 1..].iter().map(|x| (x.0, x.1, x.2)) {
            if b.machine_id != a.machine_id || b_start >= a_end {
                break;
            }
            let (from, to) = (b_start.max(a_start), b_end.min(a_end));
            if to > from {
                out.push(Overlap {
                    first_id: a.id.clone(),
                    first: a.short_id.clone(),
                    second_id: b.id.clone(),
                    second: b.short_id.clone(),
                    machine: a.machine.clone(),
                    from: crate::time::rfc3339(from),
                    to: crate::time::rfc3339(to),
                    seconds: (to - from) / 1000,
                    from_ms: from,
                    to_ms: to,
                });
            }
        }
    }
    out
}

fn hours(seconds: i64) -> f64 {
    (seconds as f64 / 36.0).round() / 100.0
}

fn row(key: String, sessions: u32, total: i64, billable: i64) -> ReportRow {
    ReportRow {
        key,
        sessions,
        total_seconds: total,
        billable_seconds: billable,
        total_hours: hours(total),
        billable_hours: hours(billable),
    }
}

impl Report {
    /// The report as CSV (`msp session report --csv`): a header, one line
    /// per row, then the total.
    pub fn to_csv(&self) -> String {
        let by = match self.by {
            GroupBy::Client => "client",
            GroupBy::Project => "project",
            GroupBy::Day => "day",
        };
        let mut out = format!("{by},sessions,total_hours,billable_hours\n");
        for row in self.rows.iter().chain(std::iter::once(&self.total)) {
            out.push_str(&format!(
                "{},{},{:.2},{:.2}\n",
                csv_field(&row.key),
                row.sessions,
                row.total_hours,
                row.billable_hours
            ));
        }
        out
    }
}

/// Quotes a CSV field when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub async fn report(db: &mut Db, by: GroupBy, mut filter: Filter) -> Result<Report> {
    let now = now_ms();
    filter.limit = None;
    let list = sessions::list(db, &filter).await?;
    let mut groups: BTreeMap<String, (u32, i64, i64)> = BTreeMap::new();
    let mut spans = Vec::with_capacity(list.len());
    for s in &list {
        let start: Millis = s.started_ms.max(filter.from.unwrap_or(Millis::MIN));
        let end: Millis = (s.started_ms + s.duration_seconds * 1000)
            .min(filter.to.unwrap_or(Millis::MAX))
            .min(now.max(start));
        spans.push((s, start, end));
        let secs = ((end - start).max(0)) / 1000;
        let key = match by {
            GroupBy::Client => s.client.clone().unwrap_or_else(|| "(no client)".into()),
            GroupBy::Project => s.project.clone().unwrap_or_else(|| "(no project)".into()),
            GroupBy::Day => local_day(start),
        };
        let g = groups.entry(key).or_default();
        g.0 += 1;
        g.1 += secs;
        if s.billable {
            g.2 += secs;
        }
    }
    let overlaps = overlaps(&spans);
    let (mut n, mut t, mut b) = (0, 0, 0);
    let rows = groups
        .into_iter()
        .map(|(k, (sn, st, sb))| {
            n += sn;
            t += st;
            b += sb;
            row(k, sn, st, sb)
        })
        .collect();
    Ok(Report {
        by,
        from: filter.from.map(crate::time::rfc3339),
        to: filter.to.map(crate::time::rfc3339),
        rows,
        total: row("total".into(), n, t, b),
        overlap_seconds: overlaps.iter().map(|o| o.seconds).sum(),
        overlaps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_round_to_hundredths() {
        assert_eq!(hours(5400), 1.5);
        assert_eq!(hours(60), 0.02);
    }
}
