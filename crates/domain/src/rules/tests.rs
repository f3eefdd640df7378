use super::ast::*;
use super::eval::*;
use super::parse::*;
use super::schema::*;
use crate::date::Date;
use crate::money::Amount;
use proptest::prelude::*;

const EXAMPLES: [&str; 12] = [
    "last_order_days < 365 AND total_spent > 100",
    "first_order_days < 30",
    "purchased_category IN ('retouches', 'pressing')",
    "avg_basket > 50 OR (orders_90d = 0 AND last_order_days > 180)",
    "birthday_this_month AND NOT role = 'pro'",
    "region = 'Auvergne-Rhône-Alpes' AND created_at >= '2024-01-01'",
    "segment('Sales performance') = 'A' AND rfm('RFM') IN ('at_risk', 'cant_lose')",
    "email ENDS WITH '@example.com'",
    "name CONTAINS 'garage'",
    "vat IS NULL",
    "total_spent BETWEEN 100 AND 500",
    "gender = 'M' AND age > 40",
];

fn schema() -> Schema {
    let n = ValueType::Number;
    let features = [
        ("last_order_days", n),
        ("first_order_days", n),
        ("total_spent", n),
        ("avg_basket", n),
        ("orders_90d", n),
        ("age", n),
        ("purchased_category", ValueType::TextSet),
        ("birthday_this_month", ValueType::Bool),
        ("role", ValueType::Text),
        ("region", ValueType::Text),
        ("created_at", ValueType::Date),
        ("email", ValueType::Text),
        ("name", ValueType::Text),
        ("vat", ValueType::Text),
        ("gender", ValueType::Text),
    ];
    Schema {
        features: features
            .iter()
            .map(|(name, t)| (name.to_string(), *t))
            .collect(),
        types: vec![
            TypeRef {
                name: "Sales performance".into(),
                is_rfm: false,
                is_set: false,
                segments: vec!["A".into(), "B".into(), "C".into()],
            },
            TypeRef {
                name: "RFM".into(),
                is_rfm: true,
                is_set: false,
                segments: crate::segment_type::DEFAULT_RFM_SEGMENTS
                    .map(String::from)
                    .to_vec(),
            },
            TypeRef {
                name: "Groups".into(),
                is_rfm: false,
                is_set: true,
                segments: vec!["vip".into(), "newsletter".into()],
            },
        ],
        inferred: vec!["gender".to_owned()],
    }
}

#[test]
fn examples_round_trip_through_text_and_json() {
    let schema = schema();
    for text in EXAMPLES {
        let ast = parse(text, Some(&schema)).unwrap_or_else(|e| panic!("{text}: {e}"));
        let canonical = ast.to_string();
        assert_eq!(canonical, text, "the examples are already canonical");
        assert_eq!(parse(&canonical, Some(&schema)).unwrap(), ast);
        let json = serde_json::to_string(&ast).unwrap();
        assert_eq!(serde_json::from_str::<Expr>(&json).unwrap(), ast, "{json}");
        assert_eq!(schema.validate(&ast), Ok(()));
    }
}

#[test]
fn blocks_are_the_parts_of_a_top_level_and() {
    let blocks = |text: &str| -> Vec<String> {
        parse(text, Some(&schema()))
            .unwrap()
            .blocks()
            .iter()
            .map(|b| b.to_string())
            .collect()
    };
    assert_eq!(
        blocks("(orders_90d > 1 AND total_spent > 100) AND (region = 'Lyon' OR region = 'Paris')"),
        [
            "orders_90d > 1 AND total_spent > 100",
            "region = 'Lyon' OR region = 'Paris'"
        ]
    );
    assert_eq!(
        blocks("orders_90d > 1 OR total_spent > 100"),
        ["orders_90d > 1 OR total_spent > 100"]
    );
    assert_eq!(blocks("NOT orders_90d > 1"), ["NOT orders_90d > 1"]);
}

#[test]
fn canonical_text_normalises_case_spacing_and_parentheses() {
    let cases = [
        (
            "total_spent>100 and  LAST_ORDER_DAYS<=3",
            "total_spent > 100 AND last_order_days <= 3",
        ),
        ("a = 1 or b = 2 and c = 3", "a = 1 OR (b = 2 AND c = 3)"),
        ("(a = 1 or b = 2) and c = 3", "(a = 1 OR b = 2) AND c = 3"),
        ("a = 1 and (b = 2 and c = 3)", "a = 1 AND (b = 2 AND c = 3)"),
        ("not (a = 1 or b = 2)", "NOT (a = 1 OR b = 2)"),
        ("name = 'l''atelier'", "name = 'l''atelier'"),
        ("x <> -1.50", "x != -1.5"),
        ("x not in (1,2)", "x NOT IN (1, 2)"),
        ("x is not null", "x IS NOT NULL"),
        ("x starts with 'a'", "x STARTS WITH 'a'"),
    ];
    for (text, canonical) in cases {
        let ast = parse(text, None).unwrap();
        assert_eq!(ast.to_string(), canonical);
        assert_eq!(parse(canonical, None).unwrap(), ast);
    }
}

