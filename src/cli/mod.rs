//! The command line: clap definitions, one file per command group. Each file
//! parses and prints; the work happens in the library modules.

mod agent;
mod client;
mod config;
mod context;
mod doctor;
mod machine;
mod output;
mod project;
pub mod reference;
mod session;
mod setup;
mod sync;
mod task;
mod ticket;
mod ui;
mod vault;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{Config, Paths};
use crate::error::{ExitStatus, Result};
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
    /// Store a fact on purpose, as an important memory (it supersedes what
    /// it restates)
    Remember(context::RememberArgs),
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
    /// Local web console: memories (search, edit, pin, forget), what
    /// reached Claude, work time charts, tasks, vault metadata, sync, doctor
    Ui(ui::Args),
    /// Show the effective configuration and where it comes from
    #[command(subcommand)]
    Config(config::Cmd),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions {
        /// Shell to print completions for
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
        if store.created() {
            crate::memory::store::mark_index_current(store.db()).await?;
        }
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
        output::write_stdout(&out)?;
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
        Command::Remember(args) => context::remember(&ctx, args).await,
        Command::Vault(cmd) => vault::run(&ctx, cmd).await,
        Command::Sync(args) => sync::run(&ctx, args).await,
        Command::Ticket(cmd) => ticket::run(&ctx, cmd).await,
        Command::Agent(cmd) => agent::run(&ctx, cmd).await,
        Command::Doctor => doctor::run(&ctx).await,
        Command::Ui(args) => ui::run(&ctx, args).await,
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Completions { .. } => unreachable!("handled above"),
    }
}

pub use output::{
    format_table, local_time, note, or_dash, out, print_json, print_table, progress_bar, sql_limit,
};
