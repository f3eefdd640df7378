//! The server's storage in PostgreSQL (`strata serve --database
//! postgres://...`). Several server processes may share one database: runs
//! are claimed with `FOR UPDATE SKIP LOCKED` and held by a lease. Bulk
//! imports and snapshot reads go through `COPY`, not one row at a time.

mod copy;
mod rows;

use async_trait::async_trait;
use rows::{attributes, run_from_row, token_from_row, RUN_COLUMNS};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Row};
use std::collections::BTreeMap;
use std::time::Duration;
use strata_domain::config::input::SettingsInput;
use strata_domain::date::Date;
use strata_domain::money::Amount;
use strata_store::*;
use tokio::sync::{mpsc, oneshot};

static MIGRATOR: Migrator = sqlx::migrate!();

/// The store in a PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
}

pub(crate) fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::database(e)
}

impl PostgresStore {
    /// Connects to `url` and migrates the database; refuses a database
    /// migrated by a newer Strata.
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(db)?;
        match MIGRATOR.run(&pool).await {
            Ok(()) => {}
            Err(MigrateError::VersionMissing(found)) => {
                return Err(StoreError::TooNew {
                    found,
                    known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
                })
            }
            Err(e) => return Err(db(e)),
        }
        Ok(PostgresStore { pool })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn ensure_org(&self, name: &str) -> StoreResult<(Org, bool)> {
        let created = sqlx::query(
            "INSERT INTO orgs (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected()
            > 0;
        let id: i64 = sqlx::query_scalar("SELECT id FROM orgs WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
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
            "INSERT INTO tokens (org_id, role, label, hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.org)
        .bind(new.role.as_str())
        .bind(&new.label)
        .bind(&new.hash.0)
        .bind(created_at)
        .fetch_one(&self.pool)
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
        sqlx::query("SELECT id, org_id, role, label, created_at FROM tokens WHERE hash = $1")
            .bind(&hash.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| token_from_row(&r))
            .transpose()
    }

    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<Token>> {
        sqlx::query(
            "SELECT id, org_id, role, label, created_at FROM tokens WHERE org_id = $1 ORDER BY id",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn delete_token(&self, org: OrgId, id: i64) -> StoreResult<bool> {
        Ok(
            sqlx::query("DELETE FROM tokens WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(db)?
                .rows_affected()
                > 0,
        )
    }

    async fn settings(&self, org: OrgId) -> StoreResult<SettingsInput> {
        let json: serde_json::Value = sqlx::query_scalar("SELECT settings FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        parse_settings(json)
    }

    async fn set_settings(&self, org: OrgId, settings: &SettingsInput) -> StoreResult<()> {
        sqlx::query("UPDATE orgs SET settings = $1 WHERE id = $2")
            .bind(Json(settings))
            .bind(org)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn retention(&self, org: OrgId) -> StoreResult<Retention> {
        let (keep_runs, history_days): (i64, Option<i64>) =
            sqlx::query_as("SELECT keep_runs, history_days FROM orgs WHERE id = $1")
                .bind(org)
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        retention_of(keep_runs, history_days)
    }

    async fn set_retention(&self, org: OrgId, retention: &Retention) -> StoreResult<()> {
        sqlx::query("UPDATE orgs SET keep_runs = $1, history_days = $2 WHERE id = $3")
            .bind(i64::from(retention.keep_runs))
            .bind(retention.history_days.map(i64::from))
            .bind(org)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn prune(&self, org: OrgId, now: Timestamp) -> StoreResult<Pruned> {
        let retention = self.retention(org).await?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let runs: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, types::text FROM runs WHERE org_id = $1 AND kind <> $2 AND status = $3 AND NOT rows_pruned",
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
            let gone = sqlx::query("DELETE FROM run_rows WHERE org_id = $1 AND run_id = $2")
                .bind(org)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            sqlx::query("UPDATE runs SET rows_pruned = true WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            pruned.runs += u64::from(gone > 0);
        }
        if let Some(days) = retention.history_days {
            pruned.history = sqlx::query("DELETE FROM history WHERE org_id = $1 AND at < $2")
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        let ids: Vec<&str> = customers.iter().map(|c| c.id.as_str()).collect();
        let mut old: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for row in sqlx::query(
            "SELECT customer_id, attributes FROM customers WHERE org_id = $1 AND customer_id = ANY($2) FOR UPDATE",
        )
        .bind(org)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        {
            old.insert(row.get(0), attributes(&row, 1)?);
        }
        // By id: a customer listed twice is merged twice and written once.
        let mut changed: BTreeMap<&str, Customer> = BTreeMap::new();
        for customer in customers {
            let existing = old.get(&customer.id);
            let merged =
                merge_attributes(existing.unwrap_or(&BTreeMap::new()), &customer.attributes);
            if existing == Some(&merged) {
                continue;
            }
            old.insert(customer.id.clone(), merged.clone());
            changed.insert(
                &customer.id,
                Customer {
                    id: customer.id.clone(),
                    attributes: merged,
                },
            );
        }
        let changed: Vec<Customer> = changed.into_values().collect();
        if !changed.is_empty() {
            let ids: Vec<&str> = changed.iter().map(|c| c.id.as_str()).collect();
            let values: Vec<Json<&BTreeMap<String, String>>> =
                changed.iter().map(|c| Json(&c.attributes)).collect();
            let search: Vec<String> = changed.iter().map(search_text).collect();
            sqlx::query(
                "INSERT INTO customers (org_id, customer_id, attributes, search)
                 SELECT $1, * FROM UNNEST($2::text[], $3::jsonb[], $4::text[])
                 ON CONFLICT (org_id, customer_id) DO UPDATE SET attributes = excluded.attributes, search = excluded.search",
            )
            .bind(org)
            .bind(&ids)
            .bind(&values)
            .bind(&search)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            bump_data_version(&mut tx, org).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(changed.len() as u64)
    }

    async fn import_lines(&self, org: OrgId, import: &LineImport) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("CREATE TEMP TABLE import_lines (LIKE lines) ON COMMIT DROP")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        copy::lines_in(&mut tx, org, &import.lines).await?;
        let mut changed = sqlx::query(
            "INSERT INTO lines SELECT * FROM import_lines
             ON CONFLICT (org_id, customer_id, order_id, line) DO UPDATE SET
               date = excluded.date, amount = excluded.amount, margin = excluded.margin,
               agency = excluded.agency, brand = excluded.brand, category = excluded.category,
               status = excluded.status, due_date = excluded.due_date
             WHERE (lines.date, lines.amount, lines.margin, lines.agency, lines.brand, lines.category, lines.status, lines.due_date)
               IS DISTINCT FROM (excluded.date, excluded.amount, excluded.margin, excluded.agency, excluded.brand, excluded.category, excluded.status, excluded.due_date)",
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        let ids: std::collections::BTreeSet<&str> = import
            .lines
            .iter()
            .map(|l| l.customer_id.as_str())
            .collect();
        let search: Vec<String> = ids
            .iter()
            .map(|id| {
                search_text(&Customer {
                    id: (*id).to_owned(),
                    attributes: BTreeMap::new(),
                })
            })
            .collect();
        sqlx::query(
            "INSERT INTO customers (org_id, customer_id, search)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[])
             ON CONFLICT (org_id, customer_id) DO NOTHING",
        )
        .bind(org)
        .bind(ids.into_iter().collect::<Vec<_>>())
        .bind(&search)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if import.whole_orders {
            changed += sqlx::query(
                "DELETE FROM lines l USING (
                   SELECT customer_id, order_id, MAX(line) AS n FROM import_lines GROUP BY customer_id, order_id
                 ) o
                 WHERE l.org_id = $1 AND l.customer_id = o.customer_id AND l.order_id = o.order_id AND l.line > o.n",
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
        let mut select = QueryBuilder::<Postgres>::new(
            "SELECT c.customer_id, c.attributes FROM customers c WHERE c.org_id = ",
        );
        select.push_bind(org);
        if let Some(after) = &query.after {
            select.push(" AND c.customer_id > ").push_bind(after);
        }
        if let Some(q) = &query.search {
            select
                .push(" AND strpos(c.search, ")
                .push_bind(q)
                .push(") > 0");
        }
        if let Some((type_name, segment)) = &query.segment {
            select
                .push(" AND EXISTS (SELECT 1 FROM result_rows r WHERE r.org_id = c.org_id AND r.customer_id = c.customer_id AND r.type_name = ")
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
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                Ok(Customer {
                    id: row.get(0),
                    attributes: attributes(row, 1)?,
                })
            })
            .collect()
    }

    async fn attribute_names(&self, org: OrgId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT k COLLATE \"C\" FROM customers, jsonb_object_keys(attributes) k WHERE org_id = $1 ORDER BY 1",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn customer(&self, org: OrgId, id: &str) -> StoreResult<Option<Customer>> {
        sqlx::query(
            "SELECT customer_id, attributes FROM customers WHERE org_id = $1 AND customer_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|row| {
            Ok(Customer {
                id: row.get(0),
                attributes: attributes(&row, 1)?,
            })
        })
        .transpose()
    }

    async fn customer_detail(&self, org: OrgId, id: &str) -> StoreResult<Option<CustomerDetail>> {
        // One statement, so one round trip and one consistent view.
        let Some(row) = sqlx::query(
            "SELECT c.attributes, o.config_version,
                (SELECT COALESCE(jsonb_agg(jsonb_build_array(r.type_name, r.segment, r.source, r.auto_segment, r.manual_segment, r.figures, r.auto_source)
                                 ORDER BY r.type_name, r.segment), '[]')
                 FROM result_rows r WHERE r.org_id = c.org_id AND r.customer_id = c.customer_id),
                (SELECT COALESCE(jsonb_agg(jsonb_build_array(m.type_name, m.segment) ORDER BY m.type_name, m.segment), '[]')
                 FROM manual_segments m WHERE m.org_id = c.org_id AND m.customer_id = c.customer_id),
                (SELECT COALESCE(jsonb_agg(jsonb_build_array(t.type_name, r.as_of::text) ORDER BY t.type_name), '[]')
                 FROM type_results t JOIN runs r ON r.id = t.run_id WHERE t.org_id = c.org_id)
             FROM customers c JOIN orgs o ON o.id = c.org_id
             WHERE c.org_id = $1 AND c.customer_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        type Packed = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            BTreeMap<String, String>,
            Option<String>,
        );
        let packed: Json<Vec<Packed>> = row.try_get(2).map_err(db)?;
        let manual: Json<Vec<(String, String)>> = row.try_get(3).map_err(db)?;
        let as_of: Json<Vec<(String, String)>> = row.try_get(4).map_err(db)?;
        let as_of = as_of
            .0
            .into_iter()
            .map(|(name, date)| match Date::parse_iso(&date) {
                Some(d) => Ok((name, d)),
                None => Err(StoreError::Corrupt(format!("run as_of: {date:?}"))),
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(CustomerDetail {
            customer: Customer {
                id: id.to_owned(),
                attributes: attributes(&row, 0)?,
            },
            results: packed
                .0
                .into_iter()
                .map(
                    |(
                        type_name,
                        segment,
                        source,
                        auto_segment,
                        manual_segment,
                        figures,
                        auto_source,
                    )| {
                        ResultRow {
                            type_name,
                            customer_id: id.to_owned(),
                            segment,
                            source,
                            auto_segment,
                            auto_source,
                            manual_segment,
                            figures,
                        }
                    },
                )
                .collect(),
            manual: manual.0,
            as_of,
            config_version: row.get(1),
        }))
    }

    async fn customer_lines(&self, org: OrgId, id: &str) -> StoreResult<Vec<StoredLine>> {
        sqlx::query(
            "SELECT customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date
             FROM lines WHERE org_id = $1 AND customer_id = $2 ORDER BY order_id, line",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            Ok(StoredLine {
                customer_id: row.get(0),
                order_id: row.get(1),
                line: row.get(2),
                date: Date::from_naive(row.get(3)),
                amount: Amount(row.get(4)),
                margin: row.get::<Option<i64>, _>(5).map(Amount),
                agency: row.get(6),
                brand: row.get(7),
                category: row.get(8),
                status: row.get(9),
                due_date: row
                    .get::<Option<chrono::NaiveDate>, _>(10)
                    .map(Date::from_naive),
            })
        })
        .collect()
    }

    async fn definitions(&self, org: OrgId) -> StoreResult<Definitions> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let (settings, config_version): (serde_json::Value, i64) =
            sqlx::query_as("SELECT settings, config_version FROM orgs WHERE id = $1")
                .bind(org)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        let types = types_in(&mut tx, org).await?;
        tx.commit().await.map_err(db)?;
        Ok(Definitions {
            config_version,
            settings: parse_settings(settings)?,
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let data_version: i64 = sqlx::query_scalar("SELECT data_version FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let customers = sqlx::query(
            "SELECT customer_id, attributes FROM customers WHERE org_id = $1 AND attributes <> '{}'::jsonb ORDER BY customer_id",
        )
        .bind(org)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            Ok(Customer {
                id: row.get(0),
                attributes: attributes(row, 1)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let manual = sqlx::query_as::<_, (String, String, String)>(
            "SELECT type_name, customer_id, segment FROM manual_segments WHERE org_id = $1
             ORDER BY type_name, customer_id, segment",
        )
        .bind(org)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let head_value = SnapshotHead {
            customers,
            manual,
            data_version,
        };
        if head.send(head_value).is_ok()
            && copy::lines_out(&mut tx, org, batch_lines, lines).await?
        {
            tx.commit().await.map_err(db)?;
        }
        // Stopped early: the transaction, left in the middle of its `COPY`,
        // is dropped (rolled back or its connection closed).
        Ok(())
    }

    async fn types(&self, org: OrgId) -> StoreResult<Vec<TypeRecord>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        types_in(&mut conn, org).await
    }

    async fn put_type(&self, org: OrgId, put: &PutType) -> StoreResult<(TypeRecord, Change)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let existing = sqlx::query_as::<_, (serde_json::Value, bool)>(
            "SELECT definition, is_default FROM segment_types WHERE org_id = $1 AND name = $2",
        )
        .bind(org)
        .bind(&put.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if put.is_default {
            sqlx::query(
                "UPDATE segment_types SET is_default = FALSE WHERE org_id = $1 AND name <> $2",
            )
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
                     VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM segment_types WHERE org_id = $1), $3, 1, $4, $5)",
                )
                .bind(org)
                .bind(&put.name)
                .bind(&put.definition)
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
            Some((old, old_default)) => {
                if *old != put.definition {
                    sqlx::query(
                        "UPDATE segment_types SET definition = $1, version = version + 1, is_default = $2, updated_at = $3 WHERE org_id = $4 AND name = $5",
                    )
                    .bind(&put.definition)
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
                        Some(old),
                        Some(&put.definition),
                    )
                    .await?;
                    Change::Updated
                } else if *old_default != put.is_default {
                    sqlx::query(
                        "UPDATE segment_types SET is_default = $1 WHERE org_id = $2 AND name = $3",
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM segment_types WHERE org_id = $1 AND name = $2)",
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
        let mut before = std::collections::HashMap::new();
        for name in std::iter::once(&rename.from).chain(rename.rewritten.iter().map(|(n, _)| n)) {
            before.insert(name.as_str(), definition_of(&mut tx, org, name).await?);
        }
        let updated = sqlx::query(
            "UPDATE segment_types SET name = $1, definition = $2, version = version + 1, updated_at = $3 WHERE org_id = $4 AND name = $5",
        )
        .bind(&rename.to)
        .bind(&rename.definition)
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
                "UPDATE {table} SET type_name = $1 WHERE org_id = $2 AND type_name = $3"
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
                "UPDATE segment_types SET definition = $1, version = version + 1, updated_at = $2 WHERE org_id = $3 AND name = $4",
            )
            .bind(definition)
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
            "SELECT type_name, segment, list, entry FROM list_entries WHERE org_id = $1
             ORDER BY type_name, segment, list, entry",
        )
        .bind(org)
        .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db)?;
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
                "DELETE FROM list_entries WHERE org_id = $1 AND type_name = $2 AND segment = $3 AND list = $4 AND entry = $5",
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
                    "INSERT INTO list_entries (org_id, type_name, segment, list, entry) VALUES ($1, $2, $3, $4, $5)
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
            "SELECT customer_id FROM customers WHERE org_id = $1
             AND lower(btrim(attributes->>'email')) = lower(btrim($2)) ORDER BY customer_id",
        )
        .bind(org)
        .bind(email)
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }

    async fn type_changes(&self, org: OrgId, name: &str) -> StoreResult<Vec<TypeChange>> {
        sqlx::query(
            "SELECT id, at, type_name, action, actor, before, after FROM type_changes
             WHERE org_id = $1 AND type_name = $2 ORDER BY id",
        )
        .bind(org)
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            let action: String = row.get(3);
            Ok(TypeChange {
                id: row.get(0),
                at: row.get(1),
                type_name: row.get(2),
                action: TypeAction::from_name(&action).ok_or_else(|| {
                    StoreError::Corrupt(format!("type change action: {action:?}"))
                })?,
                actor: row.get(4),
                before: row.get(5),
                after: row.get(6),
            })
        })
        .collect()
    }

    async fn delete_type(&self, org: OrgId, name: &str, actor: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let old = definition_of(&mut tx, org, name).await?;
        let deleted = sqlx::query("DELETE FROM segment_types WHERE org_id = $1 AND name = $2")
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
                "DELETE FROM {table} WHERE org_id = $1 AND type_name = $2"
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, Some(customer_id)).await?;
        sqlx::query(
            "DELETE FROM manual_segments WHERE org_id = $1 AND type_name = $2 AND customer_id = $3",
        )
        .bind(org)
        .bind(type_name)
        .bind(customer_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO manual_segments (org_id, type_name, customer_id, segment)
             SELECT $1, $2, $3, s FROM UNNEST($4::text[]) s ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .bind(type_name)
        .bind(customer_id)
        .bind(segments)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
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
            sqlx::query("UPDATE segment_types SET notify = $1 WHERE org_id = $2 AND name = $3")
                .bind(notify)
                .bind(org)
                .bind(type_name)
                .execute(&self.pool)
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
            sqlx::query("UPDATE segment_types SET recompute = $1 WHERE org_id = $2 AND name = $3")
                .bind(recompute.as_str())
                .bind(org)
                .bind(type_name)
                .execute(&self.pool)
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
            "INSERT INTO notifications (org_id, at, run_id, status, body) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org)
        .bind(now())
        .bind(run_id)
        .bind(status.as_str())
        .bind(Json(body))
        .fetch_one(&self.pool)
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
               ON r.org_id = n.org_id AND r.notification_id = n.id AND r.token_id = $1
             WHERE n.org_id = $2 AND n.id < $3 AND (NOT $4 OR r.token_id IS NULL)
             ORDER BY n.id DESC LIMIT $5",
        )
        .bind(query.token)
        .bind(org)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(query.unread_only)
        .bind(i64::from(query.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(rows::notification_from_row).collect()
    }

    async fn mark_read(&self, org: OrgId, id: i64, token: i64) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO notification_reads (org_id, notification_id, token_id)
             SELECT org_id, id, $1 FROM notifications WHERE org_id = $2 AND id = $3
             ON CONFLICT DO NOTHING",
        )
        .bind(token)
        .bind(org)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if inserted.rows_affected() > 0 {
            return Ok(true);
        }
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM notifications WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let rows: Vec<HeldRow> = sqlx::query_as(
            "SELECT type_name, source, segment, auto_segment, auto_source FROM result_rows WHERE org_id = $1 AND customer_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let manual: Vec<(String, String)> = sqlx::query_as(
            "SELECT type_name, segment FROM manual_segments WHERE org_id = $1 AND customer_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let tombstone = tombstone();
        sqlx::query("UPDATE history SET customer_id = $1 WHERE org_id = $2 AND customer_id = $3")
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
                "DELETE FROM {table} WHERE org_id = $1 AND customer_id = $2"
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
        sqlx::query("DELETE FROM list_entries WHERE org_id = $1 AND entry = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM run_rows WHERE org_id = $1 AND customer_id = $2")
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, None).await?;
        let cleared =
            sqlx::query("DELETE FROM manual_segments WHERE org_id = $1 AND type_name = $2")
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let (rows, before) = manual_scope(&mut tx, org, type_name, None).await?;
        let dropped = sqlx::query(
            "DELETE FROM manual_segments WHERE org_id = $1 AND type_name = $2 AND NOT (segment = ANY($3))",
        )
        .bind(org)
        .bind(type_name)
        .bind(segments)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        sqlx::query(
            "DELETE FROM list_entries WHERE org_id = $1 AND type_name = $2 AND NOT (segment = ANY($3))",
        )
        .bind(org)
        .bind(type_name)
        .bind(segments)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
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
        let mut select = QueryBuilder::<Postgres>::new(
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
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                let cause: String = row.get(6);
                Ok(HistoryEntry {
                    id: row.get(0),
                    at: row.get(1),
                    segment_type: row.get(2),
                    customer_id: row.get(3),
                    old_segment: row.get(4),
                    new_segment: row.get(5),
                    cause: Cause::from_name(&cause)
                        .ok_or_else(|| StoreError::Corrupt(format!("history cause: {cause:?}")))?,
                    run_id: row.get(7),
                    actor: row.get(8),
                })
            })
            .collect()
    }

    async fn create_run(&self, org: OrgId, new: &NewRun) -> StoreResult<(Run, bool)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_org(&mut tx, org).await?;
        let active = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = $1 AND status IN ('queued', 'running') ORDER BY id"
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
        let row = sqlx::query(&format!(
            "INSERT INTO runs (org_id, types, as_of, status, created_at, actor, kind, periods) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7) RETURNING {RUN_COLUMNS}"
        ))
        .bind(org)
        .bind(Json(&new.types))
        .bind(new.as_of.to_naive())
        .bind(now())
        .bind(&new.actor)
        .bind(new.kind.name())
        .bind(periods_column(&new.kind))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let run = run_from_row(&row)?;
        tx.commit().await.map_err(db)?;
        Ok((run, true))
    }

