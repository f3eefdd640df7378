//! The two jobs of the command line, `segment` and `compare`: load the files,
//! stream the lines through one aggregator per type and period, classify.

use crate::aggregate::{Aggregated, Aggregator, FeatureFigures};
use crate::customers::{load_customers, CustomerTable};
use crate::error::{Error, Result};
use crate::overrides::one_per_customer;
use crate::overrides::Overrides;
use crate::progress::Control;
use crate::rules_run::RulesContext;
use crate::source::{FileLines, FileTable, LineSource, TableSource};
use crate::transactions::{read_lines, DecimalSeparator, Dictionaries, NeededColumn, Selection};
use std::path::{Path, PathBuf};
use strata_domain::classify::{AccountAssignment, Grouping};
use strata_domain::columns::{CustomerColumn, LineColumn};
use strata_domain::compare::{Movement, TransitionMatrix};
use strata_domain::config::evaluation_order;
use strata_domain::config::Config;
use strata_domain::date::{Date, Window};
use strata_domain::money::{Amount, Fraction, SumKind, SumOverflow};
use strata_domain::pareto::LeftOut;
use strata_domain::rfm::RfmScore;
use strata_domain::segment_type::{Identity, LineFilter, Measure, Method, SegmentIdx, SegmentType};
use strata_domain::summary::{summarize, LeftOutSales, TypeSummary, Unclassified};
use strata_domain::{pareto, rfm};

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

/// What a server keeps between runs and hands to the next one, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Include and exclude entries kept beside the configuration (static
    /// members added by hand), added to the rules segments' own lists.
    pub lists: Vec<ListEntries>,
    /// Results kept from earlier runs: these types are not classified
    /// again, and rules that read them with `segment()` or `rfm()` read
    /// these. A `segment` run's output leaves them out.
    pub stored: Vec<StoredResult>,
}

/// Include and exclude entries of one rules segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListEntries {
    /// The type's name.
    pub type_name: String,
    /// The segment's name.
    pub segment: String,
    /// Customer ids or e-mails always in.
    pub include: Vec<String>,
    /// Customer ids or e-mails never in.
    pub exclude: Vec<String>,
}

/// The stored assignments of one type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredResult {
    /// The type's name.
    pub type_name: String,
    /// `(customer id, segment name)`, one per membership.
    pub rows: Vec<(String, String)>,
}

impl State {
    /// Adds the kept list entries to the configuration's rules segments.
    fn add_lists(&self, config: &mut Config) -> Result<()> {
        for entries in &self.lists {
            let ty = config
                .types
                .iter_mut()
                .find(|t| t.name == entries.type_name)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "list entries name the unknown type '{}'",
                        entries.type_name
                    ))
                })?;
            if !is_rules(ty) {
                return Err(Error::Usage(format!(
                    "list entries apply to rules types; '{}' is not one",
                    ty.name
                )));
            }
            let type_name = ty.name.clone();
            let segment = ty
                .segments
                .iter_mut()
                .find(|s| s.name == entries.segment)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "list entries name the unknown segment '{}' of type '{type_name}'",
                        entries.segment
                    ))
                })?;
            segment.include.extend(entries.include.iter().cloned());
            segment.exclude.extend(entries.exclude.iter().cloned());
        }
        Ok(())
    }

    /// The stored result of a type, if any.
    fn stored(&self, ty: &SegmentType) -> Option<&StoredResult> {
        self.stored.iter().find(|s| s.type_name == ty.name)
    }
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

/// A source read (a file's path) and how many data lines it had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The source's name: a file's path.
    pub name: String,
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
    /// Rules: the rule, lists and overrides; see `strata explain`.
    Rules,
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
    /// The window used; rules types read every line up to the as-of date.
    pub window: Option<Window>,
    /// One row per account with a segment, ordered by customer id.
    pub rows: Vec<AssignmentRow>,
    /// Totals per segment.
    pub summary: TypeSummary,
    /// Pareto: each ranked unit's sales and tier, largest first (the Pareto curve).
    pub ranked: Vec<(Amount, SegmentIdx)>,
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

