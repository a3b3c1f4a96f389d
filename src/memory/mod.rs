//! Memory: capture (transcripts and notes) -> compress -> redact -> tag ->
//! store; then score -> recall -> format for injection into a prompt.

pub mod brief;
pub mod capture;
pub mod compress;
pub mod engine;
pub mod journal;
pub mod lifecycle;
pub mod prompt;
pub mod rank;
pub mod recall;
pub mod scrub;
pub mod store;
pub mod tags;
pub mod text;
pub mod tokens;
pub mod transcript;
pub mod vectors;
