//! Work sessions: time tracking per client and project. At most one session
//! is open per machine; starting one closes the open one at the same moment.

use serde::Serialize;

use super::audit::{self, Diff};
use super::{Scope, clients, projects};
use crate::error::{Error, Result};
use crate::ids;
use crate::store::{self, Db};
use crate::time::{Millis, human_duration, local_display, now_ms, rfc3339};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub machine_id: String,
    pub client_id: Option<String>,
    pub project_id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    pub billable: bool,
    pub origin: String,
    pub claude_session_id: Option<String>,
}

impl Session {
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Length so far (open sessions count up to `now`).
    pub fn duration_ms(&self, now: Millis) -> Millis {
        (self.ended_at.unwrap_or(now) - self.started_at).max(0)
    }
}

/// A session with names resolved, as printed and as `--json`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionView {
    pub id: String,
    pub short_id: String,
    pub machine_id: String,
    pub machine: String,
    pub client_id: Option<String>,
    pub client: Option<String>,
    pub project_id: Option<String>,
    pub project: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_seconds: i64,
    pub duration: String,
    pub billable: bool,
    pub status: &'static str,
    pub origin: String,
    #[serde(skip)]
    pub started_ms: Millis,
    #[serde(skip)]
    pub ended_ms: Option<Millis>,
}

/// Rows of sessions joined with their names.
#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    s: Session,
    machine: String,
    client: Option<String>,
    project: Option<String>,
}

const SELECT: &str = "SELECT s.id, s.machine_id, s.client_id, s.project_id, s.title, s.summary, s.started_at, s.ended_at,
    s.billable, s.origin, s.claude_session_id, COALESCE(m.friendly_name, m.hostname) AS machine,
    c.name AS client, p.slug AS project
    FROM sessions s JOIN machines m ON m.id = s.machine_id
    LEFT JOIN clients c ON c.id = s.client_id LEFT JOIN projects p ON p.id = s.project_id";

impl Row {
    fn view(self, now: Millis) -> SessionView {
        let d = self.s.duration_ms(now);
        SessionView {
            short_id: ids::short_id(&self.s.id).to_string(),
            id: self.s.id,
            machine_id: self.s.machine_id,
            machine: self.machine,
            client_id: self.s.client_id,
            client: self.client,
            project_id: self.s.project_id,
            project: self.project,
            title: self.s.title,
            summary: self.s.summary,
            started_at: rfc3339(self.s.started_at),
            ended_at: self.s.ended_at.map(rfc3339),
            duration_seconds: d / 1000,
            duration: human_duration(d),
            billable: self.s.billable,
            status: if self.s.ended_at.is_none() {
                "open"
            } else {
                "closed"
            },
            origin: self.s.origin,
            started_ms: self.s.started_at,
            ended_ms: self.s.ended_at,
        }
    }
}

pub async fn view(db: &mut Db, id: &str) -> Result<SessionView> {
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = ?")))
        .bind(id)
        .fetch_one(db)
        .await?;
    Ok(row.view(now_ms()))
}

/// A session by full id or a unique id prefix or suffix (the short id).
pub async fn resolve(db: &mut Db, key: &str) -> Result<SessionView> {
    let id = super::resolve_id(
        db,
        "sessions",
        key,
        "session",
        "`msp session list` shows session ids",
    )
    .await?;
    view(db, &id).await
}

/// The open session on this machine, else the one that started last.
pub async fn current_or_latest(db: &mut Db, machine_id: &str) -> Result<Option<SessionView>> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE machine_id = ? ORDER BY ended_at IS NULL DESC, started_at DESC LIMIT 1",
    )
    .bind(machine_id)
    .fetch_optional(&mut *db)
    .await?;
    match id {
        Some(id) => Ok(Some(view(db, &id).await?)),
        None => Ok(None),
    }
}

/// Resolves `--client` / `--project`; a project implies its client, and a
/// client that contradicts the project's is refused.
pub async fn resolve_scope(
    db: &mut Db,
    client: Option<&str>,
    project: Option<&str>,
) -> Result<Scope> {
    let project = match project {
        Some(p) => Some(projects::resolve(db, p).await?),
        None => None,
    };
    let client = match client {
        Some(c) => Some(clients::resolve(db, c).await?),
        None => None,
    };
    if let (Some(p), Some(c)) = (&project, &client)
        && p.client_id.as_deref().is_some_and(|pc| pc != c.id)
    {
        return Err(Error::usage(format!(
            "project {} does not belong to client {}",
            p.slug, c.name
        ))
        .with_hint("drop --client, or pick that client's project"));
    }
    Ok(Scope {
        client_id: client
            .map(|c| c.id)
            .or_else(|| project.as_ref().and_then(|p| p.client_id.clone())),
        project_id: project.map(|p| p.id),
    })
}

