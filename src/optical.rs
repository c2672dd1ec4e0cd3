//! Optical transfer: a detached signature (or a request digest) as a short text and a QR code,
//! so nothing has to be carried across the air gap on a USB stick.
//!
//! The text form is `CONCLAVE1:` followed by unpadded base32 (RFC 4648 alphabet, uppercase) of
//! a compact binary record. Uppercase base32 and `:` are all in QR's alphanumeric mode (5.5
//! bits a character), and a barcode scanner acting as a keyboard types them the same on every
//! keyboard layout. Lowercase, spaces and hyphens are accepted when reading, for text typed by
//! hand.
//!
//! Record (version 1), every integer big-endian unless said otherwise:
//!
//! ```text
//! kind      u8        1 = detached signature, 2 = request digest
//! role      u8 length, UTF-8 bytes
//! version   unsigned LEB128 (1 ..= 2^63-1)
//! payload   32 bytes  SHA-256 of the canonical signed bytes
//! -- kind 1 only:
//! flags     u8        bit 0: key is ecdsa/ecdsa-sha2-nistp256 (else ed25519/ed25519)
//!                     bit 1: the signature's keyid is given (else it is the key's own keyid)
//! keyid     32 bytes  when flag bit 1
//! key       32 bytes (Ed25519) or 33 bytes (P-256, SEC1 compressed)
//! sig       64 bytes (Ed25519) or u8 length + ASN.1 DER (P-256)
//! --
//! check     4 bytes   the first 4 bytes of SHA-256 of everything above
//! ```
//!
//! The checksum rejects a mistyped or misread text (about one in four billion slips through);
//! the signature itself is checked against the draft by `conclave merge` as for any signature
//! file. A signature file is only encoded if the text decodes back to the identical file
//! bytes, so `qr read` always writes exactly the file `sign` wrote.

use sha2::{Digest, Sha256};

use crate::ceremony::detached::{DetachedSignature, SignatureFileError};
use crate::metadata::{Key, KeyAlgorithm, KeyId, Signature, SignatureError, ValueError};

/// What every text form starts with (the `1` is the record version).
pub const PREFIX: &str = "CONCLAVE1:";
const KIND_SIGNATURE: u8 = 1;
const KIND_REQUEST: u8 = 2;
const FLAG_ECDSA: u8 = 1;
const FLAG_KEYID: u8 = 2;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Longer texts are not ours (a signature record is under 200 bytes).
const MAX_TEXT: usize = 2048;

