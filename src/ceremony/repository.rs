//! The one reader of a metadata directory: which files of a directory are metadata (or
//! signatures), and where a ceremony directory keeps its metadata.
//!
//! Every command that takes a directory (`verify`, `export`, a signing round, `pypi claim`
//! finding claimed's bins, a rehearsal) lists it here, so they all agree on what counts: the
//! entries whose names end in the suffix, in name order. Name order makes every listing, and
//! so every round digest and transcript built from one, the same on every machine.

use std::path::{Path, PathBuf};

use crate::display::escape;

/// The suffix of a metadata file's name.
pub(crate) const METADATA_SUFFIX: &str = ".json";

/// Why a directory could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot list the directory", escape(&path.display().to_string()))]
pub struct ListError {
    /// The directory.
    pub path: PathBuf,
    /// Why it could not be listed.
    #[source]
    pub source: std::io::Error,
}

/// One entry of a listed directory.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The file name, lossily decoded (names that are not UTF-8 are not metadata anyway).
    pub name: String,
    /// The entry's path (the directory joined with the name).
    pub path: PathBuf,
    /// Whether the entry itself is a regular file (a symbolic link is not).
    pub regular: bool,
}

/// Every entry directly in `dir` whose name ends in `suffix`, sorted by name.
pub fn list(dir: &Path, suffix: &str) -> Result<Vec<Entry>, ListError> {
    let fail = |source| ListError {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(suffix) {
            out.push(Entry {
                name,
                path: entry.path(),
                regular: entry.file_type().is_ok_and(|t| t.is_file()),
            });
        }
    }
    out.sort();
    Ok(out)
}

/// The metadata files of a repository directory (`*.json` regular files, not links), sorted by
/// name: what `verify DIR` and `export` read.
pub fn metadata_files(dir: &Path) -> Result<Vec<Entry>, ListError> {
    Ok(list(dir, METADATA_SUFFIX)?
        .into_iter()
        .filter(|e| e.regular)
        .collect())
}

/// The metadata directory of a ceremony directory (one holding a transcript and a
/// `repository/`), or `None` when `dir` is not one.
pub fn ceremony_repository(dir: &Path) -> Option<PathBuf> {
    let repo = dir.join("repository");
    (dir.join(super::transcript::FILE_NAME).is_file() && repo.is_dir()).then_some(repo)
}

/// The ceremony directory `path` (a file or directory) lies in: the nearest directory at or
/// above it that is one ([`ceremony_repository`]), as `(ceremony directory, its repository)`.
/// Links are followed, so a draft reached through a link is found where it lies.
pub fn enclosing_ceremony(path: &Path) -> Option<(PathBuf, PathBuf)> {
    let start = match std::fs::canonicalize(path) {
        Ok(p) if p.is_dir() => p,
        Ok(p) => p.parent()?.to_path_buf(),
        // A file not written yet: where its directory is.
        Err(_) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()?
        }
    };
    start
        .ancestors()
        .find_map(|d| ceremony_repository(d).map(|repo| (d.to_path_buf(), repo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_by_suffix_in_name_order_and_keeps_links_apart() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["2.root.json", "1.root.json", "notes.txt", "b.json.sig"] {
            std::fs::write(dir.path().join(n), b"{}").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.json")).unwrap();
        let names = |v: Vec<Entry>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(
            names(list(dir.path(), ".json").unwrap()),
            ["1.root.json", "2.root.json", "sub.json"]
        );
        assert_eq!(
            names(metadata_files(dir.path()).unwrap()),
            ["1.root.json", "2.root.json"]
        );
        assert_eq!(names(list(dir.path(), ".sig").unwrap()), ["b.json.sig"]);
        let missing = dir.path().join("missing");
        let e = list(&missing, ".json").unwrap_err();
        assert_eq!(e.path, missing);
        assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_ceremony_directory_keeps_its_metadata_in_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ceremony_repository(dir.path()), None);
        std::fs::create_dir(dir.path().join("repository")).unwrap();
        assert_eq!(ceremony_repository(dir.path()), None);
        std::fs::write(dir.path().join(super::super::transcript::FILE_NAME), b"").unwrap();
        assert_eq!(
            ceremony_repository(dir.path()),
            Some(dir.path().join("repository"))
        );
        // A draft anywhere below it belongs to it.
        std::fs::create_dir_all(dir.path().join("drafts/deep")).unwrap();
        let draft = dir.path().join("drafts/deep/2.root.json");
        std::fs::write(&draft, b"{}").unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            enclosing_ceremony(&draft),
            Some((root.clone(), root.join("repository")))
        );
        assert_eq!(
            enclosing_ceremony(&root.join("drafts")).map(|(d, _)| d),
            Some(root.clone())
        );
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(enclosing_ceremony(elsewhere.path()), None);
        assert_eq!(enclosing_ceremony(&elsewhere.path().join("missing")), None);
        // A file not written yet belongs where its directory does.
        assert_eq!(
            enclosing_ceremony(&root.join("drafts/3.root.json")).map(|(d, _)| d),
            Some(root.clone())
        );
    }
}
