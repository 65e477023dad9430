//! The CRM backend: an HTTP JSON API over the CRM store (SQLite by default,
//! PostgreSQL through the same code), which applies the engine's decisions,
//! and serves the add-in (`addin/`) and the wasm package (`pkg/`).
//!
//! [`app`] builds the router for a state; [`serve`] opens the database
//! (creating and migrating it on first start), seeds demo data when asked,
//! and serves until Ctrl-C. [`bind`] and [`Server::run`] do the same in two
//! steps, for callers that need the bound address or their own shutdown.
//!
//! Architecture Invariant: only this crate knows HTTP, SQL and mail servers;
//! it decides nothing about messages itself: it builds the engine's context
//! from the store and applies the decision's effects as written. The engine
//! (`invitelink`) does no I/O and knows nothing of this crate.

pub use invitelink::base64;
pub mod accounts;
pub mod admin;
pub mod appointments;
pub mod archive;
pub mod auth;
pub mod availability;
pub mod calendar;
pub mod config;
pub mod contacts;
pub mod directory;
pub mod engine;
pub mod error;
pub mod feed;
pub mod followups;
pub mod headers;
pub mod inbox;
pub mod input;
pub mod invitations;
pub mod logging;
pub mod mail;
pub mod mailbox;
pub mod metrics;
pub mod observe;
pub mod outbox;
pub mod preferences;
pub mod received;
pub mod static_files;
pub mod store;
/// The demo data (`serve --demo`), seeded through the store.
pub use store::demo;
/// Write jobs sharing one transaction, through the store.
pub use store::group_commit;
pub mod throttle;
pub mod tls;
pub mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use error::{ApiError, Json};
use serde::Serialize;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

pub use store::Store as CrmStore;

/// The largest request body accepted, in bytes, by the endpoints that take
/// whole messages (the inbox and the archive): an e-mail of the engine's
/// 10 MiB limit, JSON-escaped, fits.
pub const MAX_BODY_BYTES: usize = 24 * 1024 * 1024;

/// The largest body of the other JSON endpoints, in bytes.
pub const API_BODY_BYTES: usize = 256 * 1024;

/// The largest body of the sign-in and password endpoints, in bytes.
pub const SIGNIN_BODY_BYTES: usize = 4 * 1024;

/// The server's protections that an operator may tune (`invitelink serve`
/// flags); [`Limits::default`] is what the server uses otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A request (reading its body included) that takes longer is answered
    /// 408 `timeout`. Default 30 s.
    pub request_timeout: Duration,
    /// Requests handled at once; more wait their turn (within the timeout).
    /// Default 256.
    pub max_in_flight: usize,
    /// A token unused this long is refused. Default 8 hours.
    pub token_idle: Duration,
    /// A token older than this is refused, used or not. Default 30 days.
    pub token_lifetime: Duration,
    /// Sign-in attempts allowed per account and client address.
    pub signin: throttle::ThrottlePolicy,
    /// Password hashes computed at once (each takes 19 MiB and a core for
    /// tens of milliseconds). Default: the number of cores, at least 2.
    pub password_hashing: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            max_in_flight: 256,
            token_idle: Duration::from_secs(8 * 3600),
            token_lifetime: Duration::from_secs(30 * 24 * 3600),
            signin: throttle::ThrottlePolicy::default(),
            password_hashing: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The CRM store.
    pub store: Store,
    /// The repository root: `addin/` and `pkg/` are served from there.
    pub static_root: PathBuf,
    /// The writer that lets concurrent write jobs share a commit (the inbox).
    pub group_commit: group_commit::GroupCommit,
    /// How `POST /api/inbox` judges whether an e-mail is authenticated.
    pub authenticator: crate::mail::Authenticator,
    /// The DNS of DKIM and DMARC checks, shared by the inboxes (none when no
    /// check needs it).
    pub dns: Option<crate::mail::Dns>,
    /// The protections in force.
    pub limits: Limits,
    /// Token lifetimes, the sign-in throttle and the password-hashing bound.
    pub sessions: Arc<auth::Sessions>,
    /// The inboxes polled and the SMTP server, as configured (for the
    /// administrator's mail status; no credentials).
    pub mail: Arc<admin::MailSetup>,
    /// Whether `/ready` may say so (not before serving, not while stopping).
    pub ready: Readiness,
}