/// Why a signature or request could not be put into a text, or a text read back.
#[derive(Debug, thiserror::Error)]
pub enum OpticalError {
    /// A character outside the base32 alphabet; `position` counts from 1 after the prefix.
    #[error(
        "character {position} after the prefix ({}) is not one of A-Z and 2-7",
        .character.escape_default()
    )]
    Character {
        /// 1-based position after the prefix.
        position: usize,
        /// The character found.
        character: char,
    },
    /// Base32 the encoder never writes: a dangling character or nonzero filler bits.
    #[error("the text is cut short or has extra characters")]
    CutShort,
    /// A role name too long for the record's length byte.
    #[error("the role name is longer than 255 bytes")]
    LongRole,
    /// A version outside 1 ..= 2^63-1, when encoding.
    #[error("version {0} is out of range")]
    Version(u64),
    /// A version outside 1 ..= 2^63-1, when decoding.
    #[error("the version is out of range")]
    RecordVersion,
    /// The payload digest is not 64 hex characters.
    #[error("the payload digest is not 64 hex characters")]
    Digest,
    /// The request's payload digest has uppercase hex.
    #[error("the payload digest must be lowercase hex")]
    UppercaseDigest,
    /// The bytes are not a signature file.
    #[error(transparent)]
    SignatureFile(#[from] SignatureFileError),
    /// A signature file not laid out byte for byte as conclave writes them.
    #[error("the file is not laid out as conclave writes signature files")]
    NotCanonical,
    /// A signature file the record cannot carry (key type, spelling, sizes).
    #[error("it cannot be carried as a QR code: {reason}; carry the file itself")]
    Uncarriable {
        /// Why not.
        reason: String,
    },
    /// Too long to be a conclave text.
    #[error("longer than {MAX_TEXT} characters: not a conclave QR text")]
    TooLong,
    /// The text does not start with [`PREFIX`].
    #[error("not a conclave QR text: it must start with {PREFIX}")]
    NoPrefix,
    /// Fewer bytes than the checksum.
    #[error("the text is too short")]
    TooShort,
    /// The checksum does not match: a slip when typing or scanning.
    #[error("checksum mismatch: the text was mistyped or misread; scan or type it again")]
    Checksum,
    /// The record ends before the named part.
    #[error("the record ends before its {0}")]
    Ends(&'static str),
    /// A record kind this conclave does not know.
    #[error("unknown record kind {0} (a newer conclave?)")]
    Kind(u8),
    /// The role name is not UTF-8.
    #[error("the role name is not UTF-8")]
    RoleNotUtf8,
    /// The role name is not one a repository can hold.
    #[error("the role name: {0}")]
    Role(crate::metadata::ValueError),
    /// The signature is not a well-formed signature for its key type.
    #[error("the signature is malformed for its key type")]
    MalformedSignature,
    /// Bytes after the end of the record; `after` names its last part.
    #[error("unexpected bytes after the {after}")]
    Trailing {
        /// "request digest" or "signature".
        after: &'static str,
    },
    /// Flags this conclave does not know.
    #[error("unknown flags {0:#04x} (a newer conclave?)")]
    Flags(u8),
    /// The Ed25519 public key is not a valid key.
    #[error("the public key is malformed")]
    Ed25519Key(#[source] SignatureError),
    /// The P-256 public key is not a point of the curve.
    #[error("the public key is not a P-256 point")]
    P256Key,
    /// The keyid in the record is not a keyid.
    #[error(transparent)]
    KeyId(#[from] ValueError),
    /// The decoded signature file reads back differently.
    #[error("the record does not make a consistent signature file")]
    Inconsistent,
    /// The decoded signature file does not read back.
    #[error("the record does not make a signature file")]
    NotSignatureFile(#[source] SignatureFileError),
    /// The text does not fit in a QR code.
    #[error("cannot make a QR code")]
    Qr(#[source] qrcode::types::QrError),
}

/// What a signing request is about: the draft's role, version and payload digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDigest {
    /// The draft's role.
    pub role: String,
    /// The draft's version.
    pub version: u64,
    /// Lowercase hex SHA-256 of the canonical signed bytes.
    pub payload_sha256: String,
}

/// A decoded text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Boxed: a signature file is several times the size of a request digest.
    Signature(Box<DetachedSignature>),
    /// A request digest, to compare with what the signer shows.
    Request(RequestDigest),
}

// ---------------------------------------------------------------------------------------------
// base32

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Result<Vec<u8>, OpticalError> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.chars().enumerate() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => {
                return Err(OpticalError::Character {
                    position: i + 1,
                    character: c,
                });
            }
        };
        acc = ((acc << 5) | v) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // What the encoder never writes: a dangling character, or nonzero filler bits.
    if bits >= 5 || acc & ((1 << bits) - 1) != 0 {
        return Err(OpticalError::CutShort);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// encoding

fn push_leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn header(
    out: &mut Vec<u8>,
    kind: u8,
    role: &str,
    version: u64,
    digest_hex: &str,
) -> Result<(), OpticalError> {
    out.push(kind);
    let role_len = u8::try_from(role.len()).map_err(|_| OpticalError::LongRole)?;
    out.push(role_len);
    out.extend_from_slice(role.as_bytes());
    if version == 0 || version > i64::MAX as u64 {
        return Err(OpticalError::Version(version));
    }
    push_leb128(out, version);
    let mut digest = [0u8; 32];
    hex::decode_to_slice(digest_hex, &mut digest).map_err(|_| OpticalError::Digest)?;
    out.extend_from_slice(&digest);
    Ok(())
}

fn finish(mut record: Vec<u8>) -> String {
    let check = Sha256::digest(&record);
    record.extend_from_slice(&check[..4]);
    format!("{PREFIX}{}", base32(&record))
}

/// The text for any record bytes, checksum added: for the fuzz target (so it can reach the
/// record reader behind the checksum) and tests. Conclave itself only writes records through
/// [`encode_signature`] and [`encode_request`].
pub fn seal_record(record: &[u8]) -> String {
    finish(record.to_vec())
}

/// The text form of a signature file, exactly as conclave wrote it. Refused (with the reason)
/// when the text would not give back the identical bytes: a file edited by hand, a legacy key
/// spelling, extra fields.
pub fn encode_signature(file_bytes: &[u8]) -> Result<String, OpticalError> {
    let sig = DetachedSignature::parse(file_bytes)?;
    if sig.to_bytes() != file_bytes {
        return Err(OpticalError::NotCanonical);
    }
    let cannot = |why: &str| OpticalError::Uncarriable {
        reason: why.to_owned(),
    };
    let mut rec = Vec::with_capacity(200);
    header(
        &mut rec,
        KIND_SIGNATURE,
        &sig.role,
        sig.version,
        &sig.payload_sha256,
    )?;
    let key = &sig.public_key;
    let algorithm = key
        .algorithm()
        .ok_or_else(|| cannot("the key type is not ed25519 or ecdsa-sha2-nistp256"))?;
    let (_, identity) = key.identity().map_err(|e| cannot(&e.to_string()))?;
    let mut flags = 0;
    if algorithm == KeyAlgorithm::EcdsaP256 {
        flags |= FLAG_ECDSA;
    }
    let own_keyid = sig.signature.keyid == key.keyid();
    if !own_keyid {
        flags |= FLAG_KEYID;
    }
    rec.push(flags);
    if !own_keyid {
        let mut id = [0u8; 32];
        hex::decode_to_slice(&*sig.signature.keyid.as_str(), &mut id)
            .map_err(|_| cannot("its keyid is not 64 hex characters"))?;
        rec.extend_from_slice(&id);
    }
    let raw_sig =
        hex::decode(&sig.signature.sig).map_err(|_| cannot("the signature is not hex"))?;
    match algorithm {
        KeyAlgorithm::Ed25519 => {
            rec.extend_from_slice(&identity);
            if raw_sig.len() != 64 {
                return Err(cannot("an Ed25519 signature must be 64 bytes"));
            }
            rec.extend_from_slice(&raw_sig);
        }
        KeyAlgorithm::EcdsaP256 => {
            use p256::elliptic_curve::sec1::ToSec1Point;
            use p256::pkcs8::DecodePublicKey;
            let pk = p256::PublicKey::from_public_key_der(&identity)
                .map_err(|e| cannot(&e.to_string()))?;
            rec.extend_from_slice(pk.to_sec1_point(true).as_bytes());
            let len =
                u8::try_from(raw_sig.len()).map_err(|_| cannot("the signature is too long"))?;
            rec.push(len);
            rec.extend_from_slice(&raw_sig);
        }
    }
    let text = finish(rec);
    // The promise: the text gives back these exact bytes.
    match decode(&text) {
        Ok(Transfer::Signature(back)) if back.to_bytes() == file_bytes => Ok(text),
        _ => Err(cannot(
            "its keyid, key or signature is not spelled the way conclave writes them",
        )),
    }
}

/// The text form of a signing request's digest.
pub fn encode_request(req: &RequestDigest) -> Result<String, OpticalError> {
    if req.payload_sha256.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(OpticalError::UppercaseDigest);
    }
    let mut rec = Vec::with_capacity(64);
    header(
        &mut rec,
        KIND_REQUEST,
        &req.role,
        req.version,
        &req.payload_sha256,
    )?;
    Ok(finish(rec))
}

// ---------------------------------------------------------------------------------------------
// decoding

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], OpticalError> {
        if self.0.len() < n {
            return Err(OpticalError::Ends(what));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, OpticalError> {
        Ok(self.take(1, what)?[0])
    }

    fn leb128(&mut self) -> Result<u64, OpticalError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.byte("version")?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(OpticalError::RecordVersion);
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(OpticalError::RecordVersion)
    }
}

/// Read a text form back (as typed by a scanner or a person). Every problem is one line.
pub fn decode(text: &str) -> Result<Transfer, OpticalError> {
    if text.len() > MAX_TEXT {
        return Err(OpticalError::TooLong);
    }
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let body = cleaned.strip_prefix(PREFIX).ok_or(OpticalError::NoPrefix)?;
    let raw = unbase32(body)?;
    if raw.len() < 5 {
        return Err(OpticalError::TooShort);
    }
    let (record, check) = raw.split_at(raw.len() - 4);
    if Sha256::digest(record)[..4] != *check {
        return Err(OpticalError::Checksum);
    }
    let mut r = Reader(record);
    let kind = r.byte("kind")?;
    if kind != KIND_SIGNATURE && kind != KIND_REQUEST {
        return Err(OpticalError::Kind(kind));
    }
    let role_len = r.byte("role")? as usize;
    let role = std::str::from_utf8(r.take(role_len, "role")?)
        .map_err(|_| OpticalError::RoleNotUtf8)?
        .to_owned();
    // Before anything is written or shown: a role a repository can hold (not empty, no
    // control characters, no path separators), whatever the checksum says.
    crate::ceremony::detached::check_role(&role).map_err(|e| match e {
        SignatureFileError::Role(v) => OpticalError::Role(v),
        other => OpticalError::NotSignatureFile(other),
    })?;
    let version = r.leb128()?;
    if version == 0 || version > i64::MAX as u64 {
        return Err(OpticalError::RecordVersion);
    }
    let payload_sha256 = hex::encode(r.take(32, "payload digest")?);
    if kind == KIND_REQUEST {
        if !r.0.is_empty() {
            return Err(OpticalError::Trailing {
                after: "request digest",
            });
        }
        return Ok(Transfer::Request(RequestDigest {
            role,
            version,
            payload_sha256,
        }));
    }
    let flags = r.byte("flags")?;
    if flags & !(FLAG_ECDSA | FLAG_KEYID) != 0 {
        return Err(OpticalError::Flags(flags));
    }
    let keyid = if flags & FLAG_KEYID != 0 {
        Some(hex::encode(r.take(32, "keyid")?))
    } else {
        None
    };
    let (public_key, sig) = if flags & FLAG_ECDSA == 0 {
        let raw: [u8; 32] = r.take(32, "public key")?.try_into().expect("32 bytes");
        let key = Key::ed25519(&raw);
        key.identity().map_err(OpticalError::Ed25519Key)?;
        let sig = r.take(64, "signature")?;
        // Its S half must be a canonical scalar, as every verifier requires; the signature
        // itself is checked against the draft by merge.
        let s: [u8; 32] = sig[32..].try_into().expect("32 bytes");
        if curve25519_dalek::Scalar::from_canonical_bytes(s)
            .into_option()
            .is_none()
        {
            return Err(OpticalError::MalformedSignature);
        }
        (key, hex::encode(sig))
    } else {
        let point = r.take(33, "public key")?;
        let pk = p256::PublicKey::from_sec1_bytes(point).map_err(|_| OpticalError::P256Key)?;
        let len = r.byte("signature")? as usize;
        let der = r.take(len, "signature")?;
        p256::ecdsa::DerSignature::from_bytes(der).map_err(|_| OpticalError::MalformedSignature)?;
        (Key::ecdsa_p256(&pk), hex::encode(der))
    };
    if !r.0.is_empty() {
        return Err(OpticalError::Trailing { after: "signature" });
    }
    let keyid = match keyid {
        Some(k) => KeyId::new(&k)?,
        None => public_key.keyid(),
    };
    let detached = DetachedSignature {
        role,
        version,
        payload_sha256,
        signature: Signature {
            keyid,
            sig,
            extra: Default::default(),
        },
        public_key,
    };
    // Whatever is decoded must be a signature file conclave reads back the same.
    match DetachedSignature::parse(&detached.to_bytes()) {
        Ok(back) if back == detached => Ok(Transfer::Signature(Box::new(detached))),
        Ok(_) => Err(OpticalError::Inconsistent),
        Err(e) => Err(OpticalError::NotSignatureFile(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// the QR code

/// The QR code of `text` (error correction level M): its width in modules and, row by row,
/// whether each module is dark. No quiet zone.
pub(crate) fn qr_modules(text: &str) -> Result<(usize, Vec<bool>), OpticalError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(OpticalError::Qr)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// Width of the light margin around the code, in modules (the QR standard asks for 4).
pub(crate) const QUIET_ZONE: usize = 4;

/// The QR code as terminal lines of Unicode half blocks, two module rows per line, quiet zone
/// included. By default light modules are drawn (for light text on a dark terminal, the usual
/// default); `dark_on_light` draws the dark modules instead.
pub fn qr_lines(text: &str, dark_on_light: bool) -> Result<Vec<String>, OpticalError> {
    let (w, dark) = qr_modules(text)?;
    let full = w + 2 * QUIET_ZONE;
    let is_dark = |x: usize, y: usize| -> bool {
        x >= QUIET_ZONE
            && y >= QUIET_ZONE
            && x < QUIET_ZONE + w
            && y < QUIET_ZONE + w
            && dark[(y - QUIET_ZONE) * w + (x - QUIET_ZONE)]
    };
    // Drawn = the module is shown as ink (a block character).
    let drawn = |x: usize, y: usize| y < full && (is_dark(x, y) == dark_on_light);
    let mut lines = Vec::with_capacity(full.div_ceil(2));
    for y in (0..full).step_by(2) {
        let line: String = (0..full)
            .map(|x| match (drawn(x, y), drawn(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            })
            .collect();
        lines.push(line);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::AnyMetadata;

    fn signed_file(signer: &dyn crate::signer::Signer) -> Vec<u8> {
        let md = br#"{"signatures": [], "signed": {"_type": "targets", "expires": "2100-01-01T00:00:00Z", "spec_version": "1.0.31", "targets": {}, "version": 7}}"#;
        let any = AnyMetadata::from_bytes(md).unwrap();
        crate::ceremony::sign_detached(&any, "claimed", signer, None)
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        // RFC 4648 §10 vectors, without padding.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), enc);
            assert_eq!(unbase32(enc).unwrap(), plain.as_bytes());
        }
        assert!(unbase32("MZXW6YR").is_err(), "nonzero filler bits");
        assert!(unbase32("M").is_err(), "a dangling character");
        assert!(unbase32("MZ1").is_err());
    }

    #[test]
    fn ed25519_and_ecdsa_signatures_round_trip_byte_for_byte() {
        let ed = crate::signer::Ed25519Signer::from_seed(&[3; 32]);
        let ec = crate::signer::P256Signer::from_scalar(&[5; 32]).unwrap();
        for file in [signed_file(&ed), signed_file(&ec)] {
            let text = encode_signature(&file).unwrap();
            assert!(text.starts_with(PREFIX));
            assert!(text.len() < 300, "{} characters", text.len());
            let Transfer::Signature(back) = decode(&text).unwrap() else {
                panic!("not a signature")
            };
            assert_eq!(back.to_bytes(), file);
            // As typed by hand: lowercase, grouped.
            let typed = text
                .to_lowercase()
                .as_bytes()
                .chunks(5)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(decode(&typed).unwrap(), Transfer::Signature(back));
        }
    }

    #[test]
    fn any_changed_character_is_refused() {
        let ed = crate::signer::Ed25519Signer::from_seed(&[3; 32]);
        let text = encode_signature(&signed_file(&ed)).unwrap();
        let body = PREFIX.len();
        for i in body..text.len() {
            let mut t = text.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            let err = decode(&t).unwrap_err();
            assert!(
                matches!(err, OpticalError::Checksum | OpticalError::CutShort),
                "position {i}: {err}"
            );
        }
        assert!(decode(&text[..text.len() - 8]).is_err());
        assert!(matches!(
            decode(&text.replace("CONCLAVE1:", "CONCLAVE2:")),
            Err(OpticalError::NoPrefix)
        ));
    }

    #[test]
    fn a_hand_edited_file_is_not_encoded() {
        let ed = crate::signer::Ed25519Signer::from_seed(&[3; 32]);
        let file = signed_file(&ed);
        let edited = String::from_utf8(file).unwrap().replacen(": ", ":  ", 1);
        assert!(encode_signature(edited.as_bytes()).is_err());
    }

    #[test]
    fn request_digests_round_trip() {
        let req = RequestDigest {
            role: "root".into(),
            version: 300,
            payload_sha256: "ab".repeat(32),
        };
        let text = encode_request(&req).unwrap();
        assert_eq!(decode(&text).unwrap(), Transfer::Request(req));
    }

    #[test]
    fn qr_has_a_quiet_zone_and_finder_patterns() {
        let text = "CONCLAVE1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let (w, dark) = qr_modules(text).unwrap();
        assert_eq!((w - 17) % 4, 0, "a QR width is 17 + 4 * version");
        // The top-left finder pattern: a dark 7x7 ring around a light ring around a 3x3 core.
        for i in 0..7 {
            assert!(dark[i] && dark[6 * w + i] && dark[i * w] && dark[i * w + 6]);
        }
        assert!(!dark[w + 1] && dark[2 * w + 2] && dark[3 * w + 3]);
        let lines = qr_lines(text, false).unwrap();
        let full = w + 2 * QUIET_ZONE;
        assert_eq!(lines.len(), full.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == full));
        // Light on dark: the quiet zone is drawn solid.
        assert!(lines[0].chars().all(|c| c == '█'));
        assert!(lines[1].chars().take(QUIET_ZONE).all(|c| c == '█'));
    }
}
