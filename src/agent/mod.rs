//! Agent commands: a technician queues a command for a registered machine
//! (`msp agent exec`), the machine's agent (`msp agent run`) verifies and
//! runs it, and the result comes back, all as synced records.
//!
//! - A command is a signed row ([`sign`]): nothing written into the local
//!   store or the team store by hand can make a machine run anything.
//! - Lifecycle: `pending` (no result yet) -> `running` (committed before the
//!   process starts) -> `completed` (exit 0), `failed` (non-zero exit, or it
//!   could not start), `timed_out`; or, without running, `expired`,
//!   `rejected` (signature, target, replay); a command the agent was running
//!   when it died is `interrupted` on the agent's next start and never runs
//!   again (at most once).
//! - Every step lands in `agent_audit`, which syncs like the rest.
//! - Output is stored as text (invalid UTF-8 replaced), capped per stream
//!   and redacted before it is stored, so before it syncs.
//! - All commands sync to every machine; an agent only ever takes up those
//!   addressed to its own machine id.
//!
//! Tables: `agent_commands`, `agent_approvals`, `agent_results`,
//! `agent_audit` (synced), `agent_ledger` (this machine's ids and nonces
//! taken up; never synced).

pub mod exec;
pub mod runner;
pub mod sign;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use self::exec::Shell;
use self::sign::{ApprovalFields, CommandFields, KeyKind};
use crate::config::{Config, Paths};
use crate::crypto::Key;
use crate::error::{Error, Result};
use crate::ids;
use crate::machine;
use crate::store::{self, Db};
use crate::sync::key::TeamKey;
use crate::time::{Millis, now_ms, rfc3339};

pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 86_400);
pub const MAX_EXPIRES: Duration = Duration::from_secs(90 * 86_400);
/// Most output kept per stream: the agent holds it in memory, stores and
/// syncs it.
pub const MAX_OUTPUT: u64 = 16 << 20;

/// Where a command is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Running,
    Completed,
    Failed,
    TimedOut,
    Expired,
    Rejected,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::TimedOut => "timed_out",
            Status::Expired => "expired",
            Status::Rejected => "rejected",
            Status::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Running,
            Status::Completed,
            Status::Failed,
            Status::TimedOut,
            Status::Expired,
            Status::Rejected,
            Status::Interrupted,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Pending | Status::Running)
    }
}

/// A row of `agent_commands`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommandRow {
    pub id: String,
    pub requester_machine_id: String,
    pub requested_by: String,
    pub target_machine_id: String,
    pub program: String,
    /// JSON array of strings.
    pub args: String,
    pub shell: Option<String>,
    pub cwd: Option<String>,
    pub timeout_ms: i64,
    pub max_output: i64,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub nonce: String,
    pub key_kind: String,
    pub signature: String,
}

impl CommandRow {
    pub fn args(&self) -> Option<Vec<String>> {
        serde_json::from_str(&self.args).ok()
    }

    /// The signed fields; `None` when the key kind is unknown.
    pub fn fields<'a>(&'a self, args: &'a [String]) -> Option<CommandFields<'a>> {
        Some(CommandFields {
            id: &self.id,
            requester_machine_id: &self.requester_machine_id,
            requested_by: &self.requested_by,
            target_machine_id: &self.target_machine_id,
            program: &self.program,
            args,
            shell: self.shell.as_deref(),
            cwd: self.cwd.as_deref(),
            timeout_ms: self.timeout_ms,
            max_output: self.max_output,
            created_at: self.created_at,
            expires_at: self.expires_at,
            nonce: &self.nonce,
            key_kind: KeyKind::parse(&self.key_kind)?,
        })
    }
}

/// A row of `agent_approvals`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovalRow {
    pub id: String,
    pub command_id: String,
    pub machine_id: String,
    pub approved_by: String,
    pub created_at: Millis,
    pub signature: String,
}

