//! The TUF metadata model: the signed envelope, the four top-level roles and delegations.
//!
//! Every struct keeps the fields it does not know in `extra`, at every level, so metadata
//! written by a newer tool is re-serialised — and its signatures checked — byte for byte.
//! Values with invariants are newtypes whose constructors check them; parsing goes through
//! those constructors, so a `Root` in memory is always a well-formed root.

/// [`Role::common`] and [`Role::common_mut`] for a role whose `common` field holds them.
macro_rules! common_in_field {
    () => {
        fn common(&self) -> &Common {
            &self.common
        }

        fn common_mut(&mut self) -> &mut Common {
            &mut self.common
        }
    };
}

mod canonical;
mod fast;
pub(crate) mod fields;
pub mod key;
pub mod keyset;
pub mod lookup;
pub mod root;
mod signed;
mod small;
pub mod snapshot;
pub mod streamed;
pub mod targets;
pub mod timestamp;
mod types;

pub use key::{Key, KeyAlgorithm, SignatureError};
pub use keyset::{KeyMaterial, KeyProblem, RoleKeysError};
pub use lookup::{KeyIdLookupError, resolve_keyid};
pub use root::{RoleKeys, Root};
pub use signed::{PIECES_MIN_ENTRIES, SignedText};
pub use small::SmallStr;
pub use snapshot::{MetaFile, Snapshot};
pub use targets::{
    DelegatedRole, DelegationRoles, Delegations, RolePaths, SuccinctRoles, TargetFile, Targets,
};
pub use timestamp::Timestamp;
pub use types::{
    Expires, KeyId, KeyIdText, RoleName, SpecVersion, TOP_LEVEL_ROLES, Threshold, ValueError,
    Version,
};

use crate::cjson::{self, Map, Value};
use fields::Fields;

/// The `spec_version` conclave writes.
pub const SPEC_VERSION: &str = "1.0.31";

/// Metadata that does not have the shape TUF requires. `path` locates the field, e.g.
/// `signed.roles.root.threshold`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct FormatError {
    /// Where the problem is, e.g. `signed.roles.root.threshold`; `(top level)` for the document.
    pub path: String,
    /// What is wrong there.
    pub problem: String,
}

impl FormatError {
    /// A format error at `path` (an empty path means the top level). `problem` is any
    /// displayable cause, e.g. a [`ValueError`] from a newtype's constructor.
    pub fn new(path: &str, problem: impl std::fmt::Display) -> Self {
        FormatError {
            path: if path.is_empty() {
                "(top level)".to_owned()
            } else {
                path.to_owned()
            },
            problem: problem.to_string(),
        }
    }
}

/// Why a metadata file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not JSON the strict reader accepts (see [`cjson`]).
    #[error("not valid JSON: {0}")]
    Json(#[from] cjson::ParseError),
    /// The JSON does not have the shape TUF requires of metadata.
    #[error("not valid TUF metadata: {0}")]
    Format(#[from] FormatError),
}

/// The fields every role's `signed` object has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Common {
    /// `spec_version`: the TUF spec version the metadata follows.
    pub spec_version: SpecVersion,
    /// `version`: clients refuse a lower version than one they have seen (rollback).
    pub version: Version,
    /// `expires`: clients refuse metadata past this time (freeze).
    pub expires: Expires,
}

impl Common {
    /// The fields of a role at `version` that expires at `expires`, following the TUF
    /// specification version conclave writes ([`SPEC_VERSION`]).
    pub fn new(version: Version, expires: Expires) -> Common {
        Common {
            spec_version: SpecVersion::new(SPEC_VERSION).expect("SPEC_VERSION is valid"),
            version,
            expires,
        }
    }

    /// [`Common::new`] at version 1, a role's first.
    pub fn first(expires: Expires) -> Common {
        Common::new(Version::FIRST, expires)
    }

    fn read(f: &mut Fields, expected_type: &str) -> Result<Self, FormatError> {
        let ty = f.string("_type")?;
        if ty != expected_type {
            return Err(FormatError::new(
                &f.path("_type"),
                format!("is \"{ty}\", expected \"{expected_type}\""),
            ));
        }
        Ok(Common {
            spec_version: SpecVersion::new(&f.string("spec_version")?)
                .map_err(|e| FormatError::new(&f.path("spec_version"), e))?,
            version: Version::from_json(f.int("version")?)
                .map_err(|e| FormatError::new(&f.path("version"), e))?,
            expires: Expires::parse(&f.string("expires")?)
                .map_err(|e| FormatError::new(&f.path("expires"), e))?,
        })
    }

