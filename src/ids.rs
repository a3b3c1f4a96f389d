//! Row ids: UUIDv7 text everywhere, and the short form msp prints.

/// A fresh UUIDv7 (time-ordered) id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The last 8 characters of an id: enough to tell rows apart by hand.
pub fn short_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

/// Shortest part of an id that finds a row.
pub const MIN_KEY: usize = 6;

/// SQL that matches the id `column` against the typed key `?1`: the whole
/// id, or a literal start or end of at least [`MIN_KEY`] characters, in any
/// case. `substr`, not `LIKE`: `%` and `_` in a key are characters, never
/// wildcards.
pub fn key_match_sql(column: &str) -> String {
    format!(
        "({column} = ?1 OR (length(?1) >= {MIN_KEY} AND (substr({column}, 1, length(?1)) = lower(?1) OR substr({column}, -length(?1)) = lower(?1))))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_and_short_ids_their_tail() {
        let id = new_id();
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
        assert_eq!(short_id(&id), &id[id.len() - 8..]);
        assert_eq!(short_id("abc"), "abc");
    }
}
