//! The `clients` table.

use serde::Serialize;

use super::audit::{self, Diff};
use crate::error::{Error, Result, is_unique_violation};
use crate::store::{self, Db};
use crate::time::{Millis, now_ms, rfc3339};

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
    /// When it was archived: hidden from lists, kept for reports.
    #[serde(serialize_with = "crate::time::ser_rfc3339_opt")]
    pub archived_at: Option<Millis>,
}

impl Client {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

const COLUMNS: &str = "id, name, slug, client_type, notes, created_at, archived_at";

pub async fn add(
    db: &mut Db,
    name: &str,
    client_type: &str,
    notes: Option<&str>,
) -> Result<Client> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::usage("a client needs a name").with_hint("msp client add \"Dataforth\""));
    }
    if !CLIENT_TYPES.contains(&client_type) {
        return Err(Error::usage(format!("unknown client type {client_type:?}"))
            .with_hint(format!("use one of {}", CLIENT_TYPES.join(", "))));
    }
    let slug = super::slugify(name);
    if slug.is_empty() {
        return Err(Error::usage(format!(
            "the client name {name:?} needs at least one letter or digit"
        ))
        .with_hint("give the client's name as people write it, e.g. \"Acme Dental\"; its slug is made from it"));
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
        Err(e) if is_unique_violation(&e) => {
            // An archived one is hidden from `client list`: name the way back.
            let archived: Option<Option<i64>> =
                sqlx::query_scalar("SELECT archived_at FROM clients WHERE slug = ?")
                    .bind(&slug)
                    .fetch_optional(&mut *db)
                    .await?;
            let hint = match archived {
                Some(Some(_)) => format!(
                    "it is archived: `msp client archive {slug} --undo` brings it back (`msp client list --all` shows archived clients)"
                ),
                _ => "`msp client list` shows existing clients".to_string(),
            };
            Err(Error::Conflict(format!(
                "a client named {name:?} (slug {slug}) already exists"
            ))
            .with_hint(hint))
        }
        Err(e) => Err(e.into()),
    }
}

async fn get(db: &mut Db, id: &str) -> Result<Client> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = ?"
    )))
    .bind(id)
    .fetch_one(db)
    .await?)
}

/// A client by id, name (any case) or slug; failing those, by a name it
/// had before a rename, so that `msp://OLD-NAME/...` in a technician's
/// scripts still reaches the same client. A current name always wins.
pub async fn resolve(db: &mut Db, key: &str) -> Result<Client> {
    let key = key.trim();
    let slug = super::slugify(key);
    if let Some(c) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = ?1 OR name = ?1 COLLATE NOCASE OR slug = ?2 LIMIT 1"
    )))
    .bind(key)
    .bind(&slug)
    .fetch_optional(&mut *db)
    .await?
    {
        return Ok(c);
    }
    match super::by_former_slug(db, "client", key, &slug, by_id, |c: &Client| &c.name).await? {
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
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Changes a client's notes (`None` leaves them, `Some("")` clears them).
pub async fn set_notes(db: &mut Db, key: &str, notes: &str) -> Result<Client> {
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, key).await?;
    let notes = Some(notes.to_string()).filter(|n| !n.is_empty());
    let mut diff = Diff::default();
    diff.field("notes", &c.notes, &notes);
    if !diff.is_empty() {
        sqlx::query("UPDATE clients SET notes = ?, updated_at = ? WHERE id = ?")
            .bind(&notes)
            .bind(now_ms())
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, "client", &c.id, "edit", &diff).await?;
    }
    let c = get(&mut tx, &c.id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Every client, archived ones included.
pub async fn list(db: &mut Db) -> Result<Vec<Client>> {
    listing(db, true).await
}

/// Clients by name; archived ones only with `archived`.
pub async fn listing(db: &mut Db, archived: bool) -> Result<Vec<Client>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE ?1 OR archived_at IS NULL ORDER BY name COLLATE NOCASE"
    )))
    .bind(archived)
    .fetch_all(db)
    .await?)
}

/// Refuses new work for an archived client.
pub fn require_active(c: &Client) -> Result<()> {
    if c.is_archived() {
        return Err(
            Error::Conflict(format!("client {} is archived", c.name)).with_hint(format!(
                "`msp client archive {} --undo` brings it back",
                c.slug
            )),
        );
    }
    Ok(())
}

/// The other clients whose former name is `c`'s name now: references by
/// that name (`msp://SLUG/...` in scripts) reach `c` instead of them.
pub async fn took_name_of(db: &mut Db, c: &Client) -> Result<Vec<Client>> {
    let mut out = super::former_holders(db, "client", &c.slug, by_id).await?;
    out.retain(|o| o.id != c.id);
    Ok(out)
}

/// Renames a client (its slug follows the name). Audited.
pub async fn rename(db: &mut Db, key: &str, new_name: &str) -> Result<(Client, Diff)> {
    let new_name = new_name.trim();
    if new_name.is_empty() {
        return Err(
            Error::usage("a client needs a name").with_hint("msp client rename OLD \"New Name\"")
        );
    }
    let slug = super::slugify(new_name);
    if slug.is_empty() {
        return Err(Error::usage(format!(
            "the client name {new_name:?} needs at least one letter or digit"
        )));
    }
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, key).await?;
    let mut diff = Diff::default();
    diff.field("name", &c.name, &new_name.to_string());
    diff.field("slug", &c.slug, &slug);
    if diff.is_empty() {
        return Ok((c, diff));
    }
    let res = sqlx::query("UPDATE clients SET name = ?, slug = ?, updated_at = ? WHERE id = ?")
        .bind(new_name)
        .bind(&slug)
        .bind(now_ms())
        .bind(&c.id)
        .execute(&mut *tx)
        .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::Conflict(format!(
                "another client is already named {new_name:?} (slug {slug})"
            ))
            .with_hint("`msp client list --all` shows every client; pick another name"));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(&mut tx, "client", &c.id, "rename", &diff).await?;
    let c = get(&mut tx, &c.id).await?;
    tx.commit().await?;
    Ok((c, diff))
}

