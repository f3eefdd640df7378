//! Small files read whole as text cells: customers and overrides, from CSV or
//! Parquet alike.

use crate::csv_input::{csv_error, missing_column, open_csv, refuse_duplicate_columns, utf8_field};
use crate::error::{Error, Location, Result};
use crate::parquet_input;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use std::path::{Path, PathBuf};

/// A file's cells as text columns; empty cells are null.
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
    let table = read_cells(path)?;
    refuse_duplicate_columns(path, &table.headers, None)?;
    Ok(table)
}

fn read_cells(path: &Path) -> Result<StringTable> {
    if is_parquet(path) {
        return parquet_input::read_string_table(path);
    }
    let mut csv = open_csv(path)?;
    let mut builders: Vec<StringBuilder> =
        csv.headers.iter().map(|_| StringBuilder::new()).collect();
    let mut locations = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut cells: Vec<&str> = Vec::with_capacity(builders.len());
        for (i, field) in record.iter().enumerate() {
            cells.push(utf8_field(path, line, &csv.headers[i], field)?.trim());
        }
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        for (builder, cell) in builders.iter_mut().zip(&cells) {
            builder.append_option((!cell.is_empty()).then_some(*cell));
        }
        locations.push(Location::Line(line));
    }
    Ok(StringTable {
        path: path.to_path_buf(),
        headers: std::mem::take(&mut csv.headers),
        columns: builders.iter_mut().map(StringBuilder::finish).collect(),
        locations,
    })
}

/// Checks that a file exists before a long run starts reading others.
pub fn check_readable(path: &Path) -> Result<()> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| Error::io(path, e))
}
