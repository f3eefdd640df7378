//! Runs every case of the `conformance/` folder through the engine and
//! compares the outcome with the case's expected file, reporting every
//! failing case at once. The folder's README says how a case is written.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use strata_domain::config::parse_config;
use strata_engine::output::{write_assignments, write_transitions, AssignmentColumns};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs};

/// The fewest cases the folder may hold.
const MIN_CASES: usize = 40;

/// `case.toml`: what to run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The as-of date of a `segment` run.
    as_of: Option<String>,
    /// A `segment --period FROM..TO` run instead.
    period: Option<String>,
    /// A `compare` run instead.
    compare: Option<CompareCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareCase {
    #[serde(rename = "type")]
    type_name: String,
    periods: [String; 2],
}

/// `error.toml`: the run must fail.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    /// The command line's exit status (1 for every refused input).
    status: i32,
    /// A fragment of the message.
    message: String,
}

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

fn optional(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = dir.join(name);
    path.exists().then_some(path)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Rows of CSV fields.
type Records = Vec<Vec<String>>;

/// The records of a CSV text, header first.
fn records(csv_text: &str) -> Records {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The columns of `got` that `expected`'s header names, in its order, so
/// that a case checks what it is about and no more.
fn compared(expected: &str, got: &str) -> Result<(Records, Records), String> {
    let (want, got) = (records(expected), records(got));
    let header = want.first().ok_or("expected.csv has no header")?;
    let got_header = got.first().ok_or("the output has no header")?;
    let indexes = header
        .iter()
        .map(|name| {
            got_header
                .iter()
                .position(|g| g == name)
                .ok_or(format!("the output has no column {name}"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let got = got
        .iter()
        .map(|row| indexes.iter().map(|&i| row[i].clone()).collect())
        .collect();
    Ok((want, got))
}

/// What the engine gives for a case: the CSV it writes, or the exit status
/// and message of its error.
fn outcome(dir: &Path, case: &Case) -> Result<String, (i32, String)> {
    // The command line exits 1 for every error of the engine.
    let fail = |e: String| (1, e);
    let text = read(&dir.join("config.toml")).map_err(fail)?;
    let config = parse_config(&text).map_err(|e| fail(e.to_string()))?;
    let inputs = Inputs::files(
        dir.join("transactions.csv"),
        optional(dir, "customers.csv"),
        optional(dir, "overrides.csv"),
        None,
    );
    let mut out = Vec::new();
    match (case, &case.compare) {
        (_, Some(c)) => {
            let periods = [
                run::parse_period(&c.periods[0]).map_err(|e| fail(e.to_string()))?,
                run::parse_period(&c.periods[1]).map_err(|e| fail(e.to_string()))?,
            ];
            let run = run::compare(config, &inputs, &c.type_name, periods, &Control::silent())
                .map_err(|e| fail(e.to_string()))?;
            write_transitions(&run, &mut out).unwrap();
        }
        (
            Case {
                period: Some(period),
                ..
            },
            None,
        ) => {
            let period = run::parse_period(period).map_err(|e| fail(e.to_string()))?;
            let run = run::segment_period(config, &inputs, period, &Control::silent())
                .map_err(|e| fail(e.to_string()))?;
            write_assignments(&run, AssignmentColumns::All, &mut out).unwrap();
        }
        (Case { as_of, .. }, None) => {
            let as_of = as_of
                .as_deref()
                .expect("case.toml has as_of, period or compare");
            let as_of = strata_domain::date::Date::parse_iso(as_of).expect("as_of is a date");
            let run = run::segment(config, &inputs, as_of, &Control::silent())
                .map_err(|e| fail(e.to_string()))?;
            write_assignments(&run, AssignmentColumns::All, &mut out).unwrap();
        }
    }
    Ok(String::from_utf8(out).unwrap())
}

/// Runs one case; `Err` says how it failed.
fn check(dir: &Path) -> Result<(), String> {
    let readme = read(&dir.join("README"))?;
    if readme.trim().is_empty() || readme.trim().lines().count() != 1 {
        return Err("README must be one line naming the rule".to_owned());
    }
    let case: Case =
        toml::from_str(&read(&dir.join("case.toml"))?).map_err(|e| format!("case.toml: {e}"))?;
    let expected_csv = optional(dir, "expected.csv");
    let expected_error = optional(dir, "error.toml");
    match (expected_csv, expected_error, outcome(dir, &case)) {
        (Some(path), None, Ok(got)) => {
            let (want, got) = compared(&read(&path)?, &got)?;
            if want == got {
                Ok(())
            } else {
                Err(format!("expected {want:?}\n     got {got:?}"))
            }
        }
        (None, Some(path), Err((status, message))) => {
            let want: ExpectedError =
                toml::from_str(&read(&path)?).map_err(|e| format!("error.toml: {e}"))?;
            if want.status == status && message.contains(&want.message) {
                Ok(())
            } else {
                Err(format!(
                    "expected status {} and a message containing {:?}\n     got status {status}: {message}",
                    want.status, want.message
                ))
            }
        }
        (Some(_), None, Err((status, message))) => Err(format!(
            "expected assignments, got status {status}: {message}"
        )),
        (None, Some(_), Ok(got)) => Err(format!("expected an error, got\n{got}")),
        _ => Err("a case has exactly one of expected.csv and error.toml".to_owned()),
    }
}

#[test]
fn every_conformance_case_passes() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("the conformance folder exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            check(dir)
                .err()
                .map(|why| format!("{}: {why}", dir.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
    assert!(
        dirs.len() >= MIN_CASES,
        "the conformance folder holds {} cases, expected at least {MIN_CASES}",
        dirs.len()
    );
}
