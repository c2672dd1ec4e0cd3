//! What the Repository Service for TUF (RSTUF) 1.0 can run, checked before a payload is
//! written for it.
//!
//! RSTUF 1.0's worker signs targets, snapshot and timestamp with **one online key**: the first
//! keyid of the root's timestamp role. It finds the private key only through the
//! `x-rstuf-online-key-uri` field inside that key's object in the signed root (for example
//! `fn:NAME`, a PEM file NAME in the worker's `RSTUF_ONLINE_KEY_DIR`). A root that lacks the
//! field, keeps targets offline (upstream issue #244), or gives snapshot and timestamp different
//! keys is accepted by RSTUF's API and then fails or publishes metadata its own clients refuse;
//! [`check_root`] names each such problem, so nothing is written for it. See docs/rstuf.md.

use crate::display::escape;
use crate::metadata::{Key, KeyId, Root};

/// The key field naming where RSTUF's worker finds the online private key.
pub const ONLINE_KEY_URI: &str = "x-rstuf-online-key-uri";
/// The key field RSTUF shows as the key's name.
pub const KEY_NAME: &str = "x-rstuf-key-name";
/// The delegated-role field giving RSTUF the role's expiry period in days.
pub const EXPIRE_POLICY: &str = "x-rstuf-expire-policy";

/// Why RSTUF 1.0 cannot run a root. Each message names the problem and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RstufProblem {
    /// targets, snapshot or timestamp has no key, or more than one.
    #[error(
        "role {role} has {count} key(s) with threshold {threshold}; RSTUF 1.0 signs targets, \
         snapshot and timestamp with exactly one online key each (threshold 1): draft the root \
         with the one online key for all three (the plan's rstuf profile)"
    )]
    NotOneKey {
        /// The role.
        role: String,
        /// How many keyids it lists.
        count: usize,
        /// Its threshold.
        threshold: u32,
    },
    /// targets is signed by another key than timestamp's: offline targets.
    #[error(
        "role targets is signed by key {targets}, not by the online key {online}: RSTUF 1.0 \
         signs targets with its online key (offline targets is upstream issue #244); use the \
         rstuf profile, where targets, snapshot and timestamp share the online key, or deploy \
         the pep458 profile with an online side that keeps targets offline"
    )]
    OfflineTargets {
        /// The targets role's keyid.
        targets: KeyId,
        /// The online (timestamp) keyid.
        online: KeyId,
    },
    /// snapshot and timestamp have different keys.
    #[error(
        "role snapshot is signed by key {snapshot} and timestamp by key {timestamp}: RSTUF 1.0 \
         signs both with one online key; give snapshot and timestamp the same online key"
    )]
    DistinctOnlineKeys {
        /// The snapshot keyid.
        snapshot: KeyId,
        /// The timestamp keyid.
        timestamp: KeyId,
    },
    /// The online key carries no `x-rstuf-online-key-uri`.
    #[error(
        "the online key {keyid} carries no \"x-rstuf-online-key-uri\": RSTUF's worker could not \
         sign with it, and the field cannot be added once the root is signed; add the URI (for \
         example fn:NAME) to the online key's public key file and draft and sign the root again"
    )]
    NoOnlineKeyUri {
        /// The online keyid.
        keyid: KeyId,
    },
    /// The online key's URI is not a string RSTUF can use.
    #[error(
        "the online key {keyid} has \"x-rstuf-online-key-uri\" {uri}, which is not a URI of \
         the schemes RSTUF 1.0 loads (fn:, awskms:, gcpkms:, azurekms:, hv:)"
    )]
    BadOnlineKeyUri {
        /// The online keyid.
        keyid: KeyId,
        /// The value as found (escaped).
        uri: String,
    },
    /// A role names a keyid the root has no key for.
    #[error("role {role} names key {keyid}, which is not in the root's keys")]
    MissingKey {
        /// The role.
        role: String,
        /// The keyid.
        keyid: KeyId,
    },
}

/// The URI schemes RSTUF 1.0's worker has signers for.
const SCHEMES: [&str; 5] = ["fn:", "awskms:", "gcpkms:", "azurekms:", "hv:"];

/// The online key's URI, when `key` carries a usable one.
pub fn online_key_uri(key: &Key) -> Option<&str> {
    key.extra().get(ONLINE_KEY_URI).and_then(|v| v.as_str())
}

