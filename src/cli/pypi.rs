//! `conclave pypi init | claim | unclaim | revoke-developer-key` and `conclave delegation rotate`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use conclave::display::escape;
use conclave::metadata::{AnyMetadata, Expires, Metadata, Targets};
use conclave::pypi::{
    self, BinsLayout, BinsOf, ClaimChange, ClaimDraft, ClaimError, ClaimReview, InitKeys,
    LayoutError,
};

use crate::cli::progress::{self, Step};
use crate::cli::{
    Failure, exit, io_reason, parse_when, read_metadata, read_public_key, refuse_existing,
    role_value, shown,
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
    /// Expiry of every draft: YYYY-MM-DD or a duration such as 365d. It must be in the future;
    /// beyond PEP 458's bounds (targets and unclaimed 1 year, claimed 6 months) a warning is
    /// printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Expires,
    /// Number of hash bins (a power of two; PEP 458 recommends 16384).
    #[arg(long, default_value_t = 16_384)]
    bins: u32,
    /// Delegate unclaimed's bins with path_hash_prefixes instead of TAP 15 succinct_roles.
    /// (Claimed's bins, --claimed-bins, always use path_hash_prefixes.)
    #[arg(long)]
    classic_bins: bool,
    /// Put claimed in N hash bins (a power of two): claimed delegates to N bins
    /// claimed-bins-0000 ..., each signed by the admins and delegating the projects whose
    /// name hashes into it. Also drafts claimed and every (empty) bin into --claimed-out, a
    /// directory the admins sign, check and merge as one round (`sign DIR --delegator
    /// REPO/1.targets.json`).
    #[arg(long, value_name = "N")]
    claimed_bins: Option<u32>,
    /// With --claimed-bins: the new directory for claimed's drafts, 1.claimed.json and
    /// 1.claimed-bins-*.json (default: claimed/ beside FILE).
    #[arg(long, value_name = "DIR", requires = "claimed_bins")]
    claimed_out: Option<PathBuf>,
    /// With --claimed-bins: the expiry of claimed and its bins (default: --expires). PEP 458's
    /// pre-PEP 480 text gives claimed 3 to 6 months, targets a year.
    #[arg(long, value_name = "WHEN", value_parser = parse_when, requires = "claimed_bins")]
    claimed_expires: Option<Expires>,
    /// The targets draft to create.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Where to write unclaimed's draft (default: unclaimed.json beside FILE).
    #[arg(long, value_name = "FILE")]
    unclaimed_out: Option<PathBuf>,
    /// The clients that must load the repository, comma-separated (python-tuf, tuf-js,
    /// tough, go-tuf, or all). tough 0.24 cannot read TAP 15 succinct bins, so naming it
    /// needs --classic-bins. Check the signed result with `verify --clients`.
    #[arg(long, value_name = "CLIENTS", value_delimiter = ',')]
    clients: Vec<String>,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

/// Move projects into claimed in one batch, as the next version (unsigned).
///
/// Requests are JSON Lines, one project per line:
/// {"project": NAME, "keys": [TUF key objects], "threshold": N}. Names are normalised per
/// PEP 503; each project is delegated, terminating, to its keys for the paths NAME and
/// NAME/*. Every bad line is reported with its number, and then nothing is written.
///
/// Claimed in bins (pypi init --claimed-bins): --claimed names claimed itself (e.g.
/// repo/1.claimed.json); the bins' current files (V.claimed-bins-XXXX.json, the highest V, or
/// claimed-bins-XXXX.json) are read from the same directory. NEXT is then a new directory
/// holding the next version of only the bins that change, as V.claimed-bins-XXXX.json; each
/// project is delegated the path NAME, the one that hashes into its bin.
#[derive(clap::Args)]
pub struct ClaimArgs {
    /// The current claimed metadata (without it: version 1 of the claimed role).
    #[arg(long, value_name = "CURRENT")]
    claimed: Option<PathBuf>,
    /// The JSON Lines request file.
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// New expiry (required for version 1; otherwise default: unchanged). Every draft's
    /// expiry must be in the future (an unchanged one too); beyond 6 months (claimed's bound,
    /// from PEP 458's pre-PEP 480 text) a warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    /// The next version to create (claimed in bins: a new directory for the changed bins).
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

/// Remove a project from claimed (its files fall back to recently-claimed or unclaimed).
///
/// Claimed in bins: --claimed names claimed itself, and NEXT is a new directory holding the
/// next version of the project's bin (see `pypi claim --help`).
#[derive(clap::Args)]
pub struct UnclaimArgs {
    /// The project (any spelling that normalises to it).
    project: String,
    #[command(flatten)]
    next: NextClaimed,
}

/// The claimed metadata a change starts from, and where its next version goes.
#[derive(clap::Args)]
pub struct NextClaimed {
    /// The current claimed metadata.
    #[arg(long, value_name = "CURRENT")]
    claimed: PathBuf,
    /// New expiry (default: unchanged); it must be in the future, and beyond 6 months
    /// (claimed's bound) a warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    /// The next version to create (claimed in bins: a new directory for the bins that change).
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

/// Remove a compromised developer key from every claimed project that trusts it.
///
/// A project left with fewer keys than its threshold is removed from claimed: thresholds are
/// never lowered silently, and its developers must register new keys.
///
/// Claimed in bins: --claimed names claimed itself, every bin is read from its directory, and
/// NEXT is a new directory holding the next version of the bins that change.
#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The keyid of the compromised key: all 64 hex digits or a unique prefix of at least 8.
    keyid: String,
    #[command(flatten)]
    next: NextClaimed,
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

/// Write a draft and return its payload digest (what `sign` will show the signers).
fn write_targets(path: &Path, t: Targets) -> Result<String, Failure> {
    let md = conclave::metadata::AnyMetadata::Targets(Metadata::new(t));
    let mut digest = String::new();
    crate::cli::write_metadata(path, |p| {
        digest = conclave::fsutil::write_metadata_digest(&md, p)?;
        Ok(())
    })?;
    // Written: the command ends soon after.
    crate::cli::leave_at_exit(md);
    Ok(digest)
}

/// Print the payload digest of a draft just written, for the signers to compare with what
/// `sign` shows them.
pub fn print_digest(digest: &str) {
    let (groups, _) = conclave::ceremony::review::digest_for_reading(digest);
    eprintln!(
        "Payload digest (SHA-256 of the canonical signed bytes; `conclave sign` shows the same):"
    );
    eprintln!("  {groups}");
}

/// Projects listed on screen per kind before the review goes to a file instead.
const SHOWN_PROJECTS: usize = 20;

/// The claim review: every project on screen when they fit, else the first few of each kind
/// on screen and every one in `DRAFT.review.txt` (named, with its SHA-256), never cut
/// silently.
fn print_review(review: &ClaimReview, output: &Path) -> Result<(), Failure> {
    // The whole review, escaped, as the file's text: made a line at a time (a bootstrap's
    // review is a million lines).
    let (mut text, mut count) = (String::new(), 0usize);
    review.each_line(usize::MAX, &mut |l| {
        text.push_str(&escape(l));
        text.push('\n');
        count += 1;
    });
    if count <= 3 * SHOWN_PROJECTS + 2 {
        for line in review.lines(usize::MAX) {
            eprintln!("  {}", escape(&line));
        }
        return Ok(());
    }
    let (path, sha) = crate::cli::write_review_text(output, &text)?;
    drop(text);
    for line in review.lines(SHOWN_PROJECTS) {
        eprintln!("  {}", escape(&line));
    }
    let (groups, _) = conclave::ceremony::review::digest_for_reading(&sha);
    eprintln!(
        "  every project ({count} lines) is listed in {}, SHA-256 {groups}",
        shown(&path)
    );
    Ok(())
}

/// The admins' next step. With the version in use as --previous, `sign` shows them the change
/// review (and `conclave review` reprints it, days later, on any machine).
fn next_steps(output: &Path, claimed: &Path) {
    let previous = if claimed.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" --previous {}", shown(claimed))
    };
    eprintln!(
        "Next: check the review above, then the PyPI admins sign: `conclave sign {}{previous} --role claimed --delegator TARGETS --key ADMIN.key -o SIG`, and `conclave merge ... --delegator TARGETS`.",
        shown(output)
    );
}

/// The current files of claimed's bins, found beside claimed itself: for each role, the
/// highest `V.ROLE.json`, else `ROLE.json`.
struct BinFiles {
    current: HashMap<String, (Option<u64>, PathBuf)>,
    dir: PathBuf,
    progress: Step,
}

/// Claimed's bins, listed the first time one is asked for (claimed may have none).
struct LazyBins<'a> {
    hub: &'a Path,
    /// How many bins will be read, when known (for the progress bar).
    total: u64,
    files: Option<BinFiles>,
    /// The first failure while loading: the library is handed only its text, and the
    /// command reports this one (its exact message and exit code).
    failure: Option<Failure>,
}

