//! `preview` and `explain`: a rule's matches without saving anything, and why
//! one customer is in each segment.

use crate::error::{Error, Result};
use crate::run::{Explanation, SegmentRun};
use strata_domain::money::{Amount, Percent};
use strata_domain::rules::ast::Expr;
use strata_domain::rules::eval::{all_rows, evaluate, explain as explain_rule, Truth};
use strata_domain::rules::parse::parse;
use strata_domain::segment_type::{Method, MethodKind, SegmentType};

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
}

/// Evaluates a rule over every customer of a run made by `run::inspect`.
pub fn preview(run: &SegmentRun, rule_text: &str) -> Result<Preview> {
    let context = run.rules.as_ref().expect("inspect runs compute features");
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
    let truths = evaluate(&expr, table, &all_rows(table));
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
    })
}

/// A total of a run's amounts: the run's aggregation refuses amounts whose
/// absolute values add up to more than an amount holds, so it fits.
fn bounded_sum(amounts: impl IntoIterator<Item = Amount>) -> Amount {
    Amount::checked_sum(amounts).expect("aggregation bounds the sum of absolute amounts")
}

/// Why one customer is where it is in one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExplanation {
    /// The type's name.
    pub type_name: String,
    /// Its method.
    pub method: MethodKind,
    /// The customer's segments there (empty when none).
    pub segments: Vec<String>,
    /// The reasons, one line each.
    pub lines: Vec<String>,
}

fn cumulative_tiers(ty: &SegmentType) -> String {
    let mut running = Percent::default();
    let mut parts = Vec::new();
    for s in ty.segments.iter().filter(|s| !s.excluded && s.share.0 > 0) {
        running = running + s.share;
        parts.push(format!("{} while before / T < {} %", s.name, running));
    }
    parts.join(", ")
}

/// Explains, for each type, the customer's segment and why.
pub fn explain(run: &SegmentRun, customer_id: &str) -> Result<Vec<TypeExplanation>> {
    let customer = run.dicts.customers.get(customer_id).ok_or_else(|| {
        Error::Usage(format!(
            "unknown customer '{customer_id}': not in the customers or transactions file"
        ))
    })?;
    let context = run.rules.as_ref().expect("inspect runs compute features");
    let mut out = Vec::new();
    for result in &run.types {
        let ty = &run.config.types[result.type_idx];
        let rows: Vec<_> = result
            .rows
            .iter()
            .filter(|r| r.customer == customer)
            .collect();
        let segments = rows
            .iter()
            .filter_map(|r| r.assignment.segment)
            .map(|s| ty.segment_name(s).to_owned())
            .collect();
        let mut lines = Vec::new();
        if let Some(w) = result.window {
            lines.push(format!("window {} .. {}", w.first, w.last));
        }
        for row in &rows {
            let a = row.assignment;
            let name =
                |s: Option<u16>| s.map_or("none".to_owned(), |s| ty.segment_name(s).to_owned());
            if let Some(source) = a.source {
                lines.push(format!(
                    "{}: source {}, computed {}, manual {}",
                    name(a.segment),
                    source.as_str(),
                    name(a.auto_segment),
                    name(a.manual_segment)
                ));
            }
        }
        match (&ty.method, rows.first().map(|r| r.explanation)) {
            (Method::Pareto(spec), explanation) => {
                let eligible = match explanation {
                    Some(Explanation::Pareto {
                        eligible_sales,
                        share_before,
                    }) => {
                        match share_before {
                            Some(f) => lines.push(format!(
                                "eligible sales {eligible_sales}; customers with greater sales make {} of T = {} ({})",
                                f.part, f.whole, f
                            )),
                            None => lines.push(format!("eligible sales {eligible_sales}: not ranked")),
                        }
                        Some(eligible_sales)
                    }
                    _ => None,
                };
                lines.push(format!("tiers: {}", cumulative_tiers(ty)));
                if spec.min_sales > Amount::ZERO {
                    lines.push(format!(
                        "customers below min_sales = {} are not ranked",
                        spec.min_sales
                    ));
                }
                if eligible.is_none() {
                    lines.push(
                        "no segment: no eligible sales in the window and no default tier"
                            .to_owned(),
                    );
                }
            }
            (Method::Rfm(spec), Some(Explanation::Rfm(Some(score)))) => {
                lines.push(format!(
                    "recency {} days, frequency {} orders, monetary {} -> R {} F {} M {}",
                    score.recency_days, score.frequency, score.monetary, score.r, score.f, score.m
                ));
                let how = |fixed: bool| {
                    if fixed {
                        "fixed thresholds"
                    } else {
                        "quantiles of the scored customers"
                    }
                };
                lines.push(format!(
                    "scores from: R {}, F {}, M {}",
                    how(spec.recency_days.is_some()),
                    how(spec.frequency.is_some()),
                    how(spec.monetary.is_some())
                ));
            }
            (Method::Rfm(_), _) => {
                lines.push("no positive order in the window: not scored".to_owned())
            }
            (Method::Rules(_), _) => {
                if !context.considers(ty, customer) {
                    lines.push(
                        "no line of the type's agencies and brands, and no such agency in the customers file: no rule applies"
                            .to_owned(),
                    );
                }
                for segment in &ty.segments {
                    let listed = |list: &[String]| {
                        list.iter()
                            .any(|e| e == customer_id || context.email_matches(e, customer))
                    };
                    if listed(&segment.exclude) {
                        lines.push(format!("{}: on the exclude list", segment.name));
                    } else if listed(&segment.include) {
                        lines.push(format!("{}: on the include list", segment.name));
                    }
                    let Some(rule) = &segment.rule else { continue };
                    let (clauses, truth) = explain_rule(&rule.expr, context.table_of(ty), customer);
                    lines.push(format!(
                        "{}: {} is {}",
                        segment.name,
                        rule.expr,
                        truth.as_str()
                    ));
                    for c in clauses {
                        lines.push(format!(
                            "    {} ({}) is {}",
                            c.condition,
                            c.value,
                            c.truth.as_str()
                        ));
                    }
                }
            }
        }
        out.push(TypeExplanation {
            type_name: ty.name.clone(),
            method: ty.method.kind(),
            segments,
            lines,
        });
    }
    Ok(out)
}
