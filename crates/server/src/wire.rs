//! JSON batches in: customers and sales lines, checked whole before
//! anything is stored; every bad row is listed (up to 100).

use crate::error::RowError;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use strata_domain::columns::{CustomerColumn, LineColumn};
use strata_domain::date::Date;
use strata_domain::money::{Amount, ExtraDigits};
use strata_engine::error::{id_problem, shown, MAX_COLLECTED_ERRORS};
use strata_store::{Customer, LineImport, StoredLine};

/// A sales line as JSON, as [`lines`] reads it: what the API documents.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "read by the OpenAPI document, never built")]
pub struct LineJson {
    /// The customer account.
    customer_id: String,
    /// The order.
    order_id: String,
    /// The line's number in its order, from 1: on every line of a batch or
    /// on none (then each order sent is replaced whole).
    line: Option<i64>,
    /// `YYYY-MM-DD`.
    date: String,
    /// A decimal string such as `"12.50"`; negative for returns.
    amount: String,
    /// A decimal string.
    margin: Option<String>,
    /// The agency that sold the line.
    agency: Option<String>,
    /// The product brand.
    brand: Option<String>,
    /// The product category.
    category: Option<String>,
    /// The order's status.
    status: Option<String>,
    /// `YYYY-MM-DD`.
    due_date: Option<String>,
}

/// Gives each line of an import its number: the one it carries, or
/// 1..n within its (customer, order) in the order lines come (an import
/// without numbers replaces its orders whole). JSON and files alike.
#[derive(Default)]
pub struct LineKeys {
    next: HashMap<(String, String), i64>,
    seen: HashMap<(String, String, i64), usize>,
}

impl LineKeys {
    /// The number of the line at `index`; `Err` with the index of the
    /// earlier line that has the same customer, order and number.
    pub fn number(
        &mut self,
        index: usize,
        customer_id: &str,
        order_id: &str,
        given: Option<i64>,
    ) -> Result<i64, usize> {
        let line = given.unwrap_or_else(|| {
            let n = self
                .next
                .entry((customer_id.to_owned(), order_id.to_owned()))
                .or_insert(0);
            *n += 1;
            *n
        });
        match self
            .seen
            .insert((customer_id.to_owned(), order_id.to_owned(), line), index)
        {
            Some(first) => Err(first),
            None => Ok(line),
        }
    }
}

/// The field of a line's number within its order.
const LINE_FIELD: &str = LineColumn::Line.name();

/// Collects row errors up to the limit.
struct Errors(Vec<RowError>);

impl Errors {
    fn push(&mut self, row: usize, column: Option<&str>, message: String) {
        if self.0.len() < MAX_COLLECTED_ERRORS {
            self.0.push(RowError {
                row: row as u64,
                column: column.map(str::to_owned),
                message,
            });
        }
    }

    fn full(&self) -> bool {
        self.0.len() >= MAX_COLLECTED_ERRORS
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The elements of a JSON array body.
fn rows(body: &Value) -> Result<&Vec<Value>, Vec<RowError>> {
    body.as_array().ok_or_else(|| {
        vec![RowError {
            row: 0,
            column: None,
            message: format!("expected a JSON array of objects, found {}", kind(body)),
        }]
    })
}

/// A required or optional text field of a row object.
fn text<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    required: bool,
    row: usize,
    errors: &mut Errors,
) -> Option<&'a str> {
    match object.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            if required {
                errors.push(
                    row,
                    Some(field),
                    "missing; expected a non-empty string".into(),
                );
            }
            None
        }
        Some(other) => {
            let hint = if matches!(other, Value::Number(_)) {
                " (write numbers as decimal strings, such as \"12.50\")"
            } else {
                ""
            };
            errors.push(
                row,
                Some(field),
                format!("expected a string, found {}{hint}", kind(other)),
            );
            None
        }
    }
}

fn id(value: Option<&str>, field: &str, row: usize, errors: &mut Errors) -> Option<String> {
    let value = value?.trim();
    if let Some(problem) = id_problem(value) {
        errors.push(row, Some(field), problem);
        return None;
    }
    Some(value.to_owned())
}

