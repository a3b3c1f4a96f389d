//! Scoring and recall: which memories matter for a prompt, within a budget.
//!
//! A prompt is long and full of common words; OR-ing all of them over a big
//! index is slow. So the query keeps only selective terms: the rarest ones
//! (by document frequency, read from the index) while their posting lists
//! stay under a fixed total, plus the canonical tags the prompt mentions.
//! The candidates' BM25 is then combined with recency, importance, scope,
//! tag overlap and use, each weighted from config.
//!
//! With the sentence encoder installed, the prompt's meaning joins the words:
//! the memories of the scope closest to it by cosine become candidates too,
//! and a memory's text score blends its BM25 (relative to the best match)
//! with its cosine (min-max over the scope), `memory.weight_meaning` of it
//! from meaning. A memory may then be injected for its words (coverage) or
//! for its meaning (cosine at least `memory.min_meaning`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::Serialize;

use super::store::{self, COLUMNS, Memory};
use super::vectors::{self, Closeness, Within};
use super::{lifecycle, rank, tags, text};
use crate::config::MemoryConfig;
use crate::embed::{EmbedError, Encoder};
use crate::error::Result;
use crate::store::Db;
use crate::time::{Millis, local_day};
use crate::work::Scope;

pub const MARKER_START: &str = "<msp-memory>";
pub const MARKER_END: &str = "</msp-memory>";

/// Upper bound on the summed document frequency of the chosen terms: keeps
/// the work of one query bounded whatever the size of the store.
const MAX_POSTINGS: i64 = 3_000;
/// Most terms one query uses.
const MAX_TERMS: usize = 10;
/// Candidates fetched by BM25 before rescoring by words alone.
const CANDIDATES: i64 = 60;
/// The same when meaning is fused with them: more of the memories found by
/// words get their cosine too. (LoCoMo with the encoder: 60 gave R@10 68.7,
/// 300 gives 70.1. The rows are read while the prompt is embedded, so the
/// hook is not slower; by words alone they would add to its time.)
const FUSED_CANDIDATES: i64 = 300;
/// BM25's first matches whose meaning tells how far to trust it.
const AGREEMENT_MATCHES: usize = 3;
/// BM25's first matches among which a ticket's repeats are counted.
const REPEAT_WINDOW: usize = 40;
/// Candidates added by meaning: the memories closest to the prompt.
const MEANING_CANDIDATES: usize = 30;
/// How many of the best matches by text lend their score to the memories
/// written next to them.
const CONTEXT_SOURCES: usize = 10;
/// Candidates folding looks through for distinct ones (the hook considers
/// 20 for injection).
const FOLD_WINDOW: usize = 40;
/// Ranked memories recall considers for injection (a budget of 800 tokens
/// holds about six).
const RECALL_CANDIDATES: usize = 20;
/// Hard cap on injected text, far below Claude Code's 10,000-character limit.
const MAX_CHARS: usize = 7_000;
/// Tokens of the block's header and footer lines.
const FRAME_TOKENS: u32 = 16;
/// Tokens of one entry's date/scope prefix and bullet.
const ENTRY_OVERHEAD_TOKENS: u32 = 14;

/// Hard filters for `msp context search`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub project_id: Option<String>,
    pub client_id: Option<String>,
    pub kind: Option<String>,
    /// Only memories that belong to no client.
    pub no_client: bool,
    /// Leaves out superseded memories (recall does; search shows them).
    pub current_only: bool,
    /// Not a filter: the scope whose memories rank first when the search
    /// itself has none (`msp context search` run in a project's directory
    /// still finds every client's memories, its own project's first).
    pub prefer: Option<Scope>,
    /// Not a filter: each memory that nearly repeats one ranked above it
    /// (`memory.fold_similar`) is folded into that one instead of taking a
    /// place of its own. What is shown folds; what looks for restated
    /// facts must not.
    pub fold_similar: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    #[serde(skip)]
    pub memory: Memory,
    pub id: String,
    pub title: String,
    pub score: f64,
    pub text: f64,
    pub recency: f64,
    pub scope: f64,
    pub tag_overlap: f64,
    /// Share of the query's selective terms (idf-weighted) the memory holds.
    pub coverage: f64,
    /// Cosine of the prompt's and the memory's embeddings (0 without them).
    pub meaning: f64,
    /// Whether `meaning` was measured (the memory has a vector).
    #[serde(skip)]
    pub meaning_known: bool,
    /// How crowded the memory's neighbourhood is in meaning (the mean
    /// cosine of its closest among a sample of the store; 0 when not
    /// measured): a share of it is taken off `meaning` for ranking.
    pub crowding: f64,
    /// What each signal added to `score` (weight times value; they sum to it).
    pub shares: Shares,
    /// Ids of the lower-ranked memories folded into this one: they nearly
    /// repeat it (twenty "Password reset for …" tickets are one result).
    pub similar: Vec<String>,
}

/// The terms of a memory's score, one per signal: `msp context search
/// --explain` shows them.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Shares {
    /// BM25 relative to the best match, weighted.
    pub words: f64,
    /// Cosine min-maxed over the scope, weighted.
    pub meaning: f64,
    pub recency: f64,
    pub importance: f64,
    pub scope: f64,
    pub tags: f64,
    #[serde(rename = "use")]
    pub use_count: f64,
    /// The best text score of the steps written next to it, weighted.
    pub context: f64,
}

