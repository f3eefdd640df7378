//! `preview` and `explain`: a rule's matches without saving anything, and why
//! one customer is in each segment.

use crate::error::{Error, Result};
use crate::output::Figure;
use crate::run::{Explanation, InspectRun};
use std::collections::BTreeMap;
use std::fmt;
use strata_domain::classify::Source;
use strata_domain::date::{Date, Window};
use strata_domain::money::{Amount, ExtraDigits, Fraction, Percent};
use strata_domain::rfm::RfmScore;
use strata_domain::rules::ast::Expr;
use strata_domain::rules::eval::{
    all_rows, evaluate, explain as explain_rule, ClauseExplanation, Truth,
};
use strata_domain::rules::parse::parse;
use strata_domain::segment_type::{Method, MethodKind, RfmSpec, SegmentType};

/// How many matches a preview lists.
pub const PREVIEW_ROWS: usize = 20;

/// What a rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    /// The rule in canonical text.
    pub rule: String,
    /// Customers evaluated.
    pub customers: u64,
    /// Customers for whom the rule is true.
    pub matched: u64,
    /// Their total spent.
    pub spent_matched: Amount,
    /// Everyone's total spent.
    pub spent_all: Amount,
    /// The operands the rule reads, as written.
    pub columns: Vec<String>,
    /// The first matches by customer id, with the values of those operands.
    pub first: Vec<(String, Vec<String>)>,
    /// Each block of the rule ([`Expr::blocks`]) in canonical text, with
    /// the customers it matches on its own.
    pub blocks: Vec<(String, u64)>,
}

/// Evaluates a rule over every customer of a run made by `run::inspect`.
pub fn preview(run: &InspectRun, rule_text: &str) -> Result<Preview> {
    let (context, run) = (&run.rules, &run.run);
    let schema = context.schema(&run.config);
    let expr = if rule_text.trim_start().starts_with('{') {
        // The JSON form of a rule (the AST), validated as the text form is.
        let expr: Expr = serde_json::from_str(rule_text)
            .map_err(|e| Error::Usage(format!("rule: not a rule in JSON form: {e}")))?;
        schema
            .validate(&expr)
            .map_err(|problems| Error::Usage(format!("rule: {}", problems.join("; "))))?;
        expr
    } else {
        parse(rule_text, Some(&schema)).map_err(|e| Error::Usage(format!("rule: {e}")))?
    };
    let table = context.table();
    let rows = all_rows(table);
    let truths = evaluate(&expr, table, &rows);
    let blocks = expr
        .blocks()
        .into_iter()
        .map(|block| {
            let matched = evaluate(block, table, &rows)
                .iter()
                .filter(|&&t| t == Truth::True)
                .count();
            (block.to_string(), matched as u64)
        })
        .collect();
    let mut matched: Vec<u32> = (0..table.rows as u32)
        .filter(|&c| truths[c as usize] == Truth::True)
        .collect();
    run.dicts.sort_by_customer_id(&mut matched, |&c| c);
    let mut columns: Vec<String> = Vec::new();
    let mut operands = Vec::new();
    for c in expr.conditions() {
        let text = c.operand().to_string();
        if !columns.contains(&text) {
            columns.push(text);
            operands.push(c.operand().clone());
        }
    }
    let first = matched
        .iter()
        .take(PREVIEW_ROWS)
        .map(|&c| {
            let values = operands
                .iter()
                .map(|o| {
                    table
                        .column(o)
                        .map_or_else(|| "null".to_owned(), |col| col.display(c as usize))
                })
                .collect();
            (run.dicts.customers.name(c).to_owned(), values)
        })
        .collect();
    Ok(Preview {
        rule: expr.to_string(),
        customers: table.rows as u64,
        matched: matched.len() as u64,
        spent_matched: bounded_sum(matched.iter().map(|&c| context.total_spent(c))),
        spent_all: bounded_sum((0..table.rows as u32).map(|c| context.total_spent(c))),
        columns,
        first,
        blocks,
    })
}

/// Classifies a rules type of `config` on an inspection without storing
/// anything: `config` is the inspection's with this type added or changed.
/// Its own manual assignments play no part.
pub fn preview_type(
    run: &InspectRun,
    config: &strata_domain::config::Config,
    type_name: &str,
) -> Result<crate::result::TypeResult> {
    let type_idx = config
        .types
        .iter()
        .position(|t| t.name == type_name)
        .ok_or_else(|| Error::Usage(format!("no type named '{type_name}'")))?;
    let ty = &config.types[type_idx];
    if !matches!(ty.method, Method::Rules(_)) {
        return Err(Error::Usage(format!(
            "'{type_name}' is a {} type: previews evaluate rules; run it over a period instead",
            ty.method.kind().name()
        )));
    }
    if !run.rules.has_scope(&ty.lines) {
        return Err(Error::Usage(format!(
            "'{type_name}' reads the lines of some agencies or brands only: previews read every line; run it over a period instead"
        )));
    }
    let mut warnings = Vec::new();
    run.rules
        .classify_type(type_idx, config, &[], &run.run.dicts, &mut warnings)
}

