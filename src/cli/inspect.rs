//! `conclave inspect FILE [--delegator PARENT]`

use std::path::PathBuf;

use conclave::display::escape;
use conclave::metadata::{
    AnyMetadata, DelegationRoles, Expires, Key, KeyId, Metadata, RolePaths, Root, SignedText,
    Targets,
};
use conclave::verify::{SignatureReport, check_threshold};

use crate::cli::json::Value;
use crate::cli::{Failure, exit, read_file, relative};

/// Show what a metadata file says, in words: role, version, expiry (and how long until it),
/// keys per role with thresholds, which signatures are present and whether they are valid.
///
/// A root's signatures are checked against its own root keys. For any other role, give
/// --delegator (the root, or the targets metadata that delegates to it) to check them.
/// A key listed under a keyid that is not its own, one key under two keyids, or private key
/// material is shown as a KEY PROBLEM line. Exits 1 when checked signatures do not meet the
/// threshold or there is a key problem.
#[derive(clap::Args)]
pub struct Args {
    /// The metadata file.
    file: PathBuf,
    /// The metadata that delegates to FILE's role: root for targets, snapshot and
    /// timestamp; the delegating targets metadata for a delegated role.
    #[arg(long, value_name = "PARENT")]
    delegator: Option<PathBuf>,
    /// Show expiry relative to this time instead of now.
    #[arg(long, value_name = "TIME", value_parser = crate::cli::parse_time)]
    at: Option<Expires>,
    /// List every target file and every delegated role with its keyids (by default the
    /// first 20 targets and 50 roles).
    #[arg(long)]
    all: bool,
    /// Print what the file says as JSON on stdout (every target and delegated role; fields in
    /// docs/formats.md).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<u8, Failure> {
    let now = args.at.unwrap_or_else(Expires::now);
    let shown = escape(&args.file.display().to_string()).into_owned();
    let md = AnyMetadata::from_bytes(&read_file(&args.file)?)
        .map_err(|e| Failure::failed(format!("{shown}: {e}")))?;
    let parent =
        match &args.delegator {
            Some(p) => Some(AnyMetadata::from_bytes(&read_file(p)?).map_err(|e| {
                Failure::failed(format!("{}: {e}", escape(&p.display().to_string())))
            })?),
            None => None,
        };
    let problems = conclave::metadata::keyset::audit_metadata(&md);
    let role_name = role_name_of(&args.file, &md);
    let report = check(&md, parent.as_ref(), &role_name)?;
    let ok = report.as_ref().is_none_or(SignatureReport::is_met) && problems.is_empty();
    if args.json {
        crate::cli::json::print(&to_json(
            &args,
            &md,
            &role_name,
            &problems,
            report.as_ref(),
            now,
            ok,
        ));
    } else {
        print_human(&shown, &md, &problems, report.as_ref(), args.all, now);
    }
    Ok(if ok { exit::OK } else { exit::FAILED })
}

/// The signatures of `md` checked against the keys that may sign it: a root's own root keys,
/// or those `parent` (the root, or the delegating targets metadata) gives role `role_name`;
/// `None` when there is nothing to check them against.
fn check(
    md: &AnyMetadata,
    parent: Option<&AnyMetadata>,
    role_name: &str,
) -> Result<Option<SignatureReport>, Failure> {
    Ok(match (md, parent) {
        (AnyMetadata::Root(m), _) => {
            let rk = m
                .signed
                .role("root")
                .expect("parsed roots have a root role");
            Some(check_threshold(
                "root",
                "its own root",
                &SignedText::of_metadata(md),
                &m.signatures,
                &rk.keyids,
                &m.signed.keys,
                rk.threshold,
            ))
        }
        (md, Some(AnyMetadata::Root(p))) => {
            let role = md.type_name();
            let rk = p
                .signed
                .role(role)
                .expect("parsed roots have all four roles");
            Some(check_threshold(
                role,
                &format!("root v{}", p.signed.common.version),
                &SignedText::of_metadata(md),
                md.signatures(),
                &rk.keyids,
                &p.signed.keys,
                rk.threshold,
            ))
        }
        (AnyMetadata::Targets(t), Some(AnyMetadata::Targets(p))) => {
            let d =
                p.signed.delegations.as_ref().ok_or_else(|| {
                    Failure::failed("the --delegator metadata delegates to no roles")
                })?;
            let dref = d.find(role_name).ok_or_else(|| {
                Failure::failed(format!(
                    "the --delegator metadata does not delegate to role \"{}\"",
                    escape(role_name)
                ))
            })?;
            Some(check_threshold(
                role_name,
                "the delegator",
                &SignedText::of_metadata(md),
                &t.signatures,
                dref.keyids,
                &d.keys_for(dref.keyids),
                dref.threshold,
            ))
        }
        _ => None,
    })
}