/// A stored result as `(customer, segment)` pairs; a customer unknown to
/// this run's data is left out with a warning, an unknown segment refused.
fn stored_pairs(
    ty: &SegmentType,
    stored: &StoredResult,
    dicts: &Dictionaries,
    warnings: &mut Vec<String>,
) -> Result<Vec<(u32, SegmentIdx)>> {
    let mut pairs = Vec::with_capacity(stored.rows.len());
    for (customer_id, segment) in &stored.rows {
        let segment = ty.segment_idx(segment).ok_or_else(|| {
            Error::Usage(format!(
                "stored result of type '{}': unknown segment '{segment}'",
                ty.name
            ))
        })?;
        match dicts.customers.get(customer_id.trim()) {
            Some(customer) => pairs.push((customer, segment)),
            None => warnings.push(format!(
                "stored result of type '{}': customer '{customer_id}' is in neither the customers nor the lines; left out",
                ty.name
            )),
        }
    }
    Ok(pairs)
}

/// Whether a type is classified by rules.
fn is_rules(ty: &SegmentType) -> bool {
    matches!(ty.method, Method::Rules(_))
}

/// The features rules read: every line up to a date, once per distinct line
/// filter of the rules types (and unfiltered for previews).
struct FeatureScopes {
    as_of: Date,
    filters: Vec<LineFilter>,
}

/// Loaded customers and the per-type figures of each requested window.
struct Loaded {
    dicts: Dictionaries,
    customers: CustomerTable,
    aggregated: Vec<Aggregated>,
    /// The features of each scope asked for, in order.
    features: Vec<FeatureFigures>,
    files: Vec<FileInfo>,
    /// Line filters naming no agency or brand of the files.
    warnings: Vec<String>,
}

/// The transaction columns a configuration reads; all of them when
/// `every_feature`, for rules given later (preview, explain).
fn selection(config: &Config, every_feature: bool) -> Selection {
    let required = config
        .types
        .iter()
        .filter(|ty| matches!(&ty.method, Method::Pareto(spec) if spec.measure == Measure::Margin))
        .map(|ty| NeededColumn {
            column: LineColumn::Margin,
            reason: format!("type '{}' (measure = \"margin\")", ty.name),
        })
        .collect();
    let optional = (!every_feature).then(|| {
        let mut columns: Vec<LineColumn> = config
            .types
            .iter()
            .flat_map(SegmentType::line_columns)
            .collect();
        columns.sort_unstable();
        columns.dedup();
        columns
    });
    Selection {
        required,
        optional,
        ..Selection::default()
    }
}

