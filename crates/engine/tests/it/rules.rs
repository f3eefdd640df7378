//! Rules types through files: features from lines and the customers file,
//! include and exclude lists by id or e-mail, references between types.

use crate::{abc, d, inputs, Files};
use strata_domain::classify::Source;
use strata_domain::config::parse_config;
use strata_domain::rules::eval::Truth;
use strata_domain::summary::Unclassified;
use strata_engine::inspect::{self, Reason, RowExplanation};
use strata_engine::progress::Control;
use strata_engine::run::{self, InspectRun, SegmentRun};

const TRANSACTIONS: &str = "order_id,customer_id,date,amount,category,brand,status,due_date\n\
1,C1,2024-12-01,80,pressing,Bosch,completed,\n\
1,C1,2024-12-01,-5,retouches,Bosch,completed,\n\
2,C1,2024-06-01,40,shoes,Valeo,completed,\n\
3,C2,2024-12-20,30,pressing,Mann,ready,2024-12-21\n\
4,C2,2024-12-22,10,pressing,Mann,ready,2024-12-30\n\
5,C3,2023-01-01,100,shoes,SKF,collected,2023-01-02\n\
6,C3,2025-01-01,999,shoes,SKF,,\n";

const CUSTOMERS: &str = "customer_id,email,birthday,role,postcode,vip,created_at\n\
C1,ANN@example.com,1990-12-15,pro,01000,true,2020-01-01\n\
C2,shared@example.com,2000-02-29,private,75001,false,2024-12-01\n\
C3,shared@example.com,,private,69001,,\n\
C4,d@example.com,1980-01-01,pro,13001,false,2024-12-31\n";

fn run_with(f: &Files, config: &str) -> Result<InspectRun, String> {
    run_or_error(f, config)
}

fn error_of(f: &Files, config: &str) -> String {
    match run_or_error(f, config) {
        Ok(_) => panic!("the run should fail"),
        Err(e) => e,
    }
}

fn run_or_error(f: &Files, config: &str) -> Result<InspectRun, String> {
    let t = f.write("t.csv", TRANSACTIONS);
    let c = f.write("c.csv", CUSTOMERS);
    let config = parse_config(config).map_err(|e| e.to_string())?;
    run::inspect(
        config,
        &inputs(t, Some(c), None),
        d("2024-12-31"),
        &Control::silent(),
    )
    .map_err(|e| e.to_string())
}

