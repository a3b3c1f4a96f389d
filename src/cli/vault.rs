//! `msp vault …`: parses and prints; the work is in `crate::vault`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::{Ctx, note, or_dash, out, print_json};
use crate::config::env;
use crate::crypto::{KdfParams, Secret};
use crate::error::{Error, ExitStatus, Result};
use crate::ids;
use crate::store::Db;
use crate::vault::access::{self, default_field, env_secret, field_names, interactive, prompt};
use crate::vault::audit::{self, Actor};
use crate::vault::input::{self, Origin};
use crate::vault::records::{self, Details, Removal, WriteKind, WriteRequest};
use crate::vault::refs::{self, SecretRef};
use crate::vault::{self as v, redaction};
use crate::work::clients;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create the vault: passphrase from the terminal (asked twice) or MSP_VAULT_PASSPHRASE
    Init {
        /// Also write a key file (0600) that unlocks without the passphrase,
        /// for hooks and CI: point MSP_VAULT_KEY_FILE (or vault.key_file) at it
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
    },
    /// Write a new key file (0600) that unlocks without the passphrase, for
    /// hooks and CI: point MSP_VAULT_KEY_FILE (or vault.key_file) at it
    KeyFile {
        /// Where to write it (never over an existing file)
        path: PathBuf,
    },
    /// Store a credential, or new versions of its fields. Values never come
    /// from the command line: FIELD=- (stdin), FIELD=@PATH (a file),
    /// FIELD=--generate[=LEN]. No FIELD: the password, from stdin.
    Set {
        /// CLIENT/ITEM (CLIENT: a client's name, slug or id)
        reference: String,
        /// Kind of credential (default for a new one: password)
        #[arg(long = "type", value_parser = clap::builder::PossibleValuesParser::new(records::TYPES.iter().copied()))]
        cred_type: Option<String>,
        /// User name that goes with it (not secret: `msp vault list` shows it)
        #[arg(long)]
        username: Option<String>,
        /// Where it is used (not secret: `msp vault list` shows it)
        #[arg(long)]
        url: Option<String>,
        /// Notes about it (not secret)
        #[arg(long)]
        notes: Option<String>,
        /// FIELD=- (stdin), FIELD=@PATH (a file) or FIELD=--generate[=LEN] (random, 8 to 256 characters, default 24); `-` or `@PATH` alone: the password
        #[arg(value_name = "FIELD=SOURCE")]
        values: Vec<String>,
    },
    /// Print a secret (the only command that does): CLIENT/ITEM or msp://CLIENT/ITEM/FIELD
    Get {
        /// CLIENT/ITEM or CLIENT/ITEM/FIELD, with or without msp:// (CLIENT: a client's name, slug or id)
        reference: String,
        /// The field (default: password, or the only field)
        #[arg(long)]
        field: Option<String>,
    },
    /// Credentials and their fields, never their values
    List {
        /// Only this client's credentials (name, slug or id)
        #[arg(long)]
        client: Option<String>,
        /// Include removed credentials
        #[arg(long)]
        all: bool,
    },
    /// Kept versions of a credential's fields (no values)
    History {
        /// CLIENT/ITEM, or CLIENT/ITEM/FIELD for one field (CLIENT: a client's name, slug or id)
        reference: String,
    },
    /// New versions of existing fields; the old ones are kept (vault.max_versions)
    Rotate {
        /// CLIENT/ITEM, or CLIENT/ITEM/FIELD to read that field's new value (CLIENT: a client's name, slug or id)
        reference: String,
        /// FIELD=- (stdin), FIELD=@PATH (a file) or FIELD=--generate[=LEN] (random, 8 to 256 characters, default 24); `-` or `@PATH` alone: the password; none: the password (or the field named), typed or from stdin
        #[arg(value_name = "FIELD=SOURCE")]
        values: Vec<String>,
    },
    /// Remove a credential (recoverable with `restore`; --purge deletes it for good)
    Rm {
        /// CLIENT/ITEM (CLIENT: a client's name, slug or id)
        reference: String,
        /// Delete it for good, with every version of its fields (no restore)
        #[arg(long)]
        purge: bool,
    },
    /// Bring back a removed credential
    Restore {
        /// CLIENT/ITEM (CLIENT: a client's name, slug or id)
        reference: String,
    },
    /// Run a command with secrets in its environment; they are masked in its output
    Run {
        /// NAME=msp://CLIENT/ITEM/FIELD (repeatable)
        #[arg(long = "env", value_name = "NAME=REF", required = true)]
        env: Vec<String>,
        /// The command, after `--`
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Who accessed what, when; --verify checks the tamper-evident chain
    Audit {
        /// Only this credential's entries: CLIENT/ITEM (CLIENT: a client's name, slug or id)
        reference: Option<String>,
        /// Check the chain, its head, the seal beside the store, and that no
        /// credential is older than the log says
        #[arg(long)]
        verify: bool,
        /// With --verify: accept the store as it is now (msp.db restored
        /// from a backup on purpose) and seal it anew, if its chain is intact
        #[arg(long, requires = "verify")]
        reseal: bool,
        /// Only the newest N entries (0: all)
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Change the passphrase (re-wraps the data key; key files keep working)
    Passwd,
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    let code = match cmd {
        Cmd::Init { key_file } => init(ctx, db, key_file).await?,
        Cmd::KeyFile { path } => {
            let (vault, actor) = unlock(ctx, db).await?;
            v::create_key_file(db, &vault, &path, &actor).await?;
            ctx.print(&json!({ "key_file": path }), |_| {
                format!(
                    "key file {} (0600): unlocks without the passphrase; export MSP_VAULT_KEY_FILE={}",
                    path.display(),
                    path.display()
                )
            })?;
            ExitStatus::Success
        }
        Cmd::Set {
            reference,
            cred_type,
            username,
            url,
            notes,
            values,
        } => {
            let details = Details {
                cred_type,
                username,
                url,
                notes,
            };
            write(ctx, db, &reference, values, details, WriteKind::Set).await?
        }
        Cmd::Rotate { reference, values } => {
            write(
                ctx,
                db,
                &reference,
                values,
                Details::default(),
                WriteKind::Rotate,
            )
            .await?
        }
        Cmd::Get { reference, field } => get(ctx, db, &reference, field).await?,
        Cmd::List { client, all } => list(ctx, db, client.as_deref(), all).await?,
        Cmd::History { reference } => history(ctx, db, &reference).await?,
        Cmd::Rm { reference, purge } => {
            let how = if purge { Removal::Purge } else { Removal::Soft };
            remove(ctx, db, &reference, how).await?
        }
        Cmd::Restore { reference } => remove(ctx, db, &reference, Removal::Restore).await?,
        Cmd::Run { env, command } => run_cmd(ctx, db, &env, &command).await?,
        Cmd::Audit {
            reference,
            verify,
            reseal,
            limit,
        } => {
            let limit = limit.map(super::sql_limit);
            audit_cmd(ctx, db, reference.as_deref(), verify, reseal, limit).await?
        }
        Cmd::Passwd => passwd(ctx, db).await?,
    };
    // Closing checkpoints the WAL (two fsyncs). Leaving it to a later
    // process costs more: the next process to open the store, finding no
    // other connection, rebuilds the WAL index by reading the whole WAL.
    store.close().await?;
    Ok(code)
}

/// Unlocks the vault for this command, telling the user what the vault
/// warns about.
async fn unlock(ctx: &Ctx, db: &mut Db) -> Result<(v::Unlocked, Actor)> {
    let (vault, actor) = access::unlock(db, &ctx.config.vault, &ctx.paths.data_dir).await?;
    for w in &vault.warnings {
        note(w);
    }
    Ok((vault, actor))
}

/// A new secret typed twice.
fn prompt_twice(label: &str) -> Result<Secret> {
    let first = prompt(&format!("{label}: "))?;
    let again = prompt(&format!("{label} (again): "))?;
    if first != again {
        return Err(Error::usage("the two entries differ; nothing was changed")
            .with_hint("run the command again"));
    }
    Ok(first)
}

fn kdf_params(ctx: &Ctx) -> KdfParams {
    let c = &ctx.config.vault;
    KdfParams {
        memory_kib: c.kdf_memory_kib,
        iterations: c.kdf_iterations,
        parallelism: c.kdf_parallelism,
    }
}

fn warn_weak(p: &KdfParams) {
    if p.is_weak() {
        note(format!(
            "warning: Argon2id m={} KiB t={} is below the default (m=65536 KiB t=3): fine for tests, weak for real secrets (vault.kdf_* settings)",
            p.memory_kib, p.iterations
        ));
    }
}

async fn init(ctx: &Ctx, db: &mut Db, key_file: Option<PathBuf>) -> Result<ExitStatus> {
    if v::meta(db).await?.is_some() {
        return Err(Error::Conflict(
            "this store already has a vault; init would make its secrets unreadable".into(),
        )
        .with_hint(
            "`msp vault passwd` changes the passphrase; `msp vault list` shows what is in it",
        ));
    }
    let passphrase = match env_secret(env::VAULT_PASSPHRASE) {
        Some(p) => p,
        None if interactive() => prompt_twice("new vault passphrase")?,
        None => {
            return Err(Error::Locked("no passphrase for the new vault".into())
                .with_hint("run in a terminal, or set MSP_VAULT_PASSPHRASE"));
        }
    };
    let params = kdf_params(ctx);
    warn_weak(&params);
    let actor = Actor::current(db).await?;
    let o = v::init(
        db,
        v::InitOptions {
            passphrase: &passphrase,
            params,
            key_file: key_file.as_deref(),
            data_dir: &ctx.paths.data_dir,
        },
        &actor,
    )
    .await?;
    let created = json!({
        "vault_id": o.vault_id,
        "kdf": {"algorithm": "argon2id", "memory_kib": o.params.memory_kib, "iterations": o.params.iterations, "parallelism": o.params.parallelism},
        "key_file": o.key_file,
        "redaction_key": o.redaction_key,
    });
    ctx.print(&created, |_| {
        let mut lines = vec![format!(
            "vault          created ({}; Argon2id m={} KiB, t={}, p={})",
            ids::short_id(&o.vault_id),
            o.params.memory_kib,
            o.params.iterations,
            o.params.parallelism
        )];
        if let Some(kf) = &o.key_file {
            lines.push(format!(
                "key file       {} (0600): unlocks without the passphrase; export MSP_VAULT_KEY_FILE={}",
                kf.display(),
                kf.display()
            ));
        }
        lines.push(format!(
            "redaction key  {} ({}): keeps vault values out of memories",
            o.redaction_key.display(),
            if o.redaction_key_created {
                "created, 0600"
            } else {
                "kept"
            }
        ));
        lines.join("\n")
    })?;
    Ok(ExitStatus::Success)
}

/// The specs of `set`/`rotate`: the reference's own field means `FIELD=-`.
fn specs_for(r: &SecretRef, values: Vec<String>) -> Result<Vec<input::Spec>> {
    match (&r.field, values.is_empty()) {
        (Some(f), true) => input::parse_specs(&[format!("{f}=-")]),
        (Some(_), false) => Err(Error::usage(
            "name the fields either in the reference or as FIELD=SOURCE arguments, not both",
        )
        .with_hint("msp vault set CLIENT/ITEM password=- api_key=@key.txt")),
        (None, _) => input::parse_specs(&values),
    }
}

async fn write(
    ctx: &Ctx,
    db: &mut Db,
    reference: &str,
    values: Vec<String>,
    details: Details,
    kind: WriteKind,
) -> Result<ExitStatus> {
    let mut r = refs::parse(reference)?;
    // Rotating with no field named: the one `vault get` would print
    // (`password`, or the only field), not always `password`.
    if matches!(kind, WriteKind::Rotate) && r.field.is_none() && values.is_empty() {
        v::require(db).await?;
        let c = records::resolve(db, &r).await?;
        r.field = Some(default_field(&c, &field_names(db, &c).await?)?);
    }
    let specs = specs_for(&r, values)?;
    v::require(db).await?;
    let client = clients::resolve(db, &r.client).await?;
    let stdin_prompt;
    let ask: Option<input::Prompt<'_>> = if std::io::stdin().is_terminal() {
        stdin_prompt = |label: &str| prompt_twice(label.trim_end_matches(": "));
        Some(&stdin_prompt)
    } else {
        None
    };
    let read = input::read_values(&specs, &mut std::io::stdin().lock(), ask)?;
    for (field, value, _) in &read {
        if let Some(why) = redaction::weakness(value) {
            note(format!(
                "warning: {field} may not be redacted from Claude Code memories: {why}"
            ));
        }
    }
    let (vault, actor) = unlock(ctx, db).await?;
    let rkey = v::redaction_key_for_write(db, &vault, &ctx.paths.data_dir).await?;
    let pairs: Vec<(String, Secret)> = read
        .iter()
        .map(|(f, s, _)| (f.clone(), s.clone()))
        .collect();
    let w = records::write(
        db,
        &vault,
        &actor,
        WriteRequest {
            client: &client,
            item: &r.item,
            details: &details,
            values: &pairs,
            kind,
            max_versions: ctx.config.vault.max_versions,
            redaction_key: &rkey,
        },
    )
    .await?;
    let written = json!({
        "reference": w.reference,
        "created": w.created,
        "fields": w.fields.iter().map(|(f, n)| json!({"name": f, "version": n})).collect::<Vec<_>>(),
    });
    ctx.print(&written, |_| {
        let fields: Vec<String> = w
            .fields
            .iter()
            .zip(&read)
            .map(|((f, n), (_, s, origin))| match origin {
                Origin::Generated => format!("{f} v{n} (generated, {} characters)", s.len()),
                _ => format!("{f} v{n}"),
            })
            .collect();
        let verb = match (kind, w.created) {
            (WriteKind::Rotate, _) => "rotated",
            (_, true) => "stored",
            (_, false) => "updated",
        };
        format!("{verb} {}: {}", w.reference, fields.join(", "))
    })?;
    Ok(ExitStatus::Success)
}

