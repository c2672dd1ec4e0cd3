//! Never destroy: what may stand where a signing round writes its output.
//!
//! A mistyped `-o` is the easiest way to lose a ceremony's work: `sign draft.json --key
//! alice.key -o alice.key` would replace the only copy of a private key with a signature;
//! `merge` of a half-signed draft over the repository's fully signed file would replace
//! signatures that took a day of officers' time to gather. So:
//!
//! - a **signature** is only ever written where nothing is ([`refuse_any`]);
//! - **merged metadata** may replace only the same merge target ([`check_same_target`]): the
//!   same type of metadata with the same signed bytes, and every signature in it that is
//!   valid for the role is also in what replaces it — so never fewer signatures, and never a
//!   fully signed file replaced by a partial one;
//! - **key files and signature files** are recognised by their header, even damaged (a byte
//!   order mark, a note appended, cut short), and never replaced by either.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::display::escape;
use crate::metadata::{AnyMetadata, KeyId, SignedText};
use crate::verify::SignatureReport;

use super::Authority;

/// What is already at an output path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing: the path is free.
    Nothing,
    /// A conclave key file, whole or damaged.
    KeyFile,
    /// A conclave signature file, whole or damaged.
    SignatureFile,
    /// A directory.
    Directory,
    /// Something else (a symbolic link, a device, another file): metadata, perhaps.
    Other,
}

/// Why an output path was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum OverwriteError {
    /// A key file is there.
    #[error(
        "{}: cannot write: it is a conclave key file, which conclave never overwrites (recognised by its header, even if damaged)",
        shown(.path)
    )]
    KeyFile {
        /// The output path.
        path: PathBuf,
    },
    /// A signature file is there.
    #[error(
        "{}: cannot write: a conclave signature file is already there, and conclave never replaces one",
        shown(.path)
    )]
    SignatureFile {
        /// The output path.
        path: PathBuf,
    },
    /// Something is there where only a new file may go.
    #[error("{}: cannot write: it already exists, and a signature goes into a new file", shown(.path))]
    Exists {
        /// The output path.
        path: PathBuf,
    },
    /// A directory is there.
    #[error("{}: cannot write: it is a directory", shown(.path))]
    Directory {
        /// The output path.
        path: PathBuf,
    },
    /// Something other than metadata is there.
    #[error(
        "{}: cannot write: it holds something that is not metadata ({reason}); conclave replaces only the same metadata, with no fewer signatures",
        shown(.path)
    )]
    NotMetadata {
        /// The output path.
        path: PathBuf,
        /// Why it does not read as metadata.
        reason: String,
    },
    /// Metadata of another type is there.
    #[error(
        "{}: cannot write: it holds {found} metadata, not the {expected} being merged",
        shown(.path)
    )]
    OtherType {
        /// The output path.
        path: PathBuf,
        /// The type found.
        found: &'static str,
        /// The type being written.
        expected: &'static str,
    },
    /// Metadata with other signed bytes is there.
    #[error(
        "{}: cannot write: it holds other signed content (payload SHA-256 {found}, version {found_version}), not what is being merged ({expected}, version {expected_version}); conclave replaces only the same metadata, with no fewer signatures",
        shown(.path)
    )]
    OtherPayload {
        /// The output path.
        path: PathBuf,
        /// Payload digest of what is there.
        found: String,
        /// Its version.
        found_version: u64,
        /// Payload digest of what would be written.
        expected: String,
        /// Its version.
        expected_version: u64,
    },
    /// The same metadata is there with valid signatures the new file would not have.
    #[error(
        "{}: cannot write: it holds valid signatures by {} that the merged file would not have{}",
        shown(.path),
        .lost.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        if *.was_complete { " (it meets every threshold; the merged file would not)" } else { "" }
    )]
    LosesSignatures {
        /// The output path.
        path: PathBuf,
        /// The keys whose valid signatures would be lost.
        lost: Vec<KeyId>,
        /// Whether what is there meets every threshold.
        was_complete: bool,
    },
    /// The output path cannot be looked at.
    #[error("{}: cannot read what is there", shown(.path))]
    Io {
        /// The output path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// What is at `path` (not following a final symbolic link).
pub(crate) fn found_at(path: &Path) -> Result<Found, OverwriteError> {
    let io = |source| OverwriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(io(e)),
    };
    if meta.is_dir() {
        return Ok(Found::Directory);
    }
    if !meta.is_file() {
        return Ok(Found::Other);
    }
    let head = crate::fsutil::read_head(path).map_err(io)?;
    Ok(if crate::fsutil::looks_like_key_file(&head) {
        Found::KeyFile
    } else if looks_like_signature_file(&head) {
        Found::SignatureFile
    } else {
        Found::Other
    })
}

