//! RSTUF's distributed asynchronous signing (DAS): conclave as the offline signer of metadata
//! the Repository Service for TUF holds pending.
//!
//! RSTUF parks metadata that its online key cannot sign (a bootstrap root below its
//! threshold, a root update, a custom delegation whose keys are offline) and lists it at
//! `GET /api/v1/metadata/sign`. Each offline key holder posts one signature to
//! `POST /api/v1/metadata/sign` as `{"role": ..., "signature": {"keyid": ..., "sig": ...}}`,
//! and the worker adds it and finalises the role at its threshold.
//!
//! The pending document comes from the online side, which an attacker may control. So before
//! anything is signed, the pending metadata is checked as conclave checks any draft: a
//! bootstrap root against its own root keys, a root update against the root in use (brought by
//! the officer, never taken from the document), a custom delegation against the targets
//! metadata that delegates it, itself checked against the root in use. Every signature the
//! pending metadata already carries must verify over its signed bytes: one that does not means
//! the metadata was changed after someone signed it. And the bytes conclave signs must be the
//! bytes RSTUF checks: the canonical form of the document's own `signed` part is compared with
//! the canonical form of conclave's reading of it, and the new signature is verified over the
//! document's bytes with the key the metadata lists, before the payload is written.

use std::collections::BTreeMap;

use super::request::{RequestError, SigningRequest};
use crate::cjson::{self, Map, Value};
use crate::display::escape;
use crate::metadata::{AnyMetadata, Key, KeyId, Metadata, Root, Signature, SignedText};
use crate::verify::SignatureReport;

/// The members of the pending document's `metadata` that are context, not pending roles.
const TRUSTED_ROOT: &str = "trusted_root";
const TRUSTED_TARGETS: &str = "trusted_targets";

