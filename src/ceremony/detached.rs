//! Detached signature files: one officer's answer to a signing request.
//!
//! ```json
//! { "format": "conclave-signature", "format_version": 1,
//!   "role": "root", "version": 2,
//!   "payload_sha256": "<SHA-256 of the canonical signed bytes>",
//!   "signature": { "keyid": "…", "sig": "…" },
//!   "public_key": { "keytype": "…", "scheme": "…", "keyval": { "public": "…" } } }
//! ```
//!
//! The role, version and payload digest bind the signature to exactly one draft: a signature
//! made before the draft was edited is recognised as stale by its digest, before any
//! cryptography. The signature itself is what goes into the metadata.

use sha2::{Digest, Sha256};

use crate::cjson::{self, Map, Value};
use crate::metadata::SignedText;
use crate::metadata::{Key, KeyId, Signature};

/// The `format` value every signature file carries, so other JSON is not mistaken for one.
pub const FORMAT: &str = "conclave-signature";
/// The only `format_version` this conclave writes and reads.
pub const FORMAT_VERSION: i64 = 1;
/// Signature files are tiny; anything larger is not one.
pub const MAX_FILE_SIZE: usize = 64 * 1024;

/// One signature over one draft, with what binds it to that draft (see the module docs).
/// The binding refuses stale signatures early; [`crate::ceremony::merge`] still verifies
/// `signature` over the current bytes, with a key the delegating metadata lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetachedSignature {
    /// The role the signed metadata is for.
    pub role: String,
    /// The version of the signed metadata.
    pub version: u64,
    /// Lowercase hex SHA-256 of the canonical signed bytes ([`payload_digest`]).
    pub payload_sha256: String,
    /// The signature as it goes into the metadata's `signatures`.
    pub signature: Signature,
    /// The signer's public key, as the signer reported it; a merge trusts only the keys the
    /// delegating metadata lists, not this one.
    pub public_key: Key,
}

/// Lowercase hex SHA-256 of the canonical signed bytes ([`SignedText::sha256_hex`], which
/// also takes them in pieces).
pub fn payload_digest(signed_bytes: &[u8]) -> String {
    SignedText::of(signed_bytes).sha256_hex()
}

/// The digest of a signing round: one value for officers signing many files at once (a claim
/// round's changed claimed bins) to compare aloud, instead of one payload digest per file.
///
/// It is the SHA-256 of the lines `PAYLOAD-DIGEST  FILE-NAME\n` (the layout of `sha256sum`),
/// sorted by file name: two officers see the same round digest exactly when they are about to
/// sign the same files, by the same names, over the same bytes.
pub fn round_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut lines: Vec<(&str, &str)> = files.into_iter().collect();
    lines.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    for (name, digest) in lines {
        h.update(digest.as_bytes());
        h.update(b"  ");
        h.update(name.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

impl DetachedSignature {
    /// A signature file for `signature` over `signed_bytes` (the canonical signed bytes of
    /// `role` version `version`) by `public_key`.
    pub fn new(
        role: &str,
        version: u64,
        signed_bytes: &[u8],
        signature: Signature,
        public_key: Key,
    ) -> Self {
        Self::with_digest(
            role,
            version,
            payload_digest(signed_bytes),
            signature,
            public_key,
        )
    }

    /// [`DetachedSignature::new`], given the payload digest ([`payload_digest`]) of the signed
    /// bytes instead of the bytes.
    pub(crate) fn with_digest(
        role: &str,
        version: u64,
        payload_sha256: String,
        signature: Signature,
        public_key: Key,
    ) -> Self {
        DetachedSignature {
            role: role.to_owned(),
            version,
            payload_sha256,
            signature,
            public_key,
        }
    }

    /// The file's bytes: canonical JSON, pretty-printed, that [`DetachedSignature::parse`]
    /// reads back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("format_version".into(), Value::Int(FORMAT_VERSION));
        m.insert("role".into(), self.role.as_str().into());
        m.insert("version".into(), Value::Int(self.version as i64));
        m.insert("payload_sha256".into(), self.payload_sha256.as_str().into());
        m.insert("signature".into(), self.signature.to_value());
        m.insert("public_key".into(), self.public_key.to_value());
        cjson::to_pretty(&Value::Object(m))
    }

    /// Read a signature file strictly; every problem is a one-line reason.
    pub fn parse(bytes: &[u8]) -> Result<Self, SignatureFileError> {
        use SignatureFileError as E;
        if bytes.len() > MAX_FILE_SIZE {
            return Err(E::TooLarge);
        }
        let v = cjson::parse(bytes).map_err(E::Json)?;
        let Value::Object(m) = v else {
            return Err(E::NotObject);
        };
        let s = |name: &'static str| -> Result<&str, SignatureFileError> {
            m.get(name)
                .and_then(Value::as_str)
                .ok_or(E::MissingString(name))
        };
        if s("format")? != FORMAT {
            return Err(E::NotSignatureFile);
        }
        match m.get("format_version") {
            Some(Value::Int(FORMAT_VERSION)) => {}
            _ => return Err(E::FormatVersion),
        }
        let version = match m.get("version") {
            Some(Value::Int(v)) if *v > 0 => *v as u64,
            _ => return Err(E::Version),
        };
        let digest = s("payload_sha256")?;
        if digest.len() != 64
            || !digest
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(E::PayloadDigest);
        }
        let (signature, public_key) = read_signature_and_key(&m)?;
        refuse_unknown_fields(
            &m,
            &[
                "format",
                "format_version",
                "role",
                "version",
                "payload_sha256",
                "signature",
                "public_key",
            ],
        )?;
        let role = s("role")?;
        check_role(role)?;
        Ok(DetachedSignature {
            role: role.to_owned(),
            version,
            payload_sha256: digest.to_owned(),
            signature,
            public_key,
        })
    }
}

