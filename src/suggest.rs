//! "Did you mean": the known name closest to a mistyped one, for the
//! not-found errors of clients, projects and machines.

use crate::error::Error;
use crate::store::Db;

/// The candidate closest to `input` when it is close enough to be a typo
/// of it (an edit distance of at most a third of its length, at least 1),
/// or starts with it; case is ignored.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.trim().to_lowercase();
    if input.is_empty() {
        return None;
    }
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let d = strsim::damerau_levenshtein(&input, &lower);
            let prefix = input.chars().count() >= 3 && lower.starts_with(&input);
            (d <= limit || prefix).then_some((if prefix { 0 } else { d }, c))
        })
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// A not-found error whose hint starts with the closest of the names
/// `names_sql` selects (one text column), when one is close.
pub async fn not_found(
    db: &mut Db,
    what: &str,
    key: &str,
    names_sql: &'static str,
    hint: &str,
) -> Error {
    let names: Vec<String> = sqlx::query_scalar(names_sql)
        .fetch_all(&mut *db)
        .await
        .unwrap_or_default();
    match closest(key, names.iter().map(String::as_str)) {
        Some(name) => Error::not_found(what, key, &format!("did you mean {name:?}? {hint}")),
        None => Error::not_found(what, key, hint),
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_and_prefixes_are_suggested_and_strangers_are_not() {
        let names = ["Dataforth", "dataforth", "Acme Corp", "acme-corp", "Beta"];
        assert_eq!(closest("Datafort", names), Some("Dataforth"));
        assert_eq!(closest("dtaforth", names), Some("Dataforth"));
        assert_eq!(closest("acme", names), Some("Acme Corp"));
        assert_eq!(closest("Btea", names), Some("Beta"));
        assert_eq!(closest("zanzibar", names), None);
        assert_eq!(closest("", names), None);
        assert_eq!(closest("x", names), None);
    }
}
