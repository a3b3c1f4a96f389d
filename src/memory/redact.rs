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
//!    `ghp_…`, `AKIA…`, `sk-ant-…`, JWTs, …). One alternation, so one scan.
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

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use crate::known_secrets;

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

/// Every placeholder kind this module can emit, for documentation, callers
/// that want to recognise placeholders, and tests.
pub const PLACEHOLDER_KINDS: &[&str] = &[
    "private-key",
    "anthropic-key",
    "openai-key",
    "stripe-key",
    "github-token",
    "gitlab-token",
    "slack-token",
    "slack-webhook",
    "discord-webhook",
    "aws-key",
    "aws-secret",
    "gcp-api-key",
    "gcp-client-secret",
    "google-oauth-token",
    "npm-token",
    "pypi-token",
    "sendgrid-key",
    "twilio-key",
    "huggingface-token",
    "jwt",
    "azure-client-secret",
    "azure-key",
    "sas-token",
    "digitalocean-token",
    "shopify-token",
    "vault-token",
    "grafana-token",
    "linear-key",
    "postman-key",
    "telegram-token",
    "square-token",
    "mailchimp-key",
    "newrelic-key",
    "atlassian-token",
    "doppler-token",
    "sentry-token",
    "password",
    "secret",
    "client-secret",
    "token",
    "api-key",
    "credential",
    "auth",
    "auth-token",
    "bearer-token",
    "basic-auth",
    "url-credentials",
    "high-entropy",
    "known-secret",
];

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

/// Longest value read by the hand-written value parser. Values longer than
/// this are cut (the rest stays), which bounds the work per match.
const MAX_VALUE_LEN: usize = 4096;

/// How far (bytes, same line) a keyword may stand before a high-entropy
/// string for the string to count as a secret.
const ENTROPY_WINDOW: usize = 48;
/// Shortest string the entropy layer looks at.
const ENTROPY_MIN_LEN: usize = 20;
/// Minimum Shannon entropy in bits per char. Random base62 of 20 chars scores
/// about 4.0, random hex about 3.7 (hex is excluded anyway); text such as
/// `aaaaaaaaaaaaaaaaaaa1` or `abababab…` scores far below.
const ENTROPY_MIN_BITS: f64 = 3.0;
/// Mean length of the letter/digit runs at or above which a string reads as
/// words (`getUserPreferences`, `MY_APP_CONFIG_2024`) rather than noise.
/// Random base62 averages about 1.8, random lowercase+digits about 2.5.
const WORDY_MEAN_RUN: f64 = 4.0;

/// One built-in shape: a pattern that identifies a secret by its format.
/// A `(?P<s>…)` group, when present, marks the secret part (the rest, e.g. a
/// webhook's host, is kept).
struct Shape {
    kind: &'static str,
    pattern: &'static str,
    check: Option<fn(&str) -> bool>,
}

const fn shape(kind: &'static str, pattern: &'static str) -> Shape {
    Shape {
        kind,
        pattern,
        check: None,
    }
}

const fn shape_checked(
    kind: &'static str,
    pattern: &'static str,
    check: fn(&str) -> bool,
) -> Shape {
    Shape {
        kind,
        pattern,
        check: Some(check),
    }
}

// `(?-u:\b)` is an ASCII word boundary: a Unicode `\b` would push the regex
// crate off its fast DFA for any non-ASCII input.
const SHAPES: &[Shape] = &[
    // Whole PEM block. The body accepts real newlines, JSON-escaped `\n`
    // (any number of backslashes) and `Proc-Type:`/`DEK-Info:` headers. The
    // footer is optional so a truncated key is still covered. The header
    // alternative comes first: alternatives are tried in order, and the body
    // alternative would otherwise eat `Proc` of `Proc-Type:` and stop at `-`.
    shape_checked(
        "private-key",
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z][A-Za-z0-9\-]*:[ \t]*[^\n\\]*|[A-Za-z0-9+/=\s]|\\+[nrt])*(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?",
        pem_is_key,
    ),
    shape("private-key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    // Anthropic before OpenAI: both match `sk-ant-…` from the same start,
    // and the first alternative wins.
    shape(
        "anthropic-key",
        r"(?-u:\b)sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_\-]{20,}",
    ),
    shape_checked(
        "openai-key",
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        has_digit_and_letter,
    ),
    shape(
        "stripe-key",
        r"(?-u:\b)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
    ),
    shape("stripe-key", r"(?-u:\b)whsec_[A-Za-z0-9+/=]{20,}"),
    shape("github-token", r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,}"),
    shape("github-token", r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,}"),
    shape(
        "gitlab-token",
        r"(?-u:\b)gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|oas)-[A-Za-z0-9_\-]{20,}",
    ),
    shape("slack-token", r"(?-u:\b)xox[abposre]-[A-Za-z0-9\-]{10,}"),
    shape("slack-token", r"(?-u:\b)xapp-[0-9]+-[A-Za-z0-9\-]{10,}"),
    shape(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9_/\-]{10,})",
    ),
    shape(
        "discord-webhook",
        r"discord(?:app)?\.com/api/webhooks/[0-9]+/(?P<s>[A-Za-z0-9_\-]{20,})",
    ),
    shape(
        "aws-key",
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?-u:\b)",
    ),
    shape("gcp-api-key", r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}"),
    shape("gcp-client-secret", r"(?-u:\b)GOCSPX-[A-Za-z0-9_\-]{20,}"),
    shape("google-oauth-token", r"(?-u:\b)ya29\.[0-9A-Za-z_\-]{20,}"),
    shape("npm-token", r"(?-u:\b)npm_[A-Za-z0-9]{36}"),
    shape(
        "pypi-token",
        r"(?-u:\b)pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{20,}",
    ),
    shape(
        "sendgrid-key",
        r"(?-u:\b)SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",
    ),
    shape("twilio-key", r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)"),
    shape("huggingface-token", r"(?-u:\b)hf_[A-Za-z0-9]{34,}"),
    shape(
        "jwt",
        r"(?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
    ),
    shape("digitalocean-token", r"(?-u:\b)do[opr]_v1_[a-f0-9]{64}"),
    shape(
        "shopify-token",
        r"(?-u:\b)shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
    ),
    shape("vault-token", r"(?-u:\b)hv[sbr]\.[A-Za-z0-9_\-]{24,}"),
    shape(
        "grafana-token",
        r"(?-u:\b)(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
    ),
    shape("linear-key", r"(?-u:\b)lin_api_[A-Za-z0-9]{40}"),
    shape(
        "postman-key",
        r"(?-u:\b)PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}",
    ),
    shape(
        "square-token",
        r"(?-u:\b)sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}",
    ),
    shape("newrelic-key", r"(?-u:\b)NRAK-[A-Z0-9]{27}"),
    shape("atlassian-token", r"(?-u:\b)ATATT3[A-Za-z0-9_\-=]{100,}"),
    shape(
        "doppler-token",
        r"(?-u:\b)dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}",
    ),
    shape("sentry-token", r"(?-u:\b)sntry[us]_[A-Za-z0-9+/=_]{40,}"),
];

/// Shapes without a literal prefix. Kept out of [`SHAPES`] so that the big
/// alternation keeps its literal prefilter (one prefix-less alternative would
/// make the whole alternation scan byte by byte).
const SHAPES_UNANCHORED: &[Shape] = &[
    // Azure AD client secrets: `xxx8Q~` followed by 31-34 chars.
    shape(
        "azure-client-secret",
        r"(?-u:\b)[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
    ),
    shape(
        "telegram-token",
        r"(?-u:\b)[0-9]{8,10}:AA[0-9A-Za-z_\-]{33}",
    ),
    shape(
        "mailchimp-key",
        r"(?-u:\b)[0-9a-f]{32}-us[0-9]{1,2}(?-u:\b)",
    ),
];

/// How a command-line rule finds its value once its trigger matched.
#[derive(Clone, Copy)]
enum Cli {
    /// The value starts where the trigger ends (`sshpass -p VALUE`).
    AtEnd,
    /// The value must touch the trigger (`mysql -pVALUE`; `-p VALUE` prompts).
    Adjacent,
    /// `net user NAME PASSWORD [/switches]`.
    NetUser,
    /// `net use [X:] \\host\share [PASSWORD] [/user:NAME] [PASSWORD]`.
    NetUse,
}

/// Command-line rules, one alternation. Each trigger is anchored on a command
/// name and stays on one line (`[^\n|;&]*?`), so triggers do not swallow
/// each other.
const CLI_RULES: &[(Cli, &str)] = &[
    (
        Cli::Adjacent,
        r"(?-u:\b)(?i:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlpump|mysqlsh|mariadb|mariadb-dump)(?i:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]-p",
    ),
    (
        Cli::AtEnd,
        r"(?-u:\b)sshpass(?:[ \t]+-[vhe])*[ \t]+-p[ \t]*",
    ),
    (
        Cli::AtEnd,
        r"(?-u:\b)ssh-keygen(?-u:\b)[^\n|;&]*?[ \t]-[NP][ \t]*",
    ),
    (
        Cli::AtEnd,
        r#"(?-u:\b)curl(?-u:\b)[^\n|;&]*?[ \t](?:-u|--user)(?:[ \t]+|=)["']?[^\s:"'$]+:"#,
    ),
    (
        Cli::AtEnd,
        r"(?-u:\b)redis-cli(?-u:\b)[^\n|;&]*?[ \t](?:-a|--pass)[ \t]+",
    ),
    (
        Cli::AtEnd,
        r"(?-u:\b)docker[ \t]+login(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
    ),
    (
        Cli::AtEnd,
        r#"(?-u:\b)smbclient(?-u:\b)[^\n|;&]*?[ \t](?:-U|--user)(?:[ \t]+|=)["']?[^\s%"']+%"#,
    ),
    (
        Cli::AtEnd,
        r"(?i)(?-u:\b)psexec(?:64)?(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
    ),
    (
        Cli::AtEnd,
        r"(?i)(?-u:\b)schtasks(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]/rp[ \t]+",
    ),
    (
        Cli::AtEnd,
        r"(?i)(?-u:\b)(?:xfreerdp|wlfreerdp|sdl-freerdp)(?-u:\b)[^\n|;&]*?[ \t]/p:",
    ),
    (
        Cli::AtEnd,
        r"(?i)(?-u:\b)cmdkey(?:\.exe)?(?-u:\b)[^\n|;&]*?[ \t]/pass:",
    ),
    (
        Cli::AtEnd,
        r"(?i)ConvertTo-SecureString(?:[ \t]+-(?:String|AsPlainText|Force)(?-u:\b))*[ \t]+",
    ),
    // `net` only in command position (line start, after a prompt, a quote
    // or an operator), so prose like "the net user accounts page" is left.
    (
        Cli::NetUser,
        r#"(?im)(?:^|[>$;&|"'`(])[ \t]*net(?:\.exe)?[ \t]+user[ \t]+"#,
    ),
    (
        Cli::NetUse,
        r#"(?im)(?:^|[>$;&|"'`(])[ \t]*net(?:\.exe)?[ \t]+use[ \t]+"#,
    ),
];

/// A span to replace.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    kind: &'static str,
    prio: u8,
}

/// A value located by [`parse_value`].
#[derive(Debug, Clone, Copy)]
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
}