/// Whether the server takes work: set when it starts serving (the database
/// is open and migrated by then), cleared when it starts to stop.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<std::sync::atomic::AtomicBool>);

impl Readiness {
    /// Whether the server is serving and not stopping.
    pub fn is_ready(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets the flag.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, std::sync::atomic::Ordering::SeqCst);
    }
}

impl AppState {
    /// The state of a server on `store` with the default [`Limits`] (a
    /// [`Server::with_limits`] replaces them).
    pub fn new(
        store: Store,
        static_root: PathBuf,
        authenticator: crate::mail::Authenticator,
        dns: Option<crate::mail::Dns>,
    ) -> AppState {
        let limits = Limits::default();
        AppState {
            group_commit: group_commit::GroupCommit::start(store.clone()),
            store,
            static_root,
            authenticator,
            dns,
            sessions: Arc::new(auth::Sessions::new(&limits)),
            limits,
            mail: Arc::default(),
            ready: Readiness::default(),
        }
    }
}

/// How to start the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Database URL: `sqlite:PATH` (created when missing) or `postgres://...`.
    pub database: String,
    /// Seed demo data into an empty database and print the demo sign-ins.
    pub demo: bool,
    /// The repository root: serves `addin/` at `/addin/` and `pkg/` at `/pkg/`.
    pub static_root: PathBuf,
    /// Mail settings: the inboxes polled and the SMTP server the outbox is
    /// sent through (none: no mail in or out).
    pub mail: Option<crate::mail::MailConfig>,
}

/// Why the backend could not start or stopped.
#[derive(Debug)]
pub enum ServeError {
    /// The database could not be opened, migrated or seeded.
    Database(String),
    /// The address could not be bound, or serving failed.
    Io(std::io::Error),
    /// The TLS certificate could not be made or read.
    Tls(String),
    /// Started without `--demo` on a database whose demo accounts still have
    /// their published passwords (their e-mail addresses).
    DemoPasswords(Vec<String>),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Database(m) => write!(f, "database: {m}"),
            ServeError::Io(e) => write!(f, "server: {e}"),
            ServeError::Tls(m) => write!(f, "tls: {m}"),
            ServeError::DemoPasswords(emails) => write!(
                f,
                "the database holds demo accounts whose passwords are published ({}); start with `--demo` to \
                 keep using them as demo data, or, started with `--demo`, give each a new password \
                 (`PUT /api/me/password`, or an administrator's `PUT /api/associates/{{id}}/password`) \
                 before serving without it",
                emails.join(", ")
            ),
        }
    }
}

impl std::error::Error for ServeError {}

/// Health of the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The program's version.
    pub version: String,
}

/// Whether the server is up (no token needed).
#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

/// Readiness of the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
}

/// Whether the server takes work (no token needed): 200 once the database
/// is migrated and answers, 503 `not_ready` before that, when the database
/// does not answer within 2 seconds, and while the server stops. `/health`
/// only says that the process is alive.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses((status = 200, body = Ready), (status = 503, body = error::ErrorBody)))]
pub async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> Result<Json<Ready>, ApiError> {
    let not_ready = |why: &str| {
        let mut e = ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "not_ready", why);
        e.retry_after = Some(1);
        e
    };
    if !state.ready.is_ready() {
        return Err(not_ready("the server is starting or stopping"));
    }
    match tokio::time::timeout(Duration::from_secs(2), state.store.answers()).await {
        Ok(true) if state.ready.is_ready() => Ok(Json(Ready { status: "ready".to_owned() })),
        Ok(true) => Err(not_ready("the server is stopping")),
        _ => Err(not_ready("the database does not answer")),
    }
}

