//! `cargo xtask pkg`: the WebAssembly package in `pkg/`.
//!
//! Steps: make sure the `wasm32-unknown-unknown` target is installed; compile
//! the library for it with the `wasm-release` profile; generate the ES module
//! and its `.d.ts` with the bindings generator linked into this task runner
//! (`wasm-bindgen-cli-support`, pinned to the exact version of the
//! `wasm-bindgen` crate in `Cargo.lock`); shrink the module with `wasm-opt`
//! (npm's `binaryen`, pinned in `xtask/wasm-opt/package-lock.json` and
//! installed there with `npm ci` on first use; the build goes on without it
//! when npm is missing); write `package.json`; report raw and gzip sizes.
//!
//! `pkg/` is built, never committed: its old contents are replaced whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The wasm target of the package.
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The cargo profile the package is compiled with (see the main `Cargo.toml`).
const WASM_PROFILE: &str = "wasm-release";
/// The name of the generated files (`invitelink.js`, `invitelink_bg.wasm`, ...).
const OUT_NAME: &str = "invitelink";
/// The version of the bindings generator linked into xtask; it must equal
/// the `wasm-bindgen` crate's version in `Cargo.lock` (both are pinned with `=`).
const BINDGEN_VERSION: &str = "0.2.130";
/// Features of the module that `wasm-opt` must accept and may keep: those
/// rustc enables by default for the target, all supported by Node 20 and
/// current browsers.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// What the package is built from: the crate's metadata and where cargo puts its output.
struct Crate {
    version: String,
    description: String,
    license: String,
    target_dir: PathBuf,
}

/// Builds `pkg/` under `root` (the workspace root).
pub fn build(root: &Path) -> Result<(), String> {
    let krate = read_crate(root)?;
    check_bindgen_version(root)?;
    ensure_target()?;
    let wasm = compile(root, &krate)?;
    let staging = krate.target_dir.join("pkg-staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| format!("cannot clear `{}`: {e}", staging.display()))?;
    }
    generate_bindings(&wasm, &staging)?;
    let module = staging.join(format!("{OUT_NAME}_bg.wasm"));
    let before = file_size(&module)?;
    optimize(root, &module);
    std::fs::write(staging.join("package.json"), package_json(&krate))
        .map_err(|e| format!("cannot write package.json: {e}"))?;
    std::fs::write(staging.join("README.md"), readme(&krate)).map_err(|e| format!("cannot write README.md: {e}"))?;
    let pkg = root.join("pkg");
    replace_contents(&staging, &pkg)?;
    report_sizes(&pkg.join(format!("{OUT_NAME}_bg.wasm")), before)
}

