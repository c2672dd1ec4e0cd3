//! A signing round: every draft of a directory (a claim round's claimed bins, thousands at
//! PyPI's scale) reviewed under one round digest, signed with one signer, merged all or nothing.
//!
//! Each signature is the same detached file one `sign` makes, named `FILE.sig` after its
//! draft, so any one of them can still be checked or merged alone. Drafts are read one at a
//! time (a round at PyPI's scale is hundreds of megabytes); readers are the caller's, so the
//! command line can show progress and apply its limits, and library errors become the
//! caller's through `From<RoundError>`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::repository::{self, Entry, ListError};
use super::request::NamedSignature;
use super::{Authority, DetachedSignature, Rejection};
use crate::display::escape;
use crate::metadata::{AnyMetadata, Expires, KeyId};
use crate::signer::{SignError, Signer};
use crate::verify::{RevokedKeys, SignatureReport};

/// The suffix of a round's signature files: `7.claimed-bins-0a3.json.sig`.
pub(crate) const SIG_SUFFIX: &str = ".sig";

/// Why a round step cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// A draft lists keys that are not what their keyids say (a keyid over another key, one
    /// key under two keyids, private material): no round signs or merges it.
    #[error("{}: {problems}", shown(path))]
    ForeignKeys {
        /// The draft.
        path: std::path::PathBuf,
        /// What is wrong.
        problems: crate::metadata::keyset::KeyProblems,
    },
    /// A directory could not be listed.
    #[error(transparent)]
    List(#[from] ListError),
    /// The round directory holds no drafts.
    #[error("{}: the directory holds no metadata (.json) files", shown(path))]
    Empty {
        /// The round directory.
        path: PathBuf,
    },
    /// Who may sign a draft cannot be worked out from its delegator.
    #[error("{}: who may sign it cannot be worked out", shown(path))]
    Authorities {
        /// The draft.
        path: PathBuf,
        /// Why not.
        #[source]
        source: super::CeremonyError,
    },
    /// The key may not sign `refused` of the `total` drafts; `first` names one.
    #[error(
        "key {keyid} may not sign {refused} of the {total} drafts (first: {})",
        escape(first)
    )]
    KeyNotAllowed {
        /// The signer's keyid.
        keyid: KeyId,
        /// How many drafts it may not sign.
        refused: usize,
        /// How many drafts the round holds.
        total: usize,
        /// One draft it may not sign.
        first: String,
    },
    /// A draft's signed bytes changed between the review and the signing.
    #[error("{}: changed since it was shown for review", shown(path))]
    Changed {
        /// The draft.
        path: PathBuf,
    },
    /// The signer failed on a draft.
    #[error("cannot sign {}", shown(path))]
    Sign {
        /// The draft.
        path: PathBuf,
        /// The signer's error.
        #[source]
        source: SignError,
    },
    /// A root draft in a round. A round's drafts are checked against the one delegator it is
    /// given, and nothing delegates to a root: its previous root does (spec 5.3.4). A root
    /// slipped into a round of claimed bins would be checked against its own keys only and
    /// merged over `N.root.json`, so a root is signed and merged one file at a time, with
    /// its previous root.
    #[error(
        "{}: a root (version {version}) cannot be part of a round: a root is signed and merged \
         on its own, against its previous root",
        shown(path)
    )]
    RootInRound {
        /// The draft.
        path: PathBuf,
        /// The root's version.
        version: u64,
    },
    /// A draft whose file name says another role or version than it holds: merged, it
    /// would replace that file.
    #[error("{}: the file name does not fit the draft", shown(path))]
    StoredAs {
        /// The draft.
        path: PathBuf,
        /// What the name says and what the draft is.
        #[source]
        source: Box<super::CeremonyError>,
    },
    /// A signature directory given is not a directory.
    #[error("{}: not a directory", shown(path))]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A signature for a file that is not in the round: the wrong directory, or a stale one.
    #[error(
        "{}: a signature for {}, which is not in this round",
        shown(path),
        escape(draft)
    )]
    NotInRound {
        /// The signature file.
        path: PathBuf,
        /// The draft it names.
        draft: String,
    },
}

fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// One draft of a round, as reviewed.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The file name inside the round directory.
    pub name: String,
    /// The draft's path.
    pub path: PathBuf,
    /// Its role (from its file name).
    pub role: String,
    /// Its version.
    pub version: u64,
    /// Its expiry.
    pub expires: Expires,
    /// Hex SHA-256 of the signed bytes.
    pub digest: String,
    /// Who may sign it.
    pub authorities: Vec<Authority>,
    /// The draft of this round that delegates to it, when the round's delegator does not
    /// ([`Delegators`]).
    pub delegated_by: Option<String>,
}

