//! The rule AST, its canonical text and its JSON form.
//!
//! AND and OR are n-ary: a chain `a AND b AND c` is one node, while a
//! parenthesised group stays a child of its own, so that text -> AST -> text
//! is stable and the canonical text parses back to the same AST.

use crate::money::Amount;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A rule: a condition on a customer's features.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// True when every part is true.
    And(Vec<Expr>),
    /// True when any part is true.
    Or(Vec<Expr>),
    /// The negation (unknown stays unknown).
    Not(Box<Expr>),
    /// A test on one operand.
    Condition(Condition),
}

/// What a condition reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operand {
    /// A customer feature by name.
    Feature(String),
    /// `segment('Type')`: the effective segment(s) in another type.
    Segment(String),
    /// `rfm('Type')`: the RFM segment in an RFM type.
    Rfm(String),
}

/// A literal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// Quoted text (also ISO dates, read as dates against a date feature).
    Text(String),
    /// A decimal number, at most 4 decimals.
    Number(Amount),
    /// `true` or `false`.
    Bool(bool),
}

/// A comparison operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `=`
    #[serde(rename = "=")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
}

/// A text-matching operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    /// `CONTAINS`
    Contains,
    /// `STARTS WITH`
    StartsWith,
    /// `ENDS WITH`
    EndsWith,
}

/// A test on one operand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "test")]
pub enum Condition {
    /// `operand op value`
    Compare {
        /// What is read.
        operand: Operand,
        /// The operator.
        op: CmpOp,
        /// The value compared with.
        value: Literal,
    },
    /// `operand [NOT] IN (values)`
    In {
        /// What is read.
        operand: Operand,
        /// `NOT IN`.
        negated: bool,
        /// The values.
        values: Vec<Literal>,
    },
    /// `operand BETWEEN low AND high` (both included)
    Between {
        /// What is read.
        operand: Operand,
        /// Lowest value included.
        low: Literal,
        /// Highest value included.
        high: Literal,
    },
    /// `operand IS [NOT] NULL`
    IsNull {
        /// What is read.
        operand: Operand,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `operand CONTAINS | STARTS WITH | ENDS WITH 'text'`
    Text {
        /// What is read.
        operand: Operand,
        /// The operator.
        op: TextOp,
        /// The text looked for.
        pattern: String,
    },
    /// A boolean feature on its own: `birthday_this_month`.
    IsTrue {
        /// What is read.
        operand: Operand,
    },
}

impl Condition {
    /// The operand the condition reads, to change it.
    fn operand_mut(&mut self) -> &mut Operand {
        match self {
            Condition::Compare { operand, .. }
            | Condition::In { operand, .. }
            | Condition::Between { operand, .. }
            | Condition::IsNull { operand, .. }
            | Condition::Text { operand, .. }
            | Condition::IsTrue { operand } => operand,
        }
    }

    /// The operand the condition reads.
    pub fn operand(&self) -> &Operand {
        match self {
            Condition::Compare { operand, .. }
            | Condition::In { operand, .. }
            | Condition::Between { operand, .. }
            | Condition::IsNull { operand, .. }
            | Condition::Text { operand, .. }
            | Condition::IsTrue { operand } => operand,
        }
    }
}

impl Expr {
    /// The blocks of a rule as a builder shows them: the parts of a
    /// top-level `AND` (each an `ALL` or `ANY` group, or one condition),
    /// else the whole rule as one block.
    pub fn blocks(&self) -> Vec<&Expr> {
        match self {
            Expr::And(parts) => parts.iter().collect(),
            other => vec![other],
        }
    }

