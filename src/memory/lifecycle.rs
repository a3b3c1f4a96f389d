//! The lifecycle of a stored memory: supersede (by hand, or automatically
//! when a newer memory restates a fact of the same project) and restore,
//! pin and unpin, edit, remember on purpose, forget. Every change is a write
//! to `memories` (or its tombstones), so team sync carries it like any other
//! change of a memory.
//!
//! Restatement is decided on the subject of the two texts: their host-like
//! names (`dc01`, `fw-01.contoso.local`) must be the same, and the words
//! that are not values (numbers, addresses, times) must mostly be shared.
//! When both memories have a vector from the sentence encoder, a close
//! meaning lowers how many words must be shared.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::capture;
use super::engine::Engine;
use super::recall::{self, Filter};
use super::store::{self as mstore, Memory};
use super::{text, vectors};
use crate::config::MemoryConfig;
use crate::error::{Error, Result};
use crate::store::{self, Db};
use crate::time::Millis;
use crate::work::Scope;

/// Importance of a memory stored on purpose (`msp remember`, "remember:").
pub const REMEMBER_IMPORTANCE: i64 = 8;
/// Shared non-value words (Dice coefficient) above which a newer memory
/// restates an older one of the same subject.
pub const MIN_WORDS: f64 = 0.6;
/// With both vectors at hand: the cosine above which fewer shared words
/// ([`MIN_WORDS_WITH_MEANING`]) are enough.
pub const MIN_COSINE: f32 = 0.85;
pub const MIN_WORDS_WITH_MEANING: f64 = 0.45;
/// With both vectors at hand: the share of two subjects' words (Dice) that
/// makes them the same subject said differently.
pub const MIN_HEAD_WITH_MEANING: f64 = 0.75;
/// Words (host names count) a subject needs to be compared as one.
pub const MIN_HEAD_TERMS: usize = 2;
/// With the same subject, the share of all words (Dice) the two must have
/// in common, or the cosine they must reach.
pub const MIN_WORDS_WITH_SUBJECT: f64 = 0.3;
pub const MIN_COSINE_WITH_SUBJECT: f32 = 0.7;
/// Older memories of the scope compared with a new one (the closest by words).
const CANDIDATES: usize = 20;

/// What a supersession did.
#[derive(Debug, Clone, Serialize)]
pub struct Superseded {
    /// The older memory, now superseded.
    pub old: String,
    /// Its successor.
    pub new: String,
}

/// Marks `old` superseded by `new` (by hand: any two memories). A memory
/// that superseded `old` before is replaced as its successor.
pub async fn supersede(db: &mut Db, old: &str, new: &str, now: Millis) -> Result<Superseded> {
    let o = mstore::get(db, old).await?;
    let n = mstore::get(db, new).await?;
    if o.id == n.id {
        return Err(Error::usage("a memory cannot supersede itself")
            .with_hint("name the older memory first, then the newer one"));
    }
    if n.superseded_by.as_deref() == Some(o.id.as_str()) {
        return Err(
            Error::usage(format!("{} is itself superseded by {}", n.id, o.id))
                .with_hint(format!("`msp context restore {}` first", n.id)),
        );
    }
    set_superseded(db, &o.id, &n.id, now).await?;
    Ok(Superseded {
        old: o.id,
        new: n.id,
    })
}

async fn set_superseded(db: &mut Db, old: &str, new: &str, now: Millis) -> Result<()> {
    sqlx::query(
        "UPDATE memories SET superseded_by = ?, superseded_at = ? WHERE id = ? AND superseded_by IS NOT ?",
    )
    .bind(new)
    .bind(now)
    .bind(old)
    .bind(new)
    .execute(db)
    .await?;
    Ok(())
}

/// Undoes a supersession: the memory is recalled again. Like pin and
/// unpin, restoring a memory that is current changes nothing (a script or
/// a second browser tab may ask twice).
pub async fn restore(db: &mut Db, key: &str) -> Result<Memory> {
    let m = mstore::get(db, key).await?;
    if m.superseded_by.is_some() {
        sqlx::query("UPDATE memories SET superseded_by = NULL, superseded_at = NULL WHERE id = ?")
            .bind(&m.id)
            .execute(&mut *db)
            .await?;
    }
    mstore::get(db, &m.id).await
}

