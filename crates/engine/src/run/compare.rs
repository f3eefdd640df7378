//! `compare`: one type classified over two periods, and who moved where.

use super::classify::{classify_all, classify_type, grouping, Mode};
use super::load::{load, selection};
use super::{Inputs, SegmentRun};
use crate::error::{Error, Result};
use crate::progress::Control;
use crate::result::{FileInfo, TypeResult};
use crate::transactions::Dictionaries;
use strata_domain::compare::{Movement, TransitionMatrix};
use strata_domain::config::Config;
use strata_domain::date::Window;
use strata_domain::segment_type::{Method, SegmentIdx};

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
    Window::parse_period(text).map_err(Error::Usage)
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
