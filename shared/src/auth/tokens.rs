//! JWT access tokens: verification against the authorization server's keys
//! (JWKS, cached), and a development issuer for the local stand-in.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::ids::UserPk;
use crate::domain::secret::{ExposeSecret, SecretBytes};
use crate::ports::clock::Clock;

/// Algorithms accepted at all; each key is further pinned to its own.
const ACCEPTED: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];
/// The JWKS refresh period: a key removed from the issuer's set is refused at most this
/// long after (while the issuer answers).
const JWKS_TTL: SignedDuration = SignedDuration::from_secs(600);
/// At most one fetch of the JWKS per this gap: an unknown `kid` triggers one, and a
/// failed fetch is tried again only after it.
const JWKS_REFETCH_GAP: SignedDuration = SignedDuration::from_secs(30);
/// While fetches fail, the last good keys keep serving until they are this old.
const JWKS_STALE_LIMIT: SignedDuration = SignedDuration::from_secs(3600);
const LEEWAY_SECONDS: u64 = 30;

/// Who an access token is for: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims this service reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's key, as a string.
    pub sub: String,
    pub iss: String,
    pub aud: Audience,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Why a token was refused. Deliberately coarse towards the client.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token rejected: {0}")]
    Rejected(String),
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

/// Where verification keys come from.
enum KeySource {
    /// Fixed keys (the stand-in's development key, tests).
    Static(JwkSet),
    /// The authorization server's JWKS endpoint, cached (boxed: its HTTP client is large).
    Remote(Box<RemoteKeys>),
}

/// How long the authorization server has to answer a JWKS fetch in full.
const JWKS_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest JWKS read: a key set is a few kilobytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// The JWKS fetch's HTTP client: hyper over rustls, the stack the AWS SDK's client links
/// anyway, so that no second HTTP client is linked into every function.
type JwksClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<bytes::Bytes>,
>;

/// A client trusting the system's root certificates. Reading and parsing them costs
/// milliseconds, so it is built on the first fetch, not at start: a function that serves
/// no token before it stops never pays for it.
fn jwks_client() -> Result<JwksClient, String> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
}

/// An error with its causes, as hyper's errors name only the outermost.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// The authorization server's keys, as last fetched: refreshed every [`JWKS_TTL`] by one
/// request while the others wait for its result (single flight), at most once per
/// [`JWKS_REFETCH_GAP`]; while fetches fail the last good keys serve until
/// [`JWKS_STALE_LIMIT`].
struct RemoteKeys {
    url: String,
    /// Built on the first fetch ([`jwks_client`]).
    client: std::sync::OnceLock<Result<JwksClient, String>>,
    clock: Arc<dyn Clock>,
    known: std::sync::Mutex<KnownKeys>,
    /// Held by the one request that fetches.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Clone, Default)]
struct KnownKeys {
    /// The last key set fetched and when.
    good: Option<(Timestamp, Arc<JwkSet>)>,
    /// Changes with every change of the key set: a verdict holds for its generation only.
    generation: u64,
    /// The last fetch, and why it failed if it did.
    attempted: Option<Timestamp>,
    failure: Option<String>,
    attempts: u64,
}

/// What the known keys say about a `kid`.
enum Lookup {
    Found(u64, Box<Jwk>),
    Fetch,
    Refused(TokenError),
}

impl KnownKeys {
    /// The key `kid` at `now`, or whether to fetch (only if `may_fetch`), or why not.
    fn lookup(&self, kid: Option<&str>, now: Timestamp, may_fetch: bool) -> Lookup {
        let age = |at: Timestamp| now.duration_since(at);
        // A clock set back makes no time trustworthy: fetch again.
        let may_fetch = may_fetch && self.attempted.is_none_or(|at| age(at).is_negative() || age(at) >= JWKS_REFETCH_GAP);
        let Some((fetched, set)) = &self.good else {
            return match may_fetch {
                true => Lookup::Fetch,
                false => Lookup::Refused(self.unavailable()),
            };
        };
        let fresh = !age(*fetched).is_negative() && age(*fetched) < JWKS_TTL;
        if !fresh && may_fetch {
            return Lookup::Fetch;
        }
        if age(*fetched).is_negative() || age(*fetched) >= JWKS_STALE_LIMIT {
            return Lookup::Refused(self.unavailable());
        }
        match find(set, kid) {
            Some(jwk) => Lookup::Found(self.generation, Box::new(jwk)),
            None if may_fetch => Lookup::Fetch,
            None => Lookup::Refused(TokenError::UnknownKey),
        }
    }

