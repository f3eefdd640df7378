//! The two jobs of the command line, `segment` and `compare`: load the files,
//! stream the lines through one aggregator per type and period, classify.

use crate::aggregate::{Aggregated, Aggregator};
use crate::customers::{load_customers, CustomerTable};
use crate::error::{Error, Result};
use crate::overrides::Overrides;
use crate::progress::Progress;
use crate::transactions::{read_transactions, Dictionaries, NeededColumn};
use std::path::{Path, PathBuf};
use strata_domain::classify::{AccountAssignment, Grouping};
use strata_domain::compare::{Movement, TransitionMatrix};
use strata_domain::config::Config;
use strata_domain::date::{Date, Window};
use strata_domain::money::{Amount, Fraction};
use strata_domain::rfm::RfmScore;
use strata_domain::segment_type::{Identity, Measure, Method, SegmentIdx, SegmentType};
use strata_domain::summary::{summarize, LeftOutSales, TypeSummary};
use strata_domain::{pareto, rfm};

/// The files a run reads.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Transaction lines (CSV or Parquet).
    pub transactions: PathBuf,
    /// Optional customers file.
    pub customers: Option<PathBuf>,
    /// Optional manual assignments.
    pub overrides: Option<PathBuf>,
}

/// A file read and how many data lines it had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The file.
    pub path: PathBuf,
    /// Data lines (rows).
    pub lines: u64,
}

/// Why an account got its segment, per method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// Pareto: the unit's eligible sales and the fraction before it.
    Pareto {
        /// Eligible sales of the unit (the VAT group's for VAT identity).
        eligible_sales: Amount,
        /// `before / T`, for ranked units.
        share_before: Option<Fraction>,
    },
    /// RFM: the unit's scores, if it had a positive order.
    Rfm(Option<RfmScore>),
}

/// One account's assignment in one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignmentRow {
    /// Customer id (interned).
    pub customer: u32,
    /// Effective, computed and manual segments.
    pub assignment: AccountAssignment,
    /// The figures that decided it.
    pub explanation: Explanation,
}

/// The classification of one type.
#[derive(Clone, Debug)]
pub struct TypeResult {
    /// Position of the type in the configuration.
    pub type_idx: usize,
    /// The window used.
    pub window: Window,
    /// One row per account with a segment, ordered by customer id.
    pub rows: Vec<AssignmentRow>,
    /// Totals per segment.
    pub summary: TypeSummary,
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
}

/// Loaded customers and the per-type figures of each requested window.
struct Loaded {
    dicts: Dictionaries,
    customers: CustomerTable,
    aggregated: Vec<Aggregated>,
    files: Vec<FileInfo>,
}

fn load(
    inputs: &Inputs,
    config: &Config,
    windows: &[(usize, Window)],
    progress: &dyn Progress,
) -> Result<Loaded> {
    let mut dicts = Dictionaries::default();
    let mut files = Vec::new();
    let customers = match &inputs.customers {
        Some(path) => {
            progress.start("reading customers", None);
            let table = load_customers(path, &mut dicts)?;
            progress.finish();
            files.push(FileInfo {
                path: path.clone(),
                lines: table.rows(),
            });
            table
        }
        None => CustomerTable::default(),
    };
    let mut aggregators: Vec<Aggregator> = windows
        .iter()
        .map(|&(t, w)| Aggregator::new(&config.types[t], w))
        .collect();
    let needed: Vec<NeededColumn> = windows
        .iter()
        .map(|&(t, _)| &config.types[t])
        .filter(|ty| matches!(&ty.method, Method::Pareto(spec) if spec.measure == Measure::Margin))
        .map(|ty| NeededColumn {
            name: "margin",
            reason: format!("type '{}' (measure = \"margin\")", ty.name),
        })
        .collect();
    let info = read_transactions(
        &inputs.transactions,
        &needed,
        &mut dicts,
        progress,
        &mut |batch, dicts| {
            for aggregator in &mut aggregators {
                aggregator.consume(batch, dicts);
            }
        },
    )?;
    files.insert(
        0,
        FileInfo {
            path: inputs.transactions.clone(),
            lines: info.lines,
        },
    );
    let aggregated = aggregators.into_iter().map(|a| a.finish(&dicts)).collect();
    Ok(Loaded {
        dicts,
        customers,
        aggregated,
        files,
    })
}

