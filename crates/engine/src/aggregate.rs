//! Per-type aggregation of streamed lines into per-account figures: eligible
//! sales for Pareto types, orders and net sums for RFM types.

use crate::intern::{Interner, NONE};
use crate::transactions::{Dictionaries, LineBatch};
use strata_domain::date::{Date, Window};
use strata_domain::money::Amount;
use strata_domain::rfm::RfmInput;
use strata_domain::segment_type::{LineFilter, Measure, Method, SegmentType};

/// Which interned agencies and brands a type's line filter accepts, grown as
/// new names appear.
struct CompiledFilter {
    filter: LineFilter,
    agency_ok: Vec<bool>,
    brand_ok: Vec<bool>,
}

impl CompiledFilter {
    fn sync(&mut self, dicts: &Dictionaries) {
        fn grow(list: &[String], ok: &mut Vec<bool>, names: &Interner) {
            for id in ok.len()..names.len() {
                let name = names.name(id as u32).trim();
                ok.push(
                    list.iter()
                        .any(|item| item.trim().eq_ignore_ascii_case(name)),
                );
            }
        }
        grow(&self.filter.agencies, &mut self.agency_ok, &dicts.agencies);
        grow(&self.filter.brands, &mut self.brand_ok, &dicts.brands);
    }

    fn accepts(&self, agency: u32, brand: u32) -> bool {
        let ok = |list: &[String], table: &[bool], id: u32| {
            list.is_empty() || (id != NONE && table[id as usize])
        };
        ok(&self.filter.agencies, &self.agency_ok, agency)
            && ok(&self.filter.brands, &self.brand_ok, brand)
    }
}

enum Sums {
    Pareto {
        measure: Measure,
        sales: Vec<Amount>,
    },
    Rfm {
        monetary: Vec<Amount>,
        order_net: Vec<Amount>,
        order_last: Vec<Option<Date>>,
    },
}

/// Accumulates the lines of one type's window.
pub struct Aggregator {
    window: Window,
    filter: CompiledFilter,
    sums: Sums,
}

/// The per-account figures of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregated {
    /// Eligible sales per account.
    Sales(Vec<Amount>),
    /// RFM inputs per account.
    Rfm(Vec<RfmInput>),
}

fn grow<T: Clone>(v: &mut Vec<T>, len: usize, fill: T) {
    if v.len() < len {
        v.resize(len, fill);
    }
}

impl Aggregator {
    /// An aggregator for a type over a window.
    pub fn new(ty: &SegmentType, window: Window) -> Aggregator {
        let sums = match &ty.method {
            Method::Pareto(spec) => Sums::Pareto {
                measure: spec.measure,
                sales: Vec::new(),
            },
            Method::Rfm(_) => Sums::Rfm {
                monetary: Vec::new(),
                order_net: Vec::new(),
                order_last: Vec::new(),
            },
        };
        Aggregator {
            window,
            filter: CompiledFilter {
                filter: ty.lines.clone(),
                agency_ok: Vec::new(),
                brand_ok: Vec::new(),
            },
            sums,
        }
    }

    /// Adds the lines of a batch that fall in the window and pass the filter.
    pub fn consume(&mut self, batch: &LineBatch, dicts: &Dictionaries) {
        self.filter.sync(dicts);
        let n_customers = dicts.customers.len();
        let filter_all = self.filter.filter.accepts_all();
        let counts = |i: usize| {
            self.window.contains(batch.date[i])
                && (filter_all || self.filter.accepts(batch.agency[i], batch.brand[i]))
        };
        match &mut self.sums {
            Sums::Pareto { measure, sales } => {
                grow(sales, n_customers, Amount::ZERO);
                let values = match measure {
                    Measure::Amount => &batch.amount,
                    Measure::Margin => &batch.margin,
                };
                for i in 0..batch.len() {
                    if counts(i) {
                        sales[batch.customer[i] as usize] += values[i];
                    }
                }
            }
            Sums::Rfm {
                monetary,
                order_net,
                order_last,
            } => {
                grow(monetary, n_customers, Amount::ZERO);
                grow(order_net, dicts.n_orders(), Amount::ZERO);
                grow(order_last, dicts.n_orders(), None);
                for i in 0..batch.len() {
                    if counts(i) {
                        monetary[batch.customer[i] as usize] += batch.amount[i];
                        let order = batch.order[i] as usize;
                        order_net[order] += batch.amount[i];
                        order_last[order] = order_last[order].max(Some(batch.date[i]));
                    }
                }
            }
        }
    }

    /// The per-account figures, for every known customer.
    pub fn finish(self, dicts: &Dictionaries) -> Aggregated {
        let n_customers = dicts.customers.len();
        match self.sums {
            Sums::Pareto { mut sales, .. } => {
                grow(&mut sales, n_customers, Amount::ZERO);
                Aggregated::Sales(sales)
            }
            Sums::Rfm {
                monetary,
                order_net,
                order_last,
            } => {
                let mut inputs = vec![RfmInput::default(); n_customers];
                for (customer, amount) in monetary.into_iter().enumerate() {
                    inputs[customer].monetary = amount;
                }
                for (order, (net, last)) in order_net.into_iter().zip(order_last).enumerate() {
                    if let Some(date) = last {
                        inputs[dicts.order_customer(order as u32) as usize].add_order(net, date);
                    }
                }
                Aggregated::Rfm(inputs)
            }
        }
    }
}
