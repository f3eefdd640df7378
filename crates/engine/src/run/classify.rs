//! Classifying every type of a configuration, each after the types its
//! rules read.

use super::load::{is_rules, load, selection, FeatureScopes, Loaded};
use super::state::stored_pairs;
use super::{Inputs, SegmentRun, State};
use crate::aggregate::Aggregated;
use crate::customers::CustomerTable;
use crate::error::{Error, Result};
use crate::overrides::one_per_customer;
use crate::overrides::Overrides;
use crate::progress::Control;
use crate::result::overflow_error;
use crate::result::{AssignmentRow, Explanation, FileInfo, TypeResult};
use crate::rules_run::RulesContext;
use crate::transactions::Dictionaries;
use strata_domain::classify::{AccountAssignment, Grouping};
use strata_domain::columns::CustomerColumn;
use strata_domain::config::evaluation_order;
use strata_domain::config::Config;
use strata_domain::date::{Date, Window};
use strata_domain::money::{Amount, SumKind, SumOverflow};
use strata_domain::pareto::LeftOut;
use strata_domain::segment_type::{Identity, LineFilter, Method, SegmentIdx, SegmentType};
use strata_domain::summary::{summarize, LeftOutSales, Unclassified};
use strata_domain::{pareto, rfm};

pub(super) fn grouping(
    ty: &SegmentType,
    customers: &CustomerTable,
    n_customers: usize,
) -> Grouping {
    match ty.identity {
        Identity::Customer => Grouping::by_account(n_customers),
        Identity::Vat => {
            Grouping::by_vat(customers.column_values(CustomerColumn::Vat.name(), n_customers))
        }
    }
}

/// Counts the accounts without a segment, by the reason their unit gives.
pub(super) fn without_segment(
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
pub(super) fn classify_type(
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

/// What a classification run is for.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Mode {
    /// `segment`: overrides apply; features only when rules types need them.
    Segment,
    /// `compare`: no overrides.
    Compare,
    /// `preview` and `explain`: overrides apply and features are always computed.
    Inspect,
}

/// What a run reads: the window of each type it classifies (stored types
/// are not), and the line filters whose features rules need.
struct Plan {
    windows: Vec<(usize, Window)>,
    scopes: Option<FeatureScopes>,
}

impl Plan {
    fn new(
        config: &Config,
        state: &State,
        as_of: Date,
        period: Option<Window>,
        mode: Mode,
    ) -> Plan {
        let computed = |t: &SegmentType| state.stored(t).is_none();
        let windows = config
            .types
            .iter()
            .enumerate()
            .filter(|(_, t)| !is_rules(t) && computed(t))
            .map(|(i, t)| (i, period.unwrap_or_else(|| t.interval.window(as_of))))
            .collect();
        let mut filters: Vec<LineFilter> = Vec::new();
        if mode == Mode::Inspect {
            // Previews read every line.
            filters.push(LineFilter::default());
        }
        for ty in config.types.iter().filter(|t| is_rules(t) && computed(t)) {
            if !filters.contains(&ty.lines) {
                filters.push(ty.lines.clone());
            }
        }
        let scopes = (!filters.is_empty()).then_some(FeatureScopes { as_of, filters });
        Plan { windows, scopes }
    }
}

/// Classifies every type, each after the types its rules reference.
pub(super) fn classify_all(
    mut config: Config,
    inputs: &Inputs,
    as_of: Date,
    period: Option<Window>,
    mode: Mode,
    control: &Control<'_>,
) -> Result<(SegmentRun, Option<RulesContext>)> {
    inputs.state.apply(&mut config)?;
    let overrides = match &inputs.overrides {
        Some(source) if mode != Mode::Compare => Some(Overrides::read(source.as_ref(), &config)?),
        _ => None,
    };
    let plan = Plan::new(&config, &inputs.state, as_of, period, mode);
    let mut loaded = load(
        inputs,
        &config,
        &selection(&config, mode == Mode::Inspect),
        &plan.windows,
        plan.scopes.as_ref(),
        control,
    )?;
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
    let parallel = control.threads.get() > 1;
    let (mut rules, mut computed) =
        classify_windows(&config, &mut loaded, plan, &manual, as_of, parallel);
    let mut results: Vec<Option<TypeResult>> = vec![None; config.types.len()];
    let mut warnings = std::mem::take(&mut loaded.warnings);
    let dicts = &loaded.dicts;
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

/// The feature tables rules read, built on a thread of their own when
/// `parallel` (else after them) while the Pareto and RFM types are
/// classified from their windows here.
fn classify_windows(
    config: &Config,
    loaded: &mut Loaded,
    plan: Plan,
    manual: &[Vec<(u32, SegmentIdx)>],
    as_of: Date,
    parallel: bool,
) -> (Option<RulesContext>, Vec<Option<Result<TypeResult>>>) {
    let figures = std::mem::take(&mut loaded.features);
    let (dicts, customers) = (&loaded.dicts, &loaded.customers);
    let n_customers = dicts.customers.len();
    let windows = &plan.windows;
    let declared = &config.settings.attributes;
    let build = move |scopes: FeatureScopes| {
        let scoped = scopes.filters.into_iter().zip(figures).collect();
        RulesContext::new(as_of, scoped, dicts, customers, declared)
    };
    let (spawned, inline) = match plan.scopes {
        Some(scopes) if parallel => (Some(scopes), None),
        scopes => (None, scopes),
    };
    std::thread::scope(|scope| {
        let mut build = Some(build);
        let building = spawned.map(|scopes| {
            let build = build.take().expect("built once");
            scope.spawn(move || build(scopes))
        });
        let computed = config
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
        let rules = match (building, inline, build) {
            (Some(b), _, _) => Some(
                b.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            ),
            (None, Some(scopes), Some(build)) => Some(build(scopes)),
            _ => None,
        };
        (rules, computed)
    })
}
