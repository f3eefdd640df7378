//! The report of a `segment` or `compare` run: one self-contained HTML page
//! (inline CSS and SVG, no script, no network) with a chart and a table per
//! segment type, in English or French.

pub mod explain;
pub mod format;
pub mod svg;

use askama::Template;
use format::{count, money, percent, segment_label, Lang};
use std::time::Duration;
use strata_domain::compare::Movement;
use strata_domain::money::Amount;
use strata_domain::rfm::default_map;
use strata_domain::segment_type::{Method, RfmNaming, SegmentType};
use strata_engine::run::{CompareRun, Explanation, FileInfo, SegmentRun, TypeResult};

/// The most points a curve is drawn from, whatever the number of customers.
pub const CURVE_POINTS: usize = 300;

/// What the footer tells besides the results.
pub struct ReportInfo<'a> {
    /// The language.
    pub lang: Lang,
    /// How long the run took.
    pub duration: Duration,
    /// The files read.
    pub files: &'a [FileInfo],
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#111;padding:0 1rem}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:2px solid #0072B2}\
.chart{max-width:100%;height:auto;display:block;margin:1rem 0}.pair{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}\
.pair>*{flex:1 1 28rem}table{border-collapse:collapse;font-size:.9rem;margin:1rem 0}\
th,td{padding:.3rem .6rem;border-bottom:1px solid #ccc}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
.meta{color:#444;font-size:.9rem}footer{margin-top:3rem;font-size:.8rem;color:#555;border-top:1px solid #ccc}\
@media print{body{margin:0;max-width:none}h2{break-before:auto}.pair{display:block}}";

/// The page as the template shows it: every text already in its language.
#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    lang: &'static str,
    title: String,
    style: &'static str,
    sections: Vec<Section>,
    footer: Footer,
}

/// One segment type (or the compared type).
struct Section {
    title: String,
    meta: String,
    blocks: Vec<Block>,
}

/// A part of a section.
enum Block {
    Table(Table),
    /// Side by side on a wide screen.
    Pair(Vec<Part>),
}

/// One side of a pair.
enum Part {
    /// An SVG chart from the `svg` module, which escapes its own texts.
    Svg(String),
    Table(Table),
}

struct Table {
    header: Vec<&'static str>,
    rows: Vec<Row>,
}

/// A table row; its `data-` attributes carry the exact figures for tests
/// and scripts.
struct Row {
    class: &'static str,
    data: Vec<Data>,
    cells: Vec<String>,
}

struct Data {
    name: &'static str,
    value: String,
}

impl Data {
    fn new(name: &'static str, value: impl ToString) -> Data {
        Data {
            name,
            value: value.to_string(),
        }
    }
}

struct Footer {
    files_label: &'static str,
    files: Vec<(String, String)>,
    run_time: String,
}

fn page(lang: Lang, title: String, sections: Vec<Section>, info: &ReportInfo<'_>) -> String {
    let l = |en, fr| lang.pick(en, fr);
    let footer = Footer {
        files_label: l("Input files:", "Fichiers lus :"),
        files: info
            .files
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    format!("{} {}", count(f.lines, lang), l("lines", "lignes")),
                )
            })
            .collect(),
        run_time: format!(
            "{} {:.2} s · Strata {}",
            l("Run time", "Durée du calcul"),
            info.duration.as_secs_f64(),
            env!("CARGO_PKG_VERSION")
        ),
    };
    let page = Page {
        lang: lang.code(),
        title,
        style: STYLE,
        sections,
        footer,
    };
    let mut html = page
        .render()
        .expect("the report's template renders every page");
    html.push('\n');
    html
}

fn segment_row(
    type_name: &str,
    segment: &str,
    accounts: u64,
    sales: Amount,
    cells: Vec<String>,
) -> Row {
    Row {
        class: "segment-row",
        data: vec![
            Data::new("type", type_name),
            Data::new("segment", segment),
            Data::new("accounts", accounts),
            Data::new("sales", sales),
        ],
        cells,
    }
}

fn pct(lang: Lang) -> impl Fn(f64) -> String {
    move |v| percent(v, 1.0, lang)
}

