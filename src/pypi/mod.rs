//! PyPI's delegation layouts: PEP 458 hash bins and PEP 480's claimed / recently-claimed /
//! unclaimed roles, and the batch operations PyPI admins run on claimed.
//!
//! Layout (see docs/pypi.md for why):
//!
//! ```text
//! targets ──> claimed           (offline: the admins' threshold)   ──> project roles (terminating)
//!         ──> recently-claimed  (online key)                        ──> project roles
//!         ──> unclaimed         (online key)  ──> hash bins (TAP 15 succinct, or classic prefixes)
//! ```
//!
//! claimed comes first, so a client always asks it before the online roles. Each claimed
//! project's delegation is terminating: once a project is found in claimed, the search for its
//! files ends there, and a compromise of the online keys cannot serve that project's files.
//! claimed itself is not terminating — if it were, no target could ever be found in
//! recently-claimed or unclaimed, since claimed's paths cover every project.
//!
//! With `--claimed-bins N`, claimed delegates to N hash bins instead, each delegating its
//! share of the projects (see `bins`).

use crate::metadata::SmallStr;

mod bins;
mod claim;
mod layout;

pub use bins::{
    BinDrafts, Hub, NAME_PREFIX as CLAIMED_BINS_PREFIX, bin_project_paths, claim_in_bins,
    claimed_bin_names, init_claimed_bins, revoke_in_bins, unclaim_in_bins,
};
pub use claim::{
    BinLoadError, ClaimError, ClaimRequest, ClaimReview, LineError, RequestProblem, RequestStream,
    RequestsError, claim, parse_requests, revoke_developer_key, unclaim,
};
pub(crate) use layout::garbage_collect_keys;
pub use layout::{BinsLayout, BinsOf, InitKeys, InitLayout, LayoutError, init, rotate_delegation};

use crate::metadata::{Expires, Targets};

/// A change to the projects in claimed.
pub enum ClaimChange<'a, R> {
    /// Claim the requested projects; without a current claimed, into its version 1.
    Claim {
        /// The current claimed, or `None` to draft version 1 (owned: it is changed in place,
        /// not copied).
        current: Option<std::borrow::Cow<'a, Targets>>,
        /// The projects to claim with their developer keys (see [`parse_requests`]).
        requests: R,
    },
    /// Remove one project (any spelling that normalises to it).
    Unclaim {
        /// The current claimed.
        current: &'a Targets,
        /// The project to remove, as requested.
        project: &'a str,
    },
    /// Remove a compromised developer key from every project that trusts it.
    RevokeDeveloperKey {
        /// The current claimed.
        current: &'a Targets,
        /// The compromised key's keyid as given: whole, or a unique prefix of at least 8 hex
        /// digits ([`crate::metadata::resolve_keyid`]), among the keys claimed lists (in
        /// bins: every bin's).
        keyid: &'a str,
    },
}

/// What a change to claimed drafts, unsigned.
pub enum ClaimDraft {
    /// The next version of claimed itself.
    Claimed(Targets, ClaimReview),
    /// Claimed delegates to hash bins: the next version of each bin that changes (claimed
    /// itself does not).
    Bins(BinDrafts),
}

/// Apply `change` to claimed itself or, when claimed delegates to hash bins, to the bins,
/// which `load` reads by name (it is called only then).
pub fn change_claimed<R: IntoIterator<Item = ClaimRequest>>(
    change: ClaimChange<'_, R>,
    expires: Option<Expires>,
    load: &mut dyn FnMut(&str) -> Result<Targets, BinLoadError>,
) -> Result<ClaimDraft, ClaimError> {
    let claimed = |(t, review)| ClaimDraft::Claimed(t, review);
    match change {
        ClaimChange::Claim { current, requests } => {
            if let Some(hub) = current.as_deref().and_then(Hub::of) {
                let requests: Vec<ClaimRequest> = requests.into_iter().collect();
                return claim_in_bins(&hub, load, &requests, expires).map(ClaimDraft::Bins);
            }
            claim::claim_with_paths(current, requests, expires, project_paths).map(claimed)
        }
        ClaimChange::Unclaim { current, project } => match Hub::of(current) {
            Some(hub) => unclaim_in_bins(&hub, load, project, expires).map(ClaimDraft::Bins),
            None => unclaim(current, project, expires).map(claimed),
        },
        ClaimChange::RevokeDeveloperKey { current, keyid } => match Hub::of(current) {
            Some(hub) => revoke_in_bins(&hub, load, keyid, expires).map(ClaimDraft::Bins),
            None => {
                let listed = current
                    .delegations
                    .as_ref()
                    .map(|d| d.keys.clone())
                    .unwrap_or_default();
                let id = claim::resolve_developer_key(keyid, &listed, false)?;
                revoke_developer_key(current, &id, expires).map(claimed)
            }
        },
    }
}

/// A project name normalised per PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// Whether `name` is a valid PyPI project name (PEP 508 / core metadata: ASCII letters,
/// digits, `-`, `_`, `.`, starting and ending with a letter or digit).
pub(crate) fn is_valid_project_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// The target path patterns a project is delegated: its simple-index target (Warehouse
/// publishes one target per project, named by the normalised project name) and any file
/// under a directory of that name.
pub(crate) fn project_paths(normalized: &str) -> Vec<SmallStr> {
    vec![normalized.into(), format!("{normalized}/*").into()]
}

/// Patterns that cover every project's paths: used for claimed, recently-claimed and
/// unclaimed, because a client checks a target against the paths of every role on the way.
pub(crate) fn all_project_paths() -> Vec<SmallStr> {
    vec!["*".into(), "*/*".into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY-BARD"), "friendly-bard");
        assert_eq!(normalize("friendly.bard"), "friendly-bard");
        assert_eq!(normalize("friendly_bard"), "friendly-bard");
        assert_eq!(normalize("friendly--bard"), "friendly-bard");
        assert_eq!(normalize("FrIeNdLy-._.-bArD"), "friendly-bard");
        assert!(is_valid_project_name("zope.interface"));
        assert!(!is_valid_project_name("-leading"));
        assert!(!is_valid_project_name("a/b"));
        assert!(!is_valid_project_name(""));
        assert!(!is_valid_project_name("naïve"));
    }
}
