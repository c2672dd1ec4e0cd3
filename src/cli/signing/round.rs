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

use std::path::{Path, PathBuf};

use conclave::ceremony::repository::Entry;
use conclave::ceremony::review;
use conclave::ceremony::round::{self, Delegators, Draft, RoundError};
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, KeyId};
use conclave::verify::SignatureReport;

use super::{Context, MergeArgs, SignArgs, StatusArgs};
use crate::cli::prompt::Prompter;
use crate::cli::{Failure, exit, read_file, read_metadata, shown, write_output};

/// The command line's words for a round step that cannot go ahead. Errors of signing itself
/// are mapped by the caller, which knows the signer (a token's failure is a device error).
impl From<RoundError> for Failure {
    fn from(e: RoundError) -> Self {
        match e {
            RoundError::List(e) => Failure::usage(format!(
                "{}: cannot read the directory: {}",
                shown(&e.path),
                crate::cli::io_reason(&e.source)
            )),
            RoundError::Empty { path } => Failure::usage(format!(
                "{}: the directory holds no metadata (.json) files",
                shown(&path)
            ))
            .hint(
                "give the directory `pypi claim`, `pypi unclaim` or `pypi revoke-developer-key` wrote",
            ),
            RoundError::Authorities { path, source } => Failure::usage(format!(
                "{}: {}",
                shown(&path),
                crate::cli::authorities_message(&source)
            )),
            e @ RoundError::KeyNotAllowed { .. } => Failure::failed(format!("{e}; nothing was signed"))
                .hint("check you brought the right key, and that --delegator is the metadata that delegates to these roles"),
            e @ RoundError::Changed { .. } => Failure::failed(format!("{e}; nothing was written"))
                .hint("make sure nothing writes to the round directory, and sign again"),
            RoundError::Sign { source, .. } => Failure::failed(source.to_string()),
            RoundError::NotADirectory { path } => Failure::usage(format!(
                "{}: not a directory; with a directory of drafts, give the signature directories `conclave sign` wrote",
                shown(&path)
            )),
            e @ RoundError::RootInRound { .. } => Failure::failed(format!(
                "{e}; nothing was signed, merged or written"
            ))
            .hint("take the root out of the round directory; sign and merge a root as one file with --previous PREV (the root it follows)"),
            RoundError::StoredAs { path, source } => Failure::failed(format!(
                "{}: {source}; nothing was signed, merged or written",
                shown(&path)
            ))
            .hint("a round's drafts are named V.ROLE.json after the role and version they hold"),
            e @ RoundError::ForeignKeys { .. } => Failure::failed(format!(
                "{e}; nothing was signed, merged or written"
            ))
            .hint("do not sign this round: a draft's keys are not what their keyids say; ask whoever drafted it why"),
            e @ RoundError::NotInRound { .. } => {
                Failure::failed(format!("{e}; nothing was merged or written"))
                    .hint("check each signature directory belongs to this round's drafts")
            }
        }
    }
}

/// The flags a round cannot take: each file's role comes from its name, and root rotations
/// (--previous PREV) are signed one file at a time. `sign` takes a directory as --previous: the
/// versions in use, for the round's change review.
fn refuse_single_file_flags(ctx: &Context, previous_dir: bool) -> Result<(), Failure> {
    if let Some(p) = &ctx.previous
        && !(previous_dir && p.is_dir())
    {
        return Err(Failure::usage(if previous_dir {
            "--previous for a round is the directory of the versions in use (the repository), \
             for the change review; a root rotation is signed one file at a time"
        } else {
            "--previous is for a root rotation, which is signed one file at a time, not as a directory"
        }));
    }
    if ctx.role.is_some() {
        return Err(Failure::usage(
            "--role cannot be given for a directory: each file's name (V.ROLE.json) says its role",
        ));
    }
    Ok(())
}

