//! Lays out release builds of `signet` so an idle daemon maps little of its own code
//! (docs/PERFORMANCE.md, "Idle memory" and "Idle memory, durably").
//!
//! The kernel maps a binary's code in whole page-cache folios (128 KiB here) or fault-around
//! windows (64 KiB), not in pages: the ~2,900 functions that start-up and the idle workers run
//! are only 2.7 MiB, but spread over 23 MB of `.text` they made 15 MiB resident.
//! `link-order.txt` lists them first (then those a remember or recall adds), and the linker
//! places them in that order at the start of `.text`; every other function keeps its place
//! after them.
//!
//! Symbol names move: a legacy-mangled Rust name ends in a hash (`17h<16 hex>E`) that changes
//! whenever a crate's metadata or a generic's type arguments do, and ThinLTO appends
//! `.llvm.<number>` to promoted local names, which changes on any edit of their module. So the
//! list holds each name without the `.llvm` suffix, with its size, and the names are resolved
//! against the objects being linked, at link time: this script gives rustc a `PATH` on which a
//! copy of this very program stands in as `cc` (rustc's linker driver for this target). That
//! copy reads the objects' symbols (`nm`), matches every entry (the exact name; else the one
//! symbol with the same name without its hash; else, among a generic's instantiations, all
//! those of the recorded size, or the nearest in size), writes lld's `--symbol-ordering-file`
//! and runs the real `cc`. Anything that goes wrong there (no `nm`, an unreadable list, a linker that is not lld,
//! a failed link with the order) links without it: a stale list costs memory, never the build.
//! It writes what it matched to `<OUT_DIR>/link-shim/last-link.txt`.
//!
//! Only for release builds for x86-64 Linux with rustc's default linker (`cc`, which drives
//! rustc's bundled lld). `SIGNET_LINK_ORDER=off` builds without it. `scripts/link-order.sh`
//! regenerates the list.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The directory (in `OUT_DIR`) that holds the stand-in `cc`, the list and the link report.
const SHIM_DIR: &str = "link-shim";
/// Asks the stand-in to name the real `cc` and exit (the build script's check that it works).
const CHECK_ARG: &str = "--signet-link-shim-check";

fn main() -> ExitCode {
    if let Some(dir) = shim_dir() {
        return shim::run(&dir);
    }
    configure();
    ExitCode::SUCCESS
}

/// `Some(dir)` when this program runs as the stand-in `cc` (a copy at `<dir>/cc`).
fn shim_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    (exe.file_name()? == "cc" && dir.file_name()? == SHIM_DIR).then(|| dir.to_path_buf())
}

fn configure() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=SIGNET_LINK_ORDER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let off = matches!(var("SIGNET_LINK_ORDER").as_str(), "off" | "0");
    // RUSTC_LINKER is set when a linker is configured for the target: then rustc does not run
    // `cc` and there is nothing to stand in for.
    if off
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || var("PROFILE") != "release"
        || std::env::var_os("RUSTC_LINKER").is_some()
    {
        return;
    }
    let list = Path::new(&var("CARGO_MANIFEST_DIR")).join("link-order.txt");
    // Everything the stand-in needs lives in OUT_DIR: cargo shares a build script's output
    // between checkouts of this workspace that use one target directory, so a path into
    // whichever checkout ran the script last would dangle once that checkout is gone.
    let dir = Path::new(&var("OUT_DIR")).join(SHIM_DIR);
    let ready = std::fs::create_dir_all(&dir).is_ok()
        && list.is_file()
        && std::fs::copy(&list, dir.join("link-order.txt")).is_ok()
        && std::env::current_exe()
            .and_then(|exe| std::fs::copy(exe, dir.join("cc")))
            .is_ok()
        && Command::new(dir.join("cc"))
            .arg(CHECK_ARG)
            .env("PATH", search_path(&dir))
            .output()
            .is_ok_and(|o| o.status.success());
    if ready {
        println!(
            "cargo:rustc-env=PATH={}",
            search_path(&dir).to_string_lossy()
        );
    }
}

/// `dir` first, then the `PATH` this script was given.
fn search_path(dir: &Path) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&rest));
    std::env::join_paths(dirs).unwrap_or(rest)
}

mod shim {
    use super::*;

