//! This machine: detection, fingerprint, and the `machines` table.
//!
//! Detection spawns a few `--version` probes, each bounded by a short
//! timeout, so it runs in `msp machine register` / `msp setup`, never on the
//! hook path. The hooks read the registered id from the store instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{self, Db};
use crate::time::{Millis, now_ms};

const SELF_KEY: &str = "machine_id";
/// This machine's own, never synced, record that its agent commands need
/// approval (see [`approval_required`]).
const APPROVAL_KEY: &str = "agent_approval_required";
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Tools whose versions are recorded: (name, executable, args).
const PROBES: &[(&str, &str, &[&str])] = &[
    ("git", "git", &["--version"]),
    ("docker", "docker", &["--version"]),
    // python.org's Windows installer names it `python` (no `python3`).
    #[cfg(windows)]
    ("python3", "python", &["--version"]),
    #[cfg(not(windows))]
    ("python3", "python3", &["--version"]),
    ("node", "node", &["--version"]),
    ("pwsh", "pwsh", &["--version"]),
    // Windows PowerShell 5.1, on every Windows beside (or without) pwsh.
    #[cfg(windows)]
    (
        "powershell",
        "powershell",
        &[
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            "$PSVersionTable.PSVersion.ToString()",
        ],
    ),
    ("cargo", "cargo", &["--version"]),
    ("claude", "claude", &["--version"]),
];

/// What detection found about the machine it runs on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detected {
    pub hostname: String,
    pub username: String,
    pub platform: String,
    pub os_version: Option<String>,
    pub home_directory: String,
    pub preferred_shell: Option<String>,
    pub tools: BTreeMap<String, String>,
    pub mcp_servers: Vec<String>,
    pub skills: Vec<String>,
}

impl Detected {
    /// hex(SHA-256("hostname|username|platform|home_directory")).
    pub fn fingerprint(&self) -> String {
        fingerprint(
            &self.hostname,
            &self.username,
            &self.platform,
            &self.home_directory,
        )
    }
}

pub fn fingerprint(hostname: &str, username: &str, platform: &str, home: &str) -> String {
    hex::encode(Sha256::digest(format!(
        "{hostname}|{username}|{platform}|{home}"
    )))
}

/// `linux`, `darwin` or `win32`, as Node and Claude Code name them.
pub fn platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

/// Only what the fingerprint needs (no probes): cheap enough for doctor.
pub async fn detect_identity() -> Detected {
    let home = crate::config::home_dir().unwrap_or_default();
    Detected {
        hostname: hostname().await,
        username: username(),
        platform: platform().to_string(),
        os_version: None,
        home_directory: home.to_string_lossy().into_owned(),
        preferred_shell: None,
        tools: BTreeMap::new(),
        mcp_servers: vec![],
        skills: vec![],
    }
}

/// Detects everything about this machine. Tool probes run concurrently.
pub async fn detect() -> Detected {
    let home = crate::config::home_dir().unwrap_or_default();
    // Probes run concurrently, each bounded by PROBE_TIMEOUT.
    let mut probes = tokio::task::JoinSet::new();
    for &(name, exe, args) in PROBES {
        probes.spawn(async move {
            probe_version(exe, args)
                .await
                .map(|v| (name.to_string(), v))
        });
    }
    let (tools, hostname, os_version) = tokio::join!(probes.join_all(), hostname(), os_version());
    let (mcp_servers, skills) = claude_inventory(&home);
    Detected {
        hostname,
        username: username(),
        platform: platform().to_string(),
        os_version,
        home_directory: home.to_string_lossy().into_owned(),
        preferred_shell: preferred_shell(),
        tools: tools.into_iter().flatten().collect(),
        mcp_servers,
        skills,
    }
}

async fn probe_version(exe: &str, args: &[&str]) -> Option<String> {
    let child = tokio::process::Command::new(exe)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let out = tokio::time::timeout(PROBE_TIMEOUT, child.wait_with_output())
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    extract_version(&String::from_utf8_lossy(&text))
}