/// The OpenAPI document of this API (no token needed).
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "invitelink CRM API", description = "Follow-ups, invitations, inbox and archive of the CRM. See docs/api.md."),
    modifiers(&BearerAuth),
    paths(
        health, ready, openapi_json,
        auth::signin, auth::signout, auth::me,
        accounts::change_password, accounts::signout_all, accounts::reset_password, accounts::signout_user,
        directory::associates, directory::companies, directory::persons, directory::create_person,
        directory::contacts, directory::person,
        contacts::update_person, contacts::delete_person, contacts::company, contacts::create_company,
        contacts::update_company, contacts::delete_company, contacts::import_preview, contacts::import_commit,
        directory::resources, directory::projects, directory::sales,
        archive::activities,
        followups::create, followups::get, followups::reschedule, followups::delete, followups::assign,
        followups::reassign, followups::add_participants, followups::remove_participant,
        invitations::list, invitations::seen, invitations::accept, invitations::decline,
        invitations::notifications, invitations::got_it, invitations::diary,
        availability::freebusy, availability::first_available_slot,
        preferences::get_preferences, preferences::put_preferences, preferences::get_settings,
        preferences::put_settings,
        inbox::deliver, inbox::answer,
        received::messages, received::context, calendar::calendar,
        archive::archive, archive::list, archive::suggestions,
        outbox::list, outbox::mark_sent,
        admin::associates, admin::create_associate, admin::change_associate, admin::password_link,
        admin::link_info, admin::use_link, admin::resources, admin::create_resource, admin::change_resource,
        admin::mail_status, admin::retry_outbox,
        feed::status, feed::create, feed::revoke, feed::serve,
    )
)]
pub struct ApiDoc;

async fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
}

