//! The context layer: values whose position makes them secret (`password=`,
//! `Authorization:` headers, URL credentials, command lines, markup).

use super::keys::{is_keyword, secret_key_kind, segments, value_is_secret};
use super::lazy::Rules;
use super::rules::{Shape, TRIGGERS, ValueAt};
use super::{
    Hit, LAYER_AUTH_HEADER, LAYER_BEARER, LAYER_DOTNET_SETTING, LAYER_FLAG, LAYER_IDENT,
    LAYER_K8S_SECRET, LAYER_NAME_VALUE, LAYER_URL_CREDENTIALS, LAYER_XML_ELEMENT, PRIO_CONTEXT,
    PRIO_SHAPE, Redactor, overlaps_any,
};

/// Longest value read by the hand-written value parser. Values longer than
/// this are cut (the rest stays), which bounds the work per match.
pub(super) const MAX_VALUE_LEN: usize = 4096;

/// A value located by [`parse_value`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Value {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) quoted: bool,
}

impl Redactor {
    pub(super) fn shape_hits(
        &self,
        rules: &Rules,
        found: &[bool],
        shapes: &[Shape],
        text: &str,
        hits: &mut Vec<Hit>,
    ) {
        for (i, caps) in rules.captures_iter(text, found) {
            let Some(whole) = caps.get(0) else {
                continue;
            };
            let shape = &shapes[i];
            if shape.check.is_some_and(|check| !check(whole.as_str())) {
                continue;
            }
            let span = caps.name("s").unwrap_or(whole);
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
    pub(super) fn assignment_hits(
        &self,
        text: &str,
        layers: &[bool],
        placeholders: &[(usize, usize)],
        hits: &mut Vec<Hit>,
        keywords: &mut Vec<usize>,
    ) {
        let bytes = text.as_bytes();
        let Some(re) = self.layers.get(LAYER_IDENT, layers) else {
            return;
        };
        for m in re.find_iter(text) {
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

    /// Trigger rules: a command and flag, a config line or a label, then
    /// the value.
    pub(super) fn trigger_hits(&self, text: &str, found: &[bool], hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        let mut values = Vec::new();
        for (rule, caps) in self.triggers.captures_iter(text, found) {
            let Some(end) = caps.get(0).map(|m| m.end()) else {
                continue;
            };
            let trigger = &TRIGGERS[rule];
            values.clear();
            match trigger.value {
                ValueAt::AtEnd => values.extend(parse_value(text, end, false)),
                ValueAt::Adjacent => {
                    if bytes.get(end).is_some_and(|c| !c.is_ascii_whitespace()) {
                        values.extend(parse_value(text, end, false));
                    }
                }
                ValueAt::Group => {
                    let group = caps.name("v");
                    values.extend(group.and_then(|m| unquote(text, m.start(), m.end())));
                }
                ValueAt::Flags(flags) => flag_values(text, end, flags, &mut values),
                ValueAt::Positional(n, takes_value) => {
                    values.extend(positional(text, end, n, takes_value));
                }
                ValueAt::NetUser => values.extend(net_user_password(text, end)),
                ValueAt::NetUse => values.extend(net_use_password(text, end)),
            }
            for v in &values {
                let s = &text[v.start..v.end];
                let accepted = match trigger.check {
                    Some(check) => {
                        check(s) || (v.quoted && value_is_secret(s, true) && s.len() >= 4)
                    }
                    None => value_is_secret(s, v.quoted),
                };
                if s.starts_with('-') || !accepted {
                    continue;
                }
                hits.push(Hit {
                    start: v.start,
                    end: v.end,
                    kind: trigger.kind,
                    prio: PRIO_CONTEXT,
                });
            }
        }
    }

    /// Every value under `data:` / `stringData:` of a Kubernetes Secret, in
    /// YAML (`kubectl get secret -o yaml`, manifests) or JSON.
    pub(super) fn k8s_secret_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        let Some(re) = self.layers.get(LAYER_K8S_SECRET, layers) else {
            return;
        };
        for m in re.find_iter(text) {
            // The document around the marker: YAML documents end at `---`;
            // bounded so that the work per marker is too.
            let lo = text[..m.start()]
                .rfind("\n---")
                .map_or(0, |i| i + 4)
                .max(m.start().saturating_sub(K8S_WINDOW));
            let hi = text[m.end()..]
                .find("\n---")
                .map_or(text.len(), |i| m.end() + i)
                .min(m.end() + K8S_WINDOW);
            let (lo, hi) = (floor(text, lo), floor(text, hi));
            if m.as_str().starts_with('"') {
                json_secret_data(text, lo, hi, hits);
            } else {
                yaml_secret_data(text, lo, hi, hits);
            }
        }
    }

    pub(super) fn flag_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        let Some(re) = self.layers.get(LAYER_FLAG, layers) else {
            return;
        };
        for caps in re.captures_iter(text) {
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
    pub(super) fn auth_header_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        let Some(re) = self.layers.get(LAYER_AUTH_HEADER, layers) else {
            return;
        };
        for m in re.find_iter(text) {
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
    pub(super) fn bearer_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        let Some(re) = self.layers.get(LAYER_BEARER, layers) else {
            return;
        };
        for m in re.find_iter(text) {
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
    pub(super) fn url_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        let Some(re) = self.layers.get(LAYER_URL_CREDENTIALS, layers) else {
            return;
        };
        for caps in re.captures_iter(text) {
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
    pub(super) fn markup_hits(&self, text: &str, layers: &[bool], hits: &mut Vec<Hit>) {
        for layer in [LAYER_XML_ELEMENT, LAYER_DOTNET_SETTING, LAYER_NAME_VALUE] {
            let Some(re) = self.layers.get(layer, layers) else {
                continue;
            };
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
}

/// After an identifier: an optional closing quote (possibly escaped, as in
/// `{\"password\": …}`), blanks, then `=`, `:`, `:=` or (for quoted and
/// symbol keys) `=>`. Returns where the value starts.
pub(super) fn separator_after(bytes: &[u8], ident_end: usize, symbol_key: bool) -> Option<usize> {
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

pub(super) fn preceded_by_semicolon(bytes: &[u8], start: usize) -> bool {
    bytes[..start]
        .iter()
        .rev()
        .find(|c| !matches!(c, b' ' | b'\t'))
        .is_some_and(|&c| c == b';')
}

/// Reads the value starting at `pos` (after blanks): a quoted string whose
/// quote may itself be escaped (`\"…\"` in JSON-in-JSON), or an unquoted run.
pub(super) fn parse_value(text: &str, pos: usize, conn_string: bool) -> Option<Value> {
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

pub(super) fn parse_unquoted(text: &str, start: usize, conn_string: bool) -> Option<Value> {
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
pub(super) fn token_end(bytes: &[u8], start: usize) -> usize {
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

pub(super) fn is_auth_scheme(lower: &str) -> bool {
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
pub(super) fn net_user_password(text: &str, pos: usize) -> Option<Value> {
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
pub(super) fn net_use_password(text: &str, pos: usize) -> Option<Value> {
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
pub(super) fn shell_arg_end(b: &[u8], start: usize) -> Option<usize> {
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

/// How far around a `kind: Secret` marker its data is looked for.
const K8S_WINDOW: usize = 64 * 1024;

fn floor(text: &str, i: usize) -> usize {
    text.floor_char_boundary(i)
}

/// `data:` / `stringData:` blocks in a YAML document: each more-indented
/// `key: value` line's value, and block scalars (`key: |`) line by line.
fn yaml_secret_data(text: &str, lo: usize, hi: usize, hits: &mut Vec<Hit>) {
    let doc = &text[lo..hi];
    let mut in_data: Option<usize> = None;
    let mut block: Option<usize> = None;
    let mut offset = lo;
    for line in doc.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let content = body.trim();
        if content.is_empty() {
            continue;
        }
        if let Some(b) = block {
            if indent > b {
                hits.push(secret_hit(start + indent, start + body.len()));
                continue;
            }
            block = None;
        }
        match in_data {
            Some(d) if indent > d => {
                let Some(colon) = content
                    .find(": ")
                    .or_else(|| content.strip_suffix(':').map(|c| c.len()))
                else {
                    continue;
                };
                let value = content[colon + 1..].trim();
                if value.is_empty() || matches!(value, "|" | ">" | "|-" | ">-" | "|+" | ">+") {
                    block = Some(indent);
                    continue;
                }
                let vstart = start
                    + indent
                    + colon
                    + 1
                    + (content[colon + 1..].len() - content[colon + 1..].trim_start().len());
                let v = value.trim_matches(['"', '\'']);
                let lead = value.len() - value.trim_start_matches(['"', '\'']).len();
                if !v.is_empty() && !v.starts_with(super::PLACEHOLDER_PREFIX) {
                    hits.push(secret_hit(vstart + lead, vstart + lead + v.len()));
                }
            }
            _ => {
                in_data = matches!(content, "data:" | "stringData:").then_some(indent);
            }
        }
    }
}

/// `"data": {"k": "v", …}` objects in a JSON document: every string value.
fn json_secret_data(text: &str, lo: usize, hi: usize, hits: &mut Vec<Hit>) {
    let doc = &text[lo..hi];
    for key in ["\"data\"", "\"stringData\""] {
        let mut from = 0;
        while let Some(i) = doc[from..].find(key) {
            let after = from + i + key.len();
            from = after;
            let rest = doc[after..].trim_start();
            let Some(rest) = rest.strip_prefix(':') else {
                continue;
            };
            let rest_trim = rest.trim_start();
            if !rest_trim.starts_with('{') {
                continue;
            }
            let open = doc.len() - rest_trim.len();
            let b = doc.as_bytes();
            let mut j = open + 1;
            // Alternate key, value; values are the strings after a `:`.
            let mut expect_value = false;
            while j < b.len() && b[j] != b'}' {
                match b[j] {
                    b'"' => {
                        let s = j + 1;
                        let mut k = s;
                        while k < b.len() && b[k] != b'"' {
                            k += if b[k] == b'\\' { 2 } else { 1 };
                        }
                        let e = k.min(b.len());
                        if expect_value && e > s {
                            hits.push(secret_hit(lo + s, lo + e));
                        }
                        expect_value = false;
                        j = e + 1;
                    }
                    b':' => {
                        expect_value = true;
                        j += 1;
                    }
                    b',' => {
                        expect_value = false;
                        j += 1;
                    }
                    _ => j += 1,
                }
            }
        }
    }
}

fn secret_hit(start: usize, end: usize) -> Hit {
    Hit {
        start,
        end,
        kind: "secret",
        prio: PRIO_CONTEXT,
    }
}

/// A value captured with its quotes: the inside of the quotes.
fn unquote(text: &str, start: usize, end: usize) -> Option<Value> {
    let s = &text[start..end];
    let quoted = s.len() >= 2
        && (s.starts_with('"') && s.ends_with('"') || s.starts_with('\'') && s.ends_with('\''));
    let (start, end) = if quoted {
        (start + 1, end - 1)
    } else {
        (start, end)
    };
    (end > start).then_some(Value { start, end, quoted })
}

/// The shell arguments of one command, from `pos` to the end of the line or
/// statement: `(start, end)` of each, quotes included.
fn command_args(text: &str, pos: usize) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut args = Vec::new();
    let mut i = pos;
    while args.len() < 64 {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let Some(end) = shell_arg_end(b, i) else {
            break;
        };
        if matches!(b.get(i), Some(b'\'')) {
            // `shell_arg_end` reads double quotes only.
            let close = b[i + 1..].iter().position(|&c| c == b'\'' || c == b'\n');
            let end = close.map_or(end, |c| i + 1 + c + 1);
            args.push((i, end));
            i = end;
            continue;
        }
        args.push((i, end));
        i = end;
    }
    args
}

/// Values of `flags` on the command line after `pos`: `-P VALUE` and
/// `--flag=VALUE`.
fn flag_values(text: &str, pos: usize, flags: &[&str], out: &mut Vec<Value>) {
    let args = command_args(text, pos);
    for (n, &(s, e)) in args.iter().enumerate() {
        let arg = &text[s..e];
        if flags.contains(&arg) {
            if let Some(&(vs, _)) = args.get(n + 1) {
                out.extend(parse_value(text, vs, false));
            }
        } else if let Some((flag, _)) = arg.split_once('=')
            && flag.starts_with("--")
            && flags.contains(&flag)
        {
            out.extend(parse_value(text, s + flag.len() + 1, false));
        }
    }
}

/// The n-th argument after `pos` that is neither a flag nor the value of
/// one of `takes_value`.
fn positional(text: &str, pos: usize, n: usize, takes_value: &[&str]) -> Option<Value> {
    let args = command_args(text, pos);
    let mut seen = 0;
    let mut skip = false;
    for &(s, e) in &args {
        let arg = &text[s..e];
        if skip {
            skip = false;
            continue;
        }
        if arg.starts_with('-') {
            skip = takes_value.contains(&arg);
            continue;
        }
        if seen == n {
            return parse_value(text, s, false);
        }
        seen += 1;
    }
    None
}