/// Customers from `[{"customer_id": "C1", "name": "...", ...}]`: every other
/// field is an attribute, a string.
pub fn customers(body: &Value) -> Result<Vec<Customer>, Vec<RowError>> {
    let mut errors = Errors(Vec::new());
    let mut out = Vec::new();
    let id_field = CustomerColumn::CustomerId.name();
    for (i, row) in rows(body)?.iter().enumerate() {
        if errors.full() {
            break;
        }
        let Some(object) = row.as_object() else {
            errors.push(i, None, format!("expected an object, found {}", kind(row)));
            continue;
        };
        let customer_id = id(
            text(object, id_field, true, i, &mut errors),
            id_field,
            i,
            &mut errors,
        );
        let mut attributes = BTreeMap::new();
        for (field, value) in object {
            if field == id_field {
                continue;
            }
            let name = field.trim().to_lowercase();
            match value {
                Value::String(s) => {
                    attributes.insert(name, s.trim().to_owned());
                }
                other => errors.push(
                    i,
                    Some(field),
                    format!("expected a string, found {}", kind(other)),
                ),
            }
        }
        if let Some(id) = customer_id {
            out.push(Customer { id, attributes });
        }
    }
    if errors.0.is_empty() {
        Ok(out)
    } else {
        Err(errors.0)
    }
}