/// The scope new work goes to: `project` (with `client`, which must be its
/// client) as given, else the project of `dir` on this machine. `client`
/// alone keeps the directory's project when it is that client's, and is
/// refused when it is another's (the work would be billed to one client
/// under another's project). Archived clients and projects are refused.
pub async fn resolve_scope_in(
    db: &mut Db,
    client: Option<&str>,
    project: Option<&str>,
    dir: &std::path::Path,
    machine_id: &str,
) -> Result<Scope> {
    if project.is_some() {
        let scope = resolve_scope(db, client, project).await?;
        require_active(db, &scope).await?;
        return Ok(scope);
    }
    let (here, dir_project) = projects::scope_of_dir(db, dir, machine_id).await?;
    let Some(client) = client else {
        return Ok(here);
    };
    let given = resolve_scope(db, Some(client), None).await?;
    require_active(db, &given).await?;
    match dir_project {
        None => Ok(given),
        Some(p) if p.client_id == given.client_id => Ok(here),
        Some(p) => {
            let owner = match &p.client_id {
                Some(id) => clients::resolve(db, id)
                    .await
                    .map(|c| format!("client {}", c.name))
                    .unwrap_or_else(|_| "another client".into()),
                None => "no client".into(),
            };
            Err(Error::usage(format!("this directory belongs to project {}, which belongs to {owner}, not to {client}", p.slug)).with_hint(format!("give --project with one of {client}'s projects, or run the command outside this directory")))
        }
    }
}

/// Refuses new work for an archived client or project (named explicitly:
/// archived records stay in reports, not in new work).
pub async fn require_active(db: &mut Db, scope: &Scope) -> Result<()> {
    if let Some(id) = &scope.project_id
        && let Some(p) = projects::by_id(db, id).await?
    {
        projects::require_active(&p)?;
    }
    if let Some(id) = &scope.client_id
        && let Some(c) = clients::by_id(db, id).await?
    {
        clients::require_active(&c)?;
    }
    Ok(())
}

pub struct StartRequest {
    pub scope: Scope,
    pub title: Option<String>,
    pub billable: bool,
    /// When the session starts; `None` means now, read once the write lock
    /// is held, so concurrent starts cannot find an open session that
    /// started "after" them.
    pub at: Option<Millis>,
    pub origin: &'static str,
    pub claude_session_id: Option<String>,
    /// Accept an `at` in the future (refused otherwise: the session could
    /// not be stopped until then).
    pub allow_future: bool,
}

/// How far ahead of the clock a start may be without `allow_future`: a
/// typed `16:24` at 16:23:45 is "now".
const FUTURE_SLACK_MS: Millis = 60_000;

/// Refuses an end time `at` still ahead of the clock: time not yet worked
/// would be reported, and posted to the ticket, as worked.
fn end_has_passed(at: Millis, flag: &str) -> Result<()> {
    if at <= now_ms() + FUTURE_SLACK_MS {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{flag} {} is in the future: that time has not been worked yet",
        local_display(at)
    ))
    .with_hint("give a time that has passed (e.g. `15m ago`, `now`); for work still going on, `msp session start` it and stop it when done"))
}

pub struct Started {
    pub session: SessionView,
    /// The session that was open and got closed by this start.
    pub closed: Option<SessionView>,
}

pub async fn open_session(db: &mut Db, machine_id: &str) -> Result<Option<Session>> {
    Ok(sqlx::query_as(
        "SELECT id, machine_id, client_id, project_id, title, summary, started_at, ended_at, billable, origin, claude_session_id
         FROM sessions WHERE machine_id = ? AND ended_at IS NULL",
    )
    .bind(machine_id)
    .fetch_optional(db)
    .await?)
}