async fn get(ctx: &Ctx, db: &mut Db, reference: &str, field: Option<String>) -> Result<ExitStatus> {
    let mut r = refs::parse(reference)?;
    if let Some(f) = field {
        refs::check_name("field", &f)?;
        if r.field.as_deref().is_some_and(|rf| rf != f) {
            return Err(Error::usage(format!(
                "{reference} names field {:?} but --field says {f:?}",
                r.field.as_deref().unwrap_or_default()
            ))
            .with_hint("give the field once"));
        }
        r.field = Some(f);
    }
    v::require(db).await?;
    let c = records::resolve(db, &r).await?;
    if c.deleted_at.is_some() {
        return Err(records::in_bin(&c));
    }
    // Without a field: JSON shows all fields, text the default one.
    let field = match (&r.field, ctx.json) {
        (Some(f), _) => Some(f.clone()),
        (None, true) => None,
        (None, false) => Some(default_field(&c, &field_names(db, &c).await?)?),
    };
    let (vault, actor) = unlock(ctx, db).await?;
    let shown = records::reveal(db, &vault, &actor, &r, field.as_deref(), "get", "").await?;
    if ctx.json {
        let c = &shown.credential;
        let fields: serde_json::Map<String, serde_json::Value> = shown
            .values
            .iter()
            .map(|(f, n, s)| {
                let value = match s.as_str() {
                    Some(t) => json!({"version": n, "value": t}),
                    None => json!({"version": n, "value_hex": hex::encode(s.expose())}),
                };
                (f.clone(), value)
            })
            .collect();
        print_json(&json!({
            "reference": c.reference(),
            "client": c.client_name,
            "item": c.name,
            "type": c.cred_type,
            "username": c.username,
            "url": c.url,
            "fields": fields,
        }))?;
    } else if let Some((_, _, value)) = shown.values.first() {
        let mut so = std::io::stdout().lock();
        let newline = std::io::stdout().is_terminal() && !value.expose().ends_with(b"\n");
        so.write_all(value.expose())
            .and_then(|_| if newline { so.write_all(b"\n") } else { Ok(()) })
            .and_then(|_| so.flush())
            .map_err(|e| Error::io("writing to stdout", e))?;
    }
    Ok(ExitStatus::Success)
}

