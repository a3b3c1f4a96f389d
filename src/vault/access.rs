//! Access to the vault for the commands that use it: where the key comes
//! from (key file, `MSP_VAULT_PASSPHRASE`, the terminal), unlocking with an
//! audited actor, and revealing the value a reference names.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::audit::Actor;
use super::records;
use super::refs::{self, DEFAULT_FIELD};
use super::{KeySource, Unlocked};
use crate::config::{VaultConfig, env};
use crate::crypto::Secret;
use crate::error::{Error, Result};
use crate::store::Db;

/// Whether a person is there to answer a prompt on the terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() || std::io::stderr().is_terminal()
}

pub fn prompt(label: &str) -> Result<Secret> {
    crate::terminal::prompt_hidden(label)
        .map(Secret::from_string)
        .map_err(|e| {
            Error::Locked(format!("cannot read from the terminal: {e}")).with_hint(
                "set MSP_VAULT_PASSPHRASE or MSP_VAULT_KEY_FILE when no terminal is attached",
            )
        })
}

pub fn env_secret(name: &str) -> Option<Secret> {
    let v = std::env::var_os(name).filter(|v| !v.is_empty())?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(Secret::new(v.into_vec()))
    }
    #[cfg(not(unix))]
    {
        Some(Secret::from_string(v.to_string_lossy().into_owned()))
    }
}

pub fn expand_home(p: &str) -> PathBuf {
    let rest = p
        .strip_prefix("~/")
        .or_else(|| p.strip_prefix("~\\").filter(|_| cfg!(windows)));
    match (rest, crate::config::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

fn locked_no_source() -> Error {
    Error::Locked("the vault is locked and no key was given".into()).with_hint("run in a terminal to type the passphrase, set MSP_VAULT_PASSPHRASE, or point MSP_VAULT_KEY_FILE at a key file (`msp vault key-file PATH` writes one, once, where the passphrase can be typed)")
}

/// Key file (MSP_VAULT_KEY_FILE / vault.key_file), then
/// MSP_VAULT_PASSPHRASE, then the terminal.
pub fn key_source(config: &VaultConfig) -> Result<KeySource> {
    let kf = config.key_file.trim();
    if !kf.is_empty() {
        return Ok(KeySource::KeyFile(expand_home(kf)));
    }
    if let Some(p) = env_secret(env::VAULT_PASSPHRASE) {
        return Ok(KeySource::Passphrase(p, env::VAULT_PASSPHRASE));
    }
    if interactive() {
        return Ok(KeySource::Passphrase(
            prompt("vault passphrase: ")?,
            "terminal",
        ));
    }
    Err(locked_no_source())
}

/// Unlocks the vault for a command that uses it: the key from
/// [`key_source`], the access made by this machine's user. A store the
/// seal finds rolled back stays locked ([`super::seal`]).
pub async fn unlock(
    db: &mut Db,
    config: &VaultConfig,
    data_dir: &Path,
) -> Result<(Unlocked, Actor)> {
    let (vault, actor) = unlock_unchecked(db, config, data_dir).await?;
    let problems = super::seal::check(db, &vault).await?;
    if !problems.is_empty() {
        return Err(super::seal::rolled_back(&problems, data_dir));
    }
    Ok((vault, actor))
}

/// [`unlock`] without the seal check, for `vault audit --verify`, which
/// reports what the seal finds instead of refusing.
pub async fn unlock_unchecked(
    db: &mut Db,
    config: &VaultConfig,
    data_dir: &Path,
) -> Result<(Unlocked, Actor)> {
    super::require(db).await?;
    let actor = Actor::current(db).await?;
    let source = key_source(config)?;
    let mut vault = super::unlock(db, &source, &actor).await?;
    vault.data_dir = Some(data_dir.to_path_buf());
    // Values pulled from another machine are redacted from this machine's
    // transcripts from the first unlock here on. Best effort: a store busy
    // now catches up at the next unlock.
    if let Ok(key) = super::redaction_key_for_write(db, &vault, data_dir).await {
        let _ = records::remember_missing_redaction(db, &vault, &key).await;
    }
    Ok((vault, actor))
}

#[derive(sqlx::FromRow)]
struct FieldName {
    field: String,
}

pub async fn field_names(db: &mut Db, c: &records::Credential) -> Result<Vec<String>> {
    let rows: Vec<FieldName> = sqlx::query_as(
        "SELECT DISTINCT field FROM vault_values WHERE credential_id = ? ORDER BY field",
    )
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.field).collect())
}

/// The field a reference without one means: `password`, or the only field.
pub fn default_field(c: &records::Credential, names: &[String]) -> Result<String> {
    if names.iter().any(|n| n == DEFAULT_FIELD) || names.is_empty() {
        return Ok(DEFAULT_FIELD.into());
    }
    if let [only] = names {
        return Ok(only.clone());
    }
    Err(Error::usage(format!(
        "{} has several fields ({}); name one",
        c.reference(),
        names.join(", ")
    ))
    .with_hint(format!(
        "msp vault get {}/{} (or --field {})",
        c.reference(),
        names[0],
        names[0]
    )))
}

/// The value a vault reference names, for a command that uses it itself
/// (a PSA's API key): unlocks the vault the way `get` does; the access is
/// in the audit log as `action`.
pub async fn reveal_for(
    db: &mut Db,
    config: &VaultConfig,
    data_dir: &Path,
    reference: &str,
    action: &str,
    detail: &str,
) -> Result<Revealed> {
    let r = refs::parse(reference)?;
    super::require(db).await?;
    let c = records::resolve(db, &r).await?;
    if c.deleted_at.is_some() {
        return Err(records::in_bin(&c));
    }
    let field = match &r.field {
        Some(f) => f.clone(),
        None => default_field(&c, &field_names(db, &c).await?)?,
    };
    let (vault, actor) = unlock(db, config, data_dir).await?;
    let shown = records::reveal(db, &vault, &actor, &r, Some(&field), action, detail).await?;
    let value = shown
        .values
        .into_iter()
        .next()
        .map(|(_, _, value)| value)
        .ok_or_else(|| {
            Error::not_found(
                "field",
                &format!("{r}/{field}"),
                "`msp vault list` shows the fields",
            )
        })?;
    Ok(Revealed {
        value,
        warnings: vault.warnings,
    })
}

/// A revealed value, and what the caller should tell the user.
pub struct Revealed {
    pub value: Secret,
    pub warnings: Vec<String>,
}
