//! The OpenAPI document against the running server, with schemathesis
//! (from PyPI; `.ci/run` installs it): no generated request, valid or not,
//! gets a 5xx answer.

use assert_cmd::cargo::CommandCargoExt;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use strata_testkit::Files;

/// The variable naming the schemathesis executable (default: on the PATH).
const SCHEMATHESIS: &str = "STRATA_SCHEMATHESIS";

fn schemathesis() -> Option<String> {
    let program = std::env::var(SCHEMATHESIS).unwrap_or_else(|_| "schemathesis".to_owned());
    let found = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    found.then_some(program)
}

#[test]
fn no_generated_request_gets_a_server_error() {
    let Some(program) = schemathesis() else {
        strata_testkit::missing_dependency(
            "no_generated_request_gets_a_server_error",
            &format!("schemathesis (pip install schemathesis, or set {SCHEMATHESIS})"),
        );
        return;
    };
    let files = Files::new();
    let data = files.path("strata-data");
    let token = Command::cargo_bin("strata")
        .unwrap()
        .args([
            "token", "create", "--org", "acme", "--role", "admin", "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let mut server = Command::cargo_bin("strata")
        .unwrap()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("strata serve: ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let out = Command::new(program)
        .args(["run", &format!("{base}/api/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error", "--max-examples", "25"])
        .args(["--seed", "20261123", "--no-color"])
        // Revoking tokens by generated ids would revoke the test's own
        // token (id 1) and leave every later request unauthorised.
        .args(["--exclude-operation-id-regex", "delete_token"])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
