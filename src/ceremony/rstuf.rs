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
use crate::metadata::{
    DelegatedRole, DelegationRoles, Delegations, Key, KeyId, RoleName, RolePaths, Root, Threshold,
};

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
    /// The plan's online key is not the root's.
    #[error(
        "the plan's online key {plan} is not the online key {root} of the root RSTUF \
         bootstraps from: the delegations drafted from the plan would name a key RSTUF does not \
         hold; export with the plan the root was drafted from"
    )]
    PlanOnlineKey {
        /// The plan's timestamp keyid.
        plan: KeyId,
        /// The root's online keyid.
        root: KeyId,
    },
    /// A custom delegation's name is not one RSTUF's API accepts.
    #[error(
        "delegated role \"{}\": RSTUF 1.0 accepts custom delegation names of letters, digits, \
         '_' and '-' only",
        escape(.0)
    )]
    DelegationName(String),
    /// A custom delegation mixes RSTUF's online key with other keys, or needs more than it.
    #[error(
        "delegated role {0}: lists RSTUF's online key among other keys or with a threshold \
         above 1; RSTUF 1.0 signs a role with its online key alone, or leaves it to offline \
         keys through DAS: give the role either the online key alone or offline keys only"
    )]
    MixedOnlineKey(String),
    /// RSTUF's bins must number 2 to 16,384.
    #[error("{0} hash bins: RSTUF 1.0 runs 2 to 16,384")]
    BinCount(u32),
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

// ---------------------------------------------------------------------------------------------
// The bootstrap settings: expiry periods, and RSTUF's hash bins or the plan's delegations
// ---------------------------------------------------------------------------------------------

/// RSTUF's expiry defaults in days (its `admin ceremony` offers these; they match PEP 458),
/// used for a role the plan gives no period for.
pub const DEFAULT_EXPIRATION_DAYS: [(&str, i64); 4] = [
    ("root", 365),
    ("targets", 365),
    ("snapshot", 1),
    ("timestamp", 1),
];
/// RSTUF's default online hash bins: (expiration in days, number of bins).
pub const DEFAULT_BINS: (i64, u32) = (1, 256);
/// The most hash bins RSTUF 1.0 accepts.
pub const MAX_BINS: u32 = 16_384;
/// Days for PEP 480's delegated roles when the plan gives none: claimed is re-signed offline
/// (PEP 480 suggests months), recently-claimed and unclaimed are online (RSTUF's bins: a day).
const DEFAULT_DELEGATED_DAYS: [(&str, i64); 3] =
    [("claimed", 90), ("recently-claimed", 1), ("unclaimed", 1)];

/// What RSTUF delegates from its online targets role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetsLayout {
    /// RSTUF's own online hash bins: the bins' expiry in days and how many bins.
    Bins {
        /// Days each bin's metadata stays valid; RSTUF re-signs before then.
        expiration: i64,
        /// How many bins (2 to 16,384).
        count: u32,
    },
    /// Custom delegations, each role carrying `x-rstuf-expire-policy` (PEP 480's claimed,
    /// recently-claimed and unclaimed, from the plan's `[pypi]`).
    Custom(Delegations),
}

/// The `settings` of RSTUF's bootstrap payload: each top-level role's expiry period and
/// what targets delegates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// root, targets, snapshot, timestamp -> days, in that order.
    pub expiration: Vec<(String, i64)>,
    /// RSTUF's bins or the plan's custom delegations.
    pub layout: TargetsLayout,
    /// Where the settings came from, for SUMMARY.txt: "RSTUF's defaults" or the plan's name.
    pub source: String,
    /// The plan's online (timestamp) key, checked against the root's by [`check_settings`].
    pub online_key: Option<KeyId>,
}

