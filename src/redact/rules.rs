//! The built-in rules: secret shapes and command lines.

/// One built-in shape: a pattern that identifies a secret by its format.
/// A `(?P<s>…)` group, when present, marks the secret part (the rest, e.g. a
/// webhook's host, is kept).
pub(super) struct Shape {
    pub(super) kind: &'static str,
    pub(super) pattern: &'static str,
    pub(super) check: Option<fn(&str) -> bool>,
}

pub(super) const fn shape(kind: &'static str, pattern: &'static str) -> Shape {
    Shape {
        kind,
        pattern,
        check: None,
    }
}

pub(super) const fn shape_checked(
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
pub(super) const SHAPES: &[Shape] = &[
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
pub(super) const SHAPES_UNANCHORED: &[Shape] = &[
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
pub(super) enum Cli {
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
pub(super) const CLI_RULES: &[(Cli, &str)] = &[
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

pub(super) fn pem_is_key(m: &str) -> bool {
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

pub(super) fn has_digit_and_letter(s: &str) -> bool {
    // `sk-` + 20 chars with no digit is a slug (`sk-learn-compatible-…`).
    let body = s.get(3..).unwrap_or("");
    body.bytes().any(|c| c.is_ascii_digit()) && body.bytes().any(|c| c.is_ascii_alphabetic())
}
