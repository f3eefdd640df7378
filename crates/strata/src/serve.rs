//! `strata serve` and `strata token create`: the server over SQLite (a
//! folder, the default) or PostgreSQL (a URL).

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use strata_server::ServerConfig;
use strata_store::{new_token, NewToken, Role, Store};
use strata_store_postgres::PostgresStore;
use strata_store_sqlite::SqliteStore;

/// Where the server keeps its data.
#[derive(clap::Args, Clone)]
pub struct StorageArgs {
    /// Folder of the SQLite database, created if missing.
    #[arg(long, value_name = "DIR", default_value = "strata-data")]
    data: PathBuf,
    /// PostgreSQL instead of SQLite: postgres://user@host/db (wins over --data).
    #[arg(long, env = "STRATA_DATABASE_URL", value_name = "URL")]
    database: Option<String>,
}

/// The file of the SQLite database inside `--data`.
const SQLITE_FILE: &str = "strata.db";

/// Opens and migrates the store.
async fn open(args: &StorageArgs) -> Result<Arc<dyn Store>> {
    Ok(match &args.database {
        Some(url) => Arc::new(
            PostgresStore::connect(url)
                .await
                .context("cannot open the PostgreSQL database")?,
        ),
        None => {
            std::fs::create_dir_all(&args.data)
                .with_context(|| format!("cannot create {}", args.data.display()))?;
            let path = args.data.join(SQLITE_FILE);
            Arc::new(
                SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open {}", path.display()))?,
            )
        }
    })
}

/// `strata serve`'s options.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on; other machines reach it only if you say so.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Runs classified side by side.
    #[arg(long, value_name = "N", default_value_t = 1)]
    workers: usize,
    /// The largest JSON body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_json_bytes: usize,
    /// The largest CSV or Parquet import accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    max_import_bytes: usize,
    /// Seconds a run's lease lasts without renewal; a run whose process
    /// stopped is marked failed once its lease has expired.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    lease_seconds: u64,
    /// Megabytes of feature tables kept in memory for previews (all
    /// organisations together; a table over it is built for each preview).
    #[arg(long, value_name = "MB", default_value_t = 2048)]
    preview_cache_mb: usize,
}

/// `strata token create`'s options.
#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The organisation, created if it does not exist.
    #[arg(long, value_name = "NAME")]
    org: String,
    /// What the token may do.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The token's label, the actor named in history.
    #[arg(long, value_name = "LABEL")]
    name: Option<String>,
}

/// A token's role.
#[derive(clap::ValueEnum, Clone, Copy)]
pub enum RoleArg {
    /// Reads segments, customers and reports.
    Viewer,
    /// Also imports, defines types, runs and sets manual segments.
    Editor,
    /// Also manages tokens and settings.
    Admin,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Serves until SIGTERM or Ctrl-C.
pub fn serve(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    runtime()?.block_on(async {
        let store = open(&args.storage).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!(
            "strata serve: http://{} ({})",
            listener.local_addr()?,
            store.backend()
        );
        let config = ServerConfig {
            workers: args.workers.max(1),
            max_json_bytes: args.max_json_bytes,
            max_import_bytes: args.max_import_bytes,
            lease: std::time::Duration::from_secs(args.lease_seconds),
            preview_cache_bytes: args.preview_cache_mb.saturating_mul(1 << 20),
            ..ServerConfig::default()
        };
        strata_server::serve(store, config, listener, shutdown()).await?;
        Ok(())
    })
}

/// Resolves at SIGTERM or Ctrl-C.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("stopping: no new requests; runs in progress are cancelled");
}

/// `strata backup`'s options.
#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The new file; an existing one is never overwritten.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

/// Copies the SQLite store, live, into a new file; PostgreSQL has its own tools.
pub fn backup(args: BackupArgs) -> Result<()> {
    if args.storage.database.is_some() {
        anyhow::bail!(
            "strata backup copies the SQLite store of --data; back up PostgreSQL with pg_dump (see docs/operations.md)"
        );
    }
    let from = args.storage.data.join(SQLITE_FILE);
    runtime()?.block_on(SqliteStore::backup(&from, &args.to))?;
    eprintln!("{} copied to {}", from.display(), args.to.display());
    Ok(())
}

/// Creates a token and prints it alone on the last line of stdout.
pub fn token_create(args: TokenArgs) -> Result<()> {
    runtime()?.block_on(async {
        let store = open(&args.storage).await?;
        let (org, created) = store.ensure_org(&args.org).await?;
        if created {
            eprintln!("created the organisation '{}'", org.name);
        }
        let role = match args.role {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Editor => Role::Editor,
            RoleArg::Admin => Role::Admin,
        };
        let (secret, hash) = new_token();
        let label = args
            .name
            .unwrap_or_else(|| format!("{} token", role.as_str()));
        let token = store
            .create_token(&NewToken {
                org: org.id,
                role,
                label,
                hash,
            })
            .await?;
        eprintln!(
            "token {} for '{}' ({}, '{}'); it is shown once, keep it secret:",
            token.id,
            org.name,
            role.as_str(),
            token.label
        );
        println!("{secret}");
        Ok(())
    })
}
