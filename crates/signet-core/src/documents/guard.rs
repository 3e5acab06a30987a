//! The two guards of document sources: which network addresses a URL may reach (the SSRF
//! guard), and which files a `file` document may read (the workspace guard).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};

/// Why the guard refuses `ip`, or `None` when it is a public unicast address.
pub fn refused_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "unspecified",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (192, 0, 0) | (198, 18..=19, _) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved or broadcast",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let s = ip.segments();
    // Addresses that carry an IPv4 address are judged by it: mapped (::ffff:a.b.c.d),
    // compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
    let embedded = match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some((hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some((hi, lo)),
        [0x2002, hi, lo, ..] => Some((hi, lo)),
        _ => None,
    };
    if let Some((hi, lo)) = embedded {
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        if let Some(why) = refused_v4(v4) {
            return Some(why);
        }
        // The deprecated IPv4-compatible form (::a.b.c.d) is refused whatever it carries.
        return (s[..6] == [0; 6]).then_some("IPv4-compatible");
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "unique local (private)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0 => "Teredo",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    })
}

/// Why a workspace file may not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    #[error("file must be a path inside the workspace")]
    Empty,
    #[error("file {0} is outside the workspace")]
    Outside(String),
    #[error("file {0} is in a hidden or private part of the workspace (dot-directories, memory/)")]
    Private(String),
    #[error("file {0} does not exist or is not a regular file")]
    Missing(String),
}

/// The canonical path of the workspace file `path` (relative to `workspace`, or absolute
/// inside it): it must exist, be a regular file once every symlink is resolved, lie under
/// the canonical workspace, and not be hidden (no component starting with `.`, such as
/// `.daemon/` with the auth secret) nor under `memory/` (the database).
pub fn workspace_file(workspace: &Path, path: &str) -> Result<PathBuf, FileRefused> {
    let raw = path.trim();
    if raw.is_empty() {
        return Err(FileRefused::Empty);
    }
    let root =
        std::fs::canonicalize(workspace).map_err(|_| FileRefused::Outside(raw.to_owned()))?;
    let joined = root.join(raw);
    let real =
        std::fs::canonicalize(&joined).map_err(|_| match lexically_inside(&root, &joined) {
            true => FileRefused::Missing(raw.to_owned()),
            false => FileRefused::Outside(raw.to_owned()),
        })?;
    let Ok(inside) = real.strip_prefix(&root) else {
        return Err(FileRefused::Outside(raw.to_owned()));
    };
    let private = inside.components().enumerate().any(|(i, c)| match c {
        Component::Normal(n) => {
            let n = n.to_string_lossy();
            n.starts_with('.') || (i == 0 && n == "memory")
        }
        _ => true,
    });
    if private {
        return Err(FileRefused::Private(raw.to_owned()));
    }
    if !real.is_file() {
        return Err(FileRefused::Missing(raw.to_owned()));
    }
    Ok(real)
}

/// Whether `path` stays under `root` without resolving symlinks (for the error message of a
/// path that does not exist).
fn lexically_inside(root: &Path, path: &Path) -> bool {
    let mut depth: usize = 0;
    let Ok(rest) = path.strip_prefix(root) else {
        return false;
    };
    for c in rest.components() {
        match c {
            Component::ParentDir if depth == 0 => return false,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> Option<&'static str> {
        refused_ip(s.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "224.0.0.1",
            "255.255.255.255",
            "ff02::1",
            "192.0.2.1",
            "2001:db8::1",
        ] {
            assert!(refused(ip).is_some(), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
        ] {
            assert_eq!(refused(ip), None, "{ip} must be allowed");
        }
    }

    #[test]
    fn files_must_stay_inside_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join("notes")).unwrap();
        std::fs::create_dir_all(ws.join(".daemon")).unwrap();
        std::fs::create_dir_all(ws.join("memory")).unwrap();
        std::fs::write(ws.join("notes/a.md"), "a").unwrap();
        std::fs::write(ws.join(".daemon/auth-secret"), "s").unwrap();
        std::fs::write(ws.join("memory/memories.db"), "db").unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "secret").unwrap();
        let ok = workspace_file(&ws, "notes/a.md").unwrap();
        assert!(ok.ends_with("notes/a.md"));
        assert!(workspace_file(&ws, "notes/../notes/a.md").is_ok());
        let abs_inside = ws.join("notes/a.md");
        assert!(workspace_file(&ws, abs_inside.to_str().unwrap()).is_ok());
        let refusals = [
            (
                "../outside.txt",
                FileRefused::Outside("../outside.txt".into()),
            ),
            (
                outside.to_str().unwrap(),
                FileRefused::Outside(outside.to_str().unwrap().into()),
            ),
            ("/etc/passwd", FileRefused::Outside("/etc/passwd".into())),
            (
                ".daemon/auth-secret",
                FileRefused::Private(".daemon/auth-secret".into()),
            ),
            (
                "memory/memories.db",
                FileRefused::Private("memory/memories.db".into()),
            ),
            (
                "notes/missing.md",
                FileRefused::Missing("notes/missing.md".into()),
            ),
            ("notes", FileRefused::Missing("notes".into())),
            ("", FileRefused::Empty),
        ];
        for (path, want) in refusals {
            assert_eq!(workspace_file(&ws, path), Err(want), "{path}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_workspace_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "secret").unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), ws.join("up")).unwrap();
        std::fs::write(ws.join("inside.txt"), "fine").unwrap();
        std::os::unix::fs::symlink(ws.join("inside.txt"), ws.join("alias.txt")).unwrap();
        assert_eq!(
            workspace_file(&ws, "link.txt"),
            Err(FileRefused::Outside("link.txt".into()))
        );
        assert_eq!(
            workspace_file(&ws, "up/outside.txt"),
            Err(FileRefused::Outside("up/outside.txt".into()))
        );
        assert!(workspace_file(&ws, "alias.txt").is_ok());
    }
}
