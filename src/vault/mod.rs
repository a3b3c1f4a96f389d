//! The credential vault: secrets per client, sealed in the local store.
//!
//! Keys: a random 256-bit data key encrypts everything. It is stored only
//! wrapped (AES-256-GCM): by a key derived from the passphrase with Argon2id
//! (parameters and salt in `vault_meta`), and, for unattended use, by the
//! random key of a key file (the wrapped copy in `vault_key_files`, the
//! file key in the file). Changing the passphrase re-wraps the data key;
//! nothing else is re-encrypted. Subkeys of the data key (HKDF-SHA256) seal
//! field values, authenticate records and chain the audit log.
//!
//! Modules: [`crate::crypto`] (primitives, shared), [`generate`] (generated secrets), [`records`] (credentials and their
//! versioned values), [`audit`] (the chained log), [`redaction`] (what
//! capture uses to keep vault values out of memories), [`input`] (where
//! secret values come from), [`refs`] (`CLIENT/ITEM`, `msp://…`), [`seal`] (the audit head kept
//! outside the store, against rollback), [`run`]
//! (a child process with secrets in its environment, masked output).

pub mod access;
pub mod audit;
pub mod generate;
pub mod input;
pub mod records;
pub mod redaction;
pub mod refs;
pub mod run;
pub mod seal;

use std::fmt;
use std::path::{Path, PathBuf};

use self::audit::{Actor, Event};
use crate::crypto::{self, Canon, KdfParams, Key, Secret};
use crate::error::{Error, Result};
use crate::ids;
use crate::store::{self, Db};
use crate::time::{Millis, now_ms};

/// Shortest passphrase `init` and `passwd` accept.
pub const MIN_PASSPHRASE: usize = 8;

const KDF_NAME: &str = "argon2id-v19";
const KEY_FILE_HEADER: &str =
    "# msp vault key file: unlocks the vault without its passphrase. Keep it private (0600).";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Meta {
    pub vault_id: String,
    pub kdf_memory_kib: i64,
    pub kdf_iterations: i64,
    pub kdf_parallelism: i64,
    pub kdf_salt: Vec<u8>,
    pub wrap_nonce: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: Millis,
}

impl Meta {
    pub fn params(&self) -> KdfParams {
        let c = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        KdfParams {
            memory_kib: c(self.kdf_memory_kib),
            iterations: c(self.kdf_iterations),
            parallelism: c(self.kdf_parallelism),
        }
    }
}

/// How the vault was unlocked (for audit details).
#[derive(Debug, Clone)]
pub enum Via {
    KeyFile(PathBuf),
    Passphrase(&'static str),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::KeyFile(p) => write!(f, "key file {}", p.display()),
            Via::Passphrase(origin) => write!(f, "passphrase ({origin})"),
        }
    }
}

/// Where the key comes from for one command.
pub enum KeySource {
    KeyFile(PathBuf),
    /// A passphrase, and where it came from (`environment`, `terminal`).
    Passphrase(Secret, &'static str),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::KeyFile(p) => write!(f, "KeySource::KeyFile({})", p.display()),
            KeySource::Passphrase(_, o) => write!(f, "KeySource::Passphrase([redacted], {o})"),
        }
    }
}

/// An unlocked vault: its id and the subkeys of its data key.
pub struct Unlocked {
    pub vault_id: String,
    data_key: Key,
    /// Seals field values.
    pub(crate) values: Key,
    /// Authenticates credential records.
    pub(crate) records: Key,
    /// Chains the audit log.
    pub(crate) audit: Key,
    /// Authenticates the seal beside the store ([`seal`]).
    pub(crate) seal: Key,
    /// Where the seal lives (the data dir); `None`: no seal is kept.
    pub data_dir: Option<PathBuf>,
    pub via: Via,
    /// What the caller should tell the user (a key file others can read).
    pub warnings: Vec<String>,
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlocked")
            .field("vault_id", &self.vault_id)
            .field("keys", &"[redacted]")
            .field("via", &self.via)
            .finish()
    }
}

impl Unlocked {
    fn new(vault_id: String, data_key: Key, via: Via) -> Unlocked {
        Unlocked {
            values: crypto::subkey(&data_key, "values"),
            records: crypto::subkey(&data_key, "records"),
            audit: crypto::subkey(&data_key, "audit"),
            seal: crypto::subkey(&data_key, "seal"),
            data_dir: None,
            vault_id,
            data_key,
            via,
            warnings: Vec::new(),
        }
    }

