//! The check `slot certificate <- device (f9) certificate <- [intermediates] <- root`, and
//! what the slot certificate says (serial, slot, firmware, policies, attested key). The path
//! above the device certificate is `super::pki`'s.
//!
//! An attacker who can hand the officer certificates controls every byte of them: every
//! signature is checked over the exact DER that was parsed, non-canonical DER is refused, and
//! each certificate must stand in its own place (a root or CA cannot pose as a slot
//! attestation).

use std::fmt;

use der::{Decode, DecodePem, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate as X509;

use super::pki::{self, Intermediates};
use super::policy::{PinPolicy, TouchPolicy};
use crate::metadata::Key;

/// Yubico's private-enterprise arc, 1.3.6.1.4.1.41482, and the PIV attestation extensions.
const OID_FIRMWARE: &str = "1.3.6.1.4.1.41482.3.3";
const OID_SERIAL: &str = "1.3.6.1.4.1.41482.3.7";
const OID_POLICY: &str = "1.3.6.1.4.1.41482.3.8";
const OID_FORM_FACTOR: &str = "1.3.6.1.4.1.41482.3.9";
const OID_FIPS: &str = "1.3.6.1.4.1.41482.3.10";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";

/// The largest certificate conclave reads; Yubico's are under 1 KB.
const MAX_CERT_DER: usize = 16 * 1024;

/// Which certificate of the chain a result is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The certificate the device signed for the key in the attested slot.
    Slot,
    /// The device's own attestation certificate from slot f9, put there at the factory.
    Device,
    /// An intermediate CA between the device certificate and the root, counted from the
    /// device certificate up (1 issued the device certificate).
    Intermediate(u8),
    /// The trust anchor: one of Yubico's PIV roots, or a custom CA for tests.
    Root,
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Which::Slot => f.write_str("the slot certificate"),
            Which::Device => f.write_str("the device (f9) certificate"),
            Which::Intermediate(n) => write!(
                f,
                "intermediate certificate {n} (counting up from the device certificate)"
            ),
            Which::Root => f.write_str("the root certificate"),
        }
    }
}

/// Why an attestation does not hold. Each variant is one specific reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// The certificate does not parse, is not canonical DER, is too large, has duplicate
    /// extensions, an unknown critical extension, or two differing signature algorithm
    /// fields (RFC 5280 §4.1.1.2).
    #[error("{which} is not a valid X.509 certificate: {reason}")]
    Malformed {
        /// The certificate concerned.
        which: Which,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate is signed with something other than RSA PKCS#1 v1.5 (SHA-256/384/512)
    /// or ECDSA (SHA-256/384).
    #[error("{which} uses a signature algorithm conclave does not support ({algorithm})")]
    UnsupportedSignature {
        /// The certificate concerned.
        which: Which,
        /// The signature algorithm's OID.
        algorithm: String,
    },
    /// The issuer's public key is not RSA 2048–4096 or ECDSA P-256/P-384.
    #[error("{which} has a public key conclave cannot check signatures with: {reason}")]
    UnsupportedKey {
        /// The certificate whose key would verify the signature.
        which: Which,
        /// What the key is, or why it cannot be used.
        reason: String,
    },
    /// The certificate's issuer name is not the subject of the next certificate up the chain
    /// (compared as DER), nor of any root or published intermediate that could come next.
    #[error("{which} was issued by \"{issuer}\", not by \"{expected}\"{note}")]
    WrongIssuer {
        /// The certificate concerned.
        which: Which,
        /// Its issuer name (RFC 4514).
        issuer: String,
        /// The subject of the certificate that should have issued it.
        expected: String,
        /// Extra explanation; may be empty.
        note: &'static str,
    },
    /// An intermediate certificate (one a record carries) is not one of those Yubico
    /// publishes for PIV attestation, which conclave pins by fingerprint: a CA made by
    /// someone else, whatever name it carries.
    #[error(
        "{which} (\"{subject}\", SHA-256 {fingerprint}) is not one of the intermediates Yubico \
         publishes for PIV attestation"
    )]
    NotPublished {
        /// Its place in the path.
        which: Which,
        /// Its subject (RFC 4514).
        subject: String,
        /// SHA-256 of its DER.
        fingerprint: String,
    },
    /// The signature does not verify over the exact DER parsed: a forged or altered
    /// certificate, or one from another device or CA.
    #[error("the signature on {which} does not verify with the key of {signer}")]
    BadSignature {
        /// The certificate whose signature failed.
        which: Which,
        /// The certificate whose key was used to check it.
        signer: Which,
    },
    /// A Yubico PIV attestation extension that must be present is absent.
    #[error("{which} lacks the Yubico extension {name} ({oid})")]
    MissingExtension {
        /// The certificate concerned.
        which: Which,
        /// What the extension holds, e.g. `"serial number"`.
        name: &'static str,
        /// Its OID under 1.3.6.1.4.1.41482.3.
        oid: &'static str,
    },
    /// A Yubico extension is present but its contents do not have the documented form.
    #[error("{which} has a malformed Yubico extension {name}: {reason}")]
    BadExtension {
        /// The certificate concerned.
        which: Which,
        /// What the extension holds.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

pub(super) fn malformed(which: Which, reason: impl Into<String>) -> AttestationError {
    AttestationError::Malformed {
        which,
        reason: reason.into(),
    }
}

/// A parsed certificate together with the exact DER it came from.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    cert: X509,
}

