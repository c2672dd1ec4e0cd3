//! A signing request: a draft with the context an officer needs to judge it and that merge
//! needs to count its signatures (its role, the previous root of a rotation, who may sign).
//!
//! `sign`, `merge` and `status` all start here, so the role a file is signed as, the keys
//! allowed to sign it and the digest read aloud are worked out in one place: a draft signed as
//! one role and merged as another would be an officer's signature on something they never
//! reviewed.

use std::path::{Path, PathBuf};

use super::{Authority, CeremonyError, DetachedSignature, Merged, Rejection};
use crate::display::escape;
use crate::metadata::keyset::KeyProblem;
use crate::metadata::{AnyMetadata, KeyId, Metadata, Root};
use crate::signer::{SignError, Signer};
use crate::verify::{RevokedKeys, SignatureReport};

/// Why a signing request cannot be made or answered.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A metadata file of the request could not be read or is not metadata.
    #[error("{}: cannot read", escape(&path.display().to_string()))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: crate::metadata::streamed::ReadError,
    },
    /// A root rotation's previous metadata is not a root.
    #[error("the previous metadata must be a root, not {found} metadata")]
    PreviousNotRoot {
        /// The role type it holds.
        found: &'static str,
    },
    /// Who may sign cannot be worked out from the context given.
    #[error("cannot tell which keys may sign role {}", escape(role))]
    NoAuthorities {
        /// The role to be signed.
        role: String,
    },
    /// The context given does not say who may sign (see [`CeremonyError`]).
    #[error("who may sign role {} cannot be worked out", escape(role))]
    Authorities {
        /// The role to be signed.
        role: String,
        /// Why not.
        #[source]
        source: CeremonyError,
    },
    /// The key is not among those allowed to sign (labels: the sets of keys that are).
    #[error("key {keyid} may not sign role {} ({})", escape(role), labels.join("; "))]
    KeyNotAllowed {
        /// The signer's keyid.
        keyid: KeyId,
        /// The role to be signed.
        role: String,
        /// The sets of keys that may sign it.
        labels: Vec<String>,
    },
    /// The draft lists keys conclave does not sign or merge over unless told to: a key under
    /// a keyid that is not its own (a client trusts the key object, so an officer's keyid
    /// can hide another key), one key under two keyids (a client counts it twice), private
    /// key material.
    #[error("role {}: {problems}", escape(role))]
    ForeignKeys {
        /// The draft's role.
        role: String,
        /// What is wrong.
        problems: crate::metadata::keyset::KeyProblems,
    },
    /// A root rotation's previous root is not signed by its own root keys' threshold: it may
    /// be a forgery, and the change review against it would show what the forger wants.
    #[error(
        "the previous root (version {version}) is not signed by its own root keys ({report}): \
         it cannot be the root in use"
    )]
    PreviousUnverified {
        /// The previous root's version.
        version: u64,
        /// Its signature count, e.g. "1 of 2 needed".
        report: String,
    },
    /// The signer's key is revoked ([`SigningRequest::set_revoked`]): its signature would
    /// count toward no threshold.
    #[error("key {keyid} is revoked: its signature counts toward no threshold")]
    Revoked {
        /// The signer's keyid.
        keyid: KeyId,
    },
    /// The signature could not be made.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A root after version 1 merged or counted without its previous root: only its own keys
    /// would be counted, so a root made by a thief of the new keys alone (or slipped in by
    /// whoever merges) would pass (spec 5.3.4 needs both thresholds). `looked_for`: where
    /// the previous root was looked for ([`previous_root_candidates`]).
    #[error(
        "root version {version} can only be merged or counted with its previous root (version \
         {}), whose root keys must also reach their threshold; it was not found{}",
        version - 1,
        looked(looked_for)
    )]
    RootWithoutPrevious {
        /// The draft root's version.
        version: u64,
        /// The files looked for.
        looked_for: Vec<PathBuf>,
    },
    /// A key that is not a root key of the draft root, with no previous root to tell whether
    /// it is one of the previous root's (whose keys sign a rotation too).
    #[error(
        "key {keyid} is not a root key of version {version}; whether it may sign as a key of \
         version {} cannot be told without that root, which was not found{}",
        version - 1,
        looked(looked_for)
    )]
    NotANewRootKey {
        /// The signer's keyid.
        keyid: KeyId,
        /// The draft root's version.
        version: u64,
        /// The files looked for.
        looked_for: Vec<PathBuf>,
    },
    /// The role asked for is not the metadata's: root, snapshot and timestamp metadata are
    /// signed only as their own role, and targets metadata never as one of those.
    #[error("{kind} metadata cannot be signed as role {}", escape(role))]
    NotThisRole {
        /// The metadata's type.
        kind: &'static str,
        /// The role asked for.
        role: String,
    },
    /// The merged metadata may not be written under the name given
    /// ([`super::check_stored_as`]).
    #[error(transparent)]
    StoredAs(CeremonyError),
    /// Signature files were refused; nothing was merged.
    #[error("{} signature file(s) refused", rejections.len())]
    Refused {
        /// Each refused file and why.
        rejections: Vec<Rejection>,
    },
}

