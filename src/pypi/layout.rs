//! The targets layout for PEP 458 / PEP 480, and rotating any delegation's keys.

use std::collections::BTreeMap;

use crate::cjson::Map;
use crate::display::escape;
use crate::metadata::{
    Common, DelegatedRole, DelegationRoles, Delegations, Expires, Key, KeyId, RoleName, RolePaths,
    SuccinctRoles, Targets, Threshold, ValueError, Version,
};

/// Whose hash bins a bin count is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinsOf {
    /// unclaimed's bins (PEP 458), signed online.
    Unclaimed,
    /// claimed's bins, signed offline by the admins (`--claimed-bins`).
    Claimed,
}

impl std::fmt::Display for BinsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BinsOf::Unclaimed => "unclaimed",
            BinsOf::Claimed => "claimed",
        })
    }
}

/// Why a layout could not be drafted or a delegation's keys rotated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A role's keys or threshold would make it unusable or unsafe
    /// ([`crate::metadata::keyset::role_keys`]).
    #[error(transparent)]
    RoleKeys(#[from] crate::metadata::RoleKeysError),
    /// A bin count that is not a power of two from 2 to 65,536.
    #[error(
        "the number of {of}'s hash bins must be a power of two from 2 to 65536 (PEP 458 suggests 16384), not {bins}"
    )]
    BinCount {
        /// Whose bins.
        of: BinsOf,
        /// The count given.
        bins: u32,
    },
    /// A layout key whose keytype conclave cannot verify signatures with.
    #[error("key {keyid} has keytype \"{}\", which conclave cannot use", escape(.keytype))]
    UnusableKey {
        /// The key.
        keyid: KeyId,
        /// Its keytype.
        keytype: String,
    },
    /// A claimed key is also a recently-claimed or unclaimed (online) key: whoever
    /// compromised the online side could then sign for claimed projects (PEP 480).
    #[error(
        "key {keyid} is both an (offline) claimed key and an online key; claimed keys must be offline keys of their own"
    )]
    OnlineClaimedKey {
        /// The key.
        keyid: KeyId,
    },
    /// The delegations would list keys conclave never writes: a key under a keyid that is not
    /// its own, one key under two keyids, private material
    /// ([`crate::metadata::keyset::audit`]).
    #[error("the delegations' keys: {0}")]
    Keys(crate::metadata::keyset::KeyProblems),
    /// The metadata whose delegation is to be rotated delegates to nothing.
    #[error("this metadata delegates to no roles")]
    NoDelegations,
    /// The metadata does not delegate to the role to rotate.
    #[error("this metadata does not delegate to role \"{}\"", escape(.role))]
    NotDelegated {
        /// The role named.
        role: String,
    },
    /// `role` is not the succinct delegation's name prefix, which names all its bins.
    #[error("this metadata delegates to hash bins \"{}-*\"", escape(.prefix))]
    SuccinctBins {
        /// The succinct delegation's `name_prefix` (TAP 15), the name to rotate it by.
        prefix: String,
    },
    /// A key to remove is not one of the role's keys.
    #[error("role \"{}\" has no key {keyid} to remove", escape(.role))]
    NoKeyToRemove {
        /// The role.
        role: String,
        /// The key to remove.
        keyid: KeyId,
    },
    /// A key to add whose keytype conclave cannot verify signatures with.
    #[error("key {keyid}: keytype \"{}\" cannot be used", escape(.keytype))]
    UnusableNewKey {
        /// The key.
        keyid: KeyId,
        /// Its keytype.
        keytype: String,
    },
    /// A key to add is already one of the role's keys.
    #[error("key {keyid} already signs for role \"{}\"", escape(.role))]
    AlreadySigns {
        /// The key.
        keyid: KeyId,
        /// The role.
        role: String,
    },
    /// A new threshold of 0 is asked for.
    #[error("the new threshold must be at least 1")]
    NewThresholdZero,
    /// The rotation removes every key of the role.
    #[error("role \"{}\" would have no keys left", escape(.role))]
    NoKeysLeft {
        /// The role.
        role: String,
    },
    /// After the rotation the role's threshold would exceed its number of keys, and no new
    /// version of it could ever be signed.
    #[error(
        "role \"{}\" would need {threshold} signatures but have only {keys} key(s): it could never be met",
        escape(.role)
    )]
    WouldNeverBeMet {
        /// The role.
        role: String,
        /// Its threshold after the rotation.
        threshold: Threshold,
        /// How many keys it would have.
        keys: usize,
    },
    /// The delegating metadata's version has no next version.
    #[error(transparent)]
    Version(#[from] ValueError),
}

