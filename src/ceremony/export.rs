//! The export bundle: what leaves the ceremony for the online repository.
//!
//! A bundle is made only from a repository the verification engine accepts. It holds every
//! `N.root.json`, the targets and delegated metadata in use (byte for byte as found),
//! `SHA256SUMS`, a `SUMMARY.txt` for people, and with [`Format::Rstuf`] the payloads the
//! Repository Service for TUF (RSTUF) reads. Nothing in it depends on the time or the machine:
//! the same repository always gives the same bytes, so two people can export independently
//! and compare `SHA256SUMS`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::ceremony::names::KeyNames;
use crate::cjson::{self, Map, Value};
use crate::display::escape;
use crate::metadata::{AnyMetadata, DelegationRoles, Expires, Key, KeyId, RolePaths, Root};
use crate::verify::{self, FileStatus, InputFile, Problem};

/// The shape of an export bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Metadata, `SHA256SUMS` and `SUMMARY.txt` only.
    Plain,
    /// Also the RSTUF payloads: `rstuf/bootstrap.json` with the trust-anchor root and these
    /// settings, and `rstuf/update-N.json` for each later root.
    Rstuf(Box<super::rstuf::Settings>),
}

impl Format {
    /// The format's name as `SUMMARY.txt` and the CLI print it: `plain` or `rstuf`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Rstuf(_) => "rstuf",
        }
    }
}

/// Why [`build`] made no bundle.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The repository does not verify as of the given time; the problems found, none exported.
    #[error("the repository does not verify ({} problem(s)); nothing was exported", .0.len())]
    Unverified(Vec<Problem>),
    /// Verified metadata that cannot be read again as metadata, or no `N.root.json` to export.
    #[error("{0}")]
    Invalid(String),
    /// A root RSTUF 1.0 cannot run: no payload is written for it.
    #[error(
        "{}: RSTUF 1.0 cannot run this root ({} problem(s)); nothing was exported",
        escape(.file),
        .problems.len()
    )]
    NotForRstuf {
        /// The root file (`N.root.json`).
        file: String,
        /// What keeps RSTUF from running it, each with its fix.
        problems: Vec<super::rstuf::RstufProblem>,
    },
}

/// The bootstrap timeout RSTUF's CLI writes (seconds).
pub(crate) const RSTUF_TIMEOUT: i64 = 300;

/// The files of a bundle: path inside the bundle -> bytes, in path order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    /// Path inside the bundle -> the file's bytes, in path order.
    pub files: BTreeMap<String, Vec<u8>>,
}

struct Exported {
    name: String,
    role: String,
    md: AnyMetadata,
    bytes: Vec<u8>,
}

/// Verify `files` (a repository's metadata, named as in the repository layout) as of `now`
/// and, if everything holds, build the bundle. `names` puts each key's plan name and officer
/// beside its keyid in `SUMMARY.txt` (an empty [`KeyNames`] leaves keyids alone).
pub fn build(
    files: &[InputFile],
    now: Expires,
    format: Format,
    names: &KeyNames,
) -> Result<Bundle, ExportError> {
    let report = verify::verify_repository(files, None, now);
    if !report.is_ok() {
        return Err(ExportError::Unverified(report.problems));
    }
    let verified: BTreeMap<&str, &verify::FileReport> = report
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Verified)
        .map(|f| (f.file.as_str(), f))
        .collect();

    let mut roots: Vec<(u64, Exported)> = Vec::new();
    let mut targets: Vec<Exported> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    for f in files {
        let class = verify::classify(&f.name);
        let Some(fr) = verified.get(f.name.as_str()) else {
            left_out.push(f.name.clone());
            continue;
        };
        let md = AnyMetadata::from_bytes(&f.bytes)
            .map_err(|e| ExportError::Invalid(format!("{}: {e}", escape(&f.name))))?;
        let item = || Exported {
            name: f.name.clone(),
            role: fr.role.clone(),
            md: md.clone(),
            bytes: f.bytes.clone(),
        };
        match (&md, class) {
            (AnyMetadata::Root(_), Some((_, Some(v)))) => roots.push((v, item())),
            (AnyMetadata::Targets(_), _) => targets.push(item()),
            // root.json copies, snapshot and timestamp: the online repository makes its own.
            _ => left_out.push(f.name.clone()),
        }
    }
    roots.sort_by_key(|(v, _)| *v);
    // Top-level targets first, then the delegated roles by file name.
    targets.sort_by(|a, b| (a.role != "targets", &a.name).cmp(&(b.role != "targets", &b.name)));
    left_out.sort();
    let Some((_, final_root)) = roots.last() else {
        return Err(ExportError::Invalid(
            "no N.root.json in the repository: nothing to export".into(),
        ));
    };
    let AnyMetadata::Root(final_root) = &final_root.md else {
        unreachable!("roots hold root metadata")
    };

    let mut bundle = Bundle::default();
    for (_, r) in &roots {
        bundle.files.insert(r.name.clone(), r.bytes.clone());
    }
    for t in &targets {
        bundle.files.insert(t.name.clone(), t.bytes.clone());
    }
    bundle.files.insert(
        "SUMMARY.txt".into(),
        summary(&roots, final_root, &targets, &left_out, &format, names).into_bytes(),
    );
    if let Format::Rstuf(settings) = &format {
        for (_, r) in &roots {
            let AnyMetadata::Root(m) = &r.md else {
                continue;
            };
            let problems = super::rstuf::check_root(&m.signed);
            if !problems.is_empty() {
                return Err(ExportError::NotForRstuf {
                    file: r.name.clone(),
                    problems,
                });
            }
        }
        if let Some((_, anchor)) = roots.first()
            && let AnyMetadata::Root(m) = &anchor.md
        {
            let problems = super::rstuf::check_settings(&m.signed, settings);
            if !problems.is_empty() {
                return Err(ExportError::NotForRstuf {
                    file: anchor.name.clone(),
                    problems,
                });
            }
        }
        for (name, bytes) in rstuf_payloads(&roots, settings)? {
            bundle.files.insert(name, bytes);
        }
    }
    let sums = sha256sums(&bundle);
    bundle.files.insert("SHA256SUMS".into(), sums);
    Ok(bundle)
}