    /// Runs the real `cc` with the symbol order added; without it if the order cannot be
    /// made or the link fails with it.
    pub fn run(dir: &Path) -> ExitCode {
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let Some(real) = real_cc(dir) else {
            eprintln!(
                "signet link-order stand-in: no `cc` on PATH after {}",
                dir.display()
            );
            return ExitCode::from(127);
        };
        if args.len() == 1 && args[0] == CHECK_ARG {
            println!("{}", real.display());
            return ExitCode::SUCCESS;
        }
        let started = std::time::Instant::now();
        let out = output_name(&args);
        let report = dir.join(format!("last-link-{out}.txt"));
        let order = dir.join(format!("order-{}.txt", std::process::id()));
        let extra = match order_file(dir, &args, &order) {
            Ok(summary) => {
                let took = started.elapsed().as_secs_f64();
                let _ = std::fs::write(&report, format!("{summary}\nresolved in {took:.2} s\n"));
                let _ = std::fs::copy(&report, dir.join("last-link.txt"));
                vec![
                    OsString::from(format!("-Wl,--symbol-ordering-file={}", order.display())),
                    OsString::from("-Wl,--no-warn-symbol-ordering"),
                ]
            }
            Err(why) => {
                let _ = std::fs::write(&report, format!("linked without the order: {why}\n"));
                let _ = std::fs::copy(&report, dir.join("last-link.txt"));
                Vec::new()
            }
        };
        let status = Command::new(&real).args(&args).args(&extra).status();
        let _ = std::fs::remove_file(&order);
        let status = match status {
            Ok(s) if !s.success() && !extra.is_empty() => {
                let _ = std::fs::write(
                    &report,
                    "the link failed with the order; linked again without it\n",
                );
                Command::new(&real).args(&args).status()
            }
            other => other,
        };
        match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(s) => ExitCode::from(s.code().map_or(1, |c| c.clamp(1, 255) as u8)),
            Err(e) => {
                eprintln!(
                    "signet link-order stand-in: running {}: {e}",
                    real.display()
                );
                ExitCode::from(127)
            }
        }
    }

    /// The first `cc` on PATH that is not in `dir`.
    fn real_cc(dir: &Path) -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        let own = dir.canonicalize().ok();
        std::env::split_paths(&path)
            .filter(|d| d.canonicalize().ok() != own && d.as_path() != dir)
            .map(|d| d.join("cc"))
            .find(|c| c.is_file())
    }

    /// The file name after `-o`, for the report's name.
    fn output_name(args: &[OsString]) -> String {
        args.iter()
            .position(|a| a == "-o")
            .and_then(|i| args.get(i + 1))
            .and_then(|o| Path::new(o).file_name())
            .map_or_else(|| "unknown".into(), |f| f.to_string_lossy().into_owned())
    }

    /// Writes lld's ordering file for this link to `order`; returns a summary of the match.
    fn order_file(dir: &Path, args: &[OsString], order: &Path) -> Result<String, String> {
        let args = expand(args)?;
        if !args.iter().any(|a| a == "-fuse-ld=lld") {
            return Err("the link does not use lld".into());
        }
        let inputs: Vec<&OsString> = args
            .iter()
            .filter(|a| {
                let p = Path::new(a);
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                matches!(ext, "o" | "rlib" | "a") && p.is_file()
            })
            .collect();
        if inputs.is_empty() {
            return Err("no object files among the arguments".into());
        }
        let list = std::fs::read_to_string(dir.join("link-order.txt"))
            .map_err(|e| format!("reading link-order.txt: {e}"))?;
        let symbols = symbols(&inputs)?;
        let (names, summary) = resolve(&list, &symbols);
        let mut text = names.join("\n");
        text.push('\n');
        std::fs::write(order, text).map_err(|e| format!("writing {}: {e}", order.display()))?;
        Ok(format!(
            "{} input files, {} function symbols\n{summary}",
            inputs.len(),
            symbols.len()
        ))
    }

    /// The arguments with rustc's response files (`@file`, one escaped argument a line) read.
    fn expand(args: &[OsString]) -> Result<Vec<OsString>, String> {
        let mut out = Vec::new();
        for a in args {
            match a.to_str().and_then(|s| s.strip_prefix('@')) {
                Some(file) => {
                    let text = std::fs::read_to_string(file)
                        .map_err(|e| format!("reading the response file {file}: {e}"))?;
                    for line in text.lines() {
                        let mut arg = String::new();
                        let mut chars = line.chars();
                        while let Some(c) = chars.next() {
                            arg.push(if c == '\\' {
                                chars.next().unwrap_or(c)
                            } else {
                                c
                            });
                        }
                        out.push(OsString::from(arg));
                    }
                }
                None => out.push(a.clone()),
            }
        }
        Ok(out)
    }

    /// Every defined function symbol of `inputs` with its size (`nm -P -S`).
    fn symbols(inputs: &[&OsString]) -> Result<Vec<(String, u64)>, String> {
        let out = Command::new("nm")
            .args(["--defined-only", "-P", "-S"])
            .args(inputs)
            .output()
            .map_err(|e| format!("running nm: {e}"))?;
        // nm complains about (and skips) members it cannot read, such as rustc's metadata.
        let text = String::from_utf8_lossy(&out.stdout);
        let mut seen = HashSet::new();
        let mut syms = Vec::new();
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(name), Some(kind)) = (f.next(), f.next()) else {
                continue;
            };
            if !matches!(kind, "t" | "T" | "W" | "w") || !seen.insert(name) {
                continue;
            }
            let size = f.nth(1).and_then(|s| u64::from_str_radix(s, 16).ok());
            syms.push((name.to_string(), size.unwrap_or(0)));
        }
        if syms.is_empty() {
            return Err(format!("nm found no symbols (exit {})", out.status));
        }
        Ok(syms)
    }

    /// The symbols to order, in the list's order, and how each entry was matched.
    ///
    /// One function can have several symbols: ThinLTO gives each codegen unit that keeps a
    /// local copy its own `.llvm.<n>` name, and rustc names local copies alike. An entry takes
    /// them all (lld orders every local symbol of a name it is given, too).
    fn resolve(list: &str, symbols: &[(String, u64)]) -> (Vec<String>, String) {
        // The copies of each symbol, by its name without the `.llvm` suffix.
        let mut copies: HashMap<&str, Vec<(&str, u64)>> = HashMap::new();
        for (s, size) in symbols {
            copies
                .entry(without_llvm_suffix(s))
                .or_default()
                .push((s, *size));
        }
        // Those names again, by their name without the hash too.
        let mut by_stable: HashMap<String, Vec<&str>> = HashMap::new();
        for name in copies.keys() {
            by_stable.entry(stable(name)).or_default().push(name);
        }
        let (mut n_exact, mut n_unique, mut n_size, mut n_near, mut missing) = (0, 0, 0, 0, 0);
        let mut taken: HashSet<&str> = HashSet::new();
        let mut chosen = Vec::new();
        let mut bytes = 0u64;
        let mut entries = 0;
        for line in list.lines() {
            let mut f = line.split_whitespace();
            let Some(entry) = f.next() else { continue };
            entries += 1;
            let entry = without_llvm_suffix(entry);
            let want: Option<u64> = f.next().and_then(|s| s.parse().ok());
            let picks: Vec<&str> = if let Some((name, _)) = copies.get_key_value(entry) {
                n_exact += 1;
                vec![name]
            } else {
                match by_stable.get(&stable(entry)).map(Vec::as_slice) {
                    None | Some([]) => Vec::new(),
                    Some([name]) => {
                        n_unique += 1;
                        vec![name]
                    }
                    Some(many) => {
                        // A generic's instantiations share the name without its hash. Take
                        // every one of the recorded size (same-size instantiations are common,
                        // and taking one of them at random places the wrong one as often as
                        // not), else the one nearest in size.
                        let want = want.unwrap_or(0);
                        let gap = |name: &str| {
                            copies[name]
                                .iter()
                                .map(|(_, sz)| sz.abs_diff(want))
                                .min()
                                .unwrap_or(u64::MAX)
                        };
                        let same: Vec<&str> =
                            many.iter().copied().filter(|n| gap(n) == 0).collect();
                        if same.is_empty() {
                            n_near += 1;
                            many.iter()
                                .copied()
                                .min_by_key(|n| (gap(n), *n))
                                .into_iter()
                                .collect()
                        } else {
                            n_size += 1;
                            same
                        }
                    }
                }
            };
            if picks.is_empty() {
                missing += 1;
            }
            for name in picks {
                if taken.insert(name) {
                    for (s, size) in &copies[name] {
                        chosen.push(s.to_string());
                        bytes += size;
                    }
                }
            }
        }
        let found = entries - missing;
        let pct = if entries > 0 {
            100.0 * found as f64 / entries as f64
        } else {
            0.0
        };
        let summary = format!(
            "{entries} entries, {found} found ({pct:.1}%): {n_exact} by exact name, {n_unique} by \
             name without hash, {n_size} by name and size, {n_near} by name and nearest size; \
             {missing} missing; {} symbols ordered ({:.2} MiB)",
            chosen.len(),
            bytes as f64 / 1048576.0
        );
        (chosen, summary)
    }
}

