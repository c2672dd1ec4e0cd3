//! Signing rounds: drafting roots, detached signatures, who may sign what, merging and status.
//!
//! A signing round works as request and response. The draft metadata is the request; each
//! officer answers with a small detached signature file ([`DetachedSignature`]), at the same
//! table or days apart; [`merge`] checks every signature against the current canonical bytes
//! and the keys allowed to sign before it goes in, and [`status`] says who has signed and who
//! still must.

pub mod backup;
pub mod calendar;
pub mod das;
pub mod detached;
pub mod expiry;
pub mod export;
pub mod firmware;
pub mod gather;
pub mod genesis;
pub mod names;
pub mod overwrite;
pub mod plan;
pub mod rehearsal;
pub mod repository;
pub mod request;
pub mod review;
pub mod revoke;
pub mod revoked;
pub mod root;
pub mod round;
pub mod rstuf;
pub mod transcript;

use std::collections::BTreeMap;

pub use detached::DetachedSignature;

use crate::display::escape;
use crate::metadata::{AnyMetadata, Key, KeyId, Metadata, Root, Signature, SignedText, Threshold};
use crate::verify::SignatureReport;

/// Why the keys that may sign a piece of metadata cannot be told ([`authorities`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CeremonyError {
    /// A root draft whose previous root is not the version just before it (spec 5.3.5).
    #[error(
        "the previous root is version {previous}, but this root is version {version}; a root \
         must follow the previous one exactly (version {})",
        previous + 1
    )]
    NotNextRoot {
        /// The previous root's version.
        previous: u64,
        /// The draft's version.
        version: u64,
    },
    /// A non-root role without the metadata that delegates to it.
    #[error("cannot tell which keys may sign role \"{}\": the metadata that delegates to it is needed", escape(.role))]
    NoDelegator {
        /// The role to be signed.
        role: String,
    },
    /// A delegated role given the root as its delegator.
    #[error("role \"{}\" is delegated by targets metadata, not by the root", escape(.role))]
    DelegatedByTargets {
        /// The delegated role.
        role: String,
    },
    /// Root, snapshot or timestamp given targets metadata as its delegator.
    #[error("{kind} metadata is signed for by the root, not by targets metadata")]
    SignedForByRoot {
        /// The role type of the metadata to be signed.
        kind: &'static str,
    },
    /// Targets metadata given as delegator that delegates to nothing.
    #[error("the delegating metadata delegates to no roles")]
    NoDelegations,
    /// Targets metadata given as delegator that does not delegate to the role.
    #[error("the delegating metadata does not delegate to role \"{}\"", escape(.role))]
    NotDelegated {
        /// The role to be signed.
        role: String,
    },
    /// Snapshot or timestamp metadata given as delegator.
    #[error("the delegating metadata must be a root or targets metadata, not {kind}")]
    NotADelegator {
        /// The role type of the metadata given.
        kind: &'static str,
    },
    /// A root given delegating metadata. Nothing delegates to a root: the previous root says
    /// who signs the next (spec 5.3.4), and checking a root against anything else would let
    /// a root draft pass on its own keys alone.
    #[error(
        "a root is not delegated: the previous root version decides who may sign it, not \
         delegating metadata"
    )]
    RootDelegated,
    /// Metadata stored under a name that says another role (`N.root.json` for targets) or
    /// another version (`3.root.json` for root version 2): writing it there would replace
    /// the file clients read for that role.
    #[error(
        "{} would hold {}, but this is {} version {version}",
        escape(.file),
        named_as(.named, *.named_version),
        escape(.role)
    )]
    StoredAs {
        /// The file name.
        file: String,
        /// The role its name says.
        named: String,
        /// The version its name says, if any.
        named_version: Option<u64>,
        /// The metadata's role.
        role: String,
        /// The metadata's version.
        version: u64,
    },
}

fn named_as(role: &str, version: Option<u64>) -> String {
    match version {
        Some(v) => format!("version {v} of role {}", escape(role)),
        None => format!("role {}", escape(role)),
    }
}

/// Whether `md`, signed as `role`, may be stored under `file_name`. A name that says a
/// top-level role (`root.json`, `7.root.json`, `timestamp.json`, ...) takes only that role,
/// and a versioned name of the role itself (`3.claimed.json` for claimed) only that version;
/// any other name (a draft's, `out.json`) takes anything. This is what keeps a merge from
/// writing a draft over `N.root.json`, the trust anchor every client walks.
pub fn check_stored_as(md: &AnyMetadata, role: &str, file_name: &str) -> Result<(), CeremonyError> {
    let Some((named, named_version)) = crate::verify::classify(file_name) else {
        return Ok(());
    };
    let version = md.common().version.get();
    let top_level = crate::metadata::TOP_LEVEL_ROLES.contains(&named.as_str());
    let wrong_role = top_level && named != role;
    let wrong_version = named == role && named_version.is_some_and(|v| v != version);
    if wrong_role || wrong_version {
        return Err(CeremonyError::StoredAs {
            file: file_name.to_owned(),
            named,
            named_version,
            role: role.to_owned(),
            version,
        });
    }
    Ok(())
}

