//! `conclave ceremony check | genesis | plan-rotation | rehearse`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use conclave::attestation::{Anchor, EnrolmentRecord, record_path};
use conclave::ceremony::firmware::{self, DeviceEvidence};
use conclave::ceremony::genesis::{self, GenesisError};
use conclave::ceremony::plan::{Finding, Level, Plan};
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

/// The evidence for the minimum-firmware policy (`conclave::ceremony::firmware`): the
/// enrolment record beside each covered YubiKey key's public key file (relative to the plan's
/// directory), checked against Yubico's roots.
pub(crate) fn firmware_evidence(plan: &Plan, plan_path: &Path) -> BTreeMap<String, DeviceEvidence> {
    let base = plan_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for name in firmware::keys_to_check(plan) {
        let Some(k) = plan.keys.get(&name) else {
            continue;
        };
        let path = record_path(&base.join(&k.public_key_path));
        let shown_path = shown(&path);
        let evidence = if !path.is_file() {
            DeviceEvidence::NoRecord { path: shown_path }
        } else {
            let checked = read_file(&path)
                .map_err(|f| f.message)
                .and_then(|bytes| EnrolmentRecord::parse(&bytes).map_err(|e| e.to_string()))
                .and_then(|record| {
                    let report = record
                        .verify(&Anchor::Yubico, None, Expires::now().unix())
                        .map_err(|e| e.to_string())?;
                    // The record must be for the key the plan names, not another of the
                    // officer's.
                    if record.public_key.keyid() != k.key.keyid() {
                        return Err(format!(
                            "it is for key {}, not the plan's {}",
                            record.public_key.keyid(),
                            k.key.keyid()
                        ));
                    }
                    Ok(report)
                });
            match checked {
                Ok(r) => DeviceEvidence::Verified {
                    serial: r.serial,
                    firmware: r.firmware,
                    key: r.key_kind,
                },
                Err(reason) => DeviceEvidence::Invalid {
                    path: shown_path,
                    reason,
                },
            }
        };
        out.insert(name, evidence);
    }
    out
}

/// The plan's policy findings and the minimum-firmware policy's, errors first.
fn findings(
    plan: &Plan,
    now: Expires,
    evidence: &BTreeMap<String, DeviceEvidence>,
) -> Vec<Finding> {
    let mut all = plan.check(now);
    all.extend(firmware::check(plan, evidence));
    all.sort_by_key(|f| std::cmp::Reverse(f.level));
    all
}

