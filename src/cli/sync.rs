use std::io::{IsTerminal, Read};

use clap::{Args as ClapArgs, Subcommand};

use super::{Ctx, note, out};
use crate::config::env;
use crate::error::{Error, ExitStatus, Result};
use crate::sync::{self, key::TeamKey, server::mask_url};
use crate::vault::access::{env_secret, interactive, prompt};

#[derive(Debug, ClapArgs)]
#[command(
    about = "Team sync through PostgreSQL: push this machine's changes, pull the others' (end-to-end encrypted)",
    after_help = "Without a subcommand: sync now. The URL comes from sync.url, MSP_SYNC_URL, or `msp sync init --url`."
)]
pub struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create the server tables and, on the team's first machine, the team key
    Init {
        /// postgres://USER@HOST:PORT/DB[?sslmode=require], remembered in the store; its password is asked for (or read from MSP_SYNC_PASSWORD) and kept in a 0600 file
        #[arg(long)]
        url: Option<String>,
    },
    /// Last sync, pending changes, and whether the server answers
    Status,
    /// Move the team key between machines by hand (never through the server)
    #[command(subcommand)]
    Key(KeyCmd),
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Print the team key as one line (a secret: whoever has it reads the team's data)
    Export,
    /// Read a team key from stdin (never from the command line) and store it
    Import {
        /// Replace this machine's key of another team
        #[arg(long)]
        replace: bool,
    },
}

/// The URL `sync init --url` was given, with its password when it has
/// none: from MSP_SYNC_PASSWORD or PGPASSWORD, else typed on the terminal
/// (Enter for none: a server that trusts this machine, or `~/.pgpass`). A
/// password in the URL itself works, but shows in process listings.
fn with_password(url: String) -> Result<String> {
    // A URL that is no team store's is refused before its password is asked for.
    sync::server::parse_url(&url)?;
    if sync::password::split(&url).1.is_some() {
        note(format!(
            "warning: the password in --url shows in process listings and shell history; next time give the URL without it: msp asks for the password, or reads {}",
            env::SYNC_PASSWORD
        ));
        return Ok(url);
    }
    let password = match env_secret(env::SYNC_PASSWORD).or_else(|| env_secret("PGPASSWORD")) {
        Some(p) => Some(p),
        None if interactive() => Some(prompt(&format!(
            "password for {} (Enter: none): ",
            mask_url(&url)
        ))?)
        .filter(|p| !p.is_empty()),
        None => None,
    };
    Ok(match password {
        Some(p) => {
            let p = p
                .as_str()
                .ok_or_else(|| Error::usage("the team store's password is not UTF-8"))?;
            sync::password::join(&url, p).to_string()
        }
        None => url,
    })
}

/// Shows a sync run's progress as a bar on a terminal, nothing otherwise.
struct SyncBar(Option<indicatif::ProgressBar>);

impl SyncBar {
    fn new(show: bool) -> SyncBar {
        SyncBar(show.then(|| {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_style(
                indicatif::ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb
        }))
    }
}

impl sync::Progress for SyncBar {
    fn stage(&self, name: &'static str, len: u64) {
        if let Some(pb) = &self.0 {
            pb.set_message(name);
            pb.set_length(len);
            pb.set_position(0);
        }
    }

