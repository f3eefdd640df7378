//! What the store keeps, as plain values.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata_domain::classify::StoredRow;
use strata_domain::config::input::SettingsInput;
use strata_domain::date::{Date, Window};
use strata_domain::money::Amount;

/// An organisation's id.
pub type OrgId = i64;

/// A moment, in UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current moment to the microsecond, the precision both databases keep.
pub fn now() -> Timestamp {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// An organisation: every other record belongs to one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Its unique name.
    pub name: String,
}

/// What a token may do; each role may do what the ones before it may.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads segments, customers and reports.
    Viewer,
    /// Also imports, defines types, runs, sets manual segments, exports members.
    Editor,
    /// Also manages tokens and settings.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role with this name.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// The SHA-256 of a token: all the store knows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(pub Vec<u8>);

/// A token to store.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// Its organisation.
    pub org: OrgId,
    /// What it may do.
    pub role: Role,
    /// Its label: the actor named in history.
    pub label: String,
    /// Its hash.
    pub hash: TokenHash,
}

/// A stored token, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// What it may do.
    pub role: Role,
    /// Its label.
    pub label: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A customer and its attributes (customers-file columns but the id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Customer {
    /// The customer account's id.
    pub id: String,
    /// Column name to value; an upsert leaves absent columns as they were.
    pub attributes: BTreeMap<String, String>,
}

/// One stored sales line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLine {
    /// The customer account.
    pub customer_id: String,
    /// The order.
    pub order_id: String,
    /// The line's number within its order.
    pub line: i64,
    /// The line's date.
    pub date: Date,
    /// The amount; negative for returns.
    pub amount: Amount,
    /// The margin, when known.
    pub margin: Option<Amount>,
    /// The agency that sold the line.
    pub agency: Option<String>,
    /// The product brand.
    pub brand: Option<String>,
    /// The product category.
    pub category: Option<String>,
    /// The order's status.
    pub status: Option<String>,
    /// The order's due date.
    pub due_date: Option<Date>,
}

/// Sales lines to store. A line is identified by its customer, order and
/// line number.
#[derive(Clone, Debug, Default)]
pub struct LineImport {
    /// The lines.
    pub lines: Vec<StoredLine>,
    /// `true` when the lines were numbered by the import (it had no `line`
    /// column): each (customer, order) it contains is replaced as a whole,
    /// so lines beyond the import's own are removed.
    pub whole_orders: bool,
}

/// A query for a page of customers.
#[derive(Clone, Debug, Default)]
pub struct CustomerQuery {
    /// Only customers whose id comes after this one.
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Only members of this `(type, segment)` in the type's latest result.
    pub segment: Option<(String, Option<String>)>,
    /// Only customers whose id, name, e-mail or VAT contains this text,
    /// already folded (lower case, accents removed).
    pub search: Option<String>,
}

/// What a run reads besides the lines, as of one moment.
#[derive(Clone, Debug, Default)]
pub struct SnapshotHead {
    /// Every customer with attributes.
    pub customers: Vec<Customer>,
    /// Every manual assignment: `(type, customer, segment)`.
    pub manual: Vec<(String, String, String)>,
    /// The data version the snapshot shows.
    pub data_version: i64,
}

/// An organisation's definitions, read together: what the server
/// validates into a configuration, and the version it caches it by.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    /// Grows with every change of the settings or of a type.
    pub config_version: i64,
    /// The settings as stored.
    pub settings: SettingsInput,
    /// The segment types, in the order they were created.
    pub types: Vec<TypeRecord>,
}

/// A customer as one request shows it, read from one consistent state.
#[derive(Clone, Debug, Default)]
pub struct CustomerDetail {
    /// The customer and its attributes.
    pub customer: Customer,
    /// Its rows in every type's latest result, by type then segment.
    pub results: Vec<ResultRow>,
    /// Its manual segments: `(type, segment)`, sorted.
    pub manual: Vec<(String, String)>,
    /// The as-of date of every type's latest result: `(type, as_of)`, sorted.
    pub as_of: Vec<(String, Date)>,
    /// The organisation's [`Definitions::config_version`] at that moment.
    pub config_version: i64,
}

