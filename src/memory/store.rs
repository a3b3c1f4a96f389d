//! The `memories` table, its full-text index, capture offsets and the recall
//! log. Every write of a memory goes through [`insert`], which keeps the
//! index in step inside the same transaction.

use serde::Serialize;

use super::text;
use crate::error::{Error, Result};
use crate::store::{self, Db};
use crate::time::Millis;

pub const KINDS: &[&str] = &[
    "session_summary",
    "decision",
    "fact",
    "snippet",
    "project_state",
    "note",
];

pub fn check_kind(kind: &str) -> Result<()> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(Error::usage(format!("unknown memory kind {kind:?}"))
            .with_hint(format!("use one of {}", KINDS.join(", "))))
    }
}

/// Where a captured memory came from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Unique per captured thing: capturing it again adds nothing.
    pub key: String,
    pub path: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub claude_session_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewMemory {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Those of `tags` given by hand (see [`hand_tags`]).
    pub hand_tags: Vec<String>,
    pub project_id: Option<String>,
    pub client_id: Option<String>,
    pub machine_id: Option<String>,
    pub source: Option<Source>,
    pub importance: i64,
    pub created_at: Millis,
    pub raw_tokens: i64,
    pub stored_tokens: i64,
    pub raw_bytes: i64,
    /// False when the counts are estimates (the save hook builds no
    /// tokenizer); [`recount_estimated`] counts them exactly later.
    pub tokens_exact: bool,
    pub excerpt: Option<Vec<u8>>,
}

/// Inserts a memory and indexes it. Returns `None` when a memory with the
/// same source key exists already.
pub async fn insert(db: &mut Db, m: &NewMemory) -> Result<Option<String>> {
    let mut tx = store::begin_write(db).await?;
    let id = insert_in(&mut tx, m).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`insert`] inside the caller's write transaction (see
/// [`store::begin_write`]), so many memories can share one commit.
pub async fn insert_in(tx: &mut Db, m: &NewMemory) -> Result<Option<String>> {
    let id = crate::ids::new_id();
    let tags = m.tags.join(" ");
    let src = m.source.clone().unwrap_or_default();
    let seq: Option<i64> = sqlx::query_scalar(
        "INSERT INTO memories (id, kind, title, body, tags, hand_tags, project_id, client_id, machine_id, source_key,
         source_path, source_start, source_end, claude_session_id, importance, created_at, raw_tokens, stored_tokens,
         raw_bytes, tokens_exact, excerpt)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE NOT EXISTS (SELECT 1 FROM memory_tombstones WHERE source_key = ?)
         ON CONFLICT(source_key) DO NOTHING RETURNING seq",
    )
    .bind(&id)
    .bind(&m.kind)
    .bind(&m.title)
    .bind(&m.body)
    .bind(&tags)
    .bind(m.hand_tags.join(" "))
    .bind(&m.project_id)
    .bind(&m.client_id)
    .bind(&m.machine_id)
    .bind(m.source.as_ref().map(|s| s.key.as_str()))
    .bind(&src.path)
    .bind(src.start)
    .bind(src.end)
    .bind(&src.claude_session_id)
    .bind(m.importance)
    .bind(m.created_at)
    .bind(m.raw_tokens)
    .bind(m.stored_tokens)
    .bind(m.raw_bytes)
    .bind(m.tokens_exact)
    .bind(&m.excerpt)
    // A forgotten source stays forgotten.
    .bind(m.source.as_ref().map(|s| s.key.as_str()))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(seq) = seq else {
        return Ok(None);
    };
    index_values(
        tx,
        seq,
        &m.title,
        &m.body,
        &m.tags.join(" "),
        m.client_id.as_deref(),
        m.project_id.as_deref(),
    )
    .await?;
    Ok(Some(id))
}

