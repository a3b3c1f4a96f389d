//! The Claude Code hooks (`msp-recall`, `msp-save`) run as processes, the way
//! Claude Code runs them: one JSON object on stdin, a private HOME, data and
//! config dir. A fault suite throws hostile input and broken environments at
//! both hooks; a load test runs eight sessions' saves at once; the recall
//! tests check what reaches the prompt.
//!
//! Every hook run is checked against the contract: exit 0, stdout empty or
//! one `{"hookSpecificOutput":{...}}` line, done within the time limit, and
//! one line appended to `$MSP_DATA_DIR/msp.log` (where that file can exist).
//! Run with `--nocapture` to see each case's wall time.

use crate::common;
use crate::support::transcript::Lines;

use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, RECALL, SAVE, array, block_on, connect};
use serde_json::{Value, json};

/// The limit for every case but those below.
const FAST: Duration = Duration::from_secs(1);
/// The limit for the concurrency case and the 10 MB inputs (2-core machine).
const SLOW: Duration = Duration::from_secs(2);
/// Half an event and stdin never closed: the recall hook waits for the rest
/// until its 2 s deadline, then gives up.
const STDIN_WAIT: Duration = Duration::from_secs(3);
/// A hook still running after this is killed and the test fails.
const HUNG: Duration = Duration::from_secs(20);

const MB10: usize = 10 << 20;

/// The tests measure wall time on a small machine: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

thread_local! {
    /// Hook runs over their time limit in the current attempt.
    static OVER_TIME: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs a scenario, alone. The machine is small and shared (other builds run
/// beside the tests), so when the only failures of an attempt are hook runs
/// over their time limit, the whole scenario runs again from scratch, at most
/// three times: it passes only if one complete attempt met every limit. Any
/// other failure fails at once.
fn scenario(body: fn()) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        OVER_TIME.with(|o| *o.borrow_mut() = Some(Vec::new()));
        body();
        let slow = OVER_TIME
            .with(|o| o.borrow_mut().take())
            .unwrap_or_default();
        if slow.is_empty() {
            return;
        }
        assert!(
            attempt < ATTEMPTS,
            "over the time limit in {ATTEMPTS} attempts; last attempt:\n{}",
            slow.join("\n")
        );
        eprintln!(
            "hooks: attempt {attempt} had runs over the limit (busy machine?), again: {}",
            slow.join("; ")
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bin {
    Recall,
    Save,
}

impl Bin {
    fn path(self) -> &'static str {
        match self {
            Bin::Recall => RECALL,
            Bin::Save => SAVE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bin::Recall => "msp-recall",
            Bin::Save => "msp-save",
        }
    }
}

/// How a hook process is fed.
#[derive(Debug, Default, Clone, Copy)]
struct Feed {
    /// Keep stdin open (after writing the input) until the hook has exited.
    hold_stdin: bool,
    /// Close the read end of stdout at once, as a reader that went away.
    close_stdout: bool,
}

/// A finished hook process.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `cmd` with `input` on stdin; kills it (and fails) if it hangs.
fn run_cmd(mut cmd: Command, input: Vec<u8>, feed: Feed) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    // Under Wine, CreateProcess now and then fails with "Internal error"
    // (1359) before the hook runs at all: that is the emulator, not the
    // hook, so the spawn is tried again.
    let mut child = (0..3)
        .find_map(|attempt| match cmd.spawn() {
            Ok(c) => Some(Ok(c)),
            Err(e) if attempt < 2 && e.raw_os_error() == Some(1359) => {
                thread::sleep(Duration::from_millis(200));
                None
            }
            Err(e) => Some(Err(e)),
        })
        .expect("three attempts")
        .expect("spawn hook");
    let mut stdin = child.stdin.take().unwrap();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        // The hook may stop reading early (and that is fine): ignore EPIPE.
        let _ = stdin.write_all(&input);
        if feed.hold_stdin {
            let _ = hold.recv();
        }
    });
    let stdout = child.stdout.take().unwrap();
    let reader = if feed.close_stdout {
        drop(stdout);
        None
    } else {
        Some(thread::spawn(move || read_all(stdout)))
    };
    let stderr = child.stderr.take().unwrap();
    let err_reader = thread::spawn(move || read_all(stderr));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for hook") {
            break s;
        }
        if started.elapsed() > HUNG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hook still running after {HUNG:?}: it hangs");
        }
        thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    drop(release);
    writer.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: reader.map(|r| r.join().unwrap()).unwrap_or_default(),
        stderr: err_reader.join().unwrap(),
        elapsed,
    }
}

fn read_all(mut r: impl Read) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Checks the output contract; returns the parsed answer, if any.
#[track_caller]
fn check(case: &str, bin: Bin, run: &Run, limit: Duration) -> Option<Value> {
    let name = bin.name();
    eprintln!(
        "hooks: {case:<52} {name:<10} {:>5} ms",
        run.elapsed.as_millis()
    );
    assert_eq!(
        run.code, 0,
        "{case}: {name} exited {} (must be 0)\nstdout: {}\nstderr: {}",
        run.code, run.stdout, run.stderr
    );
    if run.elapsed >= limit {
        let slow = format!("{case}: {name} took {:?} (limit {limit:?})", run.elapsed);
        let noted = OVER_TIME.with(|o| o.borrow_mut().as_mut().map(|v| v.push(slow.clone())));
        assert!(noted.is_some(), "{slow}");
    }
    let out = run.stdout.trim_end_matches('\n');
    if out.is_empty() {
        assert!(
            run.stdout.is_empty(),
            "{case}: {name} printed blank lines: {:?}",
            run.stdout
        );
        return None;
    }
    assert!(
        !out.contains('\n'),
        "{case}: {name} printed more than one line:\n{}",
        run.stdout
    );
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| {
        panic!(
            "{case}: {name} stdout is not one JSON value ({e}):\n{}",
            run.stdout
        )
    });
    let spec = v
        .get("hookSpecificOutput")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{case}: {name} printed JSON without hookSpecificOutput: {v}"));
    assert!(
        v.as_object().unwrap().len() == 1,
        "{case}: {name} printed extra top-level keys: {v}"
    );
    assert!(
        spec.get("hookEventName").and_then(Value::as_str).is_some(),
        "{case}: {name} answer lacks hookEventName: {v}"
    );
    assert!(
        spec.get("additionalContext")
            .and_then(Value::as_str)
            .is_some(),
        "{case}: {name} answer lacks additionalContext: {v}"
    );
    Some(v)
}

/// The context text of a recall answer.
fn context_of(v: &Value) -> &str {
    v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
}

/// One msp installation that hooks run against.
struct Hk {
    env: Env,
    /// MSP_DATA_DIR as the hooks see it (usually `env.data`).
    data: PathBuf,
    /// The hooks' current directory (Claude Code's project directory).
    cwd: PathBuf,
    /// Variable overrides for the hooks; `None` removes the variable.
    vars: Vec<(String, Option<OsString>)>,
}

impl Hk {
    /// No store: the data dir exists but `msp setup` never ran.
    fn bare() -> Hk {
        let env = Env::new();
        std::fs::create_dir_all(&env.data).unwrap();
        Hk::from(env)
    }

    /// After `msp setup --no-hooks`: a current store and this machine.
    fn store() -> Hk {
        let env = Env::new();
        env.ok(&["setup", "--no-hooks"]);
        assert!(env.data.join("msp.db").is_file());
        Hk::from(env)
    }

    fn from(env: Env) -> Hk {
        Hk {
            data: env.data.clone(),
            cwd: env.root.clone(),
            env,
            vars: Vec::new(),
        }
    }

    fn set(&mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) {
        self.vars
            .push((key.to_string(), Some(value.as_ref().to_owned())));
    }

    fn unset(&mut self, key: &str) {
        self.vars.push((key.to_string(), None));
    }

    fn db(&self) -> PathBuf {
        self.env.data.join("msp.db")
    }

    fn log(&self) -> PathBuf {
        self.data.join("msp.log")
    }

