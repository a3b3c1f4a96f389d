//! The console's pages. Each opens the store, asks the library, renders.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::{Console, chart};
use crate::error::{Error, Result};
use crate::memory::engine::TokenCounter;
use crate::memory::store::{self as mstore, ListFilter, Memory};
use crate::memory::{journal, lifecycle};
use crate::time::{Millis, local_display, now_ms};
use crate::work::{clients, projects, report, sessions, tasks};

type C = State<Arc<Console>>;

/// An error as a page, with the status its kind calls for.
pub struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match self.0.kind() {
            Error::Usage(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Locked(_) | Error::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut text = self.0.to_string();
        if let Some(h) = self.0.hint() {
            text.push_str(&format!(" (hint: {h})"));
        }
        (status, plain_page("msp console: error", &text)).into_response()
    }
}

type Page = std::result::Result<Response, Failure>;

const NAV: &[(&str, &str)] = &[
    ("/memories", "Memories"),
    ("/claude", "Claude sessions"),
    ("/time", "Work time"),
    ("/tasks", "Tasks"),
    ("/tickets", "Tickets"),
    ("/agent", "Agent"),
    ("/vault", "Vault"),
    ("/sync", "Sync"),
    ("/doctor", "Doctor"),
];

fn layout(c: &Console, active: &str, title: &str, body: Markup) -> Response {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · msp" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                nav {
                    span.brand { "msp" }
                    @for (href, name) in NAV {
                        a href=(href) class=[(*href == active).then_some("active")] { (name) }
                    }
                    @if c.read_only { span.badge { "read-only" } }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
    .into_response()
}

/// A page of one sentence (refusals, errors).
pub fn plain_page(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/static/app.css"; }
            body { main { h1 { (title) } p { (text) } } }
        }
    }
}

pub async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/app.css"),
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
        .into_response()
}

pub async fn home() -> Redirect {
    Redirect::to("/memories")
}

// ---------------------------------------------------------------------------
// Memories

