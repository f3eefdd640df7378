//! What a rule may read: feature names and their value types, and the
//! segment types it may reference.

use super::ast::{Condition, Expr, Literal, Operand};
use super::parse::MAX_DEPTH;
use crate::date::Date;

/// The type of a feature's values.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum ValueType {
    /// An exact decimal number.
    Number,
    /// A calendar date.
    Date,
    /// True or false.
    Bool,
    /// Text, compared ignoring case.
    Text,
    /// A set of texts (categories bought, groups).
    TextSet,
}

impl ValueType {
    /// How the type is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::Number => "a number",
            ValueType::Date => "a date",
            ValueType::Bool => "true or false",
            ValueType::Text => "text",
            ValueType::TextSet => "a set of texts",
        }
    }

    /// The literal expected against this type, for messages.
    pub fn expected_literal(self) -> &'static str {
        match self {
            ValueType::Number => "a number",
            ValueType::Date => "a date in quotes ('YYYY-MM-DD')",
            ValueType::Bool => "true or false",
            ValueType::Text | ValueType::TextSet => "text in quotes",
        }
    }

    /// Whether `<`, `>` and BETWEEN apply.
    pub fn is_ordered(self) -> bool {
        matches!(self, ValueType::Number | ValueType::Date)
    }

    /// Whether CONTAINS, STARTS WITH and ENDS WITH apply.
    pub fn is_textual(self) -> bool {
        matches!(self, ValueType::Text | ValueType::TextSet)
    }

    /// Checks that a literal can be compared with values of this type.
    pub fn check_literal(self, literal: &Literal) -> Result<(), String> {
        let ok = match (self, literal) {
            (ValueType::Number, Literal::Number(_)) => true,
            (ValueType::Date, Literal::Text(t)) => Date::parse_iso(t).is_some(),
            (ValueType::Date, Literal::Number(_)) => {
                return Err("comparing a date with a number is not possible: expected a date in quotes ('YYYY-MM-DD')".to_owned())
            }
            (ValueType::Bool, Literal::Bool(_)) => true,
            (ValueType::Text | ValueType::TextSet, Literal::Text(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("expected {}", self.expected_literal()))
        }
    }
}

/// A segment type a rule may reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeRef {
    /// The type's name.
    pub name: String,
    /// Whether it is an RFM type (for `rfm(...)`).
    pub is_rfm: bool,
    /// Whether a customer can be in several of its segments.
    pub is_set: bool,
    /// Its segment names, in order.
    pub segments: Vec<String>,
}

impl TypeRef {
    /// Checks what a condition on `segment(...)` or `rfm(...)` of this type
    /// compares with: every value of `=`, `!=`, `IN` and `NOT IN` names one
    /// of its segments (ignoring case, as evaluation does), so that a
    /// misspelt segment is an error rather than a rule that matches nothing;
    /// text matching (`CONTAINS`, `STARTS WITH`, `ENDS WITH`) is refused.
    pub fn check_segment_literals(&self, condition: &Condition) -> Result<(), String> {
        let operand = condition.operand();
        let names = || self.segments.join(", ");
        let literals: Vec<&Literal> = match condition {
            Condition::Compare { value, .. } => vec![value],
            Condition::In { values, .. } => values.iter().collect(),
            Condition::Text { op, .. } => {
                return Err(format!(
                    "{op} cannot be used on {operand}: compare it with a segment name using = or IN (segments: {})",
                    names()
                ))
            }
            _ => Vec::new(),
        };
        for literal in literals {
            let known = matches!(literal, Literal::Text(text)
                if self.segments.iter().any(|s| s.to_lowercase() == text.to_lowercase()));
            if !known {
                return Err(format!(
                    "{operand} has no segment {literal} (segments: {})",
                    names()
                ));
            }
        }
        Ok(())
    }
}

/// The features and types a rule may read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// Feature names and types.
    pub features: Vec<(String, ValueType)>,
    /// Segment types that may be referenced.
    pub types: Vec<TypeRef>,
    /// Customers-file columns typed by their content rather than declared.
    pub inferred: Vec<String>,
}

impl Schema {
    /// For a column typed by its content, how to declare its type, to
    /// follow a type error about it; empty otherwise.
    pub fn declare_hint(&self, operand: &Operand) -> String {
        match operand {
            Operand::Feature(name) if self.inferred.contains(name) => format!(
                " ({name} is typed by its content; declare its type under [attributes], for example {name} = \"text\")"
            ),
            _ => String::new(),
        }
    }

    /// The type of a feature, if known.
    pub fn feature(&self, name: &str) -> Option<ValueType> {
        self.features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
    }

