//! Team-mode policy: who a caller is, what their role may do, which memories their scope lets
//! them touch, and how often they may do destructive things.
//!
//! Nothing here knows HTTP. The server turns headers into a [`Credentials`] value, asks the
//! [`AuthGate`] for a [`Caller`], checks the route's [`Permission`] and rate-limit
//! [`Operation`], and hands the caller's [`Scope`] to the memory service, which filters every
//! read and checks every write against it.

mod gate;
mod limiter;
mod role;
mod scope;
mod secret;
mod token;

pub use gate::{AuthFailure, AuthGate, Caller, Credentials, Denied, MintRequest, mint_with};
pub use limiter::{Operation, RateLimiter, RetryAfter};
pub use role::{Permission, Role};
pub use scope::Scope;
pub use secret::{SECRET_LEN, SecretError, load_or_create_secret, read_secret, secret_path};
pub use token::{Claims, TokenError, TokenSigner, decode_claims_unverified};