    fn log_text(&self) -> String {
        std::fs::read(self.log())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    fn command(&self, bin: Bin) -> Command {
        self.configure(Command::new(bin.path()))
    }

    /// The hook run by `sh -c SCRIPT`, where the script ends with `exec "$0"`.
    #[cfg(unix)]
    fn command_via_sh(&self, bin: Bin, script: &str) -> Command {
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(script).arg(bin.path());
        self.configure(sh)
    }

    fn configure(&self, mut cmd: Command) -> Command {
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MSP_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &self.env.home)
            .env("USER", "tech")
            .env("MSP_DATA_DIR", &self.env.data)
            .env("MSP_CONFIG_DIR", &self.env.config)
            .env("TZ", "UTC")
            .current_dir(&self.cwd);
        for (k, v) in &self.vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    fn run(&self, bin: Bin, input: &[u8], feed: Feed) -> Run {
        run_cmd(self.command(bin), input.to_vec(), feed)
    }

    /// Runs a hook, checks the contract and that exactly one line naming the
    /// hook was appended to msp.log.
    #[track_caller]
    fn fire(&self, case: &str, bin: Bin, input: &[u8], limit: Duration) -> Option<Value> {
        self.fire_with(case, bin, input, limit, Feed::default())
    }

    #[track_caller]
    fn fire_with(
        &self,
        case: &str,
        bin: Bin,
        input: &[u8],
        limit: Duration,
        feed: Feed,
    ) -> Option<Value> {
        let before = self.log_text();
        let run = self.run(bin, input, feed);
        let answer = check(case, bin, &run, limit);
        let after = self.log_text();
        let added = after
            .strip_prefix(before.as_str())
            .unwrap_or_else(|| panic!("{case}: msp.log was rewritten, not appended to:\n{after}"));
        assert_eq!(
            added.lines().count(),
            1,
            "{case}: {} must append exactly one line to msp.log, appended:\n{added}",
            bin.name()
        );
        assert!(
            added.ends_with('\n') && added.contains(bin.name()) && added.len() < 2200,
            "{case}: unexpected log line {added:?}"
        );
        answer
    }

    /// [`Hk::fire`] of the save hook on the Stop event of `tx`, within [`FAST`].
    #[track_caller]
    fn save(&self, case: &str, tx: &Tx) -> Option<Value> {
        self.fire(case, Bin::Save, &tx.stop(None), FAST)
    }

    /// [`Hk::fire`] of the recall hook on `event`, within [`FAST`].
    #[track_caller]
    fn recall(&self, case: &str, event: &[u8]) -> Option<Value> {
        self.fire(case, Bin::Recall, event, FAST)
    }

    /// Runs a hook where no log line can be written; checks the rest.
    #[track_caller]
    fn fire_unlogged(&self, case: &str, bin: Bin, input: &[u8]) -> Option<Value> {
        let run = self.run(bin, input, Feed::default());
        check(case, bin, &run, FAST)
    }

    /// The same input to both hooks.
    #[track_caller]
    fn fire_both(&self, case: &str, input: &[u8], limit: Duration) {
        self.fire(case, Bin::Recall, input, limit);
        self.fire(case, Bin::Save, input, limit);
    }

    /// Every stored memory, via the CLI.
    fn memories(&self) -> Vec<Value> {
        array(&self.env.json(&["context", "list", "--limit", "0"])).clone()
    }

    /// How many memories hold `word` in their title or body.
    fn holding(&self, word: &str) -> usize {
        holding(&self.memories(), word)
    }

    /// A project `slug` linked to a new directory, which is returned.
    fn project(&self, slug: &str) -> PathBuf {
        let dir = self.env.dir(&format!("work/{slug}"));
        self.env
            .ok(&["project", "add", slug, "--path", dir.to_str().unwrap()]);
        dir
    }

    fn transcript(&self, name: &str, session: &str, tag: u32) -> Tx {
        let dir = self.env.dir("transcripts");
        Tx::new(dir.join(format!("{name}.jsonl")), session, &self.cwd, tag)
    }
}

fn holding(memories: &[Value], word: &str) -> usize {
    memories
        .iter()
        .filter(|m| {
            m["title"].as_str().unwrap_or_default().contains(word)
                || m["body"].as_str().unwrap_or_default().contains(word)
        })
        .count()
}

/// A Claude Code transcript under construction, with lines shaped as Claude
/// Code writes them (see src/memory/transcript.rs fixtures).
struct Tx {
    path: PathBuf,
    lines: Lines,
    /// Distinguishes this transcript's uuids from other transcripts'.
    tag: u32,
}

impl Tx {
    fn new(path: PathBuf, session: &str, cwd: &Path, tag: u32) -> Tx {
        std::fs::write(&path, "").unwrap();
        let prefix = format!("{tag:08x}-0000-4000-8000-");
        Tx {
            path,
            lines: Lines::new(session, &cwd.to_string_lossy(), &prefix, 8),
            tag,
        }
    }

    fn line(v: Value) -> String {
        let mut s = v.to_string();
        s.push('\n');
        s
    }

    fn prompt(&mut self, text: &str) -> String {
        Tx::line(self.lines.user(json!(text)))
    }

    fn assistant(&mut self, block: Value) -> String {
        Tx::line(self.lines.assistant(block))
    }

    fn say(&mut self, text: &str) -> String {
        self.assistant(json!({"type": "text", "text": text}))
    }

    /// A Bash tool_use and its tool_result.
    fn bash(&mut self, command: &str, output: &str) -> String {
        let id = format!("toolu_{:08x}{:06}", self.tag, self.lines.n);
        let mut s = self.assistant(json!({
            "type": "tool_use", "id": id, "name": "Bash",
            "input": {"command": command, "description": "Run command"},
        }));
        let structured =
            json!({"stdout": output, "stderr": "", "interrupted": false, "isImage": false});
        s.push_str(&Tx::line(self.lines.tool_result(
            &id,
            json!(output),
            false,
            structured,
        )));
        s
    }

    /// One whole turn that compresses to a memory holding `marker`.
    fn turn(&mut self, marker: &str) -> String {
        let mut s = self.prompt(&format!(
            "The backup disk on server {marker} is nearly full, check it and clean old snapshots"
        ));
        s.push_str(&self.bash(
            &format!("df -h /srv/{marker}"),
            "Filesystem Size Used Avail Use% Mounted on\n/dev/sdb1 2.0T 1.9T 100G 95% /srv\n",
        ));
        s.push_str(&self.say(&Tx::answer(marker)));
        s
    }

    /// The final answer of [`Tx::turn`], as the Stop event repeats it.
    fn answer(marker: &str) -> String {
        format!("The backup disk on {marker} was 95% full; I removed snapshots older than 30 days.")
    }

    fn add_turn(&mut self, marker: &str) {
        let turn = self.turn(marker);
        self.append(turn);
    }

    fn append(&self, text: impl AsRef<[u8]>) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .unwrap();
        f.write_all(text.as_ref()).unwrap();
    }

    /// The Stop event Claude Code sends for this transcript.
    fn stop(&self, last_assistant_message: Option<&str>) -> Vec<u8> {
        let mut v = self.event("Stop");
        v["stop_hook_active"] = json!(false);
        if let Some(m) = last_assistant_message {
            v["last_assistant_message"] = json!(m);
        }
        v.to_string().into_bytes()
    }

    fn event(&self, name: &str) -> Value {
        json!({
            "session_id": self.lines.session, "transcript_path": self.path, "cwd": self.lines.cwd,
            "permission_mode": "default", "hook_event_name": name,
        })
    }
}

fn prompt_event(session: &str, cwd: &Path, prompt: &str) -> Vec<u8> {
    json!({
        "session_id": session, "transcript_path": "/nonexistent/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "UserPromptSubmit", "prompt": prompt,
    })
    .to_string()
    .into_bytes()
}

fn session_start(session: &str, cwd: &Path) -> Vec<u8> {
    json!({
        "session_id": session, "transcript_path": "/nonexistent/t.jsonl", "cwd": cwd,
        "hook_event_name": "SessionStart", "source": "startup",
    })
    .to_string()
    .into_bytes()
}

/// Deterministic bytes that are neither UTF-8 nor JSON.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match i % 97 {
                0 => 0x00,
                1 => 0xff,
                2 => b'\n',
                _ => (x >> 33) as u8,
            }
        })
        .collect()
}

fn user_version(path: &Path) -> i64 {
    common::sqlite_i64(path, "PRAGMA user_version")
}

fn table_count(path: &Path) -> i64 {
    common::sqlite_i64(
        path,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
    )
}

// ---------------------------------------------------------------------------
// Hostile stdin
// ---------------------------------------------------------------------------

#[test]
fn hostile_stdin_never_breaks_either_hook() {
    scenario(|| {
        let hk = Hk::store();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "malformed JSON",
                br#"{"hook_event_name":"Stop","session_id":"#.to_vec(),
            ),
            ("empty stdin", Vec::new()),
            ("binary garbage", garbage(4096, 1)),
            ("JSON array instead of an object", b"[1,2,3]".to_vec()),
            ("JSON number instead of an object", b"42".to_vec()),
            ("JSON null", b"null".to_vec()),
            ("JSON string", br#""Stop""#.to_vec()),
            (
                "unknown event name",
                br#"{"hook_event_name":"TaskCompleted","session_id":"s"}"#.to_vec(),
            ),
            ("missing event name", br#"{"session_id":"s"}"#.to_vec()),
            (
                "fields of the wrong type",
                br#"{"hook_event_name":"Stop","transcript_path":42,"prompt":{"a":1},"session_id":[1]}"#
                    .to_vec(),
            ),
            (
                "lone surrogate escape",
                br#"{"hook_event_name":"UserPromptSubmit","prompt":"fix \ud800 the dns"}"#.to_vec(),
            ),
            ("200k nested arrays", "[".repeat(200_000).into_bytes()),
            (
                "object followed by garbage",
                br#"{"hook_event_name":"SessionEnd"} trailing {{{"#.to_vec(),
            ),
            ("UTF-8 BOM before the object", {
                let mut v = b"\xef\xbb\xbf".to_vec();
                v.extend_from_slice(br#"{"hook_event_name":"Stop"}"#);
                v
            }),
        ];
        for (case, input) in &cases {
            hk.fire_both(case, input, FAST);
        }
        // Each hook given the other one's event ignores it.
        hk.recall(
            "Stop given to msp-recall",
            br#"{"hook_event_name":"Stop","session_id":"s","transcript_path":"/x"}"#,
        );
        hk.fire(
            "UserPromptSubmit given to msp-save",
            Bin::Save,
            &prompt_event("s", &hk.cwd, "restart the print spooler on the file server"),
            FAST,
        );
        // NUL, control and bidi characters; an absurd cwd (NUL, 64 KiB, relative).
        let nasty = json!({
            "hook_event_name": "UserPromptSubmit", "session_id": "s\u{0}\u{202e}",
            "prompt": "fix\u{0}the \u{1b}[31mdns\u{202e} server \u{7}\u{8} on dc01 ☃ 𝄞",
            "cwd": format!("../..\u{0}/{}", "x/".repeat(32 << 10)),
            "transcript_path": "\u{0}",
        })
        .to_string();
        hk.fire_both(
            "NUL/control/bidi characters, absurd cwd",
            nasty.as_bytes(),
            FAST,
        );
        assert_eq!(hk.memories().len(), 0, "nothing hostile becomes a memory");
    });
}

#[test]
fn unknown_fields_are_ignored() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        hk.env.remember(
            "Fortigate VLAN 40 carries the VoIP phones",
            "The ACME fortigate firewall puts VoIP phones on VLAN 40 with DHCP option 66.",
            &["--project", "acme-fw"],
        );
        let mut prompt: Value = serde_json::from_slice(&prompt_event(
            "sx",
            &dir,
            "which vlan do the voip phones use on the fortigate?",
        ))
        .unwrap();
        prompt["brand_new"] = json!({"nested": [1, {"deep": null}], "x": 1.5e300});
        prompt["stop_hook_active"] = json!(true);
        prompt["prompt_id"] = json!(12345);
        let answer = hk
            .fire(
                "unknown extra fields (recall)",
                Bin::Recall,
                prompt.to_string().as_bytes(),
                FAST,
            )
            .expect("recall answers despite unknown fields");
        assert!(context_of(&answer).contains("VLAN 40"), "{answer}");

        let mut tx = hk.transcript("extra", "sess-extra", 0xe1);
        tx.add_turn("mrkext01");
        let mut stop: Value = serde_json::from_slice(&tx.stop(None)).unwrap();
        stop["brand_new"] = json!({"nested": [1, 2, 3]});
        stop["agent_id"] = json!(null);
        hk.fire(
            "unknown extra fields (save)",
            Bin::Save,
            stop.to_string().as_bytes(),
            FAST,
        );
        assert_eq!(hk.holding("mrkext01"), 1);
    });
}

