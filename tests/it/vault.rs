//! The credential vault, end to end through the `msp` binary (and the
//! `msp-save` hook): unlocking, secrets in and out, tampering, the audit
//! chain, `vault run`, and vault values kept out of the memory store.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[cfg(unix)]
use common::s;
use common::{Env, Out, array, str_of};
use rstest::rstest;
use serde_json::{Value, json};

const PASS: &str = "correct horse battery";

/// A set-up env with a client "Dataforth" and a vault (fast Argon2id).
fn venv() -> Env {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_KDF_MEMORY_KIB", "64");
    env.set_var("MSP_VAULT_KDF_ITERATIONS", "1");
    env.ok(&["client", "add", "Dataforth"]);
    with_pass(&env, &["vault", "init"]).expect_code(0);
    env
}

fn with_pass(env: &Env, args: &[&str]) -> Out {
    env.msp_with(&[("MSP_VAULT_PASSPHRASE", PASS)], args)
}

/// Runs msp with `stdin` bytes and extra variables.
fn feed(env: &Env, vars: &[(&str, &str)], args: &[&str], stdin: &[u8]) -> Out {
    let mut cmd = env.command(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    common::run_stdin(cmd, args, stdin)
}

/// [`feed`] with the vault passphrase in the environment.
fn feed_pass(env: &Env, args: &[&str], stdin: &[u8]) -> Out {
    feed(env, &[("MSP_VAULT_PASSPHRASE", PASS)], args, stdin)
}

/// `msp vault set REF FIELD=-` with `value` on stdin.
fn set(env: &Env, reference: &str, field: &str, value: &str) -> Out {
    let spec = format!("{field}=-");
    feed_pass(env, &["vault", "set", reference, &spec], value.as_bytes())
}

fn get(env: &Env, reference: &str) -> Out {
    with_pass(env, &["vault", "get", reference])
}

/// Asserts that `vault get REFERENCE` succeeds and prints `want`.
#[track_caller]
fn assert_get(env: &Env, reference: &str, want: &str) {
    assert_eq!(
        get(env, reference).expect_code(0).stdout,
        want,
        "{reference}"
    );
}

fn audit_actions(env: &Env) -> Vec<String> {
    array(&env.json(&["vault", "audit"]))
        .iter()
        .map(|e| str_of(e, "action").to_string())
        .collect()
}

/// Changes one blob column of the rows matching `filter` with `f`.
fn tamper(env: &Env, table: &str, column: &str, filter: &str, f: impl Fn(&mut Vec<u8>)) {
    common::block_on(async {
        use sqlx::Connection as _;
        let mut c = common::connect(&env.db()).await;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT rowid, {column} FROM {table} WHERE {filter}"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert!(!rows.is_empty(), "nothing matches {filter}");
        for (rowid, mut blob) in rows {
            f(&mut blob);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET {column} = ? WHERE rowid = ?"
            )))
            .bind(blob)
            .bind(rowid)
            .execute(&mut c)
            .await
            .unwrap();
        }
        c.close().await.unwrap();
    });
}

fn count(env: &Env, table: &str) -> i64 {
    env.sql_i64(&format!("SELECT COUNT(*) FROM {table}"))
}