impl Shares {
    /// The signals in display order, named as in `--json`.
    pub fn named(&self) -> [(&'static str, f64); 8] {
        [
            ("words", self.words),
            ("meaning", self.meaning),
            ("recency", self.recency),
            ("importance", self.importance),
            ("scope", self.scope),
            ("tags", self.tags),
            ("use", self.use_count),
            ("context", self.context),
        ]
    }
}

/// What a prompt means: its embedding, and the encoder that made it (only
/// vectors of the same encoder are compared with it). It is worked out on a
/// thread of its own while the store is read: recall waits for the
/// encoder's name when it starts reading the memories' vectors, and for the
/// embedding only when it scores them.
#[derive(Debug)]
pub struct Meaning {
    model: Option<String>,
    vector: Option<Vec<f32>>,
    failure: Option<EmbedError>,
    pending: Option<Pending>,
}

/// The thread working out a prompt's meaning: it sends the encoder's name
/// as soon as the file is open, then returns the embedding.
#[derive(Debug)]
struct Pending {
    opened: mpsc::Receiver<String>,
    thread: JoinHandle<std::result::Result<Option<Vec<f32>>, EmbedError>>,
}

impl Meaning {
    /// Starts working out the prompt's meaning from at most `max_tokens` of
    /// its tokens (see [`Encoder::embed_ends`]) by the encoder installed in
    /// `data_dir`: of its prose lines when it also holds pasted material
    /// ([`super::prompt::own_lines`]).
    /// `None`: no encoder is installed, or it may read no word (no thread is
    /// started: recall by words pays nothing for the encoder).
    /// An encoder that is installed but cannot be used (a damaged file)
    /// shows in [`Meaning::failure`] once recall has asked for it; recall
    /// then goes by words, and the caller says why.
    pub fn start(data_dir: &Path, prompt: &str, max_tokens: u32) -> Option<Meaning> {
        let path = crate::embed::install::model_path(data_dir);
        // [CLS] and [SEP] take two: fewer than three reads no word.
        if max_tokens < 3 || !path.exists() {
            return None;
        }
        let prompt = prompt.to_owned();
        let (name, opened) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let encoder = match Encoder::open(&path) {
                Ok(e) => e,
                // Removed meanwhile: by words, as without an encoder.
                Err(EmbedError::Io(_, e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let _ = name.send(encoder.id());
            encoder
                .embed_ends(&super::prompt::own_lines(&prompt), max_tokens as usize)
                .map(Some)
        });
        Some(Meaning {
            model: None,
            vector: None,
            failure: None,
            pending: Some(Pending { opened, thread }),
        })
    }

    /// The encoder's name, once its file is open; `None` when it cannot be
    /// used.
    pub fn model(&mut self) -> Option<&str> {
        if self.model.is_none()
            && let Some(p) = &self.pending
        {
            match p.opened.recv() {
                Ok(name) => self.model = Some(name),
                // The thread ended without opening the encoder: it says why.
                Err(_) => self.settle(),
            }
        }
        self.model.as_deref()
    }

    /// The prompt's embedding, once it is worked out; `None` when it could
    /// not be.
    pub fn vector(&mut self) -> Option<&[f32]> {
        self.settle();
        self.vector.as_deref()
    }

    fn settle(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        match p.thread.join() {
            Ok(Ok(v)) => self.vector = v,
            Ok(Err(e)) => self.failure = Some(e),
            Err(_) => self.failure = Some(EmbedError::Stopped),
        }
        if self.vector.is_none() {
            self.model = None;
        }
    }

    /// Why the prompt has no meaning although an encoder is installed
    /// (known once recall has asked for it).
    pub fn failure(&self) -> Option<&EmbedError> {
        self.failure.as_ref()
    }

    /// Why the prompt has no meaning, waiting for the encoder if recall
    /// never asked for it (a steering prompt, an empty scope): for commands,
    /// which report a damaged encoder whatever the prompt; the hook does not
    /// wait and uses [`Meaning::failure`].
    pub fn into_failure(mut self) -> Option<EmbedError> {
        self.settle();
        self.failure
    }
}

/// A prompt turned into an index query.
#[derive(Debug, Clone)]
pub struct Query {
    pub terms: Vec<(String, f64)>,
    pub tags: Vec<String>,
}

impl Query {
    /// The FTS5 expression: any selective term or tag, within the scope.
    fn match_expr(&self, scope: &Scope, filter: &Filter) -> Option<String> {
        let parts: Vec<String> = self.terms.iter().map(|(t, _)| format!("\"{t}\"")).collect();
        if parts.is_empty() {
            return None;
        }
        let mut expr = format!("{{title body tags}} : ({})", parts.join(" OR "));
        // Another client's memories never reach a prompt in this client's work.
        if let Some(c) = &scope.client_id {
            expr.push_str(&format!(" AND scope : (g OR {})", text::client_token(c)));
        }
        if let Some(p) = &filter.project_id {
            expr.push_str(&format!(" AND scope : {}", text::project_token(p)));
        }
        if let Some(c) = &filter.client_id {
            expr.push_str(&format!(" AND scope : {}", text::client_token(c)));
        }
        if filter.no_client {
            expr.push_str(" AND scope : g");
        }
        Some(expr)
    }
}

/// A prompt tokenised once: its query terms and the tags it mentions.
#[derive(Debug, Clone, Default)]
pub struct Analysed {
    pub terms: Vec<String>,
    pub tags: Vec<String>,
}

impl Analysed {
    pub fn of(prompt: &str) -> Analysed {
        Analysed {
            terms: text::query_terms(prompt),
            tags: tags::extract_tags(prompt, 8)
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Builds the selective query for `prompt`: its terms and the tags it
/// mentions, rarest first, while their summed document frequency stays
/// under [`MAX_POSTINGS`] (the rarest one is always kept).
pub async fn build_query(db: &mut Db, prompt: &Analysed) -> Result<Query> {
    let prompt_tags = prompt.tags.clone();
    let mut candidates = prompt.terms.clone();
    for t in &prompt_tags {
        let tok = text::tag_token(t);
        if !candidates.contains(&tok) {
            candidates.push(tok);
        }
    }
    let (n, mut dfs) = store::doc_frequencies(db, &candidates).await?;
    dfs.retain(|(_, df)| *df > 0);
    dfs.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut chosen = Vec::new();
    let mut postings = 0;
    for (term, df) in dfs {
        if chosen.len() >= MAX_TERMS || (!chosen.is_empty() && postings + df > MAX_POSTINGS) {
            break;
        }
        postings += df;
        let idf = ((n as f64 - df as f64 + 0.5) / (df as f64 + 0.5) + 1.0).ln();
        chosen.push((term, idf));
    }
    Ok(Query {
        terms: chosen,
        tags: prompt_tags,
    })
}

/// Ranks memories for `prompt`. Memories of another client than `scope`'s
/// are never returned when the scope has a client.
#[allow(clippy::too_many_arguments)]
pub async fn search(
    db: &mut Db,
    cfg: &MemoryConfig,
    prompt: &str,
    scope: &Scope,
    filter: &Filter,
    now: Millis,
    limit: usize,
    exclude: &HashSet<String>,
    meaning: Option<&mut Meaning>,
) -> Result<(Query, Vec<Scored>)> {
    let prompt = Analysed::of(prompt);
    search_analysed(
        db, cfg, &prompt, scope, filter, now, limit, exclude, meaning,
    )
    .await
}

/// [`search`] for a prompt already tokenised.
#[allow(clippy::too_many_arguments)]
async fn search_analysed(
    db: &mut Db,
    cfg: &MemoryConfig,
    prompt: &Analysed,
    scope: &Scope,
    filter: &Filter,
    now: Millis,
    limit: usize,
    exclude: &HashSet<String>,
    meaning: Option<&mut Meaning>,
) -> Result<(Query, Vec<Scored>)> {
    let query = build_query(db, prompt).await?;
    let expr = query.match_expr(scope, filter);
    if expr.is_none() && meaning.is_none() {
        return Ok((query, vec![]));
    }
    let weights: Vec<f64> = query.terms.iter().map(|(_, w)| *w).collect();
    let mut rows: Vec<(Memory, f64)> = match &expr {
        Some(expr) => {
            let limit = if meaning.is_some() {
                FUSED_CANDIDATES
            } else {
                CANDIDATES
            };
            fetch_candidates(db, expr, &weights, filter, limit).await?
        }
        None => Vec::new(),
    };
    // Meaning: the cosine of every embedded memory of the scope; the
    // closest join the candidates (with no BM25 of their own).
    let mut cosines: HashMap<i64, Closeness> = HashMap::new();
    // Every embedded memory of the scope, for the neighbours found later.
    let mut scope_cosines: Vec<(i64, Closeness)> = Vec::new();
    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
    let (mut plain_lo, mut plain_hi) = (f32::MAX, f32::MIN);
    if let Some(m) = meaning
        && let Some(model) = m.model().map(str::to_owned)
    {
        let within = Within {
            client_or_global: scope.client_id.as_deref(),
            project: filter.project_id.as_deref(),
            client: filter.client_id.as_deref(),
            no_client: filter.no_client,
            kind: filter.kind.as_deref(),
        };
        // The embedding is waited for only once the scope's vectors are read.
        let query = || m.vector().map(<[f32]>::to_vec);
        let mut sims =
            vectors::similarities(db, &model, within, cfg.weight_crowding as f32, query).await?;
        // Ranked by the cosine less the memory's crowding: what sets a
        // memory apart, not routine work written a hundred times alike.
        // Whether BM25's matches mean the prompt at all is the plain
        // cosine's to say (see `agreement`).
        for &(_, c) in &sims {
            lo = lo.min(c.distinct);
            hi = hi.max(c.distinct);
            plain_lo = plain_lo.min(c.cosine);
            plain_hi = plain_hi.max(c.cosine);
        }
        let mut have: HashSet<i64> = rows.iter().map(|(m, _)| m.seq).collect();
        // Only the closest few are wanted, not the scope in order.
        let closest = MEANING_CANDIDATES.min(sims.len());
        if closest > 0 && closest < sims.len() {
            sims.select_nth_unstable_by(closest - 1, |a, b| b.1.distinct.total_cmp(&a.1.distinct));
        }
        sims[..closest].sort_by(|a, b| b.1.distinct.total_cmp(&a.1.distinct).then(a.0.cmp(&b.0)));
        let more: Vec<i64> = sims[..closest]
            .iter()
            .map(|&(seq, _)| seq)
            .filter(|seq| !have.contains(seq))
            .collect();
        rows.extend(
            store::by_seqs(db, &more)
                .await?
                .into_iter()
                .map(|m| (m, 0.0)),
        );
        // Cosines are looked up only for the candidates.
        have.extend(&more);
        cosines = sims
            .iter()
            .filter(|(seq, _)| have.contains(seq))
            .copied()
            .collect();
        scope_cosines = sims;
    }
    if filter.current_only {
        rows.retain(|(m, _)| m.superseded_by.is_none());
    }
    let best = rows
        .iter()
        .map(|(_, b)| -b)
        .fold(f64::MIN_POSITIVE, f64::max);
    let max_use = rows.iter().map(|(m, _)| m.use_count).max().unwrap_or(0);
    let total_idf: f64 = query.terms.iter().map(|(_, w)| w).sum::<f64>();
    // Coverage first: how much of the prompt a memory's words hold decides
    // how far its BM25 is trusted against its meaning.
    let wanted: Vec<&str> = query.terms.iter().map(|(t, _)| t.as_str()).collect();
    let coverages: Vec<f64> = rows
        .iter()
        .map(|(m, _)| coverage_of(&query, &wanted, total_idf, m))
        .collect();
    let best_coverage = rows
        .iter()
        .zip(&coverages)
        .filter(|((_, bm25), _)| *bm25 < 0.0)
        .map(|(_, c)| *c)
        .fold(0.0, f64::max);
    // Agreement: whether BM25's own best matches also mean what the prompt
    // means. Shared routine words ("laptop", "password") rank tickets that
    // are about something else; their low cosine says so.
    let agreement = agreement(
        rows.iter()
            .filter(|(_, bm25)| *bm25 < 0.0)
            .take(AGREEMENT_MATCHES)
            .filter_map(|(m, _)| cosines.get(&m.seq).map(|c| c.cosine)),
        plain_lo,
        plain_hi,
    );
    // The scope the scope signal measures against: the search's own, or
    // where a search that has none is made from.
    let ranking = filter.prefer.as_ref().unwrap_or(scope);
    let trust = words_trust(best_coverage, cfg.words_trust_coverage)
        * agreement.powf(cfg.words_trust_agreement.max(0.0));
    // A ticket written many times alike matches by its template's words:
    // repeated n times over, its words (and the tags derived from them)
    // count 1/sqrt(n + 1), so the family's grow with the square root of
    // its size, not with its size.
    let (repeats, mut likeness) = repeats_among(
        rows.iter()
            .filter(|(_, bm25)| *bm25 < 0.0)
            .take(REPEAT_WINDOW)
            .map(|(m, _)| m),
        cfg.fold_similar,
    );
    let score_of = |m: Memory, bm25: f64, coverage: f64, cosine: Option<Closeness>| {
        // BM25 ranks are negative; a memory found otherwise has 0 (not -0).
        let repeated = repeats
            .get(&m.seq)
            .map_or(1.0, |&n| 1.0 / (1.0 + n as f64).sqrt());
        let words = if bm25 < 0.0 {
            (-bm25 / best).min(1.0) * repeated
        } else {
            0.0
        };
        // A memory without a vector (not embedded yet) keeps its words' score.
        let closeness = cosine
            .filter(|_| hi > lo)
            .map(|c| f64::from((c.distinct - lo) / (hi - lo)));
        let Blend {
            words: words_part,
            meaning: meaning_part,
            tags_trust,
        } = blend(words, closeness, cfg.weight_meaning, trust);
        let text_score = words_part + meaning_part;
        let age_days = ((now - m.created_at).max(0) as f64) / 86_400_000.0;
        let recency = 0.5f64.powf(age_days / cfg.half_life_days.max(0.01));
        let scope_score = match (&ranking.project_id, &ranking.client_id) {
            (Some(p), _) if m.project_id.as_ref() == Some(p) => 1.0,
            (_, Some(c)) if m.client_id.as_ref() == Some(c) => 0.6,
            _ if m.client_id.is_none() => 0.3,
            _ => 0.0,
        };
        let mem_tags = m.tag_list();
        let tag_overlap = if query.tags.is_empty() {
            0.0
        } else {
            query.tags.iter().filter(|t| mem_tags.contains(t)).count() as f64
                / query.tags.len() as f64
        };
        let use_score = if max_use > 0 {
            (1.0 + m.use_count as f64).ln() / (1.0 + max_use as f64).ln()
        } else {
            0.0
        };
        let shares = Shares {
            words: round3(cfg.weight_text * words_part),
            meaning: round3(cfg.weight_text * meaning_part),
            recency: round3(cfg.weight_recency * recency),
            importance: round3(cfg.weight_importance * (m.importance as f64 / 10.0)),
            scope: round3(cfg.weight_scope * scope_score),
            tags: round3(cfg.weight_tags * tags_trust * repeated * tag_overlap),
            use_count: round3(cfg.weight_use * use_score),
            context: 0.0,
        };
        let score = cfg.weight_text * text_score
            + cfg.weight_recency * recency
            + cfg.weight_importance * (m.importance as f64 / 10.0)
            + cfg.weight_scope * scope_score
            + cfg.weight_tags * tags_trust * repeated * tag_overlap
            + cfg.weight_use * use_score;
        Scored {
            id: m.id.clone(),
            title: m.title.clone(),
            memory: m,
            score: round3(score),
            text: round3(text_score),
            recency: round3(recency),
            scope: scope_score,
            tag_overlap: round3(tag_overlap),
            coverage: round3(coverage),
            // The plain cosine: what the injection floors are measured in.
            meaning: round3(f64::from(cosine.map_or(0.0, |c| c.cosine))),
            meaning_known: cosine.is_some(),
            crowding: round3(f64::from(cosine.map_or(0.0, |c| c.crowding))),
            shares,
            similar: Vec::new(),
        }
    };
    let mut scored: Vec<Scored> = rows
        .into_iter()
        .zip(coverages)
        .filter(|((m, _), _)| !exclude.contains(&m.id))
        .map(|((m, bm25), coverage)| {
            let cosine = cosines.get(&m.seq).copied();
            score_of(m, bm25, coverage, cosine)
        })
        .collect();
    // Context: what was written just before or after one of the best
    // matches, in the same project, is likely the same piece of work (the
    // cause found, then the fix): it gets a share of that match's text
    // score, and joins the candidates if it was not one.
    let context_weight = cfg.weight_text * cfg.weight_context.max(0.0);
    if context_weight > 0.0 && !scored.is_empty() {
        let mut best: Vec<&Scored> = scored.iter().filter(|s| s.text > 0.0).collect();
        best.sort_by(|a, b| {
            b.text
                .total_cmp(&a.text)
                .then(a.memory.seq.cmp(&b.memory.seq))
        });
        best.truncate(CONTEXT_SOURCES);
        let sources: HashMap<i64, f64> = best.iter().map(|s| (s.memory.seq, s.text)).collect();
        let places: Vec<store::Place> = best
            .iter()
            .filter_map(|s| {
                Some(store::Place {
                    seq: s.memory.seq,
                    project_id: s.memory.project_id.clone()?,
                    created_at: s.memory.created_at,
                })
            })
            .collect();
        let mut lent: HashMap<i64, f64> = HashMap::new();
        let mut missing = Vec::new();
        let have: HashSet<i64> = scored.iter().map(|s| s.memory.seq).collect();
        for (next_to, seq) in store::neighbours(db, &places, store::WORK_WINDOW).await? {
            let part = lent.entry(seq).or_default();
            *part = part.max(sources[&next_to]);
            if !have.contains(&seq) && !missing.contains(&seq) {
                missing.push(seq);
            }
        }
        // Those that were not candidates are read now (a few rows).
        let mut joining = store::by_seqs(db, &missing).await?;
        joining.retain(|m| {
            !(filter.current_only && m.superseded_by.is_some())
                && filter.kind.as_ref().is_none_or(|k| *k == m.kind)
                && !exclude.contains(&m.id)
        });
        // A few seqs against the whole scope's cosines (20,000 at a million
        // memories): a binary search in a sorted handful beats hashing each.
        let mut wanted_cosines: Vec<i64> = joining.iter().map(|m| m.seq).collect();
        wanted_cosines.sort_unstable();
        let joining_cosines: HashMap<i64, Closeness> = if wanted_cosines.is_empty() {
            HashMap::new()
        } else {
            scope_cosines
                .iter()
                .filter(|(seq, _)| wanted_cosines.binary_search(seq).is_ok())
                .copied()
                .collect()
        };
        for m in joining {
            let coverage = coverage_of(&query, &wanted, total_idf, &m);
            let cosine = joining_cosines.get(&m.seq).copied();
            scored.push(score_of(m, 0.0, coverage, cosine));
        }
        for s in &mut scored {
            if let Some(text) = lent.get(&s.memory.seq) {
                s.shares.context = round3(context_weight * text);
                s.score = round3(s.score + context_weight * text);
            }
        }
    }
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.memory.created_at.cmp(&a.memory.created_at))
    });
    if filter.fold_similar {
        scored = fold_similar(scored, cfg.fold_similar, limit, &mut likeness);
    }
    scored.truncate(limit);
    Ok((query, scored))
}

/// Folds each history memory (a note, ticket or turn: not a fact) that
/// nearly repeats a history memory ranked above it ([`Likeness::repeats`])
/// into that one, until `limit` distinct memories
/// are found. Routine tickets repeat one another but for a name and a
/// host: three of them would otherwise take the first three places from
/// the memory that answers the question. Facts never fold: two printers
/// that differ by their floor and address are two answers, and a fact that
/// restates another supersedes it instead.
/// `known` holds the likeness already worked out (see [`repeats_among`]).
fn fold_similar(
    ranked: Vec<Scored>,
    threshold: f64,
    limit: usize,
    known: &mut HashMap<i64, Likeness>,
) -> Vec<Scored> {
    if threshold >= 1.0 {
        return ranked;
    }
    // Each kept memory with its words, when it is history.
    let mut kept: Vec<(Scored, Option<Likeness>)> = Vec::new();
    for (looked, s) in ranked.into_iter().enumerate() {
        if kept.len() == limit {
            break;
        }
        // Past the window the rest keeps its places: the hook's time stays
        // bounded however many candidates repeat one another.
        if looked >= FOLD_WINDOW || lifecycle::states_a_fact(&s.memory.kind) {
            kept.push((s, None));
            continue;
        }
        let like = known
            .remove(&s.memory.seq)
            .unwrap_or_else(|| Likeness::of(&s.memory));
        match kept.iter_mut().find(|(_, seen)| {
            seen.as_ref()
                .is_some_and(|seen| seen.repeats(&like, threshold))
        }) {
            Some((first, _)) => first.similar.push(s.id),
            None => kept.push((s, Some(like))),
        }
    }
    kept.into_iter().map(|(s, _)| s).collect()
}

/// For each history memory among `matches` (BM25's best), how many of the
/// others nearly repeat it ([`Likeness::repeats`]): a ticket written many
/// times alike matches a prompt by its template, not by what sets it
/// apart. Facts are left out: they do not repeat, they supersede.
/// Returns the counts, and each memory's [`Likeness`] for folding to reuse.
fn repeats_among<'a>(
    matches: impl Iterator<Item = &'a Memory>,
    threshold: f64,
) -> (HashMap<i64, usize>, HashMap<i64, Likeness>) {
    let mut repeats = HashMap::new();
    if threshold >= 1.0 {
        return (repeats, HashMap::new());
    }
    let history: Vec<(i64, Likeness)> = matches
        .filter(|m| !lifecycle::states_a_fact(&m.kind))
        .map(|m| (m.seq, Likeness::of(m)))
        .collect();
    for (i, (seq, like)) in history.iter().enumerate() {
        for (other, other_like) in &history[i + 1..] {
            if like.repeats(other_like, threshold) {
                *repeats.entry(*seq).or_insert(0) += 1;
                *repeats.entry(*other).or_insert(0) += 1;
            }
        }
    }
    (repeats, history.into_iter().collect())
}

/// What two history memories are compared by to tell whether one repeats
/// the other.
struct Likeness {
    client: Option<String>,
    words: Vec<u64>,
    title: Vec<u64>,
}

impl Likeness {
    fn of(m: &Memory) -> Likeness {
        Likeness {
            client: m.client_id.clone(),
            words: fold_signature(&m.title, &m.body),
            title: text::word_sequence(&m.title),
        }
    }

