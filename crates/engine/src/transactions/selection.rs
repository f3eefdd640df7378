//! Which columns a run reads, where a file has them, and what a bad header
//! is told.

use crate::error::{shown, Error, InputError, Location, Result};
use crate::progress::ErrorMode;
use std::path::Path;
use strata_domain::columns::LineColumn;

/// An optional column that the configuration makes necessary, and why.
#[derive(Clone, Debug)]
pub struct NeededColumn {
    /// The column.
    pub column: LineColumn,
    /// Why it is needed, for the message.
    pub reason: String,
}

/// Which columns of the transactions file are read. `order_id`,
/// `customer_id`, `date` and `amount` always are.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Optional columns that must be present, and why.
    pub required: Vec<NeededColumn>,
    /// Optional columns decoded when present; `None` decodes all of them.
    pub optional: Option<Vec<LineColumn>>,
    /// The decimal separator of a `;` CSV file's amounts, when the user
    /// states it; otherwise every amount must use the one the file uses.
    pub decimal: Option<DecimalSeparator>,
    /// Whether a bad cell stops the reading or is collected.
    pub errors: ErrorMode,
}

/// The character between units and decimals in a CSV amount.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DecimalSeparator {
    /// `12,50`
    Comma,
    /// `12.50`
    Point,
}

impl DecimalSeparator {
    /// The character itself.
    pub fn char(self) -> char {
        match self {
            DecimalSeparator::Comma => ',',
            DecimalSeparator::Point => '.',
        }
    }
}

impl Selection {
    /// Every column the file has.
    pub fn all() -> Selection {
        Selection::default()
    }

    fn wants(&self, column: LineColumn) -> bool {
        self.optional
            .as_ref()
            .is_none_or(|columns| columns.contains(&column))
    }
}

/// Column positions of the transactions file; optional columns that are
/// absent or not selected are `None`.
pub(crate) struct ColumnMap {
    pub order: usize,
    pub customer: usize,
    pub date: usize,
    pub amount: usize,
    pub margin: Option<usize>,
    pub agency: Option<usize>,
    pub brand: Option<usize>,
    pub category: Option<usize>,
    pub status: Option<usize>,
    pub due_date: Option<usize>,
    pub line: Option<usize>,
}

impl ColumnMap {
    /// Finds the columns in a header, checking the required ones.
    pub(crate) fn find(
        path: &Path,
        headers: &[String],
        selection: &Selection,
    ) -> Result<ColumnMap> {
        // The columns Strata reads may not repeat; another column may.
        let known = LineColumn::ALL.map(LineColumn::name);
        refuse_duplicate_columns(path, headers, Some(&known))?;
        let find = |column: LineColumn| headers.iter().position(|h| h == column.name());
        let require = |column: LineColumn| {
            find(column).ok_or_else(|| missing_column(path, column.name(), headers))
        };
        if let Some(n) = selection.required.iter().find(|n| find(n.column).is_none()) {
            return Err(InputError::new(
                path,
                Location::Header,
                None,
                format!("missing column '{}', required by {}", n.column, n.reason),
            )
            .into());
        }
        let optional = |column: LineColumn| find(column).filter(|_| selection.wants(column));
        Ok(ColumnMap {
            order: require(LineColumn::OrderId)?,
            customer: require(LineColumn::CustomerId)?,
            date: require(LineColumn::Date)?,
            amount: require(LineColumn::Amount)?,
            margin: optional(LineColumn::Margin),
            agency: optional(LineColumn::Agency),
            brand: optional(LineColumn::Brand),
            category: optional(LineColumn::Category),
            status: optional(LineColumn::Status),
            due_date: optional(LineColumn::DueDate),
            line: optional(LineColumn::Line),
        })
    }
}

/// The error for a required column that is absent.
pub fn missing_column(path: &Path, name: &str, found: &[String]) -> Error {
    InputError::new(
        path,
        Location::Header,
        None,
        format!(
            "missing required column '{name}' (found: {})",
            shown(&found.join(", "))
        ),
    )
    .into()
}

/// Refuses two columns with the same name (headers are trimmed and
/// lower-cased already), among `names` or, when `names` is `None`, among all
/// named columns; blank headers, as spreadsheets write them, are ignored.
pub fn refuse_duplicate_columns(
    path: &Path,
    headers: &[String],
    names: Option<&[&str]>,
) -> Result<()> {
    for (second, name) in headers.iter().enumerate() {
        let counted = !name.is_empty() && names.is_none_or(|names| names.contains(&name.as_str()));
        if !counted {
            continue;
        }
        if let Some(first) = headers[..second].iter().position(|h| h == name) {
            return Err(InputError::new(
                path,
                Location::Header,
                None,
                format!(
                    "columns {} and {} are both named '{name}' (names ignore case and surrounding spaces): keep one",
                    first + 1,
                    second + 1
                ),
            )
            .into());
        }
    }
    Ok(())
}
