//! Reading segment types from their TOML text, reporting every problem at once.

use crate::date::Interval;
use crate::features::{ClosedStatuses, Feature};
use crate::money::{Amount, AmountError, ExtraDigits, Percent};
use crate::rules::schema::ValueType;
use crate::segment_type::{
    is_valid_id, slug, Identity, LineFilter, Measure, Method, MethodKind, ParetoSpec, RfmNaming,
    RfmSpec, Rule, RulesSpec, ScoreRange, Segment, SegmentType, DEFAULT_RFM_SEGMENTS,
};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A validated configuration: the segment types, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// ISO currency code used in reports.
    pub currency: String,
    /// The order statuses that close an order (`closed_statuses`).
    pub closed_statuses: ClosedStatuses,
    /// Customers-file columns with a declared type (`[attributes]`), by
    /// lower-case name; other columns are typed by their content.
    pub attributes: Vec<(String, ValueType)>,
    /// Segment types in configuration order.
    pub types: Vec<SegmentType>,
}

impl Config {
    /// A type by name.
    pub fn find_type(&self, name: &str) -> Option<&SegmentType> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// One message per problem, each naming the type and segment concerned.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    currency: Option<String>,
    closed_statuses: Option<Vec<String>>,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    types: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    id: Option<String>,
    name: String,
    method: String,
    identity: Option<String>,
    measure: Option<String>,
    period_months: Option<i64>,
    interval: Option<String>,
    min_sales: Option<toml::Value>,
    #[serde(default)]
    agencies: Vec<String>,
    #[serde(default)]
    brands: Vec<String>,
    bins: Option<i64>,
    recency_days: Option<Vec<i64>>,
    frequency: Option<Vec<i64>>,
    monetary: Option<Vec<toml::Value>>,
    exclusive: Option<bool>,
    #[serde(default)]
    segments: Vec<RawSegment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    id: Option<String>,
    name: String,
    share: Option<toml::Value>,
    visit_every_days: Option<u32>,
    priority: Option<i64>,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    excluded: bool,
    color: Option<String>,
    r: Option<[i64; 2]>,
    f: Option<[i64; 2]>,
    m: Option<[i64; 2]>,
    rule: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// Reads a number written as a TOML integer, float or string.
fn decimal_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn parse_amount(value: &toml::Value) -> Result<Amount, AmountError> {
    let text = decimal_text(value).ok_or(AmountError::NotANumber)?;
    Amount::parse(&text, false, ExtraDigits::Reject)
}

/// Collects problems with the type and segment they concern.
struct Problems<'a> {
    list: &'a mut Vec<String>,
    context: String,
}

impl Problems<'_> {
    fn push(&mut self, message: impl fmt::Display) {
        self.list.push(format!("{}: {message}", self.context));
    }
}

/// Parses and validates a configuration.
pub fn parse_config(text: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        problems: vec![e.to_string().trim_end().to_owned()],
    })?;
    let mut problems = Vec::new();
    if raw.types.is_empty() {
        problems.push("no segment type: add at least one [[types]] table".to_owned());
    }
    let mut names = HashSet::new();
    let mut types = Vec::new();
    for (i, raw_type) in raw.types.into_iter().enumerate() {
        let mut p = Problems {
            list: &mut problems,
            context: format!("type {} '{}'", i + 1, raw_type.name),
        };
        if raw_type.name.trim().is_empty() {
            p.push("the name is empty");
        }
        if !names.insert(raw_type.name.trim().to_lowercase()) {
            p.push("duplicate type name; type names must be unique, ignoring case");
        }
        if let Some(t) = convert_type(raw_type, &mut p) {
            types.push(t);
        }
    }
    // Types (and segments) named alike are reported as such, not twice.
    let attributes = convert_attributes(&raw.attributes, &mut problems);
    let mut type_ids: HashMap<&str, &str> = HashMap::new();
    for (i, t) in types.iter().enumerate() {
        let first = *type_ids.entry(t.id.as_str()).or_insert(t.name.as_str());
        if first.to_lowercase() != t.name.to_lowercase() {
            problems.push(format!(
                "type {} '{}': duplicate type id '{}'; give it another id",
                i + 1,
                t.name,
                t.id
            ));
        }
    }
    if problems.is_empty() {
        check_references(&types, &mut problems);
    }
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    Ok(Config {
        currency: raw.currency.unwrap_or_else(|| "EUR".to_owned()),
        closed_statuses: raw
            .closed_statuses
            .as_ref()
            .map_or_else(ClosedStatuses::default, |list| {
                ClosedStatuses::new(list.iter().map(String::as_str))
            }),
        attributes,
        types,
    })
}

