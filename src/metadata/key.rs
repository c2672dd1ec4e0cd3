//! Public keys as TUF writes them, their keyids, and signature verification.
//!
//! Supported (TUF spec "KEYTYPE"/"SCHEME", TAP 9; securesystemslib's dispatch table):
//! - `ed25519` / `ed25519`: `keyval.public` is 64 lowercase hex characters (the raw 32-byte key);
//! - `ecdsa` / `ecdsa-sha2-nistp256`: `keyval.public` is a PEM SubjectPublicKeyInfo with LF line
//!   endings and a trailing LF; signatures are ASN.1 DER over SHA-256 of the message. The
//!   legacy keytype spelling `ecdsa-sha2-nistp256` is accepted on input.
//!
//! Any other key is kept (so the metadata still round-trips and its signatures still verify
//! for the keys conclave understands) but cannot verify anything.

use sha2::{Digest, Sha256};

use crate::cjson::{Map, Value};
use crate::metadata::fields::{self, Fields};
use crate::metadata::{FormatError, KeyId};

/// What a key's (keytype, scheme) pair means to conclave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyAlgorithm {
    /// `ed25519` / `ed25519`.
    Ed25519,
    /// `ecdsa` (or the legacy `ecdsa-sha2-nistp256`) / `ecdsa-sha2-nistp256`.
    EcdsaP256,
}

/// A key's `keytype` or `scheme`: one of a handful of strings, repeated on every key (a
/// claimed role holds a million keys), so the known ones are a one-byte index, not a string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Label(LabelRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum LabelRepr {
    /// An index into [`KNOWN_LABELS`] (every known text is held this way, so equal text means
    /// equal representation).
    Known(u8),
    Other(Box<str>),
}

const KNOWN_LABELS: [&str; 6] = [
    "ed25519",
    "ecdsa",
    "ecdsa-sha2-nistp256",
    "rsa",
    "rsassa-pss-sha256",
    "ecdsa-sha2-nistp384",
];

/// The [`Label`] for `s`.
pub fn label(s: &str) -> Label {
    match KNOWN_LABELS.iter().position(|k| *k == s) {
        Some(i) => Label(LabelRepr::Known(i as u8)),
        None => Label(LabelRepr::Other(s.into())),
    }
}

impl Label {
    /// The label's text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            LabelRepr::Known(i) => KNOWN_LABELS[usize::from(*i)],
            LabelRepr::Other(s) => s,
        }
    }
}

impl std::ops::Deref for Label {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Label {
    fn from(s: &str) -> Self {
        label(s)
    }
}

impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A TUF public key object.
///
/// A claimed role holds a million of these, so the common form is compact: an Ed25519
/// public value written as 64 lowercase hex digits is held as its 32 bytes, and the (rare)
/// unknown fields live behind one pointer. The text form is exactly what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// `keytype` (TUF spec "KEYTYPE"), e.g. `ed25519`.
    pub keytype: Label,
    /// `scheme` (TUF spec "SCHEME"), e.g. `ecdsa-sha2-nistp256`.
    pub scheme: Label,
    /// `keyval.public`.
    public: Public,
    /// Unknown fields, `None` when there are none.
    extras: Option<Box<KeyExtras>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyExtras {
    /// Unknown fields inside `keyval` (they are part of the keyid).
    keyval: Map,
    /// Unknown fields of the key object (not part of the keyid).
    key: Map,
}

/// `keyval.public`: 64 lowercase hex digits are held as the 32 bytes they spell (always, so
/// that equal text means equal representation); anything else as text.
#[derive(Clone, PartialEq, Eq)]
enum Public {
    Hex32([u8; 32]),
    Text(Box<str>),
}

impl Public {
    fn new(s: &str) -> Self {
        match crate::metadata::types::lower_hex32(s) {
            Some(raw) => Public::Hex32(raw),
            None => Public::Text(s.into()),
        }
    }
}

impl std::fmt::Debug for Public {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*PublicText::of(self), f)
    }
}

