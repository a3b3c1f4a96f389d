//! Rules compiled on first need.
//!
//! Compiling every rule costs more than a hook run can spare (the trigger
//! alternation alone took 3 ms in release, all patterns 6 ms), and most
//! texts contain no secret shape at all. Each rule therefore has anchors:
//! literals of which every match contains at least one (derived from the
//! pattern, see `anchors.rs`). One Aho-Corasick scan per text finds which
//! rules could match; only those are compiled (once per redactor, then
//! kept) and run.
//!
//! The rules of one set behave as one leftmost-first alternation in rule
//! order: at the leftmost position where any rule matches, the first rule
//! that matches there wins, and the search continues after its match. A rule
//! whose anchors are absent cannot match anywhere, so leaving it out
//! changes nothing.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{Captures, Regex};

use super::compile;

/// Characters outside ASCII that a case-insensitive pattern matches for an
/// ASCII letter (`(?i)k` matches KELVIN SIGN, `(?i)s` LONG S). Anchors are
/// matched ASCII-case-insensitively, so a text with either of these makes
/// every rule a candidate.
const FOLDS_TO_ASCII: [char; 2] = ['\u{212A}', '\u{017F}'];

/// An anchor table: per rule, its name and anchors (empty: none).
pub(super) type Table = &'static [(&'static str, &'static [&'static str])];

/// A set of rules, each compiled on first need.
pub(super) struct Rules {
    patterns: Vec<&'static str>,
    compiled: Vec<OnceLock<Regex>>,
    /// Rules without anchors: candidates for every text.
    always: Vec<bool>,
}

impl Rules {
    /// `anchors[i]` belongs to `patterns[i]`.
    pub(super) fn new(patterns: impl IntoIterator<Item = &'static str>, anchors: Table) -> Rules {
        let patterns: Vec<&'static str> = patterns.into_iter().collect();
        assert_eq!(
            patterns.len(),
            anchors.len(),
            "one anchor list per rule (regenerate anchors.rs)"
        );
        Rules {
            compiled: patterns.iter().map(|_| OnceLock::new()).collect(),
            patterns,
            always: anchors.iter().map(|(_, list)| list.is_empty()).collect(),
        }
    }

    /// The rule's regex, compiled now if it was not yet.
    fn regex(&self, rule: usize) -> &Regex {
        self.compiled[rule].get_or_init(|| compile(self.patterns[rule]))
    }

    /// Every match in `text` with the index of the rule that made it, as
    /// the alternation of all rules would find them. `found` holds, per
    /// rule, whether the text contains one of its anchors.
    pub(super) fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
        found: &[bool],
    ) -> Matches<'r, 't> {
        Matches {
            rules: self,
            text,
            pos: 0,
            next: (0..self.patterns.len())
                .filter(|&i| self.always[i] || found.get(i).copied().unwrap_or(true))
                .map(|rule| (rule, None))
                .collect(),
        }
    }

    /// The rule's regex if `text` may match it (`found` as for
    /// [`Rules::captures_iter`]), compiled now if it was not yet.
    pub(super) fn get(&self, rule: usize, found: &[bool]) -> Option<&Regex> {
        (self.always[rule] || found.get(rule).copied().unwrap_or(true)).then(|| self.regex(rule))
    }
}

/// Finds the anchors of several rule sets in one scan.
pub(super) struct Anchors {
    finder: AhoCorasick,
    /// Per Aho-Corasick pattern: the set and rule it anchors, or `None`
    /// for a character that folds to an ASCII letter.
    target: Vec<Option<(usize, usize)>>,
    sizes: Vec<usize>,
}

impl Anchors {
    pub(super) fn new(tables: &[Table]) -> Anchors {
        let mut literals: Vec<String> = FOLDS_TO_ASCII.iter().map(|c| c.to_string()).collect();
        let mut target = vec![None; literals.len()];
        for (set, table) in tables.iter().enumerate() {
            for (rule, (_, list)) in table.iter().enumerate() {
                for a in *list {
                    literals.push(a.to_ascii_lowercase());
                    target.push(Some((set, rule)));
                }
            }
        }
        // Case is dealt with by lowercasing the text: an ASCII-case-
        // insensitive automaton takes twice as long to build, a DFA ten
        // times, and the build is paid by every hook run.
        let finder = match AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&literals)
        {
            Ok(f) => f,
            Err(err) => panic!("built-in redaction anchors do not build: {err}"),
        };
        Anchors {
            finder,
            target,
            sizes: tables.iter().map(|t| t.len()).collect(),
        }
    }

    /// Per set, per rule: whether `text` contains one of the rule's anchors.
    pub(super) fn scan(&self, text: &str) -> Vec<Vec<bool>> {
        let mut found: Vec<Vec<bool>> = self.sizes.iter().map(|&n| vec![false; n]).collect();
        let lower;
        let haystack = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = text.to_ascii_lowercase();
            lower.as_str()
        } else {
            text
        };
        for m in self.finder.find_overlapping_iter(haystack) {
            match self.target[m.pattern().as_usize()] {
                Some((set, rule)) => found[set][rule] = true,
                None => {
                    for set in &mut found {
                        set.fill(true);
                    }
                    break;
                }
            }
        }
        found
    }
}

