//! Stand-ins for the services msp talks to: a throwaway PostgreSQL cluster,
//! and local HTTP servers that follow the published Anthropic Messages and
//! SyncroMSP contracts.

pub mod fake_anthropic;
pub mod fake_syncro;
pub mod pg;
pub mod transcript;
