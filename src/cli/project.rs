use std::path::PathBuf;

use clap::Subcommand;

use serde_json::json;

use super::{Ctx, note, or_dash, print_json};
use crate::error::{Error, ExitStatus, Result};
use crate::machine;
use crate::work::{clients, projects};

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Add a project
    Add {
        /// Short name: lower-case letters, digits, '-' and '_' (e.g. dataforth-dos)
        slug: String,
        /// The client it is for (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Display name (defaults to the slug)
        #[arg(long)]
        name: Option<String>,
        /// Directory on this machine that belongs to the project (repeatable)
        #[arg(long = "path", value_name = "DIR")]
        paths: Vec<PathBuf>,
        /// How urgent the project is
        #[arg(long, default_value = "normal", value_parser = ["low", "normal", "high", "urgent"])]
        priority: String,
        /// What the project is about
        #[arg(long)]
        description: Option<String>,
    },
    /// List projects (archived ones, and those of archived clients, with --all)
    List {
        /// Only this client's projects (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Include archived projects
        #[arg(long)]
        all: bool,
    },
    /// Correct a project: slug, name, client, status, priority, description (audited)
    Update {
        /// The project (slug or id)
        project: String,
        /// New slug
        #[arg(long)]
        slug: Option<String>,
        /// New display name
        #[arg(long)]
        name: Option<String>,
        /// Move it to this client (name, slug or id), with its sessions, tasks and memories
        #[arg(long, conflicts_with = "no_client")]
        client: Option<String>,
        /// Take it (and its sessions, tasks and memories) off its client
        #[arg(long)]
        no_client: bool,
        /// New status
        #[arg(long, value_parser = ["active", "paused", "done", "archived"])]
        status: Option<String>,
        /// New priority
        #[arg(long, value_parser = ["low", "normal", "high", "urgent"])]
        priority: Option<String>,
        /// New description ("" clears it)
        #[arg(long)]
        description: Option<String>,
    },
    /// Archive a project: hidden from lists, kept for reports (audited)
    Archive {
        /// The project (slug or id)
        project: String,
        /// Bring an archived project back (status active)
        #[arg(long)]
        undo: bool,
    },
    /// Delete a project nothing refers to, with its links (audited); one with sessions, tasks or memories is refused
    Rm {
        /// The project (slug or id)
        project: String,
        /// When something refers to it: archive it instead
        #[arg(long)]
        force: bool,
    },
    /// Show a project with its directories and remotes
    Show {
        /// The project (slug or id)
        project: String,
    },
    /// Link a directory on this machine (or a git remote) to a project
    Link {
        /// Directory (defaults to the current one)
        dir: Option<PathBuf>,
        /// The project (slug or id)
        #[arg(long)]
        project: String,
        /// Link this git remote URL instead (matches the repository on every machine)
        #[arg(long, conflicts_with = "dir")]
        remote: Option<String>,
    },
    /// Remove a directory or git remote link
    Unlink {
        /// A directory linked on this machine (e.g. `.`), or a linked git remote URL
        target: String,
    },
    /// Which project a directory belongs to (exit 3 when none)
    Which {
        /// Directory (defaults to the current one)
        dir: Option<PathBuf>,
    },
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let code = match cmd {
        Cmd::Add {
            slug,
            client,
            name,
            paths,
            priority,
            description,
        } => {
            let machine_id = if paths.is_empty() {
                String::new()
            } else {
                machine::require_self(db).await?
            };
            // One transaction: a path that cannot be linked leaves no project behind.
            let mut tx = crate::store::begin_write(db).await?;
            let p = projects::add(
                &mut tx,
                projects::NewProject {
                    slug: &slug,
                    name: name.as_deref(),
                    client: client.as_deref(),
                    priority: &priority,
                    description: description.as_deref(),
                },
            )
            .await?;
            for dir in &paths {
                projects::link_dir(&mut tx, &p, dir, &machine_id).await?;
            }
            tx.commit().await?;
            let v = projects::view(db, &p).await?;
            ctx.print(&v, |v| format!("added project {}", v.project.slug))?;
            ExitStatus::Success
        }
        Cmd::List { client, all } => {
            let client_id = match client {
                Some(c) => Some(clients::resolve(db, &c).await?.id),
                None => None,
            };
            let list = projects::listing(db, client_id.as_deref(), all).await?;
            let mut views = Vec::with_capacity(list.len());
            for p in &list {
                views.push(projects::view(db, p).await?);
            }
            ctx.list(&views, |t| {
                t.col("SLUG", |v| v.project.slug.clone())
                    .col("CLIENT", |v| or_dash(v.client.as_deref()))
                    .col("STATUS", |v| v.project.status.clone())
                    .col("PRIORITY", |v| v.project.priority.clone())
                    .col("PATHS", |v| v.paths.len().to_string());
            })?;
            ExitStatus::Success
        }
        Cmd::Update {
            project,
            slug,
            name,
            client,
            no_client,
            status,
            priority,
            description,
        } => {
            let update = projects::ProjectUpdate {
                slug,
                name,
                client: if no_client {
                    Some(None)
                } else {
                    client.map(Some)
                },
                status,
                priority,
                description,
            };
            let u = crate::app::update_project(db, &project, update).await?;
            if let Some(m) = &u.moved {
                ctx.tell(format!(
                    "moved with it to the new client: {} session(s), {} task(s), {} memory(ies)",
                    m.sessions, m.tasks, m.memories
                ));
            }
            let project = projects::view(db, &u.project).await?;
            let result = json!({"project": project, "changed": u.changed, "moved": u.moved});
            ctx.print(&result, |_| {
                if u.changed.is_empty() {
                    format!("project {}: nothing changed", u.project.slug)
                } else {
                    format!(
                        "updated project {}: {}",
                        u.project.slug,
                        u.changed.describe()
                    )
                }
            })?;
            ExitStatus::Success
        }
        Cmd::Archive { project, undo } => {
            let (p, changed) = projects::archive(db, &project, undo).await?;
            let project = projects::view(db, &p).await?;
            ctx.print(
                &json!({"project": project, "changed": changed}),
                |_| match (undo, changed) {
                    (false, true) => format!(
                        "archived project {} (kept for reports; `msp project list --all` shows it)",
                        p.slug
                    ),
                    (false, false) => {
                        format!("project {} was already archived; nothing changed", p.slug)
                    }
                    (true, true) => format!("project {} is back (active)", p.slug),
                    (true, false) => {
                        format!("project {} was not archived; nothing changed", p.slug)
                    }
                },
            )?;
            ExitStatus::Success
        }
        Cmd::Rm { project, force } => {
            let r = projects::remove(db, &project, force).await?;
            if !r.deleted {
                ctx.tell(format!(
                    "project {} still has {}: archived it instead of deleting it",
                    r.slug,
                    r.references.describe()
                ));
            }
            ctx.print(&r, |r| {
                if r.deleted {
                    format!("removed project {}", r.slug)
                } else {
                    format!("archived project {}", r.slug)
                }
            })?;
            ExitStatus::Success
        }
        Cmd::Show { project } => {
            let p = projects::resolve(db, &project).await?;
            let v = projects::view(db, &p).await?;
            ctx.print(&v, |v| {
                let mut lines = vec![
                    format!("slug      {}", v.project.slug),
                    format!("name      {}", v.project.name),
                    format!("client    {}", or_dash(v.client.as_deref())),
                    format!("status    {}", v.project.status),
                    format!("priority  {}", v.project.priority),
                    format!("id        {}", v.project.id),
                ];
                for path in &v.paths {
                    let kind = if path.kind == "dir" { "dir" } else { "remote" };
                    lines.push(format!("{kind:<9} {}", path.value));
                }
                lines.join("\n")
            })?;
            ExitStatus::Success
        }
        Cmd::Link {
            dir,
            project,
            remote,
        } => {
            let p = projects::resolve(db, &project).await?;
            let (what, added) = match remote {
                Some(url) => (url.clone(), projects::link_remote(db, &p, &url).await?),
                None => {
                    let machine_id = machine::require_self(db).await?;
                    let dir = match dir {
                        Some(d) => d,
                        None => std::env::current_dir()?,
                    };
                    let added = projects::link_dir(db, &p, &dir, &machine_id).await?;
                    (projects::normalize_dir(&dir)?.display().to_string(), added)
                }
            };
            let result = json!({"project": p.slug, "linked": what, "changed": added});
            ctx.print(&result, |_| {
                if added {
                    format!("linked {what} -> {}", p.slug)
                } else {
                    format!("{what} was already linked to {}; nothing changed", p.slug)
                }
            })?;
            ExitStatus::Success
        }
        Cmd::Unlink { target } => {
            let machine_id = machine::self_id(db).await?.unwrap_or_default();
            // What was unlinked, as it was stored: `.` is the directory's
            // path, a remote its normalised form.
            let removed = projects::unlink(db, &target, &machine_id).await?;
            let Some(shown) = removed.first().cloned() else {
                return Err(Error::not_found(
                    "link",
                    &target,
                    "`msp project show SLUG` lists a project's links",
                ));
            };
            ctx.print(
                &json!({"unlinked": shown, "removed": removed.len()}),
                |_| format!("unlinked {}", removed.join(", ")),
            )?;
            ExitStatus::Success
        }
        Cmd::Which { dir } => {
            let dir = match dir {
                Some(d) => d,
                None => std::env::current_dir()?,
            };
            let machine_id = machine::self_id(db).await?.unwrap_or_default();
            match projects::which(db, &dir, &machine_id).await? {
                Some(w) => {
                    let client = match &w.project.client_id {
                        Some(id) => clients::by_id(db, id).await?.map(|c| c.name),
                        None => None,
                    };
                    let found = json!({
                        "project": w.project.slug,
                        "project_id": w.project.id,
                        "client": client,
                        "client_id": w.project.client_id,
                        "matched": w.matched,
                        "value": w.value,
                    });
                    ctx.print(&found, |_| w.project.slug.clone())?;
                    ExitStatus::Success
                }
                None => {
                    if ctx.json {
                        print_json(&serde_json::Value::Null)?;
                    }
                    note(format!(
                        "no project for {}\nhint: `msp project link {} --project SLUG`",
                        dir.display(),
                        dir.display()
                    ));
                    ExitStatus::NotFound
                }
            }
        }
    };
    store.close().await?;
    Ok(code)
}
