//! Evaluating rules column-wise over a table of customer features, with SQL's
//! three-valued logic. The same evaluator serves a million customers or one:
//! it takes the rows to evaluate.

use super::ast::{CmpOp, Condition, Expr, Literal, Operand, TextOp};
use crate::date::Date;
use crate::money::Amount;
use std::cmp::Ordering;
use std::collections::HashMap;

/// SQL truth: a customer is a member only when the whole rule is `True`.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Truth {
    /// False.
    False,
    /// True.
    True,
    /// Unknown: a comparison with a null value.
    Unknown,
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    /// The name shown in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        }
    }
}

/// An exact number `num / den`, `num` in 1/10000 units, `den > 0`.
/// Derived features such as an average basket stay exact fractions.
/// Stored in 64 bits each to keep a million customers' columns small;
/// comparisons widen to 128 bits.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct Ratio {
    /// Numerator, in 1/10000 units.
    pub num: i64,
    /// Denominator, strictly positive.
    pub den: i64,
}

impl Ratio {
    /// A whole amount.
    pub fn amount(a: Amount) -> Ratio {
        Ratio {
            num: a.raw(),
            den: 1,
        }
    }

    /// An integer count or number of days.
    pub fn integer(value: i64) -> Ratio {
        Ratio::amount(Amount::from_units(value))
    }

    /// `num / den` with `num` in 1/10000 units; `None` when `den` is zero
    /// (or, beyond any real amount, when a part does not fit 64 bits).
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        let (num, den) = match den.cmp(&0) {
            Ordering::Equal => return None,
            Ordering::Greater => (num, den),
            Ordering::Less => (-num, -den),
        };
        Some(Ratio {
            num: i64::try_from(num).ok()?,
            den: i64::try_from(den).ok()?,
        })
    }

    /// An amount divided by a count, `None` when the count is zero.
    pub fn fraction(num: Amount, den: i128) -> Option<Ratio> {
        Ratio::new(i128::from(num.raw()), den)
    }

    /// Compares with an amount, exactly: `num / den` against `v` is `num` against `v * den`.
    pub fn cmp_amount(self, v: Amount) -> Ordering {
        i128::from(self.num).cmp(&(i128::from(v.raw()) * i128::from(self.den)))
    }

    fn display(self) -> String {
        if self.den == 1 {
            return Amount(self.num).to_string();
        }
        let value = self.num as f64 / self.den as f64 / 10_000.0;
        format!("{value:.2}")
    }
}

/// One feature for every customer.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Exact numbers.
    Number(Vec<Option<Ratio>>),
    /// Dates.
    Date(Vec<Option<Date>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Text, dictionary-encoded: `codes[row]` indexes `dict`, `u32::MAX` is null.
    Text {
        /// One code per row.
        codes: Vec<u32>,
        /// Distinct values.
        dict: Vec<String>,
    },
    /// Sets of texts: row `r` holds `items[offsets[r]..offsets[r + 1]]`.
    Set {
        /// Row boundaries, `rows + 1` entries.
        offsets: Vec<u32>,
        /// Codes into `dict`.
        items: Vec<u32>,
        /// Distinct values.
        dict: Vec<String>,
    },
}

/// The null code of text columns.
pub const NULL_CODE: u32 = u32::MAX;

