//! Synthetic sales histories for demos, tests and benchmarks: customers with
//! shared e-mails and VAT numbers, birthdays, roles and agencies; multi-line
//! orders with returns, several agencies, brands and categories, long-tailed
//! spend and some open orders with a status and a due date.

use arrow_array::builder::{Date32Builder, Decimal128Builder, Int32Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_domain::columns::{CustomerColumn, LineColumn};
use strata_domain::date::Date;

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The specification asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// Writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
}

impl Error {
    fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The result of generating.
pub type Result<T> = std::result::Result<T, Error>;

/// The file format to write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated text.
    Csv,
    /// Apache Parquet with typed columns.
    Parquet,
}

/// How orders are spread over customers and time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Each customer places 1 to 14 orders over its own active period, 1 to 6
    /// lines each; the file lists customer after customer.
    Classic,
    /// About 20 lines per customer on average with activity strongly skewed:
    /// each order's customer index is `floor(u^2.2 x customers)`, so a few
    /// customers have thousands of orders. 1 to 4 lines per order, about 4 %
    /// of orders are returns, dates uniform over three years; the file lists
    /// orders by date, as an export does.
    Skewed,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Number of customer accounts.
    pub customers: usize,
    /// How orders are spread over customers and time.
    pub shape: Shape,
    /// Random seed: the same seed and end date give the same files.
    pub seed: u64,
    /// The last day of the history.
    pub end: Date,
    /// Output format.
    pub format: Format,
}

/// The most customers `generate` writes.
pub const MAX_CUSTOMERS: usize = 50_000_000;

/// Days before the end that the earliest generated date may lie: three years
/// of history and customer accounts created up to 400 days before their first order.
const EARLIEST_DAY_BEFORE_END: i32 = HISTORY_DAYS + 400;

impl Spec {
    /// Refuses a spec whose files could not be written or read back.
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_CUSTOMERS).contains(&self.customers) {
            return Err(Error::Usage(format!(
                "--customers must be from 1 to {MAX_CUSTOMERS}, found {}",
                self.customers
            )));
        }
        let earliest_end = Date::from_days(Date::MIN.days() + EARLIEST_DAY_BEFORE_END);
        if self.end < earliest_end {
            return Err(Error::Usage(format!(
                "--end must be {earliest_end} or later, found {}: the history covers the years before it, and dates start at {}",
                self.end,
                Date::MIN
            )));
        }
        Ok(())
    }
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The customers file.
    pub customers_path: PathBuf,
    /// The transactions file.
    pub transactions_path: PathBuf,
    /// Number of transaction lines.
    pub lines: u64,
}

const AGENCIES: [&str; 5] = ["Lyon", "Paris", "Marseille", "Lille", "Bordeaux"];
const BRANDS: [&str; 8] = [
    "Bosch",
    "Valeo",
    "Mann",
    "Febi",
    "SKF",
    "Continental",
    "Hella",
    "NGK",
];
const CATEGORIES: [&str; 7] = [
    "brakes",
    "filters",
    "lighting",
    "pressing",
    "retouches",
    "engine",
    "tyres",
];
const NAMES: [&str; 8] = [
    "Garage",
    "Carrosserie",
    "Auto",
    "Pneus",
    "Atelier",
    "Relais",
    "Station",
    "Méca",
];
const TOWNS: [&str; 8] = [
    "Lyon", "Paris", "Annecy", "Lille", "Nantes", "Dijon", "Brest", "Nice",
];
const REGIONS: [&str; 4] = [
    "Auvergne-Rhône-Alpes",
    "Île-de-France",
    "Hauts-de-France",
    "Bretagne",
];
const HISTORY_DAYS: i32 = 3 * 365;

/// One transaction line.
struct Line<'a> {
    order_id: &'a str,
    customer_id: &'a str,
    date: Date,
    /// Amount in cents.
    amount_cents: i64,
    margin_cents: i64,
    agency: &'a str,
    brand: &'a str,
    category: &'a str,
    quantity: i32,
    status: &'a str,
    due_date: Option<Date>,
}

trait LineSink {
    fn push(&mut self, line: &Line<'_>) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<()>;
}

fn cents(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", value.abs() / 100, value.abs() % 100)
}

struct CsvLines {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl LineSink for CsvLines {
    fn push(&mut self, l: &Line<'_>) -> Result<()> {
        let due = l.due_date.map(|d| d.to_string()).unwrap_or_default();
        self.writer
            .write_record([
                l.order_id,
                l.customer_id,
                &l.date.to_string(),
                &cents(l.amount_cents),
                &cents(l.margin_cents),
                l.agency,
                l.brand,
                l.category,
                &l.quantity.to_string(),
                l.status,
                &due,
            ])
            .map_err(|e| Error::io(&self.path, e.into()))
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))
    }
}

