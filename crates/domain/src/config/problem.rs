//! Problems found in a configuration: where (a path into the input
//! structure), what kind (a code) and a message for people.

use serde::Serialize;
use std::fmt;

/// The kind of a configuration problem, stable for programs (a web form
/// picks its wording or its field highlight by it).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// The text is not TOML or JSON of the expected shape: a syntax error,
    /// an unknown key, a value of the wrong kind.
    Malformed,
    /// Something required is missing: a type, a type's segments, an id.
    Missing,
    /// A name is empty.
    Empty,
    /// A name or id is used twice.
    Duplicate,
    /// A value is not one of those accepted (a method, an identity, an
    /// interval, a measure, an attribute type, a time zone).
    UnknownValue,
    /// A number lies outside its range.
    OutOfRange,
    /// A value is not written as expected (an id, a colour, an amount, a
    /// currency code).
    BadFormat,
    /// A key that the type's method does not read.
    NotApplicable,
    /// Settings that contradict each other (two default segments, a share
    /// on an excluded tier, shares not totalling 100, thresholds out of order).
    Inconsistent,
    /// A rule that does not parse.
    Rule,
    /// A rule names an unknown type, the wrong kind of type, an unknown
    /// segment, or types reference each other in a cycle.
    Reference,
}

impl ProblemCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ProblemCode; 11] = [
        ProblemCode::Malformed,
        ProblemCode::Missing,
        ProblemCode::Empty,
        ProblemCode::Duplicate,
        ProblemCode::UnknownValue,
        ProblemCode::OutOfRange,
        ProblemCode::BadFormat,
        ProblemCode::NotApplicable,
        ProblemCode::Inconsistent,
        ProblemCode::Rule,
        ProblemCode::Reference,
    ];

    /// The stable name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Malformed => "malformed",
            ProblemCode::Missing => "missing",
            ProblemCode::Empty => "empty",
            ProblemCode::Duplicate => "duplicate",
            ProblemCode::UnknownValue => "unknown_value",
            ProblemCode::OutOfRange => "out_of_range",
            ProblemCode::BadFormat => "bad_format",
            ProblemCode::NotApplicable => "not_applicable",
            ProblemCode::Inconsistent => "inconsistent",
            ProblemCode::Rule => "rule",
            ProblemCode::Reference => "reference",
        }
    }
}

/// One problem of a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where, as a 0-based path into the input: `types[1].segments[2].share`,
    /// `attributes.postcode`; empty for the whole configuration.
    pub path: String,
    /// What kind of problem.
    pub code: ProblemCode,
    /// What is wrong and what is expected, without the place.
    pub message: String,
    /// The place in words (`type 2 'Tiers': segment 'A'`), for terminals.
    pub place: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.place, self.message)
        }
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The problems, in the order of the input.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems under one place of the input.
pub(crate) struct Problems<'a> {
    list: &'a mut Vec<Problem>,
    path: String,
    place: String,
}

impl<'a> Problems<'a> {
    /// Problems of the whole input.
    pub(crate) fn new(list: &'a mut Vec<Problem>) -> Problems<'a> {
        Problems {
            list,
            path: String::new(),
            place: String::new(),
        }
    }

    /// A problem of one field of this place (a key, or `key[i]`).
    pub(crate) fn at(&mut self, field: &str, code: ProblemCode, message: impl fmt::Display) {
        self.list.push(Problem {
            path: join(&self.path, field),
            code,
            message: message.to_string(),
            place: self.place.clone(),
        });
    }

    /// The problems of a part of this place: `field` in the path, `place`
    /// in words.
    pub(crate) fn within(&mut self, field: &str, place: String) -> Problems<'_> {
        Problems {
            path: join(&self.path, field),
            place: if self.place.is_empty() {
                place
            } else {
                format!("{}: {place}", self.place)
            },
            list: self.list,
        }
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}