/// Whether `uri` names a key in a way RSTUF 1.0's worker can load (a scheme it has a signer
/// for, and something after it).
pub fn usable_uri(uri: &str) -> bool {
    SCHEMES
        .iter()
        .any(|p| uri.len() > p.len() && uri.starts_with(p))
}

/// Why [`with_online_key_uri`] cannot mark a key.
#[derive(Debug, thiserror::Error)]
pub enum OnlineKeyError {
    /// The URI is not one RSTUF 1.0 loads.
    #[error(
        "\"{}\" is not a URI of the schemes RSTUF 1.0 loads (fn:NAME for a PEM file NAME in the \
         worker's RSTUF_ONLINE_KEY_DIR; awskms:, gcpkms:, azurekms:, hv:)",
        escape(.0)
    )]
    Uri(String),
    /// The name is empty or holds control characters.
    #[error("the key name \"{}\" is empty or holds control characters", escape(.0))]
    Name(String),
    /// The key with the fields added is not a key conclave reads.
    #[error("the key with RSTUF's fields is not a TUF key")]
    Key(#[source] crate::metadata::FormatError),
}

/// `key` with RSTUF's `x-rstuf-online-key-uri` (and `x-rstuf-key-name`, when given) set, for
/// the public key file the root is drafted from: RSTUF's worker finds the online key only
/// through this field inside the signed root. The keyid does not change (a key's own unknown
/// fields are not part of it).
pub fn with_online_key_uri(
    key: &Key,
    uri: &str,
    name: Option<&str>,
) -> Result<Key, OnlineKeyError> {
    if !usable_uri(uri) || uri.chars().any(char::is_control) {
        return Err(OnlineKeyError::Uri(uri.to_owned()));
    }
    let mut v = key.to_value();
    if let crate::cjson::Value::Object(m) = &mut v {
        m.insert(
            ONLINE_KEY_URI.into(),
            crate::cjson::Value::String(uri.into()),
        );
        if let Some(n) = name {
            if n.is_empty() || n.chars().any(char::is_control) {
                return Err(OnlineKeyError::Name(n.to_owned()));
            }
            m.insert(KEY_NAME.into(), crate::cjson::Value::String(n.into()));
        }
    }
    Key::from_json(v).map_err(OnlineKeyError::Key)
}

