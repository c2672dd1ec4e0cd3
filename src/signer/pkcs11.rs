//! Keys inside a PKCS#11 token (an HSM, or SoftHSM2 for rehearsals).
//!
//! The private key is generated inside the token and never leaves it. The flow is built so
//! that everything that can be checked without the PIN is checked before it is asked for:
//!
//! 1. [`Token::open`] loads the module named by the URI's `module-path` and finds exactly one
//!    token matching the URI (label, serial, ...);
//! 2. [`Token::public_key`] reads the key's public half (a public object, readable without
//!    logging in) so the caller can show its keyid and refuse a key that may not sign;
//! 3. [`Token::pin_state`] says whether the PIN is locked or on its last tries;
//! 4. only then [`Token::signer`] (or [`Token::generate`]) logs in with the PIN.
//!
//! Mechanisms (PKCS#11 v3.0 §2.3):
//! - Ed25519: `CKM_EC_EDWARDS_KEY_PAIR_GEN` with the Ed25519 OID as `CKA_EC_PARAMS`, and
//!   `CKM_EDDSA` (pure Ed25519: the token hashes the whole message itself);
//! - ECDSA P-256: `CKM_EC_KEY_PAIR_GEN` with the prime256v1 OID, and raw `CKM_ECDSA` over a
//!   SHA-256 digest computed here (SoftHSM and most HSMs offer no `CKM_ECDSA_SHA256` for
//!   large inputs). The token returns `r || s`; TUF wants ASN.1 DER.
//!
//! Every signature still goes through [`crate::signer::sign_checked`]: a token that returns
//! garbage, or a private object that does not belong to the public one, is caught there.

pub mod piv;
pub mod uri;

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};

pub use piv::{ManagementKey, ManagementKeyError, PivSlot, PivSlotError};
pub use uri::{Pkcs11Uri, UriError};

use crate::metadata::{Key, KeyAlgorithm};
use crate::secret::Passphrase;
use crate::signer::{SignError, Signer};