/// How unclaimed's hash bins are delegated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinsLayout {
    /// TAP 15 `succinct_roles`: one small object, bins named `bins-0000` … `bins-3fff`.
    Succinct,
    /// One delegation per bin with `path_hash_prefixes`, bins named `0000-0003` … `fffc-ffff`
    /// (python-tuf's example scheme), for clients without TAP 15.
    Classic,
}

/// The keys and thresholds of the three roles targets delegates to.
pub struct InitKeys {
    /// claimed's keys: offline, held by the admins, none of them an online key (PEP 480).
    pub claimed: Vec<Key>,
    /// How many claimed keys must sign.
    pub claimed_threshold: u32,
    /// recently-claimed's keys (online).
    pub recently_claimed: Vec<Key>,
    /// How many recently-claimed keys must sign.
    pub recently_claimed_threshold: u32,
    /// unclaimed's keys (online), shared by its hash bins (PEP 458).
    pub unclaimed: Vec<Key>,
    /// How many unclaimed keys must sign, for unclaimed and for each bin.
    pub unclaimed_threshold: u32,
}

fn common(version: u64, expires: Expires) -> Common {
    Common::new(Version::new(version).expect("valid"), expires)
}

fn checked_threshold(role: &str, keys: &[Key], t: u32) -> Result<Threshold, LayoutError> {
    Ok(crate::metadata::keyset::role_threshold(role, keys, t)?)
}

fn ids(keys: &[Key], role: &str) -> Result<Vec<KeyId>, LayoutError> {
    Ok(crate::metadata::keyset::keyids_once(role, keys)?)
}

fn role(
    name: &str,
    keyids: Vec<KeyId>,
    threshold: Threshold,
    paths: RolePaths,
    terminating: bool,
) -> DelegatedRole {
    DelegatedRole {
        name: RoleName::delegated(name).expect("valid role name"),
        keyids,
        threshold,
        terminating: Some(terminating),
        paths,
        extra: Map::new(),
    }
}

/// Validate a bin count: a power of two from 2 to 65,536.
pub fn bit_length(bins: u32, of: BinsOf) -> Result<u8, LayoutError> {
    if !bins.is_power_of_two() || !(2..=65_536).contains(&bins) {
        return Err(LayoutError::BinCount { of, bins });
    }
    Ok(bins.trailing_zeros() as u8)
}

/// Classic bins: (name, prefixes) per bin, as python-tuf's hashed-bin example names them.
pub fn classic_bins(bins: u32) -> Vec<(String, Vec<String>)> {
    let prefix_len = format!("{:x}", bins - 1).len();
    let prefixes = 16u64.pow(prefix_len as u32);
    let size = prefixes / u64::from(bins);
    (0..u64::from(bins))
        .map(|i| {
            let (low, high) = (i * size, i * size + size - 1);
            let name = if size == 1 {
                format!("{low:0prefix_len$x}")
            } else {
                format!("{low:0prefix_len$x}-{high:0prefix_len$x}")
            };
            let list = (low..=high).map(|p| format!("{p:0prefix_len$x}")).collect();
            (name, list)
        })
        .collect()
}

/// What `pypi init` drafts, all unsigned, version 1.
pub struct InitLayout {
    /// Top-level targets, delegating to claimed, recently-claimed and unclaimed.
    pub targets: Targets,
    /// unclaimed, delegating to its hash bins; the online side signs it.
    pub unclaimed: Targets,
    /// With claimed in bins: claimed itself (delegating to the bins) and every bin, empty.
    pub claimed_bins: Option<(Targets, Vec<(String, Targets)>)>,
}

