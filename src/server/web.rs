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

/// Folders and files of `web/` that are not part of the client (its tests,
/// the npm install it is copied from, the npm manifest): not served.
const PRIVATE: [&str; 4] = ["tests", "node_modules", "package.json", "package-lock.json"];

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
    let path = request.uri().path();
    let inside = path.strip_prefix("/web").unwrap_or(path);
    let first = inside.trim_start_matches('/').split('/').next().unwrap_or("");
    if PRIVATE.contains(&first) {
        return super::error::ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    }
    next.run(request).await
}