    /// Whether the two repeat each other: they belong to the same client
    /// (or both to none), and their words overlap by more than
    /// `threshold` (Jaccard), or by more than half of it under one title
    /// template filled in twice ("Password reset for sreyes", "… for
    /// cmurphy": routine tickets whose bodies differ by the cause as well
    /// as the name). Two jobs asked alike ("fix DNS on DC01", "fix DHCP on
    /// DC01") still differ by what was done.
    fn repeats(&self, other: &Likeness, threshold: f64) -> bool {
        // Two clients' tickets are two clients' work, however alike.
        if self.client != other.client {
            return false;
        }
        let shared = text::signature_jaccard(&self.words, &other.words);
        shared > threshold || (shared > threshold / 2.0 && same_template(&self.title, &other.title))
    }
}

/// Whether two titles are one template with different values in its slots:
/// as many words, at least three of them the same in the same places, at
/// most two different (a login, or a first and a last name).
fn same_template(a: &[u64], b: &[u64]) -> bool {
    if a.len() != b.len() || a.len() < 3 {
        return false;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same >= 3 && a.len() - same <= 2
}

/// The words two history memories are compared by. A turn summary's
/// section labels (`Asked:`, `Ran:`, `Result:`) are its template, not its
/// work: counted, they make two short turns on different hosts look alike.
fn fold_signature(title: &str, body: &str) -> Vec<u64> {
    let mut texts = vec![title];
    texts.extend(super::compress::section_values(body));
    text::word_signature(&texts)
}

/// A memory's text score split between its words and its meaning, and how
/// far its tags count.
#[derive(Debug, PartialEq)]
struct Blend {
    words: f64,
    meaning: f64,
    tags_trust: f64,
}

/// Blends a memory's words (BM25 relative to the best match) with its
/// closeness in meaning (min-maxed over the scope; `None` without a vector,
/// when words and tags count fully). When no memory holds much of the
/// prompt's words, or the best matches mean something else, BM25 says
/// little: the words' share shrinks with `trust` and meaning takes what it
/// gives up. Tags are derived from the words, so they count as far as the
/// words are trusted (routine tickets tagged `password` for a question that
/// says "password" about something else).
fn blend(words: f64, closeness: Option<f64>, weight_meaning: f64, trust: f64) -> Blend {
    match closeness {
        Some(cos) => {
            let w = weight_meaning.clamp(0.0, 1.0);
            Blend {
                words: (1.0 - w) * trust * words,
                meaning: (1.0 - (1.0 - w) * trust) * cos,
                tags_trust: trust,
            }
        }
        None => Blend {
            words,
            meaning: 0.0,
            tags_trust: 1.0,
        },
    }
}

/// How far BM25 counts next to meaning, from the best coverage of the
/// prompt's terms: fully from `full` up, nothing at half of it or below.
/// (Measured: paraphrased questions' best coverage has a median of 0.28;
/// LoCoMo's is at least 0.5 for nine questions in ten.)
fn words_trust(best_coverage: f64, full: f64) -> f64 {
    if full <= 0.0 {
        return 1.0;
    }
    ((best_coverage - full / 2.0) / (full / 2.0)).clamp(0.0, 1.0)
}

/// How far BM25's first matches mean what the prompt means: the best of
/// their cosines, min-maxed over the scope (`lo`..`hi`). 1 when none of
/// them has a vector, so words keep their trust where meaning cannot judge.
fn agreement(first_matches: impl Iterator<Item = f32>, lo: f32, hi: f32) -> f64 {
    if hi <= lo {
        return 1.0;
    }
    first_matches
        .map(|c| f64::from((c - lo) / (hi - lo)).clamp(0.0, 1.0))
        .reduce(f64::max)
        .unwrap_or(1.0)
}

/// The share of the query's selective terms (idf-weighted) `m` holds, in its
/// title, body or tags.
fn coverage_of(query: &Query, wanted: &[&str], total_idf: f64, m: &Memory) -> f64 {
    if total_idf <= 0.0 {
        return 0.0;
    }
    let doc = text::terms_in(&format!("{} {}", m.title, m.body), wanted);
    let tag_tokens: HashSet<String> = m.tag_list().iter().map(|t| text::tag_token(t)).collect();
    let hit: f64 = query
        .terms
        .iter()
        .filter(|(t, _)| doc.contains(t.as_str()) || tag_tokens.contains(t))
        // A fold from 0, not `sum`: an empty sum of floats is -0.
        .fold(0.0, |hit, (_, w)| hit + w);
    hit / total_idf
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The best BM25 matches. The ranked LIMIT runs inside FTS5 (scope is part
/// of the match expression), so only the candidates are joined. `weights`
/// are the IDFs of the expression's term phrases, in order (see [`rank`]).
async fn fetch_candidates(
    db: &mut Db,
    expr: &str,
    weights: &[f64],
    filter: &Filter,
    limit: i64,
) -> Result<Vec<(Memory, f64)>> {
    rank::install(db).await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        m: Memory,
        rank: f64,
    }
    let limit = if filter.kind.is_some() {
        limit * 10
    } else {
        limit
    };
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, r.rank AS rank
         FROM (SELECT rowid, rank FROM memory_index
               WHERE memory_index MATCH ?1 AND rank MATCH ?4 ORDER BY rank LIMIT ?2) r
         JOIN memories m ON m.seq = r.rowid
         WHERE ?3 IS NULL OR m.kind = ?3
         ORDER BY r.rank"
    )))
    .bind(expr)
    .bind(limit)
    .bind(&filter.kind)
    .bind(rank::rank_call(weights))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.m, r.rank)).collect())
}

