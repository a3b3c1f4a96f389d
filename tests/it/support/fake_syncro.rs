//! A local SyncroMSP (API v1) for the ticket tests: the endpoints msp uses,
//! with the request and response shapes of Syncro's published contract,
//! kept in memory. It runs on axum in a background thread of the test
//! process, on 127.0.0.1 with a free port.
//!
//! - `GET /tickets` (customer_id, status, query, mine, page; 25 a page,
//!   `meta.total_pages`), `GET /tickets/{id}` (with `comments` and
//!   `ticket_timers`), `POST /tickets/{id}/comment`,
//!   `POST /tickets/{id}/timer_entry`, `POST /tickets/{id}/charge_timer_entry`,
//!   `GET /customers` (query, page).
//! - Every request must carry `Authorization: Bearer <key>` (or the bare
//!   key); otherwise 401 `{"error": "Not authorized…"}`.
//! - 422 bodies as the contract shows them: `{"success": false, "message":
//!   [...]}` for comments, `{"error": "..."}` for timer entries.
//! - Faults, queued per method and path suffix, each used once: latency,
//!   429 with `Retry-After`, 500 before or after the write is applied, an
//!   answer held back past the client's timeout after applying, a malformed
//!   JSON answer after applying, a 422.
//!
//! - Reformatting a real server may do: comment bodies (and timer notes)
//!   stored as entity-encoded HTML with `<br>` line breaks, and timer
//!   starts rounded down to the minute, switched on per test.
//!
//! Every request is logged (method, path, query, Authorization, body).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const KEY: &str = "T9f3c1e0a7b6d54c2-fake-syncro-api-key";
/// The user the API key belongs to (for `mine=true`).
pub const ME: i64 = 7;
const PER_PAGE: usize = 25;

#[derive(Debug, Clone)]
pub enum Fault {
    /// Wait this long, then handle the request as usual.
    Latency(Duration),
    /// 429 with `Retry-After: secs`; nothing applied.
    RateLimited(u64),
    /// 500; nothing applied.
    ErrorBeforeCommit,
    /// Apply the request, then answer 500.
    ErrorAfterCommit,
    /// Apply the request, then hold the answer this long (past the client's timeout).
    SleepAfterCommit(Duration),
    /// Hold the request this long without applying it, then answer 500.
    Hang(Duration),
    /// Apply the request, then answer 200 with a body that is not JSON.
    MalformedAfterCommit,
    /// 422 with the contract's error body; nothing applied.
    Unprocessable,
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
}

#[derive(Debug)]
struct TicketRec {
    id: i64,
    number: i64,
    subject: String,
    status: String,
    customer_id: i64,
    user_id: Option<i64>,
    comments: Vec<Value>,
    timers: Vec<Value>,
}

#[derive(Debug)]
struct Data {
    key: String,
    tickets: Vec<TicketRec>,
    customers: Vec<Value>,
    next_id: i64,
    faults: VecDeque<(String, String, Fault)>,
    log: Vec<Logged>,
    html_comments: bool,
    round_timer_starts: bool,
}

impl Data {
    /// The ticket with id `id` (as the URL path gives it).
    fn ticket_mut(&mut self, id: &str) -> Option<&mut TicketRec> {
        let id = id.parse::<i64>().ok()?;
        self.tickets.iter_mut().find(|t| t.id == id)
    }
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, json!({"message": "Not found"}))
}

type Shared = Arc<Mutex<Data>>;
/// A request's query string.
type Params = Query<std::collections::HashMap<String, String>>;

pub struct FakeSyncro {
    /// `http://127.0.0.1:PORT/api/v1`
    pub base_url: String,
    data: Shared,
}

const CREATED: &str = "2026-11-01T08:00:00.000Z";

