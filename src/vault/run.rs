//! `msp vault run`: a command with secrets in its environment, whose
//! stdout and stderr are streamed back with every secret value masked.
//!
//! Output is masked as it streams, chunk by chunk: a chunk's tail that could
//! still be the start of a secret is held back until the next chunk (or the
//! end) decides it, so a value split across two reads is masked as well.

use std::io::Write;
use std::process::Stdio;

use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use crate::config::env;
use crate::crypto::Secret;
use crate::error::{Error, Result};

/// What a masked value becomes (the transcript redactor never touches a
/// placeholder again).
pub const MASK: &[u8] = b"[REDACTED:known-secret]";

/// Streaming replacement of secret byte strings.
pub struct Masker {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<Zeroizing<Vec<u8>>>,
    /// `first[b]`: some secret starts with byte `b`.
    first: [bool; 256],
    carry: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Masker {
        let mut list: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for s in secrets {
            if !s.is_empty() && !list.iter().any(|x| x.as_slice() == s.expose()) {
                list.push(Zeroizing::new(s.expose().to_vec()));
            }
        }
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut first = [false; 256];
        for s in &list {
            first[s[0] as usize] = true;
        }
        Masker {
            secrets: list,
            first,
            carry: Zeroizing::new(Vec::new()),
        }
    }

    /// Masks what can be decided of `carry + chunk`; keeps the undecided tail.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut buf = Zeroizing::new(std::mem::take(&mut *self.carry));
        buf.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'scan: while i < buf.len() {
            if self.first[buf[i] as usize] {
                let rest = &buf[i..];
                // A secret that may continue past the end: wait for more.
                if self
                    .secrets
                    .iter()
                    .any(|s| s.len() > rest.len() && s.starts_with(rest))
                {
                    self.carry.extend_from_slice(rest);
                    return out;
                }
                for s in &self.secrets {
                    if rest.starts_with(s) {
                        out.extend_from_slice(MASK);
                        i += s.len();
                        continue 'scan;
                    }
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        out
    }

    /// Everything still held back (it was not a secret after all).
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut *self.carry);
        rest.to_vec()
    }
}

