//! `msp-recall` and `msp-save`. Whatever happens they exit 0, print nothing
//! but a valid hook answer (or nothing), and write one line to the msp log.
//! They never migrate, detect or touch the network, and they give up
//! (silently) rather than hold up the prompt. Two exceptions to "nothing
//! else runs", both detached and never waited for: with `sync.auto`,
//! `msp-save` may start `msp sync` (at most every `sync.interval_secs`, see
//! `sync::auto_after_save`), so the network stays off the hook's path; and
//! when it stored memories and the encoder is installed, `msp context embed`
//! (see `memory::vectors::spawn_embed`), so embedding stays off it too.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{Event, HookInput, context_output};
use crate::config::{Config, Paths};
use crate::error::{Error, Result};
use crate::memory::capture::{self, CaptureOptions};
use crate::memory::engine::TokenCounter;
use crate::memory::journal::{self, Journal};
use crate::store::{Db, Durability, Store};
use crate::time::now_ms;
use crate::work::{Scope, projects, sessions};
use crate::{machine, memory};

/// Bytes of stdin read at most; a larger event is cut and parsed as is.
const MAX_INPUT: u64 = 32 << 20;
/// How long the recall hook may wait for a writer before giving up.
const RECALL_BUSY: Duration = Duration::from_millis(300);
/// How long the save hook waits for a writer. Giving up loses nothing (the
/// offset stays, the next Stop captures the turn), so keep the stop quick.
const SAVE_BUSY: Duration = Duration::from_millis(700);
/// Whole-run deadlines, well inside Claude Code's hook timeout.
const RECALL_DEADLINE: Duration = Duration::from_secs(2);
const SAVE_DEADLINE: Duration = Duration::from_secs(4);
/// What the save hook keeps, of its deadline, for what follows the capture
/// (the last commit, the recall journal, the work session).
const SAVE_RESERVE: Duration = Duration::from_millis(1000);

/// What one hook run produced: stdout (if any) and its log line.
struct Outcome {
    stdout: Option<String>,
    log: String,
}

impl Outcome {
    fn quiet(log: impl Into<String>) -> Outcome {
        Outcome {
            stdout: None,
            log: log.into(),
        }
    }
}

pub fn recall_main() {
    run(
        "msp-recall",
        RECALL_DEADLINE,
        |input, paths, config, deadline| Box::pin(recall_hook(input, paths, config, deadline)),
    );
}

pub fn save_main() {
    run(
        "msp-save",
        SAVE_DEADLINE,
        |input, paths, config, deadline| Box::pin(save_hook(input, paths, config, deadline)),
    );
}

type HookFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome>>>>;

/// A hook: the event, where msp lives, the settings, and when the run ends.
type Hook = fn(HookInput, Paths, Config, Instant) -> HookFuture;