fn load(
    inputs: &Inputs,
    config: &Config,
    selection: &Selection,
    windows: &[(usize, Window)],
    features: Option<&FeatureScopes>,
    control: &Control<'_>,
) -> Result<Loaded> {
    let mut dicts = Dictionaries::default();
    let mut files = Vec::new();
    let customers = match &inputs.customers {
        Some(source) => {
            control.progress.start("reading customers", None);
            let table = load_customers(source.as_ref(), &mut dicts)?;
            control.progress.finish();
            files.push(FileInfo {
                name: source.name(),
                lines: table.rows(),
            });
            table
        }
        None => CustomerTable::default(),
    };
    customers.check_declared(&config.settings.attributes)?;
    crate::rules_run::check_rules(config, &customers)?;
    let mut aggregators: Vec<Aggregator> = windows
        .iter()
        .map(|&(t, w)| Aggregator::new(&config.types[t], w, &config.settings.closed_statuses))
        .chain(features.into_iter().flat_map(|f| {
            f.filters.iter().map(|filter| {
                Aggregator::features(f.as_of, filter.clone(), &config.settings.closed_statuses)
            })
        }))
        .collect();
    let info = read_lines(
        inputs.lines.as_ref(),
        selection,
        &mut dicts,
        control,
        &mut |batch| {
            for aggregator in &mut aggregators {
                aggregator.consume(batch);
            }
        },
    )?;
    files.insert(
        0,
        FileInfo {
            name: inputs.lines.name(),
            lines: info.lines,
        },
    );
    // The types each aggregator serves, to name them in warnings and errors.
    let served: Vec<Vec<usize>> = windows
        .iter()
        .map(|&(t, _)| vec![t])
        .chain(features.into_iter().flat_map(|f| {
            f.filters.iter().map(|filter| {
                (0..config.types.len())
                    .filter(|&t| is_rules(&config.types[t]) && &config.types[t].lines == filter)
                    .collect()
            })
        }))
        .collect();
    let mut warnings: Vec<String> = Vec::new();
    for (aggregator, types) in aggregators.iter().zip(&served) {
        for unmatched in aggregator.unmatched_filters() {
            for &t in types {
                let warning = format!("type '{}': {unmatched}", config.types[t].name);
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
    }
    let contexts = served.iter().map(|types| match types.first() {
        Some(&t) => format!("type '{}'", config.types[t].name),
        None => "the features rules read".to_owned(),
    });
    let mut aggregated: Vec<Aggregated> = aggregators
        .into_iter()
        .zip(contexts)
        .map(|(a, context)| {
            a.finish(&dicts)
                .map_err(|o| overflow_error(context, o.unit, &dicts, o))
        })
        .collect::<Result<_>>()?;
    let features = aggregated
        .split_off(windows.len())
        .into_iter()
        .map(|a| match a {
            Aggregated::Features(f) => f,
            _ => unreachable!("feature aggregators come after the windows"),
        })
        .collect();
    Ok(Loaded {
        dicts,
        customers,
        aggregated,
        features,
        files,
        warnings,
    })
}

fn grouping(ty: &SegmentType, customers: &CustomerTable, n_customers: usize) -> Grouping {
    match ty.identity {
        Identity::Customer => Grouping::by_account(n_customers),
        Identity::Vat => {
            Grouping::by_vat(customers.column_values(CustomerColumn::Vat.name(), n_customers))
        }
    }
}

/// The error for a sum that overflowed while computing `context`, naming
/// the customer with index `customer`.
pub(crate) fn overflow_error(
    context: String,
    customer: u32,
    dicts: &Dictionaries,
    overflow: SumOverflow,
) -> Error {
    Error::Overflow {
        context,
        customer: dicts.customers.name(customer).to_owned(),
        overflow,
    }
}

/// Counts the accounts without a segment, by the reason their unit gives.
fn without_segment(
    accounts: &[AccountAssignment],
    grouping: &Grouping,
    reason: impl Fn(usize) -> Unclassified,
) -> Vec<(Unclassified, u64)> {
    Unclassified::count(
        accounts
            .iter()
            .zip(&grouping.unit_of_account)
            .filter(|(a, _)| a.segment.is_none())
            .map(|(_, &unit)| reason(unit as usize)),
    )
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
) -> Result<TypeResult> {
    let context = || format!("type '{}'", ty.name);
    // Sums of units name the unit's first account; sums over accounts, the account.
    let by_unit =
        |o: SumOverflow| overflow_error(context(), grouping.first_account(o.unit), dicts, o);
    let by_account = |o: SumOverflow| overflow_error(context(), o.unit, dicts, o);
    let mut ranked = Vec::new();
    let unclassified;
    let (accounts, explanations, account_sales, total, left_out): (
        Vec<AccountAssignment>,
        Vec<Explanation>,
        Vec<Amount>,
        Amount,
        Option<LeftOutSales>,
    ) = match (&ty.method, aggregated) {
        (Method::Pareto(spec), Aggregated::Sales(sales)) => {
            let outcome = pareto::classify(ty, spec, sales, grouping, manual).map_err(by_unit)?;
            let explanations = grouping
                .unit_of_account
                .iter()
                .map(|&u| Explanation::Pareto {
                    eligible_sales: outcome.unit_sales[u as usize],
                    share_before: outcome.ranking.share_before(u as usize),
                })
                .collect();
            let left_out =
                LeftOutSales::of(&outcome.ranking, &outcome.unit_sales).map_err(by_unit)?;
            unclassified = without_segment(&outcome.accounts, grouping, |unit| {
                match outcome.ranking.ranks[unit] {
                    pareto::Rank::LeftOut(LeftOut::BelowMinimum) => Unclassified::BelowMinimum,
                    pareto::Rank::LeftOut(LeftOut::Excluded) => Unclassified::ExcludedGroup,
                    _ => Unclassified::NoPositiveSales,
                }
            });
            ranked = outcome
                .ranking
                .ranks
                .iter()
                .zip(&outcome.unit_sales)
                .filter_map(|(rank, &sales)| match rank {
                    pareto::Rank::Ranked { tier, .. } => Some((sales, *tier)),
                    pareto::Rank::LeftOut(_) => None,
                })
                .collect();
            ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            (
                outcome.accounts,
                explanations,
                sales.clone(),
                outcome.ranking.total,
                Some(left_out),
            )
        }
        (Method::Rfm(spec), Aggregated::Rfm(inputs)) => {
            let outcome =
                rfm::classify(ty, spec, window.last, inputs, grouping, manual).map_err(by_unit)?;
            let explanations = grouping
                .unit_of_account
                .iter()
                .map(|&u| Explanation::Rfm(outcome.units[u as usize]))
                .collect();
            unclassified = without_segment(&outcome.accounts, grouping, |unit| {
                match outcome.units[unit] {
                    None => Unclassified::NoPositiveOrder,
                    Some(_) => Unclassified::NoRangeMatched,
                }
            });
            let mut total = Amount::ZERO;
            for (unit, score) in outcome.units.iter().enumerate() {
                if let Some(score) = score {
                    total = total.checked_add(score.monetary).ok_or_else(|| {
                        by_unit(SumOverflow {
                            kind: SumKind::Total,
                            unit: unit as u32,
                        })
                    })?;
                }
            }
            let monetary = inputs.iter().map(|i| i.monetary).collect();
            (outcome.accounts, explanations, monetary, total, None)
        }
        _ => unreachable!("aggregators are built from the type's method"),
    };
    let mut summary =
        summarize(ty, &accounts, &account_sales, total, left_out).map_err(by_account)?;
    summary.unclassified = unclassified;
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
    dicts.sort_by_customer_id(&mut rows, |r| r.customer);
    Ok(TypeResult {
        type_idx,
        window: Some(window),
        rows,
        summary,
        ranked,
    })
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

/// What a classification run is for.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Mode {
    /// `segment`: overrides apply; features only when rules types need them.
    Segment,
    /// `compare`: no overrides.
    Compare,
    /// `preview` and `explain`: overrides apply and features are always computed.
    Inspect,
}

/// Classifies every type, each after the types its rules reference.
fn classify_all(
    config: Config,
    inputs: &Inputs,
    as_of: Date,
    period: Option<Window>,
    mode: Mode,
    control: &Control<'_>,
) -> Result<(SegmentRun, Option<RulesContext>)> {
    let mut config = config;
    inputs.state.add_lists(&mut config)?;
    for stored in &inputs.state.stored {
        if config.find_type(&stored.type_name).is_none() {
            return Err(Error::Usage(format!(
                "a stored result names the unknown type '{}'",
                stored.type_name
            )));
        }
    }
    let overrides = match &inputs.overrides {
        Some(source) if mode != Mode::Compare => Some(Overrides::read(source.as_ref(), &config)?),
        _ => None,
    };
    let windows: Vec<(usize, Window)> = config
        .types
        .iter()
        .enumerate()
        .filter(|(_, t)| !is_rules(t) && inputs.state.stored(t).is_none())
        .map(|(i, t)| (i, period.unwrap_or_else(|| t.interval.window(as_of))))
        .collect();
    let mut filters: Vec<LineFilter> = Vec::new();
    if mode == Mode::Inspect {
        // Previews read every line.
        filters.push(LineFilter::default());
    }
    for ty in config
        .types
        .iter()
        .filter(|t| is_rules(t) && inputs.state.stored(t).is_none())
    {
        if !filters.contains(&ty.lines) {
            filters.push(ty.lines.clone());
        }
    }
    let scopes = (!filters.is_empty()).then_some(FeatureScopes { as_of, filters });
    let mut loaded = load(
        inputs,
        &config,
        &selection(&config, mode == Mode::Inspect),
        &windows,
        scopes.as_ref(),
        control,
    )?;
    let n_customers = loaded.dicts.customers.len();
    let manual = match &overrides {
        Some(o) => o.resolve(&config, &loaded.dicts)?,
        None => vec![Vec::new(); config.types.len()],
    };
    if let (Some(source), Some(o)) = (&inputs.overrides, &overrides) {
        loaded.files.push(FileInfo {
            name: source.name(),
            lines: o.len() as u64,
        });
    }
    control.progress.start("classifying", None);
    let order = evaluation_order(&config.types).map_err(|cycle| {
        Error::Usage(format!(
            "rules reference each other in a cycle: {}",
            cycle.join(" -> ")
        ))
    })?;
    let (dicts, customers) = (&loaded.dicts, &loaded.customers);
    let (mut rules, mut computed) = std::thread::scope(|scope| {
        // The feature table is built while the other types are classified.
        let building = scopes.map(|scopes| {
            let figures = std::mem::take(&mut loaded.features);
            let declared = &config.settings.attributes;
            let scoped = scopes.filters.into_iter().zip(figures).collect();
            scope.spawn(move || RulesContext::new(as_of, scoped, dicts, customers, declared))
        });
        let computed: Vec<Option<Result<TypeResult>>> = config
            .types
            .iter()
            .enumerate()
            .map(|(t, ty)| {
                let k = windows.iter().position(|&(i, _)| i == t)?;
                let grouping = grouping(ty, customers, n_customers);
                let manual = one_per_customer(&manual[t], n_customers);
                Some(classify_type(
                    t,
                    ty,
                    windows[k].1,
                    &loaded.aggregated[k],
                    &grouping,
                    &manual,
                    dicts,
                ))
            })
            .collect();
        let rules = building.map(|b| {
            b.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (rules, computed)
    });
    let mut results: Vec<Option<TypeResult>> = vec![None; config.types.len()];
    let mut warnings = std::mem::take(&mut loaded.warnings);
    for t in order {
        let ty = &config.types[t];
        if let Some(stored) = inputs.state.stored(ty) {
            if let Some(context) = &mut rules {
                let pairs = stored_pairs(ty, stored, dicts, &mut warnings)?;
                context.add_segments(ty, pairs);
            }
            continue;
        }
        let result = match (computed[t].take(), &rules) {
            (Some(result), _) => result?,
            (None, Some(context)) => {
                context.classify_type(t, &config, &manual[t], dicts, &mut warnings)?
            }
            (None, None) => unreachable!("rules types are read with their features"),
        };
        if let Some(context) = &mut rules {
            context.add_result(ty, &result);
        }
        results[t] = Some(result);
    }
    control.progress.finish();
    let run = SegmentRun {
        config,
        as_of,
        dicts: loaded.dicts,
        // Every type is classified, but those whose result was stored.
        types: results.into_iter().flatten().collect(),
        files: loaded.files,
        warnings,
    };
    Ok((run, rules))
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
    control: &Control<'_>,
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
    let ty = &config.types[type_idx];
    if !inputs.state.stored.is_empty() {
        // A stored result holds one date's segments; compare needs two.
        return Err(Error::Usage(
            "compare classifies every type at each period's end: it takes no stored results"
                .to_owned(),
        ));
    }
    if ty.is_multi() {
        return Err(Error::Usage(format!(
            "type '{type_name}' has groups (exclusive = false): compare needs one segment per customer"
        )));
    }
    let (periods, dicts, files) = if matches!(ty.method, Method::Rules(_)) {
        // Rules read everything up to a date: each period is classified as of its end.
        let [a, b] = periods
            .map(|p| classify_all(config.clone(), inputs, p.last, None, Mode::Compare, control));
        let ((mut a, _), (mut b, _)) = (a?, b?);
        let take = |run: &mut SegmentRun, period: Window| TypeResult {
            window: Some(period),
            ..run.types.swap_remove(type_idx)
        };
        (
            [take(&mut a, periods[0]), take(&mut b, periods[1])],
            b.dicts,
            b.files,
        )
    } else {
        let windows = [(type_idx, periods[0]), (type_idx, periods[1])];
        let loaded = load(
            inputs,
            &config,
            &selection(&config, false),
            &windows,
            None,
            control,
        )?;
        let n_customers = loaded.dicts.customers.len();
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
        ([classify(0)?, classify(1)?], loaded.dicts, loaded.files)
    };
    let n_customers = dicts.customers.len();
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
    dicts.sort_by_customer_id(&mut transitions, |r| r.customer);
    Ok(CompareRun {
        config,
        type_idx,
        periods,
        transitions,
        matrix,
        dicts,
        files,
    })
}

/// What a transactions file holds, read and decoded without aggregating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// Data lines.
    pub lines: u64,
    /// Distinct customers.
    pub customers: usize,
    /// Distinct orders (per customer).
    pub orders: usize,
    /// Earliest and latest line dates.
    pub dates: Option<(Date, Date)>,
}

/// Reads and checks sales lines without aggregating: every cell decoded,
/// or only the columns a configuration reads when one is given.
pub fn scan(
    source: &dyn LineSource,
    config: Option<&Config>,
    control: &Control<'_>,
) -> Result<Scan> {
    let mut dicts = Dictionaries::default();
    let mut dates: Option<(Date, Date)> = None;
    let selection = match config {
        Some(config) => selection(config, false),
        None => Selection::all(),
    };
    let info = read_lines(source, &selection, &mut dicts, control, &mut |batch| {
        if let (Some(&lo), Some(&hi)) = (batch.date.iter().min(), batch.date.iter().max()) {
            dates = Some(dates.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
    })?;
    Ok(Scan {
        lines: info.lines,
        customers: dicts.customers.len(),
        orders: dicts.n_orders(),
        dates,
    })
}

/// Checks that input files exist and can be read before anything is read.
pub fn check_files<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for path in paths {
        crate::table::check_readable(path)?;
    }
    Ok(())
}
