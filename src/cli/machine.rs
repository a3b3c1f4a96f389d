use clap::Subcommand;

use super::{Ctx, or_dash};
use crate::error::{Error, ExitStatus, Result};
use crate::machine::{self, MachineUpdate, Registration};
use crate::time::local_display;

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Detect this machine and register it (or refresh its record)
    Register,
    /// List registered machines
    List,
    /// Show one machine: `self`, an id, a friendly name or a hostname
    Show {
        /// `self`, an id, a friendly name or a hostname
        #[arg(default_value = "self")]
        machine: String,
    },
    /// Describe a machine
    Update {
        /// `self`, an id, a friendly name or a hostname
        machine: String,
        /// Friendly name, e.g. "Main Laptop" ("" clears it: the hostname shows)
        #[arg(long)]
        name: Option<String>,
        /// Kind of machine, e.g. laptop, desktop, server, vm
        #[arg(long = "type")]
        machine_type: Option<String>,
        /// Free-text notes about the machine ("" clears them)
        #[arg(long)]
        notes: Option<String>,
        /// Agent commands for this machine need approval from another machine
        #[arg(long, overrides_with = "no_approval_required")]
        approval_required: bool,
        /// Agent commands for this machine run without another machine's approval
        #[arg(long)]
        no_approval_required: bool,
    },
}

pub async fn run(ctx: &Ctx, cmd: Cmd) -> Result<ExitStatus> {
    let mut store = ctx.store().await?;
    let db = store.db();
    match cmd {
        Cmd::Register => {
            let detected = machine::detect().await;
            let (m, outcome) = machine::register(db, &detected).await?;
            #[derive(serde::Serialize)]
            struct Registered<'a> {
                outcome: Registration,
                #[serde(flatten)]
                machine: machine::MachineView<'a>,
            }
            let registered = Registered {
                outcome,
                machine: m.view(Some(&m.id)),
            };
            ctx.print(&registered, |r| {
                let verb = match r.outcome {
                    Registration::Created => "registered",
                    Registration::Updated => "already registered, refreshed",
                };
                format!("{} ({}): {verb}", m.display_name(), &m.fingerprint[..12])
            })?;
        }
        Cmd::List => {
            let self_id = machine::self_id(db).await?;
            let list = machine::list(db).await?;
            let views: Vec<_> = list.iter().map(|m| m.view(self_id.as_deref())).collect();
            ctx.list(&views, |t| {
                t.col("NAME", |v| {
                    let marker = if v.is_self { "*" } else { "" };
                    format!("{}{marker}", v.machine.display_name())
                })
                .col("HOSTNAME", |v| v.machine.hostname.clone())
                .col("PLATFORM", |v| v.machine.platform.clone())
                .col("OS", |v| or_dash(v.machine.os_version.as_deref()))
                .col("LAST SEEN", |v| local_display(v.machine.last_seen_at));
            })?;
        }
        Cmd::Show { machine: key } => {
            let self_id = machine::self_id(db).await?;
            let m = machine::resolve(db, &key).await?;
            let v = m.view(self_id.as_deref());
            ctx.print(&v, show)?;
        }
        Cmd::Update {
            machine: key,
            name,
            machine_type,
            notes,
            approval_required,
            no_approval_required,
        } => {
            let approval = if approval_required {
                Some(true)
            } else if no_approval_required {
                Some(false)
            } else {
                None
            };
            if name.is_none() && machine_type.is_none() && notes.is_none() && approval.is_none() {
                return Err(Error::usage("nothing to change").with_hint(
                    "give --name, --type, --notes, --approval-required or --no-approval-required",
                ));
            }
            let m = machine::update(
                db,
                &key,
                MachineUpdate {
                    friendly_name: name,
                    machine_type,
                    notes,
                    approval_required: approval,
                },
            )
            .await?;
            let self_id = machine::self_id(db).await?;
            ctx.print(&m.view(self_id.as_deref()), |v| {
                format!("updated {}", v.machine.display_name())
            })?;
        }
    }
    store.close().await?;
    Ok(ExitStatus::Success)
}

fn show(v: &machine::MachineView<'_>) -> String {
    let m = v.machine;
    let list = |j: &serde_json::Value| match j.as_array() {
        Some(a) if !a.is_empty() => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".into(),
    };
    let tools = match v.tools.as_object() {
        Some(o) if !o.is_empty() => o
            .iter()
            .map(|(k, ver)| format!("{k} {}", ver.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".into(),
    };
    let lines = [
        ("id", m.id.clone()),
        ("name", m.display_name().to_string()),
        (
            "this machine",
            if v.is_self { "yes".into() } else { "no".into() },
        ),
        ("hostname", m.hostname.clone()),
        ("type", or_dash(m.machine_type.as_deref())),
        ("platform", m.platform.clone()),
        ("os", or_dash(m.os_version.as_deref())),
        ("user", m.username.clone()),
        ("home", m.home_directory.clone()),
        ("shell", or_dash(m.preferred_shell.as_deref())),
        ("tools", tools),
        ("mcp servers", list(&v.mcp_servers)),
        ("skills", list(&v.skills)),
        (
            "approval",
            if m.approval_required {
                "required".into()
            } else {
                "not required".into()
            },
        ),
        ("notes", or_dash(m.notes.as_deref())),
        ("fingerprint", m.fingerprint.clone()),
        ("last seen", local_display(m.last_seen_at)),
    ];
    let lines: Vec<String> = lines
        .iter()
        .map(|(k, val)| format!("{k:<13} {val}"))
        .collect();
    lines.join("\n")
}
