//! The known-secrets layer: candidate tokens offered to an outside matcher
//! (the vault), see [`crate::known_secrets`].

use std::collections::HashSet;

use super::{Hit, PRIO_KNOWN};
use crate::known_secrets;

/// Offers candidate substrings to `known`. Per whitespace/quote-delimited
/// token: the token, the token without edge punctuation, the value after its
/// first `=`/`:`, its query/connection-string fields (and their values), and
/// its punctuation-delimited pieces. Each byte is in a bounded number of
/// candidates, so the work stays linear in the text.
pub(super) fn known_secret_hits(
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

pub(super) fn is_piece_delim(c: u8) -> bool {
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
pub(super) fn key_follows(rest: &[u8]) -> bool {
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
pub(super) fn trim_punct(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
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
