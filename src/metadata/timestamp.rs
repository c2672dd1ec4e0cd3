//! timestamp.json (TUF spec "File formats: timestamp.json").

use std::collections::BTreeMap;

use crate::cjson::{Map, Value};
use crate::metadata::snapshot::{meta_role_value, read_meta_role};
use crate::metadata::{Common, FormatError, MetaFile, Role};

/// The `signed` part of timestamp metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// `_type`, `spec_version`, `version` and `expires`.
    pub common: Common,
    /// Exactly one entry, `snapshot.json`.
    pub meta: BTreeMap<String, MetaFile>,
    /// Fields this code does not know, kept so that re-signing does not drop them.
    pub extra: Map,
}

impl Timestamp {
    /// The `snapshot.json` entry (always present: reading refuses a timestamp without it).
    pub fn snapshot_meta(&self) -> &MetaFile {
        &self.meta["snapshot.json"]
    }
}

impl Role for Timestamp {
    const TYPE: &'static str = "timestamp";

    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let ((common, meta, extra), meta_path) = read_meta_role(value, path, Self::TYPE)?;
        // TUF spec: timestamp meta describes snapshot.json and nothing else. python-tuf drops
        // any other entry on load, which silently breaks the signature; refuse it outright.
        if !meta.contains_key("snapshot.json") {
            return Err(FormatError::new(
                &meta_path,
                "must describe \"snapshot.json\"",
            ));
        }
        if let Some(other) = meta.keys().find(|k| *k != "snapshot.json") {
            return Err(FormatError::new(
                &meta_path,
                format!(
                    "must describe only \"snapshot.json\", found \"{}\"",
                    crate::display::escape(other)
                ),
            ));
        }
        Ok(Timestamp {
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
