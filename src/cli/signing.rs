//! `conclave sign`, `conclave merge` and `conclave status`: the signing round.

use std::path::{Path, PathBuf};

use conclave::ceremony::request::{self, RequestError, SigningRequest};
use conclave::ceremony::review;
use conclave::display::escape;
use conclave::metadata::{Expires, KeyId};
use conclave::verify::{RevokedKeys, SignatureReport};

use crate::cli::prompt::Prompter;
use crate::cli::{Failure, exit, read_metadata, shown};

mod detached;
pub(crate) mod round;

/// Where the keys allowed to sign come from.
#[derive(clap::Args)]
pub struct Context {
    /// For a root rotation: the previous root. Its root keys must also reach their threshold.
    /// Default for a root after version 1: N-1.root.json in the repository of the ceremony
    /// directory FILE lies in, else N-1.root.json beside FILE; when neither exists, merge and
    /// status refuse (sign goes on, checking only the draft's own keys).
    /// For any other role: its version in use, for the change review. For a round (a directory
    /// of drafts) given to sign: the directory of the versions in use (the repository).
    #[arg(long, value_name = "PREV")]
    previous: Option<PathBuf>,
    /// The metadata that delegates to FILE's role: the root for targets, snapshot and
    /// timestamp; the delegating targets metadata for a delegated role.
    #[arg(long, value_name = "PARENT")]
    delegator: Option<PathBuf>,
    /// FILE's role name, when its file name does not say (e.g. claimed for draft.json).
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// A revoked key (repeatable; its keyid, whole or a unique prefix of at least 8 hex
    /// digits): its signatures count toward no threshold, are not merged, and it may not sign.
    /// The revocation record `conclave revoke` leaves beside its drafts (REVOKED.record) is
    /// read without this.
    #[arg(long = "revoked", value_name = "KEYID")]
    revoked: Vec<String>,
}

impl Context {
    fn paths(&self) -> request::Context<'_> {
        request::Context {
            role: self.role.as_deref(),
            previous: self.previous.as_deref(),
            delegator: self.delegator.as_deref(),
        }
    }
}

/// The command line's words for a request that cannot go ahead (the library's, with the flags
/// and hints added).
impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Read { path, source } => match source {
                conclave::metadata::streamed::ReadError::Io(io) => Failure::usage(format!(
                    "{}: cannot read: {}",
                    shown(&path),
                    crate::cli::io_reason(&io)
                )),
                other => Failure::failed(format!("{}: {other}", shown(&path))),
            },
            RequestError::PreviousNotRoot { found } => {
                Failure::usage(format!("--previous must be a root, not {found} metadata"))
            }
            RequestError::Authorities { source, .. } => {
                Failure::usage(crate::cli::authorities_message(&source))
            }
            RequestError::NoAuthorities { role } => Failure::usage(format!(
                "cannot tell which keys may sign role {}",
                escape(&role)
            ))
            .hint("give --delegator: the root for targets, snapshot and timestamp; the delegating targets metadata for a delegated role"),
            e @ RequestError::KeyNotAllowed { .. } => {
                Failure::failed(format!("{e}; nothing was signed"))
                    .hint("check you brought the right key, and that the draft lists it")
            }
            e @ RequestError::Refused { .. } => {
                Failure::failed(format!("{e}; nothing was merged or written"))
            }
            e @ RequestError::ForeignKeys { .. } => Failure::failed(format!(
                "{e}; nothing was signed, merged or written"
            ))
            .hint(
                "do not sign this draft: ask whoever made it why its keys are not what their \
                 keyids say. Only for a repository conclave did not build, after checking every \
                 key with its holder, give --allow-foreign-keyids",
            ),
            e @ RequestError::Revoked { .. } => Failure::failed(format!("{e}; nothing was signed"))
                .hint(format!(
                    "this round's revocation record ({}) or --revoked names this key: another \
                     key holder signs instead",
                    conclave::ceremony::revoked::FILE_NAME
                )),
            RequestError::Sign(e) => Failure::failed(e.to_string()),
            e @ RequestError::PreviousUnverified { .. } => {
                Failure::failed(format!("--previous: {e}; nothing was signed, merged or written"))
                    .hint("give as --previous the root in use: the repository's fully signed N.root.json, checked with `conclave verify`")
            }
            e @ RequestError::RootWithoutPrevious { version, .. } => {
                Failure::usage(format!("{e}; nothing was counted, merged or written"))
                    .hint(previous_hint(version))
            }
            e @ RequestError::NotANewRootKey { version, .. } => Failure::usage(format!(
                "{e}; nothing was signed"
            ))
            .hint(format!(
                "if it is a root key of version {}, {}; otherwise check you brought the right key",
                version - 1,
                previous_hint(version)
            )),
            e @ RequestError::NotThisRole { .. } => Failure::usage(format!("--role: {e}")),
            RequestError::StoredAs(e) => Failure::usage(format!(
                "-o: {e}; nothing was merged or written"
            ))
            .hint("write a root only to N.root.json for its own version N, and other roles to their own names"),
        }
    }
}