fn convert_type(raw: RawType, p: &mut Problems<'_>) -> Option<SegmentType> {
    let identity = match raw.identity.as_deref().unwrap_or("customer") {
        "customer" => Identity::Customer,
        "vat" => Identity::Vat,
        other => {
            p.push(format!(
                "unknown identity '{other}', expected customer or vat"
            ));
            Identity::Customer
        }
    };
    let months = raw.period_months.unwrap_or(12);
    if !(1..=1200).contains(&months) {
        p.push(format!(
            "period_months is {months}, expected a whole number of months from 1 to 1200"
        ));
    }
    let interval = match raw.interval.as_deref().unwrap_or("rolling") {
        "rolling" => Interval::Rolling {
            months: months.clamp(1, 1200) as u32,
        },
        "calendar_year" => Interval::CalendarYear,
        other => {
            p.push(format!(
                "unknown interval '{other}', expected rolling or calendar_year"
            ));
            Interval::Rolling { months: 12 }
        }
    };
    let segments: Vec<Segment> = raw.segments.iter().map(|s| convert_segment(s, p)).collect();
    let mut seen = HashSet::new();
    for s in &segments {
        if s.name.trim().is_empty() {
            p.push("a segment has an empty name");
        } else if !seen.insert(s.name.trim().to_lowercase()) {
            p.push(format!(
                "duplicate segment name '{}'; segment names must be unique, ignoring case, as rules compare them",
                s.name
            ));
        }
    }
    if segments.iter().filter(|s| s.is_default).count() > 1 {
        p.push("more than one segment has default = true; at most one default segment is allowed");
    }
    let method = match MethodKind::from_name(&raw.method) {
        Some(MethodKind::Pareto) => convert_pareto(&raw, &segments, p),
        Some(MethodKind::Rfm) => convert_rfm(&raw, &segments, p),
        Some(MethodKind::Rules) => convert_rules(&raw, &segments, p),
        None => {
            p.push(format!(
                "unknown method '{}', expected pareto, rfm or rules",
                raw.method
            ));
            return None;
        }
    }?;
    let segments = match &method {
        Method::Rfm(spec) if spec.naming == RfmNaming::DefaultMap => DEFAULT_RFM_SEGMENTS
            .iter()
            .map(|name| Segment {
                id: slug(name),
                name: (*name).to_owned(),
                ..Segment::default()
            })
            .collect(),
        _ => segments,
    };
    let mut segment_ids: HashMap<&str, &str> = HashMap::new();
    for s in &segments {
        let first = *segment_ids.entry(s.id.as_str()).or_insert(s.name.as_str());
        if first.to_lowercase() != s.name.to_lowercase() {
            p.push(format!(
                "segment '{}': duplicate segment id '{}'; give it another id",
                s.name, s.id
            ));
        }
    }
    Some(SegmentType {
        id: checked_id(raw.id.as_deref(), &raw.name, "the type", p),
        name: raw.name,
        identity,
        interval,
        lines: LineFilter {
            agencies: raw.agencies,
            brands: raw.brands,
        },
        method,
        segments,
    })
}

