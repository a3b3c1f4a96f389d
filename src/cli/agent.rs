use std::io::Write;
use std::time::{Duration, Instant};

use clap::Subcommand;

use super::{Ctx, local_time, note, or_dash, print_json};
use crate::agent::exec::Shell;
use crate::agent::runner::{self, Outcome, Stop};
use crate::agent::{self, CommandView, ExecRequest, Status};
use crate::error::{Error, ExitStatus, Result};
use crate::ids;
use crate::machine;
use crate::store::Db;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Queue a signed command for a machine (prints its id; --wait prints its result)
    #[command(after_help = "\
Arguments after `--` travel as an argv array: no shell sees them. With --shell, COMMAND and ARGS \
are joined with spaces into one script for that shell (sh -c, bash -c, pwsh -Command, cmd /D /S /C).

With --wait the exit code is the command's own; 124 when it timed out. For `self`, when no \
`msp agent run` is running, the command runs right here through the same verify and execute path.")]
    Exec {
        /// `self`, an id, a friendly name or a hostname
        machine: String,
        /// Time the command may run; then its whole process group is ended
        #[arg(long, default_value = "30s", value_parser = parse_duration_flag)]
        timeout: Duration,
        /// Output kept per stream (stdout, stderr); the rest is dropped and flagged truncated
        #[arg(long, default_value = "1MiB", value_parser = parse_size_flag)]
        max_output: u64,
        /// Not run when the target takes it up later than this after now
        #[arg(long, default_value = "1h", value_parser = parse_duration_flag)]
        expires: Duration,
        /// Run COMMAND ARGS as a script of this shell
        #[arg(long, value_enum)]
        shell: Option<Shell>,
        /// Working directory on the target (default: the agent user's home)
        #[arg(long)]
        cwd: Option<String>,
        /// Wait for the result, print its output, exit with its exit code
        #[arg(long)]
        wait: bool,
        /// COMMAND ARGS...
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// On the target: sync, then verify, run and record the commands addressed to it
    Run {
        /// One pass, then exit
        #[arg(long)]
        once: bool,
        /// Time between passes
        #[arg(long, default_value = "5s", value_parser = parse_duration_flag)]
        interval: Duration,
    },
    /// Commands and their status, newest first
    List {
        /// Only commands for this machine
        #[arg(long)]
        machine: Option<String>,
        /// Only commands in this state
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// At most this many commands, newest first (0: all)
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One command: status, exit code, output, who requested it from where
    Show {
        /// Command id (full, or the short id `msp agent list` shows)
        id: String,
    },
    /// Approve a command for a machine that requires approval (from another machine than the requester's)
    Approve {
        /// Command id (full, or the short id `msp agent list` shows)
        id: String,
    },
    /// Every request, approval, pickup, verification failure, execution and result
    Audit {
        /// Only this command
        #[arg(long)]
        command: Option<String>,
    },
}

fn parse_duration_flag(s: &str) -> std::result::Result<Duration, String> {
    // Keeps absurd numbers away from the calendar arithmetic.
    if s.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() > 9)
    {
        return Err(format!(
            "{s:?} is too long a duration: --timeout is at most {} days, --expires {} days",
            agent::MAX_TIMEOUT.as_secs() / 86_400,
            agent::MAX_EXPIRES.as_secs() / 86_400
        ));
    }
    crate::time::parse_duration(s)
        .and_then(|d| d.to_std().ok())
        .ok_or_else(|| format!("cannot read {s:?} as a duration (e.g. 30s, 10m, 1h30m, 1d)"))
}

fn parse_size_flag(s: &str) -> std::result::Result<u64, String> {
    agent::parse_size(s)
        .ok_or_else(|| format!("cannot read {s:?} as a size (e.g. 1MiB, 512KiB, 64k, 10000)"))
}