/// `git version 2.47.3` -> `2.47.3`; `v20.20.2` -> `20.20.2`.
fn extract_version(text: &str) -> Option<String> {
    let first = text.lines().next()?.trim();
    first
        .split_whitespace()
        .map(|w| w.trim_start_matches('v').trim_end_matches(','))
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
        .map(str::to_string)
        .or_else(|| (!first.is_empty()).then(|| first.to_string()))
}

async fn hostname() -> String {
    for file in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(file) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    // Windows: COMPUTERNAME first; Git Bash, which runs Claude Code's hooks
    // there, may export its own HOSTNAME.
    let vars = if cfg!(windows) {
        ["COMPUTERNAME", "HOSTNAME"]
    } else {
        ["HOSTNAME", "COMPUTERNAME"]
    };
    for var in vars {
        if let Ok(s) = std::env::var(var)
            && !s.trim().is_empty()
        {
            return s.trim().to_string();
        }
    }
    let out = tokio::process::Command::new("hostname").output().await;
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => "unknown-host".to_string(),
    }
}

/// The OS user running this process (USER, USERNAME, LOGNAME, /etc/passwd,
/// HOME; on Windows USERNAME first, as Git Bash may export a USER of its own).
pub fn username() -> String {
    let vars = if cfg!(windows) {
        ["USERNAME", "USER", "LOGNAME"]
    } else {
        ["USER", "USERNAME", "LOGNAME"]
    };
    vars.iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(passwd_name)
        .or_else(|| {
            crate::config::home_dir()
                .and_then(|h| h.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The login name of this process's uid from /etc/passwd (no spawn, no libc).
#[cfg(unix)]
fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    })
}

#[cfg(not(unix))]
fn passwd_name() -> Option<String> {
    None
}

async fn os_version() -> Option<String> {
    match platform() {
        "linux" => std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|s| parse_os_release(&s))
            .or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/osrelease")
                    .ok()
                    .map(|k| format!("Linux {}", k.trim()))
            }),
        "darwin" => probe_version("sw_vers", &["-productVersion"])
            .await
            .map(|v| format!("macOS {v}")),
        "win32" => windows_version(),
        _ => None,
    }
}

/// `Windows 11 Pro 23H2 (build 22631.4037)`, from the registry (no spawn).
#[cfg(windows)]
fn windows_version() -> Option<String> {
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        HKEY_LOCAL_MACHINE, RRF_RT_REG_DWORD, RRF_RT_REG_SZ, RegGetValueW,
    };
    const KEY: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion";
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let key = wide(KEY);
    let text = |name: &str| -> Option<String> {
        let mut buf = [0u16; 256];
        let mut len = (buf.len() * 2) as u32;
        let name = wide(name);
        // SAFETY: NUL-terminated names, a buffer of `len` bytes.
        let code = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                name.as_ptr(),
                RRF_RT_REG_SZ,
                std::ptr::null_mut(),
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        (code == ERROR_SUCCESS).then(|| {
            let n = (len as usize / 2).min(buf.len());
            let s = String::from_utf16_lossy(&buf[..n]);
            s.trim_end_matches('\0').trim().to_string()
        })
    };
    let number = |name: &str| -> Option<u32> {
        let mut v = 0u32;
        let mut len = 4u32;
        let name = wide(name);
        // SAFETY: NUL-terminated names, a DWORD out-parameter.
        let code = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                name.as_ptr(),
                RRF_RT_REG_DWORD,
                std::ptr::null_mut(),
                (&mut v as *mut u32).cast(),
                &mut len,
            )
        };
        (code == ERROR_SUCCESS).then_some(v)
    };
    describe_windows(
        text("ProductName").as_deref(),
        text("DisplayVersion")
            .or_else(|| text("ReleaseId"))
            .as_deref(),
        text("CurrentBuildNumber")
            .or_else(|| text("CurrentBuild"))
            .as_deref(),
        number("UBR"),
    )
}

#[cfg(not(windows))]
fn windows_version() -> Option<String> {
    None
}

