//! The `strata` command line: `segment`, `compare`, `preview`, `explain`, `generate`, and `serve` with `token create`.

mod progress;
mod remote;
mod serve;
mod summary;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;
use strata_domain::config::{parse_config, Config};
use strata_domain::date::Date;
use strata_domain::settings::Settings;
use strata_engine::inspect;
use strata_engine::output::{write_assignments, write_transitions, AssignmentColumns, OutputDir};
use strata_engine::progress::{Control, Progress};
use strata_engine::run::{self, FileInfo, Inputs};
use strata_engine::source::FileLines;
use strata_engine::transactions::DecimalSeparator;
use strata_generate::{Format, Shape};
use strata_report::format::Lang;
use strata_report::ReportInfo;

/// Customer segmentation from sales history: ABC/Pareto tiers and RFM groups.
#[derive(Parser)]
#[command(name = "strata", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads that decode files side by side (default: every core).
    #[arg(long, global = true, env = "STRATA_THREADS", value_name = "N")]
    threads: Option<std::num::NonZeroUsize>,
}

/// `strata token ...`.
#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token (and its organisation if needed); prints the token alone on the last line.
    Create(serve::TokenArgs),
}

/// The input files shared by `segment` and `compare`.
#[derive(clap::Args)]
struct InputArgs {
    /// Transaction lines, CSV or Parquet (by extension).
    #[arg(long, value_name = "FILE")]
    transactions: PathBuf,
    /// Customers file, CSV or Parquet.
    #[arg(long, value_name = "FILE")]
    customers: Option<PathBuf>,
    /// Segment types, TOML.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Do not write DIR/report.html.
    #[arg(long)]
    no_report: bool,
    /// Replace the output folder even when it holds files Strata did not write.
    #[arg(long)]
    force: bool,
    /// Language of the report, fr or en (default: from the environment's locale).
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    #[command(flatten)]
    decimal: DecimalArg,
}

/// The decimal separator of a `;` transactions file.
#[derive(clap::Args)]
struct DecimalArg {
    /// Decimal separator of amounts in a ';'-separated file: ',' or '.'
    /// (default: the one the file uses; a file mixing both is refused).
    #[arg(long = "decimal", value_name = "SEPARATOR", value_parser = parse_decimal)]
    separator: Option<DecimalSeparator>,
}

fn parse_decimal(text: &str) -> Result<DecimalSeparator, String> {
    match text {
        "," => Ok(DecimalSeparator::Comma),
        "." => Ok(DecimalSeparator::Point),
        other => Err(format!("expected ',' or '.', found '{other}'")),
    }
}

/// Which columns `segment` writes to assignments.csv.
#[derive(Copy, Clone, ValueEnum)]
enum ColumnsArg {
    /// The segment and every column that explains it.
    All,
    /// Only segment_type, customer_id and segment.
    Segments,
}

#[derive(Copy, Clone, ValueEnum)]
enum LangArg {
    En,
    Fr,
}

/// The language asked for, else the environment's.
fn lang_of(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Fr) => Lang::Fr,
        None => Lang::from_env(),
    }
}

