//! End to end with the real Claude Code CLI: `msp setup` wires the hooks into
//! a temp HOME's `~/.claude/settings.json`, then `claude -p` runs in linked
//! project directories against a scripted fake of the Anthropic API
//! (tests/it/support/fake_anthropic.rs), and the tests check what reached the
//! model and what the store holds afterwards.
//!
//! Claude Code (pinned, npm `@anthropic-ai/claude-code`) is installed once
//! into a cache by tests/e2e/install-claude.sh, which installs npm with
//! apt-get when it is missing. A failed install fails the tests; nothing is
//! skipped. Every run is bounded by [`CLAUDE_TIMEOUT`] and killed past it.
//!
//! Each run also writes Claude Code's debug log (`--debug-file`), and every
//! test asserts from it, and from `$MSP_DATA_DIR/msp.log`, that the hooks
//! really ran: a passing test cannot hide hooks that never fired.

use crate::common;
use crate::support::fake_anthropic;

use std::cell::Cell;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use common::{Env, array, str_of};
use fake_anthropic::{FakeAnthropic, Reply, Request, Script};
use serde_json::Value;

/// Longest one `claude -p` run may take before it is killed.
const CLAUDE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for a hook's trace after `claude` exited.
const TRACE_WAIT: Duration = Duration::from_secs(5);
const API_KEY: &str = "sk-ant-test-not-a-key";

// ---------------------------------------------------------------------------
// Installing Claude Code

/// The pinned `claude` binary, installed on first use (once per test binary).
fn claude_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(install_claude) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn install_claude() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/install-claude.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "installing Claude Code failed: {} exited {} (its messages are above; \
             it needs npm, or apt-get as root to install it, and the npm registry)\n{stdout}",
            script.display(),
            out.status
        ));
    }
    let path = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
    if !path.is_file() {
        return Err(format!(
            "{} printed {stdout:?}, which is not the claude binary",
            script.display()
        ));
    }
    Ok(path)
}

// ---------------------------------------------------------------------------
// One isolated machine: msp set up in a temp HOME, and Claude Code runs

struct World {
    env: Env,
    runs: Cell<u32>,
}

/// What one `claude -p` run left behind.
struct Run {
    n: u32,
    prompt: String,
    dir: PathBuf,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    started: SystemTime,
    ended: SystemTime,
    requests: Vec<Request>,
    unused_replies: usize,
    debug_file: PathBuf,
    /// Lines of msp.log before the run (the run's own lines follow).
    log_before: usize,
}

