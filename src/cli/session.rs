use clap::Subcommand;

use serde_json::json;

use super::{Ctx, note, or_dash, out, print_json, print_table};
use crate::error::{Error, ExitStatus, Result};
use crate::machine;
use crate::store::Db;
use crate::time::{DayEdge, human_duration, local_display, now_ms, parse_time};
use crate::work::Scope;
use crate::work::audit;
use crate::work::report::{self, GroupBy};
use crate::work::sessions::{self, Filter, PastSession, SessionEdit, SessionView, StartRequest};
use crate::work::{clients, projects};

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
        /// What the session is about
        #[arg(long)]
        title: Option<String>,
        /// Mark it billable
        #[arg(long)]
        billable: bool,
        /// Start time (default now), e.g. 09:30, "15m ago", "monday 9:00"
        #[arg(long)]
        at: Option<String>,
        /// Accept an --at in the future (refused otherwise)
        #[arg(long)]
        allow_future: bool,
    },
    /// Stop the open work session
    Stop {
        /// What was done
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
        /// Only this client's sessions (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Only this project's sessions (slug or id)
        #[arg(long)]
        project: Option<String>,
        /// At most this many sessions (default and 0: all)
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Record past work
    Add {
        /// Start time, e.g. 09:30, "yesterday 14:00", "2h ago", "2026-11-21 14:00" or RFC 3339
        #[arg(long)]
        from: String,
        /// End time, in the same forms as --from (e.g. 11:15, now, "30m ago")
        #[arg(long)]
        to: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// What the session was about
        #[arg(long)]
        title: Option<String>,
        /// What was done
        #[arg(long)]
        summary: Option<String>,
        /// Mark it billable
        #[arg(long)]
        billable: bool,
        /// Refuse (exit 1) instead of warning when it overlaps another session on this machine
        #[arg(long)]
        strict: bool,
    },
    /// Correct a session: times, title, summary, client, project, billable (audited)
    Edit {
        /// Session id (full, or the short id `msp session list` shows)
        id: String,
        /// New start time
        #[arg(long)]
        from: Option<String>,
        /// New end time (closes an open session)
        #[arg(long)]
        to: Option<String>,
        /// New title ("" clears it)
        #[arg(long)]
        title: Option<String>,
        /// New summary ("" clears it)
        #[arg(long)]
        summary: Option<String>,
        /// Client (name, slug or id)
        #[arg(long, conflicts_with = "no_client")]
        client: Option<String>,
        /// Project (slug or id); brings its client
        #[arg(long, conflicts_with = "no_project")]
        project: Option<String>,
        /// Take the client off the session
        #[arg(long)]
        no_client: bool,
        /// Take the project off the session
        #[arg(long)]
        no_project: bool,
        /// Mark it billable
        #[arg(long, conflicts_with = "not_billable")]
        billable: bool,
        /// Mark it not billable
        #[arg(long)]
        not_billable: bool,
        /// Refuse (exit 1) instead of warning when it would overlap another session on this machine
        #[arg(long)]
        strict: bool,
    },
    /// Delete a session (audited; refused when its note or time went to a ticket, unless --force)
    Rm {
        /// Session id (full, or the short id `msp session list` shows)
        id: String,
        /// Delete it even if its note or time was posted to or queued for a ticket
        #[arg(long)]
        force: bool,
    },
    /// Corrections to work records (sessions, clients, projects, tasks), newest first
    Audit {
        /// Only this record: a session or task id (or short id), a client name or a project slug
        record: Option<String>,
        /// Only corrections to this kind of record
        #[arg(long, value_parser = ["session", "client", "project", "task"])]
        kind: Option<String>,
        /// At most this many entries, newest first (0: all)
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Total and billable hours by client, project or day
    Report {
        /// One row per client, project or day
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
/// directory (see [`sessions::resolve_scope_in`]).
async fn scope_from(db: &mut Db, args: &ScopeArgs, machine_id: &str) -> Result<Scope> {
    let cwd = std::env::current_dir()?;
    sessions::resolve_scope_in(
        db,
        args.client.as_deref(),
        args.project.as_deref(),
        &cwd,
        machine_id,
    )
    .await
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
        return Err(Error::usage("--to must be after --from")
            .with_hint("e.g. --from yesterday --to today, or --from 2026-11-01 --to 2026-11-30"));
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
            allow_future,
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
                    allow_future,
                },
            )
            .await?;
            if let Some(c) = &started.closed {
                ctx.tell(format!(
                    "closed the open session {} ({}, {})",
                    c.short_id,
                    describe(c),
                    c.duration
                ));
            }
            let result = json!({"session": started.session, "closed": started.closed});
            ctx.print(&result, |_| {
                let v = &started.session;
                format!(
                    "started {} ({}) at {}",
                    v.short_id,
                    describe(v),
                    local_display(v.started_ms)
                )
            })?;
        }
        Cmd::Stop { summary, at } => {
            let at = at
                .as_deref()
                .map(|a| parse_time(a, now, DayEdge::Start))
                .transpose()?;
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
            ctx.print(&v, |v| {
                format!(
                    "stopped {} ({}) after {}",
                    v.short_id,
                    describe(v),
                    v.duration
                )
            })?;
        }
        Cmd::Status => {
            let open = sessions::status(db, &machine_id).await?;
            ctx.print(
                &json!({"open": open.is_some(), "session": open}),
                |_| match &open {
                    Some(v) => format!(
                        "open: {} ({}) since {}, {}{}",
                        v.short_id,
                        describe(v),
                        local_display(v.started_ms),
                        v.duration,
                        if v.billable { ", billable" } else { "" }
                    ),
                    None => "no open session".into(),
                },
            )?;
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
                limit: limit.map(super::sql_limit),
            };
            let list = sessions::list(db, &filter).await?;
            ctx.list(&list, |t| {
                t.col("ID", |v| v.short_id.clone())
                    .col("STARTED", |v| local_display(v.started_ms))
                    .col("DURATION", |v| {
                        if v.status == "open" {
                            format!("{} (open)", v.duration)
                        } else {
                            v.duration.clone()
                        }
                    })
                    .col("CLIENT", |v| or_dash(v.client.as_deref()))
                    .col("PROJECT", |v| or_dash(v.project.as_deref()))
                    .col("BILLABLE", |v| if v.billable { "yes" } else { "no" }.into())
                    .col("TITLE", |v| or_dash(v.title.as_deref()));
            })?;
        }
        Cmd::Add {
            from,
            to,
            scope,
            title,
            summary,
            billable,
            strict,
        } => {
            let from = parse_time(&from, now, DayEdge::Start)?;
            // A date alone ends at the end of that day, as for list --to.
            let to = parse_time(&to, now, DayEdge::End)?;
            let scope = scope_from(db, &scope, &machine_id).await?;
            let (v, overlaps) = sessions::add(
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
                strict,
            )
            .await?;
            warn_overlaps(&v, &overlaps);
            ctx.print(&v, |v| {
                format!("recorded {} ({}, {})", v.short_id, describe(v), v.duration)
            })?;
        }
        Cmd::Edit {
            id,
            from,
            to,
            title,
            summary,
            client,
            project,
            no_client,
            no_project,
            billable,
            not_billable,
            strict,
        } => {
            let time = |t: Option<String>, edge| t.map(|t| parse_time(&t, now, edge)).transpose();
            let edit = SessionEdit {
                from: time(from, DayEdge::Start)?,
                to: time(to, DayEdge::End)?,
                title,
                summary,
                client: if no_client {
                    Some(None)
                } else {
                    client.map(Some)
                },
                project: if no_project {
                    Some(None)
                } else {
                    project.map(Some)
                },
                billable: match (billable, not_billable) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                strict,
            };
            let edited = sessions::edit(db, &id, edit).await?;
            warn_overlaps(&edited.session, &edited.overlaps);
            let v = &edited.session;
            let result = json!({
                "session": v,
                "changed": edited.diff,
                "overlaps": edited.overlaps,
            });
            ctx.print(&result, |_| {
                if edited.diff.is_empty() {
                    format!("{} ({}): nothing changed", v.short_id, describe(v))
                } else {
                    format!(
                        "edited {} ({}, {}): {}",
                        v.short_id,
                        describe(v),
                        v.duration,
                        edited.diff.describe()
                    )
                }
            })?;
        }
        Cmd::Rm { id, force } => {
            let removed = sessions::remove(db, &id, force).await?;
            let v = &removed.session;
            for ticket in &removed.posted {
                note(format!(
                    "ticket {ticket} still has this session's note or time: remove it in the PSA too"
                ));
            }
            ctx.print(&json!({"removed": v, "posted_to": removed.posted}), |_| {
                format!(
                    "removed {} ({}, {}, started {})",
                    v.short_id,
                    describe(v),
                    v.duration,
                    local_display(v.started_ms)
                )
            })?;
        }
        Cmd::Audit {
            record,
            kind,
            limit,
        } => {
            let entity = match &record {
                Some(key) => Some(record_id(db, key).await?),
                None => None,
            };
            let list = audit::list(
                db,
                kind.as_deref(),
                entity.as_ref().map(|(id, _)| id.as_str()),
                super::sql_limit(limit),
            )
            .await?;
            // A typo matched nothing: say so rather than list nothing.
            if let (Some(key), Some((_, false))) = (&record, &entity)
                && list.is_empty()
            {
                return Err(Error::NotFound(format!(
                    "no client, project, session or task {key:?} has audit entries"
                ))
                .with_hint("`msp session audit` alone lists every correction; `msp session list` and `msp task list --all` show ids"));
            }
            ctx.list(&list, |t| {
                t.col("AT", |e| local_display(e.at))
                    .col("MACHINE", |e| {
                        e.machine
                            .clone()
                            .unwrap_or_else(|| or_dash(Some(&e.machine_id)))
                    })
                    .col("KIND", |e| e.kind.clone())
                    .col("ID", |e| crate::ids::short_id(&e.entity_id).to_string())
                    .col("ACTION", |e| e.action.clone())
                    .col("CHANGES", |e| e.diff().describe());
            })?;
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
            // Data on stdout; the overlap warning and its hint on stderr.
            if !ctx.json {
                for line in overlap_lines(&rep.overlaps) {
                    note(line);
                }
            }
            if ctx.json {
                print_json(&rep)?;
            } else if csv {
                out(rep.to_csv().trim_end())?;
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

/// Says on stderr which sessions `v` shares time with (not an error).
fn warn_overlaps(v: &SessionView, with: &[SessionView]) {
    if with.is_empty() {
        return;
    }
    let list: Vec<String> = with.iter().map(sessions::overlap_line).collect();
    note(format!(
        "warning: {} overlaps {} on this machine: reports count that time twice\nhint: `msp session edit ID --from/--to` corrects one of them (--strict refuses overlaps)",
        v.short_id,
        list.join("; ")
    ));
}

/// The lines a text report adds for sessions that share time.
fn overlap_lines(overlaps: &[report::Overlap]) -> Vec<String> {
    if overlaps.is_empty() {
        return Vec::new();
    }
    let total: i64 = overlaps.iter().map(|o| o.seconds).sum();
    let mut lines = vec![format!(
        "warning: {} overlap(s): {} counted twice",
        overlaps.len(),
        human_duration(total * 1000)
    )];
    for o in overlaps {
        lines.push(format!(
            "  {} and {} share {} ({} - {})",
            o.first,
            o.second,
            human_duration(o.seconds * 1000),
            local_display(o.from_ms),
            local_display(o.to_ms)
        ));
    }
    lines.push("hint: `msp session edit ID --from/--to` corrects one of them".into());
    lines
}

/// The id a record key names: a client (name, slug), a project (slug), or
/// else the key itself (a session or task id, or an id of something gone).
/// The id a `session audit RECORD` names, and whether it names a client,
/// project, session or task that exists (else the key as typed: the id of
/// a record since removed).
async fn record_id(db: &mut Db, key: &str) -> Result<(String, bool)> {
    if let Ok(c) = clients::resolve(db, key).await {
        return Ok((c.id, true));
    }
    if let Ok(p) = projects::resolve(db, key).await {
        return Ok((p.id, true));
    }
    for table in ["sessions", "tasks"] {
        if let Ok(id) = crate::work::resolve_id(db, table, key, "record", "").await {
            return Ok((id, true));
        }
    }
    Ok((key.trim().to_string(), false))
}

fn by_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Client => "client",
        GroupBy::Project => "project",
        GroupBy::Day => "day",
    }
}
