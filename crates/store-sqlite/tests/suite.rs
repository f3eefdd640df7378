//! The store suite on SQLite, one database file per test.

use strata_store_sqlite::SqliteStore;

async fn open(_test: &str) -> Option<SqliteStore> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("strata.db"))
        .await
        .expect("a new SQLite store");
    // The folder outlives the test: the pool keeps files open in it.
    std::mem::forget(dir);
    Some(store)
}

strata_store::store_suite!(open);

/// A database migrated by a newer Strata is refused, naming the migration.
#[tokio::test]
async fn a_newer_database_is_refused() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strata.db");
    SqliteStore::open(&path).await.unwrap().close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let refused = SqliteStore::open(&path).await.err().expect("a refusal");
    assert!(
        matches!(
            refused,
            strata_store::StoreError::TooNew {
                found: 99990101000000,
                ..
            }
        ),
        "{refused}"
    );
}

/// A backup taken while another connection is writing holds what was
/// committed when it began, opens as a store, and never overwrites a file.
#[tokio::test]
async fn a_backup_holds_the_last_committed_state() {
    use sqlx::Connection;
    use strata_store::{Customer, CustomerQuery, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strata.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (org, _) = store.ensure_org("acme").await.unwrap();
    let customer = |id: &str| Customer {
        id: id.into(),
        attributes: Default::default(),
    };
    store
        .upsert_customers(org.id, &[customer("C1")])
        .await
        .unwrap();
    // A write in flight on another connection: begun, not committed.
    let mut writer = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut writer)
        .await
        .unwrap();
    sqlx::query("UPDATE orgs SET name = 'renamed'")
        .execute(&mut writer)
        .await
        .unwrap();
    let copy = dir.path().join("copy.db");
    SqliteStore::backup(&path, &copy).await.unwrap();
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();
    writer.close().await.unwrap();

    let restored = SqliteStore::open(&copy).await.unwrap();
    let (again, created) = restored.ensure_org("acme").await.unwrap();
    assert!(!created, "the organisation as committed before the backup");
    let customers = restored
        .customers(
            again.id,
            &CustomerQuery {
                limit: 10,
                ..CustomerQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(customers, [customer("C1")]);
    let refused = SqliteStore::backup(&path, &copy)
        .await
        .expect_err("a refusal");
    assert!(
        refused.to_string().contains("never overwrites"),
        "{refused}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