impl Certificate {
    /// Parse one PEM `CERTIFICATE` block (nothing else may follow it but whitespace).
    pub fn from_pem(pem: &str, which: Which) -> Result<Self, AttestationError> {
        if pem.len() > 4 * MAX_CERT_DER {
            return Err(malformed(which, "the PEM text is too long"));
        }
        let cert = X509::from_pem(pem.trim().as_bytes())
            .map_err(|e| malformed(which, format!("not a PEM certificate ({e})")))?;
        let der = cert
            .to_der()
            .map_err(|e| malformed(which, format!("cannot be re-encoded ({e})")))?;
        // from_pem decoded the PEM's DER; decode it once more from the bytes to make sure the
        // DER is canonical (the bytes that are hashed are the bytes that were parsed).
        Self::from_der(&der, which)
    }

    /// Parse a DER certificate. Non-canonical DER and trailing bytes are refused, so the
    /// signed bytes are exactly the ones parsed.
    pub fn from_der(der: &[u8], which: Which) -> Result<Self, AttestationError> {
        if der.len() > MAX_CERT_DER {
            return Err(malformed(which, "larger than 16 KiB"));
        }
        let cert = X509::from_der(der).map_err(|e| malformed(which, e.to_string()))?;
        let again = cert
            .to_der()
            .map_err(|e| malformed(which, format!("cannot be re-encoded ({e})")))?;
        if again != der {
            return Err(malformed(which, "not in canonical DER"));
        }
        if cert.signature_algorithm() != cert.tbs_certificate().signature() {
            return Err(malformed(
                which,
                "its two signature algorithm fields differ (RFC 5280 4.1.1.2)",
            ));
        }
        Ok(Certificate {
            der: der.to_vec(),
            cert,
        })
    }

