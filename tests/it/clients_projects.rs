//! `msp client ...` and `msp project ...`, including how directories and git
//! remotes map to projects (`msp project which`).

use crate::common;

use common::{Env, acme, array, s, str_of};

#[test]
fn client_add_list_and_show() {
    let env = Env::setup();
    let added = env.json(&["client", "add", "Acme Corp", "--notes", "main site"]);
    assert_eq!(added["name"], "Acme Corp");
    assert_eq!(added["slug"], "acme-corp");
    assert_eq!(added["client_type"], "msp_client", "default type");
    assert_eq!(added["notes"], "main site");
    env.ok(&["client", "add", "Back Office", "--type", "internal"]);

    let list = env.json(&["client", "list"]);
    let names: Vec<&str> = array(&list).iter().map(|c| str_of(c, "name")).collect();
    assert_eq!(names, ["Acme Corp", "Back Office"], "sorted by name");
    assert_eq!(list[1]["client_type"], "internal");

    let table = env.ok(&["client", "list"]).stdout;
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("acme-corp"), "{table}");

    // By slug, by name in any case, and by id.
    let id = str_of(&added, "id");
    for key in ["acme-corp", "ACME CORP", id] {
        let shown = env.json(&["client", "show", key]);
        assert_eq!(shown["id"], id, "client show {key}");
        assert_eq!(shown["projects"], serde_json::json!([]));
    }
    env.ok(&["project", "add", "acme-site", "--client", "acme-corp"]);
    assert_eq!(
        env.json(&["client", "show", "acme-corp"])["projects"],
        serde_json::json!(["acme-site"])
    );
}

#[test]
fn duplicate_client_is_exit_1_with_a_hint() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    let out = env.msp(&["client", "add", "acme corp"]).expect_hint(1);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(array(&env.json(&["client", "list"])).len(), 1);
}

#[test]
fn unknown_client_is_exit_3() {
    let env = Env::setup();
    let out = env.msp(&["client", "show", "ghost"]).expect_hint(3);
    assert!(out.stderr.contains("ghost"), "{}", out.stderr);
}

#[test]
fn bad_client_type_is_a_usage_error() {
    let env = Env::setup();
    let out = env
        .msp(&["client", "add", "Vendor Inc", "--type", "vendor"])
        .expect_code(2);
    assert!(out.stderr.contains("vendor"), "{}", out.stderr);
    assert_eq!(array(&env.json(&["client", "list"])).len(), 0);
}

#[test]
fn project_add_with_client_and_path_then_list_and_show() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    env.ok(&["client", "add", "Beta"]);
    let dir = env.dir("work/acme");
    let p = env.json(&[
        "project",
        "add",
        "acme-site",
        "--client",
        "acme-corp",
        "--name",
        "Acme web site",
        "--priority",
        "high",
        "--path",
        s(&dir),
    ]);
    assert_eq!(p["slug"], "acme-site");
    assert_eq!(p["name"], "Acme web site");
    assert_eq!(p["client"], "Acme Corp");
    assert_eq!(p["priority"], "high");
    assert_eq!(p["status"], "active");
    assert_eq!(
        p["paths"],
        serde_json::json!([{"kind": "dir", "value": s(&dir)}])
    );
    env.ok(&["project", "add", "beta-infra", "--client", "beta"]);
    env.ok(&["project", "add", "internal-tools"]);

    let all = env.json(&["project", "list"]);
    let slugs: Vec<&str> = array(&all).iter().map(|p| str_of(p, "slug")).collect();
    assert_eq!(slugs, ["acme-site", "beta-infra", "internal-tools"]);
    let acme = env.json(&["project", "list", "--client", "Acme Corp"]);
    assert_eq!(array(&acme).len(), 1);
    assert_eq!(acme[0]["slug"], "acme-site");

    let shown = env.json(&["project", "show", "acme-site"]);
    assert_eq!(shown["id"], p["id"]);
    assert_eq!(shown["paths"], p["paths"]);
    let text = env.ok(&["project", "show", "acme-site"]).stdout;
    assert!(text.contains(s(&dir)), "{text}");
}

#[test]
fn project_add_resolves_a_relative_path_from_the_current_directory() {
    let env = Env::setup();
    let dir = env.dir("work/rel");
    let p = env.json_in(
        &env.path("work"),
        &["project", "add", "rel", "--path", "./rel/../rel"],
    );
    assert_eq!(p["paths"][0]["value"], s(&dir), "{p}");
}

