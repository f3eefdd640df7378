//! The conformance harness: reads the cases of `conformance/`, and checks
//! what a backend gives for each against the case's expected file. Each
//! backend (the engine, the command line, later SQL) supplies how it runs a
//! case; the cases and the comparison are the same for all.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The fewest cases the folder may hold.
pub const MIN_CASES: usize = 40;

/// What to run for a case (`case.toml`).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The as-of date of a `segment` run.
    pub as_of: Option<String>,
    /// A `segment --period FROM..TO` run instead.
    pub period: Option<String>,
    /// A `compare` run instead.
    pub compare: Option<CompareSpec>,
}

/// A `compare` run: the type and its two periods.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// The type compared.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `FROM..TO` twice.
    pub periods: [String; 2],
}

/// The failure a case expects (`error.toml`).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    status: i32,
    message: String,
}

/// One case's folder and what to run.
pub struct Case {
    /// The case's folder.
    pub dir: PathBuf,
    /// What to run.
    pub spec: Spec,
}

impl Case {
    /// A file of the case, when it has one.
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join(name);
        path.exists().then_some(path)
    }

    /// The case's name (its folder's).
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
}

/// What a backend gives for a case: the CSV it writes (`assignments.csv`,
/// or `transitions.csv` for compare), or the exit status and message of
/// its error.
pub type Outcome = Result<String, (i32, String)>;

/// The `conformance/` folder of the repository.
pub fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The records of a CSV text, header first.
fn records(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// Compares the columns of `got` that `expected`'s header names, in its
/// order, so that a case checks what it is about and no more.
fn compare(expected: &str, got: &str) -> Result<(), String> {
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
    let got: Vec<Vec<String>> = got
        .iter()
        .map(|row| indexes.iter().map(|&i| row[i].clone()).collect())
        .collect();
    if want == got {
        Ok(())
    } else {
        Err(format!("expected {want:?}\n     got {got:?}"))
    }
}

/// Checks a backend's outcome against the case's expected file.
fn check(case: &Case, outcome: Outcome) -> Result<(), String> {
    match (case.file("expected.csv"), case.file("error.toml"), outcome) {
        (Some(path), None, Ok(got)) => compare(&read(&path)?, &got),
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
            "expected an output, got status {status}: {message}"
        )),
        (None, Some(_), Ok(got)) => Err(format!("expected an error, got\n{got}")),
        _ => Err("a case has exactly one of expected.csv and error.toml".to_owned()),
    }
}

/// Reads a case's folder: its one-line README and its `case.toml`.
fn load(dir: PathBuf) -> Result<Case, String> {
    let readme = read(&dir.join("README"))?;
    if readme.trim().is_empty() || readme.trim().lines().count() != 1 {
        return Err("README must be one line naming the rule".to_owned());
    }
    let spec =
        toml::from_str(&read(&dir.join("case.toml"))?).map_err(|e| format!("case.toml: {e}"))?;
    Ok(Case { dir, spec })
}

/// Runs every case with `run` and panics listing every failing case, or
/// when the folder holds fewer than [`MIN_CASES`] cases.
pub fn run_all(run: impl Fn(&Case) -> Outcome) {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("the conformance folder exists")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            load(dir.clone())
                .and_then(|case| check(&case, run(&case)))
                .err()
                .map(|why| format!("{}: {why}", name.unwrap_or_default()))
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
