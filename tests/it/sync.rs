//! Team sync against a real PostgreSQL: one throwaway cluster per test
//! binary (tests/it/support/pg.rs), one database per test, temp HOMEs as
//! machines, `msp` run as a process.

use crate::common;
use crate::support::pg;

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Env, Out, array, str_of};
use serde_json::Value;

fn cluster() -> &'static pg::Cluster {
    static CLUSTER: OnceLock<pg::Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = pg::Cluster::start();
        c.stop_when_process_exits();
        c
    })
}

struct Team {
    db: String,
    url: String,
    machines: Vec<Env>,
}

impl Team {
    fn psql(&self, sql: &str) -> String {
        cluster().psql(&self.db, sql)
    }
}

/// A set-up machine pointed at `url`.
fn machine(url: &str) -> Env {
    let mut env = Env::setup();
    env.set_var("MSP_SYNC_URL", url);
    env
}

/// `n` machines in one team: the first creates it, the others import its key.
fn team(label: &str, n: usize) -> Team {
    let (db, url) = cluster().new_db(label);
    let machines: Vec<Env> = (0..n).map(|_| machine(&url)).collect();
    machines[0].ok(&["sync", "init"]);
    let key = machines[0].ok(&["sync", "key", "export"]).stdout;
    for m in &machines[1..] {
        import_key(m, &key, &[]).expect_code(0);
    }
    Team { db, url, machines }
}

fn import_key(env: &Env, key: &str, extra: &[&str]) -> Out {
    let mut args = vec!["sync", "key", "import"];
    args.extend_from_slice(extra);
    env.msp_stdin(&args, key)
}

fn sync(env: &Env) -> Value {
    env.json(&["sync"])
}

fn client_notes(env: &Env, name: &str) -> Value {
    env.json(&["client", "show", name])["notes"].clone()
}