/// Starts a session on this machine, closing the open one at the new start.
pub async fn start(db: &mut Db, machine_id: &str, req: StartRequest) -> Result<Started> {
    let now = now_ms();
    if let Some(at) = req.at
        && at > now + FUTURE_SLACK_MS
        && !req.allow_future
    {
        return Err(Error::usage(format!(
            "--at {} is in the future: the session could not be stopped before then",
            local_display(at)
        ))
        .with_hint(
            "give a time that has passed (e.g. `15m ago`), or add --allow-future if you mean it",
        ));
    }
    let mut tx = store::begin_write(db).await?;
    let at = req.at.unwrap_or_else(now_ms);
    let open = open_session(&mut tx, machine_id).await?;
    if let Some(open) = &open {
        if at < open.started_at {
            let short = ids::short_id(&open.id);
            return Err(Error::usage(format!("the new start ({}) is before the open session {short}'s start ({})", local_display(at), local_display(open.started_at))).with_hint(format!("`msp session edit {short} --from TIME` corrects its start, `msp session stop --at TIME` ends it first, or `msp session rm {short}` drops it")));
        }
        close(&mut tx, &open.id, at, None).await?;
    }
    let id = ids::new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id, machine_id, client_id, project_id, title, started_at, billable, origin, claude_session_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(machine_id)
    .bind(&req.scope.client_id)
    .bind(&req.scope.project_id)
    .bind(&req.title)
    .bind(at)
    .bind(req.billable)
    .bind(req.origin)
    .bind(&req.claude_session_id)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let closed = match open {
        Some(o) => Some(view(db, &o.id).await?),
        None => None,
    };
    Ok(Started {
        session: view(db, &id).await?,
        closed,
    })
}

async fn close(db: &mut Db, id: &str, at: Millis, summary: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE sessions SET ended_at = ?, summary = COALESCE(?, summary), updated_at = ? WHERE id = ?")
        .bind(at)
        .bind(summary)
        .bind(now_ms())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Stops the open session on this machine at `at` (`None`: now, read once
/// the write lock is held).
pub async fn stop(
    db: &mut Db,
    machine_id: &str,
    summary: Option<&str>,
    at: Option<Millis>,
) -> Result<SessionView> {
    let mut tx = store::begin_write(db).await?;
    let open = open_session(&mut tx, machine_id).await?.ok_or_else(|| {
        Error::NotFound("no open session on this machine".into())
            .with_hint("`msp session start` starts one; `msp session add` records past work")
    })?;
    let short = ids::short_id(&open.id);
    if let Some(at) = at {
        end_has_passed(at, "--at")?;
    }
    match at {
        Some(at) if at < open.started_at => {
            return Err(Error::usage(format!(
                "--at {} is before the open session {short} started ({})",
                local_display(at),
                local_display(open.started_at)
            ))
            .with_hint(format!(
                "give a later --at, or `msp session edit {short} --from TIME` to correct its start"
            )));
        }
        None if now_ms() < open.started_at => {
            // Started with a future --at: it cannot end before it begins.
            return Err(Error::usage(format!("the open session {short} was started at {}, which is still in the future, so it cannot stop now", local_display(open.started_at))).with_hint(format!("`msp session edit {short} --from TIME` sets when it really started (then stop it), or `msp session rm {short}` drops it")));
        }
        _ => {}
    }
    close(&mut tx, &open.id, at.unwrap_or_else(now_ms), summary).await?;
    tx.commit().await?;
    view(db, &open.id).await
}

pub struct PastSession {
    pub scope: Scope,
    pub from: Millis,
    pub to: Millis,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub billable: bool,
}

/// Records work done in the past (a closed session). Other sessions on this
/// machine that overlap it come back with it; `strict` refuses it instead.
pub async fn add(
    db: &mut Db,
    machine_id: &str,
    past: PastSession,
    strict: bool,
) -> Result<(SessionView, Vec<SessionView>)> {
    if past.to <= past.from {
        return Err(Error::usage(format!(
            "--to ({}) must be after --from ({})",
            local_display(past.to),
            local_display(past.from)
        ))
        .with_hint(
            "give the start with --from and the end with --to, e.g. --from 09:00 --to 10:30",
        ));
    }
    end_has_passed(past.to, "--to")?;
    let mut tx = store::begin_write(db).await?;
    let overlapping = overlapping(&mut tx, machine_id, past.from, past.to, None).await?;
    if strict && !overlapping.is_empty() {
        return Err(overlap_error(&overlapping, "record it"));
    }
    let id = ids::new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id, machine_id, client_id, project_id, title, summary, started_at, ended_at, billable, origin, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'manual', ?, ?)",
    )
    .bind(&id)
    .bind(machine_id)
    .bind(&past.scope.client_id)
    .bind(&past.scope.project_id)
    .bind(&past.title)
    .bind(&past.summary)
    .bind(past.from)
    .bind(past.to)
    .bind(past.billable)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((view(db, &id).await?, overlapping))
}

