//! Times: stored as UTC unix milliseconds everywhere; shown as RFC 3339;
//! parsed from what a technician types (`14:00`, `yesterday 9:30`, `2h ago`).

use chrono::{
    DateTime, Duration, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};

use crate::error::{Error, Result};

pub type Millis = i64;

pub fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// RFC 3339 in UTC with second precision, e.g. `2026-11-22T09:30:00Z`.
/// Serialises a [`Millis`] field as RFC 3339 (`#[serde(serialize_with =
/// "crate::time::ser_rfc3339")]`), so a stored row is its own JSON shape.
pub fn ser_rfc3339<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*ms))
}

/// [`ser_rfc3339`] for an optional time (`null` when absent).
pub fn ser_rfc3339_opt<S: serde::Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_some(&rfc3339(*ms)),
        None => s.serialize_none(),
    }
}

pub fn rfc3339(ms: Millis) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ms.to_string(),
    }
}

/// Local wall-clock time for humans, e.g. `2026-11-22 10:30`.
pub fn local_display(ms: Millis) -> String {
    match Local.timestamp_millis_opt(ms) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M").to_string()
        }
        LocalResult::None => rfc3339(ms),
    }
}

/// Local calendar day of a time, `YYYY-MM-DD`.
pub fn local_day(ms: Millis) -> String {
    match Local.timestamp_millis_opt(ms) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.format("%Y-%m-%d").to_string(),
        LocalResult::None => rfc3339(ms)[..10].to_string(),
    }
}

/// `1h 05m`, `45m`, `0m`.
pub fn human_duration(ms: Millis) -> String {
    let minutes = ms.max(0) / 60_000;
    let (h, m) = (minutes / 60, minutes % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m")
    }
}

/// Whether a date-only input means the start or the end of that day.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    Start,
    /// `--to 2026-11-21` includes the whole of the 21st.
    End,
}

/// Parses a time as a technician types it, relative to `now`.
///
/// Accepted: `now`; RFC 3339 (`2026-11-21T14:00:00Z`, `...+01:00`);
/// local `2026-11-21 14:00[:ss]` or `2026-11-21T14:00`; a date `2026-11-21`;
/// a clock time today `14:00`; `today 9:00`, `yesterday 14:00`, `yesterday`;
/// relative `30m ago`, `2h ago`, `1h30m ago`, `-45m`, `-1d`.
pub fn parse_time(input: &str, now: Millis, edge: DayEdge) -> Result<Millis> {
    let s = input.trim();
    let bad = || {
        Error::usage(format!(
            "cannot read the time {input:?}\nhint: use e.g. `14:00`, `yesterday 9:30`, `2026-11-21 14:00`, `2h ago` or RFC 3339"
        ))
    };
    if s.is_empty() {
        return Err(bad());
    }
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Some(d) = parse_relative(s) {
        return Ok(now - d.num_milliseconds());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return local_to_ms(naive).ok_or_else(bad);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return day_edge(date, edge).ok_or_else(bad);
    }
    let today = Local
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(bad)?;
    let lower = s.to_ascii_lowercase();
    let (day, rest) = if let Some(rest) = lower.strip_prefix("yesterday") {
        (today - Duration::days(1), rest.trim())
    } else if let Some(rest) = lower.strip_prefix("today") {
        (today, rest.trim())
    } else {
        (today, lower.as_str())
    };
    if rest.is_empty() {
        return day_edge(day, edge).ok_or_else(bad);
    }
    let clock = NaiveTime::parse_from_str(rest, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(rest, "%H:%M"))
        .map_err(|_| bad())?;
    local_to_ms(day.and_time(clock)).ok_or_else(bad)
}

fn day_edge(date: NaiveDate, edge: DayEdge) -> Option<Millis> {
    let day = match edge {
        DayEdge::Start => date,
        DayEdge::End => date.succ_opt()?,
    };
    local_to_ms(day.and_time(NaiveTime::MIN))
}

fn local_to_ms(naive: NaiveDateTime) -> Option<Millis> {
    match Local.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
        // A wall-clock time skipped by a DST change: take it as UTC offset of an hour later.
        LocalResult::None => Local
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.timestamp_millis()),
    }
}

/// `30m ago`, `2h ago`, `1h30m ago`, `-45m`, `-1d`, `90s ago`.
fn parse_relative(s: &str) -> Option<Duration> {
    let body = if let Some(b) = s.strip_suffix("ago") {
        b.trim()
    } else {
        s.strip_prefix('-')?.trim()
    };
    parse_duration(body)
}

/// `30s`, `45m`, `2h`, `1h30m`, `1d`. Used for flags like `--timeout`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::zero();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        if c == ' ' {
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        total += match c {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_763_800_000_000;

    #[test]
    fn rfc3339_round_trips() {
        let t = parse_time("2026-11-21T14:00:00Z", NOW, DayEdge::Start).unwrap();
        assert_eq!(rfc3339(t), "2026-11-21T14:00:00Z");
    }

    #[test]
    fn relative_times_count_back_from_now() {
        assert_eq!(
            parse_time("30m ago", NOW, DayEdge::Start).unwrap(),
            NOW - 30 * 60_000
        );
        assert_eq!(
            parse_time("-2h", NOW, DayEdge::Start).unwrap(),
            NOW - 2 * 3_600_000
        );
        assert_eq!(
            parse_time("1h30m ago", NOW, DayEdge::Start).unwrap(),
            NOW - 90 * 60_000
        );
        assert_eq!(parse_time("now", NOW, DayEdge::Start).unwrap(), NOW);
    }

    #[test]
    fn date_only_end_edge_includes_the_whole_day() {
        let start = parse_time("2026-11-21", NOW, DayEdge::Start).unwrap();
        let end = parse_time("2026-11-21", NOW, DayEdge::End).unwrap();
        assert_eq!(end - start, 86_400_000);
    }

    #[test]
    fn clock_times_are_today_and_yesterday() {
        let today = parse_time("14:00", NOW, DayEdge::Start).unwrap();
        let yesterday = parse_time("yesterday 14:00", NOW, DayEdge::Start).unwrap();
        assert_eq!(today - yesterday, 86_400_000);
    }

    #[test]
    fn garbage_is_a_usage_error_with_a_hint() {
        let err = parse_time("next tuesdayish", NOW, DayEdge::Start).unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
        assert!(err.to_string().contains("hint:"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::seconds(30)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(human_duration(65 * 60_000), "1h 05m");
    }
}
