//! Stored lines as a run reads them: in batches, column by column, so that
//! ten million lines never sit in memory as one value each and the engine
//! takes the columns as they are.

use crate::models::StoredLine;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use strata_domain::date::Date;
use strata_domain::money::Amount;

/// Stored lines, column by column.
#[derive(Debug)]
pub struct LineBatch {
    /// Customer ids.
    pub customer_id: StringArray,
    /// Order ids.
    pub order_id: StringArray,
    /// Line numbers within their order.
    pub line: Vec<i64>,
    /// Dates.
    pub date: Vec<Date>,
    /// Amounts.
    pub amount: Vec<Amount>,
    /// Margins, when known.
    pub margin: Vec<Option<Amount>>,
    /// Agencies (null when none).
    pub agency: StringArray,
    /// Brands.
    pub brand: StringArray,
    /// Categories.
    pub category: StringArray,
    /// Order statuses.
    pub status: StringArray,
    /// Due dates.
    pub due_date: Vec<Option<Date>>,
}

impl LineBatch {
    /// How many lines the batch holds.
    pub fn len(&self) -> usize {
        self.date.len()
    }

    /// Whether the batch holds no line.
    pub fn is_empty(&self) -> bool {
        self.date.is_empty()
    }

    /// The `i`-th line as a value of its own.
    pub fn line(&self, i: usize) -> StoredLine {
        let text = |a: &StringArray| (!a.is_null(i)).then(|| a.value(i).to_owned());
        StoredLine {
            customer_id: self.customer_id.value(i).to_owned(),
            order_id: self.order_id.value(i).to_owned(),
            line: self.line[i],
            date: self.date[i],
            amount: self.amount[i],
            margin: self.margin[i],
            agency: text(&self.agency),
            brand: text(&self.brand),
            category: text(&self.category),
            status: text(&self.status),
            due_date: self.due_date[i],
        }
    }
}

/// One line as a backend reads it from a row, borrowing its texts.
pub struct LineRef<'a> {
    /// The customer account.
    pub customer_id: &'a str,
    /// The order.
    pub order_id: &'a str,
    /// The line's number within its order.
    pub line: i64,
    /// The line's date.
    pub date: Date,
    /// The amount.
    pub amount: Amount,
    /// The margin, when known.
    pub margin: Option<Amount>,
    /// The agency.
    pub agency: Option<&'a str>,
    /// The brand.
    pub brand: Option<&'a str>,
    /// The category.
    pub category: Option<&'a str>,
    /// The order's status.
    pub status: Option<&'a str>,
    /// The due date.
    pub due_date: Option<Date>,
}

/// Builds [`LineBatch`]es of a given size from rows, copying each text once.
pub struct LineBatchBuilder {
    capacity: usize,
    customer_id: StringBuilder,
    order_id: StringBuilder,
    line: Vec<i64>,
    date: Vec<Date>,
    amount: Vec<Amount>,
    margin: Vec<Option<Amount>>,
    agency: StringBuilder,
    brand: StringBuilder,
    category: StringBuilder,
    status: StringBuilder,
    due_date: Vec<Option<Date>>,
}

impl LineBatchBuilder {
    /// A builder of batches of `capacity` lines (at least one).
    pub fn new(capacity: usize) -> LineBatchBuilder {
        let capacity = capacity.max(1);
        let texts = || StringBuilder::with_capacity(capacity, capacity * 8);
        LineBatchBuilder {
            capacity,
            customer_id: texts(),
            order_id: texts(),
            line: Vec::with_capacity(capacity),
            date: Vec::with_capacity(capacity),
            amount: Vec::with_capacity(capacity),
            margin: Vec::with_capacity(capacity),
            agency: texts(),
            brand: texts(),
            category: texts(),
            status: texts(),
            due_date: Vec::with_capacity(capacity),
        }
    }

    /// Adds a line; returns a full batch when this line completed one.
    pub fn push(&mut self, line: LineRef<'_>) -> Option<LineBatch> {
        self.customer_id.append_value(line.customer_id);
        self.order_id.append_value(line.order_id);
        self.line.push(line.line);
        self.date.push(line.date);
        self.amount.push(line.amount);
        self.margin.push(line.margin);
        self.agency.append_option(line.agency);
        self.brand.append_option(line.brand);
        self.category.append_option(line.category);
        self.status.append_option(line.status);
        self.due_date.push(line.due_date);
        (self.date.len() >= self.capacity).then(|| self.take())
    }

    /// The lines added since the last batch, if any.
    pub fn finish(mut self) -> Option<LineBatch> {
        (!self.date.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> LineBatch {
        let capacity = self.capacity;
        LineBatch {
            customer_id: self.customer_id.finish(),
            order_id: self.order_id.finish(),
            line: std::mem::replace(&mut self.line, Vec::with_capacity(capacity)),
            date: std::mem::replace(&mut self.date, Vec::with_capacity(capacity)),
            amount: std::mem::replace(&mut self.amount, Vec::with_capacity(capacity)),
            margin: std::mem::replace(&mut self.margin, Vec::with_capacity(capacity)),
            agency: self.agency.finish(),
            brand: self.brand.finish(),
            category: self.category.finish(),
            status: self.status.finish(),
            due_date: std::mem::replace(&mut self.due_date, Vec::with_capacity(capacity)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(n: i64, agency: Option<&str>) -> StoredLine {
        StoredLine {
            customer_id: format!("C{n}"),
            order_id: format!("O{n}"),
            line: n,
            date: Date::parse_iso("2026-01-02").unwrap(),
            amount: Amount(n * 10),
            margin: (n % 2 == 0).then_some(Amount(n)),
            agency: agency.map(str::to_owned),
            brand: None,
            category: Some("Tools".into()),
            status: None,
            due_date: None,
        }
    }

    #[test]
    fn batches_hold_the_lines_pushed_in_order_and_at_most_the_capacity() {
        let lines: Vec<StoredLine> = (0..5)
            .map(|n| stored(n, (n != 3).then_some("Lyon")))
            .collect();
        let mut builder = LineBatchBuilder::new(2);
        let mut batches = Vec::new();
        for l in &lines {
            batches.extend(builder.push(LineRef {
                customer_id: &l.customer_id,
                order_id: &l.order_id,
                line: l.line,
                date: l.date,
                amount: l.amount,
                margin: l.margin,
                agency: l.agency.as_deref(),
                brand: l.brand.as_deref(),
                category: l.category.as_deref(),
                status: l.status.as_deref(),
                due_date: l.due_date,
            }));
        }
        batches.extend(builder.finish());
        assert_eq!(
            batches.iter().map(LineBatch::len).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        let back: Vec<StoredLine> = batches
            .iter()
            .flat_map(|b| (0..b.len()).map(|i| b.line(i)))
            .collect();
        assert_eq!(back, lines);
    }
}