fn print_human(
    shown: &str,
    md: &AnyMetadata,
    problems: &[conclave::metadata::keyset::KeyProblem],
    report: Option<&SignatureReport>,
    all: bool,
    now: Expires,
) {
    let common = md.common();
    println!("file:     {shown}");
    println!("role:     {}", md.type_name());
    println!("version:  {}", common.version);
    println!(
        "expires:  {} ({})",
        common.expires,
        relative(common.expires, now)
    );
    println!("spec:     {}", escape(common.spec_version.as_str()));
    for p in problems {
        println!("KEY PROBLEM: {p}");
    }
    match md {
        AnyMetadata::Root(m) => print_root(m),
        AnyMetadata::Targets(t) => print_targets(t, all),
        _ => {}
    }
    println!("signatures:");
    match report {
        Some(r) => print_signatures(r),
        None => {
            for s in md.signatures() {
                println!("  {}  (not checked: give --delegator)", s.keyid);
            }
            if md.signatures().is_empty() {
                println!("  (none)");
            }
        }
    }
}

/// `inspect --json`: the same facts as the text, whole (every target and delegated role).
fn to_json(
    args: &Args,
    md: &AnyMetadata,
    role_name: &str,
    problems: &[conclave::metadata::keyset::KeyProblem],
    report: Option<&SignatureReport>,
    now: Expires,
    ok: bool,
) -> Value {
    use crate::cli::json::{int, obj, opt, path, strings};
    let common = md.common();
    let keys = |keys: &std::collections::BTreeMap<KeyId, Key>| {
        Value::Object(
            keys.iter()
                .map(|(id, k)| {
                    (
                        id.as_str().to_string(),
                        obj([
                            ("keytype", Value::from(k.keytype.as_str())),
                            ("scheme", Value::from(k.scheme.as_str())),
                        ]),
                    )
                })
                .collect(),
        )
    };
    let ids = |v: &[KeyId]| strings(v.iter().map(|k| k.as_str().to_string()));
    let (mut roles, mut key_map, mut targets, mut delegations, mut consistent) = (
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    );
    match md {
        AnyMetadata::Root(m) => {
            consistent = opt(m.signed.consistent_snapshot);
            key_map = keys(&m.signed.keys);
            roles = Value::Object(
                m.signed
                    .roles
                    .iter()
                    .map(|(name, rk)| {
                        (
                            name.clone(),
                            obj([
                                ("threshold", int(rk.threshold.get())),
                                ("keyids", ids(&rk.keyids)),
                            ]),
                        )
                    })
                    .collect(),
            );
        }
        AnyMetadata::Targets(t) => {
            targets = Value::Array(
                t.signed
                    .targets
                    .iter()
                    .map(|(p, f)| {
                        obj([("path", Value::from(p.as_str())), ("length", int(f.length))])
                    })
                    .collect(),
            );
            if let Some(d) = &t.signed.delegations {
                key_map = keys(&d.keys);
                delegations = delegations_json(d);
            }
        }
        _ => {}
    }
    obj([
        ("file", path(&args.file)),
        ("type", Value::from(md.type_name())),
        ("role", Value::from(role_name)),
        ("version", int(common.version.get())),
        ("expires", Value::from(common.expires.to_string())),
        ("expired", Value::from(common.expires <= now)),
        ("spec_version", Value::from(common.spec_version.as_str())),
        (
            "key_problems",
            strings(problems.iter().map(ToString::to_string)),
        ),
        ("consistent_snapshot", consistent),
        ("roles", roles),
        ("keys", key_map),
        ("targets", targets),
        ("delegations", delegations),
        (
            "signature_keyids",
            strings(md.signatures().iter().map(|s| s.keyid.as_str().to_string())),
        ),
        (
            "signatures",
            report.map_or(Value::Null, SignatureReport::to_json),
        ),
        ("ok", Value::from(ok)),
    ])
}

fn delegations_json(d: &conclave::metadata::Delegations) -> Value {
    use crate::cli::json::{int, obj, opt, strings};
    let ids = |v: &[KeyId]| strings(v.iter().map(|k| k.as_str().to_string()));
    match &d.roles {
        DelegationRoles::List(roles) => obj([(
            "roles",
            Value::Array(
                roles
                    .iter()
                    .map(|r| {
                        let (paths, prefixes) = match &r.paths {
                            RolePaths::Patterns(p) => (strings(p), Value::Null),
                            RolePaths::HashPrefixes(h) => (Value::Null, strings(h)),
                            RolePaths::Unspecified => (Value::Null, Value::Null),
                        };
                        obj([
                            ("name", Value::from(r.name.as_str())),
                            ("threshold", int(r.threshold.get())),
                            ("keyids", ids(&r.keyids)),
                            ("terminating", opt(r.terminating)),
                            ("paths", paths),
                            ("path_hash_prefixes", prefixes),
                        ])
                    })
                    .collect(),
            ),
        )]),
        DelegationRoles::Succinct(s) => obj([(
            "succinct_roles",
            obj([
                ("name_prefix", Value::from(s.name_prefix.as_str())),
                ("bit_length", int(s.bit_length)),
                ("bins", int(s.bin_count())),
                ("threshold", int(s.threshold.get())),
                ("keyids", ids(&s.keyids)),
            ]),
        )]),
    }
}

