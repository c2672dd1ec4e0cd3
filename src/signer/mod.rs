//! Everything that can sign.
//!
//! A [`Signer`] knows its public key and signs bytes. [`sign_checked`] is the only way a
//! signature enters metadata: it verifies the signature against the signer's public key
//! first, so a faulty token or a key file paired with the wrong public key can never put a
//! bad signature into a ceremony's output.

pub mod derived;
mod memory;
pub mod pkcs11;
pub mod stream;
#[cfg(feature = "yubikey")]
pub mod yubikey;

pub use memory::{Ed25519Signer, P256Signer};

use crate::metadata::{Key, Signature};

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the signer failed: {0}")]
    Backend(String),
    #[error(
        "the signature made by key {keyid} does not verify against its public key ({reason}); \
         the key material and the public key do not belong together"
    )]
    SelfCheckFailed { keyid: String, reason: String },
}

/// Something that holds a private key.
pub trait Signer {
    /// The TUF public key object.
    fn public_key(&self) -> &Key;
    /// The raw signature over `message` in the key's scheme (not hex).
    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
    /// [`Signer::sign_raw`] over a message handed on in pieces ([`stream::Message`]), for
    /// messages too large to hold twice. The default takes it whole; in-memory Ed25519 keys
    /// hash it as it comes.
    fn sign_message(&self, message: &dyn stream::Message) -> Result<Vec<u8>, SignError> {
        self.sign_raw(&stream::collect(message)?)
    }
}

/// Sign `message` and check the signature before returning it.
pub fn sign_checked(signer: &dyn Signer, message: &[u8]) -> Result<Signature, SignError> {
    let key = signer.public_key();
    let sig = hex::encode(signer.sign_raw(message)?);
    let keyid = key.keyid();
    key.verify(message, &sig)
        .map_err(|e| SignError::SelfCheckFailed {
            keyid: keyid.to_string(),
            reason: e.to_string(),
        })?;
    Ok(Signature {
        keyid,
        sig,
        extra: Default::default(),
    })
}
