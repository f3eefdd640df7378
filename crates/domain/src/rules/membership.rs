//! Who is in the segments of a rules type. Precedence, strongest first: a
//! manual assignment, the segment's exclude list, its include list, its rule.
//! Exclusive types are ordered tiers (the first that takes a customer wins,
//! a default tier catches the rest); otherwise every segment is a group.

use super::eval::Truth;
use crate::classify::{AccountAssignment, Source};
use crate::segment_type::{SegmentIdx, SegmentType};

/// What decides membership, per segment of the type.
pub struct SegmentInputs {
    /// The rule's truth per customer, `None` for a static group.
    pub rule: Option<Vec<Truth>>,
    /// Whether each customer is on the include list.
    pub include: Vec<bool>,
    /// Whether each customer is on the exclude list.
    pub exclude: Vec<bool>,
}

/// One customer in one segment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// Customer id.
    pub customer: u32,
    /// Segment, source, computed and manual segments.
    pub assignment: AccountAssignment,
}

/// The automatic (non-manual) source of a customer in a segment, if any.
fn automatic(segment: &SegmentInputs, customer: usize) -> Option<Source> {
    if segment.exclude[customer] {
        None
    } else if segment.include[customer] {
        Some(Source::Include)
    } else if segment
        .rule
        .as_ref()
        .is_some_and(|t| t[customer] == Truth::True)
    {
        Some(Source::Computed)
    } else {
        None
    }
}

