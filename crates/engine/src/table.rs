//! Small files read whole as text cells: customers and overrides, from CSV or
//! Parquet alike.

use crate::csv_input::{csv_error, missing_column, open_csv, utf8_field};
use crate::error::{Error, Location, Result};
use crate::parquet_input;
use std::path::{Path, PathBuf};

/// A file's cells as text; empty cells are `None`.
pub struct StringTable {
    /// The file.
    pub path: PathBuf,
    /// Column names, trimmed and lower-cased.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Option<String>>>,
    /// Where each row is in the file.
    pub locations: Vec<Location>,
}

impl StringTable {
    /// The index of a column by lower-case name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
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

/// Reads a CSV or Parquet file whole, as text cells.
pub fn read_string_table(path: &Path) -> Result<StringTable> {
    if is_parquet(path) {
        return parquet_input::read_string_table(path);
    }
    let mut csv = open_csv(path)?;
    let mut rows = Vec::new();
    let mut locations = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut row = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            let text = utf8_field(path, line, &csv.headers[i], field)?.trim();
            row.push((!text.is_empty()).then(|| text.to_owned()));
        }
        if row.iter().all(Option::is_none) {
            continue;
        }
        rows.push(row);
        locations.push(Location::Line(line));
    }
    Ok(StringTable {
        path: path.to_path_buf(),
        headers: std::mem::take(&mut csv.headers),
        rows,
        locations,
    })
}

/// Checks that a file exists before a long run starts reading others.
pub fn check_readable(path: &Path) -> Result<()> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| Error::io(path, e))
}
