//! Background runs: workers claim queued runs with a lease they renew,
//! read the organisation's data from one snapshot, run the engine on a
//! blocking thread and store the results in one transaction. A run that
//! fails, is cancelled or whose process dies leaves the previous results
//! in force.

use crate::one_off;
use crate::stored::StoredLines;
use crate::types::{config_of, plan_one_off, plan_run, PlanError};
use crate::ServerConfig;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use strata_domain::classify::{automatic_of, effective_segments};
use strata_domain::config::Config;
use strata_engine::output::{row_cells, AssignmentColumns, Cell, ASSIGNMENT_COLUMNS};
use strata_engine::progress::{Control, ErrorMode, Progress};
use strata_engine::run::{
    compare, segment, segment_period, Inputs, ListEntries, SegmentRun, State, StoredResult,
};
use strata_engine::source::TableSource;
use strata_engine::table::StringTable;
use strata_store::{
    now, Assignment, Customer, ListEntry, OneOffResults, OrgId, ResultRow, Run, RunKind, RunReport,
    RunResults, RunRow, RunStatus, SnapshotHead, Store, StoreError, TypeReport,
};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

/// Lines handed to the engine per batch.
const BATCH_LINES: usize = 64 * 1024;

/// Batches read ahead of the engine.
const BATCHES_IN_FLIGHT: usize = 4;

/// The workers of this process.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: Arc<ServerConfig>,
    wake: Notify,
    stopping: AtomicBool,
    running: Mutex<HashMap<i64, Arc<AtomicBool>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Runner {
    /// Starts `config.workers` workers.
    pub fn start(store: Arc<dyn Store>, config: Arc<ServerConfig>) -> Runner {
        let runner = Runner {
            inner: Arc::new(Inner {
                store,
                config: config.clone(),
                wake: Notify::new(),
                stopping: AtomicBool::new(false),
                running: Mutex::new(HashMap::new()),
                workers: Mutex::new(Vec::new()),
            }),
        };
        let mut handles: Vec<JoinHandle<()>> = (0..config.workers.max(1))
            .map(|_| tokio::spawn(worker(runner.inner.clone())))
            .collect();
        handles.push(tokio::spawn(reaper(runner.inner.clone())));
        *runner.inner.workers.lock().expect("workers lock") = handles;
        runner
    }

    /// Tells the workers a run was queued.
    pub fn wake(&self) {
        self.inner.wake.notify_waiters();
    }

    /// Asks this process's worker holding `run` to stop it now.
    pub fn cancel(&self, run: i64) {
        if let Some(flag) = self.inner.running.lock().expect("running lock").get(&run) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Stops taking runs, cancels the ones in progress and waits for the
    /// workers to end.
    pub async fn stop(&self) {
        self.inner.stopping.store(true, Ordering::Relaxed);
        for flag in self.inner.running.lock().expect("running lock").values() {
            flag.store(true, Ordering::Relaxed);
        }
        self.inner.wake.notify_waiters();
        let handles = std::mem::take(&mut *self.inner.workers.lock().expect("workers lock"));
        for handle in handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "a worker failed");
            }
        }
    }
}