/// `keyval.public` as text, borrowed or spelled out on the stack.
pub enum PublicText<'a> {
    /// A key held as 32 bytes, spelled out as its 64 lowercase hex digits.
    Hex([u8; 64]),
    /// Any other `keyval.public`, as it was read.
    Text(&'a str),
}

impl<'a> PublicText<'a> {
    fn of(public: &'a Public) -> Self {
        match public {
            Public::Hex32(raw) => {
                let mut hex = [0u8; 64];
                hex::encode_to_slice(raw, &mut hex).expect("64 hex digits for 32 bytes");
                PublicText::Hex(hex)
            }
            Public::Text(s) => PublicText::Text(s),
        }
    }
}

impl std::ops::Deref for PublicText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            // Hex digits are ASCII, so this cannot fail.
            PublicText::Hex(hex) => std::str::from_utf8(hex).unwrap_or_default(),
            PublicText::Text(s) => s,
        }
    }
}

static NO_FIELDS: Map = Map::new();

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The key's (keytype, scheme) pair is not one conclave can verify.
    #[error("key type \"{keytype}\" with scheme \"{scheme}\" is not supported")]
    Unsupported {
        /// The key's `keytype`.
        keytype: String,
        /// The key's `scheme`.
        scheme: String,
    },
    /// The key's `keyval.public` does not decode for its scheme (not 64 lowercase hex digits,
    /// not a valid Ed25519 point, not a P-256 PEM public key).
    #[error("the public key is malformed: {0}")]
    MalformedKey(String),
    /// The signature is not hex.
    #[error("the signature is not hex")]
    NotHex,
    /// The signature is an empty string: a placeholder some tools write, never a signature.
    #[error("the signature is empty (a placeholder, not a signature)")]
    Empty,
    /// The signature is hex but the wrong shape for its scheme (an Ed25519 signature is 64
    /// bytes; an ECDSA one is ASN.1 DER).
    #[error("the signature is malformed: {0}")]
    Malformed(String),
    /// The signature does not verify over the message with this key.
    #[error("the signature does not match the signed content")]
    Mismatch,
}

