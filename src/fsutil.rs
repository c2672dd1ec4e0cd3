//! Reading and writing conclave's files: crash-safe writes, fast reads, metadata files.
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
    write_temp_with(tmp, mode, &mut |f| f.write_all(bytes))
}

fn write_temp_with(
    tmp: &Path,
    mode: u32,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
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
    let early = f.try_clone()?;
    // A large file is flushed to disk as it is written, by another thread (see
    // [`EarlyFlush`]); the flush at the end then has little left to do.
    let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::scope(|scope| {
        let flusher = scope.spawn(move || {
            let mut first_error = None;
            while rx.recv().is_ok() {
                if let Err(e) = early.sync_data() {
                    first_error.get_or_insert(e);
                }
            }
            first_error
        });
        let mut out = EarlyFlush {
            file: &mut f,
            since: 0,
            tx,
        };
        let written = write(&mut out);
        drop(out);
        let early_error = flusher
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        written?;
        // Linux reports a failed write-back once per open file, possibly to the flusher's
        // call alone: an error there is an error here.
        if let Some(e) = early_error {
            return Err(e);
        }
        f.sync_all()
    })
}

/// Writes to a file, and every [`EARLY_FLUSH`] bytes asks another thread to flush what has
/// been written so far. Writing a 378 MB claimed role otherwise ends with most of a second
/// of the disk catching up while the processor waits; flushed as it goes, the disk works
/// while conclave computes the rest.
struct EarlyFlush<'a> {
    file: &'a mut File,
    since: usize,
    tx: std::sync::mpsc::SyncSender<()>,
}

/// How many bytes are written between two early flushes.
const EARLY_FLUSH: usize = 32 << 20;

impl Write for EarlyFlush<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since += n;
        if self.since >= EARLY_FLUSH {
            self.since = 0;
            // A flush already asked for and not yet begun covers these bytes too.
            let _ = self.tx.try_send(());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Files at least this large are read in parallel parts (see [`read`]).
const PARALLEL_READ_BYTES: u64 = 64 << 20;

/// Read a whole file. A large file (a claimed role for a million projects is 378 MB) is read
/// in parts, one per core: most of the time goes on the kernel mapping fresh memory for the
/// bytes, and the cores do that side by side. A file that grows or shrinks meanwhile is an
/// error, not half of one version and half of another.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    #[cfg(unix)]
    if len >= PARALLEL_READ_BYTES {
        return read_parallel(&file, len);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    io::Read::read_to_end(&mut &file, &mut bytes)?;
    Ok(bytes)
}

#[cfg(unix)]
fn read_parallel(file: &File, len: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let changed = || io::Error::other("the file changed while it was read");
    let n = usize::try_from(len).map_err(|_| io::Error::other("the file is too large"))?;
    // Zeroed memory comes straight from the kernel, untouched: the parts fault in their own
    // pages as they are read into.
    let mut bytes = vec![0u8; n];
    let parts = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4);
    let part = n.div_ceil(parts);
    std::thread::scope(|scope| {
        let handles: Vec<_> = bytes
            .chunks_mut(part)
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || file.read_exact_at(chunk, (i * part) as u64)))
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(changed()),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(io::Error::other("a reading thread failed")),
            }
        }
        Ok(())
    })?;
    let mut probe = [0u8; 1];
    if file.read_at(&mut probe, len)? != 0 {
        return Err(changed());
    }
    Ok(bytes)
}

/// Replace (or create) `dest` with `bytes` atomically. For metadata and signatures, never
/// for key files: an existing conclave key file at `dest` is refused, because a mistyped
/// output path (`sign --key alice.key -o alice.key`) would otherwise destroy the only copy of
/// a private key.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(dest, &mut |f| f.write_all(bytes))
}

/// [`write_atomic`] for contents written in pieces by `write` (a claimed role of hundreds of
/// megabytes is never held whole). If `write` fails, `dest` is left as it was.
pub fn write_atomic_with(
    dest: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    refuse_key_file(dest)?;
    let tmp = temp_path(dest)?;
    let result = write_temp_with(&tmp, 0o644, write).and_then(|()| fs::rename(&tmp, dest));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dest)
}

