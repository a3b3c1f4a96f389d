//! Capture: transcript turns and hand-written notes become stored memories,
//! redacted, tagged, counted and scoped. Deterministic; no network.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::engine::Engine;
use super::store::{self as mstore, NewMemory, Source};
use super::text::token_cut_back;
use super::{compress, tags, transcript};
use crate::error::{Error, Result};
use crate::store::Db;
use crate::time::{DayEdge, Millis, parse_time};
use crate::work::{Scope, clients, projects};

/// Most bytes of a turn's source kept (redacted, compressed) as its excerpt.
const EXCERPT_BYTES: usize = 64 * 1024;
/// Turns stored per write transaction: a long backlog costs few commits and
/// keeps its progress (the offset moves with each) if the run is cut short,
/// while other writers wait only briefly.
const TURNS_PER_COMMIT: usize = 200;
/// Longest line of a JSONL notes file; a longer one is skipped.
const MAX_NOTE_LINE: usize = 4 << 20;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub turns: u64,
    pub memories_added: u64,
    pub duplicates: u64,
    /// Memories of turns stored early, completed with the lines written
    /// since (see [`super::store::complete_in`]).
    pub completed: u64,
    pub skipped_lines: u64,
    pub raw_tokens: u64,
    pub stored_tokens: u64,
    /// Older memories superseded by those added (see `lifecycle`).
    pub superseded: u64,
    /// Memories stored from a "remember:" prompt.
    pub remembered: u64,
    /// Older backlog bytes left unread by [`CaptureOptions::max_backlog`].
    #[serde(skip)]
    pub backlog_skipped: u64,
    /// The run stopped at [`CaptureOptions::deadline`] with more left to read.
    #[serde(skip)]
    pub cut_short: bool,
}

impl Summary {
    pub fn add(&mut self, o: &Summary) {
        self.files += o.files;
        self.bytes += o.bytes;
        self.turns += o.turns;
        self.memories_added += o.memories_added;
        self.duplicates += o.duplicates;
        self.completed += o.completed;
        self.skipped_lines += o.skipped_lines;
        self.raw_tokens += o.raw_tokens;
        self.stored_tokens += o.stored_tokens;
        self.backlog_skipped += o.backlog_skipped;
        self.superseded += o.superseded;
        self.remembered += o.remembered;
        self.cut_short |= o.cut_short;
    }
}

/// Redacts, tags, counts and stores one memory.
pub struct Prepared {
    pub memory: NewMemory,
}

/// Tags from the text plus the names of the memory's client and project.
/// A given tag that holds a secret is dropped (a placeholder is no tag).
pub(crate) async fn tags_for(
    db: &mut Db,
    engine: &Engine,
    text: &str,
    extra: &[String],
    target: &Scope,
) -> Result<Vec<String>> {
    let mut out = hand_tags(engine, extra);
    out.extend(scope_names(db, target).await?);
    Ok(with_text_tags(out, text))
}

/// Tags given by hand as they are kept: slugs, none holding a secret.
pub(crate) fn hand_tags(engine: &Engine, given: &[String]) -> Vec<String> {
    let clean = |t: &str| engine.redactor().redact(t).count == 0;
    let mut seen = std::collections::HashSet::new();
    given
        .iter()
        .filter(|t| clean(t))
        .map(|t| crate::work::slugify(t))
        .filter(|t| !t.is_empty() && clean(t) && seen.insert(t.clone()))
        .collect()
}

/// The tags a memory gets from its text and scope alone (not given by hand).
pub(crate) async fn derived_tags(db: &mut Db, text: &str, target: &Scope) -> Result<Vec<String>> {
    Ok(with_text_tags(scope_names(db, target).await?, text))
}

/// The slugs of a target's project and client, which tag its memories.
async fn scope_names(db: &mut Db, target: &Scope) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(pid) = &target.project_id
        && let Some(p) = projects::by_id(db, pid).await?
    {
        out.push(p.slug);
    }
    if let Some(cid) = &target.client_id
        && let Some(c) = clients::by_id(db, cid).await?
    {
        out.push(c.slug);
    }
    Ok(out)
}

fn with_text_tags(mut out: Vec<String>, text: &str) -> Vec<String> {
    out.extend(tags::extract_tags(text, 12).into_iter().map(str::to_string));
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    out
}

