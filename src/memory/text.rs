//! Text normalisation shared by the index and the queries: lower-case words,
//! stop words dropped, Snowball English stems. The index stores normalised
//! text, so a query term and its document frequency can be looked up exactly.

use std::collections::HashSet;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::tags;

/// Words longer than this (hashes, base64) are not useful search terms.
const MAX_WORD: usize = 40;

/// The first `max` characters of `s` (all of it when shorter).
pub fn prefix_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The first `max_bytes` of `s`, cut back to a character boundary, with "…"
/// marking a cut.
pub fn prefix_bytes_marked(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_string();
    }
    format!("{}…", &s[..s.floor_char_boundary(max_bytes)])
}

/// How far a cut point may move to reach a token boundary.
const CUT_SLACK: usize = 512;

fn is_token_boundary(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | b' ' | b'\t' | b'"' | b'\'' | b',' | b';')
}

/// A cut point at or before `pos` where no token (a key, a password) is cut
/// in two: just after a blank, quote or separator, searched back
/// [`CUT_SLACK`] bytes; `pos` itself when there is none. Always a character
/// boundary. A token split by a cut would leave a fragment that no
/// redaction rule recognises.
pub fn token_cut_back(s: &str, pos: usize) -> usize {
    let pos = s.floor_char_boundary(pos.min(s.len()));
    let lo = pos.saturating_sub(CUT_SLACK);
    s.as_bytes()[lo..pos]
        .iter()
        .rposition(|&b| is_token_boundary(b))
        .map_or(pos, |i| lo + i + 1)
}

/// Like [`token_cut_back`], searching forward from `pos`: the start of the
/// next token.
pub fn token_cut_forward(s: &str, pos: usize) -> usize {
    let pos = s.ceil_char_boundary(pos.min(s.len()));
    let hi = (pos + CUT_SLACK).min(s.len());
    s.as_bytes()[pos..hi]
        .iter()
        .position(|&b| is_token_boundary(b))
        .map_or(pos, |i| pos + i + 1)
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Alphanumeric runs of `text`, as slices (not yet lower-cased).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The normalised term for one word, or `None` for stop words and noise.
pub fn term(word: &str) -> Option<String> {
    if word.chars().count() < 2 || word.len() > MAX_WORD {
        return None;
    }
    let lower = word.to_lowercase();
    if tags::is_stop_word(&lower) {
        return None;
    }
    Some(stemmer().stem(&lower).into_owned())
}

/// The word rules the full-text index depends on: the stop words' fingerprint
/// and a version raised whenever [`term`] or the stemmer changes.
pub fn index_rules() -> String {
    format!("terms-v1-{:016x}", tags::STOP_WORDS_FINGERPRINT)
}

/// Normalised text for the full-text index: terms joined by spaces.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    for t in words(text).filter_map(term) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t);
    }
    out
}

/// Distinct normalised terms of a query, in order of first appearance.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(text)
        .filter_map(term)
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// Which of `terms` (normalised, as from [`query_terms`]) occur in `text`.
/// Stemming is most of the cost, so only words that could stem to one of
/// the terms are stemmed: a Snowball English stem keeps the word's first
/// letter and is never longer than the word.
pub fn terms_in<'t>(text: &str, terms: &[&'t str]) -> HashSet<&'t str> {
    let mut found = HashSet::new();
    let firsts: Vec<char> = terms.iter().filter_map(|t| t.chars().next()).collect();
    let shortest = terms.iter().map(|t| t.len()).min().unwrap_or(0);
    for word in words(text) {
        if found.len() == terms.len() {
            break;
        }
        let Some(first) = word.chars().next().and_then(|c| c.to_lowercase().next()) else {
            continue;
        };
        if word.len() < shortest || !firsts.contains(&first) {
            continue;
        }
        if let Some(t) = term(word)
            && let Some(hit) = terms.iter().find(|q| **q == t)
        {
            found.insert(*hit);
        }
    }
    found
}

