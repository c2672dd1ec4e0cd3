//! Drafting roots: version 1 from a set of public keys, and each rotation after it.

use std::collections::BTreeMap;

use crate::cjson::Map;
use crate::display::escape;
use crate::metadata::{Common, Expires, Key, KeyId, RoleKeys, Root, TOP_LEVEL_ROLES, ValueError};

/// Why a root could not be drafted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootError {
    /// A role's keys or threshold would make it unusable or unsafe
    /// ([`crate::metadata::keyset::role_keys`]).
    #[error(transparent)]
    RoleKeys(#[from] crate::metadata::RoleKeysError),
    /// A key or threshold was given for a role that is not one of root, targets, snapshot
    /// and timestamp (the only roles root may list, TUF spec §4.3).
    #[error(
        "\"{}\" is not a top-level role (root, targets, snapshot or timestamp)",
        escape(.0)
    )]
    NotTopLevel(String),
    /// A new key whose keytype and scheme conclave cannot verify signatures with.
    #[error(
        "the key for {role} has keytype \"{}\" and scheme \"{}\", which conclave cannot use",
        escape(.keytype),
        escape(.scheme)
    )]
    UnusableKey {
        /// The role the key was given for.
        role: String,
        /// The key's keytype.
        keytype: String,
        /// The key's scheme.
        scheme: String,
    },
    /// A rotation removes a key the role does not have in the previous root.
    #[error("the {role} role has no key {keyid} to remove")]
    NoKeyToRemove {
        /// The role.
        role: String,
        /// The key to remove.
        keyid: KeyId,
    },
    /// A rotation adds a key the role already has.
    #[error("key {keyid} is already a {role} key")]
    AlreadyAKey {
        /// The key to add.
        keyid: KeyId,
        /// The role that already has it.
        role: String,
    },
    /// The previous root lists a role besides the four top-level ones; rotating would drop it.
    #[error("the previous root has a role \"{}\" conclave does not manage", escape(.0))]
    UnmanagedRole(String),
    /// The previous root lists keys conclave will not carry into a new root (a key under a
    /// keyid that is not its own, one key under two keyids, private material).
    #[error("the previous root's keys cannot be carried over: {0}")]
    PreviousKeys(crate::metadata::keyset::KeyProblems),
    /// The new root would list keys conclave never writes (see
    /// [`crate::metadata::keyset::audit`]).
    #[error("the new root's keys: {0}")]
    Keys(crate::metadata::keyset::KeyProblems),
    /// The previous root's version has no next version (it is the largest there is).
    #[error(transparent)]
    Version(#[from] ValueError),
}

fn check_role(role: &str) -> Result<(), RootError> {
    if TOP_LEVEL_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(RootError::NotTopLevel(role.to_owned()))
    }
}

type KeysAndRoles = (BTreeMap<KeyId, Key>, BTreeMap<String, RoleKeys>);

/// Build root roles from (role, key) pairs and thresholds, checking every invariant: each
/// of the four roles has at least one key, no key is listed twice for a role, and every
/// threshold is between 1 and the number of keys.
fn assemble(
    role_keys: &BTreeMap<String, Vec<Key>>,
    thresholds: &BTreeMap<String, u32>,
) -> Result<KeysAndRoles, RootError> {
    for role in thresholds.keys() {
        check_role(role)?;
    }
    let mut keys = BTreeMap::new();
    let mut roles = BTreeMap::new();
    for role in TOP_LEVEL_ROLES {
        let list = role_keys.get(role).map(Vec::as_slice).unwrap_or_default();
        let (ids, threshold) = crate::metadata::keyset::role_keys(
            role,
            list,
            thresholds.get(role).copied().unwrap_or(1),
        )?;
        for (id, k) in ids.iter().zip(list) {
            keys.insert(id.clone(), k.clone());
        }
        roles.insert(role.to_owned(), RoleKeys::new(ids, threshold));
    }
    // One key in two roles, spelled differently in each, is one key under two keyids.
    crate::metadata::keyset::check(&keys).map_err(RootError::Keys)?;
    Ok((keys, roles))
}

