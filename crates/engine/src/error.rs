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

impl Error {
    /// An IO failure on a path.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