    fn unavailable(&self) -> TokenError {
        TokenError::KeysUnavailable(self.failure.clone().unwrap_or_else(|| "no key set fetched".into()))
    }
}

impl RemoteKeys {
    fn known(&self) -> KnownKeys {
        self.known.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The key `kid` and the generation of the set it is in.
    async fn key(&self, kid: Option<&str>) -> Result<(u64, Jwk), TokenError> {
        let known = self.known();
        match known.lookup(kid, self.clock.now(), true) {
            Lookup::Found(generation, jwk) => return Ok((generation, *jwk)),
            Lookup::Refused(error) => return Err(error),
            Lookup::Fetch => {}
        }
        {
            let _fetching = self.fetching.lock().await;
            // Whoever held the lock before may have fetched already: then its result serves.
            if self.known().attempts == known.attempts {
                self.fetch().await;
            }
        }
        match self.known().lookup(kid, self.clock.now(), false) {
            Lookup::Found(generation, jwk) => Ok((generation, *jwk)),
            Lookup::Refused(error) => Err(error),
            Lookup::Fetch => Err(TokenError::UnknownKey),
        }
    }

    /// Fetches the key set and records the outcome.
    async fn fetch(&self) {
        let fetched = tokio::time::timeout(JWKS_TIMEOUT, self.get())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", JWKS_TIMEOUT.as_secs())));
        let now = self.clock.now();
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.attempted = Some(now);
        known.attempts += 1;
        match fetched {
            Ok(set) => {
                if known.good.as_ref().is_none_or(|(_, good)| **good != set) {
                    known.generation += 1;
                }
                known.good = Some((now, Arc::new(set)));
                known.failure = None;
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "the JWKS could not be fetched; the last keys fetched serve meanwhile");
                known.failure = Some(error);
            }
        }
    }

    /// The key set at the URL, at most [`MAX_JWKS_BYTES`] of it.
    async fn get(&self) -> Result<JwkSet, String> {
        use http_body_util::BodyExt;
        let client = self.client.get_or_init(jwks_client).as_ref().map_err(Clone::clone)?;
        let uri = self.url.parse().map_err(|e| format!("the JWKS URL is invalid: {e}"))?;
        let response = client.get(uri).await.map_err(|e| with_causes(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP status {}", response.status()));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| with_causes(&*e))?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|e| format!("not a key set: {e}"))
    }
}

/// Verifies access tokens: signature, pinned algorithm, issuer, audience, expiry and not-before.
pub struct TokenVerifier {
    issuer: String,
    audience: String,
    keys: KeySource,
    verified: VerifiedTokens,
}

/// Tokens already verified, with their claims: a warm function sees the same
/// caller's token again and again, and a signature check costs far more than a lookup.
/// The same bytes always verify the same way against the same keys; only time and a
/// change of the key set can change the verdict, so expiry is checked again on every
/// use, and a verdict holds only for the generation of the key set it was reached with.
#[derive(Default)]
struct VerifiedTokens(std::sync::Mutex<std::collections::HashMap<String, (u64, Claims)>>);

/// Verified tokens kept at most; past this the cache starts afresh.
const VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    fn get(&self, token: &str, generation: u64, now: i64) -> Option<Claims> {
        // The same window as a full verification, leeway included.
        let leeway = LEEWAY_SECONDS as i64;
        let cache = self.0.lock().ok()?;
        cache
            .get(token)
            .filter(|(verified_with, _)| *verified_with == generation)
            .map(|(_, claims)| claims)
            .filter(|claims| now < claims.exp + leeway && claims.nbf.is_none_or(|nbf| nbf - leeway <= now))
            .cloned()
    }

    fn insert(&self, token: &str, generation: u64, claims: &Claims) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= VERIFIED_TOKENS {
                cache.clear();
            }
            cache.insert(token.to_owned(), (generation, claims.clone()));
        }
    }
}

