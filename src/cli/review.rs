//! `conclave review OLD NEW`: what a new version changes, reprinted on any machine exactly as
//! `sign` shows it, with the same digests.

use std::path::PathBuf;

use conclave::ceremony::request::{self, RequestError, SigningRequest};
use conclave::cjson::{Map, Value};
use conclave::display::escape;

use crate::cli::signing::ShownReview;
use crate::cli::{Failure, exit, read_metadata, shown};

/// Reprint what NEW changes against OLD, exactly as `sign` shows it, with the same digests.
///
/// For any role and any change: a claim round, a delegation rotation, a revocation's drafts, a
/// root rotation. On any machine and days later, the review is the text `sign NEW --previous
/// OLD` shows (role, version, expiry, keys and thresholds, whether OLD is signed as it must be,
/// and every change: keys by material, thresholds, delegations and their order, paths and hash
/// prefixes, claimed projects, target files), with the same payload digest and the same review
/// digest: the SHA-256 of the review text, which `sign` reads out for a review too long for the
/// screen (its SIGFILE.review.txt). The review holds no file names and no "in N days", so it is
/// the same wherever it is printed; the heading and the expiry's "in N days" are not part of it.
///
/// Give the same --delegator as the signers (for every role but root), so OLD's signatures are
/// checked: without it the review says OLD is unverified, and its digest differs from theirs.
///
/// For a round (NEW a directory of drafts, as `pypi claim` writes for claimed bins), OLD is the
/// directory of the versions in use (the repository) and --delegator is required: each draft
/// V.ROLE.json is reviewed against (V-1).ROLE.json (or ROLE.json) there, as `sign NEWDIR
/// --previous OLDDIR` shows it, with the round digest and the review digest.
/// A root's OLD is the root it follows, and must be signed by its own root keys. Exit 0 when
/// the review was printed.
#[derive(clap::Args)]
pub struct Args {
    /// The version in use (signed): the review is against it.
    #[arg(value_name = "OLD")]
    old: PathBuf,
    /// The new version (the draft to be signed).
    #[arg(value_name = "NEW")]
    new: PathBuf,
    /// The metadata that delegates to the role: the root for targets, snapshot and timestamp;
    /// the delegating targets metadata for a delegated role (as `sign --delegator`).
    #[arg(long, value_name = "PARENT")]
    delegator: Option<PathBuf>,
    /// NEW's role name, when its file name does not say (e.g. claimed for draft.json).
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// Print the review and its digests as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Also write the review text to this new file: the same bytes `sign` writes to
    /// SIGFILE.review.txt for a long review (`sha256sum` gives the review digest).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

/// The command's words for a request that cannot be reviewed (OLD is what `sign` calls
/// --previous).
fn failure(e: RequestError, old: &std::path::Path) -> Failure {
    match e {
        RequestError::PreviousNotRoot { found } => Failure::usage(format!(
            "{}: a root is reviewed against the root it follows, not {found} metadata",
            shown(old)
        )),
        e @ RequestError::PreviousUnverified { .. } => Failure::failed(format!(
            "{}: {e}",
            shown(old)
        ))
        .hint("give as OLD the root in use: the repository's fully signed N.root.json, checked with `conclave verify`"),
        other => other.into(),
    }
}

/// A file that cannot be read (the command line's failure), or a request that cannot be made.
enum Load {
    Read(Failure),
    Request(RequestError),
}

impl From<RequestError> for Load {
    fn from(e: RequestError) -> Self {
        Load::Request(e)
    }
}

pub fn run(a: Args) -> Result<u8, Failure> {
    if let Some(o) = &a.output {
        crate::cli::refuse_existing(o)?;
    }
    if a.new.is_dir() {
        return run_round(&a);
    }
    let ctx = request::Context {
        role: a.role.as_deref(),
        previous: Some(&a.old),
        delegator: a.delegator.as_deref(),
    };
    let l = SigningRequest::load(&a.new, &ctx, |p| read_metadata(p).map_err(Load::Read)).map_err(
        |e| match e {
            Load::Read(f) => f,
            Load::Request(e) => failure(e, &a.old),
        },
    )?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.new, &a.old])?;
    let payload = l.payload_digest();
    let heading = format!("Review of {} against {}:", shown(&a.new), shown(&a.old));
    let review = ShownReview::of(&l, heading, &a.new);
    let review_digest = conclave::ceremony::review::text_digest(&review.text);
    for p in l.key_problems() {
        eprintln!("!!! WARNING: {}: {p}", shown(&a.new));
    }
    if let Some(o) = &a.output {
        let mut text = review.text.join("\n");
        text.push('\n');
        crate::cli::write_output(o, text.as_bytes())?;
        eprintln!("Wrote the review text to {}.", shown(o));
    }
    if a.json {
        let mut m = Map::new();
        m.insert("file".into(), Value::from(a.new.display().to_string()));
        m.insert("previous".into(), Value::from(a.old.display().to_string()));
        m.insert("role".into(), Value::from(l.role()));
        let c = l.metadata().common();
        m.insert(
            "version".into(),
            Value::from(i64::try_from(c.version.get()).unwrap_or(i64::MAX)),
        );
        m.insert("expires".into(), Value::from(c.expires.to_string()));
        m.insert("payload_digest".into(), Value::from(payload));
        m.insert("review_digest".into(), Value::from(review_digest));
        m.insert(
            "review".into(),
            Value::Array(
                review
                    .text
                    .iter()
                    .map(|l| Value::from(l.as_str()))
                    .collect(),
            ),
        );
        print!(
            "{}",
            String::from_utf8_lossy(&conclave::cjson::to_pretty(&Value::Object(m)))
        );
        return Ok(exit::OK);
    }
    for line in review.screen(&names) {
        println!("{line}");
    }
    // As `sign` shows them: between the review and the digests.
    for w in review.expiry.warning_lines() {
        println!("{w}");
    }
    let label = "Review digest (SHA-256 of the review text above, without its heading and \
                 \"expiry\" line; `conclave sign` reads it out for a review too long for the \
                 screen):";
    for line in ShownReview::digest_lines(&payload, Some((label, &review_digest))) {
        println!("{line}");
    }
    if let Some(request::PreviousCheck::Unverified(why)) = l.previous_check() {
        eprintln!(
            "warning: {} is not signed as it must be ({}): check it with `conclave verify`{}",
            shown(&a.old),
            escape(why),
            if a.delegator.is_none() && l.role() != "root" {
                ", and give --delegator as the signers do"
            } else {
                ""
            }
        );
    }
    Ok(exit::OK)
}

