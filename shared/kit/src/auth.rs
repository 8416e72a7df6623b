//! Who is acting: short-lived tokens that accounts signs (Ed25519) and every service
//! verifies locally with accounts' public key. An HTTP handler takes an [`Actor`]; a request
//! without a valid token never reaches it.
//!
//! Format: `kt1.<base64url(claims JSON)>.<base64url(signature over "kt1.<claims>")>`.

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
    /// administrator, operator, auditor, director, user.
    pub role: String,
    /// The person's institution (RSPO id), for roles tied to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// The session this token belongs to.
    pub sid: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature is not accounts'")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

pub fn sign(key: &SigningKey, claims: &Claims) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{PREFIX}{body}");
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

pub fn verify(key: &VerifyingKey, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
    let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let (body, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    key.verify(
        format!("{PREFIX}{body}").as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| TokenError::BadSignature)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
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
    pub key: Option<VerifyingKey>,
    pub clock: Arc<dyn Clock>,
}

/// The person acting, from a valid bearer token.
#[derive(Debug, Clone)]
pub struct Actor(pub Claims);

impl Actor {
    /// Refuses (403) unless the actor has one of `roles`.
    pub fn require(&self, roles: &[&str]) -> Result<(), Problem> {
        if roles.contains(&self.0.role.as_str()) {
            Ok(())
        } else {
            Err(
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Brak uprawnień")
                    .detail(format!("Ta czynność wymaga roli: {}.", roles.join(" lub "))),
            )
        }
    }

    pub fn login(&self) -> &str {
        &self.0.sub
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let unauthorized = |detail: &str| {
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
        };
        let Some(verifier) = parts.extensions.get::<TokenVerifier>() else {
            return Err(unauthorized(
                "Usługa nie ma klucza do sprawdzania tożsamości.",
            ));
        };
        let Some(key) = verifier.key.as_ref() else {
            return Err(unauthorized(
                "Usługa nie ma klucza do sprawdzania tożsamości.",
            ));
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("Brak tokenu: zaloguj się w usłudze accounts."))?;
        match verify(key, token.trim(), verifier.clock.now()) {
            Ok(claims) => Ok(Actor(claims)),
            Err(TokenError::Expired) => Err(unauthorized("Sesja wygasła: zaloguj się ponownie.")),
            Err(_) => Err(unauthorized("Token jest nieprawidłowy.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "admin.ek04".into(),
            role: "administrator".into(),
            institution: None,
            iat: 0,
            exp,
            sid: "s1".into(),
        }
    }

    #[test]
    fn a_token_verifies_with_the_signers_public_key_only() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let token = sign(&key, &claims(100));
        assert_eq!(
            verify(&key.verifying_key(), &token, DateTime::UNIX_EPOCH).unwrap(),
            claims(100)
        );
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert_eq!(
            verify(&other, &token, DateTime::UNIX_EPOCH),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn an_expired_or_altered_token_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let token = sign(&key, &claims(100));
        let later = DateTime::from_timestamp(100, 0).unwrap();
        assert_eq!(
            verify(&key.verifying_key(), &token, later),
            Err(TokenError::Expired)
        );
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                role: "auditor".into(),
                ..claims(100)
            })
            .unwrap(),
        );
        let signature = token.rsplit('.').next().unwrap();
        let forged = format!("{PREFIX}{forged_body}.{signature}");
        assert_eq!(
            verify(&key.verifying_key(), &forged, DateTime::UNIX_EPOCH),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&key.verifying_key(), "nonsense", DateTime::UNIX_EPOCH),
            Err(TokenError::Malformed)
        );
    }
}
