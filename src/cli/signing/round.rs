//! Signing rounds: `sign`, `merge` and `status` over a directory of drafts.
//!
//! A claim round with claimed bins drafts every bin that changes into one directory (thousands
//! of files at PyPI's scale). Signing them one command at a time would mean thousands of
//! passphrase prompts and digests to compare. Given a directory, `sign` shows every file and
//! one round digest to compare aloud, unlocks the key once, signs every file and writes one
//! detached signature per file into a new directory; `merge` takes the officers' signature
//! directories and merges every file, or nothing; `status` says who still has to sign what.
//! Each signature is the same detached file a single `sign` writes (`FILE.sig`), so any one of
//! them can still be checked or merged alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conclave::ceremony::{self, Authority, DetachedSignature, review};
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, KeyId};
use conclave::verify::SignatureReport;

use super::{Context, MergeArgs, SignArgs, StatusArgs};
use crate::cli::prompt::Prompter;
use crate::cli::{Failure, exit, read_file, read_metadata, shown, write_output};

/// The suffix of a round's signature files: `7.claimed-bins-0a3.json.sig`.
const SIG_SUFFIX: &str = ".sig";

/// One draft of a round, as reviewed.
struct Draft {
    /// The file name inside the round directory.
    name: String,
    path: PathBuf,
    role: String,
    version: u64,
    expires: String,
    /// Hex SHA-256 of the signed bytes.
    digest: String,
}

/// The flags a round cannot take: each file's role comes from its name, and root rotations
/// (--previous) are signed one file at a time.
fn refuse_single_file_flags(ctx: &Context) -> Result<(), Failure> {
    if ctx.previous.is_some() {
        return Err(Failure::usage(
            "--previous is for a root rotation, which is signed one file at a time, not as a directory",
        ));
    }
    if ctx.role.is_some() {
        return Err(Failure::usage(
            "--role cannot be given for a directory: each file's name (V.ROLE.json) says its role",
        ));
    }
    Ok(())
}

fn unreadable_dir(dir: &Path, e: &std::io::Error) -> Failure {
    Failure::usage(format!(
        "{}: cannot read the directory: {}",
        shown(dir),
        crate::cli::io_reason(e)
    ))
}

/// The metadata files of a round directory (`*.json`), sorted by name.
fn round_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| unreadable_dir(dir, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| unreadable_dir(dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Failure::usage(format!(
            "{}: the directory holds no metadata (.json) files",
            shown(dir)
        ))
        .hint(
            "give the directory `pypi claim`, `pypi unclaim` or `pypi revoke-developer-key` wrote",
        ));
    }
    Ok(files)
}

/// The delegator every file of a round is checked against.
fn delegator(ctx: &Context) -> Result<AnyMetadata, Failure> {
    let path = ctx.delegator.as_deref().ok_or_else(|| {
        Failure::usage("a round (a directory of drafts) needs --delegator")
            .hint("give the signed metadata that delegates to the drafts' roles, e.g. --delegator repo/1.claimed.json for claimed bins")
    })?;
    read_metadata(path)
}

/// Read one draft: its metadata, role (from its name) and who may sign it.
fn load_draft(
    name: &str,
    path: &Path,
    parent: &AnyMetadata,
) -> Result<(Draft, AnyMetadata, Vec<Authority>), Failure> {
    let file = crate::cli::read_metadata(path)?;
    let md = &file;
    let role = ceremony::role_name(md, Some(name));
    let auths = ceremony::authorities(md, &role, None, Some(parent)).map_err(|e| {
        Failure::usage(format!(
            "{}: {}",
            shown(path),
            crate::cli::authorities_message(&e)
        ))
    })?;
    let c = md.common();
    let draft = Draft {
        name: name.to_owned(),
        path: path.to_path_buf(),
        role,
        version: c.version.get(),
        expires: c.expires.to_string(),
        digest: conclave::metadata::SignedText::of_metadata(md).sha256_hex(),
    };
    Ok((draft, file, auths))
}

