//! Runs every case of the `conformance/` folder through the `strata`
//! binary: the same answers as the engine, and the exit status the cases
//! expect for refused input.

use assert_cmd::Command;
use strata_testkit::conformance::{run_all, Case, Outcome};

fn outcome(case: &Case) -> Outcome {
    let out = tempfile::tempdir().map_err(|e| (-1, e.to_string()))?;
    let folder = out.path().join("out");
    let mut cmd = Command::cargo_bin("strata").map_err(|e| (-1, e.to_string()))?;
    let (command, written) = if case.spec.compare.is_some() {
        ("compare", "transitions.csv")
    } else {
        ("segment", "assignments.csv")
    };
    cmd.arg(command)
        .arg("--quiet")
        .arg("--no-report")
        .arg("--transactions")
        .arg(case.dir.join("transactions.csv"))
        .arg("--config")
        .arg(case.dir.join("config.toml"))
        .arg("--out")
        .arg(&folder);
    if let Some(customers) = case.file("customers.csv") {
        cmd.arg("--customers").arg(customers);
    }
    match (&case.spec.compare, &case.spec.period, &case.spec.as_of) {
        (Some(c), _, _) => {
            cmd.args(["--type", &c.type_name])
                .args(["--period-a", &c.periods[0]])
                .args(["--period-b", &c.periods[1]]);
        }
        (None, Some(period), _) => {
            cmd.args(["--period", period]);
        }
        (None, None, Some(as_of)) => {
            cmd.args(["--as-of", as_of]);
        }
        (None, None, None) => return Err((-1, "case.toml has no as_of".to_owned())),
    }
    if let Some(overrides) = case.file("overrides.csv") {
        cmd.arg("--overrides").arg(overrides);
    }
    let output = cmd.output().map_err(|e| (-1, e.to_string()))?;
    if output.status.success() {
        std::fs::read_to_string(folder.join(written)).map_err(|e| (-1, e.to_string()))
    } else {
        Err((
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }
}

#[test]
fn every_conformance_case_passes_through_the_command_line() {
    run_all(outcome);
}
