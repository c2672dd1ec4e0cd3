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
//! Supported: the chain above, which every YubiKey 4.3+ and YubiKey 5 before firmware 5.7.4
//! carries; RSA PKCS#1 v1.5 (SHA-256/384/512, 2048–4096 bits) and ECDSA P-256/P-384
//! (SHA-256/384) signatures. Not supported: YubiKeys with firmware 5.7.4 or later whose f9
//! certificate is issued by an intermediate ("Yubico PIV Attestation B 1" under "Yubico
//! Attestation Root 1"): the enrolment record holds two certificates, not the intermediates,
//! and no real certificates of that generation were available to test against. Such a chain
//! is refused with [`AttestationError::WrongIssuer`] naming the intermediate.

mod chain;
mod policy;
mod record;

pub use chain::{
    Anchor, AttestationError, AttestationReport, Certificate, Firmware, FormFactor, Which,
    YUBICO_PIV_ROOT_PEM, YUBICO_PIV_ROOT_SHA256, slot_name, verify_chain,
};
pub use policy::{PinPolicy, TouchPolicy};
pub use record::{
    ALGORITHM_P256, DEVICE_YUBIKEY_PIV, EnrolmentRecord, FORMAT_VERSION, RecordError,
    RecordMismatch, check_expected_serial, record_path,
};
