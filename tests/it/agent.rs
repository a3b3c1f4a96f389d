//! Agent commands end to end: `msp` run as a process with temp HOMEs; one
//! machine on its own (target `self`, local agent key), and two or three
//! machines through a real throwaway PostgreSQL (tests/it/support/pg.rs).

use crate::common;
use crate::support::pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Env, array, str_of};
use serde_json::Value;

fn cluster() -> &'static pg::Cluster {
    static CLUSTER: OnceLock<pg::Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = pg::Cluster::start();
        c.stop_when_process_exits();
        c
    })
}

/// `n` machines in one team on a fresh database: the first creates it, the
/// others import its key.
fn team(label: &str, n: usize) -> (String, Vec<Env>) {
    let (db, url) = cluster().new_db(label);
    let machines: Vec<Env> = (0..n)
        .map(|_| {
            let mut env = Env::setup();
            env.set_var("MSP_SYNC_URL", &url);
            env
        })
        .collect();
    machines[0].ok(&["sync", "init"]);
    let key = machines[0].ok(&["sync", "key", "export"]).stdout;
    for m in &machines[1..] {
        m.msp_stdin(&["sync", "key", "import"], &key).expect_code(0);
    }
    (db, machines)
}

/// Syncs each machine in turn, and the first once more, so that every one
/// has seen every other.
fn sync_round(machines: &[Env]) {
    for m in machines.iter().chain(&machines[..1]) {
        m.ok(&["sync"]);
    }
}

fn self_id(env: &Env) -> String {
    str_of(&env.json(&["machine", "show", "self"]), "id").to_string()
}

fn show(env: &Env, id: &str) -> Value {
    env.json(&["agent", "show", id])
}

fn status(env: &Env, id: &str) -> String {
    str_of(&show(env, id), "status").to_string()
}

