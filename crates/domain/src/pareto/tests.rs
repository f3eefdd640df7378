use super::*;
use crate::classify::Source;
use crate::config::parse_config;
use crate::segment_type::Method;
use proptest::prelude::*;

/// A Pareto type from `(name, share, default, excluded)` tiers.
fn pareto_type(tiers: &[(&str, &str, bool, bool)], min_sales: i64) -> (SegmentType, ParetoSpec) {
    let mut text = String::from("[[types]]\nname = \"ABC\"\nmethod = \"pareto\"\n");
    text += &format!("min_sales = {min_sales}\n");
    for (name, share, default, excluded) in tiers {
        text += &format!(
            "[[types.segments]]\nname = \"{name}\"\ndefault = {default}\nexcluded = {excluded}\n"
        );
        if !share.is_empty() {
            text += &format!("share = {share}\n");
        }
    }
    let ty = parse_config(&text).unwrap().types.remove(0);
    let Method::Pareto(spec) = ty.method.clone() else {
        unreachable!()
    };
    (ty, spec)
}

fn abc() -> (SegmentType, ParetoSpec) {
    pareto_type(
        &[
            ("A", "80", false, false),
            ("B", "15", false, false),
            ("C", "5", false, false),
        ],
        0,
    )
}

fn units(sales: &[i64]) -> Vec<Amount> {
    sales.iter().map(|&s| Amount::from_units(s)).collect()
}

/// The effective segment name of each account, `-` for none.
fn tiers(
    ty: &SegmentType,
    spec: &ParetoSpec,
    sales: &[i64],
    manual: &[Option<&str>],
) -> Vec<String> {
    let manual: Vec<Option<SegmentIdx>> = manual
        .iter()
        .map(|m| m.map(|n| ty.segment_idx(n).unwrap()))
        .collect();
    let outcome = classify(
        ty,
        spec,
        &units(sales),
        &Grouping::by_account(sales.len()),
        &manual,
    )
    .unwrap();
    outcome
        .accounts
        .iter()
        .map(|a| {
            a.segment
                .map_or("-".to_owned(), |s| ty.segment_name(s).to_owned())
        })
        .collect()
}

#[test]
fn tiers_follow_the_cumulative_share_rule() {
    let (ty, spec) = abc();
    let cases: &[(&str, &[i64], &[&str])] = &[
        (
            "plain 80/15/5",
            &[50, 30, 10, 5, 3, 2],
            &["A", "A", "B", "B", "C", "C"],
        ),
        (
            "the customer crossing 80 % stays in A",
            &[70, 20, 10],
            &["A", "A", "B"],
        ),
        (
            "a customer alone making 90 %",
            &[90, 5, 3, 2],
            &["A", "B", "C", "C"],
        ),
        (
            "ties at the 80 % boundary share B",
            &[40, 40, 10, 10],
            &["A", "A", "B", "B"],
        ),
        (
            "ties straddling the boundary share A",
            &[50, 20, 20, 10],
            &["A", "A", "A", "B"],
        ),
        (
            "all equal: everyone in A",
            &[7, 7, 7, 7],
            &["A", "A", "A", "A"],
        ),
        (
            "zero and negative sales are not ranked",
            &[100, 0, -5],
            &["A", "-", "-"],
        ),
        ("a single customer", &[1], &["A"]),
    ];
    for (name, sales, expected) in cases {
        assert_eq!(
            tiers(&ty, &spec, sales, &vec![None; sales.len()]),
            *expected,
            "{name}"
        );
    }
}