#[test]
fn not_binds_tighter_than_and_and_looser_than_comparisons() {
    let ast = parse("NOT role = 'pro' AND age > 1", None).unwrap();
    let Expr::And(parts) = ast else {
        panic!("AND at the top")
    };
    assert!(
        matches!(&parts[0], Expr::Not(inner) if matches!(**inner, Expr::Condition(Condition::Compare { .. })))
    );
}

#[test]
fn errors_name_position_and_expectation() {
    let schema = schema();
    let cases = [
        ("total_spent > abc", "line 1, column 15: expected a number after '>', found 'abc'"),
        ("totl_spent > 10", "line 1, column 1: unknown feature 'totl_spent', did you mean 'total_spent'?"),
        ("created_at > 5", "line 1, column 14: comparing a date with a number is not possible: expected a date in quotes ('YYYY-MM-DD') after '>', found '5'"),
        ("created_at > '2024-02-30'", "line 1, column 14: expected a date in quotes ('YYYY-MM-DD') after '>', found ''2024-02-30''"),
        ("total_spent >", "line 1, column 14: expected a number after '>', found the end of the rule"),
        ("total_spent > 1 AND", "line 1, column 20: expected a feature name or '(', found the end of the rule"),
        ("(total_spent > 1", "line 1, column 17: expected ')' after the condition, found the end of the rule"),
        ("total_spent > 1 total_spent", "line 1, column 17: expected AND, OR or the end of the rule, found 'total_spent'"),
        ("role < 'a'", "line 1, column 1: '<' cannot be used on role, which is text"),
        ("total_spent", "line 1, column 12: expected a comparison after total_spent, which is a number, found the end of the rule"),
        ("total_spent CONTAINS 'x'", "line 1, column 1: CONTAINS cannot be used on total_spent, which is a number"),
        ("name = 'open", "line 1, column 8: unterminated text: a quote ' is missing"),
        ("age > 1.00001", "line 1, column 7: '1.00001' is not a number: more than 4 decimal places"),
        ("rfm('Sales performance') = 'A'", "line 1, column 1: 'Sales performance' is not an RFM type; use segment('Sales performance')"),
        ("segment('Nope') = 'A'", "line 1, column 1: unknown segment type 'Nope' (known: Sales performance, RFM, Groups)"),
        ("age > 1\nAND # 2", "line 2, column 5: unexpected character '#'"),
        ("", "line 1, column 1: the rule is empty: expected a condition such as total_spent > 100"),
    ];
    for (text, expected) in cases {
        let error = parse(text, Some(&schema)).expect_err(text);
        assert_eq!(error.to_string(), expected, "{text}");
    }
}

#[test]
fn nesting_is_limited() {
    let deep = format!(
        "{}age > 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let error = parse(&deep, None).unwrap_err();
    assert!(
        error.message.contains("nests more than 64 levels"),
        "{error}"
    );
    let ok = format!("{}age > 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok, None).is_ok());
}

#[test]
fn json_rules_are_validated_without_positions() {
    let json = r#"{"and":[{"condition":{"test":"compare","operand":{"feature":"total_spent"},"op":">","value":{"text":"x"}}},
                          {"condition":{"test":"is_true","operand":{"feature":"age"}}}]}"#;
    let expr: Expr = serde_json::from_str(json).unwrap();
    assert_eq!(
        schema().validate(&expr),
        Err(vec![
            "total_spent: expected a number, found 'x'".to_owned(),
            "age is a number, not true or false: compare it with a value".to_owned()
        ])
    );
}

#[test]
fn builder_blocks_cover_and_of_all_any_blocks() {
    let blocks = builder_blocks(
        &parse("a = 1 AND (b = 2 OR NOT c = 3) AND (d = 4 AND e = 5)", None).unwrap(),
    )
    .unwrap();
    assert_eq!(
        blocks
            .iter()
            .map(|b| (b.all, b.conditions.len()))
            .collect::<Vec<_>>(),
        [(true, 1), (false, 2), (true, 2)]
    );
    assert_eq!(
        builder_blocks(&parse("a = 1 OR b = 2", None).unwrap())
            .unwrap()
            .len(),
        1
    );
    let error = builder_blocks(&parse("a = 1 OR (b = 2 AND c = 3)", None).unwrap()).unwrap_err();
    assert!(error.contains("edit it as text"));
}

