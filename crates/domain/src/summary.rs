//! Per-type totals: accounts and sales per segment, what was left out of the
//! ranking, and how many manual assignments are in force.

use crate::classify::AccountAssignment;
use crate::money::{Amount, SumKind, SumOverflow};
use crate::pareto::{LeftOut, Rank, Ranking};
use crate::segment_type::{MethodKind, SegmentType};

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
    pub fn of(ranking: &Ranking, unit_sales: &[Amount]) -> Result<LeftOutSales, SumOverflow> {
        let mut out = LeftOutSales::default();
        for (unit, (rank, &sales)) in ranking.ranks.iter().zip(unit_sales).enumerate() {
            let total = match rank {
                Rank::LeftOut(LeftOut::BelowMinimum) => &mut out.below_minimum,
                Rank::LeftOut(LeftOut::NotPositive) => &mut out.not_positive,
                Rank::LeftOut(LeftOut::Excluded) => &mut out.excluded,
                Rank::Ranked { .. } => continue,
            };
            *total = add_total(*total, sales, unit)?;
        }
        Ok(out)
    }
}

/// Why a customer has no segment, and so no row, in a type without a
/// default segment.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unclassified {
    /// Pareto: no sales in the window, or sales that net to zero or less.
    NoPositiveSales,
    /// Pareto: positive sales below `min_sales`.
    BelowMinimum,
    /// Pareto by VAT: the group was taken out of the ranking by another
    /// account's manual excluded tier.
    ExcludedGroup,
    /// RFM: no order with a positive net in the window (none, or returns only).
    NoPositiveOrder,
    /// RFM: the scores fall in no segment's ranges.
    NoRangeMatched,
    /// Rules: no segment's rule or include list takes the customer.
    NoRuleMatched,
    /// Rules: the type names agencies or brands, and the customer has no
    /// line of them and no such agency in the customers file.
    OutsideLines,
}

impl Unclassified {
    /// The stable name, for JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Unclassified::NoPositiveSales => "no_positive_sales",
            Unclassified::BelowMinimum => "below_min_sales",
            Unclassified::ExcludedGroup => "excluded_group",
            Unclassified::NoPositiveOrder => "no_positive_order",
            Unclassified::NoRangeMatched => "no_range_matched",
            Unclassified::NoRuleMatched => "no_rule_matched",
            Unclassified::OutsideLines => "outside_lines",
        }
    }

    /// The reason in words.
    pub fn describe(self) -> &'static str {
        match self {
            Unclassified::NoPositiveSales => "no positive sales in the window",
            Unclassified::BelowMinimum => "sales below min_sales",
            Unclassified::ExcludedGroup => "VAT group taken out by a manual excluded tier",
            Unclassified::NoPositiveOrder => "no order with a positive net in the window",
            Unclassified::NoRangeMatched => "scores in no segment's ranges",
            Unclassified::NoRuleMatched => "matched by no segment",
            Unclassified::OutsideLines => "no line of the type's agencies or brands",
        }
    }

    /// Counts reasons, in the order of this enum, leaving out zeros.
    pub fn count(reasons: impl IntoIterator<Item = Unclassified>) -> Vec<(Unclassified, u64)> {
        let mut counts: Vec<(Unclassified, u64)> = Vec::new();
        for reason in reasons {
            match counts.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => counts.push((reason, 1)),
            }
        }
        counts.sort_unstable();
        counts
    }
}

/// The summary of one type's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSummary {
    /// Type name.
    pub name: String,
    /// The method.
    pub method: MethodKind,
    /// One entry per segment, in the type's order.
    pub segments: Vec<SegmentTotals>,
    /// Accounts with a segment (for group types, memberships).
    pub accounts: u64,
    /// The customers that percentages of customers divide by: the accounts
    /// with a segment, or for group types every customer considered.
    pub customers: u64,
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
    /// Customers without a segment (and without a row), by reason.
    pub unclassified: Vec<(Unclassified, u64)>,
}

/// `total + value`, or the overflow of a total over customers at `unit`.
fn add_total(total: Amount, value: Amount, unit: usize) -> Result<Amount, SumOverflow> {
    total.checked_add(value).ok_or(SumOverflow {
        kind: SumKind::Total,
        unit: unit as u32,
    })
}

/// Totals a type's assignments; `account_sales` is each account's own sales.
/// Fails when a total overflows, naming the account being added.
pub fn summarize(
    ty: &SegmentType,
    accounts: &[AccountAssignment],
    account_sales: &[Amount],
    classified_total: Amount,
    left_out: Option<LeftOutSales>,
) -> Result<TypeSummary, SumOverflow> {
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
    for (account, (assignment, &account_sales)) in accounts.iter().zip(account_sales).enumerate() {
        if let Some(segment) = assignment.segment {
            let totals = &mut segments[usize::from(segment)];
            totals.accounts += 1;
            totals.sales = add_total(totals.sales, account_sales, account)?;
            n += 1;
            sales = add_total(sales, account_sales, account)?;
        }
        if assignment.manual_segment.is_some() {
            manual += 1;
            if assignment.manual_segment != assignment.auto_segment {
                manual_differs += 1;
            }
        }
    }
    Ok(TypeSummary {
        name: ty.name.clone(),
        method: ty.method.kind(),
        segments,
        accounts: n,
        customers: n,
        sales,
        classified_total,
        left_out,
        manual,
        manual_differs,
        unclassified: Vec::new(),
    })
}
