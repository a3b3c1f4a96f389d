//! Prose helpers: sentences, decisions and open items in the assistant's
//! text, chit-chat detection, and the cutting and listing of text.

use super::super::transcript::has_cut_marker;
use super::{DECIDED_CHARS, Facts, MAX_LISTED, OPEN_CHARS, SENTENCE_CHARS};

/// Sentences worth keeping as decisions.
pub(super) const DECISION_CUES: &[&str] = &[
    "because",
    "decided",
    "chose ",
    "choosing",
    "instead of",
    "rather than",
    "will use",
    "i'll use",
    "we'll use",
    "going with",
    "opted",
    "root cause",
    "the fix",
    "the issue was",
    "the issue is",
    "the problem was",
    "the problem is",
    "caused by",
    "turns out",
    "turned out",
    "due to",
    "so that",
];
/// Sentences that leave something open.
pub(super) const OPEN_CUES: &[&str] = &[
    "todo",
    "to do:",
    "next step",
    "left for later",
    "still need",
    "not yet",
    "follow-up",
    "follow up",
    "remaining",
    "pending",
    "you'll need to",
    "you will need to",
    "you may want to",
    "you might want to",
    "needs to be done",
    "still failing",
    "couldn't",
    "could not",
];

/// Decision sentences from the assistant's text, not already in the result.
pub(super) fn decisions(texts: &[String], result: &str) -> String {
    let mut picked: Vec<String> = Vec::new();
    let mut len = 0;
    for text in texts {
        for sentence in sentences(text) {
            if !has_cue(&sentence, DECISION_CUES) || result.contains(&sentence) {
                continue;
            }
            let sentence = cut_words(&sentence, SENTENCE_CHARS);
            if picked.contains(&sentence) {
                continue;
            }
            if len + sentence.len() > DECIDED_CHARS {
                return picked.join(" ");
            }
            len += sentence.len() + 1;
            picked.push(sentence);
        }
    }
    picked.join(" ")
}

pub(super) fn open_items(facts: &Facts, final_text: &str) -> String {
    let mut items: Vec<String> = Vec::new();
    if !facts.open_todos.is_empty() {
        items.push(format!("todo: {}", list_some(&facts.open_todos, 6)));
    }
    for run in &facts.runs {
        if run.outcomes.last().is_some_and(|o| o.failed()) && run.outcomes.len() > 1 {
            items.push(format!(
                "`{}` still failing",
                cut_chars(first_line(&run.command), 80)
            ));
        }
    }
    for sentence in sentences(final_text) {
        if is_open_item(&sentence) {
            items.push(cut_words(&sentence, SENTENCE_CHARS));
        }
    }
    let mut out = String::new();
    for item in items {
        if !out.is_empty() && out.len() + item.len() > OPEN_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&item);
    }
    cut_chars(&out, OPEN_CHARS + SENTENCE_CHARS)
}

pub(super) fn is_open_item(sentence: &str) -> bool {
    has_cue(sentence, OPEN_CUES)
}

/// Whether a cue starts a word of `sentence` ("pending", not "depending").
pub(super) fn has_cue(sentence: &str, cues: &[&str]) -> bool {
    let lower = sentence.to_lowercase();
    cues.iter().any(|cue| {
        lower
            .match_indices(cue)
            .any(|(i, _)| !lower[..i].ends_with(|c: char| c.is_alphanumeric()))
    })
}

/// The first sentences of `text` within `max` chars; code blocks and open items (which go to
/// Open) left out.
pub(super) fn lead_sentences(text: &str, max: usize) -> String {
    let mut out = String::new();
    for sentence in sentences(text) {
        if is_open_item(&sentence) {
            continue;
        }
        if out.is_empty() {
            out = cut_words(&sentence, max);
            continue;
        }
        if out.chars().count() + 1 + sentence.chars().count() > max {
            break;
        }
        out.push(' ');
        out.push_str(&sentence);
    }
    out
}

