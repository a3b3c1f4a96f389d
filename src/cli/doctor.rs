use serde::Serialize;

use super::Ctx;
use crate::config::Config;
use crate::error::{ExitStatus, Result};
use crate::machine;
use crate::store::{SCHEMA_VERSION, Store};

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    status: Status,
    detail: String,
    hint: Option<String>,
}

fn check(
    name: &'static str,
    status: Status,
    detail: impl Into<String>,
    hint: Option<&str>,
) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
        hint: hint.map(str::to_string),
    }
}

/// Runs every check; exit 1 when any fails (warnings keep exit 0).
pub async fn run(ctx: &Ctx) -> Result<ExitStatus> {
    let mut checks = Vec::new();
    let p = &ctx.paths;

    checks.push(match Config::load(p) {
        Ok(_) => check(
            "config",
            Status::Ok,
            format!("{} (or defaults)", p.config_file().display()),
            None,
        ),
        Err(e) => check(
            "config",
            Status::Fail,
            e.to_string(),
            Some("fix or move away the config file"),
        ),
    });

    checks.push(match writable_dir(&p.data_dir) {
        Ok(()) => check(
            "data_dir",
            Status::Ok,
            p.data_dir.display().to_string(),
            None,
        ),
        Err(e) => check(
            "data_dir",
            Status::Fail,
            format!("{}: {e}", p.data_dir.display()),
            Some("make it writable, or set MSP_DATA_DIR to a writable directory"),
        ),
    });

    // Reported, then fixed: other accounts on this machine must not read
    // memories, sessions or keys.
    let loose = crate::files::tighten(&p.data_dir, true, true);
    checks.push(if loose.is_empty() {
        check(
            "permissions",
            Status::Ok,
            "the data directory and its files are owner-only",
            None,
        )
    } else {
        let listed: Vec<String> = loose
            .iter()
            .take(5)
            .map(|l| format!("{} ({:o})", l.path.display(), l.mode))
            .collect();
        let more = loose.len().saturating_sub(listed.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let all_fixed = loose.iter().all(|l| l.fixed);
        check(
            "permissions",
            if all_fixed {
                Status::Warn
            } else {
                Status::Fail
            },
            format!(
                "readable by other users: {}{tail}; {}",
                listed.join(", "),
                if all_fixed {
                    "now owner-only (0700/0600)"
                } else {
                    "could not change them all"
                }
            ),
            (!all_fixed).then_some("run `chmod -R go-rwx` on the data directory as its owner"),
        )
    });

    let db_path = p.db();
    let version = if db_path.exists() {
        Store::peek_version(&db_path).await.ok()
    } else {
        None
    };
    checks.push(match version {
        None if !db_path.exists() => check(
            "store",
            Status::Fail,
            format!("no store at {}", db_path.display()),
            Some("run `msp setup`"),
        ),
        None => check(
            "store",
            Status::Fail,
            format!("{} cannot be read", db_path.display()),
            Some("check its permissions; restore it from a backup if it is corrupt"),
        ),
        Some(v) if v == SCHEMA_VERSION => check(
            "store",
            Status::Ok,
            format!("{} (schema {v})", db_path.display()),
            None,
        ),
        Some(v) if v < SCHEMA_VERSION => check(
            "schema",
            Status::Fail,
            format!("schema {v}, this msp needs {SCHEMA_VERSION}"),
            Some("run `msp setup` to migrate"),
        ),
        Some(v) => check(
            "schema",
            Status::Fail,
            format!("schema {v} is newer than this msp ({SCHEMA_VERSION})"),
            Some("install the newer msp (./install.sh)"),
        ),
    });

    if version == Some(SCHEMA_VERSION) {
        let mut store = Store::open(&db_path).await?;
        let registered = match machine::self_id(store.db()).await? {
            Some(id) => machine::resolve(store.db(), &id).await.ok(),
            None => None,
        };
        let detected = machine::detect_identity().await;
        checks.push(match registered {
            Some(m) if m.fingerprint == detected.fingerprint() => check(
                "machine",
                Status::Ok,
                format!("{} registered", m.display_name()),
                None,
            ),
            Some(m) => check(
                "machine",
                Status::Warn,
                format!(
                    "registered as {} but hostname, user or home changed",
                    m.display_name()
                ),
                Some("run `msp machine register`"),
            ),
            None => check(
                "machine",
                Status::Fail,
                "this machine is not registered",
                Some("run `msp machine register`"),
            ),
        });
        checks.push(
            if crate::memory::store::index_is_current(store.db()).await? {
                check(
                    "word_index",
                    Status::Ok,
                    "built with this msp's word rules",
                    None,
                )
            } else {
                check(
                    "word_index",
                    Status::Warn,
                    "built by an older msp: words it now keeps (time, issue, …) are not found",
                    Some("run `msp context reindex`"),
                )
            },
        );
        checks.push(encoder_check(ctx, store.db()).await?);
        if let Some(c) = key_file_check(ctx, store.db()).await? {
            checks.push(c);
        }
        store.close().await?;
    }

    checks.extend(hook_checks());

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    ctx.print(
        &serde_json::json!({"ok": !failed, "checks": checks}),
        |_| {
            let mut lines = Vec::new();
            for c in &checks {
                let mark = match c.status {
                    Status::Ok => "ok  ",
                    Status::Warn => "warn",
                    Status::Fail => "FAIL",
                };
                lines.push(format!("{mark}  {:<12} {}", c.name, c.detail));
                if let Some(h) = &c.hint {
                    lines.push(format!("      {:<12} hint: {h}", ""));
                }
            }
            lines.join("\n")
        },
    )?;
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The vault key file the config points at, when it does: every vault
/// command fails (exit 4) when it does not unlock, and `config check` only
/// reads the setting.
async fn key_file_check(ctx: &Ctx, db: &mut crate::store::Db) -> Result<Option<Check>> {
    let setting = ctx.config.vault.key_file.trim();
    if setting.is_empty() {
        return Ok(None);
    }
    let path = crate::vault::access::expand_home(setting);
    Ok(Some(
        match crate::vault::key_file_unlocks(db, &path).await {
            Ok(true) => check(
                "key_file",
                Status::Ok,
                format!("{} unlocks the vault", path.display()),
                None,
            ),
            Ok(false) => check(
                "key_file",
                Status::Warn,
                format!("{} is set, but this store has no vault", path.display()),
                Some("`msp vault init`, or unset MSP_VAULT_KEY_FILE (vault.key_file)"),
            ),
            Err(e) => check(
                "key_file",
                Status::Fail,
                e.to_string(),
                Some(
                    "`msp vault key-file PATH` writes a new one (it needs the passphrase); then point MSP_VAULT_KEY_FILE (vault.key_file) at it",
                ),
            ),
        },
    ))
}

/// The sentence encoder: installed, and how much of the store it embedded.
async fn encoder_check(ctx: &Ctx, db: &mut crate::store::Db) -> Result<Check> {
    let path = crate::embed::install::model_path(&ctx.paths.data_dir);
    if !path.exists() && ctx.config.memory.model_url.is_empty() {
        return Ok(check(
            "encoder",
            Status::Ok,
            "switched off (memory.model_url is empty): recall matches words only",
            None,
        ));
    }
    if !path.exists() {
        return Ok(check(
            "encoder",
            Status::Warn,
            "not installed: recall matches words only, not meaning",
            Some("run `msp context model install` (about 83 MB down, 24 MB kept)"),
        ));
    }
    let encoder = match crate::embed::Encoder::open(&path) {
        Ok(e) => e,
        Err(e) => {
            return Ok(check(
                "encoder",
                Status::Fail,
                format!("{} cannot be read: {e}", path.display()),
                Some(crate::embed::REINSTALL_HINT),
            ));
        }
    };
    let c = crate::memory::vectors::coverage(db, &encoder.id()).await?;
    let detail = format!("{} of {} memories embedded", c.embedded, c.memories);
    Ok(if c.embedded < c.memories {
        check(
            "encoder",
            Status::Warn,
            detail,
            Some("run `msp context reindex` (or wait: the save hook embeds in the background)"),
        )
    } else {
        check("encoder", Status::Ok, detail, None)
    })
}

fn writable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    crate::files::create_private_dir(dir)?;
    let probe = dir.join(format!(".msp-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

/// The hooks: installed in Claude Code's settings, pointing at executables
/// that exist, and answering a synthetic event with exit 0 and valid output.
fn hook_checks() -> Vec<Check> {
    use crate::claude::settings;
    let mut checks = Vec::new();
    let path = match settings::user_settings_path() {
        Ok(p) => p,
        Err(e) => {
            return vec![check(
                "hooks",
                Status::Fail,
                e.to_string(),
                Some("run `msp setup`"),
            )];
        }
    };
    let installed = match settings::installed(&path) {
        Ok(i) => i,
        Err(e) => return vec![check("hooks", Status::Fail, e.to_string(), None)],
    };
    let missing: Vec<&str> = installed
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(e, _)| e.as_str())
        .collect();
    if missing.is_empty() {
        checks.push(check(
            "hooks",
            Status::Ok,
            format!("installed in {}", path.display()),
            None,
        ));
    } else if missing.len() == installed.len() {
        // None at all: `msp setup --no-hooks` chose so, or setup has not
        // run (the store's check says that). msp works without them.
        checks.push(check(
            "hooks",
            Status::Warn,
            format!(
                "not installed in {}: prompts get no memories and turns are not saved",
                path.display()
            ),
            Some("run `msp setup` to install them"),
        ));
    } else {
        checks.push(check(
            "hooks",
            Status::Fail,
            format!("{} not installed in {}", missing.join(", "), path.display()),
            Some("run `msp setup`"),
        ));
    }
    let mut probed = std::collections::HashSet::new();
    for (event, command) in installed {
        let Some(command) = command else { continue };
        if !probed.insert(command.clone()) {
            continue;
        }
        let exe = std::path::PathBuf::from(command.split_whitespace().next().unwrap_or(""));
        if !exe.is_file() {
            checks.push(check(
                "hook_binary",
                Status::Fail,
                format!("{} does not exist", exe.display()),
                Some("run ./install.sh, then `msp setup`"),
            ));
            continue;
        }
        let probe_event = if event == "UserPromptSubmit" || event == "SessionStart" {
            "UserPromptSubmit"
        } else {
            "Stop"
        };
        checks.push(match probe_hook(&exe, probe_event) {
            Ok(()) => check(
                "hook_binary",
                Status::Ok,
                format!("{} answers {probe_event}", exe.display()),
                None,
            ),
            Err(e) => check(
                "hook_binary",
                Status::Fail,
                format!("{}: {e}", exe.display()),
                Some("reinstall with ./install.sh; `msp config paths` shows the log with details"),
            ),
        });
    }
    checks
}

/// Runs a hook with a synthetic event: it must exit 0 within 5 s and print
/// nothing or one valid hook answer.
fn probe_hook(exe: &std::path::Path, event: &str) -> std::result::Result<(), String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let input = serde_json::json!({
        "session_id": "msp-doctor",
        "hook_event_name": event,
        "prompt": "msp doctor synthetic check",
        "cwd": std::env::temp_dir(),
    });
    let mut child = Command::new(exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.to_string().as_bytes());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            _ => {
                let _ = child.kill();
                return Err("did not answer within 5 s".into());
            }
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("exited with {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.trim().is_empty() {
        let v: serde_json::Value = serde_json::from_str(text.trim())
            .map_err(|_| "printed something that is not JSON".to_string())?;
        if v.get("hookSpecificOutput").is_none() {
            return Err("printed JSON without hookSpecificOutput".into());
        }
    }
    Ok(())
}