/// Why a plan gives no settings RSTUF runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The plan is not in the rstuf profile.
    #[error(
        "plan \"{}\" is in the {profile} profile; RSTUF's settings come from a plan in the rstuf \
         profile (ceremony.profile = \"rstuf\")",
        escape(.plan)
    )]
    NotRstuf {
        /// The plan's name.
        plan: String,
        /// Its profile.
        profile: &'static str,
    },
    /// A role's expiry is not a period RSTUF can hold.
    #[error(
        "role {role}: expires \"{}\" is not a period RSTUF can re-sign with (a number of days \
         such as \"90d\", or a date after today)",
        escape(.when)
    )]
    Period {
        /// The role.
        role: String,
        /// The WHEN as written.
        when: String,
    },
    /// A delegated role names a key the plan does not have.
    #[error("role {role}: key \"{}\" is not under [keys]", escape(.key))]
    UnknownKey {
        /// The role.
        role: String,
        /// The key name.
        key: String,
    },
    /// The delegations are not what RSTUF validates (a name, a threshold).
    #[error("role {role}: {reason}")]
    Role {
        /// The role.
        role: String,
        /// What is wrong.
        reason: String,
    },
}

/// Whether `name` is a role name RSTUF's API accepts for a custom delegation.
pub fn rstuf_role_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Days from `now` that a plan's WHEN gives: `Nd` as written, a date as the whole days left
/// (rounded up).
fn period_days(
    role: &str,
    when: &str,
    now: crate::metadata::Expires,
) -> Result<i64, SettingsError> {
    let bad = || SettingsError::Period {
        role: role.to_owned(),
        when: when.to_owned(),
    };
    if let Some(d) = when.strip_suffix('d') {
        return d.parse::<i64>().ok().filter(|d| *d > 0).ok_or_else(bad);
    }
    let at = crate::ceremony::plan::resolve_when(when, now).map_err(|_| bad())?;
    let secs = at.unix() - now.unix();
    if secs <= 0 {
        return Err(bad());
    }
    Ok((secs + 86_399) / 86_400)
}

impl Settings {
    /// RSTUF's own defaults: its expiry periods and 256 online hash bins.
    pub fn defaults() -> Settings {
        Settings {
            expiration: DEFAULT_EXPIRATION_DAYS
                .iter()
                .map(|(r, d)| ((*r).to_owned(), *d))
                .collect(),
            layout: TargetsLayout::Bins {
                expiration: DEFAULT_BINS.0,
                count: DEFAULT_BINS.1,
            },
            source: "RSTUF's defaults".into(),
            online_key: None,
        }
    }

    /// The settings a plan in the rstuf profile gives: each role's period from its `expires`
    /// (RSTUF's default where the plan has none); without `[pypi]`, RSTUF's hash bins with the
    /// bins' default period; with `[pypi]`, PEP 480's claimed (the plan's offline keys and
    /// threshold), recently-claimed and unclaimed (RSTUF's online key) as custom delegations
    /// over every project path, in that order, none terminating, each with
    /// `x-rstuf-expire-policy`.
    pub fn from_plan(
        plan: &crate::ceremony::plan::Plan,
        now: crate::metadata::Expires,
    ) -> Result<Settings, SettingsError> {
        use crate::ceremony::plan::Profile;
        if plan.profile != Profile::Rstuf {
            return Err(SettingsError::NotRstuf {
                plan: plan.name.clone(),
                profile: plan.profile.word(),
            });
        }
        let mut expiration = Vec::new();
        for (role, default) in DEFAULT_EXPIRATION_DAYS {
            let days = match plan.roles.get(role).and_then(|r| r.expires.as_deref()) {
                Some(w) => period_days(role, w, now)?,
                None => default,
            };
            expiration.push((role.to_owned(), days));
        }
        let layout = match &plan.pypi {
            None => TargetsLayout::Bins {
                expiration: DEFAULT_BINS.0,
                count: DEFAULT_BINS.1,
            },
            Some(p) => TargetsLayout::Custom(custom_delegations(plan, p, now)?),
        };
        Ok(Settings {
            expiration,
            layout,
            source: format!("plan \"{}\"", escape(&plan.name)),
            online_key: plan
                .roles
                .get("timestamp")
                .and_then(|r| r.keys.first())
                .and_then(|n| plan.keys.get(n))
                .map(|k| k.key.keyid()),
        })
    }