/// Sessions on `machine_id` (other than `except`) that share time with
/// [from, to); an open session runs until now. Oldest first.
pub async fn overlapping(
    db: &mut Db,
    machine_id: &str,
    from: Millis,
    to: Millis,
    except: Option<&str>,
) -> Result<Vec<SessionView>> {
    let now = now_ms();
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.machine_id = ?1 AND s.started_at < ?3 AND COALESCE(s.ended_at, max(?4, s.started_at)) > ?2
         AND (?5 IS NULL OR s.id != ?5) ORDER BY s.started_at"
    )))
    .bind(machine_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .bind(except)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.view(now)).collect())
}

fn overlap_error(with: &[SessionView], what: &str) -> Error {
    let list: Vec<String> = with.iter().map(overlap_line).collect();
    Error::Conflict(format!(
        "refused to {what} with --strict: it overlaps {}",
        list.join("; ")
    ))
    .with_hint(
        "`msp session edit ID --from/--to` moves the other session, or drop --strict to keep both",
    )
}

/// `2b156570 (2026-11-22 10:15 - 11:40)`.
pub fn overlap_line(v: &SessionView) -> String {
    format!(
        "{} ({} - {})",
        v.short_id,
        local_display(v.started_ms),
        v.ended_ms.map_or_else(|| "open".into(), local_display)
    )
}

/// What `msp session edit` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct SessionEdit {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// `Some("")` clears it.
    pub title: Option<String>,
    /// `Some("")` clears it.
    pub summary: Option<String>,
    /// `Some(None)`: no client (`--no-client`).
    pub client: Option<Option<String>>,
    /// `Some(None)`: no project (`--no-project`).
    pub project: Option<Option<String>>,
    pub billable: Option<bool>,
    /// Refuse rather than warn when the result overlaps another session.
    pub strict: bool,
}

pub struct Edited {
    pub session: SessionView,
    pub diff: Diff,
    /// Other sessions on the same machine it now overlaps.
    pub overlaps: Vec<SessionView>,
}

/// Corrects a session: its times, title, summary, client, project or
/// billable flag. Audited; a project implies its client, and a client that
/// contradicts the project is refused.
pub async fn edit(db: &mut Db, key: &str, e: SessionEdit) -> Result<Edited> {
    let current = resolve(db, key).await?;
    let mut tx = store::begin_write(db).await?;
    let old: Session = sqlx::query_as(
        "SELECT id, machine_id, client_id, project_id, title, summary, started_at, ended_at, billable, origin, claude_session_id
         FROM sessions WHERE id = ?",
    )
    .bind(&current.id)
    .fetch_one(&mut *tx)
    .await?;
    let short = ids::short_id(&old.id).to_string();
    let now = now_ms();
    let from = e.from.unwrap_or(old.started_at);
    if let Some(to) = e.to {
        end_has_passed(to, "--to")?;
    }
    let to = e.to.or(old.ended_at);
    match to {
        Some(to) if to <= from => {
            return Err(Error::usage(format!(
                "session {short} would end ({}) before it starts ({})",
                local_display(to),
                local_display(from)
            ))
            .with_hint("give both --from and --to"));
        }
        None if from > now => {
            return Err(Error::usage(format!(
                "session {short} is open, and an open session cannot start in the future ({})",
                local_display(from)
            ))
            .with_hint("give a --from in the past, or --to as well"));
        }
        _ => {}
    }
    let (client_id, project_id) = edited_scope(&mut tx, &old, &e).await?;
    let text = |v: Option<String>, old: &Option<String>| match v {
        None => old.clone(),
        Some(v) if v.trim().is_empty() => None,
        Some(v) => Some(v),
    };
    let title = text(e.title, &old.title);
    let summary = text(e.summary, &old.summary);
    let billable = e.billable.unwrap_or(old.billable);

    let mut diff = Diff::default();
    diff.field("started_at", &rfc3339(old.started_at), &rfc3339(from));
    diff.field("ended_at", &old.ended_at.map(rfc3339), &to.map(rfc3339));
    diff.field("title", &old.title, &title);
    diff.field("summary", &old.summary, &summary);
    diff.field("client_id", &old.client_id, &client_id);
    diff.field("project_id", &old.project_id, &project_id);
    diff.field("billable", &old.billable, &billable);
    audit::scope_names(
        &mut tx,
        &mut diff,
        (old.client_id.as_deref(), old.project_id.as_deref()),
        (client_id.as_deref(), project_id.as_deref()),
    )
    .await?;
    let overlaps = overlapping(
        &mut tx,
        &old.machine_id,
        from,
        to.unwrap_or(now.max(from)),
        Some(&old.id),
    )
    .await?;
    if e.strict && !overlaps.is_empty() {
        return Err(overlap_error(&overlaps, &format!("edit {short}")));
    }
    if !diff.is_empty() {
        sqlx::query(
            "UPDATE sessions SET started_at = ?, ended_at = ?, title = ?, summary = ?, client_id = ?, project_id = ?,
             billable = ?, updated_at = ? WHERE id = ?",
        )
        .bind(from)
        .bind(to)
        .bind(&title)
        .bind(&summary)
        .bind(&client_id)
        .bind(&project_id)
        .bind(billable)
        .bind(now)
        .bind(&old.id)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, "session", &old.id, "edit", &diff).await?;
    }
    tx.commit().await?;
    Ok(Edited {
        session: view(db, &old.id).await?,
        diff,
        overlaps,
    })
}