impl Key {
    pub(crate) fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let keytype = f.string("keytype")?;
        let scheme = f.string("scheme")?;
        let keyval_path = f.path("keyval");
        let mut kv = Fields::new(f.required("keyval")?, &keyval_path)?;
        let public = kv.string("public")?;
        Ok(Key::from_parts(
            label(&keytype),
            label(&scheme),
            &public,
            kv.rest(),
            f.rest(),
        ))
    }

    /// A key from its fields: `keyval_extra` are unknown fields inside `keyval`, `extra`
    /// those of the key object.
    pub(crate) fn from_parts(
        keytype: Label,
        scheme: Label,
        public: &str,
        keyval_extra: Map,
        extra: Map,
    ) -> Self {
        let extras = (!keyval_extra.is_empty() || !extra.is_empty()).then(|| {
            Box::new(KeyExtras {
                keyval: keyval_extra,
                key: extra,
            })
        });
        Key {
            keytype,
            scheme,
            public: Public::new(public),
            extras,
        }
    }

    /// `keyval.public`, as written.
    pub fn public(&self) -> PublicText<'_> {
        PublicText::of(&self.public)
    }

    /// Replace `keyval.public` (the keyid changes with it).
    #[cfg(test)]
    pub(crate) fn set_public(&mut self, public: &str) {
        self.public = Public::new(public);
    }

    /// Unknown fields inside `keyval` (part of the keyid).
    pub(crate) fn keyval_extra(&self) -> &Map {
        self.extras.as_ref().map_or(&NO_FIELDS, |e| &e.keyval)
    }

    /// Unknown fields of the key object (not part of the keyid).
    pub fn extra(&self) -> &Map {
        self.extras.as_ref().map_or(&NO_FIELDS, |e| &e.key)
    }

    /// Whether the key has no unknown fields at all (the common case).
    pub(crate) fn is_plain(&self) -> bool {
        self.extras.is_none()
    }

    /// The raw 32 bytes when `keyval.public` is 64 lowercase hex digits.
    pub(crate) fn public_hex32(&self) -> Option<&[u8; 32]> {
        match &self.public {
            Public::Hex32(raw) => Some(raw),
            Public::Text(_) => None,
        }
    }

    /// Read a key object from JSON.
    pub fn from_json(value: Value) -> Result<Self, FormatError> {
        Key::from_value(value, "")
    }

    fn keyval(&self) -> Value {
        fields::object(
            vec![("public", Value::from(&*self.public()))],
            self.keyval_extra(),
        )
    }

    /// The key object as JSON, unknown fields included.
    pub fn to_value(&self) -> Value {
        fields::object(
            vec![
                ("keytype", Value::from(&*self.keytype)),
                ("scheme", Value::from(&*self.scheme)),
                ("keyval", self.keyval()),
            ],
            self.extra(),
        )
    }

    /// An Ed25519 key from its 32 raw bytes.
    pub fn ed25519(public: &[u8; 32]) -> Self {
        Key {
            keytype: "ed25519".into(),
            scheme: "ed25519".into(),
            public: Public::Hex32(*public),
            extras: None,
        }
    }

    /// An ECDSA P-256 key, written as securesystemslib writes it.
    pub fn ecdsa_p256(public: &p256::PublicKey) -> Self {
        use p256::pkcs8::{EncodePublicKey, LineEnding};
        let pem = public
            .to_public_key_pem(LineEnding::LF)
            .expect("encoding a valid P-256 point as SPKI cannot fail");
        Key {
            keytype: "ecdsa".into(),
            scheme: "ecdsa-sha2-nistp256".into(),
            public: Public::new(&pem),
            extras: None,
        }
    }

    /// The keyid conclave computes and writes: SHA-256 over the canonical
    /// `{keytype, scheme, keyval}` (securesystemslib `compute_default_keyid`).
    pub fn keyid(&self) -> KeyId {
        let mut canonical = Vec::with_capacity(160);
        crate::metadata::canonical::keyid_form(self, &mut canonical);
        KeyId::from_digest(&Sha256::digest(&canonical).into())
    }

    /// The algorithm, if conclave supports this (keytype, scheme) pair.
    pub fn algorithm(&self) -> Option<KeyAlgorithm> {
        match (&*self.keytype, &*self.scheme) {
            ("ed25519", "ed25519") => Some(KeyAlgorithm::Ed25519),
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                Some(KeyAlgorithm::EcdsaP256)
            }
            _ => None,
        }
    }

    /// True for the pre-TAP 9 keytype spelling `ecdsa-sha2-nistp256`.
    pub(crate) fn is_legacy_keytype(&self) -> bool {
        self.keytype == "ecdsa-sha2-nistp256"
    }

    fn unsupported(&self) -> SignatureError {
        SignatureError::Unsupported {
            keytype: self.keytype.to_string(),
            scheme: self.scheme.to_string(),
        }
    }

    /// The key material itself, independent of how the key object is spelled. Two key objects
    /// with the same identity are one key for threshold counting (TAP 12), whatever their
    /// keyids say.
    pub fn identity(&self) -> Result<(KeyAlgorithm, Vec<u8>), SignatureError> {
        match self.algorithm().ok_or_else(|| self.unsupported())? {
            KeyAlgorithm::Ed25519 => Ok((
                KeyAlgorithm::Ed25519,
                self.ed25519_key()?.to_bytes().to_vec(),
            )),
            KeyAlgorithm::EcdsaP256 => {
                use p256::pkcs8::EncodePublicKey;
                let der = self
                    .p256_key()?
                    .to_public_key_der()
                    .map_err(|e| SignatureError::MalformedKey(e.to_string()))?;
                Ok((KeyAlgorithm::EcdsaP256, der.as_bytes().to_vec()))
            }
        }
    }

    fn ed25519_key(&self) -> Result<ed25519_dalek::VerifyingKey, SignatureError> {
        let malformed = || {
            SignatureError::MalformedKey(
                "an ed25519 public key is 64 lowercase hex characters".into(),
            )
        };
        // Exactly the keys written as 64 lowercase hex digits are held as bytes.
        let raw = self.public_hex32().ok_or_else(malformed)?;
        ed25519_dalek::VerifyingKey::from_bytes(raw)
            .map_err(|_| SignatureError::MalformedKey("not a valid ed25519 point".into()))
    }

    fn p256_key(&self) -> Result<p256::PublicKey, SignatureError> {
        use p256::pkcs8::DecodePublicKey;
        p256::PublicKey::from_public_key_pem(&self.public())
            .map_err(|e| SignatureError::MalformedKey(format!("not a P-256 PEM public key ({e})")))
    }

    /// Check a hex signature over `message`. This and `Key::verify_pieces` are the only
    /// signature checks in conclave, and share the decoding of keys and signatures.
    pub fn verify(&self, message: &[u8], sig_hex: &str) -> Result<(), SignatureError> {
        match self.decode_signature(sig_hex)? {
            Decoded::Ed25519(key, sig) => key
                .verify_strict(message, &sig)
                .map_err(|_| SignatureError::Mismatch),
            Decoded::EcdsaP256(key, sig) => {
                use p256::ecdsa::signature::Verifier;
                key.verify(message, &sig)
                    .map_err(|_| SignatureError::Mismatch)
            }
        }
    }

    /// [`Key::verify`] over a message too large to hold, which `feed` hands to the sink it is
    /// given, in pieces. Ed25519 hashes the pieces as they come with ed25519-dalek's stream
    /// verifier, which computes the same equation as `verify_strict`; the two refusals
    /// `verify_strict` adds (a weak key, a small-order `R`) are made here before any hashing,
    /// so the two checks accept exactly the same signatures (a unit test holds a signature
    /// only the small-order check refuses). Other schemes take the message whole. The outer
    /// error is `feed`'s.
    pub(crate) fn verify_pieces<E>(
        &self,
        sig_hex: &str,
        feed: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), E>,
    ) -> Result<Result<(), SignatureError>, E> {
        let decoded = match self.decode_signature(sig_hex) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        match decoded {
            Decoded::Ed25519(key, sig) => {
                if key.is_weak() || small_order_r(&sig) {
                    return Ok(Err(SignatureError::Mismatch));
                }
                let Ok(mut stream) = key.verify_stream(&sig) else {
                    return Ok(Err(SignatureError::Mismatch));
                };
                feed(&mut |piece| stream.update(piece))?;
                Ok(stream
                    .finalize_and_verify()
                    .map_err(|_| SignatureError::Mismatch))
            }
            Decoded::EcdsaP256(..) => {
                let mut whole = Vec::new();
                feed(&mut |piece| whole.extend_from_slice(piece))?;
                Ok(self.verify(&whole, sig_hex))
            }
        }
    }

    /// The key and the signature, decoded for its scheme.
    fn decode_signature(&self, sig_hex: &str) -> Result<Decoded, SignatureError> {
        let algorithm = self.algorithm().ok_or_else(|| self.unsupported())?;
        if sig_hex.is_empty() {
            return Err(SignatureError::Empty);
        }
        // Uppercase hex decodes to the same bytes; securesystemslib accepts it, so conclave
        // does too (and the lint points it out).
        let raw = hex::decode(sig_hex).map_err(|_| SignatureError::NotHex)?;
        Ok(match algorithm {
            KeyAlgorithm::Ed25519 => {
                let key = self.ed25519_key()?;
                let bytes: [u8; 64] = raw.as_slice().try_into().map_err(|_| {
                    SignatureError::Malformed(format!(
                        "an ed25519 signature is 64 bytes, this one is {}",
                        raw.len()
                    ))
                })?;
                Decoded::Ed25519(key, ed25519_dalek::Signature::from_bytes(&bytes))
            }
            KeyAlgorithm::EcdsaP256 => {
                let key = p256::ecdsa::VerifyingKey::from(self.p256_key()?);
                let sig = p256::ecdsa::Signature::from_der(&raw).map_err(|_| {
                    SignatureError::Malformed("not an ASN.1 DER ECDSA signature".into())
                })?;
                Decoded::EcdsaP256(key, sig)
            }
        })
    }
}

