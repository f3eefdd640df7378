//! Recency, frequency and monetary scores and the segments named from them.
//!
//! Quantile scores give ties the same score:
//! `score = min(bins, 1 + floor(bins * worse / n))`, where `worse` counts the
//! scored units strictly worse. Fixed thresholds replace quantiles per letter.

use crate::classify::{combine, AccountAssignment, Computed, Grouping};
use crate::date::Date;
use crate::money::{Amount, SumKind, SumOverflow};
use crate::segment_type::{RfmNaming, RfmSpec, SegmentIdx, SegmentType, DEFAULT_RFM_SEGMENTS};

/// What the window holds for one account (or unit).
#[derive(Copy, Clone, Eq, PartialEq, Debug, Default)]
pub struct RfmInput {
    /// Date of the latest order with a positive net.
    pub last_positive_order: Option<Date>,
    /// Number of orders with a positive net.
    pub positive_orders: u32,
    /// Net sum of all lines, returns included.
    pub monetary: Amount,
}

impl RfmInput {
    /// Counts one order of the window: only an order with a positive net
    /// (not a return or credit note) counts for recency and frequency.
    pub fn add_order(&mut self, net: Amount, date: Date) {
        if net.is_positive() {
            self.positive_orders = self.positive_orders.saturating_add(1);
            self.last_positive_order = self.last_positive_order.max(Some(date));
        }
    }

    /// Pools two accounts of one unit; `None` when a sum overflows.
    pub fn merge(self, other: RfmInput) -> Option<RfmInput> {
        Some(RfmInput {
            last_positive_order: self.last_positive_order.max(other.last_positive_order),
            positive_orders: self.positive_orders.checked_add(other.positive_orders)?,
            monetary: self.monetary.checked_add(other.monetary)?,
        })
    }
}

/// The scores of a unit with at least one positive order.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct RfmScore {
    /// Days from the last positive order to the window end.
    pub recency_days: i32,
    /// Positive orders in the window.
    pub frequency: u32,
    /// Net sum in the window.
    pub monetary: Amount,
    /// Recency score, `bins` is the most recent.
    pub r: u8,
    /// Frequency score.
    pub f: u8,
    /// Monetary score.
    pub m: u8,
}

/// Quantile scores of `values`; `higher_is_better` says which way is worse.
pub fn quantile_scores<T: Ord + Copy>(values: &[T], bins: u8, higher_is_better: bool) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = values.len() as u64;
    values
        .iter()
        .map(|v| {
            let worse = if higher_is_better {
                sorted.partition_point(|x| x < v)
            } else {
                sorted.len() - sorted.partition_point(|x| x <= v)
            } as u64;
            (1 + u64::from(bins) * worse / n).min(u64::from(bins)) as u8
        })
        .collect()
}

/// Recency score from fixed day thresholds: `bins` minus the number of thresholds strictly below.
pub fn recency_from_thresholds(days: i64, thresholds: &[i64], bins: u8) -> u8 {
    bins - thresholds.iter().filter(|&&t| t < days).count() as u8
}

/// Frequency or monetary score from fixed thresholds: 1 plus the number of thresholds at or below.
pub fn score_from_thresholds<T: PartialOrd>(value: T, thresholds: &[T]) -> u8 {
    1 + thresholds.iter().filter(|&t| *t <= value).count() as u8
}

/// The built-in segment for (R, F) scores on five bins, as an index into [`DEFAULT_RFM_SEGMENTS`].
pub fn default_map(r: u8, f: u8) -> SegmentIdx {
    let name = match r {
        ..=2 => match f {
            ..=2 => "hibernating",
            3..=4 => "at_risk",
            _ => "cant_lose",
        },
        3 => match f {
            ..=2 => "about_to_sleep",
            3 => "need_attention",
            _ => "loyal",
        },
        4 => match f {
            ..=1 => "promising",
            2..=3 => "potential_loyalist",
            _ => "loyal",
        },
        _ => match f {
            ..=1 => "new_customers",
            2..=3 => "potential_loyalist",
            _ => "champions",
        },
    };
    DEFAULT_RFM_SEGMENTS
        .iter()
        .position(|n| *n == name)
        .expect("the map names listed segments") as SegmentIdx
}