/// The client and project a session has after `e`.
async fn edited_scope(
    db: &mut Db,
    old: &Session,
    e: &SessionEdit,
) -> Result<(Option<String>, Option<String>)> {
    let project = match &e.project {
        None => match &old.project_id {
            Some(id) => projects::by_id(db, id).await?,
            None => None,
        },
        Some(None) => None,
        Some(Some(key)) => Some(projects::resolve(db, key).await?),
    };
    let client_id = match &e.client {
        None => match (&e.project, &project) {
            // A new project brings its client.
            (Some(Some(_)), Some(p)) => p.client_id.clone().or_else(|| old.client_id.clone()),
            _ => old.client_id.clone(),
        },
        Some(None) => None,
        Some(Some(key)) => Some(clients::resolve(db, key).await?.id),
    };
    if let Some(p) = &project
        && let Some(pc) = &p.client_id
        && client_id.as_deref() != Some(pc.as_str())
    {
        let owner = clients::by_id(db, pc).await?.map_or(pc.clone(), |c| c.name);
        return Err(Error::usage(format!("project {} belongs to client {owner}, so the session cannot have another client (or none)", p.slug)).with_hint("give --project with --client, or --no-project"));
    }
    Ok((client_id, project.map(|p| p.id)))
}

/// What `session rm` removed, and the ticket writes it dropped with it.
pub struct Removed {
    pub session: SessionView,
    /// Tickets its note or time was already posted to (kept in the PSA).
    pub posted: Vec<String>,
}

/// Deletes a session (audited; the deletion syncs as a tombstone). A
/// session whose note or time is queued for, or was posted to, a ticket is
/// refused unless `force`: the PSA keeps what it got, and a queued write
/// is dropped with the session.
pub async fn remove(db: &mut Db, key: &str, force: bool) -> Result<Removed> {
    let v = resolve(db, key).await?;
    let mut tx = store::begin_write(db).await?;
    let writes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT ticket_id, kind, status FROM ticket_outbox WHERE session_id = ? AND status != 'failed' ORDER BY created_at",
    )
    .bind(&v.id)
    .fetch_all(&mut *tx)
    .await?;
    if !writes.is_empty() && !force {
        let list: Vec<String> = writes
            .iter()
            .map(|(t, k, s)| {
                format!(
                    "{k} {} ticket {t}",
                    if s == "sent" {
                        "posted to"
                    } else {
                        "queued for"
                    }
                )
            })
            .collect();
        return Err(Error::Conflict(format!("session {} has its {}", v.short_id, list.join(", "))).with_hint(format!("`msp session rm {} --force` deletes it anyway (what the PSA already has stays there: remove it in the PSA too)", v.short_id)));
    }
    // A queued write would post a note for a session that is gone.
    sqlx::query("DELETE FROM ticket_outbox WHERE session_id = ? AND status != 'sent'")
        .bind(&v.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(&v.id)
        .execute(&mut *tx)
        .await?;
    let diff = Diff::removed(
        &v,
        &[
            "started_at",
            "ended_at",
            "title",
            "summary",
            "client_id",
            "project_id",
            "billable",
            "machine_id",
            "origin",
            "client",
            "project",
        ],
    );
    audit::record(&mut tx, "session", &v.id, "rm", &diff).await?;
    tx.commit().await?;
    let posted = writes
        .into_iter()
        .filter(|(_, _, s)| s == "sent")
        .map(|(t, _, _)| t)
        .collect();
    Ok(Removed { session: v, posted })
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub client_id: Option<String>,
    pub project_id: Option<String>,
    pub limit: Option<i64>,
}