// ---------------------------------------------------------------------------
// Transcript faults
// ---------------------------------------------------------------------------

#[test]
fn transcript_faults_are_survived() {
    scenario(|| {
        let hk = Hk::store();
        let tdir = hk.env.dir("transcripts");
        let stop_at = |path: &Value| {
            let mut v = json!({"session_id": "sess-t", "cwd": hk.cwd, "hook_event_name": "Stop",
                "stop_hook_active": false, "last_assistant_message": "Done: restarted the spooler."});
            if !path.is_null() {
                v["transcript_path"] = path.clone();
            }
            v.to_string().into_bytes()
        };
        hk.fire(
            "missing transcript_path",
            Bin::Save,
            &stop_at(&Value::Null),
            FAST,
        );
        hk.fire(
            "empty transcript_path",
            Bin::Save,
            &stop_at(&json!("")),
            FAST,
        );
        let vanished = tdir.join("vanished.jsonl");
        std::fs::write(&vanished, "{}\n").unwrap();
        std::fs::remove_file(&vanished).unwrap();
        hk.fire(
            "transcript_path to a vanished file",
            Bin::Save,
            &stop_at(&json!(vanished)),
            FAST,
        );
        hk.fire(
            "transcript_path to a directory",
            Bin::Save,
            &stop_at(&json!(tdir)),
            FAST,
        );
        hk.fire(
            "transcript_path to /dev/zero (endless)",
            Bin::Save,
            &stop_at(&json!("/dev/zero")),
            FAST,
        );
        for event in ["PreCompact", "SessionEnd"] {
            let mut v: Value = serde_json::from_slice(&stop_at(&json!(vanished))).unwrap();
            v["hook_event_name"] = json!(event);
            hk.fire(
                &format!("{event} with a vanished transcript"),
                Bin::Save,
                v.to_string().as_bytes(),
                FAST,
            );
        }

        // Only garbage: binary, broken JSON, JSON of the wrong shapes, deep nesting.
        let tx = hk.transcript("garbage", "sess-g", 0x61);
        tx.append(garbage(64 << 10, 2));
        tx.append("\n{\"type\":\"user\",\"message\":\n");
        tx.append("not json at all\n[1,2,3]\n42\nnull\n\"user\"\n");
        tx.append("{\"type\":\"user\",\"message\":{\"content\":42},\"uuid\":7}\n");
        tx.append("{\"type\":\"assistant\",\"message\":{\"content\":{\"type\":\"tool_use\"}}}\n");
        tx.append("{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"content\":{\"x\":1}}]}}\n");
        tx.append("{\"type\":[\"user\"],\"sessionId\":{},\"cwd\":1,\"timestamp\":\"never\"}\n");
        tx.append(format!("{}\n", "[".repeat(100_000)));
        tx.append(format!(
            "{{\"type\":\"user\",\"message\":{{\"content\":{}\"x\"{}}}}}\n",
            "[".repeat(5000),
            "]".repeat(5000)
        ));
        hk.save("transcript of garbage lines only", &tx);
        hk.fire(
            "transcript of garbage lines, with last_assistant_message",
            Bin::Save,
            &tx.stop(Some("All good.")),
            FAST,
        );
        assert_eq!(hk.memories().len(), 0, "garbage lines make no memory");

        // A turn whose cwd is 180 KiB of path components (no real path is that
        // long; looking up every ancestor would be quadratic).
        let mut tx = hk.transcript("longcwd", "sess-lc", 0x6c63);
        tx.lines.cwd = format!("/{}", "x/".repeat(90 << 10));
        tx.add_turn("mrkcwd01");
        hk.save("180 KiB cwd in the transcript", &tx);
        assert_eq!(hk.holding("mrkcwd01"), 1);

        // Invalid UTF-8 inside a turn's strings, and a turn after it.
        let mut tx = hk.transcript("utf8", "sess-u", 0x75);
        let mut bad = tx.turn("mrkutf01").into_bytes();
        let at = bad.windows(6).position(|w| w == b"server").unwrap();
        bad.splice(at..at, [0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
        tx.append(&bad);
        tx.add_turn("mrkutf02");
        hk.save("invalid UTF-8 in transcript", &tx);
        assert!(hk.holding("mrkutf01") <= 1);
        assert_eq!(
            hk.holding("mrkutf02"),
            1,
            "the turn after bad bytes is kept"
        );

        // A transcript replaced by a shorter one (offset past its end).
        let mut tx = hk.transcript("shrunk", "sess-s", 0x73);
        tx.add_turn("mrkshr01");
        tx.add_turn("mrkshr02");
        hk.save("transcript before shrinking", &tx);
        let mut short = hk.transcript("shrunk", "sess-s", 0x73);
        short.add_turn("mrkshr01");
        short.lines.n = 100;
        hk.save("transcript replaced by a shorter one", &short);
        // It grows past the old offset: the new turn is read from its start.
        short.add_turn("mrkshr03");
        let line = short.say("Also rotated the logs.");
        short.append(line);
        hk.save("shrunk transcript grows again", &short);
        for m in ["mrkshr01", "mrkshr02", "mrkshr03"] {
            assert_eq!(
                hk.holding(m),
                1,
                "{m} stored exactly once: {}",
                hk.log_text()
            );
        }
        assert_eq!(
            hk.holding("df -h /srv/mrkshr03"),
            1,
            "the whole new turn, not its tail"
        );
    });
}

#[test]
fn ten_megabyte_inputs() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        let big = format!(
            "why does the veeam job fail {}",
            "lorem ipsum dolor ".repeat(MB10 / 18)
        );
        assert!(big.len() >= MB10);
        let answer = hk.fire(
            "10 MB prompt",
            Bin::Recall,
            &prompt_event("s-big", &dir, &big),
            SLOW,
        );
        assert!(answer.is_none_or(|a| context_of(&a).len() < 10_000));

        let mut tx = hk.transcript("big", "sess-big", 0xb1);
        tx.add_turn("mrkbig01");
        // One 10 MB line: a tool result the size of a log dump.
        let mut line = tx.prompt("dump the event log of dc01 mrkbig02");
        line.push_str(&tx.bash(
            "wevtutil qe System /f:text",
            &"Event 7036 service entered the running state\n".repeat(MB10 / 44),
        ));
        assert!(line.len() > MB10);
        tx.append(line);
        tx.add_turn("mrkbig03");
        hk.fire("10 MB transcript line", Bin::Save, &tx.stop(None), SLOW);
        for m in ["mrkbig01", "mrkbig02", "mrkbig03"] {
            assert_eq!(
                hk.holding(m),
                1,
                "{m} stored exactly once: {}",
                hk.log_text()
            );
        }

        // A 10 MB last_assistant_message on a transcript that lags.
        let line = tx.prompt("summarise everything you did today on dc01 mrkbig04");
        tx.append(line);
        let line = tx.bash("uptime", "up 3 days");
        tx.append(line);
        let answer_text = format!(
            "Summary mrkbig05: {}",
            "all services were restarted. ".repeat(MB10 / 29)
        );
        hk.fire(
            "10 MB last_assistant_message",
            Bin::Save,
            &tx.stop(Some(&answer_text)),
            SLOW,
        );
        assert_eq!(hk.holding("mrkbig04"), 1);
        let stored = hk.memories();
        let biggest = stored
            .iter()
            .map(|m| m["body"].as_str().unwrap_or_default().len())
            .max()
            .unwrap();
        assert!(biggest < 64 << 10, "a memory body of {biggest} bytes");
    });
}