/// The iterator of [`Rules::captures_iter`].
pub(super) struct Matches<'r, 't> {
    rules: &'r Rules,
    text: &'t str,
    pos: usize,
    /// Per candidate rule, the span of its next match at or after `pos`
    /// once searched. A rule with no match left is removed.
    next: Vec<(usize, Option<(usize, usize)>)>,
}

impl<'t> Iterator for Matches<'_, 't> {
    type Item = (usize, Captures<'t>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos > self.text.len() {
            return None;
        }
        let (rules, text, pos) = (self.rules, self.text, self.pos);
        // A match found from an earlier position is still the rule's next
        // one if it starts at or after `pos`. Spans first: most rules find
        // nothing, and a span search allocates nothing.
        self.next.retain_mut(|(rule, span)| {
            if span.is_none_or(|(s, _)| s < pos) {
                *span = rules
                    .regex(*rule)
                    .find_at(text, pos)
                    .map(|m| (m.start(), m.end()));
            }
            span.is_some()
        });
        // Leftmost start, then rule order (`next` is in rule order).
        let best = self
            .next
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, span))| span.map_or(usize::MAX, |(s, _)| s))
            .map(|(i, _)| i)?;
        let (rule, span) = &mut self.next[best];
        let (s, e) = span.take()?;
        // The same match, searched from its start, with its groups.
        let caps = rules.regex(*rule).captures_at(text, s)?;
        // No rule matches the empty string; should one, step past it.
        self.pos = if e > s {
            e
        } else {
            text[e..].chars().next().map_or(e + 1, |c| e + c.len_utf8())
        };
        Some((*rule, caps))
    }
}

#[cfg(test)]
mod tests {
    //! Anchors are derived from each pattern's syntax tree: a literal, or a
    //! small set of literals, that every match must contain. The derivation
    //! only ever keeps what is required: a concatenation requires what any
    //! of its parts requires, an alternation the union of what each branch
    //! requires, a repetition with minimum 0 nothing.

    use regex_syntax::hir::{Class, Hir, HirKind};

    use super::super::rules::{SHAPES, SHAPES_UNANCHORED, TRIGGERS};
    use super::super::{LAYER_PATTERNS, anchors};
    use super::*;

    /// Largest literal set kept (cross products grow fast).
    const CAP: usize = 32;

    type Set = Vec<Vec<u8>>;

    struct Info {
        /// Every string the node matches, when few (lowercased).
        exact: Option<Set>,
        /// One of these occurs in every match.
        required: Option<Set>,
    }

    fn lower(b: &[u8]) -> Vec<u8> {
        b.to_ascii_lowercase()
    }

    fn normalize(mut set: Set) -> Set {
        set.sort();
        set.dedup();
        set
    }

    /// The characters of a small class, lowercased; KELVIN SIGN and LONG S
    /// are dropped (a text containing them tries every rule).
    fn class_strings(class: &Class) -> Option<Set> {
        let mut out = Vec::new();
        match class {
            Class::Unicode(c) => {
                let n: u32 = c
                    .ranges()
                    .iter()
                    .map(|r| r.end() as u32 - r.start() as u32 + 1)
                    .sum();
                if n > 16 {
                    return None;
                }
                for r in c.ranges() {
                    for ch in r.start()..=r.end() {
                        if FOLDS_TO_ASCII.contains(&ch) {
                            continue;
                        }
                        out.push(lower(ch.to_string().as_bytes()));
                    }
                }
            }
            Class::Bytes(c) => {
                let n: usize = c
                    .ranges()
                    .iter()
                    .map(|r| usize::from(r.end() - r.start()) + 1)
                    .sum();
                if n > 16 {
                    return None;
                }
                for r in c.ranges() {
                    for b in r.start()..=r.end() {
                        out.push(vec![b.to_ascii_lowercase()]);
                    }
                }
            }
        }
        let out = normalize(out);
        (out.len() <= 8).then_some(out)
    }

