//! Segment types as the server keeps them: the JSON form of one
//! `[[types]]` entry plus the server's own keys, validated by the domain
//! together with the organisation's settings and other types.

use crate::error::{ApiError, ApiResult};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use strata_domain::config::input::{SegmentInput, ServerKey, SettingsInput, TypeInput};
use strata_domain::config::problem::{Problem, ProblemCode};
use strata_domain::config::{parse_config_json, Config};
use strata_domain::segment_type::SegmentType;
use strata_store::TypeRecord;
use strata_store::{OrgId, Recompute, Store};

/// The schedules `recompute` will take: refused until the server runs them.
const SCHEDULES: [&str; 3] = ["daily", "weekly", "monthly"];

/// The server's key beside a definition's: the type shown first.
const IS_DEFAULT: ServerKey = ServerKey::IsDefault;

fn problem(path: &str, code: ProblemCode, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        code,
        message,
        place: String::new(),
    }
}

/// A `PUT` body taken apart: the definition (with its name) and the
/// server's settings of it.
pub struct TypeBody {
    /// The `[[types]]` entry.
    pub definition: Value,
    /// Whether it becomes the default type.
    pub is_default: bool,
    /// Whether its successful runs notify the organisation; absent, as it
    /// was (a configuration file cannot say).
    pub notify: Option<bool>,
    /// When the server classifies it again on its own; absent, as it was.
    pub recompute: Option<Recompute>,
}

/// Splits a `PUT` body for the type named `name` in the URL.
pub fn split_body(name: &str, body: Value) -> Result<TypeBody, ApiError> {
    let Value::Object(mut object) = body else {
        return Err(ApiError::Invalid(vec![problem(
            "",
            ProblemCode::Malformed,
            "expected a JSON object: one [[types]] entry".into(),
        )]));
    };
    let mut problems = Vec::new();
    let mut flag = |key: ServerKey| match object.remove(key.name()) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(other) => {
            problems.push(problem(
                key.name(),
                ProblemCode::Malformed,
                format!("expected true or false, found {other}"),
            ));
            None
        }
    };
    let is_default = flag(IS_DEFAULT).unwrap_or(false);
    let notify = flag(ServerKey::Notify);
    let key = ServerKey::Recompute.name();
    let recompute = match object.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match Recompute::from_name(&text) {
            Some(r) => Some(r),
            // Schedules are refused, never ignored, until this server runs them.
            None if SCHEDULES.contains(&text.as_str()) || text.split_whitespace().count() >= 5 => {
                problems.push(problem(
                    key,
                    ProblemCode::NotApplicable,
                    format!("'{text}': scheduled recomputation is not supported by this server yet; use manual or after_import"),
                ));
                None
            }
            None => {
                problems.push(problem(
                    key,
                    ProblemCode::UnknownValue,
                    format!("'{text}': expected manual or after_import"),
                ));
                None
            }
        },
        Some(other) => {
            problems.push(problem(
                key,
                ProblemCode::Malformed,
                format!("expected manual or after_import, found {other}"),
            ));
            None
        }
    };
    match object.get("name") {
        None => {
            object.insert("name".into(), Value::String(name.to_owned()));
        }
        Some(Value::String(n)) if n == name => {}
        Some(other) => problems.push(problem(
            "name",
            ProblemCode::Inconsistent,
            format!(
                "the body names {other} but the URL names '{name}'; rename with POST .../rename"
            ),
        )),
    }
    if problems.is_empty() {
        Ok(TypeBody {
            definition: Value::Object(object),
            is_default,
            notify,
            recompute,
        })
    } else {
        Err(ApiError::Invalid(problems))
    }
}