impl TokenVerifier {
    /// A verifier with fixed keys.
    pub fn with_keys(issuer: impl Into<String>, audience: impl Into<String>, keys: JwkSet) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys: KeySource::Static(keys),
            verified: VerifiedTokens::default(),
        }
    }

    /// A verifier that fetches keys from a JWKS URL, timing its cache on `clock`.
    pub fn with_jwks_url(issuer: impl Into<String>, audience: impl Into<String>, url: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys: KeySource::Remote(Box::new(RemoteKeys {
                url: url.into(),
                client: std::sync::OnceLock::new(),
                clock,
                known: std::sync::Mutex::default(),
                fetching: tokio::sync::Mutex::new(()),
            })),
            verified: VerifiedTokens::default(),
        }
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenError::Rejected(format!("algorithm {:?} is not accepted", header.alg)));
        }
        // The key first: a token whose key has left the set is refused even if seen before.
        let (generation, jwk) = self.key(header.kid.as_deref()).await?;
        let now = jiff::Timestamp::now().as_second();
        if let Some(claims) = self.verified.get(token, generation, now) {
            return Ok(claims);
        }
        let claims = self.verify_signed(token, header.alg, &jwk)?;
        self.verified.insert(token, generation, &claims);
        Ok(claims)
    }

    fn verify_signed(&self, token: &str, algorithm: Algorithm, jwk: &Jwk) -> Result<Claims, TokenError> {
        let pinned = pinned_algorithm(jwk).ok_or(TokenError::UnknownKey)?;
        if algorithm != pinned {
            return Err(TokenError::Rejected("algorithm does not match the key".into()));
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?;
        let mut validation = Validation::new(pinned);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Rejected(e.kind().clone().into_kind_name()))
    }

    /// The key `kid` and the generation of the set it is in.
    async fn key(&self, kid: Option<&str>) -> Result<(u64, Jwk), TokenError> {
        match &self.keys {
            KeySource::Static(set) => find(set, kid).map(|jwk| (0, jwk)).ok_or(TokenError::UnknownKey),
            KeySource::Remote(remote) => remote.key(kid).await,
        }
    }
}

trait KindName {
    fn into_kind_name(self) -> String;
}

impl KindName for jsonwebtoken::errors::ErrorKind {
    fn into_kind_name(self) -> String {
        use jsonwebtoken::errors::ErrorKind;
        match self {
            ErrorKind::ExpiredSignature => "expired".into(),
            ErrorKind::ImmatureSignature => "not yet valid".into(),
            ErrorKind::InvalidIssuer => "wrong issuer".into(),
            ErrorKind::InvalidAudience => "wrong audience".into(),
            ErrorKind::InvalidSignature => "bad signature".into(),
            ErrorKind::MissingRequiredClaim(claim) => format!("missing claim {claim}"),
            _ => "invalid token".into(),
        }
    }
}

fn find(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        // Without a kid, only an unambiguous single key will do.
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// The one algorithm a key may be used with: its `alg`, or what its type implies.
fn pinned_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::AlgorithmParameters;
    match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_)) => Some(Algorithm::RS256),
        (Some(KeyAlgorithm::ES256), AlgorithmParameters::EllipticCurve(_)) => Some(Algorithm::ES256),
        (None, AlgorithmParameters::RSA(_)) => Some(Algorithm::RS256),
        (None, AlgorithmParameters::EllipticCurve(_)) => Some(Algorithm::ES256),
        _ => None,
    }
}

/// Signs tokens with a local ES256 key: the stand-in's development issuer.
pub struct DevTokenIssuer {
    issuer: String,
    audience: String,
    kid: String,
    key: EncodingKey,
    jwks: JwkSet,
}

impl DevTokenIssuer {
    /// A new random P-256 key as PKCS#8 DER.
    pub fn generate_key() -> SecretBytes {
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("P-256 key generation does not fail with the system CSPRNG");
        document.as_ref().to_vec().into()
    }

    /// An issuer over a PKCS#8 P-256 key.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, pkcs8: &SecretBytes) -> Result<Self, TokenError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.expose_secret())
            .map_err(|_| TokenError::KeysUnavailable("the development key is not a P-256 PKCS#8 key".into()))?;
        let point = pair.public_key().as_ref();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..65]));
        let kid = URL_SAFE_NO_PAD.encode(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, point).as_ref()[..12]);
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"}]
        }))
        .map_err(|e| TokenError::KeysUnavailable(e.to_string()))?;
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            kid,
            key: EncodingKey::from_ec_der(pkcs8.expose_secret()),
            jwks,
        })
    }

    /// The public keys, as a JWKS.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// A verifier accepting this issuer's tokens.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::with_keys(self.issuer.clone(), self.audience.clone(), self.jwks.clone())
    }

    /// A token for `user`, valid for `ttl` from `now` (epoch seconds).
    pub fn issue(&self, user: UserPk, username: &str, now: i64, ttl: Duration) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user.to_string(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl.as_secs() as i64,
            nbf: Some(now),
            iat: now,
            username: Some(username.to_owned()),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| TokenError::KeysUnavailable(e.to_string()))
    }
}