/// Completes the memory of a captured turn read again holding more than
/// when it was stored: written while the turn was still being written (its
/// source ended before `m`'s does), or from a transcript with a broken
/// line mended since (less of the turn was read). It takes the text, tags,
/// counts and excerpt of the whole turn, and is indexed again. A memory
/// edited by hand, or whose text would not change, is left as it is.
/// Inside a write transaction; returns whether it was completed.
pub async fn complete_in(tx: &mut Db, m: &NewMemory) -> Result<bool> {
    let Some(src) = &m.source else {
        return Ok(false);
    };
    let Some(end) = src.end else {
        return Ok(false);
    };
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM memories WHERE source_key = ? AND kind = ? AND updated_at IS NULL
         AND (COALESCE(source_end, 0) < ? OR raw_bytes < ?) AND (title <> ? OR body <> ?)",
    )
    .bind(&src.key)
    .bind(&m.kind)
    .bind(end)
    .bind(m.raw_bytes)
    .bind(&m.title)
    .bind(&m.body)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(seq) = seq else {
        return Ok(false);
    };
    unindex(tx, seq).await?;
    // The text changes, so the vector goes (the `memory_vectors_stale`
    // trigger) and sync sends the completed memory.
    sqlx::query(
        "UPDATE memories SET title = ?, body = ?, tags = ?, importance = ?, raw_tokens = ?,
         stored_tokens = ?, raw_bytes = ?, tokens_exact = ?, excerpt = ?, source_end = ? WHERE seq = ?",
    )
    .bind(&m.title)
    .bind(&m.body)
    .bind(m.tags.join(" "))
    .bind(m.importance)
    .bind(m.raw_tokens)
    .bind(m.stored_tokens)
    .bind(m.raw_bytes)
    .bind(m.tokens_exact)
    .bind(&m.excerpt)
    .bind(end)
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    index(tx, seq).await?;
    Ok(true)
}

/// The tags given a memory by hand; `None` when it was stored before msp
/// kept them apart.
pub async fn hand_tags(db: &mut Db, seq: i64) -> Result<Option<Vec<String>>> {
    let tags: Option<Option<String>> =
        sqlx::query_scalar("SELECT hand_tags FROM memories WHERE seq = ?")
            .bind(seq)
            .fetch_optional(db)
            .await?;
    Ok(tags
        .flatten()
        .map(|t| t.split_whitespace().map(str::to_string).collect()))
}

/// Indexes the stored memory `seq` (team sync writes rows it pulled, then
/// indexes them exactly as [`insert_in`] would). Inside a write transaction.
pub async fn index(tx: &mut Db, seq: i64) -> Result<()> {
    let (title, body, tags, client_id, project_id): (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT title, body, tags, client_id, project_id FROM memories WHERE seq = ?",
    )
    .bind(seq)
    .fetch_one(&mut *tx)
    .await?;
    index_values(
        tx,
        seq,
        &title,
        &body,
        &tags,
        client_id.as_deref(),
        project_id.as_deref(),
    )
    .await
}

