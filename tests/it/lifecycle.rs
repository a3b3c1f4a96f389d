//! The lifecycle of a memory through the CLI and the hooks: supersede and
//! restore, automatic supersession of a restated fact, pin into the
//! SessionStart briefing, edit, `msp remember`, and the briefing's order.

use serde_json::{Value, json};

use crate::common::*;

fn add_fact(env: &Env, title: &str, extra: &[&str]) -> Value {
    let mut args = vec!["context", "add", "--title", title, "--kind", "fact"];
    args.extend_from_slice(extra);
    env.json(&args)
}

fn id(v: &Value) -> String {
    str_of(v, "id").to_string()
}

/// The ids `msp context recall` injects for `prompt` in `dir`.
fn recalled(env: &Env, dir: &std::path::Path, prompt: &str) -> Vec<String> {
    let r = env.json(&["context", "recall", "--prompt", prompt, "--cwd", s(dir)]);
    array(&r["memories"]).iter().map(id).collect()
}

fn show(env: &Env, key: &str) -> Value {
    env.json(&["context", "show", key])
}

#[test]
fn supersede_by_hand_keeps_the_old_memory_out_of_recall_and_restore_brings_it_back() {
    let (env, dir) = acme();
    let old = id(&env.remember(
        "Printer queue on PRN01",
        "Jobs go through the PRN01 spooler; the Kyocera driver v7 is the one that works.",
        &["--project", "acme-site"],
    ));
    let new = id(&env.remember(
        "Printing moved to Universal Print",
        "Jobs no longer go through a spooler: Universal Print with the Kyocera cloud connector.",
        &["--project", "acme-site"],
    ));
    let prompt = "printing jobs spooler Kyocera";
    let before = recalled(&env, &dir, prompt);
    assert!(before.contains(&old) && before.contains(&new), "{before:?}");

    let out = env.json(&["context", "supersede", &old, &new]);
    assert_eq!(str_of(&out, "old"), old);
    assert_eq!(str_of(&out, "new"), new);
    let after = recalled(&env, &dir, prompt);
    assert!(after.contains(&new) && !after.contains(&old), "{after:?}");
    // Search still finds it, marked.
    let found = env.json(&[
        "context",
        "search",
        "Kyocera driver",
        "--project",
        "acme-site",
    ]);
    let hit = array(&found)
        .iter()
        .find(|h| str_of(h, "id") == old)
        .expect("search still finds a superseded memory");
    assert_eq!(hit["memory"]["superseded_by"], json!(new));
    let text = env.ok(&["context", "show", &old]).stdout;
    assert_has(&text, &format!("superseded by {new}"));
    let listed = env.ok(&["context", "list"]).stdout;
    assert_has(
        &listed,
        &format!("[superseded by {}]", &new[new.len() - 8..]),
    );

    // Restore: recalled again. A second restore, like a second pin,
    // changes nothing and succeeds.
    env.json(&["context", "restore", &old]);
    assert!(show(&env, &old)["superseded_by"].is_null());
    assert!(recalled(&env, &dir, prompt).contains(&old));
    let again = env.json(&["context", "restore", &old]);
    assert_eq!(again["id"], json!(old));
    assert!(again["superseded_by"].is_null());
    // A memory cannot supersede itself; unknown ids are exit 3.
    env.msp(&["context", "supersede", &old, &old])
        .expect_hint(2);
    env.msp(&["context", "supersede", &old, "00000000"])
        .expect_code(3);
}

#[test]
fn restoring_a_memory_that_is_not_superseded_succeeds_and_changes_nothing() {
    let env = Env::new();
    let m = add_fact(
        &env,
        "VPN on FW01",
        &["--body", "FortiClient, SAML with Entra ID"],
    );
    // Exit 0, like pin on a pinned memory; it was an error (exit 2).
    let restored = env.json(&["context", "restore", &id(&m)]);
    assert_eq!(restored["id"], m["id"]);
    assert!(restored["superseded_by"].is_null());
    assert_has(&env.ok(&["context", "restore", &id(&m)]).stdout, "restored");
}

