//! Manual assignments: a CSV of `segment_type,customer_id,segment` rows,
//! checked against the configuration and the known customers.

use crate::error::{shown, InputError, Location, Result};
use crate::source::TableSource;
use crate::transactions::Dictionaries;
use std::collections::HashMap;
use std::path::PathBuf;
use strata_domain::config::Config;
use strata_domain::segment_type::SegmentIdx;

/// One checked override row, not yet matched to a customer.
#[derive(Debug, Clone)]
struct Row {
    location: Location,
    type_idx: usize,
    customer_id: String,
    segment: SegmentIdx,
}

/// Override rows checked against the configuration.
#[derive(Debug, Default)]
pub struct Overrides {
    path: PathBuf,
    rows: Vec<Row>,
}

/// Manual segments per type, indexed by customer id.
/// Manual assignments per type, as `(customer, segment)` pairs in file order.
pub type ManualByType = Vec<Vec<(u32, SegmentIdx)>>;

/// One manual segment per customer, for types where a customer has one segment.
pub fn one_per_customer(
    pairs: &[(u32, SegmentIdx)],
    n_customers: usize,
) -> Vec<Option<SegmentIdx>> {
    let mut dense = vec![None; n_customers];
    for &(customer, segment) in pairs {
        dense[customer as usize] = Some(segment);
    }
    dense
}

/// Every manual segment of each customer, for types with groups.
pub fn all_per_customer(pairs: &[(u32, SegmentIdx)], n_customers: usize) -> Vec<Vec<SegmentIdx>> {
    let mut dense = vec![Vec::new(); n_customers];
    for &(customer, segment) in pairs {
        dense[customer as usize].push(segment);
    }
    dense
}

impl Overrides {
    /// Reads and checks manual assignments: known types and segments, no duplicates.
    pub fn read(source: &dyn TableSource, config: &Config) -> Result<Overrides> {
        let table = source.read()?;
        let path = table.path.as_path();
        let type_column = table.required_column("segment_type")?;
        let customer_column = table.required_column("customer_id")?;
        let segment_column = table.required_column("segment")?;
        let mut seen: HashMap<(usize, String, Option<SegmentIdx>), Location> = HashMap::new();
        let mut rows = Vec::new();
        for (row, location) in table.locations.iter().enumerate() {
            let error = |column: &str, message: String| {
                InputError::new(path, location.clone(), Some(column), message)
            };
            let cell = |index: usize, column: &str| {
                table
                    .cell(row, index)
                    .map(str::to_owned)
                    .ok_or_else(|| error(column, "empty value".to_owned()))
            };
            let type_name = cell(type_column, "segment_type")?;
            let customer_id = cell(customer_column, "customer_id")?;
            let segment_name = cell(segment_column, "segment")?;
            let Some(type_idx) = config.types.iter().position(|t| t.name == type_name) else {
                let known: Vec<&str> = config.types.iter().map(|t| t.name.as_str()).collect();
                return Err(error(
                    "segment_type",
                    format!(
                        "unknown segment type '{}' (known: {})",
                        shown(&type_name),
                        known.join(", ")
                    ),
                )
                .into());
            };
            let ty = &config.types[type_idx];
            let Some(segment) = ty.segment_idx(&segment_name) else {
                let known: Vec<&str> = ty.segments.iter().map(|s| s.name.as_str()).collect();
                return Err(error(
                    "segment",
                    format!(
                        "unknown segment '{}' in type '{type_name}' (known: {})",
                        shown(&segment_name),
                        known.join(", ")
                    ),
                )
                .into());
            };
            // A customer may be put in several groups of a rules type with groups.
            let key_segment = ty.is_multi().then_some(segment);
            if let Some(first) = seen.insert(
                (type_idx, customer_id.clone(), key_segment),
                location.clone(),
            ) {
                return Err(error(
                    "customer_id",
                    format!(
                        "duplicate override of customer '{}' in type '{type_name}' (first at {first})",
                        shown(&customer_id)
                    ),
                )
                .into());
            }
            rows.push(Row {
                location: location.clone(),
                type_idx,
                customer_id,
                segment,
            });
        }
        Ok(Overrides {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// Number of override rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file had no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Matches rows to known customers; an unknown customer is an error.
    pub fn resolve(&self, config: &Config, dicts: &Dictionaries) -> Result<ManualByType> {
        let mut manual: ManualByType = vec![Vec::new(); config.types.len()];
        for row in &self.rows {
            let Some(customer) = dicts.customers.get(&row.customer_id) else {
                return Err(InputError::new(
                    &self.path,
                    row.location.clone(),
                    Some("customer_id"),
                    format!(
                        "unknown customer '{}': not in the customers or transactions file",
                        shown(&row.customer_id)
                    ),
                )
                .into());
            };
            manual[row.type_idx].push((customer, row.segment));
        }
        Ok(manual)
    }
}