/// What one capture reuses from turn to turn: scopes by working directory,
/// with their tag names (a long transcript asks the store once per
/// directory), and the excerpt compressor.
#[derive(Default)]
struct CaptureCache {
    scopes: HashMap<Option<String>, (Scope, Vec<String>)>,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl CaptureCache {
    fn compress(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        if self.zstd.is_none() {
            self.zstd = zstd::bulk::Compressor::new(3).ok();
        }
        self.zstd.as_mut()?.compress(data).ok()
    }
}

/// Where a turn's memory belongs: the scope the caller gave, else that of
/// the turn's working directory on this machine.
async fn scope_of(
    db: &mut Db,
    cwd: Option<&str>,
    machine_id: Option<&str>,
    given: &Scope,
) -> Result<Scope> {
    if given.project_id.is_some() || given.client_id.is_some() {
        return Ok(given.clone());
    }
    let Some(cwd) = cwd else {
        return Ok(Scope::default());
    };
    let dir = Path::new(cwd);
    Ok(projects::scope_of_dir(db, dir, machine_id.unwrap_or(""))
        .await?
        .0)
}

/// A note written by hand or imported from JSONL.
pub struct Note {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub kind: String,
    pub importance: i64,
    pub created_at: Millis,
    pub target: Scope,
    pub machine_id: Option<String>,
    pub source_key: Option<String>,
}

/// Stores a note, redacted. Returns the new id, or `None` for a duplicate.
pub async fn add_note(db: &mut Db, engine: &Engine, note: Note) -> Result<Option<String>> {
    mstore::check_kind(&note.kind)?;
    if !(1..=10).contains(&note.importance) {
        return Err(Error::usage("--importance must be between 1 and 10"));
    }
    let r = engine.redactor();
    let title = r.redact(note.title.trim()).text;
    let body = r.redact(note.body.trim()).text;
    if title.is_empty() && body.is_empty() {
        return Err(Error::usage("a memory needs a title or a body")
            .with_hint("give --title (and --body for the details), or use `msp remember TEXT`"));
    }
    let tags = tags_for(
        db,
        engine,
        &format!("{title}\n{body}"),
        &note.tags,
        &note.target,
    )
    .await?;
    let stored = engine.tokens().count(&format!("{title}\n{body}")) as i64;
    let memory = NewMemory {
        kind: note.kind,
        title,
        body,
        tags,
        hand_tags: hand_tags(engine, &note.tags),
        project_id: note.target.project_id,
        client_id: note.target.client_id,
        machine_id: note.machine_id,
        source: note.source_key.map(|key| Source {
            key,
            ..Default::default()
        }),
        importance: note.importance,
        created_at: note.created_at,
        raw_tokens: 0,
        stored_tokens: stored,
        raw_bytes: 0,
        tokens_exact: engine.tokens().is_exact(),
        excerpt: None,
    };
    mstore::insert(db, &memory).await
}

/// How to capture a transcript.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    /// Byte offset to read from; `None` for where the last capture stopped.
    pub start: Option<u64>,
    pub target: Scope,
    pub machine_id: Option<String>,
    pub now: Millis,
    /// The hook's copy of the final answer, for when the transcript lags.
    pub last_assistant_message: Option<String>,
    /// Read at most this many of the newest bytes past the offset; older
    /// backlog is skipped (the offset moves past it). `None`: read it all.
    pub max_backlog: Option<u64>,
    /// Stop reading and storing here; what was stored keeps its offset, and
    /// the next run goes on from there.
    pub deadline: Option<std::time::Instant>,
}

