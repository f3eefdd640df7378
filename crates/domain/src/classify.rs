//! What every method shares: pooling accounts into units (VAT groups) and
//! combining computed, default and manual segments per account.

use crate::segment_type::SegmentIdx;
use std::collections::HashMap;

/// Which accounts are classified together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    /// The unit of each account.
    pub unit_of_account: Vec<u32>,
    /// Number of units.
    pub n_units: usize,
}

impl Grouping {
    /// Every account is its own unit.
    pub fn by_account(n_accounts: usize) -> Grouping {
        Grouping {
            unit_of_account: (0..n_accounts as u32).collect(),
            n_units: n_accounts,
        }
    }

    /// Accounts sharing a VAT number form one unit; accounts without one
    /// stand alone. VAT numbers are compared ignoring case, spaces, dots and dashes.
    pub fn by_vat<'a>(vats: impl IntoIterator<Item = Option<&'a str>>) -> Grouping {
        let mut units: HashMap<String, u32> = HashMap::new();
        let mut unit_of_account = Vec::new();
        let mut n_units = 0u32;
        for vat in vats {
            let key = vat
                .map(|v| {
                    v.chars()
                        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-'))
                        .flat_map(char::to_uppercase)
                        .collect::<String>()
                })
                .filter(|k| !k.is_empty());
            let unit = match key {
                Some(key) => *units.entry(key).or_insert_with(|| {
                    n_units += 1;
                    n_units - 1
                }),
                None => {
                    n_units += 1;
                    n_units - 1
                }
            };
            unit_of_account.push(unit);
        }
        Grouping {
            unit_of_account,
            n_units: n_units as usize,
        }
    }

    /// Pools a per-account value into per-unit values with a merge that can
    /// fail (a sum leaving its range); `Err` names the unit it failed for.
    pub fn try_pool<T: Copy + Default>(
        &self,
        per_account: &[T],
        merge: impl Fn(T, T) -> Option<T>,
    ) -> Result<Vec<T>, u32> {
        let mut units = vec![T::default(); self.n_units];
        for (account, &value) in per_account.iter().enumerate() {
            let unit = self.unit_of_account[account];
            units[unit as usize] = merge(units[unit as usize], value).ok_or(unit)?;
        }
        Ok(units)
    }

    /// The first account of a unit, to name it in messages.
    pub fn first_account(&self, unit: u32) -> u32 {
        self.unit_of_account
            .iter()
            .position(|&u| u == unit)
            .map_or(unit, |a| a as u32)
    }

    /// Sums a per-account value into per-unit totals.
    pub fn pool<T: Copy + Default, F: Fn(T, T) -> T>(&self, per_account: &[T], merge: F) -> Vec<T> {
        let mut units = vec![T::default(); self.n_units];
        for (account, &value) in per_account.iter().enumerate() {
            let unit = self.unit_of_account[account] as usize;
            units[unit] = merge(units[unit], value);
        }
        units
    }
}

/// Where an account's effective segment comes from.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Source {
    /// Computed by the method.
    Computed,
    /// The type's fallback segment for units that could not be classified.
    Default,
    /// A manual assignment, which always wins.
    Manual,
    /// A rules segment's include list.
    Include,
}

impl Source {
    /// The name written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Computed => "computed",
            Source::Default => "default",
            Source::Manual => "manual",
            Source::Include => "include",
        }
    }

    /// The source written as `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Source> {
        [
            Source::Computed,
            Source::Default,
            Source::Manual,
            Source::Include,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The automatic segment a stored assignment row holds apart from manual
/// assignments, with its source: a manual row keeps the computed segment
/// it replaced, if any, and that segment's source (`computed` when a row
/// stored before sources were kept does not say); any other row is what
/// the method (or a list) gave.
pub fn automatic_segment<'a>(
    source: Source,
    segment: &'a str,
    computed: Option<&'a str>,
    computed_source: Option<Source>,
) -> Option<(&'a str, Source)> {
    match source {
        Source::Manual => computed.map(|c| (c, computed_source.unwrap_or(Source::Computed))),
        Source::Computed | Source::Default | Source::Include => Some((segment, source)),
    }
}