#[derive(Debug, Default, Deserialize)]
pub struct MemoryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    kind: String,
    /// "", "current", "pinned" or "superseded".
    #[serde(default)]
    state: String,
    /// Created from / to (as `msp` reads times: "last monday", "2026-11-01").
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn some(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn keeps(state: &str, m: &Memory) -> bool {
    match state {
        "current" => m.superseded_by.is_none(),
        "pinned" => m.pinned_at.is_some(),
        "superseded" => m.superseded_by.is_some(),
        _ => true,
    }
}

pub async fn memories(State(c): C, Query(f): Query<MemoryQuery>) -> Page {
    let (from, to) = range_of(&Range {
        from: f.from.clone(),
        to: f.to.clone(),
    })?;
    let in_range =
        |m: &Memory| from.is_none_or(|t| m.created_at >= t) && to.is_none_or(|t| m.created_at < t);
    let mut store = c.store().await?;
    let db = store.db();
    let all_clients = clients::list(db).await?;
    let all_projects = projects::list(db, None).await?;
    let slugs: BTreeMap<String, String> = all_projects
        .iter()
        .map(|p| (p.id.clone(), p.slug.clone()))
        .collect();
    // Why a search went by words alone, when it did.
    let mut by_words_alone = None;
    // (memory, score and its shares when searched)
    let rows: Vec<(Memory, Option<crate::memory::recall::Scored>)> = if let Some(q) = some(&f.q) {
        let searched = crate::app::search(
            db,
            &c.config.memory,
            &c.paths.data_dir,
            crate::app::SearchRequest {
                query: q,
                client: some(&f.client),
                project: some(&f.project),
                kind: some(&f.kind).map(str::to_string),
                limit: 50,
                now: now_ms(),
                prefer: None,
                // Every memory is listed here, to be seen and corrected.
                fold_similar: false,
            },
        )
        .await?;
        by_words_alone = searched.meaning_error;
        searched
            .ranked
            .into_iter()
            .filter(|s| keeps(&f.state, &s.memory) && in_range(&s.memory))
            .map(|s| (s.memory.clone(), Some(s)))
            .collect()
    } else {
        let scope = sessions::resolve_scope(db, some(&f.client), some(&f.project)).await?;
        if let Some(k) = some(&f.kind) {
            mstore::check_kind(k)?;
        }
        mstore::list(
            db,
            &ListFilter {
                project_id: scope.project_id,
                client_id: if some(&f.client).is_some() {
                    scope.client_id
                } else {
                    None
                },
                kind: some(&f.kind).map(str::to_string),
                limit: 100,
                current_only: f.state == "current",
                pinned_only: f.state == "pinned",
                from,
                to,
            },
        )
        .await?
        .into_iter()
        .filter(|m| keeps(&f.state, m))
        .map(|m| (m, None))
        .collect()
    };
    let searched = some(&f.q).is_some();
    let body = html! {
        form.filters method="get" action="/memories" {
            input #search type="search" name="q" value=(f.q) placeholder="Search like recall ( / )" autofocus;
            select name="client" {
                option value="" { "any client" }
                @for cl in &all_clients {
                    option value=(cl.slug) selected[cl.slug == f.client] { (cl.name) }
                }
            }
            select name="project" {
                option value="" { "any project" }
                @for p in &all_projects {
                    option value=(p.slug) selected[p.slug == f.project] { (p.slug) }
                }
            }
            select name="kind" {
                option value="" { "any kind" }
                @for k in mstore::KINDS { option value=(k) selected[*k == f.kind] { (k) } }
            }
            select name="state" {
                @for (v, label) in [("", "all"), ("current", "current"), ("pinned", "pinned"), ("superseded", "superseded")] {
                    option value=(v) selected[v == f.state] { (label) }
                }
            }
            input name="from" value=(f.from) placeholder="from (last monday)" size="14";
            input name="to" value=(f.to) placeholder="to (today)" size="12";
            button type="submit" { "Search" }
        }
        @if let Some(e) = &by_words_alone {
            p.warn { "Matched by words alone: the encoder cannot be used (" (e) "). Run "
                code { "msp context model install" } " to install it again." }
        }
        p.muted {
            @if searched { (rows.len()) " memories, ranked as recall ranks them; the bar shows what each signal added to the score." }
            @else { (rows.len()) " newest memories." }
        }
        table.memories {
            thead { tr {
                @if searched { th { "score" } th { "why" } }
                th { "created" } th { "project" } th { "kind" } th { "title" }
            } }
            tbody {
                @for (m, s) in &rows {
                    tr {
                        @if let Some(s) = s {
                            td.num { (format!("{:.3}", s.score)) }
                            td { (shares_bar(s)) }
                        }
                        td.nowrap { (local_display(m.created_at)) }
                        td { (m.project_id.as_ref().and_then(|p| slugs.get(p)).map(String::as_str).unwrap_or("-")) }
                        td { (m.kind) }
                        td { (title_cell(m)) }
                    }
                }
            }
        }
    };
    Ok(layout(&c, "/memories", "Memories", body))
}

/// Each signal's share of a score as a stacked bar, with the figures in
/// its title.
fn shares_bar(s: &crate::memory::recall::Scored) -> Markup {
    let parts = s.shares.named();
    let total: f64 = parts.iter().map(|(_, v)| v.max(0.0)).sum();
    let tip: Vec<String> = parts
        .iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(n, v)| format!("{n} {:.0}%", 100.0 * v / total.max(f64::EPSILON)))
        .collect();
    // An SVG, not styled spans: the page's policy allows no inline style.
    let mut x = 0.0;
    let segments: Vec<(usize, f64, f64)> = parts
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| *v > 0.0 && total > 0.0)
        .map(|(i, (_, v))| {
            let w = 120.0 * v / total;
            let seg = (i, x, w);
            x += w;
            seg
        })
        .collect();
    html! {
        svg.bar width="120" height="10" viewBox="0 0 120 10" role="img" aria-label=(tip.join(", ")) {
            title { (tip.join(", ")) }
            @for (i, x, w) in &segments {
                rect class=(format!("seg s{i}")) x=(format!("{x:.1}")) y="0" width=(format!("{w:.1}")) height="10" {}
            }
        }
        span.explain { (tip.join(" · ")) }
    }
}