impl InputArgs {
    fn report_lang(&self) -> Lang {
        lang_of(self.lang)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Classify every customer in every segment type; writes DIR/assignments.csv.
    Segment {
        #[command(flatten)]
        inputs: InputArgs,
        /// Manual assignments, CSV `segment_type,customer_id,segment`.
        #[arg(long, value_name = "FILE")]
        overrides: Option<PathBuf>,
        /// Classify as of this date (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Classify every type over this date range, FROM..TO (inclusive), instead of
        /// its own window; rules types as of TO. Not with --as-of.
        #[arg(long, value_name = "FROM..TO", conflicts_with = "as_of")]
        period: Option<String>,
        /// Columns of assignments.csv: all, or only segment_type, customer_id and segment.
        #[arg(long, value_enum, default_value_t = ColumnsArg::All)]
        columns: ColumnsArg,
    },
    /// Classify one type over two periods; writes DIR/transitions.csv.
    Compare {
        #[command(flatten)]
        inputs: InputArgs,
        /// The segment type to compare.
        #[arg(long = "type", value_name = "NAME")]
        type_name: String,
        /// First period, FROM..TO (inclusive).
        #[arg(long, value_name = "FROM..TO")]
        period_a: String,
        /// Second period, FROM..TO (inclusive).
        #[arg(long, value_name = "FROM..TO")]
        period_b: String,
    },
    /// Count and list the customers a rule matches, without saving anything.
    Preview {
        /// Transaction lines, CSV or Parquet.
        #[arg(long, value_name = "FILE")]
        transactions: PathBuf,
        /// Customers file, CSV or Parquet.
        #[arg(long, value_name = "FILE")]
        customers: Option<PathBuf>,
        /// Segment types the rule may reference with segment(...) or rfm(...).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Manual assignments, for the referenced types.
        #[arg(long, value_name = "FILE")]
        overrides: Option<PathBuf>,
        /// The rule, for example "last_order_days < 365 AND total_spent > 100", or its JSON form.
        #[arg(long, value_name = "TEXT")]
        rule: String,
        /// Evaluate as of this date (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        decimal: DecimalArg,
    },
    /// Show a customer's segment in each type and why.
    Explain {
        /// The customer id.
        #[arg(long, value_name = "ID")]
        customer: String,
        /// Transaction lines, CSV or Parquet.
        #[arg(long, value_name = "FILE")]
        transactions: PathBuf,
        /// Customers file, CSV or Parquet.
        #[arg(long, value_name = "FILE")]
        customers: Option<PathBuf>,
        /// Segment types, TOML.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Manual assignments.
        #[arg(long, value_name = "FILE")]
        overrides: Option<PathBuf>,
        /// Classify as of this date (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Language of the explanation, fr or en (default: from the environment's locale).
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        #[command(flatten)]
        decimal: DecimalArg,
    },
    /// Read and check a transactions file without classifying: lines, customers, orders, dates.
    Check {
        /// Transaction lines, CSV or Parquet.
        #[arg(long, value_name = "FILE")]
        transactions: PathBuf,
        /// Decode only the columns this configuration reads (default: every column).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        decimal: DecimalArg,
    },
    /// Serve the HTTP API over SQLite (--data, the default) or PostgreSQL (--database).
    Serve(serve::ServeArgs),
    /// Manage the server's API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Copy a live SQLite store into a new file (restore: serve a --data folder holding it as strata.db).
    Backup(serve::BackupArgs),
    /// Move settings and segment types between a file and a server.
    #[command(subcommand)]
    Config(remote::ConfigCommand),
    /// Write a synthetic sales history (customers and transactions).
    Generate {
        /// Number of customer accounts.
        #[arg(long, value_name = "N")]
        customers: usize,
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// File format.
        #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
        format: FormatArg,
        /// Last day of the history (default: today).
        #[arg(long, value_name = "DATE")]
        end: Option<String>,
        /// How orders spread over customers and time: classic (1-14 orders per
        /// customer) or skewed (about 20 lines per customer, a few very active).
        #[arg(long, value_enum, default_value_t = ShapeArg::Classic)]
        shape: ShapeArg,
    },
}

#[derive(Copy, Clone, ValueEnum)]
enum ShapeArg {
    Classic,
    Skewed,
}

#[derive(Copy, Clone, ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
}

/// Today in the configuration's time zone, else the machine's.
fn today(settings: &Settings) -> Date {
    settings
        .today(chrono::Utc::now())
        .unwrap_or_else(|| Date::from_naive(chrono::Local::now().date_naive()))
}

fn parse_date_arg(flag: &str, value: Option<&str>, settings: &Settings) -> Result<Date> {
    match value {
        None => Ok(today(settings)),
        Some(text) => Date::parse_iso(text)
            .with_context(|| format!("{flag} '{text}' is not a date YYYY-MM-DD")),
    }
}

fn read_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    parse_config(&text).map_err(|problems| {
        strata_engine::Error::Config {
            path: path.to_path_buf(),
            problems,
        }
        .into()
    })
}

fn inputs(args: &InputArgs, overrides: Option<PathBuf>) -> Result<Inputs> {
    checked_inputs(
        args.transactions.clone(),
        args.customers.clone(),
        overrides,
        &args.decimal,
    )
}

fn checked_inputs(
    transactions: PathBuf,
    customers: Option<PathBuf>,
    overrides: Option<PathBuf>,
    decimal: &DecimalArg,
) -> Result<Inputs> {
    let paths = [Some(&transactions), customers.as_ref(), overrides.as_ref()];
    run::check_files(paths.into_iter().flatten().map(PathBuf::as_path))?;
    Ok(Inputs::files(
        transactions,
        customers,
        overrides,
        decimal.separator,
    ))
}