/// What to add when the previous root of root version `version` was not found.
fn previous_hint(version: u64) -> String {
    let prev = version - 1;
    format!(
        "add --previous REPO/{prev}.root.json, REPO being the repository that holds root \
         version {prev} (the root in use), and run the command again"
    )
}

/// Read the request, and say which previous root was found when none was given. Revoked keys
/// (the record beside FILE, and --revoked) are applied.
fn load(file: &Path, ctx: &Context) -> Result<SigningRequest, Failure> {
    let mut l = SigningRequest::load(file, &ctx.paths(), read_metadata)?;
    let mut revoked = read_revocation_record(&file_dir(file))?;
    let known = known_keys(&l);
    for given in &ctx.revoked {
        revoked.add(resolve_revoked(given, &known)?);
    }
    if !revoked.is_empty() {
        l.set_revoked(revoked);
    }
    if let Some((path, source)) = l.previous_from()
        && source != request::PreviousSource::Given
    {
        eprintln!(
            "Previous root: {} ({}; give --previous to use another).",
            shown(path),
            source.describe()
        );
    }
    Ok(l)
}

/// The directory a file lies in (`.` for a bare name).
pub(crate) fn file_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The revoked keys of the revocation record in `dir`, if it has one (said on stderr).
pub(crate) fn read_revocation_record(dir: &Path) -> Result<RevokedKeys, Failure> {
    use conclave::ceremony::revoked;
    let Some(path) = revoked::beside(dir) else {
        return Ok(RevokedKeys::new());
    };
    let record = revoked::Revoked::parse(&crate::cli::read_file(&path)?).map_err(|e| {
        Failure::usage(format!("{}: {e}", shown(&path)))
            .hint("the revocation record is written by `conclave revoke`; restore it from PLAN.txt's directory")
    })?;
    eprintln!(
        "Revocation record {}: {}. Signatures by these keys count toward no threshold here.",
        shown(&path),
        record.describe()
    );
    Ok(record.revoked_keys())
}

/// Every key the draft's context lists: where a --revoked prefix is looked up.
fn known_keys(l: &SigningRequest) -> std::collections::BTreeMap<KeyId, conclave::metadata::Key> {
    let mut keys = std::collections::BTreeMap::new();
    for a in l.authorities().unwrap_or_default() {
        keys.extend(a.keys.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    keys
}

/// A --revoked KEYID: all 64 hex digits are taken as they are (a key this draft does not list
/// has nothing to leave out); a prefix must name one of `known`.
pub(crate) fn resolve_revoked(
    given: &str,
    known: &std::collections::BTreeMap<KeyId, conclave::metadata::Key>,
) -> Result<KeyId, Failure> {
    use conclave::metadata::lookup::keyid_prefix;
    let fail = |e: conclave::metadata::KeyIdLookupError| {
        Failure::usage(format!("--revoked {}: {e}", escape(given)))
    };
    if let Ok(p) = keyid_prefix(given)
        && p.len() == 64
    {
        return KeyId::new(&p).map_err(|e| Failure::usage(format!("--revoked: {e}")));
    }
    conclave::metadata::resolve_keyid(given, known).map_err(fail)
}

/// How many review lines fit a screen; a longer review goes to a file beside the signature.
const REVIEW_LINES: usize = 200;

/// A signing request's review as shown: `text` is the review itself (the same on every
/// machine and every day: [`SigningRequest::review_lines`]), the text written to a review
/// file and digested; [`ShownReview::screen`] is what the officer reads: a heading with the
/// file names, the review with the key names of the plan beside the keyids, and under the
/// expiry how it stands now ("in 364 days", EXPIRED). `sign` and `review` both show it.
pub(crate) struct ShownReview {
    heading: String,
    pub text: Vec<String>,
    expiry_line: String,
    pub expiry: ExpiryReview,
}

impl ShownReview {
    pub fn of(l: &SigningRequest, heading: String, file: &Path) -> Self {
        let text = l.review_lines();
        let expiry = ExpiryReview::of([(shown(file), l.role(), l.metadata().common().expires)]);
        ShownReview {
            heading,
            text,
            expiry_line: format!("  expiry:   {}", expiry.lines[0]),
            expiry,
        }
    }

    /// How many lines [`ShownReview::screen`] gives.
    pub fn screen_len(&self) -> usize {
        self.text.len() + 2
    }

    /// The review as the officer reads it, a line at a time (a claim's review can be millions
    /// of lines: only what is printed is made): the heading, then the text with the plan's
    /// names beside its keyids, and how the draft stands against its expiry right under the
    /// expiry it reads.
    pub fn screen<'a>(
        &'a self,
        names: &'a crate::cli::names::Names,
    ) -> impl Iterator<Item = String> + 'a {
        let at = self
            .text
            .iter()
            .position(|l| l.starts_with("  expires:"))
            .map_or(self.text.len(), |i| i + 1);
        std::iter::once(self.heading.clone())
            .chain(self.text[..at].iter().map(|l| names.line(l)))
            .chain(std::iter::once(self.expiry_line.clone()))
            .chain(self.text[at..].iter().map(|l| names.line(l)))
    }

    /// The payload digest to compare aloud, and the review's digest when given (hex groups
    /// and PGP words), as lines.
    pub fn digest_lines(payload: &str, review: Option<(&str, &str)>) -> Vec<String> {
        let (hex_groups, words) = review::digest_for_reading(payload);
        let mut out = vec![
            "Payload digest (SHA-256 of the canonical signed bytes) - compare it aloud:".into(),
        ];
        out.push(format!("  {hex_groups}"));
        out.extend(words.iter().map(|w| format!("  {w}")));
        if let Some((label, sha)) = review {
            let (groups, _) = review::digest_for_reading(sha);
            out.push(label.to_owned());
            out.push(format!("  {groups}"));
        }
        out
    }
}

