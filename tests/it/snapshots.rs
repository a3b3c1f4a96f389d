//! Golden output of the main read commands and of recall, as committed insta
//! snapshots (tests/it/snapshots/). Temp paths, ids and times are filtered so
//! a snapshot changes only when what msp prints changes.

use crate::common::Env;

/// A JSON snapshot, pretty-printed by serde_json itself: msp keeps JSON
/// numbers exact (serde_json's `arbitrary_precision`), which insta's own
/// serializer would show as an internal map.
macro_rules! json_snapshot {
    ($name:expr, $value:expr $(,)?) => {
        insta::assert_snapshot!($name, serde_json::to_string_pretty(&$value).unwrap())
    };
}

/// Runs `body` with filters for this env's temp paths, UUIDv7 ids (and their
/// short forms) and times.
fn with_filters(env: &Env, body: impl FnOnce()) {
    let root = regex::escape(&env.root.display().to_string());
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&root, "[ROOT]");
    settings.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[UUID]",
    );
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?",
        "[TIME]",
    );
    settings.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]");
    settings.add_filter(r"\b1\d{12}\b", "[MILLIS]");
    // Short ids are the first hex digits of a UUIDv7, so they change every run.
    settings.add_filter(r"\b[0-9a-f]{8}\b", "[SHORT]");
    settings.bind(body);
}

/// A store with two clients, a project, a task and a few memories.
fn seeded() -> Env {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme Corp", "--notes", "main site"]);
    env.ok(&["client", "add", "Back Office", "--type", "internal"]);
    env.ok(&["project", "add", "acme-site", "--client", "acme-corp"]);
    env.ok(&["task", "add", "Renew cert", "--project", "acme-site"]);
    for title in [
        "Veeam backup job fails when the NAS share is offline",
        "Printer PRN-02 is on floor 2",
    ] {
        env.ok(&["context", "add", "--title", title, "--project", "acme-site"]);
    }
    env
}

#[test]
fn client_project_task_lists() {
    let env = seeded();
    with_filters(&env, || {
        insta::assert_snapshot!("client_list", env.ok(&["client", "list"]).stdout);
        json_snapshot!("client_list_json", env.json(&["client", "list"]));
        insta::assert_snapshot!("project_list", env.ok(&["project", "list"]).stdout);
        json_snapshot!("project_list_json", env.json(&["project", "list"]));
        insta::assert_snapshot!("task_list", env.ok(&["task", "list"]).stdout);
        json_snapshot!("task_list_json", env.json(&["task", "list"]));
    });
}

#[test]
fn context_list_and_recall() {
    let env = seeded();
    with_filters(&env, || {
        insta::assert_snapshot!("context_list", env.ok(&["context", "list"]).stdout);
        json_snapshot!("context_list_json", env.json(&["context", "list"]));
        insta::assert_snapshot!("context_stats", env.ok(&["context", "stats"]).stdout);
        json_snapshot!("context_stats_json", env.json(&["context", "stats"]));
        let prompt = "why does the veeam backup fail";
        // The memories are a client's and the harness's directory is linked
        // to no project: recall may use them there only with this setting.
        let all = [("MSP_MEMORY_UNLINKED_SCOPE", "all")];
        insta::assert_snapshot!(
            "context_recall",
            env.msp_with(&all, &["context", "recall", "--prompt", prompt])
                .expect_code(0)
                .stdout
        );
        json_snapshot!(
            "context_recall_json",
            env.msp_with(&all, &["--json", "context", "recall", "--prompt", prompt])
                .expect_code(0)
                .json()
        );
    });
}