/// Queues a command (no wait) and returns its id.
fn queue(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["agent", "exec"];
    all.extend_from_slice(args);
    let id = env.ok(&all).stdout.trim().to_string();
    assert_eq!(id.len(), 36, "exec must print the command id, got {id:?}");
    id
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A set-up env, a marker file, and a shell script that appends a line to
/// it: each line is one run.
fn marker_env() -> (Env, PathBuf, String) {
    let env = Env::setup();
    let marker = env.path("marker");
    let script = format!("echo ran >> '{}'", marker.display());
    (env, marker, script)
}

fn events(env: &Env, id: &str) -> Vec<String> {
    array(&env.json(&["agent", "audit", "--command", id]))
        .iter()
        .map(|e| str_of(e, "event").to_string())
        .collect()
}

/// `msp agent exec self --wait ARGS`: runs a command here and waits for it.
fn exec_self(env: &Env, args: &[&str]) -> common::Out {
    let mut all = vec!["agent", "exec", "self", "--wait"];
    all.extend_from_slice(args);
    env.msp(&all)
}

/// `msp agent exec self OPTION VALUE -- true`, queued, not waited for.
fn exec_true(env: &Env, option: &str, value: &str) -> common::Out {
    env.msp(&["agent", "exec", "self", option, value, "--", "true"])
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn exec_self_wait_runs_argv_as_given_and_exits_with_the_commands_code() {
    let env = Env::setup();
    let out = exec_self(&env, &["--", "printf", "%s|", "a b", "$HOME", ";echo x"]).expect_code(0);
    assert_eq!(out.stdout, "a b|$HOME|;echo x|", "no shell may touch argv");
    let out = exec_self(&env, &["--", "sh", "-c", "echo out; echo err >&2; exit 3"]).expect_code(3);
    assert_eq!(out.stdout, "out\n");
    assert!(out.stderr.contains("err\n"), "{}", out.stderr);
    // Without a team, commands to self are signed with a local key file.
    let key = env.data.join("agent.key");
    common::assert_owner_only(&key);
    assert_eq!(std::fs::read(&key).unwrap().len(), 32);

    let list = env.json(&["agent", "list"]);
    let newest = &array(&list)[0];
    assert_eq!(str_of(newest, "status"), "failed");
    assert_eq!(newest["exit_code"], 3);
    assert!(newest.get("stdout").is_none(), "lists leave output out");
    let v = show(&env, str_of(newest, "id"));
    for k in [
        "id",
        "status",
        "target",
        "requester",
        "requested_by",
        "program",
        "args",
        "exit_code",
        "stdout",
        "stderr",
        "truncated",
        "duration_ms",
        "created_at",
        "expires_at",
    ] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(
        v["args"],
        serde_json::json!(["-c", "echo out; echo err >&2; exit 3"])
    );
    assert_eq!(str_of(&v, "requested_by"), "tech");
    assert_eq!(str_of(&v, "stderr"), "err\n");
    assert_eq!(v["truncated"], false);
}

#[test]
fn with_shell_the_command_and_args_are_one_script() {
    let env = Env::setup();
    let out = exec_self(
        &env,
        &[
            "--shell", "sh", "--", "echo", "$((6*7))", "|", "tr", "4", "X",
        ],
    )
    .expect_code(0);
    assert_eq!(out.stdout, "X2\n");
}

/// `msp --json agent exec self --wait --timeout 1s -- sh -c SCRIPT`: exit 124.
fn exec_timing_out(env: &Env, script: &str) -> Value {
    let args = [
        "--json",
        "agent",
        "exec",
        "self",
        "--wait",
        "--timeout",
        "1s",
        "--",
    ];
    let mut args = args.to_vec();
    args.extend(["sh", "-c", script]);
    env.msp(&args).expect_code(124).json()
}

/// Asserts that the process whose pid `pidfile` holds is gone (at most a
/// zombie): it was signalled, and on a busy machine dying takes a moment.
fn assert_gone(pidfile: &Path, what: &str) {
    let pid = std::fs::read_to_string(pidfile).unwrap().trim().to_string();
    let stat = || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let gone = || stat().is_empty() || stat().contains(") Z ");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stat = stat();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "{what} {pid} survived the timeout: {stat}"
    );
}

#[test]
fn timeout_ends_the_whole_process_group_and_reports_timed_out() {
    let env = Env::setup();
    let pidfile = env.path("bg.pid");
    let script = format!("sleep 60 & echo $! > '{}'; sleep 60", pidfile.display());
    let v = exec_timing_out(&env, &script);
    assert_eq!(str_of(&v, "status"), "timed_out");
    assert!(str_of(&v, "error").contains("timed out"), "{v}");
    let listed = env.json(&["agent", "list", "--status", "timed_out"]);
    assert_eq!(str_of(&array(&listed)[0], "id"), str_of(&v, "id"));
    // The background child of the command is gone too.
    assert_gone(&pidfile, "the background process");
}

#[cfg(target_os = "linux")]
#[test]
fn timeout_leaves_no_setsid_survivor() {
    let env = Env::setup();
    let pidfile = env.path("escaped.pid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; sleep 300' & sleep 300",
        pidfile.display()
    );
    exec_timing_out(&env, &script);
    assert_gone(&pidfile, "the setsid process");
}

#[test]
fn output_past_the_cap_is_dropped_and_flagged_truncated() {
    let env = Env::setup();
    let v = env.json(&[
        "agent",
        "exec",
        "self",
        "--wait",
        "--max-output",
        "1KiB",
        "--",
        "sh",
        "-c",
        "head -c 200000 /dev/zero | tr '\\0' a; echo tail",
    ]);
    assert_eq!(str_of(&v, "status"), "completed");
    assert_eq!(v["truncated"], true);
    assert_eq!(str_of(&v, "stdout").len(), 1024);
    assert_eq!(v["max_output"], 1024);
}

#[test]
fn a_queued_command_runs_when_the_agent_comes_back_unless_it_expired() {
    let (env, marker, script) = marker_env();
    let later = queue(&env, &["self", "--", "sh", "-c", &script]);
    let expiring = queue(
        &env,
        &["self", "--expires", "1s", "--", "sh", "-c", &script],
    );
    assert_eq!(status(&env, &later), "pending");
    let pending = env.json(&["agent", "list", "--status", "pending"]);
    assert_eq!(array(&pending).len(), 2);
    assert_eq!(lines(&marker), 0, "nothing runs without an agent");
    std::thread::sleep(Duration::from_millis(1200));
    let out = env.ok(&["agent", "run", "--once"]);
    assert!(out.stderr.contains("completed"), "{}", out.stderr);
    assert_eq!(status(&env, &later), "completed");
    assert_eq!(status(&env, &expiring), "expired");
    assert_eq!(lines(&marker), 1, "the expired command must never run");
    assert!(events(&env, &expiring).contains(&"expired".to_string()));
    // Nothing left to do: another pass runs nothing again.
    env.ok(&["agent", "run", "--once"]);
    assert_eq!(lines(&marker), 1);
    let expired = env.json(&["agent", "list", "--status", "expired", "--machine", "self"]);
    assert_eq!(array(&expired).len(), 1);
}

#[test]
fn commands_written_changed_or_replayed_in_the_store_are_rejected_audited_and_never_run() {
    let (env, marker, script) = marker_env();
    let done = queue(&env, &["self", "--", "sh", "-c", &script]);
    env.ok(&["agent", "run", "--once"]);
    assert_eq!(lines(&marker), 1);
    let changed = queue(&env, &["self", "--", "true"]);
    // (No quotes: it goes into an SQL string literal below.)
    let evil = format!("echo evil >> {}", marker.display());
    let written = "0195f0a0-0000-7000-8000-0000000000aa";
    env.sql(&format!(
        "UPDATE agent_commands SET program = 'sh', args = json_array('-c', '{evil}') WHERE id = '{changed}';
         INSERT INTO agent_commands SELECT '{written}', requester_machine_id, requested_by, target_machine_id,
             'sh', json_array('-c', '{evil}'), shell, cwd, timeout_ms, max_output, created_at, expires_at,
             'feedface', key_kind, '{sig}' FROM agent_commands WHERE id = '{done}';
         DELETE FROM agent_results WHERE id = '{done}';",
        sig = "ab".repeat(32)
    ));
    let out = env.ok(&["agent", "run", "--once"]);
    assert_eq!(
        lines(&marker),
        1,
        "nothing tampered may run:\n{}",
        out.stderr
    );
    for (id, why) in [
        (changed.as_str(), "signature"),
        (written, "signature"),
        (done.as_str(), "replay"),
    ] {
        let v = show(&env, id);
        assert_eq!(str_of(&v, "status"), "rejected", "{v}");
        assert!(str_of(&v, "error").contains(why), "{v}");
        assert!(
            events(&env, id).contains(&"verification_failed".to_string()),
            "{id} not audited"
        );
    }
    let out = exec_self(&env, &["--", "true"]);
    assert_eq!(out.code, 0, "the agent still works: {}", out.stderr);
}

#[test]
fn an_agent_killed_while_a_command_runs_never_runs_it_again() {
    let env = Env::setup();
    let marker = env.path("marker");
    let pidfile = env.path("cmd.pid");
    let script = format!(
        "echo $$ > '{}'; echo ran >> '{}'; sleep 60",
        pidfile.display(),
        marker.display()
    );
    let id = queue(
        &env,
        &["self", "--timeout", "5m", "--", "sh", "-c", &script],
    );
    let mut agent = env.spawn(&["agent", "run", "--interval", "1s"]);
    wait_for("the command to start", || {
        lines(&marker) == 1 && pidfile.exists()
    });
    assert_eq!(status(&env, &id), "running");
    // One agent per data directory.
    env.msp(&["agent", "run", "--once"]).expect_hint(1);
    agent.kill().unwrap();
    agent.wait().unwrap();
    // The command's process group outlives the agent; end it (our own child's group).
    let pgid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
    let out = env.ok(&["agent", "run", "--once"]);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    let v = show(&env, &id);
    assert_eq!(str_of(&v, "status"), "interrupted");
    env.ok(&["agent", "run", "--once"]);
    assert_eq!(lines(&marker), 1, "the command ran twice");
    let ev = events(&env, &id);
    for e in ["requested", "picked_up", "interrupted"] {
        assert!(ev.contains(&e.to_string()), "{e} missing: {ev:?}");
    }
}

#[test]
fn sigterm_stops_the_agent_and_ends_the_running_command() {
    let env = Env::setup();
    let pidfile = env.path("cmd.pid");
    let script = format!("echo $$ > '{}'; sleep 60", pidfile.display());
    let id = queue(
        &env,
        &["self", "--timeout", "5m", "--", "sh", "-c", &script],
    );
    let agent = env.spawn(&["agent", "run", "--interval", "1s"]);
    wait_for("the command to start", || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))
    });
    let status_of_kill = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status()
        .unwrap();
    assert!(status_of_kill.success());
    let out = common::finish(agent, &["agent", "run"]).expect_code(0);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    let v = show(&env, &id);
    assert_eq!(str_of(&v, "status"), "interrupted");
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "the command {pid} outlived the agent: {stat}"
    );
}

