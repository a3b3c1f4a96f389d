//! `msp ticket …` against a local SyncroMSP (tests/it/support/fake_syncro.rs)
//! over real HTTP: setup with the key in the vault, search and show, notes
//! and time from sessions, and no duplicate writes under 500s, timeouts,
//! 429s, malformed answers and crashes.

// The fake's ticket JSON is as wide as the contract's.

use crate::common;
use crate::support::fake_syncro;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Env, Out, array, str_of};
use fake_syncro::{FakeSyncro, Fault, KEY};
use rstest::rstest;
use serde_json::Value;

const PASS: &str = "correct horse battery staple";
const KEY_REF: &str = "msp://dataforth/syncro/api_key";
/// The request is applied, and answered only after msp's timeout.
const SLOW_AFTER_COMMIT: Fault = Fault::SleepAfterCommit(Duration::from_secs(3));

/// A set-up env with client Dataforth, a vault holding `key` at
/// [`KEY_REF`], and the ticket provider pointed at `server`. Requests time
/// out after 1 s and retries pause 10 ms, so faults are quick to test.
fn tenv_with_key(server: &FakeSyncro, key: &str) -> Env {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_KDF_MEMORY_KIB", "64");
    env.set_var("MSP_VAULT_KDF_ITERATIONS", "1");
    env.set_var("MSP_VAULT_PASSPHRASE", PASS);
    env.set_var("MSP_TICKETS_TIMEOUT_SECS", "1");
    env.set_var("MSP_TICKETS_RETRY_BACKOFF_MS", "10");
    env.ok(&["client", "add", "Dataforth"]);
    env.ok(&["vault", "init"]);
    env.msp_stdin(&["vault", "set", "dataforth/syncro", "api_key=-"], key)
        .expect_code(0);
    setup_syncro(&env, "acme", KEY_REF, &["--base-url", &server.base_url]).expect_code(0);
    env
}

fn tenv(server: &FakeSyncro) -> Env {
    tenv_with_key(server, KEY)
}

/// A fake Syncro server and an env set up against it.
fn syncro_env() -> (FakeSyncro, Env) {
    let server = FakeSyncro::start();
    let env = tenv(&server);
    (server, env)
}

/// `msp ticket setup syncro --subdomain SUBDOMAIN --api-key-ref KEY_REF`, and `extra`.
fn setup_syncro(env: &Env, subdomain: &str, key_ref: &str, extra: &[&str]) -> Out {
    let mut args = vec![
        "ticket",
        "setup",
        "syncro",
        "--subdomain",
        subdomain,
        "--api-key-ref",
        key_ref,
    ];
    args.extend_from_slice(extra);
    env.msp(&args)
}

/// `msp ticket note 1001 --body BODY`.
fn note_on_1001(body: &str) -> [&str; 5] {
    ["ticket", "note", "1001", "--body", body]
}

/// `msp ticket time 1001 --minutes MINUTES --notes NOTES`.
fn time_on_1001<'a>(minutes: &'a str, notes: &'a str) -> [&'a str; 7] {
    [
        "ticket",
        "time",
        "1001",
        "--minutes",
        minutes,
        "--notes",
        notes,
    ]
}

/// A closed session for Dataforth from 3h ago to 1h ago, with a summary,
/// and two memories saved during it (and one after it, not to be used).
fn past_session(env: &Env) -> String {
    let s = env.add_session(
        "3h ago",
        "1h ago",
        &[
            "--client",
            "Dataforth",
            "--title",
            "Veeam repair",
            "--summary",
            "Backups run again.",
        ],
    );
    for (title, body, at) in [
        (
            "Restarted the Veeam service on d2testnas",
            "systemctl restart veeam; verified: the nightly job ran green",
            "2h ago",
        ),
        (
            "Freed 40 GB on the backup volume",
            "removed old restore points; df shows 35% free",
            "90m ago",
        ),
        ("Unrelated later work", "not part of the session", "30m ago"),
    ] {
        env.remember(title, body, &["--client", "Dataforth", "--at", at]);
    }
    str_of(&s, "id").to_string()
}

fn posts(server: &FakeSyncro, suffix: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
        .count()
}

