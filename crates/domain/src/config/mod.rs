//! Reading segment types from TOML or JSON into one plain input structure
//! (`input`), and validating it once, reporting every problem at once with
//! its path, code and message (`problem`).

pub mod input;
pub mod problem;
#[cfg(test)]
mod tests;

use crate::date::Interval;
use crate::money::{Amount, AmountError, ExtraDigits, Percent};
use crate::segment_type::{
    is_valid_id, slug, Identity, LineFilter, Measure, Method, MethodKind, ParetoSpec, RfmNaming,
    RfmSpec, Rule, RulesSpec, ScoreRange, Segment, SegmentType, DEFAULT_RFM_SEGMENTS,
};
use crate::settings::Settings;
use input::{ConfigInput, Number, SegmentInput, SettingsInput, TypeInput};
pub use problem::ConfigError;
use problem::{Problem, ProblemCode, Problems};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A validated configuration: the organisation's settings and its segment
/// types, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Currency, declared attributes, closed statuses, time zone.
    pub settings: Settings,
    /// Segment types in configuration order.
    pub types: Vec<SegmentType>,
}

impl Config {
    /// A type by name.
    pub fn find_type(&self, name: &str) -> Option<&SegmentType> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// The input a deserialiser read, or the problem that stopped it, with the
/// path where it stopped.
fn read_input<'de, D>(deserializer: D) -> Result<ConfigInput, ConfigError>
where
    D: serde::Deserializer<'de>,
    D::Error: fmt::Display,
{
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        ConfigError {
            problems: vec![Problem {
                path: if path == "." { String::new() } else { path },
                code: ProblemCode::Malformed,
                message: e.into_inner().to_string().trim_end().to_owned(),
                place: String::new(),
            }],
        }
    })
}

/// Parses and validates a configuration written in TOML.
pub fn parse_config(text: &str) -> Result<Config, ConfigError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| ConfigError {
        problems: vec![Problem {
            path: String::new(),
            code: ProblemCode::Malformed,
            message: e.to_string().trim_end().to_owned(),
            place: String::new(),
        }],
    })?;
    validate(read_input(deserializer)?)
}

/// Parses and validates a configuration written in JSON (the structure of
/// [`ConfigInput`]), as a web form or an API client sends it.
pub fn parse_config_json(text: &str) -> Result<Config, ConfigError> {
    validate(read_input(&mut serde_json::Deserializer::from_str(text))?)
}

/// Validates an organisation's settings alone (a server's, before it has
/// types), every problem at once.
pub fn validate_settings(input: SettingsInput) -> Result<Settings, ConfigError> {
    let mut problems = Vec::new();
    let settings = crate::settings::settings(input, &mut Problems::new(&mut problems));
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigError { problems })
    }
}

/// Validates a configuration, every problem at once.
pub fn validate(input: ConfigInput) -> Result<Config, ConfigError> {
    let (settings, raw_types) = input.split();
    let mut problems = Vec::new();
    let mut p = Problems::new(&mut problems);
    let settings = crate::settings::settings(settings, &mut p);
    if raw_types.is_empty() {
        p.at(
            "types",
            ProblemCode::Missing,
            "no segment type: add at least one [[types]] table",
        );
    }
    let mut names = HashSet::new();
    let mut types = Vec::new();
    for (i, raw_type) in raw_types.into_iter().enumerate() {
        let mut p = p.within(
            &format!("types[{i}]"),
            format!("type {} '{}'", i + 1, raw_type.name),
        );
        if raw_type.name.trim().is_empty() {
            p.at("name", ProblemCode::Empty, "the name is empty");
        }
        if !names.insert(raw_type.name.trim().to_lowercase()) {
            p.at(
                "name",
                ProblemCode::Duplicate,
                "duplicate type name; type names must be unique, ignoring case",
            );
        }
        if let Some(t) = convert_type(raw_type, &mut p) {
            types.push((i, t));
        }
    }
    // Types (and segments) named alike are reported as such, not twice.
    let mut type_ids: HashMap<&str, &str> = HashMap::new();
    for (i, t) in &types {
        let first = *type_ids.entry(t.id.as_str()).or_insert(t.name.as_str());
        if first.to_lowercase() != t.name.to_lowercase() {
            p.within(
                &format!("types[{i}]"),
                format!("type {} '{}'", i + 1, t.name),
            )
            .at(
                "id",
                ProblemCode::Duplicate,
                format!("duplicate type id '{}'; give it another id", t.id),
            );
        }
    }
    let types: Vec<SegmentType> = types.into_iter().map(|(_, t)| t).collect();
    if problems.is_empty() {
        check_references(&types, &mut Problems::new(&mut problems));
    }
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    Ok(Config { settings, types })
}