/// A table of five customers.
fn table() -> FeatureTable {
    let num = |v: &[Option<i64>]| Column::Number(v.iter().map(|x| x.map(Ratio::integer)).collect());
    let mut t = FeatureTable {
        rows: 5,
        ..FeatureTable::default()
    };
    t.features = vec![
        (
            "total_spent".into(),
            num(&[Some(100), Some(50), Some(0), None, Some(500)]),
        ),
        (
            // 100 / 3 orders = 33.33..., 50 / 1 = 50, none, none, 500 / 10 = 50.
            "avg_basket".into(),
            Column::Number(vec![
                Ratio::fraction(Amount::from_units(100), 3),
                Ratio::fraction(Amount::from_units(50), 1),
                None,
                None,
                Ratio::fraction(Amount::from_units(500), 10),
            ]),
        ),
        (
            "role".into(),
            Column::text([Some("Pro"), Some("private"), None, Some("pro"), Some("PRO")]),
        ),
        (
            "created_at".into(),
            Column::Date(vec![
                Date::parse_iso("2024-01-01"),
                Date::parse_iso("2023-12-31"),
                None,
                None,
                Date::parse_iso("2024-06-01"),
            ]),
        ),
        (
            "vip".into(),
            Column::Bool(vec![Some(true), Some(false), None, Some(true), Some(false)]),
        ),
        (
            "purchased_category".into(),
            Column::set(
                [vec![0, 1], vec![1], vec![], vec![2], vec![0]],
                vec!["Pressing".into(), "retouches".into(), "shoes".into()],
            ),
        ),
    ];
    t
}

fn truths(rule: &str) -> String {
    let t = table();
    let expr = parse(rule, None).unwrap();
    evaluate(&expr, &t, &all_rows(&t))
        .iter()
        .map(|t| match t {
            Truth::True => 'T',
            Truth::False => 'F',
            Truth::Unknown => '?',
        })
        .collect()
}

#[test]
fn every_operator_with_nulls() {
    let cases = [
        ("total_spent = 100", "TFF?F"),
        ("total_spent != 100", "FTT?T"),
        ("total_spent < 100", "FTT?F"),
        ("total_spent <= 100", "TTT?F"),
        ("total_spent > 50", "TFF?T"),
        ("total_spent >= 50", "TTF?T"),
        ("total_spent IN (0, 500)", "FFT?T"),
        ("total_spent NOT IN (0, 500)", "TTF?F"),
        ("total_spent BETWEEN 50 AND 100", "TTF?F"),
        ("total_spent IS NULL", "FFFTF"),
        ("total_spent IS NOT NULL", "TTTFT"),
        ("role = 'pro'", "TF?TT"),
        ("role != 'PRO'", "FT?FF"),
        ("role IN ('x', 'Private')", "FT?FF"),
        ("role CONTAINS 'R'", "TT?TT"),
        ("role STARTS WITH 'pr'", "TT?TT"),
        ("role ENDS WITH 'VATE'", "FT?FF"),
        ("created_at >= '2024-01-01'", "TF??T"),
        ("created_at BETWEEN '2023-12-31' AND '2024-01-01'", "TT??F"),
        ("vip", "TF?TF"),
        ("vip = false", "FT?FT"),
        ("vip != true", "FT?FT"),
    ];
    for (rule, expected) in cases {
        assert_eq!(truths(rule), expected, "{rule}");
    }
}

#[test]
fn three_valued_logic() {
    let cases = [
        ("NOT total_spent > 50", "FTT?F"),
        ("total_spent > 50 AND vip", "TFF?F"),
        ("total_spent > 50 OR vip", "TF?TT"),
        ("total_spent IS NULL OR total_spent > 60", "TFFTT"),
        ("NOT (role = 'pro' AND vip)", "FT?FT"),
    ];
    for (rule, expected) in cases {
        assert_eq!(truths(rule), expected, "{rule}");
    }
}

#[test]
fn set_features_match_any_element() {
    let cases = [
        ("purchased_category = 'pressing'", "TFFFT"),
        ("purchased_category != 'pressing'", "FTTTF"),
        ("purchased_category IN ('retouches', 'shoes')", "TTFTF"),
        ("purchased_category NOT IN ('retouches', 'shoes')", "FFTFT"),
        ("purchased_category CONTAINS 'ss'", "TFFFT"),
        ("purchased_category IS NULL", "FFFFF"),
    ];
    for (rule, expected) in cases {
        assert_eq!(truths(rule), expected, "{rule}");
    }
}

