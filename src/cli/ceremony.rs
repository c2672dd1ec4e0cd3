//! `conclave ceremony check | genesis | plan-rotation | rehearse`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use conclave::ceremony::genesis::{self, GenesisError};
use conclave::ceremony::plan::{Level, Plan};
use conclave::ceremony::rehearsal::{self, Event};
use conclave::ceremony::transcript::{self, Entry};
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, Expires, KeyId, Metadata};

use crate::cli::{Failure, chain, exit, read_file, read_public_key, shown, write_output};

/// Whole ceremonies: plans, genesis, rotation planning, a rehearsal.
#[derive(clap::Subcommand)]
pub enum CeremonyCommand {
    Check(CheckArgs),
    Genesis(GenesisArgs),
    PlanRotation(PlanRotationArgs),
    Rehearse(RehearseArgs),
}

pub fn run(cmd: CeremonyCommand) -> Result<u8, Failure> {
    match cmd {
        CeremonyCommand::Check(a) => check(a),
        CeremonyCommand::Genesis(a) => genesis(a),
        CeremonyCommand::PlanRotation(a) => plan_rotation(a),
        CeremonyCommand::Rehearse(a) => rehearse(a),
    }
}

/// The copy of the plan in a ceremony directory, as `ceremony genesis` left it: each key's
/// public key is the one genesis wrote to `keys/NAME.pub.json` (the plan's own paths are
/// relative to where the plan was written, which is not the ceremony directory), or else the
/// file the plan names, relative to the ceremony directory.
pub(crate) fn load_ceremony_plan(path: &Path) -> Result<Plan, Failure> {
    let bytes = read_file(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8 text", shown(path))))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // Which key names each public key path: a plan key's path is all the parser hands over.
    let names: Vec<(String, String)> = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("keys").and_then(|k| k.as_table()).cloned())
        .map(|keys| {
            keys.iter()
                // Key names are checked by the parser; only the names it would accept may
                // make a path here.
                .filter(|(name, _)| {
                    !name.starts_with('.')
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                })
                .filter_map(|(name, k)| {
                    let p = k.get("public_key")?.as_str()?;
                    Some((p.to_owned(), name.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    Plan::parse(text, &mut |p: &str| {
        let written = names
            .iter()
            .filter(|(path, _)| path == p)
            .map(|(_, name)| base.join("keys").join(format!("{name}.pub.json")))
            .find(|f| f.is_file());
        read_public_key(&written.unwrap_or_else(|| base.join(p))).map_err(|f| f.message)
    })
    .map_err(|e| Failure::usage(format!("{}: {}", shown(path), chain(&e))))
}

/// Read a plan; public key files are relative to the plan's directory.
pub(crate) fn load_plan(path: &Path) -> Result<(Plan, Vec<u8>), Failure> {
    let bytes = read_file(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8 text", shown(path))))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let plan = Plan::parse(text, &mut |p: &str| {
        read_public_key(&base.join(p)).map_err(|f| f.message)
    })
    .map_err(|e| Failure::usage(format!("{}: {}", shown(path), chain(&e))))?;
    Ok((plan, bytes))
}

fn print_findings(plan: &Plan, now: Expires) -> usize {
    let findings = plan.check(now);
    for f in &findings {
        eprintln!("  {}: {}", f.level.word(), escape(&f.message));
    }
    findings.iter().filter(|f| f.level == Level::Error).count()
}

fn print_plan(plan: &Plan, path: &Path, digest: &str) {
    println!("Plan: {} ({})", escape(&plan.name), shown(path));
    println!("  SHA-256 {digest}");
    if plan.rehearsal {
        println!("  REHEARSAL plan: what it produces must never be deployed");
    }
    println!("Officers:");
    for id in plan.officers.keys() {
        println!("  {}", plan.officer_label(id));
    }
    println!("Roles:");
    for (role, rp) in plan.all_roles() {
        println!(
            "  {role}: {} of {} key(s){}",
            rp.threshold,
            rp.keys.len(),
            rp.expires
                .as_deref()
                .map(|e| format!(", expires {}", escape(e)))
                .unwrap_or_default()
        );
        for k in plan.role_keys(rp) {
            println!(
                "    {:<20} {:<9} {} {}",
                k.name,
                k.source.kind(),
                k.key.keyid(),
                k.officer
                    .as_deref()
                    .map(|o| plan.officer_label(o))
                    .unwrap_or_else(|| "(online)".into())
            );
        }
    }
}

/// Check a ceremony plan against its policy, before anyone signs.
///
/// The policy: root threshold at least `min_root_threshold` (default 2); a warning when a
/// threshold equals its number of keys (one lost key locks the role); expiry in the future and
/// within PEP 458's bounds (root and targets 1 year, claimed 6 months, any other role 1 year;
/// `max_expiry_days` changes them); root, targets and claimed signed
/// only by offline keys; no key in two roles unless `allow_key_reuse`; the diversity of the
/// root keys (kinds of key storage and algorithms). Exit 0 when there is no error, 1 when the
/// plan breaks its policy, 2 when it cannot be read. The plan format is in
/// docs/ceremony-guide.md.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The plan (TOML).
    plan: PathBuf,
}

fn check(a: CheckArgs) -> Result<u8, Failure> {
    let (plan, bytes) = load_plan(&a.plan)?;
    print_plan(&plan, &a.plan, &transcript::sha256_hex(&bytes));
    eprintln!("Policy:");
    let errors = print_findings(&plan, Expires::now());
    if errors > 0 {
        return Err(Failure::failed(format!(
            "{}: the plan breaks its policy ({errors} error(s)); fix it before the ceremony",
            shown(&a.plan)
        )));
    }
    eprintln!(
        "The plan holds its policy. Read the roles above aloud and compare with the paper plan."
    );
    Ok(exit::OK)
}

/// Start a ceremony from a plan: draft root v1 and targets v1 (with the PyPI layout when the
/// plan has one) as signing requests, in a new ceremony directory.
///
/// DIR gets: plan.toml (a copy), keys/ (the public keys), drafts/ (1.root.json,
/// 1.targets.json, and 1.unclaimed.json for the online side), signatures/ and repository/
/// (empty), SIGNING-TASKS.txt (each officer's exact `conclave sign` command) and
/// transcript.jsonl. Officers then sign, possibly days apart; `conclave merge` collects the
/// signatures into repository/. The plan must pass `ceremony check`.
#[derive(clap::Args)]
pub struct GenesisArgs {
    /// The plan (TOML).
    plan: PathBuf,
    /// The new ceremony directory (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    network: crate::cli::airgap::AllowNetwork,
}

fn new_dir(dir: &Path) -> Result<(), Failure> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Failure::usage(format!("{}: {}", shown(dir), crate::cli::io_reason(&e))))?
            .next()
            .is_none();
        if !empty {
            return Err(Failure::usage(format!(
                "{}: already exists and is not empty; nothing was written",
                shown(dir)
            ))
            .hint("a ceremony always starts in a new directory"));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot create: {}",
            shown(dir),
            crate::cli::io_reason(&e)
        ))
    })
}