#[test]
fn init_with_the_default_argon2id_parameters_and_no_second_init() {
    // The real defaults once (m = 64 MiB, t = 3, p = 1); the other tests
    // lower them to stay fast.
    let env = Env::setup();
    env.ok(&["client", "add", "Dataforth"]);
    let started = std::time::Instant::now();
    let out = env.msp_with(
        &[("MSP_VAULT_PASSPHRASE", PASS)],
        &["--json", "vault", "init"],
    );
    let v = out.expect_code(0).json();
    eprintln!("init with default Argon2id: {:?}", started.elapsed());
    assert_eq!(
        v["kdf"],
        json!({"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 1})
    );
    let rk = env.data.join("redaction.key");
    assert_eq!(std::fs::metadata(&rk).unwrap().len(), 32);
    common::assert_owner_only(&rk);
    set(&env, "Dataforth/nas", "password", "Nas-Admin-Pw-2026").expect_code(0);
    assert_get(&env, "dataforth/nas", "Nas-Admin-Pw-2026");
    // The stored parameters are the defaults, whatever the settings say now.
    let slow_env_out = env.msp_with(
        &[
            ("MSP_VAULT_PASSPHRASE", PASS),
            ("MSP_VAULT_KDF_MEMORY_KIB", "64"),
        ],
        &["vault", "get", "dataforth/nas"],
    );
    assert_eq!(slow_env_out.expect_code(0).stdout, "Nas-Admin-Pw-2026");

    let again = env.msp_with(
        &[("MSP_VAULT_PASSPHRASE", "another passphrase")],
        &["vault", "init"],
    );
    let again = again.expect_hint(1);
    common::assert_has(&again.stderr, "already has a vault");
    assert_get(&env, "dataforth/nas", "Nas-Admin-Pw-2026");
}

#[test]
fn lifecycle_set_get_list_history_rotate_rm_restore_purge() {
    let env = venv();
    let out = feed_pass(
        &env,
        &[
            "vault",
            "set",
            "Dataforth/sql01",
            "--type",
            "connection_string",
            "--username",
            "sa",
            "--url",
            "mssql://sql01",
            "--notes",
            "prod",
            "password=-",
            "api_key=--generate=32",
        ],
        b"Sql-Pw-0001\n",
    );
    let out = out.expect_code(0);
    assert!(
        out.stdout
            .contains("stored dataforth/sql01: password v1, api_key v1 (generated, 32 characters)"),
        "{}",
        out.stdout
    );
    assert_get(&env, "dataforth/sql01", "Sql-Pw-0001");
    let key = get(&env, "msp://dataforth/sql01/api_key")
        .expect_code(0)
        .stdout;
    assert_eq!(key.len(), 32);
    assert_eq!(
        with_pass(
            &env,
            &["vault", "get", "Dataforth/sql01", "--field", "api_key"]
        )
        .expect_code(0)
        .stdout,
        key
    );

    // JSON get carries every field; list and history never a value.
    let g = with_pass(&env, &["--json", "vault", "get", "dataforth/sql01"])
        .expect_code(0)
        .json();
    assert_eq!(g["fields"]["password"]["value"], "Sql-Pw-0001");
    assert_eq!(g["fields"]["api_key"]["value"], key.as_str());
    assert_eq!(g["username"], "sa");
    let list = env.json(&["vault", "list"]);
    assert_eq!(array(&list).len(), 1);
    assert_eq!(list[0]["type"], "connection_string");
    assert_eq!(list[0]["url"], "mssql://sql01");
    let text = env.ok(&["vault", "list"]).stdout;
    assert!(
        text.contains("dataforth/sql01") && text.contains("api_key v1"),
        "{text}"
    );

    for i in 2..=4 {
        let out = set(
            &env,
            "dataforth/sql01",
            "password",
            &format!("Sql-Pw-000{i}"),
        );
        assert!(
            out.expect_code(0)
                .stdout
                .contains(&format!("password v{i}"))
        );
    }
    let rot = feed_pass(
        &env,
        &["vault", "rotate", "dataforth/sql01", "password=-"],
        b"Sql-Pw-0005",
    );
    assert!(
        rot.expect_code(0)
            .stdout
            .contains("rotated dataforth/sql01: password v5")
    );
    assert_eq!(get(&env, "dataforth/sql01").stdout, "Sql-Pw-0005");
    let h = env.json(&["vault", "history", "dataforth/sql01/password"]);
    let versions: Vec<i64> = array(&h)
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![5, 4, 3, 2, 1]);
    assert_eq!(h[0]["current"], true);
    // The field named in the reference, as `vault set` takes it (rotate
    // required FIELD=SOURCE and refused the reference's field).
    let by_ref = feed_pass(
        &env,
        &["vault", "rotate", "dataforth/sql01/password"],
        b"Sql-Pw-0006",
    );
    common::assert_has(&by_ref.expect_code(0).stdout, "password v6");
    assert_eq!(get(&env, "dataforth/sql01").stdout, "Sql-Pw-0006");
    // Rotating a field that does not exist, or an item that does not: 3.
    feed_pass(
        &env,
        &["vault", "rotate", "dataforth/sql01", "pin=-"],
        b"12345678",
    )
    .expect_hint(3);
    feed_pass(
        &env,
        &["vault", "rotate", "dataforth/none", "password=-"],
        b"12345678",
    )
    .expect_hint(3);

    // Remove, restore, purge.
    with_pass(&env, &["vault", "rm", "dataforth/sql01"]).expect_code(0);
    get(&env, "dataforth/sql01").expect_hint(3);
    assert!(array(&env.json(&["vault", "list"])).is_empty());
    assert_eq!(array(&env.json(&["vault", "list", "--all"])).len(), 1);
    with_pass(&env, &["vault", "restore", "dataforth/sql01"]).expect_code(0);
    assert_eq!(get(&env, "dataforth/sql01").stdout, "Sql-Pw-0006");
    with_pass(&env, &["vault", "rm", "--purge", "dataforth/sql01"]).expect_code(0);
    get(&env, "dataforth/sql01").expect_hint(3);
    assert!(array(&env.json(&["vault", "list", "--all"])).is_empty());
    assert_eq!(count(&env, "vault_values"), 0);
    assert_eq!(count(&env, "vault_redaction"), 0);

    assert_eq!(
        audit_actions(&env),
        [
            "init", "set", "get", "get", "get", "get", "set", "set", "set", "rotate", "get",
            "rotate", "get", "rm", "restore", "get", "purge"
        ]
    );
    let verify = with_pass(&env, &["vault", "audit", "--verify"]).expect_code(0);
    common::assert_has(&verify.stdout, "audit log intact: 17 entries");
}

#[test]
fn versions_are_capped_by_the_setting() {
    let mut env = venv();
    env.set_var("MSP_VAULT_MAX_VERSIONS", "3");
    for i in 1..=6 {
        set(
            &env,
            "dataforth/wifi",
            "password",
            &format!("Wifi-Pass-{i:02}"),
        )
        .expect_code(0);
    }
    let h = env.json(&["vault", "history", "dataforth/wifi"]);
    let versions: Vec<i64> = array(&h)
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![6, 5, 4]);
    assert_eq!(count(&env, "vault_redaction"), 3);
    assert_eq!(get(&env, "dataforth/wifi").stdout, "Wifi-Pass-06");
}

#[test]
fn values_on_the_command_line_are_refused_and_never_echoed() {
    let env = venv();
    for arg in [
        "password=Hunter2-On-Argv",
        "Hunter2-On-Argv",
        "api_key=Hunter2-On-Argv",
    ] {
        let out = with_pass(&env, &["vault", "set", "dataforth/x", arg]).expect_hint(2);
        common::assert_lacks(&out.stderr, "Hunter2");
        common::assert_has(&out.stderr, "FIELD=-");
    }
    assert!(array(&env.json(&["vault", "list", "--all"])).is_empty());
    assert_eq!(audit_actions(&env), ["init"]);
    // Other usage errors: a bad reference, two fields on stdin, a bad type.
    with_pass(&env, &["vault", "set", "dataforth", "password=-"]).expect_hint(2);
    with_pass(&env, &["vault", "set", "dataforth/x", "a=-", "b=-"]).expect_hint(2);
    assert_eq!(
        with_pass(
            &env,
            &[
                "vault",
                "set",
                "dataforth/x",
                "--type",
                "magic",
                "password=-"
            ]
        )
        .code,
        2
    );
    // An unknown client or item is "not found".
    set(&env, "Nobody/x", "password", "Some-Value-123").expect_hint(3);
    get(&env, "dataforth/none").expect_hint(3);
}

#[test]
fn wrong_passphrase_is_exit_4_audited_and_changes_nothing() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let before_values = count(&env, "vault_values");
    let wrong = [("MSP_VAULT_PASSPHRASE", "wrong horse battery")];
    let out = feed(
        &env,
        &wrong,
        &["vault", "set", "dataforth/nas", "password=-"],
        b"Attacker-Pw-2",
    );
    let out = out.expect_hint(4);
    common::assert_has(&out.stderr, "wrong vault passphrase");
    feed(
        &env,
        &wrong,
        &["vault", "set", "dataforth/new", "password=-"],
        b"Attacker-Pw-3",
    )
    .expect_hint(4);
    let out = env
        .msp_with(&wrong, &["vault", "get", "dataforth/nas"])
        .expect_hint(4);
    assert!(out.stdout.is_empty());
    env.msp_with(&wrong, &["vault", "rm", "--purge", "dataforth/nas"])
        .expect_hint(4);
    env.msp_with(&wrong, &["vault", "passwd"]).expect_hint(4);
    assert_eq!(count(&env, "vault_values"), before_values);
    assert_eq!(count(&env, "vault_credentials"), 1);
    assert_get(&env, "dataforth/nas", "Nas-Admin-Pw-1");
    let entries = env.json(&["vault", "audit"]);
    let failed: Vec<&Value> = array(&entries)
        .iter()
        .filter(|e| e["action"] == "unlock-failed")
        .collect();
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[0]["os_user"], "tech");
    assert_eq!(failed[0]["keyed"], "none");
    assert!(failed[0]["machine_id"].is_string());
    // The failed attempts are sealed into the chain by the next keyed entry.
    let v = with_pass(&env, &["--json", "vault", "audit", "--verify"])
        .expect_code(0)
        .json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["unsealed_tail"], 0);
}

