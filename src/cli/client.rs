use clap::Subcommand;

use super::{Ctx, note, or_dash, out, print_json, print_table};
use crate::error::{ExitStatus, Result};
use crate::work::{clients, projects};

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Add a client
    Add {
        name: String,
        #[arg(long = "type", default_value = "msp_client", value_parser = ["msp_client", "internal", "project"])]
        client_type: String,
        #[arg(long)]
        notes: Option<String>,
    },
    /// List clients (archived ones with --all)
    List {
        /// Include archived clients
        #[arg(long)]
        all: bool,
    },
    /// Show a client and its projects (by name, slug or id)
    Show { client: String },
    /// Change a client's notes (by name, slug or id; "" clears them)
    Update {
        client: String,
        #[arg(long)]
        notes: String,
    },
    /// Rename a client (its slug follows; audited)
    Rename {
        /// The client (name, slug or id)
        client: String,
        /// The new name
        name: String,
    },
    /// Archive a client: hidden from lists, kept for reports (audited)
    Archive {
        /// The client (name, slug or id)
        client: String,
        /// Bring an archived client back
        #[arg(long)]
        undo: bool,
    },
    /// Delete a client nothing refers to (audited); one with projects, sessions, tasks, memories or credentials is refused
    Rm {
        /// The client (name, slug or id)
        client: String,
        /// When something refers to it: archive it and its projects instead
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    match cmd {
        Cmd::Add {
            name,
            client_type,
            notes,
        } => {
            let c = clients::add(db, &name, &client_type, notes.as_deref()).await?;
            if ctx.json {
                print_json(&c)?;
            } else {
                out(format!("added client {} ({})", c.name, c.slug))?;
            }
        }
        Cmd::Update { client, notes } => {
            let c = clients::set_notes(db, &client, &notes).await?;
            if ctx.json {
                print_json(&c)?;
            } else {
                out(format!("updated client {}", c.name))?;
            }
        }
        Cmd::Rename { client, name } => {
            let (c, diff) = clients::rename(db, &client, &name).await?;
            if ctx.json {
                print_json(&serde_json::json!({"client": c, "changed": diff}))?;
            } else if diff.is_empty() {
                out(format!(
                    "client {} already has that name; nothing changed",
                    c.name
                ))?;
            } else {
                out(format!("renamed client: {}", diff.describe()))?;
            }
        }
        Cmd::Archive { client, undo } => {
            let (c, changed) = clients::archive(db, &client, undo).await?;
            if ctx.json {
                print_json(&serde_json::json!({"client": c, "changed": changed}))?;
            } else {
                out(match (undo, changed) {
                    (false, true) => format!(
                        "archived client {} (kept for reports; `msp client list --all` shows it)",
                        c.name
                    ),
                    (false, false) => {
                        format!("client {} was already archived; nothing changed", c.name)
                    }
                    (true, true) => format!("client {} is back", c.name),
                    (true, false) => format!("client {} was not archived; nothing changed", c.name),
                })?;
            }
        }
        Cmd::Rm { client, force } => {
            let r = clients::remove(db, &client, force).await?;
            if ctx.json {
                print_json(&r)?;
            } else if r.deleted {
                out(format!(
                    "removed client {} ({})",
                    r.client.name, r.client.slug
                ))?;
            } else {
                note(format!(
                    "client {} still has {}: archived it instead of deleting it",
                    r.client.name,
                    r.references.describe()
                ));
                out(format!(
                    "archived client {} and {} project(s)",
                    r.client.name, r.archived_projects
                ))?;
            }
        }
        Cmd::List { all } => {
            let list = clients::listing(db, all).await?;
            if ctx.json {
                print_json(&list)?;
            } else {
                // The status column only where archived clients are shown.
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        let mut row = vec![c.name.clone(), c.slug.clone(), c.client_type.clone()];
                        if all {
                            row.push(
                                if c.is_archived() {
                                    "archived"
                                } else {
                                    "active"
                                }
                                .into(),
                            );
                        }
                        row.push(or_dash(c.notes.as_deref()));
                        row
                    })
                    .collect();
                let header: &[&str] = if all {
                    &["NAME", "SLUG", "TYPE", "STATUS", "NOTES"]
                } else {
                    &["NAME", "SLUG", "TYPE", "NOTES"]
                };
                print_table(header, &rows)?;
            }
        }
        Cmd::Show { client } => {
            let c = clients::resolve(db, &client).await?;
            let projects = projects::list(db, Some(&c.id)).await?;
            if ctx.json {
                #[derive(serde::Serialize)]
                struct Out<'a> {
                    #[serde(flatten)]
                    client: &'a clients::Client,
                    projects: Vec<String>,
                }
                print_json(&Out {
                    client: &c,
                    projects: projects.iter().map(|p| p.slug.clone()).collect(),
                })?;
            } else {
                out(format!("name      {}", c.name))?;
                out(format!("slug      {}", c.slug))?;
                out(format!("type      {}", c.client_type))?;
                out(format!("id        {}", c.id))?;
                out(format!("notes     {}", or_dash(c.notes.as_deref())))?;
                if let Some(at) = c.archived_at {
                    out(format!("archived  {}", crate::time::local_display(at)))?;
                }
                let names: Vec<&str> = projects.iter().map(|p| p.slug.as_str()).collect();
                out(format!(
                    "projects  {}",
                    if names.is_empty() {
                        "-".into()
                    } else {
                        names.join(", ")
                    }
                ))?;
            }
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}
