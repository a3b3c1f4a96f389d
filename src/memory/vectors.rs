//! Memories' embeddings (`memory_vectors`): what the sentence encoder makes
//! of each memory's title and body (read with the memory before it when
//! the two are close, see [`vectors_of`]), stored as int8, filled in by
//! `msp context embed` for the memories that lack one. A memory whose
//! text changes (scrub) or that is forgotten loses its vector with it, and
//! so does the memory read with it.

use std::collections::{HashMap, HashSet};
use std::ffi::c_int;

use libsqlite3_sys as ffi;
use serde::Serialize;

use crate::embed::{self, Encoder};
use crate::error::{Error, Result};
use crate::memory::store;
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

/// The lock one `msp context embed` holds while it runs.
pub const LOCK_FILE: &str = "embed.lock";

/// Starts `msp context embed` in the background, not waited for, so that
/// what a hook just stored becomes findable by meaning within moments
/// while the hook returns at once. A run already going embeds it too.
pub fn spawn_embed() -> std::io::Result<u32> {
    crate::process::spawn_msp(&["context", "embed", "--quiet"])
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

/// How the text a vector is made from is put together: 1, the memory
/// alone; 2, read with the memory before it when the two are close
/// ([`READ_WITH_CLOSENESS`]). Vectors of an older recipe are made again.
pub const RECIPE: i64 = 2;

/// How close in meaning (the cosine of the two read alone) a memory and
/// the one written just before it in its project must be for it to be read
/// with that one's body. Turns of one conversation lie at 0.5 or more for
/// three in four (median 0.6); a note and the unrelated ticket logged
/// before it, at 0.36 or less for nine in ten (docs/benchmarks.md, "Read
/// with what came before").
const READ_WITH_CLOSENESS: f32 = 0.5;

/// A memory to embed, with the memory written just before it in its
/// project (within [`store::WORK_WINDOW`]), if any.
#[derive(sqlx::FromRow)]
struct ToEmbed {
    seq: i64,
    title: String,
    body: String,
    before_seq: Option<i64>,
    before_title: Option<String>,
    before_body: Option<String>,
}

/// The SQL condition on `memories m` and its vector `v` (from the encoder
/// at hand, joined) for a vector to be made: it has none, or one of a
/// recipe older than `recipe` (the parameter that holds [`RECIPE`]).
fn due(recipe: &str) -> String {
    format!("(v.memory_seq IS NULL OR v.recipe < {recipe})")
}

/// The memories `which` (an SQL condition on `memories m` and
/// `memory_vectors v`) with what embedding them needs: each with the one
/// written just before it in its project. `?1` is the model, `?2` the
/// window.
fn to_embed_sql(which: &str) -> String {
    format!(
        "SELECT m.seq, m.title, m.body,
                p.seq AS before_seq, p.title AS before_title, p.body AS before_body
           FROM memories m
           LEFT JOIN memory_vectors v ON v.memory_seq = m.seq AND v.model = ?1
           LEFT JOIN memories p ON p.seq = {}
          WHERE {which}",
        store::neighbour_sql(store::Way::Before, "m", "?2")
    )
}

/// A memory's vector and the memory whose body it was read with.
struct Made {
    vector: Vec<f32>,
    read_with: Option<i64>,
}

/// The vectors of `batch`, in order. A memory is read with the body of the
/// one written just before it in its project when the two, each read
/// alone, are close in meaning: a reply with what it answers, a fix with
/// the fault found. An unrelated ticket logged in between is not read
/// with it.
fn vectors_of(encoder: &Encoder, batch: &[ToEmbed]) -> Result<Vec<Made>> {
    let embed = |texts: &[String]| {
        encoder
            .embed_many_within(texts, MAX_TOKENS)
            .map_err(|e| Error::Other(e.to_string()))
    };
    let own: Vec<String> = batch.iter().map(|m| text_of(&m.title, &m.body)).collect();
    let alone = embed(&own)?;
    // The memory before, read alone: from this batch when it is in it
    // (an import embeds memories in the order they were written).
    let in_batch: HashMap<i64, usize> = batch.iter().enumerate().map(|(i, m)| (m.seq, i)).collect();
    let mut outside: Vec<(i64, String)> = Vec::new();
    for m in batch {
        if let (Some(seq), Some(title), Some(body)) =
            (m.before_seq, &m.before_title, &m.before_body)
            && !in_batch.contains_key(&seq)
            && !outside.iter().any(|(s, _)| *s == seq)
        {
            outside.push((seq, text_of(title, body)));
        }
    }
    let texts: Vec<String> = outside.iter().map(|(_, t)| t.clone()).collect();
    let outside: HashMap<i64, Vec<f32>> = outside
        .into_iter()
        .map(|(seq, _)| seq)
        .zip(embed(&texts)?)
        .collect();
    let before_alone = |seq: i64| -> Option<&[f32]> {
        match in_batch.get(&seq) {
            Some(&i) => Some(&alone[i]),
            None => outside.get(&seq).map(Vec::as_slice),
        }
    };
    let close: Vec<usize> = (0..batch.len())
        .filter(|&i| {
            batch[i]
                .before_seq
                .and_then(before_alone)
                .is_some_and(|before| embed::cosine(&alone[i], before) >= READ_WITH_CLOSENESS)
        })
        .collect();
    let read_with: Vec<String> = close
        .iter()
        .map(|&i| {
            format!(
                "{}\n{}",
                own[i],
                batch[i].before_body.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let mut made: Vec<Made> = alone
        .into_iter()
        .map(|vector| Made {
            vector,
            read_with: None,
        })
        .collect();
    for (i, vector) in close.into_iter().zip(embed(&read_with)?) {
        made[i] = Made {
            vector,
            read_with: batch[i].before_seq,
        };
    }
    Ok(made)
}

/// Embeds every memory without a vector from this encoder (older vectors
/// of another encoder are replaced, and those of an older [`RECIPE`] made
/// again), in batches; `progress(done, total)` after each. The memory
/// written just after one it embeds is made again when its vector was not
/// read with that one: older work imported or synced in between, or a
/// text that changed.
pub async fn embed_missing(
    db: &mut Db,
    encoder: &Encoder,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Embedded> {
    let model = encoder.id();
    let (memories, total): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), coalesce(sum({}), 0)
           FROM memories m
           LEFT JOIN memory_vectors v ON v.memory_seq = m.seq AND v.model = ?1",
        due("?2")
    )))
    .bind(&model)
    .bind(RECIPE)
    .fetch_one(&mut *db)
    .await?;
    let total = total.max(0) as u64;
    let mut done = 0u64;
    progress(0, total);
    let sample = sample(&mut *db, &model).await?;
    let last_at_start = store::max_seq(db).await?;
    let mut made: HashSet<i64> = HashSet::new();
    loop {
        let batch: Vec<ToEmbed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY m.seq LIMIT ?4",
            to_embed_sql(&due("?3"))
        )))
        .bind(&model)
        .bind(store::WORK_WINDOW)
        .bind(RECIPE)
        .bind(BATCH)
        .fetch_all(&mut *db)
        .await?;
        if batch.is_empty() {
            break;
        }
        done += store_embedded(db, encoder, &model, sample.as_ref(), &batch).await?;
        // A memory of older work (an import, a sync from another machine)
        // now comes between a later memory and the one it was read with:
        // that one is made again, read with what now comes before it.
        // One made earlier in this run was read with the store as it was
        // when the run began.
        let seqs: Vec<i64> = batch.iter().map(|m| m.seq).collect();
        made.extend(&seqs);
        let mut displaced: Vec<i64> = displaced_by(db, &model, &seqs)
            .await?
            .into_iter()
            .filter(|(before, after)| !made.contains(after) || *before > last_at_start)
            .map(|(_, after)| after)
            .collect();
        displaced.sort_unstable();
        displaced.dedup();
        if !displaced.is_empty() {
            let again = to_embed_of(db, &model, &displaced).await?;
            done += store_embedded(db, encoder, &model, sample.as_ref(), &again).await?;
        }
        progress(done.min(total.max(done)), total.max(done));
    }
    refresh_sample(db, &model).await?;
    Ok(Embedded {
        embedded: done,
        memories,
    })
}

