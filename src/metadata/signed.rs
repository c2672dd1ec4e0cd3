//! The bytes a signature covers: the one place they are decided.
//!
//! A TUF signature covers the canonical JSON form of the `signed` object (spec 4.2, "Meta
//! format"; securesystemslib's `encode_canonical`). conclave computes those bytes from its
//! model of the metadata, never from a file's text: the model keeps every field, known or
//! not, so its canonical form is exactly what python-tuf hashes, and what conclave verifies
//! or signs is then exactly what it acts on and writes. An attacker who hands an officer a
//! file whose text says one thing and whose model says another gains nothing: only the
//! model's bytes are ever signed, shown (as the payload digest) or checked.
//!
//! Small roles hold their bytes ([`SignedText::Bytes`]); a large targets role (a claimed role
//! for a million projects: 378 MB) hands them on in pieces each time they are needed
//! ([`SignedText::Pieces`], through [`Role::stream_canonical`]), and is never held whole. The
//! two producers give the same bytes (`canonical.rs` tests, the `metadata` fuzz target);
//! which one is used is decided here, by [`SignedText::of_metadata`], for every command.

use std::borrow::Cow;

use crate::metadata::{AnyMetadata, DelegationRoles, Metadata, Role};
use crate::pieces::{Message, PiecesError};

/// Targets metadata with at least this many delegated roles and keys has its signed bytes
/// handed on in pieces rather than held: about 12 MB of canonical JSON, past which holding
/// them beside the model costs more memory than producing them again costs time.
pub const PIECES_MIN_ENTRIES: usize = 32_768;

impl<T: Role> Metadata<T> {
    /// The exact bytes signatures cover, held whole: the canonical form of `signed`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.signed.write_canonical(&mut out);
        out
    }
}

impl AnyMetadata {
    /// [`Metadata::signed_bytes`], held whole. For metadata of any size, prefer
    /// [`SignedText::of_metadata`], which does not hold a large role's bytes.
    pub fn signed_bytes(&self) -> Vec<u8> {
        match self {
            AnyMetadata::Root(m) => m.signed_bytes(),
            AnyMetadata::Targets(m) => m.signed_bytes(),
            AnyMetadata::Snapshot(m) => m.signed_bytes(),
            AnyMetadata::Timestamp(m) => m.signed_bytes(),
        }
    }

    /// Whether this is a role large enough to have its signed bytes handed on in pieces.
    fn is_large(&self) -> bool {
        match self {
            AnyMetadata::Targets(m) => m.signed.delegations.as_ref().is_some_and(|d| {
                let roles = match &d.roles {
                    DelegationRoles::List(roles) => roles.len(),
                    DelegationRoles::Succinct(_) => 0,
                };
                d.keys.len() + roles >= PIECES_MIN_ENTRIES
            }),
            _ => false,
        }
    }
}