    fn fields(&self, ty: &'static str) -> Vec<(&'static str, Value)> {
        vec![
            ("_type", Value::from(ty)),
            ("spec_version", Value::from(self.spec_version.as_str())),
            ("version", Value::Int(self.version.as_json())),
            ("expires", Value::from(self.expires.to_string())),
        ]
    }
}

/// One of the role types a `signed` object can hold.
pub trait Role: Sized + Clone {
    /// The `_type` value.
    const TYPE: &'static str;
    /// Read and check a `signed` object; `path` locates it in error messages.
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError>;
    /// [`Role::from_value`] for a `signed` object whose `delegations` the fast reader has
    /// already read (the tree holds `null` in their place). Only targets reads delegations;
    /// any other role keeps them, unchanged, as an unknown field.
    #[doc(hidden)]
    fn from_value_read(
        value: Value,
        path: &str,
        delegations: Option<Delegations>,
    ) -> Result<Self, FormatError> {
        Self::from_value(restore_delegations(value, delegations), path)
    }
    /// The `signed` object as JSON, unknown fields included.
    fn to_value(&self) -> Value;
    /// The fields every role has.
    fn common(&self) -> &Common;
    /// The fields every role has, to change (a new version or expiry).
    fn common_mut(&mut self) -> &mut Common;
    /// Append the canonical bytes of this `signed` object. The default goes through
    /// [`Role::to_value`]; large roles write directly (see `canonical.rs`).
    fn write_canonical(&self, out: &mut Vec<u8>) {
        cjson::write_canonical(&self.to_value(), out);
    }
    /// The same bytes as [`Role::write_canonical`], handed to `sink` in order, in pieces.
    /// Large roles (targets with a million delegations) never hold them whole; the default
    /// writes them all first.
    fn stream_canonical(&self, sink: &mut dyn FnMut(&[u8])) {
        let mut out = Vec::new();
        self.write_canonical(&mut out);
        sink(&out);
    }
}

/// Put delegations the fast reader read back into the `signed` tree, as the text had them.
fn restore_delegations(value: Value, delegations: Option<Delegations>) -> Value {
    match (value, delegations) {
        (Value::Object(mut m), Some(d)) => {
            m.insert("delegations".into(), d.to_value());
            Value::Object(m)
        }
        (value, _) => value,
    }
}

/// Parse a metadata file: the JSON tree and the `signed.delegations` the fast reader took out
/// of the tree (see `fast.rs`).
fn parse_metadata(bytes: &[u8]) -> Result<(Value, Option<Delegations>), cjson::ParseError> {
    fn hook(p: &mut cjson::Parser<'_>) -> Option<Box<dyn std::any::Any + Send>> {
        fast::delegations(p).map(|d| Box::new(d) as Box<dyn std::any::Any + Send>)
    }
    let (value, _, read) = cjson::parse_hooked(bytes, Some(hook))?;
    let delegations = read
        .and_then(|b| b.downcast::<Delegations>().ok())
        .map(|b| *b);
    Ok((value, delegations))
}

/// Files whose canonical form is larger than this are written compact, not indented: a
/// claimed role for a million projects would otherwise grow by a third in whitespace.
pub const PRETTY_LIMIT: usize = 1 << 20;

/// One entry of the `signatures` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The key that made the signature. A keyid may sign a file only once (TUF spec).
    pub keyid: KeyId,
    /// Lowercase hex of the raw signature; an empty string is a placeholder some tools write.
    pub sig: String,
    /// Unknown fields of the entry, kept as read.
    pub extra: Map,
}

impl Signature {
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let keyid =
            KeyId::new(&f.string("keyid")?).map_err(|e| FormatError::new(&f.path("keyid"), e))?;
        let sig = f.string("sig")?;
        Ok(Signature {
            keyid,
            sig,
            extra: f.rest(),
        })
    }

    /// The entry as JSON.
    pub fn to_value(&self) -> Value {
        fields::object(
            vec![
                ("keyid", Value::from(self.keyid.as_str())),
                ("sig", Value::from(self.sig.as_str())),
            ],
            &self.extra,
        )
    }
}

/// The signed envelope: `{"signatures": [...], "signed": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata<T> {
    /// Signatures over the canonical form of `signed` (see [`SignedText`]).
    pub signatures: Vec<Signature>,
    /// The role's content: what the signatures cover.
    pub signed: T,
    /// Envelope-level unknown fields: kept, but (per the spec) not covered by signatures.
    pub extra: Map,
}

