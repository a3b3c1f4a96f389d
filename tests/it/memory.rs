//! The memory engine end to end: `msp context add|import|search|recall|list|
//! show|forget|stats`, run as a process against private temp stores, with
//! realistic Claude Code transcripts built by the tests themselves.
//!
//! Fake secrets are assembled at run time from pieces and from the redaction
//! corpus's generator (`fake(seed, class, len)`, classes `a` alphanumeric,
//! `A` upper-case and digits, `b` base64, `u` base64url, `d` digits, `h`
//! hex), so this file never holds a contiguous token that a secret scanner
//! could flag.

use crate::common;
use crate::support::transcript::Lines;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::{Env, array, s, str_of};
use msp::redact::corpus::fake;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Transcript builder
// ---------------------------------------------------------------------------

/// A Claude Code transcript under construction (see support/transcript.rs);
/// its uuids derive from the session, so two transcripts never share one,
/// and tool calls number themselves.
struct Tx {
    lines: Lines,
    tool: u32,
}

impl std::ops::Deref for Tx {
    type Target = Lines;
    fn deref(&self) -> &Lines {
        &self.lines
    }
}

/// Chainable writers that forward to the [`Lines`] method of the same name.
macro_rules! chain {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> &mut Self {
            self.lines.$name($($arg),*);
            self
        }
    )*};
}

/// As [`chain`], for tool calls: the call gets the next tool id first.
macro_rules! chain_tool {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> &mut Self {
            let id = self.tool_id();
            self.lines.$name(&id, $($arg),*);
            self
        }
    )*};
}

impl Tx {
    fn new(session: &str, cwd: &str) -> Tx {
        assert_eq!(session.len(), 36, "sessions look like UUIDs");
        Tx {
            lines: Lines::new(session, cwd, &session[..24], 9),
            tool: 0,
        }
    }

    /// Later lines are written from `cwd`.
    fn cd(&mut self, cwd: &str) -> &mut Self {
        self.lines.cwd = cwd.to_string();
        self
    }

    chain! {
        raw(line: &str);
        prompt(text: &str);
        say(text: &str);
        think(text: &str);
        hook_context(content: &str);
    }

    chain_tool! {
        bash(command: &str, output: &str, exit: i32);
        write(path: &str, content: &str);
        edit(path: &str, old: &str, new: &str);
        read(path: &str, content: &str);
    }

    /// The id for the next tool call.
    fn tool_id(&mut self) -> String {
        self.tool += 1;
        format!("toolu_{:02}{:06}", self.lines.msg % 100, self.tool)
    }

    /// A message typed while the agent worked.
    fn queued(&mut self, text: &str) -> &mut Self {
        self.lines.queued(text, "prompt", "human");
        self
    }