async fn list(ctx: &Ctx, db: &mut Db, client: Option<&str>, all: bool) -> Result<ExitStatus> {
    let client_id = match client {
        Some(c) => Some(clients::resolve(db, c).await?.id),
        None => None,
    };
    let rows = records::list(db, client_id.as_deref(), all).await?;
    ctx.list(&rows, |t| {
        t.col("REFERENCE", |c| c.reference.clone())
            .col("TYPE", |c| c.cred_type.clone())
            .col("USERNAME", |c| or_dash(c.username.as_deref()))
            .col("URL", |c| or_dash(c.url.as_deref()))
            .col("FIELDS", |c| {
                let fields: Vec<String> = c
                    .fields
                    .iter()
                    .map(|f| format!("{} v{}", f.name, f.version))
                    .collect();
                fields.join(", ")
            })
            .col("UPDATED", |c| super::local_time(&c.updated_at));
        if all {
            t.col("REMOVED", |c| {
                c.deleted_at
                    .as_deref()
                    .map_or("-".into(), super::local_time)
            });
        }
    })?;
    Ok(ExitStatus::Success)
}

async fn history(ctx: &Ctx, db: &mut Db, reference: &str) -> Result<ExitStatus> {
    let r = refs::parse(reference)?;
    v::require(db).await?;
    let c = records::resolve(db, &r).await?;
    let versions = records::history(db, &c, r.field.as_deref()).await?;
    // A credential always has a version of each of its fields: none is a
    // field it does not have, not an empty history.
    if let Some(field) = &r.field
        && versions.is_empty()
    {
        return Err(Error::not_found(
            "field",
            &format!("{}/{}/{field}", r.client, r.item),
            &format!(
                "`msp vault history {}/{}` lists its fields",
                r.client, r.item
            ),
        ));
    }
    ctx.list(&versions, |t| {
        t.col("FIELD", |x| x.field.clone())
            .col("VERSION", |x| format!("v{}", x.version))
            .col("CREATED", |x| super::local_time(&x.created_at))
            .col("MACHINE", |x| {
                or_dash(x.machine_id.as_deref().map(ids::short_id))
            })
            .col("", |x| if x.current { "current" } else { "" }.into());
    })?;
    Ok(ExitStatus::Success)
}