/// Scores every unit with a positive order; others get `None`.
pub fn score(spec: &RfmSpec, window_end: Date, units: &[RfmInput]) -> Vec<Option<RfmScore>> {
    let scored: Vec<(usize, i32, RfmInput)> = units
        .iter()
        .enumerate()
        .filter_map(|(i, u)| {
            u.last_positive_order
                .filter(|_| u.positive_orders > 0)
                .map(|last| (i, window_end.days_since(last), *u))
        })
        .collect();
    let bins = spec.bins;
    let recency: Vec<i32> = scored.iter().map(|s| s.1).collect();
    let r = match &spec.recency_days {
        Some(t) => recency
            .iter()
            .map(|&d| recency_from_thresholds(i64::from(d), t, bins))
            .collect(),
        None => quantile_scores(&recency, bins, false),
    };
    let frequency: Vec<u32> = scored.iter().map(|s| s.2.positive_orders).collect();
    let f = match &spec.frequency {
        Some(t) => frequency
            .iter()
            .map(|&v| score_from_thresholds(i64::from(v), t))
            .collect(),
        None => quantile_scores(&frequency, bins, true),
    };
    let monetary: Vec<Amount> = scored.iter().map(|s| s.2.monetary).collect();
    let m = match &spec.monetary {
        Some(t) => monetary
            .iter()
            .map(|&v| score_from_thresholds(v, t))
            .collect(),
        None => quantile_scores(&monetary, bins, true),
    };
    let mut out = vec![None; units.len()];
    for (k, (unit, recency_days, input)) in scored.into_iter().enumerate() {
        out[unit] = Some(RfmScore {
            recency_days,
            frequency: input.positive_orders,
            monetary: input.monetary,
            r: r[k],
            f: f[k],
            m: m[k],
        });
    }
    out
}

/// The segment a score names: the default map, or the type's first
/// segment, neither excluded nor the default, whose ranges all contain the
/// scores, else its default (so the default's source is always `default`).
pub fn name(ty: &SegmentType, naming: RfmNaming, score: &RfmScore) -> Computed {
    match naming {
        RfmNaming::DefaultMap => Computed::Segment(default_map(score.r, score.f)),
        RfmNaming::Custom => ty
            .segments
            .iter()
            .position(|s| {
                let within = |range: Option<crate::segment_type::ScoreRange>, v: u8| {
                    range.is_none_or(|r| r.contains(v))
                };
                !s.excluded
                    && !s.is_default
                    && within(s.r, score.r)
                    && within(s.f, score.f)
                    && within(s.m, score.m)
            })
            .map_or_else(
                || Computed::fallback(ty.default_segment()),
                |i| Computed::Segment(i as SegmentIdx),
            ),
    }
}

/// The RFM classification of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RfmOutcome {
    /// Scores per unit, `None` for units without a positive order.
    pub units: Vec<Option<RfmScore>>,
    /// Per account: effective, computed and manual segments.
    pub accounts: Vec<AccountAssignment>,
}

/// Classifies accounts from their window figures, pooled by `grouping`.
pub fn classify(
    ty: &SegmentType,
    spec: &RfmSpec,
    window_end: Date,
    accounts: &[RfmInput],
    grouping: &Grouping,
    manual: &[Option<SegmentIdx>],
) -> Result<RfmOutcome, SumOverflow> {
    let pooled = grouping
        .try_pool(accounts, RfmInput::merge)
        .map_err(|unit| SumOverflow {
            kind: SumKind::Unit,
            unit,
        })?;
    let units = score(spec, window_end, &pooled);
    let computed: Vec<Computed> = units
        .iter()
        .map(|s| {
            s.as_ref()
                .map_or(Computed::Nothing, |s| name(ty, spec.naming, s))
        })
        .collect();
    Ok(RfmOutcome {
        accounts: combine(grouping, &computed, manual),
        units,
    })
}

#[cfg(test)]
mod tests;
