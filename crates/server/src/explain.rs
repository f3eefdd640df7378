//! Why a customer is where it is, on stored data: the engine explains, the
//! server only gathers what it reads. Pareto and RFM types are explained
//! from the figures of their latest result (their ranks and quantiles
//! depend on every customer, so no single customer's lines can redo
//! them); rules types are evaluated again by the engine on the customer's
//! own lines, as of their latest run's date, reading the stored segments
//! of the other types as that run did.

use crate::error::{ApiError, ApiResult};
use crate::runner::{customers_table, manual_table};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::Arc;
use strata_domain::classify::Source;
use strata_domain::config::Config;
use strata_domain::date::Date;
use strata_domain::segment_type::{Method, SegmentType};
use strata_engine::inspect::{self, Reason, RowExplanation, TypeExplanation};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs, State, StoredResult};
use strata_engine::source::{Line, MemoryLines};
use strata_report::explain::{heading, lines};
use strata_report::format::Lang;
use strata_store::{CustomerDetail, OrgId, ResultRow, Store, StoredLine};

/// A customer's place in one type now: its stored rows and its segments
/// with today's manual assignments.
pub struct Place<'a> {
    /// The type.
    pub ty: &'a SegmentType,
    /// Its rows in the type's latest result.
    pub rows: Vec<&'a ResultRow>,
    /// The segments the method (or a list) gave.
    pub automatic: Vec<&'a str>,
    /// The segments assigned by hand.
    pub manual: Vec<&'a str>,
    /// The segments in force.
    pub effective: Vec<&'a str>,
}

fn is_rules(ty: &SegmentType) -> bool {
    matches!(ty.method, Method::Rules(_))
}

