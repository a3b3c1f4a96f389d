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

/// `msp context search` run in a project's directory ranked every client's
/// memories alike, and its table did not say whose each one was.
#[test]
fn search_in_a_project_directory_ranks_its_own_first_and_names_each_client() {
    let (env, acme_dir) = acme();
    env.ok(&["client", "add", "Dataforth"]);
    env.ok(&["project", "add", "df-office", "--client", "dataforth"]);
    env.remember(
        "Front desk printer queue stuck",
        "Cleared the print spooler on the Acme print server.",
        &["--project", "acme-site"],
    );
    // The better match by its words wherever no scope is preferred.
    env.remember(
        "Front desk printer queue stuck",
        "Printer spooler restarted: the spooler of the Dataforth front desk PC.",
        &["--project", "df-office"],
    );
    let bodies_of = |v: &serde_json::Value| -> Vec<String> {
        common::array(v)
            .iter()
            .map(|m| str_of(&m["memory"], "body").to_string())
            .collect()
    };
    let elsewhere = env.dir("somewhere/unlinked");
    let outside = env.json_in(&elsewhere, &["context", "search", "printer spooler"]);
    assert_eq!(bodies_of(&outside).len(), 2, "{outside}");
    assert!(bodies_of(&outside)[0].contains("Dataforth"), "{outside}");
    assert_eq!(outside[0]["shares"]["scope"], 0.0, "{outside}");

    // In Acme's directory Acme's memory comes first; Dataforth's is still found.
    let inside = env.json_in(&acme_dir, &["context", "search", "printer spooler"]);
    let found = bodies_of(&inside);
    assert_eq!(found.len(), 2, "{inside}");
    assert!(found[0].contains("Acme"), "{inside}");
    assert!(
        inside[0]["shares"]["scope"].as_f64().unwrap() > 0.0,
        "{inside}"
    );
    // A flag narrows the search and the directory no longer counts.
    let flagged = env.json_in(
        &acme_dir,
        &[
            "context",
            "search",
            "printer spooler",
            "--client",
            "dataforth",
        ],
    );
    assert_eq!(bodies_of(&flagged).len(), 1, "{flagged}");
    assert!(bodies_of(&flagged)[0].contains("Dataforth"), "{flagged}");

    // The table names each result's client.
    let table = env.msp_in(&acme_dir, &["context", "search", "printer spooler"]);
    let table = table.expect_code(0).stdout;
    assert!(table.lines().next().unwrap().contains("CLIENT"), "{table}");
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert!(rows[0].contains("acme-corp"), "{table}");
    assert!(rows[1].contains("dataforth"), "{table}");
    let listed = env.ok(&["context", "list"]).stdout;
    assert!(
        listed.contains("acme-corp") && listed.contains("dataforth"),
        "{listed}"
    );
}
