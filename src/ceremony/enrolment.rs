//! The YubiKey enrolment record: what `key generate --yubikey` writes beside the public key,
//! and what `key attest` checks on another machine.
//!
//! Format (docs/formats.md, "YubiKey enrolment record"): pretty-printed JSON with exactly the
//! fields of [`EnrolmentRecord`]; `conclave_enrolment` is 1 and `device` is `yubikey-piv`.
//! Unknown fields are refused: nothing in a record may be read by a human but ignored by the
//! check.
//!
//! [`EnrolmentRecord::verify`] is the one place a record is compared with its attestation.

use crate::attestation::{
    self, Anchor, AttestationError, AttestationReport, Certificate, Firmware, PinPolicy,
    TouchPolicy, Which,
};
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
    pub serial: u32,
    pub slot: u8,
    pub firmware: Firmware,
    pub algorithm: String,
    pub pin_policy: PinPolicy,
    pub touch_policy: TouchPolicy,
    pub keyid: KeyId,
    pub public_key: Key,
    /// PEM, as returned by the YubiKey's ATTEST instruction.
    pub slot_certificate: String,
    /// PEM, the f9 slot's certificate.
    pub device_certificate: String,
    pub created: Expires,
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("not valid JSON: {0}")]
    Json(#[from] cjson::ParseError),
    #[error("{0}")]
    Format(#[from] FormatError),
}

/// Why a record does not hold: its attestation chain fails, or the chain says something
/// other than the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordMismatch {
    #[error(transparent)]
    Chain(#[from] AttestationError),
    #[error(
        "serial mismatch: the attestation is for YubiKey {attested}, {claimed_by} says {claimed}"
    )]
    Serial {
        attested: u32,
        claimed: u32,
        claimed_by: &'static str,
    },
    #[error("slot mismatch: the attestation is for slot {attested}, the record says {record:02x}")]
    Slot { attested: String, record: u8 },
    #[error(
        "public key mismatch: the attested key (keyid {attested}) is not the record's public_key (keyid {record})"
    )]
    PublicKey { attested: String, record: String },
    #[error("keyid mismatch: the record says {record}, its public_key's keyid is {computed}")]
    KeyId { record: String, computed: String },
    #[error("{policy} policy mismatch: the attestation says {attested}, the record says {record}")]
    Policy {
        policy: &'static str,
        attested: String,
        record: String,
    },
    #[error("firmware mismatch: the attestation says {attested}, the record says {record}")]
    Firmware {
        attested: Firmware,
        record: Firmware,
    },
}

fn bad(path: &str, problem: impl Into<String>) -> FormatError {
    FormatError::new(path, problem)
}

impl EnrolmentRecord {
    /// Read a record from its file bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let value = cjson::parse(bytes)?;
        Ok(Self::from_value(value)?)
    }

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
    /// `expected_serial` is the serial the officer was told to expect (`--serial`).
    pub fn verify(
        &self,
        anchor: &Anchor,
        expected_serial: Option<u32>,
        now: i64,
    ) -> Result<AttestationReport, RecordMismatch> {
        let slot_cert = Certificate::from_pem(&self.slot_certificate, Which::Slot)?;
        let device_cert = Certificate::from_pem(&self.device_certificate, Which::Device)?;
        let report = attestation::verify_chain(&slot_cert, &device_cert, anchor, now)?;
        if let Some(expected) = expected_serial
            && report.serial != expected
        {
            return Err(RecordMismatch::Serial {
                attested: report.serial,
                claimed: expected,
                claimed_by: "--serial",
            });
        }
        if report.serial != self.serial {
            return Err(RecordMismatch::Serial {
                attested: report.serial,
                claimed: self.serial,
                claimed_by: "the record",
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
                attested: report
                    .public_key
                    .as_ref()
                    .map_or_else(|| report.public_key_type.clone(), |k| k.keyid().to_string()),
                record: computed.to_string(),
            });
        }
        if computed != self.keyid {
            return Err(RecordMismatch::KeyId {
                record: self.keyid.to_string(),
                computed: computed.to_string(),
            });
        }
        if !pin_matches(self.pin_policy, report.pin_policy, self.slot) {
            return Err(RecordMismatch::Policy {
                policy: "PIN",
                attested: report.pin_policy.to_string(),
                record: self.pin_policy.to_string(),
            });
        }
        if !touch_matches(self.touch_policy, report.touch_policy, self.slot) {
            return Err(RecordMismatch::Policy {
                policy: "touch",
                attested: report.touch_policy.to_string(),
                record: self.touch_policy.to_string(),
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
