//! Signatures of agent commands and approvals.
//!
//! A command is signed with HMAC-SHA256 over an unambiguous encoding
//! ([`Canon`]: every field length-prefixed) of everything that decides what
//! runs where and when: id, requesting machine and user, target machine,
//! program, each argument, shell, working directory, timeout, output cap,
//! creation and expiry times, nonce and the kind of key. The key is either
//!
//! - `team`: an HKDF-SHA256 subkey of the team key dedicated to agent
//!   signatures (the team key itself only seals sync records), or
//! - `local`: 32 random bytes in `agent.key` in the data directory (0600,
//!   created on first use), for a machine without a team that sends
//!   commands to itself. A `local` signature is accepted only on a command
//!   whose requester and target are both the verifying machine.
//!
//! A row written into SQLite or PostgreSQL by hand carries no valid
//! signature, and a changed row no longer matches its signature: the agent
//! refuses both.

use std::path::{Path, PathBuf};

use hmac::Mac;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto::{self, Canon, KEY_LEN, Key};
use crate::error::{Error, Result};
use crate::sync::key::TeamKey;

const LOCAL_KEY_FILE: &str = "agent.key";
const HKDF_SALT: &[u8] = b"msp-agent-v1";
const HKDF_INFO: &[u8] = b"agent command signing";

/// Which key signed a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Team,
    Local,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Team => "team",
            KeyKind::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "team" => Some(KeyKind::Team),
            "local" => Some(KeyKind::Local),
            _ => None,
        }
    }
}

/// The signing subkey of a team key.
pub fn team_signing_key(team: &TeamKey) -> Key {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(HKDF_SALT), team.key.expose());
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    hk.expand(HKDF_INFO, out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Key::from_slice(out.as_ref()).expect("KEY_LEN bytes")
}

pub fn local_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOCAL_KEY_FILE)
}