/// What the recall hook would inject.
#[derive(Debug, Serialize)]
pub struct Recalled {
    pub text: String,
    pub tokens: u32,
    pub memories: Vec<Scored>,
}

/// The minimum share of the prompt's selective terms a memory must hold to
/// be injected: a single shared common word is not relevance.
const MIN_COVERAGE: f64 = 0.3;

/// Chooses and formats the memories to inject for `prompt` within `budget`
/// tokens. Returns empty text when nothing is worth adding.
///
/// Entries name their project by slug. Memory keeps only project ids;
/// `project_slugs` maps ids to slugs (the caller wires in the work module's
/// lookup, see `app::recall`), so memory does not read the projects table.
#[allow(clippy::too_many_arguments)]
pub async fn recall(
    db: &mut Db,
    cfg: &MemoryConfig,
    prompt: &str,
    scope: &Scope,
    now: Millis,
    budget: u32,
    exclude: &HashSet<String>,
    meaning: Option<&mut Meaning>,
    project_slugs: impl AsyncFnOnce(&mut Db, &[&str]) -> Result<HashMap<String, String>>,
) -> Result<Recalled> {
    let empty = || Recalled {
        text: String::new(),
        tokens: 0,
        memories: vec![],
    };
    let analysed = Analysed::of(prompt);
    let terms = &analysed.terms;
    if (terms.len() < cfg.min_query_terms as usize || is_steering(terms))
        && analysed.tags.is_empty()
    {
        return Ok(empty());
    }
    // Where the directory names no client, recall stays out of every
    // client's memories unless `memory.unlinked_scope = "all"`.
    // A superseded memory is never injected: its successor says it now.
    let filter = Filter {
        no_client: scope.client_id.is_none()
            && cfg.unlinked_scope == crate::config::UnlinkedScope::Global,
        current_only: true,
        fold_similar: true,
        ..Filter::default()
    };
    let (_, ranked) = search_analysed(
        db,
        cfg,
        &analysed,
        scope,
        &filter,
        now,
        RECALL_CANDIDATES,
        exclude,
        meaning,
    )
    .await?;
    let mut chosen: Vec<Scored> = Vec::new();
    let mut used = FRAME_TOKENS;
    let project_ids: Vec<&str> = ranked
        .iter()
        .filter_map(|s| s.memory.project_id.as_deref())
        .collect();
    let slugs = project_slugs(db, &project_ids).await?;
    let mut text =
        format!("{MARKER_START}\nKnown from earlier work (msp memory, most relevant first):\n");
    for s in ranked {
        // Relevant by its meaning, or by its words; with the encoder
        // installed, words shared by a memory that means something else
        // (a "re-registration" for a question about percentages) are not
        // enough.
        let by_meaning = s.meaning >= cfg.min_meaning;
        let by_words =
            s.coverage >= MIN_COVERAGE && (!s.meaning_known || s.meaning >= cfg.min_meaning_words);
        if !by_meaning && !by_words {
            continue;
        }
        let cost = entry_tokens(&s.memory) + ENTRY_OVERHEAD_TOKENS;
        let remaining = budget.saturating_sub(used);
        let mut whole = cost <= remaining;
        let mut body = if whole {
            s.memory.body.clone()
        } else if chosen.is_empty() && remaining > 80 {
            // The best memory alone is too long: keep its head.
            let keep =
                s.memory.body.len() * (remaining - ENTRY_OVERHEAD_TOKENS) as usize / cost as usize;
            text::prefix_bytes_marked(&s.memory.body, keep)
        } else {
            continue;
        };
        let mut entry = format_entry(&slugs, &s.memory, &body);
        // The character cap holds whatever the budget: an entry that does not
        // fit is left out (and not reported as recalled), except the best
        // one, whose head is kept.
        let room = MAX_CHARS.saturating_sub(text.len() + MARKER_END.len());
        if entry.len() > room {
            if !chosen.is_empty() {
                continue;
            }
            whole = false;
            let mut keep = body.len();
            while entry.len() > room && keep > 0 {
                keep = keep.saturating_sub(entry.len() - room + 8);
                body = text::prefix_bytes_marked(&s.memory.body, keep);
                entry = format_entry(&slugs, &s.memory, &body);
            }
            if entry.len() > room {
                continue;
            }
        }
        used += if whole {
            cost
        } else {
            let share = u64::from(cost) * body.len() as u64 / s.memory.body.len().max(1) as u64;
            remaining.min(share as u32 + ENTRY_OVERHEAD_TOKENS)
        };
        text.push_str(&entry);
        chosen.push(s);
    }
    if chosen.is_empty() {
        return Ok(empty());
    }
    text.push_str(MARKER_END);
    // Memories stored before the current rules are redacted again on the
    // way out, until `msp context scrub` has rewritten them.
    if let Some(r) = super::scrub::recall_guard(db).await? {
        text = r.redact(&text).text;
    }
    Ok(Recalled {
        text,
        tokens: used,
        memories: chosen,
    })
}

