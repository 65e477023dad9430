//! `invitelink-bench`: throughput of the engine beside other Rust iCalendar
//! parsers and the `rrule` crate, in one run on the same bytes. Prints
//! Markdown tables of medians and spreads. Run through `cargo xtask bench`.
//!
//! ```text
//! invitelink-bench --shared ../shared/corpus --generated <dir> [--quick] [--only parse|recur]
//! invitelink-bench --dump-icalendar FILE   (what the `icalendar` crate writes back)
//! invitelink-bench --loop PARSER --generated <dir> [--seconds S | --passes N]   (for a profiler)
//! ```

/// The allocator the program `invitelink` uses (cli/src/main.rs), so that
/// the engine's figures here are the program's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod corpus;
mod measure;
mod parsers;
mod recurrence;
mod write;

use corpus::Dataset;
use invitelink::api;
use measure::{Case, Timing, run_group};
use parsers::Parser;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    shared: Option<PathBuf>,
    generated: Option<PathBuf>,
    quick: bool,
    only: Option<String>,
    loop_parser: Option<String>,
    seconds: f64,
    passes: Option<u64>,
    dump: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        shared: None,
        generated: None,
        quick: false,
        only: None,
        loop_parser: None,
        seconds: 10.0,
        passes: None,
        dump: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--shared" => a.shared = Some(PathBuf::from(value()?)),
            "--generated" => a.generated = Some(PathBuf::from(value()?)),
            "--quick" => a.quick = true,
            "--only" => a.only = Some(value()?),
            "--loop" => a.loop_parser = Some(value()?),
            "--dump-icalendar" => a.dump = Some(PathBuf::from(value()?)),
            "--passes" => a.passes = Some(value()?.parse().map_err(|_| "`--passes` needs a number".to_owned())?),
            "--seconds" => a.seconds = value()?.parse().map_err(|_| "`--seconds` needs a number".to_owned())?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.to_owned()))
        .and_then(|l| l.split_once(':').map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    format!("{cpus} CPUs available, {model}")
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// How many messages a dataset holds: its files, or for one file (`all.ics`)
/// the `VCALENDAR` objects in it.
fn calendars(d: &Dataset) -> usize {
    match d.messages.as_slice() {
        [one] => one.text.matches("BEGIN:VCALENDAR").count(),
        all => all.len(),
    }
}

/// Files rejected by `p`, their share of the bytes, and two examples.
fn validate(d: &Dataset, p: Parser) -> (usize, f64, Vec<String>) {
    let mut failed = 0;
    let mut failed_bytes = 0;
    let mut examples = Vec::new();
    for m in &d.messages {
        if let Err(e) = p.read(&m.text) {
            failed += 1;
            failed_bytes += m.text.len();
            if examples.len() < 2 {
                let file = m.name.rsplit('/').next().unwrap_or(&m.name);
                examples.push(format!("{file}: {}", e.replace('\n', " ").chars().take(100).collect::<String>()));
            }
        }
    }
    (failed, failed_bytes as f64 / d.bytes().max(1) as f64, examples)
}

fn row(dataset: &str, t: &Timing, extra: &str) {
    let (mbs, mbs_lo, mbs_hi) = t.rate(0);
    let (msgs, _, _) = t.rate(1);
    println!(
        "| {dataset} | {} | {mbs:.1} | {mbs_lo:.1}–{mbs_hi:.1} | {:.1} | {msgs:.0} | {extra} |",
        t.name,
        t.wall_rate(0)
    );
}

fn parse_suite(d: &Dataset, with_decide: bool, samples: usize, min_sample: Duration) {
    let bytes = d.bytes() as f64;
    let messages = calendars(d) as f64;
    let mut notes = Vec::new();
    let mut cases: Vec<Case<'_>> = Vec::new();
    // A parser that rejects more than a tenth of the bytes did not read the
    // dataset: its figure is shown but takes no part in the ratio.
    let mut excluded = Vec::new();
    for p in Parser::ALL {
        let (failed, share, examples) = validate(d, p);
        let mut note = if failed == 0 {
            String::new()
        } else {
            format!("rejected {failed} of {} files ({})", d.messages.len(), examples.join("; "))
        };
        if share > 0.1 {
            excluded.push(p.name());
            note.push_str(&format!("; {:.0}% of the bytes rejected: not in the ratio", share * 100.0));
        }
        notes.push(note);
        let msgs = &d.messages;
        cases.push(Case {
            name: p.name().to_owned(),
            run: Box::new(move || msgs.iter().map(|m| p.read(&m.text).unwrap_or(0)).fold(0, usize::wrapping_add)),
            units: vec![mb(bytes as usize), messages],
        });
    }
    if with_decide {
        let msgs = &d.messages;
        let errors = msgs.iter().filter(|m| api::decide(m.text.as_bytes(), &m.context).is_err()).count();
        notes.push(if errors == 0 { String::new() } else { format!("{errors} messages answered with an error") });
        cases.push(Case {
            name: "invitelink api::decide (read + parse + decide)".into(),
            run: Box::new(move || msgs.iter().filter(|m| api::decide(m.text.as_bytes(), &m.context).is_ok()).count()),
            units: vec![mb(bytes as usize), messages],
        });
    }
    let timings = run_group(cases, samples, min_sample);
    let label = format!("{} ({:.1} MB, {} msgs)", d.name, mb(bytes as usize), messages);
    for (t, note) in timings.iter().zip(&notes) {
        row(&label, t, note);
    }
    let ours = timings.iter().find(|t| t.name == Parser::Ours.name()).map(|t| t.rate(0).0).unwrap_or(f64::NAN);
    let ceiling = timings.first().map(|t| t.rate(0).0).unwrap_or(f64::NAN);
    let fastest = timings
        .iter()
        .filter(|t| Parser::OTHERS.iter().any(|p| p.name() == t.name) && !excluded.contains(&t.name.as_str()))
        .map(|t| (t.rate(0).0, t.name.clone()))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((f, name)) = fastest {
        println!(
            "| {label} | **ratio ours / fastest other ({name})** | **{:.2}x** | | | | ours / memchr ceiling: {:.3} |",
            ours / f,
            ours / ceiling
        );
    }
    if let Some(decide) = timings.iter().find(|t| t.name.starts_with("invitelink api::decide")) {
        println!(
            "| {label} | parse share of read + parse + decide | {:.0}% | | | | |",
            100.0 * decide.rate(0).0 / ours
        );
    }
}

fn write_suite(d: &Dataset, samples: usize, min_sample: Duration) {
    let trees = write::trees(d);
    let (same, ours_lines, theirs_lines, input_lines) = write::fidelity(d, &trees);
    let timings = run_group(write::cases(&trees), samples, min_sample);
    let label = format!("write: {} ({} files both read)", d.name, trees.files);
    let notes = [
        format!("read back: same tree on {same} of {} files; {ours_lines} of {input_lines} content lines", trees.files),
        format!("{theirs_lines} of {input_lines} content lines written"),
    ];
    for (t, note) in timings.iter().zip(&notes) {
        row(&label, t, note);
    }
}

fn recur_suite(samples: usize, min_sample: Duration) {
    for rule in &recurrence::RULES {
        let prepared = match recurrence::prepare(rule) {
            Ok(p) => p,
            Err(e) => {
                println!("| {} | cannot prepare: {e} | | | |", rule.name);
                continue;
            }
        };
        let problems = recurrence::check(rule, &prepared);
        let cal = match invitelink::ical::parse_calendar(recurrence::text(&prepared), &Default::default()) {
            Ok(c) => c,
            Err(e) => {
                println!("| {} | cannot parse: {e} | | | |", rule.name);
                continue;
            }
        };
        let timings = run_group(recurrence::cases(rule, &prepared, &cal), samples, min_sample);
        for t in &timings {
            let (m, lo, hi) = t.rate(0);
            println!("| {} | {:.2} | {:.2}–{:.2} | {:.1} |", t.name, m / 1e6, lo / 1e6, hi / 1e6, t.median() * 1e6);
        }
        if let (Some(raw), Some(full), Some(other)) = (timings.first(), timings.get(1), timings.get(2)) {
            println!(
                "| {}: **ratio iterator / rrule; expand / rrule** | **{:.2}x; {:.2}x** | | |",
                rule.name,
                raw.rate(0).0 / other.rate(0).0,
                full.rate(0).0 / other.rate(0).0
            );
        }
        for p in problems {
            println!("| {} | check: {p} | | |", rule.name);
        }
        if std::ptr::eq(rule, &recurrence::RULES[0]) {
            let timings = run_group(recurrence::format_cases(&prepared), samples, min_sample);
            for t in &timings {
                let (m, lo, hi) = t.rate(0);
                println!(
                    "| output step: {} | {:.2} | {:.2}–{:.2} | {:.1} |",
                    t.name,
                    m / 1e6,
                    lo / 1e6,
                    hi / 1e6,
                    t.median() * 1e6
                );
            }
            if !recurrence::format_agrees(&prepared) {
                println!("| output step | check: the digit-by-digit text differs from chrono's | | |");
            }
        }
    }
}

/// Runs one parser over the generated files for a while (for `perf record`
/// or callgrind).
fn profile_loop(name: &str, d: &Dataset, seconds: f64, passes: Option<u64>) -> Result<(), String> {
    if let Some(which) = name.strip_prefix("expand-") {
        return profile_expand(which, passes.unwrap_or(1000));
    }
    if name == "decide" {
        let mut ok = 0usize;
        for _ in 0..passes.unwrap_or(3) {
            ok += d.messages.iter().filter(|m| api::decide(m.text.as_bytes(), &m.context).is_ok()).count();
        }
        eprintln!("decided ({ok})");
        return Ok(());
    }
    let p = match name {
        "ours" => Parser::Ours,
        "ical" => Parser::IcalCrate,
        "calcard" => Parser::Calcard,
        "icalendar" => Parser::Icalendar,
        "scan" => Parser::LineScan,
        other => return Err(format!("unknown parser `{other}`")),
    };
    let start = Instant::now();
    let mut sink = 0usize;
    let (seconds, most) = match passes {
        Some(n) => (f64::INFINITY, n),
        None => (seconds, 1_000_000),
    };
    let mut passes = 0u64;
    while start.elapsed().as_secs_f64() < seconds && passes < most {
        for m in &d.messages {
            sink = sink.wrapping_add(p.read(&m.text).unwrap_or(0));
        }
        passes += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!("{passes} passes, {:.1} MB/s ({sink})", mb(d.bytes()) * passes as f64 / secs);
    Ok(())
}

/// Runs `expand` of one of the rules `passes` times (for a profiler).
fn profile_expand(which: &str, passes: u64) -> Result<(), String> {
    let rule = recurrence::RULES.iter().find(|r| r.name.starts_with(which)).ok_or("no such rule")?;
    let prepared = recurrence::prepare(rule)?;
    let cal = invitelink::ical::parse_calendar(recurrence::text(&prepared), &Default::default())
        .map_err(|e| e.to_string())?;
    let mut cases = recurrence::cases(rule, &prepared, &cal);
    let case = cases.get_mut(1).ok_or("no expand case")?;
    let mut sink = 0usize;
    for _ in 0..passes {
        sink = sink.wrapping_add((case.run)());
    }
    eprintln!("{passes} passes ({sink})");
    Ok(())
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("invitelink-bench: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let a = args()?;
    let (samples, min_sample) = if a.quick { (5, Duration::from_millis(20)) } else { (15, Duration::from_millis(100)) };
    if let Some(file) = &a.dump {
        // What the `icalendar` crate writes back for one file (docs/benchmarks.md).
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        let unfolded = icalendar::parser::unfold(&text);
        let cal = icalendar::parser::read_calendar(&unfolded)?;
        print!("{}", icalendar::Calendar::from(cal));
        return Ok(());
    }
    if let Some(name) = &a.loop_parser {
        if name.starts_with("expand-") {
            return profile_loop(name, &corpus::Dataset::default(), a.seconds, a.passes);
        }
        let dir = a.generated.as_ref().ok_or("`--loop` needs `--generated`")?;
        let d = corpus::load("generated", &dir.join("files"), name == "decide");
        return profile_loop(name, &d, a.seconds, a.passes);
    }
    println!("Machine: {}", machine());
    println!(
        "Mode: {} ({samples} samples per case, each at least {} ms, taken round-robin)",
        if a.quick { "quick" } else { "full" },
        min_sample.as_millis()
    );
    let started = Instant::now();
    if a.only.as_deref() != Some("recur") {
        println!();
        println!("## Parse (and decide)");
        println!();
        println!(
            "| dataset | measurement | MB/s median | MB/s spread (min–max) | MB/s wall-clock | messages/s median | notes |"
        );
        println!("| --- | --- | ---: | ---: | ---: | ---: | --- |");
        if let Some(dir) = &a.shared {
            let d = corpus::load("shared corpus", dir, true);
            if d.skipped > 0 {
                eprintln!("skipped {} files of the shared corpus (not UTF-8)", d.skipped);
            }
            parse_suite(&d, true, samples, min_sample);
        }
        if let Some(dir) = &a.generated {
            let files = corpus::load("generated files/*.ics", &dir.join("files"), true);
            parse_suite(&files, true, samples, min_sample);
            write_suite(&files, samples, min_sample);
            drop(files);
            let all = corpus::load("generated all.ics", &dir.join("all.ics"), false);
            parse_suite(&all, false, samples, min_sample);
        }
    }
    if a.only.as_deref() != Some("parse") {
        println!();
        println!("## Recurrence expansion ({} instances per series)", recurrence::INSTANCES);
        println!();
        println!("| rule: implementation | M occurrences/s median | spread (min–max) | µs per series |");
        println!("| --- | ---: | ---: | ---: |");
        recur_suite(samples, min_sample);
    }
    println!();
    println!("(bench ran {:.0} s)", started.elapsed().as_secs_f64());
    Ok(())
}
