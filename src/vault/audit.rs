//! The vault's tamper-evident audit log.
//!
//! Every entry is chained to the one before it:
//! `mac_n = HMAC(audit subkey, canon(entry_n) || mac_{n-1})`, where the entry
//! includes its own sequence number. Editing, reordering, inserting or
//! deleting an entry breaks the chain at that point, which
//! [`verify`] reports. Deleting the newest entries leaves a valid chain, so
//! the head (the last keyed entry's number and MAC, sealed by its own HMAC)
//! lives in a separate row that every append updates in the same
//! transaction: a missing tail no longer matches the head.
//!
//! A failed unlock happens without the data key, so its entry is chained
//! with SHA-256 alone (`keyed = 'none'`). The next keyed entry covers it (its
//! MAC includes the failed entry's hash), so from then on it cannot be
//! changed or removed unnoticed. Until then, someone who can write the
//! store can remove or forge failed-unlock entries at the very end of the
//! log; `verify` reports how many such unsealed entries there are.
//!
//! What the store alone cannot detect: the whole store (entries and head
//! together) replaced by an older copy of itself. The seal beside it
//! ([`super::seal`]) catches that, unless it is rolled back too.

use serde::Serialize;

use crate::crypto::{self, Canon, Key};
use crate::error::{Error, Result};
use crate::store::Db;
use crate::time::{Millis, rfc3339};

pub const FAILED_UNLOCK: &str = "unlock-failed";

/// Who acts: this machine and the OS user.
#[derive(Debug, Clone)]
pub struct Actor {
    pub machine_id: Option<String>,
    pub os_user: String,
}

impl Actor {
    pub async fn current(db: &mut Db) -> Result<Actor> {
        Ok(Actor {
            machine_id: crate::machine::self_id(db).await?,
            os_user: crate::machine::username(),
        })
    }
}

/// What happened, to what.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    /// `client-slug/item`, as the user names it.
    pub credential: Option<&'a str>,
    pub credential_id: Option<&'a str>,
    pub detail: &'a str,
}

/// One audit entry, as stored and as `--json` prints it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub at: Millis,
    pub machine_id: Option<String>,
    pub os_user: String,
    pub action: String,
    pub credential: Option<String>,
    #[serde(skip)]
    pub credential_id: Option<String>,
    pub detail: String,
    /// `vault` (HMAC with the vault's audit key) or `none` (failed unlock).
    pub keyed: String,
    #[serde(skip)]
    pub mac: Vec<u8>,
}

impl Entry {
    fn canon(&self, prev: &[u8]) -> Vec<u8> {
        let mut c = Canon::new("msp-vault-audit-v1");
        c.int(self.seq)
            .int(self.at)
            .opt(self.machine_id.as_deref())
            .str(&self.os_user)
            .str(&self.action)
            .opt(self.credential.as_deref())
            .opt(self.credential_id.as_deref())
            .str(&self.detail)
            .str(&self.keyed)
            .bytes(prev);
        c.finish().to_vec()
    }
}

fn entry_mac(key: Option<&Key>, e: &Entry, prev: &[u8]) -> [u8; 32] {
    let data = e.canon(prev);
    match key {
        Some(k) => {
            use hmac::Mac;
            let mut m = crypto::hmac(k.expose());
            m.update(&data);
            m.finalize().into_bytes().into()
        }
        None => crypto::sha256(&data),
    }
}

fn head_tag(key: &Key, seq: i64, mac: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut m = crypto::hmac(key.expose());
    m.update(
        Canon::new("msp-vault-audit-head-v1")
            .int(seq)
            .bytes(mac)
            .finish(),
    );
    m.finalize().into_bytes().into()
}

