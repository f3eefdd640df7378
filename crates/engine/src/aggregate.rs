//! Per-type aggregation of streamed lines into per-account figures: eligible
//! sales for Pareto types, orders and net sums for RFM types.

use crate::intern::NONE;
use crate::transactions::{Dictionaries, LineBatch, NewNames};
use rustc_hash::FxHashSet;
use strata_domain::date::{Date, Window};
use strata_domain::features::{Activity, ClosedStatuses};
use strata_domain::money::{Amount, SumKind, SumOverflow};
use strata_domain::rfm::RfmInput;
use strata_domain::segment_type::{self, LineFilter, Measure, Method, SegmentType};

/// Which interned agencies and brands a type's line filter accepts, grown as
/// new names appear.
struct CompiledFilter {
    filter: LineFilter,
    agency_ok: Vec<bool>,
    brand_ok: Vec<bool>,
    /// Per entry of `filter.agencies` and `filter.brands`: whether it
    /// names an agency or brand of the files.
    agency_named: Vec<bool>,
    brand_named: Vec<bool>,
}

impl CompiledFilter {
    fn new(filter: LineFilter) -> CompiledFilter {
        CompiledFilter {
            agency_named: vec![false; filter.agencies.len()],
            brand_named: vec![false; filter.brands.len()],
            filter,
            agency_ok: Vec::new(),
            brand_ok: Vec::new(),
        }
    }

    fn learn(&mut self, names: &NewNames) {
        fn grow(list: &[String], ok: &mut Vec<bool>, named: &mut [bool], names: &[String]) {
            ok.extend(names.iter().map(|name| {
                let mut accepted = false;
                for (item, named) in list.iter().zip(named.iter_mut()) {
                    if segment_type::names(item, name) {
                        *named = true;
                        accepted = true;
                    }
                }
                accepted
            }));
        }
        let f = &self.filter;
        grow(
            &f.agencies,
            &mut self.agency_ok,
            &mut self.agency_named,
            &names.agencies,
        );
        grow(
            &f.brands,
            &mut self.brand_ok,
            &mut self.brand_named,
            &names.brands,
        );
    }

    /// The entries that name no agency or brand of the files read.
    fn unmatched(&self) -> Vec<String> {
        let list = |key: &str, what: &str, items: &[String], named: &[bool]| {
            items
                .iter()
                .zip(named)
                .filter(|(_, &named)| !named)
                .map(|(item, _)| format!("{key}: '{item}' names no {what} of the files read"))
                .collect::<Vec<_>>()
        };
        let mut out = list(
            "agencies",
            "agency",
            &self.filter.agencies,
            &self.agency_named,
        );
        out.extend(list(
            "brands",
            "brand",
            &self.filter.brands,
            &self.brand_named,
        ));
        out
    }

    fn accepts(&self, agency: u32, brand: u32) -> bool {
        let ok = |list: &[String], table: &[bool], id: u32| {
            list.is_empty() || (id != NONE && table[id as usize])
        };
        ok(&self.filter.agencies, &self.agency_ok, agency)
            && ok(&self.filter.brands, &self.brand_ok, brand)
    }
}

/// Per order, the net of its lines counted and the date of the latest:
/// RFM counts orders by them, rules features too.
#[derive(Default)]
struct Orders {
    net: Vec<Amount>,
    last: Vec<Option<Date>>,
}

impl Orders {
    /// Makes room for `n` orders.
    fn grow(&mut self, n: usize) {
        grow(&mut self.net, n, Amount::ZERO);
        grow(&mut self.last, n, None);
    }

    /// Counts a line of `order`; returns whether it is the order's latest
    /// line so far (ties included: the later line in the file wins).
    fn add(
        &mut self,
        order: usize,
        amount: Amount,
        date: Date,
        overflow: &mut Option<SumOverflow>,
        customer: u32,
    ) -> bool {
        add(
            &mut self.net[order],
            amount,
            overflow,
            SumKind::Order,
            customer,
        );
        let latest = self.last[order].is_none_or(|last| date >= last);
        if latest {
            self.last[order] = Some(date);
        }
        latest
    }

    /// Every order with a line counted: its id, net and latest date.
    fn iter(&self) -> impl Iterator<Item = (u32, Amount, Date)> + '_ {
        self.net
            .iter()
            .zip(&self.last)
            .enumerate()
            .filter_map(|(order, (&net, last))| Some((order as u32, net, (*last)?)))
    }
}

enum Sums {
    Pareto {
        measure: Measure,
        sales: Vec<Amount>,
    },
    Rfm {
        monetary: Vec<Amount>,
        orders: Orders,
    },
    Features(Box<FeatureSums>),
}

/// What rules features need, over every line up to the as-of date.
#[derive(Default)]
struct FeatureSums {
    activity: Vec<Activity>,
    has_line: Vec<bool>,
    orders: Orders,
    /// Whether the order's latest status closes it.
    order_closed: Vec<bool>,
    order_due: Vec<Option<Date>>,
    /// Whether each interned status closes an order.
    closing_status: Vec<bool>,
    /// The statuses that close an order.
    closed: ClosedStatuses,
    categories: IdSets,
    brands: IdSets,
}

