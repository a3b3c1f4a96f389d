//! The command and configuration reference in `docs/reference/`, generated
//! from the clap definitions and the config entries so it cannot drift.
//!
//! A unit test compares the committed files with what this renders and
//! fails when they differ; `MSP_UPDATE_REFERENCE=1 cargo test --lib reference`
//! rewrites them.

use std::fmt::Write;

use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::config::{Config, OTHER_ENV_DOCS, SETTING_DOCS};

/// `docs/reference/cli.md`: every command and subcommand with its help,
/// usage, arguments and defaults.
pub fn cli_markdown() -> String {
    let mut root = super::Cli::command().term_width(0).max_term_width(0);
    root.build();
    let mut md = String::from(
        "# Command reference\n\n\
         Generated from the command-line definitions; do not edit by hand \
         (`MSP_UPDATE_REFERENCE=1 cargo test --lib reference` regenerates it).\n",
    );
    render(&mut md, &mut root, "msp", true);
    md
}

fn render(md: &mut String, cmd: &mut Command, path: &str, is_root: bool) {
    let _ = write!(md, "\n## `{path}`\n\n");
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        let _ = writeln!(md, "{}\n", about.to_string().trim());
    }
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim().trim_start_matches("Usage: ");
    let _ = writeln!(md, "```text\n{usage}\n```");
    let args: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .filter(|a| is_root || !a.is_global_set())
        .collect();
    if !args.is_empty() {
        md.push('\n');
        for a in args {
            let _ = writeln!(md, "- {}", describe(a));
        }
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    if !subs.is_empty() {
        md.push_str("\nSubcommands: ");
        let links: Vec<String> = subs.iter().map(|s| format!("`{s}`")).collect();
        md.push_str(&links.join(", "));
        md.push('\n');
    }
    for name in subs {
        if let Some(sub) = cmd.find_subcommand_mut(&name) {
            render(md, sub, &format!("{path} {name}"), false);
        }
    }
}

fn describe(a: &Arg) -> String {
    let values: Vec<String> = a
        .get_value_names()
        .map(|v| v.iter().map(|n| n.to_string()).collect())
        .unwrap_or_else(|| vec![a.get_id().as_str().to_ascii_uppercase()]);
    let takes_value = !matches!(
        a.get_action(),
        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count | ArgAction::Help
    );
    let mut name = match (a.get_long(), a.get_short()) {
        (Some(l), Some(s)) => format!("`-{s}`, `--{l}"),
        (Some(l), None) => format!("`--{l}"),
        (None, Some(s)) => format!("`-{s}"),
        (None, None) => format!("`<{}>`", values.join(" ")),
    };
    if a.get_long().is_some() || a.get_short().is_some() {
        if takes_value {
            name.push_str(&format!(" <{}>", values.join(" ")));
        }
        name.push('`');
    }
    let mut line = name;
    if let Some(help) = a.get_long_help().or(a.get_help()) {
        line.push_str(": ");
        line.push_str(help.to_string().trim());
    }
    let possible: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| format!("`{}`", p.get_name()))
        .collect();
    if !possible.is_empty() && takes_value {
        line.push_str(&format!(" (one of {})", possible.join(", ")));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value {
        line.push_str(&format!(" (default: `{}`)", defaults.join(" ")));
    }
    if a.is_required_set() {
        line.push_str(" (required)");
    }
    line
}

/// `docs/reference/config.md`: every setting with its type, default,
/// environment variable and description.
pub fn config_markdown() -> String {
    let mut md = String::from(
        "# Configuration reference\n\n\
         Generated from the config entries; do not edit by hand \
         (`MSP_UPDATE_REFERENCE=1 cargo test --lib reference` regenerates it).\n\n\
         Defaults, then `config.toml` in the config directory, then environment \
         variables. `msp config show` prints each setting's effective value.\n\n\
         | setting | type | default | environment | description |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    let defaults = Config::default();
    for (key, env, value) in defaults.entries() {
        let description = SETTING_DOCS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, d)| *d)
            .unwrap_or("");
        let kind = match crate::config::BOUNDS.iter().find(|(k, _, _)| *k == key) {
            Some((_, bound, _)) => format!("{}, {}", toml_type(&value), bound.describe()),
            None => toml_type(&value).to_string(),
        };
        let _ = writeln!(
            md,
            "| `{key}` | {kind} | `{value}` | `{env}` | {description} |"
        );
    }
    md.push_str(
        "\n## Other environment variables\n\n\
         | variable | meaning |\n\
         | --- | --- |\n",
    );
    for (name, meaning) in OTHER_ENV_DOCS {
        let _ = writeln!(md, "| `{name}` | {meaning} |");
    }
    md
}

fn toml_type(value: &str) -> &'static str {
    if value.starts_with('"') {
        "string"
    } else if value == "true" || value == "false" {
        "boolean"
    } else if value.parse::<i64>().is_ok() {
        "integer"
    } else if value.parse::<f64>().is_ok() {
        "float"
    } else {
        "string"
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn check(relative: &str, rendered: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
        if std::env::var_os("MSP_UPDATE_REFERENCE").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, rendered).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == rendered,
            "{relative} is stale: regenerate it with \
             `MSP_UPDATE_REFERENCE=1 cargo test --lib reference` and commit the result"
        );
    }

    #[test]
    fn reference_cli_is_current() {
        check("docs/reference/cli.md", &cli_markdown());
    }

    #[test]
    fn reference_config_is_current() {
        check("docs/reference/config.md", &config_markdown());
    }

    /// `msp CMD --help` says what every argument is: none shows its name alone.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if matches!(a.get_id().as_str(), "help" | "version") || a.get_help().is_some() {
                    continue;
                }
                let name = match (a.get_long(), a.get_short()) {
                    (Some(l), _) => format!("--{l}"),
                    (None, Some(s)) => format!("-{s}"),
                    (None, None) => match a.get_value_names() {
                        Some(v) => format!("<{}>", v[0]),
                        None => format!("<{}>", a.get_id().as_str().to_ascii_uppercase()),
                    },
                };
                missing.push(format!("{path} {name}"));
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut root = crate::cli::Cli::command();
        root.build();
        let mut missing = Vec::new();
        walk(&root, "msp", &mut missing);
        assert!(
            missing.is_empty(),
            "{} argument(s) without help text (give each a `///` doc comment):\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
