//! `msp setup` and `msp machine ...`, run as processes.

use crate::common;

use common::{Env, array, str_of};
use serde_json::json;

#[test]
fn setup_creates_the_store_and_a_second_run_changes_nothing() {
    let env = Env::new();
    let first = env.ok(&["setup"]);
    assert!(env.data.join("msp.db").is_file(), "no store after setup");
    assert!(first.stdout.contains("created"), "{}", first.stdout);
    assert!(first.stdout.contains("registered"), "{}", first.stdout);

    let second = env.ok(&["setup"]);
    assert!(
        second.stdout.contains("nothing changed"),
        "second setup should say nothing changed:\n{}",
        second.stdout
    );
    assert!(!second.stdout.contains("created"), "{}", second.stdout);
    assert_eq!(
        array(&env.json(&["machine", "list"])).len(),
        1,
        "setup twice must not register the machine twice"
    );
}

#[test]
fn setup_json_reports_store_and_machine_state() {
    let env = Env::new();
    let first = env.json(&["setup"]);
    assert_eq!(first["store"]["state"], "created", "{first}");
    assert_eq!(first["machine"]["state"], "created", "{first}");
    assert!(first["store"]["schema_version"].as_i64().unwrap() >= 1);
    assert_eq!(
        str_of(&first["store"], "path"),
        env.data.join("msp.db").to_str().unwrap()
    );
    let id = str_of(&first["machine"], "id").to_string();
    assert!(!str_of(&first["machine"], "name").is_empty());

    let second = env.json(&["setup"]);
    assert_eq!(second["store"]["state"], "unchanged", "{second}");
    assert_eq!(second["machine"]["state"], "updated", "{second}");
    assert_eq!(str_of(&second["machine"], "id"), id, "same machine id");
}

#[test]
fn machine_show_self_has_the_documented_json_fields() {
    let env = Env::setup();
    let m = env.json(&["machine", "show"]);
    let fp = str_of(&m, "fingerprint");
    assert_eq!(fp.len(), 64, "fingerprint {fp:?}");
    assert!(
        fp.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "fingerprint is not lower-case hex: {fp:?}"
    );
    assert!(!str_of(&m, "id").is_empty());
    assert!(!str_of(&m, "hostname").is_empty());
    let platform = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    assert_eq!(str_of(&m, "platform"), platform);
    assert_eq!(str_of(&m, "username"), "tech", "USER is the username");
    assert_eq!(str_of(&m, "home_directory"), env.home.to_str().unwrap());
    assert_eq!(m["is_self"], true);
    assert!(m["tools"].is_object(), "tools must be an object: {m}");
    assert!(m["mcp_servers"].is_array(), "{m}");
    assert!(m["skills"].is_array(), "{m}");
    assert!(m["approval_required"].is_boolean(), "{m}");
    assert!(str_of(&m, "last_seen_at").ends_with('Z'), "{m}");

    // `show self` and `show` are the same machine; so is `show <id>`.
    let id = str_of(&m, "id");
    assert_eq!(env.json(&["machine", "show", "self"])["id"], id);
    assert_eq!(env.json(&["machine", "show", id])["id"], id);
}

#[test]
fn machine_register_refreshes_the_same_row() {
    let env = Env::setup();
    let before = env.json(&["machine", "show"]);
    let again = env.json(&["machine", "register"]);
    assert_eq!(again["outcome"], "updated", "{again}");
    assert_eq!(again["id"], before["id"]);
    assert_eq!(again["fingerprint"], before["fingerprint"]);
    let list = env.json(&["machine", "list"]);
    assert_eq!(array(&list).len(), 1);
    assert_eq!(list[0]["is_self"], true);
}

#[test]
fn machine_register_without_setup_creates_the_store_and_the_machine() {
    let env = Env::new();
    let reg = env.json(&["machine", "register"]);
    assert_eq!(reg["outcome"], "created", "{reg}");
    assert_eq!(reg["is_self"], true);
}

#[test]
fn machine_show_by_hostname_and_by_friendly_name() {
    let env = Env::setup();
    let me = env.json(&["machine", "show"]);
    let id = str_of(&me, "id");
    let hostname = str_of(&me, "hostname");
    assert_eq!(env.json(&["machine", "show", hostname])["id"], id);
    assert_eq!(
        env.json(&["machine", "show", hostname.to_uppercase().as_str()])["id"],
        id,
        "hostnames match case-insensitively"
    );

    let updated = env.json(&[
        "machine",
        "update",
        "self",
        "--name",
        "Main Laptop",
        "--type",
        "laptop",
        "--notes",
        "desk by the window",
    ]);
    common::assert_fields(
        &updated,
        json!({
            "friendly_name": "Main Laptop",
            "machine_type": "laptop",
            "notes": "desk by the window",
            "id": id,
        }),
    );

    assert_eq!(env.json(&["machine", "show", "main laptop"])["id"], id);
    let shown = env.ok(&["machine", "show", "Main Laptop"]).stdout;
    assert!(shown.contains("laptop"), "{shown}");
    assert!(shown.contains("desk by the window"), "{shown}");
    // The list marks this machine with `*` after its friendly name.
    let list = env.ok(&["machine", "list"]).stdout;
    assert!(list.contains("Main Laptop*"), "{list}");
}

