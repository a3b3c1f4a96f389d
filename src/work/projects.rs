//! The `projects` and `project_paths` tables, and `which`: how a directory
//! maps to a project (exact directory, nearest linked parent, or the git
//! remote of the repository it sits in). `which` reads only the store and
//! `.git/config`, so the hooks can call it.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::Scope;
use super::audit::Diff;
use super::clients::{self, Client};
use crate::error::{Error, Result, is_unique_violation};
use crate::ids;
use crate::store::Db;
use crate::time::{Millis, now_ms};

pub const STATUSES: &[&str] = &["active", "paused", "done", "archived"];

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: String,
    pub client_id: Option<String>,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub priority: String,
    pub description: Option<String>,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub created_at: Millis,
}

/// A project with its client's name and its links, as printed and as `--json`.
#[derive(Debug, Serialize)]
pub struct ProjectView {
    #[serde(flatten)]
    pub project: Project,
    pub client: Option<String>,
    pub paths: Vec<PathView>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PathView {
    pub kind: String,
    pub value: String,
}

const COLUMNS: &str = "id, client_id, slug, name, status, priority, description, created_at";
/// [`COLUMNS`] of a `projects` table aliased `p`.
const PROJECT_COLUMNS: &str =
    "p.id, p.client_id, p.slug, p.name, p.status, p.priority, p.description, p.created_at";

pub struct NewProject<'a> {
    pub slug: &'a str,
    pub name: Option<&'a str>,
    pub client: Option<&'a str>,
    pub priority: &'a str,
    pub description: Option<&'a str>,
}

fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && slug
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

fn check_slug(slug: &str) -> Result<()> {
    if is_slug(slug) {
        return Ok(());
    }
    // A display name typed where the slug goes ("Acme Infra"): name the slug
    // it makes, and where the name itself belongs.
    let suggested = super::slugify(slug);
    let hint = if is_slug(&suggested) {
        format!("use {suggested:?}, and --name {slug:?} to keep the display name")
    } else {
        "use lower-case letters, digits, '-' and '_' (e.g. dataforth-dos), at most 64".to_owned()
    };
    Err(Error::usage(format!("{slug:?} is not a valid project slug")).with_hint(hint))
}

pub async fn add(db: &mut Db, new: NewProject<'_>) -> Result<Project> {
    check_slug(new.slug)?;
    let priority = super::check_priority(new.priority)?;
    let client = match new.client {
        Some(c) => Some(clients::resolve(db, c).await?),
        None => None,
    };
    // New work for an archived client is refused, as a session or task is
    // (the project would be hidden from `project list`).
    if let Some(c) = &client {
        clients::require_active(c)?;
    }
    let now = now_ms();
    let id = ids::new_id();
    let res = sqlx::query(
        "INSERT INTO projects (id, client_id, slug, name, priority, description, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(client.as_ref().map(|c| c.id.as_str()))
    .bind(new.slug)
    .bind(new.name.unwrap_or(new.slug))
    .bind(&priority)
    .bind(new.description)
    .bind(now)
    .bind(now)
    .execute(&mut *db)
    .await;
    match res {
        Ok(_) => by_id(db, &id)
            .await?
            .ok_or_else(|| Error::Other("project vanished after insert".into())),
        Err(e) if is_unique_violation(&e) => Err(Error::Conflict(format!(
            "a project with slug {:?} already exists",
            new.slug
        ))
        .with_hint("choose another slug; `msp project list` shows existing ones")),
        Err(e) => Err(e.into()),
    }
}

pub async fn by_id(db: &mut Db, id: &str) -> Result<Option<Project>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Slugs of the projects with these ids (one statement; unknown ids are left out).
pub async fn slugs(db: &mut Db, ids: &[&str]) -> Result<std::collections::HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, slug FROM projects WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(serde_json::to_string(ids).unwrap_or_default())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// A project by slug or id; failing those, by a slug it had before
/// (`project update --slug`), so that scripts outlive the change. A current
/// slug always wins.
pub async fn resolve(db: &mut Db, key: &str) -> Result<Project> {
    let key = key.trim();
    if let Some(p) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE slug = ?1 OR id = ?1 OR slug = lower(?1) LIMIT 1"
    )))
    .bind(key)
    .fetch_optional(&mut *db)
    .await?
    {
        return Ok(p);
    }
    let slug = key.to_lowercase();
    match super::by_former_slug(db, "project", key, &slug, by_id, |p: &Project| &p.slug).await? {
        Some(p) => Ok(p),
        None => Err(crate::suggest::not_found(
            db,
            "project",
            key,
            "SELECT slug FROM projects",
            "`msp project list` shows projects; `msp project add SLUG` creates one",
        )
        .await),
    }
}

