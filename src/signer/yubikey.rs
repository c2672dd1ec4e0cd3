//! Keys in a YubiKey's PIV applet (feature `yubikey`), through PC/SC (pcscd + libpcsclite).
//!
//! The private key is generated on the device and never leaves it. As with PKCS#11 tokens,
//! everything that can be checked without the PIN is checked before the PIN is asked for:
//!
//! 1. [`YubiKeyToken::open`] finds the YubiKey with the wanted serial among all readers, and
//!    names the serials that are inserted when it is not there;
//! 2. [`YubiKeyToken::slot`] reads the slot's public key and PIN/touch policies (GET METADATA,
//!    firmware 5.3+; older firmware: the certificate stored in the slot), so the caller can
//!    show its keyid and refuse a key that may not sign;
//! 3. [`YubiKeyToken::pin_retries`] reads the PIN retry counter (an empty VERIFY) so a locked
//!    PIN ends things before any prompt and a low counter is announced;
//! 4. only then [`YubiKeyToken::signer`] (or [`YubiKeyToken::generate`]) uses the PIN.
//!
//! Only ECDSA P-256 is offered: the `yubikey` crate 0.8 has no Ed25519, and 0.9.0-rc.0's
//! Ed25519 cannot sign messages over 1014 bytes while real root metadata is 1.3-1.5 KB
//! (docs/hardware.md). conclave hashes the canonical bytes with SHA-256 and the device signs
//! the digest; the device answers with an ASN.1 DER signature, which is what TUF's
//! `ecdsa-sha2-nistp256` wants. Every signature still goes through
//! [`crate::signer::sign_checked`].

use std::cell::RefCell;

use sha2::{Digest, Sha256};
use yubikey::piv::{self, AlgorithmId, SlotId};
use yubikey::{MgmKey, YubiKey};

use crate::attestation::{EnrolmentRecord, Firmware, PinPolicy, TouchPolicy};
use crate::metadata::{Expires, FormatError, Key};
use crate::secret::Passphrase;
use crate::signer::{SignError, Signer};

/// Which YubiKey and slot: `SERIAL[:SLOT]` on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRef {
    /// The YubiKey's serial number, as printed on it (`ykman list --serials`).
    pub serial: u32,
    /// The PIV slot (9a, 9c, 9d, 9e or a retired slot 82-95); 9c when none is given.
    pub slot: u8,
}

/// The PIV slots a signing key may live in: 9a, 9c (default), 9d, 9e and the retired 82-95.
fn slot_allowed(slot: u8) -> bool {
    matches!(slot, 0x9a | 0x9c | 0x9d | 0x9e | 0x82..=0x95)
}

/// Why a `SERIAL[:SLOT]` text names no YubiKey slot. `text` is the offending part, as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotRefError {
    /// The serial part is not a positive decimal number.
    #[error(
        "\"{}\" is not a YubiKey serial number (the decimal number printed on the key and \
         shown by `ykman list --serials`)",
        crate::display::escape(.text)
    )]
    Serial {
        /// The serial part as typed.
        text: String,
    },
    /// The slot part is not two hex digits naming a slot signing keys may use.
    #[error(
        "\"{}\" is not a PIV key slot conclave uses (9a, 9c, 9d, 9e or 82-95)",
        crate::display::escape(.text)
    )]
    Slot {
        /// The slot part as typed.
        text: String,
    },
}

impl SlotRef {
    /// Parse `SERIAL` or `SERIAL:SLOT` (slot in hex, e.g. 9c).
    pub fn parse(s: &str) -> Result<SlotRef, SlotRefError> {
        let (serial, slot) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let serial: u32 =
            serial
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| SlotRefError::Serial {
                    text: serial.into(),
                })?;
        let slot = match slot {
            None => 0x9c,
            Some(t) => u8::from_str_radix(t, 16)
                .ok()
                .filter(|n| t.len() == 2 && slot_allowed(*n))
                .ok_or_else(|| SlotRefError::Slot { text: t.into() })?,
        };
        Ok(SlotRef { serial, slot })
    }
}

impl std::fmt::Display for SlotRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "YubiKey {} slot {:02x}", self.serial, self.slot)
    }
}