/// How often `exec --wait` looks for the result.
const WAIT_POLL: Duration = Duration::from_millis(250);
/// How often `exec --wait` syncs while waiting for another machine.
const WAIT_SYNC: Duration = Duration::from_secs(1);
/// Shortest pause between two agent passes.
const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// How long `exec --wait` keeps waiting past the command's expiry and timeout.
const WAIT_SLACK: Duration = Duration::from_secs(60);

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let code = match cmd {
        Cmd::Exec {
            machine,
            timeout,
            max_output,
            expires,
            shell,
            cwd,
            wait,
            command,
        } => {
            let mut command = command.into_iter();
            let req = ExecRequest {
                target: machine,
                program: command.next().unwrap_or_default(),
                args: command.collect(),
                shell,
                cwd,
                timeout,
                max_output,
                expires_in: expires,
            };
            exec(ctx, db, &req, wait).await?
        }
        Cmd::Run { once, interval } => run_agent(ctx, db, once, interval).await?,
        Cmd::List {
            machine,
            status,
            limit,
        } => {
            let list = agent::list(db, machine.as_deref(), status, super::sql_limit(limit)).await?;
            ctx.list(&list, |t| {
                t.col("ID", |v| v.short_id.clone())
                    .col("STATUS", |v| v.status.as_str().to_string())
                    .col("EXIT", |v| {
                        v.exit_code.map_or("-".into(), |c| c.to_string())
                    })
                    .col("TARGET", |v| v.target.clone())
                    .col("FROM", |v| format!("{}@{}", v.requested_by, v.requester))
                    .col("CREATED", |v| local_time(&v.created_at))
                    .col("COMMAND", |v| v.command_line());
            })?;
            ExitStatus::Success
        }
        Cmd::Show { id } => {
            let v = agent::show(db, &id).await?;
            ctx.print(&v, show)?;
            ExitStatus::Success
        }
        Cmd::Approve { id } => {
            let a = agent::approve(db, &ctx.paths.data_dir, &id).await?;
            let pushed = sync_now(ctx, db, &mut None).await;
            ctx.print(&a, |a| {
                format!(
                    "approved {}{}",
                    ids::short_id(&a.command_id),
                    if a.created { "" } else { " (already)" }
                )
            })?;
            if !pushed {
                ctx.tell("note: the approval reaches the target with the next `msp sync`");
            }
            ExitStatus::Success
        }
        Cmd::Audit { command } => {
            let log = agent::audit_log(db, command.as_deref()).await?;
            ctx.list(&log, |t| {
                t.col("AT", |e| local_time(&e.at))
                    .col("MACHINE", |e| e.machine.clone())
                    .col("COMMAND", |e| ids::short_id(&e.command_id).to_string())
                    .col("EVENT", |e| e.event.clone())
                    .col("DETAIL", |e| e.detail.clone());
            })?;
            ExitStatus::Success
        }
    };
    store.close().await?;
    Ok(code)
}

/// Syncs if a team store is configured; false when it did not (or failed).
/// A failure is told once until it changes or sync works again.
async fn sync_now(ctx: &Ctx, db: &mut Db, last_error: &mut Option<String>) -> bool {
    match agent::sync_if_configured(db, &ctx.paths, &ctx.config).await {
        Some(Ok(_)) => {
            if last_error.take().is_some() {
                note("note: sync works again");
            }
            true
        }
        Some(Err(e)) => {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            if last_error.as_deref() != Some(first.as_str()) {
                note(format!("note: sync failed: {first}"));
                *last_error = Some(first);
            }
            false
        }
        None => false,
    }
}