impl<'a> LazyBins<'a> {
    fn beside(hub: &'a Path, total: u64) -> Self {
        LazyBins {
            hub,
            total,
            files: None,
            failure: None,
        }
    }

    fn load(&mut self, bin: &str) -> Result<Targets, pypi::BinLoadError> {
        let result = match &mut self.files {
            Some(files) => files.load(bin),
            None => BinFiles::beside(self.hub, self.total)
                .and_then(|files| self.files.insert(files).load(bin)),
        };
        result.map_err(|f| {
            let msg = f.message.clone();
            self.failure.get_or_insert(f);
            msg.into()
        })
    }

    /// A change's outcome, preferring the loader's own failure.
    fn outcome(self, result: Result<ClaimDraft, ClaimError>) -> Result<ClaimDraft, Failure> {
        match (result, self.failure) {
            (Ok(d), _) => Ok(d),
            (Err(_), Some(f)) => Err(f),
            (Err(e), None) => Err(claim_failure(e)),
        }
    }
}

/// A claim error as the command reports it, with the flags that fix it.
fn claim_failure(e: ClaimError) -> Failure {
    Failure::usage(claim_message(&e))
}

fn claim_message(e: &ClaimError) -> String {
    match e {
        ClaimError::NeedsExpiry => {
            "a new claimed role needs --expires (PEP 458's historical text suggests 3 to 6 months)"
                .to_owned()
        }
        ClaimError::DelegatesToBins => {
            format!("{e} (claimed in bins: give it as --claimed and -o a new directory)")
        }
        ClaimError::InBin { bin, reason } => format!("bin {bin}: {}", claim_message(reason)),
        other => other.to_string(),
    }
}

