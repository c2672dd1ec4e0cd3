//! `conclave revoke KEYID --repo DIR`: the blast radius of a compromised key, the drafts that
//! remove it, and who must sign them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use conclave::ceremony::export::{Bundle, write_bundle};
use conclave::ceremony::review;
use conclave::ceremony::revoke::{self, Context, RevocationPlan, RevokeError, RevokeOptions};
use conclave::display::escape;
use conclave::metadata::{Expires, Key};

use crate::cli::{Failure, exit, io_reason, parse_when, read_public_key, role_value, shown};

/// Revoke a compromised (or lost, or retired) key everywhere it is trusted.
///
/// conclave reads DIR as `conclave verify DIR` does (N.root.json for every root version,
/// targets.json or V.targets.json, delegated roles such as claimed.json and project roles),
/// checks that it verifies, and then:
///
/// 1. lists every role that trusts the key (the blast radius): the root's four roles, every
///    delegation in targets metadata (claimed, recently-claimed, unclaimed, hash bins) and
///    claimed's delegations to projects, each with the threshold before and after and whether
///    the remaining keys can still meet it;
///
/// 2. drafts the new versions needed, unsigned, version + 1 with fresh expiry and the key
///    removed everywhere, into OUTDIR (a new directory; nothing is ever overwritten), with
///    the files that stay unchanged (every root version, roles needing no new version) so
///    that OUTDIR, once signed, is the repository after the revocation. A role whose current
///    signatures fall below its threshold once the key no longer counts is re-issued for
///    signing as well;
///
/// 3. lists who must sign each draft (for a root, both the current root's threshold and the
///    new one), never counting the revoked key, and the `conclave sign`, `status` and
///    `merge` commands to run in OUTDIR, as printed; OUTDIR's REVOKED.record (the revoked
///    key, the roles that trusted it, --reason, the date) makes `sign`, `status`, `merge`
///    and `verify` there count none of the key's signatures, the old root's included;
///
/// 4. says what the online side must do: publish, then a new snapshot and timestamp naming
///    the new versions; when a timestamp or snapshot key is revoked, clients drop their
///    trusted timestamp and snapshot (spec 5.3.11), which is how they recover from a
///    fast-forward attack.
///
/// When the remaining keys could no longer meet a threshold, nothing is written: add a key
/// with --add-key ROLE=PUBFILE or lower the threshold with --threshold ROLE=N (ROLE is a
/// top-level role, or a delegated role's name, e.g. claimed or bins). A project in claimed
/// left below its threshold is taken out of claimed instead.
///
/// Exit 0: the drafts were written (or, with --dry-run, could be). Exit 1: the repository
/// does not verify, or the revocation cannot be drafted as asked (nothing written). Exit 2:
/// bad KEYID, a key no role trusts, unusable options, or OUTDIR exists (nothing written).
#[derive(clap::Args)]
pub struct Args {
    /// The key to revoke: its keyid, all 64 hex digits or at least the first 8.
    #[arg(value_name = "KEYID")]
    keyid: String,
    /// The repository or ceremony metadata directory.
    #[arg(long, value_name = "DIR")]
    repo: PathBuf,
    /// The new directory for the drafts, the unchanged files they build on, and PLAN.txt
    /// (default: DIR/revoke-KEYID16, the first 16 digits of the keyid). `--out` is an old
    /// spelling that still works.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "OUTDIR")]
    out: Option<PathBuf>,
    /// Expiry for every draft: YYYY-MM-DD or a duration such as 365d (default: root and
    /// targets 365 days from now, other roles 90 days). It must be in the future; beyond a
    /// role's PEP 458 bound (root and targets 1 year, claimed 6 months) a warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
    /// Add a key to a role that trusts the revoked key, to keep its threshold meetable:
    /// ROLE=PUBFILE (repeatable).
    #[arg(long = "add-key", value_name = "ROLE=PUBFILE")]
    add: Vec<String>,
    /// Set the threshold of a role that trusts the revoked key: ROLE=N (repeatable).
    #[arg(long = "threshold", value_name = "ROLE=N")]
    thresholds: Vec<String>,
    /// Show the plan; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the plan as JSON on stdout (the readable plan goes to stderr).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
    /// Why the key is revoked (stolen, lost, holder left, ...), kept in OUTDIR's revocation
    /// record.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

/// One ROLE=VALUE given to `flag`, split; a malformed one names the flag.
fn split(flag: &str, given: &str) -> Result<(String, String), Failure> {
    role_value(given).map_err(|e| Failure::usage(format!("{flag}: {e}")))
}

fn options(a: &Args) -> Result<RevokeOptions, Failure> {
    let mut add: Vec<(String, Key)> = Vec::new();
    for k in &a.add {
        let (role, file) = split("--add-key", k)?;
        add.push((role, read_public_key(Path::new(&file))?));
    }
    let mut thresholds = BTreeMap::new();
    for t in &a.thresholds {
        let (role, n) = split("--threshold", t)?;
        let n: u32 = n
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Failure::usage(format!("--threshold {t}: N must be 1 or more")))?;
        if thresholds.insert(role.clone(), n).is_some() {
            return Err(Failure::usage(format!(
                "--threshold: {} is given twice",
                escape(&role)
            )));
        }
    }
    Ok(RevokeOptions {
        expires: a.expires,
        now: Expires::now(),
        add,
        thresholds,
    })
}