/// The registry's fields as one line. `ProductName` still says "Windows 10"
/// on Windows 11 (build 22000 and later).
#[cfg_attr(not(windows), allow(dead_code))]
fn describe_windows(
    product: Option<&str>,
    display: Option<&str>,
    build: Option<&str>,
    ubr: Option<u32>,
) -> Option<String> {
    let build_no: Option<u32> = build.and_then(|b| b.trim().parse().ok());
    let mut name = product.unwrap_or("Windows").trim().to_string();
    if build_no.is_some_and(|b| b >= 22000) && name.starts_with("Windows 10") {
        name = name.replacen("Windows 10", "Windows 11", 1);
    }
    if !name.contains("Windows") {
        name = format!("Windows {name}");
    }
    if let Some(d) = display.filter(|d| !d.is_empty()) {
        name = format!("{name} {d}");
    }
    if let Some(b) = build.filter(|b| !b.is_empty()) {
        name = match ubr {
            Some(u) => format!("{name} (build {b}.{u})"),
            None => format!("{name} (build {b})"),
        };
    }
    (product.is_some() || build.is_some()).then_some(name)
}

/// `PRETTY_NAME`, else `NAME VERSION_ID`.
fn parse_os_release(text: &str) -> Option<String> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            fields.insert(k.trim(), v.trim().trim_matches('"'));
        }
    }
    if let Some(p) = fields.get("PRETTY_NAME").filter(|p| !p.is_empty()) {
        return Some(p.to_string());
    }
    let name = fields.get("NAME")?;
    Some(match fields.get("VERSION_ID") {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    })
}

fn preferred_shell() -> Option<String> {
    if let Ok(shell) = std::env::var("SHELL")
        && let Some(name) = Path::new(&shell).file_name()
    {
        return Some(name.to_string_lossy().into_owned());
    }
    (platform() == "win32").then(|| "pwsh".to_string())
}

/// MCP server names from `~/.claude.json` and `~/.claude/settings.json`, and
/// skill names from `~/.claude/skills/*/`.
fn claude_inventory(home: &Path) -> (Vec<String>, Vec<String>) {
    let mut servers = std::collections::BTreeSet::new();
    for file in [
        home.join(".claude.json"),
        home.join(".claude").join("settings.json"),
    ] {
        // `.claude.json` holds Claude Code's history too: large, but bounded.
        let Ok(text) = crate::files::read_string_capped(&file, 256 << 20) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(map) = json.get("mcpServers").and_then(|m| m.as_object()) {
            servers.extend(map.keys().cloned());
        }
        if let Some(projects) = json.get("projects").and_then(|p| p.as_object()) {
            for p in projects.values() {
                if let Some(map) = p.get("mcpServers").and_then(|m| m.as_object()) {
                    servers.extend(map.keys().cloned());
                }
            }
        }
    }
    let mut skills: Vec<String> = std::fs::read_dir(home.join(".claude").join("skills"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    skills.sort();
    (servers.into_iter().collect(), skills)
}

/// A row of `machines`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Machine {
    pub id: String,
    pub fingerprint: String,
    pub hostname: String,
    pub friendly_name: Option<String>,
    pub machine_type: Option<String>,
    pub platform: String,
    pub os_version: Option<String>,
    pub username: String,
    pub home_directory: String,
    pub preferred_shell: Option<String>,
    #[serde(skip)]
    pub tools: String,
    #[serde(skip)]
    pub mcp_servers: String,
    #[serde(skip)]
    pub skills: String,
    pub notes: Option<String>,
    pub approval_required: bool,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub created_at: Millis,
    #[serde(serialize_with = "crate::time::ser_rfc3339")]
    pub last_seen_at: Millis,
}

/// The JSON shape of a machine (stable field names).
#[derive(Debug, Serialize)]
pub struct MachineView<'a> {
    #[serde(flatten)]
    pub machine: &'a Machine,
    pub tools: serde_json::Value,
    pub mcp_servers: serde_json::Value,
    pub skills: serde_json::Value,
    pub is_self: bool,
}

