//! The enrolment record of a key generated on a YubiKey (docs/formats.md, "YubiKey enrolment
//! record"): which device and slot hold the key, under which policies, and the attestation
//! chain that proves the key was generated there. `conclave key generate --yubikey` writes it
//! beside the public key; `conclave key attest` checks it on another machine.
//!
//! This module only builds and names the record; it needs no device and no PC/SC library, so
//! it is compiled with or without the `yubikey` feature.

use std::path::{Path, PathBuf};

use crate::cjson::{Map, Value};
use crate::metadata::Key;

/// Version of the record format (the `conclave_enrolment` field).
pub const FORMAT_VERSION: i64 = 1;

/// A PIV PIN policy, as the device stores it and the record spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPolicy {
    Default,
    Never,
    Once,
    Always,
}

impl PinPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PinPolicy::Default => "default",
            PinPolicy::Never => "never",
            PinPolicy::Once => "once",
            PinPolicy::Always => "always",
        }
    }
}

/// A PIV touch policy, as the device stores it and the record spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TouchPolicy {
    Default,
    Never,
    Always,
    Cached,
}

impl TouchPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            TouchPolicy::Default => "default",
            TouchPolicy::Never => "never",
            TouchPolicy::Always => "always",
            TouchPolicy::Cached => "cached",
        }
    }

    /// Whether signing waits for a touch of the device.
    pub fn needs_touch(self) -> bool {
        matches!(self, TouchPolicy::Always | TouchPolicy::Cached)
    }
}

/// Everything the record holds.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub serial: u32,
    /// PIV slot number, e.g. 0x9c.
    pub slot: u8,
    /// Firmware version, e.g. "5.4.3".
    pub firmware: String,
    pub pin_policy: PinPolicy,
    pub touch_policy: TouchPolicy,
    pub public_key: Key,
    /// DER of the certificate the ATTEST instruction (INS 0xF9) returned for the slot.
    pub slot_certificate: Vec<u8>,
    /// DER of the device's attestation certificate (f9 slot, object 5FFF01).
    pub device_certificate: Vec<u8>,
    /// RFC 3339 UTC, e.g. 2026-11-30T12:00:00Z.
    pub created: String,
}

impl Enrolment {
    /// The record as JSON (write it with [`crate::cjson::to_pretty`]).
    pub fn to_value(&self) -> Value {
        let s = |v: &str| Value::String(v.to_owned());
        let mut attestation = Map::new();
        attestation.insert(
            "slot_certificate".into(),
            Value::String(certificate_pem(&self.slot_certificate)),
        );
        attestation.insert(
            "device_certificate".into(),
            Value::String(certificate_pem(&self.device_certificate)),
        );
        let mut m = Map::new();
        m.insert("conclave_enrolment".into(), Value::Int(FORMAT_VERSION));
        m.insert("device".into(), s("yubikey-piv"));
        m.insert("serial".into(), Value::Int(i64::from(self.serial)));
        m.insert("slot".into(), Value::String(format!("{:02x}", self.slot)));
        m.insert("firmware".into(), s(&self.firmware));
        m.insert("algorithm".into(), s("ecdsa-p256"));
        m.insert("pin_policy".into(), s(self.pin_policy.as_str()));
        m.insert("touch_policy".into(), s(self.touch_policy.as_str()));
        m.insert(
            "keyid".into(),
            Value::String(self.public_key.keyid().to_string()),
        );
        m.insert("public_key".into(), self.public_key.to_value());
        m.insert("attestation".into(), Value::Object(attestation));
        m.insert("created".into(), s(&self.created));
        Value::Object(m)
    }

    /// The record's bytes, pretty-printed. They are read back through the one record reader
    /// ([`crate::ceremony::enrolment::EnrolmentRecord`], which `key attest` uses) and written
    /// by its serialiser, so a record this backend writes is always one `key attest` reads.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let record = crate::ceremony::enrolment::EnrolmentRecord::from_value(self.to_value())
            .map_err(|e| format!("the enrolment record would not be readable: {e}"))?;
        Ok(record.to_bytes())
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

/// PEM ("CERTIFICATE", LF line endings, 64 columns) of a DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    use p256::pkcs8::der::pem::{LineEnding, encode_string};
    encode_string("CERTIFICATE", LineEnding::LF, der)
        .unwrap_or_else(|_| String::from("(certificate too large to encode)"))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn record_has_exactly_the_contract_fields() {
        let sk = p256::SecretKey::from_slice(&[0x22; 32]).unwrap();
        let key = Key::ecdsa_p256(&sk.public_key());
        let e = Enrolment {
            serial: 12345678,
            slot: 0x9c,
            firmware: "5.4.3".into(),
            pin_policy: PinPolicy::Once,
            touch_policy: TouchPolicy::Cached,
            public_key: key.clone(),
            slot_certificate: vec![0x30, 0x00],
            device_certificate: vec![0x30, 0x01, 0x00],
            created: "2026-11-30T12:00:00Z".into(),
        };
        let v = e.to_value();
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
        assert_eq!(m["keyid"].as_str(), Some(&*key.keyid().as_str()));
        let att = m["attestation"].as_object().unwrap();
        assert!(
            att["slot_certificate"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----\nMAA=\n")
        );
        let parsed = crate::cjson::parse(&e.to_bytes().unwrap()).unwrap();
        assert_eq!(parsed, v);
    }
}