/// DER of OID 1.3.101.112 (id-Ed25519, RFC 8410), as `CKA_EC_PARAMS`.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER PrintableString "edwards25519": what OpenSC's pkcs11-tool (and PKCS#11 v3.0's
/// curve-name form) stores instead of the OID.
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// DER of OID 1.2.840.10045.3.1.7 (prime256v1 / secp256r1).
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// What went wrong with the module, the token or the key. Messages name the module path,
/// token label or key label involved; the binary adds what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The URI has no `module-path` query attribute (RFC 7512 §2.3), so there is no module
    /// to load; conclave never searches the library path for one.
    #[error("the URI has no module-path: conclave needs to know which PKCS#11 module to load")]
    NoModulePath,
    /// The URI has no `object` path attribute, so no key is named.
    #[error("the URI has no object=LABEL naming the key")]
    NoObject,
    /// `module-path` names nothing on disk.
    #[error("PKCS#11 module {path}: no such file")]
    ModuleMissing {
        /// The module path from the URI.
        path: PathBuf,
    },
    /// `module-path` exists but is a directory or other non-file.
    #[error("PKCS#11 module {path}: not a file")]
    ModuleNotAFile {
        /// The module path from the URI.
        path: PathBuf,
    },
    /// The module could not be loaded as a shared library (`dlopen` failed).
    #[error("PKCS#11 module {path}: cannot be loaded ({reason})")]
    ModuleLoad {
        /// The module path from the URI.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// The module loaded but `C_Initialize` or listing its slots failed.
    #[error("PKCS#11 module {path}: failed to start ({reason})")]
    ModuleInit {
        /// The module path from the URI.
        path: PathBuf,
        /// The PKCS#11 function and return value, e.g. `C_Initialize returned GeneralError`.
        reason: String,
    },
    /// No initialised token matches the URI's token attributes.
    #[error("no token matches {wanted}; tokens present: {}", present_list(.present))]
    NoToken {
        /// The URI's token attributes, as `name="value"` pairs.
        wanted: String,
        /// Every initialised token the module shows, as `label (serial S)`.
        present: Vec<String>,
    },
    /// More than one token matches; the URI must be narrowed (e.g. with `serial`) so that
    /// a ceremony cannot sign with whichever token happens to come first.
    #[error("{count} tokens match {wanted}; the URI must pick exactly one")]
    SeveralTokens {
        /// The URI's token attributes, as `name="value"` pairs.
        wanted: String,
        /// How many tokens matched.
        count: usize,
    },
    /// The token went away (removed, reader lost it, session closed) during an operation.
    #[error("token {token}: the token is not present (removed, or the reader lost it)")]
    TokenNotPresent {
        /// The token's label.
        token: String,
    },
    /// The token has no user PIN (`CKF_USER_PIN_INITIALIZED` unset, or
    /// `CKR_USER_PIN_NOT_INITIALIZED`).
    #[error("token {token} is not initialised, or has no user PIN set")]
    NotInitialised {
        /// The token's label.
        token: String,
    },
    /// No key pair (public and private object) carries the label (and `id`, if given).
    #[error("token {token}: no key labelled \"{label}\"")]
    NoKey {
        /// The token's label.
        token: String,
        /// The key label searched for, control characters escaped.
        label: String,
    },
    /// Several key pairs carry the label; `id` must pick one.
    #[error("token {token}: {count} key pairs are labelled \"{label}\"; the URI must pick one")]
    SeveralKeys {
        /// The token's label.
        token: String,
        /// The key label searched for, control characters escaped.
        label: String,
        /// How many objects of one class carry the label.
        count: usize,
    },
    /// Generation refused: an object with the label already exists, and a second one would
    /// make the label ambiguous.
    #[error("token {token}: an object labelled \"{label}\" already exists; nothing was generated")]
    KeyExists {
        /// The token's label.
        token: String,
        /// The label asked for, control characters escaped.
        label: String,
    },
    /// The labelled key is of a type or curve TUF signing here does not use (see
    /// [`TokenKeyError`]).
    #[error("token {token}: key \"{label}\" is {found}, not a key conclave can use ({why})")]
    UnsupportedKey {
        /// The token's label.
        token: String,
        /// The key's label, control characters escaped.
        label: String,
        /// What the key is, e.g. its `CKA_KEY_TYPE`.
        found: String,
        /// Why it cannot be used.
        why: String,
    },
    /// After login, the public object read differs from the key shown (and checked) before
    /// the PIN was asked for: objects changed in between, or a private object was swapped
    /// in. Signing is refused.
    #[error(
        "token {token}: the private key labelled \"{label}\" does not belong to the public key \
         shown before the PIN was asked for"
    )]
    KeyMismatch {
        /// The token's label.
        token: String,
        /// The key's label, control characters escaped.
        label: String,
    },
    /// A YubiKey PIV slot (ykcs11) already holds a key or certificate: generating would
    /// replace the key, so nothing is generated.
    #[error("token {token}: PIV {slot} already holds a key or certificate; nothing was generated")]
    SlotOccupied {
        /// The token's label.
        token: String,
        /// The slot, e.g. `slot 9c (id=%02)`.
        slot: String,
    },
    /// ykcs11 refused the security-officer login: the PIV management key is not this
    /// YubiKey's. A YubiKey counts no tries for the management key.
    #[error("token {token}: wrong PIV management key; nothing was generated")]
    ManagementKeyIncorrect {
        /// The token's label.
        token: String,
    },
    /// The module does not take a management key of this length (ykcs11 before 2.5 takes
    /// only 48 hex digits).
    #[error(
        "token {token}: the PKCS#11 module does not accept a PIV management key of this \
         length; nothing was generated"
    )]
    ManagementKeyForm {
        /// The token's label.
        token: String,
    },
    /// `C_Login` returned `CKR_PIN_INCORRECT`.
    #[error("token {token}: wrong PIN")]
    PinIncorrect {
        /// The token's label.
        token: String,
        /// The token now reports that one more wrong PIN locks it.
        final_try: bool,
    },
    /// The user PIN is locked (`CKF_USER_PIN_LOCKED` or `CKR_PIN_LOCKED`); only the SO can
    /// unlock it.
    #[error("token {token}: the user PIN is locked")]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// `CKR_PIN_EXPIRED`: the token wants the PIN changed before use.
    #[error("token {token}: the PIN has expired and must be changed")]
    PinExpired {
        /// The token's label.
        token: String,
    },
    /// The token lacks a mechanism or curve the operation needs.
    #[error("token {token} does not support {what}")]
    Unsupported {
        /// The token's label.
        token: String,
        /// What is missing, e.g. the mechanism for an operation.
        what: String,
    },
    /// `CKR_DATA_LEN_RANGE` when signing: the token refuses a message this long.
    #[error("token {token}: the message is too long for the token to sign ({len} bytes)")]
    DataTooLong {
        /// The token's label.
        token: String,
        /// Bytes passed to `C_Sign`.
        len: usize,
    },
    /// `CKR_TOKEN_WRITE_PROTECTED`: a key cannot be generated on this token.
    #[error("token {token}: the token is write-protected")]
    WriteProtected {
        /// The token's label.
        token: String,
    },
    /// Any other PKCS#11 failure.
    #[error("token {token}: {operation} failed ({reason})")]
    Failed {
        /// The token's label.
        token: String,
        /// What conclave was doing, e.g. `"signing"`.
        operation: &'static str,
        /// The return value's name or the library's message.
        reason: String,
    },
}