#[test]
fn truncated_last_line_is_captured_exactly_once() {
    scenario(|| {
        let hk = Hk::store();

        // Without last_assistant_message: half a line, then the rest.
        let mut tx = hk.transcript("trunc", "sess-tr", 0x71);
        tx.add_turn("mrktru01");
        let mut second = tx.prompt("check the dhcp scope on dc02 mrktru02");
        second.push_str(&tx.bash("Get-DhcpServerv4Scope", "ScopeId 10.0.20.0 Active"));
        let last = tx.say(
            "The DHCP scope on dc02 mrktru03 was exhausted; I extended it to 10.0.20.250 and cut the lease time to 8 hours.",
        );
        tx.append(&second);
        let (head, tail) = last.split_at(last.len() / 2);
        tx.append(head);
        hk.save("truncated last line", &tx);
        assert_eq!(hk.holding("mrktru01"), 1);
        tx.append(tail);
        hk.save("truncated last line, completed", &tx);
        hk.save("same transcript, nothing new", &tx);
        assert_eq!(hk.holding("mrktru01"), 1);
        assert_eq!(hk.holding("mrktru02"), 1);
        assert_eq!(
            hk.holding("mrktru03"),
            1,
            "the completed line is captured exactly once"
        );

        // With last_assistant_message (the transcript lags behind the hook).
        let mut tx = hk.transcript("lag", "sess-lag", 0x72);
        let mut turn = tx.prompt("why is the vpn to the branch office down mrklag01");
        turn.push_str(&tx.bash("ipsec status", "branch: CONNECTING, no proposal chosen"));
        let answer = "The branch VPN mrklag02 failed because the remote side changed its IKE proposal; I set AES-256/SHA-256 on both ends and it is up again.";
        let last = tx.say(answer);
        tx.append(&turn);
        let (head, tail) = last.split_at(last.len() / 3);
        tx.append(head);
        hk.fire(
            "lagging transcript, last_assistant_message",
            Bin::Save,
            &tx.stop(Some(answer)),
            FAST,
        );
        assert_eq!(hk.holding("mrklag01"), 1);
        assert_eq!(
            hk.holding("mrklag02"),
            1,
            "the hook's copy of the answer is kept"
        );
        tx.append(tail);
        tx.add_turn("mrklag03");
        hk.save("lagging transcript caught up", &tx);
        assert_eq!(hk.holding("mrklag01"), 1);
        assert_eq!(
            hk.holding("mrklag02"),
            1,
            "the late line repeats the answer already saved: no second memory"
        );
        assert_eq!(hk.holding("mrklag03"), 1);
    });
}

/// A turn (`prompt`, a Bash `command`, the `answer`) whose Stop hook ran
/// when only its prompt was written: the transcript `(name, tag)`, and the
/// turn's lines still to be written.
fn stopped_before_its_tools(
    hk: &Hk,
    (name, tag): (&str, u32),
    prompt: &str,
    command: &str,
    answer: &str,
) -> (Tx, String) {
    let mut tx = hk.transcript(name, &format!("sess-{name}"), tag);
    let prompt = tx.prompt(prompt);
    let mut late = tx.bash(command, "done");
    late.push_str(&tx.say(answer));
    tx.append(&prompt);
    hk.fire(
        "Stop before the turn's tool lines are written",
        Bin::Save,
        &tx.stop(Some(answer)),
        FAST,
    );
    (tx, late)
}

/// Under load Claude Code ran the Stop hook before it had written the turn's
/// tool lines: the memory was made from the prompt and the hook's copy of
/// the answer, and the lines written later never joined it (the turn was
/// "known").
#[test]
fn tool_lines_written_after_stop_complete_the_turns_memory() {
    scenario(|| {
        let hk = Hk::store();
        let (tx, late) = stopped_before_its_tools(
            &hk,
            ("late-tools", 0x6c74),
            "the print spooler on fs01 keeps stopping mrkltl01",
            "sc.exe failure Spooler reset= 0 actions= restart/60000 mrkltl02",
            "The spooler on fs01 now restarts itself a minute after it stops mrkltl03.",
        );
        assert_eq!(hk.holding("mrkltl01"), 1);
        assert_eq!(hk.holding("mrkltl03"), 1, "the hook's copy stands in");
        assert_eq!(hk.holding("mrkltl02"), 0, "the command is not written yet");

        tx.append(&late);
        let mut end = tx.event("SessionEnd");
        end["reason"] = json!("prompt_input_exit");
        let before = hk.log_text();
        hk.fire(
            "SessionEnd once the lines are written",
            Bin::Save,
            end.to_string().as_bytes(),
            FAST,
        );
        let memories = hk.memories();
        assert_eq!(
            holding(&memories, "mrkltl01"),
            1,
            "still one memory for the turn: {memories:#?}"
        );
        assert_eq!(
            holding(&memories, "mrkltl02"),
            1,
            "the command joined the turn's memory: {memories:#?}"
        );
        assert_eq!(holding(&memories, "mrkltl03"), 1);
        let logged = hk.log_text();
        assert!(
            logged[before.len()..].contains("1 completed"),
            "the save hook logs the completion: {logged}"
        );

        // Read again with nothing new, it is left as it is.
        let id = memories[0]["id"].as_str().unwrap().to_string();
        hk.save("the same transcript once more", &tx);
        let again = hk.memories();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0]["id"], json!(id));
        assert_eq!(again[0]["body"], memories[0]["body"]);
    });
}

/// A memory completed from the transcript keeps what a technician changed by
/// hand: an edited memory is never overwritten by a capture.
#[test]
fn a_memory_edited_by_hand_is_not_completed_by_a_later_read() {
    scenario(|| {
        let hk = Hk::store();
        let (tx, late) = stopped_before_its_tools(
            &hk,
            ("late-edited", 0x6c65),
            "why does the scanner on mfp02 fail to send mail mrklte01",
            "Test-NetConnection smtp.example.net -Port 587 mrklte02",
            "The scanner on mfp02 had the old SMTP relay; it now sends through port 587.",
        );
        let id = hk.memories()[0]["id"].as_str().unwrap().to_string();
        hk.env.ok(&[
            "context",
            "edit",
            &id,
            "--body",
            "Scanner mfp02 relays through smtp.example.net:587 (hand-checked) mrklte03",
        ]);
        tx.append(&late);
        hk.save("the lines written, then read again", &tx);
        let memories = hk.memories();
        assert_eq!(memories.len(), 1, "{memories:#?}");
        assert_eq!(holding(&memories, "mrklte03"), 1, "the hand edit stays");
        assert_eq!(holding(&memories, "mrklte02"), 0, "{memories:#?}");
    });
}

// ---------------------------------------------------------------------------
// Store faults
// ---------------------------------------------------------------------------

#[test]
fn missing_store_is_not_created() {
    scenario(|| {
        let hk = Hk::bare();
        let dir = hk.env.dir("work/x");
        let mut tx = hk.transcript("nostore", "sess-n", 0x6e);
        tx.add_turn("mrknos01");
        hk.recall(
            "no store (prompt)",
            &prompt_event("s", &dir, "restart the spooler on the print server"),
        );
        hk.recall("no store (session start)", &session_start("s", &dir));
        hk.fire("no store (stop)", Bin::Save, &tx.stop(Some("ok")), FAST);
        let left: Vec<_> = std::fs::read_dir(&hk.env.data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["msp.log"], "the hooks created files: {left:?}");

        // No data dir at all: nothing to log into, and still no store.
        let mut hk = Hk::bare();
        let gone = hk.env.root.join("no-such-data");
        hk.set("MSP_DATA_DIR", &gone);
        hk.data = gone.clone();
        hk.fire_unlogged(
            "no data dir (prompt)",
            Bin::Recall,
            &prompt_event("s", &dir, "restart the spooler on the print server"),
        );
        hk.fire_unlogged("no data dir (stop)", Bin::Save, &tx.stop(None));
        assert!(!gone.join("msp.db").exists(), "the hooks created a store");
    });
}

#[test]
fn corrupt_old_and_empty_stores_are_left_alone() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        let mut tx = hk.transcript("corrupt", "sess-c", 0x63);
        tx.add_turn("mrkcor01");
        let prompt = prompt_event("s", &dir, "restart the spooler on the print server");

        // Garbage bytes where the store was.
        let junk = garbage(256 << 10, 3);
        let _ = std::fs::remove_file(hk.db().with_extension("db-wal"));
        let _ = std::fs::remove_file(hk.db().with_extension("db-shm"));
        std::fs::write(hk.db(), &junk).unwrap();
        hk.recall("corrupt store (prompt)", &prompt);
        hk.recall("corrupt store (session start)", &session_start("s", &dir));
        hk.save("corrupt store (stop)", &tx);
        assert!(
            std::fs::read(hk.db()).unwrap() == junk,
            "the hooks changed a corrupt store"
        );

        // An old schema: a fresh store put back to version 1.
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        hk.env.sql("PRAGMA user_version = 1");
        let tables = table_count(&hk.db());
        let mut tx = hk.transcript("old", "sess-o", 0x6f);
        tx.add_turn("mrkold01");
        hk.recall(
            "old schema (prompt)",
            &prompt_event("s", &dir, "restart the spooler"),
        );
        hk.save("old schema (stop)", &tx);
        assert_eq!(user_version(&hk.db()), 1, "the hook migrated the store");
        assert_eq!(table_count(&hk.db()), tables, "the hook changed the schema");
        let log = hk.log_text();
        assert!(log.contains("schema 1"), "the log says why:\n{log}");

        // A zero-byte store file is not turned into a store either.
        let hk = Hk::bare();
        std::fs::write(hk.db(), b"").unwrap();
        hk.recall("zero-byte store (prompt)", &prompt);
        hk.save("zero-byte store (stop)", &tx);
        let len = std::fs::metadata(hk.db()).unwrap().len();
        assert!(
            len == 0 || table_count(&hk.db()) == 0,
            "the hook migrated an empty file"
        );

        // A brand-new database (no tables) at user_version 1.
        let hk = Hk::bare();
        block_on(async {
            use sqlx::Connection;
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(hk.db())
                .create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            sqlx::query("PRAGMA user_version = 1")
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        });
        hk.recall("fresh db at version 1 (prompt)", &prompt);
        hk.recall(
            "fresh db at version 1 (session start)",
            &session_start("s", &dir),
        );
        hk.save("fresh db at version 1 (stop)", &tx);
        assert_eq!(user_version(&hk.db()), 1, "the hook migrated the store");
        assert_eq!(table_count(&hk.db()), 0, "the hook created tables");
    });
}

