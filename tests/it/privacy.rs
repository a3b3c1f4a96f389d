//! What msp keeps is its owner's only: the data directory is 0700 and every
//! file in it 0600 whatever the umask, a loosened store is tightened by the
//! next command, and doctor reports what it found. Run as root, the tests
//! also check that another account really cannot read the store.

use crate::common::{self, Env, mode};

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// Runs msp with umask 022, the usual default that made msp.db 0644.
fn msp_umask_022(env: &Env, args: &[&str]) -> common::Out {
    let mut cmd = env.command(args);
    // SAFETY: umask is async-signal-safe and only changes the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let out = cmd.output().expect("run msp");
    common::Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// Every file and directory under `dir` with its mode, for messages.
fn modes_under(dir: &Path) -> Vec<(String, u32, bool)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        out.push((d.display().to_string(), mode(&d), true));
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                todo.push(e.path());
            } else if ft.is_file() {
                out.push((e.path().display().to_string(), mode(&e.path()), false));
            }
        }
    }
    out
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Lets other accounts reach `dir`'s parents (up to the temp directory),
/// so only the data directory's own modes stand in their way.
pub fn open_parents(dir: &Path) {
    let mut p = dir.parent().unwrap().to_path_buf();
    loop {
        let m = mode(&p);
        set_mode(&p, m | 0o055);
        if !p.pop() || p.as_os_str() == "/" || p == std::env::temp_dir() {
            break;
        }
    }
}

/// Whether uid/gid 65534 (nobody) can read `path`: `cat` run as that user.
pub fn nobody_can_read(path: &Path) -> bool {
    let mut cmd = Command::new("cat");
    cmd.arg(path).uid(65534).gid(65534);
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn store_files_are_owner_only_under_umask_022() {
    let env = Env::new();
    msp_umask_022(&env, &["setup"]).expect_code(0);
    msp_umask_022(&env, &["client", "add", "Dataforth"]).expect_code(0);
    msp_umask_022(
        &env,
        &[
            "context",
            "add",
            "--title",
            "gate",
            "--body",
            "the gate code is in the vault",
        ],
    )
    .expect_code(0);
    msp_umask_022(&env, &["vault", "status"]);
    // A hook run writes the log (and a journal for an injected memory).
    let event = serde_json::json!({
        "session_id": "s-perm",
        "transcript_path": env.path("t.jsonl"),
        "cwd": env.root,
        "hook_event_name": "UserPromptSubmit",
        "prompt": "what is the gate code"
    });
    let mut recall = env.command_of::<&str>(common::RECALL, &[]);
    // SAFETY: as above.
    unsafe {
        recall.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    common::run_stdin(recall, &["msp-recall"], event.to_string().as_bytes()).expect_code(0);
    assert!(env.data.join("msp.log").exists());
    let all = modes_under(&env.data);
    assert!(all.len() >= 4, "{all:?}");
    for (path, m, is_dir) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert!(
            *m == want || (!is_dir && m & 0o077 == 0),
            "{path} is {m:o}, want {want:o}"
        );
    }
    assert_eq!(mode(&env.data.join("msp.db")), 0o600);
}

#[test]
fn sqlite_wal_and_shm_take_the_store_file_mode() {
    let env = Env::new();
    msp_umask_022(&env, &["setup"]).expect_code(0);
    // The WAL and shared memory exist while a connection is open (the last
    // one to close removes them): one held open here shows them.
    common::while_holding(&env.db(), "SELECT count(*) FROM clients", || {
        for f in ["msp.db-wal", "msp.db-shm"] {
            let p = env.data.join(f);
            assert!(p.exists(), "{f} missing");
            assert_eq!(mode(&p), 0o600, "{f}");
        }
    });
}

#[test]
fn a_loosened_store_is_tightened_by_the_next_command_and_doctor_reports_it() {
    let env = Env::setup();
    env.ok(&["client", "add", "Dataforth"]);
    let db = env.data.join("msp.db");
    // As an older msp left it (umask 022).
    set_mode(&env.data, 0o755);
    set_mode(&db, 0o644);
    let doctor = env.json(&["doctor"]);
    let check = common::doctor_check(&doctor, "permissions");
    assert_eq!(check["status"], "warn", "{check}");
    let detail = check["detail"].as_str().unwrap();
    assert!(detail.contains("msp.db (644)"), "{detail}");
    assert!(detail.contains("now owner-only"), "{detail}");
    assert_eq!((mode(&env.data), mode(&db)), (0o700, 0o600));
    let again = env.json(&["doctor"]);
    let check = common::doctor_check(&again, "permissions");
    assert_eq!(check["status"], "ok", "{check}");

    // Any other command tightens too.
    set_mode(&env.data, 0o755);
    set_mode(&db, 0o644);
    env.ok(&["client", "list"]);
    assert_eq!((mode(&env.data), mode(&db)), (0o700, 0o600));
}

#[test]
fn another_account_cannot_read_the_store() {
    let env = Env::setup();
    env.ok(&["client", "add", "Dataforth"]);
    let db = env.data.join("msp.db");
    if !is_root() {
        // No second account to try with: the modes are what keeps it out.
        assert_eq!((mode(&env.data), mode(&db)), (0o700, 0o600));
        return;
    }
    // Let the other account reach the data directory's parent, so only the
    // store's own modes stand in its way; a control file shows it can read
    // what is readable.
    open_parents(&env.data);
    let control = env.path("control.txt");
    std::fs::write(&control, "readable").unwrap();
    set_mode(&control, 0o644);
    assert!(
        nobody_can_read(&control),
        "the test cannot run as uid 65534"
    );
    assert!(!nobody_can_read(&db), "another account read msp.db");
    assert!(!nobody_can_read(&env.data.join("msp.log")));
    // Even with a loose file mode the directory keeps it out.
    set_mode(&db, 0o644);
    assert!(
        !nobody_can_read(&db),
        "another account read msp.db through the directory"
    );
}
