//! What a one-off run keeps: the rows of the file the command line writes
//! for the same job (`assignments.csv` of `strata segment --period`,
//! `transitions.csv` of `strata compare`), formatted by the engine's own
//! cell writer, and a report of customers and sales per segment and period.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use strata_domain::compare::{Movement, NO_SEGMENT};
use strata_engine::output::{row_cells, AssignmentColumns, Cell, TRANSITION_COLUMNS};
use strata_engine::run::{CompareRun, SegmentRun, TypeResult};
use strata_store::{MatrixReport, PeriodReport, RunReport, RunRow, SegmentFigures, TypeReport};

/// CSV records written one at a time, each taken as one line.
struct Lines {
    csv: csv::Writer<Vec<u8>>,
    taken: usize,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            csv: csv::Writer::from_writer(Vec::new()),
            taken: 0,
        }
    }

    /// The record just written, without its line break.
    fn take(&mut self) -> Result<String, String> {
        self.csv.flush().map_err(|e| e.to_string())?;
        let bytes = &self.csv.get_ref()[self.taken..];
        self.taken += bytes.len();
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

/// Customers and sales per segment of one classification.
fn period_report(result: &TypeResult) -> PeriodReport {
    PeriodReport {
        period: result.window.map(|w| w.to_string()).unwrap_or_default(),
        segments: result
            .summary
            .segments
            .iter()
            .map(|s| SegmentFigures {
                segment: s.name.clone(),
                customers: s.accounts,
                sales: s.sales.to_string(),
            })
            .collect(),
    }
}

/// The type's entry of the report: members per segment.
fn type_report(name: &str, counts: BTreeMap<String, u64>) -> TypeReport {
    TypeReport {
        name: name.to_owned(),
        counts,
        ..TypeReport::default()
    }
}

/// The rows and report of a one-off segmentation of `type_name` over a period.
pub fn period_results(
    run: &SegmentRun,
    type_name: &str,
) -> Result<(RunReport, Vec<RunRow>), String> {
    let result = run
        .types
        .iter()
        .find(|r| run.config.types[r.type_idx].name == type_name)
        .ok_or_else(|| format!("the run did not classify '{type_name}'"))?;
    let ty = &run.config.types[result.type_idx];
    let mut lines = Lines::new();
    let mut number = String::new();
    let mut rows = Vec::with_capacity(result.rows.len());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for row in &result.rows {
        row_cells(
            run,
            ty,
            row,
            AssignmentColumns::All,
            &mut |cell| match cell {
                Cell::Text(text) => lines.csv.write_field(text),
                Cell::Value(value) => {
                    number.clear();
                    if let Some(value) = value {
                        write!(number, "{value}").expect("writing to a String cannot fail");
                    }
                    lines.csv.write_field(&number)
                }
            },
        )
        .and_then(|()| lines.csv.write_record(None::<&[u8]>))
        .map_err(|e| e.to_string())?;
        let segment = row
            .assignment
            .segment
            .map_or("", |s| ty.segment_name(s))
            .to_owned();
        *counts.entry(segment.clone()).or_default() += 1;
        rows.push(RunRow {
            customer_id: run.dicts.customers.name(row.customer).to_owned(),
            key: segment,
            line: lines.take()?,
        });
    }
    let report = RunReport {
        types: vec![type_report(type_name, counts)],
        periods: vec![period_report(result)],
        ..RunReport::default()
    };
    Ok((report, rows))
}

/// The rows and report of a comparison of two periods.
pub fn compare_results(run: &CompareRun) -> Result<(RunReport, Vec<RunRow>), String> {
    let ty = &run.config.types[run.type_idx];
    let name = |s: Option<u16>| s.map_or("", |s| ty.segment_name(s));
    let mut lines = Lines::new();
    let mut movements: BTreeMap<String, u64> = Movement::ALL
        .iter()
        .map(|m| (m.as_str().to_owned(), 0))
        .collect();
    let mut rows = Vec::with_capacity(run.transitions.len());
    for t in &run.transitions {
        let customer = run.dicts.customers.name(t.customer);
        lines
            .csv
            .write_record([
                customer,
                name(t.segment_a),
                name(t.segment_b),
                t.movement.as_str(),
            ])
            .map_err(|e| e.to_string())?;
        *movements.entry(t.movement.as_str().to_owned()).or_default() += 1;
        rows.push(RunRow {
            customer_id: customer.to_owned(),
            key: t.movement.as_str().to_owned(),
            line: lines.take()?,
        });
    }
    let counts = run.periods[1]
        .summary
        .segments
        .iter()
        .map(|s| (s.name.clone(), s.accounts))
        .collect();
    let report = RunReport {
        types: vec![type_report(&ty.name, counts)],
        periods: run.periods.iter().map(period_report).collect(),
        movements,
        matrix: Some(MatrixReport {
            segments: ty
                .segments
                .iter()
                .map(|s| s.name.clone())
                .chain([NO_SEGMENT.to_owned()])
                .collect(),
            counts: run.matrix.counts.clone(),
        }),
        ..RunReport::default()
    };
    Ok((report, rows))
}

/// The header of a one-off run's file: `assignments.csv` of a period,
/// `transitions.csv` of a comparison.
pub fn header(compare: bool) -> &'static [&'static str] {
    if compare {
        &TRANSITION_COLUMNS
    } else {
        AssignmentColumns::All.header()
    }
}
