//! The configuration as written: plain structures that TOML files, JSON
//! bodies and stored definitions all deserialise into, validated once by
//! `config::validate`. Nothing here is checked yet.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A whole configuration: the organisation's settings and its types. The
/// settings' keys are repeated here rather than flattened from
/// [`SettingsInput`]: serde cannot refuse unknown keys through a flattened
/// field, and a misspelt top-level key must be an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    /// See [`SettingsInput::currency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// See [`SettingsInput::closed_statuses`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_statuses: Option<Vec<String>>,
    /// See [`SettingsInput::attributes`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// See [`SettingsInput::time_zone`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The segment types; rules may read types listed before or after them.
    #[serde(default)]
    pub types: Vec<TypeInput>,
}

impl ConfigInput {
    /// The organisation-wide settings and the types, apart.
    pub fn split(self) -> (SettingsInput, Vec<TypeInput>) {
        (
            SettingsInput {
                currency: self.currency,
                closed_statuses: self.closed_statuses,
                attributes: self.attributes,
                time_zone: self.time_zone,
            },
            self.types,
        )
    }
}

/// Organisation-wide settings, stored beside the types.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// ISO 4217 currency code of the amounts (default EUR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Order statuses that close an order (default: English and French words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_statuses: Option<Vec<String>>,
    /// Declared types of customers-file columns: `text`, `number`, `date`, `bool`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// IANA time zone whose date is "today" (default: the machine's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// One segment type as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeInput {
    /// Stable id; default: the name's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name, unique ignoring case.
    pub name: String,
    /// `pareto`, `rfm` or `rules`.
    pub method: String,
    /// `customer` or `vat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `amount` or `margin` (Pareto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// Months of a rolling window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_months: Option<i64>,
    /// `rolling` or `calendar_year`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Minimum eligible sales to be ranked (Pareto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sales: Option<Number>,
    /// Agencies whose lines count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<String>,
    /// Brands whose lines count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<String>,
    /// Score bins (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bins: Option<i64>,
    /// Fixed recency thresholds in days (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recency_days: Option<Vec<i64>>,
    /// Fixed frequency thresholds (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Vec<i64>>,
    /// Fixed monetary thresholds (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monetary: Option<Vec<Number>>,
    /// One segment per customer (rules; default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive: Option<bool>,
    /// The segments, best to worst.
    #[serde(default)]
    pub segments: Vec<SegmentInput>,
    /// [`ServerKey::IsDefault`]: read to be refused in files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<serde_json::Value>,
    /// [`ServerKey::Notify`]: read to be refused in files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<serde_json::Value>,
    /// [`ServerKey::Recompute`]: read to be refused in files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute: Option<serde_json::Value>,
}

/// Keys of a type that a server keeps beside its definition: a server's
/// `PUT` takes them out of the body, a file cannot set them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ServerKey {
    /// The type shown first in customer lists.
    IsDefault,
    /// Who is told about changes (see the server's reports).
    Notify,
    /// When the server classifies the type again on its own.
    Recompute,
}

impl ServerKey {
    /// Every server key.
    pub const ALL: [ServerKey; 3] = [
        ServerKey::IsDefault,
        ServerKey::Notify,
        ServerKey::Recompute,
    ];

    /// The key as written.
    pub fn name(self) -> &'static str {
        match self {
            ServerKey::IsDefault => "is_default",
            ServerKey::Notify => "notify",
            ServerKey::Recompute => "recompute",
        }
    }

    /// Whether a type as written sets this key.
    pub fn is_set(self, t: &TypeInput) -> bool {
        match self {
            ServerKey::IsDefault => t.is_default.is_some(),
            ServerKey::Notify => t.notify.is_some(),
            ServerKey::Recompute => t.recompute.is_some(),
        }
    }
}

/// One segment as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    /// Stable id; default: the name's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name, unique in its type ignoring case.
    pub name: String,
    /// Share of sales in percent (Pareto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<Number>,
    /// How often a rep visits, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_every_days: Option<u32>,
    /// A priority for acting on the segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Whether customers matching no other segment land here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// A manual-only tier that takes a customer out of the ranking (Pareto).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub excluded: bool,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Recency score range (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<[i64; 2]>,
    /// Frequency score range (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<[i64; 2]>,
    /// Monetary score range (RFM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<[i64; 2]>,
    /// The rule (rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Customer ids or e-mails always in (rules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Customer ids or e-mails never in (rules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl TypeInput {
    /// The key of a type's segments.
    pub const SEGMENTS: &'static str = "segments";
}

impl SegmentInput {
    /// The key of a rules segment's include list.
    pub const INCLUDE: &'static str = "include";
    /// The key of a rules segment's exclude list.
    pub const EXCLUDE: &'static str = "exclude";
}

/// A decimal as written: an integer, a float or a text (`"12.50"`), so that
/// TOML, JSON and forms may each write it their way; it is parsed exactly,
/// from its text, during validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Number {
    /// A whole number.
    Integer(i64),
    /// A float, read back from its shortest text.
    Float(f64),
    /// A decimal in text.
    Text(String),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Integer(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Text(s) => f.write_str(s),
        }
    }
}
