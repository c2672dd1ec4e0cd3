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
    ///
    /// The signature is checked before it is returned, without a third pass: during the
    /// second pass a hash of its own, on another thread, computes the challenge
    /// SHA-512(R || A || M) again from the pieces as they come, and the signature must satisfy
    /// the verification equation [S]B = R + [k]A with that independent k (what a verifier
    /// computes over the same bytes).
    fn sign_message(&self, message: &dyn crate::pieces::Message) -> Result<Vec<u8>, SignError> {
        use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
        use sha2::Digest as _;
        let secret = ed25519_dalek::SigningKey::from_bytes(self.seed.expose());
        let expanded = ExpandedSecretKey::from(self.seed.expose());
        let failure = std::cell::RefCell::new(None);
        let calls = std::cell::Cell::new(0u8);
        let twin = std::cell::RefCell::new(None);
        let signature = raw_sign_byupdate::<sha2::Sha512, _>(
            &expanded,
            |hash| {
                calls.set(calls.get() + 1);
                let fed = if calls.get() == 2 {
                    // The challenge hash: R and A are in it already.
                    let (fed, challenge) = feed_with_twin(message, hash);
                    *twin.borrow_mut() = Some(challenge);
                    fed
                } else {
                    message.feed(&mut |piece| hash.update(piece))
                };
                fed.map_err(|e| {
                    *failure.borrow_mut() = Some(e);
                    ed25519_dalek::SignatureError::new()
                })
            },
            &secret.verifying_key(),
        );
        let sig = match (signature, failure.into_inner()) {
            (Ok(sig), None) => sig,
            (_, Some(e)) => return Err(e.into()),
            (Err(e), None) => return Err(SignError::Backend(e.to_string())),
        };
        let checked = twin
            .into_inner()
            .is_some_and(|k| challenge_satisfied(&secret.verifying_key(), &sig, k));
        if !checked {
            return Err(SignError::SelfCheckFailed {
                keyid: self.public.keyid().to_string(),
                reason: "the new signature does not satisfy the verification equation".into(),
            });
        }
        Ok(sig.to_bytes().to_vec())
    }

    fn checks_message_signatures(&self) -> bool {
        true
    }
}

/// Feed one pass of `message` to `hash` on this thread and to a copy of it on another, and
/// return the copy's digest: an independent computation of the same hash, at the cost of no
/// more wall time than the pass itself where there is a second core.
fn feed_with_twin(
    message: &dyn crate::pieces::Message,
    hash: &mut sha2::Sha512,
) -> (Result<(), crate::pieces::PiecesError>, [u8; 64]) {
    use sha2::Digest as _;
    let mut copy = hash.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            for piece in rx {
                copy.update(&piece);
            }
            let digest: [u8; 64] = copy.finalize().into();
            digest
        });
        let fed = message.feed(&mut |piece| {
            hash.update(piece);
            // A worker that stopped makes the digests differ: the check then fails.
            let _ = tx.send(piece.to_vec());
        });
        drop(tx);
        // A panic in the worker: no digest, and a digest of nothing never satisfies the check.
        let digest = worker.join().unwrap_or([0; 64]);
        (fed, digest)
    })
}

/// Whether `sig` satisfies Ed25519's verification equation under `public` with the challenge
/// hash `challenge` = SHA-512(R || A || M): [S]B - [k]A = R, S canonical (ed25519-dalek's
/// verification, with k from the caller's own hash).
fn challenge_satisfied(
    public: &ed25519_dalek::VerifyingKey,
    sig: &ed25519_dalek::Signature,
    challenge: [u8; 64],
) -> bool {
    use curve25519_dalek::{EdwardsPoint, Scalar};
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*sig.s_bytes())) else {
        return false;
    };
    let k = Scalar::from_bytes_mod_order_wide(&challenge);
    let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-public.to_edwards(), &s);
    r.compress().as_bytes() == sig.r_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pieces::testing::pieces;
    use crate::pieces::{collect, serve};

    #[test]
    fn a_signature_over_pieces_is_checked_in_its_own_pass_and_equals_the_whole_one() {
        let signer = Ed25519Signer::from_seed(&[5; 32]);
        assert!(signer.checks_message_signatures());
        let raw = serve(2, &mut pieces(None), |m| signer.sign_message(m)).unwrap();
        let whole = serve(1, &mut pieces(None), |m| collect(m)).unwrap();
        assert_eq!(raw, signer.sign_raw(&whole).unwrap());
    }

    #[test]
    fn attack_a_signature_failing_the_equation_under_an_independent_challenge_is_caught() {
        use sha2::Digest as _;
        let secret = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let public = secret.verifying_key();
        let message = b"the signed bytes";
        let sig = ed25519_dalek::Signer::sign(&secret, message);
        let challenge = |m: &[u8]| -> [u8; 64] {
            let mut h = sha2::Sha512::new();
            h.update(sig.r_bytes());
            h.update(public.as_bytes());
            h.update(m);
            h.finalize().into()
        };
        assert!(challenge_satisfied(&public, &sig, challenge(message)));
        // A challenge over other bytes (a faulty hash, a pass that differed).
        assert!(!challenge_satisfied(
            &public,
            &sig,
            challenge(b"other bytes")
        ));
        // A faulty S, and a non-canonical S (S + l, which dalek refuses too).
        let mut bytes = sig.to_bytes();
        bytes[40] ^= 1;
        let faulty = ed25519_dalek::Signature::from_bytes(&bytes);
        assert!(!challenge_satisfied(&public, &faulty, challenge(message)));
        let mut wide = sig.to_bytes();
        // l = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let mut l = [0u8; 32];
        l[..16].copy_from_slice(&0x14de_f9de_a2f7_9cd6_5812_631a_5cf5_d3ed_u128.to_le_bytes());
        l[31] = 0x10;
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(wide[32 + i]) + u16::from(l[i]) + carry;
            wide[32 + i] = v as u8;
            carry = v >> 8;
        }
        let plus_l = ed25519_dalek::Signature::from_bytes(&wide);
        assert!(!challenge_satisfied(&public, &plus_l, challenge(message)));
        // Another key.
        let other = ed25519_dalek::SigningKey::from_bytes(&[6; 32]).verifying_key();
        assert!(!challenge_satisfied(&other, &sig, challenge(message)));
    }
}
