//! The outbox: every write to a provider is first a row here, with a local
//! id, then posted. A write is never sent again blindly: once an attempt
//! may have landed (a timeout, a 5xx, a 429, an answer that cannot be read,
//! or a process that died while the row said 'sending'), the ticket is read
//! back first and the write is posted again only if it is not there. A note
//! is recognised by its marker line (`msp:<id>`), a time entry by its start
//! time and notes.
//!
//! Delivery holds an exclusive lock on a file in the data directory, so one
//! process delivers at a time, and a row found in 'sending' by the lock's
//! holder was left by a process that died.

use std::fs::File;
use std::path::Path;

use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

use super::compose::{self, has_marker, same_text, with_marker};
use super::{NewNote, NewTime, Provider, WriteError, WriteTag, calls};
use crate::config::TicketsConfig;
use crate::error::{Error, Result};
use crate::store::{self, Db};
use crate::time::{Millis, now_ms, rfc3339};

/// What a row asks to post.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Note(NewNote),
    Time(NewTime),
}

impl Payload {
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Note(_) => "note",
            Payload::Time(_) => "time",
        }
    }

    fn to_json(&self) -> String {
        match self {
            Payload::Note(n) => serde_json::to_string(n),
            Payload::Time(t) => serde_json::to_string(t),
        }
        .unwrap_or_else(|_| "{}".into())
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: String,
    pub provider: String,
    pub ticket_id: String,
    pub kind: String,
    pub session_id: Option<String>,
    #[serde(skip)]
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub remote_id: Option<String>,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub created_ms: Millis,
    #[serde(skip)]
    pub sent_ms: Option<Millis>,
}

impl Item {
    pub fn payload(&self) -> Result<Payload> {
        let bad =
            |e: serde_json::Error| Error::Other(format!("outbox item {} is damaged: {e}", self.id));
        match self.kind.as_str() {
            "note" => Ok(Payload::Note(
                serde_json::from_str(&self.payload).map_err(bad)?,
            )),
            _ => Ok(Payload::Time(
                serde_json::from_str(&self.payload).map_err(bad)?,
            )),
        }
    }

    /// The JSON shape: the row with its payload and times spelled out.
    pub fn view(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = v.as_object_mut() {
            let payload: Value = serde_json::from_str(&self.payload).unwrap_or(Value::Null);
            map.insert("payload".into(), payload);
            map.insert("created_at".into(), rfc3339(self.created_ms).into());
            map.insert(
                "sent_at".into(),
                self.sent_ms
                    .map(rfc3339)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            );
        }
        v
    }
}

const COLUMNS: &str =
    "id, provider, ticket_id, kind, session_id, payload, status, attempts, remote_id, last_error,
    created_at AS created_ms, sent_at AS sent_ms";

pub async fn get(db: &mut Db, id: &str) -> Result<Item> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ticket_outbox WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| {
        Error::not_found(
            "outbox item",
            id,
            "`msp ticket sync --dry-run` lists the outbox",
        )
    })
}

/// The newest items of every provider and status, newest first.
pub async fn recent(db: &mut Db, limit: i64) -> Result<Vec<Item>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ticket_outbox ORDER BY created_at DESC, id LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Items still to post (including those a dead process left 'sending'), oldest first.
pub async fn open_items(db: &mut Db, provider: &str) -> Result<Vec<Item>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ticket_outbox WHERE provider = ? AND status IN ('pending', 'sending')
         ORDER BY created_at, id"
    )))
    .bind(provider)
    .fetch_all(db)
    .await?)
}

/// Items that failed for good (the provider refused them).
pub async fn failed_items(db: &mut Db, provider: &str) -> Result<Vec<Item>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ticket_outbox WHERE provider = ? AND status = 'failed' ORDER BY created_at, id"
    )))
    .bind(provider)
    .fetch_all(db)
    .await?)
}

/// What [`enqueue`] did.
#[derive(Debug)]
pub struct Queued {
    pub item: Item,
    /// False when this session's note or time for the ticket was queued
    /// before (and is pending or sent): nothing new was added.
    pub new: bool,
}

