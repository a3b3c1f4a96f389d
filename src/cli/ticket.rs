//! `msp ticket …`: parses and prints; the work is in `crate::tickets`.

use clap::Subcommand;
use serde_json::json;

use super::{Ctx, note, or_dash, out, print_json};
use crate::error::{Error, ExitStatus, Result};
use crate::machine;
use crate::store::Db;
use crate::tickets::outbox::{self, DeliveryLock, How, Payload};
use crate::tickets::syncro::{self, Syncro};
use crate::tickets::{self, Account, NewNote, NewTime, Provider, TicketQuery, calls, compose};
use crate::time::{local_display, now_ms};
use crate::work::sessions::{self, SessionView};

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Connect a PSA. The API key stays in the vault; only its reference is kept
    Setup {
        /// The PSA to connect (SyncroMSP)
        #[arg(value_parser = ["syncro"])]
        provider: String,
        /// The NAME of https://NAME.syncromsp.com
        #[arg(long, required_unless_present = "base_url")]
        subdomain: Option<String>,
        /// API base URL (default https://NAME.syncromsp.com/api/v1), e.g. a proxy
        #[arg(long)]
        base_url: Option<String>,
        /// Where the API key is: msp://CLIENT/ITEM/FIELD (store it with `msp vault set`)
        #[arg(long, value_name = "REF")]
        api_key_ref: String,
    },
    /// Search tickets in the PSA
    Search {
        /// Customer name or id
        #[arg(long)]
        customer: Option<String>,
        /// e.g. New, "In Progress", Resolved, "Not Closed"
        #[arg(long)]
        status: Option<String>,
        /// Text to search the tickets for
        #[arg(long)]
        query: Option<String>,
        /// Only tickets assigned to the API key's user
        #[arg(long)]
        mine: bool,
    },
    /// A ticket with its comments and time entries
    Show {
        /// Ticket ID as `msp ticket search` shows it (not the ticket number)
        id: String,
    },
    /// Customers in the PSA
    Customers {
        /// Only customers matching this text
        #[arg(long)]
        query: Option<String>,
    },
    /// Link a work session to a ticket
    Link {
        /// Ticket ID as `msp ticket search` shows it (not the ticket number)
        id: String,
        /// A session id, or `current` (the open session on this machine)
        #[arg(long, default_value = "current", value_name = "ID|current")]
        session: String,
        /// How the session relates to the ticket
        #[arg(long = "type", default_value = "related", value_parser = ["related", "resolves", "documents", "caused_by"])]
        link_type: String,
        /// `msp ticket sync` posts the note and time once the session has ended
        #[arg(long)]
        auto_sync: bool,
    },
    /// Post a note (internal unless --public): given, or made from a session
    #[command(group(clap::ArgGroup::new("text").required(true).args(["body", "from_session"])))]
    Note {
        /// Ticket ID as `msp ticket search` shows it (not the ticket number)
        id: String,
        #[arg(long, conflicts_with = "from_session")]
        /// The note's text; `-` reads it from stdin (keeps it out of argv)
        body: Option<String>,
        /// Build it from a session's summary and memories (default: the open
        /// session on this machine, else the last one)
        #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "SESSION")]
        from_session: Option<String>,
        /// Visible to the customer, and emailed (default: internal, not emailed)
        #[arg(long)]
        public: bool,
        /// Print the note; post nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Log time on a ticket (charged only with --charge)
    #[command(group(clap::ArgGroup::new("length").required(true).args(["minutes", "from_session"])))]
    Time {
        /// Ticket ID as `msp ticket search` shows it (not the ticket number)
        id: String,
        /// Minutes worked, ending now (1 to 1440)
        #[arg(long, conflicts_with = "from_session", value_parser = clap::value_parser!(i64).range(1..=24 * 60))]
        minutes: Option<i64>,
        /// Take start and length from a session (default: the open session on
        /// this machine, else the last one)
        #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "SESSION")]
        from_session: Option<String>,
        /// Text of the time entry (default: the session's title or summary, else "Work session")
        #[arg(long)]
        notes: Option<String>,
        /// Charge the time to the ticket (bill it)
        #[arg(long)]
        charge: bool,
        /// Print the time entry; post nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Post what is waiting: the outbox, and notes and time of ended sessions linked with --auto-sync
    Sync {
        /// List what would be posted; post nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Every call made to the PSA: what was sent (secrets masked), status, duration, retries
    Log {
        /// Only the newest N calls
        #[arg(long)]
        limit: Option<i64>,
    },
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let code = match cmd {
        Cmd::Setup {
            provider,
            subdomain,
            base_url,
            api_key_ref,
        } => setup(ctx, db, provider, subdomain, base_url, &api_key_ref).await?,
        Cmd::Search {
            customer,
            status,
            query,
            mine,
        } => {
            let (_, p) = connect(ctx, db).await?;
            let customer_id = match customer {
                Some(c) => Some(customer_id(db, &p, &c).await?),
                None => None,
            };
            let q = TicketQuery {
                customer_id,
                status,
                query,
                mine,
            };
            let found = p.search_tickets(db, &q).await?;
            ctx.list(&found, |t| {
                t.col("ID", |t| t.id.clone())
                    .col("NUMBER", |t| t.number.clone())
                    .col("STATUS", |t| or_dash(Some(&t.status)))
                    .col("CUSTOMER", |t| or_dash(t.customer.as_deref()))
                    .col("SUBJECT", |t| t.subject.clone());
            })?;
            ExitStatus::Success
        }
        Cmd::Show { id } => {
            let (_, p) = connect(ctx, db).await?;
            let t = p.get_ticket(db, &id).await?;
            ctx.print(&t, show)?;
            ExitStatus::Success
        }
        Cmd::Customers { query } => {
            let (_, p) = connect(ctx, db).await?;
            let list = p.customers(db, query.as_deref()).await?;
            ctx.list(&list, |t| {
                t.col("ID", |c| c.id.clone())
                    .col("NAME", |c| c.name.clone())
                    .col("EMAIL", |c| or_dash(c.email.as_deref()));
            })?;
            ExitStatus::Success
        }
        Cmd::Link {
            id,
            session,
            link_type,
            auto_sync,
        } => {
            let account = tickets::account(db).await?;
            let ticket = checked_ticket_id(&account, &id)?;
            let s = if session == "current" {
                let machine_id = machine::require_self(db).await?;
                sessions::status(db, &machine_id).await?.ok_or_else(|| {
                    Error::Conflict("no open session on this machine".into())
                        .with_hint("give --session ID (`msp session list` shows ids)")
                })?
            } else {
                sessions::resolve(db, &session).await?
            };
            let link =
                tickets::link(db, &account.provider, &ticket, &s.id, &link_type, auto_sync).await?;
            ctx.print(&link, |_| {
                format!(
                    "linked ticket {ticket} to session {} ({link_type}{})",
                    s.short_id,
                    if auto_sync { ", auto-sync" } else { "" }
                )
            })?;
            ExitStatus::Success
        }
        Cmd::Note {
            id,
            body,
            from_session,
            public,
            dry_run,
        } => {
            let (payload, session_id) = match (body, from_session) {
                (Some(body), _) => (
                    NewNote {
                        subject: "Note".into(),
                        body: note_body(body)?,
                        public,
                    },
                    None,
                ),
                (None, Some(key)) => {
                    let s = session_for(db, &key).await?;
                    let work = compose::session_work(db, &s.id).await?;
                    (compose::note(&work, public, now_ms()), Some(s.id))
                }
                (None, None) => unreachable!("clap requires --body or --from-session"),
            };
            if payload.body.trim().is_empty() {
                return Err(Error::usage("the note is empty").with_hint("give --body TEXT"));
            }
            write(ctx, db, &id, session_id, Payload::Note(payload), dry_run).await?
        }
        Cmd::Time {
            id,
            minutes,
            from_session,
            notes,
            charge,
            dry_run,
        } => {
            let now = now_ms();
            let (payload, session_id) = match (minutes, from_session) {
                (Some(m), _) => (
                    NewTime {
                        // Whole seconds: the entry is found again by its start.
                        start_ms: (now - m * 60_000) / 1000 * 1000,
                        minutes: m,
                        notes: notes
                            .filter(|n| !n.trim().is_empty())
                            .unwrap_or_else(|| "Work session".into()),
                        charge,
                    },
                    None,
                ),
                (None, Some(key)) => {
                    let s = session_for(db, &key).await?;
                    let work = compose::session_work(db, &s.id).await?;
                    (compose::time(&work, notes, charge, now), Some(s.id))
                }
                (None, None) => unreachable!("clap requires --minutes or --from-session"),
            };
            write(ctx, db, &id, session_id, Payload::Time(payload), dry_run).await?
        }
        Cmd::Sync { dry_run } => sync(ctx, db, dry_run).await?,
        Cmd::Log { limit } => {
            let rows = calls::list(db, limit).await?;
            ctx.list(&rows, |t| {
                t.col("TIME", |r| local_display(r.started_ms))
                    .col("METHOD", |r| r.method.clone())
                    .col("PATH", |r| r.path.clone())
                    .col("STATUS", |r| r.status.map_or("-".into(), |s| s.to_string()))
                    .col("MS", |r| {
                        r.duration_ms.map_or("-".into(), |d| d.to_string())
                    })
                    .col("RETRY", |r| r.retry.to_string())
                    .col("ERROR", |r| or_dash(r.error.as_deref()));
            })?;
            ExitStatus::Success
        }
    };
    store.close().await?;
    Ok(code)
}

async fn setup(
    ctx: &Ctx,
    db: &mut Db,
    provider: String,
    subdomain: Option<String>,
    base_url: Option<String>,
    api_key_ref: &str,
) -> Result<ExitStatus> {
    let base_url = match (base_url, subdomain) {
        (Some(url), _) => url,
        (None, Some(name)) => tickets::syncro_base_url(&name)?,
        (None, None) => unreachable!("clap requires --subdomain or --base-url"),
    };
    // The key must be there now; it is read (and the vault unlocked) only
    // when a command calls the PSA.
    let key = tickets::key_ref(db, api_key_ref).await?;
    let account = Account {
        provider,
        base_url,
        api_key_ref: key.stored,
    };
    tickets::set_account(db, &account).await?;
    let account = Account {
        api_key_ref: key.shown,
        ..tickets::account(db).await?
    };
    ctx.print(&account, |a| {
        format!(
            "{} at {} (API key: {})",
            a.provider, a.base_url, a.api_key_ref
        )
    })?;
    ctx.tell("check it with `msp ticket customers`");
    Ok(ExitStatus::Success)
}

/// The configured provider, with its API key from the vault.
async fn connect(ctx: &Ctx, db: &mut Db) -> Result<(Account, Syncro)> {
    let mut account = tickets::account(db).await?;
    let key_ref = tickets::key_ref(db, &account.api_key_ref).await?;
    if key_ref.stored != account.api_key_ref {
        // Set up by an older msp, with the client's slug or name.
        account.api_key_ref = key_ref.stored.clone();
        tickets::set_account(db, &account).await?;
    }
    let revealed = crate::vault::access::reveal_for(
        db,
        &ctx.config.vault,
        &ctx.paths.data_dir,
        &key_ref.stored,
        "ticket",
        &format!("{} API key", account.provider),
    )
    .await?;
    for w in &revealed.warnings {
        note(w);
    }
    let key = revealed.value;
    // What the call log keeps is redacted with the built-in rules and the
    // vault's own values: a password typed into a note is sent, not logged.
    let (redactor, known) = crate::app::redactor(db, &ctx.paths.data_dir).await;
    if let Err(why) = known {
        return Err(Error::Other(format!(
            "cannot read the vault's redaction data: {why}"
        )));
    }
    let p = Syncro::new(
        &account.base_url,
        &key_ref.shown,
        key,
        redactor,
        &ctx.config.tickets,
    )?;
    Ok((account, p))
}

fn checked_ticket_id(account: &Account, id: &str) -> Result<String> {
    match account.provider.as_str() {
        "syncro" => syncro::ticket_id(id),
        _ => Ok(id.trim().to_string()),
    }
}

/// `--from-session [ID]`: that session, or (no ID) the open one on this
/// machine, else the one that started last.
async fn session_for(db: &mut Db, key: &str) -> Result<SessionView> {
    if !key.trim().is_empty() {
        return sessions::resolve(db, key).await;
    }
    let machine_id = machine::require_self(db).await?;
    sessions::current_or_latest(db, &machine_id)
        .await?
        .ok_or_else(|| {
            Error::NotFound("no work session on this machine".into())
                .with_hint("`msp session start` starts one; or give --body / --minutes")
        })
}

/// `--customer`: an id as is, else the one customer whose name matches.
async fn customer_id(db: &mut Db, p: &Syncro, key: &str) -> Result<String> {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
        return Ok(key.to_string());
    }
    let found = p.customers(db, Some(key)).await?;
    let exact: Vec<_> = found
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(key.trim()))
        .collect();
    match (exact.as_slice(), found.as_slice()) {
        ([one], _) => Ok(one.id.clone()),
        ([], [one]) => Ok(one.id.clone()),
        (_, []) => Err(Error::not_found(
            "customer",
            key,
            "`msp ticket customers --query TEXT` lists customers",
        )),
        _ => Err(Error::usage(format!(
            "{key:?} matches several customers: {}",
            found
                .iter()
                .take(5)
                .map(|c| format!("{} ({})", c.name, c.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("give the customer's id")),
    }
}

fn payload_json(ticket: &str, session_id: Option<&str>, payload: &Payload) -> serde_json::Value {
    match payload {
        Payload::Note(n) => json!({
            "ticket_id": ticket, "kind": "note", "session_id": session_id,
            "subject": n.subject, "body": n.body, "hidden": !n.public, "do_not_email": !n.public,
        }),
        Payload::Time(t) => json!({
            "ticket_id": ticket, "kind": "time", "session_id": session_id,
            "start_at": tickets::api_time(t.start_ms), "end_at": tickets::api_time(t.end_ms()),
            "minutes": t.minutes, "notes": t.notes, "charge": t.charge,
        }),
    }
}

fn describe(payload: &Payload) -> String {
    match payload {
        Payload::Note(n) => format!(
            "note ({}): {}\n{}",
            if n.public { "public" } else { "internal" },
            n.subject,
            n.body
        ),
        Payload::Time(t) => format!(
            "time: {} min from {}{}: {}",
            t.minutes,
            local_display(t.start_ms),
            if t.charge { ", charged" } else { "" },
            t.notes
        ),
    }
}

/// `note` and `time`: print it (dry run), or queue it and post it now.
async fn write(
    ctx: &Ctx,
    db: &mut Db,
    id: &str,
    session_id: Option<String>,
    payload: Payload,
    dry_run: bool,
) -> Result<ExitStatus> {
    let account = tickets::account(db).await?;
    let ticket = checked_ticket_id(&account, id)?;
    if dry_run {
        let mut planned = payload_json(&ticket, session_id.as_deref(), &payload);
        planned["dry_run"] = true.into();
        ctx.print(&planned, |_| {
            format!("ticket {ticket}, {}", describe(&payload))
        })?;
        ctx.tell(if matches!(payload, Payload::Note(_)) {
            "dry run: nothing posted (a posted note ends with a line `msp:<outbox id>`)"
        } else {
            "dry run: nothing posted"
        });
        return Ok(ExitStatus::Success);
    }
    let queued = outbox::enqueue(
        db,
        &account.provider,
        &ticket,
        session_id.as_deref(),
        &payload,
    )
    .await?;
    let item = if !queued.new && queued.item.status == "sent" {
        outbox::Delivered {
            item: queued.item,
            how: How::AlreadySent,
        }
    } else {
        if !queued.new {
            note(format!(
                "this session's {} for ticket {ticket} was queued before ({}); posting that one",
                queued.item.kind, queued.item.id
            ));
        }
        let (_, p) = connect(ctx, db).await?;
        let lock = DeliveryLock::acquire(&ctx.paths.data_dir, || {
            note("waiting for another msp process that posts to tickets")
        })?;
        match outbox::deliver(db, &p, &lock, &queued.item.id, &ctx.config.tickets).await {
            Ok(d) => d,
            // Still queued: the same command again would queue a second one.
            Err(e)
                if outbox::get(db, &queued.item.id)
                    .await
                    .is_ok_and(|i| i.status != "failed" && i.status != "sent") =>
            {
                return Err(e.with_hint(format!(
                    "the {} stays queued: `msp ticket sync` posts it once {} answers (running this command again would queue a second one)",
                    queued.item.kind, account.provider
                )));
            }
            Err(e) => return Err(e),
        }
    };
    ctx.print(&delivered_json(&item), |_| delivered_line(&item))?;
    Ok(ExitStatus::Success)
}

/// A delivered item as `--json` prints it: the item, and how it got there.
fn delivered_json(d: &outbox::Delivered) -> serde_json::Value {
    let mut v = d.item.view();
    v["how"] = serde_json::to_value(d.how).unwrap_or_default();
    v
}

fn delivered_line(d: &outbox::Delivered) -> String {
    let i = &d.item;
    let what = if i.kind == "note" {
        "note"
    } else {
        "time entry"
    };
    let remote = i.remote_id.as_deref().unwrap_or("-");
    match d.how {
        How::Posted => format!("posted {what} {remote} to ticket {}", i.ticket_id),
        How::FoundOnTicket => format!(
            "{what} {remote} was already on ticket {} (an earlier attempt landed); not posted again",
            i.ticket_id
        ),
        How::AlreadySent => format!(
            "{what} {remote} was posted to ticket {} before; not posted again",
            i.ticket_id
        ),
    }
}

async fn sync(ctx: &Ctx, db: &mut Db, dry_run: bool) -> Result<ExitStatus> {
    let account = tickets::account(db).await?;
    let plan = outbox::plan_linked_sessions(db, &account.provider).await?;
    if dry_run {
        let open = outbox::open_items(db, &account.provider).await?;
        if ctx.json {
            let planned: Vec<_> = plan
                .iter()
                .map(|p| payload_json(&p.ticket_id, Some(&p.session_id), &p.payload))
                .collect();
            let open: Vec<_> = open.iter().map(outbox::Item::view).collect();
            print_json(&json!({"dry_run": true, "queued": open, "from_linked_sessions": planned}))?;
        } else {
            for i in &open {
                out(format!(
                    "queued  {} {} for ticket {} ({}{})",
                    i.id,
                    i.kind,
                    i.ticket_id,
                    i.status,
                    i.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ))?;
            }
            for p in &plan {
                out(format!(
                    "new     ticket {}, {}",
                    p.ticket_id,
                    describe(&p.payload)
                ))?;
            }
            note(format!(
                "dry run: {} queued, {} to queue from linked sessions; nothing posted",
                open.len(),
                plan.len()
            ));
        }
        return Ok(ExitStatus::Success);
    }
    for p in &plan {
        outbox::enqueue(
            db,
            &account.provider,
            &p.ticket_id,
            Some(&p.session_id),
            &p.payload,
        )
        .await?;
    }
    let open = outbox::open_items(db, &account.provider).await?;
    let failed_before = outbox::failed_items(db, &account.provider).await?;
    for f in &failed_before {
        note(format!(
            "not retried: {} for ticket {} was refused: {}",
            f.kind,
            f.ticket_id,
            f.last_error.as_deref().unwrap_or("-")
        ));
    }
    if open.is_empty() {
        if ctx.json {
            print_json(&json!([]))?;
        } else {
            note("nothing to post");
        }
        return Ok(ExitStatus::Success);
    }
    let (_, p) = connect(ctx, db).await?;
    let lock = DeliveryLock::acquire(&ctx.paths.data_dir, || {
        note("waiting for another msp process that posts to tickets")
    })?;
    let mut results = Vec::new();
    let mut first_error: Option<Error> = None;
    for item in &open {
        match outbox::deliver(db, &p, &lock, &item.id, &ctx.config.tickets).await {
            Ok(d) => {
                if !ctx.json {
                    out(delivered_line(&d))?;
                }
                results.push(delivered_json(&d));
            }
            Err(e) => {
                note(format!(
                    "error: {} for ticket {}: {e}",
                    item.kind, item.ticket_id
                ));
                let mut v = outbox::get(db, &item.id).await?.view();
                v["error"] = e.to_string().into();
                results.push(v);
                // A refused key refuses every item: stop here.
                let stop = matches!(e.kind(), Error::Locked(_));
                first_error.get_or_insert(e);
                if stop {
                    break;
                }
            }
        }
    }
    if ctx.json {
        print_json(&results)?;
    }
    match first_error {
        None => Ok(ExitStatus::Success),
        Some(e) => {
            note("what was not posted stays in the outbox: run `msp ticket sync` again later");
            Ok(ExitStatus::Reported(e.exit_code()))
        }
    }
}

/// `--body -` reads the note from stdin.
fn note_body(body: String) -> Result<String> {
    super::output::text_or_stdin(
        body,
        "note",
        "post a shorter note, or attach the rest to the ticket",
    )
}

/// A ticket with its comments and time entries, for people.
fn show(t: &tickets::Ticket) -> String {
    let s = &t.summary;
    let mut lines = vec![
        format!("ticket {} (#{}): {}", s.id, s.number, s.subject),
        format!("status    {}", or_dash(Some(&s.status))),
        format!("customer  {}", or_dash(s.customer.as_deref())),
        format!(
            "updated   {}",
            s.updated_at
                .as_deref()
                .map_or("-".into(), super::local_time)
        ),
        format!("\ncomments ({})", t.comments.len()),
    ];
    for c in &t.comments {
        lines.push(format!(
            "- {} {} [{}] {}",
            c.created_at
                .as_deref()
                .map_or("-".into(), super::local_time),
            or_dash(c.tech.as_deref()),
            if c.hidden { "internal" } else { "public" },
            or_dash(c.subject.as_deref())
        ));
        for line in c.body.lines() {
            lines.push(format!("    {line}"));
        }
    }
    lines.push(format!("\ntime entries ({})", t.time_entries.len()));
    for e in &t.time_entries {
        lines.push(format!(
            "- {} – {} {}{}",
            or_dash(e.start_time.as_deref()),
            or_dash(e.end_time.as_deref()),
            or_dash(e.notes.as_deref()),
            if e.charged { " (charged)" } else { "" }
        ));
    }
    lines.join("\n")
}
