//! From a plan to drafts: genesis (root v1, targets v1 and the PyPI layout) and root rotation
//! planning (who must sign what, and whether it can be done at all).

use std::collections::{BTreeMap, BTreeSet};

use crate::ceremony::expiry::{ExpiryError, ExpiryPolicy};
use crate::ceremony::plan::{KeySource, Plan, PlanKey, WhenError, resolve_when};
use crate::ceremony::root::RootError;
use crate::metadata::ValueError;
use crate::metadata::{Common, Expires, Key, KeyId, Root, Targets, Version};
use crate::pypi::LayoutError;

/// The unsigned drafts a genesis produces.
#[derive(Clone, Debug)]
pub struct Drafts {
    /// Root version 1, with the plan's keys and thresholds for the four top-level roles.
    pub root: Root,
    /// Targets version 1: empty, or with the PyPI layout's delegations (PEP 458 / PEP 480).
    pub targets: Targets,
    /// With a PyPI layout: unclaimed's first version, for the online side to sign.
    pub unclaimed: Option<Targets>,
}

/// `(role, key)` pairs and thresholds of the four top-level roles, as the plan gives them.
fn top_level(plan: &Plan) -> (Vec<(String, Key)>, BTreeMap<String, u32>) {
    let mut keys = Vec::new();
    let mut thresholds = BTreeMap::new();
    for (role, rp) in &plan.roles {
        for k in plan.role_keys(rp) {
            keys.push((role.clone(), k.key.clone()));
        }
        thresholds.insert(role.clone(), rp.threshold);
    }
    (keys, thresholds)
}

/// Why a plan could not be drafted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The plan does not describe a role the drafts need (root or targets).
    #[error("the plan has no role {0}")]
    NoRole(String),
    /// The plan gives the role no expiry, so its metadata cannot be dated.
    #[error("role {0}: the plan gives no expiry")]
    NoExpiry(String),
    /// The plan's expiry for `role` is not a time (plans are checked before, so rarely).
    #[error("role {role}")]
    Expiry {
        /// The role whose expiry is wrong.
        role: String,
        /// Why the expiry could not be resolved.
        #[source]
        source: WhenError,
    },
    /// The plan's expiry for a role is not in the future, or absurdly far ahead.
    #[error(transparent)]
    Lifetime(#[from] ExpiryError),
    /// The plan's expiry for a role lies beyond the plan's policy for it.
    #[error("role {role}: expires {expires}, {days} days from now, beyond the policy's {max} days")]
    BeyondPolicy {
        /// The role.
        role: String,
        /// Its expiry, resolved.
        expires: Expires,
        /// Whole days from now.
        days: i64,
        /// The policy's bound in days.
        max: u32,
    },
    /// A key said to be lost is neither in the current root nor in the plan's.
    #[error("lost key {keyid}: that key is not a root key of version {version} nor of the plan")]
    LostKeyUnknown {
        /// The key said to be lost.
        keyid: KeyId,
        /// The current root's version.
        version: Version,
    },
    /// The plan keeps a lost key in the new root: whoever holds it could count towards the
    /// new root's threshold.
    #[error(
        "lost key {keyid}: a lost key cannot be a key of the new root; remove it from the plan's [roles.root]"
    )]
    LostKeyInNewRoot {
        /// The lost key.
        keyid: KeyId,
    },
    /// The plan's top-level keys and thresholds do not make a valid root.
    #[error(transparent)]
    Root(#[from] RootError),
    /// The plan's PyPI roles do not make a valid layout.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The current root's version has no next version.
    #[error(transparent)]
    Version(#[from] ValueError),
}

fn expiry(plan: &Plan, role: &str, now: Expires) -> Result<Expires, GenesisError> {
    let rp = plan
        .all_roles()
        .into_iter()
        .find(|(r, _)| *r == role)
        .map(|(_, rp)| rp.clone())
        .ok_or_else(|| GenesisError::NoRole(role.to_owned()))?;
    let when = rp
        .expires
        .ok_or_else(|| GenesisError::NoExpiry(role.to_owned()))?;
    let expires = resolve_when(&when, now).map_err(|source| GenesisError::Expiry {
        role: role.to_owned(),
        source,
    })?;
    // The builders' check under the plan's policy; in a plan, beyond the bound is refused as
    // `ceremony check` refuses it (the plan's [policy.max_expiry_days] is the override).
    let policy = ExpiryPolicy {
        max_days: plan.policy.max_expiry_days.clone(),
        ..ExpiryPolicy::default()
    };
    let lifetime = policy.check(role, expires, now, false)?;
    if lifetime.beyond_bound() {
        return Err(GenesisError::BeyondPolicy {
            role: role.to_owned(),
            expires,
            days: lifetime.days(),
            max: lifetime.bound.days,
        });
    }
    Ok(expires)
}

/// Root v1 and targets v1 (with the PyPI layout when the plan has one), unsigned.
pub fn draft(plan: &Plan, now: Expires) -> Result<Drafts, GenesisError> {
    let (keys, thresholds) = top_level(plan);
    let root_expires = expiry(plan, "root", now)?;
    let root = crate::ceremony::root::init(&keys, &thresholds, root_expires)?;
    // In the rstuf profile RSTUF makes and re-signs targets itself: the plan need not give
    // it an expiry, and the targets draft is not used (the command line writes root only).
    let targets_expires = match expiry(plan, "targets", now) {
        Err(GenesisError::NoExpiry(_)) if plan.profile == crate::ceremony::plan::Profile::Rstuf => {
            root_expires
        }
        other => other?,
    };
    let (targets, unclaimed) = match &plan.pypi {
        Some(p) => {
            let keys_of = |rp| {
                plan.role_keys(rp)
                    .into_iter()
                    .map(|k| k.key.clone())
                    .collect()
            };
            let init = crate::pypi::InitKeys {
                claimed: keys_of(&p.claimed),
                claimed_threshold: p.claimed.threshold,
                recently_claimed: keys_of(&p.recently_claimed),
                recently_claimed_threshold: p.recently_claimed.threshold,
                unclaimed: keys_of(&p.unclaimed),
                unclaimed_threshold: p.unclaimed.threshold,
            };
            let layout = if p.classic_bins {
                crate::pypi::BinsLayout::Classic
            } else {
                crate::pypi::BinsLayout::Succinct
            };
            let l = crate::pypi::init(&init, targets_expires, p.bins, layout, None)?;
            (l.targets, Some(l.unclaimed))
        }
        None => (
            Targets {
                common: Common::first(targets_expires),
                targets: BTreeMap::new(),
                delegations: None,
                extra: Default::default(),
            },
            None,
        ),
    };
    Ok(Drafts {
        root,
        targets,
        unclaimed,
    })
}

/// One officer's signing task: sign `draft` with plan key `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// The officer holding the key, as the plan labels them.
    pub officer: String,
    /// The plan's name for the key.
    pub key: String,
    /// The key's keyid, to check against the signer before signing.
    pub keyid: KeyId,
    /// The `conclave sign` command line, relative to the ceremony directory.
    pub command: String,
}

