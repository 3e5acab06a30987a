//! Output into a pipe whose reader has gone (`signet status | head -1`): a quiet exit with
//! status 141 (as a shell reports for a program killed by SIGPIPE), no panic, no message.

use crate::support::TestEnv;

fn assert_quiet_141(env: &TestEnv, args: &[&str]) {
    let out = env.run_into_closed_pipe(args);
    assert_eq!(
        out.status.code(),
        Some(141),
        "`signet {}`: {out:?}",
        args.join(" ")
    );
    let said = out.stderr.to_lowercase();
    for noise in ["panicked", "broken pipe", "error"] {
        assert!(
            !said.contains(noise),
            "`signet {}` printed {:?}",
            args.join(" "),
            out.stderr
        );
    }
}

#[test]
fn commands_writing_into_a_closed_pipe_exit_quietly() {
    let mut env = TestEnv::new();
    let token = env
        .run(&["token", "create", "--role", "agent"])
        .ok()
        .stdout
        .clone();
    assert_quiet_141(&env, &["token", "inspect", token.trim()]);
    assert_quiet_141(&env, &["token", "create", "--role", "agent"]);

    env.start_daemon();
    env.run(&["remember", "pipes close early"]).ok();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["recall", "pipes"],
        &["recall", "pipes", "--json"],
        &["remember", "another fact about pipes"],
        &["daemon", "status"],
        &["daemon", "start"],
        &["doctor"],
    ] {
        assert_quiet_141(&env, args);
    }
}