/// Runs a command to the end, with its output shown, failing when it fails.
pub(crate) fn run_command(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}").replace('"', "");
    eprintln!("xtask: {shown}");
    let status = command.status().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{shown}` failed: {status}")) }
}

/// The `cargo` that runs this task runner.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// The packages every native test command builds: the same selection gives
/// the same features to every dependency, so no command rebuilds what an
/// earlier one built (each extra set costs gigabytes of `target/` and minutes).
pub(crate) const TESTED: [&str; 3] = ["--workspace", "--exclude", "invitelink-bench"];

/// Builds the `invitelink` program as the tests build it.
pub(crate) fn build_program(root: &Path) -> Result<(), String> {
    run_command(cargo().arg("build").args(TESTED).args(["--bin", "invitelink"]).current_dir(root))
}

/// Where cargo writes its output for the workspace at `root`.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf, String> {
    Ok(read_crate(root)?.target_dir)
}

fn read_crate(root: &Path) -> Result<Crate, String> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`cargo metadata` failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cannot read `cargo metadata`: {e}"))?;
    let package = meta
        .get("packages")
        .and_then(|p| p.as_array())
        .and_then(|p| p.iter().find(|p| p.get("name").and_then(|n| n.as_str()) == Some("invitelink")))
        .ok_or("`cargo metadata` lists no `invitelink` package")?;
    let text = |key: &str| package.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let target_dir =
        meta.get("target_directory").and_then(|t| t.as_str()).map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    Ok(Crate { version: text("version"), description: text("description"), license: text("license"), target_dir })
}

/// The generator and the runtime crate must be the same release, or the
/// generated glue does not fit the module.
fn check_bindgen_version(root: &Path) -> Result<(), String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines.next().unwrap_or_default().trim();
            let version = version.trim_start_matches("version = ").trim_matches('"');
            if version == BINDGEN_VERSION {
                return Ok(());
            }
            return Err(format!(
                "Cargo.lock has wasm-bindgen {version} but xtask links the bindings generator {BINDGEN_VERSION}; \
                 pin both to the same version (`=x.y.z` in Cargo.toml and xtask/Cargo.toml)"
            ));
        }
    }
    Err("Cargo.lock has no wasm-bindgen; is it a dependency of the wasm32 target?".to_owned())
}

/// Installs the wasm target through rustup when it is missing.
pub(crate) fn ensure_target() -> Result<(), String> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == WASM_TARGET) {
                return Ok(());
            }
            run_command(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        }
        // Without rustup the toolchain may still have the target; the build tells.
        _ => Ok(()),
    }
}

fn compile(root: &Path, krate: &Crate) -> Result<PathBuf, String> {
    run_command(
        cargo()
            .args(["build", "--lib", "--package", "invitelink-wasm"])
            .args(["--target", WASM_TARGET, "--profile", WASM_PROFILE])
            .current_dir(root),
    )?;
    let wasm = krate.target_dir.join(WASM_TARGET).join(WASM_PROFILE).join("invitelink_wasm.wasm");
    if wasm.is_file() { Ok(wasm) } else { Err(format!("the build wrote no `{}`", wasm.display())) }
}

fn generate_bindings(wasm: &Path, out_dir: &Path) -> Result<(), String> {
    eprintln!("xtask: wasm-bindgen {BINDGEN_VERSION} --target web --typescript {}", wasm.display());
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(OUT_NAME)
        .typescript(true)
        .omit_default_module_path(false)
        // Function names help profiling only; `INVITELINK_WASM_NAMES=1` keeps them.
        .remove_name_section(std::env::var_os("INVITELINK_WASM_NAMES").is_none())
        .remove_producers_section(true);
    bindgen.web(true).map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    bindgen.generate(out_dir).map_err(|e| format!("wasm-bindgen: {e:#}"))
}

/// The oldest `wasm-opt` known to keep the module working: older ones (such
/// as Debian 12's 108) break wasm-bindgen's externref table.
const WASM_OPT_MIN_VERSION: u32 = 132;

/// The passes given to `wasm-opt`. Measured on this module (docs/benchmarks.md):
/// `-O1` shrinks it gzipped; `-O2`, `-Os` and `-Oz` shrink it raw but grow
/// it gzipped (they reorder code and locals in ways that compress worse).
const WASM_OPT_PASSES: &[&str] = &["-O1"];

/// The pinned `binaryen` of `xtask/wasm-opt/`, installed with `npm ci` when
/// it is not there yet; `None` when npm cannot install it.
fn pinned_wasm_opt(root: &Path) -> Option<PathBuf> {
    let dir = root.join("xtask/wasm-opt");
    let program = dir.join("node_modules/.bin/wasm-opt");
    if !program.is_file() {
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        let installed = run_command(Command::new(npm).args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir));
        if let Err(e) = installed {
            eprintln!("xtask: cannot install the pinned wasm-opt: {e}");
            return None;
        }
    }
    Some(program)
}

/// The `wasm-opt` to use: `$WASM_OPT` (`none` for none), else the pinned npm
/// `binaryen` of `xtask/wasm-opt/`, else one on `PATH`; the first that runs
/// and is recent enough.
fn find_wasm_opt(root: &Path) -> Option<PathBuf> {
    if std::env::var_os("WASM_OPT").is_some_and(|v| v.is_empty() || v == "none") {
        return None;
    }
    let candidates = match std::env::var_os("WASM_OPT") {
        Some(given) => vec![Some(PathBuf::from(given))],
        None => vec![pinned_wasm_opt(root), Some(PathBuf::from("wasm-opt"))],
    };
    candidates.into_iter().flatten().find(|c| match wasm_opt_version(c) {
        Some(v) if v >= WASM_OPT_MIN_VERSION => true,
        Some(v) => {
            eprintln!("xtask: {} is version {v}, older than {WASM_OPT_MIN_VERSION}; not used", c.display());
            false
        }
        None => false,
    })
}

/// The version of a `wasm-opt` (`wasm-opt version 132 (version_132)`), when it runs.
fn wasm_opt_version(program: &Path) -> Option<u32> {
    let out = Command::new(program).arg("--version").stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let number = text.split_whitespace().skip_while(|w| *w != "version").nth(1)?;
    number.parse().ok()
}

/// Optimizes the module in place with `wasm-opt` ([`WASM_OPT_PASSES`]),
/// keeping the result only when it is smaller as served (gzip).
fn optimize(root: &Path, module: &Path) {
    let Some(wasm_opt) = find_wasm_opt(root) else {
        eprintln!(
            "xtask: no usable wasm-opt (npm `binaryen` {WASM_OPT_MIN_VERSION} or newer); the module is kept as built"
        );
        return;
    };
    let optimized = module.with_extension("opt.wasm");
    let mut command = Command::new(&wasm_opt);
    command.args(WASM_OPT_PASSES).args(WASM_OPT_FEATURES).arg(module).arg("-o").arg(&optimized);
    if let Err(e) = run_command(&mut command) {
        eprintln!("xtask: {e}; the module is kept as built");
        let _ = std::fs::remove_file(&optimized);
        return;
    }
    let served = |path: &Path| gzip_size(path).or_else(|| file_size(path).ok());
    match (served(module), served(&optimized)) {
        (Some(before), Some(after)) if after < before => {
            if let Err(e) = std::fs::rename(&optimized, module) {
                eprintln!("xtask: cannot replace the module with the optimized one: {e}");
            }
        }
        (before, after) => {
            eprintln!(
                "xtask: wasm-opt gave {} bytes gzipped instead of {}; the module is kept as built",
                after.unwrap_or_default(),
                before.unwrap_or_default()
            );
            let _ = std::fs::remove_file(&optimized);
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The npm manifest of the package.
fn package_json(krate: &Crate) -> String {
    format!(
        r#"{{
  "name": "{OUT_NAME}",
  "version": {version},
  "description": {description},
  "license": {license},
  "type": "module",
  "main": "./{OUT_NAME}.js",
  "module": "./{OUT_NAME}.js",
  "types": "./{OUT_NAME}.d.ts",
  "exports": {{
    ".": {{
      "types": "./{OUT_NAME}.d.ts",
      "import": "./{OUT_NAME}.js"
    }},
    "./{OUT_NAME}_bg.wasm": "./{OUT_NAME}_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [
    "{OUT_NAME}.js",
    "{OUT_NAME}.d.ts",
    "{OUT_NAME}_bg.wasm",
    "{OUT_NAME}_bg.wasm.d.ts"
  ],
  "sideEffects": false
}}
"#,
        version = json_string(&krate.version),
        description = json_string(&krate.description),
        license = json_string(&krate.license),
    )
}

fn readme(krate: &Crate) -> String {
    format!(
        "# {OUT_NAME} {version}\n\n{description}\n\n\
         The engine compiled to WebAssembly. Every export takes the message (string or\n\
         `Uint8Array`) and a plain object with the fields of the CLI's JSON, and returns\n\
         `{{type: \"success\", ...}}` or `{{type: \"failure\", errors: [{{code, message, line}}]}}`;\n\
         it never throws on bad input. Types are in `{OUT_NAME}.d.ts`.\n\n\
         ```js\n\
         import init, {{ decide }} from \"{OUT_NAME}\";\n\
         await init();\n\
         const answer = decide(icsText, {{ mailbox: \"me@example.com\", now: \"2026-12-01T09:00:00Z\" }});\n\
         ```\n",
        version = krate.version,
        description = krate.description,
    )
}

