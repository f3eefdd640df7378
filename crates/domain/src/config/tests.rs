//! Tests of reading and validating configurations.

use super::*;
use crate::config::input::ConfigInput;

const ABC: &str = r#"
[[types]]
name = "Sales performance"
method = "pareto"
[[types.segments]]
name = "A"
share = 80
[[types.segments]]
name = "B"
share = 15
[[types.segments]]
name = "C"
share = 5
default = true
"#;

fn problems(text: &str) -> Vec<String> {
    parse_config(text)
        .expect_err("configuration should be rejected")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn reads_a_pareto_type_with_defaults() {
    let config = parse_config(ABC).unwrap();
    assert_eq!(config.settings.currency, "EUR");
    let t = &config.types[0];
    assert_eq!(t.identity, Identity::Customer);
    assert_eq!(t.interval, Interval::Rolling { months: 12 });
    assert_eq!(t.default_segment(), Some(2));
    assert_eq!(
        t.method,
        Method::Pareto(ParetoSpec {
            measure: Measure::Amount,
            min_sales: Amount::ZERO
        })
    );
}

#[test]
fn each_type_names_the_optional_columns_it_reads() {
    let one_tier = "[[types.segments]]\nname = \"A\"\nshare = 100\n";
    let pareto = |extra: &str| format!("method = \"pareto\"\n{extra}{one_tier}");
    let cases = [
        (pareto(""), vec![]),
        (pareto("measure = \"margin\"\n"), vec!["margin"]),
        (
            pareto("agencies = [\"Lyon\"]\nbrands = [\"Bosch\"]\n"),
            vec!["agency", "brand"],
        ),
        ("method = \"rfm\"\n".to_owned(), vec![]),
        (
            "method = \"rules\"\n[[types.segments]]\nname = \"x\"\nrule = \"total_spent > 5 AND orders_30d = 0\"\n".to_owned(),
            vec![],
        ),
        (
            "method = \"rules\"\n[[types.segments]]\nname = \"x\"\nrule = \"late_order_days > 30 OR NOT purchased_brand IN ('Bosch')\"\n[[types.segments]]\nname = \"y\"\nrule = \"purchased_category CONTAINS 'press'\"\n".to_owned(),
            vec!["brand", "category", "status", "due_date"],
        ),
    ];
    for (body, expected) in cases {
        let config = parse_config(&format!("[[types]]\nname = \"T\"\n{body}")).unwrap();
        let names: Vec<&str> = config.types[0]
            .line_columns()
            .into_iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(names, expected, "{body}");
    }
}

#[test]
fn rfm_without_segments_uses_the_default_map() {
    let config = parse_config("[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\n").unwrap();
    let names: Vec<&str> = config.types[0]
        .segments
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, DEFAULT_RFM_SEGMENTS);
}

#[test]
fn decimal_shares_total_exactly() {
    let text = ABC
        .replace("share = 80", "share = 33.3")
        .replace("share = 15", "share = 33.3")
        .replace("share = 5", "share = 33.4");
    assert!(parse_config(&text).is_ok());
}

#[test]
fn reports_every_problem_at_once() {
    let text = format!(
        "{ABC}\n{}",
        r#"
[[types]]
name = "Sales performance"
method = "pareto"
[[types.segments]]
name = "A"
share = 90
default = true
[[types.segments]]
name = "VIP"
share = 5
excluded = true
default = true

[[types]]
name = "Other"
method = "kmeans"

[[types]]
name = "R"
method = "rfm"
bins = 4
recency_days = [30, 10]

[[types]]
name = "N"
method = "pareto"
min_sales = -5
[[types.segments]]
name = "A"
share = 100

[[types]]
name = "M"
method = "rfm"
frequency = [-1, 2, 3, 4]
monetary = [-10, 0, 5, 10]
"#
    );
    let expected = [
        "type 2 'Sales performance': duplicate type name; type names must be unique, ignoring case",
        "type 2 'Sales performance': more than one segment has default = true; at most one default segment is allowed",
        "type 2 'Sales performance': segment 'VIP': an excluded tier is manual-only and cannot have a share (found 5)",
        "type 2 'Sales performance': the shares of the non-excluded segments total 90, expected exactly 100",
        "type 3 'Other': unknown method 'kmeans', expected pareto, rfm or rules",
        "type 4 'R': recency_days has 2 thresholds, expected bins - 1 = 3",
        "type 4 'R': recency_days thresholds must be strictly ascending",
        "type 4 'R': bins = 4 needs the type's own segments with r, f, m ranges; the default segment map is defined for bins = 5",
        "type 5 'N': min_sales is -5, expected 0 or more",
        "type 6 'M': frequency thresholds must be 0 or more, found -1",
        "type 6 'M': monetary thresholds must be 0 or more, found -10",
    ];
    assert_eq!(problems(&text), expected);
}