#[test]
fn boundaries_are_exact_at_four_decimals() {
    let (ty, spec) = abc();
    let check = |raw: [i64; 3], expected: [&str; 3], second_share: &str| {
        let sales = raw.map(Amount);
        let outcome = classify(&ty, &spec, &sales, &Grouping::by_account(3), &[None; 3]).unwrap();
        let names: Vec<&str> = outcome
            .accounts
            .iter()
            .map(|a| ty.segment_name(a.segment.unwrap()))
            .collect();
        assert_eq!(names, expected, "{raw:?}");
        assert_eq!(
            outcome.ranking.share_before(1).unwrap().to_string(),
            second_share
        );
    };
    // 79.9999 before a total of 100.0001 is just below 80 %: A.
    check([799_999, 200_001, 1], ["A", "A", "C"], "0.799998");
    // 80 before a total of 100 is exactly 80 %: B.
    check([800_000, 199_999, 1], ["A", "B", "C"], "0.800000");
}

#[test]
fn decimal_shares_decide_exactly() {
    let (ty, spec) = pareto_type(
        &[
            ("X", "33.3", false, false),
            ("Y", "33.3", false, false),
            ("Z", "33.4", false, false),
        ],
        0,
    );
    // Cumulative shares are 33.3, 66.6 and 100.
    assert_eq!(
        tiers(&ty, &spec, &[333, 333, 334], &[None; 3]),
        ["Y", "Y", "X"]
    );
    // before = 666 of 1000 is exactly 66.6 %: not below, so Z.
    assert_eq!(
        tiers(&ty, &spec, &[333, 1, 666], &[None; 3]),
        ["Z", "Z", "X"]
    );
    // before = 665 of 1000 is below 66.6 %: Y.
    assert_eq!(
        tiers(&ty, &spec, &[333, 1, 665, 1], &[None; 4]),
        ["Y", "Z", "X", "Z"]
    );
}

#[test]
fn min_sales_and_default_tier() {
    let (ty, spec) = pareto_type(
        &[
            ("A", "80", false, false),
            ("B", "20", false, false),
            ("New", "", true, false),
        ],
        10,
    );
    assert_eq!(
        tiers(&ty, &spec, &[100, 9, 0, 10], &[None; 4]),
        ["A", "New", "New", "B"]
    );
    let outcome = classify(
        &ty,
        &spec,
        &units(&[100, 9, 0, 10]),
        &Grouping::by_account(4),
        &[None; 4],
    )
    .unwrap();
    assert_eq!(
        outcome.ranking.total,
        Amount::from_units(110),
        "left-out sales are not in T"
    );
    assert_eq!(
        outcome.ranking.ranks[1],
        Rank::LeftOut(LeftOut::BelowMinimum)
    );
    assert_eq!(outcome.accounts[1].source, Some(Source::Default));
}

#[test]
fn excluded_tier_members_leave_the_ranking() {
    let tiers_cfg = [
        ("VIP", "", false, true),
        ("A", "80", false, false),
        ("B", "20", false, false),
    ];
    let (ty, spec) = pareto_type(&tiers_cfg, 0);
    // Without VIP the 1000 customer would take A alone and push 10 into B.
    assert_eq!(
        tiers(&ty, &spec, &[1000, 10, 1], &[Some("VIP"), None, None]),
        ["VIP", "A", "B"]
    );
    let manual = [Some(0), None, None];
    let outcome = classify(
        &ty,
        &spec,
        &units(&[1000, 10, 1]),
        &Grouping::by_account(3),
        &manual,
    )
    .unwrap();
    assert_eq!(outcome.ranking.total, Amount::from_units(11));
    assert_eq!(outcome.ranking.ranks[0], Rank::LeftOut(LeftOut::Excluded));
    assert_eq!(
        outcome.accounts[0].auto_segment, None,
        "no default tier: nothing computed"
    );
}

