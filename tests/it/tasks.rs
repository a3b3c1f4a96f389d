//! `msp task ...`.

use crate::common;

use common::{Env, array, str_of};
use serde_json::json;

#[test]
fn add_list_and_done_by_short_id() {
    let (env, _dir) = common::acme();
    let renew = env.json(&[
        "task",
        "add",
        "Renew the TLS certificate",
        "--project",
        "acme-site",
        "--priority",
        "high",
        "--due",
        "2026-12-01",
    ]);
    common::assert_fields(
        &renew,
        json!({
            "status": "pending",
            "priority": "high",
            "due_date": "2026-12-01",
            "project": "acme-site",
            // A project implies its client.
            "client": "Acme Corp",
        }),
    );
    let short = str_of(&renew, "short_id");
    assert_eq!(short.len(), 8);
    assert!(str_of(&renew, "id").ends_with(short));
    env.ok(&["task", "add", "Tidy the wiki", "--priority", "low"]);
    env.ok(&["task", "add", "Replace UPS battery", "--priority", "urgent"]);

    let list = env.json(&["task", "list"]);
    let titles: Vec<&str> = array(&list).iter().map(|t| str_of(t, "title")).collect();
    assert_eq!(
        titles,
        [
            "Replace UPS battery",
            "Renew the TLS certificate",
            "Tidy the wiki"
        ],
        "most urgent first"
    );
    let table = env.ok(&["task", "list"]).stdout;
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(short), "the table shows short ids: {table}");

    let done = env.ok(&["task", "done", short]);
    assert!(done.stdout.starts_with("done: Renew"), "{}", done.stdout);
    let pending = env.json(&["task", "list"]);
    assert_eq!(
        array(&pending).len(),
        2,
        "done tasks leave the default list"
    );
    let all = env.json(&["task", "list", "--all"]);
    assert_eq!(array(&all).len(), 3);
    let finished = array(&all).iter().find(|t| t["id"] == renew["id"]).unwrap();
    assert_eq!(finished["status"], "done");
    assert!(finished["completed_at"].is_string(), "{finished}");
}

#[test]
fn done_twice_says_already_done() {
    let env = Env::setup();
    let t = env.json(&["task", "add", "Call the ISP"]);
    let id = str_of(&t, "id");
    env.ok(&["task", "done", id]);
    let again = env.ok(&["task", "done", id]);
    assert!(again.stdout.starts_with("already done"), "{}", again.stdout);
    let v = env.json(&["task", "done", id]);
    assert_eq!(v["status"], "done");
}

#[test]
fn done_with_an_unknown_id_is_exit_3() {
    let env = Env::setup();
    env.ok(&["task", "add", "Something"]);
    env.msp(&["task", "done", "zzzzzzzz"]).expect_hint(3);
}

#[test]
fn bad_due_date_and_priority_are_usage_errors() {
    let env = Env::setup();
    env.msp(&["task", "add", "x", "--due", "someday"])
        .expect_hint(2);
    env.msp(&["task", "add", "x", "--due", "2026-02-30"])
        .expect_hint(2);
    env.msp(&["task", "add", "x", "--priority", "asap"])
        .expect_code(2);
    env.msp(&["task", "add", "x", "--client", "ghost"])
        .expect_hint(3);
    assert_eq!(array(&env.json(&["task", "list", "--all"])).len(), 0);
}

#[test]
fn list_filters_by_client_and_project() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    env.ok(&["client", "add", "Beta"]);
    env.ok(&["project", "add", "acme-site", "--client", "acme-corp"]);
    env.ok(&["task", "add", "site task", "--project", "acme-site"]);
    env.ok(&["task", "add", "acme task", "--client", "acme-corp"]);
    env.ok(&["task", "add", "beta task", "--client", "beta"]);
    env.ok(&["task", "add", "own task"]);

    let titles = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["task", "list"];
        all.extend_from_slice(args);
        array(&env.json(&all))
            .iter()
            .map(|t| str_of(t, "title").to_string())
            .collect()
    };
    assert_eq!(titles(&[]).len(), 4);
    assert_eq!(
        titles(&["--client", "acme-corp"]),
        ["site task", "acme task"]
    );
    assert_eq!(titles(&["--client", "beta"]), ["beta task"]);
    assert_eq!(titles(&["--project", "acme-site"]), ["site task"]);
}

#[test]
fn percent_and_underscore_in_a_task_short_id_are_no_wildcards() {
    let env = Env::setup();
    let t = env.json(&["task", "add", "Patch the firewall"]);
    let id = str_of(&t, "id").to_string();
    common::assert_no_wildcard_match(&env, &["task", "done"], &id, 3);
    let pending = env.json(&["task", "list"]);
    assert_eq!(array(&pending).len(), 1, "nothing was marked done");
    env.ok(&["task", "done", &id[id.len() - 8..]]);
}

