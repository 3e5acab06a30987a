//! `signet daemon install [--dry-run]` and `signet daemon uninstall`: a per-user service that
//! runs `<this binary> daemon run --background` for the workspace.
//!
//! Linux gets a systemd user unit (`~/.config/systemd/user/signet.service`), enabled and started
//! with `systemctl --user`; macOS a LaunchAgent (`~/Library/LaunchAgents/ai.signet.daemon.plist`)
//! loaded with `launchctl`. Both texts are generated on every OS so tests can check them.
//!
//! `--background` keeps the daemon's own stderr copy of its log out of the service's output:
//! the daemon writes its JSON-lines logs to `$WS/.daemon/logs/` itself, and the service appends
//! anything else the process prints (a panic) to the same files, as `daemon start` does.
//!
//! There is no Bun to find, so the guide's "Bun moved" failure becomes "the binary moved":
//! `install` again rewrites the file from the running binary, and `signet doctor` reports a
//! service file whose program no longer exists ([`stale_service`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use signet_core::config::EnvVars;

use super::Context;

/// The first line of every file `install` writes; `uninstall` removes only files that carry it.
const MARKER: &str = "Written by `signet daemon install`";
const UNIT_NAME: &str = "signet.service";
const LABEL: &str = "ai.signet.daemon";

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Print the service file and the commands instead of writing or running anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// What the service runs, and where.
#[derive(Debug, Clone)]
pub struct Service {
    /// Absolute path of the `signet` binary.
    pub exe: PathBuf,
    /// Absolute workspace (`SIGNET_PATH`, `WorkingDirectory`).
    pub workspace: PathBuf,
    pub host: String,
    pub bind: String,
    pub port: u16,
}

impl Service {
    fn from_context(ctx: &Context) -> Result<Self> {
        let exe = std::env::current_exe().context("locating the signet executable")?;
        Ok(Self {
            exe,
            workspace: ctx.workspace.clone(),
            host: ctx.network.host.clone(),
            bind: ctx.network.bind.clone(),
            port: ctx.network.port,
        })
    }

    fn logs_dir(&self) -> PathBuf {
        self.workspace.join(".daemon").join("logs")
    }

    fn env(&self) -> [(&'static str, String); 4] {
        [
            ("SIGNET_PATH", self.workspace.display().to_string()),
            ("SIGNET_HOST", self.host.clone()),
            ("SIGNET_BIND", self.bind.clone()),
            ("SIGNET_PORT", self.port.to_string()),
        ]
    }
}

/// The platform's service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Systemd,
    Launchd,
}

impl Platform {
    fn current() -> Result<Self> {
        if cfg!(target_os = "macos") {
            Ok(Self::Launchd)
        } else if cfg!(target_os = "linux") {
            Ok(Self::Systemd)
        } else {
            bail!("`signet daemon install` supports Linux (systemd) and macOS (launchd) only")
        }
    }

    /// Where the service file lives under `home`.
    pub fn file(self, home: &Path) -> PathBuf {
        match self {
            Self::Systemd => home.join(".config/systemd/user").join(UNIT_NAME),
            Self::Launchd => home
                .join("Library/LaunchAgents")
                .join(format!("{LABEL}.plist")),
        }
    }

    fn render(self, s: &Service) -> String {
        match self {
            Self::Systemd => systemd_unit(s),
            Self::Launchd => launchd_plist(s),
        }
    }

    /// The commands that load the file and start the service.
    fn load(self, file: &Path) -> Vec<Vec<String>> {
        let f = file.display().to_string();
        match self {
            Self::Systemd => vec![
                argv(&["systemctl", "--user", "daemon-reload"]),
                argv(&["systemctl", "--user", "enable", "--now", UNIT_NAME]),
            ],
            Self::Launchd => vec![argv(&["launchctl", "load", "-w", &f])],
        }
    }

