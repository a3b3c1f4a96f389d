use clap::Subcommand;

use super::{Ctx, note, or_dash, out, print_json, print_table};
use crate::error::{Error, ExitStatus, Result};
use crate::machine;
use crate::store::Db;
use crate::time::{DayEdge, local_display, now_ms, parse_time};
use crate::work::Scope;
use crate::work::projects;
use crate::work::report::{self, GroupBy};
use crate::work::sessions::{self, Filter, PastSession, SessionView, StartRequest};

#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    /// Client (name, slug or id); defaults to the current directory's project's client
    #[arg(long)]
    client: Option<String>,
    /// Project (slug or id); defaults to the project of the current directory
    #[arg(long)]
    project: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RangeArgs {
    /// From this time or date (e.g. 2026-11-01, yesterday, 2h ago)
    #[arg(long)]
    from: Option<String>,
    /// Up to this time or date (a date includes that whole day)
    #[arg(long)]
    to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Start a work session (closes the open one on this machine, and says so)
    Start {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        billable: bool,
        /// Start time (default now), e.g. 09:30 or "15m ago"
        #[arg(long)]
        at: Option<String>,
    },
    /// Stop the open work session
    Stop {
        #[arg(long)]
        summary: Option<String>,
        /// Stop time (default now)
        #[arg(long)]
        at: Option<String>,
    },
    /// Show the open work session on this machine
    Status,
    /// List work sessions, newest first
    List {
        #[command(flatten)]
        range: RangeArgs,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Record past work
    Add {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        billable: bool,
    },
    /// Total and billable hours by client, project or day
    Report {
        #[arg(long, value_enum, default_value = "client")]
        by: GroupBy,
        #[command(flatten)]
        range: RangeArgs,
        /// Print CSV instead of a table
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
}

/// `--client`/`--project` as given, else the project of the current
/// directory. `--client` alone keeps the directory's project when it is
/// that client's, and is refused when it is another's (the session would
/// be billed to one client under another's project).
async fn scope_from(db: &mut Db, args: &ScopeArgs, machine_id: &str) -> Result<Scope> {
    if args.project.is_some() {
        return sessions::resolve_scope(db, args.client.as_deref(), args.project.as_deref()).await;
    }
    let cwd = std::env::current_dir()?;
    let (here, project) = projects::scope_of_dir(db, &cwd, machine_id).await?;
    let Some(client) = args.client.as_deref() else {
        return Ok(here);
    };
    let given = sessions::resolve_scope(db, Some(client), None).await?;
    match project {
        None => Ok(given),
        Some(p) if p.client_id == given.client_id => Ok(here),
        Some(p) => {
            let owner = match &p.client_id {
                Some(id) => crate::work::clients::resolve(db, id)
                    .await
                    .map(|c| format!("client {}", c.name))
                    .unwrap_or_else(|_| "another client".into()),
                None => "no client".into(),
            };
            Err(Error::usage(format!(
                "this directory belongs to project {}, which belongs to {owner}, not to {client}\nhint: give --project with one of {client}'s projects, or run the command outside this directory",
                p.slug
            )))
        }
    }
}

fn range(args: &RangeArgs) -> Result<(Option<i64>, Option<i64>)> {
    let now = now_ms();
    let from = args
        .from
        .as_deref()
        .map(|f| parse_time(f, now, DayEdge::Start))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| parse_time(t, now, DayEdge::End))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(Error::usage("--to must be after --from"));
    }
    Ok((from, to))
}

