//! `cargo xtask gen-windows-zones`: writes `src/tz/windows.rs`, the table of
//! Windows time-zone names and their IANA zones, from CLDR's
//! `supplemental/windowsZones.json` as the npm package `cldr-core` ships it.
//!
//! The package is fetched with `npm pack cldr-core@<CLDR_CORE_VERSION>` into a
//! temporary folder, or read from an unpacked copy named by the environment
//! variable `CLDR_CORE_DIR` (the folder holding `package.json` and
//! `supplemental/`). Only the rows of territory `001` (the "golden" zone of
//! each Windows name) are kept.

use serde_json::Value;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// The `cldr-core` release the table is generated from.
pub const CLDR_CORE_VERSION: &str = "48.2.0";

/// Where the generated table goes, relative to the repository root.
const OUTPUT: &str = "src/tz/windows.rs";

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    windows: String,
    iana: String,
}

/// The data read from the package.
struct Source {
    /// The package's own version (`package.json`).
    package_version: String,
    /// CLDR's release number (`supplemental.version._cldrVersion`).
    cldr_version: String,
    mappings: Vec<Mapping>,
}

/// Generates `src/tz/windows.rs` under `repo_root`.
pub fn run(repo_root: &Path) -> Result<(), String> {
    let source = match std::env::var_os("CLDR_CORE_DIR") {
        Some(dir) => read_package(Path::new(&dir))?,
        None => {
            let work = std::env::temp_dir().join(format!("invitelink-cldr-core-{}", std::process::id()));
            let result = fetch_package(&work).and_then(|dir| read_package(&dir));
            // Best effort: a leftover temporary folder is harmless.
            let _ = std::fs::remove_dir_all(&work);
            result?
        }
    };
    if source.package_version != CLDR_CORE_VERSION {
        eprintln!("note: cldr-core {} read, {} pinned", source.package_version, CLDR_CORE_VERSION);
    }
    let text = render(&source);
    let out = repo_root.join(OUTPUT);
    std::fs::write(&out, text).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    println!(
        "wrote {} ({} Windows names, cldr-core {}, CLDR {})",
        out.display(),
        source.mappings.len(),
        source.package_version,
        source.cldr_version
    );
    Ok(())
}

/// Runs `npm pack` in `work` and unpacks the two files needed; returns the package folder.
fn fetch_package(work: &Path) -> Result<PathBuf, String> {
    let members = ["package/package.json", "package/supplemental/windowsZones.json"];
    Ok(crate::npm::unpack(work, "cldr-core", CLDR_CORE_VERSION, &members)?.join("package"))
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("`{}` is not valid json: {e}", path.display()))
}