fn looked(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let list: Vec<String> = paths
        .iter()
        .map(|p| escape(&p.display().to_string()).into_owned())
        .collect();
    format!(" (looked for {})", list.join(" and "))
}

/// A detached signature and the name of the file it came from (for messages).
pub type NamedSignature = (String, DetachedSignature);

/// Where the previous root of a root rotation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviousSource {
    /// The caller named it.
    Given,
    /// `N-1.root.json` in the repository of the ceremony directory the draft lies in.
    CeremonyRepository,
    /// `N-1.root.json` in the draft's own directory.
    BesideDraft,
}

impl PreviousSource {
    /// How the officer is told where it came from.
    pub fn describe(self) -> &'static str {
        match self {
            PreviousSource::Given => "given",
            PreviousSource::CeremonyRepository => "found in the ceremony directory's repository",
            PreviousSource::BesideDraft => "found beside the draft",
        }
    }
}

/// Where the previous root of root draft `draft` (version `version`, after 1) is looked for
/// when none is given, in order: `N-1.root.json` in the repository of the ceremony directory
/// the draft lies in (the root in use; the ceremony's `drafts/` may hold an unsigned draft of
/// it), then `N-1.root.json` beside the draft (a repository, or the directory `revoke`
/// wrote, which carries the current root). A rotation is never counted against its own keys
/// alone because a flag was forgotten.
pub fn previous_root_candidates(draft: &Path, version: u64) -> Vec<(PathBuf, PreviousSource)> {
    if version < 2 {
        return Vec::new();
    }
    let name = format!("{}.root.json", version - 1);
    let mut out = Vec::new();
    if let Some((_, repo)) = super::repository::enclosing_ceremony(draft) {
        out.push((repo.join(&name), PreviousSource::CeremonyRepository));
    }
    let beside = draft.parent().unwrap_or(Path::new("")).join(&name);
    out.push((beside, PreviousSource::BesideDraft));
    out
}

/// The first of [`previous_root_candidates`] that is a file (never the draft itself), or
/// every place looked.
pub fn find_previous_root(
    draft: &Path,
    version: u64,
) -> Result<(PathBuf, PreviousSource), Vec<PathBuf>> {
    let candidates = previous_root_candidates(draft, version);
    let itself = std::fs::canonicalize(draft).ok();
    for (path, source) in &candidates {
        let is_draft = itself.is_some() && std::fs::canonicalize(path).ok() == itself;
        if path.is_file() && !is_draft {
            return Ok((path.clone(), *source));
        }
    }
    Err(candidates.into_iter().map(|(p, _)| p).collect())
}

/// The metadata files around a draft, as the officer names them.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    /// The role, when the draft's file name does not say.
    pub role: Option<&'a str>,
    /// For a root rotation: the previous root. Without it, the previous root of a root after
    /// version 1 is looked for ([`find_previous_root`]).
    pub previous: Option<&'a Path>,
    /// The metadata that delegates to the draft's role.
    pub delegator: Option<&'a Path>,
}