/// What erasing a customer removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Its sales lines.
    pub lines: u64,
    /// Its rows in the types' latest results.
    pub results: u64,
    /// Its manual assignments.
    pub manual: u64,
}

/// A stored segment type: its definition and the server's settings of it.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRecord {
    /// Its name (unique in its organisation).
    pub name: String,
    /// The JSON form of its `[[types]]` entry.
    pub definition: serde_json::Value,
    /// Grows with every change of the definition.
    pub version: i64,
    /// The type shown first in customer lists (one per organisation).
    pub is_default: bool,
    /// Whether its successful runs notify the organisation.
    pub notify: bool,
    /// When the server classifies it again on its own.
    pub recompute: Recompute,
    /// When the definition last changed.
    pub updated_at: Timestamp,
}

/// A type to create or replace.
#[derive(Clone, Debug)]
pub struct PutType {
    /// Its name.
    pub name: String,
    /// The JSON form of its definition.
    pub definition: serde_json::Value,
    /// Whether it becomes the default type.
    pub is_default: bool,
    /// Who: recorded with a change of the definition.
    pub actor: String,
}

/// What a write did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new record.
    Created,
    /// An existing record changed.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// A rename of a type.
#[derive(Clone, Debug)]
pub struct RenameType {
    /// The current name.
    pub from: String,
    /// The new name.
    pub to: String,
    /// The renamed type's definition, with its new name.
    pub definition: serde_json::Value,
    /// The other types whose rules referenced it: `(name, new definition)`.
    pub rewritten: Vec<(String, serde_json::Value)>,
    /// Who: recorded with the changes of the definitions.
    pub actor: String,
}

/// When the server classifies a type again without being asked.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Recompute {
    /// Only when someone asks.
    #[default]
    Manual,
    /// Once each import is stored.
    AfterImport,
}

impl Recompute {
    /// Every value.
    pub const ALL: [Recompute; 2] = [Recompute::Manual, Recompute::AfterImport];

    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Recompute::Manual => "manual",
            Recompute::AfterImport => "after_import",
        }
    }

    /// The value written `name`.
    pub fn from_name(name: &str) -> Option<Recompute> {
        Recompute::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Something the organisation is told: a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// Its id, in the order they were made.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// The run.
    pub run_id: i64,
    /// How the run ended.
    pub status: RunStatus,
    /// What to say: counts, movers, the error, as JSON.
    pub body: serde_json::Value,
    /// Whether the token asking has marked it read.
    pub read: bool,
}

/// Which notifications to read, newest first.
#[derive(Clone, Copy, Debug)]
pub struct NotificationQuery {
    /// The token asking: `read` is its own.
    pub token: i64,
    /// Only those it has not read.
    pub unread_only: bool,
    /// Only those before this id.
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// How long an organisation keeps what grows with use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// How many of a type's latest runs keep their rows (`run_rows`).
    pub keep_runs: u32,
    /// How many days history keeps its entries; `None`: for ever.
    pub history_days: Option<u32>,
}

impl Retention {
    /// The number of runs per type kept when the organisation says nothing.
    pub const KEEP_RUNS: u32 = 24;
    /// The settings keys, as `GET /api/v1/settings` shows them beside the
    /// others: server settings, which a file cannot hold.
    pub const KEYS: [&'static str; 2] = ["keep_runs", "history_days"];
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            keep_runs: Retention::KEEP_RUNS,
            history_days: None,
        }
    }
}

/// What a pruning removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Runs whose rows were removed.
    pub runs: u64,
    /// History entries removed.
    pub history: u64,
}

/// A static member of a rules segment: a customer id or e-mail on its
/// include or exclude list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The type.
    pub type_name: String,
    /// The segment.
    pub segment: String,
    /// On the exclude list (else the include list).
    pub exclude: bool,
    /// The customer id or e-mail.
    pub entry: String,
}