impl World {
    /// `msp setup` in a fresh temp HOME, installing the hooks itself into
    /// `HOME/.claude/settings.json`.
    fn new() -> World {
        let env = Env::new();
        let mut cmd = env.command(&["setup"]);
        cmd.env_remove("CLAUDE_CONFIG_DIR");
        let out = cmd.output().expect("run msp setup");
        assert!(
            out.status.success(),
            "msp setup failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let settings_path = env.home.join(".claude/settings.json");
        let settings: Value = serde_json::from_str(
            &std::fs::read_to_string(&settings_path)
                .unwrap_or_else(|e| panic!("setup wrote no {}: {e}", settings_path.display())),
        )
        .unwrap();
        for (event, bin) in [
            ("SessionStart", "msp-recall"),
            ("UserPromptSubmit", "msp-recall"),
            ("Stop", "msp-save"),
            ("SessionEnd", "msp-save"),
        ] {
            let cmd = settings["hooks"][event][0]["hooks"][0]["command"]
                .as_str()
                .unwrap_or_else(|| panic!("no {event} hook in {settings}"));
            assert!(
                cmd.ends_with(bin) && Path::new(cmd).is_file(),
                "{event} runs {cmd:?}"
            );
        }
        World {
            env,
            runs: Cell::new(0),
        }
    }

    /// Adds `client` (if new) and a project linked to a new directory.
    fn linked_project(&self, client: &str, slug: &str) -> PathBuf {
        let dir = self.env.dir(&format!("work/{slug}"));
        let known = self.env.json(&["client", "list"]);
        if !array(&known).iter().any(|c| c["name"] == client) {
            self.env.ok(&["client", "add", client]);
        }
        self.env.ok(&[
            "project",
            "add",
            slug,
            "--client",
            client,
            "--path",
            dir.to_str().unwrap(),
        ]);
        dir
    }

    fn log_path(&self) -> PathBuf {
        self.env.data.join("msp.log")
    }

    fn log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Runs `claude -p PROMPT --allowedTools Bash` in `dir` against a new
    /// fake API answering with `replies`.
    fn claude(&self, dir: &Path, prompt: &str, replies: Vec<Reply>) -> Run {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let root = &self.env.root;
        let fake = FakeAnthropic::start_logging(
            Script::new(replies),
            Some(root.join(format!("requests-{n}.jsonl"))),
        );
        let debug_file = root.join(format!("claude-{n}.debug.log"));
        let out_file = root.join(format!("claude-{n}.stdout"));
        let err_file = root.join(format!("claude-{n}.stderr"));
        let log_before = self.log_lines().len();
        // Claude Code's scratch files (and the Bash tool's) stay in the env.
        let tmp = self.env.dir("tmp");

        let mut cmd = Command::new(claude_bin());
        cmd.arg("-p")
            .arg(prompt)
            .args(["--allowedTools", "Bash", "--debug-file"])
            .arg(&debug_file)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(std::fs::File::create(&err_file).unwrap())
            // Its own process group, so a timeout kills hooks and tools too.
            .process_group(0);
        // Nothing of the developer's own Claude Code, API or msp set-up leaks in.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            let upper = k.to_ascii_uppercase();
            if ["ANTHROPIC_", "CLAUDE", "MSP_", "OTEL_", "XDG_"]
                .iter()
                .any(|p| upper.starts_with(p))
                || upper.ends_with("_PROXY")
                || ["DISABLE_TELEMETRY", "DISABLE_AUTOUPDATER", "DEBUG"].contains(&upper.as_str())
            {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &self.env.home)
            .env("USER", "tech")
            .env("TZ", "UTC")
            .env("ANTHROPIC_BASE_URL", fake.base_url())
            .env("ANTHROPIC_API_KEY", API_KEY)
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("TMPDIR", &tmp)
            // The hooks find the store through these, passed on by Claude Code.
            .env("MSP_DATA_DIR", &self.env.data)
            .env("MSP_CONFIG_DIR", &self.env.config);

        let started = SystemTime::now();
        let t0 = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", claude_bin().display()));
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for claude") {
                break Some(s);
            }
            if t0.elapsed() > CLAUDE_TIMEOUT {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        let wall = t0.elapsed();
        let ended = SystemTime::now();
        let run = Run {
            n,
            prompt: prompt.to_string(),
            dir: dir.to_owned(),
            code: status.and_then(|s| s.code()),
            stdout: std::fs::read_to_string(&out_file).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_file).unwrap_or_default(),
            wall,
            started,
            ended,
            requests: fake.requests(),
            unused_replies: fake.unused_replies(),
            debug_file,
            log_before,
        };
        eprintln!(
            "[e2e] run {n} in {}: exit {:?} after {} ms, {} requests",
            dir.display(),
            run.code,
            wall.as_millis(),
            run.requests.len()
        );
        assert!(
            status.is_some(),
            "claude did not finish within {CLAUDE_TIMEOUT:?} and was killed\n{}",
            self.diagnose(&run)
        );
        run
    }

    /// Everything worth seeing when an assertion about `run` fails.
    fn diagnose(&self, run: &Run) -> String {
        let debug = std::fs::read_to_string(&run.debug_file).unwrap_or_default();
        let hook_lines: Vec<&str> = debug
            .lines()
            .filter(|l| l.contains("Hook") || l.contains("hook") || l.contains("rror"))
            .collect();
        let paths: Vec<String> = run
            .requests
            .iter()
            .map(|r| {
                format!(
                    "{} {} tools={} stream={}",
                    r.method,
                    r.path,
                    r.is_main_loop(),
                    r.body["stream"]
                )
            })
            .collect();
        format!(
            "--- run {} in {}: exit {:?}, {} ms, prompt {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n--- requests:\n{}\n--- msp.log:\n{}\n--- claude debug (hooks and errors):\n{}",
            run.n,
            run.dir.display(),
            run.code,
            run.wall.as_millis(),
            run.prompt,
            run.stdout,
            run.stderr,
            paths.join("\n"),
            self.log_lines().join("\n"),
            hook_lines.join("\n")
        )
    }

