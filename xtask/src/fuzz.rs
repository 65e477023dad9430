//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target of `fuzz/`
//! for a while and prints, per target, the executions, executions per
//! second, coverage (edges and features), corpus size and crashes.
//!
//! The targets read their seeds in place: the project's fixtures and the
//! shared corpus and conformance suite; what they find is kept in
//! `fuzz/corpus/<target>/` (ignored by git) and crashes in
//! `fuzz/artifacts/<target>/`. cargo-fuzz needs nightly flags; on a stable
//! toolchain `RUSTC_BOOTSTRAP=1` allows them. The engine has no `unsafe`, so
//! the targets are built without a sanitizer (`-s none`): a panic, an
//! overflow (debug assertions are on) or a failed assertion is the finding.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The figures of one target's run.
#[derive(Debug, Default)]
struct Figures {
    execs: u64,
    execs_per_s: u64,
    edges: u64,
    features: u64,
    corpus: u64,
    peak_rss_mb: u64,
    crash: Option<String>,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo fuzz ...` in `fuzz/`, with the nightly flags allowed on stable.
fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.arg("fuzz").current_dir(fuzz_dir).env("RUSTC_BOOTSTRAP", "1");
    cmd
}

/// The targets `cargo fuzz list` names.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let out = cargo_fuzz(fuzz_dir)
        .arg("list")
        .output()
        .map_err(|e| format!("cannot start `cargo fuzz`: {e}; install it with `cargo install cargo-fuzz --locked`"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo fuzz list` failed ({}); install cargo-fuzz with `cargo install cargo-fuzz --locked`\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// The number after `key` in `line` (`cov: 1234`).
fn number_after(line: &str, key: &str) -> Option<u64> {
    let rest = line.get(line.find(key)? + key.len()..)?;
    let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Reads libFuzzer's output: the last status line and the final stats.
fn figures(log: &str) -> Figures {
    let mut f = Figures::default();
    for line in log.lines() {
        if line.starts_with('#') && line.contains("cov: ") {
            f.edges = number_after(line, "cov:").unwrap_or(f.edges);
            f.features = number_after(line, "ft:").unwrap_or(f.features);
            f.corpus = number_after(line, "corp:").unwrap_or(f.corpus);
        } else if let Some(n) = number_after(line, "stat::number_of_executed_units:") {
            f.execs = n;
        } else if let Some(n) = number_after(line, "stat::average_exec_per_sec:") {
            f.execs_per_s = n;
        } else if let Some(n) = number_after(line, "stat::peak_rss_mb:") {
            f.peak_rss_mb = n;
        } else if let Some(i) = line.find("Test unit written to ") {
            f.crash = line.get(i + "Test unit written to ".len()..).map(|p| p.trim().to_owned());
        }
    }
    f
}

/// Seed folders that exist: the fixtures, the shared corpus and the conformance suite.
fn seed_dirs(root: &Path) -> Vec<PathBuf> {
    [
        root.join("tests/fixtures"),
        root.join("tests/data/contacts"),
        root.join("../shared/corpus"),
        root.join("../shared/conformance"),
    ]
    .into_iter()
    .filter(|d| d.is_dir())
    .collect()
}

/// Runs every fuzz target for `seconds_per_target` seconds and prints the
/// figures; fails when a target crashed (the input is in `fuzz/artifacts/`).
pub fn run(root: &Path, seconds_per_target: u64) -> Result<(), String> {
    let fuzz_dir = root.join("fuzz");
    let targets = targets(&fuzz_dir)?;
    eprintln!("xtask: building {} fuzz targets", targets.len());
    let status = cargo_fuzz(&fuzz_dir)
        .args(["build", "-s", "none"])
        .status()
        .map_err(|e| format!("cannot start `cargo fuzz build`: {e}"))?;
    if !status.success() {
        return Err(format!("`cargo fuzz build` failed: {status}"));
    }
    let seeds = seed_dirs(root);
    let mut rows = Vec::new();
    for target in &targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        eprintln!("xtask: fuzzing `{target}` for {seconds_per_target} s");
        let started = Instant::now();
        let out = cargo_fuzz(&fuzz_dir)
            .args(["run", "-s", "none", target])
            .arg(&corpus)
            .args(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds_per_target}"))
            .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048", "-max_len=65536"])
            .output()
            .map_err(|e| format!("cannot start `cargo fuzz run {target}`: {e}"))?;
        let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let mut f = figures(&log);
        if !out.status.success() && f.crash.is_none() {
            f.crash = Some(format!("exit {} (see the log below)", out.status));
        }
        if f.crash.is_some() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        eprintln!("xtask: `{target}` done in {:.0} s", started.elapsed().as_secs_f64());
        rows.push((target.clone(), f));
    }
    println!(
        "{:<16} {:>12} {:>9} {:>8} {:>9} {:>7} {:>7}  crash",
        "target", "execs", "execs/s", "edges", "features", "corpus", "rss MB"
    );
    for (t, f) in &rows {
        println!(
            "{:<16} {:>12} {:>9} {:>8} {:>9} {:>7} {:>7}  {}",
            t,
            f.execs,
            f.execs_per_s,
            f.edges,
            f.features,
            f.corpus,
            f.peak_rss_mb,
            f.crash.as_deref().unwrap_or("-")
        );
    }
    let crashed: Vec<&str> = rows.iter().filter(|(_, f)| f.crash.is_some()).map(|(t, _)| t.as_str()).collect();
    if crashed.is_empty() { Ok(()) } else { Err(format!("fuzz targets crashed: {}", crashed.join(", "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let log = "#2\tINITED cov: 10 ft: 12 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 1500 ft: 4000 corp: 300/20Kb lim: 40 exec/s: 2048 rss: 60Mb\n\
                   #9000\tDONE   cov: 1523 ft: 4100 corp: 310/21Kb lim: 40 exec/s: 3000 rss: 61Mb\n\
                   stat::number_of_executed_units: 9000\n\
                   stat::average_exec_per_sec:     3000\n\
                   stat::peak_rss_mb:              61\n";
        let f = figures(log);
        assert_eq!(
            (f.execs, f.execs_per_s, f.edges, f.features, f.corpus, f.peak_rss_mb),
            (9000, 3000, 1523, 4100, 310, 61)
        );
        assert!(f.crash.is_none());
        let f = figures("==1== ERROR: libFuzzer: deadly signal\nTest unit written to ./artifacts/x/crash-abc\n");
        assert_eq!(f.crash.as_deref(), Some("./artifacts/x/crash-abc"));
    }
}