/// The router of the whole API, for `state`, with its protections: a
/// timeout and a cap on requests in flight for every request, body limits by
/// route, security headers on every response, and the add-in served from an
/// allow-list.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    let addin = Router::new()
        .fallback_service(tower_http::services::ServeDir::new(state.static_root.join("addin")))
        .layer(axum::middleware::from_fn(static_files::addin_allow_list));
    let pkg = tower_http::services::ServeDir::new(state.static_root.join("pkg"));
    let web_client = web::routes(&state.static_root);
    let small = || DefaultBodyLimit::max(SIGNIN_BODY_BYTES);
    let large = || DefaultBodyLimit::max(MAX_BODY_BYTES);
    let import = || DefaultBodyLimit::max(contacts::IMPORT_BODY_BYTES);
    let api = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/openapi.json", get(openapi_json))
        .route("/api/signin", post(auth::signin).layer(small()))
        .route("/api/signout", post(auth::signout))
        .route("/api/signout/all", post(accounts::signout_all))
        .route("/api/me", get(auth::me))
        .route("/api/me/password", put(accounts::change_password).layer(small()))
        .route("/api/associates", get(directory::associates).post(admin::create_associate))
        .route("/api/associates/{id}", patch(admin::change_associate))
        .route("/api/associates/{id}/password", put(accounts::reset_password).layer(small()))
        .route("/api/associates/{id}/password-link", post(admin::password_link))
        .route("/api/password-links/{secret}", get(admin::link_info).post(admin::use_link).layer(small()))
        .route("/api/admin/associates", get(admin::associates))
        .route("/api/admin/resources", get(admin::resources))
        .route("/api/admin/mail", get(admin::mail_status))
        .route("/api/me/feed", get(feed::status).post(feed::create).delete(feed::revoke))
        .route("/feeds/{file}", get(feed::serve))
        .route("/api/associates/{id}/signout", post(accounts::signout_user))
        .route("/api/companies", get(directory::companies).post(contacts::create_company))
        .route("/api/persons", get(directory::persons).post(directory::create_person))
        .route("/api/contacts", get(directory::contacts))
        .route("/api/persons/{id}", get(directory::person).put(contacts::update_person).delete(contacts::delete_person))
        // Contacts and companies (server/src/contacts.rs).
        .route(
            "/api/companies/{id}",
            get(contacts::company).put(contacts::update_company).delete(contacts::delete_company),
        )
        .route("/api/contacts/import/preview", post(contacts::import_preview).layer(import()))
        .route("/api/contacts/import", post(contacts::import_commit).layer(import()))
        .route("/api/persons/{id}/activities", get(archive::activities))
        .route("/api/resources", get(directory::resources).post(admin::create_resource))
        .route("/api/resources/{id}", patch(admin::change_resource))
        .route("/api/projects", get(directory::projects))
        .route("/api/sales", get(directory::sales))
        .route("/api/followups", post(followups::create))
        .route("/api/followups/{id}", get(followups::get).delete(followups::delete))
        .route("/api/followups/{id}/reschedule", post(followups::reschedule))
        .route("/api/followups/{id}/assign", post(followups::assign))
        .route("/api/followups/{id}/reassign", post(followups::reassign))
        .route("/api/followups/{id}/participants", post(followups::add_participants))
        .route(
            "/api/followups/{id}/participants/{participant_id}",
            axum::routing::delete(followups::remove_participant),
        )
        .route("/api/invitations", get(invitations::list))
        .route("/api/invitations/{id}/seen", post(invitations::seen))
        .route("/api/invitations/{id}/accept", post(invitations::accept))
        .route("/api/invitations/{id}/decline", post(invitations::decline))
        .route("/api/notifications", get(invitations::notifications))
        .route("/api/notifications/{id}/got-it", post(invitations::got_it))
        .route("/api/diary", get(invitations::diary))
        .route("/api/freebusy", get(availability::freebusy))
        .route("/api/first-available", get(availability::first_available_slot))
        .route("/api/preferences", get(preferences::get_preferences).put(preferences::put_preferences))
        .route("/api/settings", get(preferences::get_settings).put(preferences::put_settings))
        .route("/api/inbox", post(inbox::deliver).layer(large()))
        .route("/api/inbox/actions", post(inbox::answer).layer(large()))
        .route("/api/archive", post(archive::archive).get(archive::list).layer(large()))
        .route("/api/archive/suggestions", get(archive::suggestions))
        .route("/api/outbox", get(outbox::list))
        .route("/api/outbox/{id}/sent", post(outbox::mark_sent))
        .route("/api/outbox/{id}/retry", post(admin::retry_outbox))
        // The web client's additions (server/src/received.rs, calendar.rs).
        .route("/api/inbox/messages", get(received::messages))
        .route("/api/inbox/context", post(received::context).layer(large()))
        .route("/api/calendar", get(calendar::calendar))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(API_BODY_BYTES))
        .with_state(state);
    api.nest("/addin", addin)
        .nest_service("/pkg", pkg)
        .merge(web_client)
        // Global: `Router::layer` wraps every route on its own, and a plain
        // concurrency limit would count each route apart.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_in_flight.max(1)))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn(observe::id_in_errors))
        .layer(tower_http::request_id::PropagateRequestIdLayer::new(observe::REQUEST_ID))
        .layer(observe::trace_layer())
        .layer(axum::middleware::from_fn(observe::count))
        .layer(tower_http::request_id::SetRequestIdLayer::new(observe::REQUEST_ID, observe::RequestIds::default()))
        .layer(axum::middleware::from_fn(observe::vet_incoming_id))
}

/// A server bound to its address, with its database open.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
    /// The password of the administrator created on the first start without
    /// demo data (`demo::FIRST_ADMIN`); shown once.
    pub first_admin_password: Option<String>,
    mail: Option<crate::mail::MailConfig>,
}

