use chrono::{DateTime, Duration, Utc};
use domain::sign_in::SecondFactor;
use domain::{SessionId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 4096;

/// How tokens are signed and how long they live.
#[derive(Clone)]
pub struct TokenConfig {
    /// The HS256 key, shared by every replica.
    pub secret: Vec<u8>,
    /// A token's lifetime (`TOKEN_TTL_SECONDS`).
    pub ttl: Duration,
    /// How long a sign-in lasts at most, refreshes included.
    pub max_session: Duration,
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("secret", &"***")
            .field("ttl", &self.ttl)
            .field("max_session", &self.max_session)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: String,
    pub iss: String,
    pub aud: String,
    /// How the sign-in was authenticated (RFC 8176): `["pwd"]` or
    /// `["pwd", "otp"]`, from the sign-in's row, so refreshed tokens carry
    /// what the sign-in holds now. Absent in tokens issued before C5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// A token handed out, with how long it lives.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    config: TokenConfig,
}

impl Tokens {
    pub fn new(config: TokenConfig) -> Result<Tokens, String> {
        let encoding = EncodingKey::from_secret(&config.secret);
        let decoding = DecodingKey::from_secret(&config.secret);
        // The algorithm is ours, never the token's: a token that names
        // another (or `none`) fails validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        // Replicas share a clock source; a token is dead at its `exp`.
        validation.leeway = 0;
        Ok(Tokens { encoding, decoding, validation, config })
    }

    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// A token for `session`, living the configured time but never past
    /// the sign-in's end.
    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        session_ends: DateTime<Utc>,
        factor: Option<SecondFactor>,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let exp = (now + self.config.ttl).min(session_ends);
        let claims = Claims {
            sub: user.to_string(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session.to_string(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            amr: SecondFactor::amr(factor),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken { token, expires_in: (exp - now).num_seconds().max(0) })
    }

    /// The claims of a well-signed, unexpired token of ours.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }

    /// Sliding refresh: a token past half of its lifetime is replaced.
    pub fn needs_refresh(&self, claims: &Claims, now: DateTime<Utc>) -> bool {
        let lifetime = claims.exp - claims.iat;
        now.timestamp() >= claims.iat + lifetime / 2
    }
}
