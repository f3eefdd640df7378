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