/// Who delegates to each draft of the round in `dir` ([`round::Delegators`]): the signed
/// --delegator, or a draft of the round that delegates to it; with the keys revoked in the
/// round (its revocation record, and --revoked).
fn delegators(ctx: &Context, dir: &Path, files: &[Entry]) -> Result<Delegators, Failure> {
    let path = ctx.delegator.as_deref().ok_or_else(|| {
        Failure::usage("a round (a directory of drafts) needs --delegator")
            .hint("give the signed metadata that delegates to the drafts' roles, e.g. --delegator repo/1.claimed.json for claimed bins")
    })?;
    let mut d = Delegators::find(files, read_metadata(path)?, &mut read_metadata)?;
    let mut revoked = super::read_revocation_record(dir)?;
    let known = d.keys();
    for given in &ctx.revoked {
        revoked.add(super::resolve_revoked(given, &known)?);
    }
    d.set_revoked(revoked);
    Ok(d)
}

/// Read every draft of the round for review, with a progress bar.
pub(crate) fn review_round(files: &[Entry], parent: &Delegators) -> Result<Vec<Draft>, Failure> {
    let bar = crate::cli::progress::Step::counted(
        format!("Reading {} drafts", files.len()),
        files.len() as u64,
    );
    round::review(files, parent, &mut read_metadata, &mut || bar.inc(1))
}

fn print_digest(label: &str, digest: &str) {
    let (hex_groups, words) = review::digest_for_reading(digest);
    eprintln!("{label}");
    eprintln!("  {hex_groups}");
    for line in &words {
        eprintln!("  {line}");
    }
}

/// The round's change review against the versions in use in `old`
/// ([`round::change_review`]), read with a progress bar.
pub(crate) fn changes(
    drafts: &[Draft],
    old: &Path,
    parent: &Delegators,
) -> Result<Vec<String>, Failure> {
    let bar = crate::cli::progress::Step::counted(
        format!("Comparing {} drafts with {}", drafts.len(), shown(old)),
        drafts.len() as u64,
    );
    round::change_review(drafts, old, parent, &mut read_metadata, &mut || bar.inc(1))
}

/// Show the round's change review (with the plan's names beside keyids); one too long for
/// the screen is written whole to `OUTPUT.review.txt`, and its SHA-256 returned to be read
/// aloud.
fn show_changes(
    drafts: &[Draft],
    old: &Path,
    parent: &Delegators,
    output: &Path,
    names: &crate::cli::names::Names,
) -> Result<Option<String>, Failure> {
    let text = changes(drafts, old, parent)?;
    eprintln!("Changes against the versions in use in {}:", shown(old));
    if text.len() <= super::REVIEW_LINES {
        for line in &text {
            eprintln!("{}", names.line(line));
        }
        return Ok(None);
    }
    let (path, sha) = crate::cli::write_review(output, &text)?;
    for line in text.iter().take(super::REVIEW_LINES / 2) {
        eprintln!("{}", names.line(line));
    }
    eprintln!(
        "  ... the change review has {} lines: all of them are in {} (read it before signing)",
        text.len(),
        shown(&path)
    );
    Ok(Some(sha))
}

