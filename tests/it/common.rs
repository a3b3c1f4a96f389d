//! Harness for the integration tests: runs the built `msp` binary as a
//! process against a private temp HOME, data dir and config dir, with no
//! inherited `MSP_*` variables and stdin closed.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

pub const MSP: &str = env!("CARGO_BIN_EXE_msp");
pub const RECALL: &str = env!("CARGO_BIN_EXE_msp-recall");
pub const SAVE: &str = env!("CARGO_BIN_EXE_msp-save");

/// One isolated msp installation. Everything lives under `root`:
/// `root/home` (HOME), `root/data` (MSP_DATA_DIR), `root/config` (MSP_CONFIG_DIR).
pub struct Env {
    _tmp: TempDir,
    /// Canonical path of the temp dir (so it compares equal to what msp stores).
    pub root: PathBuf,
    pub home: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
    /// Extra variables for every command of this env, e.g. a different MSP_DATA_DIR.
    vars: Vec<(String, String)>,
}

/// What a finished `msp` process left behind.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Out {
    /// Stdout parsed as exactly one JSON value (trailing text is an error).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`msp {}` stdout is not one JSON value ({e}):\n{}",
                self.args.join(" "),
                self.stdout
            )
        })
    }

    /// Asserts the exit code, showing the whole output when it differs.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            code,
            "`msp {}` exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts a failure with the given code whose stderr carries a `hint:` line.
    #[track_caller]
    pub fn expect_hint(self, code: i32) -> Self {
        let out = self.expect_code(code);
        assert!(
            out.stderr.lines().any(|l| l.starts_with("hint: ")),
            "`msp {}` failed without a `hint:` line:\n{}",
            out.args.join(" "),
            out.stderr
        );
        out
    }
}