    /// Asserts a clean run: exit 0, the prompt reached the API, every scripted
    /// reply was used and the final text was printed.
    #[track_caller]
    fn expect_ok(&self, run: &Run, final_text: &str) {
        assert_eq!(run.code, Some(0), "claude failed\n{}", self.diagnose(run));
        assert!(
            run.requests
                .iter()
                .any(|r| r.is_main_loop() && r.all_text().contains(&run.prompt)),
            "the prompt never reached the API\n{}",
            self.diagnose(run)
        );
        assert_eq!(
            run.unused_replies,
            0,
            "Claude Code did not ask for every scripted reply\n{}",
            self.diagnose(run)
        );
        assert!(
            run.stdout.contains(final_text),
            "claude printed {:?}, not the scripted answer {final_text:?}\n{}",
            run.stdout,
            self.diagnose(run)
        );
    }

    /// Asserts from Claude Code's debug log that it ran all four hooks of a
    /// `-p` session (SessionStart, UserPromptSubmit, Stop, SessionEnd), each
    /// with the command `msp setup` installed, and that they exited 0.
    #[track_caller]
    fn expect_hooks_ran(&self, run: &Run) {
        let recall = self.hook_bin("msp-recall");
        let save = self.hook_bin("msp-save");
        let wanted = [
            format!("Hooks: SessionStart:startup [{recall}] finished with status 0"),
            format!("Hooks: UserPromptSubmit [{recall}] finished with status 0"),
            format!("Hooks: Stop [{save}] finished with status 0"),
            format!("SessionEnd:other [{save}] completed with status 0"),
        ];
        let deadline = Instant::now() + TRACE_WAIT;
        loop {
            let debug = std::fs::read_to_string(&run.debug_file).unwrap_or_default();
            let missing: Vec<&String> = wanted.iter().filter(|w| !debug.contains(*w)).collect();
            if missing.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "Claude Code's debug log has no trace of {missing:?}\n{}",
                    self.diagnose(run)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Path of a hook binary as `msp setup` installed it.
    fn hook_bin(&self, name: &str) -> String {
        Path::new(common::MSP)
            .with_file_name(name)
            .to_string_lossy()
            .into_owned()
    }

    /// The msp.log lines `run` added, once each hook has logged (the hooks
    /// read MSP_DATA_DIR from the environment Claude Code gives them, so
    /// these lines prove it passed it through). `expect` lists substrings
    /// that must each be in one line, e.g. "msp-save SessionEnd".
    #[track_caller]
    fn hook_log(&self, run: &Run, expect: &[&str]) -> Vec<String> {
        let deadline = Instant::now() + TRACE_WAIT;
        loop {
            let all = self.log_lines();
            // (A rotated log starts over: then all of it is this run's.)
            let lines = all.get(run.log_before..).map_or(all.clone(), <[_]>::to_vec);
            let missing: Vec<&&str> = expect
                .iter()
                .filter(|e| !lines.iter().any(|l| l.contains(**e)))
                .collect();
            if missing.is_empty() {
                for l in &lines {
                    eprintln!("[e2e] run {} msp.log: {l}", run.n);
                }
                return lines;
            }
            if Instant::now() > deadline {
                panic!(
                    "msp.log has no line with {missing:?} for run {}\n{}",
                    run.n,
                    self.diagnose(run)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Both traces for a healthy store: the debug log, and the four normal
    /// msp.log lines (no errors).
    #[track_caller]
    fn expect_hooks_worked(&self, run: &Run) -> Vec<String> {
        self.expect_hooks_ran(run);
        let lines = self.hook_log(
            run,
            &[
                "msp-recall SessionStart ok",
                "msp-recall UserPromptSubmit ok",
                "msp-save Stop:",
                "msp-save SessionEnd:",
            ],
        );
        assert!(
            !lines.iter().any(|l| l.contains(" error: ")),
            "a hook failed: {lines:#?}"
        );
        lines
    }

    fn memories(&self) -> Vec<Value> {
        array(&self.env.json(&["context", "list", "--limit", "100"])).clone()
    }
}

/// Every `<msp-memory>…</msp-memory>` block in the requests, in order.
fn memory_blocks(requests: &[Request]) -> Vec<String> {
    let mut out = Vec::new();
    for r in requests {
        let text = r.all_text();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("<msp-memory>") {
            let tail = &rest[i..];
            let end = tail
                .find("</msp-memory>")
                .map_or(tail.len(), |j| j + "</msp-memory>".len());
            out.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    out
}

fn rfc3339_secs(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("expected a time, got {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad time {s:?}: {e}"))
        .timestamp()
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------------------
// a. A memory made in one session is recalled in the next, for that client only

#[test]
fn work_done_in_one_session_is_recalled_in_the_next_and_never_for_another_client() {
    let w = World::new();
    let nas = w.linked_project("Dataforth", "dataforth-nas");
    let other = w.linked_project("Dataforth", "dataforth-office");
    let acme = w.linked_project("Acme", "acme-web");

    // Session 1 does real work through a tool call.
    let command = "printf 'retention=14\\n' > nas-backup.conf";
    let s1 = w.claude(
        &nas,
        "configure the NAS backup retention for Dataforth",
        vec![
            Reply::bash(command, "Write the NAS backup config"),
            Reply::text("Set the NAS backup retention to 14 days in nas-backup.conf."),
        ],
    );
    w.expect_ok(&s1, "retention to 14 days");
    w.expect_hooks_worked(&s1);
    assert_eq!(
        std::fs::read_to_string(nas.join("nas-backup.conf")).unwrap(),
        "retention=14\n",
        "Claude Code did not run the scripted Bash command"
    );
    let results = s1
        .requests
        .iter()
        .filter(|r| r.body_text().contains("\"tool_result\""))
        .count();
    assert!(
        results >= 1,
        "no request carried the tool_result\n{}",
        w.diagnose(&s1)
    );

    let memories = w.memories();
    let project = w.env.json(&["project", "show", "dataforth-nas"]);
    let mem = memories
        .iter()
        .find(|m| {
            let body = str_of(m, "body");
            body.contains(command) && body.contains("nas-backup.conf")
        })
        .unwrap_or_else(|| panic!("no memory holds the command and the file: {memories:#?}"));
    assert_eq!(mem["project_id"], project["id"], "{mem}");
    assert_eq!(mem["kind"], "session_summary");

    // Session 2, a new Claude session in the same directory, gets it.
    let question = "what did we configure for the NAS backup retention?";
    let s2 = w.claude(&nas, question, vec![Reply::text("Retention is 14 days.")]);
    w.expect_ok(&s2, "Retention is 14 days.");
    w.expect_hooks_worked(&s2);
    let blocks = memory_blocks(&s2.requests);
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("nas-backup.conf") && b.contains("retention=14")),
        "session 2 was not given the memory: {blocks:#?}\n{}",
        w.diagnose(&s2)
    );

    // Another project of the same client: SessionStart lists only that
    // project's memories, so the memory comes through the prompt's recall.
    let s2b = w.claude(&other, question, vec![Reply::text("14 days, on the NAS.")]);
    w.expect_ok(&s2b, "14 days, on the NAS.");
    let lines = w.expect_hooks_worked(&s2b);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("UserPromptSubmit ok:") && !l.contains("ok: 0 memories")),
        "the prompt's recall found nothing: {lines:#?}"
    );
    let blocks = memory_blocks(&s2b.requests);
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("Known from earlier work") && b.contains("nas-backup.conf")),
        "the prompt's recall did not reach the API: {blocks:#?}\n{}",
        w.diagnose(&s2b)
    );

    // Session 3, for another client, asks the same and gets nothing of it.
    let s3 = w.claude(
        &acme,
        question,
        vec![Reply::text("I have no record of that.")],
    );
    w.expect_ok(&s3, "I have no record of that.");
    w.expect_hooks_worked(&s3);
    let blocks = memory_blocks(&s3.requests);
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("Project acme-web (client Acme)")),
        "session 3 got no project context at all, so the check below proves nothing: {blocks:#?}\n{}",
        w.diagnose(&s3)
    );
    for r in &s3.requests {
        let text = r.all_text();
        for leak in ["nas-backup.conf", "retention=14", "Dataforth", "dataforth"] {
            assert!(
                !text.contains(leak),
                "Acme's session received {leak:?} from Dataforth's memory\n{}",
                w.diagnose(&s3)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// b. Secrets in a session never reach a memory or the next session

#[test]
fn secrets_in_a_session_reach_no_memory_and_no_later_session() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-db");
    // Built at run time so no secret-shaped literal sits in the source.
    let key_id: String = std::iter::once("AKIA".to_string())
        .chain((0..16).map(|i| char::from(b'A' + ((i * 7 + 3) % 26) as u8).to_string()))
        .collect();
    let password = ["Wq9", "zT4", "vLp", "2sN"].concat();
    let url = format!("postgres://admin:{password}@db.internal/app");
    let prompt = format!(
        "store the backup credentials for Dataforth in creds.conf: AWS key {key_id}, database {url}"
    );
    let command = format!(
        "printf 'aws_access_key_id={key_id}\\ndatabase_url={url}\\n' > creds.conf && cat creds.conf"
    );
    let s1 = w.claude(
        &dir,
        &prompt,
        vec![
            Reply::bash(&command, "Write the credentials file"),
            Reply::text(&format!(
                "Saved creds.conf with key {key_id} and database {url}."
            )),
        ],
    );
    w.expect_ok(&s1, "Saved creds.conf");
    w.expect_hooks_worked(&s1);
    let written = std::fs::read_to_string(dir.join("creds.conf")).unwrap();
    assert!(written.contains(&key_id) && written.contains(&password));
    // The secrets really were in the transcript msp-save read.
    let transcripts = transcripts_of(&w.env.home);
    assert!(
        transcripts
            .iter()
            .any(|t| t.contains(&key_id) && t.contains(&password)),
        "the transcript does not hold the secrets, so this test proves nothing"
    );

    let secrets = [key_id.as_str(), password.as_str()];
    let memories = w.memories();
    assert!(
        memories
            .iter()
            .any(|m| str_of(m, "body").contains("creds.conf")),
        "the session left no memory: {memories:#?}"
    );
    let listed = w.env.msp(&["--json", "context", "list", "--limit", "100"]);
    for s in secrets {
        assert!(
            !listed.stdout.contains(s),
            "`context list` shows a secret:\n{}",
            listed.stdout
        );
    }
    assert!(
        listed.stdout.contains("[REDACTED:"),
        "no placeholder where the secrets were:\n{}",
        listed.stdout
    );
    for m in &memories {
        let id = str_of(m, "id");
        for args in [
            vec!["context", "show", id],
            vec!["context", "show", "--source", id],
            vec!["--json", "context", "show", "--source", id],
        ] {
            let out = w.env.msp(&args).expect_code(0);
            for s in secrets {
                assert!(
                    !out.stdout.contains(s) && !out.stderr.contains(s),
                    "`msp {}` shows a secret:\n{}",
                    args.join(" "),
                    out.stdout
                );
            }
        }
    }
    // Nowhere in the store's files either (index, bodies, titles, WAL).
    for file in ["msp.db", "msp.db-wal", "msp.log"] {
        let bytes = std::fs::read(w.env.data.join(file)).unwrap_or_default();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|win| win == s.as_bytes()),
                "{file} holds a secret"
            );
        }
    }