#[test]
fn project_add_refuses_a_bad_slug_a_duplicate_and_an_unknown_client() {
    let env = Env::setup();
    env.msp(&["project", "add", "Bad Slug"]).expect_hint(2);
    env.msp(&["project", "add", "Upper"]).expect_hint(2);
    env.msp(&["project", "add", "_leading-underscore"])
        .expect_hint(2);
    env.ok(&["project", "add", "site"]);
    let dup = env.msp(&["project", "add", "site"]).expect_hint(1);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    let ghost = env
        .msp(&["project", "add", "other", "--client", "ghost"])
        .expect_hint(3);
    assert!(ghost.stderr.contains("ghost"), "{}", ghost.stderr);
    let slugs: Vec<String> = array(&env.json(&["project", "list"]))
        .iter()
        .map(|p| str_of(p, "slug").to_string())
        .collect();
    assert_eq!(slugs, ["site"], "failed adds must not leave projects");
}

#[test]
fn unknown_project_is_exit_3() {
    let env = Env::setup();
    env.msp(&["project", "show", "nope"]).expect_hint(3);
    env.msp(&["project", "link", "--project", "nope"])
        .expect_hint(3);
}

#[test]
fn which_matches_exact_directory_then_parent() {
    let (env, root) = acme();
    let sub = env.dir("work/acme/app/src");

    let exact = env.json_in(&root, &["project", "which"]);
    assert_eq!(exact["project"], "acme-site");
    assert_eq!(exact["matched"], "exact");
    assert_eq!(exact["client"], "Acme Corp");
    assert_eq!(exact["value"], s(&root));

    let parent = env.json_in(&sub, &["project", "which"]);
    assert_eq!(parent["project"], "acme-site");
    assert_eq!(parent["matched"], "parent");
    assert_eq!(parent["value"], s(&root));

    // An explicit directory argument works the same from anywhere.
    let arg = env.json(&["project", "which", s(&sub)]);
    assert_eq!(arg["matched"], "parent");
    // Plain output is just the slug.
    assert_eq!(
        env.msp_in(&sub, &["project", "which"]).stdout,
        "acme-site\n"
    );
}

#[test]
fn nearest_linked_parent_wins() {
    let env = Env::setup();
    let outer = env.dir("work/mono");
    let inner = env.dir("work/mono/services/api");
    let deep = env.dir("work/mono/services/api/src/handlers");
    env.ok(&["project", "add", "mono", "--path", s(&outer)]);
    env.ok(&["project", "add", "api", "--path", s(&inner)]);
    let w = env.json_in(&deep, &["project", "which"]);
    assert_eq!(w["project"], "api", "{w}");
    let w = env.json_in(&env.path("work/mono/services"), &["project", "which"]);
    assert_eq!(w["project"], "mono", "{w}");
}

#[test]
fn which_matches_a_git_clone_by_its_origin_remote() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    env.ok(&["project", "add", "acme-site", "--client", "acme-corp"]);
    let linked = env.json(&[
        "project",
        "link",
        "--project",
        "acme-site",
        "--remote",
        "https://github.com/acme/site.git",
    ]);
    assert_eq!(linked["changed"], true);

    let clone = env.dir("clones/site");
    let src = env.dir("clones/site/src");
    env.dir("clones/site/.git");
    std::fs::write(
        clone.join(".git/config"),
        "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = git@github.com:someone/else.git\n\
         [remote \"origin\"]\n\turl = git@github.com:Acme/Site.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
    )
    .unwrap();

    for dir in [&clone, &src] {
        let w = env.json_in(dir, &["project", "which"]);
        assert_eq!(w["project"], "acme-site", "{w}");
        assert_eq!(w["matched"], "git_remote", "{w}");
        assert_eq!(w["value"], "github.com/acme/site");
        assert_eq!(w["client"], "Acme Corp");
        assert!(w["project_id"].is_string() && w["client_id"].is_string());
    }

    // The remote shows up on the project.
    let p = env.json(&["project", "show", "acme-site"]);
    assert_eq!(
        p["paths"],
        serde_json::json!([{"kind": "git_remote", "value": "github.com/acme/site"}])
    );
}

#[test]
fn which_without_a_match_is_exit_3_with_a_hint() {
    let env = Env::setup();
    let lonely = env.dir("lonely");
    let out = env.msp_in(&lonely, &["project", "which"]).expect_hint(3);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains(s(&lonely)), "{}", out.stderr);
    // --json still prints valid JSON (null) and still exits 3.
    let out = env
        .msp_in(&lonely, &["--json", "project", "which"])
        .expect_code(3);
    assert_eq!(out.json(), serde_json::Value::Null);
}