/// Opens (creating and migrating) the database, seeds the demo data when
/// asked and the database is empty, and binds the address.
pub async fn bind(opts: &ServeOptions) -> Result<Server, ServeError> {
    let store = Store::open(&opts.database).await.map_err(|e| ServeError::Database(e.to_string()))?;
    store.claim_sole_instance(&opts.database).await.map_err(ServeError::Database)?;
    let first_admin_password = if opts.demo {
        demo::seed(&store).await.map_err(|e| ServeError::Database(e.to_string()))?;
        None
    } else {
        let published = demo::published_passwords(&store).await.map_err(|e| ServeError::Database(e.to_string()))?;
        if !published.is_empty() {
            store.close().await;
            return Err(ServeError::DemoPasswords(published));
        }
        demo::first_admin(&store).await.map_err(|e| ServeError::Database(e.to_string()))?
    };
    let listener = tokio::net::TcpListener::bind(opts.listen).await.map_err(ServeError::Io)?;
    let (authenticator, dns) = match &opts.mail {
        Some(mail) => {
            let dkim = mail.authentication.verify_dkim || mail.inboxes.iter().any(|i| i.authentication.verify_dkim);
            let dns = if !mail.dns_txt.is_empty() {
                Some(crate::mail::Dns::fixed(&mail.dns_txt))
            } else {
                dkim.then(crate::mail::Dns::system)
            };
            (crate::mail::Authenticator::new(mail.authentication.clone(), dns.clone()), dns)
        }
        None => (crate::mail::Authenticator::off(), None),
    };
    let mut state = AppState::new(store, opts.static_root.clone(), authenticator, dns);
    state.mail = Arc::new(admin::MailSetup::of(opts.mail.as_ref()));
    Ok(Server { listener, state, first_admin_password, mail: opts.mail.clone() })
}

impl Server {
    /// The server with `limits` instead of [`Limits::default`].
    pub fn with_limits(mut self, limits: Limits) -> Server {
        self.state.sessions = Arc::new(auth::Sessions::new(&limits));
        self.state.limits = limits;
        self
    }

    /// The server's readiness flag: set while it serves, cleared when it
    /// starts to stop.
    pub fn readiness(&self) -> Readiness {
        self.state.ready.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Io)
    }

    /// Serves until `shutdown` completes, then closes the database. The mail
    /// pollers and sender loop, when configured, run alongside and stop with it.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let store = self.state.store.clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mail = self.mail.as_ref().map(|m| mailbox::spawn(&self.state, m, &stopped)).unwrap_or_default();
        let ready = self.state.ready.clone();
        ready.set(true);
        let shutdown = async move {
            shutdown.await;
            ready.set(false);
            let _ = stop.send(true);
        };
        let service = app(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        for task in mail {
            let _ = task.await;
        }
        store.close().await;
        result.map_err(ServeError::Io)
    }
}

/// Serves the API over plain HTTP until Ctrl-C ([`tls::serve_tls`] for HTTPS).
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    serve_with(opts, Limits::default()).await
}

/// [`serve`] with `limits`.
pub async fn serve_with(opts: ServeOptions, limits: Limits) -> Result<(), ServeError> {
    let server = bind(&opts).await?.with_limits(limits);
    announce(&opts, &server, false)?;
    server.run(ctrl_c()).await
}

/// Completes on Ctrl-C.
async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Completes on SIGTERM (how service managers stop a service) or Ctrl-C.
pub async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!(target: "invitelink::server", "SIGTERM: stopping"),
                    _ = tokio::signal::ctrl_c() => tracing::info!(target: "invitelink::server", "Ctrl-C: stopping"),
                }
            }
            Err(_) => ctrl_c().await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c().await;
}