    async fn succeeded_runs(&self, org: OrgId, limit: u32) -> StoreResult<Vec<Run>> {
        let mut runs = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = $1 AND status = 'succeeded' ORDER BY id DESC LIMIT $2"
        ))
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|r| run_from_row(&r))
        .transpose()
    }

    async fn cancel_run(&self, org: OrgId, id: i64) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE runs SET
               status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
               finished_at = CASE WHEN status = 'queued' THEN $1 ELSE finished_at END,
               cancel_requested = TRUE
             WHERE org_id = $2 AND id = $3 AND status IN ('queued', 'running')",
        )
        .bind(now())
        .bind(org)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected()
            > 0)
    }

    async fn claim_run(&self, owner: &str, until: Timestamp) -> StoreResult<Option<Run>> {
        sqlx::query(&format!(
            "UPDATE runs SET status = 'running', lease_owner = $1, lease_until = $2, started_at = $3
             WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING {RUN_COLUMNS}"
        ))
        .bind(owner)
        .bind(until)
        .bind(now())
        .fetch_optional(&self.pool)
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
            "UPDATE runs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running' RETURNING cancel_requested",
        )
        .bind(until)
        .bind(id)
        .bind(owner)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)
    }

    async fn set_progress(&self, id: i64, progress: f64) -> StoreResult<()> {
        sqlx::query("UPDATE runs SET progress = $1 WHERE id = $2")
            .bind(progress)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn finish_run(&self, id: i64, owner: &str, mut results: RunResults) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let (org, actor) = held_by(&mut tx, id, owner).await?;
        // Manual changes read the results: they wait for these.
        lock_org(&mut tx, org).await?;
        let at = now();
        for (type_name, version, rows) in &results.types {
            let previous: Vec<HeldRow> = sqlx::query_as(
                "SELECT customer_id, source, segment, auto_segment, auto_source FROM result_rows WHERE org_id = $1 AND type_name = $2",
            )
            .bind(org)
            .bind(type_name)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let manual: Vec<(String, String)> = sqlx::query_as(
                "SELECT customer_id, segment FROM manual_segments WHERE org_id = $1 AND type_name = $2",
            )
            .bind(org)
            .bind(type_name)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let changes = run_changes(&results.groups, type_name, &previous, rows, &manual);
            if let Some(report) = results
                .report
                .types
                .iter_mut()
                .find(|t| &t.name == type_name)
            {
                report.changed = changed_count(&changes);
            }
            copy::history_in(&mut tx, org, type_name, &changes, at, id, &actor).await?;
            sqlx::query("DELETE FROM result_rows WHERE org_id = $1 AND type_name = $2")
                .bind(org)
                .bind(type_name)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            copy::results_in(&mut tx, org, type_name, rows).await?;
            sqlx::query(
                "INSERT INTO type_results (org_id, type_name, run_id, version, data_version) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (org_id, type_name) DO UPDATE SET run_id = excluded.run_id, version = excluded.version, data_version = excluded.data_version",
            )
            .bind(org)
            .bind(type_name)
            .bind(id)
            .bind(version)
            .bind(results.data_version)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        // A customer erased while the run read its snapshot leaves no row.
        let current: i64 = sqlx::query_scalar("SELECT data_version FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if current != results.data_version {
            // Its history entries of this run go too: none may name it.
            for (table, this_run) in [("result_rows", "TRUE"), ("history", "r.run_id = $2")] {
                sqlx::query(&format!(
                    "DELETE FROM {table} r WHERE r.org_id = $1 AND {this_run}
                     AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.org_id = r.org_id AND c.customer_id = r.customer_id)"
                ))
                .bind(org)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
        }
        mark_succeeded(&mut tx, id, &results.report).await?;
        tx.commit().await.map_err(db)
    }

    async fn finish_one_off(
        &self,
        id: i64,
        owner: &str,
        results: OneOffResults,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let (org, _) = held_by(&mut tx, id, owner).await?;
        copy::run_rows_in(&mut tx, org, id, &results.rows).await?;
        let current: i64 = sqlx::query_scalar("SELECT data_version FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if current != results.data_version {
            // A customer erased while the run read its snapshot leaves no row.
            sqlx::query(
                "DELETE FROM run_rows r WHERE r.org_id = $1 AND r.run_id = $2
                 AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.org_id = r.org_id AND c.customer_id = r.customer_id)",
            )
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        mark_succeeded(&mut tx, id, &results.report).await?;
        tx.commit().await.map_err(db)
    }

    async fn run_rows(&self, org: OrgId, query: &RunRowsQuery) -> StoreResult<Vec<(i64, RunRow)>> {
        let mut select = QueryBuilder::<Postgres>::new(
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
            .fetch_all(&self.pool)
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
            "UPDATE runs SET status = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $4 AND status IN ('queued', 'running')",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn fail_expired_runs(&self, now: Timestamp, alive: &str) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE runs SET status = 'failed', error = 'interrupted: the process running it stopped', finished_at = $1, lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_until < $1 AND lease_owner <> $2",
        )
        .bind(now)
        .bind(alive)
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected())
    }

    async fn latest_results(&self, org: OrgId) -> StoreResult<Vec<TypeState>> {
        Ok(sqlx::query_as::<_, (String, i64, i64, i64)>(
            "SELECT type_name, run_id, version, data_version FROM type_results WHERE org_id = $1 ORDER BY type_name",
        )
        .bind(org)
        .fetch_all(&self.pool)
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
        let mut select = QueryBuilder::<Postgres>::new(
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
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(|row| {
                Ok(Member {
                    row: rows::result_from_row(row)?,
                    attributes: row
                        .get::<Option<Json<BTreeMap<String, String>>>, _>(8)
                        .map(|j| j.0)
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn assignments(&self, org: OrgId, type_name: &str) -> StoreResult<Vec<Assignment>> {
        Ok(
            sqlx::query_as::<_, (String, String, String, Option<String>, Option<String>)>(
                "SELECT customer_id, segment, source, auto_segment, auto_source FROM result_rows
             WHERE org_id = $1 AND type_name = $2 ORDER BY customer_id, segment",
            )
            .bind(org)
            .bind(type_name)
            .fetch_all(&self.pool)
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
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM history WHERE org_id = $1")
            .bind(org)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn data_version(&self, org: OrgId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT data_version FROM orgs WHERE id = $1")
            .bind(org)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }
}

/// Serialises the writes of one organisation that read before they write
/// (queueing runs, defining types) across server processes.
/// A type's stored definition, if it exists.
async fn definition_of(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    name: &str,
) -> StoreResult<Option<serde_json::Value>> {
    sqlx::query_scalar("SELECT definition FROM segment_types WHERE org_id = $1 AND name = $2")
        .bind(org)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)
}

/// Records a change of a type's definition.
async fn audit(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    name: &str,
    action: TypeAction,
    actor: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO type_changes (org_id, at, type_name, action, actor, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org)
    .bind(now())
    .bind(name)
    .bind(action.as_str())
    .bind(actor)
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// A type's rows and manual segments `(customer, segment)` for one
/// customer, or for every customer with a manual segment in it: what a
/// change of manual segments can move.
async fn manual_scope(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    customer: Option<&str>,
) -> StoreResult<(Vec<HeldRow>, Vec<(String, String)>)> {
    let rows = sqlx::query_as(
        "SELECT customer_id, source, segment, auto_segment, auto_source FROM result_rows
         WHERE org_id = $1 AND type_name = $2 AND CASE WHEN $3::text IS NULL
             THEN customer_id IN (SELECT customer_id FROM manual_segments WHERE org_id = $1 AND type_name = $2)
             ELSE customer_id = $3 END",
    )
    .bind(org)
    .bind(type_name)
    .bind(customer)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let manual = sqlx::query_as(
        "SELECT customer_id, segment FROM manual_segments
         WHERE org_id = $1 AND type_name = $2 AND ($3::text IS NULL OR customer_id = $3)",
    )
    .bind(org)
    .bind(type_name)
    .bind(customer)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok((rows, manual))
}

/// Writes history entries of one type, all at this moment.
/// The organisation and actor of a run `owner` still holds, locked for
/// the transaction, or why not.
async fn held_by(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    id: i64,
    owner: &str,
) -> StoreResult<(i64, String)> {
    sqlx::query_as(
        "SELECT org_id, actor FROM runs WHERE id = $1 AND lease_owner = $2 AND status = 'running' FOR UPDATE",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| StoreError::Conflict(format!("run {id} is no longer held by this process")))
}

/// Marks a run succeeded with its report, releasing its lease.
async fn mark_succeeded(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    id: i64,
    report: &RunReport,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE runs SET status = 'succeeded', progress = 1, report = $1, finished_at = $2, lease_owner = NULL, lease_until = NULL WHERE id = $3",
    )
    .bind(Json(report))
    .bind(now())
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// A customer's rows of a type and its manual segments there.
async fn customer_rows(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    customer: &str,
) -> StoreResult<(Vec<ResultRow>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT type_name, customer_id, segment, source, auto_segment, manual_segment, figures, auto_source
         FROM result_rows WHERE org_id = $1 AND type_name = $2 AND customer_id = $3 ORDER BY segment",
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
        "SELECT segment FROM manual_segments WHERE org_id = $1 AND type_name = $2 AND customer_id = $3 ORDER BY segment",
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
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    customer: &str,
    rows: &[ResultRow],
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM result_rows WHERE org_id = $1 AND type_name = $2 AND customer_id = $3",
    )
    .bind(org)
    .bind(type_name)
    .bind(customer)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    for row in rows {
        sqlx::query(
            "INSERT INTO result_rows (org_id, type_name, segment, customer_id, source, auto_segment, manual_segment, figures, auto_source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org)
        .bind(type_name)
        .bind(&row.segment)
        .bind(customer)
        .bind(&row.source)
        .bind(&row.auto_segment)
        .bind(&row.manual_segment)
        .bind(Json(&row.figures))
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
    tx: &mut sqlx::Transaction<'_, Postgres>,
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

async fn record(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    changes: &[SegmentMove<'_>],
    cause: Cause,
    run_id: Option<i64>,
    actor: &str,
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let customers: Vec<&str> = changes.iter().map(|c| c.0).collect();
    let old: Vec<Option<&str>> = changes.iter().map(|c| c.1).collect();
    let new: Vec<Option<&str>> = changes.iter().map(|c| c.2).collect();
    sqlx::query(
        "INSERT INTO history (org_id, at, type_name, customer_id, old_segment, new_segment, cause, run_id, actor)
         SELECT $1, $2, $3, c, o, n, $4, $5, $6 FROM UNNEST($7::text[], $8::text[], $9::text[]) AS t (c, o, n)",
    )
    .bind(org)
    .bind(now())
    .bind(type_name)
    .bind(cause.as_str())
    .bind(run_id)
    .bind(actor)
    .bind(customers)
    .bind(old)
    .bind(new)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn lock_org(tx: &mut sqlx::Transaction<'_, Postgres>, org: OrgId) -> StoreResult<()> {
    sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR UPDATE")
        .bind(org)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn bump_data_version(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org: OrgId,
) -> StoreResult<()> {
    sqlx::query("UPDATE orgs SET data_version = data_version + 1 WHERE id = $1")
        .bind(org)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

fn parse_settings(json: serde_json::Value) -> StoreResult<SettingsInput> {
    serde_json::from_value(json).map_err(|e| StoreError::Corrupt(format!("settings: {e}")))
}

/// An organisation's types, in the order they were created.
async fn types_in(conn: &mut sqlx::PgConnection, org: OrgId) -> StoreResult<Vec<TypeRecord>> {
    sqlx::query_as::<_, (String, serde_json::Value, i64, bool, Timestamp, bool, String)>(
        "SELECT name, definition, version, is_default, updated_at, notify, recompute FROM segment_types WHERE org_id = $1 ORDER BY position",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?
    .into_iter()
    .map(|(name, definition, version, is_default, updated_at, notify, recompute)| Ok(TypeRecord {
        name,
        definition,
        version,
        is_default,
        notify,
        recompute: recompute_of(&recompute)?,
        updated_at,
    }))
    .collect()
}