impl Machine {
    pub fn view(&self, self_id: Option<&str>) -> MachineView<'_> {
        MachineView {
            machine: self,
            tools: serde_json::from_str(&self.tools).unwrap_or_default(),
            mcp_servers: serde_json::from_str(&self.mcp_servers).unwrap_or_default(),
            skills: serde_json::from_str(&self.skills).unwrap_or_default(),
            is_self: self_id == Some(self.id.as_str()),
        }
    }

    /// The name to show: the friendly name, else the hostname.
    pub fn display_name(&self) -> &str {
        self.friendly_name.as_deref().unwrap_or(&self.hostname)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    Created,
    Updated,
}

/// Inserts or refreshes this machine's row (matched by fingerprint) and
/// remembers its id as "self".
pub async fn register(db: &mut Db, d: &Detected) -> Result<(Machine, Registration)> {
    let now = now_ms();
    let fp = d.fingerprint();
    let tools = serde_json::to_string(&d.tools).unwrap_or_else(|_| "{}".into());
    let mcp = serde_json::to_string(&d.mcp_servers).unwrap_or_else(|_| "[]".into());
    let skills = serde_json::to_string(&d.skills).unwrap_or_else(|_| "[]".into());
    let mut tx = store::begin_write(db).await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM machines WHERE fingerprint = ?")
            .bind(&fp)
            .fetch_optional(&mut *tx)
            .await?;
    let (id, outcome) = match existing {
        Some(id) => (id, Registration::Updated),
        None => (crate::ids::new_id(), Registration::Created),
    };
    // One statement for both: a known fingerprint keeps its id, name, type,
    // notes and creation time; what detection sees is refreshed.
    sqlx::query(
        "INSERT INTO machines (id, fingerprint, hostname, platform, os_version, username, home_directory,
         preferred_shell, tools, mcp_servers, skills, created_at, updated_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?12)
         ON CONFLICT(fingerprint) DO UPDATE SET hostname = excluded.hostname, platform = excluded.platform,
         os_version = excluded.os_version, username = excluded.username, home_directory = excluded.home_directory,
         preferred_shell = excluded.preferred_shell, tools = excluded.tools, mcp_servers = excluded.mcp_servers,
         skills = excluded.skills, updated_at = excluded.updated_at, last_seen_at = excluded.last_seen_at",
    )
    .bind(&id)
    .bind(&fp)
    .bind(&d.hostname)
    .bind(&d.platform)
    .bind(&d.os_version)
    .bind(&d.username)
    .bind(&d.home_directory)
    .bind(&d.preferred_shell)
    .bind(&tools)
    .bind(&mcp)
    .bind(&skills)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO local_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(SELF_KEY)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((get_by_id(db, &id).await?, outcome))
}

/// The id this store knows as "this machine", if it was registered.
pub async fn self_id(db: &mut Db) -> Result<Option<String>> {
    store::get_state(db, SELF_KEY).await
}

/// This machine's id, or an error that says how to register it.
pub async fn require_self(db: &mut Db) -> Result<String> {
    self_id(db).await?.ok_or_else(|| {
        Error::Conflict("this machine is not registered".into())
            .with_hint("run `msp machine register` (or ./install.sh)")
    })
}

async fn get_by_id(db: &mut Db, id: &str) -> Result<Machine> {
    sqlx::query_as("SELECT * FROM machines WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("machine", id, "run `msp machine list`"))
}

/// `self`, an id, a friendly name or a hostname (case-insensitive).
pub async fn resolve(db: &mut Db, key: &str) -> Result<Machine> {
    if key == "self" {
        let id = require_self(db).await?;
        return get_by_id(db, &id).await;
    }
    let rows: Vec<Machine> = sqlx::query_as(
        "SELECT * FROM machines WHERE id = ?1 OR friendly_name = ?1 COLLATE NOCASE OR hostname = ?1 COLLATE NOCASE
         ORDER BY (id = ?1) DESC, (friendly_name = ?1 COLLATE NOCASE) DESC, last_seen_at DESC",
    )
    .bind(key)
    .fetch_all(&mut *db)
    .await?;
    let mut rows = rows.into_iter();
    match (rows.next(), rows.next()) {
        (None, _) => Err(crate::suggest::not_found(
            db,
            "machine",
            key,
            "SELECT friendly_name FROM machines WHERE friendly_name IS NOT NULL
             UNION ALL SELECT hostname FROM machines",
            "run `msp machine list` to see registered machines",
        )
        .await),
        (Some(m), None) => Ok(m),
        (Some(m), Some(other))
            if m.id == key
                || m.friendly_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(key))
                    && other
                        .friendly_name
                        .as_deref()
                        .is_none_or(|n| !n.eq_ignore_ascii_case(key)) =>
        {
            Ok(m)
        }
        (Some(_), Some(_)) => Err(
            Error::usage(format!("more than one machine is called {key:?}"))
                .with_hint("use the machine id from `msp machine list`"),
        ),
    }
}