/// The computed segment of a unit, before manual assignments.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Computed {
    /// Classified by the method into this segment.
    Segment(SegmentIdx),
    /// Not classifiable, given the type's default segment.
    Default(SegmentIdx),
    /// Not classifiable and the type has no default segment.
    Nothing,
}

impl Computed {
    /// The segment, whatever its origin.
    pub fn segment(self) -> Option<SegmentIdx> {
        match self {
            Computed::Segment(s) | Computed::Default(s) => Some(s),
            Computed::Nothing => None,
        }
    }

    /// A computed or default result for an unclassifiable unit.
    pub fn fallback(default: Option<SegmentIdx>) -> Computed {
        default.map_or(Computed::Nothing, Computed::Default)
    }
}

/// The segment of one customer account and where it comes from.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct AccountAssignment {
    /// The effective segment: manual if any, else computed.
    pub segment: Option<SegmentIdx>,
    /// Where the effective segment comes from (`None` without a segment).
    pub source: Option<Source>,
    /// The computed segment (including the default fallback).
    pub auto_segment: Option<SegmentIdx>,
    /// Where the computed segment comes from: computed, default or include.
    pub auto_source: Option<Source>,
    /// The manual assignment, if any.
    pub manual_segment: Option<SegmentIdx>,
}

/// An account's effective segments from its automatic ones (with their
/// sources) and its manual ones: the segments of its [`memberships`].
pub fn effective_segments<S: Clone + PartialEq>(
    one_per_account: bool,
    automatic: &[(S, Source)],
    manual: &[S],
) -> Vec<S> {
    memberships(one_per_account, automatic, manual)
        .into_iter()
        .map(|m| m.segment)
        .collect()
}

/// What a customer's stored rows of a type held apart from manual
/// assignments: `(source, segment, computed segment, its source)` per row,
/// sources as written in outputs. With its current manual segments,
/// [`effective_segments`] gives its segments now.
pub fn automatic_of<'a>(rows: impl IntoIterator<Item = StoredRow<'a>>) -> Vec<(&'a str, Source)> {
    rows.into_iter()
        .filter_map(|(source, segment, computed, computed_source)| {
            // A source this build does not know is kept as automatic.
            let source = Source::from_name(source).unwrap_or(Source::Computed);
            let computed_source = computed_source.and_then(Source::from_name);
            automatic_segment(source, segment, computed, computed_source)
        })
        .collect()
}

/// A stored assignment row as sources are written in outputs: `(source,
/// segment, computed segment, its source)`.
pub type StoredRow<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// How an account's effective segments changed, as `(old, new)` pairs: in
/// a tiered type one pair from the old segment to the new (either may be
/// none: entered, left); in a group type one pair per group left
/// `(Some, None)` and per group entered `(None, Some)`. Empty when nothing
/// changed.
pub fn segment_changes<S: Clone + PartialEq>(
    one_per_account: bool,
    old: &[S],
    new: &[S],
) -> Vec<(Option<S>, Option<S>)> {
    if one_per_account {
        let (old, new) = (old.first(), new.first());
        return if old == new {
            Vec::new()
        } else {
            vec![(old.cloned(), new.cloned())]
        };
    }
    let left = old
        .iter()
        .filter(|s| !new.contains(s))
        .map(|s| (Some(s.clone()), None));
    let entered = new
        .iter()
        .filter(|s| !old.contains(s))
        .map(|s| (None, Some(s.clone())));
    left.chain(entered).collect()
}

/// One membership as a store keeps it: the segment in force, where it
/// comes from, and what the method (or a list) gave apart from any manual
/// assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState<S> {
    /// The segment in force.
    pub segment: S,
    /// Where it comes from.
    pub source: Source,
    /// The automatic segment this row holds and its source, if any.
    pub automatic: Option<(S, Source)>,
    /// Whether a manual assignment gives the segment.
    pub manual: bool,
}

