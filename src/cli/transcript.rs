//! `conclave transcript verify|print|note|sign-head`: the ceremony's hash-chained record.

use std::path::{Path, PathBuf};

use conclave::ceremony::transcript::{self, Entry, HeadSignature, Line, Vouchers};
use conclave::display::escape;
use conclave::metadata::AnyMetadata;

use crate::cli::prompt::Prompter;
use crate::cli::{Failure, chain, exit, read_file, shown, write_output};

/// The ceremony transcript (transcript.jsonl in the ceremony directory): check its hash
/// chain, print the paper record, add a manual step, sign its head.
#[derive(clap::Subcommand)]
pub enum TranscriptCommand {
    Verify(VerifyArgs),
    Print(PrintArgs),
    Note(NoteArgs),
    SignHead(Box<SignHeadArgs>),
}

pub fn run(cmd: TranscriptCommand) -> Result<u8, Failure> {
    match cmd {
        TranscriptCommand::Verify(a) => verify(a),
        TranscriptCommand::Print(a) => print(a),
        TranscriptCommand::Note(a) => note(a),
        TranscriptCommand::SignHead(a) => sign_head(*a),
    }
}

/// Read the transcript at DIR_OR_FILE and check its chain; a broken chain is exit 1 with one
/// `error: line N: ...` per problem.
fn load(dir_or_file: &Path) -> Result<(PathBuf, Vec<Line>), Failure> {
    let (path, read) = read_chain(dir_or_file)?;
    match read {
        Ok(lines) => Ok((path, lines)),
        Err(problems) => Err(broken(&path, &problems)),
    }
}

/// A transcript's lines, or the problems that break its chain.
type Chain = Result<Vec<Line>, Vec<transcript::ChainProblem>>;

/// The transcript at DIR_OR_FILE: its lines, or the problems that break its chain.
fn read_chain(dir_or_file: &Path) -> Result<(PathBuf, Chain), Failure> {
    let path = transcript::path_for(dir_or_file);
    if !path.is_file() {
        return Err(
            Failure::usage(format!("{}: no transcript here", shown(&path)))
                .hint("give a ceremony directory holding transcript.jsonl, or the transcript file"),
        );
    }
    match transcript::read(&path) {
        Ok(lines) => Ok((path, Ok(lines))),
        Err(transcript::TranscriptError::Broken { problems, .. }) => Ok((path, Err(problems))),
        Err(e) => Err(Failure::usage(chain(&e))),
    }
}

/// Say what breaks the chain, one `error:` line each, and end with exit 1.
fn broken(path: &Path, problems: &[transcript::ChainProblem]) -> Failure {
    for p in problems {
        eprintln!("error: {}: {}", shown(path), escape(&p.to_string()));
    }
    Failure::failed(format!(
        "{}: the transcript's hash chain is broken ({} problem(s)); it has been altered \
         or damaged since it was written",
        shown(path),
        problems.len()
    ))
    .hint("compare with the copies and the head digest on the paper record; do not append to it")
}

/// Check a transcript's hash chain (and, with --head-sig, signatures over its head).
///
/// Editing, deleting, inserting or reordering any line is reported with its line number
/// (exit 1). Removing lines from the end leaves a shorter valid chain: compare the head digest
/// printed here with the one on the paper record, or give the head signatures made with
/// `transcript sign-head`. Exit 0 when everything holds.
///
/// A head signature counts only if it is made with an officer's key: a key the ceremony plan
/// gives an officer, or a root or targets key of the current root. Anyone can make a key,
/// rewrite the transcript, re-chain it and sign its head; such a signature is refused (exit 1)
/// with the key's keyid. By default the officers' keys are read from the ceremony directory
/// (its plan.toml, and the newest N.root.json in its repository/); someone who could rewrite
/// the transcript could rewrite those too, so at the table give your own copy of the plan
/// (--plan) or the published root (--root): then only what you give is used. A witness's
/// signature counts when you name the witness's public key with --witness-key. The output names
/// whose key made each signature: read it out and compare it with the paper record.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The ceremony directory, or the transcript file.
    #[arg(value_name = "DIR_OR_FILE")]
    path: PathBuf,
    /// Head signature files (from `transcript sign-head`) to check against the transcript.
    #[arg(long = "head-sig", value_name = "SIGFILE", num_args = 1..)]
    head_sig: Vec<PathBuf>,
    /// The ceremony plan whose officers' keys may sign the head (instead of the ceremony
    /// directory's plan.toml and root).
    #[arg(long, value_name = "PLAN", requires = "head_sig")]
    plan: Option<PathBuf>,
    /// A root whose root and targets keys may sign the head (instead of the ceremony
    /// directory's plan.toml and root).
    #[arg(long, value_name = "ROOT", requires = "head_sig")]
    root: Option<PathBuf>,
    /// A witness's public key (TUF key JSON, as `key generate` prints it) whose head signature
    /// also counts; the output names it as a witness key (repeatable).
    #[arg(long = "witness-key", value_name = "PUBFILE", requires = "head_sig")]
    witness_keys: Vec<PathBuf>,
    /// Print the result as JSON on stdout, broken chain or not (fields in docs/formats.md);
    /// the exit code is the same.
    #[arg(long)]
    json: bool,
}