/// Whether an Ed25519 signature's `R` is not a point or is a point of small order: the
/// refusal `verify_strict` makes and the stream verifier does not.
fn small_order_r(sig: &ed25519_dalek::Signature) -> bool {
    curve25519_dalek::edwards::CompressedEdwardsY(*sig.r_bytes())
        .decompress()
        .is_none_or(|r| r.is_small_order())
}

/// A public key and a signature, decoded for their scheme.
enum Decoded {
    Ed25519(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature),
    EcdsaP256(p256::ecdsa::VerifyingKey, p256::ecdsa::Signature),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature whose `R` is the identity (a small-order point) that satisfies the
    /// verification equation: for `A = aB` and `S = k a` with `k = H(R || A || M)`,
    /// `SB - kA` is the identity. Only the small-order refusal tells it apart.
    #[test]
    fn attack_small_order_r_is_refused_whole_and_in_pieces() {
        use curve25519_dalek::{EdwardsPoint, Scalar};
        use sha2::Digest;
        let a = Scalar::from_bytes_mod_order([7; 32]);
        let public = EdwardsPoint::mul_base(&a).compress().to_bytes();
        let mut r = [0u8; 32];
        r[0] = 1; // the identity, y = 1
        let message = b"claimed role";
        let k = Scalar::from_bytes_mod_order_wide(
            &sha2::Sha512::new()
                .chain_update(r)
                .chain_update(public)
                .chain_update(message)
                .finalize()
                .into(),
        );
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice((k * a).as_bytes());
        // The equation holds: the cofactorless, non-strict check accepts it.
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
        use ed25519_dalek::Verifier;
        vk.verify(message, &ed25519_dalek::Signature::from_bytes(&sig))
            .unwrap();
        let key = Key::ed25519(&public);
        let hex = hex::encode(sig);
        assert!(key.verify(message, &hex).is_err());
        let pieces = key
            .verify_pieces(&hex, |sink| {
                message.chunks(5).for_each(&mut *sink);
                Ok::<(), ()>(())
            })
            .unwrap();
        assert!(
            pieces.is_err(),
            "the streamed check accepted a small-order R"
        );
        // The same check passes a genuine signature given in pieces.
        let sk = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let good = Key::ed25519(&sk.verifying_key().to_bytes());
        use ed25519_dalek::Signer as _;
        let sig = hex::encode(sk.sign(message).to_bytes());
        good.verify_pieces(&sig, |sink| {
            message.chunks(5).for_each(&mut *sink);
            Ok::<(), ()>(())
        })
        .unwrap()
        .unwrap();
    }

