//! Opening CSV exports the way ERPs write them: UTF-8 with or without a
//! byte-order mark, `,` or `;` delimiters (detected from the header, `;`
//! allowing decimal commas), case-insensitive trimmed header names.

use crate::error::{Error, InputError, Location, Result};
use crate::transactions::{
    amount_message, parse_date_text, ColumnMap, DecodedBatch, Decoder, Emit, Selection, Texts,
};
use arrow_array::builder::StringBuilder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
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
    csv_error_after(path, error, 0)
}

/// Like [`csv_error`], for a reader that started `lines_before` lines into the file.
fn csv_error_after(path: &Path, error: csv::Error, lines_before: u64) -> Error {
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

/// Bytes of the file decoded as one batch by one thread.
const CHUNK_BYTES: usize = 4 << 20;

/// Decodes the lines of a CSV transactions file: one thread cuts the file
/// into chunks of whole records, the others decode chunks side by side, and
/// the batches come out in file order.
pub(crate) struct TransactionsDecoder {
    path: PathBuf,
    delimiter: u8,
    decimal_comma: bool,
    n_fields: usize,
    data_start: u64,
    data_line: u64,
    columns: ColumnMap,
    size: Option<u64>,
}

impl TransactionsDecoder {
    /// Opens the file and finds the selected columns in its header.
    pub(crate) fn open(path: &Path, selection: &Selection) -> Result<TransactionsDecoder> {
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        let csv = open_csv(path)?;
        let columns = ColumnMap::find(path, &csv.headers, selection)?;
        Ok(TransactionsDecoder {
            path: path.to_path_buf(),
            delimiter: csv.delimiter,
            decimal_comma: csv.decimal_comma,
            n_fields: csv.headers.len(),
            data_start: csv.data_start,
            data_line: csv.data_line,
            columns,
            size,
        })
    }

    /// Reads the file from the first data record and hands out chunks that
    /// end on a record boundary, round-robin to `send`; stops when `send`
    /// returns `false`.
    fn cut_chunks(&self, send: &mut dyn FnMut(usize, Result<Chunk>) -> bool) {
        let opened = File::open(&self.path).and_then(|mut file| {
            file.seek(SeekFrom::Start(self.data_start))?;
            Ok(file)
        });
        let mut file = match opened {
            Ok(file) => file,
            Err(e) => {
                send(0, Err(Error::io(&self.path, e)));
                return;
            }
        };
        let (mut carry, mut line, mut offset) = (Vec::new(), self.data_line, self.data_start);
        // Chunks sent so far: the round-robin position of the next one.
        let mut sent = 0;
        loop {
            let mut bytes = std::mem::take(&mut carry);
            let read = match (&mut file).take(CHUNK_BYTES as u64).read_to_end(&mut bytes) {
                Ok(read) => read,
                Err(e) => {
                    send(sent, Err(Error::io(&self.path, e)));
                    return;
                }
            };
            if bytes.is_empty() {
                return;
            }
            let at_end = read == 0;
            let Some(cut) = (if at_end {
                Some(bytes.len())
            } else {
                last_record_end(&bytes, self.delimiter)
            }) else {
                // Not one whole record yet: read on.
                carry = bytes;
                continue;
            };
            carry = bytes.split_off(cut);
            let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
            offset += bytes.len() as u64;
            let chunk = Chunk {
                bytes,
                first_line: line,
                end: offset,
            };
            line += lines;
            if !send(sent, Ok(chunk)) || at_end {
                return;
            }
            sent += 1;
        }
    }

    /// Decodes the records of one chunk.
    fn decode_chunk(&self, chunk: &Chunk) -> Result<DecodedBatch> {
        let mut batch = Columns::new(&self.columns, chunk.bytes.len() / 64);
        let mut ranges = Vec::with_capacity(self.n_fields);
        match simple_text(&chunk.bytes) {
            // Without quotes or lone carriage returns, CSV is lines split at
            // the delimiter: a split of text already checked as UTF-8 once.
            Some(text) => {
                let mut line_start = 0;
                let line_ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
                for (i, line_end) in line_ends.enumerate() {
                    let line = &text[line_start..line_end];
                    line_start = line_end + 1;
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if line.is_empty() {
                        continue;
                    }
                    ranges.clear();
                    let mut start = 0;
                    for at in memchr::memchr_iter(self.delimiter, line.as_bytes()) {
                        ranges.push(start..at);
                        start = at + 1;
                    }
                    ranges.push(start..line.len());
                    let record = Record {
                        line: Line::Text(line),
                        ranges: &ranges,
                        number: chunk.first_line + i as u64,
                    };
                    self.decode_record(&record, &mut batch)?;
                }
            }
            None => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(self.delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(chunk.bytes.as_slice());
                let mut record = csv::ByteRecord::new();
                loop {
                    match reader.read_byte_record(&mut record) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => return Err(csv_error_after(&self.path, e, chunk.first_line - 1)),
                    }
                    ranges.clear();
                    ranges.extend((0..record.len()).filter_map(|i| record.range(i)));
                    let record = Record {
                        line: Line::Bytes(record.as_slice()),
                        ranges: &ranges,
                        number: chunk.first_line - 1 + record.position().map_or(1, |p| p.line()),
                    };
                    self.decode_record(&record, &mut batch)?;
                }
            }
        }
        Ok(batch.finish(chunk.end))
    }

    /// Decodes one record into the batch.
    fn decode_record(&self, record: &Record<'_>, batch: &mut Columns) -> Result<()> {
        let (path, line, columns) = (self.path.as_path(), record.number, &self.columns);
        let error = |name: Option<&str>, message: String| -> Error {
            InputError::new(path, Location::Line(line), name, message).into()
        };
        if record.ranges.len() != self.n_fields {
            return Err(error(
                None,
                format!(
                    "expected {} fields like the header, found {}",
                    self.n_fields,
                    record.ranges.len()
                ),
            ));
        }
        let text = |index: usize, name: &str| -> Result<&str> {
            let range = record.ranges[index].clone();
            Ok(trim(match record.line {
                Line::Text(text) => &text[range],
                Line::Bytes(bytes) => utf8_field(path, line, name, &bytes[range])?,
            }))
        };
        let required = |index: usize, name: &str, what: &str| -> Result<&str> {
            match text(index, name)? {
                "" => Err(error(Some(name), format!("empty value; expected {what}"))),
                value => Ok(value),
            }
        };
        let amount_of = |name: &str, value: &str| -> Result<Amount> {
            Amount::parse(value, self.decimal_comma, ExtraDigits::Reject)
                .map_err(|e| error(Some(name), amount_message(e, value)))
        };
        let date_of = |name: &str, value: &str| -> Result<Date> {
            parse_date_text(value).ok_or_else(|| {
                error(
                    Some(name),
                    format!("expected a date YYYY-MM-DD, found '{value}'"),
                )
            })
        };
        batch
            .customer
            .append_value(required(columns.customer, "customer_id", "a customer id")?);
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
        Ok(())
    }
}