fn memory_ids(env: &Env) -> Vec<String> {
    let mut ids: Vec<String> = array(&env.json(&["context", "list", "--limit", "100000"]))
        .iter()
        .map(|m| str_of(m, "id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_memory_project_and_session_from_a_reach_b() {
    let t = team("reach", 2);
    let (a, b) = (&t.machines[0], &t.machines[1]);
    let a_dir = a.dir("work/dos");
    a.ok(&["client", "add", "Dataforth"]);
    a.ok(&[
        "project",
        "add",
        "dataforth-dos",
        "--client",
        "Dataforth",
        "--path",
        a_dir.to_str().unwrap(),
    ]);
    a.ok(&[
        "project",
        "link",
        "--project",
        "dataforth-dos",
        "--remote",
        "git@github.com:dataforth/dos.git",
    ]);
    a.remember(
        "NAS backup job",
        "The Veeam job on the quokkaflux NAS runs at 01:00 with 14 days retention",
        &["--project", "dataforth-dos"],
    );
    let started = a.json(&[
        "session",
        "start",
        "--project",
        "dataforth-dos",
        "--title",
        "NAS backups",
        "--at",
        "2h ago",
    ]);
    let session_id = str_of(&started["session"], "id").to_string();
    a.ok(&["session", "stop", "--summary", "verified restore"]);

    let pushed = sync(a);
    assert!(pushed["pushed"].as_u64().unwrap() >= 6, "{pushed}");
    let pulled = sync(b);
    assert_eq!(pulled["pulled"], pushed["pushed"], "{pulled}");
    for k in ["pushed", "pulled", "conflicts_resolved", "duration_ms"] {
        assert!(pulled[k].is_u64(), "{k} missing in {pulled}");
    }

    // Directory links are per machine: B links its own checkout.
    let b_dir = b.dir("src/dataforth");
    let which = b.msp_in(&b_dir, &["project", "which"]);
    assert_ne!(
        which.stdout.trim(),
        "dataforth-dos",
        "A's directory link must not apply on B"
    );
    b.ok(&[
        "project",
        "link",
        b_dir.to_str().unwrap(),
        "--project",
        "dataforth-dos",
    ]);
    let recall = b.ok(&[
        "context",
        "recall",
        "--prompt",
        "when does the quokkaflux veeam backup run?",
        "--cwd",
        b_dir.to_str().unwrap(),
    ]);
    assert!(
        recall.stdout.contains("quokkaflux NAS runs at 01:00"),
        "B must recall A's memory:\n{}",
        recall.stdout
    );
    // Git remote links are global: a clone anywhere on B maps to the project.
    let clone = b.dir("elsewhere/dos");
    std::fs::create_dir_all(clone.join(".git")).unwrap();
    std::fs::write(
        clone.join(".git/config"),
        "[remote \"origin\"]\n\turl = https://github.com/Dataforth/DOS\n",
    )
    .unwrap();
    assert_eq!(
        b.msp_in(&clone, &["project", "which"])
            .expect_code(0)
            .stdout
            .trim(),
        "dataforth-dos"
    );
    // The session started and stopped on A is on B, same id, in lists and reports.
    let list = b.json(&["session", "list"]);
    let s = array(&list)
        .iter()
        .find(|s| str_of(s, "id") == session_id)
        .unwrap_or_else(|| panic!("session {session_id} not on B: {list}"));
    assert_eq!(str_of(s, "status"), "closed");
    assert_eq!(str_of(s, "summary"), "verified restore");
    assert_eq!(str_of(s, "client"), "Dataforth");
    let report = b.json(&["session", "report", "--by", "client"]);
    assert!(report.to_string().contains("Dataforth"), "{report}");
    // B's link and A's state flow back; nothing is duplicated.
    sync(b);
    let back = sync(a);
    assert!(back["pulled"].as_u64().unwrap() >= 1, "{back}");
    assert_eq!(memory_ids(a), memory_ids(b));
    let again = sync(a);
    assert_eq!(
        (again["pushed"].as_u64(), again["pulled"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn concurrent_edits_of_a_client_converge_in_either_order() {
    for a_first in [true, false] {
        let t = team(if a_first { "edits_ab" } else { "edits_ba" }, 2);
        let (a, b) = (&t.machines[0], &t.machines[1]);
        a.ok(&["client", "add", "Acme", "--notes", "original"]);
        sync(a);
        sync(b);
        a.ok(&["client", "update", "Acme", "--notes", "edited on A"]);
        std::thread::sleep(Duration::from_millis(20));
        b.ok(&["client", "update", "Acme", "--notes", "edited on B"]);
        let order: [&Env; 4] = if a_first { [a, b, a, b] } else { [b, a, b, a] };
        let mut conflicts = 0;
        for m in order {
            conflicts += sync(m)["conflicts_resolved"].as_u64().unwrap();
        }
        assert_eq!(
            client_notes(a, "Acme"),
            client_notes(b, "Acme"),
            "a_first={a_first}"
        );
        assert_eq!(
            client_notes(a, "Acme"),
            "edited on B",
            "the later edit wins"
        );
        assert!(conflicts >= 1, "one of the two edits lost somewhere");
    }
}

/// Deterministic pseudo-random numbers (no dependency).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn add_notes(env: &Env, prefix: &str, n: usize) {
    let path = env.path(&format!("{prefix}.jsonl"));
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "{{\"title\": \"{prefix} note {i}\", \"body\": \"{prefix} body {i}: checked the backup of server {i}, disk {} GB free\"}}\n",
            i * 7 % 500
        ));
    }
    std::fs::write(&path, text).unwrap();
    env.ok(&[
        "context",
        "import",
        path.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
}

/// Kills a running `msp sync` (SIGKILL, no chance to clean up); how it ended.
fn kill_sync(child: std::process::Child) -> Out {
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    common::finish(child, &["sync"])
}

/// Records of `machine_id` the server holds.
fn on_server(t: &Team, machine_id: &str) -> i64 {
    t.psql(&format!(
        "SELECT count(*) FROM msp_sync_records WHERE machine_id = '{machine_id}'"
    ))
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn sync_killed_at_random_points_loses_and_duplicates_nothing() {
    const PER_ROUND: usize = 300;
    let mut t = team("kill", 3);
    // Small push batches: a push is many commits, so a kill can land between them.
    for m in &mut t.machines {
        m.set_var("MSP_SYNC_PUSH_BATCH", "5");
    }
    let (a, b, c) = (&t.machines[0], &t.machines[1], &t.machines[2]);
    let a_id = str_of(&a.json(&["machine", "show"]), "id").to_string();
    add_notes(a, "alpha", 900);
    add_notes(b, "bravo", 300);
    sync(b);
    // How long a big pull takes when nobody kills it: the range of the kill delays.
    let began = Instant::now();
    sync(c);
    let pull_ms = (began.elapsed().as_millis() as u64).max(50);
    let mut rng = Lcg(0x5eed);
    let (mut killed, mut mid_push, mut mid_pull, mut pushes) = (0, 0, 0, 0);
    // Twenty rounds at least; on a loaded machine a kill can land after the
    // work it aimed at, so rounds go on (up to 60) until enough landed inside.
    let enough = |killed, mid_push, mid_pull| killed >= 10 && mid_push >= 3 && mid_pull >= 3;
    let mut round = 0;
    while round < 20 || (round < 60 && !enough(killed, mid_push, mid_pull)) {
        let out = if round % 2 == 0 {
            pushes += 1;
            // A pushes: killed at a random moment once its push has begun.
            add_notes(a, &format!("r{round}"), PER_ROUND);
            let before = on_server(&t, &a_id);
            let mut child = a.spawn(&["sync"]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while on_server(&t, &a_id) == before
                && child.try_wait().unwrap().is_none()
                && Instant::now() < deadline
            {}
            std::thread::sleep(Duration::from_millis(rng.below(40)));
            let out = kill_sync(child);
            let st = a.json(&["sync", "status"]);
            if out.code == -1 && st["unpushed_records"].as_i64().unwrap() > 0 {
                mid_push += 1;
            }
            eprintln!(
                "round {round}: push killed={} unpushed={}",
                out.code == -1,
                st["unpushed_records"]
            );
            out
        } else {
            // B or C pulls: killed at a random moment of the whole run.
            let env = if round % 4 == 1 { b } else { c };
            let child = env.spawn(&["sync"]);
            std::thread::sleep(Duration::from_millis(rng.below(pull_ms)));
            let out = kill_sync(child);
            let st = env.json(&["sync", "status"]);
            if out.code == -1 && st["unpulled_records"].as_i64().unwrap() > 0 {
                mid_pull += 1;
            }
            eprintln!(
                "round {round}: pull killed={} unpulled={}",
                out.code == -1,
                st["unpulled_records"]
            );
            out
        };
        if out.code == -1 {
            killed += 1;
        } else {
            assert_eq!(out.code, 0, "an unkilled sync must succeed: {}", out.stderr);
        }
        round += 1;
    }
    eprintln!(
        "{killed} of {round} killed: {mid_push} during a push, {mid_pull} before their pull was applied"
    );
    assert!(
        killed >= 10,
        "only {killed} of {round} syncs were killed: not a crash test"
    );
    assert!(
        mid_push >= 3,
        "only {mid_push} kills landed in the middle of a push"
    );
    assert!(
        mid_pull >= 3,
        "only {mid_pull} kills landed before a pull was applied"
    );
    // Everyone syncs to the end, twice around.
    for _ in 0..2 {
        for m in [a, b, c] {
            sync(m);
        }
    }
    let ids = memory_ids(a);
    assert_eq!(
        ids.len(),
        900 + 300 + PER_ROUND * pushes,
        "no memory lost or duplicated"
    );
    assert_eq!(ids, memory_ids(b));
    assert_eq!(ids, memory_ids(c));
    // The server holds every series as a gapless prefix, each record once.
    let rows = t.psql(
        "SELECT count(*) = max(counter) AND count(DISTINCT record_id) = count(*) FROM msp_sync_records GROUP BY machine_id",
    );
    assert!(rows.lines().all(|l| l == "t"), "{rows}");
    for m in [a, b, c] {
        let st = m.json(&["sync", "status"]);
        assert_eq!(st["reachable"], true, "{st}");
        assert_eq!(st["unpushed_records"], 0, "{st}");
        assert_eq!(st["unpulled_records"], 0, "{st}");
        assert_eq!(st["pending_changes"], 0, "{st}");
    }
}

#[test]
fn an_unreachable_server_fails_fast_and_nothing_else_breaks() {
    let t = team("down", 1);
    let a = &t.machines[0];
    a.ok(&["client", "add", "Acme"]);
    // A closed port: refused at once. A blackholed address: the timeout.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for url in [
        format!("postgres://msp:s3cr3tpw@127.0.0.1:{closed}/x"),
        "postgres://msp:s3cr3tpw@10.255.255.1:5432/x".to_string(),
    ] {
        let began = Instant::now();
        let out = a
            .msp_with(&[("MSP_SYNC_URL", &url)], &["sync"])
            .expect_hint(1);
        let took = began.elapsed();
        assert!(
            took < Duration::from_secs(6),
            "took {took:?}: {}",
            out.stderr
        );
        common::assert_has(&out.stderr, "cannot reach the team store");
        assert!(
            !out.stderr.contains("s3cr3tpw"),
            "password leaked: {}",
            out.stderr
        );
        assert!(out.stderr.contains("msp:***@"), "{}", out.stderr);
        let shown = a.msp_with(&[("MSP_SYNC_URL", &url)], &["config", "show"]);
        assert!(shown.stdout.contains("msp:***@"), "{}", shown.stdout);
        assert!(!shown.stdout.contains("s3cr3tpw"));
        let st = a
            .msp_with(&[("MSP_SYNC_URL", &url)], &["--json", "sync", "status"])
            .expect_code(0)
            .json();
        assert_eq!(st["reachable"], false, "{st}");
        assert!(!st.to_string().contains("s3cr3tpw"));
    }
    // Local commands and hooks are unaffected; the save hook starts a
    // background sync (rate-limited) and never waits for it.
    let down = format!("postgres://msp:s3cr3tpw@127.0.0.1:{closed}/x");
    a.ok(&["client", "add", "Globex"]);
    let save = |event: &str| {
        let began = Instant::now();
        let input = serde_json::json!({
            "session_id": "s1", "cwd": a.root, "hook_event_name": event,
            "transcript_path": "", "stop_hook_active": false
        });
        let vars = [("MSP_SYNC_URL", down.as_str()), ("MSP_SYNC_AUTO", "true")];
        a.hook(common::SAVE, &vars, &input);
        began.elapsed()
    };
    assert!(save("Stop") < Duration::from_secs(2));
    assert!(save("Stop") < Duration::from_secs(2));
    let log = std::fs::read_to_string(a.data.join("msp.log")).unwrap();
    assert_eq!(
        log.matches("sync started").count(),
        1,
        "one background sync per interval:\n{log}"
    );
    assert_eq!(array(&a.json(&["client", "list"])).len(), 2);
}

/// Background work yields to the technician's own: the sync a save starts
/// runs at a lower priority (nice 10).
#[cfg(target_os = "linux")]
#[test]
fn the_background_sync_runs_at_a_lower_priority() {
    let t = team("nice", 1);
    let a = &t.machines[0];
    // A server that takes the connection and never answers: the sync waits.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "postgres://msp@127.0.0.1:{}/x",
        silent.local_addr().unwrap().port()
    );
    let input = serde_json::json!({
        "session_id": "s1", "cwd": a.root, "hook_event_name": "Stop",
        "transcript_path": "", "stop_hook_active": false
    });
    let vars = [("MSP_SYNC_URL", url.as_str()), ("MSP_SYNC_AUTO", "true")];
    a.hook(common::SAVE, &vars, &input);
    let log = std::fs::read_to_string(a.data.join("msp.log")).unwrap();
    let pid: u32 = log
        .split("sync started (pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no background sync:\n{log}"));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    let stat = stat.expect("the background sync waits on the silent server");
    // The fields after the command name's closing parenthesis start at the
    // third; the nice value is the nineteenth.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    assert_eq!(fields[16], "10", "{stat}");
}

#[test]
fn a_wrong_key_is_refused_before_anything_is_applied() {
    let t = team("wrongkey", 1);
    let a = &t.machines[0];
    a.ok(&["client", "add", "Acme"]);
    sync(a);
    // C belongs to another team (its own database), then points at A's.
    let (_db2, url2) = cluster().new_db("otherteam");
    let c = machine(&url2);
    c.ok(&["sync", "init"]);
    let out = c
        .msp_with(&[("MSP_SYNC_URL", &t.url)], &["sync"])
        .expect_hint(4);
    assert!(out.stderr.contains("team key"), "{}", out.stderr);
    assert!(out.stderr.contains("msp sync key import"), "{}", out.stderr);
    assert_eq!(
        array(&c.json(&["client", "list"])).len(),
        0,
        "nothing applied"
    );
    // The right team id with a wrong key: caught by the key check at import.
    let good = a.ok(&["sync", "key", "export"]).stdout;
    let team_id = good.trim().split('.').nth(1).unwrap().to_string();
    let forged = forge_key(&team_id);
    let d = machine(&t.url);
    let out = import_key(&d, &forged, &[]).expect_hint(4);
    assert!(out.stderr.contains("wrong key"), "{}", out.stderr);
    d.msp(&["sync"]).expect_hint(4);
    assert_eq!(array(&d.json(&["client", "list"])).len(), 0);
    // Garbage is refused with a usage error, never echoed back.
    let out = import_key(&d, "msp-team-1.not-a-key", &[]).expect_hint(2);
    assert!(!out.stderr.contains("not-a-key"));
    import_key(&d, &good, &[]).expect_code(0);
    sync(&d);
    assert_eq!(array(&d.json(&["client", "list"])).len(), 1);
}

/// A well-formed key for `team_id` that is not the team's.
fn forge_key(team_id: &str) -> String {
    use sha2::Digest;
    let key = [7u8; 32];
    let mut data = team_id.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(&key);
    let check = hex::encode(&sha2::Sha256::digest(&data)[..4]);
    format!("msp-team-1.{team_id}.{}.{check}\n", hex::encode(key))
}

#[test]
fn tampered_or_replayed_records_are_detected_and_nothing_is_applied() {
    type Attack = (&'static str, fn(&Team, &str) -> String);
    let attacks: [Attack; 4] = [
        ("flipped byte", |_, m| {
            format!(
                "UPDATE msp_sync_records SET sealed = set_byte(sealed, 20, get_byte(sealed, 20) # 1) WHERE machine_id = '{m}' AND counter = 2"
            )
        }),
        ("replayed under another id", |_, m| {
            format!(
                "DELETE FROM msp_sync_records WHERE machine_id = '{m}' AND counter >= 2; INSERT INTO msp_sync_records SELECT machine_id, 2, gen_random_uuid()::text, kind, version, sealed FROM msp_sync_records WHERE machine_id = '{m}' AND counter = 1"
            )
        }),
        ("moved to another machine", |_, m| {
            format!("UPDATE msp_sync_records SET machine_id = '{m}x' WHERE machine_id = '{m}'")
        }),
        ("record removed", |_, m| {
            format!("DELETE FROM msp_sync_records WHERE machine_id = '{m}' AND counter = 2")
        }),
    ];
    for (what, attack) in attacks {
        let t = team(&what.replace(' ', "_"), 2);
        let (a, b) = (&t.machines[0], &t.machines[1]);
        a.ok(&["client", "add", "Acme"]);
        a.ok(&["client", "add", "Globex"]);
        a.remember("t", "a memory body", &[]);
        sync(a);
        let a_id = str_of(&a.json(&["machine", "show"]), "id").to_string();
        t.psql(&attack(&t, &a_id));
        let out = b.msp(&["sync"]);
        assert_eq!(out.code, 1, "{what}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("nothing was applied"),
            "{what}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("hint:"), "{what}: {}", out.stderr);
        assert_eq!(
            array(&b.json(&["client", "list"])).len(),
            0,
            "{what}: applied anyway"
        );
        assert_eq!(memory_ids(b).len(), 0, "{what}");
    }
}

#[test]
fn the_server_sees_no_plaintext() {
    let t = team("plaintext", 2);
    let a = &t.machines[0];
    a.ok(&["machine", "update", "self", "--name", "bluewhale-laptop"]);
    a.ok(&[
        "client",
        "add",
        "Zanzibar Holdings",
        "--notes",
        "gate code in vault",
    ]);
    a.remember(
        "firewall",
        "Opened port 8443 on the xylophonic gateway for the portal",
        &[],
    );
    a.ok(&[
        "task",
        "add",
        "Renew the marmalade certificate",
        "--client",
        "Zanzibar Holdings",
    ]);
    sync(a);
    sync(&t.machines[1]);
    let hostname = str_of(&a.json(&["machine", "show"]), "hostname").to_string();
    let dump = t.psql(
        "SELECT r::text || ' ' || encode(r.sealed, 'escape') FROM msp_sync_records r
         UNION ALL SELECT m::text || ' ' || encode(m.key_check, 'escape') FROM msp_sync_meta m",
    );
    assert!(dump.lines().count() >= 5, "{dump}");
    let mut needles = vec![
        "Zanzibar",
        "zanzibar",
        "xylophonic",
        "marmalade",
        "bluewhale",
        "gate code",
        "dataforth",
    ];
    if hostname.len() >= 6 {
        needles.push(&hostname);
    }
    for n in needles {
        assert!(!dump.contains(n), "the server holds {n:?} in plain text");
    }
    // The team key never reaches the server.
    let key = a.ok(&["sync", "key", "export"]).stdout;
    let key_hex = key.trim().split('.').nth(2).unwrap();
    let bytes = t.psql("SELECT encode(sealed, 'hex') FROM msp_sync_records UNION ALL SELECT encode(key_check, 'hex') FROM msp_sync_meta");
    assert!(!bytes.contains(key_hex));
    // The key file is private.
    common::assert_owner_only(&a.data.join("sync-team.key"));
}

#[test]
fn init_is_idempotent_and_a_second_team_is_refused() {
    let t = team("init", 1);
    let a = &t.machines[0];
    let again = a.json(&["sync", "init"]);
    assert_eq!(again["created"], false);
    // A machine without the key cannot create a second team on the same store.
    let b = machine(&t.url);
    let out = b.msp(&["sync", "init"]).expect_hint(4);
    assert!(out.stderr.contains("msp sync key import"), "{}", out.stderr);
    // `sync` without a key says how to get one.
    b.msp(&["sync"]).expect_hint(4);
    // URL given once to init is remembered; its password is never printed.
    let (_db, url) = cluster().new_db("remember");
    let c = Env::setup();
    let out = c.ok(&["sync", "init", "--url", &url]);
    assert!(!out.stdout.contains("pw-not-needed") && !out.stderr.contains("pw-not-needed"));
    let st = c.json(&["sync", "status"]);
    assert_eq!(st["reachable"], true, "{st}");
    assert!(str_of(&st, "url").contains("msp:***@"), "{st}");
    sync(&c);
    // sslmode in the URL is honoured: this test server has no TLS, so
    // requiring it fails, and says why.
    let tls = format!("{url}?sslmode=require");
    let out = c
        .msp_with(&[("MSP_SYNC_URL", &tls)], &["sync"])
        .expect_hint(1);
    assert!(out.stderr.contains("TLS"), "{}", out.stderr);
    assert!(!out.stderr.contains("pw-not-needed"), "{}", out.stderr);
    let _ = &t.db;
}

const VAULT_PASS: &str = "correct horse battery staple";

fn vault(env: &Env, args: &[&str], stdin: &str) -> Out {
    let mut cmd = env.command(args);
    cmd.env("MSP_VAULT_PASSPHRASE", VAULT_PASS)
        .env("MSP_VAULT_KDF_MEMORY_KIB", "64")
        .env("MSP_VAULT_KDF_ITERATIONS", "1");
    common::run_stdin(cmd, args, stdin.as_bytes())
}

#[test]
fn a_vault_credential_set_on_a_is_read_on_b() {
    let t = team("vault", 2);
    let (a, b) = (&t.machines[0], &t.machines[1]);
    a.ok(&["client", "add", "Dataforth"]);
    vault(a, &["vault", "init"], "").expect_code(0);
    vault(
        a,
        &[
            "vault",
            "set",
            "dataforth/nas",
            "password=-",
            "--username",
            "admin",
        ],
        "Tr0ub4dor&3-nas",
    )
    .expect_code(0);
    sync(a);
    sync(b);
    let got = vault(b, &["vault", "get", "dataforth/nas"], "").expect_code(0);
    assert_eq!(got.stdout.trim(), "Tr0ub4dor&3-nas");
    // The secret itself never reached the server in any readable form.
    let dump = t.psql("SELECT encode(sealed, 'escape') FROM msp_sync_records");
    assert!(!dump.contains("Tr0ub4dor"));
    // A rotation on B comes back to A; the record MAC still verifies there.
    vault(
        b,
        &["vault", "rotate", "dataforth/nas", "password=-"],
        "n3w-s3cret-value",
    )
    .expect_code(0);
    sync(b);
    sync(a);
    let got = vault(a, &["vault", "get", "dataforth/nas"], "").expect_code(0);
    assert_eq!(got.stdout.trim(), "n3w-s3cret-value");
    // Regression: B, which has its redaction key already, redacts in its own
    // captures a value pulled from A from its next unlock on.
    vault(
        a,
        &["vault", "set", "dataforth/fw", "password=-"],
        "Xk9#fw-Gr33n-77",
    )
    .expect_code(0);
    sync(a);
    sync(b);
    vault(b, &["vault", "get", "dataforth/nas"], "").expect_code(0);
    let added = b.remember(
        "firewall console",
        "typed Xk9#fw-Gr33n-77 into the console of fw01",
        &[],
    );
    assert!(
        !added.to_string().contains("Gr33n"),
        "a pulled vault value reached a memory on b: {added}"
    );
    // A machine with a vault of its own keeps it: the team's is not applied over it.
    let c = machine(&t.url);
    import_key(&c, &c_key_source(a), &[]).expect_code(0);
    c.ok(&["client", "add", "Dataforth"]);
    vault(&c, &["vault", "init"], "").expect_code(0);
    let r = sync(&c);
    assert!(r["kept"].as_u64().unwrap() >= 2, "{r}");
    vault(&c, &["vault", "list"], "").expect_code(0);
}

fn c_key_source(a: &Env) -> String {
    a.ok(&["sync", "key", "export"]).stdout
}

#[test]
fn corrections_deletions_and_their_audit_reach_the_other_machine() {
    let t = team("corrections", 2);
    let (a, b) = (&t.machines[0], &t.machines[1]);
    a.ok(&["client", "add", "Dataforth"]);
    a.ok(&["client", "add", "Spare"]);
    a.ok(&["project", "add", "dos", "--client", "Dataforth"]);
    let s = a.add_session(
        "2026-11-20 09:00",
        "2026-11-20 20:00",
        &["--project", "dos", "--title", "typo"],
    );
    let gone = a.add_session("2026-11-21 09:00", "2026-11-21 10:00", &[]);
    let task = a.json(&["task", "add", "renew cert", "--client", "Dataforth"]);
    sync(a);
    sync(b);
    assert_eq!(array(&b.json(&["session", "list"])).len(), 2);

    // A corrects: an edit, a removal of each kind, a rename, an archive.
    a.ok(&[
        "session",
        "edit",
        str_of(&s, "short_id"),
        "--to",
        "2026-11-20 10:00",
        "--title",
        "patching",
    ]);
    a.ok(&["session", "rm", str_of(&gone, "short_id")]);
    a.ok(&["task", "rm", str_of(&task, "short_id")]);
    a.ok(&["client", "rm", "spare"]);
    a.ok(&["client", "rename", "Dataforth", "Dataforth Corp"]);
    a.ok(&["project", "archive", "dos"]);
    sync(a);
    sync(b);

    let list = b.json(&["session", "list"]);
    let sessions = array(&list);
    assert_eq!(sessions.len(), 1, "{list}");
    assert_eq!(sessions[0]["title"], "patching");
    assert_eq!(sessions[0]["duration_seconds"], 3600);
    assert_eq!(sessions[0]["client"], "Dataforth Corp");
    assert!(array(&b.json(&["task", "list", "--all"])).is_empty());
    let clients = b.json(&["client", "list", "--all"]);
    assert_eq!(array(&clients).len(), 1, "{clients}");
    assert!(array(&b.json(&["project", "list"])).is_empty());
    assert_eq!(
        b.json(&["project", "list", "--all"])[0]["status"],
        "archived"
    );
    assert_eq!(b.json(&["session", "report"])["total"]["total_hours"], 1.0);

    // B sees who corrected what, with the old values.
    let audit = b.json(&["session", "audit"]);
    let actions: Vec<(&str, &str)> = array(&audit)
        .iter()
        .map(|e| (str_of(e, "kind"), str_of(e, "action")))
        .collect();
    for want in [
        ("session", "edit"),
        ("session", "rm"),
        ("task", "rm"),
        ("client", "rm"),
        ("client", "rename"),
        ("project", "archive"),
    ] {
        assert!(actions.contains(&want), "{want:?} missing from {actions:?}");
    }
    let a_machine = str_of(&a.json(&["machine", "show"]), "id").to_string();
    assert!(
        array(&audit)
            .iter()
            .all(|e| e["machine_id"] == a_machine.as_str()),
        "{audit}"
    );
    let edit = array(&audit)
        .iter()
        .find(|e| e["action"] == "edit")
        .unwrap();
    assert_eq!(edit["old_values"]["title"], "typo");
    // B knows the client's former name too: B's scripts keep working.
    assert_eq!(
        b.json(&["client", "show", "dataforth"])["name"],
        "Dataforth Corp"
    );

    // A client archived on A is archived on B.
    a.ok(&["client", "archive", "dataforth-corp"]);
    sync(a);
    sync(b);
    assert!(array(&b.json(&["client", "list"])).is_empty());
}

const STORE_PW: &str = "secretpw-Qv7x";

/// A database on the cluster whose role must give its password.
fn password_db(label: &str) -> (String, String) {
    static ROLE: OnceLock<()> = OnceLock::new();
    ROLE.get_or_init(|| cluster().password_role("pwuser", STORE_PW));
    let (db, _) = cluster().new_db(label);
    let url = format!(
        "postgres://pwuser:{STORE_PW}@127.0.0.1:{}/{db}",
        cluster().port
    );
    (db, url)
}

/// The bytes of every file msp keeps in `data` (store, WAL, logs, state).
fn files_holding(data: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(data).unwrap().flatten() {
        let p = e.path();
        if p.is_file() && p.file_name().unwrap() != "sync-password" {
            let bytes = std::fs::read(&p).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
fn sync_init_url_password_is_not_kept_in_the_store_wal_or_log() {
    let (_db, url) = password_db("pwstore");
    // Without its password the role is refused: the password really is used.
    let bare = Env::setup();
    bare.msp(&[
        "sync",
        "init",
        "--url",
        &url.replace(&format!(":{STORE_PW}"), ""),
    ])
    .expect_code(4);
    let a = Env::setup();
    let init = a.ok(&["sync", "init", "--url", &url]);
    // It works, but the password was on the command line: say so.
    common::assert_has(
        &init.stderr,
        "warning: the password in --url shows in process listings",
    );
    common::assert_has(&init.stderr, "MSP_SYNC_PASSWORD");
    a.ok(&["client", "add", "Dataforth"]);
    // The remembered URL (no MSP_SYNC_URL here) still reaches the store.
    let r = sync(&a);
    assert!(r["pushed"].as_u64().unwrap() >= 1, "{r}");
    let status = a.json(&["sync", "status"]);
    assert!(!status.to_string().contains(STORE_PW), "{status}");
    let held = files_holding(&a.data, STORE_PW);
    assert!(held.is_empty(), "the password is in {held:?}");
    let pw_file = a.data.join("sync-password");
    assert_eq!(std::fs::read_to_string(&pw_file).unwrap(), STORE_PW);
    common::assert_owner_only(&pw_file);
    // Run as root: another account reads neither the store nor the password.
    #[cfg(unix)]
    if crate::privacy::is_root() {
        crate::privacy::open_parents(&a.data);
        let control = a.path("control.txt");
        std::fs::write(&control, "readable").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert!(crate::privacy::nobody_can_read(&control));
        for f in ["msp.db", "sync-password", "sync-team.key"] {
            assert!(!crate::privacy::nobody_can_read(&a.data.join(f)), "{f}");
        }
    }
    // A second machine joins with the key and its own URL.
    let b = Env::setup();
    let key = a.ok(&["sync", "key", "export"]).stdout;
    import_key(&b, &key, &[]).expect_code(0);
    b.ok(&["sync", "init", "--url", &url]);
    assert!(sync(&b)["pulled"].as_u64().unwrap() >= 1);
    assert!(files_holding(&b.data, STORE_PW).is_empty());
}

/// `msp sync init --url postgres://USER:PASSWORD@HOST/DB` was the only way
/// to give the team store's password: on the command line, where other
/// accounts' `ps` and the shell history see it. A URL without it now takes
/// the password from MSP_SYNC_PASSWORD (or a terminal prompt) and remembers
/// it like one given in the URL.
#[test]
fn sync_init_takes_the_password_from_the_environment_not_the_command_line() {
    let (_db, url) = password_db("pwenv");
    let bare = url.replace(&format!(":{STORE_PW}"), "");
    assert!(!bare.contains(STORE_PW), "{bare}");
    let a = Env::setup();
    let init = a
        .msp_with(
            &[("MSP_SYNC_PASSWORD", STORE_PW)],
            &["sync", "init", "--url", &bare],
        )
        .expect_code(0);
    common::assert_lacks(&init.stderr, "warning");
    assert_eq!(
        std::fs::read_to_string(a.data.join("sync-password")).unwrap(),
        STORE_PW
    );
    assert!(files_holding(&a.data, STORE_PW).is_empty());
    // Remembered: later syncs need no variable.
    a.ok(&["client", "add", "Dataforth"]);
    assert!(sync(&a)["pushed"].as_u64().unwrap() >= 1);
    // Without a password anywhere (no terminal to ask on) the server refuses,
    // and the error says where the password goes.
    let b = Env::setup();
    let refused = b.msp(&["sync", "init", "--url", &bare]).expect_hint(4);
    common::assert_has(&refused.stderr, "refused the login");
    common::assert_has(&refused.stderr, "MSP_SYNC_PASSWORD");
    assert!(!b.data.join("sync-password").exists());
    common::assert_lacks(&refused.stderr, STORE_PW);
}

#[test]
fn a_password_an_older_msp_stored_moves_out_on_the_next_command() {
    let (_db, url) = password_db("pwmigrate");
    let a = Env::setup();
    a.ok(&["sync", "init", "--url", &url]);
    // As an older msp left it: the whole URL in the store, no password file.
    std::fs::remove_file(a.data.join("sync-password")).unwrap();
    a.sql(&format!(
        "UPDATE local_state SET value = '{}' WHERE key = 'sync.url'",
        url.replace('\'', "''")
    ));
    assert!(!files_holding(&a.data, STORE_PW).is_empty());
    a.ok(&["client", "list"]);
    let held = files_holding(&a.data, STORE_PW);
    assert!(held.is_empty(), "the password is still in {held:?}");
    assert_eq!(
        std::fs::read_to_string(a.data.join("sync-password")).unwrap(),
        STORE_PW
    );
    // Idempotent, and sync still works.
    a.ok(&["client", "add", "Dataforth"]);
    assert!(sync(&a)["pushed"].as_u64().unwrap() >= 1);
}

/// A forgotten memory came back on the other machines: the tombstone of its
/// source travels with sync, B's own copy goes, and B's imports skip it.
#[test]
fn forget_tombstone_reaches_b_and_b_import_skips_it() {
    let t = team("tombstone", 2);
    let (a, b) = (&t.machines[0], &t.machines[1]);
    let notes = |env: &Env| {
        let p = env.path("notes.jsonl");
        std::fs::write(
            &p,
            [
                serde_json::json!({"title": "Gate code rotates monthly", "body": "Ask the front desk."}),
                serde_json::json!({"title": "NAS admin is on vlan 20", "body": "Use the jump host."}),
            ]
            .iter()
            .map(|v| v.to_string() + "\n")
            .collect::<String>(),
        )
        .unwrap();
        p
    };
    let import = |env: &Env| {
        env.json(&["context", "import", notes(env).to_str().unwrap()])["memories_added"]
            .as_u64()
            .unwrap()
    };
    // (Both machines imported the notes, so the other note exists twice:
    // once per machine, as before.)
    let remembers_gate = |env: &Env| {
        array(&env.json(&["context", "list"]))
            .iter()
            .any(|m| m["title"] == "Gate code rotates monthly")
    };
    // B imported the notes on its own before; A imports them too.
    assert_eq!(import(b), 2);
    assert_eq!(import(a), 2);
    let gate = array(&a.json(&["context", "list"]))
        .iter()
        .find(|m| m["title"] == "Gate code rotates monthly")
        .map(|m| str_of(m, "id").to_string())
        .unwrap();
    a.ok(&["context", "forget", &gate]);
    sync(a);
    sync(b);
    assert!(!remembers_gate(b), "B kept its copy");
    assert_eq!(import(b), 0);
    assert!(!remembers_gate(b), "B's import brought it back");
    // And A's import, after pulling B's copies, stays clean too.
    sync(b);
    sync(a);
    assert_eq!(import(a), 0);
    assert!(!remembers_gate(a));
}

/// Supersede, pin, edit and forget on A are changes like any other: B sees
/// the successor only, the pin in its briefing, the edit in its index, and
/// the forgotten note gone (a note has no source, so no import tombstone:
/// its row's deletion travels).
#[test]
fn lifecycle_changes_on_a_reach_b() {
    let t = team("lifecycle", 2);
    let (a, b) = (&t.machines[0], &t.machines[1]);
    a.ok(&["client", "add", "Acme"]);
    a.ok(&["project", "add", "acme-site", "--client", "acme"]);
    let add = |title: &str, kind: &str| {
        str_of(
            &a.json(&[
                "context",
                "add",
                "--title",
                title,
                "--kind",
                kind,
                "--project",
                "acme-site",
            ]),
            "id",
        )
        .to_string()
    };
    let old = add("DC01 DNS forwarders are 8.8.8.8 and 8.8.4.4", "fact");
    let new = add("DC01 DNS forwarders are now 1.1.1.1 and 1.0.0.1", "fact");
    let pinned = add("Change freeze during month-end close", "note");
    let edited = add("Backups go to the old Synology", "note");
    let gone = add("Temporary VPN exception for the auditor", "note");
    a.ok(&["context", "pin", &pinned]);
    a.ok(&[
        "context",
        "edit",
        &edited,
        "--title",
        "Backups go to Wasabi",
    ]);
    a.ok(&["context", "forget", &gone]);
    sync(a);
    sync(b);

    let shown = b.json(&["context", "show", &old]);
    assert_eq!(shown["superseded_by"], serde_json::json!(new));
    assert!(b.json(&["context", "show", &pinned])["pinned_at"].is_string());
    let brief = b.ok(&["context", "brief", "--project", "acme-site"]).stdout;
    assert!(
        brief.contains("Pinned:\n- ") && brief.contains("Change freeze"),
        "{brief}"
    );
    let found = |q: &str| {
        array(&b.json(&["context", "search", q]))
            .iter()
            .any(|h| str_of(h, "id") == edited)
    };
    assert!(found("Wasabi") && !found("Synology"));
    b.msp(&["context", "show", &gone]).expect_code(3);

    // Restored on B, it is current again on A.
    b.ok(&["context", "restore", &old]);
    sync(b);
    sync(a);
    assert!(a.json(&["context", "show", &old])["superseded_by"].is_null());
}
