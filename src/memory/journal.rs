//! Which memories a Claude session has already been given.
//!
//! The recall hook runs before every prompt and must stay read-only on the
//! store: a write there costs a write lock, a WAL commit and, as the last
//! connection closes, a checkpoint with two fsyncs (about 2 ms, most of the
//! hook's I/O). So the recall hook appends the ids it injected to a small
//! per-session file, `recalled/<session>` in the data directory, one line
//! per prompt: `<unix ms> <id> <id>...`. The save hook, which writes anyway,
//! folds the file into `recall_log` and the memories' use counts (idempotent:
//! a pair already in `recall_log` is not counted twice) and removes it when
//! the session ends.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::{self, Db};
use crate::time::Millis;

const DIR: &str = crate::files::JOURNAL_DIR;
/// Journals of sessions that never ended (Claude killed, machine off) are
/// folded and removed by the next session end after this long untouched.
const STALE_AFTER: Duration = Duration::from_secs(2 * 24 * 3600);
/// A line longer than this is not one the hook wrote; it is skipped.
const MAX_LINE: usize = 64 << 10;
/// A journal larger than this is not read (not one written by msp).
const MAX_JOURNAL: u64 = 64 << 20;

/// The journal of one Claude session.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    /// The session's key in `recall_log` (its id, or a hash of an id that is
    /// not safe as a file name).
    pub session_key: String,
}

/// The key a Claude session id is recorded under: the id itself when it is
/// a plain token (Claude Code uses UUIDs), else a hash of it.
pub fn session_key(session_id: &str) -> String {
    let plain = !session_id.is_empty()
        && session_id.len() <= 128
        && !session_id.starts_with('.')
        && session_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if plain {
        session_id.to_string()
    } else {
        format!(
            "h-{}",
            &hex::encode(Sha256::digest(session_id.as_bytes()))[..32]
        )
    }
}

impl Journal {
    pub fn for_session(data_dir: &Path, session_id: &str) -> Journal {
        let session_key = session_key(session_id);
        Journal {
            path: data_dir.join(DIR).join(&session_key),
            session_key,
        }
    }

    /// The entries written so far, `None` when there is no journal.
    /// Malformed lines (a torn write) are skipped.
    pub fn entries(&self) -> Option<Vec<(Millis, Vec<String>)>> {
        let text = crate::files::read_capped(&self.path, MAX_JOURNAL).ok()?;
        let text = String::from_utf8_lossy(&text);
        Some(
            text.lines()
                .filter(|l| l.len() <= MAX_LINE)
                .filter_map(|line| {
                    let mut parts = line.split(' ');
                    let at: Millis = parts.next()?.parse().ok()?;
                    let ids: Vec<String> = parts
                        .filter(|id| is_memory_id(id))
                        .map(str::to_string)
                        .collect();
                    (!ids.is_empty()).then_some((at, ids))
                })
                .collect(),
        )
    }

    /// Every memory id in the journal (`None` when there is no journal).
    pub fn injected(&self) -> Option<HashSet<String>> {
        self.entries()
            .map(|e| e.into_iter().flat_map(|(_, ids)| ids).collect())
    }

