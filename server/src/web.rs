//! The CRM's own web client (`web/`), served at `/`: the page itself at `/`
//! and its scripts, styles and the npm packages it uses (placed in
//! `web/vendor/` by `cargo xtask run` and `cargo xtask test`) under `/web/`.
//! The client is static: everything it shows comes from this API and from
//! the wasm package at `/pkg/`.

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;

/// Folders and files of `web/` that are not part of the client (its tests
/// and their screenshots, the npm install it is copied from, the npm
/// manifest): not served.
const PRIVATE: [&str; 5] = ["tests", "test-artifacts", "node_modules", "package.json", "package-lock.json"];

/// The routes of the web client: `/` and `/web/...`, from `static_root/web`.
pub fn routes(static_root: &Path) -> Router {
    let dir = static_root.join("web");
    let index = tower_http::services::ServeFile::new(dir.join("index.html"));
    let assets = Router::new()
        .fallback_service(tower_http::services::ServeDir::new(&dir))
        .layer(axum::middleware::from_fn(hide_private));
    Router::new().route_service("/", index).nest("/web", assets)
}

async fn hide_private(request: Request, next: Next) -> Response {
    if !is_public(request.uri().path()) {
        return super::error::ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    }
    next.run(request).await
}

/// Whether a request path under `/web` names a served file: checked on the
/// percent-decoded path (`%74ests` is `tests`), with no `..`, backslash or
/// NUL, and a first segment that is not private (in any case).
fn is_public(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                decoded.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
            }
            (b'%', _, _) => return false,
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let Ok(text) = String::from_utf8(decoded) else { return false };
    let mut segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    if segments.first() == Some(&"web") {
        segments.remove(0);
    }
    if segments.iter().any(|s| *s == ".." || s.contains(['\\', '\0', '%'])) {
        return false;
    }
    let first = segments.first().copied().unwrap_or("");
    !PRIVATE.iter().any(|p| p.eq_ignore_ascii_case(first))
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_files_are_hidden_however_spelled() {
        assert!(is_public("/web/src/main.js"));
        assert!(is_public("/web/app.css"));
        for bad in [
            "/web/tests/x",
            "/web/%74ests/x",
            "/web/./tests/x",
            "//web//tests/x",
            "/web/TESTS/x",
            "/web/%2574ests/x",
            "/web/node_modules/a",
            "/web/src/../tests/x",
            "/web/package.json",
            "/web/test-artifacts/diary-week-1280.png",
        ] {
            assert!(!is_public(bad), "{bad}");
        }
    }
}