    /// The payload's `settings` object, as RSTUF's API model reads it.
    pub fn to_value(&self) -> crate::cjson::Value {
        use crate::cjson::{Map, Value};
        let mut roles = Map::new();
        for (name, days) in &self.expiration {
            let mut m = Map::new();
            m.insert("expiration".into(), Value::Int(*days));
            roles.insert(name.clone(), Value::Object(m));
        }
        match &self.layout {
            TargetsLayout::Bins { expiration, count } => {
                let mut bins = Map::new();
                bins.insert("expiration".into(), Value::Int(*expiration));
                bins.insert(
                    "number_of_delegated_bins".into(),
                    Value::Int(i64::from(*count)),
                );
                roles.insert("bins".into(), Value::Object(bins));
            }
            TargetsLayout::Custom(d) => {
                roles.insert("delegations".into(), d.to_value());
            }
        }
        let mut settings = Map::new();
        settings.insert("roles".into(), Value::Object(roles));
        Value::Object(settings)
    }

    /// Lines for SUMMARY.txt: where the settings came from, each period, and the delegations.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!("settings from {}", self.source)];
        let periods: Vec<String> = self
            .expiration
            .iter()
            .map(|(r, d)| format!("{r} {d} day(s)"))
            .collect();
        out.push(format!(
            "re-signing periods: {} (RSTUF re-signs online roles within them)",
            periods.join(", ")
        ));
        match &self.layout {
            TargetsLayout::Bins { expiration, count } => out.push(format!(
                "targets delegates to RSTUF's {count} online hash bins ({expiration} day(s))"
            )),
            TargetsLayout::Custom(d) => {
                if let DelegationRoles::List(roles) = &d.roles {
                    for r in roles {
                        let days = match r.extra.get(EXPIRE_POLICY) {
                            Some(crate::cjson::Value::Int(d)) => *d,
                            _ => 0,
                        };
                        out.push(format!(
                            "targets delegates to {}: threshold {} of {} key(s), {} day(s), \
                             custom delegation",
                            escape(r.name.as_str()),
                            r.threshold,
                            r.keyids.len(),
                            days
                        ));
                    }
                }
            }
        }
        out
    }

    /// The online roles RSTUF signs, and the offline ones left pending for DAS signing: each
    /// custom delegation whose keys are not all `online`.
    pub fn offline_delegations(&self, online: &KeyId) -> Vec<String> {
        match &self.layout {
            TargetsLayout::Bins { .. } => Vec::new(),
            TargetsLayout::Custom(d) => match &d.roles {
                DelegationRoles::List(roles) => roles
                    .iter()
                    .filter(|r| r.keyids.iter().any(|k| k != online))
                    .map(|r| r.name.as_str().to_owned())
                    .collect(),
                DelegationRoles::Succinct(_) => Vec::new(),
            },
        }
    }
}

/// What keeps RSTUF 1.0 from bootstrapping `root` with `settings`; empty when it can.
pub fn check_settings(root: &Root, settings: &Settings) -> Vec<RstufProblem> {
    let mut out = Vec::new();
    let online = root
        .role("timestamp")
        .and_then(|r| r.keyids.first().cloned());
    if let (Some(plan), Some(root_key)) = (&settings.online_key, &online)
        && plan != root_key
    {
        out.push(RstufProblem::PlanOnlineKey {
            plan: plan.clone(),
            root: root_key.clone(),
        });
    }
    match &settings.layout {
        TargetsLayout::Bins { count, .. } => {
            if !(2..=MAX_BINS).contains(count) {
                out.push(RstufProblem::BinCount(*count));
            }
        }
        TargetsLayout::Custom(d) => {
            let DelegationRoles::List(roles) = &d.roles else {
                return out;
            };
            for r in roles {
                let name = r.name.as_str();
                if !rstuf_role_name(name) {
                    out.push(RstufProblem::DelegationName(name.to_owned()));
                }
                let has_online = online.as_ref().is_some_and(|o| r.keyids.contains(o));
                if has_online && (r.keyids.len() != 1 || r.threshold.get() != 1) {
                    out.push(RstufProblem::MixedOnlineKey(escape(name).into_owned()));
                }
            }
        }
    }
    out
}