/// Sessions that overlap [from, to), newest first.
pub async fn list(db: &mut Db, f: &Filter) -> Result<Vec<SessionView>> {
    let now = now_ms();
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (?1 IS NULL OR COALESCE(s.ended_at, ?5) > ?1) AND (?2 IS NULL OR s.started_at < ?2)
         AND (?3 IS NULL OR s.client_id = ?3) AND (?4 IS NULL OR s.project_id = ?4)
         ORDER BY s.started_at DESC LIMIT ?6"
    )))
    .bind(f.from)
    .bind(f.to)
    .bind(&f.client_id)
    .bind(&f.project_id)
    .bind(now)
    .bind(f.limit.unwrap_or(-1))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.view(now)).collect())
}

pub async fn status(db: &mut Db, machine_id: &str) -> Result<Option<SessionView>> {
    match open_session(db, machine_id).await? {
        Some(s) => Ok(Some(view(db, &s.id).await?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine;
    use crate::store::testing::temp_store;

    async fn setup(s: &mut store::Store) -> String {
        machine::testing::register_host(s.db(), "h").await
    }

    fn req(at: Millis) -> StartRequest {
        StartRequest {
            scope: Scope::default(),
            title: None,
            billable: false,
            at: Some(at),
            origin: "manual",
            claude_session_id: None,
            allow_future: false,
        }
    }

    #[tokio::test]
    async fn starting_closes_the_open_session_at_the_new_start() {
        let (_d, mut s) = temp_store().await;
        let m = setup(&mut s).await;
        let first = start(s.db(), &m, req(1_000_000)).await.unwrap();
        assert!(first.closed.is_none());
        let second = start(s.db(), &m, req(1_600_000)).await.unwrap();
        let closed = second.closed.unwrap();
        assert_eq!(closed.id, first.session.id);
        assert_eq!(closed.duration_seconds, 600);
        assert_eq!(
            status(s.db(), &m).await.unwrap().unwrap().id,
            second.session.id
        );
    }

    #[tokio::test]
    async fn stop_without_open_session_is_not_found() {
        let (_d, mut s) = temp_store().await;
        let m = setup(&mut s).await;
        assert!(matches!(
            stop(s.db(), &m, None, Some(5))
                .await
                .map_err(Error::into_kind),
            Err(Error::NotFound(_))
        ));
        start(s.db(), &m, req(1_000)).await.unwrap();
        assert!(matches!(
            stop(s.db(), &m, None, Some(500))
                .await
                .map_err(Error::into_kind),
            Err(Error::Usage(_))
        ));
        let v = stop(s.db(), &m, Some("done"), Some(61_000)).await.unwrap();
        assert_eq!(
            (v.status, v.duration_seconds, v.summary.as_deref()),
            ("closed", 60, Some("done"))
        );
    }

    #[tokio::test]
    async fn past_sessions_need_to_after_from() {
        let (_d, mut s) = temp_store().await;
        let m = setup(&mut s).await;
        let past = |from, to| PastSession {
            scope: Scope::default(),
            from,
            to,
            title: None,
            summary: None,
            billable: true,
        };
        assert!(matches!(
            add(s.db(), &m, past(10, 5), false)
                .await
                .map_err(Error::into_kind),
            Err(Error::Usage(_))
        ));
        let (v, overlaps) = add(s.db(), &m, past(0, 3_600_000), false).await.unwrap();
        assert!(overlaps.is_empty());
        assert_eq!(v.duration, "1h 00m");
        let f = Filter {
            from: Some(1_000),
            to: Some(2_000),
            ..Default::default()
        };
        assert_eq!(
            list(s.db(), &f).await.unwrap().len(),
            1,
            "overlapping sessions are listed"
        );
    }
}

/// What a Claude session's start did to time tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoStart {
    /// A session was opened for this Claude session.
    Started(String),
    /// The open automatic session for the same project goes on.
    Continued(String),
    /// A session the user started by hand is open: it wins, nothing changed.
    ManualOpen(String),
}

/// Opens (or continues) the automatic work session when a Claude session
/// starts in a project directory. Never touches a session started by hand.
pub async fn claude_session_started(
    db: &mut Db,
    machine_id: &str,
    scope: Scope,
    claude_session_id: &str,
    at: Millis,
) -> Result<AutoStart> {
    let mut tx = store::begin_write(db).await?;
    if let Some(open) = open_session(&mut tx, machine_id).await? {
        if open.origin == "manual" {
            return Ok(AutoStart::ManualOpen(open.id));
        }
        if open.project_id == scope.project_id {
            return Ok(AutoStart::Continued(open.id));
        }
        close(&mut tx, &open.id, at.max(open.started_at), None).await?;
    }
    let id = ids::new_id();
    sqlx::query(
        "INSERT INTO sessions (id, machine_id, client_id, project_id, started_at, billable, origin, claude_session_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 0, 'claude', ?, ?, ?)",
    )
    .bind(&id)
    .bind(machine_id)
    .bind(&scope.client_id)
    .bind(&scope.project_id)
    .bind(at)
    .bind(claude_session_id)
    .bind(at)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(AutoStart::Started(id))
}

/// When an automatic session was last active: its start, or the last time
/// the save hook captured its Claude session's transcript (every Stop).
const LAST_ACTIVITY: &str =
    "max(s.started_at, COALESCE((SELECT max(c.updated_at) FROM capture_offsets c
    WHERE c.claude_session_id = s.claude_session_id), s.started_at))";