fn outbox_status(env: &Env) -> Vec<String> {
    let log = env.json(&["ticket", "sync", "--dry-run"]);
    array(&log["queued"])
        .iter()
        .map(|i| str_of(i, "status").to_string())
        .collect()
}

#[test]
fn setup_keeps_only_the_reference_and_the_key_never_leaks() {
    let (server, env) = syncro_env();
    // A reference to nothing is refused with a hint.
    setup_syncro(&env, "acme", "msp://dataforth/nothing/api_key", &[]).expect_hint(3);
    setup_syncro(&env, "not a name", KEY_REF, &[]).expect_hint(2);

    let search = env.ok(&["ticket", "search"]);
    let note = env.ok(&note_on_1001("Checked the logs."));
    let log = env.ok(&["--json", "ticket", "log"]);
    let reqs = server.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!(r.authorization.as_deref(), Some(&*format!("Bearer {KEY}")));
        assert!(
            !r.query.as_deref().unwrap_or_default().contains(KEY),
            "key in a URL: {r:?}"
        );
        assert!(!r.path.contains(KEY));
    }
    for text in [
        &search.stdout,
        &search.stderr,
        &note.stdout,
        &note.stderr,
        &log.stdout,
        &log.stderr,
    ] {
        assert!(!text.contains(KEY), "key printed:\n{text}");
    }
    // Neither the store nor the log file holds it in plaintext.
    for file in ["msp.db", "msp.db-wal", "msp.log"] {
        if let Ok(bytes) = std::fs::read(env.data.join(file)) {
            assert!(
                !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                "key in {file}"
            );
        }
    }
    let calls = log.json();
    assert!(array(&calls).iter().any(|c| {
        c["method"] == "POST"
            && c["status"] == 200
            && c["path"] == "/tickets/1001/comment"
            && c["request_body"]
                .as_str()
                .unwrap()
                .contains("Checked the logs.")
    }));
}

/// The key's reference named the client by its slug: renaming the client
/// (its slug follows the name) left the PSA with no key to call with.
#[test]
fn renaming_the_client_keeps_the_psa_key() {
    let (server, env) = syncro_env();
    let set = env.json(&[
        "ticket",
        "setup",
        "syncro",
        "--base-url",
        &server.base_url,
        "--api-key-ref",
        KEY_REF,
    ]);
    assert_eq!(set["api_key_ref"], KEY_REF, "shown as given: {set:#}");
    env.ok(&["client", "rename", "dataforth", "Dataforth Industrial"]);
    let found = env.json(&["ticket", "customers", "--query", "dataforth"]);
    assert_eq!(array(&found).len(), 1, "{found:#}");
    env.ok(&["ticket", "search"]);

    // A set-up from an older msp kept the slug: the first call rewrites it
    // by the client's id, so that a later rename keeps it too.
    let shown = env.json(&["client", "show", "dataforth-industrial"]);
    let id = shown["id"].as_str().unwrap_or_else(|| panic!("{shown:#}"));
    env.sql(
        "UPDATE ticket_providers SET api_key_ref = 'msp://dataforth-industrial/syncro/api_key'",
    );
    env.ok(&["ticket", "customers"]);
    let by_id = format!("SELECT api_key_ref = 'msp://{id}/syncro/api_key' FROM ticket_providers");
    assert_eq!(env.sql_i64(&by_id), 1);
    env.ok(&["client", "rename", "dataforth-industrial", "DF Industrial"]);
    env.ok(&["ticket", "customers"]);
}

#[test]
fn a_refused_key_exits_4_with_a_hint() {
    let server = FakeSyncro::start_with_key("the-real-key-0000");
    let env = tenv_with_key(&server, "a-wrong-key-1111");
    let out = env.msp(&["ticket", "search"]).expect_hint(4);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
    assert!(out.stderr.contains(KEY_REF), "{}", out.stderr);
    // A refused write stays queued for a later sync.
    env.msp(&note_on_1001("x")).expect_code(4);
    assert_eq!(outbox_status(&env), vec!["pending"]);
}

