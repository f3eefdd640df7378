//! The rule language's text form.
//!
//! ```text
//! rule      := or
//! or        := and ("OR" and)*
//! and       := not ("AND" not)*
//! not       := "NOT" not | "(" rule ")" | condition
//! condition := operand ( cmp literal
//!                      | ["NOT"] "IN" "(" literal ("," literal)* ")"
//!                      | "BETWEEN" literal "AND" literal
//!                      | "IS" ["NOT"] "NULL"
//!                      | ("CONTAINS" | "STARTS" "WITH" | "ENDS" "WITH") text
//!                      | )                      -- a boolean feature alone
//! operand   := name | ("segment" | "rfm") "(" text ")"
//! literal   := text | number | "true" | "false"
//! cmp       := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//! ```
//! Keywords ignore case; text is single-quoted with `''` for a quote; numbers
//! may be negative and have up to 4 decimals. Errors give the line and column.

use super::ast::{CmpOp, Condition, Expr, Literal, Operand, TextOp};
use super::schema::{Schema, ValueType};
use crate::money::{Amount, ExtraDigits};
use std::fmt;

/// Deepest nesting of parentheses and NOT accepted.
pub const MAX_DEPTH: usize = 64;

/// A problem in a rule's text, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Text(String),
    Number(String),
    Cmp(CmpOp),
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// Character offset of the token's start.
    at: usize,
    /// The token as written.
    raw: String,
}

fn lex(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' => {
                i += 1;
                Tok::Cmp(CmpOp::Eq)
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Cmp(CmpOp::Ne)
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                i += 1;
                match (c, next) {
                    ('<', Some('=')) => {
                        i += 1;
                        Tok::Cmp(CmpOp::Le)
                    }
                    ('<', Some('>')) => {
                        i += 1;
                        Tok::Cmp(CmpOp::Ne)
                    }
                    ('>', Some('=')) => {
                        i += 1;
                        Tok::Cmp(CmpOp::Ge)
                    }
                    ('<', _) => Tok::Cmp(CmpOp::Lt),
                    _ => Tok::Cmp(CmpOp::Gt),
                }
            }
            '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err((
                                start,
                                "unterminated text: a quote ' is missing".to_owned(),
                            ))
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            value.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            value.push(ch);
                            i += 1;
                        }
                    }
                }
                Tok::Text(value)
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '.')
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())) =>
            {
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|ch| ch.is_ascii_digit() || *ch == '.')
                {
                    i += 1;
                }
                Tok::Number(chars[start..i].iter().collect())
            }
            c if c.is_alphabetic() || c == '_' => {
                while chars
                    .get(i)
                    .is_some_and(|ch| ch.is_alphanumeric() || *ch == '_')
                {
                    i += 1;
                }
                Tok::Ident(chars[start..i].iter().collect())
            }
            other => return Err((start, format!("unexpected character '{other}'"))),
        };
        tokens.push(Token {
            tok,
            at: start,
            raw: chars[start..i].iter().collect(),
        });
    }
    tokens.push(Token {
        tok: Tok::End,
        at: chars.len(),
        raw: String::new(),
    });
    Ok(tokens)
}

fn position(text: &str, at: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in text.chars().take(at) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    schema: Option<&'a Schema>,
}