fn present_list(p: &[String]) -> String {
    if p.is_empty() {
        "none".into()
    } else {
        p.iter()
            .map(|l| format!("\"{}\"", crate::display::escape(l)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The user PIN's state as the token reports it (`CK_TOKEN_INFO.flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinState {
    /// No wrong PIN since the last good one.
    Ok,
    /// At least one wrong PIN has been entered since the last good one.
    CountLow,
    /// One more wrong PIN locks the token.
    FinalTry,
    /// Too many wrong PINs: login is refused until the SO unlocks the PIN.
    Locked,
}

/// Which key to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pkcs11KeyType {
    /// Ed25519 (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, signed with pure `CKM_EDDSA`); TUF keytype
    /// `ed25519`.
    Ed25519,
    /// ECDSA over P-256 (`CKM_EC_KEY_PAIR_GEN`, signed with `CKM_ECDSA` over SHA-256); TUF
    /// scheme `ecdsa-sha2-nistp256`.
    EcdsaP256,
}

/// An opened module and the one token the URI names.
pub struct Token {
    ctx: Pkcs11,
    slot: Slot,
    label: String,
    serial: String,
    manufacturer: String,
    model: String,
    description: String,
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", crate::display::escape(s))
}

impl Token {
    /// Load the module and find the token. Nothing here needs the PIN.
    pub fn open(uri: &Pkcs11Uri) -> Result<Token, DeviceError> {
        let path = uri
            .module_path
            .as_deref()
            .ok_or(DeviceError::NoModulePath)?;
        let ctx = load_module(path)?;
        let module_err = |e: CkError| DeviceError::ModuleInit {
            path: path.to_owned(),
            reason: short(&e),
        };
        let slots = ctx.get_slots_with_token().map_err(module_err)?;
        let mut present = Vec::new();
        let mut matching = Vec::new();
        for slot in slots {
            let info = match ctx.get_token_info(slot) {
                Ok(i) => i,
                // A reader emptied between listing and asking: not a candidate.
                Err(CkError::Pkcs11(
                    RvError::TokenNotPresent | RvError::DeviceRemoved | RvError::SlotIdInvalid,
                    _,
                )) => continue,
                Err(e) => return Err(module_err(e)),
            };
            let label = info.label().trim_end().to_owned();
            let serial = info.serial_number().trim_end().to_owned();
            let manufacturer = info.manufacturer_id().trim_end().to_owned();
            let model = info.model().trim_end().to_owned();
            let fits = uri.token.as_ref().is_none_or(|t| *t == label)
                && uri.serial.as_ref().is_none_or(|s| *s == serial)
                && uri.manufacturer.as_ref().is_none_or(|m| *m == manufacturer)
                && uri.model.as_ref().is_none_or(|m| *m == model)
                && uri.slot_id.is_none_or(|id| id == slot.id());
            if !info.token_initialized() {
                // SoftHSM always offers one empty slot for the next token; it is no candidate.
                continue;
            }
            present.push(format!("{label} (serial {serial})"));
            if fits {
                let description = format!("{manufacturer} {model}, serial {serial}");
                matching.push((slot, label, serial, manufacturer, model, description));
            }
        }
        let wanted = describe_wanted(uri);
        match matching.len() {
            0 => Err(DeviceError::NoToken { wanted, present }),
            1 => {
                let (slot, label, serial, manufacturer, model, description) = matching.remove(0);
                Ok(Token {
                    ctx,
                    slot,
                    label,
                    serial,
                    manufacturer,
                    model,
                    description,
                })
            }
            count => Err(DeviceError::SeveralTokens { wanted, count }),
        }
    }

    /// The token's label (`CK_TOKEN_INFO.label`, trailing blanks trimmed).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The token's serial number (`CK_TOKEN_INFO.serialNumber`, trailing blanks trimmed).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Manufacturer, model and serial, for the officer to check against the token in hand.
    pub fn description(&self) -> &str {
        &self.description
    }

    fn name(&self) -> String {
        quoted(&self.label)
    }

    fn err(&self, operation: &'static str) -> impl Fn(CkError) -> DeviceError + '_ {
        move |e| classify(e, &self.name(), operation)
    }

    /// The user PIN's state, freshly read from the token.
    pub fn pin_state(&self) -> Result<PinState, DeviceError> {
        let info = self
            .ctx
            .get_token_info(self.slot)
            .map_err(self.err("reading the token's state"))?;
        if !info.user_pin_initialized() {
            return Err(DeviceError::NotInitialised { token: self.name() });
        }
        Ok(if info.user_pin_locked() {
            PinState::Locked
        } else if info.user_pin_final_try() {
            PinState::FinalTry
        } else if info.user_pin_count_low() {
            PinState::CountLow
        } else {
            PinState::Ok
        })
    }

    /// Refuse early when the PIN cannot work.
    pub fn check_pin_usable(&self) -> Result<PinState, DeviceError> {
        match self.pin_state()? {
            PinState::Locked => Err(DeviceError::PinLocked { token: self.name() }),
            s => Ok(s),
        }
    }

    fn open_session(&self, rw: bool) -> Result<Session, DeviceError> {
        if rw {
            self.ctx.open_rw_session(self.slot)
        } else {
            self.ctx.open_ro_session(self.slot)
        }
        .map_err(self.err("opening a session"))
    }

    fn find(
        &self,
        session: &Session,
        class: Option<ObjectClass>,
        label: Option<&str>,
        id: Option<&[u8]>,
    ) -> Result<Vec<ObjectHandle>, DeviceError> {
        let mut template = Vec::new();
        if let Some(label) = label {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(c) = class {
            template.push(Attribute::Class(c));
        }
        if let Some(id) = id {
            template.push(Attribute::Id(id.to_vec()));
        }
        session
            .find_objects(&template)
            .map_err(self.err("searching for objects"))
    }

    /// The public key of the key pair labelled `label` and/or with the `CKA_ID` `id` (at least
    /// one given: Yubico's ykcs11 labels a slot's public and private key differently, so
    /// there the key is named by its id alone), read without logging in.
    pub fn public_key(&self, label: Option<&str>, id: Option<&[u8]>) -> Result<Key, DeviceError> {
        let session = self.open_session(false)?;
        let found = self.find(&session, Some(ObjectClass::PUBLIC_KEY), label, id)?;
        let label = &key_name(label, id);
        let handle = match found.as_slice() {
            [] => {
                return Err(DeviceError::NoKey {
                    token: self.name(),
                    label: quoted_inner(label),
                });
            }
            [h] => *h,
            _ => {
                return Err(DeviceError::SeveralKeys {
                    token: self.name(),
                    label: quoted_inner(label),
                    count: found.len(),
                });
            }
        };
        self.read_public(&session, handle, label)
    }

    fn read_public(
        &self,
        session: &Session,
        handle: ObjectHandle,
        label: &str,
    ) -> Result<Key, DeviceError> {
        let attrs = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                ],
            )
            .map_err(self.err("reading the public key"))?;
        let (mut kt, mut params, mut point) = (None, None, None);
        for a in attrs {
            match a {
                Attribute::KeyType(k) => kt = Some(k),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let unsupported = |found: String, why: &str| DeviceError::UnsupportedKey {
            token: self.name(),
            label: quoted_inner(label),
            found,
            why: why.to_owned(),
        };
        let kt = kt.ok_or_else(|| unsupported("of unknown type".into(), "no CKA_KEY_TYPE"))?;
        let (Some(params), Some(point)) = (params, point) else {
            return Err(unsupported(
                format!("a {kt} key"),
                "conclave uses Ed25519 and ECDSA P-256 keys",
            ));
        };
        public_key_from(kt, &params, &point)
            .map_err(|why| unsupported(format!("a {kt} key"), &why.to_string()))
    }

    /// Log in with the user PIN. A wrong PIN reports whether the next wrong one locks the token.
    fn login(&self, session: &Session, pin: &Passphrase) -> Result<(), DeviceError> {
        let auth = AuthPin::new(pin.expose().into());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => {
                let state = self.pin_state().unwrap_or(PinState::CountLow);
                if state == PinState::Locked {
                    return Err(DeviceError::PinLocked { token: self.name() });
                }
                Err(DeviceError::PinIncorrect {
                    token: self.name(),
                    final_try: state == PinState::FinalTry,
                })
            }
            Err(e) => Err(classify(e, &self.name(), "logging in")),
        }
    }

    /// Log in and return a signer for the key pair labelled `label`, whose public key must be
    /// `expected` (the one shown to the officer before the PIN was asked for).
    pub fn signer(
        &self,
        label: Option<&str>,
        id: Option<&[u8]>,
        expected: &Key,
        pin: &Passphrase,
    ) -> Result<Pkcs11Signer, DeviceError> {
        let session = self.open_session(false)?;
        self.login(&session, pin)?;
        // Read the public key again inside the logged-in session: what is signed with must be
        // what was shown.
        let publics = self.find(&session, Some(ObjectClass::PUBLIC_KEY), label, id)?;
        let privates = self.find(&session, Some(ObjectClass::PRIVATE_KEY), label, id)?;
        let label = &key_name(label, id);
        let (pub_handle, private) = match (publics.as_slice(), privates.as_slice()) {
            ([p], [k]) => (*p, *k),
            (_, []) | ([], _) => {
                return Err(DeviceError::NoKey {
                    token: self.name(),
                    label: quoted_inner(label),
                });
            }
            _ => {
                return Err(DeviceError::SeveralKeys {
                    token: self.name(),
                    label: quoted_inner(label),
                    count: privates.len().max(publics.len()),
                });
            }
        };
        let public = self.read_public(&session, pub_handle, label)?;
        if public != *expected {
            return Err(DeviceError::KeyMismatch {
                token: self.name(),
                label: quoted_inner(label),
            });
        }
        self.make_signer(session, private, public, label, pin)
    }

    /// A signer for the logged-in `session`. A private key marked `CKA_ALWAYS_AUTHENTICATE`
    /// (ykcs11 marks PIV slot 9c so, whose default PIN policy is "always") needs the PIN
    /// again before each signature (PKCS#11 v2.40 §4.9, a context-specific login): the signer
    /// then keeps its own zeroizing copy of the PIN, so one PIN entry still signs a round.
    fn make_signer(
        &self,
        session: Session,
        private: ObjectHandle,
        public: Key,
        label: &str,
        pin: &Passphrase,
    ) -> Result<Pkcs11Signer, DeviceError> {
        let algorithm = public
            .algorithm()
            .ok_or_else(|| DeviceError::UnsupportedKey {
                token: self.name(),
                label: quoted_inner(label),
                found: public.keytype.to_string(),
                why: "unsupported".into(),
            })?;
        let always_authenticate = session
            .get_attributes(private, &[AttributeType::AlwaysAuthenticate])
            .map_err(self.err("reading the private key's attributes"))?
            .iter()
            .any(|a| matches!(a, Attribute::AlwaysAuthenticate(true)));
        let signer = Pkcs11Signer {
            session,
            private,
            public,
            algorithm,
            token: self.name(),
            context_pin: always_authenticate.then(|| pin.clone()),
        };
        Ok(signer)
    }

    /// Refuse a label already in use, as far as can be seen without the PIN (public objects).
    pub fn refuse_existing_label(&self, label: &str) -> Result<(), DeviceError> {
        let session = self.open_session(false)?;
        if !self.find(&session, None, Some(label), None)?.is_empty() {
            return Err(DeviceError::KeyExists {
                token: self.name(),
                label: quoted_inner(label),
            });
        }
        Ok(())
    }

    /// Log in and generate a key pair labelled `label` in the token. The private key is
    /// sensitive and not extractable; the public key is a public object so that signing can
    /// show and check it before asking for the PIN.
    pub fn generate(
        &self,
        label: &str,
        id: Option<&[u8]>,
        key_type: Pkcs11KeyType,
        pin: &Passphrase,
    ) -> Result<Pkcs11Signer, DeviceError> {
        let session = self.open_session(true)?;
        self.login(&session, pin)?;
        // Logged in, private objects are visible too: check the label again.
        if !self.find(&session, None, Some(label), None)?.is_empty() {
            return Err(DeviceError::KeyExists {
                token: self.name(),
                label: quoted_inner(label),
            });
        }
        let (mechanism, params, what) = match key_type {
            Pkcs11KeyType::Ed25519 => (
                Mechanism::EccEdwardsKeyPairGen,
                ED25519_OID,
                "Ed25519 key generation (CKM_EC_EDWARDS_KEY_PAIR_GEN)",
            ),
            Pkcs11KeyType::EcdsaP256 => (
                Mechanism::EccKeyPairGen,
                P256_OID,
                "P-256 key generation (CKM_EC_KEY_PAIR_GEN)",
            ),
        };
        let mut common = vec![
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        if let Some(id) = id {
            common.push(Attribute::Id(id.to_vec()));
        }
        let mut public_template = common.clone();
        public_template.extend([
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(params.to_vec()),
        ]);
        let mut private_template = common;
        private_template.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
        ]);
        let (pub_handle, private) = session
            .generate_key_pair(&mechanism, &public_template, &private_template)
            .map_err(|e| match e {
                CkError::Pkcs11(
                    RvError::MechanismInvalid
                    | RvError::MechanismParamInvalid
                    | RvError::CurveNotSupported
                    | RvError::DomainParamsInvalid
                    | RvError::AttributeValueInvalid,
                    _,
                ) => DeviceError::Unsupported {
                    token: self.name(),
                    what: what.into(),
                },
                e => classify(e, &self.name(), "generating the key pair"),
            })?;
        let public = self.read_public(&session, pub_handle, label)?;
        self.make_signer(session, private, public, label, pin)
    }
}

/// Labels come from the URI or the token: escape control characters before printing.
/// How a key named by label and/or id is shown in messages: its label, else `id=%XX...`.
pub fn key_name(label: Option<&str>, id: Option<&[u8]>) -> String {
    match (label, id) {
        (Some(l), _) => l.to_owned(),
        (None, Some(id)) => {
            let hex: String = id.iter().map(|b| format!("%{b:02X}")).collect();
            format!("id={hex}")
        }
        (None, None) => String::new(),
    }
}

fn quoted_inner(label: &str) -> String {
    crate::display::escape(label).into_owned()
}

fn describe_wanted(uri: &Pkcs11Uri) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &uri.token {
        parts.push(format!("token={}", quoted(t)));
    }
    if let Some(s) = &uri.serial {
        parts.push(format!("serial={}", quoted(s)));
    }
    if let Some(m) = &uri.manufacturer {
        parts.push(format!("manufacturer={}", quoted(m)));
    }
    if let Some(m) = &uri.model {
        parts.push(format!("model={}", quoted(m)));
    }
    if let Some(id) = uri.slot_id {
        parts.push(format!("slot-id={id}"));
    }
    if parts.is_empty() {
        "the URI (it names no token)".into()
    } else {
        parts.join(" ")
    }
}

fn load_module(path: &Path) -> Result<Pkcs11, DeviceError> {
    // dlopen would search the library path for a bare name; a ceremony names its module
    // exactly, so a relative name that is not a file is refused rather than searched for.
    if !path.exists() {
        return Err(DeviceError::ModuleMissing {
            path: path.to_owned(),
        });
    }
    if !path.is_file() {
        return Err(DeviceError::ModuleNotAFile {
            path: path.to_owned(),
        });
    }
    let ctx = Pkcs11::new(path).map_err(|e| DeviceError::ModuleLoad {
        path: path.to_owned(),
        reason: match e {
            CkError::LibraryLoading(e) => e.to_string(),
            e => e.to_string(),
        },
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(ctx),
        Err(e) => Err(DeviceError::ModuleInit {
            path: path.to_owned(),
            reason: short(&e),
        }),
    }
}

/// One short line for an error: the PKCS#11 return value's name (e.g. `GeneralError`), not
/// the spec's paragraph-long description of it.
fn short(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, f) => format!("{f:?} returned {rv:?}"),
        e => e.to_string(),
    }
}