/// The declared types of customers-file columns: `text`, `number`, `date`
/// or `bool`; a column read by a feature keeps that feature's type, and a
/// computed feature's name is not a column.
fn convert_attributes(
    raw: &std::collections::BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> Vec<(String, ValueType)> {
    let mut out = Vec::new();
    for (name, declared) in raw {
        let value_type = match declared.trim().to_lowercase().as_str() {
            "text" => ValueType::Text,
            "number" => ValueType::Number,
            "date" => ValueType::Date,
            "bool" => ValueType::Bool,
            other => {
                problems.push(format!(
                    "attributes: {name} = '{other}', expected text, number, date or bool"
                ));
                continue;
            }
        };
        let name = name.trim().to_lowercase();
        if let Some(feature) = Feature::from_name(&name) {
            if !feature.reads_its_customers_column() {
                problems.push(format!(
                    "attributes: '{name}' is a computed feature, not a customers-file column"
                ));
                continue;
            }
            if feature.def().value_type != value_type {
                problems.push(format!(
                    "attributes: '{name}' is read as {} by the feature of that name",
                    feature.def().value_type.describe()
                ));
                continue;
            }
        }
        out.push((name, value_type));
    }
    out
}

/// The id given, checked, or the name's slug.
fn checked_id(id: Option<&str>, name: &str, what: &str, p: &mut Problems<'_>) -> String {
    match id {
        Some(id) if is_valid_id(id) => id.to_owned(),
        Some(id) => {
            p.push(format!(
                "{what}'s id '{id}' must be lower-case letters, digits, - and _ (such as '{}')",
                slug(name)
            ));
            slug(name)
        }
        None if slug(name).is_empty() => {
            p.push(format!(
                "{what} needs an id: its name has no letter or digit"
            ));
            String::new()
        }
        None => slug(name),
    }
}

fn convert_segment(raw: &RawSegment, p: &mut Problems<'_>) -> Segment {
    let share = match &raw.share {
        None => Percent::default(),
        Some(value) => match decimal_text(value).map(|t| Percent::parse(&t)) {
            Some(Ok(share)) if share.0 >= 0 => share,
            _ => {
                p.push(format!(
                    "segment '{}': share must be a percentage from 0 to 100 with at most 4 decimals",
                    raw.name
                ));
                Percent::default()
            }
        },
    };
    let range = |letter: &str, value: Option<[i64; 2]>, p: &mut Problems<'_>| {
        value.map(|[low, high]| {
            if low < 1 || high < low || high > 255 {
                p.push(format!(
                    "segment '{}': {letter} = [{low}, {high}] is not a score range [low, high] with 1 <= low <= high",
                    raw.name
                ));
            }
            ScoreRange {
                low: low.clamp(0, 255) as u8,
                high: high.clamp(0, 255) as u8,
            }
        })
    };
    let rule = raw
        .rule
        .as_ref()
        .and_then(|text| match crate::rules::parse::parse(text, None) {
            Ok(expr) => Some(Rule {
                text: text.clone(),
                expr,
            }),
            Err(e) => {
                p.push(format!("segment '{}': rule: {e}", raw.name));
                None
            }
        });
    Segment {
        id: checked_id(
            raw.id.as_deref(),
            &raw.name,
            &format!("segment '{}'", raw.name),
            p,
        ),
        rule,
        include: raw.include.clone(),
        exclude: raw.exclude.clone(),
        name: raw.name.clone(),
        share,
        visit_every_days: raw.visit_every_days,
        priority: raw.priority,
        is_default: raw.default,
        excluded: raw.excluded,
        color: raw.color.as_ref().and_then(|color| {
            let hex = color
                .strip_prefix('#')
                .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
            if hex.is_none() {
                p.push(format!(
                    "segment '{}': color is '{color}', expected #RRGGBB such as #1f77b4",
                    raw.name
                ));
            }
            hex.map(|_| color.to_lowercase())
        }),
        r: range("r", raw.r, p),
        f: range("f", raw.f, p),
        m: range("m", raw.m, p),
    }
}

