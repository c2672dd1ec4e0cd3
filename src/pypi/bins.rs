//! Claimed in hash bins (`pypi init --claimed-bins N`): claimed delegates to N bins, each
//! delegating its share of the claimed projects, so each offline-signed file stays small and a
//! claim round re-signs only the bins that changed.
//!
//! ```text
//! targets ──> claimed (admins) ──> claimed-bins-0000 … (admins, path_hash_prefixes,
//!                                   not terminating) ──> project roles (terminating)
//! ```
//!
//! The bins are classic `path_hash_prefixes` delegations, whatever `--classic-bins` says for
//! unclaimed: python-tuf treats every TAP 15 succinct bin as terminating, so a succinct claimed
//! would end the search in a bin for every target, and nothing in recently-claimed or
//! unclaimed could be found. A client reaches a project's bin by SHA-256 of the target path;
//! the bin that delegates a project is therefore the one whose prefixes match SHA-256 of the
//! project's target path `NAME` (its normalised name), and that is the one path the project is
//! delegated in this layout (files under `NAME/` hash to other bins; see docs/pypi.md).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::metadata::SmallStr;

use crate::metadata::{DelegatedRole, DelegationRoles, Expires, RolePaths, Targets};
use crate::pypi::claim::{BinLoadError, ClaimError, ClaimRequest, ClaimReview, claim_with_paths};
use crate::pypi::layout::is_hub;
pub use crate::pypi::layout::{NAME_PREFIX, claimed_bin_names, init_claimed_bins};
use crate::pypi::{normalize, unclaim as unclaim_one};

/// The paths a project is delegated inside a claimed bin: only its target `NAME`, the one path
/// whose hash is guaranteed to land in that bin.
pub fn bin_project_paths(normalized: &str) -> Vec<SmallStr> {
    vec![normalized.into()]
}

/// Claimed's bins, as its hub delegates them.
pub struct Hub<'a> {
    roles: &'a [DelegatedRole],
    /// Hash prefix -> index of the first role listing it, and the prefix lengths in use.
    prefixes: HashMap<&'a str, usize>,
    lengths: BTreeSet<usize>,
}

impl<'a> Hub<'a> {
    /// `Some` when `claimed` delegates to bins (by hash prefix) rather than to projects.
    pub fn of(claimed: &'a Targets) -> Option<Self> {
        let d = claimed.delegations.as_ref()?;
        let DelegationRoles::List(roles) = &d.roles else {
            return None;
        };
        if !is_hub(d) {
            return None;
        }
        let mut prefixes = HashMap::new();
        let mut lengths = BTreeSet::new();
        for (i, r) in roles.iter().enumerate() {
            if let RolePaths::HashPrefixes(list) = &r.paths {
                for p in list {
                    prefixes.entry(p.as_str()).or_insert(i);
                    lengths.insert(p.len());
                }
            }
        }
        Some(Hub {
            roles,
            prefixes,
            lengths,
        })
    }

    /// The bins' role names, in the order claimed delegates to them.
    pub(crate) fn bin_names(&self) -> impl Iterator<Item = &'a str> {
        self.roles.iter().map(|r| r.name.as_str())
    }

    /// How many bins claimed delegates to.
    pub fn len(&self) -> usize {
        self.roles.len()
    }

    /// True when claimed delegates to no bins.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }

    /// The bin a client walks into for `project`'s target (its normalised name): the first
    /// bin whose prefixes match SHA-256 of it in lowercase hex, as a client checks them.
    pub fn bin_for(&self, project: &str) -> Result<&'a str, ClaimError> {
        let target = normalize(project);
        let digest = hex::encode(Sha256::digest(target.as_bytes()));
        self.lengths
            .iter()
            .filter_map(|&l| digest.get(..l).and_then(|p| self.prefixes.get(p)))
            .min()
            .map(|&i| self.roles[i].name.as_str())
            .ok_or(ClaimError::BinGap(target))
    }
}

/// Bins that change, as (name, next version), with the combined review.
pub type BinDrafts = (Vec<(String, Targets)>, ClaimReview);

fn changed(review: &ClaimReview) -> bool {
    !(review.added.is_empty() && review.changed.is_empty() && review.removed.is_empty())
}

fn read_bin(
    load: &mut dyn FnMut(&str) -> Result<Targets, BinLoadError>,
    bin: &str,
) -> Result<Targets, ClaimError> {
    load(bin).map_err(|source| ClaimError::LoadBin {
        bin: bin.to_owned(),
        source,
    })
}

fn in_bin(bin: &str, e: ClaimError) -> ClaimError {
    ClaimError::InBin {
        bin: bin.to_owned(),
        reason: Box::new(e),
    }
}

