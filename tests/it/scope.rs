//! The scope rules: `--client` and the directory's project, and what recall
//! may use in a directory that names no client.

use crate::common::{self, Env, acme, str_of};

use std::path::Path;

/// `--client` dropped the directory's project: a session started with
/// `--client Acme` in Acme's project directory had no project.
#[test]
fn client_flag_keeps_the_directory_project_when_they_agree() {
    let (env, dir) = acme();
    let v = env.json_in(
        &dir,
        &[
            "session",
            "start",
            "--client",
            "Acme Corp",
            "--title",
            "patching",
        ],
    );
    assert_eq!(v["session"]["client"], "Acme Corp", "{v}");
    assert_eq!(v["session"]["project"], "acme-site", "{v}");
    env.ok(&["session", "stop"]);
    let v = env.json_in(
        &dir,
        &[
            "session",
            "add",
            "--from",
            "2026-11-02 09:00",
            "--to",
            "2026-11-02 10:00",
            "--client",
            "acme-corp",
        ],
    );
    assert_eq!(v["project"], "acme-site", "{v}");
}

#[test]
fn client_flag_that_disagrees_with_the_directory_project_is_refused() {
    let (env, dir) = acme();
    env.ok(&["client", "add", "Dataforth"]);
    let out = env
        .msp_in(&dir, &["session", "start", "--client", "Dataforth"])
        .expect_hint(2);
    assert!(
        out.stderr.contains("acme-site") && out.stderr.contains("Acme Corp"),
        "{}",
        out.stderr
    );
    // No session was started.
    let list = env.json(&["session", "list"]);
    assert_eq!(common::array(&list).len(), 0, "{list}");
    // An explicit project settles it; outside the directory --client stands.
    env.ok(&["project", "add", "df-backup", "--client", "Dataforth"]);
    let v = env.json_in(
        &dir,
        &[
            "session",
            "start",
            "--client",
            "Dataforth",
            "--project",
            "df-backup",
        ],
    );
    assert_eq!(v["session"]["project"], "df-backup", "{v}");
}

/// The titles `msp context recall` picks for `prompt` as if run in `dir`.
fn recall_in(env: &Env, dir: &Path, prompt: &str, vars: &[(&str, &str)]) -> Vec<String> {
    let args = [
        "--json",
        "context",
        "recall",
        "--prompt",
        prompt,
        "--cwd",
        common::s(dir),
    ];
    let v = env.msp_with(vars, &args).expect_code(0).json();
    common::array(&v["memories"])
        .iter()
        .map(|m| str_of(m, "title").to_string())
        .collect()
}

fn hook_context(env: &Env, cwd: &Path, prompt: &str, vars: &[(&str, &str)]) -> String {
    let event = serde_json::json!({
        "session_id": format!("s-{}", prompt.len()), "transcript_path": "/nonexistent/t.jsonl",
        "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt,
    });
    env.hook(common::RECALL, vars, &event).stdout
}

/// An unlinked directory saw every client's memories: a prompt there got a
/// client's memory injected.
#[test]
fn unlinked_directory_recall_uses_only_memories_of_no_client() {
    let (env, acme_dir) = acme();
    env.remember(
        "Acme firewall quirk",
        "The sonicwall firewall at Acme drops ipsec after the nightly reboot.",
        &["--client", "acme-corp"],
    );
    env.remember(
        "Generic firewall note",
        "A sonicwall firewall needs the ipsec keepalive after a reboot.",
        &[],
    );
    let prompt = "why does the sonicwall firewall drop ipsec after reboot";
    let elsewhere = env.dir("somewhere/unlinked");
    assert_eq!(
        recall_in(&env, &elsewhere, prompt, &[]),
        ["Generic firewall note"]
    );
    let hook = hook_context(&env, &elsewhere, prompt, &[]);
    assert!(hook.contains("Generic firewall note"), "{hook}");
    assert!(!hook.contains("Acme firewall quirk"), "{hook}");

    // In Acme's directory both are fair game.
    let mut t = recall_in(&env, &acme_dir, prompt, &[]);
    t.sort();
    assert_eq!(t, ["Acme firewall quirk", "Generic firewall note"]);

    // memory.unlinked_scope = "all" opens the unlinked directory to all.
    let all = [("MSP_MEMORY_UNLINKED_SCOPE", "all")];
    assert_eq!(recall_in(&env, &elsewhere, prompt, &all).len(), 2);
    let hook = hook_context(&env, &elsewhere, prompt, &all);
    assert!(hook.contains("Acme firewall quirk"), "{hook}");
    std::fs::create_dir_all(&env.config).unwrap();
    let config = env.config.join("config.toml");
    std::fs::write(&config, "[memory]\nunlinked_scope = \"all\"\n").unwrap();
    assert_eq!(recall_in(&env, &elsewhere, prompt, &[]).len(), 2);
    std::fs::write(&config, "[memory]\nunlinked_scope = \"some\"\n").unwrap();
    env.msp(&["client", "list"]).expect_hint(1);
}
