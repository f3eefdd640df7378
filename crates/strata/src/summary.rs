//! The run summaries printed at the end: aligned tables for people, JSON
//! (`--json`) for scripts. Amounts are exact decimal strings in JSON.

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};
use serde::Serialize;
use std::io::{self, Write};
use std::time::Duration;
use strata_domain::money::{Amount, Fraction};
use strata_domain::segment_type::{MethodKind, SegmentType};
use strata_domain::summary::TypeSummary;
use strata_engine::inspect::{Preview, TypeExplanation};
use strata_engine::run::{CompareRun, FileInfo, SegmentRun, TypeResult};
use strata_report::explain;
use strata_report::format::{self, Lang};

/// The JSON form of a type's summary.
#[derive(Serialize)]
pub struct TypeJson {
    name: String,
    method: &'static str,
    /// `[first, last]`; null for rules types, which read every line up to the as-of date.
    window: Option<[String; 2]>,
    segments: Vec<SegmentJson>,
    accounts: u64,
    sales: String,
    classified_total: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<LeftOutJson>,
    manual: u64,
    manual_differs: u64,
    /// Customers without a segment (no row in assignments.csv), by reason.
    unclassified: std::collections::BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct SegmentJson {
    name: String,
    accounts: u64,
    sales: String,
    share_of_total: String,
    color: Option<String>,
    priority: Option<i64>,
    visit_every_days: Option<u32>,
}

#[derive(Serialize)]
struct LeftOutJson {
    below_min_sales: String,
    not_positive: String,
    excluded: String,
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    lines: u64,
}

/// The JSON summary of a `segment` run.
#[derive(Serialize)]
pub struct SegmentSummaryJson {
    command: &'static str,
    as_of: String,
    types: Vec<TypeJson>,
    warnings: Vec<String>,
    files: Vec<FileJson>,
    outputs: Vec<String>,
    duration_ms: u128,
}

fn share(part: Amount, whole: Amount) -> Option<Fraction> {
    whole.is_positive().then_some(Fraction { part, whole })
}

fn percent(part: Amount, whole: Amount) -> String {
    match share(part, whole) {
        Some(f) => format!("{:.1} %", f.part.to_f64() / f.whole.to_f64() * 100.0),
        None => "-".to_owned(),
    }
}

fn type_json(result: &TypeResult, ty: &SegmentType) -> TypeJson {
    let s = &result.summary;
    TypeJson {
        name: s.name.clone(),
        method: s.method.name(),
        window: result
            .window
            .map(|w| [w.first.to_string(), w.last.to_string()]),
        segments: s
            .segments
            .iter()
            .zip(&ty.segments)
            .map(|(seg, segment)| SegmentJson {
                name: seg.name.clone(),
                accounts: seg.accounts,
                sales: seg.sales.to_string(),
                share_of_total: share(seg.sales, s.classified_total)
                    .map_or(String::new(), |f| f.to_string()),
                color: segment.color.clone(),
                priority: segment.priority,
                visit_every_days: segment.visit_every_days,
            })
            .collect(),
        accounts: s.accounts,
        sales: s.sales.to_string(),
        classified_total: s.classified_total.to_string(),
        left_out: s.left_out.map(|l| LeftOutJson {
            below_min_sales: l.below_minimum.to_string(),
            not_positive: l.not_positive.to_string(),
            excluded: l.excluded.to_string(),
        }),
        manual: s.manual,
        manual_differs: s.manual_differs,
        unclassified: s
            .unclassified
            .iter()
            .map(|&(reason, n)| (reason.as_str(), n))
            .collect(),
    }
}

fn files_json(files: &[FileInfo]) -> Vec<FileJson> {
    files
        .iter()
        .map(|f| FileJson {
            path: f.name.clone(),
            lines: f.lines,
        })
        .collect()
}

/// The JSON summary of a segment run.
pub fn segment_json(
    run: &SegmentRun,
    outputs: &[String],
    duration: Duration,
) -> SegmentSummaryJson {
    SegmentSummaryJson {
        command: "segment",
        as_of: run.as_of.to_string(),
        types: run
            .types
            .iter()
            .map(|t| type_json(t, &run.config.types[t.type_idx]))
            .collect(),
        warnings: run.warnings.clone(),
        files: files_json(&run.files),
        outputs: outputs.to_vec(),
        duration_ms: duration.as_millis(),
    }
}

/// An amount with its thousands grouped by thin spaces, for reading.
/// An amount for the terminal: exact, thousands grouped.
fn grouped(amount: Amount) -> String {
    format::exact(amount, Lang::En)
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    let line = LineStyle::none().fill('─').junction('─');
    let style = TableStyle::new()
        .top_border(line)
        .header_separator(line)
        .bottom_border(line);
    table.load_style(style).set_header(header.iter().copied());
    for column in 1..header.len() {
        if let Some(c) = table.column_mut(column) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The table of one type's segments, with totals.
pub fn type_table(s: &TypeSummary) -> Table {
    let sales_label = match s.method {
        MethodKind::Pareto => "sales",
        MethodKind::Rfm => "monetary",
        MethodKind::Rules => "total spent",
    };
    let mut table = new_table(&[
        "segment",
        "accounts",
        "% accounts",
        sales_label,
        "% of total",
    ]);
    for seg in &s.segments {
        if seg.accounts == 0 && s.segments.len() > 6 {
            continue;
        }
        table.add_row([
            seg.name.clone(),
            seg.accounts.to_string(),
            percent(
                Amount::from_units(seg.accounts as i64),
                Amount::from_units(s.customers as i64),
            ),
            grouped(seg.sales),
            percent(seg.sales, s.classified_total),
        ]);
    }
    table.add_row([
        "total".to_owned(),
        s.accounts.to_string(),
        String::new(),
        grouped(s.sales),
        percent(s.sales, s.classified_total),
    ]);
    table
}

/// Prints the summary of a segment run for people.
pub fn print_segment(
    out: &mut dyn Write,
    run: &SegmentRun,
    outputs: &[String],
    duration: Duration,
) -> io::Result<()> {
    writeln!(out, "Strata segment, as of {}", run.as_of)?;
    for result in &run.types {
        let s = &result.summary;
        writeln!(out)?;
        let window = match result.window {
            Some(w) => format!("window {} .. {}", w.first, w.last),
            None => format!("all lines up to {}", run.as_of),
        };
        writeln!(out, "{} ({}, {window})", s.name, s.method)?;
        writeln!(out, "{}", type_table(s))?;
        match s.left_out {
            Some(l) => writeln!(
                out,
                "ranked total T = {}; left out of the ranking: {} below min_sales, {} not positive, {} in excluded tiers",
                grouped(s.classified_total),
                grouped(l.below_minimum),
                grouped(l.not_positive),
                grouped(l.excluded)
            )?,
            None if s.method == MethodKind::Rules => {
                writeln!(out, "total spent by all customers = {}", grouped(s.classified_total))?
            }
            None => writeln!(out, "monetary total of scored customers = {}", grouped(s.classified_total))?,
        }
        if s.manual > 0 {
            writeln!(
                out,
                "manual assignments: {} ({} differ from the computed segment)",
                s.manual, s.manual_differs
            )?;
        }
        if !s.unclassified.is_empty() {
            let reasons: Vec<String> = s
                .unclassified
                .iter()
                .map(|(reason, n)| format!("{n} {}", reason.describe()))
                .collect();
            writeln!(
                out,
                "customers without a segment (no row): {}",
                reasons.join(", ")
            )?;
        }
    }
    if !run.warnings.is_empty() {
        writeln!(out)?;
        writeln!(out, "{} warning(s):", run.warnings.len())?;
        for w in &run.warnings {
            writeln!(out, "  {w}")?;
        }
    }
    print_footer(out, &run.files, outputs, duration)
}

/// The JSON summary of a compare run.
#[derive(Serialize)]
pub struct CompareJson {
    command: &'static str,
    segment_type: String,
    period_a: TypeJson,
    period_b: TypeJson,
    movements: std::collections::BTreeMap<&'static str, u64>,
    matrix: MatrixJson,
    files: Vec<FileJson>,
    outputs: Vec<String>,
    duration_ms: u128,
}

#[derive(Serialize)]
struct MatrixJson {
    segments: Vec<String>,
    counts: Vec<Vec<u64>>,
}

fn movement_counts(run: &CompareRun) -> std::collections::BTreeMap<&'static str, u64> {
    let mut counts: std::collections::BTreeMap<&'static str, u64> =
        strata_domain::compare::Movement::ALL
            .iter()
            .map(|m| (m.as_str(), 0))
            .collect();
    for t in &run.transitions {
        *counts.entry(t.movement.as_str()).or_default() += 1;
    }
    counts
}

fn matrix_labels(run: &CompareRun) -> Vec<String> {
    let ty = &run.config.types[run.type_idx];
    ty.segments
        .iter()
        .map(|s| s.name.clone())
        .chain([strata_domain::compare::NO_SEGMENT.to_owned()])
        .collect()
}

/// The JSON summary of a compare run.
pub fn compare_json(run: &CompareRun, outputs: &[String], duration: Duration) -> CompareJson {
    CompareJson {
        command: "compare",
        segment_type: run.config.types[run.type_idx].name.clone(),
        period_a: type_json(&run.periods[0], &run.config.types[run.type_idx]),
        period_b: type_json(&run.periods[1], &run.config.types[run.type_idx]),
        movements: movement_counts(run),
        matrix: MatrixJson {
            segments: matrix_labels(run),
            counts: run.matrix.counts.clone(),
        },
        files: files_json(&run.files),
        outputs: outputs.to_vec(),
        duration_ms: duration.as_millis(),
    }
}

fn period(window: Option<strata_domain::date::Window>) -> String {
    window.map_or_else(String::new, |w| format!("{} .. {}", w.first, w.last))
}

/// Prints the summary of a compare run for people.
pub fn print_compare(
    out: &mut dyn Write,
    run: &CompareRun,
    outputs: &[String],
    duration: Duration,
) -> io::Result<()> {
    let name = &run.config.types[run.type_idx].name;
    let [a, b] = &run.periods;
    writeln!(
        out,
        "Strata compare '{name}': A = {}, B = {}",
        period(a.window),
        period(b.window)
    )?;
    writeln!(out)?;
    writeln!(out, "Transition matrix (rows: period A, columns: period B)")?;
    let labels = matrix_labels(run);
    let mut header: Vec<&str> = vec!["A \\ B"];
    header.extend(labels.iter().map(String::as_str));
    header.push("total");
    let mut table = new_table(&header);
    for (label, row) in labels.iter().zip(&run.matrix.counts) {
        let mut cells = vec![label.clone()];
        cells.extend(row.iter().map(u64::to_string));
        cells.push(row.iter().sum::<u64>().to_string());
        table.add_row(cells);
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    let counts = movement_counts(run);
    let line: Vec<String> = strata_domain::compare::Movement::ALL
        .iter()
        .map(|m| format!("{} {}", counts[m.as_str()], m.as_str()))
        .collect();
    writeln!(out, "{}", line.join(", "))?;
    writeln!(out)?;
    writeln!(out, "{}", periods_table(run))?;
    print_footer(out, &run.files, outputs, duration)
}

/// Per segment, the customers and the sales of each period and the change:
/// Pareto eligible sales, RFM monetary in the window, rules total spent up
/// to the period's end.
pub fn periods_table(run: &CompareRun) -> Table {
    let [a, b] = &run.periods;
    let sales = match a.summary.method {
        MethodKind::Pareto => "sales",
        MethodKind::Rfm => "monetary",
        MethodKind::Rules => "total spent",
    };
    let (sales_a, sales_b) = (format!("{sales} A"), format!("{sales} B"));
    let mut table = new_table(&[
        "segment",
        "customers A",
        "customers B",
        "change",
        &sales_a,
        &sales_b,
        "change ",
    ]);
    for (seg_a, seg_b) in a.summary.segments.iter().zip(&b.summary.segments) {
        let customers_change = i128::from(seg_b.accounts) - i128::from(seg_a.accounts);
        let sales_change = i128::from(seg_b.sales.raw()) - i128::from(seg_a.sales.raw());
        table.add_row([
            seg_a.name.clone(),
            seg_a.accounts.to_string(),
            seg_b.accounts.to_string(),
            format!("{customers_change:+}"),
            grouped(seg_a.sales),
            grouped(seg_b.sales),
            signed_amount(sales_change),
        ]);
    }
    table
}

/// A difference of two amounts (in 1/10000 units, which may exceed an
/// amount), signed and grouped.
fn signed_amount(raw: i128) -> String {
    let sign = if raw < 0 { "-" } else { "+" };
    let magnitude = raw.unsigned_abs();
    let scale = strata_domain::money::SCALE as u128;
    match i64::try_from(magnitude) {
        Ok(m) => format!("{sign}{}", grouped(Amount(m))),
        Err(_) => format!("{sign}{}.{:04}", magnitude / scale, magnitude % scale),
    }
}

/// The files read and written, and the run's duration.
fn print_footer(
    out: &mut dyn Write,
    files: &[FileInfo],
    outputs: &[String],
    duration: Duration,
) -> io::Result<()> {
    writeln!(out)?;
    for f in files {
        writeln!(out, "read {} ({} lines)", f.name, f.lines)?;
    }
    for o in outputs {
        writeln!(out, "wrote {o}")?;
    }
    writeln!(out, "done in {:.2} s", duration.as_secs_f64())
}

/// Prints what a rule matches.
pub fn print_preview(out: &mut dyn Write, p: &Preview) -> io::Result<()> {
    writeln!(out, "Rule: {}", p.rule)?;
    writeln!(
        out,
        "{} of {} customers match ({}), {} of {} total spent ({})",
        p.matched,
        p.customers,
        percent(
            Amount::from_units(p.matched as i64),
            Amount::from_units(p.customers as i64)
        ),
        grouped(p.spent_matched),
        grouped(p.spent_all),
        percent(p.spent_matched, p.spent_all)
    )?;
    if p.first.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "First {} matches by customer id:", p.first.len())?;
    let mut header = vec!["customer_id"];
    header.extend(p.columns.iter().map(String::as_str));
    let mut table = new_table(&header);
    for (id, values) in &p.first {
        let mut row = vec![id.clone()];
        row.extend(values.iter().cloned());
        table.add_row(row);
    }
    writeln!(out, "{table}")
}

/// Prints why a customer is in each segment.
pub fn print_explanations(
    out: &mut dyn Write,
    customer: &str,
    as_of: strata_domain::date::Date,
    list: &[TypeExplanation],
    lang: Lang,
) -> io::Result<()> {
    match lang {
        Lang::En => writeln!(out, "Customer {customer}, as of {as_of}")?,
        Lang::Fr => writeln!(out, "Client {customer}, au {as_of}")?,
    }
    for e in list {
        writeln!(out)?;
        writeln!(out, "{}", explain::heading(e, lang))?;
        for line in explain::lines(e, lang) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}
