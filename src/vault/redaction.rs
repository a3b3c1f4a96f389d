//! Vault values are redacted from captured transcripts without the vault
//! being unlocked on the hook path.
//!
//! A random redaction key lives in its own file, `redaction.key` beside the
//! store (0600, never in the database). For every kept value the store holds
//! `HMAC-SHA256(redaction key, value)` and the value's length. Capture loads
//! the key and the MACs once per process (one small query, one 32-byte file)
//! and asks, for each candidate token of a transcript, whether its length is
//! one of the stored lengths and, only then, whether its MAC is stored.
//!
//! Someone with a copy of `msp.db` but not the key file learns the lengths
//! of the secrets and nothing else: without the key, a MAC cannot be
//! computed for a guess, so confirming a guessed secret is no easier than
//! attacking the vault. With the key file too, each guess costs one HMAC
//! (fast), which is why the file stays 0600 beside the store and out of it.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::Mac;

use crate::crypto::{self, HmacSha256, Key, Secret};
use crate::error::{Error, Result};
use crate::known_secrets::{self, MIN_LEN};
use crate::store::Db;

pub const KEY_FILE: &str = "redaction.key";
/// Longest value offered for redaction (the redactor offers no longer
/// candidates).
pub const MAX_LEN: usize = known_secrets::MAX_LEN;

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// The redaction key, if its file exists. A file of the wrong size is an
/// error (it is not ours, or damaged).
pub fn load_key(data_dir: &Path) -> Result<Option<Key>> {
    let path = key_path(data_dir);
    match crate::files::read_capped(&path, crate::files::KEY_CAP) {
        Ok(bytes) => {
            let bytes = zeroize::Zeroizing::new(bytes);
            Key::from_slice(&bytes).map(Some).ok_or_else(|| {
                Error::Other(format!(
                    "{} is not a redaction key (expected 32 bytes)",
                    path.display()
                ))
                .with_hint("move it away; the next `msp vault set` creates a new one")
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// Creates a new random redaction key file (0600). Fails if one exists.
pub fn create_key(data_dir: &Path) -> Result<Key> {
    let key = Key::random()?;
    write_private(&key_path(data_dir), key.expose())?;
    Ok(key)
}

/// Writes a new file readable by its owner only; refuses to replace one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::create_private_dir(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Conflict(format!("{} already exists", path.display()))
                .with_hint("choose another path, or move the old file away first")
        } else {
            Error::io(format!("creating {}", path.display()), e)
        }
    })?;
    // Windows: owner-only before a byte of the secret is written.
    crate::files::restrict_to_owner(path)
        .map_err(|e| Error::io(format!("restricting {} to its owner", path.display()), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// The text of a value the redactor can find: UTF-8, between
/// [`MIN_LEN`] and [`MAX_LEN`] bytes.
pub fn redactable(value: &Secret) -> Option<&str> {
    value
        .as_str()
        .filter(|s| (MIN_LEN..=MAX_LEN).contains(&s.len()))
}

/// Why a value may escape transcript redaction, for a warning at `set`.
pub fn weakness(value: &Secret) -> Option<String> {
    let Some(s) = value.as_str() else {
        return Some("it is not text".into());
    };
    if s.len() < MIN_LEN {
        return Some(format!("it is shorter than {MIN_LEN} bytes"));
    }
    if s.len() > MAX_LEN {
        return Some(format!("it is longer than {MAX_LEN} bytes"));
    }
    if s.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`')) {
        return Some(
            "it contains spaces, line breaks or quotes, and only whole tokens are matched".into(),
        );
    }
    None
}

pub fn value_mac(key: &Key, value: &[u8]) -> [u8; 32] {
    let mut m = crypto::hmac(key.expose());
    m.update(value);
    m.finalize().into_bytes().into()
}

/// Records the MAC and length of one kept value (nothing for a value the
/// redactor could not find anyway).
pub async fn remember(
    db: &mut Db,
    key: &Key,
    credential_id: &str,
    field: &str,
    version: i64,
    value: &Secret,
) -> Result<()> {
    let Some(text) = redactable(value) else {
        return Ok(());
    };
    sqlx::query(
        "INSERT OR REPLACE INTO vault_redaction (credential_id, field, version, len, mac) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(credential_id)
    .bind(field)
    .bind(version)
    .bind(text.len() as i64)
    .bind(value_mac(key, text.as_bytes()).to_vec())
    .execute(db)
    .await?;
    Ok(())
}

/// The set of known secrets capture checks candidates against.
pub struct KnownSet {
    mac: HmacSha256,
    /// `lengths[n]`: some secret is `n` bytes long.
    lengths: Vec<bool>,
    macs: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for KnownSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownSet")
            .field("secrets", &self.macs.len())
            .finish_non_exhaustive()
    }
}

impl KnownSet {
    /// From the key and stored (length, MAC) pairs.
    pub fn new(key: &Key, rows: impl IntoIterator<Item = (usize, Vec<u8>)>) -> KnownSet {
        let mut lengths = vec![false; MAX_LEN + 1];
        let mut macs = HashSet::new();
        for (len, mac) in rows {
            if let (true, Ok(m)) = (len <= MAX_LEN, <[u8; 32]>::try_from(mac.as_slice())) {
                lengths[len] = true;
                macs.insert(m);
            }
        }
        KnownSet {
            mac: crypto::hmac(key.expose()),
            lengths,
            macs,
        }
    }

    pub fn len(&self) -> usize {
        self.macs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.macs.is_empty()
    }
}

impl KnownSet {
    /// Whether `candidate` is one of the stored values: a length check, then
    /// one HMAC and a hash lookup.
    pub fn matches(&self, candidate: &str) -> bool {
        if !self.lengths.get(candidate.len()).copied().unwrap_or(false) {
            return false;
        }
        // The keyed state is cloned, so the key schedule is not redone.
        let mut m = self.mac.clone();
        m.update(candidate.as_bytes());
        let got: [u8; 32] = m.finalize().into_bytes().into();
        self.macs.contains(&got)
    }
}

/// The known secrets of this store, if it has a redaction key and any.
pub async fn load_known(db: &mut Db, data_dir: &Path) -> Result<Option<KnownSet>> {
    let Some(key) = load_key(data_dir)? else {
        return Ok(None);
    };
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT len, mac FROM vault_redaction")
        .fetch_all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(KnownSet::new(
        &key,
        rows.into_iter().map(|(l, m)| (l.max(0) as usize, m)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_set_matches_exactly_the_stored_values() {
        let key = Key::random().unwrap();
        let values = ["Tr0ub4dor&3xyz", "correct-horse-battery", "s3cr3t!!"];
        let set = KnownSet::new(
            &key,
            values
                .iter()
                .map(|v| (v.len(), value_mac(&key, v.as_bytes()).to_vec())),
        );
        for v in values {
            assert!(set.matches(v), "{v}");
        }
        for v in [
            "Tr0ub4dor&3xy",
            "Tr0ub4dor&3xyZ",
            "correct-horse-batterY",
            "",
            "s3cr3t!",
        ] {
            assert!(!set.matches(v), "{v}");
        }
        // The same values under another key are not found.
        let other = KnownSet::new(
            &Key::random().unwrap(),
            values
                .iter()
                .map(|v| (v.len(), value_mac(&key, v.as_bytes()).to_vec())),
        );
        assert!(!other.matches(values[0]));
        assert!(!format!("{set:?}").contains("Tr0ub"));
    }

    #[test]
    fn weak_values_are_named() {
        assert!(weakness(&Secret::from_string("short".into())).is_some());
        assert!(weakness(&Secret::from_string("has a space in it".into())).is_some());
        assert!(weakness(&Secret::new(vec![0xff; 20])).is_some());
        assert!(weakness(&Secret::from_string("Zq7-mP2_xK9!wL4".into())).is_none());
        assert!(redactable(&Secret::from_string("short".into())).is_none());
    }

    #[test]
    fn key_file_is_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_key(dir.path()).unwrap().is_none());
        let k = create_key(dir.path()).unwrap();
        assert_eq!(load_key(dir.path()).unwrap().unwrap().expose(), k.expose());
        assert!(create_key(dir.path()).is_err());
        crate::files::testing::assert_owner_only(&key_path(dir.path()));
        std::fs::write(key_path(dir.path()), b"short").unwrap();
        assert!(load_key(dir.path()).is_err());
    }
}
