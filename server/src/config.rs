//! The settings of `invitelink serve`: one TOML file (docs/configuration.md),
//! the `INVITELINK_*` environment variables over it, and the command-line
//! flags over those. The mail settings are the file's `[mail]` table (or,
//! as before, their own file named by `mail_config`).
//!
//! ```toml
//! listen = "127.0.0.1:3443"
//! database = "sqlite:/var/lib/invitelink/invitelink.sqlite"
//! request_timeout = "30s"
//! metrics_listen = "127.0.0.1:9464"
//!
//! [mail]
//! poll_interval_secs = 60
//! ```
//!
//! Errors never quote a secret: TOML errors give the line, and the effective
//! settings ([`Settings::redacted`]) print `***` for passwords and tokens.

use super::Limits;
use super::tls::CertSource;
use crate::mail::{Credential, MailConfig};
use serde::Deserialize;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default address of `serve`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3443";

/// The default database of `serve`.
pub const DEFAULT_DATABASE: &str = "sqlite:invitelink.sqlite";

/// How long shutdown waits for requests and mail in flight, by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The format of the log on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One line a record, for people.
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn parse(text: &str) -> Option<LogFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// One source of settings: the file, the environment or the flags. Every
/// value is optional; [`Settings::resolve`] lays them over each other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// `listen`: the address to listen on.
    pub listen: Option<String>,
    /// `database`: the database URL.
    pub database: Option<String>,
    /// `demo`: seed and keep the demo data.
    pub demo: Option<bool>,
    /// `tls`: HTTPS with a self-signed certificate.
    pub tls: Option<bool>,
    /// `cert`: the certificate chain (PEM).
    pub cert: Option<String>,
    /// `key`: the private key (PEM).
    pub key: Option<String>,
    /// `static_root`: the folder of `addin/`, `pkg/` and `web/`.
    pub static_root: Option<String>,
    /// `mail_config`: a mail settings file of its own.
    pub mail_config: Option<String>,
    /// `request_timeout`: a duration (`30s`).
    pub request_timeout: Option<String>,
    /// `max_requests`: requests handled at once.
    #[serde(default, deserialize_with = "number_or_text")]
    pub max_requests: Option<String>,
    /// `token_idle`: a duration (`8h`).
    pub token_idle: Option<String>,
    /// `token_lifetime`: a duration (`30d`).
    pub token_lifetime: Option<String>,
    /// `log_format`: `text` or `json`.
    pub log_format: Option<String>,
    /// `metrics_listen`: where `GET /metrics` is served (none: nowhere).
    pub metrics_listen: Option<String>,
    /// `shutdown_timeout`: a duration (`30s`).
    pub shutdown_timeout: Option<String>,
}

fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<toml::Value>::deserialize(d)? {
        None => Ok(None),
        Some(toml::Value::Integer(n)) => Ok(Some(n.to_string())),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(serde::de::Error::custom(format!("`max_requests` takes a positive number, not `{other}`"))),
    }
}

/// The keys of the file (and flags) with their environment variables, in the
/// order docs/configuration.md lists them.
pub const KEYS: [&str; 15] = [
    "listen",
    "database",
    "demo",
    "tls",
    "cert",
    "key",
    "static_root",
    "mail_config",
    "request_timeout",
    "max_requests",
    "token_idle",
    "token_lifetime",
    "log_format",
    "metrics_listen",
    "shutdown_timeout",
];

/// The environment variable of a key: `INVITELINK_` and the key upper-cased.
pub fn env_name(key: &str) -> String {
    format!("{}{}", crate::mail::config::ENV_PREFIX, key.to_ascii_uppercase())
}

/// Reads one value of a [`Layer`].
type Getter<'a> = &'a dyn Fn(&Layer) -> Option<String>;

/// Where a value came from, to name it in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Flag,
    Env,
    File,
}

fn named(source: Source, key: &str) -> String {
    match source {
        Source::Flag => format!("`--{}`", key.replace('_', "-")),
        Source::Env => format!("`{}`", env_name(key)),
        Source::File => format!("`{key}` in the configuration file"),
    }
}

