//! Reading Parquet exports with the types real tools write: dates as DATE,
//! TIMESTAMP (taken as its UTC date) or ISO text; amounts as DECIMAL, integer
//! currency units, float (rounded half to even at 4 decimals) or text; ids as
//! text or integers. Only the needed columns are decoded.

use crate::error::{id_problem, Error, InputError, Location, Result, MAX_COLLECTED_ERRORS};
use crate::table::StringTable;
use crate::transactions::{
    amount_message, date_message, parse_date_text, ColumnMap, DecodedBatch, Emit, ErrorMode,
    LineReader, Selection, Texts, BATCH_LINES,
};
use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::{Path, PathBuf};
use strata_domain::columns::parse_line_number;
use strata_domain::date::Date;
use strata_domain::money::{Amount, AmountError, ExtraDigits};

fn parquet_error(path: &Path, error: impl std::fmt::Display) -> Error {
    InputError::new(
        path,
        Location::File,
        None,
        format!("cannot read as Parquet: {error}"),
    )
    .into()
}

fn open(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(path, e))
}

fn normalized_names(builder: &ParquetRecordBatchReaderBuilder<File>) -> Vec<String> {
    builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().trim().to_lowercase())
        .collect()
}

/// A typed view of one column of a batch, with the context for messages.
struct ColumnCtx<'a> {
    path: &'a Path,
    name: &'a str,
    first_row: u64,
}

impl ColumnCtx<'_> {
    fn error(&self, index: usize, message: impl Into<String>) -> Error {
        InputError::new(
            self.path,
            Location::Row(self.first_row + index as u64 + 1),
            Some(self.name),
            message,
        )
        .into()
    }

    fn type_error(&self, found: &DataType, expected: &str) -> Error {
        InputError::new(
            self.path,
            Location::Header,
            Some(self.name),
            format!("expected {expected}, found type {found}"),
        )
        .into()
    }

    /// Any column as text (integers, dictionaries, large and view strings).
    fn texts(&self, array: &ArrayRef) -> Result<StringArray> {
        match array.data_type() {
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                let dates = self.dates(array)?;
                Ok(dates.iter().map(|d| d.map(|d| d.to_string())).collect())
            }
            DataType::Utf8 => Ok(array.as_string::<i32>().clone()),
            other => {
                let cast = arrow_cast::cast(array, &DataType::Utf8)
                    .map_err(|_| self.type_error(other, "text or integers"))?;
                Ok(cast.as_string::<i32>().clone())
            }
        }
    }

    fn dates(&self, array: &ArrayRef) -> Result<Vec<Option<Date>>> {
        const DAY_SECONDS: i64 = 86_400;
        // Day numbers out of 0001-01-01..9999-12-31 are errors naming the row.
        let by_day = |values: &mut dyn Iterator<Item = Option<i64>>, per_day: i64| {
            values
                .enumerate()
                .map(|(i, v)| {
                    v.map(|v| {
                        Date::checked_from_days(v.div_euclid(per_day))
                            .map_err(|e| self.error(i, format!("{e}, found the stored value {v}")))
                    })
                    .transpose()
                })
                .collect::<Result<Vec<_>>>()
        };
        Ok(match array.data_type() {
            DataType::Date32 => by_day(
                &mut array
                    .as_primitive::<Date32Type>()
                    .iter()
                    .map(|v| v.map(i64::from)),
                1,
            )?,
            DataType::Date64 => by_day(
                &mut array.as_primitive::<Date64Type>().iter(),
                DAY_SECONDS * 1000,
            )?,
            DataType::Timestamp(unit, _) => {
                let per_day = DAY_SECONDS
                    * match unit {
                        TimeUnit::Second => 1,
                        TimeUnit::Millisecond => 1_000,
                        TimeUnit::Microsecond => 1_000_000,
                        TimeUnit::Nanosecond => 1_000_000_000,
                    };
                let raw = arrow_cast::cast(array, &DataType::Int64)
                    .map_err(|e| parquet_error(self.path, e))?;
                by_day(&mut raw.as_primitive::<Int64Type>().iter(), per_day)?
            }
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(..) => {
                let texts = self.texts(array)?;
                let mut out = Vec::with_capacity(texts.len());
                for (i, text) in texts.iter().enumerate() {
                    out.push(match text.map(str::trim).filter(|t| !t.is_empty()) {
                        None => None,
                        Some(t) => {
                            Some(parse_date_text(t).ok_or_else(|| self.error(i, date_message(t)))?)
                        }
                    });
                }
                out
            }
            other => return Err(self.type_error(other, "a DATE, TIMESTAMP or ISO date text")),
        })
    }

    /// Line numbers: integers, or text holding them; every row has one.
    fn line_numbers(&self, array: &ArrayRef) -> Result<Vec<i64>> {
        let texts = match array.data_type() {
            t if t.is_integer() => arrow_cast::cast(array, &DataType::Utf8)
                .map_err(|_| self.type_error(t, "an integer"))?,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => array.clone(),
            other => return Err(self.type_error(other, "integers or text")),
        };
        let texts = self.texts(&texts)?;
        (0..texts.len())
            .map(|i| {
                if texts.is_null(i) {
                    return Err(self.error(i, "empty value; expected a line number"));
                }
                parse_line_number(texts.value(i)).map_err(|m| self.error(i, m))
            })
            .collect()
    }

    fn amounts(&self, array: &ArrayRef) -> Result<Vec<Option<Amount>>> {
        let data_type = array.data_type();
        let mut out = Vec::with_capacity(array.len());
        match data_type {
            DataType::Decimal32(_, scale)
            | DataType::Decimal64(_, scale)
            | DataType::Decimal128(_, scale)
            | DataType::Decimal256(_, scale) => {
                let decimals = arrow_cast::cast(array, &DataType::Decimal128(38, *scale))
                    .map_err(|_| self.type_error(data_type, "a DECIMAL that fits 38 digits"))?;
                for (i, v) in decimals.as_primitive::<Decimal128Type>().iter().enumerate() {
                    out.push(
                        v.map(|v| {
                            Amount::from_decimal(v, *scale)
                                .map_err(|e| self.error(i, amount_message(e, &v.to_string())))
                        })
                        .transpose()?,
                    );
                }
            }
            t if t.is_integer() => {
                let units = arrow_cast::cast(array, &DataType::Int64)
                    .map_err(|_| self.type_error(t, "an integer"))?;
                for (i, v) in units.as_primitive::<Int64Type>().iter().enumerate() {
                    out.push(
                        v.map(|v| {
                            v.checked_mul(strata_domain::money::SCALE)
                                .map(Amount)
                                .ok_or_else(|| {
                                    self.error(
                                        i,
                                        amount_message(AmountError::TooLarge, &v.to_string()),
                                    )
                                })
                        })
                        .transpose()?,
                    );
                }
            }
            t if t.is_floating() => {
                let floats = arrow_cast::cast(array, &DataType::Float64)
                    .map_err(|_| self.type_error(t, "a float"))?;
                for (i, v) in floats.as_primitive::<Float64Type>().iter().enumerate() {
                    out.push(
                        v.map(|v| {
                            Amount::from_f64(v)
                                .map_err(|e| self.error(i, amount_message(e, &v.to_string())))
                        })
                        .transpose()?,
                    );
                }
            }
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(..) => {
                for (i, text) in self.texts(array)?.iter().enumerate() {
                    out.push(match text.map(str::trim).filter(|t| !t.is_empty()) {
                        None => None,
                        Some(t) => Some(
                            Amount::parse(t, false, ExtraDigits::Reject)
                                .map_err(|e| self.error(i, amount_message(e, t)))?,
                        ),
                    });
                }
            }
            other => {
                return Err(self.type_error(other, "a DECIMAL, integer, float or decimal text"))
            }
        }
        Ok(out)
    }
}

