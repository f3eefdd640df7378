//! Reading transaction lines from CSV or Parquet into batches of integer
//! columns: customer and order ids interned once, dates as day numbers,
//! amounts as fixed-point integers. Batches stream into the aggregators, so
//! memory grows with customers and orders, never with lines.
//!
//! Reading runs on two threads: one decodes the file (CSV fields or Parquet
//! pages into text, date and amount columns), the caller's thread interns
//! ids and aggregates, batch after batch in file order.

mod cells;
mod dictionaries;
mod pipeline;
mod selection;

pub use crate::progress::ErrorMode;
pub use cells::{amount_message, date_message, parse_date_text};
pub use dictionaries::{Dictionaries, Known, LineBatch, NewNames, Texts};
pub use pipeline::{
    read_lines, DecodedBatch, Emit, LineReader, LineSource, Sink, TransactionsInfo,
};
pub(crate) use selection::ColumnMap;
pub use selection::{
    missing_column, refuse_duplicate_columns, DecimalSeparator, NeededColumn, Selection,
};

/// Lines per batch handed to the aggregators.
pub const BATCH_LINES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::dictionaries::Sent;
    use super::*;
    use crate::intern::NONE;
    use arrow_array::types::Int32Type;
    use arrow_array::DictionaryArray;
    use strata_domain::date::Date;
    use strata_domain::money::Amount;

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
            line: None,
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