    /// The certificate's DER, exactly the bytes that were parsed and whose signature is
    /// checked.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the certificate's DER, lowercase hex.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// The subject as an RFC 4514 string, e.g. `CN=Yubico PIV Attestation`.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// The DER SubjectPublicKeyInfo.
    pub(crate) fn spki_der(&self, which: Which) -> Result<Vec<u8>, AttestationError> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| malformed(which, format!("public key cannot be encoded ({e})")))
    }

    pub(super) fn issued_by(&self, issuer: &Certificate) -> bool {
        // Names are compared as DER, byte for byte: the Yubico chain uses identical encodings.
        let a = self.cert.tbs_certificate().issuer().to_der();
        let b = issuer.cert.tbs_certificate().subject().to_der();
        matches!((a, b), (Ok(a), Ok(b)) if a == b)
    }

    /// The certificate's validity period, as Unix seconds.
    fn validity(&self) -> (i64, i64) {
        let v = self.cert.tbs_certificate().validity();
        let secs = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (secs(v.not_before), secs(v.not_after))
    }

    fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    /// RFC 5280 4.2: one extension of each kind, and no critical extension conclave does not
    /// understand (an issuer marks an extension critical precisely so that a verifier that
    /// ignores it refuses the certificate).
    pub(super) fn check_extensions(&self, which: Which) -> Result<(), AttestationError> {
        let Some(exts) = self.cert.tbs_certificate().extensions() else {
            return Ok(());
        };
        let mut seen = std::collections::BTreeSet::new();
        for e in exts {
            let oid = e.extn_id.to_string();
            if !seen.insert(oid.clone()) {
                return Err(malformed(which, format!("extension {oid} appears twice")));
            }
            if e.critical && oid != OID_BASIC_CONSTRAINTS && oid != OID_KEY_USAGE {
                return Err(malformed(
                    which,
                    format!("it has a critical extension conclave does not understand ({oid})"),
                ));
            }
        }
        Ok(())
    }

    /// `Some(true)` for a CA certificate, `Some(false)` for one that says it is not, `None`
    /// when it has no basic constraints.
    pub(super) fn is_ca(&self, which: Which) -> Result<Option<bool>, AttestationError> {
        use x509_cert::ext::pkix::BasicConstraints;
        self.cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map(|bc| bc.map(|(_, bc)| bc.ca))
            .map_err(|e| malformed(which, format!("basic constraints: {e}")))
    }

    /// The path length constraint of a CA certificate's basic constraints, if it has one.
    pub(super) fn path_len(&self, which: Which) -> Result<Option<u8>, AttestationError> {
        use x509_cert::ext::pkix::BasicConstraints;
        self.cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map(|bc| bc.and_then(|(_, bc)| bc.path_len_constraint))
            .map_err(|e| malformed(which, format!("basic constraints: {e}")))
    }

    /// Check this certificate's signature with `issuer`'s public key.
    pub(super) fn verify_signed_by(
        &self,
        which: Which,
        issuer: &Certificate,
        signer: Which,
    ) -> Result<(), AttestationError> {
        let alg = self.cert.signature_algorithm();
        let oid = alg.oid.to_string();
        let hash = match oid.as_str() {
            "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => Hash::Sha256,
            "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => Hash::Sha384,
            "1.2.840.113549.1.1.13" => Hash::Sha512,
            _ => {
                return Err(AttestationError::UnsupportedSignature {
                    which,
                    algorithm: oid,
                });
            }
        };
        let rsa_sig = oid.starts_with("1.2.840.113549.");
        // RFC 4055: the RSA algorithms' parameters are NULL (or absent); RFC 5758: the ECDSA
        // ones are absent.
        let params_ok = match &alg.parameters {
            None => true,
            Some(p) => rsa_sig && p.is_null(),
        };
        if !params_ok {
            return Err(malformed(
                which,
                "unexpected signature algorithm parameters",
            ));
        }
        let tbs = self
            .cert
            .tbs_certificate()
            .to_der()
            .map_err(|e| malformed(which, e.to_string()))?;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or_else(|| malformed(which, "the signature is not a whole number of bytes"))?;
        let key = SignerKey::from_spki(&issuer.spki_der(signer)?, signer)?;
        let bad = || AttestationError::BadSignature { which, signer };
        match (key, rsa_sig) {
            (SignerKey::Rsa(pk), true) => {
                use rsa::signature::Verifier;
                let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| bad())?;
                let ok = match hash {
                    Hash::Sha256 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk).verify(&tbs, &sig)
                    }
                    Hash::Sha384 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha384>::new(pk).verify(&tbs, &sig)
                    }
                    Hash::Sha512 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha512>::new(pk).verify(&tbs, &sig)
                    }
                };
                ok.map_err(|_| bad())
            }
            (SignerKey::P256(pk), false) => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                let sig = p256::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                p256::ecdsa::VerifyingKey::from(pk)
                    .verify_prehash(&hash.digest(&tbs), &sig)
                    .map_err(|_| bad())
            }
            (SignerKey::P384(pk), false) => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                let sig = p384::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
                p384::ecdsa::VerifyingKey::from(pk)
                    .verify_prehash(&hash.digest(&tbs), &sig)
                    .map_err(|_| bad())
            }
            // An ECDSA signature "from" an RSA issuer or the reverse: whoever signed this
            // certificate, it was not the issuer's key.
            _ => Err(bad()),
        }
    }
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

