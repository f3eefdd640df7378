//! ABC tiers by cumulative share of sales.
//!
//! A ranked unit's `before` is the total of ranked units with strictly greater
//! sales; it goes to the first tier whose cumulative share `C` satisfies
//! `before / T < C / 100`. The unit that crosses a line stays in the tier
//! above, and equal sales always share a tier. Everything is integer arithmetic.

use crate::classify::{combine, AccountAssignment, Computed, Grouping};
use crate::money::{Amount, Fraction, Percent, SumKind, SumOverflow};
use crate::segment_type::{ParetoSpec, Segment, SegmentIdx, SegmentType};

/// Why a unit is left out of the ranking.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum LeftOut {
    /// Eligible sales are zero or negative.
    NotPositive,
    /// Eligible sales are positive but below `min_sales`.
    BelowMinimum,
    /// An account of the unit is manually assigned to an excluded tier.
    Excluded,
}

/// A unit's place in the ranking.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Rank {
    /// Ranked into `tier`, with `before` the sales of strictly larger units.
    Ranked {
        /// The tier reached.
        tier: SegmentIdx,
        /// Sales of ranked units with strictly greater sales.
        before: Amount,
    },
    /// Not ranked.
    LeftOut(LeftOut),
}

/// The ranking of all units of a Pareto type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranking {
    /// One entry per unit.
    pub ranks: Vec<Rank>,
    /// `T`: the total eligible sales of ranked units.
    pub total: Amount,
}

impl Ranking {
    /// `before / T` for a ranked unit: the fraction that decided its tier.
    pub fn share_before(&self, unit: usize) -> Option<Fraction> {
        match self.ranks[unit] {
            Rank::Ranked { before, .. } => Some(Fraction {
                part: before,
                whole: self.total,
            }),
            Rank::LeftOut(_) => None,
        }
    }
}

/// Ranks units by sales. `excluded[u]` removes a unit from the ranking.
/// Fails when the ranked total `T` leaves the range of amounts.
pub fn rank(
    segments: &[Segment],
    min_sales: Amount,
    sales: &[Amount],
    excluded: &[bool],
) -> Result<Ranking, SumOverflow> {
    let ranks_left_out = sales.iter().zip(excluded).map(|(&s, &ex)| {
        if ex {
            Some(LeftOut::Excluded)
        } else if !s.is_positive() {
            Some(LeftOut::NotPositive)
        } else if s < min_sales {
            Some(LeftOut::BelowMinimum)
        } else {
            None
        }
    });
    let mut ranks: Vec<Rank> = Vec::with_capacity(sales.len());
    let mut ranked: Vec<u32> = Vec::new();
    for (unit, left_out) in ranks_left_out.enumerate() {
        match left_out {
            Some(reason) => ranks.push(Rank::LeftOut(reason)),
            None => {
                ranked.push(unit as u32);
                // Placeholder, replaced below once the tier is known.
                ranks.push(Rank::LeftOut(LeftOut::NotPositive));
            }
        }
    }
    let total = Amount::checked_sum(ranked.iter().map(|&u| sales[u as usize])).map_err(|i| {
        SumOverflow {
            kind: SumKind::Total,
            unit: ranked[i],
        }
    })?;
    ranked.sort_unstable_by(|&a, &b| sales[b as usize].cmp(&sales[a as usize]));

    let mut cumulative = Vec::new();
    let mut running = Percent::default();
    for (idx, segment) in segments.iter().enumerate() {
        if !segment.excluded {
            running = running + segment.share;
            cumulative.push((idx as SegmentIdx, running));
        }
    }
    let mut tier = 0;
    let mut before = Amount::ZERO;
    let mut start = 0;
    while start < ranked.len() {
        let value = sales[ranked[start] as usize];
        let end = start
            + ranked[start..]
                .iter()
                .take_while(|&&u| sales[u as usize] == value)
                .count();
        while tier + 1 < cumulative.len() && !cumulative[tier].1.exceeds_ratio(before, total) {
            tier += 1;
        }
        for &unit in &ranked[start..end] {
            ranks[unit as usize] = Rank::Ranked {
                tier: cumulative[tier].0,
                before,
            };
        }
        // `before` never exceeds T, which fits: these cannot overflow.
        before = value
            .checked_mul((end - start) as u64)
            .and_then(|tied| before.checked_add(tied))
            .expect("before stays within the ranked total");
        start = end;
    }
    Ok(Ranking { ranks, total })
}

/// The Pareto classification of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParetoOutcome {
    /// Eligible sales per unit.
    pub unit_sales: Vec<Amount>,
    /// The ranking of units.
    pub ranking: Ranking,
    /// Per account: effective, computed and manual segments.
    pub accounts: Vec<AccountAssignment>,
}

/// Classifies accounts from their eligible sales, pooled by `grouping`.
/// Manual assignments to excluded tiers take the whole unit out of the ranking.
pub fn classify(
    ty: &SegmentType,
    spec: &ParetoSpec,
    account_sales: &[Amount],
    grouping: &Grouping,
    manual: &[Option<SegmentIdx>],
) -> Result<ParetoOutcome, SumOverflow> {
    let unit_sales = grouping
        .try_pool(account_sales, Amount::checked_add)
        .map_err(|unit| SumOverflow {
            kind: SumKind::Unit,
            unit,
        })?;
    let excluded_accounts: Vec<bool> = (0..account_sales.len())
        .map(|a| {
            manual
                .get(a)
                .copied()
                .flatten()
                .is_some_and(|s| ty.is_excluded(s))
        })
        .collect();
    let excluded = grouping.pool(&excluded_accounts, |a, b| a || b);
    let ranking = rank(&ty.segments, spec.min_sales, &unit_sales, &excluded)?;
    let default = ty.default_segment();
    let computed: Vec<Computed> = ranking
        .ranks
        .iter()
        .map(|rank| match *rank {
            Rank::Ranked { tier, .. } => Computed::Segment(tier),
            Rank::LeftOut(_) => Computed::fallback(default),
        })
        .collect();
    let accounts = combine(grouping, &computed, manual);
    Ok(ParetoOutcome {
        unit_sales,
        ranking,
        accounts,
    })
}

#[cfg(test)]
mod tests;