/// The hint once named `msp vault rotate CLIENT/ITEM/FIELD api_key=-`, which
/// the vault refuses (the field named twice): the command it names must work.
#[test]
fn the_refused_key_hint_names_a_rotate_command_that_works() {
    let server = FakeSyncro::start_with_key("the-real-key-0000");
    let env = tenv_with_key(&server, "a-wrong-key-1111");
    let out = env.msp(&["ticket", "search"]).expect_hint(4);
    let hint = out
        .stderr
        .lines()
        .find(|l| l.contains("hint:"))
        .expect("a hint");
    let command = hint
        .split("replace it: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no rotate command in {hint:?}"));
    assert_eq!(command, "msp vault rotate dataforth/syncro api_key=-");
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    env.msp_stdin(&args, "the-real-key-0000").expect_code(0);
    let found = env.json(&["ticket", "search", "--mine"]);
    assert_eq!(str_of(&found[0], "id"), "1001");
}

/// A note typed with `--body` is the user's: sent as typed. The call log
/// kept it verbatim, passwords included; it now keeps it redacted.
#[test]
fn a_password_in_a_typed_note_is_sent_but_not_kept_in_the_call_log() {
    let (server, env) = syncro_env();
    let vault_value = "Zq8vLp3Ty6mWx2Rk";
    env.msp_stdin(
        &["vault", "set", "dataforth/nas", "password=-"],
        vault_value,
    )
    .expect_code(0);
    let body = format!(
        "Reset the NAS admin to {vault_value}; the Veeam service uses password=Hunter2Hunter2"
    );
    env.ok(&["ticket", "note", "1001", "--body", &body]);
    let sent = server.comments(1001)[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sent.starts_with(&body), "sent as typed: {sent}");

    let log = env.ok(&["--json", "ticket", "log"]);
    let calls = log.json();
    let post = array(&calls)
        .iter()
        .find(|c| c["method"] == "POST")
        .expect("the POST is logged");
    let logged = str_of(post, "request_body");
    assert!(logged.contains("Reset the NAS admin to"), "{logged}");
    for secret in [vault_value, "Hunter2Hunter2"] {
        assert!(!logged.contains(secret), "{secret} logged: {logged}");
        assert!(!log.stdout.contains(secret), "{secret} in `ticket log`");
    }
}

/// A rich-text PSA may keep the note as entity-encoded HTML (`msp&#x3a;<id>`,
/// `<br>` line breaks). Read back after a timeout, the marker must still be
/// found: it was looked for verbatim, so the note was posted twice.
#[test]
fn a_note_the_server_stored_as_html_is_found_after_a_timeout_and_not_posted_twice() {
    let (server, env) = syncro_env();
    server.store_comments_as_html();
    server.fail_next("POST", "/comment", SLOW_AFTER_COMMIT);
    let item = env.json(&note_on_1001(
        "Moved <backup> jobs & checked \"retention\".\nAll green.",
    ));
    assert_eq!(str_of(&item, "how"), "found_on_ticket");
    let comments = server.comments(1001);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let stored = comments[0]["body"].as_str().unwrap();
    assert!(stored.contains("&lt;backup&gt;"), "{stored}");
    assert!(stored.contains("<br>\r\nmsp&#x3a;"), "{stored}");
    assert_eq!(posts(&server, "/comment"), 1);
}

/// A server that rounds a timer's start to the minute (and keeps its notes
/// as HTML): read back after a 500, the entry must still be recognised.
#[test]
fn a_time_entry_whose_start_the_server_rounded_is_not_logged_twice() {
    let (server, env) = syncro_env();
    server.round_timer_starts();
    server.store_comments_as_html();
    server.fail_next("POST", "/timer_entry", Fault::ErrorAfterCommit);
    let item = env.json(&time_on_1001("25", "Firmware & BIOS update"));
    assert_eq!(str_of(&item, "how"), "found_on_ticket");
    let timers = server.timers(1001);
    assert_eq!(timers.len(), 1, "{timers:?}");
    assert!(
        timers[0]["start_time"]
            .as_str()
            .unwrap()
            .ends_with(":00.000Z"),
        "{timers:?}"
    );
    assert_eq!(posts(&server, "/timer_entry"), 1);
}

