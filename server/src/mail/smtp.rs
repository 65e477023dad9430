//! Sending: a composed message (see [`invitelink::imip::compose`]) handed to an
//! SMTP submission server (RFC 6409) with `lettre`.

use super::config::{SmtpConfig, Tls};
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as LettreTls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::fmt;
use std::future::Future;

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpError {
    /// The settings cannot be used (bad CA file, ...).
    Config(String),
    /// A sender or recipient address is not one SMTP takes.
    Address(String),
    /// The server could not be reached, the connection broke, timed out, or
    /// TLS failed: worth trying again later.
    Connection(String),
    /// The server answered 4xx: worth trying again later.
    Transient {
        /// The reply code.
        code: Option<u16>,
        /// The server's text.
        message: String,
    },
    /// The server answered 5xx (unknown recipient, authentication refused,
    /// ...): trying again will not help.
    Permanent {
        /// The reply code.
        code: Option<u16>,
        /// The server's text.
        message: String,
    },
}

impl SmtpError {
    /// Whether sending the same message again cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmtpError::Permanent { .. } | SmtpError::Address(_) | SmtpError::Config(_))
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Config(m) => write!(f, "smtp settings: {m}"),
            SmtpError::Address(m) => write!(f, "smtp address: {m}"),
            SmtpError::Connection(m) => write!(f, "smtp connection: {m}"),
            SmtpError::Transient { code, message } => {
                write!(
                    f,
                    "smtp server refused for now ({}): {message}",
                    code.map(|c| c.to_string()).unwrap_or_default()
                )
            }
            SmtpError::Permanent { code, message } => {
                write!(f, "smtp server refused ({}): {message}", code.map(|c| c.to_string()).unwrap_or_default())
            }
        }
    }
}

impl std::error::Error for SmtpError {}

/// Something that delivers a composed message to its recipients: the SMTP
/// sender, or a stand-in in tests.
pub trait Transport: Send + Sync {
    /// Sends `raw` (a whole RFC 5322 message) from `from` to `to` (the SMTP
    /// envelope, RFC 5321 3.3).
    fn send(&self, from: &str, to: &[String], raw: &[u8]) -> impl Future<Output = Result<(), SmtpError>> + Send;
}

/// Sends messages through one SMTP server, a connection per message.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSender").field("server", &self.server).finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender for the server of `config`. Connects only when sending.
    pub fn new(config: &SmtpConfig) -> Result<SmtpSender, SmtpError> {
        let tls_parameters = || -> Result<TlsParameters, SmtpError> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                for der in super::tls::read_ca_file(path).map_err(SmtpError::Config)? {
                    let cert = Certificate::from_der(der.to_vec()).map_err(|e| SmtpError::Config(e.to_string()))?;
                    builder = builder.add_root_certificate(cert);
                }
            }
            builder.build_rustls().map_err(|e| SmtpError::Config(format!("TLS cannot be set up: {e}")))
        };
        let tls = match config.tls {
            Tls::Implicit => LettreTls::Wrapper(tls_parameters()?),
            Tls::StartTls => LettreTls::Required(tls_parameters()?),
            Tls::None if super::config::is_loopback(&config.host) => LettreTls::None,
            Tls::None => {
                return Err(SmtpError::Config(format!(
                    "plain text (tls = \"none\") is allowed only towards a loopback host, not `{}`",
                    config.host
                )));
            }
        };
        // The connection pool starts its cleaner task as it is built and again
        // as it is dropped: outside a Tokio runtime that would panic.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SmtpError::Config("the SMTP sender must be created inside a Tokio runtime".into()));
        }
        let hello = config.hello_name.clone().unwrap_or_else(|| "localhost".to_owned());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .hello_name(ClientId::Domain(hello))
            .timeout(Some(config.timeout));
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(SmtpSender { transport: builder.build(), server: format!("{}:{}", config.host, config.port) })
    }

    /// Sends `raw` from `from` to `to`.
    pub async fn send_raw(&self, from: &str, to: &[String], raw: &[u8]) -> Result<(), SmtpError> {
        let parse = |a: &str| {
            let a = a.trim();
            let a = a.strip_prefix("mailto:").or_else(|| a.strip_prefix("MAILTO:")).unwrap_or(a);
            a.parse::<Address>().map_err(|e| SmtpError::Address(format!("`{a}`: {e}")))
        };
        let recipients = to.iter().map(|t| parse(t)).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(parse(from)?), recipients).map_err(|e| SmtpError::Address(e.to_string()))?;
        self.transport.send_raw(&envelope, raw).await.map(|_| ()).map_err(|e| classify(&e))
    }
}

impl Transport for SmtpSender {
    async fn send(&self, from: &str, to: &[String], raw: &[u8]) -> Result<(), SmtpError> {
        self.send_raw(from, to, raw).await
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> SmtpError {
    let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    let message = e.to_string();
    if e.is_permanent() {
        SmtpError::Permanent { code, message }
    } else if e.is_transient() {
        SmtpError::Transient { code, message }
    } else {
        SmtpError::Connection(message)
    }
}