#[test]
fn msp_secret_variables_of_the_agent_do_not_reach_the_command() {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_PASSPHRASE", "correct horse battery staple");
    env.set_var("MSP_SYNC_URL", "postgres://msp:pg-pass-4711@db.invalid/msp");
    let out = exec_self(&env, &["--", "env"]).expect_code(0);
    common::assert_lacks(&out.stdout, "MSP_VAULT_PASSPHRASE");
    assert!(!out.stdout.contains("pg-pass-4711"), "{}", out.stdout);
    // Where the store is still reaches it, so an `msp` in the command finds it.
    assert!(out.stdout.contains("MSP_DATA_DIR="), "{}", out.stdout);
}

#[test]
fn bad_flags_and_unknown_ids_fail_with_hints() {
    let env = Env::setup();
    assert_eq!(env.json(&["agent", "list"]), serde_json::json!([]));
    assert_eq!(env.json(&["agent", "audit"]), serde_json::json!([]));
    exec_true(&env, "--timeout", "soon").expect_code(2);
    exec_true(&env, "--max-output", "lots").expect_code(2);
    exec_true(&env, "--timeout", "0s").expect_hint(2);
    exec_true(&env, "--expires", "400d").expect_hint(2);
    exec_true(&env, "--timeout", "99999999999999d").expect_code(2);
    env.msp(&["agent", "exec", "self", "true"]).expect_code(2);
    // An output cap the agent would have to hold in memory is refused here.
    let out = exec_true(&env, "--max-output", "1000GiB").expect_hint(2);
    assert!(out.stderr.contains("MiB"), "{}", out.stderr);
    let out = exec_true(&env, "--timeout", "9999999999s").expect_code(2);
    assert!(out.stderr.contains("at most 7 days"), "{}", out.stderr);
    env.msp(&["agent", "show", "0195f0a0-0000-7000-8000-000000000000"])
        .expect_hint(3);
    env.msp(&["agent", "exec", "nosuchbox", "--", "true"])
        .expect_hint(3);
    let id = queue(&env, &["self", "--", "true"]);
    env.msp(&["agent", "approve", &id]).expect_hint(4);
    assert_eq!(array(&env.json(&["agent", "audit"])).len(), 1);
}

