//! Integration tests of the engine: real files in, assignments out.

mod compare;
mod control;
mod csv_files;
mod explain;
mod parquet_files;
mod rules;
mod segment;
mod sources;

use std::path::PathBuf;
use strata_domain::config::parse_config;
use strata_domain::date::Date;
use strata_engine::output::{write_assignments, write_transitions, AssignmentColumns};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs};

pub use strata_testkit::Files;

/// A date from ISO text.
pub fn d(text: &str) -> Date {
    Date::parse_iso(text).unwrap()
}

/// The input files of a run.
pub fn inputs(
    transactions: PathBuf,
    customers: Option<PathBuf>,
    overrides: Option<PathBuf>,
) -> Inputs {
    Inputs::files(transactions, customers, overrides, None)
}

/// Runs `segment` and returns `assignments.csv` as text.
pub fn segment(config: &str, inputs: &Inputs, as_of: &str) -> Result<String, String> {
    let config = parse_config(config).map_err(|e| e.to_string())?;
    let run =
        run::segment(config, inputs, d(as_of), &Control::silent()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    write_assignments(&run, AssignmentColumns::All, &mut out).unwrap();
    Ok(String::from_utf8(out).unwrap())
}

/// Only the first `n` columns of each data row of a CSV text.
pub fn columns(csv: &str, n: usize) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').take(n).collect::<Vec<_>>().join(","))
        .collect()
}

/// Runs `compare` and returns `transitions.csv` as text.
pub fn compare(
    config: &str,
    inputs: &Inputs,
    type_name: &str,
    a: &str,
    b: &str,
) -> Result<String, String> {
    let config = parse_config(config).map_err(|e| e.to_string())?;
    let periods = [run::parse_period(a).unwrap(), run::parse_period(b).unwrap()];
    let run = run::compare(config, inputs, type_name, periods, &Control::silent())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    write_transitions(&run, &mut out).unwrap();
    Ok(String::from_utf8(out).unwrap())
}

/// A Pareto type with tiers A 80, B 15, C 5, plus extra TOML lines for the type.
pub fn abc(extra: &str) -> String {
    format!(
        "[[types]]\nname = \"ABC\"\nmethod = \"pareto\"\n{extra}\n\
         [[types.segments]]\nname = \"A\"\nshare = 80\n\
         [[types.segments]]\nname = \"B\"\nshare = 15\n\
         [[types.segments]]\nname = \"C\"\nshare = 5\n"
    )
}