pub async fn list(db: &mut Db) -> Result<Vec<Machine>> {
    Ok(
        sqlx::query_as("SELECT * FROM machines ORDER BY last_seen_at DESC")
            .fetch_all(db)
            .await?,
    )
}

/// Changes to a machine's descriptive fields; `None` leaves a field as is,
/// an empty name or notes clears them (as `msp client update --notes ""`).
#[derive(Debug, Default)]
pub struct MachineUpdate {
    pub friendly_name: Option<String>,
    pub machine_type: Option<String>,
    pub notes: Option<String>,
    pub approval_required: Option<bool>,
}

pub async fn update(db: &mut Db, key: &str, up: MachineUpdate) -> Result<Machine> {
    let m = resolve(db, key).await?;
    let is_self = self_id(db).await?.as_deref() == Some(m.id.as_str());
    if up.approval_required == Some(false) && !is_self {
        return Err(Error::Locked(format!(
            "approval for {}'s agent commands can only be turned off on that machine",
            m.display_name()
        ))
        .with_hint(format!(
            "run `msp machine update self --no-approval-required` on {}",
            m.display_name()
        )));
    }
    let mut tx = store::begin_write(db).await?;
    if is_self && let Some(required) = up.approval_required {
        store::set_state(&mut tx, APPROVAL_KEY, if required { "1" } else { "0" }).await?;
    }
    sqlx::query(
        "UPDATE machines SET friendly_name = CASE WHEN ?1 IS NULL THEN friendly_name ELSE NULLIF(trim(?1), '') END,
         machine_type = COALESCE(?2, machine_type),
         notes = CASE WHEN ?3 IS NULL THEN notes ELSE NULLIF(?3, '') END,
         approval_required = COALESCE(?4, approval_required), updated_at = ?5 WHERE id = ?6",
    )
    .bind(up.friendly_name)
    .bind(up.machine_type)
    .bind(up.notes)
    .bind(up.approval_required)
    .bind(now_ms())
    .bind(&m.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get_by_id(db, &m.id).await
}

/// Whether this machine's agent commands need approval: set here
/// (`msp machine update self --approval-required`), or on this machine's
/// synced row by any machine of the team. The synced row alone never
/// lowers it: a row written elsewhere (another machine's
/// `--no-approval-required`, or its rename from a copy older than the
/// setting) does not turn approval off; only this machine does. Either
/// source saying "required" is remembered here, and a synced row that lost
/// the setting gets it back. Call inside a write transaction.
pub async fn approval_required(db: &mut Db, self_id: &str) -> Result<bool> {
    let local = store::get_state(db, APPROVAL_KEY).await?.as_deref() == Some("1");
    let synced = get_by_id(db, self_id).await?.approval_required;
    if synced && !local {
        store::set_state(db, APPROVAL_KEY, "1").await?;
    }
    if local && !synced {
        sqlx::query("UPDATE machines SET approval_required = 1, updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(self_id)
            .execute(&mut *db)
            .await?;
    }
    Ok(local || synced)
}

/// Machines for the tests of other modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A machine as detection would find it on host `host`.
    pub(crate) fn detected(host: &str) -> Detected {
        Detected {
            hostname: host.into(),
            username: "tech".into(),
            platform: "linux".into(),
            os_version: None,
            home_directory: format!("/home/{host}"),
            preferred_shell: None,
            tools: BTreeMap::new(),
            mcp_servers: vec![],
            skills: vec![],
        }
    }

    /// Registers machine `host` in the store; its id.
    pub(crate) async fn register_host(db: &mut Db, host: &str) -> String {
        register(db, &detected(host)).await.unwrap().0.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn sample(host: &str) -> Detected {
        Detected {
            hostname: host.into(),
            username: "tech".into(),
            platform: "linux".into(),
            os_version: Some("Debian GNU/Linux 12 (bookworm)".into()),
            home_directory: "/home/tech".into(),
            preferred_shell: Some("bash".into()),
            tools: BTreeMap::from([("git".into(), "2.47.3".into())]),
            mcp_servers: vec![],
            skills: vec![],
        }
    }

    #[test]
    fn fingerprint_is_sha256_of_the_documented_fields() {
        // echo -n "host|tech|linux|/home/tech" | sha256sum
        assert_eq!(
            fingerprint("host", "tech", "linux", "/home/tech"),
            hex::encode(Sha256::digest(b"host|tech|linux|/home/tech"))
        );
        assert_eq!(sample("host").fingerprint().len(), 64);
    }

    #[test]
    fn os_release_pretty_name_wins() {
        let text = "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            parse_os_release("NAME=Alpine\nVERSION_ID=3.20\n").as_deref(),
            Some("Alpine 3.20")
        );
    }

    #[test]
    fn windows_registry_fields_make_one_line() {
        assert_eq!(
            describe_windows(
                Some("Windows 10 Pro"),
                Some("23H2"),
                Some("22631"),
                Some(4037)
            )
            .as_deref(),
            Some("Windows 11 Pro 23H2 (build 22631.4037)"),
            "build 22000 and later is Windows 11 whatever ProductName says"
        );
        assert_eq!(
            describe_windows(Some("Windows 10 Enterprise"), None, Some("19045"), None).as_deref(),
            Some("Windows 10 Enterprise (build 19045)")
        );
        assert_eq!(
            describe_windows(Some("Microsoft Windows XP"), None, Some("2600"), None).as_deref(),
            Some("Microsoft Windows XP (build 2600)")
        );
        assert_eq!(describe_windows(None, None, None, None), None);
    }

    #[test]
    fn versions_are_extracted_from_probe_output() {
        assert_eq!(
            extract_version("git version 2.47.3\n").as_deref(),
            Some("2.47.3")
        );
        assert_eq!(extract_version("v20.20.2").as_deref(), Some("20.20.2"));
        assert_eq!(extract_version("Python 3.11.7").as_deref(), Some("3.11.7"));
        assert_eq!(
            extract_version("Docker version 28.2.2, build e6534b4").as_deref(),
            Some("28.2.2")
        );
    }

    #[tokio::test]
    async fn register_twice_updates_the_same_row() {
        let (_d, mut store) = temp_store().await;
        let (m1, o1) = register(store.db(), &sample("box1")).await.unwrap();
        let (m2, o2) = register(store.db(), &sample("box1")).await.unwrap();
        assert_eq!((o1, o2), (Registration::Created, Registration::Updated));
        assert_eq!(m1.id, m2.id);
        assert_eq!(list(store.db()).await.unwrap().len(), 1);
        assert_eq!(self_id(store.db()).await.unwrap(), Some(m1.id));
    }

    #[tokio::test]
    async fn resolve_by_self_hostname_and_friendly_name() {
        let (_d, mut store) = temp_store().await;
        let (m, _) = register(store.db(), &sample("box1")).await.unwrap();
        update(
            store.db(),
            "self",
            MachineUpdate {
                friendly_name: Some("Main Laptop".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(resolve(store.db(), "BOX1").await.unwrap().id, m.id);
        assert_eq!(resolve(store.db(), "main laptop").await.unwrap().id, m.id);
        assert!(matches!(
            resolve(store.db(), "nope").await.map_err(Error::into_kind),
            Err(Error::NotFound(_))
        ));
    }
}
