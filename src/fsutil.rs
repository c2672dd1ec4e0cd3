//! Crash-safe file writes.
//!
//! A ceremony laptop can lose power at any moment. Every file conclave writes goes to a
//! temporary file in the destination's directory, is flushed to disk, and is then moved into
//! place in one step, after which the directory itself is flushed: a reader (or the next
//! ceremony step) sees either the old file or the new one, never half of either.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

fn temp_path(dest: &Path) -> io::Result<PathBuf> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut rnd = [0u8; 8];
    crate::secret::random(&mut rnd).map_err(io::Error::other)?;
    Ok(dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        hex::encode(rnd)
    )))
}

fn sync_dir(dest: &Path) -> io::Result<()> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

fn write_temp(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Replace (or create) `dest` with `bytes` atomically. For metadata and signatures, never
/// for key files: an existing conclave key file at `dest` is refused, because a mistyped
/// output path (`sign --key alice.key -o alice.key`) would otherwise destroy the only copy of
/// a private key.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    refuse_key_file(dest)?;
    let tmp = temp_path(dest)?;
    let result = write_temp(&tmp, bytes, 0o644).and_then(|()| fs::rename(&tmp, dest));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dest)
}

fn refuse_key_file(dest: &Path) -> io::Result<()> {
    let Ok(meta) = fs::metadata(dest) else {
        return Ok(());
    };
    if !meta.is_file() || meta.len() > crate::keystore::MAX_FILE_SIZE as u64 {
        return Ok(());
    }
    // Damaged key files count too: they may still be the only copy worth recovering.
    let bytes = fs::read(dest)?;
    let is_key_file = crate::cjson::parse(&bytes).ok().is_some_and(|v| {
        v.get("format").and_then(crate::cjson::Value::as_str) == Some(crate::keystore::FORMAT)
    });
    if is_key_file {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "it is a conclave key file, which conclave never overwrites; choose another output",
        ));
    }
    Ok(())
}

/// Create `dest` with `bytes` and mode 0600, failing if it exists. Used for key files, which
/// are never overwritten: the complete file appears under its name in one step (a hard
/// link, which refuses to replace an existing file), or not at all.
pub fn create_new_private(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    if fs::symlink_metadata(dest).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the file already exists",
        ));
    }
    let tmp = temp_path(dest)?;
    let result = write_temp(&tmp, bytes, 0o600).and_then(|()| fs::hard_link(&tmp, dest));
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(dest)
}

/// Create the new directory `dest` holding `files` (relative paths with `/`, and bytes):
/// written into a temporary directory beside it (every file and directory flushed to disk),
/// then renamed into place in one step. A crash leaves either no `dest` or all of it. An
/// existing `dest` is refused with `exists` as the reason.
pub fn write_new_dir<'a>(
    dest: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    exists: &str,
) -> io::Result<()> {
    let refuse = || io::Error::new(io::ErrorKind::AlreadyExists, exists.to_owned());
    if fs::symlink_metadata(dest).is_ok() {
        return Err(refuse());
    }
    let tmp = temp_path(dest)?;
    let parent = tmp.parent().map(Path::to_path_buf).unwrap_or_default();
    let result = (|| {
        fs::create_dir(&tmp)?;
        let mut dirs = std::collections::BTreeSet::from([tmp.clone()]);
        for (rel, bytes) in files {
            let path = tmp.join(rel);
            if let Some(dir) = path.parent()
                && dir != tmp
            {
                fs::create_dir_all(dir)?;
                dirs.insert(dir.to_path_buf());
            }
            write_temp(&path, bytes, 0o644)?;
        }
        for dir in &dirs {
            File::open(dir)?.sync_all()?;
        }
        // rename(2) would replace an empty directory created meanwhile: check once more.
        if fs::symlink_metadata(dest).is_ok() {
            return Err(refuse());
        }
        fs::rename(&tmp, dest)?;
        File::open(&parent)?.sync_all()
    })();
    if result.is_err() && fs::symlink_metadata(&tmp).is_ok() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.json");
        create_new_private(&p, b"one").unwrap();
        let err = create_new_private(&p, b"two").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_writes_never_replace_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alice.key");
        let key = b"{\"format\": \"conclave-key-file\", \"format_version\": 1}";
        fs::write(&p, key).unwrap();
        let err = write_atomic(&p, b"{}").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), key);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