/// A total of a run's amounts: the run's aggregation refuses amounts whose
/// absolute values add up to more than an amount holds, so it fits.
fn bounded_sum(amounts: impl IntoIterator<Item = Amount>) -> Amount {
    Amount::checked_sum(amounts).expect("aggregation bounds the sum of absolute amounts")
}

/// Why one customer is where it is in one type: figures and reasons as
/// data, rendered in words by the caller (`strata_report::explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExplanation {
    /// The type's name.
    pub type_name: String,
    /// Its method.
    pub method: MethodKind,
    /// The window of lines read (none for rules types, which read every
    /// line up to the as-of date).
    pub window: Option<Window>,
    /// The customer's rows there: one in a tier or exclusive type, one per
    /// group in a group type, none without a segment.
    pub rows: Vec<RowExplanation>,
    /// What the method saw.
    pub reason: Reason,
}

/// One row of a customer in a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowExplanation {
    /// The segment in force.
    pub segment: String,
    /// Where it comes from.
    pub source: Source,
    /// The segment the method (or the default) gave, if any.
    pub computed: Option<String>,
    /// The segment assigned by hand, if any.
    pub manual: Option<String>,
}

/// What a method saw for one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Pareto: the customer's eligible sales and where they rank.
    Pareto {
        /// Eligible sales in the window (of the VAT group for `identity = "vat"`).
        eligible_sales: Option<Amount>,
        /// `before / T` when ranked.
        share_before: Option<Share>,
        /// Each ranked tier with its cumulative share `C`.
        tiers: Vec<(String, Percent)>,
        /// The type's `min_sales`.
        min_sales: Amount,
    },
    /// RFM: the figures and scores, and whether each score came from fixed
    /// thresholds (else quantiles).
    Rfm {
        /// The score, `None` without a positive order in the window.
        score: Option<RfmScore>,
        /// Fixed thresholds for R, F and M.
        fixed: [bool; 3],
    },
    /// Rules: each segment's lists and rule.
    Rules {
        /// Whether the type considers the customer (its agencies and brands).
        considered: bool,
        /// Per segment, in order.
        segments: Vec<RuleSegmentExplanation>,
    },
}

/// `before / T`: exact when the engine just ranked the customer, as
/// `assignments.csv` printed it when read back from a stored result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Share {
    /// The exact fraction.
    Exact(Fraction),
    /// Six decimals, truncated toward zero.
    Printed(String),
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Share::Exact(fraction) => fraction.fmt(f),
            Share::Printed(text) => f.write_str(text),
        }
    }
}

/// Why a rules segment takes a customer or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSegmentExplanation {
    /// The segment.
    pub segment: String,
    /// On the include list (by id or e-mail, as the classification reads it).
    pub included: bool,
    /// On the exclude list.
    pub excluded: bool,
    /// The rule's canonical text, its truth and each condition, if it has one.
    pub rule: Option<(String, Truth, Vec<ClauseExplanation>)>,
}

fn cumulative_tiers(ty: &SegmentType) -> Vec<(String, Percent)> {
    let mut running = Percent::default();
    ty.segments
        .iter()
        .filter(|s| !s.excluded && s.share.0 > 0)
        .map(|s| {
            running = running + s.share;
            (s.name.clone(), running)
        })
        .collect()
}

