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
    let home = crate::config::home_dir().ok_or_else(|| {
        Error::Config("no home directory".into()).with_hint("pass --claude-settings PATH")
    })?;
    Ok(home.join(".claude").join("settings.json"))
}

/// The command Claude Code runs for the hook `binary` in `bin_dir`.
///
/// Claude Code runs a hook command through `sh -c` on Linux and macOS, and on
/// Windows through Git Bash (`bash -c`), or PowerShell or `cmd.exe` where Git
/// Bash is missing (older releases). One spelling works in all of them: the
/// full path with forward slashes (`C:/Users/ana/.cargo/bin/msp-recall.exe`;
/// bash would eat unquoted backslashes), bare when it holds only plain
/// characters, else in double quotes (a PowerShell fallback would then read
/// a string, not a command: keep the install path free of spaces there).
pub fn hook_command(bin_dir: &Path, binary: &str) -> String {
    let path = bin_dir.join(format!("{binary}{}", std::env::consts::EXE_SUFFIX));
    command_for(&path.to_string_lossy(), cfg!(windows))
}

fn command_for(path: &str, windows: bool) -> String {
    let path = if windows {
        // `\\?\C:\x` (a verbatim path) and `\\?\UNC\host\share` as plain paths.
        let plain = if let Some(unc) = path.strip_prefix(r"\\?\UNC\") {
            format!(r"\\{unc}")
        } else {
            path.strip_prefix(r"\\?\").unwrap_or(path).to_string()
        };
        plain.replace('\\', "/")
    } else {
        path.to_string()
    };
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@~".contains(c));
    if plain {
        return path;
    }
    let mut quoted = String::with_capacity(path.len() + 2);
    quoted.push('"');
    for c in path.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// The program a hook command starts: its first word, or the text of a
/// leading double-quoted string.
fn program_of(command: &str) -> &str {
    let command = command.trim_start();
    match command.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => command.split_whitespace().next().unwrap_or(""),
    }
}

fn is_ours(command: &str, binary: &str) -> bool {
    let program = program_of(command);
    // Either separator: a settings file written on Windows may be read here.
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    name == binary || name.eq_ignore_ascii_case(&format!("{binary}.exe"))
}

fn read(path: &Path) -> Result<Option<Map<String, Value>>> {
    let path = &target_of(path)?;
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
            "{} is not a valid JSON object; it was left untouched",
            path.display()
        ))
        .with_hint("fix the file (or move it away) and run `msp setup` again")),
    }
}

/// The file a settings path stands for: a symlink (dotfiles managers link
/// `settings.json` into a repository) is followed to its target, even a
/// dangling one, so writing replaces the target and keeps the link.
fn target_of(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    // As many hops as the kernel allows (ELOOP past that).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)
                    .map_err(|e| Error::io(format!("cannot read the link {}", p.display()), e))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::Conflict(format!(
        "{} is a loop of symbolic links; it was left untouched",
        path.display()
    ))
    .with_hint("point the link at a file and run `msp setup` again"))
}