async fn remove(ctx: &Ctx, db: &mut Db, reference: &str, how: Removal) -> Result<ExitStatus> {
    let r = refs::parse(reference)?;
    if r.field.is_some() {
        return Err(Error::usage("rm and restore act on a whole credential")
            .with_hint("msp vault rm CLIENT/ITEM"));
    }
    v::require(db).await?;
    records::resolve(db, &r).await?;
    let (vault, actor) = unlock(ctx, db).await?;
    let (reference, changed) = records::remove(db, &vault, &actor, &r, how).await?;
    let action = match how {
        Removal::Soft => "rm",
        Removal::Restore => "restore",
        Removal::Purge => "purge",
    };
    let result = json!({"reference": reference, "changed": changed, "action": action});
    ctx.print(&result, |_| match (how, changed) {
        (Removal::Soft, true) => {
            format!("removed {reference} (`msp vault restore {reference}` brings it back)")
        }
        (Removal::Soft, false) => format!("{reference} was already removed"),
        (Removal::Restore, true) => format!("restored {reference}"),
        (Removal::Restore, false) => format!("{reference} was not removed"),
        (Removal::Purge, _) => format!("purged {reference} and every version of its fields"),
    })?;
    Ok(ExitStatus::Success)
}

fn check_env_name(name: &str) -> Result<()> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(
            Error::usage(format!("{name:?} is not an environment variable name"))
                .with_hint("--env DB_PASSWORD=msp://CLIENT/ITEM/FIELD"),
        )
    }
}

