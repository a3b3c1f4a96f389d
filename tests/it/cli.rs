//! Cross-cutting behaviour of the `msp` binary: `--json` on every read
//! command, doctor, broken config and data dirs, broken pipes, concurrent
//! processes on one store, completions and help.

use crate::common;

use std::io::Read;

use common::{Env, acme, array, finish, s, str_of};
use serde_json::Value;

/// Every read command, with `--json` prepended by the caller.
fn read_commands(linked_dir: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["machine", "list"],
        vec!["machine", "show"],
        vec!["machine", "show", "self"],
        vec!["client", "list"],
        vec!["project", "list"],
        vec!["project", "which", linked_dir],
        vec!["session", "status"],
        vec!["session", "list"],
        vec![
            "session",
            "list",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
        ],
        vec!["session", "report"],
        vec!["session", "report", "--by", "project"],
        vec!["session", "report", "--by", "day"],
        vec!["task", "list"],
        vec!["task", "list", "--all"],
        vec!["context", "list"],
        vec!["context", "stats"],
        vec!["sync", "status"],
        vec!["agent", "list"],
        vec!["agent", "audit"],
        vec!["ticket", "log"],
        vec!["doctor"],
        vec!["config", "show"],
        vec!["config", "paths"],
    ]
}

#[track_caller]
fn assert_one_object_or_array(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = env.msp(&all).expect_code(0);
    let v = out.json();
    assert!(
        v.is_object() || v.is_array(),
        "`msp {}` printed JSON that is neither an object nor an array: {v}",
        all.join(" ")
    );
    v
}

#[test]
fn every_read_command_prints_one_json_object_or_array() {
    let (env, dir) = acme();
    env.ok(&["task", "add", "Renew cert", "--project", "acme-site"]);
    env.add_session("2026-01-05 09:00", "2026-01-05 10:00", &[]);
    env.ok(&["session", "start", "--project", "acme-site"]);

    let mut extra = read_commands(s(&dir));
    extra.push(vec!["client", "show", "acme-corp"]);
    extra.push(vec!["project", "show", "acme-site"]);
    for args in &extra {
        let v = assert_one_object_or_array(&env, args);
        if args[..] == ["session", "list"] {
            assert_eq!(array(&v).len(), 2, "{v}");
        }
    }
}

#[test]
fn read_commands_print_json_on_an_empty_store_too() {
    let env = Env::setup();
    let dir = env.dir("unlinked");
    for args in read_commands(s(&dir)) {
        if args.starts_with(&["project", "which"]) {
            continue; // exit 3 without a match; covered in clients_projects.rs
        }
        let v = assert_one_object_or_array(&env, &args);
        if matches!(
            args[..],
            ["client", "list"]
                | ["task", "list"]
                | ["session", "list"]
                | ["context", "list"]
                | ["agent", "list"]
                | ["agent", "audit"]
                | ["ticket", "log"]
        ) {
            assert_eq!(v, serde_json::json!([]), "{args:?}");
        }
    }
}

#[test]
fn json_flag_works_before_and_after_the_subcommand() {
    let env = Env::setup();
    let before = env.msp(&["--json", "client", "list"]).expect_code(0).json();
    let after = env.msp(&["client", "list", "--json"]).expect_code(0).json();
    assert_eq!(before, after);
}

// ---- doctor and configuration ----------------------------------------------

fn checks(report: &Value) -> Vec<(String, String)> {
    array(&report["checks"])
        .iter()
        .map(|c| {
            (
                str_of(c, "name").to_string(),
                str_of(c, "status").to_string(),
            )
        })
        .collect()
}

#[test]
fn doctor_is_ok_on_a_set_up_env() {
    let env = Env::setup();
    let out = env.ok(&["doctor"]);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    let report = env.json(&["doctor"]);
    assert_eq!(report["ok"], true, "{report}");
    let names: Vec<String> = checks(&report).into_iter().map(|(n, _)| n).collect();
    for expected in ["config", "data_dir", "store", "machine", "hook_binary"] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected} check: {report}"
        );
    }
    assert!(checks(&report).iter().all(|(_, st)| st == "ok"), "{report}");
}