/// Pins a memory: its project's SessionStart briefing holds it.
pub async fn pin(db: &mut Db, key: &str, now: Millis) -> Result<Memory> {
    let m = mstore::get(db, key).await?;
    if m.pinned_at.is_none() {
        sqlx::query("UPDATE memories SET pinned_at = ? WHERE id = ?")
            .bind(now)
            .bind(&m.id)
            .execute(&mut *db)
            .await?;
    }
    mstore::get(db, &m.id).await
}

pub async fn unpin(db: &mut Db, key: &str) -> Result<Memory> {
    let m = mstore::get(db, key).await?;
    if m.pinned_at.is_some() {
        sqlx::query("UPDATE memories SET pinned_at = NULL WHERE id = ?")
            .bind(&m.id)
            .execute(&mut *db)
            .await?;
    }
    mstore::get(db, &m.id).await
}

/// The pinned memories of a project, oldest pin first.
pub async fn pinned(db: &mut Db, project_id: &str) -> Result<Vec<Memory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM memories m WHERE m.project_id = ? AND m.pinned_at IS NOT NULL
         AND m.superseded_by IS NULL ORDER BY m.pinned_at, m.seq",
        mstore::COLUMNS
    )))
    .bind(project_id)
    .fetch_all(db)
    .await?)
}

/// What an edit changes; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub title: Option<String>,
    pub body: Option<String>,
    /// Replaces the tags given by hand (tags from the text and the scope
    /// are added again).
    pub tags: Option<Vec<String>>,
    pub importance: Option<i64>,
    pub kind: Option<String>,
    /// Moves the memory to this project or client (a scope without either:
    /// to no client).
    pub target: Option<Scope>,
}

impl Edit {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.body.is_none()
            && self.tags.is_none()
            && self.importance.is_none()
            && self.kind.is_none()
            && self.target.is_none()
    }
}

/// Edits a memory: the new text is redacted, the memory re-tagged and
/// re-indexed, its token count made again; a changed text loses its vector
/// (the `memory_vectors_stale` trigger) until it is embedded again.
pub async fn edit(
    db: &mut Db,
    engine: &Engine,
    key: &str,
    e: &Edit,
    now: Millis,
) -> Result<Memory> {
    if e.is_empty() {
        return Err(Error::usage("nothing to change").with_hint(
            "give --title, --body, --tags, --importance, --kind, --project or --client",
        ));
    }
    let m = mstore::get(db, key).await?;
    if let Some(k) = &e.kind {
        mstore::check_kind(k)?;
    }
    if let Some(i) = e.importance
        && !(1..=10).contains(&i)
    {
        return Err(Error::usage("--importance must be between 1 and 10"));
    }
    let r = engine.redactor();
    let title = match &e.title {
        Some(t) => r.redact(t.trim()).text,
        None => m.title.clone(),
    };
    let body = match &e.body {
        Some(b) => r.redact(b.trim()).text,
        None => m.body.clone(),
    };
    if title.is_empty() && body.is_empty() {
        return Err(Error::usage("a memory needs a title or a body")
            .with_hint("keep the title or the body; `msp context forget ID` removes a memory"));
    }
    let old_target = Scope {
        client_id: m.client_id.clone(),
        project_id: m.project_id.clone(),
    };
    let target = match &e.target {
        // Its own client again: it stays on its project (only a move to
        // another client takes it off a project of the old one).
        Some(t)
            if t.project_id.is_none() && t.client_id.is_some() && t.client_id == m.client_id =>
        {
            old_target.clone()
        }
        Some(t) => t.clone(),
        None => old_target.clone(),
    };
    // The tags given by hand stay unless replaced; those derived from the
    // old text and scope are derived again from the new ones. A memory
    // stored before hand tags were kept apart: those its old text and scope
    // did not give.
    let given = match (&e.tags, mstore::hand_tags(db, m.seq).await?) {
        (Some(t), _) => capture::hand_tags(engine, t),
        (None, Some(kept)) => kept,
        (None, None) => {
            let derived: HashSet<String> =
                capture::derived_tags(db, &format!("{}\n{}", m.title, m.body), &old_target)
                    .await?
                    .into_iter()
                    .collect();
            m.tag_list()
                .into_iter()
                .filter(|t| !derived.contains(t))
                .collect()
        }
    };
    let tags = capture::tags_for(db, engine, &format!("{title}\n{body}"), &given, &target).await?;
    let stored = engine.tokens().count(&format!("{title}\n{body}")) as i64;
    let mut tx = store::begin_write(db).await?;
    mstore::unindex(&mut tx, m.seq).await?;
    sqlx::query(
        "UPDATE memories SET title = ?, body = ?, tags = ?, hand_tags = ?, importance = ?, kind = ?,
         project_id = ?, client_id = ?, stored_tokens = ?, tokens_exact = ?, updated_at = ? WHERE seq = ?",
    )
    .bind(&title)
    .bind(&body)
    .bind(tags.join(" "))
    .bind(given.join(" "))
    .bind(e.importance.unwrap_or(m.importance))
    .bind(e.kind.as_deref().unwrap_or(&m.kind))
    .bind(&target.project_id)
    .bind(&target.client_id)
    .bind(stored)
    .bind(engine.tokens().is_exact())
    .bind(now)
    .bind(m.seq)
    .execute(&mut *tx)
    .await?;
    mstore::index(&mut tx, m.seq).await?;
    tx.commit().await?;
    mstore::get(db, &m.id).await
}

