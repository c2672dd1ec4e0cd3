//! `conclave verify PATH... [--trusted-root FILE] [--json] [--at TIME]`

use std::path::{Path, PathBuf};

use conclave::compat::{self, Client};
use conclave::display::escape;
use conclave::metadata::Expires;
use conclave::verify::{self, FileStatus, InputFile, ReadInput, Report};

use crate::cli::{Failure, Input, exit, parse_time, read_file, read_input, shown};

/// The files of one PATH: as bytes, and large targets roles already read in pieces.
struct Loaded {
    base: Option<PathBuf>,
    files: Vec<InputFile>,
    read: Vec<ReadInput>,
}

/// Verify TUF metadata with the rules clients apply.
///
/// Each PATH is a metadata directory in repository layout (N.root.json for every root
/// version; targets.json or V.targets.json; delegated roles as ROLE.json or V.ROLE.json;
/// snapshot and timestamp if present) or a single metadata file. The trust anchor is the
/// lowest N.root.json unless --trusted-root names one. Root versions must chain (each
/// signed by a threshold of the previous root's keys and of its own), the final root must
/// be unexpired, targets verify against the final root and delegated roles against the role
/// that delegates to them.
///
/// With --clients, each file is also checked against what known clients do differently from
/// the specification: which of them would refuse it or misread it, and why (one `compat:`
/// line per finding on stderr; docs/verification.md lists every case with its source).
///
/// A role inside its re-signing window (as `conclave expiry` reckons it, with the plan.toml
/// of the ceremony directory PATH is in) gets a `note:` line on stderr; it does not change
/// the exit code.
///
/// Exit 0 when every metadata file present verifies (and, with --clients, no named client
/// would refuse or misread any of them); 1 when any fails to parse or verify (one line per
/// problem on stderr, naming the file, the role and the rule broken) or a named client would
/// refuse or misread one; 2 for usage errors.
#[derive(clap::Args)]
pub struct Args {
    /// Metadata directories or files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A root you already trust (e.g. the one pip ships), used as the trust anchor.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Check expiry as of this time instead of now (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ),
    /// e.g. to check that metadata will still be valid on the day it is published.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<Expires>,
    /// A revoked key (repeatable; its keyid, whole or a unique prefix of at least 8 hex
    /// digits): its signatures count toward no threshold on any file. A directory holding the
    /// revocation record `conclave revoke` writes (REVOKED.record) is checked that way on
    /// the drafts the record names, without this.
    #[arg(long = "revoked", value_name = "KEYID")]
    revoked: Vec<String>,
    /// The clients that must load this metadata, comma-separated: python-tuf, tuf-js, tough,
    /// go-tuf, or all. Reports each file that one of them would refuse or misread, and why;
    /// any such file makes verification fail.
    #[arg(long, value_name = "CLIENTS", value_delimiter = ',')]
    clients: Vec<String>,
}