impl ApprovalRow {
    /// What this approval's signature covers: the approval bound to
    /// command `c`'s signature.
    fn fields<'a>(&'a self, c: &'a CommandRow) -> ApprovalFields<'a> {
        ApprovalFields {
            id: &self.id,
            command_id: &self.command_id,
            command_signature: &c.signature,
            machine_id: &self.machine_id,
            approved_by: &self.approved_by,
            created_at: self.created_at,
        }
    }
}

/// A row of `agent_results`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResultRow {
    pub id: String,
    pub machine_id: String,
    pub status: String,
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub error: Option<String>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub duration_ms: Option<i64>,
}

/// The signing keys this machine has.
pub(crate) struct Keys {
    pub team: Option<Key>,
    pub local: Option<Key>,
}

impl Keys {
    pub fn load(data_dir: &Path) -> Result<Keys> {
        Ok(Keys {
            team: TeamKey::load(data_dir)?.map(|t| sign::team_signing_key(&t)),
            local: sign::load_local_key(data_dir)?,
        })
    }
}

/// What `msp agent exec` asks for.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// `self`, an id, a friendly name or a hostname.
    pub target: String,
    pub program: String,
    pub args: Vec<String>,
    pub shell: Option<Shell>,
    pub cwd: Option<String>,
    pub timeout: Duration,
    pub max_output: u64,
    pub expires_in: Duration,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Appends an audit entry (inside the caller's transaction).
pub(crate) async fn audit(
    db: &mut Db,
    machine_id: &str,
    command_id: &str,
    event: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_audit (id, at, machine_id, command_id, event, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(ids::new_id())
    .bind(now_ms())
    .bind(machine_id)
    .bind(command_id)
    .bind(event)
    .bind(detail)
    .execute(db)
    .await?;
    Ok(())
}

/// `msp agent exec`: signs and queues a command. It leaves this machine
/// with the next sync (the CLI syncs right away when it can).
pub async fn queue(db: &mut Db, data_dir: &Path, req: &ExecRequest) -> Result<CommandRow> {
    let self_id = machine::require_self(db).await?;
    let target = machine::resolve(db, &req.target).await?;
    if req.program.trim().is_empty() {
        return Err(
            Error::usage("no command given").with_hint("msp agent exec MACHINE -- COMMAND ARGS...")
        );
    }
    for (flag, d, max) in [
        ("--timeout", req.timeout, MAX_TIMEOUT),
        ("--expires", req.expires_in, MAX_EXPIRES),
    ] {
        if d.is_zero() || d > max {
            return Err(Error::usage(format!(
                "{flag} must be longer than zero and at most {} days",
                max.as_secs() / 86_400
            ))
            .with_hint(format!("e.g. {flag} 30s, 10m, 1h")));
        }
    }
    if req.max_output == 0 || req.max_output > MAX_OUTPUT {
        return Err(Error::usage(format!(
            "--max-output must be at least one byte and at most {} MiB",
            MAX_OUTPUT >> 20
        ))
        .with_hint("e.g. --max-output 64KiB; for more, write the output to a file on the target"));
    }
    let (kind, key) = match TeamKey::load(data_dir)? {
        Some(team) => (KeyKind::Team, sign::team_signing_key(&team)),
        None if target.id == self_id => (KeyKind::Local, sign::local_key(data_dir)?),
        None => {
            return Err(Error::Locked(format!("a command for another machine ({}) is signed with the team key, and this machine has none", target.display_name())).with_hint("run `msp sync init` on the team's first machine, or `msp sync key import` here; without a team, only `msp agent exec self` works"));
        }
    };
    let now = now_ms();
    let mut row = CommandRow {
        id: ids::new_id(),
        requester_machine_id: self_id.clone(),
        requested_by: machine::username(),
        target_machine_id: target.id.clone(),
        program: req.program.clone(),
        args: serde_json::to_string(&req.args).unwrap_or_else(|_| "[]".into()),
        shell: req.shell.map(|s| s.as_str().to_string()),
        cwd: req.cwd.clone(),
        timeout_ms: millis(req.timeout),
        max_output: i64::try_from(req.max_output).unwrap_or(i64::MAX),
        created_at: now,
        expires_at: now.saturating_add(millis(req.expires_in)),
        nonce: sign::new_nonce()?,
        key_kind: kind.as_str().to_string(),
        signature: String::new(),
    };
    let fields = row
        .fields(&req.args)
        .expect("the key kind was written just above");
    row.signature = sign::sign_command(&key, &fields);
    let mut tx = store::begin_write(db).await?;
    insert_command(&mut tx, &row).await?;
    audit(
        &mut tx,
        &self_id,
        &row.id,
        "requested",
        &format!(
            "for {} by {}, signed with the {} key",
            target.display_name(),
            row.requested_by,
            row.key_kind
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub(crate) async fn insert_approval(db: &mut Db, a: &ApprovalRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_approvals (id, command_id, machine_id, approved_by, created_at, signature) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.id)
    .bind(&a.command_id)
    .bind(&a.machine_id)
    .bind(&a.approved_by)
    .bind(a.created_at)
    .bind(&a.signature)
    .execute(db)
    .await?;
    Ok(())
}

pub(crate) async fn insert_command(db: &mut Db, c: &CommandRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_commands (id, requester_machine_id, requested_by, target_machine_id, program, args, shell, cwd,
         timeout_ms, max_output, created_at, expires_at, nonce, key_kind, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.id)
    .bind(&c.requester_machine_id)
    .bind(&c.requested_by)
    .bind(&c.target_machine_id)
    .bind(&c.program)
    .bind(&c.args)
    .bind(&c.shell)
    .bind(&c.cwd)
    .bind(c.timeout_ms)
    .bind(c.max_output)
    .bind(c.created_at)
    .bind(c.expires_at)
    .bind(&c.nonce)
    .bind(&c.key_kind)
    .bind(&c.signature)
    .execute(db)
    .await?;
    Ok(())
}

/// A command id from a full id or a unique prefix or suffix of at least 6
/// characters (lists show the last 8).
pub async fn resolve_id(db: &mut Db, key: &str) -> Result<String> {
    let key = key.trim();
    let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM agent_commands WHERE {} LIMIT 2",
        crate::ids::key_match_sql("id")
    )))
    .bind(key)
    .fetch_all(db)
    .await?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::not_found(
            "agent command",
            key,
            "run `msp agent list` (on another machine's command: `msp sync` first)",
        )),
        _ => Err(
            Error::usage(format!("{key:?} matches more than one agent command"))
                .with_hint("give more characters of the id"),
        ),
    }
}

