//! Gives back memory a started daemon no longer uses (docs/PERFORMANCE.md, "Idle memory after
//! start-up"). Start-up runs code and reads tables that the daemon never touches again: the
//! dynamic loader's relocation table (1.2 MiB), migrations, configuration, the command line.
//! Their pages stay mapped, and counted in the daemon's RSS, until the kernel needs the memory.
//! [`trim`] drops them from this process's page tables now (`MADV_DONTNEED` on the binary's
//! read-only file mappings) and returns freed heap to the system (`malloc_trim`).
//!
//! What runs again faults back in. Left at that, each fault would map its cached
//! neighbourhood too (the kernel's fault-around: up to 16 pages, or a whole large folio of
//! the page cache), and idle's few hundred pages of code brought back 4-5 MiB. So the
//! mappings are also advised `MADV_RANDOM` (a fault reads no neighbours) and the binary's
//! pages are dropped from the page cache (`POSIX_FADV_DONTNEED`): a page comes back alone,
//! read from the file. The price: the first requests after a trim read their code from disk
//! (a first remember took 28 ms here, later ones 0.5 ms), and another process running the same
//! binary re-reads what it touches.
//!
//! The only `unsafe` of this crate. `MADV_DONTNEED` on a private file mapping discards private
//! copies of its pages, so it is applied only to mappings that have none (`Anonymous: 0 kB` in
//! `/proc/self/smaps`) and cannot get one (not writable): for those it changes no byte any
//! thread can read. The relocated `.data.rel.ro` has private copies and is left alone.
#![allow(unsafe_code)]

use std::time::Duration;

/// When after start-up [`trim`] runs: once start-up's background work (the keyword index, the
/// vector index of a small workspace) is done, and once more after a large one's.
pub const AFTER: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(30)];

/// What one [`trim`] gave back.
#[derive(Debug, Default)]
pub struct Trimmed {
    /// Resident KiB of the binary's file pages dropped from this process.
    pub file_kib: u64,
    /// Mappings advised.
    pub mappings: usize,
}

/// Trims once; see the module documentation. Linux only; elsewhere it does nothing.
pub fn trim() -> std::io::Result<Trimmed> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    #[cfg(target_os = "linux")]
    {
        let smaps = mappings(&std::fs::read_to_string("/proc/self/smaps")?);
        let ours = own_inode(&smaps, trim as fn() -> std::io::Result<Trimmed> as usize);
        let mut out = Trimmed::default();
        for m in smaps {
            if !m.droppable(ours) {
                continue;
            }
            // SAFETY: `m` is a whole mapping of this process's own binary, read-only and
            // private with no private (anonymous) page, so MADV_DONTNEED only unmaps page-cache
            // pages, which fault back in unchanged on the next access. MADV_RANDOM is only
            // read-ahead advice.
            let rc = unsafe {
                // No read-around when a page faults back in: only the page itself is read.
                libc::madvise(
                    m.start as *mut libc::c_void,
                    m.end - m.start,
                    libc::MADV_RANDOM,
                );
                libc::madvise(
                    m.start as *mut libc::c_void,
                    m.end - m.start,
                    libc::MADV_DONTNEED,
                )
            };
            if rc == 0 {
                out.file_kib += m.rss_kib;
                out.mappings += 1;
            }
        }
        // The binary's pages out of the page cache as well: a page that faults back in is then
        // read alone, where a cached neighbourhood would be mapped with it (the kernel's
        // fault-around maps up to 16 cached pages, or a whole large folio, per fault).
        if out.mappings > 0
            && let Ok(f) = std::fs::File::open("/proc/self/exe")
        {
            use std::os::fd::AsRawFd as _;
            // SAFETY: advice about an open file's cached pages; no memory of ours changes.
            unsafe {
                libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
            }
        }
        Ok(out)
    }
    #[cfg(not(target_os = "linux"))]
    Ok(Trimmed::default())
}

/// One entry of `/proc/self/smaps`.
#[derive(Debug, PartialEq)]
struct Mapping {
    start: usize,
    end: usize,
    /// Neither writable nor shared: `r--p` or `r-xp`.
    read_only_private: bool,
    inode: u64,
    rss_kib: u64,
    anonymous_kib: u64,
}