fn run(name: &str, deadline: Duration, hook: Hook) -> ! {
    let started = Instant::now();
    // sqlx runs SQLite on a thread of its own, and glibc would give that
    // thread its own heap arena, grown a page at a time: hundreds of
    // mprotect calls per prompt. One arena suits a process this short.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    // A panic must not print a backtrace into Claude Code's transcript.
    std::panic::set_hook(Box::new(|_| {}));
    let paths = Paths::from_env().ok();
    // Named in the log line whatever happens next.
    let mut event = String::from("(no event)");
    // The log cap, from the config the hook loads (defaults if it could not).
    let mut log_max = crate::config::LogConfig::default().max_bytes;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<Outcome> {
        // Stdin is always read (Claude Code is writing it), and the config
        // is loaded before a bad input is reported, so its log cap holds.
        let input = read_input(deadline);
        // Named before anything else can fail (a broken config.toml).
        if let Ok(i) = &input {
            event = i.event().name().to_owned();
        }
        let paths = paths
            .clone()
            .ok_or_else(|| Error::Other("no data directory".into()))?;
        let config = Config::load(&paths)?;
        log_max = config.log.max_bytes;
        let input = input?;
        let deadline = deadline.saturating_sub(started.elapsed());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let end = Instant::now() + deadline;
            match tokio::time::timeout(deadline, hook(input, paths, config, end)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Other(format!(
                    "gave up after {} ms",
                    deadline.as_millis()
                ))),
            }
        })
    }));
    let (stdout, line) = match result {
        Ok(Ok(o)) => (o.stdout, o.log),
        Ok(Err(e)) => (
            None,
            match e.hint() {
                // One line: the hint after a dash, never on a line of its own.
                Some(h) => format!("{event} error: {e} — {h}"),
                None => format!("{event} error: {e}"),
            },
        ),
        Err(_) => (None, format!("{event} error: internal panic")),
    };
    if let Some(out) = stdout {
        use std::io::Write;
        let mut so = std::io::stdout().lock();
        let _ = so
            .write_all(out.as_bytes())
            .and_then(|_| so.write_all(b"\n"))
            .and_then(|_| so.flush());
    }
    if let Some(p) = paths {
        crate::log::append(
            &p.log(),
            log_max,
            &format!("{name} {line} ({} ms)", started.elapsed().as_millis()),
        );
    }
    std::process::exit(0);
}

/// The event on stdin. Claude Code may leave stdin open, so it is taken as
/// soon as what arrived parses as a whole object, and the wait is bounded by
/// the deadline.
fn read_input(deadline: Duration) -> Result<HookInput> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_event(std::io::stdin().lock()));
    });
    rx.recv_timeout(deadline).unwrap_or_else(|_| {
        Err(Error::Other(format!(
            "no complete hook input on stdin after {} ms",
            deadline.as_millis()
        )))
    })
}

fn read_event(input: impl Read) -> Result<HookInput> {
    let mut input = input.take(MAX_INPUT);
    let mut raw = Vec::new();
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        raw.extend_from_slice(&buf[..n]);
        if raw.trim_ascii_end().ends_with(b"}")
            && let Ok(event) = serde_json::from_slice(&raw)
        {
            return Ok(event);
        }
    }
    serde_json::from_slice(&raw)
        .map_err(|e| Error::Other(format!("malformed hook input ({} bytes): {e}", raw.len())))
}

/// The project and client of `cwd` on this machine.
async fn scope_of(db: &mut Db, cwd: Option<&str>) -> Result<(Scope, Option<projects::Project>)> {
    // Checked before the machine lookup: such a path is no real directory.
    let Some(cwd) = cwd.filter(|c| c.len() <= projects::MAX_DIR_BYTES) else {
        return Ok((Scope::default(), None));
    };
    let machine_id = machine::self_id(db).await?.unwrap_or_default();
    projects::scope_of_dir(db, Path::new(cwd), &machine_id).await
}