fn describe(
    ty: &SegmentType,
    result: &TypeResult,
    as_of: strata_domain::date::Date,
    lang: Lang,
) -> String {
    let l = |en, fr| lang.pick(en, fr);
    let mut parts = vec![format!("{} {as_of}", l("as of", "au"))];
    if let Some(w) = result.window {
        parts.push(format!(
            "{} {} – {}",
            l("window", "période"),
            w.first,
            w.last
        ));
    } else {
        parts.push(
            l(
                "all sales up to that date",
                "toutes les ventes jusqu'à cette date",
            )
            .to_owned(),
        );
    }
    if !ty.lines.agencies.is_empty() {
        parts.push(format!(
            "{} {}",
            l("agencies", "agences"),
            ty.lines.agencies.join(", ")
        ));
    }
    if !ty.lines.brands.is_empty() {
        parts.push(format!(
            "{} {}",
            l("brands", "marques"),
            ty.lines.brands.join(", ")
        ));
    }
    if ty.identity == strata_domain::segment_type::Identity::Vat {
        parts.push(
            l(
                "accounts grouped by VAT number",
                "comptes regroupés par numéro de TVA",
            )
            .to_owned(),
        );
    }
    if result.summary.manual > 0 {
        parts.push(format!(
            "{} {} ({} {})",
            result.summary.manual,
            l("manual assignments", "affectations manuelles"),
            result.summary.manual_differs,
            l(
                "differ from the computed segment",
                "diffèrent du segment calculé"
            )
        ));
    }
    format!("{} · {}", ty.method.name(), parts.join(" · "))
}