/// What the officer reads before signing: the summary, the changes against the previous
/// version (with a banner when that version is not verified), and the digests to compare
/// aloud. A review too long for the screen is written whole to `SIGFILE.review.txt`, and
/// its SHA-256 is read aloud with the payload digest, so every officer knows they reviewed
/// the same list (`conclave review` prints the same digest on any machine).
fn show_review(
    l: &SigningRequest,
    file: &Path,
    previous: Option<&Path>,
    output: &Path,
    digest: &str,
    names: &crate::cli::names::Names,
) -> Result<Option<(PathBuf, String)>, Failure> {
    let heading = match previous {
        Some(p) => format!(
            "You are about to sign {} (previous version: {}):",
            shown(file),
            shown(p)
        ),
        None => format!("You are about to sign {}:", shown(file)),
    };
    show_review_headed(l, heading, file, output, digest, names)
}

/// [`show_review`] under the caller's heading (`rstuf sign` names the pending role).
pub(crate) fn show_review_headed(
    l: &SigningRequest,
    heading: String,
    file: &Path,
    output: &Path,
    digest: &str,
    names: &crate::cli::names::Names,
) -> Result<Option<(PathBuf, String)>, Failure> {
    let shown_review = ShownReview::of(l, heading, file);
    let mut review_file = None;
    if shown_review.screen_len() > REVIEW_LINES {
        let (path, sha) = crate::cli::write_review(output, &shown_review.text)?;
        for line in shown_review.screen(names).take(REVIEW_LINES / 2) {
            eprintln!("{line}");
        }
        eprintln!(
            "  ... the review has {} lines: all of them are in {} (read it before signing)",
            shown_review.text.len(),
            shown(&path)
        );
        review_file = Some((path, sha));
    } else {
        for line in shown_review.screen(names) {
            eprintln!("{line}");
        }
    }
    shown_review.expiry.print_warnings();
    let review = review_file.as_ref().map(|(_, sha)| {
        (
            "Review file digest (SHA-256 of the whole review) - compare it aloud too:",
            sha.as_str(),
        )
    });
    for line in ShownReview::digest_lines(digest, review) {
        eprintln!("{line}");
    }
    if let Some(v) = l.root_without_previous() {
        eprintln!(
            "note: root version {} was not found beside the draft or in a ceremony directory, \
             so nothing here is checked against it: only this draft's own keys are listed, and \
             status and merge will need it: {}.",
            v - 1,
            previous_hint(v)
        );
    }
    Ok(review_file)
}

/// Refuse a draft whose keys are not what their keyids say, or, with
/// `--allow-foreign-keyids`, say so in a way no one can miss.
pub(crate) fn foreign_keys(l: &mut SigningRequest, allow: bool) -> Result<(), Failure> {
    if allow {
        l.allow_foreign_keyids();
    }
    l.check_keys()?;
    let problems = l.key_problems();
    if !problems.is_empty() {
        eprintln!(
            "!!! WARNING: THIS DRAFT'S KEYS ARE NOT WHAT THEIR KEYIDS SAY (--allow-foreign-keyids) !!!"
        );
        for p in problems {
            eprintln!("!!!   {p}");
        }
        eprintln!(
            "!!! Clients trust the key object under a keyid and count every keyid: check each \
             key above with its holder before going on."
        );
    }
    Ok(())
}

/// Whether two paths name the same existing file.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