    // The next session is given the memory, without the secrets.
    let s2 = w.claude(
        &dir,
        "which credentials did we store in creds.conf for the backups?",
        vec![Reply::text("The AWS key and the database URL.")],
    );
    w.expect_ok(&s2, "The AWS key and the database URL.");
    w.expect_hooks_worked(&s2);
    let blocks = memory_blocks(&s2.requests);
    assert!(
        blocks.iter().any(|b| b.contains("creds.conf")),
        "session 2 was not given the memory, so the check below proves nothing: {blocks:#?}\n{}",
        w.diagnose(&s2)
    );
    for r in &s2.requests {
        let text = r.all_text();
        for s in secrets {
            assert!(
                !text.contains(s),
                "a secret from session 1 reached session 2's request to {}\n{}",
                r.path,
                w.diagnose(&s2)
            );
        }
    }
}

/// The text of every Claude Code transcript under `home`.
fn transcripts_of(home: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(projects) = std::fs::read_dir(home.join(".claude/projects")) else {
        return out;
    };
    for p in projects.flatten() {
        for f in std::fs::read_dir(p.path()).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "jsonl") {
                out.push(std::fs::read_to_string(f.path()).unwrap_or_default());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// c. Hook faults leave Claude Code working

/// A session whose hooks meet a broken store: it must still work.
fn run_despite_fault(w: &World, dir: &Path, what: &str) -> Run {
    let prompt = format!("check the backup job despite the {what} store");
    let run = w.claude(
        dir,
        &prompt,
        vec![
            Reply::bash("echo backup-ok > check.txt", "Check the backup job"),
            Reply::text("The backup job is fine."),
        ],
    );
    w.expect_ok(&run, "The backup job is fine.");
    assert_eq!(
        std::fs::read_to_string(dir.join("check.txt")).unwrap_or_default(),
        "backup-ok\n",
        "the tool call did not run\n{}",
        w.diagnose(&run)
    );
    w.expect_hooks_ran(&run);
    run
}

/// No hook context reached the model: with no readable store there is none.
#[track_caller]
fn expect_no_context(w: &World, run: &Run) {
    assert!(
        memory_blocks(&run.requests).is_empty(),
        "{}",
        w.diagnose(run)
    );
}

#[test]
fn a_corrupt_store_does_not_stop_claude_code() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-nas");
    let db = w.env.data.join("msp.db");
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    for side in ["msp.db-wal", "msp.db-shm"] {
        let _ = std::fs::remove_file(w.env.data.join(side));
    }
    let run = run_despite_fault(&w, &dir, "corrupt");
    expect_no_context(&w, &run);
    let lines = w.hook_log(
        &run,
        &["msp-recall SessionStart error:", "msp-save Stop error:"],
    );
    // Every event's hook logged its failure.
    assert!(
        lines.iter().filter(|l| l.contains(" error: ")).count() >= 4,
        "{lines:#?}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "a hook rewrote the corrupt store"
    );
}

#[test]
fn a_locked_store_does_not_stop_claude_code() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-nas");
    // Another writer holds the store for the whole Claude session.
    let lock = "BEGIN EXCLUSIVE; DELETE FROM sessions WHERE 0";
    let run = common::while_holding(&w.env.db(), lock, || run_despite_fault(&w, &dir, "locked"));
    let lines = w.hook_log(&run, &["msp-save Stop", "msp-save SessionEnd error:"]);
    // Stop fails to write its capture. Claude Code may start Stop hooks
    // before its transcript is on disk (anthropics/claude-code#15812; seen
    // here once, under load): then Stop has nothing to write, and the turn
    // is captured by the next Stop or SessionEnd, which must still fail.
    let stop = lines.iter().find(|l| l.contains("msp-save Stop")).unwrap();
    assert!(
        stop.contains("msp-save Stop error:") || stop.contains(" not found, nothing captured"),
        "Stop should fail to write its capture: {lines:#?}"
    );
    // The hooks gave up within their own deadlines, well inside Claude Code's.
    for l in &lines {
        let ms: u64 = l
            .rsplit_once('(')
            .and_then(|(_, t)| t.strip_suffix(" ms)"))
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no duration in {l:?}"));
        assert!(ms < 5000, "a hook held Claude Code up {ms} ms: {l}");
    }
    // Nothing was half-written: the store still works once free.
    w.env.ok(&["session", "list"]);
    w.env.ok(&["context", "list"]);
}