async fn exec(ctx: &Ctx, db: &mut Db, req: &ExecRequest, wait: bool) -> Result<ExitStatus> {
    let c = agent::queue(db, &ctx.paths.data_dir, req).await?;
    let self_id = machine::require_self(db).await?;
    let remote = c.target_machine_id != self_id;
    let mut sync_error = None;
    let synced = remote && sync_now(ctx, db, &mut sync_error).await;
    if remote && !synced {
        note("note: queued here; it reaches the target with the next `msp sync`");
    }
    if !wait {
        ctx.print(&agent::show(db, &c.id).await?, |v| v.id.clone())?;
        return Ok(ExitStatus::Success);
    }
    if remote
        && agent::sync_url(db, &ctx.paths, &ctx.config)
            .await?
            .is_none()
    {
        return Err(Error::Conflict(format!("command {} is queued, but no team store is configured, so it cannot reach its target: not waiting", c.id)).with_hint("configure one (`msp sync init --url ...`, sync.url or MSP_SYNC_URL), then `msp sync`"));
    }
    note(format!("command {}", c.id));
    let give_up = Instant::now()
        + Duration::from_millis(
            u64::try_from((c.expires_at - c.created_at).max(0) + c.timeout_ms.max(0)).unwrap_or(0),
        )
        + WAIT_SLACK;
    let mut last_sync = Instant::now();
    let mut told_pending = false;
    // Ctrl-C stops a command run here (recorded `interrupted`), or the wait.
    let stop = Stop::on_signals();
    let v = loop {
        if !remote && let Some(_lock) = runner::try_lock(&ctx.paths.data_dir)? {
            // No agent here: run it in this process, same checks and records.
            runner::recover(db, &self_id).await?;
            runner::run_pending(db, &ctx.paths.data_dir, Some(&c.id), &stop).await?;
        }
        let v = agent::show(db, &c.id).await?;
        if v.status.is_final() {
            break v;
        }
        if v.status == Status::Pending && !told_pending && !remote {
            let waiting = agent::audit_log(db, Some(&c.id))
                .await?
                .iter()
                .any(|e| e.event == "awaiting_approval");
            if waiting {
                note(
                    "note: this machine requires approval: waiting for `msp agent approve` on another machine",
                );
                told_pending = true;
            }
        }
        if Instant::now() > give_up {
            return Err(Error::Other(format!(
                "command {} is still {} after its expiry and timeout: stopped waiting",
                c.id,
                v.status.as_str()
            ))
            .with_hint(format!(
                "`msp agent show {}` later; is `msp agent run` running on {}?",
                v.short_id, v.target
            )));
        }
        if remote && last_sync.elapsed() >= WAIT_SYNC {
            sync_now(ctx, db, &mut sync_error).await;
            last_sync = Instant::now();
        }
        tokio::select! {
            _ = tokio::time::sleep(WAIT_POLL) => {}
            _ = stop.wait() => {
                note(format!(
                    "stopped waiting; command {} stays {} (`msp agent show {}`)",
                    v.short_id,
                    v.status.as_str(),
                    v.short_id
                ));
                return Ok(ExitStatus::Interrupted);
            }
        }
    };
    print_result(ctx, &v)
}