fn parse_amount(value: &Number) -> Result<Amount, AmountError> {
    Amount::parse(&value.to_string(), false, ExtraDigits::Reject)
}

fn convert_type(raw: TypeInput, p: &mut Problems<'_>) -> Option<SegmentType> {
    for key in input::ServerKey::ALL {
        if key.is_set(&raw) {
            p.at(
                key.name(),
                ProblemCode::NotApplicable,
                format!(
                    "'{}' belongs to the server (strata serve keeps it beside the type); a file cannot set it",
                    key.name()
                ),
            );
        }
    }
    let identity = match raw.identity.as_deref().unwrap_or("customer") {
        "customer" => Identity::Customer,
        "vat" => Identity::Vat,
        other => {
            p.at(
                "identity",
                ProblemCode::UnknownValue,
                format!("unknown identity '{other}', expected customer or vat"),
            );
            Identity::Customer
        }
    };
    let months = raw.period_months.unwrap_or(12);
    if !(1..=1200).contains(&months) {
        p.at(
            "period_months",
            ProblemCode::OutOfRange,
            format!("period_months is {months}, expected a whole number of months from 1 to 1200"),
        );
    }
    let interval = match raw.interval.as_deref().unwrap_or("rolling") {
        "rolling" => Interval::Rolling {
            months: months.clamp(1, 1200) as u32,
        },
        "calendar_year" => Interval::CalendarYear,
        other => {
            p.at(
                "interval",
                ProblemCode::UnknownValue,
                format!("unknown interval '{other}', expected rolling or calendar_year"),
            );
            Interval::Rolling { months: 12 }
        }
    };
    let segments: Vec<Segment> = raw
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| convert_segment(s, &mut segment_problems(p, i, &s.name)))
        .collect();
    let mut seen = HashSet::new();
    for (i, s) in segments.iter().enumerate() {
        if s.name.trim().is_empty() {
            p.at(
                &format!("segments[{i}].name"),
                ProblemCode::Empty,
                "a segment has an empty name",
            );
        } else if !seen.insert(s.name.trim().to_lowercase()) {
            p.at(
                &format!("segments[{i}].name"),
                ProblemCode::Duplicate,
                format!(
                    "duplicate segment name '{}'; segment names must be unique, ignoring case, as rules compare them",
                    s.name
                ),
            );
        }
    }
    if segments.iter().filter(|s| s.is_default).count() > 1 {
        p.at(
            "segments",
            ProblemCode::Inconsistent,
            "more than one segment has default = true; at most one default segment is allowed",
        );
    }
    let method = match MethodKind::from_name(&raw.method) {
        Some(MethodKind::Pareto) => convert_pareto(&raw, &segments, p),
        Some(MethodKind::Rfm) => convert_rfm(&raw, &segments, p),
        Some(MethodKind::Rules) => convert_rules(&raw, &segments, p),
        None => {
            p.at(
                "method",
                ProblemCode::UnknownValue,
                format!(
                    "unknown method '{}', expected pareto, rfm or rules",
                    raw.method
                ),
            );
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
    for (i, s) in segments.iter().enumerate() {
        let first = *segment_ids.entry(s.id.as_str()).or_insert(s.name.as_str());
        if first.to_lowercase() != s.name.to_lowercase() {
            segment_problems(p, i, &s.name).at(
                "id",
                ProblemCode::Duplicate,
                format!("duplicate segment id '{}'; give it another id", s.id),
            );
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

/// The problems of a type's `i`-th segment.
fn segment_problems<'p>(p: &'p mut Problems<'_>, i: usize, name: &str) -> Problems<'p> {
    p.within(&format!("segments[{i}]"), format!("segment '{name}'"))
}

/// The id given, checked, or the name's slug.
fn checked_id(id: Option<&str>, name: &str, what: &str, p: &mut Problems<'_>) -> String {
    match id {
        Some(id) if is_valid_id(id) => id.to_owned(),
        Some(id) => {
            p.at(
                "id",
                ProblemCode::BadFormat,
                format!(
                    "{what}'s id '{id}' must be lower-case letters, digits, - and _ (such as '{}')",
                    slug(name)
                ),
            );
            slug(name)
        }
        None if slug(name).is_empty() => {
            p.at(
                "id",
                ProblemCode::Missing,
                format!("{what} needs an id: its name has no letter or digit"),
            );
            String::new()
        }
        None => slug(name),
    }
}

fn convert_segment(raw: &SegmentInput, p: &mut Problems<'_>) -> Segment {
    let share = match &raw.share {
        None => Percent::default(),
        Some(value) => match Percent::parse(&value.to_string()) {
            Ok(share) if share.0 >= 0 => share,
            _ => {
                p.at(
                    "share",
                    ProblemCode::OutOfRange,
                    "share must be a percentage from 0 to 100 with at most 4 decimals",
                );
                Percent::default()
            }
        },
    };
    let mut range = |letter: &str, value: Option<[i64; 2]>| {
        value.map(|[low, high]| {
            if low < 1 || high < low || high > 255 {
                p.at(
                    letter,
                    ProblemCode::OutOfRange,
                    format!("{letter} = [{low}, {high}] is not a score range [low, high] with 1 <= low <= high"),
                );
            }
            ScoreRange {
                low: low.clamp(0, 255) as u8,
                high: high.clamp(0, 255) as u8,
            }
        })
    };
    let (r, f, m) = (range("r", raw.r), range("f", raw.f), range("m", raw.m));
    let rule = raw
        .rule
        .as_ref()
        .and_then(|text| match crate::rules::parse::parse(text, None) {
            Ok(expr) => Some(Rule {
                text: text.clone(),
                expr,
            }),
            Err(e) => {
                p.at("rule", ProblemCode::Rule, format!("rule: {e}"));
                None
            }
        });
    let color = raw.color.as_ref().and_then(|color| {
        let hex = color
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
        if hex.is_none() {
            p.at(
                "color",
                ProblemCode::BadFormat,
                format!("color is '{color}', expected #RRGGBB such as #1f77b4"),
            );
        }
        hex.map(|_| color.to_lowercase())
    });
    Segment {
        id: checked_id(raw.id.as_deref(), &raw.name, "the segment", p),
        rule,
        include: raw.include.clone(),
        exclude: raw.exclude.clone(),
        name: raw.name.clone(),
        share,
        visit_every_days: raw.visit_every_days,
        priority: raw.priority,
        is_default: raw.default,
        excluded: raw.excluded,
        color,
        r,
        f,
        m,
    }
}

/// Refuses each present key, which the type's method does not read.
fn refuse(fields: &[(&str, bool)], why: impl Fn(&str) -> String, p: &mut Problems<'_>) {
    for &(field, present) in fields {
        if present {
            p.at(field, ProblemCode::NotApplicable, why(field));
        }
    }
}

fn convert_pareto(raw: &TypeInput, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    reject_rules_fields(raw, segments, p);
    refuse(
        &[
            ("bins", raw.bins.is_some()),
            ("recency_days", raw.recency_days.is_some()),
            ("frequency", raw.frequency.is_some()),
            ("monetary", raw.monetary.is_some()),
        ],
        |field| format!("{field} applies to rfm types only"),
        p,
    );
    if segments.is_empty() {
        p.at(
            "segments",
            ProblemCode::Missing,
            "a pareto type needs segments (for example A 80, B 15, C 5)",
        );
    }
    let mut total = Percent::default();
    for (i, s) in segments.iter().enumerate() {
        let mut sp = segment_problems(p, i, &s.name);
        refuse(
            &[
                ("r", s.r.is_some()),
                ("f", s.f.is_some()),
                ("m", s.m.is_some()),
            ],
            |_| "r, f and m ranges apply to rfm types only".to_owned(),
            &mut sp,
        );
        if s.excluded {
            if s.share.0 != 0 {
                sp.at(
                    "share",
                    ProblemCode::Inconsistent,
                    format!(
                        "an excluded tier is manual-only and cannot have a share (found {})",
                        s.share
                    ),
                );
            }
        } else {
            total = total + s.share;
        }
    }
    if !segments.is_empty() && total != Percent::HUNDRED {
        p.at(
            "segments",
            ProblemCode::Inconsistent,
            format!("the shares of the non-excluded segments total {total}, expected exactly 100"),
        );
    }
    let measure = match raw.measure.as_deref().unwrap_or("amount") {
        "amount" => Measure::Amount,
        "margin" => Measure::Margin,
        other => {
            p.at(
                "measure",
                ProblemCode::UnknownValue,
                format!("unknown measure '{other}', expected amount or margin"),
            );
            Measure::Amount
        }
    };
    let min_sales = match raw.min_sales.as_ref().map(parse_amount) {
        None => Amount::ZERO,
        Some(Ok(amount)) if amount < Amount::ZERO => {
            p.at(
                "min_sales",
                ProblemCode::OutOfRange,
                format!("min_sales is {amount}, expected 0 or more"),
            );
            Amount::ZERO
        }
        Some(Ok(amount)) => amount,
        Some(Err(e)) => {
            p.at(
                "min_sales",
                ProblemCode::BadFormat,
                format!("min_sales: {e}"),
            );
            Amount::ZERO
        }
    };
    Some(Method::Pareto(ParetoSpec { measure, min_sales }))
}

fn convert_rfm(raw: &TypeInput, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    reject_rules_fields(raw, segments, p);
    refuse(
        &[
            ("measure", raw.measure.is_some()),
            ("min_sales", raw.min_sales.is_some()),
        ],
        |field| format!("{field} applies to pareto types only"),
        p,
    );
    let bins = raw.bins.unwrap_or(5);
    if !(2..=10).contains(&bins) {
        p.at(
            "bins",
            ProblemCode::OutOfRange,
            format!("bins is {bins}, expected 2 to 10"),
        );
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
            p.at(
                name,
                ProblemCode::OutOfRange,
                format!("{name} thresholds must be 0 or more, found {negative}"),
            );
        }
        if values.len() != expected {
            p.at(
                name,
                ProblemCode::Inconsistent,
                format!(
                    "{name} has {} thresholds, expected bins - 1 = {expected}",
                    values.len()
                ),
            );
        }
        if values.windows(2).any(|w| w[0] >= w[1]) {
            p.at(
                name,
                ProblemCode::Inconsistent,
                format!("{name} thresholds must be strictly ascending"),
            );
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
                    p.at(
                        "monetary",
                        ProblemCode::BadFormat,
                        format!("monetary thresholds: {e}"),
                    );
                    None
                }
            }
        }
    };
    for (i, s) in segments.iter().enumerate() {
        let mut sp = segment_problems(p, i, &s.name);
        if s.share.0 != 0 {
            sp.at(
                "share",
                ProblemCode::NotApplicable,
                "share applies to pareto types only",
            );
        }
        for (letter, range) in [("r", s.r), ("f", s.f), ("m", s.m)] {
            if let Some(range) = range.filter(|r| i64::from(r.high) > bins) {
                sp.at(
                    letter,
                    ProblemCode::OutOfRange,
                    format!(
                        "score range [{}, {}] goes beyond bins = {bins}",
                        range.low, range.high
                    ),
                );
            }
        }
    }
    let naming = if segments.is_empty() {
        if bins != 5 {
            p.at(
                "segments",
                ProblemCode::Missing,
                format!("bins = {bins} needs the type's own segments with r, f, m ranges; the default segment map is defined for bins = 5"),
            );
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
fn reject_rules_fields(raw: &TypeInput, segments: &[Segment], p: &mut Problems<'_>) {
    if raw.exclusive.is_some() {
        p.at(
            "exclusive",
            ProblemCode::NotApplicable,
            "exclusive applies to rules types only",
        );
    }
    for (i, s) in segments.iter().enumerate() {
        let field = if s.rule.is_some() {
            "rule"
        } else if !s.include.is_empty() {
            SegmentInput::INCLUDE
        } else if !s.exclude.is_empty() {
            SegmentInput::EXCLUDE
        } else {
            continue;
        };
        segment_problems(p, i, &s.name).at(
            field,
            ProblemCode::NotApplicable,
            "rule, include and exclude apply to rules types only",
        );
    }
}

fn convert_rules(raw: &TypeInput, segments: &[Segment], p: &mut Problems<'_>) -> Option<Method> {
    refuse(
        &[
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
        ],
        |field| format!("{field} does not apply to rules types"),
        p,
    );
    if segments.is_empty() {
        p.at(
            "segments",
            ProblemCode::Missing,
            "a rules type needs segments, each with a rule or an include list",
        );
    }
    for (i, s) in segments.iter().enumerate() {
        let mut sp = segment_problems(p, i, &s.name);
        refuse(
            &[
                ("share", s.share.0 != 0),
                ("r", s.r.is_some()),
                ("f", s.f.is_some()),
                ("m", s.m.is_some()),
            ],
            |_| "share and r, f, m ranges do not apply to rules types".to_owned(),
            &mut sp,
        );
        if s.excluded {
            sp.at(
                "excluded",
                ProblemCode::NotApplicable,
                "excluded applies to pareto tiers; a rules segment takes customers out with exclude",
            );
        }
    }
    Some(Method::Rules(RulesSpec {
        exclusive: raw.exclusive.unwrap_or(true),
    }))
}

/// Checks references between types: each names a known type (an RFM type for
/// `rfm(...)`), and rules types do not reference each other in a cycle.
fn check_references(types: &[SegmentType], p: &mut Problems<'_>) {
    for (i, t) in types.iter().enumerate() {
        let mut tp = p.within(&format!("types[{i}]"), format!("type '{}'", t.name));
        for (j, s) in t.segments.iter().enumerate() {
            let Some(rule) = &s.rule else { continue };
            let mut sp = segment_problems(&mut tp, j, &s.name);
            for c in rule.expr.conditions() {
                let (name, wants_rfm) = match c.operand() {
                    crate::rules::ast::Operand::Segment(n) => (n, false),
                    crate::rules::ast::Operand::Rfm(n) => (n, true),
                    crate::rules::ast::Operand::Feature(_) => continue,
                };
                match types.iter().find(|o| &o.name == name) {
                    None => sp.at(
                        "rule",
                        ProblemCode::Reference,
                        format!("rule references unknown type '{name}'"),
                    ),
                    Some(o) if wants_rfm && !matches!(o.method, Method::Rfm(_)) => sp.at(
                        "rule",
                        ProblemCode::Reference,
                        format!("rfm('{name}') needs an RFM type; use segment('{name}')"),
                    ),
                    Some(o) => {
                        if let Err(problem) = o.type_ref().check_segment_literals(c) {
                            sp.at("rule", ProblemCode::Reference, problem);
                        }
                    }
                }
            }
        }
    }
    if let Err(cycle) = evaluation_order(types) {
        p.at(
            "types",
            ProblemCode::Reference,
            format!(
                "rules reference each other in a cycle: {}",
                cycle.join(" -> ")
            ),
        );
    }
}

/// The types a type's rules read with `segment()` or `rfm()`, by name,
/// sorted, each once.
pub fn references(t: &SegmentType) -> Vec<&str> {
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
