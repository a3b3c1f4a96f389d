//! Clients, projects and the directories that map to them, work sessions
//! (time tracking) and pending tasks. Each submodule owns its tables.

pub mod audit;
pub mod clients;
pub mod projects;
pub mod report;
pub mod sessions;
pub mod tasks;

use crate::error::{Error, Result};
use crate::store::Db;

/// The existing records of `kind` whose slug was once `slug` (see
/// [`audit::slug_left_by`]), fetched by id with `get`.
async fn former_holders<T>(
    db: &mut Db,
    kind: &'static str,
    slug: &str,
    get: impl AsyncFn(&mut Db, &str) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let mut found = Vec::new();
    if !slug.is_empty() {
        for id in audit::slug_left_by(db, kind, slug).await? {
            found.extend(get(db, &id).await?);
        }
    }
    Ok(found)
}

/// The one existing record of `kind` whose slug was once `slug`, so that a
/// name in a technician's scripts outlives a rename. `None` when no
/// existing record had it; a conflict naming them (by `label`) when several
/// did.
async fn by_former_slug<T>(
    db: &mut Db,
    kind: &'static str,
    key: &str,
    slug: &str,
    get: impl AsyncFn(&mut Db, &str) -> Result<Option<T>>,
    label: impl Fn(&T) -> &str,
) -> Result<Option<T>> {
    let mut found = former_holders(db, kind, slug, get).await?;
    if found.len() > 1 {
        let names: Vec<&str> = found.iter().map(&label).collect();
        return Err(Error::Conflict(format!(
            "{key:?} is a former name of {} {kind}s: {}",
            found.len(),
            names.join(", ")
        ))
        .with_hint(format!(
            "name the {kind} by its current name or id (`msp {kind} list --all`)"
        )));
    }
    Ok(found.pop())
}

/// Who work or a memory is for: a project and its client, a client alone,
/// or neither (no client's business).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub project_id: Option<String>,
    pub client_id: Option<String>,
}

/// Lower-case ascii letters, digits and single dashes: `Dataforth Corp.` -> `dataforth-corp`.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // Transliterate first so "Müller GmbH" becomes "muller-gmbh", not "m-ller-gmbh".
    for c in deunicode::deunicode(name)
        .chars()
        .flat_map(char::to_lowercase)
    {
        if matches!(c, '\'' | '`') {
            continue; // O'Brien IT -> obrien-it
        }
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];

pub fn check_priority(p: &str) -> Result<String> {
    let p = p.to_ascii_lowercase();
    if PRIORITIES.contains(&p.as_str()) {
        Ok(p)
    } else {
        Err(Error::usage(format!("unknown priority {p:?}"))
            .with_hint(format!("use one of {}", PRIORITIES.join(", "))))
    }
}

/// Finds a row id in `table` by full id, or a unique id prefix or suffix of
/// at least 6 characters (the `short_id` msp prints is the last 8).
pub(crate) async fn resolve_id(
    db: &mut Db,
    table: &'static str,
    key: &str,
    what: &str,
    hint: &str,
) -> Result<String> {
    let key = key.trim();
    let table = match table {
        "sessions" | "tasks" => table,
        _ => unreachable!("resolve_id on an unknown table"),
    };
    let sql = format!(
        "SELECT id FROM {table} WHERE {} LIMIT 2",
        crate::ids::key_match_sql("id")
    );
    let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(db)
        .await?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::not_found(what, key, hint)),
        _ => Err(
            Error::usage(format!("{key:?} matches more than one {what}"))
                .with_hint("give more characters of the id"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Dataforth Corp."), "dataforth-corp");
        assert_eq!(slugify("  A&B  IT "), "a-b-it");
        assert_eq!(slugify("Müller GmbH"), "muller-gmbh");
        assert_eq!(slugify("O'Brien IT"), "obrien-it");
    }

    #[tokio::test]
    async fn percent_and_underscore_in_a_short_id_are_no_wildcards() {
        use sqlx::Connection as _;
        let mut db = Db::connect("sqlite::memory:").await.unwrap();
        let a = "0195f0a0-1111-7000-8000-00000000b8a1";
        let b = "0195f0a0-2222-7000-8000-0000000000c2";
        for table in ["sessions", "tasks"] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE {table} (id TEXT PRIMARY KEY); INSERT INTO {table} VALUES ('{a}'), ('{b}')"
            )))
            .execute(&mut db)
            .await
            .unwrap();
            for key in ["%b8%%%%", "%b8a1", "______b8a1", "0195f0a0-1111%", "%1111%"] {
                let e = resolve_id(&mut db, table, key, "row", "hint").await;
                assert!(
                    matches!(e.as_ref().map_err(Error::kind), Err(Error::NotFound(_))),
                    "{table} {key}: {e:?}"
                );
            }
            // What the key really says still finds the row, in any case.
            for key in ["00b8a1", "0195F0A0-1111", a] {
                assert_eq!(
                    resolve_id(&mut db, table, key, "row", "hint")
                        .await
                        .unwrap(),
                    a,
                    "{table} {key}"
                );
            }
        }
    }
}