pub(super) fn sign_round(a: &SignArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx, true)?;
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
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.file])?;
    let files = round::files(&a.file)?;
    let parent = delegators(&a.ctx, &a.file, &files)?;
    let drafts = review_round(&files, &parent)?;

    eprintln!(
        "You are about to sign the {} drafts in {}:",
        drafts.len(),
        shown(&a.file)
    );
    let expiry = super::ExpiryReview::of(
        drafts
            .iter()
            .map(|d| (escape(&d.name).into_owned(), d.role.as_str(), d.expires)),
    );
    for (d, when) in drafts.iter().zip(&expiry.lines) {
        eprintln!(
            "  {}  role {}, version {}, expires {when}, payload {}{}",
            escape(&d.name),
            escape(&d.role),
            d.version,
            &d.digest[..16],
            d.delegated_by
                .as_deref()
                .map(|by| format!(" (delegated by this round's {})", escape(by)))
                .unwrap_or_default()
        );
    }
    let names = crate::cli::names::Names::find(&a.names, &[&a.file, &a.output])?;
    let review_digest = match &a.ctx.previous {
        Some(old) => show_changes(&drafts, old, &parent, &a.output, &names)?,
        None => None,
    };
    expiry.print_warnings();
    print_digest(
        "Round digest (SHA-256 over every file's payload digest and name) - compare it aloud:",
        &round::round_digest(&drafts),
    );
    if let Some(sha) = review_digest {
        let (groups, _) = review::digest_for_reading(&sha);
        eprintln!(
            "Review file digest (SHA-256 of the whole change review) - compare it aloud too:"
        );
        eprintln!("  {groups}");
    }

    expiry.refuse_expired(a.allow_expired)?;

    // The key must be allowed to sign every draft, checked before it is unlocked.
    let check_allowed =
        |keyid: &KeyId| -> Result<(), Failure> { Ok(round::may_sign(&drafts, keyid)?) };
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let signer =
        crate::cli::signer::open(&a.keys, &mut prompter, &check_allowed, &names, drafts.len())?;

    let started = std::time::Instant::now();
    let bar = crate::cli::progress::Step::counted(
        format!("Signing {} drafts", drafts.len()),
        drafts.len() as u64,
    );
    let signed = round::sign(
        &drafts,
        &parent,
        signer.as_ref(),
        a.output.parent(),
        &mut |p| read_metadata(p).map_err(Step::Failed),
        &mut || bar.inc(1),
    );
    drop(bar);
    let secs = started.elapsed().as_secs_f64();
    let signed = match signed {
        Ok(s) => s,
        Err(Step::Failed(f)) => return Err(f),
        Err(Step::Round(RoundError::Sign { source, .. })) => {
            return Err(crate::cli::signer::sign_failure(&a.keys, source));
        }
        Err(Step::Round(e)) => return Err(e.into()),
    };
    let out = signed.files;
    // The rate decides whether a claim round is practical on a token (docs/performance.md).
    eprintln!(
        "Signed {} drafts in {} ({:.1} signatures per second).",
        out.len(),
        crate::cli::progress::duration_words(secs),
        out.len() as f64 / secs.max(1e-6)
    );
    crate::cli::write_new_dir(&a.output, &out, "already exists")?;
    let officer = signed.keyid.as_ref().and_then(|k| names.officer(k));
    let keyid = signed.keyid.map(|k| k.to_string()).unwrap_or_default();
    eprintln!(
        "Wrote {} signatures by {} to {}/ (one FILE.sig per draft).",
        out.len(),
        names.line(&keyid),
        shown(&a.output)
    );
    let inputs: Vec<&Path> = drafts.iter().map(|d| d.path.as_path()).collect();
    crate::cli::record::step_by(
        &recorder,
        format!("sign round of {} drafts", drafts.len()),
        &inputs,
        &[&a.output],
        vec![keyid.clone()],
        officer,
    )?;
    eprintln!(
        "Next: hand the directory to whoever merges (`conclave merge {} SIGDIR... --delegator ... -o OUT`); it holds no secret.",
        shown(&a.file)
    );
    if a.json {
        use crate::cli::json::{Value, int, obj, path};
        crate::cli::json::print(&obj([
            ("file", path(&a.file)),
            ("round_digest", Value::from(round::round_digest(&drafts))),
            ("keyid", Value::from(keyid)),
            ("output", path(&a.output)),
            (
                "drafts",
                Value::Array(
                    drafts
                        .iter()
                        .map(|d| {
                            obj([
                                ("file", Value::from(d.name.as_str())),
                                ("role", Value::from(d.role.as_str())),
                                ("version", int(d.version)),
                                ("expires", Value::from(d.expires.to_string())),
                                ("payload_sha256", Value::from(d.digest.as_str())),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]));
    }
    Ok(exit::OK)
}

/// A failure while signing a round, kept apart from the round's own errors so that a
/// signer's failure can be mapped knowing which signer it was.
enum Step {
    Failed(Failure),
    Round(RoundError),
}

impl From<RoundError> for Step {
    fn from(e: RoundError) -> Self {
        Step::Round(e)
    }
}

pub(super) fn merge_round(a: &MergeArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx, false)?;
    if a.sigfiles.is_empty() {
        return Err(Failure::usage(
            "a round is merged with the officers' signature directories: give each SIGDIR \
             `conclave sign` wrote",
        ));
    }
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.file])?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.file, &a.output])?;
    let files = round::files(&a.file)?;
    let parent = delegators(&a.ctx, &a.file, &files)?;
    let sig_dirs = round::signature_dirs(&a.sigfiles, &files)?;

    let bar = crate::cli::progress::Step::counted(
        format!("Checking the signatures on {} drafts", files.len()),
        files.len() as u64,
    );
    let result = round::merge(
        &files,
        &parent,
        &sig_dirs,
        &mut read_metadata,
        &mut read_file,
        &mut || bar.inc(1),
    )?;
    drop(bar);
    super::ExpiryReview::of(
        result
            .expiries
            .iter()
            .map(|(name, role, e)| (escape(name).into_owned(), role.as_str(), *e)),
    )
    .warn_merge();
    if !result.refused.is_empty() {
        for r in &result.refused {
            eprintln!("error: {}: {}", r.file, escape(&r.reason));
        }
        return Err(Failure::failed(format!(
            "{} signature file(s) refused; nothing was merged or written",
            result.refused.len()
        )));
    }
    for (id, file) in &result.not_counted {
        eprintln!("not counted: key {id} is revoked ({file} is not merged)");
    }
    let merged = &result.files;
    let incomplete = &result.incomplete;
    for (name, reports) in incomplete {
        eprintln!("{}: NOT YET complete", escape(name));
        super::print_reports(reports, &names);
    }
    eprintln!(
        "{} of {} drafts meet every threshold.",
        files.len() - incomplete.len(),
        files.len()
    );
    if !incomplete.is_empty() && !a.allow_partial {
        if a.json {
            crate::cli::json::print(&merge_round_json(a, &result, files.len(), false));
        }
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
        // Every file already there is checked before the first is replaced.
        check_replaced(&files, &parent, merged, &outputs)?;
        for ((_, bytes), out) in merged.iter().zip(&outputs) {
            write_output(out, bytes)?;
        }
    } else {
        crate::cli::write_new_dir(&a.output, merged, "already exists and is not a directory")?;
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
    let mut inputs: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    inputs.extend(result.signature_files.iter().map(PathBuf::as_path));
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
        result.added.iter().cloned().collect(),
    )?;
    if a.json {
        crate::cli::json::print(&merge_round_json(a, &result, files.len(), true));
    }
    Ok(exit::OK)
}

