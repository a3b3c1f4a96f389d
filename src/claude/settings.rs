//! Installing the hooks into Claude Code's `settings.json`: merged into what
//! is there, never duplicated, written atomically with a backup, and removed
//! exactly by `msp setup --uninstall`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// (event, binary) pairs msp installs.
pub const HOOK_EVENTS: &[(&str, &str)] = &[
    ("SessionStart", "msp-recall"),
    ("UserPromptSubmit", "msp-recall"),
    ("Stop", "msp-save"),
    ("PreCompact", "msp-save"),
    ("SessionEnd", "msp-save"),
];

/// Seconds Claude Code gives each hook before it moves on without it.
pub const HOOK_TIMEOUT_SECS: u64 = 5;

/// `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`.
pub fn user_settings_path() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("settings.json"));
    }
    let home = dirs::home_dir().ok_or_else(|| {
        Error::Config("no home directory\nhint: pass --claude-settings PATH".into())
    })?;
    Ok(home.join(".claude").join("settings.json"))
}

fn is_ours(command: &str, binary: &str) -> bool {
    let first = command
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches('"');
    Path::new(first)
        .file_name()
        .is_some_and(|n| n == binary || n == format!("{binary}.exe").as_str())
}

fn read(path: &Path) -> Result<Option<Map<String, Value>>> {
    let text = match crate::files::read_string_capped(path, 16 << 20) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) | Err(_) => Err(Error::Conflict(format!(
            "{} is not a valid JSON object; it was left untouched\nhint: fix the file (or move it away) and run `msp setup` again",
            path.display()
        ))),
    }
}

/// Writes via a temp file and rename; keeps the previous file as `.msp-backup`.
fn write(path: &Path, settings: &Map<String, Value>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    if path.exists() {
        let backup = path.with_extension("json.msp-backup");
        std::fs::copy(path, &backup)
            .map_err(|e| Error::io(format!("cannot back up {}", path.display()), e))?;
    }
    let mut text =
        serde_json::to_string_pretty(settings).map_err(|e| Error::Other(e.to_string()))?;
    text.push('\n');
    let tmp = dir.join(format!(".settings.json.msp-{}", std::process::id()));
    std::fs::write(&tmp, text)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))
}

/// What an install or uninstall changed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Change {
    pub path: PathBuf,
    /// Events whose hook was added (install) or removed (uninstall).
    pub events: Vec<String>,
}

