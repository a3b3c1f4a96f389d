//! `msp client ...` and `msp project ...`, including how directories and git
//! remotes map to projects (`msp project which`).

use crate::common;

use common::{Env, array, s, str_of};

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
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp"]);
    let root = env.dir("work/acme");
    let sub = env.dir("work/acme/app/src");
    env.ok(&[
        "project",
        "add",
        "acme-site",
        "--client",
        "acme-corp",
        "--path",
        s(&root),
    ]);

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
