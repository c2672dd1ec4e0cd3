//! Keys held in memory: for tests and for building metadata in-process. Key files, derived
//! keys and hardware tokens build on the same trait.

use crate::metadata::Key;
use crate::signer::{SignError, Signer};

/// An Ed25519 private key in memory. The dalek key zeroizes itself on drop; this type has no
/// `Debug` so it cannot end up in a log line.
pub struct Ed25519Signer {
    secret: ed25519_dalek::SigningKey,
    public: Key,
}

impl Ed25519Signer {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let secret = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = Key::ed25519(&secret.verifying_key().to_bytes());
        Ed25519Signer { secret, public }
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::Signer as _;
        Ok(self.secret.sign(message).to_bytes().to_vec())
    }
}

/// An ECDSA P-256 private key in memory (zeroized on drop by the p256 crate).
pub struct P256Signer {
    secret: p256::ecdsa::SigningKey,
    public: Key,
}

impl P256Signer {
    /// From a 32-byte big-endian scalar.
    pub fn from_scalar(scalar: &[u8; 32]) -> Result<Self, SignError> {
        let sk = p256::SecretKey::from_slice(scalar)
            .map_err(|_| SignError::Backend("not a valid P-256 private scalar".into()))?;
        let public = Key::ecdsa_p256(&sk.public_key());
        Ok(P256Signer {
            secret: p256::ecdsa::SigningKey::from(sk),
            public,
        })
    }
}

impl Signer for P256Signer {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use p256::ecdsa::signature::Signer as _;
        // RFC 6979 deterministic nonces; DER encoding, as securesystemslib writes.
        let sig: p256::ecdsa::Signature = self.secret.sign(message);
        Ok(sig.to_der().as_bytes().to_vec())
    }
}