/// Claim `requests` into claimed's bins: each project goes to its bin, and only bins that
/// change get a next version. `load` gives a bin's current metadata by name.
pub fn claim_in_bins(
    hub: &Hub<'_>,
    load: &mut dyn FnMut(&str) -> Result<Targets, BinLoadError>,
    requests: &[ClaimRequest],
    expires: Option<Expires>,
) -> Result<BinDrafts, ClaimError> {
    let mut by_bin: BTreeMap<&str, Vec<ClaimRequest>> = BTreeMap::new();
    for r in requests {
        by_bin
            .entry(hub.bin_for(&r.project)?)
            .or_default()
            .push(r.clone());
    }
    let mut drafts = Vec::new();
    let mut review = ClaimReview::default();
    for (bin, reqs) in by_bin {
        let current = read_bin(load, bin)?;
        let (next, r) =
            claim_with_paths(Some(Cow::Owned(current)), reqs, expires, bin_project_paths)
                .map_err(|e| in_bin(bin, e))?;
        if changed(&r) {
            drafts.push((bin.to_owned(), next));
        }
        review.absorb(r);
    }
    review.bins = Some((drafts.len(), hub.len()));
    Ok((drafts, review))
}

/// Remove one project from claimed's bins: only its bin changes.
pub fn unclaim_in_bins(
    hub: &Hub<'_>,
    load: &mut dyn FnMut(&str) -> Result<Targets, BinLoadError>,
    project: &str,
    expires: Option<Expires>,
) -> Result<BinDrafts, ClaimError> {
    let bin = hub.bin_for(project)?;
    let (next, mut review) = unclaim_one(&read_bin(load, bin)?, project, expires)?;
    review.bins = Some((1, hub.len()));
    Ok((vec![(bin.to_owned(), next)], review))
}

/// Remove a developer key from every project in claimed's bins that trusts it: every bin is
/// read, and only the bins holding such a project change. `given` is the keyid, whole or a
/// unique prefix, resolved among the keys of every bin (a prefix unique in one bin may name
/// another key in the next).
pub fn revoke_in_bins(
    hub: &Hub<'_>,
    load: &mut dyn FnMut(&str) -> Result<Targets, BinLoadError>,
    given: &str,
    expires: Option<Expires>,
) -> Result<BinDrafts, ClaimError> {
    use crate::metadata::lookup::keyid_matches;
    // One pass over the bins: the keys `given` could name, and the bins listing one of them
    // (kept: a developer key is in few bins).
    let mut candidates = BTreeMap::new();
    let mut holding = Vec::new();
    for bin in hub.bin_names() {
        let current = read_bin(load, bin)?;
        let Some(d) = &current.delegations else {
            continue;
        };
        let before = candidates.len();
        for (id, key) in d.keys.iter().filter(|(id, _)| keyid_matches(given, id)) {
            candidates.insert(id.clone(), key.clone());
        }
        let lists = match &d.roles {
            DelegationRoles::List(roles) => roles
                .iter()
                .any(|r| r.keyids.iter().any(|k| keyid_matches(given, k))),
            DelegationRoles::Succinct(_) => false,
        };
        if lists || candidates.len() != before {
            holding.push((bin, current));
        }
    }
    let keyid = super::claim::resolve_developer_key(given, &candidates, true)?;
    let mut drafts = Vec::new();
    let mut review = ClaimReview::default();
    for (bin, current) in holding {
        let trusts = current
            .delegations
            .as_ref()
            .is_some_and(|d| match &d.roles {
                DelegationRoles::List(roles) => roles.iter().any(|r| r.keyids.contains(&keyid)),
                DelegationRoles::Succinct(_) => false,
            });
        if !trusts {
            continue;
        }
        let (next, r) =
            super::revoke_developer_key(&current, &keyid, expires).map_err(|e| in_bin(bin, e))?;
        drafts.push((bin.to_owned(), next));
        review.absorb(r);
    }
    if drafts.is_empty() {
        return Err(ClaimError::KeyNotTrustedInBins(keyid));
    }
    review.bins = Some((drafts.len(), hub.len()));
    Ok((drafts, review))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{Key, Threshold};

    #[test]
    fn bins_route_a_project_by_the_hash_of_its_name() {
        let names = claimed_bin_names(16_384);
        assert_eq!(names[0].0, "claimed-bins-0000");
        assert_eq!(names[16_383].0, "claimed-bins-3fff");
        assert_eq!(names[1].1, vec!["0004", "0005", "0006", "0007"]);
        let k = Key::ed25519(&[7; 32]);
        let exp = Expires::parse("2100-01-01T00:00:00Z").unwrap();
        let (hub, bins) = init_claimed_bins(&[k], Threshold::new(1).unwrap(), exp, 8).unwrap();
        assert_eq!(bins.len(), 8);
        let h = Hub::of(&hub).unwrap();
        // sha256("requests") = ec72…: prefix "e" of 16, two per bin: bin 7 of 8.
        assert_eq!(h.bin_for("Requests").unwrap(), "claimed-bins-7");
        // The same bin a client's own prefix check picks.
        let DelegationRoles::List(roles) = &hub.delegations.as_ref().unwrap().roles else {
            panic!()
        };
        for name in ["requests", "numpy", "django", "a", "zope-interface"] {
            let by_client = roles.iter().find(|r| r.covers(name)).unwrap();
            assert_eq!(h.bin_for(name).unwrap(), by_client.name.as_str());
        }
        assert!(init_claimed_bins(&[], Threshold::new(1).unwrap(), exp, 3).is_err());
    }
}
