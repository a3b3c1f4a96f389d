//! Tickets in a PSA: search and read tickets, and turn a work session into
//! an internal note and a time entry without retyping.
//!
//! A [`Provider`] speaks one PSA's API (SyncroMSP in [`syncro`]). Every call
//! goes through [`calls`], which keeps the per-key rate limit across
//! processes and records the call in `external_integrations`. Every write
//! goes through the [`outbox`]: it has a local id, and a write whose outcome
//! is unknown is looked for on the ticket before it is posted again, so a
//! timeout, a 5xx, a 429 or a crash never posts the same thing twice.
//! [`compose`] builds the note and the time entry from a session.

pub mod calls;
pub mod compose;
pub mod outbox;
pub mod syncro;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Db;
use crate::time::{Millis, now_ms, rfc3339};
use crate::vault::refs;

pub const PROVIDERS: &[&str] = &["syncro"];

/// A ticket as listed by a search.
#[derive(Debug, Clone, Serialize)]
pub struct TicketSummary {
    pub id: String,
    pub number: String,
    pub subject: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub customer: Option<String>,
    pub assignee_id: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A ticket with its comments and time entries.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    #[serde(flatten)]
    pub summary: TicketSummary,
    pub comments: Vec<Comment>,
    pub time_entries: Vec<TimeEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: String,
    pub created_at: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub tech: Option<String>,
    /// Internal: not shown to the customer.
    pub hidden: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeEntry {
    pub id: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub notes: Option<String>,
    pub billable: bool,
    /// Charged to the ticket (a line item was made from it).
    pub charged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub query: Option<String>,
    /// Only tickets assigned to the API key's user.
    pub mine: bool,
}

/// A note to post. Internal unless `public`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewNote {
    pub subject: String,
    pub body: String,
    pub public: bool,
}

/// A time entry to post. Charging (billing it) is explicit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTime {
    pub start_ms: Millis,
    pub minutes: i64,
    pub notes: String,
    pub charge: bool,
}

impl NewTime {
    pub fn end_ms(&self) -> Millis {
        self.start_ms + self.minutes * 60_000
    }
}

/// How a write failed: the outbox decides from this whether to look for it
/// on the ticket and try again, keep it for later, or give up on it.
#[derive(Debug)]
pub enum WriteError {
    /// The provider may or may not have applied it (timeout, connection
    /// lost, 5xx, 429, an answer that cannot be read).
    Unknown {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// The provider refused the request itself (422, 404): posting it again
    /// cannot help.
    Rejected(Error),
    /// Nothing was applied, and nothing will be until the user acts (a
    /// refused API key, no network): keep it for a later `msp ticket sync`.
    Blocked(Error),
}

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Error {
        match e {
            WriteError::Unknown { message, .. } => Error::Other(message),
            WriteError::Rejected(e) | WriteError::Blocked(e) => e,
        }
    }
}

/// Which outbox item a write belongs to, and which attempt it is: for the
/// call record (the note's marker is already in its body).
#[derive(Debug, Clone, Copy)]
pub struct WriteTag<'a> {
    pub outbox_id: &'a str,
    pub retry: u32,
}

/// One PSA's API. Every method takes the store: each call is rate limited
/// and recorded there (see [`calls`]).
// The CLI runs on a current-thread runtime: the futures need not be Send.
#[allow(async_fn_in_trait)]
pub trait Provider {
    fn name(&self) -> &'static str;
    async fn search_tickets(&self, db: &mut Db, q: &TicketQuery) -> Result<Vec<TicketSummary>>;
    async fn get_ticket(&self, db: &mut Db, id: &str) -> Result<Ticket>;
    async fn customers(&self, db: &mut Db, query: Option<&str>) -> Result<Vec<Customer>>;
    /// Posts a note; returns the provider's id for it.
    async fn add_note(
        &self,
        db: &mut Db,
        ticket_id: &str,
        note: &NewNote,
        tag: WriteTag<'_>,
    ) -> Result<String, WriteError>;
    /// Posts a time entry (not charged); returns the provider's id for it.
    async fn log_time(
        &self,
        db: &mut Db,
        ticket_id: &str,
        time: &NewTime,
        tag: WriteTag<'_>,
    ) -> Result<String, WriteError>;
    /// Charges (bills) a time entry posted before.
    async fn charge_time(
        &self,
        db: &mut Db,
        ticket_id: &str,
        entry_id: &str,
        tag: WriteTag<'_>,
    ) -> Result<(), WriteError>;
}

