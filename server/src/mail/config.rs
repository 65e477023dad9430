//! Mail settings: a TOML file and environment variables.
//!
//! ```toml
//! poll_interval_secs = 60
//! message_id_domain = "crm.example"
//!
//! [smtp]
//! host = "smtp.example.com"
//! port = 587            # default by `tls`: 465 for "tls", 587 for "starttls", 25 for "none"
//! tls = "starttls"      # "tls" (implicit), "starttls" (required), "none" (loopback relays only)
//! user = "crm@crm.example"
//! password = "..."      # or `password_env = "VAR"`
//!
//! [[inbox]]
//! name = "crm"                       # names the inbox's environment variables
//! address = "crm@crm.example"        # the mailbox the messages are delivered to
//! host = "imap.example.com"
//! tls = "tls"                        # default port 993 ("tls") or 143
//! user = "crm@crm.example"
//! password_env = "CRM_IMAP_PASSWORD" # or `password`, `token` (OAuth 2.0, XOAUTH2), `token_env`
//! ```
//!
//! Environment variables override the file and can stand for it entirely:
//! `INVITELINK_MAIL_POLL_SECONDS`, `INVITELINK_MAIL_MESSAGE_ID_DOMAIN`,
//! `INVITELINK_SMTP_{HOST,PORT,TLS,USER,PASSWORD,CA_FILE,HELLO_NAME}`, and
//! for each inbox `INVITELINK_INBOX_<NAME>_{ADDRESS,HOST,PORT,TLS,USER,
//! PASSWORD,TOKEN,CA_FILE,FOLDER,MARK}` (`<NAME>` upper-cased, other than
//! letters and digits as `_`); an inbox named only in the environment is
//! added.
//!
//! Secrets are [`Secret`]s: their `Debug` prints `***`, and no error message
//! quotes them (TOML errors give the line, not the text).

use super::auth::AuthSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The prefix of every environment variable read.
pub const ENV_PREFIX: &str = "INVITELINK_";

/// The largest message the poller downloads (SPEC 7: 10 MiB); larger ones are
/// moved aside as `too_large`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// The messages of one poll when `batch` is not given: a full folder drains
/// in few transactions, each holding SQLite's writer for about a tenth of a
/// second (docs/mail.md); a batch's bytes are bounded as well.
pub const DEFAULT_BATCH: usize = 200;

/// How many times a message is offered to the backend before it is moved
/// aside as `too_many_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// How long an instance holds an inbox between renewals, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The most IMAP connections held at once, by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 50;

/// A password or token: never printed.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Tls {
    /// TLS from the first byte (IMAPS 993, SMTPS 465; RFC 8314).
    #[default]
    #[serde(rename = "tls")]
    Implicit,
    /// Plain text upgraded with `STARTTLS` (RFC 3501 6.2.1, RFC 3207), which
    /// must succeed.
    #[serde(rename = "starttls")]
    StartTls,
    /// No TLS: for a relay or server on loopback only.
    #[serde(rename = "none")]
    None,
}

impl Tls {
    fn parse(s: &str) -> Option<Tls> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tls" | "implicit" | "ssl" => Some(Tls::Implicit),
            "starttls" => Some(Tls::StartTls),
            "none" | "plain" => Some(Tls::None),
            _ => None,
        }
    }
}

/// How the poller marks a message it is done with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Flag it (`\Seen` and a keyword) and move it to the processed or
    /// rejected folder: the inbox holds only what is still to do.
    #[default]
    Move,
    /// Flag it and leave it where it is (for a mailbox people read too).
    Keyword,
}