/// A layout error as the command reports it, with the flags that fix it.
fn layout_failure(e: LayoutError) -> Failure {
    Failure::usage(match &e {
        LayoutError::RoleKeys(conclave::metadata::RoleKeysError::NoKeys { role }) => {
            format!("{e} (give --key {role}=PUBFILE)")
        }
        LayoutError::BinCount { of, bins } => format!(
            "{} must be a power of two from 2 to 65536 (PEP 458 suggests 16384), not {bins}",
            match of {
                BinsOf::Unclaimed => "--bins",
                BinsOf::Claimed => "--claimed-bins",
            }
        ),
        LayoutError::SuccinctBins { prefix } => format!("{e}; give --role {}", escape(prefix)),
        LayoutError::NewThresholdZero => "--threshold: threshold must be at least 1".to_owned(),
        _ => e.to_string(),
    })
}

impl BinFiles {
    fn beside(hub: &Path, total: u64) -> Result<Self, Failure> {
        let dir = hub
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let entries = conclave::ceremony::repository::list(&dir, ".json").map_err(|e| {
            Failure::usage(format!(
                "{}: cannot list: {}",
                shown(&dir),
                io_reason(&e.source)
            ))
        })?;
        let mut current: HashMap<String, (Option<u64>, PathBuf)> = HashMap::new();
        for e in entries {
            let name = e.name;
            let Some((role, version)) = conclave::verify::classify(&name) else {
                continue;
            };
            if !role.starts_with(pypi::CLAIMED_BINS_PREFIX) {
                continue;
            }
            let better = match current.get(&role) {
                None => true,
                Some((old, _)) => version.is_some() && version > *old,
            };
            if better {
                current.insert(role, (version, e.path));
            }
        }
        Ok(BinFiles {
            current,
            progress: Step::counted(
                format!("Reading claimed's bins in {} and drafting", shown(&dir)),
                total,
            ),
            dir,
        })
    }