/// Explains a customer's place in a Pareto or RFM type from the figures
/// of its row in a stored `assignments.csv` (`figures` by column name;
/// empty without a row), without reading any line: `None` for a rules
/// type, whose conditions need the customer's lines (`explain`).
pub fn explain_figures(
    ty: &SegmentType,
    as_of: Date,
    rows: Vec<RowExplanation>,
    figures: &BTreeMap<String, String>,
) -> std::result::Result<Option<TypeExplanation>, String> {
    let text = |figure: Figure| figures.get(figure.name()).map(String::as_str);
    let amount = |figure: Figure| {
        text(figure)
            .map(|t| {
                Amount::parse(t, false, ExtraDigits::Reject)
                    .map_err(|e| format!("{}: {t:?}: {e}", figure.name()))
            })
            .transpose()
    };
    fn number<T: std::str::FromStr>(
        figure: Figure,
        text: Option<&str>,
    ) -> std::result::Result<Option<T>, String> {
        text.map(|t| {
            t.parse()
                .map_err(|_| format!("{}: {t:?} is not a whole number", figure.name()))
        })
        .transpose()
    }
    let reason = match &ty.method {
        Method::Pareto(spec) => Reason::Pareto {
            eligible_sales: amount(Figure::EligibleSales)?,
            share_before: text(Figure::ShareBefore).map(|t| Share::Printed(t.to_owned())),
            tiers: cumulative_tiers(ty),
            min_sales: spec.min_sales,
        },
        Method::Rfm(spec) => {
            let parts = (
                number(Figure::RecencyDays, text(Figure::RecencyDays))?,
                number(Figure::Frequency, text(Figure::Frequency))?,
                amount(Figure::Monetary)?,
                number(Figure::R, text(Figure::R))?,
                number(Figure::F, text(Figure::F))?,
                number(Figure::M, text(Figure::M))?,
            );
            let score = match parts {
                (
                    Some(recency_days),
                    Some(frequency),
                    Some(monetary),
                    Some(r),
                    Some(f),
                    Some(m),
                ) => Some(RfmScore {
                    recency_days,
                    frequency,
                    monetary,
                    r,
                    f,
                    m,
                }),
                (None, None, None, None, None, None) => None,
                _ => return Err("some of the RFM figures are missing".into()),
            };
            Reason::Rfm {
                score,
                fixed: fixed_scores(spec),
            }
        }
        Method::Rules(_) => return Ok(None),
    };
    Ok(Some(TypeExplanation {
        type_name: ty.name.clone(),
        method: ty.method.kind(),
        window: Some(ty.interval.window(as_of)),
        rows,
        reason,
    }))
}

/// Which RFM scores come from fixed thresholds (else quantiles).
fn fixed_scores(spec: &RfmSpec) -> [bool; 3] {
    [
        spec.recency_days.is_some(),
        spec.frequency.is_some(),
        spec.monetary.is_some(),
    ]
}

/// Explains, for each type, the customer's segment and why.
pub fn explain(run: &InspectRun, customer_id: &str) -> Result<Vec<TypeExplanation>> {
    let (context, run) = (&run.rules, &run.run);
    let customer = run.dicts.customers.get(customer_id).ok_or_else(|| {
        Error::Usage(format!(
            "unknown customer '{customer_id}': not in the customers or transactions file"
        ))
    })?;
    let mut out = Vec::new();
    for result in &run.types {
        let ty = &run.config.types[result.type_idx];
        let mine: Vec<_> = result
            .rows
            .iter()
            .filter(|r| r.customer == customer)
            .collect();
        let name = |s: Option<u16>| s.map(|s| ty.segment_name(s).to_owned());
        let rows = mine
            .iter()
            .filter_map(|r| {
                let a = r.assignment;
                Some(RowExplanation {
                    segment: name(a.segment)?,
                    source: a.source?,
                    computed: name(a.auto_segment),
                    manual: name(a.manual_segment),
                })
            })
            .collect();
        let explanation = mine.first().map(|r| r.explanation);
        let reason = match &ty.method {
            Method::Pareto(spec) => {
                let (eligible_sales, share_before) = match explanation {
                    Some(Explanation::Pareto {
                        eligible_sales,
                        share_before,
                    }) => (Some(eligible_sales), share_before.map(Share::Exact)),
                    _ => (None, None),
                };
                Reason::Pareto {
                    eligible_sales,
                    share_before,
                    tiers: cumulative_tiers(ty),
                    min_sales: spec.min_sales,
                }
            }
            Method::Rfm(spec) => Reason::Rfm {
                score: match explanation {
                    Some(Explanation::Rfm(score)) => score,
                    _ => None,
                },
                fixed: fixed_scores(spec),
            },
            Method::Rules(_) => Reason::Rules {
                considered: context.considers(ty, customer),
                segments: ty
                    .segments
                    .iter()
                    .map(|segment| RuleSegmentExplanation {
                        segment: segment.name.clone(),
                        included: context.lists(&segment.include, customer, &run.dicts),
                        excluded: context.lists(&segment.exclude, customer, &run.dicts),
                        rule: segment.rule.as_ref().map(|rule| {
                            let (clauses, truth) =
                                explain_rule(&rule.expr, context.table_of(ty), customer);
                            (rule.expr.to_string(), truth, clauses)
                        }),
                    })
                    .collect(),
            },
        };
        out.push(TypeExplanation {
            type_name: ty.name.clone(),
            method: ty.method.kind(),
            window: result.window,
            rows,
            reason,
        });
    }
    Ok(out)
}