pub fn run(args: Args) -> Result<u8, Failure> {
    let now = args.at.unwrap_or_else(Expires::now);
    let clients = parse_clients(&args.clients)?;
    let trusted = match &args.trusted_root {
        Some(p) => Some(InputFile {
            name: p.display().to_string(),
            bytes: read_file(p)?,
        }),
        None => None,
    };
    // Read every input before verifying anything, so a typo in the last path is reported
    // as a usage error rather than after pages of output.
    let mut inputs = Vec::new();
    for path in &args.paths {
        inputs.push((path.clone(), load(path)?));
    }
    let mut all_ok = true;
    let mut json_reports = Vec::new();
    for (path, Loaded { base, files, read }) in inputs {
        let revocations = revocations(&path, &args.revoked, &files, &read)?;
        let report = crate::cli::progress::step(format!("Verifying {}", shown(&path)), || {
            let given = files
                .iter()
                .map(verify::Given::from)
                .chain(read.iter().map(verify::Given::from));
            verify::verify_repository_revoked(given, trusted.as_ref(), now, &revocations)
        });
        all_ok &= report.is_ok();
        let shown = |file: &str| -> String {
            match &base {
                Some(dir) if trusted.as_ref().is_none_or(|t| t.name != file) => {
                    dir.join(file).display().to_string()
                }
                _ => file.to_owned(),
            }
        };
        for p in &report.problems {
            eprintln!(
                "error: {}: role {}: {}: {}",
                escape(&shown(&p.file)),
                escape(&p.role),
                p.rule,
                escape(&p.message)
            );
        }
        for w in &report.warnings {
            eprintln!(
                "warning: {}: role {}: {}: {}",
                escape(&shown(&w.file)),
                escape(&w.role),
                w.rule,
                escape(&w.message)
            );
        }
        let dated: Vec<(String, u64, String, Expires)> = report
            .files
            .iter()
            .filter_map(|f| {
                let expires = Expires::parse(f.expires.as_deref()?).ok()?;
                Some((f.role.clone(), f.version?, shown(&f.file), expires))
            })
            .collect();
        crate::cli::expiry::note_due(dated, &[&path], now);
        if report.problems.iter().any(|p| p.rule == "no-root") {
            eprintln!(
                "hint: give the repository's N.root.json files with the rest, or the root you \
                 trust with --trusted-root FILE"
            );
        }
        let findings = match &clients {
            Some(clients) => Some(compat_findings(base.as_deref(), &files, &read, clients)?),
            None => None,
        };
        for f in findings.iter().flatten() {
            eprintln!("compat: {}", shown_finding(f, &shown));
        }
        all_ok &= findings.as_ref().is_none_or(Vec::is_empty);
        if args.json {
            let mut v = report.to_json();
            if let conclave::cjson::Value::Object(m) = &mut v {
                m.insert("path".into(), path.display().to_string().into());
                if let (Some(clients), Some(findings)) = (&clients, &findings) {
                    m.insert("compat".into(), compat_json(clients, findings));
                }
            }
            json_reports.push(v);
        } else {
            print_human(&path, &report, files.len() + read.len());
            if let (Some(clients), Some(findings)) = (&clients, &findings) {
                print_compat(clients, findings);
            }
        }
        crate::cli::leave_at_exit((files, read, report));
    }
    if args.json {
        let out = if json_reports.len() == 1 {
            json_reports.pop().expect("one report")
        } else {
            conclave::cjson::Value::Array(json_reports)
        };
        print!(
            "{}",
            String::from_utf8(conclave::cjson::to_pretty(&out)).expect("JSON output is UTF-8")
        );
    }
    Ok(if all_ok { exit::OK } else { exit::FAILED })
}

/// The clients --clients names (`all` for every one conclave knows); `None` without it.
pub(crate) fn parse_clients(given: &[String]) -> Result<Option<Vec<Client>>, Failure> {
    if given.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for name in given {
        if name == "all" {
            out.extend(Client::ALL);
            continue;
        }
        let c: Client = name.trim().parse().map_err(|e: compat::UnknownClient| {
            Failure::usage(e.to_string()).hint("e.g. --clients python-tuf,tough, or --clients all")
        })?;
        out.push(c);
    }
    out.sort();
    out.dedup();
    Ok(Some(out))
}

/// What `clients` would refuse or misread among one PATH's files. Roles read in pieces are
/// read again whole: the checks look at the file's JSON as each client would.
fn compat_findings(
    base: Option<&Path>,
    files: &[InputFile],
    read: &[ReadInput],
    clients: &[Client],
) -> Result<Vec<compat::Finding>, Failure> {
    let mut again = Vec::new();
    for r in read {
        let path = base.map_or_else(|| PathBuf::from(&r.name), |b| b.join(&r.name));
        again.push((r.name.as_str(), read_file(&path)?));
    }
    let all: Vec<compat::File> = files
        .iter()
        .map(|f| compat::File {
            name: &f.name,
            bytes: &f.bytes,
        })
        .chain(
            again
                .iter()
                .map(|(name, bytes)| compat::File { name, bytes }),
        )
        .collect();
    Ok(compat::check(&all, clients))
}

fn shown_finding(f: &compat::Finding, shown: &dyn Fn(&str) -> String) -> String {
    let mut f = f.clone();
    f.file = shown(&f.file);
    f.to_string()
}

