//! The `invitelink` command-line program (SPEC 3.4).
//!
//! Only this layer touches files, the clock and the process exit code; every
//! rule lives in the library. Results go to stdout; errors go to stderr as
//! `{"type":"failure","errors":[{"code","message","line"}]}` with a non-zero
//! exit code (1 for an input the engine rejects, 2 for a wrong command line).

mod check;

use invitelink::api;
use invitelink::error::{EngineError, ErrorCode};
use invitelink::itip::PartStat;
use std::process::ExitCode;

const USAGE: &str = "usage:
  invitelink decide --message FILE --context FILE.json
  invitelink itip process --message FILE [--existing FILE.ics] [--sender ADDR]
  invitelink itip schedule [--old FILE.ics] [--new FILE.ics] --user ADDR... [--now TIME] [--rsvp true|false]
  invitelink itip reply --invitation FILE --attendee ADDR --partstat ACCEPTED|TENTATIVE|DECLINED [--now TIME]
  invitelink expand --message FILE [--from TIME --until TIME] [--max-instances N] [--horizon-days N]
  invitelink check [--context FILE.json] PATH...
  invitelink serve [--listen 127.0.0.1:PORT] [--database sqlite:PATH] [--demo] [--static-root DIR] [--tls | --cert FILE --key FILE]
                   [--request-timeout 30s] [--max-requests 256] [--token-idle 8h] [--token-lifetime 30d]
  invitelink --version";

/// A command-line failure: the error and the exit code.
struct Failure {
    error: EngineError,
    exit: u8,
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Failure { error, exit: 1 }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { error: EngineError::new(ErrorCode::Usage, message), exit: 2 }
}

/// Flags of one command: `--name value...` pairs.
struct Args {
    flags: Vec<(String, Vec<String>)>,
    /// The first word that belongs to no flag.
    unexpected: Option<String>,
}

impl Args {
    /// Reads `--name value` pairs; only the flags in `multi` take several values.
    fn parse(raw: &[String], multi: &[&str]) -> Args {
        let mut flags: Vec<(String, Vec<String>)> = Vec::new();
        let mut current: Option<(usize, bool)> = None;
        let mut unexpected = None;
        for a in raw {
            if let Some(name) = a.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                    None => (name.to_owned(), None),
                };
                let takes_many = multi.contains(&name.as_str());
                flags.push((name, inline.clone().into_iter().collect()));
                current = if inline.is_some() { None } else { Some((flags.len() - 1, takes_many)) };
            } else if let Some((i, takes_many)) = current {
                if let Some(f) = flags.get_mut(i) {
                    f.1.push(a.clone());
                }
                if !takes_many {
                    current = None;
                }
            } else {
                unexpected.get_or_insert_with(|| a.clone());
            }
        }
        Args { flags, unexpected }
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.flags.iter().filter(|f| f.0 == name).flat_map(|f| f.1.iter().cloned()).collect()
    }

    fn one(&self, name: &str) -> Result<Option<String>, Failure> {
        let v = self.all(name);
        match v.len() {
            0 if self.has(name) => Err(usage(format!("`--{name}` needs a value"))),
            0 => Ok(None),
            1 => Ok(v.into_iter().next()),
            _ => Err(usage(format!("`--{name}` takes one value"))),
        }
    }

    fn required(&self, name: &str) -> Result<String, Failure> {
        self.one(name)?.ok_or_else(|| usage(format!("`--{name}` is required")))
    }

    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.0 == name)
    }

    fn only(&self, known: &[&str]) -> Result<(), Failure> {
        if let Some(word) = &self.unexpected {
            return Err(usage(format!("unexpected argument `{word}`")));
        }
        for (name, _) in &self.flags {
            if !known.contains(&name.as_str()) {
                return Err(usage(format!("unknown option `--{name}`")));
            }
        }
        Ok(())
    }
}

fn read_file(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::from(EngineError::new(ErrorCode::Io, format!("cannot read `{path}`: {e}"))))
}

fn read_text(path: &str) -> Result<String, Failure> {
    let bytes = read_file(path)?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::from(EngineError::new(ErrorCode::ParseError, format!("`{path}` is not UTF-8 text"))))
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::from(EngineError::new(ErrorCode::InvalidValue, format!("cannot write JSON: {e}"))))
}

