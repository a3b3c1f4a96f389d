//! Where secret values come from: stdin (`FIELD=-`), a file (`FIELD=@PATH`)
//! or the generator (`FIELD=--generate[=LEN]`). Never the command line:
//! argv is visible in the process list and lands in shell history, so
//! `FIELD=value` is refused, and the refusal does not repeat the value.

use std::io::Read;
use std::path::PathBuf;

use super::refs::{DEFAULT_FIELD, check_name};
use crate::crypto::Secret;
use crate::error::{Error, Result};

/// Largest value read from stdin or a file.
pub const MAX_VALUE: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
    Generate(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub field: String,
    pub source: Source,
}

fn from_argv(field: Option<&str>) -> Error {
    let which = field
        .filter(|f| check_name("field", f).is_ok())
        .map(|f| format!(" for field {f:?}"))
        .unwrap_or_default();
    Error::usage(format!("refusing a secret value given on the command line{which}: it would be visible in the process list and shell history (the value was not stored)")).with_hint("FIELD=- reads it from stdin, FIELD=@PATH from a file, FIELD=--generate[=LEN] makes a random one")
}

/// One `FIELD=SOURCE` argument. A bare `-` or `@PATH` is the `password`
/// field.
pub fn parse_spec(arg: &str) -> Result<Spec> {
    let (field, source) = match arg.split_once('=') {
        Some((f, s)) if !f.starts_with('-') && !f.starts_with('@') => (f, s),
        _ if arg == "-" || arg.starts_with('@') => (DEFAULT_FIELD, arg),
        _ => return Err(from_argv(None)),
    };
    if check_name("field", field).is_err() {
        return Err(from_argv(None));
    }
    let source = if source == "-" {
        Source::Stdin
    } else if let Some(path) = source.strip_prefix('@') {
        if path.is_empty() {
            return Err(Error::usage(format!("{field}=@ needs a path"))
                .with_hint(format!("{field}=@/path/to/file")));
        }
        Source::File(PathBuf::from(path))
    } else if source == "--generate" {
        Source::Generate(super::generate::GEN_DEFAULT)
    } else if let Some(n) = source.strip_prefix("--generate=") {
        let len = n.parse().map_err(|_| {
            Error::usage(format!("{field}=--generate={n} needs a length"))
                .with_hint(format!("{field}=--generate=32"))
        })?;
        Source::Generate(len)
    } else {
        return Err(from_argv(Some(field)));
    };
    Ok(Spec {
        field: field.to_string(),
        source,
    })
}

/// Parses every spec; none means the password from stdin. Rejects two
/// specs for one field and more than one reading stdin.
pub fn parse_specs(args: &[String]) -> Result<Vec<Spec>> {
    let mut specs = Vec::new();
    for a in args {
        let s = parse_spec(a)?;
        if specs.iter().any(|p: &Spec| p.field == s.field) {
            return Err(Error::usage(format!("field {:?} is given twice", s.field))
                .with_hint("give each field once"));
        }
        specs.push(s);
    }
    if specs.is_empty() {
        specs.push(Spec {
            field: DEFAULT_FIELD.into(),
            source: Source::Stdin,
        });
    }
    if specs.iter().filter(|s| s.source == Source::Stdin).count() > 1 {
        return Err(Error::usage("only one field can read stdin")
            .with_hint("give the others as FIELD=@PATH or FIELD=--generate"));
    }
    Ok(specs)
}

/// One line followed by one line break loses the line break
/// (`echo secret | msp vault set …`); anything else is kept exactly.
fn trim_single_line(mut v: Vec<u8>) -> Vec<u8> {
    let body_end = if v.ends_with(b"\r\n") {
        v.len() - 2
    } else if v.ends_with(b"\n") {
        v.len() - 1
    } else {
        return v;
    };
    if !v[..body_end].contains(&b'\n') {
        // Overwrite before truncating, so no copy of the tail lingers.
        for b in &mut v[body_end..] {
            *b = 0;
        }
        v.truncate(body_end);
    }
    v
}

fn read_limited(r: &mut dyn Read, what: &str) -> Result<Secret> {
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(256));
    r.take(MAX_VALUE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("reading {what}"), e))?;
    if buf.len() > MAX_VALUE {
        return Err(
            Error::usage(format!("{what} holds more than {MAX_VALUE} bytes"))
                .with_hint("the vault is for secrets, not files"),
        );
    }
    Ok(Secret::new(trim_single_line(std::mem::take(&mut *buf))))
}

/// Asks for a value on the terminal, given a label.
pub type Prompt<'a> = &'a dyn Fn(&str) -> Result<Secret>;

/// Where a value came from, for messages (never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Stdin,
    Terminal,
    File,
    Generated,
}

