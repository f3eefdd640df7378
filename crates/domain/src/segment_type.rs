//! Segment types: what a classification computes, over which lines, and the
//! segments it can assign.

use crate::columns::LineColumn;
use crate::date::Interval;
use crate::money::{Amount, Percent};

/// Index of a segment inside its type's segment list; also its rank in the
/// type's best-to-worst order.
pub type SegmentIdx = u16;

/// A validated segment type.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentType {
    /// Stable id (`id`, default the name's slug), kept when the name changes.
    pub id: String,
    /// Unique name, used in overrides and on the command line.
    pub name: String,
    /// Whose sales are pooled into one classified unit.
    pub identity: Identity,
    /// The window of lines looked at, relative to the as-of date.
    pub interval: Interval,
    /// Constraints on which lines count.
    pub lines: LineFilter,
    /// The classification method and its parameters.
    pub method: Method,
    /// The segments, in best-to-worst order.
    pub segments: Vec<Segment>,
}

/// Whose sales are pooled into one classified unit.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Identity {
    /// Every customer account stands alone.
    Customer,
    /// Accounts sharing a VAT number are one unit; accounts without VAT stand alone.
    Vat,
}

/// Constraints on transaction lines; an empty list accepts everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineFilter {
    /// Accepted agencies (compared ignoring case).
    pub agencies: Vec<String>,
    /// Accepted brands (compared ignoring case).
    pub brands: Vec<String>,
}

/// Whether a filter entry names an agency or brand: ignoring case and
/// surrounding spaces.
pub fn names(entry: &str, name: &str) -> bool {
    entry.trim().eq_ignore_ascii_case(name.trim())
}

impl LineFilter {
    /// Whether a line with this agency and brand counts.
    pub fn accepts(&self, agency: Option<&str>, brand: Option<&str>) -> bool {
        fn matches(list: &[String], value: Option<&str>) -> bool {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|item| names(item, v)))
        }
        matches(&self.agencies, agency) && matches(&self.brands, brand)
    }

    /// Whether the filter lists this agency (an empty list lists none).
    pub fn lists_agency(&self, agency: &str) -> bool {
        self.agencies.iter().any(|item| names(item, agency))
    }

    /// Whether every line counts.
    pub fn accepts_all(&self) -> bool {
        self.agencies.is_empty() && self.brands.is_empty()
    }
}

/// The classification method of a type.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// ABC tiers by cumulative share of sales.
    Pareto(ParetoSpec),
    /// Recency, frequency and monetary scores.
    Rfm(RfmSpec),
    /// Segments defined by rules over customer features.
    Rules(RulesSpec),
}

/// Parameters of a rules type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesSpec {
    /// `true`: ordered tiers, one per customer; `false`: groups, a customer may be in several.
    pub exclusive: bool,
}

impl Method {
    /// Which method this is, without its settings.
    pub fn kind(&self) -> MethodKind {
        match self {
            Method::Pareto(_) => MethodKind::Pareto,
            Method::Rfm(_) => MethodKind::Rfm,
            Method::Rules(_) => MethodKind::Rules,
        }
    }

    /// The method's name as written in the configuration.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// A classification method, without its settings: what summaries,
/// explanations and reports carry.
#[derive(Copy, Clone, Eq, PartialEq, Debug, Hash)]
pub enum MethodKind {
    /// Tiers by share of sales.
    Pareto,
    /// Recency, frequency and monetary scores.
    Rfm,
    /// Segments from rules and lists.
    Rules,
}

impl MethodKind {
    /// Every method, in the order the documentation lists them.
    pub const ALL: [MethodKind; 3] = [MethodKind::Pareto, MethodKind::Rfm, MethodKind::Rules];

    /// The name as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Pareto => "pareto",
            MethodKind::Rfm => "rfm",
            MethodKind::Rules => "rules",
        }
    }

    /// The method of a configuration name.
    pub fn from_name(name: &str) -> Option<MethodKind> {
        MethodKind::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for MethodKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which line value a Pareto ranking sums.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Measure {
    /// The net amount.
    Amount,
    /// The margin column.
    Margin,
}

/// Parameters of a Pareto type.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoSpec {
    /// What is summed.
    pub measure: Measure,
    /// Units whose eligible sales are below this are not ranked.
    pub min_sales: Amount,
}

/// Parameters of an RFM type.
#[derive(Clone, Debug, PartialEq)]
pub struct RfmSpec {
    /// Number of score levels, 1 (worst) to `bins` (best).
    pub bins: u8,
    /// Fixed recency thresholds in days (ascending), instead of quantiles.
    pub recency_days: Option<Vec<i64>>,
    /// Fixed frequency thresholds (ascending), instead of quantiles.
    pub frequency: Option<Vec<i64>>,
    /// Fixed monetary thresholds (ascending), instead of quantiles.
    pub monetary: Option<Vec<Amount>>,
    /// Whether segments come from the built-in (R, F) map or the type's own ranges.
    pub naming: RfmNaming,
}

