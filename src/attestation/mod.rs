//! YubiKey PIV attestation: proof that a key was generated inside a particular YubiKey, and
//! the enrolment record that carries that proof from the ceremony table to anyone who checks it.
//!
//! A YubiKey's PIV applet holds, in slot f9, a "device" key and certificate put there at the
//! factory and signed by Yubico's PIV root CA. Asked to attest a slot (instruction 0xF9), the
//! device signs a fresh "slot" certificate for the key in that slot with its f9 key; the slot
//! certificate carries the device serial, firmware version and the slot's PIN and touch
//! policies in Yubico extensions (developers.yubico.com/PIV/Introduction/PIV_attestation.html).
//! Only keys generated on the device can be attested, so a chain
//!
//! ```text
//! slot certificate  <-  device (f9) certificate  <-  Yubico PIV Root CA Serial 263751
//! ```
//!
//! shows the slot key never existed outside that YubiKey.
//!
//! - [`verify_chain`] checks such a chain and returns an [`AttestationReport`] (what the
//!   certificates say, for the officer to read aloud) or one specific [`AttestationError`].
//!   It compares nothing with an enrolment record.
//! - [`EnrolmentRecord`] is the record `key generate --yubikey` writes beside the public key
//!   (docs/formats.md, "YubiKey enrolment record"); [`EnrolmentRecord::verify`] is the one
//!   place a record is compared with its attestation, which is what `key attest` runs.
//! - [`PinPolicy`] and [`TouchPolicy`] are the slot policies, as the device, the certificate
//!   and the record name them.
//!
//! Nothing here talks to a device or needs a PC/SC library, so it is compiled with or without
//! the `yubikey` feature; the device side is `crate::signer::yubikey`.
//!
//! Supported: both of Yubico's PIV attestation PKIs (pinned in `pki.rs`): the chain
//! above, which every YubiKey 4.3+ and YubiKey 5 before firmware 5.7.4 carries, and the one
//! of firmware 5.7.4 and later, whose f9 certificate is issued by "Yubico PIV Attestation
//! A 1 / B 1 / B2 1" under "Yubico Attestation Intermediate A 1 / B 1" under "Yubico
//! Attestation Root 1" (the intermediates are not on the device; conclave builds in the ones
//! Yubico publishes, and an enrolment record keeps the ones its chain used). Signatures on
//! the chain: RSA PKCS#1 v1.5 (SHA-256/384/512, 2048–4096 bits) and ECDSA P-256/P-384
//! (SHA-256/384). Attested slot keys of every type the applet makes (P-256, P-384, Ed25519,
//! X25519, RSA): the chain check does not depend on it.
//!
//! [`ysa_2024_03_affected`] says whether an attested key is one Yubico security advisory
//! YSA-2024-03 says can be cloned; `key attest` and `ceremony check` apply it.

mod chain;
mod pki;
mod policy;
mod record;

pub use chain::{
    Anchor, AttestationError, AttestationReport, AttestedKey, Certificate, Firmware, FormFactor,
    Which, slot_name, verify_chain, verify_chain_with,
};
pub use pki::{
    PublishedIntermediate, YUBICO_ATTESTATION_ROOT_1_PEM, YUBICO_ATTESTATION_ROOT_1_SHA256,
    YUBICO_PIV_INTERMEDIATES, YUBICO_PIV_ROOT_PEM, YUBICO_PIV_ROOT_SHA256,
    is_published_intermediate, yubico_intermediates,
};
pub use policy::{PinPolicy, TouchPolicy};
pub use record::{
    ALGORITHM_P256, DEVICE_YUBIKEY_PIV, EnrolmentRecord, FORMAT_VERSION, RecordError,
    RecordMismatch, check_expected_serial, record_path,
};

/// The first firmware Yubico security advisory YSA-2024-03 ("EUCLEAK", 2024-09-03) says is
/// not affected.
pub const YSA_2024_03_FIXED_IN: Firmware = Firmware(5, 7, 0);

/// Whether a key is one YSA-2024-03 says can be cloned by someone with physical access to
/// the YubiKey: an ECDSA key on a YubiKey with firmware below 5.7.0. The side channel is in
/// the ECDSA implementation of the Infineon library those firmwares use; RSA keys are not
/// affected, and Ed25519 keys exist only from 5.7 on. conclave treats every firmware below
/// 5.7.0 as affected, YubiKey 4 included, rather than rely on a list of product lines.
pub fn ysa_2024_03_affected(firmware: Firmware, key: AttestedKey) -> bool {
    key.is_ecdsa() && firmware < YSA_2024_03_FIXED_IN
}