#[test]
fn a_command_from_a_runs_on_b_and_its_result_reaches_a() {
    let (db, m) = team("agent_ab", 2);
    let (a, b) = (&m[0], &m[1]);
    sync_round(&m);
    let b_id = self_id(b);
    let id = queue(a, &[&b_id, "--", "sh", "-c", "echo hello from B; exit 0"]);
    // A pushed it right away; B takes it up, runs it, pushes the result.
    b.ok(&["agent", "run", "--once"]);
    assert_eq!(status(b, &id), "completed");
    a.ok(&["sync"]);
    let v = show(a, &id);
    assert_eq!(str_of(&v, "status"), "completed");
    assert_eq!(str_of(&v, "stdout"), "hello from B\n");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(str_of(&v, "requester_machine_id"), self_id(a));
    assert_eq!(str_of(&v, "target_machine_id"), b_id);
    let ev = events(a, &id);
    for e in ["requested", "picked_up", "executed", "result"] {
        assert!(ev.contains(&e.to_string()), "{e} missing on A: {ev:?}");
    }

    // --wait from A while B's agent polls: the exit code is B's.
    let mut agent = b.spawn(&["agent", "run", "--interval", "1s"]);
    let out = a.msp(&[
        "agent",
        "exec",
        &b_id,
        "--wait",
        "--",
        "sh",
        "-c",
        "echo seven; exit 7",
    ]);
    agent.kill().unwrap();
    agent.wait().unwrap();
    let out = out.expect_code(7);
    assert_eq!(out.stdout, "seven\n");

    // A command record written into the team store by hand does not
    // authenticate: B applies nothing from it and runs nothing.
    let a_id = self_id(a);
    let next: i64 = cluster()
        .psql(
            &db,
            &format!("SELECT max(counter) + 1 FROM msp_sync_records WHERE machine_id = '{a_id}'"),
        )
        .trim()
        .parse()
        .unwrap();
    cluster().psql(
        &db,
        &format!(
            "INSERT INTO msp_sync_records (machine_id, counter, record_id, kind, version, sealed)
             VALUES ('{a_id}', {next}, '0195f0a0-0000-7000-8000-0000000000bb', 'agent_command', 1, '\\x00112233445566778899aabbccddeeff00112233445566778899')"
        ),
    );
    let before = array(&b.json(&["agent", "list"])).len();
    let out = b.ok(&["agent", "run", "--once"]);
    assert!(out.stderr.contains("sync failed"), "{}", out.stderr);
    assert_eq!(array(&b.json(&["agent", "list"])).len(), before);
}