#[test]
fn manual_assignment_wins_and_reports_the_computed_tier() {
    let (ty, spec) = abc();
    let manual = [None, Some(0), None];
    let outcome = classify(
        &ty,
        &spec,
        &units(&[70, 20, 10]),
        &Grouping::by_account(3),
        &manual,
    )
    .unwrap();
    let b = outcome.accounts[2];
    assert_eq!(
        (b.segment, b.auto_segment, b.source),
        (Some(1), Some(1), Some(Source::Computed))
    );
    let m = outcome.accounts[1];
    assert_eq!(
        (m.segment, m.auto_segment, m.source),
        (Some(0), Some(0), Some(Source::Manual))
    );
    let manual = [Some(2), None, None];
    let outcome = classify(
        &ty,
        &spec,
        &units(&[70, 20, 10]),
        &Grouping::by_account(3),
        &manual,
    )
    .unwrap();
    let first = outcome.accounts[0];
    assert_eq!(
        (first.segment, first.auto_segment, first.source),
        (Some(2), Some(0), Some(Source::Manual))
    );
}

#[test]
fn vat_groups_are_ranked_as_one() {
    let tiers_cfg = [
        ("VIP", "", false, true),
        ("A", "80", false, false),
        ("B", "15", false, false),
        ("C", "5", true, false),
    ];
    let (ty, spec) = pareto_type(&tiers_cfg, 0);
    // Accounts 0 and 1 share a VAT number: 45 + 40 = 85 of 100 makes A; 15 alone is B.
    let grouping = Grouping::by_vat([Some("FR1"), Some("FR1"), None, Some("FR2")]);
    let sales = units(&[45, 40, 15, 0]);
    let outcome = classify(&ty, &spec, &sales, &grouping, &[None; 4]).unwrap();
    let names: Vec<&str> = outcome
        .accounts
        .iter()
        .map(|a| ty.segment_name(a.segment.unwrap()))
        .collect();
    assert_eq!(names, ["A", "A", "B", "C"]);

    // A manual tier on one account: it keeps its manual tier, the group keeps the group's.
    let outcome = classify(&ty, &spec, &sales, &grouping, &[None, Some(3), None, None]).unwrap();
    let names: Vec<&str> = outcome
        .accounts
        .iter()
        .map(|a| ty.segment_name(a.segment.unwrap()))
        .collect();
    assert_eq!(names, ["A", "C", "B", "C"]);

    // An account in an excluded tier takes the whole group out; the rest fall to the default.
    let outcome = classify(&ty, &spec, &sales, &grouping, &[Some(0), None, None, None]).unwrap();
    let names: Vec<&str> = outcome
        .accounts
        .iter()
        .map(|a| ty.segment_name(a.segment.unwrap()))
        .collect();
    assert_eq!(names, ["VIP", "C", "A", "C"]);
    assert_eq!(outcome.ranking.total, Amount::from_units(15));
}

proptest! {
    #[test]
    fn ranking_invariants(sales in proptest::collection::vec(-50i64..500, 1..60)) {
        let (ty, spec) = abc();
        let amounts = units(&sales);
        let outcome = classify(&ty, &spec, &amounts, &Grouping::by_account(sales.len()), &vec![None; sales.len()]).unwrap();
        let ranking = &outcome.ranking;
        let positive: i64 = sales.iter().filter(|&&s| s > 0).sum();
        prop_assert_eq!(ranking.total, Amount::from_units(positive));
        let cumulative = [Percent(0), Percent(800_000), Percent(950_000), Percent::HUNDRED];
        for (i, rank) in ranking.ranks.iter().enumerate() {
            match *rank {
                Rank::Ranked { tier, before } => {
                    let t = usize::from(tier);
                    // The first tier whose cumulative share is above before / T.
                    prop_assert!(cumulative[t + 1].exceeds_ratio(before, ranking.total));
                    prop_assert!(!cumulative[t].exceeds_ratio(before, ranking.total) || t == 0);
                    for (j, other) in ranking.ranks.iter().enumerate() {
                        if let Rank::Ranked { tier: other_tier, .. } = *other {
                            if sales[j] == sales[i] { prop_assert_eq!(other_tier, tier); }
                            if sales[j] > sales[i] { prop_assert!(other_tier <= tier); }
                        }
                    }
                }
                Rank::LeftOut(_) => prop_assert!(sales[i] <= 0),
            }
        }
    }
}