/// The memories `seqs`, whatever vectors they have, ready to embed.
async fn to_embed_of(db: &mut Db, model: &str, seqs: &[i64]) -> Result<Vec<ToEmbed>> {
    let list = serde_json::to_string(seqs).map_err(|e| Error::Other(e.to_string()))?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} ORDER BY m.seq",
        to_embed_sql("m.seq IN (SELECT value FROM json_each(?3))")
    )))
    .bind(model)
    .bind(store::WORK_WINDOW)
    .bind(list)
    .fetch_all(db)
    .await?)
}

/// Embeds those of the memories `seqs` that have no vector from this
/// encoder (or one of an older [`RECIPE`]): what a command just stored or
/// edited, findable by meaning when it returns. The memory written just
/// after each of them is made again too, whatever vector it has: it may
/// have been read with the old text, or now be close to the new one.
/// Returns how many it embedded.
pub async fn embed_memories(db: &mut Db, encoder: &Encoder, seqs: &[i64]) -> Result<u64> {
    let model = encoder.id();
    let list = serde_json::to_string(seqs).map_err(|e| Error::Other(e.to_string()))?;
    let due: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT m.seq FROM memories m
           LEFT JOIN memory_vectors v ON v.memory_seq = m.seq AND v.model = ?1
          WHERE m.seq IN (SELECT value FROM json_each(?2)) AND {}",
        due("?3")
    )))
    .bind(&model)
    .bind(list)
    .bind(RECIPE)
    .fetch_all(&mut *db)
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let sample = sample(&mut *db, &model).await?;
    let mut wanted = due.clone();
    wanted.extend(written_after(db, &due).await?);
    wanted.sort_unstable();
    wanted.dedup();
    let mut done = 0;
    for chunk in wanted.chunks(BATCH as usize) {
        let batch = to_embed_of(db, &model, chunk).await?;
        done += store_embedded(db, encoder, &model, sample.as_ref(), &batch).await?;
    }
    refresh_sample(db, &model).await?;
    Ok(done)
}

/// The memory written just after each of `seqs` (not among them) whose
/// current vector was not read with it, as pairs of the two seqs: it may
/// have been made before that one came in between, or changed its text.
async fn displaced_by(db: &mut Db, model: &str, seqs: &[i64]) -> Result<Vec<(i64, i64)>> {
    let list = serde_json::to_string(seqs).map_err(|e| Error::Other(e.to_string()))?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT a.before, a.seq FROM (
            SELECT s.seq AS before, {} AS seq
              FROM memories s WHERE s.seq IN (SELECT value FROM json_each(?1))) a
           JOIN memory_vectors v ON v.memory_seq = a.seq AND v.model = ?3 AND NOT {}
          WHERE v.read_with IS NOT a.before
            AND a.seq NOT IN (SELECT value FROM json_each(?1))",
        store::neighbour_sql(store::Way::After, "s", "?2"),
        due("?4")
    )))
    .bind(list)
    .bind(store::WORK_WINDOW)
    .bind(model)
    .bind(RECIPE)
    .fetch_all(db)
    .await?)
}

