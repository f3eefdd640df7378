//! What a customer's lines add up to, as rules features read it.

use crate::date::Date;
use crate::money::Amount;

/// Whether `date` is in the last `days` days: the window `(as_of - days, as_of]`.
pub fn in_last_days(as_of: Date, date: Date, days: i32) -> bool {
    let age = as_of.days_since(date);
    (0..days).contains(&age)
}

/// A customer's activity up to the as-of date, accumulated line by line and
/// order by order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Net sum of all lines.
    pub total_spent: Amount,
    /// Net sums of the lines of the last 30, 90 and 365 days.
    pub spent_30d: Amount,
    /// See `spent_30d`.
    pub spent_90d: Amount,
    /// See `spent_30d`.
    pub spent_365d: Amount,
    /// Net sum of the 90 days before the last 90.
    pub spent_previous_quarter: Amount,
    /// Orders with a positive net.
    pub orders_count: u32,
    /// Positive orders dated in the last 30, 90 and 365 days.
    pub orders_30d: u32,
    /// See `orders_30d`.
    pub orders_90d: u32,
    /// See `orders_30d`.
    pub orders_365d: u32,
    /// Date of the first positive order.
    pub first_order: Option<Date>,
    /// Date of the last positive order.
    pub last_order: Option<Date>,
    /// Days past due of the most overdue open order.
    pub late_order_days: Option<i32>,
}

impl Activity {
    /// Counts one line dated on or before `as_of`; `None` when a sum would
    /// leave the range of amounts (nothing is counted then).
    pub fn add_line(&mut self, as_of: Date, date: Date, amount: Amount) -> Option<()> {
        let age = as_of.days_since(date);
        let add = |sum: Amount, counted: bool| {
            if counted {
                sum.checked_add(amount)
            } else {
                Some(sum)
            }
        };
        let total_spent = add(self.total_spent, true)?;
        let spent_30d = add(self.spent_30d, age < 30)?;
        let spent_90d = add(self.spent_90d, age < 90)?;
        let spent_previous_quarter = add(self.spent_previous_quarter, (90..180).contains(&age))?;
        let spent_365d = add(self.spent_365d, age < 365)?;
        self.total_spent = total_spent;
        self.spent_30d = spent_30d;
        self.spent_90d = spent_90d;
        self.spent_previous_quarter = spent_previous_quarter;
        self.spent_365d = spent_365d;
        Some(())
    }

    /// Counts one order: its net, its date (latest line), and whether it is
    /// still open with a due date.
    pub fn add_order(&mut self, as_of: Date, date: Date, net: Amount, open_due: Option<Date>) {
        if let Some(due) = open_due.filter(|&due| due < as_of) {
            let late = as_of.days_since(due);
            self.late_order_days = self.late_order_days.max(Some(late));
        }
        if !net.is_positive() {
            return;
        }
        self.orders_count = self.orders_count.saturating_add(1);
        for (days, count) in [
            (30, &mut self.orders_30d),
            (90, &mut self.orders_90d),
            (365, &mut self.orders_365d),
        ] {
            if in_last_days(as_of, date, days) {
                *count = count.saturating_add(1);
            }
        }
        self.first_order = Some(self.first_order.map_or(date, |d| d.min(date)));
        self.last_order = self.last_order.max(Some(date));
    }
}