/// The form `GET` returns and `PUT` accepts.
pub fn body_of(record: &TypeRecord) -> Value {
    let mut object = match &record.definition {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    object.insert(IS_DEFAULT.name().into(), Value::Bool(record.is_default));
    object.insert(ServerKey::Notify.name().into(), Value::Bool(record.notify));
    object.insert(
        ServerKey::Recompute.name().into(),
        Value::from(record.recompute.as_str()),
    );
    Value::Object(object)
}

/// The static members of each segment of a type: `(include, exclude)`.
pub type SegmentLists = BTreeMap<String, (Vec<String>, Vec<String>)>;

/// Takes the include and exclude lists out of a definition's segments:
/// they go to the store, which keeps a segment's static members apart from
/// its definition.
pub fn take_lists(definition: &mut Value) -> SegmentLists {
    let mut lists = SegmentLists::new();
    let Some(Value::Array(segments)) = definition.get_mut(TypeInput::SEGMENTS) else {
        return lists;
    };
    for segment in segments.iter_mut().filter_map(Value::as_object_mut) {
        let mut take = |key: &str| match segment.remove(key) {
            Some(Value::Array(entries)) => entries
                .into_iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let (include, exclude) = (take(SegmentInput::INCLUDE), take(SegmentInput::EXCLUDE));
        if let Some(Value::String(name)) = segment.get("name") {
            if !include.is_empty() || !exclude.is_empty() {
                lists.insert(name.clone(), (include, exclude));
            }
        }
    }
    lists
}

/// A type's form with the static members the store keeps for its
/// segments, in their lists: what `PUT` accepts back unchanged.
pub fn with_lists(mut body: Value, lists: Option<&SegmentLists>) -> Value {
    let (Some(lists), Some(Value::Array(segments))) = (lists, body.get_mut(TypeInput::SEGMENTS))
    else {
        return body;
    };
    for segment in segments.iter_mut().filter_map(Value::as_object_mut) {
        let Some((include, exclude)) = segment
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| lists.get(n))
        else {
            continue;
        };
        for (key, entries) in [
            (SegmentInput::INCLUDE, include),
            (SegmentInput::EXCLUDE, exclude),
        ] {
            // A definition stored before lists moved to the store keeps its own.
            let mut merged: Vec<Value> = match segment.remove(key) {
                Some(Value::Array(own)) => own,
                _ => Vec::new(),
            };
            for entry in entries {
                if !merged.iter().any(|e| e.as_str() == Some(entry)) {
                    merged.push(Value::from(entry.clone()));
                }
            }
            if !merged.is_empty() {
                segment.insert(key.into(), Value::Array(merged));
            }
        }
    }
    body
}

/// The organisation's whole configuration: its settings and every type.
pub fn organisation_config(
    settings: &SettingsInput,
    types: &[TypeRecord],
) -> Result<Config, Vec<Problem>> {
    config_of(
        settings,
        &types.iter().map(|t| &t.definition).collect::<Vec<_>>(),
    )
}

/// Each organisation's validated configuration, kept while its
/// definitions do not change (their version says when they do), so that a
/// request reading segments does not validate every type again.
#[derive(Default)]
pub struct Configs {
    cached: Mutex<HashMap<OrgId, (i64, Arc<Config>)>>,
}

impl Configs {
    /// The organisation's configuration at `version` or later.
    pub async fn get(&self, store: &dyn Store, org: OrgId, version: i64) -> ApiResult<Arc<Config>> {
        if let Some((cached, config)) = self.lock().get(&org) {
            if *cached >= version {
                return Ok(config.clone());
            }
        }
        let definitions = store.definitions(org).await?;
        let config = Arc::new(
            organisation_config(&definitions.settings, &definitions.types)
                .map_err(|p| ApiError::Internal(format!("stored types do not validate: {p:?}")))?,
        );
        let mut cached = self.lock();
        let keep = cached
            .get(&org)
            .is_none_or(|(v, _)| *v < definitions.config_version);
        if keep {
            cached.insert(org, (definitions.config_version, config.clone()));
        }
        Ok(config)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, (i64, Arc<Config>)>> {
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A configuration of the organisation's settings and some definitions,
/// validated by the domain.
pub fn config_of(settings: &SettingsInput, definitions: &[&Value]) -> Result<Config, Vec<Problem>> {
    let mut object = match serde_json::to_value(settings) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    object.insert(
        "types".into(),
        Value::Array(definitions.iter().map(|d| (*d).clone()).collect()),
    );
    parse_config_json(&Value::Object(object).to_string()).map_err(|e| e.problems)
}

/// Validates a new or changed definition among the organisation's other
/// types: problems about it have paths into its body; problems it causes
/// in other types keep their `types[i]` path.
pub fn check_definition(
    settings: &SettingsInput,
    others: &[TypeRecord],
    name: &str,
    definition: &Value,
) -> Result<SegmentType, ApiError> {
    let mut definitions: Vec<&Value> = Vec::new();
    let mut position = others.len();
    for (i, t) in others.iter().enumerate() {
        if t.name == name {
            position = i;
            definitions.push(definition);
        } else {
            definitions.push(&t.definition);
        }
    }
    if position == others.len() {
        definitions.push(definition);
    }
    let mut config = config_of(settings, &definitions).map_err(|problems| {
        let own = format!("types[{position}]");
        ApiError::Invalid(
            problems
                .into_iter()
                .map(|mut p| {
                    if p.path == own {
                        p.path.clear();
                    } else if let Some(rest) = p.path.strip_prefix(&format!("{own}.")) {
                        p.path = rest.to_owned();
                    }
                    p
                })
                .collect(),
        )
    })?;
    Ok(config.types.swap_remove(position))
}

/// What a run of some types reads: their definitions, then the
/// definitions of the types their rules read without classifying them,
/// whose latest results stand in.
pub struct RunPlan<'a> {
    /// Definitions to classify, then definitions read from stored results.
    pub definitions: Vec<&'a Value>,
    /// The types read from stored results: `(type, run id)`.
    pub read: Vec<(String, i64)>,
}

/// Why a run cannot be planned.
pub enum PlanError {
    /// A type of the run does not exist.
    UnknownType(String),
    /// A type the run's rules read has no successful run.
    NoResult(String),
    /// The stored definitions do not validate together.
    Invalid(Vec<Problem>),
    /// A comparison of a type that gives customers several segments.
    Groups(String),
}

impl PlanError {
    /// The message for people.
    pub fn message(&self) -> String {
        match self {
            PlanError::UnknownType(name) => format!("no segment type named '{name}'"),
            PlanError::NoResult(name) => format!(
                "the rules read the type '{name}', which has no successful run: run it first or in the same run"
            ),
            PlanError::Groups(name) => format!(
                "type '{name}' has groups (exclusive = false): a comparison needs one segment per customer"
            ),
            PlanError::Invalid(problems) => problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// Plans a run of `run_types` among the organisation's types.
pub fn plan_run<'a>(
    settings: &SettingsInput,
    types: &'a [TypeRecord],
    latest: &[strata_store::TypeState],
    run_types: &[String],
) -> Result<RunPlan<'a>, PlanError> {
    let mut definitions = Vec::new();
    for name in run_types {
        let record = types
            .iter()
            .find(|t| &t.name == name)
            .ok_or_else(|| PlanError::UnknownType(name.clone()))?;
        definitions.push(&record.definition);
    }
    let full = organisation_config(settings, types).map_err(PlanError::Invalid)?;
    let needed: std::collections::BTreeSet<&str> = full
        .types
        .iter()
        .filter(|t| run_types.contains(&t.name))
        .flat_map(strata_domain::config::references)
        .filter(|r| !run_types.iter().any(|t| t == r))
        .collect();
    let mut read = Vec::new();
    for name in needed {
        let state = latest
            .iter()
            .find(|s| s.type_name == name)
            .ok_or_else(|| PlanError::NoResult(name.to_owned()))?;
        let record = types
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| PlanError::UnknownType(name.to_owned()))?;
        definitions.push(&record.definition);
        read.push((name.to_owned(), state.run_id));
    }
    Ok(RunPlan { definitions, read })
}

/// Plans a one-off run (a period, a comparison) of `name`: the type and
/// every type its rules read, directly or not, classified together over
/// the same dates, as the command line classifies a whole configuration;
/// nothing is read from stored results. `compare` says whether the run
/// compares two periods, which needs one segment per customer.
pub fn plan_one_off<'a>(
    settings: &SettingsInput,
    types: &'a [TypeRecord],
    name: &str,
    compare: bool,
) -> Result<RunPlan<'a>, PlanError> {
    if !types.iter().any(|t| t.name == name) {
        return Err(PlanError::UnknownType(name.to_owned()));
    }
    let full = organisation_config(settings, types).map_err(PlanError::Invalid)?;
    let mut needed = std::collections::BTreeSet::from([name.to_owned()]);
    let mut queue = vec![name.to_owned()];
    while let Some(next) = queue.pop() {
        let Some(ty) = full.types.iter().find(|t| t.name == next) else {
            continue;
        };
        if compare && next == name && ty.is_multi() {
            return Err(PlanError::Groups(name.to_owned()));
        }
        for r in strata_domain::config::references(ty) {
            if needed.insert(r.to_owned()) {
                queue.push(r.to_owned());
            }
        }
    }
    Ok(RunPlan {
        definitions: types
            .iter()
            .filter(|t| needed.contains(&t.name))
            .map(|t| &t.definition)
            .collect(),
        read: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(name: &str, body: Value) -> Vec<(String, ProblemCode)> {
        match split_body(name, body) {
            Err(ApiError::Invalid(problems)) => {
                problems.into_iter().map(|p| (p.path, p.code)).collect()
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn server_keys_are_taken_out_or_refused() {
        let parts = split_body(
            "ABC",
            json!({"method": "pareto", "is_default": true, "notify": true, "recompute": "after_import"}),
        )
        .unwrap();
        assert!(parts.is_default);
        assert_eq!(parts.notify, Some(true));
        assert_eq!(parts.recompute, Some(Recompute::AfterImport));
        assert_eq!(parts.definition, json!({"method": "pareto", "name": "ABC"}));
        for (body, expected) in [
            (
                json!({"name": "XYZ"}),
                vec![("name", ProblemCode::Inconsistent)],
            ),
            (
                json!({"is_default": "yes"}),
                vec![("is_default", ProblemCode::Malformed)],
            ),
            (
                json!({"notify": []}),
                vec![("notify", ProblemCode::Malformed)],
            ),
            (
                json!({"recompute": true}),
                vec![("recompute", ProblemCode::Malformed)],
            ),
            (
                json!({"recompute": "weekly"}),
                vec![("recompute", ProblemCode::NotApplicable)],
            ),
            (
                json!({"recompute": "hourly"}),
                vec![("recompute", ProblemCode::UnknownValue)],
            ),
            (json!([]), vec![("", ProblemCode::Malformed)]),
        ] {
            let expected: Vec<(String, ProblemCode)> = expected
                .into_iter()
                .map(|(p, c)| (p.to_owned(), c))
                .collect();
            assert_eq!(refused("ABC", body.clone()), expected, "{body}");
        }
    }

    #[test]
    fn problems_of_the_body_have_paths_into_it() {
        let err = check_definition(
            &SettingsInput::default(),
            &[],
            "ABC",
            &json!({"name": "ABC", "method": "pareto", "segments": [{"name": "A", "shar": 80}]}),
        )
        .expect_err("refused");
        let ApiError::Invalid(problems) = err else {
            panic!("{err:?}")
        };
        assert_eq!(problems[0].path, "segments[0].shar");
    }
}