    fn load(&mut self, bin: &str) -> Result<Targets, Failure> {
        let result = match self.current.get(bin) {
            None => Err(Failure::usage(format!(
                "{}: has no file for claimed bin {bin} (V.{bin}.json); every bin's current version must be there",
                shown(&self.dir)
            ))),
            Some((_, path)) => read_targets(path).map(|m| m.signed),
        };
        self.progress.inc(1);
        result
    }
}

/// Write what a change to claimed drafted. `headline` introduces the review of a next
/// version of claimed itself.
fn write_claim_draft(
    output: &Path,
    claimed: &Path,
    drafted: ClaimDraft,
    long: crate::cli::LongExpiry,
    headline: impl FnOnce(&Targets) -> String,
) -> Result<(), Failure> {
    match &drafted {
        ClaimDraft::Bins((drafts, _)) => crate::cli::check_expiries(
            drafts
                .iter()
                .map(|(name, t)| (name.as_str(), t.common.expires)),
            long,
        )?,
        ClaimDraft::Claimed(next, _) => {
            crate::cli::check_expiries([("claimed", next.common.expires)], long)?
        }
    }
    match &drafted {
        ClaimDraft::Bins((drafts, _)) => {
            drafts.iter().for_each(|(name, t)| warn_key_fields(name, t))
        }
        ClaimDraft::Claimed(next, _) => warn_key_fields("claimed", next),
    }
    match drafted {
        ClaimDraft::Bins((drafts, review)) => {
            write_bin_drafts(output, &drafts)?;
            report_bins(output, claimed, &drafts, &review)?;
        }
        ClaimDraft::Claimed(next, review) => {
            let headline = headline(&next);
            let digest = write_targets(output, next)?;
            eprintln!("{headline}");
            print_review(&review, output)?;
            print_digest(&digest);
            next_steps(output, claimed);
            crate::cli::leave_at_exit(review);
        }
    }
    Ok(())
}

/// A warning for each developer key carrying fields beyond keytype, scheme and keyval: the
/// clients that compute a keyid over the whole key object (tough) refuse the role. Only the
/// keys are looked at (a claimed role of a million projects is not serialised again).
fn warn_key_fields(role: &str, t: &Targets) {
    use conclave::compat::Quirk;
    let Some(d) = &t.delegations else { return };
    let odd: Vec<_> = d
        .keys
        .iter()
        .filter(|(_, k)| !k.extra().is_empty())
        .collect();
    if odd.is_empty() {
        return;
    }
    let clients: Vec<String> = Quirk::KeyidOverWholeKey
        .clients()
        .iter()
        .map(|(c, e)| format!("{c} {}", e.name()))
        .collect();
    for (id, k) in odd.iter().take(5) {
        let fields: Vec<String> = k.extra().keys().map(|f| escape(f).into_owned()).collect();
        eprintln!(
            "warning: role {}: key {id} carries {}: {} it: {}",
            escape(role),
            fields.join(", "),
            clients.join(", "),
            Quirk::KeyidOverWholeKey.id()
        );
    }
    if odd.len() > 5 {
        eprintln!("warning: ... and {} more such keys", odd.len() - 5);
    }
}

