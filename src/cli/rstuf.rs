//! `conclave rstuf sign`: conclave as the offline signer of RSTUF's distributed asynchronous
//! signing (DAS). See docs/rstuf.md.

use std::path::{Path, PathBuf};

use conclave::ceremony::das::{DasError, Pending};
use conclave::ceremony::request::RequestError;
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, KeyId};

use crate::cli::prompt::Prompter;
use crate::cli::signing::{
    ExpiryReview, foreign_keys, print_reports, same_file, show_review_headed,
};
use crate::cli::{Failure, exit, shown};

#[derive(clap::Subcommand)]
pub enum RstufCommand {
    Sign(Box<SignArgs>),
    OnlineKey(OnlineKeyArgs),
}

pub fn run(cmd: RstufCommand) -> Result<u8, Failure> {
    match cmd {
        RstufCommand::Sign(a) => sign(*a),
        RstufCommand::OnlineKey(a) => online_key(a),
    }
}

/// Write RSTUF's online key as a public key file carrying `x-rstuf-online-key-uri` (and
/// `x-rstuf-key-name`), for `root init --key targets=OUT --key snapshot=OUT --key
/// timestamp=OUT`.
///
/// RSTUF 1.0's worker finds its online private key only through this field inside the key's
/// object in the signed root, and it cannot be added once the root is signed: put it in the
/// public key file before the root is drafted. PUBFILE is the online key's TUF public key JSON
/// (from RSTUF's key tools, `conclave key public`, ...). The keyid does not change. OUT must not
/// exist. See docs/rstuf.md.
#[derive(clap::Args)]
pub struct OnlineKeyArgs {
    /// The online key's public key file (TUF key JSON).
    pubfile: PathBuf,
    /// Where RSTUF's worker finds the private key: fn:NAME (a PEM file NAME in the worker's
    /// RSTUF_ONLINE_KEY_DIR), or an awskms:, gcpkms:, azurekms: or hv: key URI.
    #[arg(long, value_name = "URI")]
    uri: String,
    /// The key's name as RSTUF shows it (x-rstuf-key-name), e.g. online.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The public key file to write; it must not exist yet.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
}

fn online_key(a: OnlineKeyArgs) -> Result<u8, Failure> {
    let key = crate::cli::read_public_key(&a.pubfile)?;
    let marked = conclave::ceremony::rstuf::with_online_key_uri(&key, &a.uri, a.name.as_deref())
        .map_err(|e| Failure::usage(format!("{e}; nothing was written")))?;
    conclave::ceremony::overwrite::refuse_any(&a.output)?;
    crate::cli::write_new_output(&a.output, &conclave::cjson::to_pretty(&marked.to_value()))?;
    eprintln!(
        "Wrote {} (keyid {}) with x-rstuf-online-key-uri {}. Draft the root with it for \
         targets, snapshot and timestamp.",
        shown(&a.output),
        marked.keyid(),
        escape(&a.uri)
    );
    Ok(exit::OK)
}