/// Sentences of markdown-ish text: code fences dropped, bullets and headings unwrapped.
pub(super) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || has_cut_marker(line) {
            continue;
        }
        let line = line.trim_start_matches(|c: char| {
            matches!(c, '#' | '-' | '*' | '>' | '|') || c.is_whitespace()
        });
        let line = strip_numbering(line);
        let mut start = 0;
        for (i, c) in line.char_indices() {
            let end = i + c.len_utf8();
            if matches!(c, '.' | '!' | '?') && line[end..].starts_with(char::is_whitespace) {
                push_sentence(&mut out, &line[start..end]);
                start = end;
            }
        }
        push_sentence(&mut out, &line[start..]);
    }
    out
}

pub(super) fn push_sentence(out: &mut Vec<String>, s: &str) {
    let s = collapse(s.trim_matches(|c: char| c.is_whitespace() || c == '*'));
    if s.chars().any(char::is_alphanumeric) {
        out.push(s);
    }
}

pub(super) fn strip_numbering(line: &str) -> &str {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    match line[digits..]
        .strip_prefix(". ")
        .or_else(|| line[digits..].strip_prefix(") "))
    {
        Some(rest) if digits > 0 && digits < 3 => rest,
        _ => line,
    }
}

pub(super) fn is_chitchat(ask: &str) -> bool {
    const SMALL_TALK: &[&str] = &[
        "thanks",
        "thank",
        "you",
        "ty",
        "thx",
        "ok",
        "okay",
        "k",
        "cool",
        "great",
        "nice",
        "perfect",
        "awesome",
        "good",
        "hi",
        "hello",
        "hey",
        "yes",
        "yep",
        "yeah",
        "no",
        "nope",
        "sure",
        "got",
        "it",
        "lgtm",
        "bye",
        "cheers",
        "sounds",
        "alright",
        "right",
        "fine",
        "wow",
        "excellent",
        "that",
        "works",
        "much",
        "very",
        "so",
        "all",
        "well",
        "done",
        "job",
        "a",
        "lot",
        "merci",
        "np",
    ];
    let words: Vec<String> = ask
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.len() <= 8 && words.iter().all(|w| SMALL_TALK.contains(&w.as_str()))
}

/// Paths listed whole when few, else counted per directory.
pub(super) fn summarize_paths(paths: &[String]) -> String {
    if paths.len() <= MAX_LISTED {
        return paths.join(", ");
    }
    let mut dirs: Vec<(&str, usize)> = Vec::new();
    for path in paths {
        let dir = path
            .rsplit_once(['/', '\\'])
            .map_or(".", |(d, _)| if d.is_empty() { "/" } else { d });
        match dirs.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, n)) => *n += 1,
            None => dirs.push((dir, 1)),
        }
    }
    let groups: Vec<String> = dirs.iter().map(|(d, n)| format!("{d}/ ({n})")).collect();
    format!("{} files in {}", paths.len(), list_some(&groups, 4))
}

pub(super) fn push_unique(list: &mut Vec<String>, item: &str) {
    if !item.is_empty() && !list.iter().any(|i| i == item) {
        list.push(item.to_owned());
    }
}

/// At most `max` items joined by ", ", then how many were left out.
pub(super) fn list_some<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let mut out: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(max);
    let tail = format!("(+{more} more)");
    if more > 0 {
        out.push(&tail);
    }
    out.join(", ")
}

pub(super) fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or_default()
}

/// Whitespace runs collapsed to single spaces.
pub(super) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` chars, cut anywhere, "…" marking the cut.
pub(super) fn cut_chars(s: &str, max: usize) -> String {
    let head = crate::memory::text::prefix_chars(s, max);
    if head.len() < s.len() {
        format!("{head}…")
    } else {
        s.to_owned()
    }
}

/// At most about `max` chars, cut at a word boundary when one is near.
pub(super) fn cut_words(s: &str, max: usize) -> String {
    let head = crate::memory::text::prefix_chars(s, max);
    if head.len() == s.len() {
        return s.to_owned();
    }
    let i = head.len();
    let head = match head.rfind(' ') {
        Some(space) if space > i / 2 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([' ', ',', ';', ':']))
}