    /// The commands that stop the service and forget it (the file is removed in between).
    fn unload(self, file: &Path) -> (Vec<String>, Option<Vec<String>>) {
        match self {
            Self::Systemd => (
                argv(&["systemctl", "--user", "disable", "--now", UNIT_NAME]),
                Some(argv(&["systemctl", "--user", "daemon-reload"])),
            ),
            Self::Launchd => (
                argv(&["launchctl", "unload", "-w", &file.display().to_string()]),
                None,
            ),
        }
    }
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// A systemd value in double quotes, `%` escaped (systemd expands specifiers).
fn sd_quote(v: &str) -> String {
    let v = v
        .replace('%', "%%")
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("\"{v}\"")
}

/// The user unit, after the guide's example, running this binary.
pub fn systemd_unit(s: &Service) -> String {
    let logs = s.logs_dir().display().to_string().replace('%', "%%");
    let env: String = s
        .env()
        .iter()
        .map(|(k, v)| format!("Environment={}\n", sd_quote(&format!("{k}={v}"))))
        .collect();
    format!(
        "# {MARKER}; run it again after moving the binary.\n\
[Unit]\n\
Description=Signet Daemon\n\
After=network.target\n\
\n\
[Service]\n\
Type=simple\n\
ExecStart={} daemon run --background\n\
{env}\
WorkingDirectory={}\n\
Restart=on-failure\n\
RestartSec=5\n\
StandardOutput=append:{logs}/daemon.out.log\n\
StandardError=append:{logs}/daemon.err.log\n\
\n\
[Install]\n\
WantedBy=default.target\n",
        sd_quote(&s.exe.display().to_string()),
        s.workspace.display().to_string().replace('%', "%%"),
    )
}

fn xml(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The LaunchAgent, after upstream's (§12.3), running this binary.
pub fn launchd_plist(s: &Service) -> String {
    let string = |v: &str| format!("<string>{}</string>", xml(v));
    let exe = s.exe.display().to_string();
    let logs = s.logs_dir().display().to_string();
    let env: String = s
        .env()
        .iter()
        .map(|(k, v)| format!("        <key>{k}</key>\n        {}\n", string(v)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- {MARKER}; run it again after moving the binary. -->
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LABEL}</string>
    <key>ProgramArguments</key>
    <array>
        {}
        <string>daemon</string>
        <string>run</string>
        <string>--background</string>
    </array>
    <key>EnvironmentVariables</key>
    <dict>
{env}    </dict>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>StandardOutPath</key>
    {}
    <key>StandardErrorPath</key>
    {}
    <key>WorkingDirectory</key>
    {}
</dict>
</plist>
"#,
        string(&exe),
        string(&format!("{logs}/daemon.out.log")),
        string(&format!("{logs}/daemon.err.log")),
        string(&s.workspace.display().to_string()),
    )
}

fn home(env: &EnvVars) -> Result<PathBuf> {
    env.non_empty("HOME")
        .map(PathBuf::from)
        .context("HOME is not set; the service file goes under it")
}

fn run_cmd(cmd: &[String]) -> Result<()> {
    let (prog, args) = cmd.split_first().context("empty command")?;
    let out = Command::new(prog)
        .args(args)
        .output()
        .with_context(|| format!("running `{}`", cmd.join(" ")))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            cmd.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

pub fn install(ctx: &Context, args: &InstallArgs) -> Result<()> {
    let platform = Platform::current()?;
    let service = Service::from_context(ctx)?;
    let file = platform.file(&home(&ctx.env)?);
    let text = platform.render(&service);
    let load = platform.load(&file);
    if args.dry_run {
        println!("would write {}:\n{text}", file.display());
        println!("would run:");
        for c in &load {
            println!("  {}", c.join(" "));
        }
        return Ok(());
    }
    std::fs::create_dir_all(service.logs_dir())
        .with_context(|| format!("creating {}", service.logs_dir().display()))?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if platform == Platform::Launchd && file.exists() {
        // A loaded agent must be unloaded before it is rewritten; not loaded is fine.
        let _ = run_cmd(&platform.unload(&file).0);
    }
    std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    println!("wrote {}", file.display());
    for c in &load {
        run_cmd(c)?;
        println!("ran {}", c.join(" "));
    }
    println!(
        "signet daemon installed as a service (workspace {}, port {})",
        service.workspace.display(),
        service.port
    );
    if platform == Platform::Systemd && !graphical(&ctx.env) {
        println!(
            "no graphical session: for the service to run while you are logged out, run\n  \
loginctl enable-linger $USER"
        );
    }
    Ok(())
}

fn graphical(env: &EnvVars) -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| env.non_empty(v).is_some())
        || matches!(env.non_empty("XDG_SESSION_TYPE"), Some("x11" | "wayland"))
}

pub fn uninstall(ctx: &Context) -> Result<()> {
    let platform = Platform::current()?;
    let file = platform.file(&home(&ctx.env)?);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "signet is not installed as a service (no {}); nothing to do",
                file.display()
            );
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    if !text.contains(MARKER) {
        bail!(
            "{} was not written by `signet daemon install`; leaving it alone",
            file.display()
        );
    }
    let (stop, reload) = platform.unload(&file);
    match run_cmd(&stop) {
        Ok(()) => println!("ran {}", stop.join(" ")),
        Err(e) => eprintln!("warning: {e:#}"),
    }
    std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
    println!("removed {}", file.display());
    if let Some(reload) = reload {
        run_cmd(&reload)?;
        println!("ran {}", reload.join(" "));
    }
    Ok(())
}