/// Encodes a development key for its file.
pub fn encode_key(pkcs8: &SecretBytes) -> String {
    STANDARD.encode(pkcs8.expose_secret())
}

/// Decodes a development key from its file.
pub fn decode_key(text: &str) -> Option<SecretBytes> {
    STANDARD.decode(text.trim()).ok().map(SecretBytes::from)
}

/// A shared verifier.
pub type SharedVerifier = Arc<TokenVerifier>;

#[cfg(test)]
mod tests {
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://auth.example.test/";
    const AUDIENCE: &str = "accountcentral";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Splits a DER `RSAPublicKey` (SEQUENCE of two INTEGERs) into modulus and exponent.
    fn rsa_components(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
        fn element(input: &[u8]) -> (&[u8], &[u8]) {
            let (len, start) = match input[1] {
                n if n < 0x80 => (n as usize, 2),
                n => {
                    let bytes = (n & 0x7f) as usize;
                    (input[2..2 + bytes].iter().fold(0usize, |acc, b| acc << 8 | *b as usize), 2 + bytes)
                }
            };
            (&input[start..start + len], &input[start + len..])
        }
        let (sequence, _) = element(der);
        let (modulus, rest) = element(sequence);
        let (exponent, _) = element(rest);
        let strip = |v: &[u8]| v.iter().skip_while(|b| **b == 0).copied().collect();
        (strip(modulus), strip(exponent))
    }

    fn rsa_jwks(pair: &RsaKeyPair, kid: &str) -> JwkSet {
        let (n, e) = rsa_components(pair.public_key().as_ref());
        serde_json::from_value(json!({"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "n": b64(&n), "e": b64(&e)}]})).unwrap()
    }

    fn claims(now: i64) -> serde_json::Value {
        json!({"sub": "12", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "iat": now})
    }

    fn sign_rs256(pair: &RsaKeyPair, header: serde_json::Value, claims: serde_json::Value) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)
            .unwrap();
        format!("{input}.{}", b64(&signature))
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    #[tokio::test]
    async fn rs256_tokens_from_the_key_set_verify() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let verifier = TokenVerifier::with_keys(ISSUER, AUDIENCE, rsa_jwks(&pair, "rsa-1"));
        let token = sign_rs256(&pair, json!({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}), claims(now()));
        assert_eq!(verifier.verify(&token).await.unwrap().sub, "12");

        let mut wrong_audience = claims(now());
        wrong_audience["aud"] = json!("another-api");
        let token = sign_rs256(&pair, json!({"alg": "RS256", "kid": "rsa-1"}), wrong_audience);
        assert!(matches!(verifier.verify(&token).await, Err(TokenError::Rejected(reason)) if reason == "wrong audience"));

        let mut wrong_issuer = claims(now());
        wrong_issuer["iss"] = json!("https://evil.example.test/");
        let token = sign_rs256(&pair, json!({"alg": "RS256", "kid": "rsa-1"}), wrong_issuer);
        assert!(matches!(verifier.verify(&token).await, Err(TokenError::Rejected(reason)) if reason == "wrong issuer"));
    }

    #[tokio::test]
    async fn a_key_is_used_with_its_own_algorithm_only() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let verifier = TokenVerifier::with_keys(ISSUER, AUDIENCE, rsa_jwks(&pair, "rsa-1"));
        // An RS256 signature presented as ES256 for the RSA key.
        let token = sign_rs256(&pair, json!({"alg": "ES256", "kid": "rsa-1"}), claims(now()));
        assert!(matches!(verifier.verify(&token).await, Err(TokenError::Rejected(_))));
        let token = sign_rs256(&pair, json!({"alg": "RS256", "kid": "unknown"}), claims(now()));
        assert!(matches!(verifier.verify(&token).await, Err(TokenError::UnknownKey)));
    }

