//! The team store: two tables in PostgreSQL. The operator sees record ids,
//! machine ids, counters, kinds, format versions, sizes and ciphertext.
//!
//! ```sql
//! msp_sync_meta    (id = 1, team_id, key_check, created_at)
//! msp_sync_records (machine_id, counter, record_id UNIQUE, kind, version, sealed)
//!                  PRIMARY KEY (machine_id, counter)
//! ```

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS msp_sync_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    team_id    TEXT NOT NULL,
    key_check  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS msp_sync_records (
    machine_id TEXT NOT NULL,
    counter    BIGINT NOT NULL CHECK (counter >= 1),
    record_id  TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    sealed     BYTEA NOT NULL,
    PRIMARY KEY (machine_id, counter)
);";

/// One record as the server holds it.
#[derive(Debug, Clone)]
pub struct Wire {
    pub machine_id: String,
    pub counter: i64,
    pub record_id: String,
    pub kind: String,
    pub version: i64,
    pub sealed: Vec<u8>,
}

/// A connection string with every password in it replaced by `***`, in
/// each form libpq takes: a URL's userinfo (`postgres://user:secret@host`),
/// a `password=` query parameter, and a `key=value` string
/// (`host=db password=secret`, `password = 'it''s \' quoted'`).
pub fn mask_url(url: &str) -> String {
    if url.contains("://") {
        mask_uri(url)
    } else {
        mask_keywords(url)
    }
}

fn is_password_key(k: &str) -> bool {
    let k = k.trim();
    k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("pass")
}

fn mask_uri(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, rest) = out.split_at(q + 1);
        let (query, fragment) = rest.split_at(rest.find('#').unwrap_or(rest.len()));
        let masked: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if is_password_key(k) => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}{fragment}", masked.join("&"));
    }
    out
}