/// The distinct lower-case words of `texts` without stop words (not
/// stemmed), each as a 64-bit FNV-1a hash, sorted: enough to tell
/// near-duplicate memories apart, and cheap enough to work out for every
/// candidate of a prompt.
pub fn word_signature(texts: &[&str]) -> Vec<u64> {
    let mut lower = String::new();
    let mut out: Vec<u64> = texts
        .iter()
        .flat_map(|t| words(t))
        .filter(|w| w.len() >= 2 && w.len() <= MAX_WORD)
        .filter_map(|w| {
            lower_into(&mut lower, w);
            let hash = fnv1a(lower.as_bytes());
            (!is_stop_hash(hash)).then_some(hash)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `text`'s words in order, lower-cased and hashed (stop words kept): what
/// tells one template filled in twice ("Password reset for sreyes").
pub fn word_sequence(text: &str) -> Vec<u64> {
    let mut lower = String::new();
    words(text)
        .map(|w| {
            lower_into(&mut lower, w);
            fnv1a(lower.as_bytes())
        })
        .collect()
}

/// Whether `hash` is a stop word's FNV-1a hash. Every word of every
/// candidate of a prompt is hashed for its signature anyway; a binary
/// search of the stop words' hashes costs a tenth of a lookup by the word.
fn is_stop_hash(hash: u64) -> bool {
    static HASHES: OnceLock<Vec<u64>> = OnceLock::new();
    HASHES
        .get_or_init(|| {
            let mut hashes: Vec<u64> = tags::stop_words().map(|w| fnv1a(w.as_bytes())).collect();
            hashes.sort_unstable();
            hashes
        })
        .binary_search(&hash)
        .is_ok()
}

/// `word` lower-cased into `buf` (reused: these run for every word of every
/// candidate of a prompt).
fn lower_into(buf: &mut String, word: &str) {
    buf.clear();
    if word.is_ascii() {
        buf.push_str(word);
        buf.make_ascii_lowercase();
    } else {
        buf.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// Shared words over all words (Jaccard) of two [`word_signature`]s.
pub fn signature_jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 {
        1.0
    } else {
        shared as f64 / union as f64
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A tag as one index token: `active-directory` -> `active_directory`.
pub fn tag_token(tag: &str) -> String {
    tag.replace('-', "_")
}

/// Index tokens for a memory's scope: `g` without a client, else the
/// client's and the project's ids as `c_<hex>` / `p_<hex>`.
pub fn scope_tokens(client_id: Option<&str>, project_id: Option<&str>) -> String {
    let mut out = Vec::new();
    match client_id {
        Some(c) => out.push(client_token(c)),
        None => out.push("g".to_string()),
    }
    if let Some(p) = project_id {
        out.push(project_token(p));
    }
    out.join(" ")
}

pub fn client_token(id: &str) -> String {
    format!("c_{}", id.replace('-', ""))
}

pub fn project_token(id: &str) -> String {
    format!("p_{}", id.replace('-', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_query_agree_on_stems() {
        let doc = index_text("Configured the nightly backups for Dataforth's NAS");
        for t in query_terms("configure backup nas") {
            assert!(doc.split(' ').any(|d| d == t), "{t} not in {doc}");
        }
    }

    #[test]
    fn every_stop_word_is_left_out_of_signatures_and_no_other_word() {
        for w in tags::stop_words() {
            assert!(word_signature(&[w]).is_empty(), "{w}");
            let upper = w.to_uppercase();
            assert!(word_signature(&[&upper]).is_empty(), "{upper}");
        }
        for w in ["password", "Time", "access", "DC01", "Übergabe"] {
            assert_eq!(
                word_signature(&[w]).is_empty(),
                tags::is_stop_word(&w.to_lowercase()),
                "{w}"
            );
        }
        // Sequences keep stop words: they tell a template.
        assert_eq!(word_sequence("Password reset for X").len(), 4);
        assert_eq!(
            word_sequence("password RESET"),
            word_sequence("Password reset")
        );
    }

    #[test]
    fn signatures_measure_shared_words_without_case_or_stop_words() {
        let a = word_signature(&["Password reset for adavies", "Alex Davies was locked out."]);
        let b = word_signature(&["Password RESET for olopez", "Omar Lopez was locked out."]);
        // "password reset locked" of the nine words, "for", "was" and
        // "out" being stop words.
        assert_eq!(signature_jaccard(&a, &b), 3.0 / 9.0);
        assert_eq!(signature_jaccard(&a, &a), 1.0);
        assert_eq!(signature_jaccard(&a, &[]), 0.0);
        assert_eq!(signature_jaccard(&[], &[]), 1.0);
        assert_eq!(word_signature(&["the of and", ""]), Vec::<u64>::new());
    }

    #[test]
    fn stop_words_and_noise_are_dropped() {
        assert!(query_terms("can you please help me with the").is_empty());
        assert_eq!(query_terms("x a veeam"), vec!["veeam"]);
        let long = "a".repeat(60);
        assert!(query_terms(&long).is_empty());
    }

    #[test]
    fn terms_in_agrees_with_stemming_every_word() {
        let doc = "Dying disks: the NAS kept retrying; we replaced failing drives and hoped \
                   the Skies stayed clear. Generously configured RAID arrays, Veeam jobs.";
        let all: HashSet<String> = query_terms(doc).into_iter().collect();
        let probe = query_terms("die retry hope sky generous configure raid veeam backup");
        let probe: Vec<&str> = probe.iter().map(String::as_str).collect();
        let fast = terms_in(doc, &probe);
        let slow: HashSet<&str> = probe.iter().copied().filter(|t| all.contains(*t)).collect();
        assert_eq!(fast, slow);
        assert!(!fast.contains("backup"));
        assert!(fast.contains("veeam"));
    }

    #[test]
    fn query_terms_are_distinct() {
        assert_eq!(query_terms("backup backups Backup").len(), 1);
    }
}