/// [`index`] with the row's values at hand (`tags` space-separated, as stored).
pub async fn index_values(
    tx: &mut Db,
    seq: i64,
    title: &str,
    body: &str,
    tags: &str,
    client_id: Option<&str>,
    project_id: Option<&str>,
) -> Result<()> {
    let tag_tokens: Vec<String> = tags.split_whitespace().map(text::tag_token).collect();
    let title = text::index_text(title);
    let body = text::index_text(body);
    let tags = tag_tokens.join(" ");
    sqlx::query(
        "INSERT INTO memory_index (rowid, title, body, tags, scope) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(seq)
    .bind(&title)
    .bind(&body)
    .bind(&tags)
    .bind(text::scope_tokens(client_id, project_id))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO memory_terms (term, docs) SELECT value, 1 FROM json_each(?) WHERE true
         ON CONFLICT(term) DO UPDATE SET docs = docs + 1",
    )
    .bind(distinct_terms(&[&title, &body, &tags]))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Removes the stored memory `seq` from the index (the row stays), as
/// [`forget`] does before deleting. Inside a write transaction.
pub async fn unindex(tx: &mut Db, seq: i64) -> Result<()> {
    let (title, body, tags): (String, String, String) =
        sqlx::query_as("SELECT title, body, tags FROM memories WHERE seq = ?")
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
    let tag_tokens: Vec<String> = tags.split_whitespace().map(text::tag_token).collect();
    let terms = distinct_terms(&[
        &text::index_text(&title),
        &text::index_text(&body),
        &tag_tokens.join(" "),
    ]);
    sqlx::query(
        "UPDATE memory_terms SET docs = docs - 1 WHERE term IN (SELECT value FROM json_each(?))",
    )
    .bind(&terms)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM memory_terms WHERE docs <= 0")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM memory_index WHERE rowid = ?")
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Files the memories of a project under another client (or none), with
/// their index scope, when the project moves (`msp project update
/// --client`). Inside a write transaction; returns how many moved.
pub async fn set_project_client(
    tx: &mut Db,
    project_id: &str,
    client_id: Option<&str>,
) -> Result<u64> {
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT seq FROM memories WHERE project_id = ?1 AND client_id IS NOT ?2",
    )
    .bind(project_id)
    .bind(client_id)
    .fetch_all(&mut *tx)
    .await?;
    for &seq in &seqs {
        unindex(tx, seq).await?;
        sqlx::query("UPDATE memories SET client_id = ? WHERE seq = ?")
            .bind(client_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        index(tx, seq).await?;
    }
    Ok(seqs.len() as u64)
}

/// One memory's text as scrubbing reads and rewrites it.
#[derive(Debug, Clone)]
pub struct Text {
    pub seq: i64,
    pub title: String,
    pub body: String,
    /// Space-separated, as stored.
    pub tags: String,
    /// Space-separated, as stored; `None` when not kept.
    pub hand_tags: Option<String>,
    /// The excerpt, decompressed.
    pub excerpt: Option<String>,
}

/// The text of memories after `after_seq`, in order, at most `limit`.
pub async fn texts(db: &mut Db, after_seq: i64, limit: i64) -> Result<Vec<Text>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        seq: i64,
        title: String,
        body: String,
        tags: String,
        hand_tags: Option<String>,
        excerpt: Option<Vec<u8>>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, title, body, tags, hand_tags, excerpt FROM memories WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(after_seq)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Text {
            seq: r.seq,
            title: r.title,
            body: r.body,
            tags: r.tags,
            hand_tags: r.hand_tags,
            excerpt: r
                .excerpt
                .and_then(|b| zstd::decode_all(b.as_slice()).ok())
                .map(|raw| String::from_utf8_lossy(&raw).into_owned()),
        })
        .collect())
}

/// Replaces a memory's text (re-indexing it), inside a write transaction.
pub async fn rewrite(tx: &mut Db, t: &Text) -> Result<()> {
    unindex(tx, t.seq).await?;
    let excerpt = match &t.excerpt {
        Some(e) => Some(
            zstd::encode_all(e.as_bytes(), 3)
                .map_err(|e| Error::Other(format!("compressing an excerpt: {e}")))?,
        ),
        None => None,
    };
    let ids: (Option<String>, Option<String>) = sqlx::query_as(
        "UPDATE memories SET title = ?, body = ?, tags = ?, hand_tags = ?,
         excerpt = CASE WHEN ? THEN ? ELSE excerpt END
         WHERE seq = ? RETURNING client_id, project_id",
    )
    .bind(&t.title)
    .bind(&t.body)
    .bind(&t.tags)
    .bind(&t.hand_tags)
    .bind(excerpt.is_some())
    .bind(&excerpt)
    .bind(t.seq)
    .fetch_one(&mut *tx)
    .await?;
    index_values(
        tx,
        t.seq,
        &t.title,
        &t.body,
        &t.tags,
        ids.0.as_deref(),
        ids.1.as_deref(),
    )
    .await
}

/// Drops the terms of deleted memories from the full-text index. A deleted
/// FTS5 entry only gets a tombstone; its terms stay in the index segments
/// until they are merged, so the index is rewritten (and `secure_delete`
/// zeroes the pages that frees). About 0.25 s at 20,000 memories.
pub async fn purge_index(db: &mut Db) -> Result<()> {
    sqlx::query("INSERT INTO memory_index(memory_index) VALUES ('optimize')")
        .execute(db)
        .await?;
    Ok(())
}

/// `local_state` key: the word rules (stop words, stemmer) the full-text
/// index was built with.
const INDEX_RULES_KEY: &str = "memory.index_rules";

/// Whether the full-text index was built with this msp's word rules. A
/// stale index still works; it misses the words the new rules keep.
pub async fn index_is_current(db: &mut Db) -> Result<bool> {
    Ok(crate::store::get_state(db, INDEX_RULES_KEY)
        .await?
        .as_deref()
        == Some(text::index_rules().as_str()))
}

