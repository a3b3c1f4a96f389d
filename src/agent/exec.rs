//! Runs one command: in its own process group (on Windows a job object),
//! with a timeout that ends the whole group, and stdout and stderr read
//! concurrently, each kept up to the output cap and drained (then dropped)
//! past it so the command never blocks on a full pipe.

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
    /// Windows' `cmd.exe` (`cmd /D /S /C`).
    Cmd,
}

impl Shell {
    pub fn as_str(self) -> &'static str {
        match self {
            Shell::Sh => "sh",
            Shell::Bash => "bash",
            Shell::Pwsh => "pwsh",
            Shell::Cmd => "cmd",
        }
    }

    pub fn parse(s: &str) -> Option<Shell> {
        match s {
            "sh" => Some(Shell::Sh),
            "bash" => Some(Shell::Bash),
            "pwsh" => Some(Shell::Pwsh),
            "cmd" => Some(Shell::Cmd),
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
/// joined by spaces as that shell's script. `cmd` takes its script as one
/// raw argument (see [`raw_script`]), not in this argv.
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
        Some(Shell::Cmd) => ("cmd".into(), vec!["/D".into(), "/S".into(), "/C".into()]),
    }
}

/// `cmd`'s script, quoted as `/S /C` reads it: the outer quotes are dropped
/// and the rest is the command line as typed. Passed as a raw argument,
/// since cmd does not undo the quoting other programs' argv gets.
fn raw_script(spec: &Spec<'_>) -> Option<String> {
    (spec.shell == Some(Shell::Cmd)).then(|| {
        let script = std::iter::once(spec.program)
            .chain(spec.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        format!("\"{script}\"")
    })
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

/// The processes of one command, ended together: its process group on
/// unix, a job object on Windows.
struct Group {
    #[cfg(unix)]
    pgid: u32,
    #[cfg(windows)]
    job: Option<job::Job>,
}

#[cfg(unix)]
fn kill_group(group: &Group, force: bool) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pid) = i32::try_from(group.pgid).ok().and_then(Pid::from_raw) {
        // ESRCH (the group is gone already) is what we want anyway.
        let _ = kill_process_group(pid, if force { Signal::KILL } else { Signal::TERM });
    }
}

/// Windows has no SIGTERM for a windowless process tree: the job is ended
/// at once, whatever `force` says.
#[cfg(windows)]
fn kill_group(group: &Group, _force: bool) {
    if let Some(job) = &group.job {
        job.terminate();
    }
}

#[cfg(not(any(unix, windows)))]
fn kill_group(_group: &Group, _force: bool) {}

/// A job object that ends every process in it when terminated, or when
/// msp closes it (exits, crashes, or is killed). Processes a command
/// starts are in its job too, detached ones included: the job allows no
/// breakaway.
#[cfg(windows)]
mod job {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };

    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used from any thread.
    unsafe impl Send for Job {}
    // SAFETY: the calls made through `&Job` are thread-safe kernel calls.
    unsafe impl Sync for Job {}

    impl Job {
        /// A new job holding `process` (a process handle), or none if
        /// Windows refuses (the agent then ends only the process itself).
        pub fn with(process: std::os::windows::io::RawHandle) -> Option<Job> {
            // SAFETY: no attributes, no name.
            let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if handle.is_null() {
                return None;
            }
            let job = Job(handle);
            // SAFETY: zeroed is a valid JOBOBJECT_EXTENDED_LIMIT_INFORMATION.
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            // SAFETY: the job made above and a struct of the size given.
            let set = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&info as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            // SAFETY: a live process handle owned by the caller's child.
            if set == 0 || unsafe { AssignProcessToJobObject(job.0, process as HANDLE) } == 0 {
                return None;
            }
            Some(job)
        }

        pub fn terminate(&self) {
            // SAFETY: the job's own handle.
            unsafe { TerminateJobObject(self.0, 1) };
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: closed once; KILL_ON_JOB_CLOSE ends what is left in it.
            unsafe { CloseHandle(self.0) };
        }
    }
}

/// The processes a command started that left its process group: with
/// `setsid`, a double fork, or a daemon. Linux only (it reads `/proc`).
///
/// The process running commands is a child subreaper, so a process whose
/// parent exits is re-parented to it rather than to init: every process of
/// a command stays below the command's own process, or becomes our child.
/// Each command's environment carries a token ([`RUN_TOKEN`]); a sweep
/// takes the command's process, our adopted children that carry its token,
/// and everything below them; it stops them all (SIGSTOP, so none can fork
/// away meanwhile), looks again, and kills them, until none is left.
#[cfg(target_os = "linux")]
mod tree {
    use std::collections::{HashMap, HashSet};

    use rustix::process::{Pid, Signal, WaitOptions, getpid, kill_process, waitpid};

