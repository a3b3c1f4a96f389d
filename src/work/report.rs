//! Time reports: sessions grouped by client, project or day, clipped to the
//! reporting period, with total and billable hours.

use std::collections::BTreeMap;

use serde::Serialize;

use super::sessions::{self, Filter};
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

pub async fn report(db: &mut Db, by: GroupBy, mut filter: Filter) -> Result<Report> {
    let now = now_ms();
    filter.limit = None;
    let list = sessions::list(db, &filter).await?;
    let mut groups: BTreeMap<String, (u32, i64, i64)> = BTreeMap::new();
    for s in &list {
        let start: Millis = s.started_ms.max(filter.from.unwrap_or(Millis::MIN));
        let end: Millis = (s.started_ms + s.duration_seconds * 1000)
            .min(filter.to.unwrap_or(Millis::MAX))
            .min(now.max(start));
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