fn title_cell(m: &Memory) -> Markup {
    html! {
        @if m.superseded_by.is_some() {
            del { a href=(format!("/memories/{}", m.id)) { (m.title) } }
        } @else {
            a href=(format!("/memories/{}", m.id)) { (m.title) }
        }
        @if m.pinned_at.is_some() { " " span.badge { "pinned" } }
        @if let Some(by) = &m.superseded_by {
            " " a.badge href=(format!("/memories/{by}")) { "superseded" }
        }
    }
}

pub async fn memory(State(c): C, Path(id): Path<String>) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let m = mstore::get(db, &id).await?;
    let excerpt = mstore::excerpt(db, &m.id).await?;
    let successor = match &m.superseded_by {
        Some(s) => mstore::get(db, s).await.ok(),
        None => None,
    };
    let csrf = c.csrf.as_str();
    let body = html! {
        dl.facts {
            dt { "id" } dd { code { (m.id) } }
            dt { "kind" } dd { (m.kind) }
            dt { "importance" } dd { (m.importance) }
            dt { "created" } dd { (local_display(m.created_at)) }
            @if let Some(u) = m.updated_at { dt { "edited" } dd { (local_display(u)) } }
            dt { "tags" } dd { (m.tag_list().join(", ")) }
            dt { "tokens" } dd { (m.stored_tokens) " stored of " (m.raw_tokens) " read" }
            @if let Some(p) = m.pinned_at { dt { "pinned" } dd { (local_display(p)) } }
            @if let Some(by) = &m.superseded_by {
                dt { "superseded by" }
                dd { a href=(format!("/memories/{by}")) { (successor.as_ref().map_or(by.as_str(), |s| s.title.as_str())) } }
            }
        }
        @if m.superseded_by.is_some() { h2 { del { (m.title) } } } @else { h2 { (m.title) } }
        pre.body { (m.body) }
        @if let Some(x) = &excerpt {
            details { summary { "Source excerpt (redacted)" } pre.excerpt { (x) } }
        }
        @if !c.read_only {
            section.actions {
                form method="post" action=(format!("/memories/{}/{}", m.id, if m.pinned_at.is_some() { "unpin" } else { "pin" })) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { @if m.pinned_at.is_some() { "Unpin" } @else { "Pin to the briefing" } }
                }
                @if m.superseded_by.is_some() {
                    form method="post" action=(format!("/memories/{}/restore", m.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Restore" }
                    }
                }
                form method="post" action=(format!("/memories/{}/forget", m.id)) data-confirm="Forget this memory? It is erased and does not come back through sync." {
                    input type="hidden" name="csrf" value=(csrf);
                    button.danger type="submit" { "Forget" }
                }
            }
            h2 { "Edit" }
            form.edit method="post" action=(format!("/memories/{}/edit", m.id)) {
                input type="hidden" name="csrf" value=(csrf);
                label { "Title" input name="title" value=(m.title); }
                label { "Body" textarea name="body" rows="8" { (m.body) } }
                label { "Tags (comma-separated)" input name="tags" value=(m.tag_list().join(", ")); }
                label { "Importance (1-10)" input name="importance" type="number" min="1" max="10" value=(m.importance); }
                button type="submit" { "Save" }
                p.muted { "The new text is redacted, re-tagged and re-indexed, as `msp context edit` does." }
            }
        }
    };
    Ok(layout(&c, "/memories", "Memory", body))
}

/// Every change form carries the launch's CSRF token.
#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    title: Option<String>,
    body: Option<String>,
    tags: Option<String>,
    importance: Option<String>,
}