    /// Lines that are not conversation: summaries, snapshots, system lines,
    /// types from a future Claude Code.
    fn noise(&mut self) -> &mut Self {
        let n = self.lines.n;
        self.raw(&format!(
            r#"{{"type":"summary","summary":"Veeam job failing {n}","leafUuid":"{}"}}"#,
            self.lines.uuid(n.max(1))
        ))
        .raw(r#"{"type":"file-history-snapshot","messageId":"m1","snapshot":{"trackedFileBackups":{}},"isSnapshotUpdate":false}"#)
        .raw(r#"{"type":"queue-operation","operation":"dequeue","timestamp":"2026-03-01T09:59:00.000Z","sessionId":"x"}"#)
        .raw(r#"{"type":"hologram-sync","data":{"whatever":[1,2,3]},"nested":{"deep":{"deeper":null}}}"#)
        .raw(r#"{"type":"system","subtype":"stop_hook_summary","content":"hooks ran","level":"info"}"#)
    }

    fn save(&self, path: &Path) -> PathBuf {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, &self.text).unwrap();
        path.to_path_buf()
    }
}

/// Deterministic text shaped like tool output, about `bytes` long.
fn filler(label: &str, bytes: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes + 100);
    for i in 1u64.. {
        let (value, ms) = (i.wrapping_mul(2_654_435_761) % 100_000, i % 997);
        let _ = writeln!(
            out,
            "{label} line {i}: value={value} status=ok elapsed={ms}ms"
        );
        if out.len() >= bytes {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Store helpers
// ---------------------------------------------------------------------------

fn add_client(env: &Env, name: &str) -> String {
    str_of(&env.json(&["client", "add", name]), "id").to_string()
}

fn add_project(env: &Env, slug: &str, client: Option<&str>, dir: Option<&Path>) -> String {
    let mut args = vec!["project", "add", slug];
    if let Some(c) = client {
        args.extend(["--client", c]);
    }
    if let Some(d) = dir {
        args.extend(["--path", s(d)]);
    }
    str_of(&env.json(&args), "id").to_string()
}

/// Every memory, newest first.
fn memories(env: &Env) -> Vec<Value> {
    array(&env.json(&["context", "list", "--limit", "100000"])).clone()
}

fn import(env: &Env, paths: &[&Path]) -> Value {
    let mut args = vec!["context", "import"];
    args.extend(paths.iter().map(|p| s(p)));
    env.json(&args)
}

fn stats(env: &Env) -> Value {
    env.json(&["context", "stats"])
}

/// The one memory whose body contains `needle`.
#[track_caller]
fn memory_with<'a>(all: &'a [Value], needle: &str) -> &'a Value {
    let hits: Vec<&Value> = all
        .iter()
        .filter(|m| str_of(m, "body").contains(needle))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected exactly one memory holding {needle:?}, got {}:\n{}",
        hits.len(),
        serde_json::to_string_pretty(all).unwrap()
    );
    hits[0]
}

fn tags(m: &Value) -> Vec<String> {
    array(&m["tags"])
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    array(v)
        .iter()
        .map(|m| str_of(m, "id").to_string())
        .collect()
}

const ACME_SESSION: &str = "7d3f2a10-5c1e-4b7a-9f0e-2b8c6d4e1a90";

/// Words planted in recalled-memory blocks: none may ever reach a memory.
const INJECTED: [&str; 5] = [
    "quokkainjected",
    "wombatinjected",
    "numbatinjected",
    "dingoinjected",
    "bilbyinjected",
];

/// What the realistic transcript did, for assertions.
struct Realistic {
    tx: Tx,
    /// (turn prompt head, commands run, paths changed)
    turns: Vec<(&'static str, Vec<String>, Vec<String>)>,
}

/// Three turns of real-looking work with big tool results, noise lines and
/// recalled-memory blocks injected in every place Claude Code puts them.
fn realistic(session: &str, cwd: &str) -> Realistic {
    let mut tx = Tx::new(session, cwd);
    let big_log = format!(
        "{}2026-03-01 02:00:13 ERROR Job NightlyNAS: target /mnt/nas unreachable (timeout after 30s, retries=1)\n",
        filler("veeam-journal", 40_000)
    );
    let ini = format!(
        "[job]\nname=NightlyNAS\ntarget=/mnt/nas\nretries=1\n{}",
        filler("ini", 20_000)
    );
    let c1 = "journalctl -u veeamservice --since yesterday --no-pager".to_string();
    let c2 = "systemctl restart veeamservice".to_string();
    let c3 = "veeamconfig job start --name NightlyNAS".to_string();
    tx.noise()
        .hook_context(&format!(
            "<msp-memory>\nKnown from earlier work:\n- ACME NAS sleeps after 20 min ({})\n</msp-memory>",
            INJECTED[0]
        ))
        .prompt(&format!(
            "The nightly Veeam backup job at ACME fails since Monday. Find out why and fix it.\n\n<msp-memory>\n- old note {}\n</msp-memory>",
            INJECTED[1]
        ))
        .think("The job log should say what the target did.")
        .say("Let me look at the job log first.")
        .bash(&c1, &big_log, 0)
        .read("/etc/veeam/veeam.ini", &ini)
        .say("The NAS goes to sleep and the job times out because retries=1.")
        .edit("/etc/veeam/veeam.ini", "retries=1", "retries=5")
        .bash(&c2, "", 0)
        .bash(&c3, &filler("veeam-job", 8_000), 0)
        .raw(r#"{"type":"system","subtype":"stop_hook_summary","content":"<msp-memory>\nleft over\n</msp-memory>","level":"info"}"#)
        .say("Fixed: raised retries to 5 because the NAS wakes up slowly. The NightlyNAS job completed.");

    let runbook = format!(
        "# Veeam NAS backups\n\nThe NAS sleeps; keep retries at 5.\n{}",
        filler("runbook", 30_000)
    );
    let c4 = "make -C /srv/docs lint".to_string();
    let c5 = "git -C /srv/docs commit -am \"Veeam NAS retries runbook\"".to_string();
    tx.noise()
        .prompt("Now document this in the runbook and commit it.")
        .queued(&format!(
            "also mention the NAS model <msp-memory>\n- {}\n</msp-memory>",
            INJECTED[2]
        ))
        .write("/srv/docs/runbooks/veeam-nas.md", &runbook)
        .bash(
            &c4,
            &format!(
                "{}runbooks/veeam-nas.md:3: MD041 first line should be a heading\nmake: *** [lint] Error 1",
                filler("lint", 10_000)
            ),
            2,
        )
        .edit("/srv/docs/Makefile", "LINT=strict", "LINT=relaxed")
        .bash(&c4, &filler("lint", 6_000), 0)
        .bash(
            &c5,
            &format!(
                "[main 9fceb02] Veeam NAS retries runbook\n 2 files changed\n<msp-memory>\n{}\n</msp-memory>\n",
                INJECTED[3]
            ),
            0,
        )
        .say("Documented in runbooks/veeam-nas.md and committed.");

    let c6 = "df -h /mnt/nas".to_string();
    tx.hook_context(&format!("<msp-memory>\n- {}\n</msp-memory>", INJECTED[4]))
        .prompt("What's the disk usage on the NAS share?")
        .bash(
            &c6,
            "Filesystem Size Used Avail Use% Mounted on\nnas:/backup 4.0T 2.8T 1.2T 71% /mnt/nas\n",
            0,
        )
        .say("The share is at 71% (2.8 TB of 4 TB).")
        .raw(r#"{"type":"summary","summary":"NAS share usage","leafUuid":"zzz"}"#);

    Realistic {
        tx,
        turns: vec![
            (
                "The nightly Veeam backup job",
                vec![c1, c2, c3],
                vec!["/etc/veeam/veeam.ini".into()],
            ),
            (
                "Now document this in the runbook",
                vec![c4, c5],
                vec![
                    "/srv/docs/runbooks/veeam-nas.md".into(),
                    "/srv/docs/Makefile".into(),
                ],
            ),
            ("What's the disk usage", vec![c6], vec![]),
        ],
    }
}

// ---------------------------------------------------------------------------
// 1. context add
// ---------------------------------------------------------------------------

#[test]
fn add_stores_every_field_and_prints_the_memory() {
    let env = Env::setup();
    let acme = add_client(&env, "Acme Corp");
    let site = add_project(&env, "acme-site", Some("acme-corp"), None);

    let m = env.remember(
        "Veeam retries raised to 5",
        "The Synology NAS wakes up slowly, so the NightlyNAS job now retries 5 times.",
        &[
            "--tags",
            "Backup,veeam,Night Shift",
            "--project",
            "acme-site",
            "--client",
            "acme-corp",
            "--kind",
            "decision",
            "--importance",
            "8",
            "--at",
            "2026-03-01T10:00:00Z",
        ],
    );
    let keys = "id kind title body tags project_id client_id importance created_at \
                raw_tokens stored_tokens";
    for key in keys.split_whitespace() {
        assert!(m.get(key).is_some(), "no {key} in {m}");
    }
    assert_eq!(m["kind"], "decision");
    assert_eq!(m["title"], "Veeam retries raised to 5");
    assert_eq!(
        m["body"],
        "The Synology NAS wakes up slowly, so the NightlyNAS job now retries 5 times."
    );
    assert_eq!(m["project_id"], site.as_str());
    assert_eq!(m["client_id"], acme.as_str());
    assert_eq!(m["importance"], 8);
    assert_eq!(m["created_at"], "2026-03-01T10:00:00Z");
    assert_eq!(
        m["raw_tokens"], 0,
        "a hand-written memory has no raw source"
    );
    let stored = m["stored_tokens"].as_i64().unwrap();
    assert!((5..100).contains(&stored), "{m}");
    let t = tags(&m);
    for want in ["backup", "veeam", "night-shift", "acme-site", "acme-corp"] {
        assert!(t.contains(&want.to_string()), "tag {want} missing: {t:?}");
    }
    assert_eq!(
        t.len(),
        t.iter().collect::<HashSet<_>>().len(),
        "duplicate tags: {t:?}"
    );
    assert_eq!(m["id"].as_str().unwrap().len(), 36, "{m}");
    // Show gives back the same memory; add also tells what it superseded.
    let mut m = m;
    assert_eq!(
        m.as_object_mut().unwrap().remove("supersedes"),
        Some(json!([]))
    );
    let id = str_of(&m, "id");
    assert_eq!(env.json(&["context", "show", id]), m);

    // Defaults: kind note, importance 5, empty body, no scope, now.
    let d = env.json(&["context", "add", "--title", "Printer PRN-02 is on floor 2"]);
    assert_eq!(d["kind"], "note");
    assert_eq!(d["importance"], 5);
    assert_eq!(d["body"], "");
    assert_eq!(d["project_id"], Value::Null);
    assert_eq!(d["client_id"], Value::Null);
    assert!(
        str_of(&d, "created_at") > "2026-01-01",
        "created now: {}",
        d["created_at"]
    );
    // A project brings its client along.
    let p = env.json(&["context", "add", "--title", "x", "--project", "acme-site"]);
    assert_eq!(p["client_id"], acme.as_str());
    assert_eq!(p["project_id"], site.as_str());
    // Every kind is accepted.
    for kind in "session_summary decision fact snippet project_state note".split(' ') {
        let k = env.json(&["context", "add", "--title", kind, "--kind", kind]);
        assert_eq!(k["kind"], kind);
    }
    // Plain output names the stored memory.
    let plain = env.ok(&["context", "add", "--title", "Plain output check"]);
    assert!(plain.stdout.starts_with("stored "), "{}", plain.stdout);
    common::assert_has(&plain.stdout, "Plain output check");
    let before = memories(&env).len();
    assert_eq!(before, 10);

    // Usage errors: exit 2, nothing stored.
    for bad in [
        vec!["--kind", "gossip"],
        vec!["--importance", "0"],
        vec!["--importance", "11"],
        vec!["--importance", "high"],
        vec!["--at", "next blue moon"],
    ] {
        let mut args = vec!["context", "add", "--title", "should not be stored"];
        args.extend(bad.iter().copied());
        let out = env.msp(&args).expect_code(2);
        assert!(!out.stderr.is_empty(), "{args:?} failed silently");
    }
    env.msp(&["context", "add", "--title", "  ", "--body", ""])
        .expect_code(2);
    env.ok(&["client", "add", "Beta Ltd"]);
    env.msp(&[
        "context",
        "add",
        "--title",
        "should not be stored",
        "--project",
        "acme-site",
        "--client",
        "beta-ltd",
    ])
    .expect_hint(2);
    // Unknown scope: exit 3 with a hint.
    let out = env
        .msp(&[
            "context",
            "add",
            "--title",
            "should not be stored",
            "--project",
            "ghost",
        ])
        .expect_hint(3);
    assert!(out.stderr.contains("ghost"), "{}", out.stderr);
    env.msp(&[
        "context",
        "add",
        "--title",
        "should not be stored",
        "--client",
        "ghost",
    ])
    .expect_hint(3);
    let after = memories(&env);
    assert_eq!(after.len(), before, "a failed add stored something");
    assert!(
        after.iter().all(|m| m["title"] != "should not be stored"),
        "{after:?}"
    );
}

// ---------------------------------------------------------------------------
// 2. context import
// ---------------------------------------------------------------------------

#[test]
fn import_makes_one_memory_per_turn_with_every_command_and_path() {
    let env = Env::setup();
    let r = realistic(ACME_SESSION, "/home/tech/clients/acme");
    let path = r.tx.save(&env.path("transcripts/acme.jsonl"));

    let sum = import(&env, &[&path]);
    for key in [
        "files",
        "turns",
        "memories_added",
        "duplicates",
        "raw_tokens",
        "stored_tokens",
        "reduction",
    ] {
        assert!(sum.get(key).is_some(), "no {key} in {sum}");
    }
    assert_eq!(sum["files"], 1, "{sum}");
    assert_eq!(sum["turns"], 3, "{sum}");
    assert_eq!(sum["memories_added"], 3, "{sum}");
    assert_eq!(sum["duplicates"], 0, "{sum}");
    let raw = sum["raw_tokens"].as_u64().unwrap();
    let stored = sum["stored_tokens"].as_u64().unwrap();
    assert!(stored > 0 && raw > 10 * stored, "{sum}");
    let reduction = sum["reduction"].as_f64().unwrap();
    assert!(reduction > 0.9 && reduction < 1.0, "{sum}");

    let all = memories(&env);
    assert_eq!(all.len(), 3, "one memory per turn");
    for (ask, commands, paths) in &r.turns {
        let m = memory_with(&all, ask);
        assert_eq!(m["kind"], "session_summary");
        assert_eq!(m["claude_session_id"], ACME_SESSION);
        assert_eq!(m["source_path"], s(&path));
        assert!(
            str_of(m, "created_at").starts_with("2026-03-01T09:"),
            "time of the turn: {m}"
        );
        let body = str_of(m, "body");
        for c in commands {
            assert!(
                body.contains(c.as_str()),
                "command {c:?} missing from:\n{body}"
            );
        }
        for p in paths {
            assert!(
                body.contains(p.as_str()),
                "path {p:?} missing from:\n{body}"
            );
        }
        assert!(
            m["stored_tokens"].as_i64().unwrap() < m["raw_tokens"].as_i64().unwrap(),
            "{m}"
        );
    }

    // No recalled block ever feeds back into a memory or its excerpt.
    let mut everything = serde_json::to_string(&all).unwrap();
    for m in &all {
        let id = str_of(m, "id");
        everything.push_str(&env.ok(&["context", "show", id, "--source"]).stdout);
        everything.push_str(&env.json(&["context", "show", id, "--source"]).to_string());
    }
    assert!(
        everything.contains("retries=1"),
        "the excerpts hold the source"
    );
    for word in INJECTED {
        assert!(
            !everything.contains(word),
            "injected memory text {word:?} was captured"
        );
        assert_eq!(
            env.json(&["context", "search", word]),
            json!([]),
            "{word} is searchable"
        );
    }
    assert!(!everything.contains("<msp-memory>"));
    assert!(!everything.contains("</msp-memory>"));
    assert!(!everything.contains("left over"));

    // Re-importing adds nothing.
    let again = import(&env, &[&path]);
    assert_eq!(again["memories_added"], 0, "{again}");
    assert_eq!(again["duplicates"], 3, "{again}");
    assert_eq!(again["turns"], 3, "{again}");
    let plain = env.ok(&["context", "import", s(&path)]);
    assert!(
        plain
            .stdout
            .contains("1 files, 3 turns: 0 memories added, 3 already known"),
        "{}",
        plain.stdout
    );
    assert_eq!(memories(&env).len(), 3);
    // An appended turn is captured; the earlier ones stay single.
    let mut more = Tx::new(ACME_SESSION, "/home/tech/clients/acme");
    more.lines.n = 500;
    more.prompt("Rotate the NAS backup logs weekly")
        .bash("logrotate -f /etc/logrotate.d/veeam", "", 0)
        .say("Rotated.");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(more.text.as_bytes()).unwrap();
    drop(f);
    let third = import(&env, &[&path]);
    assert_eq!(third["memories_added"], 1, "{third}");
    assert_eq!(third["duplicates"], 3, "{third}");
    let all = memories(&env);
    assert_eq!(all.len(), 4);
    memory_with(&all, "logrotate -f /etc/logrotate.d/veeam");
}

#[test]
fn import_walks_a_directory_recursively() {
    let env = Env::setup();
    let root = env.dir("claude/projects");
    let mut expected_turns = 0;
    let sessions = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
    ];
    let places = [
        "-home-tech-acme/a.jsonl",
        "-home-tech-beta/nested/deeper/b.jsonl",
        "c.jsonl",
    ];
    for (i, (session, place)) in sessions.iter().zip(places).enumerate() {
        let mut tx = Tx::new(session, "/home/tech/work");
        tx.noise();
        for t in 0..=i {
            tx.prompt(&format!(
                "Task {t} of transcript {i}: tidy the cron jobs on host{i}"
            ))
            .bash(
                &format!("crontab -l -u svc{i}{t}"),
                "0 2 * * * /opt/backup.sh",
                0,
            )
            .say("Listed them.");
            expected_turns += 1;
        }
        tx.save(&root.join(place));
    }
    // JSONL notes in the same tree are recognised as notes.
    std::fs::write(
        root.join("-home-tech-beta/notes.jsonl"),
        "{\"title\":\"Beta VPN uses port 1194\",\"body\":\"OpenVPN on fw01\"}\n",
    )
    .unwrap();
    // Other files are left alone.
    std::fs::write(root.join("README.txt"), "not a transcript\n").unwrap();
    std::fs::write(
        root.join("-home-tech-acme/settings.json"),
        "{\"type\":\"user\"}\n",
    )
    .unwrap();

    let sum = import(&env, &[&root]);
    assert_eq!(sum["files"], 4, "{sum}");
    assert_eq!(sum["memories_added"], expected_turns + 1, "{sum}");
    let all = memories(&env);
    assert_eq!(all.len() as u64, expected_turns + 1);
    for i in 0..3 {
        for t in 0..=i {
            memory_with(&all, &format!("crontab -l -u svc{i}{t}"));
        }
    }
    assert!(all.iter().any(|m| m["title"] == "Beta VPN uses port 1194"));
    // The whole tree again: nothing new.
    let again = import(&env, &[&root]);
    assert_eq!(again["memories_added"], 0, "{again}");
    assert_eq!(again["duplicates"], expected_turns + 1, "{again}");
}

#[test]
fn jsonl_notes_import_with_bad_lines_reported_and_the_rest_kept() {
    let env = Env::setup();
    let acme = add_client(&env, "Acme Corp");
    let beta = add_client(&env, "Beta Ltd");
    let site = add_project(&env, "acme-site", Some("acme-corp"), None);
    let lines = [
        json!({"title": "Firewall rule for the VPN", "body": "Allowed UDP 1194 on fw01 for the road warriors.",
               "tags": ["vpn", "Firewall Rules"], "project": "acme-site", "kind": "decision",
               "importance": 7, "created_at": "2026-02-01T09:00:00Z"})
        .to_string(),
        json!({"title": "Beta printer driver", "body": "HP universal driver 7.1 fixes the duplex bug.",
               "client": "beta-ltd", "kind": "fact"})
        .to_string(),
        "this line is not json".to_string(),
        json!({"title": "bad kind", "kind": "gossip"}).to_string(),
        json!({"title": "bad date", "created_at": "next blue moon"}).to_string(),
        json!({"title": "unknown project", "project": "ghost"}).to_string(),
        String::new(),
        json!({"body": "Only a body: the Exchange connector certificate expires in June."}).to_string(),
        json!({"title": "", "body": ""}).to_string(),
        json!({"title": "bad importance", "importance": 42}).to_string(),
        json!({"title": ["not", "a", "string"]}).to_string(),
        json!({"title": "Acme site backups go to the Synology", "project": "acme-site", "client": "beta-ltd"}).to_string(),
    ];
    let path = env.path("notes.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let out = env
        .msp(&["--json", "context", "import", s(&path)])
        .expect_code(0);
    let sum = out.json();
    assert_eq!(sum["memories_added"], 3, "{sum}\n{}", out.stderr);
    assert_eq!(sum["files"], 1, "{sum}");
    for bad in [3, 4, 5, 6, 9, 10, 11, 12] {
        assert!(
            out.stderr.contains(&format!("notes.jsonl:{bad}:")),
            "line {bad} not reported:\n{}",
            out.stderr
        );
    }
    for good in [1, 2, 7, 8] {
        assert!(
            !out.stderr.contains(&format!("notes.jsonl:{good}:")),
            "line {good} reported:\n{}",
            out.stderr
        );
    }

    let all = memories(&env);
    assert_eq!(all.len(), 3);
    let fw = all
        .iter()
        .find(|m| m["title"] == "Firewall rule for the VPN")
        .unwrap();
    assert_eq!(fw["kind"], "decision");
    assert_eq!(fw["importance"], 7);
    assert_eq!(fw["created_at"], "2026-02-01T09:00:00Z");
    assert_eq!(fw["project_id"], site.as_str());
    assert_eq!(fw["client_id"], acme.as_str());
    let t = tags(fw);
    for want in ["vpn", "firewall-rules", "acme-site"] {
        assert!(t.contains(&want.to_string()), "{want} not in {t:?}");
    }
    let pr = all
        .iter()
        .find(|m| m["title"] == "Beta printer driver")
        .unwrap();
    assert_eq!(pr["client_id"], beta.as_str());
    assert_eq!(pr["project_id"], Value::Null);
    assert_eq!(pr["kind"], "fact");
    assert_eq!(pr["importance"], 5);
    let body_only = memory_with(&all, "Exchange connector certificate");
    assert_eq!(body_only["kind"], "note");

    // Again: nothing new; the same problems are reported again.
    let again = env
        .msp(&["--json", "context", "import", s(&path)])
        .expect_code(0);
    assert_eq!(again.json()["memories_added"], 0);
    assert_eq!(again.json()["duplicates"], 3);
    // An explicit format reads notes from any file name.
    let txt = env.path("more-notes.txt");
    std::fs::write(
        &txt,
        "{\"title\":\"Acme guest wifi password rotates monthly\",\"project\":\"acme-site\"}\n",
    )
    .unwrap();
    let sum = env.json(&["context", "import", "--format", "jsonl", s(&txt)]);
    assert_eq!(sum["memories_added"], 1, "{sum}");
    assert_eq!(memories(&env).len(), 4);
}

#[test]
fn import_infers_the_project_from_each_turns_directory() {
    let env = Env::setup();
    let acme = add_client(&env, "Acme Corp");
    add_client(&env, "Beta Ltd");
    let acme_dir = env.dir("work/acme");
    let beta_dir = env.dir("work/beta");
    let site = add_project(&env, "acme-site", Some("acme-corp"), Some(&acme_dir));
    let infra = add_project(&env, "beta-infra", Some("beta-ltd"), Some(&beta_dir));
    let unlinked = env.dir("work/scratch");

    let mut tx = Tx::new(
        "44444444-4444-4444-8444-444444444444",
        s(&acme_dir.join("app/src")),
    );
    tx.prompt("Bump the acme site dependencies")
        .bash("npm update --save", "updated 12 packages", 0)
        .say("Updated.");
    tx.cd(s(&unlinked))
        .prompt("Scratch: measure the disk speed")
        .bash(
            "fio --name=seqread --rw=read --size=1G",
            "READ: bw=512MiB/s",
            0,
        )
        .say("512 MiB/s.");
    tx.cd(s(&beta_dir))
        .prompt("Restart the beta print spooler")
        .bash("ssh beta-print01 'systemctl restart cups'", "", 0)
        .say("Restarted.");
    let path = tx.save(&env.path("t/mixed.jsonl"));
    assert_eq!(import(&env, &[&path])["memories_added"], 3);
    let all = memories(&env);
    let npm = memory_with(&all, "npm update --save");
    assert_eq!(npm["project_id"], site.as_str());
    assert_eq!(npm["client_id"], acme.as_str());
    assert!(tags(npm).contains(&"acme-site".to_string()), "{npm}");
    let fio = memory_with(&all, "fio --name=seqread");
    assert_eq!(fio["project_id"], Value::Null);
    assert_eq!(fio["client_id"], Value::Null);
    let cups = memory_with(&all, "systemctl restart cups");
    assert_eq!(cups["project_id"], infra.as_str());

    // --project overrides the directories.
    let mut tx = Tx::new("55555555-5555-4555-8555-555555555555", s(&acme_dir));
    tx.prompt("Check the acme certificates")
        .bash("certbot certificates", "Expiry Date: 2026-06-01", 0)
        .say("They expire in June.");
    let path = tx.save(&env.path("t/override.jsonl"));
    let sum = env.json(&["context", "import", "--project", "beta-infra", s(&path)]);
    assert_eq!(sum["memories_added"], 1);
    let m = memory_with(&memories(&env), "certbot certificates").clone();
    assert_eq!(m["project_id"], infra.as_str());
    env.msp(&["context", "import", "--project", "ghost", s(&path)])
        .expect_hint(3);
}

// ---------------------------------------------------------------------------
// 3. Bad inputs
// ---------------------------------------------------------------------------

/// A transcript with a broken line was imported, the line mended, and the
/// transcript imported again: the turn's memory was "already known" and
/// never got what the mended line holds.
#[test]
fn a_transcript_imported_again_after_a_broken_line_is_mended_completes_its_memory() {
    let env = Env::setup();
    let mut tx = Tx::new("67676767-6767-4767-8767-676767676767", "/home/tech/acme");
    tx.prompt("Why does the backup to the NAS fail every night?")
        .bash(
            "grep -i error /var/log/borg/nightly.log",
            "Connection closed by remote host",
            1,
        )
        .say("The NAS closed the SSH session: its MaxSessions was 2, now 10.");
    let whole = tx.text.clone();
    let broken: String = whole
        .lines()
        .map(|l| match l.contains("\"tool_use\"") {
            // Broken in place: a byte lost, as on a bad disk; same length.
            true => format!("X{}\n", &l[1..]),
            false => format!("{l}\n"),
        })
        .collect();
    assert_eq!(broken.len(), whole.len());
    assert_ne!(broken, whole);
    let path = env.path("mended.jsonl");
    std::fs::write(&path, &broken).unwrap();
    let first = import(&env, &[&path]);
    assert_eq!(first["memories_added"], 1, "{first:#}");
    assert_eq!(first["skipped_lines"], 1, "{first:#}");
    let all = memories(&env);
    assert!(
        !str_of(&all[0], "body").contains("grep -i error"),
        "{all:#?}"
    );

    std::fs::write(&path, &whole).unwrap();
    let again = import(&env, &[&path]);
    assert_eq!(again["memories_added"], 0, "{again:#}");
    assert_eq!(again["completed"], 1, "{again:#}");
    let all = memories(&env);
    assert_eq!(all.len(), 1, "{all:#?}");
    memory_with(&all, "grep -i error /var/log/borg/nightly.log");

    let third = import(&env, &[&path]);
    assert_eq!(third["completed"], 0, "{third:#}");
    assert_eq!(third["duplicates"], 1, "{third:#}");
}

#[test]
fn corrupt_transcripts_never_crash_and_never_lose_stored_data() {
    let env = Env::setup();
    let note = env.remember(
        "Existing note about the Synology",
        "Stored before the corrupt imports.",
        &[],
    );

    let mut tx = Tx::new("66666666-6666-4666-8666-666666666666", "/home/tech/acme");
    tx.prompt("Find why the Synology share is read-only").bash(
        "mount | grep synology",
        "nas:/share on /mnt/nas type nfs (ro)",
        0,
    );
    let mut bytes = tx.text.clone().into_bytes();
    bytes.extend_from_slice(b"this is not json at all\n");
    bytes.extend_from_slice(
        b"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"unterminated\n",
    );
    bytes.extend_from_slice(b"[1,2,3]\n42\nnull\n\"just a string\"\n{}\n");
    bytes.extend_from_slice(b"{\"type\":\"user\",\"message\":null}\n");
    bytes.extend_from_slice(
        b"{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\"}]}}\n",
    );
    bytes.extend_from_slice(b"{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"content\":{\"weird\":true}}]}}\n");
    // Invalid UTF-8 inside a string and outside one.
    bytes.extend_from_slice(
        b"{\"type\":\"assistant\",\"uuid\":\"bad-utf8\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"The mount is ro \xff\xfe\xc3 because the export says ro.\"}]}}\n",
    );
    bytes.extend_from_slice(b"{\"type\":\xff\"user\"}\n");
    // Binary garbage, NULs and control bytes included.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push(if i % 397 == 396 {
            b'\n'
        } else {
            (x >> 24) as u8
        });
    }
    bytes.push(b'\n');
    bytes.extend_from_slice(b"\r\n\n   \n\t\n");
    let mut tx2 = Tx::new("66666666-6666-4666-8666-666666666666", "/home/tech/acme");
    tx2.lines.n = 100;
    tx2.prompt("Remount the share read-write")
        .bash("mount -o remount,rw /mnt/nas", "", 0)
        .say("Remounted rw.");
    bytes.extend_from_slice(tx2.text.as_bytes());
    // A truncated last line, as when Claude Code is still writing.
    bytes.extend_from_slice(
        b"{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"half a li",
    );
    let corrupt = env.path("corrupt.jsonl");
    std::fs::write(&corrupt, &bytes).unwrap();

    let out = env
        .msp(&["--json", "context", "import", s(&corrupt)])
        .expect_code(0);
    let sum = out.json();
    assert_eq!(sum["memories_added"], 2, "{sum}\n{}", out.stderr);
    assert!(
        out.stderr.contains("skipped") && out.stderr.contains("unreadable lines"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let all = memories(&env);
    assert_eq!(all.len(), 3);
    memory_with(&all, "mount | grep synology");
    memory_with(&all, "mount -o remount,rw /mnt/nas");
    memory_with(&all, "Stored before the corrupt imports.");

    // Files that are nothing but garbage, empty or binary.
    let garbage = env.path("garbage.jsonl");
    let junk: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &junk).unwrap();
    let empty = env.path("empty.jsonl");
    std::fs::write(&empty, b"").unwrap();
    // Not "nul.jsonl": NUL is a device name on Windows, whatever follows.
    let nul = env.path("zeros.jsonl");
    std::fs::write(&nul, vec![0u8; 10_000]).unwrap();
    let bin = env.path("image.bin");
    std::fs::write(&bin, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    for f in [&garbage, &empty, &nul, &bin] {
        let out = env
            .msp(&["--json", "context", "import", s(f)])
            .expect_code(0);
        assert_eq!(out.json()["memories_added"], 0, "{}", f.display());
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    for fmt in ["claude", "jsonl"] {
        let out = env
            .msp(&["--json", "context", "import", "--format", fmt, s(&garbage)])
            .expect_code(0);
        assert_eq!(out.json()["memories_added"], 0);
    }

    // Nothing stored was lost or damaged, and the store still answers.
    let after = memories(&env);
    assert_eq!(after.len(), 3);
    assert_eq!(
        env.json(&["context", "show", str_of(&note, "id")])["body"],
        "Stored before the corrupt imports."
    );
    let hits = env.json(&["context", "search", "synology share read-only"]);
    assert!(!array(&hits).is_empty());
    assert_eq!(stats(&env)["memories"], 3);
    // Re-importing the corrupt file adds nothing.
    let again = env
        .msp(&["--json", "context", "import", s(&corrupt)])
        .expect_code(0);
    assert_eq!(again.json()["memories_added"], 0);
}

#[test]
fn a_50_mb_tool_result_line_imports_into_a_small_memory() {
    let env = Env::setup();
    let path = env.path("big.jsonl");
    let mut tx = Tx::new("77777777-7777-4777-8777-777777777777", "/home/tech/acme");
    tx.prompt("Why does the NightlyNAS job fail? Check the full journal.");
    let id = tx.tool_id();
    tx.lines.tool(
        &id,
        "Bash",
        json!({"command": "journalctl -u veeamservice --no-pager", "description": "Full journal"}),
    );
    let head = tx.text.clone();
    let structured =
        json!({"stdout": "@@BIG@@", "stderr": "", "interrupted": false, "isImage": false});
    let line = tx
        .lines
        .tool_result(&id, json!("@@BIG@@"), false, structured)
        .to_string();
    let (pre, rest) = line.split_once("@@BIG@@").unwrap();
    let (mid, post) = rest.split_once("@@BIG@@").unwrap();
    let mut tail = Tx::new("77777777-7777-4777-8777-777777777777", "/home/tech/acme");
    tail.lines.n = tx.lines.n;
    tail.lines.msg = tx.lines.msg;
    tail.say("The journal shows the NAS timing out because it sleeps; raise the retries.");

    // One JSON-escaped chunk, written many times: ~25 MB in the content and
    // ~25 MB in toolUseResult.stdout, on one line.
    let mut chunk = String::new();
    let mut i = 0;
    while chunk.len() < 64 * 1024 {
        i += 1;
        chunk.push_str(&format!(
            "Mar 01 02:00:{:02} nas01 veeamservice[{i}]: retry {i} target=/mnt/nas status=waiting\\n",
            i % 60
        ));
    }
    let reps = 25 * 1024 * 1024 / chunk.len() + 1;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(head.as_bytes()).unwrap();
        f.write_all(pre.as_bytes()).unwrap();
        for _ in 0..reps {
            f.write_all(chunk.as_bytes()).unwrap();
        }
        f.write_all(mid.as_bytes()).unwrap();
        for _ in 0..reps {
            f.write_all(chunk.as_bytes()).unwrap();
        }
        f.write_all(post.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
        f.write_all(tail.text.as_bytes()).unwrap();
        f.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 50_000_000, "{size}");

    let started = std::time::Instant::now();
    let out = env
        .msp(&["--json", "context", "import", s(&path)])
        .expect_code(0);
    let took = started.elapsed();
    let sum = out.json();
    assert_eq!(sum["memories_added"], 1, "{sum}\n{}", out.stderr);
    assert!(took.as_secs() < 30, "import of {size} bytes took {took:?}");
    let all = memories(&env);
    assert_eq!(all.len(), 1);
    let m = &all[0];
    let body = str_of(m, "body");
    assert!(
        body.contains("journalctl -u veeamservice --no-pager"),
        "{body}"
    );
    assert!(body.len() < 4_000, "memory body of {} bytes", body.len());
    assert!(m["stored_tokens"].as_i64().unwrap() < 1_000, "{m}");
    assert!(
        m["raw_tokens"].as_i64().unwrap() > 1_000_000,
        "the raw size is still counted: {m}"
    );
    let source = env.json(&["context", "show", str_of(m, "id"), "--source"]);
    let excerpt = str_of(&source, "source");
    assert!(
        excerpt.len() < 100_000,
        "excerpt of {} bytes",
        excerpt.len()
    );
    assert!(excerpt.contains("Why does the NightlyNAS job fail"));
    let st = stats(&env);
    assert!(st["reduction"].as_f64().unwrap() > 0.99, "{st}");
}

#[test]
fn an_empty_store_answers_every_read_with_nothing() {
    // Without setup (no store yet) and after setup (an empty store).
    for env in [Env::new(), Env::setup()] {
        assert_eq!(env.json(&["context", "search", "veeam backup"]), json!([]));
        assert_eq!(env.json(&["context", "list"]), json!([]));
        let r = env.json(&[
            "context",
            "recall",
            "--prompt",
            "why does the veeam backup fail",
        ]);
        assert_eq!(r, json!({"text": "", "tokens": 0, "memories": []}));
        let st = stats(&env);
        assert_eq!(st["memories"], 0, "{st}");
        assert_eq!(st["raw_tokens"], 0, "{st}");
        assert_eq!(st["stored_tokens"], 0, "{st}");
        assert_eq!(st["reduction"].as_f64(), Some(0.0), "{st}");
        assert_eq!(st["median_reduction"].as_f64(), Some(0.0), "{st}");
        let plain = env.ok(&["context", "recall", "--prompt", "veeam backup"]);
        assert_eq!(plain.stdout, "");
        env.ok(&["context", "search", "veeam"]);
        env.ok(&["context", "list"]);
        env.ok(&["context", "stats"]);
    }
}

#[test]
fn missing_paths_and_ids_are_exit_3() {
    let env = Env::setup();
    let real = env.path("real.jsonl");
    let mut tx = Tx::new(ACME_SESSION, "/home/tech");
    tx.prompt("List the scheduled tasks on srv01").bash(
        "schtasks /query /s srv01",
        "TaskName: Backup",
        0,
    );
    tx.save(&real);
    let out = env
        .msp(&["context", "import", s(&env.path("nope.jsonl"))])
        .expect_hint(3);
    assert!(out.stderr.contains("nope.jsonl"), "{}", out.stderr);
    // One missing path among good ones: nothing is imported.
    env.msp(&["context", "import", s(&real), s(&env.path("gone"))])
        .expect_hint(3);
    assert_eq!(memories(&env).len(), 0);
    env.msp(&["context", "show", "01234567-89ab-7def-8123-456789abcdef"])
        .expect_hint(3);
    env.msp(&["context", "forget", "01234567-89ab-7def-8123-456789abcdef"])
        .expect_hint(3);
    env.msp(&["context", "list", "--project", "ghost"])
        .expect_hint(3);
    env.msp(&["context", "search", "x", "--client", "ghost"])
        .expect_hint(3);
    env.msp(&["context", "search", "x", "--kind", "gossip"])
        .expect_code(2);
    // A query with no word would rank every memory by the meaning of
    // punctuation.
    for empty in ["", "  ", "?!"] {
        let out = env.msp(&["context", "search", empty]).expect_hint(2);
        assert!(out.stderr.contains("has no words"), "{}", out.stderr);
    }
    assert_eq!(import(&env, &[&real])["memories_added"], 1);
}

#[tokio::test]
async fn an_older_store_is_migrated_and_keeps_its_data() {
    use sqlx::Connection as _;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    use std::str::FromStr as _;

    let env = Env::new();
    std::fs::create_dir_all(&env.data).unwrap();
    let db = env.data.join("msp.db");
    let opts = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(&db)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&opts).await.unwrap();
    // A store as version 1 of msp left it, with one client.
    let v1 = concat!(
        include_str!("../../migrations/0001_init.sql"),
        "\nPRAGMA user_version = 1;
         INSERT INTO clients (id, name, slug, client_type, notes, created_at, updated_at)
         VALUES ('0190c0de-0000-7000-8000-000000000001', 'Legacy Client', 'legacy-client', 'msp_client', 'from v1', 1700000000000, 1700000000000);"
    );
    sqlx::raw_sql(v1).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    let st = stats(&env);
    assert_eq!(st["memories"], 0, "{st}");

    let mut conn = SqliteConnection::connect_with(&opts).await.unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, msp::store::SCHEMA_VERSION);
    // The newest migration file's number (numbers may be reserved, so not the count).
    let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .filter_map(|p| p.file_name()?.to_str()?.get(..4)?.parse::<i64>().ok())
        .max()
        .unwrap();
    assert_eq!(version, newest, "every migration file applied");
    let name: String = sqlx::query_scalar("SELECT name FROM clients WHERE slug = 'legacy-client'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(name, "Legacy Client");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE name IN ('memories', 'memory_index', 'capture_offsets', 'recall_log')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 4);
    conn.close().await.unwrap();

    // The migrated store works with its old data.
    let m = env.json(&[
        "context",
        "add",
        "--title",
        "Legacy client backups",
        "--client",
        "legacy-client",
    ]);
    assert_eq!(m["client_id"], "0190c0de-0000-7000-8000-000000000001");
    let clients = env.json(&["client", "list"]);
    assert_eq!(clients[0]["notes"], "from v1", "{clients}");
    assert_eq!(stats(&env)["memories"], 1);
}

// ---------------------------------------------------------------------------
// 4. Redaction end to end
// ---------------------------------------------------------------------------

/// One secret form: text as it would appear, and the secret values in it.
struct Secret {
    name: &'static str,
    text: String,
    values: Vec<String>,
}

fn secret(name: &'static str, template: &str, values: Vec<String>) -> Secret {
    let mut text = template.to_string();
    for (i, v) in values.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), v);
    }
    assert!(!text.contains("{0}"), "{name}: unfilled");
    Secret { name, text, values }
}

fn secrets() -> Vec<Secret> {
    let pem = |seed: u64, n: usize| -> Vec<String> {
        (0..n).map(|i| fake(seed + i as u64, 'b', 64)).collect()
    };
    let jwt_payload = format!("{}{}", "eyJ", fake(900, 'u', 40));
    let jwt_sig = fake(901, 'u', 43);
    let jwt_head = format!("{}{}", "eyJhbGciOiJIUzI1NiIs", "InR5cCI6IkpXVCJ9");
    let begin = |kind: &str| format!("-----{} {kind}PRIVATE KEY-----", "BEGIN");
    let end = |kind: &str| format!("-----{} {kind}PRIVATE KEY-----", "END");
    vec![
        secret(
            "aws-key-id",
            "[default]\naws_access_key_id = {0}\nregion = eu-central-1",
            vec![format!("{}{}", "AKIA", fake(80, 'A', 16))],
        ),
        secret(
            "aws-secret",
            "aws_secret_access_key = {0}",
            vec![fake(81, 'b', 40)],
        ),
        secret(
            "aws-sts-json",
            r#"{"Credentials": {"AccessKeyId": "{0}", "SecretAccessKey": "{1}", "SessionToken": "{2}"}}"#,
            vec![
                format!("{}{}", "ASIA", fake(70, 'A', 16)),
                fake(71, 'b', 40),
                fake(72, 'b', 120),
            ],
        ),
        secret(
            "github-classic",
            "export GITHUB_TOKEN={0}",
            vec![format!("{}{}", "ghp_", fake(150, 'a', 36))],
        ),
        secret(
            "github-fine-grained",
            "git remote set-url origin https://{0}@github.com/acme/app.git",
            vec![format!(
                "{}{}_{}",
                "github_pat_",
                fake(160, 'a', 22),
                fake(161, 'a', 59)
            )],
        ),
        secret(
            "github-oauth",
            "$ gh auth token\n{0}\n$ ",
            vec![format!("{}{}", "gho_", fake(170, 'a', 36))],
        ),
        secret(
            "gitlab",
            "git clone https://oauth2:{0}@gitlab.com/acme/infra.git",
            vec![format!("{}{}", "glpat-", fake(190, 'u', 20))],
        ),
        secret(
            "slack-bot",
            r#"client = WebClient(token="{0}")"#,
            vec![format!(
                "{}{}-{}-{}",
                "xoxb-",
                fake(200, 'd', 12),
                fake(201, 'd', 13),
                fake(202, 'a', 24)
            )],
        ),
        secret(
            "slack-webhook",
            "curl -X POST --data '{\"text\":\"deploy done\"}' https://hooks.slack.com/services/{0}",
            vec![format!(
                "T{}/B{}/{}",
                fake(31, 'A', 8),
                fake(32, 'A', 10),
                fake(33, 'a', 24)
            )],
        ),
        secret(
            "stripe-live",
            "STRIPE_SECRET_KEY={0}",
            vec![format!("{}{}", "sk_live_", fake(220, 'a', 24))],
        ),
        secret(
            "stripe-restricted",
            r#"{"restricted_key": "{0}", "livemode": true}"#,
            vec![format!("{}{}", "rk_live_", fake(230, 'a', 24))],
        ),
        secret(
            "jwt",
            &format!(
                "2026-03-01T12:00:00Z DEBUG session restored from cookie {jwt_head}.{{0}}.{{1}} (user 42)"
            ),
            vec![jwt_payload, jwt_sig],
        ),
        secret(
            "pem-rsa",
            &format!(
                "$ cat ~/.ssh/id_rsa\n{}\n{{0}}\n{{1}}\n{{2}}\n{}\n$ ls ~/.ssh",
                begin("RSA "),
                end("RSA ")
            ),
            pem(1, 3),
        ),
        secret(
            "pem-openssh",
            &format!("{}\n{{0}}\n{{1}}\n{}", begin("OPENSSH "), end("OPENSSH ")),
            pem(10, 2),
        ),
        secret(
            "password-in-url",
            "DATABASE_URL=postgres://admin:{0}@db.example.com:5432/app",
            vec![format!("S3cr{}!x", fake(425, 'a', 8))],
        ),
        secret(
            "mongodb-url",
            "mongodb+srv://appuser:{0}@cluster0.abcde.mongodb.net/?retryWrites=true",
            vec![fake(430, 'a', 16)],
        ),
        secret(
            "password-assign",
            "DB_HOST=db.internal password={0} ./migrate.sh",
            vec![format!("hunter{}", fake(431, 'a', 10))],
        ),
        secret(
            "password-json",
            r#"{"username": "admin", "password": "{0}", "remember": true}"#,
            vec![format!("{}!{}", fake(340, 'a', 8), fake(341, 'a', 6))],
        ),
        secret(
            "odbc-pwd",
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql01,1433;Uid=sa;Pwd={0};Encrypt=yes;",
            vec![format!("{}!x", fake(330, 'a', 12))],
        ),
        secret(
            "azure-account-key",
            r#"AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={0};EndpointSuffix=core.windows.net""#,
            vec![format!("{}==", fake(110, 'b', 86))],
        ),
        secret(
            "azure-sas",
            r#"az storage blob upload --account-name acmestore --sas-token "?sv=2022-11-02&ss=b&sp=rwdlac&se=2026-12-01T00:00:00Z&sig={0}" --file backup.zip"#,
            vec![format!(
                "{}%2B{}%3D",
                fake(120, 'a', 20),
                fake(121, 'a', 20)
            )],
        ),
        secret(
            "azure-client-secret",
            "App registration created. Secret value (shown once): {0}",
            vec![format!(
                "{}{}{}",
                fake(130, 'a', 3),
                "8Q~",
                fake(131, 'a', 34)
            )],
        ),
        secret(
            "bearer",
            r#"curl -s -H "Authorization: Bearer {0}" https://api.example.com/v1/me"#,
            vec![fake(300, 'a', 40)],
        ),
        secret(
            "basic-auth",
            "GET /api/v1/status HTTP/1.1\nHost: intranet.acme.local\nAuthorization: Basic {0}\nAccept: */*",
            vec![format!("{}==", fake(310, 'b', 26))],
        ),
        secret(
            "openai",
            "OPENAI_API_KEY={0} python summarize.py",
            vec![format!("{}{}", "sk-proj-", fake(250, 'u', 120))],
        ),
        secret(
            "anthropic",
            "export ANTHROPIC_API_KEY=\"{0}\"",
            vec![format!("{}{}{}AA", "sk-ant-", "api03-", fake(260, 'u', 93))],
        ),
        secret(
            "npm",
            "//registry.npmjs.org/:_authToken={0}\nalways-auth=true",
            vec![format!("{}{}", "npm_", fake(270, 'a', 36))],
        ),
        secret(
            "sendgrid",
            "SENDGRID_API_KEY='{0}'",
            vec![format!(
                "{}{}.{}",
                "SG.",
                fake(280, 'u', 22),
                fake(281, 'u', 43)
            )],
        ),
        secret(
            "gcp-api-key",
            r#"curl "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={0}""#,
            vec![format!("{}{}", "AIza", fake(100, 'u', 35))],
        ),
        secret(
            "api-key-python",
            "api_key = \"{0}\"\nclient = Client(api_key=api_key)",
            vec![fake(360, 'a', 32)],
        ),
        secret(
            "client-secret-yaml",
            "oauth:\n  client_id: acme-portal\n  client_secret: {0}",
            vec![fake(380, 'u', 32)],
        ),
        secret(
            "securestring",
            r#"$secure = ConvertTo-SecureString "{0}" -AsPlainText -Force"#,
            vec![format!("Winter{}!", fake(390, 'd', 4))],
        ),
        secret(
            "net-user",
            r"PS C:\> net user svc_backup {0} /add /y",
            vec![format!("Bk{}$", fake(400, 'a', 10))],
        ),
        secret(
            "mysql-p",
            "mysql -h db.internal -u root -p{0} acme_prod < dump.sql",
            vec![fake(410, 'a', 12)],
        ),
        secret(
            "sshpass",
            "sshpass -p '{0}' ssh deploy@web01.acme.local 'uptime'",
            vec![fake(420, 'a', 12)],
        ),
        secret(
            "huggingface",
            "HF_TOKEN={0} huggingface-cli whoami",
            vec![format!("{}{}", "hf_", fake(440, 'a', 34))],
        ),
        secret(
            "twilio",
            "TWILIO_API_KEY={0}\nTWILIO_AUTH_TOKEN={1}",
            vec![format!("SK{}", fake(290, 'h', 32)), fake(291, 'h', 32)],
        ),
        secret(
            "token-query",
            "Open https://example.com/reset?token={0}&user=42 to continue.",
            vec![fake(370, 'a', 24)],
        ),
        secret(
            "redis-url",
            "REDIS_URL=redis://:{0}@cache01.acme.local:6379/0",
            vec![fake(450, 'a', 20)],
        ),
    ]
}

/// Fragments of a secret that must not survive either: the whole value, and
/// for long ones its head and tail (a cut secret leaks too).
fn fragments(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 20 {
        out.push(chars[..12].iter().collect());
        out.push(chars[chars.len() - 12..].iter().collect());
    }
    out
}

#[track_caller]
fn assert_no_secret(secrets: &[Secret], haystack: &[u8], what: &str) {
    for sec in secrets {
        for v in &sec.values {
            for frag in fragments(v) {
                let found = haystack.windows(frag.len()).any(|w| w == frag.as_bytes());
                assert!(
                    !found,
                    "{what} leaks {} (fragment {frag:?} of {v:?})",
                    sec.name
                );
            }
        }
    }
}

#[test]
fn secrets_never_reach_any_output_or_the_store_file() {
    let env = Env::setup();
    let secrets = secrets();
    assert!(secrets.len() >= 30);
    // A connection held open for the whole test keeps the WAL file from
    // being checkpointed away, so its bytes can be searched too.
    let rt = common::rt();
    let holder = rt.block_on(async {
        use sqlx::Connection as _;
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(env.data.join("msp.db"))
            .read_only(true);
        let mut c = sqlx::sqlite::SqliteConnection::connect_with(&opts)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM memories")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 0);
        c
    });

    // Ordinary text that must survive, also kept out of secret lines.
    let commit = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    let uuid = "3f0c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9";
    let path = "/srv/app/releases/2026-03-01/config/settings.yaml";

    // The transcript: every secret in a prompt, a command, a tool result or
    // a written file, four per turn.
    let mut tx = Tx::new("88888888-8888-4888-8888-888888888888", "/home/tech/acme");
    tx.prompt(&format!(
        "Deploy commit {commit} for ticket {uuid} and write {path}"
    ))
    .bash(&format!("git show {commit} --stat"), "1 file changed", 0)
    .write(path, "release: 2026-03-01\n")
    .say("Deployed.");
    for (turn, group) in secrets.chunks(4).enumerate() {
        tx.prompt(&format!(
            "sample-t{turn}: configure the integration with these settings\n{}",
            group[0].text
        ));
        if let Some(sec) = group.get(1) {
            tx.bash(&sec.text, "done", 0);
        }
        if let Some(sec) = group.get(2) {
            tx.bash(
                &format!("cat /etc/acme/sample-t{turn}.conf"),
                &format!("# settings\n{}\n# end", sec.text),
                0,
            );
        }
        if let Some(sec) = group.get(3) {
            tx.write(&format!("/etc/acme/sample-t{turn}.env"), &sec.text);
            tx.edit(
                &format!("/etc/acme/sample-t{turn}.env"),
                "old=1",
                &format!("old=2\n{}", sec.text),
            );
        }
        tx.say("Configured the integration as asked.");
    }
    let path_t = tx.save(&env.path("secrets.jsonl"));
    // The detector itself: the transcript does hold every secret.
    for sec in &secrets {
        for v in &sec.values {
            assert!(tx.text.contains(v.as_str()), "{} not planted", sec.name);
        }
    }
    let sum = import(&env, &[&path_t]);
    let turns = secrets.len().div_ceil(4) + 1;
    assert_eq!(sum["memories_added"], turns as u64, "{sum}");

    // Hand-written memories: secrets in titles and bodies.
    for (i, group) in secrets.chunks(6).enumerate() {
        let body: Vec<&str> = group.iter().map(|s| s.text.as_str()).collect();
        env.remember(
            &format!(
                "sample-n{i} integration settings {}",
                group[0].text.replace('\n', " ")
            ),
            &format!(
                "sample-n{i} settings for the integration:\n{}",
                body.join("\n")
            ),
            &["--tags", "integration"],
        );
    }
    env.remember(
        "Release notes",
        &format!("Deployed commit {commit} (ticket {uuid}).\nConfig lives in {path}."),
        &[],
    );

    // Every way a memory comes out.
    let list = env.json(&["context", "list", "--limit", "1000"]);
    let all = array(&list).clone();
    assert_eq!(all.len(), turns + secrets.len().div_ceil(6) + 1);
    let mut out = list.to_string();
    out.push_str(&env.ok(&["context", "list", "--limit", "1000"]).stdout);
    for m in &all {
        let id = str_of(m, "id");
        out.push_str(&env.json(&["context", "show", id]).to_string());
        out.push_str(&env.json(&["context", "show", id, "--source"]).to_string());
        out.push_str(&env.ok(&["context", "show", id, "--source"]).stdout);
    }
    let queries = [
        "integration settings",
        "aws credentials access key",
        "github token remote",
        "password migrate database",
        "azure storage connection",
        "ssh private key",
        "stripe slack webhook",
        "bearer authorization api",
        "mysql dump sshpass",
        "configure the integration",
    ];
    for q in queries {
        let found = env.json(&["context", "search", q, "--limit", "50"]);
        out.push_str(&found.to_string());
        out.push_str(&env.ok(&["context", "search", q]).stdout);
        for budget in ["800", "5000"] {
            let r = env.json(&["context", "recall", "--prompt", q, "--budget", budget]);
            out.push_str(&r.to_string());
        }
        out.push_str(&env.ok(&["context", "recall", "--prompt", q]).stdout);
    }
    assert!(
        out.contains("[REDACTED:"),
        "nothing was redacted: the test saw no secret text"
    );
    // Every sample made it into the outputs (so the secret check means something).
    for turn in 0..secrets.len().div_ceil(4) {
        assert!(
            out.contains(&format!("sample-t{turn}")),
            "turn {turn} missing"
        );
    }
    for i in 0..secrets.len().div_ceil(6) {
        assert!(out.contains(&format!("sample-n{i}")), "note {i} missing");
    }
    assert_no_secret(&secrets, out.as_bytes(), "command output");

    // Ordinary text survives redaction, in captured and written memories.
    let release = all.iter().find(|m| m["title"] == "Release notes").unwrap();
    let body = str_of(release, "body");
    for keep in [commit, uuid, path] {
        assert!(body.contains(keep), "{keep:?} redacted from {body:?}");
    }
    let deploy = memory_with(&all, &format!("git show {commit} --stat"));
    let body = str_of(deploy, "body");
    for keep in [commit, uuid, path] {
        assert!(body.contains(keep), "{keep:?} redacted from {body:?}");
    }

    // The store's files, byte by byte (db, WAL, shm, log), and the config dir.
    let mut files = Vec::new();
    for dir in [&env.data, &env.config] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    assert!(
        files.iter().any(|f| f.ends_with("msp.db")),
        "no store file in {files:?}"
    );
    let wal = env.data.join("msp.db-wal");
    assert!(files.contains(&wal), "no WAL kept: {files:?}");
    let mut checked = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        checked += bytes.len();
        assert_no_secret(&secrets, &bytes, &f.display().to_string());
    }
    let wal_bytes = std::fs::read(&wal).unwrap();
    assert!(
        wal_bytes.windows(10).any(|w| w == b"sample-t0:"),
        "the WAL holds the captured memories"
    );
    assert!(checked > 10_000, "{checked}");
    rt.block_on(async {
        use sqlx::Connection as _;
        holder.close().await.unwrap();
    });
    // The next msp process is the last connection: it checkpoints the WAL
    // into the store file on exit.
    stats(&env);
    let bytes = std::fs::read(env.data.join("msp.db")).unwrap();
    assert!(bytes.windows(10).any(|w| w == b"sample-t0:"));
    assert_no_secret(&secrets, &bytes, "msp.db after checkpoint");
}

