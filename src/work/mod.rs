//! Clients, projects and the directories that map to them, work sessions
//! (time tracking) and pending tasks. Each submodule owns its tables.

pub mod clients;
pub mod projects;
pub mod report;
pub mod sessions;
pub mod tasks;

use crate::error::{Error, Result};
use crate::store::Db;

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
        Err(Error::usage(format!(
            "unknown priority {p:?}\nhint: use one of {}",
            PRIORITIES.join(", ")
        )))
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
    let sql = match table {
        "sessions" => {
            "SELECT id FROM sessions WHERE id = ?1 OR (length(?1) >= 6 AND (id LIKE ?1 || '%' OR id LIKE '%' || ?1)) LIMIT 2"
        }
        "tasks" => {
            "SELECT id FROM tasks WHERE id = ?1 OR (length(?1) >= 6 AND (id LIKE ?1 || '%' OR id LIKE '%' || ?1)) LIMIT 2"
        }
        _ => unreachable!("resolve_id on an unknown table"),
    };
    let ids: Vec<String> = sqlx::query_scalar(sql).bind(key).fetch_all(db).await?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::not_found(what, key, hint)),
        _ => Err(Error::usage(format!(
            "{key:?} matches more than one {what}\nhint: give more characters of the id"
        ))),
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
}
