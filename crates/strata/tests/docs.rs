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
