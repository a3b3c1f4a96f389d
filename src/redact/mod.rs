//! Secret redaction for every text msp stores.
//!
//! Memories are distilled from Claude Code transcripts, and transcripts are
//! full of shell output, config files and pasted credentials. Nothing may be
//! stored before it went through [`Redactor::redact`], which replaces every
//! secret it recognises with a typed placeholder such as
//! `[REDACTED:github-token]` while keeping the non-secret context
//! (`password=[REDACTED:password]`,
//! `postgres://admin:[REDACTED:url-credentials]@db/x`).
//!
//! Detection works in layers, each producing byte spans:
//!
//! 1. **Shapes**: tokens whose format alone identifies them (PEM private keys,
//!    `ghp_…`, `AKIA…`, `sk-ant-…`, JWTs, …).
//! 2. **Context**: values whose *position* makes them secret: the value side
//!    of `password=`, `"client_secret": "…"`, `Authorization:` headers,
//!    credentials in URLs, and command lines (`mysql -p…`, `sshpass -p …`,
//!    `net user NAME PASS`, `ConvertTo-SecureString "…" -AsPlainText`).
//! 3. **Entropy**: long random-looking strings shortly after a word such as
//!    key/secret/token/password.
//! 4. **Known secrets**: candidate tokens checked against an external source
//!    (the vault), see [`crate::known_secrets`].
//!
//! Overlapping spans are merged (never dropped), so a secret found by two
//! layers with different extents is still covered completely. Text inside an
//! existing placeholder is never matched again, which keeps redaction
//! idempotent. All patterns run on the `regex` crate, whose matching time is
//! linear in the input; the hand-written scanners are bounded per match.
//!
//! A pattern is compiled the first time a text contains one of its anchors
//! (literals every match must contain, see `lazy.rs`): a hook run pays only
//! for the rules its turn could match.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use crate::known_secrets;

#[rustfmt::skip] // generated, see lazy.rs
mod anchors;
mod context;
pub mod corpus;
mod entropy;
mod keys;
mod known;
mod lazy;
mod rules;
#[cfg(test)]
mod tests;

use known::known_secret_hits;
use lazy::{Anchors, Rules};
use rules::{SHAPES, SHAPES_UNANCHORED, TRIGGERS};

/// The result of [`Redactor::redact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The text with every detected secret replaced by a placeholder.
    pub text: String,
    /// How many secrets were replaced.
    pub count: usize,
}

/// Every placeholder starts with this; text that does is never re-redacted.
pub const PLACEHOLDER_PREFIX: &str = "[REDACTED:";

/// Placeholder kinds emitted by the context, entropy and known-secret
/// layers; the rules in `rules.rs` name the rest.
const LAYER_KINDS: &[&str] = &[
    "password",
    "secret",
    "client-secret",
    "token",
    "api-key",
    "private-key",
    "aws-key",
    "aws-secret",
    "azure-key",
    "sas-token",
    "credential",
    "auth",
    "auth-token",
    "bearer-token",
    "basic-auth",
    "url-credentials",
    "psk",
    "totp-seed",
    "snmp-secret",
    "high-entropy",
    "known-secret",
];

/// Every placeholder kind redaction can emit, for documentation, callers
/// that want to recognise placeholders, and tests.
pub fn placeholder_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = rules::SHAPES
        .iter()
        .chain(rules::SHAPES_UNANCHORED)
        .map(|s| s.kind)
        .chain(rules::TRIGGERS.iter().map(|t| t.kind))
        .chain(LAYER_KINDS.iter().copied())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Which layer found a span; lower wins when two layers report the same span,
/// so a `ghp_…` after `token=` is typed `github-token`, not `token`.
const PRIO_KNOWN: u8 = 0;
const PRIO_SHAPE: u8 = 1;
const PRIO_CONTEXT: u8 = 2;
const PRIO_ENTROPY: u8 = 3;

