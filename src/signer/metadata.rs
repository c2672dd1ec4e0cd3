//! Signing into metadata: one signer over a role held in memory, or several signers over a
//! role too large to hold twice, written to its file as it is signed.

use std::path::Path;

use crate::cjson::Map;
use crate::metadata::{Metadata, Role, Signature};
use crate::pieces::{Produce, spooled};
use crate::signer::{SignError, Signer, sign_checked, stream};

/// Why [`SignMetadata::sign_all_into_file`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum WriteSignedError {
    /// A signer failed, or a new signature did not verify.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The scratch file or `dest` could not be written or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Signing a role's metadata: each signature is checked against its signer's public key over
/// the very bytes it covers before it is added (see [`crate::signer::checked`]).
pub trait SignMetadata {
    /// Add a signature, replacing any earlier one by the same key.
    fn sign(&mut self, signer: &dyn Signer) -> Result<(), SignError>;

    /// Sign with several signers and write the file to `dest`, for a role too large to hold
    /// twice (a claimed role for a million projects): the signed bytes pass three times, in
    /// pieces, and are never held whole in memory. They are produced from the model once and
    /// kept in an unnamed scratch file beside `dest` for the later passes
    /// ([`crate::pieces::spooled`]; produced again each time where the directory does not
    /// allow one). Two passes are shared by all signers, which run in parallel, one thread
    /// each (Ed25519 hashes the message twice to sign); the third writes the file and checks
    /// every new signature over the very bytes written. `dest` is replaced only if every
    /// signature verifies; otherwise it and `self` are left as they were.
    fn sign_all_into_file(
        &mut self,
        signers: &[&(dyn Signer + Sync)],
        dest: &Path,
    ) -> Result<(), WriteSignedError>
    where
        Self: Sync;
}

impl<T: Role> SignMetadata for Metadata<T> {
    fn sign(&mut self, signer: &dyn Signer) -> Result<(), SignError> {
        let sig = sign_checked(signer, &self.signed_bytes())?;
        self.signatures.retain(|s| s.keyid != sig.keyid);
        self.signatures.push(sig);
        Ok(())
    }

    fn sign_all_into_file(
        &mut self,
        signers: &[&(dyn Signer + Sync)],
        dest: &Path,
    ) -> Result<(), WriteSignedError>
    where
        Self: Sync,
    {
        let this = &*self;
        let signatures = spooled(
            dest.parent(),
            &mut |sink| this.signed.stream_canonical(sink),
            |pass| sign_all_passes(this, signers, dest, &mut |sink| pass(sink)),
        )?;
        self.signatures = signatures;
        Ok(())
    }
}

/// [`SignMetadata::sign_all_into_file`] over the passes `pass` produces: the signatures the
/// file was written with.
fn sign_all_passes<T: Role>(
    md: &Metadata<T>,
    signers: &[&(dyn Signer + Sync)],
    dest: &Path,
    pass: &mut Produce<'_>,
) -> Result<Vec<Signature>, WriteSignedError> {
    let (raw, _) = stream::sign_all(signers, pass);
    let mut made = Vec::with_capacity(raw.len());
    for (signer, raw) in signers.iter().zip(raw) {
        made.push((signer.public_key(), raw?));
    }
    let mut signatures = md.signatures.clone();
    for (key, raw) in &made {
        let keyid = key.keyid();
        signatures.retain(|s| s.keyid != keyid);
        signatures.push(Signature {
            keyid,
            sig: hex::encode(raw),
            extra: Map::new(),
        });
    }
    let mut refused = None;
    let written = crate::fsutil::write_atomic_with(dest, &mut |out| {
        let mut failure = None;
        let checked = stream::check_all(&made, &mut |sink| {
            if let Err(e) = md.write_with(&signatures, pass, out, sink) {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        checked.map_err(|e| {
            refused = Some(e);
            std::io::Error::other("a new signature did not verify")
        })?;
        Ok(())
    });
    if let Some(e) = refused {
        return Err(e.into());
    }
    written?;
    Ok(signatures)
}