/// Read a metadata file ([`crate::fsutil::read_metadata`]): the reader [`SigningRequest::open`]
/// uses.
pub fn read_metadata(path: &Path) -> Result<AnyMetadata, RequestError> {
    crate::fsutil::read_metadata(path, &[])
        .map(|r| r.meta)
        .map_err(|source| RequestError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Whether the previous version given with a draft is signed as it must be: the change
/// review is only as trustworthy as the version it compares against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreviousCheck {
    /// Its signatures meet the threshold of these keys (an authority's label).
    Verified(String),
    /// They do not, or nothing says who must have signed it; why.
    Unverified(String),
}

/// A draft, what it is signed as and who may sign it.
#[derive(Debug)]
pub struct SigningRequest {
    md: AnyMetadata,
    role: String,
    previous: Option<AnyMetadata>,
    authorities: Option<Vec<Authority>>,
    previous_check: Option<PreviousCheck>,
    /// The draft's key problems, worked out once (a claimed role lists a million keys).
    key_problems: std::sync::OnceLock<Vec<KeyProblem>>,
    /// The payload digest, worked out once (a pass over every signed byte).
    digest: std::sync::OnceLock<String>,
    allow_foreign_keyids: bool,
    /// Where the previous version was read from.
    previous_from: Option<(PathBuf, PreviousSource)>,
    /// For a root after version 1 without a previous root: where it was looked for.
    looked_for: Vec<PathBuf>,
    /// Keys whose signatures count toward no threshold.
    revoked: RevokedKeys,
}

impl SigningRequest {
    /// The request for the draft `file`, reading it and its context with [`read_metadata`].
    pub fn open(file: &Path, ctx: &Context<'_>) -> Result<Self, RequestError> {
        Self::load(file, ctx, read_metadata)
    }

    /// [`SigningRequest::open`] with the caller's reader (the command line shows progress and
    /// applies its own limits); library errors become the caller's through `From`.
    pub fn load<E: From<RequestError>>(
        file: &Path,
        ctx: &Context<'_>,
        mut read: impl FnMut(&Path) -> Result<AnyMetadata, E>,
    ) -> Result<Self, E> {
        let md = read(file)?;
        let (previous_from, looked_for) = match (ctx.previous, &md) {
            (Some(p), _) => (Some((p.to_path_buf(), PreviousSource::Given)), Vec::new()),
            // Only when nothing else says who signs: a root given a delegator is refused.
            (None, AnyMetadata::Root(r)) if ctx.delegator.is_none() => {
                match find_previous_root(file, r.signed.common.version.get()) {
                    Ok(found) => (Some(found), Vec::new()),
                    Err(looked) => (None, looked),
                }
            }
            _ => (None, Vec::new()),
        };
        let previous = previous_from.as_ref().map(|(p, _)| read(p)).transpose()?;
        let delegator = ctx.delegator.map(&mut read).transpose()?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut req = Self::new(md, name.as_deref(), ctx.role, previous, delegator.as_ref())?;
        req.previous_from = previous_from;
        req.looked_for = looked_for;
        Ok(req)
    }

    /// The request for `md`, stored under `file_name` (which says the role of targets
    /// metadata, unless `role` is given).
    pub fn new(
        md: AnyMetadata,
        file_name: Option<&str>,
        role: Option<&str>,
        previous: Option<AnyMetadata>,
        delegator: Option<&AnyMetadata>,
    ) -> Result<Self, RequestError> {
        let role = role.map_or_else(|| super::role_name(&md, file_name), str::to_owned);
        let kind = md.type_name();
        let top_level_other = matches!(role.as_str(), "root" | "snapshot" | "timestamp");
        if (kind == "targets" && top_level_other) || (kind != "targets" && role != kind) {
            return Err(RequestError::NotThisRole { kind, role });
        }
        let is_root = matches!(md, AnyMetadata::Root(_));
        let prev_root: Option<&Metadata<Root>> = match &previous {
            Some(AnyMetadata::Root(r)) => Some(r),
            Some(other) if is_root => {
                return Err(RequestError::PreviousNotRoot {
                    found: other.type_name(),
                });
            }
            _ => None,
        };
        let previous_check = previous
            .as_ref()
            .map(|p| check_previous(p, &role, delegator));
        if let (Some(AnyMetadata::Root(p)), Some(PreviousCheck::Unverified(report))) =
            (&previous, &previous_check)
            && is_root
        {
            return Err(RequestError::PreviousUnverified {
                version: p.signed.common.version.get(),
                report: report.clone(),
            });
        }
        let authorities = if is_root || delegator.is_some() {
            Some(
                super::authorities(&md, &role, prev_root, delegator).map_err(|source| {
                    RequestError::Authorities {
                        role: role.clone(),
                        source,
                    }
                })?,
            )
        } else {
            None
        };
        Ok(SigningRequest {
            md,
            role,
            previous,
            authorities,
            previous_check,
            key_problems: std::sync::OnceLock::new(),
            digest: std::sync::OnceLock::new(),
            allow_foreign_keyids: false,
            previous_from: None,
            looked_for: Vec::new(),
            revoked: RevokedKeys::new(),
        })
    }

    /// The draft's metadata.
    pub fn metadata(&self) -> &AnyMetadata {
        &self.md
    }

    /// The metadata, to put merged signatures into without a copy.
    pub fn into_metadata(self) -> AnyMetadata {
        self.md
    }

    /// The draft's role name.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The previous version given with the draft, if any.
    pub fn previous(&self) -> Option<&AnyMetadata> {
        self.previous.as_ref()
    }

    /// The file the previous version was read from, and how it was found (None: none was
    /// given or found, or the request was made without files).
    pub fn previous_from(&self) -> Option<(&Path, PreviousSource)> {
        self.previous_from.as_ref().map(|(p, s)| (p.as_path(), *s))
    }

    /// Where a missing previous root was looked for.
    pub fn looked_for(&self) -> &[PathBuf] {
        &self.looked_for
    }

    /// Whether the previous version is signed as it must be (None: no previous given).
    pub fn previous_check(&self) -> Option<&PreviousCheck> {
        self.previous_check.as_ref()
    }

    /// Who may sign, when the context says (a root always does; other roles need their
    /// delegator).
    pub fn authorities(&self) -> Option<&[Authority]> {
        self.authorities.as_deref()
    }

    /// [`SigningRequest::authorities`], or the error saying they are unknown.
    pub fn need_authorities(&self) -> Result<&[Authority], RequestError> {
        self.authorities()
            .ok_or_else(|| RequestError::NoAuthorities {
                role: self.role.clone(),
            })
    }

    /// Hex SHA-256 of the bytes that are signed: the digest the officers compare aloud.
    pub fn payload_digest(&self) -> String {
        self.digest
            .get_or_init(|| crate::metadata::SignedText::of_metadata(&self.md).sha256_hex())
            .clone()
    }

    /// What the officer reads before signing ([`super::review::summary`]).
    pub fn summary(&self) -> Vec<String> {
        super::review::summary(&self.md, &self.role)
    }

    /// The changes against the previous version, when one was given.
    pub fn changes(&self) -> Option<Vec<String>> {
        self.previous
            .as_ref()
            .map(|p| super::review::changes(p, &self.md))
    }

    /// The review an officer reads before signing, as text that is the same on every machine
    /// and every day: the summary, and against the previous version (when one was given)
    /// whether that version is signed as it must be and every change. It holds no file names
    /// and no "in N days", so `conclave review` reprints it anywhere, days later, and its
    /// SHA-256 ([`super::review::text_digest`]) is the same wherever it is read aloud. Lines
    /// are escaped for printing.
    pub fn review_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .summary()
            .iter()
            .map(|s| format!("  {}", escape(s)))
            .collect();
        let (Some(prev), Some(changes)) = (&self.previous, self.changes()) else {
            return lines;
        };
        let v = prev.common().version;
        match &self.previous_check {
            Some(PreviousCheck::Unverified(why)) => lines.push(format!(
                "!!! UNVERIFIED PREVIOUS: version {v} is not signed as it must be ({}). The \
                 changes below are against a file anyone could have written: verify it before \
                 trusting them. !!!",
                escape(why)
            )),
            Some(PreviousCheck::Verified(by)) => {
                lines.push(format!("Version {v} is signed by {}.", escape(by)));
            }
            None => {}
        }
        lines.push(format!("Changes since version {v}:"));
        lines.extend(changes.iter().map(|c| format!("  {}", escape(c))));
        lines
    }

    /// Count no signature of `revoked` keys toward any threshold (a revocation's round): they
    /// are taken out of every authority, [`SigningRequest::merge`] and
    /// [`SigningRequest::count`] set their signature files aside
    /// ([`Merged::not_counted`]), and [`SigningRequest::may_sign`] refuses them.
    pub fn set_revoked(&mut self, revoked: RevokedKeys) {
        if let Some(auths) = &mut self.authorities {
            for a in auths.iter_mut() {
                let keys = &a.keys;
                a.keyids.retain(|k| !revoked.contains(k, keys));
            }
        }
        self.revoked = revoked;
    }

    /// The revoked keys ([`SigningRequest::set_revoked`]).
    pub fn revoked(&self) -> &RevokedKeys {
        &self.revoked
    }

    /// Whether `keyid` names a revoked key, by keyid or (where the context lists the key) by
    /// its material.
    pub fn is_revoked(&self, keyid: &KeyId) -> bool {
        if self.revoked.is_empty() {
            return false;
        }
        let empty = std::collections::BTreeMap::new();
        let mut maps: Vec<&std::collections::BTreeMap<KeyId, crate::metadata::Key>> =
            self.authorities.iter().flatten().map(|a| &a.keys).collect();
        maps.push(&empty);
        maps.into_iter()
            .any(|keys| self.revoked.contains(keyid, keys))
    }

    /// Whether a signature file is by a revoked key: its keyid, or its public key's material
    /// is a revoked key's.
    fn is_revoked_signature(&self, d: &DetachedSignature) -> bool {
        if self.is_revoked(&d.signature.keyid) {
            return true;
        }
        let material = d.public_key.material();
        self.authorities.iter().flatten().any(|a| {
            self.revoked
                .keyids()
                .filter_map(|r| a.keys.get(r))
                .any(|k| k.material() == material)
        })
    }

    /// `sigs` without those of revoked keys, and those set aside (keyid, file).
    fn split_revoked(
        &self,
        sigs: &[(String, DetachedSignature)],
    ) -> (Vec<NamedSignature>, Vec<(KeyId, String)>) {
        let mut counted = Vec::with_capacity(sigs.len());
        let mut not_counted = Vec::new();
        for (file, d) in sigs {
            if self.is_revoked_signature(d) {
                not_counted.push((d.signature.keyid.clone(), file.clone()));
            } else {
                counted.push((file.clone(), d.clone()));
            }
        }
        (counted, not_counted)
    }

    /// A merge's outcome with the revoked keys' part said plainly: signatures set aside, and
    /// those already in the metadata dropped because their key is revoked.
    fn mark_revoked(&self, mut m: Merged, not_counted: Vec<(KeyId, String)>) -> Merged {
        for (id, why) in &mut m.dropped {
            if self.is_revoked(id) {
                *why = "its key is revoked".to_owned();
            }
        }
        m.not_counted = not_counted;
        m
    }

    /// Whether `keyid` may sign. With no known authorities, any key may (merge checks later).
    ///
    /// A root after version 1 without its previous root knows only its own keys: any other
    /// key may be one of the previous root's, so it is told that root is needed instead.
    pub fn may_sign(&self, keyid: &KeyId) -> Result<(), RequestError> {
        if self.is_revoked(keyid) {
            return Err(RequestError::Revoked {
                keyid: keyid.clone(),
            });
        }
        match &self.authorities {
            Some(auths) if !auths.iter().any(|a| a.keyids.contains(keyid)) => {
                if let Some(version) = self.root_without_previous() {
                    return Err(RequestError::NotANewRootKey {
                        keyid: keyid.clone(),
                        version,
                        looked_for: self.looked_for.clone(),
                    });
                }
                Err(RequestError::KeyNotAllowed {
                    keyid: keyid.clone(),
                    role: self.role.clone(),
                    labels: auths.iter().map(|a| a.label.clone()).collect(),
                })
            }
            _ => Ok(()),
        }
    }

    /// What is wrong with the keys the draft lists ([`crate::metadata::keyset::audit`]).
    pub fn key_problems(&self) -> &[KeyProblem] {
        self.key_problems
            .get_or_init(|| crate::metadata::keyset::audit_metadata(&self.md))
    }

    /// Sign and merge even when the draft lists keys that are not what their keyids say, for
    /// a repository conclave did not build. The officer must be shown
    /// [`SigningRequest::key_problems`] plainly.
    pub fn allow_foreign_keyids(&mut self) {
        self.allow_foreign_keyids = true;
    }

    /// `Ok` when the draft's keys may be signed over: they have no problem, or
    /// [`SigningRequest::allow_foreign_keyids`] was called.
    pub fn check_keys(&self) -> Result<(), RequestError> {
        let problems = self.key_problems();
        if problems.is_empty() || self.allow_foreign_keyids {
            return Ok(());
        }
        Err(RequestError::ForeignKeys {
            role: self.role.clone(),
            problems: crate::metadata::keyset::KeyProblems(problems.to_vec()),
        })
    }

    /// Sign the draft as a detached signature ([`super::sign_detached`]), after
    /// [`SigningRequest::check_keys`].
    pub fn sign(
        &self,
        signer: &dyn Signer,
        spool_dir: Option<&Path>,
    ) -> Result<DetachedSignature, RequestError> {
        self.check_keys()?;
        Ok(super::sign_detached(
            &self.md, &self.role, signer, spool_dir,
        )?)
    }

    /// A root after version 1 given without its previous root: its review and status count
    /// only its own keys.
    pub fn root_without_previous(&self) -> Option<u64> {
        match (&self.md, &self.previous) {
            (AnyMetadata::Root(r), None) if r.signed.common.version.get() > 1 => {
                Some(r.signed.common.version.get())
            }
            _ => None,
        }
    }

    /// Whether the merged draft may be written to a file named `file_name`
    /// ([`super::check_stored_as`]): never a root file for anything but that root version.
    pub fn check_output(&self, file_name: &str) -> Result<(), RequestError> {
        super::check_stored_as(&self.md, &self.role, file_name).map_err(RequestError::StoredAs)
    }

    /// Check and merge signature files (named for messages) ([`super::merge`]), after
    /// [`SigningRequest::check_keys`]. A root after version 1 is merged only with its
    /// previous root.
    pub fn merge(&self, sigs: &[(String, DetachedSignature)]) -> Result<Merged, RequestError> {
        self.need_previous()?;
        self.check_keys()?;
        let auths = self.need_authorities()?;
        let (sigs, not_counted) = self.split_revoked(sigs);
        super::merge_with_digest(&self.md, &self.role, &sigs, auths, &self.payload_digest())
            .map(|m| self.mark_revoked(m, not_counted))
            .map_err(|rejections| RequestError::Refused { rejections })
    }

    /// Count detached signatures without merging them ([`super::count`]): what merge would
    /// give, and the files it would refuse. A root after version 1 only with its previous
    /// root.
    pub fn count(
        &self,
        sigs: &[(String, DetachedSignature)],
    ) -> Result<(Merged, Vec<Rejection>), RequestError> {
        self.need_previous()?;
        let auths = self.need_authorities()?;
        let (sigs, not_counted) = self.split_revoked(sigs);
        let (m, refused) = super::count(&self.md, &self.role, &sigs, auths);
        Ok((self.mark_revoked(m, not_counted), refused))
    }

    /// `Err` for a root after version 1 without its previous root: nothing may be counted or
    /// merged for it ([`RequestError::RootWithoutPrevious`]).
    pub fn need_previous(&self) -> Result<(), RequestError> {
        match self.root_without_previous() {
            Some(version) => Err(RequestError::RootWithoutPrevious {
                version,
                looked_for: self.looked_for.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Who has signed and who still must ([`super::status`]). A root after version 1 is
    /// counted only with its previous root.
    pub fn status(&self) -> Result<Vec<SignatureReport>, RequestError> {
        self.need_previous()?;
        Ok(super::status(
            &self.md,
            &self.role,
            self.need_authorities()?,
        ))
    }
}

/// Check `previous`'s signatures: a root against its own root keys, another role against
/// the keys `delegator` gives it.
fn check_previous(
    previous: &AnyMetadata,
    role: &str,
    delegator: Option<&AnyMetadata>,
) -> PreviousCheck {
    let auths = match previous {
        AnyMetadata::Root(_) => super::authorities(previous, role, None, None),
        _ => match delegator {
            Some(d) => super::authorities(previous, role, None, Some(d)),
            None => {
                return PreviousCheck::Unverified(
                    "no delegator was given to check its signatures against".into(),
                );
            }
        },
    };
    let auths = match auths {
        Ok(a) => a,
        Err(e) => return PreviousCheck::Unverified(e.to_string()),
    };
    let signed = crate::metadata::SignedText::of_metadata(previous);
    for a in &auths {
        let report = a.check(role, &signed, previous.signatures());
        if !report.is_met() {
            return PreviousCheck::Unverified(format!(
                "{} of {} needed from {}",
                report.valid.len(),
                report.threshold,
                a.label
            ));
        }
    }
    PreviousCheck::Verified(
        auths
            .iter()
            .map(|a| a.label.clone())
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::metadata::Version;
    use std::collections::BTreeMap;

    use super::*;
    use crate::cjson::Map;
    use crate::metadata::{
        Common, DelegatedRole, DelegationRoles, Delegations, Expires, RoleKeys, RoleName,
        RolePaths, Targets, Threshold,
    };
    use crate::signer::Ed25519Signer;

    pub(crate) fn officer(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    fn common() -> Common {
        Common::first(Expires::parse("2100-01-01T00:00:00Z").unwrap())
    }

    pub(crate) fn empty_targets() -> Targets {
        Targets {
            common: common(),
            targets: BTreeMap::new(),
            delegations: None,
            extra: Map::new(),
        }
    }

    /// [`root`] signed by officer 1: a previous root that meets its own threshold.
    fn signed_root() -> AnyMetadata {
        use crate::signer::SignMetadata as _;
        let mut md = root();
        if let AnyMetadata::Root(m) = &mut md {
            m.sign(&officer(1)).unwrap();
        }
        md
    }

    #[test]
    fn an_unsigned_previous_root_is_refused() {
        let e = SigningRequest::new(root_v2(), None, None, Some(root()), None).unwrap_err();
        assert!(
            matches!(e, RequestError::PreviousUnverified { version: 1, .. }),
            "{e:?}"
        );
        SigningRequest::new(root_v2(), None, None, Some(signed_root()), None).unwrap();
    }

    #[test]
    fn the_review_names_no_file_and_says_how_the_previous_version_stands() {
        let req = SigningRequest::new(
            root_v2(),
            Some("/somewhere/2.root.json"),
            None,
            Some(signed_root()),
            None,
        )
        .unwrap();
        let lines = req.review_lines();
        assert_eq!(lines[0], "  role:     root");
        assert!(lines.iter().all(|l| !l.contains("somewhere")), "{lines:?}");
        assert!(
            lines.contains(&"Version 1 is signed by root v1 (its own keys).".to_owned()),
            "{lines:?}"
        );
        let at = lines
            .iter()
            .position(|l| l == "Changes since version 1:")
            .unwrap();
        assert_eq!(lines[at + 1], "  version 1 -> 2");
        // The digest is over exactly these lines, each ended by a newline, as a review file
        // holds them.
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        use sha2::Digest as _;
        assert_eq!(
            super::super::review::text_digest(&lines),
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        );
        // Without a previous version, the review is the summary alone.
        let alone = SigningRequest::new(root(), None, None, None, None).unwrap();
        assert!(
            alone
                .review_lines()
                .iter()
                .all(|l| l.starts_with("  ") && !l.contains("Changes")),
            "{:?}",
            alone.review_lines()
        );
    }

    #[test]
    fn an_unverified_previous_version_is_flagged_in_the_review() {
        let t1 = AnyMetadata::Targets(Metadata::new(empty_targets()));
        let mut next = empty_targets();
        next.common.version = Version::new(2).unwrap();
        let req = SigningRequest::new(
            AnyMetadata::Targets(Metadata::new(next)),
            Some("2.targets.json"),
            None,
            Some(t1),
            None,
        )
        .unwrap();
        let lines = req.review_lines();
        assert!(
            lines.iter().any(|l| l.starts_with(
                "!!! UNVERIFIED PREVIOUS: version 1 is not signed as it must be (no delegator"
            )),
            "{lines:?}"
        );
    }

    /// A root v1 whose root role is officer 1's and whose targets role is officer 2's.
    pub(crate) fn root() -> AnyMetadata {
        let (r, t) = (
            officer(1).public_key().clone(),
            officer(2).public_key().clone(),
        );
        let one = Threshold::new(1).unwrap();
        let roles = [
            ("root", &r),
            ("snapshot", &r),
            ("timestamp", &r),
            ("targets", &t),
        ]
        .into_iter()
        .map(|(n, k)| (n.to_owned(), RoleKeys::new(vec![k.keyid()], one)))
        .collect();
        AnyMetadata::Root(Metadata::new(Root {
            common: common(),
            consistent_snapshot: Some(true),
            keys: BTreeMap::from([(r.keyid(), r), (t.keyid(), t)]),
            roles,
            extra: Map::new(),
        }))
    }

    /// Targets metadata delegating each of `roles` to officer 3 alone.
    pub(crate) fn delegator(roles: &[&str]) -> AnyMetadata {
        let k = officer(3).public_key().clone();
        let roles = roles
            .iter()
            .map(|name| DelegatedRole {
                name: RoleName::delegated(name).unwrap(),
                keyids: vec![k.keyid()],
                threshold: Threshold::new(1).unwrap(),
                terminating: Some(false),
                paths: RolePaths::Patterns(vec![format!("{name}/*").into()]),
                extra: Map::new(),
            })
            .collect();
        AnyMetadata::Targets(Metadata::new(Targets {
            delegations: Some(Delegations {
                keys: BTreeMap::from([(k.keyid(), k)]),
                roles: DelegationRoles::List(roles),
                extra: Map::new(),
            }),
            ..empty_targets()
        }))
    }

    fn root_and_targets() -> (AnyMetadata, AnyMetadata) {
        (root(), AnyMetadata::Targets(Metadata::new(empty_targets())))
    }

    #[test]
    fn a_key_the_delegator_does_not_name_may_not_sign() {
        let (root, targets) = root_and_targets();
        let req =
            SigningRequest::new(targets, Some("targets.json"), None, None, Some(&root)).unwrap();
        assert_eq!(req.role(), "targets");
        let stranger = officer(3);
        let e = req.may_sign(&stranger.public_key().keyid()).unwrap_err();
        assert!(matches!(&e, RequestError::KeyNotAllowed { role, .. } if role == "targets"));
        assert!(!e.to_string().contains("--"), "{e}");
        let officer = officer(2);
        req.may_sign(&officer.public_key().keyid()).unwrap();

        // Signed by the right key, merged: the threshold is met.
        let sig = req.sign(&officer, None).unwrap();
        let merged = req.merge(&[("t.sig".into(), sig)]).unwrap();
        assert!(merged.complete());
        // A signature by a key that may not sign is refused, with the file named.
        let bad = req.sign(&stranger, None).unwrap();
        let Err(RequestError::Refused { rejections }) = req.merge(&[("s.sig".into(), bad)]) else {
            panic!("a stranger's signature was merged");
        };
        assert_eq!(rejections[0].file, "s.sig");
    }

    fn root_v2() -> AnyMetadata {
        let mut r = root();
        if let AnyMetadata::Root(m) = &mut r {
            m.signed.common.version = crate::metadata::Version::new(2).unwrap();
        }
        r
    }

    #[test]
    fn a_root_after_version_1_merges_only_with_its_previous_root() {
        let req = SigningRequest::new(root_v2(), Some("2.root.json"), None, None, None).unwrap();
        assert_eq!(req.root_without_previous(), Some(2));
        let sig = req.sign(&officer(1), None).unwrap();
        let e = req.merge(&[("r.sig".into(), sig.clone())]).unwrap_err();
        assert!(matches!(
            e,
            RequestError::RootWithoutPrevious { version: 2, .. }
        ));
        // Nor is it counted, and a key it does not list is not told it "may not sign": it
        // may be a key of the previous root.
        assert!(matches!(
            req.status(),
            Err(RequestError::RootWithoutPrevious { version: 2, .. })
        ));
        let old_only = officer(7).public_key().keyid();
        let e = req.may_sign(&old_only).unwrap_err();
        assert!(
            matches!(&e, RequestError::NotANewRootKey { keyid, version: 2, .. } if *keyid == old_only),
            "{e:?}"
        );
        assert!(!e.to_string().contains("--"), "{e}");
        assert!(!e.to_string().contains("--"), "{e}");

        let with_prev = SigningRequest::new(
            root_v2(),
            Some("2.root.json"),
            None,
            Some(signed_root()),
            None,
        )
        .unwrap();
        assert_eq!(with_prev.root_without_previous(), None);
        assert!(
            with_prev
                .merge(&[("r.sig".into(), sig)])
                .unwrap()
                .complete()
        );

        // Version 1 has no previous root.
        let v1 = SigningRequest::new(root(), Some("1.root.json"), None, None, None).unwrap();
        assert_eq!(v1.root_without_previous(), None);
    }

    #[test]
    fn a_root_is_never_checked_against_a_delegator() {
        let (root_md, _) = root_and_targets();
        let e = SigningRequest::new(root_v2(), None, None, None, Some(&root_md)).unwrap_err();
        assert!(matches!(
            e,
            RequestError::Authorities {
                source: CeremonyError::RootDelegated,
                ..
            }
        ));
    }

    #[test]
    fn metadata_is_signed_only_as_its_own_role() {
        let (root_md, targets) = root_and_targets();
        for (md, role) in [(root_v2(), "claimed"), (targets.clone(), "root")] {
            let e = SigningRequest::new(md, None, Some(role), None, Some(&root_md)).unwrap_err();
            assert!(
                matches!(e, RequestError::NotThisRole { .. }),
                "{role}: {e:?}"
            );
        }
    }

    #[test]
    fn merged_metadata_is_never_written_over_another_roles_file() {
        let (root_md, targets) = root_and_targets();
        let req =
            SigningRequest::new(targets, Some("targets.json"), None, None, Some(&root_md)).unwrap();
        for bad in [
            "2.root.json",
            "root.json",
            "timestamp.json",
            "3.targets.json",
        ] {
            assert!(
                matches!(req.check_output(bad), Err(RequestError::StoredAs(_))),
                "{bad}"
            );
        }
        for good in [
            "1.targets.json",
            "targets.json",
            "out.json",
            "2.claimed.json",
        ] {
            req.check_output(good).unwrap();
        }
        let r = SigningRequest::new(root_v2(), None, None, Some(signed_root()), None).unwrap();
        r.check_output("2.root.json").unwrap();
        let e = r.check_output("1.root.json").unwrap_err();
        assert!(e.to_string().contains("version 1 of role root"), "{e}");
    }

    #[test]
    fn without_a_delegator_who_may_sign_is_unknown() {
        let (root, targets) = root_and_targets();
        let req = SigningRequest::new(targets, None, Some("claimed"), None, None).unwrap();
        assert_eq!(req.role(), "claimed");
        req.may_sign(&officer(9).public_key().keyid()).unwrap();
        assert!(matches!(
            req.status(),
            Err(RequestError::NoAuthorities { role }) if role == "claimed"
        ));
        // A root's previous version must be a root.
        let e = SigningRequest::new(root.clone(), None, None, Some(req.into_metadata()), None)
            .unwrap_err();
        assert!(matches!(
            e,
            RequestError::PreviousNotRoot { found: "targets" }
        ));
    }

    #[test]
    fn open_reads_the_draft_and_its_context() {
        let dir = tempfile::tempdir().unwrap();
        let (root, targets) = root_and_targets();
        let (rp, tp) = (
            dir.path().join("1.root.json"),
            dir.path().join("targets.json"),
        );
        crate::fsutil::write_metadata(&root, &rp).unwrap();
        crate::fsutil::write_metadata(&targets, &tp).unwrap();
        let ctx = Context {
            delegator: Some(&rp),
            ..Context::default()
        };
        let req = SigningRequest::open(&tp, &ctx).unwrap();
        assert_eq!(req.role(), "targets");
        assert_eq!(req.need_authorities().unwrap().len(), 1);
        assert_eq!(req.status().unwrap().len(), 1);
        let missing = dir.path().join("missing.json");
        let e = SigningRequest::open(&missing, &ctx).unwrap_err();
        assert!(matches!(e, RequestError::Read { path, .. } if path == missing));
    }
}
