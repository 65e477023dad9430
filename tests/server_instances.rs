#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Several instances on one database: SQLite serves one file from one
//! server, so a second one is refused with a message that says why;
//! PostgreSQL takes any number.

#[path = "server_support/mod.rs"]
mod support;

use invitelink_server::{ServeError, ServeOptions, bind};
use support::{TestDb, postgres_server, repo_root};

fn options(db: &TestDb) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.url().to_owned(),
        demo: true,
        static_root: repo_root(),
        mail: None,
    }
}

#[test]
fn a_second_server_on_one_sqlite_file_is_refused_and_one_on_postgresql_is_not() {
    // The database is made and dropped outside the runtime (on PostgreSQL
    // the support code runs its own).
    let db = TestDb::new("instances");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(check(&db));
    drop(rt);
}

async fn check(db: &TestDb) {
    let db = db.clone();
    let first = bind(&options(&db)).await.unwrap();
    let second = bind(&options(&db)).await;
    if postgres_server().is_some() {
        assert!(second.is_ok(), "PostgreSQL serves several instances");
        return;
    }
    let Err(ServeError::Database(message)) = second else { panic!("a second server on one SQLite file started") };
    assert!(message.contains("another invitelink server already serves the SQLite database"), "{message}");
    assert!(message.contains("PostgreSQL"), "{message}");
    // Once the first has stopped, the file is free again.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(first.run(async move {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let again = bind(&options(&db)).await;
    assert!(again.is_ok(), "{:?}", again.err().map(|e| e.to_string()));
}