fn grouping(ty: &SegmentType, customers: &CustomerTable, n_customers: usize) -> Grouping {
    match ty.identity {
        Identity::Customer => Grouping::by_account(n_customers),
        Identity::Vat => Grouping::by_vat(customers.column_values("vat", n_customers)),
    }
}

/// Classifies one type from its aggregated figures.
fn classify_type(
    type_idx: usize,
    ty: &SegmentType,
    window: Window,
    aggregated: &Aggregated,
    grouping: &Grouping,
    manual: &[Option<SegmentIdx>],
    dicts: &Dictionaries,
) -> TypeResult {
    let (accounts, explanations, account_sales, total, left_out): (
        Vec<AccountAssignment>,
        Vec<Explanation>,
        Vec<Amount>,
        Amount,
        Option<LeftOutSales>,
    ) = match (&ty.method, aggregated) {
        (Method::Pareto(spec), Aggregated::Sales(sales)) => {
            let outcome = pareto::classify(ty, spec, sales, grouping, manual);
            let explanations = grouping
                .unit_of_account
                .iter()
                .map(|&u| Explanation::Pareto {
                    eligible_sales: outcome.unit_sales[u as usize],
                    share_before: outcome.ranking.share_before(u as usize),
                })
                .collect();
            let left_out = LeftOutSales::of(&outcome.ranking, &outcome.unit_sales);
            (
                outcome.accounts,
                explanations,
                sales.clone(),
                outcome.ranking.total,
                Some(left_out),
            )
        }
        (Method::Rfm(spec), Aggregated::Rfm(inputs)) => {
            let outcome = rfm::classify(ty, spec, window.last, inputs, grouping, manual);
            let explanations = grouping
                .unit_of_account
                .iter()
                .map(|&u| Explanation::Rfm(outcome.units[u as usize]))
                .collect();
            let total = outcome.units.iter().flatten().map(|s| s.monetary).sum();
            let monetary = inputs.iter().map(|i| i.monetary).collect();
            (outcome.accounts, explanations, monetary, total, None)
        }
        _ => unreachable!("aggregators are built from the type's method"),
    };
    let summary = summarize(ty, &accounts, &account_sales, total, left_out);
    let mut rows: Vec<AssignmentRow> = accounts
        .into_iter()
        .zip(explanations)
        .enumerate()
        .filter(|(_, (a, _))| a.segment.is_some())
        .map(|(customer, (assignment, explanation))| AssignmentRow {
            customer: customer as u32,
            assignment,
            explanation,
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        dicts
            .customers
            .name(a.customer)
            .cmp(dicts.customers.name(b.customer))
    });
    TypeResult {
        type_idx,
        window,
        rows,
        summary,
    }
}

/// Classifies every type of the configuration as of a date.
pub fn segment(
    config: Config,
    inputs: &Inputs,
    as_of: Date,
    progress: &dyn Progress,
) -> Result<SegmentRun> {
    let overrides = inputs
        .overrides
        .as_deref()
        .map(|p| Overrides::read(p, &config))
        .transpose()?;
    let windows: Vec<(usize, Window)> = config
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| (i, t.interval.window(as_of)))
        .collect();
    let mut loaded = load(inputs, &config, &windows, progress)?;
    let n_customers = loaded.dicts.customers.len();
    let mut manual = match &overrides {
        Some(o) => o.resolve(&config, &loaded.dicts)?,
        None => vec![Vec::new(); config.types.len()],
    };
    if let (Some(path), Some(o)) = (&inputs.overrides, &overrides) {
        loaded.files.push(FileInfo {
            path: path.clone(),
            lines: o.len() as u64,
        });
    }
    progress.start("classifying", None);
    let types = windows
        .iter()
        .map(|&(t, window)| {
            let ty = &config.types[t];
            manual[t].resize(n_customers, None);
            let grouping = grouping(ty, &loaded.customers, n_customers);
            classify_type(
                t,
                ty,
                window,
                &loaded.aggregated[t],
                &grouping,
                &manual[t],
                &loaded.dicts,
            )
        })
        .collect();
    progress.finish();
    Ok(SegmentRun {
        config,
        as_of,
        dicts: loaded.dicts,
        types,
        files: loaded.files,
    })
}

