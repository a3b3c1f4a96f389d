//! The encoder's file: a small JSON header naming each tensor's type, shape
//! and offset, then the tensors, each aligned to 64 bytes, little-endian.
//! It is memory-mapped, so a prompt touches only the pages it needs (the
//! rows of the few tokens it has, and the layers).
//!
//! ```text
//! b"MSPEMB01" | u32 header length | header JSON | padding | tensors...
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use super::EmbedError;

const MAGIC: &[u8; 8] = b"MSPEMB01";
const ALIGN: usize = 64;
/// The word embeddings: one row per vocabulary piece.
pub const WORD_TABLE: &str = "embed.words.weight";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    I8,
    U8,
    U32,
    F32,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 => 1,
            Dtype::U32 | Dtype::F32 => 4,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TensorInfo {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub offset: usize,
}

impl TensorInfo {
    fn bytes(&self) -> usize {
        self.shape.iter().product::<usize>() * self.dtype.size()
    }
}

/// The model's shape and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub model: String,
    /// SHA-256 of the file the weights were converted from.
    pub source_sha256: String,
    pub dim: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_tokens: usize,
    pub layer_norm_eps: f32,
    pub tensors: BTreeMap<String, TensorInfo>,
}

/// A mapped encoder file.
pub struct ModelFile {
    map: Mmap,
    pub header: Header,
}

impl ModelFile {
    pub fn open(path: &Path) -> Result<ModelFile, EmbedError> {
        if !cfg!(target_endian = "little") {
            return Err(EmbedError::Format(
                "big-endian machines are not supported".into(),
            ));
        }
        let file = File::open(path).map_err(|e| EmbedError::Io(path.display().to_string(), e))?;
        // SAFETY: msp writes this file once (to a temporary name, then
        // renamed) and never changes it in place; a file replaced under us
        // keeps the old mapping's contents.
        let map = unsafe { Mmap::map(&file) }
            .map_err(|e| EmbedError::Io(path.display().to_string(), e))?;
        let bad = |why: &str| EmbedError::Format(format!("{}: {why}", path.display()));
        if map.len() < 12 || &map[..8] != MAGIC {
            return Err(bad("not an msp encoder file"));
        }
        let len = u32::from_le_bytes(map[8..12].try_into().expect("4 bytes")) as usize;
        let json = map
            .get(12..12 + len)
            .ok_or_else(|| bad("header cut short"))?;
        let header: Header =
            serde_json::from_slice(json).map_err(|e| bad(&format!("header: {e}")))?;
        for (name, t) in &header.tensors {
            if !t.offset.is_multiple_of(ALIGN) || t.offset + t.bytes() > map.len() {
                return Err(bad(&format!("tensor {name} lies outside the file")));
            }
        }
        let file = ModelFile { map, header };
        file.populate_except(WORD_TABLE);
        Ok(file)
    }