/// A forgotten memory, and the memories it had superseded, current again.
#[derive(Debug, Clone, Serialize)]
pub struct Forgotten {
    pub forgotten: String,
    #[serde(skip)]
    pub title: String,
    pub restored: Vec<String>,
    /// Memories whose vectors were read with the forgotten one's text and
    /// went with it: to be embedded again.
    #[serde(skip)]
    pub unembedded: Vec<i64>,
}

/// Forgets a memory (see [`mstore::forget`]): it, its excerpt and its index
/// entry are deleted; a tombstone keeps it from coming back; what it
/// superseded is current again.
pub async fn forget(db: &mut Db, key: &str) -> Result<Forgotten> {
    let m = mstore::get(db, key).await?;
    let unembedded = vectors::read_with(db, m.seq).await?;
    let restored = mstore::forget(db, &m.id).await?;
    Ok(Forgotten {
        forgotten: m.id,
        title: m.title,
        restored,
        unembedded,
    })
}

/// A memory stored on purpose.
#[derive(Debug, Clone, Serialize)]
pub struct Remembered {
    #[serde(flatten)]
    pub memory: Memory,
    /// Older memories this one restates, now superseded by it.
    pub supersedes: Vec<String>,
}

/// What to remember, and where.
#[derive(Debug, Clone)]
pub struct Remember {
    pub text: String,
    pub target: Scope,
    pub machine_id: Option<String>,
    pub created_at: Millis,
    /// Makes storing idempotent (the save hook and the recall hook may both
    /// see one "remember:" prompt).
    pub source_key: Option<String>,
}