/// One set of keys whose signatures count for a piece of metadata, and how many are needed.
#[derive(Clone, Debug)]
pub struct Authority {
    /// e.g. "root v1 (previous root)", "root v2 (its own)", "targets (delegator)".
    pub label: String,
    /// The keys allowed to sign, in the order the delegator lists them.
    pub keyids: Vec<KeyId>,
    /// The public keys by keyid, to check signatures with.
    pub keys: BTreeMap<KeyId, Key>,
    /// How many distinct keys of `keyids` must sign.
    pub threshold: Threshold,
}

impl Authority {
    /// Count `sigs` over `signed` against these keys ([`crate::verify::check_threshold`]).
    pub fn check(
        &self,
        role: &str,
        signed: &SignedText<'_>,
        sigs: &[Signature],
    ) -> SignatureReport {
        self.count(role, &crate::verify::Checks::new(signed), sigs)
    }

    /// [`Authority::check`], reusing the signature checks already made in `checks`.
    pub fn count(
        &self,
        role: &str,
        checks: &crate::verify::Checks<'_, '_>,
        sigs: &[Signature],
    ) -> SignatureReport {
        crate::verify::count_threshold(
            role,
            &self.label,
            checks,
            sigs,
            &self.keyids,
            &self.keys,
            self.threshold,
        )
    }
}

/// Proof of possession: the keys a root rotation adds to the root role (listed by the new
/// root's own authority, not by the previous root's) that have not signed, given `reports`
/// in the order of `authorities` ([`authorities`]: the previous root's first). Empty for
/// anything but a rotation.
///
/// Without this check a rotation can list a key nobody holds (a typo in a public key file, a
/// key swapped in the drafting) and still reach both thresholds on the old keys: the mistake
/// shows only when that key is needed, possibly after the keys that could fix it are gone.
pub fn unproven_new_keys(authorities: &[Authority], reports: &[SignatureReport]) -> Vec<KeyId> {
    let [previous, own] = authorities else {
        return Vec::new();
    };
    let Some(report) = reports.get(1) else {
        return Vec::new();
    };
    own.keyids
        .iter()
        .filter(|id| !previous.keyids.contains(id) && !report.valid.contains(id))
        .cloned()
        .collect()
}

/// The role name of a metadata file: its `_type` for root, snapshot and timestamp; for
/// targets metadata, the name the file is stored under (`claimed.json`, `3.claimed.json`),
/// or `targets`.
pub fn role_name(md: &AnyMetadata, file_name: Option<&str>) -> String {
    match md {
        AnyMetadata::Targets(_) => targets_role_name(file_name),
        other => other.type_name().into(),
    }
}

/// The role name of targets metadata stored under `file_name` ([`role_name`]).
pub fn targets_role_name(file_name: Option<&str>) -> String {
    file_name
        .and_then(crate::verify::classify)
        .map(|(r, _)| r)
        .filter(|r| !matches!(r.as_str(), "root" | "snapshot" | "timestamp"))
        .unwrap_or_else(|| "targets".into())
}

/// Every set of keys that must reach its threshold for `md` (stored as role `role`) to be
/// trusted.
///
/// - root: its own root keys and, with `previous`, the previous root's (spec 5.3.4);
/// - timestamp, snapshot, targets: the keys `delegator` (a root) lists for the role;
/// - a delegated role: the keys `delegator` (targets metadata) delegates the role to.
pub fn authorities(
    md: &AnyMetadata,
    role: &str,
    previous: Option<&Metadata<Root>>,
    delegator: Option<&AnyMetadata>,
) -> Result<Vec<Authority>, CeremonyError> {
    if let AnyMetadata::Root(m) = md {
        if delegator.is_some() {
            return Err(CeremonyError::RootDelegated);
        }
        let own = m
            .signed
            .role("root")
            .expect("parsed roots have a root role");
        let v = m.signed.common.version.get();
        let mut out = vec![Authority {
            label: format!("root v{v} (its own keys)"),
            keyids: own.keyids.clone(),
            keys: m.signed.keys.clone(),
            threshold: own.threshold,
        }];
        if let Some(p) = previous {
            let pv = p.signed.common.version.get();
            if pv + 1 != v {
                return Err(CeremonyError::NotNextRoot {
                    previous: pv,
                    version: v,
                });
            }
            let old = p
                .signed
                .role("root")
                .expect("parsed roots have a root role");
            out.insert(
                0,
                Authority {
                    label: format!("root v{pv} (previous root's keys)"),
                    keyids: old.keyids.clone(),
                    keys: p.signed.keys.clone(),
                    threshold: old.threshold,
                },
            );
        }
        return Ok(out);
    }
    let Some(delegator) = delegator else {
        return Err(CeremonyError::NoDelegator { role: role.into() });
    };
    match delegator {
        AnyMetadata::Root(r) => {
            let kind = md.type_name();
            if kind == "targets" && role != "targets" {
                return Err(CeremonyError::DelegatedByTargets { role: role.into() });
            }
            let rk = r
                .signed
                .role(kind)
                .expect("parsed roots have all four roles");
            Ok(vec![Authority {
                label: format!("root v{} {kind} keys", r.signed.common.version),
                keyids: rk.keyids.clone(),
                keys: r.signed.keys.clone(),
                threshold: rk.threshold,
            }])
        }
        AnyMetadata::Targets(t) => {
            if md.type_name() != "targets" {
                return Err(CeremonyError::SignedForByRoot {
                    kind: md.type_name(),
                });
            }
            let d = t
                .signed
                .delegations
                .as_ref()
                .ok_or(CeremonyError::NoDelegations)?;
            let dref = d
                .find(role)
                .ok_or_else(|| CeremonyError::NotDelegated { role: role.into() })?;
            Ok(vec![Authority {
                label: format!(
                    "keys delegated by targets metadata v{}",
                    t.signed.common.version
                ),
                keyids: dref.keyids.to_vec(),
                keys: d.keys_for(dref.keyids),
                threshold: dref.threshold,
            }])
        }
        other => Err(CeremonyError::NotADelegator {
            kind: other.type_name(),
        }),
    }
}