    pub fn audit_key(&self) -> &Key {
        &self.audit
    }
}

fn wrap_aad(vault_id: &str, wrapper: &str) -> Vec<u8> {
    Canon::new("msp-vault-wrap-v1")
        .str(vault_id)
        .str(wrapper)
        .finish()
        .to_vec()
}

pub async fn meta(db: &mut Db) -> Result<Option<Meta>> {
    Ok(sqlx::query_as(
        "SELECT vault_id, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrap_nonce, wrapped_key, created_at
         FROM vault_meta WHERE id = 1",
    )
    .fetch_optional(db)
    .await?)
}

/// The vault, or "not initialised" (exit 3) with the command that creates it.
pub async fn require(db: &mut Db) -> Result<Meta> {
    meta(db).await?.ok_or_else(|| {
        Error::NotFound("no vault in this store yet".into()).with_hint("create one with `msp vault init` (passphrase from the terminal or MSP_VAULT_PASSPHRASE)")
    })
}

/// Rejects passphrases too short to be one.
pub fn check_passphrase(p: &Secret) -> Result<()> {
    if p.len() < MIN_PASSPHRASE {
        return Err(Error::usage(format!(
            "the passphrase is too short (at least {MIN_PASSPHRASE} characters)"
        ))
        .with_hint("a few random words make a good passphrase"));
    }
    Ok(())
}

pub struct InitOptions<'a> {
    pub passphrase: &'a Secret,
    pub params: KdfParams,
    pub key_file: Option<&'a Path>,
    pub data_dir: &'a Path,
}

#[derive(Debug)]
pub struct InitOutcome {
    pub vault_id: String,
    pub params: KdfParams,
    pub key_file: Option<PathBuf>,
    pub redaction_key: PathBuf,
    pub redaction_key_created: bool,
}