/// An account's memberships from its automatic segments (with their
/// sources) and its manual ones, by the precedence runs apply (see
/// [`effective_segments`]): a tiered type keeps one row, the manual
/// segment's if any, holding the automatic segment beside it; a group type
/// keeps a row per automatic group (marked manual when also assigned by
/// hand) and one per manual-only group.
pub fn memberships<S: Clone + PartialEq>(
    one_per_account: bool,
    automatic: &[(S, Source)],
    manual: &[S],
) -> Vec<MemberState<S>> {
    if one_per_account {
        return match (manual.first(), automatic.first()) {
            (Some(m), auto) => vec![MemberState {
                segment: m.clone(),
                source: Source::Manual,
                automatic: auto.cloned(),
                manual: true,
            }],
            (None, Some((s, source))) => vec![MemberState {
                segment: s.clone(),
                source: *source,
                automatic: Some((s.clone(), *source)),
                manual: false,
            }],
            (None, None) => Vec::new(),
        };
    }
    // The default group catches customers in no other group: a manual
    // group takes them out of it.
    let mut out: Vec<MemberState<S>> = automatic
        .iter()
        .filter(|(s, source)| manual.is_empty() || *source != Source::Default || manual.contains(s))
        .map(|(s, source)| {
            let manual = manual.contains(s);
            MemberState {
                segment: s.clone(),
                source: if manual { Source::Manual } else { *source },
                automatic: Some((s.clone(), *source)),
                manual,
            }
        })
        .collect();
    for m in manual {
        if !automatic.iter().any(|(s, _)| s == m) {
            out.push(MemberState {
                segment: m.clone(),
                source: Source::Manual,
                automatic: None,
                manual: true,
            });
        }
    }
    out
}

