//! Reading files msp does not control the type of: `config.toml`, key files,
//! transcripts. A path may name a FIFO (an open would block for a writer that
//! never comes), a device (`/dev/zero` never ends) or a directory, so every
//! such file is opened without blocking, checked to be a regular file, and
//! read with a size bound.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Caps for the small files msp reads whole.
pub const CONFIG_CAP: u64 = 1 << 20;
/// Key files are a few hundred bytes; this leaves room for comments.
pub const KEY_CAP: u64 = 64 << 10;

/// Opens `path` for reading without blocking (unix: `O_NONBLOCK`, so a FIFO
/// does not wait for a writer) and returns it with its size, unless it is not
/// a regular file (an `InvalidInput` error; callers name the path). Symlinks are
/// followed: what counts is the file they lead to.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let kind = kind_of(&meta.file_type());
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {kind}, not a regular file"),
        ));
    }
    Ok((file, meta.len()))
}

/// The whole of a regular file of at most `cap` bytes. A larger file is an
/// error (`FileTooLarge`), checked before reading, and the read itself is
/// bounded too, in case the file grows meanwhile.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > cap {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is {len} bytes, more than the {cap} msp reads"),
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    file.take(cap).read_to_end(&mut out)?;
    Ok(out)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_string_capped(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_whole_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read_capped(&p, 5).unwrap(), b"hello");
        let err = read_capped(&p, 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("5 bytes"), "{err}");
    }

    #[test]
    fn missing_file_keeps_not_found() {
        let err = read_capped(Path::new("/nonexistent/msp-file"), 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn directory_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_capped(dir.path(), 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_capped(&p, 10).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn device_behind_a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        let err = read_capped(&p, 10).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
    }
}