/// The refusal of a change whose form lacks this launch's CSRF token.
fn csrf_refused(c: &Console, given: &str) -> Option<Response> {
    (!super::same_secret(given, &c.csrf)).then(|| {
        super::refuse(
            StatusCode::FORBIDDEN,
            "This change did not come from a form of this console (no or a wrong CSRF token).",
        )
    })
}

fn back_to(id: &str) -> Response {
    Redirect::to(&format!("/memories/{id}")).into_response()
}

pub async fn edit(State(c): C, Path(id): Path<String>, Form(f): Form<EditForm>) -> Page {
    if let Some(r) = csrf_refused(&c, &f.csrf) {
        return Ok(r);
    }
    let importance = match f
        .importance
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(i) => Some(
            i.parse::<i64>()
                .map_err(|_| Error::usage("importance must be a number from 1 to 10"))?,
        ),
        None => None,
    };
    let mut store = c.store().await?;
    let db = store.db();
    let m = mstore::get(db, &id).await?;
    let tags: Option<Vec<String>> = f.tags.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    // Only what changed: an unchanged tag list keeps the derived tags.
    let edit = lifecycle::Edit {
        title: f.title.filter(|t| t.trim() != m.title),
        body: f
            .body
            .map(|b| b.replace("\r\n", "\n"))
            .filter(|b| b.trim() != m.body),
        tags: tags.filter(|t| *t != m.tag_list()),
        importance: importance.filter(|i| *i != m.importance),
        ..Default::default()
    };
    if !edit.is_empty() {
        let (engine, _) = crate::app::engine(db, &c.paths.data_dir, TokenCounter::exact()).await;
        let edited = lifecycle::edit(db, &engine, &m.id, &edit, now_ms()).await?;
        // New text, new vector: findable by meaning once the page reloads.
        if let Err(e) = crate::app::embed_memories(db, &c.paths.data_dir, &[edited.seq]).await {
            let line = format!(
                "msp ui: memory {} not embedded ({e}); `msp context embed` does it",
                edited.id
            );
            crate::log::append(&c.paths.log(), c.config.log.max_bytes, &line);
        }
    }
    Ok(back_to(&m.id))
}

/// Pin, unpin, restore or forget (POST /memories/ID/ACTION).
pub async fn change(
    State(c): C,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<Change>,
) -> Page {
    if let Some(r) = csrf_refused(&c, &f.csrf) {
        return Ok(r);
    }
    let mut store = c.store().await?;
    let db = store.db();
    let m = match action.as_str() {
        "pin" => lifecycle::pin(db, &id, now_ms()).await?,
        "unpin" => lifecycle::unpin(db, &id).await?,
        "restore" => lifecycle::restore(db, &id).await?,
        "forget" => {
            let f = lifecycle::forget(db, &id).await?;
            if !f.unembedded.is_empty()
                && let Err(e) =
                    crate::app::embed_memories(db, &c.paths.data_dir, &f.unembedded).await
            {
                let line = format!(
                    "msp ui: memories {:?} not embedded again after a forget ({e}); `msp context embed` does it",
                    f.unembedded
                );
                crate::log::append(&c.paths.log(), c.config.log.max_bytes, &line);
            }
            return Ok(Redirect::to("/memories").into_response());
        }
        _ => {
            return Err(
                Error::not_found("action", &action, "pin, unpin, restore or forget").into(),
            );
        }
    };
    Ok(back_to(&m.id))
}

// ---------------------------------------------------------------------------
// Claude sessions: what was injected where

/// One prompt of a Claude session: when, and what was injected.
type Prompt<'a> = (Millis, Vec<&'a journal::Injection>);

