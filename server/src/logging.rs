//! The log: `tracing` records written to stderr by `tracing-subscriber`,
//! one line each, as text for people or as JSON for log collectors.
//!
//! `RUST_LOG` chooses the levels and targets (`info` when unset), e.g.
//! `RUST_LOG=invitelink::mail=debug` or `RUST_LOG=warn,invitelink::http=info`.
//! The targets: `invitelink::http` (one record per request),
//! `invitelink::inbox` (one record per decision taken in),
//! `invitelink::mail` (the pollers and the sender), `invitelink::server`.
//!
//! Architecture Invariant: no record carries a message body, a password or a
//! token; requests are logged by method, route and status, never by header
//! or query.

use super::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset or empty.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber (once; later calls do nothing). An invalid
/// `RUST_LOG` falls back to [`DEFAULT_FILTER`] and says so.
pub fn init(format: LogFormat) {
    let spec = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty());
    let (filter, invalid) = match spec.as_deref().map(EnvFilter::try_new) {
        Some(Ok(f)) => (f, None),
        Some(Err(e)) => (EnvFilter::new(DEFAULT_FILTER), Some(e.to_string())),
        None => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
    if installed.is_ok()
        && let Some(e) = invalid
    {
        tracing::warn!(target: "invitelink::server", error = %e, "RUST_LOG is not a valid filter; logging at `info`");
    }
}
