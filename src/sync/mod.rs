//! Team sync through PostgreSQL: local-first, end-to-end encrypted,
//! converging.
//!
//! Every change to a synced entity becomes a record in this machine's own
//! series: record id (UUIDv7), machine id, per-machine counter, kind, format
//! version, and a sealed payload holding the entity id, the change's
//! timestamp and the row (or a tombstone). Changes are found by triggers
//! (generated from `store::synced`, created by every connection that writes, fill
//! `sync_dirty`), so no write site knows
//! about sync; `msp sync` turns them into records at the start of each run.
//!
//! A series has one writer, so pushes never conflict. Entity state is the
//! fold of its records, last writer wins by (timestamp, machine id); a local
//! change that saw another machine's version gets a timestamp after it, so
//! every machine picks the same winner whatever the order of syncs.
//!
//! Crash safety: emitting is one SQLite transaction; a push sends batches in
//! counter order (what the server holds of a series is always a prefix, and
//! re-sending is a no-op); a pull downloads and verifies everything first,
//! then stores the records, applies them and moves the high-water marks (the
//! per-machine maximum counter in `sync_records`) in one transaction.

pub mod entities;
pub mod key;
pub mod password;
pub mod server;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use self::key::TeamKey;
use self::server::{Server, Wire};
use crate::config::{Config, Paths};
use crate::crypto;
use crate::error::{Error, Result};
use crate::ids;
use crate::machine;
use crate::store::{self, Db};
use crate::time::{Millis, now_ms, rfc3339};

/// The record format this msp writes and reads. Records of a newer format
/// (or of a kind this msp does not know) are kept unapplied and retried by
/// every sync, so upgrading msp applies them.
pub const FORMAT_VERSION: i64 = 1;

/// How long `msp sync` waits for the server before it gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

const PULL_BATCH: i64 = 5000;

const STATE_URL: &str = "sync.url";
const STATE_LAST: &str = "sync.last";
const STATE_PUSHED: &str = "sync.pushed_counter";
const STATE_AUTO: &str = "sync.auto_spawned_at";

/// What a sealed payload holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    /// Entity id.
    e: String,
    /// When the change was made (unix ms), the LWW timestamp.
    t: Millis,
    /// Tombstone.
    d: bool,
    /// The row, for a put.
    r: Option<Map<String, Value>>,
}

fn aad(version: i64, record_id: &str, machine_id: &str, counter: i64, kind: &str) -> String {
    format!("msp-sync-record|{version}|{record_id}|{machine_id}|{counter}|{kind}")
}

