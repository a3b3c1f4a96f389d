//! The briefing a new Claude session starts with, within a token budget:
//! the project and its client, the open work session, pending tasks, the
//! last session's summary, pinned memories, the project's decisions and
//! state, other recent work by importance, and one line that counts the
//! routine work of the last days instead of listing it.

use std::collections::{BTreeSet, HashSet};

use super::recall::{MARKER_END, MARKER_START};
use super::store as mstore;
use crate::error::Result;
use crate::store::Db;
use crate::time::{Millis, local_day, local_display};
use crate::work::projects::Project;
use crate::work::{Scope, clients, sessions, tasks};

/// What a session starts with, and which memories it holds.
#[derive(Debug, serde::Serialize)]
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
    now: Millis,
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
    let used = lines
        .iter()
        .map(|l| super::tokens::estimate(l))
        .sum::<u32>()
        + 16;
    let mut out = Assembly {
        lines,
        used,
        budget,
        ids: Vec::new(),
        taken: exclude.clone(),
    };
    // Pinned memories first: the technician chose them for every session.
    let pins = super::lifecycle::pinned(db, &project.id).await?;
    let current = mstore::list(
        db,
        &mstore::ListFilter {
            project_id: Some(project.id.clone()),
            limit: CANDIDATES,
            current_only: true,
            ..Default::default()
        },
    )
    .await?;
    let plan = plan(&current, now);
    // The routine line is short and always fits: its room is kept first.
    let routine_line = plan.routine_line();
    let reserve = routine_line.as_deref().map_or(0, super::tokens::estimate);
    out.section("Pinned:", pins.iter(), reserve);
    out.section(
        "Decisions and project state:",
        plan.decisions.iter().copied(),
        reserve,
    );
    out.section("Recent work:", plan.recent.iter().copied(), reserve);
    if let Some(l) = routine_line {
        out.used += super::tokens::estimate(&l);
        out.lines.push(l);
    }
    let mut text = format!("{MARKER_START}\n{}\n{MARKER_END}", out.lines.join("\n"));
    if let Some(r) = super::scrub::recall_guard(db).await? {
        text = r.redact(&text).text;
    }
    Ok(Brief {
        text,
        ids: out.ids,
        tokens: out.used,
    })
}

/// A briefing being put together within its budget.
struct Assembly {
    lines: Vec<String>,
    used: u32,
    budget: u32,
    ids: Vec<String>,
    /// Memories already shown (or excluded).
    taken: HashSet<String>,
}

impl Assembly {
    /// Lists the memories that fit, keeping `reserve` tokens free, under
    /// `heading` (left out when none fits).
    fn section<'a>(
        &mut self,
        heading: &str,
        list: impl Iterator<Item = &'a mstore::Memory>,
        reserve: u32,
    ) {
        let mut first = true;
        for m in list {
            if self.taken.contains(&m.id) {
                continue;
            }
            let cost = m.stored_tokens.max(0) as u32 + 14;
            if self.used + cost + reserve > self.budget {
                continue;
            }
            if first {
                self.lines.push(heading.to_string());
                first = false;
            }
            push_memory(&mut self.lines, m);
            self.used += cost;
            self.ids.push(m.id.clone());
            self.taken.insert(m.id.clone());
        }
    }
}

/// The newest memories of a project a briefing chooses from.
const CANDIDATES: i64 = 200;
/// Routine work is counted over this many days.
const ROUTINE_DAYS: i64 = 30;
/// At most this importance, a repeated note or turn summary is routine.
const ROUTINE_IMPORTANCE: i64 = 5;
/// Titles sharing this much of their words (Dice) are the same kind of work.
const SAME_WORK: f64 = 0.5;

/// What a briefing shows of a project's memories, in order.
#[derive(Debug, Default)]
struct Plan<'a> {
    /// Decisions, project state and facts: by importance, then newest.
    decisions: Vec<&'a mstore::Memory>,
    /// The rest that is not routine: by importance, then newest.
    recent: Vec<&'a mstore::Memory>,
    /// Repeated low-importance work of the last days: a label and a count,
    /// most frequent first.
    routine: Vec<(String, usize)>,
}

impl Plan<'_> {
    fn routine_line(&self) -> Option<String> {
        if self.routine.is_empty() {
            return None;
        }
        let items: Vec<String> = self
            .routine
            .iter()
            .take(6)
            .map(|(label, n)| format!("{n} × {label}"))
            .collect();
        let more = self.routine.len().saturating_sub(6);
        let tail = if more > 0 {
            format!(", {more} other kinds")
        } else {
            String::new()
        };
        Some(format!(
            "Routine work, last {ROUTINE_DAYS} days: {}{tail}.",
            items.join(", ")
        ))
    }
}

