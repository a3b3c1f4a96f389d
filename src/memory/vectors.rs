//! Memories' embeddings (`memory_vectors`): what the sentence encoder makes
//! of each memory's title and body, stored as int8, filled in by
//! `msp context embed` for the memories that lack one. A memory whose
//! text changes (scrub) or that is forgotten loses its vector with it.

use serde::Serialize;

use crate::embed::{self, Encoder};
use crate::error::{Error, Result};
use crate::store::Db;

/// Tokens of a memory the encoder reads: its title and the start of its
/// body say what it is about, and the cost grows with every token.
pub const MAX_TOKENS: usize = 128;

/// Memories embedded per transaction: an interrupted run keeps what it did.
const BATCH: i64 = 64;

/// How many memories have a vector from `model`, of how many.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Coverage {
    pub memories: i64,
    pub embedded: i64,
}

pub async fn coverage(db: &mut Db, model: &str) -> Result<Coverage> {
    let (memories, embedded): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM memories),
                (SELECT count(*) FROM memory_vectors WHERE model = ?)",
    )
    .bind(model)
    .fetch_one(db)
    .await?;
    Ok(Coverage { memories, embedded })
}

/// What [`embed_missing`] did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Embedded {
    pub embedded: u64,
    pub memories: i64,
}

/// The text of a memory as the encoder reads it: the title, then the body.
fn text_of(title: &str, body: &str) -> String {
    format!("{title}\n{body}")
}

/// Embeds every memory without a vector from this encoder (older vectors
/// of another encoder are replaced), in batches; `progress(done, total)`
/// after each.
pub async fn embed_missing(
    db: &mut Db,
    encoder: &Encoder,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Embedded> {
    let model = encoder.id();
    let before = coverage(db, &model).await?;
    let total = (before.memories - before.embedded).max(0) as u64;
    let mut done = 0u64;
    progress(0, total);
    loop {
        let batch: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT m.seq, m.title, m.body FROM memories m
             LEFT JOIN memory_vectors v ON v.memory_seq = m.seq AND v.model = ?1
             WHERE v.memory_seq IS NULL ORDER BY m.seq LIMIT ?2",
        )
        .bind(&model)
        .bind(BATCH)
        .fetch_all(&mut *db)
        .await?;
        if batch.is_empty() {
            break;
        }
        // Embedding is the slow part: done before the write lock is taken.
        let mut rows = Vec::with_capacity(batch.len());
        for (seq, title, body) in &batch {
            let v = encoder
                .embed_within(&text_of(title, body), MAX_TOKENS)
                .map_err(|e| Error::Other(e.to_string()))?;
            rows.push((*seq, embed::quantize(&v)));
        }
        let mut tx = crate::store::begin_write(&mut *db).await?;
        for (seq, (values, scale)) in &rows {
            sqlx::query(
                "INSERT INTO memory_vectors (memory_seq, model, scale, vector)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM memories WHERE seq = ?1)
                 ON CONFLICT(memory_seq) DO UPDATE SET model = excluded.model,
                   scale = excluded.scale, vector = excluded.vector",
            )
            .bind(seq)
            .bind(&model)
            .bind(f64::from(*scale))
            .bind(bytemuck::cast_slice::<i8, u8>(values))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
        progress(done.min(total.max(done)), total.max(done));
    }
    Ok(Embedded {
        embedded: done,
        memories: before.memories,
    })
}
