//! `signet daemon install|uninstall` against a temp HOME, with a stub `systemctl` (and
//! `launchctl`) first on PATH that records its arguments; the unit is checked by
//! `systemd-analyze verify`. (The plist is parsed by `plistlib` in the unit tests of
//! `daemon/install.rs`, which generate it on every OS.)

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{BIN, TestEnv, read};

/// A dir holding stub `systemctl` and `launchctl` scripts that append their arguments to
/// `calls` (one call a line).
struct Stubs {
    dir: PathBuf,
    calls: PathBuf,
}

impl Stubs {
    fn new(env: &TestEnv) -> Self {
        let dir = env.home.path().join("stub-bin");
        std::fs::create_dir_all(&dir).unwrap();
        let calls = env.home.path().join("calls.log");
        for name in ["systemctl", "launchctl"] {
            let path = dir.join(name);
            let script = format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\n", calls.display());
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir, calls }
    }

    fn calls(&self) -> Vec<String> {
        if !self.calls.exists() {
            return Vec::new();
        }
        read(&self.calls).lines().map(str::to_owned).collect()
    }
}

fn unit(env: &TestEnv) -> PathBuf {
    env.home.path().join(".config/systemd/user/signet.service")
}

#[cfg(target_os = "linux")]
#[test]
fn install_writes_the_unit_and_enables_it_and_uninstall_reverses_it() {
    let env = TestEnv::new();
    let stubs = Stubs::new(&env);

    let dry = env.run_with_path_first(&stubs.dir, &["daemon", "install", "--dry-run"]);
    dry.ok();
    assert!(dry.stdout.contains("Restart=on-failure"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("systemctl --user enable --now signet.service")
    );
    assert!(!unit(&env).exists(), "--dry-run wrote the unit");
    assert!(
        stubs.calls().is_empty(),
        "--dry-run ran {:?}",
        stubs.calls()
    );

    let out = env.run_with_path_first(&stubs.dir, &["daemon", "install"]);
    out.ok();
    let text = read(&unit(&env));
    let exe = std::fs::canonicalize(BIN).unwrap();
    assert!(
        text.contains(&format!(
            "ExecStart=\"{}\" daemon run --background",
            exe.display()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("Environment=\"SIGNET_PORT={}\"", env.port)));
    assert!(text.contains(&format!("WorkingDirectory={}", env.workspace.display())));
    assert_eq!(
        stubs.calls(),
        [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now signet.service"
        ]
    );
    assert!(
        out.stdout.contains("loginctl enable-linger"),
        "{}",
        out.stdout
    );
    assert!(env.workspace.join(".daemon/logs").is_dir());
    verify_unit(&env, &unit(&env));

    let out = env.run_with_path_first(&stubs.dir, &["daemon", "uninstall"]);
    out.ok();
    assert!(!unit(&env).exists());
    assert_eq!(
        stubs.calls()[2..],
        [
            "systemctl --user disable --now signet.service",
            "systemctl --user daemon-reload"
        ]
    );

    // Nothing installed: a clear message, exit 0, no calls.
    let out = env.run_with_path_first(&stubs.dir, &["daemon", "uninstall"]);
    out.ok();
    assert!(out.stdout.contains("not installed"), "{}", out.stdout);
    assert_eq!(stubs.calls().len(), 4);
}

#[cfg(target_os = "linux")]
#[test]
fn uninstall_leaves_a_unit_it_did_not_write() {
    let env = TestEnv::new();
    let stubs = Stubs::new(&env);
    std::fs::create_dir_all(unit(&env).parent().unwrap()).unwrap();
    std::fs::write(unit(&env), "[Service]\nExecStart=/bin/true\n").unwrap();
    let out = env.run_with_path_first(&stubs.dir, &["daemon", "uninstall"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(unit(&env).exists());
    assert!(stubs.calls().is_empty());
}

/// `systemd-analyze verify --user` (systemd needs a runtime dir for the user manager).
fn verify_unit(env: &TestEnv, unit: &Path) {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("SIGNET_REQUIRE_ALL").is_none(),
            "systemd-analyze is not installed but SIGNET_REQUIRE_ALL forbids skipping"
        );
        eprintln!("skipping systemd-analyze verify: not installed");
        return;
    }
    let runtime = env.home.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--user", "--man=no"])
        .arg(unit)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", env.home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // Unknown keys and bad values are warnings with a zero exit status.
    assert!(stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn doctor_notices_a_unit_whose_binary_moved() {
    let env = TestEnv::new();
    std::fs::create_dir_all(unit(&env).parent().unwrap()).unwrap();
    std::fs::write(
        unit(&env),
        "[Service]\nExecStart=\"/nowhere/signet\" daemon run --background\n",
    )
    .unwrap();
    let out = env.run(&["doctor"]);
    assert!(
        out.stderr
            .contains("/nowhere/signet, which no longer exists: run `signet daemon install` again"),
        "{out:?}"
    );
}