/// With the start matched within a minute, a second entry with the same
/// notes, logged right after the first, must not be taken for it when its
/// own POST fails before anything was saved: the first is another item's.
#[test]
fn a_second_identical_time_entry_after_a_500_is_not_mistaken_for_the_first() {
    let (server, env) = syncro_env();
    let args = time_on_1001("10", "Check-in");
    env.ok(&args);
    server.fail_next("POST", "/timer_entry", Fault::ErrorBeforeCommit);
    let second = env.json(&args);
    assert_eq!(str_of(&second, "how"), "posted");
    assert_eq!(server.timers(1001).len(), 2);
    assert_eq!(posts(&server, "/timer_entry"), 3);
}

/// Two `msp ticket sync` at once (a second terminal, a cron job): each
/// item is posted by one of them, once.
#[test]
fn two_syncs_at_once_post_each_item_once() {
    let (server, env) = syncro_env();
    let session = past_session(&env);
    env.ok(&[
        "ticket",
        "link",
        "1001",
        "--session",
        &session,
        "--auto-sync",
    ]);
    // The first POST is slow, so the second sync starts while it is under way.
    server.fail_next(
        "POST",
        "/comment",
        Fault::Latency(Duration::from_millis(700)),
    );
    let first = env.spawn(&["ticket", "sync"]);
    let second = env.spawn(&["ticket", "sync"]);
    let first = common::finish(first, &["ticket", "sync"]).expect_code(0);
    let second = common::finish(second, &["ticket", "sync"]).expect_code(0);
    assert_eq!(
        server.comments(1001).len(),
        1,
        "{}\n{}",
        first.stdout,
        second.stdout
    );
    assert_eq!(server.timers(1001).len(), 1);
    assert_eq!(posts(&server, "/comment"), 1);
    assert_eq!(posts(&server, "/timer_entry"), 1);
    assert!(outbox_status(&env).is_empty());
}

#[test]
fn search_reads_every_page_and_passes_the_filters() {
    let (server, env) = syncro_env();
    let all = env.json(&["ticket", "search"]);
    assert_eq!(array(&all).len(), 30, "both pages: {all}");
    let pages: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/tickets")
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(pages, vec!["page=1", "page=2"]);

    let mine = env.json(&["ticket", "search", "--mine"]);
    assert_eq!(array(&mine).len(), 1);
    assert_eq!(str_of(&mine[0], "id"), "1001");
    assert_eq!(str_of(&mine[0], "number"), "501");
    assert_eq!(str_of(&mine[0], "customer"), "Dataforth Corp");

    let by_name = env.json(&["ticket", "search", "--customer", "Dataforth Corp"]);
    assert_eq!(array(&by_name).len(), 1);
    let by_id = env.json(&["ticket", "search", "--customer", "2", "--status", "New"]);
    assert_eq!(str_of(&by_id[0], "subject"), "Printer offline");
    let q = env.json(&["ticket", "search", "--query", "veeam"]);
    assert_eq!(array(&q).len(), 1);
    env.msp(&["ticket", "search", "--customer", "Nobody Inc"])
        .expect_hint(3);

    let table = env.ok(&["ticket", "search", "--mine"]);
    assert!(table.stdout.starts_with("ID"), "{}", table.stdout);
    assert!(table.stdout.contains("Veeam backup job failing"));
}

#[test]
fn customers_lists_every_page() {
    let (_server, env) = syncro_env();
    let all = env.json(&["ticket", "customers"]);
    assert_eq!(array(&all).len(), 32);
    let found = env.json(&["ticket", "customers", "--query", "dataforth"]);
    assert_eq!(array(&found).len(), 1);
    assert_eq!(str_of(&found[0], "name"), "Dataforth Corp");
    assert_eq!(str_of(&found[0], "id"), "1");
}

#[test]
fn show_has_comments_and_time_entries_and_errors_have_exit_codes() {
    let (server, env) = syncro_env();
    server.add_comment(1001, "Call", "Customer reports failed backups", false);
    env.ok(&time_on_1001("15", "Triage"));
    let t = env.json(&["ticket", "show", "1001"]);
    assert_eq!(str_of(&t, "subject"), "Veeam backup job failing");
    assert_eq!(array(&t["comments"]).len(), 1);
    assert_eq!(t["comments"][0]["hidden"], false);
    assert_eq!(array(&t["time_entries"]).len(), 1);
    assert_eq!(str_of(&t["time_entries"][0], "notes"), "Triage");
    let text = env.ok(&["ticket", "show", "1001"]).stdout;
    assert!(text.contains("Customer reports failed backups"), "{text}");
    assert!(text.contains("Triage"), "{text}");

    env.msp(&["ticket", "show", "999999"]).expect_hint(3);
    env.msp(&["ticket", "show", "abc"]).expect_hint(2);
}