/// Archives a client (or brings it back with `undo`): hidden from lists,
/// its sessions kept for reports. Returns whether anything changed.
pub async fn archive(db: &mut Db, key: &str, undo: bool) -> Result<(Client, bool)> {
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, key).await?;
    if c.is_archived() != undo {
        return Ok((c, false));
    }
    let at = (!undo).then(now_ms);
    set_archived(&mut tx, &c, at).await?;
    let c = get(&mut tx, &c.id).await?;
    tx.commit().await?;
    Ok((c, true))
}

async fn set_archived(db: &mut Db, c: &Client, at: Option<Millis>) -> Result<()> {
    sqlx::query("UPDATE clients SET archived_at = ?, updated_at = ? WHERE id = ?")
        .bind(at)
        .bind(now_ms())
        .bind(&c.id)
        .execute(&mut *db)
        .await?;
    let mut diff = Diff::default();
    diff.field("archived_at", &c.archived_at.map(rfc3339), &at.map(rfc3339));
    let action = if at.is_some() { "archive" } else { "unarchive" };
    audit::record(db, "client", &c.id, action, &diff).await
}

/// What refers to a client or project: deleting it would orphan these.
#[derive(Debug, Default, Clone, Serialize, sqlx::FromRow)]
pub struct References {
    pub projects: i64,
    pub sessions: i64,
    pub tasks: i64,
    pub memories: i64,
    pub credentials: i64,
}

impl References {
    pub fn is_empty(&self) -> bool {
        self.projects + self.sessions + self.tasks + self.memories + self.credentials == 0
    }

    /// `2 projects, 14 sessions`.
    pub fn describe(&self) -> String {
        [
            (self.projects, "project"),
            (self.sessions, "session"),
            (self.tasks, "task"),
            (self.memories, "memory"),
            (self.credentials, "vault credential"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match (*n, *what) {
            (1, w) => format!("1 {w}"),
            (n, "memory") => format!("{n} memories"),
            (n, w) => format!("{n} {w}s"),
        })
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// What `client rm` did.
#[derive(Debug, Serialize)]
pub struct Removal {
    pub client: Client,
    /// Deleted for good (nothing referred to it).
    pub deleted: bool,
    /// Archived instead (`--force` with references), with this many projects.
    pub archived_projects: u64,
    pub references: References,
}

/// Deletes a client nothing refers to. One with projects, sessions, tasks,
/// memories or vault credentials is refused (deleting it would unscope or
/// orphan them), unless `force`, which archives it and its projects
/// instead. Audited; a deletion syncs as a tombstone.
pub async fn remove(db: &mut Db, key: &str, force: bool) -> Result<Removal> {
    let mut tx = store::begin_write(db).await?;
    let c = resolve(&mut tx, key).await?;
    let references: References = sqlx::query_as(
        "SELECT (SELECT count(*) FROM projects WHERE client_id = ?1) AS projects,
                (SELECT count(*) FROM sessions WHERE client_id = ?1) AS sessions,
                (SELECT count(*) FROM tasks WHERE client_id = ?1) AS tasks,
                (SELECT count(*) FROM memories WHERE client_id = ?1) AS memories,
                (SELECT count(*) FROM vault_credentials WHERE client_id = ?1) AS credentials",
    )
    .bind(&c.id)
    .fetch_one(&mut *tx)
    .await?;
    if references.is_empty() {
        sqlx::query("DELETE FROM clients WHERE id = ?")
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        let diff = Diff::removed(&c, &["name", "slug", "client_type", "notes"]);
        audit::record(&mut tx, "client", &c.id, "rm", &diff).await?;
        tx.commit().await?;
        return Ok(Removal {
            client: c,
            deleted: true,
            archived_projects: 0,
            references,
        });
    }
    if !force {
        return Err(Error::Conflict(format!("client {} still has {}: deleting it would lose or unscope them", c.name, references.describe())).with_hint(format!("`msp client rm {} --force` archives it and its projects instead (kept for reports, hidden from lists); `msp client archive {}` archives the client alone", c.slug, c.slug)));
    }
    if !c.is_archived() {
        set_archived(&mut tx, &c, Some(now_ms())).await?;
    }
    let archived_projects = super::projects::archive_all_of_client(&mut tx, &c.id).await?;
    let client = get(&mut tx, &c.id).await?;
    tx.commit().await?;
    Ok(Removal {
        client,
        deleted: false,
        archived_projects,
        references,
    })
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
        assert!(matches!(dup.kind(), Error::Conflict(_)), "{dup}");
        assert!(matches!(
            resolve(s.db(), "nobody").await.map_err(Error::into_kind),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            add(s.db(), "X", "vendor", None)
                .await
                .map_err(Error::into_kind),
            Err(Error::Usage(_))
        ));
    }
}
