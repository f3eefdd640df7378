//! Reading transaction lines from CSV or Parquet into batches of integer
//! columns: customer and order ids interned once, dates as day numbers,
//! amounts as fixed-point integers. Batches stream into the aggregators, so
//! memory grows with customers and orders, never with lines.
//!
//! Reading runs on two threads: one decodes the file (CSV fields or Parquet
//! pages into text, date and amount columns), the caller's thread interns
//! ids and aggregates, batch after batch in file order.

use crate::csv_input;
use crate::error::{shown, InputError, Location, Result};
use crate::intern::{Interner, NONE};
use crate::progress::Control;
use crate::source::{LineReader, LineSource};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{DictionaryArray, StringArray};
use std::path::Path;
use std::sync::{mpsc, OnceLock};
use strata_domain::columns::LineColumn;
use strata_domain::date::Date;
use strata_domain::money::{Amount, AmountError};

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
    /// Customers and orders known once this batch was interned.
    pub known: Known,
    /// Names first handed on with this batch, in id order: aggregators on
    /// another thread learn the dictionaries from these.
    pub new_names: NewNames,
}

/// How many customers and orders the dictionaries held after a batch.
#[derive(Clone, Copy, Default, Debug)]
pub struct Known {
    /// Customer ids are below this.
    pub customers: usize,
    /// Order ids are below this.
    pub orders: usize,
}

/// Agencies, brands and statuses interned since the previous batch.
#[derive(Default, Debug)]
pub struct NewNames {
    /// Agency names, taking the ids after those of earlier batches.
    pub agencies: Vec<String>,
    /// Brand names, likewise.
    pub brands: Vec<String>,
    /// Status names, likewise.
    pub statuses: Vec<String>,
}

/// How many names of each small dictionary were handed on already.
#[derive(Default)]
struct Sent {
    agencies: usize,
    brands: usize,
    statuses: usize,
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
    /// Per order, the customer's order before it ([`NONE`] for the first).
    earlier_order: Vec<u32>,
    /// Per customer, its latest new order and how many orders it has.
    latest_order: Vec<(u32, u32)>,
    /// Each customer's rank in the order of customer id texts, once asked for.
    customer_ranks: OnceLock<Vec<u32>>,
    /// The previous line's customer and order: lines of one order are usually adjacent.
    last: Option<(u32, u32)>,
}

impl Dictionaries {
    /// Interns a decoded batch: its ids become integers, its other columns move over.
    fn intern_batch(&mut self, decoded: DecodedBatch, sent: &mut Sent) -> LineBatch {
        let n = decoded.len();
        let mut customer = Vec::with_capacity(n);
        intern_values(&decoded.customer, &mut self.customers, &mut customer);
        let mut order = Vec::with_capacity(n);
        for (i, &c) in customer.iter().enumerate() {
            let text = decoded.order.value(i).trim();
            let id = match self.last {
                Some((last_c, last_o)) if last_c == c && self.orders.name(last_o) == text => last_o,
                _ => self.order_id(c, text),
            };
            self.last = Some((c, id));
            order.push(id);
        }
        let mut agency = Vec::with_capacity(n);
        match &decoded.agency {
            Some(texts) => {
                texts.intern_into(&mut self.agencies, &mut agency);
                for (a, &c) in agency.iter_mut().zip(&customer) {
                    if *a == NONE {
                        *a = self.line_agency(c);
                    }
                }
            }
            None => agency.extend(customer.iter().map(|&c| self.line_agency(c))),
        }
        let optional = |texts: &Option<Texts>, interner: &mut Interner| {
            let mut ids = Vec::with_capacity(n);
            match texts {
                Some(texts) => texts.intern_into(interner, &mut ids),
                None => ids.resize(n, NONE),
            }
            ids
        };
        let brand = optional(&decoded.brand, &mut self.brands);
        let category = optional(&decoded.category, &mut self.categories);
        let status = optional(&decoded.status, &mut self.statuses);
        LineBatch {
            customer,
            order,
            date: decoded.date,
            amount: decoded.amount,
            margin: decoded.margin.unwrap_or_default(),
            agency,
            brand,
            category,
            status,
            due_date: decoded.due_date.unwrap_or_else(|| vec![None; n]),
            known: Known {
                customers: self.customers.len(),
                orders: self.orders.len(),
            },
            new_names: NewNames {
                agencies: new_names(&self.agencies, &mut sent.agencies),
                brands: new_names(&self.brands, &mut sent.brands),
                statuses: new_names(&self.statuses, &mut sent.statuses),
            },
        }
    }