impl<T: Role> Metadata<T> {
    /// Fresh, unsigned metadata.
    pub fn new(signed: T) -> Self {
        Metadata {
            signatures: Vec::new(),
            signed,
            extra: Map::new(),
        }
    }

    /// Parse a file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let (value, delegations) = parse_metadata(bytes)?;
        Ok(Self::from_value_read(value, delegations)?)
    }

    /// Read metadata from a JSON tree (refusing a keyid that signs twice).
    pub fn from_value(value: Value) -> Result<Self, FormatError> {
        Self::from_value_read(value, None)
    }

    fn from_value_read(
        value: Value,
        delegations: Option<Delegations>,
    ) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, "")?;
        let signed = T::from_value_read(f.required("signed")?, "signed", delegations)?;
        let signatures = read_signatures(&mut f)?;
        Ok(Metadata {
            signatures,
            signed,
            extra: f.rest(),
        })
    }

    /// The whole document as JSON, signatures included.
    pub fn to_value(&self) -> Value {
        self.to_value_with(&self.signatures)
    }

    /// [`Metadata::to_value`] with `signatures` in place of the model's.
    fn to_value_with(&self, signatures: &[Signature]) -> Value {
        fields::object(
            vec![
                ("signed", self.signed.to_value()),
                (
                    "signatures",
                    Value::Array(signatures.iter().map(Signature::to_value).collect()),
                ),
            ],
            &self.extra,
        )
    }

    /// The bytes conclave writes to a file (standard JSON; see [`cjson::to_pretty`]).
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut file = Vec::new();
        self.write_to(&mut file)
            .expect("writing into memory does not fail");
        file
    }

    /// A large file's envelope, written compact and canonical around the `signed` bytes: what
    /// comes before them and what comes after (control characters escaped, so that the result
    /// is valid JSON).
    fn envelope(&self, signatures: &[Signature]) -> (Vec<u8>, Vec<u8>) {
        let sigs = Value::Array(signatures.iter().map(Signature::to_value).collect());
        let mut entries: Vec<(&str, Option<&Value>)> =
            vec![("signatures", Some(&sigs)), ("signed", None)];
        for (k, v) in &self.extra {
            if k != "signatures" && k != "signed" {
                entries.push((k.as_str(), Some(v)));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let (mut head, mut tail) = (vec![b'{'], Vec::new());
        let mut after = false;
        for (i, (k, v)) in entries.iter().enumerate() {
            let mut piece = Vec::new();
            if i > 0 {
                piece.push(b',');
            }
            cjson::write_canonical_str(k, &mut piece);
            piece.push(b':');
            if let Some(v) = v {
                cjson::write_canonical(v, &mut piece);
            }
            canonical::escape_into(&piece, if after { &mut tail } else { &mut head });
            after |= v.is_none();
        }
        tail.extend_from_slice(b"}\n");
        (head, tail)
    }

    /// Write the file bytes to `out` (the one writer of them: [`Metadata::to_file_bytes`] and
    /// every file conclave writes come here): indented JSON below [`PRETTY_LIMIT`] signed
    /// bytes, else the compact canonical envelope around the signed bytes with control
    /// characters escaped. The signed bytes are produced in pieces (see
    /// [`Role::stream_canonical`]) and never held whole.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_with(
            &self.signatures,
            &mut |sink| self.signed.stream_canonical(sink),
            out,
            &mut |_| {},
        )
    }

    /// [`Metadata::write_to`], with `also` seeing each piece of the signed bytes.
    fn write_hashed(
        &self,
        out: &mut dyn std::io::Write,
        also: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<()> {
        self.write_with(
            &self.signatures,
            &mut |sink| self.signed.stream_canonical(sink),
            out,
            also,
        )
    }

    /// [`Metadata::write_to`], with `signatures` in place of the model's and the signed
    /// bytes from `signed`, which must produce exactly this model's canonical `signed` form
    /// (a spool of it: see [`crate::pieces::spooled`]); `also` sees each piece, as signed,
    /// on its way out. The first [`PRETTY_LIMIT`] bytes are held back until it is clear which
    /// form the file takes.
    pub(crate) fn write_with(
        &self,
        signatures: &[Signature],
        signed: &mut crate::pieces::Produce<'_>,
        out: &mut dyn std::io::Write,
        also: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<()> {
        let mut held = Vec::new();
        let mut streaming = false;
        let mut escaped = Vec::new();
        let mut failure = None;
        let mut head_tail = None;
        signed(&mut |piece| {
            also(piece);
            if failure.is_some() {
                return;
            }
            let mut emit = |bytes: &[u8]| -> std::io::Result<()> {
                if canonical::has_control(bytes) {
                    escaped.clear();
                    canonical::escape_into(bytes, &mut escaped);
                    out.write_all(&escaped)
                } else {
                    out.write_all(bytes)
                }
            };
            let result = if streaming {
                emit(piece)
            } else {
                held.extend_from_slice(piece);
                if held.len() < PRETTY_LIMIT {
                    Ok(())
                } else {
                    streaming = true;
                    let (head, tail) = self.envelope(signatures);
                    head_tail = Some(tail);
                    let all = std::mem::take(&mut held);
                    // The head is escaped already: emit writes it as it is.
                    emit(&head).and_then(|()| emit(&all))
                }
            };
            if let Err(e) = result {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        match head_tail {
            Some(tail) => out.write_all(&tail),
            None => out.write_all(&cjson::to_pretty(&self.to_value_with(signatures))),
        }
    }
}

fn read_signatures(f: &mut Fields) -> Result<Vec<Signature>, FormatError> {
    let path = f.path("signatures");
    let items = f.array("signatures")?;
    let mut out: Vec<Signature> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let sig = Signature::from_value(item, &format!("{path}[{i}]"))?;
        // TUF spec: a keyid MUST appear at most once in `signatures`; python-tuf refuses the
        // whole file otherwise. Two entries for one key must never look like two signers.
        if out.iter().any(|s| s.keyid == sig.keyid) {
            return Err(FormatError::new(
                &format!("{path}[{i}]"),
                format!(
                    "second signature by keyid {} (each key may sign once)",
                    sig.keyid
                ),
            ));
        }
        out.push(sig);
    }
    Ok(out)
}

/// Metadata of any role, as read from a file whose role is not known in advance.
#[derive(Clone, Debug)]
pub enum AnyMetadata {
    /// root.json.
    Root(Metadata<Root>),
    /// targets.json or a delegated targets role.
    Targets(Metadata<Targets>),
    /// snapshot.json.
    Snapshot(Metadata<Snapshot>),
    /// timestamp.json.
    Timestamp(Metadata<Timestamp>),
}

impl AnyMetadata {
    /// Parse a file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let (value, delegations) = parse_metadata(bytes)?;
        Self::from_value_read(value, delegations)
    }

    /// Read metadata from a JSON tree: the ordinary reader alone, without the fast path
    /// [`AnyMetadata::from_bytes`] takes for delegations (tests compare the two).
    pub fn from_value(value: Value) -> Result<Self, LoadError> {
        Self::from_value_read(value, None)
    }

    fn from_value_read(value: Value, delegations: Option<Delegations>) -> Result<Self, LoadError> {
        let ty = value
            .get("signed")
            .and_then(|s| s.get("_type"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(match ty.as_deref() {
            Some(Root::TYPE) => AnyMetadata::Root(Metadata::from_value_read(value, delegations)?),
            Some(Targets::TYPE) => {
                AnyMetadata::Targets(Metadata::from_value_read(value, delegations)?)
            }
            Some(Snapshot::TYPE) => {
                AnyMetadata::Snapshot(Metadata::from_value_read(value, delegations)?)
            }
            Some(Timestamp::TYPE) => {
                AnyMetadata::Timestamp(Metadata::from_value_read(value, delegations)?)
            }
            Some(other) => {
                return Err(FormatError::new(
                    "signed._type",
                    format!("unknown role type \"{}\"", crate::display::escape(other)),
                )
                .into());
            }
            None => {
                // Let the envelope reader say exactly what is missing.
                Metadata::<Root>::from_value_read(value, delegations)?;
                return Err(FormatError::new("signed._type", "missing").into());
            }
        })
    }

    /// The role's `_type`: `root`, `targets`, `snapshot` or `timestamp`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AnyMetadata::Root(_) => Root::TYPE,
            AnyMetadata::Targets(_) => Targets::TYPE,
            AnyMetadata::Snapshot(_) => Snapshot::TYPE,
            AnyMetadata::Timestamp(_) => Timestamp::TYPE,
        }
    }

    /// The fields every role has.
    pub fn common(&self) -> &Common {
        match self {
            AnyMetadata::Root(m) => m.signed.common(),
            AnyMetadata::Targets(m) => m.signed.common(),
            AnyMetadata::Snapshot(m) => m.signed.common(),
            AnyMetadata::Timestamp(m) => m.signed.common(),
        }
    }

    /// The `signatures` array.
    pub fn signatures(&self) -> &[Signature] {
        match self {
            AnyMetadata::Root(m) => &m.signatures,
            AnyMetadata::Targets(m) => &m.signatures,
            AnyMetadata::Snapshot(m) => &m.signatures,
            AnyMetadata::Timestamp(m) => &m.signatures,
        }
    }

    /// The `signatures` array, to add or remove signatures.
    pub fn signatures_mut(&mut self) -> &mut Vec<Signature> {
        match self {
            AnyMetadata::Root(m) => &mut m.signatures,
            AnyMetadata::Targets(m) => &mut m.signatures,
            AnyMetadata::Snapshot(m) => &mut m.signatures,
            AnyMetadata::Timestamp(m) => &mut m.signatures,
        }
    }

    /// [`Metadata::write_to`]: the file bytes, streamed to `out` for a large role.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            AnyMetadata::Root(m) => m.write_to(out),
            AnyMetadata::Targets(m) => m.write_to(out),
            AnyMetadata::Snapshot(m) => m.write_to(out),
            AnyMetadata::Timestamp(m) => m.write_to(out),
        }
    }

    /// [`AnyMetadata::write_to`], returning the payload digest ([`SignedText::sha256_hex`]:
    /// lowercase hex SHA-256 of the signed bytes), hashed as the bytes go out: a draft of a
    /// million projects is serialised once, not once to write and again to hash.
    pub fn write_to_digest(&self, out: &mut dyn std::io::Write) -> std::io::Result<String> {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        let mut also = |piece: &[u8]| h.update(piece);
        match self {
            AnyMetadata::Root(m) => m.write_hashed(out, &mut also),
            AnyMetadata::Targets(m) => m.write_hashed(out, &mut also),
            AnyMetadata::Snapshot(m) => m.write_hashed(out, &mut also),
            AnyMetadata::Timestamp(m) => m.write_hashed(out, &mut also),
        }?;
        Ok(hex::encode(h.finalize()))
    }

    /// [`Metadata::to_file_bytes`] for the role held.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        match self {
            AnyMetadata::Root(m) => m.to_file_bytes(),
            AnyMetadata::Targets(m) => m.to_file_bytes(),
            AnyMetadata::Snapshot(m) => m.to_file_bytes(),
            AnyMetadata::Timestamp(m) => m.to_file_bytes(),
        }
    }
}