/// Copies a child's stream to ours, masked. Keeps draining (so the child
/// never blocks) even if our side is closed.
async fn pump(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut masker: Masker,
    to: fn() -> Box<dyn Write>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sink = to();
    let mut open = true;
    loop {
        let n = from.read(&mut buf).await?;
        let out = if n == 0 {
            masker.finish()
        } else {
            masker.push(&buf[..n])
        };
        if open && !out.is_empty() {
            open = sink.write_all(&out).and_then(|_| sink.flush()).is_ok();
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// The variables of `names` a child of `vault run` must not see: every
/// `MSP_*` variable (any case). The key file path, the passphrases, the data
/// and config dirs (which lead to the key file and the store) and the team
/// store's URL would let the child open more than the secrets it was given.
pub fn withheld_from_child(
    names: impl Iterator<Item = std::ffi::OsString>,
) -> impl Iterator<Item = std::ffi::OsString> {
    names.filter(|name| {
        let b = name.as_encoded_bytes();
        b.len() >= env::PREFIX.len()
            && b[..env::PREFIX.len()].eq_ignore_ascii_case(env::PREFIX.as_bytes())
    })
}

/// Makes this process's memory and `/proc/PID/environ` unreadable to other
/// processes of the same user (the child among them), and disables core
/// dumps: the unlocked keys and the passphrase live here.
fn protect_self() {
    #[cfg(target_os = "linux")]
    {
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
}

/// Runs `program args` with `env` added (and msp's own variables
/// removed), masks every secret in its output, and returns its exit code
/// (128 + signal when a signal ended it, as shells do).
pub async fn run(program: &str, args: &[String], env: &[(String, Secret)]) -> Result<i32> {
    protect_self();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for name in withheld_from_child(std::env::vars_os().map(|(k, _)| k)) {
        cmd.env_remove(name);
    }
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            cmd.env(name, std::ffi::OsStr::from_bytes(value.expose()));
        }
        #[cfg(not(unix))]
        {
            cmd.env(name, String::from_utf8_lossy(value.expose()).as_ref());
        }
    }
    let mut child = cmd.spawn().map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            "check the command name and PATH"
        } else {
            "check that the command is executable"
        };
        Error::Other(format!("cannot run {program}: {e}")).with_hint(hint)
    })?;
    // Ctrl-C reaches the child (same process group); msp stays to pass on
    // its output and exit code instead of dying first.
    #[cfg(unix)]
    let _sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let secrets: Vec<&Secret> = env.iter().map(|(_, v)| v).collect();
    let out = child.stdout.take().expect("stdout is piped");
    let err = child.stderr.take().expect("stderr is piped");
    let (a, b, status) = tokio::join!(
        pump(out, Masker::new(secrets.iter().copied()), || Box::new(
            std::io::stdout()
        )),
        pump(err, Masker::new(secrets.iter().copied()), || Box::new(
            std::io::stderr()
        )),
        child.wait()
    );
    a.and(b)
        .map_err(|e| Error::io("reading the command's output", e))?;
    let status = status.map_err(|e| Error::io(format!("waiting for {program}"), e))?;
    if let Some(code) = status.code() {
        return Ok(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ok(128 + sig);
        }
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(secrets: &[&str]) -> Masker {
        let s: Vec<Secret> = secrets
            .iter()
            .map(|x| Secret::from_string(x.to_string()))
            .collect();
        Masker::new(s.iter())
    }

    fn mask_all(secrets: &[&str], chunks: &[&[u8]]) -> String {
        let mut m = masker(secrets);
        let mut out = Vec::new();
        for c in chunks {
            out.extend(m.push(c));
        }
        out.extend(m.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_whole_values_anywhere() {
        assert_eq!(
            mask_all(&["hunter2"], &[b"pw=hunter2; again hunter2hunter2\n"]),
            "pw=[REDACTED:known-secret]; again [REDACTED:known-secret][REDACTED:known-secret]\n"
        );
        assert_eq!(
            mask_all(&["hunter2"], &[b"hunter hunter3\n"]),
            "hunter hunter3\n"
        );
    }

    #[test]
    fn values_split_across_chunks_are_masked_at_every_split() {
        let text = b"before S3cr3t-V4lue after S3cr3t-V4lue";
        for split in 0..=text.len() {
            for split2 in split..=text.len() {
                let out = mask_all(
                    &["S3cr3t-V4lue"],
                    &[&text[..split], &text[split..split2], &text[split2..]],
                );
                assert_eq!(
                    out, "before [REDACTED:known-secret] after [REDACTED:known-secret]",
                    "split at {split}/{split2}"
                );
            }
        }
        // Byte by byte.
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        assert!(!mask_all(&["S3cr3t-V4lue"], &chunks).contains("S3cr3t"));
    }

    #[test]
    fn longer_secret_containing_a_shorter_one_is_masked_whole() {
        let out = mask_all(
            &["abc123", "abc123-and-more"],
            &[b"x abc123-and-more y abc123 z"],
        );
        assert_eq!(out, "x [REDACTED:known-secret] y [REDACTED:known-secret] z");
        // Decided only when the longer one could no longer match.
        let out = mask_all(
            &["abc123", "abc123-and-more"],
            &[b"x abc123", b"-and", b"-more y"],
        );
        assert_eq!(out, "x [REDACTED:known-secret] y");
    }

    #[test]
    fn a_held_back_prefix_that_is_no_secret_is_released() {
        let mut m = masker(&["S3cr3t-V4lue"]);
        assert_eq!(m.push(b"prompt: S3cr"), b"prompt: ");
        assert_eq!(m.finish(), b"S3cr");
        let mut m = masker(&["S3cr3t-V4lue"]);
        assert_eq!(m.push(b"S3cr"), b"");
        assert_eq!(m.push(b"een\n"), b"S3creen\n");
    }

    #[tokio::test]
    async fn runs_a_child_and_returns_its_exit_code() {
        let env = vec![(
            "MSP_TEST_SECRET".to_string(),
            Secret::from_string("x".into()),
        )];
        let (shell, flag, exit7, check) = if cfg!(windows) {
            ("cmd", "/C", "exit 7", "if not %MSP_TEST_SECRET%==x exit 1")
        } else {
            ("sh", "-c", "exit 7", "test \"$MSP_TEST_SECRET\" = x")
        };
        let code = run(shell, &[flag.into(), exit7.into()], &env)
            .await
            .unwrap();
        assert_eq!(code, 7);
        let code = run(shell, &[flag.into(), check.into()], &env)
            .await
            .unwrap();
        assert_eq!(code, 0);
        let e = run("/nonexistent/program", &[], &env).await.unwrap_err();
        assert!(e.hint().is_some(), "{e}");
    }

    #[test]
    fn every_msp_variable_is_withheld_from_the_child() {
        let names = [
            "MSP_VAULT_KEY_FILE",
            "MSP_VAULT_PASSPHRASE",
            "MSP_VAULT_NEW_PASSPHRASE",
            "MSP_DATA_DIR",
            "MSP_CONFIG_DIR",
            "msp_sync_url",
            "PATH",
            "MSPX",
        ];
        let withheld: Vec<String> = withheld_from_child(names.iter().map(std::ffi::OsString::from))
            .map(|n| n.into_string().unwrap())
            .collect();
        assert_eq!(withheld, names[..6]);
    }
}
