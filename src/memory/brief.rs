//! The briefing a new Claude session starts with: the project and its
//! client, the open work session, pending tasks, the last session's summary
//! and the most recent project memories, within a token budget.

use std::collections::HashSet;

use super::recall::{MARKER_END, MARKER_START};
use super::store as mstore;
use crate::error::Result;
use crate::store::Db;
use crate::time::{local_day, local_display};
use crate::work::projects::Project;
use crate::work::{Scope, clients, sessions, tasks};

/// What a session starts with, and which memories it holds.
#[derive(Debug)]
pub struct Brief {
    pub text: String,
    /// The memories included (so the session is not given them again).
    pub ids: Vec<String>,
    /// Estimated tokens of the text.
    pub tokens: u32,
}

/// The briefing for `project` on `machine_id`, leaving out `exclude`d
/// memories and staying within `budget` tokens.
pub async fn brief(
    db: &mut Db,
    project: &Project,
    machine_id: Option<&str>,
    budget: u32,
    exclude: &HashSet<String>,
) -> Result<Brief> {
    let client = match &project.client_id {
        Some(id) => clients::by_id(db, id).await?.map(|c| c.name),
        None => None,
    };
    let mut lines = vec![match &client {
        Some(c) => format!("Project {} (client {c}).", project.slug),
        None => format!("Project {}.", project.slug),
    }];
    if let Some(m) = machine_id
        && let Some(open) = sessions::status(db, m).await?
    {
        let title = open
            .title
            .as_deref()
            .map(|t| format!(" \"{t}\""))
            .unwrap_or_default();
        lines.push(format!(
            "Work session open since {}{title}.",
            local_display(open.started_ms)
        ));
    }
    let ws = Scope {
        client_id: None,
        project_id: Some(project.id.clone()),
    };
    let pending = tasks::list(db, &ws, false).await?;
    if !pending.is_empty() {
        lines.push("Pending tasks:".into());
        for t in pending.iter().take(5) {
            let due = t
                .due_date
                .as_deref()
                .map(|d| format!(", due {d}"))
                .unwrap_or_default();
            lines.push(format!("- [{}] {}{due}", t.priority, t.title));
        }
    }
    let f = sessions::Filter {
        project_id: Some(project.id.clone()),
        limit: Some(5),
        ..Default::default()
    };
    if let Some(last) = sessions::list(db, &f)
        .await?
        .into_iter()
        .find(|s| s.status == "closed" && s.summary.is_some())
    {
        lines.push(format!(
            "Last session ({}): {}",
            local_display(last.started_ms),
            last.summary.as_deref().unwrap_or_default()
        ));
    }
    let mut used: u32 = lines
        .iter()
        .map(|l| super::tokens::estimate(l))
        .sum::<u32>()
        + 16;
    let mut ids = Vec::new();
    // Pinned memories first: the technician chose them for every session.
    let pins = super::lifecycle::pinned(db, &project.id).await?;
    let mut first = true;
    for m in pins.iter().filter(|m| !exclude.contains(&m.id)) {
        let cost = m.stored_tokens as u32 + 14;
        if used + cost > budget {
            continue;
        }
        if first {
            lines.push("Pinned:".into());
            first = false;
        }
        push_memory(&mut lines, m);
        used += cost;
        ids.push(m.id.clone());
    }
    let recent = mstore::list(
        db,
        &mstore::ListFilter {
            project_id: Some(project.id.clone()),
            limit: 12,
            current_only: true,
            ..Default::default()
        },
    )
    .await?;
    let mut first = true;
    let pinned: HashSet<String> = ids.iter().cloned().collect();
    for m in recent
        .iter()
        .filter(|m| !exclude.contains(&m.id) && !pinned.contains(&m.id))
    {
        let cost = m.stored_tokens as u32 + 14;
        if used + cost > budget {
            continue;
        }
        if first {
            lines.push("Recent project memories:".into());
            first = false;
        }
        push_memory(&mut lines, m);
        used += cost;
        ids.push(m.id.clone());
    }
    let mut text = format!("{MARKER_START}\n{}\n{MARKER_END}", lines.join("\n"));
    if let Some(r) = super::scrub::recall_guard(db).await? {
        text = r.redact(&text).text;
    }
    Ok(Brief {
        text,
        ids,
        tokens: used,
    })
}

/// A memory as a briefing lists it: its day and title, then its body.
fn push_memory(lines: &mut Vec<String>, m: &mstore::Memory) {
    lines.push(format!("- {} · {}", local_day(m.created_at), m.title));
    for l in m.body.lines().filter(|l| !l.trim().is_empty()) {
        lines.push(format!("  {}", l.trim_end()));
    }
}