#[test]
fn no_key_source_without_a_terminal_is_exit_4_with_a_hint() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let out = env.msp(&["vault", "get", "dataforth/nas"]).expect_hint(4);
    common::assert_has(&out.stderr, "MSP_VAULT_PASSPHRASE");
    assert!(out.stdout.is_empty());
    // No vault at all: 3, with the command that creates one.
    let bare = Env::setup();
    let out = bare.msp(&["vault", "get", "x/y"]).expect_hint(3);
    common::assert_has(&out.stderr, "msp vault init");
    bare.msp(&["vault", "init"]).expect_hint(4);
}

#[test]
fn a_key_file_unlocks_from_the_environment_or_the_config() {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_KDF_MEMORY_KIB", "64");
    env.set_var("MSP_VAULT_KDF_ITERATIONS", "1");
    env.ok(&["client", "add", "Dataforth"]);
    let kf = env.path("secrets/vault.key");
    let kfs = kf.to_str().unwrap();
    let out = with_pass(&env, &["vault", "init", "--key-file", kfs]).expect_code(0);
    common::assert_has(&out.stdout, kfs);
    common::assert_owner_only(&kf);
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let by_file = env.msp_with(
        &[("MSP_VAULT_KEY_FILE", kfs)],
        &["vault", "get", "dataforth/nas"],
    );
    assert_eq!(by_file.expect_code(0).stdout, "Nas-Admin-Pw-1");
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(
        env.config.join("config.toml"),
        format!("[vault]\nkey_file = {kfs:?}\n"),
    )
    .unwrap();
    assert_eq!(
        env.msp(&["vault", "get", "dataforth/nas"])
            .expect_code(0)
            .stdout,
        "Nas-Admin-Pw-1"
    );
    let audit = env.json(&["vault", "audit", "dataforth/nas"]);
    assert!(str_of(&array(&audit)[2], "detail").contains("password v1"));
    // The log is per credential: a field was ignored, now it is refused.
    let per_field = env
        .msp(&["vault", "audit", "dataforth/nas/password"])
        .expect_hint(2);
    common::assert_has(&per_field.stderr, "give dataforth/nas");
    // A field the credential does not have: not found, as for `vault get`.
    let nofield = env
        .msp(&["vault", "history", "dataforth/nas/nofield"])
        .expect_hint(3);
    common::assert_has(
        &nofield.stderr,
        "`msp vault history dataforth/nas` lists its fields",
    );
    // A client that does not exist and never did: said so, not an empty list.
    let nobody = env.msp(&["vault", "audit", "zanzibar/nas"]).expect_hint(3);
    common::assert_has(
        &nobody.stderr,
        "no such client, and no audit entries for zanzibar/nas",
    );
    // A key file for another vault, or a missing one: 4.
    std::fs::remove_file(env.config.join("config.toml")).unwrap();
    let other = env.path("other.key");
    let text = std::fs::read_to_string(&kf).unwrap();
    std::fs::write(&other, text.replace("vault=", "vault=0")).unwrap();
    env.msp_with(
        &[("MSP_VAULT_KEY_FILE", other.to_str().unwrap())],
        &["vault", "get", "dataforth/nas"],
    )
    .expect_hint(4);
    env.msp_with(
        &[("MSP_VAULT_KEY_FILE", "/nonexistent/key")],
        &["vault", "get", "dataforth/nas"],
    )
    .expect_hint(4);
    // passwd: the old passphrase stops working, the key file keeps working.
    env.msp_with(
        &[
            ("MSP_VAULT_PASSPHRASE", PASS),
            ("MSP_VAULT_NEW_PASSPHRASE", "a brand new passphrase"),
        ],
        &["vault", "passwd"],
    )
    .expect_code(0);
    get(&env, "dataforth/nas").expect_hint(4);
    let new = env.msp_with(
        &[("MSP_VAULT_PASSPHRASE", "a brand new passphrase")],
        &["vault", "get", "dataforth/nas"],
    );
    assert_eq!(new.expect_code(0).stdout, "Nas-Admin-Pw-1");
    let by_file = env.msp_with(
        &[("MSP_VAULT_KEY_FILE", kfs)],
        &["vault", "get", "dataforth/nas"],
    );
    assert_eq!(by_file.expect_code(0).stdout, "Nas-Admin-Pw-1");
    // init never overwrites a key file.
    let other_env = Env::setup();
    other_env
        .msp_with(
            &[
                ("MSP_VAULT_PASSPHRASE", PASS),
                ("MSP_VAULT_KDF_MEMORY_KIB", "64"),
            ],
            &["vault", "init", "--key-file", kfs],
        )
        .expect_hint(1);
    assert_eq!(std::fs::read_to_string(&kf).unwrap(), text);
}

/// A vault with two credentials of two fields each, for tampering.
fn tamper_env() -> Env {
    let env = venv();
    for item in ["a", "b"] {
        let out = feed_pass(
            &env,
            &[
                "vault",
                "set",
                &format!("dataforth/{item}"),
                "password=-",
                "pin=--generate=12",
            ],
            format!("Secret-Of-{item}-123").as_bytes(),
        );
        out.expect_code(0);
    }
    env
}