    /// The processes of commands running now (more than one only in tests).
    static ROOTS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

    pub fn register(root: i32) {
        ROOTS.lock().unwrap_or_else(|p| p.into_inner()).push(root);
    }

    pub fn unregister(root: i32) {
        ROOTS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&r| r != root);
    }

    /// Whether `pid`'s environment holds `NAME=token`.
    fn carries(pid: i32, token: &str) -> bool {
        let want = format!("{}={token}", super::RUN_TOKEN);
        std::fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == want.as_bytes()))
    }

    /// Makes this process the reaper of its orphaned descendants. Once per
    /// process is enough; failing only loses the orphans that escape.
    pub fn become_subreaper() {
        let _ = rustix::process::set_child_subreaper(Some(getpid()));
    }

    struct Proc {
        ppid: i32,
        zombie: bool,
        start: u64,
    }

    /// pid -> (parent, zombie, start time) of every process we can see.
    fn table() -> HashMap<i32, Proc> {
        let mut procs = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return procs;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: comm may hold spaces and ')'.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            let (Some(state), Some(ppid), Some(start)) = (f.first(), f.get(1), f.get(19)) else {
                continue;
            };
            procs.insert(
                pid,
                Proc {
                    ppid: ppid.parse().unwrap_or(0),
                    zombie: *state == "Z" || *state == "X",
                    start: start.parse().unwrap_or(0),
                },
            );
        }
        procs
    }

    /// The live processes of the command whose process is `root`.
    fn members(root: i32, root_start: Option<u64>, token: &str) -> HashSet<i32> {
        let procs = table();
        let me = getpid().as_raw_nonzero().get();
        let others: Vec<i32> = ROOTS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .filter(|&r| r != root)
            .collect();
        let mut set: HashSet<i32> = HashSet::new();
        if procs
            .get(&root)
            .is_some_and(|p| p.ppid == me && root_start.is_none_or(|s| p.start == s))
        {
            set.insert(root);
        }
        // Our adopted orphans from this command.
        for (&pid, p) in &procs {
            if p.ppid == me && pid != root && !others.contains(&pid) && carries(pid, token) {
                set.insert(pid);
            }
        }
        // Everything below those.
        loop {
            let before = set.len();
            for (&pid, p) in &procs {
                if set.contains(&p.ppid) {
                    set.insert(pid);
                }
            }
            if set.len() == before {
                break;
            }
        }
        set.retain(|pid| procs.get(pid).is_some_and(|p| !p.zombie));
        set
    }

    /// The start time of `pid` (clock ticks since boot), for [`sweep`].
    pub fn start_of(pid: i32) -> Option<u64> {
        table().get(&pid).map(|p| p.start)
    }

    fn signal(pids: &HashSet<i32>, sig: Signal) {
        for &pid in pids {
            if let Some(pid) = Pid::from_raw(pid) {
                let _ = kill_process(pid, sig);
            }
        }
    }

    /// Sends SIGTERM to the command's processes outside its group too.
    pub fn terminate(root: i32, root_start: Option<u64>, token: &str) {
        signal(&members(root, root_start, token), Signal::TERM);
    }

    /// Kills every process of the command, then reaps the adopted ones.
    /// Returns how many were killed.
    pub fn sweep(root: i32, root_start: Option<u64>, token: &str) -> usize {
        let mut killed = HashSet::new();
        for _ in 0..20 {
            let found = members(root, root_start, token);
            if found.is_empty() {
                break;
            }
            signal(&found, Signal::STOP);
            // A fork that raced the stop shows up now.
            let found: HashSet<i32> = found
                .union(&members(root, root_start, token))
                .copied()
                .collect();
            signal(&found, Signal::STOP);
            signal(&found, Signal::KILL);
            killed.extend(found);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let me = getpid().as_raw_nonzero().get();
        let procs = table();
        let mut adopted: Vec<i32> = killed
            .iter()
            .copied()
            .filter(|&pid| pid != root && procs.get(&pid).is_some_and(|p| p.ppid == me))
            .collect();
        // SIGKILL is prompt, but not instant: wait up to a second for them.
        for _ in 0..100 {
            adopted.retain(|&pid| {
                let Some(p) = Pid::from_raw(pid) else {
                    return false;
                };
                matches!(waitpid(Some(p), WaitOptions::NOHANG), Ok(None))
            });
            if adopted.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Stuck ones (uninterruptible sleep) are reaped by a later run.
        ADOPTED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(adopted);
        killed.len()
    }

    /// Our adopted children from commands (pids), reaped once they end.
    static ADOPTED: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

    /// Notes the command's adopted children that still run (daemons it
    /// left), so they are reaped when they end instead of staying zombies.
    pub fn adopt(root: i32, token: &str) {
        let me = getpid().as_raw_nonzero().get();
        let mut adopted = ADOPTED.lock().unwrap_or_else(|p| p.into_inner());
        for (pid, p) in table() {
            if p.ppid == me && pid != root && !adopted.contains(&pid) && carries(pid, token) {
                adopted.push(pid);
            }
        }
    }

    /// Reaps the adopted children that have ended. Only those: the
    /// processes of running commands are their owners' to wait for.
    pub fn reap_adopted() {
        ADOPTED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&pid| {
                Pid::from_raw(pid)
                    .is_some_and(|p| matches!(waitpid(Some(p), WaitOptions::NOHANG), Ok(None)))
            });
    }
}