// ---------------------------------------------------------------------------
// 5. Search and recall
// ---------------------------------------------------------------------------

/// Two clients with a linked project each, and memories around them.
struct World {
    env: Env,
    acme_dir: PathBuf,
    beta_dir: PathBuf,
    site: String,
    infra: String,
    acme: String,
    beta: String,
}

fn world() -> World {
    let env = Env::setup();
    let acme = add_client(&env, "Acme Corp");
    let beta = add_client(&env, "Beta Ltd");
    let acme_dir = env.dir("work/acme");
    let beta_dir = env.dir("work/beta");
    let site = add_project(&env, "acme-site", Some("acme-corp"), Some(&acme_dir));
    let infra = add_project(&env, "beta-infra", Some("beta-ltd"), Some(&beta_dir));
    let notes = [
        json!({"title": "Veeam backup job retries", "body": "Nightly Veeam backup to the Synology NAS failed; raised retries to 5 because the NAS sleeps.",
               "project": "acme-site", "kind": "decision", "created_at": "2026-03-01T10:00:00Z"}),
        json!({"title": "Printer driver on floor 2", "body": "Reinstalled the HP LaserJet driver on the print server; duplex works again.",
               "project": "beta-infra", "kind": "fact", "created_at": "2026-03-02T10:00:00Z"}),
        json!({"title": "Exchange mailbox quota", "body": "Raised the mailbox quota for the sales team to 50 GB.",
               "client": "beta-ltd", "kind": "note", "created_at": "2026-03-03T10:00:00Z"}),
        json!({"title": "KB5034441 fails with 0x80070643", "body": "The recovery partition is too small; resize it before the update.",
               "kind": "snippet", "created_at": "2026-03-04T10:00:00Z"}),
        json!({"title": "Firewall VPN port", "body": "OpenVPN listens on UDP 1194 on the acme firewall; the printer VLAN is blocked.",
               "project": "acme-site", "kind": "fact", "created_at": "2026-03-05T10:00:00Z"}),
        json!({"title": "Old Veeam note", "body": "Veeam backup server was moved to the new rack.",
               "kind": "note", "created_at": "2025-01-01T10:00:00Z"}),
    ];
    let path = env.path("world.jsonl");
    let text: Vec<String> = notes.iter().map(|n| n.to_string()).collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    assert_eq!(import(&env, &[&path])["memories_added"], 6);
    World {
        env,
        acme_dir,
        beta_dir,
        site,
        infra,
        acme,
        beta,
    }
}