/// The newest `N.root.json` in the ceremony directory's `repository/`, if any.
fn newest_root(dir: &Path) -> Result<Option<PathBuf>, Failure> {
    let repo = dir.join("repository");
    if !repo.is_dir() {
        return Ok(None);
    }
    let names = conclave::ceremony::repository::metadata_files(&repo).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot list: {}",
            shown(&repo),
            crate::cli::io_reason(&e.source)
        ))
    })?;
    Ok(names
        .iter()
        .filter_map(|e| match conclave::verify::classify(&e.name) {
            Some((role, Some(v))) if role == "root" => Some((v, &e.name)),
            _ => None,
        })
        .max_by_key(|(v, _)| *v)
        .map(|(_, name)| repo.join(name)))
}

fn add_root(v: &mut Vouchers, path: &Path) -> Result<(), Failure> {
    match crate::cli::read_metadata(path)? {
        AnyMetadata::Root(r) => {
            v.add_root(&r.signed, &shown(path));
            Ok(())
        }
        other => Err(Failure::usage(format!(
            "{}: is {} metadata, not a root",
            shown(path),
            other.type_name()
        ))),
    }
}

/// Whose keys may sign the head of the transcript in `dir`: what --plan and --root give, or
/// else the ceremony directory's plan.toml and newest root.
fn vouchers(dir: &Path, a: &VerifyArgs) -> Result<Vouchers, Failure> {
    let mut v = Vouchers::new();
    for w in &a.witness_keys {
        v.add_witness(&crate::cli::read_public_key(w)?, &shown(w));
    }
    if a.plan.is_some() || a.root.is_some() {
        if let Some(p) = &a.plan {
            let (plan, _) = crate::cli::ceremony::load_plan(p)?;
            v.add_plan(&plan, &shown(p));
        }
        if let Some(r) = &a.root {
            add_root(&mut v, r)?;
        }
        return Ok(v);
    }
    let plan_path = dir.join("plan.toml");
    if plan_path.is_file() {
        let plan = crate::cli::ceremony::load_ceremony_plan(&plan_path)?;
        v.add_plan(&plan, &shown(&plan_path));
    }
    if let Some(r) = newest_root(dir)? {
        add_root(&mut v, &r)?;
    }
    if v.is_empty() {
        return Err(Failure::usage(format!(
            "{}: cannot tell whose keys may sign the transcript's head: it holds no plan.toml \
             and no repository/N.root.json, and no --witness-key was given",
            shown(dir)
        ))
        .hint(
            "give --plan PLAN (the ceremony plan) or --root ROOT (a root whose root and targets \
             keys are the officers'), and --witness-key PUBFILE for each witness",
        ));
    }
    Ok(v)
}

/// One head signature checked: which line it signs, and whose key made it or why it does
/// not count.
struct HeadCheck {
    file: PathBuf,
    sig: HeadSignature,
    whose: Result<Vec<String>, String>,
}

