//! Interning: customer, order and other ids become integers, once, in the
//! dictionaries a run keeps; batches of lines become integer columns.

use super::pipeline::DecodedBatch;
use crate::intern::{Interner, NONE};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{DictionaryArray, StringArray};
use std::sync::OnceLock;
use strata_domain::date::Date;
use strata_domain::money::Amount;

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
pub(crate) struct Sent {
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
    pub(crate) fn intern_batch(&mut self, decoded: DecodedBatch, sent: &mut Sent) -> LineBatch {
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
    pub(crate) fn order_id(&mut self, customer: u32, text: &str) -> u32 {
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
