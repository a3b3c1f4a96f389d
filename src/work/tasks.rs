//! Pending tasks: things to do for a client or project, done or not.

use serde::Serialize;

use super::Scope;
use super::audit::{self, Diff};
use crate::error::{Error, Result};
use crate::ids;
use crate::store::{self, Db};
use crate::time::{Millis, now_ms};

/// A task with its client's and project's names, as stored and as `--json`
/// prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: String,
    /// Filled from `id` once the row is read.
    #[sqlx(skip)]
    pub short_id: String,
    pub title: String,
    pub client_id: Option<String>,
    pub client: Option<String>,
    pub project_id: Option<String>,
    pub project: Option<String>,
    pub priority: String,
    pub status: String,
    pub due_date: Option<String>,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub created_at: Millis,
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub completed_at: Option<Millis>,
}

impl Task {
    fn with_short_id(mut self) -> Self {
        self.short_id = ids::short_id(&self.id).to_string();
        self
    }
}

const SELECT: &str = "SELECT t.id, t.title, t.client_id, c.name AS client, t.project_id, p.slug AS project,
    t.priority, t.status, t.due_date, t.created_at, t.completed_at
    FROM tasks t LEFT JOIN clients c ON c.id = t.client_id LEFT JOIN projects p ON p.id = t.project_id";

async fn get(db: &mut Db, id: &str) -> Result<Task> {
    let task: Task = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE t.id = ?")))
        .bind(id)
        .fetch_one(db)
        .await?;
    Ok(task.with_short_id())
}

/// A due date typed like any other time (`2026-12-01`, `friday`, `in 3
/// days`), stored as the local day `YYYY-MM-DD`.
fn check_due(due: &str) -> Result<String> {
    crate::time::parse_due_date(due, now_ms())
}

pub async fn add(
    db: &mut Db,
    title: &str,
    scope: Scope,
    priority: &str,
    due: Option<&str>,
) -> Result<Task> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::usage("a task needs a title")
            .with_hint("say what is to be done, e.g. msp task add \"Renew the TLS certificate\""));
    }
    let priority = super::check_priority(priority)?;
    let due = due.map(check_due).transpose()?;
    let id = ids::new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO tasks (id, title, client_id, project_id, priority, due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(title)
    .bind(&scope.client_id)
    .bind(&scope.project_id)
    .bind(&priority)
    .bind(&due)
    .bind(now)
    .bind(now)
    .execute(&mut *db)
    .await?;
    get(db, &id).await
}

/// Tasks, pending first by priority and due date; `all` includes done ones.
pub async fn list(db: &mut Db, scope: &Scope, all: bool) -> Result<Vec<Task>> {
    let rows: Vec<Task> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (?1 OR t.status = 'pending') AND (?2 IS NULL OR t.client_id = ?2) AND (?3 IS NULL OR t.project_id = ?3)
         ORDER BY t.status = 'done', CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
         t.due_date IS NULL, t.due_date, t.created_at"
    )))
    .bind(all)
    .bind(&scope.client_id)
    .bind(&scope.project_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Task::with_short_id).collect())
}

/// Marks a task done; doing it twice is harmless and says so.
pub async fn done(db: &mut Db, key: &str) -> Result<(Task, bool)> {
    let id = super::resolve_id(
        db,
        "tasks",
        key,
        "task",
        "`msp task list --all` shows task ids",
    )
    .await?;
    let now = now_ms();
    let changed = sqlx::query("UPDATE tasks SET status = 'done', completed_at = ?, updated_at = ? WHERE id = ? AND status = 'pending'")
        .bind(now)
        .bind(now)
        .bind(&id)
        .execute(&mut *db)
        .await?
        .rows_affected()
        > 0;
    Ok((get(db, &id).await?, changed))
}

/// What `msp task edit` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct TaskEdit {
    pub title: Option<String>,
    pub priority: Option<String>,
    /// `Some(None)` clears the due date.
    pub due: Option<Option<String>>,
    /// A new client and/or project (resolved by the caller, a project
    /// bringing its client); `None`: unchanged.
    pub scope: Option<Scope>,
    /// `Some(false)` reopens a done task, `Some(true)` marks it done.
    pub done: Option<bool>,
}

async fn resolve(db: &mut Db, key: &str) -> Result<String> {
    super::resolve_id(
        db,
        "tasks",
        key,
        "task",
        "`msp task list --all` shows task ids",
    )
    .await
}