/// Why a pending document cannot be signed. Nothing is signed or written for any of these.
#[derive(Debug, thiserror::Error)]
pub enum DasError {
    /// The file is not JSON conclave reads (floats, duplicate keys, bad UTF-8 are refused).
    #[error("not a pending-signing document: not JSON conclave reads")]
    Json(#[source] cjson::ParseError),
    /// The JSON is not shaped as RSTUF's `GET /api/v1/metadata/sign` answers.
    #[error(
        "not what RSTUF's GET /api/v1/metadata/sign returns: {0} (expected {{\"data\": \
         {{\"metadata\": {{ROLE: METADATA, ...}}}}, \"message\": ...}})"
    )]
    Shape(String),
    /// RSTUF answered that nothing is pending.
    #[error("nothing is pending signing (RSTUF said: {})", escape(.message))]
    NothingPending {
        /// RSTUF's message.
        message: String,
    },
    /// The role asked for is not pending in this document.
    #[error("role {} is not pending signing here (pending: {})", escape(.role), list(.pending))]
    NotPending {
        /// The role asked for.
        role: String,
        /// The roles that are.
        pending: Vec<String>,
    },
    /// Several roles are pending and none was chosen.
    #[error("{} roles are pending signing ({}): say which one to sign", .pending.len(), list(.pending))]
    SeveralPending {
        /// The roles pending.
        pending: Vec<String>,
    },
    /// A member of the document is not TUF metadata.
    #[error("{}: not TUF metadata", escape(.member))]
    Metadata {
        /// The member (a role name, trusted_root or trusted_targets).
        member: String,
        /// Why not.
        #[source]
        source: crate::metadata::LoadError,
    },
    /// RSTUF signs targets, snapshot and timestamp itself; a pending one is not for an
    /// offline key.
    #[error(
        "pending role {} is {kind} metadata, which RSTUF 1.0 signs with its online key; only \
         roots and custom delegations are signed offline",
        escape(.role)
    )]
    OnlineRole {
        /// The role.
        role: String,
        /// Its metadata type.
        kind: &'static str,
    },
    /// conclave's reading of the metadata does not give back the document's canonical bytes:
    /// a signature made here would be over other bytes than RSTUF checks.
    #[error(
        "pending role {}: its signed part does not read back to the same canonical bytes \
         (SHA-256 {document} in the document, {model} as conclave reads it): a signature \
         made here would not be over the bytes RSTUF checks",
        escape(.role)
    )]
    BytesDiffer {
        /// The role.
        role: String,
        /// SHA-256 of the document's canonical signed part.
        document: String,
        /// SHA-256 of the canonical form of conclave's reading of it.
        model: String,
    },
    /// A signature already in the pending metadata does not verify over its signed bytes.
    #[error(
        "pending role {}: the signature by key {keyid} does not verify over its signed bytes \
         ({}): the metadata was changed after that key signed it, or the signature is forged",
        escape(.role),
        escape(.why)
    )]
    BadSignature {
        /// The role.
        role: String,
        /// The signature's keyid.
        keyid: KeyId,
        /// Why it does not verify.
        why: String,
    },
    /// A signature already in the pending metadata is by a key that may not sign it.
    #[error(
        "pending role {}: it carries a signature by key {keyid}, which may not sign it",
        escape(.role)
    )]
    UnknownSignature {
        /// The role.
        role: String,
        /// The signature's keyid.
        keyid: KeyId,
    },
    /// A root update, or a custom delegation, given without the root in use.
    #[error(
        "pending role {} (version {version}) can only be checked against the root in use, \
         which was not given{}",
        escape(.role),
        if *.is_root { " (it is a root update, not a bootstrap root)" } else { "" }
    )]
    NeedTrustedRoot {
        /// The role.
        role: String,
        /// Its version.
        version: u64,
        /// Whether it is a root.
        is_root: bool,
    },
    /// A bootstrap root (version 1) given a root in use: there is none before it.
    #[error(
        "pending root version 1 is a bootstrap root: it is checked against its own root keys; \
         no root comes before it"
    )]
    TrustedRootForBootstrap,
    /// The root in use given is not the one before the pending root.
    #[error(
        "the root in use given is version {found}, but pending root version {version} must \
         follow version {}",
        .version - 1
    )]
    TrustedRootVersion {
        /// The pending root's version.
        version: u64,
        /// The given root's version.
        found: u64,
    },
    /// The root in use given is not signed by its own root keys.
    #[error("the root in use given is not signed by its own root keys ({report})")]
    TrustedRootUnverified {
        /// The count, e.g. "1 of 2 ...".
        report: String,
    },
    /// The document's `trusted_root` is another root than the one given.
    #[error(
        "the document's trusted_root (version {version}) is not the root in use given: the \
         online side trusts another root than this officer does"
    )]
    TrustedRootDiffers {
        /// The document's trusted_root version.
        version: u64,
    },
    /// A custom delegation without the targets metadata that delegates it.
    #[error(
        "pending role {} is a custom delegation, but the document has no trusted_targets to \
         check it against",
        escape(.role)
    )]
    NoTrustedTargets {
        /// The role.
        role: String,
    },
    /// The document's `trusted_targets` is not signed by the root's targets keys.
    #[error(
        "the document's trusted_targets is not signed by the targets keys of the root in use \
         ({report})"
    )]
    TrustedTargetsUnverified {
        /// The count.
        report: String,
    },
    /// The signing request could not be made or answered.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The signature made does not verify over the document's signed bytes with the key the
    /// metadata lists under its keyid: RSTUF would refuse it.
    #[error(
        "the new signature by key {keyid} does not verify over the pending role {}'s signed \
         bytes with the key the metadata lists ({}); it was not written",
        escape(.role),
        escape(.why)
    )]
    SignatureCheck {
        /// The role.
        role: String,
        /// The signer's keyid.
        keyid: KeyId,
        /// Why it does not verify.
        why: String,
    },
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| escape(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// RSTUF's pending-signing document, as `GET /api/v1/metadata/sign` returns it: the pending
/// roles, and the online side's `trusted_root` and `trusted_targets` (context, never trusted
/// by themselves).
#[derive(Debug)]
pub struct Pending {
    roles: BTreeMap<String, Value>,
    trusted_root: Option<Value>,
    trusted_targets: Option<Value>,
}

impl Pending {
    /// Read a pending document.
    pub fn parse(bytes: &[u8]) -> Result<Pending, DasError> {
        let value = cjson::parse(bytes).map_err(DasError::Json)?;
        let top = value
            .as_object()
            .ok_or_else(|| DasError::Shape(format!("the document is {}", value.kind())))?;
        let data = top
            .get("data")
            .ok_or_else(|| DasError::Shape("no \"data\"".into()))?;
        if *data == Value::Null {
            let message = top.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(DasError::NothingPending {
                message: message.to_owned(),
            });
        }
        let metadata = data
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or_else(|| DasError::Shape("no \"data\".\"metadata\" object".into()))?;
        let mut roles = BTreeMap::new();
        let (mut trusted_root, mut trusted_targets) = (None, None);
        for (name, md) in metadata {
            if md.as_object().is_none() {
                return Err(DasError::Shape(format!(
                    "\"{}\" is {}, not metadata",
                    escape(name),
                    md.kind()
                )));
            }
            match name.as_str() {
                TRUSTED_ROOT => trusted_root = Some(md.clone()),
                TRUSTED_TARGETS => trusted_targets = Some(md.clone()),
                _ => {
                    roles.insert(name.clone(), md.clone());
                }
            }
        }
        if roles.is_empty() {
            return Err(DasError::Shape("no role is pending in \"metadata\"".into()));
        }
        Ok(Pending {
            roles,
            trusted_root,
            trusted_targets,
        })
    }

    /// The pending roles, in name order.
    pub fn roles(&self) -> Vec<String> {
        self.roles.keys().cloned().collect()
    }

    /// The role to sign: `role` if it is pending, or the only pending role.
    pub fn choose(&self, role: Option<&str>) -> Result<String, DasError> {
        match role {
            Some(r) if self.roles.contains_key(r) => Ok(r.to_owned()),
            Some(r) => Err(DasError::NotPending {
                role: r.to_owned(),
                pending: self.roles(),
            }),
            None if self.roles.len() == 1 => Ok(self.roles()[0].clone()),
            None => Err(DasError::SeveralPending {
                pending: self.roles(),
            }),
        }
    }

    /// The checked signing request for pending `role`, with `trusted_root` the root in use
    /// (brought by the officer; required for a root update and a custom delegation, refused
    /// for a bootstrap root). See the module documentation for what is checked.
    pub fn request(
        &self,
        role: &str,
        trusted_root: Option<Metadata<Root>>,
    ) -> Result<DasRequest, DasError> {
        let role = self.choose(Some(role))?;
        let value = &self.roles[&role];
        let md = read(&role, value)?;
        let signed = same_bytes(&role, value, &md)?;
        let version = md.common().version.get();
        let kind = md.type_name();
        let request = match kind {
            "root" => self.root_request(&role, md, trusted_root)?,
            "targets" if role != "targets" => {
                let Some(trusted) = trusted_root else {
                    return Err(DasError::NeedTrustedRoot {
                        role,
                        version,
                        is_root: false,
                    });
                };
                let delegator = self.trusted_targets(&role, &trusted)?;
                SigningRequest::new(md, None, Some(&role), None, Some(&delegator))?
            }
            _ => return Err(DasError::OnlineRole { role, kind }),
        };
        let reports = request.status()?;
        check_present(&role, request.metadata(), &reports)?;
        Ok(DasRequest {
            request,
            signed,
            reports,
        })
    }

    /// A pending root: version 1 is a bootstrap, checked against itself; a later version is
    /// an update, checked against the root in use (which must match the document's
    /// `trusted_root`, when it has one).
    fn root_request(
        &self,
        role: &str,
        md: AnyMetadata,
        trusted_root: Option<Metadata<Root>>,
    ) -> Result<SigningRequest, DasError> {
        let version = md.common().version.get();
        if version == 1 {
            if trusted_root.is_some() {
                return Err(DasError::TrustedRootForBootstrap);
            }
            return Ok(SigningRequest::new(md, None, Some(role), None, None)?);
        }
        let Some(trusted) = trusted_root else {
            return Err(DasError::NeedTrustedRoot {
                role: role.to_owned(),
                version,
                is_root: true,
            });
        };
        let found = trusted.signed.common.version.get();
        if found + 1 != version {
            return Err(DasError::TrustedRootVersion { version, found });
        }
        if let Some(doc) = &self.trusted_root {
            let theirs = read(TRUSTED_ROOT, doc)?;
            let ours = AnyMetadata::Root(trusted.clone());
            if SignedText::of_metadata(&theirs).whole() != SignedText::of_metadata(&ours).whole() {
                return Err(DasError::TrustedRootDiffers {
                    version: theirs.common().version.get(),
                });
            }
        }
        Ok(SigningRequest::new(
            md,
            None,
            Some(role),
            Some(AnyMetadata::Root(trusted)),
            None,
        )?)
    }

    /// The document's `trusted_targets`, checked against the root in use (itself checked
    /// against its own root keys): the delegator of a pending custom delegation.
    fn trusted_targets(&self, role: &str, root: &Metadata<Root>) -> Result<AnyMetadata, DasError> {
        let root = AnyMetadata::Root(root.clone());
        let own = super::authorities(&root, "root", None, None).map_err(|source| {
            RequestError::Authorities {
                role: "root".into(),
                source,
            }
        })?;
        if let Some(r) = super::status(&root, "root", &own)
            .into_iter()
            .find(|r| !r.is_met())
        {
            return Err(DasError::TrustedRootUnverified {
                report: r.summary(),
            });
        }
        let Some(value) = &self.trusted_targets else {
            return Err(DasError::NoTrustedTargets {
                role: role.to_owned(),
            });
        };
        let targets = read(TRUSTED_TARGETS, value)?;
        let auths =
            super::authorities(&targets, "targets", None, Some(&root)).map_err(|source| {
                RequestError::Authorities {
                    role: "targets".into(),
                    source,
                }
            })?;
        if let Some(r) = super::status(&targets, "targets", &auths)
            .into_iter()
            .find(|r| !r.is_met())
        {
            return Err(DasError::TrustedTargetsUnverified {
                report: r.summary(),
            });
        }
        Ok(targets)
    }
}

/// Read one member of the document as metadata.
fn read(member: &str, value: &Value) -> Result<AnyMetadata, DasError> {
    AnyMetadata::from_value(value.clone()).map_err(|source| DasError::Metadata {
        member: member.to_owned(),
        source,
    })
}

/// The document's canonical signed bytes, when conclave's reading of the metadata gives back
/// exactly those bytes ([`DasError::BytesDiffer`] otherwise).
fn same_bytes(role: &str, value: &Value, md: &AnyMetadata) -> Result<Vec<u8>, DasError> {
    let document = value
        .get("signed")
        .map(cjson::to_canonical)
        .unwrap_or_default();
    let ours = SignedText::of_metadata(md);
    if ours.whole().as_ref() != document.as_slice() {
        return Err(DasError::BytesDiffer {
            role: role.to_owned(),
            document: super::transcript::sha256_hex(&document),
            model: ours.sha256_hex(),
        });
    }
    Ok(document)
}

/// Every signature the pending metadata carries must verify over its signed bytes, by a key
/// that may sign it (RSTUF's bootstrap refuses anything else, and a signature that does not
/// verify means the bytes changed after it was made).
fn check_present(
    role: &str,
    md: &AnyMetadata,
    reports: &[SignatureReport],
) -> Result<(), DasError> {
    for sig in md.signatures() {
        if let Some((_, why)) = reports
            .iter()
            .flat_map(|r| r.invalid.iter())
            .find(|(k, _)| *k == sig.keyid)
        {
            return Err(DasError::BadSignature {
                role: role.to_owned(),
                keyid: sig.keyid.clone(),
                why: why.clone(),
            });
        }
        if reports.iter().all(|r| r.unknown.contains(&sig.keyid)) {
            return Err(DasError::UnknownSignature {
                role: role.to_owned(),
                keyid: sig.keyid.clone(),
            });
        }
    }
    Ok(())
}

/// A checked pending role, ready to be signed.
#[derive(Debug)]
pub struct DasRequest {
    request: SigningRequest,
    /// The document's canonical signed bytes (what RSTUF verifies signatures over).
    signed: Vec<u8>,
    reports: Vec<SignatureReport>,
}

impl DasRequest {
    /// The signing request: its review, digest and who may sign.
    pub fn request(&self) -> &SigningRequest {
        &self.request
    }

    /// The signing request, to mark revoked keys or allow foreign keyids.
    pub fn request_mut(&mut self) -> &mut SigningRequest {
        &mut self.request
    }

    /// Who has signed the pending metadata already, and who still must, against each set of
    /// keys that must reach its threshold.
    pub fn reports(&self) -> &[SignatureReport] {
        &self.reports
    }

    /// Sign with `signer` (which must be allowed to sign), and check the signature over the
    /// document's signed bytes with the key the metadata lists under the signer's keyid, as
    /// RSTUF's worker will.
    pub fn sign(
        &self,
        signer: &dyn crate::signer::Signer,
        spool_dir: Option<&std::path::Path>,
    ) -> Result<DasSignature, DasError> {
        let keyid = signer.public_key().keyid();
        self.request.may_sign(&keyid)?;
        let detached = self.request.sign(signer, spool_dir)?;
        self.check(detached.signature)
    }

    /// [`DasRequest::sign`]'s last step: `signature` must verify over the document's bytes.
    fn check(&self, signature: Signature) -> Result<DasSignature, DasError> {
        let role = self.request.role().to_owned();
        let fail = |why: String| DasError::SignatureCheck {
            role: role.clone(),
            keyid: signature.keyid.clone(),
            why,
        };
        let key: Option<&Key> = self
            .request
            .authorities()
            .unwrap_or_default()
            .iter()
            .filter(|a| a.keyids.contains(&signature.keyid))
            .find_map(|a| a.keys.get(&signature.keyid));
        let key = key.ok_or_else(|| fail("the metadata lists no such key".into()))?;
        key.verify(&self.signed, &signature.sig)
            .map_err(|e| fail(e.to_string()))?;
        Ok(DasSignature { role, signature })
    }
}

/// One signature for a pending role: the body of `POST /api/v1/metadata/sign`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DasSignature {
    /// The pending role.
    pub role: String,
    /// The signature (keyid and hex signature).
    pub signature: Signature,
}

