//! Small files read whole as text cells: customers and overrides, from CSV or
//! Parquet alike.

use crate::error::{Error, Location, Result};
use crate::transactions::{missing_column, refuse_duplicate_columns};
use arrow_array::{Array, StringArray};
use std::path::{Path, PathBuf};

/// A file's cells as text columns; empty cells are null.
#[derive(Clone, Debug)]
pub struct StringTable {
    /// The file.
    pub path: PathBuf,
    /// Column names, trimmed and lower-cased.
    pub headers: Vec<String>,
    /// One text array per column, one entry per row.
    pub columns: Vec<StringArray>,
    /// Where each row is in the file.
    pub locations: Vec<Location>,
}

impl StringTable {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.locations.len()
    }

    /// A cell, `None` when empty.
    pub fn cell(&self, row: usize, column: usize) -> Option<&str> {
        let array = &self.columns[column];
        (!array.is_null(row)).then(|| array.value(row))
    }

    /// The index of a column by lower-case name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// A table held in memory (a body a server received, a test's rows):
    /// `headers`, then rows of cells, an empty cell being null; rows are
    /// numbered from 1 in messages, which name the table `name`.
    pub fn from_rows(
        name: &str,
        headers: &[&str],
        rows: &[Vec<Option<&str>>],
    ) -> Result<StringTable> {
        let path = PathBuf::from(name);
        let headers: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
        refuse_duplicate_columns(&path, &headers, None)?;
        if let Some(i) = rows.iter().position(|r| r.len() != headers.len()) {
            return Err(crate::error::InputError::new(
                &path,
                Location::Row(i as u64 + 1),
                None,
                format!(
                    "{} cells, expected one per column ({})",
                    rows[i].len(),
                    headers.len()
                ),
            )
            .into());
        }
        let columns = (0..headers.len())
            .map(|c| {
                rows.iter()
                    .map(|row| row[c].filter(|cell| !cell.is_empty()))
                    .collect::<StringArray>()
            })
            .collect();
        Ok(StringTable {
            path,
            headers,
            columns,
            locations: (1..=rows.len() as u64).map(Location::Row).collect(),
        })
    }

    /// The index of a required column.
    pub fn required_column(&self, name: &str) -> Result<usize> {
        self.column(name)
            .ok_or_else(|| missing_column(&self.path, name, &self.headers))
    }
}

/// Whether a path names a Parquet file (by extension).
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("parq"))
}

/// The column names of a CSV or Parquet file, trimmed and lower-cased.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    if is_parquet(path) {
        crate::parquet_input::column_names(path)
    } else {
        Ok(crate::csv_input::open_csv(path)?.headers)
    }
}

/// Checks that a file exists before a long run starts reading others.
pub fn check_readable(path: &Path) -> Result<()> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| Error::io(path, e))
}