/// Adds a write to the outbox. A session's note (or time) goes to a ticket
/// once: queuing it again returns the existing row, unless that one failed
/// for good, which is then queued again with the new payload.
pub async fn enqueue(
    db: &mut Db,
    provider: &str,
    ticket_id: &str,
    session_id: Option<&str>,
    payload: &Payload,
) -> Result<Queued> {
    let mut tx = store::begin_write(db).await?;
    let now = now_ms();
    if let Some(sid) = session_id {
        let existing: Option<Item> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ticket_outbox WHERE provider = ? AND ticket_id = ? AND kind = ? AND session_id = ?"
        )))
        .bind(provider)
        .bind(ticket_id)
        .bind(payload.kind())
        .bind(sid)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(item) = existing {
            if item.status != "failed" {
                tx.commit().await?;
                return Ok(Queued { item, new: false });
            }
            sqlx::query(
                "UPDATE ticket_outbox SET payload = ?, status = 'pending', last_error = NULL, updated_at = ? WHERE id = ?",
            )
            .bind(payload.to_json())
            .bind(now)
            .bind(&item.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Queued {
                item: get(db, &item.id).await?,
                new: true,
            });
        }
    }
    let id = crate::ids::new_id();
    sqlx::query(
        "INSERT INTO ticket_outbox (id, provider, ticket_id, kind, session_id, payload, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(provider)
    .bind(ticket_id)
    .bind(payload.kind())
    .bind(session_id)
    .bind(payload.to_json())
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Queued {
        item: get(db, &id).await?,
        new: true,
    })
}

/// A write that `msp ticket sync` would queue for an auto-sync link.
#[derive(Debug, Clone)]
pub struct Planned {
    pub ticket_id: String,
    pub session_id: String,
    pub payload: Payload,
}

/// The notes and time entries owed to auto-sync links whose session has
/// ended and that were not queued yet.
pub async fn plan_linked_sessions(db: &mut Db, provider: &str) -> Result<Vec<Planned>> {
    let now = now_ms();
    let mut plan = Vec::new();
    for link in super::ended_auto_sync_links(db, provider).await? {
        let queued: Vec<String> = sqlx::query_scalar(
            "SELECT kind FROM ticket_outbox WHERE provider = ? AND ticket_id = ? AND session_id = ?",
        )
        .bind(provider)
        .bind(&link.ticket_id)
        .bind(&link.session_id)
        .fetch_all(&mut *db)
        .await?;
        if queued.len() >= 2 {
            continue;
        }
        let work = compose::session_work(db, &link.session_id).await?;
        let note = Payload::Note(compose::note(&work, false, now));
        let time = Payload::Time(compose::time(&work, None, false, now));
        for payload in [note, time] {
            if !queued.iter().any(|k| k == payload.kind()) {
                plan.push(Planned {
                    ticket_id: link.ticket_id.clone(),
                    session_id: link.session_id.clone(),
                    payload,
                });
            }
        }
    }
    Ok(plan)
}

/// Held while delivering: one process at a time posts from the outbox.
#[derive(Debug)]
pub struct DeliveryLock {
    _file: File,
}

impl DeliveryLock {
    /// Takes the lock on `tickets.lock` in `data_dir`, waiting for another
    /// process that holds it (`waiting` is called once if so). The OS
    /// releases it when the process ends, however it ends.
    pub fn acquire(data_dir: &Path, waiting: impl FnOnce()) -> Result<DeliveryLock> {
        crate::files::create_private_dir(data_dir)
            .map_err(|e| Error::io(format!("creating {}", data_dir.display()), e))?;
        let path = data_dir.join("tickets.lock");
        let file = crate::files::private_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock()
                    .map_err(|e| Error::io(format!("locking {}", path.display()), e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()), e));
            }
        }
        Ok(DeliveryLock { _file: file })
    }
}

/// How an item ended up delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Posted now.
    Posted,
    /// An earlier attempt had landed: found on the ticket, not posted again.
    FoundOnTicket,
    /// It was sent before this run.
    AlreadySent,
}