fn run(argv: &[String]) -> Result<String, Failure> {
    let Some((command, rest)) = argv.split_first() else {
        return Err(usage(USAGE));
    };
    match command.as_str() {
        "--version" | "version" => Ok(format!("invitelink {}", api::version())),
        "--help" | "help" | "-h" => Ok(USAGE.to_owned()),
        "decide" => {
            let args = Args::parse(rest, &[]);
            args.only(&["message", "context"])?;
            let message = read_file(&args.required("message")?)?;
            let context = read_text(&args.required("context")?).map_err(context_not_text)?;
            json(&api::decide_json(&message, &context)?)
        }
        "expand" => {
            let args = Args::parse(rest, &[]);
            args.only(&["message", "from", "until", "max-instances", "horizon-days"])?;
            let message = read_file(&args.required("message")?)?;
            let number = |name: &str| -> Result<Option<i64>, Failure> {
                args.one(name)?
                    .map(|v| v.parse::<i64>().map_err(|_| usage(format!("`--{name}` takes a number, not `{v}`"))))
                    .transpose()
            };
            let request = api::ExpandRequest {
                from: args.one("from")?,
                until: args.one("until")?,
                max_instances: number("max-instances")?.map(|n| n.clamp(0, 1_000_000) as usize),
                horizon_days: number("horizon-days")?,
            };
            let expansion = api::expand(&message, &request)?;
            let mut warnings = Vec::new();
            if expansion.limited {
                warnings.push(EngineError::new(
                    ErrorCode::RecurrenceLimit,
                    "a series was cut at the instance limit or the horizon; raise `--max-instances` or `--horizon-days`",
                ));
            }
            // A series whose values cannot be read is left out, and damaged
            // parts that were skipped are named: say which.
            warnings.extend(expansion.errors.iter().cloned());
            warnings.extend(expansion.warnings.iter().cloned());
            if !warnings.is_empty() {
                write_stderr(&report("warning", &warnings));
            }
            json(&expansion.occurrences)
        }
        "itip" => itip(rest),
        "check" => check::run(rest),
        "serve" => serve(rest),
        other => Err(usage(format!("unknown command `{other}`\n{USAGE}"))),
    }
}

fn itip(argv: &[String]) -> Result<String, Failure> {
    let Some((sub, rest)) = argv.split_first() else {
        return Err(usage("`itip` needs `process`, `schedule` or `reply`"));
    };
    let args = Args::parse(rest, &["user"]);
    match sub.as_str() {
        "process" => {
            args.only(&["message", "existing", "sender"])?;
            let message = read_file(&args.required("message")?)?;
            let existing = args.one("existing")?.map(|p| read_text(&p)).transpose()?;
            let request = api::ProcessRequest { existing, sender: args.one("sender")? };
            match api::itip_process(&message, &request)? {
                api::ProcessResult::Stored { ics } => Ok(ics),
                other => json(&other),
            }
        }
        "schedule" => {
            args.only(&["old", "new", "user", "now", "rsvp"])?;
            let old = args.one("old")?.map(|p| read_text(&p)).transpose()?;
            let new = args.one("new")?.map(|p| read_text(&p)).transpose()?;
            let user = args.all("user");
            if user.is_empty() {
                return Err(usage("`--user` is required"));
            }
            let rsvp = match args.one("rsvp")?.as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(v) => return Err(usage(format!("`--rsvp` takes true or false, not `{v}`"))),
            };
            let request =
                api::ScheduleRequest { old, new, user, now: Some(args.one("now")?.unwrap_or_else(now_rfc3339)), rsvp };
            json(&api::itip_schedule(&request)?)
        }
        "reply" => {
            args.only(&["invitation", "attendee", "partstat", "now"])?;
            let invitation = read_file(&args.required("invitation")?)?;
            let partstat = args.required("partstat")?;
            let partstat = match PartStat::parse(&partstat) {
                p @ (PartStat::Accepted | PartStat::Tentative | PartStat::Declined) => p,
                _ => {
                    return Err(usage(format!("`--partstat` takes ACCEPTED, TENTATIVE or DECLINED, not `{partstat}`")));
                }
            };
            let request = api::ReplyRequest {
                attendee: args.required("attendee")?,
                partstat,
                now: Some(args.one("now")?.unwrap_or_else(now_rfc3339)),
            };
            Ok(api::itip_reply(&invitation, &request)?)
        }
        other => Err(usage(format!("unknown command `itip {other}`"))),
    }
}