/// Which ids each customer has: a 64-bit mask per customer for the first 64
/// ids (categories and brands are usually few), a hash set beyond.
#[derive(Default)]
struct IdSets {
    masks: Vec<u64>,
    overflow: FxHashSet<(u32, u32)>,
}

impl IdSets {
    fn insert(&mut self, customer: u32, id: u32) {
        if id < 64 {
            let c = customer as usize;
            if self.masks.len() <= c {
                self.masks.resize(c + 1, 0);
            }
            self.masks[c] |= 1 << id;
        } else {
            self.overflow.insert((customer, id));
        }
    }

    fn into_lists(self, n_customers: usize) -> Vec<Vec<u32>> {
        let mut lists = vec![Vec::new(); n_customers];
        for (customer, &mask) in self.masks.iter().enumerate() {
            lists[customer].extend((0..64).filter(|bit| mask & (1 << bit) != 0));
        }
        for (customer, id) in self.overflow {
            lists[customer as usize].push(id);
        }
        lists
    }
}

/// Per-customer figures for rules features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureFigures {
    /// Activity per customer.
    pub activity: Vec<Activity>,
    /// Category ids bought (positive lines), per customer.
    pub categories: Vec<Vec<u32>>,
    /// Brand ids bought (positive lines), per customer.
    pub brands: Vec<Vec<u32>>,
    /// Whether the customer has a line read (up to the as-of date).
    pub has_line: Vec<bool>,
}

/// Accumulates the lines of one type's window.
pub struct Aggregator {
    window: Window,
    filter: CompiledFilter,
    sums: Sums,
    /// The first sum that left the range of amounts, by customer.
    overflow: Option<SumOverflow>,
    /// The sum of the absolute values of every amount counted: while it
    /// fits, no total over any set of these amounts (a segment's sales, a
    /// report's cell) can overflow later.
    magnitude: Amount,
}

/// Adds `value` to `sum`; on overflow keeps the sum and records the first
/// overflow, which fails the run when the aggregator finishes.
#[inline]
fn add(
    sum: &mut Amount,
    value: Amount,
    overflow: &mut Option<SumOverflow>,
    kind: SumKind,
    customer: u32,
) {
    match sum.checked_add(value) {
        Some(total) => *sum = total,
        None => {
            overflow.get_or_insert(SumOverflow {
                kind,
                unit: customer,
            });
        }
    }
}

/// The per-account figures of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregated {
    /// Eligible sales per account.
    Sales(Vec<Amount>),
    /// RFM inputs per account.
    Rfm(Vec<RfmInput>),
    /// Rules features per account.
    Features(FeatureFigures),
}

fn grow<T: Clone>(v: &mut Vec<T>, len: usize, fill: T) {
    if v.len() < len {
        v.resize(len, fill);
    }
}

impl Aggregator {
    /// An aggregator for a type over a window; `closed` says which order
    /// statuses close an order (rules types).
    pub fn new(ty: &SegmentType, window: Window, closed: &ClosedStatuses) -> Aggregator {
        let sums = match &ty.method {
            Method::Pareto(spec) => Sums::Pareto {
                measure: spec.measure,
                sales: Vec::new(),
            },
            Method::Rfm(_) => Sums::Rfm {
                monetary: Vec::new(),
                orders: Orders::default(),
            },
            // Rules read every line of their agencies and brands up to the window's end.
            Method::Rules(_) => return Aggregator::features(window.last, ty.lines.clone(), closed),
        };
        Aggregator {
            window,
            filter: CompiledFilter::new(ty.lines.clone()),
            sums,
            overflow: None,
            magnitude: Amount::ZERO,
        }
    }

    /// An aggregator of the features rules read: every line up to `as_of`
    /// that passes `filter`.
    pub fn features(as_of: Date, filter: LineFilter, closed: &ClosedStatuses) -> Aggregator {
        Aggregator {
            window: Window::new(Date::MIN, as_of),
            filter: CompiledFilter::new(filter),
            sums: Sums::Features(Box::new(FeatureSums {
                closed: closed.clone(),
                ..FeatureSums::default()
            })),
            overflow: None,
            magnitude: Amount::ZERO,
        }
    }