#[test]
fn a_machine_that_requires_approval_runs_only_after_another_machine_approves() {
    let (_db, m) = team("agent_approval", 3);
    let (a, b, c) = (&m[0], &m[1], &m[2]);
    b.ok(&["machine", "update", "self", "--approval-required"]);
    b.ok(&["sync"]);
    a.ok(&["sync"]);
    c.ok(&["sync"]);
    let b_id = self_id(b);
    let marker = b.path("marker");
    let script = format!("echo ran >> '{}'", marker.display());
    let id = queue(a, &[&b_id, "--", "sh", "-c", &script]);
    let out = b.ok(&["agent", "run", "--once"]);
    assert!(out.stderr.contains("approv"), "{}", out.stderr);
    assert_eq!(status(b, &id), "pending");
    assert_eq!(lines(&marker), 0);
    // The requester's own machine cannot approve.
    a.msp(&["agent", "approve", &id]).expect_hint(4);
    c.ok(&["sync"]);
    let approved = c.json(&["agent", "approve", &id]);
    assert_eq!(approved["created"], true);
    b.ok(&["agent", "run", "--once"]);
    assert_eq!(status(b, &id), "completed");
    assert_eq!(lines(&marker), 1);
    a.ok(&["sync"]);
    let v = show(a, &id);
    assert_eq!(str_of(&v, "status"), "completed");
    assert_eq!(array(&v["approvals"]).len(), 1);
    assert_eq!(str_of(&v["approvals"][0], "machine_id"), self_id(c));
    let ev = events(a, &id);
    for e in [
        "requested",
        "awaiting_approval",
        "approved",
        "picked_up",
        "result",
    ] {
        assert!(ev.contains(&e.to_string()), "{e} missing: {ev:?}");
    }
}

#[test]
fn a_rename_from_a_stale_copy_of_the_machine_does_not_turn_its_approval_off() {
    let (_db, m) = team("agent_stale_approval", 2);
    let (a, b) = (&m[0], &m[1]);
    sync_round(&m);
    let b_id = self_id(b);
    b.ok(&["machine", "update", "self", "--approval-required"]);
    b.ok(&["sync"]);
    // A renames B from its copy made before B's setting; its change is the
    // newer one, so B's synced row comes back without the setting.
    a.ok(&["machine", "update", &b_id, "--name", "nas"]);
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    assert_eq!(
        b.json(&["machine", "show", "self"])["approval_required"],
        false
    );
    let marker = b.path("marker");
    let script = format!("echo ran >> '{}'", marker.display());
    let id = queue(a, &[&b_id, "--", "sh", "-c", &script]);
    let out = b.ok(&["agent", "run", "--once"]);
    assert!(out.stderr.contains("approv"), "{}", out.stderr);
    assert_eq!(status(b, &id), "pending");
    assert_eq!(lines(&marker), 0, "ran without an approval");
    assert_eq!(
        b.json(&["machine", "show", "self"])["approval_required"],
        true
    );
    // Turning it off is for B alone.
    a.msp(&["machine", "update", &b_id, "--no-approval-required"])
        .expect_hint(4);
}

#[test]
fn percent_and_underscore_in_an_agent_short_id_are_no_wildcards() {
    let env = Env::setup();
    let id = queue(&env, &["self", "--", "true"]);
    let tail = &id[id.len() - 4..];
    for key in [format!("%{tail}"), format!("______{tail}"), "%%%%%%".into()] {
        env.msp(&["agent", "show", &key]).expect_hint(3);
    }
    assert_eq!(str_of(&show(&env, &id[id.len() - 8..]), "id"), id);
}

