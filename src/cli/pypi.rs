//! `conclave pypi init | claim | unclaim | revoke-developer-key` and `conclave delegation rotate`.

use std::path::{Path, PathBuf};

use conclave::display::escape;
use conclave::metadata::{AnyMetadata, Expires, KeyId, Metadata, Targets};
use conclave::pypi::{self, BinsLayout, ClaimReview, InitKeys};

use crate::cli::{
    Failure, exit, parse_when, read_file, read_metadata, read_public_key, refuse_existing,
    role_value, shown, write_output,
};

/// PyPI delegation layouts (PEP 458 bins, PEP 480 claimed / recently-claimed / unclaimed).
#[derive(clap::Subcommand)]
pub enum PypiCommand {
    Init(InitArgs),
    Claim(ClaimArgs),
    Unclaim(UnclaimArgs),
    RevokeDeveloperKey(RevokeArgs),
}

/// Draft the targets layout for PEP 458 / PEP 480 (unsigned, version 1).
///
/// targets delegates, in this order: claimed (offline; the PyPI admins' keys and
/// threshold), recently-claimed (online key), unclaimed (online key). unclaimed delegates to
/// the hash bins, which share its key: TAP 15 succinct bins by default, or classic
/// path_hash_prefixes bins (--classic-bins) for older clients. The targets draft goes to -o;
/// unclaimed's draft (for the online side to sign) goes to --unclaimed-out.
#[derive(clap::Args)]
pub struct InitArgs {
    /// A key: ROLE=PUBFILE, ROLE is claimed, recently-claimed or unclaimed (repeatable).
    #[arg(long = "key", value_name = "ROLE=PUBFILE", required = true)]
    keys: Vec<String>,
    /// A role's threshold: ROLE=N (default 1).
    #[arg(long = "threshold", value_name = "ROLE=N")]
    thresholds: Vec<String>,
    /// Expiry: YYYY-MM-DD or a duration such as 365d.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Expires,
    /// Number of hash bins (a power of two; PEP 458 recommends 16384).
    #[arg(long, default_value_t = 16_384)]
    bins: u32,
    /// Delegate the bins with path_hash_prefixes instead of TAP 15 succinct_roles.
    #[arg(long)]
    classic_bins: bool,
    /// The targets draft to create.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Where to write unclaimed's draft (default: unclaimed.json beside FILE).
    #[arg(long, value_name = "FILE")]
    unclaimed_out: Option<PathBuf>,
}

/// Move projects into claimed in one batch, as the next version (unsigned).
///
/// Requests are JSON Lines, one project per line:
/// {"project": NAME, "keys": [TUF key objects], "threshold": N}. Names are normalised per
/// PEP 503; each project is delegated, terminating, to its keys for the paths NAME and
/// NAME/*. Every bad line is reported with its number, and then nothing is written.
#[derive(clap::Args)]
pub struct ClaimArgs {
    /// The current claimed metadata (without it: version 1 of the claimed role).
    #[arg(long, value_name = "CURRENT")]
    claimed: Option<PathBuf>,
    /// The JSON Lines request file.
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// New expiry (required for version 1; otherwise default: unchanged).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    /// The next version to create.
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
}

/// Remove a project from claimed (its files fall back to recently-claimed or unclaimed).
#[derive(clap::Args)]
pub struct UnclaimArgs {
    /// The project (any spelling that normalises to it).
    project: String,
    /// The current claimed metadata.
    #[arg(long, value_name = "CURRENT")]
    claimed: PathBuf,
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
}

/// Remove a compromised developer key from every claimed project that trusts it.
///
/// A project left with fewer keys than its threshold is removed from claimed: thresholds are
/// never lowered silently, and its developers must register new keys.
#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The keyid of the compromised key.
    keyid: String,
    /// The current claimed metadata.
    #[arg(long, value_name = "CURRENT")]
    claimed: PathBuf,
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
}

fn read_targets(path: &Path) -> Result<Metadata<Targets>, Failure> {
    match read_metadata(path)? {
        AnyMetadata::Targets(t) => Ok(t),
        other => Err(Failure::usage(format!(
            "{}: is {} metadata, not targets metadata",
            shown(path),
            other.type_name()
        ))),
    }
}

