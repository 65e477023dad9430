//! The `invitelink` command-line program (SPEC 3.4).
//!
//! Only this layer touches files, the clock and the process exit code; every
//! rule lives in the library. Results go to stdout; errors go to stderr as
//! `{"type":"failure","errors":[{"code","message","line"}]}` with a non-zero
//! exit code (1 for an input the engine rejects, 2 for a wrong command line).

mod check;
mod command_line;

use clap::{CommandFactory, Parser};
use command_line::{Cli, Command, ConfigCommand, ItipCommand, Shell};
use invitelink::api;
use invitelink::error::{EngineError, ErrorCode};
use invitelink::itip::PartStat;
use std::process::ExitCode;

/// The engine allocates many small, short-lived values per message (the
/// lines and parameters of a calendar, the decision's texts); mimalloc
/// serves them in about a tenth fewer instructions of the whole `decide`
/// than the system allocator (docs/benchmarks.md), and the backend's many
/// threads without one shared lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// What the command line asked for: a result, or help text.
enum Outcome {
    /// The command's output, for stdout.
    Output(String),
    /// Help or version text, already printed by `clap`.
    Printed,
}

/// Reads the command line; `--help` and `--version` are printed here.
fn parse(argv: &[String]) -> Result<Result<Cli, Outcome>, Failure> {
    let args = std::iter::once("invitelink".to_owned()).chain(argv.iter().cloned());
    match Cli::try_parse_from(args) {
        Ok(cli) => Ok(Ok(cli)),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                let _ = e.print();
                Ok(Err(Outcome::Printed))
            }
            _ => Err(usage(usage_message(&e, argv))),
        },
    }
}

/// The usage error's message, in the style of the other messages: what is
/// wrong, naming the option, and where to read more.
fn usage_message(e: &clap::Error, argv: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let command = command_of(argv);
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // No command at all, or `itip` / `config` alone: list the commands.
        return format!("`{command}` needs a command\n{}", command_line::USAGE);
    }
    let context = |kind| {
        e.get(kind).map(|v| match v {
            ContextValue::String(s) => vec![s.clone()],
            ContextValue::Strings(v) => v.clone(),
            other => vec![other.to_string()],
        })
    };
    let one = |kind| context(kind).and_then(|v| v.into_iter().next());
    let arg = one(ContextKind::InvalidArg).map(|a| option_name(&a));
    let value = one(ContextKind::InvalidValue);
    let suggestion = one(ContextKind::SuggestedArg)
        .or_else(|| one(ContextKind::SuggestedSubcommand))
        .map(|s| format!(" (did you mean `{}`?)", option_name(&s)))
        .unwrap_or_default();
    let said = match (e.kind(), arg, value) {
        (ErrorKind::UnknownArgument, Some(a), _) if a.starts_with('-') => format!("unknown option `{a}`{suggestion}"),
        (ErrorKind::UnknownArgument, Some(a), _) => format!("unexpected argument `{a}`"),
        (ErrorKind::InvalidSubcommand, _, _) => {
            let name = one(ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("unknown command `{name}`{suggestion}")
        }
        (ErrorKind::MissingRequiredArgument, _, _) => {
            let names: Vec<String> = context(ContextKind::InvalidArg)
                .unwrap_or_default()
                .iter()
                .map(|a| format!("`{}`", option_name(a)))
                .collect();
            match names.as_slice() {
                [one] => format!("{one} is required"),
                many => format!("{} are required", many.join(" and ")),
            }
        }
        (ErrorKind::ArgumentConflict, Some(a), _) => match one(ContextKind::PriorArg).map(|p| option_name(&p)) {
            Some(prior) if prior == a => format!("`{a}` takes one value"),
            Some(prior) => format!("`{a}` cannot be used with `{prior}`"),
            None => format!("`{a}` cannot be used here"),
        },
        (ErrorKind::InvalidValue, Some(a), Some(v)) if v.is_empty() => format!("`{a}` needs a value"),
        (ErrorKind::InvalidValue, Some(a), Some(v)) => match context(ContextKind::ValidValue) {
            Some(valid) => format!("`{a}` takes {}, not `{v}`", either(&valid)),
            None => format!("`{a}` does not take `{v}`"),
        },
        (ErrorKind::ValueValidation, Some(a), Some(v)) if a == "--max-instances" || a == "--horizon-days" => {
            format!("`{a}` takes a whole number, not `{v}`")
        }
        (ErrorKind::ValueValidation, Some(a), Some(v)) => format!("`{a}` does not take `{v}`"),
        (ErrorKind::TooManyValues, Some(a), Some(v)) => format!("`{a}` takes no value, not `{v}`"),
        _ => {
            // Any other case: clap's own first paragraph, quoted our way.
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            let first = text.split("\n\n").next().unwrap_or_default();
            first.split_whitespace().collect::<Vec<_>>().join(" ").replace('\'', "`")
        }
    };
    format!("{said}; see `{command} --help`")
}