fn describe(v: &SessionView) -> String {
    let what = match (&v.client, &v.project) {
        (Some(c), Some(p)) => format!("{c} / {p}"),
        (Some(c), None) => c.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => "no client".into(),
    };
    match &v.title {
        Some(t) => format!("{what}: {t}"),
        None => what,
    }
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let machine_id = machine::require_self(db).await?;
    let now = now_ms();
    match cmd {
        Cmd::Start {
            scope,
            title,
            billable,
            at,
        } => {
            // Without --at the library reads the clock under the write lock.
            let at = at
                .as_deref()
                .map(|a| parse_time(a, now, DayEdge::Start))
                .transpose()?;
            let scope = scope_from(db, &scope, &machine_id).await?;
            let started = sessions::start(
                db,
                &machine_id,
                StartRequest {
                    scope,
                    title,
                    billable,
                    at,
                    origin: "manual",
                    claude_session_id: None,
                },
            )
            .await?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"session": started.session, "closed": started.closed}),
                )?;
            } else {
                if let Some(c) = &started.closed {
                    note(format!(
                        "closed the open session {} ({}, {})",
                        c.short_id,
                        describe(c),
                        c.duration
                    ));
                }
                out(format!(
                    "started {} ({}) at {}",
                    started.session.short_id,
                    describe(&started.session),
                    local_display(started.session.started_ms)
                ))?;
            }
        }
        Cmd::Stop { summary, at } => {
            let at = at
                .as_deref()
                .map(|a| parse_time(a, now, DayEdge::Start))
                .transpose()?
                .unwrap_or(now);
            let v = sessions::stop(db, &machine_id, summary.as_deref(), at).await?;
            // Posting is never done from here: it needs the network and the vault.
            for link in crate::tickets::links_of_session(db, &v.id).await? {
                if link.auto_sync {
                    note(format!(
                        "ticket {} linked with --auto-sync: run `msp ticket sync` to post this session's note and time",
                        link.ticket_id
                    ));
                }
            }
            if ctx.json {
                print_json(&v)?;
            } else {
                out(format!(
                    "stopped {} ({}) after {}",
                    v.short_id,
                    describe(&v),
                    v.duration
                ))?;
            }
        }
        Cmd::Status => {
            let open = sessions::status(db, &machine_id).await?;
            if ctx.json {
                print_json(&serde_json::json!({"open": open.is_some(), "session": open}))?;
            } else {
                match open {
                    Some(v) => out(format!(
                        "open: {} ({}) since {}, {}{}",
                        v.short_id,
                        describe(&v),
                        local_display(v.started_ms),
                        v.duration,
                        if v.billable { ", billable" } else { "" }
                    ))?,
                    None => out("no open session")?,
                }
            }
        }
        Cmd::List {
            range: r,
            client,
            project,
            limit,
        } => {
            let (from, to) = range(&r)?;
            let scope = sessions::resolve_scope(db, client.as_deref(), project.as_deref()).await?;
            let filter = Filter {
                from,
                to,
                client_id: if client.is_some() {
                    scope.client_id
                } else {
                    None
                },
                project_id: scope.project_id,
                limit,
            };
            let list = sessions::list(db, &filter).await?;
            if ctx.json {
                print_json(&list)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|v| {
                        vec![
                            v.short_id.clone(),
                            local_display(v.started_ms),
                            v.duration.clone(),
                            or_dash(v.client.as_deref()),
                            or_dash(v.project.as_deref()),
                            if v.billable {
                                "yes".into()
                            } else {
                                "no".into()
                            },
                            if v.status == "open" {
                                "open".into()
                            } else {
                                or_dash(v.title.as_deref())
                            },
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "ID", "STARTED", "DURATION", "CLIENT", "PROJECT", "BILLABLE", "TITLE",
                    ],
                    &rows,
                )?;
            }
        }
        Cmd::Add {
            from,
            to,
            scope,
            title,
            summary,
            billable,
        } => {
            let from = parse_time(&from, now, DayEdge::Start)?;
            let to = parse_time(&to, now, DayEdge::Start)?;
            let scope = scope_from(db, &scope, &machine_id).await?;
            let v = sessions::add(
                db,
                &machine_id,
                PastSession {
                    scope,
                    from,
                    to,
                    title,
                    summary,
                    billable,
                },
            )
            .await?;
            if ctx.json {
                print_json(&v)?;
            } else {
                out(format!(
                    "recorded {} ({}, {})",
                    v.short_id,
                    describe(&v),
                    v.duration
                ))?;
            }
        }
        Cmd::Report { by, range: r, csv } => {
            let (from, to) = range(&r)?;
            let rep = report::report(
                db,
                by,
                Filter {
                    from,
                    to,
                    ..Default::default()
                },
            )
            .await?;
            if ctx.json {
                print_json(&rep)?;
            } else if csv {
                out(format!(
                    "{},sessions,total_hours,billable_hours",
                    by_name(by)
                ))?;
                for row in rep.rows.iter().chain(std::iter::once(&rep.total)) {
                    out(format!(
                        "{},{},{:.2},{:.2}",
                        csv_field(&row.key),
                        row.sessions,
                        row.total_hours,
                        row.billable_hours
                    ))?;
                }
            } else {
                let rows: Vec<Vec<String>> = rep
                    .rows
                    .iter()
                    .chain(std::iter::once(&rep.total))
                    .map(|r| {
                        vec![
                            r.key.clone(),
                            r.sessions.to_string(),
                            format!("{:.2}", r.total_hours),
                            format!("{:.2}", r.billable_hours),
                        ]
                    })
                    .collect();
                print_table(
                    &[&by_name(by).to_uppercase(), "SESSIONS", "HOURS", "BILLABLE"],
                    &rows,
                )?;
            }
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}

fn by_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Client => "client",
        GroupBy::Project => "project",
        GroupBy::Day => "day",
    }
}

/// Quotes a CSV field when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