/// Windows: `C:\x` for the `\\?\C:\x` that canonicalize gives, as msp
/// spells the directories it stores.
fn plain(p: PathBuf) -> PathBuf {
    if !cfg!(windows) {
        return p;
    }
    let s = p.to_string_lossy();
    PathBuf::from(s.strip_prefix(r"\\?\").unwrap_or(&s))
}

impl Env {
    /// A fresh environment without a store (nothing has run yet).
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = plain(tmp.path().canonicalize().expect("canonical temp dir"));
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Env {
            data: root.join("data"),
            config: root.join("config"),
            home,
            root,
            _tmp: tmp,
            vars: Vec::new(),
        }
    }

    /// A fresh environment after a successful `msp setup`.
    pub fn setup() -> Env {
        let env = Env::new();
        env.ok(&["setup"]);
        env
    }

    /// Sets a variable for every later command of this env.
    pub fn set_var(&mut self, key: &str, value: impl AsRef<OsStr>) {
        self.vars.push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
    }

    /// A path under the env's root.
    pub fn path(&self, rel: &str) -> PathBuf {
        // One separator, as msp stores directories.
        self.root
            .join(rel.replace('/', std::path::MAIN_SEPARATOR_STR))
    }

    /// A directory under the env's root, created.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let d = self.path(rel);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The configured command, not yet run: cwd is `root`, stdin is null.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        self.command_of(MSP, args)
    }

    /// `bin` (msp or a hook binary) configured like every command of this env.
    pub fn command_of<S: AsRef<OsStr>>(&self, bin: &str, args: &[S]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MSP_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", &self.home)
            // Windows reads the home and user from these.
            .env("USERPROFILE", &self.home)
            .env("USERNAME", "tech")
            .env("USER", "tech")
            .env("MSP_DATA_DIR", &self.data)
            .env("MSP_CONFIG_DIR", &self.config)
            // Day boundaries in reports are local: make them deterministic.
            .env("TZ", "UTC")
            // No encoder download in `msp setup`: the tests that need the
            // encoder install it from the test wheel (tests/it/embed.rs).
            .env("MSP_MEMORY_MODEL_URL", "")
            .current_dir(&self.root)
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts `msp` without waiting, stdout and stderr piped.
    pub fn spawn<S: AsRef<OsStr>>(&self, args: &[S]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn msp")
    }

    pub fn msp<S: AsRef<OsStr>>(&self, args: &[S]) -> Out {
        run(self.command(args), args)
    }

    /// Runs `msp` with `dir` as the current directory.
    pub fn msp_in<S: AsRef<OsStr>>(&self, dir: &Path, args: &[S]) -> Out {
        let mut cmd = self.command(args);
        cmd.current_dir(dir);
        run(cmd, args)
    }

    /// Runs `msp` with extra environment variables.
    pub fn msp_with<S: AsRef<OsStr>>(&self, vars: &[(&str, &str)], args: &[S]) -> Out {
        let mut cmd = self.command(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        run(cmd, args)
    }

    /// Runs `msp` and asserts exit 0.
    #[track_caller]
    pub fn ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Out {
        self.msp(args).expect_code(0)
    }

    /// Runs `msp --json ARGS`, asserts exit 0 and parses stdout.
    #[track_caller]
    pub fn json<S: AsRef<OsStr>>(&self, args: &[S]) -> Value {
        let mut all: Vec<&OsStr> = vec![OsStr::new("--json")];
        all.extend(args.iter().map(AsRef::as_ref));
        self.msp(&all).expect_code(0).json()
    }

    /// `msp --json session add --from FROM --to TO EXTRA...`, exit 0, parsed:
    /// past work recorded after the fact.
    #[track_caller]
    pub fn add_session(&self, from: &str, to: &str, extra: &[&str]) -> Value {
        let mut args = vec!["session", "add", "--from", from, "--to", to];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    /// `msp --json context add --title TITLE --body BODY EXTRA...`, exit 0,
    /// parsed: a memory written by hand.
    #[track_caller]
    pub fn remember(&self, title: &str, body: &str, extra: &[&str]) -> Value {
        let mut args = vec!["context", "add", "--title", title, "--body", body];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    /// `msp --json ARGS` run in `dir`, exit 0, parsed.
    #[track_caller]
    pub fn json_in<S: AsRef<OsStr>>(&self, dir: &Path, args: &[S]) -> Value {
        let mut all: Vec<&OsStr> = vec![OsStr::new("--json")];
        all.extend(args.iter().map(AsRef::as_ref));
        self.msp_in(dir, &all).expect_code(0).json()
    }
}

/// Collects a spawned process's outcome (for processes started with [`Env::spawn`]).
impl Env {
    /// Runs `msp ARGS` with `input` on stdin (secrets never go in argv).
    pub fn msp_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: &str) -> Out {
        run_stdin(self.command(args), args, input.as_bytes())
    }

    /// Runs hook binary `bin` ([`RECALL`] or [`SAVE`]) with extra variables
    /// and `event` on stdin; a hook always exits 0, so that is asserted.
    #[track_caller]
    pub fn hook(&self, bin: &str, vars: &[(&str, &str)], event: &Value) -> Out {
        let mut cmd = self.command_of::<&str>(bin, &[]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        run_stdin(cmd, &[bin], event.to_string().as_bytes()).expect_code(0)
    }
}

/// Runs a prepared command with `input` on stdin, stdout and stderr piped.
pub fn run_stdin<S: AsRef<OsStr>>(mut cmd: Command, args: &[S], input: &[u8]) -> Out {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn msp");
    // A command may exit before reading all of its input.
    let _ = child.stdin.take().unwrap().write_all(input);
    let output = child.wait_with_output().expect("wait for msp");
    to_out(output, args)
}

impl Env {
    /// Runs `msp ARGS` with extra variables; kills it and fails the test if
    /// it is still running after `limit` (a command that must not hang).
    #[track_caller]
    pub fn msp_within<S: AsRef<OsStr>>(
        &self,
        vars: &[(&str, &str)],
        args: &[S],
        limit: std::time::Duration,
    ) -> Out {
        let mut cmd = self.command(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        run_within(cmd, args, limit)
    }
}

/// Runs a prepared command; kills it and fails the test if it is still
/// running after `limit` (a command that must not hang).
#[track_caller]
pub fn run_within<S: AsRef<OsStr>>(
    mut cmd: Command,
    args: &[S],
    limit: std::time::Duration,
) -> Out {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn msp");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait for msp").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
            panic!(
                "`msp {}` still running after {limit:?}: it hangs",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("wait for msp");
    to_out(output, args)
}

/// Creates a FIFO (named pipe) at `path`.
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf-8 path")).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

pub fn finish(child: Child, args: &[&str]) -> Out {
    let output = child.wait_with_output().expect("wait for msp");
    to_out(output, args)
}

fn run<S: AsRef<OsStr>>(mut cmd: Command, args: &[S]) -> Out {
    // A process that could not be created never ran: trying again changes
    // nothing it did. Wine's process creation fails now and then under load
    // (ERROR_INTERNAL_ERROR, 1359) before msp starts.
    let mut tries = 0;
    let output = loop {
        match cmd.output() {
            Ok(output) => break output,
            Err(e) if tries < 2 && e.kind() != std::io::ErrorKind::NotFound => {
                tries += 1;
                eprintln!("could not start msp ({e}); trying again");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => panic!("run msp: {e:?}"),
        }
    };
    to_out(output, args)
}

fn to_out<S: AsRef<OsStr>>(output: std::process::Output, args: &[S]) -> Out {
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        args: args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect(),
    }
}

/// The permission bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Asserts that the file at `path` is its owner's only (mode 0600).
#[track_caller]
pub fn assert_owner_only(path: &Path) {
    #[cfg(unix)]
    assert_eq!(mode(path), 0o600, "mode of {}", path.display());
    #[cfg(not(unix))]
    let _ = path;
}

/// Asserts that each key of the object `want` has that value in `v` (a
/// null stands for a missing key too); other keys of `v` are not looked at.
#[track_caller]
pub fn assert_fields(v: &Value, want: Value) {
    for (key, value) in want.as_object().expect("want is a JSON object") {
        assert_eq!(&v[key], value, "{key} in {v}");
    }
}

/// Asserts that `text` contains `part`, showing the whole text when not.
#[track_caller]
pub fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "expected {part:?} in:\n{text}");
}

/// Asserts that `text` does not contain `part`, showing the whole text when it does.
#[track_caller]
pub fn assert_lacks(text: &str, part: &str) {
    assert!(!text.contains(part), "unexpected {part:?} in:\n{text}");
}

/// `%` and `_` in a short id are no LIKE wildcards: `msp VERB KEY` finds
/// nothing (exit 3 with a hint) for keys that, taken as wildcards, would
/// match `id` around its last `tail` characters.
#[track_caller]
pub fn assert_no_wildcard_match(env: &Env, verb: &[&str], id: &str, tail: usize) {
    let t = &id[id.len() - tail..];
    let percents = "%".repeat(6 - tail);
    let underscores = "_".repeat(8 - tail);
    for key in [
        format!("%{t}{percents}"),
        format!("{underscores}{t}"),
        "%%%%%%".into(),
    ] {
        let mut args = verb.to_vec();
        args.push(&key);
        env.msp(&args).expect_hint(3);
    }
}

/// The check named `name` of a `msp --json doctor` report.
#[track_caller]
pub fn doctor_check<'a>(report: &'a Value, name: &str) -> &'a Value {
    array(&report["checks"])
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

/// The array inside a JSON value, or a panic naming what was expected.
#[track_caller]
pub fn array(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {v}"))
}

/// `v[key]` as a string, or a panic.
#[track_caller]
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("expected a string at {key:?} in {v}"))
}

