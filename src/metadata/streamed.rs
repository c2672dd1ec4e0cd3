//! Reading a large targets role from its file in pieces, never holding the whole file.
//!
//! A claimed role for a million projects is a 378 MB file whose model takes about as much
//! memory again. Reading the file whole and then building the model holds both at once. This
//! reader reads the file once, front to back, a block at a time, and cuts the two large parts
//! of `signed.delegations` (the `keys` object and the `roles` array) into pieces of whole
//! entries, which worker threads read into the model while the next block is read. What is
//! left (the envelope, the signatures, the other fields of `signed`) is small and goes through
//! the ordinary reader. Signatures are then checked over the canonical form of the model, as
//! python-tuf checks them; the file is not needed again (and not read again, so what is
//! verified is what was read).
//!
//! It takes the shape conclave and python-tuf's compact writer produce: canonical JSON with
//! `signed` starting `{"_type":"targets","delegations":{"keys":{`, delegations holding just
//! `keys` and `roles`, followed by `expires`. Where a piece ends is found by looking for the
//! text that separates two entries (`"},"` between keys, `},{"` between roles) and checked by
//! reading: each piece must read as whole entries, exactly to its end. Entries are
//! self-delimiting, so if every piece reads whole, each piece began where an entry began and
//! the pieces read alike to the file read in one go; a guess that fell inside a string fails
//! to read. Anything else (another shape, a malformed entry, an I/O surprise is not among
//! them) returns `Streamed::Unusual`, and the caller reads the file again whole with the
//! ordinary reader, which also reports what is wrong: everything it returns then comes from
//! that one reading. A test and the `metadata` fuzz target check that both readers agree.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Mutex};

use crate::cjson::{self, Map, Value};
use crate::metadata::{
    AnyMetadata, DelegatedRole, DelegationRoles, Delegations, Key, KeyId, LoadError, fast,
};

/// Bytes read at a time, and about the size of each piece handed to a worker.
pub(crate) const BLOCK: usize = 2 << 20;

/// The envelope up to the delegations must be found within this many bytes.
const HEAD_MAX: usize = 1 << 20;

const START: &[u8] = b"{\"signatures\":[";
const SIGNED: &[u8] = b",\"signed\":{\"_type\":\"targets\",\"delegations\":";
const KEYS_OPEN: &[u8] = b"{\"keys\":{";
/// The end of the last key, of the keys object, and the start of the roles.
const KEYS_END: &[u8] = b"}},\"roles\":[";
const NO_KEYS: &[u8] = b"},\"roles\":[";
/// Between two keys: the end of a key's scheme string and object, and the next keyid.
const KEY_SEP: &[u8] = b"\"},\"";
/// The end of the last role, of the roles array and of the delegations.
const ROLES_END: &[u8] = b"}]},\"expires\":\"";
const NO_ROLES: &[u8] = b"]},\"expires\":\"";
/// Between two roles.
const ROLE_SEP: &[u8] = b"},{\"";

/// What [`stream_targets`] found.
pub(crate) enum Streamed {
    /// The `signed`-and-envelope tree, with `null` for `signed.delegations`, and the
    /// delegations read in pieces.
    Read(Value, Delegations),
    /// Not the shape this reader takes, or not valid: read the file whole instead.
    Unusual,
}

