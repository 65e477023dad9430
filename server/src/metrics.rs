//! Metrics in the Prometheus text format, at `GET /metrics` on a listener of
//! their own (`metrics_listen`, off by default: never on the API's address,
//! so they are not public by accident). Recorded through the `metrics`
//! facade; with no listener configured nothing is recorded.
//!
//! | metric | labels |
//! |---|---|
//! | `invitelink_inbox_messages_total` | `via` (`imap`, `http`), `mailbox`, `outcome` (`applied`, `ignored`, `rejected`, `duplicate`), `reason` (the ignored reason or error code) |
//! | `invitelink_decision_seconds` (histogram) | |
//! | `invitelink_inbox_last_poll_timestamp_seconds` | `inbox` |
//! | `invitelink_inbox_poll_failures_total` | `inbox` |
//! | `invitelink_outbox_messages` (at scrape) | `status` (`queued`, `failed`, `sent`) |
//! | `invitelink_outbox_failures_total` | `permanent` (`true`, `false`) |
//! | `invitelink_http_requests_total` | `method`, `route`, `status` |
//! | `invitelink_http_request_duration_seconds` (histogram) | `method`, `route` |
//! | `invitelink_db_pool_connections` (at scrape) | `state` (`idle`, `in_use`) |
//! | `invitelink_ready` (at scrape) | |

use super::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Histogram buckets of latencies, in seconds.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once) and returns its handle; none if
/// another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

/// A message taken in by an inbox.
pub fn message_taken(via: &'static str, mailbox: &str, outcome: &'static str, reason: &str) {
    metrics::counter!("invitelink_inbox_messages_total", "via" => via, "mailbox" => mailbox.to_owned(),
        "outcome" => outcome, "reason" => reason.to_owned())
    .increment(1);
}

/// How long the engine took to decide one message.
pub fn decision_took(elapsed: Duration) {
    metrics::histogram!("invitelink_decision_seconds").record(elapsed.as_secs_f64());
}

/// A poll of `inbox` that succeeded, now.
pub fn polled(inbox: &str) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    metrics::gauge!("invitelink_inbox_last_poll_timestamp_seconds", "inbox" => inbox.to_owned()).set(now.as_secs_f64());
}

/// A poll of `inbox` that failed.
pub fn poll_failed(inbox: &str) {
    metrics::counter!("invitelink_inbox_poll_failures_total", "inbox" => inbox.to_owned()).increment(1);
}

/// An outbox message that could not be sent (for good, or to be retried).
pub fn outbox_failed(permanent: bool) {
    metrics::counter!("invitelink_outbox_failures_total", "permanent" => if permanent { "true" } else { "false" })
        .increment(1);
}

/// One HTTP request answered.
pub fn request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!("invitelink_http_requests_total", "method" => method.clone(), "route" => route.clone(),
        "status" => status.to_string())
    .increment(1);
    metrics::histogram!("invitelink_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// What the metrics listener needs.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
    ready: super::Readiness,
}

/// The router of the metrics listener: `GET /metrics`.
pub fn router(handle: PrometheusHandle, store: Store, ready: super::Readiness) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(Scrape { handle, store, ready })
}

/// The gauges read at scrape time, then the whole exposition.
async fn scrape(State(s): State<Scrape>) -> impl IntoResponse {
    let pool = s.store.pool();
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("invitelink_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("invitelink_db_pool_connections", "state" => "in_use").set((size - idle).max(0.0));
    metrics::gauge!("invitelink_ready").set(if s.ready.is_ready() { 1.0 } else { 0.0 });
    if let Ok(mut conn) = s.store.read().await
        && let Ok(counts) = crate::store::outbox::counts(&mut conn).await
    {
        for (status, n) in [("queued", counts.queued), ("failed", counts.failed), ("sent", counts.sent)] {
            metrics::gauge!("invitelink_outbox_messages", "status" => status).set(n as f64);
        }
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.handle.render())
}