/// Every project (of one client), archived ones included.
pub async fn list(db: &mut Db, client_id: Option<&str>) -> Result<Vec<Project>> {
    listing(db, client_id, true).await
}

/// Projects by slug; archived ones (and those of archived clients) only
/// with `archived`.
pub async fn listing(db: &mut Db, client_id: Option<&str>, archived: bool) -> Result<Vec<Project>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PROJECT_COLUMNS} FROM projects p LEFT JOIN clients c ON c.id = p.client_id
         WHERE (?1 IS NULL OR p.client_id = ?1)
           AND (?2 OR (p.status != 'archived' AND c.archived_at IS NULL))
         ORDER BY p.slug"
    )))
    .bind(client_id)
    .bind(archived)
    .fetch_all(db)
    .await?)
}

/// Refuses new work for an archived project.
pub fn require_active(p: &Project) -> Result<()> {
    if p.status == "archived" {
        return Err(
            Error::Conflict(format!("project {} is archived", p.slug)).with_hint(format!(
                "`msp project archive {} --undo` brings it back",
                p.slug
            )),
        );
    }
    Ok(())
}

/// What `msp project update` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProjectUpdate {
    pub slug: Option<String>,
    pub name: Option<String>,
    /// `Some(None)`: no client. Moves the project's sessions, tasks and
    /// memories to the new client with it.
    pub client: Option<Option<String>>,
    pub status: Option<String>,
    pub priority: Option<String>,
    /// `Some("")` clears it.
    pub description: Option<String>,
}

/// What an update did.
#[derive(Debug, Serialize)]
pub struct Updated {
    #[serde(skip)]
    pub project: Project,
    pub changed: Diff,
    /// Sessions, tasks and memories moved to the new client with it.
    pub moved: Option<MovedWork>,
}

#[derive(Debug, Default, Serialize)]
pub struct MovedWork {
    pub sessions: u64,
    pub tasks: u64,
    pub memories: u64,
}