fn titles(v: &Value) -> Vec<String> {
    array(v)
        .iter()
        .map(|m| str_of(m, "title").to_string())
        .collect()
}

const NOW: &str = "2026-03-10T12:00:00Z";

#[test]
fn search_ranks_the_matching_memory_first_and_filters() {
    let w = world();
    let env = &w.env;
    let search = |args: &[&str]| -> Value {
        let mut all = vec!["context", "search"];
        all.extend_from_slice(args);
        all.extend(["--now", NOW]);
        env.json(&all)
    };
    let r = search(&["veeam backup retries"]);
    assert_eq!(titles(&r)[0], "Veeam backup job retries", "{r:#}");
    assert!(titles(&r).contains(&"Old Veeam note".to_string()));
    let first = &r[0];
    for key in [
        "id",
        "title",
        "score",
        "text",
        "recency",
        "scope",
        "tag_overlap",
        "memory",
    ] {
        assert!(first.get(key).is_some(), "no {key} in {first}");
    }
    assert_eq!(first["memory"]["project_id"], w.site.as_str());
    let scores: Vec<f64> = array(&r)
        .iter()
        .map(|m| m["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    assert_eq!(
        titles(&search(&["printer driver"]))[0],
        "Printer driver on floor 2"
    );
    assert_eq!(
        titles(&search(&["mailbox quota"]))[0],
        "Exchange mailbox quota"
    );
    assert_eq!(
        titles(&search(&["0x80070643 recovery partition"]))[0],
        "KB5034441 fails with 0x80070643"
    );
    assert_eq!(search(&["completely unrelated zymurgy"]), json!([]));

    // --explain: each signal's part of the score, summing to it.
    let explained = search(&["veeam backup retries", "--explain"]);
    for m in array(&explained) {
        let shares = m["shares"].as_object().expect("shares");
        let names: Vec<&str> = shares.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "words",
                "meaning",
                "recency",
                "importance",
                "scope",
                "tags",
                "use",
                "context"
            ]
        );
        let sum: f64 = shares.values().map(|v| v.as_f64().unwrap()).sum();
        let score = m["score"].as_f64().unwrap();
        assert!((sum - score).abs() < 0.01, "{sum} != {score}: {m}");
    }
    assert!(explained[0]["shares"]["words"].as_f64().unwrap() > 0.0);
    let table = env
        .ok(&[
            "context",
            "search",
            "veeam backup retries",
            "--explain",
            "--now",
            NOW,
        ])
        .stdout;
    let header = table.lines().next().unwrap();
    for col in [
        "SCORE", "WORDS", "MEANING", "RECENCY", "SCOPE", "CONTEXT", "TITLE",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(table.lines().nth(1).unwrap().contains('%'), "{table}");

    // Filters.
    let facts = search(&["veeam printer firewall quota", "--kind", "fact"]);
    assert!(!array(&facts).is_empty());
    assert!(
        array(&facts).iter().all(|m| m["memory"]["kind"] == "fact"),
        "{facts:#}"
    );
    let acme = search(&["veeam printer firewall quota", "--project", "acme-site"]);
    let mut t = titles(&acme);
    t.sort();
    assert_eq!(t, ["Firewall VPN port", "Veeam backup job retries"]);
    let beta = search(&["veeam printer firewall quota", "--client", "beta-ltd"]);
    let mut t = titles(&beta);
    t.sort();
    assert_eq!(t, ["Exchange mailbox quota", "Printer driver on floor 2"]);
    assert!(
        array(&beta)
            .iter()
            .all(|m| m["memory"]["client_id"] == w.beta.as_str())
    );
    let one = search(&["veeam printer firewall quota", "--limit", "1"]);
    assert_eq!(array(&one).len(), 1);
    // The plain table.
    let plain = env.ok(&["context", "search", "veeam backup retries", "--now", NOW]);
    assert!(plain.stdout.starts_with("ID"), "{}", plain.stdout);
    common::assert_has(&plain.stdout, "Veeam backup job retries");

    // --now makes scores reproducible; a later now lowers recency.
    let a = env.ok(&["--json", "context", "search", "veeam backup", "--now", NOW]);
    let b = env.ok(&["--json", "context", "search", "veeam backup", "--now", NOW]);
    assert_eq!(a.stdout, b.stdout);
    let later = env.json(&[
        "context",
        "search",
        "veeam backup",
        "--now",
        "2026-09-01T00:00:00Z",
    ]);
    let rec = |v: &Value, title: &str| {
        array(v).iter().find(|m| m["title"] == title).unwrap()["recency"]
            .as_f64()
            .unwrap()
    };
    assert!(rec(&later, "Veeam backup job retries") < rec(&a.json(), "Veeam backup job retries"));
    let ra = env.ok(&[
        "--json",
        "context",
        "recall",
        "--prompt",
        "veeam backup retries",
        "--now",
        NOW,
        "--cwd",
        s(&w.acme_dir),
    ]);
    let rb = env.ok(&[
        "--json",
        "context",
        "recall",
        "--prompt",
        "veeam backup retries",
        "--now",
        NOW,
        "--cwd",
        s(&w.acme_dir),
    ]);
    assert_eq!(ra.stdout, rb.stdout);
    let infra = search(&["printer firewall", "--project", "beta-infra"]);
    assert!(
        array(&infra)
            .iter()
            .all(|m| m["memory"]["project_id"] == w.infra.as_str()),
        "{infra:#}"
    );
    let acme_all = search(&["veeam printer firewall quota", "--client", "acme-corp"]);
    assert!(
        array(&acme_all)
            .iter()
            .all(|m| m["memory"]["client_id"] == w.acme.as_str()),
        "{acme_all:#}"
    );
}

