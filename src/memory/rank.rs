//! `msp_rank`: the BM25 rank of the memory index, with the query's term
//! weights (IDF) given by the caller instead of counted by FTS5.
//!
//! FTS5's own `bm25()` counts, for every phrase of the match expression, how
//! many rows hold it, by walking the phrase's whole posting list, once per
//! query. The scope filter (`scope : (g OR c_<client>)`) is part of the
//! expression, so that walk covers every memory without a client or of the
//! client: at 100,000 memories, most of a prompt's cost, growing with the
//! store. The query's document frequencies are already known (from
//! `memory_terms`), so this function takes the weights as arguments, gives
//! the scope phrases none, and otherwise computes what `bm25()` computes
//! (k1 = 1.2, b = 0.75, the column weights of the index's `rank`).
//!
//! Use: `... WHERE memory_index MATCH ?1 AND rank MATCH 'msp_rank(w0, w1, ...)'
//! ORDER BY rank`, where `wi` is the weight of the expression's i-th phrase;
//! phrases past the last weight count for nothing.

use std::ffi::{c_int, c_void};
use std::ptr;

use libsqlite3_sys as ffi;

use crate::error::{Error, Result};
use crate::store::Db;

/// Column weights, as in the index's `rank` setting: title, body, tags, scope.
const COLUMN_WEIGHTS: [f64; 4] = [3.0, 1.0, 2.0, 0.0];
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// At most this many phrases are weighted (the query uses ten terms at most).
const MAX_PHRASES: usize = 32;

/// Makes `msp_rank` available on this connection. Cheap (one statement);
/// call it once per connection before ranking.
pub async fn install(db: &mut Db) -> Result<()> {
    let mut handle = db.lock_handle().await?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: `raw` is the open connection, held exclusively by the lock
    // for the duration of these calls.
    let rc = unsafe { register(raw) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "cannot register the ranking function (sqlite error {rc})"
        )))
    }
}

unsafe fn register(db: *mut ffi::sqlite3) -> c_int {
    // The documented way to reach the FTS5 API: bind a pointer to
    // `SELECT fts5(?1)` and let FTS5 fill it in.
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        let rc = ffi::sqlite3_finalize(stmt);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if api.is_null() || (*api).iVersion < 2 {
            return ffi::SQLITE_ERROR;
        }
        let Some(create) = (*api).xCreateFunction else {
            return ffi::SQLITE_ERROR;
        };
        create(
            api,
            c"msp_rank".as_ptr(),
            ptr::null_mut(),
            Some(msp_rank),
            None,
        )
    }
}

unsafe extern "C" fn msp_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 calls this with a valid API, context and `n_val` values.
    unsafe {
        match score(&*api, fts, n_val, values) {
            Ok(s) => ffi::sqlite3_result_double(ctx, -s),
            Err(rc) => ffi::sqlite3_result_error_code(ctx, rc),
        }
    }
}

unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) -> std::result::Result<f64, c_int> {
    let call = |rc: c_int| {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rc)
        }
    };
    let missing = ffi::SQLITE_MISUSE;
    unsafe {
        let phrases = (api.xPhraseCount.ok_or(missing)?(fts).max(0) as usize).min(MAX_PHRASES);
        let mut weight = [0f64; MAX_PHRASES];
        for (i, w) in weight
            .iter_mut()
            .enumerate()
            .take(phrases.min(n_val.max(0) as usize))
        {
            *w = ffi::sqlite3_value_double(*values.add(i)).max(0.0);
        }

        let mut rows: i64 = 0;
        call(api.xRowCount.ok_or(missing)?(fts, &mut rows))?;
        let mut total: i64 = 0;
        call(api.xColumnTotalSize.ok_or(missing)?(fts, -1, &mut total))?;
        let mut len: c_int = 0;
        call(api.xColumnSize.ok_or(missing)?(fts, -1, &mut len))?;
        let avg = if rows > 0 {
            total as f64 / rows as f64
        } else {
            1.0
        };

        let mut freq = [0f64; MAX_PHRASES];
        let mut insts: c_int = 0;
        call(api.xInstCount.ok_or(missing)?(fts, &mut insts))?;
        let inst = api.xInst.ok_or(missing)?;
        for i in 0..insts {
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            call(inst(fts, i, &mut phrase, &mut column, &mut offset))?;
            let (p, c) = (phrase as usize, column as usize);
            if p < phrases && c < COLUMN_WEIGHTS.len() {
                freq[p] += COLUMN_WEIGHTS[c];
            }
        }
        let norm = K1 * (1.0 - B + B * f64::from(len) / avg.max(1e-9));
        Ok((0..phrases)
            .filter(|&p| freq[p] > 0.0)
            .map(|p| weight[p] * freq[p] * (K1 + 1.0) / (freq[p] + norm))
            .sum())
    }
}