/// Map a PKCS#11 return value to what an officer can act on.
fn classify(e: CkError, token: &str, operation: &'static str) -> DeviceError {
    let token = token.to_owned();
    match e {
        CkError::Pkcs11(rv, _) => match rv {
            RvError::TokenNotPresent
            | RvError::DeviceRemoved
            | RvError::TokenNotRecognized
            | RvError::SlotIdInvalid
            | RvError::SessionClosed
            | RvError::SessionHandleInvalid => DeviceError::TokenNotPresent { token },
            RvError::PinLocked => DeviceError::PinLocked { token },
            RvError::PinIncorrect => DeviceError::PinIncorrect {
                token,
                final_try: false,
            },
            RvError::PinExpired => DeviceError::PinExpired { token },
            RvError::UserPinNotInitialized => DeviceError::NotInitialised { token },
            RvError::TokenWriteProtected => DeviceError::WriteProtected { token },
            RvError::MechanismInvalid | RvError::MechanismParamInvalid => {
                DeviceError::Unsupported {
                    token,
                    what: format!("the mechanism needed for {operation}"),
                }
            }
            rv => DeviceError::Failed {
                token,
                operation,
                reason: format!("the token returned {rv:?}"),
            },
        },
        e => DeviceError::Failed {
            token,
            operation,
            reason: e.to_string(),
        },
    }
}

