//! `msp session ...`: start/stop/status, recording past work, listing with
//! filters and reports. The harness runs with TZ=UTC, so dates are UTC days.

use crate::common;

use common::{Env, acme, array, str_of};
use rstest::rstest;
use serde_json::Value;

#[test]
fn start_infers_project_and_client_from_the_current_directory() {
    let (env, _dir) = acme();
    let sub = env.dir("work/acme/deep/er");
    let started = env.json_in(&sub, &["session", "start", "--title", "patching"]);
    let session = &started["session"];
    assert_eq!(session["project"], "acme-site", "{started}");
    assert_eq!(session["client"], "Acme Corp");
    assert_eq!(session["title"], "patching");
    assert_eq!(session["status"], "open");
    assert_eq!(session["billable"], false);
    assert_eq!(session["origin"], "manual");
    assert!(started["closed"].is_null(), "{started}");

    // Outside any linked directory the session has no client or project.
    env.ok(&["session", "stop"]);
    let bare = env.json(&["session", "start"]);
    assert!(bare["session"]["client"].is_null(), "{bare}");
    assert!(bare["session"]["project"].is_null(), "{bare}");
}

#[test]
fn explicit_scope_overrides_the_directory_and_a_contradiction_is_refused() {
    let (env, dir) = acme();
    env.ok(&["client", "add", "Beta"]);
    // --client that is not the directory's project's client is refused
    // (tests/it/scope.rs has the rule); elsewhere it stands alone.
    env.msp_in(&dir, &["session", "start", "--client", "beta"])
        .expect_hint(2);
    let v = env.json(&["session", "start", "--client", "beta"]);
    assert_eq!(v["session"]["client"], "Beta", "{v}");
    assert!(v["session"]["project"].is_null(), "{v}");
    env.msp(&[
        "session",
        "start",
        "--client",
        "beta",
        "--project",
        "acme-site",
    ])
    .expect_hint(2);
    env.msp(&["session", "start", "--project", "ghost"])
        .expect_hint(3);
}

#[test]
fn starting_while_one_is_open_closes_it_and_says_so_on_stderr() {
    let (env, dir) = acme();
    let first = env.msp_in(&dir, &["session", "start", "--title", "first"]);
    let first = first.expect_code(0);
    assert!(first.stdout.starts_with("started "), "{}", first.stdout);
    assert!(first.stderr.is_empty(), "{}", first.stderr);

    let second = env
        .msp_in(&dir, &["session", "start", "--title", "second"])
        .expect_code(0);
    assert!(
        second.stderr.contains("closed the open session"),
        "the implicit close must be reported on stderr: {:?}",
        second.stderr
    );
    assert!(second.stderr.contains("first"), "{}", second.stderr);
    assert!(!second.stdout.contains("closed"), "{}", second.stdout);

    let list = env.json(&["session", "list"]);
    let states: Vec<(&str, &str)> = array(&list)
        .iter()
        .map(|s| (str_of(s, "title"), str_of(s, "status")))
        .collect();
    assert_eq!(states, [("second", "open"), ("first", "closed")]);
    // The first one ended exactly when the second started.
    assert_eq!(list[1]["ended_at"], list[0]["started_at"]);

    // --json carries the closed session too.
    let third = env.json(&["session", "start", "--title", "third"]);
    assert_eq!(third["closed"]["title"], "second");
    assert_eq!(third["closed"]["status"], "closed");
}

#[test]
fn status_reports_the_open_session_or_none() {
    let (env, dir) = acme();
    let none = env.json(&["session", "status"]);
    assert_eq!(none, serde_json::json!({"open": false, "session": null}));
    assert_eq!(env.ok(&["session", "status"]).stdout, "no open session\n");

    env.ok(&[
        "session",
        "start",
        "--billable",
        "--at",
        "90m ago",
        "--project",
        "acme-site",
    ]);
    let st = env.json_in(&dir, &["session", "status"]);
    assert_eq!(st["open"], true);
    let session = &st["session"];
    assert_eq!(session["project"], "acme-site");
    assert_eq!(session["billable"], true);
    let secs = session["duration_seconds"].as_i64().unwrap();
    assert!((5400..5460).contains(&secs), "open for ~90m, got {secs}s");
    assert_eq!(session["duration"], "1h 30m");
    let text = env.ok(&["session", "status"]).stdout;
    assert!(text.starts_with("open: "), "{text}");
    assert!(text.contains("billable"), "{text}");
}

