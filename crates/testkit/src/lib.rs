//! Test helpers shared by Strata's crates.
//!
//! One policy for every test that needs something outside Rust (a browser,
//! PostgreSQL): when the dependency is missing, the test says it skipped,
//! unless `STRATA_REQUIRE_EXTERNAL` is set, as `.ci/run` sets it, and then the
//! test fails. A skipped test can therefore never pass in CI.

pub mod conformance;
mod files;
pub mod postgres;

pub use files::Files;

/// The variable that turns a missing external dependency into a failure.
pub const REQUIRE_EXTERNAL: &str = "STRATA_REQUIRE_EXTERNAL";

/// Whether missing external dependencies must fail tests (set and not `0`).
pub fn external_required() -> bool {
    std::env::var_os(REQUIRE_EXTERNAL).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reports a missing dependency: panics when dependencies are required,
/// otherwise prints `SKIPPED test: why` on stderr. The caller returns after it.
pub fn missing_dependency(test: &str, why: &str) {
    assert!(
        !external_required(),
        "{test} needs {why}, and {REQUIRE_EXTERNAL} is set (.ci/run sets it)"
    );
    eprintln!("SKIPPED {test}: {why} (set {REQUIRE_EXTERNAL}=1 to make this a failure)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_dependency_fails_only_when_required() {
        let required = external_required();
        let outcome = std::panic::catch_unwind(|| missing_dependency("t", "a browser"));
        assert_eq!(outcome.is_err(), required);
    }
}
