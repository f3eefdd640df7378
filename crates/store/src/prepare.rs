//! What every backend computes the same way before writing: merged
//! attributes and the folded text customers are searched by.

use crate::{Customer, NewRun, ResultRow, Run, RunKind, StoreError, StoreResult, StoredLine};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use strata_domain::classify::{automatic_of, effective_segments, segment_changes};
use strata_domain::columns::CustomerColumn;
use strata_domain::date::Window;
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
///
/// One-off runs write no type's results: they only meet the same one-off
/// run again.
pub fn active_overlap(active: &[Run], new: &NewRun) -> StoreResult<Option<Run>> {
    let mut wanted = new.types.clone();
    wanted.sort();
    for run in active {
        let mut types = run.types.clone();
        types.sort();
        if types == wanted && run.as_of == new.as_of && run.kind == new.kind {
            return Ok(Some(run.clone()));
        }
        if run.kind.is_one_off() || new.kind.is_one_off() {
            continue;
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

/// A customer's hold on a type: its stored rows `(source, segment,
/// computed segment)` and its manual segments.
#[derive(Clone, Debug, Default)]
pub struct Held<'a> {
    /// Its rows in the type's result.
    pub rows: Vec<(&'a str, &'a str, Option<&'a str>)>,
    /// Its manual segments.
    pub manual: Vec<&'a str>,
}

impl<'a> Held<'a> {
    /// Its effective segments, by the domain's precedence.
    fn effective(&self, one_per_account: bool) -> Vec<&'a str> {
        effective_segments(
            one_per_account,
            &automatic_of(self.rows.iter().copied()),
            &self.manual,
        )
    }
}

/// Every change of effective segments between two states of a type's
/// customers, `(customer, old, new)` in customer order: what history
/// records. A customer absent from a state holds nothing there.
pub fn effective_changes<'a>(
    one_per_account: bool,
    before: &BTreeMap<&'a str, Held<'a>>,
    after: &BTreeMap<&'a str, Held<'a>>,
) -> Vec<SegmentMove<'a>> {
    let customers: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let nothing = Held::default();
    customers
        .into_iter()
        .flat_map(|customer| {
            let old = before.get(customer).unwrap_or(&nothing);
            let new = after.get(customer).unwrap_or(&nothing);
            segment_changes(
                one_per_account,
                &old.effective(one_per_account),
                &new.effective(one_per_account),
            )
            .into_iter()
            .map(move |(o, n)| (customer, o, n))
        })
        .collect()
}

/// One change of a customer's effective segments: `(customer, old, new)`.
pub type SegmentMove<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

/// A stored row as history reads it: customer (or type), source, segment,
/// computed segment.
pub type HeldRow = (String, String, String, Option<String>);

/// The changes of effective segments when a type's manual assignments go
/// from `before` to `after` (`(customer, segment)`), its rows staying.
pub fn manual_changes<'a>(
    one_per_account: bool,
    rows: &'a [HeldRow],
    before: &'a [(String, String)],
    after: &'a [(String, String)],
) -> Vec<SegmentMove<'a>> {
    let rows = || {
        rows.iter().map(|(c, source, s, auto)| {
            (c.as_str(), (source.as_str(), s.as_str(), auto.as_deref()))
        })
    };
    let manual = |m: &'a [(String, String)]| m.iter().map(|(c, s)| (c.as_str(), s.as_str()));
    effective_changes(
        one_per_account,
        &holds(rows(), manual(before)),
        &holds(rows(), manual(after)),
    )
}

/// What a run's new rows of a type change of its customers' effective
/// segments, both sides read with today's manual segments (a manual change
/// since the previous run is already in history).
pub fn run_changes<'a>(
    groups: &[String],
    type_name: &str,
    previous: &'a [HeldRow],
    rows: &'a [ResultRow],
    manual: &'a [(String, String)],
) -> Vec<SegmentMove<'a>> {
    let manual = || manual.iter().map(|(c, s)| (c.as_str(), s.as_str()));
    let before = holds(
        previous.iter().map(|(c, source, s, auto)| {
            (c.as_str(), (source.as_str(), s.as_str(), auto.as_deref()))
        }),
        manual(),
    );
    let after = holds(
        rows.iter().map(|r| {
            (
                r.customer_id.as_str(),
                (
                    r.source.as_str(),
                    r.segment.as_str(),
                    r.auto_segment.as_deref(),
                ),
            )
        }),
        manual(),
    );
    let one_per_account = !groups.iter().any(|g| g == type_name);
    effective_changes(one_per_account, &before, &after)
}

