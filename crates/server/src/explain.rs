//! Why a customer is where it is, on stored data: the engine explains, the
//! server only gathers what it reads. Pareto and RFM types are explained
//! from the figures of their latest result (their ranks and quantiles
//! depend on every customer, so no single customer's lines can redo
//! them); rules types are evaluated again by the engine on the customer's
//! own lines, as of their latest run's date, reading the stored segments
//! of the other types as that run did.

use crate::error::{ApiError, ApiResult};
use crate::runner::{customers_table, lists_of, manual_table, result_rows, Failure};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::Arc;
use strata_domain::classify::{automatic_of, effective_segments, Source};
use strata_domain::config::Config;
use strata_domain::date::Date;
use strata_domain::segment_type::{Method, SegmentType};
use strata_engine::inspect::{self, Reason, RowExplanation, TypeExplanation};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs, State, StoredResult};
use strata_engine::source::{Line, MemoryLines};
use strata_report::explain::{heading, lines};
use strata_report::format::Lang;
use strata_store::{CustomerDetail, ListEntry, OrgId, ResultRow, Store, StoredLine};

/// A customer's place in one type now: its stored rows and its segments
/// with today's manual assignments.
pub struct Place<'a> {
    /// The type.
    pub ty: &'a SegmentType,
    /// Its rows in the type's latest result.
    pub rows: Vec<&'a ResultRow>,
    /// The segments the method (or a list) gave, with their sources.
    pub automatic: Vec<(&'a str, Source)>,
    /// The segments assigned by hand.
    pub manual: Vec<&'a str>,
    /// The segments in force.
    pub effective: Vec<&'a str>,
}

/// A customer's place in every type of `config`.
pub fn places<'a>(config: &'a Config, detail: &'a CustomerDetail) -> Vec<Place<'a>> {
    config
        .types
        .iter()
        .map(|ty| {
            let rows: Vec<_> = detail
                .results
                .iter()
                .filter(|r| r.type_name == ty.name)
                .collect();
            let automatic = automatic_of(rows.iter().map(|r| r.stored()));
            let manual: Vec<&str> = detail
                .manual
                .iter()
                .filter(|(t, _)| *t == ty.name)
                .map(|(_, s)| s.as_str())
                .collect();
            let effective = effective_segments(ty.one_per_account(), &automatic, &manual);
            Place {
                ty,
                rows,
                automatic,
                manual,
                effective,
            }
        })
        .collect()
}

fn is_rules(ty: &SegmentType) -> bool {
    matches!(ty.method, Method::Rules(_))
}

/// The explanation of every type that has a result, by type name;
/// `entries` are the organisation's static list entries.
pub async fn explain(
    store: &dyn Store,
    org: OrgId,
    config: &Arc<Config>,
    detail: &CustomerDetail,
    places: &[Place<'_>],
    entries: &[ListEntry],
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
    let inputs = customer_inputs(store, org, config, detail, places, entries, is_rules).await?;
    let dates: HashMap<String, Date> = detail.as_of.iter().map(|(t, d)| (t.clone(), *d)).collect();
    let config = Config::clone(config);
    let explained = tokio::task::spawn_blocking(move || {
        let mut kept = Vec::new();
        for date in rules_dates {
            let inspected = run::inspect(config.clone(), &inputs, date, &one_thread())?;
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

/// The engine on the caller's thread: one customer's lines are no work
/// for a pipeline of threads.
fn one_thread() -> Control<'static> {
    Control {
        threads: NonZeroUsize::MIN,
        ..Control::silent()
    }
}

/// The engine's inputs for one customer: its lines and attributes, the
/// static lists (`entries`), its manual segments in the types `computed` picks (which
/// the engine classifies) and, for every other type, its segments in
/// force as the type's latest result and today's manual assignments give
/// them (which rules read with `segment()` and `rfm()`).
async fn customer_inputs(
    store: &dyn Store,
    org: OrgId,
    config: &Config,
    detail: &CustomerDetail,
    places: &[Place<'_>],
    entries: &[ListEntry],
    computed: impl Fn(&SegmentType) -> bool,
) -> ApiResult<Inputs> {
    let id = &detail.customer.id;
    let lines = store.customer_lines(org, id).await?;
    let stored = places
        .iter()
        .filter(|p| !computed(p.ty))
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
        .filter(|p| computed(p.ty))
        .flat_map(|p| {
            p.manual
                .iter()
                .map(|s| (p.ty.name.clone(), id.clone(), (*s).to_owned()))
        })
        .collect();
    let internal =
        |e: strata_engine::Error| ApiError::Internal(format!("the engine's inputs: {e}"));
    // One batch holds the customer's lines: a batch sized for a run
    // would allocate for 65,536 lines on every lookup.
    let batch_lines = NonZeroUsize::new(lines.len()).unwrap_or(NonZeroUsize::MIN);
    Ok(Inputs {
        lines: Box::new(MemoryLines {
            name: format!("the lines of customer '{id}'"),
            lines: lines.into_iter().map(engine_line).collect(),
            batch_lines,
        }),
        customers: customers_table(std::slice::from_ref(&detail.customer)).map_err(internal)?,
        overrides: manual_table(&manual).map_err(internal)?,
        state: State {
            lists: lists_of(config, entries.to_vec()),
            stored,
        },
    })
}

/// A customer's rows of a rules type now, as a run of that type alone on
/// its latest date would give them: after its static lists changed, so
/// that the change takes effect at once. `None` when the type has no
/// result yet (its first run applies the lists). `entries` are the
/// organisation's static list entries.
pub async fn rules_rows(
    store: &dyn Store,
    org: OrgId,
    config: &Arc<Config>,
    detail: &CustomerDetail,
    places: &[Place<'_>],
    entries: &[ListEntry],
    type_name: &str,
) -> ApiResult<Option<Vec<ResultRow>>> {
    let Some(&(_, as_of)) = detail.as_of.iter().find(|(t, _)| t == type_name) else {
        return Ok(None);
    };
    let inputs = customer_inputs(store, org, config, detail, places, entries, |t| {
        t.name == type_name
    })
    .await?;
    let config = Config::clone(config);
    let type_name = type_name.to_owned();
    tokio::task::spawn_blocking(move || {
        let run = run::segment(config, &inputs, as_of, &one_thread())
            .map_err(|e| ApiError::Internal(format!("classifying '{type_name}': {e}")))?;
        let mut rows = result_rows(&run).map_err(|e| match e {
            Failure::Cancelled => ApiError::Internal(format!("classifying '{type_name}' stopped")),
            Failure::Failed(why) => ApiError::Internal(why),
        })?;
        Ok(Some(rows.remove(&type_name).unwrap_or_default()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("classifying stopped: {e}")))?
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
        place.automatic.first().map_or(Source::Computed, |a| a.1)
    } else {
        Source::Manual
    };
    vec![RowExplanation {
        segment: (*segment).to_owned(),
        source,
        computed: place.automatic.first().map(|s| s.0.to_owned()),
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
