//! The integration tests: one binary (linking the crate once, not once per
//! file), one module per area. They run the built `msp`, `msp-recall` and
//! `msp-save` as processes against a private temp HOME and data dir.
//! Run one area with `cargo test --test it hooks::`.

#![recursion_limit = "256"]

mod common;
mod support;

mod agent;
mod architecture;
mod cli;
mod clients_projects;
mod consistency;
// The real Claude Code CLI, installed for Linux by tests/e2e.
#[cfg(unix)]
mod e2e_claude;
mod embed;
mod hooks;
mod lifecycle;
mod memory;
// Unix modes, umask and other accounts (Windows: ACLs, docs/windows.md).
#[cfg(unix)]
mod privacy;
mod readme;
mod recall_fixture;
mod scope;
mod secrets;
mod sessions;
mod setup_machine;
mod snapshots;
mod sync;
mod tasks;
mod tickets;
mod ui;
mod vault;