impl DasSignature {
    /// `{"role": ROLE, "signature": {"keyid": KEYID, "sig": SIG}}`, pretty-printed, as RSTUF's
    /// API takes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut sig = Map::new();
        sig.insert(
            "keyid".into(),
            Value::String(self.signature.keyid.as_str().to_string()),
        );
        sig.insert("sig".into(), Value::String(self.signature.sig.clone()));
        let mut body = Map::new();
        body.insert("role".into(), Value::String(self.role.clone()));
        body.insert("signature".into(), Value::Object(sig));
        cjson::to_pretty(&Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::request::tests::officer;
    use crate::metadata::{Common, Expires, RoleKeys, Threshold, Version};
    use crate::signer::{SignMetadata as _, Signer as _};

    /// Root `version`: root keys officers 1 and 2 (2 of 2), the online roles officer 9's.
    fn root(version: u64) -> Metadata<Root> {
        let (a, b, on) = (
            officer(1).public_key().clone(),
            officer(2).public_key().clone(),
            officer(9).public_key().clone(),
        );
        let mut roles = BTreeMap::new();
        roles.insert(
            "root".to_owned(),
            RoleKeys::new(vec![a.keyid(), b.keyid()], Threshold::new(2).unwrap()),
        );
        for r in ["targets", "snapshot", "timestamp"] {
            roles.insert(
                r.to_owned(),
                RoleKeys::new(vec![on.keyid()], Threshold::new(1).unwrap()),
            );
        }
        Metadata::new(Root {
            common: Common::new(
                Version::new(version).unwrap(),
                Expires::parse("2100-01-01T00:00:00Z").unwrap(),
            ),
            consistent_snapshot: Some(true),
            keys: BTreeMap::from([(a.keyid(), a), (b.keyid(), b), (on.keyid(), on)]),
            roles,
            extra: Map::new(),
        })
    }

    fn signed_by(mut m: Metadata<Root>, officers: &[u8]) -> Metadata<Root> {
        for n in officers {
            m.sign(&officer(*n)).unwrap();
        }
        m
    }

    fn document(members: &[(&str, Value)]) -> Vec<u8> {
        let mut md = Map::new();
        for (n, v) in members {
            md.insert((*n).to_owned(), v.clone());
        }
        let mut data = Map::new();
        data.insert("metadata".into(), Value::Object(md));
        let mut top = Map::new();
        top.insert("data".into(), Value::Object(data));
        top.insert("message".into(), Value::String("pending".into()));
        cjson::to_pretty(&Value::Object(top))
    }

    #[test]
    fn a_partly_signed_bootstrap_root_is_signed_for_rstuf() {
        let doc = document(&[("root", signed_by(root(1), &[1]).to_value())]);
        let p = Pending::parse(&doc).unwrap();
        assert_eq!(p.choose(None).unwrap(), "root");
        let req = p.request("root", None).unwrap();
        assert_eq!(req.reports()[0].valid.len(), 1);
        let out = req.sign(&officer(2), None).unwrap();
        assert_eq!(out.role, "root");
        assert_eq!(out.signature.keyid, officer(2).public_key().keyid());
        let body = cjson::parse(&out.to_bytes()).unwrap();
        assert_eq!(body.get("role").and_then(Value::as_str), Some("root"));
        let sig = body.get("signature").unwrap();
        let signed = root(1).signed_bytes();
        officer(2)
            .public_key()
            .verify(&signed, sig.get("sig").and_then(Value::as_str).unwrap())
            .unwrap();
        // A key that is not a root key may not sign.
        assert!(matches!(
            req.sign(&officer(9), None),
            Err(DasError::Request(RequestError::KeyNotAllowed { .. }))
        ));
        // A bootstrap root is not checked against another root.
        assert!(matches!(
            p.request("root", Some(signed_by(root(1), &[1, 2]))),
            Err(DasError::TrustedRootForBootstrap)
        ));
    }

    #[test]
    fn metadata_changed_after_it_was_signed_is_refused() {
        let mut v = signed_by(root(1), &[1]).to_value();
        if let Value::Object(m) = &mut v
            && let Some(Value::Object(s)) = m.get_mut("signed")
        {
            s.insert(
                "expires".into(),
                Value::String("2099-01-01T00:00:00Z".into()),
            );
        }
        let p = Pending::parse(&document(&[("root", v)])).unwrap();
        let e = p.request("root", None).unwrap_err();
        assert!(matches!(e, DasError::BadSignature { .. }), "{e:?}");
        // A signature by a key that may not sign the root.
        let stray = signed_by(root(1), &[9]).to_value();
        let p = Pending::parse(&document(&[("root", stray)])).unwrap();
        let e = p.request("root", None).unwrap_err();
        assert!(matches!(e, DasError::UnknownSignature { .. }), "{e:?}");
    }

    #[test]
    fn a_signature_over_other_bytes_is_never_returned() {
        let p = Pending::parse(&document(&[("root", root(1).to_value())])).unwrap();
        let mut req = p.request("root", None).unwrap();
        req.signed = root(2).signed_bytes();
        let e = req.sign(&officer(1), None).unwrap_err();
        assert!(matches!(e, DasError::SignatureCheck { .. }), "{e:?}");
    }

    #[test]
    fn a_root_update_is_checked_against_the_root_in_use() {
        let v1 = signed_by(root(1), &[1, 2]);
        let doc = document(&[
            ("root", root(2).to_value()),
            ("trusted_root", v1.to_value()),
        ]);
        let p = Pending::parse(&doc).unwrap();
        assert!(matches!(
            p.request("root", None),
            Err(DasError::NeedTrustedRoot { is_root: true, .. })
        ));
        let req = p.request("root", Some(v1.clone())).unwrap();
        assert_eq!(req.reports().len(), 2, "the old and the new root's keys");
        req.sign(&officer(1), None).unwrap();
        // An unsigned root in use is refused.
        assert!(matches!(
            p.request("root", Some(root(1))),
            Err(DasError::Request(RequestError::PreviousUnverified { .. }))
        ));
        // The online side trusting another root than the officer is refused.
        let mut other = root(1);
        other.signed.common.expires = Expires::parse("2099-01-01T00:00:00Z").unwrap();
        let other = signed_by(other, &[1, 2]);
        let doc = document(&[
            ("root", root(2).to_value()),
            ("trusted_root", other.to_value()),
        ]);
        let e = Pending::parse(&doc)
            .unwrap()
            .request("root", Some(v1))
            .unwrap_err();
        assert!(matches!(e, DasError::TrustedRootDiffers { .. }), "{e:?}");
        let e = Pending::parse(&document(&[("root", root(3).to_value())]))
            .unwrap()
            .request("root", Some(signed_by(root(1), &[1, 2])))
            .unwrap_err();
        assert!(matches!(e, DasError::TrustedRootVersion { .. }), "{e:?}");
    }

    #[test]
    fn malformed_documents_are_named() {
        for (doc, want) in [
            (&b"[]"[..], "the document is an array"),
            (&b"{\"message\": \"x\"}"[..], "no \"data\""),
            (&b"{\"data\": {}}"[..], "no \"data\".\"metadata\" object"),
            (
                &b"{\"data\": {\"metadata\": {\"root\": 3}}}"[..],
                "not metadata",
            ),
            (&b"{\"data\": {\"metadata\": {}}}"[..], "no role is pending"),
            (
                &b"{\"data\": {\"metadata\": {\"root\": {}}}} x"[..],
                "not JSON",
            ),
        ] {
            let e = Pending::parse(doc).unwrap_err();
            assert!(e.to_string().contains(want), "{e} / {want}");
        }
        let e = Pending::parse(b"{\"data\": null, \"message\": \"none\"}").unwrap_err();
        assert!(matches!(e, DasError::NothingPending { .. }));
        let two = document(&[
            ("root", root(1).to_value()),
            ("claimed", root(1).to_value()),
        ]);
        let p = Pending::parse(&two).unwrap();
        assert!(matches!(
            p.choose(None),
            Err(DasError::SeveralPending { .. })
        ));
        assert!(matches!(
            p.choose(Some("bins")),
            Err(DasError::NotPending { .. })
        ));
        let e = p.request("claimed", None).unwrap_err();
        assert!(
            matches!(e, DasError::Request(RequestError::NotThisRole { .. })),
            "{e:?}"
        );
        for e in [
            e,
            DasError::NeedTrustedRoot {
                role: "r".into(),
                version: 2,
                is_root: true,
            },
        ] {
            assert!(!e.to_string().contains("--"), "no CLI flags in {e}");
        }
    }
}
