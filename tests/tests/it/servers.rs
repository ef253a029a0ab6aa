//! The database servers a CI run promises. Under `CI=true` both must be configured and answer;
//! elsewhere a missing server skips these two checks (and `cargo test` stays SQLite-only).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use soft_delete_tests::context::connect;

/// Connects to the server `variable` names and checks that it reports a version containing
/// `expect`.
async fn check(variable: &str, backend: DbBackend, version_query: &str, expect: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let Some(url) = std::env::var(variable).ok().filter(|u| !u.is_empty()) else {
        assert!(
            !ci,
            "CI=true but {variable} is not set: .ci/run must start the server \
             (scripts/db-servers.sh start) and export its URL"
        );
        soft_delete_tests::skip(&format!("{variable} is not set (not in CI)"));
        return;
    };
    let db = connect(url, 1).await;
    assert_eq!(db.get_database_backend(), backend);
    let row = db
        .query_one_raw(Statement::from_string(backend, version_query.to_owned()))
        .await
        .expect("version query")
        .expect("a version row");
    let version: String = row.try_get_by_index(0).expect("version text");
    assert!(
        version.contains(expect),
        "{variable} answers as `{version}`, expected {expect}"
    );
}

#[tokio::test]
async fn postgres_server_answers() {
    check(
        "SOFT_DELETE_TEST_POSTGRES_URL",
        DbBackend::Postgres,
        "SELECT version()",
        "PostgreSQL",
    )
    .await;
}

#[tokio::test]
async fn mysql_server_answers() {
    // MariaDB reports `10.11.x-MariaDB-…`, MySQL `8.x.y`: both have a dot.
    check(
        "SOFT_DELETE_TEST_MYSQL_URL",
        DbBackend::MySql,
        "SELECT VERSION()",
        ".",
    )
    .await;
}