impl ListEntry {
    /// The include list's name in storage.
    pub const INCLUDE: &'static str = "include";
    /// The exclude list's name in storage.
    pub const EXCLUDE: &'static str = "exclude";
}

/// A change of a segment's static members.
#[derive(Clone, Debug, Default)]
pub struct ListChange {
    /// Onto the include list, off the exclude list.
    pub include: Vec<String>,
    /// Onto the exclude list, off the include list.
    pub exclude: Vec<String>,
    /// Off the include list only.
    pub unlist: Vec<String>,
}

/// What happened to a type's definition.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TypeAction {
    /// It was defined.
    Created,
    /// Its definition changed (a rename of a type its rules read included).
    Updated,
    /// It was renamed.
    Renamed,
    /// It was deleted.
    Deleted,
}

impl TypeAction {
    /// Every action.
    pub const ALL: [TypeAction; 4] = [
        TypeAction::Created,
        TypeAction::Updated,
        TypeAction::Renamed,
        TypeAction::Deleted,
    ];

    /// The action's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeAction::Created => "created",
            TypeAction::Updated => "updated",
            TypeAction::Renamed => "renamed",
            TypeAction::Deleted => "deleted",
        }
    }

    /// The action with this name.
    pub fn from_name(name: &str) -> Option<TypeAction> {
        TypeAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// One change of a type's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeChange {
    /// Its id, in the order changes were made.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// The type's name now (entries follow a rename).
    pub type_name: String,
    /// What happened.
    pub action: TypeAction,
    /// Who: the label of the token that asked.
    pub actor: String,
    /// The definition before, if it existed.
    pub before: Option<serde_json::Value>,
    /// The definition after, unless deleted.
    pub after: Option<serde_json::Value>,
}

/// What changed a customer's effective segments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// A run's new result.
    Run,
    /// A manual assignment set or cleared.
    Manual,
    /// A static member added or removed: a segment's include or exclude
    /// list changed.
    List,
    /// An import changed which accounts an e-mail on a static list names.
    Import,
    /// The customer was erased.
    Deletion,
}

impl Cause {
    /// Every cause.
    pub const ALL: [Cause; 5] = [
        Cause::Run,
        Cause::Manual,
        Cause::List,
        Cause::Import,
        Cause::Deletion,
    ];

    /// The cause's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Run => "run",
            Cause::Manual => "manual",
            Cause::List => "list",
            Cause::Import => "import",
            Cause::Deletion => "deletion",
        }
    }

    /// The cause with this name.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One change of a customer's effective segments in one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Its id: entries are numbered in the order they were recorded.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// The type.
    pub segment_type: String,
    /// The customer, or the tombstone of an erased one.
    pub customer_id: String,
    /// The segment it left, if any.
    pub old_segment: Option<String>,
    /// The segment it entered, if any.
    pub new_segment: Option<String>,
    /// What changed it.
    pub cause: Cause,
    /// The run, when a run changed it.
    pub run_id: Option<i64>,
    /// Who: the label of the token that asked.
    pub actor: String,
}

/// Which history entries to read, oldest first.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Only this customer's.
    pub customer: Option<String>,
    /// Only the entries of this type.
    pub segment_type: Option<String>,
    /// Only the entries entering or leaving this `(type, segment)`.
    pub segment: Option<(String, String)>,
    /// Only entries recorded at or after this time.
    pub from: Option<Timestamp>,
    /// Only entries recorded before this time.
    pub to: Option<Timestamp>,
    /// Only entries after this id.
    pub after: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// Who changes manual assignments, and how the type holds segments.
#[derive(Clone, Copy, Debug)]
pub struct ManualChange<'a> {
    /// The label recorded in history.
    pub actor: &'a str,
    /// Whether the type gives a customer one segment at most.
    pub one_per_account: bool,
}