fn customer(id: i64, first: &str, last: &str, business: Option<&str>) -> Value {
    let full = format!("{first} {last}");
    json!({
        "id": id, "firstname": first, "lastname": last, "fullname": full,
        "business_name": business, "email": format!("c{id}@example.com"), "phone": "555-0100",
        "mobile": null, "created_at": CREATED, "updated_at": CREATED, "pdf_url": null,
        "address": null, "address_2": null, "city": null, "state": null, "zip": null,
        "latitude": null, "longitude": null, "notes": null, "get_sms": false, "opt_out": false,
        "disabled": false, "no_email": true, "location_name": null, "location_id": null,
        "properties": {}, "online_profile_url": null, "tax_rate_id": null,
        "notification_email": null, "invoice_cc_emails": null, "invoice_term_id": null,
        "referred_by": null, "ref_customer_id": null,
        "business_and_full_name": business.map(|b| format!("{b} - {full}")).unwrap_or(full.clone()),
        "business_then_name": business.map(str::to_string).unwrap_or(full.clone()),
        "contacts": []
    })
}

impl FakeSyncro {
    /// Starts a server that accepts [`KEY`], with 32 customers (two named,
    /// the rest filler, so lists span two pages) and 30 tickets: 1001
    /// "Veeam backup job failing" (customer 1, assigned to [`ME`]), 1002
    /// "Printer offline" (customer 2), and 1003.. filler.
    pub fn start() -> FakeSyncro {
        Self::start_with_key(KEY)
    }

    pub fn start_with_key(key: &str) -> FakeSyncro {
        let mut customers = vec![
            customer(1, "Anna", "Berg", Some("Dataforth Corp")),
            customer(2, "Walkin", "Customer", None),
        ];
        for id in 3..=32 {
            customers.push(customer(id, "Filler", &format!("Person{id}"), None));
        }
        let mut tickets = vec![
            TicketRec {
                id: 1001,
                number: 501,
                subject: "Veeam backup job failing".into(),
                status: "In Progress".into(),
                customer_id: 1,
                user_id: Some(ME),
                comments: Vec::new(),
                timers: Vec::new(),
            },
            TicketRec {
                id: 1002,
                number: 502,
                subject: "Printer offline".into(),
                status: "New".into(),
                customer_id: 2,
                user_id: Some(ME + 1),
                comments: Vec::new(),
                timers: Vec::new(),
            },
        ];
        for i in 3..=30 {
            tickets.push(TicketRec {
                id: 1000 + i,
                number: 500 + i,
                subject: format!("Routine check {i}"),
                status: "New".into(),
                customer_id: 3,
                user_id: None,
                comments: Vec::new(),
                timers: Vec::new(),
            });
        }
        let data: Shared = Arc::new(Mutex::new(Data {
            key: key.to_string(),
            tickets,
            customers,
            next_id: 1,
            faults: VecDeque::new(),
            log: Vec::new(),
            html_comments: false,
            round_timer_starts: false,
        }));
        let api = Router::new()
            .route("/tickets", get(list_tickets))
            .route("/tickets/{id}", get(show_ticket))
            .route("/tickets/{id}/comment", post(add_comment))
            .route("/tickets/{id}/timer_entry", post(add_timer))
            .route("/tickets/{id}/charge_timer_entry", post(charge_timer))
            .route("/customers", get(list_customers));
        let app = Router::new()
            .nest("/api/v1", api)
            .layer(middleware::from_fn_with_state(data.clone(), gate))
            .with_state(data.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake syncro runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind fake syncro");
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.expect("fake syncro");
            });
        });
        let addr = rx.recv().expect("fake syncro address");
        FakeSyncro {
            base_url: format!("http://{addr}/api/v1"),
            data,
        }
    }

    /// The next request whose method is `method` and whose path ends with
    /// `path_suffix` gets `fault` (faults are used in the order queued).
    pub fn fail_next(&self, method: &str, path_suffix: &str, fault: Fault) {
        self.data.lock().unwrap().faults.push_back((
            method.to_string(),
            path_suffix.to_string(),
            fault,
        ));
    }

    /// From now on, comment bodies (and timer notes) are stored and
    /// returned as HTML, as a rich-text PSA keeps them.
    pub fn store_comments_as_html(&self) {
        self.data.lock().unwrap().html_comments = true;
    }

    /// From now on, timer starts are stored rounded down to the minute.
    pub fn round_timer_starts(&self) {
        self.data.lock().unwrap().round_timer_starts = true;
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.data.lock().unwrap().log.clone()
    }

    /// What `of` picks from ticket `ticket` (nothing for an unknown ticket).
    fn of_ticket(&self, ticket: i64, of: impl Fn(&TicketRec) -> &Vec<Value>) -> Vec<Value> {
        let d = self.data.lock().unwrap();
        let t = d.tickets.iter().find(|t| t.id == ticket);
        t.map(|t| of(t).clone()).unwrap_or_default()
    }

    pub fn comments(&self, ticket: i64) -> Vec<Value> {
        self.of_ticket(ticket, |t| &t.comments)
    }

    pub fn timers(&self, ticket: i64) -> Vec<Value> {
        self.of_ticket(ticket, |t| &t.timers)
    }

    /// Adds a comment as if a technician had typed it in Syncro.
    pub fn add_comment(&self, ticket: i64, subject: &str, body: &str, hidden: bool) {
        let mut d = self.data.lock().unwrap();
        let id = d.next_id;
        d.next_id += 1;
        let t = d.tickets.iter_mut().find(|t| t.id == ticket).unwrap();
        t.comments
            .push(comment_json(id, ticket, subject, body, "Anna", hidden));
    }
}