const PARQUET_BATCH: usize = 256 * 1024;

struct ParquetLines {
    path: PathBuf,
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    order_id: StringBuilder,
    customer_id: StringBuilder,
    date: Date32Builder,
    amount: Decimal128Builder,
    margin: Decimal128Builder,
    agency: StringBuilder,
    brand: StringBuilder,
    category: StringBuilder,
    quantity: Int32Builder,
    status: StringBuilder,
    due_date: Date32Builder,
    rows: usize,
}

fn transaction_schema() -> Arc<Schema> {
    let money = DataType::Decimal128(14, 2);
    Arc::new(Schema::new(vec![
        Field::new(LineColumn::OrderId.name(), DataType::Utf8, false),
        Field::new(LineColumn::CustomerId.name(), DataType::Utf8, false),
        Field::new(LineColumn::Date.name(), DataType::Date32, false),
        Field::new(LineColumn::Amount.name(), money.clone(), false),
        Field::new(LineColumn::Margin.name(), money, false),
        Field::new(LineColumn::Agency.name(), DataType::Utf8, true),
        Field::new(LineColumn::Brand.name(), DataType::Utf8, true),
        Field::new(LineColumn::Category.name(), DataType::Utf8, true),
        // Exports carry columns Strata does not read, such as a quantity.
        Field::new("quantity", DataType::Int32, false),
        Field::new(LineColumn::Status.name(), DataType::Utf8, true),
        Field::new(LineColumn::DueDate.name(), DataType::Date32, true),
    ]))
}

impl ParquetLines {
    fn create(path: &Path) -> Result<ParquetLines> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let schema = transaction_schema();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        let decimal = || Decimal128Builder::new().with_data_type(DataType::Decimal128(14, 2));
        Ok(ParquetLines {
            path: path.to_path_buf(),
            writer,
            schema,
            order_id: StringBuilder::new(),
            customer_id: StringBuilder::new(),
            date: Date32Builder::new(),
            amount: decimal(),
            margin: decimal(),
            agency: StringBuilder::new(),
            brand: StringBuilder::new(),
            category: StringBuilder::new(),
            quantity: Int32Builder::new(),
            status: StringBuilder::new(),
            due_date: Date32Builder::new(),
            rows: 0,
        })
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.customer_id.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.margin.finish()),
            Arc::new(self.agency.finish()),
            Arc::new(self.brand.finish()),
            Arc::new(self.category.finish()),
            Arc::new(self.quantity.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.due_date.finish()),
        ];
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        self.writer
            .write(&batch)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        self.rows = 0;
        Ok(())
    }
}

impl LineSink for ParquetLines {
    fn push(&mut self, l: &Line<'_>) -> Result<()> {
        self.order_id.append_value(l.order_id);
        self.customer_id.append_value(l.customer_id);
        self.date.append_value(l.date.days());
        self.amount.append_value(i128::from(l.amount_cents));
        self.margin.append_value(i128::from(l.margin_cents));
        self.agency.append_value(l.agency);
        self.brand.append_value(l.brand);
        self.category.append_value(l.category);
        self.quantity.append_value(l.quantity);
        self.status.append_value(l.status);
        self.due_date.append_option(l.due_date.map(Date::days));
        self.rows += 1;
        if self.rows >= PARQUET_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        Ok(())
    }
}

/// A customer's profile, drawn once.
struct Profile {
    id: String,
    agency: &'static str,
    /// Typical line amount in cents.
    scale: f64,
    /// First and last active day (day numbers).
    active: (i32, i32),
    orders: u32,
}

