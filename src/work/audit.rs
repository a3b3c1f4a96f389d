//! The `work_audit` table: every correction of a work record (an edit,
//! rename, archive or delete of a session, client, project or task) leaves
//! one row with the old and new values of the fields that changed, written
//! in the same transaction as the change. Rows are only inserted, and they
//! sync (append-only), so a correction on one machine is visible on all.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::ids;
use crate::store::Db;
use crate::time::{Millis, now_ms};

/// The old and new values of the fields a correction changed.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Diff {
    pub old: Map<String, Value>,
    pub new: Map<String, Value>,
}

impl Diff {
    /// What a removed record held: the `fields` of its JSON shape, kept as
    /// the old values so the audit can say what was deleted.
    pub fn removed<T: Serialize>(record: &T, fields: &[&str]) -> Self {
        let json = serde_json::to_value(record).unwrap_or_default();
        let old = fields
            .iter()
            .map(|&k| (k.to_string(), json.get(k).cloned().unwrap_or_default()))
            .collect();
        Diff {
            old,
            new: Map::new(),
        }
    }

    /// Notes `field` when its value changes.
    pub fn field<T: Serialize + PartialEq>(&mut self, field: &str, old: &T, new: &T) {
        if old != new {
            self.old.insert(field.into(), serde_json::json!(old));
            self.new.insert(field.into(), serde_json::json!(new));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.old.is_empty() && self.new.is_empty()
    }

    /// `title: "a" -> "b", billable: false -> true`, for the terminal; a
    /// removal lists what was there. An id is left out where its name is
    /// shown (`client` beside `client_id`).
    pub fn describe(&self) -> String {
        let named = |k: &str| {
            k.strip_suffix("_id")
                .is_some_and(|base| self.old.contains_key(base) || self.new.contains_key(base))
        };
        if self.new.is_empty() {
            return self
                .old
                .iter()
                .filter(|(k, v)| !named(k) && !v.is_null())
                .map(|(k, v)| format!("{k} {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ");
        }
        self.old
            .iter()
            .filter(|(k, _)| !named(k))
            .map(|(k, old)| {
                let new = self.new.get(k).unwrap_or(&Value::Null);
                format!("{k}: {} -> {}", show(old), show(new))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The name of a client (by id) and the slug of a project, for a diff.
pub async fn names(
    db: &mut Db,
    client_id: Option<&str>,
    project_id: Option<&str>,
) -> Result<(Option<String>, Option<String>)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT name FROM clients WHERE id = ?1), (SELECT slug FROM projects WHERE id = ?2)",
    )
    .bind(client_id)
    .bind(project_id)
    .fetch_one(db)
    .await?)
}

/// Notes the client and project names beside changed ids.
pub async fn scope_names(
    db: &mut Db,
    diff: &mut Diff,
    old: (Option<&str>, Option<&str>),
    new: (Option<&str>, Option<&str>),
) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let (oc, op) = names(db, old.0, old.1).await?;
    let (nc, np) = names(db, new.0, new.1).await?;
    if old.0 != new.0 {
        diff.field("client", &oc, &nc);
    }
    if old.1 != new.1 {
        diff.field("project", &op, &np);
    }
    Ok(())
}

/// Records one correction (inside the caller's transaction).
pub async fn record(
    db: &mut Db,
    kind: &'static str,
    entity_id: &str,
    action: &'static str,
    diff: &Diff,
) -> Result<()> {
    let machine_id = crate::machine::self_id(&mut *db).await?.unwrap_or_default();
    sqlx::query(
        "INSERT INTO work_audit (id, at, machine_id, kind, entity_id, action, old_values, new_values)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ids::new_id())
    .bind(now_ms())
    .bind(machine_id)
    .bind(kind)
    .bind(entity_id)
    .bind(action)
    .bind(Value::Object(diff.old.clone()).to_string())
    .bind(Value::Object(diff.new.clone()).to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// The records of `kind` whose slug was once `slug`: the old slug of a
/// client's rename or a project's slug update (a removal is not a change of
/// slug). Corrections sync, so every machine knows the former slugs. Latest
/// change first.
pub async fn slug_left_by(db: &mut Db, kind: &'static str, slug: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT entity_id FROM work_audit
         WHERE kind = ? AND json_extract(old_values, '$.slug') = ?
           AND json_extract(new_values, '$.slug') IS NOT NULL
         GROUP BY entity_id ORDER BY MAX(at) DESC",
    )
    .bind(kind)
    .bind(slug)
    .fetch_all(db)
    .await?)
}

/// One audit row, as printed and as `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub at: Millis,
    pub machine_id: String,
    pub machine: Option<String>,
    pub kind: String,
    pub entity_id: String,
    pub action: String,
    pub old_values: Map<String, Value>,
    pub new_values: Map<String, Value>,
}

#[derive(sqlx::FromRow)]
struct Row {
    at: Millis,
    machine_id: String,
    machine: Option<String>,
    kind: String,
    entity_id: String,
    action: String,
    old_values: String,
    new_values: String,
}

fn object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

impl Entry {
    pub fn diff(&self) -> Diff {
        Diff {
            old: self.old_values.clone(),
            new: self.new_values.clone(),
        }
    }
}

/// Corrections, newest first; `entity` narrows to one record by full id or
/// the short id msp prints (its last characters), `kind` to one kind.
pub async fn list(
    db: &mut Db,
    kind: Option<&str>,
    entity: Option<&str>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT a.at, a.machine_id, COALESCE(m.friendly_name, m.hostname) AS machine, a.kind, a.entity_id,
         a.action, a.old_values, a.new_values
         FROM work_audit a LEFT JOIN machines m ON m.id = a.machine_id
         WHERE (?1 IS NULL OR {}) AND (?2 IS NULL OR a.kind = ?2)
         ORDER BY a.at DESC, a.id DESC LIMIT ?3",
        ids::key_match_sql("a.entity_id")
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(entity.map(str::trim))
        .bind(kind)
        .bind(limit)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            old_values: object(&r.old_values),
            new_values: object(&r.new_values),
            at: r.at,
            machine_id: r.machine_id,
            machine: r.machine,
            kind: r.kind,
            entity_id: r.entity_id,
            action: r.action,
        })
        .collect())
}
