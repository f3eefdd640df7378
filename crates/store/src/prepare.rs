//! What every backend computes the same way before writing: merged
//! attributes and the folded text customers are searched by.

use crate::{
    Customer, NewRun, Recompute, ResultRow, Retention, Run, RunKind, StoreError, StoreResult,
    StoredLine,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use strata_domain::classify::{
    automatic_of, effective_segments, memberships, segment_changes, StoredRow,
};
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

/// A customer's hold on a type: its stored rows and its manual segments.
#[derive(Clone, Debug, Default)]
pub struct Held<'a> {
    /// Its rows in the type's result.
    pub rows: Vec<StoredRow<'a>>,
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

/// A customer's rows of a type once its manual segments are `manual`: the
/// domain's memberships of what its rows hold apart from manual
/// assignments. A tiered type's row keeps its figures whatever its
/// segment; a group's row keeps its own, a manual-only group has none.
pub fn restated_rows(
    (type_name, customer): (&str, &str),
    one_per_account: bool,
    rows: &[ResultRow],
    manual: &[String],
) -> Vec<ResultRow> {
    let automatic_of_row = |r| automatic_of([ResultRow::stored(r)]).first().map(|a| a.0);
    let automatic = automatic_of(rows.iter().map(ResultRow::stored));
    let manual: Vec<&str> = manual.iter().map(String::as_str).collect();
    memberships(one_per_account, &automatic, &manual)
        .into_iter()
        .map(|m| {
            let figures = if one_per_account {
                rows.first().map(|r| r.figures.clone()).unwrap_or_default()
            } else {
                rows.iter()
                    .find(|r| {
                        m.automatic
                            .is_some_and(|(a, _)| automatic_of_row(r) == Some(a))
                    })
                    .map(|r| r.figures.clone())
                    .unwrap_or_default()
            };
            ResultRow {
                type_name: type_name.to_owned(),
                customer_id: customer.to_owned(),
                segment: m.segment.to_owned(),
                source: m.source.as_str().to_owned(),
                auto_segment: m.automatic.map(|(a, _)| a.to_owned()),
                auto_source: m.automatic.map(|(_, s)| s.as_str().to_owned()),
                manual_segment: m.manual.then(|| m.segment.to_owned()),
                figures,
            }
        })
        .collect()
}

/// What replacing a customer's rows of a type changes of its effective
/// segments, its manual segments staying.
pub fn row_changes<'a>(
    one_per_account: bool,
    customer: &'a str,
    old: &'a [ResultRow],
    new: &'a [ResultRow],
    manual: &'a [String],
) -> Vec<SegmentMove<'a>> {
    let hold = |rows: &'a [ResultRow]| {
        holds(
            rows.iter().map(|r| (customer, r.stored())),
            manual.iter().map(|m| (customer, m.as_str())),
        )
    };
    effective_changes(one_per_account, &hold(old), &hold(new))
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
/// computed segment, its source.
pub type HeldRow = (String, String, String, Option<String>, Option<String>);

/// A [`HeldRow`] without its first column, borrowed.
fn stored(row: &HeldRow) -> StoredRow<'_> {
    (
        row.1.as_str(),
        row.2.as_str(),
        row.3.as_deref(),
        row.4.as_deref(),
    )
}

/// The changes of effective segments when a type's manual assignments go
/// from `before` to `after` (`(customer, segment)`), its rows staying.
pub fn manual_changes<'a>(
    one_per_account: bool,
    rows: &'a [HeldRow],
    before: &'a [(String, String)],
    after: &'a [(String, String)],
) -> Vec<SegmentMove<'a>> {
    let rows = || rows.iter().map(|r| (r.0.as_str(), stored(r)));
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
    let before = holds(previous.iter().map(|r| (r.0.as_str(), stored(r))), manual());
    let after = holds(
        rows.iter().map(|r| (r.customer_id.as_str(), r.stored())),
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
                    .map(|r| (tombstone, stored(r))),
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
    rows: impl IntoIterator<Item = (&'a str, StoredRow<'a>)>,
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

/// Retention as stored: `keep_runs` and `history_days` columns.
pub fn retention_of(keep_runs: i64, history_days: Option<i64>) -> StoreResult<Retention> {
    let count = |n: i64, what: &str| {
        u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what}: {n}")))
    };
    Ok(Retention {
        keep_runs: count(keep_runs, "keep_runs")?,
        history_days: history_days.map(|d| count(d, "history_days")).transpose()?,
    })
}