/// `review OLDDIR NEWDIR --delegator PARENT`: a round's change review, as `sign NEWDIR
/// --previous OLDDIR` shows it, with the round digest and the review digest.
fn run_round(a: &Args) -> Result<u8, Failure> {
    use conclave::ceremony::round;
    if !a.old.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a directory of drafts (a round): give as OLD the directory of the versions in \
             use (the repository), not a file",
            shown(&a.new)
        )));
    }
    if a.role.is_some() {
        return Err(Failure::usage(
            "--role cannot be given for a directory: each file's name (V.ROLE.json) says its role",
        ));
    }
    let parent_path = a.delegator.as_deref().ok_or_else(|| {
        Failure::usage("a round (a directory of drafts) needs --delegator").hint(
            "give the signed metadata that delegates to the drafts' roles, as the signers do \
             (e.g. --delegator repo/1.claimed.json for claimed bins)",
        )
    })?;
    let files = round::files(&a.new)?;
    let parent = round::Delegators::find(&files, read_metadata(parent_path)?, &mut read_metadata)?;
    let drafts = crate::cli::signing::round::review_round(&files, &parent)?;
    let text = crate::cli::signing::round::changes(&drafts, &a.old, &parent)?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.new, &a.old])?;
    let round_digest = round::round_digest(&drafts);
    let review_digest = conclave::ceremony::review::text_digest(&text);
    if let Some(o) = &a.output {
        let mut bytes = text.join("\n");
        bytes.push('\n');
        crate::cli::write_output(o, bytes.as_bytes())?;
        eprintln!("Wrote the review text to {}.", shown(o));
    }
    if a.json {
        let mut m = Map::new();
        m.insert("round".into(), Value::from(a.new.display().to_string()));
        m.insert("previous".into(), Value::from(a.old.display().to_string()));
        m.insert(
            "drafts".into(),
            Value::Array(
                drafts
                    .iter()
                    .map(|d| {
                        let mut f = Map::new();
                        f.insert("file".into(), Value::from(d.name.as_str()));
                        f.insert("role".into(), Value::from(d.role.as_str()));
                        f.insert("payload_digest".into(), Value::from(d.digest.as_str()));
                        Value::Object(f)
                    })
                    .collect(),
            ),
        );
        m.insert("round_digest".into(), Value::from(round_digest));
        m.insert("review_digest".into(), Value::from(review_digest));
        m.insert(
            "review".into(),
            Value::Array(text.iter().map(|l| Value::from(l.as_str())).collect()),
        );
        print!(
            "{}",
            String::from_utf8_lossy(&conclave::cjson::to_pretty(&Value::Object(m)))
        );
        return Ok(exit::OK);
    }
    println!(
        "Review of the round {} ({} drafts) against {}:",
        shown(&a.new),
        drafts.len(),
        shown(&a.old)
    );
    for line in &text {
        println!("{}", names.line(line));
    }
    let (groups, words) = conclave::ceremony::review::digest_for_reading(&round_digest);
    println!(
        "Round digest (SHA-256 over every file's payload digest and name) - compare it aloud:"
    );
    println!("  {groups}");
    for w in &words {
        println!("  {w}");
    }
    let (groups, _) = conclave::ceremony::review::digest_for_reading(&review_digest);
    println!(
        "Review digest (SHA-256 of the change review above, without its heading; `conclave \
         sign` reads it out for a review too long for the screen):"
    );
    println!("  {groups}");
    Ok(exit::OK)
}