/// Read a targets metadata file from `src` in blocks of `block` bytes (see the module
/// documentation). `seen` is given every byte read, in order.
pub(crate) fn stream_targets(
    src: &mut dyn Read,
    block: usize,
    seen: &mut dyn FnMut(&[u8]),
) -> io::Result<Streamed> {
    let mut r = Blocks {
        src,
        buf: Vec::new(),
        block,
        seen,
    };
    // The envelope up to the delegations, checked to be at the top level of the document.
    let at = loop {
        if let Some(at) = memchr::memmem::find(&r.buf, &[SIGNED, KEYS_OPEN].concat()) {
            break at;
        }
        if r.buf.len() > HEAD_MAX || !r.fill()? {
            return Ok(Streamed::Unusual);
        }
    };
    if !r.buf.starts_with(START) || !ends_at_top_level(&r.buf[..at]) {
        return Ok(Streamed::Unusual);
    }
    let mut skeleton = r.buf[..at + SIGNED.len()].to_vec();
    skeleton.extend_from_slice(b"null");
    r.buf.drain(..at + SIGNED.len() + KEYS_OPEN.len());

    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4);
    let (job_tx, job_rx) = sync_channel::<(usize, bool, Vec<u8>)>(workers);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (part_tx, part_rx) = channel();
    let outcome = std::thread::scope(|scope| -> io::Result<Option<Assembler>> {
        for _ in 0..workers {
            let (job_rx, part_tx) = (Arc::clone(&job_rx), part_tx.clone());
            scope.spawn(move || work(&job_rx, &part_tx));
        }
        drop(part_tx);
        let mut asm = Assembler::default();
        let send = |is_keys: bool, piece: Vec<u8>, asm: &mut Assembler| {
            let sent = job_tx.send((asm.sent, is_keys, piece)).is_ok();
            asm.sent += 1;
            asm.take_ready(&part_rx);
            sent && !asm.failed
        };
        let read = (|| -> io::Result<Option<()>> {
            r.at_least(NO_KEYS.len())?;
            if r.buf.starts_with(NO_KEYS) {
                r.buf.drain(..NO_KEYS.len());
            } else if cut_section(&mut r, KEYS_END, KEYS_END.len(), key_cut, &mut |p| {
                send(true, p, &mut asm)
            })?
            .is_none()
            {
                return Ok(None);
            }
            r.at_least(NO_ROLES.len())?;
            if r.buf.starts_with(NO_ROLES) {
                r.buf.drain(..2);
            } else if cut_section(&mut r, ROLES_END, 3, role_cut, &mut |p| {
                send(false, p, &mut asm)
            })?
            .is_none()
            {
                return Ok(None);
            }
            while r.fill()? {}
            Ok(Some(()))
        })();
        drop(job_tx);
        // The workers finish what they were given; wait for all of it, even after a failure.
        for (seq, part) in part_rx.iter() {
            asm.pending.insert(seq, part);
        }
        asm.apply_pending();
        Ok(read?.map(|()| asm))
    })?;
    let Some(asm) = outcome.filter(|a| !a.failed && a.next == a.sent) else {
        return Ok(Streamed::Unusual);
    };
    skeleton.extend_from_slice(&r.buf);
    let Some(delegations) = asm.finish() else {
        return Ok(Streamed::Unusual);
    };
    match cjson::parse(&skeleton) {
        Ok(value) => Ok(Streamed::Read(value, delegations)),
        Err(_) => Ok(Streamed::Unusual),
    }
}

/// The file, a block at a time.
struct Blocks<'a> {
    src: &'a mut dyn Read,
    buf: Vec<u8>,
    block: usize,
    seen: &'a mut dyn FnMut(&[u8]),
}

impl Blocks<'_> {
    /// Read up to one more block; `false` at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        let old = self.buf.len();
        self.buf.resize(old + self.block, 0);
        let mut filled = old;
        while filled < self.buf.len() {
            match self.src.read(&mut self.buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(filled);
        (self.seen)(&self.buf[old..]);
        Ok(filled > old)
    }

    /// Read until at least `n` bytes are held, or the file ends.
    fn at_least(&mut self, n: usize) -> io::Result<()> {
        while self.buf.len() < n && self.fill()? {}
        Ok(())
    }
}

/// Whether `text` ends outside any string, inside the top-level object and nothing deeper.
fn ends_at_top_level(text: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0i64, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    !in_string && depth == 1
}

/// Where to cut held text between two keys (the index of the comma), if anywhere: at a
/// `"},"` that is not the end of a `keyval` object (followed by `"scheme"`).
fn key_cut(buf: &[u8]) -> Option<usize> {
    let mut end = buf.len();
    while let Some(i) = memchr::memmem::rfind(&buf[..end], KEY_SEP) {
        // Enough of what follows must be held to tell the two apart.
        let after = &buf[i + KEY_SEP.len()..];
        if after.len() >= 7 && !after.starts_with(b"scheme\"") && i > 0 {
            return Some(i + 2);
        }
        end = i + KEY_SEP.len() - 1;
    }
    None
}

