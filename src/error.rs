//! The library's error type. Every message says what failed and, where the
//! user can do something about it, the error carries a hint naming the fix
//! ([`Error::with_hint`]), which `msp` prints on its own `hint:` line.

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
    /// An error and the fix for it. Displays as the error alone; the hint
    /// is its own field, printed apart (`msp`: a `hint:` line).
    #[error("{error}")]
    Hinted { error: Box<Error>, hint: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// `what` not found, with a hint naming the command that lists or creates it.
    pub fn not_found(what: &str, name: &str, hint: &str) -> Self {
        Error::NotFound(format!("{what} not found: {name}")).with_hint(hint)
    }

    /// This error with `hint` as the fix (replacing any hint it had).
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        Error::Hinted {
            error: Box::new(self.into_kind()),
            hint: hint.into(),
        }
    }

    /// A new error about this one (`outer` writes it), which keeps this
    /// one's hint unless it names its own.
    pub fn wrap(self, outer: impl FnOnce(&Error) -> Error) -> Error {
        let new = outer(&self);
        match (new.hint(), self.hint()) {
            (None, Some(h)) => {
                let h = h.to_string();
                new.with_hint(h)
            }
            _ => new,
        }
    }

    /// The fix, when the error names one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Hinted { hint, .. } => Some(hint),
            _ => None,
        }
    }

    /// What went wrong, without the hint: the error to match on.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Hinted { error, .. } => error.kind(),
            e => e,
        }
    }

    /// [`Error::kind`], by value (for matching on a `Result`).
    pub fn into_kind(self) -> Error {
        match self {
            Error::Hinted { error, .. } => error.into_kind(),
            e => e,
        }
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Locked(_) | Error::Busy(_) => exit::LOCKED,
            _ => exit::ERROR,
        }
    }

    /// True when the error is a write to a closed pipe (`msp ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self.kind(), Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
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
                "the store is busy: another process (usually another msp) holds its lock ({e})"
            ))
            .with_hint(
                "retry in a moment; `fuser -v STORE` names the process holding it (`msp config paths` shows the store)",
            );
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

    #[test]
    fn a_hint_is_a_field_apart_from_the_message_and_the_kind_looks_through_it() {
        let e = Error::usage("--to is before --from").with_hint("swap them");
        assert_eq!(e.to_string(), "--to is before --from");
        assert_eq!(e.hint(), Some("swap them"));
        assert!(matches!(e.kind(), Error::Usage(_)));
        assert_eq!(e.exit_code(), exit::USAGE);
        // A second hint replaces the first; the kind stays.
        let e = e.with_hint("give --from first");
        assert_eq!(e.hint(), Some("give --from first"));
        assert_eq!(e.to_string(), "--to is before --from");
        assert_eq!(Error::Other("x".into()).hint(), None);
        let nf = Error::not_found("client", "acme", "`msp client list` shows them");
        assert_eq!(nf.to_string(), "client not found: acme");
        assert_eq!(nf.hint(), Some("`msp client list` shows them"));
        // Through `?` into a function returning this error, the hint stays.
        fn fails() -> Result<()> {
            Err(Error::Locked("the vault is locked".into()).with_hint("run msp vault unlock"))
        }
        fn outer() -> Result<()> {
            fails()?;
            Ok(())
        }
        let e = outer().unwrap_err();
        assert_eq!(
            (e.exit_code(), e.hint()),
            (exit::LOCKED, Some("run msp vault unlock"))
        );
    }
}