#[test]
fn stop_with_summary_closes_the_open_session() {
    let (env, dir) = acme();
    env.ok(&["session", "start", "--at", "30m ago"]);
    let stopped = env.json_in(&dir, &["session", "stop", "--summary", "rebooted the NAS"]);
    assert_eq!(stopped["status"], "closed");
    assert_eq!(stopped["summary"], "rebooted the NAS");
    assert!(stopped["ended_at"].is_string());
    let secs = stopped["duration_seconds"].as_i64().unwrap();
    assert!((1800..1860).contains(&secs), "{secs}");
    assert_eq!(env.json(&["session", "status"])["open"], false);
}

#[test]
fn stop_with_none_open_is_exit_1_with_a_hint() {
    let env = Env::setup();
    let out = env.msp(&["session", "stop"]).expect_hint(1);
    assert!(out.stderr.contains("no open session"), "{}", out.stderr);
}

#[test]
fn stop_before_the_start_is_a_usage_error() {
    let env = Env::setup();
    env.ok(&["session", "start", "--at", "10m ago"]);
    env.msp(&["session", "stop", "--at", "1h ago"])
        .expect_code(2);
    assert_eq!(env.json(&["session", "status"])["open"], true);
}

#[test]
fn session_commands_need_a_registered_machine() {
    let env = Env::new();
    // The store gets created, but this machine was never registered.
    env.msp(&["session", "start"]).expect_hint(1);
}

#[test]
fn add_records_past_work_with_the_directory_scope() {
    let (env, dir) = acme();
    let v = env.json_in(
        &dir,
        &[
            "session",
            "add",
            "--from",
            "2026-01-05 09:00",
            "--to",
            "2026-01-05 10:45",
            "--title",
            "firewall",
            "--summary",
            "rules reviewed",
            "--billable",
        ],
    );
    assert_eq!(v["project"], "acme-site");
    assert_eq!(v["client"], "Acme Corp");
    assert_eq!(v["status"], "closed");
    assert_eq!(v["started_at"], "2026-01-05T09:00:00Z");
    assert_eq!(v["ended_at"], "2026-01-05T10:45:00Z");
    assert_eq!(v["duration_seconds"], 6300);
    assert_eq!(v["duration"], "1h 45m");
    assert_eq!(v["billable"], true);
    assert_eq!(v["summary"], "rules reviewed");
    // Recording past work does not open anything.
    assert_eq!(env.json(&["session", "status"])["open"], false);
}

#[test]
fn add_with_to_before_from_is_a_usage_error() {
    let env = Env::setup();
    let out = env
        .msp(&[
            "session",
            "add",
            "--from",
            "2026-01-05 10:00",
            "--to",
            "2026-01-05 09:00",
        ])
        .expect_code(2);
    assert!(out.stderr.contains("--to"), "{}", out.stderr);
    env.msp(&[
        "session",
        "add",
        "--from",
        "2026-01-05 10:00",
        "--to",
        "2026-01-05 10:00",
    ])
    .expect_code(2);
    assert_eq!(array(&env.json(&["session", "list"])).len(), 0);
}

#[test]
fn unreadable_times_are_usage_errors_with_a_hint() {
    let env = Env::setup();
    env.msp(&["session", "add", "--from", "next tuesdayish", "--to", "now"])
        .expect_hint(2);
    env.msp(&["session", "start", "--at", "25:99"])
        .expect_hint(2);
    env.msp(&["session", "list", "--from", "sometime"])
        .expect_hint(2);
    env.msp(&["session", "report", "--to", "later"])
        .expect_hint(2);
    env.msp(&[
        "session",
        "list",
        "--from",
        "2026-01-06",
        "--to",
        "2026-01-05",
    ])
    .expect_code(2);
    assert_eq!(env.json(&["session", "status"])["open"], false);
}

