//! What every backend computes the same way before writing: merged
//! attributes and the folded text customers are searched by.

use crate::{Customer, NewRun, ResultRow, Run, StoreError, StoreResult, StoredLine};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use strata_domain::columns::CustomerColumn;
use strata_domain::features::fold;

/// The attributes after an upsert: the new values over the old ones.
pub fn merge_attributes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut merged = old.clone();
    merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}

/// The text `q` searches: id, name, e-mail and VAT, folded (no case, no
/// accents), one per line.
pub fn search_text(customer: &Customer) -> String {
    let mut text = fold(&customer.id);
    for column in [
        CustomerColumn::Name,
        CustomerColumn::Email,
        CustomerColumn::Vat,
    ] {
        if let Some(value) = customer.attributes.get(column.name()) {
            text.push('\n');
            text.push_str(&fold(value));
        }
    }
    text
}

/// The folded form of a search query.
pub fn search_query(q: &str) -> String {
    fold(q)
}

/// The orders of an import that replaces whole orders, with their number
/// of lines: `(customer, order, lines)`, in first-seen order.
pub fn order_sizes(lines: &[StoredLine]) -> Vec<(&str, &str, i64)> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut out: Vec<(&str, &str, i64)> = Vec::new();
    for l in lines {
        let key = (l.customer_id.as_str(), l.order_id.as_str());
        match index.get(&key) {
            Some(&i) => out[i].2 = out[i].2.max(l.line),
            None => {
                index.insert(key, out.len());
                out.push((key.0, key.1, l.line));
            }
        }
    }
    out
}

/// Whether a new run can be queued beside the active ones: the active run
/// of the same types and as-of date is returned instead; sharing a type
/// with any other active run is a conflict.
pub fn active_overlap(active: &[Run], new: &NewRun) -> StoreResult<Option<Run>> {
    let mut wanted = new.types.clone();
    wanted.sort();
    for run in active {
        let mut types = run.types.clone();
        types.sort();
        if types == wanted && run.as_of == new.as_of {
            return Ok(Some(run.clone()));
        }
        if let Some(shared) = run.types.iter().find(|t| new.types.contains(t)) {
            return Err(StoreError::Conflict(format!(
                "type '{shared}' is already in run {} ({}, as of {})",
                run.id,
                run.status.as_str(),
                run.as_of
            )));
        }
    }
    Ok(None)
}

/// How many customers' sets of segments differ between a type's previous
/// result, `(customer, segment)` pairs, and its new rows.
pub fn changed_customers<'a>(
    previous: impl IntoIterator<Item = (&'a str, &'a str)>,
    rows: &'a [ResultRow],
) -> u64 {
    let mut before: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (customer, segment) in previous {
        before.entry(customer).or_default().insert(segment);
    }
    let mut after: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for row in rows {
        after
            .entry(&row.customer_id)
            .or_default()
            .insert(&row.segment);
    }
    let gone = before.keys().filter(|c| !after.contains_key(*c)).count();
    let differ = after
        .iter()
        .filter(|(c, segments)| before.get(*c) != Some(*segments))
        .count();
    (gone + differ) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_case_and_accents() {
        let customer = Customer {
            id: "C-1".into(),
            attributes: [
                ("name".to_owned(), "Société Générale".to_owned()),
                ("city".to_owned(), "Lyon".to_owned()),
            ]
            .into(),
        };
        let text = search_text(&customer);
        assert!(text.contains(&search_query("SOCIETE gén")));
        assert!(text.contains(&search_query("c-1")));
        assert!(!text.contains(&search_query("lyon")));
    }

    #[test]
    fn new_values_win_and_absent_ones_stay() {
        let old = [("a", "1"), ("b", "2")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let new = [("b", "3"), ("c", "4")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let merged = merge_attributes(&old.into(), &new.into());
        assert_eq!(
            merged.into_iter().collect::<Vec<_>>(),
            [("a", "1"), ("b", "3"), ("c", "4")].map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    fn row(customer: &str, segment: &str) -> ResultRow {
        ResultRow {
            customer_id: customer.into(),
            segment: segment.into(),
            ..ResultRow::default()
        }
    }

    #[test]
    fn changed_customers_counts_gone_new_and_different_sets_once_each() {
        let previous = [
            ("C1", "A"),
            ("C2", "X"),
            ("C2", "Y"),
            ("C3", "B"),
            ("C4", "A"),
        ];
        let rows = [
            row("C2", "Y"),
            row("C2", "X"),
            row("C3", "A"),
            row("C4", "A"),
            row("C5", "A"),
        ];
        // C1 gone, C3 moved, C5 new; C2 (the same groups in another order)
        // and C4 unchanged.
        assert_eq!(changed_customers(previous, &rows), 3);
        assert_eq!(changed_customers([], &rows), 4);
        assert_eq!(changed_customers(previous, &[]), 4);
    }
}
