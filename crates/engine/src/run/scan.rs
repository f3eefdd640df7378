//! `scan` (`strata check`): reading lines without classifying.

use super::load::selection;
use crate::error::Result;
use crate::progress::Control;
use crate::source::LineSource;
use crate::transactions::{read_lines, Dictionaries, Selection};
use std::path::Path;
use strata_domain::config::Config;
use strata_domain::date::Date;

/// What a transactions file holds, read and decoded without aggregating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// Data lines.
    pub lines: u64,
    /// Distinct customers.
    pub customers: usize,
    /// Distinct orders (per customer).
    pub orders: usize,
    /// Earliest and latest line dates.
    pub dates: Option<(Date, Date)>,
}

/// Reads and checks sales lines without aggregating: every cell decoded,
/// or only the columns a configuration reads when one is given.
pub fn scan(
    source: &dyn LineSource,
    config: Option<&Config>,
    control: &Control<'_>,
) -> Result<Scan> {
    let mut dicts = Dictionaries::default();
    let mut dates: Option<(Date, Date)> = None;
    let selection = match config {
        Some(config) => selection(config, false),
        None => Selection::all(),
    };
    let info = read_lines(source, &selection, &mut dicts, control, &mut |batch| {
        if let (Some(&lo), Some(&hi)) = (batch.date.iter().min(), batch.date.iter().max()) {
            dates = Some(dates.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
    })?;
    Ok(Scan {
        lines: info.lines,
        customers: dicts.customers.len(),
        orders: dicts.n_orders(),
        dates,
    })
}

/// Checks that input files exist and can be read before anything is read.
pub fn check_files<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for path in paths {
        crate::table::check_readable(path)?;
    }
    Ok(())
}
