//! The columns of a transactions file that Strata reads: one enum for the
//! configuration, the column selection, both decoders and the generator, so
//! that a misspelt column name cannot compile.

use std::fmt;

/// A transaction column Strata reads. Other columns of a file are ignored.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineColumn {
    /// The order (invoice) a line belongs to.
    OrderId,
    /// The customer account.
    CustomerId,
    /// The line's date.
    Date,
    /// The line's amount; negative for returns.
    Amount,
    /// The line's margin, for Pareto types with `measure = "margin"`.
    Margin,
    /// The agency that sold the line; else the customer's.
    Agency,
    /// The product brand.
    Brand,
    /// The product category.
    Category,
    /// The order's status (open or closed), for `late_order_days`.
    Status,
    /// The order's due date, for `late_order_days`.
    DueDate,
}

impl LineColumn {
    /// Every column, required ones first.
    pub const ALL: [LineColumn; 10] = [
        LineColumn::OrderId,
        LineColumn::CustomerId,
        LineColumn::Date,
        LineColumn::Amount,
        LineColumn::Margin,
        LineColumn::Agency,
        LineColumn::Brand,
        LineColumn::Category,
        LineColumn::Status,
        LineColumn::DueDate,
    ];

    /// The name in a file's header (matched ignoring case and spaces).
    pub fn name(self) -> &'static str {
        match self {
            LineColumn::OrderId => "order_id",
            LineColumn::CustomerId => "customer_id",
            LineColumn::Date => "date",
            LineColumn::Amount => "amount",
            LineColumn::Margin => "margin",
            LineColumn::Agency => "agency",
            LineColumn::Brand => "brand",
            LineColumn::Category => "category",
            LineColumn::Status => "status",
            LineColumn::DueDate => "due_date",
        }
    }

    /// The column of a header name already trimmed and lower-cased.
    pub fn from_name(name: &str) -> Option<LineColumn> {
        LineColumn::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether every transactions file must have it.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            LineColumn::OrderId | LineColumn::CustomerId | LineColumn::Date | LineColumn::Amount
        )
    }
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_read_back() {
        for column in LineColumn::ALL {
            assert_eq!(LineColumn::from_name(column.name()), Some(column));
        }
        assert_eq!(LineColumn::from_name("quantity"), None);
        let required: Vec<&str> = LineColumn::ALL
            .into_iter()
            .filter(|c| c.is_required())
            .map(LineColumn::name)
            .collect();
        assert_eq!(required, ["order_id", "customer_id", "date", "amount"]);
    }
}
