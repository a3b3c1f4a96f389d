use clap::Subcommand;

use super::{Ctx, or_dash, out, print_json, print_table};
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
    /// List clients
    List,
    /// Show a client and its projects (by name, slug or id)
    Show { client: String },
    /// Change a client's notes (by name, slug or id; "" clears them)
    Update {
        client: String,
        #[arg(long)]
        notes: String,
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
        Cmd::List => {
            let list = clients::list(db).await?;
            if ctx.json {
                print_json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        vec![
                            c.name.clone(),
                            c.slug.clone(),
                            c.client_type.clone(),
                            or_dash(c.notes.as_deref()),
                        ]
                    })
                    .collect();
                print_table(&["NAME", "SLUG", "TYPE", "NOTES"], &rows)?;
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