/// The redactor: compiled patterns (built once) and an optional source of
/// known secrets.
pub struct Redactor {
    /// All literal-prefixed shapes as one alternation, group `t{i}` per shape.
    shapes: Regex,
    /// `(whole group, optional secret sub-group)` per entry of [`SHAPES`].
    shape_groups: Vec<(usize, Option<usize>)>,
    shapes_unanchored: Regex,
    unanchored_groups: Vec<(usize, Option<usize>)>,
    /// Identifiers containing a secret stem: assignment keys and the
    /// keywords the entropy layer measures distance from.
    ident: Regex,
    cli: Regex,
    cli_groups: Vec<usize>,
    /// `--password VALUE`-style flags (space-separated value).
    flag: Regex,
    auth_header: Regex,
    bearer: Regex,
    url_credentials: Regex,
    xml_element: Regex,
    dotnet_setting: Regex,
    entropy_candidate: Regex,
    placeholder: Regex,
    known: Option<known_secrets::Matcher>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("shapes", &(SHAPES.len() + SHAPES_UNANCHORED.len()))
            .field("cli_rules", &CLI_RULES.len())
            .field("known_secrets", &self.known.is_some())
            .finish()
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
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

/// Builds one alternation from shapes, returning the regex and, per shape,
/// the index of its whole group and of its secret sub-group.
fn compile_shapes(shapes: &[Shape], tag: &str) -> (Regex, Vec<(usize, Option<usize>)>) {
    let alternation = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let inner = s.pattern.replace("(?P<s>", &format!("(?P<{tag}s{i}>"));
            format!("(?P<{tag}t{i}>{inner})")
        })
        .collect::<Vec<_>>()
        .join("|");
    let re = compile(&alternation);
    let index_of = |name: &str| re.capture_names().position(|n| n == Some(name));
    let groups = (0..shapes.len())
        .map(|i| {
            let whole = index_of(&format!("{tag}t{i}")).unwrap_or(0);
            (whole, index_of(&format!("{tag}s{i}")))
        })
        .collect();
    (re, groups)
}

impl Redactor {
    /// Built-in secret shapes and contexts.
    ///
    /// Compiles 12 regexes: the 34 literal-prefixed shapes as one
    /// alternation, the 3 prefix-less shapes as a second, the 14 command-line
    /// rules as a third, plus one per context layer. Measured on the 2-core
    /// build machine: about 3.3 ms in release (about 5 ms in the dev profile
    /// with dependencies at opt-level 1). Redacting 5 MB takes about 0.1 s
    /// without secrets and 0.25 s with 31,600 of them (release). Use
    /// [`global`] to pay construction once per process.
    pub fn new() -> Self {
        let (shapes, shape_groups) = compile_shapes(SHAPES, "a");
        let (shapes_unanchored, unanchored_groups) = compile_shapes(SHAPES_UNANCHORED, "b");

        let cli_alternation = CLI_RULES
            .iter()
            .enumerate()
            .map(|(i, (_, p))| format!("(?P<c{i}>{p})"))
            .collect::<Vec<_>>()
            .join("|");
        let cli = compile(&cli_alternation);
        let cli_groups = (0..CLI_RULES.len())
            .map(|i| {
                let name = format!("c{i}");
                cli.capture_names()
                    .position(|n| n == Some(name.as_str()))
                    .unwrap_or(0)
            })
            .collect();

        Redactor {
            shapes,
            shape_groups,
            shapes_unanchored,
            unanchored_groups,
            ident: compile(
                r"[A-Za-z0-9_.\-]*(?i:pass|pwd|secret|token|key|cred|auth|sig|bearer)[A-Za-z0-9_.\-]*",
            ),
            cli,
            cli_groups,
            flag: compile(
                r#"(?im)(?:^|[ \t"'(])--?(?P<f>password|passwd|pass|pwd|passphrase|passin|passout|token|access-token|auth-token|api-token|secret|client-secret|secret-key|api-key|apikey|access-key)[ \t]+"#,
            ),
            auth_header: compile(r#"(?i)(?-u:\b)(?:proxy-)?authorization\\*["']?[ \t]*[:=][ \t]*"#),
            bearer: compile(r"(?i)(?-u:\b)bearer[ \t]+"),
            // The password may contain `@` (greedy up to the last `@` before
            // the host), but not `/`, `?` or `#`, which end the authority.
            url_credentials: compile(
                r#"(?i)(?-u:\b)[a-z][a-z0-9+.\-]{1,30}://(?P<u>[^\s:/?#@'"<>\\]*):(?P<v>[^\s/?#'"<>\\]+)@[A-Za-z0-9\[_\-]"#,
            ),
            // `<Password>x</Password>` and Windows unattend
            // `<AdministratorPassword><Value>x</Value>`.
            xml_element: compile(
                r"(?i)<(?P<k>[A-Za-z0-9_:.\-]*(?:pass|pwd|secret|token|key|cred)[A-Za-z0-9_:.\-]*)>(?:[ \t\r\n]*<Value>)?(?P<v>[^<]+)<",
            ),
            // .NET appSettings: `<add key="DbPassword" value="x" />`.
            dotnet_setting: compile(
                r#"(?i)(?-u:\b)key[ \t]*=[ \t]*"(?P<k>[^"\n]+)"[ \t]+value[ \t]*=[ \t]*"(?P<v>[^"\n]*)""#,
            ),
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

        self.shape_hits(&self.shapes, SHAPES, &self.shape_groups, text, &mut hits);
        self.shape_hits(
            &self.shapes_unanchored,
            SHAPES_UNANCHORED,
            &self.unanchored_groups,
            text,
            &mut hits,
        );
        self.assignment_hits(text, &placeholders, &mut hits, &mut keywords);
        self.cli_hits(text, &mut hits);
        self.flag_hits(text, &mut hits);
        self.auth_header_hits(text, &mut hits);
        self.bearer_hits(text, &mut hits);
        self.url_hits(text, &mut hits);
        self.markup_hits(text, &mut hits);
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

    fn shape_hits(
        &self,
        re: &Regex,
        shapes: &[Shape],
        groups: &[(usize, Option<usize>)],
        text: &str,
        hits: &mut Vec<Hit>,
    ) {
        for caps in re.captures_iter(text) {
            let Some((i, whole)) = groups
                .iter()
                .enumerate()
                .find_map(|(i, (g, _))| caps.get(*g).map(|m| (i, m)))
            else {
                continue;
            };
            let shape = &shapes[i];
            if shape.check.is_some_and(|check| !check(whole.as_str())) {
                continue;
            }
            let span = groups[i].1.and_then(|g| caps.get(g)).unwrap_or(whole);
            hits.push(Hit {
                start: span.start(),
                end: span.end(),
                kind: shape.kind,
                prio: PRIO_SHAPE,
            });
        }
    }

    /// `key=value`, `key: value`, `"key": "value"`, `key := value`,
    /// `'key' => 'value'` where the key names a secret. Also records keyword
    /// positions for the entropy layer.
    fn assignment_hits(
        &self,
        text: &str,
        placeholders: &[(usize, usize)],
        hits: &mut Vec<Hit>,
        keywords: &mut Vec<usize>,
    ) {
        let bytes = text.as_bytes();
        for m in self.ident.find_iter(text) {
            // `[REDACTED:api-key]` must not act as a keyword in a later pass.
            if overlaps_any(placeholders, m.start(), m.end()) {
                continue;
            }
            let segs = segments(m.as_str());
            if is_keyword(&segs) {
                keywords.push(m.end());
            }
            let Some(kind) = secret_key_kind(&segs) else {
                continue;
            };
            // `scheme://token:secret@host` is the URL layer's business.
            if m.start() >= 2 && &bytes[m.start() - 2..m.start()] == b"//" {
                continue;
            }
            // Ruby `:password => "x"`, but not Rust `Kind::Password =>`.
            let symbol_key = m.start() >= 1
                && bytes[m.start() - 1] == b':'
                && (m.start() < 2 || bytes[m.start() - 2] != b':');
            let Some(value_pos) = separator_after(bytes, m.end(), symbol_key) else {
                continue;
            };
            // In `Server=x;Password=a b c;` the value runs to the `;`.
            let conn_string = preceded_by_semicolon(bytes, m.start());
            let Some(v) = parse_value(text, value_pos, conn_string) else {
                continue;
            };
            let value = &text[v.start..v.end];
            if !value_is_secret(value, v.quoted) {
                continue;
            }
            // `PWD=/home/u/project` is the shell's working directory.
            if segs.last().is_some_and(|s| s.ends_with("pwd"))
                && (value.starts_with('/') || value.starts_with('~'))
            {
                continue;
            }
            hits.push(Hit {
                start: v.start,
                end: v.end,
                kind,
                prio: PRIO_CONTEXT,
            });
        }
    }

    fn cli_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        for caps in self.cli.captures_iter(text) {
            let Some(rule) = self.cli_groups.iter().position(|&g| caps.get(g).is_some()) else {
                continue;
            };
            let Some(end) = caps.get(0).map(|m| m.end()) else {
                continue;
            };
            let value = match CLI_RULES[rule].0 {
                Cli::AtEnd => parse_value(text, end, false),
                Cli::Adjacent => match bytes.get(end) {
                    Some(c) if !c.is_ascii_whitespace() => parse_value(text, end, false),
                    _ => None,
                },
                Cli::NetUser => net_user_password(text, end),
                Cli::NetUse => net_use_password(text, end),
            };
            let Some(v) = value else { continue };
            let s = &text[v.start..v.end];
            if s.starts_with('-') || !value_is_secret(s, v.quoted) {
                continue;
            }
            hits.push(Hit {
                start: v.start,
                end: v.end,
                kind: "password",
                prio: PRIO_CONTEXT,
            });
        }
    }

    fn flag_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        for caps in self.flag.captures_iter(text) {
            let (Some(all), Some(flag)) = (caps.get(0), caps.name("f")) else {
                continue;
            };
            let Some(v) = parse_value(text, all.end(), false) else {
                continue;
            };
            let s = &text[v.start..v.end];
            // `-passin env:VAR` / `file:path` name where the secret lives.
            let lower = s.to_ascii_lowercase();
            if s.starts_with('-')
                || ["env:", "file:", "fd:", "stdin"]
                    .iter()
                    .any(|p| lower.starts_with(p))
                || !value_is_secret(s, v.quoted)
            {
                continue;
            }
            let f = flag.as_str().to_ascii_lowercase();
            let kind = if f.starts_with("pass") || f == "pwd" {
                "password"
            } else if f.contains("token") {
                "token"
            } else if f.contains("secret") {
                "secret"
            } else {
                "api-key"
            };
            hits.push(Hit {
                start: v.start,
                end: v.end,
                kind,
                prio: PRIO_CONTEXT,
            });
        }
    }

    /// `Authorization: <scheme> <credentials>` (HTTP headers, curl `-H`,
    /// JSON header maps). Any scheme, or a bare credential.
    fn auth_header_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        for m in self.auth_header.find_iter(text) {
            let mut i = m.end();
            // Opening quote of a JSON/dict value, possibly escaped.
            let mut k = i;
            while bytes.get(k) == Some(&b'\\') {
                k += 1;
            }
            if matches!(bytes.get(k), Some(b'"' | b'\'')) {
                i = k + 1;
            }
            let first_end = token_end(bytes, i);
            if first_end == i {
                continue;
            }
            let first = &text[i..first_end];
            let mut j = first_end;
            while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            let second_end = token_end(bytes, j);
            let scheme = first.to_ascii_lowercase();
            let (start, end, kind) = if j > first_end && second_end > j && is_auth_scheme(&scheme) {
                let kind = match scheme.as_str() {
                    "basic" => "basic-auth",
                    "bearer" => "bearer-token",
                    _ => "auth-token",
                };
                (j, second_end, kind)
            } else {
                (i, first_end, "auth-token")
            };
            if !value_is_secret(&text[start..end], false) {
                continue;
            }
            hits.push(Hit {
                start,
                end,
                kind,
                prio: PRIO_CONTEXT,
            });
        }
    }

