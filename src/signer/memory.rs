//! Keys held in memory: for tests and for building metadata in-process. Key files, derived
//! keys and hardware tokens build on the same trait.

//!
//! The private key is held as its 32 bytes in a [`LockedKey`] (heap, page locked in memory
//! where the OS allows, zeroized on drop); the crates' key types, which zeroize themselves but
//! cannot be locked in place, exist only for the moment of signing.

use crate::memlock::LockedKey;
use crate::metadata::Key;
use crate::signer::{SignError, Signer};

/// An Ed25519 private key in memory. This type has no `Debug` so it cannot end up in a log
/// line.
pub struct Ed25519Signer {
    seed: LockedKey,
    public: Key,
}

impl Ed25519Signer {
    /// The key for a 32-byte Ed25519 seed, copied into locked memory; the caller must zeroize
    /// its own copy.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let secret = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = Key::ed25519(&secret.verifying_key().to_bytes());
        Ed25519Signer {
            seed: LockedKey::new(seed),
            public,
        }
    }

    /// Whether the key's memory is locked (see [`crate::memlock`]).
    pub fn is_locked(&self) -> bool {
        self.seed.is_locked()
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::Signer as _;
        let secret = ed25519_dalek::SigningKey::from_bytes(self.seed.expose());
        Ok(secret.sign(message).to_bytes().to_vec())
    }

    /// Standard Ed25519 (RFC 8032) over a message in pieces: the same signature as
    /// [`Signer::sign_raw`] over the whole message. The two hashes Ed25519 needs each take
    /// one pass; [`crate::pieces`] makes sure both passes hand on the same bytes.
    fn sign_message(&self, message: &dyn crate::pieces::Message) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
        use sha2::Digest as _;
        let secret = ed25519_dalek::SigningKey::from_bytes(self.seed.expose());
        let expanded = ExpandedSecretKey::from(self.seed.expose());
        let failure = std::cell::RefCell::new(None);
        let signature = raw_sign_byupdate::<sha2::Sha512, _>(
            &expanded,
            |hash| {
                message.feed(&mut |piece| hash.update(piece)).map_err(|e| {
                    *failure.borrow_mut() = Some(e);
                    ed25519_dalek::SignatureError::new()
                })
            },
            &secret.verifying_key(),
        );
        match (signature, failure.into_inner()) {
            (Ok(sig), None) => Ok(sig.to_bytes().to_vec()),
            (_, Some(e)) => Err(e.into()),
            (Err(e), None) => Err(SignError::Backend(e.to_string())),
        }
    }
}

/// An ECDSA P-256 private key in memory.
pub struct P256Signer {
    scalar: LockedKey,
    public: Key,
}

impl P256Signer {
    /// From a 32-byte big-endian scalar.
    pub fn from_scalar(scalar: &[u8; 32]) -> Result<Self, SignError> {
        let sk = p256::SecretKey::from_slice(scalar)
            .map_err(|_| SignError::Backend("not a valid P-256 private scalar".into()))?;
        let public = Key::ecdsa_p256(&sk.public_key());
        Ok(P256Signer {
            scalar: LockedKey::new(scalar),
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
        let sk = p256::SecretKey::from_slice(self.scalar.expose())
            .map_err(|_| SignError::Backend("not a valid P-256 private scalar".into()))?;
        let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(sk).sign(message);
        Ok(sig.to_der().as_bytes().to_vec())
    }
}