/// Everything that keeps RSTUF 1.0 from running `root`; empty when it can.
pub fn check_root(root: &Root) -> Vec<RstufProblem> {
    let mut out = Vec::new();
    let mut single = |role: &str| -> Option<KeyId> {
        let rk = root.role(role)?;
        if rk.keyids.len() != 1 || rk.threshold.get() != 1 {
            out.push(RstufProblem::NotOneKey {
                role: role.to_owned(),
                count: rk.keyids.len(),
                threshold: rk.threshold.get(),
            });
            return None;
        }
        Some(rk.keyids[0].clone())
    };
    let timestamp = single("timestamp");
    let snapshot = single("snapshot");
    let targets = single("targets");
    let Some(online) = timestamp.or_else(|| {
        // RSTUF takes the first timestamp keyid even when there are several.
        root.role("timestamp")
            .and_then(|r| r.keyids.first().cloned())
    }) else {
        return out;
    };
    if let Some(s) = snapshot
        && s != online
    {
        out.push(RstufProblem::DistinctOnlineKeys {
            snapshot: s,
            timestamp: online.clone(),
        });
    }
    if let Some(t) = targets
        && t != online
    {
        out.push(RstufProblem::OfflineTargets {
            targets: t,
            online: online.clone(),
        });
    }
    match root.keys.get(&online) {
        None => out.push(RstufProblem::MissingKey {
            role: "timestamp".into(),
            keyid: online,
        }),
        Some(key) => match key.extra().get(ONLINE_KEY_URI) {
            None => out.push(RstufProblem::NoOnlineKeyUri { keyid: online }),
            Some(v) => {
                if !v.as_str().is_some_and(usable_uri) {
                    out.push(RstufProblem::BadOnlineKeyUri {
                        keyid: online,
                        uri: escape(&String::from_utf8_lossy(&crate::cjson::to_canonical(v)))
                            .into_owned(),
                    });
                }
            }
        },
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cjson::Value;
    use crate::metadata::{Common, Expires, RoleKeys, Threshold, Version};
    use std::collections::BTreeMap;

    fn key(n: u8, uri: Option<&str>) -> Key {
        let mut k = Key::ed25519(&[n; 32]);
        if let Some(u) = uri {
            let mut v = k.to_value();
            if let Value::Object(m) = &mut v {
                m.insert(ONLINE_KEY_URI.into(), Value::String(u.into()));
            }
            k = Key::from_json(v).unwrap();
        }
        k
    }

    fn root(roles: &[(&str, &[&Key], u32)]) -> Root {
        let mut keys = BTreeMap::new();
        let mut role_map = BTreeMap::new();
        for (name, ks, t) in roles {
            let ids = ks
                .iter()
                .map(|k| {
                    keys.insert(k.keyid(), (*k).clone());
                    k.keyid()
                })
                .collect();
            role_map.insert(
                name.to_string(),
                RoleKeys::new(ids, Threshold::new(*t).unwrap()),
            );
        }
        Root {
            common: Common::new(
                Version::new(1).unwrap(),
                Expires::parse("2100-01-01T00:00:00Z").unwrap(),
            ),
            consistent_snapshot: Some(true),
            keys,
            roles: role_map,
            extra: Default::default(),
        }
    }

    #[test]
    fn one_online_key_with_a_uri_is_what_rstuf_runs() {
        let (r1, r2, on) = (key(1, None), key(2, None), key(9, Some("fn:online")));
        let r = root(&[
            ("root", &[&r1, &r2], 2),
            ("targets", &[&on], 1),
            ("snapshot", &[&on], 1),
            ("timestamp", &[&on], 1),
        ]);
        assert_eq!(check_root(&r), vec![]);
    }

    #[test]
    fn the_pep458_layout_is_refused_with_each_reason() {
        let (r1, t1, t2) = (key(1, None), key(3, None), key(4, None));
        let (snap, ts) = (key(5, None), key(6, None));
        let r = root(&[
            ("root", &[&r1], 1),
            ("targets", &[&t1, &t2], 2),
            ("snapshot", &[&snap], 1),
            ("timestamp", &[&ts], 1),
        ]);
        let p = check_root(&r);
        assert!(
            p.iter()
                .any(|x| matches!(x, RstufProblem::DistinctOnlineKeys { .. })),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| matches!(x, RstufProblem::NotOneKey { role, .. } if role == "targets"))
        );
        assert!(
            p.iter()
                .any(|x| matches!(x, RstufProblem::NoOnlineKeyUri { .. }))
        );
        for x in &p {
            assert!(!x.to_string().contains("--"), "no CLI flags in {x}");
        }
    }

    #[test]
    fn an_online_key_is_marked_with_its_uri_and_keeps_its_keyid() {
        let k = key(7, None);
        let marked = with_online_key_uri(&k, "fn:online", Some("online")).unwrap();
        assert_eq!(marked.keyid(), k.keyid());
        assert_eq!(online_key_uri(&marked), Some("fn:online"));
        assert_eq!(
            marked.extra().get(KEY_NAME).and_then(|v| v.as_str()),
            Some("online")
        );
        let on = &marked;
        let r = root(&[
            ("root", &[&key(1, None)], 1),
            ("targets", &[on], 1),
            ("snapshot", &[on], 1),
            ("timestamp", &[on], 1),
        ]);
        assert_eq!(check_root(&r), vec![]);
        for bad in ["", "fn:", "file:/etc/key", "online", "fn:a\nb"] {
            assert!(
                matches!(
                    with_online_key_uri(&k, bad, None),
                    Err(OnlineKeyError::Uri(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            with_online_key_uri(&k, "awskms:alias/x", Some("a\u{1b}[1m")),
            Err(OnlineKeyError::Name(_))
        ));
    }

    #[test]
    fn offline_targets_and_bad_uris_are_named() {
        let (r1, t1) = (key(1, None), key(3, None));
        let on = key(9, Some("file:/etc/key"));
        let r = root(&[
            ("root", &[&r1], 1),
            ("targets", &[&t1], 1),
            ("snapshot", &[&on], 1),
            ("timestamp", &[&on], 1),
        ]);
        let p = check_root(&r);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(matches!(p[0], RstufProblem::OfflineTargets { .. }));
        assert!(matches!(p[1], RstufProblem::BadOnlineKeyUri { .. }));
        assert!(p[0].to_string().contains("#244"));
    }
}
