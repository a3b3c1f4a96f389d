//! The contract between the vault, which knows secret values, and the memory
//! redactor, which finds candidate tokens in text. Both sides use this module
//! and neither imports the other: the binaries hand the vault's matcher to
//! the redactor.

/// Candidates shorter than this are never offered to a matcher, so a vault
/// value shorter than this is not redacted by value (`vault set` warns).
pub const MIN_LEN: usize = 8;
/// Longest candidate offered to a matcher.
pub const MAX_LEN: usize = 4096;

/// Given a candidate token of [`MIN_LEN`]..=[`MAX_LEN`] bytes, says whether
/// it is a known secret. Called several times per token of a text, so it
/// must be cheap (a length check and a hash lookup).
pub type Matcher = Box<dyn Fn(&str) -> bool + Send + Sync>;