/// A DER OCTET STRING's contents, if `der` is exactly one OCTET STRING.
fn der_octet_string(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&len0, rest) = rest.split_first()?;
    let (len, body) = match len0 {
        0..=0x7f => (len0 as usize, rest),
        0x81 => {
            let (&l, rest) = rest.split_first()?;
            if l < 0x80 {
                return None; // not the shortest form: not DER
            }
            (l as usize, rest)
        }
        _ => return None, // EC points are never 256 bytes or longer
    };
    (body.len() == len).then_some(body)
}

/// A TUF key from `CKA_KEY_TYPE`, `CKA_EC_PARAMS` and `CKA_EC_POINT`.
///
/// `CKA_EC_POINT` is a DER OCTET STRING around the point (PKCS#11 v2.40 §2.3.3; v3.0 §2.3.5
/// for Edwards keys). Some modules return the bare point instead; both are accepted when the
/// length leaves no doubt which one it is.
pub(crate) fn public_key_from(
    kt: KeyType,
    params: &[u8],
    point: &[u8],
) -> Result<Key, TokenKeyError> {
    if kt == KeyType::EC_EDWARDS {
        if params != ED25519_OID && params != ED25519_NAME {
            return Err(TokenKeyError::NotEd25519);
        }
        let raw = match der_octet_string(point) {
            Some(inner) => inner,
            None if point.len() == 32 => point,
            None => return Err(TokenKeyError::NotOctetString),
        };
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| TokenKeyError::Ed25519Length(raw.len()))?;
        let key = Key::ed25519(&raw);
        key.identity().map_err(TokenKeyError::BadKey)?;
        Ok(key)
    } else if kt == KeyType::EC {
        if params != P256_OID {
            return Err(TokenKeyError::NotP256);
        }
        let raw = match der_octet_string(point) {
            Some(inner) => inner,
            // A bare uncompressed point is 65 bytes starting 0x04; its DER form is 67 bytes.
            None if point.len() == 65 && point[0] == 0x04 => point,
            None => return Err(TokenKeyError::NotOctetString),
        };
        let pk = p256::PublicKey::from_sec1_bytes(raw).map_err(|_| TokenKeyError::BadP256Point)?;
        Ok(Key::ecdsa_p256(&pk))
    } else {
        Err(TokenKeyError::Unsupported)
    }
}