/// The explanation of every type that has a result, by type name.
pub async fn explain(
    store: &dyn Store,
    org: OrgId,
    config: &Arc<Config>,
    detail: &CustomerDetail,
    places: &[Place<'_>],
) -> ApiResult<HashMap<String, TypeExplanation>> {
    let as_of: HashMap<&str, Date> = detail.as_of.iter().map(|(t, d)| (t.as_str(), *d)).collect();
    let mut out = HashMap::new();
    let mut rules_dates = BTreeSet::new();
    for place in places {
        let Some(&date) = as_of.get(place.ty.name.as_str()) else {
            continue;
        };
        if is_rules(place.ty) {
            rules_dates.insert(date);
            continue;
        }
        let no_figures = BTreeMap::new();
        let figures = place.rows.first().map_or(&no_figures, |r| &r.figures);
        match inspect::explain_figures(place.ty, date, current_rows(place), figures) {
            Ok(Some(e)) => {
                out.insert(place.ty.name.clone(), e);
            }
            Ok(None) => {}
            Err(why) => {
                return Err(ApiError::Internal(format!(
                    "the stored figures of '{}': {why}",
                    place.ty.name
                )))
            }
        }
    }
    if rules_dates.is_empty() {
        return Ok(out);
    }
    let id = detail.customer.id.clone();
    let lines = store.customer_lines(org, &id).await?;
    // The other types as the rules read them: their latest result with
    // today's manual assignments.
    let stored = places
        .iter()
        .filter(|p| !is_rules(p.ty))
        .map(|p| StoredResult {
            type_name: p.ty.name.clone(),
            rows: p
                .effective
                .iter()
                .map(|s| (id.clone(), (*s).to_owned()))
                .collect(),
        })
        .collect();
    let manual: Vec<(String, String, String)> = places
        .iter()
        .filter(|p| is_rules(p.ty))
        .flat_map(|p| {
            p.manual
                .iter()
                .map(|s| (p.ty.name.clone(), id.clone(), (*s).to_owned()))
        })
        .collect();
    let dates: HashMap<String, Date> = detail.as_of.iter().map(|(t, d)| (t.clone(), *d)).collect();
    let customer = detail.customer.clone();
    let config = Config::clone(config);
    let explained = tokio::task::spawn_blocking(move || {
        // One batch holds the customer's lines: a batch sized for a run
        // would allocate for 65,536 lines on every lookup.
        let batch_lines = NonZeroUsize::new(lines.len()).unwrap_or(NonZeroUsize::MIN);
        let inputs = Inputs {
            lines: Box::new(MemoryLines {
                name: format!("the lines of customer '{id}'"),
                lines: lines.into_iter().map(engine_line).collect(),
                batch_lines,
            }),
            customers: customers_table(std::slice::from_ref(&customer))?,
            overrides: manual_table(&manual)?,
            state: State {
                lists: Vec::new(),
                stored,
            },
        };
        let control = Control {
            threads: NonZeroUsize::MIN,
            ..Control::silent()
        };
        let mut kept = Vec::new();
        for date in rules_dates {
            let inspected = run::inspect(config.clone(), &inputs, date, &control)?;
            kept.extend(
                inspect::explain(&inspected, &id)?
                    .into_iter()
                    .filter(|e| dates.get(&e.type_name) == Some(&date)),
            );
        }
        Ok::<_, strata_engine::Error>(kept)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("explaining stopped: {e}")))?
    .map_err(|e| ApiError::Internal(format!("explaining the rules: {e}")))?;
    out.extend(explained.into_iter().map(|e| (e.type_name.clone(), e)));
    Ok(out)
}

/// A stored line as the engine reads it.
fn engine_line(line: StoredLine) -> Line {
    Line {
        order_id: line.order_id,
        customer_id: line.customer_id,
        date: line.date,
        amount: line.amount,
        margin: line.margin,
        agency: line.agency,
        brand: line.brand,
        category: line.category,
        status: line.status,
        due_date: line.due_date,
    }
}

/// The rows of a Pareto or RFM type (one segment at most) with today's
/// manual assignment.
fn current_rows(place: &Place<'_>) -> Vec<RowExplanation> {
    let Some(segment) = place.effective.first() else {
        return Vec::new();
    };
    let source = if place.manual.is_empty() {
        place
            .rows
            .first()
            .and_then(|r| Source::from_name(&r.source))
            // A manual segment of the run since cleared: the method's.
            .filter(|s| *s != Source::Manual)
            .unwrap_or(Source::Computed)
    } else {
        Source::Manual
    };
    vec![RowExplanation {
        segment: (*segment).to_owned(),
        source,
        computed: place.automatic.first().map(|s| (*s).to_owned()),
        manual: place.manual.first().map(|s| (*s).to_owned()),
    }]
}

/// An explanation as data and as text in `lang`.
pub fn to_json(e: &TypeExplanation, lang: Lang) -> Value {
    let mut text = vec![heading(e, lang)];
    text.extend(lines(e, lang));
    json!({
        "data": data(e),
        "text": text,
    })
}

/// The data of an explanation: amounts and shares as exact decimal text.
fn data(e: &TypeExplanation) -> Value {
    let reason = match &e.reason {
        Reason::Pareto {
            eligible_sales,
            share_before,
            tiers,
            min_sales,
        } => json!({
            "eligible_sales": eligible_sales.map(|a| a.to_string()),
            "share_before": share_before.as_ref().map(|s| s.to_string()),
            "tiers": tiers.iter().map(|(segment, cumulative)| json!({
                "segment": segment,
                "cumulative_share": cumulative.to_string(),
            })).collect::<Vec<_>>(),
            "min_sales": min_sales.to_string(),
        }),
        Reason::Rfm { score, fixed } => json!({
            "score": score.map(|s| json!({
                "recency_days": s.recency_days,
                "frequency": s.frequency,
                "monetary": s.monetary.to_string(),
                "r": s.r,
                "f": s.f,
                "m": s.m,
            })),
            "fixed_thresholds": {"r": fixed[0], "f": fixed[1], "m": fixed[2]},
        }),
        Reason::Rules {
            considered,
            segments,
        } => json!({
            "considered": considered,
            "segments": segments.iter().map(|s| json!({
                "segment": s.segment,
                "included": s.included,
                "excluded": s.excluded,
                "rule": s.rule.as_ref().map(|(text, truth, clauses)| json!({
                    "text": text,
                    "truth": truth.as_str(),
                    "conditions": clauses.iter().map(|c| json!({
                        "condition": c.condition,
                        "value": c.value,
                        "truth": c.truth.as_str(),
                    })).collect::<Vec<_>>(),
                })),
            })).collect::<Vec<_>>(),
        }),
    };
    json!({
        "method": e.method.name(),
        "window": e.window.map(|w| json!({"first": w.first.to_string(), "last": w.last.to_string()})),
        "rows": e.rows.iter().map(|r| json!({
            "segment": r.segment,
            "source": r.source.as_str(),
            "computed": r.computed,
            "manual": r.manual,
        })).collect::<Vec<_>>(),
        "reason": reason,
    })
}