fn print_findings(plan: &Plan, now: Expires, evidence: &BTreeMap<String, DeviceEvidence>) -> usize {
    let findings = findings(plan, now, evidence);
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
    if plan.profile == conclave::ceremony::plan::Profile::Rstuf {
        println!("  Profile rstuf: deployed to RSTUF 1.0 (docs/rstuf.md)");
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
    /// Print the plan and the policy's findings as JSON on stdout (fields in docs/formats.md);
    /// the exit code is the same.
    #[arg(long)]
    json: bool,
}

/// `ceremony check --json`: the plan as read (officers, roles, keys with keyids) and the
/// policy's findings.
fn plan_json(
    plan: &Plan,
    path: &Path,
    digest: &str,
    now: Expires,
    evidence: &BTreeMap<String, DeviceEvidence>,
) -> crate::cli::json::Value {
    use crate::cli::json::{Value, int, obj, opt};
    let findings = findings(plan, now, evidence);
    let ok = !findings.iter().any(|f| f.level == Level::Error);
    let roles = plan
        .all_roles()
        .into_iter()
        .map(|(role, rp)| {
            let keys = plan
                .role_keys(rp)
                .into_iter()
                .map(|k| {
                    obj([
                        ("name", Value::from(k.name.as_str())),
                        ("source", Value::from(k.source.kind())),
                        ("keyid", Value::from(k.key.keyid().as_str().to_string())),
                        ("officer", opt(k.officer.clone())),
                    ])
                })
                .collect();
            (
                role.to_owned(),
                obj([
                    ("threshold", int(rp.threshold)),
                    ("expires", opt(rp.expires.clone())),
                    ("keys", Value::Array(keys)),
                ]),
            )
        })
        .collect();
    obj([
        ("plan", crate::cli::json::path(path)),
        ("sha256", Value::from(digest)),
        ("name", Value::from(plan.name.as_str())),
        ("rehearsal", Value::from(plan.rehearsal)),
        ("profile", Value::from(plan.profile.word())),
        (
            "officers",
            Value::Object(
                plan.officers
                    .iter()
                    .map(|(id, name)| (id.clone(), Value::from(name.as_str())))
                    .collect(),
            ),
        ),
        ("roles", Value::Object(roles)),
        (
            "findings",
            Value::Array(
                findings
                    .iter()
                    .map(|f| {
                        obj([
                            ("level", Value::from(f.level.word())),
                            ("message", Value::from(f.message.as_str())),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("ok", Value::from(ok)),
    ])
}

fn check(a: CheckArgs) -> Result<u8, Failure> {
    let (plan, bytes) = load_plan(&a.plan)?;
    let digest = transcript::sha256_hex(&bytes);
    let evidence = firmware_evidence(&plan, &a.plan);
    if a.json {
        crate::cli::json::print(&plan_json(
            &plan,
            &a.plan,
            &digest,
            Expires::now(),
            &evidence,
        ));
    } else {
        print_plan(&plan, &a.plan, &digest);
    }
    eprintln!("Policy:");
    let errors = print_findings(&plan, Expires::now(), &evidence);
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
    /// The new ceremony directory (must not exist, or be empty). `--out` is an old spelling
    /// that still works.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
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

/// The genesis step in the new ceremony directory's transcript: the plan read, every file
/// written (relative to the directory) with its SHA-256, and the air-gap check.
fn record_genesis(
    a: &GenesisArgs,
    step: String,
    plan_bytes: &[u8],
    outputs: &[PathBuf],
    airgap: String,
) -> Result<transcript::Line, Failure> {
    let d = &a.out;
    let rel: Vec<(String, String)> = outputs
        .iter()
        .map(|p| {
            let name = p.strip_prefix(d).unwrap_or(p).display().to_string();
            let digest = transcript::file_sha256(p).map_err(|e| Failure::usage(chain(&e)))?;
            Ok((name, digest))
        })
        .collect::<Result<_, Failure>>()?;
    crate::cli::record::append(
        d,
        Entry {
            step,
            inputs: vec![(
                a.plan.display().to_string(),
                transcript::sha256_hex(plan_bytes),
            )],
            outputs: rel,
            note: Some(airgap),
            ..Entry::default()
        },
    )
    .map_err(|e| Failure::usage(chain(&e)))
}

/// Genesis in the plan's rstuf profile: root v1 only (RSTUF makes its own targets, snapshot
/// and timestamp with its online key), its signing tasks, and the export for RSTUF.
fn genesis_rstuf(
    a: &GenesisArgs,
    plan: &Plan,
    bytes: &[u8],
    root: &AnyMetadata,
    outputs: Vec<PathBuf>,
    airgap: String,
) -> Result<u8, Failure> {
    let d = &a.out;
    let rp = &plan.roles["root"];
    let mut tasks = format!(
        "SIGNING TASKS - {} (profile rstuf)\nRun every command from the ceremony directory ({}).\n{}\n\
         \n1. Root v1 ({} of {} root keys). Payload SHA-256 {}\n",
        escape(&plan.name),
        shown(d),
        if plan.rehearsal {
            "REHEARSAL: never deploy what this produces.\n"
        } else {
            ""
        },
        rp.threshold,
        rp.keys.len(),
        conclave::ceremony::detached::payload_digest(&root.signed_bytes())
    );
    for t in genesis::tasks_for(plan, "root", "drafts/1.root.json", "", "1.root") {
        tasks.push_str(&format!(
            "   [ ] {} ({}, {}):\n       {}\n",
            t.officer,
            t.key,
            t.keyid,
            escape(&t.command)
        ));
    }
    tasks.push_str(
        "   Then: conclave merge drafts/1.root.json signatures/1.root.*.sig -o repository/1.root.json\n\
         \n2. Export: conclave verify repository && conclave export repository -o bundle --format rstuf\n\
         (RSTUF makes targets, snapshot and timestamp with its online key; the bootstrap's settings\n\
         come from plan.toml; docs/rstuf.md)\n",
    );
    if let Some(p) = &plan.pypi {
        tasks.push_str(&rstuf_claimed_tasks(plan, p));
    }
    write_output(&d.join("SIGNING-TASKS.txt"), tasks.as_bytes())?;
    let mut outputs = outputs;
    outputs.push(d.join("SIGNING-TASKS.txt"));
    let step = format!(
        "ceremony genesis from plan \"{}\" (profile rstuf)",
        plan.name
    );
    let line = record_genesis(a, step, bytes, &outputs, airgap)?;
    println!("{tasks}");
    eprintln!(
        "Ceremony directory {} is ready (transcript step {}). Read the payload SHA-256 aloud \
         before signing; each officer runs their command above.",
        shown(d),
        line.seq
    );
    Ok(exit::OK)
}

/// The rstuf profile's PEP 480 step: RSTUF creates claimed v1 at bootstrap and holds it
/// pending until the claimed keys sign it through DAS.
fn rstuf_claimed_tasks(plan: &Plan, p: &conclave::ceremony::plan::PypiPlan) -> String {
    let mut t = format!(
        "\n3. Claimed (PEP 480, {} of {} claimed keys), after RSTUF's bootstrap. RSTUF creates\n\
         \x20  claimed, recently-claimed and unclaimed as custom delegations and holds claimed\n\
         \x20  pending. RSTUF 1.0 makes that first claimed already expired (`rstuf sign` says so and\n\
         \x20  refuses it without --allow-expired); each upload then puts the artifact into a new\n\
         \x20  pending claimed with the plan's expiry, which is the one clients need (docs/rstuf.md).\n\
         \x20  On the online side: curl -s https://RSTUF/api/v1/metadata/sign > pending.json\n\
         \x20  Carry pending.json here; each claimed key holder runs:\n",
        p.claimed.threshold,
        p.claimed.keys.len()
    );
    for name in &p.claimed.keys {
        let Some(k) = plan.keys.get(name) else {
            continue;
        };
        let who = k
            .officer
            .as_deref()
            .map_or_else(String::new, |o| plan.officer_label(o));
        t.push_str(&format!(
            "   [ ] {who} ({}):\n       conclave rstuf sign pending.json --role claimed \
             --trusted-root repository/1.root.json {} -o claimed.{}.json\n",
            escape(name),
            k.source.sign_flags().unwrap_or_default(),
            escape(name)
        ));
    }
    t.push_str(
        "   Then carry each claimed.KEY.json back and post it: curl -X POST -H 'Content-Type: \
         application/json' --data @claimed.KEY.json https://RSTUF/api/v1/metadata/sign\n",
    );
    t
}

fn genesis(a: GenesisArgs) -> Result<u8, Failure> {
    let airgap = crate::cli::airgap::enforce(&a.network)?;
    let (plan, bytes) = load_plan(&a.plan)?;
    let now = Expires::now();
    eprintln!("Checking {} against its policy:", shown(&a.plan));
    let evidence = firmware_evidence(&plan, &a.plan);
    // The transcript records the air-gap check and, when the plan waives the minimum-firmware
    // policy for keys it covers, the waiver and its reason.
    let mut note = airgap.summary();
    if let Some(waiver) = firmware::waiver_note(&plan, &evidence) {
        note = format!("{note}; {waiver}");
    }
    if print_findings(&plan, now, &evidence) > 0 {
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
    let rstuf = plan.profile == conclave::ceremony::plan::Profile::Rstuf;
    let root = AnyMetadata::Root(Metadata::new(drafts.root));
    let targets = AnyMetadata::Targets(Metadata::new(drafts.targets));
    write_output(&d.join("drafts/1.root.json"), &root.to_file_bytes())?;
    outputs.push(d.join("drafts/1.root.json"));
    if rstuf {
        return genesis_rstuf(&a, &plan, &bytes, &root, outputs, note);
    }
    write_output(&d.join("drafts/1.targets.json"), &targets.to_file_bytes())?;
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
    push_tasks(
        &mut tasks,
        &plan,
        "root",
        "drafts/1.root.json",
        "",
        "1.root",
    );
    tasks.push_str("   Then: conclave merge drafts/1.root.json signatures/1.root.*.sig -o repository/1.root.json\n");
    let tp = &plan.roles["targets"];
    tasks.push_str(&format!(
        "\n2. Targets v1 ({} of {} targets keys). Payload SHA-256 {targets_digest}\n",
        tp.threshold,
        tp.keys.len()
    ));
    push_tasks(
        &mut tasks,
        &plan,
        "targets",
        "drafts/1.targets.json",
        "--delegator drafts/1.root.json",
        "1.targets",
    );
    tasks.push_str("   Then: conclave merge drafts/1.targets.json signatures/1.targets.*.sig --delegator repository/1.root.json -o repository/1.targets.json\n");
    if let Some(p) = &plan.pypi {
        claimed_tasks(&plan, p, &mut tasks);
    }
    tasks.push_str(
        "\nFinally: conclave verify repository && conclave export repository -o bundle\n",
    );
    write_output(&d.join("SIGNING-TASKS.txt"), tasks.as_bytes())?;
    outputs.push(d.join("SIGNING-TASKS.txt"));

    let step = format!("ceremony genesis from plan \"{}\"", plan.name);
    let line = record_genesis(&a, step, &bytes, &outputs, note)?;

    println!("{}", tasks);
    eprintln!(
        "Ceremony directory {} is ready (transcript step {}). Read each payload SHA-256 aloud \
         before signing; each officer runs their command above.",
        shown(d),
        line.seq
    );
    Ok(exit::OK)
}

/// Step 3 of SIGNING-TASKS.txt for a plan with a PyPI layout: draft claimed v1 from the first
/// batch of claim requests (with the plan's expiry for claimed), each claimed admin's signing
/// command, and the merge.
fn claimed_tasks(plan: &Plan, p: &conclave::ceremony::plan::PypiPlan, tasks: &mut String) {
    // The plan parser requires an expiry for claimed; `pypi claim` needs one for version 1.
    let expires = p.claimed.expires.as_deref().unwrap_or("WHEN");
    tasks.push_str(&format!(
        "\n3. Claimed v1 (PEP 480; {} of {} claimed keys). Put the first batch of claim requests \
         in requests.jsonl\n   in the ceremony directory (JSON Lines, one project a line; see \
         docs/pypi.md), then draft claimed v1\n   (it prints the payload SHA-256 to read aloud):\n       \
         conclave pypi claim --requests requests.jsonl --expires {} -o drafts/1.claimed.json\n",
        p.claimed.threshold,
        p.claimed.keys.len(),
        conclave::display::shell_word(expires)
    ));
    push_tasks(
        tasks,
        plan,
        "claimed",
        "drafts/1.claimed.json",
        "--delegator repository/1.targets.json",
        "1.claimed",
    );
    tasks.push_str(
        "   Then: conclave merge drafts/1.claimed.json signatures/1.claimed.*.sig --delegator \
         repository/1.targets.json -o repository/1.claimed.json\n   \
         drafts/1.unclaimed.json goes to the online repository, which signs it with the online key.\n",
    );
}

/// One checkbox line per officer who signs `draft` (its role's keys in the plan), with the
/// command they run ([`genesis::tasks_for`]).
fn push_tasks(
    tasks: &mut String,
    plan: &Plan,
    role: &str,
    draft: &str,
    context: &str,
    sig_stem: &str,
) {
    for t in genesis::tasks_for(plan, role, draft, context, sig_stem) {
        tasks.push_str(&format!(
            "   [ ] {} ({}, {}):\n       {}\n",
            t.officer,
            t.key,
            t.keyid,
            escape(&t.command)
        ));
    }
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
    /// A key that is lost or compromised and must not sign (repeatable): its keyid, whole or
    /// a unique prefix of at least 8 hex digits.
    #[arg(long, value_name = "KEYID")]
    lost: Vec<String>,
    /// Write the draft of the next root here (never overwritten).
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: Option<PathBuf>,
    /// Print the report as JSON on stdout (fields in docs/formats.md); the exit code is the
    /// same.
    #[arg(long)]
    json: bool,
}

/// One signing task of a rotation: who signs with which key, and the command.
struct RotationTask {
    officer: String,
    keyid: KeyId,
    key: Option<String>,
    command: String,
}

/// Every key that is not lost signs the draft once: the command for each, paths quoted for
/// the shell.
fn rotation_tasks(
    rot: &genesis::RotationPlan,
    plan: &Plan,
    names: &crate::cli::names::Names,
    root: &Path,
    draft: &str,
) -> Vec<RotationTask> {
    let word = |p: &Path| conclave::display::shell_word(&p.display().to_string()).into_owned();
    rot.keys
        .iter()
        .filter(|k| !k.lost)
        .map(|k| {
            let flags = k
                .name
                .as_ref()
                .and_then(|n| plan.keys.get(n))
                .and_then(|pk| pk.source.sign_flags())
                .unwrap_or_else(|| "--key|--derive|--yubikey|--pkcs11 ...".into());
            RotationTask {
                officer: k
                    .officer
                    .as_deref()
                    .map(|o| plan.officer_label(o))
                    .unwrap_or_else(|| format!("holder of {}", names.keyid(&k.keyid))),
                keyid: k.keyid.clone(),
                key: k.name.clone(),
                command: format!(
                    "conclave sign {draft} --previous {} {flags} -o {}.sig",
                    word(root),
                    k.name.clone().unwrap_or_else(|| k.keyid.to_string())
                ),
            }
        })
        .collect()
}

fn rotation_json(
    a: &PlanRotationArgs,
    rot: &genesis::RotationPlan,
    tasks: &[RotationTask],
) -> crate::cli::json::Value {
    use crate::cli::json::{Value, int, obj, opt, path, strings};
    let keys = rot
        .keys
        .iter()
        .map(|k| {
            obj([
                ("keyid", Value::from(k.keyid.as_str().to_string())),
                ("name", opt(k.name.clone())),
                ("officer", opt(k.officer.clone())),
                ("lost", Value::from(k.lost)),
                ("in_old", Value::from(k.in_old)),
                ("in_new", Value::from(k.in_new)),
            ])
        })
        .collect();
    let tasks = tasks
        .iter()
        .map(|t| {
            obj([
                ("officer", Value::from(t.officer.as_str())),
                ("keyid", Value::from(t.keyid.as_str().to_string())),
                ("key", opt(t.key.clone())),
                ("command", Value::from(t.command.as_str())),
            ])
        })
        .collect();
    obj([
        ("root", path(&a.root)),
        ("plan", path(&a.plan)),
        ("old_version", int(rot.old_version)),
        ("new_version", int(rot.new_version)),
        ("old_threshold", int(rot.old_threshold)),
        ("new_threshold", int(rot.new_threshold)),
        ("old_available", int(rot.old_available)),
        ("new_available", int(rot.new_available)),
        ("feasible", Value::from(rot.feasible)),
        ("keys", Value::Array(keys)),
        ("tasks", Value::Array(tasks)),
        ("advice", strings(&rot.advice)),
        ("draft", a.output.as_deref().map_or(Value::Null, path)),
    ])
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
    // A lost key is named among the current root's keys and the plan's, whole or by prefix.
    let mut known = current.signed.keys.clone();
    for k in plan.keys.values() {
        known.entry(k.key.keyid()).or_insert_with(|| k.key.clone());
    }
    let mut lost = BTreeSet::new();
    for l in &a.lost {
        let keyid = conclave::metadata::resolve_keyid(l, &known).map_err(|e| match e {
            conclave::metadata::KeyIdLookupError::NotFound { .. } => Failure::usage(format!(
                "--lost {}: that key is not a root key of version {} nor of the plan",
                escape(l),
                current.signed.common.version
            )),
            e => Failure::usage(format!("--lost {}: {e}", escape(l))),
        })?;
        lost.insert(keyid);
    }
    let rot = genesis::plan_rotation(&current.signed, &plan, &lost, Expires::now())
        .map_err(|e| Failure::usage(format!("{}: {}", shown(&a.plan), rotation_problem(&e))))?;
    // A key leaving service may be only in the ceremony's own plan (plan.toml beside the
    // current root), not in the new one: its name and holder come from there.
    let names = crate::cli::names::Names::find(&Default::default(), &[&a.root])?;
    let draft = a
        .output
        .as_ref()
        .map(|o| conclave::display::shell_word(&o.display().to_string()).into_owned())
        .unwrap_or_else(|| "NEXT.root.json".into());
    let tasks = rotation_tasks(&rot, &plan, &names, &a.root, &draft);
    if a.json {
        crate::cli::json::print(&rotation_json(&a, &rot, &tasks));
    } else {
        print_rotation(&rot, &plan, &names, &a, &tasks);
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

/// The rotation report as text on stdout.
fn print_rotation(
    rot: &genesis::RotationPlan,
    plan: &Plan,
    names: &crate::cli::names::Names,
    a: &PlanRotationArgs,
    tasks: &[RotationTask],
) {
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
    println!("Signing tasks (each officer signs the draft once per key listed):");
    for t in tasks {
        println!("  [ ] {}: {}", t.officer, escape(&t.command));
    }
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
/// with a head signature. Every artifact is marked as rehearsal material. Takes under a
/// minute and 2 GiB of memory: 32-60 s measured on a busy 2-core machine, debug or release
/// build alike, most of it Argon2id for the five derived keys (docs/performance.md).
#[derive(clap::Args)]
pub struct RehearseArgs {
    /// The directory for the rehearsal (must not exist, or be empty). `--out` is an old
    /// spelling that still works.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
    out: PathBuf,
    /// The online side rehearsed for: pep458 (the PyPI layout as PEP 458/480 write it) or
    /// rstuf (RSTUF 1.0: root v1 and v2 with RSTUF's one online key, whose private key is left
    /// in DIR/rstuf-online-keys/ for the worker's RSTUF_ONLINE_KEY_DIR, and the bootstrap and
    /// update payloads in DIR/bundle/rstuf/; docs/rstuf.md). Either way the officers'
    /// passphrases are in DIR/keys/REHEARSAL-PASSPHRASES.txt.
    #[arg(long, value_name = "PROFILE", default_value = "pep458", value_parser = ["pep458", "rstuf"])]
    online: String,
    /// Rehearse the officers' own plan instead of the built-in example: the same officers,
    /// roles, thresholds, layout and expiry rules, with a throwaway key in place of every key
    /// (written where the plan's public key files are, under DIR; P-256 for YubiKeys). Genesis,
    /// every signature, merge, verification, the export bundle and the transcript, all marked
    /// as rehearsal material, to review and publish before the ceremony.
    #[arg(long, value_name = "PLAN", conflicts_with = "online")]
    plan: Option<PathBuf>,
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
    if let Some(plan) = &a.plan {
        let text = String::from_utf8(crate::cli::read_file(plan)?)
            .map_err(|_| Failure::usage(format!("{}: not UTF-8 text", shown(plan))))?;
        let outcome = rehearsal::run_plan(&a.out, &text, &mut say).map_err(|e| {
            Failure::failed(format!("the rehearsal failed: {}", escape(&chain(&e))))
        })?;
        eprintln!();
        println!(
            "Rehearsal of {} complete in {}",
            shown(plan),
            shown(&outcome.dir)
        );
        println!(
            "  root v1 and targets v1; export bundle {}",
            shown(&outcome.bundle)
        );
        println!(
            "  transcript: {} steps, head {}",
            outcome.transcript_lines, outcome.transcript_head
        );
        return Ok(exit::OK);
    }
    let online = if a.online == "rstuf" {
        rehearsal::Online::Rstuf
    } else {
        rehearsal::Online::Pep458
    };
    let outcome = rehearsal::run_for(&a.out, &mut say, online)
        .map_err(|e| Failure::failed(format!("the rehearsal failed: {}", escape(&chain(&e)))))?;
    eprintln!();
    println!("Rehearsal complete in {}", shown(&outcome.dir));
    if online == rehearsal::Online::Rstuf {
        println!(
            "  root v1 -> v{}; RSTUF payloads in {}; the online key in {}",
            outcome.root_versions,
            shown(&outcome.bundle.join("rstuf")),
            shown(&outcome.dir.join(rehearsal::RSTUF_KEY_DIR))
        );
    } else {
        println!(
            "  root v1 -> v{}; claimed with {} projects; export bundle {}",
            outcome.root_versions,
            outcome.claimed_projects,
            shown(&outcome.bundle)
        );
    }
    println!(
        "  transcript: {} steps, head {}",
        outcome.transcript_lines, outcome.transcript_head
    );
    // Commands to run as printed: paths quoted for the shell.
    let word = |p: &Path| conclave::display::shell_word(&p.display().to_string()).into_owned();
    println!("Next, try:");
    println!("  conclave verify {}", word(&outcome.bundle));
    println!(
        "  conclave transcript verify {} --head-sig {}",
        word(&outcome.dir),
        word(&outcome.dir.join("transcript-head.alice.sig"))
    );
    println!("  conclave transcript print {}", word(&outcome.dir));
    Ok(exit::OK)
}
