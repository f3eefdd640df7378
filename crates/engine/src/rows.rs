//! Reading a source's lines back as plain [`Line`]s, every bad cell
//! listed: what a server's import stores. The same decoders as a run, so
//! a file is accepted by an import exactly when a run would read it.

use crate::error::Result;
use crate::progress::ErrorMode;
use crate::source::{Line, LineSource};
use crate::transactions::{DecodedBatch, Selection, Texts};
use arrow_array::cast::AsArray;
use arrow_array::{Array, StringArray};
use std::num::NonZeroUsize;

impl Texts {
    /// The `i`-th value, trimmed; `None` when missing or empty.
    pub fn value(&self, i: usize) -> Option<&str> {
        let text = match self {
            Texts::Plain(values) => (!values.is_null(i)).then(|| values.value(i)),
            Texts::Dictionary(dictionary) => {
                let keys = dictionary.keys();
                let values: &StringArray = dictionary.values().as_string();
                (!keys.is_null(i)).then(|| values.value(keys.value(i) as usize))
            }
        };
        text.map(str::trim).filter(|t| !t.is_empty())
    }
}

/// The lines of a source, in its order, with their `line` numbers when
/// it has that column.
#[derive(Debug, Default)]
pub struct ReadLines {
    /// The lines.
    pub lines: Vec<Line>,
    /// One number per line, or `None` without a `line` column.
    pub numbers: Option<Vec<i64>>,
}

/// Every line of `source` with every column it has, or every bad cell
/// (up to [`crate::error::MAX_COLLECTED_ERRORS`]) in one error.
pub fn read_all(source: &dyn LineSource, threads: NonZeroUsize) -> Result<ReadLines> {
    let selection = Selection {
        errors: ErrorMode::Collect,
        ..Selection::all()
    };
    let reader = source.open(&selection, threads)?;
    let mut lines = Vec::new();
    let mut numbers: Option<Vec<i64>> = None;
    reader.read(&mut |batch: DecodedBatch| {
        if let Some(batch_numbers) = &batch.line {
            numbers
                .get_or_insert_with(Vec::new)
                .extend_from_slice(batch_numbers);
        }
        let text = |texts: &Option<Texts>, i: usize| {
            texts.as_ref().and_then(|t| t.value(i)).map(str::to_owned)
        };
        for i in 0..batch.len() {
            lines.push(Line {
                order_id: batch.order.value(i).trim().to_owned(),
                customer_id: batch.customer.value(i).trim().to_owned(),
                date: batch.date[i],
                amount: batch.amount[i],
                margin: batch.margin.as_ref().map(|m| m[i]),
                agency: text(&batch.agency, i),
                brand: text(&batch.brand, i),
                category: text(&batch.category, i),
                status: text(&batch.status, i),
                due_date: batch.due_date.as_ref().and_then(|d| d[i]),
            });
        }
        true
    })?;
    Ok(ReadLines { lines, numbers })
}
