//! What a server keeps between runs: list entries and stored results.

use super::load::is_rules;
use crate::error::{Error, Result};
use crate::transactions::Dictionaries;
use strata_domain::config::Config;
use strata_domain::segment_type::{SegmentIdx, SegmentType};

/// What a server keeps between runs and hands to the next one, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Include and exclude entries kept beside the configuration (static
    /// members added by hand), added to the rules segments' own lists.
    pub lists: Vec<ListEntries>,
    /// Results kept from earlier runs: these types are not classified
    /// again, and rules that read them with `segment()` or `rfm()` read
    /// these. A `segment` run's output leaves them out.
    pub stored: Vec<StoredResult>,
}

/// Include and exclude entries of one rules segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListEntries {
    /// The type's name.
    pub type_name: String,
    /// The segment's name.
    pub segment: String,
    /// Customer ids or e-mails always in.
    pub include: Vec<String>,
    /// Customer ids or e-mails never in.
    pub exclude: Vec<String>,
}

/// The stored assignments of one type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredResult {
    /// The type's name.
    pub type_name: String,
    /// `(customer id, segment name)`, one per membership.
    pub rows: Vec<(String, String)>,
}

impl State {
    /// Applies the state to a configuration: checks that stored results name
    /// its types, and adds the kept list entries to its rules segments.
    pub(super) fn apply(&self, config: &mut Config) -> Result<()> {
        for stored in &self.stored {
            if config.find_type(&stored.type_name).is_none() {
                return Err(Error::Usage(format!(
                    "a stored result names the unknown type '{}'",
                    stored.type_name
                )));
            }
        }
        for entries in &self.lists {
            let ty = config
                .types
                .iter_mut()
                .find(|t| t.name == entries.type_name)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "list entries name the unknown type '{}'",
                        entries.type_name
                    ))
                })?;
            if !is_rules(ty) {
                return Err(Error::Usage(format!(
                    "list entries apply to rules types; '{}' is not one",
                    ty.name
                )));
            }
            let type_name = ty.name.clone();
            let segment = ty
                .segments
                .iter_mut()
                .find(|s| s.name == entries.segment)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "list entries name the unknown segment '{}' of type '{type_name}'",
                        entries.segment
                    ))
                })?;
            segment.include.extend(entries.include.iter().cloned());
            segment.exclude.extend(entries.exclude.iter().cloned());
        }
        Ok(())
    }

    /// The stored result of a type, if any.
    pub(super) fn stored(&self, ty: &SegmentType) -> Option<&StoredResult> {
        self.stored.iter().find(|s| s.type_name == ty.name)
    }
}

/// A stored result as `(customer, segment)` pairs; a customer unknown to
/// this run's data is left out with a warning, an unknown segment refused.
pub(super) fn stored_pairs(
    ty: &SegmentType,
    stored: &StoredResult,
    dicts: &Dictionaries,
    warnings: &mut Vec<String>,
) -> Result<Vec<(u32, SegmentIdx)>> {
    let mut pairs = Vec::with_capacity(stored.rows.len());
    for (customer_id, segment) in &stored.rows {
        let segment = ty.segment_idx(segment).ok_or_else(|| {
            Error::Usage(format!(
                "stored result of type '{}': unknown segment '{segment}'",
                ty.name
            ))
        })?;
        match dicts.customers.get(customer_id.trim()) {
            Some(customer) => pairs.push((customer, segment)),
            None => warnings.push(format!(
                "stored result of type '{}': customer '{customer_id}' is in neither the customers nor the lines; left out",
                ty.name
            )),
        }
    }
    Ok(pairs)
}