#[cfg(feature = "server")]
fn serve(argv: &[String]) -> Result<String, Failure> {
    use invitelink::server::tls::{CertSource, serve_tls_with};
    use invitelink::server::{Limits, ServeOptions, serve_with};
    let args = Args::parse(argv, &[]);
    args.only(&[
        "listen",
        "database",
        "demo",
        "tls",
        "cert",
        "key",
        "static-root",
        "mail-config",
        "request-timeout",
        "max-requests",
        "token-idle",
        "token-lifetime",
    ])?;
    let mut limits = Limits::default();
    for (flag, target) in [
        ("request-timeout", &mut limits.request_timeout),
        ("token-idle", &mut limits.token_idle),
        ("token-lifetime", &mut limits.token_lifetime),
    ] {
        if let Some(v) = args.one(flag)? {
            *target = parse_span(&v)
                .ok_or_else(|| usage(format!("`--{flag}` takes a duration such as 30s, 15m, 8h or 30d, not `{v}`")))?;
        }
    }
    if let Some(v) = args.one("max-requests")? {
        limits.max_in_flight = v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| usage(format!("`--max-requests` takes a positive number, not `{v}`")))?;
    }
    for flag in ["demo", "tls"] {
        if !args.all(flag).is_empty() {
            return Err(usage(format!("`--{flag}` takes no value")));
        }
    }
    let listen = args.one("listen")?.unwrap_or_else(|| "127.0.0.1:3443".to_owned());
    let listen = listen
        .parse()
        .map_err(|_| usage(format!("`--listen` takes an address such as 127.0.0.1:3443, not `{listen}`")))?;
    let database = args.one("database")?.unwrap_or_else(|| "sqlite:invitelink.sqlite".to_owned());
    let static_root = match args.one("static-root")? {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::current_dir().unwrap_or_default(),
    };
    // `--cert` and `--key` name the certificate to serve HTTPS with; `--tls`
    // alone makes (once) and uses a self-signed one next to the database.
    let tls = match (args.one("cert")?, args.one("key")?) {
        (Some(cert), Some(key)) => Some(CertSource::Files { cert: cert.into(), key: key.into() }),
        (None, None) if args.has("tls") => Some(CertSource::next_to_database(&database)),
        (None, None) => None,
        _ => return Err(usage("`--cert` and `--key` go together")),
    };
    // Mail from `--mail-config FILE` and the `INVITELINK_*` variables (docs/mail.md).
    let mail_config = args.one("mail-config")?.map(std::path::PathBuf::from);
    let mail = invitelink::mail::MailConfig::load(mail_config.as_deref()).map_err(|e| usage(e.to_string()))?;
    let mail =
        (mail_config.is_some() || mail.smtp.is_some() || !mail.inboxes.is_empty() || mail.authentication.is_active())
            .then_some(mail);
    let opts = ServeOptions { listen, database, demo: args.has("demo"), static_root, mail };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::from(EngineError::new(ErrorCode::Io, format!("cannot start the runtime: {e}"))))?;
    let served = match tls {
        Some(source) => runtime.block_on(serve_tls_with(opts, source, limits)),
        None => runtime.block_on(serve_with(opts, limits)),
    };
    served.map_err(|e| Failure::from(EngineError::new(ErrorCode::Io, format!("the server stopped: {e}"))))?;
    Ok(String::new())
}

/// A duration flag: a positive number followed by `s`, `m`, `h` or `d`.
#[cfg(feature = "server")]
fn parse_span(text: &str) -> Option<std::time::Duration> {
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
    Some(std::time::Duration::from_secs(number.checked_mul(seconds)?))
}

#[cfg(not(feature = "server"))]
fn serve(_argv: &[String]) -> Result<String, Failure> {
    Err(usage("this build has no server; build with the `server` feature"))
}

/// A context file that is not UTF-8 is a malformed context.
fn context_not_text(f: Failure) -> Failure {
    if f.error.code == ErrorCode::ParseError {
        return Failure::from(EngineError::new(ErrorCode::InvalidContext, f.error.message));
    }
    f
}

/// The JSON written to stderr: `{"type": "failure", "errors": [...]}` or
/// `{"type": "warning", "warnings": [...]}`, fields in that order.
#[derive(serde::Serialize)]
struct Report<'e> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'e [EngineError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<&'e [EngineError]>,
}

fn report(kind: &'static str, items: &[EngineError]) -> String {
    let (errors, warnings) = if kind == "warning" { (None, Some(items)) } else { (Some(items), None) };
    serde_json::to_string(&Report { kind, errors, warnings }).unwrap_or_default()
}

/// Writes to stdout. A closed pipe (`invitelink ... | head`) ends the output
/// quietly instead of failing.
fn write_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn write_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints one JSON line to stdout (used by `check`).
fn json_line(value: &serde_json::Value) {
    write_stdout(&format!("{value}\n"));
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(out) => {
            // iCalendar output already ends with CRLF; JSON gets a newline.
            if out.ends_with('\n') {
                write_stdout(&out);
            } else {
                write_stdout(&format!("{out}\n"));
            }
            ExitCode::SUCCESS
        }
        Err(f) => {
            write_stderr(&report("failure", std::slice::from_ref(&f.error)));
            ExitCode::from(f.exit)
        }
    }
}