/// Corrects a project (audited), in the caller's write transaction. A new
/// client takes the project's sessions and tasks along (the project was
/// filed under the wrong client, and its work with it); the caller moves
/// its memories (`app::update_project`), which this module cannot reach.
pub async fn update_in(tx: &mut Db, key: &str, u: ProjectUpdate) -> Result<Updated> {
    if let Some(slug) = &u.slug {
        check_slug(slug)?;
    }
    let priority = u
        .priority
        .as_deref()
        .map(super::check_priority)
        .transpose()?;
    if let Some(status) = &u.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(Error::usage(format!("unknown status {status:?}"))
            .with_hint(format!("use one of {}", STATUSES.join(", "))));
    }
    let p = resolve(&mut *tx, key).await?;
    let client_id = match &u.client {
        None => p.client_id.clone(),
        Some(None) => None,
        Some(Some(c)) => {
            let c = clients::resolve(&mut *tx, c).await?;
            // Moved to an archived client, it would vanish from the list.
            if p.client_id.as_deref() != Some(c.id.as_str()) {
                clients::require_active(&c)?;
            }
            Some(c.id)
        }
    };
    let new = Project {
        id: p.id.clone(),
        client_id,
        slug: u.slug.clone().unwrap_or_else(|| p.slug.clone()),
        name: u
            .name
            .clone()
            .map_or_else(|| p.name.clone(), |n| n.trim().to_string()),
        status: u.status.clone().unwrap_or_else(|| p.status.clone()),
        priority: priority.unwrap_or_else(|| p.priority.clone()),
        description: match &u.description {
            None => p.description.clone(),
            Some(d) if d.trim().is_empty() => None,
            Some(d) => Some(d.clone()),
        },
        created_at: p.created_at,
    };
    if new.name.is_empty() {
        return Err(Error::usage("a project needs a name"));
    }
    let mut diff = Diff::default();
    diff.field("slug", &p.slug, &new.slug);
    diff.field("name", &p.name, &new.name);
    diff.field("client_id", &p.client_id, &new.client_id);
    diff.field("status", &p.status, &new.status);
    diff.field("priority", &p.priority, &new.priority);
    diff.field("description", &p.description, &new.description);
    super::audit::scope_names(
        &mut *tx,
        &mut diff,
        (p.client_id.as_deref(), None),
        (new.client_id.as_deref(), None),
    )
    .await?;
    if diff.is_empty() {
        return Ok(Updated {
            project: p,
            changed: diff,
            moved: None,
        });
    }
    let res = sqlx::query(
        "UPDATE projects SET slug = ?, name = ?, client_id = ?, status = ?, priority = ?, description = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(&new.slug)
    .bind(&new.name)
    .bind(&new.client_id)
    .bind(&new.status)
    .bind(&new.priority)
    .bind(&new.description)
    .bind(now_ms())
    .bind(&p.id)
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::Conflict(format!(
                "a project with slug {:?} already exists",
                new.slug
            ))
            .with_hint("choose another slug; `msp project list --all` shows every project"));
        }
        Err(e) => return Err(e.into()),
    }
    let moved = if new.client_id != p.client_id {
        let mut moved = MovedWork::default();
        for (table, n) in [
            ("sessions", &mut moved.sessions),
            ("tasks", &mut moved.tasks),
        ] {
            *n = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET client_id = ?1 WHERE project_id = ?2 AND client_id IS NOT ?1"
            )))
            .bind(&new.client_id)
            .bind(&p.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        Some(moved)
    } else {
        None
    };
    Ok(Updated {
        project: by_id(&mut *tx, &p.id).await?.unwrap_or(new),
        changed: diff,
        moved,
    })
}

/// Records an update in the audit log, with the work that moved along.
pub async fn audit_update(tx: &mut Db, u: &Updated) -> Result<()> {
    let mut diff = u.changed.clone();
    if let Some(moved) = &u.moved {
        diff.new.insert("moved".into(), serde_json::json!(moved));
    }
    super::audit::record(tx, "project", &u.project.id, "update", &diff).await
}

/// Archives a project (status `archived`) or brings it back (`active`).
/// Returns whether anything changed.
pub async fn archive(db: &mut Db, key: &str, undo: bool) -> Result<(Project, bool)> {
    let mut tx = crate::store::begin_write(db).await?;
    let p = resolve(&mut tx, key).await?;
    let status = if undo { "active" } else { "archived" };
    if (p.status == "archived") != undo {
        return Ok((p, false));
    }
    set_status(
        &mut tx,
        &p,
        status,
        if undo { "unarchive" } else { "archive" },
    )
    .await?;
    let p = resolve(&mut tx, &p.id).await?;
    tx.commit().await?;
    Ok((p, true))
}

async fn set_status(db: &mut Db, p: &Project, status: &str, action: &'static str) -> Result<()> {
    sqlx::query("UPDATE projects SET status = ?, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(now_ms())
        .bind(&p.id)
        .execute(&mut *db)
        .await?;
    let mut diff = Diff::default();
    diff.field("status", &p.status, &status.to_string());
    super::audit::record(db, "project", &p.id, action, &diff).await
}

/// Archives every project of a client that is not archived yet (inside the
/// caller's transaction); returns how many.
pub(crate) async fn archive_all_of_client(db: &mut Db, client_id: &str) -> Result<u64> {
    let open: Vec<Project> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE client_id = ? AND status != 'archived'"
    )))
    .bind(client_id)
    .fetch_all(&mut *db)
    .await?;
    for p in &open {
        set_status(db, p, "archived", "archive").await?;
    }
    Ok(open.len() as u64)
}

/// What `project rm` did.
#[derive(Debug, Serialize)]
pub struct Removal {
    pub slug: String,
    pub id: String,
    /// Deleted for good (nothing referred to it).
    pub deleted: bool,
    /// Archived instead (`--force` with references).
    pub archived: bool,
    pub references: clients::References,
}