/// How RFM scores become segment names.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum RfmNaming {
    /// The built-in map from (R, F) to the ten classic segment names.
    DefaultMap,
    /// The type's own segments with score ranges, first match wins.
    Custom,
}

/// An inclusive range of scores.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct ScoreRange {
    /// Lowest score included.
    pub low: u8,
    /// Highest score included.
    pub high: u8,
}

impl ScoreRange {
    /// Whether a score is inside the range.
    pub fn contains(self, score: u8) -> bool {
        self.low <= score && score <= self.high
    }
}

/// One segment of a type.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Segment {
    /// Stable id within the type (`id`, default the name's slug).
    pub id: String,
    /// Name, unique within the type.
    pub name: String,
    /// Pareto: share of sales captured by this tier.
    pub share: Percent,
    /// Recommended days between visits.
    pub visit_every_days: Option<u32>,
    /// Free priority number, kept and reported.
    pub priority: Option<i64>,
    /// Fallback for units that cannot be classified.
    pub is_default: bool,
    /// Manual-only tier: its members leave the ranking.
    pub excluded: bool,
    /// Display colour, kept and reported.
    pub color: Option<String>,
    /// RFM: recency score range.
    pub r: Option<ScoreRange>,
    /// RFM: frequency score range.
    pub f: Option<ScoreRange>,
    /// RFM: monetary score range.
    pub m: Option<ScoreRange>,
    /// Rules: the condition, if the segment is not a static group.
    pub rule: Option<Rule>,
    /// Rules: customers (ids or e-mails) always in, whatever the rule says.
    pub include: Vec<String>,
    /// Rules: customers (ids or e-mails) never in, whatever the rule says.
    pub exclude: Vec<String>,
}

/// A segment's rule: its text as written and its AST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The text as written in the configuration.
    pub text: String,
    /// The parsed rule.
    pub expr: crate::rules::ast::Expr,
}

impl SegmentType {
    /// Whether the type gives an account one segment at most (tiers,
    /// scores, exclusive rules) rather than any number of groups.
    pub fn one_per_account(&self) -> bool {
        !matches!(&self.method, Method::Rules(spec) if !spec.exclusive)
    }

    /// The optional transaction columns this type reads (`margin`, `agency`,
    /// `brand`, `category`, `status`, `due_date`); a reader may skip the others.
    pub fn line_columns(&self) -> Vec<LineColumn> {
        let mut columns = Vec::new();
        if let Method::Pareto(ParetoSpec {
            measure: Measure::Margin,
            ..
        }) = self.method
        {
            columns.push(LineColumn::Margin);
        }
        if !self.lines.agencies.is_empty() {
            columns.push(LineColumn::Agency);
        }
        if !self.lines.brands.is_empty() {
            columns.push(LineColumn::Brand);
        }
        let rules = self.segments.iter().filter_map(|s| s.rule.as_ref());
        for condition in rules.flat_map(|r| r.expr.conditions()) {
            if let crate::rules::ast::Operand::Feature(name) = condition.operand() {
                columns.extend(crate::features::line_columns(name));
            }
        }
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// What a rule referencing this type may know of it.
    pub fn type_ref(&self) -> crate::rules::schema::TypeRef {
        crate::rules::schema::TypeRef {
            name: self.name.clone(),
            is_rfm: matches!(self.method, Method::Rfm(_)),
            is_set: self.is_multi(),
            segments: self.segments.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// The index of a segment by name (exact match).
    pub fn segment_idx(&self, name: &str) -> Option<SegmentIdx> {
        self.segments
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as SegmentIdx)
    }

    /// The name of a segment.
    pub fn segment_name(&self, idx: SegmentIdx) -> &str {
        &self.segments[usize::from(idx)].name
    }

    /// The default segment, if the type has one.
    pub fn default_segment(&self) -> Option<SegmentIdx> {
        self.segments
            .iter()
            .position(|s| s.is_default)
            .map(|i| i as SegmentIdx)
    }

    /// Whether a customer can be in several segments of this type.
    pub fn is_multi(&self) -> bool {
        matches!(&self.method, Method::Rules(spec) if !spec.exclusive)
    }

    /// Whether a segment is a manual-only tier.
    pub fn is_excluded(&self, idx: SegmentIdx) -> bool {
        self.segments[usize::from(idx)].excluded
    }
}

/// The built-in RFM segment names, best to worst.
pub const DEFAULT_RFM_SEGMENTS: [&str; 10] = [
    "champions",
    "loyal",
    "potential_loyalist",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "cant_lose",
    "at_risk",
    "hibernating",
];

/// The id a name gets when none is given: lower case, accents removed,
/// every run of other characters than letters and digits one `-`
/// (`Clients fidèles` is `clients-fideles`).
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in crate::features::fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Whether a text is a valid id: lower-case ASCII letters, digits, `-` and
/// `_`, starting with a letter or digit.
pub fn is_valid_id(id: &str) -> bool {
    id.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