/// Why the settings cannot be used. The message never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError { message: message.into() }
}

/// How HTTPS is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Https {
    /// Plain HTTP (behind a reverse proxy that terminates TLS, or on loopback).
    Off,
    /// HTTPS with `source`.
    On(CertSource),
}

/// The effective settings of `serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The database URL.
    pub database: String,
    /// Seed and keep the demo data.
    pub demo: bool,
    /// HTTPS or not.
    pub https: Https,
    /// The folder of `addin/`, `pkg/` and `web/`.
    pub static_root: PathBuf,
    /// The request timeout, concurrency cap and token lifetimes.
    pub limits: Limits,
    /// The log's format.
    pub log_format: LogFormat,
    /// Where `GET /metrics` is served; none: metrics are off.
    pub metrics_listen: Option<SocketAddr>,
    /// The longest wait for work in flight at shutdown.
    pub shutdown_timeout: Duration,
    /// The mail settings file read, if any.
    pub mail_file: Option<PathBuf>,
    /// The mail settings (none: no mail in or out).
    pub mail: Option<MailConfig>,
}

/// A duration: a positive number followed by `s`, `m`, `h` or `d`.
pub fn parse_span(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let number: u64 = text.get(..text.len() - 1)?.parse().ok().filter(|n| *n > 0)?;
    Some(Duration::from_secs(number.checked_mul(seconds)?))
}

fn span_text(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, size) in [('d', 86_400), ('h', 3600), ('m', 60)] {
        if s >= size && s.is_multiple_of(size) {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

fn flag_value(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// Reads a TOML configuration file: its settings and its `[mail]` table
/// (as TOML text for [`MailConfig::from_sources`]).
pub fn read_file(path: &Path) -> Result<(Layer, Option<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("`{}` cannot be read: {e}", path.display())))?;
    parse_file(&text).map_err(|e| error(format!("`{}`: {}", path.display(), e.message)))
}

/// [`read_file`] on the file's text.
pub fn parse_file(text: &str) -> Result<(Layer, Option<String>), ConfigError> {
    let line_of = |e: &toml::de::Error| {
        let line = e.span().map(|s| text.get(..s.start).unwrap_or("").matches('\n').count() + 1);
        match line {
            Some(l) => error(format!("line {l}: {}", e.message())),
            None => error(e.message().to_owned()),
        }
    };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| line_of(&e))?;
    let mail = match table.remove("mail") {
        Some(toml::Value::Table(mail)) => Some(toml::to_string(&mail).map_err(|e| error(format!("`[mail]`: {e}")))?),
        Some(_) => return Err(error("`mail` must be a table: `[mail]`")),
        None => None,
    };
    // Read again without `[mail]`; the error names the key, whose line is found.
    let layer: Layer = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
        let message = e.message().to_owned();
        let line = message.split('`').nth(1).and_then(|key| {
            text.lines().position(|l| l.trim_start().strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')))
        });
        match line {
            Some(i) => error(format!("line {}: {message}", i + 1)),
            None => error(message),
        }
    })?;
    Ok((layer, mail))
}

/// The settings given by `INVITELINK_*` variables in `env`.
pub fn env_layer(env: &[(String, String)]) -> Result<Layer, ConfigError> {
    let get = |key: &str| {
        let name = env_name(key);
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    };
    let boolean = |key: &str| {
        get(key)
            .map(|v| {
                flag_value(&v).ok_or_else(|| {
                    error(format!("`{}` takes true or false (1 or 0, yes or no, on or off), not `{v}`", env_name(key)))
                })
            })
            .transpose()
    };
    Ok(Layer {
        listen: get("listen"),
        database: get("database"),
        demo: boolean("demo")?,
        tls: boolean("tls")?,
        cert: get("cert"),
        key: get("key"),
        static_root: get("static_root"),
        mail_config: get("mail_config"),
        request_timeout: get("request_timeout"),
        max_requests: get("max_requests"),
        token_idle: get("token_idle"),
        token_lifetime: get("token_lifetime"),
        log_format: get("log_format"),
        metrics_listen: get("metrics_listen"),
        shutdown_timeout: get("shutdown_timeout"),
    })
}

