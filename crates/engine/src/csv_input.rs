//! Opening CSV exports the way ERPs write them: UTF-8 with or without a
//! byte-order mark, `,` or `;` delimiters (detected from the header, `;`
//! allowing decimal commas), case-insensitive trimmed header names.

use crate::error::{Error, InputError, Location, Result};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// An open CSV file positioned on its first data record.
pub struct CsvFile {
    /// The path, for messages.
    pub path: PathBuf,
    /// The reader, after the header.
    pub reader: csv::Reader<BufReader<File>>,
    /// Header names, trimmed and lower-cased.
    pub headers: Vec<String>,
    /// Whether amounts may use a decimal comma (`;`-delimited files).
    pub decimal_comma: bool,
}

/// The delimiter of a header line: `;` when it has more semicolons than
/// commas outside quotes, `,` otherwise.
fn detect_delimiter(header: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Opens a CSV file and reads its header.
pub fn open_csv(path: &Path) -> Result<CsvFile> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut file)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let start = if head.starts_with(BOM) { BOM.len() } else { 0 };
    let first_line_end = head[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(head.len(), |p| start + p);
    let delimiter = detect_delimiter(&head[start..first_line_end]);
    file.seek(SeekFrom::Start(start as u64))
        .map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let headers = reader.byte_headers().map_err(|e| csv_error(path, e))?;
    let headers: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(|h| h.trim().to_lowercase())
                .map_err(|_| {
                    InputError::new(
                        path,
                        Location::Header,
                        None,
                        format!("column {} is not valid UTF-8", i + 1),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    if headers.iter().all(String::is_empty) {
        return Err(InputError::new(
            path,
            Location::Header,
            None,
            "the file is empty: expected a header line",
        )
        .into());
    }
    Ok(CsvFile {
        path: path.to_path_buf(),
        reader,
        headers,
        decimal_comma: delimiter == b';',
    })
}

impl CsvFile {
    /// The index of a column by its lower-case name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The index of a required column, or an error listing those found.
    pub fn required_column(&self, name: &str) -> Result<usize> {
        self.column(name)
            .ok_or_else(|| missing_column(&self.path, name, &self.headers))
    }
}

/// The error for a required column that is absent.
pub fn missing_column(path: &Path, name: &str, found: &[String]) -> Error {
    InputError::new(
        path,
        Location::Header,
        None,
        format!(
            "missing required column '{name}' (found: {})",
            found.join(", ")
        ),
    )
    .into()
}

/// Converts a CSV parser error into an input error naming the line.
pub fn csv_error(path: &Path, error: csv::Error) -> Error {
    let line = error.position().map(|p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        csv::ErrorKind::Io(e) => {
            return Error::io(path, std::io::Error::new(e.kind(), e.to_string()))
        }
        _ => error.to_string(),
    };
    InputError::new(
        path,
        line.map_or(Location::File, Location::Line),
        None,
        message,
    )
    .into()
}

/// A field as UTF-8 text, or an error naming the line and column.
pub fn utf8_field<'a>(path: &Path, line: u64, column: &str, field: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(field).map_err(|_| {
        InputError::new(
            path,
            Location::Line(line),
            Some(column),
            "not valid UTF-8 text",
        )
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_comes_from_the_header() {
        assert_eq!(detect_delimiter(b"order_id,customer_id,date,amount"), b',');
        assert_eq!(detect_delimiter(b"order_id;customer_id;date;amount"), b';');
        assert_eq!(detect_delimiter(b"\"a;b\",c"), b',');
    }
}
