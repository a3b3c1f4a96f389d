use std::path::{Path, PathBuf};

use super::runner::{self, Stop};
use super::*;
use crate::ids;
use crate::machine::testing::detected;
use crate::store::testing::temp_store;

/// A store with another machine "other" and this machine "here" (self):
/// (its dir, the store, here, other, the marker file test commands append to).
async fn two_machines() -> (tempfile::TempDir, store::Store, String, String, PathBuf) {
    let (dir, mut s) = temp_store().await;
    let (other, _) = machine::register(s.db(), &detected("other")).await.unwrap();
    let (here, _) = machine::register(s.db(), &detected("here")).await.unwrap();
    let marker = dir.path().join("marker");
    (dir, s, here.id, other.id, marker)
}

fn request(target: &str, marker: &Path) -> ExecRequest {
    // Windows: the same through `--shell cmd` (temp paths have no spaces).
    #[cfg(windows)]
    let (program, args, shell) = (
        "echo".to_string(),
        vec![format!("ran>>{}", marker.display())],
        Some(crate::agent::exec::Shell::Cmd),
    );
    #[cfg(not(windows))]
    let (program, args, shell) = (
        "sh".to_string(),
        vec!["-c".into(), format!("echo ran >> '{}'", marker.display())],
        None,
    );
    ExecRequest {
        target: target.into(),
        program,
        args,
        shell,
        cwd: None,
        timeout: Duration::from_secs(20),
        max_output: 1024,
        expires_in: Duration::from_secs(600),
    }
}

/// Queues the marker command for `target`, which must work.
async fn queue_to(db: &mut Db, dir: &Path, target: &str, marker: &Path) -> CommandRow {
    queue(db, dir, &request(target, marker)).await.unwrap()
}

/// One pass of this machine's agent over what is pending.
async fn run(db: &mut Db, dir: &Path) -> Vec<runner::Outcome> {
    runner::run_pending(db, dir, None, &Stop::never())
        .await
        .unwrap()
}

/// Runs `sql` with `binds` bound in order: states the API never makes.
async fn exec(db: &mut Db, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(db).await.unwrap();
}

fn runs(marker: &Path) -> usize {
    std::fs::read_to_string(marker)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

async fn status(db: &mut Db, id: &str) -> Status {
    show(db, id).await.unwrap().status
}

async fn events(db: &mut Db, id: &str) -> Vec<String> {
    audit_log(db, Some(id))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

#[tokio::test]
async fn a_reused_nonce_under_a_new_id_is_rejected_even_with_a_valid_signature() {
    let (dir, mut s, here, _, marker) = two_machines().await;
    let first = queue_to(s.db(), dir.path(), "self", &marker).await;
    run(s.db(), dir.path()).await;
    assert_eq!(runs(&marker), 1);
    // Whoever holds the key signs a new id with the spent nonce.
    let key = sign::local_key(dir.path()).unwrap();
    let mut copy = first.clone();
    copy.id = ids::new_id();
    let args = copy.args().unwrap();
    copy.signature = sign::sign_command(&key, &copy.fields(&args).unwrap());
    insert_command(s.db(), &copy).await.unwrap();
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, Status::Rejected);
    assert!(
        out[0].reason.as_deref().unwrap().contains("nonce"),
        "{out:?}"
    );
    assert_eq!(runs(&marker), 1, "the replay must not run");
    assert!(
        events(s.db(), &copy.id)
            .await
            .contains(&"verification_failed".to_string())
    );
    assert_eq!(
        machine::self_id(s.db()).await.unwrap().as_deref(),
        Some(here.as_str())
    );
}

#[tokio::test]
async fn a_command_retargeted_in_the_database_is_rejected() {
    let (dir, mut s, here, other, marker) = two_machines().await;
    TeamKey::generate().unwrap().save(dir.path()).unwrap();
    let c = queue_to(s.db(), dir.path(), &other, &marker).await;
    // Addressed to the other machine: this one leaves it alone.
    let out = run(s.db(), dir.path()).await;
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(status(s.db(), &c.id).await, Status::Pending);
    exec(
        s.db(),
        "UPDATE agent_commands SET target_machine_id = ? WHERE id = ?",
        &[&here, &c.id],
    )
    .await;
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Rejected);
    assert_eq!(runs(&marker), 0);
}

#[tokio::test]
async fn a_local_key_signature_counts_only_for_a_machine_sending_itself() {
    let (dir, mut s, here, other, marker) = two_machines().await;
    let c = queue_to(s.db(), dir.path(), "self", &marker).await;
    assert_eq!(c.key_kind, "local");
    // The same command claiming another requester, signed with this machine's local key.
    let key = sign::local_key(dir.path()).unwrap();
    let mut forged = c.clone();
    forged.id = ids::new_id();
    forged.nonce = sign::new_nonce().unwrap();
    forged.requester_machine_id = other.clone();
    let args = forged.args().unwrap();
    forged.signature = sign::sign_command(&key, &forged.fields(&args).unwrap());
    insert_command(s.db(), &forged).await.unwrap();
    let keys = Keys::load(dir.path()).unwrap();
    assert!(command_signature_ok(&keys, &here, &c));
    assert!(!command_signature_ok(&keys, &here, &forged));
    run(s.db(), dir.path()).await;
    assert_eq!(status(s.db(), &c.id).await, Status::Completed);
    assert_eq!(status(s.db(), &forged.id).await, Status::Rejected);
    assert_eq!(runs(&marker), 1);
    // Without a team key, nothing can be sent to another machine.
    let err = queue(s.db(), dir.path(), &request(&other, &marker))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::Locked(_)), "{err}");
}