/// `a, b or c`.
fn either(words: &[String]) -> String {
    match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `--context` from clap's `--context <FILE.json>`.
fn option_name(arg: &str) -> String {
    arg.split_whitespace().next().unwrap_or(arg).trim_end_matches("...").to_owned()
}

/// The command a command line names: `invitelink itip reply` for
/// `itip reply --attendee ...`.
fn command_of(argv: &[String]) -> String {
    const COMMANDS: [&str; 11] =
        ["decide", "itip", "process", "schedule", "reply", "expand", "check", "serve", "config", "completions", "help"];
    let mut words = vec!["invitelink"];
    words.extend(argv.iter().map(String::as_str).take_while(|w| COMMANDS.contains(w)));
    words.join(" ")
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

fn run(argv: &[String]) -> Result<Outcome, Failure> {
    let cli = match parse(argv)? {
        Ok(cli) => cli,
        Err(printed) => return Ok(printed),
    };
    let out = match cli.command {
        Command::Version => format!("invitelink {}", api::version()),
        Command::Decide(args) => {
            let message = read_file(&args.message)?;
            let context = read_text(&args.context).map_err(context_not_text)?;
            json(&api::decide_json(&message, &context)?)?
        }
        Command::Expand(args) => expand(args)?,
        Command::Itip(command) => itip(command)?,
        Command::Check(args) => check::run(args.context.as_deref(), &args.paths)?,
        Command::Serve(args) => serve(*args)?,
        Command::Config(ConfigCommand::Check { file }) => config_check(&file)?,
        Command::Completions { shell } => completions(shell),
    };
    Ok(Outcome::Output(out))
}

fn expand(args: command_line::ExpandArgs) -> Result<String, Failure> {
    let message = read_file(&args.message)?;
    let request = api::ExpandRequest {
        from: args.from,
        until: args.until,
        max_instances: args.max_instances.map(|n| n.clamp(0, 1_000_000) as usize),
        horizon_days: args.horizon_days,
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

fn itip(command: ItipCommand) -> Result<String, Failure> {
    match command {
        ItipCommand::Process { message, existing, sender } => {
            let message = read_file(&message)?;
            let existing = existing.map(|p| read_text(&p)).transpose()?;
            let request = api::ProcessRequest { existing, sender };
            match api::itip_process(&message, &request)? {
                api::ProcessResult::Stored { ics } => Ok(ics),
                other => json(&other),
            }
        }
        ItipCommand::Schedule { old, new, user, now, rsvp } => {
            let old = old.map(|p| read_text(&p)).transpose()?;
            let new = new.map(|p| read_text(&p)).transpose()?;
            let request = api::ScheduleRequest { old, new, user, now: Some(now.unwrap_or_else(now_rfc3339)), rsvp };
            json(&api::itip_schedule(&request)?)
        }
        ItipCommand::Reply { invitation, attendee, partstat, now } => {
            let invitation = read_file(&invitation)?;
            let partstat = match PartStat::parse(&partstat) {
                p @ (PartStat::Accepted | PartStat::Tentative | PartStat::Declined) => p,
                _ => {
                    return Err(usage(format!("`--partstat` takes ACCEPTED, TENTATIVE or DECLINED, not `{partstat}`")));
                }
            };
            let request = api::ReplyRequest { attendee, partstat, now: Some(now.unwrap_or_else(now_rfc3339)) };
            Ok(api::itip_reply(&invitation, &request)?)
        }
    }
}

/// `invitelink completions SHELL`: the script on stdout.
fn completions(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    match shell {
        Shell::Bash => clap_complete::generate(clap_complete::Shell::Bash, &mut command, "invitelink", &mut out),
        Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut command, "invitelink", &mut out),
        Shell::Fish => clap_complete::generate(clap_complete::Shell::Fish, &mut command, "invitelink", &mut out),
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The settings `serve` flags give (none given: `None`).
#[cfg(feature = "server")]
fn flag_layer(args: &command_line::ServeArgs) -> invitelink_server::config::Layer {
    invitelink_server::config::Layer {
        listen: args.listen.clone(),
        database: args.database.clone(),
        demo: args.demo.then_some(true),
        tls: args.tls.then_some(true),
        cert: args.cert.clone(),
        key: args.key.clone(),
        static_root: args.static_root.clone(),
        mail_config: args.mail_config.clone(),
        request_timeout: args.request_timeout.clone(),
        max_requests: args.max_requests.clone(),
        token_idle: args.token_idle.clone(),
        token_lifetime: args.token_lifetime.clone(),
        log_format: args.log_format.clone(),
        metrics_listen: args.metrics_listen.clone(),
        shutdown_timeout: args.shutdown_timeout.clone(),
    }
}

/// The effective settings: `flags` over the `INVITELINK_*` variables over
/// the file `config` (`--config` or `INVITELINK_CONFIG`).
#[cfg(feature = "server")]
fn settings(
    config: Option<&std::path::Path>,
    flags: &invitelink_server::config::Layer,
) -> Result<invitelink_server::config::Settings, Failure> {
    use invitelink_server::config::Settings;
    let path = config.map(std::path::Path::to_path_buf);
    let text = match &path {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            Failure::from(EngineError::new(ErrorCode::Io, format!("cannot read `{}`: {e}", p.display())))
        })?),
        None => None,
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let here = std::env::current_dir().unwrap_or_default();
    Settings::resolve(text.as_deref(), &env, flags, &here).map_err(|e| match &path {
        // A flag or a variable names itself; anything else may be the file's.
        Some(p) if !e.message.starts_with("`--") && !e.message.starts_with("`INVITELINK_") => {
            usage(format!("`{}`: {e}", p.display()))
        }
        _ => usage(e.to_string()),
    })
}

#[cfg(feature = "server")]
fn serve(args: command_line::ServeArgs) -> Result<String, Failure> {
    let settings = settings(args.config.as_deref(), &flag_layer(&args))?;
    invitelink_server::logging::init(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::from(EngineError::new(ErrorCode::Io, format!("cannot start the runtime: {e}"))))?;
    runtime
        .block_on(invitelink_server::serve_settings(settings))
        .map_err(|e| Failure::from(EngineError::new(ErrorCode::Io, format!("the server stopped: {e}"))))?;
    Ok(String::new())
}

/// `invitelink config check FILE`: the effective settings, secrets redacted.
#[cfg(feature = "server")]
fn config_check(file: &std::path::Path) -> Result<String, Failure> {
    let settings = settings(Some(file), &invitelink_server::config::Layer::default())?;
    Ok(format!(
        "# {} is valid; the effective settings (with the INVITELINK_* variables):\n{}",
        file.display(),
        settings.redacted()
    ))
}

#[cfg(not(feature = "server"))]
fn serve(_args: command_line::ServeArgs) -> Result<String, Failure> {
    Err(usage("this build has no server; build with the `server` feature"))
}

#[cfg(not(feature = "server"))]
fn config_check(_file: &std::path::Path) -> Result<String, Failure> {
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

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(Outcome::Printed) => ExitCode::SUCCESS,
        Ok(Outcome::Output(out)) => {
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