/// Sales lines from `[{"customer_id", "order_id", "date", "amount", ...}]`.
/// With `line` on every row, lines are upserted by (customer, order, line);
/// without it on any, each order is replaced whole, numbered 1..n.
pub fn lines(body: &Value) -> Result<LineImport, Vec<RowError>> {
    let mut errors = Errors(Vec::new());
    let rows = rows(body)?;
    let known: BTreeSet<&str> = LineColumn::ALL.iter().map(|c| c.name()).collect();
    let numbered = rows
        .iter()
        .filter(|r| r.get(LINE_FIELD).is_some_and(|v| !v.is_null()))
        .count();
    if numbered != 0 && numbered != rows.len() {
        return Err(vec![RowError {
            row: 0,
            column: Some(LINE_FIELD.into()),
            message: format!(
                "{numbered} of {} lines have a line number: give it on every line or on none",
                rows.len()
            ),
        }]);
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut keys = LineKeys::default();
    for (i, row) in rows.iter().enumerate() {
        if errors.full() {
            break;
        }
        let Some(object) = row.as_object() else {
            errors.push(i, None, format!("expected an object, found {}", kind(row)));
            continue;
        };
        for field in object.keys() {
            if !known.contains(field.as_str()) {
                errors.push(
                    i,
                    Some(field),
                    format!(
                        "unknown field; expected one of {}",
                        known.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        let field = |c: LineColumn| c.name();
        let get =
            |c: LineColumn, errors: &mut Errors| text(object, field(c), c.is_required(), i, errors);
        let customer_id = get(LineColumn::CustomerId, &mut errors);
        let customer_id = id(customer_id, field(LineColumn::CustomerId), i, &mut errors);
        let order_id = get(LineColumn::OrderId, &mut errors);
        let order_id = id(order_id, field(LineColumn::OrderId), i, &mut errors);
        let date_of = |c: LineColumn, errors: &mut Errors| {
            let value = text(object, field(c), c.is_required(), i, errors)?;
            let date = Date::parse_iso(value.trim());
            if date.is_none() {
                errors.push(
                    i,
                    Some(field(c)),
                    format!("'{}' is not a date; expected YYYY-MM-DD", shown(value)),
                );
            }
            date
        };
        let date = date_of(LineColumn::Date, &mut errors);
        let due_date = date_of(LineColumn::DueDate, &mut errors);
        let amount_of = |c: LineColumn, errors: &mut Errors| {
            let value = text(object, field(c), c.is_required(), i, errors)?;
            match Amount::parse(value, false, ExtraDigits::Reject) {
                Ok(a) => Some(a),
                Err(e) => {
                    errors.push(i, Some(field(c)), format!("'{}': {e}", shown(value)));
                    None
                }
            }
        };
        let amount = amount_of(LineColumn::Amount, &mut errors);
        let margin = amount_of(LineColumn::Margin, &mut errors);
        let mut optional = |c: LineColumn| {
            text(object, field(c), false, i, &mut errors).map(|s| s.trim().to_owned())
        };
        let agency = optional(LineColumn::Agency);
        let brand = optional(LineColumn::Brand);
        let category = optional(LineColumn::Category);
        let status = optional(LineColumn::Status);
        let number = match object.get(LINE_FIELD) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 1) => n.as_i64(),
            Some(other) => {
                errors.push(
                    i,
                    Some(LINE_FIELD),
                    format!("expected a whole number from 1, found {other}"),
                );
                continue;
            }
        };
        let (Some(customer_id), Some(order_id), Some(date), Some(amount)) =
            (customer_id, order_id, date, amount)
        else {
            continue;
        };
        let line = match keys.number(i, &customer_id, &order_id, number) {
            Ok(line) => line,
            Err(first) => {
                let line = number.map_or_else(String::new, |n| format!(", line {n}"));
                errors.push(
                    i,
                    Some(LINE_FIELD),
                    format!(
                        "customer '{customer_id}', order '{order_id}'{line} is also row {first}"
                    ),
                );
                continue;
            }
        };
        out.push(StoredLine {
            customer_id,
            order_id,
            line,
            date,
            amount,
            margin,
            agency,
            brand,
            category,
            status,
            due_date,
        });
    }
    if errors.0.is_empty() {
        Ok(LineImport {
            lines: out,
            whole_orders: numbered == 0,
        })
    } else {
        Err(errors.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Where a refused batch's problems are: row and field.
    type At = Vec<(u64, Option<String>)>;

    fn problems(result: Result<LineImport, Vec<RowError>>) -> At {
        result
            .expect_err("refused")
            .into_iter()
            .map(|e| (e.row, e.column))
            .collect()
    }

    #[test]
    fn bad_lines_are_all_listed_with_their_field() {
        let line =
            json!({"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "12.50"});
        let with = |field: &str, value: Value| {
            let mut l = line.clone();
            l[field] = value;
            l
        };
        let cases: Vec<(Value, At)> = vec![
            (
                json!([with("amount", json!(12.5))]),
                vec![(0, Some("amount".into()))],
            ),
            (
                json!([line.clone(), with("date", json!("02/01/2026"))]),
                vec![(1, Some("date".into()))],
            ),
            (
                json!([with("customer_id", json!(""))]),
                vec![(0, Some("customer_id".into()))],
            ),
            (
                json!([with("colour", json!("red"))]),
                vec![(0, Some("colour".into()))],
            ),
            (
                json!([with("margin", json!("1.23456"))]),
                vec![(0, Some("margin".into()))],
            ),
            (
                json!([with("line", json!(1)), line.clone()]),
                vec![(0, Some("line".into()))],
            ),
            (
                json!([with("line", json!(2)), with("line", json!(2))]),
                vec![(1, Some("line".into()))],
            ),
            (
                json!([with("line", json!(0))]),
                vec![(0, Some("line".into()))],
            ),
            (json!({"lines": []}), vec![(0, None)]),
            (json!([42]), vec![(0, None)]),
        ];
        for (body, expected) in cases {
            assert_eq!(problems(lines(&body)), expected, "{body}");
        }
    }

    #[test]
    fn lines_without_numbers_replace_whole_orders_numbered_in_order() {
        let body = json!([
            {"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "1"},
            {"customer_id": "C2", "order_id": "O1", "date": "2026-01-02", "amount": "2"},
            {"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "-3", "agency": " Lyon "},
        ]);
        let import = lines(&body).unwrap();
        assert!(import.whole_orders);
        let numbered: Vec<(&str, i64, i64)> = import
            .lines
            .iter()
            .map(|l| (l.customer_id.as_str(), l.line, l.amount.raw()))
            .collect();
        assert_eq!(
            numbered,
            [("C1", 1, 10_000), ("C2", 1, 20_000), ("C1", 2, -30_000)]
        );
        assert_eq!(import.lines[2].agency.as_deref(), Some("Lyon"));

        let keyed = json!([{"customer_id": "C1", "order_id": "O1", "line": 7, "date": "2026-01-02", "amount": "1"}]);
        let import = lines(&keyed).unwrap();
        assert!(!import.whole_orders);
        assert_eq!(import.lines[0].line, 7);
    }

    #[test]
    fn customers_need_an_id_and_text_attributes() {
        let ok = customers(&json!([{"customer_id": " C1 ", "Name": "Alpha", "email": "a@x.fr"}]))
            .unwrap();
        assert_eq!(ok[0].id, "C1");
        assert_eq!(
            ok[0].attributes.get("name").map(String::as_str),
            Some("Alpha")
        );
        let refused = customers(&json!([{"name": "no id"}, {"customer_id": "C2", "age": 42}]))
            .err()
            .unwrap();
        let at: Vec<(u64, Option<&str>)> = refused
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(at, [(0, Some("customer_id")), (1, Some("age"))]);
    }
}
