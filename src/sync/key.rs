//! The team key: 256 random bits shared by every machine of a team, created
//! once by `msp sync init`, moved by hand (`msp sync key export` / `import`)
//! and never sent to the server. It lives in `sync-team.key` (mode 0600) in
//! the data directory, as the same printable string `export` shows:
//!
//! `msp-team-1.<team id>.<64 hex digits of key>.<8 hex digits of check>`
//!
//! where the check is the first 4 bytes of SHA-256 over team id and key, so
//! a mistyped or truncated string is refused before anything uses it.

use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::crypto::{self, Key};
use crate::error::{Error, Result};

const PREFIX: &str = "msp-team-1";
const FILE: &str = "sync-team.key";
/// What the server's key check seals: opening it proves the same key.
const CHECK_PLAINTEXT: &[u8] = b"msp team key check v1";

#[derive(Clone, Debug)]
pub struct TeamKey {
    pub team_id: String,
    pub key: Key,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

fn checksum(team_id: &str, key: &[u8]) -> String {
    let mut data = Vec::with_capacity(team_id.len() + 1 + key.len());
    data.extend_from_slice(team_id.as_bytes());
    data.push(0);
    data.extend_from_slice(key);
    hex::encode(&crypto::sha256(&data)[..4])
}

impl TeamKey {
    pub fn generate() -> Result<TeamKey> {
        Ok(TeamKey {
            team_id: crate::ids::new_id(),
            key: Key::random()?,
        })
    }

    /// The printable form (a secret: whoever holds it reads the team's data).
    pub fn export(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{PREFIX}.{}.{}.{}",
            self.team_id,
            hex::encode(self.key.expose()),
            checksum(&self.team_id, self.key.expose())
        ))
    }

    pub fn parse(text: &str) -> Result<TeamKey> {
        let bad = |why: &str| {
            Error::usage(format!("this is not an msp team key ({why})")).with_hint(format!("copy the whole line `msp sync key export` printed on a machine of the team (it starts with {PREFIX}.)"))
        };
        let text = text.trim();
        let parts: Vec<&str> = text.split('.').collect();
        let [prefix, team_id, key_hex, check] = parts.as_slice() else {
            return Err(bad("wrong shape"));
        };
        if *prefix != PREFIX {
            return Err(bad("unknown prefix"));
        }
        if uuid::Uuid::parse_str(team_id).is_err() {
            return Err(bad("bad team id"));
        }
        let bytes = Zeroizing::new(hex::decode(key_hex).map_err(|_| bad("bad key digits"))?);
        let key = Key::from_slice(&bytes).ok_or_else(|| bad("wrong key length"))?;
        if checksum(team_id, key.expose()) != check.to_ascii_lowercase() {
            return Err(bad("checksum mismatch: a character was changed or lost"));
        }
        Ok(TeamKey {
            team_id: team_id.to_string(),
            key,
        })
    }

    /// Loads the key of this machine, if it has one.
    pub fn load(data_dir: &Path) -> Result<Option<TeamKey>> {
        let p = path(data_dir);
        match crate::files::read_string_capped(&p, crate::files::KEY_CAP) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                TeamKey::parse(&text).map(Some).map_err(|e| {
                    Error::Other(format!(
                        "the team key file {} is damaged: {}",
                        p.display(),
                        e.to_string().lines().next().unwrap_or_default()
                    ))
                    .with_hint("import the key again with `msp sync key import --replace`")
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", p.display()), e)),
        }
    }

    /// The key of this machine, or an error saying how to get one.
    pub fn require(data_dir: &Path) -> Result<TeamKey> {
        TeamKey::load(data_dir)?.ok_or_else(|| {
            Error::Locked("this machine has no team key".into()).with_hint("run `msp sync init` on the team's first machine; on the others run `msp sync key export` on a machine that has it and `msp sync key import` here")
        })
    }

    /// Writes the key file with mode 0600 (replacing an existing one atomically).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        crate::files::create_private_dir(data_dir)
            .map_err(|e| Error::io(format!("creating {}", data_dir.display()), e))?;
        let final_path = path(data_dir);
        let tmp = data_dir.join(format!("{FILE}.tmp{}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let write = (|| -> std::io::Result<()> {
            let mut f = opts.open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(self.export().as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &final_path)
        })();
        write.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(format!("writing {}", final_path.display()), e)
        })
    }

    /// nonce || ciphertext of a known constant, bound to the team id: stored
    /// on the server so a wrong key is detected before anything is applied.
    pub fn key_check(&self) -> Result<Vec<u8>> {
        let (nonce, ct) = crypto::seal(&self.key, CHECK_PLAINTEXT, self.check_aad().as_bytes())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn verify_check(&self, sealed: &[u8]) -> bool {
        if sealed.len() < crypto::NONCE_LEN {
            return false;
        }
        let (nonce, ct) = sealed.split_at(crypto::NONCE_LEN);
        crypto::open(&self.key, nonce, ct, self.check_aad().as_bytes())
            .is_some_and(|p| p.expose() == CHECK_PLAINTEXT)
    }

    fn check_aad(&self) -> String {
        format!("msp-sync-key-check|{}", self.team_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_parse_round_trip_and_typos_are_refused() {
        let k = TeamKey::generate().unwrap();
        let text = k.export();
        let back = TeamKey::parse(&format!("  {}\n", text.as_str())).unwrap();
        assert_eq!(back.team_id, k.team_id);
        assert_eq!(back.key.expose(), k.key.expose());
        // One changed digit of the key is caught by the checksum.
        let mut chars: Vec<char> = text.chars().collect();
        let i = PREFIX.len() + 1 + k.team_id.len() + 1 + 5;
        chars[i] = if chars[i] == '0' { '1' } else { '0' };
        let typo: String = chars.into_iter().collect();
        assert!(TeamKey::parse(&typo).is_err());
        assert!(TeamKey::parse("hello").is_err());
        assert!(TeamKey::parse(&text[..text.len() - 3]).is_err());
    }

    #[test]
    fn key_check_opens_only_with_the_same_key_and_team() {
        let k = TeamKey::generate().unwrap();
        let check = k.key_check().unwrap();
        assert!(k.verify_check(&check));
        let other = TeamKey::generate().unwrap();
        assert!(!other.verify_check(&check));
        let same_key_other_team = TeamKey {
            team_id: other.team_id.clone(),
            key: k.key.clone(),
        };
        assert!(!same_key_other_team.verify_check(&check));
        assert!(!k.verify_check(&check[..10]));
    }

    #[test]
    fn saved_file_is_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        assert!(TeamKey::load(dir.path()).unwrap().is_none());
        let k = TeamKey::generate().unwrap();
        k.save(dir.path()).unwrap();
        let back = TeamKey::load(dir.path()).unwrap().unwrap();
        assert_eq!(back.key.expose(), k.key.expose());
        crate::files::testing::assert_owner_only(&path(dir.path()));
    }
}