/// Who delegates to each draft of a round: the round's delegator (the signed metadata the
/// officers name), or a draft of the round itself. `pypi init --claimed-bins` drafts claimed
/// and its bins together: targets delegates claimed, and claimed (a draft in the same
/// directory) delegates the bins. Such a round is signed and merged as one, each draft against
/// its own delegator; a draft delegated by another draft counts only because that draft is
/// merged with it, all or nothing, against the round's delegator.
///
/// Also the keys revoked in the round ([`Delegators::set_revoked`]): no signature of theirs
/// counts toward any draft's threshold.
#[derive(Clone, Debug)]
pub struct Delegators {
    parent: AnyMetadata,
    /// Drafts of the round that delegate to other drafts of it: (file name, metadata).
    inner: Vec<(String, AnyMetadata)>,
    /// For each draft the round's delegator does not delegate: its index in `inner`.
    by_draft: BTreeMap<String, usize>,
    revoked: RevokedKeys,
}

/// Whether `md` delegates to `role`: a root to a top-level role, targets metadata to a role it
/// lists (or a succinct bin of its).
fn delegates_to(md: &AnyMetadata, role: &str) -> bool {
    match md {
        AnyMetadata::Root(_) => crate::metadata::TOP_LEVEL_ROLES.contains(&role),
        AnyMetadata::Targets(t) => t
            .signed
            .delegations
            .as_ref()
            .is_some_and(|d| d.find(role).is_some()),
        _ => false,
    }
}

impl Delegators {
    /// Every draft delegated by `parent`.
    pub fn new(parent: AnyMetadata) -> Self {
        Delegators {
            parent,
            inner: Vec::new(),
            by_draft: BTreeMap::new(),
            revoked: RevokedKeys::new(),
        }
    }

    /// The delegators of the drafts `files` under the round's `parent`: a draft `parent` does
    /// not delegate to is looked for among the round's drafts that delegate to it (read with
    /// `read`, only when some draft needs it). A draft delegated by neither is left to
    /// [`load_draft`], which says `parent` does not delegate it.
    pub fn find<E: From<RoundError>>(
        files: &[Entry],
        parent: AnyMetadata,
        read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    ) -> Result<Self, E> {
        let mut d = Self::new(parent);
        let role = |f: &Entry| super::targets_role_name(Some(&f.name));
        let mut pending: Vec<&Entry> = files
            .iter()
            .filter(|f| !delegates_to(&d.parent, &role(f)))
            .collect();
        // Drafts whose own delegator is known, to look in for the pending ones' delegator.
        let mut known: Vec<&Entry> = files
            .iter()
            .filter(|f| delegates_to(&d.parent, &role(f)))
            .collect();
        while !pending.is_empty() {
            let mut found = Vec::new();
            for f in std::mem::take(&mut known) {
                let md = read(&f.path)?;
                let children: Vec<&Entry> = pending
                    .iter()
                    .copied()
                    .filter(|p| delegates_to(&md, &role(p)))
                    .collect();
                if children.is_empty() || matches!(md, AnyMetadata::Root(_)) {
                    continue;
                }
                d.inner.push((f.name.clone(), md));
                for c in children {
                    d.by_draft.insert(c.name.clone(), d.inner.len() - 1);
                    found.push(c);
                }
            }
            if found.is_empty() {
                break;
            }
            pending.retain(|p| !found.iter().any(|f| f.name == p.name));
            known = found;
        }
        Ok(d)
    }

    /// Count no signature of `revoked` keys toward any draft's threshold.
    pub fn set_revoked(&mut self, revoked: RevokedKeys) {
        self.revoked = revoked;
    }

    /// The revoked keys.
    pub fn revoked(&self) -> &RevokedKeys {
        &self.revoked
    }

    /// Every key the round's delegators list (where a revoked keyid's prefix is looked up).
    pub fn keys(&self) -> BTreeMap<KeyId, crate::metadata::Key> {
        let mut keys = BTreeMap::new();
        for md in std::iter::once(&self.parent).chain(self.inner.iter().map(|(_, m)| m)) {
            match md {
                AnyMetadata::Root(r) => keys.extend(r.signed.keys.clone()),
                AnyMetadata::Targets(t) => {
                    if let Some(d) = &t.signed.delegations {
                        keys.extend(d.keys.clone());
                    }
                }
                _ => {}
            }
        }
        keys
    }

    /// The metadata that delegates to the draft `name`, and the name of the round's draft
    /// when it is one.
    fn of(&self, name: &str) -> (&AnyMetadata, Option<&str>) {
        match self.by_draft.get(name).and_then(|&i| self.inner.get(i)) {
            Some((n, md)) => (md, Some(n.as_str())),
            None => (&self.parent, None),
        }
    }

