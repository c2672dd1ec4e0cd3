//! The record of what a revocation revoked, kept beside its drafts.
//!
//! `conclave revoke` writes the drafts that remove a key into a new directory, which is then
//! the signing round. Without a record there, the round does not know the key: a root draft's
//! previous root still lists the revoked key, so its signature (made by whoever now holds a
//! copy) would count toward the old root's threshold, and one honest officer plus the thief
//! would "meet" two of three. With the record, `merge`, `status` and `verify` run on a file of
//! that directory count no signature of a revoked key, and say so.
//!
//! ```json
//! { "format": "conclave-revoked", "format_version": 1,
//!   "date": "2026-01-01T00:00:00Z", "reason": "stolen laptop",
//!   "keys": [ { "keyid": "…", "also_listed_as": [], "roles": ["root", "claimed"] } ],
//!   "drafts": ["2.root.json", "2.targets.json", "2.claimed.json"] }
//! ```
//!
//! The file is named [`FILE_NAME`], not `*.json`: every `.json` file of a repository or round
//! directory is read as metadata. `drafts` names the new versions the revocation made: `verify`
//! leaves the revoked key out on those, not on the versions clients already trusted before
//! (an earlier root signed with the key when it was still good stays good).

use std::path::{Path, PathBuf};

use crate::cjson::{self, Map, Value};
use crate::display::escape;
use crate::metadata::{Expires, KeyId};
use crate::verify::RevokedKeys;

/// The record's file name, in the revocation's directory.
pub const FILE_NAME: &str = "REVOKED.record";
/// The `format` value of a record.
pub const FORMAT: &str = "conclave-revoked";
/// The only `format_version` written and read.
pub const FORMAT_VERSION: i64 = 1;
/// Records are small; anything larger is not one.
pub const MAX_FILE_SIZE: usize = 1024 * 1024;

/// Why a record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RevokedError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] cjson::ParseError),
    /// JSON, but not a record of this format and version.
    #[error("not a conclave revocation record (format \"{FORMAT}\", version {FORMAT_VERSION})")]
    NotARecord,
    /// A field is missing or has the wrong type.
    #[error("field {0} is missing or malformed")]
    Field(&'static str),
    /// A keyid is not one.
    #[error("a keyid is malformed: {0}")]
    KeyId(#[from] crate::metadata::ValueError),
    /// Larger than [`MAX_FILE_SIZE`].
    #[error("larger than {MAX_FILE_SIZE} bytes")]
    TooLarge,
}

/// One revoked key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedKey {
    /// Its keyid.
    pub keyid: KeyId,
    /// Other keyids the repository lists the same key under (TAP 12): revoked too.
    pub also_listed_as: Vec<KeyId>,
    /// The roles that trusted it.
    pub roles: Vec<String>,
}

/// What a revocation revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    /// When the revocation was drafted.
    pub date: Expires,
    /// Why, as the officers gave it.
    pub reason: Option<String>,
    /// The revoked keys.
    pub keys: Vec<RevokedKey>,
    /// The file names of the revocation's drafts.
    pub drafts: Vec<String>,
}