#[test]
fn due_takes_dates_the_way_every_other_time_option_does() {
    let env = Env::setup();
    // `--due` took only YYYY-MM-DD.
    for due in [
        "tomorrow",
        "friday",
        "next monday",
        "in 3 days",
        "2026-12-01",
    ] {
        let t = env.json(&["task", "add", "x", "--due", due]);
        let day = t["due_date"]
            .as_str()
            .unwrap_or_else(|| panic!("{due}: {t}"));
        assert_eq!(day.len(), 10, "{due}: {day}");
    }
    let t = env.json(&["task", "add", "x", "--due", "2026-12-01"]);
    assert_eq!(t["due_date"], "2026-12-01");
}

#[test]
fn a_task_can_be_edited_reopened_and_removed_with_an_audit() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme"]);
    let t = env.json(&["task", "add", "Renw cert", "--due", "2026-12-01"]);
    let id = t["short_id"].as_str().unwrap().to_string();
    let v = env.json(&[
        "task",
        "edit",
        &id,
        "--title",
        "Renew cert",
        "--priority",
        "high",
        "--no-due",
        "--client",
        "acme",
    ]);
    common::assert_fields(
        &v["task"],
        json!({"title": "Renew cert", "priority": "high", "due_date": null, "client": "Acme"}),
    );
    assert_eq!(v["changed"]["old"]["title"], "Renw cert");
    env.ok(&["task", "done", &id]);
    let reopened = env.json(&["task", "edit", &id, "--reopen"]);
    assert_eq!(reopened["task"]["status"], "pending", "{reopened}");
    assert!(reopened["task"]["completed_at"].is_null());
    env.msp(&["task", "edit", &id, "--title", " "])
        .expect_code(2);
    env.msp(&["task", "edit", &id, "--due", "someday"])
        .expect_hint(2);
    let out = env.ok(&["task", "rm", &id]);
    assert!(out.stdout.contains("removed task"), "{}", out.stdout);
    assert!(array(&env.json(&["task", "list", "--all"])).is_empty());
    env.msp(&["task", "rm", &id]).expect_hint(3);
    let audit = env.json(&["session", "audit", &id]);
    let actions: Vec<&str> = array(&audit)
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["rm", "edit", "edit"], "{audit}");
}

/// `msp task add` in a project's directory made a task of no client and no
/// project, while `msp session start` there took the directory's project.
#[test]
fn a_task_added_in_a_project_directory_belongs_to_that_project() {
    let (env, dir) = common::acme();
    let deep = env.dir("work/acme/switches");
    let task = env.json_in(&deep, &["task", "add", "Replace the switch in closet B"]);
    assert_eq!(task["project"], "acme-site", "{task}");
    assert_eq!(task["client"], "Acme Corp", "{task}");
    let said = env
        .msp_in(&deep, &["task", "add", "Label the patch panel"])
        .expect_code(0);
    common::assert_has(
        &said.stdout,
        "Label the patch panel (Acme Corp / acme-site)",
    );
    // Another client there is a contradiction, as for sessions.
    env.ok(&["client", "add", "Beta"]);
    env.msp_in(&dir, &["task", "add", "Order toner", "--client", "beta"])
        .expect_hint(2);
    // Outside any linked directory a task still needs no client.
    let bare = env.json(&["task", "add", "Order toner"]);
    assert!(
        bare["project"].is_null() && bare["client"].is_null(),
        "{bare}"
    );
}

/// `--limit 0` meant all in `context list`, one in `agent list` and none in
/// `session audit` and `context search`. Now it means all in every list,
/// and search, which ranks, asks for at least one.
#[test]
fn limit_zero_means_all_in_every_list_and_search_refuses_it() {
    let env = Env::setup();
    let t = env.json(&["task", "add", "Renew the TLS certificate"]);
    let id = str_of(&t, "short_id").to_string();
    for title in [
        "Renew the TLS certificate on GW01",
        "Renew the TLS certificate on GW02",
    ] {
        env.ok(&["task", "edit", &id, "--title", title]);
    }
    let all = env.json(&["session", "audit", "--kind", "task", "--limit", "0"]);
    let one = env.json(&["session", "audit", "--kind", "task", "--limit", "1"]);
    assert!(array(&all).len() >= 2, "{all}");
    assert_eq!(array(&one).len(), 1, "{one}");
    for (a, b) in [
        ("--from", "2026-11-01 09:00"),
        ("--from", "2026-11-02 09:00"),
    ] {
        env.ok(&["session", "add", a, b, "--to", &b.replace("09:00", "10:00")]);
    }
    let sessions = env.json(&["session", "list", "--limit", "0"]);
    assert_eq!(array(&sessions).len(), 2, "{sessions}");
    assert_eq!(
        array(&env.json(&["agent", "list", "--limit", "0"])).len(),
        0
    );
    let out = env
        .msp(&["context", "search", "certificate", "--limit", "0"])
        .expect_code(2);
    common::assert_has(&out.stderr, "0 is not in 1..");
}