/// Records that the index holds the current word rules (a new store).
pub async fn mark_index_current(db: &mut Db) -> Result<()> {
    crate::store::set_state(db, INDEX_RULES_KEY, &text::index_rules()).await
}

/// Rebuilds the full-text index and the term counts from the stored
/// memories with the current word rules, in one transaction (an
/// interrupted rebuild leaves the old index whole), then records the rules.
/// `progress(done, total)` is called every few hundred memories.
pub async fn reindex(db: &mut Db, progress: &mut dyn FnMut(u64, u64)) -> Result<u64> {
    const BATCH: i64 = 500;
    let total = count(db).await?.max(0) as u64;
    let mut tx = crate::store::begin_write(db).await?;
    sqlx::query("INSERT INTO memory_index(memory_index) VALUES ('delete-all')")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM memory_terms")
        .execute(&mut *tx)
        .await?;
    let (mut after, mut done) = (0i64, 0u64);
    loop {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
            title: String,
            body: String,
            tags: String,
            client_id: Option<String>,
            project_id: Option<String>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, title, body, tags, client_id, project_id FROM memories
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in &rows {
            index_values(
                &mut tx,
                r.seq,
                &r.title,
                &r.body,
                &r.tags,
                r.client_id.as_deref(),
                r.project_id.as_deref(),
            )
            .await?;
        }
        done += rows.len() as u64;
        progress(done, total.max(done));
    }
    crate::store::set_state(&mut tx, INDEX_RULES_KEY, &text::index_rules()).await?;
    tx.commit().await?;
    Ok(done)
}

/// The distinct index terms of a memory, as a JSON array.
fn distinct_terms(parts: &[&str]) -> String {
    let set: std::collections::BTreeSet<&str> = parts
        .iter()
        .flat_map(|p| p.split(' '))
        .filter(|t| !t.is_empty())
        .collect();
    serde_json::to_string(&set).unwrap_or_else(|_| "[]".into())
}

/// A stored memory without its excerpt. Its JSON shape is this row with the
/// tags as a list and times in RFC 3339.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize)]
pub struct Memory {
    #[serde(skip)]
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    #[serde(serialize_with = "ser_tags")]
    pub tags: String,
    pub project_id: Option<String>,
    pub client_id: Option<String>,
    pub machine_id: Option<String>,
    pub source_path: Option<String>,
    pub claude_session_id: Option<String>,
    pub importance: i64,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub created_at: Millis,
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub last_used_at: Option<Millis>,
    pub use_count: i64,
    pub raw_tokens: i64,
    pub stored_tokens: i64,
    /// The newer memory that restates this one; recall leaves it out.
    pub superseded_by: Option<String>,
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub superseded_at: Option<Millis>,
    /// Pinned: part of its project's SessionStart briefing.
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub pinned_at: Option<Millis>,
    /// The time of the last edit.
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub updated_at: Option<Millis>,
}

fn ser_tags<S: serde::Serializer>(tags: &str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(tags.split_whitespace())
}

pub const COLUMNS: &str = "m.seq, m.id, m.kind, m.title, m.body, m.tags, m.project_id, m.client_id, m.machine_id,
    m.source_path, m.claude_session_id, m.importance, m.created_at, m.last_used_at, m.use_count, m.raw_tokens, m.stored_tokens,
    m.superseded_by, m.superseded_at, m.pinned_at, m.updated_at";

impl Memory {
    pub fn tag_list(&self) -> Vec<String> {
        self.tags.split_whitespace().map(str::to_string).collect()
    }
}

/// The memories of these seqs (those that exist), in no order.
pub async fn by_seqs(db: &mut Db, seqs: &[i64]) -> Result<Vec<Memory>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let list = seqs
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM memories m WHERE m.seq IN ({list})"
    )))
    .fetch_all(db)
    .await?)
}

/// How far apart two memories of a project may be written and still be
/// steps of the same piece of work.
pub const WORK_WINDOW: Millis = 4 * 3_600_000;

/// Where a memory was written: its project and time.
#[derive(Debug)]
pub struct Place {
    pub seq: i64,
    pub project_id: String,
    pub created_at: Millis,
}

/// Which way from a memory its neighbour in the work is looked for.
#[derive(Debug, Clone, Copy)]
pub enum Way {
    Before,
    After,
}

