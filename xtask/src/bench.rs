//! `cargo xtask bench [--quick]`: throughput figures, in release mode, in one
//! run on the same bytes (docs/benchmarks.md says how to read them).
//!
//! 1. Generates the deterministic corpus (`../shared/bench/gen_corpus.py`,
//!    its default size: 2,000 files, 32.6 MB) into a temporary folder.
//! 2. Builds and runs `invitelink-bench` (the `bench/` crate): parsing,
//!    deciding, writing and recurrence expansion beside the other Rust
//!    crates, on `../shared/corpus` and the generated corpus.
//! 3. Runs `invitelink check` on the generated files and reports the MB/s it
//!    prints, and the MB/s of the whole process.
//! 4. Runs ical.js (the version `tests/wasm` pins for its own comparison)
//!    on the same files in Node (`tests/wasm/icaljs-parse.mjs`), interleaved
//!    with `check`, and reports both whole processes and their ratio.
//!
//! `--quick` takes fewer samples (under two minutes once built); the full
//! run takes more samples of at least 100 ms each.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn run_status(cmd: &mut Command, what: &str) -> Result<(), String> {
    eprintln!("xtask: {what}");
    let status = cmd.status().map_err(|e| format!("cannot start `{what}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{what}` failed: {status}")) }
}

/// A folder of its own under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let dir = std::env::temp_dir().join(format!("invitelink-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The summary line of `invitelink check` (its last line of output).
struct CheckSummary {
    files: u64,
    bytes: u64,
    mb_per_s: f64,
    seconds_process: f64,
}

fn check_once(bin: &Path, files: &Path) -> Result<CheckSummary, String> {
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("check")
        .arg(files)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", bin.display()))?;
    let seconds_process = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("`invitelink check` failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().rev().find(|l| l.contains("\"summary\"")).ok_or("`invitelink check` printed no summary")?;
    let v: serde_json::Value = serde_json::from_str(last).map_err(|e| format!("cannot read the summary: {e}"))?;
    let s = &v["summary"];
    Ok(CheckSummary {
        files: s["files"].as_u64().unwrap_or(0),
        bytes: s["bytes"].as_u64().unwrap_or(0),
        mb_per_s: s["mb_per_s"].as_f64().unwrap_or(f64::NAN),
        seconds_process,
    })
}

/// What `tests/wasm/icaljs-parse.mjs` prints.
struct IcaljsSummary {
    refused: u64,
    seconds_parse: f64,
    seconds_process: f64,
}

fn icaljs_once(root: &Path, files: &Path) -> Result<IcaljsSummary, String> {
    let started = Instant::now();
    let out = Command::new("node")
        .arg(root.join("tests/wasm/icaljs-parse.mjs"))
        .arg(files)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start `node tests/wasm/icaljs-parse.mjs`: {e}"))?;
    let seconds_process = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("`node tests/wasm/icaljs-parse.mjs` failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("cannot read what icaljs-parse.mjs printed: {e}"))?;
    Ok(IcaljsSummary {
        refused: v["refused"].as_u64().unwrap_or(0),
        seconds_parse: v["seconds_parse"].as_f64().unwrap_or(f64::NAN),
        seconds_process,
    })
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let m = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    (m, v[0], v[n - 1])
}

/// Runs the benchmarks; `quick` for a short run.
pub fn run(root: &Path, quick: bool) -> Result<(), String> {
    let started = Instant::now();
    let shared = root.join("../shared");
    let tmp = TempDir::new()?;
    let corpus = tmp.0.join("corpus");
    run_status(
        Command::new("python3")
            .arg(shared.join("bench/gen_corpus.py"))
            .arg("--out")
            .arg(&corpus)
            .current_dir(root)
            .stdout(Stdio::null()),
        "python3 ../shared/bench/gen_corpus.py --out <tmp>/corpus",
    )?;
    let cargo = cargo_program();
    run_status(
        Command::new(&cargo).args(["build", "--release", "-p", "invitelink-bench"]).current_dir(root),
        "cargo build --release -p invitelink-bench",
    )?;
    // The CLI without the backend: `check` is the engine alone.
    run_status(
        Command::new(&cargo)
            .args(["build", "--release", "-p", "invitelink-cli", "--no-default-features", "--bin", "invitelink"])
            .current_dir(root),
        "cargo build --release -p invitelink-cli --no-default-features --bin invitelink",
    )?;
    let bench = root.join("target/release/invitelink-bench");
    let mut args = vec![
        "--shared".to_owned(),
        shared.join("corpus").display().to_string(),
        "--generated".to_owned(),
        corpus.display().to_string(),
    ];
    if quick {
        args.push("--quick".to_owned());
    }
    run_status(Command::new(&bench).args(&args).current_dir(root), "invitelink-bench")?;

    crate::npm::install(&root.join("tests/wasm"))?;

    let cli = root.join("target/release/invitelink");
    let files = corpus.join("files");
    let runs = if quick { 3 } else { 7 };
    let mut reported = Vec::new();
    let mut process = Vec::new();
    let mut last = None;
    let (mut icaljs_process, mut icaljs_parse, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut refused = 0;
    // Interleaved, so both see the same moments of a shared machine.
    for _ in 0..runs {
        let s = check_once(&cli, &files)?;
        let other = icaljs_once(root, &files)?;
        let mb = s.bytes as f64 / 1e6;
        reported.push(s.mb_per_s);
        process.push(mb / s.seconds_process);
        icaljs_process.push(mb / other.seconds_process);
        icaljs_parse.push(mb / other.seconds_parse);
        ratios.push(other.seconds_process / s.seconds_process);
        refused = other.refused;
        last = Some(s);
    }
    let (m, lo, hi) = median(reported);
    let (pm, plo, phi) = median(process);
    println!();
    println!("## `invitelink check` on the generated files ({runs} runs)");
    println!();
    println!("| measurement | MB/s median | spread (min–max) |");
    println!("| --- | ---: | ---: |");
    println!("| `mb_per_s` it prints (decide time only) | {m:.1} | {lo:.1}–{hi:.1} |");
    println!("| whole process (read files, decide, print JSON lines) | {pm:.1} | {plo:.1}–{phi:.1} |");
    let (im, ilo, ihi) = median(icaljs_process);
    let (jm, jlo, jhi) = median(icaljs_parse);
    let (rm, rlo, rhi) = median(ratios);
    println!("| ical.js 2.2.1 in Node, whole process (read files, parse) | {im:.1} | {ilo:.1}–{ihi:.1} |");
    println!(
        "| ical.js 2.2.1, parsing alone (its own timing; {refused} files refused) | {jm:.1} | {jlo:.1}–{jhi:.1} |"
    );
    println!("| **whole process: `invitelink check` / ical.js (time ratio)** | **{rm:.2}x** | {rlo:.2}x–{rhi:.2}x |");
    if let Some(s) = last {
        println!("| files, bytes | {} | {} |", s.files, s.bytes);
    }
    println!();
    println!("(xtask bench took {:.0} s)", started.elapsed().as_secs_f64());
    Ok(())
}
