//! `conclave root init` and `conclave root rotate`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use conclave::ceremony::root::RootError;
use conclave::ceremony::{self, review};
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, Metadata};

use crate::cli::{
    Failure, check_expiries, exit, parse_when, read_public_key, refuse_existing, role_value, shown,
    write_output,
};

/// Draft and rotate roots.
#[derive(clap::Subcommand)]
pub enum RootCommand {
    Init(InitArgs),
    Rotate(RotateArgs),
}

/// Draft an unsigned root, version 1, with consistent_snapshot true.
///
/// Give every key as ROLE=PUBFILE (ROLE is root, targets, snapshot or timestamp; PUBFILE
/// holds TUF public-key JSON as `key generate` and `key derive` print it) and each role's
/// threshold as ROLE=N (default 1). A threshold of 0, or above the role's number of keys, is
/// refused.
#[derive(clap::Args)]
pub struct InitArgs {
    /// A key for a role: ROLE=PUBFILE (repeat for each key).
    #[arg(long = "key", value_name = "ROLE=PUBFILE", required = true)]
    keys: Vec<String>,
    /// A role's threshold: ROLE=N (repeat for each role).
    #[arg(long = "threshold", value_name = "ROLE=N")]
    thresholds: Vec<String>,
    /// Expiry: a date YYYY-MM-DD (midnight UTC) or a duration such as 365d. It must be in the
    /// future; beyond PEP 458's 1 year for root a warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: conclave::metadata::Expires,
    /// The draft root to create (never overwritten).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

/// Draft the next root version from PREV.
///
/// The new version is PREV's version + 1, unsigned: it needs a threshold of PREV's root keys
/// and a threshold of its own (`conclave status NEXT --previous PREV` lists them).
#[derive(clap::Args)]
pub struct RotateArgs {
    /// The current root.
    previous: PathBuf,
    /// Add a key to a role: ROLE=PUBFILE (repeatable).
    #[arg(long = "add-key", value_name = "ROLE=PUBFILE")]
    add: Vec<String>,
    /// Remove a key from a role: ROLE=KEYID (repeatable). KEYID is the whole keyid or a unique
    /// prefix of at least 8 hex digits, as `status` and `inspect` show them.
    #[arg(long = "remove-key", value_name = "ROLE=KEYID")]
    remove: Vec<String>,
    /// Set a role's threshold: ROLE=N (repeatable).
    #[arg(long = "threshold", value_name = "ROLE=N")]
    thresholds: Vec<String>,
    /// New expiry (default: unchanged): YYYY-MM-DD or a duration such as 365d. The draft's
    /// expiry must be in the future (an unchanged one too); beyond PEP 458's 1 year for root a
    /// warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<conclave::metadata::Expires>,
    /// The draft to create (never overwritten).
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

fn thresholds(list: &[String]) -> Result<BTreeMap<String, u32>, Failure> {
    let mut out = BTreeMap::new();
    for t in list {
        let (role, n) = role_value(t).map_err(|e| Failure::usage(format!("--threshold: {e}")))?;
        let n: u32 = n
            .parse()
            .map_err(|_| Failure::usage(format!("--threshold {t}: N must be a whole number")))?;
        if out.insert(role.clone(), n).is_some() {
            return Err(Failure::usage(format!(
                "--threshold: {role} is given twice"
            )));
        }
    }
    Ok(out)
}

fn keys(list: &[String], flag: &str) -> Result<Vec<(String, conclave::metadata::Key)>, Failure> {
    list.iter()
        .map(|k| {
            let (role, file) = role_value(k).map_err(|e| Failure::usage(format!("{flag}: {e}")))?;
            Ok((role, read_public_key(std::path::Path::new(&file))?))
        })
        .collect()
}

/// A root error as the command reports it, with the flag that fixes it.
fn root_failure(e: RootError) -> Failure {
    Failure::usage(match &e {
        RootError::RoleKeys(conclave::metadata::RoleKeysError::NoKeys { role }) => {
            format!("{e} (give --key {role}=PUBFILE)")
        }
        _ => e.to_string(),
    })
}

pub fn run(cmd: RootCommand) -> Result<u8, Failure> {
    match cmd {
        RootCommand::Init(a) => {
            refuse_existing(&a.output)?;
            let recorder = crate::cli::record::Recorder::find(&[&a.output], &[])?;
            let keys = keys(&a.keys, "--key")?;
            let t = thresholds(&a.thresholds)?;
            let root = ceremony::root::init(&keys, &t, a.expires).map_err(root_failure)?;
            check_expiries([("root", root.common.expires)], a.long)?;
            let md = Metadata::new(root);
            let bytes = md.to_file_bytes();
            crate::cli::warn_client_quirks("1.root.json", &bytes);
            write_output(&a.output, &bytes)?;
            let any = AnyMetadata::Root(md);
            eprintln!("Drafted {} (unsigned):", shown(&a.output));
            for line in review::summary(&any, "root") {
                eprintln!("  {}", escape(&line));
            }
            eprintln!(
                "Next: each root key holder signs it (`conclave sign {} --key KEYFILE -o SIGFILE` or `--derive ID`), then `conclave merge`.",
                shown(&a.output)
            );
            crate::cli::record::step(
                &recorder,
                "root init: root v1 drafted",
                &[],
                &[&a.output],
                vec![],
            )?;
            Ok(exit::OK)
        }
        RootCommand::Rotate(a) => {
            refuse_existing(&a.output)?;
            let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.previous])?;
            let prev_any = crate::cli::read_metadata(&a.previous)?;
            let AnyMetadata::Root(prev) = &prev_any else {
                return Err(Failure::usage(format!(
                    "{}: is {} metadata, not a root",
                    shown(&a.previous),
                    prev_any.type_name()
                )));
            };
            let add = keys(&a.add, "--add-key")?;
            let mut remove = Vec::new();
            for r in &a.remove {
                let (role, id) =
                    role_value(r).map_err(|e| Failure::usage(format!("--remove-key: {e}")))?;
                let keyid =
                    conclave::metadata::resolve_keyid(&id, &prev.signed.keys).map_err(|e| {
                        Failure::usage(format!(
                            "--remove-key {}: {e} (root version {} lists {} key(s))",
                            escape(r),
                            prev.signed.common.version,
                            prev.signed.keys.len()
                        ))
                    })?;
                remove.push((role, keyid));
            }
            let t = thresholds(&a.thresholds)?;
            let next = ceremony::root::rotate(&prev.signed, &add, &remove, &t, a.expires)
                .map_err(root_failure)?;
            check_expiries([("root", next.common.expires)], a.long)?;
            let md = Metadata::new(next);
            let bytes = md.to_file_bytes();
            crate::cli::warn_client_quirks(
                &format!("{}.root.json", md.signed.common.version),
                &bytes,
            );
            write_output(&a.output, &bytes)?;
            let any = AnyMetadata::Root(md);
            eprintln!(
                "Drafted {} (version {}, unsigned). Changes from {}:",
                shown(&a.output),
                any.common().version,
                shown(&a.previous)
            );
            for line in review::changes(&prev_any, &any) {
                eprintln!("  {}", escape(&line));
            }
            let auths = ceremony::authorities(&any, "root", Some(prev), None)
                .map_err(|e| Failure::usage(crate::cli::authorities_message(&e)))?;
            eprintln!("It must be signed by:");
            for a in &auths {
                eprintln!(
                    "  {} of these {} ({}):",
                    a.threshold,
                    a.keyids.len(),
                    a.label
                );
                for id in &a.keyids {
                    eprintln!("    {id}");
                }
            }
            eprintln!(
                "Next: each of them runs `conclave sign {} --previous {} ...`; check progress with `conclave status {} --previous {}`.",
                shown(&a.output),
                shown(&a.previous),
                shown(&a.output),
                shown(&a.previous)
            );
            crate::cli::record::step(
                &recorder,
                format!("root rotate: root v{} drafted", any.common().version),
                &[&a.previous],
                &[&a.output],
                vec![],
            )?;
            Ok(exit::OK)
        }
    }
}