/// What a prompt asks to remember, when it begins with `remember:` or
/// `msp remember` (any case; the colon optional after `msp remember`).
pub fn remember_request(prompt: &str) -> Option<&str> {
    let p = prompt.trim_start();
    let rest = strip_prefix_ci(p, "remember:").or_else(|| {
        strip_prefix_ci(p, "msp remember")
            .filter(|r| r.is_empty() || r.starts_with([':', ' ', '\n', '\t']))
            .map(|r| r.strip_prefix(':').unwrap_or(r))
    })?;
    let text = rest.trim();
    (!text.is_empty()).then_some(text)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The title of a memory stored from free text: its first line, cut at a
/// word boundary and marked with an ellipsis when cut.
pub fn title_of(text: &str) -> (String, String) {
    let text = text.trim();
    let first = text.lines().next().unwrap_or_default().trim();
    if first.chars().count() <= 100 && text.lines().count() == 1 {
        return (first.to_string(), String::new());
    }
    let words: Vec<&str> = first.split_whitespace().collect();
    let mut title = String::new();
    let mut taken = 0;
    for w in &words {
        if title.chars().count() + w.chars().count() > 89 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(w);
        taken += 1;
    }
    let cut = if title.is_empty() {
        title = first.chars().take(89).collect();
        first.chars().count() > 89
    } else {
        taken < words.len()
    };
    if cut {
        // "… the WAN IP;" reads as broken off; "… the WAN IP…" as shortened.
        title.truncate(
            title
                .trim_end_matches([',', ';', ':', '-', '–', '—', ' '])
                .len(),
        );
        title.push('…');
    }
    (title, text.to_string())
}

/// Stores `r.text` as a high-importance fact and supersedes what it
/// restates. Returns `None` when its source key was stored (or forgotten)
/// before.
pub async fn remember(db: &mut Db, engine: &Engine, r: Remember) -> Result<Option<Remembered>> {
    let (title, body) = title_of(&r.text);
    if title.is_empty() {
        return Err(Error::usage("nothing to remember").with_hint("give the text to remember"));
    }
    let note = capture::Note {
        title,
        body,
        tags: vec![],
        kind: "fact".into(),
        importance: REMEMBER_IMPORTANCE,
        created_at: r.created_at,
        target: r.target,
        machine_id: r.machine_id,
        source_key: r.source_key,
    };
    let Some(id) = capture::add_note(db, engine, note).await? else {
        return Ok(None);
    };
    let supersedes = supersede_restated(db, &id, r.created_at).await?;
    Ok(Some(Remembered {
        memory: mstore::get(db, &id).await?,
        supersedes,
    }))
}

/// Whether a memory of this kind states how things are (and can go out of
/// date), rather than what happened: notes, tickets and turn summaries are
/// history, and two password resets for two people restate nothing.
pub fn states_a_fact(kind: &str) -> bool {
    matches!(kind, "fact" | "decision" | "project_state")
}

/// Looks for older memories of the same project (or, without one, the same
/// client) that `new_id` restates, and marks them superseded by it. Only
/// facts, decisions and project state supersede or are superseded
/// ([`states_a_fact`]); by hand, `supersede` takes any two memories.
/// Returns the ids superseded.
pub async fn supersede_restated(db: &mut Db, new_id: &str, now: Millis) -> Result<Vec<String>> {
    let n = mstore::get(db, new_id).await?;
    if !states_a_fact(&n.kind) || (n.project_id.is_none() && n.client_id.is_none()) {
        return Ok(vec![]);
    }
    // A search per fact is the cost of an import: only what could restate
    // anything looks.
    let new_subject = Subject::of(&n.title, &n.body);
    if !new_subject.can_restate() {
        return Ok(vec![]);
    }
    let filter = Filter {
        project_id: n.project_id.clone(),
        client_id: if n.project_id.is_none() {
            n.client_id.clone()
        } else {
            None
        },
        ..Filter::default()
    };
    let scope = Scope {
        client_id: n.client_id.clone(),
        project_id: n.project_id.clone(),
    };
    let exclude: HashSet<String> = [n.id.clone()].into();
    let (_, found) = recall::search(
        db,
        &MemoryConfig::default(),
        &format!("{}\n{}", n.title, n.body),
        &scope,
        &filter,
        now,
        CANDIDATES,
        &exclude,
        None,
    )
    .await?;
    let mut out = Vec::new();
    for s in found {
        let o = &s.memory;
        let older = (o.created_at, o.seq) < (n.created_at, n.seq);
        let same_scope =
            o.project_id == n.project_id && (n.project_id.is_some() || o.client_id == n.client_id);
        if !older || !same_scope || o.superseded_by.is_some() || !states_a_fact(&o.kind) {
            continue;
        }
        let cosine = vectors::cosine_between(db, o.seq, n.seq).await?;
        if Subject::of(&o.title, &o.body).restated_by(&new_subject, cosine) {
            set_superseded(db, &o.id, &n.id, now).await?;
            out.push(o.id.clone());
        }
    }
    Ok(out)
}

/// What a memory is about, for telling a restatement from a near miss.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// Host-like names: letters and digits together (`dc01`, `sw-3`), or
    /// dotted names (`mail.contoso.com`).
    pub hosts: BTreeSet<String>,
    /// The other words, stemmed, without stop words and values.
    pub words: BTreeSet<String>,
    /// What the title is about: its words and hosts before the first verb
    /// or colon ("NAS01 admin port" of "NAS01 admin port is 5001"). Empty
    /// when the title has no such split.
    pub head: BTreeSet<String>,
}