/// The program a service file runs: `ExecStart`'s first word, or `ProgramArguments`' first string.
fn program(text: &str) -> Option<String> {
    if let Some(line) = text.lines().find_map(|l| l.strip_prefix("ExecStart=")) {
        let line = line.trim_start_matches(['-', '@', ':', '+', '!']);
        return Some(match line.strip_prefix('"') {
            Some(rest) => rest.split('"').next()?.replace("%%", "%"),
            None => line.split_whitespace().next()?.to_owned(),
        });
    }
    let (_, after) = text.split_once("<key>ProgramArguments</key>")?;
    let (_, after) = after.split_once("<string>")?;
    let (exe, _) = after.split_once("</string>")?;
    Some(
        exe.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Advice when this platform's service file runs a program that no longer exists.
pub fn stale_service(env: &EnvVars) -> Option<String> {
    let file = Platform::current().ok()?.file(&home(env).ok()?);
    let exe = program(&std::fs::read_to_string(&file).ok()?)?;
    (!Path::new(&exe).exists()).then(|| {
        format!(
            "the service {} runs {exe}, which no longer exists: run `signet daemon install` again",
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Service {
        Service {
            exe: "/opt/my bin/signet".into(),
            workspace: "/home/you/.agents".into(),
            host: "127.0.0.1".into(),
            bind: "127.0.0.1".into(),
            port: 3850,
        }
    }

    #[test]
    fn doctor_reads_back_the_program_of_both_files() {
        let s = service();
        assert_eq!(program(&systemd_unit(&s)).unwrap(), "/opt/my bin/signet");
        assert_eq!(program(&launchd_plist(&s)).unwrap(), "/opt/my bin/signet");
    }

    #[test]
    fn the_launch_agent_parses_as_a_plist() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent.plist");
        let mut s = service();
        s.workspace = "/home/you/a&b <ws>".into();
        std::fs::write(&file, launchd_plist(&s)).unwrap();
        let script =
            "import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(d["Label"], "ai.signet.daemon");
        assert_eq!(
            (d["KeepAlive"].clone(), d["RunAtLoad"].clone()),
            (true.into(), true.into())
        );
        assert_eq!(
            d["ProgramArguments"],
            serde_json::json!(["/opt/my bin/signet", "daemon", "run", "--background"])
        );
        assert_eq!(d["EnvironmentVariables"]["SIGNET_PORT"], "3850");
        assert_eq!(d["WorkingDirectory"], "/home/you/a&b <ws>");
        assert_eq!(
            d["StandardErrorPath"],
            "/home/you/a&b <ws>/.daemon/logs/daemon.err.log"
        );
    }

    #[test]
    fn the_unit_follows_the_guide() {
        let u = systemd_unit(&service());
        for line in [
            "ExecStart=\"/opt/my bin/signet\" daemon run --background",
            "Environment=\"SIGNET_PORT=3850\"",
            "Environment=\"SIGNET_PATH=/home/you/.agents\"",
            "WorkingDirectory=/home/you/.agents",
            "Restart=on-failure",
            "RestartSec=5",
            "StandardOutput=append:/home/you/.agents/.daemon/logs/daemon.out.log",
            "StandardError=append:/home/you/.agents/.daemon/logs/daemon.err.log",
            "WantedBy=default.target",
        ] {
            assert!(u.lines().any(|l| l == line), "missing {line:?} in\n{u}");
        }
    }
}