/// Read every draft of the round (one at a time: a round at PyPI's scale is hundreds of
/// megabytes), keeping what the review and the checks need.
fn review_round(
    files: &[(String, PathBuf)],
    parent: &AnyMetadata,
) -> Result<Vec<(Draft, Vec<Authority>)>, Failure> {
    let bar = crate::cli::progress::Step::counted(
        format!("Reading {} drafts", files.len()),
        files.len() as u64,
    );
    let mut drafts = Vec::with_capacity(files.len());
    for (name, path) in files {
        let (draft, _, auths) = load_draft(name, path, parent)?;
        drafts.push((draft, auths));
        bar.inc(1);
    }
    Ok(drafts)
}

fn round_digest(drafts: &[(Draft, Vec<Authority>)]) -> String {
    ceremony::detached::round_digest(
        drafts
            .iter()
            .map(|(d, _)| (d.name.as_str(), d.digest.as_str())),
    )
}

fn print_digest(label: &str, digest: &str) {
    let (hex_groups, words) = review::digest_for_reading(digest);
    eprintln!("{label}");
    eprintln!("  {hex_groups}");
    for line in &words {
        eprintln!("  {line}");
    }
}

pub(super) fn sign_round(a: &SignArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx)?;
    if a.qr {
        return Err(Failure::usage(
            "--qr shows one signature; a round's signatures are carried as a directory",
        ));
    }
    if a.output.exists() {
        return Err(Failure::usage(format!(
            "-o {}: already exists; a round's signatures go into a new directory",
            shown(&a.output)
        )));
    }
    let recorder = crate::cli::record::Recorder::find(&[&a.output, &a.file])?;
    let files = round_files(&a.file)?;
    let parent = delegator(&a.ctx)?;
    let drafts = review_round(&files, &parent)?;

    eprintln!(
        "You are about to sign the {} drafts in {}:",
        drafts.len(),
        shown(&a.file)
    );
    for (d, _) in &drafts {
        eprintln!(
            "  {}  role {}, version {}, expires {}, payload {}",
            escape(&d.name),
            escape(&d.role),
            d.version,
            d.expires,
            &d.digest[..16]
        );
    }
    print_digest(
        "Round digest (SHA-256 over every file's payload digest and name) - compare it aloud:",
        &round_digest(&drafts),
    );

    // The key must be allowed to sign every draft, checked before it is unlocked.
    let check_allowed = |keyid: &KeyId| -> Result<(), Failure> {
        let refused: Vec<&str> = drafts
            .iter()
            .filter(|(_, auths)| !auths.iter().any(|au| au.keyids.contains(keyid)))
            .map(|(d, _)| d.name.as_str())
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        Err(Failure::failed(format!(
            "key {keyid} may not sign {} of the {} drafts (first: {}); nothing was signed",
            refused.len(),
            drafts.len(),
            escape(refused[0])
        ))
        .hint("check you brought the right key, and that --delegator is the metadata that delegates to these roles"))
    };
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let signer = super::open_signer(a, &mut prompter, &check_allowed)?;

    // Read each draft again and sign it; a draft whose bytes changed since the review above is
    // refused (the officer compared the digest of what was shown, not of what is there now).
    let bar = crate::cli::progress::Step::counted(
        format!("Signing {} drafts", drafts.len()),
        drafts.len() as u64,
    );
    let mut out: Vec<(String, Vec<u8>)> = Vec::with_capacity(drafts.len());
    let mut keyid = None;
    for (d, _) in &drafts {
        let (again, file, _) = load_draft(&d.name, &d.path, &parent)?;
        if again.digest != d.digest {
            return Err(Failure::failed(format!(
                "{}: changed since it was shown for review; nothing was written",
                shown(&d.path)
            ))
            .hint("make sure nothing writes to the round directory, and sign again"));
        }
        let detached = ceremony::sign_detached(&file, &d.role, signer.as_ref(), a.output.parent())
            .map_err(|e| super::sign_failure(a, e))?;
        keyid = Some(detached.signature.keyid.clone());
        out.push((format!("{}{SIG_SUFFIX}", d.name), detached.to_bytes()));
        bar.inc(1);
    }
    drop(bar);
    crate::cli::write_new_dir(&a.output, &out, "already exists")?;
    let keyid = keyid.map(|k| k.to_string()).unwrap_or_default();
    eprintln!(
        "Wrote {} signatures by {keyid} to {}/ (one FILE.sig per draft).",
        out.len(),
        shown(&a.output)
    );
    let inputs: Vec<&Path> = drafts.iter().map(|(d, _)| d.path.as_path()).collect();
    crate::cli::record::step(
        &recorder,
        format!("sign round of {} drafts", drafts.len()),
        &inputs,
        &[&a.output],
        vec![keyid],
    )?;
    eprintln!(
        "Next: hand the directory to whoever merges (`conclave merge {} SIGDIR... --delegator ... -o OUT`); it holds no secret.",
        shown(&a.file)
    );
    Ok(exit::OK)
}