#[test]
fn recall_is_framed_small_within_budget_and_scoped_to_the_client() {
    let w = world();
    let env = &w.env;
    let recall = |prompt: &str, cwd: &Path, budget: Option<&str>| -> Value {
        let mut args = vec![
            "context",
            "recall",
            "--prompt",
            prompt,
            "--cwd",
            s(cwd),
            "--now",
            NOW,
        ];
        if let Some(b) = budget {
            args.extend(["--budget", b]);
        }
        env.json(&args)
    };
    // Shape and frame.
    let r = recall(
        "why does the veeam backup to the NAS fail",
        &w.acme_dir,
        None,
    );
    let text = str_of(&r, "text");
    assert!(text.starts_with("<msp-memory>"), "{text}");
    assert!(text.trim_end().ends_with("</msp-memory>"), "{text}");
    assert!(text.contains("Veeam backup job retries"), "{text}");
    assert!(r["tokens"].as_u64().unwrap() <= 800, "{r}");
    let mems = array(&r["memories"]);
    assert!(!mems.is_empty());
    for m in mems {
        for key in ["id", "title", "score"] {
            assert!(m.get(key).is_some(), "no {key} in {m}");
        }
    }
    assert_eq!(mems[0]["title"], "Veeam backup job retries");
    // The plain output is the text itself.
    let plain = env.ok(&[
        "context",
        "recall",
        "--prompt",
        "why does the veeam backup to the NAS fail",
        "--cwd",
        s(&w.acme_dir),
        "--now",
        NOW,
    ]);
    assert_eq!(plain.stdout.trim_end(), text.trim_end());

    // A memory of Acme's project, the only textual match, is never recalled
    // in Beta's project, even from a subdirectory; it is in Acme's.
    env.remember(
        "Synology DS920 admin portal moved to port 5443",
        "The zebrafinch admin portal of the Synology now listens on 5443.",
        &["--project", "acme-site", "--at", "2026-03-06T10:00:00Z"],
    );
    env.remember(
        "Acme client-wide: zebrafinch vault location",
        "The zebrafinch vault sits in the Acme server room.",
        &["--client", "acme-corp", "--at", "2026-03-06T11:00:00Z"],
    );
    let portal = "where is the zebrafinch synology admin portal";
    let vault = "where is the zebrafinch vault";
    let beta_sub = w.beta_dir.join("deep/sub");
    std::fs::create_dir_all(&beta_sub).unwrap();
    for dir in [&w.beta_dir, &beta_sub] {
        for prompt in [portal, vault] {
            let r = recall(prompt, dir, Some("4000"));
            let t = str_of(&r, "text");
            assert!(
                !t.contains("zebrafinch"),
                "Acme memory leaked into Beta:\n{t}"
            );
            assert!(!t.contains("Synology DS920"), "{t}");
            assert!(
                array(&r["memories"]).iter().all(|m| {
                    let title = str_of(m, "title");
                    !title.contains("zebrafinch") && !title.contains("Synology DS920")
                }),
                "{r}"
            );
            let plain = env.ok(&["context", "recall", "--prompt", prompt, "--cwd", s(dir)]);
            assert!(!plain.stdout.contains("zebrafinch"), "{}", plain.stdout);
        }
    }
    let acme_sub = w.acme_dir.join("src");
    std::fs::create_dir_all(&acme_sub).unwrap();
    for dir in [&w.acme_dir, &acme_sub] {
        let r = recall(portal, dir, Some("4000"));
        assert!(
            str_of(&r, "text").contains("Synology DS920 admin portal"),
            "project memory not recalled in Acme:\n{r:#}"
        );
        let r = recall(vault, dir, Some("4000"));
        assert!(
            str_of(&r, "text").contains("zebrafinch vault"),
            "client memory not recalled in Acme:\n{r:#}"
        );
    }
    // Memories without a client are recalled anywhere, Beta included.
    let r = recall("KB5034441 update fails 0x80070643", &w.beta_dir, None);
    assert!(str_of(&r, "text").contains("recovery partition"), "{r:#}");

    // Short prompts recall nothing, even when a memory holds their words.
    env.remember(
        "Continue the Exchange migration on Friday",
        "Yes: the customer gave the OK to continue; go on with mailbox batch 3.",
        &["--at", "2026-03-07T10:00:00Z"],
    );
    for short in ["yes", "continue", "ok", "thanks!", "go on", "", "   ", "?"] {
        let r = recall(short, &w.acme_dir, None);
        assert_eq!(r["text"], "", "{short:?} recalled {r:#}");
        let plain = env.ok(&[
            "context",
            "recall",
            "--prompt",
            short,
            "--cwd",
            s(&w.acme_dir),
        ]);
        assert_eq!(plain.stdout, "", "{short:?}");
    }
}

