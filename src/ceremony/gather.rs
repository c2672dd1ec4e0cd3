//! Which detached signature files belong to a draft, when they are not named one by one.
//!
//! `status` and `merge` take signature files, signature directories, or nothing: then the
//! draft's own directory and the `signatures/` of the ceremony directory it lies in (where
//! `ceremony genesis` tells officers to put them) are read. A directory holds signatures for
//! other drafts too (a ceremony's root and targets, a revocation's root, targets and claimed),
//! so each file is sorted by what it says it signs: the role and version of another draft is
//! not this draft's and is passed over; the same role and version over other bytes (made for
//! an earlier draft) is set aside with its reason, never merged; only the rest is handed to
//! the merge, which checks every signature as it checks a named file. Nothing here decides
//! whether a signature counts.

use std::path::{Path, PathBuf};

use super::DetachedSignature;
use super::repository::{self, ListError};

/// The suffix of a signature file's name.
pub const SIG_SUFFIX: &str = super::round::SIG_SUFFIX;

/// The directories a draft's signatures are looked in when none are named: the draft's own
/// directory, then the `signatures/` of the ceremony directory it lies in, if any.
pub fn default_places(draft: &Path) -> Vec<PathBuf> {
    let own = match draft.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut out = vec![own];
    if let Some((ceremony, _)) = repository::enclosing_ceremony(draft) {
        let sigs = ceremony.join("signatures");
        let canon = |p: &Path| std::fs::canonicalize(p).ok();
        if sigs.is_dir()
            && !out
                .iter()
                .any(|o| canon(o).is_some() && canon(o) == canon(&sigs))
        {
            out.push(sigs);
        }
    }
    out
}

/// The signature files found for one draft.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The files that say they sign this draft, parsed, in name order per directory.
    pub sigs: Vec<(PathBuf, DetachedSignature)>,
    /// Files set aside, with why: not a signature file, or the same role and version over
    /// other bytes (an earlier draft).
    pub skipped: Vec<(PathBuf, String)>,
}

/// What a draft is, as its signature files name it.
#[derive(Clone, Copy, Debug)]
pub struct DraftId<'a> {
    /// Its role.
    pub role: &'a str,
    /// Its version.
    pub version: u64,
    /// Hex SHA-256 of its signed bytes.
    pub payload_sha256: &'a str,
}

/// Every `*.sig` regular file directly in each of `dirs`, sorted for the draft `id` (see the
/// module docs). `read` reads a file's bytes (the caller applies its limits); a directory that
/// cannot be listed is an error.
pub fn in_dirs<E: From<ListError>>(
    dirs: &[PathBuf],
    id: DraftId<'_>,
    read: &mut dyn FnMut(&Path) -> Result<Vec<u8>, E>,
) -> Result<Gathered, E> {
    let mut out = Gathered::default();
    for dir in dirs {
        for entry in repository::list(dir, SIG_SUFFIX)?
            .into_iter()
            .filter(|e| e.regular)
        {
            // Files of the working directory are named as a person would type them.
            let path = if dir.as_os_str() == "." {
                PathBuf::from(&entry.name)
            } else {
                entry.path
            };
            // A signature file is tiny: a large file is not read at all.
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            if size > super::detached::MAX_FILE_SIZE as u64 {
                out.skipped.push((
                    path,
                    format!(
                        "not a signature file: larger than {} bytes",
                        super::detached::MAX_FILE_SIZE
                    ),
                ));
                continue;
            }
            let bytes = read(&path)?;
            match DetachedSignature::parse(&bytes) {
                Err(e) => out
                    .skipped
                    .push((path, format!("not a signature file: {e}"))),
                Ok(d) if d.role != id.role || d.version != id.version => {}
                Ok(d) if d.payload_sha256 != id.payload_sha256 => out.skipped.push((
                    path,
                    format!(
                        "it signs other content (payload SHA-256 {}): it was made for an \
                         earlier or different draft of {} version {}",
                        d.payload_sha256, d.role, d.version
                    ),
                )),
                Ok(d) => out.sigs.push((path, d)),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::request::tests::{officer, root};
    use crate::metadata::AnyMetadata;

    fn read(p: &Path) -> Result<Vec<u8>, ListError> {
        Ok(std::fs::read(p).unwrap())
    }

    #[test]
    fn a_directory_gives_the_signatures_of_this_draft_and_sets_aside_stale_ones() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let md = root();
        let sign = |md: &AnyMetadata, role: &str, n: u8| {
            crate::ceremony::sign_detached(md, role, &officer(n), None)
                .unwrap()
                .to_bytes()
        };
        std::fs::write(d.join("1.root.alice.sig"), sign(&md, "root", 1)).unwrap();
        // Another draft's: passed over without a word.
        std::fs::write(d.join("1.targets.sig"), sign(&md, "targets", 1)).unwrap();
        // The same role and version over other bytes.
        let mut earlier = md.clone();
        if let AnyMetadata::Root(r) = &mut earlier {
            r.signed.consistent_snapshot = Some(false);
        }
        std::fs::write(d.join("old.sig"), sign(&earlier, "root", 2)).unwrap();
        std::fs::write(d.join("junk.sig"), b"not json").unwrap();
        std::fs::write(d.join("huge.sig"), vec![b' '; 70_000]).unwrap();
        std::fs::write(d.join("notes.txt"), b"ignored").unwrap();
        let digest = crate::metadata::SignedText::of_metadata(&md).sha256_hex();
        let id = DraftId {
            role: "root",
            version: 1,
            payload_sha256: &digest,
        };
        let g = in_dirs(&[d.to_path_buf()], id, &mut read).unwrap();
        let names: Vec<_> = g.sigs.iter().map(|(p, _)| p.file_name().unwrap()).collect();
        assert_eq!(names, ["1.root.alice.sig"]);
        let skipped: Vec<_> = g
            .skipped
            .iter()
            .map(|(p, why)| (p.file_name().unwrap().to_str().unwrap(), why.as_str()))
            .collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped[0].0 == "huge.sig" && skipped[0].1.contains("larger than"));
        assert!(skipped[1].0 == "junk.sig" && skipped[1].1.starts_with("not a signature file"));
        assert!(skipped[2].0 == "old.sig" && skipped[2].1.contains("signs other content"));

        let missing = d.join("missing");
        assert!(in_dirs(&[missing], id, &mut read).is_err());
    }

    #[test]
    fn by_default_the_drafts_directory_and_the_ceremonys_signatures_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = std::fs::canonicalize(dir.path()).unwrap();
        for sub in ["drafts", "signatures", "repository"] {
            std::fs::create_dir(c.join(sub)).unwrap();
        }
        std::fs::write(c.join("transcript.jsonl"), b"").unwrap();
        let draft = c.join("drafts/2.root.json");
        assert_eq!(
            default_places(&draft),
            vec![c.join("drafts"), c.join("signatures")]
        );
        // A draft in signatures/ itself is not listed twice; one outside is alone.
        assert_eq!(
            default_places(&c.join("signatures/x.json")),
            vec![c.join("signatures")]
        );
        assert_eq!(
            default_places(Path::new("x.json")),
            vec![PathBuf::from(".")]
        );
    }
}
