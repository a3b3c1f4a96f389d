//! Runs one command: in its own process group, with a timeout that ends the
//! whole group, and stdout and stderr read concurrently, each kept up to the
//! output cap and drained (then dropped) past it so the command never blocks
//! on a full pipe.

use std::future::Future;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::config::env;

/// Time a command gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long output is still read after the process group was killed.
const READ_GRACE: Duration = Duration::from_secs(1);

/// The shells `--shell` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Sh,
    Bash,
    Pwsh,
}

impl Shell {
    pub fn as_str(self) -> &'static str {
        match self {
            Shell::Sh => "sh",
            Shell::Bash => "bash",
            Shell::Pwsh => "pwsh",
        }
    }

    pub fn parse(s: &str) -> Option<Shell> {
        match s {
            "sh" => Some(Shell::Sh),
            "bash" => Some(Shell::Bash),
            "pwsh" => Some(Shell::Pwsh),
            _ => None,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub shell: Option<Shell>,
    pub cwd: Option<&'a str>,
    pub timeout: Duration,
    /// Bytes kept per stream.
    pub max_output: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The process exited by itself (any exit code).
    Exited,
    /// The timeout ended it (the whole process group was killed).
    TimedOut,
    /// The agent was asked to stop (the whole process group was killed).
    Interrupted,
    /// It could not be started.
    NotStarted,
}

#[derive(Debug)]
pub struct Finished {
    pub ending: Ending,
    /// The exit code, or 128 + signal number when a signal ended it.
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Output past the cap was dropped.
    pub truncated: bool,
    /// Why it could not be started.
    pub error: Option<String>,
    pub duration: Duration,
}

/// Program and argv: the arguments as given, or, with a shell, `CMD ARGS`
/// joined by spaces as that shell's script.
fn command_line(spec: &Spec<'_>) -> (String, Vec<String>) {
    let script = || {
        std::iter::once(spec.program)
            .chain(spec.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match spec.shell {
        None => (spec.program.to_string(), spec.args.to_vec()),
        Some(Shell::Sh) => ("sh".into(), vec!["-c".into(), script()]),
        Some(Shell::Bash) => ("bash".into(), vec!["-c".into(), script()]),
        Some(Shell::Pwsh) => (
            "pwsh".into(),
            vec![
                "-NoProfile".into(),
                "-NonInteractive".into(),
                "-Command".into(),
                script(),
            ],
        ),
    }
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads `from` to its end, keeping at most `cap` bytes.
async fn capture(mut from: impl AsyncRead + Unpin, cap: usize, into: Arc<Mutex<Captured>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut c = into.lock().unwrap_or_else(|p| p.into_inner());
        let room = cap.saturating_sub(c.bytes.len());
        if n > room {
            c.truncated = true;
        }
        c.bytes.extend_from_slice(&buf[..n.min(room)]);
    }
}

fn exit_code(status: ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.code().or_else(|| status.signal().map(|s| 128 + s))
    }
    #[cfg(not(unix))]
    {
        status.code()
    }
}

#[cfg(unix)]
fn kill_group(pgid: u32, force: bool) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
        // ESRCH (the group is gone already) is what we want anyway.
        let _ = kill_process_group(pid, if force { Signal::KILL } else { Signal::TERM });
    }
}

#[cfg(not(unix))]
fn kill_group(_pgid: u32, _force: bool) {}

/// msp's own variables a command may see: where the store, the config and
/// the vault's key file are (paths, so an `msp` in the command finds the
/// same store). The rest of `MSP_*` (the vault passphrases, the team
/// store's URL with its password, settings) is msp's business, not the
/// command's.
const MSP_ENV_PASSED: &[&str] = &[env::DATA_DIR, env::CONFIG_DIR, env::VAULT_KEY_FILE];

/// The variables of `names` withheld from a command.
fn msp_env_withheld(
    names: impl Iterator<Item = std::ffi::OsString>,
) -> impl Iterator<Item = std::ffi::OsString> {
    names.filter(|name| {
        let bytes = name.as_encoded_bytes();
        bytes.len() >= 4
            && bytes[..4].eq_ignore_ascii_case(b"MSP_")
            && !MSP_ENV_PASSED.iter().any(|p| p.as_bytes() == bytes)
    })
}