    #[test]
    fn ed25519_vector_from_the_facts_sheet() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&core::array::from_fn(|i| i as u8));
        let key = Key::ed25519(&sk.verifying_key().to_bytes());
        assert_eq!(
            &*key.public(),
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
        );
        assert_eq!(
            key.keyid().as_str(),
            "63d00ee3cf4f5c61ad94efa696c68f13b608fe56ecea13fb144a6fd18e9235b9"
        );
        let msg = br#"{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"version":1}},"spec_version":"1.0.31","version":1}"#;
        let sig = "62f7d456d25a35462e22b7be1cff895cfc5a7fdc90b4856e934cd27a975711c79c6a95239a96a323de7bfa17d2fbc7aac1b487d3163bbe45d193332c91ad3e09";
        key.verify(msg, sig).unwrap();
        assert_eq!(key.verify(&msg[1..], sig), Err(SignatureError::Mismatch));
        assert_eq!(key.verify(msg, ""), Err(SignatureError::Empty));
        key.verify(msg, &sig.to_uppercase()).unwrap();
        assert_eq!(key.verify(msg, "zz"), Err(SignatureError::NotHex));
    }

    #[test]
    fn p256_vector_from_the_facts_sheet() {
        let scalar = hex::decode("1234567890abcdef".repeat(4)).unwrap();
        let sk = p256::SecretKey::from_slice(&scalar).unwrap();
        let key = Key::ecdsa_p256(&sk.public_key());
        assert_eq!(
            &*key.public(),
            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERxw+dYxJBChbun5TEY7Q9SSt6wdX\n0lvS+Oew1236cUzdUg96yoqLkXrMN/Ud6PDJu+OthYOC5wLcJaEtCfeoWA==\n-----END PUBLIC KEY-----\n"
        );
        assert_eq!(
            key.keyid().as_str(),
            "2984d406233c2eac07be650ff8074a2901a68f1d0ecd48fb3f49e3f85f363b75"
        );
        let mut legacy = key.clone();
        legacy.keytype = "ecdsa-sha2-nistp256".into();
        assert_eq!(legacy.algorithm(), Some(KeyAlgorithm::EcdsaP256));
        assert_eq!(legacy.identity().unwrap(), key.identity().unwrap());
        assert_ne!(legacy.keyid(), key.keyid());
    }

    #[test]
    fn unsupported_and_malformed_keys_verify_nothing() {
        let mut key = Key::ed25519(&[7; 32]);
        key.scheme = "rsassa-pss-sha256".into();
        assert!(matches!(
            key.verify(b"x", "00"),
            Err(SignatureError::Unsupported { .. })
        ));
        let mut key = Key::ed25519(&[7; 32]);
        key.set_public("zz");
        assert!(matches!(
            key.verify(b"x", &"00".repeat(64)),
            Err(SignatureError::MalformedKey(_))
        ));
    }

    #[test]
    fn labels_are_small_and_read_back() {
        assert_eq!(std::mem::size_of::<Label>(), 16);
        for text in KNOWN_LABELS.iter().copied().chain(["", "x-new-scheme"]) {
            let l = label(text);
            assert_eq!(l.as_str(), text);
            assert_eq!(l, Label::from(text));
            assert_eq!(l.to_string(), text);
        }
        assert_ne!(label("ed25519"), label("ecdsa"));
    }

    #[test]
    fn public_values_keep_their_spelling() {
        let lower = "ab".repeat(32);
        let upper = "AB".repeat(32);
        for (text, verifies) in [
            (lower.as_str(), true),
            (upper.as_str(), false),
            ("zz", false),
        ] {
            let key = Key::from_parts(
                label("ed25519"),
                label("ed25519"),
                text,
                Map::new(),
                Map::new(),
            );
            assert_eq!(&*key.public(), text);
            let value = key.to_value();
            let written = value.get("keyval").and_then(|v| v.get("public"));
            assert_eq!(written.and_then(Value::as_str), Some(text));
            assert_eq!(key.public_hex32().is_some(), verifies);
        }
        // The same text read twice is the same key, whichever way it was made.
        let a = Key::ed25519(&[0xab; 32]);
        let b = Key::from_parts(
            label("ed25519"),
            label("ed25519"),
            &lower,
            Map::new(),
            Map::new(),
        );
        assert_eq!(a, b);
        assert_eq!(a.keyid(), b.keyid());
    }
}
