//! Reading one cell: dates and amounts, and what a bad one is told.

use crate::error::shown;
use strata_domain::date::Date;
use strata_domain::money::AmountError;

/// The message for a cell that is not a date.
pub fn date_message(text: &str) -> String {
    format!(
        "expected a date YYYY-MM-DD from {} to {}, found '{}'",
        Date::MIN,
        Date::MAX,
        shown(text)
    )
}

/// Parses a date cell: ISO `YYYY-MM-DD`, or an ISO timestamp whose UTC date is taken.
pub fn parse_date_text(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Some(date) = Date::parse_iso(text) {
        return Some(date);
    }
    if text.len() > 10 && matches!(text.as_bytes()[10], b'T' | b' ') {
        if let Ok(stamp) = chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
            return Date::checked_from_naive(stamp.naive_utc().date()).ok();
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(stamp) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Date::checked_from_naive(stamp.date()).ok();
            }
        }
    }
    None
}

/// The message for a cell that is not an amount.
pub fn amount_message(error: AmountError, text: &str) -> String {
    match error {
        AmountError::TooPrecise => {
            format!(
                "'{}' has more than 4 decimal places; amounts are kept exact to 4 decimals",
                shown(text)
            )
        }
        AmountError::TooLarge => format!("'{}' is too large for an amount", shown(text)),
        AmountError::NotANumber => {
            format!(
                "expected a decimal number such as 12.50, found '{}'",
                shown(text)
            )
        }
    }
}