pub async fn claude(State(c): C) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let rows = journal::injections(db, 500).await?;
    let captured = mstore::captured(db, 500).await?;
    // Session -> prompts (one injection time each) -> memories, and the
    // turns captured from it; newest session first.
    let mut sessions: Vec<Claude> = Vec::new();
    fn entry<'a, 'b>(
        sessions: &'b mut Vec<Claude<'a>>,
        id: &str,
        at: Millis,
    ) -> &'b mut Claude<'a> {
        let i = match sessions.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                sessions.push(Claude {
                    id: id.to_string(),
                    last: at,
                    prompts: vec![],
                    captured: vec![],
                });
                sessions.len() - 1
            }
        };
        let s = &mut sessions[i];
        s.last = s.last.max(at);
        s
    }
    for r in &rows {
        let s = entry(&mut sessions, &r.claude_session_id, r.injected_at);
        match s.prompts.iter_mut().find(|(at, _)| *at == r.injected_at) {
            Some(p) => p.1.push(r),
            None => s.prompts.push((r.injected_at, vec![r])),
        }
    }
    for m in &captured {
        if let Some(sid) = &m.claude_session_id {
            entry(&mut sessions, sid, m.created_at).captured.push(m);
        }
    }
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last));
    let body = html! {
        p.muted { "Each Claude session: what recall injected before each prompt, and the turns the save hook captured (newest first)." }
        @if sessions.is_empty() { p { "No Claude session yet." } }
        @for s in &sessions {
            section.session {
                h2 { "Session " code { (s.id) } }
                @if !s.prompts.is_empty() {
                    table {
                        thead { tr { th { "prompt at" } th { "memories injected" } th.num { "tokens" } } }
                        tbody {
                            @for (at, ms) in &s.prompts {
                                tr {
                                    td.nowrap { (local_display(*at)) }
                                    td { ul.compact { @for m in ms {
                                        li { @match &m.title {
                                            Some(t) => a href=(format!("/memories/{}", m.memory_id)) { (t) },
                                            None => span.muted { "(forgotten since)" },
                                        } }
                                    } } }
                                    td.num { (ms.iter().filter_map(|m| m.stored_tokens).sum::<i64>()) }
                                }
                            }
                        }
                    }
                }
                @if !s.captured.is_empty() {
                    h3 { "Captured turns" }
                    ul.compact { @for m in &s.captured {
                        li { span.muted { (local_display(m.created_at)) " · " } (title_cell(m)) }
                    } }
                }
            }
        }
    };
    Ok(layout(&c, "/claude", "Claude sessions", body))
}

/// One Claude session as the console shows it.
struct Claude<'a> {
    id: String,
    last: Millis,
    prompts: Vec<Prompt<'a>>,
    captured: Vec<&'a Memory>,
}

// ---------------------------------------------------------------------------
// Work time