fn comment_json(
    id: i64,
    ticket: i64,
    subject: &str,
    body: &str,
    tech: &str,
    hidden: bool,
) -> Value {
    json!({
        "id": id, "created_at": "2026-11-22T10:00:00.000Z", "updated_at": "2026-11-22T10:00:00.000Z",
        "ticket_id": ticket, "subject": subject, "body": body, "tech": tech, "hidden": hidden,
        "user_id": ME
    })
}

/// Text as a rich-text PSA stores it: encoded the way strict HTML encoders
/// (OWASP ESAPI's) do, every character but letters, digits, space and `,.-_`
/// as an entity (`:` as `&#x3a;`), lines joined by `<br>`, in a `<div>`.
fn as_html(text: &str) -> String {
    let encode = |line: &str| -> String {
        line.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                c if c.is_alphanumeric() || matches!(c, ' ' | ',' | '.' | '-' | '_') => {
                    c.to_string()
                }
                c => format!("&#x{:x};", c as u32),
            })
            .collect()
    };
    let lines: Vec<String> = text.trim().lines().map(encode).collect();
    format!("<div>{}</div>", lines.join("<br>\r\n"))
}

/// An RFC 3339 time rounded down to the minute, as `…:00.000Z`.
fn round_to_minute(time: &str) -> String {
    // `2026-11-22T09:30:12Z` → `2026-11-22T09:30:00.000Z`
    format!("{}:00.000Z", &time[..16])
}

fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Authorization, the request log and the queued faults, around every handler.
async fn gate(State(data): State<Shared>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (authorised, fault) = {
        let mut d = data.lock().unwrap();
        let authorised = authorization
            .as_deref()
            .is_some_and(|a| a == d.key || a.strip_prefix("Bearer ").is_some_and(|k| k == d.key));
        let fault = if authorised {
            d.faults
                .iter()
                .position(|(m, suffix, _)| *m == method && path.ends_with(suffix.as_str()))
                .and_then(|i| d.faults.remove(i))
                .map(|(_, _, f)| f)
        } else {
            None
        };
        (authorised, fault)
    };
    // Logged on arrival (status 0 until answered), so a test sees a
    // request its client was killed during.
    let index = {
        let mut d = data.lock().unwrap();
        d.log.push(Logged {
            method,
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            authorization,
            body: serde_json::from_slice(&bytes).ok(),
            status: 0,
        });
        d.log.len() - 1
    };
    let response = if !authorised {
        error(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Not authorized. Please ask account admin to update your group permissions."}),
        )
    } else {
        match &fault {
            Some(Fault::Latency(d)) => {
                tokio::time::sleep(*d).await;
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Some(Fault::RateLimited(secs)) => {
                let mut r = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"error": "Rate limit exceeded"}),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, secs.to_string().parse().unwrap());
                r
            }
            Some(Fault::ErrorBeforeCommit) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "Internal Server Error"}),
            ),
            Some(Fault::Hang(d)) => {
                tokio::time::sleep(*d).await;
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "Internal Server Error"}),
                )
            }
            Some(Fault::Unprocessable) => {
                if path.ends_with("/timer_entry") {
                    error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        json!({"error": "no implicit conversion of nil into String"}),
                    )
                } else {
                    error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        json!({"success": false, "message": ["Body can't be blank", "Subject can't be blank"]}),
                    )
                }
            }
            Some(Fault::ErrorAfterCommit) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "Internal Server Error"}),
                )
            }
            Some(Fault::SleepAfterCommit(d)) => {
                let r = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                tokio::time::sleep(*d).await;
                r
            }
            Some(Fault::MalformedAfterCommit) => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"comment\": {\"id\": ",
                )
                    .into_response()
            }
            None => {
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
        }
    };
    data.lock().unwrap().log[index].status = response.status().as_u16();
    response
}

