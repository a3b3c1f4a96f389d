//! The entropy layer: long random-looking strings shortly after a secret
//! keyword on the same line.

use super::keys::WordList;
use super::{Hit, PRIO_ENTROPY, Redactor};

/// How far (bytes, same line) a keyword may stand before a high-entropy
/// string for the string to count as a secret.
pub(super) const ENTROPY_WINDOW: usize = 48;
/// Shortest string the entropy layer looks at.
pub(super) const ENTROPY_MIN_LEN: usize = 20;
/// Minimum Shannon entropy in bits per char. Random base62 of 20 chars scores
/// about 4.0, random hex about 3.7 (hex is excluded anyway); text such as
/// `aaaaaaaaaaaaaaaaaaa1` or `abababab…` scores far below.
pub(super) const ENTROPY_MIN_BITS: f64 = 3.0;
/// Mean length of the letter/digit runs at or above which a string reads as
/// words (`getUserPreferences`, `MY_APP_CONFIG_2024`) rather than noise.
/// Random base62 averages about 1.8, random lowercase+digits about 2.5.
pub(super) const WORDY_MEAN_RUN: f64 = 4.0;

impl Redactor {
    /// Random-looking strings shortly after a secret keyword on the same line.
    pub(super) fn entropy_hits(&self, text: &str, keywords: &[usize], hits: &mut Vec<Hit>) {
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
            // Base64 has `=` only as trailing padding: `a=b=c` is an
            // assignment chain, and only its last part can be key material.
            let body = text[start..m.end()].trim_end_matches('=');
            if let Some(i) = body.rfind('=') {
                start += i + 1;
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

/// Shannon entropy in bits per char.
pub(super) fn shannon_entropy(b: &[u8]) -> f64 {
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
pub(super) fn mean_alnum_run(b: &[u8]) -> f64 {
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
pub(super) fn is_path_like(tok: &str) -> bool {
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
pub(super) fn looks_random(tok: &str) -> bool {
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
pub(super) const ENTROPY_MIN_HEX_LEN: usize = 32;

/// Words that mark a nearby hex string as a digest or object id.
pub(super) static DIGEST_WORDS: WordList = WordList::new(include_str!("words/digest_words.txt"));

pub(super) fn looks_random_hex(tok: &str) -> bool {
    let b = tok.as_bytes();
    b.len() >= ENTROPY_MIN_HEX_LEN
        && b.iter().any(|c| c.is_ascii_digit())
        && b.iter().any(|c| c.is_ascii_alphabetic())
        && shannon_entropy(b) >= ENTROPY_MIN_BITS
}

/// Whether a digest word occurs in the window before `start` (same line).
pub(super) fn digest_word_before(bytes: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(ENTROPY_WINDOW);
    let window = &bytes[lo..start];
    let window = window
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(window, |i| &window[i + 1..]);
    let lower = window.to_ascii_lowercase();
    DIGEST_WORDS
        .words()
        .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
}

/// `SHA256:nThbg…` (SSH fingerprints), `sha384-oqVu…` (subresource
/// integrity), `md5:…`: labelled digests, not secrets.
pub(super) fn is_prefixed_digest(bytes: &[u8], start: usize, candidate: &str) -> bool {
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