enum SignerKey {
    Rsa(rsa::PublicKey),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
}

impl SignerKey {
    fn from_spki(spki: &[u8], which: Which) -> Result<Self, AttestationError> {
        use rsa::traits::PublicKeyParts;
        let info = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(spki)
            .map_err(|e| malformed(which, format!("public key: {e}")))?;
        let unsupported = |reason: String| AttestationError::UnsupportedKey { which, reason };
        match info.algorithm.oid.to_string().as_str() {
            "1.2.840.113549.1.1.1" => {
                let pk = rsa::PublicKey::try_from(info)
                    .map_err(|e| unsupported(format!("RSA key: {e}")))?;
                let bits = pk.size() * 8;
                if !(2048..=4096).contains(&bits) {
                    return Err(unsupported(format!("RSA key of {bits} bits")));
                }
                Ok(SignerKey::Rsa(pk))
            }
            "1.2.840.10045.2.1" => {
                use p256::pkcs8::DecodePublicKey;
                if let Ok(k) = p256::PublicKey::from_public_key_der(spki) {
                    return Ok(SignerKey::P256(k));
                }
                p384::PublicKey::from_public_key_der(spki)
                    .map(SignerKey::P384)
                    .map_err(|_| unsupported("an elliptic-curve key not on P-256 or P-384".into()))
            }
            other => Err(unsupported(format!("key algorithm {other}"))),
        }
    }
}

/// The firmware version a YubiKey reports, e.g. 5.4.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Firmware(pub u8, pub u8, pub u8);

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Firmware {
    /// Parse `MAJOR.MINOR.PATCH` (decimal, each 0–255, no leading `+` or spaces).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let mut next = || -> Option<u8> {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let fw = Firmware(next()?, next()?, next()?);
        parts.next().is_none().then_some(fw)
    }
}

/// The device's form factor (extension 1.3.6.1.4.1.41482.3.9, YubiKey 5 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormFactor(pub u8);

impl fmt::Display for FormFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 & 0x0f {
            0 => "unspecified",
            1 => "USB-A keychain",
            2 => "USB-A nano",
            3 => "USB-C keychain",
            4 => "USB-C nano",
            5 => "USB-C and Lightning",
            6 => "USB-A Bio",
            7 => "USB-C Bio",
            _ => "unknown",
        };
        f.write_str(kind)?;
        if self.0 & 0x80 != 0 {
            f.write_str(", FIPS series")?;
        }
        if self.0 & 0x40 != 0 {
            f.write_str(", CSPN series")?;
        }
        Ok(())
    }
}

/// What the chain was checked against.
#[derive(Clone, Debug)]
pub enum Anchor {
    /// Yubico's two PIV roots and published intermediates, built into conclave and pinned by
    /// fingerprint (`super::pki`).
    Yubico,
    /// Another CA, e.g. a PIV emulator's, for tests. A chain anchored here proves nothing
    /// about real hardware.
    Custom(Box<Certificate>),
}

impl Anchor {
    /// An anchor from a CA certificate; either of Yubico's own roots given this way counts as
    /// Yubico's.
    pub fn custom(cert: Certificate) -> Self {
        if pki::is_yubico_root(&cert) {
            Anchor::Yubico
        } else {
            Anchor::Custom(Box::new(cert))
        }
    }