    /// Maps in every page but those of tensor `skipped` with one call
    /// (Linux: `MADV_POPULATE_READ`), where a fresh process would otherwise
    /// take a page fault per few pages of weights as the forward pass reads
    /// them. The word table is half the file, of which a prompt reads a few
    /// rows: mapping it all in, and out again at exit, cost more than the
    /// faults on those rows. Elsewhere, or on a kernel before 5.14, pages
    /// fault in as they are read.
    fn populate_except(&self, skipped: &str) {
        #[cfg(target_os = "linux")]
        {
            let (start, end) = self
                .header
                .tensors
                .get(skipped)
                .map_or((self.map.len(), self.map.len()), |t| {
                    (t.offset, t.offset + t.bytes())
                });
            for (from, to) in [(0, start), (end, self.map.len())] {
                if to > from {
                    let _ = self
                        .map
                        .advise_range(memmap2::Advice::PopulateRead, from, to - from);
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = skipped;
    }

    fn raw(&self, name: &str, dtype: Dtype) -> Result<(&[u8], &TensorInfo), EmbedError> {
        let t = self
            .header
            .tensors
            .get(name)
            .ok_or_else(|| EmbedError::Format(format!("tensor {name} is missing")))?;
        if t.dtype != dtype {
            return Err(EmbedError::Format(format!(
                "tensor {name} is not {dtype:?}"
            )));
        }
        Ok((&self.map[t.offset..t.offset + t.bytes()], t))
    }

    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.header.tensors.get(name).map(|t| t.shape.as_slice())
    }

    pub fn f32s(&self, name: &str) -> Result<&[f32], EmbedError> {
        let (bytes, _) = self.raw(name, Dtype::F32)?;
        bytemuck::try_cast_slice(bytes).map_err(|e| EmbedError::Format(format!("{name}: {e}")))
    }

    pub fn i8s(&self, name: &str) -> Result<&[i8], EmbedError> {
        let (bytes, _) = self.raw(name, Dtype::I8)?;
        Ok(bytemuck::cast_slice(bytes))
    }

    pub fn u8s(&self, name: &str) -> Result<&[u8], EmbedError> {
        Ok(self.raw(name, Dtype::U8)?.0)
    }

    pub fn u32s(&self, name: &str) -> Result<&[u32], EmbedError> {
        let (bytes, _) = self.raw(name, Dtype::U32)?;
        bytemuck::try_cast_slice(bytes).map_err(|e| EmbedError::Format(format!("{name}: {e}")))
    }
}

/// Builds an encoder file: tensors are added, then written in one go.
pub struct Writer {
    header: Header,
    data: Vec<(String, Vec<u8>)>,
}

impl Writer {
    pub fn new(header: Header) -> Writer {
        Writer {
            header,
            data: Vec::new(),
        }
    }

    pub fn add(&mut self, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) {
        debug_assert_eq!(shape.iter().product::<usize>() * dtype.size(), bytes.len());
        self.header.tensors.insert(
            name.to_string(),
            TensorInfo {
                dtype,
                shape,
                offset: 0,
            },
        );
        self.data.push((name.to_string(), bytes));
    }

    pub fn add_f32(&mut self, name: &str, shape: Vec<usize>, values: &[f32]) {
        self.add(
            name,
            Dtype::F32,
            shape,
            bytemuck::cast_slice(values).to_vec(),
        );
    }

    pub fn add_i8(&mut self, name: &str, shape: Vec<usize>, values: &[i8]) {
        self.add(
            name,
            Dtype::I8,
            shape,
            bytemuck::cast_slice(values).to_vec(),
        );
    }

    pub fn add_u32(&mut self, name: &str, shape: Vec<usize>, values: &[u32]) {
        self.add(
            name,
            Dtype::U32,
            shape,
            bytemuck::cast_slice(values).to_vec(),
        );
    }

    /// Writes the file (to `path`), owner-only.
    pub fn write(mut self, path: &Path) -> Result<(), EmbedError> {
        // The header's size depends on the offsets it holds: place the data
        // after a generous estimate, then check it fits.
        let estimate = serde_json::to_vec(&self.header)
            .map(|h| h.len())
            .unwrap_or(0)
            + 64 * self.data.len()
            + 4096;
        let mut offset = align(12 + estimate);
        for (name, bytes) in &self.data {
            let t = self.header.tensors.get_mut(name).expect("added above");
            t.offset = offset;
            offset = align(offset + bytes.len());
        }
        let json = serde_json::to_vec(&self.header)
            .map_err(|e| EmbedError::Format(format!("header: {e}")))?;
        let start = self
            .data
            .first()
            .map_or(offset, |(n, _)| self.header.tensors[n].offset);
        if 12 + json.len() > start {
            return Err(EmbedError::Format("header larger than its room".into()));
        }
        let mut out = Vec::with_capacity(offset);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        for (name, bytes) in &self.data {
            out.resize(self.header.tensors[name].offset, 0);
            out.extend_from_slice(bytes);
        }
        let tmp = path.with_extension("tmp");
        let mut file = crate::files::private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| EmbedError::Io(tmp.display().to_string(), e))?;
        file.write_all(&out)
            .and_then(|_| file.sync_all())
            .map_err(|e| EmbedError::Io(tmp.display().to_string(), e))?;
        std::fs::rename(&tmp, path).map_err(|e| EmbedError::Io(path.display().to_string(), e))
    }
}

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}