impl Revoked {
    /// Every revoked keyid, aliases included.
    pub fn keyids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys
            .iter()
            .flat_map(|k| std::iter::once(&k.keyid).chain(&k.also_listed_as))
    }

    /// The revoked keys as [`RevokedKeys`].
    pub fn revoked_keys(&self) -> RevokedKeys {
        let mut r = RevokedKeys::new();
        for id in self.keyids() {
            r.add(id.clone());
        }
        r
    }

    /// The record's bytes: canonical JSON, pretty-printed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let ids = |v: &[KeyId]| Value::Array(v.iter().map(|k| Value::from(k.as_str())).collect());
        let strs = |v: &[String]| Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect());
        let keys = self
            .keys
            .iter()
            .map(|k| {
                let mut m = Map::new();
                m.insert("keyid".into(), Value::from(k.keyid.as_str()));
                m.insert("also_listed_as".into(), ids(&k.also_listed_as));
                m.insert("roles".into(), strs(&k.roles));
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("format_version".into(), Value::Int(FORMAT_VERSION));
        m.insert("date".into(), self.date.to_string().into());
        m.insert(
            "reason".into(),
            self.reason.as_deref().map_or(Value::Null, Value::from),
        );
        m.insert("keys".into(), Value::Array(keys));
        m.insert("drafts".into(), strs(&self.drafts));
        cjson::to_pretty(&Value::Object(m))
    }

    /// Read a record.
    pub fn parse(bytes: &[u8]) -> Result<Self, RevokedError> {
        use RevokedError as E;
        if bytes.len() > MAX_FILE_SIZE {
            return Err(E::TooLarge);
        }
        let Value::Object(m) = cjson::parse(bytes)? else {
            return Err(E::NotARecord);
        };
        if m.get("format").and_then(Value::as_str) != Some(FORMAT)
            || m.get("format_version") != Some(&Value::Int(FORMAT_VERSION))
        {
            return Err(E::NotARecord);
        }
        let date = m
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| Expires::parse(d).ok())
            .ok_or(E::Field("date"))?;
        let reason = match m.get("reason") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_str().ok_or(E::Field("reason"))?.to_owned()),
        };
        let strings = |v: Option<&Value>, name: &'static str| -> Result<Vec<String>, E> {
            let Some(Value::Array(a)) = v else {
                return Err(E::Field(name));
            };
            a.iter()
                .map(|s| s.as_str().map(str::to_owned).ok_or(E::Field(name)))
                .collect()
        };
        let Some(Value::Array(list)) = m.get("keys") else {
            return Err(E::Field("keys"));
        };
        let mut keys = Vec::with_capacity(list.len());
        for k in list {
            let keyid = k
                .get("keyid")
                .and_then(Value::as_str)
                .ok_or(E::Field("keys.keyid"))?;
            let also = strings(k.get("also_listed_as"), "keys.also_listed_as")?
                .iter()
                .map(|s| KeyId::new(s))
                .collect::<Result<_, _>>()?;
            keys.push(RevokedKey {
                keyid: KeyId::new(keyid)?,
                also_listed_as: also,
                roles: strings(k.get("roles"), "keys.roles")?,
            });
        }
        Ok(Revoked {
            date,
            reason,
            keys,
            drafts: strings(m.get("drafts"), "drafts")?,
        })
    }

    /// One line for the officers: the keys and the reason, escaped.
    pub fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.keyid.to_string()).collect();
        format!(
            "revoked on {}: {}{}",
            self.date,
            keys.join(", "),
            self.reason
                .as_deref()
                .map(|r| format!(" ({})", escape(r)))
                .unwrap_or_default()
        )
    }
}

/// The record in `dir`, if there is one.
pub fn beside(dir: &Path) -> Option<PathBuf> {
    let p = if dir.as_os_str() == "." {
        PathBuf::from(FILE_NAME)
    } else {
        dir.join(FILE_NAME)
    };
    p.is_file().then_some(p)
}

/// The record in the directory of the file `file` (a draft of the revocation's round).
pub fn beside_file(file: &Path) -> Option<PathBuf> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    beside(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Key;

    fn record() -> Revoked {
        Revoked {
            date: Expires::parse("2026-03-01T12:00:00Z").unwrap(),
            reason: Some("laptop stolen\u{1b}[2J".into()),
            keys: vec![RevokedKey {
                keyid: Key::ed25519(&[1; 32]).keyid(),
                also_listed_as: vec![KeyId::new("alias").unwrap()],
                roles: vec!["root".into(), "claimed".into()],
            }],
            drafts: vec!["2.root.json".into(), "2.claimed.json".into()],
        }
    }

    #[test]
    fn a_record_reads_back_as_written_and_lists_every_keyid() {
        let r = record();
        let bytes = r.to_bytes();
        assert_eq!(Revoked::parse(&bytes).unwrap(), r);
        let ids: Vec<&KeyId> = r.keyids().collect();
        assert_eq!(ids.len(), 2);
        let rk = r.revoked_keys();
        assert_eq!(rk.keyids().count(), 2);
        // The reason is escaped when shown.
        assert!(!r.describe().contains('\u{1b}'), "{}", r.describe());
        let mut none = r.clone();
        none.reason = None;
        assert_eq!(Revoked::parse(&none.to_bytes()).unwrap(), none);
    }

    #[test]
    fn other_files_are_not_records() {
        assert!(matches!(
            Revoked::parse(b"{\"format\": \"conclave-signature\"}"),
            Err(RevokedError::NotARecord)
        ));
        assert!(matches!(
            Revoked::parse(b"nope"),
            Err(RevokedError::Json(_))
        ));
        let text = String::from_utf8(record().to_bytes()).unwrap();
        let bad = text.replace("\"keys\"", "\"kees\"");
        assert!(matches!(
            Revoked::parse(bad.as_bytes()),
            Err(RevokedError::Field("keys"))
        ));
        assert!(matches!(
            Revoked::parse(&vec![b' '; MAX_FILE_SIZE + 1]),
            Err(RevokedError::TooLarge)
        ));
    }

    #[test]
    fn the_record_is_found_beside_a_draft() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(beside(dir.path()), None);
        std::fs::write(dir.path().join(FILE_NAME), record().to_bytes()).unwrap();
        assert_eq!(
            beside_file(&dir.path().join("2.root.json")),
            Some(dir.path().join(FILE_NAME))
        );
    }
}
