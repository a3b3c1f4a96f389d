//! No secret reaches memory: every form of the redaction corpus
//! (`msp::redact::corpus`, the examples beside each rule) goes through
//! capture, and none may be found afterwards in the store, its WAL, the log,
//! the source excerpts, search, recall or the recall hook's output.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{self, Env, RECALL, SAVE, array, str_of};
use crate::support::transcript::Lines;

/// A minimal Claude Code transcript writer.
struct Transcript {
    path: PathBuf,
    lines: Lines,
    text: Vec<String>,
}

impl Transcript {
    fn new(path: PathBuf, cwd: &Path) -> Transcript {
        let session = "5e55e55e-0000-4000-8000-000000000001";
        let cwd = cwd.to_string_lossy();
        Transcript {
            path,
            lines: Lines::new(session, &cwd, "00000000-0000-4000-8000-", 8),
            text: Vec::new(),
        }
    }

    /// One turn: the prompt quotes `text`, a Bash call prints it, the answer
    /// repeats its first line.
    fn turn(&mut self, title: &str, command: &str, text: &str) {
        let prompt = self
            .lines
            .user(json!(format!("{title}, keep this for the ticket:\n{text}")));
        let id = format!("toolu_{:024}", self.lines.n);
        let call = self.lines.assistant(
            json!({"type": "tool_use", "id": id, "name": "Bash", "input": {"command": command}}),
        );
        let structured = json!({"stdout": text, "stderr": "", "interrupted": false});
        let result = self.lines.tool_result(&id, json!(text), false, structured);
        let first = text.lines().next().unwrap_or_default();
        let answer = self.lines.assistant(json!({"type": "text",
            "text": format!("Done with {title}. I ran `{first}` and noted the result.")}));
        self.text
            .extend([prompt, call, result, answer].map(|v| v.to_string()));
    }

    fn write(&self) {
        let mut f = std::fs::File::create(&self.path).unwrap();
        for l in &self.text {
            writeln!(f, "{l}").unwrap();
        }
    }
}

/// Runs a hook binary with the env's variables and `input` on stdin.
fn hook(env: &Env, bin: &str, cwd: &Path, input: &Value) -> String {
    let mut cmd = env.command_of::<&str>(bin, &[]);
    cmd.current_dir(cwd);
    common::run_stdin(cmd, &[bin], input.to_string().as_bytes())
        .expect_code(0)
        .stdout
}