/// Decodes the lines of a Parquet transactions file.
pub(crate) struct TransactionsDecoder {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    names: Vec<String>,
    columns: ColumnMap,
    rows: u64,
    /// Whether to stop at the first bad cell or collect them; Parquet
    /// columns are decoded a batch at a time, so the first bad cell of
    /// each batch is collected.
    errors: ErrorMode,
}

impl TransactionsDecoder {
    /// Opens the file and finds the selected columns in its schema; only
    /// those are decoded.
    pub(crate) fn open(path: &Path, selection: &Selection) -> Result<TransactionsDecoder> {
        let builder = open(path)?;
        let names = normalized_names(&builder);
        let columns = ColumnMap::find(path, &names, selection)?;
        let wanted: Vec<usize> = [
            Some(columns.order),
            Some(columns.customer),
            Some(columns.date),
            Some(columns.amount),
        ]
        .into_iter()
        .chain([
            columns.margin,
            columns.agency,
            columns.brand,
            columns.category,
            columns.status,
            columns.due_date,
            columns.line,
        ])
        .flatten()
        .collect();
        let rows = builder.metadata().file_metadata().num_rows() as u64;
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_LINES)
            .build()
            .map_err(|e| parquet_error(path, e))?;
        Ok(TransactionsDecoder {
            path: path.to_path_buf(),
            reader,
            names,
            columns,
            rows,
            errors: selection.errors,
        })
    }
}

impl LineReader for TransactionsDecoder {
    fn size(&self) -> Option<u64> {
        Some(self.rows)
    }