impl Column {
    /// About how many bytes its values hold, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &[T]) -> usize {
            std::mem::size_of_val(v)
        }
        fn dict(d: &[String]) -> usize {
            d.iter()
                .map(|t| t.len() + std::mem::size_of::<String>())
                .sum()
        }
        match self {
            Column::Number(v) => vec(v),
            Column::Date(v) => vec(v),
            Column::Bool(v) => vec(v),
            Column::Text { codes, dict: d } => vec(codes) + dict(d),
            Column::Set {
                offsets,
                items,
                dict: d,
            } => vec(offsets) + vec(items) + dict(d),
        }
    }

    /// A text column from optional values.
    pub fn text<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Column {
        let mut index: HashMap<&'a str, u32> = HashMap::new();
        let mut dict = Vec::new();
        let codes = values
            .into_iter()
            .map(|v| match v {
                None => NULL_CODE,
                Some(v) => *index.entry(v).or_insert_with(|| {
                    dict.push(v.to_owned());
                    dict.len() as u32 - 1
                }),
            })
            .collect();
        Column::Text { codes, dict }
    }

    /// A text column whose values are all distinct (customer ids): the
    /// values are the dictionary, no lookup needed.
    pub fn distinct_text<'a>(values: impl IntoIterator<Item = &'a str>) -> Column {
        let dict: Vec<String> = values.into_iter().map(str::to_owned).collect();
        Column::Text {
            codes: (0..dict.len() as u32).collect(),
            dict,
        }
    }

    /// A set column from per-row lists of codes into `dict`.
    pub fn set(rows: impl IntoIterator<Item = Vec<u32>>, dict: Vec<String>) -> Column {
        let mut offsets = vec![0u32];
        let mut items = Vec::new();
        for mut row in rows {
            row.sort_unstable();
            row.dedup();
            items.extend(row);
            offsets.push(items.len() as u32);
        }
        Column::Set {
            offsets,
            items,
            dict,
        }
    }

    /// The type of the column's values.
    pub fn value_type(&self) -> super::schema::ValueType {
        use super::schema::ValueType;
        match self {
            Column::Number(_) => ValueType::Number,
            Column::Date(_) => ValueType::Date,
            Column::Bool(_) => ValueType::Bool,
            Column::Text { .. } => ValueType::Text,
            Column::Set { .. } => ValueType::TextSet,
        }
    }

    /// A row's value as text, for explanations (`null` for none).
    pub fn display(&self, row: usize) -> String {
        let null = || "null".to_owned();
        match self {
            Column::Number(v) => v[row].map_or_else(null, Ratio::display),
            Column::Date(v) => v[row].map_or_else(null, |d| d.to_string()),
            Column::Bool(v) => v[row].map_or_else(null, |b| b.to_string()),
            Column::Text { codes, dict } => match codes[row] {
                NULL_CODE => null(),
                code => format!("'{}'", dict[code as usize]),
            },
            Column::Set {
                offsets,
                items,
                dict,
            } => {
                let values: Vec<String> = items[offsets[row] as usize..offsets[row + 1] as usize]
                    .iter()
                    .map(|&c| format!("'{}'", dict[c as usize]))
                    .collect();
                format!("({})", values.join(", "))
            }
        }
    }
}

/// Features of every customer, by name, plus the segments of other types.
#[derive(Clone, Debug, Default)]
pub struct FeatureTable {
    /// Number of customers (rows).
    pub rows: usize,
    /// Feature columns by name.
    pub features: Vec<(String, Column)>,
    /// Segments of other types by type name, for `segment(...)` and `rfm(...)`.
    pub segments: HashMap<String, Column>,
}

impl FeatureTable {
    /// About how many bytes its columns hold, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.features
            .iter()
            .map(|(name, c)| name.len() + c.heap_bytes())
            .chain(self.segments.iter().map(|(t, c)| t.len() + c.heap_bytes()))
            .sum()
    }

    /// The column an operand reads.
    pub fn column(&self, operand: &Operand) -> Option<&Column> {
        match operand {
            Operand::Feature(name) => self
                .features
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c),
            Operand::Segment(t) | Operand::Rfm(t) => self.segments.get(t),
        }
    }
}

fn cmp_holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

fn number(l: &Literal) -> Amount {
    match l {
        Literal::Number(n) => *n,
        _ => Amount::ZERO,
    }
}

fn date(l: &Literal) -> Option<Date> {
    match l {
        Literal::Text(t) => Date::parse_iso(t),
        _ => None,
    }
}

fn text_matches(op: TextOp, value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let pattern = pattern.to_lowercase();
    match op {
        TextOp::Contains => value.contains(&pattern),
        TextOp::StartsWith => value.starts_with(&pattern),
        TextOp::EndsWith => value.ends_with(&pattern),
    }
}

/// For a text or set column: whether each dictionary value satisfies the
/// positive form of the condition, and whether the result is negated.
fn dictionary_truth(condition: &Condition, dict: &[String]) -> (Vec<bool>, bool) {
    let eq = |value: &str, l: &Literal| matches!(l, Literal::Text(t) if t.to_lowercase() == value.to_lowercase());
    match condition {
        Condition::Compare { op, value, .. } => (
            dict.iter().map(|d| eq(d, value)).collect(),
            *op == CmpOp::Ne,
        ),
        Condition::In {
            negated, values, ..
        } => (
            dict.iter()
                .map(|d| values.iter().any(|v| eq(d, v)))
                .collect(),
            *negated,
        ),
        Condition::Text { op, pattern, .. } => (
            dict.iter().map(|d| text_matches(*op, d, pattern)).collect(),
            false,
        ),
        _ => (vec![false; dict.len()], false),
    }
}