/// Appends one entry; with `key` None, a keyless (failed unlock) entry.
/// Call inside the transaction that makes the change being recorded.
pub async fn append(
    db: &mut Db,
    key: Option<&Key>,
    actor: &Actor,
    event: &Event<'_>,
    now: Millis,
) -> Result<i64> {
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, mac FROM vault_audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *db)
            .await?;
    let (seq, prev) = match last {
        Some((s, m)) => (s + 1, m),
        None => (1, vec![0u8; 32]),
    };
    let mut e = Entry {
        seq,
        at: now,
        machine_id: actor.machine_id.clone(),
        os_user: actor.os_user.clone(),
        action: event.action.to_string(),
        credential: event.credential.map(str::to_string),
        credential_id: event.credential_id.map(str::to_string),
        detail: event.detail.to_string(),
        keyed: if key.is_some() { "vault" } else { "none" }.to_string(),
        mac: Vec::new(),
    };
    e.mac = entry_mac(key, &e, &prev).to_vec();
    sqlx::query(
        "INSERT INTO vault_audit (seq, at, machine_id, os_user, action, credential, credential_id, detail, keyed, mac)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.seq)
    .bind(e.at)
    .bind(&e.machine_id)
    .bind(&e.os_user)
    .bind(&e.action)
    .bind(&e.credential)
    .bind(&e.credential_id)
    .bind(&e.detail)
    .bind(&e.keyed)
    .bind(&e.mac)
    .execute(&mut *db)
    .await?;
    match key {
        Some(k) => {
            let tag = head_tag(k, seq, &e.mac).to_vec();
            sqlx::query(
                "INSERT INTO vault_audit_head (id, vault_seq, vault_tag, last_seq) VALUES (1, ?1, ?2, ?1)
                 ON CONFLICT(id) DO UPDATE SET vault_seq = excluded.vault_seq, vault_tag = excluded.vault_tag, last_seq = excluded.last_seq",
            )
            .bind(seq)
            .bind(tag)
            .execute(&mut *db)
            .await?;
        }
        None => {
            sqlx::query("UPDATE vault_audit_head SET last_seq = ? WHERE id = 1")
                .bind(seq)
                .execute(&mut *db)
                .await?;
        }
    }
    Ok(seq)
}

