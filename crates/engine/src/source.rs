//! Where a run's data comes from: sales lines in batches, and small tables
//! (customers, manual assignments). Files are two implementations among
//! others: a server feeds a database cursor or an uploaded body through the
//! same pipeline, and tests feed lines held in memory.

use crate::error::{Error, InputError, Location, Result, MAX_COLLECTED_ERRORS};
use crate::table::{is_parquet, StringTable};
use crate::transactions::{
    refuse_duplicate_columns, DecimalSeparator, DecodedBatch, Emit, ErrorMode, Selection, Texts,
};
pub use crate::transactions::{LineReader, LineSource};
use crate::{csv_input, parquet_input};
use arrow_array::StringArray;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use strata_domain::columns::LineColumn;
use strata_domain::date::Date;
use strata_domain::money::Amount;

/// A small table read whole as text cells: customers, manual assignments.
pub trait TableSource: Send + Sync {
    /// The table's name in messages and summaries (a file's path).
    fn name(&self) -> String;
    /// Every row, as text cells.
    fn read(&self) -> Result<StringTable>;
}

/// A CSV or Parquet transactions file (by extension).
pub struct FileLines {
    /// The file.
    pub path: PathBuf,
    /// The decimal separator of a `;` CSV file, when the user states it.
    pub decimal: Option<DecimalSeparator>,
}

impl LineSource for FileLines {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn open(
        &self,
        selection: &Selection,
        threads: NonZeroUsize,
    ) -> Result<Box<dyn LineReader + '_>> {
        let selection = Selection {
            decimal: self.decimal,
            ..selection.clone()
        };
        Ok(if is_parquet(&self.path) {
            Box::new(parquet_input::TransactionsDecoder::open(
                &self.path, &selection,
            )?)
        } else {
            Box::new(csv_input::TransactionsDecoder::open(
                &self.path, &selection, threads,
            )?)
        })
    }
}

/// A CSV or Parquet table file.
pub struct FileTable {
    /// The file.
    pub path: PathBuf,
}

impl TableSource for FileTable {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<StringTable> {
        let table = if is_parquet(&self.path) {
            parquet_input::read_string_table(&self.path)?
        } else {
            csv_input::read_string_table(&self.path)?
        };
        refuse_duplicate_columns(&self.path, &table.headers, None)?;
        Ok(table)
    }
}

impl TableSource for StringTable {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<StringTable> {
        Ok(self.clone())
    }
}

/// One sales line held in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The order (invoice).
    pub order_id: String,
    /// The customer account.
    pub customer_id: String,
    /// The line's date.
    pub date: Date,
    /// The amount; negative for returns.
    pub amount: Amount,
    /// The margin, when known.
    pub margin: Option<Amount>,
    /// The agency that sold the line.
    pub agency: Option<String>,
    /// The product brand.
    pub brand: Option<String>,
    /// The product category.
    pub category: Option<String>,
    /// The order's status.
    pub status: Option<String>,
    /// The order's due date.
    pub due_date: Option<Date>,
}

/// Sales lines held in memory, handed out in batches.
pub struct MemoryLines {
    /// The source's name in messages.
    pub name: String,
    /// The lines, in order.
    pub lines: Vec<Line>,
    /// Lines per batch (at least one).
    pub batch_lines: NonZeroUsize,
}

impl LineSource for MemoryLines {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn open(
        &self,
        selection: &Selection,
        _threads: NonZeroUsize,
    ) -> Result<Box<dyn LineReader + '_>> {
        let margin_reason = selection
            .required
            .iter()
            .find(|n| n.column == LineColumn::Margin)
            .map(|n| n.reason.as_str());
        let mut bad = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let problem = |column: Option<&str>, message: String| {
                InputError::new(
                    Path::new(&self.name),
                    Location::Row(i as u64 + 1),
                    column,
                    message,
                )
            };
            for (column, value) in [
                (LineColumn::CustomerId, &line.customer_id),
                (LineColumn::OrderId, &line.order_id),
            ] {
                if value.trim().is_empty() {
                    bad.push(problem(Some(column.name()), "empty value".to_owned()));
                }
            }
            if let (Some(reason), None) = (margin_reason, line.margin) {
                bad.push(problem(
                    Some(LineColumn::Margin.name()),
                    format!("no margin, which {reason} reads"),
                ));
            }
            let enough = match selection.errors {
                ErrorMode::Stop => 1,
                ErrorMode::Collect => MAX_COLLECTED_ERRORS,
            };
            if bad.len() >= enough {
                break;
            }
        }
        match selection.errors {
            ErrorMode::Stop if !bad.is_empty() => return Err(bad.swap_remove(0).into()),
            ErrorMode::Collect if !bad.is_empty() => return Err(Error::collected(bad)),
            _ => {}
        }
        Ok(Box::new(MemoryReader { source: self }))
    }
}

struct MemoryReader<'a> {
    source: &'a MemoryLines,
}

impl LineReader for MemoryReader<'_> {
    fn size(&self) -> Option<u64> {
        Some(self.source.lines.len() as u64)
    }

    fn read(self: Box<Self>, emit: &mut Emit<'_>) -> Result<()> {
        let mut position = 0u64;
        for batch in self.source.lines.chunks(self.source.batch_lines.get()) {
            position += batch.len() as u64;
            let texts = |f: fn(&Line) -> Option<&str>| {
                Some(Texts::Plain(batch.iter().map(f).collect::<StringArray>()))
            };
            let decoded = DecodedBatch {
                customer: batch.iter().map(|l| Some(l.customer_id.as_str())).collect(),
                order: batch.iter().map(|l| Some(l.order_id.as_str())).collect(),
                date: batch.iter().map(|l| l.date).collect(),
                amount: batch.iter().map(|l| l.amount).collect(),
                margin: Some(
                    batch
                        .iter()
                        .map(|l| l.margin.unwrap_or(Amount::ZERO))
                        .collect(),
                ),
                agency: texts(|l| l.agency.as_deref()),
                brand: texts(|l| l.brand.as_deref()),
                category: texts(|l| l.category.as_deref()),
                status: texts(|l| l.status.as_deref()),
                due_date: Some(batch.iter().map(|l| l.due_date).collect()),
                line: None,
                position,
            };
            if !emit(decoded) {
                break;
            }
        }
        Ok(())
    }
}