/// Deletes a project nothing refers to (its directory and remote links go
/// with it). One with sessions, tasks or memories is refused, unless
/// `force`, which archives it instead. Audited; syncs as a tombstone.
pub async fn remove(db: &mut Db, key: &str, force: bool) -> Result<Removal> {
    let mut tx = crate::store::begin_write(db).await?;
    let p = resolve(&mut tx, key).await?;
    let references: clients::References = sqlx::query_as(
        "SELECT 0 AS projects, 0 AS credentials,
                (SELECT count(*) FROM sessions WHERE project_id = ?1) AS sessions,
                (SELECT count(*) FROM tasks WHERE project_id = ?1) AS tasks,
                (SELECT count(*) FROM memories WHERE project_id = ?1) AS memories",
    )
    .bind(&p.id)
    .fetch_one(&mut *tx)
    .await?;
    let removal = |deleted, archived, references| Removal {
        slug: p.slug.clone(),
        id: p.id.clone(),
        deleted,
        archived,
        references,
    };
    if references.is_empty() {
        let links = paths(&mut tx, &p.id).await?;
        sqlx::query("DELETE FROM projects WHERE id = ?")
            .bind(&p.id)
            .execute(&mut *tx)
            .await?;
        let mut diff = Diff::removed(&p, &["slug", "name", "client_id", "status"]);
        diff.old.insert("paths".into(), serde_json::json!(links));
        super::audit::record(&mut tx, "project", &p.id, "rm", &diff).await?;
        tx.commit().await?;
        return Ok(removal(true, false, references));
    }
    if !force {
        return Err(Error::Conflict(format!(
            "project {} still has {}: deleting it would lose or unscope them",
            p.slug,
            references.describe()
        ))
        .with_hint(format!(
            "`msp project rm {} --force` archives it instead (kept for reports, hidden from lists)",
            p.slug
        )));
    }
    if p.status != "archived" {
        set_status(&mut tx, &p, "archived", "archive").await?;
    }
    tx.commit().await?;
    Ok(removal(false, true, references))
}

pub async fn paths(db: &mut Db, project_id: &str) -> Result<Vec<PathView>> {
    Ok(sqlx::query_as(
        "SELECT kind, value FROM project_paths WHERE project_id = ? ORDER BY kind, value",
    )
    .bind(project_id)
    .fetch_all(db)
    .await?)
}

pub async fn view(db: &mut Db, p: &Project) -> Result<ProjectView> {
    let client: Option<Client> = match &p.client_id {
        Some(id) => clients::by_id(db, id).await?,
        None => None,
    };
    Ok(ProjectView {
        project: p.clone(),
        client: client.map(|c| c.name),
        paths: paths(db, &p.id).await?,
    })
}

/// Makes `dir` absolute and lexically clean without touching the disk
/// beyond `canonicalize` when the directory exists (symlinks resolved; on
/// Windows the file system's own letter case, and a plain `C:\...` or
/// `\\server\share\...` rather than the `\\?\` form canonicalize gives,
/// so a directory reads the same however Claude Code or the shell spells it).
pub fn normalize_dir(dir: &Path) -> Result<PathBuf> {
    if let Ok(c) = dir.canonicalize() {
        return Ok(plain_windows_path(c));
    }
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()?.join(dir)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Ok(plain_windows_path(out))
}