pub(crate) async fn get_command(db: &mut Db, id: &str) -> Result<Option<CommandRow>> {
    Ok(sqlx::query_as("SELECT * FROM agent_commands WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?)
}

pub(crate) async fn get_result(db: &mut Db, id: &str) -> Result<Option<ResultRow>> {
    Ok(sqlx::query_as(
        "SELECT id, machine_id, status, exit_code, stdout, stderr, truncated, error, started_at, finished_at, duration_ms
         FROM agent_results WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

pub(crate) async fn approvals_of(db: &mut Db, command_id: &str) -> Result<Vec<ApprovalRow>> {
    Ok(sqlx::query_as(
        "SELECT id, command_id, machine_id, approved_by, created_at, signature FROM agent_approvals
         WHERE command_id = ? ORDER BY created_at, id",
    )
    .bind(command_id)
    .fetch_all(db)
    .await?)
}

/// Whether `a` is a valid approval of `c`: signed with the team key, bound
/// to this command's signature, and from a machine other than the requester's.
pub(crate) fn approval_is_valid(team: Option<&Key>, c: &CommandRow, a: &ApprovalRow) -> bool {
    let Some(key) = team else { return false };
    a.command_id == c.id
        && a.machine_id != c.requester_machine_id
        && sign::verify_approval(key, &a.fields(c), &a.signature)
}

/// Why a command asks for more than any agent gives (a timeout, output cap
/// or lifetime `msp agent exec` would refuse), whatever its signature says.
pub(crate) fn beyond_limits(c: &CommandRow) -> Option<String> {
    let lifetime = c.expires_at.checked_sub(c.created_at).unwrap_or(-1);
    if !(1..=millis(MAX_TIMEOUT)).contains(&c.timeout_ms) {
        Some(format!(
            "timeout of {} ms is outside 1 ms to {} days",
            c.timeout_ms,
            MAX_TIMEOUT.as_secs() / 86_400
        ))
    } else if !(1..=i64::try_from(MAX_OUTPUT).unwrap_or(i64::MAX)).contains(&c.max_output) {
        Some(format!(
            "output cap of {} bytes is outside 1 byte to {} MiB",
            c.max_output,
            MAX_OUTPUT >> 20
        ))
    } else if !(1..=millis(MAX_EXPIRES)).contains(&lifetime) {
        Some(format!(
            "lifetime of {lifetime} ms is outside 1 ms to {} days",
            MAX_EXPIRES.as_secs() / 86_400
        ))
    } else {
        None
    }
}

/// Verifies a command's own signature with the keys of this machine.
pub(crate) fn command_signature_ok(keys: &Keys, self_id: &str, c: &CommandRow) -> bool {
    let Some(args) = c.args() else { return false };
    let Some(fields) = c.fields(&args) else {
        return false;
    };
    let key = match fields.key_kind {
        KeyKind::Team => keys.team.as_ref(),
        // A local key only ever signs what a machine sends itself.
        KeyKind::Local if c.requester_machine_id == self_id && c.target_machine_id == self_id => {
            keys.local.as_ref()
        }
        KeyKind::Local => None,
    };
    key.is_some_and(|k| sign::verify_command(k, &fields, &c.signature))
}

#[derive(Debug, Serialize)]
pub struct Approved {
    pub id: String,
    pub command_id: String,
    pub machine_id: String,
    pub approved_by: String,
    /// False when this machine had approved the command already.
    pub created: bool,
}

/// `msp agent approve`: a signed approval from this machine, which must not
/// be the requester's.
pub async fn approve(db: &mut Db, data_dir: &Path, key: &str) -> Result<Approved> {
    let self_id = machine::require_self(db).await?;
    let id = resolve_id(db, key).await?;
    let c = get_command(db, &id)
        .await?
        .ok_or_else(|| Error::not_found("agent command", &id, "run `msp agent list`"))?;
    if c.requester_machine_id == self_id {
        return Err(Error::Locked(
            "a command is approved from another machine than the one that requested it".into(),
        )
        .with_hint(
            "run `msp agent approve ID` on another machine of the team (after `msp sync`)",
        ));
    }
    let team = TeamKey::load(data_dir)?.ok_or_else(|| {
        Error::Locked("approvals are signed with the team key, and this machine has none".into())
            .with_hint("`msp sync key import` the team's key here first")
    })?;
    let keys = Keys {
        team: Some(sign::team_signing_key(&team)),
        local: None,
    };
    if !command_signature_ok(&keys, &self_id, &c) {
        return Err(Error::Locked(format!("command {} does not carry a valid signature of this team: it will never run, and is not approved", ids::short_id(&c.id))).with_hint("`msp agent audit` shows where it came from"));
    }
    if let Some(r) = get_result(db, &id).await? {
        return Err(Error::Conflict(format!(
            "command {} is {} already: nothing to approve",
            ids::short_id(&id),
            r.status
        ))
        .with_hint(format!("`msp agent show {}`", ids::short_id(&id))));
    }
    let mut tx = store::begin_write(db).await?;
    if let Some(a) = approvals_of(&mut tx, &id)
        .await?
        .into_iter()
        .find(|a| a.machine_id == self_id)
    {
        return Ok(Approved {
            id: a.id,
            command_id: id,
            machine_id: self_id,
            approved_by: a.approved_by,
            created: false,
        });
    }
    let mut a = ApprovalRow {
        id: ids::new_id(),
        command_id: id.clone(),
        machine_id: self_id.clone(),
        approved_by: machine::username(),
        created_at: now_ms(),
        signature: String::new(),
    };
    let team = keys.team.as_ref().expect("set above");
    a.signature = sign::sign_approval(team, &a.fields(&c));
    insert_approval(&mut tx, &a).await?;
    audit(
        &mut tx,
        &self_id,
        &id,
        "approved",
        &format!("by {}", a.approved_by),
    )
    .await?;
    tx.commit().await?;
    Ok(Approved {
        id: a.id,
        command_id: id,
        machine_id: self_id,
        approved_by: a.approved_by,
        created: true,
    })
}

/// The JSON shape of an approval.
#[derive(Debug, Serialize)]
pub struct ApprovalView {
    pub machine_id: String,
    pub machine: String,
    pub approved_by: String,
    pub created_at: String,
}

/// The JSON shape of a command and its result (stable field names).
#[derive(Debug, Serialize)]
pub struct CommandView {
    pub id: String,
    pub short_id: String,
    pub status: Status,
    pub target_machine_id: String,
    pub target: String,
    pub requester_machine_id: String,
    pub requester: String,
    pub requested_by: String,
    pub program: String,
    pub args: Vec<String>,
    pub shell: Option<String>,
    pub cwd: Option<String>,
    pub timeout_ms: i64,
    pub max_output: i64,
    pub created_at: String,
    pub expires_at: String,
    pub approvals: Vec<ApprovalView>,
    pub exit_code: Option<i64>,
    /// Output as stored: capped and redacted. Left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    pub truncated: bool,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
}

impl CommandView {
    /// The command line as typed (for tables).
    pub fn command_line(&self) -> String {
        let mut parts = vec![self.program.clone()];
        parts.extend(self.args.iter().map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("{a:?}")
            } else {
                a.clone()
            }
        }));
        parts.join(" ")
    }
}

async fn machine_names(db: &mut Db) -> Result<HashMap<String, String>> {
    Ok(machine::list(db)
        .await?
        .into_iter()
        .map(|m| (m.id.clone(), m.display_name().to_string()))
        .collect())
}

fn view(
    c: CommandRow,
    r: Option<ResultRow>,
    approvals: Vec<ApprovalRow>,
    names: &HashMap<String, String>,
    with_output: bool,
) -> CommandView {
    let name = |id: &str| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| ids::short_id(id).to_string())
    };
    let status = r
        .as_ref()
        .and_then(|r| Status::parse(&r.status))
        .unwrap_or(Status::Pending);
    let args = c.args().unwrap_or_default();
    CommandView {
        short_id: ids::short_id(&c.id).to_string(),
        status,
        target: name(&c.target_machine_id),
        requester: name(&c.requester_machine_id),
        approvals: approvals
            .into_iter()
            .map(|a| ApprovalView {
                machine: name(&a.machine_id),
                machine_id: a.machine_id,
                approved_by: a.approved_by,
                created_at: rfc3339(a.created_at),
            })
            .collect(),
        exit_code: r.as_ref().and_then(|r| r.exit_code),
        stdout: r
            .as_ref()
            .filter(|_| with_output)
            .map(|r| r.stdout.clone())
            .or_else(|| with_output.then(String::new)),
        stderr: r
            .as_ref()
            .filter(|_| with_output)
            .map(|r| r.stderr.clone())
            .or_else(|| with_output.then(String::new)),
        truncated: r.as_ref().is_some_and(|r| r.truncated),
        error: r.as_ref().and_then(|r| r.error.clone()),
        started_at: r.as_ref().and_then(|r| r.started_at).map(rfc3339),
        finished_at: r.as_ref().and_then(|r| r.finished_at).map(rfc3339),
        duration_ms: r.as_ref().and_then(|r| r.duration_ms),
        id: c.id,
        target_machine_id: c.target_machine_id,
        requester_machine_id: c.requester_machine_id,
        requested_by: c.requested_by,
        program: c.program,
        args,
        shell: c.shell,
        cwd: c.cwd,
        timeout_ms: c.timeout_ms,
        max_output: c.max_output,
        created_at: rfc3339(c.created_at),
        expires_at: rfc3339(c.expires_at),
    }
}