/// This machine's local agent key, if it has one.
pub fn load_local_key(data_dir: &Path) -> Result<Option<Key>> {
    let path = local_key_path(data_dir);
    match crate::files::read_capped(&path, crate::files::KEY_CAP) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            Key::from_slice(&bytes).map(Some).ok_or_else(|| {
                Error::Other(format!("{} is not an agent key (expected 32 bytes)", path.display())).with_hint("move it away; the next `msp agent exec self` creates a new one (commands queued before are then refused)")
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// The local agent key, created (0600) when missing.
pub fn local_key(data_dir: &Path) -> Result<Key> {
    if let Some(k) = load_local_key(data_dir)? {
        return Ok(k);
    }
    let key = Key::random()?;
    match crate::vault::redaction::write_private(&local_key_path(data_dir), key.expose()) {
        Ok(()) => Ok(key),
        // Another process created it at the same moment: use theirs.
        Err(e) if matches!(e.kind(), Error::Conflict(_)) => load_local_key(data_dir)?
            .ok_or_else(|| Error::Other("the agent key file vanished while it was read".into())),
        Err(e) => Err(e),
    }
}

/// The fields of a command that its signature covers.
#[derive(Debug, Clone, Copy)]
pub struct CommandFields<'a> {
    pub id: &'a str,
    pub requester_machine_id: &'a str,
    pub requested_by: &'a str,
    pub target_machine_id: &'a str,
    pub program: &'a str,
    pub args: &'a [String],
    pub shell: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub timeout_ms: i64,
    pub max_output: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub nonce: &'a str,
    pub key_kind: KeyKind,
}

fn command_message(f: &CommandFields<'_>) -> Canon {
    let mut c = Canon::new("msp-agent-command-v1");
    c.str(f.id)
        .str(f.requester_machine_id)
        .str(f.requested_by)
        .str(f.target_machine_id)
        .str(f.program)
        .int(f.args.len() as i64);
    for a in f.args {
        c.str(a);
    }
    c.opt(f.shell)
        .opt(f.cwd)
        .int(f.timeout_ms)
        .int(f.max_output)
        .int(f.created_at)
        .int(f.expires_at)
        .str(f.nonce)
        .str(f.key_kind.as_str());
    c
}

/// The fields of an approval that its signature covers (the command's own
/// signature binds it to exactly that command).
#[derive(Debug, Clone, Copy)]
pub struct ApprovalFields<'a> {
    pub id: &'a str,
    pub command_id: &'a str,
    pub command_signature: &'a str,
    pub machine_id: &'a str,
    pub approved_by: &'a str,
    pub created_at: i64,
}

fn approval_message(f: &ApprovalFields<'_>) -> Canon {
    let mut c = Canon::new("msp-agent-approval-v1");
    c.str(f.id)
        .str(f.command_id)
        .str(f.command_signature)
        .str(f.machine_id)
        .str(f.approved_by)
        .int(f.created_at);
    c
}

fn mac(key: &Key, msg: &Canon) -> String {
    let mut m = crypto::hmac(key.expose());
    m.update(msg.finish());
    hex::encode(m.finalize().into_bytes())
}

fn verify_mac(key: &Key, msg: &Canon, signature: &str) -> bool {
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    let mut m = crypto::hmac(key.expose());
    m.update(msg.finish());
    // Constant-time comparison.
    m.verify_slice(&bytes).is_ok()
}

pub fn sign_command(key: &Key, f: &CommandFields<'_>) -> String {
    mac(key, &command_message(f))
}

pub fn verify_command(key: &Key, f: &CommandFields<'_>, signature: &str) -> bool {
    verify_mac(key, &command_message(f), signature)
}

pub fn sign_approval(key: &Key, f: &ApprovalFields<'_>) -> String {
    mac(key, &approval_message(f))
}

pub fn verify_approval(key: &Key, f: &ApprovalFields<'_>, signature: &str) -> bool {
    verify_mac(key, &approval_message(f), signature)
}

/// A fresh random nonce (128 bits, hex).
pub fn new_nonce() -> Result<String> {
    Ok(hex::encode(crypto::random_array::<16>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(args: &'a [String]) -> CommandFields<'a> {
        CommandFields {
            id: "0195f0a0-0000-7000-8000-000000000001",
            requester_machine_id: "m-a",
            requested_by: "tech",
            target_machine_id: "m-b",
            program: "systemctl",
            args,
            shell: None,
            cwd: None,
            timeout_ms: 30_000,
            max_output: 1 << 20,
            created_at: 1,
            expires_at: 3_600_001,
            nonce: "00ff",
            key_kind: KeyKind::Team,
        }
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let key = Key::random().unwrap();
        let args = vec!["status".to_string(), "veeam".to_string()];
        let base = fields(&args);
        let sig = sign_command(&key, &base);
        assert!(verify_command(&key, &base, &sig));
        let other_args = vec!["stop".to_string(), "veeam".to_string()];
        let split_args = vec!["status veeam".to_string()];
        let changed: Vec<CommandFields<'_>> = vec![
            CommandFields { id: "x", ..base },
            CommandFields {
                requester_machine_id: "m-c",
                ..base
            },
            CommandFields {
                requested_by: "root",
                ..base
            },
            CommandFields {
                target_machine_id: "m-a",
                ..base
            },
            CommandFields {
                program: "rm",
                ..base
            },
            CommandFields {
                args: &other_args,
                ..base
            },
            CommandFields {
                args: &split_args,
                ..base
            },
            CommandFields {
                shell: Some("sh"),
                ..base
            },
            CommandFields {
                cwd: Some("/"),
                ..base
            },
            CommandFields {
                timeout_ms: 1,
                ..base
            },
            CommandFields {
                max_output: 1,
                ..base
            },
            CommandFields {
                created_at: 2,
                ..base
            },
            CommandFields {
                expires_at: i64::MAX,
                ..base
            },
            CommandFields {
                nonce: "00fe",
                ..base
            },
            CommandFields {
                key_kind: KeyKind::Local,
                ..base
            },
        ];
        for (i, f) in changed.iter().enumerate() {
            assert!(!verify_command(&key, f, &sig), "change #{i} not detected");
        }
        assert!(!verify_command(&Key::random().unwrap(), &base, &sig));
        assert!(!verify_command(&key, &base, "not hex"));
        assert!(!verify_command(&key, &base, &sig[..10]));
    }

    #[test]
    fn team_subkey_is_not_the_team_key_and_is_stable() {
        let team = TeamKey::generate().unwrap();
        let a = team_signing_key(&team);
        let b = team_signing_key(&team);
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), team.key.expose());
    }

    #[test]
    fn approval_is_bound_to_the_command_signature() {
        let key = Key::random().unwrap();
        let f = ApprovalFields {
            id: "ap",
            command_id: "c",
            command_signature: "aa",
            machine_id: "m-c",
            approved_by: "tech",
            created_at: 5,
        };
        let sig = sign_approval(&key, &f);
        assert!(verify_approval(&key, &f, &sig));
        let other = ApprovalFields {
            command_signature: "ab",
            ..f
        };
        assert!(!verify_approval(&key, &other, &sig));
        let moved = ApprovalFields {
            machine_id: "m-a",
            ..f
        };
        assert!(!verify_approval(&key, &moved, &sig));
    }

    #[test]
    fn local_key_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_local_key(dir.path()).unwrap().is_none());
        let k = local_key(dir.path()).unwrap();
        let again = local_key(dir.path()).unwrap();
        assert_eq!(k.expose(), again.expose());
        crate::files::testing::assert_owner_only(&local_key_path(dir.path()));
    }
}