/// The memories whose vectors were made reading `seq`'s body: they lose
/// them when its text changes or it is forgotten (the triggers of
/// migration 0016).
pub async fn read_with(db: &mut Db, seq: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT memory_seq FROM memory_vectors WHERE read_with = ?")
            .bind(seq)
            .fetch_all(db)
            .await?,
    )
}

/// The memory written just after each of `seqs` in its project, within
/// [`store::WORK_WINDOW`]: the one that may have been read with it.
async fn written_after(db: &mut Db, seqs: &[i64]) -> Result<Vec<i64>> {
    let list = serde_json::to_string(seqs).map_err(|e| Error::Other(e.to_string()))?;
    let after: Vec<Option<i64>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM memories s WHERE s.seq IN (SELECT value FROM json_each(?1))",
        store::neighbour_sql(store::Way::After, "s", "?2")
    )))
    .bind(list)
    .bind(store::WORK_WINDOW)
    .fetch_all(db)
    .await?;
    Ok(after.into_iter().flatten().collect())
}

/// Fewest vectors for which crowding is measured: on the paraphrase
/// bench's 151 memories without routine work around them it costs a
/// question (bench/results/crowding.md), and a store that small has no
/// crowds to speak of.
pub const SAMPLE_MIN_VECTORS: i64 = 500;

/// How far the number of vectors may drift (a share of it) before the
/// sample is drawn again and every crowding measured again: a crowd
/// changes slowly, and at a million memories that reads every vector.
const SAMPLE_DRIFT: f64 = 0.01;

/// Draws again the sample that crowding is measured against, and measures
/// every vector's crowding, when the number of `model`'s vectors has
/// drifted from the one it was drawn from (or there is none); drops the
/// samples of other encoders. Returns whether it changed.
pub async fn refresh_sample(db: &mut Db, model: &str) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM memory_vectors WHERE model = ?")
        .bind(model)
        .fetch_one(&mut *db)
        .await?;
    let drawn_from = sampled_from(&mut *db, model).await?;
    let too_few = count < SAMPLE_MIN_VECTORS;
    // Other encoders' samples go, and this one's when too few vectors are
    // left, with the crowding measured against it.
    let stale = sqlx::query("DELETE FROM memory_vector_samples WHERE model != ?1 OR ?2")
        .bind(model)
        .bind(too_few)
        .execute(&mut *db)
        .await?
        .rows_affected()
        > 0;
    if too_few {
        if drawn_from.is_some() {
            sqlx::query("UPDATE memory_vectors SET crowding = NULL WHERE model = ?")
                .bind(model)
                .execute(&mut *db)
                .await?;
        }
        return Ok(stale);
    }
    if let Some(drawn_from) = drawn_from
        && ((count - drawn_from).abs() as f64) <= SAMPLE_DRIFT * drawn_from as f64
    {
        return Ok(stale);
    }
    // Every `stride`-th vector, so that the sample spans the store evenly:
    // chosen by seq (read from the index), then only those are read.
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT memory_seq FROM memory_vectors WHERE model = ? ORDER BY memory_seq",
    )
    .bind(model)
    .fetch_all(&mut *db)
    .await?;
    let stride = seqs.len().div_ceil(CROWDING_SAMPLE).max(1);
    let picked: Vec<i64> = seqs.iter().step_by(stride).copied().collect();
    let list = serde_json::to_string(&picked).map_err(|e| Error::Other(e.to_string()))?;
    let rows: Vec<(i64, f64, Vec<u8>)> = sqlx::query_as(
        "SELECT memory_seq, scale, vector FROM memory_vectors
         WHERE model = ?1 AND memory_seq IN (SELECT value FROM json_each(?2)) ORDER BY memory_seq",
    )
    .bind(model)
    .bind(list)
    .fetch_all(&mut *db)
    .await?;
    let mut sample = Sample::default();
    for (seq, scale, vector) in rows.iter().filter(|(_, _, v)| v.len() == embed::DIM) {
        sample.push(*seq, *scale as f32, bytemuck::cast_slice(vector));
    }
    if sample.len() == 0 {
        return Ok(stale);
    }
    sqlx::query(
        "INSERT INTO memory_vector_samples (model, vectors, sample) VALUES (?, ?, ?)
         ON CONFLICT(model) DO UPDATE SET vectors = excluded.vectors, sample = excluded.sample",
    )
    .bind(model)
    .bind(seqs.len() as i64)
    .bind(sample.to_blob())
    .execute(&mut *db)
    .await?;
    // Every vector's crowding against the new sample, a page per transaction.
    let mut pages = Pages::new(model);
    while let Some(page) = pages.next(&mut *db).await? {
        let crowding = sample.crowding(
            page.iter()
                .map(|(seq, scale, v)| (*seq, *scale, v.as_slice())),
        );
        let mut tx = crate::store::begin_write(&mut *db).await?;
        for ((seq, _, _), c) in page.iter().zip(crowding) {
            sqlx::query("UPDATE memory_vectors SET crowding = ? WHERE memory_seq = ?")
                .bind(f64::from(c))
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(true)
}

/// How many vectors the sample of `model`'s vectors was drawn from, when
/// the store has one.
pub async fn sampled_from(db: &mut Db, model: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT vectors FROM memory_vector_samples WHERE model = ?")
            .bind(model)
            .fetch_optional(db)
            .await?,
    )
}

/// `model`'s vectors in the order of their memories, a page at a time.
struct Pages<'m> {
    model: &'m str,
    after: i64,
}

impl<'m> Pages<'m> {
    fn new(model: &'m str) -> Self {
        Pages {
            model,
            after: i64::MIN,
        }
    }