/// Words that only steer the conversation ("continue", "go ahead", "try
/// again", "sounds good"): a prompt of nothing else has no topic, so nothing
/// is recalled for it, even when a memory happens to hold those words.
const STEERING: &[&str] = &[
    "continue",
    "continuing",
    "proceed",
    "ahead",
    "keep",
    "going",
    "carry",
    "resume",
    "retry",
    "again",
    "fine",
    "good",
    "great",
    "right",
    "correct",
    "exactly",
    "perfect",
    "nice",
    "cool",
    "awesome",
    "agreed",
    "agree",
    "approve",
    "approved",
    "sounds",
    "lgtm",
    "stop",
    "wait",
    "nope",
    "next",
    "more",
    "works",
    "now",
];

/// Whether every term of a prompt is a steering word (true for no terms).
fn is_steering(terms: &[String]) -> bool {
    static SET: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| STEERING.iter().filter_map(|w| text::term(w)).collect());
    terms.iter().all(|t| set.contains(t))
}

/// Whether `title` is the start of the first line of `body` (`remember`
/// cuts a long one): the line then stands in its place, not said twice.
fn body_opens_with_title(title: &str, body: &str) -> bool {
    let title = title.trim();
    let head = title.strip_suffix('…').unwrap_or(title).trim_end();
    !head.is_empty()
        && body
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|first| first.trim_start().starts_with(head))
}