#[tokio::test]
async fn approvals_must_be_signed_and_come_from_another_machine_than_the_requesters() {
    let (dir, mut s, here, other, marker) = two_machines().await;
    let team = TeamKey::generate().unwrap();
    team.save(dir.path()).unwrap();
    set_approval_required(s.db(), true).await;
    let c = queue_to(s.db(), dir.path(), "self", &marker).await;
    // The requester cannot approve its own command.
    let err = approve(s.db(), dir.path(), &c.id).await.unwrap_err();
    assert!(matches!(err.kind(), Error::Locked(_)), "{err}");
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Pending);
    assert_eq!(runs(&marker), 0);
    // An approval written by hand, claiming the other machine.
    let key = sign::team_signing_key(&team);
    let approval = |id: &str, machine_id: &str, signature: String| ApprovalRow {
        id: id.into(),
        command_id: c.id.clone(),
        machine_id: machine_id.into(),
        approved_by: "tech".into(),
        created_at: 1,
        signature,
    };
    let forged = approval("a1", &other, "00".repeat(32));
    assert!(!approval_is_valid(Some(&key), &c, &forged));
    let mut own = approval("a2", &here, String::new());
    own.signature = sign::sign_approval(&key, &own.fields(&c));
    assert!(
        !approval_is_valid(Some(&key), &c, &own),
        "a signed approval by the requester's machine does not count"
    );
    let mut good = approval("a3", &other, String::new());
    good.signature = sign::sign_approval(&key, &good.fields(&c));
    assert!(approval_is_valid(Some(&key), &c, &good));
    assert!(!approval_is_valid(None, &c, &good));
    for a in [&forged, &own, &good] {
        insert_approval(s.db(), a).await.unwrap();
    }
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Completed, "{out:?}");
    assert_eq!(runs(&marker), 1);
    let ev = events(s.db(), &c.id).await;
    assert_eq!(
        ev.iter().filter(|e| *e == "awaiting_approval").count(),
        1,
        "{ev:?}"
    );
}

/// This machine's own `--approval-required` (or `--no-approval-required`).
async fn set_approval_required(db: &mut Db, on: bool) {
    let update = machine::MachineUpdate {
        approval_required: Some(on),
        ..Default::default()
    };
    machine::update(db, "self", update).await.unwrap();
}

/// Machine `id`'s synced row as another machine (or a sync) wrote it.
async fn set_synced_approval_required(db: &mut Db, id: &str, on: bool) {
    sqlx::query("UPDATE machines SET approval_required = ? WHERE id = ?")
        .bind(on)
        .bind(id)
        .execute(db)
        .await
        .unwrap();
}

async fn synced_approval_required(db: &mut Db, id: &str) -> bool {
    machine::resolve(db, id).await.unwrap().approval_required
}

#[tokio::test]
async fn approval_turned_off_in_the_synced_machine_row_by_another_machine_is_not_honoured() {
    let (dir, mut s, here, _, marker) = two_machines().await;
    TeamKey::generate().unwrap().save(dir.path()).unwrap();
    set_approval_required(s.db(), true).await;
    let c = queue_to(s.db(), dir.path(), "self", &marker).await;
    // What a sync applies when another machine wrote this machine's row
    // without the setting (its `--no-approval-required`, or a rename made
    // from a copy older than the setting).
    set_synced_approval_required(s.db(), &here, false).await;
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Pending, "{out:?}");
    assert_eq!(runs(&marker), 0, "ran without an approval");
    assert!(
        synced_approval_required(s.db(), &here).await,
        "the machine's row gets the setting back"
    );
    // Only this machine turns it off.
    set_approval_required(s.db(), false).await;
    run(s.db(), dir.path()).await;
    assert_eq!(status(s.db(), &c.id).await, Status::Completed);
    assert_eq!(runs(&marker), 1);
}

#[tokio::test]
async fn approval_required_set_from_another_machine_stays_when_a_stale_row_arrives() {
    let (dir, mut s, here, other, marker) = two_machines().await;
    TeamKey::generate().unwrap().save(dir.path()).unwrap();
    // Another machine turned it on for this one (a synced row).
    set_synced_approval_required(s.db(), &here, true).await;
    queue_to(s.db(), dir.path(), "self", &marker).await;
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Pending);
    // Then an older copy of the row wins a sync: the agent still asks.
    set_synced_approval_required(s.db(), &here, false).await;
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Pending, "{out:?}");
    assert_eq!(runs(&marker), 0);
    // And `msp machine update OTHER --no-approval-required` is refused.
    let off = |approval_required| machine::MachineUpdate {
        approval_required: Some(approval_required),
        ..Default::default()
    };
    let err = machine::update(s.db(), &other, off(false))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), Error::Locked(_)), "{err}");
    assert!(err.hint().is_some(), "{err}");
    machine::update(s.db(), &other, off(true)).await.unwrap();
}