pub fn run(a: Args) -> Result<u8, Failure> {
    let opts = options(&a)?;
    // Without -o the drafts go to a new directory inside the repository directory.
    let writes_into = a.out.clone().unwrap_or_else(|| a.repo.join("revoke"));
    let recorder = crate::cli::record::Recorder::find(&[&writes_into], &[&a.repo])?;
    let source = crate::cli::metadata_dir(&a.repo);
    let files = crate::cli::export::load(&source)?;
    let plan = match revoke::plan(&files, &a.keyid, &opts) {
        Ok(p) => p,
        Err(RevokeError::Unverified(problems)) => {
            crate::cli::print_problems(&source, &problems);
            return Err(Failure::failed(format!(
                "{}: the metadata does not verify ({} problem(s)); nothing was written",
                shown(&a.repo),
                problems.len()
            ))
            .hint(
                "a revocation builds on the metadata in DIR, so it must verify first: run \
                 `conclave verify` on it and fix what it reports",
            ));
        }
        Err(e @ RevokeError::UnknownKey(_)) => {
            return Err(
                Failure::usage(format!("{}: {e}; nothing was written", shown(&a.repo))).hint(
                    "check the keyid against the key holder's record (`conclave key public` prints \
                 a key file's keyid) and that DIR is the repository's current metadata",
                ),
            );
        }
        Err(e) => {
            return Err(Failure::usage(format!(
                "{}; nothing was written",
                message(&e)
            )));
        }
    };
    // Before anything is shown as the plan: drafts clients would refuse, or date absurdly far
    // ahead, are not a plan.
    crate::cli::check_expiries(
        plan.drafts
            .iter()
            .map(|d| (d.role.as_str(), d.metadata.common().expires)),
        a.long,
    )?;
    let keyid = plan.keyid.clone().expect("a plan names its key");
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| a.repo.join(format!("revoke-{}", keyid.short())));
    let names = crate::cli::names::Names::find(&a.names, &[&a.repo])?;
    let text = render(&plan, &a.repo, &out, a.dry_run, &names);
    if a.json {
        eprint!("{text}");
        print!(
            "{}",
            String::from_utf8_lossy(&conclave::cjson::to_pretty(&plan.to_json(Some(&flags))))
        );
    } else {
        print!("{text}");
    }
    if !plan.is_feasible() {
        return Err(Failure::failed(
            "the revocation cannot be drafted as asked (see CANNOT PROCEED above); nothing was written",
        )
        .hint("add a key with --add-key ROLE=PUBFILE or lower a threshold with --threshold ROLE=N, then run revoke again"));
    }
    if a.dry_run {
        eprintln!("--dry-run: nothing was written.");
        return Ok(exit::OK);
    }
    if std::fs::symlink_metadata(&out).is_ok() {
        return Err(Failure::usage(format!(
            "{}: already exists; nothing was written",
            shown(&out)
        ))
        .hint("drafts always go to a new directory: give -o NEWDIR, or move the old one away"));
    }
    let mut bundle = Bundle::default();
    for d in &plan.drafts {
        bundle
            .files
            .insert(d.file.clone(), d.metadata.to_file_bytes());
    }
    for name in &plan.carried {
        if let Some(f) = files.iter().find(|f| &f.name == name) {
            bundle.files.insert(name.clone(), f.bytes.clone());
        }
    }
    bundle.files.insert("PLAN.txt".into(), text.into_bytes());
    // What was revoked, for merge, status and verify run on OUTDIR's files: the revoked key's
    // signatures count toward no threshold there, the previous root's included.
    bundle.files.insert(
        conclave::ceremony::revoked::FILE_NAME.into(),
        record(&plan, a.reason.as_deref()).to_bytes(),
    );
    write_bundle(&out, &bundle)
        .map_err(|e| Failure::usage(format!("{}: cannot write: {}", shown(&out), io_reason(&e))))?;
    eprintln!(
        "Wrote {} draft(s), {} unchanged file(s), PLAN.txt and {} (the revocation record) to {}.",
        plan.drafts.len(),
        plan.carried.len(),
        conclave::ceremony::revoked::FILE_NAME,
        shown(&out)
    );
    let read: Vec<std::path::PathBuf> = files.iter().map(|f| source.join(&f.name)).collect();
    let written: Vec<std::path::PathBuf> = bundle.files.keys().map(|n| out.join(n)).collect();
    written.iter().for_each(|w| crate::cli::record::wrote(w));
    crate::cli::record::step(
        &recorder,
        format!(
            "revoke {keyid}: {} draft(s) in {}",
            plan.drafts.len(),
            shown(&out)
        ),
        &read.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &written.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        vec![keyid.to_raw_string()],
    )?;
    Ok(exit::OK)
}