/// Writes to stdout; a reader that went away (`strata ... | head`) is not an error.
fn print_text(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    print_text(|out| writeln!(out, "{text}"))
}

/// The staging folder of the run in progress, removed if a signal stops it.
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Starts writing the output folder: locked, checked, and staged beside it
/// (see `OutputDir`); a SIGINT or SIGTERM from now on stops the run at once,
/// removes the staging folder and leaves the previous outputs as they were.
fn begin_output(args: &InputArgs, overrides: Option<&Path>) -> Result<OutputDir> {
    let mut files = vec![args.transactions.as_path(), args.config.as_path()];
    files.extend(args.customers.as_deref());
    files.extend(overrides);
    let out = OutputDir::begin(&args.out, &files, args.force)?;
    *STAGING.lock().unwrap_or_else(PoisonError::into_inner) = Some(out.staging().to_path_buf());
    Ok(out)
}

/// Stops the process on SIGINT or SIGTERM, removing the staging folder of
/// the run in progress, if any.
fn stop_on_signals() -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM]).context("cannot listen for signals")?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let staging = STAGING.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(path) = staging.as_ref() {
                let _ = std::fs::remove_dir_all(path);
            }
            eprintln!("interrupted: the previous outputs are unchanged");
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// A CSV output: its file name and how to write it.
type CsvOutput<'a> = (&'a str, &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>);

/// Writes a run's CSV and, unless `--no-report`, its report into the staged
/// folder, then puts the folder in place; returns the paths written.
fn write_outputs(
    mut out: OutputDir,
    args: &InputArgs,
    started: Instant,
    files: &[FileInfo],
    (name, csv): CsvOutput<'_>,
    report: impl FnOnce(&ReportInfo<'_>) -> String,
) -> Result<Vec<String>> {
    out.write(name, csv)?;
    if !args.no_report {
        let info = ReportInfo {
            lang: args.report_lang(),
            duration: started.elapsed(),
            files,
        };
        let html = report(&info);
        out.write("report.html", |w| w.write_all(html.as_bytes()))?;
    }
    let written = out.commit()?;
    *STAGING.lock().unwrap_or_else(PoisonError::into_inner) = None;
    Ok(written
        .into_iter()
        .map(|p| p.display().to_string())
        .collect())
}

/// The run `preview` and `explain` look into, as of `--as-of` or today.
fn inspect_run(
    config: Config,
    inputs: &Inputs,
    as_of: Option<String>,
    threads: &Option<std::num::NonZeroUsize>,
) -> Result<(run::InspectRun, Date)> {
    let as_of = parse_date_arg("--as-of", as_of.as_deref(), &config.settings)?;
    let bar = progress::Bar::new(false);
    let run = run::inspect(config, inputs, as_of, &control(threads, &bar))?;
    Ok((run, as_of))
}

/// The run's control: the progress shown and the thread budget asked for.
fn control<'a>(
    threads: &Option<std::num::NonZeroUsize>,
    progress: &'a dyn Progress,
) -> Control<'a> {
    let mut control = Control::new(progress);
    if let Some(threads) = *threads {
        control.threads = threads;
    }
    control
}

