//! The add-in's files, served from an allow-list: the task pane, its help
//! page, the manifest, `src/` and `assets/`. Everything else in `addin/`
//! (the tests with their `node_modules`, the icon tool, the README) is not
//! served, however the path is spelled: the path is percent-decoded and
//! normalized first, and what is served is the normalized path.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The entries of `addin/` that are served (compared exactly, case
/// included).
pub const ADDIN_PUBLIC: [&str; 6] = ["taskpane.html", "taskpane.css", "help.html", "manifest.xml", "src", "assets"];

/// The percent-decoded bytes of `path`; `None` for a malformed escape.
fn percent_decode(path: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(path.len());
    let mut bytes = path.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(bytes.next()?).to_digit(16)?;
            let lo = char::from(bytes.next()?).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// The normalized path under `addin/` of a request path (`/src/main.js`),
/// when it names an allowed file: decoded, empty and `.` segments dropped;
/// `None` for `..`, backslashes, NUL, colons, a `%` left after decoding, or
/// a first segment not in [`ADDIN_PUBLIC`].
pub fn public_addin_path(path: &str) -> Option<String> {
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0', ':', '%']) => return None,
            s => segments.push(s),
        }
    }
    let first = segments.first()?;
    if !ADDIN_PUBLIC.contains(first) {
        return None;
    }
    Some(format!("/{}", segments.join("/")))
}

/// Lets through requests for allowed files only, with the normalized path;
/// 404 for the rest.
pub async fn addin_allow_list(mut request: Request, next: Next) -> Response {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response();
    let Some(path) = public_addin_path(request.uri().path()) else {
        return not_found();
    };
    let Ok(uri) = Uri::builder().path_and_query(path).build() else {
        return not_found();
    };
    *request.uri_mut() = uri;
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::public_addin_path;

    #[test]
    fn only_allowed_paths_pass() {
        assert_eq!(public_addin_path("/taskpane.html").as_deref(), Some("/taskpane.html"));
        assert_eq!(public_addin_path("//src/./main.js").as_deref(), Some("/src/main.js"));
        assert_eq!(public_addin_path("/%73rc/main.js").as_deref(), Some("/src/main.js"));
        for bad in [
            "/tests/package.json",
            "/%74ests/package.json",
            "/./tests/package.json",
            "/tests/../tests/package.json",
            "/src/../tests/package.json",
            "//tests/package.json",
            "/Tests/package.json",
            "/TESTS/package.json",
            "/tools/make_icons.py",
            "/src/%2e%2e/tests/package.json",
            "/src%2f..%2ftests/package.json",
            "/%2574ests/package.json",
            "/src\\..\\tests",
            "/README.md",
            "/",
            "/%zz",
        ] {
            assert_eq!(public_addin_path(bad), None, "{bad}");
        }
    }
}
