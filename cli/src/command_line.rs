//! The command line of `invitelink`, declared with `clap`: every command and
//! option with its help text and an example. `main.rs` turns a wrong command
//! line into the JSON usage error of docs/cli.md (exit code 2).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Every command's usage line, shown by `invitelink --help` and with a
/// command line that names no command.
pub const USAGE: &str = "usage of each command:
  invitelink decide --message FILE --context FILE.json
  invitelink itip process --message FILE [--existing FILE.ics] [--sender ADDR]
  invitelink itip schedule [--old FILE.ics] [--new FILE.ics] --user ADDR... [--now TIME] [--rsvp true|false]
  invitelink itip reply --invitation FILE --attendee ADDR --partstat ACCEPTED|TENTATIVE|DECLINED [--now TIME]
  invitelink expand --message FILE [--from TIME --until TIME] [--max-instances N] [--horizon-days N]
  invitelink check [--context FILE.json] PATH...
  invitelink serve [--config FILE.toml] [--listen 127.0.0.1:PORT] [--database sqlite:PATH] [--demo] ...
  invitelink config check FILE.toml
  invitelink completions bash|zsh|fish
  invitelink --version";

/// The end of `invitelink --help`.
pub const OVERVIEW: &str = "Results go to stdout; errors go to stderr as one line of JSON,
{\"type\":\"failure\",\"errors\":[{\"code\",\"message\",\"line\"}]}, with exit code 1
(2 for a wrong command line). See docs/cli.md, docs/configuration.md and
docs/deploy.md.";

/// The meeting-invitation engine of the CRM: decisions, iTIP and the backend.
#[derive(Debug, Parser)]
#[command(name = "invitelink", version, after_help = format!("{USAGE}\n\n{OVERVIEW}"), arg_required_else_help = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What the CRM diary does with a meeting message: prints the decision as JSON.
    #[command(after_help = "Example:
  invitelink decide --message tests/fixtures/sample/invitation.eml --context tests/fixtures/sample/context.json")]
    Decide(DecideArgs),
    /// iTIP (RFC 5546): process a message, schedule a change, write a reply.
    #[command(subcommand, arg_required_else_help = true)]
    Itip(ItipCommand),
    /// Every occurrence of the message's events in a window, as JSON.
    #[command(after_help = "Example:
  invitelink expand --message weekly.ics --from 2026-12-01 --until 2027-01-01 --max-instances 100")]
    Expand(ExpandArgs),
    /// Decides every `.ics` and `.eml` file under some paths: one JSON line per
    /// file, then a summary line.
    #[command(after_help = "Example:
  invitelink check --context context.json exported-mailbox/")]
    Check(CheckArgs),
    /// Starts the CRM backend: the HTTP API, the web client, the add-in and the
    /// mail pollers. Settings come from the flags, then the `INVITELINK_*`
    /// variables, then the configuration file, then the defaults.
    #[command(after_help = "Examples:
  invitelink serve --demo --tls
  invitelink serve --config /etc/invitelink/invitelink.toml --log-format json
  RUST_LOG=invitelink::mail=debug invitelink serve --config invitelink.toml

Every option is also a key of the configuration file (`--max-requests`:
`max_requests`) and an environment variable (`INVITELINK_MAX_REQUESTS`);
docs/configuration.md describes them all. Logs go to stderr; RUST_LOG chooses
levels and targets (default `info`), e.g. RUST_LOG=info,invitelink::mail=debug.")]
    Serve(Box<ServeArgs>),
    /// The configuration file of `serve`.
    #[command(subcommand, arg_required_else_help = true)]
    Config(ConfigCommand),
    /// Prints a shell completion script.
    #[command(after_help = "Examples:
  invitelink completions bash > /etc/bash_completion.d/invitelink
  invitelink completions zsh > ~/.zfunc/_invitelink
  invitelink completions fish > ~/.config/fish/completions/invitelink.fish")]
    Completions {
        /// The shell (e.g. `bash`).
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Prints the version (as `--version` does).
    #[command(hide = true)]
    Version,
}

/// `invitelink decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The message: an `.ics` file or a whole e-mail (`.eml`); e.g. `--message invitation.eml`.
    #[arg(long, value_name = "FILE")]
    pub message: String,
    /// The context JSON: mailbox, preferences, contacts, action; e.g. `--context context.json`.
    #[arg(long, value_name = "FILE.json")]
    pub context: String,
}