pub(crate) fn print_reports(reports: &[SignatureReport], names: &crate::cli::names::Names) {
    for r in reports {
        eprintln!(
            "  {}: {} of {} needed have signed{}",
            r.keys_from,
            r.valid.len(),
            r.threshold,
            if r.is_met() {
                " - threshold met"
            } else {
                " - NOT YET"
            }
        );
        for id in &r.valid {
            eprintln!("      signed     {}", names.keyid(id));
        }
        for id in &r.missing {
            eprintln!("      not signed {}", names.keyid(id));
        }
        for (id, why) in &r.invalid {
            eprintln!("      INVALID    {} ({})", names.keyid(id), escape(why));
        }
        if !r.is_met() {
            eprintln!(
                "      still needed: {} more signature(s) from the keys not signed above",
                r.threshold as usize - r.valid.len()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Sign metadata with your key, as a detached signature file.
///
/// Before anything is signed, conclave shows what you are signing: role, version, expiry and
/// how it stands now ("in 364 days" or EXPIRED; a warning beyond the role's PEP 458 bound),
/// keys and thresholds, the changes against --previous, and the payload digest in hex and as
/// PGP words. Compare the digest aloud with the other officers: everyone must be signing the
/// same bytes. An expired draft is refused before the key is unlocked (--allow-expired signs
/// it anyway). The signature is checked against your public key before it is written.
/// `conclave review PREV FILE` reprints this review anywhere, with the same digests. Keys are
/// named as the plan names them (--plan, or the ceremony directory's plan.toml). A mistyped
/// passphrase or PIN at the terminal is asked again (three tries).
///
/// FILE may be a directory of drafts (a claim round's claimed bins, as `pypi claim` writes
/// them; --delegator required): every draft is listed, one round digest is shown to compare
/// aloud, the key is unlocked once, and -o names a new directory that receives one FILE.sig
/// per draft, or nothing if any draft cannot be signed. A root draft is never part of a
/// round, and a draft whose name says another role or version than it holds is refused.
#[derive(clap::Args)]
pub struct SignArgs {
    /// The metadata to sign (it is not modified), or a directory of drafts to sign as a round.
    file: PathBuf,
    #[command(flatten)]
    keys: crate::cli::signer::KeyArgs,
    /// Read the passphrase or PIN from this file descriptor (one line per prompt). A wrong
    /// one ends the command; at the terminal it is asked for again (three tries).
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
    /// The signature file to write, which must not exist yet (for a directory of drafts: a new
    /// directory). An existing file of any kind is refused before the key is unlocked; a key
    /// file or signature file is recognised even when damaged.
    #[arg(short = 'o', long = "output", value_name = "SIGFILE")]
    output: PathBuf,
    /// Sign even though the draft lists a key under a keyid that is not its own, one key
    /// under two keyids, or private key material (refused otherwise). Only for a repository
    /// conclave did not build, after checking every key with its holder.
    #[arg(long)]
    allow_foreign_keyids: bool,
    /// Also show the signature as a QR code and a CONCLAVE1: text, to carry it across the air
    /// gap without a USB stick (`conclave qr read` on the other side).
    #[arg(long)]
    qr: bool,
    #[command(flatten)]
    look: crate::cli::qr::Look,
    /// Once the signature is written, print what was signed as JSON on stdout: file, role,
    /// version, payload digest, keyid, signature file (fields in docs/formats.md). The review
    /// is shown on stderr as always.
    #[arg(long, conflicts_with = "qr")]
    json: bool,
    /// Sign a draft that has already expired. Without it an expired draft is refused before
    /// the key is unlocked: clients refuse expired metadata, so the signature could only serve
    /// a test or a deliberate recovery.
    #[arg(long)]
    allow_expired: bool,
    #[command(flatten)]
    ctx: Context,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

pub fn sign(a: SignArgs) -> Result<u8, Failure> {
    if a.file.is_dir() {
        return round::sign_round(&a);
    }
    // The signature file must never replace the draft (or anything else given as input).
    for input in [
        Some(&a.file),
        a.ctx.previous.as_ref(),
        a.ctx.delegator.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if same_file(input, &a.output) {
            return Err(Failure::usage(format!(
                "-o {}: that is an input of this command; write the signature to a new file",
                shown(&a.output)
            )));
        }
    }
    // A signature only ever goes where nothing is: never over a key file (damaged or not),
    // another signature, or anything else. Checked before the key is unlocked.
    conclave::ceremony::overwrite::refuse_any(&a.output)?;
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.file])?;
    let mut l = load(&a.file, &a.ctx)?;
    foreign_keys(&mut l, a.allow_foreign_keyids)?;
    let digest = crate::cli::progress::step("Computing the payload digest", || l.payload_digest());
    let names = crate::cli::names::Names::find(&a.names, &[&a.file, &a.output])?;
    let previous = l.previous_from().map(|(p, _)| p.to_path_buf());
    let review_file = show_review(&l, &a.file, previous.as_deref(), &a.output, &digest, &names)?;
    if l.authorities().is_none() {
        eprintln!(
            "note: without --delegator, conclave cannot check that your key may sign role {}; merge will.",
            escape(l.role())
        );
    }

    ExpiryReview::of([(shown(&a.file), l.role(), l.metadata().common().expires)])
        .refuse_expired(a.allow_expired)?;

    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let check_allowed = |keyid: &KeyId| -> Result<(), Failure> { Ok(l.may_sign(keyid)?) };
    let signer = crate::cli::signer::open(&a.keys, &mut prompter, &check_allowed, &names, 1)?;
    let signed =
        crate::cli::progress::step("Signing", || l.sign(signer.as_ref(), a.output.parent()));
    let detached = signed.map_err(|e| match e {
        RequestError::Sign(e) => crate::cli::signer::sign_failure(&a.keys, e),
        other => other.into(),
    })?;
    let bytes = detached.to_bytes();
    crate::cli::write_new_output(&a.output, &bytes)?;
    eprintln!(
        "Wrote the signature by {} to {}.",
        names.keyid(&detached.signature.keyid),
        shown(&a.output)
    );
    if a.qr {
        let text = conclave::optical::encode_signature(&bytes)
            .map_err(|e| Failure::failed(format!("{}: {e}", shown(&a.output))))?;
        eprintln!("The signature as a QR code (scan it with `conclave qr read -o SIGFILE`):");
        crate::cli::qr::print_qr(&text, a.look)?;
    }
    crate::cli::record::step_by(
        &recorder,
        format!("sign {} v{}", l.role(), l.metadata().common().version),
        &[&a.file],
        &[&a.output],
        vec![detached.signature.keyid.to_raw_string()],
        names.officer(&detached.signature.keyid),
    )?;
    eprintln!(
        "Next: hand the signature file to whoever merges (`conclave merge`); it holds no secret."
    );
    if a.json {
        use crate::cli::json::{Value, int, obj, opt, path};
        let c = l.metadata().common();
        let (review, review_sha) = review_file.map_or((None, None), |(p, s)| (Some(p), Some(s)));
        crate::cli::json::print(&obj([
            ("file", path(&a.file)),
            ("role", Value::from(l.role())),
            ("version", int(c.version.get())),
            ("expires", Value::from(c.expires.to_string())),
            ("payload_sha256", Value::from(digest.as_str())),
            (
                "keyid",
                Value::from(detached.signature.keyid.as_str().to_string()),
            ),
            ("output", path(&a.output)),
            ("review_file", review.as_deref().map_or(Value::Null, path)),
            ("review_sha256", opt(review_sha)),
        ]));
    }
    crate::cli::leave_at_exit(l);
    Ok(exit::OK)
}

/// How the drafts being signed or merged stand against their expiry, now: one line per draft
/// for the review ("in 364 days", "EXPIRED 3 days ago"), the drafts that have expired, and a
/// warning per role and expiry beyond the role's bound
/// ([`conclave::ceremony::expiry::check`]).
pub(crate) struct ExpiryReview {
    pub lines: Vec<String>,
    /// The expired drafts, as (name, role, expiry).
    expired: Vec<(String, String, conclave::metadata::Expires)>,
    warnings: Vec<String>,
}

impl ExpiryReview {
    /// Review (name for messages, role, expiry) of every draft.
    pub fn of<'a>(
        drafts: impl IntoIterator<Item = (String, &'a str, conclave::metadata::Expires)>,
    ) -> Self {
        use conclave::ceremony::expiry;
        let now = conclave::metadata::Expires::now();
        let mut review = ExpiryReview {
            lines: Vec::new(),
            expired: Vec::new(),
            warnings: Vec::new(),
        };
        let mut lifetimes = Vec::new();
        for (name, role, expires) in drafts {
            let relative = expiry::relative(expires, now);
            match expiry::check(role, expires, now, true) {
                Err(_) => {
                    review.lines.push(format!(
                        "{relative} ({expires}): clients refuse it as it is"
                    ));
                    review.expired.push((name, role.to_owned(), expires));
                }
                Ok(l) => {
                    review.lines.push(format!("{relative} ({expires})"));
                    lifetimes.push(l);
                }
            }
        }
        review.warnings = expiry::warnings(&lifetimes)
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        review
    }

    /// Print the warnings (expiries beyond their role's bound), for the review.
    pub fn print_warnings(&self) {
        for w in self.warning_lines() {
            eprintln!("{w}");
        }
    }

    /// The warnings as lines, for a review printed on stdout.
    pub fn warning_lines(&self) -> Vec<String> {
        self.warnings
            .iter()
            .map(|w| format!("WARNING: {w}"))
            .collect()
    }

    /// Refuse to go on with an expired draft unless `allow`.
    pub fn refuse_expired(&self, allow: bool) -> Result<(), Failure> {
        let Some((name, role, expires)) = self.expired.first() else {
            return Ok(());
        };
        if allow {
            eprintln!(
                "WARNING: signing {} EXPIRED draft(s) (--allow-expired): clients refuse them as they are",
                self.expired.len()
            );
            return Ok(());
        }
        Err(Failure::failed(format!(
            "{} (role {}) EXPIRED at {expires}{}: clients refuse expired metadata; nothing was signed",
            name,
            escape(role),
            if self.expired.len() > 1 {
                format!(", and {} more draft(s) have expired", self.expired.len() - 1)
            } else {
                String::new()
            }
        ))
        .hint(
            "ask for a new draft with a later --expires; to sign it anyway (a test, a deliberate \
             recovery), give --allow-expired",
        ))
    }

    /// Warn about expired drafts being merged (merging goes on: the signatures are real, but
    /// the result cannot be published as it is).
    pub fn warn_merge(&self) {
        // A round of thousands of bins that all expired needs a count, not thousands of lines.
        const SHOWN: usize = 10;
        if self.expired.len() > SHOWN {
            eprintln!(
                "warning: {} of the drafts have EXPIRED (the first {SHOWN} follow)",
                self.expired.len()
            );
        }
        for (name, role, expires) in self.expired.iter().take(SHOWN) {
            eprintln!(
                "warning: {name} (role {}) EXPIRED at {expires}: clients refuse it; merged or \
                 not, it cannot be published as it is - draft a new version with a later expiry",
                escape(role)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Merge detached signatures into metadata, after checking each one.
///
/// Every signature must be over this file's exact canonical bytes, by a key allowed to sign
/// the role (a root's own keys and, for a rotation, --previous's; for other roles the keys
/// --delegator names). Stale, mismatched, duplicate or unknown-key signatures are refused with
/// their reasons, and then nothing is written. Signatures already in FILE that no longer apply
/// are dropped. Below the threshold nothing is written unless --allow-partial. Merging the same
/// signatures again gives the same file.
///
/// A root after version 1 is merged only with its previous root (--previous, or found: see
/// --previous), never with --delegator. OUT may not be a file whose name says another role or version (N.root.json
/// takes only root version N). An expired draft is merged with a warning. Every key a root
/// rotation adds to the root role must have signed before OUT is written (proof of
/// possession; the plan's policy.new_keys_must_sign = false turns it off).
///
/// For a round, FILE is the directory of drafts and each SIGFILE an officer's signature
/// directory from `sign`: every draft is merged with its FILE.sig from each directory, and
/// written into OUT (a new directory, or an existing one such as the repository) only if every
/// draft passes; otherwise nothing is written.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The metadata to merge into, or a directory of drafts (a round).
    file: PathBuf,
    /// Signature files made by `conclave sign`, or directories holding them (for a round:
    /// the officers' signature directories). Default for one file: the signature files for
    /// this draft in FILE's directory and in the signatures/ of the ceremony directory FILE
    /// lies in (a file signing another draft is passed over; one signing an earlier draft of
    /// this role and version is set aside and named).
    #[arg(value_name = "SIGFILE")]
    sigfiles: Vec<PathBuf>,
    /// Write even if the threshold is not yet met (to save progress between sessions).
    #[arg(long)]
    allow_partial: bool,
    /// Where to write the signed metadata (for a round, a directory). An existing OUT is
    /// replaced only if it is the same merge target: FILE itself, or metadata of the same type
    /// with the same signed bytes whose every valid signature the merged file keeps. Never a
    /// key file or signature file, even damaged.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// Merge even though the draft lists a key under a keyid that is not its own, one key
    /// under two keyids, or private key material (refused otherwise), as `sign` does.
    #[arg(long)]
    allow_foreign_keyids: bool,
    /// Print the outcome as JSON on stdout once the signatures are checked, written or not
    /// (below the threshold without --allow-partial: "written": false, exit 1); fields in
    /// docs/formats.md.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    ctx: Context,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

/// `merge --json`: what was merged, dropped or already there, the threshold reports, and
/// whether OUT was written.
fn merge_json(
    a: &MergeArgs,
    role: &str,
    version: conclave::metadata::Version,
    outcome: &conclave::ceremony::Merged,
    unproven: &[KeyId],
    written: bool,
) -> crate::cli::json::Value {
    use crate::cli::json::{Value, int, obj, path};
    let pairs = |v: &[(KeyId, String)], second: &str| {
        Value::Array(
            v.iter()
                .map(|(k, s)| {
                    obj([
                        ("keyid", Value::from(k.as_str().to_string())),
                        (second, Value::from(s.as_str())),
                    ])
                })
                .collect(),
        )
    };
    obj([
        ("file", path(&a.file)),
        ("role", Value::from(role)),
        ("version", int(version.get())),
        ("output", path(&a.output)),
        ("written", Value::from(written)),
        (
            "complete",
            Value::from(outcome.complete() && unproven.is_empty()),
        ),
        (
            "new_keys_not_signed",
            Value::Array(
                unproven
                    .iter()
                    .map(|k| Value::from(k.as_str().to_string()))
                    .collect(),
            ),
        ),
        ("added", pairs(&outcome.added, "from")),
        ("already_present", pairs(&outcome.already_present, "from")),
        ("dropped", pairs(&outcome.dropped, "reason")),
        (
            "reports",
            Value::Array(
                outcome
                    .reports
                    .iter()
                    .map(SignatureReport::to_json)
                    .collect(),
            ),
        ),
    ])
}

pub fn merge(a: MergeArgs) -> Result<u8, Failure> {
    if a.file.is_dir() {
        return round::merge_round(&a);
    }
    // A key file, a signature file or a directory at OUT is refused before any work; other
    // files must be the same merge target (checked once the merge is known).
    let replacing = conclave::ceremony::overwrite::refuse_unmergeable(&a.output)?;
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.file])?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.file, &a.output])?;
    let mut l = load(&a.file, &a.ctx)?;
    l.need_previous()?;
    l.need_authorities()?;
    if let Some(name) = a.output.file_name() {
        l.check_output(&name.to_string_lossy())?;
    }
    foreign_keys(&mut l, a.allow_foreign_keyids)?;
    ExpiryReview::of([(shown(&a.file), l.role(), l.metadata().common().expires)]).warn_merge();
    let collected = detached::collect(&a.file, &a.sigfiles, &l)?;
    collected.tell();
    if !collected.unreadable.is_empty() {
        for (file, why) in &collected.unreadable {
            eprintln!("error: {file}: {why}");
        }
        return Err(Failure::failed("nothing was merged or written"));
    }
    if collected.sigs.is_empty() && a.sigfiles.is_empty() {
        return Err(Failure::usage(format!(
            "no signature files were given, and none for this draft were found in {}; nothing \
             was merged or written",
            collected
                .looked_in
                .iter()
                .map(|d| shown(d))
                .collect::<Vec<_>>()
                .join(" or ")
        ))
        .hint("give the officers' signature files (SIGFILE...) or the directory holding them"));
    }
    let sigs = &collected.sigs;
    let checked =
        crate::cli::progress::step(format!("Checking {} signature file(s)", sigs.len()), || {
            l.merge(sigs)
        });
    let outcome = match checked {
        Ok(o) => o,
        Err(RequestError::Refused { rejections }) => {
            for r in &rejections {
                eprintln!("error: {}: {}", r.file, escape(&r.reason));
            }
            return Err(Failure::failed(format!(
                "{} signature file(s) refused; nothing was merged or written",
                rejections.len()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    for (id, file) in &outcome.added {
        eprintln!("merged      {}  from {file}", names.keyid(id));
    }
    for (id, file) in &outcome.already_present {
        eprintln!("already in  {}  ({file} adds nothing)", names.keyid(id));
    }
    for (id, why) in &outcome.dropped {
        eprintln!("dropped     {}  ({})", names.keyid(id), escape(why));
    }
    for (id, file) in &outcome.not_counted {
        eprintln!("not counted: key {id} is revoked ({file} is not merged)");
    }
    eprintln!("Signatures now:");
    print_reports(&outcome.reports, &names);
    let unproven = if names.new_keys_must_sign() {
        conclave::ceremony::unproven_new_keys(l.need_authorities()?, &outcome.reports)
    } else {
        Vec::new()
    };
    for id in &unproven {
        eprintln!(
            "not yet signed by new key {} (proof of possession: every key this rotation adds must sign it)",
            names.keyid(id)
        );
    }
    let complete = outcome.complete() && unproven.is_empty();
    if outcome.complete() && !unproven.is_empty() && !a.allow_partial {
        if a.json {
            let version = l.metadata().common().version;
            crate::cli::json::print(&merge_json(
                &a,
                l.role(),
                version,
                &outcome,
                &unproven,
                false,
            ));
        }
        return Err(Failure::failed(format!(
            "every threshold is met, but {} new root key(s) have not signed; {} was not written",
            unproven.len(),
            shown(&a.output)
        ))
        .hint(
            "have each new key's holder sign the draft (proof that the key is theirs and works), \
             or give --allow-partial to save progress; the plan's policy.new_keys_must_sign = \
             false turns this off",
        ));
    }
    if !outcome.complete() && !a.allow_partial {
        if a.json {
            let version = l.metadata().common().version;
            crate::cli::json::print(&merge_json(
                &a,
                l.role(),
                version,
                &outcome,
                &unproven,
                false,
            ));
        }
        return Err(Failure::failed(format!(
            "the threshold is not met yet; {} was not written",
            shown(&a.output)
        ))
        .hint("gather the missing signatures, or give --allow-partial to save progress"));
    }
    // The signatures go into the metadata read (no copy of a role that may be hundreds of
    // megabytes).
    let role = l.role().to_owned();
    let authorities = l.need_authorities()?.to_vec();
    let mut md = l.into_metadata();
    outcome.apply(&mut md);
    // Merging into FILE itself keeps every valid signature FILE holds (merge drops only
    // signatures that do not verify), so only another file at OUT is read and compared.
    if replacing && !same_file(&a.file, &a.output) {
        let existing = read_metadata(&a.output).map_err(|f| {
            Failure::from(conclave::ceremony::overwrite::OverwriteError::NotMetadata {
                path: a.output.clone(),
                reason: f.message,
            })
        })?;
        let target = conclave::ceremony::overwrite::Target {
            merged: &md,
            role: &role,
            authorities: &authorities,
            valid: conclave::ceremony::overwrite::valid_keyids(&outcome.reports),
        };
        conclave::ceremony::overwrite::check_same_target(&a.output, &existing, &target)?;
    }
    crate::cli::write_metadata(&a.output, |p| conclave::fsutil::write_metadata(&md, p))?;
    if complete {
        eprintln!(
            "Wrote {}: every threshold is met. Next: `conclave verify` it with the rest of the repository.",
            shown(&a.output)
        );
    } else {
        eprintln!(
            "Wrote {} with partial signatures (--allow-partial): not yet valid.",
            shown(&a.output)
        );
    }
    let mut inputs: Vec<&Path> = vec![&a.file];
    inputs.extend(collected.paths.iter().map(PathBuf::as_path));
    crate::cli::record::step(
        &recorder,
        format!(
            "merge {} v{}{}",
            role,
            md.common().version,
            if complete { "" } else { " (partial)" }
        ),
        &inputs,
        &[&a.output],
        outcome
            .added
            .iter()
            .map(|(k, _)| k.to_raw_string())
            .collect(),
    )?;
    if a.json {
        let version = md.common().version;
        crate::cli::json::print(&merge_json(&a, &role, version, &outcome, &unproven, true));
    }
    crate::cli::leave_at_exit((md, outcome));
    Ok(exit::OK)
}

// ---------------------------------------------------------------------------------------------

/// Who has signed and who still must.
///
/// For a root rotation, the previous root's threshold and the new root's are shown
/// separately: both must be met. The previous root is --previous, or found as for merge; a
/// root after version 1 without it is refused (exit 2), never called complete. Keys a root
/// rotation adds that have not signed are listed, and the root is INCOMPLETE until they have
/// (proof of possession). Exits 0 when the status could be worked out (give
/// --check to exit 1 while any threshold is unmet).
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The metadata being signed, or a directory of drafts (a round: one line per draft that
    /// is not complete, with the keys that must still sign).
    file: PathBuf,
    /// Detached signature files, or directories holding them (for a round: the officers'
    /// signature directories), to count as if merged; nothing is merged or written. Default
    /// for one file: those found as `merge` finds them (FILE's directory and the ceremony
    /// directory's signatures/). FILE's own signatures always count; with no signature file
    /// named or found, the output is what it always was.
    #[arg(value_name = "SIGFILE|SIGDIR")]
    signatures: Vec<PathBuf>,
    /// Exit 1 unless every threshold is met.
    #[arg(long)]
    check: bool,
    /// Print the reports as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    ctx: Context,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

pub fn status(a: StatusArgs) -> Result<u8, Failure> {
    if a.file.is_dir() {
        return round::status_round(&a);
    }
    let l = load(&a.file, &a.ctx)?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.file])?;
    // The signature files named, or those found for this draft; none: the file's own
    // signatures, as ever.
    let collected = detached::collect(&a.file, &a.signatures, &l)?;
    let counting =
        !a.signatures.is_empty() || !collected.sigs.is_empty() || !collected.skipped.is_empty();
    let (reports, files) = if counting {
        collected.tell();
        let (merged, refused) = l.count(&collected.sigs)?;
        let mut lines = Vec::new();
        for (id, file) in &merged.added {
            lines.push(format!("adds         {id}  ({file})"));
        }
        for (id, file) in &merged.already_present {
            lines.push(format!("already in   {id}  ({file})"));
        }
        for (file, why) in &collected.unreadable {
            lines.push(format!("refused      {file}: {}", escape(why)));
        }
        for r in &refused {
            lines.push(format!("refused      {}: {}", r.file, escape(&r.reason)));
        }
        for (id, why) in &merged.dropped {
            lines.push(format!("dropped      {id}  ({})", escape(why)));
        }
        for (id, file) in &merged.not_counted {
            lines.push(format!("not counted  {id}  ({file}): key {id} is revoked"));
        }
        (merged.reports, Some(lines))
    } else {
        (l.status()?, None)
    };
    // A draft whose keys are not what their keyids say is never complete: sign and merge
    // refuse it.
    for p in l.key_problems() {
        eprintln!("error: {}: {p}", shown(&a.file));
    }
    let unproven = if names.new_keys_must_sign() {
        conclave::ceremony::unproven_new_keys(l.authorities().unwrap_or_default(), &reports)
    } else {
        Vec::new()
    };
    let complete = reports.iter().all(SignatureReport::is_met)
        && l.key_problems().is_empty()
        && unproven.is_empty();
    let code = if a.check && !complete {
        exit::FAILED
    } else {
        exit::OK
    };
    if a.json {
        let v =
            conclave::cjson::Value::Array(reports.iter().map(SignatureReport::to_json).collect());
        print!(
            "{}",
            String::from_utf8_lossy(&conclave::cjson::to_pretty(&v))
        );
        return Ok(code);
    }
    let c = l.metadata().common();
    crate::cli::expiry::note_due(
        vec![(
            l.role().to_owned(),
            c.version.get(),
            shown(&a.file),
            c.expires,
        )],
        &[&a.file],
        Expires::now(),
    );
    println!(
        "{} (role {}, version {}): {}{}",
        shown(&a.file),
        escape(l.role()),
        c.version,
        if complete {
            "COMPLETE - every threshold is met"
        } else {
            "INCOMPLETE"
        },
        if files.is_some() {
            " with the signature files below (counted, not merged: nothing was written)"
        } else {
            ""
        }
    );
    print_status_reports(&reports, &names, &|id| l.is_revoked(id));
    if !unproven.is_empty() {
        println!("  new keys (proof of possession: each must sign before the root is final):");
        for id in &unproven {
            println!("    must sign    {}", names.keyid(id));
        }
    }
    if let Some(lines) = files {
        println!("  signature files:");
        for line in &lines {
            println!("    {line}");
        }
    }
    Ok(code)
}

/// The reports as `status` prints them (stdout).
fn print_status_reports(
    reports: &[SignatureReport],
    names: &crate::cli::names::Names,
    revoked: &dyn Fn(&KeyId) -> bool,
) {
    for r in reports {
        println!(
            "  {}: {} of {} needed",
            r.keys_from,
            r.valid.len(),
            r.threshold
        );
        for id in &r.valid {
            println!("    signed       {}", names.keyid(id));
        }
        for id in &r.missing {
            println!("    must sign    {}", names.keyid(id));
        }
        for (id, why) in &r.invalid {
            println!("    INVALID      {} ({})", names.keyid(id), escape(why));
        }
        for id in &r.unknown {
            if revoked(id) {
                println!("    not counted  {}: key {id} is revoked", names.keyid(id));
            } else {
                println!("    not allowed  {}", names.keyid(id));
            }
        }
        if !r.is_met() {
            println!(
                "    -> {} more signature(s) needed from the \"must sign\" keys",
                r.threshold as usize - r.valid.len()
            );
        }
    }
}