#[derive(Debug, Default, Deserialize)]
pub struct Range {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

const WEEK_MS: i64 = 7 * 86_400_000;

fn range_of(r: &Range) -> Result<(Option<Millis>, Option<Millis>)> {
    let now = now_ms();
    let from = some(&r.from)
        .map(|f| crate::time::parse_time(f, now, crate::time::DayEdge::Start))
        .transpose()?;
    let to = some(&r.to)
        .map(|t| crate::time::parse_time(t, now, crate::time::DayEdge::End))
        .transpose()?;
    Ok((from, to))
}

pub async fn time(State(c): C, Query(r): Query<Range>) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let now = now_ms();
    let first_week = crate::time::local_week_start(now) - 7 * WEEK_MS;
    let list = sessions::list(
        db,
        &sessions::Filter {
            from: Some(first_week),
            ..Default::default()
        },
    )
    .await?;
    // Hours per week and client, billable or not (a session counts in the
    // week it started).
    let mut weeks: Vec<chart::Week> = (0..8)
        .map(|i| chart::Week {
            start: first_week + i * WEEK_MS,
            ..Default::default()
        })
        .collect();
    for s in &list {
        let Some(w) = weeks.iter_mut().rev().find(|w| s.started_ms >= w.start) else {
            continue;
        };
        let hours = s.duration_seconds as f64 / 3600.0;
        let client = s.client.clone().unwrap_or_else(|| "no client".into());
        *w.by_client.entry(client).or_default() += hours;
        if s.billable {
            w.billable += hours;
        } else {
            w.non_billable += hours;
        }
    }
    // The last 7 days, a row each, newest last.
    let days: Vec<String> = (0..7)
        .rev()
        .map(|ago| crate::time::local_day(now - ago * 86_400_000))
        .collect();
    let spans: Vec<chart::Span> = list
        .iter()
        .filter_map(|s| {
            let day = crate::time::local_day(s.started_ms);
            if !days.contains(&day) {
                return None;
            }
            let midnight = crate::time::local_day_start(s.started_ms);
            let hour = |ms: Millis| (ms - midnight) as f64 / 3_600_000.0;
            let end = s.ended_ms.unwrap_or(now);
            Some(chart::Span {
                day,
                from: hour(s.started_ms),
                to: hour(end).min(24.0),
                label: format!(
                    "{} · {} · {}",
                    s.client.as_deref().unwrap_or("no client"),
                    s.title.as_deref().unwrap_or(""),
                    s.duration
                ),
                billable: s.billable,
            })
        })
        .collect();
    let (from, to) = range_of(&r)?;
    let rep = report::report(
        db,
        report::GroupBy::Client,
        sessions::Filter {
            from,
            to,
            ..Default::default()
        },
    )
    .await?;
    let csv_href = format!(
        "/time.csv?from={}&to={}",
        url::form_urlencoded::byte_serialize(r.from.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(r.to.as_bytes()).collect::<String>()
    );
    let body = html! {
        h2 { "Hours per client per week" }
        (chart::weekly_bars(&weeks))
        h2 { "The last 7 days" }
        (chart::timeline(&days, &spans))
        h2 { "Report by client" }
        form.filters method="get" action="/time" {
            label { "from " input name="from" value=(r.from) placeholder="monday, 2026-11-01, last friday"; }
            label { "to " input name="to" value=(r.to) placeholder="today"; }
            button type="submit" { "Show" }
            a.button href=(csv_href) download="msp-report.csv" { "CSV" }
        }
        table {
            thead { tr { th { "client" } th.num { "sessions" } th.num { "hours" } th.num { "billable" } } }
            tbody {
                @for row in &rep.rows {
                    tr { td { (row.key) } td.num { (row.sessions) } td.num { (format!("{:.2}", row.total_hours)) } td.num { (format!("{:.2}", row.billable_hours)) } }
                }
                tr.total { td { (rep.total.key) } td.num { (rep.total.sessions) } td.num { (format!("{:.2}", rep.total.total_hours)) } td.num { (format!("{:.2}", rep.total.billable_hours)) } }
            }
        }
        h2 { "Sessions of the last 8 weeks" }
        table {
            thead { tr { th { "started" } th { "client / project" } th { "title" } th.num { "duration" } th { "billable" } } }
            tbody {
                @for s in &list {
                    tr {
                        td.nowrap { (local_display(s.started_ms)) }
                        td { (s.client.as_deref().unwrap_or("-")) " / " (s.project.as_deref().unwrap_or("-")) }
                        td { (s.title.as_deref().unwrap_or("")) }
                        td.num { (s.duration) }
                        td { @if s.billable { "yes" } @else { "no" } }
                    }
                }
            }
        }
    };
    Ok(layout(&c, "/time", "Work time", body))
}

/// The same bytes as `msp session report --csv` for the range.
pub async fn time_csv(State(c): C, Query(r): Query<Range>) -> Page {
    let mut store = c.store().await?;
    let (from, to) = range_of(&r)?;
    let rep = report::report(
        store.db(),
        report::GroupBy::Client,
        sessions::Filter {
            from,
            to,
            ..Default::default()
        },
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"msp-report.csv\"",
            ),
        ],
        rep.to_csv(),
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Tasks, vault, sync, doctor

pub async fn tasks(State(c): C) -> Page {
    let mut store = c.store().await?;
    let list = tasks::list(store.db(), &crate::work::Scope::default(), true).await?;
    let body = html! {
        table {
            thead { tr { th { "status" } th { "priority" } th { "title" } th { "client / project" } th { "due" } } }
            tbody { @for t in &list { tr class=[(t.status == "done").then_some("done")] {
                td { (t.status) } td { (t.priority) } td { (t.title) }
                td { (t.client.as_deref().unwrap_or("-")) " / " (t.project.as_deref().unwrap_or("-")) }
                td { (t.due_date.as_deref().unwrap_or("")) }
            } } }
        }
    };
    Ok(layout(&c, "/tasks", "Tasks", body))
}

/// The ticket outbox (pending, posted, failed) and the calls made.
pub async fn tickets(State(c): C) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let items = crate::tickets::outbox::recent(db, 100).await?;
    let calls = crate::tickets::calls::list(db, Some(50)).await?;
    let body = html! {
        h2 { "Outbox" }
        @if items.is_empty() { p.muted { "Nothing queued. `msp ticket note` and `msp ticket time` queue notes and time; `msp ticket sync` posts them." } }
        table {
            thead { tr { th { "queued" } th { "ticket" } th { "kind" } th { "status" } th.num { "attempts" } th { "posted" } th { "error" } } }
            tbody { @for i in &items { tr class=(format!("st-{}", if i.status == "failed" { "fail" } else { "ok" })) {
                td.nowrap { (local_display(i.created_ms)) } td { (i.provider) " #" (i.ticket_id) } td { (i.kind) }
                td { (i.status) } td.num { (i.attempts) }
                td.nowrap { (i.sent_ms.map(local_display).unwrap_or_default()) }
                td { (i.last_error.as_deref().unwrap_or("")) }
            } } }
        }
        h2 { "Calls (newest 50)" }
        table {
            thead { tr { th { "time" } th { "method" } th { "path" } th.num { "status" } th.num { "ms" } th.num { "retry" } th { "error" } } }
            tbody { @for r in &calls { tr {
                td.nowrap { (local_display(r.started_ms)) } td { (r.method) } td { code { (r.path) } }
                td.num { (r.status.map_or("-".into(), |s| s.to_string())) }
                td.num { (r.duration_ms.map_or("-".into(), |d| d.to_string())) }
                td.num { (r.retry) } td { (r.error.as_deref().unwrap_or("")) }
            } } }
        }
    };
    Ok(layout(&c, "/tickets", "Tickets", body))
}