/// Runs `spec`; `stop` resolving means the agent is shutting down.
pub async fn run(spec: &Spec<'_>, stop: impl Future<Output = ()>) -> Finished {
    let started = Instant::now();
    let (program, args) = command_line(spec);
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args);
    for name in msp_env_withheld(std::env::vars_os().map(|(k, _)| k)) {
        cmd.env_remove(name);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match spec.cwd {
        Some(dir) => {
            cmd.current_dir(dir);
        }
        None => {
            if let Some(home) = dirs::home_dir() {
                cmd.current_dir(home);
            }
        }
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let what = match spec.cwd {
                Some(dir) if !std::path::Path::new(dir).is_dir() => {
                    format!("the working directory {dir} does not exist")
                }
                _ => format!("cannot start {program}: {e}"),
            };
            return Finished {
                ending: Ending::NotStarted,
                exit_code: None,
                stdout: Vec::new(),
                stderr: Vec::new(),
                truncated: false,
                error: Some(what),
                duration: started.elapsed(),
            };
        }
    };
    let pgid = child.id().unwrap_or(0);
    let out = Arc::new(Mutex::new(Captured::default()));
    let err = Arc::new(Mutex::new(Captured::default()));
    let mut readers = tokio::task::JoinSet::new();
    if let Some(s) = child.stdout.take() {
        readers.spawn(capture(s, spec.max_output, out.clone()));
    }
    if let Some(s) = child.stderr.take() {
        readers.spawn(capture(s, spec.max_output, err.clone()));
    }
    let deadline = tokio::time::Instant::from_std(started + spec.timeout);

    enum End {
        Exited(std::io::Result<ExitStatus>),
        TimedOut,
        Stopped,
    }
    tokio::pin!(stop);
    let end = tokio::select! {
        s = child.wait() => End::Exited(s),
        _ = tokio::time::sleep_until(deadline) => End::TimedOut,
        _ = &mut stop => End::Stopped,
    };
    let (ending, status) = match end {
        End::Exited(s) => (Ending::Exited, s.ok()),
        End::TimedOut | End::Stopped => {
            kill_group(pgid, false);
            let status = tokio::time::timeout(KILL_GRACE, child.wait())
                .await
                .ok()
                .and_then(Result::ok);
            // Whatever of the group is left (the leader may have exited on
            // SIGTERM while its children did not).
            kill_group(pgid, true);
            let status = match status {
                Some(s) => Some(s),
                None => child.wait().await.ok(),
            };
            let ending = if matches!(end, End::TimedOut) {
                Ending::TimedOut
            } else {
                Ending::Interrupted
            };
            (ending, status)
        }
    };
    // Output ends when every holder of the pipes is gone: wait for that
    // until the deadline (a background process of the command may hold
    // them), then end the group and stop reading.
    let read_until = match ending {
        Ending::Exited => deadline.max(tokio::time::Instant::now()),
        _ => tokio::time::Instant::now() + READ_GRACE,
    };
    let all_read = tokio::time::timeout_at(read_until, async {
        while readers.join_next().await.is_some() {}
    })
    .await;
    if all_read.is_err() {
        kill_group(pgid, true);
        let _ = tokio::time::timeout(READ_GRACE, async {
            while readers.join_next().await.is_some() {}
        })
        .await;
        readers.abort_all();
    }
    let take = |c: &Arc<Mutex<Captured>>| {
        let mut c = c.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut c.bytes), c.truncated)
    };
    let (stdout, t_out) = take(&out);
    let (stderr, t_err) = take(&err);
    Finished {
        ending,
        exit_code: status.and_then(exit_code),
        stdout,
        stderr,
        truncated: t_out || t_err,
        error: None,
        duration: started.elapsed(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn spec<'a>(program: &'a str, args: &'a [String]) -> Spec<'a> {
        Spec {
            program,
            args,
            shell: None,
            cwd: None,
            timeout: Duration::from_secs(20),
            max_output: 1 << 20,
        }
    }

    fn never() -> impl Future<Output = ()> {
        std::future::pending()
    }

    #[tokio::test]
    async fn arguments_reach_the_program_as_argv_without_a_shell() {
        let args: Vec<String> = ["%s|", "a b", "$HOME", ";echo injected"]
            .map(String::from)
            .to_vec();
        let f = run(&spec("printf", &args), never()).await;
        assert_eq!(f.ending, Ending::Exited);
        assert_eq!(f.exit_code, Some(0));
        assert_eq!(
            String::from_utf8_lossy(&f.stdout),
            "a b|$HOME|;echo injected|"
        );
    }

    #[tokio::test]
    async fn with_a_shell_command_and_args_are_the_script() {
        let args: Vec<String> = ["$((40+2));", "exit", "3"].map(String::from).to_vec();
        let f = run(
            &Spec {
                shell: Some(Shell::Sh),
                ..spec("echo", &args)
            },
            never(),
        )
        .await;
        assert_eq!(String::from_utf8_lossy(&f.stdout), "42\n");
        assert_eq!(f.exit_code, Some(3));
    }

    #[tokio::test]
    async fn output_past_the_cap_is_dropped_and_flagged_while_the_command_finishes() {
        let args: Vec<String> = ["-c", "head -c 300000 /dev/zero; echo done >&2"]
            .map(String::from)
            .to_vec();
        let f = run(
            &Spec {
                max_output: 1000,
                ..spec("sh", &args)
            },
            never(),
        )
        .await;
        assert_eq!(f.ending, Ending::Exited);
        assert_eq!(f.exit_code, Some(0));
        assert_eq!(f.stdout.len(), 1000);
        assert!(f.truncated);
        assert_eq!(String::from_utf8_lossy(&f.stderr), "done\n");
    }

    #[tokio::test]
    async fn timeout_ends_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("bg.pid");
        let script = format!("sleep 60 & echo $! > '{}'; sleep 60", pidfile.display());
        let args: Vec<String> = vec!["-c".into(), script];
        let f = run(
            &Spec {
                timeout: Duration::from_millis(300),
                ..spec("sh", &args)
            },
            never(),
        )
        .await;
        assert_eq!(f.ending, Ending::TimedOut);
        assert_eq!(f.exit_code, Some(128 + 15));
        let bg: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let pid = rustix::process::Pid::from_raw(bg).unwrap();
        // The background child is gone (or a zombie waiting for init). The
        // signal was sent to it; on a busy machine it may take a moment to die.
        let alive = || {
            rustix::process::test_kill_process(pid).is_ok()
                && !std::fs::read_to_string(format!("/proc/{bg}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(), "background process {bg} survived the timeout");
    }

    #[test]
    fn msp_secrets_in_the_agents_environment_are_withheld_from_the_command() {
        let names = [
            "MSP_VAULT_PASSPHRASE",
            "MSP_VAULT_NEW_PASSPHRASE",
            "MSP_SYNC_URL",
            "msp_sync_url",
            "MSP_TICKETS_TIMEOUT_SECS",
            "MSP_DATA_DIR",
            "MSP_CONFIG_DIR",
            "MSP_VAULT_KEY_FILE",
            "PATH",
            "HOME",
            "MSPX",
        ];
        let withheld: Vec<String> = msp_env_withheld(names.iter().map(std::ffi::OsString::from))
            .map(|n| n.into_string().unwrap())
            .collect();
        assert_eq!(
            withheld,
            [
                "MSP_VAULT_PASSPHRASE",
                "MSP_VAULT_NEW_PASSPHRASE",
                "MSP_SYNC_URL",
                "msp_sync_url",
                "MSP_TICKETS_TIMEOUT_SECS"
            ]
        );
    }

    #[tokio::test]
    async fn a_command_reading_stdin_gets_end_of_input_instead_of_waiting_for_the_timeout() {
        let args: Vec<String> = vec!["-c".into(), "cat; echo eof".into()];
        let f = run(&spec("sh", &args), never()).await;
        assert_eq!(f.ending, Ending::Exited);
        assert_eq!(String::from_utf8_lossy(&f.stdout), "eof\n");
    }

    #[tokio::test]
    async fn stop_interrupts_and_a_missing_program_is_reported() {
        let args: Vec<String> = vec!["60".into()];
        let f = run(&spec("sleep", &args), async {}).await;
        assert_eq!(f.ending, Ending::Interrupted);
        let f = run(&spec("/nonexistent/program", &[]), never()).await;
        assert_eq!(f.ending, Ending::NotStarted);
        assert!(f.error.unwrap().contains("cannot start"));
    }
}