/// The revocation record of `plan` ([`conclave::ceremony::revoked`]).
fn record(plan: &RevocationPlan, reason: Option<&str>) -> conclave::ceremony::revoked::Revoked {
    use conclave::ceremony::revoked::{Revoked, RevokedKey};
    let mut roles: Vec<String> = Vec::new();
    for t in &plan.trusts {
        if !roles.contains(&t.role) {
            roles.push(t.role.clone());
        }
    }
    Revoked {
        date: Expires::now(),
        reason: reason.map(str::to_owned),
        keys: plan
            .keyid
            .iter()
            .map(|k| RevokedKey {
                keyid: k.clone(),
                also_listed_as: plan.aliases.clone(),
                roles: roles.clone(),
            })
            .collect(),
        drafts: plan.drafts.iter().map(|d| d.file.clone()).collect(),
    }
}

/// A revocation error as the officers read it: with the options that caused it, and for a
/// failure in a function revoke builds on, that function's own words.
fn message(e: &RevokeError) -> String {
    match e {
        RevokeError::AddsRevokedKey { role } => {
            format!("--add-key {}: that is the key being revoked", escape(role))
        }
        RevokeError::RoleNotAffected { role } => format!(
            "role {} does not trust the key being revoked, so --add-key and --threshold cannot \
             name it here (use `conclave root rotate` or `conclave delegation rotate` for other \
             changes)",
            escape(role)
        ),
        RevokeError::Version { source, .. } | RevokeError::Authorities { source, .. } => {
            source.to_string()
        }
        e => e.to_string(),
    }
}

/// How the command line spells the two ways out when a role keeps too few keys.
fn flags(role: &str) -> (String, String) {
    (
        format!("--add-key {}=PUBFILE", escape(role)),
        format!("--threshold {}=N", escape(role)),
    )
}