/// An unsigned root version 1 with `consistent_snapshot: true`.
pub fn init(
    keys: &[(String, Key)],
    thresholds: &BTreeMap<String, u32>,
    expires: Expires,
) -> Result<Root, RootError> {
    let mut role_keys: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    for (role, key) in keys {
        check_role(role)?;
        if key.algorithm().is_none() {
            return Err(RootError::UnusableKey {
                role: role.clone(),
                keytype: key.keytype.to_string(),
                scheme: key.scheme.to_string(),
            });
        }
        role_keys.entry(role.clone()).or_default().push(key.clone());
    }
    let (keys, roles) = assemble(&role_keys, thresholds)?;
    Ok(Root {
        common: Common::first(expires),
        consistent_snapshot: Some(true),
        keys,
        roles,
        extra: Map::new(),
    })
}

/// The next root version: keys added and removed per role, thresholds changed, expiry renewed.
/// Unknown fields of the previous root are carried over.
pub fn rotate(
    prev: &Root,
    add: &[(String, Key)],
    remove: &[(String, KeyId)],
    thresholds: &BTreeMap<String, u32>,
    expires: Option<Expires>,
) -> Result<Root, RootError> {
    let mut role_keys: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    for role in TOP_LEVEL_ROLES {
        let rk = prev.role(role).expect("parsed roots have all four roles");
        let list = rk
            .keyids
            .iter()
            .filter_map(|id| prev.keys.get(id).cloned())
            .collect();
        role_keys.insert(role.to_owned(), list);
    }
    for (role, id) in remove {
        check_role(role)?;
        let list = role_keys.get_mut(role).expect("all four present");
        let before = list.len();
        // By keyid, or by material when `id` names another spelling of a key listed here.
        let gone = prev.keys.get(id).map(Key::material);
        list.retain(|k| &k.keyid() != id && gone.as_ref() != Some(&k.material()));
        if list.len() == before {
            return Err(RootError::NoKeyToRemove {
                role: role.clone(),
                keyid: id.clone(),
            });
        }
    }
    // The keys carried over must be what their keyids say (a key removed above may be the
    // one that is not: removing it is how a planted key is taken out).
    let carried: BTreeMap<KeyId, Key> = prev
        .keys
        .iter()
        .filter(|(_, k)| role_keys.values().flatten().any(|c| c == *k))
        .map(|(id, k)| (id.clone(), k.clone()))
        .collect();
    crate::metadata::keyset::check(&carried).map_err(RootError::PreviousKeys)?;
    for (role, key) in add {
        check_role(role)?;
        let list = role_keys.get_mut(role).expect("all four present");
        let material = key.material();
        if let Some(have) = list.iter().find(|k| k.material() == material) {
            return Err(RootError::AlreadyAKey {
                keyid: have.keyid(),
                role: role.clone(),
            });
        }
        list.push(key.clone());
    }
    // Thresholds not mentioned stay as they were.
    let mut all = BTreeMap::new();
    for role in TOP_LEVEL_ROLES {
        let t = thresholds
            .get(role)
            .copied()
            .unwrap_or_else(|| prev.role(role).expect("present").threshold.get());
        all.insert(role.to_owned(), t);
    }
    for role in thresholds.keys() {
        check_role(role)?;
    }
    let (keys, roles) = assemble(&role_keys, &all)?;
    let mut extra_roles_lost = prev
        .roles
        .keys()
        .filter(|r| !TOP_LEVEL_ROLES.contains(&r.as_str()));
    if let Some(r) = extra_roles_lost.next() {
        return Err(RootError::UnmanagedRole(r.clone()));
    }
    Ok(Root {
        common: Common {
            spec_version: prev.common.spec_version.clone(),
            version: prev.common.version.next()?,
            expires: expires.unwrap_or(prev.common.expires),
        },
        consistent_snapshot: prev.consistent_snapshot.or(Some(true)),
        keys,
        roles,
        extra: prev.extra.clone(),
    })
}