#[test]
fn machine_update_leaves_fields_that_are_not_given() {
    let env = Env::setup();
    env.ok(&[
        "machine", "update", "self", "--name", "Rack 1", "--type", "server",
    ]);
    let m = env.json(&["machine", "update", "self", "--notes", "in the closet"]);
    assert_eq!(m["friendly_name"], "Rack 1", "{m}");
    assert_eq!(m["machine_type"], "server", "{m}");
    assert_eq!(m["notes"], "in the closet", "{m}");
    let m = env.json(&["machine", "update", "self", "--approval-required"]);
    assert_eq!(m["approval_required"], true);
    assert_eq!(m["friendly_name"], "Rack 1");
}

#[test]
fn unknown_machine_is_exit_3_with_a_hint() {
    let env = Env::setup();
    let out = env.msp(&["machine", "show", "no-such-box"]).expect_hint(3);
    assert!(out.stderr.contains("no-such-box"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "errors go to stderr: {}", out.stdout);
    env.msp(&["machine", "update", "no-such-box", "--name", "x"])
        .expect_hint(3);
}

#[test]
fn another_home_is_another_machine_and_a_shared_hostname_is_ambiguous() {
    let mut env = Env::setup();
    let first = env.json(&["machine", "show"]);
    let other_home = env.dir("other-home");
    env.set_var("HOME", &other_home);
    env.set_var("USERPROFILE", &other_home);
    let reg = env.json(&["machine", "register"]);
    assert_eq!(
        reg["outcome"], "created",
        "a new HOME is a new machine: {reg}"
    );
    assert_ne!(reg["fingerprint"], first["fingerprint"]);

    let list = env.json(&["machine", "list"]);
    assert_eq!(array(&list).len(), 2);
    let selves: Vec<_> = array(&list)
        .iter()
        .filter(|m| m["is_self"] == true)
        .collect();
    assert_eq!(selves.len(), 1, "exactly one machine is self: {list}");
    assert_eq!(selves[0]["id"], reg["id"]);

    // Both have the same hostname: naming it is ambiguous (usage error).
    let hostname = str_of(&first, "hostname");
    env.msp(&["machine", "show", hostname]).expect_hint(2);
    // The id still works.
    let id = str_of(&first, "id");
    assert_eq!(env.json(&["machine", "show", id])["is_self"], false);
}

#[cfg(unix)]
#[test]
fn setup_keeps_a_symlinked_settings_json_and_its_exact_numbers() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let dotfiles = env.dir("dotfiles");
    let target = dotfiles.join("settings.json");
    std::fs::write(
        &target,
        r#"{"model": "opus", "someId": 12345678901234567890123, "ratio": 0.30}"#,
    )
    .unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let claude = env.home.join(".claude");
    std::fs::create_dir_all(&claude).unwrap();
    let link = claude.join("settings.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    env.ok(&["setup"]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "setup replaced the symlink with a file"
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("msp-recall"), "{text}");
    assert!(
        text.contains("\"someId\": 12345678901234567890123"),
        "{text}"
    );
    assert!(text.contains("\"ratio\": 0.30"), "{text}");
    assert_eq!(common::mode(&target), 0o640);
    env.ok(&["setup", "--uninstall"]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(!text.contains("msp-recall"), "{text}");
    assert!(text.contains("12345678901234567890123"), "{text}");
}

/// `msp machine update self --notes ""` stored an empty string (JSON `""`)
/// where `msp client update --notes ""` cleared the notes; `--name ""` left
/// the machine with an empty name instead of its hostname.
#[test]
fn empty_machine_name_and_notes_clear_them_as_for_clients() {
    let env = Env::setup();
    let set = env.json(&[
        "machine",
        "update",
        "self",
        "--name",
        "bench laptop",
        "--notes",
        "desk 3",
    ]);
    assert_eq!(set["friendly_name"], "bench laptop", "{set}");
    assert_eq!(set["notes"], "desk 3", "{set}");
    let cleared = env.json(&["machine", "update", "self", "--name", "", "--notes", ""]);
    assert!(cleared["notes"].is_null(), "{cleared}");
    assert!(cleared["friendly_name"].is_null(), "{cleared}");
    let shown = env.ok(&["machine", "show", "self"]).stdout;
    common::assert_has(&shown, str_of(&cleared, "hostname"));
    // No change given: said so, not "updated".
    let nothing = env.msp(&["machine", "update", "self"]).expect_hint(2);
    common::assert_has(&nothing.stderr, "nothing to change");
}

/// `msp setup --project /nonexistent/dir` created the whole missing tree
/// and reported the hooks installed there: a mistyped path is refused now.
#[test]
fn setup_for_one_project_wires_an_existing_directory_and_refuses_a_missing_one() {
    let env = Env::new();
    let dir = env.dir("work/acme");
    let out = env.ok(&["setup", "--project", common::s(&dir)]);
    common::assert_has(&out.stdout, "hooks");
    assert!(dir.join(".claude/settings.json").is_file());
    let missing = env.path("work/acme-typo");
    let refused = env
        .msp(&["setup", "--project", common::s(&missing)])
        .expect_hint(3);
    common::assert_has(&refused.stderr, "no project directory");
    assert!(!missing.exists(), "the mistyped directory was created");
}