/// `sha256sum` format (hash, two spaces, path), sorted by path: `sha256sum -c SHA256SUMS`
/// checks the bundle.
fn sha256sums(bundle: &Bundle) -> Vec<u8> {
    let mut out = String::new();
    for (name, bytes) in &bundle.files {
        let _ = writeln!(out, "{}  {name}", super::transcript::sha256_hex(bytes));
    }
    out.into_bytes()
}

fn key_line(id: &KeyId, key: Option<&Key>, names: &KeyNames) -> String {
    let named = match names.get(id) {
        Some(n) => format!("  {}", n.label()),
        None => String::new(),
    };
    match key {
        Some(k) => format!("{id}  {}/{}{named}", escape(&k.keytype), escape(&k.scheme)),
        None => format!("{id}  (no such key in the metadata){named}"),
    }
}

fn summary(
    roots: &[(u64, Exported)],
    final_root: &crate::metadata::Metadata<Root>,
    targets: &[Exported],
    left_out: &[String],
    format: &Format,
    names: &KeyNames,
) -> String {
    let mut s = String::new();
    let first = roots.first().map_or(0, |(v, _)| *v);
    let last = roots.last().map_or(0, |(v, _)| *v);
    let _ = writeln!(s, "conclave export bundle (format {})", format.name());
    let _ = writeln!(
        s,
        "Verified by conclave {} before export. Check the files with: sha256sum -c SHA256SUMS",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "ROOT CHAIN: versions {first} to {last}");
    for (v, r) in roots {
        let _ = writeln!(
            s,
            "  {}  version {v}, expires {}, {} signature(s)",
            escape(&r.name),
            r.md.common().expires,
            r.md.signatures().len()
        );
    }
    let _ = writeln!(s);
    let root = &final_root.signed;
    let _ = writeln!(
        s,
        "TOP-LEVEL ROLES (root version {}, expires {})",
        root.common.version, root.common.expires
    );
    for name in ["root", "targets", "snapshot", "timestamp"] {
        let Some(rk) = root.role(name) else { continue };
        let _ = writeln!(
            s,
            "  {name}: threshold {} of {} key(s)",
            rk.threshold,
            rk.keyids.len()
        );
        for id in &rk.keyids {
            let _ = writeln!(s, "    {}", key_line(id, root.keys.get(id), names));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "TARGETS AND DELEGATED ROLES");
    for t in targets {
        let AnyMetadata::Targets(m) = &t.md else {
            continue;
        };
        let c = &m.signed.common;
        let _ = writeln!(
            s,
            "  {} ({}): version {}, expires {}, {} target(s), {} signature(s)",
            escape(&t.role),
            escape(&t.name),
            c.version,
            c.expires,
            m.signed.targets.len(),
            m.signatures.len()
        );
        let Some(d) = &m.signed.delegations else {
            continue;
        };
        match &d.roles {
            DelegationRoles::List(roles) => {
                for r in roles {
                    let paths = match &r.paths {
                        RolePaths::Patterns(p) => format!("paths {}", p.join(", ")),
                        RolePaths::HashPrefixes(p) => format!("hash prefixes {}", p.join(", ")),
                        RolePaths::Unspecified => "no paths".into(),
                    };
                    let _ = writeln!(
                        s,
                        "    delegates to {}: threshold {} of {} key(s), {}{}",
                        escape(r.name.as_str()),
                        r.threshold,
                        r.keyids.len(),
                        escape(&paths),
                        if r.terminating == Some(true) {
                            ", terminating"
                        } else {
                            ""
                        }
                    );
                    for id in &r.keyids {
                        let _ = writeln!(s, "      {}", key_line(id, d.keys.get(id), names));
                    }
                }
            }
            DelegationRoles::Succinct(b) => {
                let _ = writeln!(
                    s,
                    "    delegates to {} hash bins {}-*: threshold {} of {} key(s)",
                    b.bin_count(),
                    escape(&b.name_prefix),
                    b.threshold,
                    b.keyids.len()
                );
                for id in &b.keyids {
                    let _ = writeln!(s, "      {}", key_line(id, d.keys.get(id), names));
                }
            }
        }
    }
    if let Format::Rstuf(settings) = format {
        let _ = writeln!(s);
        let _ = writeln!(s, "RSTUF BOOTSTRAP (rstuf/bootstrap.json)");
        for line in settings.describe() {
            let _ = writeln!(s, "  {line}");
        }
        let online = root.role("timestamp").and_then(|r| r.keyids.first());
        if let Some(o) = online {
            let pending = settings.offline_delegations(o);
            if !pending.is_empty() {
                let _ = writeln!(
                    s,
                    "  after the bootstrap, RSTUF holds {} pending for offline signatures: sign \
                     with `conclave rstuf sign` (docs/rstuf.md)",
                    pending.join(", ")
                );
            }
        }
    }
    if !left_out.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "NOT EXPORTED (online roles, copies and superseded versions; the online repository makes its own)"
        );
        for n in left_out {
            let _ = writeln!(s, "  {}", escape(n));
        }
    }
    s
}