    /// The next page of (seq, scale, values), `None` after the last.
    async fn next(&mut self, db: &mut Db) -> Result<Option<Vec<(i64, f32, Vec<i8>)>>> {
        let page: Vec<(i64, f64, Vec<u8>)> = sqlx::query_as(
            "SELECT memory_seq, scale, vector FROM memory_vectors
             WHERE memory_seq > ? AND model = ? ORDER BY memory_seq LIMIT 4096",
        )
        .bind(self.after)
        .bind(self.model)
        .fetch_all(db)
        .await?;
        let Some(&(last, _, _)) = page.last() else {
            return Ok(None);
        };
        self.after = last;
        Ok(Some(
            page.into_iter()
                .filter(|(_, _, v)| v.len() == embed::DIM)
                .map(|(seq, scale, v)| {
                    (
                        seq,
                        scale as f32,
                        bytemuck::cast_slice::<u8, i8>(&v).to_vec(),
                    )
                })
                .collect(),
        ))
    }
}

/// Vectors of the store a memory's crowding is measured against: enough
/// that a kind of routine work written a hundred times shows as a crowd,
/// few enough that measuring a new memory costs a fraction of embedding it.
pub const CROWDING_SAMPLE: usize = 1024;

/// How many of a memory's closest in the sample its crowding is the mean
/// cosine of.
const CROWDING_NEIGHBOURS: usize = 10;

/// A sample of the store's vectors, as stored: per vector its memory's seq
/// (i64 LE), its scale (f32 LE) and its values.
#[derive(Debug, Default)]
struct Sample {
    seqs: Vec<i64>,
    scales: Vec<f32>,
    values: Vec<i8>,
}

impl Sample {
    const ROW: usize = 8 + 4 + embed::DIM;

    fn len(&self) -> usize {
        self.seqs.len()
    }

    fn push(&mut self, seq: i64, scale: f32, values: &[i8]) {
        self.seqs.push(seq);
        self.scales.push(scale);
        self.values.extend_from_slice(values);
    }

    fn to_blob(&self) -> Vec<u8> {
        let mut blob = Vec::with_capacity(self.len() * Self::ROW);
        for (i, (seq, scale)) in self.seqs.iter().zip(&self.scales).enumerate() {
            blob.extend_from_slice(&seq.to_le_bytes());
            blob.extend_from_slice(&scale.to_le_bytes());
            blob.extend_from_slice(bytemuck::cast_slice(
                &self.values[i * embed::DIM..(i + 1) * embed::DIM],
            ));
        }
        blob
    }

    /// `None` when the blob is not a whole number of rows.
    fn from_blob(blob: &[u8]) -> Option<Sample> {
        if !blob.len().is_multiple_of(Self::ROW) {
            return None;
        }
        let mut sample = Sample::default();
        for row in blob.chunks_exact(Self::ROW) {
            let (seq, rest) = row.split_at(8);
            let (scale, values) = rest.split_at(4);
            sample.push(
                i64::from_le_bytes(seq.try_into().ok()?),
                f32::from_le_bytes(scale.try_into().ok()?),
                bytemuck::cast_slice(values),
            );
        }
        Some(sample)
    }

    /// Each vector's crowding: the mean of its [`CROWDING_NEIGHBOURS`]
    /// highest cosines with the sample, itself left out.
    fn crowding<'v>(&self, vectors: impl Iterator<Item = (i64, f32, &'v [i8])>) -> Vec<f32> {
        let vectors: Vec<(i64, f32, &[i8])> = vectors.collect();
        let n = self.len();
        if n == 0 || vectors.is_empty() {
            return vec![0.0; vectors.len()];
        }
        let rows: Vec<i8> = vectors
            .iter()
            .flat_map(|(_, _, v)| v.iter().copied())
            .collect();
        let mut sums = vec![0i32; vectors.len() * n];
        embed::kernels::matmul_i8(&rows, &self.values, embed::DIM, &mut sums);
        let mut cosines = Vec::with_capacity(n);
        vectors
            .iter()
            .zip(sums.chunks_exact(n))
            .map(|(&(seq, scale, _), dots)| {
                cosines.clear();
                cosines.extend(
                    dots.iter()
                        .zip(&self.scales)
                        .zip(&self.seqs)
                        .filter(|(_, s)| **s != seq)
                        .map(|((&dot, &s), _)| dot as f32 * scale * s),
                );
                let k = CROWDING_NEIGHBOURS.min(cosines.len());
                if k == 0 {
                    return 0.0;
                }
                cosines.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
                cosines[..k].iter().sum::<f32>() / k as f32
            })
            .collect()
    }
}

/// The sample `model`'s crowding is measured against, when the store has one.
async fn sample(db: &mut Db, model: &str) -> Result<Option<Sample>> {
    let blob: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sample FROM memory_vector_samples WHERE model = ?")
            .bind(model)
            .fetch_optional(db)
            .await?;
    Ok(blob.and_then(|b| Sample::from_blob(&b)))
}

/// A vector ready to store: quantized, with its crowding, and the memory it
/// was read with and the body that memory had then.
struct Row<'a> {
    seq: i64,
    values: Vec<i8>,
    scale: f32,
    crowding: Option<f32>,
    read_with: Option<(i64, &'a str)>,
}