/// The `format` of a conclave key file ([`crate::keystore::FORMAT`]). It is defined here, in
/// the module every write goes through, so that refusing to overwrite a key file needs nothing
/// of the key store.
pub(crate) const KEY_FILE_FORMAT: &str = "conclave-key-file";

/// The largest key file conclave reads ([`crate::keystore::MAX_FILE_SIZE`]); real ones are
/// under 1 KiB.
pub(crate) const KEY_FILE_MAX: usize = 64 * 1024;

fn refuse_key_file(dest: &Path) -> io::Result<()> {
    let Ok(meta) = fs::metadata(dest) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Ok(());
    }
    if looks_like_key_file(&read_head(dest)?) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "it is a conclave key file, which conclave never overwrites; choose another output",
        ));
    }
    Ok(())
}

/// The first [`KEY_FILE_MAX`] bytes of a file: enough to recognise a key file or a signature
/// file however much was appended to it.
pub(crate) fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    io::Read::read_to_end(
        &mut io::Read::take(File::open(path)?, KEY_FILE_MAX as u64),
        &mut head,
    )?;
    Ok(head)
}

/// What only a conclave key file holds, one of which survives in any part of one longer
/// than a line: the format name, the cipher, the KDF and the ciphertext field.
const KEY_FILE_MARKERS: [&[u8]; 4] = [
    KEY_FILE_FORMAT.as_bytes(),
    b"xchacha20poly1305",
    b"\"ciphertext\"",
    b"argon2id",
];

/// Whether `head` (the start of a file) is a conclave key file, whole or damaged: with a byte
/// order mark, a note appended, truncated, or with fields changed. A damaged key file may
/// still be the only copy worth recovering, so this errs on the side of "yes": any JSON-looking
/// text holding one of the key file's markers.
pub(crate) fn looks_like_key_file(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| text[i] == b'{')
        && KEY_FILE_MARKERS
            .iter()
            .any(|m| text.windows(m.len()).any(|w| w == *m))
}

/// Create `dest` with `bytes` and mode 0600, failing if it exists. Used for key files, which
/// are never overwritten: the complete file appears under its name in one step (a hard
/// link, which refuses to replace an existing file), or not at all.
pub fn create_new_private(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    create_new_with_mode(dest, bytes, 0o600, false)
}

/// [`create_new_private`] with mode 0644, for files that hold no secret but must not replace
/// anything (signature files). Signature files are carried on USB sticks, whose FAT file
/// systems have no hard links: there the file is renamed into place after checking once more
/// that nothing is there (the rename itself is the only window).
pub fn create_new(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    create_new_with_mode(dest, bytes, 0o644, true)
}

fn create_new_with_mode(
    dest: &Path,
    bytes: &[u8],
    mode: u32,
    rename_without_links: bool,
) -> io::Result<()> {
    let exists = || io::Error::new(io::ErrorKind::AlreadyExists, "the file already exists");
    if fs::symlink_metadata(dest).is_ok() {
        return Err(exists());
    }
    let tmp = temp_path(dest)?;
    let result = write_temp(&tmp, bytes, mode).and_then(|()| match fs::hard_link(&tmp, dest) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists()),
        Err(_) if rename_without_links && fs::symlink_metadata(dest).is_err() => {
            fs::rename(&tmp, dest)
        }
        other => other,
    });
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

/// Write metadata to `dest` atomically: the bytes of [`Metadata::to_file_bytes`], streamed
/// for a large role so that they are never held whole.
///
/// [`Metadata::to_file_bytes`]: crate::metadata::Metadata::to_file_bytes
pub fn write_metadata(md: &crate::metadata::AnyMetadata, dest: &Path) -> io::Result<()> {
    write_atomic_with(dest, &mut |out| md.write_to(out))
}

/// [`write_metadata`], returning the payload digest computed as the bytes are written
/// ([`crate::metadata::AnyMetadata::write_to_digest`]).
pub fn write_metadata_digest(md: &crate::metadata::AnyMetadata, dest: &Path) -> io::Result<String> {
    let mut digest = String::new();
    write_atomic_with(dest, &mut |out| {
        digest = md.write_to_digest(out)?;
        Ok(())
    })?;
    Ok(digest)
}

