//! What a run produces per type: each customer's row with what explains
//! it, and the type's summary; shared by every kind of type and run.

use crate::error::Error;
use crate::transactions::Dictionaries;
use strata_domain::classify::AccountAssignment;
use strata_domain::date::Window;
use strata_domain::money::{Amount, Fraction, SumOverflow};
use strata_domain::rfm::RfmScore;
use strata_domain::segment_type::SegmentIdx;
use strata_domain::summary::TypeSummary;

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
