//! Row ids: UUIDv7 text everywhere, and the short form msp prints.

/// A fresh UUIDv7 (time-ordered) id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The last 8 characters of an id: enough to tell rows apart by hand.
pub fn short_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
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
