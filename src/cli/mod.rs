//! Command-line interface: clap types, one file per subcommand, terminal output.

mod attest;
mod ceremony;
// Air-gap check (issue #5 item 7); the integrator moves it under `ceremony`.
pub mod airgap;
mod expiry;
mod export;
mod inspect;
pub mod json;
mod key;
mod keyfile;
mod manual;
pub mod names;
pub mod out;
mod pkcs11;
mod progress;
mod prompt;
mod pypi;
pub mod record;
mod review;
mod revoke;
// Optical transfer (issue #5 item 8).
pub mod qr;
mod root;
mod rstuf;
mod shares;
mod signer;
mod signing;
mod transcript;
mod verify;
mod ykcs11;
mod yubikey;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes (also listed in `--help` and the README).
pub mod exit {
    /// Everything checked holds.
    pub const OK: u8 = 0;
    /// Verification failed or metadata is malformed.
    pub const FAILED: u8 = 1;
    /// Usage or I/O error.
    pub const USAGE: u8 = 2;
    /// A hardware token failed.
    pub const DEVICE: u8 = 3;
    /// The officer cancelled (an empty passphrase, Ctrl-C at a prompt).
    pub const CANCELLED: u8 = 4;
    /// Standard output was closed before everything was written to it (`| head`), and
    /// nothing else went wrong: 128 + SIGPIPE, as shells report a program a closed pipe
    /// stopped. Nothing is printed about it.
    pub const STDOUT_CLOSED: u8 = 141;
}

const AFTER_HELP: &str = "\
Conventions: a command that writes a file or directory takes it as -o/--output; a command that
prints a report takes --json (one JSON document on stdout, fields in docs/formats.md). Shell
completions: `conclave completions bash|zsh|fish`; man pages: `conclave man -o DIR`.

Exit codes:
  0  success: everything checked holds
  1  verification failed, or metadata is malformed
  2  usage error (unknown flag, missing path) or I/O error
  3  device error (hardware tokens)
  4  cancelled
141  standard output was closed before conclave finished writing to it (e.g. `| head`);
     the command itself ran to its end (files it writes are whole)";

/// Offline key ceremonies for The Update Framework (TUF), built for PyPI.
///
/// conclave runs on an air-gapped machine. It builds, signs and verifies TUF metadata
/// with the same rules pip's client (python-tuf) applies.
#[derive(Parser)]
#[command(name = "conclave", version = env!("CONCLAVE_VERSION"), after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// Also record this command in this ceremony directory's transcript. Every ceremony
    /// directory the command writes into (the nearest directory holding transcript.jsonl above
    /// each file written) records it in any case; without either, the one above a file it reads.
    #[arg(long, global = true, value_name = "DIR")]
    ceremony_dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make and look after keys: key files, derived keys, keys in PKCS#11 tokens and on
    /// YubiKeys; check a YubiKey enrolment record (`key attest`).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Random diceware passphrases.
    #[command(subcommand)]
    Passphrase(key::PassphraseCommand),
    /// Draft and rotate roots.
    #[command(subcommand)]
    Root(root::RootCommand),
    /// PyPI delegation layouts: PEP 458 bins, PEP 480 claimed.
    #[command(subcommand)]
    Pypi(pypi::PypiCommand),
    /// Whole ceremonies: check a plan, genesis from it, plan a root rotation, rehearse.
    #[command(subcommand)]
    Ceremony(ceremony::CeremonyCommand),
    /// Rotate a delegation's keys in any delegating targets metadata.
    #[command(subcommand)]
    Delegation(pypi::DelegationCommand),
    Sign(Box<signing::SignArgs>),
    Merge(signing::MergeArgs),
    Status(signing::StatusArgs),
    Verify(verify::Args),
    Expiry(expiry::Args),
    Inspect(inspect::Args),
    Review(review::Args),
    /// The ceremony transcript: verify its hash chain, print the paper record, add a step,
    /// sign its head.
    #[command(subcommand)]
    Transcript(transcript::TranscriptCommand),
    Export(export::Args),
    /// RSTUF (Repository Service for TUF): sign metadata it holds pending (DAS), mark its online
    /// key's public key file.
    #[command(subcommand)]
    Rstuf(rstuf::RstufCommand),
    Revoke(revoke::Args),
    /// Check no network interface is up and no radio unblocked (air-gap hygiene).
    AirgapCheck(airgap::Args),
    /// Carry signatures and request digests across the air gap as QR codes and short texts.
    #[command(subcommand)]
    Qr(qr::QrCommand),
    Completions(manual::CompletionsArgs),
    Man(manual::ManArgs),
}

