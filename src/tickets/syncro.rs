//! SyncroMSP, following its published API (v1): the API key in the
//! `Authorization` header, lists paged by `page` until `meta.total_pages`,
//! 422 bodies `{"message": [...]}` or `{"error": "..."}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::calls::{Caller, Request};
use super::{
    Comment, Customer, NewNote, NewTime, Provider, Ticket, TicketQuery, TicketSummary, TimeEntry,
    WriteError, WriteTag, api_time,
};
use crate::config::TicketsConfig;
use crate::crypto::Secret;
use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::store::Db;

/// Pages read at most for one list (25 tickets or customers a page).
const MAX_PAGES: u32 = 40;

#[derive(Debug)]
pub struct Syncro {
    caller: Caller,
}

impl Syncro {
    /// `redactor` masks secrets in what the call log keeps.
    pub fn new(
        base_url: &str,
        key_ref: &str,
        api_key: Secret,
        redactor: Redactor,
        cfg: &TicketsConfig,
    ) -> Result<Syncro> {
        let mut auth = b"Bearer ".to_vec();
        auth.extend_from_slice(api_key.expose());
        let auth = Secret::new(auth);
        Ok(Syncro {
            caller: Caller::new(
                "SyncroMSP",
                "syncro",
                key_ref,
                base_url,
                &auth,
                api_key,
                redactor,
                cfg,
            )?,
        })
    }

    /// Reads every page of a list (`meta.total_pages`), each item parsed as `T`.
    async fn pages<T: for<'de> Deserialize<'de>>(
        &self,
        db: &mut Db,
        path: &str,
        field: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut page = 1;
        loop {
            let mut q = query.clone();
            q.push(("page", page.to_string()));
            let v = self
                .caller
                .read(db, Request::get(path.to_string(), q))
                .await?;
            let list = v
                .get(field)
                .and_then(Value::as_array)
                .ok_or_else(|| unexpected(&format!("GET {path}"), &format!("no `{field}` list")))?;
            for item in list {
                items.push(parse(item, &format!("GET {path}"))?);
            }
            let total = v
                .pointer("/meta/total_pages")
                .and_then(Value::as_u64)
                .unwrap_or(1) as u32;
            if page >= total || list.is_empty() {
                return Ok(items);
            }
            if page >= MAX_PAGES {
                // Said, not silently cut: the list is not complete.
                eprintln!(
                    "msp: showing the first {MAX_PAGES} of {total} pages of {field}\nhint: narrow the list (--status, --customer, --query)"
                );
                return Ok(items);
            }
            page += 1;
        }
    }

    /// Posts a write and returns the id the answer gives at `pointer`; an
    /// answer without one leaves the outcome unknown (read back before any
    /// repost).
    async fn post_for_id(
        &self,
        db: &mut Db,
        path: String,
        body: Value,
        tag: WriteTag<'_>,
        pointer: &str,
        what: &str,
    ) -> Result<String, WriteError> {
        let v = self
            .caller
            .write(
                db,
                Request::post(path.clone(), body, tag.outbox_id),
                tag.retry,
            )
            .await?;
        match v.pointer(pointer) {
            Some(id) => Ok(answer_id(id, &path)?),
            None => Err(WriteError::Unknown {
                message: format!("SyncroMSP: POST {path}: the answer names no {what}"),
                retry_after: None,
            }),
        }
    }
}

fn unexpected(what: &str, why: &str) -> Error {
    Error::Other(format!("SyncroMSP: {what}: unexpected answer ({why})"))
        .with_hint("check that the base URL points at the Syncro API (…/api/v1)")
}

fn parse<T: for<'de> Deserialize<'de>>(v: &Value, what: &str) -> Result<T> {
    T::deserialize(v).map_err(|e| unexpected(what, &e.to_string()))
}

/// The id in a write's answer; an unreadable one leaves the write's fate unknown.
fn answer_id(v: &Value, path: &str) -> Result<String, WriteError> {
    parse::<Id>(v, &format!("POST {path}"))
        .map(|id| id.text())
        .map_err(|e| WriteError::Unknown {
            message: e.to_string(),
            retry_after: None,
        })
}

/// A ticket id as typed (`1234`, `#1234`), checked and normalised: Syncro's
/// ids are integers, and nothing odd may reach a URL path.
pub fn ticket_id(id: &str) -> Result<String> {
    let id = id.trim().trim_start_matches('#');
    match id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(Error::usage(format!("{id:?} is not a Syncro ticket id"))
            .with_hint("use the numeric ID that `msp ticket search` shows")),
    }
}

