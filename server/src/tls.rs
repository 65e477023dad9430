//! HTTPS for the backend: the add-in's manifest names `https://localhost:3443`,
//! and Outlook loads a task pane only over HTTPS with a certificate it trusts.
//!
//! [`serve_tls`] serves the same router as [`super::serve`] over TLS with a
//! certificate from a [`CertSource`]: either PEM files the operator names, or
//! a self-signed certificate for `localhost`, `127.0.0.1` and `::1` made on
//! the first start ([`ensure_self_signed`]) and reused afterwards, whose
//! trust commands [`trust_instructions`] prints for each system.
//!
//! Architecture Invariant: only this module knows TLS; the router is the
//! plain-HTTP one.

use super::{AppState, Limits, ServeError, ServeOptions, Server, announce, app, bind, ctrl_c};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// File name of the self-signed certificate, next to the database file.
pub const CERT_FILE: &str = "invitelink-cert.pem";

/// File name of the self-signed certificate's private key.
pub const KEY_FILE: &str = "invitelink-key.pem";

/// The names the self-signed certificate is valid for.
pub const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Days the self-signed certificate is valid: under the 398 days browsers
/// and macOS accept for a server certificate.
pub const VALID_DAYS: i64 = 397;

/// A self-signed certificate older than this many days is made anew at start.
pub const RENEW_AFTER_DAYS: u64 = 390;

/// How long open connections may finish after shutdown is asked.
const GRACE: Duration = Duration::from_secs(10);

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// The self-signed certificate for this machine in `dir`
    /// ([`CERT_FILE`], [`KEY_FILE`]), made when missing.
    SelfSigned {
        /// The directory of the two files.
        dir: PathBuf,
    },
    /// A certificate chain and its private key, PEM files.
    Files {
        /// The certificate chain, leaf first.
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

impl CertSource {
    /// The self-signed certificate next to the database of `database`
    /// (`sqlite:PATH`); the current directory for other databases.
    pub fn next_to_database(database: &str) -> CertSource {
        CertSource::SelfSigned { dir: database_dir(database) }
    }
}

/// The certificate a server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
    /// Made by this start (not reused).
    pub created: bool,
    /// Self-signed for this machine: browsers trust it once told to.
    pub self_signed: bool,
}

