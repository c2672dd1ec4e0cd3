//! conclave: offline key ceremonies for The Update Framework (TUF), built for PyPI.
//!
//! The library does the work and the `conclave` binary is a thin shell around it (it parses
//! arguments, prompts, opens signers, renders reports and picks exit codes), so every
//! ceremony step can be driven from tests as a function call.
//!
//! # Map
//!
//! The model and the rules, lowest first (each imports only modules above it):
//!
//! - [`pieces`]: a message handed on in pieces, passes shared by several consumers, the pass
//!   checksum and the scratch-file spool; imports nothing else of conclave.
//! - [`cjson`]: the strict JSON reader and the securesystemslib-exact canonical encoder.
//! - [`display`]: escaping untrusted text for the terminal.
//! - [`metadata`]: root, targets (with delegations and TAP 15 succinct roles), snapshot,
//!   timestamp and the signed envelope, keeping unknown fields everywhere; keys and their
//!   material ([`metadata::keyset`]); the one reader of keyids people type, whole or by
//!   prefix ([`metadata::lookup`]); and [`metadata::SignedText`], the one place that
//!   decides which bytes a signature covers. The model parses bytes or a reader and writes
//!   to a writer: it neither signs nor touches the filesystem.
//! - [`verify`]: the one threshold counter and the client's rules for root chains, timestamp,
//!   snapshot and delegations, with reports as data; revoked keys that count toward nothing
//!   ([`verify::RevokedKeys`]).
//!
//! Secrets, keys and signing:
//!
//! - [`secret`], [`memlock`]: secret types (zeroized, locked in RAM), randomness, process
//!   hardening; [`kdf`]: the Argon2id profiles; [`passphrase`]: diceware passphrases.
//! - [`signer`]: everything that can sign (in memory, passphrase-derived, PKCS#11, YubiKey),
//!   every signature checked before it is used; signing into metadata
//!   ([`signer::SignMetadata`]).
//! - [`keystore`]: the encrypted key file format.
//! - [`slip39`]: SLIP-0039 shares (Shamir's secret sharing as words) of a key's private bytes;
//!   [`ceremony::backup`]: the share cards and the check that every M of them give the key.
//! - [`attestation`]: YubiKey PIV attestation chains, PIN/touch policies and enrolment
//!   records.
//! - [`fsutil`]: crash-safe writes that never overwrite a key file, fast reads, metadata
//!   files read in pieces and written streamed.
//!
//! Ceremonies:
//!
//! - [`ceremony`]: plans and policy, expiry bounds ([`ceremony::expiry`]), genesis and rotation
//!   planning, root drafting, the signing request and the signing round, detached signatures,
//!   the signature files found for a draft ([`ceremony::gather`]), merge and status, reviews,
//!   revocation and its record ([`ceremony::revoked`]), the transcript, export and the
//!   rehearsal.
//! - [`pypi`]: PEP 458 bins and PEP 480 claimed / recently-claimed / unclaimed layouts and
//!   claim rounds.
//! - [`optical`]: signatures and request digests as QR codes and short texts.
//! - [`airgap`]: the air-gap check.
//! - `par` (private): how many threads parallel work uses.
//!
//! Building and signing a root, then verifying it:
//!
//! ```
//! use std::collections::BTreeMap;
//! use conclave::metadata::*;
//! use conclave::signer::{Ed25519Signer, SignMetadata, Signer};
//!
//! let officer = Ed25519Signer::from_seed(&[1; 32]);
//! let key = officer.public_key().clone();
//! let id = key.keyid();
//! let one = Threshold::new(1).unwrap();
//! let roles = ["root", "targets", "snapshot", "timestamp"]
//!     .into_iter()
//!     .map(|r| (r.to_string(), RoleKeys::new(vec![id.clone()], one)))
//!     .collect();
//! let root = Root {
//!     common: Common::first(Expires::parse("2100-01-01T00:00:00Z").unwrap()),
//!     consistent_snapshot: Some(true),
//!     keys: BTreeMap::from([(id, key)]),
//!     roles,
//!     extra: Default::default(),
//! };
//! let mut md = Metadata::new(root);
//! md.sign(&officer).unwrap();
//!
//! let file = conclave::verify::InputFile { name: "1.root.json".into(), bytes: md.to_file_bytes() };
//! let report = conclave::verify::verify_repository(&[file], None, Expires::now());
//! assert!(report.is_ok(), "{:?}", report.problems);
//! ```

// `deny`, not `forbid`: `memlock` alone opts out, for `mlock`/`munlock` and Argon2's block
// memory (`mmap`/`munmap`; see its docs).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod airgap;
pub mod attestation;
pub mod ceremony;
pub mod cjson;
pub mod compat;
pub mod display;
pub mod fsutil;
pub mod kdf;
pub mod keystore;
pub mod memlock;
pub mod metadata;
pub mod optical;
mod par;
pub mod passphrase;
pub mod pieces;
pub mod pypi;
pub mod secret;
pub mod signer;
pub mod slip39;
pub mod verify;