    /// The type an operand reads, or why it cannot be read.
    pub fn operand_type(&self, operand: &Operand) -> Result<ValueType, String> {
        match operand {
            Operand::Feature(name) => self.feature(name).ok_or_else(|| {
                let best = self
                    .features
                    .iter()
                    .map(|(n, _)| (strsim::levenshtein(n, name), n))
                    .min()
                    .filter(|(distance, n)| *distance <= 2.max(n.len() / 3));
                match best {
                    Some((_, suggestion)) => {
                        format!("unknown feature '{name}', did you mean '{suggestion}'?")
                    }
                    None => format!("unknown feature '{name}'"),
                }
            }),
            Operand::Segment(t) | Operand::Rfm(t) => {
                let Some(found) = self.types.iter().find(|r| &r.name == t) else {
                    let known: Vec<&str> = self.types.iter().map(|r| r.name.as_str()).collect();
                    return Err(format!(
                        "unknown segment type '{t}' (known: {})",
                        known.join(", ")
                    ));
                };
                if matches!(operand, Operand::Rfm(_)) && !found.is_rfm {
                    return Err(format!("'{t}' is not an RFM type; use segment('{t}')"));
                }
                Ok(if found.is_set {
                    ValueType::TextSet
                } else {
                    ValueType::Text
                })
            }
        }
    }

    /// Checks one condition: its operand exists and its values and operator fit its type.
    pub fn check_condition(&self, condition: &Condition) -> Result<(), String> {
        let operand = condition.operand();
        let t = self.operand_type(operand)?;
        if let Operand::Segment(name) | Operand::Rfm(name) = operand {
            if let Some(referenced) = self.types.iter().find(|r| &r.name == name) {
                referenced.check_segment_literals(condition)?;
            }
        }
        let hint = self.declare_hint(operand);
        let literal = |l: &Literal| {
            t.check_literal(l)
                .map_err(|m| format!("{operand}: {m}, found {l}{hint}"))
        };
        let misuse = |op: &str| {
            Err(format!(
                "{op} cannot be used on {operand}, which is {}{hint}",
                t.describe()
            ))
        };
        match condition {
            Condition::Compare { op, value, .. } => {
                if !matches!(op, super::ast::CmpOp::Eq | super::ast::CmpOp::Ne) && !t.is_ordered() {
                    return misuse(&format!("'{op}'"));
                }
                literal(value)
            }
            Condition::In { values, .. } => {
                if t == ValueType::Bool {
                    return misuse("IN");
                }
                values.iter().try_for_each(literal)
            }
            Condition::Between { low, high, .. } => {
                if !t.is_ordered() {
                    return misuse("BETWEEN");
                }
                literal(low).and(literal(high))
            }
            Condition::IsNull { .. } => Ok(()),
            Condition::Text { op, .. } => {
                if t.is_textual() {
                    Ok(())
                } else {
                    misuse(&op.to_string())
                }
            }
            Condition::IsTrue { .. } => {
                if t == ValueType::Bool {
                    Ok(())
                } else {
                    Err(format!(
                        "{operand} is {}, not true or false: compare it with a value",
                        t.describe()
                    ))
                }
            }
        }
    }

    /// Checks a rule given as JSON (without text positions) as the parser
    /// checks text: AND and OR have at least two parts, IN at least one
    /// value, nesting stays within [`MAX_DEPTH`], and every condition reads a
    /// known feature or type with values and an operator that fit it.
    pub fn validate(&self, expr: &Expr) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        shape_problems(expr, 1, &mut problems);
        problems.extend(
            expr.conditions()
                .into_iter()
                .filter_map(|c| self.check_condition(c).err()),
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// What the parser refuses in a rule's structure, found in its JSON form.
fn shape_problems(expr: &Expr, depth: usize, problems: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        problems.push(format!("the rule nests more than {MAX_DEPTH} levels deep"));
        return;
    }
    match expr {
        Expr::And(parts) | Expr::Or(parts) => {
            let word = if matches!(expr, Expr::And(_)) {
                "and"
            } else {
                "or"
            };
            if parts.len() < 2 {
                problems.push(format!(
                    "an \"{word}\" needs at least two parts, found {}",
                    parts.len()
                ));
            }
            for part in parts {
                shape_problems(part, depth + 1, problems);
            }
        }
        Expr::Not(inner) => shape_problems(inner, depth + 1, problems),
        Expr::Condition(Condition::In {
            operand, values, ..
        }) if values.is_empty() => {
            problems.push(format!("{operand} IN needs at least one value"));
        }
        Expr::Condition(_) => {}
    }
}