fn describe(token: &Token) -> String {
    match token.tok {
        Tok::End => "the end of the rule".to_owned(),
        _ => format!("'{}'", token.raw),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn error_at(&self, at: usize, message: String) -> RuleError {
        let (line, column) = position(self.text, at);
        RuleError {
            line,
            column,
            message,
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(name) if name.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.keyword(word);
        if found {
            self.next();
        }
        found
    }

    fn expect_keyword(&mut self, word: &str, after: &str) -> Result<(), RuleError> {
        if self.eat_keyword(word) {
            return Ok(());
        }
        let token = self.peek().clone();
        Err(self.error_at(
            token.at,
            format!("expected {word} after {after}, found {}", describe(&token)),
        ))
    }

    fn expect(&mut self, tok: Tok, what: &str, after: &str) -> Result<(), RuleError> {
        if self.peek().tok == tok {
            self.next();
            return Ok(());
        }
        let token = self.peek().clone();
        Err(self.error_at(
            token.at,
            format!("expected {what} after {after}, found {}", describe(&token)),
        ))
    }

    fn nest(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let at = self.peek().at;
            return Err(self.error_at(
                at,
                format!("the rule nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.and()?];
        while self.eat_keyword("OR") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.not()?];
        while self.eat_keyword("AND") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::And(parts)
        })
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.eat_keyword("NOT") {
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek().tok == Tok::LParen {
            self.next();
            self.nest()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.expect(Tok::RParen, "')'", "the condition")?;
            return Ok(inner);
        }
        self.condition()
    }

    fn operand(&mut self) -> Result<(Operand, Option<ValueType>), RuleError> {
        let token = self.next();
        let Tok::Ident(name) = &token.tok else {
            return Err(self.error_at(
                token.at,
                format!("expected a feature name or '(', found {}", describe(&token)),
            ));
        };
        let lower = name.to_lowercase();
        let operand = if (lower == "segment" || lower == "rfm") && self.peek().tok == Tok::LParen {
            self.next();
            let type_token = self.next();
            let Tok::Text(type_name) = type_token.tok.clone() else {
                return Err(self.error_at(
                    type_token.at,
                    format!(
                        "expected a segment type name in quotes after '{lower}(', found {}",
                        describe(&type_token)
                    ),
                ));
            };
            self.expect(Tok::RParen, "')'", "the type name")?;
            if lower == "segment" {
                Operand::Segment(type_name)
            } else {
                Operand::Rfm(type_name)
            }
        } else {
            Operand::Feature(lower)
        };
        let value_type = match self.schema {
            Some(schema) => Some(
                schema
                    .operand_type(&operand)
                    .map_err(|m| self.error_at(token.at, m))?,
            ),
            None => None,
        };
        Ok((operand, value_type))
    }

    /// Reads a literal; `after` names what precedes it, for messages.
    fn literal(
        &mut self,
        value_type: Option<ValueType>,
        after: &str,
    ) -> Result<Literal, RuleError> {
        let token = self.next();
        let literal = match &token.tok {
            Tok::Text(t) => Some(Literal::Text(t.clone())),
            Tok::Number(n) => Some(Literal::Number(
                Amount::parse(n, false, ExtraDigits::Reject)
                    .map_err(|e| self.error_at(token.at, format!("'{n}' is not a number: {e}")))?,
            )),
            Tok::Ident(word) if word.eq_ignore_ascii_case("true") => Some(Literal::Bool(true)),
            Tok::Ident(word) if word.eq_ignore_ascii_case("false") => Some(Literal::Bool(false)),
            _ => None,
        };
        let expected = value_type.map_or("a value", ValueType::expected_literal);
        let literal = literal.ok_or_else(|| {
            self.error_at(
                token.at,
                format!(
                    "expected {expected} after {after}, found {}",
                    describe(&token)
                ),
            )
        })?;
        if let Some(t) = value_type {
            t.check_literal(&literal).map_err(|m| {
                self.error_at(
                    token.at,
                    format!("{m} after {after}, found {}", describe(&token)),
                )
            })?;
        }
        Ok(literal)
    }

    fn text_pattern(&mut self, after: &str) -> Result<String, RuleError> {
        let token = self.next();
        match token.tok {
            Tok::Text(t) => Ok(t),
            _ => Err(self.error_at(
                token.at,
                format!(
                    "expected text in quotes after {after}, found {}",
                    describe(&token)
                ),
            )),
        }
    }

    fn condition(&mut self) -> Result<Expr, RuleError> {
        let start = self.peek().at;
        let (operand, value_type) = self.operand()?;
        let hint = self
            .schema
            .map_or_else(String::new, |s| s.declare_hint(&operand));
        let add_hint = |mut e: RuleError| {
            e.message.push_str(&hint);
            e
        };
        let check_op = |parser: &Self, op: &str, allowed: fn(ValueType) -> bool| match value_type {
            Some(t) if !allowed(t) => Err(parser.error_at(
                start,
                format!(
                    "{op} cannot be used on {operand}, which is {}{hint}",
                    t.describe()
                ),
            )),
            _ => Ok(()),
        };
        let token = self.peek().clone();
        let condition = match &token.tok {
            Tok::Cmp(op) => {
                let op = *op;
                self.next();
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    check_op(self, &format!("'{op}'"), ValueType::is_ordered)?;
                }
                Condition::Compare {
                    value: self
                        .literal(value_type, &format!("'{op}'"))
                        .map_err(add_hint)?,
                    operand,
                    op,
                }
            }
            Tok::Ident(_) if self.keyword("IN") || self.keyword("NOT") => {
                let negated = self.eat_keyword("NOT");
                self.expect_keyword("IN", "NOT")?;
                check_op(self, "IN", |t| t != ValueType::Bool)?;
                self.expect(Tok::LParen, "'('", "IN")?;
                let mut values = vec![self.literal(value_type, "'('").map_err(add_hint)?];
                while self.peek().tok == Tok::Comma {
                    self.next();
                    values.push(self.literal(value_type, "','").map_err(add_hint)?);
                }
                self.expect(Tok::RParen, "')' or ','", "the value")?;
                Condition::In {
                    operand,
                    negated,
                    values,
                }
            }
            Tok::Ident(_) if self.keyword("BETWEEN") => {
                self.next();
                check_op(self, "BETWEEN", ValueType::is_ordered)?;
                let low = self.literal(value_type, "BETWEEN").map_err(add_hint)?;
                self.expect_keyword("AND", "the first value of BETWEEN")?;
                let high = self.literal(value_type, "AND").map_err(add_hint)?;
                Condition::Between { operand, low, high }
            }
            Tok::Ident(_) if self.keyword("IS") => {
                self.next();
                let negated = self.eat_keyword("NOT");
                self.expect_keyword("NULL", if negated { "IS NOT" } else { "IS" })?;
                Condition::IsNull { operand, negated }
            }
            Tok::Ident(_)
                if self.keyword("CONTAINS") || self.keyword("STARTS") || self.keyword("ENDS") =>
            {
                let op = if self.eat_keyword("CONTAINS") {
                    TextOp::Contains
                } else if self.eat_keyword("STARTS") {
                    self.expect_keyword("WITH", "STARTS")?;
                    TextOp::StartsWith
                } else {
                    self.next();
                    self.expect_keyword("WITH", "ENDS")?;
                    TextOp::EndsWith
                };
                check_op(self, &op.to_string(), ValueType::is_textual)?;
                let pattern = self.text_pattern(&op.to_string())?;
                Condition::Text {
                    operand,
                    op,
                    pattern,
                }
            }
            _ => {
                if let Some(t) = value_type {
                    if t != ValueType::Bool {
                        return Err(self.error_at(
                            token.at,
                            format!(
                                "expected a comparison after {operand}, which is {}, found {}",
                                t.describe(),
                                describe(&token)
                            ),
                        ));
                    }
                }
                Condition::IsTrue { operand }
            }
        };
        if let (Some(schema), Operand::Segment(name) | Operand::Rfm(name)) =
            (self.schema, condition.operand())
        {
            if let Some(referenced) = schema.types.iter().find(|t| &t.name == name) {
                referenced
                    .check_segment_literals(&condition)
                    .map_err(|m| self.error_at(start, m))?;
            }
        }
        Ok(Expr::Condition(condition))
    }
}

/// Parses a rule; with a schema, also checks feature names and value types.
pub fn parse(text: &str, schema: Option<&Schema>) -> Result<Expr, RuleError> {
    let tokens = lex(text).map_err(|(at, message)| {
        let (line, column) = position(text, at);
        RuleError {
            line,
            column,
            message,
        }
    })?;
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
        schema,
    };
    if parser.peek().tok == Tok::End {
        return Err(parser.error_at(
            0,
            "the rule is empty: expected a condition such as total_spent > 100".to_owned(),
        ));
    }
    let expr = parser.or()?;
    let token = parser.peek().clone();
    if token.tok != Tok::End {
        return Err(parser.error_at(
            token.at,
            format!(
                "expected AND, OR or the end of the rule, found {}",
                describe(&token)
            ),
        ));
    }
    Ok(expr)
}
