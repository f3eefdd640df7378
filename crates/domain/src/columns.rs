//! The columns of a transactions file that Strata reads, and the customers
//! file's reserved columns: one enum each for the configuration, the column
//! selection, both decoders and the generator, so that a misspelt column
//! name cannot compile.

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
    /// The line's number within its order: what identifies a stored line
    /// (a server's import keeps it; classification does not read it).
    Line,
}

impl LineColumn {
    /// Every column, required ones first.
    pub const ALL: [LineColumn; 11] = [
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
        LineColumn::Line,
    ];

    /// The name in a file's header (matched ignoring case and spaces).
    pub const fn name(self) -> &'static str {
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
            LineColumn::Line => "line",
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

/// A line number as text: a whole number from 1.
pub fn parse_line_number(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "'{text}' is not a line number; expected a whole number from 1"
        )),
    }
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A customers-file column with a meaning of its own; any other column is
/// an attribute that rules read as a feature of that name.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CustomerColumn {
    /// The customer account, as in the transactions file.
    CustomerId,
    /// E-mail: include and exclude lists may name customers by it.
    Email,
    /// VAT number: `identity = "vat"` pools the accounts sharing it.
    Vat,
    /// The customer's agency: a line without its own agency has this one.
    Agency,
    /// The customer's name.
    Name,
    /// Date of birth, read by the birthday features.
    Birthday,
    /// The customer's role (a text feature).
    Role,
    /// When the customer was created, read by `customer_age_days`.
    CreatedAt,
}

impl CustomerColumn {
    /// Every reserved column.
    pub const ALL: [CustomerColumn; 8] = [
        CustomerColumn::CustomerId,
        CustomerColumn::Email,
        CustomerColumn::Vat,
        CustomerColumn::Agency,
        CustomerColumn::Name,
        CustomerColumn::Birthday,
        CustomerColumn::Role,
        CustomerColumn::CreatedAt,
    ];

    /// The name in the customers file's header.
    pub const fn name(self) -> &'static str {
        match self {
            CustomerColumn::CustomerId => "customer_id",
            CustomerColumn::Email => "email",
            CustomerColumn::Vat => "vat",
            CustomerColumn::Agency => "agency",
            CustomerColumn::Name => "name",
            CustomerColumn::Birthday => "birthday",
            CustomerColumn::Role => "role",
            CustomerColumn::CreatedAt => "created_at",
        }
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