/// Why TLS could not be set up.
#[derive(Debug)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    Io(PathBuf, std::io::Error),
    /// A file holds no usable certificate or key.
    Pem(PathBuf, String),
    /// The certificate could not be made.
    Generate(String),
    /// rustls refused the certificate and key.
    Config(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Io(path, e) => write!(f, "`{}`: {e}", path.display()),
            TlsError::Pem(path, m) => write!(f, "`{}`: {m}", path.display()),
            TlsError::Generate(m) => write!(f, "cannot make a certificate: {m}"),
            TlsError::Config(m) => write!(f, "certificate refused: {m}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl From<TlsError> for ServeError {
    fn from(e: TlsError) -> Self {
        ServeError::Tls(e.to_string())
    }
}

/// The directory of a `sqlite:PATH` database file (`.` when it has none, or
/// for other databases).
pub fn database_dir(database: &str) -> PathBuf {
    let Some(rest) = database.strip_prefix("sqlite:") else {
        return PathBuf::from(".");
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return PathBuf::from(".");
    }
    match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The certificate of `source`: the named files as they are, or the
/// self-signed one, made when missing, unreadable or near its end.
pub fn ensure(source: &CertSource) -> Result<CertFiles, TlsError> {
    match source {
        CertSource::Files { cert, key } => {
            Ok(CertFiles { cert: cert.clone(), key: key.clone(), created: false, self_signed: false })
        }
        CertSource::SelfSigned { dir } => ensure_self_signed(dir),
    }
}

/// The self-signed certificate in `dir`: reused when both files are there,
/// readable and younger than [`RENEW_AFTER_DAYS`]; otherwise made anew for
/// [`LOCAL_NAMES`] (ECDSA P-256, valid [`VALID_DAYS`] days), the key
/// readable by its owner only.
pub fn ensure_self_signed(dir: &Path) -> Result<CertFiles, TlsError> {
    let cert = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    if reusable(&cert, &key) {
        return Ok(CertFiles { cert, key, created: false, self_signed: true });
    }
    std::fs::create_dir_all(dir).map_err(|e| TlsError::Io(dir.to_path_buf(), e))?;
    let (cert_pem, key_pem) = generate(super::store::now().date_naive())?;
    write_private(&key, key_pem.as_bytes())?;
    std::fs::write(&cert, cert_pem.as_bytes()).map_err(|e| TlsError::Io(cert.clone(), e))?;
    Ok(CertFiles { cert, key, created: true, self_signed: true })
}

fn reusable(cert: &Path, key: &Path) -> bool {
    let young = std::fs::metadata(cert)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < Duration::from_secs(RENEW_AFTER_DAYS * 24 * 3600));
    young && server_config(cert, key).is_ok()
}

/// A new self-signed certificate and key for [`LOCAL_NAMES`], valid from the
/// day before `today` for [`VALID_DAYS`] days: `(certificate PEM, key PEM)`.
pub fn generate(today: chrono::NaiveDate) -> Result<(String, String), TlsError> {
    use chrono::Datelike;
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, date_time_ymd};
    let names: Vec<String> = LOCAL_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "invitelink localhost");
    params.distinguished_name.push(DnType::OrganizationName, "invitelink development");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let ymd = |d: chrono::NaiveDate| {
        let month = u8::try_from(d.month()).unwrap_or(1);
        let day = u8::try_from(d.day()).unwrap_or(1);
        date_time_ymd(d.year(), month, day)
    };
    let start = today.pred_opt().unwrap_or(today);
    let end = today.checked_add_days(chrono::Days::new(VALID_DAYS.unsigned_abs())).unwrap_or(today);
    params.not_before = ymd(start);
    params.not_after = ymd(end);
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| TlsError::Generate(e.to_string()))?;
    // A positive serial number (RFC 5280 4.1.2.2).
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
    }
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let key = KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = params.self_signed(&key).map_err(|e| TlsError::Generate(e.to_string()))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes a private key readable by its owner only (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    // A new file, so that the mode below applies; `create_new` also refuses
    // to follow a link planted in its place.
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| TlsError::Io(path.to_path_buf(), e))?;
    file.write_all(bytes).map_err(|e| TlsError::Io(path.to_path_buf(), e))
}

/// The rustls configuration for a certificate chain and key in PEM files:
/// TLS 1.2 and 1.3 with the `ring` provider, ALPN `h2` and `http/1.1`.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let pem = std::fs::read(cert).map_err(|e| TlsError::Io(cert.to_path_buf(), e))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(cert.to_path_buf(), e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Pem(cert.to_path_buf(), "no certificate in the file".to_owned()));
    }
    let key_pem = std::fs::read(key).map_err(|e| TlsError::Io(key.to_path_buf(), e))?;
    let private =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Pem(key.to_path_buf(), e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How to make this machine's browsers (and so Outlook's task pane) trust
/// the self-signed certificate at `cert`: one command per system (and a
/// check with curl against the server's `port`).
pub fn trust_instructions(cert: &Path, port: u16) -> String {
    let path = cert.display();
    let mut out = String::from("  to trust the certificate (once, then restart the browser or Outlook):\n");
    out.push_str(&format!("    Windows: certutil -user -addstore Root \"{path}\"\n"));
    out.push_str(&format!(
        "    macOS:   sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain \"{path}\"\n"
    ));
    out.push_str(&format!(
        "    Linux:   sudo cp \"{path}\" /usr/local/share/ca-certificates/invitelink-localhost.crt && sudo update-ca-certificates\n"
    ));
    out.push_str(&format!(
        "    Chromium on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t \"P,,\" -n invitelink-localhost -i \"{path}\"\n"
    ));
    out.push_str("    Firefox: Settings > Privacy & Security > Certificates > View Certificates > Servers > Import\n");
    out.push_str(&format!("    curl:    curl --cacert \"{path}\" https://localhost:{port}/health"));
    out
}

impl Server {
    /// Serves over TLS with `config` until `shutdown` completes (open
    /// connections get [`GRACE`] to finish), then closes the database. The
    /// mail pollers and sender loop, when configured, run alongside and stop
    /// with it, as with [`Server::run`].
    pub async fn run_tls(
        self,
        config: Arc<ServerConfig>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.run_tls_within(config, shutdown, GRACE).await
    }

