//! The output matches itself: text and JSON from the same values, one time
//! format per kind of output (tables local, JSON RFC 3339), resolved paths,
//! no statement that says nothing, and "did you mean" for mistyped names.

use crate::common::{self, Env, acme, array, s, str_of};

fn local_minute(text: &str) -> bool {
    regex::Regex::new(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")
        .unwrap()
        .is_match(text)
}

fn rfc3339_in(text: &str) -> bool {
    regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?Z")
        .unwrap()
        .is_match(text)
}

/// `context stats` printed `stored tokens 99` while `--json` said 489: the
/// text showed captured memories only.
#[test]
fn context_stats_text_and_json_report_the_same_stored_tokens() {
    let env = Env::setup();
    env.remember(
        "Veeam job",
        "Nightly job D2-NAS at 01:00, 14 days retention, repository nas01 backup share.",
        &[],
    );
    let notes = env.path("n.jsonl");
    std::fs::write(
        &notes,
        "{\"title\":\"Printer\",\"body\":\"HP universal driver 7.1 fixes the duplex bug.\"}\n",
    )
    .unwrap();
    env.ok(&["context", "import", s(&notes)]);
    let json = env.json(&["context", "stats"]);
    let text = env.ok(&["context", "stats"]).stdout;
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in:\n{text}"))
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(json["stored_tokens"].as_i64().unwrap() > 0, "{json}");
    assert_eq!(
        field("stored tokens"),
        json["stored_tokens"].as_i64().unwrap(),
        "{text}\n{json}"
    );
    assert_eq!(
        field("raw tokens"),
        json["raw_tokens"].as_i64().unwrap(),
        "{text}\n{json}"
    );
    assert_eq!(field("memories"), json["memories"].as_i64().unwrap());
    assert_eq!(
        field("captured"),
        json["captured_memories"].as_i64().unwrap()
    );
}

/// `agent list`, `agent audit` and `machine show` printed RFC 3339 in their
/// tables while every other table printed local `2026-12-04 16:21`.
#[test]
fn agent_and_machine_tables_print_local_times_and_json_rfc3339() {
    let env = Env::setup();
    env.msp(&["agent", "exec", "self", "--wait", "--", "true"])
        .expect_code(0);
    for args in [
        vec!["agent", "list"],
        vec!["agent", "audit"],
        vec!["machine", "show"],
    ] {
        let text = env.ok(&args).stdout;
        assert!(local_minute(&text), "`msp {}`:\n{text}", args.join(" "));
        assert!(!rfc3339_in(&text), "`msp {}`:\n{text}", args.join(" "));
        let json = env.json(&args).to_string();
        assert!(
            rfc3339_in(&json),
            "`msp --json {}`:\n{json}",
            args.join(" ")
        );
    }
    let id = str_of(&array(&env.json(&["agent", "list"]))[0], "id").to_string();
    let shown = env.ok(&["agent", "show", &id]).stdout;
    assert!(local_minute(&shown) && !rfc3339_in(&shown), "{shown}");
}

/// `project unlink .` printed `unlinked .` instead of the directory.
#[test]
fn project_unlink_dot_prints_the_resolved_path() {
    let (env, dir) = acme();
    let out = env.msp_in(&dir, &["project", "unlink", "."]).expect_code(0);
    assert_eq!(out.stdout.trim(), format!("unlinked {}", dir.display()));
    env.ok(&["project", "link", "--project", "acme-site", s(&dir)]);
    let v = env.json_in(&dir, &["project", "unlink", "."]);
    assert_eq!(v["unlinked"], s(&dir), "{v}");
}

/// A JSONL import said "tokens 0 -> 0 (0.0% less)".
#[test]
fn jsonl_import_says_nothing_about_tokens_it_did_not_reduce() {
    let env = Env::setup();
    let notes = env.path("n.jsonl");
    std::fs::write(&notes, "{\"title\":\"Gate code rotates monthly\"}\n").unwrap();
    let out = env.ok(&["context", "import", s(&notes)]).stdout;
    assert!(out.contains("1 memories added"), "{out}");
    assert!(!out.contains("tokens 0 -> 0"), "{out}");
    assert!(!out.contains("tokens"), "{out}");
}

/// A mistyped client name got no "did you mean".
#[test]
fn mistyped_client_project_and_machine_names_get_did_you_mean() {
    let (env, _dir) = acme();
    env.ok(&["client", "add", "Dataforth"]);
    let out = env.msp(&["client", "show", "Datafort"]).expect_hint(3);
    common::assert_has(&out.stderr, "did you mean \"Dataforth\"?");
    let out = env
        .msp(&["session", "start", "--client", "dtaforth"])
        .expect_hint(3);
    assert!(out.stderr.contains("did you mean"), "{}", out.stderr);
    let out = env.msp(&["project", "show", "acme-stie"]).expect_hint(3);
    common::assert_has(&out.stderr, "did you mean \"acme-site\"?");
    env.ok(&["machine", "update", "self", "--name", "bluewhale"]);
    let out = env.msp(&["machine", "show", "bluewhal"]).expect_hint(3);
    common::assert_has(&out.stderr, "did you mean \"bluewhale\"?");
    // Nothing close: no guess.
    let out = env.msp(&["client", "show", "Zanzibar"]).expect_hint(3);
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

/// A bad config.toml said "hint: msp config show lists every setting", but
/// `msp config show` failed with the same error.
#[test]
fn bad_config_names_line_and_column_and_config_check_works() {
    let env = Env::setup();
    std::fs::create_dir_all(&env.config).unwrap();
    let file = env.config.join("config.toml");
    std::fs::write(
        &file,
        "[memory]\nbudget_tokens = 500\nhalf_life_days = \"long\"\n",
    )
    .unwrap();
    let place = format!("{}:3:18:", file.display());
    let out = env.msp(&["client", "list"]).expect_hint(1);
    assert!(out.stderr.contains(&place), "{}", out.stderr);
    assert!(out.stderr.contains("msp config check"), "{}", out.stderr);
    assert!(!out.stderr.contains("config show"), "{}", out.stderr);
    // The command the hint names works on the broken file and says where.
    let check = env.msp(&["config", "check"]).expect_hint(1);
    assert!(check.stderr.contains(&place), "{}", check.stderr);
    std::fs::write(&file, "[memory]\nbudgett = 5\n").unwrap();
    let check = env.msp(&["config", "check"]).expect_hint(1);
    common::assert_has(&check.stderr, ":2:1: unknown field `budgett`");
    std::fs::write(&file, "[memory]\nbudget_tokens = 500\n").unwrap();
    let ok = env.ok(&["config", "check"]);
    assert!(ok.stdout.starts_with("ok "), "{}", ok.stdout);
    let bad_env = env
        .msp_with(
            &[("MSP_MEMORY_UNLINKED_SCOPE", "some")],
            &["config", "check"],
        )
        .expect_hint(1);
    common::assert_has(&bad_env.stderr, "MSP_MEMORY_UNLINKED_SCOPE");
    // A script reads the failure as JSON too (stdout was empty).
    let json = env
        .msp_with(
            &[("MSP_MEMORY_UNLINKED_SCOPE", "some")],
            &["--json", "config", "check"],
        )
        .expect_hint(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        str_of(&v, "error").contains("MSP_MEMORY_UNLINKED_SCOPE"),
        "{v}"
    );
    // A misspelt variable was ignored without a word.
    let typo = env
        .msp_with(&[("MSP_MEMORY_BUDGET_TOKENZ", "5")], &["config", "check"])
        .expect_code(0);
    common::assert_has(
        &typo.stderr,
        "MSP_MEMORY_BUDGET_TOKENZ is no msp setting, so it is ignored (did you mean MSP_MEMORY_BUDGET_TOKENS?)",
    );
}

/// `MSP_MEMORY_WEIGHT_TEXT=nan` was taken: every search result scored NaN
/// and ranked in no order; a negative weight or a fold share of 2 were taken
/// too. Number settings now have ranges, named with where the value came from.
#[test]
fn nan_or_out_of_range_recall_settings_are_refused_not_ranked_silently() {
    let env = Env::setup();
    env.ok(&[
        "context",
        "add",
        "--title",
        "Time sync on DC01",
        "--body",
        "DC01 takes its time from pool.ntp.org",
    ]);
    let out = env
        .msp_with(
            &[("MSP_MEMORY_WEIGHT_TEXT", "nan")],
            &["context", "search", "time sync"],
        )
        .expect_hint(1);
    common::assert_has(
        &out.stderr,
        "MSP_MEMORY_WEIGHT_TEXT=\"nan\": memory.weight_text must be 0 or more, not NaN",
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    std::fs::create_dir_all(&env.config).unwrap();
    let file = env.config.join("config.toml");
    std::fs::write(&file, "[memory]\nfold_similar = 2\n").unwrap();
    let check = env.msp(&["config", "check"]).expect_hint(1);
    common::assert_has(
        &check.stderr,
        &format!(
            "{}:2:16: memory.fold_similar must be from 0 to 1, not 2",
            file.display()
        ),
    );
    common::assert_has(&check.stderr, "docs/reference/config.md");
    std::fs::write(&file, "[memory]\nfold_similar = 1\n").unwrap();
    let found = env.ok(&["context", "search", "time sync"]);
    common::assert_has(&found.stdout, "Time sync on DC01");
}

/// `vault list` and `vault history` cut the UTC RFC 3339 time to
/// `YYYY-MM-DD HH:MM`: UTC shown as if it were local. Run five hours east
/// of UTC, the tables must show the JSON time plus five hours.
#[test]
fn vault_tables_print_local_times_not_cut_utc() {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_KDF_MEMORY_KIB", "64");
    env.set_var("MSP_VAULT_KDF_ITERATIONS", "1");
    env.set_var("MSP_VAULT_PASSPHRASE", "correct horse battery staple");
    env.set_var("TZ", "Etc/GMT-5");
    env.ok(&["client", "add", "Dataforth"]);
    env.ok(&["vault", "init"]);
    env.msp_stdin(
        &["vault", "set", "Dataforth/nas", "password=-"],
        "s3cret-Value-1",
    )
    .expect_code(0);
    let json = env.json(&["vault", "list"]);
    let utc = str_of(&array(&json)[0], "updated_at").to_string();
    let t = chrono::DateTime::parse_from_rfc3339(&utc).unwrap() + chrono::Duration::hours(5);
    let want = t.format("%Y-%m-%d %H:%M").to_string();
    for args in [
        vec!["vault", "list"],
        vec!["vault", "history", "Dataforth/nas"],
    ] {
        let text = env.ok(&args).stdout;
        assert!(
            text.contains(&want),
            "`msp {}` should show {want}:\n{text}",
            args.join(" ")
        );
    }
}

/// `msp sync init --url http://example.com` was taken as a team store: msp
/// looked the host up and tried to connect. Another scheme is refused first.
#[test]
fn a_sync_url_of_another_scheme_is_refused_before_any_connection() {
    let env = Env::setup();
    let out = env
        .msp(&["sync", "init", "--url", "http://msp-test.invalid/db"])
        .expect_hint(2);
    common::assert_has(&out.stderr, "is not a PostgreSQL URL (http://)");
    common::assert_has(&out.stderr, "postgres://USER@HOST");

    // The URL is checked before its password is dealt with (asked for on a
    // terminal, or warned about when given in the URL), and the password
    // never shows.
    let out = env
        .msp(&[
            "sync",
            "init",
            "--url",
            "https://tech:Hunter2-secret@msp-test.invalid/db",
        ])
        .expect_hint(2);
    common::assert_has(&out.stderr, "is not a PostgreSQL URL (https://)");
    assert!(
        !out.stderr.contains("warning: the password"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Hunter2-secret"), "{}", out.stderr);
}