/// Acme Corp (project acme-site, dir linked) and Beta, and four sessions:
///   S1 2026-01-05 09:00-11:00 acme-site billable     2.00h
///   S2 2026-01-05 13:00-13:30 Acme Corp              0.50h
///   S3 2026-01-06 09:00-10:15 Beta billable          1.25h
///   S4 2026-01-07 10:00-11:00 no client              1.00h
fn booked() -> Env {
    let (env, _dir) = acme();
    env.ok(&["client", "add", "Beta"]);
    let add = |from: &str, to: &str, title: &str, extra: &[&str]| {
        let mut args = vec![
            "session", "add", "--from", from, "--to", to, "--title", title,
        ];
        args.extend_from_slice(extra);
        env.ok(&args);
    };
    add(
        "2026-01-05 09:00",
        "2026-01-05 11:00",
        "S1",
        &["--project", "acme-site", "--billable"],
    );
    add(
        "2026-01-05 13:00",
        "2026-01-05 13:30",
        "S2",
        &["--client", "Acme Corp"],
    );
    add(
        "2026-01-06 09:00",
        "2026-01-06 10:15",
        "S3",
        &["--client", "beta", "--billable"],
    );
    add("2026-01-07 10:00", "2026-01-07 11:00", "S4", &[]);
    env
}

fn titles(v: &Value) -> Vec<String> {
    array(v)
        .iter()
        .map(|s| str_of(s, "title").to_string())
        .collect()
}

#[test]
fn list_is_newest_first_and_filters_by_range_client_and_project() {
    let env = booked();
    assert_eq!(
        titles(&env.json(&["session", "list"])),
        ["S4", "S3", "S2", "S1"]
    );
    // A date as --to includes that whole day.
    assert_eq!(
        titles(&env.json(&[
            "session",
            "list",
            "--from",
            "2026-01-06",
            "--to",
            "2026-01-06"
        ])),
        ["S3"]
    );
    assert_eq!(
        titles(&env.json(&[
            "session",
            "list",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-05"
        ])),
        ["S2", "S1"]
    );
    // Sessions that overlap the range count, not just those starting in it.
    assert_eq!(
        titles(&env.json(&[
            "session",
            "list",
            "--from",
            "2026-01-05 10:00",
            "--to",
            "2026-01-05 12:00"
        ])),
        ["S1"]
    );
    assert_eq!(
        titles(&env.json(&["session", "list", "--client", "acme-corp"])),
        ["S2", "S1"]
    );
    assert_eq!(
        titles(&env.json(&["session", "list", "--project", "acme-site"])),
        ["S1"]
    );
    assert_eq!(
        titles(&env.json(&[
            "session",
            "list",
            "--client",
            "beta",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-05"
        ])),
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&env.json(&["session", "list", "--limit", "2"])),
        ["S4", "S3"]
    );
    env.msp(&["session", "list", "--client", "ghost"])
        .expect_hint(3);

    let table = env.ok(&["session", "list", "--client", "beta"]).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(lines[1].contains("2026-01-06 09:00"), "{table}");
    assert!(lines[1].contains("1h 15m"), "{table}");
    assert!(lines[1].contains("Beta"), "{table}");
}

const JANUARY: [&str; 4] = ["--from", "2026-01-01", "--to", "2026-01-31"];

