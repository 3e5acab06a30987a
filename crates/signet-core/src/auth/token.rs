//! Bearer tokens in upstream's format: `base64url(claims JSON) "." base64url(HMAC-SHA256)`,
//! both unpadded, the MAC taken over the ASCII payload segment, the claims keys in the order
//! `sub, scope, role, iat, exp`. Tokens minted by upstream verify here and the reverse.
//!
//! Verification is strict where upstream is lenient: exactly two canonical unpadded segments,
//! a 32-byte MAC compared in constant time before the payload is even parsed, a payload with
//! exactly the five claims and a known role, and `iat` not in the future.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Role, Scope};

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted; anything longer is refused before any work is done.
pub const MAX_TOKEN_LEN: usize = 4096;

/// How far in the future `iat` may be (clock skew between hosts).
const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Who the token was issued to; rate limits and audit rows are per `sub`.
    pub sub: String,
    /// What the token may touch.
    pub scope: Scope,
    pub role: Role,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expires at, unix seconds (the token is invalid from this second on).
    pub exp: i64,
}

/// Why a token was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("malformed payload")]
    MalformedPayload,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
}

/// Signs and verifies tokens with the workspace's secret.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<secret>)")
    }
}

impl TokenSigner {
    /// A signer over the secret's raw bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, payload_b64: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload_b64.as_bytes());
        mac
    }

    /// The token for `claims`. The payload segment is also plain base64 (see
    /// [`shell_safe_json`]), so the guide's `echo "${TOKEN%%.*}" | base64 -d | jq .exp` works.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(shell_safe_json(claims));
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// The claims of a token signed with this secret and valid at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let (payload, sig) = segments(token)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Malformed)?;
        if sig.len() != 32 {
            return Err(TokenError::InvalidSignature);
        }
        self.mac(payload)
            .verify_slice(&sig)
            .map_err(|_| TokenError::InvalidSignature)?;
        let claims = parse_payload(payload)?;
        if claims.exp <= claims.iat {
            return Err(TokenError::MalformedPayload);
        }
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + MAX_CLOCK_SKEW_SECS {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

/// The claims JSON written so that its unpadded base64url form is also valid standard base64
/// with nothing left over, which `base64 -d` decodes exactly: only ASCII (other characters
/// `\uXXXX`-escaped), none of `>`, `?`, `~`, DEL (also escaped: as the third byte of a 3-byte
/// group they are what encodes to `-` or `_`; no other ASCII byte can), and trailing spaces
/// to a multiple of 3 bytes (no `=` padding needed). Still the same JSON value, so any JSON
/// parser, upstream's included, reads the same claims.
fn shell_safe_json(claims: &Claims) -> Vec<u8> {
    let json = serde_json::to_string(claims).expect("claims serialize");
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if c.is_ascii() && !matches!(c, '>' | '?' | '~' | '\x7f') {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    while !out.len().is_multiple_of(3) {
        out.push(' ');
    }
    out.into_bytes()
}

/// The two segments of a token, checked for shape only.
fn segments(token: &str) -> Result<(&str, &str), TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let (payload, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let b64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !b64url(payload) || !b64url(sig) {
        return Err(TokenError::Malformed);
    }
    Ok((payload, sig))
}

fn parse_payload(payload: &str) -> Result<Claims, TokenError> {
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::MalformedPayload)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::MalformedPayload)?;
    if claims.sub.trim().is_empty() || claims.sub.len() > 256 {
        return Err(TokenError::MalformedPayload);
    }
    Ok(claims)
}

