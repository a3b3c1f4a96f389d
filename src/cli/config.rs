use clap::Subcommand;

use super::{Ctx, out, print_json, print_table};
use crate::config::Config;
use crate::error::{ExitStatus, Result};

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Every setting with its effective value and environment variable
    Show,
    /// Where msp keeps its config, store and log
    Paths,
    /// Parse config.toml and the MSP_* variables; name the line and column of an error
    Check,
}

pub fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    match cmd {
        Cmd::Show => {
            let mut entries = ctx.config.entries();
            // A sync URL may carry a password: never print it.
            for (k, _, v) in entries.iter_mut() {
                if k == "sync.url" {
                    // The value is TOML-quoted: mask what is inside.
                    *v = match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(inner) => format!("\"{}\"", crate::sync::server::mask_url(inner)),
                        None => crate::sync::server::mask_url(v),
                    };
                }
            }
            if ctx.json {
                let map: serde_json::Map<String, serde_json::Value> = entries
                    .iter()
                    .map(|(k, env, v)| {
                        (
                            k.clone(),
                            serde_json::json!({"value": v.trim_matches('"'), "env": env}),
                        )
                    })
                    .collect();
                print_json(&map)?;
            } else {
                let rows: Vec<Vec<String>> =
                    entries.into_iter().map(|(k, e, v)| vec![k, v, e]).collect();
                print_table(&["SETTING", "VALUE", "ENVIRONMENT"], &rows)?;
            }
        }
        Cmd::Check => {
            let file = ctx.paths.config_file();
            // Loaded again here: `run` lets a broken config through for this.
            Config::load(&ctx.paths)?;
            let exists = file.is_file();
            if ctx.json {
                print_json(&serde_json::json!({"ok": true, "file": file, "exists": exists}))?;
            } else if exists {
                out(format!("ok  {}", file.display()))?;
            } else {
                out(format!("ok  {} does not exist: defaults", file.display()))?;
            }
        }
        Cmd::Paths => {
            let p = &ctx.paths;
            let items = [
                ("config_file", p.config_file()),
                ("data_dir", p.data_dir.clone()),
                ("store", p.db()),
                ("log", p.log()),
            ];
            if ctx.json {
                let map: serde_json::Map<String, serde_json::Value> = items
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.display().to_string().into()))
                    .collect();
                print_json(&map)?;
            } else {
                for (k, v) in items {
                    out(format!("{k:<12} {}", v.display()))?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}