    #[test]
    fn a_remembered_token_expires_like_a_verified_one() {
        let verified = VerifiedTokens::default();
        let claims = Claims {
            sub: "12".into(),
            iss: ISSUER.into(),
            aud: Audience::One(AUDIENCE.into()),
            exp: 1_000,
            nbf: Some(400),
            iat: 400,
            username: None,
        };
        verified.insert("token", 1, &claims);
        let leeway = LEEWAY_SECONDS as i64;
        assert!(verified.get("token", 1, 500).is_some());
        assert!(verified.get("token", 1, 1_000 + leeway - 1).is_some());
        assert!(verified.get("token", 1, 1_000 + leeway).is_none());
        assert!(verified.get("token", 1, 400 - leeway - 1).is_none());
        assert!(verified.get("other", 1, 500).is_none());
        assert!(verified.get("token", 2, 500).is_none(), "verified against another key set");
    }

    #[tokio::test]
    async fn development_tokens_round_trip_and_expire() {
        let issuer = DevTokenIssuer::new(ISSUER, AUDIENCE, &DevTokenIssuer::generate_key()).unwrap();
        let verifier = issuer.verifier();
        let token = issuer.issue(UserPk(10), "acme.admin", now(), Duration::from_secs(60)).unwrap();
        let claims = verifier.verify(&token).await.unwrap();
        assert_eq!((claims.sub.as_str(), claims.username.as_deref()), ("10", Some("acme.admin")));
        let expired = issuer
            .issue(UserPk(10), "acme.admin", now() - 3600, Duration::from_secs(60))
            .unwrap();
        assert!(matches!(verifier.verify(&expired).await, Err(TokenError::Rejected(reason)) if reason == "expired"));
    }
    #[tokio::test]
    async fn an_audience_list_that_names_ours_is_accepted() {
        let issuer = DevTokenIssuer::new(ISSUER, AUDIENCE, &DevTokenIssuer::generate_key()).unwrap();
        let verifier = issuer.verifier();
        let with_audience = |aud: serde_json::Value| {
            let mut claims = claims(now());
            claims["aud"] = aud;
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(issuer.kid.clone());
            jsonwebtoken::encode(&header, &claims, &issuer.key).unwrap()
        };
        let listed = verifier.verify(&with_audience(json!(["another-api", AUDIENCE]))).await.unwrap();
        assert_eq!(listed.aud, Audience::Many(vec!["another-api".into(), AUDIENCE.into()]));
        let refused = verifier.verify(&with_audience(json!(["another-api"]))).await;
        assert!(matches!(refused, Err(TokenError::Rejected(reason)) if reason == "wrong audience"));
        assert!(verifier.verify(&with_audience(json!(AUDIENCE))).await.is_ok());
    }

    /// A clock that moves only when told.
    struct ManualClock(std::sync::Mutex<Timestamp>);

    impl ManualClock {
        fn advance(&self, by: SignedDuration) {
            let mut now = self.0.lock().unwrap();
            *now += by;
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }

    /// A local authorization server's JWKS endpoint, counting its fetches.
    struct JwksServer {
        /// What it serves; `None`: a 500.
        keys: std::sync::Mutex<Option<JwkSet>>,
        fetches: std::sync::atomic::AtomicUsize,
        /// When set, each fetch waits until this many are under way (a second at most).
        together: Option<tokio::sync::Barrier>,
    }