#[test]
fn network_failure_exits_1_with_a_hint() {
    let (_server, env) = syncro_env();
    // Nothing listens on port 9 (discard) on the loopback interface.
    setup_syncro(
        &env,
        "acme",
        KEY_REF,
        &["--base-url", "http://127.0.0.1:9/api/v1"],
    )
    .expect_code(0);
    let out = env.msp(&["ticket", "search"]).expect_hint(1);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    // A note that could not be posted stays queued. The hint said "run the
    // command again", which queued a second copy for `ticket sync` to post.
    let note = env
        .msp(&[
            "ticket",
            "note",
            "1001",
            "--body",
            "Replaced the core switch",
        ])
        .expect_hint(1);
    common::assert_has(&note.stderr, "stays queued: `msp ticket sync` posts it");
    common::assert_lacks(&note.stderr, "run the command again");
    let dry = env.json(&["ticket", "sync", "--dry-run"]);
    assert_eq!(array(&dry["queued"]).len(), 1, "{dry}");
}

#[test]
fn reads_are_retried_after_500_and_429() {
    let (server, env) = syncro_env();
    server.fail_next("GET", "/tickets/1001", Fault::ErrorBeforeCommit);
    server.fail_next("GET", "/tickets/1001", Fault::RateLimited(1));
    server.fail_next("GET", "/tickets/1001", Fault::MalformedAfterCommit);
    let t = env.json(&["ticket", "show", "1001"]);
    assert_eq!(str_of(&t, "id"), "1001");
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 429, 200, 200]);
    let log = env.json(&["ticket", "log"]);
    let retries: Vec<i64> = array(&log)
        .iter()
        .rev()
        .map(|c| c["retry"].as_i64().unwrap())
        .collect();
    assert_eq!(retries, vec![0, 1, 2, 3]);
    assert!(array(&log).iter().all(|c| c["duration_ms"].is_i64()));
}

#[test]
fn note_from_session_is_internal_lists_the_changes_and_is_posted_once() {
    let (server, env) = syncro_env();
    let session = past_session(&env);

    let dry = env.ok(&[
        "ticket",
        "note",
        "1001",
        "--from-session",
        &session,
        "--dry-run",
    ]);
    common::assert_has(&dry.stdout, "Veeam repair (Dataforth)");
    assert!(dry.stdout.contains("Backups run again."));
    assert!(dry.stdout.contains("Changes made today:\n- Restarted the Veeam service on d2testnas: systemctl restart veeam; verified: the nightly job ran green\n- Freed 40 GB"), "{}", dry.stdout);
    assert!(!dry.stdout.contains("Unrelated later work"));
    assert!(server.requests().is_empty(), "a dry run calls nothing");

    let posted = env.json(&["ticket", "note", "1001", "--from-session", &session]);
    assert_eq!(str_of(&posted, "status"), "sent");
    assert_eq!(str_of(&posted, "how"), "posted");
    let comments = server.comments(1001);
    assert_eq!(comments.len(), 1);
    let c = &comments[0];
    assert_eq!(c["hidden"], true);
    assert_eq!(c["do_not_email"], true);
    assert_eq!(c["subject"], "Veeam repair");
    let body = c["body"].as_str().unwrap();
    assert!(
        body.contains("- Freed 40 GB on the backup volume"),
        "{body}"
    );
    assert!(
        body.ends_with(&format!("\n\nmsp:{}", str_of(&posted, "id"))),
        "{body}"
    );

    // The same session's note again: nothing new is posted.
    let again = env.ok(&["ticket", "note", "1001", "--from-session", &session]);
    common::assert_has(&again.stdout, "not posted again");
    assert_eq!(server.comments(1001).len(), 1);
    assert_eq!(posts(&server, "/comment"), 1);

    // --public makes it visible and emailed.
    env.ok(&[
        "ticket",
        "note",
        "1002",
        "--body",
        "Replaced the toner.",
        "--public",
    ]);
    let c = &server.comments(1002)[0];
    assert_eq!(
        (c["hidden"].clone(), c["do_not_email"].clone()),
        (false.into(), false.into())
    );
}