#[test]
fn link_defaults_to_the_current_directory_and_relinking_changes_nothing() {
    let env = Env::setup();
    env.ok(&["project", "add", "one"]);
    env.ok(&["project", "add", "two"]);
    let dir = env.dir("work/one");

    let first = env.json_in(&dir, &["project", "link", "--project", "one"]);
    assert_eq!(first["linked"], s(&dir));
    assert_eq!(first["changed"], true);
    let again = env.msp_in(&dir, &["project", "link", "--project", "one"]);
    let again = again.expect_code(0);
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);

    // The same directory cannot belong to two projects.
    let clash = env
        .msp_in(&dir, &["project", "link", "--project", "two"])
        .expect_hint(1);
    assert!(clash.stderr.contains("one"), "{}", clash.stderr);
    assert_eq!(env.json_in(&dir, &["project", "which"])["project"], "one");

    // After unlinking, nothing matches.
    env.ok(&["project", "unlink", s(&dir)]);
    env.msp_in(&dir, &["project", "which"]).expect_code(3);
    env.msp(&["project", "unlink", s(&dir)]).expect_hint(3);
}

/// A remote linked to another project: the error said "`msp project
/// unlink github.com/acme/x` first", and that command said "link not
/// found". Unlink takes the form it names (and `project show` prints).
#[test]
fn the_unlink_a_link_conflict_names_works() {
    let env = Env::setup();
    env.ok(&["project", "add", "one"]);
    env.ok(&["project", "add", "two"]);
    let url = "git@github.com:Acme/X.git";
    env.ok(&["project", "link", "--project", "one", "--remote", url]);
    let clash = env
        .msp(&["project", "link", "--project", "two", "--remote", url])
        .expect_hint(1);
    common::assert_has(
        &clash.stderr,
        "`msp project unlink github.com/acme/x` first",
    );
    let gone = env.json(&["project", "unlink", "github.com/acme/x"]);
    assert_eq!(gone["unlinked"], "github.com/acme/x", "{gone}");
    assert_eq!(gone["removed"], 1, "{gone}");
    env.ok(&["project", "link", "--project", "two", "--remote", url]);
}

#[test]
fn link_rejects_a_remote_that_is_not_a_url() {
    let env = Env::setup();
    env.ok(&["project", "add", "one"]);
    env.msp(&[
        "project",
        "link",
        "--project",
        "one",
        "--remote",
        "not a remote",
    ])
    .expect_code(2);
}

#[test]
fn project_add_with_a_clashing_path_leaves_no_half_made_project() {
    // Regression: the project row was inserted before its paths were linked,
    // so a path already linked elsewhere failed the command but left the
    // project behind, and re-running it then said "already exists".
    let env = Env::setup();
    let dir = env.dir("work/shared");
    env.ok(&["project", "add", "one", "--path", s(&dir)]);
    let out = env
        .msp(&["project", "add", "two", "--path", s(&dir)])
        .expect_hint(1);
    assert!(out.stderr.contains("already linked"), "{}", out.stderr);
    env.msp(&["project", "show", "two"]).expect_code(3);
    let slugs: Vec<String> = array(&env.json(&["project", "list"]))
        .iter()
        .map(|p| str_of(p, "slug").to_string())
        .collect();
    assert_eq!(slugs, ["one"]);
    // With a free directory the same command now simply works.
    let other = env.dir("work/other");
    env.ok(&["project", "add", "two", "--path", s(&other)]);
}

// --- Corrections -----------------------------------------------------------

/// An hour of past work (2026-11-20 09:00-10:00) for the scope in `scope`.
fn one_hour_of_work(env: &Env, scope: &[&str]) {
    env.add_session("2026-11-20 09:00", "2026-11-20 10:00", scope);
}