/// Where to cut held text between two roles (the index of the comma), if anywhere.
fn role_cut(buf: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(buf, ROLE_SEP).map(|i| i + 1)
}

/// Hand on the entries of one section (keys or roles) in pieces of about a block, up to and
/// including the entry before `end`, then drop `drop_of_end` bytes of `end` and return
/// `Some`. `None` if the file ends first or `send` says to stop.
fn cut_section(
    r: &mut Blocks<'_>,
    end: &[u8],
    drop_of_end: usize,
    cut: fn(&[u8]) -> Option<usize>,
    send: &mut dyn FnMut(Vec<u8>) -> bool,
) -> io::Result<Option<()>> {
    let mut searched = 0;
    loop {
        if let Some(e) = memchr::memmem::find(&r.buf[searched..], end).map(|i| i + searched) {
            let rest = r.buf.split_off(e + drop_of_end);
            let mut last = std::mem::replace(&mut r.buf, rest);
            last.truncate(e + 1);
            return Ok(send(last).then_some(()));
        }
        searched = r.buf.len().saturating_sub(end.len() - 1);
        if r.buf.len() >= r.block
            && let Some(c) = cut(&r.buf)
        {
            let rest = r.buf.split_off(c + 1);
            let mut piece = std::mem::replace(&mut r.buf, rest);
            piece.truncate(c);
            searched = 0;
            if !send(piece) {
                return Ok(None);
            }
        }
        if !r.fill()? {
            return Ok(None);
        }
    }
}

/// What a worker read from one piece.
enum Part {
    Keys(fast::KeyEntries),
    Roles(Vec<DelegatedRole>),
}

type Job = (usize, bool, Vec<u8>);

fn work(jobs: &Mutex<Receiver<Job>>, parts: &std::sync::mpsc::Sender<(usize, Option<Part>)>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, is_keys, piece)) = job else {
            return;
        };
        let part = std::str::from_utf8(&piece).ok().and_then(|text| {
            if is_keys {
                fast::key_entries(text).map(Part::Keys)
            } else {
                fast::role_items(text).map(Part::Roles)
            }
        });
        drop(piece);
        if parts.send((seq, part)).is_err() {
            return;
        }
    }
}

/// The delegations, put together from the workers' parts in the file's order.
#[derive(Default)]
struct Assembler {
    next: usize,
    sent: usize,
    pending: BTreeMap<usize, Option<Part>>,
    failed: bool,
    keys: BTreeMap<KeyId, Key>,
    batch: Vec<(KeyId, Key)>,
    last_keyid: Option<String>,
    roles: Vec<DelegatedRole>,
}

impl Assembler {
    /// Take what the workers have finished so far, without waiting.
    fn take_ready(&mut self, parts: &Receiver<(usize, Option<Part>)>) {
        while let Ok((seq, part)) = parts.try_recv() {
            self.pending.insert(seq, part);
        }
        self.apply_pending();
    }

    fn apply_pending(&mut self) {
        while let Some(part) = self.pending.remove(&self.next) {
            self.next += 1;
            match part {
                None => self.failed = true,
                Some(Part::Keys(entries)) => {
                    // Keyids strictly increasing across pieces, as within each.
                    if self.last_keyid.as_deref() >= Some(&*entries.first) {
                        self.failed = true;
                    }
                    self.last_keyid = Some(entries.last);
                    self.batch.extend(entries.keys);
                    if fast::batch_full(self.batch.len(), self.keys.len()) {
                        self.flush();
                    }
                }
                Some(Part::Roles(roles)) => self.roles.extend(roles),
            }
        }
    }

    fn flush(&mut self) {
        fast::append_batch(&mut self.keys, &mut self.batch);
    }

    fn finish(mut self) -> Option<Delegations> {
        // The last keys go into the map while another thread checks the role names: the two
        // are the only work left, and each takes a core.
        let roles = &self.roles;
        let unique = std::thread::scope(|scope| {
            let names = scope.spawn(|| fast::names_unique(roles));
            fast::append_batch(&mut self.keys, &mut self.batch);
            names
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        });
        unique.then_some(())?;
        Some(Delegations {
            keys: self.keys,
            roles: DelegationRoles::List(self.roles),
            extra: Map::new(),
        })
    }
}