fn verify(a: VerifyArgs) -> Result<u8, Failure> {
    let (path, read) = read_chain(&a.path)?;
    let lines = match read {
        Ok(lines) => lines,
        Err(problems) => {
            if a.json {
                crate::cli::json::print(&verify_json(&path, &[], &problems, &[], &[]));
            }
            return Err(broken(&path, &problems));
        }
    };
    let vouchers = if a.head_sig.is_empty() {
        Vouchers::new()
    } else {
        vouchers(path.parent().unwrap_or(Path::new(".")), &a)?
    };
    let mut checks = Vec::new();
    for sig_path in &a.head_sig {
        let bytes = read_file(sig_path)?;
        let h = HeadSignature::parse(&bytes).map_err(|e| {
            Failure::failed(format!(
                "{}: not a transcript head signature: {}",
                shown(sig_path),
                escape(&chain(&e))
            ))
        })?;
        let whose = h
            .check_vouched(&lines, &vouchers)
            .map(|w| w.into_iter().map(str::to_owned).collect())
            .map_err(|why| chain(&why));
        checks.push(HeadCheck {
            file: sig_path.clone(),
            sig: h,
            whose,
        });
    }
    let failed = checks.iter().filter(|c| c.whose.is_err()).count();
    if a.json {
        crate::cli::json::print(&verify_json(
            &path,
            &lines,
            &[],
            &checks,
            vouchers.sources(),
        ));
    }
    for c in &checks {
        if let Err(why) = &c.whose {
            eprintln!("error: {}: {}", shown(&c.file), escape(why));
        }
    }
    if failed > 0 {
        return Err(Failure::failed(format!(
            "{failed} head signature(s) do not vouch for {}",
            shown(&path)
        ))
        .hint(
            "a head signature counts only if it matches the transcript and is made with a key \
             the plan gives an officer or the root trusts for root or targets",
        ));
    }
    if !a.json {
        print_verified(&path, &lines, &checks, &vouchers);
    }
    Ok(exit::OK)
}

fn print_verified(path: &Path, lines: &[Line], checks: &[HeadCheck], vouchers: &Vouchers) {
    let Some(head) = lines.last() else {
        println!("{}: empty transcript (no steps recorded)", shown(path));
        return;
    };
    println!(
        "{}: hash chain intact: {} step(s), {} to {}",
        shown(path),
        lines.len(),
        escape(&lines[0].time),
        escape(&head.time)
    );
    println!("head (line {}): {}", head.seq, head.hash);
    if !checks.is_empty() {
        println!(
            "head signatures (keys trusted from {}):",
            escape(&vouchers.sources().join(", "))
        );
    }
    for c in checks {
        if let Ok(whose) = &c.whose {
            println!(
                "  {}: key {} signed the head at line {} ({})\n      whose: {}",
                shown(&c.file),
                c.sig.signature.keyid,
                c.sig.seq,
                c.sig.head_sha256,
                escape(&whose.join("; "))
            );
        }
    }
}

/// `transcript verify --json`: the chain (steps, head) or what breaks it, and each head
/// signature with whose key made it or why it does not count.
fn verify_json(
    path: &Path,
    lines: &[Line],
    problems: &[transcript::ChainProblem],
    checks: &[HeadCheck],
    trusted_from: &[String],
) -> crate::cli::json::Value {
    use crate::cli::json::{Value, int, obj, opt, strings};
    let head = lines.last().map_or(Value::Null, |h| {
        obj([
            ("seq", int(h.seq)),
            ("hash", Value::from(h.hash.as_str())),
            ("time", Value::from(h.time.as_str())),
        ])
    });
    let sigs = checks
        .iter()
        .map(|c| {
            obj([
                ("file", crate::cli::json::path(&c.file)),
                (
                    "keyid",
                    Value::from(c.sig.signature.keyid.as_str().to_string()),
                ),
                ("seq", int(c.sig.seq)),
                ("head_sha256", Value::from(c.sig.head_sha256.as_str())),
                ("vouched", Value::from(c.whose.is_ok())),
                ("whose", c.whose.as_ref().map_or(Value::Null, strings)),
                ("error", opt(c.whose.as_ref().err().cloned())),
            ])
        })
        .collect();
    obj([
        ("transcript", crate::cli::json::path(path)),
        (
            "ok",
            Value::from(problems.is_empty() && checks.iter().all(|c| c.whose.is_ok())),
        ),
        ("intact", Value::from(problems.is_empty())),
        // A broken chain has no step count to trust.
        (
            "steps",
            if problems.is_empty() {
                int(lines.len())
            } else {
                Value::Null
            },
        ),
        ("first_time", opt(lines.first().map(|l| l.time.clone()))),
        ("head", head),
        (
            "problems",
            strings(problems.iter().map(ToString::to_string)),
        ),
        ("head_signatures", Value::Array(sigs)),
        ("trusted_from", strings(trusted_from)),
    ])
}

