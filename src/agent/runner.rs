//! The agent side: take up the commands addressed to this machine, verify,
//! run, record.
//!
//! At most once: a command is marked `running`, and its id and nonce go
//! into the local ledger, in one committed transaction (with
//! `synchronous=FULL`) before its process starts. Whatever happens next
//! (the agent killed, the machine rebooted), a command in the ledger never
//! starts again; one left `running` is reported `interrupted` when the
//! agent starts next. One agent per data directory (a lock file), so a
//! second agent cannot mistake the first one's running command for a
//! leftover.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::exec::{self, Ending, Shell};
use super::{CommandRow, Keys, Status, approval_is_valid, approvals_of, audit};
use crate::error::{Error, Result};
use crate::ids;
use crate::machine;
use crate::redact::Redactor;
use crate::store::{self, Db};
use crate::time::now_ms;

const LOCK_FILE: &str = "agent.lock";

/// Held while this process is the machine's agent.
#[derive(Debug)]
pub struct AgentLock {
    /// The lock lasts as long as the open file.
    _file: File,
}

/// Takes the agent lock of this data directory; `None` when another agent
/// (or an `exec --wait` running a command in-process) holds it.
pub fn try_lock(data_dir: &Path) -> Result<Option<AgentLock>> {
    crate::files::create_private_dir(data_dir)
        .map_err(|e| Error::io(format!("creating {}", data_dir.display()), e))?;
    let path = data_dir.join(LOCK_FILE);
    let f = crate::files::private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(AgentLock { _file: f })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::io(format!("locking {}", path.display()), e)),
    }
}

/// Asks a running agent to stop: SIGTERM or Ctrl-C, or never.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn never() -> Stop {
        let (_tx, rx) = watch::channel(false);
        Stop(rx)
    }

    /// Set by SIGTERM (systemd's stop) or SIGINT.
    pub fn on_signals() -> Stop {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let terminate = async {
                #[cfg(unix)]
                if let Some(t) = term.as_mut() {
                    t.recv().await;
                    return;
                }
                std::future::pending::<()>().await
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate => {}
            }
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when a stop is requested (never, for [`Stop::never`]).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What happened to one command in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub command_id: String,
    pub status: Status,
    pub exit_code: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Why it was not run, or could not start.
    pub reason: Option<String>,
}

/// Marks the commands this machine left `running` (its agent died while
/// they ran) as `interrupted`. Call only while holding the agent lock.
pub async fn recover(db: &mut Db, self_id: &str) -> Result<Vec<String>> {
    let mut tx = store::begin_write(db).await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM agent_results WHERE machine_id = ? AND status = 'running' ORDER BY id",
    )
    .bind(self_id)
    .fetch_all(&mut *tx)
    .await?;
    let now = now_ms();
    for id in &ids {
        sqlx::query(
            "UPDATE agent_results SET status = 'interrupted', finished_at = ?1, updated_at = ?1,
             duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE ?1 - started_at END,
             error = 'the agent stopped while the command ran; it is never run again' WHERE id = ?2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            self_id,
            id,
            "interrupted",
            "found running when the agent started: it died while the command ran; not run again",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}

enum Verdict {
    Run(String),
    Reject(String),
    Expired,
    AwaitApproval,
}

/// Decides what to do with a command addressed to this machine.
async fn check(
    db: &mut Db,
    keys: &Keys,
    self_id: &str,
    approval_required: bool,
    c: &CommandRow,
) -> Result<Verdict> {
    if c.target_machine_id != self_id {
        return Ok(Verdict::Reject(format!(
            "addressed to machine {}, not this one",
            ids::short_id(&c.target_machine_id)
        )));
    }
    let seen: Option<String> =
        sqlx::query_scalar("SELECT command_id FROM agent_ledger WHERE command_id = ?")
            .bind(&c.id)
            .fetch_optional(&mut *db)
            .await?;
    if seen.is_some() {
        return Ok(Verdict::Reject(
            "replay: this machine took up this command id before".into(),
        ));
    }
    if c.args().is_none() {
        return Ok(Verdict::Reject("malformed argument list".into()));
    }
    if c.shell
        .as_deref()
        .is_some_and(|s| Shell::parse(s).is_none())
    {
        return Ok(Verdict::Reject("unknown shell".into()));
    }
    if !super::command_signature_ok(keys, self_id, c) {
        let why = match (c.key_kind.as_str(), &keys.team, &keys.local) {
            ("team", None, _) => "signed with a team key, and this machine has none",
            ("local", _, _) if c.requester_machine_id != self_id => {
                "signed with a local agent key by another machine"
            }
            ("local", _, None) => "signed with a local agent key, and this machine has none",
            ("team" | "local", _, _) => {
                "the signature does not verify: the command was written or changed outside msp, or signed with another key"
            }
            _ => "unknown key kind",
        };
        return Ok(Verdict::Reject(why.into()));
    }
    let nonce_used: Option<String> =
        sqlx::query_scalar("SELECT command_id FROM agent_ledger WHERE nonce = ?")
            .bind(&c.nonce)
            .fetch_optional(&mut *db)
            .await?;
    if let Some(other) = nonce_used {
        return Ok(Verdict::Reject(format!(
            "replay: nonce already used by command {}",
            ids::short_id(&other)
        )));
    }
    if let Some(why) = super::beyond_limits(c) {
        return Ok(Verdict::Reject(why));
    }
    if now_ms() > c.expires_at {
        return Ok(Verdict::Expired);
    }
    let key_note = format!("signature verified ({} key)", c.key_kind);
    if !approval_required {
        return Ok(Verdict::Run(key_note));
    }
    let approvals = approvals_of(db, &c.id).await?;
    match approvals
        .iter()
        .find(|a| approval_is_valid(keys.team.as_ref(), c, a))
    {
        Some(a) => Ok(Verdict::Run(format!(
            "{key_note}; approved by {} on machine {}",
            a.approved_by,
            ids::short_id(&a.machine_id)
        ))),
        None => Ok(Verdict::AwaitApproval),
    }
}

/// Writes a result for a command that is not run.
async fn refuse(
    db: &mut Db,
    self_id: &str,
    c: &CommandRow,
    status: Status,
    why: &str,
) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO agent_results (id, machine_id, status, error, finished_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )
    .bind(&c.id)
    .bind(self_id)
    .bind(status.as_str())
    .bind(why)
    .bind(now)
    .execute(&mut *db)
    .await?;
    // The id is spent; the nonce only counts once a signature vouched for it.
    sqlx::query("INSERT INTO agent_ledger (command_id, nonce, at) VALUES (?, NULL, ?) ON CONFLICT DO NOTHING")
        .bind(&c.id)
        .bind(now)
        .execute(&mut *db)
        .await?;
    let event = if status == Status::Expired {
        "expired"
    } else {
        "verification_failed"
    };
    audit(db, self_id, &c.id, event, why).await
}

