//! A segment's members, streamed page by page from the store: a million
//! rows never sit in memory. CSV (optionally for French spreadsheets:
//! `;`, decimal comma, BOM) or JSON lines.

use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use std::sync::Arc;
use strata_engine::output::ASSIGNMENT_COLUMNS;
use strata_report::format::Lang;
use strata_store::{Member, MembersQuery, Role};

/// Members read from the store per page.
const PAGE: u32 = 5000;

/// The columns of an export before the attributes: those of
/// `assignments.csv` but the type's name, which is the URL's.
fn columns() -> &'static [&'static str] {
    &ASSIGNMENT_COLUMNS[1..]
}

/// The options of an export.
#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    locale: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv { french: bool },
    Jsonl,
}

/// A text cell that a spreadsheet would run as a formula gets a leading
/// apostrophe, so that it shows as text.
pub(super) fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One page as bytes.
fn render(members: &[Member], attributes: &[String], format: Format, header: bool) -> Vec<u8> {
    match format {
        Format::Jsonl => {
            let mut out = Vec::new();
            for m in members {
                let line = json!({
                    "customer_id": m.row.customer_id,
                    "segment": m.row.segment,
                    "source": m.row.source,
                    "auto_segment": m.row.auto_segment,
                    "manual_segment": m.row.manual_segment,
                    "figures": m.row.figures,
                    "attributes": m.attributes,
                });
                out.extend_from_slice(line.to_string().as_bytes());
                out.push(b'\n');
            }
            out
        }
        Format::Csv { french } => {
            let mut out = Vec::new();
            if header && french {
                out.extend_from_slice("\u{feff}".as_bytes());
            }
            let mut csv = csv::WriterBuilder::new()
                .delimiter(if french { b';' } else { b',' })
                .from_writer(out);
            let write = |csv: &mut csv::Writer<Vec<u8>>, record: Vec<Cow<'_, str>>| {
                csv.write_record(record.iter().map(|c| c.as_bytes()))
                    .expect("writing to memory cannot fail");
            };
            if header {
                let mut record: Vec<Cow<'_, str>> =
                    columns().iter().map(|c| Cow::Borrowed(*c)).collect();
                record.extend(attributes.iter().map(|a| neutralise(a)));
                write(&mut csv, record);
            }
            for m in members {
                let text = |t: &str| neutralise(t).into_owned();
                let mut record: Vec<Cow<'_, str>> = vec![
                    Cow::Owned(text(&m.row.customer_id)),
                    Cow::Owned(text(&m.row.segment)),
                    Cow::Owned(m.row.source.clone()),
                    Cow::Owned(text(m.row.auto_segment.as_deref().unwrap_or_default())),
                    Cow::Owned(text(m.row.manual_segment.as_deref().unwrap_or_default())),
                ];
                for column in &columns()[5..] {
                    let value = m.row.figures.get(*column).map_or("", String::as_str);
                    record.push(if french {
                        Cow::Owned(value.replace('.', ","))
                    } else {
                        Cow::Owned(value.to_owned())
                    });
                }
                for a in attributes {
                    record.push(Cow::Owned(text(
                        m.attributes.get(a).map_or("", String::as_str),
                    )));
                }
                write(&mut csv, record);
            }
            csv.into_inner().unwrap_or_default()
        }
    }
}

/// Streams the members of a segment in the type's latest result.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/segments/{segment}/members", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("segment" = String, Path), ("format" = Option<String>, Query, description = "csv or jsonl"), ("locale" = Option<String>, Query, description = "en or fr")), responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_members(
    State(state): State<AppState>,
    caller: Caller,
    Path((type_name, segment)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    // Exports carry e-mails and other personal data.
    caller.require(Role::Editor)?;
    let ty = segment_type(&state, &caller, &type_name).await?;
    if ty.segment_idx(&segment).is_none() {
        return Err(ApiError::NotFound(format!(
            "'{type_name}' has no segment '{segment}'"
        )));
    }
    let french = super::locale(query.locale.as_deref())? == Some(Lang::Fr);
    let format = match query.format.as_deref() {
        None | Some("csv") => Format::Csv { french },
        Some("jsonl") => Format::Jsonl,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format '{other}': expected csv or jsonl"
            )))
        }
    };
    let attributes = Arc::new(state.store.attribute_names(caller.org).await?);
    let store = state.store.clone();
    let org = caller.org;
    let start = (Some(None::<String>), true);
    let stream = futures::stream::unfold(start, move |(after, header)| {
        let store = store.clone();
        let attributes = attributes.clone();
        let (type_name, segment) = (type_name.clone(), segment.clone());
        async move {
            let after = after?;
            let page = store
                .members(
                    org,
                    &MembersQuery {
                        type_name,
                        segment,
                        after,
                        limit: PAGE,
                    },
                )
                .await;
            match page {
                Err(e) => {
                    tracing::error!(error = %e, "an export stopped");
                    Some((Err(std::io::Error::other(e.to_string())), (None, false)))
                }
                Ok(members) => {
                    let next = (members.len() == PAGE as usize)
                        .then(|| members.last().map(|m| m.row.customer_id.clone()));
                    if members.is_empty() && !header {
                        return None;
                    }
                    let bytes = Bytes::from(render(&members, &attributes, format, header));
                    Some((Ok(bytes), (next, false)))
                }
            }
        }
    });
    let (content_type, extension) = match format {
        Format::Csv { .. } => ("text/csv; charset=utf-8", "csv"),
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"members.{extension}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_store::ResultRow;

    fn member(id: &str, sales: &str, name: &str) -> Member {
        Member {
            row: ResultRow {
                type_name: "ABC".into(),
                customer_id: id.into(),
                segment: "A".into(),
                source: "computed".into(),
                auto_segment: Some("A".into()),
                auto_source: Some("computed".into()),
                manual_segment: None,
                figures: [("eligible_sales".to_owned(), sales.to_owned())].into(),
            },
            attributes: [("name".to_owned(), name.to_owned())].into(),
        }
    }

    #[test]
    fn french_csv_has_a_bom_semicolons_decimal_commas_and_no_formulas() {
        let members = [
            member("C1", "-12.5", "=HYPERLINK(\"x\")"),
            member("@C2", "3", "Zoé"),
        ];
        let text = String::from_utf8(render(
            &members,
            &["name".into()],
            Format::Csv { french: true },
            true,
        ))
        .unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("\u{feff}customer_id;segment;source;"));
        assert!(lines[0].ends_with(";name"));
        assert_eq!(
            lines[1],
            "C1;A;computed;A;;;;-12,5;;;;;;;;\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(lines[2], "'@C2;A;computed;A;;;;3;;;;;;;;Zoé");
        let english = String::from_utf8(render(
            &members[..1],
            &["name".into()],
            Format::Csv { french: false },
            false,
        ))
        .unwrap();
        assert_eq!(
            english,
            "C1,A,computed,A,,,,-12.5,,,,,,,,\"'=HYPERLINK(\"\"x\"\")\"\n"
        );
    }

    #[test]
    fn json_lines_carry_figures_and_attributes() {
        let text =
            String::from_utf8(render(&[member("C1", "1", "A")], &[], Format::Jsonl, true)).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(value["figures"]["eligible_sales"], "1");
        assert_eq!(value["attributes"]["name"], "A");
    }
}