/// Agent commands and their audit.
pub async fn agent(State(c): C) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let commands = crate::agent::list(db, None, None, 100).await?;
    let mut audit = crate::agent::audit_log(db, None).await?;
    audit.reverse();
    audit.truncate(100);
    let body = html! {
        h2 { "Commands" }
        @if commands.is_empty() { p.muted { "No command yet: `msp agent exec MACHINE -- CMD` queues one." } }
        table {
            thead { tr { th { "created" } th { "target" } th { "by" } th { "command" } th { "status" } th.num { "exit" } } }
            tbody { @for cmd in &commands { tr {
                td.nowrap { (cmd.created_at) } td { (cmd.target) } td { (cmd.requested_by) " on " (cmd.requester) }
                td { code { (cmd.program) " " (cmd.args.join(" ")) } }
                td { (cmd.status.as_str()) } td.num { (cmd.exit_code.map_or("-".into(), |e| e.to_string())) }
            } } }
        }
        h2 { "Audit (newest 100)" }
        table {
            thead { tr { th { "at" } th { "machine" } th { "command" } th { "event" } th { "detail" } } }
            tbody { @for a in &audit { tr {
                td.nowrap { (a.at) } td { (a.machine) } td { code { (crate::ids::short_id(&a.command_id)) } }
                td { (a.event) } td { (a.detail) }
            } } }
        }
    };
    Ok(layout(&c, "/agent", "Agent commands", body))
}

