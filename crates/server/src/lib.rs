//! `strata serve`: an HTTP API over a [`Store`], and workers that run the
//! engine on stored data in the background. The server stores and
//! schedules; what a segment means stays in `strata-domain` and how a run
//! classifies stays in `strata-engine`. No SQL here: every read and write
//! goes through the `Store` trait.

mod auth;
mod error;
mod explain;
mod metrics;
mod one_off;
mod preview;
mod routes;
mod runner;
mod stored;
mod types;
mod wire;

pub use runner::Runner;

use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use strata_store::Store;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Worker tasks that run the engine, each on one run at a time.
    pub workers: usize,
    /// The largest JSON body accepted, in bytes.
    pub max_json_bytes: usize,
    /// The largest CSV or Parquet import accepted, in bytes.
    pub max_import_bytes: usize,
    /// How long a run's lease lasts unless its worker renews it.
    pub lease: Duration,
    /// The name of this process in run leases.
    pub owner: String,
    /// About how many bytes of feature tables previews keep in memory.
    pub preview_cache_bytes: usize,
    /// How long a preview waits for its feature table before answering
    /// that it is being built.
    pub preview_wait: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            workers: 1,
            max_json_bytes: 16 << 20,
            max_import_bytes: 4 << 30,
            lease: Duration::from_secs(30),
            owner: format!("{}-{}", hostname(), std::process::id()),
            preview_cache_bytes: 2 << 30,
            preview_wait: Duration::from_secs(2),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "strata".to_owned())
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Wakes the workers when a run is queued.
    pub runner: Runner,
    /// The server's settings.
    pub config: Arc<ServerConfig>,
    /// Validated configurations per organisation.
    pub configs: Arc<types::Configs>,
    /// Feature tables cached for previews.
    pub previews: Arc<preview::Previews>,
}

impl AppState {
    /// The state of a server over `store` whose workers are `runner`.
    pub fn new(store: Arc<dyn Store>, runner: Runner, config: Arc<ServerConfig>) -> AppState {
        AppState {
            store,
            runner,
            previews: Arc::new(preview::Previews::new(config.preview_cache_bytes)),
            config,
            configs: Arc::default(),
        }
    }
}

/// The application: every route, with the state.
pub fn app(state: AppState) -> Router {
    metrics::install();
    routes::router(state)
}

/// Serves on `listener` until `shutdown` resolves: then stops taking
/// requests, cancels the runs in progress (their previous results stay in
/// force) and returns.
pub async fn serve(
    store: Arc<dyn Store>,
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    let expired = store
        .fail_expired_runs(strata_store::now(), &config.owner)
        .await
        .map_err(std::io::Error::other)?;
    if expired > 0 {
        tracing::warn!(runs = expired, "marked failed: runs whose process stopped");
    }
    let runner = Runner::start(store.clone(), config.clone());
    let state = AppState::new(store, runner.clone(), config);
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    runner.stop().await;
    Ok(())
}