/// Why a token's public key cannot be a TUF key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenKeyError {
    /// A `CKK_EC_EDWARDS` key whose `CKA_EC_PARAMS` is neither the Ed25519 OID nor the
    /// `edwards25519` name (e.g. Ed448).
    #[error("its curve is not Ed25519 (Ed448 is not used by TUF)")]
    NotEd25519,
    /// A `CKK_EC` key whose `CKA_EC_PARAMS` is not the prime256v1 OID.
    #[error("its curve is not P-256 (prime256v1)")]
    NotP256,
    /// `CKA_EC_POINT` is neither a DER OCTET STRING nor a bare point of the expected length.
    #[error("its CKA_EC_POINT is not a DER OCTET STRING")]
    NotOctetString,
    /// The Ed25519 point has the given length instead of 32 bytes.
    #[error("an Ed25519 public key is 32 bytes, not {0}")]
    Ed25519Length(usize),
    /// The bytes do not decode to a point on P-256 (SEC1).
    #[error("its CKA_EC_POINT is not a valid P-256 point")]
    BadP256Point,
    /// The Ed25519 bytes are not a usable public key (e.g. not a valid curve point).
    #[error("{0}")]
    BadKey(crate::metadata::SignatureError),
    /// `CKA_KEY_TYPE` is neither `CKK_EC_EDWARDS` nor `CKK_EC` (e.g. RSA).
    #[error("conclave uses Ed25519 and ECDSA P-256 keys")]
    Unsupported,
}