#[test]
fn a_missing_store_does_not_stop_claude_code() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-nas");
    std::fs::remove_dir_all(&w.env.data).unwrap();
    let run = run_despite_fault(&w, &dir, "missing");
    expect_no_context(&w, &run);
    // The hooks never create (or migrate) a store of their own.
    assert!(
        !w.env.data.exists(),
        "a hook created {}",
        w.env.data.display()
    );
}

// ---------------------------------------------------------------------------
// d. The automatic work session

#[test]
fn a_claude_session_in_a_linked_directory_is_timed_as_a_work_session() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-nas");
    let run = w.claude(
        &dir,
        "rotate the NAS backup logs for Dataforth",
        vec![
            Reply::bash("sleep 1 && echo rotated > rotate.log", "Rotate the logs"),
            Reply::text("Rotated the NAS backup logs."),
        ],
    );
    w.expect_ok(&run, "Rotated the NAS backup logs.");
    let lines = w.expect_hooks_worked(&run);
    assert!(
        lines.iter().any(|l| l.contains("work session started")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("work session closed")),
        "{lines:#?}"
    );

    let sessions = w.env.json(&["session", "list"]);
    let list = array(&sessions);
    assert_eq!(list.len(), 1, "{sessions:#}");
    let s = &list[0];
    assert_eq!(s["origin"], "claude", "{s}");
    assert_eq!(s["project"], "dataforth-nas", "{s}");
    assert_eq!(s["client"], "Dataforth", "{s}");
    assert_eq!(s["status"], "closed", "{s}");
    let started = rfc3339_secs(&s["started_at"]);
    let ended = rfc3339_secs(&s["ended_at"]);
    let duration = s["duration_seconds"].as_i64().expect("duration_seconds");
    // Second resolution: allow a second either side of the run.
    assert!(
        started >= unix_secs(run.started) - 1 && ended <= unix_secs(run.ended) + 1,
        "session {started}..{ended} is not inside the run {:?}..{:?}: {s}",
        run.started,
        run.ended
    );
    assert!(ended >= started, "{s}");
    // The Bash call slept a second between SessionStart and SessionEnd.
    assert!(
        duration >= 1 && duration <= run.wall.as_secs() as i64 + 2,
        "duration {duration} s for a run of {:?}: {s}",
        run.wall
    );
}