/// Read a list of keyids, refusing duplicates (python-tuf refuses them too, and a duplicate
/// would let one key look like two).
pub(crate) fn read_keyids(f: &mut Fields) -> Result<Vec<KeyId>, FormatError> {
    let path = f.path("keyids");
    let raw = f.string_list("keyids")?;
    let mut out: Vec<KeyId> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let id = KeyId::new(s).map_err(|e| FormatError::new(&format!("{path}[{i}]"), e))?;
        if out.contains(&id) {
            return Err(FormatError::new(
                &format!("{path}[{i}]"),
                format!("keyid {id} is listed twice"),
            ));
        }
        out.push(id);
    }
    Ok(out)
}

/// The `keyids` and `threshold` members of a role's key list.
pub(crate) fn keyids_threshold(ids: &[KeyId], threshold: Threshold) -> [(&'static str, Value); 2] {
    let ids = ids.iter().map(|k| Value::from(k.as_str()));
    [
        ("keyids", Value::Array(ids.collect())),
        ("threshold", Value::Int(i64::from(threshold.get()))),
    ]
}

/// Read a `{keyid: key}` map.
pub(crate) fn read_keys(
    map: Map,
    path: &str,
) -> Result<std::collections::BTreeMap<KeyId, Key>, FormatError> {
    let mut out = std::collections::BTreeMap::new();
    for (id, value) in map {
        let key_path = fields::join(path, &id);
        let keyid = KeyId::new(&id).map_err(|e| FormatError::new(&key_path, e))?;
        out.insert(keyid, Key::from_value(value, &key_path)?);
    }
    Ok(out)
}

pub(crate) fn keys_value(keys: &std::collections::BTreeMap<KeyId, Key>) -> Value {
    Value::Object(
        keys.iter()
            .map(|(id, k)| (id.to_raw_string(), k.to_value()))
            .collect(),
    )
}

/// Small constructors the unit tests of several modules share.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{Common, Expires, Threshold, Version};

    /// A threshold of `n`.
    pub(crate) fn th(n: u32) -> Threshold {
        Threshold::new(n).unwrap()
    }

    /// The common fields at version `v`, expiring at `expires` (RFC 3339).
    pub(crate) fn common(v: u64, expires: &str) -> Common {
        Common::new(Version::new(v).unwrap(), Expires::parse(expires).unwrap())
    }
}
