//! Organisation-wide settings: the currency, the declared customer
//! attributes, the statuses that close an order and the time zone whose
//! date is "today". A server stores them beside the segment types.

use crate::config::input::SettingsInput;
use crate::config::problem::{ConfigError, ProblemCode, Problems};
use crate::date::Date;
use crate::features::{ClosedStatuses, Feature};
use crate::rules::schema::ValueType;
use chrono::{DateTime, Utc};

/// Validated settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// ISO 4217 code of the amounts, upper case.
    pub currency: String,
    /// The order statuses that close an order (`closed_statuses`).
    pub closed_statuses: ClosedStatuses,
    /// Customers-file columns with a declared type (`[attributes]`), by
    /// lower-case name; other columns are typed by their content.
    pub attributes: Vec<(String, ValueType)>,
    /// The time zone whose date is "today"; `None`: the machine's.
    pub time_zone: Option<chrono_tz::Tz>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            currency: "EUR".to_owned(),
            closed_statuses: ClosedStatuses::default(),
            attributes: Vec::new(),
            time_zone: None,
        }
    }
}

impl Settings {
    /// Validates settings, every problem at once.
    pub fn from_input(input: SettingsInput) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let settings = settings(input, &mut Problems::new(&mut problems));
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// The date of `now` in the settings' time zone, when one is set.
    pub fn today(&self, now: DateTime<Utc>) -> Option<Date> {
        self.time_zone
            .map(|tz| Date::from_naive(now.with_timezone(&tz).date_naive()))
    }

    /// The moment a date begins in the time zone (UTC without one); where
    /// a clock change skips midnight, the first moment of that day.
    pub fn start_of(&self, date: Date) -> DateTime<Utc> {
        use chrono::TimeZone;
        let midnight = date.to_naive().and_time(chrono::NaiveTime::MIN);
        let tz = self.time_zone.unwrap_or(chrono_tz::UTC);
        (0..=24 * 60)
            .find_map(|minutes| {
                tz.from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    }
}

/// Validates settings, reporting problems under `p`.
pub(crate) fn settings(input: SettingsInput, p: &mut Problems<'_>) -> Settings {
    let defaults = Settings::default();
    let currency = match input.currency {
        None => defaults.currency,
        Some(code) if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) => {
            code.to_ascii_uppercase()
        }
        Some(code) => {
            p.at(
                "currency",
                ProblemCode::BadFormat,
                format!("currency is '{code}', expected a three-letter ISO 4217 code such as EUR"),
            );
            defaults.currency
        }
    };
    let time_zone = input
        .time_zone
        .and_then(|name| match name.trim().parse::<chrono_tz::Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                p.at(
                    "time_zone",
                    ProblemCode::UnknownValue,
                    format!(
                        "time_zone is '{name}', expected an IANA time zone such as Europe/Paris"
                    ),
                );
                None
            }
        });
    Settings {
        currency,
        closed_statuses: input
            .closed_statuses
            .as_ref()
            .map_or(defaults.closed_statuses, |list| {
                ClosedStatuses::new(list.iter().map(String::as_str))
            }),
        attributes: attributes(&input.attributes, p),
        time_zone,
    }
}

/// The declared types of customers-file columns: `text`, `number`, `date`
/// or `bool`; a column read by a feature keeps that feature's type, and a
/// computed feature's name is not a column.
fn attributes(
    raw: &std::collections::BTreeMap<String, String>,
    p: &mut Problems<'_>,
) -> Vec<(String, ValueType)> {
    let mut out = Vec::new();
    for (name, declared) in raw {
        let field = format!("attributes.{name}");
        let value_type = match declared.trim().to_lowercase().as_str() {
            "text" => ValueType::Text,
            "number" => ValueType::Number,
            "date" => ValueType::Date,
            "bool" => ValueType::Bool,
            other => {
                p.at(
                    &field,
                    ProblemCode::UnknownValue,
                    format!("attributes: {name} = '{other}', expected text, number, date or bool"),
                );
                continue;
            }
        };
        let name = name.trim().to_lowercase();
        if let Some(feature) = Feature::from_name(&name) {
            if !feature.reads_its_customers_column() {
                p.at(
                    &field,
                    ProblemCode::NotApplicable,
                    format!(
                        "attributes: '{name}' is a computed feature, not a customers-file column"
                    ),
                );
                continue;
            }
            if feature.def().value_type != value_type {
                p.at(
                    &field,
                    ProblemCode::Inconsistent,
                    format!(
                        "attributes: '{name}' is read as {} by the feature of that name",
                        feature.def().value_type.describe()
                    ),
                );
                continue;
            }
        }
        out.push((name, value_type));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn today_is_the_date_in_the_time_zone() {
        let settings = Settings::from_input(SettingsInput {
            time_zone: Some("Pacific/Auckland".to_owned()),
            ..SettingsInput::default()
        })
        .unwrap();
        // 20:00 UTC on 1 March is already 2 March in Auckland.
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 20, 0, 0).unwrap();
        assert_eq!(settings.today(now), Date::parse_iso("2025-03-02"));
        assert_eq!(Settings::default().today(now), None);
    }

    #[test]
    fn a_day_starts_at_midnight_in_the_time_zone() {
        let zone = |name: &str| {
            Settings::from_input(SettingsInput {
                time_zone: Some(name.to_owned()),
                ..SettingsInput::default()
            })
            .unwrap()
        };
        let day = |text| Date::parse_iso(text).unwrap();
        assert_eq!(
            zone("Europe/Paris").start_of(day("2026-11-01")),
            Utc.with_ymd_and_hms(2026, 10, 31, 23, 0, 0).unwrap()
        );
        assert_eq!(
            Settings::default().start_of(day("2026-11-01")),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        );
        // In Havana clocks went from 00:00 to 01:00 on 9 March 2025: that
        // day began at 01:00.
        assert_eq!(
            zone("America/Havana").start_of(day("2025-03-09")),
            Utc.with_ymd_and_hms(2025, 3, 9, 5, 0, 0).unwrap()
        );
    }

    #[test]
    fn bad_settings_are_refused_with_their_path() {
        let input = SettingsInput {
            currency: Some("euro".to_owned()),
            time_zone: Some("Paris".to_owned()),
            attributes: [("postcode".to_owned(), "string".to_owned())].into(),
            closed_statuses: None,
        };
        let problems = Settings::from_input(input).unwrap_err().problems;
        let got: Vec<(&str, ProblemCode)> =
            problems.iter().map(|p| (p.path.as_str(), p.code)).collect();
        assert_eq!(
            got,
            [
                ("currency", ProblemCode::BadFormat),
                ("time_zone", ProblemCode::UnknownValue),
                ("attributes.postcode", ProblemCode::UnknownValue),
            ]
        );
        let currency = Settings::from_input(SettingsInput {
            currency: Some("chf".to_owned()),
            ..SettingsInput::default()
        });
        assert_eq!(currency.unwrap().currency, "CHF");
    }
}
