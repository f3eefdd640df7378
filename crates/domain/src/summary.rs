//! Per-type totals: accounts and sales per segment, what was left out of the
//! ranking, and how many manual assignments are in force.

use crate::classify::AccountAssignment;
use crate::money::Amount;
use crate::pareto::{LeftOut, Rank, Ranking};
use crate::segment_type::SegmentType;

/// Accounts and sales of one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentTotals {
    /// Segment name.
    pub name: String,
    /// Accounts whose effective segment this is.
    pub accounts: u64,
    /// The sum of those accounts' own sales in the window.
    pub sales: Amount,
}

/// Sales left out of a Pareto ranking, by reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LeftOutSales {
    /// Units with positive sales below `min_sales`.
    pub below_minimum: Amount,
    /// Units with zero or negative sales.
    pub not_positive: Amount,
    /// Units taken out by a manual excluded tier.
    pub excluded: Amount,
}

impl LeftOutSales {
    /// Totals the sales of left-out units by reason.
    pub fn of(ranking: &Ranking, unit_sales: &[Amount]) -> LeftOutSales {
        let mut out = LeftOutSales::default();
        for (rank, &sales) in ranking.ranks.iter().zip(unit_sales) {
            match rank {
                Rank::LeftOut(LeftOut::BelowMinimum) => out.below_minimum += sales,
                Rank::LeftOut(LeftOut::NotPositive) => out.not_positive += sales,
                Rank::LeftOut(LeftOut::Excluded) => out.excluded += sales,
                Rank::Ranked { .. } => {}
            }
        }
        out
    }
}

/// The summary of one type's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSummary {
    /// Type name.
    pub name: String,
    /// Method name.
    pub method: &'static str,
    /// One entry per segment, in the type's order.
    pub segments: Vec<SegmentTotals>,
    /// Accounts with a segment.
    pub accounts: u64,
    /// Their sales.
    pub sales: Amount,
    /// Pareto: `T`, the ranked total; RFM: the monetary total of scored units.
    pub classified_total: Amount,
    /// Pareto only: sales left out of the ranking.
    pub left_out: Option<LeftOutSales>,
    /// Manual assignments in force.
    pub manual: u64,
    /// Manual assignments that differ from the computed segment.
    pub manual_differs: u64,
}

/// Totals a type's assignments; `account_sales` is each account's own sales.
pub fn summarize(
    ty: &SegmentType,
    accounts: &[AccountAssignment],
    account_sales: &[Amount],
    classified_total: Amount,
    left_out: Option<LeftOutSales>,
) -> TypeSummary {
    let mut segments: Vec<SegmentTotals> = ty
        .segments
        .iter()
        .map(|s| SegmentTotals {
            name: s.name.clone(),
            accounts: 0,
            sales: Amount::ZERO,
        })
        .collect();
    let (mut n, mut sales, mut manual, mut manual_differs) = (0, Amount::ZERO, 0, 0);
    for (assignment, &account_sales) in accounts.iter().zip(account_sales) {
        if let Some(segment) = assignment.segment {
            let totals = &mut segments[usize::from(segment)];
            totals.accounts += 1;
            totals.sales += account_sales;
            n += 1;
            sales += account_sales;
        }
        if assignment.manual_segment.is_some() {
            manual += 1;
            if assignment.manual_segment != assignment.auto_segment {
                manual_differs += 1;
            }
        }
    }
    TypeSummary {
        name: ty.name.clone(),
        method: ty.method.name(),
        segments,
        accounts: n,
        sales,
        classified_total,
        left_out,
        manual,
        manual_differs,
    }
}
