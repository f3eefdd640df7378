//! The jobs of a run: `segment` (and `segment --period`), `inspect` for
//! previews and explanations, `compare` and `scan`. Each loads its sources,
//! streams the lines through one aggregator per type and period, and
//! classifies.

mod classify;
mod compare;
mod load;
mod scan;
mod state;

use crate::error::Result;
use crate::progress::Control;
pub use crate::result::{AssignmentRow, Explanation, FileInfo, TypeResult};
use crate::rules_run::RulesContext;
use crate::source::{FileLines, FileTable, LineSource, TableSource};
use crate::transactions::{DecimalSeparator, Dictionaries};
use classify::{classify_all, Mode};
pub use compare::{compare, parse_period, CompareRun, Transition};
pub use scan::{check_files, scan, Scan};
pub use state::{ListEntries, State, StoredResult};
use std::path::PathBuf;
use strata_domain::config::Config;
use strata_domain::date::{Date, Window};

/// Where a run reads its data: files, or any other source.
pub struct Inputs {
    /// Sales lines.
    pub lines: Box<dyn LineSource>,
    /// Customers and their attributes, optional.
    pub customers: Option<Box<dyn TableSource>>,
    /// Manual assignments (`segment_type,customer_id,segment`), optional.
    pub overrides: Option<Box<dyn TableSource>>,
    /// What a server keeps between runs.
    pub state: State,
}

impl Inputs {
    /// Files: transactions (CSV or Parquet), customers and overrides.
    pub fn files(
        transactions: PathBuf,
        customers: Option<PathBuf>,
        overrides: Option<PathBuf>,
        decimal: Option<DecimalSeparator>,
    ) -> Inputs {
        let table = |path: PathBuf| Box::new(FileTable { path }) as Box<dyn TableSource>;
        Inputs {
            lines: Box::new(FileLines {
                path: transactions,
                decimal,
            }),
            customers: customers.map(table),
            overrides: overrides.map(table),
            state: State::default(),
        }
    }
}

/// Everything a `segment` run produced.
pub struct SegmentRun {
    /// The configuration used.
    pub config: Config,
    /// The as-of date.
    pub as_of: Date,
    /// Customer and other dictionaries, to name ids.
    pub dicts: Dictionaries,
    /// One result per type, in configuration order.
    pub types: Vec<TypeResult>,
    /// The files read.
    pub files: Vec<FileInfo>,
    /// Problems that did not stop the run (unknown include/exclude entries).
    pub warnings: Vec<String>,
}

/// A run made to look inside: every type classified, and every customer's
/// features over every line, for `preview` and `explain`.
pub struct InspectRun {
    /// The classification, as `segment` makes it.
    pub run: SegmentRun,
    /// The features of every customer, and of each rules type's lines.
    pub rules: RulesContext,
}

impl InspectRun {
    /// About how many bytes it holds, for memory budgets: the feature
    /// tables, the classified rows and the customer ids.
    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .run
            .types
            .iter()
            .map(|t| std::mem::size_of_val(t.rows.as_slice()))
            .sum();
        // An interned id: its text, its end offset and its hash slot.
        let ids = self.run.dicts.customers.text_bytes() + self.run.dicts.customers.len() * 24;
        self.rules.heap_bytes() + rows + ids
    }
}

/// Classifies every type of the configuration as of a date.
pub fn segment(
    config: Config,
    inputs: &Inputs,
    as_of: Date,
    control: &Control<'_>,
) -> Result<SegmentRun> {
    classify_all(config, inputs, as_of, None, Mode::Segment, control).map(|(run, _)| run)
}

/// Classifies every type over one date range instead of each type's own
/// window: a one-off segmentation. Rules types are classified as of the
/// period's last day, as `compare` does.
pub fn segment_period(
    config: Config,
    inputs: &Inputs,
    period: Window,
    control: &Control<'_>,
) -> Result<SegmentRun> {
    classify_all(
        config,
        inputs,
        period.last,
        Some(period),
        Mode::Segment,
        control,
    )
    .map(|(run, _)| run)
}

/// Classifies every type and computes every customer's features, for
/// previews and explanations.
pub fn inspect(
    config: Config,
    inputs: &Inputs,
    as_of: Date,
    control: &Control<'_>,
) -> Result<InspectRun> {
    let (run, rules) = classify_all(config, inputs, as_of, None, Mode::Inspect, control)?;
    Ok(InspectRun {
        run,
        rules: rules.expect("inspect runs always compute the features"),
    })
}
