//! `signet token inspect`: signature and expiry are separate facts, and the exit status says
//! whether the token is usable now (0), not (1), or could not be checked (3).

use signet_core::auth::{Claims, Role, Scope, TokenSigner, read_secret};

use crate::support::{Out, TestEnv};

const HOUR: i64 = 3600;

/// A token for `sub` signed with `signer`, issued and expiring at these offsets from now.
fn token(signer: &TokenSigner, sub: &str, iat: i64, exp: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    signer.sign(&Claims {
        sub: sub.into(),
        scope: Scope::default(),
        role: Role::Agent,
        iat: now + iat,
        exp: now + exp,
    })
}

/// `signet token create --role agent` in `env`: the printed token.
fn agent_token(env: &TestEnv) -> String {
    let out = env.run(&["token", "create", "--role", "agent"]);
    out.ok().stdout.trim().to_owned()
}

fn inspect(env: &TestEnv, token: &str, code: i32) -> Out {
    let out = env.run(&["token", "inspect", token]);
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    out
}

#[test]
fn inspect_tells_expired_from_forged_and_exits_non_zero_for_both() {
    let env = TestEnv::new();
    let fresh = agent_token(&env);
    let signer = TokenSigner::new(&read_secret(&env.workspace).expect("the secret"));

    let valid = inspect(&env, &fresh, 0);
    assert!(valid.stdout.contains("status:    valid"), "{valid:?}");
    for scheme in ["Bearer", "bearer", "BEARER"] {
        inspect(&env, &format!("{scheme} {fresh}"), 0);
    }

    let old = inspect(&env, &token(&signer, "old", -5 * HOUR, -3 * HOUR), 1);
    assert!(old.stdout.contains("signature: valid"), "{old:?}");
    assert!(
        old.stdout.contains("status:    expired") && old.stdout.contains("3h"),
        "{old:?}"
    );
    assert!(!old.stdout.contains("invalid"), "{old:?}");
    let json = env.run(&[
        "token",
        "inspect",
        &token(&signer, "old", -5 * HOUR, -3 * HOUR),
        "--json",
    ]);
    assert_eq!(json.status.code(), Some(1), "{json:?}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (v["signature"].as_str(), v["status"].as_str()),
        (Some("valid"), Some("expired")),
        "{v}"
    );

    let forged = TokenSigner::new(&[0u8; 32]);
    let bad = inspect(&env, &token(&forged, "mallory", -HOUR, HOUR), 1);
    assert!(bad.stdout.contains("signature: invalid"), "{bad:?}");
    let early = inspect(&env, &token(&signer, "early", HOUR, 2 * HOUR), 1);
    assert!(early.stdout.contains("not yet valid"), "{early:?}");
    let garbage = inspect(&env, "not-a-token", 1);
    assert!(garbage.stderr.contains("not a signet token"), "{garbage:?}");
}

#[test]
fn inspect_without_the_secret_says_not_checked_and_exits_3() {
    let minting = TestEnv::new();
    let fresh = agent_token(&minting);
    let elsewhere = TestEnv::new();
    let out = inspect(&elsewhere, &fresh, 3);
    assert!(out.stdout.contains("not checked"), "{out:?}");
    let help = elsewhere.run(&["token", "inspect", "--help"]);
    assert!(help.ok().stdout.contains("3"), "{}", help.stdout);
}
