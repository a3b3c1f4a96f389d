//! What syncs: one [`Spec`] per entity kind (its table and the columns a
//! record carries), how a row becomes a payload (`json_object` in SQLite) and
//! how a payload or a tombstone is applied.
//!
//! Extension point: a new kind is a [`Spec`] in `store::synced` (in
//! dependency order), which also generates its change triggers; records of
//! kinds an older msp does not know are kept and applied once it is upgraded.

use serde_json::{Map, Value};

use crate::error::{Error, Result, is_unique_violation};
use crate::memory::store as memories;
use crate::store::Db;
pub use crate::store::synced::{SPECS, Spec};

pub fn spec(kind: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.kind == kind)
}

/// Position in [`SPECS`]: apply order.
pub fn rank(kind: &str) -> usize {
    SPECS
        .iter()
        .position(|s| s.kind == kind)
        .unwrap_or(SPECS.len())
}

/// The row as a JSON object, or `None` when it is gone (a delete).
pub async fn read_row(db: &mut Db, spec: &Spec, id: &str) -> Result<Option<Map<String, Value>>> {
    let fields: Vec<String> = spec
        .cols
        .iter()
        .map(|c| {
            if spec.blobs.contains(c) {
                format!("'{c}', CASE WHEN {c} IS NULL THEN NULL ELSE hex({c}) END")
            } else {
                format!("'{c}', {c}")
            }
        })
        .collect();
    let mut fields = fields.join(", ");
    if !spec.extra.is_empty() {
        fields.push_str(", ");
        fields.push_str(spec.extra);
    }
    let sql = format!(
        "SELECT json_object({fields}) FROM {} WHERE id = ?",
        spec.table
    );
    let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?;
    match text {
        Some(t) => match serde_json::from_str(&t) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(Error::Other(format!(
                "{} {id}: the row did not serialise",
                spec.kind
            ))),
        },
        None => Ok(None),
    }
}

/// How applying one record went.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Refers to something this store does not have yet: retry later.
    Waiting,
}

fn is_fk_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("787"))
}

/// Inserts or updates the row; returns its rowid (a memory's `seq`).
async fn upsert(db: &mut Db, spec: &Spec, row: &Map<String, Value>) -> sqlx::Result<i64> {
    let values: Vec<String> = spec
        .cols
        .iter()
        .map(|c| {
            if spec.blobs.contains(c) {
                format!("unhex(json_extract(?1, '$.{c}'))")
            } else {
                format!("json_extract(?1, '$.{c}')")
            }
        })
        .collect();
    let updates: Vec<String> = spec.cols[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT(id) DO UPDATE SET {} RETURNING rowid",
        spec.table,
        spec.cols.join(", "),
        values.join(", "),
        updates.join(", ")
    );
    // Only the known columns are read; anything else a newer msp added stays out.
    let mut known = Map::new();
    for c in spec.cols {
        known.insert(
            (*c).to_string(),
            row.get(*c).cloned().unwrap_or(Value::Null),
        );
    }
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(Value::Object(known).to_string())
        .fetch_one(db)
        .await
}

fn text<'a>(row: &'a Map<String, Value>, col: &str) -> &'a str {
    row.get(col).and_then(Value::as_str).unwrap_or_default()
}

fn short(id: &str) -> &str {
    &id[id.len().saturating_sub(6)..]
}

