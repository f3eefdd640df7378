//! The README says what the code does: its lists are checked against the
//! code's own vocabulary.

use strata_domain::columns::LineColumn;

const README: &str = include_str!("../../../README.md");

/// The names in backquotes of the README's bullet that starts with `start`.
fn quoted_names_of_bullet(start: &str) -> Vec<String> {
    let from = README.find(start).expect("the bullet is in the README");
    let bullet = &README[from..];
    let end = bullet[2..].find("\n- ").map_or(bullet.len(), |i| i + 2);
    bullet[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_lists_exactly_the_transaction_columns_strata_reads() {
    let mut listed: Vec<String> = quoted_names_of_bullet("- **Transactions**")
        .into_iter()
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .filter(|name| !name.starts_with("purchased_") && name != "late_order_days")
        .collect();
    listed.sort();
    listed.dedup();
    let mut columns: Vec<String> = LineColumn::ALL
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    columns.sort();
    assert_eq!(listed, columns, "README: Input files, Transactions");
}

/// The catalogue as the README shows it.
fn feature_table() -> String {
    use strata_domain::features::Feature;
    use strata_domain::rules::schema::ValueType;
    let mut table = String::from("| feature | type | reads | meaning |\n|---|---|---|---|\n");
    for feature in Feature::ALL {
        let def = feature.def();
        let value_type = match def.value_type {
            ValueType::Number => "number",
            ValueType::Date => "date",
            ValueType::Bool => "true/false",
            ValueType::Text => "text",
            ValueType::TextSet => "set of texts",
        };
        let reads: Vec<String> = def.columns.iter().map(|c| format!("`{c}`")).collect();
        table.push_str(&format!(
            "| `{}` | {value_type} | {} | {} |\n",
            def.name,
            reads.join(", "),
            def.definition
        ));
    }
    table
}

#[test]
fn the_readme_lists_exactly_the_feature_catalogue() {
    let table = feature_table();
    assert!(
        README.contains(&table),
        "README: the feature table must be exactly:\n{table}"
    );
}

#[test]
fn the_readme_names_every_reserved_customers_column() {
    use strata_domain::columns::CustomerColumn;
    let listed = quoted_names_of_bullet("- **Customers**");
    for column in CustomerColumn::ALL {
        assert!(
            listed.iter().any(|name| name == column.name()),
            "README: Input files, Customers must name `{}`",
            column.name()
        );
    }
}

/// The README's section that starts with `heading`, up to the next one.
fn section(heading: &str) -> &'static str {
    let from = README.find(heading).expect("the section is in the README");
    let rest = &README[from + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The keys of a structure as its JSON form writes them.
fn keys(value: impl serde::Serialize) -> Vec<String> {
    match serde_json::to_value(value).unwrap() {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("not a structure: {other}"),
    }
}

#[test]
fn the_readme_documents_every_configuration_key_and_problem_code() {
    use strata_domain::config::input::{ConfigInput, Number, SegmentInput, TypeInput};
    use strata_domain::config::problem::ProblemCode;
    use strata_domain::segment_type::MethodKind;
    let text = section("## Configuration");
    // Every field set, so that every key is written (a new field must be added here).
    let segment = SegmentInput {
        id: Some(String::new()),
        name: String::new(),
        share: Some(Number::Integer(1)),
        visit_every_days: Some(1),
        priority: Some(1),
        default: true,
        excluded: true,
        color: Some(String::new()),
        r: Some([1, 1]),
        f: Some([1, 1]),
        m: Some([1, 1]),
        rule: Some(String::new()),
        include: vec![String::new()],
        exclude: vec![String::new()],
    };
    let ty = TypeInput {
        id: Some(String::new()),
        name: String::new(),
        method: String::new(),
        identity: Some(String::new()),
        measure: Some(String::new()),
        period_months: Some(1),
        interval: Some(String::new()),
        min_sales: Some(Number::Integer(1)),
        agencies: vec![String::new()],
        brands: vec![String::new()],
        bins: Some(1),
        recency_days: Some(vec![1]),
        frequency: Some(vec![1]),
        monetary: Some(vec![Number::Integer(1)]),
        exclusive: Some(true),
        segments: vec![segment.clone()],
        is_default: Some(serde_json::Value::Bool(true)),
        notify: Some(serde_json::Value::Bool(true)),
        recompute: Some(serde_json::Value::Bool(true)),
    };
    let config = ConfigInput {
        currency: Some(String::new()),
        closed_statuses: Some(vec![String::new()]),
        attributes: [(String::new(), String::new())].into(),
        time_zone: Some(String::new()),
        types: vec![ty.clone()],
    };
    let missing: Vec<String> = [keys(&config), keys(&ty), keys(&segment)]
        .concat()
        .into_iter()
        .filter(|key| !text.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README: Configuration must document {missing:?}"
    );
    for method in MethodKind::ALL {
        assert!(text.contains(&format!("`{}`", method.name())), "{method:?}");
    }
    let codes: Vec<String> = ProblemCode::ALL
        .iter()
        .map(|c| format!("`{}`", c.as_str()))
        .collect();
    assert!(
        text.replace('\n', " ").contains(&codes.join(", ")),
        "README: Configuration must list the problem codes in order: {}",
        codes.join(", ")
    );
}
