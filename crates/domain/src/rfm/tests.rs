use super::*;
use crate::config::parse_config;
use crate::segment_type::Method;

fn d(text: &str) -> Date {
    Date::parse_iso(text).unwrap()
}

fn rfm_type(extra: &str) -> (SegmentType, RfmSpec) {
    let text = format!("[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\n{extra}");
    let ty = parse_config(&text).unwrap().types.remove(0);
    let Method::Rfm(spec) = ty.method.clone() else {
        unreachable!()
    };
    (ty, spec)
}

#[test]
fn quantile_scores_give_ties_the_same_score() {
    assert_eq!(
        quantile_scores(&[10, 20, 20, 30, 40], 5, true),
        [1, 2, 2, 4, 5]
    );
    assert_eq!(quantile_scores(&[7, 7, 7], 5, true), [1, 1, 1]);
    // Recency: larger is worse.
    assert_eq!(quantile_scores(&[1, 5, 5, 100], 5, false), [4, 2, 2, 1]);
    assert_eq!(quantile_scores(&[3, 1, 2], 3, false), [1, 3, 2]);
}

#[test]
fn fixed_thresholds() {
    let recency = [30, 90, 180, 365];
    let cases = [
        (0, 5),
        (30, 5),
        (31, 4),
        (90, 4),
        (91, 3),
        (365, 2),
        (366, 1),
    ];
    for (days, r) in cases {
        assert_eq!(
            recency_from_thresholds(days, &recency, 5),
            r,
            "recency {days}"
        );
    }
    let frequency = [2, 3, 5, 10];
    for (value, f) in [(1, 1), (2, 2), (4, 3), (5, 4), (10, 5), (99, 5)] {
        assert_eq!(
            score_from_thresholds(value, &frequency),
            f,
            "frequency {value}"
        );
    }
}

#[test]
fn default_map_names_every_cell() {
    let expected = [
        // F:  1                 2                     3                     4            5
        [
            "hibernating",
            "hibernating",
            "at_risk",
            "at_risk",
            "cant_lose",
        ], // R 1
        [
            "hibernating",
            "hibernating",
            "at_risk",
            "at_risk",
            "cant_lose",
        ], // R 2
        [
            "about_to_sleep",
            "about_to_sleep",
            "need_attention",
            "loyal",
            "loyal",
        ], // R 3
        [
            "promising",
            "potential_loyalist",
            "potential_loyalist",
            "loyal",
            "loyal",
        ], // R 4
        [
            "new_customers",
            "potential_loyalist",
            "potential_loyalist",
            "champions",
            "champions",
        ], // R 5
    ];
    for (r, row) in expected.iter().enumerate() {
        for (f, name) in row.iter().enumerate() {
            let idx = default_map(r as u8 + 1, f as u8 + 1);
            assert_eq!(
                DEFAULT_RFM_SEGMENTS[usize::from(idx)],
                *name,
                "R{} F{}",
                r + 1,
                f + 1
            );
        }
    }
}

#[test]
fn only_positive_orders_count_for_recency_and_frequency() {
    let mut input = RfmInput::default();
    input.add_order(Amount::from_units(10), d("2024-01-10"));
    input.add_order(Amount::from_units(-10), d("2024-03-01"));
    input.add_order(Amount::ZERO, d("2024-03-02"));
    assert_eq!(input.positive_orders, 1);
    assert_eq!(input.last_positive_order, Some(d("2024-01-10")));
}

#[test]
fn units_without_positive_orders_get_no_segment() {
    let (ty, spec) = rfm_type("");
    let end = d("2024-12-31");
    let accounts = [
        RfmInput {
            last_positive_order: Some(d("2024-12-30")),
            positive_orders: 9,
            monetary: Amount::from_units(900),
        },
        RfmInput {
            last_positive_order: None,
            positive_orders: 0,
            monetary: Amount::from_units(-50),
        },
    ];
    let outcome = classify(
        &ty,
        &spec,
        end,
        &accounts,
        &Grouping::by_account(2),
        &[None, None],
    )
    .unwrap();
    let first = outcome.units[0].unwrap();
    assert_eq!(
        (first.recency_days, first.r, first.f, first.m),
        (1, 1, 1, 1),
        "alone, every score is 1"
    );
    assert_eq!(outcome.units[1], None);
    assert_eq!(outcome.accounts[1].segment, None);
    assert_eq!(
        ty.segment_name(outcome.accounts[0].segment.unwrap()),
        "hibernating"
    );
}

#[test]
fn custom_segments_first_match_then_default() {
    let (ty, spec) = rfm_type(
        r#"bins = 3
recency_days = [30, 90]
frequency = [2, 5]
monetary = [100, 1000.5]
[[types.segments]]
name = "VIP"
r = [3, 3]
f = [3, 3]
m = [3, 3]
[[types.segments]]
name = "Active"
r = [2, 3]
[[types.segments]]
name = "Other"
default = true
r = [3, 3]
f = [3, 3]
m = [1, 1]
"#,
    );
    let score = |recency, frequency, monetary: &str| {
        let s = RfmScore {
            recency_days: recency,
            frequency,
            monetary: Amount::parse(monetary, false, crate::money::ExtraDigits::Reject).unwrap(),
            r: recency_from_thresholds(i64::from(recency), spec.recency_days.as_ref().unwrap(), 3),
            f: score_from_thresholds(i64::from(frequency), spec.frequency.as_ref().unwrap()),
            m: score_from_thresholds(
                Amount::parse(monetary, false, crate::money::ExtraDigits::Reject).unwrap(),
                spec.monetary.as_ref().unwrap(),
            ),
        };
        name(&ty, spec.naming, &s)
    };
    assert_eq!(score(10, 6, "1000.5"), Computed::Segment(0));
    assert_eq!(
        score(10, 6, "1000.4999"),
        Computed::Segment(1),
        "monetary just below the threshold"
    );
    assert_eq!(score(60, 1, "5"), Computed::Segment(1));
    assert_eq!(score(91, 1, "5"), Computed::Default(2));
}

#[test]
fn vat_groups_pool_orders_and_money() {
    let (ty, spec) = rfm_type("");
    let end = d("2024-12-31");
    let accounts = [
        RfmInput {
            last_positive_order: Some(d("2024-01-01")),
            positive_orders: 1,
            monetary: Amount::from_units(10),
        },
        RfmInput {
            last_positive_order: Some(d("2024-12-01")),
            positive_orders: 2,
            monetary: Amount::from_units(20),
        },
        RfmInput {
            last_positive_order: Some(d("2024-06-01")),
            positive_orders: 1,
            monetary: Amount::from_units(5),
        },
    ];
    let grouping = Grouping::by_vat([Some("X"), Some("X"), None]);
    let outcome = classify(&ty, &spec, end, &accounts, &grouping, &[None; 3]).unwrap();
    let group = outcome.units[grouping.unit_of_account[0] as usize].unwrap();
    assert_eq!(
        (group.recency_days, group.frequency, group.monetary),
        (30, 3, Amount::from_units(30))
    );
    assert_eq!(outcome.accounts[0].segment, outcome.accounts[1].segment);
}