/// Whether `head` (the start of a file) is a conclave signature file, whole or damaged.
pub(crate) fn looks_like_signature_file(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let marker = super::detached::FORMAT.as_bytes();
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
        && text.windows(marker.len()).any(|w| w == marker)
}

/// For a new signature file: nothing may be at `path`.
pub fn refuse_any(path: &Path) -> Result<(), OverwriteError> {
    let path_buf = || path.to_path_buf();
    match found_at(path)? {
        Found::Nothing => Ok(()),
        Found::KeyFile => Err(OverwriteError::KeyFile { path: path_buf() }),
        Found::SignatureFile => Err(OverwriteError::SignatureFile { path: path_buf() }),
        Found::Directory => Err(OverwriteError::Directory { path: path_buf() }),
        Found::Other => Err(OverwriteError::Exists { path: path_buf() }),
    }
}

/// For merged metadata, before any work: refuse a key file, a signature file or a directory
/// at `path`. `Ok(true)` when something else is there, which must then pass
/// [`check_same_target`].
pub fn refuse_unmergeable(path: &Path) -> Result<bool, OverwriteError> {
    let path_buf = || path.to_path_buf();
    match found_at(path)? {
        Found::Nothing => Ok(false),
        Found::KeyFile => Err(OverwriteError::KeyFile { path: path_buf() }),
        Found::SignatureFile => Err(OverwriteError::SignatureFile { path: path_buf() }),
        Found::Directory => Err(OverwriteError::Directory { path: path_buf() }),
        Found::Other => Ok(true),
    }
}

/// What a merge is about to write, to compare with what is there.
pub struct Target<'a> {
    /// The merged metadata (its signed bytes and type).
    pub merged: &'a AnyMetadata,
    /// Its role name.
    pub role: &'a str,
    /// Who may sign it.
    pub authorities: &'a [Authority],
    /// The keys with a valid signature in it.
    pub valid: BTreeSet<KeyId>,
}

/// The keys with a valid signature in any of `reports`.
pub fn valid_keyids(reports: &[SignatureReport]) -> BTreeSet<KeyId> {
    reports
        .iter()
        .flat_map(|r| r.valid.iter().cloned())
        .collect()
}