/// Embeds `batch` and stores the vectors in one
/// transaction, each with its crowding against `sample` (the store's, when
/// it has one); returns how many.
async fn store_embedded(
    db: &mut Db,
    encoder: &Encoder,
    model: &str,
    sample: Option<&Sample>,
    batch: &[ToEmbed],
) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    // Embedding is the slow part: done before the write lock is taken.
    let made = vectors_of(encoder, batch)?;
    let mut rows: Vec<Row> = batch
        .iter()
        .zip(made)
        .map(|(m, made)| {
            let (values, scale) = embed::quantize(&made.vector);
            Row {
                seq: m.seq,
                values,
                scale,
                crowding: None,
                read_with: made
                    .read_with
                    .map(|seq| (seq, m.before_body.as_deref().unwrap_or_default())),
            }
        })
        .collect();
    // Measured against the store's sample, when it has one; the next
    // time the sample is drawn, every vector is measured again.
    if let Some(sample) = sample {
        let measured = sample.crowding(rows.iter().map(|r| (r.seq, r.scale, r.values.as_slice())));
        for (r, crowding) in rows.iter_mut().zip(measured) {
            r.crowding = Some(crowding);
        }
    }
    let mut tx = crate::store::begin_write(&mut *db).await?;
    for r in &rows {
        // The scope is read again under the lock: it is the memory's now.
        // A vector read with another memory is stored only if that one
        // still holds the text it was read with: the triggers that drop it
        // when that text goes have fired already otherwise.
        sqlx::query(
            "INSERT INTO memory_vectors (memory_seq, model, client, project_id, kind, scale, vector, crowding, read_with, recipe)
             SELECT seq, ?2, coalesce(client_id, ''), project_id, kind, ?3, ?4, ?5, ?6, ?8 FROM memories
              WHERE seq = ?1 AND (?6 IS NULL OR EXISTS (SELECT 1 FROM memories WHERE seq = ?6 AND body = ?7))
             ON CONFLICT(memory_seq) DO UPDATE SET model = excluded.model, client = excluded.client,
               project_id = excluded.project_id, kind = excluded.kind,
               scale = excluded.scale, vector = excluded.vector, crowding = excluded.crowding,
               read_with = excluded.read_with, recipe = excluded.recipe",
        )
        .bind(r.seq)
        .bind(model)
        .bind(f64::from(r.scale))
        .bind(bytemuck::cast_slice::<i8, u8>(&r.values))
        .bind(r.crowding.map(f64::from))
        .bind(r.read_with.map(|(seq, _)| seq))
        .bind(r.read_with.map(|(_, body)| body))
        .bind(RECIPE)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// The cosine of two memories' vectors, when both have one from the same
/// encoder.
pub async fn cosine_between(db: &mut Db, a: i64, b: i64) -> Result<Option<f32>> {
    let rows: Vec<(i64, String, f64, Vec<u8>)> = sqlx::query_as(
        "SELECT memory_seq, model, scale, vector FROM memory_vectors WHERE memory_seq IN (?, ?)",
    )
    .bind(a)
    .bind(b)
    .fetch_all(db)
    .await?;
    let [(_, ma, sa, va), (_, mb, sb, vb)] = rows.as_slice() else {
        return Ok(None);
    };
    if ma != mb || va.len() != vb.len() || va.is_empty() {
        return Ok(None);
    }
    let va: &[i8] = bytemuck::cast_slice(va);
    let vb: &[i8] = bytemuck::cast_slice(vb);
    let unit: Vec<f32> = va.iter().map(|&x| f32::from(x) * *sa as f32).collect();
    let norm = unit.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        return Ok(None);
    }
    let unit: Vec<f32> = unit.iter().map(|x| x / norm).collect();
    Ok(Some(embed::cosine_quantized(&unit, vb, *sb as f32)))
}

/// Which memories a prompt may reach by meaning: the same limits the word
/// search puts on its match (see `recall::Query::match_expr`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Within<'a> {
    /// This client's memories and those of no client (the prompt's scope).
    pub client_or_global: Option<&'a str>,
    pub project: Option<&'a str>,
    pub client: Option<&'a str>,
    /// Only memories of no client.
    pub no_client: bool,
    pub kind: Option<&'a str>,
}

/// How close a prompt is to a stored memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closeness {
    /// The cosine of their vectors.
    pub cosine: f32,
    /// The memory's crowding: the mean cosine of its closest among a sample
    /// of the store's vectors (0 when not measured).
    pub crowding: f32,
    /// The cosine less a share of the memory's crowding: what sets the
    /// memory apart from the routine work written like it, what recall
    /// ranks by.
    pub distinct: f32,
}

