//! Credentials (`vault_credentials`) and the kept versions of their secret
//! fields (`vault_values`).
//!
//! Each value is sealed with AES-256-GCM under the values subkey, a fresh
//! random nonce, and associated data binding the vault id, credential id,
//! field name and version: a ciphertext copied onto another record, field
//! or version does not open. Each credential row carries an HMAC (records
//! subkey) over its metadata and the current version (and ciphertext hash)
//! of every field, so an edited row, or a field rolled back by deleting its
//! newest version, is refused as well. Every change and every read is
//! recorded in the audit log in the same transaction.

use serde::Serialize;

use super::audit::{self, Actor, Event};
use super::refs::SecretRef;
use super::{Unlocked, redaction};
use crate::crypto::{self, Canon, Key, Secret};
use crate::error::{Error, Result};
use crate::store::{self, Db};
use crate::time::{Millis, now_ms, rfc3339};
use crate::work::clients;

pub const TYPES: &[&str] = &[
    "password",
    "api_key",
    "oauth",
    "ssh_key",
    "shared_secret",
    "jwt",
    "connection_string",
    "certificate",
];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credential {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub client_slug: String,
    pub name: String,
    pub cred_type: String,
    pub username: Option<String>,
    pub url: Option<String>,
    pub notes: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub deleted_at: Option<Millis>,
    pub mac: Vec<u8>,
}

impl Credential {
    /// `client-slug/item`: how the audit log and messages name it.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.client_slug, self.name)
    }
}

const SELECT: &str =
    "SELECT c.id, c.client_id, cl.name AS client_name, cl.slug AS client_slug, c.name, c.cred_type,
        c.username, c.url, c.notes, c.created_at, c.updated_at, c.deleted_at, c.mac
    FROM vault_credentials c JOIN clients cl ON cl.id = c.client_id";

#[derive(Debug, Clone, sqlx::FromRow)]
struct ValueRow {
    field: String,
    version: i64,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// The error for anything that does not verify. Never shows data.
pub fn integrity(what: &str) -> Error {
    Error::Other(format!("integrity check failed: {what}; nothing was output")).with_hint("the vault rows in msp.db were changed outside msp or are damaged; `msp vault history` lists the versions, `msp vault audit --verify` checks the log, and a backup of msp.db holds the intact value")
}

fn value_aad(vault_id: &str, credential_id: &str, field: &str, version: i64) -> Vec<u8> {
    Canon::new("msp-vault-value-v1")
        .str(vault_id)
        .str(credential_id)
        .str(field)
        .int(version)
        .finish()
        .to_vec()
}

fn record_mac(v: &Unlocked, c: &Credential, current: &[ValueRow]) -> [u8; 32] {
    use hmac::Mac;
    let mut canon = Canon::new("msp-vault-record-v1");
    canon
        .str(&v.vault_id)
        .str(&c.id)
        .str(&c.client_id)
        .str(&c.name)
        .str(&c.cred_type)
        .opt(c.username.as_deref())
        .opt(c.url.as_deref())
        .opt(c.notes.as_deref())
        .int(c.created_at)
        .opt_int(c.deleted_at)
        .int(current.len() as i64);
    for r in current {
        let digest = crypto::sha256(
            Canon::new("v")
                .bytes(&r.nonce)
                .bytes(&r.ciphertext)
                .finish(),
        );
        canon.str(&r.field).int(r.version).bytes(&digest);
    }
    let mut m = crypto::hmac(v.records.expose());
    m.update(canon.finish());
    m.finalize().into_bytes().into()
}

/// The newest version of every field, by field name.
async fn current(db: &mut Db, credential_id: &str) -> Result<Vec<ValueRow>> {
    Ok(sqlx::query_as(
        "SELECT field, version, nonce, ciphertext FROM vault_values v
         WHERE credential_id = ?1
           AND version = (SELECT MAX(version) FROM vault_values w WHERE w.credential_id = ?1 AND w.field = v.field)
         ORDER BY field",
    )
    .bind(credential_id)
    .fetch_all(db)
    .await?)
}

fn check_record(v: &Unlocked, c: &Credential, current: &[ValueRow]) -> Result<()> {
    let want = record_mac(v, c, current);
    // Constant-time comparison.
    let ok = c.mac.len() == want.len()
        && c.mac
            .iter()
            .zip(want.iter())
            .fold(0u8, |a, (x, y)| a | (x ^ y))
            == 0;
    if ok {
        Ok(())
    } else {
        Err(integrity(&format!(
            "the record of {} (metadata or field versions) does not match its MAC",
            c.reference()
        )))
    }
}

/// The newest version of each field of a credential that the audit log
/// saw: `set` and `rotate` record the versions they wrote, reads the ones
/// they opened (`password v2, pin v1[; detail]`).
async fn audited_versions(
    db: &mut Db,
    credential_id: &str,
) -> Result<std::collections::BTreeMap<String, i64>> {
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM vault_audit WHERE credential_id = ? AND keyed = 'vault'",
    )
    .bind(credential_id)
    .fetch_all(db)
    .await?;
    let mut seen = std::collections::BTreeMap::new();
    for d in details {
        let fields = d.split(';').next().unwrap_or("");
        let parsed: Option<Vec<(&str, i64)>> = fields
            .split(", ")
            .map(|item| {
                let (field, v) = item.rsplit_once(" v")?;
                let n: i64 = v.parse().ok()?;
                (!field.is_empty() && !field.contains(' ')).then_some((field, n))
            })
            .collect();
        for (field, n) in parsed.unwrap_or_default() {
            let e = seen.entry(field.to_string()).or_insert(n);
            *e = (*e).max(n);
        }
    }
    Ok(seen)
}

