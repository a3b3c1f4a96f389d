//! Token counts. Memories store their counts, counted once with tiktoken's
//! cl100k_base encoding when they are written; recall fills its budget from
//! the stored counts and never builds an encoder (~68 ms per process).

/// Exact cl100k_base token count (builds the encoder on first use).
pub fn count(text: &str) -> u32 {
    tiktoken_rs::cl100k_base_singleton().count_ordinary(text) as u32
}

/// A cheap, deliberately generous estimate (about 3.5 bytes per token for
/// English and code), for text whose exact count is not worth an encoder.
pub fn estimate_bytes(bytes: u64) -> u32 {
    (bytes.div_ceil(7) * 2).min(u32::MAX as u64) as u32
}

pub fn estimate(text: &str) -> u32 {
    estimate_bytes(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_plausible() {
        assert_eq!(count(""), 0);
        let n = count("Configured the nightly Veeam backup job on the Synology NAS.");
        assert!((8..=20).contains(&n), "{n}");
        assert!(estimate("Configured the nightly Veeam backup job on the Synology NAS.") >= n);
    }
}