/// A command that prints every form of the redaction corpus: the stored
/// output, the audit and the store keep none of them.
#[test]
fn no_secret_form_of_the_corpus_is_kept_from_a_commands_output() {
    let env = Env::setup();
    let examples = msp::redact::corpus::examples();
    let text: String = examples.iter().map(|e| format!("{}\n\n", e.text)).collect();
    let file = env.path("corpus.txt");
    std::fs::write(&file, &text).unwrap();
    exec_self(&env, &["--", "cat", &file.to_string_lossy()]).expect_code(0);
    let list = env.json(&["agent", "list"]);
    let id = str_of(&array(&list)[0], "id").to_string();
    let shown = show(&env, &id).to_string();
    assert!(
        shown.contains("mysql -u root -p[REDACTED:password]"),
        "{shown}"
    );
    let audit = env.ok(&["agent", "audit", "--json"]).stdout;
    let files: Vec<(String, String)> = ["msp.db", "msp.db-wal", "msp.log"]
        .iter()
        .filter_map(|f| {
            std::fs::read(env.data.join(f))
                .ok()
                .map(|b| (f.to_string(), String::from_utf8_lossy(&b).into_owned()))
        })
        .collect();
    let mut leaks = Vec::new();
    for e in &examples {
        for s in &e.secrets {
            if shown.contains(s.as_str()) {
                leaks.push(format!("{}: {s:?} in agent show", e.rule));
            }
            if audit.contains(s.as_str()) {
                leaks.push(format!("{}: {s:?} in agent audit", e.rule));
            }
            for (f, t) in &files {
                if t.contains(s.as_str()) {
                    leaks.push(format!("{}: {s:?} in {f}", e.rule));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// The agent on Windows: `cmd` scripts, and the job object that a timeout
/// terminates with everything the command started. (The tests above need
/// `sh`, `/proc` or a PostgreSQL cluster of their own.)
#[cfg(windows)]
mod windows {
    use super::*;

    /// The image names of the running processes (`tasklist`).
    fn running(image: &str) -> usize {
        let out = Command::new("tasklist").output().expect("tasklist");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with(image))
            .count()
    }

    #[test]
    fn cmd_scripts_give_their_output_and_exit_code() {
        let env = Env::setup();
        let out = exec_self(
            &env,
            &[
                "--shell", "cmd", "--", "echo", "out&", "echo", "err", "1>&2&", "exit", "/b", "3",
            ],
        )
        .expect_code(3);
        assert_eq!(out.stdout.trim_end(), "out");
        assert!(out.stderr.contains("err"), "{}", out.stderr);
        let list = env.json(&["agent", "list"]);
        let newest = &array(&list)[0];
        assert_eq!(str_of(newest, "status"), "failed");
        assert_eq!(newest["exit_code"], 3);
        assert_eq!(str_of(&show(&env, str_of(newest, "id")), "shell"), "cmd");
        common::assert_owner_only(&env.data.join("agent.key"));
    }

    #[test]
    fn output_past_the_cap_is_dropped_and_secrets_redacted() {
        let env = Env::setup();
        let out = env
            .msp(&[
                "--json",
                "agent",
                "exec",
                "self",
                "--wait",
                "--max-output",
                "200",
                "--shell",
                "cmd",
                "--",
                "echo",
                "ghp_0123456789abcdefghijABCDEFGHIJ012345&",
                "for",
                "/L",
                "%i",
                "in",
                "(1,1,300)",
                "do",
                "@echo",
                "line%i",
            ])
            .expect_code(0)
            .json();
        assert_eq!(out["truncated"], true, "{out}");
        let stdout = str_of(&out, "stdout");
        assert!(stdout.len() <= 200 + 64, "{}", stdout.len());
        assert!(!stdout.contains("ghp_0123456789"), "{stdout}");
        assert!(stdout.contains("[REDACTED:"), "{stdout}");
    }

    #[test]
    fn the_timeout_ends_the_whole_tree_through_the_job() {
        let env = Env::setup();
        let before = running("ping.exe");
        let started = Instant::now();
        // A detached `start /b` child and a foreground one, both long.
        let out = env
            .msp(&[
                "--json",
                "agent",
                "exec",
                "self",
                "--wait",
                "--timeout",
                "2s",
                "--shell",
                "cmd",
                "--",
                "start",
                "/b",
                "ping",
                "-n",
                "120",
                "127.0.0.1",
                ">nul",
                "&",
                "ping",
                "-n",
                "120",
                "127.0.0.1",
            ])
            .expect_code(124)
            .json();
        assert_eq!(str_of(&out, "status"), "timed_out", "{out}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "took {:?}",
            started.elapsed()
        );
        wait_for("the command's ping processes to end", || {
            running("ping.exe") <= before
        });
    }
}