/// Writes `customers.{csv,parquet}` and `transactions.{csv,parquet}` into `dir`.
pub fn generate(spec: &Spec, dir: &Path) -> Result<Generated> {
    spec.check()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let extension = match spec.format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let start = spec.end.days() - HISTORY_DAYS;
    let spend = LogNormal::new(9.0, 1.1).expect("valid log-normal parameters");
    let mut profiles = Vec::with_capacity(spec.customers);
    let mut customer_rows: Vec<[String; 12]> = Vec::with_capacity(spec.customers);
    for i in 0..spec.customers {
        let id = format!("C{:07}", i + 1);
        let agency = AGENCIES[rng.random_range(0..AGENCIES.len())];
        let first_active = start + rng.random_range(0..HISTORY_DAYS * 3 / 4);
        let churned = rng.random_bool(0.3);
        let last_active = if churned {
            rng.random_range(first_active..=spec.end.days())
        } else {
            spec.end.days()
        };
        let orders = 1 + (rng.random::<f64>().powi(2) * 13.0) as u32;
        profiles.push(Profile {
            id: id.clone(),
            agency,
            scale: spend.sample(&mut rng),
            active: (first_active, last_active),
            orders,
        });
        // Shared VAT numbers: about one account in ten belongs to the group of the previous one.
        let vat = if i > 0 && rng.random_bool(0.1) {
            customer_rows[i - 1][4].clone()
        } else if rng.random_bool(0.8) {
            format!("FR{:011}", rng.random_range(0..99_999_999_999u64))
        } else {
            String::new()
        };
        let name = format!(
            "{} {} {}",
            NAMES[rng.random_range(0..NAMES.len())],
            TOWNS[rng.random_range(0..TOWNS.len())],
            i + 1
        );
        let name = if i % 97 == 0 {
            format!("{name}, \"Dupont\" & fils")
        } else {
            name
        };
        let email = if i > 0 && rng.random_bool(0.02) {
            customer_rows[i - 1][2].clone()
        } else {
            format!("contact{}@example.com", i + 1)
        };
        let birthday = if i % 211 == 0 {
            Date::from_ymd(1984, 2, 29)
        } else {
            Date::from_ymd(
                rng.random_range(1950..2005),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            )
        }
        .expect("valid birthday");
        let created = Date::from_days(first_active - rng.random_range(0..400));
        customer_rows.push([
            id,
            name,
            email,
            agency.to_owned(),
            vat,
            if rng.random_bool(0.7) {
                "pro"
            } else {
                "private"
            }
            .to_owned(),
            birthday.to_string(),
            created.to_string(),
            REGIONS[rng.random_range(0..REGIONS.len())].to_owned(),
            if rng.random_bool(0.5) { "M" } else { "F" }.to_owned(),
            format!("{:05}", rng.random_range(1000..96000)),
            String::new(),
        ]);
    }
    let customers_path = dir.join(format!("customers.{extension}"));
    write_customers(&customers_path, spec.format, &customer_rows)?;

    let transactions_path = dir.join(format!("transactions.{extension}"));
    let mut sink: Box<dyn LineSink> = match spec.format {
        Format::Csv => {
            let file =
                File::create(&transactions_path).map_err(|e| Error::io(&transactions_path, e))?;
            let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
            let header = transaction_schema();
            writer
                .write_record(header.fields().iter().map(|f| f.name()))
                .map_err(|e| Error::io(&transactions_path, e.into()))?;
            Box::new(CsvLines {
                path: transactions_path.clone(),
                writer,
            })
        }
        Format::Parquet => Box::new(ParquetLines::create(&transactions_path)?),
    };
    let lines = match spec.shape {
        Shape::Classic => classic_orders(&profiles, spec.end, &mut rng, sink.as_mut())?,
        Shape::Skewed => skewed_orders(&profiles, spec.end, &mut rng, sink.as_mut())?,
    };
    sink.finish()?;
    Ok(Generated {
        customers_path,
        transactions_path,
        lines,
    })
}

/// Writes each customer's orders over its active period, customer after customer.
fn classic_orders(
    profiles: &[Profile],
    end: Date,
    rng: &mut ChaCha8Rng,
    sink: &mut dyn LineSink,
) -> Result<u64> {
    let mut lines = 0u64;
    let mut order_number = 0u64;
    for profile in profiles {
        let favourite_brand = rng.random_range(0..BRANDS.len());
        for _ in 0..profile.orders {
            order_number += 1;
            let day = rng.random_range(profile.active.0..=profile.active.1);
            let order = Order {
                number: order_number,
                profile,
                favourite_brand,
                day,
            };
            lines += write_order(&order, end, rng, sink, |rng| {
                1 + rng.random_range(0..5) + rng.random_range(0..2)
            })?;
        }
    }
    Ok(lines)
}

/// Orders per customer in the skewed shape: with 1 to 4 lines each, about 20
/// lines per customer.
const SKEWED_ORDERS_PER_CUSTOMER: usize = 8;

