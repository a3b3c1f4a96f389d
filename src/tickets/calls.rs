//! Calls to a provider's HTTP API: the rate limit, shared by every msp
//! process on this machine, and the record of each call in
//! `external_integrations` (`msp ticket log`).
//!
//! Before a call, a row is inserted in a write transaction that counts the
//! provider's calls of the last minute: the row is the reservation, so two
//! processes cannot both take the last slot. The count covers every key:
//! Syncro limits requests per IP address, and every key used from this
//! machine shares that address. A 429's `Retry-After` is kept on the row
//! (`blocked_until`), so the next process waits too, whichever key it uses.
//! The API key goes in a header marked sensitive; it never reaches a URL, a
//! record, an error or `Debug` output. What is recorded (bodies, errors) is
//! also passed through the secret redactor: a note typed by the user is sent
//! as typed, but a password in it is not kept in the log.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::WriteError;
use crate::config::TicketsConfig;
use crate::crypto::Secret;
use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::store::{self, Db};
use crate::time::{Millis, now_ms, rfc3339};

const WINDOW_MS: Millis = 60_000;
/// Longest request body kept in the record.
const MAX_LOGGED_BODY: usize = 4000;

/// Who calls and how much: one provider account.
pub struct Caller {
    /// `SyncroMSP`, for messages.
    display_name: &'static str,
    provider: &'static str,
    /// The vault reference of the key: names the key in records and in the
    /// rate limit without revealing it.
    key_id: String,
    base_url: String,
    client: reqwest::Client,
    auth: HeaderValue,
    key: Secret,
    /// Masks secrets (known shapes, vault values) in what is recorded.
    redactor: Redactor,
    cfg: TicketsConfig,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("provider", &self.provider)
            .field("key_id", &self.key_id)
            .field("base_url", &self.base_url)
            .field("auth", &"[redacted]")
            .finish()
    }
}

/// One request, before it is sent.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    /// Below the base URL, e.g. `/tickets/42/comment`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    pub outbox_id: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn get(path: String, query: Vec<(&'static str, String)>) -> Request<'a> {
        Request {
            method: Method::GET,
            path,
            query,
            body: None,
            outbox_id: None,
        }
    }

    pub fn post(path: String, body: Value, outbox_id: &'a str) -> Request<'a> {
        Request {
            method: Method::POST,
            path,
            query: Vec::new(),
            body: Some(body),
            outbox_id: Some(outbox_id),
        }
    }
}

/// How one attempt ended, when it did not succeed.
enum Failure {
    /// Worth another attempt (for a write: after looking for it).
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The provider refused the key: nothing goes through until the user acts.
    Unauthorised(Error),
    /// The request itself was refused (4xx).
    Refused(Error),
    /// The store failed before the request was sent: nothing went out.
    NotSent(Error),
}