/// The memberships of every customer, ordered by customer then segment.
/// `manual[c]` lists customer `c`'s manual segments (at most one for an
/// exclusive type).
pub fn classify(
    ty: &SegmentType,
    exclusive: bool,
    inputs: &[SegmentInputs],
    manual: &[Vec<SegmentIdx>],
    n_customers: usize,
) -> Vec<Membership> {
    let default = ty.default_segment();
    let candidates: Vec<usize> = (0..ty.segments.len())
        .filter(|&s| !ty.segments[s].excluded && Some(s as SegmentIdx) != default)
        .collect();
    let mut out = Vec::new();
    for c in 0..n_customers {
        let manual_c: &[SegmentIdx] = manual.get(c).map_or(&[], Vec::as_slice);
        let customer = c as u32;
        if exclusive {
            // The first tier listing the customer wins; then the first whose rule holds.
            let by_include = candidates
                .iter()
                .find(|&&s| automatic(&inputs[s], c) == Some(Source::Include));
            let by_rule = || {
                candidates
                    .iter()
                    .find(|&&s| automatic(&inputs[s], c) == Some(Source::Computed))
            };
            let computed = match by_include.or_else(by_rule) {
                Some(&s) => Some((
                    s as SegmentIdx,
                    automatic(&inputs[s], c).expect("found above"),
                )),
                None => default
                    .filter(|&d| !inputs[usize::from(d)].exclude[c])
                    .map(|d| (d, Source::Default)),
            };
            let manual_segment = manual_c.first().copied();
            let (segment, source) = match (manual_segment, computed) {
                (Some(m), _) => (Some(m), Some(Source::Manual)),
                (None, Some((s, source))) => (Some(s), Some(source)),
                (None, None) => (None, None),
            };
            if let Some(segment) = segment {
                out.push(Membership {
                    customer,
                    assignment: AccountAssignment {
                        segment: Some(segment),
                        source,
                        auto_segment: computed.map(|(s, _)| s),
                        auto_source: computed.map(|(_, source)| source),
                        manual_segment,
                    },
                });
            }
        } else {
            let mut in_any = false;
            for (s, (segment, input)) in ty.segments.iter().zip(inputs).enumerate() {
                let idx = s as SegmentIdx;
                let is_manual = manual_c.contains(&idx);
                let auto = if Some(idx) == default || segment.excluded {
                    None
                } else {
                    automatic(input, c)
                };
                in_any |= auto.is_some() || is_manual;
                if auto.is_none() && !is_manual {
                    continue;
                }
                out.push(Membership {
                    customer,
                    assignment: AccountAssignment {
                        segment: Some(idx),
                        source: if is_manual {
                            Some(Source::Manual)
                        } else {
                            auto
                        },
                        auto_segment: auto.map(|_| idx),
                        auto_source: auto,
                        manual_segment: is_manual.then_some(idx),
                    },
                });
            }
            if let Some(d) = default.filter(|&d| !in_any && !inputs[usize::from(d)].exclude[c]) {
                out.push(Membership {
                    customer,
                    assignment: AccountAssignment {
                        segment: Some(d),
                        source: Some(Source::Default),
                        auto_segment: Some(d),
                        auto_source: Some(Source::Default),
                        manual_segment: None,
                    },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn rules_type(exclusive: bool) -> SegmentType {
        let text = format!(
            "[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = {exclusive}\n\
             [[types.segments]]\nname = \"VIP\"\nrule = \"total_spent > 1\"\n\
             [[types.segments]]\nname = \"Static\"\n\
             [[types.segments]]\nname = \"Rest\"\ndefault = true\n"
        );
        parse_config(&text).unwrap().types.remove(0)
    }

    fn inputs(rule: &str, include: [&str; 2], exclude: [&str; 2]) -> Vec<SegmentInputs> {
        let truths = |s: &str| {
            s.chars()
                .map(|c| {
                    if c == 'T' {
                        Truth::True
                    } else if c == 'F' {
                        Truth::False
                    } else {
                        Truth::Unknown
                    }
                })
                .collect()
        };
        let flags = |s: &str| s.chars().map(|c| c == 'x').collect();
        vec![
            SegmentInputs {
                rule: Some(truths(rule)),
                include: flags(include[0]),
                exclude: flags(exclude[0]),
            },
            SegmentInputs {
                rule: None,
                include: flags(include[1]),
                exclude: flags(exclude[1]),
            },
            SegmentInputs {
                rule: None,
                include: vec![false; 5],
                exclude: vec![false; 5],
            },
        ]
    }

    fn show(ty: &SegmentType, memberships: &[Membership]) -> Vec<String> {
        memberships
            .iter()
            .map(|m| {
                let a = m.assignment;
                format!(
                    "{}:{}:{}",
                    m.customer,
                    ty.segment_name(a.segment.unwrap()),
                    a.source.unwrap().as_str()
                )
            })
            .collect()
    }

    /// Each customer's rows are what `memberships` makes of their
    /// automatic segments and manual ones: what a store applies when a
    /// manual assignment changes between runs.
    fn agree_with_memberships(ty: &SegmentType, out: &[Membership], manual: &[Vec<SegmentIdx>]) {
        let one = ty.one_per_account();
        for c in 0..manual.len().max(5) as u32 {
            let rows: Vec<_> = out.iter().filter(|m| m.customer == c).collect();
            let automatic: Vec<(SegmentIdx, Source)> = rows
                .iter()
                .filter_map(|m| m.assignment.auto_segment.zip(m.assignment.auto_source))
                .collect();
            let manual_c = manual.get(c as usize).cloned().unwrap_or_default();
            let mut expected: Vec<_> = crate::classify::memberships(one, &automatic, &manual_c)
                .into_iter()
                .map(|m| (m.segment, m.source))
                .collect();
            let mut got: Vec<_> = rows
                .iter()
                .map(|m| (m.assignment.segment.unwrap(), m.assignment.source.unwrap()))
                .collect();
            expected.sort_by_key(|e| e.0);
            got.sort_by_key(|e| e.0);
            assert_eq!(got, expected, "customer {c}");
        }
    }

    #[test]
    fn groups_follow_manual_exclude_include_rule_precedence() {
        let ty = rules_type(false);
        // Customer 0: rule true. 1: rule true but excluded. 2: unknown, included.
        // 3: included and excluded: exclude wins. 4: manual in Static.
        let segs = inputs("TT?TF", ["..xx.", "....."], [".x.x.", "....."]);
        let manual = vec![vec![], vec![], vec![], vec![], vec![1]];
        let out = classify(&ty, false, &segs, &manual, 5);
        agree_with_memberships(&ty, &out, &manual);
        assert_eq!(
            show(&ty, &out),
            [
                "0:VIP:computed",
                "1:Rest:default",
                "2:VIP:include",
                "3:Rest:default",
                "4:Static:manual"
            ]
        );
    }

    #[test]
    fn static_groups_have_only_their_include_list_and_manual_members() {
        let ty = rules_type(false);
        let segs = inputs("TFFFF", [".....", "x...."], [".....", "....."]);
        let manual = vec![vec![], vec![1, 0]];
        let out = classify(&ty, false, &segs, &manual, 5);
        agree_with_memberships(&ty, &out, &manual);
        assert_eq!(
            show(&ty, &out),
            [
                "0:VIP:computed",
                "0:Static:include",
                "1:VIP:manual",
                "1:Static:manual",
                "2:Rest:default",
                "3:Rest:default",
                "4:Rest:default"
            ]
        );
    }

    #[test]
    fn exclusive_tiers_take_includes_first_then_rules_then_default() {
        let ty = rules_type(true);
        // Customer 0: rule true and on Static's include list: includes come first.
        // 1: rule true. 2: rule unknown. 3: excluded from VIP. 4: manual.
        let segs = inputs("TT?TT", [".....", "x...."], ["...x.", "....."]);
        let manual = vec![vec![], vec![], vec![], vec![], vec![2]];
        let out = classify(&ty, true, &segs, &manual, 5);
        agree_with_memberships(&ty, &out, &manual);
        assert_eq!(
            show(&ty, &out),
            [
                "0:Static:include",
                "1:VIP:computed",
                "2:Rest:default",
                "3:Rest:default",
                "4:Rest:manual"
            ]
        );
        assert_eq!(
            out[4].assignment.auto_segment,
            Some(0),
            "the computed tier is kept beside the manual one"
        );
    }
}