/// The configured PSA account. The API key itself stays in the vault.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Account {
    #[sqlx(rename = "name")]
    pub provider: String,
    pub base_url: String,
    pub api_key_ref: String,
}

/// `https://NAME.syncromsp.com/api/v1` for a Syncro subdomain.
pub fn syncro_base_url(subdomain: &str) -> Result<String> {
    let ok = !subdomain.is_empty()
        && subdomain.len() <= 63
        && subdomain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !subdomain.starts_with('-');
    if !ok {
        return Err(
            Error::usage(format!("{subdomain:?} is not a Syncro subdomain"))
                .with_hint("give the NAME of https://NAME.syncromsp.com"),
        );
    }
    Ok(format!(
        "https://{}.syncromsp.com/api/v1",
        subdomain.to_ascii_lowercase()
    ))
}

/// Saves (or replaces) the account of `provider`.
pub async fn set_account(db: &mut Db, account: &Account) -> Result<()> {
    if !PROVIDERS.contains(&account.provider.as_str()) {
        return Err(
            Error::usage(format!("unknown ticket provider {:?}", account.provider))
                .with_hint(format!("use one of {}", PROVIDERS.join(", "))),
        );
    }
    let url = reqwest::Url::parse(&account.base_url).map_err(|e| {
        Error::usage(format!(
            "--base-url {:?} is not a URL: {e}",
            account.base_url
        ))
        .with_hint("e.g. https://NAME.syncromsp.com/api/v1")
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.query().is_some() {
        return Err(Error::usage(format!(
            "--base-url {:?} must be an http(s) URL without a query",
            account.base_url
        ))
        .with_hint("e.g. https://NAME.syncromsp.com/api/v1"));
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO ticket_providers (name, base_url, api_key_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET base_url = excluded.base_url, api_key_ref = excluded.api_key_ref, updated_at = excluded.updated_at",
    )
    .bind(&account.provider)
    .bind(account.base_url.trim_end_matches('/'))
    .bind(&account.api_key_ref)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Where the API key is, as stored (its client named by id, so that
/// renaming the client keeps it) and as shown (by the client's slug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub stored: String,
    pub shown: String,
}

/// Finds the API key `reference` (`msp://CLIENT/ITEM/FIELD`) names in the
/// vault: it must be there, and not in the bin. Its value is not read.
pub async fn key_ref(db: &mut Db, reference: &str) -> Result<KeyRef> {
    let r = refs::parse(reference)?;
    crate::vault::require(db).await?;
    let c = crate::vault::records::resolve(db, &r).await?;
    if c.deleted_at.is_some() {
        return Err(crate::vault::records::in_bin(&c));
    }
    let naming = |client: &str| {
        let r = refs::SecretRef {
            client: client.to_string(),
            ..r.clone()
        };
        format!("{}{r}", refs::SCHEME)
    };
    Ok(KeyRef {
        stored: naming(&c.client_id),
        shown: naming(&c.client_slug),
    })
}

/// The configured account (the first, while there is one provider).
pub async fn account(db: &mut Db) -> Result<Account> {
    sqlx::query_as("SELECT name, base_url, api_key_ref FROM ticket_providers ORDER BY name LIMIT 1")
        .fetch_optional(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound("no ticket provider is set up".into()).with_hint(
                "msp ticket setup syncro --subdomain NAME --api-key-ref msp://CLIENT/ITEM/FIELD",
            )
        })
}

pub const LINK_TYPES: &[&str] = &["related", "resolves", "documents", "caused_by"];

/// A work session linked to a ticket.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Link {
    pub id: String,
    pub provider: String,
    pub ticket_id: String,
    pub session_id: String,
    pub link_type: String,
    pub auto_sync: bool,
    #[serde(skip)]
    pub created_ms: Millis,
}

/// Links a session to a ticket; linking again updates type and auto-sync.
pub async fn link(
    db: &mut Db,
    provider: &str,
    ticket_id: &str,
    session_id: &str,
    link_type: &str,
    auto_sync: bool,
) -> Result<Link> {
    if !LINK_TYPES.contains(&link_type) {
        return Err(Error::usage(format!("unknown link type {link_type:?}"))
            .with_hint(format!("use one of {}", LINK_TYPES.join(", "))));
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO ticket_links (id, provider, ticket_id, session_id, link_type, auto_sync, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(provider, ticket_id, session_id) DO UPDATE SET link_type = excluded.link_type,
             auto_sync = excluded.auto_sync, updated_at = excluded.updated_at",
    )
    .bind(crate::ids::new_id())
    .bind(provider)
    .bind(ticket_id)
    .bind(session_id)
    .bind(link_type)
    .bind(auto_sync)
    .bind(now)
    .bind(now)
    .execute(&mut *db)
    .await?;
    Ok(sqlx::query_as(
        "SELECT id, provider, ticket_id, session_id, link_type, auto_sync, created_at AS created_ms
         FROM ticket_links WHERE provider = ? AND ticket_id = ? AND session_id = ?",
    )
    .bind(provider)
    .bind(ticket_id)
    .bind(session_id)
    .fetch_one(db)
    .await?)
}

/// The tickets a session is linked to.
pub async fn links_of_session(db: &mut Db, session_id: &str) -> Result<Vec<Link>> {
    Ok(sqlx::query_as(
        "SELECT id, provider, ticket_id, session_id, link_type, auto_sync, created_at AS created_ms
         FROM ticket_links WHERE session_id = ? ORDER BY created_at",
    )
    .bind(session_id)
    .fetch_all(db)
    .await?)
}

/// Auto-sync links whose session has ended: what `msp ticket sync` turns
/// into a note and a time entry (once each; see the outbox).
pub async fn ended_auto_sync_links(db: &mut Db, provider: &str) -> Result<Vec<Link>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.provider, l.ticket_id, l.session_id, l.link_type, l.auto_sync, l.created_at AS created_ms
         FROM ticket_links l JOIN sessions s ON s.id = l.session_id
         WHERE l.provider = ? AND l.auto_sync = 1 AND s.ended_at IS NOT NULL ORDER BY s.ended_at",
    )
    .bind(provider)
    .fetch_all(db)
    .await?)
}