/// `msp agent show`.
pub async fn show(db: &mut Db, key: &str) -> Result<CommandView> {
    let id = resolve_id(db, key).await?;
    let c = get_command(db, &id)
        .await?
        .ok_or_else(|| Error::not_found("agent command", &id, "run `msp agent list`"))?;
    let r = get_result(db, &id).await?;
    let approvals = approvals_of(db, &id).await?;
    let names = machine_names(db).await?;
    Ok(view(c, r, approvals, &names, true))
}

/// `msp agent list`, newest first.
pub async fn list(
    db: &mut Db,
    machine_key: Option<&str>,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<CommandView>> {
    let target = match machine_key {
        Some(k) => Some(machine::resolve(db, k).await?.id),
        None => None,
    };
    let rows: Vec<CommandRow> = sqlx::query_as(
        "SELECT c.* FROM agent_commands c LEFT JOIN agent_results r ON r.id = c.id
         WHERE (?1 IS NULL OR c.target_machine_id = ?1) AND (?2 IS NULL OR COALESCE(r.status, 'pending') = ?2)
         ORDER BY c.created_at DESC, c.id DESC LIMIT ?3",
    )
    .bind(&target)
    .bind(status.map(Status::as_str))
    .bind(limit)
    .fetch_all(&mut *db)
    .await?;
    let names = machine_names(db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let r = get_result(db, &c.id).await?;
        let approvals = approvals_of(db, &c.id).await?;
        out.push(view(c, r, approvals, &names, false));
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub id: String,
    pub at: String,
    pub machine_id: String,
    pub machine: String,
    pub command_id: String,
    pub event: String,
    pub detail: String,
}

/// `msp agent audit`: oldest first, from every machine this one synced with.
pub async fn audit_log(db: &mut Db, command: Option<&str>) -> Result<Vec<AuditView>> {
    let command = match command {
        Some(k) => Some(resolve_id(db, k).await?),
        None => None,
    };
    let rows: Vec<(String, Millis, String, String, String, String)> = sqlx::query_as(
        "SELECT id, at, machine_id, command_id, event, detail FROM agent_audit
         WHERE ?1 IS NULL OR command_id = ?1 ORDER BY at, id",
    )
    .bind(&command)
    .fetch_all(&mut *db)
    .await?;
    let names = machine_names(db).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, at, machine_id, command_id, event, detail)| AuditView {
                id,
                at: rfc3339(at),
                machine: names
                    .get(&machine_id)
                    .cloned()
                    .unwrap_or_else(|| ids::short_id(&machine_id).to_string()),
                machine_id,
                command_id,
                event,
                detail,
            },
        )
        .collect())
}

/// The team store's URL when this machine can sync (a URL and a team key).
pub async fn sync_url(db: &mut Db, paths: &Paths, config: &Config) -> Result<Option<String>> {
    if !crate::sync::key_path(&paths.data_dir).is_file() {
        return Ok(None);
    }
    crate::sync::resolve_url(db, &paths.data_dir, config).await
}

/// Syncs when a team store and a team key are configured; `None` when
/// there is nothing to sync with.
pub async fn sync_if_configured(
    db: &mut Db,
    paths: &Paths,
    config: &Config,
) -> Option<Result<crate::sync::Report>> {
    let url = match sync_url(db, paths, config).await {
        Ok(Some(url)) => url,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let opts = crate::sync::RunOptions::from_config(config);
    Some(crate::sync::run(db, paths, &url, &opts, &crate::sync::NoProgress).await)
}

/// `1MiB`, `512KiB`, `64k`, `1000`, `10MB`: a byte count for `--max-output`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests;