fn convert_pareto(raw: &RawType, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    reject_rules_fields(raw, segments, p);
    for (field, present) in [
        ("bins", raw.bins.is_some()),
        ("recency_days", raw.recency_days.is_some()),
        ("frequency", raw.frequency.is_some()),
        ("monetary", raw.monetary.is_some()),
    ] {
        if present {
            p.push(format!("{field} applies to rfm types only"));
        }
    }
    if segments.is_empty() {
        p.push("a pareto type needs segments (for example A 80, B 15, C 5)");
    }
    let mut total = Percent::default();
    for s in segments {
        if s.r.is_some() || s.f.is_some() || s.m.is_some() {
            p.push(format!(
                "segment '{}': r, f and m ranges apply to rfm types only",
                s.name
            ));
        }
        if s.excluded {
            if s.share.0 != 0 {
                p.push(format!(
                    "segment '{}': an excluded tier is manual-only and cannot have a share (found {})",
                    s.name, s.share
                ));
            }
        } else {
            total = total + s.share;
        }
    }
    if !segments.is_empty() && total != Percent::HUNDRED {
        p.push(format!(
            "the shares of the non-excluded segments total {total}, expected exactly 100"
        ));
    }
    let measure = match raw.measure.as_deref().unwrap_or("amount") {
        "amount" => Measure::Amount,
        "margin" => Measure::Margin,
        other => {
            p.push(format!(
                "unknown measure '{other}', expected amount or margin"
            ));
            Measure::Amount
        }
    };
    let min_sales = match raw.min_sales.as_ref().map(parse_amount) {
        None => Amount::ZERO,
        Some(Ok(amount)) if amount < Amount::ZERO => {
            p.push(format!("min_sales is {amount}, expected 0 or more"));
            Amount::ZERO
        }
        Some(Ok(amount)) => amount,
        Some(Err(e)) => {
            p.push(format!("min_sales: {e}"));
            Amount::ZERO
        }
    };
    Some(Method::Pareto(ParetoSpec { measure, min_sales }))
}

fn convert_rfm(raw: &RawType, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    reject_rules_fields(raw, segments, p);
    if raw.measure.is_some() {
        p.push("measure applies to pareto types only");
    }
    if raw.min_sales.is_some() {
        p.push("min_sales applies to pareto types only");
    }
    let bins = raw.bins.unwrap_or(5);
    if !(2..=10).contains(&bins) {
        p.push(format!("bins is {bins}, expected 2 to 10"));
        return None;
    }
    let expected = (bins - 1) as usize;
    fn check_thresholds<T: PartialOrd + fmt::Display + Default>(
        name: &str,
        values: &[T],
        expected: usize,
        p: &mut Problems<'_>,
    ) {
        if let Some(negative) = values.iter().find(|&v| *v < T::default()) {
            p.push(format!(
                "{name} thresholds must be 0 or more, found {negative}"
            ));
        }
        if values.len() != expected {
            p.push(format!(
                "{name} has {} thresholds, expected bins - 1 = {expected}",
                values.len()
            ));
        }
        if values.windows(2).any(|w| w[0] >= w[1]) {
            p.push(format!("{name} thresholds must be strictly ascending"));
        }
    }
    if let Some(values) = &raw.recency_days {
        check_thresholds("recency_days", values, expected, p);
    }
    if let Some(values) = &raw.frequency {
        check_thresholds("frequency", values, expected, p);
    }
    let monetary = match &raw.monetary {
        None => None,
        Some(values) => {
            let parsed: Result<Vec<Amount>, _> = values.iter().map(parse_amount).collect();
            match parsed {
                Ok(amounts) => {
                    check_thresholds("monetary", &amounts, expected, p);
                    Some(amounts)
                }
                Err(e) => {
                    p.push(format!("monetary thresholds: {e}"));
                    None
                }
            }
        }
    };
    for s in segments {
        if s.share.0 != 0 {
            p.push(format!(
                "segment '{}': share applies to pareto types only",
                s.name
            ));
        }
        for range in [s.r, s.f, s.m].into_iter().flatten() {
            if i64::from(range.high) > bins {
                p.push(format!(
                    "segment '{}': score range [{}, {}] goes beyond bins = {bins}",
                    s.name, range.low, range.high
                ));
            }
        }
    }
    let naming = if segments.is_empty() {
        if bins != 5 {
            p.push(format!(
                "bins = {bins} needs the type's own segments with r, f, m ranges; the default segment map is defined for bins = 5"
            ));
        }
        RfmNaming::DefaultMap
    } else {
        RfmNaming::Custom
    };
    Some(Method::Rfm(RfmSpec {
        bins: bins as u8,
        recency_days: raw.recency_days.clone(),
        frequency: raw.frequency.clone(),
        monetary,
        naming,
    }))
}