/// Sorts a project's current memories (newest first) into the briefing's
/// parts: routine work is what repeats (titles alike) at low importance.
fn plan(current: &[mstore::Memory], now: Millis) -> Plan<'_> {
    let routine_kind = |m: &mstore::Memory| {
        matches!(m.kind.as_str(), "note" | "session_summary") && m.importance <= ROUTINE_IMPORTANCE
    };
    // Group the low-importance notes and turns by the words of their titles.
    // Alike: most words shared, and the same first word (what was done or
    // to what, "Password reset …", "Mailbox access …"), so that a name both
    // titles hold does not make two kinds of work one.
    let mut groups: Vec<(Option<String>, BTreeSet<String>, Vec<&mstore::Memory>)> = Vec::new();
    for m in current.iter().filter(|m| routine_kind(m)) {
        let lead = lead_word(&m.title);
        let words = title_words(&m.title);
        match groups
            .iter_mut()
            .find(|(l, w, _)| *l == lead && super::lifecycle::dice(w, &words) >= SAME_WORK)
        {
            Some((_, _, members)) => members.push(m),
            None => groups.push((lead, words, vec![m])),
        }
    }
    let routine_ids: HashSet<&str> = groups
        .iter()
        .filter(|(_, _, members)| members.len() > 1)
        .flat_map(|(_, _, members)| members.iter().map(|m| m.id.as_str()))
        .collect();
    let since = now - ROUTINE_DAYS * 86_400_000;
    let mut routine: Vec<(String, usize)> = groups
        .iter()
        .filter(|(_, _, members)| members.len() > 1)
        .filter_map(|(_, _, members)| {
            let n = members.iter().filter(|m| m.created_at >= since).count();
            (n > 0).then(|| (common_label(members), n))
        })
        .collect();
    routine.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let by_weight = |a: &&mstore::Memory, b: &&mstore::Memory| {
        b.importance
            .cmp(&a.importance)
            .then(b.created_at.cmp(&a.created_at))
    };
    let mut decisions: Vec<&mstore::Memory> = current
        .iter()
        .filter(|m| super::lifecycle::states_a_fact(&m.kind))
        .collect();
    decisions.sort_by(by_weight);
    let mut recent: Vec<&mstore::Memory> = current
        .iter()
        .filter(|m| {
            !super::lifecycle::states_a_fact(&m.kind) && !routine_ids.contains(m.id.as_str())
        })
        .collect();
    recent.sort_by(by_weight);
    Plan {
        decisions,
        recent,
        routine,
    }
}

/// The words of a title that say what was done: stemmed, no stop words, no
/// host names or numbers.
fn title_words(title: &str) -> BTreeSet<String> {
    super::lifecycle::Subject::of(title, "").words
}

/// The first word of a title that is not a stop word, as a term.
fn lead_word(title: &str) -> Option<String> {
    super::text::words(title).find_map(super::text::term)
}

/// What a group of titles has in common, in the words of the first one
/// ("Password reset for asmith", "Password reset for bjones": "Password
/// reset").
fn common_label(members: &[&mstore::Memory]) -> String {
    let sets: Vec<BTreeSet<String>> = members.iter().map(|m| title_words(&m.title)).collect();
    let shared =
        |w: &str| super::text::term(w).is_some_and(|t| sets.iter().all(|s| s.contains(&t)));
    let words: Vec<&str> = super::text::words(&members[0].title).collect();
    let (Some(first), Some(last)) = (
        words.iter().position(|w| shared(w)),
        words.iter().rposition(|w| shared(w)),
    ) else {
        return members[0].title.clone();
    };
    // From the first shared word to the last, keeping the small words
    // between them ("replaced in the printer").
    words[first..=last]
        .iter()
        .filter(|w| shared(w) || super::text::term(w).is_none())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A memory as a briefing lists it: its day and title, then its body.
fn push_memory(lines: &mut Vec<String>, m: &mstore::Memory) {
    lines.push(format!("- {} · {}", local_day(m.created_at), m.title));
    for l in m.body.lines().filter(|l| !l.trim().is_empty()) {
        lines.push(format!("  {}", l.trim_end()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, kind: &str, importance: i64, title: &str, days_ago: i64) -> mstore::Memory {
        mstore::Memory {
            id: id.into(),
            kind: kind.into(),
            title: title.into(),
            importance,
            created_at: NOW - days_ago * 86_400_000,
            stored_tokens: 20,
            ..Default::default()
        }
    }

    const NOW: Millis = 1_800_000_000_000;

    #[test]
    fn repeated_routine_work_is_counted_and_decisions_come_first() {
        let current = vec![
            m("a", "note", 5, "Calendar delegate for twalker", 1),
            m("b", "note", 5, "Password reset for asmith", 2),
            m("c", "decision", 5, "Backups move to Wasabi", 3),
            m("d", "note", 5, "Password reset for bjones", 4),
            m("e", "note", 5, "Calendar delegate for aokafor", 40),
            m("f", "session_summary", 7, "Rebuilt the print server", 5),
            m("g", "note", 5, "Password reset for cnguyen", 50),
            m("h", "fact", 6, "NAS admin port is 5001", 60),
            m("i", "note", 5, "Firewall firmware notes", 6),
            m("j", "note", 5, "Shared folder access for asmith", 7),
            m("k", "note", 5, "Mailbox access for asmith", 8),
        ];
        let p = plan(&current, NOW);
        let ids = |l: &[&mstore::Memory]| l.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&p.decisions), ["h", "c"], "importance, then newest");
        assert_eq!(ids(&p.recent), ["f", "i", "j", "k"], "one of a kind");
        assert_eq!(
            p.routine,
            [
                ("Password reset".to_string(), 2),
                ("Calendar delegate".to_string(), 1)
            ]
        );
        assert_eq!(
            p.routine_line().unwrap(),
            "Routine work, last 30 days: 2 × Password reset, 1 × Calendar delegate."
        );
    }
}