/// The marker line that identifies a posted note as this outbox item's.
pub fn marker(outbox_id: &str) -> String {
    format!("msp:{outbox_id}")
}

/// `2026-11-22T09:30:00Z`: how times are sent to providers.
pub fn api_time(ms: Millis) -> String {
    rfc3339(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[test]
    fn syncro_subdomains_are_checked() {
        assert_eq!(
            syncro_base_url("Acme-IT").unwrap(),
            "https://acme-it.syncromsp.com/api/v1"
        );
        for bad in ["", "a.b", "a/b", "-x", "x y"] {
            let e = syncro_base_url(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn account_round_trips_and_rejects_bad_urls() {
        let (_d, mut s) = temp_store().await;
        assert_eq!(account(s.db()).await.unwrap_err().exit_code(), 3);
        let mut a = Account {
            provider: "syncro".into(),
            base_url: "http://127.0.0.1:9/api/v1/".into(),
            api_key_ref: "msp://acme/syncro/api_key".into(),
        };
        set_account(s.db(), &a).await.unwrap();
        let got = account(s.db()).await.unwrap();
        assert_eq!(got.base_url, "http://127.0.0.1:9/api/v1");
        a.base_url = "ftp://x".into();
        assert_eq!(set_account(s.db(), &a).await.unwrap_err().exit_code(), 2);
        a.base_url = "https://x/api?api_key=1".into();
        assert_eq!(set_account(s.db(), &a).await.unwrap_err().exit_code(), 2);
    }
}