    fn roots(&self) -> Result<Vec<Certificate>, AttestationError> {
        match self {
            Anchor::Yubico => pki::yubico_roots(),
            Anchor::Custom(c) => Ok(vec![(**c).clone()]),
        }
    }

    /// Whether this is Yubico's PKI, the only anchor that says anything about real hardware.
    pub(crate) fn is_yubico(&self) -> bool {
        matches!(self, Anchor::Yubico)
    }
}

/// The kind of key a slot certificate attests. Which kinds a YubiKey attests depends on its
/// firmware (Ed25519 and X25519 from 5.7); the chain check does not depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestedKey {
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// Ed25519 (firmware 5.7 and later).
    Ed25519,
    /// X25519, a key-agreement key (firmware 5.7 and later).
    X25519,
    /// RSA, with its modulus size in bits.
    Rsa(usize),
    /// Something else.
    Other,
}

impl AttestedKey {
    /// Whether the key signs with ECDSA (the algorithm YSA-2024-03 is about).
    pub fn is_ecdsa(self) -> bool {
        matches!(self, AttestedKey::EcdsaP256 | AttestedKey::EcdsaP384)
    }
}

impl fmt::Display for AttestedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttestedKey::EcdsaP256 => f.write_str("ECDSA P-256"),
            AttestedKey::EcdsaP384 => f.write_str("ECDSA P-384"),
            AttestedKey::Ed25519 => f.write_str("Ed25519"),
            AttestedKey::X25519 => f.write_str("X25519"),
            AttestedKey::Rsa(bits) => write!(f, "RSA {bits}"),
            AttestedKey::Other => f.write_str("another key type"),
        }
    }
}

/// What a verified chain says.
#[derive(Clone, Debug)]
pub struct AttestationReport {
    /// True when the chain ends in one of Yubico's PIV roots built into conclave.
    pub anchored_in_yubico: bool,
    /// The root certificate's subject (RFC 4514).
    pub root_subject: String,
    /// SHA-256 of the root certificate, lowercase hex.
    pub root_fingerprint: String,
    /// The intermediates between the device certificate and the root, from the device
    /// certificate up (none before firmware 5.7.4): the path that was checked.
    pub intermediates: Vec<Certificate>,
    /// The device (f9) certificate's subject.
    pub device_subject: String,
    /// The slot certificate's subject, e.g. `CN=YubiKey PIV Attestation 9c`.
    pub slot_subject: String,
    /// The YubiKey's serial number (extension .3.7 of the slot certificate).
    pub serial: u32,
    /// The slot named in the slot certificate's subject ("YubiKey PIV Attestation 9c").
    pub slot: Option<u8>,
    /// The firmware version (extension .3.3 of the slot certificate).
    pub firmware: Firmware,
    /// The slot key's PIN policy (first byte of extension .3.8).
    pub pin_policy: PinPolicy,
    /// The slot key's touch policy (second byte of extension .3.8).
    pub touch_policy: TouchPolicy,
    /// The form factor (extension .3.9), absent before YubiKey 5.
    pub form_factor: Option<FormFactor>,
    /// The device certificate carries Yubico's FIPS-certified marker (.3.10).
    pub fips: bool,
    /// The attested key as a DER SubjectPublicKeyInfo.
    pub public_key_spki: Vec<u8>,
    /// The attested key as a TUF key, when it is one TUF and conclave can use (P-256,
    /// Ed25519).
    pub public_key: Option<Key>,
    /// The kind of the attested key.
    pub key_kind: AttestedKey,
    /// A short name of the attested key's type, e.g. "ECDSA P-256".
    pub public_key_type: String,
    /// Things that do not make the chain fail but that the officer should hear.
    pub warnings: Vec<String>,
}