enum TakeUp {
    Run(Box<CommandRow>),
    Done(Outcome),
    Skip,
}

/// One transaction: decide, and either refuse, wait, or mark running.
async fn take_up(db: &mut Db, keys: &Keys, self_id: &str, id: &str) -> Result<TakeUp> {
    let mut tx = store::begin_write(db).await?;
    let Some(c) = super::get_command(&mut tx, id).await? else {
        return Ok(TakeUp::Skip);
    };
    if super::get_result(&mut tx, id).await?.is_some() {
        return Ok(TakeUp::Skip);
    }
    let approval_required = machine::approval_required(&mut tx, self_id).await?;
    let verdict = check(&mut tx, keys, self_id, approval_required, &c).await?;
    let outcome = |status, reason: Option<String>| Outcome {
        command_id: c.id.clone(),
        status,
        exit_code: None,
        duration_ms: None,
        reason,
    };
    let next = match verdict {
        Verdict::Reject(why) => {
            refuse(&mut tx, self_id, &c, Status::Rejected, &why).await?;
            TakeUp::Done(outcome(Status::Rejected, Some(why)))
        }
        Verdict::Expired => {
            let why = "expired before this machine took it up; not run";
            refuse(&mut tx, self_id, &c, Status::Expired, why).await?;
            TakeUp::Done(outcome(Status::Expired, Some(why.into())))
        }
        Verdict::AwaitApproval => {
            let noted: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM agent_audit WHERE command_id = ? AND machine_id = ? AND event = 'awaiting_approval')",
            )
            .bind(&c.id)
            .bind(self_id)
            .fetch_one(&mut *tx)
            .await?;
            if !noted {
                audit(
                    &mut tx,
                    self_id,
                    &c.id,
                    "awaiting_approval",
                    "this machine requires approval from a machine other than the requester's",
                )
                .await?;
            }
            TakeUp::Done(outcome(
                Status::Pending,
                Some("waiting for an approval (`msp agent approve` on another machine)".into()),
            ))
        }
        Verdict::Run(note) => {
            let now = now_ms();
            sqlx::query("INSERT INTO agent_ledger (command_id, nonce, at) VALUES (?, ?, ?)")
                .bind(&c.id)
                .bind(&c.nonce)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO agent_results (id, machine_id, status, started_at, updated_at) VALUES (?1, ?2, 'running', ?3, ?3)",
            )
            .bind(&c.id)
            .bind(self_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit(
                &mut tx,
                self_id,
                &c.id,
                "picked_up",
                &format!("{note}; running"),
            )
            .await?;
            TakeUp::Run(Box::new(c))
        }
    };
    tx.commit().await?;
    Ok(next)
}

/// The redactor for command output: the built-in rules plus this store's
/// vault values, when it has any.
pub async fn output_redactor(db: &mut Db, data_dir: &Path) -> Redactor {
    crate::app::redactor(db, data_dir).await.0
}

