//! Reading transaction lines from CSV or Parquet into batches of integer
//! columns: customer and order ids interned once, dates as day numbers,
//! amounts as fixed-point integers. Batches stream into the aggregators, so
//! memory grows with customers and orders, never with lines.

use crate::csv_input::{csv_error, open_csv, utf8_field};
use crate::error::{InputError, Location, Result};
use crate::intern::{Interner, NONE};
use crate::parquet_input;
use crate::progress::Progress;
use crate::table::is_parquet;
use std::path::Path;
use strata_domain::date::Date;
use strata_domain::money::{Amount, AmountError, ExtraDigits};

/// Lines per batch handed to the aggregators.
pub const BATCH_LINES: usize = 64 * 1024;

/// A batch of decoded transaction lines, one entry per line in each column.
#[derive(Default, Debug)]
pub struct LineBatch {
    /// Customer account id.
    pub customer: Vec<u32>,
    /// Order id, unique per (customer, order_id).
    pub order: Vec<u32>,
    /// Line date.
    pub date: Vec<Date>,
    /// Net amount.
    pub amount: Vec<Amount>,
    /// Margin (empty when the file has no margin column).
    pub margin: Vec<Amount>,
    /// Agency id: the line's, else the customer's, else [`NONE`].
    pub agency: Vec<u32>,
    /// Brand id or [`NONE`].
    pub brand: Vec<u32>,
    /// Category id or [`NONE`].
    pub category: Vec<u32>,
    /// Order status id or [`NONE`].
    pub status: Vec<u32>,
    /// Due date of the line's order, if given.
    pub due_date: Vec<Option<Date>>,
}

impl LineBatch {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    fn clear(&mut self) {
        self.customer.clear();
        self.order.clear();
        self.date.clear();
        self.amount.clear();
        self.margin.clear();
        self.agency.clear();
        self.brand.clear();
        self.category.clear();
        self.status.clear();
        self.due_date.clear();
    }
}

/// The integer ids given to strings while reading.
#[derive(Default, Debug)]
pub struct Dictionaries {
    /// Customer account ids, customers file first.
    pub customers: Interner,
    /// Agencies of lines and customers.
    pub agencies: Interner,
    /// Brands.
    pub brands: Interner,
    /// Categories.
    pub categories: Interner,
    /// Order statuses.
    pub statuses: Interner,
    /// The agency of each customer from the customers file, [`NONE`] if unknown.
    pub customer_agency: Vec<u32>,
    /// Order ids, scoped by customer: the same order id of two customers is two orders.
    orders: Interner,
    /// The previous line's customer and order: lines of one order are usually adjacent.
    last: Option<(u32, u32)>,
}

impl Dictionaries {
    /// The ids of a line's customer and order, adding them if new.
    fn customer_and_order(&mut self, customer_id: &str, order_id: &str) -> (u32, u32) {
        if let Some((customer, order)) = self.last {
            if self.orders.name(order) == order_id && self.customers.name(customer) == customer_id {
                return (customer, order);
            }
        }
        let customer = match self.last {
            Some((c, _)) if self.customers.name(c) == customer_id => c,
            _ => self.customers.intern(customer_id),
        };
        let order = self.orders.intern_scoped(customer, order_id);
        self.last = Some((customer, order));
        (customer, order)
    }

    /// Sorts items by their customer's id text: the order of every output.
    /// The sort is stable, so items of one customer keep their order.
    pub fn sort_by_customer_id<T>(&self, items: &mut [T], customer: impl Fn(&T) -> u32) {
        items.sort_by(|a, b| {
            self.customers
                .name(customer(a))
                .cmp(self.customers.name(customer(b)))
        });
    }

    /// The customer of an order.
    pub fn order_customer(&self, order: u32) -> u32 {
        self.orders.scope(order)
    }

    /// Number of distinct orders seen.
    pub fn n_orders(&self) -> usize {
        self.orders.len()
    }

    fn line_agency(&self, customer: u32) -> u32 {
        self.customer_agency
            .get(customer as usize)
            .copied()
            .unwrap_or(NONE)
    }
}

/// What was found in the transactions file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionsInfo {
    /// Number of data lines.
    pub lines: u64,
}

/// Column positions of the transactions file.
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
}

impl ColumnMap {
    pub(crate) fn find(
        headers: &[String],
        missing: impl Fn(&str) -> crate::error::Error,
    ) -> Result<ColumnMap> {
        let find = |name: &str| headers.iter().position(|h| h == name);
        let require = |name: &str| find(name).ok_or_else(|| missing(name));
        Ok(ColumnMap {
            order: require("order_id")?,
            customer: require("customer_id")?,
            date: require("date")?,
            amount: require("amount")?,
            margin: find("margin"),
            agency: find("agency"),
            brand: find("brand"),
            category: find("category"),
            status: find("status"),
            due_date: find("due_date"),
        })
    }
}