#[test]
fn client_rm_with_projects_is_refused_and_force_archives_them() {
    let (env, dir) = acme();
    one_hour_of_work(&env, &["--client", "acme-corp"]);
    let out = env.msp(&["client", "rm", "Acme Corp"]).expect_hint(1);
    common::assert_has(&out.stderr, "1 project, 1 session");
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(array(&env.json(&["client", "list"])).len(), 1);

    let r = env.json(&["client", "rm", "Acme Corp", "--force"]);
    assert_eq!(r["deleted"], false, "{r}");
    assert_eq!(r["archived_projects"], 1);
    assert_eq!(r["references"]["sessions"], 1);
    // Hidden from lists, still in reports, its directory still known.
    assert!(array(&env.json(&["client", "list"])).is_empty());
    assert!(array(&env.json(&["project", "list"])).is_empty());
    let all = env.json(&["client", "list", "--all"]);
    assert!(all[0]["archived_at"].is_string(), "{all}");
    assert_eq!(
        env.json(&["project", "list", "--all"])[0]["status"],
        "archived"
    );
    let rep = env.json(&["session", "report"]);
    assert_eq!(rep["rows"][0]["key"], "Acme Corp", "{rep}");
    assert_eq!(
        env.msp_in(&dir, &["project", "which"])
            .expect_code(0)
            .stdout
            .trim(),
        "acme-site"
    );
    // New work for it is refused, with the way back.
    env.msp(&["session", "start", "--client", "acme-corp"])
        .expect_hint(1);
    env.msp(&["task", "add", "x", "--project", "acme-site"])
        .expect_hint(1);
    // A new project for it too (it was added, then hidden from the list).
    env.msp(&["project", "add", "acme-new", "--client", "acme-corp"])
        .expect_hint(1);
    // Adding it again names the way back (`client list` hides it).
    let again = env.msp(&["client", "add", "Acme Corp"]).expect_hint(1);
    common::assert_has(
        &again.stderr,
        "it is archived: `msp client archive acme-corp --undo` brings it back",
    );
    env.ok(&["client", "archive", "acme-corp", "--undo"]);
    env.ok(&["project", "archive", "acme-site", "--undo"]);
    env.ok(&["session", "start", "--project", "acme-site"]);
}

#[test]
fn an_unused_client_is_deleted_and_the_deletion_audited() {
    let env = Env::setup();
    env.ok(&["client", "add", "Typo Client", "--notes", "oops"]);
    let out = env.ok(&["client", "rm", "typo-client"]);
    common::assert_has(&out.stdout, "removed client Typo Client");
    assert!(array(&env.json(&["client", "list", "--all"])).is_empty());
    let audit = env.json(&["session", "audit", "--kind", "client"]);
    assert_eq!(audit[0]["action"], "rm", "{audit}");
    assert_eq!(audit[0]["old_values"]["name"], "Typo Client");
    assert_eq!(audit[0]["old_values"]["notes"], "oops");
    env.msp(&["client", "rm", "typo-client"]).expect_hint(3);
}

#[test]
fn a_client_rename_moves_its_slug_and_refuses_a_taken_name() {
    let (env, _dir) = acme();
    env.ok(&["client", "add", "Beta"]);
    env.msp(&["client", "rename", "acme-corp", "beta"])
        .expect_hint(1);
    let v = env.json(&["client", "rename", "acme-corp", "Acme Holdings"]);
    assert_eq!(v["client"]["slug"], "acme-holdings", "{v}");
    assert_eq!(v["changed"]["old"]["name"], "Acme Corp");
    // Its projects follow (they refer to the id).
    assert_eq!(
        env.json(&["project", "show", "acme-site"])["client"],
        "Acme Holdings"
    );
    let audit = env.json(&["session", "audit", "acme-holdings"]);
    assert_eq!(audit[0]["action"], "rename", "{audit}");
    env.msp(&["client", "rename", "acme-holdings", " "])
        .expect_code(2);
}

#[test]
fn a_clients_former_name_still_reaches_it_unless_taken_or_shared() {
    let (env, _dir) = acme();
    env.ok(&["client", "rename", "acme-corp", "Acme Holdings"]);
    env.ok(&["client", "rename", "acme-holdings", "Acme Group"]);
    // Every former name, by slug or as written, reaches the client.
    for former in ["acme-corp", "Acme Corp", "ACME HOLDINGS"] {
        let v = env.json(&["client", "show", former]);
        assert_eq!(v["name"], "Acme Group", "{former}: {v}");
    }
    // A name taken again belongs to its new holder, and msp says so.
    let added = env.ok(&["client", "add", "Acme Corp"]);
    assert!(
        added
            .stderr
            .contains("\"acme-corp\" was a name of client Acme Group")
            && added.stderr.contains("msp://acme-corp/..."),
        "{}",
        added.stderr
    );
    assert_eq!(
        env.json(&["client", "show", "acme-corp"])["slug"],
        "acme-corp"
    );
    assert_eq!(
        env.json(&["client", "show", "acme-holdings"])["name"],
        "Acme Group"
    );
    // Once two clients have left the same name, it names neither.
    env.ok(&["client", "rename", "acme-corp", "Acme West"]);
    let out = env.msp(&["client", "show", "acme-corp"]).expect_hint(1);
    assert!(
        out.stderr.contains("former name of 2 clients") && out.stderr.contains("Acme West"),
        "{}",
        out.stderr
    );
    env.msp(&["client", "show", "never-was"]).expect_hint(3);
}