/// Read `bytes` as [`read`] reads a large file in pieces, in blocks of `block` bytes:
/// `None` if they are not the shape read in pieces (or not valid: the ordinary reader then
/// says why). For the `metadata` fuzz target and tests, which compare it with
/// [`AnyMetadata::from_bytes`].
pub fn read_bytes_in_pieces(bytes: &[u8], block: usize) -> Option<AnyMetadata> {
    match stream_targets(&mut &bytes[..], block.max(1), &mut |_| {}) {
        Ok(Streamed::Read(value, delegations)) => {
            AnyMetadata::from_value_read(value, Some(delegations)).ok()
        }
        _ => None,
    }
}

/// Files at least this long are read in pieces ([`read`]).
pub const STREAM_MIN: u64 = 16 << 20;

/// A metadata file as [`read`] read it.
#[derive(Debug)]
pub struct FileRead {
    /// The metadata read.
    pub meta: AnyMetadata,
    /// The file's length in bytes.
    pub len: u64,
    /// Lowercase hex digests of the file's bytes, by securesystemslib hash name, for each name
    /// asked for that conclave supports (`sha256`, `sha512`).
    pub digests: BTreeMap<String, String>,
    /// The file's bytes, when it was read whole (files under [`STREAM_MIN`], and larger ones
    /// of another shape); `None` when it was read in pieces.
    pub whole: Option<Vec<u8>>,
}

/// Why [`read`] read nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading the file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bytes are not valid metadata.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Read a metadata file of `len` bytes from `file`, hashing its bytes with the `hashes` named
/// on the way. Targets files of at least [`STREAM_MIN`] bytes in the usual shape are read in
/// pieces (see the module documentation); everything else is read whole, by the ordinary
/// reader, from the bytes `read_whole` returns (the file read again from its start: the caller
/// owns the file and knows how to read it fastest).
pub fn read(
    file: &mut dyn Read,
    len: u64,
    hashes: &[&str],
    read_whole: impl FnOnce() -> io::Result<Vec<u8>>,
) -> Result<FileRead, ReadError> {
    if len >= STREAM_MIN {
        let mut digests = Digests::new(hashes);
        let mut len = 0u64;
        let streamed = stream_targets(file, BLOCK, &mut |bytes| {
            len += bytes.len() as u64;
            digests.update(bytes);
        })?;
        if let Streamed::Read(value, delegations) = streamed
            && let Ok(meta) = AnyMetadata::from_value_read(value, Some(delegations))
        {
            return Ok(FileRead {
                meta,
                len,
                digests: digests.finish(),
                whole: None,
            });
        }
    }
    // Read again, whole: everything returned now comes from this reading alone.
    let bytes = read_whole()?;
    let meta = AnyMetadata::from_bytes(&bytes)?;
    let mut digests = Digests::new(hashes);
    digests.update(&bytes);
    Ok(FileRead {
        meta,
        len: bytes.len() as u64,
        digests: digests.finish(),
        whole: Some(bytes),
    })
}

/// The file digests [`read`] was asked for.
struct Digests(Vec<(String, Digest)>);

enum Digest {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digests {
    fn new(names: &[&str]) -> Self {
        let mut all = Vec::new();
        for &name in names {
            let d = match name {
                "sha256" => Digest::Sha256(Default::default()),
                "sha512" => Digest::Sha512(Default::default()),
                _ => continue,
            };
            if !all.iter().any(|(n, _)| n == name) {
                all.push((name.to_owned(), d));
            }
        }
        Digests(all)
    }

    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest as _;
        for (_, d) in &mut self.0 {
            match d {
                Digest::Sha256(h) => h.update(bytes),
                Digest::Sha512(h) => h.update(bytes),
            }
        }
    }