/// Replaces everything in `pkg` but `.gitkeep` with the files of `staging`.
fn replace_contents(staging: &Path, pkg: &Path) -> Result<(), String> {
    std::fs::create_dir_all(pkg).map_err(|e| format!("cannot create `{}`: {e}", pkg.display()))?;
    let entries = std::fs::read_dir(pkg).map_err(|e| format!("cannot list `{}`: {e}", pkg.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == ".gitkeep" {
            continue;
        }
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(|e| format!("cannot remove `{}`: {e}", path.display()))?;
    }
    copy_tree(staging, pkg)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("cannot list `{}`: {e}", from.display()))?;
    for entry in entries.flatten() {
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("cannot create `{}`: {e}", target.display()))?;
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(|e| format!("cannot write `{}`: {e}", target.display()))?;
        }
    }
    Ok(())
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The size of `path` compressed with `gzip -9`, when gzip is installed.
fn gzip_size(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut child =
        Command::new("gzip").args(["-9", "-c"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().ok()?;
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn report_sizes(module: &Path, before_wasm_opt: u64) -> Result<(), String> {
    let raw = file_size(module)?;
    let gzip =
        gzip_size(module).map_or_else(|| "unknown (no gzip)".to_owned(), |g| format!("{:.1} KiB", g as f64 / 1024.0));
    eprintln!(
        "xtask: pkg/{OUT_NAME}_bg.wasm: {:.1} KiB raw ({:.1} KiB before wasm-opt), {gzip} gzip -9",
        raw as f64 / 1024.0,
        before_wasm_opt as f64 / 1024.0,
    );
    Ok(())
}
