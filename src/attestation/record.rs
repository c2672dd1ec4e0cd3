//! The YubiKey enrolment record: what `key generate --yubikey` writes beside the public key,
//! and what `key attest` checks on another machine.
//!
//! Format (docs/formats.md, "YubiKey enrolment record"): pretty-printed JSON with exactly the
//! fields of [`EnrolmentRecord`]; `conclave_enrolment` is 1 and `device` is `yubikey-piv`.
//! Unknown fields are refused: nothing in a record may be read by a human but ignored by the
//! check.
//!
//! [`EnrolmentRecord::new`] makes a record at enrolment and reads it back through the one
//! reader, so a record conclave writes is always one `key attest` reads;
//! [`EnrolmentRecord::verify`] is the one place a record is compared with its attestation.

use std::path::{Path, PathBuf};

use super::chain::{
    self, Anchor, AttestationError, AttestationReport, Certificate, Firmware, Which,
};
use super::pki;
use super::policy::{PinPolicy, TouchPolicy};
use crate::cjson::{self, Map, Value};
use crate::metadata::fields::{self, Fields};
use crate::metadata::{Expires, FormatError, Key, KeyAlgorithm, KeyId};

/// The format version this code reads and writes.
pub const FORMAT_VERSION: i64 = 1;
/// The only device kind so far.
pub const DEVICE_YUBIKEY_PIV: &str = "yubikey-piv";
/// The only key algorithm a YubiKey enrolment makes (TUF `ecdsa-sha2-nistp256`).
pub const ALGORITHM_P256: &str = "ecdsa-p256";

/// A parsed enrolment record. Every field is checked for form when read; whether it is
/// *true* is [`EnrolmentRecord::verify`]'s job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRecord {
    /// The YubiKey's serial number; must equal the attested one.
    pub serial: u32,
    /// PIV slot number, e.g. 0x9c.
    pub slot: u8,
    /// The firmware version; must equal the attested one.
    pub firmware: Firmware,
    /// The key algorithm; always [`ALGORITHM_P256`].
    pub algorithm: String,
    /// The slot's PIN policy; `default` matches the slot's default as attested.
    pub pin_policy: PinPolicy,
    /// The slot's touch policy; `default` matches the slot's default as attested.
    pub touch_policy: TouchPolicy,
    /// The TUF keyid of `public_key` (TUF spec §4.2); must be the one computed from it.
    pub keyid: KeyId,
    /// The key as TUF metadata will list it; must be the attested key.
    pub public_key: Key,
    /// PEM, as returned by the YubiKey's ATTEST instruction (INS 0xF9).
    pub slot_certificate: String,
    /// PEM, the f9 slot's certificate (object 5FFF01).
    pub device_certificate: String,
    /// PEM, the intermediates between the device certificate and the root, from the device
    /// certificate up: the chain the record was made with (Yubico's published intermediates
    /// for firmware 5.7.4 and later; none before). `None` in records written before conclave
    /// kept them; the built-in ones are searched then.
    pub intermediates: Option<Vec<String>>,
    /// When the record was made, as the writer's clock said; not checked against anything.
    pub created: Expires,
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The file is not JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] cjson::ParseError),
    /// The JSON is not a record: a field missing, unknown, of the wrong type or form, or a
    /// version or device this code does not read.
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// Why a record does not hold: its attestation chain fails, or the chain says something
/// other than the record (or than the serial the officer expects).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordMismatch {
    /// The record's certificates do not form a valid chain to the anchor.
    #[error(transparent)]
    Chain(#[from] AttestationError),
    /// The attestation is for another YubiKey than the one the officer expects (the serial
    /// printed on the device in hand): a record copied from another device.
    #[error(
        "serial mismatch: the attestation is for YubiKey {attested}, the expected serial is \
         {expected}"
    )]
    ExpectedSerial {
        /// The serial in the slot certificate.
        attested: u32,
        /// The serial the officer expects.
        expected: u32,
    },
    /// The record's serial is not the attested one.
    #[error("serial mismatch: the attestation is for YubiKey {attested}, the record says {record}")]
    Serial {
        /// The serial in the slot certificate.
        attested: u32,
        /// The serial in the record.
        record: u32,
    },
    /// The record's slot is not the one the slot certificate names.
    #[error("slot mismatch: the attestation is for slot {attested}, the record says {record:02x}")]
    Slot {
        /// The attested slot in hex, or the slot certificate's subject when it names none.
        attested: String,
        /// The slot in the record.
        record: u8,
    },
    /// The record's public key is not the attested key: the record claims hardware backing
    /// for a key the device did not generate. `attested` is the attested key's keyid, or its
    /// type when it is no TUF key.
    #[error(
        "public key mismatch: the attested key (keyid {attested}) is not the record's public_key (keyid {record})"
    )]
    PublicKey {
        /// The attested key's keyid, or its type.
        attested: String,
        /// The keyid of the record's public key.
        record: KeyId,
    },
    /// The record's `keyid` is not the keyid of its own `public_key`.
    #[error("keyid mismatch: the record says {record}, its public_key's keyid is {computed}")]
    KeyId {
        /// The keyid written in the record.
        record: KeyId,
        /// The keyid computed from the record's public key.
        computed: KeyId,
    },
    /// The record's PIN policy is not the attested one (e.g. it says `always` for a key the
    /// device lets sign without a PIN).
    #[error("PIN policy mismatch: the attestation says {attested}, the record says {record}")]
    PinPolicy {
        /// The policy in the slot certificate.
        attested: PinPolicy,
        /// The policy in the record.
        record: PinPolicy,
    },
    /// The record's touch policy is not the attested one.
    #[error("touch policy mismatch: the attestation says {attested}, the record says {record}")]
    TouchPolicy {
        /// The policy in the slot certificate.
        attested: TouchPolicy,
        /// The policy in the record.
        record: TouchPolicy,
    },
    /// The record's firmware version is not the attested one.
    #[error("firmware mismatch: the attestation says {attested}, the record says {record}")]
    Firmware {
        /// The firmware in the slot certificate.
        attested: Firmware,
        /// The firmware in the record.
        record: Firmware,
    },
}

