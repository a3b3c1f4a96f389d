//! msp: one memory and one toolbox for MSP technicians who work with Claude
//! Code on several machines. The library holds the logic; the `msp` binary
//! and the two hook binaries are thin wrappers around it.

pub mod agent;
pub mod app;
pub mod claude;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod embed;
pub mod error;
pub mod files;
pub mod ids;
pub mod known_secrets;
pub mod log;
pub mod machine;
pub mod memory;
pub mod process;
pub mod redact;
pub mod store;
pub mod suggest;
pub mod sync;
pub mod terminal;
pub mod tickets;
pub mod time;
pub mod ui;
pub mod vault;
#[cfg(windows)]
pub mod winacl;
pub mod work;

pub use error::{Error, Result};