/// The mail settings of the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Seconds between two polls of an inbox (where it is not waited for
    /// with `IDLE`).
    pub poll_interval: Duration,
    /// How long an instance holds an inbox between two renewals: an
    /// instance that dies is replaced after at most this long.
    pub lease: Duration,
    /// The most IMAP connections the pollers hold at once. With no more
    /// inboxes than this, each keeps its connection and waits with `IDLE`;
    /// with more, they take turns (first come, first served) and poll.
    pub max_connections: usize,
    /// The domain of the `Message-ID`s written (none: the sender's domain).
    pub message_id_domain: Option<String>,
    /// Where messages are sent (none: nothing is sent).
    pub smtp: Option<SmtpConfig>,
    /// The mailboxes polled.
    pub inboxes: Vec<InboxConfig>,
    /// How the HTTP inbox endpoint judges messages, and what an inbox
    /// without settings of its own does.
    pub authentication: AuthSettings,
    /// Fixed DNS TXT records `(name, text)` for DKIM keys and DMARC
    /// policies; when given, no DNS query is sent and other names do not
    /// exist (for tests and offline installations).
    pub dns_txt: Vec<(String, String)>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            poll_interval: Duration::from_secs(60),
            lease: DEFAULT_LEASE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            message_id_domain: None,
            smtp: None,
            inboxes: Vec::new(),
            authentication: AuthSettings::default(),
            dns_txt: Vec::new(),
        }
    }
}

/// An SMTP submission server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name (checked against the certificate) or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: Tls,
    /// User name for `AUTH`; none: no authentication.
    pub user: Option<String>,
    /// Password for `AUTH`.
    pub password: Option<Secret>,
    /// A PEM file of certificate authorities trusted besides the usual roots.
    pub ca_file: Option<PathBuf>,
    /// The name sent with `EHLO` (default: `localhost`).
    pub hello_name: Option<String>,
    /// Time allowed for each SMTP command.
    pub timeout: Duration,
}

/// An IMAP mailbox polled for incoming messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConfig {
    /// The inbox's name (for logs and environment variables).
    pub name: String,
    /// The address the messages are for: the CRM inbox or an associate's.
    pub address: String,
    /// Host name (checked against the certificate) or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: Tls,
    /// The IMAP user name.
    pub user: String,
    /// How the poller signs in.
    pub credential: Credential,
    /// A PEM file of certificate authorities trusted besides the usual roots.
    pub ca_file: Option<PathBuf>,
    /// The folder polled (default `INBOX`).
    pub folder: String,
    /// Where applied messages go, `/` between levels (default
    /// `invitelink/processed`).
    pub processed_folder: String,
    /// Where rejected messages go (default `invitelink/rejected`).
    pub rejected_folder: String,
    /// How messages are marked.
    pub mark: Mark,
    /// Most messages handled per poll.
    pub batch: usize,
    /// Largest message downloaded, in bytes.
    pub max_message_bytes: usize,
    /// Offers of one message to the backend before it is moved aside.
    pub max_attempts: u32,
    /// How this inbox's messages are judged authenticated.
    pub authentication: AuthSettings,
}

/// How an inbox signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `LOGIN` with a password.
    Password(Secret),
    /// `AUTHENTICATE XOAUTH2` with an OAuth 2.0 access token.
    Token(Secret),
}

/// Why the settings cannot be used. The message never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mail settings: {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError { message: message.into() }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    poll_interval_secs: Option<u64>,
    lease_secs: Option<u64>,
    max_connections: Option<usize>,
    message_id_domain: Option<String>,
    smtp: Option<FileSmtp>,
    #[serde(default)]
    inbox: Vec<FileInbox>,
    authentication: Option<FileAuth>,
    dns_txt: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    verify_dkim: Option<bool>,
    trusted_authserv_ids: Option<Vec<String>>,
    require_authentication: Option<bool>,
}

impl FileAuth {
    /// These settings over `base`.
    fn over(self, base: &AuthSettings) -> AuthSettings {
        AuthSettings {
            verify_dkim: self.verify_dkim.unwrap_or(base.verify_dkim),
            trusted_authserv_ids: match self.trusted_authserv_ids {
                Some(ids) => ids.iter().map(|i| i.trim().to_ascii_lowercase()).filter(|i| !i.is_empty()).collect(),
                None => base.trusted_authserv_ids.clone(),
            },
            require_authentication: self.require_authentication.unwrap_or(base.require_authentication),
        }
    }

    fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) {
        let flag = |v: String| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        };
        if let Some(v) = get("VERIFY_DKIM").and_then(flag) {
            self.verify_dkim = Some(v);
        }
        if let Some(v) = get("TRUSTED_AUTHSERV_IDS") {
            self.trusted_authserv_ids = Some(v.split(',').map(str::to_owned).collect());
        }
        if let Some(v) = get("REQUIRE_AUTHENTICATION").and_then(flag) {
            self.require_authentication = Some(v);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<Tls>,
    user: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    ca_file: Option<PathBuf>,
    hello_name: Option<String>,
    timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileInbox {
    name: String,
    address: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    tls: Option<Tls>,
    user: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
    token: Option<Secret>,
    token_env: Option<String>,
    ca_file: Option<PathBuf>,
    folder: Option<String>,
    processed_folder: Option<String>,
    rejected_folder: Option<String>,
    mark: Option<Mark>,
    batch: Option<usize>,
    max_message_bytes: Option<usize>,
    max_attempts: Option<u32>,
    authentication: Option<FileAuth>,
}

impl MailConfig {
    /// Reads the TOML file at `path` (if any) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<MailConfig, ConfigError> {
        let text = match path {
            Some(p) => {
                Some(std::fs::read_to_string(p).map_err(|e| error(format!("`{}` cannot be read: {e}", p.display())))?)
            }
            None => None,
        };
        MailConfig::from_sources(text.as_deref(), std::env::vars())
    }

    /// Builds the settings from TOML text (if any) and environment variables
    /// (`(name, value)` pairs), the environment winning. `password_env` and
    /// `token_env` are looked up in `env` too.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<MailConfig, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let mut file: FileConfig = match toml_text {
            Some(t) => toml::from_str(t).map_err(|e| {
                let line = e.span().map(|s| t.get(..s.start).unwrap_or("").matches('\n').count() + 1);
                match line {
                    Some(l) => error(format!("line {l}: {}", e.message())),
                    None => error(e.message().to_owned()),
                }
            })?,
            None => FileConfig::default(),
        };
        apply_env(&mut file, &env);

        let mut config = MailConfig::default();
        if let Some(secs) = file.poll_interval_secs {
            if secs == 0 || secs > 86_400 {
                return Err(error(format!("`poll_interval_secs` is {secs}; give 1 to 86400")));
            }
            config.poll_interval = Duration::from_secs(secs);
        }
        if let Some(secs) = file.lease_secs {
            if !(3..=3600).contains(&secs) {
                return Err(error(format!("`lease_secs` is {secs}; give 3 to 3600")));
            }
            config.lease = Duration::from_secs(secs);
        }
        if let Some(n) = file.max_connections {
            if n == 0 || n > 10_000 {
                return Err(error(format!("`max_connections` is {n}; give 1 to 10000")));
            }
            config.max_connections = n;
        }
        config.message_id_domain = file.message_id_domain.filter(|d| !d.trim().is_empty());
        if let Some(s) = file.smtp {
            config.smtp = Some(smtp_config(s, &lookup)?);
        }
        config.authentication = file.authentication.unwrap_or_default().over(&AuthSettings::default());
        config.dns_txt = file.dns_txt.unwrap_or_default().into_iter().collect();
        let mut names: Vec<String> = Vec::new();
        for inbox in file.inbox {
            let inbox = inbox_config(inbox, &lookup, &config.authentication)?;
            if names.contains(&inbox.name) {
                return Err(error(format!("two inboxes are named `{}`", inbox.name)));
            }
            names.push(inbox.name.clone());
            config.inboxes.push(inbox);
        }
        Ok(config)
    }
}

/// The environment variable name of an inbox setting.
pub fn inbox_env_name(inbox: &str, field: &str) -> String {
    let key: String =
        inbox.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("{ENV_PREFIX}INBOX_{key}_{field}")
}