/// An automatic session closed because it was idle.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdleClosed {
    pub id: String,
    pub claude_session_id: Option<String>,
    /// Its last activity, where it now ends.
    pub ended_at: Millis,
}

/// The open automatic session on this machine idle for longer than
/// `idle_minutes`, if any (a read: the prompt path asks before it writes).
pub async fn idle_open(
    db: &mut Db,
    machine_id: &str,
    idle_minutes: u64,
    now: Millis,
) -> Result<Option<String>> {
    if idle_minutes == 0 {
        return Ok(None);
    }
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT s.id FROM sessions s WHERE s.machine_id = ? AND s.ended_at IS NULL AND s.origin = 'claude'
         AND {LAST_ACTIVITY} < ?"
    )))
    .bind(machine_id)
    .bind(now - idle_ms(idle_minutes))
    .fetch_optional(db)
    .await?)
}

/// Closes the open automatic session on this machine if it has had no
/// activity for longer than `idle_minutes`, at its last activity: Claude was
/// killed before `SessionEnd`, or `SessionEnd` could not get the lock, and
/// billable time must not go on counting. One UPDATE through the index of
/// open sessions. Sessions started by hand are left alone.
pub async fn close_idle(
    db: &mut Db,
    machine_id: &str,
    idle_minutes: u64,
    now: Millis,
) -> Result<Option<IdleClosed>> {
    if idle_minutes == 0 {
        return Ok(None);
    }
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sessions AS s SET ended_at = {LAST_ACTIVITY}, updated_at = ?
         WHERE s.machine_id = ? AND s.ended_at IS NULL AND s.origin = 'claude' AND {LAST_ACTIVITY} < ?
         RETURNING id, claude_session_id, ended_at"
    )))
    .bind(now)
    .bind(machine_id)
    .bind(now - idle_ms(idle_minutes))
    .fetch_optional(db)
    .await?)
}

fn idle_ms(minutes: u64) -> Millis {
    Millis::try_from(minutes.saturating_mul(60_000)).unwrap_or(Millis::MAX)
}

/// Closes the automatic work session opened for this Claude session, if it
/// is still open. Manual sessions and other Claude sessions' are left alone.
pub async fn claude_session_ended(
    db: &mut Db,
    machine_id: &str,
    claude_session_id: &str,
    at: Millis,
) -> Result<Option<String>> {
    let mut tx = store::begin_write(db).await?;
    let Some(open) = open_session(&mut tx, machine_id).await? else {
        return Ok(None);
    };
    if open.origin != "claude" || open.claude_session_id.as_deref() != Some(claude_session_id) {
        return Ok(None);
    }
    close(&mut tx, &open.id, at.max(open.started_at), None).await?;
    tx.commit().await?;
    Ok(Some(open.id))
}