/// Print the transcript as a paper record: numbered steps with time, officer, files in and
/// out (short hashes) and empty Initials and Witness columns to sign by hand.
///
/// Keys are named as the plan names them (--plan, or the ceremony directory's plan.toml):
/// "key: 1e05 df8b ... (root-alice, officer Alice Smith)"; the officer who signed a step is
/// recorded in the transcript and printed with their full name.
///
/// The chain is checked first; a broken transcript is not printed (exit 1).
#[derive(clap::Args)]
pub struct PrintArgs {
    /// The ceremony directory, or the transcript file.
    #[arg(value_name = "DIR_OR_FILE")]
    path: PathBuf,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

fn short(hash: &str) -> String {
    // Groups of four, as they are read aloud.
    let s: String = hash.chars().take(16).collect();
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn print(a: PrintArgs) -> Result<u8, Failure> {
    let (path, lines) = load(&a.path)?;
    let names = crate::cli::names::Names::find(&a.names, &[&path])?;
    const W: usize = 58;
    let rule = "-".repeat(4 + 21 + W + 24);
    println!("CEREMONY TRANSCRIPT - {}", shown(&path));
    println!(
        "{} step(s); hash chain verified by conclave {}",
        lines.len(),
        env!("CARGO_PKG_VERSION")
    );
    println!("{rule}");
    println!(
        "{:>3} {:<20} {:<W$} {:<11} {:<11}",
        "#", "Time (UTC)", "Step", "Initials", "Witness"
    );
    println!("{rule}");
    let mut binary: Option<&str> = None;
    for l in &lines {
        let time = escape(&l.time.replace('T', " ").replace('Z', "")).into_owned();
        let mut detail = vec![escape(&l.entry.step).into_owned()];
        if let Some(o) = &l.entry.officer {
            detail.push(match names.key_names().officer(o) {
                Some(full) => format!("officer: {} ({})", escape(full), escape(o)),
                None => format!("officer: {}", escape(o)),
            });
        }
        for (p, h) in &l.entry.inputs {
            detail.push(format!("in:  {} [{}]", escape(p), escape(&short(h))));
        }
        for (p, h) in &l.entry.outputs {
            detail.push(format!("out: {} [{}]", escape(p), escape(&short(h))));
        }
        for k in &l.entry.keyids {
            let named = conclave::metadata::KeyId::new(k)
                .ok()
                .and_then(|id| names.key_names().get(&id).map(|n| n.label()));
            detail.push(match named {
                Some(n) => format!("key: {} ({n})", escape(&short(k))),
                None => format!("key: {}", escape(&short(k))),
            });
        }
        if let Some(n) = &l.entry.note {
            detail.push(format!("note: {}", escape(n)));
        }
        if binary != Some(l.binary_sha256.as_str()) {
            detail.push(format!(
                "conclave {} binary [{}]",
                escape(&l.conclave_version),
                escape(&short(&l.binary_sha256))
            ));
            binary = Some(&l.binary_sha256);
        }
        detail.push(format!("line hash [{}]", short(&l.hash)));
        let mut first = true;
        for d in detail {
            for chunk in wrap(&d, W) {
                if first {
                    println!(
                        "{:>3} {:<20} {:<W$} {:<11} {:<11}",
                        l.seq, time, chunk, "__________", "__________"
                    );
                    first = false;
                } else {
                    println!("{:>3} {:<20} {chunk}", "", "");
                }
            }
        }
        println!();
    }
    println!("{rule}");
    if let Some(head) = lines.last() {
        println!("Head digest (line {}), to read aloud and sign:", head.seq);
        println!("  {}", short_all(&head.hash));
    }
    println!();
    println!("Signatures (name, role, signature, date):");
    for _ in 0..4 {
        println!();
        println!("  ______________________________________________________________________");
    }
    Ok(exit::OK)
}

fn short_all(hash: &str) -> String {
    hash.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split `s` into pieces of at most `width` characters.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width)
        .map(|c| c.iter().collect::<String>())
        .collect()
}

/// Append a manual step to the transcript, e.g. "key holder alice presented her key".
///
/// The existing chain is checked first; nothing is appended to a broken transcript.
#[derive(clap::Args)]
pub struct NoteArgs {
    /// The ceremony directory (transcript.jsonl is created in it if missing).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// What happened.
    #[arg(long, value_name = "TEXT")]
    step: String,
    /// Who did it.
    #[arg(long, value_name = "NAME")]
    officer: Option<String>,
}

fn append(dir: &Path, entry: Entry) -> Result<Line, Failure> {
    if !dir.is_dir() {
        return Err(Failure::usage(format!("{}: not a directory", shown(dir)))
            .hint("give the ceremony directory"));
    }
    crate::cli::record::append(dir, entry).map_err(|e| match e {
        transcript::TranscriptError::Broken { .. } => Failure::failed(escape(&chain(&e)))
            .hint("run `conclave transcript verify` on it; nothing was appended"),
        other => Failure::usage(escape(&chain(&other))),
    })
}

fn note(a: NoteArgs) -> Result<u8, Failure> {
    if a.step.trim().is_empty() {
        return Err(Failure::usage("--step must say what happened"));
    }
    let line = append(
        &a.dir,
        Entry {
            step: a.step,
            officer: a.officer,
            ..Entry::default()
        },
    )?;
    eprintln!(
        "Recorded step {} in {}.",
        line.seq,
        shown(&a.dir.join(transcript::FILE_NAME))
    );
    println!("{}", line.hash);
    Ok(exit::OK)
}

/// Sign the transcript's head digest with your key: you vouch for every step up to it.
///
/// Any key `conclave sign` takes signs here, opened the same way: a key file, a derived key,
/// a key in a PKCS#11 token or on a YubiKey (its keyid shown before the passphrase or PIN is
/// asked for; a wrong one typed at the terminal is asked for again). The chain is checked
/// first. Officers and witnesses each write a small head signature
/// file; `transcript verify --head-sig FILE...` checks them (an officer's signature counts when
/// the plan or the root lists the key; a witness's when the verifier names the witness's key).
/// The signing is itself recorded as the next step of the transcript (after the signed head).
#[derive(clap::Args)]
pub struct SignHeadArgs {
    /// The ceremony directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    #[command(flatten)]
    keys: crate::cli::signer::KeyArgs,
    /// Read the passphrase or PIN from this file descriptor (one line per prompt). A wrong
    /// one ends the command; at the terminal it is asked for again (three tries).
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
    /// A ceremony plan whose key names and officers are shown beside the keyid (by default
    /// the ceremony directory's plan.toml).
    #[arg(long = "plan", value_name = "PLAN")]
    plans: Vec<PathBuf>,
    /// The head signature file to write.
    #[arg(short = 'o', long = "output", value_name = "SIGFILE")]
    output: PathBuf,
}

fn sign_head(a: SignHeadArgs) -> Result<u8, Failure> {
    if !a.dir.is_dir() {
        return Err(
            Failure::usage(format!("{}: not a directory", shown(&a.dir)))
                .hint("give the ceremony directory that holds transcript.jsonl"),
        );
    }
    let (path, lines) = load(&a.dir)?;
    let Some(head) = lines.last() else {
        return Err(Failure::usage(format!(
            "{}: the transcript is empty: nothing to sign",
            shown(&path)
        )));
    };
    eprintln!(
        "You are about to sign the head of {}: line {} of {}, recorded {}.",
        shown(&path),
        head.seq,
        lines.len(),
        escape(&head.time)
    );
    eprintln!("Head digest - compare it aloud with the paper record:");
    eprintln!("  {}", short_all(&head.hash));
    let names = crate::cli::names::Names::find(
        &crate::cli::names::PlanArgs {
            plans: a.plans.clone(),
        },
        &[&path],
    )?;
    let mut prompter = Prompter::new(a.passphrase_fd)?;
    // Any key may sign the head: `transcript verify` says whose it is, and counts only an
    // officer's (or a witness's, named there).
    let any_key = |_: &conclave::metadata::KeyId| Ok(());
    let signer = crate::cli::signer::open(&a.keys, &mut prompter, &any_key, &names, 1)?;
    let h = transcript::sign_head(&lines, signer.as_ref())
        // Not chained: SignError's messages already carry their causes.
        .map_err(|e| match e {
            transcript::TranscriptError::Sign(e) => crate::cli::signer::sign_failure(&a.keys, e),
            other => Failure::failed(other.to_string()),
        })?;
    let bytes = h.to_bytes();
    write_output(&a.output, &bytes)?;
    eprintln!(
        "Wrote the head signature by {} to {}.",
        names.keyid(&h.signature.keyid),
        shown(&a.output)
    );
    // Record the signing too, so the transcript shows who vouched for it and when.
    let dir = path.parent().unwrap_or(Path::new("."));
    append(
        dir,
        Entry {
            step: format!("transcript head (line {}) signed", h.seq),
            outputs: vec![(
                a.output.display().to_string(),
                transcript::sha256_hex(&bytes),
            )],
            keyids: vec![h.signature.keyid.to_raw_string()],
            officer: names.officer(&h.signature.keyid),
            ..Entry::default()
        },
    )?;
    println!("{}", h.signature.keyid);
    Ok(exit::OK)
}
