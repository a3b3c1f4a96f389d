//! BERT's uncased WordPiece tokenizer, as the sentence encoder was trained
//! with it: clean the text, space out CJK ideographs, strip accents, lower
//! case, split on whitespace and punctuation, then cut each word into the
//! longest pieces the vocabulary knows (`##` marks a piece inside a word).

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// A word longer than this (in characters) is one unknown token.
const MAX_WORD_CHARS: usize = 100;
const CONTINUATION: &str = "##";

/// Looks a piece up in the vocabulary: its id, if it has one.
pub trait Vocab {
    fn id(&self, piece: &str) -> Option<u32>;
}

/// The ids of `text`'s pieces, without the `[CLS]`/`[SEP]` frame, at most
/// `max` of them (the rest is dropped).
pub fn pieces(vocab: &impl Vocab, unk: u32, text: &str, max: usize) -> Vec<u32> {
    let normal = normalize(text);
    let mut ids = Vec::new();
    let mut piece = String::new();
    for word in words(&normal) {
        if ids.len() >= max {
            break;
        }
        if word.chars().count() > MAX_WORD_CHARS {
            ids.push(unk);
            continue;
        }
        let first = ids.len();
        let mut start = 0;
        while start < word.len() {
            // Longest match first: shrink from the end one character at a time.
            let mut end = word.len();
            let mut found = None;
            while end > start {
                piece.clear();
                if start > 0 {
                    piece.push_str(CONTINUATION);
                }
                piece.push_str(&word[start..end]);
                if let Some(id) = vocab.id(&piece) {
                    found = Some(id);
                    break;
                }
                end = word[..end]
                    .char_indices()
                    .next_back()
                    .map_or(start, |(i, _)| i);
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    // A word with a piece the vocabulary lacks is unknown as a whole.
                    ids.truncate(first);
                    ids.push(unk);
                    break;
                }
            }
        }
    }
    ids.truncate(max);
    ids
}

/// BERT's normaliser: drop control characters, whitespace becomes a space,
/// CJK ideographs get spaces around them, accents go (NFD without the
/// combining marks), lower case.
fn normalize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{FFFD}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            clean.push(' ');
        } else if is_cjk(c) {
            clean.push(' ');
            clean.push(c);
            clean.push(' ');
        } else {
            clean.push(c);
        }
    }
    let stripped: String = clean
        .nfd()
        .filter(|&c| c.general_category() != GeneralCategory::NonspacingMark)
        .collect();
    stripped.to_lowercase()
}

/// Words: split on whitespace, each punctuation character a word of its own.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() || is_punctuation(c) {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
            if is_punctuation(c) {
                out.push(&text[i..i + c.len_utf8()]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out.into_iter()
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.general_category_group() == GeneralCategoryGroup::Other
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.general_category_group() == GeneralCategoryGroup::Punctuation
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, u32>);

    impl Vocab for Map {
        fn id(&self, piece: &str) -> Option<u32> {
            self.0.get(piece).copied()
        }
    }

    fn vocab() -> Map {
        Map(HashMap::from([
            ("[UNK]", 100),
            ("un", 1),
            ("##aff", 2),
            ("##able", 3),
            ("vpn", 4),
            ("cafe", 5),
            (",", 6),
            ("!", 7),
            ("中", 8),
            ("the", 9),
        ]))
    }

    #[test]
    fn longest_pieces_first_with_continuation_marks() {
        assert_eq!(pieces(&vocab(), 100, "unaffable", 64), vec![1, 2, 3]);
    }

    #[test]
    fn accents_case_and_punctuation_are_normalised() {
        assert_eq!(pieces(&vocab(), 100, "CAFÉ,VPN!", 64), vec![5, 6, 4, 7]);
    }

    #[test]
    fn a_word_with_an_unknown_piece_is_one_unknown_token() {
        assert_eq!(pieces(&vocab(), 100, "the unaffx vpn", 64), vec![9, 100, 4]);
    }

    #[test]
    fn cjk_characters_are_words_and_controls_are_dropped() {
        assert_eq!(pieces(&vocab(), 100, "vpn中\u{7}the", 64), vec![4, 8, 9]);
    }

    #[test]
    fn output_is_capped() {
        assert_eq!(pieces(&vocab(), 100, "the the the", 2), vec![9, 9]);
    }
}