/// Writes via a temp file in the target's directory, synced, then renamed
/// over the target (through a symlink: the link stays); keeps the previous
/// file as `.msp-backup` and its mode (a new file is owner-only).
fn write(path: &Path, settings: &Map<String, Value>) -> Result<()> {
    let target = target_of(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let existing = std::fs::metadata(&target).ok();
    if existing.is_some() {
        let backup = target.with_extension("json.msp-backup");
        std::fs::copy(&target, &backup)
            .map_err(|e| Error::io(format!("cannot back up {}", target.display()), e))?;
    }
    let mut text =
        serde_json::to_string_pretty(settings).map_err(|e| Error::Other(e.to_string()))?;
    text.push('\n');
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "settings.json".into());
    let tmp = dir.join(format!(".{name}.msp-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mode = existing
                .as_ref()
                .map_or(0o600, |m| m.permissions().mode() & 0o7777);
            opts.mode(mode);
            let mut f = opts.open(&tmp)?;
            // The umask may have narrowed `mode`: set it exactly.
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        }
        #[cfg(not(unix))]
        {
            let mut f = opts.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        }
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(format!("cannot write {}", tmp.display()), e));
    }
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot replace {}", target.display()), e)
    })
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
            "\"hooks\" in {} is not an object; it was left untouched",
            path.display()
        ))
        .with_hint("fix the file and run `msp setup` again"));
    };
    for &(event, binary) in HOOK_EVENTS {
        let command = hook_command(bin_dir, binary);
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
            hook_command(bin, "msp-recall")
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
    fn hook_commands_read_the_same_in_sh_git_bash_and_cmd() {
        assert_eq!(
            command_for("/opt/msp/bin/msp-recall", false),
            "/opt/msp/bin/msp-recall"
        );
        assert_eq!(
            command_for("/home/ana/my tools/msp-save", false),
            r#""/home/ana/my tools/msp-save""#
        );
        assert_eq!(
            command_for(r"C:\Users\ana\.cargo\bin\msp-recall.exe", true),
            "C:/Users/ana/.cargo/bin/msp-recall.exe"
        );
        assert_eq!(
            command_for(r"C:\Users\Ana Lima\bin\msp-save.exe", true),
            r#""C:/Users/Ana Lima/bin/msp-save.exe""#
        );
        assert_eq!(
            command_for(r"\\?\C:\msp\msp-save.exe", true),
            "C:/msp/msp-save.exe"
        );
        assert_eq!(
            command_for(r"\\?\UNC\nas\tools\msp-save.exe", true),
            "//nas/tools/msp-save.exe"
        );
        assert_eq!(command_for("/a/$HOME`x`", false), r#""/a/\$HOME\`x\`""#);
    }

    #[test]
    fn commands_written_on_any_platform_are_recognised_as_ours() {
        for cmd in [
            "/opt/msp/bin/msp-recall",
            r#""/home/ana/my tools/msp-recall""#,
            "C:/Users/ana/.cargo/bin/msp-recall.exe",
            r#""C:/Users/Ana Lima/bin/MSP-RECALL.EXE""#,
            r"C:\Users\ana\bin\msp-recall.exe --quiet",
        ] {
            assert!(is_ours(cmd, "msp-recall"), "{cmd}");
            assert!(!is_ours(cmd, "msp-save"), "{cmd}");
        }
        assert!(!is_ours("/usr/bin/notify-send done", "msp-recall"));
        assert!(!is_ours(r#""/x/msp-recall-old""#, "msp-recall"));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_settings_file_is_written_through_to_its_target_keeping_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dotfiles = dir.path().join("dotfiles");
        std::fs::create_dir(&dotfiles).unwrap();
        let target = dotfiles.join("claude-settings.json");
        std::fs::write(&target, EXISTING).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let claude = dir.path().join(".claude");
        std::fs::create_dir(&claude).unwrap();
        let link = claude.join("settings.json");
        // A relative link, as dotfiles managers make them.
        std::os::unix::fs::symlink("../dotfiles/claude-settings.json", &link).unwrap();
        install(&link, Path::new("/opt/msp/bin")).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
        assert_eq!(v["model"], "opus");
        assert!(v["hooks"]["SessionStart"].is_array());
        assert_eq!(crate::files::testing::mode(&target), 0o640);
        assert!(dotfiles.join("claude-settings.json.msp-backup").exists());
        // No temp file is left in either directory.
        for d in [&dotfiles, &claude] {
            for e in std::fs::read_dir(d).unwrap() {
                let name = e.unwrap().file_name().into_string().unwrap();
                assert!(
                    !name.contains(".msp-") || name.ends_with(".msp-backup"),
                    "{name}"
                );
            }
        }
        uninstall(&link).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // A dangling link gets its target created, owner-only.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dotfiles.join("new.json"), &dangling).unwrap();
        install(&dangling, Path::new("/opt/msp/bin")).unwrap();
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        crate::files::testing::assert_owner_only(&dotfiles.join("new.json"));
        // A loop is refused with a hint.
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.json");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(install(&a, Path::new("/x")).unwrap_err().hint().is_some());
    }

    #[test]
    fn numbers_in_the_settings_are_kept_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let numbers = r#"{"big": 12345678901234567890123, "neg": -98765432109876543210, "f": 1.10, "e": 1e3, "small": 0.1}"#;
        std::fs::write(&path, numbers).unwrap();
        install(&path, Path::new("/opt/msp/bin")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for literal in [
            "12345678901234567890123",
            "-98765432109876543210",
            "1.10",
            "0.1",
        ] {
            assert!(
                text.contains(&format!(": {literal}")),
                "{literal} in {text}"
            );
        }
        // The same number, its exponent written with a sign.
        assert!(text.contains("\"e\": 1e+3"), "{text}");
        uninstall(&path).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("12345678901234567890123")
        );
    }

    #[test]
    fn invalid_json_is_reported_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = install(&path, Path::new("/x")).unwrap_err();
        assert!(err.hint().is_some(), "{err}");
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
            hook_command(Path::new("/new/bin"), "msp-save")
        );
        assert!(installed(&path).unwrap().iter().all(|(_, c)| c.is_some()));
    }
}