/// The SQL of a scalar subquery: the seq of the memory written just before
/// or just after the row `at` (an alias of a table with `seq`, `project_id`
/// and `created_at`) in the same project, at most `window` (an SQL
/// expression, in milliseconds) apart, by creation time and then by order
/// of arrival. The one rule for which memories are steps of the same piece
/// of work, for recall's context signal and for reading a memory with the
/// one before it.
pub fn neighbour_sql(way: Way, at: &str, window: &str) -> String {
    let (cmp, lo, hi, dir) = match way {
        Way::Before => (
            "<",
            format!("{at}.created_at - {window}"),
            format!("{at}.created_at"),
            "DESC",
        ),
        Way::After => (
            ">",
            format!("{at}.created_at"),
            format!("{at}.created_at + {window}"),
            "ASC",
        ),
    };
    // One seek in memories_project (project, creation time, then seq as the
    // rowid), which holds all it reads: no memory's row is read.
    format!(
        "(SELECT n.seq FROM memories n
          WHERE n.project_id = {at}.project_id
            AND n.created_at BETWEEN {lo} AND {hi}
            AND (n.created_at {cmp} {at}.created_at OR (n.created_at = {at}.created_at AND n.seq {cmp} {at}.seq))
          ORDER BY n.created_at {dir}, n.seq {dir} LIMIT 1)"
    )
}

/// The memories written just before and just after each of `places` in the
/// same project, at most `window` apart (see [`neighbour_sql`]): the steps
/// around it of the same piece of work. Pairs of the place's seq and its
/// neighbour's.
pub async fn neighbours(db: &mut Db, places: &[Place], window: Millis) -> Result<Vec<(i64, i64)>> {
    if places.is_empty() {
        return Ok(Vec::new());
    }
    let values = vec!["(?, ?, ?)"; places.len()].join(", ");
    let window = window.to_string();
    let sql = format!(
        "WITH s(seq, project_id, created_at) AS (VALUES {values})
         SELECT s.seq, {} AS before, {} AS after FROM s",
        neighbour_sql(Way::Before, "s", &window),
        neighbour_sql(Way::After, "s", &window),
    );
    let mut query = sqlx::query_as::<_, (i64, Option<i64>, Option<i64>)>(sqlx::AssertSqlSafe(sql));
    for p in places {
        query = query.bind(p.seq).bind(&p.project_id).bind(p.created_at);
    }
    let rows = query.fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .flat_map(|(at, before, after)| [before, after].into_iter().flatten().map(move |n| (at, n)))
        .collect())
}

/// A memory by its id, or by the start or end (6 characters or more) of
/// its id, as tasks and sessions are found: the tables print the end, and
/// `--json` gives the whole id, whose start a technician may copy.
pub async fn get(db: &mut Db, key: &str) -> Result<Memory> {
    let rows: Vec<Memory> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM memories m WHERE {} LIMIT 2",
        crate::ids::key_match_sql("m.id")
    )))
    .bind(key.trim())
    .fetch_all(db)
    .await?;
    match <[Memory; 1]>::try_from(rows) {
        Ok([m]) => Ok(m),
        Err(rows) if rows.is_empty() => Err(Error::not_found(
            "memory",
            key,
            "`msp context list` shows memory ids",
        )),
        Err(_) => Err(
            Error::usage(format!("{key:?} matches more than one memory"))
                .with_hint("give the full id"),
        ),
    }
}