#[track_caller]
fn assert_integrity_error(env: &Env, reference: &str, case: &str) {
    let out = get(env, reference);
    assert_eq!(
        out.code, 1,
        "{case}: exit {} stdout {:?} stderr {}",
        out.code, out.stdout, out.stderr
    );
    assert!(out.stdout.is_empty(), "{case}: printed {:?}", out.stdout);
    assert!(
        out.stderr.contains("integrity check failed"),
        "{case}: {}",
        out.stderr
    );
    assert!(
        out.stderr.lines().any(|l| l.starts_with("hint: ")),
        "{case}: {}",
        out.stderr
    );
    let last = array(&env.json(&["vault", "audit", "--limit", "1"]))[0].clone();
    assert_eq!(last["detail"], "FAILED: integrity check", "{case}");
}

#[test]
fn any_changed_ciphertext_nonce_tag_or_row_is_an_integrity_error() {
    let password_of_a = "field = 'password' AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'a')";
    type Case = (&'static str, Box<dyn Fn(&Env)>);
    let cases: Vec<Case> = vec![
        (
            "a flipped bit in the ciphertext",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "ciphertext", password_of_a, |b| {
                    b[0] ^= 0x01
                })
            }),
        ),
        (
            "a flipped bit in the nonce",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "nonce", password_of_a, |b| b[11] ^= 0x80)
            }),
        ),
        (
            "a flipped bit in the tag",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "ciphertext", password_of_a, |b| {
                    let n = b.len();
                    b[n - 1] ^= 0x10
                })
            }),
        ),
        (
            "a truncated ciphertext",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "ciphertext", password_of_a, |b| {
                    b.truncate(b.len() - 3)
                })
            }),
        ),
        (
            "a ciphertext truncated below the tag",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "ciphertext", password_of_a, |b| {
                    b.truncate(5)
                })
            }),
        ),
        (
            "a truncated nonce",
            Box::new(move |e: &Env| {
                tamper(e, "vault_values", "nonce", password_of_a, |b| b.truncate(6))
            }),
        ),
        (
            "the ciphertext of another record",
            Box::new(|e: &Env| {
                e.sql("UPDATE vault_values SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM vault_values w
                    WHERE w.field = 'password' AND w.credential_id = (SELECT id FROM vault_credentials WHERE name = 'b'))
                    WHERE field = 'password' AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'a')")
            }),
        ),
        (
            "the ciphertext of another field",
            Box::new(|e: &Env| {
                e.sql("UPDATE vault_values SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM vault_values w
                    WHERE w.field = 'pin' AND w.credential_id = vault_values.credential_id)
                    WHERE field = 'password' AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'a')")
            }),
        ),
        (
            "a whole value row moved to another record",
            Box::new(|e: &Env| {
                e.sql("DELETE FROM vault_values WHERE field = 'password' AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'a');
                    INSERT INTO vault_values (credential_id, field, version, nonce, ciphertext, created_at, machine_id)
                    SELECT (SELECT id FROM vault_credentials WHERE name = 'a'), field, version, nonce, ciphertext, created_at, machine_id
                    FROM vault_values WHERE field = 'password' AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'b')")
            }),
        ),
        (
            "a record with its username changed",
            Box::new(|e: &Env| {
                e.sql("UPDATE vault_credentials SET username = 'eve' WHERE name = 'a'")
            }),
        ),
        (
            "a record's MAC truncated",
            Box::new(move |e: &Env| {
                tamper(e, "vault_credentials", "mac", "name = 'a'", |b| {
                    b.truncate(16)
                })
            }),
        ),
    ];
    for (case, apply) in cases {
        let env = tamper_env();
        apply(&env);
        assert_integrity_error(&env, "dataforth/a/password", case);
        // The untouched record still opens.
        assert_eq!(
            get(&env, "dataforth/b").expect_code(0).stdout,
            "Secret-Of-b-123",
            "{case}"
        );
    }
}

/// A vault whose audit chain holds init, set, get, a failed unlock, set and
/// get, and verifies.
fn audited_env() -> Env {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    get(&env, "dataforth/nas").expect_code(0);
    env.msp_with(
        &[("MSP_VAULT_PASSPHRASE", "wrong horse battery")],
        &["vault", "get", "dataforth/nas"],
    )
    .expect_code(4);
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-2").expect_code(0);
    get(&env, "dataforth/nas").expect_code(0);
    // init, set, get, unlock-failed, set, get
    assert_eq!(audit_actions(&env).len(), 6);
    with_pass(&env, &["vault", "audit", "--verify"]).expect_code(0);
    env
}

/// `vault audit --verify --json` on a tampered store: exit 1 and a report
/// that is not ok, returned.
#[track_caller]
fn failed_verify_report(env: &Env) -> Value {
    let v = with_pass(env, &["--json", "vault", "audit", "--verify"]);
    assert_eq!(v.code, 1, "{v:?}");
    let v: Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(v["ok"], false, "{v}");
    v
}

#[rstest]
#[case::an_edited_action("UPDATE vault_audit SET action = 'list' WHERE seq = 3")]
#[case::an_edited_time("UPDATE vault_audit SET at = at - 86400000 WHERE seq = 5")]
#[case::an_edited_user("UPDATE vault_audit SET os_user = 'someone' WHERE seq = 2")]
#[case::an_edited_failed_unlock("UPDATE vault_audit SET detail = 'nothing' WHERE seq = 4")]
#[case::a_deleted_entry("DELETE FROM vault_audit WHERE seq = 3")]
#[case::a_deleted_failed_unlock_renumbered(
    "DELETE FROM vault_audit WHERE seq = 4; UPDATE vault_audit SET seq = seq - 1 WHERE seq > 4"
)]
#[case::two_entries_swapped(
    "UPDATE vault_audit SET seq = 100 WHERE seq = 3; UPDATE vault_audit SET seq = 3 WHERE seq = 5; UPDATE vault_audit SET seq = 5 WHERE seq = 100"
)]
#[case::the_newest_entry_deleted("DELETE FROM vault_audit WHERE seq = 6")]
#[case::the_newest_two_deleted("DELETE FROM vault_audit WHERE seq >= 5")]
#[case::the_newest_deleted_and_the_head_moved_back(
    "DELETE FROM vault_audit WHERE seq = 6; UPDATE vault_audit_head SET vault_seq = 5, last_seq = 5"
)]
#[case::the_head_deleted("DELETE FROM vault_audit_head")]
fn audit_verify_detects_edited_reordered_deleted_and_truncated_entries(#[case] stmt: &str) {
    let env = audited_env();
    env.sql(stmt);
    let out = with_pass(&env, &["vault", "audit", "--verify"]).expect_hint(1);
    common::assert_has(&out.stderr, "tampered");
    let v = failed_verify_report(&env);
    assert!(!array(&v["problems"]).is_empty(), "{v}");
}