/// Checks that only rules types use `rule`, `include`, `exclude` and `exclusive`.
fn reject_rules_fields(raw: &RawType, segments: &[Segment], p: &mut Problems<'_>) {
    if raw.exclusive.is_some() {
        p.push("exclusive applies to rules types only");
    }
    for s in segments {
        if s.rule.is_some() || !s.include.is_empty() || !s.exclude.is_empty() {
            p.push(format!(
                "segment '{}': rule, include and exclude apply to rules types only",
                s.name
            ));
        }
    }
}

fn convert_rules(raw: &RawType, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    for (field, present) in [
        ("measure", raw.measure.is_some()),
        ("min_sales", raw.min_sales.is_some()),
        ("bins", raw.bins.is_some()),
        ("recency_days", raw.recency_days.is_some()),
        ("frequency", raw.frequency.is_some()),
        ("monetary", raw.monetary.is_some()),
        // Rules read every line up to the as-of date, per customer account.
        ("identity", raw.identity.is_some()),
        ("period_months", raw.period_months.is_some()),
        ("interval", raw.interval.is_some()),
    ] {
        if present {
            p.push(format!("{field} does not apply to rules types"));
        }
    }
    if segments.is_empty() {
        p.push("a rules type needs segments, each with a rule or an include list");
    }
    for s in segments {
        if s.share.0 != 0 || s.r.is_some() || s.f.is_some() || s.m.is_some() {
            p.push(format!(
                "segment '{}': share and r, f, m ranges do not apply to rules types",
                s.name
            ));
        }
        if s.excluded {
            p.push(format!(
                "segment '{}': excluded applies to pareto tiers; a rules segment takes customers out with exclude",
                s.name
            ));
        }
    }
    Some(Method::Rules(RulesSpec {
        exclusive: raw.exclusive.unwrap_or(true),
    }))
}

/// Checks references between types: each names a known type (an RFM type for
/// `rfm(...)`), and rules types do not reference each other in a cycle.
fn check_references(types: &[SegmentType], problems: &mut Vec<String>) {
    for t in types {
        for s in &t.segments {
            let Some(rule) = &s.rule else { continue };
            for c in rule.expr.conditions() {
                let (name, wants_rfm) = match c.operand() {
                    crate::rules::ast::Operand::Segment(n) => (n, false),
                    crate::rules::ast::Operand::Rfm(n) => (n, true),
                    crate::rules::ast::Operand::Feature(_) => continue,
                };
                match types.iter().find(|o| &o.name == name) {
                    None => problems.push(format!("type '{}': segment '{}': rule references unknown type '{name}'", t.name, s.name)),
                    Some(o) if wants_rfm && !matches!(o.method, Method::Rfm(_)) => problems.push(format!(
                        "type '{}': segment '{}': rfm('{name}') needs an RFM type; use segment('{name}')",
                        t.name, s.name
                    )),
                    Some(o) => {
                        if let Err(problem) = o.type_ref().check_segment_literals(c) {
                            problems.push(format!("type '{}': segment '{}': {problem}", t.name, s.name));
                        }
                    }
                }
            }
        }
    }
    if let Err(cycle) = evaluation_order(types) {
        problems.push(format!(
            "rules reference each other in a cycle: {}",
            cycle.join(" -> ")
        ));
    }
}