impl InitLayout {
    /// Date claimed and its bins (with claimed in bins) `expires`, apart from targets and
    /// unclaimed: PEP 458's pre-PEP 480 text gives claimed 3 to 6 months, targets a year.
    pub fn set_claimed_expiry(&mut self, expires: Expires) {
        if let Some((hub, bins)) = &mut self.claimed_bins {
            hub.common.expires = expires;
            for (_, b) in bins {
                b.common.expires = expires;
            }
        }
    }
}

/// The top-level targets layout and unclaimed's bins, and with `claimed_bins` claimed over
/// that many hash bins.
///
/// targets delegates, in this order: claimed (offline keys, the admins' threshold),
/// recently-claimed (online), unclaimed (online); unclaimed delegates to the hash bins,
/// which share its keys.
pub fn init(
    keys: &InitKeys,
    expires: Expires,
    bins: u32,
    layout: BinsLayout,
    claimed_bins: Option<u32>,
) -> Result<InitLayout, LayoutError> {
    let bits = bit_length(bins, BinsOf::Unclaimed)?;
    let ct = checked_threshold("claimed", &keys.claimed, keys.claimed_threshold)?;
    let rt = checked_threshold(
        "recently-claimed",
        &keys.recently_claimed,
        keys.recently_claimed_threshold,
    )?;
    let ut = checked_threshold("unclaimed", &keys.unclaimed, keys.unclaimed_threshold)?;
    let mut all = BTreeMap::new();
    for k in keys
        .claimed
        .iter()
        .chain(&keys.recently_claimed)
        .chain(&keys.unclaimed)
    {
        if k.algorithm().is_none() {
            return Err(LayoutError::UnusableKey {
                keyid: k.keyid(),
                keytype: k.keytype.to_string(),
            });
        }
        all.insert(k.keyid(), k.clone());
    }
    let claimed_ids = ids(&keys.claimed, "claimed")?;
    // Offline and online keys must never overlap: an online key in claimed would let a
    // compromise of the online side sign for claimed projects.
    // Compared by material: the same key spelled another way is the same key.
    let claimed_material: Vec<_> = keys.claimed.iter().map(Key::material).collect();
    for k in keys.recently_claimed.iter().chain(&keys.unclaimed) {
        if claimed_material.contains(&k.material()) {
            return Err(LayoutError::OnlineClaimedKey { keyid: k.keyid() });
        }
    }
    crate::metadata::keyset::check(&all).map_err(LayoutError::Keys)?;
    let paths = || RolePaths::Patterns(super::all_project_paths());
    let targets = Targets {
        common: common(1, expires),
        targets: BTreeMap::new(),
        delegations: Some(Delegations {
            keys: all,
            roles: DelegationRoles::List(vec![
                role("claimed", claimed_ids, ct, paths(), false),
                role(
                    "recently-claimed",
                    ids(&keys.recently_claimed, "recently-claimed")?,
                    rt,
                    paths(),
                    false,
                ),
                role(
                    "unclaimed",
                    ids(&keys.unclaimed, "unclaimed")?,
                    ut,
                    paths(),
                    false,
                ),
            ]),
            extra: Map::new(),
        }),
        extra: Map::new(),
    };
    let unclaimed_ids = ids(&keys.unclaimed, "unclaimed")?;
    let unclaimed_keys: BTreeMap<KeyId, Key> = keys
        .unclaimed
        .iter()
        .map(|k| (k.keyid(), k.clone()))
        .collect();
    let roles = match layout {
        BinsLayout::Succinct => DelegationRoles::Succinct(SuccinctRoles {
            keyids: unclaimed_ids,
            threshold: ut,
            bit_length: bits,
            name_prefix: "bins".into(),
            extra: Map::new(),
        }),
        BinsLayout::Classic => DelegationRoles::List(
            classic_bins(bins)
                .into_iter()
                .map(|(name, prefixes)| {
                    role(
                        &name,
                        unclaimed_ids.clone(),
                        ut,
                        RolePaths::HashPrefixes(prefixes),
                        false,
                    )
                })
                .collect(),
        ),
    };
    let unclaimed = Targets {
        common: common(1, expires),
        targets: BTreeMap::new(),
        delegations: Some(Delegations {
            keys: unclaimed_keys,
            roles,
            extra: Map::new(),
        }),
        extra: Map::new(),
    };
    let claimed_bins = claimed_bins
        .map(|n| init_claimed_bins(&keys.claimed, ct, expires, n))
        .transpose()?;
    Ok(InitLayout {
        targets,
        unclaimed,
        claimed_bins,
    })
}