/// Signals the command's processes that left its group (see [`tree`]):
/// SIGTERM, or with `force` a kill sweep until none is left.
fn kill_escaped(root: u32, root_start: Option<u64>, token: &str, force: bool) {
    #[cfg(target_os = "linux")]
    if let Ok(root) = i32::try_from(root) {
        if force {
            tree::sweep(root, root_start, token);
        } else {
            tree::terminate(root, root_start, token);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (root, root_start, token, force);
}

/// Marks every process of one command (inherited by what it starts), so
/// the sweep finds those that left its group and lost their parent.
const RUN_TOKEN: &str = "MSP_AGENT_RUN";

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
    #[cfg(windows)]
    if let Some(script) = raw_script(spec) {
        cmd.raw_arg(script);
    }
    #[cfg(not(windows))]
    let _ = raw_script;
    #[cfg(windows)]
    cmd.creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW);
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
            if let Some(home) = crate::config::home_dir() {
                cmd.current_dir(home);
            }
        }
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let token = crate::ids::new_id();
    cmd.env(RUN_TOKEN, &token);
    #[cfg(target_os = "linux")]
    {
        tree::become_subreaper();
        tree::reap_adopted();
    }
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
    // Assigned right after the start, before the child is likely to have
    // started anything of its own (a process started in that first instant
    // would be outside the job).
    #[cfg(windows)]
    let group = Group {
        job: child.raw_handle().and_then(job::Job::with),
    };
    #[cfg(unix)]
    let group = Group { pgid };
    #[cfg(not(any(unix, windows)))]
    let group = Group {};
    #[cfg(target_os = "linux")]
    let root_start = i32::try_from(pgid).ok().and_then(|root| {
        tree::register(root);
        tree::start_of(root)
    });
    #[cfg(not(target_os = "linux"))]
    let root_start = None;
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
            kill_group(&group, false);
            kill_escaped(pgid, root_start, &token, false);
            let status = tokio::time::timeout(KILL_GRACE, child.wait())
                .await
                .ok()
                .and_then(Result::ok);
            // Whatever of the group is left (the leader may have exited on
            // SIGTERM while its children did not), and whatever left it.
            kill_group(&group, true);
            kill_escaped(pgid, root_start, &token, true);
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
        kill_group(&group, true);
        kill_escaped(pgid, root_start, &token, true);
        let _ = tokio::time::timeout(READ_GRACE, async {
            while readers.join_next().await.is_some() {}
        })
        .await;
        readers.abort_all();
    }
    #[cfg(target_os = "linux")]
    if let Ok(root) = i32::try_from(pgid) {
        tree::adopt(root, &token);
        tree::unregister(root);
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

    /// Whether `pid` still runs (a zombie does not count).
    fn alive(pid: i32) -> bool {
        rustix::process::Pid::from_raw(pid)
            .is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
    }

    fn pids_in(dir: &std::path::Path) -> Vec<i32> {
        let mut pids = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            pids.extend(
                text.split_whitespace()
                    .filter_map(|t| t.parse::<i32>().ok()),
            );
        }
        pids
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn timeout_leaves_no_detached_survivor() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // One escapee keeps the output pipe, one closes it and forks again,
        // one double-forks through a subshell.
        let script = format!(
            "setsid sh -c 'echo $$ > {d}/a; sleep 300' & \
             setsid sh -c 'sleep 300 & echo $! > {d}/b; echo $$ >> {d}/b; wait' >/dev/null 2>&1 </dev/null & \
             ( ( setsid sleep 300 & echo $! > {d}/c ) & ) ; \
             sleep 300"
        );
        let args: Vec<String> = vec!["-c".into(), script];
        let f = run(
            &Spec {
                timeout: Duration::from_millis(500),
                ..spec("sh", &args)
            },
            never(),
        )
        .await;
        assert_eq!(f.ending, Ending::TimedOut);
        let pids = pids_in(dir.path());
        assert_eq!(pids.len(), 4, "every escapee wrote its pid: {pids:?}");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while pids.iter().any(|&p| alive(p)) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let survivors: Vec<i32> = pids.into_iter().filter(|&p| alive(p)).collect();
        assert!(survivors.is_empty(), "survived the timeout: {survivors:?}");
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
