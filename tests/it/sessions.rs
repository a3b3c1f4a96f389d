//! `msp session ...`: start/stop/status, recording past work, listing with
//! filters and reports. The harness runs with TZ=UTC, so dates are UTC days.

use crate::common;

use common::{Env, acme, array, str_of};
use rstest::rstest;
use serde_json::{Value, json};

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
fn stop_with_none_open_is_exit_3_not_found_with_a_hint() {
    let env = Env::setup();
    let out = env.msp(&["session", "stop"]).expect_hint(3);
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
    common::assert_fields(
        &v,
        json!({
            "project": "acme-site",
            "client": "Acme Corp",
            "status": "closed",
            "started_at": "2026-01-05T09:00:00Z",
            "ended_at": "2026-01-05T10:45:00Z",
            "duration_seconds": 6300,
            "duration": "1h 45m",
            "billable": true,
            "summary": "rules reviewed",
        }),
    );
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
    env.add_session(
        "2026-01-05 09:00",
        "2026-01-05 10:00",
        &["--client", "Smith, Jones & Co"],
    );
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

// --- Corrections -----------------------------------------------------------

/// The short id of the session a `--json session add/start` printed.
fn short(v: &Value) -> String {
    let s = if v["session"].is_object() {
        &v["session"]
    } else {
        v
    };
    str_of(s, "short_id").to_string()
}

fn total_hours(env: &Env) -> f64 {
    env.json(&["session", "report"])["total"]["total_hours"]
        .as_f64()
        .unwrap()
}

#[test]
fn a_mistaken_eleven_hour_session_can_be_edited_and_reports_follow() {
    let (env, _dir) = acme();
    let v = env.add_session(
        "2026-11-20 09:00",
        "2026-11-20 20:00",
        &["--client", "acme-corp", "--title", "typo"],
    );
    let id = short(&v);
    assert_eq!(total_hours(&env), 11.0);

    let edited = env.json(&[
        "session",
        "edit",
        &id,
        "--to",
        "2026-11-20 10:00",
        "--title",
        "patching",
        "--billable",
    ]);
    assert_eq!(edited["session"]["duration_seconds"], 3600, "{edited}");
    assert_eq!(edited["session"]["title"], "patching");
    assert_eq!(edited["session"]["billable"], true);
    assert_eq!(edited["changed"]["old"]["ended_at"], "2026-11-20T20:00:00Z");
    assert_eq!(edited["changed"]["new"]["ended_at"], "2026-11-20T10:00:00Z");
    assert_eq!(edited["changed"]["old"]["title"], "typo");
    assert_eq!(total_hours(&env), 1.0);

    // The audit keeps what it was, and says so in text too.
    let audit = env.json(&["session", "audit", &id]);
    let rows = array(&audit);
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["action"], "edit");
    assert_eq!(rows[0]["kind"], "session");
    assert_eq!(rows[0]["old_values"]["title"], "typo");
    assert_eq!(rows[0]["new_values"]["billable"], true);
    let text = env.ok(&["session", "audit"]).stdout;
    assert!(text.contains(r#"title: "typo" -> "patching""#), "{text}");

    // Nothing to change is said, and audits nothing.
    let same = env.ok(&["session", "edit", &id, "--title", "patching"]);
    assert!(same.stdout.contains("nothing changed"), "{}", same.stdout);
    assert_eq!(array(&env.json(&["session", "audit", &id])).len(), 1);
}

#[test]
fn a_session_can_be_removed_and_leaves_every_report() {
    let (env, _dir) = acme();
    let keep = env.add_session("2026-11-20 09:00", "2026-11-20 10:00", &[]);
    let gone = env.add_session("2026-11-21 09:00", "2026-11-21 20:00", &[]);
    assert_eq!(total_hours(&env), 12.0);
    let out = env.ok(&["session", "rm", &short(&gone)]);
    assert!(out.stdout.starts_with("removed "), "{}", out.stdout);
    assert_eq!(total_hours(&env), 1.0);
    let list = env.json(&["session", "list"]);
    let ids: Vec<&str> = array(&list).iter().map(|s| str_of(s, "short_id")).collect();
    assert_eq!(ids, [short(&keep)]);
    let audit = env.json(&["session", "audit", "--kind", "session"]);
    assert_eq!(audit[0]["action"], "rm", "{audit}");
    assert_eq!(audit[0]["old_values"]["ended_at"], "2026-11-21T20:00:00Z");
    assert!(audit[0]["new_values"].as_object().unwrap().is_empty());
    // Gone is gone: a second rm is not found.
    env.msp(&["session", "rm", &short(&gone)]).expect_hint(3);
    env.msp(&["session", "edit", &short(&gone), "--title", "x"])
        .expect_hint(3);
}

#[test]
fn session_edit_refuses_what_would_break_the_session() {
    let (env, _dir) = acme();
    env.ok(&["client", "add", "Beta"]);
    let id = short(&env.add_session(
        "2026-11-20 09:00",
        "2026-11-20 10:00",
        &["--project", "acme-site"],
    ));
    // A client that contradicts the project, or none while it has one.
    let out = env
        .msp(&["session", "edit", &id, "--client", "beta"])
        .expect_hint(2);
    assert!(out.stderr.contains("--no-project"), "{}", out.stderr);
    env.msp(&["session", "edit", &id, "--no-client"])
        .expect_hint(2);
    // An end before the start.
    env.msp(&["session", "edit", &id, "--to", "2026-11-20 08:00"])
        .expect_hint(2);
    // Unknown names are not found.
    env.msp(&["session", "edit", &id, "--project", "ghost"])
        .expect_hint(3);
    // Nothing of that was written.
    assert!(array(&env.json(&["session", "audit"])).is_empty());
    // Moving it to another client means leaving the project.
    let moved = env.json(&["session", "edit", &id, "--client", "beta", "--no-project"]);
    assert_eq!(moved["session"]["client"], "Beta", "{moved}");
    assert!(moved["session"]["project"].is_null());
    assert_eq!(moved["changed"]["old"]["client"], "Acme Corp");
    assert_eq!(moved["changed"]["new"]["client"], "Beta");
    // And a project brings its client back.
    let back = env.json(&["session", "edit", &id, "--project", "acme-site"]);
    assert_eq!(back["session"]["client"], "Acme Corp", "{back}");
}

#[test]
fn overlapping_sessions_warn_strict_refuses_and_the_report_flags_them() {
    let env = Env::setup();
    env.add_session("2026-11-20 10:00", "2026-11-20 11:00", &["--title", "a"]);
    // 10:15-11:40 on top of 10:00-11:00: accepted, with a warning on stderr.
    let out = env
        .msp(&[
            "session",
            "add",
            "--from",
            "2026-11-20 10:15",
            "--to",
            "2026-11-20 11:40",
            "--title",
            "b",
        ])
        .expect_code(0);
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("overlaps"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    assert!(out.stdout.starts_with("recorded "), "{}", out.stdout);
    // --strict refuses, and records nothing.
    let strict = env
        .msp(&[
            "session",
            "add",
            "--from",
            "2026-11-20 10:30",
            "--to",
            "2026-11-20 10:45",
            "--strict",
        ])
        .expect_hint(1);
    assert!(strict.stderr.contains("overlaps"), "{}", strict.stderr);
    assert_eq!(array(&env.json(&["session", "list"])).len(), 2);

    let rep = env.json(&["session", "report"]);
    let overlaps = array(&rep["overlaps"]);
    assert_eq!(overlaps.len(), 1, "{rep}");
    assert_eq!(overlaps[0]["seconds"], 45 * 60);
    assert_eq!(overlaps[0]["from"], "2026-11-20T10:15:00Z");
    assert_eq!(overlaps[0]["to"], "2026-11-20T11:00:00Z");
    assert_eq!(rep["overlap_seconds"], 45 * 60);
    // Data on stdout, the warning on stderr, in the table as in CSV (the
    // table printed its warning and hint on stdout).
    let table = env.ok(&["session", "report"]);
    assert!(
        table.stderr.contains("overlap") && table.stderr.contains("45m counted twice"),
        "{}",
        table.stderr
    );
    assert!(!table.stdout.contains("overlap"), "{}", table.stdout);
    // CSV stays parseable: the flag goes to stderr.
    let csv = env.ok(&["session", "report", "--csv"]);
    assert!(!csv.stdout.contains("overlap"), "{}", csv.stdout);
    assert!(csv.stderr.contains("overlap"), "{}", csv.stderr);

    // Editing one out of the other clears the flag.
    let b = array(&env.json(&["session", "list"]))
        .iter()
        .find(|s| s["title"] == "b")
        .map(|s| str_of(s, "short_id").to_string())
        .unwrap();
    let fixed = env
        .msp(&["session", "edit", &b, "--from", "2026-11-20 11:00"])
        .expect_code(0);
    assert!(fixed.stderr.is_empty(), "{}", fixed.stderr);
    assert!(array(&env.json(&["session", "report"])["overlaps"]).is_empty());
    // Editing into an overlap warns, or is refused with --strict.
    env.msp(&[
        "session",
        "edit",
        &b,
        "--from",
        "2026-11-20 10:50",
        "--strict",
    ])
    .expect_hint(1);
    let warned = env
        .msp(&["session", "edit", &b, "--from", "2026-11-20 10:50"])
        .expect_code(0);
    assert!(warned.stderr.contains("overlaps"), "{}", warned.stderr);
    // Sessions back to back do not overlap.
    let text = env
        .ok(&["session", "report", "--from", "2026-11-21"])
        .stdout;
    assert!(!text.contains("overlap"), "{text}");
}

#[test]
fn a_future_start_is_refused_unless_allow_future() {
    let env = Env::setup();
    let out = env
        .msp(&["session", "start", "--at", "in 2h"])
        .expect_hint(2);
    assert!(out.stderr.contains("future"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-future"), "{}", out.stderr);
    assert_eq!(env.json(&["session", "status"])["open"], false);
    // A minute ahead is "now" (a typed clock time is rarely exact).
    env.ok(&["session", "start", "--at", "in 30s"]);
    env.ok(&["session", "stop", "--at", "in 40s"]);
    env.ok(&[
        "session",
        "start",
        "--at",
        "tomorrow 9:00",
        "--allow-future",
    ]);
    assert_eq!(env.json(&["session", "status"])["open"], true);
}

#[test]
fn stop_after_a_future_start_explains_and_points_at_session_edit() {
    let env = Env::setup();
    let v = env.json(&["session", "start", "--at", "in 2h", "--allow-future"]);
    let id = short(&v);
    let out = env.msp(&["session", "stop"]).expect_hint(2);
    assert!(out.stderr.contains("future"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("msp session edit {id} --from")),
        "{}",
        out.stderr
    );
    // No talk of an --at the user never typed.
    assert!(!out.stderr.contains("--at"), "{}", out.stderr);
    // Starting another one says the same way out.
    let again = env.msp(&["session", "start"]).expect_hint(2);
    assert!(again.stderr.contains("session edit"), "{}", again.stderr);
    // The way out works, and puts no fake minutes into the report.
    env.ok(&["session", "edit", &id, "--from", "30 minutes ago"]);
    let stopped = env.json(&["session", "stop"]);
    let secs = stopped["duration_seconds"].as_i64().unwrap();
    assert!((1800..1860).contains(&secs), "{secs}");
}

#[test]
fn an_open_session_cannot_be_edited_to_start_in_the_future() {
    let env = Env::setup();
    let id = short(&env.json(&["session", "start", "--at", "10m ago"]));
    env.msp(&["session", "edit", &id, "--from", "in 1h"])
        .expect_hint(2);
    // With an end it is a closed session, and that is fine.
    let v = env.json(&[
        "session", "edit", &id, "--from", "1h ago", "--to", "30m ago",
    ]);
    assert_eq!(v["session"]["status"], "closed", "{v}");
    assert_eq!(v["session"]["duration_seconds"], 1800);
}

#[test]
fn times_in_words_are_read_everywhere() {
    let env = Env::setup();
    // `2 days ago`, `90 minutes ago` and `in 2h` exited 2 before.
    let v = env.json(&["session", "start", "--at", "2 days ago"]);
    let started = chrono_secs(str_of(&v["session"], "started_at"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 2 * 86_400 - started).abs() < 60, "{v}");
    let v = env.json(&["session", "stop", "--at", "90 minutes ago"]);
    let ended = chrono_secs(str_of(&v, "ended_at"));
    assert!((now - 5400 - ended).abs() < 60, "{v}");
    // A bare weekday is the last one, today included: the day before
    // yesterday's name, so its 13:00 has passed whatever the hour (an end
    // in the future is refused). The harness runs in UTC; 1970-01-01 was a
    // Thursday.
    let weekday = [
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
    ][((now / 86_400 - 2) % 7) as usize];
    let (bare_from, bare_to) = (format!("{weekday} 13:00"), format!("{weekday} 14:00"));
    for (from, to, secs) in [
        ("yesterday 9:00", "yesterday at 10:30", 5400),
        ("last friday 9am", "last friday 9:45am", 2700),
        (bare_from.as_str(), bare_to.as_str(), 3600),
        ("3 hours ago", "2 hours ago", 3600),
    ] {
        let v = env.add_session(from, to, &[]);
        assert_eq!(v["duration_seconds"], secs, "{from} .. {to}: {v}");
    }
    env.ok(&["session", "list", "--from", "last monday", "--to", "today"]);
    env.ok(&["session", "report", "--from", "2 weeks ago"]);
}

/// Seconds since the epoch of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ`.
fn chrono_secs(t: &str) -> i64 {
    let days_from_civil = |y: i64, m: i64, d: i64| {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    days_from_civil(n(0, 4), n(5, 7), n(8, 10)) * 86_400
        + n(11, 13) * 3600
        + n(14, 16) * 60
        + n(17, 19)
}

#[test]
fn removing_a_session_posted_to_a_ticket_needs_force() {
    let env = Env::setup();
    let v = env.add_session("2h ago", "1h ago", &[]);
    let id = str_of(&v, "id").to_string();
    // The ticket writer's outbox says its time was posted.
    let db = env.data.join("msp.db");
    common::sqlite_exec(
        &db,
        &format!(
            "INSERT INTO ticket_outbox (id, provider, ticket_id, kind, session_id, payload, status, created_at, updated_at)
             VALUES ('o1', 'syncro', '4711', 'time', '{id}', '{{}}', 'sent', 0, 0)"
        ),
    );
    let out = env.msp(&["session", "rm", &short(&v)]).expect_hint(1);
    assert!(out.stderr.contains("ticket 4711"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(array(&env.json(&["session", "list"])).len(), 1);
    let forced = env
        .msp(&["session", "rm", &short(&v), "--force"])
        .expect_code(0);
    assert!(forced.stderr.contains("4711"), "{}", forced.stderr);
    assert!(array(&env.json(&["session", "list"])).is_empty());
}

/// The table showed `open` where an open session's title belongs.
#[test]
fn session_list_shows_an_open_sessions_title() {
    let env = Env::setup();
    env.ok(&["session", "start", "--title", "Patching the file server"]);
    let table = env.ok(&["session", "list"]).stdout;
    let row = table
        .lines()
        .find(|l| l.contains("Patching the file server"))
        .unwrap_or_else(|| panic!("no row with the title: {table}"));
    assert!(row.contains("(open)"), "{row}");
}

/// `session start --at "tomorrow 9:00"` was refused, but `session add
/// --from now --to "in 1h"`, `session stop --at "in 1h"` and `session edit
/// --to "in 2h"` took an hour not yet worked, which `ticket sync` would
/// post as worked.
#[test]
fn an_end_time_in_the_future_is_refused_like_a_future_start() {
    let env = Env::setup();
    let out = env
        .msp(&["session", "add", "--from", "now", "--to", "in 1h"])
        .expect_hint(2);
    common::assert_has(
        &out.stderr,
        "is in the future: that time has not been worked yet",
    );
    env.ok(&["session", "start", "--at", "30m ago"]);
    env.msp(&["session", "stop", "--at", "in 1h"])
        .expect_hint(2);
    let stopped = env.json(&["session", "stop", "--at", "5m ago"]);
    let id = str_of(&stopped, "short_id").to_string();
    env.msp(&["session", "edit", &id, "--to", "in 2h"])
        .expect_hint(2);
    env.ok(&["session", "edit", &id, "--to", "now"]);
    let backwards = env
        .msp(&["session", "add", "--from", "10:00", "--to", "09:00"])
        .expect_hint(2);
    assert!(!backwards.stderr.contains('Z'), "{}", backwards.stderr);
}

/// docs/guide/work.md: "a day word or date alone is the start of that day,
/// and the end of it for `--to`". `session list --to` did that, but
/// `session add --to 2026-11-21` ended the session at the day's start.
#[test]
fn a_date_alone_as_to_is_the_end_of_that_day_when_recording_too() {
    let env = Env::setup();
    let v = env.add_session("2026-11-21 22:00", "2026-11-21", &[]);
    assert_eq!(v["duration_seconds"], 2 * 3600, "{v}");
    let id = str_of(&v, "short_id").to_string();
    let e = env.json(&[
        "session",
        "edit",
        &id,
        "--from",
        "2026-11-20 23:00",
        "--to",
        "2026-11-20",
    ]);
    assert_eq!(e["session"]["duration_seconds"], 3600, "{e}");
}

/// `msp session audit nope` listed nothing and exited 0, as for a record
/// with no corrections: a key that names nothing is now not found.
#[test]
fn session_audit_of_a_record_that_does_not_exist_is_not_found() {
    let env = Env::setup();
    env.msp(&["session", "audit", "nope"]).expect_hint(3);
    let v = env.add_session("2026-11-21 09:00", "2026-11-21 10:00", &[]);
    let id = str_of(&v, "short_id").to_string();
    assert!(array(&env.json(&["session", "audit", &id])).is_empty());
    env.ok(&["session", "edit", &id, "--title", "Patching"]);
    assert_eq!(array(&env.json(&["session", "audit", &id])).len(), 1);
}