impl Settings {
    /// The settings of `flags` over the variables of `env` over the file
    /// (`file`: its text, if any) over the defaults. `current_dir` is the
    /// default static root.
    pub fn resolve(
        file: Option<&str>,
        env: &[(String, String)],
        flags: &Layer,
        current_dir: &Path,
    ) -> Result<Settings, ConfigError> {
        let (file_layer, mail_table) = match file {
            Some(text) => parse_file(text)?,
            None => (Layer::default(), None),
        };
        let env_layer = env_layer(env)?;
        let layers = [(Source::Flag, flags), (Source::Env, &env_layer), (Source::File, &file_layer)];
        let pick = |get: &dyn Fn(&Layer) -> Option<String>, key: &str| {
            layers.iter().find_map(|(source, layer)| get(layer).map(|v| (v, named(*source, key))))
        };
        let pick_bool = |get: &dyn Fn(&Layer) -> Option<bool>| layers.iter().find_map(|(_, layer)| get(layer));

        let (listen_text, listen_name) = pick(&|l| l.listen.clone(), "listen")
            .unwrap_or_else(|| (DEFAULT_LISTEN.to_owned(), "`--listen`".to_owned()));
        let listen = listen_text.trim().parse().map_err(|_| {
            error(format!("{listen_name} takes an address such as 127.0.0.1:3443, not `{listen_text}`"))
        })?;
        let database =
            pick(&|l| l.database.clone(), "database").map_or_else(|| DEFAULT_DATABASE.to_owned(), |(v, _)| v);
        let demo = pick_bool(&|l| l.demo).unwrap_or(false);
        let tls = pick_bool(&|l| l.tls).unwrap_or(false);
        let https = match (pick(&|l| l.cert.clone(), "cert"), pick(&|l| l.key.clone(), "key")) {
            (Some((cert, _)), Some((key, _))) => Https::On(CertSource::Files { cert: cert.into(), key: key.into() }),
            (None, None) if tls => Https::On(CertSource::next_to_database(&database)),
            (None, None) => Https::Off,
            _ => return Err(error("`--cert` and `--key` go together")),
        };
        let static_root = pick(&|l| l.static_root.clone(), "static_root")
            .map_or_else(|| current_dir.to_path_buf(), |(v, _)| PathBuf::from(v));

        let mut limits = Limits::default();
        let spans: [(&str, Getter<'_>, &mut Duration); 3] = [
            ("request_timeout", &|l| l.request_timeout.clone(), &mut limits.request_timeout),
            ("token_idle", &|l| l.token_idle.clone(), &mut limits.token_idle),
            ("token_lifetime", &|l| l.token_lifetime.clone(), &mut limits.token_lifetime),
        ];
        for (key, get, target) in spans {
            if let Some((v, name)) = pick(get, key) {
                *target = span(&v, &name)?;
            }
        }
        if let Some((v, name)) = pick(&|l| l.max_requests.clone(), "max_requests") {
            limits.max_in_flight = v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| error(format!("{name} takes a positive number, not `{v}`")))?;
        }
        let log_format = match pick(&|l| l.log_format.clone(), "log_format") {
            Some((v, name)) => {
                LogFormat::parse(&v).ok_or_else(|| error(format!("{name} takes `text` or `json`, not `{v}`")))?
            }
            None => LogFormat::Text,
        };
        let metrics_listen = match pick(&|l| l.metrics_listen.clone(), "metrics_listen") {
            Some((v, _)) if v.trim().is_empty() || v.trim() == "off" => None,
            Some((v, name)) => Some(
                v.trim()
                    .parse()
                    .map_err(|_| error(format!("{name} takes an address such as 127.0.0.1:9464, not `{v}`")))?,
            ),
            None => None,
        };
        // Port 0 lets the system choose, a different port each time.
        if metrics_listen.is_some_and(|m: std::net::SocketAddr| m == listen && m.port() != 0) {
            return Err(error("`metrics_listen` must differ from `listen`: metrics are not served with the API"));
        }
        let shutdown_timeout = match pick(&|l| l.shutdown_timeout.clone(), "shutdown_timeout") {
            Some((v, name)) => span(&v, &name)?,
            None => DEFAULT_SHUTDOWN_TIMEOUT,
        };

        // Mail: the file's `[mail]` table, or a file of its own (as before).
        let mail_file = pick(&|l| l.mail_config.clone(), "mail_config").map(|(v, _)| PathBuf::from(v));
        let mail_text = match (&mail_file, mail_table) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "the mail settings are both in `[mail]` and in `mail_config`; keep one (docs/configuration.md)",
                ));
            }
            (Some(path), None) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| error(format!("mail settings: `{}` cannot be read: {e}", path.display())))?,
            ),
            (None, table) => table,
        };
        let given = mail_text.is_some();
        let mail =
            MailConfig::from_sources(mail_text.as_deref(), env.iter().cloned()).map_err(|e| error(e.to_string()))?;
        let mail = (given || mail.smtp.is_some() || !mail.inboxes.is_empty() || mail.authentication.is_active())
            .then_some(mail);

        Ok(Settings {
            listen,
            database,
            demo,
            https,
            static_root,
            limits,
            log_format,
            metrics_listen,
            shutdown_timeout,
            mail_file,
            mail,
        })
    }

    /// The effective settings as TOML, secrets shown as `***` (the
    /// database's password too).
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let _ = writeln!(out, "listen = {}", q(&self.listen.to_string()));
        let _ = writeln!(out, "database = {}", q(&super::store::display_url(&self.database)));
        let _ = writeln!(out, "demo = {}", self.demo);
        match &self.https {
            Https::Off => {
                let _ = writeln!(out, "tls = false");
            }
            Https::On(CertSource::SelfSigned { dir }) => {
                let _ = writeln!(out, "tls = true  # self-signed, in {}", q(&dir.display().to_string()));
            }
            Https::On(CertSource::Files { cert, key }) => {
                let _ = writeln!(out, "cert = {}", q(&cert.display().to_string()));
                let _ = writeln!(out, "key = {}", q(&key.display().to_string()));
            }
        }
        let _ = writeln!(out, "static_root = {}", q(&self.static_root.display().to_string()));
        if let Some(f) = &self.mail_file {
            let _ = writeln!(out, "mail_config = {}", q(&f.display().to_string()));
        }
        let _ = writeln!(out, "request_timeout = {}", q(&span_text(self.limits.request_timeout)));
        let _ = writeln!(out, "max_requests = {}", self.limits.max_in_flight);
        let _ = writeln!(out, "token_idle = {}", q(&span_text(self.limits.token_idle)));
        let _ = writeln!(out, "token_lifetime = {}", q(&span_text(self.limits.token_lifetime)));
        let _ = writeln!(out, "log_format = {}", q(self.log_format.name()));
        match self.metrics_listen {
            Some(a) => {
                let _ = writeln!(out, "metrics_listen = {}", q(&a.to_string()));
            }
            None => {
                let _ = writeln!(out, "# metrics_listen: off");
            }
        }
        let _ = writeln!(out, "shutdown_timeout = {}", q(&span_text(self.shutdown_timeout)));
        let Some(mail) = &self.mail else {
            let _ = writeln!(out, "\n# [mail]: none (no mail in or out)");
            return out;
        };
        let _ = writeln!(out, "\n[mail]");
        let _ = writeln!(out, "poll_interval_secs = {}", mail.poll_interval.as_secs());
        let _ = writeln!(out, "lease_secs = {}", mail.lease.as_secs());
        let _ = writeln!(out, "max_connections = {}", mail.max_connections);
        if let Some(d) = &mail.message_id_domain {
            let _ = writeln!(out, "message_id_domain = {}", q(d));
        }
        let auth = &mail.authentication;
        let _ = writeln!(out, "\n[mail.authentication]");
        let _ = writeln!(out, "verify_dkim = {}", auth.verify_dkim);
        let _ = writeln!(out, "require_authentication = {}", auth.require_authentication);
        let ids: Vec<String> = auth.trusted_authserv_ids.iter().map(|i| q(i)).collect();
        let _ = writeln!(out, "trusted_authserv_ids = [{}]", ids.join(", "));
        if let Some(s) = &mail.smtp {
            let _ = writeln!(out, "\n[mail.smtp]");
            let _ = writeln!(out, "host = {}\nport = {}", q(&s.host), s.port);
            let _ = writeln!(out, "tls = {}", q(tls_name(s.tls)));
            if let Some(u) = &s.user {
                let _ = writeln!(out, "user = {}", q(u));
            }
            if s.password.is_some() {
                let _ = writeln!(out, "password = \"***\"");
            }
        }
        for inbox in &mail.inboxes {
            let _ = writeln!(out, "\n[[mail.inbox]]");
            let _ = writeln!(out, "name = {}\naddress = {}", q(&inbox.name), q(&inbox.address));
            let _ = writeln!(out, "host = {}\nport = {}", q(&inbox.host), inbox.port);
            let _ = writeln!(out, "tls = {}\nuser = {}", q(tls_name(inbox.tls)), q(&inbox.user));
            match inbox.credential {
                Credential::Password(_) => {
                    let _ = writeln!(out, "password = \"***\"");
                }
                Credential::Token(_) => {
                    let _ = writeln!(out, "token = \"***\"");
                }
            }
            let _ = writeln!(out, "folder = {}", q(&inbox.folder));
        }
        out
    }
}