/// The zstd-compressed, redacted excerpt of a memory's source, decompressed.
pub async fn excerpt(db: &mut Db, id: &str) -> Result<Option<String>> {
    let blob: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT excerpt FROM memories WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?;
    match blob.flatten() {
        None => Ok(None),
        Some(b) => {
            let raw = zstd::decode_all(b.as_slice())
                .map_err(|e| Error::Other(format!("excerpt of {id} is damaged: {e}")))?;
            Ok(Some(String::from_utf8_lossy(&raw).into_owned()))
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub project_id: Option<String>,
    pub client_id: Option<String>,
    pub kind: Option<String>,
    pub limit: i64,
    /// Leaves out superseded memories.
    pub current_only: bool,
    /// Only pinned memories.
    pub pinned_only: bool,
    /// Created at or after / before these times.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
}

/// The newest memories captured from Claude sessions, newest first.
pub async fn captured(db: &mut Db, limit: i64) -> Result<Vec<Memory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM memories m WHERE m.claude_session_id IS NOT NULL
         ORDER BY m.created_at DESC, m.seq DESC LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn list(db: &mut Db, f: &ListFilter) -> Result<Vec<Memory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM memories m WHERE (?1 IS NULL OR m.project_id = ?1) AND (?2 IS NULL OR m.client_id = ?2)
         AND (?3 IS NULL OR m.kind = ?3) AND (NOT ?5 OR m.superseded_by IS NULL)
         AND (NOT ?6 OR m.pinned_at IS NOT NULL) AND (?7 IS NULL OR m.created_at >= ?7)
         AND (?8 IS NULL OR m.created_at < ?8) ORDER BY m.created_at DESC, m.seq DESC LIMIT ?4"
    )))
    .bind(&f.project_id)
    .bind(&f.client_id)
    .bind(&f.kind)
    .bind(if f.limit > 0 { f.limit } else { -1 })
    .bind(f.current_only)
    .bind(f.pinned_only)
    .bind(f.from)
    .bind(f.to)
    .fetch_all(db)
    .await?)
}

/// Memories made on `machine_id` between `from` and `to` (inclusive) for
/// a project, or without one for a client, oldest first: what a work
/// session produced. Project states are left out (they describe, not record).
pub async fn made_during(
    db: &mut Db,
    machine_id: &str,
    from: Millis,
    to: Millis,
    project_id: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<Memory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM memories m WHERE m.created_at >= ?1 AND m.created_at <= ?2 AND m.machine_id = ?3
         AND (CASE WHEN ?4 IS NOT NULL THEN m.project_id = ?4 WHEN ?5 IS NOT NULL THEN m.client_id = ?5 ELSE 1 END)
         AND m.kind <> 'project_state' ORDER BY m.created_at, m.seq LIMIT 100"
    )))
    .bind(from)
    .bind(to)
    .bind(machine_id)
    .bind(project_id)
    .bind(client_id)
    .fetch_all(db)
    .await?)
}

/// The id of the tombstone of a source key: the same on every machine.
pub fn tombstone_id(source_key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(source_key.as_bytes()))
}

/// Deletes a memory (its excerpt with it) and its index entry; a captured
/// memory leaves a tombstone of its source, so importing the same
/// transcript or JSONL again, here or on a machine it syncs with, does not
/// bring it back. The memories it superseded are current again (a forgotten
/// correction must not hide what it corrected): their ids are returned.
pub async fn forget(db: &mut Db, id: &str) -> Result<Vec<String>> {
    let mut tx = store::begin_write(db).await?;
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT seq, source_key FROM memories WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (seq, source_key) =
        row.ok_or_else(|| Error::not_found("memory", id, "`msp context list` shows memory ids"))?;
    if let Some(key) = source_key {
        sqlx::query(
            "INSERT INTO memory_tombstones (id, source_key, forgotten_at) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(tombstone_id(&key))
        .bind(&key)
        .bind(crate::time::now_ms())
        .execute(&mut *tx)
        .await?;
    }
    let restored: Vec<String> = sqlx::query_scalar(
        "UPDATE memories SET superseded_by = NULL, superseded_at = NULL WHERE superseded_by = ? RETURNING id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    unindex(&mut tx, seq).await?;
    sqlx::query("DELETE FROM memories WHERE seq = ?")
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    purge_index(&mut tx).await?;
    tx.commit().await?;
    // Nor in the WAL: best effort, a concurrent reader may hold it.
    let _ = store::checkpoint_truncate(db).await;
    Ok(restored)
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Stats {
    pub memories: i64,
    pub raw_tokens: i64,
    pub stored_tokens: i64,
}

pub async fn stats(db: &mut Db) -> Result<Stats> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS memories, COALESCE(sum(raw_tokens), 0) AS raw_tokens, COALESCE(sum(stored_tokens), 0) AS stored_tokens FROM memories",
    )
    .fetch_one(db)
    .await?)
}

/// Per-memory reduction ratios of captured memories (raw > 0), for a median.
pub async fn reductions(db: &mut Db) -> Result<Vec<f64>> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT raw_tokens, stored_tokens FROM memories WHERE raw_tokens > 0")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(r, s)| 1.0 - s as f64 / r as f64)
        .collect())
}

