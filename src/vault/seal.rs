//! The vault's seal: a small file beside the store (`vault.seal` in the
//! data dir, 0600) that remembers how far this vault's audit chain had
//! grown, so a store put back to an older copy of itself is noticed.
//!
//! The audit chain proves the order of what it holds, and its head (a row
//! in the same file) proves where it ends; but both can be restored from an
//! older copy of `msp.db` together, which the file alone cannot tell. The
//! seal holds the newest keyed entry's number and MAC (every vault read and
//! write appends one, so the number is a write counter), authenticated with
//! a subkey of the vault's data key. After each such write, msp moves the
//! seal forward; each unlock and `vault audit --verify` check that the
//! store still holds that entry, unchanged.
//!
//! The store remembers that a seal was written (`local_state`), so a
//! missing or foreign seal file is reported too. What this cannot detect:
//! the store and the seal file rolled back together (or the store rolled
//! back to a copy from before the first seal), since both are files of the
//! same user.

use std::path::{Path, PathBuf};

use super::Unlocked;
use crate::crypto::{self, Canon, Key};
use crate::error::{Error, Result};
use crate::store::{self, Db};

pub const FILE: &str = "vault.seal";
const HEADER: &str = "# msp vault seal: how far this vault's audit log had grown. Do not edit.";
/// `local_state` key: the vault id whose seal was written at least once.
const STATE_KEY: &str = "vault_sealed";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The newest keyed audit entry, as the seal remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    vault_id: String,
    seq: i64,
    mac: Vec<u8>,
}

fn tag(key: &Key, m: &Mark) -> [u8; 32] {
    use hmac::Mac;
    let mut h = crypto::hmac(key.expose());
    h.update(
        Canon::new("msp-vault-seal-v1")
            .str(&m.vault_id)
            .int(m.seq)
            .bytes(&m.mac)
            .finish(),
    );
    h.finalize().into_bytes().into()
}

fn render(key: &Key, m: &Mark) -> String {
    format!(
        "{HEADER}\nvault={}\nseq={}\nmac={}\ntag={}\n",
        m.vault_id,
        m.seq,
        hex::encode(&m.mac),
        hex::encode(tag(key, m))
    )
}

/// What a seal file says: `None` for no file, `Err` for one that does not
/// parse or authenticate.
enum Read {
    Missing,
    /// Written for another vault (this data dir held another one).
    Foreign(String),
    Bad(String),
    Valid(Mark),
}

fn read(key: &Key, vault_id: &str, path: &Path) -> Read {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        Err(e) => return Read::Bad(format!("cannot read {}: {e}", path.display())),
    };
    let mut fields = std::collections::HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            fields.insert(k.trim(), v.trim());
        }
    }
    let parsed = (|| {
        let m = Mark {
            vault_id: fields.get("vault")?.to_string(),
            seq: fields.get("seq")?.parse().ok()?,
            mac: hex::decode(fields.get("mac")?).ok()?,
        };
        let t = hex::decode(fields.get("tag")?).ok()?;
        Some((m, t))
    })();
    let Some((m, t)) = parsed else {
        return Read::Bad(format!("{} is not a vault seal", path.display()));
    };
    if m.vault_id != vault_id {
        return Read::Foreign(m.vault_id);
    }
    if !crypto::constant_time_eq(&tag(key, &m), &t) {
        return Read::Bad(format!(
            "{} was changed: its tag does not match",
            path.display()
        ));
    }
    Read::Valid(m)
}

/// The store's newest keyed audit entry, by the head row.
async fn store_mark(db: &mut Db, vault_id: &str) -> Result<Option<Mark>> {
    let head: Option<(i64, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT h.vault_seq, a.mac FROM vault_audit_head h LEFT JOIN vault_audit a ON a.seq = h.vault_seq WHERE h.id = 1",
    )
    .fetch_optional(&mut *db)
    .await?;
    Ok(match head {
        Some((seq, Some(mac))) => Some(Mark {
            vault_id: vault_id.to_string(),
            seq,
            mac,
        }),
        _ => None,
    })
}

/// Whether the store still holds the entry `m` names, unchanged.
async fn holds(db: &mut Db, m: &Mark) -> Result<bool> {
    let mac: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT mac FROM vault_audit WHERE seq = ? AND keyed = 'vault'")
            .bind(m.seq)
            .fetch_optional(&mut *db)
            .await?;
    Ok(mac.is_some_and(|mac| crypto::constant_time_eq(&mac, &m.mac)))
}

