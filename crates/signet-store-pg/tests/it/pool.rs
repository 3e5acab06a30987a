//! The pool: a connection the server dropped is replaced, so one failure never poisons it.

use signet_store_pg::pool::Pool;

use super::support::server_url;

#[test]
fn a_connection_the_server_killed_is_reopened_on_its_next_use() {
    let Some(url) = server_url() else { return };
    let name = format!("signet-pool-test-{}", uuid::Uuid::new_v4().simple());
    let mut config = url.config().expect("config");
    config.application_name(&name);
    let pool = Pool::open(config, 1).expect("open the pool");
    let ping = |pool: &Pool| {
        pool.with(|c| {
            c.simple_query("SELECT 1")
                .map(drop)
                .map_err(|e| signet_model::StoreError::Backend(e.to_string()))
        })
    };
    ping(&pool).expect("a fresh connection answers");

    let mut admin = url
        .config()
        .expect("config")
        .connect(postgres::NoTls)
        .expect("admin");
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .expect("terminate");
    assert_eq!(killed.len(), 1, "the pool's one connection was found");
    // `pg_terminate_backend` only signals the backend: wait until it is gone, or a ping could
    // still reach it and the next one be the first to fail.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while admin
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .expect("count")
        .get::<_, i64>(0)
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed backend never went"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    // The first use after the kill may fail (the client learns of it then); it must not
    // panic, and the next use runs on a new connection.
    let _ = ping(&pool);
    ping(&pool).expect("the pool reconnected");
    ping(&pool).expect("and stays usable");
}