#[test]
fn locked_store_loses_nothing() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        hk.env.remember(
            "Print spooler on fs01 needs the HP universal driver",
            "The spooler on fs01 crashes with the PCL6 driver; use the HP universal PS driver.",
            &["--project", "acme-fw"],
        );
        let mut tx = hk.transcript("locked", "sess-l", 0x6c);
        tx.lines.cwd = dir.to_string_lossy().into_owned();
        tx.add_turn("mrkloc01");

        // The write lock, held while the hooks run.
        let lock =
            "BEGIN EXCLUSIVE; INSERT INTO local_state(key, value) VALUES ('test-lock', 'held')";
        common::while_holding(&hk.db(), lock, || {
            let answer = hk.recall(
                "store locked by a writer (prompt)",
                &prompt_event(
                    "s-lock",
                    &dir,
                    "the print spooler on fs01 keeps crashing, which driver?",
                ),
            );
            let answer = answer.expect("recall still answers while a writer holds the lock");
            assert!(context_of(&answer).contains("universal"), "{answer}");
            let start = hk
                .fire(
                    "store locked by a writer (session start)",
                    Bin::Recall,
                    &session_start("s-lock", &dir),
                    FAST,
                )
                .expect("the project state is injected even when no work session can start");
            assert!(context_of(&start).contains("acme-fw"), "{start}");
            hk.save("store locked by a writer (stop)", &tx);
        });
        tx.add_turn("mrkloc02");
        hk.save("after the lock is released (stop)", &tx);
        assert_eq!(
            hk.holding("mrkloc01"),
            1,
            "the turn saved under the lock is not lost"
        );
        assert_eq!(hk.holding("mrkloc02"), 1);
    });
}

/// Unix modes (Windows has ACLs; see docs/windows.md).
#[cfg(unix)]
#[test]
fn read_only_store_or_unwritable_data_dir() {
    scenario(|| {
        use std::os::unix::fs::PermissionsExt;
        let hk = Hk::store();
        let mut tx = hk.transcript("ro", "sess-ro", 0x72);
        tx.add_turn("mrkro001");
        let db = hk.db();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        let root_writes = std::fs::OpenOptions::new().write(true).open(&db).is_ok();
        if !root_writes {
            // A read-only store file: the hooks read but cannot save.
            hk.recall(
                "read-only store file (prompt)",
                &prompt_event("s", &hk.cwd, "restart the spooler"),
            );
            hk.save("read-only store file (stop)", &tx);
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
            hk.save("store writable again (stop)", &tx);
            assert_eq!(hk.holding("mrkro001"), 1, "nothing lost");
            return;
        }
        // Root ignores file modes: make the data dir path a regular file instead.
        eprintln!(
            "hooks: running as root, 0444 does not stop writes: the data dir is a file instead"
        );
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut hk = hk;
        let file = hk.env.root.join("data-is-a-file");
        std::fs::write(&file, b"not a directory").unwrap();
        hk.set("MSP_DATA_DIR", &file);
        hk.fire_unlogged(
            "data dir is a file (prompt)",
            Bin::Recall,
            &prompt_event("s", &hk.cwd, "restart the spooler"),
        );
        hk.fire_unlogged(
            "data dir is a file (session start)",
            Bin::Recall,
            &session_start("s", &hk.cwd),
        );
        hk.fire_unlogged("data dir is a file (stop)", Bin::Save, &tx.stop(None));
        assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
        // The real store, once reachable again, gets the turn: nothing lost.
        hk.vars.clear();
        hk.save("data dir reachable again (stop)", &tx);
        assert_eq!(hk.holding("mrkro001"), 1);
    });
}

// ---------------------------------------------------------------------------
// Environment faults
// ---------------------------------------------------------------------------

/// A store whose project `acme-fw` holds one memory, that the fs01 spooler
/// needs the universal driver; returns the project's directory too.
fn spooler_store() -> (Hk, PathBuf) {
    let hk = Hk::store();
    let dir = hk.project("acme-fw");
    hk.env.ok(&[
        "context",
        "add",
        "--project",
        "acme-fw",
        "--title",
        "fs01 spooler needs the universal driver",
    ]);
    (hk, dir)
}

/// A full disk, simulated safely: a file size limit (RLIMIT_FSIZE) with
/// SIGXFSZ ignored makes every write past a few KiB fail (EFBIG), as writes
/// fail with ENOSPC on a full disk. The store, the WAL and the log are all
/// past the limit, so nothing can be written, not even the log line.
/// `ulimit -f` through `sh`: unix only.
#[cfg(unix)]
#[test]
fn full_disk_loses_nothing() {
    scenario(|| {
        let (hk, dir) = spooler_store();
        let mut tx = hk.transcript("full", "sess-full", 0xf0);
        tx.add_turn("mrkful01");
        std::fs::write(hk.log(), "x".repeat(16 << 10) + "\n").unwrap();
        let log_before = hk.log_text();
        let full = "trap '' XFSZ; ulimit -f 4 || exit 99; exec \"$0\"";
        let cases: [(&str, Bin, Vec<u8>); 3] = [
            (
                "disk full (prompt)",
                Bin::Recall,
                prompt_event("s-full", &dir, "the fs01 spooler crashes, which driver?"),
            ),
            (
                "disk full (session start)",
                Bin::Recall,
                session_start("s-full", &dir),
            ),
            ("disk full (stop)", Bin::Save, tx.stop(None)),
        ];
        for (case, bin, input) in cases {
            let run = run_cmd(hk.command_via_sh(bin, full), input, Feed::default());
            check(case, bin, &run, FAST);
        }
        assert_eq!(hk.log_text(), log_before, "the limit did stop writes");
        // Space again: the next Stop captures the turn, the store is sound.
        hk.save("disk has space again (stop)", &tx);
        assert_eq!(hk.holding("mrkful01"), 1, "nothing lost");
        let check: String = block_on(async {
            let mut c = connect(&hk.db()).await;
            sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut c)
                .await
                .unwrap()
        });
        assert_eq!(check, "ok");
    });
}

#[test]
fn unwritable_log_invalid_config_and_no_home() {
    scenario(|| {
        // msp.log is a directory: no line can be written, the work still is.
        let hk = Hk::store();
        std::fs::create_dir_all(hk.log()).unwrap();
        let mut tx = hk.transcript("nolog", "sess-nl", 0x4c);
        tx.add_turn("mrklog01");
        hk.fire_unlogged(
            "msp.log is a directory (prompt)",
            Bin::Recall,
            &prompt_event("s", &hk.cwd, "restart the spooler on fs01"),
        );
        hk.fire_unlogged("msp.log is a directory (stop)", Bin::Save, &tx.stop(None));
        assert!(hk.log().is_dir());
        assert_eq!(hk.holding("mrklog01"), 1, "the save still happened");

        // An invalid config.toml: logged, nothing done, nothing lost.
        let hk = Hk::store();
        std::fs::create_dir_all(&hk.env.config).unwrap();
        let config = hk.env.config.join("config.toml");
        let mut tx = hk.transcript("badcfg", "sess-bc", 0x43);
        tx.add_turn("mrkcfg01");
        for (case, text) in [
            (
                "invalid config.toml (syntax)",
                "[memory\nbudget_tokens = = 5\n\u{0}",
            ),
            (
                "invalid config.toml (types)",
                "[memory]\nbudget_tokens = \"lots\"\n[log]\nmax_bytes = -1\n",
            ),
            (
                "invalid config.toml (unknown key)",
                "[memory]\nbudget = 5\n",
            ),
        ] {
            std::fs::write(&config, text).unwrap();
            hk.fire_both(case, &tx.stop(None), FAST);
            hk.recall(
                case,
                &prompt_event("s", &hk.cwd, "restart the spooler on fs01"),
            );
        }
        assert!(
            hk.log_text().contains("config"),
            "the log names the problem:\n{}",
            hk.log_text()
        );
        // And the event it stopped: the input was read before the config.
        assert!(
            hk.log_text().contains("UserPromptSubmit error: config")
                && !hk.log_text().contains("(no event)"),
            "the log names the event:\n{}",
            hk.log_text()
        );
        std::fs::remove_file(&config).unwrap();
        hk.save("config fixed (stop)", &tx);
        assert_eq!(hk.holding("mrkcfg01"), 1, "nothing lost");

        // HOME unset (MSP_DATA_DIR and MSP_CONFIG_DIR still set).
        let (mut hk, dir) = spooler_store();
        hk.unset("HOME");
        let mut tx = hk.transcript("nohome", "sess-nh", 0x48);
        tx.add_turn("mrkhom01");
        let answer = hk
            .fire(
                "HOME unset (prompt)",
                Bin::Recall,
                &prompt_event(
                    "s",
                    &dir,
                    "the fs01 spooler crashes, which driver do we use?",
                ),
                FAST,
            )
            .expect("recall works without HOME");
        assert!(context_of(&answer).contains("universal"));
        hk.save("HOME unset (stop)", &tx);
        assert_eq!(hk.holding("mrkhom01"), 1);
    });
}

#[test]
fn stdin_left_open_and_stdout_closed() {
    scenario(|| {
        let (hk, dir) = spooler_store();
        let prompt = prompt_event("s-open", &dir, "the fs01 spooler crashes, which driver?");
        let hold = Feed {
            hold_stdin: true,
            ..Feed::default()
        };
        let answer = hk.fire_with(
            "complete object, stdin never closed",
            Bin::Recall,
            &prompt,
            FAST,
            hold,
        );
        assert!(answer.is_some(), "the object is complete: answer it");
        let mut tx = hk.transcript("open", "sess-open", 0x4f);
        tx.add_turn("mrkopn01");
        hk.fire_with(
            "complete object, stdin never closed",
            Bin::Save,
            &tx.stop(None),
            FAST,
            hold,
        );
        assert_eq!(hk.holding("mrkopn01"), 1);
        // Half an object and stdin never closed: the hook gives up at its
        // deadline (2 s for recall) instead of waiting for ever.
        hk.fire_with(
            "half an object, stdin never closed",
            Bin::Recall,
            br#"{"hook_event_name":"UserPromptSubmit","prompt":"#,
            STDIN_WAIT,
            hold,
        );
        let closed = Feed {
            close_stdout: true,
            ..Feed::default()
        };
        hk.fire_with(
            "stdout closed by the reader",
            Bin::Recall,
            &prompt_event("s-closed", &dir, "the fs01 spooler crashes, which driver?"),
            FAST,
            closed,
        );
    });
}