/// The RSTUF payloads (see docs/rstuf.md): `rstuf/bootstrap.json` with the trust-anchor
/// root and `settings`, and `rstuf/update-N.json` for each later root version, in the shapes
/// RSTUF's CLI writes for `rstuf admin send bootstrap` and `rstuf admin send update`. Every root
/// has been through [`super::rstuf::check_root`]: one online key, with its URI, for targets,
/// snapshot and timestamp.
fn rstuf_payloads(
    roots: &[(u64, Exported)],
    settings: &super::rstuf::Settings,
) -> Result<Vec<(String, Vec<u8>)>, ExportError> {
    let root_value = |e: &Exported| {
        cjson::parse(&e.bytes).map_err(|err| ExportError::Invalid(format!("{}: {err}", e.name)))
    };
    let mut out = Vec::new();
    let Some((_, anchor)) = roots.first() else {
        return Err(ExportError::Invalid(
            "no N.root.json in the repository: nothing to export".into(),
        ));
    };
    let mut metadata = Map::new();
    metadata.insert("root".into(), root_value(anchor)?);
    let mut payload = Map::new();
    payload.insert("settings".into(), settings.to_value());
    payload.insert("metadata".into(), Value::Object(metadata));
    payload.insert("timeout".into(), Value::Int(RSTUF_TIMEOUT));
    out.push((
        "rstuf/bootstrap.json".into(),
        cjson::to_pretty(&Value::Object(payload)),
    ));
    for (v, r) in roots.iter().skip(1) {
        let mut metadata = Map::new();
        metadata.insert("root".into(), root_value(r)?);
        let mut payload = Map::new();
        payload.insert("metadata".into(), Value::Object(metadata));
        out.push((
            format!("rstuf/update-{v}.json"),
            cjson::to_pretty(&Value::Object(payload)),
        ));
    }
    Ok(out)
}

/// Write `bundle` as the new directory `dest`: into a temporary directory beside it (every
/// file and the directory flushed to disk), then renamed into place in one step. A crash
/// leaves either no `dest` or the complete bundle, never part of one. An existing `dest` is
/// refused.
pub fn write_bundle(dest: &Path, bundle: &Bundle) -> io::Result<()> {
    crate::fsutil::write_new_dir(
        dest,
        bundle
            .files
            .iter()
            .map(|(rel, bytes)| (rel.as_str(), bytes.as_slice())),
        "already exists; an export is always a new directory",
    )
}