/// The `conclave sign` command for `key` and a draft.
pub(crate) fn sign_command(key: &PlanKey, draft: &str, context: &str, sig: &str) -> String {
    let flags = key
        .source
        .sign_flags()
        .unwrap_or_else(|| "(online key: signed by the repository)".into());
    let ctx = if context.is_empty() {
        String::new()
    } else {
        format!(" {context}")
    };
    format!("conclave sign {draft}{ctx} {flags} -o {sig}")
}

/// Signing tasks for every officer key of `role` in the plan.
pub fn tasks_for(plan: &Plan, role: &str, draft: &str, context: &str, stem: &str) -> Vec<Task> {
    let Some((_, rp)) = plan.all_roles().into_iter().find(|(r, _)| *r == role) else {
        return Vec::new();
    };
    plan.role_keys(rp)
        .into_iter()
        .filter(|k| k.source != KeySource::Online)
        .map(|k| Task {
            officer: plan.officer_label(k.officer.as_deref().unwrap_or("?")),
            key: k.name.clone(),
            keyid: k.key.keyid(),
            command: sign_command(
                k,
                draft,
                context,
                &format!("signatures/{stem}.{}.sig", k.name),
            ),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Root rotation planning
// ---------------------------------------------------------------------------------------------

/// One key's part in a rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationKey {
    /// The key.
    pub keyid: KeyId,
    /// The plan's name for the key, when the plan knows it.
    pub name: Option<String>,
    /// Who holds it, when the plan knows.
    pub officer: Option<String>,
    /// Said to be lost or compromised: it must not sign.
    pub lost: bool,
    /// Counts for the current root's threshold.
    pub in_old: bool,
    /// Counts for the new root's threshold.
    pub in_new: bool,
}

/// What a root rotation needs, worked out before anyone signs.
#[derive(Clone, Debug)]
pub struct RotationPlan {
    /// The current root's version.
    pub old_version: u64,
    /// The next root's version (one more).
    pub new_version: u64,
    /// The current root's root threshold, which the next root's signatures must also meet
    /// (TUF spec §5.3.4).
    pub old_threshold: u32,
    /// The next root's own root threshold.
    pub new_threshold: u32,
    /// Every root key of the current and the next root, current ones first.
    pub keys: Vec<RotationKey>,
    /// The next root (unsigned), built from the plan's roles.
    pub next: Root,
    /// Old root keys still usable (not lost).
    pub old_available: usize,
    /// New root keys still usable (not lost).
    pub new_available: usize,
    /// Both thresholds can be met with the keys not lost.
    pub feasible: bool,
    /// Warnings and advice, one sentence each.
    pub advice: Vec<String>,
}

/// Plan the rotation from `current` to the root the plan describes. `lost` keys cannot sign.
pub fn plan_rotation(
    current: &Root,
    plan: &Plan,
    lost: &BTreeSet<KeyId>,
    now: Expires,
) -> Result<RotationPlan, GenesisError> {
    let (keys, thresholds) = top_level(plan);
    let v1 = crate::ceremony::root::init(&keys, &thresholds, expiry(plan, "root", now)?)?;
    let next = Root {
        common: Common {
            spec_version: current.common.spec_version.clone(),
            version: current.common.version.next()?,
            expires: v1.common.expires,
        },
        consistent_snapshot: current.consistent_snapshot.or(Some(true)),
        keys: v1.keys,
        roles: v1.roles,
        extra: current.extra.clone(),
    };
    let old_rk = current.role("root").expect("parsed roots have root");
    let new_rk = next.role("root").expect("drafted roots have root");
    for id in lost {
        if !old_rk.keyids.contains(id) && !new_rk.keyids.contains(id) {
            return Err(GenesisError::LostKeyUnknown {
                keyid: id.clone(),
                version: current.common.version,
            });
        }
        if new_rk.keyids.contains(id) {
            return Err(GenesisError::LostKeyInNewRoot { keyid: id.clone() });
        }
    }
    let mut ids: Vec<KeyId> = old_rk.keyids.clone();
    for id in &new_rk.keyids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let keys: Vec<RotationKey> = ids
        .into_iter()
        .map(|id| {
            let pk = plan.key_by_id(&id);
            RotationKey {
                name: pk.map(|k| k.name.clone()),
                officer: pk.and_then(|k| k.officer.clone()),
                lost: lost.contains(&id),
                in_old: old_rk.keyids.contains(&id),
                in_new: new_rk.keyids.contains(&id),
                keyid: id,
            }
        })
        .collect();
    let old_threshold = old_rk.threshold.get();
    let new_threshold = new_rk.threshold.get();
    let old_available = keys.iter().filter(|k| k.in_old && !k.lost).count();
    let new_available = keys.iter().filter(|k| k.in_new && !k.lost).count();
    let feasible =
        old_available >= old_threshold as usize && new_available >= new_threshold as usize;

    let mut advice = Vec::new();
    if old_available < old_threshold as usize {
        advice.push(format!(
            "NOT FEASIBLE: version {} needs {old_threshold} signatures from its own root keys, \
             but only {old_available} of them are not lost. Clients cannot follow this \
             rotation; a new root must reach them out of band (PEP 458: a new pip release).",
            next.common.version
        ));
    }
    let replaced = keys.iter().filter(|k| k.in_old && !k.in_new).count();
    if replaced >= old_threshold as usize && old_threshold > 1 {
        advice.push(format!(
            "{replaced} of the current root keys leave at once, as many as or more than its \
             threshold ({old_threshold}); consider rotating fewer than a threshold of keys per \
             version so that the old and new key sets overlap"
        ));
    }
    for k in keys.iter().filter(|k| k.lost && k.in_old) {
        advice.push(format!(
            "key {} ({}) is lost or compromised: it must not sign; version {} still lists              it, so an attacker holding it counts towards version {}'s threshold, and the              remaining officers must reach that threshold without it",
            k.name.as_deref().unwrap_or("not in the plan"),
            k.keyid,
            current.common.version,
            current.common.version
        ));
    }
    let same_officer_new_key: Vec<&RotationKey> = keys
        .iter()
        .filter(|k| {
            k.in_new
                && !k.in_old
                && k.officer.is_some()
                && keys
                    .iter()
                    .any(|o| o.in_old && !o.in_new && !o.lost && o.officer == k.officer)
        })
        .collect();
    for k in same_officer_new_key {
        advice.push(format!(
            "officer {} changes keys: they sign twice, once with the old key (for version {}'s \
             threshold) and once with the new key {} (for version {}'s)",
            plan.officer_label(k.officer.as_deref().unwrap_or("?")),
            current.common.version,
            k.name.clone().unwrap_or_else(|| k.keyid.to_string()),
            next.common.version
        ));
    }
    if new_rk.threshold.get() as usize == new_rk.keyids.len() && new_rk.keyids.len() > 1 {
        advice.push(format!(
            "the new root's threshold ({new_threshold}) equals its number of keys: one lost key \
             would make the next rotation impossible"
        ));
    }
    Ok(RotationPlan {
        old_version: current.common.version.get(),
        new_version: next.common.version.get(),
        old_threshold,
        new_threshold,
        keys,
        next,
        old_available,
        new_available,
        feasible,
        advice,
    })
}