/// Reads an unpacked `cldr-core` folder.
fn read_package(dir: &Path) -> Result<Source, String> {
    let package = read_json(&dir.join("package.json"))?;
    let package_version = package
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{}/package.json` has no version", dir.display()))?
        .to_owned();
    let zones = read_json(&dir.join("supplemental").join("windowsZones.json"))?;
    let cldr_version =
        zones.pointer("/supplemental/version/_cldrVersion").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    let rows = zones
        .pointer("/supplemental/windowsZones/mapTimezones")
        .and_then(Value::as_array)
        .ok_or_else(|| "windowsZones.json has no `mapTimezones` list".to_owned())?;
    let mappings = golden_mappings(rows)?;
    Ok(Source { package_version, cldr_version, mappings })
}

/// The rows of territory `001`, sorted as the generated lookup expects.
fn golden_mappings(rows: &[Value]) -> Result<Vec<Mapping>, String> {
    let mut out = Vec::new();
    for row in rows {
        let Some(zone) = row.get("mapZone") else { continue };
        let field = |name: &str| zone.get(name).and_then(Value::as_str);
        if field("_territory") != Some("001") {
            continue;
        }
        let windows = field("_other").ok_or_else(|| format!("a `001` row has no windows name: {zone}"))?;
        // Territory 001 names exactly one zone; take the first should that ever change.
        let iana = field("_type")
            .and_then(|t| t.split_whitespace().next())
            .ok_or_else(|| format!("`{windows}` has no iana zone"))?;
        for name in [windows, iana] {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_graphic() || c == ' ') || name.contains(['"', '\\'])
            {
                return Err(format!("unexpected characters in `{name}`"));
            }
        }
        out.push(Mapping { windows: windows.to_owned(), iana: iana.to_owned() });
    }
    if out.is_empty() {
        return Err("no row of territory `001` found".to_owned());
    }
    out.sort_by(|a, b| table_order(&a.windows, &b.windows));
    for pair in out.windows(2) {
        if let [a, b] = pair
            && cmp_folded(&a.windows, &b.windows) == Ordering::Equal
        {
            return Err(format!("`{}` and `{}` differ only in case", a.windows, b.windows));
        }
    }
    Ok(out)
}

/// Compares ignoring ASCII case; the generated lookup uses the same order.
fn cmp_folded(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The table's order: case-folded, then exact bytes.
fn table_order(a: &str, b: &str) -> Ordering {
    cmp_folded(a, b).then_with(|| a.cmp(b))
}

/// The text of `src/tz/windows.rs`, already formatted as `cargo fmt` would.
fn render(source: &Source) -> String {
    let mut s = String::new();
    s.push_str("//! Windows time-zone names -> IANA, from CLDR's windowsZones table (territory `001`).\n");
    s.push_str("//!\n");
    s.push_str(&format!(
        "//! Generated by `cargo xtask gen-windows-zones` from cldr-core {} (CLDR {}). Do not edit.\n//!\n",
        source.package_version, source.cldr_version
    ));
    s.push_str(
        "//! Names that Windows never used but invitations do carry (misspellings, `... 1`\n\
         //! duplicates) are handled by the caller, in `tz/mod.rs`.\n\n",
    );
    s.push_str("use std::cmp::Ordering;\n\n");
    s.push_str("/// The `cldr-core` release this table was generated from.\n");
    s.push_str(&format!("pub const CLDR_CORE_VERSION: &str = {:?};\n\n", source.package_version));
    s.push_str(
        "/// (Windows name, IANA zone of territory `001`), sorted by the Windows name with ASCII\n\
         /// case folded, then by its exact bytes.\n",
    );
    s.push_str(&format!("pub static WINDOWS_TO_IANA: [(&str, &str); {}] = [\n", source.mappings.len()));
    for m in &source.mappings {
        s.push_str(&format!("    ({:?}, {:?}),\n", m.windows, m.iana));
    }
    s.push_str("];\n\n");
    s.push_str(
        "/// The IANA zone for a Windows zone name (territory `001`): an exact match first,\n\
         /// then one ignoring ASCII case.\n\
         pub fn iana_for_windows(name: &str) -> Option<&'static str> {\n\
         \x20   let exact = WINDOWS_TO_IANA.binary_search_by(|(w, _)| cmp_folded(w, name).then_with(|| w.cmp(&name)));\n\
         \x20   let i = match exact {\n\
         \x20       Ok(i) => i,\n\
         \x20       Err(_) => WINDOWS_TO_IANA.binary_search_by(|(w, _)| cmp_folded(w, name)).ok()?,\n\
         \x20   };\n\
         \x20   WINDOWS_TO_IANA.get(i).map(|(_, iana)| *iana)\n\
         }\n\n\
         /// Compares two names ignoring ASCII case.\n\
         fn cmp_folded(a: &str, b: &str) -> Ordering {\n\
         \x20   a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))\n\
         }\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_territory_001_sorted_case_folded() {
        let rows: Value = serde_json::json!([
            {"mapZone": {"_other": "b Zone", "_type": "Europe/B", "_territory": "001"}},
            {"mapZone": {"_other": "b Zone", "_type": "Europe/B Europe/C", "_territory": "XX"}},
            {"mapZone": {"_other": "A Zone", "_type": "Europe/A", "_territory": "001"}},
            {"mapZone": {"_other": "C Zone", "_type": "Europe/C", "_territory": "001"}},
        ]);
        let rows = rows.as_array().unwrap();
        let got = golden_mappings(rows).unwrap();
        let names: Vec<&str> = got.iter().map(|m| m.windows.as_str()).collect();
        assert_eq!(names, ["A Zone", "b Zone", "C Zone"]);
    }

    #[test]
    fn rejects_names_differing_only_in_case() {
        let rows: Value = serde_json::json!([
            {"mapZone": {"_other": "A Zone", "_type": "Europe/A", "_territory": "001"}},
            {"mapZone": {"_other": "a zone", "_type": "Europe/B", "_territory": "001"}},
        ]);
        assert!(golden_mappings(rows.as_array().unwrap()).is_err());
    }
}
