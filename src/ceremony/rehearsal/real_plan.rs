//! `conclave ceremony rehearse --plan PLAN`: the officers' own plan, end to end, with a
//! throwaway key in place of every key.
//!
//! The plan is copied as it is to `DIR/plan.toml`; each public key file it names is written
//! at the same relative path under `DIR`, holding a throwaway key instead (Ed25519, or ECDSA
//! P-256 for a YubiKey, whose PIV applet has no Ed25519), made from a seed derived from the
//! path and printed in this source, so the keys protect nothing. The officers, roles,
//! thresholds, layout and expiry rules are the plan's own; every officer is played from
//! memory (no passphrase, token or YubiKey is touched). Genesis, every officer's signature,
//! merge, verification, the export bundle and the transcript are what the real ceremony will
//! produce, marked as rehearsal material, to be reviewed and published before it.

use std::path::{Component, Path};

use super::{Outcome, Rehearsal, RehearsalError, Result, Say, io, prepare, seed, step};
use crate::ceremony::export;
use crate::ceremony::plan::{KeySource, Plan};
use crate::cjson;
use crate::metadata::{AnyMetadata, Expires, Key};
use crate::signer::{Ed25519Signer, P256Signer, Signer};
use crate::verify;

/// The throwaway signer for the key whose public key file the plan names `path`.
fn throwaway(path: &str, p256: bool) -> Result<Box<dyn Signer>> {
    let s = seed(&format!("plan-key/{path}"));
    if p256 {
        let signer =
            P256Signer::from_scalar(&s).map_err(step(format!("throwaway key for {path}")))?;
        Ok(Box::new(signer))
    } else {
        Ok(Box::new(Ed25519Signer::from_seed(&s)))
    }
}