/// The plan as the officers read it (also saved as PLAN.txt beside the drafts). Every line the
/// library built is escaped here too: they quote role names and file names from the repository
/// (escaping twice changes nothing).
fn render(
    plan: &RevocationPlan,
    dir: &Path,
    out: &Path,
    dry_run: bool,
    names: &crate::cli::names::Names,
) -> String {
    let mut s = String::new();
    let keyid = plan.keyid.clone().expect("a plan names its key");
    let (groups, words) = review::digest_for_reading(&keyid.as_str());
    let _ = writeln!(s, "REVOKING KEY {}", names.keyid(&keyid));
    let _ = writeln!(
        s,
        "  Read it aloud and compare it with the key holder's record:"
    );
    let _ = writeln!(s, "    {groups}");
    for w in &words {
        let _ = writeln!(s, "    {w}");
    }
    for a in &plan.aliases {
        let _ = writeln!(
            s,
            "  The same key is also listed under keyid {}.",
            names.keyid(a)
        );
    }
    let _ = writeln!(s, "  Repository: {}", shown(dir));

    let _ = writeln!(
        s,
        "\nBLAST RADIUS: {} place(s) trust this key",
        plan.trusts.len()
    );
    for t in &plan.trusts {
        let what = if t.project {
            format!("project {}", escape(&t.role))
        } else if t.delegator == "root" {
            format!("{} (top-level role)", escape(&t.role))
        } else {
            format!("role {}", escape(&t.role))
        };
        let _ = writeln!(
            s,
            "  {what}: listed by {} in {}, key {} of {}",
            escape(&t.delegator),
            escape(&t.file),
            t.position,
            t.keys_before
        );
        let _ = writeln!(
            s,
            "      threshold {} of {} -> {} of {}: {}",
            t.threshold_before,
            t.keys_before,
            t.threshold_after,
            t.keys_after,
            if t.meetable() {
                "the remaining keys can still meet it"
            } else {
                "the remaining keys CANNOT meet it"
            }
        );
        match t.signed_current {
            Some(true) => {
                let _ = writeln!(s, "      the key signed the role's current version");
            }
            Some(false) => {
                let _ = writeln!(s, "      the key did not sign the role's current version");
            }
            None => {}
        }
        if let Some(r) = &t.remedy {
            let _ = writeln!(s, "      -> {}", escape(&r.sentence(Some(&flags))));
        }
    }

    if !plan.blockers.is_empty() {
        let _ = writeln!(
            s,
            "\nCANNOT PROCEED: nothing will be written until this is resolved"
        );
        for b in &plan.blockers {
            let _ = writeln!(s, "  - {}", escape(&b.sentence(Some(&flags))));
        }
    }

    if !plan.drafts.is_empty() {
        let _ = writeln!(
            s,
            "\nNEW VERSIONS TO SIGN{} (in this order)",
            if plan.is_feasible() && !dry_run {
                format!(", written to {}", shown(out))
            } else {
                " (not written)".into()
            }
        );
    }
    for (i, d) in plan.drafts.iter().enumerate() {
        let c = d.metadata.common();
        let _ = writeln!(
            s,
            "  {}. {}  (role {}, version {}, expires {}; follows {})",
            i + 1,
            escape(&d.file),
            escape(&d.role),
            c.version,
            c.expires,
            escape(&d.previous_file)
        );
        for line in &d.changes {
            let _ = writeln!(s, "       {}", names.line(&escape(line)));
        }
        let digest = conclave::metadata::SignedText::of_metadata(&d.metadata).sha256_hex();
        let (groups, _) = conclave::ceremony::review::digest_for_reading(&digest);
        let _ = writeln!(
            s,
            "     payload digest (`conclave sign` shows the same): {groups}"
        );
        let _ = writeln!(s, "     must be signed by:");
        for r in &d.requirements {
            let _ = writeln!(
                s,
                "       {} of these {} key(s) - {}{}",
                r.threshold,
                r.eligible.len(),
                escape(&r.label),
                if r.meetable() {
                    ""
                } else {
                    "  <-- NOT ENOUGH KEYS"
                }
            );
            for id in &r.eligible {
                let _ = writeln!(s, "         {}", names.keyid(id));
            }
            for id in &r.excluded {
                if d.role == "root" {
                    let _ = writeln!(
                        s,
                        "         NOT {} (the revoked key): whoever holds a copy can sign \
                         with it, so its signature proves nothing; merge, status and verify \
                         in the output directory do not count it ({}), though clients would \
                         still count it toward this old root's threshold (spec 5.3.4)",
                        names.keyid(id),
                        conclave::ceremony::revoked::FILE_NAME
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "         NOT {} (the revoked key): it no longer may sign, and \
                         merge does not count its signature",
                        names.keyid(id)
                    );
                }
            }
        }
    }
    for line in &plan.still_valid {
        let _ = writeln!(s, "\nNO NEW VERSION NEEDED: {}", escape(line));
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(s, "\nWARNINGS");
        for w in &plan.warnings {
            let _ = writeln!(s, "  - {}", escape(w));
        }
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(s, "\nNOTES");
        for n in &plan.notes {
            let _ = writeln!(s, "  - {}", escape(n));
        }
    }
    if !plan.online.is_empty() {
        let _ = writeln!(s, "\nTHE ONLINE SIDE MUST");
        for o in &plan.online {
            let _ = writeln!(s, "  - {}", escape(o));
        }
    }
    if plan.is_feasible() && !plan.drafts.is_empty() {
        next_steps(&mut s, plan, dir, out);
    }
    s
}

