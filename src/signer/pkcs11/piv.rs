//! YubiKey PIV keys through Yubico's PKCS#11 module (ykcs11, Debian package `ykcs11`).
//!
//! ykcs11 presents a YubiKey's PIV applet as one token (`YubiKey PIV #SERIAL`, manufacturer
//! "Yubico (www.yubico.com)", model "YubiKey ..."). It differs from an HSM in three ways that
//! matter for enrolment:
//!
//! - **Generation needs the security officer.** `C_GenerateKeyPair` is refused unless the
//!   session is logged in as `CKU_SO`, and the SO "PIN" is the PIV *management key* as hex
//!   (48 digits for the factory-default 3DES key; ykcs11 2.5 and later also take AES-128 and
//!   AES-256 keys, 32 and 64 digits). A 6 to 8 character SO "PIN" is not refused: ykcs11 then
//!   treats it as the user PIN, VERIFYs it (a wrong one costs a PIN try) and looks for a
//!   PIN-protected management key. [`ManagementKey`] therefore only ever holds hex of a
//!   management key's length, so what the officer types as the management key can never
//!   spend a PIN try.
//! - **Keys live in fixed slots named by `CKA_ID`**: 1 to 4 are slots 9a, 9c, 9d, 9e; 5 to 24
//!   the retired slots 82 to 95; 25 is f9, the attestation key, which must never be replaced
//!   ([`PivSlot`]). Labels are fixed by ykcs11 ("Private key for Digital Signature") and
//!   ignored when generating. `GENERATE ASYMMETRIC` replaces whatever key a slot holds, so an
//!   occupied slot is refused before any secret is asked for, and again once logged in.
//! - **Policies are the slot's defaults.** ykcs11 sends no PIN or touch policy, so the key
//!   gets the applet's defaults (9c: PIN before every signature, no touch), and it writes a
//!   placeholder certificate for the key into the slot's certificate object.
//!
//! libykpiv (under ykcs11) keeps the management key it was given in the process's memory until
//! the module is finalized, when the command ends; conclave's own copy is zeroized on drop.
//!
//! The key is generated inside the PIV applet, so the applet's own attestation (`ykman piv
//! keys attest`) covers it as it covers keys made with `--yubikey`.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use super::{DeviceError, P256_OID, Pkcs11Signer, Token, classify};
use crate::secret::Passphrase;

/// The factory-default PIV management key of every YubiKey, as hex. Public knowledge: a
/// YubiKey that still has it lets anyone holding it replace its keys without a PIN.
pub const FACTORY_DEFAULT_MANAGEMENT_KEY: &str = "010203040506070801020304050607080102030405060708";

/// A PIV management key as ykcs11 takes it for the SO login: lower-case hex, zeroized on
/// drop, never shown.
pub struct ManagementKey {
    hex: Zeroizing<String>,
}

/// Why what was typed is not a management key. Nothing about the text itself is repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManagementKeyError {
    /// Characters other than hex digits (spaces and colons between groups are allowed).
    #[error("a PIV management key is written in hex digits (0-9, a-f) only")]
    NotHex,
    /// Hex of a length no management key has.
    #[error(
        "a PIV management key is 48 hex digits (3DES or AES-192; 32 for AES-128, 64 for \
         AES-256), not {0}"
    )]
    Length(usize),
}

impl ManagementKey {
    /// Read a management key from what the officer typed: hex digits, optionally grouped with
    /// spaces or colons, of 32, 48 or 64 digits.
    pub fn parse(typed: &Passphrase) -> Result<ManagementKey, ManagementKeyError> {
        let mut hex = Zeroizing::new(String::with_capacity(64));
        for c in typed.expose().chars() {
            match c {
                ' ' | ':' => {}
                c if c.is_ascii_hexdigit() => hex.push(c.to_ascii_lowercase()),
                _ => return Err(ManagementKeyError::NotHex),
            }
        }
        match hex.len() {
            32 | 48 | 64 => Ok(ManagementKey { hex }),
            n => Err(ManagementKeyError::Length(n)),
        }
    }

    /// The factory default ([`FACTORY_DEFAULT_MANAGEMENT_KEY`]).
    pub fn factory_default() -> ManagementKey {
        ManagementKey {
            hex: Zeroizing::new(FACTORY_DEFAULT_MANAGEMENT_KEY.to_owned()),
        }
    }