/// Words that end the subject of a fact's title: "X is Y", "X moved to Y",
/// "X: Y".
const SUBJECT_ENDS: &[&str] = &[
    "is", "are", "was", "were", "runs", "run", "hosts", "listens", "listen", "goes", "go",
    "points", "point", "moved", "moves", "uses", "use", "requires", "require", "keeps", "keep",
    "has", "have", "lives", "sits", "stays", "changed", "now",
];

impl Subject {
    pub fn of(title: &str, body: &str) -> Subject {
        let mut hosts = BTreeSet::new();
        let mut words = BTreeSet::new();
        add_terms(&format!("{title}\n{body}"), &mut hosts, &mut words);
        let head = match subject_of(title) {
            Some(subject) => {
                let (mut h, mut w) = (BTreeSet::new(), BTreeSet::new());
                add_terms(subject, &mut h, &mut w);
                h.append(&mut w);
                h
            }
            None => BTreeSet::new(),
        };
        Subject { hosts, words, head }
    }

    /// Whether a newer memory with this subject could restate any: it
    /// names a subject, or a host (see [`Subject::restated_by`]).
    pub fn can_restate(&self) -> bool {
        self.head.len() >= MIN_HEAD_TERMS || !self.hosts.is_empty()
    }

    /// Shared words: the Dice coefficient of the two word sets.
    pub fn word_similarity(&self, other: &Subject) -> f64 {
        dice(&self.words, &other.words)
    }

    /// Whether `newer` restates this memory's fact. When both titles name
    /// their subject ("X is …"), the subjects must be the same (nearly the
    /// same when their meanings are close) and the two alike; the value may
    /// change, hosts in it too. Otherwise: the same host names (at least
    /// one), and most words shared (fewer when their meanings are close).
    pub fn restated_by(&self, newer: &Subject, cosine: Option<f32>) -> bool {
        if self.head.len() >= MIN_HEAD_TERMS && newer.head.len() >= MIN_HEAD_TERMS {
            let same_subject = self.head == newer.head
                || cosine.is_some_and(|c| {
                    c >= MIN_COSINE && dice(&self.head, &newer.head) >= MIN_HEAD_WITH_MEANING
                });
            // And the two say much the same of it (a name alone as subject,
            // "Caroline is …", is not enough).
            let close = self.word_similarity(newer) >= MIN_WORDS_WITH_SUBJECT
                || cosine.is_some_and(|c| c >= MIN_COSINE_WITH_SUBJECT);
            return same_subject && close;
        }
        // Without a subject, a host both name is what the two are about;
        // without one, alike words are no proof (turns of one conversation,
        // notes with one template for a title).
        if self.hosts.is_empty() || self.hosts != newer.hosts {
            return false;
        }
        let words = self.word_similarity(newer);
        words >= MIN_WORDS
            || cosine.is_some_and(|c| c >= MIN_COSINE && words >= MIN_WORDS_WITH_MEANING)
    }
}

/// The Dice coefficient of two sets.
pub fn dice(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / total as f64
}

/// Host names (lower-cased) and the other words' terms of `text`; values
/// (numbers, addresses, versions) left out.
fn add_terms(text: &str, hosts: &mut BTreeSet<String>, words: &mut BTreeSet<String>) {
    for raw in text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))) {
        let tok = raw
            .trim_matches(|c: char| matches!(c, '.' | '-' | '_'))
            .to_lowercase();
        if tok.is_empty() || is_value(&tok) {
            continue;
        }
        if is_host(&tok) {
            hosts.insert(tok);
            continue;
        }
        for w in text::words(&tok) {
            if w.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Some(t) = text::term(w) {
                words.insert(t);
            }
        }
    }
}

/// The part of a title before its first verb of state or colon, when there
/// is text on both sides.
fn subject_of(title: &str) -> Option<&str> {
    // (where the subject ends, where the rest begins)
    // A colon that ends a word ("licences: 25"), not one inside a time or
    // an address ("1:56 pm", "fe80::1").
    let colon = title
        .match_indices(':')
        .map(|(c, _)| c)
        .find(|&c| c > 0 && title[c + 1..].starts_with(char::is_whitespace))
        .map(|c| (c, c + 1));
    let verb = title
        .split_whitespace()
        .find(|w| SUBJECT_ENDS.contains(&w.to_lowercase().as_str()))
        .map(|w| {
            let at = w.as_ptr() as usize - title.as_ptr() as usize;
            (at, at + w.len())
        });
    let (end, rest) = match (colon, verb) {
        (Some(c), Some(v)) => c.min(v),
        (c, v) => c.or(v)?,
    };
    let subject = &title[..end];
    (!subject.trim().is_empty() && !title[rest..].trim().is_empty()).then_some(subject)
}