/// Six lower-case letters, distinct for each `i` below 26^6: `i` times a
/// number prime to 26, modulo 26^6, in base 26.
fn lower_word(i: u64) -> String {
    let mut x = i.wrapping_mul(7_919 * 104_729) % 26u64.pow(6);
    (0..6)
        .map(|_| {
            let c = (b'a' + (x % 26) as u8) as char;
            x /= 26;
            c
        })
        .collect()
}

#[test]
fn recall_of_200_large_memories_stays_small_and_within_budget() {
    let env = Env::setup();
    // 200 large, distinct memories that all match the prompt.
    let vocab: Vec<String> = (0..3000).map(|i| format!("zq{}", lower_word(i))).collect();
    let mut lines = Vec::new();
    for i in 0..200u64 {
        let words: Vec<&str> = (0..260)
            .map(|j| vocab[((i * 7919 + j * 104_729) % 3000) as usize].as_str())
            .collect();
        let body = format!(
            "Veeam backup to the NAS failed on host{i}; raised retries. {}",
            words.join(" ")
        );
        lines.push(
            json!({"title": format!("Veeam NAS backup retries on host{i}"), "body": body,
                   "created_at": format!("2026-02-{:02}T10:00:00Z", 1 + i % 28)})
            .to_string(),
        );
    }
    let path = env.path("many.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let sum = import(&env, &[&path]);
    assert_eq!(sum["memories_added"], 200, "{sum}");

    let check = |prompt: &str, budget: u64| -> Value {
        let r = env.json(&[
            "context",
            "recall",
            "--prompt",
            prompt,
            "--budget",
            &budget.to_string(),
            "--now",
            NOW,
        ]);
        let text = str_of(&r, "text");
        let tokens = r["tokens"].as_u64().unwrap();
        assert!(tokens <= budget, "budget {budget}: {tokens} tokens");
        let chars = text.chars().count();
        assert!(chars < 10_000, "budget {budget}: {chars} chars");
        let real = msp::memory::tokens::count(text) as u64;
        assert!(
            real <= budget + 64,
            "budget {budget}: text is {real} tokens"
        );
        let mems = array(&r["memories"]);
        if !mems.is_empty() {
            assert!(text.starts_with("<msp-memory>"), "{text}");
            assert!(text.trim_end().ends_with("</msp-memory>"), "{text}");
        }
        // Every memory reported as recalled is in the text.
        for m in mems {
            assert!(
                text.contains(str_of(m, "title")),
                "budget {budget}: {} reported but not in the text",
                m["title"]
            );
        }
        r
    };
    for budget in [200u64, 800, 3000, 100_000] {
        let r = check("veeam NAS backup retries failing again", budget);
        if budget >= 800 {
            assert!(
                !array(&r["memories"]).is_empty(),
                "budget {budget}: nothing recalled"
            );
        }
    }
    // One memory far larger than the character cap: its head is recalled.
    let giant = format!(
        "Megalodon NAS restore runbook. {}",
        filler("restore step", 40_000)
    );
    env.remember("Megalodon NAS restore runbook", &giant, &[]);
    let r = check("megalodon NAS restore runbook", 100_000);
    assert_eq!(
        r["memories"][0]["title"], "Megalodon NAS restore runbook",
        "{r:#}"
    );
    assert!(str_of(&r, "text").contains("restore step line 1:"), "{r:#}");
}

// ---------------------------------------------------------------------------
// 6. forget, show --source, stats
// ---------------------------------------------------------------------------

#[test]
fn forget_removes_a_memory_from_list_and_search() {
    let env = Env::setup();
    let a = env.remember(
        "Veeam NAS retries",
        "Retries raised to 5 for the sleepy NAS.",
        &[],
    );
    let b = env.remember("Veeam proxy", "The Veeam proxy runs on vm-proxy01.", &[]);
    let c = env.remember("Veeam licence", "The Veeam licence renews in May.", &[]);
    let hits = ids(&env.json(&["context", "search", "veeam"]));
    assert_eq!(hits.len(), 3);

    let a_id = str_of(&a, "id");
    let gone = env.json(&["context", "forget", a_id]);
    assert_eq!(gone["forgotten"], a_id);
    assert!(!ids(&env.json(&["context", "list"])).contains(&a_id.to_string()));
    assert!(
        !ids(&env.json(&["context", "search", "veeam retries sleepy"])).contains(&a_id.to_string())
    );
    assert_eq!(env.json(&["context", "search", "sleepy"]), json!([]));
    env.msp(&["context", "show", a_id]).expect_hint(3);
    env.msp(&["context", "forget", a_id]).expect_hint(3);

    // By the tail of its id, plain output.
    let b_id = str_of(&b, "id");
    let tail = &b_id[b_id.len() - 12..];
    let out = env.ok(&["context", "forget", tail]);
    assert!(out.stdout.starts_with("forgot "), "{}", out.stdout);
    let left = ids(&env.json(&["context", "list"]));
    assert_eq!(left, [str_of(&c, "id").to_string()]);
    assert_eq!(ids(&env.json(&["context", "search", "veeam"])), left);
    assert_eq!(stats(&env)["memories"], 1);
    // A too-short key matches nothing.
    env.msp(&["context", "forget", "abc"]).expect_code(3);
}

/// Forget was not remembered: importing the same transcript or JSONL again
/// (or the save hook reading the transcript again) brought the memory back.
#[test]
fn forgotten_memory_is_not_brought_back_by_reimport_or_the_save_hook() {
    let env = Env::setup();
    let r = realistic(ACME_SESSION, "/home/tech/clients/acme");
    let path = r.tx.save(&env.path("acme.jsonl"));
    let save = || {
        let event = json!({
            "session_id": ACME_SESSION,
            "transcript_path": path,
            "cwd": "/home/tech/clients/acme",
            "hook_event_name": "Stop"
        });
        env.hook(common::SAVE, &[], &event);
        let log = std::fs::read_to_string(env.data.join("msp.log")).unwrap();
        log.lines().last().unwrap().to_string()
    };
    let first = save();
    assert!(first.contains("3 memories saved"), "{first}");
    let all = memories(&env);
    let m = memory_with(&all, "The nightly Veeam backup job");
    let id = str_of(m, "id").to_string();
    let shown = env.ok(&["context", "show", &id, "--source"]).stdout;
    assert!(shown.contains("target /mnt/nas unreachable"), "{shown}");
    env.ok(&["context", "forget", &id]);
    // The excerpt went with it.
    env.msp(&["context", "show", &id, "--source"])
        .expect_code(3);

    let again = import(&env, &[&path]);
    assert_eq!(again["memories_added"], 0, "{again}");
    let left = memories(&env);
    assert_eq!(left.len(), 2);
    assert!(
        !serde_json::to_string(&left)
            .unwrap()
            .contains("The nightly Veeam backup job"),
        "the forgotten turn is back"
    );
    // The hook reading the whole transcript again skips it too.
    env.sql("DELETE FROM capture_offsets");
    let second = save();
    assert!(second.contains("3 turns, 0 memories saved"), "{second}");
    assert_eq!(memories(&env).len(), 2);

    // A JSONL note: forgotten by its content hash.
    let notes = env.path("notes.jsonl");
    std::fs::write(
        &notes,
        json!({"title": "Gate code rotates monthly", "body": "Ask the front desk."}).to_string()
            + "\n",
    )
    .unwrap();
    assert_eq!(import(&env, &[&notes])["memories_added"], 1);
    let note = memories(&env)
        .into_iter()
        .find(|m| m["title"] == "Gate code rotates monthly")
        .unwrap();
    env.ok(&["context", "forget", str_of(&note, "id")]);
    let again = import(&env, &[&notes]);
    assert_eq!(again["memories_added"], 0, "{again}");
    assert_eq!(memories(&env).len(), 2);
}

#[test]
fn show_source_prints_the_redacted_excerpt() {
    let env = Env::setup();
    let r = realistic(ACME_SESSION, "/home/tech/clients/acme");
    let path = r.tx.save(&env.path("acme.jsonl"));
    import(&env, &[&path]);
    let all = memories(&env);
    let m = memory_with(&all, "The nightly Veeam backup job");
    let id = str_of(m, "id");
    let plain = env.ok(&["context", "show", id, "--source"]).stdout;
    assert!(
        plain.contains("--- source (redacted excerpt) ---"),
        "{plain}"
    );
    assert!(
        plain.contains("The nightly Veeam backup job at ACME fails since Monday"),
        "{plain}"
    );
    assert!(plain.contains("target /mnt/nas unreachable"), "{plain}");
    let json = env.json(&["context", "show", id, "--source"]);
    assert!(str_of(&json, "source").contains("retries=1"), "{json}");
    assert_eq!(json["id"], id);
    // Without --source: the memory only.
    let bare = env.json(&["context", "show", id]);
    assert!(bare.get("source").is_none(), "{bare}");
    let bare_plain = env.ok(&["context", "show", id]).stdout;
    assert!(!bare_plain.contains("--- source"), "{bare_plain}");
    assert!(bare_plain.contains(str_of(m, "title")), "{bare_plain}");
    // A hand-written memory has no source.
    let n = env.json(&["context", "add", "--title", "By hand"]);
    let nid = str_of(&n, "id");
    assert_eq!(
        env.json(&["context", "show", nid, "--source"])["source"],
        Value::Null
    );
    let out = env.ok(&["context", "show", nid, "--source"]).stdout;
    assert!(out.contains("no source excerpt"), "{out}");
}

#[test]
fn stats_measure_the_token_reduction_of_real_transcripts() {
    let env = Env::setup();
    env.remember("A hand-written note", "Does not count as captured.", &[]);
    let st = stats(&env);
    for key in [
        "memories",
        "raw_tokens",
        "stored_tokens",
        "reduction",
        "median_reduction",
    ] {
        assert!(st.get(key).is_some(), "no {key} in {st}");
    }
    assert_eq!(st["memories"], 1);
    assert_eq!(st["reduction"].as_f64(), Some(0.0), "{st}");

    let r = realistic(ACME_SESSION, "/home/tech/clients/acme");
    let path = r.tx.save(&env.path("acme.jsonl"));
    let sum = import(&env, &[&path]);
    let st = stats(&env);
    assert_eq!(st["memories"], 4, "{st}");
    let raw = st["raw_tokens"].as_i64().unwrap();
    let stored = st["stored_tokens"].as_i64().unwrap();
    assert_eq!(raw as u64, sum["raw_tokens"].as_u64().unwrap());
    assert!(
        stored > sum["stored_tokens"].as_i64().unwrap(),
        "the note counts in stored tokens"
    );
    let reduction = st["reduction"].as_f64().unwrap();
    let median = st["median_reduction"].as_f64().unwrap();
    assert!(reduction > 0.9, "{st}");
    assert!(median > 0.9 && median < 1.0, "{st}");
    let plain = env.ok(&["context", "stats"]).stdout;
    assert!(plain.contains("memories          4"), "{plain}");
    assert!(plain.contains("reduction"), "{plain}");
}

#[test]
fn percent_and_underscore_in_a_memory_short_id_are_no_wildcards() {
    let env = Env::setup();
    let m = env.remember("Keep me", "The NAS is nas01.", &[]);
    let id = str_of(&m, "id").to_string();
    common::assert_no_wildcard_match(&env, &["context", "forget"], &id, 2);
    let left = env.json(&["context", "list"]);
    assert_eq!(array(&left).len(), 1, "nothing was forgotten");
    env.ok(&["context", "forget", &id[id.len() - 8..]]);
}

/// `msp task done 01a24eef` found a task by the start of its id, but
/// `msp context show 01a24eef`, the start of the id `--json` printed, said
/// "memory not found": memories were found by the end of their id only.
#[test]
fn a_memory_is_found_by_the_start_of_its_id_as_tasks_and_sessions_are() {
    let env = Env::setup();
    let m = env.remember(
        "PACS NAT",
        "The Meraki MX maps 203.0.113.7 to the PACS server.",
        &[],
    );
    let id = str_of(&m, "id").to_string();
    let shown = env.ok(&["context", "show", &id[..13]]).stdout;
    common::assert_has(&shown, "PACS NAT");
    // UUIDv7 ids begin with their time: a second memory shares the start,
    // and a start that names both is refused, not guessed.
    let other = env.remember("Printer queue", "PRINT01 holds the front desk queue.", &[]);
    let other = str_of(&other, "id").to_string();
    let shared = id
        .chars()
        .zip(other.chars())
        .take_while(|(a, b)| a == b)
        .count();
    if shared >= 6 {
        let out = env.msp(&["context", "show", &id[..shared]]).expect_hint(2);
        common::assert_has(&out.stderr, "matches more than one memory");
    }
    env.ok(&["context", "show", &other[..(shared + 1).max(8)]]);
}

/// Where `needle` occurs in the store's files (msp.db, its WAL).
fn files_holding(env: &Env, needle: &str) -> Vec<String> {
    ["msp.db", "msp.db-wal"]
        .iter()
        .filter(|f| {
            std::fs::read(env.data.join(f))
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|f| f.to_string())
        .collect()
}

#[test]
fn forgotten_memory_is_not_left_in_the_database_files() {
    let env = Env::setup();
    // Ends in a digit: stemming leaves it whole in the index too.
    let marker = "qzx7forget9";
    let kept = env.remember("Veeam proxy", "The Veeam proxy runs on vm-proxy01.", &[]);
    let gone = env.remember(
        &format!("NAS {marker} password rotation"),
        &format!("The {marker} share moved to nas02; the old share is read-only."),
        &["--tags", marker],
    );
    // Searched and listed, so the row and the index are read and rewritten.
    assert_eq!(array(&env.json(&["context", "search", marker])).len(), 1);
    assert!(
        !files_holding(&env, marker).is_empty(),
        "the test needs the marker on disk before forget"
    );
    env.ok(&["context", "forget", str_of(&gone, "id")]);
    assert_eq!(
        files_holding(&env, marker),
        Vec::<String>::new(),
        "the forgotten text is still on disk"
    );
    // The rest of the store is intact.
    let hits = env.json(&["context", "search", "veeam proxy"]);
    assert_eq!(str_of(&array(&hits)[0], "id"), str_of(&kept, "id"));
    assert_eq!(env.json(&["context", "search", marker]), json!([]));
}

/// Runs `msp ARGS` with at most `data` bytes of heap (RLIMIT_DATA), killed
/// and failed if still running after `limit`.
#[cfg(unix)]
fn msp_in_bounds(env: &Env, args: &[&str], data: u64, limit: std::time::Duration) -> common::Out {
    use std::os::unix::process::CommandExt;
    let mut cmd = env.command(args);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: data,
                rlim_max: data,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    common::run_within(cmd, args, limit)
}

#[cfg(unix)]
#[test]
fn import_of_one_huge_line_is_streamed_not_held() {
    let env = Env::setup();
    // 160 MiB of zeros and no newline: one line, which a reader that holds
    // a line whole needs 160 MiB or more for; msp gets 128 MiB of heap.
    let zeros = env.path("zeros.jsonl");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(160 << 20)
        .unwrap();
    let limit = std::time::Duration::from_secs(60);
    let auto =
        msp_in_bounds(&env, &["context", "import", s(&zeros)], 128 << 20, limit).expect_code(0);
    assert!(auto.stdout.contains("0 memories added"), "{}", auto.stdout);
    let jsonl = msp_in_bounds(
        &env,
        &["context", "import", "--format", "jsonl", s(&zeros)],
        128 << 20,
        limit,
    )
    .expect_code(0);
    assert!(
        jsonl.stderr.contains("zeros.jsonl:1: longer than 4 MiB"),
        "the over-long line is reported: {}",
        jsonl.stderr
    );
    // A good line after a huge one is still imported.
    let mixed = env.path("mixed.jsonl");
    let mut text = vec![b'x'; 6 << 20];
    text.extend_from_slice(
        b"\n{\"title\": \"NAS share moved to nas02\", \"body\": \"after the huge line\"}\n",
    );
    std::fs::write(&mixed, text).unwrap();
    let out = env.ok(&["context", "import", "--format", "jsonl", s(&mixed)]);
    assert!(out.stdout.contains("1 memories added"), "{}", out.stdout);
}

#[test]
fn symlink_loops_import_each_file_once() {
    let env = Env::setup();
    let dir = env.dir("transcripts/a");
    let mut tx = Tx::new("5e5e5e5e-0000-4000-8000-00000000100f", "/home/tech/acme");
    tx.prompt("the loopmarker7 backup job failed, check it")
        .say("The loopmarker7 job had a full disk; I cleaned old snapshots.");
    std::fs::write(dir.join("t.jsonl"), &tx.text).unwrap();
    #[cfg(unix)]
    {
        // A loop to the parent and two links to the directory itself: every
        // path through them leads back to the same two directories.
        std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("self1")).unwrap();
        std::os::unix::fs::symlink(".", dir.join("self2")).unwrap();
        std::os::unix::fs::symlink("t.jsonl", dir.join("again.jsonl")).unwrap();
    }
    let root = env.path("transcripts");
    let out = env
        .msp_within(
            &[],
            &["--json", "context", "import", s(&root), s(&dir)],
            std::time::Duration::from_secs(20),
        )
        .expect_code(0);
    let v = out.json();
    assert_eq!(v["files"], 1, "one file, read once: {v}");
    assert_eq!(v["memories_added"], 1, "{v}");
    common::assert_has(&out.stderr, "already read (symlinks)");
}

/// A store indexed before `time` left the stop words: doctor says so, and
/// `msp context reindex` makes the word findable.
#[test]
fn a_store_indexed_by_an_older_msp_finds_time_after_reindex() {
    let env = Env::setup();
    env.ok(&[
        "context",
        "add",
        "--title",
        "Time source for DC01",
        "--body",
        "w32tm points at pool.ntp.org after the clock drifted four minutes",
    ]);
    let search = |q: &str| env.json(&["context", "search", q]);
    assert_eq!(titles(&search("time"))[0], "Time source for DC01");
    // Only this check: the others need not pass (under Wine, permissions
    // do not).
    let word_index = || {
        let d = env.msp(&["--json", "doctor"]).json();
        array(&d["checks"])
            .iter()
            .find(|c| c["name"] == "word_index")
            .cloned()
            .unwrap_or_else(|| panic!("no word index check: {d:#}"))
    };
    assert_eq!(word_index()["status"], "ok");

    // The index as an msp whose stop words held `time` built it.
    env.sql(
        "DELETE FROM memory_index WHERE rowid = (SELECT seq FROM memories);
         INSERT INTO memory_index (rowid, title, body, tags, scope)
           SELECT seq, 'sourc dc01', 'w32tm point pool ntp org clock drift four minut', '', 'g' FROM memories;
         DELETE FROM memory_terms WHERE term = 'time';
         UPDATE local_state SET value = 'terms-v0' WHERE key = 'memory.index_rules';",
    );
    assert_eq!(search("time"), json!([]));
    assert_eq!(titles(&search("w32tm"))[0], "Time source for DC01");
    let stale = word_index();
    assert_eq!(stale["status"], "warn", "{stale}");
    assert_eq!(stale["hint"], "run `msp context reindex`");

    let r = env.json(&["context", "reindex"]);
    assert_eq!(r["index"], "rebuilt", "{r}");
    assert_eq!(r["indexed"], 1);
    assert!(r["embedded"].is_null(), "no encoder here: {r}");
    assert_eq!(titles(&search("time"))[0], "Time source for DC01");
    assert_eq!(
        env.sql_i64("SELECT docs FROM memory_terms WHERE term = 'time'"),
        1
    );
    assert_eq!(word_index()["status"], "ok");
    assert_eq!(env.json(&["context", "reindex"])["index"], "current");
    assert_eq!(
        env.json(&["context", "reindex", "--force"])["index"],
        "rebuilt"
    );
}

/// The recall hook read the first 4,000 characters of a prompt: a question
/// under a long pasted log was cut off, and only the log was matched.
#[test]
fn a_question_after_a_long_pasted_log_is_still_read() {
    let (env, dir) = common::acme();
    env.remember(
        "Print spooler crash on the front desk PC",
        "The spooler crashed on every job from the label printer; removed its old driver package.",
        &["--project", "acme-site"],
    );
    let line = "2026-01-03 12:00:01 Information Service Control Manager 7036: The Windows Modules Installer service entered the running state.\n";
    let prompt = format!("{}\nwhy does the spooler keep crashing?", line.repeat(60));
    assert!(prompt.len() > 6_000);

    let event = json!({
        "session_id": "s-long", "transcript_path": "/nonexistent/t.jsonl",
        "cwd": dir, "hook_event_name": "UserPromptSubmit", "prompt": prompt,
    });
    let injected = env.hook(common::RECALL, &[], &event).stdout;
    assert!(injected.contains("Print spooler crash"), "{injected}");

    // `--prompt -` reads it from stdin, as long as it is, read as the hook reads it.
    let out = env
        .msp_stdin(
            &[
                "--json",
                "context",
                "recall",
                "--prompt",
                "-",
                "--cwd",
                s(&dir),
            ],
            &prompt,
        )
        .expect_code(0);
    let recalled = out.json();
    let titles: Vec<&str> = array(&recalled["memories"])
        .iter()
        .map(|m| str_of(m, "title"))
        .collect();
    assert_eq!(titles, ["Print spooler crash on the front desk PC"]);
}

#[test]
fn the_step_written_next_to_the_best_match_comes_with_it() {
    let (env, _dir) = common::acme();
    env.ok(&["project", "add", "acme-office", "--client", "acme-corp"]);
    let at = |project: &str, title: &str, body: &str, when: &str| {
        env.remember(title, body, &["--project", project, "--at", when]);
    };
    at(
        "acme-site",
        "Sales VPN drops every hour",
        "The FortiClient tunnel of the sales team dropped every hour: the FortiGate certificate had expired.",
        "2026-03-02T09:00:00Z",
    );
    // The fix, written next, shares no word with the question.
    at(
        "acme-site",
        "Renewed and pushed by group policy",
        "Bought the new wildcard from Sectigo and deployed it by GPO to the laptops.",
        "2026-03-02T09:20:00Z",
    );
    // The same minute in another project, and days later in this one: other work.
    at(
        "acme-office",
        "Wireless survey of the second floor",
        "Two access points moved next to the meeting rooms.",
        "2026-03-02T09:10:00Z",
    );
    at(
        "acme-site",
        "Toner ordered for reception",
        "Ordered toner for the HP LaserJet in reception.",
        "2026-03-04T09:40:00Z",
    );
    let search = |weight: &str| {
        let out = env.msp_with(
            &[("MSP_MEMORY_WEIGHT_CONTEXT", weight)],
            &[
                "--json",
                "context",
                "search",
                "sales vpn drops",
                "--client",
                "acme-corp",
                "--explain",
                "--now",
                NOW,
            ],
        );
        out.expect_code(0).json()
    };
    let titles = |found: &Value| -> Vec<String> {
        array(found)
            .iter()
            .map(|m| str_of(m, "title").to_string())
            .collect()
    };
    // The survey shares a tag ("network") with the question: a weak match
    // by words, now after the fix.
    let found = search("0.25");
    assert_eq!(
        titles(&found),
        [
            "Sales VPN drops every hour",
            "Renewed and pushed by group policy",
            "Wireless survey of the second floor"
        ],
        "{found}"
    );
    let fix = &found[1]["shares"];
    assert_eq!(fix["words"].as_f64(), Some(0.0), "{fix}");
    assert!(fix["context"].as_f64().unwrap() > 0.0, "{fix}");
    assert_eq!(found[2]["shares"]["context"].as_f64(), Some(0.0));

    // Off, the fix is not found by these words.
    assert_eq!(
        titles(&search("0")),
        [
            "Sales VPN drops every hour",
            "Wireless survey of the second floor"
        ]
    );
}

#[test]
fn repeated_routine_tickets_fold_into_one_result_and_facts_never_fold() {
    let (env, dir) = common::acme();
    let notes = env.path("tickets.jsonl");
    let mut lines: Vec<String> = ["Alex Davies", "Omar Lopez", "Zoe Patel", "Tom Rossi", "Megan Brown"]
        .iter()
        .enumerate()
        .map(|(i, who)| {
            let login = who.split(' ').map(|w| w.to_lowercase()).collect::<Vec<_>>().join(".");
            json!({
                "title": format!("Password reset for {login}"),
                "body": format!("{who} was locked out after an old password in Outlook; reset the AD password and cleared the cached credentials. Ticket #{}.", 41_000 + i),
                "kind": "note",
                "project": "acme-site",
                "created_at": format!("2026-03-0{}T10:00:00Z", i + 1),
            })
            .to_string()
        })
        .collect();
    lines.push(json!({"title": "Legacy authentication blocked", "body": "Conditional Access policy blocks legacy authentication for every user; old Outlook 2013 clients get a password prompt loop until updated.", "kind": "decision", "project": "acme-site", "created_at": "2026-02-01T10:00:00Z"}).to_string());
    for floor in ["2nd", "3rd"] {
        lines.push(json!({"title": format!("Printer HP M404 on the {floor} floor"), "body": format!("The {floor} floor HP M404 prints from the PRINT01 queue, driver PCL6."), "kind": "fact", "project": "acme-site", "created_at": "2026-01-01T10:00:00Z"}).to_string());
    }
    std::fs::write(&notes, lines.join("\n")).unwrap();
    env.ok(&["context", "import", s(&notes), "--format", "jsonl"]);

    // One result for the five resets, with the other four folded into it,
    // then the next distinct memory.
    let found = env.json(&[
        "context",
        "search",
        "password reset outlook locked out",
        "--project",
        "acme-site",
    ]);
    let found = array(&found);
    assert!(
        str_of(&found[0], "title").starts_with("Password reset for "),
        "{found:?}"
    );
    assert_eq!(array(&found[0]["similar"]).len(), 4, "{found:?}");
    let resets = found
        .iter()
        .filter(|f| str_of(f, "title").starts_with("Password reset"))
        .count();
    assert_eq!(resets, 1, "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| str_of(f, "title") == "Legacy authentication blocked"),
        "{found:?}"
    );
    let table = env.ok(&[
        "context",
        "search",
        "password reset outlook locked out",
        "--project",
        "acme-site",
    ]);
    assert!(table.stdout.contains("(+4 similar)"), "{}", table.stdout);
    assert!(table.stderr.contains("--unfold"), "{}", table.stderr);

    // The two printers are facts: both stay, nothing folded.
    let found = env.json(&[
        "context",
        "search",
        "HP M404 printer",
        "--project",
        "acme-site",
    ]);
    let printers: Vec<&Value> = array(&found)
        .iter()
        .filter(|f| str_of(f, "title").starts_with("Printer HP M404"))
        .collect();
    assert_eq!(printers.len(), 2, "{found:?}");
    assert!(
        printers.iter().all(|f| array(&f["similar"]).is_empty()),
        "{found:?}"
    );

    // Recall injects one of the resets, not five.
    let r = env.json(&[
        "context",
        "recall",
        "--prompt",
        "password reset, user locked out in outlook",
        "--cwd",
        s(&dir),
    ]);
    let injected = array(&r["memories"])
        .iter()
        .filter(|m| str_of(m, "title").starts_with("Password reset"))
        .count();
    assert_eq!(injected, 1, "{r}");

    // Unfolded, or folding off: the five resets are five results again.
    let resets = |found: &Value| {
        array(found)
            .iter()
            .filter(|f| str_of(f, "title").starts_with("Password reset"))
            .count()
    };
    let search = [
        "context",
        "search",
        "password reset outlook locked out",
        "--project",
        "acme-site",
    ];
    let found = env.json(&[&search[..], &["--unfold"]].concat());
    assert_eq!(resets(&found), 5, "{found:?}");
    let found = env
        .msp_with(
            &[("MSP_MEMORY_FOLD_SIMILAR", "1")],
            &[&["--json"], &search[..]].concat(),
        )
        .expect_code(0)
        .json();
    assert_eq!(resets(&found), 5, "{found:?}");
}

/// Routine tickets are written from one template whose slots hold more than
/// a name: "Password reset for {login}" after a different cause each time.
/// Their words overlap by less than half, so they did not fold, and each
/// took a place by the template's words ("password", "locked").
#[test]
fn routine_tickets_under_one_title_template_fold_though_their_causes_differ() {
    let (env, _dir) = common::acme();
    let notes = env.path("tickets.jsonl");
    let causes = [
        "a vacation",
        "an old password cached on the phone's mail app",
        "too many tries from a mapped drive with stale credentials",
        "the weekend's expiry while on leave",
    ];
    let mut lines: Vec<String> = ["Alex Davies", "Omar Lopez", "Zoe Patel", "Tom Rossi"]
        .iter()
        .zip(causes)
        .enumerate()
        .map(|(i, (who, cause))| {
            let login = who.split(' ').map(|w| w.to_lowercase()).collect::<Vec<_>>().join("");
            json!({
                "title": format!("Password reset for {login}"),
                "body": format!("{who} was locked out after {cause}. Reset the AD password, set change at next logon, confirmed sign-in. Ticket #{}.", 41_000 + i),
                "kind": "note",
                "project": "acme-site",
                "created_at": format!("2026-03-0{}T10:00:00Z", i + 1),
            })
            .to_string()
        })
        .collect();
    lines.push(json!({"title": "Self-service password reset", "body": "Staff unlock their own account and reset a forgotten password from the sign-in page (SSPR, Authenticator required).", "kind": "decision", "project": "acme-site", "created_at": "2026-02-01T10:00:00Z"}).to_string());
    std::fs::write(&notes, lines.join("\n")).unwrap();
    env.ok(&["context", "import", s(&notes), "--format", "jsonl"]);

    let search = [
        "context",
        "search",
        "a user locked out forgot the password",
        "--project",
        "acme-site",
    ];
    let found = env.json(&search);
    let found = array(&found);
    let resets: Vec<&Value> = found
        .iter()
        .filter(|f| str_of(f, "title").starts_with("Password reset for "))
        .collect();
    assert_eq!(resets.len(), 1, "{found:?}");
    assert_eq!(array(&resets[0]["similar"]).len(), 3, "{found:?}");
    // Four alike, each counts half by its words (1 / sqrt(4)): the best
    // match by words would have 1.
    let words = resets[0]["shares"]["words"].as_f64().unwrap();
    assert!(words > 0.0 && words <= 0.5, "{found:?}");
    // Unfolded, each is its own result again.
    let unfolded = env.json(&[&search[..], &["--unfold"]].concat());
    let resets = array(&unfolded)
        .iter()
        .filter(|f| str_of(f, "title").starts_with("Password reset for "))
        .count();
    assert_eq!(resets, 4, "{unfolded}");
}

/// A JSONL import with bad lines named each on stderr but its summary said
/// nothing of them ("1 memories added"), and `--json` counted them under
/// `skipped_lines` only: the good lines are kept, the bad ones counted.
#[test]
fn a_jsonl_import_keeps_the_good_lines_and_counts_the_bad_ones() {
    let env = Env::setup();
    let notes = env.path("notes.jsonl");
    std::fs::write(
        &notes,
        "{\"title\":\"Gate code\",\"body\":\"Ask the front desk.\"}\nnot json\n{\"title\":\"NAS\",\"kind\":\"facts\"}\n",
    )
    .unwrap();
    let out = env.ok(&["context", "import", s(&notes), "--format", "jsonl"]);
    common::assert_has(&out.stdout, "1 memories added");
    common::assert_has(&out.stdout, "2 lines skipped");
    common::assert_has(&out.stderr, "notes.jsonl:2:");
    common::assert_has(&out.stderr, "unknown memory kind \"facts\"");
    let json = env.json(&["context", "import", s(&notes), "--format", "jsonl"]);
    assert_eq!(json["skipped_lines"], 2, "{json}");
    assert_eq!(json["duplicates"], 1, "{json}");
}