/// One customer's segments in the two periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Customer id (interned).
    pub customer: u32,
    /// Segment in period A.
    pub segment_a: Option<SegmentIdx>,
    /// Segment in period B.
    pub segment_b: Option<SegmentIdx>,
    /// How the customer moved.
    pub movement: Movement,
}

/// Everything a `compare` run produced.
pub struct CompareRun {
    /// The configuration used.
    pub config: Config,
    /// The compared type's position.
    pub type_idx: usize,
    /// The two classifications.
    pub periods: [TypeResult; 2],
    /// Customers with a segment in at least one period, by customer id.
    pub transitions: Vec<Transition>,
    /// Counts from each segment of A to each segment of B.
    pub matrix: TransitionMatrix,
    /// Dictionaries to name ids.
    pub dicts: Dictionaries,
    /// The files read.
    pub files: Vec<FileInfo>,
}

/// Parses `FROM..TO` (both ISO dates, inclusive).
pub fn parse_period(text: &str) -> Result<Window> {
    let bad = || {
        Error::Usage(format!(
            "period '{text}' is not FROM..TO with ISO dates, for example 2023-01-01..2023-12-31"
        ))
    };
    let (from, to) = text.split_once("..").ok_or_else(bad)?;
    let from = Date::parse_iso(from.trim()).ok_or_else(bad)?;
    let to = Date::parse_iso(to.trim()).ok_or_else(bad)?;
    if from > to {
        return Err(Error::Usage(format!(
            "period '{text}' ends before it starts"
        )));
    }
    Ok(Window::new(from, to))
}

/// Classifies one type over two periods and lists who moved where. Manual
/// assignments play no part.
pub fn compare(
    config: Config,
    inputs: &Inputs,
    type_name: &str,
    periods: [Window; 2],
    progress: &dyn Progress,
) -> Result<CompareRun> {
    let type_idx = config
        .types
        .iter()
        .position(|t| t.name == type_name)
        .ok_or_else(|| {
            let known: Vec<&str> = config.types.iter().map(|t| t.name.as_str()).collect();
            Error::Usage(format!(
                "unknown type '{type_name}' (known: {})",
                known.join(", ")
            ))
        })?;
    let windows = [(type_idx, periods[0]), (type_idx, periods[1])];
    let loaded = load(inputs, &config, &windows, progress)?;
    let n_customers = loaded.dicts.customers.len();
    let ty = &config.types[type_idx];
    let grouping = grouping(ty, &loaded.customers, n_customers);
    let no_manual = vec![None; n_customers];
    let classify = |k: usize| {
        classify_type(
            type_idx,
            ty,
            periods[k],
            &loaded.aggregated[k],
            &grouping,
            &no_manual,
            &loaded.dicts,
        )
    };
    let periods = [classify(0), classify(1)];
    let mut by_customer = vec![[None, None]; n_customers];
    for (k, period) in periods.iter().enumerate() {
        for row in &period.rows {
            by_customer[row.customer as usize][k] = row.assignment.segment;
        }
    }
    let mut matrix = TransitionMatrix::new(ty.segments.len());
    let mut transitions: Vec<Transition> = by_customer
        .into_iter()
        .enumerate()
        .filter_map(|(customer, [a, b])| {
            Movement::between(a, b).map(|movement| {
                matrix.add(a, b);
                Transition {
                    customer: customer as u32,
                    segment_a: a,
                    segment_b: b,
                    movement,
                }
            })
        })
        .collect();
    transitions.sort_unstable_by(|a, b| {
        loaded
            .dicts
            .customers
            .name(a.customer)
            .cmp(loaded.dicts.customers.name(b.customer))
    });
    Ok(CompareRun {
        config,
        type_idx,
        periods,
        transitions,
        matrix,
        dicts: loaded.dicts,
        files: loaded.files,
    })
}

/// Checks that the input files exist before anything is read.
pub fn check_inputs(inputs: &Inputs) -> Result<()> {
    let paths: [Option<&Path>; 3] = [
        Some(&inputs.transactions),
        inputs.customers.as_deref(),
        inputs.overrides.as_deref(),
    ];
    for path in paths.into_iter().flatten() {
        crate::table::check_readable(path)?;
    }
    Ok(())
}