    /// `Bearer <token>` outside an `Authorization` header. Stricter than the
    /// header rule, since "bearer tokens" is also ordinary prose.
    fn bearer_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        for m in self.bearer.find_iter(text) {
            let start = m.end();
            let mut end = start;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || b"-._~+/".contains(&bytes[end]))
            {
                end += 1;
            }
            while end < bytes.len() && bytes[end] == b'=' {
                end += 1;
            }
            let token = &text[start..end];
            let mixed_case = token.bytes().any(|c| c.is_ascii_uppercase())
                && token.bytes().any(|c| c.is_ascii_lowercase());
            let has_digit = token.bytes().any(|c| c.is_ascii_digit());
            if token.len() < 16 || !(has_digit || mixed_case) || !value_is_secret(token, false) {
                continue;
            }
            hits.push(Hit {
                start,
                end,
                kind: "bearer-token",
                prio: PRIO_CONTEXT,
            });
        }
    }

    /// `scheme://user:password@host`: the password goes, the user stays.
    fn url_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        for caps in self.url_credentials.captures_iter(text) {
            let (Some(user), Some(v)) = (caps.name("u"), caps.name("v")) else {
                continue;
            };
            let pass = v.as_str();
            // `https://host:8443@…` is a port, not a password.
            if pass.bytes().all(|c| c.is_ascii_digit()) && user.as_str().contains('.') {
                continue;
            }
            if !value_is_secret(pass, true) {
                continue;
            }
            hits.push(Hit {
                start: v.start(),
                end: v.end(),
                kind: "url-credentials",
                prio: PRIO_CONTEXT,
            });
        }
    }

    /// XML elements and .NET `key=/value=` settings whose name is a secret.
    fn markup_hits(&self, text: &str, hits: &mut Vec<Hit>) {
        for re in [&self.xml_element, &self.dotnet_setting] {
            for caps in re.captures_iter(text) {
                let (Some(k), Some(v)) = (caps.name("k"), caps.name("v")) else {
                    continue;
                };
                let Some(kind) = secret_key_kind(&segments(k.as_str())) else {
                    continue;
                };
                // Trim surrounding whitespace of element text.
                let raw = v.as_str();
                let lead = raw.len() - raw.trim_start().len();
                let value = raw.trim();
                if !value_is_secret(value, true) {
                    continue;
                }
                let start = v.start() + lead;
                hits.push(Hit {
                    start,
                    end: start + value.len(),
                    kind,
                    prio: PRIO_CONTEXT,
                });
            }
        }
    }

    /// Random-looking strings shortly after a secret keyword on the same line.
    fn entropy_hits(&self, text: &str, keywords: &[usize], hits: &mut Vec<Hit>) {
        if keywords.is_empty() {
            return;
        }
        let bytes = text.as_bytes();
        for m in self.entropy_candidate.find_iter(text) {
            let mut start = m.start();
            // In `token=AbC…` the `=` belongs to the assignment.
            while start < m.end() && matches!(bytes[start], b'=' | b'-') {
                start += 1;
            }
            let idx = keywords.partition_point(|&k| k <= start);
            let Some(&kw_end) = idx.checked_sub(1).and_then(|i| keywords.get(i)) else {
                continue;
            };
            if start - kw_end > ENTROPY_WINDOW || bytes[kw_end..start].contains(&b'\n') {
                continue;
            }
            let candidate = &text[start..m.end()];
            if is_prefixed_digest(bytes, start, candidate) {
                continue;
            }
            // Hex is ruled out by `looks_random` (digests, commit ids), but a
            // hex API key after "api key:" is common; let long hex through
            // when no digest word (sha, commit, checksum, …) is near.
            let random = if candidate.bytes().all(|c| c.is_ascii_hexdigit()) {
                looks_random_hex(candidate) && !digest_word_before(bytes, start)
            } else {
                looks_random(candidate)
            };
            if !random {
                continue;
            }
            hits.push(Hit {
                start,
                end: m.end(),
                kind: "high-entropy",
                prio: PRIO_ENTROPY,
            });
        }
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

/// After an identifier: an optional closing quote (possibly escaped, as in
/// `{\"password\": …}`), blanks, then `=`, `:`, `:=` or (for quoted and
/// symbol keys) `=>`. Returns where the value starts.
fn separator_after(bytes: &[u8], ident_end: usize, symbol_key: bool) -> Option<usize> {
    let mut i = ident_end;
    let mut k = i;
    while bytes.get(k) == Some(&b'\\') {
        k += 1;
    }
    let quoted_key = matches!(bytes.get(k), Some(b'"' | b'\'' | b'`'));
    if quoted_key {
        i = k + 1;
    }
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match (bytes.get(i), bytes.get(i + 1)) {
        (Some(b':'), Some(b'=')) => Some(i + 2),
        (Some(b'='), Some(b'>')) if quoted_key || symbol_key => Some(i + 2),
        // `==`, `=>`, `::` are comparisons, match arms and paths.
        (Some(b'='), next) if !matches!(next, Some(b'=' | b'>' | b'~')) => Some(i + 1),
        (Some(b':'), next) if next != Some(&b':') => Some(i + 1),
        _ => None,
    }
}

fn preceded_by_semicolon(bytes: &[u8], start: usize) -> bool {
    bytes[..start]
        .iter()
        .rev()
        .find(|c| !matches!(c, b' ' | b'\t'))
        .is_some_and(|&c| c == b';')
}

/// Reads the value starting at `pos` (after blanks): a quoted string whose
/// quote may itself be escaped (`\"…\"` in JSON-in-JSON), or an unquoted run.
fn parse_value(text: &str, pos: usize, conn_string: bool) -> Option<Value> {
    let b = text.as_bytes();
    let mut i = pos;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let mut k = i;
    while b.get(k) == Some(&b'\\') {
        k += 1;
    }
    if let Some(&q) = b.get(k)
        && matches!(q, b'"' | b'\'' | b'`')
    {
        let escapes = k - i;
        let start = k + 1;
        let limit = (start + MAX_VALUE_LEN).min(b.len());
        let mut j = start;
        while j < limit {
            if b[j] == b'\n' {
                break;
            }
            if b[j] == q {
                let mut backslashes = 0;
                while j - backslashes > start && b[j - backslashes - 1] == b'\\' {
                    backslashes += 1;
                }
                // A plain quote closes unless escaped; an escaped opening
                // quote is closed by the same number of backslashes.
                let closes = if escapes == 0 {
                    backslashes % 2 == 0
                } else {
                    backslashes == escapes
                };
                if closes {
                    return Some(Value {
                        start,
                        end: j - backslashes,
                        quoted: true,
                    });
                }
            }
            j += 1;
        }
        // Unterminated: read what follows the quote as a bare value.
        return parse_unquoted(text, start, conn_string);
    }
    parse_unquoted(text, i, conn_string)
}

fn parse_unquoted(text: &str, start: usize, conn_string: bool) -> Option<Value> {
    let b = text.as_bytes();
    let limit = (start + MAX_VALUE_LEN).min(b.len());
    let mut j = start;
    while j < limit {
        let c = b[j];
        if c == b'\\' {
            // A JSON escape (`\n`, `\"`) ends the value; other backslashes
            // (`C:\x`, `pa\ss`) belong to it.
            if matches!(
                b.get(j + 1),
                Some(b'n' | b'r' | b't' | b'"' | b'\'' | b'\\')
            ) {
                break;
            }
            j += 1;
            continue;
        }
        let stop = if conn_string {
            matches!(c, b';' | b'"' | b'\'' | b'\n' | b'\r')
        } else {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'"' | b'\''
                        | b'`'
                        | b','
                        | b';'
                        | b'&'
                        | b')'
                        | b'}'
                        | b']'
                        | b'<'
                        | b'>'
                        | b'|'
                )
        };
        if stop {
            break;
        }
        j += 1;
    }
    while j > start && !text.is_char_boundary(j) {
        j -= 1;
    }
    while conn_string && j > start && matches!(b[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    (j > start).then_some(Value {
        start,
        end: j,
        quoted: false,
    })
}

/// End of a header token: up to whitespace, a quote or a JSON escape.
fn token_end(bytes: &[u8], start: usize) -> usize {
    let mut j = start;
    while j < bytes.len() {
        let c = bytes[j];
        if c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`' | b',' | b';') {
            break;
        }
        if c == b'\\' && matches!(bytes.get(j + 1), Some(b'n' | b'r' | b't' | b'"' | b'\\')) {
            break;
        }
        j += 1;
    }
    j
}

fn is_auth_scheme(lower: &str) -> bool {
    matches!(
        lower,
        "bearer"
            | "basic"
            | "token"
            | "digest"
            | "negotiate"
            | "ntlm"
            | "apikey"
            | "api-key"
            | "sso-key"
            | "hmac"
            | "otp"
            | "dpop"
            | "mac"
            | "jwt"
            | "key"
            | "splunk"
            | "klaviyo-api-key"
            | "aws4-hmac-sha256"
    )
}

/// `net user NAME PASSWORD`: the second argument unless it is a switch or
/// `*` (prompt).
fn net_user_password(text: &str, pos: usize) -> Option<Value> {
    let b = text.as_bytes();
    let name_end = shell_arg_end(b, pos)?;
    let mut i = name_end;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if i == name_end || matches!(b.get(i), Some(b'/' | b'*')) {
        return None;
    }
    parse_value(text, i, false)
}

/// `net use [X:|*] \\host\share [PASSWORD|*] [/user:NAME] [PASSWORD]`: any
/// argument after the share that is not a switch, a drive or `*`.
fn net_use_password(text: &str, pos: usize) -> Option<Value> {
    let b = text.as_bytes();
    let mut i = pos;
    let mut seen_share = false;
    for _ in 0..16 {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let end = shell_arg_end(b, i)?;
        let arg = &text[i..end];
        let bare = arg.trim_matches('"');
        let is_drive = bare.len() == 2 && bare.ends_with(':');
        if bare.starts_with("\\\\") {
            seen_share = true;
        } else if !(bare.starts_with('/') || bare == "*" || is_drive) && seen_share {
            return parse_value(text, i, false);
        }
        i = end;
    }
    None
}

/// End of one shell argument (a `"…"` string or a run of non-blanks) on the
/// current line; `None` at the end of the line or of a statement.
fn shell_arg_end(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start) {
        None | Some(b'\n' | b'\r' | b'|' | b'&' | b';') => None,
        Some(b'"') => {
            let close = b[start + 1..]
                .iter()
                .position(|&c| c == b'"' || c == b'\n')?;
            Some(start + 1 + close + 1)
        }
        Some(_) => {
            let len = b[start..]
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(b.len() - start);
            Some(start + len)
        }
    }
}

/// Splits an identifier into lowercase words: on `_ - . :` and other
/// punctuation, and on camelCase / `HTTPToken` boundaries.
fn segments(ident: &str) -> Vec<String> {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Trailing words that do not change what a key holds: `password_hash`,
/// `secret_value`, `token_b64` still name a secret.
const KEY_QUALIFIERS: &[&str] = &[
    "value",
    "hash",
    "b64",
    "base64",
    "plain",
    "plaintext",
    "raw",
    "enc",
    "encrypted",
    "str",
    "string",
    "text",
    "literal",
    "base",
];

/// Words before `key` that make it a secret key (`api_key`, `AccountKey`)
/// rather than a lookup key (`sort_key`, `public_key`, `primary_key`).
const SECRET_KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "account",
    "signing",
    "encryption",
    "decryption",
    "master",
    "client",
    "app",
    "shared",
    "storage",
    "subscription",
    "license",
    "session",
    "service",
    "consumer",
    "auth",
    "webhook",
    "admin",
    "deploy",
    "partner",
    "hmac",
    "sas",
    "jwt",
    "aes",
    "cipher",
    "crypto",
];

/// The placeholder kind for a key (as words), or `None` when the key does
/// not name a secret (`token_type`, `max_tokens`, `password_file`, `key_id`).
fn secret_key_kind(segs: &[String]) -> Option<&'static str> {
    let mut end = segs.len();
    while end > 1 && KEY_QUALIFIERS.contains(&segs[end - 1].as_str()) {
        end -= 1;
    }
    let segs = &segs[..end];
    let last = segs.last()?.as_str();
    let prev = if end >= 2 { segs[end - 2].as_str() } else { "" };
    let has = |w: &str| segs.iter().any(|s| s == w);

    if matches!(
        last,
        "password" | "passwd" | "pwd" | "pass" | "passphrase" | "passcode" | "pw" | "passwort"
    ) || ["password", "passwd", "passphrase"]
        .iter()
        .any(|w| last.ends_with(w))
    {
        return Some("password");
    }
    if last.ends_with("secret") {
        return Some(if has("aws") {
            "aws-secret"
        } else if prev == "client" || last == "clientsecret" {
            "client-secret"
        } else {
            "secret"
        });
    }
    if last.ends_with("token") {
        return Some("token");
    }
    let key_kind = |qualifier: &str| -> Option<&'static str> {
        Some(match qualifier {
            "private" => "private-key",
            "account" => "azure-key",
            "access" if has("shared") => "azure-key",
            // AWS spells its secret `SecretAccessKey` / `secret_access_key`.
            "access" if has("secret") => "aws-secret",
            _ if has("aws") && (has("secret") || qualifier == "secret") => "aws-secret",
            _ if has("aws") => "aws-key",
            "secret" => "secret",
            q if SECRET_KEY_QUALIFIERS.contains(&q) => "api-key",
            _ => return None,
        })
    };
    if last == "key" {
        return key_kind(prev);
    }
    if let Some(q) = last.strip_suffix("key")
        && !q.is_empty()
    {
        if q == "sharedaccess" {
            return Some("azure-key");
        }
        return key_kind(q);
    }
    match last {
        "credential" | "credentials" | "creds" | "cred" => Some("credential"),
        "auth" => Some("auth"),
        "sig" => Some("sas-token"),
        _ => None,
    }
}

/// Words that make a following random string a likely secret.
const KEYWORDS: &[&str] = &[
    "key",
    "secret",
    "token",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "credential",
    "cred",
    "creds",
    "auth",
    "authorization",
    "bearer",
    "apikey",
    "sig",
    "accesskey",
    "secretkey",
    "privatekey",
    "accountkey",
    "sas",
];

fn is_keyword(segs: &[String]) -> bool {
    segs.iter().any(|s| {
        let singular = s.strip_suffix('s').unwrap_or(s);
        KEYWORDS.contains(&s.as_str())
            || KEYWORDS.contains(&singular)
            || ["password", "passwd", "secret", "token", "apikey"]
                .iter()
                .any(|w| s.ends_with(w))
    })
}

/// Prose and code words that follow `password:` / `--token` without being a
/// value ("Password: required", "use --password to …").
const STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "not",
    "no",
    "none",
    "n/a",
    "na",
    "tbd",
    "todo",
    "required",
    "optional",
    "must",
    "should",
    "will",
    "would",
    "can",
    "could",
    "may",
    "might",
    "see",
    "use",
    "used",
    "using",
    "set",
    "unset",
    "from",
    "to",
    "for",
    "in",
    "on",
    "of",
    "and",
    "or",
    "with",
    "without",
    "via",
    "by",
    "as",
    "at",
    "if",
    "when",
    "then",
    "than",
    "missing",
    "invalid",
    "empty",
    "hidden",
    "masked",
    "redacted",
    "yes",
    "flag",
    "option",
    "options",
    "argument",
    "parameter",
    "field",
    "value",
    "here",
    "there",
    "below",
    "above",
    "same",
    "your",
    "my",
    "our",
    "their",
    "you",
    "we",
    "they",
    "only",
    "also",
    "just",
    "still",
    "now",
    "please",
    "prompt",
    "stdin",
    "env",
    "environment",
    "variable",
    "file",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "str",
    "string",
    "bytes",
    "int",
    "integer",
    "bool",
    "boolean",
    "number",
    "any",
    "unknown",
    "object",
    "char",
    "text",
    "varchar",
    "secretstr",
    "secretstring",
    "default",
    "omitted",
    "provided",
    "changed",
    "expired",
    "present",
    "absent",
    "ok",
    "okay",
    "unchanged",
    "sensitive",
];

/// Whether a located value is a secret rather than a reference, a mask, a
/// type annotation or a word of prose.
fn value_is_secret(value: &str, quoted: bool) -> bool {
    let v = value.trim();
    if v.is_empty() || v.starts_with(PLACEHOLDER_PREFIX) || is_reference(v) || is_masked(v) {
        return false;
    }
    if quoted {
        return true;
    }
    if v.chars().count() < 3 || v.starts_with(['{', '[', '(']) {
        return false;
    }
    let bare = v
        .trim_end_matches(['.', ',', ':', ';', '!', '?'])
        .to_ascii_lowercase();
    !(STOPWORDS.contains(&bare.as_str()) || looks_like_code(v))
}

/// `$VAR`, `${VAR}`, `$(cmd)`, `$env:X`, `%VAR%`, `{{ tmpl }}`, `<your-key>`.
fn is_reference(v: &str) -> bool {
    if let Some(rest) = v.strip_prefix('$') {
        if rest.starts_with(['{', '(']) || rest.to_ascii_lowercase().starts_with("env:") {
            return true;
        }
        let ident =
            !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        // `$Password`, `$DB_PASS2`: a variable. `$uperS3cret` is a value.
        let no_digits = !rest.bytes().any(|c| c.is_ascii_digit());
        let no_lower = !rest.bytes().any(|c| c.is_ascii_lowercase());
        return ident && (no_digits || no_lower);
    }
    if v.len() >= 3 && v.starts_with('%') && v.ends_with('%') {
        return v[1..v.len() - 1]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_');
    }
    ["{{", "{%", "#{", "@{"].iter().any(|p| v.starts_with(p))
        || (v.starts_with('<') && v.ends_with('>'))
}

/// `********`, `xxxx`, `•••`, `...`: already masked.
fn is_masked(v: &str) -> bool {
    v.chars()
        .all(|c| matches!(c, '*' | '•' | '●' | 'x' | 'X' | '.' | '#' | '?' | '-' | '_'))
}

/// An unquoted value that reads as code, not as a literal: `password`,
/// `db_password`, `self.password`, `getpass(`, `os.environ[`, `String`,
/// `Read-Host`, `&str`. Values with digits never qualify: real passwords
/// almost always have one, identifiers rarely do.
fn looks_like_code(v: &str) -> bool {
    let b = v.as_bytes();
    if b.iter().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let body = v.strip_prefix('&').unwrap_or(v);
    let bb = body.as_bytes();
    let Some(&first) = bb.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    if !bb
        .iter()
        .all(|&c| c.is_ascii_alphabetic() || b"_.:->()[]".contains(&c))
    {
        return false;
    }
    let structured =
        body.contains(['.', '(', '[', '_']) || body.contains("::") || body.contains("->");
    let camel = bb
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    let pascal = bb.len() >= 2 && bb[0].is_ascii_uppercase() && bb[1].is_ascii_lowercase();
    structured || camel || pascal || v.starts_with('&') || is_keyword(&segments(body))
}

/// Shannon entropy in bits per char.
fn shannon_entropy(b: &[u8]) -> f64 {
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &c in b {
        counts[usize::from(c)] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Mean length of letter/digit runs, where a run breaks on punctuation and
/// on a change between lowercase, uppercase and digit (a capital followed by
/// lowercase stays one run: `User`). Words give long runs, noise short ones.
fn mean_alnum_run(b: &[u8]) -> f64 {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
    }
    let class = |c: u8| {
        if c.is_ascii_lowercase() {
            Some(Class::Lower)
        } else if c.is_ascii_uppercase() {
            Some(Class::Upper)
        } else if c.is_ascii_digit() {
            Some(Class::Digit)
        } else {
            None
        }
    };
    let (mut runs, mut alnum) = (0u32, 0u32);
    let mut prev: Option<Class> = None;
    let mut run_len = 0u32;
    for &c in b {
        let cur = class(c);
        match cur {
            None => {
                prev = None;
                run_len = 0;
                continue;
            }
            Some(k) => {
                alnum += 1;
                let continues = match prev {
                    Some(p) if p == k => true,
                    Some(Class::Upper) if k == Class::Lower && run_len == 1 => true,
                    _ => false,
                };
                if continues {
                    run_len += 1;
                } else {
                    runs += 1;
                    run_len = 1;
                }
            }
        }
        prev = cur;
    }
    if runs == 0 {
        0.0
    } else {
        f64::from(alnum) / f64::from(runs)
    }
}

/// `/home/u/project/src`, `src/memory/redact_rs`: slash-separated words.
fn is_path_like(tok: &str) -> bool {
    tok.contains('/')
        && tok.split('/').all(|seg| {
            let b = seg.as_bytes();
            b.is_empty()
                || b.iter().enumerate().all(|(i, &c)| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == b'_'
                        || c == b'-'
                        || (i == 0 && c.is_ascii_uppercase())
                })
        })
}

/// Whether a string looks like random key material rather than a word,
/// identifier, path, digest or UUID.
fn looks_random(tok: &str) -> bool {
    let b = tok.as_bytes();
    if b.len() < ENTROPY_MIN_LEN {
        return false;
    }
    // Git hashes, SHA digests and UUIDs are hex; they are never redacted by
    // entropy alone (a hex secret after `token=` is still caught by context).
    if b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-') {
        return false;
    }
    let lower = b.iter().any(|c| c.is_ascii_lowercase());
    let upper = b.iter().any(|c| c.is_ascii_uppercase());
    let digit = b.iter().any(|c| c.is_ascii_digit());
    if u8::from(lower) + u8::from(upper) + u8::from(digit) < 2 {
        return false;
    }
    !is_path_like(tok)
        && shannon_entropy(b) >= ENTROPY_MIN_BITS
        && mean_alnum_run(b) < WORDY_MEAN_RUN
}

/// Shortest hex string the entropy layer considers (an MD5-sized key).
const ENTROPY_MIN_HEX_LEN: usize = 32;

/// Words that mark a nearby hex string as a digest or object id.
const DIGEST_WORDS: &[&str] = &[
    "sha",
    "md5",
    "hash",
    "digest",
    "checksum",
    "commit",
    "fingerprint",
    "etag",
    "integrity",
    "blake",
    "crc",
    "rev",
    "oid",
    "tree",
    "parent",
    "merge",
    "object",
    "sum",
];

fn looks_random_hex(tok: &str) -> bool {
    let b = tok.as_bytes();
    b.len() >= ENTROPY_MIN_HEX_LEN
        && b.iter().any(|c| c.is_ascii_digit())
        && b.iter().any(|c| c.is_ascii_alphabetic())
        && shannon_entropy(b) >= ENTROPY_MIN_BITS
}

/// Whether a digest word occurs in the window before `start` (same line).
fn digest_word_before(bytes: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(ENTROPY_WINDOW);
    let window = &bytes[lo..start];
    let window = window
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(window, |i| &window[i + 1..]);
    let lower = window.to_ascii_lowercase();
    DIGEST_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
}

/// `SHA256:nThbg…` (SSH fingerprints), `sha384-oqVu…` (subresource
/// integrity), `md5:…`: labelled digests, not secrets.
fn is_prefixed_digest(bytes: &[u8], start: usize, candidate: &str) -> bool {
    let algo = |s: &[u8]| {
        let lower = s.to_ascii_lowercase();
        let digits = lower
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let name = &lower[..lower.len() - digits];
        name.ends_with(b"sha") || name.ends_with(b"md5") || name.ends_with(b"blake2b")
    };
    // The candidate itself starts with `sha384-`.
    let c = candidate.as_bytes();
    if let Some(dash) = c.iter().take(10).position(|&x| x == b'-')
        && dash > 0
        && algo(&c[..dash])
    {
        return true;
    }
    // Or it follows `SHA256:`.
    start > 0 && bytes[start - 1] == b':' && algo(&bytes[start.saturating_sub(10)..start - 1])
}

fn pem_is_key(m: &str) -> bool {
    if m.contains("-----END") {
        return true;
    }
    // Without a footer, a bare header (`starts_with("-----BEGIN … KEY-----")`
    // in code) is a mention, not a key; a truncated key still has a body.
    let body = m
        .get(5..)
        .and_then(|rest| rest.find("-----").and_then(|i| rest.get(i + 5..)))
        .unwrap_or("");
    body.bytes()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .count()
        >= 64
}

fn has_digit_and_letter(s: &str) -> bool {
    // `sk-` + 20 chars with no digit is a slug (`sk-learn-compatible-…`).
    let body = s.get(3..).unwrap_or("");
    body.bytes().any(|c| c.is_ascii_digit()) && body.bytes().any(|c| c.is_ascii_alphabetic())
}

// ---------------------------------------------------------------------------
// Known secrets

/// Offers candidate substrings to `known`. Per whitespace/quote-delimited
/// token: the token, the token without edge punctuation, the value after its
/// first `=`/`:`, its query/connection-string fields (and their values), and
/// its punctuation-delimited pieces. Each byte is in a bounded number of
/// candidates, so the work stays linear in the text.
fn known_secret_hits(
    known: &(dyn Fn(&str) -> bool + Send + Sync),
    text: &str,
    hits: &mut Vec<Hit>,
) {
    let b = text.as_bytes();
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut consider = |s: usize, e: usize, seen: &mut HashSet<(usize, usize)>| {
        for (s, e) in [(s, e), trim_punct(b, s, e)] {
            let len = e.saturating_sub(s);
            if !(known_secrets::MIN_LEN..=known_secrets::MAX_LEN).contains(&len)
                || !text.is_char_boundary(s)
                || !text.is_char_boundary(e)
                || !seen.insert((s, e))
            {
                continue;
            }
            if known(&text[s..e]) {
                hits.push(Hit {
                    start: s,
                    end: e,
                    kind: "known-secret",
                    prio: PRIO_KNOWN,
                });
            }
        }
    };
    let is_coarse_delim = |c: u8| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`');
    let mut i = 0;
    while i < b.len() {
        if is_coarse_delim(b[i]) {
            i += 1;
            continue;
        }
        let ts = i;
        while i < b.len() && !is_coarse_delim(b[i]) {
            i += 1;
        }
        let te = i;
        seen.clear();
        consider(ts, te, &mut seen);
        if let Some(p) = b[ts..te].iter().position(|&c| c == b'=' || c == b':') {
            consider(ts + p + 1, te, &mut seen);
        }
        // Fields of `a=1&pw=X&b=2` / `Server=x;Password=X;`: split only where
        // a new `key=` starts, so a secret containing `&` or `;` survives.
        let mut fs = ts;
        for j in ts..te {
            if matches!(b[j], b'&' | b';' | b',' | b'?') && key_follows(&b[j + 1..te]) {
                consider(fs, j, &mut seen);
                if let Some(p) = b[fs..j].iter().position(|&c| c == b'=' || c == b':') {
                    consider(fs + p + 1, j, &mut seen);
                }
                fs = j + 1;
            }
        }
        if fs > ts {
            consider(fs, te, &mut seen);
            if let Some(p) = b[fs..te].iter().position(|&c| c == b'=' || c == b':') {
                consider(fs + p + 1, te, &mut seen);
            }
        }
        // Punctuation-delimited pieces, also splitting JSON escapes (`\n`).
        let mut ps = ts;
        for (j, &c) in b.iter().enumerate().take(te).skip(ts) {
            if is_piece_delim(c) {
                consider(ps, j, &mut seen);
                ps = j + 1;
            }
        }
        consider(ps, te, &mut seen);
    }
}

fn is_piece_delim(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b','
            | b';'
            | b'|'
            | b'\\'
            | b':'
            | b'='
            | b'/'
            | b'@'
    )
}

/// Whether `rest` starts with `identifier=` or `identifier:`.
fn key_follows(rest: &[u8]) -> bool {
    for (n, &c) in rest.iter().take(64).enumerate() {
        if c == b'=' || c == b':' {
            return n > 0;
        }
        let ok = if n == 0 {
            c.is_ascii_alphabetic() || c == b'_'
        } else {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
        };
        if !ok {
            return false;
        }
    }
    false
}

/// Strips edge punctuation that rarely belongs to a secret: `(x)`, `x,`,
/// `x.` at the end of a sentence, a trailing JSON backslash.
fn trim_punct(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && matches!(b[s], b'(' | b'[' | b'{' | b'<' | b',' | b';' | b':' | b'\\') {
        s += 1;
    }
    while e > s
        && matches!(
            b[e - 1],
            b')' | b']' | b'}' | b'>' | b',' | b';' | b':' | b'.' | b'!' | b'?' | b'\\'
        )
    {
        e -= 1;
    }
    (s, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const DIGITS: &str = "0123456789";
    const HEX: &str = "0123456789abcdef";

    fn alnum() -> String {
        format!("{UPPER}{LOWER}{DIGITS}")
    }
    fn b64() -> String {
        format!("{UPPER}{LOWER}{DIGITS}+/")
    }
    fn b64url() -> String {
        format!("{UPPER}{LOWER}{DIGITS}-_")
    }
    fn upper_digits() -> String {
        format!("{UPPER}{DIGITS}")
    }

    /// xorshift64: deterministic fake secrets, so the source never holds a
    /// contiguous token that a secret scanner could flag.
    struct Rng(u64);
    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn pick(&mut self, alphabet: &[u8]) -> u8 {
            alphabet[(self.next() % alphabet.len() as u64) as usize]
        }
    }

    /// A random string over `alphabet`, with a digit, an upper- and a
    /// lowercase letter forced in (when the alphabet has them).
    fn fake(seed: u64, alphabet: &str, len: usize) -> String {
        let a = alphabet.as_bytes();
        let mut rng = Rng::new(seed);
        let mut out: Vec<u8> = (0..len).map(|_| rng.pick(a)).collect();
        for (at, set) in [(1, DIGITS), (2, UPPER), (3, LOWER)] {
            let avail: Vec<u8> = set.bytes().filter(|c| a.contains(c)).collect();
            if !avail.is_empty() && at < out.len() {
                out[at] = rng.pick(&avail);
            }
        }
        String::from_utf8(out).expect("ascii")
    }

    struct Case {
        name: &'static str,
        kind: &'static str,
        text: String,
        secrets: Vec<String>,
    }

    fn case(name: &'static str, kind: &'static str, template: &str, secrets: Vec<String>) -> Case {
        let mut text = template.to_owned();
        for (i, s) in secrets.iter().enumerate() {
            text = text.replace(&format!("{{{i}}}"), s);
        }
        assert!(!text.contains("{0}"), "{name}: unfilled template");
        Case {
            name,
            kind,
            text,
            secrets,
        }
    }

    fn secret_cases() -> Vec<Case> {
        let b64 = b64();
        let b64url = b64url();
        let alnum = alnum();
        let ud = upper_digits();
        let pem_lines = |seed: u64, n: usize| -> Vec<String> {
            (0..n).map(|i| fake(seed + i as u64, &b64, 64)).collect()
        };
        let jwt = |seed: u64| -> (String, Vec<String>) {
            let payload = format!("eyJ{}", fake(seed, &b64url, 40));
            let sig = fake(seed + 1, &b64url, 43);
            let header = format!("{}{}", "eyJhbGciOiJIUzI1NiIs", "InR5cCI6IkpXVCJ9");
            (format!("{header}.{payload}.{sig}"), vec![payload, sig])
        };
        let (jwt1, jwt1_parts) = jwt(900);
        let slack_path = format!(
            "T{}/B{}/{}",
            fake(31, &ud, 8),
            fake(32, &ud, 10),
            fake(33, &alnum, 24)
        );

        vec![
            case(
                "pem-rsa",
                "private-key",
                "$ cat ~/.ssh/id_rsa\n-----BEGIN RSA PRIVATE KEY-----\n{0}\n{1}\n{2}\n-----END RSA PRIVATE KEY-----\n$ ls -la ~/.ssh\n",
                pem_lines(1, 3),
            ),
            case(
                "pem-openssh-read-tool",
                "private-key",
                "Read(~/.ssh/id_ed25519)\n     1\t-----BEGIN OPENSSH PRIVATE KEY-----\n     2\t{0}\n     3\t{1}\n     4\t-----END OPENSSH PRIVATE KEY-----\n",
                pem_lines(10, 2),
            ),
            case(
                "pem-ec-yaml",
                "private-key",
                "tls:\n  cert: /etc/ssl/app.crt\n  key: |\n    -----BEGIN EC PRIVATE KEY-----\n    {0}\n    {1}\n    -----END EC PRIVATE KEY-----\n  port: 443\n",
                pem_lines(20, 2),
            ),
            case(
                "pem-pkcs8-gcp-service-account",
                "private-key",
                r#"{"type": "service_account", "project_id": "acme-prod", "private_key_id": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c", "private_key": "-----BEGIN PRIVATE KEY-----\n{0}\n{1}\n{2}\n-----END PRIVATE KEY-----\n", "client_email": "deploy@acme-prod.iam.gserviceaccount.com"}"#,
                pem_lines(30, 3),
            ),
            case(
                "pem-encrypted-double-escaped",
                "private-key",
                r#"{"type":"tool_result","content":"{\"key\":\"-----BEGIN ENCRYPTED PRIVATE KEY-----\\n{0}\\n{1}\\n-----END ENCRYPTED PRIVATE KEY-----\\n\"}"}"#,
                pem_lines(40, 2),
            ),
            case(
                "pem-rsa-proc-type-headers",
                "private-key",
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{0}\n\n{1}\n{2}\n-----END RSA PRIVATE KEY-----\n",
                vec![
                    fake(50, "0123456789ABCDEF", 32),
                    fake(51, &b64, 64),
                    fake(52, &b64, 64),
                ],
            ),
            case(
                "pem-truncated",
                "private-key",
                "$ head -c 200 deploy.pem\n-----BEGIN PRIVATE KEY-----\n{0}\n{1}\n$ echo done\n",
                pem_lines(60, 2),
            ),
            case(
                "aws-sts-assume-role-json",
                "aws-key",
                r#"{"Credentials": {"AccessKeyId": "{0}", "SecretAccessKey": "{1}", "SessionToken": "{2}", "Expiration": "2024-05-01T12:00:00Z"}}"#,
                vec![
                    format!("ASIA{}", fake(70, &ud, 16)),
                    fake(71, &b64, 40),
                    fake(72, &b64, 120),
                ],
            ),
            case(
                "aws-credentials-ini",
                "aws-secret",
                "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\nregion = eu-central-1\n",
                vec![format!("AKIA{}", fake(80, &ud, 16)), fake(81, &b64, 40)],
            ),
            case(
                "aws-secret-near-words",
                "high-entropy",
                "The secret access key for the deploy user is {0} (rotate it after the migration).",
                vec![fake(90, &b64, 40)],
            ),
            case(
                "gcp-api-key-in-url",
                "gcp-api-key",
                r#"curl "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={0}""#,
                vec![format!("AIza{}", fake(100, &b64url, 35))],
            ),
            case(
                "azure-storage-connection-string",
                "azure-key",
                r#"AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={0};EndpointSuffix=core.windows.net""#,
                vec![format!("{}==", fake(110, &b64, 86))],
            ),
            case(
                "azure-sas-token",
                "sas-token",
                r#"az storage blob upload --account-name acmestore --sas-token "?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2025-01-01T00:00:00Z&spr=https&sig={0}" --file backup.zip"#,
                vec![format!(
                    "{}%2B{}%3D",
                    fake(120, &alnum, 20),
                    fake(121, &alnum, 20)
                )],
            ),
            case(
                "azure-client-secret-shape",
                "azure-client-secret",
                "App registration created. Secret value (copy it now, it is shown once): {0}\n",
                vec![format!(
                    "{}8Q~{}",
                    fake(130, &alnum, 3),
                    fake(131, &format!("{alnum}~.-_"), 34)
                )],
            ),
            case(
                "oauth-client-secret-json",
                "client-secret",
                r#"{"client_id": "3f0c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", "client_secret": "{0}", "grant_type": "client_credentials"}"#,
                vec![fake(140, &b64url, 40)],
            ),
            case(
                "github-pat-classic-env",
                "github-token",
                "export GITHUB_TOKEN={0}\ngh repo list acme",
                vec![format!("ghp_{}", fake(150, &alnum, 36))],
            ),
            case(
                "github-fine-grained-remote",
                "github-token",
                "git remote set-url origin https://{0}@github.com/acme/app.git",
                vec![format!(
                    "github_pat_{}_{}",
                    fake(160, &alnum, 22),
                    fake(161, &alnum, 59)
                )],
            ),
            case(
                "github-oauth-gh-auth-token",
                "github-token",
                "$ gh auth token\n{0}\n$ ",
                vec![format!("gho_{}", fake(170, &alnum, 36))],
            ),
            case(
                "github-app-token-in-url",
                "github-token",
                "Cloning into 'app'...\nfatal: unable to access 'https://x-access-token:{0}@github.com/acme/app.git/': 403",
                vec![format!("ghs_{}", fake(180, &alnum, 36))],
            ),
            case(
                "gitlab-pat-clone",
                "gitlab-token",
                "git clone https://oauth2:{0}@gitlab.com/acme/infra.git",
                vec![format!("glpat-{}", fake(190, &b64url, 20))],
            ),
            case(
                "slack-bot-token-python",
                "slack-token",
                r#"client = WebClient(token="{0}")"#,
                vec![format!(
                    "xoxb-{}-{}-{}",
                    fake(200, DIGITS, 12),
                    fake(201, DIGITS, 13),
                    fake(202, &alnum, 24)
                )],
            ),
            case(
                "slack-app-token-yaml",
                "slack-token",
                "slack:\n  SLACK_APP_TOKEN: {0}\n  channel: '#ops'\n",
                vec![format!(
                    "xapp-1-{}-{}-{}",
                    fake(210, &ud, 11),
                    fake(211, DIGITS, 13),
                    fake(212, HEX, 64)
                )],
            ),
            case(
                "slack-webhook",
                "slack-webhook",
                r#"curl -X POST -H 'Content-type: application/json' --data '{"text":"deploy done"}' https://hooks.slack.com/services/{0}"#,
                vec![slack_path],
            ),
            case(
                "stripe-live-secret",
                "stripe-key",
                "STRIPE_SECRET_KEY={0}\nSTRIPE_PUBLISHABLE_KEY=pk_live_placeholder",
                vec![format!("sk_live_{}", fake(220, &alnum, 24))],
            ),
            case(
                "stripe-restricted",
                "stripe-key",
                r#"{"restricted_key": "{0}", "livemode": true}"#,
                vec![format!("rk_live_{}", fake(230, &alnum, 24))],
            ),
            case(
                "stripe-test-python",
                "stripe-key",
                "import stripe\nstripe.api_key = \"{0}\"\n",
                vec![format!("sk_test_{}", fake(240, &alnum, 24))],
            ),
            case(
                "openai-project-key",
                "openai-key",
                "OPENAI_API_KEY={0} python summarize.py",
                vec![format!("sk-proj-{}", fake(250, &b64url, 120))],
            ),
            case(
                "anthropic-key",
                "anthropic-key",
                "export ANTHROPIC_API_KEY=\"{0}\"\nclaude --version",
                vec![format!(
                    "{}{}{}AA",
                    "sk-ant-",
                    "api03-",
                    fake(260, &b64url, 93)
                )],
            ),
            case(
                "npm-token-npmrc",
                "npm-token",
                "//registry.npmjs.org/:_authToken={0}\nalways-auth=true\n",
                vec![format!("npm_{}", fake(270, &alnum, 36))],
            ),
            case(
                "sendgrid",
                "sendgrid-key",
                "SENDGRID_API_KEY='{0}'",
                vec![format!(
                    "SG.{}.{}",
                    fake(280, &b64url, 22),
                    fake(281, &b64url, 43)
                )],
            ),
            case(
                "twilio-env",
                "twilio-key",
                "TWILIO_API_KEY={0}\nTWILIO_AUTH_TOKEN={1}\n",
                vec![format!("SK{}", fake(290, HEX, 32)), fake(291, HEX, 32)],
            ),
            case(
                "jwt-log-line",
                "jwt",
                &format!(
                    "2024-05-01T12:00:00Z DEBUG session restored from cookie {jwt1} (user 42)"
                ),
                jwt1_parts,
            ),
            case(
                "bearer-curl",
                "bearer-token",
                r#"curl -s -H "Authorization: Bearer {0}" https://api.example.com/v1/me"#,
                vec![fake(300, &alnum, 40)],
            ),
            case(
                "basic-auth-header",
                "basic-auth",
                "GET /api/v1/status HTTP/1.1\r\nHost: intranet.acme.local\r\nAuthorization: Basic {0}\r\nAccept: */*\r\n",
                vec![format!("{}==", fake(310, &b64, 26))],
            ),
            case(
                "password-assignment-shell",
                "password",
                "DB_HOST=db.internal password=hunter2secret ./migrate.sh",
                vec!["hunter2secret".to_owned()],
            ),
            case(
                "passwd-yaml",
                "password",
                "smtp:\n  host: mail.acme.io\n  user: mailer\n  passwd: {0}\n",
                vec![fake(320, &alnum, 14)],
            ),
            case(
                "pwd-odbc",
                "password",
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql01,1433;Uid=sa;Pwd={0};Encrypt=yes;",
                vec![format!("{}!x", fake(330, &alnum, 12))],
            ),
            case(
                "password-json",
                "password",
                r#"{"username": "admin", "password": "{0}", "remember": true}"#,
                vec![format!("{} {}", fake(340, &alnum, 8), fake(341, &alnum, 6))],
            ),
            case(
                "secret-assignment-cli",
                "secret",
                "./deploy --env prod secret={0} --verbose",
                vec![fake(350, &alnum, 18)],
            ),
            case(
                "api-key-python",
                "api-key",
                "api_key = \"{0}\"\nclient = Client(api_key=api_key)",
                vec![fake(360, &alnum, 32)],
            ),
            case(
                "token-query-param",
                "token",
                "Open https://example.com/reset?token={0}&user=42 to continue.",
                vec![fake(370, &alnum, 24)],
            ),
            case(
                "client-secret-yaml",
                "client-secret",
                "oauth:\n  client_id: acme-portal\n  client_secret: {0}\n",
                vec![fake(380, &b64url, 32)],
            ),
            case(
                "powershell-securestring",
                "password",
                r#"$secure = ConvertTo-SecureString "{0}" -AsPlainText -Force"#,
                vec![format!("Winter{}!", fake(390, DIGITS, 4))],
            ),
            case(
                "powershell-pscredential",
                "password",
                r#"$cred = New-Object System.Management.Automation.PSCredential("ACME\svc", (ConvertTo-SecureString -String '{0}' -AsPlainText -Force))"#,
                vec![format!("Sv{}#q", fake(391, &alnum, 10))],
            ),
            case(
                "net-user-add",
                "password",
                r"PS C:\> net user svc_backup {0} /add /y",
                vec![format!("Bk{}$", fake(400, &alnum, 10))],
            ),
            case(
                "net-use-share",
                "password",
                r"C:\> net use Z: \\fs01\finance {0} /user:ACME\jdoe /persistent:no",
                vec![format!("Fin{}", fake(401, &alnum, 9))],
            ),
            case(
                "mysql-p",
                "password",
                "mysql -h db.internal -u root -p{0} acme_prod < dump.sql",
                vec![fake(410, &alnum, 12)],
            ),
            case(
                "sshpass",
                "password",
                "sshpass -p '{0}' ssh deploy@web01.acme.local 'uptime'",
                vec![fake(420, &alnum, 12)],
            ),
            case(
                "postgres-url",
                "url-credentials",
                "DATABASE_URL=postgres://admin:S3cr3t!xyz@db.example.com:5432/app",
                vec!["S3cr3t!xyz".to_owned()],
            ),
            case(
                "mongodb-srv-url",
                "url-credentials",
                "mongodb+srv://appuser:{0}@cluster0.abcde.mongodb.net/?retryWrites=true&w=majority",
                vec![fake(430, &alnum, 16)],
            ),
            case(
                "redis-url-no-user",
                "url-credentials",
                "REDIS_URL=redis://:{0}@cache.internal:6379/0",
                vec![fake(440, &alnum, 20)],
            ),
            case(
                "sqlserver-connection-string",
                "password",
                r#""ConnectionStrings": { "Default": "Server=sql01;Database=Acme;User Id=sa;Password={0};TrustServerCertificate=True" }"#,
                vec![format!("{} {}", fake(450, &alnum, 6), fake(451, &alnum, 6))],
            ),
            case(
                "entropy-near-key",
                "high-entropy",
                "Here is the signing key you asked for: {0} -- store it in the vault.",
                vec![fake(460, &b64, 44)],
            ),
            case(
                "entropy-near-token-prose",
                "high-entropy",
                "The webhook token shown in the dashboard was {0}.",
                vec![fake(461, &alnum, 32)],
            ),
            case(
                "json-escaped-transcript",
                "password",
                r#"{"type":"tool_result","content":"{\"db\": {\"host\": \"db1\", \"password\": \"{0}\"}}"}"#,
                vec![fake(470, &alnum, 16)],
            ),
            case(
                "docker-config-auth",
                "auth",
                r#"{"auths": {"registry.acme.io": {"auth": "{0}"}}}"#,
                vec![format!("{}=", fake(480, &b64, 31))],
            ),
            case(
                "unattend-xml",
                "password",
                "<AdministratorPassword>\n  <Value>{0}</Value>\n  <PlainText>false</PlainText>\n</AdministratorPassword>",
                vec![format!("{}==", fake(490, &b64, 30))],
            ),
            case(
                "dotnet-appsettings",
                "password",
                r#"<appSettings><add key="SmtpPassword" value="{0}" /></appSettings>"#,
                vec![fake(500, &alnum, 14)],
            ),
            case(
                "curl-user-pass",
                "password",
                "curl -u admin:{0} https://jenkins.acme.io/api/json",
                vec![fake(510, &alnum, 14)],
            ),
            case(
                "password-flag-space",
                "password",
                "docker login registry.acme.io --username ci --password {0}",
                vec![fake(520, &alnum, 20)],
            ),
            case(
                "google-oauth-bearer",
                "google-oauth-token",
                "Authorization: Bearer ya29.{0}",
                vec![fake(530, &b64url, 80)],
            ),
            case(
                "huggingface",
                "huggingface-token",
                "huggingface-cli login --token hf_{0}",
                vec![fake(540, &alnum, 34)],
            ),
            case(
                "authorization-token-scheme",
                "github-token",
                r#"curl -H "Authorization: token {0}" https://api.github.com/user"#,
                vec![format!("ghp_{}", fake(550, &alnum, 36))],
            ),
            case(
                "ssh-keygen-passphrase",
                "password",
                "ssh-keygen -t ed25519 -N '{0}' -f ~/.ssh/id_ed25519",
                vec![fake(560, &alnum, 16)],
            ),
            case(
                "pgpassword-env",
                "password",
                "PGPASSWORD={0} psql -h db.internal -U app -c 'select 1'",
                vec![fake(570, &alnum, 16)],
            ),
            case(
                "k8s-secret-data",
                "password",
                "apiVersion: v1\nkind: Secret\ndata:\n  username: YWRtaW4=\n  password: {0}\n",
                vec![format!("{}==", fake(580, &b64, 22))],
            ),
            case(
                "rails-secret-key-base",
                "secret",
                "SECRET_KEY_BASE={0}\nRAILS_ENV=production",
                vec![fake(590, HEX, 128)],
            ),
            case(
                "django-secret-key",
                "secret",
                "SECRET_KEY = 'django-insecure-{0}'",
                vec![fake(600, &format!("{alnum}!@#%^*-_"), 50)],
            ),
            case(
                "gcp-oauth-client-json",
                "gcp-client-secret",
                r#"{"installed":{"client_id":"1234567890-abc.apps.googleusercontent.com","client_secret":"{0}"}}"#,
                vec![format!("GOCSPX-{}", fake(610, &b64url, 28))],
            ),
            case(
                "pypirc",
                "pypi-token",
                "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc{0}\n",
                vec![fake(620, &b64url, 70)],
            ),
            case(
                "ruby-symbol-hash",
                "password",
                "ActiveRecord::Base.establish_connection(:adapter => 'mysql2', :password => '{0}')",
                vec![fake(650, &alnum, 14)],
            ),
            case(
                "net-user-in-json-tool-input",
                "password",
                r#"{"name":"Bash","input":{"command":"net user jdoe {0} /add"}}"#,
                vec![format!("Jd{}!", fake(651, &alnum, 10))],
            ),
            case(
                "hex-api-key-near-words",
                "high-entropy",
                "api key for staging: {0}",
                vec![fake(640, HEX, 32)],
            ),
            case(
                "xml-password-element",
                "password",
                "<connection><user>svc</user><password>{0}</password></connection>",
                vec![fake(630, &alnum, 14)],
            ),
        ]
    }

    /// Texts that must come out byte-for-byte unchanged.
    const ORDINARY: &[&str] = &[
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nAuthor: Jane Doe <jane@example.com>\nDate:   Mon Apr 1 10:00:00 2024 +0200\n\n    Fix token refresh race in session store\n\ncommit e83c5163316f89bfbde7d9ab23ca2e25604af290\nMerge: 1a2b3c4 5d6e7f8\n",
        "a1b2c3d Rotate API keys before release\n9f8e7d6 Add password reset flow\n0c1d2e3 Bump regex to 1.13.1\n",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  secret-backup.tar.gz\nChecksum of the signing key: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        r#"{"session_id": "123e4567-e89b-12d3-a456-426614174000", "request_id": "c9a1f1d2-8b3e-4f5a-9c6d-7e8f9a0b1c2d"}"#,
        "Edited /home/u/project/src/main.rs and /home/u/project/src/memory/redact.rs (+120 -4)",
        r"PS C:\Users\jdoe\Documents> Get-Content C:\Users\jdoe\file.txt",
        "See https://docs.rs/regex/latest/regex/struct.Regex.html?search=captures&page=2#method.captures and http://localhost:8080/api/v1/items?sort=name",
        "rustc 1.95.0 (f2d3ce0bd 2026-03-21)\n   Compiling regex v1.13.1\n   Compiling serde v1.0.219\nnode v20.11.1, release 1.0.0-beta.1+build.5",
        "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
        "Reset the password for the user in the admin console, then ask them to choose a new password at next login.",
        "vault-agent --password-file /run/secrets/db_password\npgbouncer --password-file=/run/secrets/db",
        "export AWS_SECRET_ACCESS_KEY\necho $DB_PASSWORD\nDB_PASSWORD=$DB_PASSWORD ./run.sh\npsql \"password=${PGPASS}\"",
        "pub struct Config {\n    pub password: String,\n    pub api_token: Option<String>,\n}\nfn login(user: &str, password: &str) -> Result<Token, AuthError> {\n    let token = client.authenticate(user, password)?;\n",
        "def connect(user, password):\n    return psycopg.connect(host=HOST, user=user, password=password, sslmode=\"require\")\n",
        r#"{"usage":{"input_tokens":1234,"cache_creation_input_tokens":0,"cache_read_input_tokens":5678,"output_tokens":910},"max_tokens":4096}"#,
        "docker run -u 1000:1000 -p 8080:80 -v /srv/data:/data nginx:1.25-alpine",
        "Use a personal access token with the `repo` scope. Rotate keys every 90 days; never commit secrets to git.",
        "PWD=/home/u/project\nOLDPWD=/home/u\nHOME=/home/u\nSHELL=/bin/bash\n",
        "interface Login {\n  password?: string;\n  token: string;\n}\nconst headers = { Authorization: `Bearer ${token}` };",
        "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        r#"{"password": {"type": "string", "minLength": 12}, "token_type": "Bearer"}"#,
        "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db-secret\n      key: password\n",
        "-rw-------  1 u u  411 Apr  1 10:00 id_ed25519\n-rw-r--r--  1 u u   97 Apr  1 10:00 id_ed25519.pub\n",
        "The API uses bearer tokens; send them in the Authorization header.",
        "const apiKeyHeaderName = \"X-Api-Key\"; const keyRotationIntervalMilliseconds = 86400000;",
        "Password: required (min 12 chars)\nToken: none",
        r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"Bash","input":{"command":"cargo test --release","description":"Run tests"}}]},"uuid":"4c1e5a8b-2f3d-4e6a-9b7c-8d0e1f2a3b4c"}"#,
        "if line.starts_with(\"-----BEGIN RSA PRIVATE KEY-----\") { return Kind::Pem; }",
        "match kind { Kind::Password => \"password\", Kind::Token => \"token\" }",
        "mysql -u root -p acme_prod\nsshpass -f ~/.pw ssh host\nnet user jdoe /domain\nnet user administrator *",
        "SELECT id, name FROM users WHERE password_hash IS NULL; -- keys: id, name",
        "https://github.com/acme/app/blob/main/src/auth/token.rs#L42",
        "The deploy key fingerprint is SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8.",
        "Pinned the key script: <script src=\"app.js\" integrity=\"sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC\">",
        "Rotated the token in commit 3f2a9c1d4e5b6a7f8091a2b3c4d5e6f708192a3b yesterday",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@host",
        "msbuild /p:Configuration=Release /p:Platform=x64\nopenssl rsa -passin env:KEYPASS -in key.pem",
        "{\"id_token\": null, \"refresh_token\": \"\"}\nTOKEN=\nPASSWORD=''",
        "Open the net user accounts page, then check the net use mappings for drive Z.",
    ];

    fn redact(text: &str) -> Redacted {
        global().redact(text)
    }

    #[test]
    fn corpus_has_enough_forms() {
        assert!(secret_cases().len() >= 35);
        assert!(ORDINARY.len() >= 15);
        let mut names: Vec<_> = secret_cases().iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), secret_cases().len(), "case names are unique");
    }

    #[test]
    fn secrets_are_redacted() {
        let mut failures = Vec::new();
        for c in secret_cases() {
            let out = redact(&c.text);
            let placeholder = format!("[REDACTED:{}]", c.kind);
            for s in &c.secrets {
                if out.text.contains(s.as_str()) {
                    failures.push(format!(
                        "{}: secret {s:?} survived in {:?}",
                        c.name, out.text
                    ));
                }
            }
            if !out.text.contains(&placeholder) {
                failures.push(format!("{}: no {placeholder} in {:?}", c.name, out.text));
            }
            if out.count == 0 {
                failures.push(format!("{}: count is 0", c.name));
            }
            assert!(
                PLACEHOLDER_KINDS.contains(&c.kind),
                "{}: kind {} not listed",
                c.name,
                c.kind
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let mut failures = Vec::new();
        for text in ORDINARY {
            let out = redact(text);
            if out.text != *text || out.count != 0 {
                failures.push(format!("in:  {text:?}\nout: {:?}", out.text));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn non_secret_context_is_kept() {
        let out = redact("password=hunter2secret");
        assert_eq!(out.text, "password=[REDACTED:password]");
        assert_eq!(out.count, 1);

        let out = redact("postgres://admin:S3cr3t!@db.example.com/x");
        assert_eq!(
            out.text,
            "postgres://admin:[REDACTED:url-credentials]@db.example.com/x"
        );

        let token = fake(1000, &alnum(), 40);
        let out = redact(&format!("Authorization: Bearer {token}"));
        assert_eq!(out.text, "Authorization: Bearer [REDACTED:bearer-token]");

        let path = fake(1001, &alnum(), 24);
        let out = redact(&format!("POST https://hooks.slack.com/services/{path}"));
        assert_eq!(
            out.text,
            "POST https://hooks.slack.com/services/[REDACTED:slack-webhook]"
        );

        let out = redact(r#"{"password": "p@ss w0rd!"}"#);
        assert_eq!(out.text, r#"{"password": "[REDACTED:password]"}"#);

        let out = redact("Server=sql01;User Id=sa;Password=a b c;Encrypt=True");
        assert_eq!(
            out.text,
            "Server=sql01;User Id=sa;Password=[REDACTED:password];Encrypt=True"
        );
    }

    #[test]
    fn whole_pem_block_is_one_placeholder() {
        let c = &secret_cases()[0];
        let out = redact(&c.text);
        assert_eq!(
            out.text,
            "$ cat ~/.ssh/id_rsa\n[REDACTED:private-key]\n$ ls -la ~/.ssh\n"
        );
        assert_eq!(out.count, 1);
    }

    #[test]
    fn count_matches_number_of_secrets() {
        let gh = format!("ghp_{}", fake(1100, &alnum(), 36));
        let aws = format!("AKIA{}", fake(1101, &upper_digits(), 16));
        let text = format!("token one {gh}\nkey two {aws}\npassword=hunter2secret\n");
        let out = redact(&text);
        assert_eq!(out.count, 3, "{}", out.text);
    }

    fn vault_redactor() -> Redactor {
        let set: HashSet<String> = ["Tr0ub4dor&3xyz".to_owned()].into_iter().collect();
        Redactor::new().with_known_secrets(move |candidate| set.contains(candidate))
    }

    #[test]
    fn known_secrets_are_redacted_everywhere() {
        let red = vault_redactor();
        let texts = [
            "login with \"Tr0ub4dor&3xyz\" please",
            "DB_PASS=Tr0ub4dor&3xyz ./run.sh",
            "Tr0ub4dor&3xyz",
            "the value was (Tr0ub4dor&3xyz).",
            "https://h.example/?a=1&pw=Tr0ub4dor&3xyz&b=2",
            r#"{"note":"Tr0ub4dor&3xyz"}"#,
            r#"{\"pw\":\"Tr0ub4dor&3xyz\"}"#,
            "user:Tr0ub4dor&3xyz@host",
            "the vault says: pass=Tr0ub4dor&3xyz;next=1",
            "'Tr0ub4dor&3xyz'\n`Tr0ub4dor&3xyz`",
        ];
        for text in texts {
            let out = red.redact(text);
            assert!(
                !out.text.contains("Tr0ub4dor"),
                "{text:?} -> {:?}",
                out.text
            );
            assert!(
                out.text.contains(PLACEHOLDER_PREFIX),
                "{text:?} -> {:?}",
                out.text
            );
        }
        assert_eq!(red.redact("Tr0ub4dor&3xyz").text, "[REDACTED:known-secret]");
        assert_eq!(
            red.redact("echo \"Tr0ub4dor&3xyz\"").text,
            "echo \"[REDACTED:known-secret]\""
        );
        // `password=` alone sees only `Tr0ub4dor` (`&` ends a bare value); the
        // known secret widens the span to the whole value.
        assert_eq!(
            red.redact("password=Tr0ub4dor&3xyz").text,
            "password=[REDACTED:known-secret]"
        );
    }

    #[test]
    fn known_secrets_leave_other_tokens_alone() {
        let red = vault_redactor();
        for text in [
            "Tr0ub4dor&3xyz2 is a different value",
            "the quick brown fox jumps over the lazy dog",
            "Tr0ub4dor and 3xyz apart",
        ] {
            let out = red.redact(text);
            assert_eq!(out.text, text);
            assert_eq!(out.count, 0);
        }
        for text in ORDINARY {
            assert_eq!(red.redact(text).text, *text);
        }
    }

    #[test]
    fn redaction_is_idempotent() {
        let red = vault_redactor();
        let mut inputs: Vec<String> = secret_cases().into_iter().map(|c| c.text).collect();
        inputs.extend(ORDINARY.iter().map(|s| (*s).to_owned()));
        inputs.push("user:Tr0ub4dor&3xyz@host and password=Tr0ub4dor&3xyz".to_owned());
        for text in inputs {
            let once = red.redact(&text);
            let twice = red.redact(&once.text);
            assert_eq!(twice.text, once.text, "not idempotent for {text:?}");
            assert_eq!(twice.count, 0, "re-redacted {:?}", once.text);
        }
    }

    #[test]
    fn placeholders_are_never_re_redacted() {
        let text = "password=[REDACTED:password] token: [REDACTED:github-token]\n\
                    postgres://admin:[REDACTED:url-credentials]@db/x\n\
                    Authorization: Bearer [REDACTED:bearer-token]\n\
                    api key [REDACTED:api-key] next [REDACTED:known-secret]";
        let out = vault_redactor().redact(text);
        assert_eq!(out.text, text);
        assert_eq!(out.count, 0);
    }

    #[test]
    fn huge_input_completes_and_is_correct() {
        let cases = secret_cases();
        let mut block = String::new();
        let mut per_block = 0;
        for c in cases.iter().take(12) {
            block.push_str(&c.text);
            block.push('\n');
            per_block += redact(&c.text).count;
        }
        for text in ORDINARY {
            block.push_str(text);
            block.push('\n');
        }
        let reps = 5 * 1024 * 1024 / block.len() + 1;
        let huge = block.repeat(reps);
        assert!(huge.len() >= 5 * 1024 * 1024);
        let out = redact(&huge);
        assert_eq!(out.count, per_block * reps);
        for c in cases.iter().take(12) {
            for s in &c.secrets {
                assert!(!out.text.contains(s.as_str()), "{} survived", c.name);
            }
        }
        // One huge line without whitespace (minified JSON) is fine too.
        let line = "{\"k\":\"v\",\"n\":1}".repeat(300_000);
        assert_eq!(vault_redactor().redact(&line).count, 0);
    }

    #[test]
    fn random_strings_look_random_and_words_do_not() {
        let alphabets = [
            alnum(),
            b64(),
            b64url(),
            upper_digits(),
            format!("{LOWER}{DIGITS}"),
        ];
        let mut total = 0;
        let mut detected = 0;
        for (a, alphabet) in alphabets.iter().enumerate() {
            for i in 0..200u64 {
                let len = 20 + (i as usize % 45);
                let mut rng = Rng::new(10_000 + a as u64 * 1000 + i);
                let s: String = (0..len)
                    .map(|_| char::from(rng.pick(alphabet.as_bytes())))
                    .collect();
                total += 1;
                if looks_random(&s) {
                    detected += 1;
                }
            }
        }
        // Strings that by chance have a single character class (all letters
        // of one case) are the only expected misses.
        assert!(detected * 100 >= total * 95, "{detected}/{total}");

        for word in [
            "getUserPreferencesForAccount",
            "the_default_user_preferences_v2",
            "MY_APP_CONFIG_VALUE_2024",
            "/home/u/project/src/main",
            "src/memory/redact_module/tests",
            "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "123e4567-e89b-12d3-a456-426614174000",
            "node_modules/typescript/lib",
            "keyRotationIntervalMilliseconds",
            "aaaaaaaaaaaaaaaaaaaaaaaa1",
            "state-of-the-art-implementation",
            "20240101123045_create_users",
            "ababababababababababAB12",
        ] {
            assert!(!looks_random(word), "{word} looked random");
        }
    }

    #[test]
    fn key_names_are_classified() {
        let kind = |k: &str| secret_key_kind(&segments(k));
        assert_eq!(kind("password"), Some("password"));
        assert_eq!(kind("DB_PASSWORD"), Some("password"));
        assert_eq!(kind("PGPASSWORD"), Some("password"));
        assert_eq!(kind("dbPassword"), Some("password"));
        assert_eq!(kind("--password"), Some("password"));
        assert_eq!(kind("password_hash"), Some("password"));
        assert_eq!(kind("AWS_SECRET_ACCESS_KEY"), Some("aws-secret"));
        assert_eq!(kind("SecretAccessKey"), Some("aws-secret"));
        assert_eq!(kind("AccountKey"), Some("azure-key"));
        assert_eq!(kind("SharedAccessKey"), Some("azure-key"));
        assert_eq!(kind("x-api-key"), Some("api-key"));
        assert_eq!(kind("apiKey"), Some("api-key"));
        assert_eq!(kind("APIKEY"), Some("api-key"));
        assert_eq!(kind("client_secret"), Some("client-secret"));
        assert_eq!(kind("accessToken"), Some("token"));
        assert_eq!(kind("_authToken"), Some("token"));
        assert_eq!(kind("private_key"), Some("private-key"));
        assert_eq!(kind("sig"), Some("sas-token"));
        for not_secret in [
            "max_tokens",
            "input_tokens",
            "token_type",
            "token_count",
            "password_file",
            "password-file",
            "private_key_id",
            "public_key",
            "primary_key",
            "sort_key",
            "secretName",
            "key",
            "keys",
            "author",
            "authorization",
            "monkey",
            "bypass",
        ] {
            assert_eq!(kind(not_secret), None, "{not_secret}");
        }
    }

    #[test]
    fn segments_split_identifiers() {
        assert_eq!(
            segments("AWS_SECRET_ACCESS_KEY"),
            ["aws", "secret", "access", "key"]
        );
        assert_eq!(segments("HTTPToken"), ["http", "token"]);
        assert_eq!(segments("clientSecret"), ["client", "secret"]);
        assert_eq!(segments("x-api-key"), ["x", "api", "key"]);
        assert_eq!(
            segments("spring.datasource.password"),
            ["spring", "datasource", "password"]
        );
    }

    #[test]
    fn value_parser_handles_escaped_quotes() {
        fn v(t: &str) -> Option<&str> {
            parse_value(t, 0, false).map(|v| &t[v.start..v.end])
        }
        assert_eq!(v(r#""pa\"ss" rest"#), Some(r#"pa\"ss"#));
        assert_eq!(v(r#"\"hunter2\", next"#), Some("hunter2"));
        assert_eq!(v(r#"\\\"deep\\\""#), Some("deep"));
        assert_eq!(v(r#"'single quoted' x"#), Some("single quoted"));
        assert_eq!(v("bare&next=1"), Some("bare"));
        assert_eq!(v(r"abc\nnext"), Some("abc"));
        assert_eq!(v("  spaced"), Some("spaced"));
        assert_eq!(v("\"unterminated value"), Some("unterminated"));
        assert_eq!(v(""), None);
        assert_eq!(v("\n"), None);
        assert_eq!(
            parse_value("a b c;x", 0, true).map(|v| (v.start, v.end)),
            Some((0, 5))
        );
    }

    #[test]
    fn references_masks_and_code_are_not_values() {
        for v in [
            "$DB_PASSWORD",
            "${TOKEN}",
            "$(cat /run/secrets/x)",
            "$env:PW",
            "%PASSWORD%",
            "{{ .Values.pw }}",
            "<your-token>",
            "$Password",
        ] {
            assert!(!value_is_secret(v, true), "{v}");
        }
        for v in [
            "********",
            "xxxx",
            "...",
            "String",
            "&str",
            "self.password",
            "getpass(",
            "os.environ[",
            "Read-Host",
            "db_password",
            "required",
            "none",
        ] {
            assert!(!value_is_secret(v, false), "{v}");
        }
        for v in [
            "hunter2secret",
            "letmein",
            "CHANGEME",
            "$uperS3cret!",
            "Winter2024!",
        ] {
            assert!(value_is_secret(v, false), "{v}");
        }
    }

    #[test]
    fn non_ascii_text_is_safe() {
        let text = "Пароль: password=пароль123ünïcødé 🙂 token=✓✓✓✓✓✓ and ключ";
        let out = redact(text);
        assert!(!out.text.contains("пароль123"));
        let out2 = vault_redactor().redact(&"é".repeat(5000));
        assert_eq!(out2.count, 0);
    }

    #[test]
    fn random_fragments_never_panic_and_stay_idempotent() {
        let fragments = [
            "password",
            "token",
            "secret",
            "api_key",
            "Authorization",
            "Bearer",
            "Basic",
            "=",
            ":",
            ": ",
            "\"",
            "'",
            "\\",
            "\\\"",
            "\\n",
            "\n",
            " ",
            "\t",
            ";",
            "&",
            "@",
            "/",
            "://",
            "https",
            "user",
            "$",
            "${",
            "}",
            "[REDACTED:",
            "]",
            "-----BEGIN PRIVATE KEY-----",
            "-----END PRIVATE KEY-----",
            "net user ",
            "mysql -p",
            "sshpass -p ",
            "é",
            "🙂",
            "ключ",
            "\u{00a0}",
            "AbC9xYz",
            "0123456789abcdef",
            "ghp_",
            "AKIA",
            "eyJ",
            ".",
            "Q~",
            "sig=",
            "%",
            "<Value>",
            "</Value>",
            "<Password>",
            "key=\"",
            "value=\"",
        ];
        let red = vault_redactor();
        let mut rng = Rng::new(4242);
        for _ in 0..3000 {
            let n = 1 + (rng.next() % 24) as usize;
            let mut text = String::new();
            for _ in 0..n {
                let f = fragments[(rng.next() % fragments.len() as u64) as usize];
                text.push_str(f);
                if rng.next().is_multiple_of(3) {
                    text.push_str(&fake(rng.next(), &alnum(), 8 + (rng.next() % 40) as usize));
                }
            }
            let once = red.redact(&text);
            let twice = red.redact(&once.text);
            assert_eq!(twice.text, once.text, "not idempotent for {text:?}");
        }
    }

    #[test]
    fn global_is_shared() {
        assert!(std::ptr::eq(global(), global()));
    }
}
