//! Prometheus metrics at `/metrics`: requests by route template and
//! status, runs by outcome and duration. Labels never carry an
//! organisation's name or a customer id: routes are their templates.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Requests answered, by method, route template and status.
pub const REQUESTS: &str = "strata_http_requests_total";
/// Seconds to answer a request, by method and route template.
pub const REQUEST_SECONDS: &str = "strata_http_request_duration_seconds";
/// Runs ended, by status.
pub const RUNS: &str = "strata_runs_total";
/// Seconds a run took, from claim to end, by status.
pub const RUN_SECONDS: &str = "strata_run_duration_seconds";

/// The process's recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a test process with
        // several servers): this one's handle then renders what it sees.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Installs the recorder, so that metrics recorded before the first
/// request are kept.
pub fn install() {
    handle();
}

/// The metrics in Prometheus's text format.
pub async fn render() -> String {
    handle().render()
}

/// Counts and times every request by its route template.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records the end of a run.
pub fn run_ended(status: &'static str, seconds: f64) {
    metrics::counter!(RUNS, "status" => status).increment(1);
    metrics::histogram!(RUN_SECONDS, "status" => status).record(seconds);
}