/// What went wrong. Messages name the serial and slot; the binary adds what to do.
#[derive(Debug, thiserror::Error)]
pub enum YubiKeyError {
    /// The PC/SC service cannot be reached (pcscd not running, or libpcsclite failing).
    #[error("cannot reach the PC/SC service (pcscd): {reason}")]
    NoPcsc {
        /// PC/SC's error text.
        reason: String,
    },
    /// No reader holds a YubiKey with the wanted serial (after waiting for settling cards).
    #[error("no YubiKey with serial {wanted} is connected; {}", inserted(.present, *.readers))]
    NotFound {
        /// The serial asked for.
        wanted: u32,
        /// Serials of the YubiKeys that are inserted.
        present: Vec<u32>,
        /// How many readers pcscd lists.
        readers: usize,
    },
    /// The slot holds no key (signing, or reading a slot that should hold one).
    #[error("YubiKey {serial}: slot {slot:02x} holds no key")]
    SlotEmpty {
        /// The YubiKey's serial number.
        serial: u32,
        /// The PIV slot, e.g. `0x9c`.
        slot: u8,
    },
    /// Generation refused: the slot already holds a key, which would be overwritten.
    #[error("YubiKey {serial}: slot {slot:02x} already holds a key; nothing was generated")]
    SlotInUse {
        /// The YubiKey's serial number.
        serial: u32,
        /// The PIV slot.
        slot: u8,
    },
    /// The slot's key is not ECDSA P-256 (the only algorithm offered here), or its public
    /// key cannot be read as one.
    #[error("YubiKey {serial}: the key in slot {slot:02x} is {found}, not ECDSA P-256")]
    NotP256 {
        /// The YubiKey's serial number.
        serial: u32,
        /// The PIV slot.
        slot: u8,
        /// What the slot holds, or why its key could not be read.
        found: String,
    },
    /// VERIFY PIN failed with tries still left.
    #[error("YubiKey {serial}: wrong PIN, {tries} tries left")]
    WrongPin {
        /// The YubiKey's serial number.
        serial: u32,
        /// PIN tries left, as the device reports.
        tries: u8,
    },
    /// The PIV PIN is blocked (no tries left); only the PUK can reset it.
    #[error("YubiKey {serial}: the PIN is blocked (no tries left)")]
    PinLocked {
        /// The YubiKey's serial number.
        serial: u32,
    },
    /// The PIN is not 6 to 8 characters (Yubico PIV PIN rules); refused without sending it,
    /// so no try is spent.
    #[error("YubiKey {serial}: PIV PINs are 6 to 8 characters; this one has {len}")]
    PinLength {
        /// The YubiKey's serial number.
        serial: u32,
        /// The length of the PIN given, in bytes.
        len: usize,
    },
    /// The slot's touch policy wants a touch and none came before the device's timeout.
    #[error("YubiKey {serial}: the key was not touched in time; nothing was signed")]
    TouchTimeout {
        /// The YubiKey's serial number.
        serial: u32,
    },
    /// Generating a key needs the PIV management key; conclave only tries the factory
    /// default and the device refused it.
    #[error(
        "YubiKey {serial} (firmware {firmware}): the PIV management key is not the factory \
         default 3DES key"
    )]
    ManagementKey {
        /// The YubiKey's serial number.
        serial: u32,
        /// The device's firmware (the factory default key type depends on it).
        firmware: Firmware,
    },
    /// After the PIN, the slot's public key differs from the one shown (and checked) before
    /// the PIN was asked for: the key was replaced in between. Signing is refused.
    #[error(
        "YubiKey {serial}: the key in slot {slot:02x} is not the one shown before the PIN was \
         asked for"
    )]
    KeyMismatch {
        /// The YubiKey's serial number.
        serial: u32,
        /// The PIV slot.
        slot: u8,
    },
    /// A PIN or touch policy the `yubikey` crate cannot set at generation (e.g. the Bio
    /// ones); checked before the device is touched.
    #[error("YubiKey {serial}: {policy} is not a policy a key can be generated with")]
    Policy {
        /// The YubiKey's serial number.
        serial: u32,
        /// The policy asked for.
        policy: String,
    },
    /// The record of a new key would not be one `key attest` reads; nothing was written.
    #[error("YubiKey {serial}: the enrolment record would not be readable")]
    Record {
        /// The YubiKey's serial number.
        serial: u32,
        /// Why the record is not valid.
        #[source]
        source: FormatError,
    },
    /// Any other device or PC/SC failure.
    #[error("YubiKey {serial}: {operation} failed ({reason})")]
    Failed {
        /// The YubiKey's serial number.
        serial: u32,
        /// What conclave was doing, e.g. `"signing"`.
        operation: &'static str,
        /// The device's or PC/SC's error text.
        reason: String,
    },
}