fn genesis(a: GenesisArgs) -> Result<u8, Failure> {
    let airgap = crate::cli::airgap::enforce(&a.network)?;
    let (plan, bytes) = load_plan(&a.plan)?;
    let now = Expires::now();
    eprintln!("Checking {} against its policy:", shown(&a.plan));
    if print_findings(&plan, now) > 0 {
        return Err(Failure::failed(format!(
            "{}: the plan breaks its policy; nothing was written",
            shown(&a.plan)
        ))
        .hint("run `conclave ceremony check` on it and fix the errors"));
    }
    let drafts = genesis::draft(&plan, now)
        .map_err(|e| Failure::usage(format!("{}: {}", shown(&a.plan), chain(&e))))?;
    new_dir(&a.out)?;
    let d = &a.out;
    for sub in ["keys", "drafts", "signatures", "repository"] {
        std::fs::create_dir_all(d.join(sub)).map_err(|e| {
            Failure::usage(format!(
                "{}: {}",
                shown(&d.join(sub)),
                crate::cli::io_reason(&e)
            ))
        })?;
    }
    write_output(&d.join("plan.toml"), &bytes)?;
    let mut outputs = vec![d.join("plan.toml")];
    for k in plan.keys.values() {
        let rel = format!("keys/{}.pub.json", k.name);
        write_output(
            &d.join(&rel),
            &conclave::cjson::to_pretty(&k.key.to_value()),
        )?;
        outputs.push(d.join(&rel));
    }
    let root = AnyMetadata::Root(Metadata::new(drafts.root));
    let targets = AnyMetadata::Targets(Metadata::new(drafts.targets));
    write_output(&d.join("drafts/1.root.json"), &root.to_file_bytes())?;
    write_output(&d.join("drafts/1.targets.json"), &targets.to_file_bytes())?;
    outputs.push(d.join("drafts/1.root.json"));
    outputs.push(d.join("drafts/1.targets.json"));
    if let Some(u) = drafts.unclaimed {
        write_output(
            &d.join("drafts/1.unclaimed.json"),
            &Metadata::new(u).to_file_bytes(),
        )?;
        outputs.push(d.join("drafts/1.unclaimed.json"));
    }

    let mut tasks = String::new();
    tasks.push_str(&format!(
        "SIGNING TASKS - {}\nRun every command from the ceremony directory ({}).\n{}\n",
        escape(&plan.name),
        shown(d),
        if plan.rehearsal {
            "REHEARSAL: never deploy what this produces.\n"
        } else {
            ""
        }
    ));
    let root_digest = conclave::ceremony::detached::payload_digest(&root.signed_bytes());
    let targets_digest = conclave::ceremony::detached::payload_digest(&targets.signed_bytes());
    let rp = &plan.roles["root"];
    tasks.push_str(&format!(
        "\n1. Root v1 ({} of {} root keys). Payload SHA-256 {root_digest}\n",
        rp.threshold,
        rp.keys.len()
    ));
    for t in genesis::tasks_for(&plan, "root", "drafts/1.root.json", "", "1.root") {
        tasks.push_str(&format!(
            "   [ ] {} ({}, {}):\n       {}\n",
            t.officer,
            t.key,
            t.keyid,
            escape(&t.command)
        ));
    }
    tasks.push_str("   Then: conclave merge drafts/1.root.json signatures/1.root.*.sig -o repository/1.root.json\n");
    let tp = &plan.roles["targets"];
    tasks.push_str(&format!(
        "\n2. Targets v1 ({} of {} targets keys). Payload SHA-256 {targets_digest}\n",
        tp.threshold,
        tp.keys.len()
    ));
    for t in genesis::tasks_for(
        &plan,
        "targets",
        "drafts/1.targets.json",
        "--delegator drafts/1.root.json",
        "1.targets",
    ) {
        tasks.push_str(&format!(
            "   [ ] {} ({}, {}):\n       {}\n",
            t.officer,
            t.key,
            t.keyid,
            escape(&t.command)
        ));
    }
    tasks.push_str("   Then: conclave merge drafts/1.targets.json signatures/1.targets.*.sig --delegator repository/1.root.json -o repository/1.targets.json\n");
    if plan.pypi.is_some() {
        tasks.push_str(
            "\n3. Claimed v1 (PEP 480): `conclave pypi claim --requests REQUESTS.jsonl -o drafts/1.claimed.json`,\n   \
             then each claimed admin signs it with --delegator repository/1.targets.json, then merge --delegator.\n   \
             drafts/1.unclaimed.json goes to the online repository, which signs it with the online key.\n",
        );
    }
    tasks.push_str(
        "\nFinally: conclave verify repository && conclave export repository -o bundle\n",
    );
    write_output(&d.join("SIGNING-TASKS.txt"), tasks.as_bytes())?;
    outputs.push(d.join("SIGNING-TASKS.txt"));

    let rel: Vec<(String, String)> = outputs
        .iter()
        .map(|p| {
            let name = p.strip_prefix(d).unwrap_or(p).display().to_string();
            let digest = transcript::file_sha256(p).map_err(|e| Failure::usage(chain(&e)))?;
            Ok((name, digest))
        })
        .collect::<Result<_, Failure>>()?;
    let line = crate::cli::record::append(
        d,
        Entry {
            step: format!("ceremony genesis from plan \"{}\"", plan.name),
            inputs: vec![(a.plan.display().to_string(), transcript::sha256_hex(&bytes))],
            outputs: rel,
            note: Some(airgap.summary()),
            ..Entry::default()
        },
    )
    .map_err(|e| Failure::usage(chain(&e)))?;

    println!("{}", tasks);
    eprintln!(
        "Ceremony directory {} is ready (transcript step {}). Read each payload SHA-256 aloud \
         before signing; each officer runs their command above.",
        shown(d),
        line.seq
    );
    Ok(exit::OK)
}