    /// Whether this is the factory default, which anyone can look up.
    pub fn is_factory_default(&self) -> bool {
        self.hex.as_str() == FACTORY_DEFAULT_MANAGEMENT_KEY
    }
}

/// A PIV key slot as ykcs11 numbers it (`CKA_ID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PivSlot {
    id: u8,
}

/// Why a URI's `id` does not name a PIV key slot conclave may generate into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PivSlotError {
    /// `id=%19`: the f9 attestation key. Replacing it would end the YubiKey's ability to
    /// prove where its keys were made.
    #[error("id=%19 is the YubiKey's attestation key (slot f9); conclave never replaces it")]
    Attestation,
    /// An id that is not one byte from 1 to 24.
    #[error("id={0} is not a PIV key slot (ykcs11 numbers them %01 to %18)")]
    NotASlot(String),
}

impl PivSlot {
    /// Slot 9c (digital signature), `id=%02`: the slot conclave uses when none is named.
    pub const SIGNATURE: PivSlot = PivSlot { id: 2 };

    /// The slot a URI's `id` names, or [`PivSlot::SIGNATURE`] when it names none.
    pub fn from_id(id: Option<&[u8]>) -> Result<PivSlot, PivSlotError> {
        match id {
            None => Ok(PivSlot::SIGNATURE),
            Some([id @ 1..=24]) => Ok(PivSlot { id: *id }),
            Some([25]) => Err(PivSlotError::Attestation),
            Some(other) => Err(PivSlotError::NotASlot(
                other.iter().map(|b| format!("%{b:02X}")).collect(),
            )),
        }
    }

    /// The `CKA_ID` byte.
    pub fn id(self) -> u8 {
        self.id
    }

    /// The PIV slot number, e.g. 0x9c (SP 800-73-4 Part 1 Table 4b; retired slots 82 to 95).
    pub fn slot(self) -> u8 {
        match self.id {
            1 => 0x9a,
            2 => 0x9c,
            3 => 0x9d,
            4 => 0x9e,
            n => 0x82 + (n - 5),
        }
    }
}

impl std::fmt::Display for PivSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "slot {:02x} (id=%{:02X})", self.slot(), self.id)
    }
}

impl Token {
    /// Whether this token is a YubiKey's PIV applet seen through ykcs11, from what the token
    /// says of itself (not from the module's file name).
    pub fn is_yubikey_piv(&self) -> bool {
        self.manufacturer.starts_with("Yubico") && self.model.starts_with("YubiKey")
    }

    /// Refuse a PIV slot that holds anything (key or certificate), as far as can be seen
    /// before logging in: ykcs11 shows a slot's public key and certificates without a PIN.
    pub fn refuse_occupied_slot(&self, slot: PivSlot) -> Result<(), DeviceError> {
        let session = self.open_session(false)?;
        self.refuse_occupied(&session, slot)
    }

    fn refuse_occupied(&self, session: &Session, slot: PivSlot) -> Result<(), DeviceError> {
        let id = [slot.id()];
        let found = self.find(session, None, None, Some(&id))?;
        // The slot's attestation certificate object carries the same id, but only exists
        // when there is a key to attest: any object with the id means the slot is in use.
        if found.is_empty() {
            Ok(())
        } else {
            Err(DeviceError::SlotOccupied {
                token: self.name(),
                slot: slot.to_string(),
            })
        }
    }

    /// Generate an ECDSA P-256 key in an empty PIV slot through ykcs11, and return it ready
    /// to sign with the user PIN.
    ///
    /// Both secrets are checked before anything is generated: the PIN by a user login (then
    /// logged out, since ykcs11 refuses an SO login over a user one), the management key by
    /// the SO login. After generation the session logs out and in again as the user, so the
    /// returned signer signs as it will at a ceremony.
    pub fn generate_piv(
        &self,
        slot: PivSlot,
        management_key: &ManagementKey,
        pin: &Passphrase,
    ) -> Result<Pkcs11Signer, DeviceError> {
        // ykcs11 refuses an SO login while this process has a read-only session open on the
        // token; none is (the checks before the prompts closed theirs).
        let session = self.open_session(true)?;
        self.login(&session, pin)?;
        self.logout(&session)?;
        self.login_so(&session, management_key)?;
        self.refuse_occupied(&session, slot)?;
        let id = vec![slot.id()];
        let public_template = [
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Id(id.clone()),
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::EcParams(P256_OID.to_vec()),
        ];
        // No CKA_EXTRACTABLE: ykcs11 refuses the attribute (PIV private keys cannot leave
        // the applet in any case).
        let private_template = [
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(id.clone()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
        ];
        let generated = session.generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &public_template,
            &private_template,
        );
        // Whatever happened, leave the SO state before anything else is done in the session.
        let logout = self.logout(&session);
        generated.map_err(self.err("generating the key pair in the PIV slot"))?;
        logout?;
        self.login(&session, pin)?;
        let name = slot.to_string();
        let publics = self.find(&session, Some(ObjectClass::PUBLIC_KEY), None, Some(&id))?;
        let privates = self.find(&session, Some(ObjectClass::PRIVATE_KEY), None, Some(&id))?;
        let (public, private) = match (publics.as_slice(), privates.as_slice()) {
            ([p], [k]) => (*p, *k),
            _ => {
                return Err(DeviceError::NoKey {
                    token: self.name(),
                    label: name,
                });
            }
        };
        let public = self.read_public(&session, public, &name)?;
        self.make_signer(session, private, public, &name, pin)
    }