/// Sign `md` (stored as role `role`) with `signer`, as a detached signature, over the bytes
/// [`SignedText::of_metadata`] gives. A large role's bytes are produced once, on a second
/// thread that also computes the payload digest while the signer hashes, and kept for the
/// later passes in an unnamed scratch file in `spool_dir` ([`crate::pieces::spooled`]); the
/// new signature is checked before it is returned, by the signer over its second pass
/// ([`crate::signer::Signer::checks_message_signatures`]) or here over one more pass.
pub fn sign_detached(
    md: &AnyMetadata,
    role: &str,
    signer: &dyn crate::signer::Signer,
    spool_dir: Option<&std::path::Path>,
) -> Result<DetachedSignature, crate::signer::SignError> {
    use crate::pieces::{serve, spooled};
    let version = md.common().version.get();
    let key = signer.public_key().clone();
    let signed = SignedText::of_metadata(md);
    if let Some(bytes) = signed.held() {
        let signature = crate::signer::sign_checked(signer, bytes)?;
        return Ok(DetachedSignature::new(role, version, bytes, signature, key));
    }
    // Two passes over the signed bytes to sign (the first also gives the payload digest), and
    // one to check the signature unless the signer checks it over the second
    // ([`crate::signer::Signer::checks_message_signatures`]: key files and derived keys). They
    // are produced from the model once, on another thread while this one hashes, and read
    // back from a scratch file after that.
    let mut digest = sha2::Sha256::default();
    let signature = spooled(spool_dir, &mut |sink| signed.feed(sink), |pass| {
        let raw = serve(
            2,
            &mut |n, sink| {
                pass(&mut |piece| {
                    if n == 0 {
                        sha2::Digest::update(&mut digest, piece);
                    }
                    sink(piece);
                })
            },
            |m| signer.sign_message(m),
        )?;
        if signer.checks_message_signatures() {
            return Ok(crate::signer::signature_of(&key, &raw));
        }
        crate::signer::checked(&key, &raw, |sink| {
            pass(sink);
            Ok(())
        })
    })?;
    let digest = hex::encode(sha2::Digest::finalize(digest));
    Ok(DetachedSignature::with_digest(
        role, version, digest, signature, key,
    ))
}

/// A signature file that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The name of the signature file.
    pub file: String,
    /// Why it was refused: another role, version or draft, a key that may not sign, or an
    /// invalid signature.
    pub reason: String,
}

/// What merging did: the signatures [`merge`] would put into the metadata, and what it did,
/// for the officer to read. Without a copy of the metadata (a claimed role for a million
/// projects is hundreds of megabytes): [`Merged::apply`] puts the signatures in.
#[derive(Debug)]
pub struct Merged {
    /// The signatures the metadata will carry: kept ones and added ones, by keyid.
    pub signatures: Vec<Signature>,
    /// Signatures added, by keyid, with the file each came from.
    pub added: Vec<(KeyId, String)>,
    /// Signatures whose key had already signed (kept in the metadata or added from an earlier
    /// file), with the file; not added again.
    pub already_present: Vec<(KeyId, String)>,
    /// Signatures taken out of the metadata, by keyid, with the reason: not valid over the
    /// current bytes (they signed an earlier draft) or their key may not sign this role.
    pub dropped: Vec<(KeyId, String)>,
    /// One threshold report per authority, over `signatures`.
    pub reports: Vec<SignatureReport>,
    /// Signatures of revoked keys, by keyid, with the file each came from: not merged and not
    /// counted ([`request::SigningRequest::set_revoked`]).
    pub not_counted: Vec<(KeyId, String)>,
}