impl AttestationReport {
    /// The attested key as a PEM SubjectPublicKeyInfo.
    pub fn public_key_pem(&self) -> String {
        der::pem::encode_string(
            "PUBLIC KEY",
            der::pem::LineEnding::LF,
            &self.public_key_spki,
        )
        .unwrap_or_default()
    }

    /// Whether the attested key is one Yubico security advisory YSA-2024-03 says can be
    /// cloned by someone with physical access to the YubiKey: an ECDSA key on firmware below
    /// 5.7.0 ([`super::ysa_2024_03_affected`]).
    pub fn ysa_2024_03(&self) -> bool {
        super::ysa_2024_03_affected(self.firmware, self.key_kind)
    }
}

/// The slot named in a slot certificate's subject, `CN=YubiKey PIV Attestation 9c`.
fn slot_from_subject(subject: &str) -> Option<u8> {
    let hex = subject.strip_prefix("CN=YubiKey PIV Attestation ")?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

fn required<'a>(
    cert: &'a Certificate,
    which: Which,
    oid: &'static str,
    name: &'static str,
) -> Result<&'a [u8], AttestationError> {
    cert.extension(oid)
        .ok_or(AttestationError::MissingExtension { which, name, oid })
}

fn firmware_of(cert: &Certificate, which: Which) -> Result<Firmware, AttestationError> {
    let raw = required(cert, which, OID_FIRMWARE, "firmware version")?;
    match raw {
        [a, b, c] => Ok(Firmware(*a, *b, *c)),
        _ => Err(AttestationError::BadExtension {
            which,
            name: "firmware version",
            reason: format!("{} bytes, expected 3", raw.len()),
        }),
    }
}

/// The key a slot certificate attests, as TUF and conclave know it.
fn attested_key(spki: &[u8]) -> (Option<Key>, AttestedKey) {
    use p256::pkcs8::DecodePublicKey;
    if let Ok(k) = p256::PublicKey::from_public_key_der(spki) {
        return (Some(Key::ecdsa_p256(&k)), AttestedKey::EcdsaP256);
    }
    if p384::PublicKey::from_public_key_der(spki).is_ok() {
        return (None, AttestedKey::EcdsaP384);
    }
    let Ok(info) = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(spki) else {
        return (None, AttestedKey::Other);
    };
    // RFC 8410: Ed25519 and X25519 keys have no parameters and a 32-byte key.
    let raw = info.subject_public_key.as_bytes();
    match info.algorithm.oid.to_string().as_str() {
        "1.3.101.112" => match raw.and_then(|b| <&[u8; 32]>::try_from(b).ok()) {
            Some(b) if info.algorithm.parameters.is_none() => {
                (Some(Key::ed25519(b)), AttestedKey::Ed25519)
            }
            _ => (None, AttestedKey::Other),
        },
        "1.3.101.110" => (None, AttestedKey::X25519),
        "1.2.840.113549.1.1.1" => match rsa::PublicKey::try_from(info) {
            Ok(k) => {
                use rsa::traits::PublicKeyParts;
                (None, AttestedKey::Rsa(k.size() * 8))
            }
            Err(_) => (None, AttestedKey::Other),
        },
        _ => (None, AttestedKey::Other),
    }
}

/// Check `slot` <- `device` <- `anchor`, and read what the slot certificate attests; the
/// intermediates, if the chain needs any, are Yubico's published ones built into conclave.
///
/// `now` (Unix seconds) is only used for warnings: YubiKey attestation certificates copy
/// their validity from the CA (Yubico's run 2016–2052 and 2024–9999), say nothing about when
/// the key was made, and an out-of-date period is no evidence of forgery, so it is reported,
/// not refused.
pub fn verify_chain(
    slot: &Certificate,
    device: &Certificate,
    anchor: &Anchor,
    now: i64,
) -> Result<AttestationReport, AttestationError> {
    verify_chain_with(slot, device, None, anchor, now)
}