/// Serves with the effective `settings` of `invitelink serve` until SIGTERM
/// or Ctrl-C: the API (HTTP or HTTPS), the mail pollers and sender, and the
/// metrics listener when `metrics_listen` is set. On the signal, `/ready`
/// answers 503, no connection is accepted any more, and requests, the
/// inbox batch and the outbox message in hand are finished; what is not
/// done within `shutdown_timeout` is dropped (polled messages are offered
/// again, outbox claims run out).
pub async fn serve_settings(settings: config::Settings) -> Result<(), ServeError> {
    let opts = ServeOptions {
        listen: settings.listen,
        database: settings.database.clone(),
        demo: settings.demo,
        static_root: settings.static_root.clone(),
        mail: settings.mail.clone(),
    };
    let tls = match &settings.https {
        config::Https::On(source) => Some(tls::prepare(source)?),
        config::Https::Off => None,
    };
    let server = bind(&opts).await?.with_limits(settings.limits.clone());
    announce(&opts, &server, tls.is_some())?;
    if let Some((files, _)) = &tls {
        tls::announce_certificate(files, server.local_addr()?.port());
    }
    let metrics_task = match settings.metrics_listen {
        Some(addr) => {
            let handle = metrics::install()
                .ok_or_else(|| ServeError::Io(std::io::Error::other("the metrics recorder is taken")))?;
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(ServeError::Io)?;
            println!(
                "  metrics: http://{}/metrics (Prometheus text format)",
                listener.local_addr().map_err(ServeError::Io)?
            );
            let router = metrics::router(handle, server.state.store.clone(), server.state.ready.clone());
            Some(tokio::spawn(async move { axum::serve(listener, router).await }))
        }
        None => {
            println!("  metrics: off (set `metrics_listen` or `--metrics-listen` to serve them)");
            None
        }
    };
    println!(
        "  logs: stderr, {} format, filter RUST_LOG={}; readiness: /ready",
        match settings.log_format {
            config::LogFormat::Text => "text",
            config::LogFormat::Json => "json",
        },
        std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| logging::DEFAULT_FILTER.to_owned())
    );
    tracing::info!(target: "invitelink::server", listen = %settings.listen, database = %store::display_url(&settings.database),
        "serving");
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        terminated().await;
        let _ = signalled.send(());
    };
    let bound = settings.shutdown_timeout;
    let run = async move {
        match tls {
            Some((_, config)) => server.run_tls_within(config, shutdown, bound).await,
            None => server.run(shutdown).await,
        }
    };
    let deadline = async move {
        if on_signal.await.is_ok() {
            tokio::time::sleep(bound).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let result = tokio::select! {
        r = run => r,
        () = deadline => {
            tracing::warn!(target: "invitelink::server", seconds = bound.as_secs(),
                "work in flight did not finish within the shutdown timeout; stopping anyway");
            Ok(())
        }
    };
    if let Some(task) = metrics_task {
        task.abort();
    }
    tracing::info!(target: "invitelink::server", "stopped");
    result
}

/// Prints where the server listens, the add-in's task pane and manifest, and
/// the first sign-ins.
fn announce(opts: &ServeOptions, server: &Server, https: bool) -> Result<(), ServeError> {
    let addr = server.local_addr()?;
    let scheme = if https { "https" } else { "http" };
    // The certificate names localhost; so does the add-in's manifest.
    let host = if https && (addr.ip().is_loopback() || addr.ip().is_unspecified()) {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!("invitelink CRM listening on {scheme}://{host} (database {})", store::display_url(&opts.database));
    println!("  web client: {scheme}://{host}/");
    println!("  task pane: {scheme}://{host}/addin/taskpane.html   API description: {scheme}://{host}/openapi.json");
    println!("  add-in manifest: {}", opts.static_root.join("addin").join("manifest.xml").display());
    if let Some(password) = &server.first_admin_password {
        println!("  first start: administrator {} with password {password} (shown once)", demo::FIRST_ADMIN);
    }
    if opts.demo {
        println!("  demo sign-ins (demo data only):");
        for u in &demo::USERS {
            println!("    {:<26} password {:<10} ({})", u.email, u.password, u.role);
        }
    }
    Ok(())
}