    /// Every condition of the rule, in text order.
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Condition>) {
            match e {
                Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| walk(p, out)),
                Expr::Not(inner) => walk(inner, out),
                Expr::Condition(c) => out.push(c),
            }
        }
        walk(self, &mut out);
        out
    }

    /// Renames the segment type the rule's `segment()` and `rfm()` read;
    /// returns whether the rule referenced it.
    pub fn rename_type(&mut self, from: &str, to: &str) -> bool {
        match self {
            Expr::And(parts) | Expr::Or(parts) => parts
                .iter_mut()
                .fold(false, |found, p| p.rename_type(from, to) | found),
            Expr::Not(inner) => inner.rename_type(from, to),
            Expr::Condition(c) => match c.operand_mut() {
                Operand::Segment(t) | Operand::Rfm(t) if t == from => {
                    *t = to.to_owned();
                    true
                }
                _ => false,
            },
        }
    }

    /// The segment types the rule references, in text order.
    pub fn referenced_types(&self) -> Vec<&str> {
        self.conditions()
            .into_iter()
            .filter_map(|c| match c.operand() {
                Operand::Segment(t) | Operand::Rfm(t) => Some(t.as_str()),
                Operand::Feature(_) => None,
            })
            .collect()
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Feature(name) => write!(f, "{name}"),
            Operand::Segment(t) => write!(f, "segment({})", quote(t)),
            Operand::Rfm(t) => write!(f, "rfm({})", quote(t)),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(t) => write!(f, "{}", quote(t)),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl fmt::Display for TextOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextOp::Contains => "CONTAINS",
            TextOp::StartsWith => "STARTS WITH",
            TextOp::EndsWith => "ENDS WITH",
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare { operand, op, value } => write!(f, "{operand} {op} {value}"),
            Condition::In {
                operand,
                negated,
                values,
            } => {
                let values: Vec<String> = values.iter().map(Literal::to_string).collect();
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{operand} {not}IN ({})", values.join(", "))
            }
            Condition::Between { operand, low, high } => {
                write!(f, "{operand} BETWEEN {low} AND {high}")
            }
            Condition::IsNull { operand, negated } => {
                write!(f, "{operand} IS {}NULL", if *negated { "NOT " } else { "" })
            }
            Condition::Text {
                operand,
                op,
                pattern,
            } => write!(f, "{operand} {op} {}", quote(pattern)),
            Condition::IsTrue { operand } => write!(f, "{operand}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Expr], keyword: &str| -> fmt::Result {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {keyword} ")?;
                }
                // Nested chains are always parenthesised: an OR inside an AND
                // needs it, and an AND inside an OR reads more clearly with it.
                let parens = matches!(part, Expr::And(_) | Expr::Or(_));
                if parens {
                    write!(f, "({part})")?;
                } else {
                    write!(f, "{part}")?;
                }
            }
            Ok(())
        };
        match self {
            Expr::And(parts) => join(f, parts, "AND"),
            Expr::Or(parts) => join(f, parts, "OR"),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "NOT ({inner})"),
                _ => write!(f, "NOT {inner}"),
            },
            Expr::Condition(c) => write!(f, "{c}"),
        }
    }
}

/// One block of the rule builder: conditions joined by ALL (and) or ANY (or).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// `true` for ALL, `false` for ANY.
    pub all: bool,
    /// The conditions, possibly negated.
    pub conditions: Vec<(bool, Condition)>,
}

/// Splits a rule into the rule builder's blocks (blocks of conditions joined
/// by ALL or ANY, combined with AND), or says why it is outside that form.
pub fn builder_blocks(expr: &Expr) -> Result<Vec<Block>, String> {
    fn leaf(e: &Expr) -> Option<(bool, Condition)> {
        match e {
            Expr::Condition(c) => Some((false, c.clone())),
            Expr::Not(inner) => match &**inner {
                Expr::Condition(c) => Some((true, c.clone())),
                _ => None,
            },
            _ => None,
        }
    }
    fn block(e: &Expr) -> Option<Block> {
        match e {
            Expr::Or(parts) => Some(Block {
                all: false,
                conditions: parts.iter().map(leaf).collect::<Option<_>>()?,
            }),
            Expr::And(parts) => Some(Block {
                all: true,
                conditions: parts.iter().map(leaf).collect::<Option<_>>()?,
            }),
            other => leaf(other).map(|c| Block {
                all: true,
                conditions: vec![c],
            }),
        }
    }
    let outside = || {
        "this rule nests conditions more deeply than blocks of ALL/ANY conditions combined with AND; edit it as text"
            .to_owned()
    };
    match expr {
        Expr::And(parts)
            if parts
                .iter()
                .any(|p| matches!(p, Expr::And(_) | Expr::Or(_))) =>
        {
            parts.iter().map(|p| block(p).ok_or_else(outside)).collect()
        }
        other => block(other).map(|b| vec![b]).ok_or_else(outside),
    }
}
