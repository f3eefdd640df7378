//! The store suite on PostgreSQL, one database per test, at
//! `STRATA_TEST_DATABASE_URL`; without it the tests skip, or fail when
//! `STRATA_REQUIRE_EXTERNAL` is set (as in CI).

use strata_store_postgres::PostgresStore;

async fn open(test: &str) -> Option<PostgresStore> {
    let url = strata_testkit::postgres::fresh_database("store", test).await?;
    Some(
        PostgresStore::connect(&url)
            .await
            .expect("a new PostgreSQL store"),
    )
}

strata_store::store_suite!(open);

/// A database migrated by a newer Strata is refused, naming the migration.
#[tokio::test]
async fn a_newer_database_is_refused() {
    let Some(url) =
        strata_testkit::postgres::fresh_database("store", "a_newer_database_is_refused").await
    else {
        return;
    };
    let store = PostgresStore::connect(&url).await.unwrap();
    store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let refused = PostgresStore::connect(&url).await.err().expect("a refusal");
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
