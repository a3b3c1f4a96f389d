//! The `clients` table.

use serde::Serialize;

use crate::error::{Error, Result, is_unique_violation};
use crate::store::Db;
use crate::time::{Millis, now_ms};

pub const CLIENT_TYPES: &[&str] = &["msp_client", "internal", "project"];

/// A client; its JSON shape is this row with times in RFC 3339.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub client_type: String,
    pub notes: Option<String>,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub created_at: Millis,
}

pub async fn add(
    db: &mut Db,
    name: &str,
    client_type: &str,
    notes: Option<&str>,
) -> Result<Client> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::usage(
            "a client needs a name\nhint: msp client add \"Dataforth\"",
        ));
    }
    if !CLIENT_TYPES.contains(&client_type) {
        return Err(Error::usage(format!(
            "unknown client type {client_type:?}\nhint: use one of {}",
            CLIENT_TYPES.join(", ")
        )));
    }
    let slug = super::slugify(name);
    if slug.is_empty() {
        return Err(Error::usage(format!(
            "the client name {name:?} needs at least one letter or digit"
        )));
    }
    let now = now_ms();
    let id = crate::ids::new_id();
    let inserted = sqlx::query(
        "INSERT INTO clients (id, name, slug, client_type, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(name)
    .bind(&slug)
    .bind(client_type)
    .bind(notes)
    .bind(now)
    .bind(now)
    .execute(&mut *db)
    .await;
    match inserted {
        Ok(_) => get(db, &id).await,
        Err(e) if is_unique_violation(&e) => Err(Error::Conflict(format!(
            "a client named {name:?} (slug {slug}) already exists\nhint: `msp client list` shows existing clients"
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn get(db: &mut Db, id: &str) -> Result<Client> {
    Ok(sqlx::query_as(
        "SELECT id, name, slug, client_type, notes, created_at FROM clients WHERE id = ?",
    )
    .bind(id)
    .fetch_one(db)
    .await?)
}

/// A client by id, name (any case) or slug.
pub async fn resolve(db: &mut Db, key: &str) -> Result<Client> {
    let key = key.trim();
    match sqlx::query_as(
        "SELECT id, name, slug, client_type, notes, created_at FROM clients
         WHERE id = ?1 OR name = ?1 COLLATE NOCASE OR slug = ?2 LIMIT 1",
    )
    .bind(key)
    .bind(super::slugify(key))
    .fetch_optional(&mut *db)
    .await?
    {
        Some(c) => Ok(c),
        None => Err(crate::suggest::not_found(
            db,
            "client",
            key,
            "SELECT name FROM clients UNION ALL SELECT slug FROM clients",
            "`msp client list` shows clients; `msp client add NAME` creates one",
        )
        .await),
    }
}

pub async fn by_id(db: &mut Db, id: &str) -> Result<Option<Client>> {
    Ok(sqlx::query_as(
        "SELECT id, name, slug, client_type, notes, created_at FROM clients WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Changes a client's notes (`None` leaves them, `Some("")` clears them).
pub async fn set_notes(db: &mut Db, key: &str, notes: &str) -> Result<Client> {
    let c = resolve(db, key).await?;
    let notes = Some(notes).filter(|n| !n.is_empty());
    sqlx::query("UPDATE clients SET notes = ?, updated_at = ? WHERE id = ?")
        .bind(notes)
        .bind(now_ms())
        .bind(&c.id)
        .execute(&mut *db)
        .await?;
    get(db, &c.id).await
}

pub async fn list(db: &mut Db) -> Result<Vec<Client>> {
    Ok(
        sqlx::query_as("SELECT id, name, slug, client_type, notes, created_at FROM clients ORDER BY name COLLATE NOCASE")
            .fetch_all(db)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[tokio::test]
    async fn add_resolve_and_refuse_duplicates() {
        let (_d, mut s) = temp_store().await;
        let c = add(s.db(), "Dataforth", "msp_client", None).await.unwrap();
        assert_eq!(c.slug, "dataforth");
        assert_eq!(resolve(s.db(), "DATAFORTH").await.unwrap().id, c.id);
        assert_eq!(resolve(s.db(), &c.id).await.unwrap().id, c.id);
        let dup = add(s.db(), "dataforth", "msp_client", None)
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{dup}");
        assert!(matches!(
            resolve(s.db(), "nobody").await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            add(s.db(), "X", "vendor", None).await,
            Err(Error::Usage(_))
        ));
    }
}