/// `\\?\C:\x` as `C:\x` and `\\?\UNC\host\share` as `\\host\share`, with an
/// upper-case drive letter; anything else as it is. Only on Windows.
fn plain_windows_path(p: PathBuf) -> PathBuf {
    if !cfg!(windows) {
        return p;
    }
    let s = p.to_string_lossy();
    let plain = if let Some(unc) = s.strip_prefix(r"\\?\UNC\") {
        format!(r"\\{unc}")
    } else {
        s.strip_prefix(r"\\?\").unwrap_or(&s).to_string()
    };
    let mut chars: Vec<char> = plain.chars().collect();
    if chars.len() >= 2 && chars[1] == ':' && chars[0].is_ascii_alphabetic() {
        chars[0] = chars[0].to_ascii_uppercase();
    }
    PathBuf::from(chars.into_iter().collect::<String>())
}

/// Links a directory on this machine (or a git remote, anywhere) to a project.
/// Linking what is already linked to the same project changes nothing.
pub async fn link_dir(
    db: &mut Db,
    project: &Project,
    dir: &Path,
    machine_id: &str,
) -> Result<bool> {
    let dir = normalize_dir(dir)?;
    link(db, project, "dir", &dir.to_string_lossy(), machine_id).await
}

pub async fn link_remote(db: &mut Db, project: &Project, url: &str) -> Result<bool> {
    let norm = normalize_remote(url)
        .ok_or_else(|| {
            Error::usage(format!("{url:?} does not look like a git remote URL")).with_hint(
                "give it as `git remote get-url origin` prints it, e.g. https://github.com/acme/site or git@github.com:acme/site.git",
            )
        })?;
    link(db, project, "git_remote", &norm, "").await
}

async fn link(
    db: &mut Db,
    project: &Project,
    kind: &str,
    value: &str,
    machine_id: &str,
) -> Result<bool> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT project_id FROM project_paths WHERE kind = ? AND value = ? AND machine_id = ?",
    )
    .bind(kind)
    .bind(value)
    .bind(machine_id)
    .fetch_optional(&mut *db)
    .await?;
    match existing {
        Some(pid) if pid == project.id => Ok(false),
        Some(pid) => {
            let other = by_id(db, &pid).await?.map(|p| p.slug).unwrap_or(pid);
            Err(
                Error::Conflict(format!("{value} is already linked to project {other}"))
                    .with_hint(format!("`msp project unlink {value}` first")),
            )
        }
        None => {
            sqlx::query(
                "INSERT INTO project_paths (id, project_id, kind, value, machine_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(ids::new_id())
            .bind(&project.id)
            .bind(kind)
            .bind(value)
            .bind(machine_id)
            .bind(now_ms())
            .execute(db)
            .await?;
            Ok(true)
        }
    }
}

/// Removes a directory or remote link; returns the links removed, as
/// stored (a directory's path, a remote's normalised form).
pub async fn unlink(db: &mut Db, target: &str, machine_id: &str) -> Result<Vec<String>> {
    let dir = normalize_dir(Path::new(target))?
        .to_string_lossy()
        .into_owned();
    // A URL, or the host/path form `project show` prints and link errors name.
    let remote = normalize_remote(target)
        .or_else(|| normalize_remote(&format!("https://{}", target.trim())))
        .unwrap_or_default();
    Ok(sqlx::query_scalar(
        "DELETE FROM project_paths WHERE (kind = 'dir' AND value = ? AND machine_id IN (?, ''))
         OR (kind = 'git_remote' AND value = ?) RETURNING value",
    )
    .bind(dir)
    .bind(machine_id)
    .bind(remote)
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Parent,
    GitRemote,
}

#[derive(Debug, Clone)]
pub struct Which {
    pub project: Project,
    pub matched: MatchKind,
    pub value: String,
}

/// A directory path longer than this is no real path (PATH_MAX); looking up
/// all its ancestors would cost quadratic time and memory.
pub const MAX_DIR_BYTES: usize = 4096;

/// The scope of a directory on this machine: the project it belongs to (see
/// [`which`]) and that project's client; neither for an unlinked directory or
/// a path longer than any real one.
pub async fn scope_of_dir(
    db: &mut Db,
    dir: &Path,
    machine_id: &str,
) -> Result<(Scope, Option<Project>)> {
    if dir.as_os_str().len() > MAX_DIR_BYTES {
        return Ok((Scope::default(), None));
    }
    Ok(match which(db, dir, machine_id).await? {
        Some(w) => (
            Scope {
                project_id: Some(w.project.id.clone()),
                client_id: w.project.client_id.clone(),
            },
            Some(w.project),
        ),
        None => (Scope::default(), None),
    })
}

/// Which project `dir` belongs to on this machine: exact linked directory,
/// else the nearest linked parent, else the git remote of its repository.
pub async fn which(db: &mut Db, dir: &Path, machine_id: &str) -> Result<Option<Which>> {
    let dir = normalize_dir(dir)?;
    let ancestors: Vec<String> = dir
        .ancestors()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // One statement: this runs before every prompt.
    #[derive(sqlx::FromRow)]
    struct Hit {
        #[sqlx(flatten)]
        project: Project,
        value: String,
    }
    let hit: Option<Hit> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PROJECT_COLUMNS}, pp.value FROM project_paths pp JOIN projects p ON p.id = pp.project_id
         WHERE pp.kind = 'dir' AND pp.machine_id IN (?1, '') AND pp.value IN (SELECT value FROM json_each(?2))
         ORDER BY length(pp.value) DESC LIMIT 1"
    )))
    .bind(machine_id)
    .bind(serde_json::to_string(&ancestors).unwrap_or_default())
    .fetch_optional(&mut *db)
    .await?;
    if let Some(Hit { project, value }) = hit {
        let matched = if value == ancestors[0] {
            MatchKind::Exact
        } else {
            MatchKind::Parent
        };
        return Ok(Some(Which {
            project,
            matched,
            value,
        }));
    }
    let Some(remote) = git_remote_of(&dir) else {
        return Ok(None);
    };
    let pid: Option<String> = sqlx::query_scalar(
        "SELECT project_id FROM project_paths WHERE kind = 'git_remote' AND value = ? LIMIT 1",
    )
    .bind(&remote)
    .fetch_optional(&mut *db)
    .await?;
    Ok(match pid {
        Some(pid) => by_id(db, &pid).await?.map(|project| Which {
            project,
            matched: MatchKind::GitRemote,
            value: remote,
        }),
        None => None,
    })
}