    impl JwksServer {
        /// Starts serving `keys`: the server and its URL.
        async fn start(keys: &JwkSet, together: Option<usize>) -> (Arc<Self>, String) {
            use axum::http::StatusCode;
            use axum::response::IntoResponse;
            let server = Arc::new(Self {
                keys: std::sync::Mutex::new(Some(keys.clone())),
                fetches: Default::default(),
                together: together.map(tokio::sync::Barrier::new),
            });
            let serving = server.clone();
            let app = axum::Router::new().route(
                "/jwks.json",
                axum::routing::get(move || {
                    let server = serving.clone();
                    async move {
                        server.fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if let Some(together) = &server.together {
                            // Only the failing case waits the full second: it bounds the time, not the verdict.
                            let _ = tokio::time::timeout(Duration::from_secs(1), together.wait()).await;
                        }
                        let keys = server.keys.lock().unwrap().clone();
                        match keys {
                            Some(keys) => axum::Json(keys).into_response(),
                            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                        }
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            (server, url)
        }

        fn fetches(&self) -> usize {
            self.fetches.load(std::sync::atomic::Ordering::SeqCst)
        }

        fn serve(&self, keys: Option<&JwkSet>) {
            *self.keys.lock().unwrap() = keys.cloned();
        }
    }

    fn dev_issuer() -> DevTokenIssuer {
        DevTokenIssuer::new(ISSUER, AUDIENCE, &DevTokenIssuer::generate_key()).unwrap()
    }

    fn token_of(issuer: &DevTokenIssuer) -> String {
        issuer.issue(UserPk(12), "acme.user", now(), Duration::from_secs(86_400)).unwrap()
    }

    fn remote(url: &str) -> (TokenVerifier, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock(std::sync::Mutex::new(Timestamp::now())));
        (TokenVerifier::with_jwks_url(ISSUER, AUDIENCE, url, clock.clone()), clock)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_requests_fetch_the_jwks_once() {
        const REQUESTS: usize = 8;
        let issuer = dev_issuer();
        let (server, url) = JwksServer::start(issuer.jwks(), Some(REQUESTS)).await;
        let verifier = Arc::new(remote(&url).0);
        let token = token_of(&issuer);
        let requests: Vec<_> = (0..REQUESTS)
            .map(|_| {
                let (verifier, token) = (verifier.clone(), token.clone());
                tokio::spawn(async move { verifier.verify(&token).await.map(|claims| claims.sub) })
            })
            .collect();
        for request in requests {
            assert_eq!(request.await.unwrap().unwrap(), "12");
        }
        assert_eq!(server.fetches(), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_keys_for_a_while_and_is_retried_after_a_gap() {
        let issuer = dev_issuer();
        let (server, url) = JwksServer::start(issuer.jwks(), None).await;
        let (verifier, clock) = remote(&url);
        let token = token_of(&issuer);
        verifier.verify(&token).await.unwrap();
        assert_eq!(server.fetches(), 1);

        server.serve(None);
        clock.advance(JWKS_TTL);
        for _ in 0..10 {
            verifier.verify(&token).await.expect("the last good keys serve");
        }
        assert_eq!(server.fetches(), 2, "one attempt, not one per request");
        clock.advance(JWKS_REFETCH_GAP);
        verifier.verify(&token).await.expect("still the last good keys");
        assert_eq!(server.fetches(), 3, "tried again after the gap");

        clock.advance(JWKS_STALE_LIMIT - JWKS_TTL - JWKS_REFETCH_GAP);
        for _ in 0..3 {
            assert!(matches!(verifier.verify(&token).await, Err(TokenError::KeysUnavailable(_))));
        }
        assert_eq!(server.fetches(), 4, "too old to serve, and still one attempt per gap");

        server.serve(Some(issuer.jwks()));
        assert!(verifier.verify(&token).await.is_err(), "not before the gap");
        clock.advance(JWKS_REFETCH_GAP);
        verifier.verify(&token).await.expect("fetched again");
        assert_eq!(server.fetches(), 5);
    }

    #[tokio::test]
    async fn a_key_that_left_the_jwks_is_refused_within_the_refresh_period() {
        let (old, new) = (dev_issuer(), dev_issuer());
        let (server, url) = JwksServer::start(old.jwks(), None).await;
        let (verifier, clock) = remote(&url);
        let old_token = token_of(&old);
        verifier.verify(&old_token).await.unwrap();

        server.serve(Some(new.jwks()));
        clock.advance(JWKS_TTL - SignedDuration::from_secs(1));
        verifier.verify(&old_token).await.expect("the keys fetched are still fresh");
        assert_eq!(server.fetches(), 1);
        clock.advance(SignedDuration::from_secs(1));
        assert!(
            matches!(verifier.verify(&old_token).await, Err(TokenError::UnknownKey)),
            "refused, although verified before"
        );
        assert_eq!(verifier.verify(&token_of(&new)).await.unwrap().sub, "12");
        assert_eq!(server.fetches(), 2);
    }

    #[tokio::test]
    async fn an_unknown_key_fetches_at_most_once_per_gap() {
        let (known, stranger) = (dev_issuer(), dev_issuer());
        let (server, url) = JwksServer::start(known.jwks(), None).await;
        let (verifier, clock) = remote(&url);
        verifier.verify(&token_of(&known)).await.unwrap();
        let foreign = token_of(&stranger);
        clock.advance(JWKS_REFETCH_GAP);
        for _ in 0..5 {
            assert!(matches!(verifier.verify(&foreign).await, Err(TokenError::UnknownKey)));
        }
        assert_eq!(server.fetches(), 2, "one fetch for the unknown key, then none within the gap");
    }
}
