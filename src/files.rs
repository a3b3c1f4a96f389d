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
    let file = match options.open(path) {
        Ok(f) => f,
        // Windows refuses to open a directory as a file.
        #[cfg(windows)]
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && path.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a directory, not a regular file",
            ));
        }
        Err(e) => return Err(e),
    };
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

/// One line read by [`read_line_capped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Bytes the line took in the input, its `\n` included.
    pub len: u64,
    /// Longer than the cap: only its first `cap` bytes were kept.
    pub overlong: bool,
}

/// Reads the next line (without its `\n`) into `buf`, keeping at most `cap`
/// bytes of it; the rest of a longer line is read through and dropped, so a
/// file of one 3 GB line costs `cap` bytes of memory. `None` at the end.
pub fn read_line_capped<R: io::BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut len = 0u64;
    let mut overlong = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((len > 0).then_some(Line { len, overlong }));
        }
        let (part, used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        overlong |= part.len() > room;
        buf.extend_from_slice(&part[..part.len().min(room)]);
        input.consume(used);
        len += used as u64;
        if done {
            return Ok(Some(Line { len, overlong }));
        }
    }
}

/// The identity of a file or directory behind any number of links: on unix
/// its (device, inode), elsewhere its canonical path.
pub fn identity(path: &Path, meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        format!("{}:{}", meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    }
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

/// Everything msp keeps is its owner's only: the data directory 0700, the
/// files in it 0600, whatever the umask.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents owner-only (an existing directory is
/// left as it is; [`tighten`] fixes the data directory's own mode). On
/// Windows a new `dir` gets an owner-only ACL that what is created in it
/// inherits.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(windows)]
    let existed = dir.is_dir();
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(PRIVATE_DIR_MODE);
    }
    b.create(dir)?;
    #[cfg(windows)]
    if !existed {
        crate::winacl::restrict(dir)?;
    }
    Ok(())
}

/// Makes a file msp just created its owner's only where the mode it was
/// created with does not already (Windows: an owner-only ACL, for a file
/// outside a directory that passes one on; elsewhere nothing to do).
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(windows)]
    return crate::winacl::restrict(path);
    #[cfg(not(windows))]
    {
        let _ = path;
        Ok(())
    }
}

/// Whether others than its owner can read `path`: on unix any group or
/// other permission bit, on Windows a DACL that is not owner-only (see
/// [`crate::winacl`]). `None` when it cannot be told.
pub fn readable_by_others(path: &Path) -> Option<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(windows)]
    {
        crate::winacl::is_owner_only(path).ok().map(|only| !only)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        None
    }
}

/// Open options that create a file owner-only (`0600`; a umask can only
/// narrow it further). The caller adds read/write/append/create flags.
pub fn private_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(PRIVATE_FILE_MODE);
    }
    o
}

/// Creates an empty owner-only file at `path` unless something is there, so
/// a program that creates files with its own default mode (SQLite: 0644 less
/// the umask) finds it and keeps its mode.
pub fn precreate_private(path: &Path) -> io::Result<()> {
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => restrict_to_owner(path),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Takes the lock file `name` in `dir` (owner-only) without waiting: the
/// file, holding the lock until it is dropped (or the process ends, however
/// it ends), or none if another process holds it.
pub fn try_lock(dir: &Path, name: &str) -> io::Result<Option<File>> {
    create_private_dir(dir)?;
    let file = private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A file or directory readable or writable by others than its owner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loose {
    pub path: std::path::PathBuf,
    /// Its mode before (permission bits).
    pub mode: u32,
    /// Whether it was tightened (false when only reported, or chmod failed).
    pub fixed: bool,
}

/// The recall journals' directory in the data directory.
pub const JOURNAL_DIR: &str = "recalled";

/// Whether a file in the data directory is one msp writes there: the store
/// and its WAL, shared memory and journal, the log and its rotation, key
/// files, the vault seal, locks, the sync password, and their temp files.
/// Anything else (`MSP_DATA_DIR` may point at a directory that holds other
/// files) is left as it is.
#[cfg(unix)]
fn is_msp_file(name: &str) -> bool {
    let name = name.strip_prefix('.').unwrap_or(name);
    name.starts_with("msp.db")
        || name.starts_with("msp.log")
        || name.starts_with("sync-password")
        || [".key", ".seal", ".lock"]
            .iter()
            .any(|ext| name.ends_with(ext) || name.contains(&format!("{ext}.")))
}

/// Finds the loose modes in the data directory `dir`: the directory itself,
/// the files msp writes in it and the journals' directory, and with `deep`
/// the journals too; with `fix`, sets them to 0700 / 0600. Symlinks are
/// left alone (chmod would follow them out of the directory). Cheap enough
/// for every `msp` command with `deep` off: one `stat` per entry of the
/// data directory, a `chmod` only where a mode is wrong.
pub fn tighten(dir: &Path, deep: bool, fix: bool) -> Vec<Loose> {
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        check_mode(dir, fix, &mut out);
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_file() && is_msp_file(&name) {
                    check_mode(&e.path(), fix, &mut out);
                } else if ft.is_dir() && name == JOURNAL_DIR {
                    check_mode(&e.path(), fix, &mut out);
                    if deep && let Ok(journals) = std::fs::read_dir(e.path()) {
                        for j in journals.flatten() {
                            check_mode(&j.path(), fix, &mut out);
                        }
                    }
                }
            }
        }
    }
    #[cfg(windows)]
    {
        // The data directory's ACL is inherited by everything in it: its own
        // is the one to check (and the journals' with `deep`).
        check_acl(dir, fix, &mut out);
        if deep {
            check_acl(&dir.join(JOURNAL_DIR), fix, &mut out);
        }
    }
    #[cfg(not(any(unix, windows)))]
    let _ = (dir, deep, fix);
    out
}