/// Names, fields, versions and the audit: never a value (this page has no
/// way to reach one; unlocking needs the passphrase, which it never asks).
pub async fn vault(State(c): C) -> Page {
    let mut store = c.store().await?;
    let db = store.db();
    let creds = crate::vault::records::list(db, None, false)
        .await
        .unwrap_or_default();
    let audit = crate::vault::audit::list(db, None, Some(50))
        .await
        .unwrap_or_default();
    let body = html! {
        p.muted { "Item names, fields, versions and the audit trail. Values are never shown here: use `msp vault get` in a terminal." }
        table {
            thead { tr { th { "reference" } th { "type" } th { "username" } th { "fields (version, versions kept)" } th { "updated" } } }
            tbody { @for v in &creds { tr {
                td { code { (v.reference) } } td { (v.cred_type) } td { (v.username.as_deref().unwrap_or("")) }
                td { @for f in &v.fields { span.field { (f.name) " v" (f.version) " (" (f.versions) ")" } " " } }
                td.nowrap { (v.updated_at) }
            } } }
        }
        h2 { "Audit (newest 50)" }
        table {
            thead { tr { th { "#" } th { "at" } th { "user" } th { "action" } th { "credential" } th { "detail" } } }
            tbody { @for e in &audit { tr {
                td.num { (e.seq) } td.nowrap { (local_display(e.at)) } td { (e.os_user) } td { (e.action) }
                td { (e.credential.as_deref().unwrap_or("")) } td { (e.detail) }
            } } }
        }
    };
    Ok(layout(&c, "/vault", "Vault", body))
}

pub async fn sync(State(c): C) -> Page {
    let mut store = c.store().await?;
    let status = crate::sync::status(
        store.db(),
        &c.paths,
        &c.config,
        std::time::Duration::from_secs(3),
    )
    .await;
    let body = match status {
        Ok(s) => html! {
            dl.facts {
                dt { "team" } dd { (s.team_id.as_deref().unwrap_or("not set up (msp sync init)")) }
                dt { "server" } dd { (s.url.as_deref().unwrap_or("-")) }
                dt { "reachable" } dd { (match s.reachable { Some(true) => "yes", Some(false) => "no", None => "-" }) }
                @if let Some(e) = &s.server_error { dt { "server error" } dd { (e) } }
                dt { "last sync" } dd { (s.last_sync_at.as_deref().unwrap_or("never")) }
                dt { "local changes pending" } dd { (s.pending_changes) }
                dt { "records not pushed" } dd { (s.unpushed_records) }
                dt { "records not pulled" } dd { (s.unpulled_records.map_or("-".to_string(), |n| n.to_string())) }
            }
        },
        Err(e) => {
            html! { p { "Team sync: " (e.to_string()) } @if let Some(h) = e.hint() { p.muted { "hint: " (h) } } }
        }
    };
    Ok(layout(&c, "/sync", "Sync", body))
}

/// `msp doctor`'s checks, run as the command runs them.
pub async fn doctor(State(c): C) -> Page {
    let exe = std::env::current_exe().map_err(|e| Error::io("finding msp", e))?;
    let out = tokio::process::Command::new(exe)
        .args(["--json", "doctor"])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| Error::io("running msp doctor", e))?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let checks = report["checks"].as_array().cloned().unwrap_or_default();
    let body = html! {
        table {
            thead { tr { th { "status" } th { "check" } th { "detail" } th { "fix" } } }
            tbody { @for ch in &checks {
                @let status = ch["status"].as_str().unwrap_or("");
                tr class=(format!("st-{status}")) {
                    td { (status) } td { (ch["name"].as_str().unwrap_or("")) }
                    td { (ch["detail"].as_str().unwrap_or("")) } td { (ch["hint"].as_str().unwrap_or("")) }
                }
            } }
        }
        @if checks.is_empty() { p { "msp doctor gave no report: " (String::from_utf8_lossy(&out.stderr)) } }
    };
    Ok(layout(&c, "/doctor", "Doctor", body))
}
