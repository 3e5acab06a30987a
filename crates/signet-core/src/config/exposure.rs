//! Refuses settings that would serve the API without authentication to the network.
//!
//! Local mode trusts every caller. On a loopback address that is the machine's own users; on
//! `0.0.0.0` or a LAN address it is anyone who can reach the port, who could then read and
//! delete every memory. The guide says never to do this, so the daemon refuses to start unless
//! the operator opts in explicitly with `SIGNET_ALLOW_INSECURE_BIND=1` (logged at every start).
//! Team mode needs a token from everyone; hybrid mode only trusts requests whose TCP peer *and*
//! `Host` header are loopback, so both may bind anywhere.

use super::{AuthMode, ConfigError, Settings};

/// Fails when local mode would listen on a non-loopback address without the opt-in.
pub(crate) fn check(settings: &Settings) -> Result<(), ConfigError> {
    let net = &settings.network;
    if settings.auth.mode != AuthMode::Local || net.bind_is_loopback() || net.allow_insecure_bind {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: "SIGNET_BIND (or SIGNET_HOST)".to_owned(),
        message: format!(
            "refusing to listen on {} in local auth mode: local mode has no authentication, so \
             anyone who can reach the port could read and delete every memory. Set \
             `auth: {{mode: team}}` in agent.yaml (tokens for every request; see `signet token \
             create`), or bind to 127.0.0.1 and put a TLS reverse proxy in front. Lost your \
             admin tokens? `signet token create --role admin` on this host mints one without \
             leaving team mode. If you really mean an open daemon on this network, set \
             SIGNET_ALLOW_INSECURE_BIND=1",
            net.bind
        ),
    })
}

/// The warning to log at every start when the opt-in is in force, if it is.
pub fn insecure_bind_warning(settings: &Settings) -> Option<String> {
    let net = &settings.network;
    (settings.auth.mode == AuthMode::Local && !net.bind_is_loopback() && net.allow_insecure_bind)
        .then(|| {
            format!(
                "SIGNET_ALLOW_INSECURE_BIND is set: serving local auth mode (NO authentication) \
                 on {}:{}; anyone who can reach this port can read, change and delete every \
                 memory",
                net.bind, net.port
            )
        })
}