async fn run_cmd(ctx: &Ctx, db: &mut Db, env: &[String], command: &[String]) -> Result<ExitStatus> {
    let mut wanted = Vec::new();
    for e in env {
        let (name, reference) = e.split_once('=').ok_or_else(|| {
            Error::usage(format!("--env {e:?} needs NAME=REF"))
                .with_hint("--env DB_PASSWORD=msp://CLIENT/ITEM/FIELD")
        })?;
        check_env_name(name)?;
        wanted.push((name.to_string(), refs::parse(reference)?));
    }
    let (program, args) = command.split_first().ok_or_else(|| {
        Error::usage("no command to run").with_hint("msp vault run --env X=REF -- CMD ARGS")
    })?;
    v::require(db).await?;
    // Every reference must exist (and fields be chosen) before unlocking.
    let mut resolved = Vec::new();
    for (name, r) in &wanted {
        let c = records::resolve(db, r).await?;
        if c.deleted_at.is_some() {
            return Err(records::in_bin(&c));
        }
        let field = match &r.field {
            Some(f) => f.clone(),
            None => default_field(&c, &field_names(db, &c).await?)?,
        };
        resolved.push((name.clone(), r.clone(), field));
    }
    let (vault, actor) = unlock(ctx, db).await?;
    let program_name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.clone());
    let mut values = Vec::new();
    for (name, r, field) in &resolved {
        let shown = records::reveal(
            db,
            &vault,
            &actor,
            r,
            Some(field),
            "run",
            &format!("env {name} for {program_name}"),
        )
        .await?;
        let (_, _, value) = shown
            .values
            .into_iter()
            .next()
            .ok_or_else(|| Error::Other("no value".into()))?;
        values.push((name.clone(), value));
    }
    crate::vault::run::run(program, args, &values)
        .await
        .map(ExitStatus::External)
}

