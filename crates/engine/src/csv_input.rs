//! Opening CSV exports the way ERPs write them: UTF-8 with or without a
//! byte-order mark, `,` or `;` delimiters (detected from the header, `;`
//! allowing decimal commas), case-insensitive trimmed header names.

use crate::error::{id_problem, shown, Error, InputError, Location, Result, MAX_COLLECTED_ERRORS};
use crate::table::StringTable;
use crate::transactions::{
    amount_message, date_message, missing_column, parse_date_text, ColumnMap, DecimalSeparator,
    DecodedBatch, Emit, ErrorMode, LineReader, Selection, Texts,
};
use arrow_array::builder::StringBuilder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use strata_domain::columns::LineColumn;
use strata_domain::date::Date;
use strata_domain::money::{Amount, ExtraDigits};

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
fn record_too_long(line: u64) -> String {
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
    /// The separator the user stated (`--decimal`), if any.
    decimal: Option<DecimalSeparator>,
    n_fields: usize,
    data_start: u64,
    data_line: u64,
    columns: ColumnMap,
    size: Option<u64>,
    /// Threads decoding chunks side by side.
    workers: usize,
    /// Whether to stop at the first bad cell or collect them.
    errors: ErrorMode,
}

/// The most decoding threads worth running: beyond, the reader is the limit.
const MAX_WORKERS: usize = 8;

