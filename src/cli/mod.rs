//! The command line: clap definitions, one file per command group. Each file
//! parses and prints; the work happens in the library modules.

mod agent;
mod client;
mod config;
mod context;
mod doctor;
mod machine;
mod project;
pub mod reference;
mod session;
mod setup;
mod sync;
mod task;
mod ticket;
mod vault;

use std::io::Write;

use clap::{CommandFactory, Parser, Subcommand};
use serde::Serialize;

use crate::config::{Config, Paths};
use crate::error::{Error, ExitStatus, Result};
use crate::store::Store;
use crate::work::sessions;

#[derive(Debug, Parser)]
#[command(
    name = "msp",
    version,
    about = "One memory and one toolbox for MSP technicians working with Claude Code",
    long_about = "msp remembers what was done, for which client, on which machine: it tracks work sessions per \
client and project, maps directories to projects, and feeds Claude Code the memories that matter through two \
tiny hooks (msp-recall, msp-save).\n\nEvery read command takes --json. Exit codes: 0 ok, 1 error, 2 usage, \
3 not found, 4 locked or unauthorised.",
    after_help = "Start with `msp setup` (./install.sh runs it), then `msp client add`, `msp project add`, `msp session start`.\nEnvironment: MSP_DATA_DIR, MSP_CONFIG_DIR, and MSP_<SECTION>_<KEY> for every setting (`msp config show`)."
)]
pub struct Cli {
    /// Print machine-readable JSON (one object or one array) on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store, register this machine (run by ./install.sh; safe to repeat)
    Setup(setup::Args),
    /// Register and describe the machines you work on
    #[command(subcommand)]
    Machine(machine::Cmd),
    /// Clients you do work for
    #[command(subcommand)]
    Client(client::Cmd),
    /// Projects, and the directories and git remotes that belong to them
    #[command(subcommand)]
    Project(project::Cmd),
    /// Work sessions: start, stop, record and report time
    #[command(subcommand)]
    Session(session::Cmd),
    /// Pending tasks per client or project
    #[command(subcommand)]
    Task(task::Cmd),
    /// Memories: add, import transcripts, search, recall, stats
    #[command(subcommand)]
    Context(context::Cmd),
    /// Credential vault: secrets per client, encrypted, versioned, audited
    #[command(subcommand)]
    Vault(vault::Cmd),
    /// Team sync through PostgreSQL (end-to-end encrypted)
    Sync(sync::Args),
    /// Tickets in your PSA (SyncroMSP): search, link sessions, post notes and time
    #[command(subcommand)]
    Ticket(ticket::Cmd),
    /// Signed commands for registered machines: queue, run, approve, audit
    #[command(subcommand)]
    Agent(agent::Cmd),
    /// Check the installation and say how to fix what is wrong
    Doctor,
    /// Show the effective configuration and where it comes from
    #[command(subcommand)]
    Config(config::Cmd),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// What every command gets: where things are, the config, output mode.
pub struct Ctx {
    pub paths: Paths,
    pub config: Config,
    pub json: bool,
}

impl Ctx {
    /// Opens (and migrates) the local store, and closes an automatic work
    /// session that went idle (Claude killed before it could close it).
    pub async fn store(&self) -> Result<Store> {
        let mut store = Store::open(&self.paths.db()).await?;
        // An older msp kept the team store's password in the store.
        // Best effort: a command must not fail for it; the next one retries.
        if let Err(e) = crate::sync::secure_remembered_url(store.db(), &self.paths.data_dir).await {
            note(format!(
                "warning: the team store's password is still in the store: {e}"
            ));
        }
        let (idle, now) = (
            self.config.sessions.idle_close_minutes,
            crate::time::now_ms(),
        );
        // Asked first, so a command writes (and waits for the lock) only
        // when there is one to close. Best effort: if the store is busy,
        // the next command or hook closes it.
        if let Ok(Some(m)) = crate::machine::self_id(store.db()).await
            && let Ok(Some(_)) = sessions::idle_open(store.db(), &m, idle, now).await
        {
            let _ = sessions::close_idle(store.db(), &m, idle, now).await;
        }
        Ok(store)
    }
}

pub async fn run(cli: Cli) -> Result<ExitStatus> {
    if let Command::Completions { shell } = cli.command {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "msp", &mut out);
        write_stdout(&out)?;
        return Ok(ExitStatus::Success);
    }
    let paths = Paths::from_env()?;
    // A store created before msp made everything owner-only (or a copy
    // restored with a loose mode) is tightened by the next command; doctor
    // reports what it finds before it fixes it.
    if !matches!(cli.command, Command::Doctor) {
        crate::files::tighten(&paths.data_dir, false, true);
    }
    // Doctor reports a broken config itself instead of failing on it.
    let config = match (&cli.command, Config::load(&paths)) {
        (Command::Doctor | Command::Config(config::Cmd::Paths | config::Cmd::Check), Err(_)) => {
            Config::default()
        }
        (_, loaded) => loaded?,
    };
    let ctx = Ctx {
        paths,
        config,
        json: cli.json,
    };
    match cli.command {
        Command::Setup(args) => setup::run(&ctx, args).await,
        Command::Machine(cmd) => machine::run(&ctx, cmd).await,
        Command::Client(cmd) => client::run(&ctx, cmd).await,
        Command::Project(cmd) => project::run(&ctx, cmd).await,
        Command::Session(cmd) => session::run(&ctx, cmd).await,
        Command::Task(cmd) => task::run(&ctx, cmd).await,
        Command::Context(cmd) => context::run(&ctx, cmd).await,
        Command::Vault(cmd) => vault::run(&ctx, cmd).await,
        Command::Sync(args) => sync::run(&ctx, args).await,
        Command::Ticket(cmd) => ticket::run(&ctx, cmd).await,
        Command::Agent(cmd) => agent::run(&ctx, cmd).await,
        Command::Doctor => doctor::run(&ctx).await,
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Completions { .. } => unreachable!("handled above"),
    }
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))
}