    /// Adds the lines of a batch that fall in the window and pass the filter.
    pub fn consume(&mut self, batch: &LineBatch) {
        self.filter.learn(&batch.new_names);
        let n_customers = batch.known.customers;
        let filter_all = self.filter.filter.accepts_all();
        let counts = |i: usize| {
            self.window.contains(batch.date[i])
                && (filter_all || self.filter.accepts(batch.agency[i], batch.brand[i]))
        };
        let overflow = &mut self.overflow;
        let magnitude = &mut self.magnitude;
        // Counts one amount of `customer` into the magnitude bound.
        let mut bound = |value: Amount, overflow: &mut Option<SumOverflow>, customer: u32| {
            let size = value.checked_abs().unwrap_or(Amount::MAX);
            add(magnitude, size, overflow, SumKind::Total, customer);
        };
        match &mut self.sums {
            Sums::Pareto { measure, sales } => {
                grow(sales, n_customers, Amount::ZERO);
                let values = match measure {
                    Measure::Amount => &batch.amount,
                    Measure::Margin => &batch.margin,
                };
                for (i, &value) in values.iter().enumerate() {
                    if counts(i) {
                        let customer = batch.customer[i];
                        bound(value, overflow, customer);
                        add(
                            &mut sales[customer as usize],
                            value,
                            overflow,
                            SumKind::Unit,
                            customer,
                        );
                    }
                }
            }
            Sums::Rfm { monetary, orders } => {
                grow(monetary, n_customers, Amount::ZERO);
                orders.grow(batch.known.orders);
                for i in 0..batch.len() {
                    if counts(i) {
                        let (customer, amount) = (batch.customer[i], batch.amount[i]);
                        bound(amount, overflow, customer);
                        add(
                            &mut monetary[customer as usize],
                            amount,
                            overflow,
                            SumKind::Unit,
                            customer,
                        );
                        let order = batch.order[i] as usize;
                        orders.add(order, amount, batch.date[i], overflow, customer);
                    }
                }
            }
            Sums::Features(f) => {
                let as_of = self.window.last;
                grow(&mut f.activity, n_customers, Activity::default());
                grow(&mut f.has_line, n_customers, false);
                let n_orders = batch.known.orders;
                f.orders.grow(n_orders);
                grow(&mut f.order_closed, n_orders, false);
                grow(&mut f.order_due, n_orders, None);
                let statuses = &batch.new_names.statuses;
                f.closing_status
                    .extend(statuses.iter().map(|s| f.closed.closes(s)));
                for i in 0..batch.len() {
                    let date = batch.date[i];
                    if !counts(i) {
                        continue;
                    }
                    let (customer, order, amount) =
                        (batch.customer[i], batch.order[i] as usize, batch.amount[i]);
                    f.has_line[customer as usize] = true;
                    bound(amount, overflow, customer);
                    if f.activity[customer as usize]
                        .add_line(as_of, date, amount)
                        .is_none()
                    {
                        overflow.get_or_insert(SumOverflow {
                            kind: SumKind::Unit,
                            unit: customer,
                        });
                    }
                    let latest = f.orders.add(order, amount, date, overflow, customer);
                    // The order's status is that of its latest line.
                    if latest && batch.status[i] != NONE {
                        f.order_closed[order] = f.closing_status[batch.status[i] as usize];
                    }
                    if let Some(due) = batch.due_date[i] {
                        f.order_due[order] = Some(f.order_due[order].map_or(due, |d| d.min(due)));
                    }
                    if amount.is_positive() {
                        if batch.category[i] != NONE {
                            f.categories.insert(customer, batch.category[i]);
                        }
                        if batch.brand[i] != NONE {
                            f.brands.insert(customer, batch.brand[i]);
                        }
                    }
                }
            }
        }
    }

    /// The entries of the type's `agencies` and `brands` that name no
    /// agency or brand of the files read, as warnings.
    pub fn unmatched_filters(&self) -> Vec<String> {
        self.filter.unmatched()
    }

    /// The per-account figures, for every known customer; fails when a sum
    /// left the range of amounts, naming the customer (as the unit).
    pub fn finish(self, dicts: &Dictionaries) -> Result<Aggregated, SumOverflow> {
        if let Some(overflow) = self.overflow {
            return Err(overflow);
        }
        let n_customers = dicts.customers.len();
        Ok(match self.sums {
            Sums::Pareto { mut sales, .. } => {
                grow(&mut sales, n_customers, Amount::ZERO);
                Aggregated::Sales(sales)
            }
            Sums::Rfm { monetary, orders } => {
                let mut inputs = vec![RfmInput::default(); n_customers];
                for (customer, amount) in monetary.into_iter().enumerate() {
                    inputs[customer].monetary = amount;
                }
                for (order, net, last) in orders.iter() {
                    inputs[dicts.order_customer(order) as usize].add_order(net, last);
                }
                Aggregated::Rfm(inputs)
            }
            Sums::Features(f) => {
                let f = *f;
                let as_of = self.window.last;
                let mut activity = f.activity;
                grow(&mut activity, n_customers, Activity::default());
                let mut has_line = f.has_line;
                grow(&mut has_line, n_customers, false);
                for (order, net, last) in f.orders.iter() {
                    let i = order as usize;
                    let open_due = if f.order_closed[i] {
                        None
                    } else {
                        f.order_due[i]
                    };
                    activity[dicts.order_customer(order) as usize]
                        .add_order(as_of, last, net, open_due);
                }
                Aggregated::Features(FeatureFigures {
                    activity,
                    categories: f.categories.into_lists(n_customers),
                    brands: f.brands.into_lists(n_customers),
                    has_line,
                })
            }
        })
    }
}