impl Mapping {
    /// Whether [`trim`] may advise it: a read-only private mapping of the file `ours` (this
    /// binary) without any private page.
    fn droppable(&self, ours: Option<u64>) -> bool {
        self.inode != 0
            && Some(self.inode) == ours
            && self.read_only_private
            && self.anonymous_kib == 0
    }
}

/// The entries of `smaps`; an entry whose `Rss` or `Anonymous` line is missing reads as having
/// anonymous pages (so it is never advised).
fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            let perms = words.next().unwrap_or("");
            let inode = words.nth(2).and_then(|w| w.parse().ok()).unwrap_or(0);
            out.push(Mapping {
                start,
                end,
                read_only_private: matches!(perms, "r--p" | "r-xp"),
                inode,
                rss_kib: 0,
                anonymous_kib: u64::MAX,
            });
            continue;
        }
        let Some(m) = out.last_mut() else { continue };
        let kib = || words.clone().next().and_then(|w| w.parse::<u64>().ok());
        match first {
            "Rss:" => m.rss_kib = kib().unwrap_or(0),
            "Anonymous:" => m.anonymous_kib = kib().unwrap_or(u64::MAX),
            _ => {}
        }
    }
    out
}

/// The inode of the mapping that holds `addr` (an address in this binary's code).
fn own_inode(smaps: &[Mapping], addr: usize) -> Option<u64> {
    smaps
        .iter()
        .find(|m| m.start <= addr && addr < m.end && m.inode != 0)
        .map(|m| m.inode)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55b9c4b39000-55b9c52ff000 r--p 00000000 fe:01 1234 /usr/bin/signet
Rss:                2648 kB
Anonymous:             0 kB
55b9c52ff000-55b9c6b10000 r-xp 007c5000 fe:01 1234 /usr/bin/signet
Rss:                4524 kB
Anonymous:             0 kB
55b9c6b10000-55b9c6bf3000 r--p 01fd5000 fe:01 1234 /usr/bin/signet
Rss:                 908 kB
Anonymous:           908 kB
55b9c6bf3000-55b9c6c00000 rw-p 020b7000 fe:01 1234 /usr/bin/signet
Rss:                  40 kB
Anonymous:            12 kB
7f9980a74000-7f9980a9a000 r--p 00000000 fe:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 152 kB
Anonymous:             0 kB
7f9980b00000-7f9980b01000 rw-s 00000000 00:01 77 /dev/shm/x
Rss:                   4 kB
";

    #[test]
    fn smaps_entries_are_read_with_their_permissions_and_page_counts() {
        let m = mappings(SMAPS);
        assert_eq!(m.len(), 6);
        assert_eq!(
            m[1],
            Mapping {
                start: 0x55b9c52ff000,
                end: 0x55b9c6b10000,
                read_only_private: true,
                inode: 1234,
                rss_kib: 4524,
                anonymous_kib: 0
            }
        );
        assert!(!m[3].read_only_private, "rw-p");
        assert!(!m[5].read_only_private, "rw-s");
        assert_eq!(
            m[5].anonymous_kib,
            u64::MAX,
            "no Anonymous line: treated as private pages"
        );
        assert_eq!(own_inode(&mappings(SMAPS), 0x55b9c5300000), Some(1234));
        assert_eq!(own_inode(&mappings(SMAPS), 0x1000), None);
    }

    #[test]
    fn only_the_binarys_clean_read_only_mappings_qualify() {
        let ours = own_inode(&mappings(SMAPS), 0x55b9c5300000);
        let advised: Vec<_> = mappings(SMAPS)
            .into_iter()
            .filter(|m| m.droppable(ours))
            .map(|m| m.rss_kib)
            .collect();
        assert_eq!(advised, [2648, 4524]);
    }

    #[test]
    fn trimming_this_process_keeps_it_running() {
        let before = trim().unwrap();
        // Code and constants fault back in: the test goes on.
        let s: String = (0..1000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        assert_eq!(s.len(), 1000);
        assert!(before.mappings >= 1, "{before:?}");
        trim().unwrap();
    }
}
