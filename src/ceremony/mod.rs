//! Signing rounds: drafting roots, detached signatures, who may sign what, merging and status.
//!
//! A signing round works as request and response. The draft metadata is the request; each
//! officer answers with a small detached signature file ([`DetachedSignature`]), at the same
//! table or days apart; [`merge`] checks every signature against the current canonical bytes
//! and the keys allowed to sign before it goes in, and [`status`] says who has signed and who
//! still must.

pub mod detached;
pub mod enrolment;
pub mod export;
pub mod genesis;
pub mod plan;
pub mod rehearsal;
pub mod repository;
pub mod request;
pub mod review;
pub mod revoke;
pub mod root;
pub mod round;
pub mod transcript;

use std::collections::BTreeMap;

pub use detached::DetachedSignature;

use crate::display::escape;
use crate::metadata::{AnyMetadata, Key, KeyId, Metadata, Root, Signature, SignedText, Threshold};
use crate::verify::{SignatureReport, check_threshold};

/// Why a signing-round step cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error("{0}")]
    Invalid(String),
}

fn invalid(s: impl Into<String>) -> CeremonyError {
    CeremonyError::Invalid(s.into())
}

/// One set of keys whose signatures count for a piece of metadata, and how many are needed.
#[derive(Clone, Debug)]
pub struct Authority {
    /// e.g. "root v1 (previous root)", "root v2 (its own)", "targets (delegator)".
    pub label: String,
    pub keyids: Vec<KeyId>,
    pub keys: BTreeMap<KeyId, Key>,
    pub threshold: Threshold,
}

impl Authority {
    /// Count `sigs` over `signed` against these keys ([`check_threshold`]).
    pub fn check(
        &self,
        role: &str,
        signed: &SignedText<'_>,
        sigs: &[Signature],
    ) -> SignatureReport {
        check_threshold(
            role,
            &self.label,
            signed,
            sigs,
            &self.keyids,
            &self.keys,
            self.threshold,
        )
    }
}

/// The role name of a metadata file: its `_type` for root, snapshot and timestamp; for
/// targets metadata, the name the file is stored under (`claimed.json`, `3.claimed.json`),
/// or `targets`.
pub fn role_name(md: &AnyMetadata, file_name: Option<&str>) -> String {
    match md {
        AnyMetadata::Targets(_) => file_name
            .and_then(crate::verify::classify)
            .map(|(r, _)| r)
            .filter(|r| !matches!(r.as_str(), "root" | "snapshot" | "timestamp"))
            .unwrap_or_else(|| "targets".into()),
        other => other.type_name().into(),
    }
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
                return Err(invalid(format!(
                    "the previous root is version {pv}, but this root is version {v}; \
                     a root must follow the previous one exactly (version {})",
                    pv + 1
                )));
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
        return Err(invalid(format!(
            "cannot tell which keys may sign role \"{}\": give --delegator (the root for \
             targets, snapshot and timestamp; the delegating targets metadata for a \
             delegated role)",
            escape(role)
        )));
    };
    match delegator {
        AnyMetadata::Root(r) => {
            let kind = md.type_name();
            if kind == "targets" && role != "targets" {
                return Err(invalid(format!(
                    "role \"{}\" is delegated by targets metadata, not by the root; give the \
                     delegating targets metadata as --delegator",
                    escape(role)
                )));
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
                return Err(invalid(format!(
                    "{} metadata is signed for by the root, not by targets metadata",
                    md.type_name()
                )));
            }
            let d = t
                .signed
                .delegations
                .as_ref()
                .ok_or_else(|| invalid("the --delegator metadata delegates to no roles"))?;
            let dref = d.find(role).ok_or_else(|| {
                invalid(format!(
                    "the --delegator metadata does not delegate to role \"{}\"",
                    escape(role)
                ))
            })?;
            Ok(vec![Authority {
                label: "keys delegated by the --delegator".into(),
                keyids: dref.keyids.to_vec(),
                keys: d.keys_for(dref.keyids),
                threshold: dref.threshold,
            }])
        }
        other => Err(invalid(format!(
            "--delegator must be a root or targets metadata, not {}",
            other.type_name()
        ))),
    }
}

/// Sign `md` (stored as role `role`) with `signer`, as a detached signature, over the bytes
/// [`SignedText::of_metadata`] gives. A large role's bytes are produced once, on a second
/// thread that also computes the payload digest while the signer hashes, and kept for the
/// later passes in an unnamed scratch file in `spool_dir` ([`crate::pieces::spooled`]); the
/// new signature is checked over one more pass before it is returned.
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
    // Three passes over the signed bytes: two to sign (the first also gives the payload
    // digest), one to check the signature. They are produced from the model once, on another
    // thread while this one hashes, and read back from a scratch file after that.
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
    pub file: String,
    pub reason: String,
}

/// What merging did: the signatures [`merge`] would put into the metadata, and what it did,
/// for the officer to read. Without a copy of the metadata (a claimed role for a million
/// projects is hundreds of megabytes): [`Merged::apply`] puts the signatures in.
#[derive(Debug)]
pub struct Merged {
    pub signatures: Vec<Signature>,
    pub added: Vec<(KeyId, String)>,
    pub already_present: Vec<(KeyId, String)>,
    pub dropped: Vec<(KeyId, String)>,
    pub reports: Vec<SignatureReport>,
}

impl Merged {
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
    let signed = &SignedText::of_metadata(md);
    let version = md.common().version.get();
    let digest = signed.sha256_hex();
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
    let mut results = crate::verify::verify_each(signed, &checks).into_iter();

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
        .map(|a| a.check(role, signed, &kept))
        .collect();
    Ok(Merged {
        signatures: kept,
        added,
        already_present: already,
        dropped,
        reports,
    })
}

/// Who has signed `md` and who still must, per authority.
pub fn status(md: &AnyMetadata, role: &str, authorities: &[Authority]) -> Vec<SignatureReport> {
    let signed = &SignedText::of_metadata(md);
    authorities
        .iter()
        .map(|a| a.check(role, signed, md.signatures()))
        .collect()
}