/// The normalised `origin` URL (else the first remote) of the repository
/// containing `dir`, read from `.git/config` without running git.
pub fn git_remote_of(dir: &Path) -> Option<String> {
    for d in dir.ancestors() {
        let dotgit = d.join(".git");
        let git_dir = if dotgit.is_dir() {
            dotgit
        } else if dotgit.is_file() {
            // A worktree or submodule: `.git` is a file `gitdir: PATH`.
            let text = read_git_file(&dotgit).ok()?;
            let target = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
            let target = if target.is_absolute() {
                target
            } else {
                d.join(target)
            };
            // Worktrees keep their config in the common dir.
            match read_git_file(&target.join("commondir")) {
                Ok(common) => target.join(common.trim()),
                Err(_) => target,
            }
        } else {
            continue;
        };
        let config = read_git_file(&git_dir.join("config")).ok()?;
        return remote_from_config(&config).and_then(|u| normalize_remote(&u));
    }
    None
}

/// A small git metadata file. The hooks read these in whatever directory
/// Claude runs in, so a FIFO or a huge file there must not hold them up.
fn read_git_file(path: &Path) -> std::io::Result<String> {
    crate::files::read_string_capped(path, crate::files::CONFIG_CAP)
}

fn remote_from_config(config: &str) -> Option<String> {
    let mut section = String::new();
    let mut first: Option<String> = None;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        if !section.starts_with("[remote ") {
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim() == "url"
        {
            let url = v.trim().to_string();
            if section == "[remote \"origin\"]" {
                return Some(url);
            }
            first.get_or_insert(url);
        }
    }
    first
}

