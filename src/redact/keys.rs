//! How key names and values are classified: which identifiers name a
//! secret, which values are references, masks, code or prose. The word lists
//! are data files in `words/`.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::PLACEHOLDER_PREFIX;

/// Every word list's source, for [`super::fingerprint`].
pub(super) const WORD_LISTS: &[&str] = &[
    include_str!("words/key_qualifiers.txt"),
    include_str!("words/secret_key_qualifiers.txt"),
    include_str!("words/keywords.txt"),
    include_str!("words/stopwords.txt"),
    include_str!("words/digest_words.txt"),
    include_str!("words/default_passwords.txt"),
];

/// A word list kept as a data file (one word per line, `#` comments), read
/// into a set on first use.
pub(super) struct WordList {
    source: &'static str,
    set: OnceLock<HashSet<&'static str>>,
}

impl WordList {
    pub(super) const fn new(source: &'static str) -> WordList {
        WordList {
            source,
            set: OnceLock::new(),
        }
    }

    pub(super) fn words(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.source
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    pub(super) fn contains(&self, word: &str) -> bool {
        self.set
            .get_or_init(|| self.words().collect())
            .contains(word)
    }
}

/// Splits an identifier into lowercase words: on `_ - . :` and other
/// punctuation, and on camelCase / `HTTPToken` boundaries.
pub(super) fn segments(ident: &str) -> Vec<String> {
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
pub(super) static KEY_QUALIFIERS: WordList =
    WordList::new(include_str!("words/key_qualifiers.txt"));

/// Words before `key` that make it a secret key (`api_key`, `AccountKey`)
/// rather than a lookup key (`sort_key`, `public_key`, `primary_key`).
pub(super) static SECRET_KEY_QUALIFIERS: WordList =
    WordList::new(include_str!("words/secret_key_qualifiers.txt"));

/// The placeholder kind for a key (as words), or `None` when the key does
/// not name a secret (`token_type`, `max_tokens`, `password_file`, `key_id`).
pub(super) fn secret_key_kind(segs: &[String]) -> Option<&'static str> {
    let mut end = segs.len();
    while end > 1 && KEY_QUALIFIERS.contains(&segs[end - 1]) {
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
    if last.ends_with("psk") {
        return Some("psk");
    }
    if last.ends_with("totp") {
        return Some("totp-seed");
    }
    if last.ends_with("community") {
        return Some("snmp-secret");
    }
    if last == "concealed" {
        return Some("password");
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
            q if SECRET_KEY_QUALIFIERS.contains(q) => "api-key",
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
pub(super) static KEYWORDS: WordList = WordList::new(include_str!("words/keywords.txt"));

pub(super) fn is_keyword(segs: &[String]) -> bool {
    segs.iter().any(|s| {
        let singular = s.strip_suffix('s').unwrap_or(s);
        KEYWORDS.contains(s)
            || KEYWORDS.contains(singular)
            || ["password", "passwd", "secret", "token", "apikey"]
                .iter()
                .any(|w| s.ends_with(w))
    })
}

/// Prose and code words that follow `password:` / `--token` without being a
/// value ("Password: required", "use --password to …").
pub(super) static STOPWORDS: WordList = WordList::new(include_str!("words/stopwords.txt"));

/// Whether a located value is a secret rather than a reference, a mask, a
/// type annotation or a word of prose.
pub(super) fn value_is_secret(value: &str, quoted: bool) -> bool {
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
    !(STOPWORDS.contains(&bare) || looks_like_code(v))
}

/// `$VAR`, `${VAR}`, `$(cmd)`, `$env:X`, `%VAR%`, `{{ tmpl }}`, `<your-key>`.
pub(super) fn is_reference(v: &str) -> bool {
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
pub(super) fn is_masked(v: &str) -> bool {
    v.chars()
        .all(|c| matches!(c, '*' | '•' | '●' | 'x' | 'X' | '.' | '#' | '?' | '-' | '_'))
}

/// An unquoted value that reads as code, not as a literal: `password`,
/// `db_password`, `self.password`, `getpass(`, `os.environ[`, `String`,
/// `Read-Host`, `&str`. Values with digits never qualify: real passwords
/// almost always have one, identifiers rarely do.
pub(super) fn looks_like_code(v: &str) -> bool {
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

/// Whether a value in prose reads like a password rather than a word: six
/// or more characters from at least two classes (lower, upper, digit,
/// symbol other than `-_.`), not a path, not code. "the password is in the vault" stays.
pub(super) fn strong_value(value: &str) -> bool {
    let v = value.trim_end_matches(['.', ',', ';', ')', '!', '?']);
    let v = if v.len() >= 6 { v } else { value };
    if v.chars().count() < 6 || v.starts_with(['/', '~', '.', '\\']) || !value_is_secret(v, false) {
        return false;
    }
    let has = |f: fn(&u8) -> bool| u8::from(v.as_bytes().iter().any(f));
    let classes = has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|c| (c.is_ascii_punctuation() && !matches!(c, b'-' | b'_' | b'.')) || !c.is_ascii());
    classes >= 2 && !v.contains("://")
}

/// Vendor default passwords (`root/calvin`), recognised in a credential
/// pair even though they read like words.
static DEFAULT_PASSWORDS: WordList = WordList::new(include_str!("words/default_passwords.txt"));

/// The password half of `user/password` after a login word.
pub(super) fn pair_password(value: &str) -> bool {
    strong_value(value) || DEFAULT_PASSWORDS.contains(&value.to_ascii_lowercase())
}