/// The claims of a token without checking its signature or times: for `signet token inspect`
/// and troubleshooting only, never for access decisions.
pub fn decode_claims_unverified(token: &str) -> Result<Claims, TokenError> {
    let (payload, _) = segments(token.trim())?;
    parse_payload(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_claims() -> impl Strategy<Value = Claims> {
        let text = "\\PC{1,40}";
        (
            text.prop_filter("non-blank", |s: &String| !s.trim().is_empty()),
            proptest::option::of(text),
            proptest::option::of(text),
            0..4usize,
            0..4_000_000_000i64,
            1..315_360_000i64,
        )
            .prop_map(|(sub, project, agent, role, iat, ttl)| Claims {
                sub,
                scope: Scope {
                    project,
                    agent,
                    ..Scope::default()
                },
                role: Role::ALL[role],
                iat,
                exp: iat + ttl,
            })
    }

    proptest! {
        /// Any claims sign and verify back unchanged; the payload is plain base64 as well;
        /// changing any one character of the token breaks it.
        #[test]
        fn sign_verify_round_trips(c in arb_claims(), flip in 0usize..10_000) {
            use base64::engine::general_purpose::STANDARD;
            let t = signer().sign(&c);
            prop_assert_eq!(&signer().verify(&t, c.iat).unwrap(), &c);
            let payload = t.split_once('.').unwrap().0;
            let decoded: Claims = serde_json::from_slice(&STANDARD.decode(payload).unwrap()).unwrap();
            prop_assert_eq!(&decoded, &c);
            let mut bytes = t.clone().into_bytes();
            let i = flip % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap();
            prop_assert!(signer().verify(&forged, c.iat).is_err());
        }
    }

    const NOW: i64 = 1_780_000_000;

    fn claims() -> Claims {
        Claims {
            sub: "ci-runner".into(),
            scope: Scope {
                project: Some("acme".into()),
                ..Scope::default()
            },
            role: Role::Agent,
            iat: NOW,
            exp: NOW + 3600,
        }
    }

    fn signer() -> TokenSigner {
        TokenSigner::new(&[7u8; 32])
    }

    #[test]
    fn round_trips_and_keeps_upstreams_key_order() {
        let t = signer().sign(&claims());
        assert_eq!(signer().verify(&t, NOW + 1).unwrap(), claims());
        let (p, s) = t.split_once('.').unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
        assert_eq!(
            json.trim_end(),
            r#"{"sub":"ci-runner","scope":{"project":"acme"},"role":"agent","iat":1780000000,"exp":1780003600}"#
        );
        assert_eq!(s.len(), 43);
    }

    #[test]
    fn payloads_are_also_plain_base64() {
        use base64::engine::general_purpose::STANDARD;
        for sub in [
            "ci",
            "a?b>c~d",
            "ünïcödé",
            "emoji \u{1F980}",
            "x\u{7f}",
            "q??>>~~",
            "ab",
        ] {
            for (ttl, project) in [(3600, None), (86_400, Some("a~b")), (7, Some("?"))] {
                let c = Claims {
                    sub: sub.into(),
                    scope: Scope {
                        project: project.map(str::to_owned),
                        ..Scope::default()
                    },
                    iat: NOW,
                    exp: NOW + ttl,
                    role: Role::Operator,
                };
                let t = signer().sign(&c);
                let payload = t.split_once('.').unwrap().0;
                assert!(!payload.contains(['-', '_']), "{sub}: {payload}");
                assert_eq!(payload.len() % 4, 0, "{sub}");
                let json = STANDARD.decode(payload).unwrap();
                let back: Claims = serde_json::from_slice(&json).unwrap();
                assert_eq!(back, c);
                assert_eq!(signer().verify(&t, NOW + 1).unwrap(), c);
            }
        }
    }

    #[test]
    fn round_trips_many_claims() {
        let mut seed = 0x9e37_79b9_u64;
        for i in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let sub: String = (0..(seed % 40 + 1))
                .map(|k| char::from_u32(0x20 + ((seed >> (k % 50)) % 0x2000) as u32).unwrap_or('x'))
                .collect();
            if sub.trim().is_empty() {
                continue;
            }
            let c = Claims {
                sub,
                scope: Scope {
                    agent: (i % 3 == 0).then(|| format!("a{i}")),
                    ..Scope::default()
                },
                role: Role::ALL[i % 4],
                iat: NOW - (seed % 1000) as i64,
                exp: NOW + 1 + (seed % 100_000) as i64,
            };
            let key = seed.to_le_bytes();
            let s = TokenSigner::new(&key);
            assert_eq!(s.verify(&s.sign(&c), NOW).unwrap(), c);
        }
    }

    #[test]
    fn refuses_tampering_of_every_kind() {
        let s = signer();
        let t = s.sign(&claims());
        let (p, sig) = t.split_once('.').unwrap();
        let other = TokenSigner::new(&[8u8; 32]).sign(&claims());
        let mut escalated = claims();
        escalated.role = Role::Admin;
        let forged_payload = s.sign(&escalated);
        let forged = format!("{}.{sig}", forged_payload.split_once('.').unwrap().0);
        let cases = [
            ("", TokenError::Malformed),
            ("abc", TokenError::Malformed),
            (&format!("{p}."), TokenError::Malformed),
            (&format!(".{sig}"), TokenError::Malformed),
            (&format!("{p}.{sig}="), TokenError::Malformed),
            (&format!("{p}=.{sig}"), TokenError::Malformed),
            (
                &format!("eyJhbGciOiJub25lIn0.{p}.{sig}"),
                TokenError::Malformed,
            ),
            (&format!("{p}.{sig}.x"), TokenError::Malformed),
            (&format!("{p}.{}", &sig[..40]), TokenError::InvalidSignature),
            (&other, TokenError::InvalidSignature),
            (&forged, TokenError::InvalidSignature),
            (
                &format!("{p}.{}", "A".repeat(43)),
                TokenError::InvalidSignature,
            ),
            (&"a".repeat(MAX_TOKEN_LEN + 1), TokenError::Malformed),
        ];
        for (token, want) in cases {
            assert_eq!(s.verify(token, NOW).unwrap_err(), want, "token {token:?}");
        }
    }

    #[test]
    fn refuses_bad_times_and_payloads() {
        let s = signer();
        let t = s.sign(&claims());
        assert_eq!(s.verify(&t, NOW + 3600).unwrap_err(), TokenError::Expired);
        let mut future = claims();
        future.iat = NOW + 3600;
        future.exp = NOW + 7200;
        assert_eq!(
            s.verify(&s.sign(&future), NOW).unwrap_err(),
            TokenError::NotYetValid
        );
        let mac_over = |json: &str| {
            let p = URL_SAFE_NO_PAD.encode(json);
            let sig = URL_SAFE_NO_PAD.encode(s.mac(&p).finalize().into_bytes());
            format!("{p}.{sig}")
        };
        for json in [
            r#"{"sub":"x","scope":{},"role":"root","iat":1,"exp":9999999999}"#,
            r#"{"sub":"x","scope":{},"role":"admin","iat":1}"#,
            r#"{"sub":"x","scope":{},"role":"admin","iat":"1","exp":9999999999}"#,
            r#"{"sub":"x","scope":{},"role":"admin","iat":1,"exp":9999999999,"alg":"none"}"#,
            r#"{"sub":"x","scope":{"tenant":"t"},"role":"admin","iat":1,"exp":9999999999}"#,
            r#"{"sub":"","scope":{},"role":"admin","iat":1,"exp":9999999999}"#,
            r#"{"sub":"x","scope":{},"role":"admin","iat":5,"exp":5}"#,
            "not json",
        ] {
            assert_eq!(
                s.verify(&mac_over(json), NOW).unwrap_err(),
                TokenError::MalformedPayload,
                "{json}"
            );
        }
    }

    #[test]
    fn inspect_reads_claims_without_a_secret() {
        let t = signer().sign(&claims());
        assert_eq!(decode_claims_unverified(&t).unwrap(), claims());
    }
}
