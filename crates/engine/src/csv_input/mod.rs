//! Opening CSV exports the way ERPs write them: UTF-8 with or without a
//! byte-order mark, `,` or `;` delimiters (detected from the header, `;`
//! allowing decimal commas), case-insensitive trimmed header names.
//! Transactions files are decoded by `decoder` over the chunks `chunks` cuts.

mod chunks;
mod decoder;

use crate::error::{Error, InputError, Location, Result};
use crate::table::StringTable;
use crate::transactions::missing_column;
use arrow_array::builder::StringBuilder;
pub(crate) use decoder::TransactionsDecoder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// An open CSV file positioned on its first data record.
pub struct CsvFile {
    /// The path, for messages.
    pub path: PathBuf,
    /// The reader, after the header.
    pub reader: csv::Reader<BufReader<LineLimit<File>>>,
    /// Header names, trimmed and lower-cased.
    pub headers: Vec<String>,
    /// Whether amounts may use a decimal comma (`;`-delimited files).
    pub decimal_comma: bool,
    /// The field delimiter.
    delimiter: u8,
    /// Byte offset of the first data record in the file.
    data_start: u64,
    /// Line number of the first data record.
    data_line: u64,
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

/// The longest record (line) read: a file without line breaks, such as
/// `/dev/zero`, must fail at once rather than grow memory without bound.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The message for a record longer than [`MAX_RECORD_BYTES`].
pub(super) fn record_too_long(line: u64) -> String {
    format!("the record starting on line {line} is longer than 1 MiB: is this a CSV file?")
}

/// A reader that fails on a line longer than [`MAX_RECORD_BYTES`], for the
/// files read through the csv crate, which has no limit of its own.
pub struct LineLimit<R> {
    inner: R,
    /// Lines started so far, 1-based.
    line: u64,
    /// Bytes since the last newline.
    run: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for part in buf[..n].split_inclusive(|&b| b == b'\n') {
            self.run += part.len();
            if self.run > MAX_RECORD_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    record_too_long(self.line),
                ));
            }
            if part.ends_with(b"\n") {
                self.line += 1;
                self.run = 0;
            }
        }
        Ok(n)
    }
}

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
    let limited = LineLimit {
        inner: file,
        line: 1,
        run: 0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, limited));
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
    let after_header = reader.position().clone();
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
        delimiter,
        data_start: start as u64 + after_header.byte(),
        data_line: after_header.line(),
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

/// Converts a CSV parser error into an input error naming the line.
pub fn csv_error(path: &Path, error: csv::Error) -> Error {
    csv_error_after(path, error, 0)
}

/// Like [`csv_error`], for a reader that started `lines_before` lines into the file.
pub(super) fn csv_error_after(path: &Path, error: csv::Error, lines_before: u64) -> Error {
    let line = error.position().map(|p| lines_before + p.line());
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

/// Reads a small CSV file (customers, overrides) whole, as text cells;
/// blank lines are skipped.
pub fn read_string_table(path: &Path) -> Result<StringTable> {
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

#[cfg(test)]
mod tests {
    use super::chunks::{last_record_end, simple_text, trim};
    use super::*;

    #[test]
    fn chunks_end_after_the_last_whole_record() {
        let cases: [(&str, Option<usize>); 7] = [
            ("a,b\nc,d\ne", Some(8)),
            ("a,b\nc,d\n", Some(8)),
            ("a,b", None),
            ("a,\"x\ny\"\nc,d", Some(8)),
            ("a,b\nc,\"x\ny", Some(4)),
            ("a,\"x\ny", None),
            ("a,b\r\nc,\"d\"\r\ne", Some(12)),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                last_record_end(bytes.as_bytes(), b','),
                expected,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn only_quote_free_valid_text_is_split_by_hand() {
        let cases: [(&[u8], bool); 5] = [
            (b"a,b\nc,d\n", true),
            (b"a,b\r\nc,d\r\n", true),
            (b"a,\"b\"\n", false),
            (b"a\rb\n", false),
            (b"a,\xff\n", false),
        ];
        for (bytes, simple) in cases {
            assert_eq!(simple_text(bytes).is_some(), simple, "{bytes:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn quick_trim_is_trim(text in "[ \t\u{a0}\u{2003}a-zé]{0,8}") {
            proptest::prop_assert_eq!(trim(&text), text.trim());
        }
    }

    #[test]
    fn delimiter_comes_from_the_header() {
        assert_eq!(detect_delimiter(b"order_id,customer_id,date,amount"), b',');
        assert_eq!(detect_delimiter(b"order_id;customer_id;date;amount"), b';');
        assert_eq!(detect_delimiter(b"\"a;b\",c"), b',');
    }
}