/// What is wrong with a credential whose fields are older than the audit
/// log says they were: the record and its values were put back to an
/// earlier state (an older row with its MAC, the newest version deleted).
/// Versions only grow, here and through sync; a field may be missing only
/// if the log never saw it.
async fn rollback_of(db: &mut Db, c: &Credential, current: &[ValueRow]) -> Result<Option<String>> {
    for (field, audited) in audited_versions(db, &c.id).await? {
        let now = current.iter().find(|r| r.field == field).map(|r| r.version);
        if now.is_none_or(|n| n < audited) {
            return Ok(Some(format!(
                "{}/{field} was rolled back: the audit log recorded version {audited}, the store holds {}",
                c.reference(),
                now.map_or("none".to_string(), |n| format!("version {n}"))
            )));
        }
    }
    Ok(None)
}

async fn check_not_rolled_back(db: &mut Db, c: &Credential, current: &[ValueRow]) -> Result<()> {
    match rollback_of(db, c, current).await? {
        Some(what) => Err(integrity(&what)),
        None => Ok(()),
    }
}

/// Every credential rolled back behind its audit log, for
/// `vault audit --verify`.
pub async fn rolled_back(db: &mut Db) -> Result<Vec<String>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM vault_credentials ORDER BY id")
        .fetch_all(&mut *db)
        .await?;
    let mut problems = Vec::new();
    for id in ids {
        let c = by_id(db, &id).await?;
        let cur = current(db, &id).await?;
        problems.extend(rollback_of(db, &c, &cur).await?);
    }
    Ok(problems)
}

async fn reseal(db: &mut Db, v: &Unlocked, id: &str) -> Result<()> {
    let c = by_id(db, id).await?;
    let cur = current(db, id).await?;
    sqlx::query("UPDATE vault_credentials SET mac = ? WHERE id = ?")
        .bind(record_mac(v, &c, &cur).to_vec())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

async fn by_id(db: &mut Db, id: &str) -> Result<Credential> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = ?")))
            .bind(id)
            .fetch_one(db)
            .await?,
    )
}

pub async fn find(db: &mut Db, client_id: &str, item: &str) -> Result<Option<Credential>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE c.client_id = ? AND c.name = ?"
    )))
    .bind(client_id)
    .bind(item)
    .fetch_optional(db)
    .await?)
}

/// The credential a reference names (in the bin or not); exit 3 otherwise.
pub async fn resolve(db: &mut Db, r: &SecretRef) -> Result<Credential> {
    let client = clients::resolve(db, &r.client).await?;
    find(db, &client.id, &r.item).await?.ok_or_else(|| {
        Error::not_found(
            "vault item",
            &format!("{}/{}", client.slug, r.item),
            &format!("`msp vault list --client {}` shows its items", client.slug),
        )
    })
}

/// The error for a credential in the bin (exit 3, with how to restore it).
pub fn in_bin(c: &Credential) -> Error {
    Error::NotFound(format!("{} was removed", c.reference())).with_hint(format!(
        "`msp vault restore {}` brings it back; `msp vault rm --purge {}` deletes it for good",
        c.reference(),
        c.reference()
    ))
}

/// Optional metadata for `set`.
#[derive(Debug, Default, Clone)]
pub struct Details {
    pub cred_type: Option<String>,
    pub username: Option<String>,
    pub url: Option<String>,
    pub notes: Option<String>,
}