fn page_of(params: &std::collections::HashMap<String, String>) -> usize {
    params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1)
}

fn paged(items: Vec<Value>, page: usize, field: &str) -> Value {
    let total_pages = items.len().div_ceil(PER_PAGE).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    json!({ field: slice, "meta": {"total_pages": total_pages, "total_entries": null, "per_page": PER_PAGE, "page": page} })
}

fn ticket_summary(t: &TicketRec, customers: &[Value]) -> Value {
    let c = customers
        .iter()
        .find(|c| c["id"] == t.customer_id)
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "id": t.id, "number": t.number, "subject": t.subject, "created_at": CREATED,
        "customer_id": t.customer_id, "customer_business_then_name": c["business_then_name"],
        "due_date": CREATED, "resolved_at": null, "start_at": null, "end_at": null,
        "location_id": null, "location_name": null, "problem_type": "Other", "status": t.status,
        "ticket_type_id": 1, "ticket_type_name": "Managed Services", "properties": {},
        "user_id": t.user_id, "updated_at": CREATED, "pdf_url": null, "priority": null,
        "billing_status": null, "tag_list": [], "sla_name": null, "creator_name_or_email": null,
        "contact_fullname": null, "contract_name": null, "address_id": null, "parent": false,
        "parent_id": null, "child": false, "recurring": false, "customer_reply": false,
        "total_formatted_billable_time": null, "contact_id": null, "sla_breached": false,
        "sla_breaching_soon": false, "contract_id": null, "sla_id": null, "customer_tag_list": [],
        "resolution_time": null, "response_time": null, "customer_icons": [],
        "comments": [], "user": null
    })
}

async fn list_tickets(State(data): State<Shared>, Query(params): Params) -> Response {
    let d = data.lock().unwrap();
    let items: Vec<Value> = d
        .tickets
        .iter()
        .filter(|t| {
            params
                .get("customer_id")
                .is_none_or(|c| c.parse::<i64>().ok() == Some(t.customer_id))
        })
        .filter(|t| params.get("status").is_none_or(|s| *s == t.status))
        .filter(|t| {
            params.get("query").is_none_or(|q| {
                t.subject.to_lowercase().contains(&q.to_lowercase()) || t.number.to_string() == *q
            })
        })
        .filter(|t| {
            params
                .get("mine")
                .is_none_or(|m| m != "true" || t.user_id == Some(ME))
        })
        .map(|t| ticket_summary(t, &d.customers))
        .collect();
    axum::Json(paged(items, page_of(&params), "tickets")).into_response()
}

async fn show_ticket(State(data): State<Shared>, Path(id): Path<String>) -> Response {
    let d = data.lock().unwrap();
    let id = id.parse::<i64>().ok();
    let Some(t) = d.tickets.iter().find(|t| Some(t.id) == id) else {
        return not_found();
    };
    let mut v = ticket_summary(t, &d.customers);
    let customer = d
        .customers
        .iter()
        .find(|c| c["id"] == t.customer_id)
        .cloned()
        .unwrap_or(Value::Null);
    let map = v.as_object_mut().unwrap();
    map.insert("comments".into(), Value::Array(t.comments.clone()));
    map.insert("ticket_timers".into(), Value::Array(t.timers.clone()));
    for empty in [
        "attachments",
        "line_items",
        "worksheet_results",
        "assets",
        "appointments",
        "ticket_fields",
        "ticket_answers",
        "asset_ids",
    ] {
        map.insert(empty.into(), json!([]));
    }
    map.insert("customer".into(), customer);
    map.insert("contact".into(), Value::Null);
    axum::Json(json!({ "ticket": v })).into_response()
}

fn body_json(bytes: &Bytes) -> Option<Value> {
    serde_json::from_slice(bytes).ok()
}

