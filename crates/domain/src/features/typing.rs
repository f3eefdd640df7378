//! Typing customers-file columns: by their declared type, else by content.

use crate::date::Date;
use crate::money::{Amount, ExtraDigits};
use crate::rules::eval::{Column, Ratio};
use crate::rules::schema::ValueType;

/// A customers-file column of a declared type; `Err` names the first row
/// whose value is not of that type, and says what was found.
pub fn declared_column(
    values: &[Option<&str>],
    declared: ValueType,
) -> Result<Column, (usize, String)> {
    let wrong = |row: usize, v: &str| {
        (
            row,
            format!(
                "expected {} (declared under [attributes]), found '{v}'",
                declared.describe()
            ),
        )
    };
    let parse = |row: usize, v: &str| -> Result<(), (usize, String)> {
        let ok = match declared {
            ValueType::Number => Amount::parse(v, false, ExtraDigits::Reject).is_ok(),
            ValueType::Date => Date::parse_iso(v.trim()).is_some(),
            ValueType::Bool => matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"),
            ValueType::Text | ValueType::TextSet => true,
        };
        if ok {
            Ok(())
        } else {
            Err(wrong(row, v))
        }
    };
    for (row, value) in values.iter().enumerate() {
        if let Some(v) = value {
            parse(row, v)?;
        }
    }
    Ok(match declared {
        ValueType::Number => Column::Number(
            values
                .iter()
                .map(|v| {
                    v.and_then(|v| Amount::parse(v, false, ExtraDigits::Reject).ok())
                        .map(Ratio::amount)
                })
                .collect(),
        ),
        ValueType::Date => Column::Date(
            values
                .iter()
                .map(|v| v.and_then(|v| Date::parse_iso(v.trim())))
                .collect(),
        ),
        ValueType::Bool => Column::Bool(
            values
                .iter()
                .map(|v| v.map(|v| v.trim().eq_ignore_ascii_case("true")))
                .collect(),
        ),
        ValueType::Text | ValueType::TextSet => Column::text(values.iter().copied()),
    })
}

/// Types a customer-file column by its content: a number, an ISO date or a
/// boolean when every non-empty value is one (never a number when a value
/// has a leading zero, like the postcode `01000`), text otherwise.
pub fn typed_column(values: &[Option<&str>]) -> Column {
    let present = || values.iter().flatten();
    let leading_zero = |v: &str| {
        let digits = v.trim_start_matches('-');
        digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.")
    };
    let number = |v: &str| {
        Amount::parse(v, false, ExtraDigits::Reject)
            .ok()
            .filter(|_| !leading_zero(v.trim()))
    };
    let boolean = |v: &str| match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    if present().next().is_none() {
        return Column::text(values.iter().copied());
    }
    if present().all(|v| number(v).is_some()) {
        return Column::Number(
            values
                .iter()
                .map(|v| v.and_then(number).map(Ratio::amount))
                .collect(),
        );
    }
    if present().all(|v| Date::parse_iso(v.trim()).is_some()) {
        return Column::Date(
            values
                .iter()
                .map(|v| v.and_then(|v| Date::parse_iso(v.trim())))
                .collect(),
        );
    }
    if present().all(|v| boolean(v).is_some()) {
        return Column::Bool(values.iter().map(|v| v.and_then(boolean)).collect());
    }
    Column::text(values.iter().copied())
}