    fn finish(self) -> BTreeMap<String, String> {
        use sha2::Digest as _;
        self.0
            .into_iter()
            .map(|(name, d)| {
                let hex = match d {
                    Digest::Sha256(h) => hex::encode(h.finalize()),
                    Digest::Sha512(h) => hex::encode(h.finalize()),
                };
                (name, hex)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::SignedText;

    fn key(i: usize) -> String {
        format!(
            r#""{i:064x}":{{"keytype":"ed25519","keyval":{{"public":"{:064x}"}},"scheme":"ed25519"}}"#,
            i + 1000
        )
    }

    fn role(i: usize, path: &str) -> String {
        format!(
            r#"{{"keyids":["{i:064x}"],"name":"p{i}","paths":["{path}"],"terminating":true,"threshold":1}}"#
        )
    }

    fn doc(keys: &[String], roles: &[String]) -> String {
        format!(
            r#"{{"signatures":[{{"keyid":"{:064x}","sig":"ab"}}],"signed":{{"_type":"targets","delegations":{{"keys":{{{}}},"roles":[{}]}},"expires":"2030-01-01T00:00:00Z","spec_version":"1.0.31","targets":{{}},"version":3}}}}"#,
            7,
            keys.join(","),
            roles.join(",")
        )
    }

    fn usual(n: usize) -> String {
        let keys: Vec<String> = (0..n).map(key).collect();
        let roles: Vec<String> = (0..n).map(|i| role(i, &format!("p{i}/*"))).collect();
        doc(&keys, &roles)
    }

    /// Read `text` in pieces with blocks of many sizes: whenever that succeeds, the model must
    /// be the one the ordinary reader gives for the whole text. Returns how often it read in
    /// pieces (the rest were left to the ordinary reader).
    fn agree(text: &[u8]) -> usize {
        let whole = AnyMetadata::from_bytes(text);
        let mut streamed = 0;
        for block in [1, 2, 3, 7, 16, 61, 200, 4096, 1 << 20] {
            let mut seen = Vec::new();
            let got =
                stream_targets(&mut &text[..], block, &mut |b| seen.extend_from_slice(b)).unwrap();
            if let Streamed::Read(value, delegations) = got {
                assert_eq!(seen, text, "bytes seen (block {block})");
                let piecewise = AnyMetadata::from_value_read(value, Some(delegations));
                match (&piecewise, &whole) {
                    (Ok(a), Ok(b)) => assert_eq!(
                        a.to_file_bytes(),
                        b.to_file_bytes(),
                        "block {block}: {}",
                        String::from_utf8_lossy(text)
                    ),
                    // read reads again whole and reports the ordinary reader's error.
                    (Err(_), _) => {}
                    (Ok(_), Err(e)) => panic!(
                        "read in pieces, but the ordinary reader says {e}: {}",
                        String::from_utf8_lossy(text)
                    ),
                }
                streamed += 1;
            }
        }
        streamed
    }

    #[test]
    fn the_usual_shape_is_read_in_pieces_as_the_ordinary_reader_reads_it() {
        for n in [0, 1, 2, 40] {
            assert_eq!(agree(usual(n).as_bytes()), 9, "{n} projects");
        }
        // Keys without roles, roles without keys (a role naming an unknown keyid is allowed).
        assert_eq!(agree(doc(&[key(1)], &[]).as_bytes()), 9);
        assert_eq!(agree(doc(&[], &[role(1, "x")]).as_bytes()), 9);
    }

    #[test]
    fn attack_separator_text_inside_strings_reads_alike_or_goes_whole() {
        let tricky = [
            r#"a},{\"b"#,
            r#"a}]},\"expires\":\"b"#,
            r#"a\"},\"b"#,
            r#"\"},\"scheme\""#,
            r#"}},\"roles\":["#,
        ];
        for t in tricky {
            let keys: Vec<String> = (0..6).map(key).collect();
            let roles: Vec<String> = (0..6)
                .map(|i| role(i, if i == 3 { t } else { "x/*" }))
                .collect();
            agree(doc(&keys, &roles).as_bytes());
            // In a key's fields too.
            let mut keys = keys.clone();
            keys[2] = keys[2].replace(r#""scheme":"ed25519""#, &format!(r#""scheme":"{t}""#));
            agree(doc(&keys, &roles[..1]).as_bytes());
        }
        // The envelope's text imitating the start of the delegations inside a string.
        let fake = r#",\"signed\":{\"_type\":\"targets\",\"delegations\":{\"keys\":{"#;
        let text = usual(3).replacen(r#""sig":"ab""#, &format!(r#""sig":"{fake}""#), 1);
        agree(text.as_bytes());
    }

    #[test]
    fn attack_out_of_order_duplicate_or_broken_entries_are_left_to_the_ordinary_reader() {
        let keys: Vec<String> = (0..8).map(key).collect();
        let roles: Vec<String> = (0..8).map(|i| role(i, "x")).collect();
        let mut swapped = keys.clone();
        swapped.swap(2, 6);
        let mut dup_key = keys.clone();
        dup_key[5] = key(4);
        let mut dup_role = roles.clone();
        dup_role[7] = role(1, "y");
        let mut bad_role = roles.clone();
        bad_role[4] = bad_role[4].replace("\"threshold\":1", "\"threshold\":0");
        let mut extra = roles.clone();
        extra[5] = extra[5].replace("{\"keyids\"", "{\"custom\":1,\"keyids\"");
        for (what, text) in [
            ("keys out of order", doc(&swapped, &roles)),
            ("duplicate keyid", doc(&dup_key, &roles)),
            ("duplicate role name", doc(&keys, &dup_role)),
            ("threshold 0", doc(&keys, &bad_role)),
            ("unknown role field", doc(&keys, &extra)),
        ] {
            assert_eq!(agree(text.as_bytes()), 0, "{what} was read in pieces");
        }
        // Pretty-printed, or another role type: read whole.
        let pretty = AnyMetadata::from_bytes(usual(3).as_bytes())
            .unwrap()
            .to_file_bytes();
        assert_eq!(agree(&pretty), 0);
        assert_eq!(
            agree(usual(3).replace("targets\",", "root\",").as_bytes()),
            0
        );
    }

    #[test]
    fn attack_truncated_or_damaged_files_never_read_in_pieces() {
        let text = usual(5);
        for cut in (0..text.len()).step_by(7) {
            assert_eq!(agree(&text.as_bytes()[..cut]), 0, "cut at {cut}");
        }
        let mut bad = text.clone().into_bytes();
        let at = text.find("\"p3\"").unwrap() + 2;
        bad[at] = 0xff;
        assert_eq!(agree(&bad), 0, "invalid UTF-8");
    }

    #[test]
    fn a_large_file_is_read_in_pieces_with_its_digests_and_signed_bytes() {
        use sha2::Digest as _;
        let dir = tempfile_dir();
        let text = usual(50_000);
        assert!(text.len() as u64 >= STREAM_MIN, "{} bytes", text.len());
        let path = dir.join("claimed.json");
        std::fs::write(&path, &text).unwrap();
        let read = read_path(&path, &["sha512", "sha256", "md5"]);
        assert!(read.whole.is_none(), "not read in pieces");
        assert_eq!(read.len, text.len() as u64);
        assert_eq!(
            read.digests["sha256"],
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        );
        assert_eq!(
            read.digests["sha512"],
            hex::encode(sha2::Sha512::digest(text.as_bytes()))
        );
        assert!(!read.digests.contains_key("md5"));
        let whole = AnyMetadata::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(read.meta.to_file_bytes(), whole.to_file_bytes());
        let signed = SignedText::of_metadata(&read.meta);
        assert!(signed.held().is_none(), "signed bytes held whole");
        let mut count = 0;
        signed.feed(&mut |_| count += 1);
        assert!(count > 1, "the signed bytes came in one piece");
        assert_eq!(*signed.whole(), whole.signed_bytes()[..]);
        // The same file pretty-printed is read whole, with the same model.
        std::fs::write(
            &path,
            cjson::to_pretty(&cjson::parse(text.as_bytes()).unwrap()),
        )
        .unwrap();
        let read = read_path(&path, &[]);
        assert!(read.whole.is_some());
        assert_eq!(read.meta.to_file_bytes(), whole.to_file_bytes());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn read_path(path: &std::path::Path, hashes: &[&str]) -> FileRead {
        let mut file = std::fs::File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        read(&mut file, len, hashes, || std::fs::read(path)).unwrap()
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "conclave-streamed-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