/// Gives each account its unit's computed segment unless a manual
/// assignment overrides it; the computed one is kept beside it.
pub fn combine(
    grouping: &Grouping,
    unit_computed: &[Computed],
    manual: &[Option<SegmentIdx>],
) -> Vec<AccountAssignment> {
    grouping
        .unit_of_account
        .iter()
        .enumerate()
        .map(|(account, &unit)| {
            let computed = unit_computed[unit as usize];
            let manual_segment = manual.get(account).copied().flatten();
            let (segment, source) = match (manual_segment, computed) {
                (Some(m), _) => (Some(m), Some(Source::Manual)),
                (None, Computed::Segment(s)) => (Some(s), Some(Source::Computed)),
                (None, Computed::Default(s)) => (Some(s), Some(Source::Default)),
                (None, Computed::Nothing) => (None, None),
            };
            AccountAssignment {
                segment,
                source,
                auto_segment: computed.segment(),
                auto_source: match computed {
                    Computed::Segment(_) => Some(Source::Computed),
                    Computed::Default(_) => Some(Source::Default),
                    Computed::Nothing => None,
                },
                manual_segment,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_one_move_in_tiers_and_one_entry_per_group() {
        type Case = (
            bool,
            &'static [&'static str],
            &'static [&'static str],
            Vec<(Option<&'static str>, Option<&'static str>)>,
        );
        let cases: Vec<Case> = vec![
            (true, &[], &["A"], vec![(None, Some("A"))]),
            (true, &["A"], &["B"], vec![(Some("A"), Some("B"))]),
            (true, &["A"], &[], vec![(Some("A"), None)]),
            (true, &["A"], &["A"], vec![]),
            (
                false,
                &["X", "Y"],
                &["Y", "Z"],
                vec![(Some("X"), None), (None, Some("Z"))],
            ),
            (false, &["X"], &["X"], vec![]),
            (
                false,
                &[],
                &["X", "Y"],
                vec![(None, Some("X")), (None, Some("Y"))],
            ),
        ];
        for (one, old, new, expected) in cases {
            assert_eq!(
                segment_changes(one, old, new),
                expected,
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn stored_rows_give_their_automatic_segments() {
        let rows = [
            ("computed", "A", Some("A"), Some("computed")),
            ("manual", "B", Some("C"), Some("include")),
            ("manual", "D", None, None),
            ("manual", "F", Some("G"), None),
            ("surprise", "E", None, None),
        ];
        assert_eq!(
            automatic_of(rows),
            [
                ("A", Source::Computed),
                ("C", Source::Include),
                ("G", Source::Computed),
                ("E", Source::Computed)
            ]
        );
    }

    #[test]
    fn a_stored_row_is_automatic_unless_manual_which_keeps_what_it_replaced() {
        for (source, computed, computed_source, expected) in [
            ("computed", Some("A"), None, Some(("B", Source::Computed))),
            ("default", None, None, Some(("B", Source::Default))),
            ("include", None, None, Some(("B", Source::Include))),
            (
                "manual",
                Some("A"),
                Some(Source::Default),
                Some(("A", Source::Default)),
            ),
            ("manual", None, None, None),
        ] {
            let name = source;
            let source = Source::from_name(name).expect("a source name");
            assert_eq!(source.as_str(), name, "names round-trip");
            assert_eq!(
                automatic_segment(source, "B", computed, computed_source),
                expected,
                "{source:?} {computed:?}"
            );
        }
        assert_eq!(Source::from_name("hand"), None);
    }

    #[test]
    fn memberships_follow_the_precedence_and_keep_what_they_replace() {
        use Source::{Computed as C, Default as D, Include as I, Manual as M};
        type Case = (
            bool,
            Vec<(&'static str, Source)>,
            Vec<&'static str>,
            Vec<(&'static str, Source, Option<(&'static str, Source)>)>,
        );
        let cases: Vec<Case> = vec![
            // Tiers: a manual tier replaces the computed one and keeps it.
            (
                true,
                vec![("B", C)],
                vec!["A"],
                vec![("A", M, Some(("B", C)))],
            ),
            (true, vec![("B", D)], vec![], vec![("B", D, Some(("B", D)))]),
            (true, vec![], vec!["C"], vec![("C", M, None)]),
            (true, vec![], vec![], vec![]),
            // Groups: manual groups join the automatic ones.
            (
                false,
                vec![("X", I)],
                vec!["Y"],
                vec![("X", I, Some(("X", I))), ("Y", M, None)],
            ),
            (
                false,
                vec![("X", C)],
                vec!["X"],
                vec![("X", M, Some(("X", C)))],
            ),
            // The default group holds customers in no other group.
            (false, vec![("Rest", D)], vec!["Y"], vec![("Y", M, None)]),
            (
                false,
                vec![("Rest", D)],
                vec!["Rest"],
                vec![("Rest", M, Some(("Rest", D)))],
            ),
            (false, vec![], vec![], vec![]),
        ];
        for (one, automatic, manual, expected) in cases {
            let got: Vec<_> = memberships(one, &automatic, &manual)
                .into_iter()
                .map(|m| {
                    assert_eq!(m.manual, manual.contains(&m.segment));
                    (m.segment, m.source, m.automatic)
                })
                .collect();
            assert_eq!(got, expected, "{automatic:?} + manual {manual:?}");
            let segments: Vec<_> = expected.iter().map(|e| e.0).collect();
            assert_eq!(effective_segments(one, &automatic, &manual), segments);
        }
    }

    #[test]
    fn vat_groups_pool_accounts_and_leave_others_alone() {
        let grouping = Grouping::by_vat([
            Some("FR 12.345"),
            None,
            Some("fr12345"),
            Some(""),
            Some("DE1"),
        ]);
        let u = &grouping.unit_of_account;
        assert_eq!(u[0], u[2], "same VAT after normalisation");
        assert_ne!(u[1], u[3], "accounts without VAT stand alone");
        assert_eq!(grouping.n_units, 4);
        assert_eq!(
            grouping.pool(&[1, 2, 3, 4, 5], |a, b| a + b)[u[0] as usize],
            4
        );
    }

    #[test]
    fn manual_wins_and_computed_is_kept() {
        let grouping = Grouping::by_account(3);
        let computed = [
            Computed::Segment(0),
            Computed::Default(2),
            Computed::Nothing,
        ];
        let rows = combine(&grouping, &computed, &[Some(1), None, None]);
        assert_eq!(
            rows[0],
            AccountAssignment {
                segment: Some(1),
                source: Some(Source::Manual),
                auto_segment: Some(0),
                auto_source: Some(Source::Computed),
                manual_segment: Some(1)
            }
        );
        assert_eq!(
            (rows[1].segment, rows[1].source),
            (Some(2), Some(Source::Default))
        );
        assert_eq!(
            (rows[2].segment, rows[2].source, rows[2].auto_segment),
            (None, None, None)
        );
    }
}