impl TransactionsDecoder {
    /// Opens the file and finds the selected columns in its header; at most
    /// `threads` threads will decode it.
    pub(crate) fn open(
        path: &Path,
        selection: &Selection,
        threads: NonZeroUsize,
    ) -> Result<TransactionsDecoder> {
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        let csv = open_csv(path)?;
        let columns = ColumnMap::find(path, &csv.headers, selection)?;
        if selection.decimal == Some(DecimalSeparator::Comma) && !csv.decimal_comma {
            return Err(InputError::new(
                path,
                Location::Header,
                None,
                "the file is comma-separated, so its amounts cannot use a decimal comma: --decimal , applies to ';' files",
            )
            .into());
        }
        Ok(TransactionsDecoder {
            path: path.to_path_buf(),
            delimiter: csv.delimiter,
            decimal_comma: csv.decimal_comma,
            decimal: selection.decimal,
            n_fields: csv.headers.len(),
            data_start: csv.data_start,
            data_line: csv.data_line,
            columns,
            size,
            workers: threads.get().min(MAX_WORKERS),
            errors: selection.errors,
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
                if bytes.len() > MAX_RECORD_BYTES {
                    let error = InputError::new(
                        &self.path,
                        Location::Line(line),
                        None,
                        record_too_long(line),
                    );
                    send(sent, Err(error.into()));
                    return;
                }
                // Not one whole record yet: read on.
                carry = bytes;
                continue;
            };
            if at_end {
                if let Some(start) = unclosed_quote_start(&bytes, self.delimiter) {
                    let at = line + memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64;
                    let message = "a quoted field opened in this record is never closed before the end of the file";
                    send(
                        sent,
                        Err(InputError::new(&self.path, Location::Line(at), None, message).into()),
                    );
                    return;
                }
            }
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

    /// Decodes the records of one chunk, with the bad cells found when they
    /// are collected.
    fn decode_chunk(
        &self,
        chunk: &Chunk,
    ) -> Result<(DecodedBatch, SeparatorsSeen, Vec<InputError>)> {
        let mut bad = BadCells {
            collect: self.errors == ErrorMode::Collect,
            found: Vec::new(),
        };
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
                    self.decode_record(&record, &mut batch, &mut bad)?;
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
                    self.decode_record(&record, &mut batch, &mut bad)?;
                }
            }
        }
        let (batch, separators) = batch.finish(chunk.end);
        Ok((batch, separators, bad.found))
    }

    /// In a `;` file, where amounts may use a decimal comma: refuses a cell
    /// holding both `,` and `.` (a thousands separator, read as a decimal
    /// point, would make it 1000 times smaller) or the separator the user
    /// did not state, and notes the first line using each separator.
    fn note_separator(
        &self,
        value: &str,
        column: &'static str,
        line: u64,
        seen: &mut SeparatorsSeen,
    ) -> Result<()> {
        if !self.decimal_comma {
            return Ok(());
        }
        let error = |message: String| -> Error {
            InputError::new(&self.path, Location::Line(line), Some(column), message).into()
        };
        let used = match (value.contains(','), value.contains('.')) {
            (false, false) => return Ok(()),
            (true, true) => {
                return Err(error(format!(
                    "'{}' holds both ',' and '.': write amounts without a thousands separator",
                    shown(value)
                )))
            }
            (true, false) => DecimalSeparator::Comma,
            (false, true) => DecimalSeparator::Point,
        };
        if let Some(stated) = self.decimal.filter(|&d| d != used) {
            return Err(error(format!(
                "'{}' uses '{}' where --decimal says '{}'",
                shown(value),
                used.char(),
                stated.char()
            )));
        }
        let first = match used {
            DecimalSeparator::Comma => &mut seen.comma,
            DecimalSeparator::Point => &mut seen.point,
        };
        first.get_or_insert((line, column));
        Ok(())
    }

    /// Decodes one record into the batch.
    fn decode_record(
        &self,
        record: &Record<'_>,
        batch: &mut Columns,
        bad: &mut BadCells,
    ) -> Result<()> {
        let (path, line, columns) = (self.path.as_path(), record.number, &self.columns);
        let error = |name: Option<&str>, message: String| -> Error {
            InputError::new(path, Location::Line(line), name, message).into()
        };
        let length = match record.line {
            Line::Text(text) => text.len(),
            Line::Bytes(bytes) => bytes.len(),
        };
        // A record that cannot be split into its cells is skipped whole.
        if length > MAX_RECORD_BYTES {
            return bad.take(Err(error(None, record_too_long(line))), ());
        }
        if record.ranges.len() != self.n_fields {
            return bad.take(
                Err(error(
                    None,
                    format!(
                        "expected {} fields like the header, found {}",
                        self.n_fields,
                        record.ranges.len()
                    ),
                )),
                (),
            );
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
        // Chunks holding a NUL byte are read as bytes: only then can an id hold one.
        let id = |index: usize, name: &str, what: &str| -> Result<&str> {
            let value = required(index, name, what)?;
            match (&record.line, id_problem(value)) {
                (Line::Bytes(_), Some(problem)) => Err(error(Some(name), problem)),
                _ => Ok(value),
            }
        };
        let amount_of = |name: &str, value: &str| -> Result<Amount> {
            Amount::parse(value, self.decimal_comma, ExtraDigits::Reject)
                .map_err(|e| error(Some(name), amount_message(e, value)))
        };
        let date_of = |name: &str, value: &str| -> Result<Date> {
            parse_date_text(value).ok_or_else(|| error(Some(name), date_message(value)))
        };
        // In the mode that collects bad cells, each bad cell is noted and
        // decoding goes on with a stand-in value: every column keeps one
        // value per line, and the run fails at the end anyway.
        let customer = id(
            columns.customer,
            LineColumn::CustomerId.name(),
            "a customer id",
        );
        batch.customer.append_value(bad.take(customer, "")?);
        let order = id(columns.order, LineColumn::OrderId.name(), "an order id");
        batch.order.append_value(bad.take(order, "")?);
        let date = required(columns.date, LineColumn::Date.name(), "a date YYYY-MM-DD")
            .and_then(|date| date_of(LineColumn::Date.name(), date));
        batch.date.push(bad.take(date, Date::MIN)?);
        let amount =
            required(columns.amount, LineColumn::Amount.name(), "an amount").and_then(|amount| {
                self.note_separator(
                    amount,
                    LineColumn::Amount.name(),
                    line,
                    &mut batch.separators,
                )?;
                amount_of(LineColumn::Amount.name(), amount)
            });
        batch.amount.push(bad.take(amount, Amount::ZERO)?);
        if let (Some(index), Some(margins)) = (columns.margin, &mut batch.margin) {
            let margin = text(index, LineColumn::Margin.name()).and_then(|value| match value {
                "" => Ok(Amount::ZERO),
                value => {
                    self.note_separator(
                        value,
                        LineColumn::Margin.name(),
                        line,
                        &mut batch.separators,
                    )?;
                    amount_of(LineColumn::Margin.name(), value)
                }
            });
            margins.push(bad.take(margin, Amount::ZERO)?);
        }
        for (index, column, builder) in [
            (columns.agency, LineColumn::Agency, &mut batch.agency),
            (columns.brand, LineColumn::Brand, &mut batch.brand),
            (columns.category, LineColumn::Category, &mut batch.category),
            (columns.status, LineColumn::Status, &mut batch.status),
        ] {
            if let (Some(index), Some(builder)) = (index, builder) {
                builder.append_value(bad.take(text(index, column.name()), "")?);
            }
        }
        if let (Some(index), Some(due_dates)) = (columns.due_date, &mut batch.due_date) {
            let due = text(index, LineColumn::DueDate.name()).and_then(|value| match value {
                "" => Ok(None),
                value => date_of(LineColumn::DueDate.name(), value).map(Some),
            });
            due_dates.push(bad.take(due, None)?);
        }
        Ok(())
    }
}