/// Parses a date cell: ISO `YYYY-MM-DD`, or an ISO timestamp whose UTC date is taken.
pub fn parse_date_text(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Some(date) = Date::parse_iso(text) {
        return Some(date);
    }
    if text.len() > 10 && matches!(text.as_bytes()[10], b'T' | b' ') {
        if let Ok(stamp) = chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
            return Some(Date::from_naive(stamp.naive_utc().date()));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(stamp) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Some(Date::from_naive(stamp.date()));
            }
        }
    }
    None
}

/// The message for a cell that is not an amount.
pub fn amount_message(error: AmountError, text: &str) -> String {
    match error {
        AmountError::TooPrecise => {
            format!("'{text}' has more than 4 decimal places; amounts are kept exact to 4 decimals")
        }
        AmountError::TooLarge => format!("'{text}' is too large for an amount"),
        AmountError::NotANumber => {
            format!("expected a decimal number such as 12.50, found '{text}'")
        }
    }
}

/// One line's values, as read from a file.
pub(crate) struct RawLine<'a> {
    pub customer_id: &'a str,
    pub order_id: &'a str,
    pub date: Date,
    pub amount: Amount,
    pub margin: Amount,
    pub agency: Option<&'a str>,
    pub brand: Option<&'a str>,
    pub category: Option<&'a str>,
    pub status: Option<&'a str>,
    pub due_date: Option<Date>,
}

/// Decodes text cells into a batch; shared by the CSV reader and the
/// Parquet reader for string-typed columns.
pub(crate) struct LineBuilder<'a> {
    pub dicts: &'a mut Dictionaries,
    pub batch: LineBatch,
    pub has_margin: bool,
}

impl LineBuilder<'_> {
    /// Adds one line.
    pub(crate) fn push(&mut self, line: RawLine<'_>) {
        let (customer, order) = self
            .dicts
            .customer_and_order(line.customer_id, line.order_id);
        let agency = match line.agency.filter(|a| !a.is_empty()) {
            Some(a) => self.dicts.agencies.intern(a),
            None => self.dicts.line_agency(customer),
        };
        let intern = |interner: &mut Interner, value: Option<&str>| {
            value
                .filter(|v| !v.is_empty())
                .map_or(NONE, |v| interner.intern(v))
        };
        let brand = intern(&mut self.dicts.brands, line.brand);
        let category = intern(&mut self.dicts.categories, line.category);
        let status = intern(&mut self.dicts.statuses, line.status);
        let batch = &mut self.batch;
        batch.customer.push(customer);
        batch.order.push(order);
        batch.date.push(line.date);
        batch.amount.push(line.amount);
        if self.has_margin {
            batch.margin.push(line.margin);
        }
        batch.agency.push(agency);
        batch.brand.push(brand);
        batch.category.push(category);
        batch.status.push(status);
        batch.due_date.push(line.due_date);
    }

    /// Hands a full batch to the sink and starts a new one.
    pub(crate) fn flush(&mut self, sink: &mut dyn FnMut(&LineBatch, &Dictionaries)) {
        if !self.batch.is_empty() {
            sink(&self.batch, self.dicts);
            self.batch.clear();
        }
    }
}

/// An optional column that the configuration makes necessary, and why.
#[derive(Clone, Debug)]
pub struct NeededColumn {
    /// Lower-case column name.
    pub name: &'static str,
    /// Why it is needed, for the message.
    pub reason: String,
}

/// Checks, right after the header, the optional columns the configuration needs.
pub(crate) fn check_needed(path: &Path, headers: &[String], needed: &[NeededColumn]) -> Result<()> {
    match needed.iter().find(|n| !headers.iter().any(|h| h == n.name)) {
        Some(n) => Err(InputError::new(
            path,
            Location::Header,
            None,
            format!("missing column '{}', required by {}", n.name, n.reason),
        )
        .into()),
        None => Ok(()),
    }
}

/// Reads every line of a transactions file, handing batches to `sink`.
pub fn read_transactions(
    path: &Path,
    needed: &[NeededColumn],
    dicts: &mut Dictionaries,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(&LineBatch, &Dictionaries),
) -> Result<TransactionsInfo> {
    if is_parquet(path) {
        parquet_input::read_transactions(path, needed, dicts, progress, sink)
    } else {
        read_csv_transactions(path, needed, dicts, progress, sink)
    }
}