#[tokio::test]
async fn a_command_signed_beyond_the_agents_limits_is_rejected_and_not_run() {
    let (dir, mut s, _, _, marker) = two_machines().await;
    let mut huge = request("self", &marker);
    huge.max_output = MAX_OUTPUT + 1;
    let err = queue(s.db(), dir.path(), &huge).await.unwrap_err();
    assert!(matches!(err.kind(), Error::Usage(_)), "{err}");
    // Signed by an msp that did not check: the agent does.
    let c = queue_to(s.db(), dir.path(), "self", &marker).await;
    exec(s.db(), "DELETE FROM agent_commands WHERE id = ?", &[&c.id]).await;
    let key = sign::local_key(dir.path()).unwrap();
    let args = c.args().unwrap();
    for (what, change) in [
        (
            "output cap",
            (|r: &mut CommandRow| r.max_output = 1 << 40) as fn(&mut CommandRow),
        ),
        ("timeout", |r| r.timeout_ms = i64::MAX),
        ("lifetime", |r| r.expires_at = i64::MAX),
    ] {
        let mut r = c.clone();
        r.id = ids::new_id();
        r.nonce = sign::new_nonce().unwrap();
        change(&mut r);
        r.signature = sign::sign_command(&key, &r.fields(&args).unwrap());
        insert_command(s.db(), &r).await.unwrap();
        let out = run(s.db(), dir.path()).await;
        assert_eq!(out[0].status, Status::Rejected, "{what}: {out:?}");
        assert!(out[0].reason.as_deref().unwrap().contains(what), "{out:?}");
        assert!(
            events(s.db(), &r.id)
                .await
                .contains(&"verification_failed".to_string())
        );
    }
    assert_eq!(runs(&marker), 0);
}

#[tokio::test]
async fn a_command_left_running_is_interrupted_and_never_runs_again() {
    let (dir, mut s, here, _, marker) = two_machines().await;
    let c = queue_to(s.db(), dir.path(), "self", &marker).await;
    // What a killed agent leaves behind: ledger and `running`, no result.
    exec(
        s.db(),
        "INSERT INTO agent_ledger (command_id, nonce, at) VALUES (?, ?, 1)",
        &[&c.id, &c.nonce],
    )
    .await;
    exec(
        s.db(),
        "INSERT INTO agent_results (id, machine_id, status, started_at, updated_at) VALUES (?, ?, 'running', 1, 1)",
        &[&c.id, &here],
    )
    .await;
    assert_eq!(
        runner::recover(s.db(), &here).await.unwrap(),
        vec![c.id.clone()]
    );
    assert_eq!(status(s.db(), &c.id).await, Status::Interrupted);
    // Even with its result gone, the ledger keeps it from running.
    exec(s.db(), "DELETE FROM agent_results WHERE id = ?", &[&c.id]).await;
    let out = run(s.db(), dir.path()).await;
    assert_eq!(out[0].status, Status::Rejected);
    assert!(out[0].reason.as_deref().unwrap().contains("replay"));
    assert_eq!(runs(&marker), 0);
}

#[tokio::test]
async fn output_is_redacted_before_it_is_stored() {
    let (dir, mut s, _, _, _) = two_machines().await;
    let req = ExecRequest {
        target: "self".into(),
        program: "echo".into(),
        args: vec![
            "token".into(),
            "ghp_0123456789abcdefghijABCDEFGHIJ012345".into(),
        ],
        // Windows has no echo program: cmd's built-in.
        shell: cfg!(windows).then_some(crate::agent::exec::Shell::Cmd),
        cwd: None,
        timeout: Duration::from_secs(20),
        max_output: 4096,
        expires_in: Duration::from_secs(60),
    };
    let c = queue(s.db(), dir.path(), &req).await.unwrap();
    run(s.db(), dir.path()).await;
    let stored: String = sqlx::query_scalar("SELECT stdout FROM agent_results WHERE id = ?")
        .bind(&c.id)
        .fetch_one(s.db())
        .await
        .unwrap();
    assert!(stored.starts_with("token [REDACTED:"), "{stored}");
    assert!(!stored.contains("ghp_0123456789"), "{stored}");
}

#[test]
fn sizes() {
    assert_eq!(parse_size("1MiB"), Some(1 << 20));
    assert_eq!(parse_size("512KiB"), Some(512 * 1024));
    assert_eq!(parse_size("64k"), Some(64 * 1024));
    assert_eq!(parse_size("10MB"), Some(10_000_000));
    assert_eq!(parse_size("1000"), Some(1000));
    assert_eq!(parse_size("lots"), None);
    assert_eq!(parse_size("5 parsecs"), None);
}
