//! Loading: the customers, then every line through the aggregators of the
//! requested windows and feature scopes.

use super::Inputs;
use crate::aggregate::{Aggregated, Aggregator, FeatureFigures};
use crate::customers::{load_customers, CustomerTable};
use crate::error::Result;
use crate::progress::Control;
use crate::result::overflow_error;
use crate::result::FileInfo;
use crate::transactions::{read_lines, Dictionaries, NeededColumn, Selection};
use strata_domain::columns::LineColumn;
use strata_domain::config::Config;
use strata_domain::date::{Date, Window};
use strata_domain::segment_type::{LineFilter, Measure, Method, SegmentType};

/// Whether a type is classified by rules.
pub(super) fn is_rules(ty: &SegmentType) -> bool {
    matches!(ty.method, Method::Rules(_))
}

/// The features rules read: every line up to a date, once per distinct line
/// filter of the rules types (and unfiltered for previews).
pub(super) struct FeatureScopes {
    pub(super) as_of: Date,
    pub(super) filters: Vec<LineFilter>,
}

/// Loaded customers and the per-type figures of each requested window.
pub(super) struct Loaded {
    pub(super) dicts: Dictionaries,
    pub(super) customers: CustomerTable,
    pub(super) aggregated: Vec<Aggregated>,
    /// The features of each scope asked for, in order.
    pub(super) features: Vec<FeatureFigures>,
    pub(super) files: Vec<FileInfo>,
    /// Line filters naming no agency or brand of the files.
    pub(super) warnings: Vec<String>,
}

/// The transaction columns a configuration reads; all of them when
/// `every_feature`, for rules given later (preview, explain).
pub(super) fn selection(config: &Config, every_feature: bool) -> Selection {
    let required = config
        .types
        .iter()
        .filter(|ty| matches!(&ty.method, Method::Pareto(spec) if spec.measure == Measure::Margin))
        .map(|ty| NeededColumn {
            column: LineColumn::Margin,
            reason: format!("type '{}' (measure = \"margin\")", ty.name),
        })
        .collect();
    let mut columns: Vec<LineColumn> = if every_feature {
        // Every column a feature may read; `line` identifies stored lines
        // and no classification reads it.
        LineColumn::ALL
            .into_iter()
            .filter(|c| *c != LineColumn::Line)
            .collect()
    } else {
        config
            .types
            .iter()
            .flat_map(SegmentType::line_columns)
            .collect()
    };
    columns.sort_unstable();
    columns.dedup();
    Selection {
        required,
        optional: Some(columns),
        ..Selection::default()
    }
}

pub(super) fn load(
    inputs: &Inputs,
    config: &Config,
    selection: &Selection,
    windows: &[(usize, Window)],
    features: Option<&FeatureScopes>,
    control: &Control<'_>,
) -> Result<Loaded> {
    let mut dicts = Dictionaries::default();
    let mut files = Vec::new();
    let customers = match &inputs.customers {
        Some(source) => {
            control.progress.start("reading customers", None);
            let table = load_customers(source.as_ref(), &mut dicts)?;
            control.progress.finish();
            files.push(FileInfo {
                name: source.name(),
                lines: table.rows(),
            });
            table
        }
        None => CustomerTable::default(),
    };
    customers.check_declared(&config.settings.attributes)?;
    crate::rules_run::check_rules(config, &customers)?;
    let mut aggregators: Vec<Aggregator> = windows
        .iter()
        .map(|&(t, w)| Aggregator::new(&config.types[t], w, &config.settings.closed_statuses))
        .chain(features.into_iter().flat_map(|f| {
            f.filters.iter().map(|filter| {
                Aggregator::features(f.as_of, filter.clone(), &config.settings.closed_statuses)
            })
        }))
        .collect();
    let info = read_lines(
        inputs.lines.as_ref(),
        selection,
        &mut dicts,
        control,
        &mut |batch| {
            for aggregator in &mut aggregators {
                aggregator.consume(batch);
            }
        },
    )?;
    files.insert(
        0,
        FileInfo {
            name: inputs.lines.name(),
            lines: info.lines,
        },
    );
    // The types each aggregator serves, to name them in warnings and errors.
    let served: Vec<Vec<usize>> = windows
        .iter()
        .map(|&(t, _)| vec![t])
        .chain(features.into_iter().flat_map(|f| {
            f.filters.iter().map(|filter| {
                (0..config.types.len())
                    .filter(|&t| is_rules(&config.types[t]) && &config.types[t].lines == filter)
                    .collect()
            })
        }))
        .collect();
    let mut warnings: Vec<String> = Vec::new();
    for (aggregator, types) in aggregators.iter().zip(&served) {
        for unmatched in aggregator.unmatched_filters() {
            for &t in types {
                let warning = format!("type '{}': {unmatched}", config.types[t].name);
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
    }
    let contexts = served.iter().map(|types| match types.first() {
        Some(&t) => format!("type '{}'", config.types[t].name),
        None => "the features rules read".to_owned(),
    });
    let mut aggregated: Vec<Aggregated> = aggregators
        .into_iter()
        .zip(contexts)
        .map(|(a, context)| {
            a.finish(&dicts)
                .map_err(|o| overflow_error(context, o.unit, &dicts, o))
        })
        .collect::<Result<_>>()?;
    let features = aggregated
        .split_off(windows.len())
        .into_iter()
        .map(|a| match a {
            Aggregated::Features(f) => f,
            _ => unreachable!("feature aggregators come after the windows"),
        })
        .collect();
    Ok(Loaded {
        dicts,
        customers,
        aggregated,
        features,
        files,
        warnings,
    })
}