/// Write the changed bins into the new directory `output`, as `V.BIN.json`.
fn write_bin_drafts(output: &Path, drafts: &[(String, Targets)]) -> Result<(), Failure> {
    let files: Vec<(String, Vec<u8>)> = drafts
        .iter()
        .map(|(name, t)| {
            (
                format!("{}.{name}.json", t.common.version),
                Metadata::new(t.clone()).to_file_bytes(),
            )
        })
        .collect();
    let _step = Step::start(format!(
        "Writing {} draft(s) to {}",
        files.len(),
        shown(output)
    ));
    crate::cli::write_new_dir(
        output,
        &files,
        "already exists; the bins' drafts always go to a new directory",
    )
}

fn report_bins(
    output: &Path,
    hub_path: &Path,
    drafts: &[(String, Targets)],
    review: &ClaimReview,
) -> Result<(), Failure> {
    eprintln!(
        "Drafted the next version of {} claimed bin(s) in {} (unsigned). Review:",
        drafts.len(),
        shown(output)
    );
    print_review(review, output)?;
    eprintln!(
        "Next: check the review above, then the PyPI admins sign each file in {}: `conclave sign {}/V.claimed-bins-XXXX.json --delegator {} --key ADMIN.key -o SIG`, and `conclave merge ... --delegator {}`; claimed itself does not change.",
        shown(output),
        shown(output),
        shown(hub_path),
        shown(hub_path)
    );
    let in_use = hub_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    eprintln!(
        "`conclave sign {} --previous {} --delegator {} ...` on the directory shows one round digest over every draft to compare aloud, and what each bin changes.",
        shown(output),
        shown(in_use),
        shown(hub_path)
    );
    Ok(())
}