/// The bytes a signature covers: held, or produced from a model in pieces.
pub enum SignedText<'a> {
    /// Held whole in memory.
    Bytes(Cow<'a, [u8]>),
    /// The canonical form of a large role's `signed`, produced from the model in pieces each
    /// time it is fed: a million-project claimed role is never held whole.
    Pieces(&'a AnyMetadata),
}

impl<'a> SignedText<'a> {
    /// The bytes signatures over `md` cover (the one decision between holding them and
    /// producing them in pieces).
    pub fn of_metadata(md: &'a AnyMetadata) -> SignedText<'a> {
        if md.is_large() {
            SignedText::Pieces(md)
        } else {
            SignedText::Bytes(Cow::Owned(md.signed_bytes()))
        }
    }

    /// Bytes in memory that a signature covers (a transcript head, a test's message).
    pub fn of(bytes: &'a [u8]) -> SignedText<'a> {
        SignedText::Bytes(Cow::Borrowed(bytes))
    }

    /// Hand the bytes to `sink`: whole, or in pieces produced from the model.
    pub fn feed(&self, sink: &mut dyn FnMut(&[u8])) {
        match self {
            SignedText::Bytes(b) => sink(b),
            SignedText::Pieces(md) => produce(md, sink),
        }
    }

    /// The bytes, when they are held whole.
    pub fn held(&self) -> Option<&[u8]> {
        match self {
            SignedText::Bytes(b) => Some(b),
            SignedText::Pieces(_) => None,
        }
    }

    /// Lowercase hex SHA-256 of the bytes: the payload digest officers read aloud (the one
    /// computation of it).
    ///
    /// A large role's bytes are produced on this thread and hashed on another, as each takes
    /// about as long as the other (0.15 s each at a million projects).
    pub fn sha256_hex(&self) -> String {
        use sha2::Digest as _;
        let sequential = || {
            let mut h = sha2::Sha256::new();
            self.feed(&mut |b| h.update(b));
            hex::encode(h.finalize())
        };
        let SignedText::Pieces(md) = self else {
            return sequential();
        };
        let hasher: crate::pieces::Consumer<'_, Option<String>> = Box::new(|m| {
            let mut h = sha2::Sha256::new();
            Message::feed(m, &mut |b| h.update(b)).ok()?;
            Some(hex::encode(h.finalize()))
        });
        let (mut digests, _) =
            crate::pieces::broadcast(vec![hasher], 1, &mut |_, sink| produce(md, sink));
        // A pass the hashing thread did not get whole (not expected: the producer is this
        // process's own model) is hashed again here.
        digests.pop().flatten().unwrap_or_else(sequential)
    }

    /// All the bytes at once: produced and held, if they come in pieces (a rare need, such
    /// as comparing two copies of a file).
    pub fn whole(&self) -> Cow<'_, [u8]> {
        match self {
            SignedText::Bytes(b) => Cow::Borrowed(b),
            SignedText::Pieces(md) => {
                let mut all = Vec::new();
                produce(md, &mut |b| all.extend_from_slice(b));
                Cow::Owned(all)
            }
        }
    }
}

impl Message for SignedText<'_> {
    fn feed(&self, sink: &mut dyn FnMut(&[u8])) -> Result<(), PiecesError> {
        SignedText::feed(self, sink);
        Ok(())
    }
}

/// The canonical form of `md`'s `signed`, produced once into `sink`, in pieces for targets
/// ([`Role::stream_canonical`]).
fn produce(md: &AnyMetadata, sink: &mut dyn FnMut(&[u8])) {
    match md {
        AnyMetadata::Targets(m) => m.signed.stream_canonical(sink),
        other => sink(&other.signed_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{
        Common, DelegatedRole, Delegations, Expires, Key, RoleName, RolePaths, SmallStr,
        SpecVersion, Targets, Threshold, Version,
    };
    use std::collections::BTreeMap;

    fn targets(projects: usize) -> AnyMetadata {
        let key = Key::ed25519(&[7; 32]);
        let id = key.keyid();
        let roles = (0..projects)
            .map(|i| DelegatedRole {
                name: RoleName::delegated(&format!("p{i}")).unwrap(),
                keyids: vec![id.clone()],
                threshold: Threshold::new(1).unwrap(),
                terminating: Some(true),
                paths: RolePaths::Patterns(vec![SmallStr::from(format!("p{i}/*").as_str())]),
                extra: Default::default(),
            })
            .collect();
        let t = Targets {
            common: Common {
                spec_version: SpecVersion::new("1.0.31").unwrap(),
                version: Version::new(2).unwrap(),
                expires: Expires::parse("2030-01-01T00:00:00Z").unwrap(),
            },
            targets: BTreeMap::new(),
            delegations: Some(Delegations {
                keys: BTreeMap::from([(id, key)]),
                roles: DelegationRoles::List(roles),
                extra: Default::default(),
            }),
            extra: Default::default(),
        };
        AnyMetadata::Targets(Metadata::new(t))
    }

    #[test]
    fn small_roles_hold_their_bytes_and_large_ones_produce_the_same_bytes_in_pieces() {
        let small = targets(3);
        let text = SignedText::of_metadata(&small);
        assert_eq!(text.held(), Some(&small.signed_bytes()[..]));
        let large = targets(PIECES_MIN_ENTRIES);
        let text = SignedText::of_metadata(&large);
        assert!(text.held().is_none(), "a large role is not held");
        let mut pieces = 0;
        let mut all = Vec::new();
        text.feed(&mut |p| {
            pieces += 1;
            all.extend_from_slice(p);
        });
        assert!(pieces > 1, "produced in pieces");
        assert_eq!(all, large.signed_bytes());
        assert_eq!(*text.whole(), all[..]);
        use sha2::Digest as _;
        assert_eq!(text.sha256_hex(), hex::encode(sha2::Sha256::digest(&all)));
    }
}