/// Plan a root rotation before anyone signs: is it feasible, and who signs with which key?
///
/// PLAN describes the new root's keys and thresholds (the same plan format; keys leaving
/// service may stay listed with `retired = true`, so the plan knows who holds them). The
/// report lists every key of the current and the new root, whether it counts for the old
/// threshold, the new one or both, and the signing tasks: including an officer changing keys,
/// who signs twice (old key for the old threshold, new key for the new one). Lost or
/// compromised keys (--lost) never count. With -o, the next root is drafted. Exit 0 when the
/// rotation is feasible, 1 when it is not (the old threshold cannot be met).
#[derive(clap::Args)]
pub struct PlanRotationArgs {
    /// The current (latest trusted) root.
    #[arg(long, value_name = "ROOT")]
    root: PathBuf,
    /// The plan for the new root.
    #[arg(long, value_name = "PLAN")]
    plan: PathBuf,
    /// A key that is lost or compromised and must not sign (repeatable).
    #[arg(long, value_name = "KEYID")]
    lost: Vec<String>,
    /// Write the draft of the next root here (never overwritten).
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: Option<PathBuf>,
}

fn plan_rotation(a: PlanRotationArgs) -> Result<u8, Failure> {
    if let Some(o) = &a.output {
        crate::cli::refuse_existing(o)?;
    }
    let recorder = crate::cli::record::Recorder::find(
        &a.output.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        &[a.root.as_path(), a.plan.as_path()],
    )?;
    let current_any = crate::cli::read_metadata(&a.root)?;
    let AnyMetadata::Root(current) = &current_any else {
        return Err(Failure::usage(format!(
            "{}: is {} metadata, not a root",
            shown(&a.root),
            current_any.type_name()
        )));
    };
    let (plan, _) = load_plan(&a.plan)?;
    let mut lost = BTreeSet::new();
    for l in &a.lost {
        lost.insert(
            KeyId::new(l).map_err(|e| Failure::usage(format!("--lost {}: {e}", escape(l))))?,
        );
    }
    let rot = genesis::plan_rotation(&current.signed, &plan, &lost, Expires::now())
        .map_err(|e| Failure::usage(format!("{}: {}", shown(&a.plan), rotation_problem(&e))))?;
    println!(
        "Root rotation v{} -> v{} ({} -> plan {})",
        rot.old_version,
        rot.new_version,
        shown(&a.root),
        shown(&a.plan)
    );
    println!(
        "  needs {} of v{}'s root keys ({} usable) AND {} of v{}'s root keys ({} usable)",
        rot.old_threshold,
        rot.old_version,
        rot.old_available,
        rot.new_threshold,
        rot.new_version,
        rot.new_available
    );
    // A key leaving service may be only in the ceremony's own plan (plan.toml beside the
    // current root), not in the new one: its name and holder come from there.
    let names = crate::cli::names::Names::find(&Default::default(), &[&a.root])?;
    println!("Keys:");
    for k in &rot.keys {
        let known = names.key_names().get(&k.keyid);
        let name = k
            .name
            .as_deref()
            .or(known.map(|n| n.key.as_str()))
            .unwrap_or("(not in the plan)");
        let holder = match (&k.officer, known.and_then(|n| n.officer.as_ref())) {
            (Some(o), _) => plan.officer_label(o),
            (None, Some((id, full))) => format!("{} ({id})", escape(full)),
            (None, None) => "holder unknown".into(),
        };
        let role = match (k.in_old, k.in_new) {
            (true, true) => "stays (counts for both)",
            (true, false) => "leaves (counts for the old threshold only)",
            (false, true) => "joins (counts for the new threshold only)",
            (false, false) => "",
        };
        println!(
            "  {} {:<22} {:<18} {}{}",
            k.keyid,
            escape(name),
            holder,
            role,
            if k.lost { "  LOST: must not sign" } else { "" }
        );
    }
    let draft = a
        .output
        .as_ref()
        .map(|o| shown(o))
        .unwrap_or_else(|| "NEXT.root.json".into());
    println!("Signing tasks (each officer signs the draft once per key listed):");
    for k in rot.keys.iter().filter(|k| !k.lost) {
        let cmd = k
            .name
            .as_ref()
            .and_then(|n| plan.keys.get(n))
            .and_then(|pk| pk.source.sign_flags())
            .unwrap_or_else(|| "--key|--derive|--yubikey|--pkcs11 ...".into());
        println!(
            "  [ ] {}: conclave sign {draft} --previous {} {} -o {}.sig",
            k.officer
                .as_deref()
                .map(|o| plan.officer_label(o))
                .unwrap_or_else(|| format!("holder of {}", names.keyid(&k.keyid))),
            shown(&a.root),
            escape(&cmd),
            k.name.clone().unwrap_or_else(|| k.keyid.to_string())
        );
    }
    for adv in &rot.advice {
        eprintln!("note: {adv}");
    }
    if let Some(o) = &a.output {
        let md = Metadata::new(rot.next.clone());
        write_output(o, &md.to_file_bytes())?;
        eprintln!(
            "Drafted {} (version {}, unsigned).",
            shown(o),
            rot.new_version
        );
    }
    crate::cli::record::step(
        &recorder,
        format!(
            "ceremony plan-rotation v{} -> v{}: {}",
            rot.old_version,
            rot.new_version,
            if rot.feasible {
                "feasible"
            } else {
                "NOT feasible"
            }
        ),
        &[&a.root, &a.plan],
        &a.output.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        lost.iter().map(KeyId::to_raw_string).collect(),
    )?;
    if !rot.feasible {
        return Err(Failure::failed(format!(
            "the rotation to v{} is not feasible: too few of v{}'s root keys can sign",
            rot.new_version, rot.old_version
        )));
    }
    Ok(exit::OK)
}