fn apply_env(file: &mut FileConfig, env: &[(String, String)]) {
    let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let number = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(v) = number(&format!("{ENV_PREFIX}MAIL_POLL_SECONDS")) {
        file.poll_interval_secs = Some(v);
    }
    if let Some(v) = number(&format!("{ENV_PREFIX}MAIL_LEASE_SECONDS")) {
        file.lease_secs = Some(v);
    }
    if let Some(v) = number(&format!("{ENV_PREFIX}MAIL_MAX_CONNECTIONS")) {
        file.max_connections = Some(usize::try_from(v).unwrap_or(usize::MAX));
    }
    if let Some(v) = get(&format!("{ENV_PREFIX}MAIL_MESSAGE_ID_DOMAIN")) {
        file.message_id_domain = Some(v);
    }
    let mail_var = |field: &str| get(&format!("{ENV_PREFIX}MAIL_{field}"));
    let mut auth = file.authentication.take().unwrap_or_default();
    auth.apply_env(&mail_var);
    file.authentication = Some(auth);
    let smtp_var = |field: &str| get(&format!("{ENV_PREFIX}SMTP_{field}"));
    if ["HOST", "PORT", "TLS", "USER", "PASSWORD", "CA_FILE", "HELLO_NAME"].iter().any(|f| smtp_var(f).is_some()) {
        let s = file.smtp.get_or_insert_with(FileSmtp::default);
        if let Some(v) = smtp_var("HOST") {
            s.host = Some(v);
        }
        if let Some(v) = smtp_var("PORT") {
            s.port = v.trim().parse().ok().or(Some(0));
        }
        if let Some(v) = smtp_var("TLS") {
            s.tls = Tls::parse(&v).or(s.tls);
        }
        if let Some(v) = smtp_var("USER") {
            s.user = Some(v);
        }
        if let Some(v) = smtp_var("PASSWORD") {
            s.password = Some(Secret(v));
            s.password_env = None;
        }
        if let Some(v) = smtp_var("CA_FILE") {
            s.ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = smtp_var("HELLO_NAME") {
            s.hello_name = Some(v);
        }
    }
    // Inboxes named in the environment: INVITELINK_INBOX_<NAME>_HOST adds one.
    let prefix = format!("{ENV_PREFIX}INBOX_");
    for (k, _) in env {
        if let Some(rest) = k.strip_prefix(&prefix).and_then(|r| r.strip_suffix("_HOST"))
            && !rest.is_empty()
            && !file.inbox.iter().any(|i| inbox_env_name(&i.name, "HOST") == *k)
        {
            file.inbox.push(FileInbox { name: rest.to_ascii_lowercase(), ..FileInbox::default() });
        }
    }
    for inbox in &mut file.inbox {
        let var = |field: &str| get(&inbox_env_name(&inbox.name, field));
        if let Some(v) = var("ADDRESS") {
            inbox.address = Some(v);
        }
        if let Some(v) = var("HOST") {
            inbox.host = Some(v);
        }
        if let Some(v) = var("PORT") {
            inbox.port = v.trim().parse().ok().or(Some(0));
        }
        if let Some(v) = var("TLS") {
            inbox.tls = Tls::parse(&v).or(inbox.tls);
        }
        if let Some(v) = var("USER") {
            inbox.user = Some(v);
        }
        if let Some(v) = var("PASSWORD") {
            inbox.password = Some(Secret(v));
            inbox.password_env = None;
            inbox.token = None;
            inbox.token_env = None;
        }
        if let Some(v) = var("TOKEN") {
            inbox.token = Some(Secret(v));
            inbox.token_env = None;
            inbox.password = None;
            inbox.password_env = None;
        }
        if let Some(v) = var("CA_FILE") {
            inbox.ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("FOLDER") {
            inbox.folder = Some(v);
        }
        if let Some(v) = var("MAX_ATTEMPTS") {
            inbox.max_attempts = v.trim().parse().ok().or(Some(0));
        }
        if ["VERIFY_DKIM", "TRUSTED_AUTHSERV_IDS", "REQUIRE_AUTHENTICATION"].iter().any(|f| var(f).is_some()) {
            let mut auth = inbox.authentication.take().unwrap_or_default();
            auth.apply_env(&var);
            inbox.authentication = Some(auth);
        }
        if let Some(v) = var("MARK") {
            inbox.mark = match v.trim().to_ascii_lowercase().as_str() {
                "keyword" => Some(Mark::Keyword),
                "move" => Some(Mark::Move),
                _ => inbox.mark,
            };
        }
    }
}

/// A secret given inline or through a named environment variable.
fn secret(
    inline: Option<Secret>,
    env_name: Option<String>,
    what: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, env_name) {
        (Some(_), Some(_)) => Err(error(format!("give `{what}` or `{what}_env`, not both"))),
        (Some(s), None) => Ok(Some(s)),
        (None, Some(var)) => match lookup(&var) {
            Some(v) if !v.is_empty() => Ok(Some(Secret(v))),
            _ => Err(error(format!("`{what}_env` names `{var}`, which is not set"))),
        },
        (None, None) => Ok(None),
    }
}

/// The value, or "`label` is missing" (`label` already quoted).
fn required(value: Option<String>, label: &str) -> Result<String, ConfigError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(error(format!("{label} is missing"))),
    }
}