/// A consistent copy of the store as it is now (an attacker's "older copy").
fn snapshot(env: &Env, name: &str) -> std::path::PathBuf {
    let to = env.path(name);
    env.sql(&format!("VACUUM INTO '{}'", to.display()));
    to
}

#[test]
fn one_credential_rolled_back_with_its_old_mac_is_an_integrity_error() {
    let env = tamper_env();
    let old = snapshot(&env, "older.db");
    set(&env, "dataforth/a", "password", "Newer-Secret-Of-a").expect_code(0);
    // The older row's MAC and time, and the newest version gone: the row
    // is consistent with itself again, one version behind.
    env.sql(&format!(
        "ATTACH DATABASE '{}' AS old;
         UPDATE vault_credentials SET (mac, updated_at) =
             (SELECT mac, updated_at FROM old.vault_credentials o WHERE o.id = vault_credentials.id)
             WHERE name = 'a';
         DELETE FROM vault_values WHERE field = 'password' AND version = 2
             AND credential_id = (SELECT id FROM vault_credentials WHERE name = 'a');
         DETACH DATABASE old;",
        old.display()
    ));
    let out = get(&env, "dataforth/a/password");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "printed {:?}", out.stdout);
    common::assert_has(&out.stderr, "rolled back");
    common::assert_has(&out.stderr, "dataforth/a/password");
    // Writing on top of it is refused too.
    set(&env, "dataforth/a", "pin", "1234-5678-90").expect_hint(1);
    let v = failed_verify_report(&env);
    assert!(
        v["problems"]
            .to_string()
            .contains("dataforth/a/password was rolled back"),
        "{v}"
    );
    // The untouched credential still opens.
    assert_get(&env, "dataforth/b", "Secret-Of-b-123");
}

#[test]
fn an_audit_log_rolled_back_to_an_older_head_is_reported() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let old = snapshot(&env, "older.db");
    get(&env, "dataforth/nas").expect_code(0);
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-2").expect_code(0);
    common::assert_owner_only(&env.data.join("vault.seal"));
    // The head from the older copy, the entries after it deleted: a chain
    // that verifies on its own.
    env.sql(&format!(
        "ATTACH DATABASE '{}' AS old;
             DELETE FROM vault_audit WHERE seq > (SELECT MAX(seq) FROM old.vault_audit);
             UPDATE vault_audit_head SET (vault_seq, vault_tag, last_seq) =
                 (SELECT vault_seq, vault_tag, last_seq FROM old.vault_audit_head);
             DETACH DATABASE old;",
        old.display()
    ));
    let out = with_pass(&env, &["vault", "audit", "--verify"]).expect_hint(1);
    common::assert_has(&out.stderr, "rolled back");
    common::assert_has(&out.stderr, "vault.seal");
    failed_verify_report(&env);
    // The vault stays locked for every other use.
    let out = get(&env, "dataforth/nas").expect_hint(1);
    assert!(out.stdout.is_empty());
    common::assert_has(&out.stderr, "rolled back");
    // Nothing moved the seal onto the rolled-back store.
    with_pass(&env, &["vault", "audit", "--verify"]).expect_code(1);
    // A restore made on purpose is accepted explicitly.
    with_pass(&env, &["vault", "audit", "--verify", "--reseal"]).expect_code(0);
    with_pass(&env, &["vault", "audit", "--verify"]).expect_code(0);
    assert_get(&env, "dataforth/nas", "Nas-Admin-Pw-2");
}

#[test]
fn a_deleted_or_edited_seal_is_reported() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let seal = env.data.join("vault.seal");
    let text = std::fs::read_to_string(&seal).unwrap();
    std::fs::write(&seal, text.replace("seq=", "seq=1")).unwrap();
    let out = with_pass(&env, &["vault", "audit", "--verify"]).expect_hint(1);
    common::assert_has(&out.stderr, "was changed");
    std::fs::remove_file(&seal).unwrap();
    let out = get(&env, "dataforth/nas").expect_hint(1);
    common::assert_has(&out.stderr, "is missing");
    with_pass(&env, &["vault", "audit", "--verify", "--reseal"]).expect_code(0);
    get(&env, "dataforth/nas").expect_code(0);
}

#[test]
fn secrets_appear_only_in_get() {
    let env = venv();
    let secret = "Only-In-Get-7731";
    let out = set(&env, "dataforth/fw01", "password", secret).expect_code(0);
    let mut outputs = vec![out.stdout, out.stderr];
    for args in [
        vec!["vault", "list"],
        vec!["--json", "vault", "list", "--all"],
        vec!["vault", "history", "dataforth/fw01"],
        vec!["--json", "vault", "history", "dataforth/fw01"],
        vec!["vault", "audit"],
        vec!["--json", "vault", "audit", "dataforth/fw01"],
        vec!["--json", "vault", "rm", "dataforth/fw01"],
        vec!["--json", "vault", "restore", "dataforth/fw01"],
        vec!["config", "show"],
    ] {
        let o = with_pass(&env, &args).expect_code(0);
        outputs.push(o.stdout);
        outputs.push(o.stderr);
    }
    for o in &outputs {
        assert!(!o.contains(secret), "leaked: {o}");
    }
    assert_eq!(get(&env, "dataforth/fw01").stdout, secret);
    let j = with_pass(
        &env,
        &["--json", "vault", "get", "msp://dataforth/fw01/password"],
    )
    .expect_code(0)
    .json();
    assert_eq!(j["fields"]["password"]["value"], secret);
    // Nor in the store's files in clear.
    for file in ["msp.db", "msp.db-wal"] {
        let bytes = std::fs::read(env.data.join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{file}"
        );
    }
    assert!(
        !std::fs::read_to_string(env.data.join("msp.log"))
            .unwrap_or_default()
            .contains(secret)
    );
}