pub fn run() -> ExitCode {
    // Before anything else: no core dumps that could carry a key to disk.
    conclave::secret::harden_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let printed = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else if printed.is_err() {
                exit::STDOUT_CLOSED
            } else {
                exit::OK
            });
        }
    };
    if let Some(dir) = cli.ceremony_dir {
        record::set_explicit(dir);
    }
    let self_recording = matches!(
        cli.command,
        Command::Sign(_)
            | Command::Merge(_)
            | Command::Root(_)
            | Command::Export(_)
            | Command::Transcript(_)
            | Command::Ceremony(_)
            | Command::Revoke(_)
            | Command::Rstuf(_)
    );
    let result = match cli.command {
        Command::Key(cmd) => key::run(cmd),
        Command::Passphrase(cmd) => key::run_passphrase(cmd),
        Command::Root(cmd) => root::run(cmd),
        Command::Pypi(cmd) => pypi::run(cmd),
        Command::Ceremony(cmd) => ceremony::run(cmd),
        Command::Delegation(cmd) => pypi::run_delegation(cmd),
        Command::Sign(args) => signing::sign(*args),
        Command::Merge(args) => signing::merge(args),
        Command::Status(args) => signing::status(args),
        Command::Verify(args) => verify::run(args),
        Command::Expiry(args) => expiry::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Review(args) => review::run(args),
        Command::Transcript(cmd) => transcript::run(cmd),
        Command::Export(args) => export::run(args),
        Command::Rstuf(cmd) => rstuf::run(cmd),
        Command::Revoke(args) => revoke::run(args),
        Command::AirgapCheck(args) => airgap::run(args),
        Command::Qr(cmd) => qr::run(cmd),
        Command::Completions(args) => manual::completions(args),
        Command::Man(args) => manual::man(args),
    };
    // Commands that write files but do not record their own step (pypi, delegation, qr, key
    // change-passphrase, ...) are recorded here, by their command line (which never holds a
    // secret), when they wrote into a ceremony directory; so is any write of a recording
    // command into a ceremony directory its own step did not go to.
    let result = match result {
        Ok(code) if code == exit::OK => record::after_command(!self_recording).map(|()| code),
        other => other,
    };
    // A command that succeeded but could not write all of its stdout says so by its exit
    // code (a failure's own code comes first).
    let result = match (result, out::finish()) {
        (Ok(exit::OK), Some((code, message))) => match message {
            Some(message) => Err(Failure {
                message,
                hint: None,
                code,
            }),
            None => Ok(code),
        },
        (other, _) => other,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", escape_lines(&e.message));
            if let Some(hint) = e.hint {
                eprintln!("hint: {}", escape_lines(&hint));
            }
            ExitCode::from(e.code)
        }
    }
}

