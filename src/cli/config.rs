use clap::Subcommand;

use serde_json::json;

use super::{Ctx, format_table, note, print_json};
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
            // JSON: an object keyed by setting.
            let map: serde_json::Map<String, serde_json::Value> = entries
                .iter()
                .map(|(k, env, v)| (k.clone(), json!({"value": v.trim_matches('"'), "env": env})))
                .collect();
            ctx.print(&map, |_| {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|(k, e, v)| vec![k.clone(), v.clone(), e.clone()])
                    .collect();
                format_table(&["SETTING", "VALUE", "ENVIRONMENT"], &rows)
            })?;
        }
        Cmd::Check => {
            let file = ctx.paths.config_file();
            // Loaded again here: `run` lets a broken config through for this.
            if let Err(e) = Config::load(&ctx.paths) {
                if ctx.json {
                    print_json(
                        &json!({"ok": false, "file": file, "error": e.to_string(), "hint": e.hint()}),
                    )?;
                }
                return Err(e);
            }
            let exists = file.is_file();
            let unknown = Config::unknown_variables(std::env::vars());
            for (var, near) in &unknown {
                note(match near {
                    Some(n) => format!(
                        "warning: {var} is no msp setting, so it is ignored (did you mean {n}?)"
                    ),
                    None => format!(
                        "warning: {var} is no msp setting, so it is ignored (docs/reference/config.md lists them)"
                    ),
                });
            }
            let unknown_names: Vec<&str> = unknown.iter().map(|(v, _)| v.as_str()).collect();
            ctx.print(
                &json!({"ok": true, "file": file, "exists": exists, "unknown_variables": unknown_names}),
                |_| {
                    if exists {
                        format!("ok  {}", file.display())
                    } else {
                        format!("ok  {} does not exist: defaults", file.display())
                    }
                },
            )?;
        }
        Cmd::Paths => {
            let p = &ctx.paths;
            let items = [
                ("config_file", p.config_file()),
                ("data_dir", p.data_dir.clone()),
                ("store", p.db()),
                ("log", p.log()),
            ];
            let map: serde_json::Map<String, serde_json::Value> = items
                .iter()
                .map(|(k, v)| (k.to_string(), v.display().to_string().into()))
                .collect();
            ctx.print(&map, |_| {
                let lines: Vec<String> = items
                    .iter()
                    .map(|(k, v)| format!("{k:<12} {}", v.display()))
                    .collect();
                lines.join("\n")
            })?;
        }
    }
    Ok(ExitStatus::Success)
}