#[test]
fn a_restated_fact_supersedes_the_older_one_and_another_host_or_a_ticket_does_not() {
    let (env, dir) = acme();
    let p = ["--project", "acme-site"];
    let old = id(&add_fact(
        &env,
        "DC01 DNS forwarders are 8.8.8.8 and 8.8.4.4",
        &p,
    ));
    let other_host = id(&add_fact(&env, "DC02 DNS forwarders are 9.9.9.9", &p));
    let new = add_fact(&env, "DC01 DNS forwarders are now 1.1.1.1 and 1.0.0.1", &p);
    assert_eq!(new["supersedes"], json!([old]), "{new}");
    assert!(show(&env, &other_host)["superseded_by"].is_null());
    assert_eq!(show(&env, &old)["superseded_by"], json!(id(&new)));
    let got = recalled(&env, &dir, "which DNS forwarders does DC01 use");
    assert!(got.contains(&id(&new)) && !got.contains(&old), "{got:?}");

    // Tickets are history: two password resets restate nothing.
    let a = id(&env.remember("Password reset for asmith", "Locked out, reset in AD.", &p));
    let b = env.remember("Password reset for bjones", "Locked out, reset in AD.", &p);
    assert_eq!(b["supersedes"], json!([]));
    assert!(show(&env, &a)["superseded_by"].is_null());
}

#[test]
fn an_import_supersedes_what_its_newer_facts_restate() {
    let (env, _dir) = acme();
    let notes = env.path("facts.jsonl");
    std::fs::write(
        &notes,
        [
            json!({"title": "FW01 WAN address is 203.0.113.10", "kind": "fact", "project": "acme-site", "created_at": "2026-01-01T10:00:00Z"}),
            json!({"title": "FW01 WAN address is now 198.51.100.7", "kind": "fact", "project": "acme-site", "created_at": "2026-02-01T10:00:00Z"}),
            json!({"title": "FW02 WAN address is 192.0.2.1", "kind": "fact", "project": "acme-site", "created_at": "2026-02-02T10:00:00Z"}),
        ]
        .map(|v| v.to_string())
        .join("\n"),
    )
    .unwrap();
    let out = env.json(&["context", "import", s(&notes), "--format", "jsonl"]);
    assert_eq!(out["superseded"], json!(1), "{out}");
    let current = env.json(&["context", "list", "--current"]);
    let titles: Vec<&str> = array(&current).iter().map(|m| str_of(m, "title")).collect();
    assert_eq!(
        titles,
        [
            "FW02 WAN address is 192.0.2.1",
            "FW01 WAN address is now 198.51.100.7"
        ]
    );
}

#[test]
fn a_pinned_memory_opens_every_session_of_its_project() {
    let (env, dir) = acme();
    let p = ["--project", "acme-site"];
    let pinned = id(&env.remember(
        "Change freeze",
        "No changes to the ERP server during month-end close (the last 3 working days of each month); \
         patches, reboots and firewall changes wait until the controller signs off the close.",
        &[&p[..], &["--importance", "2"]].concat(),
    ));
    // Newer, more important memories fill the briefing's budget (small
    // ones, so that the room left is smaller than the pinned memory).
    for i in 0..60 {
        env.remember(
            &format!("SW{i:02} uplink moved to the new core"),
            "Uplink tagged.",
            &[&p[..], &["--kind", "decision", "--importance", "7"]].concat(),
        );
    }
    let session_start = json!({
        "session_id": "pin-1", "transcript_path": "", "cwd": dir,
        "hook_event_name": "SessionStart", "source": "startup",
    });
    let brief = |env: &Env| {
        let out = env.hook(RECALL, &[], &session_start);
        let v: Value = serde_json::from_str(&out.stdout).expect("SessionStart context");
        v["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_lacks(&brief(&env), "Change freeze");

    let out = env.json(&["context", "pin", &pinned]);
    assert!(out["pinned_at"].is_string());
    let text = brief(&env);
    assert_has(&text, "Pinned:\n- ");
    assert_has(&text, "Change freeze");
    // The same briefing through the CLI.
    assert_has(
        &env.ok(&["context", "brief", "--project", "acme-site"])
            .stdout,
        "Change freeze",
    );
    let pins = env.json(&["context", "list", "--pinned"]);
    assert_eq!(array(&pins).len(), 1);

    env.json(&["context", "unpin", &pinned]);
    assert_lacks(&brief(&env), "Change freeze");
}

#[test]
fn edit_redacts_retags_and_reindexes_the_memory() {
    let (env, dir) = acme();
    let m = id(&env.remember(
        "Backup target",
        "Nightly backups go to the old Synology.",
        &["--project", "acme-site", "--tags", "offsite-copy"],
    ));
    let secret = "Xq7!vR2#pL9$wK4m";
    let body = format!("Nightly backups go to Wasabi bucket acme-vault; password: {secret}");
    let edited = env.json(&["context", "edit", &m, "--body", &body, "--importance", "8"]);
    assert_eq!(edited["importance"], json!(8));
    assert!(edited["updated_at"].is_string());
    let shown = env.ok(&["context", "show", &m]).stdout;
    assert_has(&shown, "Wasabi");
    assert_lacks(&shown, secret);
    let shown = show(&env, &m);
    let tags: Vec<&str> = array(&shown["tags"])
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"offsite-copy"),
        "tags given by hand stay: {tags:?}"
    );
    // The index follows the text.
    let found = |q: &str| {
        array(&env.json(&["context", "search", q, "--project", "acme-site"]))
            .iter()
            .any(|h| str_of(h, "id") == m)
    };
    assert!(found("Wasabi"));
    assert!(!found("Synology"));
    assert!(recalled(&env, &dir, "where do the Wasabi backups go").contains(&m));
    env.msp(&["context", "edit", &m]).expect_hint(2);
}