#[test]
fn vault_run_masks_secrets_in_the_output_and_passes_the_exit_code() {
    let env = venv();
    set(&env, "dataforth/db", "password", "Db-Run-Secret-4242").expect_code(0);
    set(&env, "dataforth/api", "token", "Api-Token-9d8c7b6a").expect_code(0);
    let script = r#"echo "db=$DB_PASS api=$API"; echo "err $DB_PASS" >&2
printf '%s' "${DB_PASS%??????}"; sleep 0.2; printf '%s\n' "${DB_PASS#"${DB_PASS%??????}"}"
test -z "$MSP_VAULT_PASSPHRASE" || echo "passphrase leaked"
exit 7"#;
    let out = with_pass(
        &env,
        &[
            "vault",
            "run",
            "--env",
            "DB_PASS=msp://dataforth/db/password",
            "--env",
            "API=dataforth/api",
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(out.code, 7, "{out:?}");
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("Db-Run-Secret") && !text.contains("4242"),
            "{text}"
        );
        assert!(!text.contains("Api-Token"), "{text}");
    }
    assert_eq!(
        out.stdout,
        "db=[REDACTED:known-secret] api=[REDACTED:known-secret]\n[REDACTED:known-secret]\n"
    );
    assert_eq!(out.stderr, "err [REDACTED:known-secret]\n");
    let ok = with_pass(
        &env,
        &[
            "vault",
            "run",
            "--env",
            "X=dataforth/db",
            "--",
            "sh",
            "-c",
            "test \"$X\" = Db-Run-Secret-4242",
        ],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    let audit = env.json(&["vault", "audit"]);
    let runs: Vec<&Value> = array(&audit)
        .iter()
        .filter(|e| e["action"] == "run")
        .collect();
    assert_eq!(runs.len(), 3);
    assert!(
        str_of(runs[0], "detail").contains("env DB_PASS for sh"),
        "{audit}"
    );
    // Usage: a bad variable name, an unknown reference, no command.
    with_pass(
        &env,
        &["vault", "run", "--env", "1X=dataforth/db", "--", "true"],
    )
    .expect_hint(2);
    with_pass(
        &env,
        &["vault", "run", "--env", "X=dataforth/nope", "--", "true"],
    )
    .expect_hint(3);
    assert_eq!(
        with_pass(&env, &["vault", "run", "--env", "X=dataforth/db"]).code,
        2
    );
}

#[test]
fn a_reference_by_a_clients_former_name_reads_and_writes_the_same_credential() {
    let env = venv();
    set(&env, "msp://dataforth/sql01", "password", "Before-Rename-1").expect_code(0);
    env.ok(&["client", "rename", "dataforth", "Dataforth Systems"]);
    // Scripts written before the rename keep working.
    assert_get(&env, "msp://dataforth/sql01/password", "Before-Rename-1");
    set(&env, "dataforth/sql01", "password", "After-Rename-2").expect_code(0);
    assert_get(&env, "dataforth-systems/sql01", "After-Rename-2");
    let list = env.json(&["vault", "list"]);
    assert_eq!(array(&list).len(), 1, "one credential, not two: {list}");
}

/// A Claude Code transcript with the vault value in odd places.
#[test]
fn a_vault_run_child_cannot_unlock_the_rest_of_the_vault() {
    let mut env = Env::setup();
    env.set_var("MSP_VAULT_KDF_MEMORY_KIB", "64");
    env.set_var("MSP_VAULT_KDF_ITERATIONS", "1");
    env.ok(&["client", "add", "Acme"]);
    let kf = env.path("secrets/vault.key");
    let kfs = kf.to_str().unwrap().to_string();
    with_pass(&env, &["vault", "init", "--key-file", &kfs]).expect_code(0);
    set(&env, "acme/a", "password", "Given-To-The-Child-1").expect_code(0);
    set(&env, "acme/other", "password", "Never-For-The-Child-2").expect_code(0);
    // The child's own msp must not fall back to the real user's data dir.
    // (Root reads any process's environment: the /proc check needs a user.)
    env.set_var("XDG_DATA_HOME", env.path("xdg-data"));
    env.set_var("XDG_CONFIG_HOME", env.path("xdg-config"));
    let script = format!(
        "{msp} vault get acme/other; echo \"passphrase=$MSP_VAULT_PASSPHRASE\"; \
         [ \"$(id -u)\" = 0 ] || tr '\\0' '\\n' < /proc/$PPID/environ 2>/dev/null | grep ^MSP_ || true",
        msp = common::MSP
    );
    for vars in [
        vec![("MSP_VAULT_PASSPHRASE", PASS)],
        vec![("MSP_VAULT_KEY_FILE", kfs.as_str())],
    ] {
        let out = env.msp_with(
            &vars,
            &[
                "vault",
                "run",
                "--env",
                "PW=msp://acme/a/password",
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains("Never-For-The-Child"), "{vars:?}: {text}");
            assert!(!text.contains(PASS), "{vars:?}: {text}");
            assert!(!text.contains("vault.key"), "{vars:?}: {text}");
            assert!(!text.contains("MSP_DATA_DIR"), "{vars:?}: {text}");
        }
        assert!(out.stdout.contains("passphrase=\n"), "{vars:?}: {out:?}");
    }
}

fn transcript(path: &Path, session: &str, cwd: &str, secret: &str, tag: u32) {
    let mut n = 0;
    let mut lines = Vec::new();
    let mut line = |kind: &str, message: Value, extra: Option<(&str, Value)>| {
        n += 1;
        let mut v = json!({
            "parentUuid": null, "isSidechain": false, "userType": "external", "cwd": cwd,
            "sessionId": session, "version": "2.1.12", "gitBranch": "main", "type": kind,
            "uuid": format!("{tag:08x}-0000-4000-8000-{n:012}"),
            "timestamp": format!("2026-03-01T10:00:{n:02}.000Z"), "message": message,
        });
        if let Some((k, x)) = extra {
            v[k] = x;
        }
        lines.push(v.to_string());
    };
    line(
        "user",
        json!({"role": "user", "content": format!("The new FortiGate admin password is {secret} so please update the backup script for FW01")}),
        None,
    );
    line(
        "assistant",
        json!({"role": "assistant", "model": "claude-opus-4-6", "id": format!("msg_{tag}1"), "type": "message",
               "content": [{"type": "tool_use", "id": format!("toolu_{tag}1"), "name": "Bash",
                            "input": {"command": format!("./fortigate-backup.sh --host fw01 --user admin {secret}"), "description": "Run backup"}}]}),
        None,
    );
    let output = format!(
        "{{\"host\":\"fw01\",\"auth\":{{\"user\":\"admin\",\"secret\":\"{secret}\"}},\"status\":\"ok\"}}\nconfig saved"
    );
    line(
        "user",
        json!({"role": "user", "content": [{"tool_use_id": format!("toolu_{tag}1"), "type": "tool_result", "content": output, "is_error": false}]}),
        Some((
            "toolUseResult",
            json!({"stdout": output, "stderr": "", "interrupted": false, "isImage": false}),
        )),
    );
    line(
        "assistant",
        json!({"role": "assistant", "model": "claude-opus-4-6", "id": format!("msg_{tag}2"), "type": "message",
               "content": [{"type": "text", "text": format!("Done: the FortiGate backup for FW01 now logs in as admin ({secret}) and the config was saved.")}]}),
        None,
    );
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Everything a person or Claude could read back from the memory store.
fn memory_views(env: &Env) -> Vec<String> {
    let list = env.json(&["context", "list", "--limit", "0"]);
    let mut views = vec![list.to_string()];
    for m in array(&list) {
        let id = str_of(m, "id");
        views.push(env.ok(&["context", "show", id, "--source"]).stdout);
        views.push(env.json(&["context", "show", id]).to_string());
    }
    for q in ["FortiGate backup admin", "fw01 config saved", "password"] {
        views.push(env.json(&["context", "search", q]).to_string());
    }
    views.push(
        env.ok(&[
            "context",
            "recall",
            "--prompt",
            "FortiGate backup password for FW01",
        ])
        .stdout,
    );
    views
}

#[test]
fn vault_values_never_reach_the_memory_store_via_import_or_the_save_hook() {
    let env = venv();
    // Shaped so the built-in rules alone would not catch every occurrence.
    let secret = "Fg7-Adm1n_Pw2026";
    set(&env, "dataforth/fw01", "password", secret).expect_code(0);
    let cwd = env.dir("work/fw");
    let cwd = cwd.to_str().unwrap();

    // Without the vault's MACs the value would be stored: the control.
    let control = Env::setup();
    let tx = control.path("control.jsonl");
    transcript(&tx, "11111111-1111-4111-8111-111111111111", cwd, secret, 1);
    control.ok(&["context", "import", tx.to_str().unwrap()]);
    assert!(
        memory_views(&control).iter().any(|v| v.contains(secret)),
        "control: the built-in rules alone already hide the value, so this test proves nothing"
    );

    // `msp context import`.
    let tx = env.path("import.jsonl");
    transcript(&tx, "22222222-2222-4222-8222-222222222222", cwd, secret, 2);
    let imported = env.json(&["context", "import", tx.to_str().unwrap()]);
    assert!(
        imported["memories_added"].as_u64().unwrap() >= 1,
        "{imported}"
    );

    // `msp context add` with the value in the body.
    env.remember(
        "FW01 login",
        &format!("admin / {secret} (rotated today)"),
        &[],
    );

    // The save hook on another transcript.
    let tx2 = env.path("hook.jsonl");
    let session = "33333333-3333-4333-8333-333333333333";
    transcript(&tx2, session, cwd, secret, 3);
    let input = json!({"hook_event_name": "Stop", "session_id": session, "transcript_path": tx2, "cwd": cwd});
    env.hook(common::SAVE, &[], &input);
    let log = std::fs::read_to_string(env.data.join("msp.log")).unwrap();
    assert!(log.contains("memories saved"), "{log}");
    assert!(!log.contains("not redacted"), "{log}");

    let all = env.json(&["context", "list", "--limit", "0"]);
    let sessions: Vec<&str> = array(&all)
        .iter()
        .filter_map(|m| m["claude_session_id"].as_str())
        .collect();
    assert!(sessions.contains(&session), "the hook saved nothing: {all}");
    let views = memory_views(&env);
    for v in &views {
        assert!(
            !v.contains(secret),
            "a vault value reached the memory store:\n{v}"
        );
    }
    let placeholders: usize = views
        .iter()
        .map(|v| v.matches("[REDACTED:known-secret]").count())
        .sum();
    assert!(
        placeholders >= 6,
        "expected known-secret placeholders, got {placeholders}:\n{}",
        views.join("\n")
    );
    // Nor the store's bytes (the hook leaves its WAL behind).
    for file in ["msp.db", "msp.db-wal", "msp.log"] {
        if let Ok(bytes) = std::fs::read(env.data.join(file)) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{file} holds the value"
            );
        }
    }
}