async fn worker(inner: Arc<Inner>) {
    let poll = std::time::Duration::from_secs(1);
    while !inner.stopping.load(Ordering::Relaxed) {
        let until = now() + inner.config.lease;
        match inner.store.claim_run(&inner.config.owner, until).await {
            Ok(Some(run)) => execute(&inner, run).await,
            Ok(None) => {
                let wake = inner.wake.notified();
                let _ = tokio::time::timeout(poll, wake).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a run failed");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// Marks failed, every half lease, the runs whose process stopped renewing
/// their lease (killed, or on another machine that died).
async fn reaper(inner: Arc<Inner>) {
    let every = inner.config.lease / 2;
    while !inner.stopping.load(Ordering::Relaxed) {
        let wake = inner.wake.notified();
        let _ = tokio::time::timeout(every, wake).await;
        match inner
            .store
            .fail_expired_runs(now(), &inner.config.owner)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "marked failed: runs whose process stopped"),
            Err(e) => tracing::error!(error = %e, "failing expired runs failed"),
        }
    }
}

/// Progress of the engine as a fraction of the lines read.
struct Fraction(AtomicU64);

impl Progress for Fraction {
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    fn advance(&self, position: u64) {
        self.0.store(position, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

pub(crate) enum Failure {
    Cancelled,
    Failed(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Failed(e.to_string())
    }
}

async fn execute(inner: &Arc<Inner>, run: Run) {
    let started = std::time::Instant::now();
    let cancel = Arc::new(AtomicBool::new(inner.stopping.load(Ordering::Relaxed)));
    inner
        .running
        .lock()
        .expect("running lock")
        .insert(run.id, cancel.clone());
    let lines_read = Arc::new(Fraction(AtomicU64::new(0)));
    let total_lines = Arc::new(AtomicU64::new(0));
    let lease = tokio::spawn(keep_lease(
        inner.clone(),
        run.id,
        cancel.clone(),
        lines_read.clone(),
        total_lines.clone(),
    ));
    let outcome = classify(inner, &run, cancel.clone(), lines_read, total_lines).await;
    lease.abort();
    inner.running.lock().expect("running lock").remove(&run.id);
    let store = &inner.store;
    let mut failure = None;
    let (status, stored) = match outcome {
        Ok(Outcome::Results(results)) => (
            RunStatus::Succeeded,
            store.finish_run(run.id, &inner.config.owner, results).await,
        ),
        Ok(Outcome::OneOff(results)) => (
            RunStatus::Succeeded,
            store
                .finish_one_off(run.id, &inner.config.owner, results)
                .await,
        ),
        Err(Failure::Cancelled) => (
            RunStatus::Cancelled,
            store.end_run(run.id, RunStatus::Cancelled, None).await,
        ),
        Err(Failure::Failed(why)) => {
            let ended = store.end_run(run.id, RunStatus::Failed, Some(&why)).await;
            failure = Some(why);
            (RunStatus::Failed, ended)
        }
    };
    tracing::info!(
        run = run.id,
        status = status.as_str(),
        seconds = started.elapsed().as_secs_f64(),
        "run ended"
    );
    crate::metrics::run_ended(status.as_str(), started.elapsed().as_secs_f64());
    match stored {
        Err(e) => tracing::error!(run = run.id, error = %e, "recording the end of a run failed"),
        // What the organisation's retention no longer keeps goes after
        // each successful run, which is what makes it grow.
        Ok(()) if status == RunStatus::Succeeded => match store.prune(run.org, now()).await {
            Ok(pruned) => tracing::info!(
                org = run.org,
                runs = pruned.runs,
                history = pruned.history,
                "pruned"
            ),
            Err(e) => tracing::error!(org = run.org, error = %e, "pruning failed"),
        },
        Ok(()) => {}
    }
    if matches!(status, RunStatus::Succeeded | RunStatus::Failed) {
        if let Err(e) = notify(&**store, &run, failure.as_deref()).await {
            tracing::error!(run = run.id, error = %e, "notifying the run's end failed");
        }
    }
}

/// Tells the organisation that a run ended: always when it failed
/// (`failure`), and when it succeeded if a type it classified has
/// `notify`: the members per segment and how many customers moved.
async fn notify(
    store: &dyn Store,
    run: &Run,
    failure: Option<&str>,
) -> Result<(), strata_store::StoreError> {
    let link = format!("/api/v1/runs/{}", run.id);
    let (status, body) = match failure {
        Some(why) => (
            RunStatus::Failed,
            serde_json::json!({
                "text": format!("run {} of {} failed: {why}", run.id, run.types.join(", ")),
                "types": run.types,
                "error": why,
                "link": link,
            }),
        ),
        None => {
            let notifying: Vec<String> = store
                .types(run.org)
                .await?
                .into_iter()
                .filter(|t| t.notify && run.types.contains(&t.name))
                .map(|t| t.name)
                .collect();
            let report = store.run(run.org, run.id).await?.and_then(|r| r.report);
            let Some(report) = report.filter(|_| !notifying.is_empty()) else {
                return Ok(());
            };
            let types: Vec<serde_json::Value> = report
                .types
                .iter()
                .filter(|t| notifying.contains(&t.name))
                .map(|t| {
                    serde_json::json!({
                        "segment_type": t.name,
                        "counts": t.counts,
                        "moved": t.changed,
                    })
                })
                .collect();
            let moved: Vec<String> = report
                .types
                .iter()
                .filter(|t| notifying.contains(&t.name))
                .map(|t| format!("{} customers moved in {}", t.changed, t.name))
                .collect();
            (
                RunStatus::Succeeded,
                serde_json::json!({
                    "text": format!("run {} succeeded: {}", run.id, moved.join(", ")),
                    "types": types,
                    "link": link,
                }),
            )
        }
    };
    store
        .add_notification(run.org, run.id, status, &body)
        .await
        .map(drop)
}

/// Renews the lease a third of its length before it runs out, records
/// progress, and raises `cancel` when someone asked the run to stop or the
/// lease was lost.
async fn keep_lease(
    inner: Arc<Inner>,
    run: i64,
    cancel: Arc<AtomicBool>,
    read: Arc<Fraction>,
    total: Arc<AtomicU64>,
) {
    let every = inner.config.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let until = now() + inner.config.lease;
        match inner
            .store
            .renew_lease(run, &inner.config.owner, until)
            .await
        {
            Ok(Some(false)) => {}
            Ok(Some(true)) | Ok(None) => cancel.store(true, Ordering::Relaxed),
            Err(e) => tracing::warn!(run, error = %e, "renewing a lease failed"),
        }
        let total = total.load(Ordering::Relaxed);
        if total > 0 {
            let done = read.0.load(Ordering::Relaxed) as f64 / total as f64;
            if let Err(e) = inner.store.set_progress(run, done.min(0.99)).await {
                tracing::warn!(run, error = %e, "recording progress failed");
            }
        }
    }
}

/// What a run made: the types' new results, or a one-off run's rows.
enum Outcome {
    Results(RunResults),
    OneOff(OneOffResults),
}

/// What the engine made, before the store's figures are added.
enum Made {
    Results(Vec<String>, HashMap<String, Vec<ResultRow>>),
    OneOff(RunReport, Vec<RunRow>),
}

async fn classify(
    inner: &Arc<Inner>,
    run: &Run,
    cancel: Arc<AtomicBool>,
    read: Arc<Fraction>,
    total: Arc<AtomicU64>,
) -> Result<Outcome, Failure> {
    let store = &inner.store;
    let settings = store.settings(run.org).await?;
    let types = store.types(run.org).await?;
    let latest = store.latest_results(run.org).await?;
    // Progress counts against the lines the last run read: a count of
    // the stored lines would cost a scan of them.
    if let Some(last) = latest.iter().map(|t| t.run_id).max() {
        if let Some(report) = store.run(run.org, last).await?.and_then(|r| r.report) {
            total.store(report.lines, Ordering::Relaxed);
        }
    }
    let kind = run.kind;
    let one_off_type = run.types.first().cloned().unwrap_or_default();
    let plan = match kind {
        RunKind::Segment => plan_run(&settings, &types, &latest, &run.types),
        RunKind::Period(_) | RunKind::Compare(_) => plan_one_off(
            &settings,
            &types,
            &one_off_type,
            matches!(kind, RunKind::Compare(_)),
        ),
    }
    .map_err(|e| Failure::Failed(e.message()))?;
    let entries = store.list_entries(run.org).await?;
    let mut read_results = Vec::new();
    for (name, _) in &plan.read {
        read_results.push((name.clone(), store.assignments(run.org, name).await?));
    }
    let config = config_of(&settings, &plan.definitions)
        .map_err(|p| Failure::Failed(PlanError::Invalid(p).message()))?;
    let config_groups: Vec<String> = config
        .types
        .iter()
        .filter(|t| !t.one_per_account())
        .map(|t| t.name.clone())
        .collect();
    let report_read = plan.read;
    let started = std::time::Instant::now();
    let as_of = run.as_of;
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let lines_read = read.clone();
    let state = |head: &SnapshotHead| {
        let stored = read_results
            .iter()
            .map(|(name, rows)| stored_result(&config, name, rows, &head.manual))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(State {
            lists: lists_of(&config, entries),
            stored,
        })
    };
    // The engine, and the formatting and parsing of its rows, keep a core
    // busy: they run off the async threads, which renew the lease and
    // receive the lines.
    let (made, data_version) = on_snapshot(store, run.org, state, {
        let config = config.clone();
        move |inputs: Inputs| {
            let engine = |e: strata_engine::Error| match e {
                strata_engine::Error::Cancelled => Failure::Cancelled,
                e => Failure::Failed(e.to_string()),
            };
            let control = Control {
                threads,
                progress: &*read,
                cancel: Some(&cancel),
                errors: ErrorMode::Stop,
            };
            let made = match kind {
                RunKind::Segment => {
                    let run = segment(config, &inputs, as_of, &control).map_err(engine)?;
                    let names: Vec<String> = run
                        .types
                        .iter()
                        .map(|r| run.config.types[r.type_idx].name.clone())
                        .collect();
                    Made::Results(names, result_rows(&run)?)
                }
                RunKind::Period(window) => {
                    let run = segment_period(config, &inputs, window, &control).map_err(engine)?;
                    let (report, rows) =
                        one_off::period_results(&run, &one_off_type).map_err(Failure::Failed)?;
                    Made::OneOff(report, rows)
                }
                RunKind::Compare(periods) => {
                    let run = compare(config, &inputs, &one_off_type, periods, &control)
                        .map_err(engine)?;
                    let (report, rows) = one_off::compare_results(&run).map_err(Failure::Failed)?;
                    Made::OneOff(report, rows)
                }
            };
            tracing::debug!(seconds = started.elapsed().as_secs_f64(), "engine done");
            Ok::<_, Failure>(made)
        }
    })
    .await?;
    tracing::info!(
        run = run.id,
        seconds = started.elapsed().as_secs_f64(),
        "classified"
    );
    let version_of = |name: &str| {
        types
            .iter()
            .find(|t| t.name == name)
            .map_or(0, |t| t.version)
    };
    let lines = lines_read.0.load(Ordering::Relaxed);
    let (names, mut rows) = match made {
        Made::Results(names, rows) => (names, rows),
        Made::OneOff(mut report, rows) => {
            for t in &mut report.types {
                t.version = version_of(&t.name);
            }
            report.lines = lines;
            return Ok(Outcome::OneOff(OneOffResults {
                report,
                rows,
                data_version,
            }));
        }
    };
    let mut results = RunResults {
        report: RunReport {
            read: report_read,
            lines,
            ..RunReport::default()
        },
        types: Vec::new(),
        groups: config_groups,
        data_version,
    };
    for name in names {
        let version = version_of(&name);
        let rows = rows.remove(&name).unwrap_or_default();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows {
            *counts.entry(row.segment.clone()).or_default() += 1;
        }
        results.report.types.push(TypeReport {
            name: name.clone(),
            version,
            counts,
            // Counted by the store against the result the run replaces.
            changed: 0,
        });
        results.types.push((name, version, rows));
    }
    Ok(Outcome::Results(results))
}

/// Reads a snapshot of `org` and runs `job` over the engine's inputs on
/// a blocking thread while the lines arrive; `state` makes what the server
/// keeps between runs from the snapshot's head. Returns what `job` made
/// and the data version read. A failed or cancelled job stops the reading
/// early: its own failure is the outcome. A snapshot that failed part way
/// cut the lines short: whatever the job made of them is not a result.
pub(crate) async fn on_snapshot<T: Send + 'static>(
    store: &Arc<dyn Store>,
    org: OrgId,
    state: impl FnOnce(&SnapshotHead) -> Result<State, Failure>,
    job: impl FnOnce(Inputs) -> Result<T, Failure> + Send + 'static,
) -> Result<(T, i64), Failure> {
    let (head_tx, head_rx) = oneshot::channel();
    let (lines_tx, lines_rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    let reading = {
        let store = store.clone();
        tokio::spawn(async move { store.snapshot(org, BATCH_LINES, head_tx, lines_tx).await })
    };
    let read_failed =
        |e: tokio::task::JoinError| Failure::Failed(format!("reading the data stopped: {e}"));
    let head = match head_rx.await {
        Ok(head) => head,
        Err(_) => {
            reading.await.map_err(read_failed)??;
            return Err(Failure::Failed(
                "the snapshot ended before its start".into(),
            ));
        }
    };
    let state = state(&head)?;
    let data_version = head.data_version;
    let made = tokio::task::spawn_blocking(move || {
        let inputs = inputs_of(head, StoredLines::new(lines_rx), state)
            .map_err(|e| Failure::Failed(e.to_string()))?;
        job(inputs)
    })
    .await
    .map_err(|e| Failure::Failed(format!("the run stopped: {e}")));
    let read_outcome = reading.await;
    let made = made??;
    read_outcome.map_err(read_failed)??;
    Ok((made, data_version))
}

/// The static members of the run's rules segments, grouped by segment;
/// entries of types or segments it does not hold are left out.
pub(crate) fn lists_of(config: &Config, entries: Vec<ListEntry>) -> Vec<ListEntries> {
    let mut lists: BTreeMap<(String, String), ListEntries> = BTreeMap::new();
    for e in entries {
        let known = config
            .types
            .iter()
            .any(|t| t.name == e.type_name && t.segment_idx(&e.segment).is_some());
        if !known {
            continue;
        }
        let list = lists
            .entry((e.type_name.clone(), e.segment.clone()))
            .or_insert_with(|| ListEntries {
                type_name: e.type_name,
                segment: e.segment,
                ..ListEntries::default()
            });
        if e.exclude {
            list.exclude.push(e.entry);
        } else {
            list.include.push(e.entry);
        }
    }
    lists.into_values().collect()
}

/// What the rules of a run read of a type it does not classify: the
/// type's latest result with the current manual assignments, by the
/// domain's precedence.
fn stored_result(
    config: &Config,
    name: &str,
    rows: &[Assignment],
    manual: &[(String, String, String)],
) -> Result<StoredResult, Failure> {
    let ty = config
        .types
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            Failure::Failed(format!("the run reads '{name}', which has no definition"))
        })?;
    let mut customers: BTreeMap<&str, (Vec<&Assignment>, Vec<&str>)> = BTreeMap::new();
    for row in rows {
        customers.entry(&row.customer_id).or_default().0.push(row);
    }
    for (_, customer, segment) in manual.iter().filter(|(t, _, _)| t == name) {
        customers.entry(customer).or_default().1.push(segment);
    }
    let mut out = Vec::new();
    for (customer, (rows, manual)) in customers {
        let automatic = automatic_of(rows.iter().map(|r| r.stored()));
        for segment in effective_segments(ty.one_per_account(), &automatic, &manual) {
            out.push((customer.to_owned(), segment.to_owned()));
        }
    }
    Ok(StoredResult {
        type_name: name.to_owned(),
        rows: out,
    })
}

/// The engine's inputs from a snapshot: the lines as they arrive,
/// customers and manual assignments as tables.
fn inputs_of(
    snapshot: SnapshotHead,
    lines: StoredLines,
    state: State,
) -> strata_engine::Result<Inputs> {
    Ok(Inputs {
        lines: Box::new(lines),
        customers: customers_table(&snapshot.customers)?,
        overrides: manual_table(&snapshot.manual)?,
        state,
    })
}

/// Customers and their attributes as the engine's customers table; `None`
/// without customers.
pub(crate) fn customers_table(
    customers: &[Customer],
) -> strata_engine::Result<Option<Box<dyn TableSource>>> {
    if customers.is_empty() {
        return Ok(None);
    }
    let columns: BTreeSet<&str> = customers
        .iter()
        .flat_map(|c| c.attributes.keys().map(String::as_str))
        .collect();
    let mut headers = vec![strata_domain::columns::CustomerColumn::CustomerId.name()];
    headers.extend(columns.iter().copied());
    let rows: Vec<Vec<Option<&str>>> = customers
        .iter()
        .map(|c| {
            std::iter::once(Some(c.id.as_str()))
                .chain(columns.iter().map(|k| {
                    c.attributes
                        .get(*k)
                        .map(String::as_str)
                        .filter(|v| !v.is_empty())
                }))
                .collect()
        })
        .collect();
    Ok(Some(Box::new(StringTable::from_rows(
        "customers",
        &headers,
        &rows,
    )?)))
}

/// Manual assignments `(type, customer, segment)` as the engine's table;
/// `None` without any.
pub(crate) fn manual_table(
    manual: &[(String, String, String)],
) -> strata_engine::Result<Option<Box<dyn TableSource>>> {
    if manual.is_empty() {
        return Ok(None);
    }
    let rows: Vec<Vec<Option<&str>>> = manual
        .iter()
        .map(|(t, c, s)| vec![Some(t.as_str()), Some(c.as_str()), Some(s.as_str())])
        .collect();
    Ok(Some(Box::new(StringTable::from_rows(
        "manual assignments",
        &ASSIGNMENT_COLUMNS[..3],
        &rows,
    )?)))
}

/// The rows of `assignments.csv`, per type, as the engine would write
/// them: the same cells, without a file in between.
pub(crate) fn result_rows(run: &SegmentRun) -> Result<HashMap<String, Vec<ResultRow>>, Failure> {
    let mut out = HashMap::new();
    let mut number = String::new();
    for result in &run.types {
        let ty = &run.config.types[result.type_idx];
        let mut rows = Vec::with_capacity(result.rows.len());
        for row in &result.rows {
            let mut stored = ResultRow {
                auto_source: row.assignment.auto_source.map(|s| s.as_str().to_owned()),
                ..ResultRow::default()
            };
            let mut column = 0;
            row_cells(run, ty, row, AssignmentColumns::All, &mut |cell| {
                let text = match cell {
                    Cell::Text(text) => text,
                    Cell::Value(value) => {
                        number.clear();
                        if let Some(value) = value {
                            write!(number, "{value}")?;
                        }
                        number.as_str()
                    }
                };
                let optional = || (!text.is_empty()).then(|| text.to_owned());
                match column {
                    0 => stored.type_name = text.to_owned(),
                    1 => stored.customer_id = text.to_owned(),
                    2 => stored.segment = text.to_owned(),
                    3 => stored.source = text.to_owned(),
                    4 => stored.auto_segment = optional(),
                    5 => stored.manual_segment = optional(),
                    _ => {
                        if !text.is_empty() {
                            stored
                                .figures
                                .insert(ASSIGNMENT_COLUMNS[column].to_owned(), text.to_owned());
                        }
                    }
                }
                column += 1;
                Ok::<(), std::fmt::Error>(())
            })
            .map_err(|e| Failure::Failed(format!("formatting results: {e}")))?;
            rows.push(stored);
        }
        out.insert(ty.name.clone(), rows);
    }
    Ok(out)
}