    /// Log in as the security officer with the PIV management key.
    fn login_so(&self, session: &Session, key: &ManagementKey) -> Result<(), DeviceError> {
        let auth = AuthPin::new(key.hex.as_str().into());
        match session.login(UserType::So, Some(&auth)) {
            Ok(()) => Ok(()),
            // ykcs11 reports a failed management-key authentication as a wrong PIN.
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                Err(DeviceError::ManagementKeyIncorrect { token: self.name() })
            }
            // A length this module does not take (ykcs11 before 2.5: 48 digits only).
            Err(CkError::Pkcs11(
                RvError::ArgumentsBad | RvError::PinLenRange | RvError::PinInvalid,
                _,
            )) => Err(DeviceError::ManagementKeyForm { token: self.name() }),
            Err(e) => Err(classify(
                e,
                &self.name(),
                "logging in with the management key",
            )),
        }
    }

    fn logout(&self, session: &Session) -> Result<(), DeviceError> {
        match session.logout() {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => Ok(()),
            Err(e) => Err(classify(e, &self.name(), "logging out")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> Passphrase {
        Passphrase::new(s.to_owned())
    }

    #[test]
    fn management_keys_are_hex_of_a_key_length() {
        let k = ManagementKey::parse(&typed(
            "01:02:03:04:05:06:07:08 0102030405060708 0102030405060708",
        ))
        .unwrap();
        assert!(k.is_factory_default());
        assert!(ManagementKey::parse(&typed(&"AB".repeat(16))).is_ok());
        assert!(ManagementKey::parse(&typed(&"ab".repeat(32))).is_ok());
        assert!(
            !ManagementKey::parse(&typed(&"ab".repeat(24)))
                .unwrap()
                .is_factory_default()
        );
        // A PIN typed at the management-key prompt is refused here, so ykcs11 never VERIFYs
        // it (which would cost a PIN try).
        assert_eq!(
            ManagementKey::parse(&typed("314159")).err(),
            Some(ManagementKeyError::Length(6))
        );
        assert_eq!(
            ManagementKey::parse(&typed(&"0g".repeat(24))).err(),
            Some(ManagementKeyError::NotHex)
        );
        assert_eq!(
            ManagementKey::parse(&typed(&"01".repeat(23))).err(),
            Some(ManagementKeyError::Length(46))
        );
        assert!(ManagementKey::factory_default().is_factory_default());
    }

    #[test]
    fn piv_slots_by_id() {
        assert_eq!(PivSlot::from_id(None).unwrap().slot(), 0x9c);
        let slots: Vec<u8> = (1..=24)
            .map(|i| PivSlot::from_id(Some(&[i])).unwrap().slot())
            .collect();
        assert_eq!(&slots[..4], &[0x9a, 0x9c, 0x9d, 0x9e]);
        assert_eq!(slots[4], 0x82);
        assert_eq!(slots[23], 0x95);
        assert_eq!(
            PivSlot::from_id(Some(&[25])),
            Err(PivSlotError::Attestation)
        );
        assert!(PivSlot::from_id(Some(&[0])).is_err());
        assert!(PivSlot::from_id(Some(&[26])).is_err());
        assert!(PivSlot::from_id(Some(&[0x9c])).is_err());
        assert!(PivSlot::from_id(Some(&[0, 2])).is_err());
        assert_eq!(PivSlot::SIGNATURE.to_string(), "slot 9c (id=%02)");
    }
}