fn role_name_of(path: &std::path::Path, md: &AnyMetadata) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    conclave::verify::classify(&name)
        .map(|(r, _)| r)
        .unwrap_or_else(|| md.type_name().to_owned())
}

fn describe_key(key: &Key) -> String {
    format!("{}/{}", escape(&key.keytype), escape(&key.scheme))
}

fn print_root(m: &Metadata<Root>) {
    println!(
        "consistent_snapshot: {}",
        m.signed
            .consistent_snapshot
            .map_or("absent".into(), |b| b.to_string())
    );
    println!("roles:");
    for (name, rk) in &m.signed.roles {
        println!(
            "  {:<10} threshold {} of {} key(s)",
            escape(name),
            rk.threshold,
            rk.keyids.len()
        );
        for id in &rk.keyids {
            let kind = m
                .signed
                .keys
                .get(id)
                .map_or("MISSING KEY".into(), describe_key);
            println!("    {}  {kind}", escape(&id.as_str()));
        }
    }
}

fn print_targets(m: &Metadata<Targets>, all: bool) {
    let (targets_shown, roles_shown) = if all {
        (usize::MAX, usize::MAX)
    } else {
        (20, 50)
    };
    println!("targets:  {}", m.signed.targets.len());
    for (path, t) in m.signed.targets.iter().take(targets_shown) {
        println!("  {}  ({} bytes)", escape(path), t.length);
    }
    if m.signed.targets.len() > targets_shown {
        println!(
            "  ... and {} more (--all lists them)",
            m.signed.targets.len() - targets_shown
        );
    }
    let Some(d) = &m.signed.delegations else {
        return;
    };
    match &d.roles {
        DelegationRoles::List(roles) => {
            println!("delegations: {} role(s), in priority order", roles.len());
            for r in roles.iter().take(roles_shown) {
                let paths = match &r.paths {
                    RolePaths::Patterns(p) => format!("paths {}", escape(&p.join(", "))),
                    RolePaths::HashPrefixes(h) => format!("{} hash prefixes", h.len()),
                    RolePaths::Unspecified => "NO PATHS".into(),
                };
                let term = match r.terminating {
                    Some(true) => "terminating",
                    Some(false) => "non-terminating",
                    None => "terminating ABSENT",
                };
                println!(
                    "  {:<24} threshold {} of {} key(s), {term}, {paths}",
                    escape(r.name.as_str()),
                    r.threshold,
                    r.keyids.len()
                );
                if all {
                    for id in &r.keyids {
                        println!(
                            "      {id}  {}",
                            d.keys
                                .get(id)
                                .map_or_else(|| "(no such key)".into(), describe_key)
                        );
                    }
                }
            }
            if roles.len() > roles_shown {
                println!(
                    "  ... and {} more (--all lists them)",
                    roles.len() - roles_shown
                );
            }
        }
        DelegationRoles::Succinct(s) => println!(
            "delegations: {} succinct hash bins {}-* (bit_length {}), threshold {} of {} key(s)",
            s.bin_count(),
            escape(&s.name_prefix),
            s.bit_length,
            s.threshold,
            s.keyids.len()
        ),
    }
}

fn print_signatures(r: &SignatureReport) {
    let list = |label: &str, ids: &[KeyId]| {
        for id in ids {
            println!("  {label:<8} {}", escape(&id.as_str()));
        }
    };
    list("valid", &r.valid);
    for (id, why) in &r.invalid {
        println!(
            "  {:<8} {}  ({})",
            "INVALID",
            escape(&id.as_str()),
            escape(why)
        );
    }
    for (id, first) in &r.duplicates {
        println!(
            "  {:<8} {}  (same key as {}, counted once)",
            "repeat",
            escape(&id.as_str()),
            first.short()
        );
    }
    list("unknown", &r.unknown);
    list("missing", &r.missing);
    println!(
        "  => {} ({})",
        r.summary(),
        if r.is_met() {
            "threshold met"
        } else {
            "THRESHOLD NOT MET"
        }
    );
}