fn port(value: Option<u16>, tls: Tls, defaults: [u16; 3], what: &str) -> Result<u16, ConfigError> {
    match value {
        Some(0) => Err(error(format!("`{what}.port` is not a port number"))),
        Some(p) => Ok(p),
        None => Ok(match tls {
            Tls::Implicit => defaults[0],
            Tls::StartTls => defaults[1],
            Tls::None => defaults[2],
        }),
    }
}

/// Whether `host` is a loopback host: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `tls = "none"` is refused unless `host` is a loopback host.
fn plain_only_on_loopback(tls: Tls, host: &str, what: &str) -> Result<(), ConfigError> {
    if tls == Tls::None && !is_loopback(host) {
        return Err(error(format!(
            "{what}: `tls = \"none\"` is allowed only towards a loopback host (127.0.0.0/8, ::1, localhost), \
             not `{host}`; use \"tls\" or \"starttls\""
        )));
    }
    Ok(())
}

fn smtp_config(s: FileSmtp, lookup: &dyn Fn(&str) -> Option<String>) -> Result<SmtpConfig, ConfigError> {
    let tls = s.tls.unwrap_or(Tls::StartTls);
    let password = secret(s.password, s.password_env, "smtp.password", lookup)?;
    let user = s.user.filter(|u| !u.trim().is_empty());
    if password.is_some() && user.is_none() {
        return Err(error("`smtp.password` is given without `smtp.user`"));
    }
    let timeout = s.timeout_secs.unwrap_or(30);
    if timeout == 0 || timeout > 3600 {
        return Err(error(format!("`smtp.timeout_secs` is {timeout}; give 1 to 3600")));
    }
    let host = required(s.host, "`smtp.host`")?;
    plain_only_on_loopback(tls, &host, "smtp")?;
    Ok(SmtpConfig {
        host,
        port: port(s.port, tls, [465, 587, 25], "smtp")?,
        tls,
        user,
        password,
        ca_file: s.ca_file,
        hello_name: s.hello_name.filter(|h| !h.trim().is_empty()),
        timeout: Duration::from_secs(timeout),
    })
}

