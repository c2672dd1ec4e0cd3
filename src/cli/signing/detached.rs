//! The signature files `status` and `merge` count for one draft: the files and directories
//! named, or with none named, those found beside the draft and in its ceremony directory's
//! `signatures/` ([`conclave::ceremony::gather`]).

use std::path::{Path, PathBuf};

use conclave::ceremony::DetachedSignature;
use conclave::ceremony::gather::{self, DraftId};
use conclave::ceremony::repository::ListError;
use conclave::ceremony::request::SigningRequest;

use crate::cli::{Failure, read_file, shown};

/// The signature files for a draft, read and sorted.
#[derive(Default)]
pub(super) struct Collected {
    /// Each signature, named by its file for messages.
    pub sigs: Vec<(String, DetachedSignature)>,
    /// Every signature file read that is handed on (for the transcript).
    pub paths: Vec<PathBuf>,
    /// Files named one by one that are not signature files, with why.
    pub unreadable: Vec<(String, String)>,
    /// Files of a directory set aside, with why ([`gather::Gathered::skipped`]).
    pub skipped: Vec<(String, String)>,
    /// With nothing named: the directories looked in.
    pub looked_in: Vec<PathBuf>,
}

fn list_failure(e: ListError) -> Failure {
    Failure::usage(format!(
        "{}: cannot read the directory: {}",
        shown(&e.path),
        crate::cli::io_reason(&e.source)
    ))
}

/// Read the signature files `given` (files or directories) for the draft `file`, or with
/// none given, those in [`gather::default_places`].
pub(super) fn collect(
    file: &Path,
    given: &[PathBuf],
    l: &SigningRequest,
) -> Result<Collected, Failure> {
    let digest = l.payload_digest();
    let id = DraftId {
        role: l.role(),
        version: l.metadata().common().version.get(),
        payload_sha256: &digest,
    };
    let mut out = Collected::default();
    let mut dirs = Vec::new();
    if given.is_empty() {
        out.looked_in = gather::default_places(file);
        dirs.clone_from(&out.looked_in);
    }
    for p in given {
        if p.is_dir() {
            dirs.push(p.clone());
            continue;
        }
        let bytes = read_file(p)?;
        match DetachedSignature::parse(&bytes) {
            Ok(d) => {
                out.sigs.push((shown(p), d));
                out.paths.push(p.clone());
            }
            Err(e) => out.unreadable.push((shown(p), e.to_string())),
        }
    }
    let found = gather::in_dirs(&dirs, id, &mut |p: &Path| {
        read_file(p).map_err(Step::Failed)
    })
    .map_err(|e| match e {
        Step::Failed(f) => f,
        Step::List(e) => list_failure(e),
    })?;
    for (p, d) in found.sigs {
        out.sigs.push((shown(&p), d));
        out.paths.push(p);
    }
    out.skipped = found
        .skipped
        .into_iter()
        .map(|(p, why)| (shown(&p), why))
        .collect();
    Ok(out)
}

/// A failure while gathering: the command line's own, or a directory that cannot be listed.
enum Step {
    Failed(Failure),
    List(ListError),
}

impl From<ListError> for Step {
    fn from(e: ListError) -> Self {
        Step::List(e)
    }
}

impl Collected {
    /// Say which directories were read and which files were set aside (on stderr).
    pub fn tell(&self) {
        if !self.looked_in.is_empty() {
            let dirs: Vec<String> = self.looked_in.iter().map(|d| shown(d)).collect();
            eprintln!(
                "Signature files for this draft found in {}: {}",
                dirs.join(" and "),
                self.sigs.len()
            );
        }
        for (file, why) in &self.skipped {
            eprintln!("skipped     {file} ({})", conclave::display::escape(why));
        }
    }
}