async fn add_comment(State(data): State<Shared>, Path(id): Path<String>, bytes: Bytes) -> Response {
    let Some(body) = body_json(&bytes) else {
        return error(StatusCode::BAD_REQUEST, json!({"error": "invalid JSON"}));
    };
    let subject = body["subject"].as_str().unwrap_or_default().to_string();
    let text = body["body"].as_str().unwrap_or_default().to_string();
    let mut problems = Vec::new();
    if text.trim().is_empty() {
        problems.push("Body can't be blank");
    }
    if subject.trim().is_empty() {
        problems.push("Subject can't be blank");
    }
    if !problems.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"success": false, "message": problems}),
        );
    }
    let mut d = data.lock().unwrap();
    let html = d.html_comments;
    let comment_id = d.next_id;
    let Some(t) = d.ticket_mut(&id) else {
        return not_found();
    };
    let hidden = body["hidden"].as_bool().unwrap_or(false);
    let text = if html { as_html(&text) } else { text };
    let mut c = comment_json(comment_id, t.id, &subject, &text, "API", hidden);
    c["do_not_email"] = body["do_not_email"].clone();
    t.comments.push(c.clone());
    d.next_id += 1;
    c.as_object_mut().unwrap().remove("do_not_email");
    axum::Json(json!({ "comment": c })).into_response()
}

async fn add_timer(State(data): State<Shared>, Path(id): Path<String>, bytes: Bytes) -> Response {
    let Some(body) = body_json(&bytes) else {
        return error(StatusCode::BAD_REQUEST, json!({"error": "invalid JSON"}));
    };
    let (Some(start), Some(end)) = (body["start_at"].as_str(), body["end_at"].as_str()) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "no implicit conversion of nil into String"}),
        );
    };
    let mut d = data.lock().unwrap();
    let (start, end) = if d.round_timer_starts {
        (round_to_minute(start), end.replace('Z', ".000Z"))
    } else {
        // Syncro answers with milliseconds.
        (start.replace('Z', ".000Z"), end.replace('Z', ".000Z"))
    };
    let notes = match (&body["notes"], d.html_comments) {
        (Value::String(n), true) => Value::String(as_html(n)),
        (notes, _) => notes.clone(),
    };
    let timer_id = d.next_id;
    let Some(t) = d.ticket_mut(&id) else {
        return not_found();
    };
    let minutes = body["duration_minutes"].as_i64().unwrap_or(0);
    let timer = json!({
        "id": timer_id, "ticket_id": t.id, "user_id": ME,
        "start_time": start, "end_time": end,
        "recorded": false, "created_at": CREATED, "updated_at": CREATED, "billable": false,
        "notes": notes, "toggl_id": null, "product_id": body["product_id"],
        "comment_id": null, "ticket_line_item_id": null, "active_duration": minutes * 60,
        "billable_time": minutes * 60, "billable_override": null
    });
    t.timers.push(timer.clone());
    d.next_id += 1;
    axum::Json(timer).into_response()
}

async fn charge_timer(
    State(data): State<Shared>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let body = body_json(&bytes).unwrap_or(Value::Null);
    let mut d = data.lock().unwrap();
    let found = d.ticket_mut(&id).and_then(|t| {
        t.timers
            .iter_mut()
            .find(|timer| timer["id"] == body["timer_entry_id"])
    });
    match found {
        Some(timer) => {
            timer["recorded"] = true.into();
            axum::Json(timer.clone()).into_response()
        }
        None => not_found(),
    }
}

async fn list_customers(State(data): State<Shared>, Query(params): Params) -> Response {
    // `query` matches a name or the email, ignoring case.
    let query = params.get("query").map(|q| q.to_lowercase());
    let field_matches = |c: &Value, q: &str| {
        ["fullname", "business_name", "email"]
            .iter()
            .any(|k| c[*k].as_str().is_some_and(|v| v.to_lowercase().contains(q)))
    };
    let d = data.lock().unwrap();
    let items: Vec<Value> = d
        .customers
        .iter()
        .filter(|c| query.as_deref().is_none_or(|q| field_matches(c, q)))
        .cloned()
        .collect();
    axum::Json(paged(items, page_of(&params), "customers")).into_response()
}
