//! Examples of every rule, rendered with deterministic fake secrets.
//!
//! Each rule in [`super::rules`] and each context layer lists examples
//! beside its pattern. An example is a template:
//!
//! - `«…»` marks a secret: after redaction it must be exactly
//!   `[REDACTED:<kind>]`, and the text outside the marks must be unchanged;
//! - `{a:N}` expands to N fake characters of a class: `a` letters and digits,
//!   `A` upper-case letters and digits, `l` lower-case letters and digits,
//!   `h` lower-case hex, `H` upper-case hex, `b` base64, `u` base64url,
//!   `d` digits, `s` base32.
//!
//! Fake secrets are generated rather than written out, so the source holds
//! no token a secret scanner would flag. The same examples drive the unit
//! tests, the end-to-end test that runs them through capture, recall and
//! search, and `msp context redact --rules`.

/// One rendered example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The rule or layer the example belongs to.
    pub rule: &'static str,
    /// The placeholder kind the secrets must become.
    pub kind: &'static str,
    /// The text as a technician would see it, with its secrets.
    pub text: String,
    /// The secrets in `text`, each of which must be gone after redaction.
    pub secrets: Vec<String>,
    /// `text` with every secret replaced by `[REDACTED:kind]`.
    pub expected: String,
}

/// A rule's examples as declared beside it.
#[derive(Debug, Clone, Copy)]
pub struct Examples {
    pub rule: &'static str,
    pub kind: &'static str,
    pub templates: &'static [&'static str],
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";

fn alphabet(class: char) -> Option<String> {
    Some(match class {
        'a' => format!("{UPPER}{LOWER}{DIGITS}"),
        'A' => format!("{UPPER}{DIGITS}"),
        'l' => format!("{LOWER}{DIGITS}"),
        'h' => "0123456789abcdef".to_owned(),
        'H' => "0123456789ABCDEF".to_owned(),
        'b' => format!("{UPPER}{LOWER}{DIGITS}+/"),
        'u' => format!("{UPPER}{LOWER}{DIGITS}-_"),
        'd' => DIGITS.to_owned(),
        's' => format!("{UPPER}234567"),
        _ => return None,
    })
}

/// xorshift64: small, deterministic, good enough for fake secrets.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(super) fn pick(&mut self, alphabet: &[u8]) -> u8 {
        alphabet[(self.next() % alphabet.len() as u64) as usize]
    }
}

/// A random string over `class`, with a digit, an upper- and a lower-case
/// letter forced in where the class has them, so it reads as key material.
pub fn fake(seed: u64, class: char, len: usize) -> String {
    let Some(alphabet) = alphabet(class) else {
        panic!("unknown fake class {class:?}");
    };
    fake_over(seed, alphabet.as_bytes(), len)
}

/// [`fake`] over any ASCII alphabet.
pub(super) fn fake_over(seed: u64, a: &[u8], len: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut out: Vec<u8> = (0..len).map(|_| rng.pick(a)).collect();
    for (at, set) in [(1, DIGITS), (2, UPPER), (3, LOWER)] {
        let avail: Vec<u8> = set.bytes().filter(|c| a.contains(c)).collect();
        if !avail.is_empty() && at < out.len() {
            out[at] = rng.pick(&avail);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn seed_of(rule: &str, index: usize) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes().chain(index.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Expands `{c:N}` generators in `template`.
fn expand(template: &str, seed: u64) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut n = 0u64;
    while let Some(open) = rest.find('{') {
        let tail = &rest[open + 1..];
        let generator = tail.find('}').and_then(|close| {
            let (class, len) = tail[..close].split_once(':')?;
            let mut chars = class.chars();
            let c = chars.next()?;
            if chars.next().is_some() || alphabet(c).is_none() {
                return None;
            }
            Some((c, len.parse::<usize>().ok()?, close))
        });
        match generator {
            Some((class, len, close)) => {
                out.push_str(&rest[..open]);
                out.push_str(&fake(seed.wrapping_add(n), class, len));
                n += 1;
                rest = &tail[close + 1..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Renders one template of a rule.
pub fn render(rule: &'static str, kind: &'static str, index: usize, template: &str) -> Example {
    let expanded = expand(template, seed_of(rule, index));
    let mut text = String::new();
    let mut expected = String::new();
    let mut secrets = Vec::new();
    let mut rest = expanded.as_str();
    while let Some(open) = rest.find('«') {
        let after = &rest[open + '«'.len_utf8()..];
        let Some(close) = after.find('»') else { break };
        text.push_str(&rest[..open]);
        expected.push_str(&rest[..open]);
        let secret = &after[..close];
        text.push_str(secret);
        expected.push_str(super::PLACEHOLDER_PREFIX);
        expected.push_str(kind);
        expected.push(']');
        secrets.push(secret.to_owned());
        rest = &after[close + '»'.len_utf8()..];
    }
    text.push_str(rest);
    expected.push_str(rest);
    Example {
        rule,
        kind,
        text,
        secrets,
        expected,
    }
}

/// Every example of every rule, rendered.
pub fn examples() -> Vec<Example> {
    super::rules::examples()
        .iter()
        .flat_map(|e| {
            e.templates
                .iter()
                .enumerate()
                .map(|(i, t)| render(e.rule, e.kind, i, t))
        })
        .collect()
}

/// Text that looks close to a secret but is not one; redaction must leave
/// it exactly as it is.
pub fn ordinary() -> Vec<String> {
    super::rules::ORDINARY
        .iter()
        .enumerate()
        .map(|(i, t)| expand(t, seed_of("ordinary", i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_generators_and_marks() {
        let e = render("r", "password", 0, "pw «{a:12}» and «x{d:3}» {q:1} {a}");
        assert_eq!(e.secrets.len(), 2);
        assert_eq!(e.secrets[0].len(), 12);
        assert!(e.secrets[1].starts_with('x') && e.secrets[1].len() == 4);
        assert_eq!(
            e.expected,
            "pw [REDACTED:password] and [REDACTED:password] {q:1} {a}"
        );
        assert!(e.text.ends_with(" {q:1} {a}"));
        // Deterministic.
        assert_eq!(
            e,
            render("r", "password", 0, "pw «{a:12}» and «x{d:3}» {q:1} {a}")
        );
        assert_ne!(
            e.text,
            render("r", "password", 1, "pw «{a:12}» and «x{d:3}» {q:1} {a}").text
        );
    }

    #[test]
    fn fakes_mix_classes() {
        let s = fake(7, 'a', 30);
        assert!(s.bytes().any(|c| c.is_ascii_digit()));
        assert!(s.bytes().any(|c| c.is_ascii_uppercase()));
        assert!(s.bytes().any(|c| c.is_ascii_lowercase()));
        assert!(fake(7, 'd', 10).bytes().all(|c| c.is_ascii_digit()));
    }
}