/// The expected serial (the one printed on the device the officer holds), if given, must be
/// the attested one.
pub fn check_expected_serial(
    report: &AttestationReport,
    expected: Option<u32>,
) -> Result<(), RecordMismatch> {
    match expected {
        Some(expected) if report.serial != expected => Err(RecordMismatch::ExpectedSerial {
            attested: report.serial,
            expected,
        }),
        _ => Ok(()),
    }
}

fn bad(path: &str, problem: impl std::fmt::Display) -> FormatError {
    FormatError::new(path, problem)
}

impl EnrolmentRecord {
    /// The record of a key just generated and attested on a YubiKey. The certificates are
    /// DER, as the device returns them. The record is read back through [`Self::from_value`],
    /// so what enrolment writes is exactly what `key attest` reads; a record it would refuse
    /// (e.g. a policy the format has no word for) is an error here, before anything is written.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        serial: u32,
        slot: u8,
        firmware: Firmware,
        pin_policy: PinPolicy,
        touch_policy: TouchPolicy,
        public_key: Key,
        slot_certificate: &[u8],
        device_certificate: &[u8],
        created: Expires,
    ) -> Result<Self, FormatError> {
        let intermediates = published_path(device_certificate)
            .into_iter()
            .map(|c| certificate_pem(c.der(), "attestation.intermediates"))
            .collect::<Result<Vec<_>, _>>()?;
        let record = EnrolmentRecord {
            serial,
            slot,
            firmware,
            algorithm: ALGORITHM_P256.into(),
            pin_policy,
            touch_policy,
            keyid: public_key.keyid(),
            public_key,
            slot_certificate: certificate_pem(slot_certificate, "attestation.slot_certificate")?,
            device_certificate: certificate_pem(
                device_certificate,
                "attestation.device_certificate",
            )?,
            intermediates: Some(intermediates),
            created,
        };
        Self::from_value(record.to_value())
    }

    /// Read a record from its file bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let value = cjson::parse(bytes)?;
        Ok(Self::from_value(value)?)
    }

    /// Read a record from parsed JSON, checking every field's form; unknown fields are
    /// refused.
    pub fn from_value(value: Value) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, "")?;
        let version = f.int("conclave_enrolment")?;
        if version != FORMAT_VERSION {
            return Err(bad(
                "conclave_enrolment",
                format!("is {version}; this conclave reads version {FORMAT_VERSION}"),
            ));
        }
        let device = f.string("device")?;
        if device != DEVICE_YUBIKEY_PIV {
            return Err(bad(
                "device",
                format!(
                    "is \"{}\", expected \"{DEVICE_YUBIKEY_PIV}\"",
                    crate::display::escape(&device)
                ),
            ));
        }
        let serial = f.int("serial")?;
        let serial = u32::try_from(serial)
            .map_err(|_| bad("serial", format!("{serial} is not a YubiKey serial number")))?;
        let slot_text = f.string("slot")?;
        let slot = parse_slot(&slot_text).ok_or_else(|| {
            bad(
                "slot",
                format!(
                    "\"{}\" is not two lowercase hex digits (e.g. \"9c\")",
                    crate::display::escape(&slot_text)
                ),
            )
        })?;
        let fw_text = f.string("firmware")?;
        let firmware = Firmware::parse(&fw_text).ok_or_else(|| {
            bad(
                "firmware",
                format!(
                    "\"{}\" is not a version like \"5.4.3\"",
                    crate::display::escape(&fw_text)
                ),
            )
        })?;
        let algorithm = f.string("algorithm")?;
        if algorithm != ALGORITHM_P256 {
            return Err(bad(
                "algorithm",
                format!(
                    "is \"{}\"; YubiKey keys are \"{ALGORITHM_P256}\"",
                    crate::display::escape(&algorithm)
                ),
            ));
        }
        let pin_text = f.string("pin_policy")?;
        let pin_policy = PinPolicy::parse(&pin_text).ok_or_else(|| {
            bad(
                "pin_policy",
                format!(
                    "\"{}\" is not one of once, always, never, default",
                    crate::display::escape(&pin_text)
                ),
            )
        })?;
        let touch_text = f.string("touch_policy")?;
        let touch_policy = TouchPolicy::parse(&touch_text).ok_or_else(|| {
            bad(
                "touch_policy",
                format!(
                    "\"{}\" is not one of always, cached, never, default",
                    crate::display::escape(&touch_text)
                ),
            )
        })?;
        let keyid_text = f.string("keyid")?;
        let keyid = KeyId::new(&keyid_text).map_err(|e| bad("keyid", e.to_string()))?;
        let public_key = Key::from_value(f.required("public_key")?, "public_key")?;
        if public_key.algorithm() != Some(KeyAlgorithm::EcdsaP256) {
            return Err(bad(
                "public_key",
                format!(
                    "is a {}/{} key; a YubiKey enrolment holds an ecdsa/ecdsa-sha2-nistp256 key",
                    crate::display::escape(&public_key.keytype),
                    crate::display::escape(&public_key.scheme)
                ),
            ));
        }
        public_key
            .identity()
            .map_err(|e| bad("public_key", e.to_string()))?;
        let mut att = Fields::new(f.required("attestation")?, "attestation")?;
        let slot_certificate = att.string("slot_certificate")?;
        let device_certificate = att.string("device_certificate")?;
        let intermediates = att.opt_string_list("intermediates")?;
        if intermediates.as_ref().is_some_and(|l| l.len() > 4) {
            return Err(bad(
                "attestation.intermediates",
                "lists more than 4 certificates; Yubico's chains have at most 2",
            ));
        }
        refuse_rest(att, "attestation")?;
        let created_text = f.string("created")?;
        let created = Expires::parse(&created_text).map_err(|e| bad("created", e))?;
        refuse_rest(f, "")?;
        Ok(EnrolmentRecord {
            serial,
            slot,
            firmware,
            algorithm,
            pin_policy,
            touch_policy,
            keyid,
            public_key,
            slot_certificate,
            device_certificate,
            intermediates,
            created,
        })
    }

    /// The record as JSON, fields as docs/formats.md lists them.
    pub fn to_value(&self) -> Value {
        let mut att = Map::new();
        att.insert(
            "slot_certificate".into(),
            self.slot_certificate.as_str().into(),
        );
        att.insert(
            "device_certificate".into(),
            self.device_certificate.as_str().into(),
        );
        if let Some(list) = &self.intermediates {
            att.insert(
                "intermediates".into(),
                Value::Array(list.iter().map(|p| p.as_str().into()).collect()),
            );
        }
        let mut m = Map::new();
        m.insert("conclave_enrolment".into(), FORMAT_VERSION.into());
        m.insert("device".into(), DEVICE_YUBIKEY_PIV.into());
        m.insert("serial".into(), i64::from(self.serial).into());
        m.insert("slot".into(), format!("{:02x}", self.slot).into());
        m.insert("firmware".into(), self.firmware.to_string().into());
        m.insert("algorithm".into(), self.algorithm.as_str().into());
        m.insert("pin_policy".into(), self.pin_policy.to_string().into());
        m.insert("touch_policy".into(), self.touch_policy.to_string().into());
        m.insert("keyid".into(), self.keyid.as_str().into());
        m.insert("public_key".into(), self.public_key.to_value());
        m.insert("attestation".into(), Value::Object(att));
        m.insert("created".into(), self.created.to_string().into());
        Value::Object(m)
    }

    /// The file bytes: pretty-printed JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        cjson::to_pretty(&self.to_value())
    }

    /// Check the record: its attestation chain against `anchor`, then that the chain attests
    /// exactly what the record says (serial, slot, public key, keyid, policies, firmware).
    /// `expected_serial` is the serial the officer was told to expect, if any.
    pub fn verify(
        &self,
        anchor: &Anchor,
        expected_serial: Option<u32>,
        now: i64,
    ) -> Result<AttestationReport, RecordMismatch> {
        let slot_cert = Certificate::from_pem(&self.slot_certificate, Which::Slot)?;
        let device_cert = Certificate::from_pem(&self.device_certificate, Which::Device)?;
        let intermediates = match &self.intermediates {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, pem)| Certificate::from_pem(pem, Which::Intermediate(i as u8 + 1)))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let report = chain::verify_chain_with(
            &slot_cert,
            &device_cert,
            intermediates.as_deref(),
            anchor,
            now,
        )?;
        check_expected_serial(&report, expected_serial)?;
        if report.serial != self.serial {
            return Err(RecordMismatch::Serial {
                attested: report.serial,
                record: self.serial,
            });
        }
        if report.slot != Some(self.slot) {
            return Err(RecordMismatch::Slot {
                attested: report
                    .slot
                    .map_or_else(|| report.slot_subject.clone(), |s| format!("{s:02x}")),
                record: self.slot,
            });
        }
        let computed = self.public_key.keyid();
        // Compared as key material (one keyid function, one key identity), so a record that
        // spells the same key differently is not mistaken for another key, and vice versa.
        let same_key = match (
            report.public_key.as_ref().map(|k| k.identity()),
            self.public_key.identity(),
        ) {
            (Some(Ok(attested)), Ok(recorded)) => attested == recorded,
            _ => false,
        };
        if !same_key {
            return Err(RecordMismatch::PublicKey {
                attested: report.public_key.as_ref().map_or_else(
                    || report.public_key_type.clone(),
                    |k| k.keyid().to_raw_string(),
                ),
                record: computed,
            });
        }
        if computed != self.keyid {
            return Err(RecordMismatch::KeyId {
                record: self.keyid.clone(),
                computed,
            });
        }
        if !pin_matches(self.pin_policy, report.pin_policy, self.slot) {
            return Err(RecordMismatch::PinPolicy {
                attested: report.pin_policy,
                record: self.pin_policy,
            });
        }
        if !touch_matches(self.touch_policy, report.touch_policy, self.slot) {
            return Err(RecordMismatch::TouchPolicy {
                attested: report.touch_policy,
                record: self.touch_policy,
            });
        }
        if report.firmware != self.firmware {
            return Err(RecordMismatch::Firmware {
                attested: report.firmware,
                record: self.firmware,
            });
        }
        Ok(report)
    }
}

