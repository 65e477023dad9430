//! Group commit: write jobs that arrive together share one database
//! transaction, and so one durable commit (one `fsync` of SQLite's WAL with
//! `synchronous = FULL`), instead of one each.
//!
//! A job is a function of the write connection. One writer task takes the
//! store's write transaction ([`Store::write`]), runs the first waiting job
//! inside a savepoint, then every job already waiting (at most
//! [`MAX_BATCH`]), each in its own savepoint: a job that fails is rolled back
//! alone and answered at once with its error. Then the transaction commits,
//! and only then are the jobs that succeeded answered; if the commit fails,
//! they are answered with its error. So an answer still means committed, and
//! the jobs see each other's writes in the order they ran, as if they had
//! run one after the other.
//!
//! Architecture Invariant: an `Ok` from [`GroupCommit::write`] is given only
//! after the transaction holding the job's writes has committed.

use super::{Store, StoreError, StoreResult, WriteTx};
use sqlx::{AnyConnection, Executor};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// The most jobs that share one transaction.
pub const MAX_BATCH: usize = 64;

/// The most jobs waiting for the writer; more wait to be queued.
const QUEUE: usize = 1024;

/// A boxed future borrowing the write connection, ending with the job's
/// result or its error `E` (any error a [`StoreError`] converts into).
pub type JobFuture<'c, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;

/// Answers a job that succeeded, once its transaction has ended (`Ok`:
/// committed).
type Answer = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// A job as the writer runs it, given the write connection (or the error
/// that left it without one): `Some` when it succeeded (its answer waits for
/// the commit), `None` when it failed (already answered).
type Job = Box<
    dyn for<'c> FnOnce(StoreResult<&'c mut AnyConnection>) -> Pin<Box<dyn Future<Output = Option<Answer>> + Send + 'c>>
        + Send,
>;

/// The way in to the writer task of a store.
#[derive(Clone, Debug)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer task of `store` (on the current tokio runtime); it
    /// ends when every clone of the returned handle is dropped.
    pub fn start(store: Store) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(writer(store, queue));
        GroupCommit { jobs }
    }

    /// Runs `job` on the write connection inside a transaction it may share
    /// with other jobs, and answers its result once that transaction has
    /// committed. An error of the job rolls back its own writes only.
    pub async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, T, E> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let done = match conn {
                    Ok(conn) => job(conn).await,
                    Err(e) => Err(E::from(e)),
                };
                match done {
                    Ok(value) => Some(Box::new(move |committed: StoreResult<()>| {
                        let _ = answer.send(committed.map(|()| value).map_err(E::from));
                    }) as Answer),
                    Err(e) => {
                        let _ = answer.send(Err(e));
                        None
                    }
                }
            })
        });
        if self.jobs.send(job).await.is_err() {
            return Err(StoreError::Database("the database writer has stopped".to_owned()).into());
        }
        match answered.await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Database("the database writer dropped a job".to_owned()).into()),
        }
    }
}

/// The writer task: one batch after another until the handles are gone.
async fn writer(store: Store, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        batch(&store, first, &mut queue).await;
    }
}