#[test]
fn the_log_stays_capped() {
    scenario(|| {
        let mut hk = Hk::store();
        hk.set("MSP_LOG_MAX_BYTES", "1500");
        for i in 0..40 {
            let bin = if i % 2 == 0 { Bin::Recall } else { Bin::Save };
            let run = hk.run(bin, b"not json", Feed::default());
            check("log rotation", bin, &run, FAST);
        }
        let len = std::fs::metadata(hk.log()).unwrap().len();
        assert!(len < 1500 + 2200, "msp.log grew to {len} bytes");
        assert!(hk.data.join("msp.log.1").is_file(), "the log was rotated");
    });
}

// ---------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------

#[test]
fn two_thousand_turns_in_one_stop() {
    scenario(|| {
        let hk = Hk::store();
        let mut tx = hk.transcript("many", "sess-many", 0x2000);
        let mut text = String::new();
        for i in 0..2000 {
            text.push_str(&tx.prompt(&format!("restart spooler on host{i:04}")));
            text.push_str(&tx.bash(&format!("systemctl restart spooler-{i:04}"), ""));
            text.push_str(&tx.say("Done."));
        }
        tx.append(&text);
        // A backlog this size is a bulk case, like the 10 MB inputs.
        hk.fire(
            "2,000 tiny turns in one Stop",
            Bin::Save,
            &tx.stop(Some("Done.")),
            SLOW,
        );
        let all = hk.memories();
        assert_eq!(all.len(), 2000, "one memory per turn");
        for i in [0, 1, 999, 1998, 1999] {
            assert_eq!(holding(&all, &format!("spooler-{i:04}")), 1);
        }
        hk.save("2,000 turns, nothing new", &tx);
        assert_eq!(hk.memories().len(), 2000);
    });
}

#[test]
fn eight_concurrent_sessions_lose_and_duplicate_nothing() {
    scenario(|| {
        let hk = Hk::store();
        const SESSIONS: u32 = 8;
        const TURNS: u32 = 10;
        let mut txs: Vec<Tx> = (0..SESSIONS)
            .map(|s| hk.transcript(&format!("conc{s}"), &format!("sess-conc-{s}"), 0xc000 + s))
            .collect();
        let log_before = hk.log_text().lines().count();
        let mut slowest = Duration::ZERO;
        for t in 0..TURNS {
            for (s, tx) in txs.iter_mut().enumerate() {
                let turn = tx.turn(&format!("mrk{s}q{t:02}"));
                tx.append(turn);
            }
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(SESSIONS as usize));
            let runs: Vec<_> = txs
                .iter()
                .enumerate()
                .map(|(s, tx)| {
                    let cmd = hk.command(Bin::Save);
                    let input = tx.stop(Some(&Tx::answer(&format!("mrk{s}q{t:02}"))));
                    let barrier = barrier.clone();
                    thread::spawn(move || {
                        barrier.wait();
                        run_cmd(cmd, input, Feed::default())
                    })
                })
                .collect();
            for (s, r) in runs.into_iter().enumerate() {
                let run = r.join().unwrap();
                slowest = slowest.max(run.elapsed);
                check(
                    &format!("8 concurrent saves, turn {t} session {s}"),
                    Bin::Save,
                    &run,
                    SLOW,
                );
            }
        }
        eprintln!(
            "hooks: 8 concurrent sessions: slowest save {} ms",
            slowest.as_millis()
        );
        let all = hk.memories();
        assert_eq!(
            all.len(),
            (SESSIONS * TURNS) as usize,
            "every turn stored once"
        );
        for s in 0..SESSIONS {
            for t in 0..TURNS {
                let marker = format!("mrk{s}q{t:02}");
                assert_eq!(holding(&all, &marker), 1, "{marker}");
            }
        }
        let log = hk.log_text();
        let lines: Vec<&str> = log.lines().skip(log_before).collect();
        assert_eq!(
            lines.len(),
            (SESSIONS * TURNS) as usize,
            "one whole log line per run"
        );
        assert!(
            lines
                .iter()
                .all(|l| l.contains("msp-save Stop:") && l.ends_with(" ms)")),
            "interleaved log lines:\n{log}"
        );

        // Two saves of the same transcript at once (Stop racing PreCompact).
        let tx = &mut txs[0];
        tx.add_turn("mrkdup01");
        let mut pre: Value = serde_json::from_slice(&tx.stop(None)).unwrap();
        pre["hook_event_name"] = json!("PreCompact");
        pre["trigger"] = json!("auto");
        let inputs = [tx.stop(None), pre.to_string().into_bytes(), tx.stop(None)];
        let runs: Vec<_> = inputs
            .into_iter()
            .map(|input| {
                let cmd = hk.command(Bin::Save);
                thread::spawn(move || run_cmd(cmd, input, Feed::default()))
            })
            .collect();
        for r in runs {
            check(
                "same transcript saved three times at once",
                Bin::Save,
                &r.join().unwrap(),
                SLOW,
            );
        }
        assert_eq!(hk.holding("mrkdup01"), 1);
    });
}

// ---------------------------------------------------------------------------
// Recall behaviour
// ---------------------------------------------------------------------------

#[test]
fn recall_injects_each_memory_once_per_session() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-fw");
        hk.env.remember(
            "Fortigate VLAN 40 carries the VoIP phones",
            "The ACME fortigate firewall puts VoIP phones on VLAN 40 with DHCP option 66.",
            &["--project", "acme-fw"],
        );
        for i in 0..30 {
            hk.env.remember(
                &format!("Fortigate firmware note {i}: VoIP phones and VLAN tagging"),
                &format!(
                    "Note {i}: after the fortigate firmware upgrade the VoIP VLAN tagging {}",
                    "had to be checked on every switch port again. ".repeat(20)
                ),
                &["--project", "acme-fw"],
            );
        }
        let prompt = "which vlan do the voip phones use on the fortigate?";
        let first = hk
            .fire(
                "prompt with memories",
                Bin::Recall,
                &prompt_event("sess-a", &dir, prompt),
                FAST,
            )
            .expect("memories are injected");
        let text = context_of(&first);
        assert!(text.starts_with("<msp-memory>"), "{text}");
        assert!(text.len() < 10_000, "{} chars injected", text.len());
        assert!(text.contains("VLAN 40 carries"), "{text}");
        assert_eq!(
            first["hookSpecificOutput"]["hookEventName"],
            "UserPromptSubmit"
        );

        let again = hk.recall(
            "same prompt, same session",
            &prompt_event("sess-a", &dir, prompt),
        );
        if let Some(a) = &again {
            assert!(
                !context_of(a).contains("VLAN 40 carries"),
                "injected twice in one session: {a}"
            );
        }
        // The recall hook leaves the store untouched; the save hook counts each
        // injected memory once per session, however often it runs, and a
        // session resumed after its end still gets nothing twice.
        let vlan_id = hk
            .memories()
            .into_iter()
            .find(|m| m["title"].as_str().unwrap().contains("VLAN 40 carries"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let uses = || {
            hk.env.json(&["context", "show", &vlan_id])["use_count"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(uses(), 0, "the recall hook wrote to the store");
        let stop = json!({"session_id": "sess-a", "cwd": dir, "hook_event_name": "Stop"});
        hk.fire(
            "stop counts recalls",
            Bin::Save,
            stop.to_string().as_bytes(),
            FAST,
        );
        hk.fire("stop again", Bin::Save, stop.to_string().as_bytes(), FAST);
        assert_eq!(uses(), 1);
        let end_a = json!({"session_id": "sess-a", "cwd": dir, "hook_event_name": "SessionEnd"});
        hk.fire(
            "end of sess-a",
            Bin::Save,
            end_a.to_string().as_bytes(),
            FAST,
        );
        assert_eq!(uses(), 1);
        assert!(
            !hk.env.data.join("recalled").join("sess-a").exists(),
            "journal left behind"
        );
        if let Some(a) = hk.recall("sess-a resumed", &prompt_event("sess-a", &dir, prompt)) {
            assert!(
                !context_of(&a).contains("VLAN 40 carries"),
                "injected twice after a resume: {a}"
            );
        }

        let other = hk
            .fire(
                "same prompt, new session",
                Bin::Recall,
                &prompt_event("sess-b", &dir, prompt),
                FAST,
            )
            .expect("a new session gets the memory again");
        assert!(context_of(&other).contains("VLAN 40 carries"));

        assert!(
            hk.recall("short prompt", &prompt_event("sess-c", &dir, "yes"))
                .is_none(),
            "a short prompt gets nothing"
        );

        // SessionStart opens the automatic work session, SessionEnd closes it.
        let status = hk.env.json_in(&dir, &["session", "status"]);
        assert_eq!(status["open"], false);
        let start = hk
            .fire(
                "session start in a linked dir",
                Bin::Recall,
                &session_start("sess-d", &dir),
                FAST,
            )
            .expect("the project state is injected");
        let text = context_of(&start);
        assert!(
            text.starts_with("<msp-memory>") && text.contains("acme-fw"),
            "{text}"
        );
        assert!(text.len() < 10_000);
        assert_eq!(start["hookSpecificOutput"]["hookEventName"], "SessionStart");
        let status = hk.env.json_in(&dir, &["session", "status"]);
        assert_eq!(status["open"], true, "{status}");
        assert_eq!(status["session"]["origin"], "claude", "{status}");
        assert_eq!(status["session"]["project"], "acme-fw", "{status}");
        let end = json!({"session_id": "sess-d", "cwd": dir, "hook_event_name": "SessionEnd", "reason": "exit"});
        hk.fire("session end", Bin::Save, end.to_string().as_bytes(), FAST);
        let status = hk.env.json_in(&dir, &["session", "status"]);
        assert_eq!(status["open"], false, "{status}");

        // SessionStart outside any project: nothing, and no work session.
        let elsewhere = hk.env.dir("elsewhere");
        assert!(
            hk.recall(
                "session start outside projects",
                &session_start("sess-e", &elsewhere)
            )
            .is_none()
        );
        assert_eq!(hk.env.json(&["session", "status"])["open"], false);
    });
}

/// Regression: the change triggers are TEMP triggers that each writing
/// connection creates; what the hooks write must still reach team sync,
/// and a prompt must write nothing at all.
#[test]
fn hook_writes_are_tracked_for_sync_and_prompts_write_nothing() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-sync");
        let pending = || {
            hk.env.json(&["sync", "status"])["pending_changes"]
                .as_i64()
                .unwrap()
        };
        let before = pending();

        hk.recall(
            "session start opens a work session",
            &session_start("sess-sync", &dir),
        );
        assert_eq!(
            pending(),
            before + 1,
            "the automatic work session is not tracked"
        );

        let mut tx = hk.transcript("sync", "sess-sync", 0x5c);
        tx.add_turn("mrksync1");
        hk.save("stop saves a memory", &tx);
        assert_eq!(hk.holding("mrksync1"), 1);
        assert_eq!(pending(), before + 2, "the saved memory is not tracked");

        let db = std::fs::read(hk.db()).unwrap();
        let prompt = prompt_event("sess-sync", &dir, "what did we do about mrksync1 backups?");
        hk.recall("prompt", &prompt);
        assert!(
            std::fs::read(hk.db()).unwrap() == db,
            "a prompt changed the store"
        );
        assert_eq!(pending(), before + 2);
    });
}