fn matches(rule: &str) -> Vec<String> {
    let f = Files::new();
    let run = run_with(&f, &abc("")).unwrap();
    let preview = inspect::preview(&run, rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    preview.first.into_iter().map(|(id, _)| id).collect()
}

#[test]
fn previews_count_each_block_on_its_own() {
    let f = Files::new();
    let run = run_with(&f, &abc("")).unwrap();
    let rule = "(orders_count = 2 OR total_spent = 100) AND (orders_365d = 0 OR spent_30d = 40)";
    let preview = inspect::preview(&run, rule).unwrap();
    let blocks = [
        "orders_count = 2 OR total_spent = 100",
        "orders_365d = 0 OR spent_30d = 40",
    ];
    let expected: Vec<(String, u64)> = blocks
        .iter()
        .map(|b| ((*b).to_owned(), matches(b).len() as u64))
        .collect();
    assert_eq!(preview.blocks, expected);
    assert!(expected.iter().all(|(_, n)| *n > preview.matched));
    assert_eq!(preview.matched, matches(rule).len() as u64);
    let one = inspect::preview(&run, blocks[0]).unwrap();
    assert_eq!(one.blocks, [(blocks[0].to_owned(), one.matched)]);
}

#[test]
fn features_from_lines() {
    let cases: &[(&str, &[&str])] = &[
        // C1: order 1 nets 75, order 2 40: two orders, 115 spent, last order 30 days ago.
        ("orders_count = 2 AND total_spent = 115", &["C1"]),
        ("last_order_days = 30 AND first_order_days = 213", &["C1"]),
        ("avg_basket = 57.5", &["C1"]),
        // Lines after as_of never count: C3's 2025 line is ignored.
        ("total_spent = 100 AND orders_365d = 0", &["C3"]),
        ("spent_30d = 40 AND orders_30d = 2", &["C2"]),
        // Categories of positive lines only: C1's retouches line is a return.
        ("purchased_category = 'RETOUCHES'", &[]),
        (
            "purchased_category IN ('pressing') AND purchased_brand = 'bosch'",
            &["C1"],
        ),
        // C2's open orders were due 2024-12-21 and 2024-12-30: the most overdue is 10 days late.
        ("late_order_days = 10", &["C2"]),
        ("late_order_days IS NULL", &["C1", "C3", "C4"]),
        // Nobody bought 91 to 180 days ago: the earlier quarter is 0 and the delta null.
        (
            "activity_delta_pct_last_quarter IS NULL",
            &["C1", "C2", "C3", "C4"],
        ),
        (
            "orders_count = 0 AND total_spent = 0 AND avg_basket IS NULL",
            &["C4"],
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(matches(rule), *expected, "{rule}");
    }
}

#[test]
fn features_from_the_customers_file() {
    let cases: &[(&str, &[&str])] = &[
        ("age = 34 AND days_to_birthday = 349", &["C1"]),
        // Born 29 February 2000: 24 on 2024-12-31, next birthday on 2025-02-28.
        ("age = 24 AND days_to_birthday = 59", &["C2"]),
        ("birthday_this_month", &["C1"]),
        ("vip", &["C1"]),
        ("vip IS NULL", &["C3"]),
        ("postcode STARTS WITH '01'", &["C1"]),
        ("email = 'ann@EXAMPLE.com'", &["C1"]),
        ("customer_age_days < 31 AND role != 'pro'", &["C2"]),
        ("created_at >= '2024-12-01'", &["C2", "C4"]),
    ];
    for (rule, expected) in cases {
        assert_eq!(matches(rule), *expected, "{rule}");
    }
}

fn groups(extra_segments: &str) -> String {
    format!(
        "{}\n[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n{extra_segments}",
        abc("")
    )
}

fn memberships(run: &SegmentRun, type_name: &str) -> Vec<String> {
    let result = run
        .types
        .iter()
        .find(|t| run.config.types[t.type_idx].name == type_name)
        .unwrap();
    let ty = &run.config.types[result.type_idx];
    result
        .rows
        .iter()
        .map(|r| {
            let a = r.assignment;
            format!(
                "{}:{}:{}",
                run.dicts.customers.name(r.customer),
                ty.segment_name(a.segment.unwrap()),
                a.source.unwrap().as_str()
            )
        })
        .collect()
}

#[test]
fn include_and_exclude_lists_by_id_or_email() {
    let f = Files::new();
    let config = groups(
        "[[types.segments]]\nname = \"List\"\ninclude = [\"SHARED@example.com\", \"C1\", \"ghost@example.com\"]\nexclude = [\"C3\", \"C99\"]\n\
         [[types.segments]]\nname = \"Rule\"\nrule = \"total_spent > 0\"\nexclude = [\"ann@example.com\"]\n",
    );
    let run = run_with(&f, &config).unwrap().run;
    // The shared e-mail names C2 and C3; C3 is excluded, which wins over include.
    assert_eq!(
        memberships(&run, "G"),
        [
            "C1:List:include",
            "C2:List:include",
            "C2:Rule:computed",
            "C3:Rule:computed"
        ]
    );
    assert_eq!(
        run.warnings,
        [
            "type 'G': segment 'List': include: no customer has the id or e-mail 'ghost@example.com'",
            "type 'G': segment 'List': exclude: no customer has the id or e-mail 'C99'"
        ]
    );
}

#[test]
fn rules_read_segments_of_other_types() {
    let f = Files::new();
    let config = groups(
        "[[types.segments]]\nname = \"Top\"\nrule = \"segment('ABC') = 'a'\"\n\
         [[types.segments]]\nname = \"Unranked\"\nrule = \"segment('ABC') IS NULL\"\n",
    );
    let run = run_with(&f, &config).unwrap().run;
    // Over 12 months: C1 115 and C2 40 are A; C3 (its 2023 line is outside) and C4 have no tier.
    assert_eq!(
        memberships(&run, "G"),
        [
            "C1:Top:computed",
            "C2:Top:computed",
            "C3:Unranked:computed",
            "C4:Unranked:computed"
        ]
    );
}

#[test]
fn reference_cycles_and_unknown_features_are_errors() {
    let f = Files::new();
    let cycle = "[[types]]\nname = \"X\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"x\"\nrule = \"segment('Y') = 'y'\"\n\
                 [[types]]\nname = \"Y\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"y\"\nrule = \"segment('X') = 'x'\"\n";
    assert_eq!(
        error_of(&f, cycle),
        "rules reference each other in a cycle: X -> Y -> X"
    );
    let unknown = groups(
        "[[types.segments]]\nname = \"Typo\"\nrule = \"orders_count > 1 AND totl_spent > 10\"\n",
    );
    assert_eq!(
        error_of(&f, &unknown),
        "type 'G': segment 'Typo': rule: line 1, column 22: unknown feature 'totl_spent', did you mean 'total_spent'?"
    );
    let syntax = groups("[[types.segments]]\nname = \"Bad\"\nrule = \"total_spent >\"\n");
    assert!(
        error_of(&f, &syntax).contains("segment 'Bad': rule: line 1, column 14: expected a value after '>', found the end of the rule"),
    );
}

#[test]
fn manual_assignments_add_customers_to_groups() {
    let f = Files::new();
    let t = f.write("t.csv", TRANSACTIONS);
    let c = f.write("c.csv", CUSTOMERS);
    let o = f.write(
        "o.csv",
        "segment_type,customer_id,segment\nG,C4,A\nG,C4,B\n",
    );
    let config = parse_config(&groups("[[types.segments]]\nname = \"A\"\nrule = \"total_spent > 100\"\n[[types.segments]]\nname = \"B\"\n")).unwrap();
    let run = run::segment(
        config,
        &inputs(t, Some(c), Some(o)),
        d("2024-12-31"),
        &Control::silent(),
    )
    .unwrap();
    assert_eq!(
        memberships(&run, "G"),
        ["C1:A:computed", "C4:A:manual", "C4:B:manual"]
    );
}

#[test]
fn explain_gives_each_clause_with_its_value_as_data() {
    let f = Files::new();
    let run = run_with(&f, &groups("[[types.segments]]\nname = \"Big\"\nrule = \"total_spent > 100 OR late_order_days > 5\"\ninclude = [\" C2 \"]\n")).unwrap();
    let explanation = inspect::explain(&run, "C2").unwrap();
    let rules = explanation.iter().find(|e| e.type_name == "G").unwrap();
    assert_eq!(
        rules.rows,
        [RowExplanation {
            segment: "Big".into(),
            source: Source::Include,
            computed: Some("Big".into()),
            manual: None,
        }]
    );
    let Reason::Rules {
        considered,
        segments,
    } = &rules.reason
    else {
        panic!("a rules reason: {:?}", rules.reason)
    };
    assert!(considered);
    // The list entry " C2 " names C2, as the classification reads it.
    assert!(segments[0].included && !segments[0].excluded);
    let (rule, truth, clauses) = segments[0].rule.as_ref().unwrap();
    assert_eq!(rule, "total_spent > 100 OR late_order_days > 5");
    assert_eq!(*truth, Truth::True);
    let clauses: Vec<(&str, &str, Truth)> = clauses
        .iter()
        .map(|c| (c.condition.as_str(), c.value.as_str(), c.truth))
        .collect();
    assert_eq!(
        clauses,
        [
            ("total_spent > 100", "40", Truth::False),
            ("late_order_days > 5", "10", Truth::True),
        ]
    );
}

#[test]
fn agencies_and_brands_restrict_the_lines_rules_read() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount,agency,brand\n\
         1,C1,2024-12-01,100,Lyon,Bosch\n\
         2,C1,2024-12-02,500,Paris,Valeo\n\
         3,C2,2024-12-03,50,Paris,Bosch\n\
         4,C3,2024-12-04,70,Lyon,Valeo\n",
    );
    let c = f.write(
        "c.csv",
        "customer_id,agency\nC1,Paris\nC2,Paris\nC3,Paris\nC4,Lyon\n",
    );
    let segments = "[[types.segments]]\nname = \"Any\"\nrule = \"total_spent >= 0\"\n\
                    [[types.segments]]\nname = \"Big\"\nrule = \"total_spent >= 100\"\n";
    let config = format!(
        "[[types]]\nname = \"Lyon\"\nmethod = \"rules\"\nexclusive = false\nagencies = [\"lyon\"]\n{segments}\
         [[types]]\nname = \"Bosch\"\nmethod = \"rules\"\nexclusive = false\nbrands = [\"Bosch\"]\n{segments}\
         [[types]]\nname = \"All\"\nmethod = \"rules\"\nexclusive = false\n{segments}\
         [[types]]\nname = \"Nowhere\"\nmethod = \"rules\"\nexclusive = false\nagencies = [\"Nowhere\"]\n{segments}\
         [[types]]\nname = \"Listed\"\nmethod = \"rules\"\nagencies = [\"Lyon\"]\n\
         [[types.segments]]\nname = \"List\"\ninclude = [\"C2\"]\n"
    );
    let run = run::segment(
        parse_config(&config).unwrap(),
        &inputs(t, Some(c), None),
        d("2024-12-31"),
        &Control::silent(),
    )
    .unwrap();
    // C1 spent 100 in Lyon (and 500 in Paris); C2 has neither a Lyon line
    // nor the Lyon agency; C3 bought 70 in Lyon; C4, without lines, is a
    // Lyon customer in the customers file.
    assert_eq!(
        memberships(&run, "Lyon"),
        [
            "C1:Any:computed",
            "C1:Big:computed",
            "C3:Any:computed",
            "C4:Any:computed"
        ]
    );
    // Brands: only a line of the brand counts; the customers file has no brand.
    assert_eq!(
        memberships(&run, "Bosch"),
        ["C1:Any:computed", "C1:Big:computed", "C2:Any:computed"]
    );
    assert_eq!(
        memberships(&run, "All"),
        [
            "C1:Any:computed",
            "C1:Big:computed",
            "C2:Any:computed",
            "C3:Any:computed",
            "C4:Any:computed"
        ]
    );
    let lyon = &run.types[0].summary.unclassified;
    assert_eq!(lyon, &[(Unclassified::OutsideLines, 1)]);
    assert_eq!(
        run.warnings,
        ["type 'Nowhere': agencies: 'Nowhere' names no agency of the files read"]
    );
    assert!(memberships(&run, "Nowhere").is_empty());
    // An include list names customers outside the type's lines too.
    assert_eq!(memberships(&run, "Listed"), ["C2:List:include"]);
}