fn references(t: &SegmentType) -> Vec<&str> {
    let mut out: Vec<&str> = t
        .segments
        .iter()
        .filter_map(|s| s.rule.as_ref())
        .flat_map(|r| r.expr.referenced_types())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The order to classify types in: every type after the types its rules
/// reference; otherwise configuration order. A cycle is returned by name.
pub fn evaluation_order(types: &[SegmentType]) -> Result<Vec<usize>, Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Visiting,
        Done,
    }
    fn visit(
        i: usize,
        types: &[SegmentType],
        state: &mut [State],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
    ) -> Result<(), Vec<String>> {
        match state[i] {
            State::Done => return Ok(()),
            State::Visiting => {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..]
                    .iter()
                    .map(|&p| types[p].name.clone())
                    .collect();
                cycle.push(types[i].name.clone());
                return Err(cycle);
            }
            State::New => {}
        }
        state[i] = State::Visiting;
        path.push(i);
        for name in references(&types[i]) {
            if let Some(j) = types.iter().position(|t| t.name == name) {
                visit(j, types, state, order, path)?;
            }
        }
        path.pop();
        state[i] = State::Done;
        order.push(i);
        Ok(())
    }
    let mut state = vec![State::New; types.len()];
    let mut order = Vec::with_capacity(types.len());
    for i in 0..types.len() {
        visit(i, types, &mut state, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = r#"
[[types]]
name = "Sales performance"
method = "pareto"
[[types.segments]]
name = "A"
share = 80
[[types.segments]]
name = "B"
share = 15
[[types.segments]]
name = "C"
share = 5
default = true
"#;

    fn problems(text: &str) -> Vec<String> {
        parse_config(text)
            .expect_err("configuration should be rejected")
            .problems
    }

    #[test]
    fn reads_a_pareto_type_with_defaults() {
        let config = parse_config(ABC).unwrap();
        assert_eq!(config.currency, "EUR");
        let t = &config.types[0];
        assert_eq!(t.identity, Identity::Customer);
        assert_eq!(t.interval, Interval::Rolling { months: 12 });
        assert_eq!(t.default_segment(), Some(2));
        assert_eq!(
            t.method,
            Method::Pareto(ParetoSpec {
                measure: Measure::Amount,
                min_sales: Amount::ZERO
            })
        );
    }

    #[test]
    fn each_type_names_the_optional_columns_it_reads() {
        let one_tier = "[[types.segments]]\nname = \"A\"\nshare = 100\n";
        let pareto = |extra: &str| format!("method = \"pareto\"\n{extra}{one_tier}");
        let cases = [
            (pareto(""), vec![]),
            (pareto("measure = \"margin\"\n"), vec!["margin"]),
            (
                pareto("agencies = [\"Lyon\"]\nbrands = [\"Bosch\"]\n"),
                vec!["agency", "brand"],
            ),
            ("method = \"rfm\"\n".to_owned(), vec![]),
            (
                "method = \"rules\"\n[[types.segments]]\nname = \"x\"\nrule = \"total_spent > 5 AND orders_30d = 0\"\n".to_owned(),
                vec![],
            ),
            (
                "method = \"rules\"\n[[types.segments]]\nname = \"x\"\nrule = \"late_order_days > 30 OR NOT purchased_brand IN ('Bosch')\"\n[[types.segments]]\nname = \"y\"\nrule = \"purchased_category CONTAINS 'press'\"\n".to_owned(),
                vec!["brand", "category", "status", "due_date"],
            ),
        ];
        for (body, expected) in cases {
            let config = parse_config(&format!("[[types]]\nname = \"T\"\n{body}")).unwrap();
            let names: Vec<&str> = config.types[0]
                .line_columns()
                .into_iter()
                .map(|c| c.name())
                .collect();
            assert_eq!(names, expected, "{body}");
        }
    }

    #[test]
    fn rfm_without_segments_uses_the_default_map() {
        let config = parse_config("[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\n").unwrap();
        let names: Vec<&str> = config.types[0]
            .segments
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, DEFAULT_RFM_SEGMENTS);
    }

    #[test]
    fn decimal_shares_total_exactly() {
        let text = ABC
            .replace("share = 80", "share = 33.3")
            .replace("share = 15", "share = 33.3")
            .replace("share = 5", "share = 33.4");
        assert!(parse_config(&text).is_ok());
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = format!(
            "{ABC}\n{}",
            r#"
[[types]]
name = "Sales performance"
method = "pareto"
[[types.segments]]
name = "A"
share = 90
default = true
[[types.segments]]
name = "VIP"
share = 5
excluded = true
default = true

[[types]]
name = "Other"
method = "kmeans"

[[types]]
name = "R"
method = "rfm"
bins = 4
recency_days = [30, 10]

[[types]]
name = "N"
method = "pareto"
min_sales = -5
[[types.segments]]
name = "A"
share = 100

[[types]]
name = "M"
method = "rfm"
frequency = [-1, 2, 3, 4]
monetary = [-10, 0, 5, 10]
"#
        );
        let expected = [
            "type 2 'Sales performance': duplicate type name; type names must be unique, ignoring case",
            "type 2 'Sales performance': more than one segment has default = true; at most one default segment is allowed",
            "type 2 'Sales performance': segment 'VIP': an excluded tier is manual-only and cannot have a share (found 5)",
            "type 2 'Sales performance': the shares of the non-excluded segments total 90, expected exactly 100",
            "type 3 'Other': unknown method 'kmeans', expected pareto, rfm or rules",
            "type 4 'R': recency_days has 2 thresholds, expected bins - 1 = 3",
            "type 4 'R': recency_days thresholds must be strictly ascending",
            "type 4 'R': bins = 4 needs the type's own segments with r, f, m ranges; the default segment map is defined for bins = 5",
            "type 5 'N': min_sales is -5, expected 0 or more",
            "type 6 'M': frequency thresholds must be 0 or more, found -1",
            "type 6 'M': monetary thresholds must be 0 or more, found -10",
        ];
        assert_eq!(problems(&text), expected);
    }

    #[test]
    fn settings_rules_types_do_not_read_are_refused() {
        let text = "[[types]]\nname = \"G\"\nmethod = \"rules\"\nidentity = \"vat\"\nperiod_months = 6\ninterval = \"rolling\"\n[[types.segments]]\nname = \"g\"\nrule = \"total_spent > 1\"\nexcluded = true\n";
        assert_eq!(
            problems(text),
            [
                "type 1 'G': identity does not apply to rules types",
                "type 1 'G': period_months does not apply to rules types",
                "type 1 'G': interval does not apply to rules types",
                "type 1 'G': segment 'g': excluded applies to pareto tiers; a rules segment takes customers out with exclude",
            ]
        );
    }

    #[test]
    fn colours_are_hex_rgb() {
        let with =
            |color: &str| ABC.replace("share = 80", &format!("share = 80\ncolor = \"{color}\""));
        let config = parse_config(&with("#1F77b4")).unwrap();
        assert_eq!(
            config.types[0].segments[0].color.as_deref(),
            Some("#1f77b4")
        );
        for bad in ["red", "#12345", "#1234567", "1f77b4", "#gg0000"] {
            assert_eq!(
                problems(&with(bad)),
                [format!("type 1 'Sales performance': segment 'A': color is '{bad}', expected #RRGGBB such as #1f77b4")],
                "{bad}"
            );
        }
    }

    #[test]
    fn types_and_segments_have_stable_ids() {
        let config =
            parse_config(&ABC.replace("name = \"A\"", "name = \"A\"\nid = \"top-tier\"")).unwrap();
        assert_eq!(config.types[0].id, "sales-performance");
        let ids: Vec<&str> = config.types[0]
            .segments
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["top-tier", "b", "c"]);
        assert_eq!(
            crate::segment_type::slug(" Clients fidèles / VIP "),
            "clients-fideles-vip"
        );
        let rfm = parse_config("[[types]]\nname = \"R\"\nmethod = \"rfm\"\n").unwrap();
        assert_eq!(rfm.types[0].segments[0].id, "champions");
        assert_eq!(
            problems(&ABC.replace("name = \"Sales performance\"", "name = \"Sales performance\"\nid = \"Bad Id\"")),
            ["type 1 'Sales performance': the type's id 'Bad Id' must be lower-case letters, digits, - and _ (such as 'sales-performance')"]
        );
        assert_eq!(
            problems(&ABC.replace("name = \"B\"", "name = \"B\"\nid = \"a\"")),
            ["type 1 'Sales performance': segment 'B': duplicate segment id 'a'; give it another id"]
        );
        let two = format!(
            "{ABC}{}",
            ABC.replace("Sales performance", "Sales-performance")
        );
        assert_eq!(
            problems(&two),
            ["type 2 'Sales-performance': duplicate type id 'sales-performance'; give it another id"]
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let message = problems("[[types]]\nname = \"x\"\nmethod = pareto\n").join("\n");
        assert!(message.contains("line 3"), "{message}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let message = problems(&ABC.replace("share = 80", "shar = 80")).join("\n");
        assert!(message.contains("unknown field `shar`"), "{message}");
    }
}