#[test]
fn settings_rules_types_do_not_read_are_refused() {
    let text = "[[types]]\nname = \"G\"\nmethod = \"rules\"\nidentity = \"vat\"\nperiod_months = 6\ninterval = \"rolling\"\n[[types.segments]]\nname = \"g\"\nrule = \"total_spent > 1\"\nexcluded = true\n";
    assert_eq!(
        problems(text),
        [
            "type 1 'G': identity does not apply to rules types",
            "type 1 'G': period_months does not apply to rules types",
            "type 1 'G': interval does not apply to rules types",
            "type 1 'G': segment 'g': excluded applies to pareto tiers; a rules segment takes customers out with exclude",
        ]
    );
}

#[test]
fn colours_are_hex_rgb() {
    let with = |color: &str| ABC.replace("share = 80", &format!("share = 80\ncolor = \"{color}\""));
    let config = parse_config(&with("#1F77b4")).unwrap();
    assert_eq!(
        config.types[0].segments[0].color.as_deref(),
        Some("#1f77b4")
    );
    for bad in ["red", "#12345", "#1234567", "1f77b4", "#gg0000"] {
        assert_eq!(
            problems(&with(bad)),
            [format!("type 1 'Sales performance': segment 'A': color is '{bad}', expected #RRGGBB such as #1f77b4")],
            "{bad}"
        );
    }
}