/// Writes the row (inside the caller's transaction, with the triggers off).
/// Two machines that created the same name or slug independently converge:
/// the older entity (smaller UUIDv7) keeps it, the younger gets its id's
/// tail appended, on every machine alike.
pub async fn put(db: &mut Db, spec: &Spec, row: &Map<String, Value>) -> Result<Outcome> {
    let mut row = row.clone();
    let id = match row.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        _ => text(&row, "id").to_string(),
    };
    if id.is_empty() {
        return Err(Error::Other(format!(
            "a {} record without an id",
            spec.kind
        )));
    }
    if spec.kind.starts_with("vault_") && !same_vault(db, spec, &row).await? {
        // Another vault lives here: keep the record, apply nothing.
        return Ok(Outcome::Waiting);
    }
    if spec.kind == "memory"
        && let Some(key) = row.get("source_key").and_then(Value::as_str)
        && forgotten(db, key).await?
    {
        // Forgotten here (or on a machine whose tombstone came first).
        delete(db, spec, &id).await?;
        return Ok(Outcome::Done);
    }
    let old_seq: Option<i64> = if spec.kind == "memory" {
        sqlx::query_scalar("SELECT seq FROM memories WHERE id = ?")
            .bind(&id)
            .fetch_optional(&mut *db)
            .await?
    } else {
        None
    };
    if let Some(seq) = old_seq {
        memories::unindex(db, seq).await?;
    }
    if spec.kind == "memory" {
        redact_pulled_memory(&mut row);
    }
    for _attempt in 0..4 {
        match upsert(db, spec, &row).await {
            Ok(rowid) => {
                if spec.kind == "vault_credential" {
                    put_vault_values(db, &id, &row).await?;
                }
                if spec.kind == "memory_tombstone" {
                    forget_source(db, text(&row, "source_key")).await?;
                }
                if spec.kind == "memory" {
                    let opt = |c: &str| row.get(c).and_then(Value::as_str);
                    memories::index_values(
                        db,
                        rowid,
                        text(&row, "title"),
                        text(&row, "body"),
                        text(&row, "tags"),
                        opt("client_id"),
                        opt("project_id"),
                    )
                    .await?;
                }
                return Ok(Outcome::Done);
            }
            Err(e) if is_fk_violation(&e) => {
                if let Some(seq) = old_seq {
                    memories::index(db, seq).await?;
                }
                return Ok(Outcome::Waiting);
            }
            Err(e) if is_unique_violation(&e) => {
                if !resolve_unique(db, spec, &mut row).await? {
                    // Nothing to rename: the older copy stays, this one is dropped.
                    if let Some(seq) = old_seq {
                        memories::index(db, seq).await?;
                    }
                    return Ok(Outcome::Done);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Other(format!(
        "{} {id}: could not resolve a name clash",
        spec.kind
    )))
}

async fn forgotten(db: &mut Db, source_key: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM memory_tombstones WHERE source_key = ?")
            .bind(source_key)
            .fetch_optional(&mut *db)
            .await?
            .is_some(),
    )
}

/// A tombstone arrived: this machine's own copy of the memory (captured or
/// imported here, so under another id) goes too.
async fn forget_source(db: &mut Db, source_key: &str) -> Result<()> {
    let rows: Vec<i64> = sqlx::query_scalar("SELECT seq FROM memories WHERE source_key = ?")
        .bind(source_key)
        .fetch_all(&mut *db)
        .await?;
    for seq in rows {
        memories::unindex(db, seq).await?;
        sqlx::query("DELETE FROM memories WHERE seq = ?")
            .bind(seq)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

/// Makes room for `row` after a UNIQUE clash; false when `row` should be dropped.
async fn resolve_unique(db: &mut Db, spec: &Spec, row: &mut Map<String, Value>) -> Result<bool> {
    let id = text(row, "id").to_string();
    match spec.kind {
        "client" => {
            let name = text(row, "name").to_string();
            let slug = text(row, "slug").to_string();
            let other: Option<String> = sqlx::query_scalar(
                "SELECT id FROM clients WHERE id <> ?1 AND (name = ?2 COLLATE NOCASE OR slug = ?3) LIMIT 1",
            )
            .bind(&id)
            .bind(&name)
            .bind(&slug)
            .fetch_optional(&mut *db)
            .await?;
            let Some(other) = other else { return Ok(false) };
            if id > other {
                let s = short(&id);
                row.insert("name".into(), Value::String(format!("{name} ~{s}")));
                row.insert("slug".into(), Value::String(format!("{slug}-{s}")));
            } else {
                sqlx::query(
                    "UPDATE clients SET name = name || ' ~' || substr(id, -6), slug = slug || '-' || substr(id, -6) WHERE id = ?",
                )
                .bind(&other)
                .execute(&mut *db)
                .await?;
            }
            Ok(true)
        }
        "project" => {
            let slug = text(row, "slug").to_string();
            let other: Option<String> =
                sqlx::query_scalar("SELECT id FROM projects WHERE id <> ? AND slug = ?")
                    .bind(&id)
                    .bind(&slug)
                    .fetch_optional(&mut *db)
                    .await?;
            let Some(other) = other else { return Ok(false) };
            if id > other {
                row.insert(
                    "slug".into(),
                    Value::String(format!("{slug}-{}", short(&id))),
                );
            } else {
                sqlx::query(
                    "UPDATE projects SET slug = slug || '-' || substr(id, -6) WHERE id = ?",
                )
                .bind(&other)
                .execute(&mut *db)
                .await?;
            }
            Ok(true)
        }
        "project_path" => {
            let other: Option<String> = sqlx::query_scalar(
                "SELECT id FROM project_paths WHERE id <> ? AND kind = ? AND value = ? AND machine_id = ?",
            )
            .bind(&id)
            .bind(text(row, "kind"))
            .bind(text(row, "value"))
            .bind(text(row, "machine_id"))
            .fetch_optional(&mut *db)
            .await?;
            match other {
                Some(other) if id < other => {
                    sqlx::query("DELETE FROM project_paths WHERE id = ?")
                        .bind(&other)
                        .execute(&mut *db)
                        .await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
        "vault_credential" => {
            let other: Option<String> = sqlx::query_scalar(
                "SELECT id FROM vault_credentials WHERE id <> ? AND client_id = ? AND name = ? COLLATE NOCASE",
            )
            .bind(&id)
            .bind(text(row, "client_id"))
            .bind(text(row, "name"))
            .fetch_optional(&mut *db)
            .await?;
            match other {
                Some(other) if id < other => {
                    sqlx::query("DELETE FROM vault_credentials WHERE id = ?")
                        .bind(&other)
                        .execute(&mut *db)
                        .await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
        "memory" if row.get("source_key").is_some_and(|v| !v.is_null()) => {
            row.insert("source_key".into(), Value::Null);
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Whether a vault record belongs to the vault of this store (or this store
/// has none yet and takes the team's).
async fn same_vault(db: &mut Db, spec: &Spec, row: &Map<String, Value>) -> Result<bool> {
    let local: Option<String> = sqlx::query_scalar("SELECT vault_id FROM vault_meta WHERE id = 1")
        .fetch_optional(&mut *db)
        .await?;
    let theirs = match spec.kind {
        "vault_meta" => text(row, "vault_id"),
        _ => text(row, "_vault_id"),
    };
    Ok(match local {
        Some(local) => local == theirs,
        None => spec.kind == "vault_meta",
    })
}

/// Replaces a credential's kept versions by those of the record.
async fn put_vault_values(db: &mut Db, id: &str, row: &Map<String, Value>) -> Result<()> {
    let values = match row.get("_values") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    sqlx::query("DELETE FROM vault_values WHERE credential_id = ?")
        .bind(id)
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "INSERT INTO vault_values (credential_id, field, version, nonce, ciphertext, created_at, machine_id)
         SELECT ?1, json_extract(value, '$.field'), json_extract(value, '$.version'),
                unhex(json_extract(value, '$.nonce')), unhex(json_extract(value, '$.ciphertext')),
                json_extract(value, '$.created_at'), json_extract(value, '$.machine_id')
         FROM json_each(?2)",
    )
    .bind(id)
    .bind(values.to_string())
    .execute(&mut *db)
    .await?;
    // This machine's redaction MACs of versions that are gone go too.
    sqlx::query(
        "DELETE FROM vault_redaction WHERE credential_id = ?1 AND NOT EXISTS (SELECT 1 FROM vault_values v
         WHERE v.credential_id = ?1 AND v.field = vault_redaction.field AND v.version = vault_redaction.version)",
    )
    .bind(id)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Applies a tombstone.
pub async fn delete(db: &mut Db, spec: &Spec, id: &str) -> Result<Outcome> {
    if spec.kind == "memory" {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM memories WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
        if let Some(seq) = seq {
            memories::unindex(db, seq).await?;
        }
    }
    let sql = format!("DELETE FROM {} WHERE id = ?", spec.table);
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .execute(&mut *db)
        .await
    {
        Ok(_) => Ok(Outcome::Done),
        Err(e) if is_fk_violation(&e) => Ok(Outcome::Waiting),
        Err(e) => Err(e.into()),
    }
}

/// A memory from another machine was redacted by that machine's rules; it
/// is redacted again with this one's (title, body, excerpt, tags) before it
/// is stored or indexed.
fn redact_pulled_memory(row: &mut serde_json::Map<String, Value>) {
    let r = crate::redact::global();
    for field in ["title", "body"] {
        if let Some(v) = row.get_mut(field) {
            r.redact_json(v);
        }
    }
    // The excerpt travels as hex of its zstd bytes.
    if let Some(Value::String(hex_excerpt)) = row.get_mut("excerpt")
        && let Ok(packed) = hex::decode(&*hex_excerpt)
        && let Ok(raw) = zstd::decode_all(packed.as_slice())
    {
        let out = r.redact(&String::from_utf8_lossy(&raw));
        if out.count > 0
            && let Ok(repacked) = zstd::encode_all(out.text.as_bytes(), 3)
        {
            *hex_excerpt = hex::encode(repacked);
        }
    }
    for field in ["tags", "hand_tags"] {
        if let Some(Value::String(tags)) = row.get_mut(field) {
            *tags = crate::memory::scrub::clean_tags(r, tags);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulled_memory_is_redacted_with_this_machines_rules() {
        let secret = "Pr1vC0mmun1ty";
        let line = format!("snmpwalk -v2c -c {secret} 10.0.0.1");
        let aws = format!("AKIA{}", crate::redact::corpus::fake(9, 'A', 16));
        let excerpt = hex::encode(zstd::encode_all(line.as_bytes(), 3).unwrap());
        let mut row: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "title": "SNMP", "body": line, "excerpt": excerpt, "tags": format!("snmp {aws}"),
        }))
        .unwrap();
        redact_pulled_memory(&mut row);
        let body = row["body"].as_str().unwrap();
        assert!(
            !body.contains(secret) && body.contains("[REDACTED:snmp-secret]"),
            "{body}"
        );
        let packed = hex::decode(row["excerpt"].as_str().unwrap()).unwrap();
        let raw = String::from_utf8(zstd::decode_all(packed.as_slice()).unwrap()).unwrap();
        assert!(!raw.contains(secret), "{raw}");
        assert_eq!(row["tags"], "snmp");
    }
}