/// `msp setup --no-hooks`, then `msp doctor`: it failed on the hooks the
/// technician had chosen not to install. None installed is a warning that
/// says what is off; some installed and others not is still a failure.
#[test]
fn doctor_after_setup_without_hooks_warns_and_passes() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    let out = env.ok(&["doctor"]);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    let report = env.json(&["doctor"]);
    assert_eq!(report["ok"], true, "{report}");
    let hooks = common::doctor_check(&report, "hooks");
    assert_eq!(hooks["status"], "warn", "{report}");
    common::assert_has(str_of(hooks, "detail"), "turns are not saved");
    assert_eq!(hooks["hint"], "run `msp setup` to install them");

    // One hook taken out of a full install: broken, not a choice.
    env.ok(&["setup"]);
    let settings = env.home.join(".claude").join("settings.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    json["hooks"].as_object_mut().unwrap().remove("Stop");
    std::fs::write(&settings, json.to_string()).unwrap();
    let report = env.msp(&["--json", "doctor"]).expect_code(1).json();
    assert_eq!(common::doctor_check(&report, "hooks")["status"], "fail");
}

#[test]
fn doctor_fails_with_a_hint_when_the_store_is_missing() {
    let env = Env::new();
    let out = env.msp(&["doctor"]).expect_code(1);
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
    common::assert_has(&out.stdout, "hint: run `msp setup`");

    let out = env.msp(&["--json", "doctor"]).expect_code(1);
    let report = out.json();
    assert_eq!(report["ok"], false);
    let store = common::doctor_check(&report, "store");
    assert_eq!(store["status"], "fail");
    assert_eq!(store["hint"], "run `msp setup`");
    assert!(
        !env.data.join("msp.db").exists(),
        "doctor must not create the store"
    );
}