/// Everything a secret could have reached, as text.
fn everything_stored(env: &Env, cwd: &Path, prompts: &[&str]) -> Vec<(String, String)> {
    let mut places = Vec::new();
    for name in ["msp.db", "msp.db-wal", "msp.log", "msp.log.1"] {
        if let Ok(bytes) = std::fs::read(env.data.join(name)) {
            places.push((
                name.to_owned(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    let list = env.json(&["context", "list", "--limit", "10000", "--json"]);
    for m in array(&list) {
        let id = str_of(m, "id");
        let shown = env.ok(&["context", "show", id, "--source", "--json"]);
        places.push((format!("context show {id} --source"), shown.stdout));
    }
    places.push(("context list".to_owned(), list.to_string()));
    for p in prompts {
        let found = env.ok(&["context", "search", p, "--limit", "50", "--json"]);
        places.push((format!("search {p:?}"), found.stdout));
        let recalled = env.ok(&["context", "recall", "--prompt", p, "--budget", "4000"]);
        places.push((format!("recall {p:?}"), recalled.stdout));
        let injected = hook(
            env,
            RECALL,
            cwd,
            &json!({"session_id": "5e55e55e-0000-4000-8000-000000000002", "hook_event_name": "UserPromptSubmit",
                    "prompt": p, "cwd": cwd, "transcript_path": cwd.join("none.jsonl")}),
        );
        places.push((format!("msp-recall {p:?}"), injected));
    }
    places
}

const PROMPTS: &[&str] = &[
    "what is the snmp community on the core switch",
    "the domain admin password and the wifi key",
    "ipmi idrac bmc login for the servers",
    "kubernetes secret and api token for the portal",
    "cisco config enable secret and vpn psk",
];

#[test]
fn no_secret_form_survives_capture_anywhere() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    let cwd = env.dir("acme-portal");
    let examples = msp::redact::corpus::examples();
    let mut tx = Transcript::new(env.path("corpus.jsonl"), &cwd);
    for (i, ex) in examples.iter().enumerate() {
        let command = match ex.text.lines().count() {
            1 => ex.text.clone(),
            _ => format!("cat /etc/acme/{}.conf", ex.rule),
        };
        tx.turn(&format!("Step {i}: {}", ex.rule), &command, &ex.text);
    }
    tx.write();
    env.ok(&["context", "import", &tx.path.to_string_lossy()]);

    // Not vacuous: the turns were stored, with the text around the secrets.
    let list = env.json(&["context", "list", "--limit", "10000", "--json"]);
    assert!(
        array(&list).len() >= examples.len() / 2,
        "only {} memories for {} turns",
        array(&list).len(),
        examples.len()
    );
    let all = everything_stored(&env, &cwd, PROMPTS);
    let joined: String = all.iter().map(|(_, t)| t.as_str()).collect();
    for context in [
        "snmpwalk",
        "ipmitool",
        "racadm",
        "Key Content",
        "[REDACTED:",
    ] {
        assert!(
            joined.contains(context),
            "{context:?} is nowhere: nothing was captured"
        );
    }

    let mut leaks = Vec::new();
    for ex in &examples {
        for secret in &ex.secrets {
            for (place, text) in &all {
                if text.contains(secret.as_str()) {
                    leaks.push(format!("{}: {secret:?} found in {place}", ex.rule));
                }
            }
        }
    }
    let report = leaks.join("\n");
    assert!(leaks.is_empty(), "{} leaks:\n{report}", leaks.len());
}

/// The forms the hostile test found surviving, through the save hook itself.
#[test]
fn msp_secret_forms_do_not_survive_the_save_hook() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    let cwd = env.dir("acme");
    let forms = [
        "snmpwalk -v2c -c Pr1vC0mmun1ty 10.0.0.1",
        "ipmitool -I lanplus -H 10.0.0.50 -U ADMIN -P Ipm1Adm1nPw chassis status",
        "    Key Content            : Gu3stW1f1!2024",
        "echo 'Sud0!Pass2024' | sudo -S systemctl restart nginx",
        "reg add \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\" /v DefaultPassword /t REG_SZ /d \"Kiosk!2024x\" /f",
        "username admin privilege 15 password 0 Cisc0!Adm1nX",
        "crypto isakmp key V1rtu4lPskX address 0.0.0.0 0.0.0.0",
        "htpasswd -b /etc/nginx/.htpasswd admin Ht!passwd9X",
        "az login -u admin@acme.onmicrosoft.com -p AzL0gin!PwX",
        "ldapsearch -x -D cn=svc,dc=acme -w Ld4p!BindX -b dc=acme",
        "the new domain admin password is Winter2024!Dc",
    ];
    let secrets = [
        "Pr1vC0mmun1ty",
        "Ipm1Adm1nPw",
        "Gu3stW1f1!2024",
        "Sud0!Pass2024",
        "Kiosk!2024x",
        "Cisc0!Adm1nX",
        "V1rtu4lPskX",
        "Ht!passwd9X",
        "AzL0gin!PwX",
        "Ld4p!BindX",
        "Winter2024!Dc",
    ];
    let mut tx = Transcript::new(env.path("session.jsonl"), &cwd);
    for (i, f) in forms.iter().enumerate() {
        tx.turn(&format!("Fix {i}"), f, f);
    }
    tx.write();
    hook(
        &env,
        SAVE,
        &cwd,
        &json!({"session_id": "5e55e55e-0000-4000-8000-000000000001", "hook_event_name": "Stop",
                "stop_hook_active": false, "cwd": cwd, "transcript_path": tx.path}),
    );
    let list = env.json(&["context", "list", "--limit", "100", "--json"]);
    assert!(array(&list).len() >= forms.len() / 2, "{list}");
    let all = everything_stored(&env, &cwd, PROMPTS);
    let mut leaks = Vec::new();
    for s in secrets {
        for (place, text) in &all {
            if text.contains(s) {
                leaks.push(format!("{s:?} found in {place}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// A tool output longer than the raw cap is cut in the middle; a private key
/// whose header fell into the cut must not leave its tail behind.
#[test]
fn private_key_cut_by_truncation_is_not_stored() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    let cwd = env.dir("acme");
    let filler = |n: usize| {
        (0..n)
            .map(|i| {
                format!(
                    "2026-03-01 08:00:{:02} backup job {i} ok, 1024 files\n",
                    i % 60
                )
            })
            .collect::<String>()
    };
    let key_lines: Vec<String> = (0..25)
        .map(|i| msp::redact::corpus::fake(700 + i, 'b', 64))
        .collect();
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        key_lines.join("\n")
    );
    // The key straddles the start of the kept tail, so its header is cut.
    let head = filler(800);
    let tail = filler(620);
    let output = format!("{head}{key}{tail}");
    assert!(output.len() > 64 * 1024);
    let mut tx = Transcript::new(env.path("cut.jsonl"), &cwd);
    tx.turn("Read the backup log", "cat /var/log/backup.log", &output);
    tx.write();
    env.ok(&["context", "import", &tx.path.to_string_lossy()]);
    let all = everything_stored(&env, &cwd, &["backup log key"]);
    assert!(
        all.iter().any(|(_, t)| t.contains("backup job")),
        "nothing was captured"
    );
    for line in &key_lines {
        for (place, text) in &all {
            assert!(
                !text.contains(line.as_str()),
                "a key line survived in {place}"
            );
        }
    }
}

#[test]
fn tags_holding_secrets_are_dropped() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    let anthropic = format!("sk-ant-api03-{}", msp::redact::corpus::fake(1, 'u', 40));
    let aws = format!("AKIA{}", msp::redact::corpus::fake(2, 'A', 16));
    env.ok(&[
        "context",
        "add",
        "--title",
        "Rotated the portal keys",
        "--tags",
        &format!("portal,{anthropic},{aws}"),
    ]);
    let list = env.json(&["context", "list", "--json"]);
    let text = list.to_string();
    assert!(text.contains("portal"), "{text}");
    assert!(
        !text.contains(&anthropic) && !text.contains(&anthropic.to_lowercase()),
        "{text}"
    );
    assert!(
        !text.contains(&aws) && !text.contains(&aws.to_lowercase()),
        "{text}"
    );
}

#[test]
fn context_scrub_reports_and_setup_marks_the_store_scrubbed() {
    let env = Env::new();
    env.ok(&["setup", "--no-hooks"]);
    env.remember(
        "Core switch SNMP",
        "snmpwalk -v2c -c Pr1vC0mmun1ty 10.0.0.1 answers",
        &[],
    );
    let report = env.json(&["context", "scrub", "--json"]);
    assert_eq!(report["memories"], 1, "{report}");
    // Capture redacted it already: nothing left to change.
    assert_eq!(report["changed"], 0, "{report}");
    assert_eq!(report["secrets"], 0, "{report}");
    let text = env.ok(&["context", "scrub"]).stdout;
    assert!(
        text.contains("scrubbed 1 memories: 0 changed, 0 secrets replaced"),
        "{text}"
    );
    // The store carries the current rules now; setup has nothing to do.
    let setup = env.json(&["setup", "--no-hooks", "--json"]);
    assert!(setup["scrubbed"].is_null(), "{setup}");
}
