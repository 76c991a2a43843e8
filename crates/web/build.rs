//! Packs the preset scenarios for the page (see `brownout_sim::packed`).
//!
//! The page only ever opens the presets compiled into it, so their TOML is
//! read here, on the build machine, rather than in the browser: the bundle
//! then carries neither a TOML parser nor the files' comments. Each preset
//! is read with the same functions the runner uses, and a preset that does
//! not read, or whose comparison does not, fails the build with the reason.
//!
//! Writes `$OUT_DIR/presets.rs`: the table `PACKED` of `lab::Packed`, one
//! per preset in the order of `PRESETS`, the scenarios as packed bytes.

use std::fmt::Write as _;
use std::path::PathBuf;

use brownout_sim::{lesson, packed, parse_scenario, Scenario, PRESETS};

fn main() {
    // The presets are compiled into brownout-sim, which Cargo already
    // tracks; watching the folder as well keeps an edited file from being
    // missed whatever the crate's own tracking does.
    println!("cargo::rerun-if-changed=../../scenarios");
    println!("cargo::rerun-if-changed=build.rs");

    let mut out = String::from(
        "/// Every preset, in the order of `brownout_sim::PRESETS`.\n\
         const PACKED: &[Packed] = &[\n",
    );
    for preset in PRESETS {
        let id = preset.id;
        let scenario = parse_scenario(preset.toml)
            .unwrap_or_else(|e| panic!("scenarios/{id}.toml does not read:\n{e}"));
        let variant = lesson::variant(preset.toml)
            .unwrap_or_else(|e| panic!("the comparison of scenarios/{id}.toml: {e}"));
        let pack =
            |s: &Scenario| packed::pack(s).unwrap_or_else(|e| panic!("{id} does not pack: {e}"));
        let variant = match variant {
            Some(v) => format!("Some({})", literal(&pack(&v))),
            None => "None".into(),
        };
        let scenario = literal(&pack(&scenario));
        writeln!(out, "    Packed {{ id: {id:?}, scenario: {scenario}, variant: {variant} }},")
            .unwrap();
    }
    out.push_str("];\n");

    let path = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("presets.rs");
    std::fs::write(&path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A byte string literal: printable ASCII as it is (the names and texts
/// stay legible in the generated file), every other byte escaped.
fn literal(bytes: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => write!(s, "\\{}", b as char).unwrap(),
            b' '..=b'~' => s.push(b as char),
            _ => write!(s, "\\x{b:02x}").unwrap(),
        }
    }
    s.push('"');
    s
}