/// libpq's `key = value` form: values unquoted (up to white space) or in
/// single quotes with `\'` and `\\` escapes. Anything that does not parse
/// past a password key is masked to the end, never shown.
fn mask_keywords(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // Copy white space, then read a key up to `=` or white space.
        if b[i].is_ascii_whitespace() {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        out.push_str(key);
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            continue;
        }
        j += 1;
        out.push_str(&s[i..j]);
        while j < b.len() && b[j].is_ascii_whitespace() {
            out.push(b[j] as char);
            j += 1;
        }
        // The value.
        let value_start = j;
        if j < b.len() && b[j] == b'\'' {
            j += 1;
            loop {
                match b.get(j) {
                    None => break,
                    Some(b'\\') => j += 2,
                    Some(b'\'') => {
                        j += 1;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
        } else {
            while j < b.len() && !b[j].is_ascii_whitespace() {
                j += 1;
            }
        }
        let j = j.min(b.len());
        if is_password_key(key) {
            out.push_str(if b.get(value_start) == Some(&b'\'') {
                "'***'"
            } else {
                "***"
            });
        } else {
            out.push_str(&s[value_start..j]);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod mask_tests {
    use super::mask_url;

    #[test]
    fn passwords_in_every_connection_string_form_are_masked() {
        let cases = [
            (
                "postgres://msp:pg-Secret-1@db:5432/msp?sslmode=require",
                "postgres://msp:***@db:5432/msp?sslmode=require",
            ),
            (
                "postgresql://msp@db/msp?sslmode=require&password=pg-Secret-1#x",
                "postgresql://msp@db/msp?sslmode=require&password=***#x",
            ),
            (
                "postgres://a:b@db/msp?PASSWORD=pg-Secret-1",
                "postgres://a:***@db/msp?PASSWORD=***",
            ),
            (
                "host=db user=msp password=pg-Secret-1 dbname=msp",
                "host=db user=msp password=*** dbname=msp",
            ),
            ("host=db password = pg-Secret-1", "host=db password = ***"),
            (
                "host=db password='pg Secret \\' 1' sslmode=require",
                "host=db password='***' sslmode=require",
            ),
            ("password='pg-Secret-1 unterminated", "password='***'"),
            ("Password=pg-Secret-1", "Password=***"),
            ("host=db dbname=password", "host=db dbname=password"),
            ("", ""),
        ];
        for (given, want) in cases {
            let got = mask_url(given);
            assert_eq!(got, want, "{given}");
            assert!(!got.contains("Secret"), "{given}");
        }
    }
}

/// A database error, with anything URL-like in its text masked.
fn pg_error(what: &str, url: &str, e: sqlx::Error) -> Error {
    let text = e.to_string().replace(url, &mask_url(url));
    Error::Other(format!(
        "{what} on the team store {}: {text}",
        mask_url(url)
    ))
}

/// Whether the server refused who connected (a wrong or missing password,
/// an unknown role): SQLSTATE class 28, invalid authorization.
fn refused_login(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code.starts_with("28"))
}

pub struct Server {
    conn: PgConnection,
    url: String,
}

/// The connection options of a team store's URL; what is no PostgreSQL
/// URL (another scheme such as https://, or one the driver cannot read) is
/// refused, before any password is asked for or connection made.
pub fn parse_url(url: &str) -> Result<PgConnectOptions> {
    let masked = mask_url(url);
    const FORM: &str = "use postgres://USER@HOST:PORT/DB[?sslmode=require] (`msp sync init --url` asks for the password), or set sync.url / MSP_SYNC_URL";
    if let Some((scheme, _)) = url.trim().split_once("://")
        && !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "postgres" | "postgresql"
        )
    {
        return Err(Error::usage(format!(
            "the sync URL {masked} is not a PostgreSQL URL ({scheme}://)"
        ))
        .with_hint(FORM));
    }
    PgConnectOptions::from_str(url).map_err(|e| {
        Error::usage(format!(
            "the sync URL {masked} is not a PostgreSQL URL: {}",
            e.to_string().replace(url, &masked)
        ))
        .with_hint(FORM)
    })
}

impl Server {
    /// Connects, giving up after `timeout` (an unreachable host must not
    /// hang a command).
    pub async fn connect(url: &str, timeout: Duration) -> Result<Server> {
        let masked = mask_url(url);
        let opts = parse_url(url)?;
        let conn = match tokio::time::timeout(timeout, PgConnection::connect_with(&opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) if refused_login(&e) => {
                return Err(Error::Locked(format!("the team store {masked} refused the login: {}", e.to_string().replace(url, &masked))).with_hint("give `msp sync init --url` the URL without its password and type the password when asked (or set MSP_SYNC_PASSWORD); check the user name"));
            }
            Ok(Err(e)) => {
                return Err(Error::Other(format!("cannot reach the team store {masked}: {}", e.to_string().replace(url, &masked))).with_hint("check that the server is up and the URL (sync.url or MSP_SYNC_URL) is right; everything keeps working locally and the next `msp sync` catches up"));
            }
            Err(_) => {
                return Err(Error::Other(format!("cannot reach the team store {masked}: no answer within {} s", timeout.as_secs_f64())).with_hint("check the network and the URL (sync.url or MSP_SYNC_URL); everything keeps working locally and the next `msp sync` catches up"));
            }
        };
        Ok(Server {
            conn,
            url: url.to_string(),
        })
    }

    pub fn masked_url(&self) -> String {
        mask_url(&self.url)
    }

    fn err(&self, what: &str, e: sqlx::Error) -> Error {
        pg_error(what, &self.url, e)
    }

    pub async fn create_schema(&mut self) -> Result<()> {
        sqlx::raw_sql(SCHEMA)
            .execute(&mut self.conn)
            .await
            .map_err(|e| pg_error("creating the sync tables", &self.url, e))?;
        Ok(())
    }

    /// (team id, key check), or `None` when no team was created here.
    pub async fn meta(&mut self) -> Result<Option<(String, Vec<u8>)>> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('msp_sync_meta') IS NOT NULL")
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| self.err("reading the team", e))?;
        if !exists {
            return Ok(None);
        }
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT team_id, key_check FROM msp_sync_meta WHERE id = 1")
                .fetch_optional(&mut self.conn)
                .await
                .map_err(|e| self.err("reading the team", e))?;
        Ok(row)
    }

    /// Stores the team if none exists; returns the one that is there after.
    pub async fn create_meta(
        &mut self,
        team_id: &str,
        key_check: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        sqlx::query(
            "INSERT INTO msp_sync_meta (id, team_id, key_check) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(team_id)
        .bind(key_check)
        .execute(&mut self.conn)
        .await
        .map_err(|e| self.err("creating the team", e))?;
        self.meta()
            .await?
            .ok_or_else(|| Error::Other("the team row vanished after it was written".into()))
    }

    /// Highest counter per machine.
    pub async fn heads(&mut self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT machine_id, max(counter) AS head FROM msp_sync_records GROUP BY machine_id",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| self.err("reading the record heads", e))?;
        rows.iter()
            .map(|r| Ok((r.try_get("machine_id")?, r.try_get("head")?)))
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| self.err("reading the record heads", e))
    }

    /// Inserts a batch; records the server has already are left alone.
    pub async fn push(&mut self, batch: &[Wire]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let machine: Vec<&str> = batch.iter().map(|w| w.machine_id.as_str()).collect();
        let counter: Vec<i64> = batch.iter().map(|w| w.counter).collect();
        let record: Vec<&str> = batch.iter().map(|w| w.record_id.as_str()).collect();
        let kind: Vec<&str> = batch.iter().map(|w| w.kind.as_str()).collect();
        let version: Vec<i32> = batch.iter().map(|w| w.version as i32).collect();
        let sealed: Vec<&[u8]> = batch.iter().map(|w| w.sealed.as_slice()).collect();
        sqlx::query(
            "INSERT INTO msp_sync_records (machine_id, counter, record_id, kind, version, sealed)
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::int4[], $6::bytea[])
             ON CONFLICT DO NOTHING",
        )
        .bind(machine)
        .bind(counter)
        .bind(record)
        .bind(kind)
        .bind(version)
        .bind(sealed)
        .execute(&mut self.conn)
        .await
        .map_err(|e| self.err("pushing records", e))?;
        Ok(())
    }

    /// Records of `machine_id` after `after`, in counter order, at most `limit`.
    pub async fn fetch(&mut self, machine_id: &str, after: i64, limit: i64) -> Result<Vec<Wire>> {
        let rows = sqlx::query(
            "SELECT machine_id, counter, record_id, kind, version, sealed FROM msp_sync_records
             WHERE machine_id = $1 AND counter > $2 ORDER BY counter LIMIT $3",
        )
        .bind(machine_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| self.err("pulling records", e))?;
        rows.iter()
            .map(|r| {
                Ok(Wire {
                    machine_id: r.try_get("machine_id")?,
                    counter: r.try_get("counter")?,
                    record_id: r.try_get("record_id")?,
                    kind: r.try_get("kind")?,
                    version: i64::from(r.try_get::<i32, _>("version")?),
                    sealed: r.try_get("sealed")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| self.err("pulling records", e))
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://msp:s3cr3t@db.example:5432/team?sslmode=require"),
            "postgres://msp:***@db.example:5432/team?sslmode=require"
        );
        assert_eq!(
            mask_url("postgres://db/team?user=msp&password=s3cr3t"),
            "postgres://db/team?user=msp&password=***"
        );
        assert_eq!(mask_url("postgres://msp@db/team"), "postgres://msp@db/team");
        assert_eq!(mask_url("postgres://a:b:c@h/d"), "postgres://a:***@h/d");
    }
}