    fn cross(a: &Set, b: &Set) -> Option<Set> {
        if a.len() * b.len() > CAP {
            return None;
        }
        let mut out = Vec::new();
        for x in a {
            for y in b {
                out.push([x.as_slice(), y.as_slice()].concat());
            }
        }
        Some(normalize(out))
    }

    /// Longer shortest literal first, then fewer literals.
    fn best(cands: Vec<Set>) -> Option<Set> {
        cands
            .into_iter()
            .filter(|s| !s.is_empty() && s.iter().all(|l| !l.is_empty()))
            .max_by_key(|s| {
                let shortest = s.iter().map(Vec::len).min().unwrap_or(0);
                (shortest, usize::MAX - s.len())
            })
    }

    fn info(h: &Hir) -> Info {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => Info {
                exact: Some(vec![Vec::new()]),
                required: None,
            },
            HirKind::Literal(l) => {
                let s = vec![lower(&l.0)];
                Info {
                    exact: Some(s.clone()),
                    required: Some(s),
                }
            }
            HirKind::Class(c) => {
                let s = class_strings(c);
                Info {
                    exact: s.clone(),
                    required: s,
                }
            }
            HirKind::Repetition(r) => Info {
                exact: None,
                required: if r.min == 0 {
                    None
                } else {
                    info(&r.sub).required
                },
            },
            HirKind::Capture(c) => info(&c.sub),
            HirKind::Concat(subs) => {
                let infos: Vec<Info> = subs.iter().map(info).collect();
                let mut cands: Vec<Set> = infos.iter().filter_map(|i| i.required.clone()).collect();
                let mut run: Option<Set> = None;
                let mut whole: Option<Set> = Some(vec![Vec::new()]);
                for i in &infos {
                    whole = match (&whole, &i.exact) {
                        (Some(w), Some(e)) => cross(w, e),
                        _ => None,
                    };
                    match &i.exact {
                        Some(e) => {
                            let grown = run.as_ref().map_or(Some(e.clone()), |r| cross(r, e));
                            run = match grown {
                                Some(g) => Some(g),
                                None => {
                                    cands.extend(run.take());
                                    Some(e.clone())
                                }
                            };
                        }
                        None => cands.extend(run.take()),
                    }
                }
                cands.extend(run);
                Info {
                    exact: whole,
                    required: best(cands),
                }
            }
            HirKind::Alternation(subs) => {
                let infos: Vec<Info> = subs.iter().map(info).collect();
                let exact = infos
                    .iter()
                    .map(|i| i.exact.clone())
                    .collect::<Option<Vec<Set>>>()
                    .map(|v| normalize(v.concat()))
                    .filter(|s| s.len() <= CAP);
                let required = infos
                    .iter()
                    .map(|i| i.required.clone())
                    .collect::<Option<Vec<Set>>>()
                    .map(|v| normalize(v.concat()));
                Info {
                    exact,
                    required: best(required.into_iter().collect()),
                }
            }
        }
    }

    /// The anchors of one pattern: empty when none can be derived.
    fn derive(pattern: &str) -> Vec<String> {
        let hir = regex_syntax::parse(pattern).expect("pattern parses");
        // A one-byte anchor (`-`, `.`) is in nearly every text: the rule is
        // tried on every text instead, which keeps the scan's matches few.
        let Some(set) = info(&hir)
            .required
            .filter(|s| s.iter().all(|l| l.len() > 1))
        else {
            return Vec::new();
        };
        let Ok(mut set) = set
            .into_iter()
            .map(String::from_utf8)
            .collect::<Result<Vec<_>, _>>()
        else {
            return Vec::new();
        };
        // A literal containing another of the set adds nothing.
        let all = set.clone();
        set.retain(|s| !all.iter().any(|o| o != s && s.contains(o.as_str())));
        set
    }

    fn table(name: &str, rules: impl Iterator<Item = (&'static str, &'static str)>) -> String {
        let mut out = format!("pub(super) const {name}: &[(&str, &[&str])] = &[\n");
        for (rule, pattern) in rules {
            let anchors = derive(pattern)
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!("    ({rule:?}, &[{anchors}]),\n"));
        }
        out.push_str("];\n");
        out
    }

    #[test]
    fn anchors_reference_is_current() {
        let generated = format!(
            "//! Anchors of the built-in rules (see `lazy.rs`): every match of a rule\n\
             //! contains one of its literals, compared ASCII-case-insensitively. An\n\
             //! empty list means the rule is tried on every text. Generated from the\n\
             //! patterns in `rules.rs`; `MSP_UPDATE_REFERENCE=1 cargo test --lib\n\
             //! reference` regenerates it.\n\n{}\n{}\n{}\n{}",
            table("SHAPES", SHAPES.iter().map(|s| (s.name, s.pattern))),
            table(
                "SHAPES_UNANCHORED",
                SHAPES_UNANCHORED.iter().map(|s| (s.name, s.pattern))
            ),
            table("TRIGGERS", TRIGGERS.iter().map(|t| (t.name, t.pattern))),
            table("LAYERS", LAYER_PATTERNS.iter().copied()),
        );
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/redact/anchors.rs");
        if std::env::var_os("MSP_UPDATE_REFERENCE").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == generated,
            "src/redact/anchors.rs is out of date: run \
             `MSP_UPDATE_REFERENCE=1 cargo test --lib reference` and commit the result"
        );
    }

    /// The old shape: all rules as one alternation, group `t{i}` per rule.
    fn alternation(patterns: &[&str], sub: &str) -> Regex {
        let alternation = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let inner = p.replace(&format!("(?P<{sub}>"), &format!("(?P<{sub}{i}>"));
                format!("(?P<t{i}>{inner})")
            })
            .collect::<Vec<_>>()
            .join("|");
        Regex::new(&alternation).unwrap()
    }

    type Found = (usize, (usize, usize), Option<(usize, usize)>);

    fn via_alternation(re: &Regex, n: usize, sub: &str, text: &str) -> Vec<Found> {
        re.captures_iter(text)
            .map(|caps| {
                let rule = (0..n)
                    .find(|i| caps.name(&format!("t{i}")).is_some())
                    .unwrap();
                let whole = caps.get(0).unwrap();
                let part = caps.name(&format!("{sub}{rule}"));
                (
                    rule,
                    (whole.start(), whole.end()),
                    part.map(|m| (m.start(), m.end())),
                )
            })
            .collect()
    }

    fn via_rules(rules: &Rules, anchors: &Anchors, sub: &str, text: &str) -> Vec<Found> {
        let found = anchors.scan(text);
        rules
            .captures_iter(text, &found[0])
            .map(|(rule, caps)| {
                let whole = caps.get(0).unwrap();
                let part = caps.name(sub);
                (
                    rule,
                    (whole.start(), whole.end()),
                    part.map(|m| (m.start(), m.end())),
                )
            })
            .collect()
    }

    #[test]
    fn lazy_rules_match_like_one_alternation() {
        let mut texts: Vec<String> = crate::redact::corpus::examples()
            .into_iter()
            .map(|e| e.text)
            .chain(crate::redact::corpus::ordinary())
            .collect();
        // Several rules in one text, rules matching at the same start, and
        // the characters that fold to ASCII letters.
        let all = texts.join("\n");
        texts.push(all.clone());
        texts.push(all.replace('k', "\u{212A}").replace('s', "\u{17F}"));
        texts.push("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123 sk-proj-abc".into());
        let sets: [(Table, Vec<&'static str>, &str); 3] = [
            (
                anchors::SHAPES,
                SHAPES.iter().map(|s| s.pattern).collect(),
                "s",
            ),
            (
                anchors::SHAPES_UNANCHORED,
                SHAPES_UNANCHORED.iter().map(|s| s.pattern).collect(),
                "s",
            ),
            (
                anchors::TRIGGERS,
                TRIGGERS.iter().map(|t| t.pattern).collect(),
                "v",
            ),
        ];
        let mut compared = 0;
        for (anchor_list, patterns, sub) in sets {
            let one = alternation(&patterns, sub);
            let rules = Rules::new(patterns.iter().copied(), anchor_list);
            let anchors = Anchors::new(&[anchor_list]);
            for text in &texts {
                let expected = via_alternation(&one, patterns.len(), sub, text);
                assert_eq!(via_rules(&rules, &anchors, sub, text), expected, "{text}");
                compared += expected.len();
            }
        }
        assert!(compared > 150, "only {compared} matches compared");
    }
}