/// Rotate the keys of one delegation in `parent` (any delegating targets metadata): add and
/// remove keys, change the threshold, renew expiry. Returns the next version, unsigned, and
/// a review of old versus new.
///
/// `role` is a delegated role's name, or a succinct delegation's `name_prefix` (all its bins
/// share one set of keys).
pub fn rotate_delegation(
    parent: &Targets,
    role: &str,
    add: &[Key],
    remove: &[KeyId],
    threshold: Option<u32>,
    expires: Option<Expires>,
) -> Result<(Targets, Vec<String>), LayoutError> {
    let mut next = parent.clone();
    let d = next
        .delegations
        .as_mut()
        .ok_or(LayoutError::NoDelegations)?;
    let (keyids, t): (&mut Vec<KeyId>, &mut Threshold) = match &mut d.roles {
        DelegationRoles::List(roles) => {
            let r = roles
                .iter_mut()
                .find(|r| r.name.as_str() == role)
                .ok_or_else(|| LayoutError::NotDelegated {
                    role: role.to_owned(),
                })?;
            (&mut r.keyids, &mut r.threshold)
        }
        DelegationRoles::Succinct(s) => {
            if s.name_prefix != role {
                return Err(LayoutError::SuccinctBins {
                    prefix: s.name_prefix.to_string(),
                });
            }
            (&mut s.keyids, &mut s.threshold)
        }
    };
    crate::metadata::keyset::check(&d.keys).map_err(LayoutError::Keys)?;
    let mut review = Vec::new();
    for id in remove {
        let before = keyids.len();
        // By keyid, or by material when `id` names another spelling of a listed key.
        let gone = d.keys.get(id).map(Key::material);
        let listed = &d.keys;
        keyids.retain(|k| k != id && (gone.is_none() || listed.get(k).map(Key::material) != gone));
        if keyids.len() == before {
            return Err(LayoutError::NoKeyToRemove {
                role: role.to_owned(),
                keyid: id.clone(),
            });
        }
        review.push(format!("- key {id} removed"));
    }
    for k in add {
        let id = k.keyid();
        if k.algorithm().is_none() {
            return Err(LayoutError::UnusableNewKey {
                keyid: id,
                keytype: k.keytype.to_string(),
            });
        }
        let material = k.material();
        if let Some(have) = keyids
            .iter()
            .find(|h| d.keys.get(*h).map(Key::material).as_ref() == Some(&material))
        {
            return Err(LayoutError::AlreadySigns {
                keyid: have.clone(),
                role: role.to_owned(),
            });
        }
        keyids.push(id.clone());
        d.keys.insert(id.clone(), k.clone());
        review.push(format!(
            "+ key {id} added ({}/{})",
            escape(&k.keytype),
            escape(&k.scheme)
        ));
    }
    if let Some(n) = threshold {
        let nt = Threshold::new(n).map_err(|_| LayoutError::NewThresholdZero)?;
        if nt != *t {
            review.push(format!("  threshold {} -> {}", t, nt));
        }
        *t = nt;
    }
    if keyids.is_empty() {
        return Err(LayoutError::NoKeysLeft {
            role: role.to_owned(),
        });
    }
    if t.get() as usize > keyids.len() {
        return Err(LayoutError::WouldNeverBeMet {
            role: role.to_owned(),
            threshold: *t,
            keys: keyids.len(),
        });
    }
    review.push(format!(
        "  role \"{}\" now needs {} of {} key(s)",
        escape(role),
        t,
        keyids.len()
    ));
    garbage_collect_keys(d);
    crate::metadata::keyset::check(&d.keys).map_err(LayoutError::Keys)?;
    next.common.version = parent.common.version.next()?;
    if let Some(e) = expires {
        next.common.expires = e;
    }
    Ok((next, review))
}

