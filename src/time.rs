//! Times: stored as UTC unix milliseconds everywhere; shown as RFC 3339;
//! parsed from what a technician types (`14:00`, `yesterday 9:30`, `2h ago`).

use chrono::{
    DateTime, Datelike, Duration, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc, Weekday,
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

/// Local midnight starting the day that holds `ms`.
pub fn local_day_start(ms: Millis) -> Millis {
    Local
        .timestamp_millis_opt(ms)
        .earliest()
        .and_then(|t| day_edge(t.date_naive(), DayEdge::Start))
        .unwrap_or(ms)
}

/// Local midnight starting the week (Monday) that holds `ms`.
pub fn local_week_start(ms: Millis) -> Millis {
    Local
        .timestamp_millis_opt(ms)
        .earliest()
        .and_then(|t| {
            let back = u64::from(t.weekday().num_days_from_monday());
            day_edge(t.date_naive() - chrono::Days::new(back), DayEdge::Start)
        })
        .unwrap_or(ms)
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

/// Which way a bare weekday points: `friday` is the last Friday (today
/// included) for work already done, the next one (today included) for a
/// due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lean {
    Past,
    Future,
}

/// What the error for an unreadable time suggests.
const TIME_HINT: &str = "use e.g. `14:00`, `yesterday 9:30`, `monday 9:00`, `last friday`, `2 days ago`, `in 2h`, `2026-11-21 14:00` or RFC 3339";

/// Parses a time as a technician types it, relative to `now`; a bare
/// weekday means the last one (see [`parse_time_lean`]).
///
/// Accepted: `now`; RFC 3339 (`2026-11-21T14:00:00Z`, `...+01:00`);
/// local `2026-11-21 14:00[:ss]` or `2026-11-21T14:00`; a date `2026-11-21`;
/// a clock time today `14:00`, `9am`, `9:30pm`, `noon`, `midnight`;
/// `today|tomorrow|yesterday [at] [TIME]`; a weekday `monday [TIME]`,
/// `last friday`, `next tue 9:00`; durations before now `30m ago`,
/// `2 days ago`, `1h30m ago`, `an hour ago`, `-45m`, and after now
/// `in 2h`, `in 3 days`, `+15m`.
pub fn parse_time(input: &str, now: Millis, edge: DayEdge) -> Result<Millis> {
    parse_time_lean(input, now, edge, Lean::Past)
}

/// [`parse_time`] with the direction a bare weekday points to.
pub fn parse_time_lean(input: &str, now: Millis, edge: DayEdge, lean: Lean) -> Result<Millis> {
    let bad = || Error::usage(format!("cannot read the time {input:?}")).with_hint(TIME_HINT);
    let s = input.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
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
    // Words from here on: one space between them, any case.
    let lower = s.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let text = words.join(" ");
    if text == "now" {
        return Ok(now);
    }
    if let Some(d) = parse_offset(&text) {
        return now.checked_add(d).ok_or_else(bad);
    }
    let today = Local
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(bad)?;
    let (day, rest) = parse_day(&words, today, lean).unwrap_or((today, &words[..]));
    // `tomorrow at 9:00`
    let rest = match rest {
        ["at", clock @ ..] if !clock.is_empty() => clock,
        r => r,
    };
    if rest.is_empty() {
        // A day word alone (a bare clock time is never empty).
        return day_edge(day, edge).ok_or_else(bad);
    }
    let clock = parse_clock(&rest.join(" ")).ok_or_else(bad)?;
    local_to_ms(day.and_time(clock)).ok_or_else(bad)
}

/// A due date as `YYYY-MM-DD`, typed like any other time (`friday`,
/// `tomorrow`, `in 3 days`, `2026-12-01`); a weekday means the next one.
pub fn parse_due_date(input: &str, now: Millis) -> Result<String> {
    let t = parse_time_lean(input, now, DayEdge::Start, Lean::Future).map_err(|_| {
        Error::usage(format!("cannot read the due date {input:?}"))
            .with_hint("use e.g. `2026-12-01`, `tomorrow`, `friday`, `next monday` or `in 3 days`")
    })?;
    Ok(local_day(t))
}

/// `today`, `tomorrow`, `yesterday`, `monday`, `last fri`, `next tuesday`
/// at the start of `words`: the day and the words after it.
fn parse_day<'a>(
    words: &'a [&'a str],
    today: NaiveDate,
    lean: Lean,
) -> Option<(NaiveDate, &'a [&'a str])> {
    let (first, rest) = words.split_first()?;
    match *first {
        "today" => return Some((today, rest)),
        "tomorrow" => return Some((today.succ_opt()?, rest)),
        "yesterday" => return Some((today.pred_opt()?, rest)),
        _ => {}
    }
    let (which, name, rest) = match *first {
        "last" | "next" => {
            let (name, rest) = rest.split_first()?;
            (Some(*first), *name, rest)
        }
        name => (None, name, rest),
    };
    let wd = weekday(name)?;
    let back = (today.weekday().num_days_from_monday() + 7 - wd.num_days_from_monday()) % 7;
    let ahead = (7 - back) % 7;
    let (back, ahead) = (i64::from(back), i64::from(ahead));
    let day = match (which, lean) {
        // Strictly before or after today: `last monday` on a Monday is a week ago.
        (Some("last"), _) => today - Duration::days(if back == 0 { 7 } else { back }),
        (Some(_), _) => today + Duration::days(if ahead == 0 { 7 } else { ahead }),
        (None, Lean::Past) => today - Duration::days(back),
        (None, Lean::Future) => today + Duration::days(ahead),
    };
    Some((day, rest))
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// `14:00`, `9:30:15`, `9am`, `9:30 pm`, `12am`, `noon`, `midnight`.
fn parse_clock(s: &str) -> Option<NaiveTime> {
    match s {
        "noon" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return Some(NaiveTime::MIN),
        _ => {}
    }
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let (body, pm) = if let Some(b) = compact.strip_suffix("am") {
        (b, Some(false))
    } else if let Some(b) = compact.strip_suffix("pm") {
        (b, Some(true))
    } else {
        (compact.as_str(), None)
    };
    let mut parts = body.split(':');
    let h: u32 = digits(parts.next()?)?;
    let m: u32 = parts.next().map_or(Some(0), digits)?;
    let sec: u32 = parts.next().map_or(Some(0), digits)?;
    if parts.next().is_some() {
        return None;
    }
    // `14` alone is no time (it reads as a typo); `2pm` is.
    if pm.is_none() && !body.contains(':') {
        return None;
    }
    let h = match pm {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    NaiveTime::from_hms_opt(h, m, sec)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
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

/// A signed offset from now in milliseconds: `30m ago`, `2 days ago`,
/// `-45m` (before now); `in 2h`, `in 3 days`, `+15m` (after now).
fn parse_offset(s: &str) -> Option<Millis> {
    let (body, sign) = if let Some(b) = s.strip_suffix("ago") {
        (b, -1)
    } else if let Some(b) = s.strip_prefix('-') {
        (b, -1)
    } else if let Some(b) = s.strip_prefix("in ") {
        (b, 1)
    } else if let Some(b) = s.strip_prefix('+') {
        (b, 1)
    } else {
        return None;
    };
    parse_duration(body)?.num_milliseconds().checked_mul(sign)
}

/// A length of time: `30s`, `45m`, `2h`, `1h30m`, `1d`, `2w`, and in words
/// `90 minutes`, `2 days`, `1 hour 30 minutes`, `an hour`. Used for times
/// relative to now and for flags like `--timeout`. A number needs a unit.
pub fn parse_duration(s: &str) -> Option<Duration> {
    // Runs of digits and of letters; spaces, commas and `and` separate.
    let mut tokens: Vec<String> = Vec::new();
    for c in s.trim().chars() {
        let same = tokens.last().is_some_and(|t: &String| {
            t.chars()
                .next()
                .is_some_and(|f| f.is_ascii_digit() == c.is_ascii_digit())
        });
        if c.is_ascii_digit() || c.is_alphabetic() {
            if same {
                tokens.last_mut()?.push(c);
            } else {
                tokens.push(c.to_string());
            }
        } else if c.is_whitespace() || c == ',' {
            tokens.push(String::new());
        } else {
            return None;
        }
    }
    let mut tokens = tokens
        .into_iter()
        .filter(|t| !t.is_empty() && t != "and")
        .peekable();
    // Nothing at all is no duration.
    tokens.peek()?;
    let mut total = Duration::zero();
    while let Some(n) = tokens.next() {
        let n: i64 = match n.as_str() {
            "a" | "an" => 1,
            n => n.parse().ok()?,
        };
        let unit = tokens.next()?;
        let per: Duration = match unit.to_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => Duration::seconds(1),
            "m" | "min" | "mins" | "minute" | "minutes" => Duration::minutes(1),
            "h" | "hr" | "hrs" | "hour" | "hours" => Duration::hours(1),
            "d" | "day" | "days" => Duration::days(1),
            "w" | "wk" | "wks" | "week" | "weeks" => Duration::weeks(1),
            _ => return None,
        };
        total = total.checked_add(&per.checked_mul(i32::try_from(n).ok()?)?)?;
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
        assert!(matches!(err.kind(), Error::Usage(_)));
        assert!(err.hint().is_some(), "{err}");
    }

    #[test]
    fn days_and_weeks_start_at_local_midnight() {
        // Saturday 2026-03-07 at noon.
        let t = local(2026, 3, 7, 12, 0, 0);
        assert_eq!(local_day_start(t), local(2026, 3, 7, 0, 0, 0));
        assert_eq!(local_week_start(t), local(2026, 3, 2, 0, 0, 0));
        assert_eq!(
            local_week_start(local(2026, 3, 2, 0, 0, 0)),
            local(2026, 3, 2, 0, 0, 0)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::seconds(30)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(human_duration(65 * 60_000), "1h 05m");
    }

    use rstest::rstest;

    /// Noon on Saturday 2026-11-21, local time, whatever the zone.
    fn sat_noon() -> Millis {
        local(2026, 11, 21, 12, 0, 0)
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Millis {
        local_to_ms(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap(),
        )
        .unwrap()
    }

    const MIN: Millis = 60_000;
    const HOUR: Millis = 60 * MIN;
    const DAY: Millis = 24 * HOUR;

    /// Every form the parser takes, against noon on Saturday 2026-11-21.
    #[rstest]
    // Offsets before now, compact and in words.
    #[case("30m ago", sat_noon() - 30 * MIN)]
    #[case("90m ago", sat_noon() - 90 * MIN)]
    #[case("3d ago", sat_noon() - 3 * DAY)]
    #[case("1h30m ago", sat_noon() - 90 * MIN)]
    #[case("-2h", sat_noon() - 2 * HOUR)]
    #[case("2 days ago", sat_noon() - 2 * DAY)]
    #[case("90 minutes ago", sat_noon() - 90 * MIN)]
    #[case("1 hour 30 minutes ago", sat_noon() - 90 * MIN)]
    #[case("1 hour and 15 mins ago", sat_noon() - 75 * MIN)]
    #[case("an hour ago", sat_noon() - HOUR)]
    #[case("a day ago", sat_noon() - DAY)]
    #[case("2 weeks ago", sat_noon() - 14 * DAY)]
    #[case("45 secs ago", sat_noon() - 45_000)]
    #[case("  2   Days   AGO ", sat_noon() - 2 * DAY)]
    // Offsets after now.
    #[case("in 2h", sat_noon() + 2 * HOUR)]
    #[case("in 3 days", sat_noon() + 3 * DAY)]
    #[case("in 90 minutes", sat_noon() + 90 * MIN)]
    #[case("+15m", sat_noon() + 15 * MIN)]
    // Day words, with and without a time.
    #[case("now", sat_noon())]
    #[case("14:00", local(2026, 11, 21, 14, 0, 0))]
    #[case("9:05:30", local(2026, 11, 21, 9, 5, 30))]
    #[case("9am", local(2026, 11, 21, 9, 0, 0))]
    #[case("9:30 pm", local(2026, 11, 21, 21, 30, 0))]
    #[case("12am", local(2026, 11, 21, 0, 0, 0))]
    #[case("12pm", local(2026, 11, 21, 12, 0, 0))]
    #[case("noon", local(2026, 11, 21, 12, 0, 0))]
    #[case("today", local(2026, 11, 21, 0, 0, 0))]
    #[case("today 9:00", local(2026, 11, 21, 9, 0, 0))]
    #[case("yesterday", local(2026, 11, 20, 0, 0, 0))]
    #[case("yesterday 14:00", local(2026, 11, 20, 14, 0, 0))]
    #[case("Yesterday at 9:30", local(2026, 11, 20, 9, 30, 0))]
    #[case("tomorrow", local(2026, 11, 22, 0, 0, 0))]
    #[case("tomorrow 9:00", local(2026, 11, 22, 9, 0, 0))]
    #[case("tomorrow at 5pm", local(2026, 11, 22, 17, 0, 0))]
    // Weekdays: bare ones are the last one, today included.
    #[case("monday 9:00", local(2026, 11, 16, 9, 0, 0))]
    #[case("Mon", local(2026, 11, 16, 0, 0, 0))]
    #[case("friday 16:30", local(2026, 11, 20, 16, 30, 0))]
    #[case("saturday 8:00", local(2026, 11, 21, 8, 0, 0))]
    #[case("sunday", local(2026, 11, 15, 0, 0, 0))]
    #[case("last friday", local(2026, 11, 20, 0, 0, 0))]
    #[case("last saturday 10:00", local(2026, 11, 14, 10, 0, 0))]
    #[case("next monday 9:00", local(2026, 11, 23, 9, 0, 0))]
    #[case("next sat", local(2026, 11, 28, 0, 0, 0))]
    // Absolute.
    #[case("2026-11-01", local(2026, 11, 1, 0, 0, 0))]
    #[case("2026-11-01 14:00", local(2026, 11, 1, 14, 0, 0))]
    #[case("2026-11-01T14:00:05", local(2026, 11, 1, 14, 0, 5))]
    fn times_as_typed(#[case] input: &str, #[case] expected: Millis) {
        assert_eq!(
            parse_time(input, sat_noon(), DayEdge::Start).unwrap(),
            expected,
            "{input:?}: got {}",
            rfc3339(parse_time(input, sat_noon(), DayEdge::Start).unwrap())
        );
    }

    /// Due dates: a bare weekday is the next one (today included).
    #[rstest]
    #[case("2026-12-01", "2026-12-01")]
    #[case("today", "2026-11-21")]
    #[case("tomorrow", "2026-11-22")]
    #[case("friday", "2026-11-27")]
    #[case("saturday", "2026-11-21")]
    #[case("next saturday", "2026-11-28")]
    #[case("monday", "2026-11-23")]
    #[case("in 3 days", "2026-11-24")]
    #[case("in 2 weeks", "2026-12-05")]
    #[case("tomorrow 17:00", "2026-11-22")]
    fn due_dates_as_typed(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(
            parse_due_date(input, sat_noon()).unwrap(),
            expected,
            "{input:?}"
        );
    }

    #[rstest]
    #[case("")]
    #[case("next tuesdayish")]
    #[case("14")]
    #[case("25:00")]
    #[case("13pm")]
    #[case("2 ago")]
    #[case("in 2 fortnights")]
    #[case("2 days")]
    #[case("last")]
    #[case("tomorrow at")]
    #[case("yesterday 9:00 extra")]
    #[case("99999999999999999 days ago")]
    fn unreadable_times_are_usage_errors_with_a_hint(#[case] input: &str) {
        let err = parse_time(input, sat_noon(), DayEdge::Start).unwrap_err();
        assert!(matches!(err.kind(), Error::Usage(_)), "{input:?}: {err}");
        assert!(err.hint().is_some(), "{err}");
        assert!(parse_due_date(input, sat_noon()).is_err(), "{input:?}");
    }

    #[rstest]
    #[case("30s", 30)]
    #[case("2 minutes", 120)]
    #[case("1h 30m", 5400)]
    #[case("1 day", 86_400)]
    #[case("an hour", 3600)]
    fn durations_in_words(#[case] input: &str, #[case] seconds: i64) {
        assert_eq!(parse_duration(input), Some(Duration::seconds(seconds)));
    }

    #[test]
    fn a_weekday_alone_spans_its_day_at_the_end_edge() {
        let start = parse_time("friday", sat_noon(), DayEdge::Start).unwrap();
        let end = parse_time("friday", sat_noon(), DayEdge::End).unwrap();
        assert_eq!(end - start, DAY);
    }
}