/// Read the `signature` ({keyid, sig}) and `public_key` fields that signature files share
/// (detached metadata signatures, transcript head signatures).
pub(crate) fn read_signature_and_key(m: &Map) -> Result<(Signature, Key), SignatureFileError> {
    use SignatureFileError as E;
    let sig = m.get("signature").ok_or(E::Missing("signature"))?;
    let keyid = sig
        .get("keyid")
        .and_then(Value::as_str)
        .ok_or(E::Missing("signature.keyid"))?;
    let sig_hex = sig
        .get("sig")
        .and_then(Value::as_str)
        .ok_or(E::Missing("signature.sig"))?;
    let public_key = Key::from_value(
        m.get("public_key")
            .cloned()
            .ok_or(E::Missing("public_key"))?,
        "public_key",
    )
    .map_err(E::PublicKey)?;
    Ok((
        Signature {
            keyid: KeyId::new(keyid)?,
            sig: sig_hex.to_owned(),
            extra: Map::new(),
        },
        public_key,
    ))
}

/// The role a signature file names must be one a repository can hold: a top-level role, or a
/// name a delegation could have (not empty, no control characters, no path separators, not
/// `.` or `..`). A signature file is merged into metadata of that role and its name shown to
/// officers, so nothing else is written or shown: `qr read`, which makes signature files from
/// scanned text, goes through here too.
pub fn check_role(role: &str) -> Result<(), SignatureFileError> {
    if crate::metadata::TOP_LEVEL_ROLES.contains(&role) {
        return Ok(());
    }
    crate::metadata::RoleName::delegated(role)
        .map(drop)
        .map_err(SignatureFileError::Role)
}

/// Signature files are small and fully specified: an unknown field is refused, not kept.
pub(crate) fn refuse_unknown_fields(m: &Map, known: &[&str]) -> Result<(), SignatureFileError> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(SignatureFileError::UnexpectedField(k.clone())),
        None => Ok(()),
    }
}

/// Why a signature file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFileError {
    /// The file is larger than [`MAX_FILE_SIZE`]; it is refused before parsing.
    #[error("larger than {MAX_FILE_SIZE} bytes: not a signature file")]
    TooLarge,
    /// The file is not JSON.
    #[error("not valid JSON: {0}")]
    Json(cjson::ParseError),
    /// The file is JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// A field that must be a string (named) is absent or not a string.
    #[error("missing or non-string \"{0}\"")]
    MissingString(&'static str),
    /// `format` is not [`FORMAT`]: some other JSON file.
    #[error("not a conclave signature file (\"format\" is not conclave-signature)")]
    NotSignatureFile,
    /// `format_version` is absent or not [`FORMAT_VERSION`].
    #[error("unsupported \"format_version\" (this conclave reads {FORMAT_VERSION})")]
    FormatVersion,
    /// `version` is absent, not an integer, or not positive.
    #[error("\"version\" must be a positive integer")]
    Version,
    /// `payload_sha256` is not 64 lowercase hex characters.
    #[error("\"payload_sha256\" must be 64 lowercase hex characters")]
    PayloadDigest,
    /// A required field (named, dotted for nested ones) is absent or of the wrong type.
    #[error("missing \"{0}\"")]
    Missing(&'static str),
    /// `public_key` is not a valid TUF key object.
    #[error("{0}")]
    PublicKey(crate::metadata::FormatError),
    /// `signature.keyid` is not a valid keyid.
    #[error(transparent)]
    KeyId(#[from] crate::metadata::ValueError),
    /// `role` is not a role name a repository can hold ([`check_role`]).
    #[error("\"role\": {0}")]
    Role(crate::metadata::ValueError),
    /// A field the format does not have: refused, since signature files are fully specified.
    #[error("unexpected field \"{}\"", crate::display::escape(.0))]
    UnexpectedField(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_digest_is_sha256sum_lines_sorted_by_name() {
        let (a, b) = (payload_digest(b"first"), payload_digest(b"second"));
        let text = format!("{a}  1.bin-a.json\n{b}  1.bin-b.json\n");
        let want = hex::encode(Sha256::digest(text.as_bytes()));
        // The order the files are listed in does not matter; names and bytes do.
        assert_eq!(
            round_digest([("1.bin-b.json", b.as_str()), ("1.bin-a.json", a.as_str())]),
            want
        );
        assert_ne!(
            round_digest([("1.bin-a.json", b.as_str()), ("1.bin-b.json", a.as_str())]),
            want,
            "the same bytes under swapped names are another round"
        );
        assert_ne!(round_digest([("1.bin-a.json", a.as_str())]), want);
    }
}