/// The state of a run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it.
    Running,
    /// Its results are stored.
    Succeeded,
    /// It stopped on an error or its worker disappeared.
    Failed,
    /// Someone asked it to stop.
    Cancelled,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// The status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// The status with this name.
    pub fn from_name(name: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// What a run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Classifies its types as of its date: their results become current.
    Segment,
    /// One type over one date range, a one-off segmentation: its rows are
    /// kept with the run and change nothing else.
    Period(Window),
    /// One type over two date ranges and who moved where (`strata
    /// compare`): its rows are kept with the run and change nothing else.
    Compare([Window; 2]),
}

impl RunKind {
    /// The kind's name.
    pub fn name(&self) -> &'static str {
        match self {
            RunKind::Segment => "segment",
            RunKind::Period(_) => "period",
            RunKind::Compare(_) => "compare",
        }
    }

    /// Its date ranges, in order.
    pub fn periods(&self) -> Vec<Window> {
        match self {
            RunKind::Segment => Vec::new(),
            RunKind::Period(window) => vec![*window],
            RunKind::Compare(windows) => windows.to_vec(),
        }
    }

    /// The kind named `name` over `periods`, if they fit it.
    pub fn from_parts(name: &str, periods: &[Window]) -> Option<RunKind> {
        match (name, periods) {
            ("segment", []) => Some(RunKind::Segment),
            ("period", [window]) => Some(RunKind::Period(*window)),
            ("compare", [a, b]) => Some(RunKind::Compare([*a, *b])),
            _ => None,
        }
    }

    /// Whether its rows are kept with the run rather than becoming the
    /// types' current results.
    pub fn is_one_off(&self) -> bool {
        !matches!(self, RunKind::Segment)
    }
}

/// One row of the file a one-off run makes: `assignments.csv` for a
/// period, `transitions.csv` for a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRow {
    /// The customer it is about.
    pub customer_id: String,
    /// What exports filter it by: its segment (period) or its movement
    /// (comparison).
    pub key: String,
    /// The row as the command line writes it, without the line break.
    pub line: String,
}

/// What a one-off run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OneOffResults {
    /// The report.
    pub report: RunReport,
    /// The rows of its file, in order.
    pub rows: Vec<RunRow>,
    /// The data version the run read.
    pub data_version: i64,
}

/// A query for a page of a one-off run's rows.
#[derive(Clone, Debug, Default)]
pub struct RunRowsQuery {
    /// The run.
    pub run: i64,
    /// Only rows with this key (segment or movement).
    pub key: Option<String>,
    /// Only rows after this one (0 for the first page).
    pub after: i64,
    /// At most this many.
    pub limit: u32,
}

/// A run to queue.
#[derive(Clone, Debug)]
pub struct NewRun {
    /// What it does.
    pub kind: RunKind,
    /// The types it classifies.
    pub types: Vec<String>,
    /// Its as-of date.
    pub as_of: Date,
    /// Who asked for it: recorded in the history of what it changes.
    pub actor: String,
}

/// A run of some types of an organisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// What it does.
    pub kind: RunKind,
    /// The types it classifies.
    pub types: Vec<String>,
    /// Its as-of date.
    pub as_of: Date,
    /// Where it stands.
    pub status: RunStatus,
    /// How far it has gone, 0 to 1.
    pub progress: f64,
    /// Why it failed.
    pub error: Option<String>,
    /// What it produced, once it succeeded.
    pub report: Option<RunReport>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When a worker took it.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// Whether the organisation's retention removed its rows.
    pub rows_pruned: bool,
}

/// What a successful run produced, per type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// One entry per type classified.
    pub types: Vec<TypeReport>,
    /// Types not classified by the run whose stored results its rules
    /// read: `(type, run id)`.
    #[serde(default)]
    pub read: Vec<(String, i64)>,
    /// How many stored lines the run read (the next run's progress
    /// counts against it).
    #[serde(default)]
    pub lines: u64,
    /// One-off runs: customers and sales per segment in each period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<PeriodReport>,
    /// Comparisons: customers per movement (improved, declined, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub movements: BTreeMap<String, u64>,
    /// Comparisons: customers from each segment of the first period
    /// (rows) to each of the second (columns), the last being "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixReport>,
}