/// May `existing` (read from `path`) be replaced by `target`? Only if it is the same type of
/// metadata with the same signed bytes, and every key with a valid signature in it (for the
/// target's role and authorities) has one in the target too.
pub fn check_same_target(
    path: &Path,
    existing: &AnyMetadata,
    target: &Target<'_>,
) -> Result<(), OverwriteError> {
    let path = path.to_path_buf();
    let (found, expected) = (existing.type_name(), target.merged.type_name());
    if found != expected {
        return Err(OverwriteError::OtherType {
            path,
            found,
            expected,
        });
    }
    let (there, here) = (
        SignedText::of_metadata(existing).sha256_hex(),
        SignedText::of_metadata(target.merged).sha256_hex(),
    );
    if there != here {
        return Err(OverwriteError::OtherPayload {
            path,
            found: there,
            found_version: existing.common().version.get(),
            expected: here,
            expected_version: target.merged.common().version.get(),
        });
    }
    let reports = super::status(existing, target.role, target.authorities);
    let lost: Vec<KeyId> = valid_keyids(&reports)
        .difference(&target.valid)
        .cloned()
        .collect();
    if !lost.is_empty() {
        return Err(OverwriteError::LosesSignatures {
            path,
            lost,
            was_complete: reports.iter().all(SignatureReport::is_met),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceremony::request::tests::{officer, root};
    use crate::signer::{SignMetadata, Signer};

    fn authorities(md: &AnyMetadata) -> Vec<Authority> {
        crate::ceremony::authorities(md, "root", None, None).unwrap()
    }

    fn signed_by(md: &AnyMetadata, n: &[u8]) -> AnyMetadata {
        let AnyMetadata::Root(r) = md else {
            panic!("a root")
        };
        let mut r = r.clone();
        for &i in n {
            r.sign(&officer(i)).unwrap();
        }
        AnyMetadata::Root(r)
    }

    fn target<'a>(md: &'a AnyMetadata, auths: &'a [Authority]) -> Target<'a> {
        Target {
            merged: md,
            role: "root",
            authorities: auths,
            valid: valid_keyids(&crate::ceremony::status(md, "root", auths)),
        }
    }

    #[test]
    fn the_same_file_with_as_many_signatures_may_be_replaced() {
        let draft = root();
        let auths = authorities(&draft);
        let signed = signed_by(&draft, &[1]);
        let p = Path::new("1.root.json");
        assert!(check_same_target(p, &draft, &target(&signed, &auths)).is_ok());
        assert!(check_same_target(p, &signed, &target(&signed, &auths)).is_ok());
        // A fully signed file is not replaced by the unsigned draft.
        let e = check_same_target(p, &signed, &target(&draft, &auths)).unwrap_err();
        assert!(
            matches!(&e, OverwriteError::LosesSignatures { lost, was_complete: true, .. }
                if *lost == [officer(1).public_key().keyid()]),
            "{e}"
        );
        assert!(e.to_string().contains("meets every threshold"), "{e}");
    }

    #[test]
    fn other_metadata_is_never_replaced() {
        let draft = root();
        let auths = authorities(&draft);
        let AnyMetadata::Root(mut r) = root() else {
            panic!("a root")
        };
        r.signed.common.version = crate::metadata::Version::new(2).unwrap();
        let other = AnyMetadata::Root(r);
        let e = check_same_target(Path::new("x"), &other, &target(&draft, &auths)).unwrap_err();
        assert!(
            matches!(
                e,
                OverwriteError::OtherPayload {
                    found_version: 2,
                    ..
                }
            ),
            "{e}"
        );
        let targets = AnyMetadata::Targets(crate::metadata::Metadata::new(
            crate::ceremony::request::tests::empty_targets(),
        ));
        let e = check_same_target(Path::new("x"), &targets, &target(&draft, &auths)).unwrap_err();
        assert!(
            matches!(
                e,
                OverwriteError::OtherType {
                    found: "targets",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn key_and_signature_files_are_found_by_their_header() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("k"),
            b"\xef\xbb\xbf{\"cipher\": \"xchacha20poly1305\", \"cipher",
        )
        .unwrap();
        std::fs::write(
            d.join("s"),
            b"{\"format\": \"conclave-signature\", \"role\": \"ro",
        )
        .unwrap();
        std::fs::write(d.join("m"), b"{\"signed\": {}}").unwrap();
        std::fs::create_dir(d.join("dir")).unwrap();
        assert_eq!(found_at(&d.join("k")).unwrap(), Found::KeyFile);
        assert_eq!(found_at(&d.join("s")).unwrap(), Found::SignatureFile);
        assert_eq!(found_at(&d.join("m")).unwrap(), Found::Other);
        assert_eq!(found_at(&d.join("dir")).unwrap(), Found::Directory);
        assert_eq!(found_at(&d.join("none")).unwrap(), Found::Nothing);
        assert!(matches!(
            refuse_any(&d.join("k")),
            Err(OverwriteError::KeyFile { .. })
        ));
        assert!(matches!(
            refuse_any(&d.join("s")),
            Err(OverwriteError::SignatureFile { .. })
        ));
        assert!(matches!(
            refuse_any(&d.join("m")),
            Err(OverwriteError::Exists { .. })
        ));
        assert!(refuse_any(&d.join("none")).is_ok());
        assert!(refuse_unmergeable(&d.join("m")).unwrap());
        assert!(!refuse_unmergeable(&d.join("none")).unwrap());
        assert!(refuse_unmergeable(&d.join("s")).is_err());
    }
}