    /// [`Server::run_tls`] giving open connections `grace` to finish.
    pub async fn run_tls_within(
        self,
        config: Arc<ServerConfig>,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> Result<(), ServeError> {
        let Server { listener, state, mail, .. } = self;
        let store = state.store.clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mail = mail.as_ref().map(|m| super::mailbox::spawn(&state, m, &stopped)).unwrap_or_default();
        let ready = state.ready.clone();
        ready.set(true);
        let shutdown = async move {
            shutdown.await;
            ready.set(false);
            let _ = stop.send(true);
        };
        let result = serve_tls_on(listener, state, config, shutdown, grace).await;
        for task in mail {
            let _ = task.await;
        }
        store.close().await;
        result.map_err(ServeError::Io)
    }
}

async fn serve_tls_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    config: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::<std::net::SocketAddr>::new();
    let stopper = handle.clone();
    let watcher = tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(grace));
    });
    let acceptor =
        axum_server::tls_rustls::RustlsAcceptor::new(axum_server::tls_rustls::RustlsConfig::from_config(config));
    let result = axum_server::Server::from_listener(listener)
        .acceptor(acceptor)
        .handle(handle)
        .serve(app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await;
    watcher.abort();
    result
}

/// Serves the API over HTTPS until Ctrl-C, with the certificate of `source`
/// (a self-signed one is made on first start and its trust commands printed).
pub async fn serve_tls(opts: ServeOptions, source: CertSource) -> Result<(), ServeError> {
    serve_tls_with(opts, source, Limits::default()).await
}

/// [`serve_tls`] with `limits`.
pub async fn serve_tls_with(opts: ServeOptions, source: CertSource, limits: Limits) -> Result<(), ServeError> {
    let (files, config) = prepare(&source)?;
    let server = bind(&opts).await?.with_limits(limits);
    announce(&opts, &server, true)?;
    announce_certificate(&files, server.local_addr()?.port());
    server.run_tls(config, ctrl_c()).await
}

/// The certificate of `source` (made when it is a missing self-signed one)
/// and the TLS configuration serving it.
pub fn prepare(source: &CertSource) -> Result<(CertFiles, Arc<ServerConfig>), ServeError> {
    let files = ensure(source)?;
    let config = server_config(&files.cert, &files.key)?;
    Ok((files, config))
}

/// Prints the certificate served, and for a self-signed one how to trust it.
pub fn announce_certificate(files: &CertFiles, port: u16) {
    if files.self_signed {
        let made = if files.created { "made" } else { "reused" };
        println!("  certificate ({made}, self-signed for localhost): {}", files.cert.display());
        println!("{}", trust_instructions(&files.cert, port));
    } else {
        println!("  certificate: {}", files.cert.display());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn database_dir_is_the_sqlite_file_directory() {
        assert_eq!(database_dir("sqlite:/var/crm/crm.sqlite"), PathBuf::from("/var/crm"));
        assert_eq!(database_dir("sqlite:///var/crm/crm.sqlite?mode=rwc"), PathBuf::from("/var/crm"));
        assert_eq!(database_dir("sqlite:target/demo.sqlite"), PathBuf::from("target"));
        assert_eq!(database_dir("sqlite:crm.sqlite"), PathBuf::from("."));
        assert_eq!(database_dir("sqlite::memory:"), PathBuf::from("."));
        assert_eq!(database_dir("postgres://localhost/crm"), PathBuf::from("."));
    }

    #[test]
    fn a_generated_certificate_loads_and_is_reused() {
        let dir = std::env::temp_dir().join(format!("invitelink-tls-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = ensure_self_signed(&dir).unwrap();
        assert!(first.created && first.self_signed);
        let pem = std::fs::read_to_string(&first.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        server_config(&first.cert, &first.key).unwrap();
        let second = ensure_self_signed(&dir).unwrap();
        assert!(!second.created);
        assert_eq!(std::fs::read_to_string(&second.cert).unwrap(), pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        // A damaged key is replaced.
        std::fs::write(&first.key, "not a key").unwrap();
        let third = ensure_self_signed(&dir).unwrap();
        assert!(third.created);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