fn write_targets(path: &Path, t: Targets) -> Result<(), Failure> {
    let md = Metadata::new(t);
    write_output(path, &md.to_file_bytes())
}

fn print_review(review: &ClaimReview) {
    for line in review.lines(20) {
        eprintln!("  {line}");
    }
}

fn next_steps(output: &Path) {
    eprintln!(
        "Next: check the review above, then the PyPI admins sign: `conclave sign {} --role claimed --delegator TARGETS --key ADMIN.key -o SIG`, and `conclave merge ... --delegator TARGETS`.",
        shown(output)
    );
}

pub fn run(cmd: PypiCommand) -> Result<u8, Failure> {
    match cmd {
        PypiCommand::Init(a) => init(a),
        PypiCommand::Claim(a) => {
            refuse_existing(&a.output)?;
            let current = match &a.claimed {
                Some(p) => Some(read_targets(p)?),
                None => None,
            };
            let bytes = read_file(&a.requests)?;
            let text = String::from_utf8(bytes).map_err(|e| {
                Failure::failed(format!(
                    "{}: not UTF-8 (byte {})",
                    shown(&a.requests),
                    e.utf8_error().valid_up_to()
                ))
            })?;
            let requests = pypi::parse_requests(&text).map_err(|errors| {
                for e in &errors {
                    eprintln!("error: {}: {e}", shown(&a.requests));
                }
                Failure::failed(format!(
                    "{} bad request line(s); nothing was written",
                    errors.len()
                ))
            })?;
            let (next, review) =
                pypi::claim(current.as_ref().map(|m| &m.signed), &requests, a.expires)
                    .map_err(Failure::usage)?;
            let version = next.common.version;
            write_targets(&a.output, next)?;
            eprintln!(
                "Drafted claimed version {version} ({}, unsigned) from {} request(s). Review:",
                shown(&a.output),
                requests.len()
            );
            print_review(&review);
            next_steps(&a.output);
            Ok(exit::OK)
        }
        PypiCommand::Unclaim(a) => {
            refuse_existing(&a.output)?;
            let current = read_targets(&a.claimed)?;
            let (next, review) =
                pypi::unclaim(&current.signed, &a.project, a.expires).map_err(Failure::usage)?;
            write_targets(&a.output, next)?;
            eprintln!("Drafted {} (unsigned). Review:", shown(&a.output));
            print_review(&review);
            next_steps(&a.output);
            Ok(exit::OK)
        }
        PypiCommand::RevokeDeveloperKey(a) => {
            refuse_existing(&a.output)?;
            let keyid = KeyId::new(&a.keyid).map_err(Failure::usage)?;
            let current = read_targets(&a.claimed)?;
            let (next, review) = pypi::revoke_developer_key(&current.signed, &keyid, a.expires)
                .map_err(Failure::usage)?;
            write_targets(&a.output, next)?;
            eprintln!("Drafted {} (unsigned). Review:", shown(&a.output));
            print_review(&review);
            eprintln!(
                "Also: files those projects signed with the revoked key must be re-signed by their developers with a remaining or new key."
            );
            next_steps(&a.output);
            Ok(exit::OK)
        }
    }
}