fn seal(key: &TeamKey, w: &Wire, env: &Envelope) -> Result<Vec<u8>> {
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(env).map_err(|e| Error::Other(format!("encoding a record: {e}")))?,
    );
    let (nonce, ct) = crypto::seal(
        &key.key,
        &plain,
        aad(w.version, &w.record_id, &w.machine_id, w.counter, &w.kind).as_bytes(),
    )?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a record; `None` when it does not authenticate (wrong key, changed
/// bytes, or moved to another id, machine, counter, kind or version).
fn open(key: &TeamKey, w: &Wire) -> Option<Vec<u8>> {
    if w.sealed.len() < crypto::NONCE_LEN {
        return None;
    }
    let (nonce, ct) = w.sealed.split_at(crypto::NONCE_LEN);
    crypto::open(
        &key.key,
        nonce,
        ct,
        aad(w.version, &w.record_id, &w.machine_id, w.counter, &w.kind).as_bytes(),
    )
    .map(|s| s.expose().to_vec())
}

/// Whether this msp can apply a record of this kind and version.
fn understood(kind: &str, version: i64) -> bool {
    version <= FORMAT_VERSION && entities::spec(kind).is_some()
}

fn open_envelope(key: &TeamKey, w: &Wire) -> Result<Option<Envelope>> {
    let plain = open(key, w).ok_or_else(|| tampered(w))?;
    if !understood(&w.kind, w.version) {
        return Ok(None);
    }
    serde_json::from_slice(&plain)
        .map(Some)
        .map_err(|_| tampered(w))
}

fn tampered(w: &Wire) -> Error {
    Error::Other(format!("record {} (machine {}, #{}) on the team store does not authenticate: it was changed or moved on the server, or sealed with another team key; nothing was applied", w.record_id, ids::short_id(&w.machine_id), w.counter)).with_hint("ask whoever runs the database what changed; `msp sync status` shows the team; a machine with a different key must `msp sync key import` the team's key")
}

/// The sync URL: `sync.url` / `MSP_SYNC_URL`, else the one `msp sync init
/// --url` remembered, with its password (kept in a file, see [`password`]).
pub async fn resolve_url(db: &mut Db, data_dir: &Path, config: &Config) -> Result<Option<String>> {
    if !config.sync.url.trim().is_empty() {
        return Ok(Some(config.sync.url.trim().to_string()));
    }
    let Some(url) = store::get_state(db, STATE_URL)
        .await?
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    Ok(Some(match password::load(data_dir)? {
        Some(pw) if password::split(&url).1.is_none() => password::join(&url, &pw).to_string(),
        _ => url,
    }))
}

/// Remembers the URL `msp sync init --url` was given: its password goes to
/// a 0600 file, the rest to the store.
async fn remember_url(db: &mut Db, data_dir: &Path, url: &str) -> Result<()> {
    let (rest, pw) = password::split(url);
    match pw {
        Some(pw) => password::save(data_dir, &pw)?,
        None => password::remove(data_dir),
    }
    store::set_state(db, STATE_URL, &rest).await
}

/// Moves the password out of a URL remembered by an older msp (which kept
/// it in the store). Idempotent and cheap: one read when there is nothing
/// to move. The old value is overwritten in place (`secure_delete`) and the
/// WAL truncated, so the password leaves the files too.
pub async fn secure_remembered_url(db: &mut Db, data_dir: &Path) -> Result<bool> {
    let Some(url) = store::get_state(db, STATE_URL).await? else {
        return Ok(false);
    };
    if password::split(&url).1.is_none() {
        return Ok(false);
    }
    remember_url(db, data_dir, &url).await?;
    let _ = store::checkpoint_truncate(db).await;
    Ok(true)
}

pub fn require_url(url: Option<String>) -> Result<String> {
    url.ok_or_else(|| {
        Error::usage("no team store configured").with_hint("give it once with `msp sync init --url postgres://USER@HOST/DB` (it asks for the password), or set sync.url in config.toml or MSP_SYNC_URL")
    })
}

pub fn connect_timeout(config: &Config) -> Duration {
    Duration::from_secs(config.sync.connect_timeout_secs.max(1))
}

/// Checks that `key` is the key of the team on `server`.
async fn check_team(server: &mut Server, key: &TeamKey) -> Result<()> {
    let Some((team_id, check)) = server.meta().await? else {
        return Err(Error::NotFound(format!(
            "no msp team on the team store {}",
            server.masked_url()
        ))
        .with_hint("run `msp sync init` once to create it"));
    };
    if team_id != key.team_id {
        return Err(Error::Locked(format!("this machine's team key belongs to team {}, but the team store {} holds team {team_id}; nothing was applied", key.team_id, server.masked_url())).with_hint("on a machine that syncs with this store run `msp sync key export`, then here `msp sync key import --replace`"));
    }
    if !key.verify_check(&check) {
        return Err(Error::Locked(format!("the team key on this machine does not open the team store's key check (wrong key for team {team_id}); nothing was applied")).with_hint("on a machine that syncs run `msp sync key export`, then here `msp sync key import --replace`"));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub team_id: String,
    pub url: String,
    /// True when this run created the team (false: this machine joined or was already in it).
    pub created: bool,
    pub key_file: String,
}

/// `msp sync init`: creates the server tables if missing and, on the first
/// machine, the team and its key.
pub async fn init(
    db: &mut Db,
    paths: &Paths,
    url: &str,
    timeout: Duration,
    remember: bool,
) -> Result<InitReport> {
    machine::require_self(db).await?;
    let mut server = Server::connect(url, timeout).await?;
    server.create_schema().await?;
    let local = TeamKey::load(&paths.data_dir)?;
    let key_file = key::path(&paths.data_dir).display().to_string();
    let report = match (server.meta().await?, local) {
        (Some(_), Some(k)) => {
            check_team(&mut server, &k).await?;
            InitReport {
                team_id: k.team_id,
                url: server.masked_url(),
                created: false,
                key_file,
            }
        }
        (Some((team_id, _)), None) => {
            return Err(Error::Locked(format!("the team store {} already holds team {team_id}, and this machine has no key for it", server.masked_url())).with_hint("on a machine of the team run `msp sync key export`, then here `msp sync key import` (the key never goes through the server)"));
        }
        (None, local) => {
            let generated = local.is_none();
            let k = match local {
                Some(k) => k,
                None => {
                    let k = TeamKey::generate()?;
                    k.save(&paths.data_dir)?;
                    k
                }
            };
            let (team_id, _) = server.create_meta(&k.team_id, &k.key_check()?).await?;
            if team_id != k.team_id {
                // Another machine created the team at the same moment.
                if generated {
                    let _ = std::fs::remove_file(key::path(&paths.data_dir));
                }
                return Err(Error::Locked(format!(
                    "another machine created team {team_id} on this store at the same moment"
                ))
                .with_hint(
                    "import its key: `msp sync key export` there, `msp sync key import` here",
                ));
            }
            InitReport {
                team_id,
                url: server.masked_url(),
                created: true,
                key_file,
            }
        }
    };
    server.close().await;
    if remember {
        remember_url(db, &paths.data_dir, url).await?;
    }
    Ok(report)
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub team_id: String,
    /// Whether the key was checked against the team store (false: not reachable or not configured).
    pub verified: bool,
    pub changed: bool,
}

/// `msp sync key import`: stores a key given by hand, after checking it
/// against the team store when that is reachable.
pub async fn import_key(
    db: &mut Db,
    paths: &Paths,
    config: &Config,
    text: &str,
    replace: bool,
) -> Result<ImportReport> {
    let k = TeamKey::parse(text)?;
    if let Some(existing) = TeamKey::load(&paths.data_dir)? {
        if existing.team_id == k.team_id && existing.key.expose() == k.key.expose() {
            return Ok(ImportReport {
                team_id: k.team_id,
                verified: false,
                changed: false,
            });
        }
        if !replace {
            return Err(Error::Conflict(format!(
                "this machine already has the key of team {}",
                existing.team_id
            ))
            .with_hint("add --replace to replace it (records already pulled stay)"));
        }
    }
    let mut verified = false;
    if let Some(url) = resolve_url(db, &paths.data_dir, config).await?
        && let Ok(mut server) = Server::connect(&url, connect_timeout(config)).await
    {
        check_team(&mut server, &k).await?;
        verified = true;
        server.close().await;
    }
    k.save(&paths.data_dir)?;
    Ok(ImportReport {
        team_id: k.team_id,
        verified,
        changed: true,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub pushed: u64,
    pub pulled: u64,
    pub conflicts_resolved: u64,
    pub duration_ms: u64,
    /// Local changes turned into records by this run.
    pub emitted: u64,
    /// Records applied to the local store.
    pub applied: u64,
    /// Records kept but not applied (unknown kind or newer format, or waiting
    /// for an entity they refer to).
    pub kept: u64,
}

/// What a sync run reports as it goes (a stage and how many items it has,
/// then items done); the caller decides how, or whether, to show it.
pub trait Progress {
    fn stage(&self, _name: &'static str, _len: u64) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// `msp sync`: emit local changes, push what the server lacks, pull what
/// this machine lacks.
pub struct RunOptions {
    pub connect_timeout: Duration,
    /// Records per INSERT when pushing.
    pub push_batch: u32,
}

impl RunOptions {
    pub fn from_config(config: &Config) -> RunOptions {
        RunOptions {
            connect_timeout: connect_timeout(config),
            push_batch: config.sync.push_batch.max(1),
        }
    }
}

pub async fn run(
    db: &mut Db,
    paths: &Paths,
    url: &str,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<Report> {
    let started = Instant::now();
    let self_id = machine::require_self(db).await?;
    let key = TeamKey::require(&paths.data_dir)?;
    let mut server = Server::connect(url, opts.connect_timeout).await?;
    check_team(&mut server, &key).await?;
    let heads: HashMap<String, i64> = server.heads().await?.into_iter().collect();
    let server_own = heads.get(&self_id).copied().unwrap_or(0);
    let local_own = local_head(db, &self_id).await?;
    if server_own > local_own {
        return Err(Error::Conflict(format!("the team store has {server_own} records from this machine ({}) but this store only {local_own}: was the store restored from an old copy?", ids::short_id(&self_id))).with_hint("register a fresh machine id (move msp.db away and run `msp setup`), then sync again"));
    }
    let mut report = Report {
        emitted: emit(db, &key, &self_id).await?,
        ..Report::default()
    };

    // Push: the server holds a prefix of this series; send the rest in order.
    let local_own = local_head(db, &self_id).await?;
    progress.stage("push", (local_own - server_own).max(0) as u64);
    let mut after = server_own;
    loop {
        let batch = own_records(db, &self_id, after, i64::from(opts.push_batch)).await?;
        let Some(last) = batch.last() else { break };
        after = last.counter;
        server.push(&batch).await?;
        report.pushed += batch.len() as u64;
        progress.inc(batch.len() as u64);
    }
    store::set_state(db, STATE_PUSHED, &after.to_string()).await?;

    // Pull: everything after each machine's high-water mark, verified before
    // anything is stored or applied.
    let locals = local_heads(db).await?;
    let mut wanted: Vec<(String, i64, i64)> = heads
        .iter()
        .filter(|(m, _)| **m != self_id)
        .filter_map(|(m, head)| {
            let have = locals.get(m).copied().unwrap_or(0);
            (*head > have).then(|| (m.clone(), have, *head))
        })
        .collect();
    wanted.sort();
    progress.stage(
        "pull",
        wanted
            .iter()
            .map(|(_, have, head)| (head - have) as u64)
            .sum(),
    );
    let mut pulled: Vec<(Wire, Option<Envelope>)> = Vec::new();
    for (m, have, head) in &wanted {
        let mut expect = *have + 1;
        while expect <= *head {
            let batch = server.fetch(m, expect - 1, PULL_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            progress.inc(batch.len() as u64);
            for w in batch {
                if w.counter != expect || w.machine_id != *m {
                    return Err(Error::Other(format!("record #{expect} of machine {} is missing on the team store (found #{}); nothing was applied", ids::short_id(m), w.counter)).with_hint("records are never deleted by msp: ask whoever runs the database"));
                }
                if uuid::Uuid::parse_str(&w.record_id).is_err() {
                    return Err(tampered(&w));
                }
                let env = open_envelope(&key, &w)?;
                expect += 1;
                pulled.push((w, env));
            }
        }
    }
    server.close().await;
    let pulled_count = pulled.len() as u64;
    progress.stage("apply", pulled_count);
    let stats = store_and_apply(db, &key, &self_id, pulled).await?;
    progress.finish();
    report.pulled = stats.stored;
    report.applied = stats.applied;
    report.conflicts_resolved = stats.conflicts;
    report.kept = stats.kept;
    report.duration_ms = started.elapsed().as_millis() as u64;
    let last = serde_json::json!({ "at": now_ms(), "report": &report });
    store::set_state(db, STATE_LAST, &last.to_string()).await?;
    Ok(report)
}

async fn local_head(db: &mut Db, machine_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(max(counter), 0) FROM sync_records WHERE machine_id = ?",
    )
    .bind(machine_id)
    .fetch_one(db)
    .await?)
}

async fn local_heads(db: &mut Db) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT machine_id, max(counter) FROM sync_records GROUP BY machine_id")
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

async fn own_records(db: &mut Db, self_id: &str, after: i64, limit: i64) -> Result<Vec<Wire>> {
    let rows: Vec<(i64, String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT counter, record_id, kind, version, sealed FROM sync_records
         WHERE machine_id = ? AND counter > ? ORDER BY counter LIMIT ?",
    )
    .bind(self_id)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(counter, record_id, kind, version, sealed)| Wire {
            machine_id: self_id.to_string(),
            counter,
            record_id,
            kind,
            version,
            sealed,
        })
        .collect())
}

/// Turns every pending local change into a record of this machine's series,
/// in one transaction. Returns how many records were written.
pub async fn emit(db: &mut Db, key: &TeamKey, self_id: &str) -> Result<u64> {
    let mut tx = store::begin_write(db).await?;
    let mut dirty: Vec<(String, String, Millis)> =
        sqlx::query_as("SELECT kind, entity_id, changed_at FROM sync_dirty")
            .fetch_all(&mut *tx)
            .await?;
    dirty.sort_by_key(|(kind, id, at)| (entities::rank(kind), *at, id.clone()));
    let mut counter: i64 = sqlx::query_scalar(
        "SELECT COALESCE(max(counter), 0) FROM sync_records WHERE machine_id = ?",
    )
    .bind(self_id)
    .fetch_one(&mut *tx)
    .await?;
    let mut written = 0;
    for (kind, entity_id, changed_at) in &dirty {
        let Some(spec) = entities::spec(kind) else {
            continue;
        };
        let row = entities::read_row(&mut tx, spec, entity_id).await?;
        let winner: Option<Millis> =
            sqlx::query_scalar("SELECT ts FROM sync_entities WHERE kind = ? AND entity_id = ?")
                .bind(kind)
                .bind(entity_id)
                .fetch_optional(&mut *tx)
                .await?;
        // A change made after seeing another machine's version is newer
        // than it, whatever the clocks say.
        let ts = winner.map_or(*changed_at, |w| (*changed_at).max(w + 1));
        counter += 1;
        let wire = Wire {
            machine_id: self_id.to_string(),
            counter,
            record_id: ids::new_id(),
            kind: kind.clone(),
            version: FORMAT_VERSION,
            sealed: Vec::new(),
        };
        let env = Envelope {
            e: entity_id.clone(),
            t: ts,
            d: row.is_none(),
            r: row,
        };
        let sealed = seal(key, &wire, &env)?;
        sqlx::query(
            "INSERT INTO sync_records (machine_id, counter, record_id, kind, version, entity_id, ts, sealed, applied)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(&wire.machine_id)
        .bind(counter)
        .bind(&wire.record_id)
        .bind(kind)
        .bind(FORMAT_VERSION)
        .bind(entity_id)
        .bind(ts)
        .bind(&sealed)
        .execute(&mut *tx)
        .await?;
        set_winner(&mut tx, kind, entity_id, ts, self_id).await?;
        written += 1;
    }
    sqlx::query("DELETE FROM sync_dirty")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(written)
}

async fn set_winner(
    db: &mut Db,
    kind: &str,
    entity_id: &str,
    ts: Millis,
    machine_id: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_entities (kind, entity_id, ts, machine_id) VALUES (?, ?, ?, ?)
         ON CONFLICT(kind, entity_id) DO UPDATE SET ts = excluded.ts, machine_id = excluded.machine_id",
    )
    .bind(kind)
    .bind(entity_id)
    .bind(ts)
    .bind(machine_id)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Default)]
struct ApplyStats {
    stored: u64,
    applied: u64,
    conflicts: u64,
    kept: u64,
}

/// Stores pulled records and applies them, with every earlier record not
/// applied yet, in one transaction with the change triggers off.
async fn store_and_apply(
    db: &mut Db,
    key: &TeamKey,
    self_id: &str,
    pulled: Vec<(Wire, Option<Envelope>)>,
) -> Result<ApplyStats> {
    let mut stats = ApplyStats::default();
    // One big transaction with a savepoint per record: keep the
    // transaction's pages in memory (savepoint journals are in memory
    // already: every connection opens with temp_store = MEMORY).
    sqlx::query("PRAGMA cache_size = -65536")
        .execute(&mut *db)
        .await?;
    let mut tx = store::begin_write(db).await?;
    sqlx::query("INSERT INTO sync_applying (id) VALUES (1)")
        .execute(&mut *tx)
        .await?;
    // Earlier records kept unapplied (a kind this msp did not know then, or
    // waiting for what they refer to) get another chance.
    let earlier: Vec<(String, i64, String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT machine_id, counter, record_id, kind, version, sealed FROM sync_records WHERE applied = 0",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut todo: Vec<(Wire, Option<Envelope>, bool)> = Vec::with_capacity(pulled.len());
    for (machine_id, counter, record_id, kind, version, sealed) in earlier {
        let w = Wire {
            machine_id,
            counter,
            record_id,
            kind,
            version,
            sealed,
        };
        let env = open_envelope(key, &w)?;
        todo.push((w, env, false));
    }
    let heads = local_heads(&mut tx).await?;
    for (w, env) in pulled {
        // Another `msp sync` may have stored it meanwhile: same record, no-op.
        let known: Option<String> = if w.counter <= heads.get(&w.machine_id).copied().unwrap_or(0) {
            sqlx::query_scalar(
                "SELECT record_id FROM sync_records WHERE machine_id = ? AND counter = ?",
            )
            .bind(&w.machine_id)
            .bind(w.counter)
            .fetch_optional(&mut *tx)
            .await?
        } else {
            None
        };
        match known {
            Some(id) if id == w.record_id => continue,
            Some(_) => {
                return Err(Error::Other(format!("record #{} of machine {} differs from the copy this machine pulled before; nothing was applied", w.counter, ids::short_id(&w.machine_id))).with_hint("ask whoever runs the database what changed"));
            }
            None => {}
        }
        todo.push((w, env, true));
    }
    // Dependency order, oldest change first.
    todo.sort_by(|(a, ea, _), (b, eb, _)| {
        let t = |e: &Option<Envelope>| e.as_ref().map_or(0, |e| e.t);
        (entities::rank(&a.kind), t(ea), &a.machine_id, a.counter).cmp(&(
            entities::rank(&b.kind),
            t(eb),
            &b.machine_id,
            b.counter,
        ))
    });
    let any_dirty: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sync_dirty)")
        .fetch_one(&mut *tx)
        .await?;
    let keys: Vec<(&str, &str)> = todo
        .iter()
        .filter_map(|(w, env, _)| env.as_ref().map(|e| (w.kind.as_str(), e.e.as_str())))
        .collect();
    let rows: Vec<(String, String, Millis, String)> = sqlx::query_as(
        "SELECT s.kind, s.entity_id, s.ts, s.machine_id FROM json_each(?) j
         JOIN sync_entities s ON s.kind = json_extract(j.value, '$[0]') AND s.entity_id = json_extract(j.value, '$[1]')",
    )
    .bind(serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into()))
    .fetch_all(&mut *tx)
    .await?;
    let mut winners: Winners = rows
        .into_iter()
        .map(|(k, e, ts, m)| ((k, e), (ts, m)))
        .collect();
    let before = winners.clone();
    let mut new_rows: Vec<Value> = Vec::new();
    let mut memory_deleted = false;
    for (w, env, new) in &todo {
        let applied = match env {
            None => {
                stats.kept += 1;
                false
            }
            Some(env) => {
                match apply_one(&mut tx, self_id, w, env, any_dirty, &mut winners).await? {
                    Applied::Won => {
                        stats.applied += 1;
                        memory_deleted |= w.kind == "memory" && (env.d || env.r.is_none());
                        true
                    }
                    Applied::Lost => {
                        stats.conflicts += 1;
                        true
                    }
                    Applied::Waiting => {
                        stats.kept += 1;
                        false
                    }
                }
            }
        };
        if *new {
            // An applied record lives on in the tables; only what waits keeps its bytes.
            new_rows.push(serde_json::json!([
                w.machine_id,
                w.counter,
                w.record_id,
                w.kind,
                w.version,
                env.as_ref().map(|e| e.e.as_str()),
                env.as_ref().map(|e| e.t),
                if applied {
                    String::new()
                } else {
                    hex::encode(&w.sealed)
                },
                applied,
            ]));
            stats.stored += 1;
        } else if applied {
            sqlx::query("UPDATE sync_records SET applied = 1, sealed = x'' WHERE machine_id = ? AND counter = ?")
                .bind(&w.machine_id)
                .bind(w.counter)
                .execute(&mut *tx)
                .await?;
        }
    }
    for chunk in new_rows.chunks(500) {
        let res = sqlx::query(
            "INSERT INTO sync_records (machine_id, counter, record_id, kind, version, entity_id, ts, sealed, applied)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6,
                    unhex(value ->> 7), value ->> 8 FROM json_each(?)",
        )
        .bind(Value::Array(chunk.to_vec()).to_string())
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Error::Other("a record id appears twice on the team store (replayed under another machine or counter); nothing was applied".into()).with_hint("ask whoever runs the database what changed"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let changed: Vec<(&str, &str, Millis, &str)> = winners
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|((k, e), (ts, m))| (k.as_str(), e.as_str(), *ts, m.as_str()))
        .collect();
    for chunk in changed.chunks(1000) {
        sqlx::query(
            "INSERT INTO sync_entities (kind, entity_id, ts, machine_id)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
             ON CONFLICT(kind, entity_id) DO UPDATE SET ts = excluded.ts, machine_id = excluded.machine_id",
        )
        .bind(serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await?;
    }
    // A memory forgotten on another machine leaves no words here either.
    if memory_deleted {
        crate::memory::store::purge_index(&mut tx).await?;
    }
    sqlx::query("DELETE FROM sync_applying")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(stats)
}

enum Applied {
    Won,
    /// A newer version (here or already applied) wins.
    Lost,
    Waiting,
}

/// The version each entity holds: (kind, entity id) -> (ts, machine id).
type Winners = HashMap<(String, String), (Millis, String)>;

async fn apply_one(
    tx: &mut Db,
    self_id: &str,
    w: &Wire,
    env: &Envelope,
    any_dirty: bool,
    winners: &mut Winners,
) -> Result<Applied> {
    let Some(spec) = entities::spec(&w.kind) else {
        return Ok(Applied::Waiting);
    };
    let entity = (w.kind.clone(), env.e.clone());
    let winner = winners.get(&entity);
    let incoming = (env.t, w.machine_id.as_str());
    if let Some((ts, m)) = winner
        && (*ts, m.as_str()) > incoming
    {
        return Ok(Applied::Lost);
    }
    // A local change not emitted yet (written while this sync ran).
    let dirty: Option<Millis> = if any_dirty {
        sqlx::query_scalar("SELECT changed_at FROM sync_dirty WHERE kind = ? AND entity_id = ?")
            .bind(&w.kind)
            .bind(&env.e)
            .fetch_optional(&mut *tx)
            .await?
    } else {
        None
    };
    if let Some(changed_at) = dirty {
        let local_ts = winner.map_or(changed_at, |(ts, _)| changed_at.max(ts + 1));
        if (local_ts, self_id) > incoming {
            return Ok(Applied::Lost);
        }
    }
    // Each write below is one statement, or restores what it changed when
    // it has to wait: no savepoint needed.
    let outcome = match (&env.r, env.d) {
        (Some(row), false) => entities::put(tx, spec, row).await?,
        _ => entities::delete(tx, spec, &env.e).await?,
    };
    match outcome {
        entities::Outcome::Done => {
            winners.insert(entity, (env.t, w.machine_id.clone()));
            if dirty.is_some() {
                sqlx::query("DELETE FROM sync_dirty WHERE kind = ? AND entity_id = ?")
                    .bind(&w.kind)
                    .bind(&env.e)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(Applied::Won)
        }
        entities::Outcome::Waiting => Ok(Applied::Waiting),
    }
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub team_id: Option<String>,
    pub key_file: String,
    pub url: Option<String>,
    pub reachable: Option<bool>,
    pub server_error: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_sync: Option<Report>,
    /// Local changes not yet turned into records.
    pub pending_changes: i64,
    /// Records of this machine the server does not have (as of the last
    /// push, or checked now when the server is reachable).
    pub unpushed_records: i64,
    /// Records of other machines the server has and this one not (when reachable).
    pub unpulled_records: Option<i64>,
    /// Pulled records kept but not applied (unknown kind or newer format).
    pub kept_records: i64,
}

/// `msp sync status`: what is pending, and whether the server answers.
pub async fn status(
    db: &mut Db,
    paths: &Paths,
    config: &Config,
    timeout: Duration,
) -> Result<Status> {
    let self_id = machine::self_id(db).await?.unwrap_or_default();
    let key = TeamKey::load(&paths.data_dir)?;
    let url = resolve_url(db, &paths.data_dir, config).await?;
    let pending_changes: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_dirty")
        .fetch_one(&mut *db)
        .await?;
    let kept_records: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sync_records WHERE applied = 0")
            .fetch_one(&mut *db)
            .await?;
    let local_own = local_head(db, &self_id).await?;
    let pushed: i64 = store::get_state(db, STATE_PUSHED)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut st = Status {
        team_id: key.as_ref().map(|k| k.team_id.clone()),
        key_file: key::path(&paths.data_dir).display().to_string(),
        url: url.as_deref().map(server::mask_url),
        reachable: None,
        server_error: None,
        last_sync_at: None,
        last_sync: None,
        pending_changes,
        unpushed_records: (local_own - pushed).max(0),
        unpulled_records: None,
        kept_records,
    };
    if let Some(last) = store::get_state(db, STATE_LAST).await?
        && let Ok(v) = serde_json::from_str::<Value>(&last)
    {
        st.last_sync_at = v.get("at").and_then(Value::as_i64).map(rfc3339);
        st.last_sync = v
            .get("report")
            .and_then(|r| serde_json::from_value(r.clone()).ok());
    }
    if let Some(url) = &url {
        match Server::connect(url, timeout).await {
            Ok(mut server) => {
                st.reachable = Some(true);
                match server.heads().await {
                    Ok(heads) => {
                        let locals = local_heads(db).await?;
                        let own = heads.iter().find(|(m, _)| *m == self_id).map_or(0, |h| h.1);
                        st.unpushed_records = (local_own - own).max(0);
                        st.unpulled_records = Some(
                            heads
                                .iter()
                                .filter(|(m, _)| *m != self_id)
                                .map(|(m, h)| (h - locals.get(m).copied().unwrap_or(0)).max(0))
                                .sum(),
                        );
                    }
                    Err(e) => st.server_error = Some(first_line(&e.to_string())),
                }
                server.close().await;
            }
            Err(e) => {
                st.reachable = Some(false);
                st.server_error = Some(first_line(&e.to_string()));
            }
        }
    }
    Ok(st)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// After a save: starts a detached `msp sync` when `sync.auto` is on, a
/// team key and URL exist, and the last start is `sync.interval_secs` ago.
/// Never waits for it; returns a note for the hook's log line.
pub async fn auto_after_save(db: &mut Db, paths: &Paths, config: &Config) -> Option<String> {
    if !config.sync.auto || !key::path(&paths.data_dir).is_file() {
        return None;
    }
    // No team store configured: nothing to do.
    resolve_url(db, &paths.data_dir, config)
        .await
        .ok()
        .flatten()?;
    let now = now_ms();
    let last: Millis = store::get_state(db, STATE_AUTO)
        .await
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if now - last < (config.sync.interval_secs as i64) * 1000 {
        return None;
    }
    if let Err(e) = store::set_state(db, STATE_AUTO, &now.to_string()).await {
        return Some(format!("sync not started: {e}"));
    }
    Some(match crate::process::spawn_msp(&["sync"]) {
        Ok(pid) => format!("sync started (pid {pid})"),
        Err(e) => format!("sync not started: {e}"),
    })
}

/// Where the team key lives (for messages).
pub fn key_path(data_dir: &Path) -> std::path::PathBuf {
    key::path(data_dir)
}

#[cfg(test)]
mod tests;