/// The `rank MATCH` argument for phrase weights, e.g. `msp_rank(2.5, 0.75)`.
pub fn rank_call(weights: &[f64]) -> String {
    let args: Vec<String> = weights.iter().map(|w| format!("{w:.6}")).collect();
    format!("msp_rank({})", args.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::store::{self as mstore, NewMemory};
    use crate::memory::text;
    use crate::store::testing::temp_store;

    fn memory(title: &str, body: &str, client: Option<&str>) -> NewMemory {
        NewMemory {
            kind: "note".into(),
            title: title.into(),
            body: body.into(),
            tags: vec![],
            hand_tags: vec![],
            project_id: None,
            client_id: client.map(str::to_string),
            machine_id: None,
            source: None,
            importance: 5,
            created_at: 1,
            raw_tokens: 0,
            stored_tokens: 0,
            raw_bytes: 0,
            tokens_exact: true,
            excerpt: None,
        }
    }

    #[tokio::test]
    async fn equals_fts5_bm25_given_its_weights_and_ignores_unweighted_phrases() {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        let docs = [
            (
                "Veeam backup failed",
                "The veeam job failed with a VSS error on the file server.",
            ),
            (
                "Printer spooler",
                "Restarted the spooler; veeam was not involved.",
            ),
            (
                "VSS writer",
                "vss writers were stuck; a reboot cleared them.",
            ),
            ("DNS", "Changed the forwarders on the domain controller."),
            (
                "Backup again",
                "veeam veeam veeam: the backup copy job ran late.",
            ),
        ];
        for (t, b) in docs {
            mstore::insert(db, &memory(t, b, None)).await.unwrap();
        }
        for i in 0..6 {
            let body = format!("Unrelated ticket {i} about licences and onboarding.");
            mstore::insert(db, &memory("Filler", &body, None))
                .await
                .unwrap();
        }
        install(db).await.unwrap();
        let terms = text::query_terms("veeam vss");
        let expr = format!(
            "{{title body tags}} : ({})",
            terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        // FTS5's own weights: ln((N - n + 0.5) / (n + 0.5)), n rows holding the phrase.
        let n = docs.len() as f64 + 6.0;
        let weights: Vec<f64> = [3.0, 2.0]
            .iter()
            .map(|hits: &f64| ((n - hits + 0.5) / (hits + 0.5)).ln().max(1e-6))
            .collect();
        let fts5: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, bm25(memory_index, 3.0, 1.0, 2.0, 0.0) FROM memory_index
             WHERE memory_index MATCH ?1 ORDER BY rowid",
        )
        .bind(&expr)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let ours: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, rank FROM memory_index WHERE memory_index MATCH ?1 AND rank MATCH ?2 ORDER BY rowid",
        )
        .bind(&expr)
        .bind(rank_call(&weights))
        .fetch_all(&mut *db)
        .await
        .unwrap();
        assert_eq!(fts5.len(), 4);
        assert!(weights.iter().all(|w| *w > 0.5), "{weights:?}");
        assert_eq!(fts5.len(), ours.len());
        for ((r1, a), (r2, b)) in fts5.iter().zip(&ours) {
            assert_eq!(r1, r2);
            assert!((a - b).abs() < 1e-4, "row {r1}: bm25 {a} vs msp_rank {b}");
        }
        // A scope phrase after the weighted ones changes which rows match,
        // not how they rank.
        let scoped: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, rank FROM memory_index WHERE memory_index MATCH ?1 AND rank MATCH ?2 ORDER BY rowid",
        )
        .bind(format!("{expr} AND scope : g"))
        .bind(rank_call(&weights))
        .fetch_all(&mut *db)
        .await
        .unwrap();
        assert_eq!(scoped, ours);
    }
}