/// One record's fields, as ranges of its line.
struct Record<'a> {
    line: Line<'a>,
    ranges: &'a [std::ops::Range<usize>],
    /// Line number in the file.
    number: u64,
}

/// A record's bytes: text already checked as UTF-8, or bytes whose fields
/// are checked one by one.
enum Line<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// The chunk as text when plain line splitting reads it exactly as a CSV
/// parser would: valid UTF-8, no quote, every carriage return before a newline.
fn simple_text(bytes: &[u8]) -> Option<&str> {
    if memchr::memchr(b'"', bytes).is_some()
        || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// `str::trim`, quicker on ASCII edges: the Unicode check runs only when
/// an edge is not ASCII.
fn trim(text: &str) -> &str {
    let trimmed = text.trim_ascii();
    match (trimmed.as_bytes().first(), trimmed.as_bytes().last()) {
        (Some(first), Some(last)) if !first.is_ascii() || !last.is_ascii() => trimmed.trim(),
        _ => trimmed,
    }
}

/// A run of whole records of the file.
struct Chunk {
    bytes: Vec<u8>,
    /// Line number of the first record.
    first_line: u64,
    /// Byte offset in the file just after the chunk.
    end: u64,
}

/// Where the last complete record of `bytes` ends, if one does. Without a
/// quote every newline ends a record; with quotes, a newline may sit inside
/// a quoted field, so the CSV state machine itself finds the boundary.
fn last_record_end(bytes: &[u8], delimiter: u8) -> Option<usize> {
    if memchr::memchr(b'"', bytes).is_none() {
        return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
    }
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut output, mut ends) = (vec![0; bytes.len()], vec![0; 64]);
    let (mut position, mut last_end) = (0, None);
    loop {
        let (result, read, _, _) = reader.read_record(&bytes[position..], &mut output, &mut ends);
        position += read;
        match result {
            csv_core::ReadRecordResult::Record => {
                // A record ends at its `\r`; the `\n` of a CRLF goes with it.
                if bytes[..position].ends_with(b"\r") && bytes.get(position) == Some(&b'\n') {
                    position += 1;
                    reader.reset();
                }
                last_end = Some(position);
            }
            csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            csv_core::ReadRecordResult::OutputFull => output.resize(output.len() * 2, 0),
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                return last_end
            }
        }
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
    fn new(map: &ColumnMap, lines: usize) -> Columns {
        let texts = || StringBuilder::with_capacity(lines, 8 * lines);
        Columns {
            customer: texts(),
            order: texts(),
            date: Vec::with_capacity(lines),
            amount: Vec::with_capacity(lines),
            margin: map.margin.map(|_| Vec::with_capacity(lines)),
            agency: map.agency.map(|_| texts()),
            brand: map.brand.map(|_| texts()),
            category: map.category.map(|_| texts()),
            status: map.status.map(|_| texts()),
            due_date: map.due_date.map(|_| Vec::with_capacity(lines)),
        }
    }

    fn finish(self, position: u64) -> DecodedBatch {
        let texts = |builder: Option<StringBuilder>| builder.map(|mut b| Texts::Plain(b.finish()));
        DecodedBatch {
            customer: { self.customer }.finish(),
            order: { self.order }.finish(),
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

    fn decode(self, emit: &mut Emit<'_>) -> Result<()> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let this = &self;
        std::thread::scope(|scope| {
            let mut to_workers = Vec::new();
            let mut from_workers = Vec::new();
            for _ in 0..workers {
                let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Result<Chunk>>(1);
                let (batch_tx, batch_rx) = mpsc::sync_channel::<Result<DecodedBatch>>(1);
                scope.spawn(move || {
                    for chunk in chunk_rx {
                        let batch = chunk.and_then(|chunk| this.decode_chunk(&chunk));
                        if batch_tx.send(batch).is_err() {
                            return;
                        }
                    }
                });
                to_workers.push(chunk_tx);
                from_workers.push(batch_rx);
            }
            scope.spawn(move || {
                this.cut_chunks(&mut |index, chunk| to_workers[index % workers].send(chunk).is_ok())
            });
            for index in 0.. {
                match from_workers[index % workers].recv() {
                    Ok(Ok(batch)) => {
                        if !emit(batch) {
                            break;
                        }
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(mpsc::RecvError) => break,
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
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
