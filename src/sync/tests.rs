//! Sync logic without a server: records emitted by one store are opened and
//! applied by another, as `msp sync` does after a pull. The PostgreSQL side
//! is tested end to end in tests/it/sync.rs.

use super::*;
use crate::ids;
use crate::memory::store as memories;
use crate::store::Store;
use crate::store::testing::temp_store;
use crate::work::clients;

struct M {
    _dir: tempfile::TempDir,
    s: Store,
    id: String,
    /// Every record of this machine already handed to the others.
    sent: i64,
}

async fn machine(name: &str) -> M {
    let (dir, mut s) = temp_store().await;
    let id = ids::new_id();
    sqlx::query(
        "INSERT INTO machines (id, fingerprint, hostname, platform, username, home_directory, created_at, updated_at, last_seen_at)
         VALUES (?, ?, ?, 'linux', 'tech', '/home/tech', 1, 1, 1)",
    )
    .bind(&id)
    .bind(format!("fp-{name}"))
    .bind(name)
    .execute(s.db())
    .await
    .unwrap();
    store::set_state(s.db(), "machine_id", &id).await.unwrap();
    M {
        _dir: dir,
        s,
        id,
        sent: 0,
    }
}

/// `from` emits its changes; `to` pulls everything `from` has not sent it yet.
/// A team key and its two machines, alpha and bravo.
async fn team() -> (TeamKey, M, M) {
    let key = TeamKey::generate().unwrap();
    (key, machine("alpha").await, machine("bravo").await)
}

async fn send(key: &TeamKey, from: &mut M, to: &mut M) -> ApplyStats {
    emit(from.s.db(), key, &from.id).await.unwrap();
    let have = local_head(to.s.db(), &from.id).await.unwrap();
    let wires = own_records(from.s.db(), &from.id, have, i64::MAX)
        .await
        .unwrap();
    from.sent = from.sent.max(wires.last().map_or(0, |w| w.counter));
    let pulled: Vec<(Wire, Option<Envelope>)> = wires
        .into_iter()
        .map(|w| {
            let env = open_envelope(key, &w).unwrap();
            (w, env)
        })
        .collect();
    store_and_apply(to.s.db(), key, &to.id, pulled)
        .await
        .unwrap()
}

/// A fact memory written on machine `on`, with no client and no excerpt.
fn fact(on: &M, title: &str, body: &str) -> memories::NewMemory {
    memories::NewMemory {
        kind: "fact".into(),
        title: title.into(),
        body: body.into(),
        machine_id: Some(on.id.clone()),
        importance: 5,
        created_at: 1_700_000_000_000,
        raw_tokens: 10,
        stored_tokens: 8,
        raw_bytes: 40,
        tokens_exact: true,
        ..Default::default()
    }
}

async fn notes(m: &mut M, client: &str) -> Option<String> {
    clients::resolve(m.s.db(), client).await.unwrap().notes
}

