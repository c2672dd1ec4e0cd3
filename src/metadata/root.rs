//! root.json (TUF spec "File formats: root.json").

use std::collections::BTreeMap;

use crate::cjson::{Map, Value};
use crate::metadata::fields::{self, Fields};
use crate::metadata::types::TOP_LEVEL_ROLES;
use crate::metadata::{
    Common, FormatError, Key, KeyId, Role, Threshold, keyids_threshold, keys_value, read_keyids,
    read_keys,
};

/// The keys and threshold of one top-level role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleKeys {
    /// The keyids allowed to sign for the role (no duplicates).
    pub keyids: Vec<KeyId>,
    /// How many distinct allowed keys must sign (TUF spec "THRESHOLD").
    pub threshold: Threshold,
    /// Unknown fields, kept as read.
    pub extra: Map,
}

impl RoleKeys {
    /// A role entry with these keys and threshold and no unknown fields.
    pub fn new(keyids: Vec<KeyId>, threshold: Threshold) -> Self {
        RoleKeys {
            keyids,
            threshold,
            extra: Map::new(),
        }
    }

    pub(crate) fn read(f: &mut Fields) -> Result<(Vec<KeyId>, Threshold), FormatError> {
        let keyids = read_keyids(f)?;
        let threshold = Threshold::from_json(f.int("threshold")?)
            .map_err(|e| FormatError::new(&f.path("threshold"), e))?;
        Ok((keyids, threshold))
    }

    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let (keyids, threshold) = RoleKeys::read(&mut f)?;
        Ok(RoleKeys {
            keyids,
            threshold,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        let known = keyids_threshold(&self.keyids, self.threshold);
        fields::object(known.into(), &self.extra)
    }
}

/// The `signed` part of root metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// The fields every role has.
    pub common: Common,
    /// Optional in the spec; conclave always writes `true`.
    pub consistent_snapshot: Option<bool>,
    /// The keys the top-level roles use, by keyid.
    pub keys: BTreeMap<KeyId, Key>,
    /// `root`, `targets`, `snapshot` and `timestamp` are always present.
    pub roles: BTreeMap<String, RoleKeys>,
    /// Unknown fields of `signed`, kept as read: they are signed too.
    pub extra: Map,
}

impl Root {
    /// The keys and threshold of a top-level role. Always present for the four top-level
    /// names (the parser refuses a root without them).
    pub fn role(&self, name: &str) -> Option<&RoleKeys> {
        self.roles.get(name)
    }

    /// The keys of a top-level role that resolve in `keys`.
    pub fn role_keys(&self, name: &str) -> BTreeMap<KeyId, Key> {
        let mut out = BTreeMap::new();
        if let Some(role) = self.roles.get(name) {
            for id in &role.keyids {
                if let Some(k) = self.keys.get(id) {
                    out.insert(id.clone(), k.clone());
                }
            }
        }
        out
    }
}

impl Role for Root {
    const TYPE: &'static str = "root";

    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let common = Common::read(&mut f, Self::TYPE)?;
        let consistent_snapshot = f.opt_bool("consistent_snapshot")?;
        let keys_path = f.path("keys");
        let keys = read_keys(f.object("keys")?, &keys_path)?;
        let roles_path = f.path("roles");
        let mut roles = BTreeMap::new();
        for (name, v) in f.object("roles")? {
            let role_path = fields::join(&roles_path, &name);
            roles.insert(name, RoleKeys::from_value(v, &role_path)?);
        }
        // TUF spec: root MUST name all four top-level roles.
        for name in TOP_LEVEL_ROLES {
            if !roles.contains_key(name) {
                return Err(FormatError::new(
                    &roles_path,
                    format!("the \"{name}\" role is missing"),
                ));
            }
        }
        Ok(Root {
            common,
            consistent_snapshot,
            keys,
            roles,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        let mut known = self.common.fields(Self::TYPE);
        if let Some(cs) = self.consistent_snapshot {
            known.push(("consistent_snapshot", Value::Bool(cs)));
        }
        known.push(("keys", keys_value(&self.keys)));
        known.push((
            "roles",
            Value::Object(
                self.roles
                    .iter()
                    .map(|(n, r)| (n.clone(), r.to_value()))
                    .collect(),
            ),
        ));
        fields::object(known, &self.extra)
    }

    common_in_field!();
}