/// Runs a command that is marked running, and records its result.
async fn execute(
    db: &mut Db,
    self_id: &str,
    c: &CommandRow,
    redactor: &Redactor,
    stop: &Stop,
) -> Result<Outcome> {
    let args = c.args().unwrap_or_default();
    let spec = exec::Spec {
        program: &c.program,
        args: &args,
        shell: c.shell.as_deref().and_then(Shell::parse),
        cwd: c.cwd.as_deref(),
        timeout: Duration::from_millis(u64::try_from(c.timeout_ms).unwrap_or(1).max(1)),
        max_output: usize::try_from(c.max_output).unwrap_or(usize::MAX),
    };
    let f = exec::run(&spec, stop.wait()).await;
    let status = match f.ending {
        Ending::Exited if f.exit_code == Some(0) => Status::Completed,
        Ending::Exited | Ending::NotStarted => Status::Failed,
        Ending::TimedOut => Status::TimedOut,
        Ending::Interrupted => Status::Interrupted,
    };
    let error = match f.ending {
        Ending::NotStarted => f.error.clone(),
        Ending::TimedOut => Some(format!(
            "timed out after {} ms: the process group was ended",
            c.timeout_ms
        )),
        Ending::Interrupted => Some("the agent was stopped while the command ran".into()),
        Ending::Exited => None,
    };
    // Output may hold secrets: it is redacted before it is stored (and so
    // before it syncs); the raw bytes never leave this process.
    let stdout = redactor.redact(&String::from_utf8_lossy(&f.stdout)).text;
    let stderr = redactor.redact(&String::from_utf8_lossy(&f.stderr)).text;
    let duration_ms = i64::try_from(f.duration.as_millis()).unwrap_or(i64::MAX);
    let exit_code = f.exit_code.map(i64::from);
    let mut tx = store::begin_write(db).await?;
    let now = now_ms();
    sqlx::query(
        "UPDATE agent_results SET status = ?1, exit_code = ?2, stdout = ?3, stderr = ?4, truncated = ?5, error = ?6,
         finished_at = ?7, duration_ms = ?8, updated_at = ?7 WHERE id = ?9",
    )
    .bind(status.as_str())
    .bind(exit_code)
    .bind(&stdout)
    .bind(&stderr)
    .bind(f.truncated)
    .bind(&error)
    .bind(now)
    .bind(duration_ms)
    .bind(&c.id)
    .execute(&mut *tx)
    .await?;
    let how = match f.ending {
        Ending::NotStarted => "could not start".to_string(),
        Ending::Exited => format!("exited with {}", code_text(exit_code)),
        Ending::TimedOut => "timed out; process group ended".to_string(),
        Ending::Interrupted => "stopped with the agent; process group ended".to_string(),
    };
    audit(
        &mut tx,
        self_id,
        &c.id,
        "executed",
        &format!("{} ran {duration_ms} ms: {how}", c.program),
    )
    .await?;
    audit(
        &mut tx,
        self_id,
        &c.id,
        "result",
        &format!(
            "{}, exit {}, stdout {} bytes, stderr {} bytes{}",
            status.as_str(),
            code_text(exit_code),
            stdout.len(),
            stderr.len(),
            if f.truncated { ", truncated" } else { "" }
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome {
        command_id: c.id.clone(),
        status,
        exit_code,
        duration_ms: Some(duration_ms),
        reason: error,
    })
}

fn code_text(code: Option<i64>) -> String {
    code.map_or_else(|| "-".into(), |c| c.to_string())
}

/// Takes up every pending command addressed to this machine (or only
/// `only`), oldest first. Call only while holding the agent lock.
pub async fn run_pending(
    db: &mut Db,
    data_dir: &Path,
    only: Option<&str>,
    stop: &Stop,
) -> Result<Vec<Outcome>> {
    let self_id = machine::require_self(db).await?;
    // "running" must be on disk before a process starts.
    sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut *db)
        .await?;
    let keys = Keys::load(data_dir)?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT c.id FROM agent_commands c WHERE c.target_machine_id = ?1 AND (?2 IS NULL OR c.id = ?2)
         AND NOT EXISTS (SELECT 1 FROM agent_results r WHERE r.id = c.id) ORDER BY c.created_at, c.id",
    )
    .bind(&self_id)
    .bind(only)
    .fetch_all(&mut *db)
    .await?;
    let mut redactor: Option<Redactor> = None;
    let mut outcomes = Vec::new();
    for id in ids {
        if stop.requested() {
            break;
        }
        match take_up(db, &keys, &self_id, &id).await? {
            TakeUp::Skip => {}
            TakeUp::Done(o) => outcomes.push(o),
            TakeUp::Run(c) => {
                if redactor.is_none() {
                    redactor = Some(output_redactor(db, data_dir).await);
                }
                let r = redactor.as_ref().expect("set just above");
                outcomes.push(execute(db, &self_id, &c, r, stop).await?);
            }
        }
    }
    Ok(outcomes)
}