async fn dirty(m: &mut M) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sync_dirty")
        .fetch_one(m.s.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_memory_travels_with_its_client_and_is_found_by_full_text_search() {
    let (key, mut a, mut b) = team().await;
    let c = clients::add(a.s.db(), "Dataforth", "msp_client", Some("NAS"))
        .await
        .unwrap();
    let m = memories::NewMemory {
        tags: vec!["backup".into()],
        hand_tags: vec!["backup".into()],
        client_id: Some(c.id.clone()),
        excerpt: Some(zstd::encode_all(&b"redacted source excerpt"[..], 3).unwrap()),
        ..fact(&a, "Veeam job", "The quokkaflux backup runs at 01:00")
    };
    let mid = memories::insert(a.s.db(), &m).await.unwrap().unwrap();
    let b_dirty = dirty(&mut b).await;
    let stats = send(&key, &mut a, &mut b).await;
    assert_eq!(stats.stored, 3, "machine, client, memory");
    assert_eq!(stats.applied, 3);
    assert_eq!(
        dirty(&mut b).await,
        b_dirty,
        "applied rows are not local changes"
    );
    assert_eq!(notes(&mut b, "Dataforth").await.as_deref(), Some("NAS"));
    let got = memories::get(b.s.db(), &mid).await.unwrap();
    assert_eq!(got.body, m.body);
    assert_eq!(
        memories::hand_tags(b.s.db(), got.seq).await.unwrap(),
        Some(vec!["backup".to_string()])
    );
    assert_eq!(
        memories::excerpt(b.s.db(), &mid).await.unwrap().as_deref(),
        Some("redacted source excerpt")
    );
    let hits: Vec<i64> =
        sqlx::query_scalar("SELECT rowid FROM memory_index WHERE memory_index MATCH 'quokkaflux'")
            .fetch_all(b.s.db())
            .await
            .unwrap();
    assert_eq!(hits.len(), 1, "the pulled memory is indexed");

    // Forgetting travels as a tombstone and leaves the index consistent.
    memories::forget(a.s.db(), &mid).await.unwrap();
    send(&key, &mut a, &mut b).await;
    assert!(memories::get(b.s.db(), &mid).await.is_err());
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM memory_terms WHERE term = 'quokkaflux'")
            .fetch_one(b.s.db())
            .await
            .unwrap();
    assert_eq!(left, 0);
    // Sending again changes nothing (idempotent).
    let again = send(&key, &mut a, &mut b).await;
    assert_eq!((again.stored, again.applied), (0, 0));
}

#[tokio::test]
async fn concurrent_edits_converge_whatever_the_order() {
    for a_first in [true, false] {
        let (key, mut a, mut b) = team().await;
        clients::add(a.s.db(), "Acme", "msp_client", None)
            .await
            .unwrap();
        send(&key, &mut a, &mut b).await;
        send(&key, &mut b, &mut a).await;
        clients::set_notes(a.s.db(), "Acme", "from A")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        clients::set_notes(b.s.db(), "Acme", "from B")
            .await
            .unwrap();
        if a_first {
            send(&key, &mut a, &mut b).await;
            send(&key, &mut b, &mut a).await;
        } else {
            send(&key, &mut b, &mut a).await;
            send(&key, &mut a, &mut b).await;
        }
        // Both have seen both edits now (one more round for the last sender).
        send(&key, &mut a, &mut b).await;
        send(&key, &mut b, &mut a).await;
        let na = notes(&mut a, "Acme").await;
        let nb = notes(&mut b, "Acme").await;
        assert_eq!(na, nb, "a_first={a_first}");
        assert_eq!(na.as_deref(), Some("from B"), "the later edit wins");
    }
}

#[tokio::test]
async fn an_edit_made_after_seeing_a_future_timestamp_still_wins() {
    let (key, mut a, mut b) = team().await;
    clients::add(a.s.db(), "Acme", "msp_client", None)
        .await
        .unwrap();
    // A's clock runs an hour ahead.
    sqlx::query("UPDATE sync_dirty SET changed_at = changed_at + 3600000")
        .execute(a.s.db())
        .await
        .unwrap();
    send(&key, &mut a, &mut b).await;
    clients::set_notes(b.s.db(), "Acme", "seen and edited")
        .await
        .unwrap();
    send(&key, &mut b, &mut a).await;
    assert_eq!(
        notes(&mut a, "Acme").await.as_deref(),
        Some("seen and edited")
    );
}

#[tokio::test]
async fn the_same_name_created_twice_converges_to_one_name_per_client() {
    let (key, mut a, mut b) = team().await;
    let ca = clients::add(a.s.db(), "Acme", "msp_client", None)
        .await
        .unwrap();
    let cb = clients::add(b.s.db(), "Acme", "msp_client", None)
        .await
        .unwrap();
    send(&key, &mut a, &mut b).await;
    send(&key, &mut b, &mut a).await;
    let names = |list: Vec<clients::Client>| {
        let mut v: Vec<(String, String)> = list.into_iter().map(|c| (c.id, c.name)).collect();
        v.sort();
        v
    };
    let la = names(clients::list(a.s.db()).await.unwrap());
    let lb = names(clients::list(b.s.db()).await.unwrap());
    assert_eq!(la, lb);
    assert_eq!(la.len(), 2);
    let (older, younger) = if ca.id < cb.id {
        (&ca, &cb)
    } else {
        (&cb, &ca)
    };
    assert!(la.contains(&(older.id.clone(), "Acme".into())), "{la:?}");
    assert!(
        la.iter()
            .any(|(id, n)| id == &younger.id && n.starts_with("Acme ~"))
    );
}

#[tokio::test]
async fn unknown_kinds_and_newer_formats_are_kept_not_fatal() {
    let key = TeamKey::generate().unwrap();
    let mut b = machine("bravo").await;
    let other = ids::new_id();
    let mut pulled = Vec::new();
    for (counter, kind, version) in [(1, "ticket_link", 1), (2, "client", FORMAT_VERSION + 1)] {
        let mut w = Wire {
            machine_id: other.clone(),
            counter,
            record_id: ids::new_id(),
            kind: kind.into(),
            version,
            sealed: Vec::new(),
        };
        let env = Envelope {
            e: ids::new_id(),
            t: 1,
            d: false,
            r: Some(Map::new()),
        };
        w.sealed = seal(&key, &w, &env).unwrap();
        let opened = open_envelope(&key, &w).unwrap();
        assert!(opened.is_none(), "not understood, but authenticated");
        pulled.push((w, opened));
    }
    let stats = store_and_apply(b.s.db(), &key, &b.id, pulled)
        .await
        .unwrap();
    assert_eq!((stats.stored, stats.applied, stats.kept), (2, 0, 2));
    assert_eq!(
        local_head(b.s.db(), &other).await.unwrap(),
        2,
        "kept, and the mark moved"
    );
}

#[tokio::test]
async fn records_do_not_open_under_another_id_counter_or_key() {
    let key = TeamKey::generate().unwrap();
    let mut a = machine("alpha").await;
    clients::add(a.s.db(), "Acme", "msp_client", None)
        .await
        .unwrap();
    emit(a.s.db(), &key, &a.id).await.unwrap();
    let w = own_records(a.s.db(), &a.id, 0, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(open(&key, &w).is_some());
    let moved = [
        Wire {
            record_id: ids::new_id(),
            ..w.clone()
        },
        Wire {
            counter: w.counter + 1,
            ..w.clone()
        },
        Wire {
            machine_id: ids::new_id(),
            ..w.clone()
        },
        Wire {
            kind: "project".into(),
            ..w.clone()
        },
    ];
    for m in &moved {
        assert!(open(&key, m).is_none(), "{m:?}");
    }
    let mut flipped = w.clone();
    let i = flipped.sealed.len() / 2;
    flipped.sealed[i] ^= 1;
    assert!(open(&key, &flipped).is_none());
    assert!(open(&TeamKey::generate().unwrap(), &w).is_none());
}

/// Whether the store file of `m` holds `needle`, once its WAL is copied in.
async fn on_disk(m: &mut M, needle: &[u8]) -> bool {
    store::checkpoint_truncate(m.s.db()).await.unwrap();
    let bytes = std::fs::read(m.s.path()).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_memory_forgotten_elsewhere_leaves_no_words_in_this_store() {
    let (key, mut a, mut b) = team().await;
    let m = fact(&a, "NAS share", "The quokka7flux9 share moved to nas02");
    let mid = memories::insert(a.s.db(), &m).await.unwrap().unwrap();
    send(&key, &mut a, &mut b).await;
    assert!(
        on_disk(&mut b, b"quokka7flux9").await,
        "pulled, the memory is on disk"
    );
    memories::forget(a.s.db(), &mid).await.unwrap();
    send(&key, &mut a, &mut b).await;
    assert!(memories::get(b.s.db(), &mid).await.is_err());
    assert!(
        !on_disk(&mut b, b"quokka7flux9").await,
        "the tombstone left its words on disk"
    );
}