/// Counts the tokens of memories the save hook could only estimate: stored
/// tokens exactly, raw tokens on the redacted excerpt scaled to the full size
/// of the captured text. Returns how many memories were counted.
pub async fn recount_estimated(db: &mut Db) -> Result<u64> {
    type Row = (i64, String, String, i64, Option<Vec<u8>>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, title, body, raw_bytes, excerpt FROM memories WHERE tokens_exact = 0 ORDER BY seq LIMIT 10000",
    )
    .fetch_all(&mut *db)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = store::begin_write(db).await?;
    for (seq, title, body, raw_bytes, excerpt) in &rows {
        let stored = super::tokens::count(&format!("{title}\n{body}")) as i64;
        let raw = match excerpt.as_deref().and_then(|b| zstd::decode_all(b).ok()) {
            Some(text) if !text.is_empty() => {
                let text = String::from_utf8_lossy(&text);
                let counted = super::tokens::count(&text) as f64;
                (counted * (*raw_bytes).max(text.len() as i64) as f64 / text.len() as f64).round()
                    as i64
            }
            _ => super::tokens::estimate_bytes(*raw_bytes as u64) as i64,
        };
        sqlx::query(
            "UPDATE memories SET stored_tokens = ?, raw_tokens = ?, tokens_exact = 1 WHERE seq = ?",
        )
        .bind(stored)
        .bind(raw)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// Raw and stored tokens summed over captured memories (those with a source).
pub async fn captured_totals(db: &mut Db) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COALESCE(sum(raw_tokens), 0), COALESCE(sum(stored_tokens), 0) FROM memories WHERE raw_tokens > 0",
    )
    .fetch_one(db)
    .await?)
}

/// Documents in the index holding each term (for choosing selective terms);
/// terms the index does not hold are left out.
/// The document frequency of each of `terms` found in the index, and the
/// approximate size of the store (max rowid: O(1), no count), in one
/// statement: this runs before every prompt.
pub async fn doc_frequencies(db: &mut Db, terms: &[String]) -> Result<(i64, Vec<(String, i64)>)> {
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT NULL, COALESCE(max(seq), 0) FROM memories
         UNION ALL
         SELECT term, docs FROM memory_terms WHERE term IN (SELECT value FROM json_each(?))",
    )
    .bind(serde_json::to_string(terms).unwrap_or_default())
    .fetch_all(db)
    .await?;
    let mut size = 0;
    let mut dfs = Vec::with_capacity(rows.len());
    for (term, n) in rows {
        match term {
            Some(t) => dfs.push((t, n)),
            None => size = n,
        }
    }
    Ok((size, dfs))
}

/// The highest memory seq (0 for none): memories stored later have a
/// higher one.
pub async fn max_seq(db: &mut Db) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(max(seq), 0) FROM memories")
            .fetch_one(db)
            .await?,
    )
}

pub async fn count(db: &mut Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM memories")
        .fetch_one(db)
        .await?)
}

pub async fn capture_offset(db: &mut Db, transcript: &str) -> Result<u64> {
    let off: Option<i64> =
        sqlx::query_scalar("SELECT byte_offset FROM capture_offsets WHERE transcript_path = ?")
            .bind(transcript)
            .fetch_optional(db)
            .await?;
    Ok(off.unwrap_or(0).max(0) as u64)
}

/// Forgets a transcript's capture offset: the file shrank (replaced or
/// truncated), so the offset no longer points into it and must be allowed
/// to move back.
pub async fn reset_capture_offset(db: &mut Db, transcript: &str) -> Result<()> {
    sqlx::query("DELETE FROM capture_offsets WHERE transcript_path = ?")
        .bind(transcript)
        .execute(db)
        .await?;
    Ok(())
}

/// Moves a transcript's capture offset forward (never back).
pub async fn set_capture_offset(
    db: &mut Db,
    transcript: &str,
    offset: u64,
    session: Option<&str>,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO capture_offsets (transcript_path, byte_offset, claude_session_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(transcript_path) DO UPDATE SET byte_offset = max(byte_offset, excluded.byte_offset),
         claude_session_id = COALESCE(excluded.claude_session_id, claude_session_id), updated_at = excluded.updated_at",
    )
    .bind(transcript)
    .bind(offset as i64)
    .bind(session)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
