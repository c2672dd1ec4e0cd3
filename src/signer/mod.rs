//! Everything that can sign.
//!
//! A [`Signer`] knows its public key and signs bytes. [`sign_checked`] is the only way a
//! signature enters metadata: it verifies the signature against the signer's public key
//! first, so a faulty token or a key file paired with the wrong public key can never put a
//! bad signature into a ceremony's output.

pub mod derived;
mod memory;
mod metadata;
pub mod pkcs11;
pub mod stream;
#[cfg(feature = "yubikey")]
pub mod yubikey;

pub use memory::{Ed25519Signer, P256Signer};
pub use metadata::{SignMetadata, WriteSignedError};

use crate::metadata::{Key, Signature};
use crate::pieces::{Message, PiecesError};

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer's backend (token, library, key material) failed to sign.
    #[error("the signer failed: {0}")]
    Backend(String),
    /// The message in pieces could not be handed on alike on every pass.
    #[error("the signer failed: {0}")]
    Pieces(#[from] PiecesError),
    /// The new signature does not verify against the signer's own public key: a faulty token,
    /// or key material paired with the wrong public key. Nothing enters the metadata.
    #[error(
        "the signature made by key {keyid} does not verify against its public key ({reason}); \
         the key material and the public key do not belong together"
    )]
    SelfCheckFailed {
        /// The signer's keyid.
        keyid: String,
        /// Why the signature did not verify.
        reason: String,
    },
}

/// Something that holds a private key.
pub trait Signer {
    /// The TUF public key object.
    fn public_key(&self) -> &Key;
    /// The raw signature over `message` in the key's scheme (not hex).
    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
    /// [`Signer::sign_raw`] over a message handed on in pieces ([`Message`]), for
    /// messages too large to hold twice. The default takes it whole; in-memory Ed25519 keys
    /// hash it as it comes.
    fn sign_message(&self, message: &dyn Message) -> Result<Vec<u8>, SignError> {
        self.sign_raw(&crate::pieces::collect(message)?)
    }
    /// Whether [`Signer::sign_message`] checks every signature it returns against the
    /// signer's public key over the very pass that made it, with a hash of its own, so that
    /// no further pass over the message is needed to check it ([`checked`] then only makes
    /// the [`Signature`]: [`signature_of`]).
    fn checks_message_signatures(&self) -> bool {
        false
    }
}

/// The [`Signature`] entry for `raw`, a signature by `key` that its signer has already
/// checked ([`Signer::checks_message_signatures`]).
pub fn signature_of(key: &Key, raw: &[u8]) -> Signature {
    Signature {
        keyid: key.keyid(),
        sig: hex::encode(raw),
        extra: Default::default(),
    }
}

/// Sign `message` and check the signature before returning it.
pub fn sign_checked(signer: &dyn Signer, message: &[u8]) -> Result<Signature, SignError> {
    let raw = signer.sign_raw(message)?;
    checked(signer.public_key(), &raw, |sink| {
        sink(message);
        Ok(())
    })
}

/// The one self-check of a new signature: `raw`, just made by `key`'s own signer, verified
/// over the message `feed` hands on (whole or in pieces) before it may enter metadata. A
/// faulty token, or key material paired with the wrong public key, is caught here.
pub fn checked(
    key: &Key,
    raw: &[u8],
    feed: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), PiecesError>,
) -> Result<Signature, SignError> {
    let sig = hex::encode(raw);
    let keyid = key.keyid();
    key.verify_pieces(&sig, feed)?
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