/// Draws every order's customer as `floor(u^2.2 x customers)` and its day
/// uniformly over three years, then writes the orders by date.
fn skewed_orders(
    profiles: &[Profile],
    end: Date,
    rng: &mut ChaCha8Rng,
    sink: &mut dyn LineSink,
) -> Result<u64> {
    let favourite_brands: Vec<usize> = profiles
        .iter()
        .map(|_| rng.random_range(0..BRANDS.len()))
        .collect();
    let n_customers = profiles.len();
    let first_day = end.days() - HISTORY_DAYS + 1;
    let mut orders: Vec<(i32, usize)> = (0..n_customers * SKEWED_ORDERS_PER_CUSTOMER)
        .map(|_| {
            let u: f64 = rng.random();
            let customer = ((u.powf(2.2) * n_customers as f64) as usize).min(n_customers - 1);
            (rng.random_range(first_day..=end.days()), customer)
        })
        .collect();
    orders.sort_unstable();
    let mut lines = 0u64;
    for (number, &(day, customer)) in (1u64..).zip(&orders) {
        let order = Order {
            number,
            profile: &profiles[customer],
            favourite_brand: favourite_brands[customer],
            day,
        };
        lines += write_order(&order, end, rng, sink, |rng| rng.random_range(1..=4))?;
    }
    Ok(lines)
}

/// One order to write: its number, customer and day.
struct Order<'a> {
    number: u64,
    profile: &'a Profile,
    favourite_brand: usize,
    day: i32,
}

/// Writes the lines of one order (about 4 % of orders are returns, with
/// negative lines; recent ones may be open); returns how many it wrote.
fn write_order(
    order: &Order<'_>,
    end: Date,
    rng: &mut ChaCha8Rng,
    sink: &mut dyn LineSink,
    n_lines: impl FnOnce(&mut ChaCha8Rng) -> u32,
) -> Result<u64> {
    let Order {
        number,
        profile,
        favourite_brand,
        day,
    } = *order;
    let order_id = format!("O{number:09}");
    let is_return = rng.random_bool(0.04);
    let recent = end.days() - day < 30;
    let open = recent && rng.random_bool(0.15);
    let status = if open { "ready" } else { "completed" };
    let due_date = open.then(|| Date::from_days(day + rng.random_range(1..20)));
    let agency = if rng.random_bool(0.05) {
        AGENCIES[rng.random_range(0..AGENCIES.len())]
    } else {
        profile.agency
    };
    let n_lines = n_lines(rng);
    for line_no in 0..n_lines {
        let brand = if rng.random_bool(0.5) {
            favourite_brand
        } else {
            rng.random_range(0..BRANDS.len())
        };
        let quantity = rng.random_range(1..=10);
        let mut amount = ((profile.scale * rng.random_range(0.3..1.7)) / 3.0).round() as i64;
        if is_return {
            amount = -amount;
        }
        let margin = (amount as f64 * rng.random_range(0.1..0.4)).round() as i64;
        sink.push(&Line {
            order_id: &order_id,
            customer_id: &profile.id,
            // Lines of one order may be invoiced over a few days.
            date: Date::from_days(
                (day + line_no.min(1) as i32 * rng.random_range(0..3)).min(end.days()),
            ),
            amount_cents: amount,
            margin_cents: margin,
            agency,
            brand: BRANDS[brand],
            category: CATEGORIES[rng.random_range(0..CATEGORIES.len())],
            quantity,
            status,
            due_date,
        })?;
    }
    Ok(u64::from(n_lines))
}

const CUSTOMER_COLUMNS: [&str; 12] = [
    CustomerColumn::CustomerId.name(),
    CustomerColumn::Name.name(),
    CustomerColumn::Email.name(),
    CustomerColumn::Agency.name(),
    CustomerColumn::Vat.name(),
    CustomerColumn::Role.name(),
    CustomerColumn::Birthday.name(),
    CustomerColumn::CreatedAt.name(),
    "region",
    "gender",
    "postcode",
    "note",
];

