//! The command line as an administrator meets it: `--help` for every
//! command with an example for every option, usage errors that name the
//! option (exit code 2, the JSON error of docs/cli.md), shell completions,
//! and `invitelink config check`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_invitelink");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::null());
    // The variables of the machine running the tests do not count.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("INVITELINK_")) {
        command.env_remove(k);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run { code: out.status.code().unwrap(), stdout: String::from_utf8(out.stdout).unwrap(), stderr }
}

fn run(args: &[&str]) -> Run {
    run_with(args, &[])
}

/// The usage error on stderr (exit code 2), its message.
fn usage_error(r: &Run) -> String {
    assert_eq!(r.code, 2, "stdout: {}; stderr: {}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let line = r.stderr.trim_end();
    assert!(!line.contains('\n'), "one line: {line}");
    let report: Value = serde_json::from_str(line).unwrap();
    let error = &report["errors"][0];
    assert_eq!(report["type"], "failure");
    assert_eq!(error["code"], "usage", "{line}");
    assert!(error["line"].is_null());
    let message = error["message"].as_str().unwrap().to_owned();
    assert!(!message.ends_with('.') && !message.starts_with(char::is_uppercase), "{message}");
    message
}

/// The entries of a help text's `Options:` and `Arguments:` sections, each
/// with its continuation lines joined.
fn entries(help: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Options:" || line == "Arguments:" {
            inside = true;
            continue;
        }
        if !line.starts_with(' ') {
            inside = false;
            continue;
        }
        if !inside {
            continue;
        }
        let trimmed = line.trim_start();
        let starts_entry = line.starts_with("  ")
            && (trimmed.starts_with('-') || trimmed.starts_with('<'))
            && line.len() - trimmed.len() <= 6;
        match out.last_mut() {
            Some(last) if !starts_entry => {
                last.push(' ');
                last.push_str(trimmed);
            }
            _ => out.push(trimmed.to_owned()),
        }
    }
    out
}

const COMMANDS: [&[&str]; 10] = [
    &["decide"],
    &["itip", "process"],
    &["itip", "schedule"],
    &["itip", "reply"],
    &["expand"],
    &["check"],
    &["serve"],
    &["config", "check"],
    &["completions"],
    &[],
];

#[test]
fn every_command_has_help_with_an_example_for_every_option() {
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stderr.is_empty());
        let all = entries(&r.stdout);
        let options: Vec<&String> =
            all.iter().filter(|e| !e.starts_with("-h, --help") && !e.starts_with("-V, --version")).collect();
        if !command.is_empty() {
            assert!(!options.is_empty(), "{args:?} lists its options:\n{}", r.stdout);
            assert!(r.stdout.contains("Example"), "{args:?} shows an example:\n{}", r.stdout);
        }
        for option in options {
            assert!(option.contains("e.g."), "{args:?}: no example for `{option}`");
        }
    }
    // The overview names every command with its usage.
    let r = run(&["--help"]);
    for command in ["decide", "itip process", "itip schedule", "itip reply", "expand", "check", "serve", "config check"]
    {
        assert!(r.stdout.contains(&format!("invitelink {command}")), "{command}");
    }
    assert!(run(&["serve", "--help"]).stdout.contains("--metrics-listen <ADDR:PORT>"));
    // `help COMMAND` is `COMMAND --help`.
    assert_eq!(run(&["help", "decide"]).stdout, run(&["decide", "--help"]).stdout);
}

#[test]
fn a_usage_error_names_the_option_and_exits_2() {
    let check = |args: &[&str], expected: &str| assert_eq!(usage_error(&run(args)), expected, "{args:?}");
    check(
        &["decide", "--mesage", "a.eml", "--context", "c.json"],
        "unknown option `--mesage` (did you mean `--message`?); see `invitelink decide --help`",
    );
    check(&["decide", "--message", "a.eml"], "`--context` is required; see `invitelink decide --help`");
    check(&["decide"], "`--message` and `--context` are required; see `invitelink decide --help`");
    check(&["decide", "--message", "a.eml", "--context"], "`--context` needs a value; see `invitelink decide --help`");
    check(
        &["decide", "--message", "a", "--message", "b", "--context", "c"],
        "`--message` takes one value; see `invitelink decide --help`",
    );
    check(
        &["decide", "stray", "--message", "a", "--context", "c"],
        "unexpected argument `stray`; see `invitelink decide --help`",
    );
    check(
        &["expand", "--message", "a", "--horizon-days", "soon"],
        "`--horizon-days` takes a whole number, not `soon`; see `invitelink expand --help`",
    );
    check(
        &["itip", "schedule", "--new", "a.ics", "--user", "a@b.example", "--rsvp", "maybe"],
        "`--rsvp` takes true or false, not `maybe`; see `invitelink itip schedule --help`",
    );
    check(&["itip", "schedule", "--new", "a.ics"], "`--user` is required; see `invitelink itip schedule --help`");
    check(&["itip", "schedul"], "unknown command `schedul` (did you mean `schedule`?); see `invitelink itip --help`");
    check(&["frobnicate"], "unknown command `frobnicate`; see `invitelink --help`");
    check(&["serve", "--demo=yes"], "`--demo` takes no value, not `yes`; see `invitelink serve --help`");
    let m = usage_error(&run(&["serve", "--listen", "nowhere"]));
    assert_eq!(m, "`--listen` takes an address such as 127.0.0.1:3443, not `nowhere`");
    let m = usage_error(&run(&["serve", "--log-format", "xml"]));
    assert_eq!(m, "`--log-format` takes `text` or `json`, not `xml`");
    let m = usage_error(&run_with(&["serve"], &[("INVITELINK_REQUEST_TIMEOUT", "soon")]));
    assert!(m.starts_with("`INVITELINK_REQUEST_TIMEOUT` takes a duration"), "{m}");
    let m = usage_error(&run(&["completions", "powershell"]));
    assert!(m.contains("`powershell`") && m.contains("bash"), "{m}");
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    for (shell, marker) in
        [("bash", "complete -F _invitelink"), ("zsh", "#compdef invitelink"), ("fish", "complete -c invitelink")]
    {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}: {}", &r.stdout[..r.stdout.len().min(300)]);
        for word in ["decide", "schedule", "--metrics-listen", "--partstat"] {
            assert!(r.stdout.contains(word), "{shell} completes `{word}`");
        }
    }
    // The bash script is one bash accepts.
    if Command::new("bash").arg("--version").output().is_ok() {
        let script = run(&["completions", "bash"]).stdout;
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let file = dir.join("invitelink.bash");
        std::fs::write(&file, script).unwrap();
        let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    }
}

