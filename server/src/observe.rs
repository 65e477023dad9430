//! What an operator sees of each request: a request id (`x-request-id`,
//! taken from a proxy when it sent a sane one, else made here) returned in
//! the response header and written into every JSON error body as
//! `error.request_id`; one log record per request through tower-http's
//! `TraceLayer` (target `invitelink::http`: method, path, route, status,
//! latency, request id; never headers, query strings or bodies); and the
//! HTTP metrics by route and status.

use super::metrics;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The header of the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The largest error body given a request id, in bytes (error bodies are
/// small; anything larger is left as it is).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Makes request ids: this process's random prefix and a counter.
#[derive(Clone, Debug)]
pub struct RequestIds {
    prefix: u32,
    next: std::sync::Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        RequestIds { prefix: u32::from_le_bytes(bytes), next: std::sync::Arc::default() }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

/// A request id sent by a proxy is kept when it is short and plain
/// (letters, digits, `-`, `_`, `.`, `:`); any other is replaced, so that no
/// client can write what it likes into the log.
pub async fn vet_incoming_id(mut request: Request, next: Next) -> Response {
    let sane = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    if !sane {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

fn request_id_of<B>(request: &axum::http::Request<B>) -> String {
    request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-").to_owned()
}

fn route_of<B>(request: &axum::http::Request<B>) -> String {
    request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

/// The request log: a span per request and one record when it is answered.
#[allow(clippy::type_complexity)]
pub fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    impl Fn(&axum::http::Request<Body>) -> Span + Clone,
    (),
    impl Fn(&Response, Duration, &Span) + Clone,
    (),
    (),
    (),
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<Body>| {
            tracing::info_span!(
                target: "invitelink::http",
                "request",
                request_id = %request_id_of(request),
                method = %request.method(),
                path = %request.uri().path(),
                route = %route_of(request),
            )
        })
        .on_request(())
        .on_response(|response: &Response, latency: Duration, _span: &Span| {
            tracing::info!(
                target: "invitelink::http",
                status = response.status().as_u16(),
                latency_ms = latency.as_secs_f64() * 1000.0,
                "answered"
            );
        })
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Counts the request by method, route and status, with its latency.
pub async fn count(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = route_of(&request);
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// Writes the request id into a JSON error body: `{"error": {"code",
/// "message", "request_id"}}`.
pub async fn id_in_errors(request: Request, next: Next) -> Response {
    let id = request.headers().get(&REQUEST_ID).cloned();
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Some(id) = id.and_then(|v| v.to_str().ok().map(str::to_owned)) else { return response };
    if !(response.status().is_client_error() || response.status().is_server_error()) || !json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let patched = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut value) => match value.get_mut("error").and_then(serde_json::Value::as_object_mut) {
            Some(error) => {
                error.insert("request_id".to_owned(), serde_json::Value::String(id));
                serde_json::to_vec(&value).ok()
            }
            None => None,
        },
        Err(_) => None,
    };
    match patched {
        Some(body) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}