fn ticket_path(id: &str) -> Result<String> {
    Ok(format!("/tickets/{}", ticket_id(id)?))
}

/// An id, number or string alike.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Id {
    Num(i64),
    Text(String),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Num(n) => n.to_string(),
            Id::Text(s) => s.clone(),
        }
    }
}

fn opt_text(id: &Option<Id>) -> Option<String> {
    id.as_ref().map(Id::text)
}

#[derive(Debug, Deserialize)]
struct SyncroTicket {
    id: Id,
    number: Option<Id>,
    subject: Option<String>,
    status: Option<String>,
    customer_id: Option<Id>,
    customer_business_then_name: Option<String>,
    user_id: Option<Id>,
    created_at: Option<String>,
    updated_at: Option<String>,
    customer: Option<SyncroCustomer>,
    #[serde(default)]
    comments: Vec<SyncroComment>,
    #[serde(default)]
    ticket_timers: Vec<SyncroTimer>,
}

impl SyncroTicket {
    fn summary(&self) -> TicketSummary {
        TicketSummary {
            id: self.id.text(),
            number: opt_text(&self.number).unwrap_or_else(|| self.id.text()),
            subject: self.subject.clone().unwrap_or_default(),
            status: self.status.clone().unwrap_or_default(),
            customer_id: opt_text(&self.customer_id),
            customer: self
                .customer_business_then_name
                .clone()
                .or_else(|| self.customer.as_ref().map(SyncroCustomer::name)),
            assignee_id: opt_text(&self.user_id),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct SyncroComment {
    id: Id,
    created_at: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    tech: Option<String>,
    #[serde(default)]
    hidden: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct SyncroTimer {
    id: Id,
    start_time: Option<String>,
    end_time: Option<String>,
    notes: Option<String>,
    #[serde(default)]
    billable: Option<bool>,
    #[serde(default)]
    recorded: Option<bool>,
}

impl SyncroTimer {
    fn entry(&self) -> TimeEntry {
        TimeEntry {
            id: self.id.text(),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            notes: self.notes.clone(),
            billable: self.billable.unwrap_or(false),
            charged: self.recorded.unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize)]
struct SyncroCustomer {
    id: Id,
    business_then_name: Option<String>,
    business_name: Option<String>,
    fullname: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl SyncroCustomer {
    fn name(&self) -> String {
        let full = || {
            let parts: Vec<&str> = [self.firstname.as_deref(), self.lastname.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        [
            self.business_then_name.clone(),
            self.business_name.clone(),
            self.fullname.clone(),
        ]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .or_else(full)
        .unwrap_or_else(|| format!("customer {}", self.id.text()))
    }
}

impl Provider for Syncro {
    fn name(&self) -> &'static str {
        "syncro"
    }

    async fn search_tickets(&self, db: &mut Db, q: &TicketQuery) -> Result<Vec<TicketSummary>> {
        let mut query = Vec::new();
        if let Some(c) = &q.customer_id {
            query.push(("customer_id", c.clone()));
        }
        if let Some(s) = &q.status {
            query.push(("status", s.clone()));
        }
        if let Some(text) = &q.query {
            query.push(("query", text.clone()));
        }
        if q.mine {
            query.push(("mine", "true".to_string()));
        }
        let tickets: Vec<SyncroTicket> = self.pages(db, "/tickets", "tickets", query).await?;
        Ok(tickets.iter().map(SyncroTicket::summary).collect())
    }

    async fn get_ticket(&self, db: &mut Db, id: &str) -> Result<Ticket> {
        let path = ticket_path(id)?;
        let v = self
            .caller
            .read(db, Request::get(path.clone(), Vec::new()))
            .await?;
        let raw = v
            .get("ticket")
            .ok_or_else(|| unexpected(&format!("GET {path}"), "no `ticket`"))?;
        let t: SyncroTicket = parse(raw, &format!("GET {path}"))?;
        Ok(Ticket {
            summary: t.summary(),
            comments: t
                .comments
                .iter()
                .map(|c| Comment {
                    id: c.id.text(),
                    created_at: c.created_at.clone(),
                    subject: c.subject.clone(),
                    body: c.body.clone().unwrap_or_default(),
                    tech: c.tech.clone(),
                    hidden: c.hidden.unwrap_or(false),
                })
                .collect(),
            time_entries: t.ticket_timers.iter().map(SyncroTimer::entry).collect(),
        })
    }

    async fn customers(&self, db: &mut Db, query: Option<&str>) -> Result<Vec<Customer>> {
        let q = query
            .map(|s| vec![("query", s.to_string())])
            .unwrap_or_default();
        let list: Vec<SyncroCustomer> = self.pages(db, "/customers", "customers", q).await?;
        Ok(list
            .iter()
            .map(|c| Customer {
                id: c.id.text(),
                name: c.name(),
                email: c.email.clone(),
                phone: c.phone.clone(),
            })
            .collect())
    }

    async fn add_note(
        &self,
        db: &mut Db,
        ticket_id: &str,
        note: &NewNote,
        tag: WriteTag<'_>,
    ) -> Result<String, WriteError> {
        let path = format!(
            "{}/comment",
            ticket_path(ticket_id).map_err(WriteError::Rejected)?
        );
        let body = json!({
            "subject": note.subject,
            "body": note.body,
            "hidden": !note.public,
            "do_not_email": !note.public,
        });
        self.post_for_id(db, path, body, tag, "/comment/id", "comment")
            .await
    }

    async fn log_time(
        &self,
        db: &mut Db,
        ticket_id: &str,
        time: &NewTime,
        tag: WriteTag<'_>,
    ) -> Result<String, WriteError> {
        let path = format!(
            "{}/timer_entry",
            ticket_path(ticket_id).map_err(WriteError::Rejected)?
        );
        let body = json!({
            "start_at": api_time(time.start_ms),
            "end_at": api_time(time.end_ms()),
            "duration_minutes": time.minutes,
            "notes": time.notes,
        });
        self.post_for_id(db, path, body, tag, "/id", "timer entry")
            .await
    }

    async fn charge_time(
        &self,
        db: &mut Db,
        ticket_id: &str,
        entry_id: &str,
        tag: WriteTag<'_>,
    ) -> Result<(), WriteError> {
        let path = format!(
            "{}/charge_timer_entry",
            ticket_path(ticket_id).map_err(WriteError::Rejected)?
        );
        let entry: i64 = entry_id.parse().map_err(|_| {
            WriteError::Rejected(Error::Other(format!("timer entry id {entry_id:?} is not a Syncro id")).with_hint(format!("`msp ticket show {ticket_id}` lists the ticket's time entries; log the time again with `msp ticket time`")))
        })?;
        self.caller
            .write(
                db,
                Request::post(path, json!({ "timer_entry_id": entry }), tag.outbox_id),
                tag.retry,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_are_numbers() {
        assert_eq!(ticket_path("1234").unwrap(), "/tickets/1234");
        assert_eq!(ticket_path("#77").unwrap(), "/tickets/77");
        for bad in ["", "0", "abc", "12/../x", "-1"] {
            assert_eq!(ticket_path(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn the_contract_example_ticket_parses() {
        let v = json!({
            "id": 5, "number": 4, "subject": "Some major problem", "status": "New",
            "customer_id": 1, "customer_business_then_name": "Walkin Customer", "user_id": null,
            "created_at": "2019-11-05T07:40:54.824Z", "updated_at": "2019-11-05T07:40:54.824Z",
            "comments": [{"id": 2, "created_at": "2019-11-05T09:13:33.422Z", "subject": "S",
                "body": "B", "tech": "Joe", "hidden": true, "user_id": 1}],
            "ticket_timers": [{"id": 1, "ticket_id": 5, "start_time": "2019-11-05T12:15:59.000Z",
                "end_time": "2019-11-05T12:25:59.000Z", "recorded": false, "billable": false,
                "notes": "API Timer"}],
            "customer": {"id": 1, "firstname": "Walkin", "lastname": "Customer", "business_name": null}
        });
        let t: SyncroTicket = parse(&v, "test").unwrap();
        let s = t.summary();
        assert_eq!((s.id.as_str(), s.number.as_str()), ("5", "4"));
        assert_eq!(s.customer.as_deref(), Some("Walkin Customer"));
        assert!(t.comments[0].hidden.unwrap());
        assert_eq!(
            t.ticket_timers[0].entry().notes.as_deref(),
            Some("API Timer")
        );
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let s = Syncro::new(
            "http://127.0.0.1:9/api/v1",
            "msp://acme/syncro/api_key",
            Secret::from_string("T0pSecretKey123".into()),
            Redactor::new(),
            &TicketsConfig::default(),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("T0pSecretKey123"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}