    /// The id of a customer's order, adding it if new. A customer's recent
    /// orders are found by walking its own short list, which stays in cache;
    /// only customers with many orders have them in the hash table.
    fn order_id(&mut self, customer: u32, text: &str) -> u32 {
        const WALK: u32 = 16;
        let c = customer as usize;
        if self.latest_order.len() <= c {
            self.latest_order.resize(c + 1, (NONE, 0));
        }
        let (latest, count) = self.latest_order[c];
        let mut order = latest;
        for _ in 0..WALK.min(count) {
            if self.orders.name(order) == text {
                return order;
            }
            order = self.earlier_order[order as usize];
        }
        if count > WALK {
            if let Some(order) = self.orders.find_scoped(customer, text) {
                return order;
            }
        }
        let order = self.orders.push_unindexed(customer, text);
        self.earlier_order.push(latest);
        self.latest_order[c] = (order, count + 1);
        if count == WALK {
            // The list grows long: from now on the customer's orders are indexed.
            let mut earlier = order;
            while earlier != NONE {
                self.orders.index(earlier);
                earlier = self.earlier_order[earlier as usize];
            }
        } else if count > WALK {
            self.orders.index(order);
        }
        order
    }

    /// Sorts items by their customer's id text: the order of every output.
    /// The sort is stable, so items of one customer keep their order.
    pub fn sort_by_customer_id<T>(&self, items: &mut [T], customer: impl Fn(&T) -> u32) {
        // Texts are compared once, when ranking the customers; each sort
        // after that compares integers.
        let mut ranks = self.customer_ranks.get_or_init(|| self.rank_customers());
        let fresh;
        if ranks.len() != self.customers.len() {
            fresh = self.rank_customers();
            ranks = &fresh;
        }
        items.sort_by_key(|item| ranks[customer(item) as usize]);
    }

    fn rank_customers(&self) -> Vec<u32> {
        let names = &self.customers;
        let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| names.name(a).cmp(names.name(b)));
        let mut ranks = vec![0; by_name.len()];
        for (rank, &customer) in by_name.iter().enumerate() {
            ranks[customer as usize] = rank as u32;
        }
        ranks
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

/// The names of `interner` from id `*sent` on, which then count as sent.
fn new_names(interner: &Interner, sent: &mut usize) -> Vec<String> {
    let names = (*sent..interner.len())
        .map(|id| interner.name(id as u32).to_owned())
        .collect();
    *sent = interner.len();
    names
}

/// What was found in the transactions file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionsInfo {
    /// Number of data lines.
    pub lines: u64,
}

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

/// What a bad cell does to a reading of lines.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ErrorMode {
    /// The first bad cell stops it, with its error (the command line).
    #[default]
    Stop,
    /// Every bad cell is listed, up to [`crate::error::MAX_COLLECTED_ERRORS`],
    /// in one [`crate::Error::Cells`] (imports that must list all their errors).
    Collect,
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
        csv_input::refuse_duplicate_columns(path, headers, Some(&known))?;
        let find = |column: LineColumn| headers.iter().position(|h| h == column.name());
        let require = |column: LineColumn| {
            find(column).ok_or_else(|| csv_input::missing_column(path, column.name(), headers))
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
        })
    }
}