/// `merge --json` for a round: how many drafts meet every threshold, the reports of those
/// that do not, the keys whose signatures were added, and whether OUT was written.
fn merge_round_json(
    a: &MergeArgs,
    result: &round::MergedRound,
    drafts: usize,
    written: bool,
) -> crate::cli::json::Value {
    use crate::cli::json::{Value, int, obj, path, strings};
    obj([
        ("file", path(&a.file)),
        ("output", path(&a.output)),
        ("written", Value::from(written)),
        ("drafts", int(drafts)),
        ("complete", int(drafts - result.incomplete.len())),
        (
            "incomplete",
            Value::Array(
                result
                    .incomplete
                    .iter()
                    .map(|(name, reports)| {
                        obj([
                            ("file", Value::from(name.as_str())),
                            (
                                "reports",
                                Value::Array(
                                    reports.iter().map(SignatureReport::to_json).collect(),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("added", strings(&result.added)),
    ])
}

pub(super) fn status_round(a: &StatusArgs) -> Result<u8, Failure> {
    refuse_single_file_flags(&a.ctx, false)?;
    let files = round::files(&a.file)?;
    let parent = delegators(&a.ctx, &a.file, &files)?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.file])?;
    // With the officers' signature directories: counted as if merged, nothing written.
    let counting = !a.signatures.is_empty();
    let all: Vec<round::Counted> = if counting {
        let sig_dirs = round::signature_dirs(&a.signatures, &files)?;
        round::count(
            &files,
            &parent,
            &sig_dirs,
            &mut read_metadata,
            &mut read_file,
        )?
    } else {
        round::status(&files, &parent, &mut read_metadata)?
            .into_iter()
            .map(|(draft, reports)| round::Counted {
                draft,
                reports,
                refused: Vec::new(),
                not_counted: Vec::new(),
            })
            .collect()
    };
    let met = |c: &round::Counted| c.reports.iter().all(SignatureReport::is_met);
    let complete = all.iter().filter(|c| met(c)).count();
    if a.json {
        print_round_json(&all);
    } else {
        println!(
            "{}: {complete} of {} drafts meet every threshold{}{}",
            shown(&a.file),
            all.len(),
            if complete == all.len() {
                " - COMPLETE"
            } else {
                ""
            },
            if counting {
                " with the signature directories given (counted, not merged: nothing was written)"
            } else {
                ""
            }
        );
        for c in all
            .iter()
            .filter(|c| !met(c) || !c.refused.is_empty() || !c.not_counted.is_empty())
        {
            let d = &c.draft;
            println!(
                "  {} (role {}, version {}):",
                escape(&d.name),
                escape(&d.role),
                d.version
            );
            for r in &c.reports {
                let must: Vec<String> = r.missing.iter().map(|k| names.short_keyid(k)).collect();
                println!(
                    "    {}: {} of {} needed; must sign: {}",
                    r.keys_from,
                    r.valid.len(),
                    r.threshold,
                    must.join(", ")
                );
            }
            for r in &c.refused {
                println!("    refused {}: {}", r.file, escape(&r.reason));
            }
            for (id, file) in &c.not_counted {
                println!("    not counted {file}: key {id} is revoked");
            }
        }
    }
    Ok(if a.check && complete != all.len() {
        exit::FAILED
    } else {
        exit::OK
    })
}

fn print_round_json(all: &[round::Counted]) {
    use conclave::cjson::Value;
    let v = Value::Array(
        all.iter()
            .map(|c| {
                Value::Object(
                    [
                        ("file".to_owned(), Value::from(c.draft.name.as_str())),
                        ("role".to_owned(), Value::from(c.draft.role.as_str())),
                        (
                            "reports".to_owned(),
                            Value::Array(c.reports.iter().map(SignatureReport::to_json).collect()),
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
}

/// Merging a round into an existing directory (the repository): each file already there may be
/// replaced only by the same metadata with no fewer valid signatures
/// ([`conclave::ceremony::overwrite`]); a key file or a signature file there is never replaced.
fn check_replaced(
    files: &[Entry],
    parent: &Delegators,
    merged: &[(String, Vec<u8>)],
    outputs: &[PathBuf],
) -> Result<(), Failure> {
    use conclave::ceremony::overwrite::{self, OverwriteError, Target};
    for ((name, bytes), out) in merged.iter().zip(outputs) {
        if !overwrite::refuse_unmergeable(out)? {
            continue;
        }
        let Some(entry) = files.iter().find(|f| &f.name == name) else {
            continue;
        };
        if super::same_file(&entry.path, out) {
            continue;
        }
        // The merged file's role and authorities, worked out as for the draft it came from.
        let (draft, md) = round::load_draft(entry, parent, &mut |_: &Path| {
            AnyMetadata::from_bytes(bytes)
                .map_err(|e| Failure::failed(format!("{}: {e}", shown(&entry.path))))
        })?;
        let existing = read_metadata(out).map_err(|f| {
            Failure::from(OverwriteError::NotMetadata {
                path: out.clone(),
                reason: f.message,
            })
        })?;
        let valid = overwrite::valid_keyids(&conclave::ceremony::status(
            &md,
            &draft.role,
            &draft.authorities,
        ));
        let target = Target {
            merged: &md,
            role: &draft.role,
            authorities: &draft.authorities,
            valid,
        };
        overwrite::check_same_target(out, &existing, &target)?;
    }
    Ok(())
}