/// Redaction is repeated until nothing new is found (normally one extra pass
/// that finds nothing). A first pass can change the surroundings of a later
/// candidate (a long secret replaced by a short placeholder brings a random
/// string within reach of a keyword), and without the fixpoint
/// `redact(redact(x))` could differ from `redact(x)`.
const MAX_PASSES: usize = 4;

/// The context layers' patterns, each compiled when first needed; the
/// `LAYER_*` constants index them.
pub(super) const LAYER_PATTERNS: &[(&str, &str)] = &[
    // Identifiers containing a secret stem: assignment keys and the
    // keywords the entropy layer measures distance from.
    (
        "ident",
        r"[A-Za-z0-9_.\-]*(?i:pass|pwd|secret|token|key|cred|auth|sig|bearer|psk|totp|community|concealed)[A-Za-z0-9_.\-]*",
    ),
    // `--password VALUE`-style flags (space-separated value).
    (
        "flag",
        r#"(?im)(?:^|[ \t"'(])--?(?P<f>password|passwd|pass|pwd|passphrase|passin|passout|token|access-token|auth-token|api-token|secret|client-secret|secret-key|api-key|apikey|access-key)[ \t]+"#,
    ),
    (
        "auth_header",
        r#"(?i)(?-u:\b)(?:proxy-)?authorization\\*["']?[ \t]*[:=][ \t]*"#,
    ),
    ("bearer", r"(?i)(?-u:\b)bearer[ \t]+"),
    // The password may contain `@` (greedy up to the last `@` before
    // the host), but not `/`, `?` or `#`, which end the authority.
    (
        "url_credentials",
        r#"(?i)(?-u:\b)[a-z][a-z0-9+.\-]{1,30}://(?P<u>[^\s:/?#@'"<>\\]*):(?P<v>[^\s/?#'"<>\\]+)@[A-Za-z0-9\[_\-]"#,
    ),
    // `<Password>x</Password>` and Windows unattend
    // `<AdministratorPassword><Value>x</Value>`.
    (
        "xml_element",
        r"(?i)<(?P<k>[A-Za-z0-9_:.\-]*(?:pass|pwd|secret|token|key|cred)[A-Za-z0-9_:.\-]*)>(?:[ \t\r\n]*<Value>)?(?P<v>[^<]+)<",
    ),
    // .NET appSettings: `<add key="DbPassword" value="x" />`.
    (
        "dotnet_setting",
        r#"(?i)(?-u:\b)key[ \t]*=[ \t]*"(?P<k>[^"\n]+)"[ \t]+value[ \t]*=[ \t]*"(?P<v>[^"\n]*)""#,
    ),
    // `{"name": "DB_PASSWORD", "value": "x"}` (ECS, Bitwarden custom
    // fields) and 1Password's `{"n": "password", "v": "x"}`. No
    // counted repetition: `{1,4096}` of a Unicode class compiles
    // for 50 ms.
    (
        "name_value",
        r#"(?i)"(?:name|n|designation|label|key)"[ \t]*:[ \t]*"(?P<k>[^"\n]+)"[ \t]*,[ \t]*"(?:value|v)"[ \t]*:[ \t]*"(?P<v>(?:[^"\\\n]|\\.)+)""#,
    ),
    (
        "k8s_secret",
        r#"(?m)(?:^[ \t]*kind:[ \t]*["']?Secret["']?[ \t]*\r?$|"kind"[ \t]*:[ \t]*"Secret")"#,
    ),
];

const LAYER_IDENT: usize = 0;
const LAYER_FLAG: usize = 1;
const LAYER_AUTH_HEADER: usize = 2;
const LAYER_BEARER: usize = 3;
const LAYER_URL_CREDENTIALS: usize = 4;
const LAYER_XML_ELEMENT: usize = 5;
const LAYER_DOTNET_SETTING: usize = 6;
const LAYER_NAME_VALUE: usize = 7;
const LAYER_K8S_SECRET: usize = 8;

/// A span to replace.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    kind: &'static str,
    prio: u8,
}