/// A temp path as the `&str` argument msp takes.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A set-up env with client "Acme Corp" whose project `acme-site` is linked
/// to `root/work/acme`; returns the env and that directory.
pub fn acme() -> (Env, PathBuf) {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    let dir = env.dir("work/acme");
    env.ok(&[
        "project",
        "add",
        "acme-site",
        "--client",
        "acme-corp",
        "--path",
        s(&dir),
    ]);
    (env, dir)
}

/// A single-threaded runtime for the tests that reach into a store with sqlx.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    rt().block_on(f)
}

/// A connection to an existing store file (never creates one).
pub async fn connect(path: &Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false);
    sqlx::SqliteConnection::connect_with(&opts)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Runs SQL on a store file directly (for states no command makes).
pub fn sqlite_exec(path: &Path, sql: &str) {
    block_on(async {
        use sqlx::Connection;
        let mut c = connect(path).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.close().await.unwrap();
    });
}

/// Runs `body` while a connection to the store file holds what `sql` left
/// open (a write lock, or just the connection keeping the WAL); the
/// connection is closed after, which rolls back an open transaction.
pub fn while_holding<R>(path: &Path, sql: &str, body: impl FnOnce() -> R) -> R {
    use sqlx::Connection;
    let rt = rt();
    let conn = rt.block_on(async {
        let mut c = connect(path).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c
    });
    let out = body();
    rt.block_on(conn.close()).unwrap();
    out
}

/// One integer the SQL query returns from a store file.
pub fn sqlite_i64(path: &Path, sql: &str) -> i64 {
    block_on(async {
        let mut c = connect(path).await;
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

impl Env {
    /// The env's store file.
    pub fn db(&self) -> PathBuf {
        self.data.join("msp.db")
    }

    /// Runs SQL on the env's store directly (for states no command makes).
    pub fn sql(&self, sql: &str) {
        sqlite_exec(&self.db(), sql)
    }

    /// One integer the SQL query returns, read straight from the store.
    pub fn sql_i64(&self, sql: &str) -> i64 {
        sqlite_i64(&self.db(), sql)
    }
}