/// Evaluates one condition on the given rows.
fn condition_truth(condition: &Condition, column: &Column, rows: &[u32]) -> Vec<Truth> {
    if let Condition::IsNull { negated, .. } = condition {
        let is_null = |r: usize| match column {
            Column::Number(v) => v[r].is_none(),
            Column::Date(v) => v[r].is_none(),
            Column::Bool(v) => v[r].is_none(),
            Column::Text { codes, .. } => codes[r] == NULL_CODE,
            Column::Set { .. } => false,
        };
        return rows
            .iter()
            .map(|&r| Truth::of(is_null(r as usize) != *negated))
            .collect();
    }
    match column {
        Column::Number(values) => {
            let test = |x: Ratio| match condition {
                Condition::Compare { op, value, .. } => cmp_holds(*op, x.cmp_amount(number(value))),
                Condition::In {
                    negated, values, ..
                } => {
                    values
                        .iter()
                        .any(|v| x.cmp_amount(number(v)) == Ordering::Equal)
                        != *negated
                }
                Condition::Between { low, high, .. } => {
                    x.cmp_amount(number(low)) != Ordering::Less
                        && x.cmp_amount(number(high)) != Ordering::Greater
                }
                _ => false,
            };
            rows.iter()
                .map(|&r| values[r as usize].map_or(Truth::Unknown, |x| Truth::of(test(x))))
                .collect()
        }
        Column::Date(values) => {
            let test = |x: Date| match condition {
                Condition::Compare { op, value, .. } => {
                    date(value).is_some_and(|d| cmp_holds(*op, x.cmp(&d)))
                }
                Condition::In {
                    negated, values, ..
                } => values.iter().any(|v| date(v) == Some(x)) != *negated,
                Condition::Between { low, high, .. } => {
                    date(low).is_some_and(|l| l <= x) && date(high).is_some_and(|h| x <= h)
                }
                _ => false,
            };
            rows.iter()
                .map(|&r| values[r as usize].map_or(Truth::Unknown, |x| Truth::of(test(x))))
                .collect()
        }
        Column::Bool(values) => {
            let test = |x: bool| match condition {
                Condition::Compare { op, value, .. } => {
                    let b = matches!(value, Literal::Bool(true));
                    (x == b) != (*op == CmpOp::Ne)
                }
                Condition::IsTrue { .. } => x,
                _ => false,
            };
            rows.iter()
                .map(|&r| values[r as usize].map_or(Truth::Unknown, |x| Truth::of(test(x))))
                .collect()
        }
        Column::Text { codes, dict } => {
            let (truth, negated) = dictionary_truth(condition, dict);
            rows.iter()
                .map(|&r| match codes[r as usize] {
                    NULL_CODE => Truth::Unknown,
                    code => Truth::of(truth[code as usize] != negated),
                })
                .collect()
        }
        Column::Set {
            offsets,
            items,
            dict,
        } => {
            let (truth, negated) = dictionary_truth(condition, dict);
            rows.iter()
                .map(|&r| {
                    let r = r as usize;
                    let any = items[offsets[r] as usize..offsets[r + 1] as usize]
                        .iter()
                        .any(|&c| truth[c as usize]);
                    Truth::of(any != negated)
                })
                .collect()
        }
    }
}

/// Evaluates a rule on the given rows; a feature missing from the table
/// reads as null. Rules are checked against the table's schema beforehand.
pub fn evaluate(expr: &Expr, table: &FeatureTable, rows: &[u32]) -> Vec<Truth> {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => {
            let is_and = matches!(expr, Expr::And(_));
            let mut acc = evaluate(&parts[0], table, rows);
            for part in &parts[1..] {
                let next = evaluate(part, table, rows);
                for (a, b) in acc.iter_mut().zip(next) {
                    *a = if is_and { a.and(b) } else { a.or(b) };
                }
            }
            acc
        }
        Expr::Not(inner) => evaluate(inner, table, rows)
            .into_iter()
            .map(Truth::not)
            .collect(),
        Expr::Condition(c) => match table.column(c.operand()) {
            Some(column) => condition_truth(c, column, rows),
            None => vec![Truth::Unknown; rows.len()],
        },
    }
}

/// Every row of a table, for batch evaluation.
pub fn all_rows(table: &FeatureTable) -> Vec<u32> {
    (0..table.rows as u32).collect()
}

/// One condition of a rule as it applies to one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClauseExplanation {
    /// The condition in canonical text.
    pub condition: String,
    /// The value the condition read.
    pub value: String,
    /// Its truth for the customer.
    pub truth: Truth,
}

/// Each condition of a rule with the value it read and its truth for one
/// customer, and the truth of the whole rule.
pub fn explain(expr: &Expr, table: &FeatureTable, row: u32) -> (Vec<ClauseExplanation>, Truth) {
    let clauses = expr
        .conditions()
        .into_iter()
        .map(|c| ClauseExplanation {
            condition: c.to_string(),
            value: table
                .column(c.operand())
                .map_or_else(|| "null".to_owned(), |col| col.display(row as usize)),
            truth: evaluate(&Expr::Condition(c.clone()), table, &[row])[0],
        })
        .collect();
    (clauses, evaluate(expr, table, &[row])[0])
}