    /// Records one prompt's injected memories with a single append.
    pub fn append(&self, now: Millis, ids: &[String]) -> std::io::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut line = now.to_string();
        for id in ids {
            line.push(' ');
            line.push_str(id);
        }
        line.push('\n');
        let open = || {
            crate::files::private_options()
                .create(true)
                .append(true)
                .open(&self.path)
        };
        let mut file = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::files::create_private_dir(
                    self.path.parent().expect("journal has a directory"),
                )?;
                open()?
            }
            Err(e) => return Err(e),
        };
        file.write_all(line.as_bytes())
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Memory ids are UUIDs; anything else in a journal line is ignored.
fn is_memory_id(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Applies a journal to the store: each newly recorded (session, memory)
/// pair goes into `recall_log` and counts one use of the memory. Folding the
/// same journal again changes nothing. Returns the pairs newly recorded.
pub async fn fold(db: &mut Db, journal: &Journal) -> Result<u64> {
    let Some(entries) = journal.entries() else {
        return Ok(0);
    };
    if entries.is_empty() {
        return Ok(0);
    }
    let mut tx = store::begin_write(db).await?;
    let mut added = 0;
    for (at, ids) in entries {
        let list = serde_json::to_string(&ids).unwrap_or_default();
        let new: Vec<String> = sqlx::query_scalar(
            "INSERT OR IGNORE INTO recall_log (claude_session_id, memory_id, injected_at)
             SELECT ?1, value, ?2 FROM json_each(?3) WHERE value IN (SELECT id FROM memories)
             RETURNING memory_id",
        )
        .bind(&journal.session_key)
        .bind(at)
        .bind(&list)
        .fetch_all(&mut *tx)
        .await?;
        if new.is_empty() {
            continue;
        }
        added += new.len() as u64;
        sqlx::query(
            "UPDATE memories SET use_count = use_count + 1, last_used_at = max(COALESCE(last_used_at, 0), ?1)
             WHERE id IN (SELECT value FROM json_each(?2))",
        )
        .bind(at)
        .bind(serde_json::to_string(&new).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Memories a session was given before its journal was folded and removed
/// (a session resumed after it ended).
pub async fn recorded(db: &mut Db, journal: &Journal) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT memory_id FROM recall_log WHERE claude_session_id = ?")
            .bind(&journal.session_key)
            .fetch_all(db)
            .await?,
    )
}

/// Journals left untouched for days (sessions that never ended).
pub fn stale(data_dir: &Path) -> Vec<Journal> {
    let Ok(dir) = std::fs::read_dir(data_dir.join(DIR)) else {
        return vec![];
    };
    let now = SystemTime::now();
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_AFTER)
        })
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            (session_key(&name) == name).then(|| Journal {
                path: e.path(),
                session_key: name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "01a20136-8082-7141-81cc-d97702c54b13";
    const B: &str = "01a20136-812a-774a-8504-dbefc1f116d0";

    #[test]
    fn appended_ids_are_read_back_and_torn_lines_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::for_session(dir.path(), "0b0c-session");
        assert!(j.injected().is_none());
        j.append(10, &[A.to_string()]).unwrap();
        j.append(20, &[B.to_string()]).unwrap();
        // A write cut short by a crash leaves a partial line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&j.path)
            .unwrap()
            .write_all(b"30 01a20136-80")
            .unwrap();
        let ids = j.injected().unwrap();
        assert_eq!(ids, HashSet::from([A.to_string(), B.to_string()]));
        assert_eq!(j.entries().unwrap().len(), 2);
    }

    #[test]
    fn unsafe_session_ids_become_hashed_file_names() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["../../etc/passwd", "a/b", "", ".hidden", &"x".repeat(300)] {
            let j = Journal::for_session(dir.path(), id);
            assert!(j.session_key.starts_with("h-"), "{id:?}");
            assert_eq!(j.path.parent().unwrap(), dir.path().join(DIR));
        }
        let uuid = "5f1c2a4e-8c1d-4e57-9a3f-0c9d2b7e6a11";
        assert_eq!(session_key(uuid), uuid);
    }
}

/// One memory injected into a Claude session, for the console.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Injection {
    pub claude_session_id: String,
    pub memory_id: String,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub injected_at: Millis,
    /// The memory's title and tokens (none when it was forgotten since).
    pub title: Option<String>,
    pub stored_tokens: Option<i64>,
}

/// The newest injections recorded (folded from the journals), newest first.
pub async fn injections(db: &mut Db, limit: i64) -> Result<Vec<Injection>> {
    Ok(sqlx::query_as(
        "SELECT r.claude_session_id, r.memory_id, r.injected_at, m.title, m.stored_tokens
         FROM recall_log r LEFT JOIN memories m ON m.id = r.memory_id
         ORDER BY r.injected_at DESC, r.claude_session_id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}