/// Prints a final result the way `exec --wait` does and returns the exit code.
fn print_result(ctx: &Ctx, v: &CommandView) -> Result<ExitStatus> {
    let code = match v.status {
        Status::Completed | Status::Failed => v
            .exit_code
            .and_then(|c| i32::try_from(c).ok())
            .map_or(ExitStatus::Failure, ExitStatus::External),
        Status::TimedOut => ExitStatus::TimedOut,
        _ => ExitStatus::Failure,
    };
    if ctx.json {
        print_json(v)?;
        return Ok(code);
    }
    let stdout = v.stdout.as_deref().unwrap_or_default();
    let stderr = v.stderr.as_deref().unwrap_or_default();
    std::io::stdout()
        .lock()
        .write_all(stdout.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    let _ = std::io::stderr().lock().write_all(stderr.as_bytes());
    if v.truncated {
        note("note: output was cut at --max-output (truncated)");
    }
    let why = v.error.clone().unwrap_or_default();
    match v.status {
        Status::Completed => Ok(code),
        Status::Failed if v.exit_code.is_some() => Ok(code),
        Status::TimedOut => {
            note(format!("note: {why}"));
            Ok(code)
        }
        Status::Rejected => Err(Error::Locked(format!(
            "command {} was rejected by {}: {why}",
            v.short_id, v.target
        ))
        .with_hint(format!(
            "`msp agent audit --command {}` shows every step",
            v.short_id
        ))),
        _ => Err(Error::Other(format!(
            "command {} {} on {}: {why}",
            v.short_id,
            v.status.as_str(),
            v.target
        ))
        .with_hint(format!("`msp agent show {}`", v.short_id))),
    }
}

async fn run_agent(ctx: &Ctx, db: &mut Db, once: bool, interval: Duration) -> Result<ExitStatus> {
    let self_id = machine::require_self(db).await?;
    let Some(_lock) = runner::try_lock(&ctx.paths.data_dir)? else {
        return Err(Error::Conflict(format!(
            "another `msp agent run` is running for {}",
            ctx.paths.data_dir.display()
        ))
        .with_hint("stop it first (systemctl --user stop msp-agent), or let it do the work"));
    };
    let stop = Stop::on_signals();
    for id in runner::recover(db, &self_id).await? {
        note(format!(
            "{}: interrupted (the agent stopped while it ran; not run again)",
            ids::short_id(&id)
        ));
    }
    let mut all: Vec<Outcome> = Vec::new();
    let mut sync_error = None;
    loop {
        sync_now(ctx, db, &mut sync_error).await;
        let outcomes = runner::run_pending(db, &ctx.paths.data_dir, None, &stop).await?;
        let ran = outcomes.iter().any(|o| o.status != Status::Pending);
        for o in &outcomes {
            // One line per command on stderr; output never goes to logs.
            note(format!(
                "{}: {}{}{}",
                ids::short_id(&o.command_id),
                o.status.as_str(),
                o.exit_code
                    .map(|c| format!(", exit {c}"))
                    .unwrap_or_default(),
                o.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
        }
        if ran {
            // Results go back right away.
            sync_now(ctx, db, &mut sync_error).await;
        }
        all.extend(outcomes);
        if once || stop.requested() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval.max(MIN_INTERVAL)) => {}
            _ = stop.wait() => break,
        }
    }
    if ctx.json {
        print_json(&all)?;
    }
    Ok(ExitStatus::Success)
}

fn show(v: &CommandView) -> String {
    let approvals = if v.approvals.is_empty() {
        "-".to_string()
    } else {
        v.approvals
            .iter()
            .map(|a| {
                format!(
                    "{}@{} {}",
                    a.approved_by,
                    a.machine,
                    local_time(&a.created_at)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lines = [
        ("id", v.id.clone()),
        ("status", v.status.as_str().to_string()),
        ("command", v.command_line()),
        ("shell", or_dash(v.shell.as_deref())),
        ("cwd", or_dash(v.cwd.as_deref())),
        ("target", v.target.clone()),
        (
            "requested",
            format!(
                "{}@{} {}",
                v.requested_by,
                v.requester,
                local_time(&v.created_at)
            ),
        ),
        ("expires", local_time(&v.expires_at)),
        ("timeout", format!("{} ms", v.timeout_ms)),
        ("approvals", approvals),
        (
            "exit code",
            v.exit_code.map_or("-".into(), |c| c.to_string()),
        ),
        (
            "started",
            v.started_at.as_deref().map_or("-".into(), local_time),
        ),
        (
            "duration",
            v.duration_ms.map_or("-".into(), |d| format!("{d} ms")),
        ),
        ("truncated", if v.truncated { "yes" } else { "no" }.into()),
        ("error", or_dash(v.error.as_deref())),
    ];
    let mut lines: Vec<String> = lines
        .iter()
        .map(|(k, val)| format!("{k:<10} {val}"))
        .collect();
    for (name, text) in [("stdout", &v.stdout), ("stderr", &v.stderr)] {
        if let Some(t) = text.as_deref().filter(|t| !t.is_empty()) {
            lines.push(format!("--- {name}"));
            lines.push(t.trim_end_matches('\n').to_string());
        }
    }
    lines.join("\n")
}