/// A rotation planning error as the command says it: a lost key is named by the flag it
/// came from.
fn rotation_problem(e: &GenesisError) -> String {
    match e {
        GenesisError::LostKeyUnknown { keyid, version } => format!(
            "--lost {keyid}: that key is not a root key of version {version} nor of the plan"
        ),
        GenesisError::LostKeyInNewRoot { keyid } => format!(
            "--lost {keyid}: a lost key cannot be a key of the new root; remove it from the \
             plan's [roles.root]"
        ),
        other => chain(other),
    }
}

/// Rehearse a whole ceremony on a built-in example (the main job, safely).
///
/// Three officers with keys derived from built-in rehearsal passphrases: a plan checked
/// against its policy, genesis of root v1 (2 of 3) and targets with the PyPI layout, a claim
/// of sample projects into claimed, a planned root rotation (carol leaves, dave joins), the
/// revocation of a compromised root key, verification, an export bundle and the transcript
/// with a head signature. Every artifact is marked as rehearsal material. Takes about half a
/// minute (each derived key costs 2 GiB of Argon2id).
#[derive(clap::Args)]
pub struct RehearseArgs {
    /// The directory for the rehearsal (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn rehearse(a: RehearseArgs) -> Result<u8, Failure> {
    eprintln!(
        "REHEARSAL: every key below comes from a passphrase printed in conclave's source; nothing here protects anything."
    );
    let mut step = 0;
    let mut say = |e: Event<'_>| match e {
        Event::Step(s) => {
            step += 1;
            eprintln!("\n=== Step {step}: {s}");
        }
        Event::Detail(d) => eprintln!("    {}", escape(&d)),
    };
    let outcome = rehearsal::run(&a.out, &mut say)
        .map_err(|e| Failure::failed(format!("the rehearsal failed: {}", escape(&chain(&e)))))?;
    eprintln!();
    println!("Rehearsal complete in {}", shown(&outcome.dir));
    println!(
        "  root v1 -> v{}; claimed with {} projects; export bundle {}",
        outcome.root_versions,
        outcome.claimed_projects,
        shown(&outcome.bundle)
    );
    println!(
        "  transcript: {} steps, head {}",
        outcome.transcript_lines, outcome.transcript_head
    );
    println!("Next, try:");
    println!("  conclave verify {}", shown(&outcome.bundle));
    println!(
        "  conclave transcript verify {} --head-sig {}",
        shown(&outcome.dir),
        shown(&outcome.dir.join("transcript-head.alice.sig"))
    );
    println!("  conclave transcript print {}", shown(&outcome.dir));
    Ok(exit::OK)
}
