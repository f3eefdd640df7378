//! The API in process, on SQLite and on PostgreSQL: every route called with
//! another organisation's token on this organisation's records reads
//! nothing and changes nothing; roles limit tokens; metrics name routes,
//! never organisations.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use strata_server::{app, AppState, Runner, ServerConfig};
use strata_store::{new_token, NewToken, Role, Store};
use tower::ServiceExt;

struct Api {
    router: axum::Router,
}

impl Api {
    /// The router over a store, with its workers running.
    fn start(store: &Arc<dyn Store>) -> (Api, Runner) {
        Api::start_with(store, ServerConfig::default())
    }

    /// The router with these server settings.
    fn start_with(store: &Arc<dyn Store>, config: ServerConfig) -> (Api, Runner) {
        let config = Arc::new(config);
        let runner = Runner::start(store.clone(), config.clone());
        let router = app(AppState::new(store.clone(), runner.clone(), config));
        (Api { router }, runner)
    }

    async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(match body {
                None => Body::empty(),
                // A file's contents, as imports take them.
                Some(Value::String(file)) => Body::from(file),
                Some(json) => Body::from(json.to_string()),
            })
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }
}

async fn token(store: &dyn Store, org: &str, role: Role) -> (String, i64) {
    let (org, _) = store.ensure_org(org).await.unwrap();
    let (secret, hash) = new_token();
    let token = store
        .create_token(&NewToken {
            org: org.id,
            role,
            label: "test".into(),
            hash,
        })
        .await
        .unwrap();
    (secret, token.id)
}