/// Corrects a task (audited).
pub async fn edit(db: &mut Db, key: &str, e: TaskEdit) -> Result<(Task, Diff)> {
    let title = match &e.title {
        Some(t) if t.trim().is_empty() => {
            return Err(Error::usage("a task needs a title")
                .with_hint("give --title a few words, or leave it out to keep the title"));
        }
        t => t.as_ref().map(|t| t.trim().to_string()),
    };
    let priority = e
        .priority
        .as_deref()
        .map(super::check_priority)
        .transpose()?;
    let due = match &e.due {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => Some(Some(check_due(d)?)),
    };
    let mut tx = store::begin_write(db).await?;
    let id = resolve(&mut tx, key).await?;
    let old = get(&mut tx, &id).await?;
    let new_title = title.unwrap_or_else(|| old.title.clone());
    let new_priority = priority.unwrap_or_else(|| old.priority.clone());
    let new_due = due.unwrap_or_else(|| old.due_date.clone());
    let (client_id, project_id) = match e.scope {
        Some(s) => (s.client_id, s.project_id),
        None => (old.client_id.clone(), old.project_id.clone()),
    };
    let status = match e.done {
        Some(true) => "done".to_string(),
        Some(false) => "pending".to_string(),
        None => old.status.clone(),
    };
    let mut diff = Diff::default();
    diff.field("title", &old.title, &new_title);
    diff.field("priority", &old.priority, &new_priority);
    diff.field("due_date", &old.due_date, &new_due);
    diff.field("client_id", &old.client_id, &client_id);
    diff.field("project_id", &old.project_id, &project_id);
    diff.field("status", &old.status, &status);
    audit::scope_names(
        &mut tx,
        &mut diff,
        (old.client_id.as_deref(), old.project_id.as_deref()),
        (client_id.as_deref(), project_id.as_deref()),
    )
    .await?;
    if !diff.is_empty() {
        let now = now_ms();
        sqlx::query(
            "UPDATE tasks SET title = ?, priority = ?, due_date = ?, client_id = ?, project_id = ?, status = ?,
             completed_at = CASE WHEN ? = 'done' THEN COALESCE(completed_at, ?) ELSE NULL END, updated_at = ?
             WHERE id = ?",
        )
        .bind(&new_title)
        .bind(&new_priority)
        .bind(&new_due)
        .bind(&client_id)
        .bind(&project_id)
        .bind(&status)
        .bind(&status)
        .bind(now)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, "task", &id, "edit", &diff).await?;
    }
    let v = get(&mut tx, &id).await?;
    tx.commit().await?;
    Ok((v, diff))
}

/// Deletes a task (audited; syncs as a tombstone).
pub async fn remove(db: &mut Db, key: &str) -> Result<Task> {
    let mut tx = store::begin_write(db).await?;
    let id = resolve(&mut tx, key).await?;
    let old = get(&mut tx, &id).await?;
    sqlx::query("DELETE FROM tasks WHERE id = ?")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let diff = Diff::removed(
        &old,
        &[
            "title",
            "priority",
            "status",
            "due_date",
            "client_id",
            "client",
            "project_id",
            "project",
        ],
    );
    audit::record(&mut tx, "task", &id, "rm", &diff).await?;
    tx.commit().await?;
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[tokio::test]
    async fn add_list_done_by_short_id() {
        let (_d, mut s) = temp_store().await;
        let t = add(
            s.db(),
            "Renew cert",
            Scope::default(),
            "high",
            Some("2026-12-01"),
        )
        .await
        .unwrap();
        add(s.db(), "Later", Scope::default(), "low", None)
            .await
            .unwrap();
        let pending = list(s.db(), &Scope::default(), false).await.unwrap();
        assert_eq!(pending[0].title, "Renew cert");
        let (v, changed) = done(s.db(), &t.short_id).await.unwrap();
        assert!(changed);
        assert_eq!(v.status, "done");
        assert!(!done(s.db(), &t.id).await.unwrap().1);
        assert_eq!(
            list(s.db(), &Scope::default(), false).await.unwrap().len(),
            1
        );
        assert!(matches!(
            add(s.db(), "x", Scope::default(), "normal", Some("someday"))
                .await
                .map_err(Error::into_kind),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            done(s.db(), "zzzzzzzz").await.map_err(Error::into_kind),
            Err(Error::NotFound(_))
        ));
    }
}