/// The request file, to be read a batch of lines at a time ([`pypi::RequestStream`]).
fn open_requests(
    path: &Path,
) -> Result<pypi::RequestStream<std::io::BufReader<std::fs::File>>, Failure> {
    let fail = |why: String| Failure::usage(format!("{}: cannot read: {why}", shown(path)));
    let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > crate::cli::MAX_INPUT {
        return Err(fail(format!(
            "larger than {} GiB",
            crate::cli::MAX_INPUT >> 30
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(io_reason(&e)))?;
    Ok(pypi::RequestStream::read_ahead(
        std::io::BufReader::with_capacity(1 << 20, file),
    ))
}

/// Every request read and checked: nothing may be written otherwise.
fn requests_checked(
    path: &Path,
    requests: pypi::RequestStream<std::io::BufReader<std::fs::File>>,
) -> Result<(), Failure> {
    match requests.finish() {
        Ok(()) => Ok(()),
        Err(pypi::RequestsError::Io(e)) => Err(Failure::usage(format!(
            "{}: cannot read: {}",
            shown(path),
            io_reason(&e)
        ))),
        Err(pypi::RequestsError::Lines(errors)) => {
            for e in &errors {
                eprintln!("error: {}: {e}", shown(path));
            }
            Err(Failure::failed(format!(
                "{} bad request line(s); nothing was written",
                errors.len()
            )))
        }
    }
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
            let mut stream = open_requests(&a.requests)?;
            // Only claimed in bins has bins to read, and claimed is then given.
            let claimed_path = a.claimed.as_deref().unwrap_or(Path::new(""));
            let mut bins = LazyBins::beside(claimed_path, 0);
            // The requests are checked as claimed is built from them, a batch at a time (a
            // million need not be held beside the role); a bad line anywhere still means
            // nothing is written.
            let change = ClaimChange::Claim {
                current: current.map(|m| std::borrow::Cow::Owned(m.signed)),
                requests: &mut stream,
            };
            let drafted = progress::step(
                format!(
                    "Checking the requests in {} and drafting",
                    shown(&a.requests)
                ),
                || pypi::change_claimed(change, a.expires, &mut |bin| bins.load(bin)),
            );
            let count = stream.accepted();
            requests_checked(&a.requests, stream)?;
            let drafted = bins.outcome(drafted)?;
            if matches!(&drafted, ClaimDraft::Bins((drafts, _)) if drafts.is_empty()) {
                return Err(Failure::usage(
                    "no claimed bin changes: every requested project is already claimed with these keys and threshold; nothing was written",
                ));
            }
            write_claim_draft(&a.output, claimed_path, drafted, a.long, |next| {
                format!(
                    "Drafted claimed version {} ({}, unsigned) from {count} request(s). Review:",
                    next.common.version,
                    shown(&a.output),
                )
            })?;
            Ok(exit::OK)
        }
        PypiCommand::Unclaim(a) => {
            let n = &a.next;
            refuse_existing(&n.output)?;
            let current = read_targets(&n.claimed)?;
            let change = ClaimChange::Unclaim {
                current: &current.signed,
                project: &a.project,
            };
            change_claimed(n, change, 0)?;
            Ok(exit::OK)
        }
        PypiCommand::RevokeDeveloperKey(a) => {
            let n = &a.next;
            refuse_existing(&n.output)?;
            let current = read_targets(&n.claimed)?;
            // Every bin is read.
            let total = pypi::Hub::of(&current.signed).map_or(0, |h| h.len() as u64);
            let change = ClaimChange::RevokeDeveloperKey {
                current: &current.signed,
                keyid: &a.keyid,
            };
            change_claimed(n, change, total)?;
            eprintln!(
                "Also: files those projects signed with the revoked key must be re-signed by their developers with a remaining or new key."
            );
            Ok(exit::OK)
        }
    }
}

/// Draft and write an unclaim or a developer key's revocation.
fn change_claimed(
    n: &NextClaimed,
    change: ClaimChange<'_, std::iter::Empty<pypi::ClaimRequest>>,
    total: u64,
) -> Result<(), Failure> {
    let mut bins = LazyBins::beside(&n.claimed, total);
    let drafted = pypi::change_claimed(change, n.expires, &mut |bin| bins.load(bin));
    let drafted = bins.outcome(drafted)?;
    write_claim_draft(&n.output, &n.claimed, drafted, n.long, |_| {
        format!("Drafted {} (unsigned). Review:", shown(&n.output))
    })
}

fn init(a: InitArgs) -> Result<u8, Failure> {
    let unclaimed_out = a.unclaimed_out.clone().unwrap_or_else(|| {
        a.output
            .parent()
            .unwrap_or(Path::new(""))
            .join("unclaimed.json")
    });
    let claimed_out = a.claimed_bins.map(|_| {
        a.claimed_out
            .clone()
            .unwrap_or_else(|| a.output.parent().unwrap_or(Path::new("")).join("claimed"))
    });
    refuse_existing(&a.output)?;
    refuse_existing(&unclaimed_out)?;
    if let Some(dir) = &claimed_out {
        refuse_existing(dir)?;
    }
    let must_load = crate::cli::verify::parse_clients(&a.clients)?.unwrap_or_default();
    if !a.classic_bins {
        if must_load.contains(&conclave::compat::Client::Tough) {
            return Err(Failure::usage(
                "tough must load this repository, and tough 0.24 cannot read TAP 15 succinct \
                 bins (it refuses unclaimed with \"missing field `roles`\")",
            )
            .hint("add --classic-bins: unclaimed then lists its bins with path_hash_prefixes"));
        }
        eprintln!(
            "Note: unclaimed's bins are TAP 15 succinct_roles, which tough (awslabs) cannot \
             read; --classic-bins drafts bins every known client reads."
        );
    }
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
    let mut drafted =
        pypi::init(&keys, a.expires, a.bins, layout, a.claimed_bins).map_err(layout_failure)?;
    if let Some(e) = a.claimed_expires {
        drafted.set_claimed_expiry(e);
    }
    let mut expiries = vec![
        ("targets", drafted.targets.common.expires),
        ("unclaimed", drafted.unclaimed.common.expires),
    ];
    if let Some((hub, bins)) = &drafted.claimed_bins {
        expiries.push(("claimed", hub.common.expires));
        expiries.extend(bins.iter().map(|(n, t)| (n.as_str(), t.common.expires)));
    }
    crate::cli::check_expiries(expiries, a.long)?;
    if let (Some(dir), Some((hub, bins))) = (&claimed_out, &drafted.claimed_bins) {
        let mut files = vec![(
            "1.claimed.json".to_owned(),
            Metadata::new(hub.clone()).to_file_bytes(),
        )];
        for (name, t) in bins {
            files.push((
                format!("1.{name}.json"),
                Metadata::new(t.clone()).to_file_bytes(),
            ));
        }
        crate::cli::write_new_dir(
            dir,
            &files,
            "already exists; choose a new directory for claimed's drafts",
        )?;
    }
    crate::cli::warn_client_quirks(
        "1.targets.json",
        &Metadata::new(drafted.targets.clone()).to_file_bytes(),
    );
    write_targets(&a.output, drafted.targets)?;
    write_targets(&unclaimed_out, drafted.unclaimed)?;
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
    if let (Some(dir), Some(n)) = (&claimed_out, a.claimed_bins) {
        eprintln!(
            "Drafted {} : claimed (1.claimed.json) over {n} hash bins (path_hash_prefixes, by SHA-256 of the project name), and the {n} bins, empty. The directory is one signing round: once targets is signed, each PyPI admin signs it with `conclave sign {} --delegator REPO/1.targets.json --key KEYFILE -o SIGDIR` (claimed is checked against targets, the bins against claimed), and `conclave merge {} SIGDIR... --delegator REPO/1.targets.json -o REPO` merges claimed and every bin, or nothing.",
            shown(dir),
            shown(dir),
            shown(dir)
        );
    }
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
/// unclaimed, unclaimed -> its bins (ROLE is the bins' name prefix), claimed -> a project.
/// Keys are given as `root rotate` takes them: --add-key ROLE=PUBFILE, --remove-key
/// ROLE=KEYID, --threshold ROLE=N, where ROLE is the delegated role whose keys change (one
/// role per command). The new version is PARENT's + 1, unsigned; then sign it with `sign`,
/// follow with `status --delegator` and `merge --delegator` as for any role.
///
/// The old spelling still works: --role NAME with bare values (--add-key PUBFILE,
/// --remove-key KEYID, --threshold N).
#[derive(clap::Args)]
pub struct RotateArgs {
    /// The delegating metadata.
    parent: PathBuf,
    /// Add a key to the delegated role: ROLE=PUBFILE (repeatable).
    #[arg(long = "add-key", value_name = "ROLE=PUBFILE")]
    add: Vec<String>,
    /// Remove a key from the delegated role: ROLE=KEYID (repeatable); the keyid whole or a
    /// unique prefix of at least 8 hex digits.
    #[arg(long = "remove-key", value_name = "ROLE=KEYID")]
    remove: Vec<String>,
    /// Set the delegated role's threshold: ROLE=N.
    #[arg(long = "threshold", value_name = "ROLE=N")]
    threshold: Vec<String>,
    /// The old spelling: the delegated role, with bare values for the flags above.
    #[arg(long, value_name = "NAME", hide = true)]
    role: Option<String>,
    /// New expiry for PARENT's next version (default: unchanged). It must be in the future (an
    /// unchanged one too); beyond PARENT's role's PEP 458 bound (targets 1 year, claimed 6
    /// months, others 1 year) a warning is printed.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<Expires>,
    /// The next version to create.
    #[arg(short = 'o', long = "output", value_name = "NEXT")]
    output: PathBuf,
    #[command(flatten)]
    long: crate::cli::LongExpiry,
}

/// A delegation rotation as asked: one role, its keys to add and remove, its threshold.
struct Rotation {
    parent: PathBuf,
    role: String,
    add: Vec<PathBuf>,
    remove: Vec<String>,
    threshold: Option<u32>,
    expires: Option<Expires>,
    output: PathBuf,
    long: crate::cli::LongExpiry,
}

impl RotateArgs {
    /// Read the flags in either spelling: ROLE=VALUE (ROLE the same in all of them), or the
    /// old --role NAME with bare values (where a value written `NAME=...` is read as well).
    fn rotation(self) -> Result<Rotation, Failure> {
        let mut role = self.role.clone();
        let mut split = |flag: &str, given: &str| -> Result<String, Failure> {
            if let Some(r) = &self.role {
                let prefix = format!("{r}=");
                return Ok(given.strip_prefix(&prefix).unwrap_or(given).to_owned());
            }
            let (r, value) =
                role_value(given).map_err(|e| Failure::usage(format!("{flag}: {e}")))?;
            match &role {
                Some(known) if *known != r => Err(Failure::usage(format!(
                    "{flag} {}: one delegated role per command, and \"{}\" was named before",
                    escape(given),
                    escape(known)
                ))
                .hint("rotate one role, then run `delegation rotate` again on the draft it wrote")),
                _ => {
                    role = Some(r);
                    Ok(value)
                }
            }
        };
        let add = self
            .add
            .iter()
            .map(|g| split("--add-key", g).map(PathBuf::from))
            .collect::<Result<Vec<_>, _>>()?;
        let remove = self
            .remove
            .iter()
            .map(|g| split("--remove-key", g))
            .collect::<Result<Vec<_>, _>>()?;
        let mut threshold = None;
        for t in &self.threshold {
            let n = split("--threshold", t)?;
            let n: u32 = n.parse().map_err(|_| {
                Failure::usage(format!(
                    "--threshold {}: N must be a whole number",
                    escape(t)
                ))
            })?;
            if threshold.replace(n).is_some() {
                return Err(Failure::usage("--threshold is given twice"));
            }
        }
        let role = role.ok_or_else(|| {
            Failure::usage("no key change given: nothing to rotate")
                .hint("give --add-key ROLE=PUBFILE, --remove-key ROLE=KEYID or --threshold ROLE=N")
        })?;
        Ok(Rotation {
            parent: self.parent,
            role,
            add,
            remove,
            threshold,
            expires: self.expires,
            output: self.output,
            long: self.long,
        })
    }
}

pub fn run_delegation(cmd: DelegationCommand) -> Result<u8, Failure> {
    let DelegationCommand::Rotate(a) = cmd;
    let a = a.rotation()?;
    refuse_existing(&a.output)?;
    let parent = read_targets(&a.parent)?;
    let add = a
        .add
        .iter()
        .map(|p| read_public_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    // Prefixes are resolved against the keys PARENT lists for its delegations.
    let listed = parent
        .signed
        .delegations
        .as_ref()
        .map(|d| d.keys.clone())
        .unwrap_or_default();
    let remove = a
        .remove
        .iter()
        .map(|k| {
            conclave::metadata::resolve_keyid(k, &listed).map_err(|e| {
                Failure::usage(format!(
                    "--remove-key {}: {e} ({} lists {} delegated key(s))",
                    escape(k),
                    shown(&a.parent),
                    listed.len()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (next, review) = pypi::rotate_delegation(
        &parent.signed,
        &a.role,
        &add,
        &remove,
        a.threshold,
        a.expires,
    )
    .map_err(layout_failure)?;
    let parent_role = parent_role(&a.parent);
    crate::cli::check_expiries([(parent_role.as_str(), next.common.expires)], a.long)?;
    let version = next.common.version;
    crate::cli::warn_client_quirks(
        &format!("{version}.{parent_role}.json"),
        &Metadata::new(next.clone()).to_file_bytes(),
    );
    let digest = write_targets(&a.output, next)?;
    eprintln!(
        "Drafted {} (version {version}, unsigned; the old signatures no longer apply). Changes to role \"{}\":",
        shown(&a.output),
        escape(&a.role)
    );
    for line in review {
        eprintln!("  {}", escape(&line));
    }
    print_digest(&digest);
    eprintln!(
        "Next: whoever signs {} signs NEXT (`conclave sign NEXT --previous {} --delegator ...`, which shows these changes); after it is published, \"{}\" must be re-signed by the new key set.",
        shown(&a.parent),
        shown(&a.parent),
        escape(&a.role)
    );
    Ok(exit::OK)
}

/// The role of delegating targets metadata, from its file name (`claimed.json`,
/// `3.claimed.json`), as `sign` reads it.
fn parent_role(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    conclave::ceremony::targets_role_name(name.as_deref())
}