/// `default` in a record matches the slot's default policy (which is what a YubiKey reports
/// once the key exists) or a certificate that itself says "default".
fn pin_matches(record: PinPolicy, attested: PinPolicy, slot: u8) -> bool {
    match record {
        PinPolicy::Default => {
            attested == PinPolicy::Default || attested == PinPolicy::slot_default(slot)
        }
        r => r == attested,
    }
}

fn touch_matches(record: TouchPolicy, attested: TouchPolicy, slot: u8) -> bool {
    match record {
        TouchPolicy::Default => {
            attested == TouchPolicy::Default || attested == TouchPolicy::slot_default(slot)
        }
        r => r == attested,
    }
}

/// Where the record goes for a public key file: its last extension replaced by
/// `.enrolment.json` (alice.pub.json -> alice.pub.enrolment.json; alice.pub ->
/// alice.enrolment.json; alice -> alice.enrolment.json).
pub fn record_path(pubfile: &Path) -> PathBuf {
    let stem = pubfile
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    pubfile.with_file_name(format!("{stem}.enrolment.json"))
}

/// The published intermediates above a device certificate (DER), when it chains to one of
/// Yubico's roots through them; none otherwise (an older YubiKey, an emulator's test CA, or
/// certificates that do not verify, which `key attest` will then say).
fn published_path(device_der: &[u8]) -> Vec<Certificate> {
    let path = || -> Result<Vec<Certificate>, AttestationError> {
        let device = Certificate::from_der(device_der, Which::Device)?;
        let roots = pki::yubico_roots()?;
        let pool = pki::Intermediates::Pool(pki::yubico_intermediates()?);
        Ok(pki::build_path(&device, &roots, pool, true)?.0)
    };
    path().unwrap_or_default()
}