/// A plan's key path must stay inside the rehearsal directory.
fn inside(path: &str) -> bool {
    let p = Path::new(path);
    !p.as_os_str().is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Rehearse `plan_text` (the officers' plan) into `dir` (new or empty).
pub fn run_plan(dir: &Path, plan_text: &str, say: Say<'_>) -> Result<Outcome> {
    // The sources of the keys first (with stand-in keys), to know which key types to make.
    let sources = Plan::parse(plan_text, &mut |_: &str| {
        Ok::<Key, String>(Ed25519Signer::from_seed(&[1; 32]).public_key().clone())
    })
    .map_err(step("the plan"))?;
    // Nothing is written for a plan whose key files the rehearsal could not put under DIR.
    for (name, k) in &sources.keys {
        if !inside(&k.public_key_path) {
            return Err(RehearsalError::Step {
                step: format!("key {name}"),
                source: format!(
                    "its public key file \"{}\" is not a relative path inside the plan's \
                     directory; the rehearsal writes throwaway keys there",
                    crate::display::escape(&k.public_key_path)
                )
                .into(),
            });
        }
    }
    prepare(dir)?;
    let mut r = Rehearsal::new(dir, say);
    r.begin()?;
    r.step("The officers' plan, with a throwaway key in place of every key");
    r.write("plan.toml", plan_text.as_bytes())?;
    for (name, k) in &sources.keys {
        let p256 = matches!(k.source, KeySource::YubiKey { .. });
        let signer = throwaway(&k.public_key_path, p256)?;
        let path = dir.join(&k.public_key_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        r.write(
            &k.public_key_path,
            &cjson::to_pretty(&signer.public_key().to_value()),
        )?;
        r.detail(format!(
            "{name} ({}{}): throwaway key {}",
            k.source.kind(),
            k.officer
                .as_deref()
                .map(|o| format!(", held by {o}"))
                .unwrap_or_default(),
            signer.public_key().keyid()
        ));
        r.signers.insert(name.clone(), signer);
    }
    let plan = r.load_plan("plan.toml")?;
    r.check_plan(&plan, "plan.toml")?;
    let (root1, targets1) = genesis_of(&mut r, &plan)?;
    let bundle = export_of(&mut r, &plan, &root1, &targets1)?;
    let (transcript_lines, transcript_head) = head_of(&mut r, &plan)?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        bundle,
        root_versions: 1,
        claimed_projects: 0,
        transcript_lines,
        transcript_head,
    })
}

/// The plan's keys for `role` that are not online (those an officer signs with).
fn signing_keys(plan: &Plan, role: &str) -> Vec<String> {
    plan.all_roles()
        .into_iter()
        .find(|(r, _)| *r == role)
        .map(|(_, rp)| {
            plan.role_keys(rp)
                .into_iter()
                .filter(|k| k.source != KeySource::Online)
                .map(|k| k.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Genesis from the plan: root v1 and targets v1, every officer of each role signing.
fn genesis_of(r: &mut Rehearsal<'_>, plan: &Plan) -> Result<(AnyMetadata, AnyMetadata)> {
    r.step("Genesis from the plan: draft root v1 and targets v1, sign, merge");
    let (root1, targets1) = r.draft_genesis(plan)?;
    let root_keys = signing_keys(plan, "root");
    let refs: Vec<&str> = root_keys.iter().map(String::as_str).collect();
    let sigs = r.sign_all(&root1, "root", "1.root", &refs)?;
    let root1 = r.merge(&root1, "root", &sigs, None, None, "repository/1.root.json")?;
    let targets_keys = signing_keys(plan, "targets");
    let refs: Vec<&str> = targets_keys.iter().map(String::as_str).collect();
    let sigs = r.sign_all(&targets1, "targets", "1.targets", &refs)?;
    let targets1 = r.merge(
        &targets1,
        "targets",
        &sigs,
        None,
        Some(&root1),
        "repository/1.targets.json",
    )?;
    Ok((root1, targets1))
}

/// Verify the repository, export the bundle (named as the plan names the keys), verify it.
fn export_of(
    r: &mut Rehearsal<'_>,
    plan: &Plan,
    _root1: &AnyMetadata,
    _targets1: &AnyMetadata,
) -> Result<std::path::PathBuf> {
    r.step("Verify the repository and export the bundle");
    let files = super::read_dir_json(&r.path("repository"))?;
    let report = verify::verify_repository(&files, None, Expires::now());
    if !report.is_ok() {
        return Err(RehearsalError::Unverified {
            dir: "repository/".into(),
            problems: report
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.file, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    r.record(
        "verify repository/: every check holds",
        &[],
        &[],
        vec![],
        None,
    )?;
    let names = crate::ceremony::names::KeyNames::from_plan(plan);
    let bundle = export::build(&files, Expires::now(), export::Format::Plain, &names)
        .map_err(step("export repository/"))?;
    let bundle_dir = r.path("bundle");
    export::write_bundle(&bundle_dir, &bundle).map_err(io(&bundle_dir))?;
    let outs: Vec<String> = bundle.files.keys().map(|n| format!("bundle/{n}")).collect();
    let out_refs: Vec<&str> = outs.iter().map(String::as_str).collect();
    r.record(
        "export repository/ -o bundle (plain)",
        &[],
        &out_refs,
        vec![],
        None,
    )?;
    let exported = super::read_dir_json(&bundle_dir)?;
    if !verify::verify_repository(&exported, None, Expires::now()).is_ok() {
        return Err(RehearsalError::BundleUnverified);
    }
    Ok(bundle_dir)
}

/// The transcript's head, signed by the first root key of the plan.
fn head_of(r: &mut Rehearsal<'_>, plan: &Plan) -> Result<(u64, String)> {
    r.step("Transcript: check the chain and sign its head");
    let signer_name = signing_keys(plan, "root")
        .into_iter()
        .next()
        .ok_or_else(|| RehearsalError::NoSigner {
            name: "root".into(),
        })?;
    let file = r.path(crate::ceremony::transcript::FILE_NAME);
    let lines = crate::ceremony::transcript::read(&file).map_err(step("transcript"))?;
    let head = crate::ceremony::transcript::sign_head(&lines, r.signers[&signer_name].as_ref())
        .map_err(step("transcript head"))?;
    let rel = format!("transcript-head.{signer_name}.sig");
    r.write(&rel, &head.to_bytes())?;
    r.record(
        &format!(
            "transcript head (line {}) signed by {signer_name}",
            head.seq
        ),
        &[],
        &[&rel],
        vec![head.signature.keyid.to_raw_string()],
        None,
    )?;
    let lines = crate::ceremony::transcript::read(&file).map_err(step("transcript"))?;
    let last = lines.last().ok_or(RehearsalError::EmptyTranscript)?;
    Ok((last.seq, last.hash.clone()))
}