// ---------------------------------------------------------------------------
// Bounded reads: files that are not regular files, backlogs, growing files
// ---------------------------------------------------------------------------

/// Claude Code kills a hook after the `"timeout": 5` it is registered with.
const CLAUDE_TIMEOUT: Duration = Duration::from_millis(4500);

#[cfg(unix)]
#[test]
fn fifo_config_does_not_hang_recall() {
    scenario(|| {
        let hk = Hk::store();
        std::fs::create_dir_all(&hk.env.config).unwrap();
        let config = hk.env.config.join("config.toml");
        common::mkfifo(&config);
        let prompt = prompt_event("s", &hk.cwd, "restart the spooler on fs01");
        // Nothing ever writes to the FIFO: an open that waits for a writer hangs.
        hk.fire("config.toml is a FIFO (prompt)", Bin::Recall, &prompt, SLOW);
        let mut tx = hk.transcript("fifo", "sess-fifo", 0xf1);
        tx.add_turn("mrkfifo1");
        hk.fire(
            "config.toml is a FIFO (stop)",
            Bin::Save,
            &tx.stop(None),
            SLOW,
        );
        let log = hk.log_text();
        assert!(
            log.contains("a FIFO") && log.contains("config.toml"),
            "{log}"
        );
        // The CLI says what is wrong and how to fix it.
        let out = hk
            .env
            .msp_within(&[], &["context", "list"], HUNG)
            .expect_hint(1);
        assert!(out.stderr.contains("a FIFO"), "{}", out.stderr);
    });
}

#[cfg(unix)]
#[test]
fn dev_zero_config_is_refused_without_reading_it() {
    scenario(|| {
        let hk = Hk::store();
        std::fs::create_dir_all(&hk.env.config).unwrap();
        std::os::unix::fs::symlink("/dev/zero", hk.env.config.join("config.toml")).unwrap();
        // Reading /dev/zero to its end would take all memory; refused at once.
        let prompt = prompt_event("s", &hk.cwd, "restart the spooler on fs01");
        hk.recall("config.toml -> /dev/zero (prompt)", &prompt);
        let mut tx = hk.transcript("zero", "sess-zero", 0xf2);
        tx.add_turn("mrkzero1");
        hk.save("config.toml -> /dev/zero (stop)", &tx);
        assert!(hk.log_text().contains("a device"), "{}", hk.log_text());
        // A config too large to be one is refused by its size, unread.
        std::fs::remove_file(hk.env.config.join("config.toml")).unwrap();
        let big = std::fs::File::create(hk.env.config.join("config.toml")).unwrap();
        big.set_len(4 << 30).unwrap();
        hk.recall("config.toml of 4 GB (prompt)", &prompt);
        common::assert_has(&hk.log_text(), "bytes, more than");
    });
}

#[cfg(unix)]
#[test]
fn fifo_transcript_does_not_hang_save() {
    scenario(|| {
        let hk = Hk::store();
        let tx = hk.transcript("pipe", "sess-pipe", 0xf3);
        std::fs::remove_file(&tx.path).unwrap();
        common::mkfifo(&tx.path);
        hk.save("transcript is a FIFO", &tx);
        assert!(hk.log_text().contains("a FIFO"), "{}", hk.log_text());
    });
}

/// The capture offset of a transcript, as the store holds it.
fn capture_offset(hk: &Hk, transcript: &Path) -> u64 {
    let key = transcript.to_string_lossy().into_owned();
    block_on(async {
        let mut c = connect(&hk.db()).await;
        let off: Option<i64> =
            sqlx::query_scalar("SELECT byte_offset FROM capture_offsets WHERE transcript_path = ?")
                .bind(key)
                .fetch_optional(&mut c)
                .await
                .unwrap();
        off.unwrap_or(0) as u64
    })
}

/// Appends about `bytes` of whole turns to `tx`, in large writes.
fn fill(tx: &mut Tx, bytes: u64) {
    // One block of 16 turns with 16 KiB outputs, written over and over:
    // repeated uuids are the same turns again, which is all a backlog needs.
    let output = "drwxr-x--- backup snapshot 2026-03-01 ok\n".repeat(400);
    let mut block = String::new();
    for i in 0..16 {
        block.push_str(&tx.prompt(&format!("list the snapshots of volume {i} on nas01")));
        block.push_str(&tx.bash(&format!("ls -l /srv/snap/{i}"), &output));
        block.push_str(&tx.say("Listed; nothing to clean."));
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&tx.path)
        .unwrap();
    let chunk = block.repeat(((4 << 20) / block.len()).max(1));
    let mut written = 0;
    while written < bytes {
        f.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len() as u64;
    }
}

#[test]
fn huge_backlog_stop_returns_in_time_and_moves_on() {
    scenario(|| {
        // The default cap is 32 MiB against a 1 GB backlog; a like ratio, smaller.
        let mut hk = Hk::store();
        hk.set("MSP_CAPTURE_MAX_BACKLOG_BYTES", (1u64 << 20).to_string());
        let mut tx = hk.transcript("backlog", "sess-backlog", 0xb1);
        fill(&mut tx, 128 << 20);
        tx.add_turn("mrkback1");
        let len = std::fs::metadata(&tx.path).unwrap().len();

        hk.fire(
            "128 MiB backlog, 1 MiB cap",
            Bin::Save,
            &tx.stop(None),
            CLAUDE_TIMEOUT,
        );
        let first = capture_offset(&hk, &tx.path);
        assert!(
            first >= len - (1 << 20),
            "the older backlog is skipped: offset {first} of {len}"
        );
        let log = hk.log_text();
        assert!(
            log.contains("older backlog") && log.contains("msp context import"),
            "the log says what was skipped and how to take it: {log}"
        );

        // Every later Stop goes on from there until the end.
        for run in 0..20 {
            if capture_offset(&hk, &tx.path) == len {
                break;
            }
            let before = capture_offset(&hk, &tx.path);
            hk.fire(
                &format!("backlog, run {run}"),
                Bin::Save,
                &tx.stop(None),
                CLAUDE_TIMEOUT,
            );
            assert!(
                capture_offset(&hk, &tx.path) > before,
                "run {run} made no progress"
            );
        }
        assert_eq!(capture_offset(&hk, &tx.path), len);
        assert_eq!(hk.holding("mrkback1"), 1, "the newest turn is saved");
        tx.add_turn("mrkback2");
        hk.save("after the backlog", &tx);
        assert_eq!(hk.holding("mrkback2"), 1);
    });
}

#[test]
fn growing_transcript_cannot_keep_save_running() {
    scenario(|| {
        let hk = Hk::store();
        let tx = hk.transcript("growing", "sess-grow", 0xb2);
        // A writer appends as fast as it can while the hook runs.
        let path = tx.path.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut filler = Tx::new(hk.env.root.join("filler.jsonl"), "sess-grow", &hk.cwd, 0xb3);
        fill(&mut filler, 1 << 20);
        let chunk = std::fs::read(&filler.path).unwrap();
        let writer = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                let mut written = 0u64;
                // About 50 MB/s, at most 400 MiB.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && written < (400 << 20) {
                    f.write_all(&chunk).unwrap();
                    written += chunk.len() as u64;
                    thread::sleep(Duration::from_millis(20));
                }
            })
        };
        thread::sleep(Duration::from_millis(100));
        let run = hk.run(Bin::Save, &tx.stop(None), Feed::default());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
        check(
            "transcript growing while saved",
            Bin::Save,
            &run,
            CLAUDE_TIMEOUT,
        );
        // It read what was there when it started (the newest part of it).
        assert!(
            capture_offset(&hk, &tx.path) > 0,
            "no progress: {}",
            hk.log_text()
        );
        assert!(
            !hk.memories().is_empty(),
            "nothing saved: {}",
            hk.log_text()
        );
        let _ = std::fs::remove_file(&tx.path);
    });
}