/// The redactor: compiled patterns (built once) and an optional source of
/// known secrets.
pub struct Redactor {
    /// Finds which rules a text may match.
    finder: Anchors,
    /// The literal-prefixed shapes, each compiled when first needed.
    shapes: Rules,
    shapes_unanchored: Rules,
    /// The trigger rules, each compiled when first needed.
    triggers: Rules,
    /// The context layers' patterns ([`LAYER_PATTERNS`]).
    layers: Rules,
    entropy_candidate: Regex,
    placeholder: Regex,
    known: Option<known_secrets::Matcher>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("shapes", &(SHAPES.len() + SHAPES_UNANCHORED.len()))
            .field("triggers", &TRIGGERS.len())
            .field("known_secrets", &self.known.is_some())
            .finish()
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

/// Bumped when a change to the scanners (not the rules or word lists, which
/// the fingerprint reads) changes what is redacted.
const SCANNER_REVISION: u32 = 2;

/// A short fingerprint of the rule set: every rule's pattern, every word
/// list and [`SCANNER_REVISION`]. A store scrubbed with other rules is
/// re-redacted (see `memory::scrub`).
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(SCANNER_REVISION.to_le_bytes());
        let patterns = SHAPES
            .iter()
            .chain(SHAPES_UNANCHORED)
            .map(|s| s.pattern)
            .chain(TRIGGERS.iter().map(|t| t.pattern))
            .chain(keys::WORD_LISTS.iter().copied());
        for p in patterns {
            h.update(p.as_bytes());
            h.update([0]);
        }
        hex::encode(&h.finalize()[..8])
    })
}

/// The process-wide built-in redactor (no known-secrets source).
pub fn global() -> &'static Redactor {
    static GLOBAL: OnceLock<Redactor> = OnceLock::new();
    GLOBAL.get_or_init(Redactor::new)
}

/// Compiles a built-in pattern. The patterns are constants covered by the
/// tests, so a failure is a programming error, never a user-input path.
fn compile(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(re) => re,
        Err(err) => panic!("built-in redaction pattern does not compile: {err}"),
    }
}

impl Redactor {
    /// Built-in secret shapes and contexts.
    ///
    /// Compiles the placeholder and entropy patterns and an Aho-Corasick
    /// automaton over the other rules' anchors; each of those rules (44
    /// shapes, 53 triggers, 9 context patterns) is compiled when a text
    /// first contains one of its anchors, then kept. Measured on the 2-core
    /// build machine in release: 0.3 ms (0.7 ms the first time in a
    /// process), against 5.5-6.5 ms (7-15 ms) when every pattern was
    /// compiled here; compiling every rule one by one costs about 11 ms.
    /// Redacting 1 MiB without secrets takes about 5 ms. Use [`global`] to
    /// pay construction once per process.
    pub fn new() -> Self {
        Redactor {
            finder: Anchors::new(&[
                anchors::SHAPES,
                anchors::SHAPES_UNANCHORED,
                anchors::TRIGGERS,
                anchors::LAYERS,
            ]),
            shapes: Rules::new(SHAPES.iter().map(|s| s.pattern), anchors::SHAPES),
            shapes_unanchored: Rules::new(
                SHAPES_UNANCHORED.iter().map(|s| s.pattern),
                anchors::SHAPES_UNANCHORED,
            ),
            triggers: Rules::new(TRIGGERS.iter().map(|t| t.pattern), anchors::TRIGGERS),
            layers: Rules::new(LAYER_PATTERNS.iter().map(|(_, p)| *p), anchors::LAYERS),
            entropy_candidate: compile(r"[A-Za-z0-9+/=_\-]{20,}"),
            placeholder: compile(r"\[REDACTED:[a-z0-9\-]+\]"),
            known: None,
        }
    }

    /// Adds a known-secrets matcher consulted for every candidate token
    /// (whitespace/quote/punctuation-delimited substrings of
    /// [`known_secrets::MIN_LEN`]..=[`known_secrets::MAX_LEN`] bytes, and the
    /// value side of `key=value` / `key: value` pairs).
    pub fn with_known_secrets(
        mut self,
        matcher: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.known = Some(Box::new(matcher));
        self
    }