/// Reads every value. `stdin` is read only if a spec asks for it; `prompt`
/// is used instead when stdin is a terminal (no echo).
pub fn read_values(
    specs: &[Spec],
    stdin: &mut dyn Read,
    prompt: Option<Prompt<'_>>,
) -> Result<Vec<(String, Secret, Origin)>> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        let (value, origin) = match &s.source {
            Source::Stdin => match prompt {
                Some(ask) => (ask(&format!("value for {}: ", s.field))?, Origin::Terminal),
                None => (read_limited(stdin, "stdin")?, Origin::Stdin),
            },
            Source::File(p) => {
                let mut f = std::fs::File::open(p).map_err(|e| {
                    Error::Other(format!("cannot read {}: {e}", p.display()))
                        .with_hint(format!("{}=@PATH names a readable file", s.field))
                })?;
                (
                    read_limited(&mut f, &p.display().to_string())?,
                    Origin::File,
                )
            }
            Source::Generate(n) => (super::generate::generate(*n)?, Origin::Generated),
        };
        if value.is_empty() {
            return Err(
                Error::usage(format!("the value for {} is empty", s.field)).with_hint(format!(
                    "pipe the secret in: printf %s \"$SECRET\" | msp vault set CLIENT/ITEM {}=-",
                    s.field
                )),
            );
        }
        out.push((s.field.clone(), value, origin));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            parse_spec("password=-").unwrap(),
            Spec {
                field: "password".into(),
                source: Source::Stdin
            }
        );
        assert_eq!(parse_spec("-").unwrap().field, "password");
        assert_eq!(
            parse_spec("key=@/tmp/k").unwrap().source,
            Source::File("/tmp/k".into())
        );
        assert_eq!(parse_spec("@/tmp/k").unwrap().field, "password");
        assert_eq!(
            parse_spec("pin=--generate").unwrap().source,
            Source::Generate(24)
        );
        assert_eq!(
            parse_spec("pin=--generate=40").unwrap().source,
            Source::Generate(40)
        );
    }

    #[test]
    fn values_on_the_command_line_are_refused_without_echo() {
        for arg in [
            "password=hunter2secret",
            "api_key=sk-abc123def456",
            "hunter2secret",
            "password=--generateX",
            "--password=hunter2secret",
            "bad name=hunter2secret",
        ] {
            let e = parse_spec(arg).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{arg}");
            let msg = e.to_string();
            assert!(!msg.contains("hunter2") && !msg.contains("sk-abc"), "{msg}");
            assert!(e.hint().is_some(), "{msg}");
        }
    }

    #[test]
    fn spec_lists_are_checked() {
        assert_eq!(parse_specs(&[]).unwrap()[0].source, Source::Stdin);
        let two_stdin = ["a=-".to_string(), "b=-".to_string()];
        assert!(parse_specs(&two_stdin).is_err());
        let dup = ["a=--generate".to_string(), "a=-".to_string()];
        assert!(parse_specs(&dup).is_err());
    }

    #[test]
    fn reading_trims_one_line_break_only_for_one_line() {
        let specs = parse_specs(&["password=-".into()]).unwrap();
        let read = |input: &[u8]| {
            let mut r = input;
            read_values(&specs, &mut r, None).map(|v| v[0].1.expose().to_vec())
        };
        assert_eq!(read(b"hunter2\n").unwrap(), b"hunter2");
        assert_eq!(read(b"hunter2\r\n").unwrap(), b"hunter2");
        assert_eq!(read(b"hunter2").unwrap(), b"hunter2");
        assert_eq!(read(b"line1\nline2\n").unwrap(), b"line1\nline2\n");
        assert_eq!(read(b"hunter2\n\n").unwrap(), b"hunter2\n\n");
        assert!(read(b"").is_err());
        assert!(read(b"\n").is_err());
        assert!(read(&vec![b'x'; MAX_VALUE + 1]).is_err());
    }

    #[test]
    fn files_and_generator_and_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key.pem");
        std::fs::write(&f, "-----BEGIN X-----\nabc\n-----END X-----\n").unwrap();
        let specs = parse_specs(&[
            format!("cert=@{}", f.display()),
            "pin=--generate=12".into(),
            "password=-".into(),
        ])
        .unwrap();
        let ask = |_: &str| Ok(Secret::from_string("typed-in-secret".into()));
        let vals = read_values(&specs, &mut std::io::empty(), Some(&ask)).unwrap();
        assert!(vals[0].1.as_str().unwrap().ends_with("-----END X-----\n"));
        assert_eq!(vals[1].1.len(), 12);
        assert_eq!(vals[1].2, Origin::Generated);
        assert_eq!(vals[2].1.as_str(), Some("typed-in-secret"));
        assert_eq!(vals[2].2, Origin::Terminal);
        let missing = parse_specs(&["x=@/nonexistent/file".into()]).unwrap();
        assert!(read_values(&missing, &mut std::io::empty(), None).is_err());
    }
}
