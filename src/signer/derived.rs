//! Passphrase-derived Ed25519 keys (PEP 480's "secondary password").
//!
//! seed = Argon2id(passphrase, salt), with the `rfc9106-2gib` profile (t=1, m=2 GiB, p=4) and
//! salt = SHA-256("conclave/derived-key/v1/ed25519" || 0x00 || identity), where identity names
//! the key's purpose and holder, e.g. `pypi.org/root/alice`. The same passphrase and identity
//! always give the same key; no private key is ever written anywhere. The identity keeps two
//! officers with the same passphrase (or one officer with two roles) from sharing a key.

use sha2::{Digest, Sha256};

use crate::kdf::{KdfError, RFC9106_2GIB};
use crate::secret::Passphrase;
use crate::signer::Ed25519Signer;

/// The domain label mixed into every salt.
pub(crate) const DOMAIN: &str = "conclave/derived-key/v1/ed25519";

/// The Argon2id salt for `identity`.
pub fn salt(identity: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN.as_bytes());
    h.update([0u8]);
    h.update(identity.as_bytes());
    h.finalize().into()
}

/// Why a key could not be derived for an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The identity is empty: every officer with the same passphrase would get one key.
    #[error("the identity must not be empty")]
    EmptyIdentity,
    /// The identity is longer than 256 bytes.
    #[error("the identity must be at most 256 bytes")]
    LongIdentity,
    /// The identity holds whitespace or control characters, which an officer cannot read
    /// aloud or write down unambiguously (and a terminal may hide).
    #[error("the identity must not contain spaces or control characters")]
    UnspeakableIdentity,
    /// Argon2id failed, e.g. the 2 GiB of memory could not be allocated.
    #[error(transparent)]
    Kdf(#[from] KdfError),
}

/// Check an identity is something an officer can write down and read aloud.
pub fn check_identity(identity: &str) -> Result<(), DeriveError> {
    if identity.is_empty() {
        return Err(DeriveError::EmptyIdentity);
    }
    if identity.len() > 256 {
        return Err(DeriveError::LongIdentity);
    }
    if identity
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(DeriveError::UnspeakableIdentity);
    }
    Ok(())
}

/// Derive the key for `identity` from `passphrase`.
pub fn derive(identity: &str, passphrase: &Passphrase) -> Result<Ed25519Signer, DeriveError> {
    let seed = derive_seed(identity, passphrase)?;
    Ok(Ed25519Signer::from_seed(&seed))
}

/// The Ed25519 seed of the key for `identity` (for a share backup of a derived key:
/// `conclave key split --derive`).
pub fn derive_seed(
    identity: &str,
    passphrase: &Passphrase,
) -> Result<crate::secret::SecretBytes, DeriveError> {
    check_identity(identity)?;
    Ok(RFC9106_2GIB.derive(passphrase.expose().as_bytes(), &salt(identity))?)
}