/// PEM ("CERTIFICATE", LF line endings, 64 columns) of a DER certificate.
fn certificate_pem(der: &[u8], path: &str) -> Result<String, FormatError> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
        .map_err(|e| bad(path, format!("cannot be encoded as PEM ({e})")))
}

fn parse_slot(s: &str) -> Option<u8> {
    let ok = s.len() == 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then(|| u8::from_str_radix(s, 16).ok()).flatten()
}

fn refuse_rest(f: Fields, path: &str) -> Result<(), FormatError> {
    if let Some(name) = f.rest().keys().next() {
        return Err(bad(
            &fields::join(path, name),
            "unknown field (an enrolment record has exactly the documented fields)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_defaults() {
        assert_eq!(parse_slot("9c"), Some(0x9c));
        for bad in ["9C", "9", "09c", "g0", ""] {
            assert_eq!(parse_slot(bad), None);
        }
        assert!(pin_matches(PinPolicy::Default, PinPolicy::Always, 0x9c));
        assert!(!pin_matches(PinPolicy::Default, PinPolicy::Never, 0x9c));
        assert!(pin_matches(PinPolicy::Default, PinPolicy::Once, 0x9a));
        assert!(!pin_matches(PinPolicy::Once, PinPolicy::Always, 0x9a));
        assert!(touch_matches(
            TouchPolicy::Default,
            TouchPolicy::Never,
            0x9c
        ));
        assert!(!touch_matches(
            TouchPolicy::Default,
            TouchPolicy::Always,
            0x9c
        ));
    }

    #[test]
    fn record_paths() {
        assert_eq!(
            record_path(Path::new("keys/alice.pub.json")),
            Path::new("keys/alice.pub.enrolment.json")
        );
        assert_eq!(
            record_path(Path::new("alice.pub")),
            Path::new("alice.enrolment.json")
        );
        assert_eq!(
            record_path(Path::new("alice")),
            Path::new("alice.enrolment.json")
        );
    }

    fn fresh(pin_policy: PinPolicy) -> Result<EnrolmentRecord, FormatError> {
        let sk = p256::SecretKey::from_slice(&[0x22; 32]).unwrap();
        EnrolmentRecord::new(
            12345678,
            0x9c,
            Firmware(5, 4, 3),
            pin_policy,
            TouchPolicy::Cached,
            Key::ecdsa_p256(&sk.public_key()),
            &[0x30, 0x00],
            &[0x30, 0x01, 0x00],
            Expires::parse("2026-11-30T12:00:00Z").unwrap(),
        )
    }

    #[test]
    fn new_record_has_exactly_the_contract_fields() {
        let record = fresh(PinPolicy::Once).unwrap();
        let v = record.to_value();
        let m = v.as_object().unwrap();
        let fields: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "algorithm",
                "attestation",
                "conclave_enrolment",
                "created",
                "device",
                "firmware",
                "keyid",
                "pin_policy",
                "public_key",
                "serial",
                "slot",
                "touch_policy"
            ]
        );
        assert_eq!(m["serial"], Value::Int(12345678));
        assert_eq!(m["slot"].as_str(), Some("9c"));
        assert_eq!(m["firmware"].as_str(), Some("5.4.3"));
        assert_eq!(m["pin_policy"].as_str(), Some("once"));
        assert_eq!(m["touch_policy"].as_str(), Some("cached"));
        assert_eq!(m["created"].as_str(), Some("2026-11-30T12:00:00Z"));
        assert_eq!(
            m["keyid"].as_str(),
            Some(&*record.public_key.keyid().as_str())
        );
        let att = m["attestation"].as_object().unwrap();
        assert!(
            att["slot_certificate"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----\nMAA=\n")
        );
        assert_eq!(EnrolmentRecord::parse(&record.to_bytes()).unwrap(), record);
    }

    #[test]
    fn a_record_key_attest_would_refuse_is_not_made() {
        let e = fresh(PinPolicy::MatchOnce).unwrap_err();
        assert_eq!(e.path, "pin_policy");
    }

    #[test]
    fn wrong_shapes_are_format_errors() {
        for (json, path) in [
            (r#"[]"#, "(top level)"),
            (r#"{"conclave_enrolment":2}"#, "conclave_enrolment"),
            (r#"{"conclave_enrolment":1,"device":"nitrokey"}"#, "device"),
            (
                r#"{"conclave_enrolment":1,"device":"yubikey-piv","serial":-1}"#,
                "serial",
            ),
        ] {
            match EnrolmentRecord::parse(json.as_bytes()) {
                Err(RecordError::Format(e)) => assert_eq!(e.path, path, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
    }
}