/// Adds each msp hook that is not installed yet. Hooks installed from
/// another location are pointed at `bin_dir`.
pub fn install(path: &Path, bin_dir: &Path) -> Result<Change> {
    let mut settings = read(path)?.unwrap_or_default();
    let mut change = Change {
        path: path.to_owned(),
        events: vec![],
    };
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        return Err(Error::Conflict(format!(
            "\"hooks\" in {} is not an object; it was left untouched\nhint: fix the file and run `msp setup` again",
            path.display()
        )));
    };
    for &(event, binary) in HOOK_EVENTS {
        let command = bin_dir.join(binary).to_string_lossy().into_owned();
        let groups = hooks.entry(event).or_insert_with(|| Value::Array(vec![]));
        let Value::Array(groups) = groups else {
            continue;
        };
        let mut found = false;
        for group in groups.iter_mut() {
            if let Some(Value::Array(list)) = group.get_mut("hooks") {
                for h in list.iter_mut() {
                    let Some(cmd) = h.get("command").and_then(Value::as_str) else {
                        continue;
                    };
                    if is_ours(cmd, binary) {
                        if cmd != command {
                            h["command"] = Value::String(command.clone());
                            change.events.push(event.to_string());
                        }
                        found = true;
                    }
                }
            }
        }
        if !found {
            groups.push(json!({"hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECS}]}));
            change.events.push(event.to_string());
        }
    }
    if !change.events.is_empty() {
        write(path, &settings)?;
    }
    Ok(change)
}

/// Removes every msp hook entry, then any group or event it leaves empty.
pub fn uninstall(path: &Path) -> Result<Change> {
    let mut change = Change {
        path: path.to_owned(),
        events: vec![],
    };
    let Some(mut settings) = read(path)? else {
        return Ok(change);
    };
    let Some(Value::Object(hooks)) = settings.get_mut("hooks") else {
        return Ok(change);
    };
    for &(event, binary) in HOOK_EVENTS {
        let Some(Value::Array(groups)) = hooks.get_mut(event) else {
            continue;
        };
        let before: usize = groups.iter().map(group_len).sum();
        for group in groups.iter_mut() {
            if let Some(Value::Array(list)) = group.get_mut("hooks") {
                list.retain(|h| {
                    !h.get("command")
                        .and_then(Value::as_str)
                        .is_some_and(|c| is_ours(c, binary))
                });
            }
        }
        groups.retain(|g| group_len(g) > 0 || g.get("hooks").is_none());
        if groups.iter().map(group_len).sum::<usize>() < before {
            change.events.push(event.to_string());
        }
        if groups.is_empty() {
            hooks.remove(event);
        }
    }
    if hooks.is_empty() {
        settings.remove("hooks");
    }
    if !change.events.is_empty() {
        write(path, &settings)?;
    }
    Ok(change)
}

fn group_len(g: &Value) -> usize {
    g.get("hooks").and_then(Value::as_array).map_or(0, Vec::len)
}

/// For doctor: each event's installed msp command, if any.
pub fn installed(path: &Path) -> Result<Vec<(String, Option<String>)>> {
    let settings = read(path)?.unwrap_or_default();
    Ok(HOOK_EVENTS
        .iter()
        .map(|&(event, binary)| {
            let cmd = settings
                .get("hooks")
                .and_then(|h| h.get(event))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|g| g.get("hooks").and_then(Value::as_array))
                .flatten()
                .filter_map(|h| h.get("command").and_then(Value::as_str))
                .find(|c| is_ours(c, binary))
                .map(str::to_string);
            (event.to_string(), cmd)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTING: &str = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "/usr/bin/notify-send done"}]}]
  },
  "permissions": {"allow": ["Bash(ls:*)"]}
}"#;

    #[test]
    fn install_merges_and_is_idempotent_and_uninstall_restores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, EXISTING).unwrap();
        let bin = Path::new("/opt/msp/bin");
        let first = install(&path, bin).unwrap();
        assert_eq!(first.events.len(), HOOK_EVENTS.len());
        let after_first = std::fs::read_to_string(&path).unwrap();
        assert!(
            install(&path, bin).unwrap().events.is_empty(),
            "second install changes nothing"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), after_first);
        let v: Value = serde_json::from_str(&after_first).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(
            v["hooks"]["Stop"].as_array().unwrap().len(),
            2,
            "the user's Stop hook stays"
        );
        assert_eq!(
            v["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"],
            "/opt/msp/bin/msp-recall"
        );
        assert_eq!(v["hooks"]["UserPromptSubmit"][0]["hooks"][0]["timeout"], 5);
        assert!(dir.path().join("settings.json.msp-backup").exists());

        let removed = uninstall(&path).unwrap();
        assert_eq!(removed.events.len(), HOOK_EVENTS.len());
        let restored: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let original: Value = serde_json::from_str(EXISTING).unwrap();
        assert_eq!(restored, original);
    }

    #[test]
    fn invalid_json_is_reported_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = install(&path, Path::new("/x")).unwrap_err();
        assert!(err.to_string().contains("hint:"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn moved_binaries_are_repointed_not_duplicated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        install(&path, Path::new("/old/bin")).unwrap();
        let change = install(&path, Path::new("/new/bin")).unwrap();
        assert_eq!(change.events.len(), HOOK_EVENTS.len());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["hooks"]["Stop"][0]["hooks"][0]["command"],
            "/new/bin/msp-save"
        );
        assert!(installed(&path).unwrap().iter().all(|(_, c)| c.is_some()));
    }
}
