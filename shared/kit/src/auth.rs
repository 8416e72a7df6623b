//! Who is acting: short-lived tokens that accounts signs (Ed25519) and every service
//! verifies locally with accounts' public key. An HTTP handler takes an [`Actor`] (a staff
//! token) or a [`PortalActor`] (the access portal's); a request without a valid token of
//! that audience never reaches it.
//!
//! Format: `kt1.<base64url(claims JSON)>.<base64url(signature over "kt1.<claims>")>`. The
//! claims name the audience and the signing key's id, so that accounts' key can be rotated
//! without signing everyone out: services trust the current key and the previous ones until
//! the tokens they signed have expired. A token of a session that accounts ended (sign-out,
//! a password change, a locked account) is refused at once where the service keeps the
//! ended sessions (`kit_ended_sessions`, fed from `accounts.sessions.ended`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::problem::Problem;

const PREFIX: &str = "kt1.";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The acting person's login.
    pub sub: String,
    pub role: Role,
    /// The person's institution (RSPO id), for roles tied to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// The session this token belongs to.
    pub sid: String,
    /// Whom the token is for: the department's staff or the access portal.
    pub aud: Audience,
    /// The signing key's id ([`key_id`]); set by [`sign`].
    #[serde(default)]
    pub kid: String,
    /// A staff member other than an administrator granted the right to process requests
    /// ("uprawniony pracownik EK-04", seed 001): he may take and realise cases.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub processing: bool,
}

/// What a person may do, as accounts records it and every service checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The department's EK-04 administrators: the queue, realisation.
    Administrator,
    /// The collection desk; registers requests that did not come through SEOD.
    Operator,
    Auditor,
    Director,
    /// A person a director authorised as his institution's local administrator
    /// ("Administrator lokalny", seed 002), signed in to the console.
    LocalAdministrator,
    User,
    /// A portal session good only for setting one's own password.
    PasswordChange,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Director => "director",
            Role::LocalAdministrator => "local_administrator",
            Role::User => "user",
            Role::PasswordChange => "password_change",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Administrator,
            Role::Operator,
            Role::Auditor,
            Role::Director,
            Role::LocalAdministrator,
            Role::User,
            Role::PasswordChange,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Staff,
    Portal,
}

/// A public key's id: the first 16 hex digits of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key.as_bytes())[..8])
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature is not accounts'")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token's session has ended")]
    SessionEnded,
}

pub fn sign(key: &SigningKey, claims: &Claims) -> String {
    let claims = Claims {
        kid: key_id(&key.verifying_key()),
        ..claims.clone()
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signed = format!("{PREFIX}{body}");
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// Verifies a token of `audience` signed by one of `keys` (the one its `kid` names).
pub fn verify(
    keys: &[VerifyingKey],
    token: &str,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<Claims, TokenError> {
    if token.len() > 4096 {
        return Err(TokenError::Malformed);
    }
    let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let (body, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    // The claims are read before the signature only to pick the key; nothing else is
    // believed until it verifies.
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    let key = keys
        .iter()
        .find(|k| key_id(k) == claims.kid)
        .ok_or(TokenError::BadSignature)?;
    key.verify(
        format!("{PREFIX}{body}").as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| TokenError::BadSignature)?;
    if claims.aud != audience {
        return Err(TokenError::Audience);
    }
    if claims.exp <= now.timestamp() {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// Reads an Ed25519 key (seed or public key) given as 64 hex characters.
pub fn key_bytes_from_hex(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("expected 32 bytes (64 hex characters), got {}", bytes.len()))
}

/// What every service needs to check tokens; installed as a request extension.
#[derive(Clone)]
pub struct TokenVerifier {
    /// accounts' current public key first, then the previous ones still trusted.
    pub keys: Vec<VerifyingKey>,
    pub clock: Arc<dyn Clock>,
    /// Where this service keeps the sessions accounts ended; `None` where the service
    /// checks sessions itself (accounts).
    pub ended_sessions: Option<sqlx::PgPool>,
}

impl TokenVerifier {
    /// Verifies `token` for `audience`, and that its session was not ended.
    pub async fn check(&self, token: &str, audience: Audience) -> Result<Claims, TokenError> {
        let claims = verify(&self.keys, token, audience, self.clock.now())?;
        if let Some(pool) = &self.ended_sessions {
            let ended: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM kit_ended_sessions WHERE sid = $1)",
            )
            .bind(&claims.sid)
            .fetch_one(pool)
            .await
            // A database that cannot answer must not let an ended session through.
            .unwrap_or(true);
            if ended {
                return Err(TokenError::SessionEnded);
            }
        }
        Ok(claims)
    }
}

/// The staff member acting, from a valid bearer token of the staff audience.
#[derive(Debug, Clone)]
pub struct Actor(pub Claims);

/// A user of the access portal, from a valid bearer token of the portal audience.
#[derive(Debug, Clone)]
pub struct PortalActor(pub Claims);

impl Actor {
    /// Refuses (403) unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Brak uprawnień")
                    .detail(format!("Ta czynność wymaga roli: {}.", names.join(" lub "))),
            )
        }
    }

    pub fn login(&self) -> &str {
        &self.0.sub
    }

    /// Refuses (403) unless the actor processes requests: an administrator, or a staff
    /// member granted the right.
    pub fn require_processing(&self) -> Result<(), Problem> {
        if self.0.role == Role::Administrator || (self.0.processing && self.0.role != Role::Auditor)
        {
            return Ok(());
        }
        Err(
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Brak uprawnień").detail(
                "Sprawę realizuje administrator albo pracownik EK-04 uprawniony do \
                 realizacji wniosków.",
            ),
        )
    }
}

