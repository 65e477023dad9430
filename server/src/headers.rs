//! Security headers on every response: `Content-Security-Policy`,
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; and
//! the JSON body of a request that timed out.
//!
//! The add-in and the wasm package get the task pane's policy (the same as
//! the `<meta>` policy of `addin/taskpane.html`) with `frame-ancestors`
//! naming the Office hosts that frame the pane; the web client at `/` gets
//! its own policy (same origin only, never framed); the API's answers get a
//! policy that allows nothing, as no API answer is a page.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The task pane's policy: `addin/taskpane.html`'s `<meta>` policy (kept
/// equal; a test compares them).
pub const PANE_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' https://appsforoffice.microsoft.com; connect-src 'self' https://appsforoffice.microsoft.com; img-src 'self' data:; style-src 'self'; font-src 'self'; frame-src 'self' https://appsforoffice.microsoft.com; object-src 'none'; base-uri 'none'; form-action 'none'";

/// Who may frame the task pane: this server, and Outlook on the web
/// (`outlook.office.com`, `outlook.office365.com`, `outlook.live.com`,
/// `outlook.cloud.microsoft` and the other Office hosts). Outlook on
/// Windows and Mac shows the pane in its own webview, as the top page, where
/// `frame-ancestors` does not apply.
pub const FRAME_ANCESTORS: &str = "frame-ancestors 'self' https://outlook.office.com https://outlook.office365.com https://outlook.live.com https://*.cloud.microsoft https://*.office.com https://*.office365.com https://*.officeapps.live.com https://*.microsoft.com";

/// The web client's policy (`/` and `/web/...`): its scripts, the wasm
/// package and the API from this server only. Styles allow `'unsafe-inline'`
/// because the diary's calendar (FullCalendar) injects its stylesheet and
/// positions events with inline styles at run time; scripts do not. Fonts
/// allow `data:` because that stylesheet carries the calendar's arrow and
/// close icons as an inline font (a font cannot run code).
pub const WEB_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the API's answers.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The `Referrer-Policy` of every response.
pub const REFERRER_POLICY: &str = "no-referrer";

/// The full policy of the add-in's files and the wasm package.
pub fn static_policy() -> String {
    format!("{PANE_POLICY}; {FRAME_ANCESTORS}")
}

/// Adds the security headers (those a response already has are kept).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let static_file = path.starts_with("/addin/") || path.starts_with("/pkg/");
    let web_client = path == "/" || path.starts_with("/web/");
    let mut response = next.run(request).await;
    if response.status() == StatusCode::REQUEST_TIMEOUT && !response.headers().contains_key(header::CONTENT_TYPE) {
        response = ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took too long").into_response();
    }
    let policy = if static_file {
        HeaderValue::from_str(&static_policy()).unwrap_or(HeaderValue::from_static(API_POLICY))
    } else if web_client {
        HeaderValue::from_static(WEB_POLICY)
    } else {
        HeaderValue::from_static(API_POLICY)
    };
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(policy);
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static(REFERRER_POLICY));
    response
}
