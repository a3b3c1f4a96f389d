//! The memory engine: what capture needs from outside memory, built once by
//! the caller and passed in. It holds the redactor (with the vault's known
//! secrets when the caller has them: the binaries wire those in) and the token
//! counter, so nothing in memory depends on a process-wide setting or on
//! the order in which things were initialised.

use super::tokens;
use crate::redact::Redactor;

/// How the tokens of a memory are counted.
#[derive(Clone, Copy)]
pub struct TokenCounter {
    count: fn(&str) -> u32,
    exact: bool,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.exact { "exact" } else { "estimate" })
    }
}

impl TokenCounter {
    /// A cheap, generous estimate. The hooks use it: they never build a
    /// tokenizer (~68 ms), and since nothing on their path names
    /// [`TokenCounter::exact`], the tokenizer's tables are not linked into
    /// them. `msp context list`, `show` and `stats` count them exactly later.
    pub const ESTIMATE: TokenCounter = TokenCounter {
        count: tokens::estimate,
        exact: false,
    };

    /// tiktoken's cl100k_base, built on first use.
    pub fn exact() -> TokenCounter {
        TokenCounter {
            count: tokens::count,
            exact: true,
        }
    }

    pub fn count(&self, text: &str) -> u32 {
        (self.count)(text)
    }

    /// Tokens of a turn's raw text, of which `overflow` bytes were not kept.
    pub fn count_raw(&self, kept: &str, overflow: u64) -> u32 {
        if self.exact {
            (self.count)(kept) + tokens::estimate_bytes(overflow)
        } else {
            tokens::estimate_bytes(kept.len() as u64 + overflow)
        }
    }

    pub fn is_exact(&self) -> bool {
        self.exact
    }
}

#[derive(Debug)]
pub struct Engine {
    redactor: Redactor,
    tokens: TokenCounter,
}

impl Engine {
    pub fn new(redactor: Redactor, tokens: TokenCounter) -> Engine {
        Engine { redactor, tokens }
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn tokens(&self) -> TokenCounter {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_and_exact_counts_agree_roughly_and_say_which_they_are() {
        let text = "Configured the nightly Veeam backup job on the Synology NAS.";
        let (est, exact) = (TokenCounter::ESTIMATE, TokenCounter::exact());
        assert!(!est.is_exact() && exact.is_exact());
        assert!(est.count(text) >= exact.count(text));
        assert_eq!(
            est.count_raw(text, 70),
            tokens::estimate_bytes(text.len() as u64 + 70)
        );
        assert_eq!(
            exact.count_raw(text, 70),
            exact.count(text) + tokens::estimate_bytes(70)
        );
    }
}