/// The tokens a memory's entry costs the budget: its stored count (title
/// and body), less the title's share when the body says it.
fn entry_tokens(m: &Memory) -> u32 {
    let stored = m.stored_tokens.max(1) as u64;
    if !body_opens_with_title(&m.title, &m.body) {
        return stored as u32;
    }
    let (title, all) = (
        m.title.len() as u64,
        (m.title.len() + 1 + m.body.len()) as u64,
    );
    (stored - stored * title / all).max(1) as u32
}

/// `- 2026-11-20 · dataforth-dos · Title` then the body, indented.
/// `slugs` maps project ids to slugs.
fn format_entry(slugs: &HashMap<String, String>, m: &Memory, body: &str) -> String {
    let project = m.project_id.as_ref().and_then(|id| slugs.get(id));
    let mut e = format!("- {}", local_day(m.created_at));
    if let Some(p) = project {
        e.push_str(" · ");
        e.push_str(p);
    }
    e.push_str(" · ");
    let title = m.title.trim();
    let mut lines = body.lines().filter(|l| !l.trim().is_empty()).peekable();
    match lines.peek() {
        Some(first) if body_opens_with_title(title, first) => {
            e.push_str(first.trim());
            lines.next();
        }
        _ => e.push_str(title),
    }
    e.push('\n');
    for line in lines {
        e.push_str("  ");
        e.push_str(line.trim_end());
        e.push('\n');
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_has_no_meaning_without_an_encoder_and_a_damaged_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let prompt = "why is the VPN down again?";
        assert!(Meaning::start(dir.path(), prompt, 32).is_none());
        let model = crate::embed::install::model_path(dir.path());
        std::fs::create_dir_all(model.parent().unwrap()).unwrap();
        std::fs::write(&model, b"not an encoder").unwrap();
        // Too few tokens to read a word: the encoder is not even opened.
        assert!(Meaning::start(dir.path(), prompt, 2).is_none());
        let mut meaning = Meaning::start(dir.path(), prompt, 32).unwrap();
        assert_eq!(meaning.model(), None);
        assert_eq!(meaning.vector(), None);
        assert!(
            matches!(meaning.failure(), Some(EmbedError::Format(_))),
            "{:?}",
            meaning.failure()
        );
    }

    /// A long remembered fact's title is the start of its body and is
    /// injected once; the budget counted it twice.
    #[test]
    fn a_title_the_body_opens_with_is_not_paid_for_twice() {
        let body = "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP; \
                    updated the outbound proxy and disabled SIP ALG on the FortiGate";
        let fact = Memory {
            title: "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP…"
                .into(),
            body: body.into(),
            stored_tokens: 56,
            ..Memory::default()
        };
        assert!(body_opens_with_title(&fact.title, &fact.body));
        // The title is 87 of the 238 bytes counted: about a third less.
        assert_eq!(entry_tokens(&fact), 36);
        let note = Memory {
            title: "SIP trunk down".into(),
            ..fact.clone()
        };
        assert!(!body_opens_with_title(&note.title, &note.body));
        assert_eq!(entry_tokens(&note), 56);
        // Never free.
        let tiny = Memory {
            title: "x".into(),
            body: "x".into(),
            stored_tokens: 1,
            ..Memory::default()
        };
        assert_eq!(entry_tokens(&tiny), 1);
    }

    fn note(title: &str, body: &str) -> Memory {
        Memory {
            title: title.into(),
            body: body.into(),
            kind: "note".into(),
            ..Memory::default()
        }
    }

    #[test]
    fn routine_tickets_under_one_title_template_repeat_though_their_causes_differ() {
        let threshold = crate::config::MemoryConfig::default().fold_similar;
        let reset = |login: &str, who: &str, cause: &str| {
            note(
                &format!("Password reset for {login}"),
                &format!(
                    "{who} was locked out after {cause}. Reset the AD password, set change at next logon, confirmed sign-in. Ticket #41207."
                ),
            )
        };
        let a = Likeness::of(&reset("sreyes", "Sofia Reyes", "a vacation"));
        let b = Likeness::of(&reset(
            "cmurphy",
            "Chris Murphy",
            "an old password cached on the phone's mail app",
        ));
        let shared = text::signature_jaccard(&a.words, &b.words);
        // Too different by their words alone to fold before.
        assert!(shared <= threshold && shared > threshold / 2.0, "{shared}");
        assert!(a.repeats(&b, threshold) && b.repeats(&a, threshold));
    }

    #[test]
    fn two_clients_tickets_never_repeat_however_alike() {
        let threshold = crate::config::MemoryConfig::default().fold_similar;
        let ticket = |client: Option<&str>| Memory {
            client_id: client.map(str::to_owned),
            ..note(
                "Front desk printer queue stuck",
                "Cleared the print spooler on the front desk PC.",
            )
        };
        let acme = Likeness::of(&ticket(Some("acme")));
        assert!(acme.repeats(&Likeness::of(&ticket(Some("acme"))), threshold));
        assert!(!acme.repeats(&Likeness::of(&ticket(Some("dataforth"))), threshold));
        assert!(!acme.repeats(&Likeness::of(&ticket(None)), threshold));
    }

    #[test]
    fn two_jobs_asked_alike_do_not_repeat_for_their_titles() {
        let threshold = crate::config::MemoryConfig::default().fold_similar;
        let dns = Likeness::of(&note(
            "Fix DNS on DC01",
            "Asked: fix DNS on DC01\nLooked at: forwarders pointed at the old ISP resolvers\nResult: forwarders set to 1.1.1.1 and 9.9.9.9, nslookup answers again",
        ));
        let dhcp = Likeness::of(&note(
            "Fix DHCP on DC01",
            "Asked: fix DHCP on DC01\nLooked at: scope 10.0.20.0/24 exhausted by guest phones\nResult: lease time cut to 4 hours, guest VLAN moved to its own scope",
        ));
        assert!(same_template(&dns.title, &dhcp.title));
        assert!(!dns.repeats(&dhcp, threshold));
    }

    #[test]
    fn a_title_template_has_as_many_words_and_at_most_two_slots() {
        let t = |s: &str| text::word_sequence(s);
        assert!(same_template(
            &t("Password reset for sreyes"),
            &t("password reset for CMURPHY")
        ));
        assert!(same_template(
            &t("New hire laptop for James Silva"),
            &t("New hire laptop for Grace Patel")
        ));
        assert!(same_template(
            &t("RMM alert: WS-114 offline"),
            &t("RMM alert: PC-22 offline")
        ));
        // Three slots differ: not one template.
        assert!(!same_template(
            &t("Toner for HP M404 ordered"),
            &t("Toner for Ricoh C3000 replaced")
        ));
        // A word more or less, or too short to have a template.
        assert!(!same_template(
            &t("Password reset for sreyes"),
            &t("Password reset for s reyes")
        ));
        assert!(!same_template(&t("DNS fixed"), &t("DHCP fixed")));
    }

    #[test]
    fn repeats_are_counted_among_history_and_facts_never_repeat() {
        let threshold = crate::config::MemoryConfig::default().fold_similar;
        let mut memories: Vec<Memory> = ["adavies", "olopez", "zpatel"]
            .iter()
            .enumerate()
            .map(|(i, login)| Memory {
                seq: i as i64,
                ..note(
                    &format!("Shared folder access for {login}"),
                    &format!("Granted {login} modify rights on \\\\FS01\\Projects through the Projects-RW group. Ticket #{i}."),
                )
            })
            .collect();
        memories.push(Memory {
            seq: 10,
            ..note(
                "FortiClient SSL VPN",
                "Attorneys reach the file server from home over FortiClient.",
            )
        });
        for (seq, floor) in [(20, "2nd"), (21, "3rd")] {
            memories.push(Memory {
                seq,
                kind: "fact".into(),
                ..note(
                    &format!("Printer HP M404 on the {floor} floor"),
                    &format!("The {floor} floor HP M404 prints from the PRINT01 queue."),
                )
            });
        }
        let (repeats, _) = repeats_among(memories.iter(), threshold);
        assert_eq!(repeats.get(&0), Some(&2));
        assert_eq!(repeats.get(&1), Some(&2));
        assert_eq!(repeats.get(&2), Some(&2));
        assert_eq!(repeats.get(&10), None);
        assert_eq!(repeats.get(&20), None);
        assert_eq!(repeats.get(&21), None);
        // Folding off: nothing repeats.
        assert!(repeats_among(memories.iter(), 1.0).0.is_empty());
    }

    #[test]
    fn two_short_turns_on_different_hosts_do_not_fold_for_their_section_labels() {
        let spooler = (
            "Restart the spooler on PRN01",
            "Asked: restart the spooler on PRN01\nRan: Restart-Service Spooler\nResult: running again",
        );
        let dns = (
            "Restart DNS on DC01",
            "Asked: restart DNS on DC01\nRan: Restart-Service DNS\nResult: running again",
        );
        let folded = text::signature_jaccard(
            &fold_signature(spooler.0, spooler.1),
            &fold_signature(dns.0, dns.1),
        );
        let labelled = text::signature_jaccard(
            &text::word_signature(&[spooler.0, spooler.1]),
            &text::word_signature(&[dns.0, dns.1]),
        );
        let threshold = crate::config::MemoryConfig::default().fold_similar;
        assert!(folded <= threshold, "{folded} {labelled}");
        assert!(labelled > threshold, "{folded} {labelled}");
    }

    #[test]
    fn tags_count_as_far_as_the_words_they_come_from_are_trusted() {
        // With meaning, BM25 trusted at 0.25: words and tags at a quarter,
        // meaning takes what the words give up.
        let b = blend(1.0, Some(0.8), 0.5, 0.25);
        assert_eq!(b.tags_trust, 0.25);
        assert!((b.words - 0.125).abs() < 1e-12, "{b:?}");
        assert!((b.meaning - 0.875 * 0.8).abs() < 1e-12, "{b:?}");
        // Without a vector: words and tags count fully, whatever the trust.
        assert_eq!(
            blend(0.6, None, 0.5, 0.25),
            Blend {
                words: 0.6,
                meaning: 0.0,
                tags_trust: 1.0
            }
        );
    }

    #[test]
    fn words_are_trusted_as_far_as_their_best_matches_mean_the_prompt() {
        // The scope's cosines run from 0.1 to 0.5.
        let (lo, hi) = (0.1, 0.5);
        // Routine tickets that share a word but mean something else.
        assert!((agreement([0.15, 0.2, 0.1].into_iter(), lo, hi) - 0.25).abs() < 1e-6);
        // One of the first matches is the closest memory of all.
        assert_eq!(agreement([0.2, 0.5].into_iter(), lo, hi), 1.0);
        // Nothing to judge by: no vectors among them, or one cosine for all.
        assert_eq!(agreement(std::iter::empty(), lo, hi), 1.0);
        assert_eq!(agreement([0.3].into_iter(), 0.3, 0.3), 1.0);
    }

    #[test]
    fn words_count_fully_from_the_trusted_coverage_and_not_below_half_of_it() {
        assert_eq!(words_trust(0.8, 0.5), 1.0);
        assert_eq!(words_trust(0.5, 0.5), 1.0);
        assert!((words_trust(0.375, 0.5) - 0.5).abs() < 1e-9);
        assert_eq!(words_trust(0.25, 0.5), 0.0);
        assert_eq!(words_trust(0.0, 0.5), 0.0);
        // 0 switches the ramp off: BM25 always counts.
        assert_eq!(words_trust(0.0, 0.0), 1.0);
    }
}