#[test]
fn a_422_is_a_clear_message_and_the_item_is_not_retried() {
    let (server, env) = syncro_env();
    server.fail_next("POST", "/comment", Fault::Unprocessable);
    let out = env.msp(&note_on_1001("Checked.")).expect_hint(1);
    assert!(
        out.stderr
            .contains("Body can't be blank; Subject can't be blank"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("422"), "{}", out.stderr);
    let sync = env.ok(&["ticket", "sync"]);
    assert!(sync.stderr.contains("not retried"), "{}", sync.stderr);
    assert_eq!(posts(&server, "/comment"), 1);
}

/// Posts a note while `fault` hits the first POST, and checks that exactly
/// one comment ends up on the ticket, with the outbox item sent.
fn note_survives(fault: Fault, expect_posts: usize) -> (FakeSyncro, Env) {
    let (server, env) = syncro_env();
    server.fail_next("POST", "/comment", fault);
    let item = env.json(&note_on_1001("Rebooted the NAS."));
    assert_eq!(str_of(&item, "status"), "sent");
    assert_eq!(
        server.comments(1001).len(),
        1,
        "one comment, not a duplicate"
    );
    assert_eq!(posts(&server, "/comment"), expect_posts);
    assert_eq!(
        str_of(&item, "remote_id"),
        server.comments(1001)[0]["id"].to_string()
    );
    (server, env)
}

#[test]
fn a_500_after_the_comment_was_saved_does_not_post_it_twice() {
    let (server, env) = note_survives(Fault::ErrorAfterCommit, 1);
    // It was read back before anything was posted again.
    let seq: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        seq,
        vec![
            ("POST".into(), "/api/v1/tickets/1001/comment".into()),
            ("GET".into(), "/api/v1/tickets/1001".into()),
        ]
    );
    let log = env.json(&["ticket", "log"]);
    assert_eq!(log[1]["status"], 500);
    assert!(log[1]["outbox_id"].is_string());
}

#[test]
fn a_timeout_after_the_comment_was_saved_does_not_post_it_twice() {
    let (_server, env) = note_survives(SLOW_AFTER_COMMIT, 1);
    let log = env.json(&["ticket", "log"]);
    let post = array(&log).iter().find(|c| c["method"] == "POST").unwrap();
    assert!(post["status"].is_null(), "no answer: {post}");
    assert!(
        str_of(post, "error").contains("no answer within 1 s"),
        "{post}"
    );
}

#[rstest]
#[case::a_malformed_answer_after_the_comment_was_saved_does_not_post_it_twice(
    Fault::MalformedAfterCommit,
    1
)]
#[case::a_500_before_the_comment_was_saved_posts_it_once_more(Fault::ErrorBeforeCommit, 2)]
fn a_fault_on_the_note_post_leaves_one_comment(#[case] fault: Fault, #[case] posts: usize) {
    note_survives(fault, posts);
}

#[test]
fn a_429_on_a_write_waits_for_retry_after_and_posts_once() {
    let (server, env) = note_survives(Fault::RateLimited(1), 2);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200, 200], "POST 429, GET, POST");
    let log = env.json(&["ticket", "log"]);
    assert_eq!(log[2]["status"], 429);
    assert_eq!(log[0]["retry"], 1);
}