    fn read(self: Box<Self>, emit: &mut Emit<'_>) -> Result<()> {
        let mut first_row = 0u64;
        let mut found = Vec::new();
        for batch in self.reader {
            let batch = batch.map_err(|e| parquet_error(&self.path, e))?;
            let decoded = decode_batch(&self.path, &batch, &self.names, &self.columns, first_row);
            first_row += batch.num_rows() as u64;
            match decoded {
                Err(Error::Input(problem)) if self.errors == ErrorMode::Collect => {
                    found.push(*problem);
                    if found.len() >= MAX_COLLECTED_ERRORS {
                        break;
                    }
                }
                // Once a cell is bad the run fails: batches go no further.
                Ok(decoded) if found.is_empty() => {
                    if !emit(decoded) {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        match found.is_empty() {
            true => Ok(()),
            false => Err(Error::collected(found)),
        }
    }
}

/// The values of a required column, or an error naming the first empty row.
fn required<T>(ctx: &ColumnCtx<'_>, values: Vec<Option<T>>, what: &str) -> Result<Vec<T>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| ctx.error(i, format!("empty value; expected {what}"))))
        .collect()
}

fn decode_batch(
    path: &Path,
    batch: &RecordBatch,
    names: &[String],
    columns: &ColumnMap,
    first_row: u64,
) -> Result<DecodedBatch> {
    let column = |index: usize| -> (ColumnCtx<'_>, &ArrayRef) {
        let name = &names[index];
        let array = batch.column_by_name(
            batch
                .schema_ref()
                .fields()
                .iter()
                .find(|f| f.name().trim().to_lowercase() == *name)
                .map_or("", |f| f.name()),
        );
        (
            ColumnCtx {
                path,
                name,
                first_row,
            },
            array.expect("projected columns are in the batch"),
        )
    };
    let texts = |index: usize| -> Result<Texts> {
        let (ctx, array) = column(index);
        match array.data_type() {
            DataType::Dictionary(key, value)
                if **key == DataType::Int32 && **value == DataType::Utf8 =>
            {
                Ok(Texts::Dictionary(
                    array.as_dictionary::<Int32Type>().clone(),
                ))
            }
            _ => Ok(Texts::Plain(ctx.texts(array)?)),
        }
    };
    let required_texts = |index: usize| -> Result<StringArray> {
        let (ctx, array) = column(index);
        let texts = ctx.texts(array)?;
        if let Some(row) =
            (0..texts.len()).find(|&i| texts.is_null(i) || texts.value(i).trim().is_empty())
        {
            return Err(ctx.error(row, "empty value"));
        }
        if memchr::memchr(0, texts.values()).is_some() {
            if let Some((row, problem)) =
                (0..texts.len()).find_map(|i| Some((i, id_problem(texts.value(i))?)))
            {
                return Err(ctx.error(row, problem));
            }
        }
        Ok(texts)
    };
    let customer = required_texts(columns.customer)?;
    let order = required_texts(columns.order)?;
    let (date_ctx, date_array) = column(columns.date);
    let date = required(&date_ctx, date_ctx.dates(date_array)?, "a date YYYY-MM-DD")?;
    let (amount_ctx, amount_array) = column(columns.amount);
    let amount = required(&amount_ctx, amount_ctx.amounts(amount_array)?, "an amount")?;
    let margin = columns
        .margin
        .map(|i| {
            let (ctx, array) = column(i);
            Ok::<_, Error>(
                ctx.amounts(array)?
                    .into_iter()
                    .map(|m| m.unwrap_or(Amount::ZERO))
                    .collect(),
            )
        })
        .transpose()?;
    let due_date = columns
        .due_date
        .map(|i| {
            let (ctx, array) = column(i);
            ctx.dates(array)
        })
        .transpose()?;
    let line = columns
        .line
        .map(|i| {
            let (ctx, array) = column(i);
            ctx.line_numbers(array)
        })
        .transpose()?;
    Ok(DecodedBatch {
        customer,
        order,
        date,
        amount,
        margin,
        agency: columns.agency.map(texts).transpose()?,
        brand: columns.brand.map(texts).transpose()?,
        category: columns.category.map(texts).transpose()?,
        status: columns.status.map(texts).transpose()?,
        due_date,
        line,
        position: first_row + batch.num_rows() as u64,
    })
}

/// Reads a whole Parquet file as text cells (customers, overrides).
pub fn read_string_table(path: &Path) -> Result<StringTable> {
    let builder = open(path)?;
    let headers = normalized_names(&builder);
    let reader = builder.build().map_err(|e| parquet_error(path, e))?;
    let mut builders: Vec<StringBuilder> = headers.iter().map(|_| StringBuilder::new()).collect();
    let mut locations = Vec::new();
    let mut first_row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(path, e))?;
        for ((name, array), builder) in headers.iter().zip(batch.columns()).zip(&mut builders) {
            let texts = ColumnCtx {
                path,
                name,
                first_row,
            }
            .texts(array)?;
            for text in texts.iter() {
                builder.append_option(text.map(str::trim).filter(|t| !t.is_empty()));
            }
        }
        locations.extend((0..batch.num_rows() as u64).map(|i| Location::Row(first_row + i + 1)));
        first_row += batch.num_rows() as u64;
    }
    Ok(StringTable {
        path: path.to_path_buf(),
        headers,
        columns: builders.iter_mut().map(StringBuilder::finish).collect(),
        locations,
    })
}

/// The column names of a Parquet file, trimmed and lower-cased.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    Ok(normalized_names(&open(path)?))
}
