//! The one error type of the HTTP API: every failure becomes a JSON body
//! `{"error": {"code", "message"}}` with a 4xx status, or a 5xx whose message
//! hides the internals (they go to the server's log instead).

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use invitelink::error::{EngineError, ErrorCode};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// An error answered by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code (`unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `invalid_input`, `conflict`, `too_large`, `internal`, or
    /// an engine code such as `parse_error`).
    pub code: String,
    /// A message a person can act on; generic for 5xx.
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after: Option<u64>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code.
    pub code: String,
    /// A message for a person.
    pub message: String,
    /// The request's id, as in the `x-request-id` response header (written
    /// by the server on the way out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Results of the API.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_owned(), message: message.into(), retry_after: None }
    }

    /// 429 `too_many_attempts`: try again after `wait` (rounded up to seconds).
    pub fn too_many_attempts(message: impl Into<String>, wait: std::time::Duration) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message);
        e.retry_after = Some(wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1));
        e
    }

    /// 503 `busy`: the server is at capacity; try again in `seconds`.
    pub fn busy(message: impl Into<String>, seconds: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message);
        e.retry_after = Some(seconds);
        e
    }

    /// 401: no token, or a token that is not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: signed in, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: an unknown id.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no {what} with id `{id}`"))
    }

    /// 400: a request the server cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422: a well-formed request with values that do not make sense.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    /// 409: the request contradicts the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 413: the body is larger than allowed.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 500: details are logged, never sent.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(target: "invitelink::server", detail = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let hide = self.status.is_server_error() && self.code != "busy";
        let message = if hide { "internal error".to_owned() } else { self.message };
        let body = ErrorBody { error: ErrorDetail { code: self.code, message, request_id: None } };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/json")], text).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match e.code {
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ActionDisabled => StatusCode::CONFLICT,
            ErrorCode::Io => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = match e.line {
            Some(line) => format!("{} (line {line})", e.message),
            None => e.message,
        };
        ApiError::new(status, e.code.as_str(), message)
    }
}

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large("the request body is larger than the limit")
    } else if status == StatusCode::UNPROCESSABLE_ENTITY {
        ApiError::invalid(text)
    } else {
        ApiError::new(status, if status.is_client_error() { "bad_request" } else { "internal" }, text)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        body_error(r.status(), r.body_text().to_lowercase())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        body_error(r.status(), r.body_text().to_lowercase())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text().to_lowercase())
    }
}

/// A JSON body whose rejections become [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string whose rejections become [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A raw body whose rejections (too large) become [`ApiError`]s.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(RawBody).map_err(ApiError::from)
    }
}