fn inbox_config(
    i: FileInbox,
    lookup: &dyn Fn(&str) -> Option<String>,
    server_auth: &AuthSettings,
) -> Result<InboxConfig, ConfigError> {
    let name = i.name.trim().to_owned();
    if name.is_empty() {
        return Err(error("an inbox has no `name`"));
    }
    let field = |f: &str| format!("inbox `{name}`: `{f}`");
    let tls = i.tls.unwrap_or(Tls::Implicit);
    let password = secret(i.password, i.password_env, "password", lookup)
        .map_err(|e| error(format!("inbox `{name}`: {}", e.message)))?;
    let token =
        secret(i.token, i.token_env, "token", lookup).map_err(|e| error(format!("inbox `{name}`: {}", e.message)))?;
    let credential = match (password, token) {
        (Some(p), None) => Credential::Password(p),
        (None, Some(t)) => Credential::Token(t),
        (Some(_), Some(_)) => return Err(error(format!("inbox `{name}`: give a password or a token, not both"))),
        (None, None) => return Err(error(format!("inbox `{name}`: a password or a token is missing"))),
    };
    let address = required(i.address, &field("address"))?;
    if !address.contains('@') {
        return Err(error(format!("inbox `{name}`: `{address}` is not an e-mail address")));
    }
    let folder_of = |v: Option<String>, default: &str, what: &str| -> Result<String, ConfigError> {
        let v = v.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).unwrap_or_else(|| default.to_owned());
        if !v.is_ascii() || v.chars().any(|c| c.is_ascii_control() || c == '"' || c == '\\' || c == '*' || c == '%') {
            return Err(error(format!(
                "inbox `{name}`: the folder `{what}` must be ASCII without quotes or wildcards"
            )));
        }
        Ok(v)
    };
    let batch = i.batch.unwrap_or(DEFAULT_BATCH);
    if batch == 0 || batch > 1000 {
        return Err(error(format!("inbox `{name}`: `batch` is {batch}; give 1 to 1000")));
    }
    let max_attempts = i.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if max_attempts == 0 || max_attempts > 100 {
        return Err(error(format!("inbox `{name}`: `max_attempts` is {max_attempts}; give 1 to 100")));
    }
    let host = required(i.host, &field("host"))?;
    plain_only_on_loopback(tls, &host, &format!("inbox `{name}`"))?;
    Ok(InboxConfig {
        address: address.to_lowercase(),
        host,
        port: port(i.port, tls, [993, 143, 143], &format!("inbox `{name}`"))?,
        tls,
        user: required(i.user, &field("user"))?,
        credential,
        ca_file: i.ca_file,
        folder: folder_of(i.folder, "INBOX", "folder")?,
        processed_folder: folder_of(i.processed_folder, "invitelink/processed", "processed_folder")?,
        rejected_folder: folder_of(i.rejected_folder, "invitelink/rejected", "rejected_folder")?,
        mark: i.mark.unwrap_or_default(),
        batch,
        max_message_bytes: i.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES).max(1),
        max_attempts,
        authentication: i.authentication.unwrap_or_default().over(server_auth),
        name,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const FILE: &str = r#"
poll_interval_secs = 30
message_id_domain = "crm.example"

[smtp]
host = "smtp.example.com"
user = "crm@crm.example"
password_env = "INVITELINK_TEST_SMTP_PW"

[[inbox]]
name = "crm"
address = "CRM@crm.example"
host = "imap.example.com"
user = "crm@crm.example"
password = "hunter2"
"#;

    #[test]
    fn reads_a_file_with_defaults() {
        let c = MailConfig::from_sources(Some(FILE), env(&[("INVITELINK_TEST_SMTP_PW", "pw")])).unwrap();
        assert_eq!(c.poll_interval, Duration::from_secs(30));
        assert_eq!((c.lease, c.max_connections), (DEFAULT_LEASE, DEFAULT_MAX_CONNECTIONS));
        let s = c.smtp.as_ref().unwrap();
        assert_eq!((s.port, s.tls), (587, Tls::StartTls));
        assert_eq!(s.password.as_ref().unwrap().expose(), "pw");
        let i = &c.inboxes[0];
        assert_eq!((i.port, i.tls, i.mark), (993, Tls::Implicit, Mark::Move));
        assert_eq!(i.address, "crm@crm.example");
        assert_eq!(i.folder, "INBOX");
        assert_eq!(i.processed_folder, "invitelink/processed");
        assert_eq!(i.credential, Credential::Password(Secret::new("hunter2")));
    }

    #[test]
    fn the_environment_overrides_and_adds() {
        let c = MailConfig::from_sources(
            Some(FILE),
            env(&[
                ("INVITELINK_TEST_SMTP_PW", "pw"),
                ("INVITELINK_SMTP_PORT", "2525"),
                ("INVITELINK_SMTP_TLS", "none"),
                ("INVITELINK_SMTP_HOST", "127.0.0.1"),
                ("INVITELINK_INBOX_CRM_TOKEN", "tok"),
                ("INVITELINK_INBOX_SALES_HOST", "127.0.0.1"),
                ("INVITELINK_INBOX_SALES_PORT", "1143"),
                ("INVITELINK_INBOX_SALES_TLS", "starttls"),
                ("INVITELINK_INBOX_SALES_ADDRESS", "sales@crm.example"),
                ("INVITELINK_INBOX_SALES_USER", "sales"),
                ("INVITELINK_INBOX_SALES_PASSWORD", "pw2"),
                ("INVITELINK_MAIL_POLL_SECONDS", "5"),
                ("INVITELINK_MAIL_LEASE_SECONDS", "20"),
                ("INVITELINK_MAIL_MAX_CONNECTIONS", "8"),
            ]),
        )
        .unwrap();
        assert_eq!(c.poll_interval, Duration::from_secs(5));
        assert_eq!((c.lease, c.max_connections), (Duration::from_secs(20), 8));
        let s = c.smtp.unwrap();
        assert_eq!((s.port, s.tls), (2525, Tls::None));
        assert_eq!(c.inboxes[0].credential, Credential::Token(Secret::new("tok")));
        let sales = c.inboxes.iter().find(|i| i.name == "sales").unwrap();
        assert_eq!((sales.port, sales.tls), (1143, Tls::StartTls));
        assert_eq!(sales.address, "sales@crm.example");
    }

    #[test]
    fn plain_text_is_refused_unless_the_host_is_loopback() {
        let pw = ("INVITELINK_TEST_SMTP_PW", "pw");
        for host in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"] {
            let c = MailConfig::from_sources(
                Some(FILE),
                env(&[pw, ("INVITELINK_SMTP_TLS", "none"), ("INVITELINK_SMTP_HOST", host)]),
            );
            assert!(c.is_ok(), "{host}: {c:?}");
            let c = MailConfig::from_sources(
                Some(FILE),
                env(&[pw, ("INVITELINK_INBOX_CRM_TLS", "none"), ("INVITELINK_INBOX_CRM_HOST", host)]),
            );
            assert!(c.is_ok(), "{host}: {c:?}");
        }
        for host in ["smtp.example.com", "10.0.0.1", "128.0.0.1", "localhost.example.com", "::2"] {
            let err = MailConfig::from_sources(
                Some(FILE),
                env(&[pw, ("INVITELINK_SMTP_TLS", "none"), ("INVITELINK_SMTP_HOST", host)]),
            )
            .unwrap_err();
            assert!(err.message.contains("only towards a loopback host") && err.message.contains(host), "{err}");
            let text = FILE.replace("host = \"imap.example.com\"", &format!("host = \"{host}\"\ntls = \"none\""));
            let err = MailConfig::from_sources(Some(&text), env(&[pw])).unwrap_err();
            assert!(err.message.starts_with("inbox `crm`: `tls = \"none\"` is allowed only"), "{err}");
        }
    }

    #[test]
    fn authentication_settings_per_inbox_over_the_server_s() {
        let text = format!(
            "{FILE}\n[inbox.authentication]\nrequire_authentication = true\n\n\
             [[inbox]]\nname = \"ann\"\naddress = \"ann@crm.example\"\nhost = \"imap.example.com\"\n\
             user = \"ann\"\npassword = \"x\"\nmax_attempts = 3\n\n\
             [authentication]\nverify_dkim = true\ntrusted_authserv_ids = [\"MX.crm.example\"]\n\n\
             [dns_txt]\n\"_dmarc.crm.example\" = \"v=DMARC1; p=reject\"\n"
        );
        let c = MailConfig::from_sources(Some(&text), env(&[("INVITELINK_TEST_SMTP_PW", "pw")])).unwrap();
        assert!(c.authentication.verify_dkim && !c.authentication.require_authentication);
        assert_eq!(c.authentication.trusted_authserv_ids, ["mx.crm.example"]);
        assert_eq!(c.dns_txt, [("_dmarc.crm.example".to_owned(), "v=DMARC1; p=reject".to_owned())]);
        let crm = &c.inboxes[0];
        assert!(crm.authentication.verify_dkim && crm.authentication.require_authentication);
        assert_eq!(crm.authentication.trusted_authserv_ids, ["mx.crm.example"]);
        assert_eq!(crm.max_attempts, DEFAULT_MAX_ATTEMPTS);
        let ann = &c.inboxes[1];
        assert_eq!(ann.authentication, c.authentication);
        assert_eq!(ann.max_attempts, 3);
        // The environment.
        let c = MailConfig::from_sources(
            Some(FILE),
            env(&[
                ("INVITELINK_TEST_SMTP_PW", "pw"),
                ("INVITELINK_MAIL_TRUSTED_AUTHSERV_IDS", "mx1.crm.example, mx2.crm.example"),
                ("INVITELINK_MAIL_VERIFY_DKIM", "true"),
                ("INVITELINK_INBOX_CRM_REQUIRE_AUTHENTICATION", "yes"),
                ("INVITELINK_INBOX_CRM_VERIFY_DKIM", "false"),
                ("INVITELINK_INBOX_CRM_MAX_ATTEMPTS", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(c.authentication.trusted_authserv_ids, ["mx1.crm.example", "mx2.crm.example"]);
        let crm = &c.inboxes[0];
        assert!(!crm.authentication.verify_dkim && crm.authentication.require_authentication);
        assert_eq!(crm.authentication.trusted_authserv_ids, ["mx1.crm.example", "mx2.crm.example"]);
        assert_eq!(crm.max_attempts, 7);
    }

    #[test]
    fn secrets_are_never_printed() {
        let c = MailConfig::from_sources(Some(FILE), env(&[("INVITELINK_TEST_SMTP_PW", "s3cr3t-smtp")])).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("s3cr3t-smtp"), "{debug}");
        assert!(debug.contains("***"));
        let bad = FILE.replace("password = \"hunter2\"", "password = \"hunter2\" oops");
        let err = MailConfig::from_sources(Some(&bad), env(&[("INVITELINK_TEST_SMTP_PW", "x")])).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("line 15"), "{err}");
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            (FILE.replace("host = \"imap.example.com\"", ""), "`host` is missing"),
            (FILE.replace("password = \"hunter2\"", ""), "a password or a token is missing"),
            (FILE.replace("name = \"crm\"", "name = \"crm\"\nfolder = \"a\\\"b\""), "without quotes"),
            (FILE.replace("poll_interval_secs = 30", "poll_interval_secs = 0"), "give 1 to 86400"),
            (FILE.replace("poll_interval_secs = 30", "pol_interval = 3"), "unknown field"),
            (FILE.replace("poll_interval_secs = 30", "lease_secs = 1"), "give 3 to 3600"),
            (FILE.replace("poll_interval_secs = 30", "max_connections = 0"), "give 1 to 10000"),
        ];
        for (text, expected) in cases {
            let err = MailConfig::from_sources(Some(&text), env(&[("INVITELINK_TEST_SMTP_PW", "x")])).unwrap_err();
            assert!(err.message.contains(expected), "{err} (expected {expected})");
        }
        let err = MailConfig::from_sources(Some(FILE), env(&[])).unwrap_err();
        assert!(err.message.contains("INVITELINK_TEST_SMTP_PW"), "{err}");
    }
}