/// The message for a cell that is not a date.
pub fn date_message(text: &str) -> String {
    format!(
        "expected a date YYYY-MM-DD from {} to {}, found '{}'",
        Date::MIN,
        Date::MAX,
        shown(text)
    )
}

/// Parses a date cell: ISO `YYYY-MM-DD`, or an ISO timestamp whose UTC date is taken.
pub fn parse_date_text(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Some(date) = Date::parse_iso(text) {
        return Some(date);
    }
    if text.len() > 10 && matches!(text.as_bytes()[10], b'T' | b' ') {
        if let Ok(stamp) = chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
            return Date::checked_from_naive(stamp.naive_utc().date()).ok();
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(stamp) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Date::checked_from_naive(stamp.date()).ok();
            }
        }
    }
    None
}

/// The message for a cell that is not an amount.
pub fn amount_message(error: AmountError, text: &str) -> String {
    match error {
        AmountError::TooPrecise => {
            format!(
                "'{}' has more than 4 decimal places; amounts are kept exact to 4 decimals",
                shown(text)
            )
        }
        AmountError::TooLarge => format!("'{}' is too large for an amount", shown(text)),
        AmountError::NotANumber => {
            format!(
                "expected a decimal number such as 12.50, found '{}'",
                shown(text)
            )
        }
    }
}

/// A text column of a decoded batch; a null or empty value is missing.
pub enum Texts {
    /// One value per line.
    Plain(StringArray),
    /// Dictionary-encoded (Parquet): each distinct value is interned once.
    Dictionary(DictionaryArray<Int32Type>),
}

/// The id of a trimmed text, or [`NONE`] when missing or empty.
fn id_of(interner: &mut Interner, text: Option<&str>) -> u32 {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or(NONE, |t| interner.intern(t))
}

/// Appends each value's id (see [`id_of`]). A value equal to the previous
/// line's is not hashed again.
fn intern_values(values: &StringArray, interner: &mut Interner, out: &mut Vec<u32>) {
    let mut previous: Option<(&str, u32)> = None;
    for text in values.iter() {
        let id = match (previous, text) {
            (Some((p, id)), Some(t)) if p == t => id,
            _ => id_of(interner, text),
        };
        previous = text.map(|t| (t, id));
        out.push(id);
    }
}

impl Texts {
    /// Appends each value's id, trimmed, or [`NONE`] when missing.
    fn intern_into(&self, interner: &mut Interner, out: &mut Vec<u32>) {
        match self {
            Texts::Plain(values) => intern_values(values, interner, out),
            Texts::Dictionary(dict) => {
                let values = dict.values().as_string::<i32>();
                let ids: Vec<u32> = values.iter().map(|v| id_of(interner, v)).collect();
                out.extend(
                    dict.keys()
                        .iter()
                        .map(|k| k.map_or(NONE, |k| ids[k as usize])),
                );
            }
        }
    }
}

/// Decoded columns of a run of lines, before ids are interned: what a
/// [`LineReader`](crate::source::LineReader) hands to the pipeline. An
/// optional column is `None` when the source does not have it.
pub struct DecodedBatch {
    /// Customer ids, never missing.
    pub customer: StringArray,
    /// Order ids, never missing.
    pub order: StringArray,
    /// Line dates.
    pub date: Vec<Date>,
    /// Line amounts.
    pub amount: Vec<Amount>,
    /// Line margins.
    pub margin: Option<Vec<Amount>>,
    /// Agencies.
    pub agency: Option<Texts>,
    /// Brands.
    pub brand: Option<Texts>,
    /// Categories.
    pub category: Option<Texts>,
    /// Order statuses.
    pub status: Option<Texts>,
    /// Due dates.
    pub due_date: Option<Vec<Option<Date>>>,
    /// How far into the file the batch ends, in the unit of the progress bar.
    pub position: u64,
}

impl DecodedBatch {
    fn len(&self) -> usize {
        self.date.len()
    }
}

