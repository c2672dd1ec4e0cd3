//! conclave: offline key ceremonies for The Update Framework (TUF), built for PyPI.
//!
//! The library does the work and the `conclave` binary is a thin shell around it, so every
//! ceremony step can be driven from tests as a function call.
//!
//! - [`cjson`]: the strict JSON reader and the securesystemslib-exact canonical encoder;
//! - [`metadata`]: root, targets (with delegations and TAP 15 succinct roles), snapshot,
//!   timestamp and the signed envelope, keeping unknown fields everywhere;
//! - [`verify`]: the one verification engine (threshold counting, root chains, delegations);
//! - [`signer`]: everything that can sign, each signature checked before it is used.
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
//!     common: Common {
//!         spec_version: SpecVersion::new(SPEC_VERSION).unwrap(),
//!         version: Version::new(1).unwrap(),
//!         expires: Expires::parse("2100-01-01T00:00:00Z").unwrap(),
//!     },
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

// `deny`, not `forbid`: `memlock` alone opts out, for `mlock`/`munlock` (see its docs).
#![deny(unsafe_code)]

pub mod airgap;
pub mod attestation;
pub mod ceremony;
pub mod cjson;
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
pub mod verify;
