//! The server's storage in one SQLite file (`strata serve` without
//! `--database`). One writer connection serialises writes, as SQLite does
//! anyway, so that transactions never fail for a busy database; readers
//! see consistent snapshots through the write-ahead log. Committed
//! transactions survive the process being killed (`synchronous = NORMAL`
//! in WAL mode loses nothing but to a power cut).

mod bulk;
mod rows;

use async_trait::async_trait;
use rows::{parse_attributes, run_from_row, token_from_row, RUN_COLUMNS};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use strata_domain::config::input::SettingsInput;
use strata_store::*;
use tokio::sync::{mpsc, oneshot};

static MIGRATOR: Migrator = sqlx::migrate!();

/// Rows per multi-row INSERT: well under SQLite's limit of bound values.
const ROWS_PER_INSERT: usize = 500;

/// The store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    read: SqlitePool,
    write: SqlitePool,
}

fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::database(e)
}

impl SqliteStore {
    /// Opens (creating it if needed) and migrates the database at `path`;
    /// refuses a database migrated by a newer Strata.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(db)?;
        match MIGRATOR.run(&write).await {
            Ok(()) => {}
            Err(MigrateError::VersionMissing(found)) => {
                return Err(StoreError::TooNew {
                    found,
                    known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
                })
            }
            Err(e) => return Err(db(e)),
        }
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .map_err(db)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            read,
            write,
        })
    }

    /// Copies the live database at `db` into a new file `to`: a consistent
    /// snapshot of what was committed when the copy began (`VACUUM INTO`
    /// on a read-only connection, so writers go on meanwhile). The copy is
    /// written beside `to` and renamed into place: a failed backup leaves
    /// no file. Refuses an existing `to`; restoring is opening the copy.
    pub async fn backup(database: &Path, to: &Path) -> StoreResult<()> {
        let io = |what: String, e: std::io::Error| {
            StoreError::database(std::io::Error::new(e.kind(), format!("{what}: {e}")))
        };
        if !database.is_file() {
            return Err(io(
                database.display().to_string(),
                std::io::ErrorKind::NotFound.into(),
            ));
        }
        if to.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists: a backup never overwrites a file",
                to.display()
            )));
        }
        let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
        let partial = to.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let options = SqliteConnectOptions::new()
            .filename(database)
            .read_only(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db)?;
        let copied = sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&pool)
            .await;
        pool.close().await;
        let renamed = copied.map_err(db).and_then(|_| {
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .and_then(|()| std::fs::rename(&partial, to))
                .map_err(|e| io(format!("writing {}", to.display()), e))
        });
        if renamed.is_err() {
            // Nothing half-written stays behind.
            let _ = std::fs::remove_file(&partial);
        }
        renamed
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn ensure_org(&self, name: &str) -> StoreResult<(Org, bool)> {
        let created = sqlx::query(
            "INSERT INTO orgs (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now())
        .execute(&self.write)
        .await
        .map_err(db)?
        .rows_affected()
            > 0;
        let id: i64 = sqlx::query_scalar("SELECT id FROM orgs WHERE name = ?")
            .bind(name)
            .fetch_one(&self.write)
            .await
            .map_err(db)?;
        Ok((
            Org {
                id,
                name: name.to_owned(),
            },
            created,
        ))
    }

    async fn create_token(&self, new: &NewToken) -> StoreResult<Token> {
        let created_at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (org_id, role, label, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.org)
        .bind(new.role.as_str())
        .bind(&new.label)
        .bind(&new.hash.0)
        .bind(created_at)
        .fetch_one(&self.write)
        .await
        .map_err(db)?;
        Ok(Token {
            id,
            org: new.org,
            role: new.role,
            label: new.label.clone(),
            created_at,
        })
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<Token>> {
        sqlx::query("SELECT id, org_id, role, label, created_at FROM tokens WHERE hash = ?")
            .bind(&hash.0)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?
            .map(|r| token_from_row(&r))
            .transpose()
    }

    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<Token>> {
        sqlx::query(
            "SELECT id, org_id, role, label, created_at FROM tokens WHERE org_id = ? ORDER BY id",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(db)?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn delete_token(&self, org: OrgId, id: i64) -> StoreResult<bool> {
        Ok(
            sqlx::query("DELETE FROM tokens WHERE org_id = ? AND id = ?")
                .bind(org)
                .bind(id)
                .execute(&self.write)
                .await
                .map_err(db)?
                .rows_affected()
                > 0,
        )
    }

    async fn settings(&self, org: OrgId) -> StoreResult<SettingsInput> {
        let json: String = sqlx::query_scalar("SELECT settings FROM orgs WHERE id = ?")
            .bind(org)
            .fetch_one(&self.read)
            .await
            .map_err(db)?;
        parse_settings(&json)
    }

    async fn set_settings(&self, org: OrgId, settings: &SettingsInput) -> StoreResult<()> {
        let json = serde_json::to_string(settings).map_err(db)?;
        sqlx::query("UPDATE orgs SET settings = ? WHERE id = ?")
            .bind(json)
            .bind(org)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn retention(&self, org: OrgId) -> StoreResult<Retention> {
        let (keep_runs, history_days): (i64, Option<i64>) =
            sqlx::query_as("SELECT keep_runs, history_days FROM orgs WHERE id = ?")
                .bind(org)
                .fetch_one(&self.read)
                .await
                .map_err(db)?;
        retention_of(keep_runs, history_days)
    }

    async fn set_retention(&self, org: OrgId, retention: &Retention) -> StoreResult<()> {
        sqlx::query("UPDATE orgs SET keep_runs = ?, history_days = ? WHERE id = ?")
            .bind(i64::from(retention.keep_runs))
            .bind(retention.history_days.map(i64::from))
            .bind(org)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn prune(&self, org: OrgId, now: Timestamp) -> StoreResult<Pruned> {
        let retention = self.retention(org).await?;
        let mut tx = self.write.begin().await.map_err(db)?;
        let runs: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, types FROM runs WHERE org_id = ? AND kind <> ? AND status = ? AND rows_pruned = 0",
        )
        .bind(org)
        .bind(RunKind::Segment.name())
        .bind(RunStatus::Succeeded.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let runs = runs
            .into_iter()
            .map(|(id, types)| Ok((id, serde_json::from_str(&types).map_err(db)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut pruned = Pruned::default();
        for id in runs_beyond(&runs, retention.keep_runs) {
            let gone = sqlx::query("DELETE FROM run_rows WHERE org_id = ? AND run_id = ?")
                .bind(org)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            sqlx::query("UPDATE runs SET rows_pruned = 1 WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            pruned.runs += u64::from(gone > 0);
        }
        if let Some(days) = retention.history_days {
            pruned.history = sqlx::query("DELETE FROM history WHERE org_id = ? AND at < ?")
                .bind(org)
                .bind(now - chrono::Duration::days(i64::from(days)))
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
        }
        tx.commit().await.map_err(db)?;
        Ok(pruned)
    }

    async fn upsert_customers(&self, org: OrgId, customers: &[Customer]) -> StoreResult<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        // By id: a customer listed twice counts once.
        let mut changed: HashSet<&str> = HashSet::new();
        for batch in customers.chunks(ROWS_PER_INSERT) {
            let mut select = QueryBuilder::<Sqlite>::new(
                "SELECT customer_id, attributes FROM customers WHERE org_id = ",
            );
            select.push_bind(org).push(" AND customer_id IN (");
            let mut ids = select.separated(", ");
            for c in batch {
                ids.push_bind(&c.id);
            }
            select.push(")");
            let mut old: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for row in select.build().fetch_all(&mut *tx).await.map_err(db)? {
                let attributes: String = row.get(1);
                old.insert(row.get(0), parse_attributes(&attributes)?);
            }
            for customer in batch {
                let existing = old.get(&customer.id);
                let merged =
                    merge_attributes(existing.unwrap_or(&BTreeMap::new()), &customer.attributes);
                if existing == Some(&merged) {
                    continue;
                }
                let merged = Customer {
                    id: customer.id.clone(),
                    attributes: merged,
                };
                sqlx::query(
                    "INSERT INTO customers (org_id, customer_id, attributes, search) VALUES (?, ?, ?, ?)
                     ON CONFLICT (org_id, customer_id) DO UPDATE SET attributes = excluded.attributes, search = excluded.search",
                )
                .bind(org)
                .bind(&merged.id)
                .bind(serde_json::to_string(&merged.attributes).map_err(db)?)
                .bind(search_text(&merged))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                old.insert(merged.id.clone(), merged.attributes);
                changed.insert(&customer.id);
            }
        }
        if !changed.is_empty() {
            bump_data_version(&mut tx, org).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed.len() as u64)
    }

    async fn import_lines(&self, org: OrgId, import: &LineImport) -> StoreResult<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let mut changed = 0;
        for batch in import.lines.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO lines (org_id, customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date) ",
            );
            insert.push_values(batch, |mut row, l| {
                row.push_bind(org)
                    .push_bind(&l.customer_id)
                    .push_bind(&l.order_id)
                    .push_bind(l.line)
                    .push_bind(l.date.to_string())
                    .push_bind(l.amount.raw())
                    .push_bind(l.margin.map(|m| m.raw()))
                    .push_bind(&l.agency)
                    .push_bind(&l.brand)
                    .push_bind(&l.category)
                    .push_bind(&l.status)
                    .push_bind(l.due_date.map(|d| d.to_string()));
            });
            insert.push(
                " ON CONFLICT (org_id, customer_id, order_id, line) DO UPDATE SET
                  date = excluded.date, amount = excluded.amount, margin = excluded.margin,
                  agency = excluded.agency, brand = excluded.brand, category = excluded.category,
                  status = excluded.status, due_date = excluded.due_date
                  WHERE (lines.date, lines.amount, lines.margin, lines.agency, lines.brand, lines.category, lines.status, lines.due_date)
                  IS NOT (excluded.date, excluded.amount, excluded.margin, excluded.agency, excluded.brand, excluded.category, excluded.status, excluded.due_date)",
            );
            changed += insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            let mut customers =
                QueryBuilder::<Sqlite>::new("INSERT INTO customers (org_id, customer_id, search) ");
            let ids: HashSet<&str> = batch.iter().map(|l| l.customer_id.as_str()).collect();
            customers.push_values(ids, |mut row, id| {
                row.push_bind(org)
                    .push_bind(id)
                    .push_bind(search_text(&Customer {
                        id: id.to_owned(),
                        attributes: BTreeMap::new(),
                    }));
            });
            customers.push(" ON CONFLICT (org_id, customer_id) DO NOTHING");
            customers.build().execute(&mut *tx).await.map_err(db)?;
        }
        if import.whole_orders {
            sqlx::query("CREATE TEMP TABLE IF NOT EXISTS import_orders (customer_id TEXT NOT NULL, order_id TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (customer_id, order_id))")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query("DELETE FROM import_orders")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let orders = order_sizes(&import.lines);
            for batch in orders.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO import_orders (customer_id, order_id, n) ",
                );
                insert.push_values(batch, |mut row, (customer, order, n)| {
                    row.push_bind(*customer).push_bind(*order).push_bind(*n);
                });
                insert.build().execute(&mut *tx).await.map_err(db)?;
            }
            changed += sqlx::query(
                "DELETE FROM lines WHERE org_id = ? AND EXISTS (SELECT 1 FROM import_orders o
                 WHERE o.customer_id = lines.customer_id AND o.order_id = lines.order_id AND lines.line > o.n)",
            )
            .bind(org)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        }
        if changed > 0 {
            bump_data_version(&mut tx, org).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed)
    }

    async fn customers(&self, org: OrgId, query: &CustomerQuery) -> StoreResult<Vec<Customer>> {
        let mut select = QueryBuilder::<Sqlite>::new(
            "SELECT c.customer_id, c.attributes FROM customers c WHERE c.org_id = ",
        );
        select.push_bind(org);
        if let Some(after) = &query.after {
            select.push(" AND c.customer_id > ").push_bind(after);
        }
        if let Some(q) = &query.search {
            select
                .push(" AND instr(c.search, ")
                .push_bind(q)
                .push(") > 0");
        }
        if let Some((type_name, segment)) = &query.segment {
            select
                .push(" AND EXISTS (SELECT 1 FROM result_rows r INDEXED BY result_rows_by_customer WHERE r.org_id = c.org_id AND r.customer_id = c.customer_id AND r.type_name = ")
                .push_bind(type_name);
            if let Some(segment) = segment {
                select.push(" AND r.segment = ").push_bind(segment);
            }
            select.push(")");
        }
        select
            .push(" ORDER BY c.customer_id LIMIT ")
            .push_bind(i64::from(query.limit));
        select
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                Ok(Customer {
                    id: row.get(0),
                    attributes: parse_attributes(row.get(1))?,
                })
            })
            .collect()
    }

    async fn attribute_names(&self, org: OrgId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT a.key FROM customers c, json_each(c.attributes) a WHERE c.org_id = ? ORDER BY a.key",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(db)
    }

    async fn customer(&self, org: OrgId, id: &str) -> StoreResult<Option<Customer>> {
        sqlx::query(
            "SELECT customer_id, attributes FROM customers WHERE org_id = ? AND customer_id = ?",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?
        .map(|row| {
            Ok(Customer {
                id: row.get(0),
                attributes: parse_attributes(row.get(1))?,
            })
        })
        .transpose()
    }

    // `INDEXED BY`: without statistics SQLite took the primary key
    // (org_id, type_name, ...) to avoid a sort, scanning every row of the
    // organisation (15 ms a lookup at 150,000 rows).
    async fn customer_detail(&self, org: OrgId, id: &str) -> StoreResult<Option<CustomerDetail>> {
        let mut tx = self.read.begin().await.map_err(db)?;
        let Some(row) = sqlx::query(
            "SELECT c.attributes, o.config_version FROM customers c JOIN orgs o ON o.id = c.org_id
             WHERE c.org_id = ? AND c.customer_id = ?",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let results = sqlx::query(
            "SELECT type_name, customer_id, segment, source, auto_segment, manual_segment, figures, auto_source
             FROM result_rows INDEXED BY result_rows_by_customer
             WHERE org_id = ? AND customer_id = ? ORDER BY type_name, segment",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .iter()
        .map(rows::result_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let manual = sqlx::query_as(
            "SELECT type_name, segment FROM manual_segments WHERE org_id = ? AND customer_id = ?
             ORDER BY type_name, segment",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let as_of = sqlx::query_as::<_, (String, String)>(
            "SELECT t.type_name, r.as_of FROM type_results t JOIN runs r ON r.id = t.run_id
             WHERE t.org_id = ? ORDER BY t.type_name",
        )
        .bind(org)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(name, as_of)| Ok((name, rows::date(&as_of)?)))
        .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await.map_err(db)?;
        Ok(Some(CustomerDetail {
            customer: Customer {
                id: id.to_owned(),
                attributes: parse_attributes(row.get(0))?,
            },
            results,
            manual,
            as_of,
            config_version: row.get(1),
        }))
    }

    async fn customer_lines(&self, org: OrgId, id: &str) -> StoreResult<Vec<StoredLine>> {
        sqlx::query(
            "SELECT customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date
             FROM lines WHERE org_id = ? AND customer_id = ? ORDER BY order_id, line",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(db)?
        .iter()
        .map(rows::line_from_row)
        .collect()
    }

    async fn definitions(&self, org: OrgId) -> StoreResult<Definitions> {
        let mut tx = self.read.begin().await.map_err(db)?;
        let (settings, config_version): (String, i64) =
            sqlx::query_as("SELECT settings, config_version FROM orgs WHERE id = ?")
                .bind(org)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        let types = types_in(&mut tx, org).await?;
        tx.commit().await.map_err(db)?;
        Ok(Definitions {
            config_version,
            settings: parse_settings(&settings)?,
            types,
        })
    }

    async fn snapshot(
        &self,
        org: OrgId,
        batch_lines: usize,
        head: oneshot::Sender<SnapshotHead>,
        lines: mpsc::Sender<LineBatch>,
    ) -> StoreResult<()> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || bulk::snapshot(&path, org, batch_lines, head, lines))
            .await
            .map_err(db)?
    }

    async fn types(&self, org: OrgId) -> StoreResult<Vec<TypeRecord>> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        types_in(&mut conn, org).await
    }

    async fn put_type(&self, org: OrgId, put: &PutType) -> StoreResult<(TypeRecord, Change)> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let definition = serde_json::to_string(&put.definition).map_err(db)?;
        let existing = sqlx::query_as::<_, (String, i64, bool)>(
            "SELECT definition, version, is_default FROM segment_types WHERE org_id = ? AND name = ?",
        )
        .bind(org)
        .bind(&put.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if put.is_default {
            sqlx::query("UPDATE segment_types SET is_default = 0 WHERE org_id = ? AND name <> ?")
                .bind(org)
                .bind(&put.name)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let change = match &existing {
            None => {
                sqlx::query(
                    "INSERT INTO segment_types (org_id, name, position, definition, version, is_default, updated_at)
                     VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM segment_types WHERE org_id = ?), ?, 1, ?, ?)",
                )
                .bind(org)
                .bind(&put.name)
                .bind(org)
                .bind(&definition)
                .bind(put.is_default)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                audit(
                    &mut tx,
                    org,
                    &put.name,
                    TypeAction::Created,
                    &put.actor,
                    None,
                    Some(&put.definition),
                )
                .await?;
                Change::Created
            }
            Some((old, _, old_default)) => {
                let old: serde_json::Value = serde_json::from_str(old)
                    .map_err(|e| StoreError::Corrupt(format!("type definition: {e}")))?;
                if old != put.definition {
                    sqlx::query(
                        "UPDATE segment_types SET definition = ?, version = version + 1, is_default = ?, updated_at = ? WHERE org_id = ? AND name = ?",
                    )
                    .bind(&definition)
                    .bind(put.is_default)
                    .bind(now())
                    .bind(org)
                    .bind(&put.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    audit(
                        &mut tx,
                        org,
                        &put.name,
                        TypeAction::Updated,
                        &put.actor,
                        Some(&old),
                        Some(&put.definition),
                    )
                    .await?;
                    Change::Updated
                } else if *old_default != put.is_default {
                    sqlx::query(
                        "UPDATE segment_types SET is_default = ? WHERE org_id = ? AND name = ?",
                    )
                    .bind(put.is_default)
                    .bind(org)
                    .bind(&put.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    Change::Updated
                } else {
                    Change::Unchanged
                }
            }
        };
        tx.commit().await.map_err(db)?;
        let record = self
            .types(org)
            .await?
            .into_iter()
            .find(|t| t.name == put.name)
            .ok_or_else(|| StoreError::Corrupt(format!("type '{}' vanished", put.name)))?;
        Ok((record, change))
    }

    async fn rename_type(&self, org: OrgId, rename: &RenameType) -> StoreResult<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM segment_types WHERE org_id = ? AND name = ?)",
        )
        .bind(org)
        .bind(&rename.to)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if taken {
            return Err(StoreError::Conflict(format!(
                "a type named '{}' already exists",
                rename.to
            )));
        }
        let mut before = HashMap::new();
        for name in std::iter::once(&rename.from).chain(rename.rewritten.iter().map(|(n, _)| n)) {
            before.insert(name.as_str(), definition_of(&mut tx, org, name).await?);
        }
        let updated = sqlx::query(
            "UPDATE segment_types SET name = ?, definition = ?, version = version + 1, updated_at = ? WHERE org_id = ? AND name = ?",
        )
        .bind(&rename.to)
        .bind(serde_json::to_string(&rename.definition).map_err(db)?)
        .bind(now())
        .bind(org)
        .bind(&rename.from)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Conflict(format!(
                "no type named '{}'",
                rename.from
            )));
        }
        for table in [
            "manual_segments",
            "type_results",
            "result_rows",
            "history",
            "type_changes",
            "list_entries",
        ] {
            sqlx::query(&format!(
                "UPDATE {table} SET type_name = ? WHERE org_id = ? AND type_name = ?"
            ))
            .bind(&rename.to)
            .bind(org)
            .bind(&rename.from)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for (name, definition) in &rename.rewritten {
            sqlx::query(
                "UPDATE segment_types SET definition = ?, version = version + 1, updated_at = ? WHERE org_id = ? AND name = ?",
            )
            .bind(serde_json::to_string(definition).map_err(db)?)
            .bind(now())
            .bind(org)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let renamed = std::iter::once((
            &rename.to,
            &rename.from,
            &rename.definition,
            TypeAction::Renamed,
        ));
        let rewritten = rename
            .rewritten
            .iter()
            .map(|(name, definition)| (name, name, definition, TypeAction::Updated));
        for (name, was, definition, action) in renamed.chain(rewritten) {
            let old = before.get(was.as_str()).cloned().flatten();
            audit(
                &mut tx,
                org,
                name,
                action,
                &rename.actor,
                old.as_ref(),
                Some(definition),
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn list_entries(&self, org: OrgId) -> StoreResult<Vec<ListEntry>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT type_name, segment, list, entry FROM list_entries WHERE org_id = ?
             ORDER BY type_name, segment, list, entry",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(type_name, segment, list, entry)| ListEntry {
                type_name,
                segment,
                exclude: list == ListEntry::EXCLUDE,
                entry,
            })
            .collect())
    }

    async fn change_list(
        &self,
        org: OrgId,
        type_name: &str,
        segment: &str,
        change: &ListChange,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let moves = change
            .include
            .iter()
            .map(|e| (e, Some(ListEntry::INCLUDE), ListEntry::EXCLUDE))
            .chain(
                change
                    .exclude
                    .iter()
                    .map(|e| (e, Some(ListEntry::EXCLUDE), ListEntry::INCLUDE)),
            )
            .chain(change.unlist.iter().map(|e| (e, None, ListEntry::INCLUDE)));
        for (entry, onto, off) in moves {
            sqlx::query(
                "DELETE FROM list_entries WHERE org_id = ? AND type_name = ? AND segment = ? AND list = ? AND entry = ?",
            )
            .bind(org)
            .bind(type_name)
            .bind(segment)
            .bind(off)
            .bind(entry)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if let Some(onto) = onto {
                sqlx::query(
                    "INSERT INTO list_entries (org_id, type_name, segment, list, entry) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT DO NOTHING",
                )
                .bind(org)
                .bind(type_name)
                .bind(segment)
                .bind(onto)
                .bind(entry)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn customers_by_email(&self, org: OrgId, email: &str) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT customer_id FROM customers WHERE org_id = ?
             AND lower(trim(json_extract(attributes, '$.email'))) = lower(trim(?)) ORDER BY customer_id",
        )
        .bind(org)
        .bind(email)
        .fetch_all(&self.read)
        .await
        .map_err(db)
    }

    async fn type_changes(&self, org: OrgId, name: &str) -> StoreResult<Vec<TypeChange>> {
        sqlx::query(
            "SELECT id, at, type_name, action, actor, before, after FROM type_changes
             WHERE org_id = ? AND type_name = ? ORDER BY id",
        )
        .bind(org)
        .bind(name)
        .fetch_all(&self.read)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            let action: &str = row.get(3);
            let json = |i: usize| -> StoreResult<Option<serde_json::Value>> {
                row.get::<Option<&str>, _>(i)
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("type change: {e}")))
            };
            Ok(TypeChange {
                id: row.get(0),
                at: row.get(1),
                type_name: row.get(2),
                action: TypeAction::from_name(action).ok_or_else(|| {
                    StoreError::Corrupt(format!("type change action: {action:?}"))
                })?,
                actor: row.get(4),
                before: json(5)?,
                after: json(6)?,
            })
        })
        .collect()
    }

    async fn delete_type(&self, org: OrgId, name: &str, actor: &str) -> StoreResult<bool> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let old = definition_of(&mut tx, org, name).await?;
        let deleted = sqlx::query("DELETE FROM segment_types WHERE org_id = ? AND name = ?")
            .bind(org)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected()
            > 0;
        for table in [
            "manual_segments",
            "type_results",
            "result_rows",
            "list_entries",
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE org_id = ? AND type_name = ?"
            ))
            .bind(org)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        if deleted {
            audit(
                &mut tx,
                org,
                name,
                TypeAction::Deleted,
                actor,
                old.as_ref(),
                None,
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn set_manual(
        &self,
        org: OrgId,
        type_name: &str,
        customer_id: &str,
        segments: &[String],
        change: ManualChange<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, Some(customer_id)).await?;
        sqlx::query(
            "DELETE FROM manual_segments WHERE org_id = ? AND type_name = ? AND customer_id = ?",
        )
        .bind(org)
        .bind(type_name)
        .bind(customer_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for segment in segments {
            sqlx::query(
                "INSERT INTO manual_segments (org_id, type_name, customer_id, segment) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(org)
            .bind(type_name)
            .bind(customer_id)
            .bind(segment)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let (_, after) = manual_scope(&mut tx, org, type_name, Some(customer_id)).await?;
        restate(
            &mut tx,
            org,
            type_name,
            change.one_per_account,
            [customer_id],
        )
        .await?;
        let changes = manual_changes(change.one_per_account, &rows, &before, &after);
        record(
            &mut tx,
            org,
            type_name,
            &changes,
            Cause::Manual,
            None,
            change.actor,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn set_notify(&self, org: OrgId, type_name: &str, notify: bool) -> StoreResult<bool> {
        Ok(
            sqlx::query("UPDATE segment_types SET notify = ? WHERE org_id = ? AND name = ?")
                .bind(notify)
                .bind(org)
                .bind(type_name)
                .execute(&self.write)
                .await
                .map_err(db)?
                .rows_affected()
                > 0,
        )
    }

    async fn set_recompute(
        &self,
        org: OrgId,
        type_name: &str,
        recompute: Recompute,
    ) -> StoreResult<bool> {
        Ok(
            sqlx::query("UPDATE segment_types SET recompute = ? WHERE org_id = ? AND name = ?")
                .bind(recompute.as_str())
                .bind(org)
                .bind(type_name)
                .execute(&self.write)
                .await
                .map_err(db)?
                .rows_affected()
                > 0,
        )
    }

    async fn add_notification(
        &self,
        org: OrgId,
        run_id: i64,
        status: RunStatus,
        body: &serde_json::Value,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO notifications (org_id, at, run_id, status, body) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(org)
        .bind(now())
        .bind(run_id)
        .bind(status.as_str())
        .bind(body.to_string())
        .fetch_one(&self.write)
        .await
        .map_err(db)
    }

    async fn notifications(
        &self,
        org: OrgId,
        query: &NotificationQuery,
    ) -> StoreResult<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT n.id, n.at, n.run_id, n.status, n.body, r.token_id IS NOT NULL
             FROM notifications n LEFT JOIN notification_reads r
               ON r.org_id = n.org_id AND r.notification_id = n.id AND r.token_id = ?
             WHERE n.org_id = ? AND n.id < ? AND (? = 0 OR r.token_id IS NULL)
             ORDER BY n.id DESC LIMIT ?",
        )
        .bind(query.token)
        .bind(org)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(query.unread_only)
        .bind(i64::from(query.limit))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(rows::notification_from_row).collect()
    }

    async fn mark_read(&self, org: OrgId, id: i64, token: i64) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO notification_reads (org_id, notification_id, token_id)
             SELECT org_id, id, ? FROM notifications WHERE org_id = ? AND id = ?
             ON CONFLICT DO NOTHING",
        )
        .bind(token)
        .bind(org)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db)?;
        if inserted.rows_affected() > 0 {
            return Ok(true);
        }
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM notifications WHERE org_id = ? AND id = ?")
                .bind(org)
                .bind(id)
                .fetch_optional(&self.read)
                .await
                .map_err(db)?;
        Ok(exists.is_some())
    }

    async fn replace_customer_rows(
        &self,
        org: OrgId,
        type_name: &str,
        customer_id: &str,
        rows: &[ResultRow],
        change: ManualChange<'_>,
        cause: Cause,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let (old, manual) = customer_rows(&mut tx, org, type_name, customer_id).await?;
        let new = restated_rows(
            (type_name, customer_id),
            change.one_per_account,
            rows,
            &manual,
        );
        write_customer_rows(&mut tx, org, type_name, customer_id, &new).await?;
        let changes = row_changes(change.one_per_account, customer_id, &old, &new, &manual);
        record(&mut tx, org, type_name, &changes, cause, None, change.actor).await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn erase_customer(
        &self,
        org: OrgId,
        id: &str,
        actor: &str,
        groups: &[String],
    ) -> StoreResult<Option<Erased>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let rows: Vec<HeldRow> = sqlx::query_as(
            "SELECT type_name, source, segment, auto_segment, auto_source FROM result_rows WHERE org_id = ? AND customer_id = ?",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let manual: Vec<(String, String)> = sqlx::query_as(
            "SELECT type_name, segment FROM manual_segments WHERE org_id = ? AND customer_id = ?",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let tombstone = tombstone();
        sqlx::query("UPDATE history SET customer_id = ? WHERE org_id = ? AND customer_id = ?")
            .bind(&tombstone)
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for (type_name, changes) in erasure_changes(&tombstone, &rows, &manual, groups) {
            record(
                &mut tx,
                org,
                type_name,
                &changes,
                Cause::Deletion,
                None,
                actor,
            )
            .await?;
        }
        let mut removed = [0u64; 4];
        for (count, table) in
            removed
                .iter_mut()
                .zip(["customers", "lines", "result_rows", "manual_segments"])
        {
            *count = sqlx::query(&format!(
                "DELETE FROM {table} WHERE org_id = ? AND customer_id = ?"
            ))
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        }
        if removed == [0; 4] {
            return Ok(None);
        }
        sqlx::query("DELETE FROM list_entries WHERE org_id = ? AND entry = ?")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM run_rows WHERE org_id = ? AND customer_id = ?")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        bump_data_version(&mut tx, org).await?;
        tx.commit().await.map_err(db)?;
        let [_, lines, results, manual] = removed;
        Ok(Some(Erased {
            lines,
            results,
            manual,
        }))
    }

    async fn clear_manual(
        &self,
        org: OrgId,
        type_name: &str,
        change: ManualChange<'_>,
    ) -> StoreResult<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, None).await?;
        let cleared = sqlx::query("DELETE FROM manual_segments WHERE org_id = ? AND type_name = ?")
            .bind(org)
            .bind(type_name)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        restate(
            &mut tx,
            org,
            type_name,
            change.one_per_account,
            before.iter().map(|(c, _)| c.as_str()),
        )
        .await?;
        let changes = manual_changes(change.one_per_account, &rows, &before, &[]);
        record(
            &mut tx,
            org,
            type_name,
            &changes,
            Cause::Manual,
            None,
            change.actor,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(cleared)
    }

    async fn drop_manual_outside(
        &self,
        org: OrgId,
        type_name: &str,
        segments: &[String],
        change: ManualChange<'_>,
    ) -> StoreResult<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, None).await?;
        let mut delete = QueryBuilder::<Sqlite>::new("DELETE FROM manual_segments WHERE org_id = ");
        delete
            .push_bind(org)
            .push(" AND type_name = ")
            .push_bind(type_name);
        if !segments.is_empty() {
            delete.push(" AND segment NOT IN (");
            let mut list = delete.separated(", ");
            for s in segments {
                list.push_bind(s);
            }
            delete.push(")");
        }
        let dropped = delete
            .build()
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        let mut lists = QueryBuilder::<Sqlite>::new("DELETE FROM list_entries WHERE org_id = ");
        lists
            .push_bind(org)
            .push(" AND type_name = ")
            .push_bind(type_name);
        if !segments.is_empty() {
            lists.push(" AND segment NOT IN (");
            let mut list = lists.separated(", ");
            for s in segments {
                list.push_bind(s);
            }
            lists.push(")");
        }
        lists.build().execute(&mut *tx).await.map_err(db)?;
        let (_, after) = manual_scope(&mut tx, org, type_name, None).await?;
        restate(
            &mut tx,
            org,
            type_name,
            change.one_per_account,
            before.iter().map(|(c, _)| c.as_str()),
        )
        .await?;
        let changes = manual_changes(change.one_per_account, &rows, &before, &after);
        record(
            &mut tx,
            org,
            type_name,
            &changes,
            Cause::Manual,
            None,
            change.actor,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(dropped)
    }

    async fn history(&self, org: OrgId, query: &HistoryQuery) -> StoreResult<Vec<HistoryEntry>> {
        let mut select = QueryBuilder::<Sqlite>::new(
            "SELECT id, at, type_name, customer_id, old_segment, new_segment, cause, run_id, actor FROM history WHERE org_id = ",
        );
        select.push_bind(org);
        if let Some(customer) = &query.customer {
            select.push(" AND customer_id = ").push_bind(customer);
        }
        if let Some(type_name) = &query.segment_type {
            select.push(" AND type_name = ").push_bind(type_name);
        }
        if let Some((type_name, segment)) = &query.segment {
            select
                .push(" AND type_name = ")
                .push_bind(type_name)
                .push(" AND (old_segment = ")
                .push_bind(segment)
                .push(" OR new_segment = ")
                .push_bind(segment)
                .push(")");
        }
        if let Some(from) = query.from {
            select.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = query.to {
            select.push(" AND at < ").push_bind(to);
        }
        if let Some(after) = query.after {
            select.push(" AND id > ").push_bind(after);
        }
        select
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(query.limit));
        select
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(db)?
            .iter()
            .map(rows::history_from_row)
            .collect()
    }

    async fn create_run(&self, org: OrgId, new: &NewRun) -> StoreResult<(Run, bool)> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let active = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ? AND status IN ('queued', 'running') ORDER BY id"
        ))
        .bind(org)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .iter()
        .map(run_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        if let Some(run) = active_overlap(&active, new)? {
            return Ok((run, false));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (org_id, types, as_of, status, created_at, actor, kind, periods) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING id",
        )
        .bind(org)
        .bind(serde_json::to_string(&new.types).map_err(db)?)
        .bind(new.as_of.to_string())
        .bind(now())
        .bind(&new.actor)
        .bind(new.kind.name())
        .bind(periods_column(&new.kind))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let run = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let run = run_from_row(&run)?;
        tx.commit().await.map_err(db)?;
        Ok((run, true))
    }

    async fn succeeded_runs(&self, org: OrgId, limit: u32) -> StoreResult<Vec<Run>> {
        let mut runs = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT ?"
        ))
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db)?
        .iter()
        .map(run_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        runs.reverse();
        Ok(runs)
    }

    async fn run(&self, org: OrgId, id: i64) -> StoreResult<Option<Run>> {
        sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ? AND id = ?"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?
        .map(|r| run_from_row(&r))
        .transpose()
    }

    async fn cancel_run(&self, org: OrgId, id: i64) -> StoreResult<bool> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let queued = sqlx::query(
            "UPDATE runs SET status = 'cancelled', cancel_requested = 1, finished_at = ? WHERE org_id = ? AND id = ? AND status = 'queued'",
        )
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        let running = sqlx::query(
            "UPDATE runs SET cancel_requested = 1 WHERE org_id = ? AND id = ? AND status = 'running'",
        )
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(queued + running > 0)
    }

    async fn claim_run(&self, owner: &str, until: Timestamp) -> StoreResult<Option<Run>> {
        sqlx::query(&format!(
            "UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, started_at = ?
             WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1)
             RETURNING {RUN_COLUMNS}"
        ))
        .bind(owner)
        .bind(until)
        .bind(now())
        .fetch_optional(&self.write)
        .await
        .map_err(db)?
        .map(|r| run_from_row(&r))
        .transpose()
    }

    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        until: Timestamp,
    ) -> StoreResult<Option<bool>> {
        sqlx::query_scalar(
            "UPDATE runs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING cancel_requested",
        )
        .bind(until)
        .bind(id)
        .bind(owner)
        .fetch_optional(&self.write)
        .await
        .map_err(db)
    }

    async fn set_progress(&self, id: i64, progress: f64) -> StoreResult<()> {
        sqlx::query("UPDATE runs SET progress = ? WHERE id = ?")
            .bind(progress)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn finish_run(&self, id: i64, owner: &str, results: RunResults) -> StoreResult<()> {
        // Holding the writer connection keeps this process's other writes
        // out while the results are written on a connection of their own.
        let _writer = self.write.acquire().await.map_err(db)?;
        let path = self.path.clone();
        let owner = owner.to_owned();
        tokio::task::spawn_blocking(move || bulk::finish_run(&path, id, &owner, results))
            .await
            .map_err(db)?
    }

    async fn finish_one_off(
        &self,
        id: i64,
        owner: &str,
        results: OneOffResults,
    ) -> StoreResult<()> {
        let _writer = self.write.acquire().await.map_err(db)?;
        let path = self.path.clone();
        let owner = owner.to_owned();
        tokio::task::spawn_blocking(move || bulk::finish_one_off(&path, id, &owner, results))
            .await
            .map_err(db)?
    }

    async fn run_rows(&self, org: OrgId, query: &RunRowsQuery) -> StoreResult<Vec<(i64, RunRow)>> {
        let mut select = QueryBuilder::<Sqlite>::new(
            "SELECT row, customer_id, key, line FROM run_rows WHERE org_id = ",
        );
        select
            .push_bind(org)
            .push(" AND run_id = ")
            .push_bind(query.run)
            .push(" AND row > ")
            .push_bind(query.after);
        if let Some(key) = &query.key {
            select.push(" AND key = ").push_bind(key);
        }
        select
            .push(" ORDER BY row LIMIT ")
            .push_bind(i64::from(query.limit));
        Ok(select
            .build_query_as::<(i64, String, String, String)>()
            .fetch_all(&self.read)
            .await
            .map_err(db)?
            .into_iter()
            .map(|(number, customer_id, key, line)| {
                (
                    number,
                    RunRow {
                        customer_id,
                        key,
                        line,
                    },
                )
            })
            .collect())
    }

    async fn end_run(&self, id: i64, status: RunStatus, error: Option<&str>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE runs SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status IN ('queued', 'running')",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now())
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn fail_expired_runs(&self, now: Timestamp, alive: &str) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE runs SET status = 'failed', error = 'interrupted: the process running it stopped', finished_at = ?, lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_until < ? AND lease_owner <> ?",
        )
        .bind(now)
        .bind(now)
        .bind(alive)
        .execute(&self.write)
        .await
        .map_err(db)?
        .rows_affected())
    }

    async fn latest_results(&self, org: OrgId) -> StoreResult<Vec<TypeState>> {
        Ok(sqlx::query_as::<_, (String, i64, i64, i64)>(
            "SELECT type_name, run_id, version, data_version FROM type_results WHERE org_id = ? ORDER BY type_name",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(type_name, run_id, version, data_version)| TypeState {
            type_name,
            run_id,
            version,
            data_version,
        })
        .collect())
    }

    async fn members(&self, org: OrgId, query: &MembersQuery) -> StoreResult<Vec<Member>> {
        let mut select = QueryBuilder::<Sqlite>::new(
            "SELECT r.type_name, r.customer_id, r.segment, r.source, r.auto_segment, r.manual_segment, r.figures, r.auto_source, c.attributes
             FROM result_rows r LEFT JOIN customers c ON c.org_id = r.org_id AND c.customer_id = r.customer_id
             WHERE r.org_id = ",
        );
        select
            .push_bind(org)
            .push(" AND r.type_name = ")
            .push_bind(&query.type_name)
            .push(" AND r.segment = ")
            .push_bind(&query.segment);
        if let Some(after) = &query.after {
            select.push(" AND r.customer_id > ").push_bind(after);
        }
        select
            .push(" ORDER BY r.customer_id LIMIT ")
            .push_bind(i64::from(query.limit));
        select
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                Ok(Member {
                    row: rows::result_from_row(row)?,
                    attributes: row
                        .get::<Option<&str>, _>(8)
                        .map(parse_attributes)
                        .transpose()?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn assignments(&self, org: OrgId, type_name: &str) -> StoreResult<Vec<Assignment>> {
        Ok(
            sqlx::query_as::<_, (String, String, String, Option<String>, Option<String>)>(
                "SELECT customer_id, segment, source, auto_segment, auto_source FROM result_rows
             WHERE org_id = ? AND type_name = ? ORDER BY customer_id, segment",
            )
            .bind(org)
            .bind(type_name)
            .fetch_all(&self.read)
            .await
            .map_err(db)?
            .into_iter()
            .map(
                |(customer_id, segment, source, auto_segment, auto_source)| Assignment {
                    customer_id,
                    segment,
                    source,
                    auto_segment,
                    auto_source,
                },
            )
            .collect(),
        )
    }

    async fn membership_version(&self, org: OrgId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM history WHERE org_id = ?")
            .bind(org)
            .fetch_one(&self.read)
            .await
            .map_err(db)
    }

    async fn data_version(&self, org: OrgId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT data_version FROM orgs WHERE id = ?")
            .bind(org)
            .fetch_one(&self.read)
            .await
            .map_err(db)
    }
}

fn parse_settings(json: &str) -> StoreResult<SettingsInput> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("settings: {e}")))
}