impl Caller {
    /// `auth` is the whole Authorization header value; it is marked
    /// sensitive so that no `Debug` output of the request shows it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        display_name: &'static str,
        provider: &'static str,
        key_id: &str,
        base_url: &str,
        auth: &Secret,
        key: Secret,
        redactor: Redactor,
        cfg: &TicketsConfig,
    ) -> Result<Caller> {
        // sqlx's rustls uses ring too; install it as the process's provider
        // (an error only means one is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut header = HeaderValue::from_bytes(auth.expose()).map_err(|_| {
            Error::Usage(format!(
                "the API key at {key_id} holds characters an HTTP header cannot carry"
            ))
            .with_hint(format!(
                "store the key alone, without spaces or line breaks: {}",
                rotate_command(key_id)
            ))
        })?;
        header.set_sensitive(true);
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.timeout_secs.clamp(1, 30)))
            .user_agent(concat!("msp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Other(format!("cannot set up HTTPS: {e}")))?;
        Ok(Caller {
            display_name,
            provider,
            key_id: key_id.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            client,
            auth: header,
            key,
            redactor,
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &TicketsConfig {
        &self.cfg
    }

    /// A read: retried after timeouts, 5xx, 429 (honouring `Retry-After`)
    /// and unreadable answers, up to `max_attempts`.
    pub async fn read(&self, db: &mut Db, req: Request<'_>) -> Result<Value> {
        let attempts = self.cfg.max_attempts.max(1);
        let mut retry = 0;
        loop {
            match self.attempt(db, &req, retry).await {
                Ok(v) => return Ok(v),
                Err(Failure::Unauthorised(e) | Failure::Refused(e) | Failure::NotSent(e)) => {
                    return Err(e);
                }
                Err(Failure::Transient {
                    message,
                    retry_after,
                }) => {
                    retry += 1;
                    if retry >= attempts {
                        return Err(Error::Other(format!(
                            "{message} (gave up after {attempts} attempts)"
                        ))
                        .with_hint(format!(
                            "check the network and {}, then run the command again",
                            self.base_url
                        )));
                    }
                    tokio::time::sleep(pause(&self.cfg, self.display_name, retry, retry_after)?)
                        .await;
                }
            }
        }
    }

    /// A write: sent once. Whether and when to send it again is the
    /// outbox's decision, after it looked for it on the ticket.
    pub async fn write(
        &self,
        db: &mut Db,
        req: Request<'_>,
        retry: u32,
    ) -> Result<Value, WriteError> {
        match self.attempt(db, &req, retry).await {
            Ok(v) => Ok(v),
            Err(Failure::Transient {
                message,
                retry_after,
            }) => Err(WriteError::Unknown {
                message,
                retry_after,
            }),
            Err(Failure::Unauthorised(e) | Failure::NotSent(e)) => Err(WriteError::Blocked(e)),
            Err(Failure::Refused(e)) => Err(WriteError::Rejected(e)),
        }
    }

    async fn attempt(&self, db: &mut Db, req: &Request<'_>, retry: u32) -> Result<Value, Failure> {
        let url = format!("{}{}", self.base_url, req.path);
        let mut builder = self
            .client
            .request(req.method.clone(), &url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json")
            .timeout(Duration::from_secs(self.cfg.timeout_secs.max(1)));
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let request = builder.build().map_err(|e| {
            Failure::Refused(Error::Other(format!(
                "cannot build the request {} {}: {}",
                req.method,
                req.path,
                e.without_url()
            )))
        })?;
        let logged_path = match request.url().query() {
            Some(q) => format!("{}?{q}", req.path),
            None => req.path.clone(),
        };
        let call = NewCall {
            provider: self.provider,
            key_id: &self.key_id,
            method: req.method.as_str(),
            path: &logged_path,
            request_body: req.body.as_ref().map(|b| self.mask_json(b)),
            retry: retry as i64,
            outbox_id: req.outbox_id,
        };
        // A store error here loses nothing (nothing was sent): a write stays
        // pending rather than being marked refused.
        let call_id = self.reserve(db, &call).await.map_err(Failure::NotSent)?;
        let started = Instant::now();
        let what = format!("{} {}", req.method, req.path);
        let sent = self.client.execute(request).await;
        let outcome = match sent {
            Err(e) => Err(Failure::Transient {
                message: self.describe(&what, &e),
                retry_after: None,
            }),
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                match response.text().await {
                    Err(e) => Err(Failure::Transient {
                        message: self.describe(&what, &e),
                        retry_after: None,
                    }),
                    Ok(text) => Ok((status, retry_after, text)),
                }
            }
        };
        let elapsed = started.elapsed().as_millis() as i64;
        let (status, result) = match outcome {
            Err(f) => (None, Err(f)),
            Ok((status, retry_after, text)) => (
                Some(status),
                self.classify(&what, status, retry_after, &text),
            ),
        };
        let (error, blocked_until) = match &result {
            Ok(_) => (None, None),
            Err(Failure::Transient {
                message,
                retry_after,
            }) => (
                Some(message.clone()),
                (status == Some(StatusCode::TOO_MANY_REQUESTS)).then(|| {
                    now_ms()
                        + retry_after
                            .map(|d| d.as_millis() as i64)
                            .unwrap_or(self.cfg.retry_backoff_ms as i64)
                }),
            ),
            Err(Failure::Unauthorised(e) | Failure::Refused(e) | Failure::NotSent(e)) => {
                (e.to_string().lines().next().map(str::to_string), None)
            }
        };
        finish(
            db,
            &call_id,
            status.map(|s| s.as_u16() as i64),
            error.as_deref().map(|m| self.mask(m)).as_deref(),
            elapsed,
            blocked_until,
        )
        .await
        // The request went out: its outcome is as unknown as after a timeout.
        .map_err(|e| Failure::Transient {
            message: format!("{}: {what}: cannot record the call: {e}", self.display_name),
            retry_after: None,
        })?;
        result
    }

    fn describe(&self, what: &str, e: &reqwest::Error) -> String {
        let why = if e.is_timeout() {
            format!("no answer within {} s", self.cfg.timeout_secs)
        } else if e.is_connect() {
            "cannot connect".to_string()
        } else if e.is_body() || e.is_decode() {
            "the answer broke off".to_string()
        } else {
            "the request failed".to_string()
        };
        // The source chain says why (DNS, refused, TLS); the URL is left out.
        let mut detail = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        self.mask(&format!("{}: {what}: {why}{detail}", self.display_name))
    }

    fn classify(
        &self,
        what: &str,
        status: StatusCode,
        retry_after: Option<Duration>,
        text: &str,
    ) -> Result<Value, Failure> {
        let name = self.display_name;
        if status.is_success() {
            let body = if text.trim().is_empty() { "{}" } else { text };
            return serde_json::from_str(body).map_err(|e| Failure::Transient {
                message: format!("{name}: {what}: the answer ({status}) is not valid JSON: {e}"),
                retry_after: None,
            });
        }
        let message = self.mask(&error_message(text));
        let detail = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        match status {
            StatusCode::TOO_MANY_REQUESTS => Err(Failure::Transient {
                message: format!("{name}: {what}: rate limited (429){detail}"),
                retry_after,
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Failure::Unauthorised(
                Error::Locked(format!(
                    "{name} refused the API key ({}){detail}",
                    status.as_u16()
                ))
                .with_hint(format!(
                    "check the key stored at {} (replace it: {}) and its permissions in {name}",
                    self.key_id,
                    rotate_command(&self.key_id)
                )),
            )),
            StatusCode::NOT_FOUND => Err(Failure::Refused(
                Error::NotFound(format!("{name}: not found: {what}{detail}"))
                    .with_hint("`msp ticket search` lists tickets and their ids"),
            )),
            s if s.is_server_error() => Err(Failure::Transient {
                message: format!("{name}: {what}: server error {}{detail}", s.as_u16()),
                retry_after,
            }),
            s => Err(Failure::Refused(
                Error::Other(format!("{name} rejected {what} ({}){detail}", s.as_u16()))
                    .with_hint("fix what the message names and run the command again"),
            )),
        }
    }

    /// Replaces the API key, and any other secret the redactor knows,
    /// wherever it might appear.
    fn mask(&self, text: &str) -> String {
        let text = match self.key.as_str() {
            Some(k) if k.len() >= 4 && text.contains(k) => text.replace(k, "[masked]"),
            _ => text.to_string(),
        };
        self.redactor.redact(&text).text
    }

    /// A request body as recorded: each string masked before it is
    /// serialised, so JSON escaping cannot hide a secret from the redactor.
    fn mask_json(&self, body: &Value) -> String {
        fn walk(v: &Value, mask: &dyn Fn(&str) -> String) -> Value {
            match v {
                Value::String(s) => Value::String(mask(s)),
                Value::Array(items) => Value::Array(items.iter().map(|i| walk(i, mask)).collect()),
                Value::Object(map) => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), walk(v, mask)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        walk(body, &|s| self.mask(s)).to_string()
    }

    /// Waits for a slot under the rate limit, then takes it.
    async fn reserve(&self, db: &mut Db, call: &NewCall<'_>) -> Result<String> {
        loop {
            match reserve(db, call, self.cfg.rate_limit_per_minute, now_ms()).await? {
                Reservation::Taken(id) => return Ok(id),
                Reservation::WaitUntil(at) => {
                    let wait = (at - now_ms()).max(1) as u64;
                    if wait >= 2000 {
                        eprintln!(
                            "msp: waiting {} s for {}'s rate limit",
                            wait.div_ceil(1000),
                            self.display_name
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
            }
        }
    }
}

/// The command that replaces the key at a vault reference, reading the new
/// value from stdin: `msp vault rotate CLIENT/ITEM FIELD=-`.
fn rotate_command(key_ref: &str) -> String {
    match crate::vault::refs::parse(key_ref) {
        Ok(r) => format!(
            "msp vault rotate {}/{} {}=-",
            r.client,
            r.item,
            r.field
                .as_deref()
                .unwrap_or(crate::vault::refs::DEFAULT_FIELD)
        ),
        Err(_) => format!("msp vault rotate {key_ref}"),
    }
}

/// How long to wait before attempt `retry` (1-based): `Retry-After` when
/// the server gave one, else an exponential backoff.
pub fn pause(
    cfg: &TicketsConfig,
    provider: &str,
    retry: u32,
    retry_after: Option<Duration>,
) -> Result<Duration> {
    match retry_after {
        Some(d) if d > Duration::from_secs(cfg.max_retry_after_secs) => Err(Error::Other(format!("{provider} asks to wait {} s before the next request (Retry-After), longer than tickets.max_retry_after_secs ({} s)", d.as_secs(), cfg.max_retry_after_secs)).with_hint("run the command again later")),
        Some(d) => Ok(d),
        None => Ok(Duration::from_millis(
            cfg.retry_backoff_ms
                .saturating_mul(1 << retry.saturating_sub(1).min(10)),
        )),
    }
}

/// The text of a provider's error body: Syncro answers
/// `{"message": ["Body can't be blank", ...]}`, `{"error": "..."}` or
/// `{"message": "..."}`; anything else is shown as it came, shortened.
pub fn error_message(text: &str) -> String {
    let text = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let mut parts = Vec::new();
        for key in ["message", "error", "errors"] {
            match v.get(key) {
                Some(Value::String(s)) => parts.push(s.clone()),
                Some(Value::Array(items)) => parts.extend(items.iter().map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })),
                Some(Value::Object(map)) => parts.extend(map.iter().map(|(k, v)| match v {
                    Value::Array(items) => format!(
                        "{k} {}",
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string).unwrap_or(i.to_string()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => format!("{k} {}", other.as_str().unwrap_or(&other.to_string())),
                })),
                _ => {}
            }
        }
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    text.chars().take(300).collect()
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = at.timestamp_millis() - now_ms();
    Some(Duration::from_millis(ms.max(0) as u64))
}

/// A call about to be made.
#[derive(Debug)]
pub struct NewCall<'a> {
    pub provider: &'a str,
    pub key_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub request_body: Option<String>,
    pub retry: i64,
    pub outbox_id: Option<&'a str>,
}

#[derive(Debug, PartialEq)]
pub enum Reservation {
    /// The slot is taken: the id of the call's record.
    Taken(String),
    /// The limit is reached (or the provider asked to wait): try again then.
    WaitUntil(Millis),
}

/// Takes a slot for `call` under `limit` calls per minute to its provider
/// (whatever the key: the provider counts per IP address), at `now`, or
/// says until when to wait. One write transaction: the count and the new
/// row cannot interleave with another process's.
pub async fn reserve(
    db: &mut Db,
    call: &NewCall<'_>,
    limit: u32,
    now: Millis,
) -> Result<Reservation> {
    let mut tx = store::begin_write(db).await?;
    let blocked: Option<Millis> = sqlx::query_scalar(
        "SELECT MAX(blocked_until) FROM external_integrations WHERE provider = ? AND blocked_until > ?",
    )
    .bind(call.provider)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(until) = blocked {
        return Ok(Reservation::WaitUntil(until));
    }
    // The limit-th newest call of the window: while it is inside the
    // window, the window is full, until it leaves it.
    let limit = limit.max(1);
    let nth: Option<Millis> = sqlx::query_scalar(
        "SELECT started_at FROM external_integrations WHERE provider = ? AND started_at > ?
         ORDER BY started_at DESC LIMIT 1 OFFSET ?",
    )
    .bind(call.provider)
    .bind(now - WINDOW_MS)
    .bind(limit as i64 - 1)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(at) = nth {
        return Ok(Reservation::WaitUntil(at + WINDOW_MS + 1));
    }
    let id = crate::ids::new_id();
    let body = call
        .request_body
        .as_ref()
        .map(|b| crate::memory::text::prefix_bytes_marked(b, MAX_LOGGED_BODY));
    sqlx::query(
        "INSERT INTO external_integrations (id, provider, key_id, method, path, request_body, retry, outbox_id, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(call.provider)
    .bind(call.key_id)
    .bind(call.method)
    .bind(call.path)
    .bind(body)
    .bind(call.retry)
    .bind(call.outbox_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Reservation::Taken(id))
}

async fn finish(
    db: &mut Db,
    id: &str,
    status: Option<i64>,
    error: Option<&str>,
    duration_ms: i64,
    blocked_until: Option<Millis>,
) -> Result<()> {
    sqlx::query(
        "UPDATE external_integrations SET status = ?, error = ?, duration_ms = ?, blocked_until = ? WHERE id = ?",
    )
    .bind(status)
    .bind(error)
    .bind(duration_ms)
    .bind(blocked_until)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// One recorded call, as `msp ticket log` shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct CallRecord {
    pub id: String,
    pub provider: String,
    pub method: String,
    pub path: String,
    pub request_body: Option<String>,
    /// HTTP status; none when no answer came (timeout, network).
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    /// 0 for a first attempt, 1 for the first retry, and so on.
    pub retry: i64,
    pub outbox_id: Option<String>,
    #[serde(skip)]
    pub started_ms: Millis,
    #[sqlx(skip)]
    pub started_at: String,
}

/// Recorded calls, newest first.
pub async fn list(db: &mut Db, limit: Option<i64>) -> Result<Vec<CallRecord>> {
    let mut rows: Vec<CallRecord> = sqlx::query_as(
        "SELECT id, provider, method, path, request_body, status, error, duration_ms, retry, outbox_id,
            started_at AS started_ms
         FROM external_integrations ORDER BY started_at DESC, id DESC LIMIT ?",
    )
    .bind(limit.unwrap_or(-1))
    .fetch_all(db)
    .await?;
    for r in &mut rows {
        r.started_at = rfc3339(r.started_ms);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::testing::temp_store;

    fn call(key: &str) -> NewCall<'_> {
        call_to("syncro", key)
    }

    fn call_to<'a>(provider: &'a str, key: &'a str) -> NewCall<'a> {
        NewCall {
            provider,
            key_id: key,
            method: "GET",
            path: "/tickets",
            request_body: None,
            retry: 0,
            outbox_id: None,
        }
    }

    fn taken(r: Reservation) -> bool {
        matches!(r, Reservation::Taken(_))
    }

    #[tokio::test]
    async fn the_rate_limit_holds_across_connections() {
        let (dir, mut first) = temp_store().await;
        // A second connection stands for a second process.
        let mut second = Store::open(&dir.path().join("msp.db")).await.unwrap();
        let t0 = 1_000_000;
        let limit = 3;
        let k = call("k1");
        assert!(taken(reserve(first.db(), &k, limit, t0).await.unwrap()));
        assert!(taken(
            reserve(second.db(), &k, limit, t0 + 10).await.unwrap()
        ));
        assert!(taken(
            reserve(first.db(), &k, limit, t0 + 20).await.unwrap()
        ));
        // The fourth call within the minute waits until the first leaves it.
        assert_eq!(
            reserve(second.db(), &k, limit, t0 + 30).await.unwrap(),
            Reservation::WaitUntil(t0 + WINDOW_MS + 1)
        );
        // Once the first call is a minute old, one slot is free again.
        assert!(taken(
            reserve(second.db(), &k, limit, t0 + WINDOW_MS + 1)
                .await
                .unwrap()
        ));
        assert!(!taken(
            reserve(first.db(), &k, limit, t0 + WINDOW_MS + 2)
                .await
                .unwrap()
        ));
    }

    /// Syncro counts requests per IP address: a second key (a rotated one,
    /// another account) from the same machine does not get a budget of its own.
    #[tokio::test]
    async fn a_second_key_shares_the_rate_limit_of_the_provider() {
        let (_d, mut s) = temp_store().await;
        let t0 = 2_000_000;
        let limit = 2;
        assert!(taken(
            reserve(s.db(), &call("k1"), limit, t0).await.unwrap()
        ));
        assert!(taken(
            reserve(s.db(), &call("k2"), limit, t0 + 10).await.unwrap()
        ));
        assert_eq!(
            reserve(s.db(), &call("k3"), limit, t0 + 20).await.unwrap(),
            Reservation::WaitUntil(t0 + WINDOW_MS + 1)
        );
        // Another provider is counted on its own.
        assert!(taken(
            reserve(s.db(), &call_to("other", "k9"), limit, t0 + 20)
                .await
                .unwrap()
        ));
    }

    #[tokio::test]
    async fn a_retry_after_blocks_every_key_until_it_passes() {
        let (_d, mut s) = temp_store().await;
        let t0 = 5_000_000;
        let Reservation::Taken(id) = reserve(s.db(), &call("k"), 180, t0).await.unwrap() else {
            panic!("first call must get a slot")
        };
        finish(
            s.db(),
            &id,
            Some(429),
            Some("rate limited"),
            5,
            Some(t0 + 30_000),
        )
        .await
        .unwrap();
        assert_eq!(
            reserve(s.db(), &call("k"), 180, t0 + 100).await.unwrap(),
            Reservation::WaitUntil(t0 + 30_000)
        );
        // The provider asked this machine to wait, whatever key it uses.
        assert_eq!(
            reserve(s.db(), &call("rotated"), 180, t0 + 100)
                .await
                .unwrap(),
            Reservation::WaitUntil(t0 + 30_000)
        );
        assert!(matches!(
            reserve(s.db(), &call("k"), 180, t0 + 30_001).await.unwrap(),
            Reservation::Taken(_)
        ));
    }

    #[test]
    fn error_bodies_become_messages() {
        assert_eq!(
            error_message(
                r#"{"success":false,"message":["Body can't be blank","Subject can't be blank"]}"#
            ),
            "Body can't be blank; Subject can't be blank"
        );
        assert_eq!(
            error_message(r#"{"error":"no implicit conversion of nil into String"}"#),
            "no implicit conversion of nil into String"
        );
        assert_eq!(error_message("<html>oops</html>"), "<html>oops</html>");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