    /// Whether `keyid` is revoked, its key looked up in `auths`.
    fn is_revoked(&self, keyid: &KeyId, auths: &[Authority]) -> bool {
        !self.revoked.is_empty()
            && (self.revoked.contains(keyid, &BTreeMap::new())
                || auths.iter().any(|a| self.revoked.contains(keyid, &a.keys)))
    }
}

/// The drafts of a round directory (`*.json`), sorted by name; none is an error.
pub fn files(dir: &Path) -> Result<Vec<Entry>, RoundError> {
    let files = repository::list(dir, repository::METADATA_SUFFIX)?;
    if files.is_empty() {
        return Err(RoundError::Empty {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// Read one draft: its metadata, role (from its name) and who may sign it (its delegator in
/// `delegators`, revoked keys left out).
pub fn load_draft<E: From<RoundError>>(
    file: &Entry,
    delegators: &Delegators,
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
) -> Result<(Draft, AnyMetadata), E> {
    let md = read(&file.path)?;
    if let AnyMetadata::Root(r) = &md {
        return Err(RoundError::RootInRound {
            path: file.path.clone(),
            version: r.signed.common.version.get(),
        }
        .into());
    }
    let role = super::role_name(&md, Some(&file.name));
    // Each draft against its own delegator: the round's, which must delegate its role (a
    // targets draft against a root, a delegated role against the targets metadata that
    // delegates it; [`super::authorities`] refuses anything else), and its name must say
    // what it is, since merge writes it under that name.
    super::check_stored_as(&md, &role, &file.name).map_err(|source| RoundError::StoredAs {
        path: file.path.clone(),
        source: Box::new(source),
    })?;
    let (parent, delegated_by) = delegators.of(&file.name);
    let mut authorities = super::authorities(&md, &role, None, Some(parent)).map_err(|source| {
        RoundError::Authorities {
            path: file.path.clone(),
            source,
        }
    })?;
    for a in &mut authorities {
        if let Some(by) = delegated_by {
            a.label = format!("{} (the round's draft {})", a.label, escape(by));
        }
        let keys = &a.keys;
        a.keyids.retain(|k| !delegators.revoked.contains(k, keys));
    }
    let problems = crate::metadata::keyset::audit_metadata(&md);
    if !problems.is_empty() {
        return Err(RoundError::ForeignKeys {
            path: file.path.clone(),
            problems: crate::metadata::keyset::KeyProblems(problems),
        }
        .into());
    }
    let c = md.common();
    let draft = Draft {
        name: file.name.clone(),
        path: file.path.clone(),
        role,
        version: c.version.get(),
        expires: c.expires,
        digest: crate::metadata::SignedText::of_metadata(&md).sha256_hex(),
        authorities,
        delegated_by: delegated_by.map(str::to_owned),
    };
    Ok((draft, md))
}

/// Read every draft for review, keeping what the review and the checks need (not the
/// metadata). `tick` is called after each draft.
pub fn review<E: From<RoundError>>(
    files: &[Entry],
    delegators: &Delegators,
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    tick: &mut dyn FnMut(),
) -> Result<Vec<Draft>, E> {
    let mut drafts = Vec::with_capacity(files.len());
    for f in files {
        drafts.push(load_draft(f, delegators, read)?.0);
        tick();
    }
    Ok(drafts)
}

/// The digest the officers compare aloud for the whole round
/// ([`super::detached::round_digest`]).
pub fn round_digest(drafts: &[Draft]) -> String {
    super::detached::round_digest(drafts.iter().map(|d| (d.name.as_str(), d.digest.as_str())))
}

/// Whether `keyid` may sign every draft (checked before a key is unlocked).
pub fn may_sign(drafts: &[Draft], keyid: &KeyId) -> Result<(), RoundError> {
    let refused: Vec<&Draft> = drafts
        .iter()
        .filter(|d| !d.authorities.iter().any(|a| a.keyids.contains(keyid)))
        .collect();
    match refused.first() {
        None => Ok(()),
        Some(first) => Err(RoundError::KeyNotAllowed {
            keyid: keyid.clone(),
            refused: refused.len(),
            total: drafts.len(),
            first: first.name.clone(),
        }),
    }
}

/// A round's signatures, one per draft, to be written into a new directory together.
#[derive(Debug)]
pub struct SignedRound {
    /// `FILE.sig` and its bytes, for each draft.
    pub files: Vec<(String, Vec<u8>)>,
    /// The key that signed (none for an empty round).
    pub keyid: Option<KeyId>,
}

/// Sign every reviewed draft with `signer`. Each draft is read again, and one whose bytes
/// changed since the review is refused: the officers compared the digest of what was shown,
/// not of what is there now. `tick` is called after each draft.
pub fn sign<E: From<RoundError>>(
    drafts: &[Draft],
    delegators: &Delegators,
    signer: &dyn Signer,
    spool_dir: Option<&Path>,
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    tick: &mut dyn FnMut(),
) -> Result<SignedRound, E> {
    let mut files = Vec::with_capacity(drafts.len());
    let mut keyid = None;
    for d in drafts {
        let entry = Entry {
            name: d.name.clone(),
            path: d.path.clone(),
            regular: true,
        };
        let (again, md) = load_draft(&entry, delegators, read)?;
        if again.digest != d.digest {
            return Err(RoundError::Changed {
                path: d.path.clone(),
            }
            .into());
        }
        let detached = super::sign_detached(&md, &d.role, signer, spool_dir).map_err(|source| {
            RoundError::Sign {
                path: d.path.clone(),
                source,
            }
        })?;
        keyid = Some(detached.signature.keyid.clone());
        files.push((format!("{}{SIG_SUFFIX}", d.name), detached.to_bytes()));
        tick();
    }
    Ok(SignedRound { files, keyid })
}

/// The signature files of each officer's directory, by the draft they are for. A signature
/// for a file that is not in the round is refused.
pub fn signature_dirs(
    dirs: &[PathBuf],
    drafts: &[Entry],
) -> Result<Vec<BTreeMap<String, PathBuf>>, RoundError> {
    let mut out = Vec::with_capacity(dirs.len());
    for dir in dirs {
        if !dir.is_dir() {
            return Err(RoundError::NotADirectory { path: dir.clone() });
        }
        let mut sigs = BTreeMap::new();
        for entry in repository::list(dir, SIG_SUFFIX)? {
            let draft = entry.name[..entry.name.len() - SIG_SUFFIX.len()].to_owned();
            if !drafts.iter().any(|d| d.name == draft) {
                return Err(RoundError::NotInRound {
                    path: entry.path,
                    draft,
                });
            }
            sigs.insert(draft, entry.path);
        }
        out.push(sigs);
    }
    Ok(out)
}

/// What merging a round gave: every draft with its signatures, or the refusals.
#[derive(Debug, Default)]
pub struct MergedRound {
    /// Each draft's name and its bytes with the signatures merged in.
    pub files: Vec<(String, Vec<u8>)>,
    /// Signature files refused (unreadable, or refused by [`super::merge`]), with the reason.
    /// When any is, nothing may be written.
    pub refused: Vec<Rejection>,
    /// The drafts still below a threshold, with their reports.
    pub incomplete: Vec<(String, Vec<SignatureReport>)>,
    /// Every key whose signature was added.
    pub added: BTreeSet<String>,
    /// Every signature file read.
    pub signature_files: Vec<PathBuf>,
    /// Each draft's name, role and expiry, for the warnings merge gives.
    pub expiries: Vec<(String, String, Expires)>,
    /// Signatures of revoked keys, not merged: (keyid, signature file).
    pub not_counted: Vec<(KeyId, String)>,
}

/// `sigs` without the signatures of keys revoked in the round, and those left out (keyid,
/// file).
fn split_revoked(
    sigs: Vec<NamedSignature>,
    delegators: &Delegators,
    draft: &Draft,
) -> (Vec<NamedSignature>, Vec<(KeyId, String)>) {
    let (out, kept): (Vec<_>, Vec<_>) = sigs
        .into_iter()
        .partition(|(_, d)| delegators.is_revoked(&d.signature.keyid, &draft.authorities));
    (
        kept,
        out.into_iter()
            .map(|(f, d)| (d.signature.keyid, f))
            .collect(),
    )
}

/// Merge every draft with its signature from each of `sig_dirs` ([`signature_dirs`]).
/// `read_sig` reads a signature file's bytes; `tick` is called after each draft.
pub fn merge<E: From<RoundError>>(
    files: &[Entry],
    delegators: &Delegators,
    sig_dirs: &[BTreeMap<String, PathBuf>],
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    read_sig: &mut dyn FnMut(&Path) -> Result<Vec<u8>, E>,
    tick: &mut dyn FnMut(),
) -> Result<MergedRound, E> {
    let mut out = MergedRound::default();
    for f in files {
        let (draft, md) = load_draft(f, delegators, read)?;
        out.expiries
            .push((draft.name.clone(), draft.role.clone(), draft.expires));
        let sigs = draft_signatures(
            &f.name,
            sig_dirs,
            read_sig,
            &mut out.refused,
            &mut out.signature_files,
        )?;
        let (sigs, revoked) = split_revoked(sigs, delegators, &draft);
        out.not_counted.extend(revoked);
        match super::merge(&md, &draft.role, &sigs, &draft.authorities) {
            Err(rejections) => out.refused.extend(rejections),
            Ok(merged) => {
                out.added
                    .extend(merged.added.iter().map(|(k, _)| k.to_raw_string()));
                if !merged.complete() {
                    out.incomplete
                        .push((f.name.clone(), merged.reports.clone()));
                }
                let mut md = md;
                merged.apply(&mut md);
                out.files.push((f.name.clone(), md.to_file_bytes()));
            }
        }
        tick();
    }
    Ok(out)
}

/// The signatures for draft `name` in each of `sig_dirs`; a file that is not a signature
/// file goes to `refused`. Every file read is added to `read_files`.
fn draft_signatures<E>(
    name: &str,
    sig_dirs: &[BTreeMap<String, PathBuf>],
    read_sig: &mut dyn FnMut(&Path) -> Result<Vec<u8>, E>,
    refused: &mut Vec<Rejection>,
    read_files: &mut Vec<PathBuf>,
) -> Result<Vec<(String, DetachedSignature)>, E> {
    let mut sigs = Vec::new();
    for dir in sig_dirs {
        if let Some(p) = dir.get(name) {
            match DetachedSignature::parse(&read_sig(p)?) {
                Ok(d) => sigs.push((shown(p), d)),
                Err(e) => refused.push(Rejection {
                    file: shown(p),
                    reason: e.to_string(),
                }),
            }
            read_files.push(p.clone());
        }
    }
    Ok(sigs)
}

/// One draft of a round counted with the officers' signature directories
/// ([`count`]): its reports as if merged, and the signature files that would be refused.
#[derive(Debug)]
pub struct Counted {
    /// The draft.
    pub draft: Draft,
    /// One report per authority, with the signatures that would be merged.
    pub reports: Vec<SignatureReport>,
    /// The draft's signature files that would be refused, with why.
    pub refused: Vec<Rejection>,
    /// Signature files of revoked keys, not counted: (keyid, file).
    pub not_counted: Vec<(KeyId, String)>,
}

/// Who would have signed each draft if `sig_dirs` ([`signature_dirs`]) were merged, without
/// merging anything ([`super::count`]): the reports of `status DIR SIGDIR...`.
pub fn count<E: From<RoundError>>(
    files: &[Entry],
    delegators: &Delegators,
    sig_dirs: &[BTreeMap<String, PathBuf>],
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    read_sig: &mut dyn FnMut(&Path) -> Result<Vec<u8>, E>,
) -> Result<Vec<Counted>, E> {
    let mut all = Vec::with_capacity(files.len());
    for f in files {
        let (draft, md) = load_draft(f, delegators, read)?;
        let mut refused = Vec::new();
        let sigs = draft_signatures(&f.name, sig_dirs, read_sig, &mut refused, &mut Vec::new())?;
        let (sigs, not_counted) = split_revoked(sigs, delegators, &draft);
        let (merged, more) = super::count(&md, &draft.role, &sigs, &draft.authorities);
        refused.extend(more);
        all.push(Counted {
            draft,
            reports: merged.reports,
            refused,
            not_counted,
        });
    }
    Ok(all)
}

/// Who has signed each draft and who still must.
pub fn status<E: From<RoundError>>(
    files: &[Entry],
    delegators: &Delegators,
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
) -> Result<Vec<(Draft, Vec<SignatureReport>)>, E> {
    let mut all = Vec::with_capacity(files.len());
    for f in files {
        let (draft, md) = load_draft(f, delegators, read)?;
        let reports = super::status(&md, &draft.role, &draft.authorities);
        all.push((draft, reports));
    }
    Ok(all)
}

// --- The change review of a round (issue 19) ---------------------------------------------

/// The version in use of a round's draft, in `old` (the directory of the versions in use, as
/// the repository holds them): `(V-1).ROLE.json`, else `ROLE.json`. None: the role is new.
pub fn previous_in(old: &Path, draft: &Draft) -> Option<PathBuf> {
    let versioned = draft
        .version
        .checked_sub(1)
        .filter(|v| *v > 0)
        .map(|v| old.join(format!("{v}.{}.json", draft.role)));
    versioned
        .into_iter()
        .chain(std::iter::once(old.join(format!("{}.json", draft.role))))
        .find(|p| p.is_file())
}

/// What a whole round changes, as text that is the same on every machine: for each draft
/// (in the round's order) a line naming it and the version it follows, then its review
/// against that version ([`super::request::SigningRequest::review_lines`]: whether that
/// version is signed as its delegator in `delegators` says it must be, and every change). A draft whose role has
/// no version in `old` is reviewed alone. Each draft is read again, one at a time.
pub fn change_review<E: From<RoundError> + From<super::request::RequestError>>(
    drafts: &[Draft],
    old: &Path,
    delegators: &Delegators,
    read: &mut dyn FnMut(&Path) -> Result<AnyMetadata, E>,
    tick: &mut dyn FnMut(),
) -> Result<Vec<String>, E> {
    let mut lines = Vec::new();
    for d in drafts {
        let md = read(&d.path)?;
        let previous = previous_in(old, d);
        lines.push(match &previous {
            Some(p) => format!(
                "Draft {} (previous version: {}):",
                escape(&d.name),
                escape(&p.file_name().unwrap_or_default().to_string_lossy())
            ),
            None => format!(
                "Draft {} (role {} has no version in use: it is new):",
                escape(&d.name),
                escape(&d.role)
            ),
        });
        let previous = previous.as_deref().map(&mut *read).transpose()?;
        let (parent, _) = delegators.of(&d.name);
        let request =
            super::request::SigningRequest::new(md, Some(&d.name), None, previous, Some(parent))?;
        lines.extend(request.review_lines());
        tick();
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::request::tests::{delegator, empty_targets, officer};
    use crate::metadata::Metadata;
    use crate::signer::Signer;

    /// Read with the library's reader, errors as [`RoundError`]s.
    fn read(p: &Path) -> Result<AnyMetadata, RoundError> {
        Ok(crate::fsutil::read_metadata(p, &[])
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .meta)
    }

    fn round_dir() -> (tempfile::TempDir, Delegators) {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1.bin-a.json", "1.bin-b.json"] {
            let md = AnyMetadata::Targets(Metadata::new(empty_targets()));
            crate::fsutil::write_metadata(&md, &dir.path().join(name)).unwrap();
        }
        (dir, Delegators::new(delegator(&["bin-a", "bin-b"])))
    }

    /// A round step's error, whichever module it came from (for [`change_review`]).
    #[derive(Debug)]
    struct AnyError(#[allow(dead_code)] String);

    impl From<RoundError> for AnyError {
        fn from(e: RoundError) -> Self {
            AnyError(e.to_string())
        }
    }

    impl From<crate::ceremony::request::RequestError> for AnyError {
        fn from(e: crate::ceremony::request::RequestError) -> Self {
            AnyError(e.to_string())
        }
    }

    #[test]
    fn each_draft_of_a_round_is_reviewed_against_its_version_in_use() {
        let (old, parent) = round_dir();
        // bin-b's version in use is stored without a version in its name.
        std::fs::rename(
            old.path().join("1.bin-b.json"),
            old.path().join("bin-b.json"),
        )
        .unwrap();
        let new = tempfile::tempdir().unwrap();
        for name in ["bin-a", "bin-b"] {
            let mut t = empty_targets();
            t.common.version = crate::metadata::Version::new(2).unwrap();
            let md = AnyMetadata::Targets(Metadata::new(t));
            crate::fsutil::write_metadata(&md, &new.path().join(format!("2.{name}.json"))).unwrap();
        }
        let files = files(new.path()).unwrap();
        let drafts = review(&files, &parent, &mut read, &mut || {}).unwrap();
        assert_eq!(
            previous_in(old.path(), &drafts[0]),
            Some(old.path().join("1.bin-a.json"))
        );
        let mut read_any = |p: &Path| read(p).map_err(AnyError::from);
        let lines = change_review(&drafts, old.path(), &parent, &mut read_any, &mut || {}).unwrap();
        assert!(lines.contains(&"Draft 2.bin-a.json (previous version: 1.bin-a.json):".into()));
        assert!(lines.contains(&"Draft 2.bin-b.json (previous version: bin-b.json):".into()));
        assert_eq!(
            lines.iter().filter(|l| *l == "  version 1 -> 2").count(),
            2,
            "{lines:?}"
        );
        // The versions in use are unsigned here: the review says so, for each.
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("!!! UNVERIFIED PREVIOUS: version 1"))
                .count(),
            2,
            "{lines:?}"
        );
        // A role with no version in use is reviewed alone.
        let empty = tempfile::tempdir().unwrap();
        let lines =
            change_review(&drafts, empty.path(), &parent, &mut read_any, &mut || {}).unwrap();
        assert_eq!(
            lines[0],
            "Draft 2.bin-a.json (role bin-a has no version in use: it is new):"
        );
        assert!(!lines.iter().any(|l| l.starts_with("Changes")), "{lines:?}");
    }

    #[test]
    fn a_round_of_two_drafts_is_signed_and_merged() {
        let (dir, parent) = round_dir();
        let files = files(dir.path()).unwrap();
        let drafts = review(&files, &parent, &mut read, &mut || {}).unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].role, "bin-a");
        assert_eq!(round_digest(&drafts).len(), 64);

        let stranger = officer(4);
        let e = may_sign(&drafts, &stranger.public_key().keyid()).unwrap_err();
        assert!(matches!(
            e,
            RoundError::KeyNotAllowed {
                refused: 2,
                total: 2,
                ..
            }
        ));

        let signer = officer(3);
        may_sign(&drafts, &signer.public_key().keyid()).unwrap();
        let mut ticks = 0;
        let signed = sign(&drafts, &parent, &signer, None, &mut read, &mut || {
            ticks += 1
        })
        .unwrap();
        assert_eq!(ticks, 2);
        assert_eq!(signed.keyid, Some(signer.public_key().keyid()));
        let names: Vec<&str> = signed.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["1.bin-a.json.sig", "1.bin-b.json.sig"]);

        // Before merging, nobody has signed.
        let before = status(&files, &parent, &mut read).unwrap();
        assert!(before.iter().all(|(_, r)| !r[0].is_met()));

        let sigdir = tempfile::tempdir().unwrap();
        for (name, bytes) in &signed.files {
            std::fs::write(sigdir.path().join(name), bytes).unwrap();
        }
        let dirs = signature_dirs(&[sigdir.path().to_path_buf()], &files).unwrap();
        let mut read_sig = |p: &Path| Ok::<_, RoundError>(std::fs::read(p).unwrap());
        // Counted before merging: complete, and nothing in the drafts has changed.
        let counted = count(&files, &parent, &dirs, &mut read, &mut read_sig).unwrap();
        assert!(
            counted
                .iter()
                .all(|c| c.refused.is_empty() && c.reports[0].is_met())
        );
        assert!(
            status(&files, &parent, &mut read)
                .unwrap()
                .iter()
                .all(|(_, r)| !r[0].is_met())
        );
        let merged = merge(&files, &parent, &dirs, &mut read, &mut read_sig, &mut || {}).unwrap();
        assert!(merged.refused.is_empty(), "{:?}", merged.refused);
        assert!(merged.incomplete.is_empty());
        assert_eq!(merged.files.len(), 2);
        assert_eq!(merged.signature_files.len(), 2);

        // Written back, the round is complete.
        for (name, bytes) in &merged.files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let after = status(&files, &parent, &mut read).unwrap();
        assert!(after.iter().all(|(_, r)| r[0].is_met()));
    }

    #[test]
    fn a_changed_draft_or_a_stranger_signature_is_refused() {
        let (dir, parent) = round_dir();
        let files = files(dir.path()).unwrap();
        let drafts = review(&files, &parent, &mut read, &mut || {}).unwrap();
        let mut changed = empty_targets();
        changed.common.expires = Expires::parse("2101-01-01T00:00:00Z").unwrap();
        crate::fsutil::write_metadata(
            &AnyMetadata::Targets(Metadata::new(changed)),
            &dir.path().join("1.bin-b.json"),
        )
        .unwrap();
        let e = sign(&drafts, &parent, &officer(3), None, &mut read, &mut || {}).unwrap_err();
        assert!(matches!(e, RoundError::Changed { path } if path.ends_with("1.bin-b.json")));

        let sigdir = tempfile::tempdir().unwrap();
        std::fs::write(sigdir.path().join("9.other.json.sig"), b"{}").unwrap();
        let e = signature_dirs(&[sigdir.path().to_path_buf()], &files).unwrap_err();
        assert!(matches!(e, RoundError::NotInRound { draft, .. } if draft == "9.other.json"));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(files_err(empty.path()), RoundError::Empty { .. }));
    }

    /// The class of attack: a root slipped into a round of delegated drafts, checked then
    /// against its own keys only, and merged over `N.root.json`.
    #[test]
    fn a_root_in_a_round_is_refused_whatever_it_is_called() {
        use crate::ceremony::request::tests::root;
        for name in ["2.root.json", "1.bin-c.json", "root.json"] {
            let (dir, parent) = round_dir();
            let mut r = root();
            if let AnyMetadata::Root(m) = &mut r {
                m.signed.common.version = crate::metadata::Version::new(2).unwrap();
            }
            crate::fsutil::write_metadata(&r, &dir.path().join(name)).unwrap();
            let files = files(dir.path()).unwrap();
            let e = review(&files, &parent, &mut read, &mut || {}).unwrap_err();
            assert!(
                matches!(&e, RoundError::RootInRound { path, version: 2 } if path.ends_with(name)),
                "{name}: {e:?}"
            );
            let e = status(&files, &parent, &mut read).unwrap_err();
            assert!(matches!(e, RoundError::RootInRound { .. }));
            let mut read_sig = |p: &Path| Ok::<_, RoundError>(std::fs::read(p).unwrap());
            let e = merge(&files, &parent, &[], &mut read, &mut read_sig, &mut || {}).unwrap_err();
            assert!(matches!(e, RoundError::RootInRound { .. }));
        }
    }

    #[test]
    fn a_draft_named_for_another_role_or_version_is_refused() {
        for (name, what) in [
            ("2.root.json", "role root"),
            ("timestamp.json", "role timestamp"),
            ("3.bin-a.json", "version 3 of role bin-a"),
        ] {
            let (dir, parent) = round_dir();
            let md = AnyMetadata::Targets(Metadata::new(empty_targets()));
            crate::fsutil::write_metadata(&md, &dir.path().join(name)).unwrap();
            let files = files(dir.path()).unwrap();
            let e = review(&files, &parent, &mut read, &mut || {}).unwrap_err();
            let RoundError::StoredAs { path, source } = &e else {
                panic!("{name}: {e:?}");
            };
            assert!(path.ends_with(name));
            assert!(source.to_string().contains(what), "{source}");
        }
    }

    /// `pypi init --claimed-bins`'s directory: claimed (delegated by the signed targets) and
    /// its bins (delegated by claimed, a draft of the same round) are one round.
    #[test]
    fn a_draft_may_be_delegated_by_another_draft_of_the_round() {
        let (dir, _) = round_dir();
        crate::fsutil::write_metadata(
            &delegator(&["bin-a", "bin-b"]),
            &dir.path().join("1.hub.json"),
        )
        .unwrap();
        let files = files(dir.path()).unwrap();
        let mut reads = 0;
        let mut counting = |p: &Path| {
            reads += 1;
            read(p)
        };
        let d = Delegators::find(&files, delegator(&["hub"]), &mut counting).unwrap();
        assert_eq!(reads, 1, "only the hub is read to find the bins' delegator");
        let drafts = review(&files, &d, &mut read, &mut || {}).unwrap();
        let by: Vec<(&str, Option<&str>)> = drafts
            .iter()
            .map(|d| (d.name.as_str(), d.delegated_by.as_deref()))
            .collect();
        assert_eq!(
            by,
            [
                ("1.bin-a.json", Some("1.hub.json")),
                ("1.bin-b.json", Some("1.hub.json")),
                ("1.hub.json", None)
            ]
        );
        assert!(
            drafts[0].authorities[0]
                .label
                .contains("the round's draft 1.hub.json")
        );
        may_sign(&drafts, &officer(3).public_key().keyid()).unwrap();

        // When the round's delegator delegates every draft, nothing more is read.
        let (plain, parent) = round_dir();
        let files = super::files(plain.path()).unwrap();
        let mut none = |_: &Path| -> Result<AnyMetadata, RoundError> { panic!("read") };
        Delegators::find(&files, parent.parent.clone(), &mut none).unwrap();
        // A draft nobody delegates is still refused, with the round's delegator named.
        crate::fsutil::write_metadata(
            &AnyMetadata::Targets(Metadata::new(empty_targets())),
            &plain.path().join("1.stray.json"),
        )
        .unwrap();
        let files = super::files(plain.path()).unwrap();
        let d = Delegators::find(&files, parent.parent.clone(), &mut read).unwrap();
        let e = review(&files, &d, &mut read, &mut || {}).unwrap_err();
        assert!(
            matches!(e, RoundError::Authorities { path, .. } if path.ends_with("1.stray.json"))
        );
    }

    #[test]
    fn a_revoked_keys_round_signatures_are_not_counted() {
        let (dir, mut d) = round_dir();
        let files = files(dir.path()).unwrap();
        let drafts = review(&files, &d, &mut read, &mut || {}).unwrap();
        let signer = officer(3);
        let signed = sign(&drafts, &d, &signer, None, &mut read, &mut || {}).unwrap();
        let sigdir = tempfile::tempdir().unwrap();
        for (name, bytes) in &signed.files {
            std::fs::write(sigdir.path().join(name), bytes).unwrap();
        }
        let dirs = signature_dirs(&[sigdir.path().to_path_buf()], &files).unwrap();
        let mut revoked = RevokedKeys::new();
        revoked.add(signer.public_key().keyid());
        d.set_revoked(revoked);
        let mut read_sig = |p: &Path| Ok::<_, RoundError>(std::fs::read(p).unwrap());
        let merged = merge(&files, &d, &dirs, &mut read, &mut read_sig, &mut || {}).unwrap();
        assert_eq!(merged.not_counted.len(), 2);
        assert_eq!(merged.incomplete.len(), 2);
        let counted = count(&files, &d, &dirs, &mut read, &mut read_sig).unwrap();
        assert!(
            counted
                .iter()
                .all(|c| c.not_counted.len() == 1 && !c.reports[0].is_met())
        );
    }

    fn files_err(dir: &Path) -> RoundError {
        files(dir).unwrap_err()
    }
}