#[test]
fn a_manual_work_session_stays_open_across_a_claude_session() {
    let w = World::new();
    let dir = w.linked_project("Dataforth", "dataforth-nas");
    let manual = w.env.json(&[
        "session",
        "start",
        "--project",
        "dataforth-nas",
        "--title",
        "NAS maintenance",
    ]);
    let run = w.claude(
        &dir,
        "check the NAS backup schedule for Dataforth",
        vec![Reply::text("The schedule is nightly.")],
    );
    w.expect_ok(&run, "The schedule is nightly.");
    let lines = w.expect_hooks_worked(&run);
    assert!(
        lines.iter().any(|l| l.contains("manual work session open")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("work session closed")),
        "{lines:#?}"
    );
    // The session start context told Claude about the open session.
    let blocks = memory_blocks(&run.requests);
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("Work session open since") && b.contains("NAS maintenance")),
        "{blocks:#?}\n{}",
        w.diagnose(&run)
    );

    let sessions = w.env.json(&["session", "list"]);
    let list = array(&sessions);
    assert_eq!(
        list.len(),
        1,
        "no automatic session beside the manual one: {sessions:#}"
    );
    let s = &list[0];
    assert_eq!(s["id"], manual["session"]["id"], "{s}");
    assert_eq!(s["origin"], "manual", "{s}");
    assert_eq!(s["status"], "open", "{s}");
    assert!(s["ended_at"].is_null(), "{s}");
}