async fn recall_hook(
    input: HookInput,
    paths: Paths,
    config: Config,
    _end: Instant,
) -> Result<Outcome> {
    let event = input.event();
    if !matches!(event, Event::UserPromptSubmit | Event::SessionStart) {
        return Ok(Outcome::quiet(format!("ignored event {:?}", event.name())));
    }
    let t0 = Instant::now();
    let prompt = memory::prompt::bounded(input.prompt.as_deref().unwrap_or(""));
    // A prompt's meaning needs the encoder, not the store: it is worked out
    // on a thread of its own while the store opens, the scope is found and
    // the candidates and vectors are read. Without an encoder no thread is
    // started: recall by words pays nothing.
    let mut meaning = match event {
        Event::UserPromptSubmit => {
            memory::recall::Meaning::start(&paths.data_dir, &prompt, config.memory.prompt_tokens)
        }
        _ => None,
    };
    let mut store = Store::open_for_hook(&paths.db(), RECALL_BUSY, Durability::Normal).await?;
    let db = store.db();
    let t_open = t0.elapsed();
    let now = now_ms();
    let journal = input
        .session_id
        .as_deref()
        .map(|s| Journal::for_session(&paths.data_dir, s));
    let exclude: HashSet<String> = match &journal {
        Some(j) => match j.injected() {
            Some(ids) => ids,
            None => journal::recorded(db, j).await?.into_iter().collect(),
        },
        None => HashSet::new(),
    };
    let (scope, project) = scope_of(db, input.cwd.as_deref()).await?;
    let t_scope = t0.elapsed();
    let (text, ids, note) = if event == Event::SessionStart {
        // It writes (the automatic work session); a prompt only reads.
        store.track_changes().await?;
        let db = store.db();
        let idle = close_idle(db, &config, now).await;
        let (text, ids, note) =
            session_start(db, &config, &input, &scope, project.as_ref(), &exclude, now).await?;
        (text, ids, format!("{note}{idle}"))
    } else {
        // A prompt writes only when an automatic work session went idle.
        let idle = match idle_to_close(db, &config, now).await {
            Some(_) => {
                store.track_changes().await?;
                let db = store.db();
                let idle = close_idle(db, &config, now).await;
                // This Claude session's own: its work goes on from now.
                if idle.closed_for(input.session_id.as_deref()) && project.is_some() {
                    resume(db, &input, &scope, now).await
                } else {
                    idle.note
                }
            }
            None => String::new(),
        };
        let db = store.db();
        let prompt = prompt.as_ref();
        let r = crate::app::recall(
            db,
            &config.memory,
            prompt,
            &scope,
            now,
            config.memory.budget_tokens,
            &exclude,
            meaning.as_mut(),
        )
        .await?;
        // The log says why recall went by words alone.
        let unusable = match meaning.as_ref().and_then(|m| m.failure()) {
            Some(e) => format!(" by words alone ({e})"),
            None => String::new(),
        };
        let ids: Vec<String> = r.memories.iter().map(|m| m.id.clone()).collect();
        let mut text = r.text;
        // "remember: …" is stored when the turn ends (the save hook); the
        // reply can say so now.
        if let Some(asked) = memory::lifecycle::remember_request(prompt) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&remember_notice(asked, project.as_ref()));
        }
        (
            text,
            ids,
            format!(
                "{} memories, ~{} tokens{unusable}{idle}",
                r.memories.len(),
                r.tokens
            ),
        )
    };
    let t_recall = t0.elapsed();
    let _ = store.close().await;
    // Best effort: a journal that cannot be written must not cost the
    // prompt its context (the memory may then be injected once more).
    let mut note = note;
    if let Some(j) = &journal
        && let Err(e) = j.append(now, &ids)
    {
        note.push_str(&format!(" (not journaled: {e})"));
    }
    let stdout = (!text.is_empty()).then(|| context_output(event.name(), &text));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(Outcome {
        stdout,
        log: format!(
            "{} ok: {note} [open {:.1}, scope {:.1}, recall {:.1}, total {:.1} ms]",
            event.name(),
            ms(t_open),
            ms(t_scope),
            ms(t_recall),
            ms(t0.elapsed())
        ),
    })
}

/// Tells Claude that msp stores what the prompt asked to remember.
fn remember_notice(asked: &str, project: Option<&projects::Project>) -> String {
    use memory::recall::{MARKER_END, MARKER_START};
    let (title, _) = memory::lifecycle::title_of(asked);
    let place = match project {
        Some(p) => format!("project {}", p.slug),
        None => "no project (this directory belongs to none)".into(),
    };
    format!(
        "{MARKER_START}\nmsp stores this as an important memory of {place} when this reply ends: \"{title}\". Confirm in one short sentence that it will be remembered.\n{MARKER_END}"
    )
}

/// What closing an idle automatic work session did, for the log line.
struct IdleOutcome {
    closed: Option<sessions::IdleClosed>,
    note: String,
}

impl std::fmt::Display for IdleOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.note)
    }
}