/// How close the query is to every memory within the limits that has a
/// vector from `model`, by memory seq, `crowding_weight` of each memory's
/// crowding taken off its [`Closeness::distinct`]. Only the vectors of the scope are
/// read: the conditions are ranges of the table's key (model, client) or of
/// the project index, so a client's prompt reads that client's vectors and
/// the global ones, each set lying together.
///
/// `query` gives the query, the prompt's unit embedding: it may still be worked
/// out on another thread, so it is asked for only once the scope's vectors
/// are read (or [`GATHERED`] of them), and not at all when the scope has
/// none. No query: no cosines.
pub async fn similarities(
    db: &mut Db,
    model: &str,
    within: Within<'_>,
    crowding_weight: f32,
    query: impl FnOnce() -> Option<Vec<f32>>,
) -> Result<Vec<(i64, Closeness)>> {
    let query = move || query().map(|unit| embed::QuantizedQuery::new(&unit));
    // Each branch is one range of the table's key (model, client) or of the
    // project index; `client` is '' for memories of no client.
    let mut conditions: Vec<(&str, Option<&str>)> = Vec::new();
    if let Some(p) = within.project {
        conditions.push(("project_id = ?", Some(p)));
    } else if let Some(c) = within.client {
        conditions.push(("client = ?", Some(c)));
    } else if within.no_client {
        conditions.push(("client = ''", None));
    } else if let Some(c) = within.client_or_global {
        conditions.push(("client = ?", Some(c)));
        conditions.push(("client = ''", None));
    } else {
        conditions.push(("1", None));
    }
    // The other limits, checked on the rows the branch reads.
    let mut extra = String::new();
    let mut extra_binds: Vec<&str> = Vec::new();
    if let (Some(c), true) = (
        within.client_or_global,
        within.project.is_some() || within.client.is_some(),
    ) {
        extra.push_str(" AND client IN ('', ?)");
        extra_binds.push(c);
    }
    if let (Some(c), Some(_)) = (within.client, within.project) {
        extra.push_str(" AND client = ?");
        extra_binds.push(c);
    }
    if within.no_client && (within.project.is_some() || within.client.is_some()) {
        extra.push_str(" AND client = ''");
    }
    if let Some(k) = within.kind {
        extra.push_str(" AND kind = ?");
        extra_binds.push(k);
    }
    let sql = conditions
        .iter()
        .map(|(c, _)| {
            format!("SELECT memory_seq, scale, vector, crowding FROM memory_vectors WHERE model = ? AND {c}{extra}")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut binds: Vec<&str> = Vec::new();
    for (_, bind) in &conditions {
        binds.push(model);
        binds.extend(bind.iter().copied());
        binds.extend(extra_binds.iter().copied());
    }
    // Thousands of rows: read on the connection itself, each vector scored
    // where it lies, instead of a row at a time through the driver (which
    // costs more than the scoring).
    let mut handle = db.lock_handle().await?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: `raw` is the open connection, held exclusively by the lock
    // for the duration of the call.
    let scanned = unsafe { scan(raw, &sql, &binds, query) }.map_err(|rc| {
        Error::Other(format!(
            "cannot read the memories' vectors (sqlite error {rc})"
        ))
    })?;
    Ok(scanned
        .into_iter()
        .map(|(seq, cosine, crowding)| {
            let distinct = cosine - crowding_weight * crowding;
            (
                seq,
                Closeness {
                    cosine,
                    crowding,
                    distinct,
                },
            )
        })
        .collect())
}

/// Most vectors read before the query is waited for (6 MiB): a scope of
/// ordinary size is read whole while the prompt's embedding is worked out.
pub const GATHERED: usize = 16_384;

/// Runs `sql` (selecting seq, scale, vector, crowding) with text `binds` and
/// returns each row's seq, cosine with the query `query` gives (asked for
/// once the rows are read, or [`GATHERED`] of them; none: no cosines) and
/// crowding (0 when not worked out).
///
/// # Safety
/// `db` is an open connection no one else uses during the call.
unsafe fn scan(
    db: *mut ffi::sqlite3,
    sql: &str,
    binds: &[&str],
    query: impl FnOnce() -> Option<embed::QuantizedQuery>,
) -> std::result::Result<Vec<(i64, f32, f32)>, c_int> {
    let dim = embed::DIM;
    let mut asked = Some(query);
    let mut query: Option<embed::QuantizedQuery> = None;
    // Vectors are gathered and scored together, a block at a time once the
    // query is known; the cosines follow the seqs and scales in row order.
    const BLOCK: usize = 1024;
    let mut block: Vec<i8> = Vec::with_capacity(BLOCK * dim);
    let (mut seqs, mut scales, mut cosines) = (Vec::new(), Vec::new(), Vec::new());
    let mut crowdings = Vec::new();
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: the statement is prepared on `db`, used only here and
    // finalized on every path; the text bound is copied (SQLITE_TRANSIENT),
    // and each blob is read before the next step invalidates it.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db,
            sql.as_ptr().cast(),
            sql.len() as c_int,
            &mut stmt,
            std::ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
        for (i, b) in binds.iter().enumerate() {
            let rc = ffi::sqlite3_bind_text(
                stmt,
                i as c_int + 1,
                b.as_ptr().cast(),
                b.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            );
            if rc != ffi::SQLITE_OK {
                ffi::sqlite3_finalize(stmt);
                return Err(rc);
            }
        }
        loop {
            match ffi::sqlite3_step(stmt) {
                ffi::SQLITE_ROW => {
                    let len = ffi::sqlite3_column_bytes(stmt, 2) as usize;
                    let blob = ffi::sqlite3_column_blob(stmt, 2);
                    if len != dim || blob.is_null() {
                        continue;
                    }
                    block.extend_from_slice(std::slice::from_raw_parts(blob.cast::<i8>(), len));
                    scales.push(ffi::sqlite3_column_double(stmt, 1) as f32);
                    seqs.push(ffi::sqlite3_column_int64(stmt, 0));
                    // NULL (not worked out yet) reads as 0.
                    crowdings.push(ffi::sqlite3_column_double(stmt, 3) as f32);
                    let full = if query.is_some() { BLOCK } else { GATHERED };
                    if block.len() == full * dim {
                        let Some(q) = known(&mut query, &mut asked) else {
                            ffi::sqlite3_finalize(stmt);
                            return Ok(vec![]);
                        };
                        q.cosines(&block, &scales[cosines.len()..], &mut cosines);
                        block.clear();
                    }
                }
                ffi::SQLITE_DONE => break,
                rc => {
                    ffi::sqlite3_finalize(stmt);
                    return Err(rc);
                }
            }
        }
        ffi::sqlite3_finalize(stmt);
        // No vector to score: the query is not waited for.
        if seqs.is_empty() {
            return Ok(vec![]);
        }
        let Some(q) = known(&mut query, &mut asked) else {
            return Ok(vec![]);
        };
        q.cosines(&block, &scales[cosines.len()..], &mut cosines);
        Ok(seqs
            .into_iter()
            .zip(cosines)
            .zip(crowdings)
            .map(|((seq, cosine), crowding)| (seq, cosine, crowding))
            .collect())
    }
}

/// The query, asked for the first time it is needed.
fn known<'q>(
    query: &'q mut Option<embed::QuantizedQuery>,
    asked: &mut Option<impl FnOnce() -> Option<embed::QuantizedQuery>>,
) -> Option<&'q embed::QuantizedQuery> {
    if query.is_none() {
        *query = asked.take().and_then(|ask| ask());
    }
    query.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    /// Stored vector `i`: values in -127..=127, as `embed::quantize` makes them.
    fn stored(i: usize) -> Vec<i8> {
        (0..embed::DIM)
            .map(|j| (((i * 31 + j * 7) % 255) as i32 - 127) as i8)
            .collect()
    }

    /// Stored vector `i`'s scale.
    fn scale(i: usize) -> f64 {
        0.001 * (1 + i % 5) as f64
    }

    /// Scans `n` vectors of a table of their own with `query`.
    async fn scan_rows(
        n: usize,
        query: impl FnOnce() -> Option<embed::QuantizedQuery>,
    ) -> Vec<(i64, f32, f32)> {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        sqlx::query("CREATE TABLE t (seq INTEGER PRIMARY KEY, scale REAL, vector BLOB)")
            .execute(&mut *db)
            .await
            .unwrap();
        let mut tx = crate::store::begin_write(&mut *db).await.unwrap();
        for i in 0..n {
            sqlx::query("INSERT INTO t VALUES (?, ?, ?)")
                .bind(i as i64)
                .bind(scale(i))
                .bind(bytemuck::cast_slice::<i8, u8>(&stored(i)))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mut handle = db.lock_handle().await.unwrap();
        let raw = handle.as_raw_handle().as_ptr();
        // SAFETY: the connection is held by the lock for the call.
        unsafe {
            scan(
                raw,
                "SELECT seq, scale, vector, NULL FROM t ORDER BY seq",
                &[],
                query,
            )
        }
        .unwrap()
    }

    #[tokio::test]
    async fn the_query_is_asked_for_once_and_scores_every_row_past_the_gathered_ones() {
        let unit: Vec<f32> = (0..embed::DIM)
            .map(|j| ((j % 11) as f32 - 5.0) / 60.0)
            .collect();
        let n = GATHERED + 1500;
        let mut asked = 0;
        let cosines = scan_rows(n, || {
            asked += 1;
            Some(embed::QuantizedQuery::new(&unit))
        })
        .await;
        assert_eq!(asked, 1);
        assert_eq!(cosines.len(), n);
        // Each row's cosine is its own, scored alone.
        let query = embed::QuantizedQuery::new(&unit);
        for (i, &(seq, cosine, crowding)) in cosines.iter().enumerate() {
            assert_eq!(crowding, 0.0, "NULL reads as 0");
            assert_eq!(seq, i as i64);
            let mut alone = Vec::new();
            query.cosines(&stored(i), &[scale(i) as f32], &mut alone);
            assert_eq!(cosine, alone[0], "row {i}");
        }
    }

    #[tokio::test]
    async fn a_scope_without_vectors_does_not_wait_for_the_query() {
        let mut asked = false;
        let cosines = scan_rows(0, || {
            asked = true;
            None
        })
        .await;
        assert!(cosines.is_empty());
        assert!(!asked);
    }

    /// Stores memories `from..to` with unit vectors of `model`: 0.8 in the
    /// first dimension, ±0.6 in the second (+ for odd seqs).
    async fn add_vectors(db: &mut Db, model: &str, from: i64, to: i64) {
        let mut tx = crate::store::begin_write(&mut *db).await.unwrap();
        for seq in from..to {
            let mut v = vec![0i8; embed::DIM];
            v[0] = 80;
            v[1] = if seq % 2 == 1 { 60 } else { -60 };
            sqlx::query(
                "INSERT INTO memories (seq, id, title, body, created_at) VALUES (?1, 'm' || ?1, 't', 'b', 1)",
            )
            .bind(seq)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO memory_vectors (memory_seq, model, client, project_id, kind, scale, vector)
                 VALUES (?, ?, '', NULL, 'note', 0.01, ?)",
            )
            .bind(seq)
            .bind(model)
            .bind(bytemuck::cast_slice::<i8, u8>(&v))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// The seqs of the memories that have a vector.
    async fn with_vectors(db: &mut Db) -> Vec<i64> {
        sqlx::query_scalar("SELECT memory_seq FROM memory_vectors ORDER BY memory_seq")
            .fetch_all(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_vector_read_with_another_memory_goes_when_that_ones_text_changes_or_it_is_forgotten()
    {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        add_vectors(db, "m1", 1, 6).await;
        // 2 was read with 1, 4 with 3, 5 with 4.
        for (seq, with) in [(2, 1), (4, 3), (5, 4)] {
            sqlx::query("UPDATE memory_vectors SET read_with = ?, recipe = ? WHERE memory_seq = ?")
                .bind(with)
                .bind(RECIPE)
                .bind(seq)
                .execute(&mut *db)
                .await
                .unwrap();
        }
        // A change that leaves the text alone keeps every vector.
        sqlx::query("UPDATE memories SET importance = 9 WHERE seq = 1")
            .execute(&mut *db)
            .await
            .unwrap();
        assert_eq!(with_vectors(db).await, [1, 2, 3, 4, 5]);
        // 1's text changes (an edit, a scrub): its vector and 2's go.
        sqlx::query("UPDATE memories SET body = 'scrubbed' WHERE seq = 1")
            .execute(&mut *db)
            .await
            .unwrap();
        assert_eq!(with_vectors(db).await, [3, 4, 5]);
        // 3 is forgotten: its vector and 4's go; 5 was read with 4, which stays.
        sqlx::query("DELETE FROM memories WHERE seq = 3")
            .execute(&mut *db)
            .await
            .unwrap();
        assert_eq!(with_vectors(db).await, [5]);
    }

    /// The crowding stored for memory `seq`.
    async fn crowding_of(db: &mut Db, seq: i64) -> Option<f64> {
        sqlx::query_scalar("SELECT crowding FROM memory_vectors WHERE memory_seq = ?")
            .bind(seq)
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn crowding_is_measured_against_a_sample_drawn_again_when_the_vectors_drift() {
        let (_dir, mut store) = temp_store().await;
        let db = store.db();
        // Too few: no sample, no crowding.
        add_vectors(db, "enc", 1, SAMPLE_MIN_VECTORS).await;
        assert!(!refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "enc").await.unwrap(), None);
        assert_eq!(crowding_of(db, 1).await, None);
        // Enough (seqs 1..=600, half odd): every vector's ten closest in the
        // sample are its own kind, at a cosine of 1.
        add_vectors(db, "enc", SAMPLE_MIN_VECTORS, 601).await;
        assert!(refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "enc").await.unwrap(), Some(600));
        let blob: Vec<u8> = sqlx::query_scalar("SELECT sample FROM memory_vector_samples")
            .fetch_one(&mut *db)
            .await
            .unwrap();
        let sample = Sample::from_blob(&blob).unwrap();
        assert_eq!(sample.len(), 600);
        for seq in [1, 2, 600] {
            let c = crowding_of(db, seq).await.unwrap();
            assert!((c - 1.0).abs() < 0.01, "{seq}: {c}");
        }
        // A query along the second dimension: ±0.6 from every vector, and
        // half the crowding taken off.
        let mut query = vec![0f32; embed::DIM];
        query[1] = 1.0;
        let got = similarities(db, "enc", Within::default(), 0.5, || Some(query))
            .await
            .unwrap();
        assert_eq!(got.len(), 600);
        for (seq, c) in got {
            let sign = if seq % 2 == 1 { 1.0 } else { -1.0 };
            assert!((c.cosine - sign * 0.6).abs() < 0.01, "{seq}: {c:?}");
            assert!((c.distinct - (c.cosine - 0.5)).abs() < 0.01, "{seq}: {c:?}");
        }
        // Five more (under 1%): the sample stands.
        add_vectors(db, "enc", 601, 606).await;
        assert!(!refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "enc").await.unwrap(), Some(600));
        // Ten more (2.5% in all): drawn again, every vector measured again.
        add_vectors(db, "enc", 606, 616).await;
        assert!(refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "enc").await.unwrap(), Some(615));
        assert!(crowding_of(db, 615).await.is_some());
        // Another encoder's sample goes when this one's is drawn again.
        sqlx::query("INSERT INTO memory_vector_samples VALUES ('old', 9, x'00')")
            .execute(&mut *db)
            .await
            .unwrap();
        assert!(refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "old").await.unwrap(), None);
        // Forgotten down to too few: no sample, and no crowding left.
        sqlx::query("DELETE FROM memories WHERE seq > 400")
            .execute(&mut *db)
            .await
            .unwrap();
        assert!(refresh_sample(db, "enc").await.unwrap());
        assert_eq!(sampled_from(db, "enc").await.unwrap(), None);
        assert_eq!(crowding_of(db, 1).await, None);
    }

    /// A unit vector `v` quantised, with `seq`.
    fn quantized(seq: i64, v: &[f32]) -> (i64, f32, Vec<i8>) {
        let (values, scale) = embed::quantize(v);
        (seq, scale, values)
    }

    #[test]
    fn crowding_is_the_mean_of_the_closest_in_the_sample_itself_left_out() {
        // Twelve vectors: ten alike (a crowd), two apart from it and each other.
        let axis = |i: usize, lean: f32| -> Vec<f32> {
            let mut v = vec![0f32; embed::DIM];
            v[0] = lean;
            v[i] = (1.0 - lean * lean).sqrt();
            v
        };
        let mut rows: Vec<(i64, f32, Vec<i8>)> =
            (0..10).map(|s| quantized(s, &axis(1, 0.99))).collect();
        rows.push(quantized(10, &axis(2, 0.0)));
        rows.push(quantized(11, &axis(3, 0.0)));
        let mut sample = Sample::default();
        for (seq, scale, v) in &rows {
            sample.push(*seq, *scale, v);
        }
        // Stored and read back whole.
        let sample = Sample::from_blob(&sample.to_blob()).unwrap();
        assert_eq!(sample.len(), 12);
        assert!(Sample::from_blob(&[0u8; 5]).is_none());
        let got = sample.crowding(rows.iter().map(|(s, sc, v)| (*s, *sc, v.as_slice())));
        // One of the crowd: nine others of its kind at a cosine of 1 and
        // the closest apart at 0: 0.9, not its own 1.
        assert!((got[0] - 0.9).abs() < 0.01, "{got:?}");
        // One apart: a cosine of 0 with all.
        assert!(got[10].abs() < 0.01, "{got:?}");
        // Not a member of the sample: ten of the crowd at about 0.99.
        let outside = quantized(99, &axis(1, 0.999));
        let got = sample.crowding(std::iter::once((
            outside.0,
            outside.1,
            outside.2.as_slice(),
        )));
        assert!((got[0] - 1.0).abs() < 0.02, "{got:?}");
    }

    #[tokio::test]
    async fn without_a_query_there_are_no_cosines() {
        assert!(scan_rows(10, || None).await.is_empty());
        assert!(scan_rows(GATHERED + 1, || None).await.is_empty());
    }
}
