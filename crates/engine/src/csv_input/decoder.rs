//! Decoding a CSV transactions file on every core: chunks of whole records
//! decoded side by side, batches handed on in file order.

use super::chunks::{last_record_end, simple_text, trim, unclosed_quote_start, Chunk};
use super::{csv_error_after, open_csv, record_too_long, utf8_field, MAX_RECORD_BYTES};
use crate::error::{id_problem, shown, Error, InputError, Location, Result, MAX_COLLECTED_ERRORS};
use crate::transactions::{
    amount_message, date_message, parse_date_text, ColumnMap, DecimalSeparator, DecodedBatch, Emit,
    ErrorMode, LineReader, Selection, Texts,
};
use arrow_array::builder::StringBuilder;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use strata_domain::columns::{parse_line_number, LineColumn};
use strata_domain::date::Date;
use strata_domain::money::{Amount, ExtraDigits};

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
        if let (Some(index), Some(numbers)) = (columns.line, &mut batch.line) {
            let number =
                required(index, LineColumn::Line.name(), "a line number").and_then(|value| {
                    parse_line_number(value).map_err(|m| error(Some(LineColumn::Line.name()), m))
                });
            numbers.push(bad.take(number, 1)?);
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
    line: Option<Vec<i64>>,
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
            line: map.line.map(|_| Vec::with_capacity(lines)),
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
            line: self.line,
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
