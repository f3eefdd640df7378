//! Runs every case of the `conformance/` folder through the engine (the
//! harness, shared by every backend, is `strata_testkit::conformance`).

use strata_domain::config::parse_config;
use strata_domain::date::Date;
use strata_engine::output::{write_assignments, write_transitions, AssignmentColumns};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs};
use strata_testkit::conformance::{run_all, Case, Outcome};

/// What the engine gives for a case; the command line exits 1 for every
/// error of the engine.
fn outcome(case: &Case) -> Outcome {
    let fail = |e: String| (1, e);
    let text =
        std::fs::read_to_string(case.dir.join("config.toml")).map_err(|e| fail(e.to_string()))?;
    let config = parse_config(&text).map_err(|e| fail(e.to_string()))?;
    let inputs = Inputs::files(
        case.dir.join("transactions.csv"),
        case.file("customers.csv"),
        case.file("overrides.csv"),
        None,
    );
    let control = Control::silent();
    let mut out = Vec::new();
    if let Some(c) = &case.spec.compare {
        let periods = [
            run::parse_period(&c.periods[0]).map_err(|e| fail(e.to_string()))?,
            run::parse_period(&c.periods[1]).map_err(|e| fail(e.to_string()))?,
        ];
        let run = run::compare(config, &inputs, &c.type_name, periods, &control)
            .map_err(|e| fail(e.to_string()))?;
        write_transitions(&run, &mut out).map_err(|e| fail(e.to_string()))?;
    } else {
        let run = match (&case.spec.period, &case.spec.as_of) {
            (Some(period), _) => {
                let period = run::parse_period(period).map_err(|e| fail(e.to_string()))?;
                run::segment_period(config, &inputs, period, &control)
            }
            (None, Some(as_of)) => {
                let as_of = Date::parse_iso(as_of).ok_or_else(|| fail(format!("as_of {as_of}")))?;
                run::segment(config, &inputs, as_of, &control)
            }
            (None, None) => return Err(fail("case.toml has no as_of".to_owned())),
        }
        .map_err(|e| fail(e.to_string()))?;
        write_assignments(&run, AssignmentColumns::All, &mut out)
            .map_err(|e| fail(e.to_string()))?;
    }
    String::from_utf8(out).map_err(|e| fail(e.to_string()))
}

#[test]
fn every_conformance_case_passes_through_the_engine() {
    run_all(outcome);
}
