//! Golden output of the main read commands, of recall and of the capture's
//! compression, as committed insta snapshots (tests/it/snapshots/). Temp
//! paths, ids and times are filtered so a snapshot changes only when what msp
//! prints or stores changes.

use crate::common::{Env, array, str_of};

use rstest::rstest;
use serde_json::Value;

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

/// The memories are a client's and the harness's directory is linked to no
/// project: recall may use them there only with this setting.
const UNLINKED_ALL: &[(&str, &str)] = &[("MSP_MEMORY_UNLINKED_SCOPE", "all")];

/// A read command on the seeded store, as printed (snapshot `name`) and as
/// JSON (`name_json`).
#[rstest]
#[case::client_list("client_list", &["client", "list"], &[])]
#[case::project_list("project_list", &["project", "list"], &[])]
#[case::task_list("task_list", &["task", "list"], &[])]
#[case::context_list("context_list", &["context", "list"], &[])]
#[case::context_stats("context_stats", &["context", "stats"], &[])]
#[case::context_recall(
    "context_recall",
    &["context", "recall", "--prompt", "why does the veeam backup fail"],
    UNLINKED_ALL
)]
fn read_command(#[case] name: &str, #[case] args: &[&str], #[case] vars: &[(&str, &str)]) {
    let env = seeded();
    let json_args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
    with_filters(&env, || {
        let plain = env.msp_with(vars, args).expect_code(0).stdout;
        insta::assert_snapshot!(name.to_string(), plain);
        let json = env.msp_with(vars, &json_args).expect_code(0).json();
        json_snapshot!(format!("{name}_json"), json);
    });
}

/// A stored memory as the golden compress snapshots show it.
fn render_memory(m: &Value) -> String {
    let tags: Vec<&str> = array(&m["tags"]).iter().filter_map(Value::as_str).collect();
    format!(
        "## {kind} · {title}\nimportance {imp} · tokens {raw} -> {stored} · {at}\ntags: {tags}\n\n{body}\n",
        kind = str_of(m, "kind"),
        title = str_of(m, "title"),
        imp = m["importance"],
        raw = m["raw_tokens"],
        stored = m["stored_tokens"],
        at = str_of(m, "created_at"),
        tags = tags.join(", "),
        body = str_of(m, "body"),
    )
}

/// Golden compress output: the real capture (`msp context import`) of a
/// recorded-style Claude Code transcript from tests/it/fixtures/, and the
/// memories it stored (kind, title, tags, body), oldest first.
#[rstest]
#[case::dataforth_vpn("dataforth_vpn", "Dataforth", "dataforth-net")]
#[case::harbor_fs02_disk("harbor_fs02_disk", "Harbor Dental", "harbor-fs02")]
fn compress_golden(#[case] fixture: &str, #[case] client: &str, #[case] project: &str) {
    let env = Env::setup();
    env.ok(&["client", "add", client]);
    env.ok(&["project", "add", project, "--client", client]);
    let path = format!(
        "{}/tests/it/fixtures/{fixture}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let import = env.ok(&["context", "import", "--project", project, &path]);
    let mut memories = array(&env.json(&["context", "list", "--limit", "0"])).clone();
    memories.sort_by(|a, b| str_of(a, "created_at").cmp(str_of(b, "created_at")));
    let mut golden = format!("$ msp context import\n{}\n", import.stdout);
    for m in &memories {
        assert_eq!(str_of(m, "source_path"), path, "{m}");
        golden.push_str(&render_memory(m));
        golden.push('\n');
    }
    with_filters(&env, || {
        insta::assert_snapshot!(format!("compress_{fixture}"), golden);
    });
}