/// `msp ticket note 1001 --body BODY` in the background, with a 60 s
/// timeout so that the test decides when it dies.
fn spawn_note(env: &Env, body: &str) -> std::process::Child {
    env.command(&note_on_1001(body))
        .env("MSP_TICKETS_TIMEOUT_SECS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls `done` until it holds; fails with `what` once `deadline` passes.
#[track_caller]
fn wait_for(deadline: Instant, what: &str, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_crash_after_posting_leaves_sending_and_sync_does_not_post_twice() {
    let (server, env) = syncro_env();
    // The server saves the comment, then holds the answer; the client waits
    // long enough to be killed while the outbox row says 'sending'.
    server.fail_next(
        "POST",
        "/comment",
        Fault::SleepAfterCommit(Duration::from_secs(30)),
    );
    let mut child = spawn_note(&env, "Patched the firewall.");
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_for(deadline, "the comment never arrived", || {
        !server.comments(1001).is_empty()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(outbox_status(&env), vec!["sending"]);

    let sync = env.ok(&["ticket", "sync"]);
    common::assert_has(&sync.stdout, "already on ticket 1001");
    assert_eq!(server.comments(1001).len(), 1);
    assert_eq!(posts(&server, "/comment"), 1);
    assert!(outbox_status(&env).is_empty());
}

#[test]
fn a_crash_before_the_comment_was_saved_is_posted_once_by_sync() {
    let (server, env) = syncro_env();
    server.fail_next("POST", "/comment", Fault::Hang(Duration::from_secs(30)));
    let mut child = spawn_note(&env, "Updated the BIOS.");
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_for(deadline, "the POST never arrived", || {
        posts(&server, "/comment") > 0
    });
    wait_for(deadline, "the item never became 'sending'", || {
        outbox_status(&env) == vec!["sending"]
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(server.comments(1001).is_empty());

    let sync = env.ok(&["ticket", "sync"]);
    assert!(sync.stdout.contains("posted note"), "{}", sync.stdout);
    assert_eq!(server.comments(1001).len(), 1);
    let body = server.comments(1001)[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(body.starts_with("Updated the BIOS."), "{body}");
}

#[test]
fn time_from_a_session_is_logged_and_charged_once() {
    let (server, env) = syncro_env();
    let session = past_session(&env);
    let s = env.json(&["session", "list"]);
    let started = str_of(&s[0], "started_at").to_string();

    let dry = env.json(&[
        "ticket",
        "time",
        "1001",
        "--from-session",
        &session,
        "--dry-run",
    ]);
    assert_eq!(dry["minutes"], 120);
    assert_eq!(dry["charge"], false);
    assert!(server.requests().is_empty());

    server.fail_next("POST", "/timer_entry", Fault::ErrorAfterCommit);
    server.fail_next("POST", "/charge_timer_entry", SLOW_AFTER_COMMIT);
    let item = env.json(&[
        "ticket",
        "time",
        "1001",
        "--from-session",
        &session,
        "--charge",
    ]);
    assert_eq!(str_of(&item, "status"), "sent");
    let timers = server.timers(1001);
    assert_eq!(timers.len(), 1, "{timers:?}");
    assert_eq!(timers[0]["notes"], "Veeam repair");
    assert_eq!(timers[0]["recorded"], true);
    assert_eq!(
        timers[0]["start_time"].as_str().unwrap(),
        started.replace('Z', ".000Z")
    );
    assert_eq!(posts(&server, "/timer_entry"), 1);
    assert_eq!(posts(&server, "/charge_timer_entry"), 1);
    let body = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/timer_entry"))
        .unwrap()
        .body
        .unwrap();
    assert_eq!(body["duration_minutes"], 120);
    assert_eq!(body["start_at"], Value::String(started));

    // Without --charge nothing is charged.
    env.ok(&["ticket", "time", "1002", "--minutes", "10"]);
    assert_eq!(server.timers(1002)[0]["recorded"], false);
    assert_eq!(posts(&server, "/charge_timer_entry"), 1);
}

#[test]
fn auto_sync_links_post_note_and_time_once_after_the_session_ends() {
    let (server, env) = syncro_env();
    env.ok(&[
        "session",
        "start",
        "--client",
        "Dataforth",
        "--title",
        "Switch swap",
        "--at",
        "2h ago",
    ]);
    env.msp(&["ticket", "link", "1001", "--session", "nope-nope"])
        .expect_hint(3);
    let link = env.json(&[
        "ticket",
        "link",
        "1001",
        "--type",
        "resolves",
        "--auto-sync",
    ]);
    assert_eq!(link["auto_sync"], true);
    assert_eq!(str_of(&link, "link_type"), "resolves");

    // An open session owes nothing yet.
    let dry = env.json(&["ticket", "sync", "--dry-run"]);
    assert!(array(&dry["from_linked_sessions"]).is_empty());

    let stop = env.ok(&["session", "stop", "--summary", "Core switch replaced."]);
    assert!(
        stop.stderr
            .contains("ticket 1001 linked with --auto-sync: run `msp ticket sync`"),
        "{}",
        stop.stderr
    );
    assert!(server.requests().is_empty(), "session stop posts nothing");

    let dry = env.json(&["ticket", "sync", "--dry-run"]);
    let planned = array(&dry["from_linked_sessions"]);
    assert_eq!(planned.len(), 2);
    assert!(str_of(&planned[0], "body").contains("Core switch replaced."));
    // Two hours, and the moments between `--at 2h ago` and the stop.
    let minutes = planned[1]["minutes"].as_i64().unwrap();
    assert!((120..=121).contains(&minutes), "{minutes}");
    assert!(server.requests().is_empty(), "a dry run calls nothing");

    let synced = env.json(&["ticket", "sync"]);
    assert_eq!(array(&synced).len(), 2);
    assert_eq!(server.comments(1001).len(), 1);
    assert_eq!(server.timers(1001).len(), 1);
    assert_eq!(server.timers(1001)[0]["recorded"], false);

    let again = env.ok(&["ticket", "sync"]);
    assert!(again.stderr.contains("nothing to post"), "{}", again.stderr);
    assert_eq!(server.comments(1001).len(), 1);
    assert_eq!(server.timers(1001).len(), 1);
}

#[test]
fn a_sync_that_cannot_reach_the_server_keeps_the_items() {
    let (server, env) = syncro_env();
    server.fail_next("POST", "/comment", Fault::ErrorBeforeCommit);
    // Every later attempt fails too: the item is kept, to be looked for first.
    for _ in 0..4 {
        server.fail_next("GET", "/tickets/1001", Fault::ErrorBeforeCommit);
    }
    let out = env.msp(&note_on_1001("Checked the UPS.")).expect_hint(1);
    common::assert_has(&out.stderr, "was not posted again");
    assert_eq!(outbox_status(&env), vec!["pending"]);
    assert!(server.comments(1001).is_empty());
    let sync = env.ok(&["ticket", "sync"]);
    assert!(sync.stdout.contains("posted note"), "{}", sync.stdout);
    assert_eq!(server.comments(1001).len(), 1);
}

/// Every form of the redaction corpus typed into a note: sent as typed, but
/// the call log and the store keep none of them.
#[test]
fn no_secret_form_of_the_corpus_reaches_the_call_log() {
    let (server, env) = syncro_env();
    let examples = msp::redact::corpus::examples();
    let body: String = examples.iter().map(|e| format!("{}\n\n", e.text)).collect();
    env.msp_stdin(&note_on_1001("-"), &body).expect_code(0);
    assert_eq!(server.comments(1001).len(), 1, "the note was posted");
    let log = env.ok(&["--json", "ticket", "log"]).stdout;
    assert!(
        log.contains("mysql -u root -p[REDACTED:password]"),
        "the note is in the log, redacted: {log}"
    );
    let db = String::from_utf8_lossy(&std::fs::read(env.data.join("msp.db")).unwrap()).into_owned();
    let wal = std::fs::read(env.data.join("msp.db-wal"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut leaks = Vec::new();
    for e in &examples {
        for s in &e.secrets {
            for (place, text) in [("ticket log", &log), ("msp.db", &db), ("msp.db-wal", &wal)] {
                if text.contains(s.as_str()) {
                    leaks.push(format!("{}: {s:?} in {place}", e.rule));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// `msp ticket note 123` with neither text nor session said only that
/// `--body` was missing, hiding `--from-session`.
#[test]
fn a_note_or_time_without_content_names_both_ways_to_give_it() {
    let env = Env::setup();
    let note = env.msp(&["ticket", "note", "123"]).expect_code(2);
    common::assert_has(&note.stderr, "--body <BODY>|--from-session");
    let time = env.msp(&["ticket", "time", "123"]).expect_code(2);
    common::assert_has(&time.stderr, "--minutes <MINUTES>|--from-session");
}