/// An organisation's types, in the order they were created.
async fn types_in(conn: &mut sqlx::SqliteConnection, org: OrgId) -> StoreResult<Vec<TypeRecord>> {
    sqlx::query(
        "SELECT name, definition, version, is_default, updated_at, notify, recompute FROM segment_types WHERE org_id = ? ORDER BY position",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?
    .iter()
    .map(|row| {
        Ok(TypeRecord {
            name: row.get(0),
            definition: serde_json::from_str(row.get(1))
                .map_err(|e| StoreError::Corrupt(format!("type definition: {e}")))?,
            version: row.get(2),
            is_default: row.get(3),
            notify: row.get(5),
            recompute: recompute_of(row.get(6))?,
            updated_at: row.get(4),
        })
    })
    .collect()
}

/// A type's stored definition, if it exists.
async fn definition_of(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    name: &str,
) -> StoreResult<Option<serde_json::Value>> {
    sqlx::query_scalar::<_, String>(
        "SELECT definition FROM segment_types WHERE org_id = ? AND name = ?",
    )
    .bind(org)
    .bind(name)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("type definition: {e}")))
    })
    .transpose()
}

/// Records a change of a type's definition.
async fn audit(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    name: &str,
    action: TypeAction,
    actor: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> StoreResult<()> {
    let text = |v: Option<&serde_json::Value>| v.map(serde_json::Value::to_string);
    sqlx::query(
        "INSERT INTO type_changes (org_id, at, type_name, action, actor, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(org)
    .bind(now())
    .bind(name)
    .bind(action.as_str())
    .bind(actor)
    .bind(text(before))
    .bind(text(after))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// A type's rows and manual segments `(customer, segment)` for one
/// customer, or for every customer with a manual segment in it: what a
/// change of manual segments can move.
async fn manual_scope(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    type_name: &str,
    customer: Option<&str>,
) -> StoreResult<(Vec<HeldRow>, Vec<(String, String)>)> {
    let (rows_sql, manual_sql) = match customer {
        Some(_) => (
            "SELECT customer_id, source, segment, auto_segment, auto_source FROM result_rows
             WHERE org_id = ?1 AND type_name = ?2 AND customer_id = ?3",
            "SELECT customer_id, segment FROM manual_segments
             WHERE org_id = ?1 AND type_name = ?2 AND customer_id = ?3",
        ),
        None => (
            "SELECT customer_id, source, segment, auto_segment, auto_source FROM result_rows
             WHERE org_id = ?1 AND type_name = ?2 AND customer_id IN
                 (SELECT customer_id FROM manual_segments WHERE org_id = ?1 AND type_name = ?2)",
            "SELECT customer_id, segment FROM manual_segments WHERE org_id = ?1 AND type_name = ?2",
        ),
    };
    let rows = sqlx::query_as(rows_sql)
        .bind(org)
        .bind(type_name)
        .bind(customer)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    let manual = sqlx::query_as(manual_sql)
        .bind(org)
        .bind(type_name)
        .bind(customer)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    Ok((rows, manual))
}

/// A customer's rows of a type and its manual segments there.
async fn customer_rows(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    type_name: &str,
    customer: &str,
) -> StoreResult<(Vec<ResultRow>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT type_name, customer_id, segment, source, auto_segment, manual_segment, figures, auto_source
         FROM result_rows WHERE org_id = ? AND type_name = ? AND customer_id = ? ORDER BY segment",
    )
    .bind(org)
    .bind(type_name)
    .bind(customer)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?
    .iter()
    .map(rows::result_from_row)
    .collect::<StoreResult<Vec<_>>>()?;
    let manual = sqlx::query_scalar(
        "SELECT segment FROM manual_segments WHERE org_id = ? AND type_name = ? AND customer_id = ? ORDER BY segment",
    )
    .bind(org)
    .bind(type_name)
    .bind(customer)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok((rows, manual))
}

/// Replaces a customer's rows of a type.
async fn write_customer_rows(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    type_name: &str,
    customer: &str,
    rows: &[ResultRow],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM result_rows WHERE org_id = ? AND type_name = ? AND customer_id = ?")
        .bind(org)
        .bind(type_name)
        .bind(customer)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    for row in rows {
        let figures = serde_json::to_string(&row.figures).map_err(StoreError::database)?;
        sqlx::query(
            "INSERT INTO result_rows (org_id, type_name, segment, customer_id, source, auto_segment, manual_segment, figures, auto_source)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(org)
        .bind(type_name)
        .bind(&row.segment)
        .bind(customer)
        .bind(&row.source)
        .bind(&row.auto_segment)
        .bind(&row.manual_segment)
        .bind(figures)
        .bind(&row.auto_source)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Brings the rows of these customers of a type in line with their manual
/// segments now: a change by hand takes effect at once.
async fn restate<'a>(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    type_name: &str,
    one_per_account: bool,
    customers: impl IntoIterator<Item = &'a str>,
) -> StoreResult<()> {
    let customers: std::collections::BTreeSet<&str> = customers.into_iter().collect();
    for customer in customers {
        let (rows, manual) = customer_rows(tx, org, type_name, customer).await?;
        let restated = restated_rows((type_name, customer), one_per_account, &rows, &manual);
        if restated != rows {
            write_customer_rows(tx, org, type_name, customer, &restated).await?;
        }
    }
    Ok(())
}

/// Writes history entries of one type, all at this moment.
async fn record(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    org: OrgId,
    type_name: &str,
    changes: &[SegmentMove<'_>],
    cause: Cause,
    run_id: Option<i64>,
    actor: &str,
) -> StoreResult<()> {
    let at = now();
    for (customer, old, new) in changes {
        sqlx::query(
            "INSERT INTO history (org_id, at, type_name, customer_id, old_segment, new_segment, cause, run_id, actor)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(org)
        .bind(at)
        .bind(type_name)
        .bind(customer)
        .bind(old)
        .bind(new)
        .bind(cause.as_str())
        .bind(run_id)
        .bind(actor)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn bump_data_version(tx: &mut sqlx::Transaction<'_, Sqlite>, org: OrgId) -> StoreResult<()> {
    sqlx::query("UPDATE orgs SET data_version = data_version + 1 WHERE id = ?")
        .bind(org)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}
