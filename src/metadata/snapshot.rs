//! snapshot.json (TUF spec "File formats: snapshot.json") and the METAFILES entries that
//! snapshot and timestamp share.

use std::collections::BTreeMap;

use crate::cjson::{Map, Value};
use crate::metadata::fields::{self, Fields};
use crate::metadata::{Common, FormatError, Role, Version};

/// What snapshot or timestamp says about one metadata file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaFile {
    /// The file's version. A client refuses a file whose version is not this one (TUF spec
    /// client workflow, "check against timestamp/snapshot role's version"), which is what
    /// stops an attacker serving an older, validly signed file.
    pub version: Version,
    /// The file's length in bytes, if given (optional in TUF; bounds the download).
    pub length: Option<u64>,
    /// `{algorithm: lowercase hex}`; never empty when present.
    pub hashes: Option<BTreeMap<String, String>>,
    /// Fields this code does not know, kept so that re-signing does not drop them.
    pub extra: Map,
}

impl MetaFile {
    /// An entry with only a version (no length, no hashes).
    pub fn new(version: Version) -> Self {
        MetaFile {
            version,
            length: None,
            hashes: None,
            extra: Map::new(),
        }
    }

    pub(crate) fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let version = Version::from_json(f.int("version")?)
            .map_err(|e| FormatError::new(&f.path("version"), e))?;
        let length = f
            .opt_int("length")?
            .map(|l| {
                u64::try_from(l)
                    .map_err(|_| FormatError::new(&f.path("length"), "must not be negative"))
            })
            .transpose()?;
        let hashes_path = f.path("hashes");
        let hashes = f
            .opt_object("hashes")?
            .map(|m| read_hashes(m, &hashes_path))
            .transpose()?;
        Ok(MetaFile {
            version,
            length,
            hashes,
            extra: f.rest(),
        })
    }

    /// The entry as JSON, unknown fields included.
    pub fn to_value(&self) -> Value {
        let mut known = vec![("version", Value::Int(self.version.as_json()))];
        if let Some(l) = self.length {
            known.push(("length", Value::Int(l as i64)));
        }
        if let Some(h) = &self.hashes {
            known.push(("hashes", hashes_value(h)));
        }
        fields::object(known, &self.extra)
    }
}

/// A `hashes` object: algorithm -> hex digest.
pub(crate) type Hashes = BTreeMap<String, String>;

/// Read a `hashes` object: non-empty, every value a hex string (python-tuf requires both).
pub(crate) fn read_hashes(map: Map, path: &str) -> Result<Hashes, FormatError> {
    if map.is_empty() {
        return Err(FormatError::new(path, "must list at least one hash"));
    }
    let mut out = BTreeMap::new();
    for (algo, v) in map {
        let p = fields::join(path, &algo);
        let h = fields::as_string(v, &p)?;
        out.insert(algo, h);
    }
    Ok(out)
}

pub(crate) fn hashes_value(h: &BTreeMap<String, String>) -> Value {
    Value::Object(
        h.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// Read a METAFILES object.
pub(crate) fn read_meta(map: Map, path: &str) -> Result<BTreeMap<String, MetaFile>, FormatError> {
    let mut out = BTreeMap::new();
    for (name, v) in map {
        let p = fields::join(path, &name);
        out.insert(name, MetaFile::from_value(v, &p)?);
    }
    Ok(out)
}

/// `common`, `meta` and `extra` of a snapshot or timestamp.
pub(crate) type MetaRoleParts = (Common, BTreeMap<String, MetaFile>, Map);

/// The members of a snapshot or timestamp `signed` object: the common fields, `meta` and the
/// unknown fields; and the path of `meta` for messages.
pub(crate) fn read_meta_role(
    value: Value,
    path: &str,
    ty: &str,
) -> Result<(MetaRoleParts, String), FormatError> {
    let mut f = Fields::new(value, path)?;
    let common = Common::read(&mut f, ty)?;
    let meta_path = f.path("meta");
    let meta = read_meta(f.object("meta")?, &meta_path)?;
    Ok(((common, meta, f.rest()), meta_path))
}

/// The `signed` object of snapshot or timestamp: the common fields, `meta` and the unknown
/// fields.
pub(crate) fn meta_role_value(
    common: &Common,
    ty: &'static str,
    meta: &BTreeMap<String, MetaFile>,
    extra: &Map,
) -> Value {
    let mut known = common.fields(ty);
    let meta = meta.iter().map(|(k, v)| (k.clone(), v.to_value()));
    known.push(("meta", Value::Object(meta.collect())));
    fields::object(known, extra)
}

/// The `signed` part of snapshot metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `_type`, `spec_version`, `version` and `expires`.
    pub common: Common,
    /// Keyed by METAPATH (`targets.json`, `claimed.json`, ...), never version-prefixed.
    pub meta: BTreeMap<String, MetaFile>,
    /// Fields this code does not know, kept so that re-signing does not drop them.
    pub extra: Map,
}

impl Role for Snapshot {
    const TYPE: &'static str = "snapshot";

    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let (common, meta, extra) = read_meta_role(value, path, Self::TYPE)?.0;
        Ok(Snapshot {
            common,
            meta,
            extra,
        })
    }

    fn to_value(&self) -> Value {
        meta_role_value(&self.common, Self::TYPE, &self.meta, &self.extra)
    }

    common_in_field!();
}