fn read_csv_transactions(
    path: &Path,
    needed: &[NeededColumn],
    dicts: &mut Dictionaries,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(&LineBatch, &Dictionaries),
) -> Result<TransactionsInfo> {
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    let mut csv = open_csv(path)?;
    let columns = ColumnMap::find(&csv.headers, |name| {
        crate::csv_input::missing_column(path, name, &csv.headers)
    })?;
    check_needed(path, &csv.headers, needed)?;
    let has_margin = columns.margin.is_some();
    let mut builder = LineBuilder {
        dicts,
        batch: LineBatch::default(),
        has_margin,
    };
    progress.start("reading transactions", size);
    let mut record = csv::ByteRecord::new();
    let mut lines = 0u64;
    let decimal_comma = csv.decimal_comma;
    loop {
        match csv.reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let text = |index: usize, name: &str| -> Result<&str> {
            Ok(utf8_field(path, line, name, &record[index])?.trim())
        };
        let required = |index: usize, name: &str, what: &str| -> Result<&str> {
            let value = text(index, name)?;
            if value.is_empty() {
                return Err(InputError::new(
                    path,
                    Location::Line(line),
                    Some(name),
                    format!("empty value; expected {what}"),
                )
                .into());
            }
            Ok(value)
        };
        let amount_of = |name: &str, value: &str| -> Result<Amount> {
            Amount::parse(value, decimal_comma, ExtraDigits::Reject).map_err(|e| {
                InputError::new(
                    path,
                    Location::Line(line),
                    Some(name),
                    amount_message(e, value),
                )
                .into()
            })
        };
        let customer_id = required(columns.customer, "customer_id", "a customer id")?;
        let order_id = required(columns.order, "order_id", "an order id")?;
        let date_text = required(columns.date, "date", "a date YYYY-MM-DD")?;
        let date = parse_date_text(date_text).ok_or_else(|| {
            InputError::new(
                path,
                Location::Line(line),
                Some("date"),
                format!("expected a date YYYY-MM-DD, found '{date_text}'"),
            )
        })?;
        let amount_text = required(columns.amount, "amount", "an amount")?;
        let amount = amount_of("amount", amount_text)?;
        let margin = match columns.margin {
            Some(index) => match text(index, "margin")? {
                "" => Amount::ZERO,
                value => amount_of("margin", value)?,
            },
            None => Amount::ZERO,
        };
        let optional = |index: Option<usize>, name: &str| -> Result<Option<&str>> {
            index.map(|i| text(i, name)).transpose()
        };
        let agency = optional(columns.agency, "agency")?;
        let brand = optional(columns.brand, "brand")?;
        let category = optional(columns.category, "category")?;
        let status = optional(columns.status, "status")?;
        let due_date = match optional(columns.due_date, "due_date")?.filter(|d| !d.is_empty()) {
            None => None,
            Some(text) => Some(parse_date_text(text).ok_or_else(|| {
                InputError::new(
                    path,
                    Location::Line(line),
                    Some("due_date"),
                    format!("expected a date YYYY-MM-DD, found '{text}'"),
                )
            })?),
        };
        builder.push(RawLine {
            customer_id,
            order_id,
            date,
            amount,
            margin,
            agency,
            brand,
            category,
            status,
            due_date,
        });
        lines += 1;
        if builder.batch.len() >= BATCH_LINES {
            builder.flush(sink);
            progress.advance(record.position().map_or(0, |p| p.byte()));
        }
    }
    builder.flush(sink);
    progress.finish();
    Ok(TransactionsInfo { lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_iso_days_and_timestamps_in_utc() {
        let d = |s: &str| parse_date_text(s).map(|d| d.to_string());
        assert_eq!(d("2024-03-01"), Some("2024-03-01".into()));
        assert_eq!(d("2024-03-01T23:30:00"), Some("2024-03-01".into()));
        assert_eq!(d("2024-03-01T23:30:00-02:00"), Some("2024-03-02".into()));
        assert_eq!(d("2024-03-01 08:00:00Z"), Some("2024-03-01".into()));
        assert_eq!(d("01/03/2024"), None);
    }

    #[test]
    fn orders_are_per_customer() {
        let mut dicts = Dictionaries::default();
        let (a, first) = dicts.customer_and_order("A", "O1");
        assert_eq!(dicts.customer_and_order("A", "O1"), (a, first));
        let (b, other) = dicts.customer_and_order("B", "O1");
        assert_ne!(
            other, first,
            "the same order id of another customer is another order"
        );
        assert_eq!(
            dicts.customer_and_order("A", "O1"),
            (a, first),
            "found again after another line"
        );
        assert_eq!(
            (dicts.order_customer(first), dicts.order_customer(other)),
            (a, b)
        );
        assert_eq!(dicts.n_orders(), 2);
    }
}