/// PEP 480's three roles as RSTUF custom delegations (see [`Settings::from_plan`]).
fn custom_delegations(
    plan: &crate::ceremony::plan::Plan,
    p: &crate::ceremony::plan::PypiPlan,
    now: crate::metadata::Expires,
) -> Result<Delegations, SettingsError> {
    use crate::cjson::Value;
    let mut keys = std::collections::BTreeMap::new();
    let mut roles = Vec::new();
    let plans = [
        ("claimed", &p.claimed),
        ("recently-claimed", &p.recently_claimed),
        ("unclaimed", &p.unclaimed),
    ];
    for ((role, rp), (_, default)) in plans.into_iter().zip(DEFAULT_DELEGATED_DAYS) {
        let bad = |reason: String| SettingsError::Role {
            role: role.to_owned(),
            reason,
        };
        let days = match rp.expires.as_deref() {
            Some(w) => period_days(role, w, now)?,
            None => default,
        };
        let mut ids = Vec::new();
        for name in &rp.keys {
            let k = plan
                .keys
                .get(name)
                .ok_or_else(|| SettingsError::UnknownKey {
                    role: role.to_owned(),
                    key: name.clone(),
                })?;
            let id = k.key.keyid();
            keys.insert(id.clone(), k.key.clone());
            ids.push(id);
        }
        let threshold = Threshold::new(rp.threshold).map_err(|e| bad(format!("threshold: {e}")))?;
        let name = RoleName::delegated(role).map_err(|e| bad(e.to_string()))?;
        let mut extra = crate::cjson::Map::new();
        extra.insert(EXPIRE_POLICY.into(), Value::Int(days));
        roles.push(DelegatedRole {
            name,
            keyids: ids,
            threshold,
            terminating: Some(false),
            paths: RolePaths::Patterns(crate::pypi::all_project_paths()),
            extra,
        });
    }
    Ok(Delegations {
        keys,
        roles: DelegationRoles::List(roles),
        extra: crate::cjson::Map::new(),
    })
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

    /// The bootstrap's delegations against the root: RSTUF's online key alone or offline keys
    /// only, names RSTUF accepts, the plan's online key the root's, 2 to 16,384 bins.
    #[test]
    fn settings_rstuf_cannot_bootstrap_are_named() {
        let (r1, c1) = (key(1, None), key(3, None));
        let on = key(9, Some("fn:online"));
        let r = root(&[
            ("root", &[&r1], 1),
            ("targets", &[&on], 1),
            ("snapshot", &[&on], 1),
            ("timestamp", &[&on], 1),
        ]);
        let role = |name: &str, keys: &[&Key], t: u32| DelegatedRole {
            name: RoleName::delegated(name).unwrap(),
            keyids: keys.iter().map(|k| k.keyid()).collect(),
            threshold: Threshold::new(t).unwrap(),
            terminating: Some(false),
            paths: RolePaths::Patterns(vec!["*".into()]),
            extra: Default::default(),
        };
        let custom = |roles: Vec<DelegatedRole>| Settings {
            layout: TargetsLayout::Custom(Delegations {
                keys: [&c1, &on]
                    .iter()
                    .map(|k| (k.keyid(), (*k).clone()))
                    .collect(),
                roles: DelegationRoles::List(roles),
                extra: Default::default(),
            }),
            ..Settings::defaults()
        };
        let good = custom(vec![
            role("claimed", &[&c1], 1),
            role("unclaimed", &[&on], 1),
        ]);
        assert_eq!(check_settings(&r, &good), vec![]);
        assert_eq!(good.offline_delegations(&on.keyid()), ["claimed"]);
        let bad = custom(vec![
            role("claimed", &[&c1, &on], 1),
            role("un.claimed", &[&on], 1),
        ]);
        let p = check_settings(&r, &bad);
        assert_eq!(
            p,
            vec![
                RstufProblem::MixedOnlineKey("claimed".into()),
                RstufProblem::DelegationName("un.claimed".into())
            ]
        );
        let mut other = Settings::defaults();
        other.online_key = Some(c1.keyid());
        other.layout = TargetsLayout::Bins {
            expiration: 1,
            count: 32_768,
        };
        let p = check_settings(&r, &other);
        assert!(matches!(p[0], RstufProblem::PlanOnlineKey { .. }), "{p:?}");
        assert_eq!(p[1], RstufProblem::BinCount(32_768));
        assert!(rstuf_role_name("recently-claimed") && !rstuf_role_name("a/b"));
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
