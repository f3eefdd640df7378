//! Opening CSV exports the way ERPs write them: UTF-8 with or without a
//! byte-order mark, `,` or `;` delimiters (detected from the header, `;`
//! allowing decimal commas), case-insensitive trimmed header names.

use crate::error::{Error, InputError, Location, Result};
use crate::transactions::{
    amount_message, parse_date_text, ColumnMap, DecodedBatch, Decoder, Emit, Selection, Texts,
    BATCH_LINES,
};
use arrow_array::builder::StringBuilder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use strata_domain::date::Date;
use strata_domain::money::{Amount, ExtraDigits};

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

/// Decodes the lines of a CSV transactions file.
pub(crate) struct TransactionsDecoder {
    csv: CsvFile,
    columns: ColumnMap,
    size: Option<u64>,
}

impl TransactionsDecoder {
    /// Opens the file and finds the selected columns in its header.
    pub(crate) fn open(path: &Path, selection: &Selection) -> Result<TransactionsDecoder> {
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        let csv = open_csv(path)?;
        let columns = ColumnMap::find(path, &csv.headers, selection)?;
        Ok(TransactionsDecoder { csv, columns, size })
    }
}

/// The columns of a batch being decoded.
struct Columns {
    customer: StringBuilder,
    order: StringBuilder,
    date: Vec<Date>,
    amount: Vec<Amount>,
    margin: Option<Vec<Amount>>,
    agency: Option<StringBuilder>,
    brand: Option<StringBuilder>,
    category: Option<StringBuilder>,
    status: Option<StringBuilder>,
    due_date: Option<Vec<Option<Date>>>,
}

impl Columns {
    fn new(map: &ColumnMap) -> Columns {
        let texts = |index: Option<usize>| {
            index.map(|_| StringBuilder::with_capacity(BATCH_LINES, 8 * BATCH_LINES))
        };
        Columns {
            customer: StringBuilder::with_capacity(BATCH_LINES, 8 * BATCH_LINES),
            order: StringBuilder::with_capacity(BATCH_LINES, 8 * BATCH_LINES),
            date: Vec::with_capacity(BATCH_LINES),
            amount: Vec::with_capacity(BATCH_LINES),
            margin: map.margin.map(|_| Vec::with_capacity(BATCH_LINES)),
            agency: texts(map.agency),
            brand: texts(map.brand),
            category: texts(map.category),
            status: texts(map.status),
            due_date: map.due_date.map(|_| Vec::with_capacity(BATCH_LINES)),
        }
    }

    fn finish(self, position: u64) -> DecodedBatch {
        let texts = |builder: Option<StringBuilder>| builder.map(|mut b| Texts::Plain(b.finish()));
        DecodedBatch {
            customer: Texts::Plain({ self.customer }.finish()),
            order: Texts::Plain({ self.order }.finish()),
            date: self.date,
            amount: self.amount,
            margin: self.margin,
            agency: texts(self.agency),
            brand: texts(self.brand),
            category: texts(self.category),
            status: texts(self.status),
            due_date: self.due_date,
            position,
        }
    }
}

impl Decoder for TransactionsDecoder {
    fn size(&self) -> Option<u64> {
        self.size
    }

    fn decode(self, emit: &mut Emit<'_>) -> Result<u64> {
        let TransactionsDecoder {
            mut csv,
            columns,
            size,
        } = self;
        let path = csv.path.as_path();
        let decimal_comma = csv.decimal_comma;
        let mut record = csv::ByteRecord::new();
        let mut lines = 0u64;
        let mut batch = Columns::new(&columns);
        loop {
            match csv.reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(path, e)),
            }
            let line = record.position().map_or(0, |p| p.line());
            let error = |name: &str, message: String| -> Error {
                InputError::new(path, Location::Line(line), Some(name), message).into()
            };
            let text = |index: usize, name: &str| -> Result<&str> {
                Ok(utf8_field(path, line, name, &record[index])?.trim())
            };
            let required = |index: usize, name: &str, what: &str| -> Result<&str> {
                match text(index, name)? {
                    "" => Err(error(name, format!("empty value; expected {what}"))),
                    value => Ok(value),
                }
            };
            let amount_of = |name: &str, value: &str| -> Result<Amount> {
                Amount::parse(value, decimal_comma, ExtraDigits::Reject)
                    .map_err(|e| error(name, amount_message(e, value)))
            };
            let date_of = |name: &str, value: &str| -> Result<Date> {
                parse_date_text(value).ok_or_else(|| {
                    error(name, format!("expected a date YYYY-MM-DD, found '{value}'"))
                })
            };
            batch.customer.append_value(required(
                columns.customer,
                "customer_id",
                "a customer id",
            )?);
            batch
                .order
                .append_value(required(columns.order, "order_id", "an order id")?);
            let date = required(columns.date, "date", "a date YYYY-MM-DD")?;
            batch.date.push(date_of("date", date)?);
            let amount = required(columns.amount, "amount", "an amount")?;
            batch.amount.push(amount_of("amount", amount)?);
            if let (Some(index), Some(margins)) = (columns.margin, &mut batch.margin) {
                margins.push(match text(index, "margin")? {
                    "" => Amount::ZERO,
                    value => amount_of("margin", value)?,
                });
            }
            for (index, name, builder) in [
                (columns.agency, "agency", &mut batch.agency),
                (columns.brand, "brand", &mut batch.brand),
                (columns.category, "category", &mut batch.category),
                (columns.status, "status", &mut batch.status),
            ] {
                if let (Some(index), Some(builder)) = (index, builder) {
                    builder.append_value(text(index, name)?);
                }
            }
            if let (Some(index), Some(due_dates)) = (columns.due_date, &mut batch.due_date) {
                due_dates.push(match text(index, "due_date")? {
                    "" => None,
                    value => Some(date_of("due_date", value)?),
                });
            }
            lines += 1;
            if batch.date.len() >= BATCH_LINES {
                let position = record.position().map_or(0, |p| p.byte());
                let full = std::mem::replace(&mut batch, Columns::new(&columns));
                if !emit(full.finish(position)) {
                    return Ok(lines);
                }
            }
        }
        if !batch.date.is_empty() {
            emit(batch.finish(size.unwrap_or(0)));
        }
        Ok(lines)
    }
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