#[test]
fn project_update_moves_its_sessions_tasks_and_memories_to_the_new_client() {
    let (env, _dir) = acme();
    env.ok(&["client", "add", "Beta"]);
    one_hour_of_work(&env, &["--project", "acme-site"]);
    env.ok(&["task", "add", "renew cert", "--project", "acme-site"]);
    env.remember(
        "veeam repository on nas02",
        "the veeam job writes to nas02",
        &["--project", "acme-site"],
    );
    let v = env.json(&[
        "project",
        "update",
        "acme-site",
        "--client",
        "beta",
        "--priority",
        "high",
        "--name",
        "Beta site",
    ]);
    common::assert_fields(
        &v["project"],
        serde_json::json!({"client": "Beta", "priority": "high"}),
    );
    common::assert_fields(
        &v["moved"],
        serde_json::json!({"sessions": 1, "tasks": 1, "memories": 1}),
    );
    assert_eq!(v["changed"]["old"]["client"], "Acme Corp");
    // Reports, tasks and recall now count it for Beta, not Acme.
    let rep = env.json(&["session", "report"]);
    assert_eq!(rep["rows"][0]["key"], "Beta", "{rep}");
    assert_eq!(
        env.json(&["task", "list", "--client", "beta"])[0]["title"],
        "renew cert"
    );
    let found = env.json(&["context", "search", "veeam", "--client", "beta"]);
    assert_eq!(array(&found).len(), 1, "{found}");
    let other = env.json(&["context", "search", "veeam", "--client", "acme-corp"]);
    assert!(array(&other).is_empty(), "{other}");
    // Bad values are refused before anything changes.
    env.msp(&["project", "update", "acme-site", "--slug", "Bad Slug"])
        .expect_hint(2);
    env.msp(&["project", "update", "acme-site", "--client", "ghost"])
        .expect_hint(3);
    env.ok(&["project", "add", "other"]);
    env.msp(&["project", "update", "acme-site", "--slug", "other"])
        .expect_hint(1);
    let renamed = env.json(&["project", "update", "acme-site", "--slug", "beta-site"]);
    assert_eq!(renamed["project"]["slug"], "beta-site", "{renamed}");
    let audit = env.json(&["session", "audit", "beta-site"]);
    assert_eq!(array(&audit).len(), 2, "{audit}");
    // Scripts that name the former slug still reach the project, until
    // another project takes it.
    assert_eq!(
        env.json(&["project", "show", "acme-site"])["slug"],
        "beta-site"
    );
    env.ok(&["project", "add", "acme-site"]);
    assert_eq!(
        env.json(&["project", "show", "acme-site"])["slug"],
        "acme-site"
    );
}

#[test]
fn project_rm_with_sessions_is_refused_and_an_unused_one_goes_with_its_links() {
    let (env, dir) = acme();
    one_hour_of_work(&env, &["--project", "acme-site"]);
    let out = env.msp(&["project", "rm", "acme-site"]).expect_hint(1);
    assert!(out.stderr.contains("1 session"), "{}", out.stderr);
    let r = env.json(&["project", "rm", "acme-site", "--force"]);
    assert_eq!(
        (r["deleted"].clone(), r["archived"].clone()),
        (false.into(), true.into()),
        "{r}"
    );
    assert!(array(&env.json(&["project", "list"])).is_empty());

    let spare = env.dir("work/spare");
    env.ok(&["project", "add", "spare", "--path", s(&spare)]);
    env.ok(&["project", "rm", "spare"]);
    env.msp_in(&spare, &["project", "which"]).expect_code(3);
    env.msp(&["project", "show", "spare"]).expect_hint(3);
    let audit = env.json(&["session", "audit", "--kind", "project"]);
    assert_eq!(audit[0]["action"], "rm", "{audit}");
    assert_eq!(audit[0]["old_values"]["paths"][0]["value"], s(&spare));
    // The archived project is still where its directory is.
    assert_eq!(
        env.msp_in(&dir, &["project", "which"])
            .expect_code(0)
            .stdout
            .trim(),
        "acme-site"
    );
}