async fn wait(api: &Api, token: &str, id: i64) {
    for _ in 0..500 {
        let (_, run) = api
            .call(token, Method::GET, &format!("/api/v1/runs/{id}"), None)
            .await;
        if run["status"] == "succeeded" {
            return;
        }
        assert!(
            matches!(run["status"].as_str(), Some("queued" | "running")),
            "{run}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("run {id} did not end");
}

/// What the organisation sees of its own records.
async fn snapshot(api: &Api, token: &str, run_id: i64) -> Vec<(StatusCode, Value)> {
    let mut state = Vec::new();
    for path in [
        "/api/v1/settings".to_owned(),
        "/api/v1/tokens".to_owned(),
        "/api/v1/customers".to_owned(),
        "/api/v1/customers/C1".to_owned(),
        "/api/v1/segment-types".to_owned(),
        "/api/v1/segment-types/ABC/status".to_owned(),
        format!("/api/v1/runs/{run_id}"),
    ] {
        state.push(api.call(token, Method::GET, &path, None).await);
    }
    state
}

async fn isolation(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (acme, acme_token_id) = token(&*store, "acme", Role::Admin).await;
    let (other, _) = token(&*store, "other", Role::Admin).await;

    // This organisation's records: a customer with lines, a type, a run, a
    // manual segment, settings.
    let abc = json!({"method": "pareto", "segments": [
        {"name": "A", "share": 80}, {"name": "B", "share": 15}, {"name": "C", "share": 5}]});
    let setup: [(Method, &str, Value); 5] = [
        (Method::PUT, "/api/v1/settings", json!({"currency": "CHF"})),
        (Method::PUT, "/api/v1/segment-types/ABC", abc.clone()),
        (
            Method::POST,
            "/api/v1/customers",
            json!([{"customer_id": "C1", "name": "Alpha"}]),
        ),
        (
            Method::POST,
            "/api/v1/transactions",
            json!([{"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "10"}]),
        ),
        (
            Method::POST,
            "/api/v1/runs",
            json!({"types": ["ABC"], "as_of": "2026-06-30"}),
        ),
    ];
    let mut run_id = 0;
    for (method, path, body) in setup {
        let (status, value) = api.call(&acme, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        if path == "/api/v1/runs" {
            run_id = value["id"].as_i64().unwrap();
        }
    }
    wait(&api, &acme, run_id).await;
    let (_, fresh) = api
        .call(&acme, Method::GET, "/api/v1/segment-types/ABC/status", None)
        .await;
    assert_eq!(fresh["stale"], false, "{fresh}");
    let (status, _) = api
        .call(
            &acme,
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C1",
            Some(json!({"segment": "B"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = snapshot(&api, &acme, run_id).await;

    // Another organisation's token on every route.
    let not_found = StatusCode::NOT_FOUND;
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (Method::GET, "/api/v1/customers/C1".into(), None, not_found),
        (
            Method::DELETE,
            "/api/v1/customers/C1".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/customers/C1/history".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/segment-types/ABC/segments/A/history".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/segment-types/ABC/changes".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/segment-types/ABC/sizes".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            format!("/api/v1/runs/{run_id}"),
            None,
            not_found,
        ),
        (
            Method::POST,
            format!("/api/v1/runs/{run_id}/cancel"),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/segment-types/ABC".into(),
            None,
            not_found,
        ),
        (
            Method::DELETE,
            "/api/v1/segment-types/ABC".into(),
            None,
            not_found,
        ),
        (
            Method::POST,
            "/api/v1/segment-types/ABC/runs".into(),
            Some(json!({})),
            not_found,
        ),
        (
            Method::POST,
            "/api/v1/runs".into(),
            Some(json!({"types": ["ABC"]})),
            not_found,
        ),
        (
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C1".into(),
            Some(json!({"segment": "A"})),
            not_found,
        ),
        (
            Method::DELETE,
            "/api/v1/segment-types/ABC/manual/C1".into(),
            None,
            not_found,
        ),
        (
            Method::DELETE,
            "/api/v1/segment-types/ABC/manual".into(),
            None,
            not_found,
        ),
        (
            Method::GET,
            "/api/v1/segment-types/ABC/segments/A/members".into(),
            None,
            not_found,
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{acme_token_id}"),
            None,
            not_found,
        ),
        // Lists show only the caller's own records; writes land in its own.
        (
            Method::GET,
            "/api/v1/customers".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/customers?segment_type=ABC&segment=A".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/segment-types".into(),
            None,
            StatusCode::OK,
        ),
        (Method::GET, "/api/v1/tokens".into(), None, StatusCode::OK),
        (Method::GET, "/api/v1/settings".into(), None, StatusCode::OK),
        (
            Method::PUT,
            "/api/v1/settings".into(),
            Some(json!({"currency": "USD"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/customers".into(),
            Some(json!([{"customer_id": "C1", "name": "Theirs"}])),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/transactions".into(),
            Some(
                json!([{"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "99"}]),
            ),
            StatusCode::OK,
        ),
        (
            Method::PUT,
            "/api/v1/segment-types/ABC".into(),
            Some(abc.clone()),
            StatusCode::CREATED,
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, value) = api.call(&other, method.clone(), &path, body).await;
        assert_eq!(status, expected, "{method} {path}: {value}");
        if status == StatusCode::OK && method == Method::GET {
            let text = value.to_string();
            assert!(
                !text.contains("Alpha")
                    && !text.contains("CHF")
                    && !text.contains(&format!("\"id\":{acme_token_id}")),
                "{path} shows acme's records: {text}"
            );
        }
    }
    assert_eq!(
        snapshot(&api, &acme, run_id).await,
        before,
        "acme's records are as they were"
    );
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisation_sees_and_changes_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    isolation(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisation_sees_and_changes_nothing_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "isolation").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    isolation(Arc::new(store)).await;
}

/// Each role may do what the roles below it may, and no more.
async fn roles(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (viewer, _) = token(&*store, "acme", Role::Viewer).await;
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let (admin, _) = token(&*store, "acme", Role::Admin).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let forbidden = StatusCode::FORBIDDEN;
    let cases: Vec<(&str, Method, &str, Option<Value>, StatusCode)> = vec![
        (
            &viewer,
            Method::DELETE,
            "/api/v1/customers/C1",
            None,
            forbidden,
        ),
        (
            &viewer,
            Method::PUT,
            "/api/v1/segment-types/ABC",
            Some(abc.clone()),
            forbidden,
        ),
        (
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC",
            Some(abc.clone()),
            StatusCode::CREATED,
        ),
        (
            &viewer,
            Method::GET,
            "/api/v1/segment-types/ABC",
            None,
            StatusCode::OK,
        ),
        (
            &viewer,
            Method::POST,
            "/api/v1/customers",
            Some(json!([{"customer_id": "C1"}])),
            forbidden,
        ),
        (
            &editor,
            Method::POST,
            "/api/v1/customers",
            Some(json!([{"customer_id": "C1"}])),
            StatusCode::OK,
        ),
        (
            &viewer,
            Method::GET,
            "/api/v1/customers/C1",
            None,
            StatusCode::OK,
        ),
        (
            &viewer,
            Method::POST,
            "/api/v1/runs",
            Some(json!({"types": ["ABC"]})),
            forbidden,
        ),
        (
            &viewer,
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C1",
            Some(json!({"segment": "A"})),
            forbidden,
        ),
        (
            &viewer,
            Method::GET,
            "/api/v1/segment-types/ABC/segments/A/members",
            None,
            forbidden,
        ),
        (&editor, Method::GET, "/api/v1/tokens", None, forbidden),
        (
            &editor,
            Method::PUT,
            "/api/v1/settings",
            Some(json!({})),
            forbidden,
        ),
        (&admin, Method::GET, "/api/v1/tokens", None, StatusCode::OK),
        (
            &admin,
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"currency": "CHF"})),
            StatusCode::OK,
        ),
        (
            "strata_not_a_token",
            Method::GET,
            "/api/v1/customers",
            None,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (token, method, path, body, expected) in cases {
        let (status, value) = api.call(token, method.clone(), path, body).await;
        assert_eq!(status, expected, "{method} {path}: {value}");
    }
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_limit_what_tokens_do_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    roles(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_limit_what_tokens_do_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "roles").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    roles(Arc::new(store)).await;
}

/// Renaming a type keeps its id, manual assignments and results, and
/// rewrites the rules that read it; a type that rules read cannot be deleted.
async fn rename(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let vip = json!({"method": "rules", "segments": [
        {"name": "Key", "rule": "segment('ABC') = 'A'"}, {"name": "Other", "default": true}]});
    for (path, body) in [
        ("/api/v1/segment-types/ABC", abc),
        ("/api/v1/segment-types/VIP", vip),
        ("/api/v1/customers", json!([{"customer_id": "C1"}])),
    ] {
        let method = if path.ends_with("customers") {
            Method::POST
        } else {
            Method::PUT
        };
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
    }
    api.call(
        &editor,
        Method::PUT,
        "/api/v1/segment-types/ABC/manual/C1",
        Some(json!({"segment": "B"})),
    )
    .await;
    // Read once before the rename: the organisation's configuration is
    // cached by the server and must follow the rename.
    let (_, customer) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(customer["segments"][0]["segment_type"], "ABC");
    let (status, value) = api
        .call(&editor, Method::DELETE, "/api/v1/segment-types/ABC", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{value}");
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/segment-types/ABC/rename",
            Some(json!({"name": "Tiers"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(value["rewritten"], json!(["VIP"]));
    let (_, vip) = api
        .call(&editor, Method::GET, "/api/v1/segment-types/VIP", None)
        .await;
    assert_eq!(vip["segments"][0]["rule"], "segment('Tiers') = 'A'");
    let (_, tiers) = api
        .call(&editor, Method::GET, "/api/v1/segment-types/Tiers", None)
        .await;
    assert_eq!(tiers["id"], "abc", "the id stays the old name's slug");
    let (status, _) = api
        .call(&editor, Method::GET, "/api/v1/segment-types/ABC", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, customer) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(customer["segments"][0]["segment_type"], "Tiers");
    assert_eq!(customer["segments"][0]["manual"], json!(["B"]));
    let (status, _) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/segment-types/Tiers/rename",
            Some(json!({"name": "vip"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "names are unique ignoring case"
    );

    // A segment removed from the type takes its manual assignments along.
    let without_b =
        json!({"method": "pareto", "id": "abc", "segments": [{"name": "A", "share": 100}]});
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/Tiers",
            Some(without_b),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let (_, customer) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(customer["segments"][0]["manual"], json!([]));
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_type_rewrites_its_readers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    rename(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_type_rewrites_its_readers_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "rename").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    rename(Arc::new(store)).await;
}

/// A run that reads a type it does not classify reads that type's latest
/// result with the manual assignments made since.
async fn reading_a_stored_type(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let vip = json!({"method": "rules", "segments": [
        {"name": "Key", "rule": "segment('ABC') = 'A'"}, {"name": "Other", "default": true}]});
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-01-02", "amount": "900"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-01-03", "amount": "100"}]);
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/ABC", abc),
        (Method::PUT, "/api/v1/segment-types/VIP", vip),
        (Method::POST, "/api/v1/transactions", lines),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
    }
    let run = |types: serde_json::Value| {
        let api = &api;
        let editor = &editor;
        async move {
            let (status, run) = api
                .call(
                    editor,
                    Method::POST,
                    "/api/v1/runs",
                    Some(json!({"types": types, "as_of": "2026-06-30"})),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{run}");
            wait(api, editor, run["id"].as_i64().unwrap()).await;
        }
    };
    let vip_of = |id: &'static str| {
        let api = &api;
        let editor = &editor;
        async move {
            let (_, customer) = api
                .call(
                    editor,
                    Method::GET,
                    &format!("/api/v1/customers/{id}"),
                    None,
                )
                .await;
            customer["segments"][1]["effective"].clone()
        }
    };
    run(json!(["ABC", "VIP"])).await;
    assert_eq!(vip_of("C1").await, json!(["Key"]));
    assert_eq!(vip_of("C2").await, json!(["Other"]));
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C2",
            Some(json!({"segment": "A"})),
        )
        .await;
    assert!(status.is_success(), "{value}");
    run(json!(["VIP"])).await;
    assert_eq!(vip_of("C2").await, json!(["Key"]), "the manual A is read");
    assert_eq!(vip_of("C1").await, json!(["Key"]));
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_reads_stored_types_with_current_manual_segments_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    reading_a_stored_type(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_reads_stored_types_with_current_manual_segments_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "stored_manual").await
    else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    reading_a_stored_type(Arc::new(store)).await;
}

/// A customer's detail explains each type as data and in the caller's
/// language: Pareto and RFM from their stored figures, rules evaluated on
/// the customer's lines with today's manual segments.
async fn explaining(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let rfm = json!({"method": "rfm", "bins": 2, "recency_days": [30], "segments": [{"name": "All", "r": [1, 2]}]});
    let vip = json!({"method": "rules", "segments": [
        {"name": "Key", "rule": "segment('ABC') = 'A' AND total_spent > 500"}, {"name": "Other", "default": true}]});
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "900"},
        {"customer_id": "C1", "order_id": "O3", "date": "2026-06-20", "amount": "10.5"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-01-03", "amount": "100"}]);
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/ABC", abc),
        (Method::PUT, "/api/v1/segment-types/RFM", rfm),
        (Method::PUT, "/api/v1/segment-types/VIP", vip),
        (Method::POST, "/api/v1/transactions", lines),
        (
            Method::POST,
            "/api/v1/runs",
            json!({"types": ["ABC", "RFM", "VIP"], "as_of": "2026-06-30"}),
        ),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
        if path == "/api/v1/runs" {
            wait(&api, &editor, value["id"].as_i64().unwrap()).await;
        }
    }
    let (status, c1) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{c1}");
    let abc = &c1["segments"][0]["explanation"];
    assert_eq!(
        abc["data"],
        json!({
            "method": "pareto",
            "window": {"first": "2025-07-01", "last": "2026-06-30"},
            "rows": [{"segment": "A", "source": "computed", "computed": "A", "manual": null}],
            "reason": {
                "eligible_sales": "910.5",
                "share_before": "0.000000",
                "tiers": [{"segment": "A", "cumulative_share": "80"}, {"segment": "B", "cumulative_share": "100"}],
                "min_sales": "0",
            },
        })
    );
    assert_eq!(
        abc["text"][3],
        "eligible sales 910.5; customers with greater sales make 0.000000 of T"
    );
    let rfm = &c1["segments"][1]["explanation"]["data"]["reason"];
    assert_eq!(
        rfm,
        &json!({
            "score": {"recency_days": 10, "frequency": 2, "monetary": "910.5", "r": 2, "f": 2, "m": 2},
            "fixed_thresholds": {"r": true, "f": false, "m": false},
        })
    );
    let vip = &c1["segments"][2]["explanation"]["data"];
    assert_eq!(vip["rows"][0]["segment"], "Key");
    assert_eq!(
        vip["reason"]["segments"][0]["rule"]["conditions"],
        json!([
            {"condition": "segment('ABC') = 'A'", "value": "'A'", "truth": "true"},
            {"condition": "total_spent > 500", "value": "910.5", "truth": "true"},
        ])
    );
    // A manual tier is what the rules read from then on.
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C1",
            Some(json!({"segment": "B"})),
        )
        .await;
    assert!(status.is_success(), "{value}");
    let (_, c1) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1?locale=fr", None)
        .await;
    let abc = &c1["segments"][0]["explanation"];
    assert_eq!(
        abc["data"]["rows"],
        json!([{"segment": "B", "source": "manual", "computed": "A", "manual": "B"}])
    );
    assert_eq!(abc["text"][2], "B: origine manuel, calculé A, manuel B");
    let vip = &c1["segments"][2]["explanation"]["data"];
    assert_eq!(
        vip["reason"]["segments"][0]["rule"]["conditions"][0],
        json!({"condition": "segment('ABC') = 'A'", "value": "'B'", "truth": "false"})
    );
    // The language of the request, unless `locale` says otherwise.
    let request = |locale: &'static str| {
        axum::http::Request::builder()
            .uri(format!("/api/v1/customers/C2{locale}"))
            .header("authorization", format!("Bearer {editor}"))
            .header("accept-language", "fr-CH, fr;q=0.9, en;q=0.8")
            .body(Body::empty())
            .unwrap()
    };
    for (locale, expected) in [
        ("", "période 2025-07-01 .. 2026-06-30"),
        ("?locale=en", "window 2025-07-01 .. 2026-06-30"),
    ] {
        let response = api.router.clone().oneshot(request(locale)).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let c2: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            c2["segments"][0]["explanation"]["text"][1], expected,
            "{c2}"
        );
    }
    let (status, _) = api
        .call(&editor, Method::GET, "/api/v1/customers/C2?locale=de", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A lookup that does not need them leaves them out.
    let (_, bare) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/customers/C1?explain=false",
            None,
        )
        .await;
    assert_eq!(bare["segments"][2]["explanation"], json!(null));
    assert_eq!(bare["segments"][2]["effective"], json!(["Key"]));
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_explained_in_its_callers_language_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    explaining(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_explained_in_its_callers_language_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "explaining").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    explaining(Arc::new(store)).await;
}

/// A file with a `line` column upserts lines by customer, order and line;
/// without one, each of its orders is replaced whole.
async fn file_line_numbers(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let org = store.ensure_org("acme").await.unwrap().0.id;
    let import = |file: &'static str| {
        let api = &api;
        let editor = &editor;
        async move {
            api.call(
                editor,
                Method::POST,
                "/api/v1/imports/transactions",
                Some(Value::String(file.into())),
            )
            .await
        }
    };
    let amounts = || async {
        store
            .customer_lines(org, "C1")
            .await
            .unwrap()
            .iter()
            .map(|l| (l.order_id.clone(), l.line, l.amount.to_string()))
            .collect::<Vec<_>>()
    };
    let numbered =
        "order_id,customer_id,date,amount,line\nO1,C1,2026-01-02,10,1\nO1,C1,2026-01-02,20,2\n";
    let (status, value) = import(numbered).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(value["changed"], 2);
    assert_eq!(import(numbered).await.1["changed"], 0);
    // Line 1 alone: line 2 stays.
    let (status, value) =
        import("order_id,customer_id,date,amount,line\nO1,C1,2026-01-02,15,1\n").await;
    assert_eq!((status, &value["changed"]), (StatusCode::OK, &json!(1)));
    assert_eq!(
        amounts().await,
        [("O1".into(), 1, "15".into()), ("O1".into(), 2, "20".into())]
    );
    // Without numbers the order is replaced whole.
    let (status, _) = import("order_id,customer_id,date,amount\nO1,C1,2026-01-02,7\n").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(amounts().await, [("O1".into(), 1, "7".into())]);
    // Bad numbers and a line given twice are listed; nothing is stored.
    let (status, value) = import(
        "order_id,customer_id,date,amount,line\nO2,C1,2026-01-02,1,0\nO2,C1,2026-01-02,1,x\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
    let rows: Vec<(u64, String)> = value["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [(2, "line".to_owned()), (3, "line".to_owned())],
        "{value}"
    );
    let (status, value) = import(
        "order_id,customer_id,date,amount,line\nO2,C1,2026-01-02,1,3\nO2,C1,2026-01-02,2,3\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
    assert!(
        value
            .to_string()
            .contains("customer 'C1', order 'O2', line 3 appears more than once"),
        "{value}"
    );
    assert_eq!(amounts().await, [("O1".into(), 1, "7".into())]);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_imports_take_line_numbers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    file_line_numbers(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_imports_take_line_numbers_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "file_lines").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    file_line_numbers(Arc::new(store)).await;
}

/// An erased customer is gone from every read, and the next run treats it
/// as never seen.
async fn erasing(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let run = json!({"types": ["ABC"], "as_of": "2026-06-30"});
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "900"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "100"},
        {"customer_id": "C3", "order_id": "O3", "date": "2026-06-04", "amount": "50"}]);
    let mut calls = vec![
        (Method::PUT, "/api/v1/segment-types/ABC", Some(abc)),
        (Method::POST, "/api/v1/transactions", Some(lines)),
        (Method::POST, "/api/v1/runs", Some(run.clone())),
        (
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C1",
            Some(json!({"segment": "B"})),
        ),
    ];
    for (method, path, body) in calls.drain(..) {
        let (status, value) = api.call(&editor, method, path, body).await;
        assert!(status.is_success(), "{path}: {value}");
        if path == "/api/v1/runs" {
            wait(&api, &editor, value["id"].as_i64().unwrap()).await;
        }
    }
    let (status, value) = api
        .call(&editor, Method::DELETE, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(
        value,
        json!({"customer_id": "C1", "erased": {"lines": 1, "results": 1, "manual": 1}})
    );
    let (status, _) = api
        .call(&editor, Method::GET, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, state) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/segment-types/ABC/status",
            None,
        )
        .await;
    assert_eq!(state["stale"], true, "{state}");
    // C2 now holds 100 / 150 of the sales: tier A on its own.
    let (status, value) = api
        .call(&editor, Method::POST, "/api/v1/runs", Some(run))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{value}");
    wait(&api, &editor, value["id"].as_i64().unwrap()).await;
    let (_, members) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/segment-types/ABC/segments/A/members?format=jsonl",
            None,
        )
        .await;
    let members = members.as_str().unwrap_or_default().to_owned();
    assert!(
        members.contains("\"C2\"") && !members.contains("\"C1\""),
        "{members}"
    );
    let (_, page) = api
        .call(&editor, Method::GET, "/api/v1/customers", None)
        .await;
    let ids: Vec<&str> = page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["C2", "C3"]);
    let (status, _) = api
        .call(&editor, Method::DELETE, "/api/v1/customers/C1", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_customer_is_gone_everywhere_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    erasing(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_customer_is_gone_everywhere_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "erasing").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    erasing(Arc::new(store)).await;
}

/// History by customer and by segment, paged, bounded by dates in the
/// organisation's time zone.
async fn histories(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "900"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "100"}]);
    let mut run_id = 0;
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/ABC", abc),
        (Method::POST, "/api/v1/transactions", lines),
        (
            Method::POST,
            "/api/v1/runs",
            json!({"types": ["ABC"], "as_of": "2026-06-30"}),
        ),
        (
            Method::PUT,
            "/api/v1/segment-types/ABC/manual/C2",
            json!({"segment": "A"}),
        ),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
        if path == "/api/v1/runs" {
            run_id = value["id"].as_i64().unwrap();
            wait(&api, &editor, run_id).await;
        }
    }
    let get = |path: String| {
        let api = &api;
        let editor = &editor;
        async move { api.call(editor, Method::GET, &path, None).await }
    };
    let (status, c1) = get("/api/v1/customers/C1/history".into()).await;
    assert_eq!(status, StatusCode::OK, "{c1}");
    let entry = &c1["entries"][0];
    assert_eq!(
        [
            &entry["old_segment"],
            &entry["new_segment"],
            &entry["cause"],
            &entry["run_id"],
            &entry["actor"]
        ],
        [
            &json!(null),
            &json!("A"),
            &json!("run"),
            &json!(run_id),
            &json!("test")
        ]
    );
    assert_eq!(c1["entries"].as_array().unwrap().len(), 1);
    let summary = |page: &Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}>{} {}",
                    e["customer_id"].as_str().unwrap(),
                    e["old_segment"].as_str().unwrap_or("-"),
                    e["new_segment"].as_str().unwrap_or("-"),
                    e["cause"].as_str().unwrap()
                )
            })
            .collect()
    };
    let segment = "/api/v1/segment-types/ABC/segments/A/history";
    let (_, all) = get(segment.into()).await;
    assert_eq!(summary(&all), ["C1 ->A run", "C2 B>A manual"]);
    assert_eq!(all["next_cursor"], json!(null));
    // One at a time.
    let (_, first) = get(format!("{segment}?limit=1")).await;
    assert_eq!(summary(&first), ["C1 ->A run"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(format!("{segment}?limit=1&cursor={cursor}")).await;
    assert_eq!(summary(&second), ["C2 B>A manual"]);
    assert_eq!(second["next_cursor"], json!(null));
    // Dates are days in the organisation's time zone; `to` is exclusive.
    // The day the entries were recorded (UTC: no time zone is set).
    let today: chrono::NaiveDate = all["entries"][1]["at"].as_str().unwrap()[..10]
        .parse()
        .unwrap();
    let tomorrow = today.succ_opt().unwrap();
    for (query, expected) in [
        (format!("from={today}"), 2),
        (format!("from={today}&to={tomorrow}"), 2),
        (format!("to={today}"), 0),
        (format!("from={tomorrow}"), 0),
        ("from=2020-01-01T00:00:00Z".to_owned(), 2),
    ] {
        let (status, page) = get(format!("{segment}?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(
            page["entries"].as_array().unwrap().len(),
            expected,
            "{query}"
        );
    }
    for bad in ["from=yesterday", "limit=0", "cursor=zz"] {
        let (status, _) = get(format!("{segment}?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = get("/api/v1/segment-types/ABC/segments/Z/history".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get("/api/v1/customers/C9/history".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Definition changes: who, when, and the JSON Patch from before to after.
    let changed = json!({"method": "pareto", "segments": [{"name": "A", "share": 70}, {"name": "B", "share": 30}]});
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC",
            Some(changed),
        )
        .await;
    assert!(status.is_success(), "{value}");
    let (status, audit) = get("/api/v1/segment-types/ABC/changes".into()).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let changes = audit["changes"].as_array().unwrap();
    assert_eq!(
        changes
            .iter()
            .map(|c| c["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["created", "updated"]
    );
    assert_eq!(changes[1]["actor"], "test");
    let mut ops: Vec<(String, Value)> = changes[1]["patch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                format!(
                    "{} {}",
                    op["op"].as_str().unwrap(),
                    op["path"].as_str().unwrap()
                ),
                op["value"].clone(),
            )
        })
        .collect();
    ops.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        ops,
        [
            ("replace /segments/0/share".to_owned(), json!(70)),
            ("replace /segments/1/share".to_owned(), json!(30)),
        ]
    );
    let (status, _) = get("/api/v1/segment-types/Nope/changes".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Sizes over time: the counts of each run that classified the type.
    let (status, sizes) = get("/api/v1/segment-types/ABC/sizes".into()).await;
    assert_eq!(status, StatusCode::OK, "{sizes}");
    assert_eq!(sizes["runs"].as_array().unwrap().len(), 1, "{sizes}");
    let first = &sizes["runs"][0];
    assert_eq!(
        (&first["run_id"], &first["as_of"], &first["counts"]),
        (
            &json!(run_id),
            &json!("2026-06-30"),
            &json!({"A": 1, "B": 1})
        )
    );
    let (status, _) = get("/api/v1/segment-types/ABC/sizes?limit=0".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_by_customer_and_segment_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    histories(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_by_customer_and_segment_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "histories").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    histories(Arc::new(store)).await;
}

/// Static members: a customer removed by hand stays out of a group after
/// two runs, one added by e-mail stays in, and entries naming nobody come
/// back; a PUT of the type leaves them.
async fn static_members(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let vip =
        json!({"method": "rules", "segments": [{"name": "Big", "rule": "total_spent > 500"}]});
    let customers = json!([
        {"customer_id": "C1", "email": "one@x.com"},
        {"customer_id": "C2", "email": "two@x.com"},
        {"customer_id": "C3", "email": "Fan@X.com"},
        {"customer_id": "C4", "email": "fan@x.com"}]);
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "900"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "600"},
        {"customer_id": "C3", "order_id": "O3", "date": "2026-06-04", "amount": "50"}]);
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/VIP", vip.clone()),
        (Method::POST, "/api/v1/customers", customers),
        (Method::POST, "/api/v1/transactions", lines),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
    }
    let members_now = || async {
        let (_, members) = api
            .call(
                &editor,
                Method::GET,
                "/api/v1/segment-types/VIP/segments/Big/members?format=jsonl",
                None,
            )
            .await;
        // One line of JSONL reads back as JSON already.
        let text = match members {
            Value::String(text) => text,
            other => other.to_string(),
        };
        let mut ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["customer_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        ids.sort();
        ids
    };
    let run = || async {
        let (status, value) = api
            .call(
                &editor,
                Method::POST,
                "/api/v1/runs",
                Some(json!({"types": ["VIP"], "as_of": "2026-06-30"})),
            )
            .await;
        assert!(status.is_success(), "{value}");
        wait(&api, &editor, value["id"].as_i64().unwrap()).await;
        members_now().await
    };
    assert_eq!(run().await, ["C1", "C2"]);
    let members = "/api/v1/segment-types/VIP/segments/Big/members";
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            members,
            Some(json!({"remove": ["C2", "C9"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(
        (&value["excluded"], &value["unmatched"]),
        (&json!(["C2"]), &json!(["C9"]))
    );
    // Out at once, not at the next run, and history says why.
    assert_eq!(members_now().await, ["C1"]);
    let (_, history) = api
        .call(&editor, Method::GET, "/api/v1/customers/C2/history", None)
        .await;
    let last = &history["entries"][history["entries"].as_array().unwrap().len() - 1];
    assert_eq!(
        (&last["old_segment"], &last["new_segment"], &last["cause"]),
        (&json!("Big"), &Value::Null, &json!("list")),
        "{history}"
    );
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            members,
            Some(json!({"add": [" FAN@x.com ", "nobody@x.com"], "by": "email"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(
        (&value["included"], &value["unmatched"]),
        (&json!(["fan@x.com"]), &json!(["nobody@x.com"]))
    );
    assert_eq!(
        value["members"],
        json!({"include": ["fan@x.com"], "exclude": ["C2"]})
    );
    assert_eq!(members_now().await, ["C1", "C3", "C4"]);
    // Each customer's state says where its membership comes from.
    for (customer, sources, included, excluded) in [
        ("C2", json!({}), json!([]), json!(["Big"])),
        ("C3", json!({"Big": "include"}), json!(["Big"]), json!([])),
    ] {
        let (_, detail) = api
            .call(
                &editor,
                Method::GET,
                &format!("/api/v1/customers/{customer}?explain=false"),
                None,
            )
            .await;
        let vip = &detail["segments"][0];
        assert_eq!(
            (&vip["sources"], &vip["included_in"], &vip["excluded_from"]),
            (&sources, &included, &excluded),
            "{customer}: {detail}"
        );
    }
    // A PUT of the type does not overwrite them.
    let (status, _) = api
        .call(&editor, Method::PUT, "/api/v1/segment-types/VIP", Some(vip))
        .await;
    assert!(status.is_success());
    // Both accounts with the e-mail are in; C2 stays out, run after run.
    assert_eq!(run().await, ["C1", "C3", "C4"]);
    assert_eq!(run().await, ["C1", "C3", "C4"]);
    // An import that changes C4's e-mail takes it off the list at once.
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/customers",
            Some(json!([{"customer_id": "C4", "email": "four@x.com"}])),
        )
        .await;
    assert!(status.is_success(), "{value}");
    assert_eq!(members_now().await, ["C1", "C3"]);
    let (_, history) = api
        .call(&editor, Method::GET, "/api/v1/customers/C4/history", None)
        .await;
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(
        (
            &entries[entries.len() - 1]["old_segment"],
            &entries[entries.len() - 1]["cause"]
        ),
        (&json!("Big"), &json!("import")),
        "{history}"
    );
    // Removing one the rule does not match takes it off the include list.
    let (_, value) = api
        .call(
            &editor,
            Method::POST,
            members,
            Some(json!({"remove": ["fan@x.com"], "by": "email"})),
        )
        .await;
    assert_eq!(value["unlisted"], json!(["fan@x.com"]), "{value}");
    assert_eq!(members_now().await, ["C1"]);
    assert_eq!(run().await, ["C1"]);
    // A PUT's own lists join the stored ones, and the response shows both.
    let listed = json!({"method": "rules", "segments": [
        {"name": "Big", "rule": "total_spent > 500", "include": ["C4"]}]});
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/VIP",
            Some(listed),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let both =
        json!({"name": "Big", "rule": "total_spent > 500", "include": ["C4"], "exclude": ["C2"]});
    assert_eq!(value["segments"][0], both);
    let (_, value) = api
        .call(&editor, Method::GET, "/api/v1/segment-types/VIP", None)
        .await;
    assert_eq!(value["segments"][0], both);
    assert_eq!(run().await, ["C1", "C4"]);
    let (status, _) = api
        .call(
            &editor,
            Method::POST,
            members,
            Some(json!({"add": ["C1"], "by": "phone"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_members_stay_out_and_added_ones_in_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    static_members(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_members_stay_out_and_added_ones_in_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "static_members").await
    else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    static_members(Arc::new(store)).await;
}

/// Migration between two runs, checked by hand: tiers A 50, B 30, C 20.
/// Run 1: C1 500 (A), C2 300 (B: 500 of 1000 before it), C3 200 (C: 800
/// of 1000). Then C3 buys 1000 more and C4 100: T = 2100; C3 1200 (A),
/// C1 500 (B: 1200 of 2100 = 57 %), C2 300 (C: 1700 of 2100 = 81 %), C4
/// 100 (C: 95 %).
async fn migrating(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [
        {"name": "A", "share": 50}, {"name": "B", "share": 30}, {"name": "C", "share": 20}]});
    let line = |c: &str, o: &str, amount: &str| json!({"customer_id": c, "order_id": o, "date": "2026-06-02", "amount": amount});
    let run = || async {
        let (status, value) = api
            .call(
                &editor,
                Method::POST,
                "/api/v1/runs",
                Some(json!({"types": ["ABC"], "as_of": "2026-06-30"})),
            )
            .await;
        assert!(status.is_success(), "{value}");
        let id = value["id"].as_i64().unwrap();
        wait(&api, &editor, id).await;
        id
    };
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/ABC", abc),
        (
            Method::POST,
            "/api/v1/transactions",
            json!([
                line("C1", "O1", "500"),
                line("C2", "O2", "300"),
                line("C3", "O3", "200")
            ]),
        ),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
    }
    let first = run().await;
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/transactions",
            Some(json!([line("C3", "O4", "1000"), line("C4", "O5", "100")])),
        )
        .await;
    assert!(status.is_success(), "{value}");
    let second = run().await;
    let path = format!("/api/v1/segment-types/ABC/migration?from_run={first}&to_run={second}");
    let (status, migration) = api.call(&editor, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{migration}");
    assert_eq!(migration["segments"], json!(["A", "B", "C", ""]));
    assert_eq!(
        migration["matrix"],
        json!([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]])
    );
    assert_eq!(
        migration["movements"],
        json!({"improved": 1, "declined": 2, "unchanged": 0, "new": 1, "lost": 0})
    );
    let (_, csv) = api
        .call(&editor, Method::GET, &format!("{path}&format=csv"), None)
        .await;
    assert_eq!(
        csv,
        Value::String(
            "customer_id,segment_a,segment_b,movement\nC1,A,B,declined\nC2,B,C,declined\nC3,C,A,improved\nC4,,C,new\n"
                .into()
        )
    );
    // Movers page by customer.
    let (_, page) = api
        .call(&editor, Method::GET, &format!("{path}&limit=3"), None)
        .await;
    assert_eq!(page["movers"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = api
        .call(
            &editor,
            Method::GET,
            &format!("{path}&limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        rest["movers"],
        json!([{"customer_id": "C4", "segment_a": null, "segment_b": "C", "movement": "new"}])
    );
    assert_eq!(rest["next_cursor"], json!(null));
    let backwards = format!("/api/v1/segment-types/ABC/migration?from_run={second}&to_run={first}");
    let (status, _) = api.call(&editor, Method::GET, &backwards, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/segment-types/ABC/migration?from_run=1&to_run=99",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A comparison is a one-off run: its rows stay with it, and it is no
    // run of the type's members.
    let compare = |a: &str, b: &str| json!({"period_a": a, "period_b": b});
    for (body, expected) in [
        (
            compare("2026-06-01..2026-06-30", "2026-13-01..2026-12-31"),
            StatusCode::BAD_REQUEST,
        ),
        (
            compare("2026-06-30..2026-06-01", "2025-01-01..2025-12-31"),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"period_a": "2026-06-01..2026-06-30"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, value) = api
            .call(
                &editor,
                Method::POST,
                "/api/v1/segment-types/ABC/compare",
                Some(body),
            )
            .await;
        assert_eq!(status, expected, "{value}");
    }
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/segment-types/ABC/runs",
            Some(json!({"period": "2026-06-01..2026-06-30", "as_of": "2026-06-30"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/segment-types/ABC/compare",
            Some(compare("2026-06-01..2026-06-01", "2026-06-01..2026-06-30")),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{value}");
    let id = value["id"].as_i64().unwrap();
    wait(&api, &editor, id).await;
    let (_, done) = api
        .call(&editor, Method::GET, &format!("/api/v1/runs/{id}"), None)
        .await;
    assert_eq!(done["kind"], "compare");
    assert_eq!(
        done["report"]["movements"],
        json!({"improved": 0, "declined": 0, "unchanged": 0, "new": 4, "lost": 0})
    );
    assert_eq!(
        done["report"]["periods"][1]["segments"][0],
        json!({"segment": "A", "customers": 1, "sales": "1200"})
    );
    let (_, rows) = api
        .call(
            &editor,
            Method::GET,
            &format!("/api/v1/runs/{id}/rows?movement=new&format=jsonl"),
            None,
        )
        .await;
    assert_eq!(
        rows.as_str().unwrap().lines().next().unwrap(),
        r#"{"customer_id":"C1","movement":"new","segment_a":"","segment_b":"B"}"#
    );
    for (path, expected) in [
        (
            format!("/api/v1/runs/{id}/rows?segment=A"),
            StatusCode::BAD_REQUEST,
        ),
        (format!("/api/v1/runs/{first}/rows"), StatusCode::CONFLICT),
        (
            format!("/api/v1/segment-types/ABC/migration?from_run={first}&to_run={id}"),
            StatusCode::CONFLICT,
        ),
    ] {
        let (status, value) = api.call(&editor, Method::GET, &path, None).await;
        assert_eq!(status, expected, "{path}: {value}");
    }
    // Retention: with keep_runs = 1, the next comparison of ABC drops this
    // one's rows; settings that leave the key out keep it.
    let (admin, _) = token(&*store, "acme", Role::Admin).await;
    let settings = "/api/v1/settings";
    for (body, expected) in [
        (json!({"keep_runs": 0}), None),
        (json!({"history_days": "soon"}), None),
        (json!({"keep_runs": 1, "history_days": 400}), Some((1, 400))),
        (json!({"currency": "EUR"}), Some((1, 400))),
    ] {
        let (status, value) = api.call(&admin, Method::PUT, settings, Some(body)).await;
        match expected {
            None => assert!(status.is_client_error(), "{value}"),
            Some((keep, days)) => {
                assert_eq!(status, StatusCode::OK, "{value}");
                assert_eq!(
                    (&value["keep_runs"], &value["history_days"]),
                    (&json!(keep), &json!(days))
                );
            }
        }
    }
    let (_, value) = api.call(&admin, Method::GET, settings, None).await;
    assert_eq!(value["keep_runs"], 1, "{value}");
    let rows_of = |run: i64| {
        let api = &api;
        let editor = &editor;
        async move {
            let (_, rows) = api
                .call(
                    editor,
                    Method::GET,
                    &format!("/api/v1/runs/{run}/rows?format=jsonl"),
                    None,
                )
                .await;
            rows.as_str().map_or(1, |text| text.lines().count())
        }
    };
    assert_eq!(rows_of(id).await, 4);
    let (_, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/segment-types/ABC/compare",
            Some(compare("2026-05-01..2026-05-31", "2026-06-01..2026-06-30")),
        )
        .await;
    let next = value["id"].as_i64().unwrap();
    wait(&api, &editor, next).await;
    assert_eq!(rows_of(next).await, 4);
    // The runner prunes right after it records the run's end.
    let pruned_rows = format!("/api/v1/runs/{id}/rows");
    let mut answer = (StatusCode::OK, Value::Null);
    for _ in 0..100 {
        answer = api.call(&editor, Method::GET, &pruned_rows, None).await;
        if answer.0 != StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, value) = answer;
    assert_eq!(status, StatusCode::CONFLICT, "{value}");
    assert!(value.to_string().contains("keep_runs"), "{value}");
    // Who was new in June, frozen into a group; a pruned run has nothing to give.
    let target = json!({"of": "new", "target_type": "Campaigns", "name": "June new"});
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            &format!("/api/v1/runs/{next}/freeze"),
            Some(target.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    assert_eq!(value["size"], 4, "{value}");
    wait(&api, &editor, value["run"]["id"].as_i64().unwrap()).await;
    let lost = json!({"of": "lost", "target_type": "Campaigns", "name": "June lost"});
    let (_, value) = api
        .call(
            &editor,
            Method::POST,
            &format!("/api/v1/runs/{next}/freeze"),
            Some(lost),
        )
        .await;
    assert_eq!(value["size"], 0, "nobody was lost: {value}");
    wait(&api, &editor, value["run"]["id"].as_i64().unwrap()).await;
    assert_eq!(
        member_ids(&api, &editor, "Campaigns", "June%20new").await,
        ["C1", "C2", "C3", "C4"]
    );
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            &format!("/api/v1/runs/{id}/freeze"),
            Some(target),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{value}");
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_between_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    migrating(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_between_runs_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "migrating").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    migrating(Arc::new(store)).await;
}

/// The preview of `ask` once its table is built.
async fn ready(api: &Api, token: &str, ask: &Value) -> Value {
    for _ in 0..200 {
        let (status, value) = api
            .call(token, Method::POST, "/api/v1/preview", Some(ask.clone()))
            .await;
        if status == StatusCode::OK {
            return value;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{value}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no preview table in 4 s");
}

async fn previewing(store: Arc<dyn Store>) {
    // Previews never wait for their table: the first one says it is built.
    let config = ServerConfig {
        preview_wait: std::time::Duration::ZERO,
        ..ServerConfig::default()
    };
    let (api, runner) = Api::start_with(&store, config);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    // An organisation without types or data previews rules on nobody.
    let (empty, _) = token(&*store, "empty", Role::Viewer).await;
    let mut answer = (StatusCode::ACCEPTED, Value::Null);
    for _ in 0..200 {
        answer = api
            .call(
                &empty,
                Method::POST,
                "/api/v1/preview",
                Some(json!({"rule": "total_spent > 1"})),
            )
            .await;
        if answer.0 != StatusCode::ACCEPTED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    assert_eq!(
        (answer.1["customers"].clone(), answer.1["matched"].clone()),
        (json!(0), json!(0))
    );
    let abc = json!({"method": "pareto", "segments": [
        {"name": "A", "share": 50}, {"name": "B", "share": 30}, {"name": "C", "share": 20}]});
    let line = |c: &str, o: &str, date: &str, amount: &str| json!({"customer_id": c, "order_id": o, "date": date, "amount": amount});
    for (method, path, body) in [
        (Method::PUT, "/api/v1/segment-types/ABC", abc),
        (
            Method::POST,
            "/api/v1/transactions",
            json!([
                line("C1", "O1", "2026-06-02", "500"),
                line("C1", "O2", "2026-05-02", "20"),
                line("C2", "O3", "2026-06-02", "300"),
                line("C3", "O4", "2025-01-02", "200"),
                line("C4", "O5", "2026-06-20", "150"),
                line("C5", "O6", "2026-06-21", "50")
            ]),
        ),
    ] {
        let (status, value) = api.call(&editor, method, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {value}");
    }
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/runs",
            Some(json!({"types": ["ABC"], "as_of": "2026-06-30"})),
        )
        .await;
    assert!(status.is_success(), "{value}");
    wait(&api, &editor, value["id"].as_i64().unwrap()).await;

    let rule = "(segment('ABC') IN ('A', 'B') OR orders_count >= 2) AND (total_spent > 100 OR last_order_days < 15)";
    let ask = json!({"rule": rule, "as_of": "2026-06-30"});
    let (status, first) = api
        .call(&editor, Method::POST, "/api/v1/preview", Some(ask.clone()))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["status"], "building");
    let mut preview = Value::Null;
    for _ in 0..200 {
        let (status, value) = api
            .call(&editor, Method::POST, "/api/v1/preview", Some(ask.clone()))
            .await;
        if status == StatusCode::OK {
            preview = value;
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{value}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(preview["status"], "ready", "{preview}");
    // ABC: C1 (520) A, C2 (300) B, C3 (200) C, C4 (150) C, C5 (50) C.
    // Block one: C1, C2; block two: C1, C2, C3 (spent), C4 and C5 (recent).
    assert_eq!(preview["customers"], 5);
    assert_eq!(preview["matched"], 2);
    assert_eq!(preview["share_of_customers"], "0.400000");
    assert_eq!(preview["sales"], "820");
    assert_eq!(preview["total_sales"], "1220");
    assert_eq!(
        preview["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["matched"].clone())
            .collect::<Vec<_>>(),
        [json!(2), json!(5)]
    );
    assert_eq!(preview["sample"][0]["customer_id"], "C1");
    assert_eq!(preview["sample"][0]["values"]["total_spent"], "520");

    // The same rule saved and run gives the same members.
    let big = json!({"method": "rules", "segments": [{"name": "Big", "rule": rule}]});
    let (status, type_preview) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/preview",
            Some(json!({"type": {"name": "Big", "method": "rules", "segments": [{"name": "Big", "rule": rule}]}, "as_of": "2026-06-30"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{type_preview}");
    assert_eq!(type_preview["segments"][0]["customers"], 2);
    let (status, value) = api
        .call(&editor, Method::PUT, "/api/v1/segment-types/Big", Some(big))
        .await;
    assert!(status.is_success(), "{value}");
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/runs",
            Some(json!({"types": ["Big"], "as_of": "2026-06-30"})),
        )
        .await;
    assert!(status.is_success(), "{value}");
    let id = value["id"].as_i64().unwrap();
    wait(&api, &editor, id).await;
    let (_, run) = api
        .call(&editor, Method::GET, &format!("/api/v1/runs/{id}"), None)
        .await;
    assert_eq!(
        run["report"]["types"][0]["counts"]["Big"], preview["matched"],
        "{run}"
    );

    // New lines make a new table: the next previews see them.
    assert_eq!(ready(&api, &editor, &ask).await["customers"], 5);
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            "/api/v1/transactions",
            Some(json!([line("C6", "O7", "2026-06-25", "600")])),
        )
        .await;
    assert!(status.is_success(), "{value}");
    let (status, value) = api
        .call(&editor, Method::POST, "/api/v1/preview", Some(ask.clone()))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{value}");
    assert_eq!(ready(&api, &editor, &ask).await["customers"], 6);

    for (body, expected) in [
        (
            json!({"rule": "total_spent >", "as_of": "2026-06-30"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"as_of": "2026-06-30"}), StatusCode::BAD_REQUEST),
        (
            json!({"rule": "total_spent > 1", "as_of": "2026-06-31"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": {"name": "ABC", "method": "pareto", "segments": [{"name": "A", "share": 50}, {"name": "B", "share": 30}, {"name": "C", "share": 20}]}, "as_of": "2026-06-30"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": {"name": "ABC", "method": "pareto", "segments": [{"name": "A", "share": 100}]}, "as_of": "2026-06-30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let mut status = StatusCode::ACCEPTED;
        let mut value = Value::Null;
        for _ in 0..200 {
            (status, value) = api
                .call(&editor, Method::POST, "/api/v1/preview", Some(body.clone()))
                .await;
            if status != StatusCode::ACCEPTED {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(status, expected, "{body}: {value}");
    }
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_counts_match_the_next_run_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    previewing(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_counts_match_the_next_run_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "previewing").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    previewing(Arc::new(store)).await;
}

/// The notifications a list shows: `(run, status, read)`, newest first.
async fn notified(api: &Api, token: &str, query: &str) -> Vec<(i64, String, bool)> {
    let (status, value) = api
        .call(
            token,
            Method::GET,
            &format!("/api/v1/notifications{query}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    value["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["run_id"].as_i64().unwrap(),
                n["status"].as_str().unwrap().to_owned(),
                n["read"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// A type with `notify` tells the organisation when its run succeeds, a
/// failed run always does, each token marks its own read, and another
/// organisation sees none of it.
async fn notifications(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let (viewer, _) = token(&*store, "acme", Role::Viewer).await;
    let (stranger, _) = token(&*store, "other", Role::Admin).await;
    let abc = |notify: Value| {
        json!({"method": "pareto", "notify": notify, "segments": [
            {"name": "A", "share": 80}, {"name": "B", "share": 20}]})
    };
    let (status, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC",
            Some(abc(json!("yes"))),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
    assert!(value.to_string().contains("notify"), "{value}");
    for (name, notify) in [("ABC", true), ("Quiet", false)] {
        let (status, value) = api
            .call(
                &editor,
                Method::PUT,
                &format!("/api/v1/segment-types/{name}"),
                Some(abc(json!(notify))),
            )
            .await;
        assert!(status.is_success(), "{value}");
        assert_eq!(value["notify"], notify);
    }
    // A body without the key (a configuration file's) leaves it as it was.
    let mut plain = abc(Value::Null);
    plain.as_object_mut().unwrap().remove("notify");
    let (_, value) = api
        .call(
            &editor,
            Method::PUT,
            "/api/v1/segment-types/ABC",
            Some(plain),
        )
        .await;
    assert_eq!(value["notify"], true, "{value}");
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "80"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "20"}]);
    let (status, _) = api
        .call(&editor, Method::POST, "/api/v1/transactions", Some(lines))
        .await;
    assert!(status.is_success());
    let run_of = |types: Value| {
        let api = &api;
        let editor = &editor;
        async move {
            let (status, value) = api
                .call(
                    editor,
                    Method::POST,
                    "/api/v1/runs",
                    Some(json!({"types": types, "as_of": "2026-06-30"})),
                )
                .await;
            assert!(status.is_success(), "{value}");
            let id = value["id"].as_i64().unwrap();
            wait(api, editor, id).await;
            id
        }
    };
    let loud = run_of(json!(["ABC"])).await;
    run_of(json!(["Quiet"])).await;
    // A run of a type that no longer exists fails, and says so.
    let (acme, _) = store.ensure_org("acme").await.unwrap();
    let (failing, _) = store
        .create_run(
            acme.id,
            &strata_store::NewRun {
                kind: strata_store::RunKind::Segment,
                types: vec!["Gone".into()],
                as_of: strata_domain::date::Date::parse_iso("2026-06-30").unwrap(),
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..500 {
        seen = notified(&api, &viewer, "").await;
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen,
        [
            (failing.id, "failed".to_owned(), false),
            (loud, "succeeded".to_owned(), false)
        ]
    );
    let (_, value) = api
        .call(&viewer, Method::GET, "/api/v1/notifications?limit=1", None)
        .await;
    let failed = &value["notifications"][0];
    assert!(
        failed["message"]["error"]
            .as_str()
            .unwrap()
            .contains("Gone"),
        "{failed}"
    );
    let (_, value) = api
        .call(
            &viewer,
            Method::GET,
            &format!(
                "/api/v1/notifications?cursor={}",
                value["next_cursor"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let succeeded = &value["notifications"][0];
    assert_eq!(
        succeeded["message"]["types"],
        json!([{"segment_type": "ABC", "counts": {"A": 1, "B": 1}, "moved": 2}]),
        "{succeeded}"
    );
    let id = succeeded["id"].as_i64().unwrap();
    let read = format!("/api/v1/notifications/{id}/read");
    let (status, _) = api.call(&viewer, Method::POST, &read, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(notified(&api, &viewer, "?unread=true").await.len(), 1);
    assert_eq!(
        notified(&api, &editor, "?unread=true").await.len(),
        2,
        "read per token"
    );
    assert!(notified(&api, &stranger, "").await.is_empty());
    let (status, _) = api.call(&stranger, Method::POST, &read, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    notifications(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "notifications").await
    else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    notifications(Arc::new(store)).await;
}

/// A type set to `recompute = "after_import"` runs once an import is
/// stored; others wait to be asked; schedules are refused until the server
/// runs them.
async fn after_import(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = |recompute: &str| {
        json!({"method": "pareto", "recompute": recompute, "segments": [
            {"name": "A", "share": 80}, {"name": "B", "share": 20}]})
    };
    for (name, recompute, expected) in [
        ("Daily", "daily", StatusCode::UNPROCESSABLE_ENTITY),
        ("Cron", "0 6 * * 1", StatusCode::UNPROCESSABLE_ENTITY),
        ("Odd", "sometimes", StatusCode::UNPROCESSABLE_ENTITY),
        ("ABC", "after_import", StatusCode::CREATED),
        ("Asked", "manual", StatusCode::CREATED),
    ] {
        let (status, value) = api
            .call(
                &editor,
                Method::PUT,
                &format!("/api/v1/segment-types/{name}"),
                Some(abc(recompute)),
            )
            .await;
        assert_eq!(status, expected, "{name}: {value}");
        if status.is_success() {
            assert_eq!(value["recompute"], recompute);
        } else {
            assert!(value.to_string().contains("recompute"), "{value}");
        }
    }
    let lines = json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "80"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "20"}]);
    let (status, value) = api
        .call(&editor, Method::POST, "/api/v1/transactions", Some(lines))
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    assert_eq!(value["run"]["types"], json!(["ABC"]), "{value}");
    let id = value["run"]["id"].as_i64().unwrap();
    wait(&api, &editor, id).await;
    let (_, members) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/segment-types/ABC/segments/A/members?format=jsonl",
            None,
        )
        .await;
    assert_eq!(members["customer_id"], "C1", "{members}");
    let (_, status) = api
        .call(
            &editor,
            Method::GET,
            "/api/v1/segment-types/Asked/status",
            None,
        )
        .await;
    assert!(status.to_string().contains("never"), "{status}");
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_import_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    after_import(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_import_runs_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "after_import").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    after_import(Arc::new(store)).await;
}

/// The customer ids of a segment's members.
async fn member_ids(api: &Api, token: &str, type_name: &str, segment: &str) -> Vec<String> {
    let (status, value) = api
        .call(
            token,
            Method::GET,
            &format!("/api/v1/segment-types/{type_name}/segments/{segment}/members?format=jsonl"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let text = match value {
        Value::String(text) => text,
        other => other.to_string(),
    };
    text.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["customer_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Freezing a segment saves its members as a static group that keeps them
/// after the segment itself changes.
async fn freezing(store: Arc<dyn Store>) {
    let (api, runner) = Api::start(&store);
    let (editor, _) = token(&*store, "acme", Role::Editor).await;
    let abc = json!({"method": "pareto", "segments": [{"name": "A", "share": 80}, {"name": "B", "share": 20}]});
    let (status, _) = api
        .call(&editor, Method::PUT, "/api/v1/segment-types/ABC", Some(abc))
        .await;
    assert!(status.is_success());
    let send = |lines: Value| {
        let api = &api;
        let editor = &editor;
        async move {
            let (status, value) = api
                .call(editor, Method::POST, "/api/v1/transactions", Some(lines))
                .await;
            assert!(status.is_success(), "{value}");
        }
    };
    let run = |types: Value| {
        let api = &api;
        let editor = &editor;
        async move {
            let (status, value) = api
                .call(
                    editor,
                    Method::POST,
                    "/api/v1/runs",
                    Some(json!({"types": types, "as_of": "2026-06-30"})),
                )
                .await;
            assert!(status.is_success(), "{value}");
            wait(api, editor, value["id"].as_i64().unwrap()).await;
        }
    };
    send(json!([
        {"customer_id": "C1", "order_id": "O1", "date": "2026-06-02", "amount": "80"},
        {"customer_id": "C2", "order_id": "O2", "date": "2026-06-03", "amount": "20"}]))
    .await;
    run(json!(["ABC"])).await;
    assert_eq!(member_ids(&api, &editor, "ABC", "A").await, ["C1"]);
    let freeze = "/api/v1/segment-types/ABC/segments/A/freeze";
    let (status, value) = api
        .call(
            &editor,
            Method::POST,
            freeze,
            Some(json!({"target_type": "Campaigns", "name": "Spring A"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    assert_eq!(
        (&value["segment"], &value["size"]),
        (&json!("Spring A"), &json!(1))
    );
    wait(&api, &editor, value["run"]["id"].as_i64().unwrap()).await;
    assert_eq!(
        member_ids(&api, &editor, "Campaigns", "Spring%20A").await,
        ["C1"]
    );
    for (body, expected) in [
        (
            json!({"target_type": "Campaigns", "name": "Spring A"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"target_type": "ABC", "name": "Frozen"}),
            StatusCode::CONFLICT,
        ),
        (json!({"target_type": "Campaigns"}), StatusCode::BAD_REQUEST),
    ] {
        let (status, value) = api.call(&editor, Method::POST, freeze, Some(body)).await;
        assert_eq!(status, expected, "{value}");
    }
    // C2 overtakes C1: ABC's A changes, the frozen group does not.
    send(json!([{"customer_id": "C2", "order_id": "O3", "date": "2026-06-04", "amount": "1000"}]))
        .await;
    run(json!(["ABC", "Campaigns"])).await;
    assert_eq!(member_ids(&api, &editor, "ABC", "A").await, ["C2"]);
    assert_eq!(
        member_ids(&api, &editor, "Campaigns", "Spring%20A").await,
        ["C1"]
    );
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_groups_keep_their_members_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = strata_store_sqlite::SqliteStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    freezing(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_groups_keep_their_members_on_postgres() {
    let Some(url) = strata_testkit::postgres::fresh_database("server", "freezing").await else {
        return;
    };
    let store = strata_store_postgres::PostgresStore::connect(&url)
        .await
        .unwrap();
    freezing(Arc::new(store)).await;
}
