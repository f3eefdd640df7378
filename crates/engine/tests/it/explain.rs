//! An explanation rebuilt from a stored `assignments.csv` says what the
//! engine's own explanation says.

use crate::{d, Files};
use std::collections::BTreeMap;
use strata_domain::config::parse_config;
use strata_engine::inspect::{self, Reason, Share};
use strata_engine::output::{write_assignments, AssignmentColumns, ASSIGNMENT_COLUMNS};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs};
use strata_generate::{generate, Format, Shape, Spec};

const CONFIG: &str = include_str!("../../../../examples/config.toml");

#[test]
fn figures_of_assignments_give_the_engines_explanation() {
    let f = Files::new();
    let spec = Spec {
        shape: Shape::Classic,
        customers: 200,
        seed: 11,
        end: d("2024-12-31"),
        format: Format::Csv,
    };
    let generated = generate(&spec, f.dir()).unwrap();
    let inputs = Inputs::files(
        generated.transactions_path.clone(),
        Some(generated.customers_path.clone()),
        None,
        None,
    );
    let as_of = d("2024-12-31");
    let config = parse_config(CONFIG).unwrap();
    let run = run::inspect(config.clone(), &inputs, as_of, &Control::silent()).unwrap();
    let mut csv = Vec::new();
    write_assignments(&run.run, AssignmentColumns::All, &mut csv).unwrap();
    // Each (type, customer)'s non-empty figures, as a store keeps them.
    let mut figures: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    for record in reader.records() {
        let record = record.unwrap();
        let kept = figures
            .entry((record[0].to_owned(), record[1].to_owned()))
            .or_default();
        for (name, value) in ASSIGNMENT_COLUMNS.iter().zip(record.iter()).skip(6) {
            if !value.is_empty() {
                kept.insert((*name).to_owned(), value.to_owned());
            }
        }
    }
    let customers: Vec<String> = figures.keys().map(|(_, c)| c.clone()).collect();
    let mut compared = [0; 2];
    for customer in customers
        .iter()
        .take(60)
        .chain(["nobody".to_owned()].iter())
    {
        let Ok(explained) = inspect::explain(&run, customer) else {
            assert_eq!(customer, "nobody");
            continue;
        };
        for mut expected in explained {
            let ty = config
                .types
                .iter()
                .find(|t| t.name == expected.type_name)
                .unwrap();
            let stored = figures
                .get(&(expected.type_name.clone(), customer.clone()))
                .cloned()
                .unwrap_or_default();
            let rebuilt =
                inspect::explain_figures(ty, as_of, expected.rows.clone(), &stored).unwrap();
            match &mut expected.reason {
                Reason::Pareto { share_before, .. } => {
                    compared[0] += 1;
                    *share_before = share_before.take().map(|s| Share::Printed(s.to_string()));
                }
                Reason::Rfm { .. } => compared[1] += 1,
                Reason::Rules { .. } => {
                    assert_eq!(rebuilt, None, "rules need the lines");
                    continue;
                }
            }
            assert_eq!(rebuilt.as_ref(), Some(&expected), "{customer}");
        }
    }
    assert!(compared[0] >= 60 && compared[1] >= 60, "{compared:?}");
}

#[test]
fn missing_or_bad_figures_are_refused_by_name() {
    let config = parse_config(CONFIG).unwrap();
    let rfm = config
        .types
        .iter()
        .find(|t| t.method.kind() == strata_domain::segment_type::MethodKind::Rfm)
        .unwrap();
    let partial = BTreeMap::from([("recency_days".to_owned(), "3".to_owned())]);
    assert_eq!(
        inspect::explain_figures(rfm, d("2024-12-31"), Vec::new(), &partial),
        Err("some of the RFM figures are missing".to_owned())
    );
    let bad = BTreeMap::from([("monetary".to_owned(), "12,x".to_owned())]);
    let error = inspect::explain_figures(rfm, d("2024-12-31"), Vec::new(), &bad).unwrap_err();
    assert!(error.starts_with("monetary: \"12,x\""), "{error}");
}