fn unauthorized(detail: &str) -> Response {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Wymagane zalogowanie",
    )
    .detail(detail)
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// The bearer token's claims for `audience`, or the 401 to answer.
async fn claims_of(parts: &Parts, audience: Audience) -> Result<Claims, Response> {
    let Some(verifier) = parts.extensions.get::<TokenVerifier>() else {
        return Err(unauthorized(
            "Usługa nie ma klucza do sprawdzania tożsamości.",
        ));
    };
    if verifier.keys.is_empty() {
        return Err(unauthorized(
            "Usługa nie ma klucza do sprawdzania tożsamości.",
        ));
    }
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("Brak tokenu: zaloguj się w usłudze accounts."))?;
    match verifier.check(token.trim(), audience).await {
        Ok(claims) => Ok(claims),
        Err(TokenError::Expired) => Err(unauthorized("Sesja wygasła: zaloguj się ponownie.")),
        Err(TokenError::SessionEnded) => Err(unauthorized(
            "Sesja została zakończona (wylogowanie, zmiana hasła albo blokada konta): zaloguj się ponownie.",
        )),
        Err(TokenError::Audience) => Err(unauthorized(
            "Ten token nie jest przeznaczony dla tej usługi.",
        )),
        Err(_) => Err(unauthorized("Token jest nieprawidłowy.")),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        claims_of(parts, Audience::Staff).await.map(Actor)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PortalActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        claims_of(parts, Audience::Portal).await.map(PortalActor)
    }
}

impl PortalActor {
    pub fn login(&self) -> &str {
        &self.0.sub
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "admin.ek04".into(),
            role: Role::Administrator,
            institution: None,
            iat: 0,
            exp,
            sid: "s1".into(),
            aud: Audience::Staff,
            kid: String::new(),
            processing: false,
        }
    }

    fn signed_claims(key: &SigningKey, exp: i64) -> Claims {
        Claims {
            kid: key_id(&key.verifying_key()),
            ..claims(exp)
        }
    }

    #[test]
    fn a_token_verifies_with_the_signers_public_key_only() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let token = sign(&key, &claims(100));
        let at = DateTime::UNIX_EPOCH;
        assert_eq!(
            verify(&[key.verifying_key()], &token, Audience::Staff, at).unwrap(),
            signed_claims(&key, 100)
        );
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert_eq!(
            verify(&[other], &token, Audience::Staff, at),
            Err(TokenError::BadSignature)
        );
        // After a rotation, the previous key still verifies what it signed.
        assert!(verify(&[other, key.verifying_key()], &token, Audience::Staff, at).is_ok());
    }

    #[test]
    fn a_token_is_accepted_only_by_its_audience() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let portal = sign(
            &key,
            &Claims {
                aud: Audience::Portal,
                ..claims(100)
            },
        );
        let at = DateTime::UNIX_EPOCH;
        assert_eq!(
            verify(&[key.verifying_key()], &portal, Audience::Staff, at),
            Err(TokenError::Audience)
        );
        assert!(verify(&[key.verifying_key()], &portal, Audience::Portal, at).is_ok());
    }

    #[test]
    fn an_expired_or_altered_token_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let token = sign(&key, &claims(100));
        let keys = [key.verifying_key()];
        let later = DateTime::from_timestamp(100, 0).unwrap();
        assert_eq!(
            verify(&keys, &token, Audience::Staff, later),
            Err(TokenError::Expired)
        );
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                role: Role::Auditor,
                ..signed_claims(&key, 100)
            })
            .unwrap(),
        );
        let signature = token.rsplit('.').next().unwrap();
        let forged = format!("{PREFIX}{forged_body}.{signature}");
        let at = DateTime::UNIX_EPOCH;
        assert_eq!(
            verify(&keys, &forged, Audience::Staff, at),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&keys, "nonsense", Audience::Staff, at),
            Err(TokenError::Malformed)
        );
    }
}