/// (key, sessions, total_hours, billable_hours) of each row, then of the total.
fn report_rows(v: &Value) -> Vec<(String, u64, f64, f64)> {
    array(&v["rows"])
        .iter()
        .chain(std::iter::once(&v["total"]))
        .map(|r| {
            (
                str_of(r, "key").to_string(),
                r["sessions"].as_u64().unwrap(),
                r["total_hours"].as_f64().unwrap(),
                r["billable_hours"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn row(key: &str, n: u64, total: f64, billable: f64) -> (String, u64, f64, f64) {
    (key.to_string(), n, total, billable)
}

#[test]
fn report_by_client_counts_billable_hours_only_for_billable_sessions() {
    let env = booked();
    let mut args = vec!["session", "report", "--by", "client"];
    args.extend(JANUARY);
    let rep = env.json(&args);
    assert_eq!(rep["by"], "client");
    assert_eq!(rep["from"], "2026-01-01T00:00:00Z");
    assert_eq!(
        rep["to"], "2026-02-01T00:00:00Z",
        "--to a date includes that day"
    );
    assert_eq!(
        report_rows(&rep),
        [
            row("(no client)", 1, 1.0, 0.0),
            row("Acme Corp", 2, 2.5, 2.0),
            row("Beta", 1, 1.25, 1.25),
            row("total", 4, 4.75, 3.25),
        ]
    );
    assert_eq!(rep["total"]["total_seconds"], 17100);
    assert_eq!(rep["total"]["billable_seconds"], 11700);

    let table = env.ok(&args).stdout;
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["CLIENT", "SESSIONS", "HOURS", "BILLABLE"],
        "{table}"
    );
    assert!(
        lines.contains(&vec!["Beta", "1", "1.25", "1.25"]),
        "{table}"
    );
    assert!(
        lines.contains(&vec!["Acme", "Corp", "2", "2.50", "2.00"]),
        "{table}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &["total", "4", "4.75", "3.25"],
        "{table}"
    );
}

#[rstest]
#[case::by_project("project", "PROJECT", "acme-site", vec![
    row("(no project)", 3, 2.75, 1.25),
    row("acme-site", 1, 2.0, 2.0),
    row("total", 4, 4.75, 3.25),
])]
#[case::by_day("day", "DAY", "2026-01-05", vec![
    row("2026-01-05", 2, 2.5, 2.0),
    row("2026-01-06", 1, 1.25, 1.25),
    row("2026-01-07", 1, 1.0, 0.0),
    row("total", 4, 4.75, 3.25),
])]
fn report_by_project_and_by_day(
    #[case] by: &str,
    #[case] header: &str,
    #[case] a_key: &str,
    #[case] rows: Vec<(String, u64, f64, f64)>,
) {
    let env = booked();
    let mut args = vec!["session", "report", "--by", by];
    args.extend(JANUARY);
    assert_eq!(report_rows(&env.json(&args)), rows);
    let table = env.ok(&args).stdout;
    assert!(table.starts_with(header), "{table}");
    let unbounded = env.ok(&["session", "report", "--by", by]).stdout;
    assert!(unbounded.starts_with(header), "{unbounded}");
    assert!(unbounded.contains(a_key), "{unbounded}");
}

#[test]
fn report_clips_sessions_to_the_period() {
    let env = booked();
    // S1 overlaps 10:00-11:00 only; S2 lies inside.
    let rep = env.json(&[
        "session",
        "report",
        "--from",
        "2026-01-05 10:00",
        "--to",
        "2026-01-05",
    ]);
    assert_eq!(
        report_rows(&rep),
        [row("Acme Corp", 2, 1.5, 1.0), row("total", 2, 1.5, 1.0)]
    );
}

#[test]
fn report_csv_has_a_header_and_a_total_line() {
    let env = booked();
    let mut args = vec!["session", "report", "--by", "client", "--csv"];
    args.extend(JANUARY);
    let csv = env.ok(&args).stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "client,sessions,total_hours,billable_hours",
            "(no client),1,1.00,0.00",
            "Acme Corp,2,2.50,2.00",
            "Beta,1,1.25,1.25",
            "total,4,4.75,3.25",
        ],
        "{csv}"
    );
    let mut args = vec!["session", "report", "--by", "day", "--csv"];
    args.extend(JANUARY);
    let csv = env.ok(&args).stdout;
    assert!(
        csv.starts_with("day,sessions,total_hours,billable_hours\n"),
        "{csv}"
    );
    assert!(csv.ends_with("total,4,4.75,3.25\n"), "{csv}");
    // CSV and JSON are two different outputs: asking for both is a usage error.
    env.msp(&["session", "report", "--csv", "--json"])
        .expect_code(2);
}

#[test]
fn report_quotes_csv_fields_with_commas() {
    let env = Env::setup();
    env.ok(&["client", "add", "Smith, Jones & Co"]);
    env.ok(&[
        "session",
        "add",
        "--from",
        "2026-01-05 09:00",
        "--to",
        "2026-01-05 10:00",
        "--client",
        "Smith, Jones & Co",
    ]);
    let csv = env.ok(&["session", "report", "--csv"]).stdout;
    assert!(
        csv.contains("\n\"Smith, Jones & Co\",1,1.00,0.00\n"),
        "{csv}"
    );
}

#[test]
fn empty_report_has_a_zero_total() {
    let env = Env::setup();
    let rep = env.json(&["session", "report"]);
    assert_eq!(array(&rep["rows"]).len(), 0);
    assert_eq!(report_rows(&rep), [row("total", 0, 0.0, 0.0)]);
}