fn inserted(present: &[u32], readers: usize) -> String {
    match (present, readers) {
        (_, 0) => "no smart-card reader or YubiKey is visible to pcscd".into(),
        ([], _) => "no YubiKey is inserted".into(),
        ([one], _) => format!("the YubiKey inserted is serial {one}"),
        (many, _) => format!(
            "the YubiKeys inserted are serials {}",
            many.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn pcsc_reason(e: &yubikey::Error) -> Option<String> {
    if let yubikey::Error::PcscError { inner: Some(p) } = e {
        return Some(p.to_string());
    }
    None
}

/// What is in a slot, read without the PIN.
#[derive(Clone, Debug)]
pub struct SlotInfo {
    /// The slot's public key, as a TUF `ecdsa-sha2-nistp256` key.
    pub public_key: Key,
    /// When the device wants the PIN for this key (Yubico PIV PIN policy).
    pub pin_policy: PinPolicy,
    /// Whether the device wants a touch for each signature (Yubico PIV touch policy).
    pub touch_policy: TouchPolicy,
}

/// An opened YubiKey, found by serial.
pub struct YubiKeyToken {
    yk: YubiKey,
    serial: u32,
}

impl YubiKeyToken {
    /// Find the YubiKey with this serial among all readers. Nothing here needs the PIN.
    ///
    /// A reader whose card is settling (just reset by the previous program, or powered down
    /// by pcscd's power management) briefly reports "no card": such readers are asked again
    /// for up to two seconds before the YubiKey is declared absent.
    pub fn open(serial: u32) -> Result<YubiKeyToken, YubiKeyError> {
        let mut attempts = 0;
        loop {
            match Self::open_once(serial)? {
                Ok(token) => return Ok(token),
                Err((err, settling)) => {
                    attempts += 1;
                    if !settling || attempts >= 8 {
                        return Err(err);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
            }
        }
    }

    /// One look at every reader: the token, or (not found, whether a reader was settling).
    #[allow(clippy::type_complexity)]
    fn open_once(serial: u32) -> Result<Result<YubiKeyToken, (YubiKeyError, bool)>, YubiKeyError> {
        let no_pcsc = |e: yubikey::Error| YubiKeyError::NoPcsc {
            reason: pcsc_reason(&e).unwrap_or_else(|| e.to_string()),
        };
        let mut ctx = yubikey::reader::Context::open().map_err(no_pcsc)?;
        let readers: Vec<_> = match ctx.iter() {
            Ok(r) => r.collect(),
            // pcsc-lite says "no readers" as an error.
            Err(yubikey::Error::PcscError {
                inner: Some(pcsc::Error::NoReadersAvailable),
            }) => Vec::new(),
            Err(e) => return Err(no_pcsc(e)),
        };
        let mut present = Vec::new();
        let mut settling = false;
        let count = readers.len();
        for reader in readers {
            // A reader without a card, or with a card that is not a YubiKey, fails to open.
            let yk = match reader.open() {
                Ok(yk) => yk,
                Err(yubikey::Error::PcscError {
                    inner:
                        Some(
                            pcsc::Error::NoSmartcard
                            | pcsc::Error::RemovedCard
                            | pcsc::Error::ResetCard
                            | pcsc::Error::UnpoweredCard
                            | pcsc::Error::UnresponsiveCard,
                        ),
                }) => {
                    settling = true;
                    continue;
                }
                Err(_) => continue,
            };
            let found = u32::from(yk.serial());
            if found == serial {
                return Ok(Ok(YubiKeyToken { yk, serial }));
            }
            present.push(found);
            let _ = yk.disconnect(pcsc::Disposition::LeaveCard);
        }
        Ok(Err((
            YubiKeyError::NotFound {
                wanted: serial,
                present,
                readers: count,
            },
            settling,
        )))
    }

    /// The serial number the token was opened with (and found on the device).
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Firmware version, e.g. 5.4.3.
    pub fn firmware(&self) -> Firmware {
        let v = self.yk.version();
        Firmware(v.major, v.minor, v.patch)
    }

    /// The reader's name, for the officer to match against the device in hand.
    pub fn reader(&self) -> &str {
        self.yk.name()
    }

    fn failed(&self, operation: &'static str) -> impl Fn(yubikey::Error) -> YubiKeyError + '_ {
        move |e| classify(e, self.serial, operation)
    }

    /// PIN tries left, read without using one.
    pub fn pin_retries(&mut self) -> Result<u8, YubiKeyError> {
        self.yk
            .get_pin_retries()
            .map_err(self.failed("reading the PIN retry counter"))
    }

    /// The slot's public key and policies, or `None` when the slot is empty.
    pub fn slot(&mut self, slot: u8) -> Result<Option<SlotInfo>, YubiKeyError> {
        let id = slot_id(slot, self.serial)?;
        match piv::metadata(&mut self.yk, id) {
            Ok(m) => {
                let not_p256 = |found: String| YubiKeyError::NotP256 {
                    serial: self.serial,
                    slot,
                    found,
                };
                match m.algorithm {
                    piv::ManagementAlgorithmId::Asymmetric(AlgorithmId::EccP256) => {}
                    other => return Err(not_p256(format!("{other:?}"))),
                }
                let spki = m
                    .public
                    .ok_or_else(|| not_p256("without a public key".into()))?;
                let public_key = key_from_spki(&spki).map_err(|e| not_p256(e.to_string()))?;
                let (pin, touch) = m
                    .policy
                    .map(|(p, t)| (pin_policy(p), touch_policy(t)))
                    .unwrap_or((PinPolicy::Default, TouchPolicy::Default));
                Ok(Some(SlotInfo {
                    public_key,
                    pin_policy: pin,
                    touch_policy: touch,
                }))
            }
            // No key in the slot (the device answers "not found").
            Err(yubikey::Error::GenericError | yubikey::Error::NotFound) => Ok(None),
            // Firmware before 5.3 has no GET METADATA: the certificate in the slot (conclave
            // stores the attestation certificate there at enrolment) gives the public key.
            Err(yubikey::Error::NotSupported) => {
                match yubikey::Certificate::read(&mut self.yk, id) {
                    Ok(cert) => {
                        let spki = cert.subject_pki();
                        let not_p256 = |e: SpkiError| YubiKeyError::NotP256 {
                            serial: self.serial,
                            slot,
                            found: e.to_string(),
                        };
                        let der = der_of_spki_ref(&spki).map_err(not_p256)?;
                        let pk = p256_from_der(&der).map_err(not_p256)?;
                        Ok(Some(SlotInfo {
                            public_key: pk,
                            pin_policy: PinPolicy::Default,
                            touch_policy: TouchPolicy::Default,
                        }))
                    }
                    Err(_) => Ok(None),
                }
            }
            Err(e) => Err(classify(e, self.serial, "reading the slot")),
        }
    }

    /// Check the PIN. A wrong one reports the tries left.
    fn verify_pin(&mut self, pin: &Passphrase) -> Result<(), YubiKeyError> {
        let bytes = pin.expose().as_bytes();
        // Checked here so that a typo of the wrong length does not cost one of the 3 tries.
        if !(6..=8).contains(&bytes.len()) {
            return Err(YubiKeyError::PinLength {
                serial: self.serial,
                len: pin.expose().chars().count(),
            });
        }
        self.yk
            .verify_pin(bytes)
            .map_err(|e| classify(e, self.serial, "checking the PIN"))
    }

    /// Generate a P-256 key in `slot` (which must be empty), attest it and return the
    /// enrolment record. Needs the PIN (checked first, so a wrong PIN changes nothing) and
    /// the factory-default management key.
    pub fn generate(
        mut self,
        slot: u8,
        pin_policy: PinPolicy,
        touch_policy: TouchPolicy,
        pin: &Passphrase,
    ) -> Result<(EnrolmentRecord, YubiKeySigner), YubiKeyError> {
        let serial = self.serial;
        let id = slot_id(slot, serial)?;
        // Checked before anything touches the device: a policy the device cannot be given.
        let unsettable = |policy: String| YubiKeyError::Policy { serial, policy };
        let yk_pin = to_yk_pin(pin_policy).ok_or_else(|| unsettable(pin_policy.to_string()))?;
        let yk_touch =
            to_yk_touch(touch_policy).ok_or_else(|| unsettable(touch_policy.to_string()))?;
        if self.slot(slot)?.is_some() {
            return Err(YubiKeyError::SlotInUse { serial, slot });
        }
        self.verify_pin(pin)?;
        let firmware = self.firmware();
        self.yk
            .authenticate(MgmKey::default())
            .map_err(|e| match e {
                yubikey::Error::AuthenticationError => {
                    YubiKeyError::ManagementKey { serial, firmware }
                }
                e => classify(e, serial, "authenticating with the management key"),
            })?;
        let spki = piv::generate(&mut self.yk, id, AlgorithmId::EccP256, yk_pin, yk_touch)
            .map_err(self.failed("generating the key"))?;
        let public_key = key_from_spki(&spki).map_err(|e| YubiKeyError::Failed {
            serial,
            operation: "reading the new public key",
            reason: e.to_string(),
        })?;
        let slot_certificate = piv::attest(&mut self.yk, id)
            .map_err(self.failed("attesting the new key (ATTEST, INS F9)"))?
            .to_vec();
        let device_certificate = self.device_certificate()?;
        // Keep the attestation certificate in the slot: it names the key for PIV tools, and
        // lets firmware without GET METADATA show the public key before the PIN is asked.
        let object = cert_object(&slot_certificate);
        let mut object = object;
        self.yk
            .save_object(cert_object_id(slot), &mut object)
            .map_err(self.failed("storing the attestation certificate in the slot"))?;
        let info = self
            .slot(slot)?
            .ok_or(YubiKeyError::SlotEmpty { serial, slot })?;
        if info.public_key != public_key {
            return Err(YubiKeyError::KeyMismatch { serial, slot });
        }
        let enrolment = EnrolmentRecord::new(
            serial,
            slot,
            self.firmware(),
            info.pin_policy,
            info.touch_policy,
            public_key.clone(),
            &slot_certificate,
            &device_certificate,
            Expires::now(),
        )
        .map_err(|source| YubiKeyError::Record { serial, source })?;
        // PIN policy "always" wants the PIN right before each signature: check it again for
        // the caller's self-test signature.
        self.verify_pin(pin)?;
        let signer = YubiKeySigner {
            yk: RefCell::new(YubiKeyHandle {
                yk: self.yk,
                serial,
            }),
            slot: id,
            public: public_key,
            touch: info.touch_policy.needs_touch(),
        };
        Ok((enrolment, signer))
    }

    /// The device's attestation certificate (the f9 slot's, object 5FFF01), DER.
    fn device_certificate(&mut self) -> Result<Vec<u8>, YubiKeyError> {
        let object = self
            .yk
            .fetch_object(0x5f_ff01)
            .map_err(self.failed("reading the device attestation certificate (f9)"))?;
        // 70 <cert> 71 <certinfo> FE <lrc>
        parse_tlv(&object)
            .filter(|(tag, _)| *tag == 0x70)
            .map(|(_, v)| v.to_vec())
            .ok_or_else(|| YubiKeyError::Failed {
                serial: self.serial,
                operation: "reading the device attestation certificate (f9)",
                reason: "the object holds no certificate".into(),
            })
    }

    /// Check the PIN and return a signer for the key in `slot`, whose public key must be
    /// `expected` (the one shown to the officer before the PIN was asked for).
    ///
    /// `pin` may be `None` only for a key whose PIN policy is "never".
    pub fn signer(
        mut self,
        slot: u8,
        expected: &Key,
        pin: Option<&Passphrase>,
    ) -> Result<YubiKeySigner, YubiKeyError> {
        let serial = self.serial;
        let info = self
            .slot(slot)?
            .ok_or(YubiKeyError::SlotEmpty { serial, slot })?;
        if info.public_key != *expected {
            return Err(YubiKeyError::KeyMismatch { serial, slot });
        }
        match pin {
            Some(pin) => self.verify_pin(pin)?,
            None if info.pin_policy == PinPolicy::Never => {}
            None => {
                return Err(YubiKeyError::Failed {
                    serial,
                    operation: "signing",
                    reason: "the key's PIN policy needs the PIN".into(),
                });
            }
        }
        Ok(YubiKeySigner {
            yk: RefCell::new(YubiKeyHandle {
                yk: self.yk,
                serial,
            }),
            slot: slot_id(slot, serial)?,
            public: info.public_key,
            touch: info.touch_policy.needs_touch(),
        })
    }
}

struct YubiKeyHandle {
    yk: YubiKey,
    serial: u32,
}

/// Signs with a key in a YubiKey slot. Holds the open connection (and so the PIN state the
/// device keeps for it); no secret is held here.
pub struct YubiKeySigner {
    yk: RefCell<YubiKeyHandle>,
    slot: SlotId,
    public: Key,
    /// Whether the slot's touch policy makes the device wait for a touch.
    touch: bool,
}

impl Signer for YubiKeySigner {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let digest = Sha256::digest(message);
        let mut h = self.yk.borrow_mut();
        let serial = h.serial;
        let der =
            piv::sign_data(&mut h.yk, &digest, AlgorithmId::EccP256, self.slot).map_err(|e| {
                let err = match e {
                    // A key with a touch policy refuses the operation when the touch did not
                    // come within its timeout.
                    yubikey::Error::GenericError | yubikey::Error::AuthenticationError
                        if self.touch =>
                    {
                        YubiKeyError::TouchTimeout { serial }
                    }
                    e => classify(e, serial, "signing"),
                };
                SignError::Backend(err.to_string())
            })?;
        let sig = p256::ecdsa::Signature::from_der(&der).map_err(|_| {
            SignError::Backend(format!(
                "YubiKey {serial}: the device's signature is not ASN.1 DER ECDSA"
            ))
        })?;
        Ok(sig.to_der().as_bytes().to_vec())
    }
}

/// A device error as one of ours.
fn classify(e: yubikey::Error, serial: u32, operation: &'static str) -> YubiKeyError {
    match e {
        yubikey::Error::WrongPin { tries: 0 } | yubikey::Error::PinLocked => {
            YubiKeyError::PinLocked { serial }
        }
        yubikey::Error::WrongPin { tries } => YubiKeyError::WrongPin { serial, tries },
        e => YubiKeyError::Failed {
            serial,
            operation,
            reason: pcsc_reason(&e).unwrap_or_else(|| e.to_string()),
        },
    }
}

fn slot_id(slot: u8, serial: u32) -> Result<SlotId, YubiKeyError> {
    SlotId::try_from(slot).map_err(|_| YubiKeyError::Failed {
        serial,
        operation: "choosing the slot",
        reason: format!("{slot:02x} is not a PIV slot"),
    })
}

fn pin_policy(p: yubikey::PinPolicy) -> PinPolicy {
    match p {
        yubikey::PinPolicy::Default => PinPolicy::Default,
        yubikey::PinPolicy::Never => PinPolicy::Never,
        yubikey::PinPolicy::Once => PinPolicy::Once,
        yubikey::PinPolicy::Always => PinPolicy::Always,
    }
}

fn touch_policy(t: yubikey::TouchPolicy) -> TouchPolicy {
    match t {
        yubikey::TouchPolicy::Default => TouchPolicy::Default,
        yubikey::TouchPolicy::Never => TouchPolicy::Never,
        yubikey::TouchPolicy::Always => TouchPolicy::Always,
        yubikey::TouchPolicy::Cached => TouchPolicy::Cached,
    }
}

/// The `yubikey` crate can set the four classic policies, not the Bio ones.
fn to_yk_pin(p: PinPolicy) -> Option<yubikey::PinPolicy> {
    Some(match p {
        PinPolicy::Default => yubikey::PinPolicy::Default,
        PinPolicy::Never => yubikey::PinPolicy::Never,
        PinPolicy::Once => yubikey::PinPolicy::Once,
        PinPolicy::Always => yubikey::PinPolicy::Always,
        PinPolicy::MatchOnce | PinPolicy::MatchAlways | PinPolicy::Unknown(_) => return None,
    })
}

fn to_yk_touch(t: TouchPolicy) -> Option<yubikey::TouchPolicy> {
    Some(match t {
        TouchPolicy::Default => yubikey::TouchPolicy::Default,
        TouchPolicy::Never => yubikey::TouchPolicy::Never,
        TouchPolicy::Always => yubikey::TouchPolicy::Always,
        TouchPolicy::Cached => yubikey::TouchPolicy::Cached,
        TouchPolicy::Unknown(_) => return None,
    })
}

/// Why a public key the device gave is not one conclave signs with; the text completes
/// "the key in slot .. is ...".
#[derive(Debug, thiserror::Error)]
enum SpkiError {
    #[error("an unreadable public key ({0})")]
    Unreadable(x509_cert_02::der::Error),
    #[error("a key of another type or curve")]
    NotP256,
}

fn key_from_spki(spki: &x509_cert_02::spki::SubjectPublicKeyInfoOwned) -> Result<Key, SpkiError> {
    use x509_cert_02::der::Encode;
    let der = spki.to_der().map_err(SpkiError::Unreadable)?;
    p256_from_der(&der)
}

fn der_of_spki_ref(
    spki: &x509_cert_02::spki::SubjectPublicKeyInfoRef<'_>,
) -> Result<Vec<u8>, SpkiError> {
    use x509_cert_02::der::Encode;
    spki.to_der().map_err(SpkiError::Unreadable)
}

fn p256_from_der(der: &[u8]) -> Result<Key, SpkiError> {
    use p256::pkcs8::DecodePublicKey;
    let pk = p256::PublicKey::from_public_key_der(der).map_err(|_| SpkiError::NotP256)?;
    Ok(Key::ecdsa_p256(&pk))
}

/// The object holding a slot's certificate (SP 800-73-4 part 1, table 3; Yubico for f9).
fn cert_object_id(slot: u8) -> u32 {
    match slot {
        0x9a => 0x5f_c105,
        0x9c => 0x5f_c10a,
        0x9d => 0x5f_c10b,
        0x9e => 0x5f_c101,
        // Retired key management slots 82..95: objects 5FC10D..5FC120.
        r => 0x5f_c10d + u32::from(r - 0x82),
    }
}

/// The PIV certificate object: 70 cert, 71 certinfo (0: uncompressed), FE LRC (empty).
fn cert_object(der: &[u8]) -> Vec<u8> {
    let mut v = vec![0x70];
    push_len(&mut v, der.len());
    v.extend_from_slice(der);
    v.extend_from_slice(&[0x71, 0x01, 0x00, 0xfe, 0x00]);
    v
}

fn push_len(v: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
}

/// (tag, value) of the first one-byte-tag BER-TLV in `b`.
fn parse_tlv(b: &[u8]) -> Option<(u8, &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (n as usize, rest),
        0x81 => (*rest.first()? as usize, rest.get(1..)?),
        0x82 => (
            (*rest.first()? as usize) << 8 | *rest.get(1)? as usize,
            rest.get(2..)?,
        ),
        _ => return None,
    };
    Some((tag, rest.get(..len)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_refs() {
        assert_eq!(
            SlotRef::parse("12345678").unwrap(),
            SlotRef {
                serial: 12345678,
                slot: 0x9c
            }
        );
        assert_eq!(SlotRef::parse("7:9a").unwrap().slot, 0x9a);
        assert_eq!(SlotRef::parse("7:82").unwrap().slot, 0x82);
        for bad in [
            "", "0", "x", "12:", "12:9b", "12:f9", "12:9C9", "12:80", "-1", "1:2:3",
        ] {
            assert!(SlotRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tlv_round_trip() {
        let der = vec![0x30; 300];
        let obj = cert_object(&der);
        assert_eq!(parse_tlv(&obj), Some((0x70, der.as_slice())));
        assert_eq!(parse_tlv(&[0x70, 0x82, 0x01]), None);
    }
}
