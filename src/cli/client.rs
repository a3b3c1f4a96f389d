use clap::Subcommand;

use super::output::note;
use super::{Ctx, or_dash};
use crate::error::{ExitStatus, Result};
use crate::work::{clients, projects};

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Add a client
    Add {
        /// The client's name (its slug is made from it)
        name: String,
        /// What kind of client it is
        #[arg(long = "type", default_value = "msp_client", value_parser = ["msp_client", "internal", "project"])]
        client_type: String,
        /// Free-text notes about the client
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
    Show {
        /// The client (name, slug or id)
        client: String,
    },
    /// Change a client's notes (by name, slug or id; "" clears them)
    Update {
        /// The client (name, slug or id)
        client: String,
        /// The new notes ("" clears them)
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
            ctx.print(&c, |c| format!("added client {} ({})", c.name, c.slug))?;
            note_took_name(db, &c).await?;
        }
        Cmd::Update { client, notes } => {
            let c = clients::set_notes(db, &client, &notes).await?;
            ctx.print(&c, |c| format!("updated client {}", c.name))?;
        }
        Cmd::Rename { client, name } => {
            let (client, changed) = clients::rename(db, &client, &name).await?;
            if !changed.is_empty() {
                note_took_name(db, &client).await?;
            }
            let result = ClientChange { client, changed };
            ctx.print(&result, |r| {
                if r.changed.is_empty() {
                    format!(
                        "client {} already has that name; nothing changed",
                        r.client.name
                    )
                } else {
                    format!("renamed client: {}", r.changed.describe())
                }
            })?;
        }
        Cmd::Archive { client, undo } => {
            let (client, changed) = clients::archive(db, &client, undo).await?;
            let result = ClientChange { client, changed };
            ctx.print(&result, |r| {
                let name = &r.client.name;
                match (undo, r.changed) {
                    (false, true) => format!(
                        "archived client {name} (kept for reports; `msp client list --all` shows it)"
                    ),
                    (false, false) => {
                        format!("client {name} was already archived; nothing changed")
                    }
                    (true, true) => format!("client {name} is back"),
                    (true, false) => format!("client {name} was not archived; nothing changed"),
                }
            })?;
        }
        Cmd::Rm { client, force } => {
            let r = clients::remove(db, &client, force).await?;
            if !r.deleted {
                ctx.tell(format!(
                    "client {} still has {}: archived it instead of deleting it",
                    r.client.name,
                    r.references.describe()
                ));
            }
            ctx.print(&r, |r| {
                if r.deleted {
                    format!("removed client {} ({})", r.client.name, r.client.slug)
                } else {
                    format!(
                        "archived client {} and {} project(s)",
                        r.client.name, r.archived_projects
                    )
                }
            })?;
        }
        Cmd::List { all } => {
            let list = clients::listing(db, all).await?;
            ctx.list(&list, |t| {
                t.col("NAME", |c| c.name.clone())
                    .col("SLUG", |c| c.slug.clone())
                    .col("TYPE", |c| c.client_type.clone());
                // The status column only where archived clients are shown.
                if all {
                    t.col("STATUS", |c| {
                        if c.is_archived() {
                            "archived"
                        } else {
                            "active"
                        }
                        .into()
                    });
                }
                t.col("NOTES", |c| or_dash(c.notes.as_deref()));
            })?;
        }
        Cmd::Show { client } => {
            let c = clients::resolve(db, &client).await?;
            let projects = projects::list(db, Some(&c.id)).await?;
            #[derive(serde::Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                client: &'a clients::Client,
                projects: Vec<String>,
            }
            let shown = Shown {
                client: &c,
                projects: projects.iter().map(|p| p.slug.clone()).collect(),
            };
            ctx.print(&shown, |s| {
                let c = s.client;
                let mut lines = vec![
                    format!("name      {}", c.name),
                    format!("slug      {}", c.slug),
                    format!("type      {}", c.client_type),
                    format!("id        {}", c.id),
                    format!("notes     {}", or_dash(c.notes.as_deref())),
                ];
                if let Some(at) = c.archived_at {
                    lines.push(format!("archived  {}", crate::time::local_display(at)));
                }
                lines.push(format!(
                    "projects  {}",
                    if s.projects.is_empty() {
                        "-".into()
                    } else {
                        s.projects.join(", ")
                    }
                ));
                lines.join("\n")
            })?;
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}

/// A record and what a command changed in it, as `--json` prints it.
#[derive(serde::Serialize)]
struct ClientChange<R, C> {
    client: R,
    changed: C,
}

/// Warns when a client takes a name another client had: what named the
/// other by it (a script's `msp://SLUG/...`) now names this one.
async fn note_took_name(db: &mut crate::store::Db, c: &clients::Client) -> Result<()> {
    for other in clients::took_name_of(db, c).await? {
        note(format!(
            "note: {:?} was a name of client {}; references by it (msp://{}/...) now reach {}",
            c.slug, other.name, c.slug, c.name
        ));
    }
    Ok(())
}