/// A type's `recompute` column.
pub fn recompute_of(text: &str) -> StoreResult<Recompute> {
    Recompute::from_name(text).ok_or_else(|| StoreError::Corrupt(format!("recompute: {text}")))
}

/// The runs whose rows go: of runs `(id, types)` that keep rows, those
/// beyond the latest `keep` of every type they classified.
pub fn runs_beyond(runs: &[(i64, Vec<String>)], keep: u32) -> Vec<i64> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let mut ordered: Vec<&(i64, Vec<String>)> = runs.iter().collect();
    ordered.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out = Vec::new();
    for (id, types) in ordered {
        let mut kept = false;
        for t in types {
            let n = seen.entry(t.as_str()).or_default();
            *n += 1;
            kept |= *n <= keep;
        }
        if !kept {
            out.push(*id);
        }
    }
    out.sort_unstable();
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
    fn a_manual_change_restates_rows_and_clearing_it_restores_them() {
        let row =
            |segment: &str, source: &str, auto: Option<(&str, &str)>, figure: &str| ResultRow {
                type_name: "T".into(),
                customer_id: "C1".into(),
                segment: segment.into(),
                source: source.into(),
                auto_segment: auto.map(|a| a.0.into()),
                auto_source: auto.map(|a| a.1.into()),
                manual_segment: (source == "manual").then(|| segment.into()),
                figures: [("sales".to_owned(), figure.to_owned())].into(),
            };
        let key = ("T", "C1");
        let manual = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // A tier: the manual one replaces the default one, which comes back.
        let computed = [row("C", "default", Some(("C", "default")), "0")];
        let assigned = restated_rows(key, true, &computed, &manual(&["A"]));
        assert_eq!(assigned, [row("A", "manual", Some(("C", "default")), "0")]);
        assert_eq!(restated_rows(key, true, &assigned, &[]), computed);
        // No result yet: the manual tier alone, without figures.
        let alone = restated_rows(key, true, &[], &manual(&["B"]));
        assert_eq!(
            (
                alone[0].segment.as_str(),
                alone[0].source.as_str(),
                alone[0].figures.len()
            ),
            ("B", "manual", 0)
        );
        // Groups: a manual group joins, an included one keeps its source and figures.
        let groups = [row("X", "include", Some(("X", "include")), "1")];
        let joined = restated_rows(key, false, &groups, &manual(&["X", "Y"]));
        assert_eq!(joined[0], row("X", "manual", Some(("X", "include")), "1"));
        assert_eq!(
            (
                joined[1].segment.as_str(),
                joined[1].auto_segment.as_deref()
            ),
            ("Y", None)
        );
        assert_eq!(restated_rows(key, false, &joined, &[]), groups);
    }

    #[test]
    fn runs_beyond_the_latest_few_of_each_type_go() {
        let runs = |spec: &[(i64, &[&str])]| {
            spec.iter()
                .map(|(id, types)| (*id, types.iter().map(|t| (*t).to_owned()).collect()))
                .collect::<Vec<_>>()
        };
        let runs = runs(&[
            (1, &["A"]),
            (2, &["B"]),
            (3, &["A"]),
            (4, &["A", "B"]),
            (5, &["A"]),
        ]);
        assert_eq!(runs_beyond(&runs, 2), [1, 3]);
        assert_eq!(runs_beyond(&runs, 1), [1, 2, 3]);
        assert_eq!(runs_beyond(&runs, 3), [1]);
        assert!(runs_beyond(&runs, 4).is_empty());
    }

    #[test]
    fn changes_compare_effective_segments_with_manual_ones() {
        let computed = |s: &'static str| ("computed", s, Some(s), Some("computed"));
        let before = holds(
            [
                ("C1", computed("A")),
                ("C2", computed("A")),
                ("C3", computed("B")),
                ("C4", ("manual", "C", Some("A"), Some("computed"))),
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