/// `git@github.com:Org/Repo.git`, `https://user@github.com/org/repo`,
/// `ssh://git@github.com:22/org/repo.git` -> `github.com/org/repo`.
pub fn normalize_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_once('/')?;
        (host.split(':').next()?.to_string(), path.to_string())
    } else if let Some((userhost, path)) = url.split_once(':') {
        // scp-like syntax: [user@]host:path
        let host = userhost.rsplit_once('@').map_or(userhost, |(_, h)| h);
        if host.is_empty() || host.contains('/') {
            return None;
        }
        (host.to_string(), path.to_string())
    } else {
        return None;
    };
    let path = path
        .trim_matches('/')
        .trim_end_matches(".git")
        .trim_matches('/');
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{}",
        host.to_ascii_lowercase(),
        path.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    /// A project with slug `slug` and nothing else set.
    fn np(slug: &str) -> NewProject<'_> {
        NewProject {
            slug,
            name: None,
            client: None,
            priority: "normal",
            description: None,
        }
    }

    #[test]
    fn an_invalid_slug_is_told_the_slug_its_name_makes() {
        assert!(check_slug("acme-infra").is_ok());
        let err = check_slug("Acme Infra").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""Acme Infra" is not a valid project slug"#
        );
        assert_eq!(
            err.hint(),
            Some(r#"use "acme-infra", and --name "Acme Infra" to keep the display name"#)
        );
        let err = check_slug("!!!").unwrap_err();
        assert!(
            err.hint().unwrap().contains("lower-case letters"),
            "{err:?}"
        );
    }

    #[test]
    fn remotes_normalise_to_host_and_path() {
        for url in [
            "git@github.com:Dataforth/DOS.git",
            "https://github.com/dataforth/dos",
            "https://token@github.com/dataforth/dos.git/",
            "ssh://git@github.com:22/dataforth/dos.git",
        ] {
            assert_eq!(
                normalize_remote(url).as_deref(),
                Some("github.com/dataforth/dos"),
                "{url}"
            );
        }
        assert_eq!(normalize_remote("/just/a/path"), None);
    }

    #[test]
    fn origin_wins_over_other_remotes() {
        let cfg = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = git@h:a/b.git\n[remote \"origin\"]\n\turl = git@h:c/d.git\n";
        assert_eq!(remote_from_config(cfg).as_deref(), Some("git@h:c/d.git"));
    }

    #[tokio::test]
    async fn which_prefers_exact_then_parent_then_remote() {
        let (dir, mut s) = temp_store().await;
        let root = dir.path().join("work");
        let sub = root.join("app").join("src");
        std::fs::create_dir_all(&sub).unwrap();
        let other = dir.path().join("clone");
        std::fs::create_dir_all(other.join(".git")).unwrap();
        std::fs::write(
            other.join(".git/config"),
            "[remote \"origin\"]\n\turl = git@github.com:acme/site.git\n",
        )
        .unwrap();

        let a = add(s.db(), np("alpha")).await.unwrap();
        let b = add(s.db(), np("beta")).await.unwrap();
        link_dir(s.db(), &a, &root, "m1").await.unwrap();
        link_dir(s.db(), &b, &root.join("app"), "m1").await.unwrap();
        link_remote(s.db(), &a, "https://github.com/acme/site")
            .await
            .unwrap();

        let w = which(s.db(), &root, "m1").await.unwrap().unwrap();
        assert_eq!(
            (w.project.slug.as_str(), w.matched),
            ("alpha", MatchKind::Exact)
        );
        let w = which(s.db(), &sub, "m1").await.unwrap().unwrap();
        assert_eq!(
            (w.project.slug.as_str(), w.matched),
            ("beta", MatchKind::Parent)
        );
        let w = which(s.db(), &other, "m1").await.unwrap().unwrap();
        assert_eq!(
            (w.project.slug.as_str(), w.matched),
            ("alpha", MatchKind::GitRemote)
        );
        // Directory links belong to the machine that made them.
        assert!(which(s.db(), &sub, "m2").await.unwrap().is_none());
        // Re-linking is a no-op; linking elsewhere is refused.
        assert!(!link_dir(s.db(), &a, &root, "m1").await.unwrap());
        assert!(matches!(
            link_dir(s.db(), &b, &root, "m1")
                .await
                .map_err(Error::into_kind),
            Err(Error::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn bad_and_duplicate_slugs_are_refused() {
        let (_d, mut s) = temp_store().await;
        assert!(matches!(
            add(s.db(), np("Bad Slug")).await.map_err(Error::into_kind),
            Err(Error::Usage(_))
        ));
        add(s.db(), np("ok")).await.unwrap();
        assert!(matches!(
            add(s.db(), np("ok")).await.map_err(Error::into_kind),
            Err(Error::Conflict(_))
        ));
        let unknown_client = NewProject {
            client: Some("ghost"),
            ..np("x")
        };
        assert!(matches!(
            add(s.db(), unknown_client).await.map_err(Error::into_kind),
            Err(Error::NotFound(_))
        ));
    }
}
