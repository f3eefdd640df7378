//! A fresh PostgreSQL database per test, from `STRATA_TEST_DATABASE_URL`.

use sqlx::{Connection, Executor, PgConnection};

/// The variable naming the PostgreSQL server tests may use (`.ci/run` sets it).
pub const DATABASE_URL: &str = "STRATA_TEST_DATABASE_URL";

/// The URL of a new, empty database `strata_{prefix}_{test}` (dropped first
/// if a previous run left it), or `None` when no server is configured and
/// tests may skip (see [`crate::missing_dependency`]).
pub async fn fresh_database(prefix: &str, test: &str) -> Option<String> {
    let Ok(url) = std::env::var(DATABASE_URL) else {
        crate::missing_dependency(test, &format!("PostgreSQL ({DATABASE_URL} is not set)"));
        return None;
    };
    let name: String = format!("strata_{prefix}_{test}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    let mut admin = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{test}: cannot reach PostgreSQL at {DATABASE_URL}={url}: {e}"));
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("dropping a previous test database");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("creating a test database");
    admin.close().await.ok();
    Some(with_database(&url, &name))
}

/// `url` with its database replaced by `name`, keeping its parameters.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_parameters_kept() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/test?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
            ("postgres://h:5432", "postgres://h:5432/x"),
        ] {
            assert_eq!(with_database(url, "x"), expected);
        }
    }
}
