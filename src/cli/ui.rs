//! `msp ui`: starts the local web console and prints its URL.

use std::time::Duration;

use super::Ctx;
use super::output::{note, out};
use crate::error::Result;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Do not open the browser (for scripts: read the URL from stdout)
    #[arg(long)]
    pub no_open: bool,
    /// Show everything, change nothing
    #[arg(long)]
    pub read_only: bool,
    /// Stop after this many minutes without a request
    #[arg(long, default_value_t = 60)]
    pub idle_minutes: u64,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<super::ExitStatus> {
    // The store exists and is current before the first page opens it.
    ctx.store().await?.close().await?;
    let running = ui::bind(
        ctx.paths.clone(),
        ctx.config.clone(),
        ui::Options {
            port: args.port,
            read_only: args.read_only,
            idle: Duration::from_secs(args.idle_minutes.max(1) * 60),
        },
    )
    .await?;
    out(&running.url)?;
    note(format!(
        "msp console on {} (Ctrl-C stops it; it stops by itself after {} min without a request){}",
        running.addr,
        args.idle_minutes.max(1),
        if args.read_only { ", read-only" } else { "" }
    ));
    if !args.no_open
        && let Err(e) = open_browser(&running.url)
    {
        note(format!(
            "could not open a browser ({e}); open the URL above"
        ));
    }
    running.serve().await?;
    Ok(super::ExitStatus::Success)
}

/// Opens `url` in the desktop's browser, without waiting for it.
fn open_browser(url: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("rundll32");
        c.args(["url.dll,FileProtocolHandler", url]);
        c
    } else if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(url);
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(url);
        c
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
}
