//! Re-redaction of stored memories with the current rules.
//!
//! Capture redacts with the rules of the msp that captured. When the rules
//! grow, memories stored before keep whatever the old rules missed, so:
//!
//! - `msp context scrub` (and `msp setup`, which `./install.sh` runs after
//!   every upgrade) re-redacts every memory's title, body, tags and source
//!   excerpt, then records the rules' fingerprint in the store;
//! - until the store carries the current fingerprint, recall re-redacts what
//!   it injects (a second line of defence that costs nothing once scrubbed).

use crate::error::Result;
use crate::redact::{self, Redactor};
use crate::store::{self, Db};

use super::store::{self as mstore, Text};

/// `local_state` key: the rules fingerprint the whole store was scrubbed with.
const STATE_KEY: &str = "redact.fingerprint";
/// Memories read and rewritten per transaction.
const BATCH: i64 = 200;

/// What a scrub changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Memories read.
    pub memories: u64,
    /// Memories whose text changed.
    pub changed: u64,
    /// Secrets replaced, over title, body, tags and excerpts.
    pub secrets: u64,
}

/// Whether every stored memory was redacted with the current rules.
pub async fn is_current(db: &mut Db) -> Result<bool> {
    Ok(store::get_state(db, STATE_KEY).await?.as_deref() == Some(redact::fingerprint()))
}

/// Re-redacts every memory. `progress(done, total)` is called after each batch.
pub async fn scrub(
    db: &mut Db,
    redactor: &Redactor,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Report> {
    let total = mstore::count(db).await?.max(0) as u64;
    let mut report = Report::default();
    let mut after = 0;
    loop {
        let batch = mstore::texts(db, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let mut changed = Vec::new();
        for text in batch {
            report.memories += 1;
            let (clean, n) = scrub_text(redactor, &text);
            if n > 0 {
                report.secrets += n;
                changed.push(clean);
            }
        }
        if !changed.is_empty() {
            let mut tx = store::begin_write(db).await?;
            for t in &changed {
                mstore::rewrite(&mut tx, t).await?;
            }
            tx.commit().await?;
            report.changed += changed.len() as u64;
        }
        progress(report.memories, total.max(report.memories));
    }
    store::set_state(db, STATE_KEY, redact::fingerprint()).await?;
    Ok(report)
}

/// Space-separated tags without those that hold a secret (a placeholder is
/// no tag).
pub fn clean_tags(r: &Redactor, tags: &str) -> String {
    tags.split_whitespace()
        .filter(|t| r.redact(t).count == 0)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One memory's text redacted: tags holding a secret are dropped.
fn scrub_text(r: &Redactor, t: &Text) -> (Text, u64) {
    let title = r.redact(&t.title);
    let body = r.redact(&t.body);
    let excerpt = t.excerpt.as_deref().map(|e| r.redact(e));
    let tags = clean_tags(r, &t.tags);
    let dropped = t.tags.split_whitespace().count() - tags.split_whitespace().count();
    let n = (title.count + body.count + excerpt.as_ref().map_or(0, |e| e.count) + dropped) as u64;
    (
        Text {
            seq: t.seq,
            title: title.text,
            body: body.text,
            tags,
            hand_tags: t.hand_tags.as_deref().map(|h| clean_tags(r, h)),
            excerpt: excerpt.map(|e| e.text),
        },
        n,
    )
}

/// Recall's guard: the redactor to re-apply to what is injected, when the
/// store was not scrubbed with the current rules.
pub async fn recall_guard(db: &mut Db) -> Result<Option<&'static Redactor>> {
    Ok(match is_current(db).await? {
        true => None,
        false => Some(redact::global()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::store::NewMemory;
    use crate::store::testing::temp_store;

    #[tokio::test]
    async fn scrub_removes_secrets_stored_before_a_rule_existed() {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        let aws = format!("AKIA{}", redact::corpus::fake(3, 'A', 16));
        // Stored as an older msp would have: the community string in clear.
        let m = NewMemory {
            kind: "note".into(),
            title: "SNMP on the core switch".into(),
            body: "snmpwalk -v2c -c Pr1vC0mmun1ty 10.0.0.1 works again".into(),
            tags: vec!["snmp".into(), aws.clone()],
            hand_tags: vec![aws.clone()],
            importance: 5,
            excerpt: zstd::encode_all(&b"$ snmpwalk -v2c -c Pr1vC0mmun1ty 10.0.0.1"[..], 3).ok(),
            ..Default::default()
        };
        let id = mstore::insert(db, &m).await.unwrap().unwrap();
        assert!(!is_current(db).await.unwrap());
        assert!(recall_guard(db).await.unwrap().is_some());

        let mut calls = 0;
        let report = scrub(db, redact::global(), &mut |_, _| calls += 1)
            .await
            .unwrap();
        assert_eq!(report.memories, 1);
        assert_eq!(report.changed, 1);
        assert!(report.secrets >= 2, "{report:?}");
        assert!(calls >= 1);
        let got = mstore::get(db, &id).await.unwrap();
        assert!(!got.body.contains("Pr1vC0mmun1ty"), "{}", got.body);
        assert!(got.body.contains("[REDACTED:snmp-secret]"), "{}", got.body);
        assert!(!got.tags.contains(&aws), "{}", got.tags);
        assert!(got.tag_list().iter().any(|t| t == "snmp"), "{}", got.tags);
        let hand = mstore::hand_tags(db, got.seq).await.unwrap();
        assert_eq!(hand, Some(vec![]), "the hand tag went with the tag");
        let excerpt = mstore::excerpt(db, &id).await.unwrap().unwrap();
        assert!(!excerpt.contains("Pr1vC0mmun1ty"), "{excerpt}");
        assert!(is_current(db).await.unwrap());
        assert!(recall_guard(db).await.unwrap().is_none());

        // Nothing left to change the second time.
        let again = scrub(db, redact::global(), &mut |_, _| {}).await.unwrap();
        assert_eq!((again.changed, again.secrets), (0, 0));
    }

    #[tokio::test]
    async fn recall_redacts_what_it_injects_until_the_store_is_scrubbed() {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        let m = NewMemory {
            kind: "note".into(),
            title: "SNMP community on the core switch".into(),
            body: "snmpwalk -v2c -c Pr1vC0mmun1ty 10.0.0.1 answers on the core switch".into(),
            importance: 8,
            created_at: crate::time::now_ms(),
            stored_tokens: 20,
            ..Default::default()
        };
        mstore::insert(db, &m).await.unwrap().unwrap();
        let cfg = crate::config::MemoryConfig::default();
        let r = crate::memory::recall::recall(
            db,
            &cfg,
            "what is the snmp community of the core switch",
            &crate::work::Scope::default(),
            crate::time::now_ms(),
            2000,
            &Default::default(),
            None,
            async |_: &mut crate::store::Db, _: &[&str]| Ok(Default::default()),
        )
        .await
        .unwrap();
        assert!(
            r.text.contains("core switch"),
            "nothing recalled: {:?}",
            r.text
        );
        assert!(!r.text.contains("Pr1vC0mmun1ty"), "{}", r.text);
        assert!(r.text.contains("[REDACTED:snmp-secret]"), "{}", r.text);
    }
}