/// [`verify_chain`] with the intermediates given: `Some(list)` (an enrolment record's) must
/// be exactly the path from the device certificate up, each one of Yubico's published
/// intermediates when the anchor is Yubico's; `None` searches the built-in ones.
pub fn verify_chain_with(
    slot: &Certificate,
    device: &Certificate,
    intermediates: Option<&[Certificate]>,
    anchor: &Anchor,
    now: i64,
) -> Result<AttestationReport, AttestationError> {
    let roots = anchor.roots()?;
    // Each certificate in its own place: a root or published intermediate cannot pose as the
    // device certificate (a self-signed root "issues" itself), and a CA certificate, such as
    // a genuine device certificate, cannot pose as a slot attestation.
    if roots.iter().any(|r| r.der() == device.der()) {
        return Err(malformed(
            Which::Device,
            "it is the root certificate itself, not a YubiKey's f9 certificate",
        ));
    }
    if pki::is_published_intermediate(device) {
        return Err(malformed(
            Which::Device,
            "it is one of Yubico's intermediate CAs, not a YubiKey's f9 certificate",
        ));
    }
    if device.is_ca(Which::Device)? == Some(false) {
        return Err(malformed(
            Which::Device,
            "its basic constraints say it is not a CA, so it cannot sign slot attestations",
        ));
    }
    if slot.is_ca(Which::Slot)? == Some(true) || slot.der() == device.der() {
        return Err(malformed(
            Which::Slot,
            "it is a CA certificate, not a slot attestation",
        ));
    }
    // Device <- [intermediates] <- root. The slot key's type plays no part in this.
    device.check_extensions(Which::Device)?;
    let pool = match intermediates {
        Some(list) => Intermediates::Exactly(list),
        None if anchor.is_yubico() => Intermediates::Pool(pki::yubico_intermediates()?),
        None => Intermediates::Pool(Vec::new()),
    };
    let (path, root) = pki::build_path(device, &roots, pool, anchor.is_yubico())?;
    // Slot <- device.
    if !slot.issued_by(device) {
        return Err(AttestationError::WrongIssuer {
            which: Which::Slot,
            issuer: slot.issuer(),
            expected: device.subject(),
            note: "",
        });
    }
    slot.check_extensions(Which::Slot)?;
    slot.verify_signed_by(Which::Slot, device, Which::Device)?;
    let mut report = read_slot(slot, device, now)?;
    report.warnings.extend(date_warnings(
        path.iter()
            .enumerate()
            .map(|(i, c)| (Which::Intermediate(i as u8 + 1), c))
            .chain(std::iter::once((Which::Root, &root))),
        now,
    ));
    report.anchored_in_yubico = anchor.is_yubico();
    report.root_subject = root.subject();
    report.root_fingerprint = root.fingerprint();
    report.intermediates = path;
    Ok(report)
}

