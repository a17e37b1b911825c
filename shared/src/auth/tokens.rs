//! JWT access tokens: verification against the authorization server's keys
//! (JWKS, cached), and a development issuer for the local stand-in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::domain::ids::UserPk;
use crate::domain::secret::{ExposeSecret, SecretBytes};

/// Algorithms accepted at all; each key is further pinned to its own.
const ACCEPTED: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];
const JWKS_TTL: Duration = Duration::from_secs(600);
/// An unknown `kid` triggers a refetch at most this often.
const JWKS_REFETCH_GAP: Duration = Duration::from_secs(30);
const LEEWAY_SECONDS: u64 = 30;

/// The claims this service reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's key, as a string.
    pub sub: String,
    pub iss: String,
    pub aud: String,
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
    /// The authorization server's JWKS endpoint, cached.
    Remote {
        url: String,
        client: reqwest::Client,
        cache: RwLock<Option<(Instant, JwkSet)>>,
    },
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
/// The same bytes always verify the same way; only time can change the verdict, so
/// expiry is checked again on every use.
#[derive(Default)]
struct VerifiedTokens(std::sync::Mutex<std::collections::HashMap<String, Claims>>);

/// Verified tokens kept at most; past this the cache starts afresh.
const VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    fn get(&self, token: &str, now: i64) -> Option<Claims> {
        // The same window as a full verification, leeway included.
        let leeway = LEEWAY_SECONDS as i64;
        let cache = self.0.lock().ok()?;
        cache
            .get(token)
            .filter(|claims| now < claims.exp + leeway && claims.nbf.is_none_or(|nbf| nbf - leeway <= now))
            .cloned()
    }

    fn insert(&self, token: &str, claims: &Claims) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= VERIFIED_TOKENS {
                cache.clear();
            }
            cache.insert(token.to_owned(), claims.clone());
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

    /// A verifier that fetches keys from a JWKS URL.
    pub fn with_jwks_url(issuer: impl Into<String>, audience: impl Into<String>, url: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys: KeySource::Remote {
                url: url.into(),
                client,
                cache: RwLock::new(None),
            },
            verified: VerifiedTokens::default(),
        }
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = jiff::Timestamp::now().as_second();
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = self.verify_signed(token).await?;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenError::Rejected(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let jwk = self.key(header.kid.as_deref()).await?;
        let pinned = pinned_algorithm(&jwk).ok_or(TokenError::UnknownKey)?;
        if header.alg != pinned {
            return Err(TokenError::Rejected("algorithm does not match the key".into()));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| TokenError::UnknownKey)?;
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

    async fn key(&self, kid: Option<&str>) -> Result<Jwk, TokenError> {
        match &self.keys {
            KeySource::Static(set) => find(set, kid).ok_or(TokenError::UnknownKey),
            KeySource::Remote { url, client, cache } => {
                if let Some((fetched, set)) = cache.read().await.as_ref() {
                    if let Some(jwk) = find(set, kid) {
                        if fetched.elapsed() < JWKS_TTL {
                            return Ok(jwk);
                        }
                    } else if fetched.elapsed() < JWKS_REFETCH_GAP {
                        return Err(TokenError::UnknownKey);
                    }
                }
                let set: JwkSet = client
                    .get(url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| TokenError::KeysUnavailable(e.to_string()))?
                    .json()
                    .await
                    .map_err(|e| TokenError::KeysUnavailable(e.to_string()))?;
                let found = find(&set, kid);
                *cache.write().await = Some((Instant::now(), set));
                found.ok_or(TokenError::UnknownKey)
            }
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
            aud: self.audience.clone(),
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
            aud: AUDIENCE.into(),
            exp: 1_000,
            nbf: Some(400),
            iat: 400,
            username: None,
        };
        verified.insert("token", &claims);
        let leeway = LEEWAY_SECONDS as i64;
        assert!(verified.get("token", 500).is_some());
        assert!(verified.get("token", 1_000 + leeway - 1).is_some());
        assert!(verified.get("token", 1_000 + leeway).is_none());
        assert!(verified.get("token", 400 - leeway - 1).is_none());
        assert!(verified.get("other", 500).is_none());
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
}