/// The bad cells of a chunk, in the mode that collects them.
struct BadCells {
    /// Whether bad cells are collected rather than stopping the reading.
    collect: bool,
    /// The problems found, in line order.
    found: Vec<InputError>,
}

impl BadCells {
    /// The decoded value; when collecting, a bad cell's problem is noted
    /// and `stand_in` takes its place. Problems other than a bad cell stop.
    fn take<T>(&mut self, decoded: Result<T>, stand_in: T) -> Result<T> {
        match decoded {
            Err(Error::Input(problem)) if self.collect => {
                self.found.push(*problem);
                Ok(stand_in)
            }
            other => other,
        }
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
/// parser would: valid UTF-8, no quote, every carriage return before a
/// newline; and no NUL byte, so that ids need no check of their own.
fn simple_text(bytes: &[u8]) -> Option<&str> {
    if memchr::memchr2(b'"', 0, bytes).is_some()
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

/// Where the last record of a file's final bytes starts, when that record
/// ends inside a quoted field: a newline appended to it would not end it.
fn unclosed_quote_start(bytes: &[u8], delimiter: u8) -> Option<usize> {
    let start = last_record_end(bytes, delimiter).unwrap_or(0);
    let tail = &bytes[start..];
    memchr::memchr(b'"', tail)?;
    let mut closed = tail.to_vec();
    closed.push(b'\n');
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut output, mut ends) = (vec![0; closed.len()], vec![0; closed.len() + 1]);
    let (result, ..) = reader.read_record(&closed, &mut output, &mut ends);
    (result != csv_core::ReadRecordResult::Record).then_some(start)
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
    separators: SeparatorsSeen,
}

/// The first line (and column) of a chunk whose amount uses each decimal separator.
#[derive(Default, Clone, Copy)]
struct SeparatorsSeen {
    comma: Option<(u64, &'static str)>,
    point: Option<(u64, &'static str)>,
}

impl SeparatorsSeen {
    /// Folds in the next chunk's, in file order; fails at the first line
    /// using the other separator than the lines before it.
    fn then(&mut self, next: SeparatorsSeen, path: &Path) -> Result<()> {
        let (comma, point) = (self.comma.or(next.comma), self.point.or(next.point));
        if let (Some(c), Some(p)) = (comma, point) {
            let ((line, column), used, first) = if c.0 > p.0 { (c, ',', p) } else { (p, '.', c) };
            let other = if used == ',' { '.' } else { ',' };
            return Err(InputError::new(
                path,
                Location::Line(line),
                Some(column),
                format!(
                    "uses '{used}' as the decimal separator where line {} uses '{other}': amounts of a ';' file use one separator; say which with --decimal , or --decimal .",
                    first.0
                ),
            )
            .into());
        }
        *self = SeparatorsSeen { comma, point };
        Ok(())
    }
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
            separators: SeparatorsSeen::default(),
        }
    }

    fn finish(self, position: u64) -> (DecodedBatch, SeparatorsSeen) {
        let texts = |builder: Option<StringBuilder>| builder.map(|mut b| Texts::Plain(b.finish()));
        let batch = DecodedBatch {
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
        };
        (batch, self.separators)
    }
}

impl LineReader for TransactionsDecoder {
    fn size(&self) -> Option<u64> {
        self.size
    }

    fn read(self: Box<Self>, emit: &mut Emit<'_>) -> Result<()> {
        let workers = self.workers;
        let this = &self;
        std::thread::scope(|scope| {
            let mut to_workers = Vec::new();
            let mut from_workers = Vec::new();
            for _ in 0..workers {
                let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Result<Chunk>>(1);
                let (batch_tx, batch_rx) = mpsc::sync_channel::<
                    Result<(DecodedBatch, SeparatorsSeen, Vec<InputError>)>,
                >(1);
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
            let mut separators = SeparatorsSeen::default();
            let mut found: Vec<InputError> = Vec::new();
            for index in 0.. {
                match from_workers[index % workers].recv() {
                    Ok(Ok((batch, seen, bad))) => {
                        separators.then(seen, &this.path)?;
                        found.extend(bad);
                        if found.len() >= MAX_COLLECTED_ERRORS {
                            break;
                        }
                        // Once a cell is bad the run fails: batches go no further.
                        if found.is_empty() && !emit(batch) {
                            break;
                        }
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(mpsc::RecvError) => break,
                }
            }
            match found.is_empty() {
                true => Ok(()),
                false => Err(Error::collected(found)),
            }
        })
    }
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