/// Sign metadata RSTUF holds pending (distributed asynchronous signing), for
/// `POST /api/v1/metadata/sign`.
///
/// PENDING is what RSTUF's `GET /api/v1/metadata/sign` returns, saved by the online side and
/// carried to this machine. conclave checks the pending role before anything is signed: a
/// bootstrap root (version 1) against its own root keys; a root update against the root in
/// use, given with --trusted-root (never taken from PENDING; PENDING's trusted_root must be
/// the same root); a custom delegation against PENDING's trusted_targets, itself checked
/// against --trusted-root. Every signature the pending metadata already carries must verify
/// over its signed bytes, and the bytes conclave signs must be exactly those RSTUF checks;
/// otherwise nothing is signed or written. The review is `conclave sign`'s (with the changes
/// against --trusted-root for a root update), with the payload digest to compare aloud.
///
/// The signature is checked over the pending metadata's exact bytes with the key the
/// metadata lists, then written to PAYLOAD as `{"role": ROLE, "signature": {"keyid": ...,
/// "sig": ...}}`: post it with `curl -X POST -H 'Content-Type: application/json' --data
/// @PAYLOAD https://RSTUF/api/v1/metadata/sign`. PAYLOAD must not exist. Recorded in the
/// ceremony transcript like `conclave sign`.
#[derive(clap::Args)]
pub struct SignArgs {
    /// The pending-signing document (RSTUF's `GET /api/v1/metadata/sign` response body).
    pending: PathBuf,
    #[command(flatten)]
    keys: crate::cli::signer::KeyArgs,
    /// Read the passphrase or PIN from this file descriptor (one line per prompt).
    #[arg(long, value_name = "N")]
    passphrase_fd: Option<u32>,
    /// The root in use (its fully signed N.root.json): required for a root update (version
    /// N+1) and for a custom delegation; refused for a bootstrap root.
    #[arg(long, value_name = "ROOT")]
    trusted_root: Option<PathBuf>,
    /// The pending role to sign, when PENDING holds several.
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// The payload to write for `POST /api/v1/metadata/sign`; it must not exist yet.
    #[arg(short = 'o', long = "output", value_name = "PAYLOAD")]
    output: PathBuf,
    /// Sign even though the pending metadata lists a key under a keyid that is not its own
    /// (refused otherwise), after checking every key with its holder.
    #[arg(long)]
    allow_foreign_keyids: bool,
    /// Sign pending metadata that has already expired (refused otherwise).
    #[arg(long)]
    allow_expired: bool,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

const TRUSTED_ROOT_HINT: &str = "give --trusted-root with the root in use: the repository's \
     fully signed N.root.json, checked with `conclave verify`";

/// The command line's words for a pending document that cannot be signed.
fn das_failure(pending: &Path, e: DasError) -> Failure {
    let at = |e: &dyn std::fmt::Display| {
        format!("{}: {e}; nothing was signed or written", shown(pending))
    };
    match e {
        DasError::Request(e @ RequestError::PreviousUnverified { .. }) => Failure::usage(format!(
            "--trusted-root: {e}; nothing was signed or written"
        ))
        .hint(TRUSTED_ROOT_HINT),
        DasError::Request(r) => r.into(),
        e @ DasError::SeveralPending { .. } | e @ DasError::NotPending { .. } => {
            Failure::usage(at(&e)).hint("give --role NAME, one of the roles pending")
        }
        e @ DasError::NeedTrustedRoot { .. } => Failure::usage(at(&e)).hint(TRUSTED_ROOT_HINT),
        e @ DasError::TrustedRootForBootstrap => {
            Failure::usage(at(&e)).hint("leave out --trusted-root for a bootstrap root")
        }
        e @ (DasError::TrustedRootVersion { .. } | DasError::TrustedRootUnverified { .. }) => {
            Failure::usage(format!(
                "--trusted-root: {e}; nothing was signed or written"
            ))
            .hint(TRUSTED_ROOT_HINT)
        }
        e @ DasError::TrustedRootDiffers { .. } => Failure::failed(at(&e)).hint(
            "do not sign: find out which root RSTUF serves (its N.root.json) and why it is not \
             the one this ceremony keeps",
        ),
        e @ (DasError::BadSignature { .. } | DasError::UnknownSignature { .. }) => Failure::failed(
            at(&e),
        )
        .hint("do not sign: fetch the pending metadata again from RSTUF and ask who changed it"),
        e @ DasError::SignatureCheck { .. } => Failure::failed(e.to_string()),
        e @ DasError::Json(_) | e @ DasError::Metadata { .. } => Failure::failed(format!(
            "{}: {}; nothing was signed or written",
            shown(pending),
            crate::cli::chain(&e)
        )),
        other => Failure::failed(at(&other)),
    }
}

fn read_root(
    path: &Path,
) -> Result<conclave::metadata::Metadata<conclave::metadata::Root>, Failure> {
    match crate::cli::read_metadata(path)? {
        AnyMetadata::Root(r) => Ok(r),
        other => Err(Failure::usage(format!(
            "--trusted-root {}: {} metadata, not a root",
            shown(path),
            other.type_name()
        ))),
    }
}

pub fn sign(a: SignArgs) -> Result<u8, Failure> {
    for input in [Some(&a.pending), a.trusted_root.as_ref()]
        .into_iter()
        .flatten()
    {
        if same_file(input, &a.output) {
            return Err(Failure::usage(format!(
                "-o {}: that is an input of this command; write the payload to a new file",
                shown(&a.output)
            )));
        }
    }
    conclave::ceremony::overwrite::refuse_any(&a.output)?;
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.pending])?;
    let bytes = crate::cli::read_file(&a.pending)?;
    let fail = |e| das_failure(&a.pending, e);
    let pending = Pending::parse(&bytes).map_err(fail)?;
    let role = pending.choose(a.role.as_deref()).map_err(fail)?;
    let trusted = a.trusted_root.as_deref().map(read_root).transpose()?;
    let mut req = pending.request(&role, trusted).map_err(fail)?;
    foreign_keys(req.request_mut(), a.allow_foreign_keyids)?;
    let l = req.request();
    let digest = l.payload_digest();
    let names = crate::cli::names::Names::find(&a.names, &[&a.pending, &a.output])?;
    let v = l.metadata().common().version;
    let heading = match &a.trusted_root {
        Some(t) => format!(
            "You are about to sign pending role {} version {v} from {} for RSTUF (root in use: {}):",
            escape(&role),
            shown(&a.pending),
            shown(t)
        ),
        None => format!(
            "You are about to sign pending role {} version {v} from {} for RSTUF:",
            escape(&role),
            shown(&a.pending)
        ),
    };
    show_review_headed(l, heading, &a.pending, &a.output, &digest, &names)?;
    eprintln!("Signatures the pending metadata carries (each checked):");
    print_reports(req.reports(), &names);
    ExpiryReview::of([(shown(&a.pending), l.role(), l.metadata().common().expires)])
        .refuse_expired(a.allow_expired)?;

    let mut prompter = Prompter::new(a.passphrase_fd)?;
    let check_allowed = |keyid: &KeyId| -> Result<(), Failure> { Ok(l.may_sign(keyid)?) };
    let signer = crate::cli::signer::open(&a.keys, &mut prompter, &check_allowed, &names, 1)?;
    if req
        .reports()
        .iter()
        .any(|r| r.valid.contains(&signer.public_key().keyid()))
    {
        eprintln!(
            "note: this key has signed the pending metadata already; RSTUF keeps one signature \
             per key"
        );
    }
    let signed =
        crate::cli::progress::step("Signing", || req.sign(signer.as_ref(), a.output.parent()));
    let body = signed.map_err(|e| match e {
        DasError::Request(RequestError::Sign(e)) => crate::cli::signer::sign_failure(&a.keys, e),
        other => das_failure(&a.pending, other),
    })?;
    crate::cli::write_new_output(&a.output, &body.to_bytes())?;
    let keyid = body.signature.keyid.clone();
    eprintln!(
        "Wrote the signature by {} for pending role {} to {} (checked over the pending \
         metadata's exact bytes).",
        names.keyid(&keyid),
        escape(&role),
        shown(&a.output)
    );
    let mut inputs: Vec<&Path> = vec![&a.pending];
    if let Some(t) = &a.trusted_root {
        inputs.push(t);
    }
    crate::cli::record::step_by(
        &recorder,
        format!("rstuf sign {role} v{v}"),
        &inputs,
        &[&a.output],
        vec![keyid.to_raw_string()],
        names.officer(&keyid),
    )?;
    eprintln!(
        "Next: carry {} to the online side and post it: curl -X POST -H 'Content-Type: \
         application/json' --data @{} https://RSTUF/api/v1/metadata/sign (it holds no secret).",
        shown(&a.output),
        shown(&a.output)
    );
    Ok(exit::OK)
}
