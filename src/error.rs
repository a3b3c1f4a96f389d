//! The library's error type. Every message says what failed and, where the
//! user can do something about it, ends with a `hint:` line naming the fix.

use std::io;

/// Documented exit codes (see docs/commands.md): 0 ok, 1 error, 2 usage, 3 not found,
/// 4 locked or unauthorised.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const LOCKED: i32 = 4;
}

/// How a command ended. `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done (0).
    Success,
    /// The command ran, and what it checked failed (1): `msp doctor`.
    Failure,
    /// The thing asked about does not exist (3): `msp project which`.
    NotFound,
    /// A command waited for ran out of time (124, as `timeout(1)`).
    TimedOut,
    /// Interrupted by Ctrl-C while waiting (130).
    Interrupted,
    /// A child process's own exit code, passed through (`vault run`, `agent
    /// exec --wait`).
    External(i32),
    /// An error already reported after partial work (`ticket sync`): the
    /// error's documented code.
    Reported(i32),
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => exit::OK,
            ExitStatus::Failure => exit::ERROR,
            ExitStatus::NotFound => exit::NOT_FOUND,
            ExitStatus::TimedOut => 124,
            ExitStatus::Interrupted => 130,
            ExitStatus::External(code) | ExitStatus::Reported(code) => code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asked for something that cannot be: bad value,
    /// contradictory flags, `--to` before `--from`.
    #[error("{0}")]
    Usage(String),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The current state forbids the request (duplicate name, nothing open).
    #[error("{0}")]
    Conflict(String),
    /// Locked or unauthorised (vault locked, wrong key).
    #[error("{0}")]
    Locked(String),
    /// The local store is missing, too old or too new for this binary.
    #[error("{0}")]
    Schema(String),
    #[error("config: {0}")]
    Config(String),
    #[error("store: {0}")]
    Db(#[source] sqlx::Error),
    /// Another process holds the store's lock past the wait (exit 4).
    #[error("{0}")]
    Busy(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// `what` not found, with a hint naming the command that lists or creates it.
    pub fn not_found(what: &str, name: &str, hint: &str) -> Self {
        Error::NotFound(format!("{what} not found: {name}\nhint: {hint}"))
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Locked(_) | Error::Busy(_) => exit::LOCKED,
            _ => exit::ERROR,
        }
    }

    /// True when the error is a write to a closed pipe (`msp ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// SQLite's "busy" or "locked" (primary codes 5 and 6, with their extended
/// codes): another connection holds a lock this one waited for in vain.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6)),
        _ => false,
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            return Error::Busy(format!(
                "the store is busy: another process (usually another msp) holds its lock ({e})\nhint: retry in a moment; `fuser -v STORE` names the process holding it (`msp config paths` shows the store)"
            ));
        }
        Error::Db(e)
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io {
            context: "i/o".into(),
            source,
        }
    }
}

/// A UNIQUE constraint failed (SQLITE_CONSTRAINT_UNIQUE = 2067, PRIMARYKEY = 1555).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("2067") | Some("1555") | Some("23505")
            )
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_map_to_the_documented_codes() {
        for (status, code) in [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::NotFound, 3),
            (ExitStatus::TimedOut, 124),
            (ExitStatus::Interrupted, 130),
            (ExitStatus::External(42), 42),
            (ExitStatus::Reported(exit::LOCKED), 4),
        ] {
            assert_eq!(status.code(), code, "{status:?}");
        }
        assert_eq!(
            Error::not_found("client", "x", "y").exit_code(),
            exit::NOT_FOUND
        );
    }
}