fn run(cli: Cli) -> Result<()> {
    let cli_threads = cli.threads;
    let started = Instant::now();
    match cli.command {
        Command::Segment {
            inputs: args,
            overrides,
            as_of,
            period,
            columns,
        } => {
            let columns = match columns {
                ColumnsArg::All => AssignmentColumns::All,
                ColumnsArg::Segments => AssignmentColumns::Segments,
            };
            let config = read_config(&args.config)?;
            let as_of = parse_date_arg("--as-of", as_of.as_deref(), &config.settings)?;
            let inputs = inputs(&args, overrides.clone())?;
            let out = begin_output(&args, overrides.as_deref())?;
            let bar = progress::Bar::new(args.quiet);
            let run = match period {
                Some(text) => run::segment_period(
                    config,
                    &inputs,
                    run::parse_period(&text)?,
                    &control(&cli_threads, &bar),
                )?,
                None => run::segment(config, &inputs, as_of, &control(&cli_threads, &bar))?,
            };
            let outputs = write_outputs(
                out,
                &args,
                started,
                &run.files,
                ("assignments.csv", &|w| write_assignments(&run, columns, w)),
                |info| strata_report::segment_report(&run, info),
            )?;
            if args.json {
                print_json(&summary::segment_json(&run, &outputs, started.elapsed()))?;
            } else if !args.quiet {
                print_text(|out| summary::print_segment(out, &run, &outputs, started.elapsed()))?;
            }
        }
        Command::Compare {
            inputs: args,
            type_name,
            period_a,
            period_b,
        } => {
            let config = read_config(&args.config)?;
            let periods = [run::parse_period(&period_a)?, run::parse_period(&period_b)?];
            let inputs = inputs(&args, None)?;
            let out = begin_output(&args, None)?;
            let bar = progress::Bar::new(args.quiet);
            let run = run::compare(
                config,
                &inputs,
                &type_name,
                periods,
                &control(&cli_threads, &bar),
            )?;
            let outputs = write_outputs(
                out,
                &args,
                started,
                &run.files,
                ("transitions.csv", &|w| write_transitions(&run, w)),
                |info| strata_report::compare_report(&run, info),
            )?;
            if args.json {
                print_json(&summary::compare_json(&run, &outputs, started.elapsed()))?;
            } else if !args.quiet {
                print_text(|out| summary::print_compare(out, &run, &outputs, started.elapsed()))?;
            }
        }
        Command::Preview {
            transactions,
            customers,
            config,
            overrides,
            rule,
            as_of,
            decimal,
        } => {
            let config = match config {
                Some(path) => read_config(&path)?,
                None => Config {
                    settings: Settings::default(),
                    types: Vec::new(),
                },
            };
            let inputs = checked_inputs(transactions, customers, overrides, &decimal)?;
            let (run, _) = inspect_run(config, &inputs, as_of, &cli_threads)?;
            let preview = inspect::preview(&run, &rule)?;
            print_text(|out| summary::print_preview(out, &preview))?;
        }
        Command::Explain {
            customer,
            transactions,
            customers,
            config,
            overrides,
            as_of,
            lang,
            decimal,
        } => {
            let config = read_config(&config)?;
            let inputs = checked_inputs(transactions, customers, overrides, &decimal)?;
            let (run, as_of) = inspect_run(config, &inputs, as_of, &cli_threads)?;
            let explanations = inspect::explain(&run, &customer)?;
            let lang = lang_of(lang);
            print_text(|out| {
                summary::print_explanations(out, &customer, as_of, &explanations, lang)
            })?;
        }
        Command::Check {
            transactions,
            config,
            decimal,
        } => {
            let config = config.as_deref().map(read_config).transpose()?;
            let bar = progress::Bar::new(false);
            run::check_files([transactions.as_path()])?;
            let source = FileLines {
                path: transactions.clone(),
                decimal: decimal.separator,
            };
            let scan = run::scan(&source, config.as_ref(), &control(&cli_threads, &bar))?;
            let dates = scan
                .dates
                .map_or_else(|| "no lines".to_owned(), |(a, b)| format!("{a} .. {b}"));
            let (lines, customers, orders) = (scan.lines, scan.customers, scan.orders);
            print_text(|out| {
                writeln!(
                    out,
                    "{}: {lines} lines, {customers} customers, {orders} orders, dates {dates}",
                    transactions.display()
                )
            })?;
        }
        Command::Serve(args) => serve::serve(args)?,
        Command::Token(TokenCommand::Create(args)) => serve::token_create(args)?,
        Command::Backup(args) => serve::backup(args)?,
        Command::Config(command) => remote::run(command)?,
        Command::Generate {
            customers,
            out,
            seed,
            format,
            end,
            shape,
        } => {
            let spec = strata_generate::Spec {
                customers,
                shape: match shape {
                    ShapeArg::Classic => Shape::Classic,
                    ShapeArg::Skewed => Shape::Skewed,
                },
                seed,
                end: parse_date_arg("--end", end.as_deref(), &Settings::default())?,
                format: match format {
                    FormatArg::Csv => Format::Csv,
                    FormatArg::Parquet => Format::Parquet,
                },
            };
            let generated = strata_generate::generate(&spec, &out)?;
            eprintln!(
                "wrote {} ({} customers) and {} ({} lines) in {:.1} s",
                generated.customers_path.display(),
                customers,
                generated.transactions_path.display(),
                generated.lines,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        // The server handles its own signals: it stops taking requests
        // first. The commands that talk to a store or a server end
        // their own work.
        Command::Serve(_) | Command::Token(_) | Command::Config(_) | Command::Backup(_) => run(cli),
        _ => stop_on_signals().and_then(|()| run(cli)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