/// Creates the vault. Refuses when one exists. The key file (if asked for)
/// is written before the transaction commits and removed if it does not.
pub async fn init(db: &mut Db, opts: InitOptions<'_>, actor: &Actor) -> Result<InitOutcome> {
    check_passphrase(opts.passphrase)?;
    opts.params.check()?;
    if let Some(p) = opts.key_file
        && p.exists()
    {
        return Err(
            Error::Conflict(format!("{} already exists", p.display())).with_hint(
                "choose another path for --key-file; an existing file is never overwritten",
            ),
        );
    }
    let mut tx = store::begin_write(db).await?;
    if meta(&mut tx).await?.is_some() {
        return Err(Error::Conflict(
            "this store already has a vault; init would make its secrets unreadable".into(),
        )
        .with_hint(
            "`msp vault passwd` changes the passphrase; `msp vault list` shows what is in it",
        ));
    }
    let now = now_ms();
    let vault_id = ids::new_id();
    let data_key = Key::random()?;
    let salt: [u8; crypto::SALT_LEN] = crypto::random_array()?;
    let pk = crypto::derive_passphrase_key(opts.passphrase.expose(), &salt, opts.params)?;
    let (nonce, wrapped) =
        crypto::seal(&pk, data_key.expose(), &wrap_aad(&vault_id, "passphrase"))?;
    sqlx::query(
        "INSERT INTO vault_meta (id, vault_id, kdf, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrap_nonce, wrapped_key, created_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&vault_id)
    .bind(KDF_NAME)
    .bind(i64::from(opts.params.memory_kib))
    .bind(i64::from(opts.params.iterations))
    .bind(i64::from(opts.params.parallelism))
    .bind(salt.to_vec())
    .bind(nonce.to_vec())
    .bind(wrapped)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let mut v = Unlocked::new(vault_id.clone(), data_key, Via::Passphrase("init"));
    v.data_dir = Some(opts.data_dir.to_path_buf());
    let key_file_text = match opts.key_file {
        Some(_) => Some(add_key_file(&mut tx, &v, now).await?),
        None => None,
    };
    let (redaction_key_created, _) = match redaction::load_key(opts.data_dir)? {
        Some(k) => (false, k),
        None => (true, redaction::create_key(opts.data_dir)?),
    };
    audit::append(
        &mut tx,
        Some(&v.audit),
        actor,
        &Event {
            action: "init",
            credential: None,
            credential_id: None,
            detail: &format!(
                "argon2id m={} KiB t={} p={}{}",
                opts.params.memory_kib,
                opts.params.iterations,
                opts.params.parallelism,
                if opts.key_file.is_some() {
                    ", key file"
                } else {
                    ""
                }
            ),
        },
        now,
    )
    .await?;
    if let (Some(path), Some(text)) = (opts.key_file, &key_file_text) {
        redaction::write_private(path, text.as_bytes())?;
    }
    if let Err(e) = tx.commit().await {
        if let Some(path) = opts.key_file {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    seal::advance(db, &v).await;
    Ok(InitOutcome {
        vault_id,
        params: opts.params,
        key_file: opts.key_file.map(Path::to_path_buf),
        redaction_key: redaction::key_path(opts.data_dir),
        redaction_key_created,
    })
}

/// Writes a new key file for an unlocked vault at `path` (0600, never over
/// an existing file), for hooks and CI that cannot type the passphrase.
/// Audited; the file is removed again if the transaction does not commit.
pub async fn create_key_file(db: &mut Db, v: &Unlocked, path: &Path, actor: &Actor) -> Result<()> {
    if path.exists() {
        return Err(
            Error::Conflict(format!("{} already exists", path.display()))
                .with_hint("choose another path; an existing file is never overwritten"),
        );
    }
    let now = now_ms();
    let mut tx = store::begin_write(db).await?;
    let text = add_key_file(&mut tx, v, now).await?;
    audit::append(
        &mut tx,
        Some(&v.audit),
        actor,
        &Event {
            action: "key-file",
            credential: None,
            credential_id: None,
            detail: "new key file",
        },
        now,
    )
    .await?;
    redaction::write_private(path, text.as_bytes())?;
    if let Err(e) = tx.commit().await {
        let _ = std::fs::remove_file(path);
        return Err(e.into());
    }
    seal::advance(db, v).await;
    Ok(())
}

/// Wraps the data key with a new random file key; returns the file's text.
async fn add_key_file(
    db: &mut Db,
    v: &Unlocked,
    now: Millis,
) -> Result<zeroize::Zeroizing<String>> {
    let id = ids::new_id();
    let file_key = Key::random()?;
    let (nonce, wrapped) = crypto::seal(
        &file_key,
        v.data_key.expose(),
        &wrap_aad(&v.vault_id, &format!("key-file:{id}")),
    )?;
    sqlx::query(
        "INSERT INTO vault_key_files (id, wrap_nonce, wrapped_key, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(nonce.to_vec())
    .bind(wrapped)
    .bind(now)
    .execute(db)
    .await?;
    Ok(zeroize::Zeroizing::new(format!(
        "{KEY_FILE_HEADER}\nvault={}\nid={id}\nkey={}\n",
        v.vault_id,
        hex::encode(file_key.expose())
    )))
}

/// The parts of a key file.
struct KeyFile {
    vault_id: String,
    id: String,
    key: Key,
}

fn parse_key_file(text: &str) -> Option<KeyFile> {
    let mut vault_id = None;
    let mut id = None;
    let mut key = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=')?;
        match k.trim() {
            "vault" => vault_id = Some(v.trim().to_string()),
            "id" => id = Some(v.trim().to_string()),
            "key" => {
                let bytes = zeroize::Zeroizing::new(hex::decode(v.trim()).ok()?);
                key = Some(Key::from_slice(&bytes)?);
            }
            _ => return None,
        }
    }
    Some(KeyFile {
        vault_id: vault_id?,
        id: id?,
        key: key?,
    })
}

/// The key file's contents, and a warning when other users can read it.
fn read_key_file(path: &Path) -> Result<(KeyFile, Option<String>)> {
    let text = crate::files::read_string_capped(path, crate::files::KEY_CAP)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| {
            Error::Locked(format!(
                "cannot read the vault key file {}: {e}",
                path.display()
            ))
            .with_hint(
                "fix MSP_VAULT_KEY_FILE (or vault.key_file), or unset it to use the passphrase",
            )
        })?;
    let mut warning = None;
    if crate::files::readable_by_others(path) == Some(true) {
        let fix = if cfg!(windows) {
            format!(
                "give it an owner-only ACL (`icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:F\"`)",
                path.display()
            )
        } else {
            format!("run `chmod 600 {}`", path.display())
        };
        warning = Some(format!(
            "warning: the vault key file {} is readable by other users; {fix}",
            path.display()
        ));
    }
    let kf = parse_key_file(&text).ok_or_else(|| {
        Error::Locked(format!("{} is not an msp vault key file", path.display()))
            .with_hint("point MSP_VAULT_KEY_FILE at a key file `msp vault init --key-file` or `msp vault key-file` wrote")
    })?;
    Ok((kf, warning))
}

/// Unlocks the vault. A failure is recorded in the audit log (keyless) and
/// returned as "locked" (exit 4); nothing else changes.
pub async fn unlock(db: &mut Db, source: &KeySource, actor: &Actor) -> Result<Unlocked> {
    let m = require(db).await?;
    let attempt = try_unlock(db, &m, source).await;
    match attempt {
        Ok(v) => Ok(v),
        Err(e) if matches!(e.kind(), Error::Locked(_)) => {
            let detail = match source {
                KeySource::KeyFile(p) => format!("key file {}", p.display()),
                KeySource::Passphrase(_, origin) => format!("passphrase ({origin})"),
            };
            let mut tx = store::begin_write(db).await?;
            audit::append(
                &mut tx,
                None,
                actor,
                &Event {
                    action: audit::FAILED_UNLOCK,
                    credential: None,
                    credential_id: None,
                    detail: &detail,
                },
                now_ms(),
            )
            .await?;
            tx.commit().await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Whether the key file at `path` unlocks this store's vault, without
/// unlocking anything for use and without an audit entry (for `msp
/// doctor`). `Ok(false)`: the store has no vault.
pub async fn key_file_unlocks(db: &mut Db, path: &Path) -> Result<bool> {
    let Some(m) = meta(db).await? else {
        return Ok(false);
    };
    try_unlock(db, &m, &KeySource::KeyFile(path.to_path_buf())).await?;
    Ok(true)
}

async fn try_unlock(db: &mut Db, m: &Meta, source: &KeySource) -> Result<Unlocked> {
    match source {
        KeySource::Passphrase(p, origin) => {
            m.params().check().map_err(|_| {
                records::integrity("the vault's stored Argon2id parameters are out of range")
            })?;
            let pk = crypto::derive_passphrase_key(p.expose(), &m.kdf_salt, m.params())?;
            let dk = crypto::open(&pk, &m.wrap_nonce, &m.wrapped_key, &wrap_aad(&m.vault_id, "passphrase"))
                .and_then(|s| Key::from_slice(s.expose()))
                .ok_or_else(|| {
                    Error::Locked(format!("wrong vault passphrase ({origin}); nothing was changed")).with_hint("check MSP_VAULT_PASSPHRASE or retype it; the failed attempt is in `msp vault audit`")
                })?;
            Ok(Unlocked::new(
                m.vault_id.clone(),
                dk,
                Via::Passphrase(origin),
            ))
        }
        KeySource::KeyFile(path) => {
            let (kf, warning) = read_key_file(path)?;
            let wrong = || {
                Error::Locked(format!("the key file {} does not unlock this vault; nothing was changed", path.display())).with_hint("it belongs to another vault or was revoked; use the passphrase (unset MSP_VAULT_KEY_FILE)")
            };
            if kf.vault_id != m.vault_id {
                return Err(wrong());
            }
            let row: Option<(Vec<u8>, Vec<u8>)> =
                sqlx::query_as("SELECT wrap_nonce, wrapped_key FROM vault_key_files WHERE id = ?")
                    .bind(&kf.id)
                    .fetch_optional(&mut *db)
                    .await?;
            let (nonce, wrapped) = row.ok_or_else(wrong)?;
            let dk = crypto::open(
                &kf.key,
                &nonce,
                &wrapped,
                &wrap_aad(&m.vault_id, &format!("key-file:{}", kf.id)),
            )
            .and_then(|s| Key::from_slice(s.expose()))
            .ok_or_else(wrong)?;
            let mut unlocked = Unlocked::new(m.vault_id.clone(), dk, Via::KeyFile(path.clone()));
            unlocked.warnings.extend(warning);
            Ok(unlocked)
        }
    }
}

/// Re-wraps the data key under a new passphrase (fresh salt, the given
/// parameters). Nothing else is re-encrypted; key files keep working.
pub async fn change_passphrase(
    db: &mut Db,
    v: &Unlocked,
    new: &Secret,
    params: KdfParams,
    actor: &Actor,
) -> Result<()> {
    check_passphrase(new)?;
    params.check()?;
    let salt: [u8; crypto::SALT_LEN] = crypto::random_array()?;
    let pk = crypto::derive_passphrase_key(new.expose(), &salt, params)?;
    let (nonce, wrapped) = crypto::seal(
        &pk,
        v.data_key.expose(),
        &wrap_aad(&v.vault_id, "passphrase"),
    )?;
    let now = now_ms();
    let mut tx = store::begin_write(db).await?;
    sqlx::query(
        "UPDATE vault_meta SET kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?, kdf_salt = ?, wrap_nonce = ?, wrapped_key = ?, updated_at = ? WHERE id = 1 AND vault_id = ?",
    )
    .bind(i64::from(params.memory_kib))
    .bind(i64::from(params.iterations))
    .bind(i64::from(params.parallelism))
    .bind(salt.to_vec())
    .bind(nonce.to_vec())
    .bind(wrapped)
    .bind(now)
    .bind(&v.vault_id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        Some(&v.audit),
        actor,
        &Event {
            action: "passwd",
            credential: None,
            credential_id: None,
            detail: &format!(
                "argon2id m={} KiB t={} p={}; unlocked with {}",
                params.memory_kib, params.iterations, params.parallelism, v.via
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    seal::advance(db, v).await;
    Ok(())
}

/// The redaction key for a write: loaded, or created when missing, in which
/// case the MACs of every kept value are rebuilt under the new key.
pub async fn redaction_key_for_write(db: &mut Db, v: &Unlocked, data_dir: &Path) -> Result<Key> {
    if let Some(k) = redaction::load_key(data_dir)? {
        return Ok(k);
    }
    let k = redaction::create_key(data_dir)?;
    records::rebuild_redaction(db, v, &k).await?;
    Ok(k)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn fast() -> KdfParams {
        KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    pub fn actor() -> Actor {
        Actor {
            machine_id: None,
            os_user: "tech".into(),
        }
    }

    pub fn pass(s: &str) -> KeySource {
        KeySource::Passphrase(Secret::from_string(s.into()), "test")
    }

    /// `init` with passphrase `passphrase`, the fast KDF and the test actor.
    pub async fn init_with(
        db: &mut Db,
        passphrase: &str,
        key_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<InitOutcome> {
        let opts = InitOptions {
            passphrase: &Secret::from_string(passphrase.into()),
            params: fast(),
            key_file,
            data_dir,
        };
        init(db, opts, &actor()).await
    }

    /// `change_passphrase` to `new` with the fast KDF and the test actor.
    pub async fn passwd(db: &mut Db, v: &Unlocked, new: &str) -> Result<()> {
        let new = Secret::from_string(new.into());
        change_passphrase(db, v, &new, fast(), &actor()).await
    }

    /// A store with a vault (passphrase "correct horse") in a temp dir.
    pub async fn vault_store() -> (tempfile::TempDir, store::Store, Unlocked) {
        let (dir, mut s) = store::testing::temp_store().await;
        init_with(s.db(), "correct horse", None, dir.path())
            .await
            .unwrap();
        let v = unlock(s.db(), &pass("correct horse"), &actor())
            .await
            .unwrap();
        (dir, s, v)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    async fn audit_actions(db: &mut Db) -> Vec<String> {
        audit::list(db, None, None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    #[tokio::test]
    async fn init_unlock_and_refuse_a_second_init() {
        let (dir, mut s, v) = vault_store().await;
        assert!(redaction::key_path(dir.path()).exists());
        let again = init_with(s.db(), "another one", None, dir.path())
            .await
            .unwrap_err();
        assert!(matches!(again.kind(), Error::Conflict(_)), "{again}");
        assert!(again.hint().is_some());
        let v2 = unlock(s.db(), &pass("correct horse"), &actor())
            .await
            .unwrap();
        assert_eq!(v.vault_id, v2.vault_id);
        assert_eq!(v.values.expose(), v2.values.expose());
    }

    #[tokio::test]
    async fn wrong_passphrase_is_locked_audited_and_changes_nothing_else() {
        let (_dir, mut s, v) = vault_store().await;
        let before = meta(s.db()).await.unwrap().unwrap();
        let e = unlock(s.db(), &pass("wrong horse"), &actor())
            .await
            .unwrap_err();
        assert!(matches!(e.kind(), Error::Locked(_)), "{e}");
        assert_eq!(e.exit_code(), 4);
        let after = meta(s.db()).await.unwrap().unwrap();
        assert_eq!(before.wrapped_key, after.wrapped_key);
        assert_eq!(audit_actions(s.db()).await, ["init", audit::FAILED_UNLOCK]);
        let r = audit::verify(s.db(), &v.audit).await.unwrap();
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.unsealed_tail, 1);
    }

    #[tokio::test]
    async fn passwd_rewraps_without_touching_values() {
        let (_dir, mut s, v) = vault_store().await;
        passwd(s.db(), &v, "new passphrase").await.unwrap();
        assert!(
            unlock(s.db(), &pass("correct horse"), &actor())
                .await
                .is_err()
        );
        let v2 = unlock(s.db(), &pass("new passphrase"), &actor())
            .await
            .unwrap();
        assert_eq!(v.values.expose(), v2.values.expose());
        assert!(passwd(s.db(), &v2, "short").await.is_err());
    }

    #[tokio::test]
    async fn key_file_unlocks_and_a_foreign_one_does_not() {
        let (dir, mut s) = store::testing::temp_store().await;
        let kf = dir.path().join("keys/vault.key");
        init_with(s.db(), "correct horse", Some(&kf), dir.path())
            .await
            .unwrap();
        crate::files::testing::assert_owner_only(&kf);
        let by_file = unlock(s.db(), &KeySource::KeyFile(kf.clone()), &actor())
            .await
            .unwrap();
        let by_pass = unlock(s.db(), &pass("correct horse"), &actor())
            .await
            .unwrap();
        assert_eq!(by_file.values.expose(), by_pass.values.expose());
        // The same file with one key byte changed, and a file for another vault.
        let text = std::fs::read_to_string(&kf).unwrap();
        let bad = dir.path().join("bad.key");
        // One bit of the file key changed: still a well-formed file.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let key_line = lines.iter_mut().find(|l| l.starts_with("key=")).unwrap();
        let last = key_line.pop().unwrap().to_digit(16).unwrap();
        key_line.push(char::from_digit(last ^ 1, 16).unwrap());
        std::fs::write(&bad, lines.join("\n")).unwrap();
        let e = unlock(s.db(), &KeySource::KeyFile(bad), &actor())
            .await
            .unwrap_err();
        assert!(matches!(e.kind(), Error::Locked(_)), "{e}");
        assert!(e.to_string().contains("does not unlock this vault"), "{e}");
        let other = dir.path().join("other.key");
        std::fs::write(&other, text.replace("vault=", "vault=x")).unwrap();
        assert!(matches!(
            unlock(s.db(), &KeySource::KeyFile(other), &actor())
                .await
                .map_err(Error::into_kind),
            Err(Error::Locked(_))
        ));
        // Survives a passphrase change.
        passwd(s.db(), &by_pass, "new passphrase").await.unwrap();
        unlock(s.db(), &KeySource::KeyFile(kf.clone()), &actor())
            .await
            .unwrap();
        // A second init may not overwrite an existing file.
        let (dir2, mut s2) = store::testing::temp_store().await;
        let e = init_with(s2.db(), "correct horse", Some(&kf), dir2.path())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        assert!(meta(s2.db()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn absurd_stored_kdf_parameters_are_an_integrity_error_not_an_allocation() {
        let (_dir, mut s, _v) = vault_store().await;
        sqlx::query("UPDATE vault_meta SET kdf_memory_kib = 1099511627776")
            .execute(s.db())
            .await
            .unwrap();
        let e = unlock(s.db(), &pass("correct horse"), &actor())
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 1, "{e}");
        assert!(e.to_string().contains("integrity check failed"), "{e}");
    }

    #[test]
    fn debug_output_hides_keys() {
        let v = Unlocked::new(
            "vid".into(),
            Key::from_slice(&[7; 32]).unwrap(),
            Via::Passphrase("test"),
        );
        let s = format!("{v:?} {:?}", pass("hunter2-hidden"));
        assert!(!s.contains("hunter2") && !s.contains("[7, 7"), "{s}");
        assert!(s.contains("[redacted]"));
    }
}