async fn audit_cmd(
    ctx: &Ctx,
    db: &mut Db,
    reference: Option<&str>,
    verify: bool,
    reseal: bool,
    limit: Option<i64>,
) -> Result<ExitStatus> {
    v::require(db).await?;
    if verify {
        // The seal's findings are reported here, not refused at unlock.
        let (vault, _) =
            access::unlock_unchecked(db, &ctx.config.vault, &ctx.paths.data_dir).await?;
        for w in &vault.warnings {
            note(w);
        }
        let mut report = audit::verify(db, vault.audit_key()).await?;
        report.problems.extend(records::rolled_back(db).await?);
        if reseal && report.ok() {
            v::seal::reseal(db, &vault).await?;
        }
        report.problems.extend(v::seal::check(db, &vault).await?);
        if report.ok() {
            v::seal::advance(db, &vault).await;
        }
        if ctx.json {
            print_json(&json!({
                "ok": report.ok(),
                "entries": report.entries,
                "keyed": report.keyed,
                "unsealed_tail": report.unsealed_tail,
                "problems": report.problems,
            }))?;
        }
        if !report.ok() {
            return Err(audit::broken(&report));
        }
        if !ctx.json {
            out(format!(
                "audit log intact: {} entries, {} sealed with the vault key{}",
                report.entries,
                report.keyed,
                if report.unsealed_tail > 0 {
                    format!(
                        "; the newest {} (failed unlocks) are chained but not yet sealed",
                        report.unsealed_tail
                    )
                } else {
                    String::new()
                }
            ))?;
        }
        return Ok(ExitStatus::Success);
    }
    let filter = match reference {
        Some(text) => {
            let r = refs::parse(text)?;
            if let Some(field) = &r.field {
                return Err(Error::usage(format!(
                    "the audit log is kept per credential, not per field ({field})"
                ))
                .with_hint(format!("give {}/{}", r.client, r.item)));
            }
            // A removed client's entries stay: its slug as typed still finds them.
            let (slug, known) = match clients::resolve(db, &r.client).await {
                Ok(c) => (c.slug, true),
                Err(e) if matches!(e.kind(), Error::NotFound(_)) => (r.client.clone(), false),
                Err(e) => return Err(e),
            };
            Some((format!("{slug}/{}", r.item), known))
        }
        None => None,
    };
    let entries = audit::list(db, filter.as_ref().map(|(f, _)| f.as_str()), limit).await?;
    if let Some((credential, false)) = &filter
        && entries.is_empty()
    {
        return Err(Error::NotFound(format!(
            "no such client, and no audit entries for {credential}"
        ))
        .with_hint(
            "`msp client list` shows the clients; `msp vault audit` alone lists every entry",
        ));
    }
    ctx.list(&entries, |t| {
        t.col("SEQ", |v| v.seq.to_string())
            .col("TIME", |v| crate::time::local_display(v.at))
            .col("MACHINE", |v| {
                or_dash(v.machine_id.as_deref().map(ids::short_id))
            })
            .col("USER", |v| v.os_user.clone())
            .col("ACTION", |v| v.action.clone())
            .col("CREDENTIAL", |v| or_dash(v.credential.as_deref()))
            .col("DETAIL", |v| v.detail.clone());
    })?;
    Ok(ExitStatus::Success)
}

async fn passwd(ctx: &Ctx, db: &mut Db) -> Result<ExitStatus> {
    let (vault, actor) = unlock(ctx, db).await?;
    let new = match env_secret(env::VAULT_NEW_PASSPHRASE) {
        Some(p) => p,
        None if interactive() => prompt_twice("new vault passphrase")?,
        None => {
            return Err(Error::Locked("no new passphrase".into())
                .with_hint("run in a terminal, or set MSP_VAULT_NEW_PASSPHRASE"));
        }
    };
    let params = kdf_params(ctx);
    warn_weak(&params);
    v::change_passphrase(db, &vault, &new, params, &actor).await?;
    ctx.print(&json!({ "changed": true }), |_| {
        "passphrase changed (the data key was re-wrapped; key files keep working)".into()
    })?;
    Ok(ExitStatus::Success)
}