/// Captures a Claude Code transcript, one memory per turn, and moves the
/// remembered offset forward. A transcript that shrank (replaced or
/// truncated) is read again from the start; duplicates are skipped by key.
pub async fn capture_transcript(
    db: &mut Db,
    engine: &Engine,
    path: &Path,
    opts: &CaptureOptions,
) -> Result<Summary> {
    let key = path.to_string_lossy().into_owned();
    // The length seen now bounds the read: lines appended meanwhile wait for
    // the next run.
    let (mut file, len) = crate::files::open_regular(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut start = match opts.start {
        Some(s) => s,
        None => mstore::capture_offset(db, &key).await?,
    };
    if start > len {
        // The offset only moves forward; past the end of a shrunk file it
        // would skip (or cut into) whatever is written there next.
        if opts.start.is_none() {
            mstore::reset_capture_offset(db, &key).await?;
        }
        start = 0;
    }
    if start == len && opts.last_assistant_message.is_none() {
        return Ok(Summary {
            files: 1,
            ..Default::default()
        });
    }
    let mut backlog_skipped = 0;
    if let Some(max) = opts.max_backlog
        && len - start > max
    {
        // Only the newest part, from a line start; the rest is left to
        // `msp context import`.
        let from = transcript::next_line_start(&mut file, len - max, len)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        backlog_skipped = from - start;
        start = from;
    }
    // Reading gets half the time left, so that what it read can be stored:
    // a read that took all of it would leave time for one turn per run.
    let read_deadline = opts.deadline.map(|d| {
        let now = std::time::Instant::now();
        now + d.saturating_duration_since(now) / 2
    });
    let mut outcome =
        transcript::read_turns_bounded(file, start, len, read_deadline, Some(engine.redactor()))
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let cut_short =
        outcome.end_offset < len && read_deadline.is_some_and(|d| std::time::Instant::now() >= d);
    // Past everything read; but a turn completed from the hook's copy of the
    // answer is read again next time, so that the answer's own line, written
    // late, joins it (a known key: nothing added) instead of becoming a turn
    // of its own that repeats it.
    let mut next_offset = outcome.end_offset;
    // Not when the read was cut short: its last turn is not the latest.
    if !cut_short
        && let (Some(msg), Some(last)) = (&opts.last_assistant_message, outcome.turns.last_mut())
    {
        let msg = transcript::strip_injected(msg);
        // Capped as the reader caps the assistant text it keeps.
        // Redacted before it is capped, like every string the reader takes.
        let msg = engine.redactor().redact(msg.trim()).text;
        let msg = transcript::cap_middle(&msg, transcript::RAW_PIECE_CAP).into_owned();
        if !msg.is_empty() && !last.assistant_text.iter().any(|t| t.contains(&msg)) {
            last.raw_text.push_str(&msg);
            last.assistant_text.push(msg);
            next_offset = last.start_offset;
        }
    }
    let mut summary = Summary {
        files: 1,
        bytes: outcome.end_offset.saturating_sub(start),
        skipped_lines: outcome.skipped_lines as u64,
        backlog_skipped,
        ..Default::default()
    };
    let mut session = None;
    let mut cache = CaptureCache::default();
    let mut chunks = outcome.turns.chunks(TURNS_PER_COMMIT).peekable();
    if chunks.peek().is_none() {
        mstore::set_capture_offset(db, &key, next_offset, None, opts.now).await?;
    }
    let mut done = start;
    let mut stopped = false;
    let mut remembered = Vec::new();
    while let Some(chunk) = chunks.next() {
        let mut prepared = Vec::with_capacity(chunk.len());
        let mut offset = None;
        for turn in chunk {
            // Past the deadline the turns stored so far commit, and the
            // offset stops before the first one left (at least one is taken,
            // so every run moves on).
            if done > start
                && opts
                    .deadline
                    .is_some_and(|d| std::time::Instant::now() >= d)
            {
                offset = Some(done);
                stopped = true;
                break;
            }
            summary.turns += 1;
            session = turn.session_id.clone().or(session);
            if let Some(p) = prepare(db, engine, turn, &key, opts, &mut cache).await? {
                prepared.push(p);
            }
            done = turn.end_offset;
        }
        let offset = match (offset, chunks.peek()) {
            (Some(o), _) => o,
            (None, Some(_)) => chunk.last().map_or(start, |t| t.end_offset),
            (None, None) => next_offset,
        };
        let mut tx = crate::store::begin_write(db).await?;
        for p in &prepared {
            match mstore::insert_in(&mut tx, &p.memory).await? {
                Some(id) => {
                    if p.memory.kind == "fact" {
                        remembered.push(id);
                    }
                    summary.memories_added += 1;
                    summary.raw_tokens += p.memory.raw_tokens as u64;
                    summary.stored_tokens += p.memory.stored_tokens as u64;
                }
                // A turn stored before all of its lines were written (the
                // hook's copy of the answer stood in for them) now holds more.
                None if mstore::complete_in(&mut tx, &p.memory).await? => summary.completed += 1,
                None => summary.duplicates += 1,
            }
        }
        mstore::set_capture_offset(&mut tx, &key, offset, session.as_deref(), opts.now).await?;
        tx.commit().await?;
        if stopped {
            break;
        }
    }
    // What a "remember:" stored retires what it restates.
    for id in &remembered {
        summary.remembered += 1;
        summary.superseded += super::lifecycle::supersede_restated(db, id, opts.now)
            .await?
            .len() as u64;
    }
    summary.cut_short = cut_short || stopped;
    Ok(summary)
}

/// Turns one transcript turn into a memory ready to insert, or `None` when
/// the turn holds nothing worth remembering.
pub async fn prepare_turn(
    db: &mut Db,
    engine: &Engine,
    turn: &transcript::Turn,
    path: &str,
    opts: &CaptureOptions,
) -> Result<Option<Prepared>> {
    prepare(db, engine, turn, path, opts, &mut CaptureCache::default()).await
}

async fn prepare(
    db: &mut Db,
    engine: &Engine,
    turn: &transcript::Turn,
    path: &str,
    opts: &CaptureOptions,
    cache: &mut CaptureCache,
) -> Result<Option<Prepared>> {
    let r = engine.redactor();
    // "remember: …" stores what follows as an important fact, not the turn.
    let remembered = super::lifecycle::remember_request(&turn.prompt);
    let (kind, title, body, importance) = match remembered {
        Some(text) => {
            let (title, body) = super::lifecycle::title_of(text);
            (
                "fact",
                r.redact(&title).text,
                r.redact(&body).text,
                super::lifecycle::REMEMBER_IMPORTANCE,
            )
        }
        None => {
            let Some(draft) = compress::compress(turn) else {
                return Ok(None);
            };
            let importance = 5 + i64::from(!draft.files.is_empty()) + i64::from(draft.errors > 0);
            (
                "session_summary",
                r.redact(&draft.title).text,
                r.redact(&draft.body).text,
                importance,
            )
        }
    };
    let machine_id = opts.machine_id.as_deref();
    let (scope, names) = match cache.scopes.get(&turn.cwd) {
        Some(hit) => hit.clone(),
        None => {
            let scope = scope_of(db, turn.cwd.as_deref(), machine_id, &opts.target).await?;
            let names = scope_names(db, &scope).await?;
            cache
                .scopes
                .insert(turn.cwd.clone(), (scope.clone(), names.clone()));
            (scope, names)
        }
    };
    let tags = with_text_tags(names, &format!("{title}\n{body}"));
    let raw_bytes = turn.raw_text.len() as u64 + turn.raw_overflow_bytes;
    let counter = engine.tokens();
    let stored_tokens = counter.count(&format!("{title}\n{body}"));
    let raw_tokens = counter.count_raw(&turn.raw_text, turn.raw_overflow_bytes);
    let raw = turn.raw_text.as_str();
    let excerpt_src = if raw.len() > EXCERPT_BYTES {
        &raw[..token_cut_back(raw, EXCERPT_BYTES)]
    } else {
        raw
    };
    // The raw text is made of strings the reader redacted already.
    let excerpt = cache.compress(excerpt_src.as_bytes());
    let created_at = turn
        .ended_at
        .as_deref()
        .or(turn.started_at.as_deref())
        .and_then(|t| parse_time(t, opts.now, DayEdge::Start).ok())
        .unwrap_or(opts.now);
    let session = turn.session_id.clone();
    let turn_key = turn
        .first_uuid
        .clone()
        .unwrap_or_else(|| format!("@{}", turn.start_offset));
    let source_key = format!("claude:{}:{turn_key}", session.as_deref().unwrap_or(path));
    Ok(Some(Prepared {
        memory: NewMemory {
            kind: kind.into(),
            title,
            body,
            tags,
            hand_tags: Vec::new(),
            project_id: scope.project_id,
            client_id: scope.client_id,
            machine_id: machine_id.map(str::to_string),
            source: Some(Source {
                key: source_key,
                path: Some(path.to_string()),
                start: Some(turn.start_offset as i64),
                end: Some(turn.end_offset as i64),
                claude_session_id: session,
            }),
            importance: importance.min(10),
            created_at,
            raw_tokens: raw_tokens as i64,
            stored_tokens: stored_tokens as i64,
            raw_bytes: raw_bytes as i64,
            tokens_exact: counter.is_exact(),
            excerpt,
        },
    }))
}

/// One line of the `jsonl` import format (the fields of `msp context add`).
#[derive(Debug, Deserialize)]
struct JsonlNote {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    project: Option<String>,
    client: Option<String>,
    #[serde(default = "default_kind")]
    kind: String,
    #[serde(default = "default_importance")]
    importance: i64,
    created_at: Option<String>,
}

fn default_kind() -> String {
    "note".into()
}

fn default_importance() -> i64 {
    5
}

/// Imports memories from a JSONL file, one object per line. A line that is
/// not valid is reported with its number and skipped; re-importing adds
/// nothing (each line's content is its source key).
pub async fn import_jsonl(
    db: &mut Db,
    engine: &Engine,
    path: &Path,
    target: &Scope,
    machine_id: Option<&str>,
    now: Millis,
) -> Result<(Summary, Vec<String>)> {
    let (file, _) = crate::files::open_regular(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut summary = Summary {
        files: 1,
        ..Default::default()
    };
    let mut problems = Vec::new();
    let mut cache: std::collections::HashMap<(Option<String>, Option<String>), Scope> =
        Default::default();
    let mut input = BufReader::with_capacity(64 << 10, file);
    let mut line = Vec::new();
    for i in 0.. {
        let Some(read) = crate::files::read_line_capped(&mut input, &mut line, MAX_NOTE_LINE)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        else {
            break;
        };
        summary.bytes += read.len;
        if read.overlong {
            // Read through, never held whole.
            summary.skipped_lines += 1;
            problems.push(format!(
                "{}:{}: longer than {} MiB",
                path.display(),
                i + 1,
                MAX_NOTE_LINE >> 20
            ));
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let parsed: JsonlNote = match serde_json::from_str(&text) {
            Ok(n) => n,
            Err(e) => {
                summary.skipped_lines += 1;
                problems.push(format!("{}:{}: {e}", path.display(), i + 1));
                continue;
            }
        };
        let key = (parsed.project.clone(), parsed.client.clone());
        let scope = match cache.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = if key.0.is_none() && key.1.is_none() {
                    target.clone()
                } else {
                    // An unknown or mismatched project/client spoils this line only.
                    match crate::work::sessions::resolve_scope(
                        db,
                        key.1.as_deref(),
                        key.0.as_deref(),
                    )
                    .await
                    {
                        Ok(s) => Scope {
                            project_id: s.project_id,
                            client_id: s.client_id,
                        },
                        Err(e) if matches!(e.kind(), Error::Usage(_) | Error::NotFound(_)) => {
                            summary.skipped_lines += 1;
                            problems.push(format!("{}:{}: {e}", path.display(), i + 1));
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                };
                cache.insert(key, t.clone());
                t
            }
        };
        let created_at = match parsed.created_at.as_deref() {
            Some(t) => match parse_time(t, now, DayEdge::Start) {
                Ok(ms) => ms,
                Err(e) => {
                    summary.skipped_lines += 1;
                    problems.push(format!("{}:{}: created_at: {e}", path.display(), i + 1));
                    continue;
                }
            },
            None => now,
        };
        let note = Note {
            title: parsed.title,
            body: parsed.body,
            tags: parsed.tags,
            kind: parsed.kind,
            importance: parsed.importance,
            created_at,
            target: scope,
            machine_id: machine_id.map(str::to_string),
            source_key: Some(format!("jsonl:{}", hex::encode(Sha256::digest(&line)))),
        };
        match add_note(db, engine, note).await {
            Ok(Some(_)) => summary.memories_added += 1,
            Ok(None) => summary.duplicates += 1,
            Err(e) if matches!(e.kind(), Error::Usage(_) | Error::NotFound(_)) => {
                summary.skipped_lines += 1;
                problems.push(format!("{}:{}: {e}", path.display(), i + 1));
            }
            Err(e) => return Err(e),
        }
        summary.turns += 1;
    }
    Ok((summary, problems))
}