fn write_customers(path: &Path, format: Format, rows: &[[String; 12]]) -> Result<()> {
    match format {
        Format::Csv => {
            let file = File::create(path).map_err(|e| Error::io(path, e))?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            writer
                .write_record(CUSTOMER_COLUMNS)
                .map_err(|e| Error::io(path, e.into()))?;
            for row in rows {
                writer
                    .write_record(row)
                    .map_err(|e| Error::io(path, e.into()))?;
            }
            writer.flush().map_err(|e| Error::io(path, e))
        }
        Format::Parquet => {
            let schema = Arc::new(Schema::new(
                CUSTOMER_COLUMNS
                    .iter()
                    .map(|c| Field::new(*c, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ));
            let columns: Vec<ArrayRef> = (0..CUSTOMER_COLUMNS.len())
                .map(|c| {
                    let mut builder = StringBuilder::new();
                    for row in rows {
                        if row[c].is_empty() {
                            builder.append_null();
                        } else {
                            builder.append_value(&row[c]);
                        }
                    }
                    Arc::new(builder.finish()) as ArrayRef
                })
                .collect();
            let other =
                |e: &dyn std::fmt::Display| Error::io(path, std::io::Error::other(e.to_string()));
            let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| other(&e))?;
            let file = File::create(path).map_err(|e| Error::io(path, e))?;
            let mut writer = ArrowWriter::try_new(file, schema, None).map_err(|e| other(&e))?;
            writer.write(&batch).map_err(|e| other(&e))?;
            writer.close().map_err(|e| other(&e))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn skewed_shape_has_20_lines_per_customer_a_few_heavy_customers_and_unique_orders() {
        let dir = tempfile::tempdir().unwrap();
        let end = Date::from_ymd(2024, 12, 31).unwrap();
        let spec = Spec {
            customers: 5000,
            shape: Shape::Skewed,
            seed: 3,
            end,
            format: Format::Csv,
        };
        let generated = generate(&spec, dir.path()).unwrap();
        let mut reader = csv::Reader::from_path(&generated.transactions_path).unwrap();
        // order id -> (customer, lines, negative lines)
        let mut orders: HashMap<String, (String, u32, u32)> = HashMap::new();
        let mut order_sequence: Vec<String> = Vec::new();
        let mut previous_day = i32::MIN;
        let mut lines = 0u64;
        for record in reader.records() {
            let record = record.unwrap();
            let day = Date::parse_iso(&record[2]).unwrap().days();
            assert!(
                day > end.days() - HISTORY_DAYS && day <= end.days(),
                "three years"
            );
            let entry = orders.entry(record[0].to_owned()).or_insert_with(|| {
                // Orders come by date: an order starts no earlier than the one before.
                assert!(day >= previous_day, "orders listed by date");
                previous_day = day;
                order_sequence.push(record[0].to_owned());
                (record[1].to_owned(), 0, 0)
            });
            assert_eq!(entry.0, &record[1], "an order id belongs to one customer");
            entry.1 += 1;
            entry.2 += u32::from(record[3].starts_with('-'));
            lines += 1;
        }
        assert_eq!(lines, generated.lines);
        assert_eq!(order_sequence.len(), orders.len(), "order ids never reused");
        assert_eq!(orders.len(), 5000 * SKEWED_ORDERS_PER_CUSTOMER);
        let per_customer = lines as f64 / 5000.0;
        assert!(
            (19.0..21.0).contains(&per_customer),
            "{per_customer} lines per customer"
        );
        assert!(
            orders.values().all(|o| (1..=4).contains(&o.1)),
            "1 to 4 lines per order"
        );
        assert!(
            orders.values().all(|o| o.2 == 0 || o.2 == o.1),
            "a return's lines are all negative"
        );
        let returns = orders.values().filter(|o| o.2 > 0).count() as f64 / orders.len() as f64;
        assert!(
            (0.03..0.05).contains(&returns),
            "{returns} of orders are returns"
        );
        let mut orders_per_customer: HashMap<&str, usize> = HashMap::new();
        for (customer, _, _) in orders.values() {
            *orders_per_customer.entry(customer).or_default() += 1;
        }
        // floor(u^2.2 x 5000) = 0 for u < 5000^(-1/2.2): about 2 % of all orders.
        let first = orders_per_customer["C0000001"];
        assert!(
            (600..1000).contains(&first),
            "the first customer has {first} orders"
        );
        let median = {
            let mut counts: Vec<usize> = orders_per_customer.values().copied().collect();
            counts.sort_unstable();
            counts[counts.len() / 2]
        };
        assert!(
            (3..=8).contains(&median),
            "median customer has {median} orders"
        );
        let customers: HashSet<&str> = orders_per_customer.keys().copied().collect();
        assert!(customers.len() > 4500, "most customers have orders");
    }
}