    fn inc(&self, n: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let timeout = sync::connect_timeout(&ctx.config);
    match args.cmd {
        None => {
            let url =
                sync::require_url(sync::resolve_url(db, &ctx.paths.data_dir, &ctx.config).await?)?;
            let progress = SyncBar::new(!ctx.json && std::io::stderr().is_terminal());
            let opts = sync::RunOptions::from_config(&ctx.config);
            let r = sync::run(db, &ctx.paths, &url, &opts, &progress).await?;
            // Memories from the other machines become findable by meaning
            // in the background (a large first pull takes a while).
            if r.pulled > 0
                && crate::embed::install::model_path(&ctx.paths.data_dir).is_file()
                && let Err(e) = crate::memory::vectors::spawn_embed()
            {
                ctx.tell(format!(
                    "warning: pulled memories not embedded yet (`msp context embed` does it): {e}"
                ));
            }
            ctx.print(&r, |r| {
                format!(
                    "synced with {}: pushed {}, pulled {}, conflicts resolved {}, in {} ms",
                    mask_url(&url),
                    r.pushed,
                    r.pulled,
                    r.conflicts_resolved,
                    r.duration_ms
                )
            })?;
            if r.kept > 0 {
                ctx.tell(format!(
                    "note: {} records kept but not applied (written by a newer msp, or waiting for what they refer to)",
                    r.kept
                ));
            }
        }
        Some(Cmd::Init { url }) => {
            let given = url.is_some();
            let url = match url {
                Some(u) => with_password(u)?,
                None => sync::require_url(
                    sync::resolve_url(db, &ctx.paths.data_dir, &ctx.config).await?,
                )?,
            };
            let r = sync::init(db, &ctx.paths, &url, timeout, given).await?;
            ctx.print(&r, |r| {
                if r.created {
                    format!(
                        "created team {} on {}\nteam key  {} (mode 0600)",
                        r.team_id, r.url, r.key_file
                    )
                } else {
                    format!("team {} on {}: this machine has its key", r.team_id, r.url)
                }
            })?;
            if r.created {
                ctx.tell(
                    "next: `msp sync` here; on each other machine `msp sync key import` the line `msp sync key export` prints here",
                );
            }
        }
        Some(Cmd::Status) => {
            let st = sync::status(db, &ctx.paths, &ctx.config, timeout).await?;
            ctx.print(&st, |st| {
                let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                let server = match (st.reachable, &st.server_error) {
                    (Some(true), _) => "reachable".to_string(),
                    (Some(false), Some(e)) => format!("unreachable: {e}"),
                    (Some(false), None) => "unreachable".to_string(),
                    (None, _) => "not configured".to_string(),
                };
                let mut lines = vec![
                    format!("team        {}", dash(st.team_id.clone())),
                    format!("url         {}", dash(st.url.clone())),
                    format!("server      {server}"),
                    format!(
                        "last sync   {}",
                        dash(st.last_sync_at.as_deref().map(super::local_time))
                    ),
                    format!(
                        "pending     {} changes, {} records to push",
                        st.pending_changes, st.unpushed_records
                    ),
                ];
                if let Some(n) = st.unpulled_records {
                    lines.push(format!("to pull     {n} records"));
                }
                if st.kept_records > 0 {
                    lines.push(format!(
                        "kept        {} records not applied",
                        st.kept_records
                    ));
                }
                lines.join("\n")
            })?;
        }
        Some(Cmd::Key(KeyCmd::Export)) => {
            let k = TeamKey::require(&ctx.paths.data_dir)?;
            if std::io::stdout().is_terminal() {
                note(
                    "this line is the team key: whoever has it reads the team's data; paste it into `msp sync key import` on the other machine",
                );
            }
            out(k.export().as_str())?;
        }
        Some(Cmd::Key(KeyCmd::Import { replace })) => {
            let text = read_key()?;
            let r = sync::import_key(db, &ctx.paths, &ctx.config, &text, replace).await?;
            ctx.print(&r, |r| {
                let team = &r.team_id;
                if !r.changed {
                    format!("this machine already has the key of team {team}")
                } else if r.verified {
                    format!("imported the key of team {team} (checked against the team store)")
                } else {
                    format!(
                        "imported the key of team {team} (not checked: team store not reachable or not configured; `msp sync` checks it)"
                    )
                }
            })?;
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}

/// The key from stdin: hidden prompt on a terminal, else the first line.
fn read_key() -> Result<zeroize::Zeroizing<String>> {
    let text = if std::io::stdin().is_terminal() {
        crate::terminal::prompt_hidden("team key (from `msp sync key export`): ")
            .map_err(|e| Error::io("reading the team key", e))?
    } else {
        let mut s = String::new();
        std::io::stdin()
            .take(4096)
            .read_to_string(&mut s)
            .map_err(|e| Error::io("reading the team key from stdin", e))?;
        s
    };
    let text = zeroize::Zeroizing::new(text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.is_empty() {
        return Err(Error::usage("no team key on stdin")
            .with_hint("msp sync key export (on a machine of the team) | msp sync key import"));
    }
    Ok(zeroize::Zeroizing::new(line.to_string()))
}
