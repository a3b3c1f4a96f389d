use serde::Serialize;

use super::{Ctx, out, print_json};
use crate::config::Config;
use crate::error::Result;
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
pub async fn run(ctx: &Ctx) -> Result<i32> {
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
        store.close().await?;
    }

    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.to_path_buf()));
    for hook in ["msp-recall", "msp-save"] {
        let found = exe_dir
            .as_ref()
            .map(|d| d.join(hook))
            .filter(|p| p.is_file());
        checks.push(match found {
            Some(path) => check("hook_binary", Status::Ok, path.display().to_string(), None),
            None => check(
                "hook_binary",
                Status::Fail,
                format!("{hook} is not beside msp"),
                Some("run ./install.sh"),
            ),
        });
    }

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    if ctx.json {
        print_json(&serde_json::json!({"ok": !failed, "checks": checks}))?;
    } else {
        for c in &checks {
            let mark = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            out(format!("{mark}  {:<12} {}", c.name, c.detail))?;
            if let Some(h) = &c.hint {
                out(format!("      {:<12} hint: {h}", ""))?;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn writable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".msp-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}