#[test]
fn types_and_segments_have_stable_ids() {
    let config =
        parse_config(&ABC.replace("name = \"A\"", "name = \"A\"\nid = \"top-tier\"")).unwrap();
    assert_eq!(config.types[0].id, "sales-performance");
    let ids: Vec<&str> = config.types[0]
        .segments
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["top-tier", "b", "c"]);
    assert_eq!(
        crate::segment_type::slug(" Clients fidèles / VIP "),
        "clients-fideles-vip"
    );
    let rfm = parse_config("[[types]]\nname = \"R\"\nmethod = \"rfm\"\n").unwrap();
    assert_eq!(rfm.types[0].segments[0].id, "champions");
    assert_eq!(
        problems(&ABC.replace("name = \"Sales performance\"", "name = \"Sales performance\"\nid = \"Bad Id\"")),
        ["type 1 'Sales performance': the type's id 'Bad Id' must be lower-case letters, digits, - and _ (such as 'sales-performance')"]
    );
    assert_eq!(
        problems(&ABC.replace("name = \"B\"", "name = \"B\"\nid = \"a\"")),
        ["type 1 'Sales performance': segment 'B': duplicate segment id 'a'; give it another id"]
    );
    let two = format!(
        "{ABC}{}",
        ABC.replace("Sales performance", "Sales-performance")
    );
    assert_eq!(
        problems(&two),
        ["type 2 'Sales-performance': duplicate type id 'sales-performance'; give it another id"]
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let message = problems("[[types]]\nname = \"x\"\nmethod = pareto\n").join("\n");
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn unknown_keys_are_rejected() {
    let message = problems(&ABC.replace("share = 80", "shar = 80")).join("\n");
    assert!(message.contains("unknown field `shar`"), "{message}");
}

/// The (path, code) of each problem of a configuration.
fn located(text: &str) -> Vec<(String, ProblemCode)> {
    parse_config(text)
        .expect_err("configuration should be rejected")
        .problems
        .into_iter()
        .map(|p| (p.path, p.code))
        .collect()
}

#[test]
fn problems_carry_a_path_and_a_code() {
    use ProblemCode::*;
    let rfm = "[[types]]\nname = \"R\"\nmethod = \"rfm\"\n";
    let cases: Vec<(String, Vec<(&str, ProblemCode)>)> = vec![
        (
            ABC.replace("share = 15", "share = 15\ncolor = \"red\""),
            vec![("types[0].segments[1].color", BadFormat)],
        ),
        (
            ABC.replace("share = 5", "share = 4"),
            vec![("types[0].segments", Inconsistent)],
        ),
        (
            ABC.replace("share = 5", "share = -5"),
            vec![
                ("types[0].segments[2].share", OutOfRange),
                ("types[0].segments", Inconsistent),
            ],
        ),
        (
            format!("{ABC}{}", rfm.replace("\"rfm\"", "\"kmeans\"")),
            vec![("types[1].method", UnknownValue)],
        ),
        (
            format!("{ABC}{rfm}min_sales = 3\nbins = 4\n"),
            vec![
                ("types[1].min_sales", NotApplicable),
                ("types[1].segments", Missing),
            ],
        ),
        (
            format!("{ABC}{rfm}frequency = [3, 2, 1, 0]\n"),
            vec![("types[1].frequency", Inconsistent)],
        ),
        (
            ABC.replace("name = \"B\"", "name = \"a\""),
            vec![("types[0].segments[1].name", Duplicate)],
        ),
        (
            ABC.replace("share = 80", "share = 80\nrule = \"total_spent > 1\""),
            vec![("types[0].segments[0].rule", NotApplicable)],
        ),
        (
            "[[types]]\nname = \"G\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"g\"\nrule = \"total_spent >\"\n[[types.segments]]\nname = \"h\"\nrule = \"segment('Nope') = 'x'\"\n".to_owned(),
            vec![("types[0].segments[0].rule", Rule)],
        ),
        (
            "[[types]]\nname = \"G\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"h\"\nrule = \"segment('Nope') = 'x'\"\n".to_owned(),
            vec![("types[0].segments[0].rule", Reference)],
        ),
        (
            format!("currency = \"euros\"\ntime_zone = \"Mars/Olympus\"\n{ABC}"),
            vec![("currency", BadFormat), ("time_zone", UnknownValue)],
        ),
        (
            "[attributes]\ntotal_spent = \"number\"\n".to_owned() + ABC,
            vec![("attributes.total_spent", NotApplicable)],
        ),
        ("currency = \"EUR\"\n".to_owned(), vec![("types", Missing)]),
        (format!("curency = \"EUR\"\n{ABC}"), vec![("curency", Malformed)]),
        (
            ABC.replace("share = 80", "shar = 80"),
            vec![("types[0].segments[0].shar", Malformed)],
        ),
        (
            ABC.replace("share = 80", "share = true"),
            vec![("types[0].segments[0].share", Malformed)],
        ),
        ("[[types]\n".to_owned(), vec![("", Malformed)]),
    ];
    for (text, expected) in cases {
        let expected: Vec<(String, ProblemCode)> = expected
            .into_iter()
            .map(|(path, code)| (path.to_owned(), code))
            .collect();
        assert_eq!(located(&text), expected, "{text}");
    }
}

#[test]
fn json_and_toml_give_the_same_configuration() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/config.toml"
    ))
    .unwrap();
    let input: ConfigInput = toml::from_str(&text).unwrap();
    let json = serde_json::to_string(&input).unwrap();
    assert_eq!(parse_config_json(&json), parse_config(&text));
    assert!(parse_config(&text).is_ok());
    // A JSON form sends amounts as numbers or text alike.
    let form = r#"{"types":[{"name":"T","method":"pareto","min_sales":"12.50",
        "segments":[{"name":"A","share":80.5},{"name":"B","share":"19.5"}]}]}"#;
    let config = parse_config_json(form).unwrap();
    assert_eq!(
        config.types[0].method,
        Method::Pareto(ParetoSpec {
            measure: Measure::Amount,
            min_sales: Amount::parse("12.5", false, ExtraDigits::Reject).unwrap(),
        })
    );
    let bad = r#"{"types":[{"name":"T","method":"pareto","segments":[{"name":"A","share":[1]}]}]}"#;
    let problems = parse_config_json(bad).unwrap_err().problems;
    assert_eq!(problems[0].path, "types[0].segments[0].share");
    assert_eq!(problems[0].code, ProblemCode::Malformed);
}

#[test]
fn problem_codes_have_distinct_stable_names() {
    let names: Vec<String> = ProblemCode::ALL
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let listed: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names, listed);
    let mut distinct = listed.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), listed.len());
}

#[test]
fn settings_validate_alone() {
    let good = input::SettingsInput {
        time_zone: Some("Europe/Paris".into()),
        ..Default::default()
    };
    assert!(validate_settings(good).is_ok());
    let bad = input::SettingsInput {
        time_zone: Some("Mars/Olympus".into()),
        currency: Some("euro".into()),
        ..Default::default()
    };
    let paths: Vec<String> = validate_settings(bad)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.path)
        .collect();
    assert_eq!(paths, ["currency", "time_zone"]);
}

#[test]
fn server_keys_are_refused_in_files() {
    let text = r#"
[[types]]
name = "ABC"
method = "pareto"
is_default = true
recompute = "daily"
[[types.segments]]
name = "A"
share = 100
"#;
    let problems = parse_config(text).unwrap_err().problems;
    let found: Vec<(&str, ProblemCode)> =
        problems.iter().map(|p| (p.path.as_str(), p.code)).collect();
    assert_eq!(
        found,
        [
            ("types[0].is_default", ProblemCode::NotApplicable),
            ("types[0].recompute", ProblemCode::NotApplicable)
        ]
    );
    assert!(problems[0].message.contains("belongs to the server"));
}