fn init(a: InitArgs) -> Result<u8, Failure> {
    let unclaimed_out = a.unclaimed_out.clone().unwrap_or_else(|| {
        a.output
            .parent()
            .unwrap_or(Path::new(""))
            .join("unclaimed.json")
    });
    refuse_existing(&a.output)?;
    refuse_existing(&unclaimed_out)?;
    let mut keys = InitKeys {
        claimed: vec![],
        claimed_threshold: 1,
        recently_claimed: vec![],
        recently_claimed_threshold: 1,
        unclaimed: vec![],
        unclaimed_threshold: 1,
    };
    for k in &a.keys {
        let (role, file) = role_value(k).map_err(|e| Failure::usage(format!("--key: {e}")))?;
        let key = read_public_key(Path::new(&file))?;
        match role.as_str() {
            "claimed" => keys.claimed.push(key),
            "recently-claimed" => keys.recently_claimed.push(key),
            "unclaimed" => keys.unclaimed.push(key),
            other => {
                return Err(Failure::usage(format!(
                    "--key: \"{}\" is not claimed, recently-claimed or unclaimed",
                    escape(other)
                )));
            }
        }
    }
    for t in &a.thresholds {
        let (role, n) = role_value(t).map_err(|e| Failure::usage(format!("--threshold: {e}")))?;
        let n: u32 = n
            .parse()
            .map_err(|_| Failure::usage(format!("--threshold {t}: N must be a whole number")))?;
        match role.as_str() {
            "claimed" => keys.claimed_threshold = n,
            "recently-claimed" => keys.recently_claimed_threshold = n,
            "unclaimed" => keys.unclaimed_threshold = n,
            other => {
                return Err(Failure::usage(format!(
                    "--threshold: \"{}\" is not claimed, recently-claimed or unclaimed",
                    escape(other)
                )));
            }
        }
    }
    let layout = if a.classic_bins {
        BinsLayout::Classic
    } else {
        BinsLayout::Succinct
    };
    let (targets, unclaimed) =
        pypi::init(&keys, a.expires, a.bins, layout).map_err(Failure::usage)?;
    write_targets(&a.output, targets)?;
    write_targets(&unclaimed_out, unclaimed)?;
    eprintln!(
        "Drafted {} (targets: claimed, recently-claimed, unclaimed, in that order) and {} (unclaimed over {} {} bins).",
        shown(&a.output),
        shown(&unclaimed_out),
        a.bins,
        if a.classic_bins {
            "classic path_hash_prefixes"
        } else {
            "TAP 15 succinct"
        }
    );
    eprintln!(
        "Next: the targets key holders sign {} (`conclave sign ... --role targets --delegator ROOT`); the online side signs {} and the bins.",
        shown(&a.output),
        shown(&unclaimed_out)
    );
    Ok(exit::OK)
}

/// Rotate one delegation's keys in any delegating targets metadata.
#[derive(clap::Subcommand)]
pub enum DelegationCommand {
    Rotate(RotateArgs),
}

/// Draft the next version of PARENT with one delegation's keys rotated.
///
/// Works on any delegating targets metadata: targets -> claimed / recently-claimed /
/// unclaimed, unclaimed -> its bins (--role is the bins' name prefix), claimed -> a project.
/// The new version is PARENT's + 1, unsigned; then sign it with `sign`, follow with `status
/// --delegator` and `merge --delegator` as for any role.
#[derive(clap::Args)]
pub struct RotateArgs {
    /// The delegating metadata.
    parent: PathBuf,
    /// The delegated role whose keys change.
    #[arg(long, value_name = "NAME")]
    role: String,
    /// A key to add (repeatable).
    #[arg(long = "add-key", value_name = "PUBFILE")]
    add: Vec<PathBuf>,
    /// A keyid to remove (repeatable).
    #[arg(long = "remove-key", value_name = "KEYID")]
    remove: Vec<String>,
    /// The role's new threshold.
    #[arg(long)]
    threshold: Option<u32>,
    /// New expiry for PARENT's next version (default: unchanged).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    /// The next version to create.
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
}

pub fn run_delegation(cmd: DelegationCommand) -> Result<u8, Failure> {
    let DelegationCommand::Rotate(a) = cmd;
    refuse_existing(&a.output)?;
    let parent = read_targets(&a.parent)?;
    let add = a
        .add
        .iter()
        .map(|p| read_public_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    let remove = a
        .remove
        .iter()
        .map(|k| KeyId::new(k).map_err(Failure::usage))
        .collect::<Result<Vec<_>, _>>()?;
    let (next, review) = pypi::rotate_delegation(
        &parent.signed,
        &a.role,
        &add,
        &remove,
        a.threshold,
        a.expires,
    )
    .map_err(Failure::usage)?;
    let version = next.common.version;
    write_targets(&a.output, next)?;
    eprintln!(
        "Drafted {} (version {version}, unsigned; the old signatures no longer apply). Changes to role \"{}\":",
        shown(&a.output),
        escape(&a.role)
    );
    for line in review {
        eprintln!("  {line}");
    }
    eprintln!(
        "Next: whoever signs {} signs NEXT (`conclave sign NEXT --delegator ...`); after it is published, \"{}\" must be re-signed by the new key set.",
        shown(&a.parent),
        escape(&a.role)
    );
    Ok(exit::OK)
}