#[test]
fn derived_values_compare_exactly() {
    // 100 / 3 is just above 33.3333 and just below 33.3334.
    assert_eq!(truths("avg_basket > 33.3333"), "TT??T");
    assert_eq!(truths("avg_basket < 33.3334"), "TF??F");
    assert_eq!(truths("avg_basket = 50"), "FT??T");
}

#[test]
fn one_customer_or_all_give_the_same_answer() {
    let t = table();
    let expr = parse("total_spent > 50 OR purchased_category = 'shoes'", None).unwrap();
    let all = evaluate(&expr, &t, &all_rows(&t));
    for row in 0..5u32 {
        assert_eq!(evaluate(&expr, &t, &[row]), [all[row as usize]]);
    }
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        "[a-zA-Z' ]{0,8}".prop_map(Literal::Text),
        (-100_000_000i64..100_000_000).prop_map(|raw| Literal::Number(Amount(raw))),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,10}"
            .prop_filter("not a keyword", |s| !is_keyword(s))
            .prop_map(Operand::Feature),
        "[A-Za-z' ]{0,8}".prop_map(Operand::Segment),
        "[A-Za-z' ]{0,8}".prop_map(Operand::Rfm),
    ]
}

fn is_keyword(word: &str) -> bool {
    [
        "and", "or", "not", "in", "between", "is", "null", "contains", "starts", "ends", "with",
        "true", "false", "segment", "rfm",
    ]
    .contains(&word)
}

fn condition() -> impl Strategy<Value = Condition> {
    let ops = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge)
    ];
    let text_ops = prop_oneof![
        Just(TextOp::Contains),
        Just(TextOp::StartsWith),
        Just(TextOp::EndsWith)
    ];
    prop_oneof![
        (operand(), ops, literal()).prop_map(|(operand, op, value)| Condition::Compare {
            operand,
            op,
            value
        }),
        (
            operand(),
            any::<bool>(),
            proptest::collection::vec(literal(), 1..4)
        )
            .prop_map(|(operand, negated, values)| Condition::In {
                operand,
                negated,
                values
            }),
        (operand(), literal(), literal()).prop_map(|(operand, low, high)| Condition::Between {
            operand,
            low,
            high
        }),
        (operand(), any::<bool>())
            .prop_map(|(operand, negated)| Condition::IsNull { operand, negated }),
        (operand(), text_ops, "[a-z' ]{0,6}").prop_map(|(operand, op, pattern)| Condition::Text {
            operand,
            op,
            pattern
        }),
        operand().prop_map(|operand| Condition::IsTrue { operand }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    condition()
        .prop_map(Expr::Condition)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
                inner.prop_map(|e| Expr::Not(Box::new(e))),
            ]
        })
}

proptest! {
    #[test]
    fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,60}") {
        let _ = parse(&text, Some(&schema()));
        let _ = parse(&text, None);
    }

    #[test]
    fn rule_like_text_never_panics(text in "[a-z_ ()'<>=!,.0-9-]{0,60}|(NOT |AND |OR |IN |BETWEEN |IS |NULL |x |'a' |1 |\\( |\\) )*") {
        let _ = parse(&text, None);
    }

    /// Every AST of the parser's shape (AND and OR of two parts or more, a
    /// nested chain kept as a child, which the printer parenthesises) prints
    /// to text that parses back to itself.
    #[test]
    fn print_then_parse_is_identity(e in expr()) {
        let text = e.to_string();
        let parsed = parse(&text, None).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert_eq!(parsed, e);
    }
}

proptest! {
    #[test]
    fn distinct_texts_build_the_same_column_without_lookups(
        ids in proptest::collection::hash_set("[A-Z0-9]{1,6}", 0..40)
    ) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        prop_assert_eq!(
            Column::distinct_text(ids.iter().copied()),
            Column::text(ids.iter().map(|id| Some(*id)))
        );
    }
}

#[test]
fn renaming_a_type_rewrites_only_its_references() {
    let mut rule = parse(
        "segment('ABC') = 'A' AND (rfm('RFM') = 'champions' OR NOT segment('ABC') IN ('B')) AND segment('ABCD') = 'x'",
        None,
    )
    .unwrap();
    assert!(rule.rename_type("ABC", "Tiers"));
    assert_eq!(rule.referenced_types(), ["Tiers", "RFM", "Tiers", "ABCD"]);
    assert!(!rule.rename_type("Nope", "X"));
}