fn temp_config(name: &str, text: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-config");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn config_check_prints_the_effective_settings_without_secrets() {
    let file = temp_config(
        "good.toml",
        "listen = \"0.0.0.0:8443\"\ndatabase = \"postgres://crm:PG-SECRET-1@db.example/crm\"\nrequest_timeout = \"1m\"\n\
         metrics_listen = \"127.0.0.1:9464\"\n\n[mail]\npoll_interval_secs = 30\n\n[mail.smtp]\nhost = \"smtp.example\"\n\
         tls = \"starttls\"\nuser = \"crm\"\npassword = \"SMTP-SECRET-1\"\n\n[[mail.inbox]]\nname = \"crm\"\n\
         address = \"crm@crm.example\"\nhost = \"imap.example\"\nuser = \"crm\"\npassword_env = \"CRM_IMAP_PASSWORD\"\n",
    );
    let r = run_with(
        &["config", "check", &file],
        &[
            ("INVITELINK_MAX_REQUESTS", "7"),
            ("CRM_IMAP_PASSWORD", "IMAP-SECRET-1"),
            ("INVITELINK_LISTEN", "127.0.0.1:9000"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for secret in ["PG-SECRET-1", "SMTP-SECRET-1", "IMAP-SECRET-1"] {
        assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{secret}: {}", r.stdout);
    }
    for line in [
        "listen = \"127.0.0.1:9000\"",
        "database = \"postgres://crm:***@db.example/crm\"",
        "request_timeout = \"1m\"",
        "max_requests = 7",
        "metrics_listen = \"127.0.0.1:9464\"",
        "poll_interval_secs = 30",
        "password = \"***\"",
        "host = \"imap.example\"",
        "shutdown_timeout = \"30s\"",
    ] {
        assert!(r.stdout.lines().any(|l| l == line), "`{line}` in:\n{}", r.stdout);
    }
    // What it prints is itself a valid file.
    let again = temp_config("again.toml", &r.stdout.replace("***", "x"));
    assert_eq!(run(&["config", "check", &again]).code, 0);

    // A wrong file is a usage error that says where.
    let m =
        usage_error(&run(&["config", "check", &temp_config("typo.toml", "demo = true\nlisen = \"127.0.0.1:1\"\n")]));
    assert!(m.contains("typo.toml`: line 2: unknown field `lisen`, expected one of `listen`"), "{m}");
    let m = usage_error(&run(&["config", "check", &temp_config("syntax.toml", "listen = \"a\"\n\ndemo = \n")]));
    assert!(m.contains("syntax.toml") && m.contains("line 3"), "{m}");
    let m = usage_error(&run(&["config", "check", &temp_config("span.toml", "token_idle = \"forever\"\n")]));
    assert!(m.contains("`token_idle` in the configuration file"), "{m}");
    let m = usage_error(&run(&["config", "check", &temp_config("mail.toml", "[mail]\npoll_interval_secs = 0\n")]));
    assert!(m.contains("poll_interval_secs"), "{m}");
    // A file that is not there is an `io` error (exit code 1).
    let r = run(&["config", "check", "/no/such/invitelink.toml"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("\"code\":\"io\""), "{}", r.stderr);
}

#[test]
fn the_deployment_files_are_valid() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let example = root.join("deploy/invitelink.toml").display().to_string();
    // The example configuration, with its secrets in the environment as the
    // unit's environment file gives them.
    let r = run_with(
        &["config", "check", &example],
        &[("INVITELINK_INBOX_CRM_PASSWORD", "imap-pw"), ("INVITELINK_SMTP_PASSWORD", "smtp-pw")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("metrics_listen = \"127.0.0.1:9464\"") && !r.stdout.contains("imap-pw"));
    // Without them, the check the unit runs first refuses to start.
    let m = usage_error(&run(&["config", "check", &example]));
    assert!(m.contains("INVITELINK_INBOX_CRM_PASSWORD"), "{m}");

    let unit = std::fs::read_to_string(root.join("deploy/invitelink.service")).unwrap();
    for line in [
        "ExecStart=/usr/local/bin/invitelink serve --config /etc/invitelink/invitelink.toml",
        "User=invitelink",
        "StateDirectory=invitelink",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit has `{line}`");
    }
    // systemd's own check of the unit, where systemd is installed.
    if Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("unit");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("invitelink.service");
        std::fs::write(&file, unit.replace("/usr/local/bin/invitelink", BIN)).unwrap();
        let out = Command::new("systemd-analyze").arg("verify").arg(&file).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !said.contains("invitelink.service:"), "{said}");
    }
}