fn tls_name(tls: crate::mail::Tls) -> &'static str {
    match tls {
        crate::mail::Tls::Implicit => "tls",
        crate::mail::Tls::StartTls => "starttls",
        crate::mail::Tls::None => "none",
    }
}

fn span(text: &str, name: &str) -> Result<Duration, ConfigError> {
    parse_span(text).ok_or_else(|| error(format!("{name} takes a duration such as 30s, 15m, 8h or 30d, not `{text}`")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let file = "listen = \"127.0.0.1:4000\"\nrequest_timeout = \"1m\"\nmax_requests = 12\ndatabase = \"sqlite:a.sqlite\"\n";
        let flags = Layer { listen: Some("127.0.0.1:4002".into()), ..Layer::default() };
        let vars = env(&[("INVITELINK_LISTEN", "127.0.0.1:4001"), ("INVITELINK_REQUEST_TIMEOUT", "2m")]);
        let s = Settings::resolve(Some(file), &vars, &flags, Path::new("/srv")).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:4002");
        assert_eq!(s.limits.request_timeout, Duration::from_secs(120));
        assert_eq!(s.limits.max_in_flight, 12);
        assert_eq!(s.database, "sqlite:a.sqlite");
        assert_eq!(s.static_root, PathBuf::from("/srv"));
        assert_eq!(s.metrics_listen, None, "metrics are off by default");
        let s = Settings::resolve(Some(file), &[], &Layer::default(), Path::new("/srv")).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:4000");
    }

    #[test]
    fn errors_name_where_the_value_came_from() {
        let e = Settings::resolve(Some("token_idle = \"soon\"\n"), &[], &Layer::default(), Path::new(".")).unwrap_err();
        assert_eq!(
            e.message,
            "`token_idle` in the configuration file takes a duration such as 30s, 15m, 8h or 30d, not `soon`"
        );
        let e = Settings::resolve(None, &env(&[("INVITELINK_LOG_FORMAT", "xml")]), &Layer::default(), Path::new("."))
            .unwrap_err();
        assert_eq!(e.message, "`INVITELINK_LOG_FORMAT` takes `text` or `json`, not `xml`");
        let e = Settings::resolve(None, &env(&[("INVITELINK_DEMO", "maybe")]), &Layer::default(), Path::new("."))
            .unwrap_err();
        assert!(e.message.starts_with("`INVITELINK_DEMO` takes true or false"), "{e}");
        let s = Settings::resolve(None, &env(&[("INVITELINK_TLS", "off")]), &Layer::default(), Path::new("."));
        assert_eq!(s.unwrap().https, Https::Off);
        let e = Settings::resolve(Some("demo = true\nlisen = \"x\"\n"), &[], &Layer::default(), Path::new("."))
            .unwrap_err();
        assert!(e.message.starts_with("line 2: unknown field `lisen`"), "{e}");
        let e = Settings::resolve(Some("max_requests = true\n"), &[], &Layer::default(), Path::new(".")).unwrap_err();
        assert!(e.message.starts_with("line 1: `max_requests` takes a positive number, not `true`"), "{e}");
        let e = Settings::resolve(Some("listen = \n"), &[], &Layer::default(), Path::new(".")).unwrap_err();
        assert!(e.message.starts_with("line 1:"), "{e}");
    }

    #[test]
    fn the_mail_table_is_read_and_its_secrets_are_redacted() {
        let file = "[mail]\npoll_interval_secs = 5\n[mail.smtp]\nhost = \"smtp.example\"\ntls = \"starttls\"\nuser = \"crm\"\npassword = \"hunter2-smtp\"\n[[mail.inbox]]\nname = \"crm\"\naddress = \"crm@crm.example\"\nhost = \"imap.example\"\nuser = \"crm\"\npassword = \"hunter2-imap\"\n";
        let vars = env(&[("INVITELINK_DATABASE", "postgres://crm:pgsecret@db/crm")]);
        let s = Settings::resolve(Some(file), &vars, &Layer::default(), Path::new(".")).unwrap();
        let mail = s.mail.as_ref().unwrap();
        assert_eq!(mail.poll_interval, Duration::from_secs(5));
        assert_eq!(mail.inboxes.len(), 1);
        let shown = s.redacted();
        for secret in ["hunter2-smtp", "hunter2-imap", "pgsecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("password = \"***\""), "{shown}");
        // What is printed is a configuration file that reads back the same.
        let again = Settings::resolve(Some(&shown.replace("***", "x")), &[], &Layer::default(), Path::new("."));
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn metrics_share_no_fixed_address_with_the_api() {
        let same = "listen = \"127.0.0.1:4000\"\nmetrics_listen = \"127.0.0.1:4000\"\n";
        let e = Settings::resolve(Some(same), &[], &Layer::default(), Path::new(".")).unwrap_err();
        assert!(e.message.contains("must differ from `listen`"), "{e}");
        // Port 0 on both: the system gives each its own port.
        let chosen = "listen = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n";
        let s = Settings::resolve(Some(chosen), &[], &Layer::default(), Path::new(".")).unwrap();
        assert_eq!(s.metrics_listen.map(|a| a.to_string()).as_deref(), Some("127.0.0.1:0"));
    }

    #[test]
    fn mail_in_two_places_is_refused() {
        let file = "mail_config = \"mail.toml\"\n[mail]\npoll_interval_secs = 5\n";
        let e = Settings::resolve(Some(file), &[], &Layer::default(), Path::new(".")).unwrap_err();
        assert!(e.message.contains("keep one"), "{e}");
    }

    #[test]
    fn durations_read_and_print_back() {
        for (text, secs) in [("30s", 30), ("15m", 900), ("8h", 28_800), ("30d", 2_592_000)] {
            assert_eq!(parse_span(text), Some(Duration::from_secs(secs)));
            assert_eq!(span_text(Duration::from_secs(secs)), text);
        }
        assert_eq!(parse_span("0s"), None);
        assert_eq!(parse_span("5"), None);
    }
}