#[test]
fn a_missing_redaction_key_never_fails_a_capture_and_is_rebuilt_by_the_next_set() {
    let env = venv();
    set(&env, "dataforth/fw01", "password", "Fg7-Adm1n_Pw2026").expect_code(0);
    std::fs::remove_file(env.data.join("redaction.key")).unwrap();
    let tx = env.path("t.jsonl");
    transcript(
        &tx,
        "44444444-4444-4444-8444-444444444444",
        "/tmp",
        "harmless-text-1",
        4,
    );
    env.ok(&["context", "import", tx.to_str().unwrap()]);
    // The next write creates a new key and rebuilds every MAC under it.
    set(&env, "dataforth/other", "password", "Other-Secret-55").expect_code(0);
    assert!(env.data.join("redaction.key").exists());
    env.remember("t", "old one Fg7-Adm1n_Pw2026 and new Other-Secret-55", &[]);
    let list = env.json(&["context", "list"]).to_string();
    assert!(
        !list.contains("Fg7-Adm1n") && !list.contains("Other-Secret"),
        "{list}"
    );
}

/// Runs `msp ARGS` on a pseudo-terminal (util-linux `script`), typing each
/// answer once its prompt has appeared. Returns the exit code and everything
/// the terminal showed.
fn on_terminal(env: &Env, args: &[&str], answers: &[(&str, &str)]) -> (i32, String) {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    let cmdline = std::iter::once(common::MSP)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &cmdline, "/dev/null"]);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("MSP_") {
            cmd.env_remove(&k);
        }
    }
    let mut child = cmd
        .env("HOME", &env.home)
        .env("USER", "tech")
        .env("MSP_DATA_DIR", &env.data)
        .env("MSP_CONFIG_DIR", &env.config)
        .env("MSP_VAULT_KDF_MEMORY_KIB", "64")
        .env("MSP_VAULT_KDF_ITERATIONS", "1")
        .env("TZ", "UTC")
        .current_dir(&env.root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs msp on a pseudo-terminal");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&seen);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut from = 0;
    for (prompt, answer) in answers {
        let started = std::time::Instant::now();
        loop {
            let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
            if let Some(i) = text.get(from..).and_then(|t| t.find(prompt)) {
                from += i + prompt.len();
                break;
            }
            if started.elapsed() > std::time::Duration::from_secs(30) {
                let _ = child.kill();
                panic!(
                    "`msp {}` never asked {prompt:?}; the terminal shows:\n{text}",
                    args.join(" ")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    (status.code().unwrap_or(-1), text)
}

#[test]
fn on_a_terminal_passphrases_and_values_are_asked_for_without_echo() {
    let env = Env::setup();
    env.ok(&["client", "add", "Acme"]);
    let pass = "Terminal Pass Phrase";
    let twice = [
        ("new vault passphrase: ", pass),
        ("new vault passphrase (again): ", pass),
    ];
    let (code, text) = on_terminal(&env, &["vault", "init"], &twice);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("vault          created"), "{text}");
    assert!(!text.contains(pass), "the passphrase was echoed:\n{text}");

    let value = "Typed-Value-0042";
    let (code, text) = on_terminal(
        &env,
        &["vault", "set", "acme/router"],
        &[
            ("value for password: ", value),
            ("value for password (again): ", value),
            ("vault passphrase: ", pass),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("stored acme/router: password v1"), "{text}");
    assert!(
        !text.contains(value) && !text.contains(pass),
        "echoed:\n{text}"
    );

    // Two different entries change nothing.
    let (code, text) = on_terminal(
        &env,
        &["vault", "set", "acme/router"],
        &[
            ("value for password: ", "Typed-Value-0043"),
            ("value for password (again): ", "Typed-Value-0044"),
        ],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("differ"), "{text}");

    let (code, text) = on_terminal(
        &env,
        &["vault", "get", "acme/router"],
        &[("vault passphrase: ", pass)],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("{value}\r\n")),
        "the value and a line break:\n{text}"
    );
    let (code, text) = on_terminal(
        &env,
        &["vault", "get", "acme/router"],
        &[("vault passphrase: ", "not the passphrase")],
    );
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("wrong vault passphrase"), "{text}");
}

#[cfg(unix)]
#[test]
fn fifo_key_file_is_an_error_not_a_hang() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let fifo = env.path("vault.key");
    common::mkfifo(&fifo);
    // Nothing writes to the FIFO: an open that waits for a writer hangs.
    let out = env
        .msp_within(
            &[("MSP_VAULT_KEY_FILE", s(&fifo))],
            &["vault", "get", "dataforth/nas"],
            std::time::Duration::from_secs(10),
        )
        .expect_hint(4);
    common::assert_has(&out.stderr, "a FIFO");
    common::assert_lacks(&out.stdout, "Nas-Admin");
}

/// Without a terminal the locked-vault hint said to point MSP_VAULT_KEY_FILE
/// at "the key file from `msp vault init --key-file`", which an existing
/// vault refuses: there was no way to make a key file after init.
#[test]
fn a_key_file_can_be_made_for_an_existing_vault() {
    let env = venv();
    set(&env, "dataforth/nas", "password", "Nas-Admin-Pw-1").expect_code(0);
    let locked = env.msp(&["vault", "get", "dataforth/nas"]).expect_hint(4);
    common::assert_has(&locked.stderr, "`msp vault key-file PATH` writes one");
    let kf = env.path("hooks.key");
    let made = with_pass(&env, &["vault", "key-file", common::s(&kf)]).expect_code(0);
    common::assert_has(&made.stdout, "unlocks without the passphrase");
    common::assert_owner_only(&kf);
    let by_file = env
        .msp_with(
            &[("MSP_VAULT_KEY_FILE", common::s(&kf))],
            &["vault", "get", "dataforth/nas"],
        )
        .expect_code(0);
    assert_eq!(by_file.stdout, "Nas-Admin-Pw-1");
    // Never over an existing file; nothing without the passphrase.
    with_pass(&env, &["vault", "key-file", common::s(&kf)]).expect_hint(1);
    env.msp(&["vault", "key-file", common::s(&env.path("other.key"))])
        .expect_hint(4);
    assert!(!env.path("other.key").exists());
    assert!(audit_actions(&env).contains(&"key-file".to_string()));
    with_pass(&env, &["vault", "audit", "--verify"]).expect_code(0);
}

/// `msp vault rotate dataforth/api` on an item whose only field is `token`
/// asked for `password` ("field not found"), while `vault get` gives the
/// only field. Rotate with no field now means the field `get` would print.
#[test]
fn rotate_without_a_field_takes_the_one_get_prints() {
    let env = venv();
    feed_pass(
        &env,
        &["vault", "set", "dataforth/api", "token=-"],
        b"Api-Token-0001",
    )
    .expect_code(0);
    let only = feed_pass(
        &env,
        &["vault", "rotate", "dataforth/api"],
        b"Api-Token-0002",
    );
    common::assert_has(&only.expect_code(0).stdout, "token v2");
    assert_get(&env, "dataforth/api", "Api-Token-0002");
}

/// A key file that does not unlock (moved, another vault's, not a key
/// file) passed `config check` and `doctor`, while every vault command
/// failed with exit 4. Doctor now tries it, without an audit entry.
#[test]
fn doctor_says_whether_the_configured_key_file_unlocks_the_vault() {
    let env = venv();
    let kf = env.path("hooks.key");
    with_pass(&env, &["vault", "key-file", common::s(&kf)]).expect_code(0);
    let entries = audit_actions(&env).len();
    let good = env.msp_with(
        &[("MSP_VAULT_KEY_FILE", common::s(&kf))],
        &["--json", "doctor"],
    );
    let report: Value = serde_json::from_str(&good.stdout).unwrap();
    assert_eq!(
        common::doctor_check(&report, "key_file")["status"],
        "ok",
        "{report}"
    );
    let missing = env.path("moved.key");
    let bad = env.msp_with(
        &[("MSP_VAULT_KEY_FILE", common::s(&missing))],
        &["--json", "doctor"],
    );
    let report: Value = serde_json::from_str(&bad.stdout).unwrap();
    let c = common::doctor_check(&report, "key_file");
    assert_eq!(c["status"], "fail", "{report}");
    assert!(
        str_of(c, "hint").contains("msp vault key-file PATH"),
        "{report}"
    );
    assert_eq!(
        audit_actions(&env).len(),
        entries,
        "doctor wrote to the audit log"
    );
}