#[derive(Debug)]
pub struct Delivered {
    pub item: Item,
    pub how: How,
}

/// What reading the ticket back found.
enum Found {
    Nothing,
    /// The write is there, complete.
    Done(String),
    /// The time entry is there but not yet charged.
    Uncharged(String),
}

/// Posts one item, reading the ticket back first whenever an earlier attempt
/// may have landed. On an outcome it cannot settle, the item stays in the
/// outbox (pending, to be looked for first next time) and an error says so.
pub async fn deliver<P: Provider>(
    db: &mut Db,
    provider: &P,
    _lock: &DeliveryLock,
    id: &str,
    cfg: &TicketsConfig,
) -> Result<Delivered> {
    let mut item = get(db, id).await?;
    if item.status == "sent" {
        return Ok(Delivered {
            item,
            how: How::AlreadySent,
        });
    }
    // Refused while this process waited for the lock: posting it again
    // would be refused again.
    if item.status == "failed" {
        return Err(Error::Other(format!(
            "the {} for ticket {} was refused: {}",
            item.kind,
            item.ticket_id,
            item.last_error.as_deref().unwrap_or("-")
        ))
        .with_hint("fix what the message names, then run the note or time command again"));
    }
    let payload = item.payload()?;
    // Any earlier attempt (timed out, answered 5xx or 429, or cut short by
    // a crash while the row said 'sending') may have reached the ticket.
    let mut uncertain = item.attempts > 0;
    let attempts = cfg.max_attempts.max(1);
    let mut last_error = String::new();
    for round in 0..attempts {
        if uncertain {
            match find(db, provider, &item, &payload).await {
                Ok(Found::Done(remote)) => {
                    mark_sent(db, &item.id, &remote).await?;
                    return Ok(Delivered {
                        item: get(db, id).await?,
                        how: How::FoundOnTicket,
                    });
                }
                Ok(Found::Uncharged(remote)) => {
                    set_remote(db, &item.id, &remote).await?;
                    item.remote_id = Some(remote);
                }
                Ok(Found::Nothing) => {}
                Err(e) if matches!(e.kind(), Error::NotFound(_)) => {
                    mark_failed(db, &item.id, &e).await?;
                    return Err(e);
                }
                Err(e) => {
                    keep_pending(db, &item.id, &e.to_string()).await?;
                    return Err(e.wrap(|e| {
                        Error::Other(format!(
                            "cannot tell whether the {} for ticket {} was posted, so it was not posted again: {e}",
                            item.kind, item.ticket_id
                        ))
                    }));
                }
            }
        }
        mark_sending(db, &item.id).await?;
        let tag = WriteTag {
            outbox_id: id,
            retry: round,
        };
        match post(db, provider, &mut item, &payload, tag).await {
            Ok(remote) => {
                mark_sent(db, &item.id, &remote).await?;
                return Ok(Delivered {
                    item: get(db, id).await?,
                    how: How::Posted,
                });
            }
            Err(WriteError::Unknown {
                message,
                retry_after,
            }) => {
                uncertain = true;
                last_error = message;
                if round + 1 < attempts {
                    match calls::pause(cfg, provider.name(), round + 1, retry_after) {
                        Ok(wait) => tokio::time::sleep(wait).await,
                        Err(e) => {
                            keep_pending(db, &item.id, &last_error).await?;
                            return Err(e);
                        }
                    }
                }
            }
            Err(WriteError::Rejected(e)) => {
                mark_failed(db, &item.id, &e).await?;
                return Err(e);
            }
            Err(WriteError::Blocked(e)) => {
                keep_pending(db, &item.id, &e.to_string()).await?;
                return Err(e);
            }
        }
    }
    keep_pending(db, &item.id, &last_error).await?;
    Err(Error::Other(format!("{last_error}\nthe {} for ticket {} stays in the outbox ({}); it will be looked for on the ticket before it is posted again", item.kind, item.ticket_id, item.id)).with_hint("run `msp ticket sync` later"))
}

