use clap::Subcommand;

use serde_json::json;

use super::{Ctx, or_dash};
use crate::error::{ExitStatus, Result};
use crate::work::sessions;
use crate::work::tasks;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Add a pending task
    Add {
        /// What is to be done
        title: String,
        /// Client (name, slug or id); defaults to the current directory's project's client
        #[arg(long)]
        client: Option<String>,
        /// Project (slug or id); brings its client; defaults to the project of the current directory
        #[arg(long)]
        project: Option<String>,
        /// How urgent it is (the list shows the most urgent first)
        #[arg(long, default_value = "normal", value_parser = ["low", "normal", "high", "urgent"])]
        priority: String,
        /// Due date: 2026-12-01, tomorrow, friday, "next monday", "in 3 days"
        #[arg(long)]
        due: Option<String>,
    },
    /// List pending tasks (most urgent first)
    List {
        /// Only this client's tasks (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Only this project's tasks (slug or id)
        #[arg(long)]
        project: Option<String>,
        /// Include done tasks
        #[arg(long)]
        all: bool,
    },
    /// Mark a task done (full id, or the short id `msp task list` shows)
    Done {
        /// Task id (full, or the short id `msp task list` shows)
        id: String,
    },
    /// Correct a task: title, priority, due date, client, project, done (audited)
    Edit {
        /// Task id (full, or the short id `msp task list` shows)
        id: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New priority
        #[arg(long, value_parser = ["low", "normal", "high", "urgent"])]
        priority: Option<String>,
        /// Due date: 2026-12-01, tomorrow, friday, "next monday", "in 3 days"
        #[arg(long, conflicts_with = "no_due")]
        due: Option<String>,
        /// Clear the due date
        #[arg(long)]
        no_due: bool,
        /// Client (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Project (slug or id); brings its client
        #[arg(long)]
        project: Option<String>,
        /// Mark it pending again
        #[arg(long)]
        reopen: bool,
    },
    /// Delete a task (audited)
    Rm {
        /// Task id (full, or the short id `msp task list` shows)
        id: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    match cmd {
        Cmd::Add {
            title,
            client,
            project,
            priority,
            due,
        } => {
            // A task needs no registered machine; without one only a git
            // remote can tell the directory's project.
            let machine_id = crate::machine::self_id(db).await?.unwrap_or_default();
            let cwd = std::env::current_dir()?;
            let scope = sessions::resolve_scope_in(
                db,
                client.as_deref(),
                project.as_deref(),
                &cwd,
                &machine_id,
            )
            .await?;
            let t = tasks::add(db, &title, scope, &priority, due.as_deref()).await?;
            ctx.print(&t, |t| {
                // Where it went, since the directory may have chosen it.
                let scope = match (&t.client, &t.project) {
                    (Some(c), Some(p)) => format!(" ({c} / {p})"),
                    (Some(c), None) => format!(" ({c})"),
                    (None, Some(p)) => format!(" ({p})"),
                    (None, None) => String::new(),
                };
                format!("added task {} {}{scope}", t.short_id, t.title)
            })?;
        }
        Cmd::List {
            client,
            project,
            all,
        } => {
            let mut scope =
                sessions::resolve_scope(db, client.as_deref(), project.as_deref()).await?;
            if client.is_none() {
                scope.client_id = None;
            }
            let list = tasks::list(db, &scope, all).await?;
            ctx.list(&list, |t| {
                t.col("ID", |t| t.short_id.clone())
                    .col("STATUS", |t| t.status.clone())
                    .col("PRIORITY", |t| t.priority.clone())
                    .col("DUE", |t| or_dash(t.due_date.as_deref()))
                    .col("CLIENT", |t| or_dash(t.client.as_deref()))
                    .col("PROJECT", |t| or_dash(t.project.as_deref()))
                    .col("TITLE", |t| t.title.clone());
            })?;
        }
        Cmd::Edit {
            id,
            title,
            priority,
            due,
            no_due,
            client,
            project,
            reopen,
        } => {
            let scope = if client.is_some() || project.is_some() {
                let scope =
                    sessions::resolve_scope(db, client.as_deref(), project.as_deref()).await?;
                sessions::require_active(db, &scope).await?;
                Some(scope)
            } else {
                None
            };
            let edit = tasks::TaskEdit {
                title,
                priority,
                due: if no_due { Some(None) } else { due.map(Some) },
                scope,
                done: reopen.then_some(false),
            };
            let (t, diff) = tasks::edit(db, &id, edit).await?;
            ctx.print(&json!({"task": t, "changed": diff}), |_| {
                if diff.is_empty() {
                    format!("task {}: nothing changed", t.short_id)
                } else {
                    format!("edited task {}: {}", t.short_id, diff.describe())
                }
            })?;
        }
        Cmd::Rm { id } => {
            let t = tasks::remove(db, &id).await?;
            ctx.print(&json!({ "removed": t }), |_| {
                format!("removed task {} {}", t.short_id, t.title)
            })?;
        }
        Cmd::Done { id } => {
            let (t, changed) = tasks::done(db, &id).await?;
            ctx.print(&t, |t| {
                if changed {
                    format!("done: {}", t.title)
                } else {
                    format!("already done: {}", t.title)
                }
            })?;
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}