/// Entries, oldest first; only those of one credential (`client/item`)
/// when given; the newest `limit` when given.
pub async fn list(db: &mut Db, credential: Option<&str>, limit: Option<i64>) -> Result<Vec<Entry>> {
    let mut rows: Vec<Entry> = sqlx::query_as(
        "SELECT seq, at, machine_id, os_user, action, credential, credential_id, detail, keyed, mac
         FROM vault_audit WHERE ?1 IS NULL OR credential = ?1 COLLATE NOCASE
         ORDER BY seq DESC LIMIT ?2",
    )
    .bind(credential)
    .bind(limit.unwrap_or(-1))
    .fetch_all(db)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// What [`verify`] found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub entries: u64,
    pub keyed: u64,
    /// Failed-unlock entries after the last keyed entry: chained, but not
    /// yet covered by a keyed MAC.
    pub unsealed_tail: u64,
    /// Everything wrong, first problem first. Empty: the chain is intact.
    pub problems: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the whole chain and its head with the vault's audit key.
pub async fn verify(db: &mut Db, key: &Key) -> Result<Report> {
    let rows: Vec<Entry> = sqlx::query_as(
        "SELECT seq, at, machine_id, os_user, action, credential, credential_id, detail, keyed, mac
         FROM vault_audit ORDER BY seq",
    )
    .fetch_all(&mut *db)
    .await?;
    let head: Option<(i64, Vec<u8>, i64)> =
        sqlx::query_as("SELECT vault_seq, vault_tag, last_seq FROM vault_audit_head WHERE id = 1")
            .fetch_optional(&mut *db)
            .await?;
    Ok(check(&rows, head.as_ref(), key))
}

fn check(rows: &[Entry], head: Option<&(i64, Vec<u8>, i64)>, key: &Key) -> Report {
    let mut r = Report {
        entries: rows.len() as u64,
        ..Default::default()
    };
    let mut prev: Vec<u8> = vec![0u8; 32];
    let mut expected = 1;
    for e in rows {
        if e.seq != expected {
            r.problems.push(if e.seq > expected {
                format!("entries {expected}..{} are missing", e.seq - 1)
            } else {
                format!("entry {} is out of order", e.seq)
            });
        }
        expected = e.seq + 1;
        let (k, what) = match e.keyed.as_str() {
            "vault" => (Some(key), "its HMAC"),
            "none" => (None, "its hash"),
            other => {
                r.problems
                    .push(format!("entry {} has an unknown seal {other:?}", e.seq));
                prev.clone_from(&e.mac);
                continue;
            }
        };
        if k.is_some() {
            r.keyed += 1;
        } else if e.action != FAILED_UNLOCK {
            r.problems.push(format!(
                "entry {} ({}) is not sealed with the vault key; only failed unlocks may be",
                e.seq, e.action
            ));
        }
        let want = entry_mac(k, e, &prev);
        if !constant_time_eq(&want, &e.mac) {
            r.problems.push(format!(
                "entry {} ({} at {}) was changed, moved or inserted: {what} does not match the chain",
                e.seq,
                e.action,
                rfc3339(e.at)
            ));
        }
        prev.clone_from(&e.mac);
    }
    let last_seq = rows.last().map_or(0, |e| e.seq);
    match head {
        None if rows.is_empty() => {}
        None => r
            .problems
            .push("the head of the audit chain is missing".into()),
        Some((vault_seq, tag, head_last)) => {
            match rows.iter().find(|e| e.seq == *vault_seq) {
                Some(e)
                    if e.keyed == "vault"
                        && constant_time_eq(&head_tag(key, *vault_seq, &e.mac), tag) => {}
                Some(_) => r.problems.push(format!(
                    "the head of the chain does not match entry {vault_seq}: the head or that entry was changed"
                )),
                None => r.problems.push(format!(
                    "the newest entries were deleted: the chain ends at {last_seq} but its head says {vault_seq}"
                )),
            }
            if let Some(e) = rows
                .iter()
                .find(|e| e.seq > *vault_seq && e.keyed == "vault")
            {
                r.problems.push(format!(
                    "entry {} is newer than the head of the chain ({vault_seq}): the head was rolled back",
                    e.seq
                ));
            }
            if *head_last > last_seq {
                r.problems.push(format!(
                    "entries {}..{head_last} at the end of the log are missing",
                    last_seq + 1
                ));
            }
            r.unsealed_tail = rows.iter().filter(|e| e.seq > *vault_seq).count() as u64;
        }
    }
    r
}

use crate::crypto::constant_time_eq;

/// For messages: the error a broken chain makes.
pub fn broken(report: &Report) -> Error {
    Error::Other(format!("the vault audit log was tampered with: {}", report.problems.join("; "))).with_hint("the entries were changed outside msp; keep a copy of msp.db for investigation and restore it from a backup")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn actor() -> Actor {
        Actor {
            machine_id: Some("m1".into()),
            os_user: "tech".into(),
        }
    }

    async fn log(db: &mut Db, key: &Key) {
        let ev = |a: &'static str| Event {
            action: a,
            credential: Some("acme/nas"),
            credential_id: Some("c1"),
            detail: "",
        };
        // The failed unlock has no key to seal its entry with.
        let entries = [
            (Some(key), "init"),
            (Some(key), "set"),
            (None, FAILED_UNLOCK),
            (Some(key), "get"),
            (Some(key), "rotate"),
        ];
        for (at, (key, action)) in (1..).zip(entries) {
            append(db, key, &actor(), &ev(action), at).await.unwrap();
        }
    }

    async fn exec(db: &mut Db, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(db)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_intact_chain_verifies() {
        let (_d, mut s) = temp_store().await;
        let key = Key::random().unwrap();
        log(s.db(), &key).await;
        let r = verify(s.db(), &key).await.unwrap();
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!((r.entries, r.keyed, r.unsealed_tail), (5, 4, 0));
        // A failed unlock at the end is reported as not yet sealed.
        append(
            s.db(),
            None,
            &actor(),
            &Event {
                action: FAILED_UNLOCK,
                credential: None,
                credential_id: None,
                detail: "",
            },
            6,
        )
        .await
        .unwrap();
        let r = verify(s.db(), &key).await.unwrap();
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.unsealed_tail, 1);
        // Another key finds every keyed entry wrong.
        let r = verify(s.db(), &Key::random().unwrap()).await.unwrap();
        assert!(!r.ok());
    }

    #[tokio::test]
    async fn every_kind_of_tampering_is_detected() {
        let cases: &[(&str, &str)] = &[
            (
                "edit",
                "UPDATE vault_audit SET action = 'list' WHERE seq = 2",
            ),
            ("edit time", "UPDATE vault_audit SET at = 99 WHERE seq = 4"),
            (
                "edit user",
                "UPDATE vault_audit SET os_user = 'eve' WHERE seq = 1",
            ),
            ("delete middle", "DELETE FROM vault_audit WHERE seq = 3"),
            ("delete first", "DELETE FROM vault_audit WHERE seq = 1"),
            ("delete last", "DELETE FROM vault_audit WHERE seq = 5"),
            ("delete last two", "DELETE FROM vault_audit WHERE seq >= 4"),
            (
                "delete last and renumber the head",
                "DELETE FROM vault_audit WHERE seq = 5; UPDATE vault_audit_head SET vault_seq = 4, last_seq = 4",
            ),
            (
                "swap two entries",
                "UPDATE vault_audit SET seq = -1 WHERE seq = 2; UPDATE vault_audit SET seq = 2 WHERE seq = 4; UPDATE vault_audit SET seq = 4 WHERE seq = -1",
            ),
            (
                "renumber after a delete",
                "DELETE FROM vault_audit WHERE seq = 2; UPDATE vault_audit SET seq = seq - 1 WHERE seq > 2",
            ),
            (
                "failed unlock removed",
                "DELETE FROM vault_audit WHERE seq = 3; UPDATE vault_audit SET seq = seq - 1 WHERE seq > 3",
            ),
            (
                "downgrade a keyed entry",
                "UPDATE vault_audit SET keyed = 'none' WHERE seq = 2",
            ),
            ("head removed", "DELETE FROM vault_audit_head"),
        ];
        for (name, sql) in cases {
            let (_d, mut s) = temp_store().await;
            let key = Key::random().unwrap();
            log(s.db(), &key).await;
            exec(s.db(), sql).await;
            let r = verify(s.db(), &key).await.unwrap();
            assert!(!r.ok(), "{name}: not detected");
        }
    }

    #[tokio::test]
    async fn a_forged_hash_for_a_failed_unlock_is_caught_by_the_next_keyed_entry() {
        let (_d, mut s) = temp_store().await;
        let key = Key::random().unwrap();
        log(s.db(), &key).await;
        // Rewrite entry 3 (keyless) consistently: its own hash is right, but
        // entry 4's HMAC covered the old one.
        let mut rows = list(s.db(), None, None).await.unwrap();
        let e = &mut rows[2];
        e.detail = "forged".into();
        let prev = rows[1].mac.clone();
        let mac = entry_mac(None, &rows[2], &prev);
        sqlx::query("UPDATE vault_audit SET detail = 'forged', mac = ? WHERE seq = 3")
            .bind(mac.to_vec())
            .execute(s.db())
            .await
            .unwrap();
        let r = verify(s.db(), &key).await.unwrap();
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].contains("entry 4"), "{:?}", r.problems);
    }

    #[tokio::test]
    async fn list_filters_by_credential_and_limits() {
        let (_d, mut s) = temp_store().await;
        let key = Key::random().unwrap();
        log(s.db(), &key).await;
        assert_eq!(list(s.db(), Some("ACME/nas"), None).await.unwrap().len(), 5);
        assert!(
            list(s.db(), Some("acme/other"), None)
                .await
                .unwrap()
                .is_empty()
        );
        let last2 = list(s.db(), None, Some(2)).await.unwrap();
        assert_eq!(last2.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
    }
}