/// The signature files of each officer's directory, by the draft they are for. A signature
/// for a file that is not in the round is refused: it is the wrong directory, or a stale one.
fn signature_dirs(
    dirs: &[PathBuf],
    drafts: &[(String, PathBuf)],
) -> Result<Vec<BTreeMap<String, PathBuf>>, Failure> {
    let mut out = Vec::with_capacity(dirs.len());
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Failure::usage(format!(
                "{}: not a directory; with a directory of drafts, give the signature directories `conclave sign` wrote",
                shown(dir)
            )));
        }
        let mut sigs = BTreeMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| unreadable_dir(dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable_dir(dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(draft) = name.strip_suffix(SIG_SUFFIX) else {
                continue;
            };
            if !drafts.iter().any(|(n, _)| n == draft) {
                return Err(Failure::failed(format!(
                    "{}: a signature for {}, which is not in this round; nothing was merged or written",
                    shown(&entry.path()),
                    escape(draft)
                ))
                .hint("check each signature directory belongs to this round's drafts"));
            }
            sigs.insert(draft.to_owned(), entry.path());
        }
        out.push(sigs);
    }
    Ok(out)
}

pub(super) fn merge_round(a: &MergeArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx)?;
    let recorder = crate::cli::record::Recorder::find(&[&a.output, &a.file])?;
    let files = round_files(&a.file)?;
    let parent = delegator(&a.ctx)?;
    let sig_dirs = signature_dirs(&a.sigfiles, &files)?;

    let bar = crate::cli::progress::Step::counted(
        format!("Checking the signatures on {} drafts", files.len()),
        files.len() as u64,
    );
    let mut merged: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len());
    let mut errors: Vec<String> = Vec::new();
    let mut incomplete: Vec<(String, Vec<SignatureReport>)> = Vec::new();
    let mut added_keyids = std::collections::BTreeSet::new();
    let mut sig_paths: Vec<PathBuf> = Vec::new();
    for (name, path) in &files {
        let (draft, file, auths) = load_draft(name, path, &parent)?;
        let mut sigs = Vec::new();
        for dir in &sig_dirs {
            if let Some(p) = dir.get(name) {
                match DetachedSignature::parse(&read_file(p)?) {
                    Ok(d) => sigs.push((shown(p), d)),
                    Err(e) => errors.push(format!("{}: {e}", shown(p))),
                }
                sig_paths.push(p.clone());
            }
        }
        match ceremony::merge(&file, &draft.role, &sigs, &auths) {
            Err(rejections) => {
                errors.extend(
                    rejections
                        .iter()
                        .map(|r| format!("{}: {}", r.file, r.reason)),
                );
            }
            Ok(outcome) => {
                added_keyids.extend(outcome.added.iter().map(|(k, _)| k.to_string()));
                if !outcome.complete() {
                    incomplete.push((name.clone(), outcome.reports.clone()));
                }
                let mut md = file;
                outcome.apply(&mut md);
                merged.push((name.clone(), md.to_file_bytes()));
            }
        }
        bar.inc(1);
    }
    drop(bar);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        return Err(Failure::failed(format!(
            "{} signature file(s) refused; nothing was merged or written",
            errors.len()
        )));
    }
    for (name, reports) in &incomplete {
        eprintln!("{}: NOT YET complete", escape(name));
        super::print_reports(reports);
    }
    eprintln!(
        "{} of {} drafts meet every threshold.",
        files.len() - incomplete.len(),
        files.len()
    );
    if !incomplete.is_empty() && !a.allow_partial {
        return Err(Failure::failed(format!(
            "{} draft(s) are below their threshold; nothing was written to {}",
            incomplete.len(),
            shown(&a.output)
        ))
        .hint("gather the missing signatures, or give --allow-partial to save progress"));
    }

    // A new directory is written whole or not at all; into an existing one (the repository),
    // each file is replaced atomically.
    let outputs: Vec<PathBuf> = merged.iter().map(|(n, _)| a.output.join(n)).collect();
    if a.output.is_dir() {
        for ((_, bytes), out) in merged.iter().zip(&outputs) {
            write_output(out, bytes)?;
        }
    } else {
        crate::cli::write_new_dir(&a.output, &merged, "already exists and is not a directory")?;
    }
    eprintln!(
        "Wrote {} file(s) to {}/{}",
        merged.len(),
        shown(&a.output),
        if incomplete.is_empty() {
            ". Next: `conclave verify` them with the rest of the repository."
        } else {
            " with partial signatures (--allow-partial): not yet valid."
        }
    );
    let mut inputs: Vec<&Path> = files.iter().map(|(_, p)| p.as_path()).collect();
    inputs.extend(sig_paths.iter().map(PathBuf::as_path));
    let outs: Vec<&Path> = outputs.iter().map(PathBuf::as_path).collect();
    crate::cli::record::step(
        &recorder,
        format!(
            "merge round of {} drafts{}",
            files.len(),
            if incomplete.is_empty() {
                ""
            } else {
                " (partial)"
            }
        ),
        &inputs,
        &outs,
        added_keyids.into_iter().collect(),
    )?;
    Ok(exit::OK)
}