#[test]
fn invalid_config_fails_normal_commands_with_a_hint_naming_the_file() {
    let env = Env::setup();
    std::fs::create_dir_all(&env.config).unwrap();
    let file = env.config.join("config.toml");
    std::fs::write(&file, "this is [not toml\n").unwrap();

    for args in [&["client", "list"][..], &["session", "status"], &["setup"]] {
        let out = env.msp(args).expect_hint(1);
        assert!(
            out.stderr.contains(s(&file)),
            "`msp {}` should name {}:\n{}",
            args.join(" "),
            file.display(),
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }

    // doctor reports the broken file instead of failing on it.
    let out = env.msp(&["doctor"]).expect_code(1);
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(out.stdout.contains(s(&file)), "{}", out.stdout);
    let report = env.msp(&["--json", "doctor"]).expect_code(1).json();
    assert_eq!(report["ok"], false);
    let by_name = checks(&report);
    assert!(
        by_name.contains(&("config".into(), "fail".into())),
        "{report}"
    );
    assert!(
        by_name.contains(&("store".into(), "ok".into())),
        "the other checks still run: {report}"
    );

    // Completions need no config at all.
    env.ok(&["completions", "bash"]);
}

#[test]
fn unknown_config_key_is_an_error_with_a_hint() {
    let env = Env::setup();
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[memory]\nbudget = 5\n").unwrap();
    env.msp(&["client", "list"]).expect_hint(1);
}

#[test]
fn config_file_and_environment_feed_config_show() {
    let env = Env::setup();
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(
        env.config.join("config.toml"),
        "[memory]\nbudget_tokens = 500\nhalf_life_days = 7.5\n",
    )
    .unwrap();
    let shown = env.json(&["config", "show"]);
    assert_eq!(shown["memory.budget_tokens"]["value"], "500", "{shown}");
    assert_eq!(
        shown["memory.budget_tokens"]["env"],
        "MSP_MEMORY_BUDGET_TOKENS"
    );
    let over = env
        .msp_with(
            &[("MSP_MEMORY_BUDGET_TOKENS", "300")],
            &["--json", "config", "show"],
        )
        .expect_code(0)
        .json();
    assert_eq!(over["memory.budget_tokens"]["value"], "300", "{over}");
    assert_eq!(over["memory.half_life_days"]["value"], "7.5", "{over}");

    let bad = env
        .msp_with(&[("MSP_MEMORY_BUDGET_TOKENS", "lots")], &["client", "list"])
        .expect_hint(1);
    common::assert_has(&bad.stderr, "MSP_MEMORY_BUDGET_TOKENS");
}

#[test]
fn config_paths_follow_the_environment() {
    let env = Env::new();
    let paths = env.json(&["config", "paths"]);
    assert_eq!(paths["data_dir"], s(&env.data));
    assert_eq!(paths["store"], s(&env.data.join("msp.db")));
    assert_eq!(paths["config_file"], s(&env.config.join("config.toml")));
}

#[test]
fn harness_ignores_msp_variables_of_the_calling_environment() {
    // The harness clears inherited MSP_* variables: whatever the developer
    // running the tests has set, the store is the env's own.
    let env = Env::setup();
    assert!(env.data.join("msp.db").is_file());
    let cmd = env.command(&["config", "paths"]);
    let mut data_dir = None;
    for (k, v) in cmd.get_envs() {
        if k == "MSP_DATA_DIR" {
            data_dir = v.map(|v| v.to_owned());
        }
    }
    assert_eq!(data_dir.as_deref(), Some(env.data.as_os_str()));
}

// ---- an unusable data dir --------------------------------------------------

#[test]
fn data_dir_below_a_regular_file_is_a_clear_error_with_a_hint() {
    // Tests run as root, so chmod would not stop writes: put the data dir
    // below a regular file instead.
    let mut env = Env::new();
    let file = env.path("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let data = file.join("data");
    env.set_var("MSP_DATA_DIR", &data);

    for args in [&["setup"][..], &["client", "list"], &["session", "start"]] {
        let out = env.msp(args).expect_hint(1);
        assert!(
            out.stderr.contains(s(&data)),
            "`msp {}` should name the directory:\n{}",
            args.join(" "),
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }

    let out = env.msp(&["--json", "doctor"]).expect_code(1);
    let report = out.json();
    let data_dir = common::doctor_check(&report, "data_dir");
    assert_eq!(data_dir["status"], "fail", "{report}");
    assert!(data_dir["hint"].is_string(), "{report}");
}

#[test]
fn unwritable_data_dir_error_gives_the_cause_before_the_hint() {
    // Regression: the OS error was appended to the hint line
    // ("hint: set MSP_DATA_DIR to a writable directory: Not a directory"),
    // so the cause read as part of the advice.
    let mut env = Env::new();
    let file = env.path("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    env.set_var("MSP_DATA_DIR", file.join("data"));
    let out = env.msp(&["client", "list"]).expect_hint(1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let hint = lines.iter().position(|l| l.starts_with("hint: ")).unwrap();
    assert_eq!(
        hint,
        lines.len() - 1,
        "the hint is the last line:\n{}",
        out.stderr
    );
    assert!(
        !lines[hint].contains("os error"),
        "the hint must not carry the OS error:\n{}",
        out.stderr
    );
    assert!(
        // ENOTDIR; Windows says ERROR_ALREADY_EXISTS for the file in the way.
        lines[..hint].iter().any(|l| l.contains(if cfg!(windows) {
            "os error 183"
        } else {
            "os error 20"
        })),
        "the cause (ENOTDIR) comes before the hint:\n{}",
        out.stderr
    );
}

// ---- broken pipes -----------------------------------------------------------

/// Spawns `msp ARGS`, reads a little of its stdout, closes the pipe and
/// returns the outcome. The output must be larger than a pipe buffer so
/// that msp is still writing when the reader goes away.
fn read_a_little_then_close(env: &Env, args: &[&str]) -> common::Out {
    let mut child = env.spawn(args);
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 512];
    stdout.read_exact(&mut buf).expect("some output");
    drop(stdout);
    finish(child, args)
}

#[test]
fn completions_into_a_closed_pipe_exit_0() {
    let env = Env::new();
    let full = env.ok(&["completions", "bash"]).stdout;
    assert!(full.len() > 64 * 1024, "output must exceed a pipe buffer");
    let out = read_a_little_then_close(&env, &["completions", "bash"]).expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn session_list_into_a_closed_pipe_exits_0() {
    let env = Env::setup();
    // Enough rows to make the table bigger than a pipe buffer (64 KiB):
    // one session, copied 1000 times straight into the store. The copies'
    // 32nd character differs from the original's, so no copy can take its id
    // (its last four characters may well be digits).
    let title = "x".repeat(60);
    env.add_session("2026-01-01 09:00", "2026-01-01 10:00", &["--title", &title]);
    env.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO sessions (id, machine_id, client_id, project_id, title, summary, started_at,
             ended_at, billable, origin, claude_session_id, created_at, updated_at)
         SELECT substr(s.id, 1, 31) || iif(substr(s.id, 32, 1) = '0', '1', '0')
                 || printf('%04d', n.i), machine_id, client_id, project_id, title,
             summary, started_at, ended_at, billable, origin, claude_session_id, created_at, updated_at
         FROM sessions s, n",
    );
    let full = env.ok(&["session", "list"]).stdout;
    assert!(full.len() > 64 * 1024, "{} bytes", full.len());
    let out = read_a_little_then_close(&env, &["session", "list"]).expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let out = read_a_little_then_close(&env, &["--json", "session", "list"]).expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

// ---- concurrent processes on one store ----------------------------------------

#[test]
fn concurrent_session_and_task_adds_all_land() {
    let env = Env::setup();
    let mut children = Vec::new();
    for i in 1..=8 {
        let from = format!("2026-02-0{i} 09:00");
        let to = format!("2026-02-0{i} 10:00");
        let title = format!("s{i}");
        let args: Vec<String> = [
            "session", "add", "--from", &from, "--to", &to, "--title", &title,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        children.push((env.spawn(&args), args));
    }
    for i in 1..=8 {
        let args: Vec<String> = ["task", "add", &format!("t{i}")]
            .iter()
            .map(|a| a.to_string())
            .collect();
        children.push((env.spawn(&args), args));
    }
    for (child, args) in children {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = finish(child, &args).expect_code(0);
        assert!(!out.stderr.contains("locked"), "{}", out.stderr);
    }

    let mut sessions: Vec<String> = array(&env.json(&["session", "list"]))
        .iter()
        .map(|s| str_of(s, "title").to_string())
        .collect();
    sessions.sort();
    assert_eq!(
        sessions,
        (1..=8).map(|i| format!("s{i}")).collect::<Vec<_>>()
    );
    let mut tasks: Vec<String> = array(&env.json(&["task", "list"]))
        .iter()
        .map(|t| str_of(t, "title").to_string())
        .collect();
    tasks.sort();
    assert_eq!(tasks, (1..=8).map(|i| format!("t{i}")).collect::<Vec<_>>());
}

#[test]
fn concurrent_session_starts_all_succeed_and_leave_exactly_one_open() {
    // Regression: `session start` read the clock before taking the write
    // lock, so a process that lost the race for the lock could find an open
    // session that started "after" it and failed with "the new start is
    // before the open session's start".
    let env = Env::setup();
    let rounds = 3;
    for round in 0..rounds {
        let children: Vec<_> = (0..4)
            .map(|i| {
                let title = format!("r{round}-{i}");
                (env.spawn(&["session", "start", "--title", &title]), title)
            })
            .collect();
        for (child, title) in children {
            let out = finish(child, &["session", "start", "--title", &title]);
            out.expect_code(0);
        }
        let list = env.json(&["session", "list"]);
        let open = array(&list)
            .iter()
            .filter(|s| s["status"] == "open")
            .count();
        assert_eq!(
            open, 1,
            "exactly one open session after round {round}: {list}"
        );
        assert_eq!(array(&list).len(), 4 * (round + 1));
    }
    let status = env.json(&["session", "status"]);
    assert_eq!(status["open"], true);
}

// ---- completions and help -----------------------------------------------------

#[test]
fn completions_for_bash_zsh_and_fish_mention_msp() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = env.ok(&["completions", shell]);
        assert!(!out.stdout.trim().is_empty(), "{shell}: empty");
        assert!(out.stdout.contains("msp"), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("session"), "{shell}: no subcommands");
    }
    assert!(!env.data.exists(), "completions must not create the store");
    env.msp(&["completions", "tcsh"]).expect_code(2);
}

#[test]
fn help_lists_the_command_groups() {
    let env = Env::new();
    let out = env.ok(&["--help"]);
    for group in [
        "setup",
        "machine",
        "client",
        "project",
        "session",
        "task",
        "doctor",
        "config",
        "completions",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{group} "))),
            "--help does not list `{group}`:\n{}",
            out.stdout
        );
    }
    let session_help = env.ok(&["session", "--help"]).stdout;
    for sub in ["start", "stop", "status", "list", "add", "report"] {
        assert!(session_help.contains(sub), "{session_help}");
    }
    assert!(env.ok(&["--version"]).stdout.starts_with("msp "));
}

#[test]
fn unknown_subcommand_and_missing_arguments_exit_2() {
    let env = Env::new();
    let out = env.msp(&["frobnicate"]).expect_code(2);
    assert!(out.stderr.contains("frobnicate"), "{}", out.stderr);
    env.msp(&["session", "frobnicate"]).expect_code(2);
    env.msp(&["client", "add"]).expect_code(2);
    env.msp(&["session", "add", "--from", "10:00"])
        .expect_code(2);
    let none: [&str; 0] = [];
    env.msp(&none).expect_code(2);
    assert!(!env.data.exists(), "usage errors must not touch the store");
}

#[test]
fn a_libpq_keyword_sync_string_is_masked_in_status_and_config_show() {
    let env = Env::setup();
    for url in [
        "host=127.0.0.1 port=1 user=msp password=Kv-Secret-4711 dbname=msp",
        "host=127.0.0.1 port=1 password='Kv Secret \\' 4711' dbname=msp",
        "postgres://msp@127.0.0.1:1/msp?password=Kv-Secret-4711",
        "postgres://msp:Kv-Secret-4711@127.0.0.1:1/msp",
    ] {
        for args in [
            &["config", "show"][..],
            &["--json", "config", "show"],
            &["sync", "status"],
            &["--json", "sync", "status"],
            &["sync"],
        ] {
            let out = env.msp_with(
                &[
                    ("MSP_SYNC_URL", url),
                    ("MSP_SYNC_CONNECT_TIMEOUT_SECS", "2"),
                ],
                args,
            );
            for text in [&out.stdout, &out.stderr] {
                assert!(!text.contains("Secret"), "{url} {args:?}: {text}");
                assert!(!text.contains("4711"), "{url} {args:?}: {text}");
            }
            if args.contains(&"config") {
                assert!(out.stdout.contains("***"), "{url} {args:?}: {}", out.stdout);
            }
        }
    }
}

#[test]
fn a_locked_store_is_exit_4_with_a_hint_not_a_raw_database_is_locked() {
    let env = Env::setup();
    // The write lock, held while the command runs.
    let lock = "BEGIN IMMEDIATE; INSERT INTO local_state (key, value) VALUES ('held', 'x')";
    common::while_holding(&env.db(), lock, || {
        let out = env.msp(&["client", "add", "Blocked Corp"]).expect_hint(4);
        assert!(out.stderr.contains("store is busy"), "{}", out.stderr);
        assert!(out.stderr.contains("fuser"), "{}", out.stderr);
    });
    env.ok(&["client", "add", "Blocked Corp"]);
}

#[test]
fn long_and_control_character_names_never_panic_or_escape_table_output() {
    let env = Env::setup();
    // Windows caps a whole command line at 32767 UTF-16 units (and `task
    // add` gives the name twice).
    let long = format!(
        "Acme{}",
        "x".repeat(if cfg!(windows) { 12_000 } else { 70_000 })
    );
    let nasty = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}\rCorp\tLtd";
    for name in [long.as_str(), nasty] {
        let c = env.json(&["client", "add", name]);
        let slug = str_of(&c, "slug").to_string();
        env.ok(&["task", "add", name, "--client", &slug]);
        env.add_session(
            "2026-01-05 09:00",
            "2026-01-05 10:00",
            &["--client", &slug, "--title", name],
        );
    }
    for args in [
        &["client", "list"][..],
        &[
            "session",
            "list",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01",
        ],
        &["task", "list"],
        &[
            "session",
            "report",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01",
        ],
        &[
            "session",
            "report",
            "--by",
            "project",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01",
        ],
    ] {
        let out = env.ok(args);
        assert!(!out.stdout.contains('\u{1b}'), "{args:?}: {}", out.stdout);
        assert!(!out.stdout.contains('\r'), "{args:?}");
        assert!(!out.stdout.contains('\u{7}'), "{args:?}");
        for line in out.stdout.lines() {
            assert!(
                line.chars().count() < 1_000,
                "{args:?}: a line of {}",
                line.len()
            );
        }
        if !args.contains(&"project") {
            assert!(out.stdout.contains('…'), "{args:?}: {}", out.stdout);
            assert!(
                out.stdout.contains("Evil\\u{1b}[2J"),
                "{args:?}: {}",
                out.stdout
            );
        }
    }
}

#[test]
fn an_error_prints_its_hint_on_the_next_line_and_keeps_its_exit_code() {
    let env = crate::common::Env::setup();
    let out = env.msp(&["client", "show", "nosuch"]).expect_code(3);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: client not found: nosuch"),
        "{}",
        out.stderr
    );
    assert!(lines[1].starts_with("hint: "), "{}", out.stderr);
    assert!(!lines[0].contains("hint:"), "{}", out.stderr);
}