fn pareto_section(ty: &SegmentType, result: &TypeResult, currency: &str, lang: Lang) -> Block {
    let l = |en, fr| lang.pick(en, fr);
    let s = &result.summary;
    let n = result.ranked.len();
    let total = s.classified_total.to_f64();
    let mut points = vec![(0.0, 0.0)];
    let step = n.div_ceil(CURVE_POINTS).max(1);
    let mut cumulative = 0.0;
    for (i, (sales, _)) in result.ranked.iter().enumerate() {
        cumulative += sales.to_f64();
        if (i + 1) % step == 0 || i + 1 == n {
            points.push((
                (i + 1) as f64 / n as f64,
                if total > 0.0 { cumulative / total } else { 0.0 },
            ));
        }
    }
    let mut bands = Vec::new();
    let mut start = 0;
    while start < n {
        let tier = result.ranked[start].1;
        let end = start
            + result.ranked[start..]
                .iter()
                .take_while(|r| r.1 == tier)
                .count();
        bands.push(svg::Band {
            label: ty.segment_name(tier).to_owned(),
            from: start as f64 / n as f64,
            to: end as f64 / n as f64,
            color: ty.segments[usize::from(tier)].color.clone(),
        });
        start = end;
    }
    let chart = svg::curve(
        &points,
        &bands,
        l("share of ranked customers", "part des clients classés"),
        l("share of sales", "part des ventes"),
        pct(lang),
    );
    let rows: Vec<Row> = s
        .segments
        .iter()
        .zip(&ty.segments)
        .map(|(seg, def)| {
            let average = if seg.accounts > 0 {
                Amount(seg.sales.raw() / seg.accounts as i64)
            } else {
                Amount::ZERO
            };
            segment_row(
                &ty.name,
                &seg.name,
                seg.accounts,
                seg.sales,
                vec![
                    seg.name.clone(),
                    count(seg.accounts, lang),
                    percent(seg.accounts as f64, s.customers as f64, lang),
                    money(seg.sales, currency, lang),
                    percent(seg.sales.to_f64(), total, lang),
                    money(average, currency, lang),
                    def.visit_every_days
                        .map_or_else(String::new, |d| format!("{d} {}", l("days", "jours"))),
                ],
            )
        })
        .collect();
    let header = vec![
        l("tier", "classe"),
        l("customers", "clients"),
        l("% customers", "% clients"),
        l("sales", "ventes"),
        l("% of ranked sales", "% des ventes classées"),
        l("average per customer", "moyenne par client"),
        l("visit every", "visite tous les"),
    ];
    Block::Pair(vec![Part::Svg(chart), Part::Table(Table { header, rows })])
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> Option<T> {
    values.sort_unstable();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

fn rfm_section(
    ty: &SegmentType,
    result: &TypeResult,
    bins: u8,
    naming: RfmNaming,
    currency: &str,
    lang: Lang,
) -> Block {
    let l = |en, fr| lang.pick(en, fr);
    let b = usize::from(bins);
    let mut counts = vec![vec![0u64; b]; b];
    let mut sales = vec![vec![Amount::ZERO; b]; b];
    for row in &result.rows {
        if let Explanation::Rfm(Some(score)) = row.explanation {
            let (i, j) = (b - usize::from(score.r), usize::from(score.f) - 1);
            counts[i][j] += 1;
            // The run's aggregation bounded the sum of absolute amounts: cells fit.
            sales[i][j] = sales[i][j]
                .checked_add(score.monetary)
                .expect("aggregation bounds the sum of absolute amounts");
        }
    }
    let texts: Vec<Vec<String>> = (0..b)
        .map(|i| {
            (0..b)
                .map(|j| {
                    let name = match naming {
                        RfmNaming::DefaultMap => format!(
                            "{}\n",
                            segment_label(
                                ty.segment_name(default_map((b - i) as u8, (j + 1) as u8)),
                                true,
                                lang
                            )
                        ),
                        RfmNaming::Custom => String::new(),
                    };
                    format!(
                        "{name}{}\n{}",
                        count(counts[i][j], lang),
                        money(sales[i][j], currency, lang)
                    )
                })
                .collect()
        })
        .collect();
    let rows_labels: Vec<String> = (0..b).map(|i| format!("R {}", b - i)).collect();
    let cols_labels: Vec<String> = (1..=b).map(|j| format!("F {j}")).collect();
    let chart = svg::heatmap(
        &rows_labels,
        &cols_labels,
        &counts,
        &texts,
        l("recency × frequency", "récence × fréquence"),
    );
    let rows: Vec<Row> = result
        .summary
        .segments
        .iter()
        .enumerate()
        .filter(|(_, seg)| seg.accounts > 0)
        .map(|(idx, seg)| {
            let scores: Vec<_> = result
                .rows
                .iter()
                .filter(|r| r.assignment.segment == Some(idx as u16))
                .filter_map(|r| match r.explanation {
                    Explanation::Rfm(Some(score)) => Some(score),
                    _ => None,
                })
                .collect();
            let med = |f: &dyn Fn(&strata_domain::rfm::RfmScore) -> i64| {
                median(scores.iter().map(f).collect()).map_or_else(String::new, |v| v.to_string())
            };
            segment_row(
                &ty.name,
                &seg.name,
                seg.accounts,
                seg.sales,
                vec![
                    segment_label(&seg.name, naming == RfmNaming::DefaultMap, lang),
                    count(seg.accounts, lang),
                    med(&|s| i64::from(s.recency_days)),
                    med(&|s| i64::from(s.frequency)),
                    median(scores.iter().map(|s| s.monetary).collect())
                        .map_or_else(String::new, |m| money(m, currency, lang)),
                ],
            )
        })
        .collect();
    let header = vec![
        l("segment", "segment"),
        l("customers", "clients"),
        l("median recency (days)", "récence médiane (jours)"),
        l("median frequency", "fréquence médiane"),
        l("median monetary", "montant médian"),
    ];
    Block::Pair(vec![Part::Svg(chart), Part::Table(Table { header, rows })])
}

fn rules_section(ty: &SegmentType, result: &TypeResult, currency: &str, lang: Lang) -> Block {
    let l = |en, fr| lang.pick(en, fr);
    let s = &result.summary;
    let total = s.classified_total.to_f64();
    let items: Vec<svg::Bar> = s
        .segments
        .iter()
        .zip(&ty.segments)
        .map(|(seg, segment)| svg::Bar {
            label: seg.name.clone(),
            value: seg.accounts as f64,
            text: count(seg.accounts, lang),
            color: segment.color.clone(),
        })
        .collect();
    let rows: Vec<Row> = s
        .segments
        .iter()
        .map(|seg| {
            segment_row(
                &ty.name,
                &seg.name,
                seg.accounts,
                seg.sales,
                vec![
                    seg.name.clone(),
                    count(seg.accounts, lang),
                    money(seg.sales, currency, lang),
                    percent(seg.sales.to_f64(), total, lang),
                ],
            )
        })
        .collect();
    let header = vec![
        l("group", "groupe"),
        l("customers", "clients"),
        l("total spent", "total dépensé"),
        l("% of all sales", "% de toutes les ventes"),
    ];
    Block::Pair(vec![
        Part::Svg(svg::bars(&items)),
        Part::Table(Table { header, rows }),
    ])
}

fn type_section(
    run_as_of: strata_domain::date::Date,
    ty: &SegmentType,
    result: &TypeResult,
    currency: &str,
    lang: Lang,
) -> Section {
    let body = match &ty.method {
        Method::Pareto(_) => pareto_section(ty, result, currency, lang),
        Method::Rfm(spec) => rfm_section(ty, result, spec.bins, spec.naming, currency, lang),
        Method::Rules(_) => rules_section(ty, result, currency, lang),
    };
    Section {
        title: ty.name.clone(),
        meta: describe(ty, result, run_as_of, lang),
        blocks: vec![body],
    }
}

/// The report of a `segment` run.
pub fn segment_report(run: &SegmentRun, info: &ReportInfo<'_>) -> String {
    let lang = info.lang;
    let sections = run
        .types
        .iter()
        .map(|result| {
            let ty = &run.config.types[result.type_idx];
            type_section(run.as_of, ty, result, &run.config.settings.currency, lang)
        })
        .collect();
    let title = format!(
        "{} — {}",
        lang.pick("Customer segments", "Segmentation des clients"),
        run.as_of
    );
    page(lang, title, sections, info)
}

/// The report of a `compare` run.
pub fn compare_report(run: &CompareRun, info: &ReportInfo<'_>) -> String {
    let lang = info.lang;
    let l = |en, fr| lang.pick(en, fr);
    let ty = &run.config.types[run.type_idx];
    let none = l("(none)", "(aucun)").to_owned();
    let builtin = matches!(&ty.method, Method::Rfm(spec) if spec.naming == RfmNaming::DefaultMap);
    let labels: Vec<String> = ty
        .segments
        .iter()
        .map(|s| segment_label(&s.name, builtin, lang))
        .chain([none])
        .collect();
    let counts = &run.matrix.counts;
    let texts: Vec<Vec<String>> = counts
        .iter()
        .map(|row| row.iter().map(|&c| count(c, lang)).collect())
        .collect();
    let [a, b] = &run.periods;
    let period = |r: &TypeResult| {
        r.window
            .map_or_else(String::new, |w| format!("{} – {}", w.first, w.last))
    };
    let matrix = svg::heatmap(&labels, &labels, counts, &texts, "A \\ B");
    let left: Vec<(String, u64)> = labels
        .iter()
        .zip(counts)
        .map(|(n, row)| (n.clone(), row.iter().sum()))
        .collect();
    let right: Vec<(String, u64)> = labels
        .iter()
        .enumerate()
        .map(|(j, n)| (n.clone(), counts.iter().map(|row| row[j]).sum()))
        .collect();
    let links: Vec<(usize, usize, u64)> = counts
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().enumerate().map(move |(j, &c)| (i, j, c)))
        .collect();
    let colors: Vec<Option<String>> = ty.segments.iter().map(|s| s.color.clone()).collect();
    let flow = svg::flow(&left, &right, &links, &colors);
    let mut movements = Vec::new();
    for m in Movement::ALL {
        let n = run.transitions.iter().filter(|t| t.movement == m).count() as u64;
        let name = match m {
            Movement::Improved => l("improved", "en progression"),
            Movement::Declined => l("declined", "en recul"),
            Movement::Unchanged => l("unchanged", "inchangés"),
            Movement::New => l("new", "nouveaux"),
            Movement::Lost => l("lost", "perdus"),
        };
        movements.push(Row {
            class: "movement",
            data: vec![Data::new("movement", m.as_str()), Data::new("count", n)],
            cells: vec![name.to_owned(), count(n, lang)],
        });
    }
    // Per segment, each period's customers and sales, as the summary prints them.
    let per_segment: Vec<Row> = a
        .summary
        .segments
        .iter()
        .zip(&b.summary.segments)
        .map(|(sa, sb)| Row {
            class: "period-row",
            data: vec![
                Data::new("segment", &sa.name),
                Data::new("customers-a", sa.accounts),
                Data::new("customers-b", sb.accounts),
                Data::new("sales-a", sa.sales),
                Data::new("sales-b", sb.sales),
            ],
            cells: vec![
                segment_label(&sa.name, builtin, lang),
                count(sa.accounts, lang),
                count(sb.accounts, lang),
                money(sa.sales, &run.config.settings.currency, lang),
                money(sb.sales, &run.config.settings.currency, lang),
            ],
        })
        .collect();
    let section = Section {
        title: ty.name.clone(),
        meta: format!("A: {} · B: {}", period(a), period(b)),
        blocks: vec![
            Block::Table(Table {
                header: vec![l("movement", "mouvement"), l("customers", "clients")],
                rows: movements,
            }),
            Block::Table(Table {
                header: vec![
                    l("segment", "segment"),
                    l("customers A", "clients A"),
                    l("customers B", "clients B"),
                    l("sales A", "ventes A"),
                    l("sales B", "ventes B"),
                ],
                rows: per_segment,
            }),
            Block::Pair(vec![Part::Svg(matrix), Part::Svg(flow)]),
        ],
    };
    let title = format!(
        "{} — {}",
        l("Customer migrations", "Migrations des clients"),
        ty.name
    );
    page(lang, title, vec![section], info)
}