fn compat_json(clients: &[Client], findings: &[compat::Finding]) -> conclave::cjson::Value {
    use conclave::cjson::Value;
    let mut m = conclave::cjson::Map::new();
    m.insert(
        "clients".into(),
        Value::Array(clients.iter().map(|c| c.name().into()).collect()),
    );
    m.insert(
        "findings".into(),
        Value::Array(findings.iter().map(compat::Finding::to_json).collect()),
    );
    Value::Object(m)
}

fn print_compat(clients: &[Client], findings: &[compat::Finding]) {
    let names: Vec<&str> = clients.iter().map(|c| c.name()).collect();
    if findings.is_empty() {
        println!(
            "clients: {}: none would refuse or misread these files",
            names.join(", ")
        );
    } else {
        let files: std::collections::BTreeSet<&str> =
            findings.iter().map(|f| f.file.as_str()).collect();
        println!(
            "clients: {}: {} finding(s) in {} file(s) (listed on stderr as compat:)",
            names.join(", "),
            findings.len(),
            files.len()
        );
    }
}

/// The keys whose signatures do not count for PATH: the revocation record in it (on the
/// drafts it names) and every --revoked key (on every file), prefixes resolved among the keys
/// its metadata lists.
fn revocations(
    path: &Path,
    given: &[String],
    files: &[InputFile],
    read: &[ReadInput],
) -> Result<Vec<verify::Revocation>, Failure> {
    let mut out = Vec::new();
    if path.is_dir()
        && let Some(record) = conclave::ceremony::revoked::beside(path)
    {
        let r = conclave::ceremony::revoked::Revoked::parse(&read_file(&record)?)
            .map_err(|e| Failure::usage(format!("{}: {e}", shown(&record))))?;
        eprintln!(
            "Revocation record {}: {}. Signatures by these keys count toward no threshold on {}.",
            shown(&record),
            r.describe(),
            r.drafts
                .iter()
                .map(|d| escape(d).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push(verify::Revocation {
            keys: r.revoked_keys(),
            files: Some(r.drafts.iter().cloned().collect()),
        });
    }
    if !given.is_empty() {
        let mut known = std::collections::BTreeMap::new();
        let parsed: Vec<conclave::metadata::AnyMetadata> = files
            .iter()
            .filter_map(|f| conclave::metadata::AnyMetadata::from_bytes(&f.bytes).ok())
            .collect();
        for md in parsed.iter().chain(read.iter().map(|r| &r.read.meta)) {
            match md {
                conclave::metadata::AnyMetadata::Root(r) => known.extend(r.signed.keys.clone()),
                conclave::metadata::AnyMetadata::Targets(t) => {
                    if let Some(d) = &t.signed.delegations {
                        known.extend(d.keys.clone());
                    }
                }
                _ => {}
            }
        }
        let mut keys = verify::RevokedKeys::new();
        for g in given {
            keys.add(crate::cli::signing::resolve_revoked(g, &known)?);
        }
        out.push(verify::Revocation { keys, files: None });
    }
    Ok(out)
}

/// The files of one PATH, named as the repository layout names them, and the directory they
/// came from (for messages). Large targets roles (a claimed role for many projects) are read
/// in pieces into their models, hashed on the way with every algorithm a snapshot in the
/// same directory names.
fn load(path: &Path) -> Result<Loaded, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::usage(format!(
            "{}: {}",
            escape(&path.display().to_string()),
            crate::cli::io_reason(&e)
        ))
        .hint("give a metadata directory (N.root.json, targets.json, ...) or a metadata file")
    })?;
    if meta.is_dir() {
        let dir = crate::cli::metadata_dir(path);
        let path = dir.as_path();
        let names = crate::cli::metadata_names(path, None)?;
        // Small files first: the snapshots among them say which hashes the large ones need.
        let large = |name: &String| {
            std::fs::metadata(path.join(name))
                .is_ok_and(|m| m.len() >= conclave::metadata::streamed::STREAM_MIN)
        };
        let (big, small): (Vec<String>, Vec<String>) = names.into_iter().partition(large);
        let bar = crate::cli::progress::Step::counted(
            format!("Reading {}", shown(path)),
            (small.len() + big.len()) as u64,
        );
        let mut files = Vec::new();
        for name in small {
            let bytes = read_file(&path.join(&name))?;
            files.push(InputFile { name, bytes });
            bar.inc(1);
        }
        let hashes = snapshot_hashes(&files);
        let hashes: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let mut read = Vec::new();
        for name in big {
            match read_input(&path.join(&name), &hashes)? {
                Input::Bytes(bytes) => files.push(InputFile { name, bytes }),
                Input::Read(r) => read.push(ReadInput { name, read: *r }),
            }
            bar.inc(1);
        }
        Ok(Loaded {
            base: Some(path.to_path_buf()),
            files,
            read,
        })
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = match read_input(path, &[])? {
            Input::Bytes(bytes) => bytes,
            Input::Read(read) => {
                // Only targets roles are read in pieces; no renaming applies.
                let name = match verify::classify(&name) {
                    Some(_) => name,
                    None => format!("{name}.json"),
                };
                return Ok(Loaded {
                    base: path.parent().map(Path::to_path_buf),
                    files: Vec::new(),
                    read: vec![ReadInput { name, read: *read }],
                });
            }
        };
        // A single file need not be named in repository layout ("draft-root.json"): if its
        // content is a top-level role other than targets, its name is taken from that.
        let declared = conclave::cjson::parse(&bytes).ok().and_then(|v| {
            v.get("signed")
                .and_then(|s| s.get("_type"))
                .and_then(|t| t.as_str().map(str::to_owned))
        });
        let role = verify::classify(&name).map(|(r, _)| r);
        let name = match declared.as_deref() {
            Some(t @ ("root" | "snapshot" | "timestamp")) if role.as_deref() != Some(t) => {
                format!("{t}.json")
            }
            _ if role.is_none() => format!("{name}.json"),
            _ => name,
        };
        Ok(Loaded {
            base: path.parent().map(Path::to_path_buf),
            files: vec![InputFile { name, bytes }],
            read: Vec::new(),
        })
    }
}

