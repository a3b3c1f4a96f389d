//! The team store's password is kept out of the store: `msp sync init --url`
//! remembers the URL without it (`local_state('sync.url')`) and writes the
//! password to `sync-password` (mode 0600) beside the team key; resolving
//! the URL puts it back, in memory only. Both forms libpq takes are handled:
//! a URL (`postgres://user:secret@host/db`, `?password=secret`) and a
//! `key=value` string (`host=db password='it''s'`).

use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

const FILE: &str = "sync-password";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The connection string without its password, and the password (if any).
pub fn split(conn: &str) -> (String, Option<Zeroizing<String>>) {
    if conn.contains("://") {
        split_uri(conn)
    } else {
        split_keywords(conn)
    }
}

/// `conn` (without a password) with `password` added back.
pub fn join(conn: &str, password: &str) -> Zeroizing<String> {
    if conn.contains("://")
        && let Ok(mut u) = url::Url::parse(conn)
    {
        // Back where a password usually is, `user:password@`, encoded so
        // any character survives (sqlx decodes it); without a user name,
        // as a `password=` parameter.
        let encoded =
            percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        if u.username().is_empty() || u.set_password(Some(&encoded)).is_err() {
            u.query_pairs_mut().append_pair("password", password);
        }
        return Zeroizing::new(u.to_string());
    }
    let escaped = password.replace('\\', "\\\\").replace('\'', "\\'");
    let sep = if conn.trim().is_empty() { "" } else { " " };
    Zeroizing::new(format!("{}{sep}password='{escaped}'", conn.trim_end()))
}

fn is_password_key(k: &str) -> bool {
    k.trim().eq_ignore_ascii_case("password")
}

fn split_uri(conn: &str) -> (String, Option<Zeroizing<String>>) {
    let Ok(mut u) = url::Url::parse(conn) else {
        // Not a URL anyone can connect with: nothing to keep apart.
        return (conn.to_string(), None);
    };
    let mut password = u.password().map(|p| {
        Zeroizing::new(
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned(),
        )
    });
    if password.is_some() {
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        if pairs.iter().any(|(k, _)| is_password_key(k)) {
            let mut rest = Vec::new();
            for (k, v) in pairs {
                if is_password_key(&k) {
                    password = Some(Zeroizing::new(v));
                } else {
                    rest.push((k, v));
                }
            }
            if rest.is_empty() {
                u.set_query(None);
            } else {
                u.query_pairs_mut().clear().extend_pairs(rest);
            }
        }
    }
    (u.to_string(), password)
}

/// libpq's `key = value` form: values unquoted (up to white space) or in
/// single quotes with `\'` and `\\` escapes.
fn split_keywords(s: &str) -> (String, Option<Zeroizing<String>>) {
    let b = s.as_bytes();
    let mut kept: Vec<&str> = Vec::new();
    let mut password = None;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[start..i];
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            kept.push(key);
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = Zeroizing::new(String::new());
        if j < b.len() && b[j] == b'\'' {
            j += 1;
            let mut chars = s[j..].char_indices();
            let mut end = s.len();
            while let Some((k, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '\'' => {
                        end = j + k + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            j = end;
        } else {
            let v0 = j;
            while j < b.len() && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            value.push_str(&s[v0..j]);
        }
        if is_password_key(key) {
            password = Some(value);
        } else {
            kept.push(&s[start..j]);
        }
        i = j;
    }
    (kept.join(" "), password)
}

/// Writes the password file (0600), replacing an old one atomically.
pub fn save(data_dir: &Path, password: &str) -> Result<()> {
    crate::files::create_private_dir(data_dir)
        .map_err(|e| Error::io(format!("creating {}", data_dir.display()), e))?;
    let final_path = path(data_dir);
    let tmp = data_dir.join(format!(".{FILE}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = (|| -> std::io::Result<()> {
        let mut f = crate::files::private_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(password.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &final_path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("writing {}", final_path.display()), e)
    })
}

/// The remembered password, if there is one.
pub fn load(data_dir: &Path) -> Result<Option<Zeroizing<String>>> {
    let p = path(data_dir);
    match crate::files::read_string_capped(&p, crate::files::KEY_CAP) {
        Ok(text) => Ok(Some(Zeroizing::new(text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Other(format!(
            "cannot read the team store password {}: {e}",
            p.display()
        ))
        .with_hint("give the URL again with `msp sync init --url ...`")),
    }
}

pub fn remove(data_dir: &Path) {
    let _ = std::fs::remove_file(path(data_dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_splits_and_joins_back_to_the_same_connection() {
        let cases = [
            (
                "postgres://msp:pg%40Secret%201@db:5432/msp?sslmode=require",
                "postgres://msp@db:5432/msp?sslmode=require",
                Some("pg@Secret 1"),
            ),
            (
                "postgresql://msp@db/msp?sslmode=require&password=pg-Secret+1",
                "postgresql://msp@db/msp?sslmode=require",
                Some("pg-Secret 1"),
            ),
            (
                "postgres://msp@db/msp?password=x",
                "postgres://msp@db/msp",
                Some("x"),
            ),
            (
                "postgres://db/msp?password=x%26y",
                "postgres://db/msp",
                Some("x&y"),
            ),
            ("postgres://msp@db/msp", "postgres://msp@db/msp", None),
            (
                "host=db user=msp password=pg-Secret-1 dbname=msp",
                "host=db user=msp dbname=msp",
                Some("pg-Secret-1"),
            ),
            (
                "host=db password = 'pg Secret \\' 1' sslmode=require",
                "host=db sslmode=require",
                Some("pg Secret ' 1"),
            ),
            ("host=db dbname=password", "host=db dbname=password", None),
        ];
        for (given, want, pw) in cases {
            let (rest, got) = split(given);
            assert_eq!(rest, want, "{given}");
            assert_eq!(got.as_deref().map(String::as_str), pw, "{given}");
            if let Some(pw) = pw {
                let joined = join(&rest, pw);
                let (again, back) = split(&joined);
                assert_eq!(again, want, "{}", joined.as_str());
                assert_eq!(
                    back.as_deref().map(String::as_str),
                    Some(pw),
                    "{}",
                    joined.as_str()
                );
            }
        }
    }

    #[test]
    fn a_joined_url_gives_sqlx_the_password() {
        use sqlx::ConnectOptions;
        use std::str::FromStr;
        let joined = join("postgres://msp@db:5432/msp?sslmode=disable", "p@ss w&rd=1+");
        let opts = sqlx::postgres::PgConnectOptions::from_str(&joined).unwrap();
        // The URL sqlx rebuilds carries the password it parsed.
        let url = opts.to_url_lossy().to_string();
        assert!(url.contains("msp:p%40ss%20w%26rd%3D1%2B@"), "{url}");
        assert!(
            joined.starts_with("postgres://msp:p%40ss"),
            "{}",
            joined.as_str()
        );
        let bare = join("postgres://db:5432/msp", "p&w");
        let opts = sqlx::postgres::PgConnectOptions::from_str(&bare).unwrap();
        let url = opts.to_url_lossy().to_string();
        assert!(url.contains(":p%26w@"), "{url}");
    }
}