/// Everything the seal says is wrong with the store: empty when the store
/// holds the sealed entry (or no seal was ever written for this vault).
pub async fn check(db: &mut Db, v: &Unlocked) -> Result<Vec<String>> {
    let Some(dir) = &v.data_dir else {
        return Ok(Vec::new());
    };
    let path = path(dir);
    let sealed_before = store::get_state(db, STATE_KEY).await?.as_deref() == Some(&v.vault_id);
    let mut problems = Vec::new();
    match read(&v.seal, &v.vault_id, &path) {
        Read::Valid(m) => {
            if !holds(db, &m).await? {
                let ends = store_mark(db, &v.vault_id).await?.map_or(0, |s| s.seq);
                problems.push(if ends < m.seq {
                    format!(
                        "the store was rolled back: the seal {} says the audit log reached entry {}, the store's log ends at {ends}",
                        path.display(),
                        m.seq
                    )
                } else {
                    format!(
                        "the store was rolled back or rewritten: audit entry {} is not the one the seal {} recorded",
                        m.seq,
                        path.display()
                    )
                });
            }
        }
        Read::Missing if sealed_before => problems.push(format!(
            "the seal {} is missing, though this vault wrote one",
            path.display()
        )),
        Read::Foreign(other) if sealed_before => problems.push(format!(
            "the seal {} belongs to another vault ({other}), though this vault wrote one",
            path.display()
        )),
        Read::Bad(why) => problems.push(why),
        Read::Missing | Read::Foreign(_) => {}
    }
    Ok(problems)
}

/// The error an unlock returns when the seal finds the store rolled back.
pub fn rolled_back(problems: &[String], data_dir: &Path) -> Error {
    Error::Other(format!("integrity check failed: {}; the vault stays locked", problems.join("; "))).with_hint(format!("keep a copy of msp.db and {} for investigation; if you restored msp.db from a backup on purpose, `msp vault audit --verify --reseal` accepts it", path(data_dir).display()))
}

/// Moves the seal forward to the store's newest keyed audit entry, after a
/// committed vault write. Never moves it onto a store that no longer holds
/// the sealed entry (that evidence stays). Best effort: a seal that could
/// not be written lags behind, which is never reported as tampering.
pub async fn advance(db: &mut Db, v: &Unlocked) {
    let _ = try_advance(db, v).await;
}

async fn try_advance(db: &mut Db, v: &Unlocked) -> Result<()> {
    let Some(dir) = &v.data_dir else {
        return Ok(());
    };
    let Some(now) = store_mark(db, &v.vault_id).await? else {
        return Ok(());
    };
    let path = path(dir);
    match read(&v.seal, &v.vault_id, &path) {
        Read::Valid(old) if old == now => return Ok(()),
        Read::Valid(old) if old.seq > now.seq || !holds(db, &old).await? => return Ok(()),
        Read::Bad(_) => return Ok(()),
        Read::Missing | Read::Foreign(_)
            if store::get_state(db, STATE_KEY).await?.as_deref() == Some(&v.vault_id) =>
        {
            return Ok(());
        }
        _ => {}
    }
    write(dir, &v.seal, &now)?;
    remember_sealed(db, &v.vault_id).await
}

async fn remember_sealed(db: &mut Db, vault_id: &str) -> Result<()> {
    if store::get_state(db, STATE_KEY).await?.as_deref() != Some(vault_id) {
        store::set_state(db, STATE_KEY, vault_id).await?;
    }
    Ok(())
}

/// Seals the store as it is now, whatever the seal said: for a store
/// restored from a backup on purpose (`vault audit --verify --reseal`,
/// after the chain verified).
pub async fn reseal(db: &mut Db, v: &Unlocked) -> Result<()> {
    let Some(dir) = &v.data_dir else {
        return Ok(());
    };
    let Some(now) = store_mark(db, &v.vault_id).await? else {
        return Ok(());
    };
    write(dir, &v.seal, &now)?;
    remember_sealed(db, &v.vault_id).await
}

fn write(dir: &Path, key: &Key, m: &Mark) -> Result<()> {
    let path = path(dir);
    let tmp = dir.join(format!(".{FILE}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    super::redaction::write_private(&tmp, render(key, m).as_bytes())?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("replacing {}", path.display()), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_reads_back_and_any_change_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::random().unwrap();
        let m = Mark {
            vault_id: "v1".into(),
            seq: 42,
            mac: vec![7; 32],
        };
        let p = path(dir.path());
        std::fs::write(&p, render(&key, &m)).unwrap();
        assert!(matches!(read(&key, "v1", &p), Read::Valid(x) if x == m));
        assert!(matches!(read(&key, "v2", &p), Read::Foreign(_)));
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("seq=42", "seq=99")).unwrap();
        assert!(matches!(read(&key, "v1", &p), Read::Bad(_)));
        assert!(matches!(
            read(&Key::random().unwrap(), "v1", &p),
            Read::Bad(_)
        ));
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(read(&key, "v1", &p), Read::Missing));
    }
}
