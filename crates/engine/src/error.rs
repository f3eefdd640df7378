//! Errors of the engine: the user's input problems, with the file, line and
//! column they concern, kept apart from IO failures.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result with the engine's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a file a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// The header line.
    Header,
    /// A line of a text file, 1-based, counting the header.
    Line(u64),
    /// A data row of a Parquet file, 1-based.
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => write!(f, "the file"),
            Location::Header => write!(f, "header"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// A problem with a user's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub file: PathBuf,
    /// Where in it.
    pub location: Location,
    /// The column concerned, if one is.
    pub column: Option<String>,
    /// What was found and what was expected.
    pub message: String,
}

impl InputError {
    /// A problem at a location of a file.
    pub fn new(
        file: &Path,
        location: Location,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location,
            column: column.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.location != Location::File {
            write!(f, ": {}", self.location)?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column '{column}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything that can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user's file is wrong.
    #[error("{0}")]
    Input(Box<InputError>),
    /// The configuration is wrong.
    #[error("{path}: {problems}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// Every problem found.
        problems: strata_domain::config::ConfigError,
    },
    /// The command asks for something impossible (unknown type, bad period).
    #[error("{0}")]
    Usage(String),
    /// A sum left the range of amounts: the input holds amounts too large to add exactly.
    #[error("{context}: customer '{customer}': {overflow}")]
    Overflow {
        /// The segment type (or the rules' features) being computed.
        context: String,
        /// The customer whose figure overflowed.
        customer: String,
        /// Which sum.
        overflow: strata_domain::money::SumOverflow,
    },
    /// Every bad cell of the lines, in file order, when they are collected
    /// (`ErrorMode::Collect`), up to [`MAX_COLLECTED_ERRORS`].
    #[error("{}", list_cells(.0))]
    Cells(Vec<InputError>),
    /// The caller cancelled the run (`Control::cancel`); nothing was produced.
    #[error("the run was cancelled")]
    Cancelled,
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::Input(Box::new(e))
    }
}

/// The most bad cells listed when they are collected.
pub const MAX_COLLECTED_ERRORS: usize = 100;

fn list_cells(cells: &[InputError]) -> String {
    let mut text: Vec<String> = cells.iter().map(ToString::to_string).collect();
    if cells.len() >= MAX_COLLECTED_ERRORS {
        text.push(format!(
            "(stopped at the first {MAX_COLLECTED_ERRORS} problems)"
        ));
    }
    text.join("\n")
}

impl Error {
    /// The bad cells collected, at most [`MAX_COLLECTED_ERRORS`] of them.
    pub fn collected(mut cells: Vec<InputError>) -> Error {
        cells.truncate(MAX_COLLECTED_ERRORS);
        Error::Cells(cells)
    }

    /// An IO failure on a path.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The most characters of a user's value quoted in a message.
const SHOWN_CHARS: usize = 80;

/// A value as quoted in a message: cut to its first 80 characters, so that a
/// 150 MB cell never makes a 150 MB message.
pub fn shown(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(SHOWN_CHARS) {
        None => value.into(),
        Some((cut, _)) => format!(
            "{}... ({} characters)",
            &value[..cut],
            value.chars().count()
        )
        .into(),
    }
}

/// Why a text cannot be an id (customer or order), if it cannot: ids are
/// written back into CSV files and compared as text, so a NUL byte, which
/// no export means as part of an id, is refused.
pub fn id_problem(id: &str) -> Option<String> {
    id.contains('\0').then(|| {
        format!(
            "'{}' contains a NUL byte (\\0): is the file text?",
            shown(&id.replace('\0', "\\0"))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_messages_are_cut_to_80_characters() {
        assert_eq!(shown("abc"), "abc");
        let long = "é".repeat(200);
        let cut = shown(&long);
        assert!(cut.starts_with(&"é".repeat(80)) && cut.ends_with("... (200 characters)"));
        assert_eq!(id_problem("C1"), None);
        assert_eq!(
            id_problem("C\x001").as_deref(),
            Some("'C\\01' contains a NUL byte (\\0): is the file text?")
        );
    }
}