/// The last line of defence for messages that quote files: every line escaped (the quoted
/// parts are escaped where the message is made, and escaping twice changes nothing), the line
/// breaks the message was written with kept.
fn escape_lines(message: &str) -> String {
    message
        .split('\n')
        .map(|l| conclave::display::escape(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error that ends a command: a message, an optional hint, and the exit code.
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl Failure {
    // Display, not Into<String>: a library error is given as it is, and shown as its message.
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure {
            message: message.to_string(),
            hint: None,
            code: exit::USAGE,
        }
    }

    pub fn failed(message: impl std::fmt::Display) -> Self {
        Failure {
            message: message.to_string(),
            hint: None,
            code: exit::FAILED,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// An error and its causes, as one line: "step: cause: cause's cause" (library errors keep
/// their causes as sources rather than in their messages).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// Read a file for a command, turning I/O errors into a usage failure that names the file.
/// The largest file conclave reads: a claimed role for a million projects is under 400 MB.
pub const MAX_INPUT: u64 = 4 << 30;

/// Read an input file: a regular file of at most [`MAX_INPUT`] bytes (not a device such as
/// /dev/zero, which would be read until memory runs out).
pub fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    let fail = |why: String| {
        Failure::usage(format!(
            "{}: cannot read: {why}",
            conclave::display::escape(&path.display().to_string())
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > MAX_INPUT {
        return Err(fail(format!("larger than {} GiB", MAX_INPUT >> 30)));
    }
    conclave::fsutil::read(path).map_err(|e| fail(io_reason(&e)))
}

/// An input file as [`read_file`] reads it, or, for a large targets role, already read into
/// its model in pieces without holding its bytes ([`conclave::fsutil::read_metadata`]),
/// hashing it with `hashes` on the way.
pub enum Input {
    Bytes(Vec<u8>),
    Read(Box<conclave::metadata::streamed::FileRead>),
}

pub fn read_input(path: &Path, hashes: &[&str]) -> Result<Input, Failure> {
    use conclave::metadata::streamed::{self, ReadError};
    let large = std::fs::metadata(path)
        .is_ok_and(|m| m.is_file() && (streamed::STREAM_MIN..=MAX_INPUT).contains(&m.len()));
    if large {
        match conclave::fsutil::read_metadata(path, hashes) {
            Ok(read) if read.whole.is_none() => return Ok(Input::Read(Box::new(read))),
            Ok(read) => {
                if let Some(bytes) = read.whole {
                    return Ok(Input::Bytes(bytes));
                }
            }
            Err(ReadError::Io(e)) => {
                return Err(Failure::usage(format!(
                    "{}: cannot read: {}",
                    conclave::display::escape(&path.display().to_string()),
                    io_reason(&e)
                )));
            }
            // Malformed: read as bytes below, for the caller to report as it reports any.
            Err(ReadError::Load(_)) => {}
        }
    }
    read_file(path).map(Input::Bytes)
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Parse a `--at` time: `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_time(s: &str) -> Result<conclave::metadata::Expires, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    conclave::metadata::Expires::parse(&full).map_err(|_| {
        format!("\"{s}\" is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ)")
    })
}

/// "in 364 days" / "EXPIRED 3 days ago", for expiry dates.
pub fn relative(expires: conclave::metadata::Expires, now: conclave::metadata::Expires) -> String {
    conclave::ceremony::expiry::relative(expires, now)
}

/// A path for messages, with control characters escaped.
pub fn shown(path: &Path) -> String {
    conclave::display::escape(&path.display().to_string()).into_owned()
}

/// Print a public key as TUF key JSON on stdout (what `root init --key` reads).
pub fn print_public_key(key: &conclave::metadata::Key) {
    let bytes = conclave::cjson::to_pretty(&key.to_value());
    print!("{}", String::from_utf8_lossy(&bytes));
}

/// Read a public key file: TUF key JSON as `key generate` and `key derive` print it. A
/// `keyid` field, as some tools add, is accepted if it is the key's own keyid.
pub fn read_public_key(path: &Path) -> Result<conclave::metadata::Key, Failure> {
    let bytes = read_file(path)?;
    let bad = |why: String| Failure::usage(format!("{}: not a TUF public key: {why}", shown(path)));
    let mut value = conclave::cjson::parse(&bytes).map_err(|e| bad(e.to_string()))?;
    let claimed = match &mut value {
        conclave::cjson::Value::Object(m) => m.remove("keyid"),
        _ => None,
    };
    let key = conclave::metadata::Key::from_json(value).map_err(|e| bad(e.to_string()))?;
    if key.algorithm().is_none() {
        return Err(bad(format!(
            "keytype \"{}\" with scheme \"{}\" is not supported",
            conclave::display::escape(&key.keytype),
            conclave::display::escape(&key.scheme)
        )));
    }
    if let Err(e) = key.identity() {
        return Err(bad(e.to_string()));
    }
    let private = conclave::metadata::keyset::private_fields(&key);
    if !private.is_empty() {
        return Err(Failure::usage(format!(
            "{}: holds what looks like private key material ({}); a public key file must hold \
             only the public key. Nothing was written: make a new public key file from the key \
             (`conclave key public`), and treat this key as exposed if the file was shared",
            shown(path),
            private.join(", ")
        )));
    }
    if let Some(c) = claimed
        && c.as_str() != Some(&*key.keyid().as_str())
    {
        return Err(bad("its \"keyid\" field is not the key's keyid".into()));
    }
    Ok(key)
}

/// Parse WHEN for `--expires`: a date `YYYY-MM-DD` (midnight UTC), a full UTC time, or a
/// duration from now such as `365d`.
pub fn parse_when(
    s: &str,
) -> Result<conclave::metadata::Expires, conclave::ceremony::plan::WhenError> {
    // One reading of WHEN for flags and for ceremony plans' `expires`.
    conclave::ceremony::plan::resolve_when(s, conclave::metadata::Expires::now())
}

/// Split `ROLE=VALUE`.
pub fn role_value(s: &str) -> Result<(String, String), String> {
    let (role, value) = s
        .split_once('=')
        .ok_or_else(|| format!("\"{s}\" is not of the form ROLE=VALUE"))?;
    if role.is_empty() || value.is_empty() {
        return Err(format!("\"{s}\" is not of the form ROLE=VALUE"));
    }
    Ok((role.to_owned(), value.to_owned()))
}

/// The metadata directory to read for DIR: DIR itself, or for a ceremony directory (one
/// holding transcript.jsonl and repository/, as `ceremony genesis` and `ceremony rehearse`
/// make them) its repository/.
pub fn metadata_dir(dir: &Path) -> std::path::PathBuf {
    if let Some(repo) = conclave::ceremony::repository::ceremony_repository(dir) {
        eprintln!(
            "{} is a ceremony directory: reading its metadata from {}",
            shown(dir),
            shown(&repo)
        );
        repo
    } else {
        dir.to_path_buf()
    }
}

/// The message for a [`conclave::ceremony::CeremonyError`], in the command line's words: the
/// delegating metadata is what `--delegator` names.
pub fn authorities_message(e: &conclave::ceremony::CeremonyError) -> String {
    use conclave::ceremony::CeremonyError as E;
    use conclave::display::escape;
    match e {
        E::NoDelegator { role } => format!(
            "cannot tell which keys may sign role \"{}\": give --delegator (the root for \
             targets, snapshot and timestamp; the delegating targets metadata for a \
             delegated role)",
            escape(role)
        ),
        E::DelegatedByTargets { .. } => {
            format!("{e}; give the delegating targets metadata as --delegator")
        }
        E::NoDelegations => "the --delegator metadata delegates to no roles".into(),
        E::NotDelegated { role } => format!(
            "the --delegator metadata does not delegate to role \"{}\"",
            escape(role)
        ),
        E::NotADelegator { kind } => {
            format!("--delegator must be a root or targets metadata, not {kind}")
        }
        E::RootDelegated => {
            format!("{e}; give the previous root as --previous (for root version 1, neither)")
        }
        E::NotNextRoot { .. } | E::SignedForByRoot { .. } | E::StoredAs { .. } => e.to_string(),
    }
}

/// The names of the metadata (`*.json`) files directly in `dir`, in name order; a directory
/// holding none is a usage error. `hint` is added to the error of a directory that cannot be
/// listed.
pub fn metadata_names(dir: &Path, hint: Option<&str>) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = conclave::ceremony::repository::metadata_files(dir)
        .map_err(|e| {
            let f = Failure::usage(format!(
                "{}: cannot list: {}",
                shown(dir),
                io_reason(&e.source)
            ));
            match hint {
                Some(h) => f.hint(h),
                None => f,
            }
        })?
        .into_iter()
        .map(|e| e.name)
        .collect();
    if names.is_empty() {
        return Err(Failure::usage(format!(
            "{}: no metadata (*.json) files in this directory",
            shown(dir)
        )));
    }
    Ok(names)
}

/// Print the problems that stopped a command from building on metadata in `source`, one
/// `error:` line each.
pub fn print_problems(source: &Path, problems: &[conclave::verify::Problem]) {
    use conclave::display::escape;
    for p in problems {
        eprintln!(
            "error: {}: role {}: {}: {}",
            shown(&source.join(&p.file)),
            escape(&p.role),
            p.rule,
            escape(&p.message)
        );
    }
}

/// Refuse to overwrite an existing draft: a new draft always gets a new name.
pub fn refuse_existing(path: &Path) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure::usage(format!(
            "{}: already exists; choose a new file name for the draft",
            shown(path)
        )));
    }
    Ok(())
}

/// Write a review too long for the screen, whole, to `OUTPUT.review.txt`, and return that
/// path and the SHA-256 (hex) of its text, to be read aloud. The same review already there
/// is kept (an officer signing again after a mistyped passphrase reads the same file);
/// anything else there is refused, never replaced.
pub fn write_review(output: &Path, lines: &[String]) -> Result<(PathBuf, String), Failure> {
    let mut text = lines.join("\n");
    text.push('\n');
    write_review_text(output, &text)
}

/// [`write_review`] of the review's text (its lines, each ended by a newline), with its
/// digest ([`conclave::ceremony::review::text_digest`] of the lines).
pub fn write_review_text(output: &Path, text: &str) -> Result<(PathBuf, String), Failure> {
    let mut digest = conclave::ceremony::review::TextDigest::default();
    for line in text.split_terminator('\n') {
        digest.line(line);
    }
    let path = PathBuf::from(format!("{}.review.txt", output.display()));
    if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        refuse_existing(&path)?;
        write_output(&path, text.as_bytes())?;
    }
    Ok((path, digest.finish()))
}

/// Before a builder writes the draft `name` (named as in a repository, e.g. `1.root.json`):
/// a warning for each way a known client would refuse or misread it (the compatibility lint
/// of `conclave verify --clients`, on this one file). Returns how many there were.
pub fn warn_client_quirks(name: &str, bytes: &[u8]) -> usize {
    let findings = conclave::compat::check(
        &[conclave::compat::File { name, bytes }],
        &conclave::compat::Client::ALL,
    );
    for f in &findings {
        eprintln!("warning: {f}");
    }
    if !findings.is_empty() {
        eprintln!(
            "  (the draft is valid TUF and conclave signs it; the clients named above would not \
             load it as written: docs/verification.md, \"Which clients load what\")"
        );
    }
    findings.len()
}

/// Write metadata or a signature file atomically, naming the file on failure.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_metadata(path, |p| conclave::fsutil::write_atomic(p, bytes))
}

/// Hand `value` to the operating system, which takes the whole process back at once when it
/// exits, right after the command returns: freeing a million-project role allocation by
/// allocation took 0.1-0.2 s of every step that read one. Only for metadata and reports,
/// which are public: secrets are zeroized when dropped and are never given here.
pub fn leave_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Write a new file (a signature) that must not replace anything, even one that appeared
/// since it was checked ([`conclave::fsutil::create_new`]).
pub fn write_new_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_metadata(path, |p| conclave::fsutil::create_new(p, bytes))
}

/// The command line's words for an output path that may not be written: exit 2, nothing
/// written, and what to do instead.
impl From<conclave::ceremony::overwrite::OverwriteError> for Failure {
    fn from(e: conclave::ceremony::overwrite::OverwriteError) -> Self {
        use conclave::ceremony::overwrite::OverwriteError as E;
        let hint = match &e {
            E::KeyFile { .. }
            | E::SignatureFile { .. }
            | E::Exists { .. }
            | E::Directory { .. } => "give -o a new file name; nothing was written",
            E::LosesSignatures { .. } => {
                "merge into that file itself (`conclave merge OUT SIGFILE... -o OUT`) to add \
                 signatures to it; nothing was written"
            }
            E::NotMetadata { .. } | E::OtherType { .. } | E::OtherPayload { .. } => {
                "give -o a new file name, or move the file away first if it is really to be \
                 replaced; nothing was written"
            }
            E::Io { .. } => "nothing was written",
        };
        Failure::usage(chain(&e)).hint(hint)
    }
}

/// Write a file atomically with `write` (for metadata, `fsutil::write_metadata`, which streams a
/// large role instead of holding its bytes), naming the file on failure.
pub fn write_metadata(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), Failure> {
    record::wrote(path);
    progress::step(format!("Writing {}", shown(path)), || write(path))
        .map_err(|e| Failure::usage(format!("{}: cannot write: {}", shown(path), io_reason(&e))))
}

/// Create the new directory `dir` holding `files` (name, bytes), whole or not at all
/// ([`conclave::fsutil::write_new_dir`]); `exists` says why an existing `dir` is refused.
pub fn write_new_dir(dir: &Path, files: &[(String, Vec<u8>)], exists: &str) -> Result<(), Failure> {
    for (name, _) in files {
        record::wrote(&dir.join(name));
    }
    conclave::fsutil::write_new_dir(
        dir,
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
        exists,
    )
    .map_err(|e| Failure::usage(format!("{}: cannot write: {}", shown(dir), io_reason(&e))))
}

/// Read metadata of any role, naming the file on failure (exit 1: bad metadata). A large
/// targets role is read in pieces, without holding its bytes ([`read_input`]).
pub fn read_metadata(path: &Path) -> Result<conclave::metadata::AnyMetadata, Failure> {
    progress::step(format!("Reading {}", shown(path)), || {
        match read_input(path, &[])? {
            Input::Read(read) => Ok(read.meta),
            Input::Bytes(text) => conclave::metadata::AnyMetadata::from_bytes(&text)
                .map_err(|e| Failure::failed(format!("{}: {e}", shown(path)))),
        }
    })
}

/// `--allow-long-expiry`, for every command that drafts metadata.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct LongExpiry {
    /// Accept an expiry more than 100 years ahead (refused without it). An expiry beyond the
    /// role's PEP 458 bound (root and targets 1 year, claimed 6 months, other roles 1 year) is
    /// written with a warning either way; one in the past is always refused.
    #[arg(long)]
    pub allow_long_expiry: bool,
}

/// Check the expiry of every draft a builder is about to write, as (role, expiry), against
/// now ([`conclave::ceremony::expiry::check`]), before anything is written: one in the past
/// (or now) is refused, as is one more than 100 years ahead without --allow-long-expiry; one
/// beyond its role's bound is written with a warning (one per role and expiry, however many
/// drafts share them: thousands of bins do).
pub fn check_expiries<'a>(
    drafts: impl IntoIterator<Item = (&'a str, conclave::metadata::Expires)>,
    long: LongExpiry,
) -> Result<(), Failure> {
    use conclave::ceremony::expiry::{self, ExpiryError};
    let now = conclave::metadata::Expires::now();
    let mut lifetimes = Vec::new();
    for (role, expires) in drafts {
        let lifetime = expiry::check(role, expires, now, long.allow_long_expiry).map_err(|e| {
            let hint = match e {
                ExpiryError::NotInFuture { .. } => {
                    "give --expires with a time ahead, e.g. --expires 365d (without --expires, a \
                     new version keeps the previous version's expiry)"
                }
                ExpiryError::BeyondCeiling { .. } => {
                    "check the date; if metadata that far ahead is really intended, give \
                     --allow-long-expiry"
                }
            };
            Failure::usage(format!("{e}; nothing was written")).hint(hint)
        })?;
        lifetimes.push(lifetime);
    }
    for (w, more) in expiry::warnings(&lifetimes) {
        if more > 0 {
            eprintln!("warning: {w} (and {more} more draft(s) with the same expiry)");
        } else {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