pub(super) fn status_round(a: &StatusArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx)?;
    let files = round_files(&a.file)?;
    let parent = delegator(&a.ctx)?;
    let mut all: Vec<(Draft, Vec<SignatureReport>)> = Vec::with_capacity(files.len());
    for (name, path) in &files {
        let (draft, file, auths) = load_draft(name, path, &parent)?;
        let reports = ceremony::status(&file, &draft.role, &auths);
        all.push((draft, reports));
    }
    let complete = all
        .iter()
        .filter(|(_, r)| r.iter().all(SignatureReport::is_met))
        .count();
    if a.json {
        use conclave::cjson::Value;
        let v = Value::Array(
            all.iter()
                .map(|(d, reports)| {
                    Value::Object(
                        [
                            ("file".to_owned(), Value::from(d.name.as_str())),
                            ("role".to_owned(), Value::from(d.role.as_str())),
                            (
                                "reports".to_owned(),
                                Value::Array(
                                    reports.iter().map(SignatureReport::to_json).collect(),
                                ),
                            ),
                        ]
                        .into_iter()
                        .collect(),
                    )
                })
                .collect(),
        );
        print!(
            "{}",
            String::from_utf8_lossy(&conclave::cjson::to_pretty(&v))
        );
    } else {
        println!(
            "{}: {complete} of {} drafts meet every threshold{}",
            shown(&a.file),
            all.len(),
            if complete == all.len() {
                " - COMPLETE"
            } else {
                ""
            }
        );
        for (d, reports) in &all {
            if reports.iter().all(SignatureReport::is_met) {
                continue;
            }
            println!(
                "  {} (role {}, version {}):",
                escape(&d.name),
                escape(&d.role),
                d.version
            );
            for r in reports {
                let must: Vec<String> = r.missing.iter().map(|k| k.short().to_string()).collect();
                println!(
                    "    {}: {} of {} needed; must sign: {}",
                    r.keys_from,
                    r.valid.len(),
                    r.threshold,
                    must.join(", ")
                );
            }
        }
    }
    Ok(if a.check && complete != all.len() {
        exit::FAILED
    } else {
        exit::OK
    })
}
