//! Generated secrets (`FIELD=--generate`).

use zeroize::Zeroizing;

use crate::crypto::{Secret, fill_random};
use crate::error::{Error, Result};

/// Characters of generated secrets: letters, digits and a few symbols that
/// need no quoting in a shell, a URL query or JSON, and that never split a
/// token for the transcript redaction.
const GEN_SYMBOLS: &[u8] = b"-_!#%^*+";
pub const GEN_MIN: usize = 8;
pub const GEN_MAX: usize = 256;
pub const GEN_DEFAULT: usize = 24;

/// A random secret of `len` characters with at least one upper-case letter,
/// lower-case letter, digit and symbol (uniform per character otherwise).
pub fn generate(len: usize) -> Result<Secret> {
    if !(GEN_MIN..=GEN_MAX).contains(&len) {
        return Err(Error::usage(format!(
            "a generated secret is {GEN_MIN} to {GEN_MAX} characters, not {len}"
        ))
        .with_hint("FIELD=--generate or FIELD=--generate=32"));
    }
    let mut alphabet: Vec<u8> = Vec::with_capacity(70);
    alphabet.extend(b'A'..=b'Z');
    alphabet.extend(b'a'..=b'z');
    alphabet.extend(b'0'..=b'9');
    alphabet.extend_from_slice(GEN_SYMBOLS);
    // Largest multiple of the alphabet size below 256: bytes above it are
    // rejected, so every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    loop {
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        let mut pool = Zeroizing::new([0u8; 64]);
        while out.len() < len {
            fill_random(pool.as_mut())?;
            for &b in pool.iter() {
                if (b as usize) < limit && out.len() < len {
                    out.push(alphabet[b as usize % alphabet.len()]);
                }
            }
        }
        let has = |f: fn(&u8) -> bool| out.iter().any(f);
        if has(u8::is_ascii_uppercase)
            && has(u8::is_ascii_lowercase)
            && has(u8::is_ascii_digit)
            && has(|c| GEN_SYMBOLS.contains(c))
        {
            return Ok(Secret::new(out.to_vec()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_every_class_and_the_asked_length() {
        for len in [8, 24, 100] {
            let s = generate(len).unwrap();
            let t = s.as_str().unwrap();
            assert_eq!(t.len(), len);
            assert!(t.bytes().any(|c| c.is_ascii_uppercase()));
            assert!(t.bytes().any(|c| c.is_ascii_lowercase()));
            assert!(t.bytes().any(|c| c.is_ascii_digit()));
            assert!(t.bytes().any(|c| GEN_SYMBOLS.contains(&c)));
            assert!(!t.contains(|c: char| c.is_whitespace() || "\"'`\\".contains(c)));
        }
        assert_ne!(generate(24).unwrap(), generate(24).unwrap());
        assert!(generate(7).is_err());
        assert!(generate(257).is_err());
    }
}