/// `given` as one shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes. The commands printed must run as printed.
fn sh_word(given: &str) -> String {
    let plain = !given.is_empty()
        && given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./=:@%+,-".contains(&b));
    if plain {
        given.to_owned()
    } else {
        format!("'{}'", given.replace('\'', "'\\''"))
    }
}

/// The commands that sign, check and merge every draft, to run in OUTDIR as printed (KEYFILE
/// and NAME are each signer's). Every file they name is in OUTDIR: the drafts, and the
/// unchanged files they build on (the current root, a delegator that needs no new version).
/// `merge` takes the signature files from OUTDIR itself, and OUTDIR's revocation record
/// keeps the revoked key's out of every count: no glob that could take in a signature made
/// with a stolen copy of the key.
fn next_steps(s: &mut String, plan: &RevocationPlan, dir: &Path, out: &Path) {
    let here = |f: &str| -> String {
        if plan.carried.iter().any(|c| c == f) || plan.drafts.iter().any(|d| d.file == f) {
            sh_word(f)
        } else {
            // Not carried (it should be): the repository's own file, by its full path.
            let p = std::fs::canonicalize(dir.join(f)).unwrap_or_else(|_| dir.join(f));
            sh_word(&p.display().to_string())
        }
    };
    let _ = writeln!(
        s,
        "\nNEXT STEPS (run them in {}; each signer runs the sign command with their own key)",
        shown(out)
    );
    let _ = writeln!(s, "  cd {}", escape(&sh_word(&out.display().to_string())));
    for (i, d) in plan.drafts.iter().enumerate() {
        let ctx = match &d.context {
            Context::Previous(f) => format!("--previous {}", here(f)),
            Context::RepoDelegator(f) | Context::DraftDelegator(f) => {
                format!("--delegator {}", here(f))
            }
        };
        let draft = escape(&sh_word(&d.file)).into_owned();
        let ctx = escape(&ctx).into_owned();
        let _ = writeln!(s, "  {}. {}", i + 1, escape(&d.file));
        let _ = writeln!(
            s,
            "     conclave sign {draft} {ctx} --key KEYFILE -o {draft}.NAME.sig"
        );
        let _ = writeln!(s, "     conclave status {draft} {ctx}");
        let _ = writeln!(s, "     conclave merge {draft} {ctx} -o {draft}");
    }
    let _ = writeln!(
        s,
        "  status and merge take each draft's signature files from this directory; its \
         revocation record ({}) makes them count no signature of the revoked key, wherever it \
         comes from.",
        conclave::ceremony::revoked::FILE_NAME
    );
    let _ = writeln!(
        s,
        "  {} also holds, unchanged, every root up to the current one and the current \
         version of each role that needs no new version: once every draft is merged it is \
         the repository after the revocation (without snapshot and timestamp, which the \
         online side issues anew). Check it with `conclave verify .` before anything leaves \
         the room, then `conclave export . -o BUNDLE`.",
        shown(out)
    );
}
