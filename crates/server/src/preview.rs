//! Previews on stored data: the engine's inspection of an organisation
//! (every type classified, every customer's features) is built once from
//! a snapshot and kept while nothing it read changes, within a memory
//! budget; rules are then evaluated on it in memory. A request does not
//! wait long for a build: it says the table is being built.

use crate::error::{ApiError, ApiResult};
use crate::runner::{lists_of, on_snapshot, Failure};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata_domain::date::Date;
use strata_engine::progress::Control;
use strata_engine::run::{self, InspectRun, State};
use strata_store::{OrgId, Store};
use tokio::sync::watch;

/// What a cached inspection was built from: when any of it changes, the
/// next preview builds a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The data version (imports, erasures).
    pub data: i64,
    /// The definitions version (settings, types).
    pub config: i64,
    /// The memberships version (runs and manual changes that moved someone).
    pub memberships: i64,
    /// A digest of the static list entries.
    pub lists: u64,
    /// The as-of date.
    pub as_of: Date,
}

/// Why a build made no table.
#[derive(Clone, Debug)]
enum BuildError {
    /// The engine refused the organisation's data or definitions (409).
    Refused(String),
    /// Reading the store failed (500).
    Internal(String),
}

/// A build's outcome, shared with every request waiting for it.
type Outcome = Option<Result<Arc<InspectRun>, BuildError>>;

enum Slot {
    Building(Key, watch::Receiver<Outcome>),
    Ready {
        key: Key,
        run: Arc<InspectRun>,
        bytes: usize,
        used: Instant,
    },
}

/// The organisations' cached inspections.
pub struct Previews {
    budget: usize,
    slots: Mutex<HashMap<OrgId, Slot>>,
}

/// What a preview request gets.
pub enum Table {
    /// The inspection to evaluate on.
    Ready(Arc<InspectRun>),
    /// Still being built.
    Building,
}

impl Previews {
    /// Caches at most about `budget` bytes of inspections.
    pub fn new(budget: usize) -> Previews {
        Previews {
            budget,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organisation's inspection as of `as_of`, waiting at most `wait`
    /// for a build.
    pub async fn table(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        org: OrgId,
        as_of: Date,
        wait: Duration,
    ) -> ApiResult<Table> {
        let definitions = store.definitions(org).await?;
        let entries = store.list_entries(org).await?;
        let mut digest = DefaultHasher::new();
        for e in &entries {
            (&e.type_name, &e.segment, e.exclude, &e.entry).hash(&mut digest);
        }
        let key = Key {
            data: store.data_version(org).await?,
            config: definitions.config_version,
            memberships: store.membership_version(org).await?,
            lists: digest.finish(),
            as_of,
        };
        let mut receiver = {
            let mut slots = self.lock();
            match slots.get_mut(&org) {
                Some(Slot::Ready {
                    key: k, run, used, ..
                }) if *k == key => {
                    *used = Instant::now();
                    return Ok(Table::Ready(run.clone()));
                }
                Some(Slot::Building(k, receiver)) if *k == key => receiver.clone(),
                _ => {
                    let (sender, receiver) = watch::channel(None);
                    slots.insert(org, Slot::Building(key, receiver.clone()));
                    let config = organisation(&definitions)?;
                    let entries = lists_of(&config, entries);
                    tokio::spawn(self.clone().build(
                        store.clone(),
                        org,
                        key,
                        config,
                        entries,
                        sender,
                    ));
                    receiver
                }
            }
        };
        if wait.is_zero() {
            return Ok(Table::Building);
        }
        let done = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
        match done {
            Err(_) => Ok(Table::Building),
            Ok(Err(_)) => Err(ApiError::Internal("a preview build stopped".into())),
            Ok(Ok(outcome)) => match outcome.as_ref() {
                Some(Ok(run)) => Ok(Table::Ready(run.clone())),
                Some(Err(BuildError::Refused(why))) => Err(ApiError::Conflict(why.clone())),
                Some(Err(BuildError::Internal(why))) => Err(ApiError::Internal(format!(
                    "building the preview table: {why}"
                ))),
                None => Ok(Table::Building),
            },
        }
    }

    /// Builds an inspection and keeps it if it fits the budget, making room
    /// by dropping the least recently used ones.
    async fn build(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        org: OrgId,
        key: Key,
        config: strata_domain::config::Config,
        lists: Vec<strata_engine::run::ListEntries>,
        sender: watch::Sender<Outcome>,
    ) {
        let started = Instant::now();
        let state = move |_: &strata_store::SnapshotHead| {
            Ok(State {
                lists,
                stored: Vec::new(),
            })
        };
        let built = on_snapshot(&store, org, state, move |inputs| {
            Ok(run::inspect(config, &inputs, key.as_of, &Control::silent()))
        })
        .await;
        let outcome = match built {
            Ok((Ok(run), _)) => Ok(Arc::new(run)),
            Ok((Err(e), _)) => Err(BuildError::Refused(e.to_string())),
            Err(Failure::Failed(why)) => Err(BuildError::Internal(why)),
            Err(Failure::Cancelled) => Err(BuildError::Internal("cancelled".to_owned())),
        };
        {
            let mut slots = self.lock();
            let current = matches!(slots.get(&org), Some(Slot::Building(k, _)) if *k == key);
            match &outcome {
                Ok(run) if current => {
                    let bytes = run.heap_bytes();
                    tracing::info!(
                        org,
                        bytes,
                        seconds = started.elapsed().as_secs_f64(),
                        "preview table built"
                    );
                    slots.remove(&org);
                    if bytes <= self.budget {
                        evict(&mut slots, self.budget - bytes);
                        slots.insert(
                            org,
                            Slot::Ready {
                                key,
                                run: run.clone(),
                                bytes,
                                used: Instant::now(),
                            },
                        );
                    } else {
                        tracing::warn!(
                            org,
                            bytes,
                            budget = self.budget,
                            "a preview table over the cache budget is not kept"
                        );
                    }
                }
                Err(why) if current => {
                    tracing::warn!(org, error = ?why, "building a preview table failed");
                    slots.remove(&org);
                }
                _ => {}
            }
        }
        sender.send_replace(Some(outcome));
    }
}

/// Drops the least recently used tables until the others hold at most `room` bytes.
fn evict(slots: &mut HashMap<OrgId, Slot>, room: usize) {
    loop {
        let ready = slots.iter().filter_map(|(org, s)| match s {
            Slot::Ready { bytes, used, .. } => Some((*org, *bytes, *used)),
            Slot::Building(..) => None,
        });
        let total: usize = ready.clone().map(|(_, b, _)| b).sum();
        if total <= room {
            return;
        }
        match ready.min_by_key(|(_, _, used)| *used) {
            Some((org, _, _)) => {
                slots.remove(&org);
            }
            None => return,
        }
    }
}

/// The organisation's whole configuration, validated.
fn organisation(
    definitions: &strata_store::Definitions,
) -> ApiResult<strata_domain::config::Config> {
    if definitions.types.is_empty() {
        // Rules may be previewed before any type exists.
        let settings = strata_domain::config::validate_settings(definitions.settings.clone())
            .map_err(|e| ApiError::Invalid(e.problems))?;
        return Ok(strata_domain::config::Config {
            settings,
            types: Vec::new(),
        });
    }
    crate::types::organisation_config(&definitions.settings, &definitions.types)
        .map_err(|p| ApiError::Internal(format!("stored types do not validate: {p:?}")))
}