/// What a slot certificate (checked to be signed by `device`) says. The root fields are
/// filled in by the caller.
fn read_slot(
    slot: &Certificate,
    device: &Certificate,
    now: i64,
) -> Result<AttestationReport, AttestationError> {
    let serial_der = required(slot, Which::Slot, OID_SERIAL, "serial number")?;
    let serial = u32::from_der(serial_der).map_err(|e| AttestationError::BadExtension {
        which: Which::Slot,
        name: "serial number",
        reason: format!("not a DER integer from 0 to 4294967295 ({e})"),
    })?;
    let firmware = firmware_of(slot, Which::Slot)?;
    let policy = required(slot, Which::Slot, OID_POLICY, "PIN and touch policy")?;
    let (pin_policy, touch_policy) = match policy {
        [p, t] => (PinPolicy::from_byte(*p), TouchPolicy::from_byte(*t)),
        _ => {
            return Err(AttestationError::BadExtension {
                which: Which::Slot,
                name: "PIN and touch policy",
                reason: format!("{} bytes, expected 2", policy.len()),
            });
        }
    };
    // Form factor: YubiKey 5 and later only.
    let form_factor = match slot.extension(OID_FORM_FACTOR) {
        None => None,
        Some([b]) => Some(FormFactor(*b)),
        Some(other) => {
            return Err(AttestationError::BadExtension {
                which: Which::Slot,
                name: "form factor",
                reason: format!("{} bytes, expected 1", other.len()),
            });
        }
    };
    let mut warnings = date_warnings([(Which::Slot, slot), (Which::Device, device)], now);
    // The device certificate also names the firmware on most YubiKeys; a difference means
    // the certificates come from different devices or were pieced together.
    if let Ok(fw) = firmware_of(device, Which::Device)
        && fw != firmware
    {
        warnings.push(format!(
            "the device certificate says firmware {fw}, the slot certificate {firmware}"
        ));
    }
    let public_key_spki = slot.spki_der(Which::Slot)?;
    let (public_key, key_kind) = attested_key(&public_key_spki);
    Ok(AttestationReport {
        anchored_in_yubico: false,
        root_subject: String::new(),
        root_fingerprint: String::new(),
        intermediates: Vec::new(),
        device_subject: device.subject(),
        slot_subject: slot.subject(),
        serial,
        slot: slot_from_subject(&slot.subject()),
        firmware,
        pin_policy,
        touch_policy,
        form_factor,
        fips: device.extension(OID_FIPS).is_some(),
        public_key_spki,
        public_key,
        key_kind,
        public_key_type: key_kind.to_string(),
        warnings,
    })
}

/// Validity periods the clock is outside of: reported, never a failure (see [`verify_chain`]).
fn date_warnings<'a>(
    certs: impl IntoIterator<Item = (Which, &'a Certificate)>,
    now: i64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (which, cert) in certs {
        let (from, until) = cert.validity();
        if now < from {
            warnings.push(format!(
                "{which} is not valid yet by this computer's clock (check the clock); \
                 attestation certificates' dates say nothing about the key, so this is not a failure"
            ));
        } else if now > until {
            warnings.push(format!(
                "{which} has expired by this computer's clock; attestation certificates' \
                 dates say nothing about the key, so this is not a failure"
            ));
        }
    }
    warnings
}

/// The name of a PIV slot, for reports.
pub fn slot_name(slot: u8) -> &'static str {
    match slot {
        0x9a => "PIV Authentication",
        0x9c => "Digital Signature",
        0x9d => "Key Management",
        0x9e => "Card Authentication",
        0x82..=0x95 => "retired key management",
        0xf9 => "attestation",
        _ => "unknown slot",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_root_is_yubicos() {
        let root = Certificate::from_pem(pki::YUBICO_PIV_ROOT_PEM, Which::Root).unwrap();
        assert_eq!(root.fingerprint(), pki::YUBICO_PIV_ROOT_SHA256);
        assert_eq!(root.subject(), "CN=Yubico PIV Root CA Serial 263751");
    }

    #[test]
    fn firmware_parse() {
        assert_eq!(Firmware::parse("5.4.3"), Some(Firmware(5, 4, 3)));
        for bad in [
            "5.4", "5.4.3.1", "5..3", "+5.4.3", "256.0.0", " 5.4.3", "5.4.x",
        ] {
            assert_eq!(Firmware::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn slot_subjects() {
        assert_eq!(
            slot_from_subject("CN=YubiKey PIV Attestation 9c"),
            Some(0x9c)
        );
        assert_eq!(slot_from_subject("CN=YubiKey PIV Attestation 9"), None);
        assert_eq!(slot_from_subject("CN=Other 9c"), None);
    }

    #[test]
    fn form_factor_names() {
        assert_eq!(FormFactor(0x03).to_string(), "USB-C keychain");
        assert_eq!(FormFactor(0x81).to_string(), "USB-A keychain, FIPS series");
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for input in [
            "",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            "xyz",
        ] {
            assert!(matches!(
                Certificate::from_pem(input, Which::Slot),
                Err(AttestationError::Malformed { .. })
            ));
        }
        assert!(Certificate::from_der(&[0x30, 0x03, 0x02, 0x01, 0x00], Which::Device).is_err());
    }
}
