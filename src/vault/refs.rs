//! Naming a secret: `CLIENT/ITEM`, `CLIENT/ITEM/FIELD` or
//! `msp://CLIENT/ITEM[/FIELD]`. CLIENT is a client's name, slug or id (in
//! `msp://` references, use the slug); ITEM and FIELD are names of letters,
//! digits, `.`, `_` and `-`.

use std::fmt;

use crate::error::{Error, Result};

pub const SCHEME: &str = "msp://";
pub const DEFAULT_FIELD: &str = "password";
const MAX_NAME: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub client: String,
    pub item: String,
    pub field: Option<String>,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.client, self.item)?;
        if let Some(field) = &self.field {
            write!(f, "/{field}")?;
        }
        Ok(())
    }
}

/// A valid ITEM or FIELD name.
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!("{kind} name {name:?} is not valid")).with_hint(format!("use letters, digits, '.', '_' and '-' (starting with a letter or digit), at most {MAX_NAME} characters")))
    }
}

pub fn parse(input: &str) -> Result<SecretRef> {
    let raw = input.trim();
    let body = raw.strip_prefix(SCHEME).unwrap_or(raw);
    let parts: Vec<&str> = body.split('/').collect();
    let bad = || {
        Error::usage(format!("{input:?} is not a vault reference")).with_hint("write CLIENT/ITEM, CLIENT/ITEM/FIELD or msp://CLIENT/ITEM/FIELD (CLIENT as `msp client list` shows it)")
    };
    let (client, item, field) = match parts.as_slice() {
        [c, i] => (*c, *i, None),
        [c, i, f] => (*c, *i, Some(*f)),
        _ => return Err(bad()),
    };
    if client.trim().is_empty() || item.is_empty() {
        return Err(bad());
    }
    check_name("item", item)?;
    if let Some(f) = field {
        check_name("field", f)?;
    }
    Ok(SecretRef {
        client: client.trim().to_string(),
        item: item.to_string(),
        field: field.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let r = parse("dataforth/nas-admin").unwrap();
        assert_eq!(
            (r.client.as_str(), r.item.as_str(), r.field),
            ("dataforth", "nas-admin", None)
        );
        let r = parse("msp://dataforth/nas-admin/api_key").unwrap();
        assert_eq!(r.field.as_deref(), Some("api_key"));
        assert_eq!(r.to_string(), "dataforth/nas-admin/api_key");
        let r = parse("Dataforth Corp/nas").unwrap();
        assert_eq!(r.client, "Dataforth Corp");
        assert_eq!(parse("msp://acme/db").unwrap().field, None);
    }

    #[test]
    fn rejects_malformed_references_as_usage_errors() {
        for bad in [
            "",
            "acme",
            "acme/",
            "/item",
            "msp://acme",
            "a/b/c/d",
            "acme/has space",
            "acme/-dash",
            "acme/item/fi=eld",
            "msp://acme/item/",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
            assert!(e.hint().is_some(), "{bad:?}");
        }
    }
}