/// Read a metadata file ([`crate::metadata::streamed::read`]): a large targets role in
/// pieces, never holding the whole file, anything else whole; hashing the file's bytes with
/// `hashes` on the way.
pub fn read_metadata(
    path: &Path,
    hashes: &[&str],
) -> Result<crate::metadata::streamed::FileRead, crate::metadata::streamed::ReadError> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    crate::metadata::streamed::read(&mut file, len, hashes, || read(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_recognised_damaged_too() {
        let whole = b"{\n  \"cipher\": \"xchacha20poly1305\",\n  \"ciphertext\": \"00aa\",\n  \"format\": \"conclave-key-file\",\n  \"kdf\": {\n    \"name\": \"argon2id\"\n  }\n}\n";
        assert!(looks_like_key_file(whole));
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(whole);
        assert!(looks_like_key_file(&bom), "a byte order mark");
        let mut noted = whole.to_vec();
        noted.extend_from_slice(b"backup of alice's key, 2026\n");
        assert!(looks_like_key_file(&noted), "a note appended");
        // From the first field on (the cipher's name ends 33 bytes in).
        for cut in 33..whole.len() {
            assert!(looks_like_key_file(&whole[..cut]), "cut at {cut}");
        }
        let renamed =
            String::from_utf8_lossy(whole).replace("conclave-key-file", "conclave-key-fil");
        assert!(looks_like_key_file(renamed.as_bytes()), "a changed format");
        // Metadata and signature files are not key files.
        assert!(!looks_like_key_file(
            b"{\"signed\": {\"_type\": \"root\"}, \"signatures\": []}"
        ));
        assert!(!looks_like_key_file(
            b"{\"format\": \"conclave-signature\"}"
        ));
        assert!(!looks_like_key_file(b"ciphertext argon2id, but not JSON"));
        assert!(!looks_like_key_file(b""));
    }

    #[test]
    fn write_atomic_never_replaces_a_damaged_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alice.key");
        let damaged =
            b"\xef\xbb\xbf{\n  \"cipher\": \"xchacha20poly1305\",\n  \"ciphertext\": \"00";
        fs::write(&p, damaged).unwrap();
        let e = write_atomic(&p, b"{}").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), damaged);
        // And one that grew past the key file size limit keeps its head.
        let mut big = damaged.to_vec();
        big.resize(KEY_FILE_MAX * 2, b' ');
        fs::write(&p, &big).unwrap();
        assert!(write_atomic(&p, b"{}").is_err());
    }

    #[test]
    fn create_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.sig");
        create_new(&p, b"one").unwrap();
        assert_eq!(
            create_new(&p, b"two").unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read(&p).unwrap(), b"one");
    }

    #[test]
    fn large_files_read_in_parts_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        // Not a multiple of the part size, and every byte different from its neighbours.
        let n = PARALLEL_READ_BYTES as usize + 12_345;
        let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        fs::write(&p, &bytes).unwrap();
        assert!(read(&p).unwrap() == bytes);
        let small = dir.path().join("small");
        fs::write(&small, b"{}").unwrap();
        assert_eq!(read(&small).unwrap(), b"{}");
        assert_eq!(
            read(&dir.path().join("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_file_flushed_early_as_it_is_written_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("claimed.json");
        // Several early flushes, in uneven pieces.
        let n = 3 * EARLY_FLUSH + 777;
        let bytes: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        write_atomic_with(&p, &mut |out| {
            for piece in bytes.chunks(1_000_003) {
                out.write_all(piece)?;
            }
            Ok(())
        })
        .unwrap();
        assert!(fs::read(&p).unwrap() == bytes);
        // A writer that fails leaves nothing behind, flushed early or not.
        let q = dir.path().join("failed.json");
        let err = write_atomic_with(&q, &mut |out| {
            out.write_all(&bytes)?;
            Err(io::Error::other("stopped"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "stopped");
        assert!(!q.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

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