/// `invitelink itip ...`.
#[derive(Debug, Subcommand)]
pub enum ItipCommand {
    /// Processes an iTIP message against the stored copy: prints the new
    /// stored iCalendar, or why the message was ignored.
    #[command(after_help = "Example:
  invitelink itip process --message reply.eml --existing organizer-copy.ics --sender bob@customer.example")]
    Process {
        /// The message (`.ics` or `.eml`); e.g. `--message reply.eml`.
        #[arg(long, value_name = "FILE")]
        message: String,
        /// The stored copy with the same UID (iCalendar); e.g. `--existing stored.ics`.
        #[arg(long, value_name = "FILE.ics")]
        existing: Option<String>,
        /// The address that sent the message; e.g. `--sender bob@customer.example`.
        #[arg(long, value_name = "ADDR")]
        sender: Option<String>,
    },
    /// The iTIP messages an organizer's change calls for, as JSON.
    #[command(after_help = "Example:
  invitelink itip schedule --old before.ics --new after.ics --user anna@ourcrm.example --now 2026-12-03T09:00:00Z")]
    Schedule {
        /// The event before the change (none: a new event); e.g. `--old before.ics`.
        #[arg(long, value_name = "FILE.ics")]
        old: Option<String>,
        /// The event after the change (none: cancelled); e.g. `--new after.ics`.
        #[arg(long, value_name = "FILE.ics")]
        new: Option<String>,
        /// The organizer's addresses, one or more; e.g. `--user anna@ourcrm.example`.
        #[arg(long, value_name = "ADDR", num_args = 1.., required = true)]
        user: Vec<String>,
        /// The current time, the DTSTAMP written (default: now); e.g. `--now 2026-12-03T09:00:00Z`.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Whether attendees are asked to answer; e.g. `--rsvp false`.
        #[arg(long, value_name = "true|false")]
        rsvp: Option<bool>,
    },
    /// An attendee's REPLY to an invitation, as iCalendar.
    #[command(after_help = "Example:
  invitelink itip reply --invitation invitation.eml --attendee anna@ourcrm.example --partstat ACCEPTED")]
    Reply {
        /// The invitation (`.ics` or `.eml`); e.g. `--invitation invitation.eml`.
        #[arg(long, value_name = "FILE")]
        invitation: String,
        /// The attendee who answers; e.g. `--attendee anna@ourcrm.example`.
        #[arg(long, value_name = "ADDR")]
        attendee: String,
        /// The answer: ACCEPTED, TENTATIVE or DECLINED; e.g. `--partstat TENTATIVE`.
        #[arg(long, value_name = "PARTSTAT")]
        partstat: String,
        /// The current time, the DTSTAMP written (default: now); e.g. `--now 2026-12-03T09:00:00Z`.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

/// `invitelink expand`.
#[derive(Debug, Args)]
pub struct ExpandArgs {
    /// The message (`.ics` or `.eml`); e.g. `--message weekly.ics`.
    #[arg(long, value_name = "FILE")]
    pub message: String,
    /// Start of the window (RFC 3339 or a date); e.g. `--from 2026-12-01`.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window (RFC 3339 or a date); e.g. `--until 2027-01-01T00:00:00Z`.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The most occurrences written per series; e.g. `--max-instances 100`.
    #[arg(long, value_name = "N")]
    pub max_instances: Option<i64>,
    /// How far an unbounded series is expanded, in days; e.g. `--horizon-days 365`.
    #[arg(long, value_name = "N")]
    pub horizon_days: Option<i64>,
}

/// `invitelink check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The context JSON every file is decided with; e.g. `--context context.json`.
    #[arg(long, value_name = "FILE.json")]
    pub context: Option<String>,
    /// Files and folders to decide (`.ics` and `.eml` under them); e.g. `exported-mailbox/`.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `invitelink serve`: every option may also be set in the configuration
/// file and by an `INVITELINK_*` variable (docs/configuration.md).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// The configuration file (TOML); e.g. `--config /etc/invitelink/invitelink.toml`
    #[arg(long, value_name = "FILE.toml", env = "INVITELINK_CONFIG")]
    pub config: Option<PathBuf>,
    /// The address to listen on (default 127.0.0.1:3443); e.g. `--listen 0.0.0.0:443`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The database (default sqlite:invitelink.sqlite); e.g. `--database postgres://crm@db/crm`.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Seeds demo data into an empty database and prints the demo sign-ins; e.g. `--demo`.
    #[arg(long)]
    pub demo: bool,
    /// Serves HTTPS with a self-signed certificate made next to the database; e.g. `--tls`.
    #[arg(long)]
    pub tls: bool,
    /// The certificate chain (PEM) to serve HTTPS with, with `--key`; e.g. `--cert /etc/invitelink/cert.pem`.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<String>,
    /// The certificate's private key (PEM); e.g. `--key /etc/invitelink/key.pem`.
    #[arg(long, value_name = "FILE")]
    pub key: Option<String>,
    /// The folder holding `addin/`, `pkg/` and `web/` (default: the current folder); e.g. `--static-root /usr/share/invitelink`.
    #[arg(long, value_name = "DIR")]
    pub static_root: Option<String>,
    /// The mail settings in their own TOML file (they may also be the `[mail]` table of `--config`); e.g. `--mail-config mail.toml`.
    #[arg(long, value_name = "FILE.toml")]
    pub mail_config: Option<String>,
    /// A request that takes longer is answered 408 (default 30s); e.g. `--request-timeout 1m`.
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Requests handled at once, more wait (default 256); e.g. `--max-requests 64`.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<String>,
    /// A sign-in token unused this long is refused (default 8h); e.g. `--token-idle 30m`.
    #[arg(long, value_name = "DURATION")]
    pub token_idle: Option<String>,
    /// A sign-in token older than this is refused (default 30d); e.g. `--token-lifetime 7d`.
    #[arg(long, value_name = "DURATION")]
    pub token_lifetime: Option<String>,
    /// The log's format on stderr: `text` (default) or `json` (one object a line); e.g. `--log-format json`.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Serves Prometheus metrics at `GET /metrics` on this address only (default: off); e.g. `--metrics-listen 127.0.0.1:9464`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,
    /// On SIGTERM or Ctrl-C, the longest wait for requests and mail in flight (default 30s); e.g. `--shutdown-timeout 10s`.
    #[arg(long, value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
}

/// `invitelink config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validates a configuration file and prints the effective settings (the
    /// file with the `INVITELINK_*` variables over it) with secrets redacted.
    #[command(after_help = "Example:
  invitelink config check /etc/invitelink/invitelink.toml")]
    Check {
        /// The configuration file (TOML); e.g. `/etc/invitelink/invitelink.toml`.
        #[arg(value_name = "FILE.toml")]
        file: PathBuf,
    },
}

/// The shells completion scripts are written for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}