/// `name` without ThinLTO's `.llvm.<digits>` suffix.
fn without_llvm_suffix(name: &str) -> &str {
    match name.rfind(".llvm.") {
        Some(i) if name[i + 6..].bytes().all(|b| b.is_ascii_digit()) => &name[..i],
        _ => name,
    }
}

/// `name` without what moves between builds: the `.llvm.` suffix, a legacy mangled name's
/// hash (`17h` + 16 hex digits before the final `E`), and v0 crate disambiguators
/// (`Cs<base-62>_` before a crate name's length).
fn stable(name: &str) -> String {
    let name = without_llvm_suffix(name);
    if let Some(body) = name.strip_prefix("_ZN").and_then(|n| n.strip_suffix('E')) {
        let n = body.len();
        if n >= 19
            && body.is_char_boundary(n - 19)
            && body[n - 19..].starts_with("17h")
            && body[n - 16..].bytes().all(|b| b.is_ascii_hexdigit())
        {
            return format!("_ZN{}", &body[..n - 19]);
        }
        return name.to_string();
    }
    if !name.starts_with("_R") {
        return name.to_string();
    }
    let b = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'C' && b.get(i + 1) == Some(&b's') {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_alphanumeric() {
                j += 1;
            }
            if b.get(j) == Some(&b'_') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                out.push('C');
                i = j + 1;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}