#[test]
fn slow_backlog_is_cut_at_the_deadline_and_the_next_stop_goes_on() {
    scenario(|| {
        // 24 MiB of small distinct turns, under a cap raised to 32 MiB: more
        // turns than one Stop can store in its time (8 MiB take about 2 s here).
        let mut hk = Hk::store();
        hk.set("MSP_CAPTURE_MAX_BACKLOG_BYTES", (32u64 << 20).to_string());
        let mut tx = hk.transcript("slow", "sess-slow", 0xb4);
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 24 << 20 {
            text.push_str(&tx.prompt(&format!("restart the print spooler on host{i:05}")));
            text.push_str(&tx.bash(&format!("systemctl restart spooler-{i:05}"), ""));
            text.push_str(&tx.say(&format!("Done, spooler-{i:05} is running.")));
            i += 1;
        }
        tx.append(&text);
        tx.add_turn("mrkslow1");
        let len = std::fs::metadata(&tx.path).unwrap().len();
        let mut offsets = vec![0];
        for run in 0..30 {
            hk.fire(
                &format!("slow backlog, run {run}"),
                Bin::Save,
                &tx.stop(None),
                CLAUDE_TIMEOUT,
            );
            let now = capture_offset(&hk, &tx.path);
            assert!(now > *offsets.last().unwrap(), "run {run} made no progress");
            offsets.push(now);
            if now == len {
                break;
            }
        }
        assert_eq!(*offsets.last().unwrap(), len, "offsets: {offsets:?}");
        let log = hk.log_text();
        assert!(log.contains("stopped at the deadline"), "{log}");
        assert_eq!(hk.holding("mrkslow1"), 1);
        assert_eq!(hk.holding("spooler-00000"), 1, "the oldest turn too");
        eprintln!("hooks: slow backlog offsets {offsets:?}");
    });
}

// ---------------------------------------------------------------------------
// Automatic work sessions that Claude never closed
// ---------------------------------------------------------------------------

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The sessions of this store as `msp session list --json` shows them.
fn work_sessions(hk: &Hk) -> Vec<Value> {
    array(&hk.env.json(&["session", "list", "--limit", "10"])).clone()
}

/// An automatic session opened by a SessionStart, and a Stop that captured a
/// turn, both moved back in time: started 2 h ago, last active 90 min ago.
/// Returns (start, last activity) in ms.
fn stale_automatic_session(hk: &Hk, dir: &Path, session: &str, tag: u32) -> (i64, i64) {
    hk.recall("session start", &session_start(session, dir));
    let mut tx = hk.transcript(session, session, tag);
    tx.add_turn(&format!("mrkidle{tag:x}"));
    hk.save("stop", &tx);
    let now = now_ms();
    let (start, active) = (now - 120 * 60_000, now - 90 * 60_000);
    hk.env.sql(&format!(
        "UPDATE sessions SET started_at = {start}, created_at = {start} WHERE claude_session_id = '{session}'"
    ));
    hk.env.sql(&format!(
        "UPDATE capture_offsets SET updated_at = {active} WHERE claude_session_id = '{session}'"
    ));
    (start, active)
}

#[test]
fn killed_claude_session_is_closed_at_its_last_activity_by_the_next_hook() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-idle");
        // Claude was killed: no SessionEnd ever came.
        let (start, active) = stale_automatic_session(&hk, &dir, "sess-killed", 0x1d1);
        // The next prompt, of another Claude session, closes it where work stopped.
        let prompt = prompt_event("sess-other", &dir, "restart the spooler on fs01");
        hk.recall("prompt after a killed session", &prompt);
        common::assert_has(&hk.log_text(), "idle work session closed");
        let list = work_sessions(&hk);
        assert_eq!(list.len(), 1, "{list:?}");
        let s = &list[0];
        assert_eq!(s["status"], "closed", "{s}");
        assert_eq!(
            s["duration_seconds"],
            (active - start) / 1000,
            "counted up to the last activity: {s}"
        );
        // The report counts the same 30 minutes, not the 2 hours since.
        let report = hk.env.json(&["session", "report", "--from", "1d ago"]);
        assert_eq!(report["total"]["total_hours"], 0.5, "{report}");
    });
}

#[test]
fn idle_session_is_closed_by_the_next_msp_command() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-cmd");
        let (start, active) = stale_automatic_session(&hk, &dir, "sess-cmd", 0x1d2);
        let status = hk.env.json(&["session", "status"]);
        assert_eq!(status["open"], false, "{status}");
        let s = &work_sessions(&hk)[0];
        assert_eq!(s["duration_seconds"], (active - start) / 1000, "{s}");
    });
}

#[test]
fn idle_limit_is_a_setting_and_manual_sessions_are_never_closed() {
    scenario(|| {
        let mut hk = Hk::store();
        let dir = hk.project("acme-manual");
        // 120 minutes: 90 idle minutes are not enough.
        hk.set("MSP_SESSIONS_IDLE_CLOSE_MINUTES", "120");
        hk.env.set_var("MSP_SESSIONS_IDLE_CLOSE_MINUTES", "120");
        stale_automatic_session(&hk, &dir, "sess-long", 0x1d3);
        hk.recall("prompt", &prompt_event("sess-x", &dir, "check dns on dc01"));
        assert_eq!(hk.env.json(&["session", "status"])["open"], true);
        hk.env.ok(&["session", "stop"]);

        // A session started by hand, 5 hours ago, with nothing since.
        hk.env
            .ok(&["session", "start", "--at", "5h ago", "--billable"]);
        hk.recall("prompt", &prompt_event("sess-y", &dir, "check dns on dc01"));
        let status = hk.env.json(&["session", "status"]);
        assert_eq!(
            status["open"], true,
            "a manual session stays open: {status}"
        );
    });
}

#[test]
fn a_prompt_after_a_long_pause_starts_a_new_work_session() {
    scenario(|| {
        let hk = Hk::store();
        let dir = hk.project("acme-pause");
        let (start, active) = stale_automatic_session(&hk, &dir, "sess-pause", 0x1d4);
        // The same Claude session, back from lunch.
        let prompt = prompt_event("sess-pause", &dir, "where were we with the backups?");
        hk.recall("prompt after a pause", &prompt);
        let list = work_sessions(&hk);
        assert_eq!(list.len(), 2, "{list:?}");
        let (new, old) = (&list[0], &list[1]);
        assert_eq!(old["status"], "closed");
        assert_eq!(old["duration_seconds"], (active - start) / 1000);
        assert_eq!(new["status"], "open", "{new}");
        assert_eq!(new["project"], "acme-pause");
        assert!(
            new["duration_seconds"].as_i64().unwrap() < 60,
            "the pause is not counted: {new}"
        );
    });
}

#[cfg(unix)]
#[test]
fn fifo_git_config_in_the_working_directory_does_not_hang_recall() {
    scenario(|| {
        let hk = Hk::store();
        hk.project("acme-git");
        // An unpacked archive whose `.git/config` is a FIFO: the project lookup
        // reads it for the git remote.
        let dir = hk.env.dir("work/unpacked");
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        common::mkfifo(&dir.join(".git/config"));
        let prompt = prompt_event("s", &dir, "restart the spooler on fs01");
        hk.recall("cwd with a FIFO .git/config (prompt)", &prompt);
        hk.recall(
            "cwd with a FIFO .git/config (start)",
            &session_start("s", &dir),
        );
    });
}

// ---------------------------------------------------------------------------
// "remember: …" in a prompt
// ---------------------------------------------------------------------------

#[test]
fn a_remember_prompt_is_confirmed_then_stored_as_an_important_fact_once() {
    let mut hk = Hk::store();
    let dir = hk.project("nas");
    hk.cwd = dir.clone();
    let old = hk.env.json(&[
        "context",
        "add",
        "--title",
        "NAS01 admin port is 5000",
        "--kind",
        "fact",
        "--project",
        "nas",
        "--at",
        "2026-02-01",
    ]);
    let ask = "remember: NAS01 admin port is now 5001";
    let answer = hk
        .recall("remember prompt", &prompt_event("sess-rem", &dir, ask))
        .expect("the recall hook answers a remember prompt");
    let context = context_of(&answer);
    assert!(
        context.contains("msp stores this as an important memory of project nas")
            && context.contains("\"NAS01 admin port is now 5001\""),
        "{context}"
    );
    // Nothing is stored on the prompt path.
    assert_eq!(hk.holding("5001"), 0);

    let mut tx = hk.transcript("rem", "sess-rem", 0x5e);
    let mut turn = tx.prompt(ask);
    turn.push_str(&tx.say("Noted: NAS01's admin port is now 5001."));
    tx.append(&turn);
    hk.save("stop after remember", &tx);
    hk.save("stop again", &tx);
    let facts: Vec<Value> = hk
        .memories()
        .into_iter()
        .filter(|m| m["title"] == "NAS01 admin port is now 5001")
        .collect();
    assert_eq!(facts.len(), 1, "stored once: {facts:?}");
    assert_eq!(facts[0]["kind"], "fact");
    assert_eq!(facts[0]["importance"], 8);
    let old = hk
        .env
        .json(&["context", "show", old["id"].as_str().unwrap()]);
    assert_eq!(old["superseded_by"], facts[0]["id"]);
    assert!(
        hk.log_text()
            .contains("1 remembered on request, 1 older superseded")
    );

    // The next prompt about it gets the new port, not the old one.
    let answer = hk
        .recall(
            "asked again",
            &prompt_event("sess-rem2", &dir, "what is the NAS01 admin port"),
        )
        .expect("recalled");
    let context = context_of(&answer);
    assert!(
        context.contains("5001") && !context.contains("is 5000"),
        "{context}"
    );
}