impl IdleOutcome {
    fn closed_for(&self, claude_session: Option<&str>) -> bool {
        self.closed.as_ref().is_some_and(|c| {
            c.claude_session_id.as_deref() == claude_session && claude_session.is_some()
        })
    }
}

/// The idle automatic work session on this machine, if one is to be closed
/// (a read, and never an error: the prompt goes on).
async fn idle_to_close(db: &mut Db, config: &Config, now: i64) -> Option<String> {
    let m = machine::self_id(db).await.ok()??;
    sessions::idle_open(db, &m, config.sessions.idle_close_minutes, now)
        .await
        .ok()?
}

/// Closes the idle automatic work session on this machine (best effort: a
/// busy store only delays it to the next hook or command).
async fn close_idle(db: &mut Db, config: &Config, now: i64) -> IdleOutcome {
    let machine = match machine::self_id(db).await {
        Ok(Some(m)) => m,
        _ => {
            return IdleOutcome {
                closed: None,
                note: String::new(),
            };
        }
    };
    match sessions::close_idle(db, &machine, config.sessions.idle_close_minutes, now).await {
        Ok(Some(c)) => IdleOutcome {
            note: format!(
                "; idle work session closed at {}",
                crate::time::rfc3339(c.ended_at)
            ),
            closed: Some(c),
        },
        Ok(None) => IdleOutcome {
            closed: None,
            note: String::new(),
        },
        Err(e) => IdleOutcome {
            closed: None,
            note: format!("; idle work session not closed: {e}"),
        },
    }
}

/// A new automatic work session for a Claude session whose last one was
/// just closed as idle: the pause is not counted, the work from now is.
async fn resume(db: &mut Db, input: &HookInput, scope: &Scope, now: i64) -> String {
    let (Ok(Some(m)), Some(sid)) = (machine::self_id(db).await, input.session_id.as_deref()) else {
        return "; idle work session closed".into();
    };
    match sessions::claude_session_started(db, &m, scope.clone(), sid, now).await {
        Ok(_) => "; idle work session closed, a new one started".into(),
        Err(e) => format!("; idle work session closed, no new one: {e}"),
    }
}

/// The project's state for a new Claude session, and the automatic work
/// session.
async fn session_start(
    db: &mut Db,
    config: &Config,
    input: &HookInput,
    scope: &Scope,
    project: Option<&projects::Project>,
    exclude: &HashSet<String>,
    now: i64,
) -> Result<(String, Vec<String>, String)> {
    let Some(project) = project else {
        return Ok((
            String::new(),
            vec![],
            "no project for this directory".into(),
        ));
    };
    let machine_id = machine::self_id(db).await?;
    let mut note = String::new();
    if let (Some(m), Some(sid)) = (&machine_id, &input.session_id) {
        // Best effort: a busy store must not cost the session its context.
        note = match sessions::claude_session_started(db, m, scope.clone(), sid, now).await {
            Ok(sessions::AutoStart::Started(_)) => "work session started".into(),
            Ok(sessions::AutoStart::Continued(_)) => "work session continued".into(),
            Ok(sessions::AutoStart::ManualOpen(_)) => "manual work session open".into(),
            Err(e) => format!("work session not started: {e}"),
        };
    }
    let b = memory::brief::brief(
        db,
        project,
        machine_id.as_deref(),
        config.memory.session_start_budget_tokens,
        exclude,
        now,
    )
    .await?;
    let note = format!("{note}; {} memories, ~{} tokens", b.ids.len(), b.tokens);
    Ok((b.text, b.ids, note))
}