/// What erasing a customer changes, per type it held segments in: every
/// effective segment left, under its `tombstone`. `rows` are `(type,
/// source, segment, computed)`, `manual` `(type, segment)`; `groups` the
/// types that give a customer any number of segments.
pub fn erasure_changes<'a>(
    tombstone: &'a str,
    rows: &'a [HeldRow],
    manual: &'a [(String, String)],
    groups: &[String],
) -> Vec<(&'a str, Vec<SegmentMove<'a>>)> {
    let types: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.0.as_str())
        .chain(manual.iter().map(|m| m.0.as_str()))
        .collect();
    types
        .into_iter()
        .map(|type_name| {
            let before = holds(
                rows.iter()
                    .filter(|r| r.0 == type_name)
                    .map(|(_, source, s, auto)| {
                        (tombstone, (source.as_str(), s.as_str(), auto.as_deref()))
                    }),
                manual
                    .iter()
                    .filter(|m| m.0 == type_name)
                    .map(|(_, s)| (tombstone, s.as_str())),
            );
            let one_per_account = !groups.iter().any(|g| g == type_name);
            (
                type_name,
                effective_changes(one_per_account, &before, &BTreeMap::new()),
            )
        })
        .collect()
}

/// A name for an erased customer in its history: random, so that nothing
/// leads back to the id.
pub fn tombstone() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("erased-{n:016x}")
}

/// How many customers a list of changes names.
pub fn changed_count(changes: &[SegmentMove<'_>]) -> u64 {
    changes
        .iter()
        .map(|(c, _, _)| *c)
        .collect::<BTreeSet<_>>()
        .len() as u64
}

/// The holds of a type's customers: its rows and manual segments.
pub fn holds<'a>(
    rows: impl IntoIterator<Item = (&'a str, (&'a str, &'a str, Option<&'a str>))>,
    manual: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<&'a str, Held<'a>> {
    let mut out: BTreeMap<&str, Held> = BTreeMap::new();
    for (customer, row) in rows {
        out.entry(customer).or_default().rows.push(row);
    }
    for (customer, segment) in manual {
        out.entry(customer).or_default().manual.push(segment);
    }
    out
}

/// The `periods` column of a run: its date ranges as `FROM..TO`, comma
/// separated; `None` for a segment run.
pub fn periods_column(kind: &RunKind) -> Option<String> {
    let periods: Vec<String> = kind.periods().iter().map(ToString::to_string).collect();
    (!periods.is_empty()).then(|| periods.join(","))
}

/// A run's kind from its `kind` and `periods` columns.
pub fn kind_from_columns(kind: &str, periods: Option<&str>) -> StoreResult<RunKind> {
    let windows = periods
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(Window::parse_period)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(format!("run periods: {e}")))?;
    RunKind::from_parts(kind, &windows).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "run kind '{kind}' with periods {}",
            periods.unwrap_or("none")
        ))
    })
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

    #[test]
    fn changes_compare_effective_segments_with_manual_ones() {
        let computed = |s: &'static str| ("computed", s, Some(s));
        let before = holds(
            [
                ("C1", computed("A")),
                ("C2", computed("A")),
                ("C3", computed("B")),
                ("C4", ("manual", "C", Some("A"))),
            ],
            [("C2", "B"), ("C4", "C")],
        );
        let after = holds(
            [
                ("C2", computed("C")),
                ("C3", computed("A")),
                ("C4", computed("B")),
                ("C5", computed("A")),
            ],
            [("C2", "B"), ("C4", "C")],
        );
        // C1 gone, C3 moved, C5 new; C2 and C4 keep their manual segment
        // whatever the method now says.
        let changes = effective_changes(true, &before, &after);
        assert_eq!(
            changes,
            [
                ("C1", Some("A"), None),
                ("C3", Some("B"), Some("A")),
                ("C5", None, Some("A")),
            ]
        );
        assert_eq!(changed_count(&changes), 3);
        let groups = holds([("C1", computed("X")), ("C1", computed("Y"))], []);
        let moved = holds([("C1", computed("Y")), ("C1", computed("Z"))], []);
        let changes = effective_changes(false, &groups, &moved);
        assert_eq!(changes, [("C1", Some("X"), None), ("C1", None, Some("Z"))]);
        assert_eq!(changed_count(&changes), 1);
    }
}