#[test]
fn a_hand_tag_the_old_text_also_gave_stays_after_an_edit() {
    let (env, _dir) = acme();
    let m = id(&env.remember(
        "Backup target",
        "Nightly backups go to the old Synology.",
        &["--project", "acme-site", "--tags", "backup"],
    ));
    let tags = |env: &Env| -> Vec<String> {
        array(&show(env, &m)["tags"])
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    let before = tags(&env);
    assert!(
        before.contains(&"backup".into()) && before.contains(&"synology".into()),
        "{before:?}"
    );
    env.ok(&[
        "context",
        "edit",
        &m,
        "--title",
        "Print queue",
        "--body",
        "The print queue on floor 2 was cleared.",
    ]);
    let after = tags(&env);
    assert!(after.contains(&"backup".into()), "given by hand: {after:?}");
    assert!(
        !after.contains(&"synology".into()),
        "from the old text: {after:?}"
    );
    // Replaced by hand, the old hand tag goes.
    env.ok(&["context", "edit", &m, "--tags", "printing"]);
    let replaced = tags(&env);
    assert!(
        replaced.contains(&"printing".into()) && !replaced.contains(&"backup".into()),
        "{replaced:?}"
    );
    // A memory stored before hand tags were kept apart: the tags its old
    // text and scope did not give count as given by hand.
    env.sql("UPDATE memories SET hand_tags = NULL");
    env.ok(&["context", "edit", &m, "--body", "Queue cleared again."]);
    assert!(tags(&env).contains(&"printing".into()), "{:?}", tags(&env));
}

#[test]
fn msp_remember_stores_an_important_fact_in_the_directory_project() {
    let (env, dir) = acme();
    let old = id(&add_fact(
        &env,
        "NAS01 admin port is 5000",
        &["--project", "acme-site"],
    ));
    let out = env.json_in(
        &dir,
        &["remember", "NAS01", "admin", "port", "is", "now", "5001"],
    );
    assert_eq!(str_of(&out, "title"), "NAS01 admin port is now 5001");
    assert_eq!(out["kind"], json!("fact"));
    assert_eq!(out["importance"], json!(8));
    assert_eq!(out["supersedes"], json!([old]));
    let project = env.json(&["project", "show", "acme-site"]);
    assert_eq!(out["project_id"], project["id"]);
    let text = env
        .msp_in(
            &dir,
            &["remember", "the", "NAS01", "UPS", "is", "an", "APC", "1500"],
        )
        .expect_code(0);
    assert_has(&text.stdout, "stored ");
}

#[test]
fn a_long_remembered_fact_is_injected_once_not_title_then_body() {
    let (env, dir) = acme();
    let fact = "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP; \
                updated the outbound proxy and disabled SIP ALG on the FortiGate";
    let out = env.json_in(&dir, &["remember", fact]);
    assert_eq!(
        str_of(&out, "title"),
        "The 3CX PBX SIP trunk to Twilio failed registration after the ISP changed the WAN IP…"
    );
    let r = env.json(&[
        "context",
        "recall",
        "--prompt",
        "why did the 3CX SIP trunk registration fail?",
        "--cwd",
        s(&dir),
    ]);
    let text = str_of(&r, "text");
    assert_has(text, &format!("· acme-site · {fact}\n"));
    assert_eq!(text.matches("failed registration").count(), 1, "{text}");
}

#[test]
fn the_briefing_lists_decisions_and_counts_routine_tickets() {
    let (env, _dir) = acme();
    let p = ["--project", "acme-site"];
    env.remember(
        "Backups move to Wasabi",
        "Decided with the owner: offsite copies go to Wasabi, 90 days.",
        &[&p[..], &["--kind", "decision"]].concat(),
    );
    for who in ["asmith", "bjones", "cnguyen", "dpatel"] {
        env.remember(
            &format!("Password reset for {who}"),
            "Locked out, reset in AD. Ticket #1.",
            &p,
        );
    }
    for who in ["asmith", "bjones"] {
        env.remember(
            &format!("New hire laptop for {who}"),
            "Intune, Office, handed over.",
            &p,
        );
    }
    let text = env
        .ok(&["context", "brief", "--project", "acme-site"])
        .stdout;
    assert_has(&text, "Decisions and project state:\n- ");
    assert_has(&text, "Backups move to Wasabi");
    assert_lacks(&text, "Password reset for");
    assert_has(
        &text,
        "Routine work, last 30 days: 4 × Password reset, 2 × New hire laptop.",
    );
}

/// `msp context edit ID --client acme-corp` took a memory of acme-corp's
/// project acme-site off that project: naming its own client again moved it.
#[test]
fn editing_a_memory_to_its_own_client_keeps_its_project() {
    let (env, dir) = acme();
    let m = env.json_in(
        &dir,
        &[
            "context",
            "add",
            "--title",
            "Core switch",
            "--body",
            "The core switch is SW-CORE-01.",
        ],
    );
    let id = str_of(&m, "id").to_string();
    let kept = env.json(&[
        "context",
        "edit",
        &id,
        "--client",
        "acme-corp",
        "--importance",
        "8",
    ]);
    assert_eq!(kept["project_id"], m["project_id"], "{kept}");
    assert_eq!(kept["client_id"], m["client_id"], "{kept}");
    assert!(!m["project_id"].is_null(), "{m}");
    // Another client: off acme-site, which is not that client's.
    env.ok(&["client", "add", "Beta"]);
    let moved = env.json(&["context", "edit", &id, "--client", "beta"]);
    assert!(moved["project_id"].is_null(), "{moved}");
    assert_ne!(moved["client_id"], m["client_id"], "{moved}");
}

/// `msp context list --kind facts` (for `fact`) listed nothing, as if the
/// store held no facts; `context search --kind` refused it.
#[test]
fn a_misspelt_kind_is_refused_by_list_as_by_search() {
    let env = Env::setup();
    add_fact(&env, "DC01 and DC02 serve DNS", &[]);
    for verb in ["list", "search"] {
        let mut args = vec!["context", verb];
        if verb == "search" {
            args.push("dns");
        }
        args.extend(["--kind", "facts"]);
        let out = env.msp(&args).expect_code(2);
        assert_has(&out.stderr, "a similar value exists: 'fact'");
    }
    let facts = env.json(&["context", "list", "--kind", "fact"]);
    assert_eq!(array(&facts).len(), 1, "{facts}");
}

/// `context supersede A B`, then `context forget B`, left A pointing at a
/// memory that no longer existed: neither fact was current, and recall had
/// neither. Forgetting the correction makes what it corrected current again.
#[test]
fn forgetting_a_correction_makes_what_it_superseded_current_again() {
    let env = Env::setup();
    let old = add_fact(&env, "NAS01 admin port is 5000", &[]);
    let new = add_fact(&env, "NAS01 admin port is 5001", &[]);
    env.ok(&["context", "supersede", &id(&old), &id(&new)]);
    let current = env.json(&["context", "list", "--current"]);
    assert_eq!(array(&current).len(), 1, "{current}");
    let forgot = env.json(&["context", "forget", &id(&new)]);
    assert_eq!(forgot["forgotten"], new["id"], "{forgot}");
    assert_eq!(forgot["restored"], json!([id(&old)]), "{forgot}");
    let current = env.json(&["context", "list", "--current"]);
    assert_eq!(array(&current).len(), 1, "{current}");
    assert_eq!(array(&current)[0]["id"], old["id"], "{current}");
    assert!(array(&current)[0]["superseded_by"].is_null(), "{current}");
    let said = env.ok(&["context", "forget", &id(&old)]).stdout;
    assert_lacks(&said, "current again");
}

/// `msp remember -` stored a memory titled "-", while `context recall
/// --prompt -` and `ticket note --body -` read stdin.
#[test]
fn remember_dash_reads_the_note_from_stdin() {
    let env = Env::setup();
    let out = env
        .msp_stdin(
            &["--json", "remember", "-"],
            "Front desk printer\nAn HP M404 at 10.0.0.50, queue PRN-FD.\n",
        )
        .expect_code(0);
    let m: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(m["title"], "Front desk printer", "{m}");
    assert!(str_of(&m, "body").contains("queue PRN-FD"), "{m}");
    env.msp_stdin(&["remember", "-"], "").expect_hint(2);
}