async fn save_hook(
    input: HookInput,
    paths: Paths,
    config: Config,
    end: Instant,
) -> Result<Outcome> {
    let event = input.event();
    if !matches!(event, Event::Stop | Event::PreCompact | Event::SessionEnd) {
        return Ok(Outcome::quiet(format!("ignored event {:?}", event.name())));
    }
    // A saved turn must survive the machine stopping right after the hook
    // (NORMAL only survives a crash of msp).
    let mut store = Store::open_for_hook(&paths.db(), SAVE_BUSY, Durability::Full).await?;
    store.track_changes().await?;
    let db = store.db();
    let now = now_ms();
    let machine_id = machine::self_id(db).await?;
    let mut log = format!("{}:", event.name());
    // Vault values are redacted too (their MACs, not the vault); a missing
    // key file or table only means there are none.
    let (engine, known) = crate::app::engine(db, &paths.data_dir, TokenCounter::ESTIMATE).await;
    if let Err(why) = known {
        log.push_str(&format!(" (vault values not redacted: {why})"));
    }
    match input.transcript_path.as_deref().filter(|p| !p.is_empty()) {
        Some(path) if Path::new(path).exists() => {
            let opts = CaptureOptions {
                start: None,
                target: Scope::default(),
                machine_id: machine_id.clone(),
                now,
                last_assistant_message: if event == Event::Stop {
                    input.last_assistant_message.clone()
                } else {
                    None
                },
                max_backlog: Some(config.capture.max_backlog_bytes),
                deadline: Some(end.checked_sub(SAVE_RESERVE).unwrap_or(end)),
            };
            let s = capture::capture_transcript(db, &engine, Path::new(path), &opts).await?;
            log.push_str(&format!(
                " {} turns, {} memories saved, {} known",
                s.turns, s.memories_added, s.duplicates
            ));
            if s.completed > 0 {
                log.push_str(&format!(", {} completed", s.completed));
            }
            if s.remembered > 0 {
                log.push_str(&format!(
                    "; {} remembered on request, {} older superseded",
                    s.remembered, s.superseded
                ));
            }
            // New memories become findable by meaning in the background.
            if s.memories_added + s.completed > 0
                && crate::embed::install::model_path(&paths.data_dir).is_file()
            {
                match crate::memory::vectors::spawn_embed() {
                    Ok(pid) => log.push_str(&format!("; embedding started (pid {pid})")),
                    Err(e) => log.push_str(&format!("; embedding not started: {e}")),
                }
            }
            if s.backlog_skipped > 0 {
                log.push_str(&format!(
                    "; skipped {} bytes of older backlog (over capture.max_backlog_bytes), `msp context import {path}` captures them",
                    s.backlog_skipped
                ));
            }
            if s.cut_short {
                log.push_str("; stopped at the deadline, the next run goes on");
            }
        }
        Some(path) => log.push_str(&format!(" transcript {path} not found, nothing captured")),
        None => log.push_str(" no transcript_path, nothing captured"),
    }
    // What the recall hook injected counts as use, once.
    if let Some(sid) = &input.session_id {
        let j = Journal::for_session(&paths.data_dir, sid);
        let folded = journal::fold(db, &j).await;
        match &folded {
            Ok(n) if *n > 0 => log.push_str(&format!("; {n} recalls counted")),
            Ok(_) => {}
            Err(e) => log.push_str(&format!("; recalls not counted: {e}")),
        }
        // Kept when the fold failed: a later session end folds it as stale.
        if event == Event::SessionEnd && folded.is_ok() {
            j.remove();
            for stale in journal::stale(&paths.data_dir) {
                if journal::fold(db, &stale).await.is_ok() {
                    stale.remove();
                }
            }
        }
    }
    // After the capture, which counts as this session's activity.
    log.push_str(&close_idle(db, &config, now).await.note);
    if event == Event::SessionEnd
        && let (Some(m), Some(sid)) = (&machine_id, &input.session_id)
        && sessions::claude_session_ended(db, m, sid, now)
            .await?
            .is_some()
    {
        log.push_str("; work session closed");
    }
    // Team sync in the background, rate-limited; never waited for.
    if let Some(n) = crate::sync::auto_after_save(db, &paths, &config).await {
        log.push_str(&format!("; {n}"));
    }
    let _ = store.close().await;
    Ok(Outcome::quiet(log))
}
