//! The msp log: one line per hook run or failure, appended to
//! `$MSP_DATA_DIR/msp.log`. Past `log.max_bytes` the file is moved to
//! `msp.log.1` (replacing the older one), so it never grows without bound.
//! Logging never fails the caller.

use std::io::Write;
use std::path::Path;

use crate::time::{now_ms, rfc3339};

/// Appends `line` (one line; newlines are flattened) with a timestamp.
pub fn append(log: &Path, max_bytes: u64, line: &str) {
    if let Ok(meta) = std::fs::metadata(log)
        && meta.len() > max_bytes
    {
        let _ = std::fs::rename(log, log.with_extension("log.1"));
    }
    let flat: String = line
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(2000)
        .collect();
    let entry = format!("{} {flat}\n", rfc3339(now_ms()));
    // Read access too: Windows locks only handles opened to read or write
    // (a log that cannot be read is still appended to, unlocked).
    let open = |read| {
        crate::files::private_options()
            .create(true)
            .read(read)
            .append(true)
            .open(log)
    };
    if let Ok(mut f) = open(true).or_else(|_| open(false)) {
        // One write call per line, under an exclusive lock: concurrent
        // writers' lines stay whole even where appends from several
        // processes are not atomic (Wine lost one line in 80). Unlocked
        // when `f` closes; a lock that cannot be had still writes.
        let _ = f.lock();
        let _ = f.write_all(entry.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_flat_and_the_file_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("msp.log");
        append(&log, 100, "first\nline");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("first line"));
        for _ in 0..10 {
            append(&log, 100, "another line that fills the log");
        }
        assert!(dir.path().join("msp.log.1").exists());
        assert!(std::fs::metadata(&log).unwrap().len() < 200);
    }
}