/// Prints one line of data on stdout.
pub fn out(line: impl AsRef<str>) -> Result<()> {
    let mut s = line.as_ref().to_string();
    s.push('\n');
    write_stdout(s.as_bytes())
}

/// Prints a diagnostic on stderr (never data).
pub fn note(line: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Other(e.to_string()))?;
    out(text)
}

/// Widest a table cell gets (characters) before it is cut with `…`; the
/// last column, which is not padded, gets more.
const MAX_CELL: usize = 80;
const MAX_LAST_CELL: usize = 240;

/// A value made safe for one table cell: control characters (ESC, CR, LF,
/// tab, ...) and the invisible bidi overrides escaped, so a name synced
/// from another machine can neither move the cursor, colour the terminal,
/// nor break the rows; then cut to `max` characters with `…`.
fn cell(value: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in value.chars() {
        let piece: std::borrow::Cow<'_, str> = match c {
            '\t' => "\\t".into(),
            '\r' => "\\r".into(),
            '\n' => "\\n".into(),
            c if c.is_control()
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                format!("\\u{{{:x}}}", c as u32).into()
            }
            c => c.to_string().into(),
        };
        let len = piece.chars().count();
        if n + len > max {
            // Room for the ellipsis: drop back to `max - 1`.
            while n > max.saturating_sub(1) {
                out.pop();
                n -= 1;
            }
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        n += len;
    }
    out
}

/// Prints rows as an aligned table with a header; the last column is not
/// padded. Cells are sanitised and bounded (see [`cell`]).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let cols = header.len();
    let fit = |cells: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        cells
            .enumerate()
            .map(|(i, c)| {
                cell(
                    c,
                    if i + 1 == cols {
                        MAX_LAST_CELL
                    } else {
                        MAX_CELL
                    },
                )
            })
            .collect()
    };
    let header = fit(&mut header.iter().copied());
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| fit(&mut r.iter().map(String::as_str)))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(c);
            if i != last {
                // Padding by hand: a format width is limited to u16.
                let pad = widths[i].saturating_sub(c.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.trim_end().to_string()
    };
    let mut text = line(&header);
    text.push('\n');
    for r in &rows {
        text.push_str(&line(r));
        text.push('\n');
    }
    write_stdout(text.as_bytes())
}

/// An RFC 3339 time (as the JSON views carry it) the way tables show time:
/// local, to the minute. Anything else is shown as it is.
pub fn local_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => crate::time::local_display(t.timestamp_millis()),
        Err(_) => rfc3339.to_string(),
    }
}

/// `-` for a missing value in tables.
pub fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn table_cells_escape_control_characters_and_are_cut_with_an_ellipsis() {
        assert_eq!(cell("Acme Corp", 80), "Acme Corp");
        assert_eq!(
            cell("a\u{1b}[2Jb\rc\td\ne\u{7}f\u{202e}g", 80),
            "a\\u{1b}[2Jb\\rc\\td\\ne\\u{7}f\\u{202e}g"
        );
        let long = "x".repeat(70_000);
        let c = cell(&long, 80);
        assert_eq!(c.chars().count(), 80);
        assert!(c.ends_with('…'));
        assert_eq!(cell("abcdef", 6), "abcdef");
        assert_eq!(cell("abcdefg", 6), "abcde…");
        // An escape is never cut in half.
        assert_eq!(cell("abcd\u{1b}", 6), "abcd…");
        assert_eq!(cell("ü".repeat(10).as_str(), 4), "üüü…");
    }
}