/// A key pair in a token, logged in and ready to sign. Dropping it closes the session (and
/// so logs out once no other session of this process is open).
pub struct Pkcs11Signer {
    session: Session,
    private: ObjectHandle,
    public: Key,
    algorithm: KeyAlgorithm,
    token: String,
    /// The PIN, for a key that needs it before every signature (`CKA_ALWAYS_AUTHENTICATE`).
    context_pin: Option<Passphrase>,
}

impl Pkcs11Signer {
    /// `C_Sign`, or for an always-authenticate key `C_SignInit`, the PIN again as a
    /// context-specific login, then the data and `C_SignFinal` (cryptoki has no single-part
    /// `C_Sign` after a separate init).
    fn sign_once(&self, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>, CkError> {
        let Some(pin) = &self.context_pin else {
            return self.session.sign(mechanism, self.private, data);
        };
        self.session.sign_init(mechanism, self.private)?;
        let auth = AuthPin::new(pin.expose().into());
        self.session.login(UserType::ContextSpecific, Some(&auth))?;
        self.session.sign_update(data)?;
        self.session.sign_final()
    }

    fn device(&self, e: CkError, len: usize) -> SignError {
        let err = match e {
            CkError::Pkcs11(RvError::DataLenRange, _) => DeviceError::DataTooLong {
                token: self.token.clone(),
                len,
            },
            e => classify(e, &self.token, "signing"),
        };
        SignError::Backend(err.to_string())
    }
}

impl Signer for Pkcs11Signer {
    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match self.algorithm {
            KeyAlgorithm::Ed25519 => {
                // Pure Ed25519 (no context, no pre-hash): the scheme TUF's "ed25519" names.
                let mech = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
                self.sign_once(&mech, message)
                    .map_err(|e| self.device(e, message.len()))
            }
            KeyAlgorithm::EcdsaP256 => {
                let digest = Sha256::digest(message);
                let raw = self
                    .sign_once(&Mechanism::Ecdsa, &digest)
                    .map_err(|e| self.device(e, digest.len()))?;
                let sig = p256::ecdsa::Signature::from_slice(&raw).map_err(|_| {
                    SignError::Backend(format!(
                        "token {}: the ECDSA signature is not r||s of 64 bytes ({} bytes)",
                        self.token,
                        raw.len()
                    ))
                })?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_forms() {
        let ed = [0x11u8; 32];
        let ed = ed25519_dalek::SigningKey::from_bytes(&ed)
            .verifying_key()
            .to_bytes();
        let mut der = vec![0x04, 0x20];
        der.extend_from_slice(&ed);
        let k1 = public_key_from(KeyType::EC_EDWARDS, ED25519_OID, &der).unwrap();
        let k2 = public_key_from(KeyType::EC_EDWARDS, ED25519_NAME, &ed).unwrap();
        assert_eq!(k1, Key::ed25519(&ed));
        assert_eq!(k1, k2);
        assert!(public_key_from(KeyType::EC_EDWARDS, P256_OID, &der).is_err());
        assert!(public_key_from(KeyType::EC_EDWARDS, ED25519_OID, &der[..33]).is_err());
        assert!(public_key_from(KeyType::RSA, ED25519_OID, &der).is_err());

        let sk = p256::SecretKey::from_slice(&[0x22; 32]).unwrap();
        let point = {
            use p256::elliptic_curve::sec1::ToSec1Point;
            sk.public_key().to_sec1_point(false).as_bytes().to_vec()
        };
        assert_eq!(point.len(), 65);
        let mut der = vec![0x04, 0x41];
        der.extend_from_slice(&point);
        let want = Key::ecdsa_p256(&sk.public_key());
        assert_eq!(public_key_from(KeyType::EC, P256_OID, &der).unwrap(), want);
        assert_eq!(
            public_key_from(KeyType::EC, P256_OID, &point).unwrap(),
            want
        );
        assert!(public_key_from(KeyType::EC, ED25519_OID, &der).is_err());
        let mut bad = der.clone();
        bad[10] ^= 1;
        assert!(public_key_from(KeyType::EC, P256_OID, &bad).is_err());
    }

    #[test]
    fn der_octet_strings() {
        assert_eq!(der_octet_string(&[0x04, 0x01, 0xaa]), Some(&[0xaa][..]));
        assert_eq!(der_octet_string(&[0x04, 0x02, 0xaa]), None);
        assert_eq!(der_octet_string(&[0x04, 0x81, 0x01, 0xaa]), None);
        assert_eq!(der_octet_string(&[0x03, 0x01, 0xaa]), None);
        assert_eq!(der_octet_string(&[]), None);
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(der_octet_string(&long).map(<[u8]>::len), Some(0x80));
    }

    #[test]
    fn a_missing_module_is_named() {
        let uri = Pkcs11Uri::parse("pkcs11:token=t;object=o?module-path=/nonexistent/libnone.so")
            .unwrap();
        match Token::open(&uri) {
            Err(DeviceError::ModuleMissing { path }) => {
                assert_eq!(path, PathBuf::from("/nonexistent/libnone.so"))
            }
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("opened a module that does not exist"),
        }
    }
}
