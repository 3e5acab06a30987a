//! Lays out release builds of `signet` so an idle daemon maps little of its own code
//! (docs/PERFORMANCE.md, "Idle memory").
//!
//! The kernel maps a binary's code in whole page-cache folios (128 KiB here) or fault-around
//! windows (64 KiB), not in pages: the ~2,900 functions that start-up and the idle workers run
//! are only 2.7 MiB, but spread over 23 MB of `.text` they made 15 MiB resident.
//! `link-order.txt` lists them first (then those a remember or recall adds), and the linker
//! places them in that order at the start of `.text`; every other function keeps its place
//! after them. A symbol the list names but the build lacks (renamed code, a new dependency
//! version) is skipped, so a stale list costs memory, never correctness:
//! `scripts/link-order.sh` regenerates it.
//!
//! Only for release builds for x86-64 Linux, where Rust links with its bundled lld (the
//! option is lld's). `SIGNET_LINK_ORDER=off` builds without it.

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=SIGNET_LINK_ORDER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let off = matches!(var("SIGNET_LINK_ORDER").as_str(), "off" | "0");
    if off || var("TARGET") != "x86_64-unknown-linux-gnu" || var("PROFILE") != "release" {
        return;
    }
    let list = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("link-order.txt");
    // The linker reads a copy in OUT_DIR: cargo shares a build script's output between
    // checkouts of this workspace that use one target directory, so a path into whichever
    // checkout ran the script last would dangle once that checkout is gone.
    let copy = std::path::Path::new(&var("OUT_DIR")).join("link-order.txt");
    if list.is_file() && std::fs::copy(&list, &copy).is_ok() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            copy.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