async fn post<P: Provider>(
    db: &mut Db,
    provider: &P,
    item: &mut Item,
    payload: &Payload,
    tag: WriteTag<'_>,
) -> Result<String, WriteError> {
    match payload {
        Payload::Note(n) => {
            let note = NewNote {
                body: with_marker(&n.body, &item.id),
                ..n.clone()
            };
            provider.add_note(db, &item.ticket_id, &note, tag).await
        }
        Payload::Time(t) => {
            let entry = match item.remote_id.clone() {
                Some(entry) => entry,
                None => {
                    let entry = provider.log_time(db, &item.ticket_id, t, tag).await?;
                    set_remote(db, &item.id, &entry)
                        .await
                        .map_err(WriteError::Blocked)?;
                    item.remote_id = Some(entry.clone());
                    entry
                }
            };
            if t.charge {
                provider
                    .charge_time(db, &item.ticket_id, &entry, tag)
                    .await?;
            }
            Ok(entry)
        }
    }
}

async fn find<P: Provider>(
    db: &mut Db,
    provider: &P,
    item: &Item,
    payload: &Payload,
) -> Result<Found> {
    let ticket = provider.get_ticket(db, &item.ticket_id).await?;
    // Comments and entries other items of ours posted: never this one's.
    let theirs: Vec<String> = sqlx::query_scalar(
        "SELECT remote_id FROM ticket_outbox
         WHERE provider = ? AND ticket_id = ? AND kind = ? AND id <> ? AND remote_id IS NOT NULL",
    )
    .bind(&item.provider)
    .bind(&item.ticket_id)
    .bind(&item.kind)
    .bind(&item.id)
    .fetch_all(&mut *db)
    .await?;
    let unclaimed = |remote: &str| !theirs.iter().any(|t| t == remote);
    Ok(match payload {
        Payload::Note(_) => ticket
            .comments
            .iter()
            .find(|c| unclaimed(&c.id) && has_marker(&c.body, &item.id))
            .map(|c| Found::Done(c.id.clone()))
            .unwrap_or(Found::Nothing),
        Payload::Time(t) => ticket
            .time_entries
            .iter()
            .find(|e| item.remote_id.as_deref() == Some(e.id.as_str()))
            .or_else(|| {
                ticket.time_entries.iter().find(|e| {
                    unclaimed(&e.id)
                        && near_instant(e.start_time.as_deref(), t.start_ms)
                        && e.notes.as_deref().is_some_and(|n| same_text(n, &t.notes))
                })
            })
            .map(|e| {
                if t.charge && !e.charged {
                    Found::Uncharged(e.id.clone())
                } else {
                    Found::Done(e.id.clone())
                }
            })
            .unwrap_or(Found::Nothing),
    })
}

/// How far a provider may move a time entry's start: Syncro may keep it to
/// the second or round it to the minute, either way.
const START_TOLERANCE_MS: Millis = 60_000;

/// Whether an RFC 3339 time from the provider is `ms`, as the provider may
/// have rounded it.
fn near_instant(text: Option<&str>, ms: Millis) -> bool {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| (t.timestamp_millis() - ms).abs() < START_TOLERANCE_MS)
}

async fn mark_sending(db: &mut Db, id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE ticket_outbox SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?",
    )
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