/// Runs `first` and the jobs waiting behind it in one transaction.
async fn batch(store: &Store, first: Job, queue: &mut mpsc::Receiver<Job>) {
    let mut tx = match store.write().await {
        Ok(tx) => tx,
        Err(e) => return refuse(first, e).await,
    };
    if let Err(e) = savepoint(&mut tx, "SAVEPOINT job").await {
        return refuse(first, e).await;
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut next = Some(first);
    let mut ran = 0usize;
    while let Some(job) = next.take() {
        ran += 1;
        let (back, outcome) = run_job(tx, job).await;
        // The job panicked: its transaction is gone (rolled back), and the
        // jobs before it are answered with an error.
        let Some(back) = back else {
            fail(answers, StoreError::Database("a write job failed".to_owned()));
            return;
        };
        tx = back;
        if ran < MAX_BATCH {
            next = queue.try_recv().ok();
        }
        let succeeded = outcome.is_some();
        answers.extend(outcome);
        // Release (or undo) this job's savepoint and open the next one in
        // one round trip; the commit releases the last.
        let sql = match (succeeded, next.is_some()) {
            (true, true) => "RELEASE SAVEPOINT job; SAVEPOINT job",
            (true, false) => continue,
            (false, true) => "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job; SAVEPOINT job",
            (false, false) => "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job",
        };
        if let Err(e) = savepoint(&mut tx, sql).await {
            fail(answers, e);
            return;
        }
    }
    let committed = tx.commit().await;
    for answer in answers {
        answer(committed.clone());
    }
}

/// Runs one job on its own task, so that a panic in it ends the batch but
/// not the writer.
async fn run_job(mut tx: WriteTx, job: Job) -> (Option<WriteTx>, Option<Answer>) {
    let task = tokio::spawn(async move {
        let outcome = job(Ok(tx.conn())).await;
        (tx, outcome)
    });
    match task.await {
        Ok((tx, outcome)) => (Some(tx), outcome),
        Err(_) => (None, None),
    }
}

/// Runs savepoint statements (several in one round trip). Boxed, so that the
/// writer task's future is `Send` for the compiler.
fn savepoint<'a>(tx: &'a mut WriteTx, sql: &'static str) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 'a>> {
    Box::pin(async move { tx.conn().execute(sql).await.map(|_| ()).map_err(StoreError::from) })
}

/// Answers a job that cannot run with `e`.
async fn refuse(job: Job, e: StoreError) {
    let _ = job(Err(e)).await;
}

fn fail(answers: Vec<Answer>, e: StoreError) {
    for answer in answers {
        answer(Err(e.clone()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::error::{ApiError, ApiResult};
    use sqlx::Row;

    async fn store(name: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("invitelink-group-commit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.join("t.sqlite").display())).await.unwrap();
        let mut tx = store.write().await.unwrap();
        tx.conn().execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)").await.unwrap();
        tx.commit().await.unwrap();
        (store, dir)
    }

    async fn insert(conn: &mut AnyConnection, v: i64) -> ApiResult<i64> {
        sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(v).execute(&mut *conn).await?;
        Ok(v)
    }

    async fn values(store: &Store) -> Vec<i64> {
        let rows = sqlx::query("SELECT v FROM t ORDER BY v").fetch_all(store.pool()).await.unwrap();
        rows.iter().map(|r| r.try_get::<i64, _>(0).unwrap()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_jobs_are_committed_when_answered_and_a_failure_undoes_only_its_own_writes() {
        let (store, dir) = store("jobs").await;
        let writer = GroupCommit::start(store.clone());
        writer.write(|conn| Box::pin(insert(conn, -1))).await.unwrap();
        let mut tasks = Vec::new();
        for v in 0..200i64 {
            let (writer, store) = (writer.clone(), store.clone());
            tasks.push(tokio::spawn(async move {
                let result = if v % 10 == 7 {
                    // Writes 1000 + v, then fails on a value already there.
                    writer
                        .write(move |conn| {
                            Box::pin(async move {
                                insert(conn, 1000 + v).await?;
                                insert(conn, -1).await
                            })
                        })
                        .await
                } else {
                    writer.write(move |conn| Box::pin(insert(conn, v))).await
                };
                if let Ok(v) = result {
                    // Answered: committed, so visible to another connection.
                    let seen = sqlx::query("SELECT COUNT(*) FROM t WHERE v = $1")
                        .bind(v)
                        .fetch_one(store.pool())
                        .await
                        .unwrap()
                        .try_get::<i64, _>(0)
                        .unwrap();
                    assert_eq!(seen, 1, "{v} answered but not visible");
                }
                (v, result.is_ok())
            }));
        }
        for task in tasks {
            let (v, ok) = task.await.unwrap();
            assert_eq!(ok, v % 10 != 7, "{v}");
        }
        let expected: Vec<i64> = std::iter::once(-1).chain((0..200).filter(|v| v % 10 != 7)).collect();
        assert_eq!(values(&store).await, expected);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_job_is_answered_with_its_error_and_rolled_back() {
        let (store, dir) = store("failure").await;
        let writer = GroupCommit::start(store.clone());
        writer.write(|conn| Box::pin(insert(conn, 1))).await.unwrap();
        let err = writer
            .write(|conn| {
                Box::pin(async move {
                    insert(conn, 2).await?;
                    Err::<(), _>(ApiError::invalid("no"))
                })
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, "invalid_input");
        writer.write(|conn| Box::pin(insert(conn, 3))).await.unwrap();
        assert_eq!(values(&store).await, [1, 3]);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