// ---------------------------------------------------------------------------
// "remember:" in a real session

#[test]
fn remember_in_a_prompt_is_confirmed_stored_and_given_to_the_next_session() {
    let w = World::new();
    let nas = w.linked_project("Dataforth", "dataforth-nas");
    let fact = "NAS01 admin port is 5001";
    let s1 = w.claude(
        &nas,
        &format!("remember: {fact}"),
        vec![Reply::text(
            "Noted, msp will remember that NAS01's admin port is 5001.",
        )],
    );
    w.expect_ok(&s1, "msp will remember");
    w.expect_hooks_worked(&s1);
    // The prompt's context told the model msp stores it.
    let blocks = memory_blocks(&s1.requests);
    assert!(
        blocks.iter().any(|b| b
            .contains("msp stores this as an important memory of project dataforth-nas")
            && b.contains(fact)),
        "the confirmation did not reach the API: {blocks:#?}\n{}",
        w.diagnose(&s1)
    );
    let memories = w.memories();
    let stored: Vec<&Value> = memories
        .iter()
        .filter(|m| str_of(m, "title") == fact)
        .collect();
    assert_eq!(stored.len(), 1, "{memories:#?}");
    assert_eq!(stored[0]["kind"], "fact");
    assert_eq!(stored[0]["importance"], 8);

    // The next session in the project starts with it.
    let s2 = w.claude(
        &nas,
        "which port is the NAS admin page on?",
        vec![Reply::text("5001.")],
    );
    w.expect_ok(&s2, "5001.");
    let blocks = memory_blocks(&s2.requests);
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("Decisions and project state:") && b.contains(fact)),
        "the next session was not briefed with it: {blocks:#?}\n{}",
        w.diagnose(&s2)
    );
}