impl Merged {
    /// True when every authority's threshold is met, so the metadata can be published.
    pub fn complete(&self) -> bool {
        self.reports.iter().all(SignatureReport::is_met)
    }

    /// Put these signatures into `md` (the metadata they were merged for).
    pub fn apply(&self, md: &mut AnyMetadata) {
        md.signatures_mut().clone_from(&self.signatures);
    }
}

/// Merge detached signatures into `md`. Every signature is checked against the current
/// canonical bytes and the keys allowed to sign; if any is refused, nothing is merged and the
/// refusals are returned, each with its reason. Signatures already in `md` that no longer
/// verify, or whose keys may not sign, are dropped (and reported). Every signature check runs
/// in one pass over the signed bytes (they may come in pieces), then one pass per authority
/// for its report.
pub fn merge(
    md: &AnyMetadata,
    role: &str,
    sigs: &[(String, DetachedSignature)],
    authorities: &[Authority],
) -> Result<Merged, Vec<Rejection>> {
    let digest = SignedText::of_metadata(md).sha256_hex();
    merge_with_digest(md, role, sigs, authorities, &digest)
}

/// [`merge`], given the payload digest of `md` already worked out (a pass over the signed
/// bytes saved: a million-project claimed role is 377 MB of them).
pub(crate) fn merge_with_digest(
    md: &AnyMetadata,
    role: &str,
    sigs: &[(String, DetachedSignature)],
    authorities: &[Authority],
    digest: &str,
) -> Result<Merged, Vec<Rejection>> {
    let signed = &SignedText::of_metadata(md);
    let version = md.common().version.get();
    let allowed = |id: &KeyId| -> Option<&Key> {
        authorities
            .iter()
            .find(|a| a.keyids.contains(id))
            .and_then(|a| a.keys.get(id))
    };

    // First everything that needs no signature check; the checks then run together.
    let existing: Vec<(&Signature, Option<&Key>)> = md
        .signatures()
        .iter()
        .map(|s| (s, allowed(&s.keyid)))
        .collect();
    let mut rejections = Vec::new();
    let mut candidates: Vec<(&String, &DetachedSignature, &Key)> = Vec::new();
    for (file, d) in sigs {
        let keyid = &d.signature.keyid;
        let reject = |reason: String| Rejection {
            file: file.clone(),
            reason,
        };
        if d.role != role {
            rejections.push(reject(format!(
                "it signs role \"{}\", but this is role \"{}\"",
                escape(&d.role),
                escape(role)
            )));
            continue;
        }
        if d.version != version {
            rejections.push(reject(format!(
                "it signs version {} of {role}, but this is version {version}",
                d.version
            )));
            continue;
        }
        if d.payload_sha256 != digest {
            rejections.push(reject(format!(
                "it signs other content (payload SHA-256 {}), not this file's ({}): it was \
                 made for an earlier or different draft",
                d.payload_sha256, digest
            )));
            continue;
        }
        let Some(key) = allowed(keyid) else {
            rejections.push(reject(format!(
                "key {keyid} may not sign role \"{}\" (it is not among: {})",
                escape(role),
                authorities
                    .iter()
                    .map(|a| a.label.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
            continue;
        };
        if key != &d.public_key && key.keyid() != d.public_key.keyid() {
            rejections.push(reject(format!(
                "the public key in the signature file does not match key {keyid} in the metadata"
            )));
            continue;
        }
        candidates.push((file, d, key));
    }
    let checks: Vec<(&Key, &str)> = existing
        .iter()
        .filter_map(|(s, k)| k.map(|k| (k, s.sig.as_str())))
        .chain(
            candidates
                .iter()
                .map(|(_, d, k)| (*k, d.signature.sig.as_str())),
        )
        .collect();
    // Each signature is checked once: the threshold counts below take these results.
    let memo = crate::verify::Checks::new(signed);
    let mut results = crate::verify::verify_each(&memo, &checks).into_iter();

    let mut kept: Vec<Signature> = Vec::new();
    let mut dropped = Vec::new();
    for (s, key) in existing {
        match key.map(|_| results.next()) {
            None => dropped.push((s.keyid.clone(), "its key may not sign this role".to_owned())),
            Some(Some(Ok(()))) => kept.push(s.clone()),
            Some(Some(Err(e))) => {
                dropped.push((s.keyid.clone(), format!("{e} (signed an earlier draft)")))
            }
            Some(None) => dropped.push((s.keyid.clone(), "it was not checked".to_owned())),
        }
    }

    let mut added = Vec::new();
    let mut already = Vec::new();
    for (file, d, _) in candidates {
        let keyid = &d.signature.keyid;
        match results.next() {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                rejections.push(Rejection {
                    file: file.clone(),
                    reason: format!("the signature by key {keyid} is invalid: {e}"),
                });
                continue;
            }
            None => {
                rejections.push(Rejection {
                    file: file.clone(),
                    reason: format!("the signature by key {keyid} was not checked"),
                });
                continue;
            }
        }
        if let Some(existing) = kept.iter().find(|s| &s.keyid == keyid) {
            // The same key signed twice (ECDSA signatures differ each time); keep the first.
            let _ = existing;
            already.push((keyid.clone(), file.clone()));
            continue;
        }
        kept.push(Signature {
            keyid: keyid.clone(),
            sig: d.signature.sig.clone(),
            extra: Default::default(),
        });
        added.push((keyid.clone(), file.clone()));
    }
    if !rejections.is_empty() {
        return Err(rejections);
    }
    // A stable order: by keyid, so merging the same signatures in any order gives the same file.
    kept.sort_by(|a, b| a.keyid.cmp(&b.keyid));
    let reports = authorities
        .iter()
        .map(|a| a.count(role, &memo, &kept))
        .collect();
    Ok(Merged {
        signatures: kept,
        added,
        already_present: already,
        dropped,
        reports,
        not_counted: Vec::new(),
    })
}

/// What [`merge`] would give with every signature file it refuses left out: the reports of
/// `status FILE SIGFILE...`, which counts detached signatures without merging them, and the
/// refusals beside them. Each file is refused for what it is (its binding, its key, its
/// signature), never for another file, so leaving the refused ones out leaves a merge that
/// goes through.
pub fn count(
    md: &AnyMetadata,
    role: &str,
    sigs: &[(String, DetachedSignature)],
    authorities: &[Authority],
) -> (Merged, Vec<Rejection>) {
    let mut refused: Vec<Rejection> = Vec::new();
    let mut rest: Vec<(String, DetachedSignature)> = sigs.to_vec();
    // Each pass either merges or leaves out at least one more file.
    for _ in 0..=sigs.len() {
        match merge(md, role, &rest, authorities) {
            Ok(m) => return (m, refused),
            Err(more) => {
                rest.retain(|(f, _)| !more.iter().any(|r| &r.file == f));
                refused.extend(more);
            }
        }
    }
    // Not reached (with no files left, nothing can be refused); the metadata's own
    // signatures alone, to be safe.
    let m = merge(md, role, &[], authorities).unwrap_or_else(|_| Merged {
        signatures: Vec::new(),
        added: Vec::new(),
        already_present: Vec::new(),
        dropped: Vec::new(),
        reports: status(md, role, authorities),
        not_counted: Vec::new(),
    });
    (m, refused)
}

/// Who has signed `md` and who still must, per authority.
pub fn status(md: &AnyMetadata, role: &str, authorities: &[Authority]) -> Vec<SignatureReport> {
    let signed = &SignedText::of_metadata(md);
    let checks = crate::verify::Checks::new(signed);
    authorities
        .iter()
        .map(|a| a.count(role, &checks, md.signatures()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cjson::Map;
    use crate::metadata::{
        DelegatedRole, DelegationRoles, Delegations, Expires, RoleKeys, RoleName, RolePaths,
        Targets, Version,
    };
    use crate::signer::{Ed25519Signer, SignMetadata, Signer};

    const FAR: &str = "2100-01-01T00:00:00Z";

    fn s(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    fn kid(n: u8) -> KeyId {
        s(n).public_key().keyid()
    }

    use crate::metadata::testkit::{common, th};

    /// A root of version `v` whose root keys are `root_keys` (2 of them needed); key 20 holds
    /// the other roles.
    fn root(v: u64, root_keys: &[u8], expires: &str) -> Root {
        let ids = |v: &[u8]| v.iter().map(|&n| kid(n)).collect();
        let mut roles = BTreeMap::from([("root".to_owned(), RoleKeys::new(ids(root_keys), th(2)))]);
        for r in ["targets", "snapshot", "timestamp"] {
            roles.insert(r.into(), RoleKeys::new(ids(&[20]), th(1)));
        }
        Root {
            common: common(v, expires),
            consistent_snapshot: Some(true),
            keys: root_keys
                .iter()
                .chain(&[20])
                .map(|&n| (kid(n), s(n).public_key().clone()))
                .collect(),
            roles,
            extra: Map::new(),
        }
    }

    /// Root v1 (keys 1, 2, 3) and the draft of root v2, which rotates to keys 3, 4, 5.
    fn rotation() -> (Metadata<Root>, AnyMetadata) {
        let mut v1 = Metadata::new(root(1, &[1, 2, 3], FAR));
        for n in [1, 2, 3] {
            v1.sign(&s(n)).unwrap();
        }
        let v2 = AnyMetadata::Root(Metadata::new(root(2, &[3, 4, 5], FAR)));
        (v1, v2)
    }

    fn detached(md: &AnyMetadata, role: &str, n: u8) -> DetachedSignature {
        sign_detached(md, role, &s(n), None).unwrap()
    }

    /// Detached signatures by `signers` over `md` as role root, named `N.sig`.
    fn sigs(md: &AnyMetadata, signers: &[u8]) -> Vec<(String, DetachedSignature)> {
        signers
            .iter()
            .map(|&n| (format!("{n}.sig"), detached(md, "root", n)))
            .collect()
    }

    fn keyids(v: &[Signature]) -> Vec<KeyId> {
        v.iter().map(|s| s.keyid.clone()).collect()
    }

    fn sorted(mut ids: Vec<KeyId>) -> Vec<KeyId> {
        ids.sort();
        ids
    }

    #[test]
    fn a_root_rotation_is_complete_only_when_both_roots_thresholds_are_met() {
        let (v1, v2) = rotation();
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        assert_eq!(auth.len(), 2);
        assert!(auth[0].label.contains("previous root"));
        assert!(auth[1].label.contains("its own"));

        // The old keys alone: the previous root is satisfied, the new one is not.
        let m = merge(&v2, "root", &sigs(&v2, &[1, 2]), &auth).unwrap();
        assert!(m.reports[0].is_met() && !m.reports[1].is_met());
        assert!(!m.complete());
        // The new keys alone: the other way round.
        let m = merge(&v2, "root", &sigs(&v2, &[4, 5]), &auth).unwrap();
        assert!(!m.reports[0].is_met() && m.reports[1].is_met());
        assert!(!m.complete());
        // Key 3 is in both: with 1 and 4 it makes both thresholds.
        let m = merge(&v2, "root", &sigs(&v2, &[1, 3, 4]), &auth).unwrap();
        assert!(m.complete());
        // Without the previous root, only the new root's own threshold counts.
        let own = authorities(&v2, "root", None, None).unwrap();
        assert_eq!(own.len(), 1);
        assert!(
            merge(&v2, "root", &sigs(&v2, &[4, 5]), &own)
                .unwrap()
                .complete()
        );
    }

    #[test]
    fn merged_signatures_verify_and_are_sorted_by_keyid() {
        let (v1, mut v2) = rotation();
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        let m = merge(&v2, "root", &sigs(&v2, &[5, 1, 4, 3]), &auth).unwrap();
        let want = sorted(vec![kid(1), kid(3), kid(4), kid(5)]);
        assert_eq!(keyids(&m.signatures), want);
        assert_eq!(m.added.len(), 4);
        assert!(m.already_present.is_empty() && m.dropped.is_empty());
        // The order the files come in does not matter.
        let again = merge(&v2, "root", &sigs(&v2, &[3, 4, 1, 5]), &auth).unwrap();
        assert_eq!(again.signatures, m.signatures);

        m.apply(&mut v2);
        let st = status(&v2, "root", &auth);
        assert!(st.iter().all(SignatureReport::is_met));
        assert_eq!(sorted(st[0].valid.clone()), sorted(vec![kid(1), kid(3)]));
        assert_eq!(
            sorted(st[1].valid.clone()),
            sorted(vec![kid(3), kid(4), kid(5)])
        );
        assert_eq!(st[0].missing, vec![kid(2)]);
    }

    #[test]
    fn refused_signatures_are_reported_with_their_reason_and_nothing_is_merged() {
        let (v1, v2) = rotation();
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        let AnyMetadata::Root(draft) = &v2 else {
            unreachable!()
        };
        let other_version = {
            let mut r = draft.clone();
            r.signed.common.version = Version::new(3).unwrap();
            AnyMetadata::Root(r)
        };
        let other_payload = {
            let mut r = draft.clone();
            r.signed.common.expires = Expires::parse("2099-01-01T00:00:00Z").unwrap();
            AnyMetadata::Root(r)
        };
        let wrong_public_key = {
            let mut d = detached(&v2, "root", 1);
            d.public_key = s(9).public_key().clone();
            d
        };
        let forged = {
            // Key 2's signature presented as key 1's.
            let mut d = detached(&v2, "root", 2);
            d.signature.keyid = kid(1);
            d.public_key = s(1).public_key().clone();
            d
        };
        let cases = [
            (detached(&v2, "targets", 1), "it signs role \"targets\""),
            (
                detached(&other_version, "root", 1),
                "it signs version 3 of root, but this is version 2",
            ),
            (
                detached(&other_payload, "root", 1),
                "it signs other content",
            ),
            (detached(&v2, "root", 9), "may not sign role \"root\""),
            (
                wrong_public_key,
                "the public key in the signature file does not match",
            ),
            (forged, "is invalid"),
        ];
        for (bad, reason) in cases {
            let mut batch = sigs(&v2, &[3, 4]);
            batch.push(("bad.sig".into(), bad));
            let refused = merge(&v2, "root", &batch, &auth).unwrap_err();
            assert_eq!(refused.len(), 1, "{refused:?}");
            assert_eq!(refused[0].file, "bad.sig");
            assert!(
                refused[0].reason.contains(reason),
                "{:?} does not say {reason:?}",
                refused[0].reason
            );
        }
    }

    #[test]
    fn an_existing_signature_that_no_longer_verifies_is_dropped() {
        let (v1, _) = rotation();
        // Signed by 1 and 9 (who may not sign root), then edited.
        let mut draft = Metadata::new(root(2, &[3, 4, 5], FAR));
        draft.sign(&s(1)).unwrap();
        draft.sign(&s(9)).unwrap();
        draft.signed.common.expires = Expires::parse("2099-01-01T00:00:00Z").unwrap();
        let v2 = AnyMetadata::Root(draft);
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        let m = merge(&v2, "root", &sigs(&v2, &[3]), &auth).unwrap();
        assert_eq!(keyids(&m.signatures), vec![kid(3)]);
        assert_eq!(m.added, vec![(kid(3), "3.sig".to_owned())]);
        let dropped: Vec<&KeyId> = m.dropped.iter().map(|(k, _)| k).collect();
        assert_eq!(dropped, vec![&kid(1), &kid(9)]);
        assert!(m.dropped[0].1.contains("signed an earlier draft"));
        assert_eq!(m.dropped[1].1, "its key may not sign this role");
    }

    #[test]
    fn counting_leaves_out_refused_files_and_counts_the_rest() {
        let (v1, v2) = rotation();
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        let mut batch = sigs(&v2, &[1, 3, 4]);
        batch.push(("stranger.sig".into(), detached(&v2, "root", 9)));
        batch.push(("targets.sig".into(), detached(&v2, "targets", 5)));
        assert_eq!(merge(&v2, "root", &batch, &auth).unwrap_err().len(), 2);
        let (m, refused) = count(&v2, "root", &batch, &auth);
        let files: Vec<&str> = refused.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(files, ["stranger.sig", "targets.sig"]);
        assert!(m.complete());
        assert_eq!(m.added.len(), 3);
        // Nothing refused: the same as merge.
        let (m, refused) = count(&v2, "root", &sigs(&v2, &[4]), &auth);
        assert!(refused.is_empty() && !m.complete());
        assert_eq!(m.reports[1].valid, vec![kid(4)]);
    }

    /// The class of attack: in a revocation round, the thief's copy of a key that is still in
    /// the previous root signs the new root; with one honest officer it "meets" the old root's
    /// 2 of 3. A revoked key counts toward no threshold, its signature is not merged, and
    /// the key may not sign.
    #[test]
    fn a_revoked_keys_signature_counts_toward_no_threshold() {
        use crate::ceremony::request::{RequestError, SigningRequest};
        let (v1, mut v2) = rotation();
        let prev = AnyMetadata::Root(v1);
        let thief_and_honest = sigs(&v2, &[1, 2, 4, 5]);
        let plain = SigningRequest::new(v2.clone(), None, None, Some(prev.clone()), None).unwrap();
        assert!(plain.merge(&thief_and_honest).unwrap().complete());

        let mut revoked = crate::verify::RevokedKeys::new();
        revoked.add(kid(1));
        let mut req =
            SigningRequest::new(v2.clone(), None, None, Some(prev.clone()), None).unwrap();
        req.set_revoked(revoked.clone());
        let m = req.merge(&thief_and_honest).unwrap();
        assert!(!m.complete());
        assert_eq!(m.reports[0].valid, vec![kid(2)]);
        assert_eq!(m.not_counted, vec![(kid(1), "1.sig".to_owned())]);
        assert!(!m.signatures.iter().any(|s| s.keyid == kid(1)));
        let (counted, _) = req.count(&thief_and_honest).unwrap();
        assert_eq!(counted.not_counted.len(), 1);
        assert!(matches!(
            req.may_sign(&kid(1)),
            Err(RequestError::Revoked { .. })
        ));
        req.may_sign(&kid(2)).unwrap();

        // Already in the file: dropped, and said why.
        if let AnyMetadata::Root(r) = &mut v2 {
            r.sign(&s(1)).unwrap();
        }
        let mut req = SigningRequest::new(v2, None, None, Some(prev), None).unwrap();
        req.set_revoked(revoked);
        let m = req
            .merge(&sigs(&req.metadata().clone(), &[2, 3, 4]))
            .unwrap();
        assert_eq!(m.dropped, vec![(kid(1), "its key is revoked".to_owned())]);
        assert!(m.complete());
    }

    #[test]
    fn the_same_key_signing_twice_counts_once() {
        let (v1, v2) = rotation();
        let auth = authorities(&v2, "root", Some(&v1), None).unwrap();
        let one = detached(&v2, "root", 1);
        let batch = vec![
            ("a.sig".to_owned(), one.clone()),
            ("b.sig".to_owned(), one.clone()),
        ];
        let m = merge(&v2, "root", &batch, &auth).unwrap();
        assert_eq!(keyids(&m.signatures), vec![kid(1)]);
        assert_eq!(m.added, vec![(kid(1), "a.sig".to_owned())]);
        assert_eq!(m.already_present, vec![(kid(1), "b.sig".to_owned())]);
        assert_eq!(m.reports[0].valid, vec![kid(1)]);
        assert!(!m.complete());

        // A signature already in the metadata is kept, and the new copy is not added.
        let mut signed = v2.clone();
        m.apply(&mut signed);
        let m = merge(&signed, "root", &[("c.sig".to_owned(), one)], &auth).unwrap();
        assert_eq!(keyids(&m.signatures), vec![kid(1)]);
        assert!(m.added.is_empty());
        assert_eq!(m.already_present, vec![(kid(1), "c.sig".to_owned())]);
    }

    #[test]
    fn a_delegated_role_is_signed_for_by_its_delegators_keys() {
        let delegator = AnyMetadata::Targets(Metadata::new(Targets {
            common: common(1, FAR),
            targets: BTreeMap::new(),
            delegations: Some(Delegations {
                keys: [7, 8]
                    .iter()
                    .map(|&n| (kid(n), s(n).public_key().clone()))
                    .collect(),
                roles: DelegationRoles::List(vec![DelegatedRole {
                    name: RoleName::delegated("proj").unwrap(),
                    keyids: vec![kid(7), kid(8)],
                    threshold: th(2),
                    terminating: Some(true),
                    paths: RolePaths::Patterns(vec!["proj/*".into()]),
                    extra: Map::new(),
                }]),
                extra: Map::new(),
            }),
            extra: Map::new(),
        }));
        let proj = AnyMetadata::Targets(Metadata::new(Targets {
            common: common(1, FAR),
            targets: BTreeMap::new(),
            delegations: None,
            extra: Map::new(),
        }));
        let auth = authorities(&proj, "proj", None, Some(&delegator)).unwrap();
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].keyids, vec![kid(7), kid(8)]);
        // The root's targets key may not sign a delegated role.
        let (v1, _) = rotation();
        let refused = merge(
            &proj,
            "proj",
            &[("20.sig".into(), detached(&proj, "proj", 20))],
            &auth,
        )
        .unwrap_err();
        assert!(refused[0].reason.contains("may not sign role \"proj\""));
        let m = merge(
            &proj,
            "proj",
            &[
                ("7.sig".into(), detached(&proj, "proj", 7)),
                ("8.sig".into(), detached(&proj, "proj", 8)),
            ],
            &auth,
        )
        .unwrap();
        assert!(m.complete());
        // The root does not delegate it, and without a delegator no keys may sign it.
        assert!(authorities(&proj, "proj", None, Some(&AnyMetadata::Root(v1.clone()))).is_err());
        assert!(authorities(&proj, "proj", None, None).is_err());
        // A previous root must be exactly one version older.
        let v3 = AnyMetadata::Root(Metadata::new(root(3, &[3, 4, 5], FAR)));
        assert!(authorities(&v3, "root", Some(&v1), None).is_err());
    }

    #[test]
    fn a_large_role_is_signed_and_merged_in_pieces_like_a_small_one() {
        let (v1, _) = rotation();
        let key = s(7).public_key().clone();
        let roles = (0..crate::metadata::PIECES_MIN_ENTRIES)
            .map(|i| DelegatedRole {
                name: RoleName::delegated(&format!("p{i}")).unwrap(),
                keyids: vec![kid(7)],
                threshold: th(1),
                terminating: Some(true),
                paths: RolePaths::Patterns(vec![format!("p{i}/*").into()]),
                extra: Map::new(),
            })
            .collect();
        let mut md = AnyMetadata::Targets(Metadata::new(Targets {
            common: common(1, FAR),
            targets: BTreeMap::new(),
            delegations: Some(Delegations {
                keys: BTreeMap::from([(kid(7), key)]),
                roles: DelegationRoles::List(roles),
                extra: Map::new(),
            }),
            extra: Map::new(),
        }));
        assert!(SignedText::of_metadata(&md).held().is_none());
        let root = AnyMetadata::Root(v1);
        let auth = authorities(&md, "targets", None, Some(&root)).unwrap();
        let d = detached(&md, "targets", 20);
        assert_eq!(
            d.payload_sha256,
            detached::payload_digest(&md.signed_bytes())
        );
        let m = merge(&md, "targets", &[("20.sig".into(), d)], &auth).unwrap();
        assert!(m.complete());
        m.apply(&mut md);
        assert!(status(&md, "targets", &auth)[0].is_met());

        // Edited after signing: the signature is dropped, and a stale one refused.
        let stale = detached(&md, "targets", 20);
        let AnyMetadata::Targets(t) = &mut md else {
            unreachable!()
        };
        t.signed.common.expires = Expires::parse("2099-01-01T00:00:00Z").unwrap();
        let refused = merge(&md, "targets", &[("20.sig".into(), stale)], &auth).unwrap_err();
        assert!(refused[0].reason.contains("it signs other content"));
        let m = merge(&md, "targets", &[], &auth).unwrap();
        assert!(m.signatures.is_empty());
        assert_eq!(m.dropped.len(), 1);
        assert!(!m.complete());
    }
}