/// Windows: reports `path` when its DACL lets others in (`mode` 0o777 stands
/// for "not owner-only"), and with `fix` gives it an owner-only one.
#[cfg(windows)]
fn check_acl(path: &Path, fix: bool, out: &mut Vec<Loose>) {
    if !path.is_dir() {
        return;
    }
    if let Ok(false) = crate::winacl::is_owner_only(path) {
        // Counted as fixed only when reading it back says so.
        let fixed = fix
            && crate::winacl::restrict(path).is_ok()
            && matches!(crate::winacl::is_owner_only(path), Ok(true));
        out.push(Loose {
            path: path.to_path_buf(),
            mode: 0o777,
            fixed,
        });
    }
}

#[cfg(unix)]
fn check_mode(path: &Path, fix: bool, out: &mut Vec<Loose>) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let ft = meta.file_type();
    if ft.is_symlink() || !(ft.is_dir() || ft.is_file()) {
        return;
    }
    let mode = meta.permissions().mode() & 0o7777;
    let want = if ft.is_dir() {
        PRIVATE_DIR_MODE
    } else {
        mode & PRIVATE_FILE_MODE
    };
    if mode & 0o077 != 0 || (ft.is_dir() && mode != want) {
        let fixed =
            fix && std::fs::set_permissions(path, std::fs::Permissions::from_mode(want)).is_ok();
        out.push(Loose {
            path: path.to_path_buf(),
            mode,
            fixed,
        });
    }
}

/// File modes for the tests of other modules.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    /// The permission bits of `path`.
    #[cfg(unix)]
    pub(crate) fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// Asserts that `path` is its owner's only (0600). Unix only: on
    /// Windows a file is owner-only through its directory's inherited DACL,
    /// and the test's temporary directory has none.
    #[track_caller]
    pub(crate) fn assert_owner_only(path: &Path) {
        #[cfg(unix)]
        assert_eq!(mode(path), 0o600, "mode of {}", path.display());
        #[cfg(not(unix))]
        let _ = path;
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
    fn capped_lines_keep_their_head_and_count_every_byte() {
        let text = b"short\n0123456789abcdef\n\nlast";
        let mut input = io::BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_line_capped(&mut input, &mut buf, 8).unwrap() {
            lines.push((String::from_utf8(buf.clone()).unwrap(), line));
        }
        let line = |len, overlong| Line { len, overlong };
        assert_eq!(
            lines,
            [
                ("short".to_string(), line(6, false)),
                ("01234567".to_string(), line(17, true)),
                (String::new(), line(1, false)),
                ("last".to_string(), line(4, false)),
            ]
        );
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
    fn fifo(p: &Path) {
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[cfg(unix)]
    fn link_to_dev_zero(p: &Path) {
        std::os::unix::fs::symlink("/dev/zero", p).unwrap();
    }

    /// Neither read (a FIFO would block, a device never ends) nor accepted.
    #[cfg(unix)]
    #[rstest::rstest]
    #[case::fifo_is_refused_without_blocking(fifo, "a FIFO")]
    #[case::device_behind_a_symlink_is_refused(link_to_dev_zero, "a device")]
    fn special_files_are_refused(#[case] make: fn(&Path), #[case] what: &str) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("special");
        make(&p);
        let err = read_capped(&p, 10).unwrap_err();
        assert!(err.to_string().contains(what), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn loose_modes_are_found_and_tightened_but_symlinks_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        create_private_dir(&data.join(JOURNAL_DIR)).unwrap();
        let mode = testing::mode;
        let set = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
        let db = data.join("msp.db");
        precreate_private(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let j = data.join(JOURNAL_DIR).join("s1");
        std::fs::write(&j, "x").unwrap();
        set(&j, 0o644).unwrap();
        set(&db, 0o644).unwrap();
        set(&data, 0o755).unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "x").unwrap();
        set(&outside, 0o644).unwrap();
        std::os::unix::fs::symlink(&outside, data.join("link.key")).unwrap();
        // Not msp's: MSP_DATA_DIR may hold other files.
        let theirs = data.join("notes.txt");
        std::fs::write(&theirs, "x").unwrap();
        set(&theirs, 0o644).unwrap();
        let log1 = data.join("msp.log.1");
        std::fs::write(&log1, "x").unwrap();
        set(&log1, 0o644).unwrap();
        // Shallow: the directory and its own files, not the journal.
        let found = tighten(&data, false, false);
        let mut paths: Vec<_> = found.iter().map(|l| l.path.clone()).collect();
        paths.sort();
        assert_eq!(paths, [data.clone(), db.clone(), log1.clone()], "{found:?}");
        assert!(found.iter().all(|l| !l.fixed));
        let fixed = tighten(&data, true, true);
        assert_eq!(fixed.len(), 4, "{fixed:?}");
        assert!(fixed.iter().all(|l| l.fixed));
        assert_eq!((mode(&data), mode(&db), mode(&j)), (0o700, 0o600, 0o600));
        assert_eq!((mode(&outside), mode(&theirs)), (0o644, 0o644));
        assert!(tighten(&data, true, false).is_empty());
    }
}