/// Where a reader sends its batches; `false` means the pipeline stopped
/// listening (the run failed or was cancelled), and the reader should stop.
pub type Emit<'a> = dyn FnMut(DecodedBatch) -> bool + 'a;

/// Where interned batches go, on a thread of their own.
pub type Sink<'a> = dyn FnMut(&LineBatch) + Send + 'a;

/// Reads every line of a source, handing interned batches to `sink`.
pub fn read_lines(
    source: &dyn LineSource,
    selection: &Selection,
    dicts: &mut Dictionaries,
    control: &Control<'_>,
    sink: &mut Sink<'_>,
) -> Result<TransactionsInfo> {
    let selection = Selection {
        errors: control.errors,
        ..selection.clone()
    };
    let reader = source.open(&selection, control.threads)?;
    pipeline(reader, dicts, control, sink)
}

/// Batches waiting between two stages: enough to keep every stage busy.
const QUEUE: usize = 4;

/// Three stages, each on its own thread, batch after batch in file order:
/// decoding the file, interning ids (this thread, which owns the
/// dictionaries), and the sink (aggregation).
fn pipeline(
    decoder: Box<dyn LineReader + '_>,
    dicts: &mut Dictionaries,
    control: &Control<'_>,
    sink: &mut Sink<'_>,
) -> Result<TransactionsInfo> {
    control
        .progress
        .start("reading transactions", decoder.size());
    let (decoded_tx, decoded_rx) = mpsc::sync_channel::<DecodedBatch>(QUEUE);
    let (interned_tx, interned_rx) = mpsc::sync_channel::<LineBatch>(QUEUE);
    let mut lines = 0u64;
    std::thread::scope(|scope| {
        let decoding =
            scope.spawn(move || decoder.read(&mut |batch| decoded_tx.send(batch).is_ok()));
        let sinking = scope.spawn(move || {
            for batch in interned_rx {
                sink(&batch);
            }
        });
        let mut sent = Sent::default();
        for decoded in decoded_rx {
            // Dropping the queues stops the decoder and the sink.
            if control.is_cancelled() {
                break;
            }
            let position = decoded.position;
            lines += decoded.len() as u64;
            if interned_tx
                .send(dicts.intern_batch(decoded, &mut sent))
                .is_err()
            {
                break;
            }
            control.progress.advance(position);
        }
        drop(interned_tx);
        sinking
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        decoding
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    control.check()?;
    control.progress.finish();
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

    fn decoded(lines: &[(&str, &str)], brands: Texts) -> DecodedBatch {
        let customer = lines.iter().map(|l| Some(l.0)).collect();
        let order = lines.iter().map(|l| Some(l.1)).collect();
        DecodedBatch {
            customer,
            order,
            date: vec![Date::from_days(0); lines.len()],
            amount: vec![Amount::ZERO; lines.len()],
            margin: None,
            agency: None,
            brand: Some(brands),
            category: None,
            status: None,
            due_date: None,
            position: 0,
        }
    }

    #[test]
    fn orders_are_per_customer() {
        let mut dicts = Dictionaries::default();
        let lines = [
            ("A", "O1"),
            ("A", "O1"),
            ("B", "O1"),
            ("A", "O1"),
            ("A", "O2"),
        ];
        let no_brand = Texts::Plain(lines.iter().map(|_| None::<&str>).collect());
        let batch = dicts.intern_batch(decoded(&lines, no_brand), &mut Sent::default());
        let (a, b) = (batch.customer[0], batch.customer[2]);
        assert_eq!(batch.customer, [a, a, b, a, a]);
        let (first, other, second) = (batch.order[0], batch.order[2], batch.order[4]);
        assert_ne!(
            other, first,
            "the same order id of another customer is another order"
        );
        assert_eq!(
            batch.order,
            [first, first, other, first, second],
            "found again after another line"
        );
        assert_eq!(
            (dicts.order_customer(first), dicts.order_customer(other)),
            (a, b)
        );
        assert_eq!(dicts.n_orders(), 3);
        assert_eq!(batch.brand, [NONE; 5]);
        assert_eq!(batch.due_date, [None; 5]);
    }

    #[test]
    fn outputs_sort_by_customer_id_text_stably() {
        let mut dicts = Dictionaries::default();
        let ids: Vec<u32> = ["C10", "C2", "B", "C1"]
            .iter()
            .map(|c| dicts.customers.intern(c))
            .collect();
        let mut items: Vec<(u32, char)> = vec![
            (ids[0], 'a'),
            (ids[1], 'b'),
            (ids[0], 'c'),
            (ids[2], 'd'),
            (ids[3], 'e'),
        ];
        dicts.sort_by_customer_id(&mut items, |i| i.0);
        let order: String = items.iter().map(|i| i.1).collect();
        assert_eq!(order, "deacb", "B, C1, C10 (twice, in order), C2");
        let late = dicts.customers.intern("A");
        let mut items = vec![ids[2], late];
        dicts.sort_by_customer_id(&mut items, |&c| c);
        assert_eq!(
            items,
            [late, ids[2]],
            "customers added after a sort are ranked too"
        );
    }

    #[test]
    fn orders_are_found_again_however_many_a_customer_has() {
        let mut dicts = Dictionaries::default();
        let mut ids = std::collections::HashMap::new();
        // Customer A's orders 0..100 twice, the second time in reverse,
        // with B's orders between: both the short lists and the index serve.
        let mut sequence: Vec<(String, u32)> = (0..100).map(|o| ("A".into(), o)).collect();
        sequence.extend((0..100).rev().map(|o| ("A".into(), o)));
        sequence.extend((0..5).flat_map(|o| [("B".into(), o), ("A".into(), o)]));
        for (customer, order) in &sequence {
            let (c, text) = (dicts.customers.intern(customer), format!("O{order}"));
            let id = dicts.order_id(c, &text);
            assert_eq!(
                *ids.entry((c, text)).or_insert(id),
                id,
                "{customer} {order}"
            );
        }
        assert_eq!(dicts.n_orders(), 105);
    }

    #[test]
    fn dictionary_and_plain_texts_intern_alike() {
        let lines = [("A", "O1"), ("B", "O2"), ("C", "O3"), ("D", "O4")];
        let brands = [Some(" Bosch"), None, Some(""), Some("Valeo")];
        let mut plain = Dictionaries::default();
        let from_plain = plain.intern_batch(
            decoded(&lines, Texts::Plain(brands.into_iter().collect())),
            &mut Sent::default(),
        );
        let mut dict = Dictionaries::default();
        let keys: DictionaryArray<Int32Type> = brands.into_iter().collect();
        let from_dict = dict.intern_batch(
            decoded(&lines, Texts::Dictionary(keys)),
            &mut Sent::default(),
        );
        assert_eq!(from_plain.brand, [0, NONE, NONE, 1]);
        assert_eq!(from_dict.brand, from_plain.brand);
        assert_eq!(dict.brands.name(0), "Bosch", "values are trimmed");
        assert_eq!(from_dict.new_names.brands, ["Bosch", "Valeo"]);
        let mut sent = Sent::default();
        let brands = |names: &[&str]| Texts::Plain(names.iter().map(|n| Some(*n)).collect());
        let lines = &lines[..2];
        let first = plain.intern_batch(decoded(lines, brands(&["Valeo", "Febi"])), &mut sent);
        let second = plain.intern_batch(decoded(lines, brands(&["Febi", "Hella"])), &mut sent);
        assert_eq!(
            (first.new_names.brands, second.new_names.brands),
            (
                vec!["Bosch".to_owned(), "Valeo".into(), "Febi".into()],
                vec!["Hella".to_owned()]
            ),
            "each name is handed on once, earlier ones with the first batch"
        );
        assert_eq!(second.brand, [2, 3]);
    }
}