async fn set_remote(db: &mut Db, id: &str, remote: &str) -> Result<()> {
    sqlx::query("UPDATE ticket_outbox SET remote_id = ?, updated_at = ? WHERE id = ?")
        .bind(remote)
        .bind(now_ms())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks an item sent. Its payload was kept as typed only to be sent; once
/// sent, the copy that stays is redacted like the call log.
async fn mark_sent(db: &mut Db, id: &str, remote: &str) -> Result<()> {
    let now = now_ms();
    let payload: Option<String> =
        sqlx::query_scalar("SELECT payload FROM ticket_outbox WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    let redacted = payload.map(|p| redact_payload(&p));
    sqlx::query(
        "UPDATE ticket_outbox SET status = 'sent', remote_id = ?, last_error = NULL, sent_at = ?, updated_at = ?,
         payload = COALESCE(?, payload) WHERE id = ?",
    )
    .bind(remote)
    .bind(now)
    .bind(now)
    .bind(redacted)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Every string of a JSON payload redacted (the payload itself when it is
/// not JSON).
fn redact_payload(payload: &str) -> String {
    let r = crate::redact::global();
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(mut v) => {
            r.redact_json(&mut v);
            v.to_string()
        }
        Err(_) => r.redact(payload).text,
    }
}

async fn keep_pending(db: &mut Db, id: &str, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE ticket_outbox SET status = 'pending', last_error = ?, updated_at = ? WHERE id = ?",
    )
    .bind(first_line(error))
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

async fn mark_failed(db: &mut Db, id: &str, error: &Error) -> Result<()> {
    sqlx::query(
        "UPDATE ticket_outbox SET status = 'failed', last_error = ?, updated_at = ? WHERE id = ?",
    )
    .bind(first_line(&error.to_string()))
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn note(body: &str) -> Payload {
        Payload::Note(NewNote {
            subject: "s".into(),
            body: body.into(),
            public: false,
        })
    }

    #[test]
    fn a_start_rounded_by_the_provider_is_still_the_same_entry() {
        let ms = 1_795_339_812_400; // 09:30:12.4
        assert!(near_instant(Some("2026-11-22T09:30:12.000Z"), ms));
        assert!(near_instant(Some("2026-11-22T10:30:12+01:00"), ms));
        // Rounded to the minute, down or up.
        assert!(near_instant(Some("2026-11-22T09:30:00Z"), ms));
        assert!(near_instant(Some("2026-11-22T09:31:00Z"), ms));
        assert!(!near_instant(Some("2026-11-22T09:32:00Z"), ms));
        assert!(!near_instant(Some("2026-11-22T09:29:00Z"), ms));
        assert!(!near_instant(Some("not a time"), ms));
        assert!(!near_instant(None, 0));
    }

    #[tokio::test]
    async fn a_session_is_queued_once_per_ticket_and_kind() {
        let (_d, mut s) = temp_store().await;
        // Sessions need a machine; the outbox only needs the id to exist.
        sqlx::raw_sql(
            "INSERT INTO machines (id, fingerprint, hostname, platform, username, home_directory, created_at, updated_at, last_seen_at)
             VALUES ('m', 'f', 'h', 'linux', 'u', '/h', 0, 0, 0);
             INSERT INTO sessions (id, machine_id, started_at, ended_at, created_at, updated_at) VALUES ('s', 'm', 0, 60000, 0, 0);",
        )
        .execute(s.db())
        .await
        .unwrap();
        let first = enqueue(s.db(), "syncro", "42", Some("s"), &note("a"))
            .await
            .unwrap();
        assert!(first.new);
        let again = enqueue(s.db(), "syncro", "42", Some("s"), &note("b"))
            .await
            .unwrap();
        assert!(!again.new);
        assert_eq!(again.item.id, first.item.id);
        assert_eq!(again.item.payload().unwrap(), note("a"));
        // Another ticket, or a free-standing note, is its own item.
        assert!(
            enqueue(s.db(), "syncro", "43", Some("s"), &note("a"))
                .await
                .unwrap()
                .new
        );
        assert!(
            enqueue(s.db(), "syncro", "42", None, &note("a"))
                .await
                .unwrap()
                .new
        );
        // A refused item is queued again with the new payload.
        mark_failed(s.db(), &first.item.id, &Error::Other("422".into()))
            .await
            .unwrap();
        let retried = enqueue(s.db(), "syncro", "42", Some("s"), &note("c"))
            .await
            .unwrap();
        assert!(retried.new);
        assert_eq!(retried.item.id, first.item.id);
        assert_eq!(retried.item.status, "pending");
        assert_eq!(retried.item.payload().unwrap(), note("c"));
        assert_eq!(open_items(s.db(), "syncro").await.unwrap().len(), 3);
    }
}