#[cfg(test)]
mod auto_tests {
    use super::*;
    use crate::machine;
    use crate::store::testing::temp_store;

    #[tokio::test]
    async fn claude_sessions_open_continue_close_and_never_touch_manual_ones() {
        let (_d, mut s) = temp_store().await;
        let m = machine::testing::register_host(s.db(), "h").await;
        let id = match claude_session_started(s.db(), &m, Scope::default(), "c1", 1_000)
            .await
            .unwrap()
        {
            AutoStart::Started(id) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            claude_session_started(s.db(), &m, Scope::default(), "c2", 2_000)
                .await
                .unwrap(),
            AutoStart::Continued(id.clone())
        );
        assert_eq!(
            claude_session_ended(s.db(), &m, "other", 3_000)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            claude_session_ended(s.db(), &m, "c1", 61_000)
                .await
                .unwrap(),
            Some(id.clone())
        );
        assert_eq!(view(s.db(), &id).await.unwrap().duration_seconds, 60);

        let manual = StartRequest {
            scope: Scope::default(),
            title: None,
            billable: false,
            at: Some(100_000),
            origin: "manual",
            claude_session_id: None,
            allow_future: false,
        };
        let started = start(s.db(), &m, manual).await.unwrap();
        assert_eq!(
            claude_session_started(s.db(), &m, Scope::default(), "c3", 200_000)
                .await
                .unwrap(),
            AutoStart::ManualOpen(started.session.id.clone())
        );
        assert_eq!(
            claude_session_ended(s.db(), &m, "c3", 300_000)
                .await
                .unwrap(),
            None
        );
        assert!(
            status(s.db(), &m).await.unwrap().is_some(),
            "the manual session stays open"
        );
    }

    #[tokio::test]
    async fn idle_automatic_sessions_close_at_their_last_activity_and_manual_ones_stay() {
        let (_d, mut s) = temp_store().await;
        let m = machine::testing::register_host(s.db(), "h").await;
        let min = 60_000;
        let AutoStart::Started(id) =
            claude_session_started(s.db(), &m, Scope::default(), "c1", 1_000 * min)
                .await
                .unwrap()
        else {
            panic!("not started")
        };
        // A Stop captured the transcript 10 minutes in.
        sqlx::query("INSERT INTO capture_offsets VALUES ('/t/c1.jsonl', 10, 'c1', ?)")
            .bind(1_010 * min)
            .execute(s.db())
            .await
            .unwrap();
        // 29 minutes after that: not idle yet.
        assert_eq!(idle_open(s.db(), &m, 30, 1_039 * min).await.unwrap(), None);
        assert_eq!(close_idle(s.db(), &m, 30, 1_039 * min).await.unwrap(), None);
        assert_eq!(
            close_idle(s.db(), &m, 0, 9_999 * min).await.unwrap(),
            None,
            "0: never"
        );
        // 31 minutes: closed where the activity stopped.
        let now = 1_041 * min;
        assert_eq!(
            idle_open(s.db(), &m, 30, now).await.unwrap(),
            Some(id.clone())
        );
        let closed = close_idle(s.db(), &m, 30, now).await.unwrap().unwrap();
        assert_eq!(closed.id, id);
        assert_eq!(closed.claude_session_id.as_deref(), Some("c1"));
        assert_eq!(closed.ended_at, 1_010 * min);
        assert_eq!(view(s.db(), &id).await.unwrap().duration_seconds, 600);
        assert_eq!(close_idle(s.db(), &m, 30, now).await.unwrap(), None);

        // A session started by hand runs on however long it is idle.
        let manual = StartRequest {
            scope: Scope::default(),
            title: None,
            billable: true,
            at: Some(2_000 * min),
            origin: "manual",
            claude_session_id: None,
            allow_future: false,
        };
        start(s.db(), &m, manual).await.unwrap();
        assert_eq!(close_idle(s.db(), &m, 30, 9_000 * min).await.unwrap(), None);
        assert!(status(s.db(), &m).await.unwrap().is_some());
    }
}