/// A value rather than a name: starts with a digit (`8.8.8.8`, `2am`,
/// `443`, `30d`), or a version (`v1.2`).
fn is_value(tok: &str) -> bool {
    let mut chars = tok.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('v') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// A host-like name: letters with digits (`dc01`, `fw-01`), or a dotted
/// name of two or more labels with letters (`nas.contoso.local`).
fn is_host(tok: &str) -> bool {
    let letters = tok.chars().any(|c| c.is_alphabetic());
    let digits = tok.chars().any(|c| c.is_ascii_digit());
    if letters && digits {
        return true;
    }
    let labels: Vec<&str> = tok.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().any(|c| c.is_alphabetic()))
}

/// Supersedes what each memory stored after `after_seq` restates (after an
/// import), oldest first. Returns how many older memories were superseded.
pub async fn supersede_restated_since(db: &mut Db, after_seq: i64, now: Millis) -> Result<u64> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM memories WHERE seq > ? AND kind IN ('fact', 'decision', 'project_state')
         AND (project_id IS NOT NULL OR client_id IS NOT NULL) ORDER BY created_at, seq",
    )
    .bind(after_seq)
    .fetch_all(&mut *db)
    .await?;
    let mut n = 0;
    for id in &ids {
        n += supersede_restated(db, id, now).await?.len() as u64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> Subject {
        Subject::of(t, "")
    }

    #[test]
    fn hosts_and_values_are_told_apart() {
        let x = s("DC01 DNS forwarders are 8.8.8.8 and 8.8.4.4 (set 2026-03-01)");
        assert_eq!(x.hosts, ["dc01".to_string()].into());
        assert!(x.words.contains("dns") && x.words.contains("forward"));
        assert!(!x.words.iter().any(|w| w.contains('8')));
        let y = s("Mail goes through mail.contoso.com on port 587");
        assert!(y.hosts.contains("mail.contoso.com"), "{y:?}");
    }

    #[test]
    fn a_new_value_for_the_same_setting_restates_and_another_host_does_not() {
        let old = s("DC01 DNS forwarders are 8.8.8.8 and 8.8.4.4");
        let new = s("DC01 DNS forwarders are now 1.1.1.1 and 1.0.0.1");
        assert!(old.restated_by(&new, None));
        let other_host = s("DC02 DNS forwarders are now 1.1.1.1 and 1.0.0.1");
        assert!(!old.restated_by(&other_host, None));
        let other_setting = s("DC01 nightly backup runs at 2am to the NAS");
        assert!(!old.restated_by(&other_setting, None));
    }

    #[test]
    fn the_subject_before_the_verb_decides() {
        let old = s("Patch window for servers is Sunday 02:00");
        assert!(old.restated_by(&s("Patch window for servers is Saturday 22:00"), None));
        assert!(!old.restated_by(&s("Patch window for workstations is Wednesday 12:00"), None));
        let print = s("The print server is PRINT01 on Windows Server 2012 R2");
        assert!(print.restated_by(
            &s("The print server is PRINT02 on Windows Server 2022"),
            None
        ));
        let lic = s("Microsoft 365 licences: 25 Business Standard");
        assert_eq!(
            lic.head,
            ["licenc".to_string(), "microsoft".to_string()].into()
        );
        assert!(lic.restated_by(&s("Microsoft 365 licences: 32 Business Premium"), None));
        let wifi = s("Guest Wi-Fi is on VLAN 30");
        assert!(wifi.restated_by(&s("Guest Wi-Fi moved to VLAN 40"), None));
        assert!(!wifi.restated_by(&s("Voice traffic is on VLAN 50"), None));
        let mfa = s("MFA method for admins is FIDO2 security keys");
        assert!(!mfa.restated_by(&s("MFA method for contractors is SMS codes"), Some(0.95)));
        assert_eq!(subject_of("is it on"), None);
        assert_eq!(
            subject_of("Caroline — session 3 (1:56 pm on 8 May, 2023)"),
            None
        );
        assert_eq!(subject_of("NAS01 admin port is"), None);
    }

    /// Regression: every turn of a conversation imported as facts, titled
    /// "Caroline — session 3 (1:56 pm …)", retired the one before it.
    #[test]
    fn conversation_turns_with_a_time_in_the_title_restate_nothing() {
        let a = Subject::of(
            "Caroline — session 3 (1:56 pm on 8 May, 2023)",
            "I went to a LGBTQ support group yesterday and it was so powerful.",
        );
        let b = Subject::of(
            "Caroline — session 3 (1:56 pm on 8 May, 2023)",
            "The transgender stories were so inspiring! I was so happy.",
        );
        assert!(!a.restated_by(&b, None));
        assert!(!a.restated_by(&b, Some(0.5)));
        // Short turns share nearly every word of their title.
        let title = "Melanie — session 2 (7:55 pm on 25 May, 2023)";
        let (x, y) = (
            Subject::of(title, "Thanks!"),
            Subject::of(title, "Thanks, Mel!"),
        );
        assert!(x.word_similarity(&y) >= MIN_WORDS);
        assert!(!x.restated_by(&y, Some(0.9)));
        assert!(!y.can_restate(), "no search is needed to tell");
        // A name alone is no subject; one subject saying other things is no
        // restatement either.
        let c = s("Caroline is going to the support group");
        assert!(!c.restated_by(&s("Caroline is happy about her painting"), None));
    }

    #[test]
    fn a_close_meaning_lowers_the_words_needed() {
        let old = s("AP-GUEST01 password rotates every month");
        let new = s("AP-GUEST01 wireless passphrase now rotates each month");
        let words = old.word_similarity(&new);
        assert!(
            (MIN_WORDS_WITH_MEANING..MIN_WORDS).contains(&words),
            "{words}"
        );
        assert!(!old.restated_by(&new, None));
        assert!(old.restated_by(&new, Some(0.9)));
        assert!(!old.restated_by(&new, Some(0.5)));
    }

    #[test]
    fn remember_requests_are_told_from_other_prompts() {
        assert_eq!(
            remember_request("remember: the NAS admin port is 5001"),
            Some("the NAS admin port is 5001")
        );
        assert_eq!(
            remember_request("  Remember:  VPN MTU is 1400\n"),
            Some("VPN MTU is 1400")
        );
        assert_eq!(
            remember_request("msp remember DC01 is the PDC"),
            Some("DC01 is the PDC")
        );
        assert_eq!(remember_request("MSP remember: x"), Some("x"));
        assert_eq!(remember_request("remember:   "), None);
        assert_eq!(remember_request("remember to reboot the NAS"), None);
        assert_eq!(remember_request("msp rememberance"), None);
        assert_eq!(remember_request("what do you remember: anything?"), None);
        assert_eq!(remember_request("rem"), None);
        assert_eq!(remember_request("é"), None);
    }

    #[test]
    fn titles_of_remembered_text() {
        assert_eq!(
            title_of("  the NAS admin port is 5001 "),
            ("the NAS admin port is 5001".into(), String::new())
        );
        let long = "word ".repeat(40);
        let (t, b) = title_of(&long);
        assert!(t.chars().count() <= 90 && t.ends_with("word…") && !b.is_empty());
        // Two lines: the first is the title, whole (spacing aside).
        assert_eq!(title_of("NAS01 moved\nto rack 2").0, "NAS01 moved");
        assert_eq!(title_of("NAS01  moved\nto rack 2").0, "NAS01 moved");
        let word = "x".repeat(120);
        assert_eq!(title_of(&word).0, format!("{}…", "x".repeat(89)));
    }

    #[test]
    fn a_cut_title_ends_in_an_ellipsis_not_in_the_punctuation_it_was_cut_at() {
        let text = "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP; \
                    updated the outbound proxy and disabled SIP ALG on the FortiGate";
        let (title, body) = title_of(text);
        assert_eq!(
            title,
            "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP…"
        );
        assert_eq!(body, text);
    }
}