/// A one-off run's figures for one period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodReport {
    /// `FROM..TO`.
    pub period: String,
    /// One entry per segment, in the type's order.
    pub segments: Vec<SegmentFigures>,
}

/// Customers and sales of one segment over a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentFigures {
    /// The segment.
    pub segment: String,
    /// Its customers (accounts).
    pub customers: u64,
    /// Their sales in the period, an exact decimal.
    pub sales: String,
}

/// A transition matrix with its labels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    /// Row and column labels: the segments, then "none".
    pub segments: Vec<String>,
    /// `counts[a][b]`: customers from `segments[a]` to `segments[b]`.
    pub counts: Vec<Vec<u64>>,
}

/// What a run produced for one type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeReport {
    /// The type.
    pub name: String,
    /// The definition version classified.
    pub version: i64,
    /// Members per segment.
    pub counts: BTreeMap<String, u64>,
    /// Customers whose effective segments differ from the type's previous
    /// successful run.
    pub changed: u64,
}

/// One row of a type's result: a row of `assignments.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultRow {
    /// The type.
    pub type_name: String,
    /// The customer.
    pub customer_id: String,
    /// The segment at the time of the run.
    pub segment: String,
    /// Where it came from: computed, default, manual, include.
    pub source: String,
    /// The computed segment, if any.
    pub auto_segment: Option<String>,
    /// Where the computed segment comes from: computed, default, include.
    pub auto_source: Option<String>,
    /// The manual segment at the time of the run, if any.
    pub manual_segment: Option<String>,
    /// The other columns of `assignments.csv` that have a value.
    pub figures: BTreeMap<String, String>,
}

impl ResultRow {
    /// The row as the domain reads it.
    pub fn stored(&self) -> StoredRow<'_> {
        (
            &self.source,
            &self.segment,
            self.auto_segment.as_deref(),
            self.auto_source.as_deref(),
        )
    }
}

/// One membership of a stored result, without its figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    /// The customer.
    pub customer_id: String,
    /// The segment at the time of the run.
    pub segment: String,
    /// Where it came from: computed, default, manual, include.
    pub source: String,
    /// The computed segment, if any.
    pub auto_segment: Option<String>,
    /// Where the computed segment comes from: computed, default, include.
    pub auto_source: Option<String>,
}

impl Assignment {
    /// The row as the domain reads it.
    pub fn stored(&self) -> StoredRow<'_> {
        (
            &self.source,
            &self.segment,
            self.auto_segment.as_deref(),
            self.auto_source.as_deref(),
        )
    }
}

/// The results of a successful run.
#[derive(Clone, Debug, Default)]
pub struct RunResults {
    /// The report.
    pub report: RunReport,
    /// One entry per type classified: its name, definition version and rows.
    pub types: Vec<(String, i64, Vec<ResultRow>)>,
    /// The types among them that give a customer any number of segments
    /// (groups); the others give one at most.
    pub groups: Vec<String>,
    /// The data version the run read.
    pub data_version: i64,
}

/// The latest successful result of a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeState {
    /// The type.
    pub type_name: String,
    /// The run that produced it.
    pub run_id: i64,
    /// The definition version it classified.
    pub version: i64,
    /// The data version it read.
    pub data_version: i64,
}

/// A query for a page of a segment's members.
#[derive(Clone, Debug)]
pub struct MembersQuery {
    /// The type.
    pub type_name: String,
    /// The segment.
    pub segment: String,
    /// Only customers after this id.
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// A member of a segment: its row and its attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The stored row.
    pub row: ResultRow,
    /// The customer's attributes.
    pub attributes: BTreeMap<String, String>,
}