    /// Redacts every string inside a JSON value in place; returns how many
    /// secrets were replaced. Keys and non-string values are left alone.
    pub fn redact_json(&self, value: &mut serde_json::Value) -> usize {
        match value {
            serde_json::Value::String(s) => {
                let out = self.redact(s);
                if out.count > 0 {
                    *s = out.text;
                }
                out.count
            }
            serde_json::Value::Array(items) => items.iter_mut().map(|v| self.redact_json(v)).sum(),
            serde_json::Value::Object(map) => map.values_mut().map(|v| self.redact_json(v)).sum(),
            _ => 0,
        }
    }

    /// Returns the redacted text and how many secrets were replaced.
    pub fn redact(&self, text: &str) -> Redacted {
        let mut count = 0;
        let mut current: Option<String> = None;
        for _ in 0..MAX_PASSES {
            let input = current.as_deref().unwrap_or(text);
            match self.redact_once(input) {
                Some((next, n)) => {
                    count += n;
                    current = Some(next);
                }
                None => break,
            }
        }
        Redacted {
            text: current.unwrap_or_else(|| text.to_owned()),
            count,
        }
    }

    /// One detection pass. `None` when nothing was found.
    fn redact_once(&self, text: &str) -> Option<(String, usize)> {
        let placeholders: Vec<(usize, usize)> = self
            .placeholder
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let mut hits = Vec::new();
        let mut keywords = Vec::new();

        let found = self.finder.scan(text);
        self.shape_hits(&self.shapes, &found[0], SHAPES, text, &mut hits);
        self.shape_hits(
            &self.shapes_unanchored,
            &found[1],
            SHAPES_UNANCHORED,
            text,
            &mut hits,
        );
        self.assignment_hits(text, &found[3], &placeholders, &mut hits, &mut keywords);
        self.trigger_hits(text, &found[2], &mut hits);
        self.k8s_secret_hits(text, &found[3], &mut hits);
        self.flag_hits(text, &found[3], &mut hits);
        self.auth_header_hits(text, &found[3], &mut hits);
        self.bearer_hits(text, &found[3], &mut hits);
        self.url_hits(text, &found[3], &mut hits);
        self.markup_hits(text, &found[3], &mut hits);
        self.entropy_hits(text, &keywords, &mut hits);
        if let Some(known) = &self.known {
            known_secret_hits(known.as_ref(), text, &mut hits);
        }

        let spans = merge(text, hits, &placeholders);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for h in &spans {
            out.push_str(&text[last..h.start]);
            out.push_str(PLACEHOLDER_PREFIX);
            out.push_str(h.kind);
            out.push(']');
            last = h.end;
        }
        out.push_str(&text[last..]);
        Some((out, spans.len()))
    }
}

/// Sorts hits, drops those touching an existing placeholder, and merges
/// overlapping ones into their union. The union matters: when two layers
/// disagree on the extent of one secret, neither part may leak. The kind is
/// that of the earliest-starting, then longest, then highest-priority hit.
fn merge(text: &str, mut hits: Vec<Hit>, placeholders: &[(usize, usize)]) -> Vec<Hit> {
    hits.retain(|h| {
        h.start < h.end
            && h.end <= text.len()
            && text.is_char_boundary(h.start)
            && text.is_char_boundary(h.end)
            && !overlaps_any(placeholders, h.start, h.end)
    });
    hits.sort_unstable_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.prio.cmp(&b.prio))
    });
    let mut merged: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits {
        if let Some(last) = merged.last_mut()
            && h.start < last.end
        {
            last.end = last.end.max(h.end);
            continue;
        }
        merged.push(h);
    }
    merged
}

/// Whether `[start, end)` overlaps one of the sorted, disjoint `spans`.
fn overlaps_any(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    let i = spans.partition_point(|&(_, e)| e <= start);
    spans.get(i).is_some_and(|&(s, _)| s < end)
}