/// Every hash algorithm the snapshots among `files` record for any file.
fn snapshot_hashes(files: &[InputFile]) -> std::collections::BTreeSet<String> {
    files
        .iter()
        .filter(|f| verify::classify(&f.name).is_some_and(|(role, _)| role == "snapshot"))
        .filter_map(|f| {
            conclave::metadata::Metadata::<conclave::metadata::Snapshot>::from_bytes(&f.bytes).ok()
        })
        .flat_map(|s| s.signed.meta.into_values())
        .flat_map(|m| m.hashes.into_iter().flatten().map(|(algo, _)| algo))
        .collect()
}

fn print_human(path: &Path, report: &Report, count: usize) {
    println!("{}", escape(&path.display().to_string()));
    for f in &report.files {
        let status = match f.status {
            FileStatus::Verified => "ok        ",
            FileStatus::Failed => "FAILED    ",
            FileStatus::Superseded => "superseded",
            FileStatus::NotLoaded => "not loaded",
        };
        let version = f.version.map(|v| format!(" v{v}")).unwrap_or_default();
        let expires = f
            .expires
            .as_deref()
            .map(|e| format!(", expires {e}"))
            .unwrap_or_default();
        println!(
            "  {status}  {}  ({}{version}{expires})",
            escape(&f.file),
            escape(&f.role)
        );
        for s in &f.signatures {
            println!(
                "              {}{}",
                s.summary(),
                if s.is_met() { "" } else { "  <-- NOT MET" }
            );
        }
    }
    if report.is_ok() {
        println!(
            "verified: {count} file(s); root chain v{} -> v{}; {} warning(s)",
            report.trusted_root.unwrap_or(0),
            report.final_root.unwrap_or(0),
            report.warnings.len()
        );
    } else {
        println!(
            "FAILED: {} problem(s) in {count} file(s) (listed on stderr); do not publish or sign on top of this metadata",
            report.problems.len()
        );
    }
}