/// Drop keys no delegation uses any more.
pub(crate) fn garbage_collect_keys(d: &mut Delegations) {
    let Delegations { keys, roles, .. } = d;
    let used: std::collections::HashSet<&KeyId> = match roles {
        DelegationRoles::List(roles) => roles.iter().flat_map(|r| r.keyids.iter()).collect(),
        DelegationRoles::Succinct(s) => s.keyids.iter().collect(),
    };
    keys.retain(|id, _| used.contains(id));
}

// --- Claimed in bins: the layout of claimed as a hub over hash bins ---

/// Role names of claimed's bins: `claimed-bins-0000` … (the bin's index in hex).
pub const NAME_PREFIX: &str = "claimed-bins";

/// Whether delegations are claimed's bins (every role delegated by hash prefix).
pub(crate) fn is_hub(d: &Delegations) -> bool {
    match &d.roles {
        DelegationRoles::List(roles) => {
            !roles.is_empty()
                && roles
                    .iter()
                    .all(|r| matches!(r.paths, RolePaths::HashPrefixes(_)))
        }
        DelegationRoles::Succinct(_) => false,
    }
}

/// (name, hash prefixes) of each of `bins` claimed bins.
pub fn claimed_bin_names(bins: u32) -> Vec<(String, Vec<String>)> {
    let width = format!("{:x}", bins - 1).len();
    classic_bins(bins)
        .into_iter()
        .enumerate()
        .map(|(i, (_, prefixes))| (format!("{NAME_PREFIX}-{i:0width$x}"), prefixes))
        .collect()
}

/// Version 1 of claimed as a hub over `bins` bins (signed, like the bins, by the admins'
/// keys and threshold), and version 1 of every bin, empty. All unsigned.
pub fn init_claimed_bins(
    keys: &[Key],
    threshold: Threshold,
    expires: Expires,
    bins: u32,
) -> Result<(Targets, Vec<(String, Targets)>), LayoutError> {
    bit_length(bins, BinsOf::Claimed)?;
    let keyids: Vec<KeyId> = keys.iter().map(Key::keyid).collect();
    let names = claimed_bin_names(bins);
    let roles = names
        .iter()
        .map(|(name, prefixes)| DelegatedRole {
            name: RoleName::delegated(name).expect("valid role name"),
            keyids: keyids.clone(),
            threshold,
            // Not terminating: a target whose hash lands in this bin but that no claimed
            // project owns must still be looked up in recently-claimed and unclaimed.
            terminating: Some(false),
            paths: RolePaths::HashPrefixes(prefixes.clone()),
            extra: Map::new(),
        })
        .collect();
    let hub = crate::pypi::claim::empty_targets(
        expires,
        Some(Delegations {
            keys: keys.iter().map(|k| (k.keyid(), k.clone())).collect(),
            roles: DelegationRoles::List(roles),
            extra: Map::new(),
        }),
    );
    let bins = names
        .into_iter()
        .map(|(name, _)| (name, crate::pypi::claim::empty_targets(expires, None)))
        .collect();
    Ok((hub, bins))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_bins_follow_python_tufs_example() {
        let b = classic_bins(16_384);
        assert_eq!(b.len(), 16_384);
        assert_eq!(b[0].0, "0000-0003");
        assert_eq!(b[0].1, vec!["0000", "0001", "0002", "0003"]);
        assert_eq!(b[16_383].0, "fffc-ffff");
        let small = classic_bins(16);
        assert_eq!(small[15].0, "f");
        assert_eq!(small[15].1, vec!["f"]);
        assert!(bit_length(16_384, BinsOf::Unclaimed).is_ok());
        assert!(bit_length(1000, BinsOf::Unclaimed).is_err());
        assert!(bit_length(1, BinsOf::Claimed).is_err());
    }
}