pub fn check_type(t: &str) -> Result<()> {
    if TYPES.contains(&t) {
        Ok(())
    } else {
        Err(Error::usage(format!("unknown credential type {t:?}"))
            .with_hint(format!("use one of {}", TYPES.join(", "))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Create the credential or add versions to it.
    Set,
    /// New versions of fields that exist.
    Rotate,
}

#[derive(Debug, Serialize)]
pub struct Written {
    pub reference: String,
    pub created: bool,
    /// (field, new version)
    pub fields: Vec<(String, i64)>,
}

pub struct WriteRequest<'a> {
    pub client: &'a clients::Client,
    pub item: &'a str,
    pub details: &'a Details,
    pub values: &'a [(String, Secret)],
    pub kind: WriteKind,
    pub max_versions: u32,
    pub redaction_key: &'a Key,
}

/// Stores new versions of fields (creating the credential for `Set`), keeps
/// at most `max_versions` per field, and records it, all in one transaction.
pub async fn write(
    db: &mut Db,
    v: &Unlocked,
    actor: &Actor,
    req: WriteRequest<'_>,
) -> Result<Written> {
    super::refs::check_name("item", req.item)?;
    if let Some(t) = &req.details.cred_type {
        check_type(t)?;
    }
    let max_versions = i64::from(req.max_versions.max(1));
    let now = now_ms();
    let mut tx = store::begin_write(db).await?;
    let existing = find(&mut tx, &req.client.id, req.item).await?;
    let reference = format!("{}/{}", req.client.slug, req.item);
    let (id, created) = match (&existing, req.kind) {
        (None, WriteKind::Rotate) => {
            return Err(Error::not_found(
                "vault item",
                &reference,
                "`msp vault set` creates it",
            ));
        }
        (Some(c), _) if c.deleted_at.is_some() => return Err(in_bin(c)),
        (Some(c), kind) => {
            let cur = current(&mut tx, &c.id).await?;
            check_record(v, c, &cur)?;
            check_not_rolled_back(&mut tx, c, &cur).await?;
            if kind == WriteKind::Rotate {
                let cur = current(&mut tx, &c.id).await?;
                for (f, _) in req.values {
                    if !cur.iter().any(|r| &r.field == f) {
                        return Err(Error::not_found(
                            "field",
                            &format!("{reference}/{f}"),
                            &format!("`msp vault set {reference} {f}=-` adds a new field"),
                        ));
                    }
                }
            }
            let d = req.details;
            sqlx::query(
                "UPDATE vault_credentials SET cred_type = COALESCE(?, cred_type), username = COALESCE(?, username),
                 url = COALESCE(?, url), notes = COALESCE(?, notes), updated_at = ? WHERE id = ?",
            )
            .bind(&d.cred_type)
            .bind(&d.username)
            .bind(&d.url)
            .bind(&d.notes)
            .bind(now)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
            (c.id.clone(), false)
        }
        (None, WriteKind::Set) => {
            let id = crate::ids::new_id();
            let d = req.details;
            sqlx::query(
                "INSERT INTO vault_credentials (id, client_id, name, cred_type, username, url, notes, created_at, updated_at, mac)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, x'')",
            )
            .bind(&id)
            .bind(&req.client.id)
            .bind(req.item)
            .bind(d.cred_type.as_deref().unwrap_or("password"))
            .bind(&d.username)
            .bind(&d.url)
            .bind(&d.notes)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (id, true)
        }
    };
    let mut fields = Vec::new();
    for (field, value) in req.values {
        super::refs::check_name("field", field)?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM vault_values WHERE credential_id = ? AND field = ?",
        )
        .bind(&id)
        .bind(field)
        .fetch_one(&mut *tx)
        .await?;
        let version = last.unwrap_or(0) + 1;
        let (nonce, ct) = crypto::seal(
            &v.values,
            value.expose(),
            &value_aad(&v.vault_id, &id, field, version),
        )?;
        sqlx::query(
            "INSERT INTO vault_values (credential_id, field, version, nonce, ciphertext, created_at, machine_id)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(field)
        .bind(version)
        .bind(nonce.to_vec())
        .bind(ct)
        .bind(now)
        .bind(&actor.machine_id)
        .execute(&mut *tx)
        .await?;
        redaction::remember(&mut tx, req.redaction_key, &id, field, version, value).await?;
        for table in ["vault_values", "vault_redaction"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE credential_id = ? AND field = ? AND version <= ?"
            )))
            .bind(&id)
            .bind(field)
            .bind(version - max_versions)
            .execute(&mut *tx)
            .await?;
        }
        fields.push((field.clone(), version));
    }
    reseal(&mut tx, v, &id).await?;
    let detail = fields
        .iter()
        .map(|(f, n)| format!("{f} v{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    audit::append(
        &mut tx,
        Some(&v.audit),
        actor,
        &Event {
            action: match req.kind {
                WriteKind::Set => "set",
                WriteKind::Rotate => "rotate",
            },
            credential: Some(&reference),
            credential_id: Some(&id),
            detail: &detail,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    super::seal::advance(db, v).await;
    Ok(Written {
        reference,
        created,
        fields,
    })
}

/// Decrypted values of one credential.
pub struct Revealed {
    pub credential: Credential,
    /// (field, version, value), by field name.
    pub values: Vec<(String, i64, Secret)>,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revealed")
            .field("credential", &self.credential.reference())
            .field(
                "fields",
                &self
                    .values
                    .iter()
                    .map(|(f, n, _)| (f, n))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Verifies and decrypts one field (or all, for `None`) and records the
/// access as `action` (`get`, `run`). A failed check is recorded too, and
/// nothing is returned.
pub async fn reveal(
    db: &mut Db,
    v: &Unlocked,
    actor: &Actor,
    r: &SecretRef,
    field: Option<&str>,
    action: &str,
    detail: &str,
) -> Result<Revealed> {
    let now = now_ms();
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, r).await?;
    if c.deleted_at.is_some() {
        return Err(in_bin(&c));
    }
    let cur = current(&mut tx, &c.id).await?;
    if let Some(f) = field
        && !cur.iter().any(|row| row.field == f)
    {
        let names: Vec<&str> = cur.iter().map(|row| row.field.as_str()).collect();
        return Err(Error::not_found(
            "field",
            &format!("{}/{f}", c.reference()),
            &format!("{} has: {}", c.reference(), names.join(", ")),
        ));
    }
    let fresh = match check_record(v, &c, &cur) {
        Ok(()) => check_not_rolled_back(&mut tx, &c, &cur).await,
        Err(e) => Err(e),
    };
    let opened = fresh.and_then(|()| {
        cur.iter()
            .filter(|row| field.is_none_or(|f| row.field == f))
            .map(|row| {
                crypto::open(
                    &v.values,
                    &row.nonce,
                    &row.ciphertext,
                    &value_aad(&v.vault_id, &c.id, &row.field, row.version),
                )
                .map(|s| (row.field.clone(), row.version, s))
                .ok_or_else(|| {
                    integrity(&format!(
                        "{}/{} v{} does not decrypt (its ciphertext, nonce or tag was changed, or it was copied from another record or field)",
                        c.reference(),
                        row.field,
                        row.version
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()
    });
    let reference = c.reference();
    let (audit_detail, result) = match opened {
        Ok(values) => {
            let fields = values
                .iter()
                .map(|(f, n, _)| format!("{f} v{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = if detail.is_empty() {
                fields
            } else {
                format!("{fields}; {detail}")
            };
            (d, Ok(values))
        }
        Err(e) => ("FAILED: integrity check".to_string(), Err(e)),
    };
    audit::append(
        &mut tx,
        Some(&v.audit),
        actor,
        &Event {
            action,
            credential: Some(&reference),
            credential_id: Some(&c.id),
            detail: &audit_detail,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    super::seal::advance(db, v).await;
    Ok(Revealed {
        credential: c,
        values: result?,
    })
}

/// One field of a credential, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSummary {
    pub name: String,
    pub version: i64,
    pub versions: i64,
    pub updated_at: String,
}

/// What `list` shows: never a value.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub reference: String,
    pub client: String,
    pub client_slug: String,
    pub item: String,
    #[serde(rename = "type")]
    pub cred_type: String,
    pub username: Option<String>,
    pub url: Option<String>,
    pub notes: Option<String>,
    pub fields: Vec<FieldSummary>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    credential_id: String,
    field: String,
    version: i64,
    versions: i64,
    updated_at: i64,
}

/// Credentials (of one client, when given), without values.
pub async fn list(
    db: &mut Db,
    client_id: Option<&str>,
    include_removed: bool,
) -> Result<Vec<CredentialView>> {
    let creds: Vec<Credential> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (?1 IS NULL OR c.client_id = ?1) AND (?2 OR c.deleted_at IS NULL)
         ORDER BY cl.slug, c.name COLLATE NOCASE"
    )))
    .bind(client_id)
    .bind(include_removed)
    .fetch_all(&mut *db)
    .await?;
    let fields: Vec<FieldRow> = sqlx::query_as(
        "SELECT credential_id, field, MAX(version) AS version, COUNT(*) AS versions, MAX(created_at) AS updated_at
         FROM vault_values GROUP BY credential_id, field ORDER BY credential_id, field",
    )
    .fetch_all(&mut *db)
    .await?;
    let mut by_credential: std::collections::HashMap<String, Vec<FieldSummary>> =
        std::collections::HashMap::new();
    for f in fields {
        by_credential
            .entry(f.credential_id)
            .or_default()
            .push(FieldSummary {
                name: f.field,
                version: f.version,
                versions: f.versions,
                updated_at: rfc3339(f.updated_at),
            });
    }
    Ok(creds
        .into_iter()
        .map(|c| CredentialView {
            reference: c.reference(),
            fields: by_credential.remove(&c.id).unwrap_or_default(),
            client: c.client_name,
            client_slug: c.client_slug,
            item: c.name,
            cred_type: c.cred_type,
            username: c.username,
            url: c.url,
            notes: c.notes,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            deleted_at: c.deleted_at.map(rfc3339),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Version {
    pub field: String,
    pub version: i64,
    #[serde(skip)]
    pub created_ms: i64,
    #[sqlx(skip)]
    pub created_at: String,
    pub machine_id: Option<String>,
    #[sqlx(skip)]
    pub current: bool,
}

/// Every kept version (no values), newest first per field.
pub async fn history(db: &mut Db, c: &Credential, field: Option<&str>) -> Result<Vec<Version>> {
    let mut rows: Vec<Version> = sqlx::query_as(
        "SELECT field, version, created_at AS created_ms, machine_id FROM vault_values
         WHERE credential_id = ? AND (?2 IS NULL OR field = ?2) ORDER BY field, version DESC",
    )
    .bind(&c.id)
    .bind(field)
    .fetch_all(db)
    .await?;
    let mut last_field: Option<String> = None;
    for r in &mut rows {
        r.created_at = rfc3339(r.created_ms);
        r.current = last_field.as_deref() != Some(&r.field);
        last_field = Some(r.field.clone());
    }
    Ok(rows)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Into the bin (recoverable).
    Soft,
    Restore,
    /// Deleted with every version and redaction MAC.
    Purge,
}

/// Soft-deletes, restores or purges; returns the credential's reference
/// and whether anything changed.
pub async fn remove(
    db: &mut Db,
    v: &Unlocked,
    actor: &Actor,
    r: &SecretRef,
    how: Removal,
) -> Result<(String, bool)> {
    let now = now_ms();
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, r).await?;
    let reference = c.reference();
    let changed = match how {
        Removal::Soft | Removal::Restore => {
            check_record(v, &c, &current(&mut tx, &c.id).await?)?;
            let deleted = how == Removal::Soft;
            if c.deleted_at.is_some() == deleted {
                false
            } else {
                sqlx::query(
                    "UPDATE vault_credentials SET deleted_at = ?, updated_at = ? WHERE id = ?",
                )
                .bind(deleted.then_some(now))
                .bind(now)
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
                reseal(&mut tx, v, &c.id).await?;
                true
            }
        }
        Removal::Purge => {
            // A damaged record may be purged: deleting needs no trust in it.
            sqlx::query("DELETE FROM vault_credentials WHERE id = ?")
                .bind(&c.id)
                .execute(&mut *tx)
                .await?;
            true
        }
    };
    if changed {
        audit::append(
            &mut tx,
            Some(&v.audit),
            actor,
            &Event {
                action: match how {
                    Removal::Soft => "rm",
                    Removal::Restore => "restore",
                    Removal::Purge => "purge",
                },
                credential: Some(&reference),
                credential_id: Some(&c.id),
                detail: "",
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    if changed {
        super::seal::advance(db, v).await;
    }
    Ok((reference, changed))
}

/// Records the redaction MACs of kept values that have none: values pulled
/// from another machine arrive sealed, and only an unlocked vault can read
/// them. Returns how many were added.
pub async fn remember_missing_redaction(db: &mut Db, v: &Unlocked, key: &Key) -> Result<usize> {
    #[derive(sqlx::FromRow)]
    struct Row {
        credential_id: String,
        field: String,
        version: i64,
        nonce: Vec<u8>,
        ciphertext: Vec<u8>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.credential_id, v.field, v.version, v.nonce, v.ciphertext FROM vault_values v
         WHERE NOT EXISTS (SELECT 1 FROM vault_redaction r WHERE r.credential_id = v.credential_id
                           AND r.field = v.field AND r.version = v.version)",
    )
    .fetch_all(&mut *db)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = store::begin_write(db).await?;
    let mut n = 0;
    for r in rows {
        let aad = value_aad(&v.vault_id, &r.credential_id, &r.field, r.version);
        if let Some(value) = crypto::open(&v.values, &r.nonce, &r.ciphertext, &aad)
            && redaction::redactable(&value).is_some()
        {
            redaction::remember(&mut tx, key, &r.credential_id, &r.field, r.version, &value)
                .await?;
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// Recomputes the redaction MACs of every kept value under `key` (after
/// the redaction key file was lost). Values that do not decrypt are skipped
/// (`get` reports them).
pub async fn rebuild_redaction(db: &mut Db, v: &Unlocked, key: &Key) -> Result<usize> {
    #[derive(sqlx::FromRow)]
    struct Row {
        credential_id: String,
        field: String,
        version: i64,
        nonce: Vec<u8>,
        ciphertext: Vec<u8>,
    }
    let rows: Vec<Row> =
        sqlx::query_as("SELECT credential_id, field, version, nonce, ciphertext FROM vault_values")
            .fetch_all(&mut *db)
            .await?;
    let mut tx = store::begin_write(db).await?;
    sqlx::query("DELETE FROM vault_redaction")
        .execute(&mut *tx)
        .await?;
    let mut n = 0;
    for r in rows {
        if let Some(value) = crypto::open(
            &v.values,
            &r.nonce,
            &r.ciphertext,
            &value_aad(&v.vault_id, &r.credential_id, &r.field, r.version),
        ) {
            redaction::remember(&mut tx, key, &r.credential_id, &r.field, r.version, &value)
                .await?;
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::vault::refs;

    async fn client(db: &mut Db) -> clients::Client {
        clients::add(db, "Acme Corp", "msp_client", None)
            .await
            .unwrap()
    }

    fn val(s: &str) -> Secret {
        Secret::from_string(s.into())
    }

    async fn put(
        db: &mut Db,
        v: &Unlocked,
        c: &clients::Client,
        item: &str,
        values: &[(&str, &str)],
        kind: WriteKind,
    ) -> Result<Written> {
        let values: Vec<(String, Secret)> = values
            .iter()
            .map(|(f, s)| (f.to_string(), val(s)))
            .collect();
        let rk = Key::from_slice(&[9; 32]).unwrap();
        write(
            db,
            v,
            &actor(),
            WriteRequest {
                client: c,
                item,
                details: &Details::default(),
                values: &values,
                kind,
                max_versions: 3,
                redaction_key: &rk,
            },
        )
        .await
    }

    /// An unlocked vault in a temp store with client Acme Corp, where most
    /// tests start.
    struct Fx {
        _dir: tempfile::TempDir,
        s: crate::store::Store,
        v: Unlocked,
        c: clients::Client,
    }

    impl Fx {
        async fn new() -> Fx {
            let (_dir, mut s, v) = vault_store().await;
            let c = client(s.db()).await;
            Fx { _dir, s, v, c }
        }

        async fn put(
            &mut self,
            item: &str,
            values: &[(&str, &str)],
            kind: WriteKind,
        ) -> Result<Written> {
            put(self.s.db(), &self.v, &self.c, item, values, kind).await
        }

        /// A new record (or a new version of every field given), which must work.
        async fn set(&mut self, item: &str, values: &[(&str, &str)]) -> Written {
            self.put(item, values, WriteKind::Set).await.unwrap()
        }

        async fn get(&mut self, r: &str) -> Result<Vec<(String, i64, String)>> {
            get(self.s.db(), &self.v, r).await
        }

        async fn audit_intact(&mut self) -> bool {
            audit::verify(self.s.db(), &self.v.audit)
                .await
                .unwrap()
                .ok()
        }
    }

    async fn get(db: &mut Db, v: &Unlocked, r: &str) -> Result<Vec<(String, i64, String)>> {
        let r = refs::parse(r).unwrap();
        let out = reveal(db, v, &actor(), &r, r.field.as_deref(), "get", "").await?;
        Ok(out
            .values
            .into_iter()
            .map(|(f, n, s)| (f, n, s.as_str().unwrap().to_string()))
            .collect())
    }

    #[tokio::test]
    async fn set_get_rotate_keep_versions_and_audit() {
        let mut fx = Fx::new().await;
        let w = fx.set("nas", &[("password", "first-pass")]).await;
        assert!(w.created);
        assert_eq!(
            fx.get("acme-corp/nas/password").await.unwrap()[0].2,
            "first-pass"
        );
        for i in 2..=5 {
            let w = fx
                .put(
                    "nas",
                    &[("password", &format!("pass-{i}-long"))],
                    WriteKind::Rotate,
                )
                .await
                .unwrap();
            assert_eq!(w.fields, vec![("password".to_string(), i)]);
        }
        let got = fx.get("Acme Corp/nas").await.unwrap();
        assert_eq!(
            got,
            vec![("password".to_string(), 5, "pass-5-long".to_string())]
        );
        let cred = resolve(fx.s.db(), &refs::parse("acme-corp/nas").unwrap())
            .await
            .unwrap();
        let h = history(fx.s.db(), &cred, None).await.unwrap();
        assert_eq!(
            h.iter().map(|x| x.version).collect::<Vec<_>>(),
            vec![5, 4, 3]
        );
        assert!(h[0].current && !h[1].current);
        let macs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_redaction")
            .fetch_one(fx.s.db())
            .await
            .unwrap();
        assert_eq!(macs, 3, "redaction MACs follow the kept versions");
        // Rotating a field that does not exist is refused.
        let e = fx
            .put("nas", &[("pin", "12345678")], WriteKind::Rotate)
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let e = fx
            .put("other", &[("password", "x-y-z-1-2")], WriteKind::Rotate)
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let actions: Vec<String> = audit::list(fx.s.db(), None, None)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "init", "set", "get", "rotate", "rotate", "rotate", "rotate", "get"
            ]
        );
        assert!(fx.audit_intact().await);
    }

    #[tokio::test]
    async fn list_and_history_never_hold_values() {
        let mut fx = Fx::new().await;
        fx.set(
            "db",
            &[("password", "very-secret-1"), ("api_key", "very-secret-2")],
        )
        .await;
        let l = list(fx.s.db(), None, false).await.unwrap();
        let text = serde_json::to_string(&l).unwrap();
        assert!(!text.contains("very-secret"), "{text}");
        assert_eq!(l[0].fields.len(), 2);
        let cred = resolve(fx.s.db(), &refs::parse("acme-corp/db").unwrap())
            .await
            .unwrap();
        let h = serde_json::to_string(&history(fx.s.db(), &cred, None).await.unwrap()).unwrap();
        assert!(!h.contains("very-secret"), "{h}");
        let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT ciphertext FROM vault_values")
            .fetch_all(fx.s.db())
            .await
            .unwrap();
        for ct in raw {
            assert!(!ct.windows(11).any(|w| w == b"very-secret"));
        }
    }

    #[rstest::rstest]
    #[case::truncate_ciphertext(
        "UPDATE vault_values SET ciphertext = substr(ciphertext, 1, length(ciphertext) - 1) WHERE field = 'password'"
    )]
    #[case::empty_ciphertext("UPDATE vault_values SET ciphertext = x'' WHERE field = 'password'")]
    #[case::short_nonce(
        "UPDATE vault_values SET nonce = substr(nonce, 1, 11) WHERE field = 'password'"
    )]
    #[case::swap_fields(
        "UPDATE vault_values SET ciphertext = (SELECT ciphertext FROM vault_values WHERE field = 'api_key'), nonce = (SELECT nonce FROM vault_values WHERE field = 'api_key') WHERE field = 'password'"
    )]
    #[case::edit_username("UPDATE vault_credentials SET username = 'eve'")]
    #[case::roll_back_a_version(
        "DELETE FROM vault_values WHERE field = 'password' AND version = 2"
    )]
    #[case::change_the_type("UPDATE vault_credentials SET cred_type = 'jwt'")]
    #[tokio::test]
    async fn tampering_is_an_integrity_error_and_is_audited(#[case] sql: &str) {
        let mut fx = Fx::new().await;
        let both = [("password", "pw-one-111"), ("api_key", "key-one-111")];
        fx.set("db", &both).await;
        let rotated = [("password", "pw-two-222")];
        fx.put("db", &rotated, WriteKind::Rotate).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(fx.s.db())
            .await
            .unwrap();
        let e = fx.get("acme-corp/db/password").await.unwrap_err();
        assert!(e.to_string().starts_with("integrity check failed"), "{e}");
        assert!(!e.to_string().contains("pw-"), "{e}");
        assert_eq!(e.exit_code(), 1);
        let last = audit::list(fx.s.db(), None, Some(1)).await.unwrap();
        assert_eq!(last[0].detail, "FAILED: integrity check");
        // Writing on top of a tampered record is refused too.
        let again = [("password", "pw-three-333")];
        let e = fx.put("db", &again, WriteKind::Rotate).await.unwrap_err();
        assert!(e.to_string().starts_with("integrity check failed"), "{e}");
    }

    #[tokio::test]
    async fn every_bit_of_a_stored_value_matters() {
        let mut fx = Fx::new().await;
        fx.set("db", &[("password", "pw-one-111")]).await;
        let (nonce, ct): (Vec<u8>, Vec<u8>) =
            sqlx::query_as("SELECT nonce, ciphertext FROM vault_values")
                .fetch_one(fx.s.db())
                .await
                .unwrap();
        let total = (nonce.len() + ct.len()) * 8;
        for bit in (0..total).step_by(7) {
            let (mut n, mut t) = (nonce.clone(), ct.clone());
            if bit < n.len() * 8 {
                n[bit / 8] ^= 1 << (bit % 8);
            } else {
                let b = bit - n.len() * 8;
                t[b / 8] ^= 1 << (b % 8);
            }
            sqlx::query("UPDATE vault_values SET nonce = ?, ciphertext = ?")
                .bind(&n)
                .bind(&t)
                .execute(fx.s.db())
                .await
                .unwrap();
            let e = fx.get("acme-corp/db").await.unwrap_err();
            assert!(
                e.to_string().starts_with("integrity check failed"),
                "bit {bit}: {e}"
            );
        }
    }

    #[tokio::test]
    async fn a_ciphertext_copied_between_records_does_not_open() {
        let mut fx = Fx::new().await;
        fx.set("a", &[("password", "secret-of-a")]).await;
        fx.set("b", &[("password", "secret-of-b")]).await;
        let a = resolve(fx.s.db(), &refs::parse("acme-corp/a").unwrap())
            .await
            .unwrap();
        let b = resolve(fx.s.db(), &refs::parse("acme-corp/b").unwrap())
            .await
            .unwrap();
        // Copy a's value row onto b, and b's record MAC too (as if the
        // attacker tried to make b's record consistent): still refused.
        sqlx::query(
            "UPDATE vault_values SET nonce = (SELECT nonce FROM vault_values WHERE credential_id = ?1),
             ciphertext = (SELECT ciphertext FROM vault_values WHERE credential_id = ?1) WHERE credential_id = ?2",
        )
        .bind(&a.id)
        .bind(&b.id)
        .execute(fx.s.db())
        .await
        .unwrap();
        reseal(fx.s.db(), &fx.v, &b.id).await.unwrap();
        let e = fx.get("acme-corp/b").await.unwrap_err();
        assert!(e.to_string().contains("does not decrypt"), "{e}");
        assert!(e.to_string().starts_with("integrity check failed"), "{e}");
        assert_eq!(fx.get("acme-corp/a").await.unwrap()[0].2, "secret-of-a");
    }

    #[tokio::test]
    async fn rm_restore_purge() {
        let mut fx = Fx::new().await;
        fx.set("nas", &[("password", "first-pass")]).await;
        let r = refs::parse("acme-corp/nas").unwrap();
        assert!(
            remove(fx.s.db(), &fx.v, &actor(), &r, Removal::Soft)
                .await
                .unwrap()
                .1
        );
        assert!(
            !remove(fx.s.db(), &fx.v, &actor(), &r, Removal::Soft)
                .await
                .unwrap()
                .1
        );
        assert_eq!(fx.get("acme-corp/nas").await.unwrap_err().exit_code(), 3);
        assert!(list(fx.s.db(), None, false).await.unwrap().is_empty());
        assert_eq!(list(fx.s.db(), None, true).await.unwrap().len(), 1);
        let e = fx
            .put("nas", &[("password", "again-pass")], WriteKind::Set)
            .await
            .unwrap_err();
        assert!(e.hint().is_some_and(|h| h.contains("restore")), "{e}");
        remove(fx.s.db(), &fx.v, &actor(), &r, Removal::Restore)
            .await
            .unwrap();
        assert_eq!(fx.get("acme-corp/nas").await.unwrap()[0].2, "first-pass");
        remove(fx.s.db(), &fx.v, &actor(), &r, Removal::Purge)
            .await
            .unwrap();
        assert_eq!(fx.get("acme-corp/nas").await.unwrap_err().exit_code(), 3);
        for table in ["vault_values", "vault_redaction", "vault_credentials"] {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(fx.s.db())
                    .await
                    .unwrap();
            assert_eq!(n, 0, "{table}");
        }
        assert!(fx.audit_intact().await);
    }

    #[tokio::test]
    async fn rebuild_redaction_recomputes_every_mac() {
        let mut fx = Fx::new().await;
        fx.set("a", &[("password", "secret-of-a"), ("pin", "short")])
            .await;
        let k2 = Key::random().unwrap();
        assert_eq!(rebuild_redaction(fx.s.db(), &fx.v, &k2).await.unwrap(), 2);
        let mac: Vec<u8> = sqlx::query_scalar("SELECT mac FROM vault_redaction")
            .fetch_one(fx.s.db())
            .await
            .unwrap();
        assert_eq!(mac, redaction::value_mac(&k2, b"secret-of-a").to_vec());
    }
}
