//! Batch claiming: moving projects into claimed, unclaiming them, revoking developer keys.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::cjson::{self, Map, Value};
use crate::display::escape;
use crate::metadata::{
    Common, DelegatedRole, DelegationRoles, Delegations, Expires, FormatError, Key, KeyId,
    RoleName, RolePaths, SignatureError, SmallStr, Targets, Threshold, ValueError,
};
use crate::pypi::layout::garbage_collect_keys;
use crate::pypi::{is_valid_project_name, normalize, project_paths};

/// One line of a claim request file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRequest {
    /// The line's number in the request file (1-based).
    pub line: usize,
    /// As written in the request.
    pub original: String,
    /// PEP 503-normalised: the role name and path prefix.
    pub project: String,
    /// The project's developer keys (PEP 480): once claimed, only they can sign its files.
    pub keys: Vec<Key>,
    /// How many developer keys must sign, between 1 and the number of keys.
    pub threshold: Threshold,
}

// A slice of requests can be claimed as well as an owned stream of them.
impl From<&ClaimRequest> for ClaimRequest {
    fn from(r: &ClaimRequest) -> Self {
        r.clone()
    }
}

/// A bad request line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// The line's number (1-based; 0 when the file could not be read at all).
    pub line: usize,
    /// What is wrong with it.
    pub problem: RequestProblem,
}

/// What is wrong with one request line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestProblem {
    /// The line is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The line is not JSON.
    #[error("not valid JSON: {0}")]
    Json(cjson::ParseErrorKind),
    /// The line is JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// The object has a field besides project, keys and threshold (the field's name).
    #[error("unknown field \"{}\" (a request has project, keys and threshold)", escape(.0))]
    UnknownField(String),
    /// `project` is absent or not a string.
    #[error("\"project\" must be a string")]
    ProjectNotString,
    /// `project` is not a valid project name (PEP 508), so it could not name a role or a
    /// path prefix.
    #[error(
        "\"{}\" is not a valid project name (ASCII letters, digits, - _ . ; starting and ending with a letter or digit)",
        escape(.0)
    )]
    BadProjectName(String),
    /// `keys` is absent or not an array.
    #[error("\"keys\" must be an array of TUF key objects")]
    KeysNotArray,
    /// `keys` is empty.
    #[error("\"keys\" is empty: a claimed project needs at least one developer key")]
    NoKeys,
    /// A key is not a valid TUF key object.
    #[error("keys[{index}] is malformed: {reason}")]
    MalformedKey {
        /// The key's index in `keys`.
        index: usize,
        /// What is wrong with it.
        reason: FormatError,
    },
    /// A key's `keyval.public` does not decode for its scheme.
    #[error("keys[{index}] is malformed: {reason}")]
    BadKeyValue {
        /// The key's index in `keys`.
        index: usize,
        /// Why its value is unusable.
        reason: SignatureError,
    },
    /// A key whose keytype and scheme conclave cannot verify signatures with.
    #[error(
        "keys[{index}] has keytype \"{}\" and scheme \"{}\", which are not supported",
        escape(.keytype),
        escape(.scheme)
    )]
    UnsupportedKey {
        /// The key's index in `keys`.
        index: usize,
        /// Its keytype.
        keytype: String,
        /// Its scheme.
        scheme: String,
    },
    /// A key is an earlier key of the same request, perhaps spelled another way (which a
    /// client would count twice).
    #[error("keys[{index}] repeats an earlier key")]
    RepeatedKey {
        /// The repeated key's index in `keys`.
        index: usize,
    },
    /// `threshold` is 0 or negative (the value given), which unsigned files would meet.
    #[error("threshold {0} is below 1")]
    ThresholdBelowOne(i64),
    /// `threshold` is above the number of keys, so the project could never sign.
    #[error("threshold {threshold} is above the number of keys ({keys}): it could never be met")]
    ThresholdAboveKeys {
        /// The threshold given.
        threshold: i64,
        /// How many keys the request has.
        keys: usize,
    },
    /// `threshold` is absent or not an integer.
    #[error("\"threshold\" must be an integer")]
    ThresholdNotInteger,
    /// The same project, spelt the same, is requested on an earlier line.
    #[error("project \"{}\" is also requested on line {first}", escape(.project))]
    Repeated {
        /// The project, as written.
        project: String,
        /// The earlier line.
        first: usize,
    },
    /// Two spellings on different lines normalise to the same project (PEP 503), so they
    /// would claim one role twice.
    #[error(
        "\"{}\" and \"{}\" (line {first}) normalise alike to \"{normalized}\"",
        escape(.name),
        escape(.first_name)
    )]
    NormaliseAlike {
        /// The name on this line.
        name: String,
        /// The name on the earlier line.
        first_name: String,
        /// The earlier line.
        first: usize,
        /// The name both normalise to.
        normalized: String,
    },
    /// Reading the request file failed ([`parse_requests`] reads from memory, so never).
    #[error("{0}")]
    Read(String),
}

/// Ed25519 public keys (their 32 bytes) already found to be valid points: checking one
/// decompresses a curve point, and a developer's key comes back on many lines. Whether 32
/// bytes are a valid key depends on nothing else, so remembering it is exact.
type CheckedKeys = std::collections::HashSet<[u8; 32]>;

/// Check `key`'s value, remembering plain Ed25519 keys found valid in `checked`.
fn check_key_value(
    key: &Key,
    checked: &mut CheckedKeys,
) -> Result<(), crate::metadata::SignatureError> {
    let raw = match key.algorithm() {
        Some(crate::metadata::KeyAlgorithm::Ed25519) => key.public_hex32(),
        _ => None,
    };
    if let Some(raw) = raw
        && checked.contains(raw)
    {
        return Ok(());
    }
    key.identity()?;
    if let Some(raw) = raw {
        checked.insert(*raw);
    }
    Ok(())
}

/// A request in the shape nearly every line of a large request file has, one Ed25519 key and
/// threshold 1, spelled in one of two ways: as conclave's documentation and the benchmark
/// write it, or in canonical JSON (fields sorted):
///
/// `{"project":"NAME","keys":[{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"HEX"}}],"threshold":1}`
/// `{"keys":[{"keytype":"ed25519","keyval":{"public":"HEX"},"scheme":"ed25519"}],"project":"NAME","threshold":1}`
///
/// read without building a JSON tree (a million such lines were a third of `pypi claim`'s time
/// in allocations). NAME must be a valid project name (so it holds no escapes) and HEX 64
/// lowercase hex digits of a valid key. Anything else, a valid line spelled another way
/// included, is left to the general reading ([`general_line`]: `None` here), which gives the
/// same request for these shapes (a test checks it) and reports every problem.
fn simple_line(line: usize, text: &str, checked: &mut CheckedKeys) -> Option<ClaimRequest> {
    const KEY: &str = r#"","keys":[{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":""#;
    const END: &str = r#""}}],"threshold":1}"#;
    const C_KEY: &str = r#"{"keys":[{"keytype":"ed25519","keyval":{"public":""#;
    const C_NAME: &str = r#""},"scheme":"ed25519"}],"project":""#;
    const C_END: &str = r#"","threshold":1}"#;
    let (name, hex) = if let Some(rest) = text.strip_prefix(r#"{"project":""#) {
        let (name, rest) = rest.split_at(rest.find('"')?);
        let (hex, rest) = rest.strip_prefix(KEY)?.split_at_checked(64)?;
        (rest == END).then_some((name, hex))?
    } else {
        let (hex, rest) = text.strip_prefix(C_KEY)?.split_at_checked(64)?;
        let rest = rest.strip_prefix(C_NAME)?;
        let (name, rest) = rest.split_at(rest.find('"')?);
        (rest == C_END).then_some((name, hex))?
    };
    if !is_valid_project_name(name) || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let mut raw = [0u8; 32];
    hex::decode_to_slice(hex, &mut raw).ok()?;
    let key = Key::ed25519(&raw);
    check_key_value(&key, checked).ok()?;
    Some(ClaimRequest {
        line,
        original: name.to_owned(),
        project: normalize(name),
        keys: vec![key],
        threshold: Threshold::new(1).ok()?,
    })
}

fn parse_line(
    line: usize,
    text: &str,
    checked: &mut CheckedKeys,
) -> Result<ClaimRequest, RequestProblem> {
    match simple_line(line, text, checked) {
        Some(request) => Ok(request),
        None => general_line(line, text, checked),
    }
}

/// Any request line, read as JSON: the one reading that reports what is wrong.
fn general_line(
    line: usize,
    text: &str,
    checked: &mut CheckedKeys,
) -> Result<ClaimRequest, RequestProblem> {
    use RequestProblem as P;
    let v = cjson::parse(text.as_bytes()).map_err(|e| P::Json(e.kind))?;
    let Value::Object(m) = v else {
        return Err(P::NotObject);
    };
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "project" | "keys" | "threshold"))
    {
        return Err(P::UnknownField(k.clone()));
    }
    let original = m
        .get("project")
        .and_then(Value::as_str)
        .ok_or(P::ProjectNotString)?;
    if !is_valid_project_name(original) {
        return Err(P::BadProjectName(original.to_owned()));
    }
    let Some(Value::Array(raw_keys)) = m.get("keys") else {
        return Err(P::KeysNotArray);
    };
    if raw_keys.is_empty() {
        return Err(P::NoKeys);
    }
    let mut keys: Vec<Key> = Vec::new();
    for (index, k) in raw_keys.iter().enumerate() {
        let key = Key::from_json(k.clone()).map_err(|reason| P::MalformedKey { index, reason })?;
        if key.algorithm().is_none() {
            return Err(P::UnsupportedKey {
                index,
                keytype: key.keytype.to_string(),
                scheme: key.scheme.to_string(),
            });
        }
        if let Err(reason) = check_key_value(&key, checked) {
            return Err(P::BadKeyValue { index, reason });
        }
        // By material: the same key spelled two ways would count twice in a client. (Most
        // requests carry one key: nothing to compare it with.)
        if !keys.is_empty() {
            let material = key.material();
            if keys.iter().any(|o| o.material() == material) {
                return Err(P::RepeatedKey { index });
            }
        }
        keys.push(key);
    }
    let threshold = match m.get("threshold") {
        Some(Value::Int(t)) if *t >= 1 && (*t as usize) <= keys.len() => {
            Threshold::new(*t as u32).expect("checked")
        }
        Some(Value::Int(t)) if *t < 1 => return Err(P::ThresholdBelowOne(*t)),
        Some(Value::Int(t)) => {
            return Err(P::ThresholdAboveKeys {
                threshold: *t,
                keys: keys.len(),
            });
        }
        _ => return Err(P::ThresholdNotInteger),
    };
    Ok(ClaimRequest {
        line,
        original: original.to_owned(),
        project: normalize(original),
        keys,
        threshold,
    })
}

/// Parse a JSON Lines request file. Every bad line is reported, with its number; blank lines
/// are ignored.
pub fn parse_requests(text: &str) -> Result<Vec<ClaimRequest>, Vec<LineError>> {
    let mut stream = RequestStream::new(text.as_bytes());
    let requests: Vec<ClaimRequest> = stream.by_ref().collect();
    match stream.finish() {
        Ok(()) => Ok(requests),
        Err(RequestsError::Lines(errors)) => Err(errors),
        // Reading from memory cannot fail.
        Err(RequestsError::Io(e)) => Err(vec![LineError {
            line: 0,
            problem: RequestProblem::Read(e.to_string()),
        }]),
    }
}

/// Lines read and parsed at a time by [`RequestStream`].
const BATCH: usize = if cfg!(test) { 3 } else { 1 << 16 };

/// Why a request file was refused ([`RequestStream::finish`]).
#[derive(Debug)]
pub enum RequestsError {
    /// Every bad line, in order, with its number.
    Lines(Vec<LineError>),
    /// Reading the source failed; the requests read before are not enough to go on with.
    Io(std::io::Error),
}

/// The requests of a JSON Lines source, read and parsed a batch of lines at a time (each batch
/// split between the machine's cores: checking a developer key decompresses a curve point,
/// tens of microseconds), so that a million requests need not be held beside the role they
/// become: [`claim`] takes them one at a time. Bad lines (malformed key, threshold 0 or
/// above the key count, a duplicate project, two names that normalise alike, not UTF-8) are
/// skipped and kept for [`RequestStream::finish`], which the caller must check before it
/// writes anything.
pub struct RequestStream<R> {
    /// Read here, a batch at a time, or `None` when batches are read ahead on another thread.
    src: Option<R>,
    /// The batches read ahead ([`RequestStream::read_ahead`]).
    ahead: Option<std::sync::mpsc::Receiver<ReadBatch>>,
    /// The number of the last line read.
    line: usize,
    batch: std::vec::IntoIter<ClaimRequest>,
    /// Every project requested so far: the line it was first requested on, and its name as
    /// written.
    seen: Seen,
    errors: Vec<LineError>,
    io_error: Option<std::io::Error>,
    done: bool,
    accepted: usize,
}

impl<R: std::io::BufRead> RequestStream<R> {
    /// A stream over the JSON Lines in `src`; nothing is read until the first request is
    /// asked for.
    pub fn new(src: R) -> Self {
        let mut stream = RequestStream::new_unread();
        stream.src = Some(src);
        stream
    }

    /// How many requests were handed on.
    pub fn accepted(&self) -> usize {
        self.accepted
    }

    /// Read the rest, then say whether every line was good.
    pub fn finish(mut self) -> Result<(), RequestsError> {
        for _ in self.by_ref() {}
        if let Some(e) = self.io_error {
            return Err(RequestsError::Io(e));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(RequestsError::Lines(self.errors))
        }
    }

    /// Read and parse the next batch of lines (or take the one read ahead).
    fn next_batch(&mut self) {
        let read = match (&mut self.src, &self.ahead) {
            (Some(src), _) => read_batch(src, &mut self.line),
            (None, Some(ahead)) => ahead.recv().unwrap_or_else(|_| ReadBatch {
                parsed: Vec::new(),
                // The reading thread ended without saying the source ended: nothing read so
                // far may be taken as the whole file.
                end: Some(Some(std::io::Error::other(
                    "reading the requests stopped before the end of the file",
                ))),
            }),
            (None, None) => ReadBatch {
                parsed: Vec::new(),
                end: Some(None),
            },
        };
        if let Some(end) = read.end {
            self.done = true;
            self.io_error = end;
        }
        let parsed = read.parsed;
        let mut out = Vec::with_capacity(parsed.len());
        for (line, parsed) in parsed {
            match parsed {
                Err(problem) => self.errors.push(LineError { line, problem }),
                Ok(req) => {
                    if let Some((first, name)) = self.seen.get(&req.project) {
                        let problem = if name == req.original {
                            RequestProblem::Repeated {
                                project: name.to_owned(),
                                first,
                            }
                        } else {
                            RequestProblem::NormaliseAlike {
                                name: req.original,
                                first_name: name.to_owned(),
                                first,
                                normalized: req.project,
                            }
                        };
                        self.errors.push(LineError { line, problem });
                    } else {
                        self.seen.insert(&req.project, &req.original, line);
                        out.push(req);
                    }
                }
            }
        }
        self.batch = out.into_iter();
    }
}

impl<R: std::io::BufRead + Send + 'static> RequestStream<R> {
    /// [`RequestStream::new`], with each next batch of lines read and checked on other
    /// threads while the caller takes the one before (a million requests: the reading, the
    /// key checks and building claimed from them overlap). Reading starts at once. One batch
    /// at most waits beside the one being taken (each is about 20 MB of requests).
    pub fn read_ahead(mut src: R) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        std::thread::spawn(move || {
            let mut line = 0;
            loop {
                let batch = read_batch(&mut src, &mut line);
                let end = batch.end.is_some();
                // A stream dropped early takes no more.
                if tx.send(batch).is_err() || end {
                    return;
                }
            }
        });
        let mut stream = RequestStream::new_unread();
        stream.ahead = Some(rx);
        stream
    }
}

impl<R> RequestStream<R> {
    fn new_unread() -> Self {
        RequestStream {
            src: None,
            ahead: None,
            line: 0,
            batch: Vec::new().into_iter(),
            seen: Seen::default(),
            errors: Vec::new(),
            io_error: None,
            done: false,
            accepted: 0,
        }
    }
}

/// A batch of request lines read and parsed: each line's number and what it held, and, once
/// the source has ended, how (`Some(None)`: at its end; `Some(Some(e))`: reading failed).
struct ReadBatch {
    parsed: Vec<(usize, Result<ClaimRequest, RequestProblem>)>,
    end: Option<Option<std::io::Error>>,
}

/// Read up to [`BATCH`] lines from `src` (after line `line`, which it advances) and parse
/// them, split between the machine's cores.
fn read_batch<R: std::io::BufRead>(src: &mut R, line: &mut usize) -> ReadBatch {
    let mut lines: Vec<(usize, Result<String, ()>)> = Vec::new();
    let mut raw = Vec::new();
    let mut end = None;
    while lines.len() < BATCH {
        raw.clear();
        match src.read_until(b'\n', &mut raw) {
            Ok(0) => {
                end = Some(None);
                break;
            }
            Ok(_) => {}
            Err(e) => {
                end = Some(Some(e));
                break;
            }
        }
        *line += 1;
        // As str::lines: the line ends at "\n" or "\r\n".
        let mut text: &[u8] = raw.strip_suffix(b"\n").unwrap_or(&raw);
        text = text.strip_suffix(b"\r").unwrap_or(text);
        match std::str::from_utf8(text) {
            Ok(t) if t.trim().is_empty() => {}
            Ok(t) => lines.push((*line, Ok(t.to_owned()))),
            Err(_) => lines.push((*line, Err(()))),
        }
    }
    let parse =
        |part: &[(usize, Result<String, ()>)]| -> Vec<(usize, Result<ClaimRequest, RequestProblem>)> {
            let mut checked = CheckedKeys::new();
            part.iter()
                .map(|(line, text)| {
                    let parsed = match text {
                        Ok(t) => parse_line(*line, t, &mut checked),
                        Err(()) => Err(RequestProblem::NotUtf8),
                    };
                    (*line, parsed)
                })
                .collect()
        };
    // A lost part (a panic) is parsed again here: the lines are all reported either way.
    let parsed = crate::par::map_parts(&lines, 10_000, parse, parse);
    ReadBatch { parsed, end }
}

/// The projects requested so far, for finding a project requested twice. A million of them
/// held as a map of owned names took about 180 MB and 0.4 s to free; here their names lie
/// one after another in one string, found through a hash of the normalised name under this
/// process's random key (so no requests file can be written to collide on purpose).
#[derive(Default)]
struct Seen {
    /// Each project's normalised name, followed by its name as written where that differs.
    text: String,
    entries: Vec<SeenEntry>,
    /// The hash of a normalised name, and the entry that has it.
    by_hash: HashMap<u64, usize>,
    /// Entries whose name's hash an earlier, different name already had (once in a great
    /// while with 64-bit hashes), by name.
    collided: HashMap<String, usize>,
    key: std::collections::hash_map::RandomState,
}

/// One project in [`Seen::text`]: the normalised name is `text[start..name_end]`, the name as
/// written `text[name_end..written_end]`, or the normalised name when that is empty.
struct SeenEntry {
    line: usize,
    start: usize,
    name_end: usize,
    written_end: usize,
}

impl Seen {
    /// The line `project` (normalised) was first requested on, and its name as written there.
    fn get(&self, project: &str) -> Option<(usize, &str)> {
        let hash = std::hash::BuildHasher::hash_one(&self.key, project);
        let at = match self.by_hash.get(&hash) {
            Some(&i) if self.name(i) == project => Some(i),
            Some(_) => self.collided.get(project).copied(),
            None => None,
        }?;
        let e = &self.entries[at];
        let written = if e.written_end > e.name_end {
            &self.text[e.name_end..e.written_end]
        } else {
            self.name(at)
        };
        Some((e.line, written))
    }

    /// Remember `project` (normalised), written `written`, first requested on `line`.
    fn insert(&mut self, project: &str, written: &str, line: usize) {
        let at = self.entries.len();
        let start = self.text.len();
        self.text.push_str(project);
        let name_end = self.text.len();
        if written != project {
            self.text.push_str(written);
        }
        self.entries.push(SeenEntry {
            line,
            start,
            name_end,
            written_end: self.text.len(),
        });
        let hash = std::hash::BuildHasher::hash_one(&self.key, project);
        if let std::collections::hash_map::Entry::Vacant(v) = self.by_hash.entry(hash) {
            v.insert(at);
        } else {
            self.collided.insert(project.to_owned(), at);
        }
    }

    fn name(&self, at: usize) -> &str {
        let e = &self.entries[at];
        &self.text[e.start..e.name_end]
    }
}

impl<R: std::io::BufRead> Iterator for RequestStream<R> {
    type Item = ClaimRequest;

    fn next(&mut self) -> Option<ClaimRequest> {
        loop {
            if let Some(req) = self.batch.next() {
                self.accepted += 1;
                return Some(req);
            }
            if self.done {
                return None;
            }
            self.next_batch();
        }
    }
}

/// What a change to claimed does, for the admins to review before they sign.
#[derive(Clone, Debug, Default)]
pub struct ClaimReview {
    /// Projects newly claimed.
    pub added: Vec<String>,
    /// Projects whose delegation changes, each with what changed.
    pub changed: Vec<String>,
    /// Projects no longer in claimed, each with why.
    pub removed: Vec<String>,
    /// Developer keys the delegations' key list gains.
    pub keys_added: usize,
    /// Developer keys it loses (no project trusts them any more).
    pub keys_removed: usize,
    /// Projects in claimed (or in the changed bins) that stay as they were.
    pub unchanged: usize,
    /// Claimed in bins: how many bins change, of how many.
    pub bins: Option<(usize, usize)>,
}

impl ClaimReview {
    /// Add another bin's review to this one.
    pub(crate) fn absorb(&mut self, other: ClaimReview) {
        self.added.extend(other.added);
        self.changed.extend(other.changed);
        self.removed.extend(other.removed);
        self.keys_added += other.keys_added;
        self.keys_removed += other.keys_removed;
        self.unchanged += other.unchanged;
    }

    /// The review as lines for the admins: a count line, then at most `limit` projects of
    /// each kind (`+` added, `~` changed, `-` removed).
    pub fn lines(&self, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.each_line(limit, &mut |l| out.push(l.to_owned()));
        out
    }

    /// [`ClaimReview::lines`], each handed to `line` as it is made (a bootstrap's review is a
    /// million lines, which need not be held as a million strings).
    pub fn each_line(&self, limit: usize, line: &mut dyn FnMut(&str)) {
        use std::fmt::Write as _;
        line(&format!(
            "projects: {} added, {} changed, {} removed, {} unchanged; developer keys: {} added, {} removed",
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            self.unchanged,
            self.keys_added,
            self.keys_removed
        ));
        let mut buf = String::new();
        let mut list = |sign: &str, items: &[String]| {
            for p in items.iter().take(limit) {
                buf.clear();
                let _ = write!(buf, "{sign} {p}");
                line(&buf);
            }
            if items.len() > limit {
                line(&format!("{sign} ... and {} more", items.len() - limit));
            }
        };
        list("+", &self.added);
        list("~", &self.changed);
        list("-", &self.removed);
        if let Some((changed, total)) = self.bins {
            line(&format!(
                "claimed bins: {changed} of {total} change (only those are drafted; \"unchanged\" counts the projects in them)"
            ));
        }
    }
}

/// Why a change to claimed (or to claimed's bins) could not be drafted.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Claimed's delegations would list keys conclave never writes: a key under a keyid that
    /// is not its own, one key under two keyids, private material
    /// ([`crate::metadata::keyset::audit`]).
    #[error("claimed's keys: {0}")]
    Keys(crate::metadata::keyset::KeyProblems),
    /// A claimed version 1 is drafted without an expiry.
    #[error(
        "a new claimed role needs an expiry (PEP 458's historical text suggests 3 to 6 months)"
    )]
    NeedsExpiry,
    /// Claimed delegates to hash bins, and was given where its projects were expected.
    #[error("this claimed metadata delegates to hash bins, not to projects")]
    DelegatesToBins,
    /// A requested project's normalised name is not a valid role name.
    #[error("line {line}: {reason}")]
    RoleName {
        /// The request's line.
        line: usize,
        /// Why the name cannot be a role name.
        reason: ValueError,
    },
    /// The project to unclaim is not delegated by claimed (its normalised name).
    #[error("project \"{}\" is not in claimed", escape(.0))]
    NotClaimed(String),
    /// No project in claimed lists the developer key to revoke.
    #[error("no project in claimed trusts key {0}")]
    KeyNotTrusted(KeyId),
    /// No project in any of claimed's bins lists the developer key to revoke.
    #[error("no project in claimed's bins trusts key {0}")]
    KeyNotTrustedInBins(KeyId),
    /// No key listed in claimed (or its bins) has a keyid that is or starts with the text
    /// given (lower-cased).
    #[error(
        "no project in claimed{} trusts a key whose keyid starts with {given}",
        if *.in_bins { "'s bins" } else { "" }
    )]
    UnknownDeveloperKey {
        /// The keyid or prefix given.
        given: String,
        /// Whether claimed is in bins.
        in_bins: bool,
    },
    /// The keyid given is malformed or names several keys.
    #[error(transparent)]
    KeyId(#[from] crate::metadata::KeyIdLookupError),
    /// No bin's hash prefixes match the project's hash, so a client could never find its
    /// delegation (the project's normalised name).
    #[error("no claimed bin covers project \"{0}\": the bins' hash prefixes leave a gap")]
    BinGap(String),
    /// The caller's loader could not hand over a bin's current metadata.
    #[error("cannot read claimed bin {bin}")]
    LoadBin {
        /// The bin's role name.
        bin: String,
        /// Why the loader failed.
        #[source]
        source: BinLoadError,
    },
    /// A change to one of claimed's bins failed.
    #[error("bin {bin}: {reason}")]
    InBin {
        /// The bin's role name.
        bin: String,
        /// What failed in it.
        reason: Box<ClaimError>,
    },
    /// Claimed (or a bin) is at the largest version there is.
    #[error(transparent)]
    Version(#[from] ValueError),
}

/// Why the caller could not hand over a bin's metadata.
pub type BinLoadError = Box<dyn std::error::Error + Send + Sync>;

/// Version 1 of a targets role with no targets (claimed, or one of its bins).
pub(crate) fn empty_targets(expires: Expires, delegations: Option<Delegations>) -> Targets {
    Targets {
        common: Common::first(expires),
        targets: BTreeMap::new(),
        delegations,
        extra: Map::new(),
    }
}

/// The next version of `current` (or version 1), with a fresh expiry.
fn next_version(
    current: Option<Cow<'_, Targets>>,
    expires: Option<Expires>,
) -> Result<Targets, ClaimError> {
    match current {
        Some(c) => {
            // Changed in place when it is ours: a million-project role is not held twice.
            let mut next = c.into_owned();
            next.common.version = next.common.version.next()?;
            if let Some(e) = expires {
                next.common.expires = e;
            }
            Ok(next)
        }
        None => Ok(empty_targets(expires.ok_or(ClaimError::NeedsExpiry)?, None)),
    }
}

fn project_roles(t: &mut Targets) -> Result<&mut Delegations, ClaimError> {
    let d = t.delegations.get_or_insert_with(|| Delegations {
        keys: BTreeMap::new(),
        roles: DelegationRoles::List(Vec::new()),
        extra: Map::new(),
    });
    if matches!(d.roles, DelegationRoles::Succinct(_)) || super::layout::is_hub(d) {
        return Err(ClaimError::DelegatesToBins);
    }
    Ok(d)
}

fn roles_mut(d: &mut Delegations) -> &mut Vec<DelegatedRole> {
    match &mut d.roles {
        DelegationRoles::List(r) => r,
        DelegationRoles::Succinct(_) => unreachable!("checked by project_roles"),
    }
}

/// The first 8 bytes of a SHA-256 keyid (0 for another keyid), to find it again quickly.
fn keyid_prefix(id: &KeyId) -> u64 {
    id.sha256_bytes().map_or(0, |b| {
        b.iter().take(8).fold(0, |a, &x| a << 8 | u64::from(x))
    })
}

fn key_set(r: &DelegatedRole) -> BTreeSet<&KeyId> {
    r.keyids.iter().collect()
}

/// Move the requested projects into claimed, as one new version. Each project is delegated,
/// terminating, to its developers' keys for its own paths; a project already claimed gets
/// the requested keys and threshold instead of its old ones.
///
/// The requests are taken by value, one at a time: a million requests need not be held in
/// memory beside the role they become, and their keys are moved, not copied.
pub fn claim<R: Into<ClaimRequest>>(
    current: Option<&Targets>,
    requests: impl IntoIterator<Item = R>,
    expires: Option<Expires>,
) -> Result<(Targets, ClaimReview), ClaimError> {
    let requests = requests.into_iter().map(Into::into);
    claim_with_paths(current.map(Cow::Borrowed), requests, expires, project_paths)
}

/// [`claim`], with the paths each project is delegated given by `paths` (claimed bins
/// delegate a project only the target path that hashes to its bin).
pub(crate) fn claim_with_paths(
    current: Option<Cow<'_, Targets>>,
    requests: impl IntoIterator<Item = ClaimRequest>,
    expires: Option<Expires>,
    paths: fn(&str) -> Vec<SmallStr>,
) -> Result<(Targets, ClaimReview), ClaimError> {
    let had_current = current.is_some();
    // The keyids before the change (sorted, as the map keeps them), for the review's count.
    let before: Option<Vec<KeyId>> = current.as_ref().map(|c| {
        c.delegations
            .as_ref()
            .map(|d| d.keys.keys().cloned().collect())
            .unwrap_or_default()
    });
    let mut next = next_version(current, expires)?;
    let mut review = ClaimReview::default();
    let d = project_roles(&mut next)?;
    // The roles already claimed, as indices sorted by name: a million names are looked up
    // without a second copy of them.
    let index: Vec<usize> = {
        let roles = roles_mut(d);
        let mut index: Vec<usize> = (0..roles.len()).collect();
        // Byte order is code-point order in UTF-8; comparing bytes skips checking them.
        index.sort_unstable_by(|&a, &b| roles[a].name.as_bytes().cmp(roles[b].name.as_bytes()));
        index
    };
    let (mut touched, mut replaced) = (0, 0);
    // Keys not yet in claimed, merged in at the end: a million inserts at random places in a
    // map of a million keys cost far more than one sort. Each is kept once (a thousand
    // developer keys over a million requests are a thousand entries, not a million): `seen`
    // maps the first 8 bytes of a new keyid to where it is in `new_keys`; a key whose prefix
    // is seen under another keyid is kept too, and the sort's dedup removes any repeat.
    let mut new_keys: Vec<(KeyId, Key)> = Vec::new();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for req in requests {
        let name = RoleName::delegated(&req.project).map_err(|reason| ClaimError::RoleName {
            line: req.line,
            reason,
        })?;
        let mut keyids = Vec::with_capacity(req.keys.len());
        for k in req.keys {
            let id = k.keyid();
            if !d.keys.contains_key(&id) {
                let prefix = keyid_prefix(&id);
                match seen.get(&prefix) {
                    Some(&at) if new_keys[at].0 == id => {}
                    _ => {
                        seen.entry(prefix).or_insert(new_keys.len());
                        new_keys.push((id.clone(), k));
                    }
                }
            }
            keyids.push(id);
        }
        let role = DelegatedRole {
            name,
            keyids,
            threshold: req.threshold,
            terminating: Some(true),
            paths: RolePaths::Patterns(paths(&req.project)),
            extra: Map::new(),
        };
        let found = {
            let roles = roles_mut(d);
            index
                .binary_search_by(|&i| roles[i].name.as_bytes().cmp(req.project.as_bytes()))
                .ok()
                .map(|at| index[at])
        };
        match found {
            Some(i) => {
                let roles = roles_mut(d);
                let old = &roles[i];
                if key_set(old) == key_set(&role)
                    && old.threshold == role.threshold
                    && old.paths == role.paths
                    && old.terminating == role.terminating
                {
                    continue;
                }
                let added = role
                    .keyids
                    .iter()
                    .filter(|k| !old.keyids.contains(k))
                    .count();
                let removed = old
                    .keyids
                    .iter()
                    .filter(|k| !role.keyids.contains(k))
                    .count();
                review.changed.push(format!(
                    "{}: {added} key(s) added, {removed} removed, threshold {} -> {}",
                    req.project, old.threshold, role.threshold
                ));
                // Keep unknown fields the old entry had.
                let extra = old.extra.clone();
                roles[i] = DelegatedRole { extra, ..role };
                touched += 1;
                replaced += 1;
            }
            None => {
                review.added.push(req.project);
                roles_mut(d).push(role);
                touched += 1;
            }
        }
    }
    if !new_keys.is_empty() {
        sort_by_keyid(&mut new_keys);
        new_keys.dedup_by(|a, b| a.0 == b.0);
        let old = std::mem::take(&mut d.keys);
        d.keys = if old.is_empty() {
            // Collecting a vector reuses its buffer (the map checks it is sorted in one pass).
            new_keys.into_iter().collect()
        } else {
            merge_sorted(old.into_iter(), new_keys.into_iter()).collect()
        };
    }
    // A first claim only adds keys its projects use; anything else may leave keys unused.
    if had_current || replaced > 0 {
        garbage_collect_keys(d);
    }
    (review.keys_added, review.keys_removed) = key_changes(before.as_deref(), &d.keys);
    review.unchanged = roles_mut(d).len() - touched;
    crate::metadata::keyset::check(&d.keys).map_err(ClaimError::Keys)?;
    Ok((next, review))
}

/// Sort (keyid, key) pairs by keyid. The pairs are large, so a small (prefix, index) table is
/// sorted and the pairs are then moved into their places in the same vector, one cycle of the
/// permutation at a time (no second vector of a million pairs).
fn sort_by_keyid(pairs: &mut [(KeyId, Key)]) {
    // The first eight bytes of the keyid's text, as one number: sorting a million SHA-256
    // keyids is mostly decided there.
    let head = |id: &KeyId| {
        let mut h = [0u8; 8];
        match id.sha256_bytes() {
            Some(raw) => hex::encode_to_slice(&raw[..4], &mut h).expect("8 digits for 4 bytes"),
            None => {
                let text = id.as_str();
                let n = text.len().min(8);
                h[..n].copy_from_slice(&text.as_bytes()[..n]);
            }
        }
        u64::from_be_bytes(h)
    };
    let mut order: Vec<(u64, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (head(id), i))
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| pairs[a.1].0.cmp(&pairs[b.1].0)));
    // source[j]: where the pair that belongs at j is now. Following a cycle, each swap puts
    // one pair in its place; a finished position is marked by source[j] == j.
    let mut source: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    for start in 0..source.len() {
        let mut j = start;
        while source[j] != start {
            let k = source[j];
            pairs.swap(j, k);
            source[j] = j;
            j = k;
        }
        source[j] = j;
    }
}

/// Two iterators sorted by keyid, with no keyid in both, merged in order.
fn merge_sorted(
    a: impl Iterator<Item = (KeyId, Key)>,
    b: impl Iterator<Item = (KeyId, Key)>,
) -> impl Iterator<Item = (KeyId, Key)> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x.0 < y.0 => a.next(),
        (Some(_), Some(_)) => b.next(),
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

/// How many keyids are in `after` but not `before`, and the other way round: one walk over
/// two sorted maps, without copying a million keyids into sets.
fn key_changes(before: Option<&[KeyId]>, after: &BTreeMap<KeyId, Key>) -> (usize, usize) {
    let Some(before) = before else {
        return (after.len(), 0);
    };
    let (mut a, mut b) = (after.keys().peekable(), before.iter().peekable());
    let (mut added, mut removed) = (0, 0);
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => return (added, removed),
            (Some(_), None) => {
                added += 1;
                a.next();
            }
            (None, Some(_)) => {
                removed += 1;
                b.next();
            }
            (Some(x), Some(y)) => match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    added += 1;
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    removed += 1;
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    a.next();
                    b.next();
                }
            },
        }
    }
}

/// Remove a project from claimed: its files fall back to recently-claimed / unclaimed.
pub fn unclaim(
    current: &Targets,
    project: &str,
    expires: Option<Expires>,
) -> Result<(Targets, ClaimReview), ClaimError> {
    let name = normalize(project);
    let mut next = next_version(Some(Cow::Borrowed(current)), expires)?;
    let d = project_roles(&mut next)?;
    let before = d.keys.len();
    let roles = roles_mut(d);
    let n = roles.len();
    roles.retain(|r| r.name.as_str() != name);
    if roles.len() == n {
        return Err(ClaimError::NotClaimed(name));
    }
    let remaining = roles.len();
    garbage_collect_keys(d);
    let review = ClaimReview {
        removed: vec![name],
        keys_removed: before - d.keys.len(),
        unchanged: remaining,
        ..ClaimReview::default()
    };
    Ok((next, review))
}

/// The developer key `given` names among `listed` ([`crate::metadata::resolve_keyid`]).
pub(crate) fn resolve_developer_key(
    given: &str,
    listed: &std::collections::BTreeMap<KeyId, crate::metadata::Key>,
    in_bins: bool,
) -> Result<KeyId, ClaimError> {
    use crate::metadata::KeyIdLookupError;
    crate::metadata::resolve_keyid(given, listed).map_err(|e| match e {
        KeyIdLookupError::NotFound { given } => ClaimError::UnknownDeveloperKey { given, in_bins },
        other => ClaimError::KeyId(other),
    })
}

/// Remove a developer key from every project in claimed that trusts it. A project left with
/// fewer keys than its threshold is removed from claimed (its developers must register keys
/// again); thresholds are never lowered silently.
pub fn revoke_developer_key(
    current: &Targets,
    keyid: &KeyId,
    expires: Option<Expires>,
) -> Result<(Targets, ClaimReview), ClaimError> {
    let mut next = next_version(Some(Cow::Borrowed(current)), expires)?;
    let d = project_roles(&mut next)?;
    let mut review = ClaimReview::default();
    let roles = roles_mut(d);
    let mut kept = Vec::with_capacity(roles.len());
    for mut r in std::mem::take(roles) {
        if !r.keyids.contains(keyid) {
            kept.push(r);
            continue;
        }
        r.keyids.retain(|k| k != keyid);
        if r.keyids.len() < r.threshold.get() as usize {
            review.removed.push(format!(
                "{} (no longer has {} key(s) to meet its threshold; its developers must register new keys)",
                r.name, r.threshold
            ));
        } else {
            review.changed.push(format!(
                "{}: key removed, {} of {} key(s) remain",
                r.name,
                r.threshold,
                r.keyids.len()
            ));
            kept.push(r);
        }
    }
    *roles = kept;
    if review.changed.is_empty() && review.removed.is_empty() {
        return Err(ClaimError::KeyNotTrusted(keyid.clone()));
    }
    review.unchanged = roles.len() - review.changed.len();
    let before = d.keys.len();
    garbage_collect_keys(d);
    review.keys_removed = before - d.keys.len();
    Ok((next, review))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key found valid is remembered by its bytes; an invalid one never is, so it is
    /// refused every time it comes back.
    #[test]
    fn checked_keys_remember_only_valid_points() {
        let bad = (0u8..=255)
            .map(|b| Key::ed25519(&[b; 32]))
            .find(|k| k.identity().is_err())
            .expect("some constant byte string is not a curve point");
        let good = Key::ed25519(&[9; 32]);
        assert!(good.identity().is_ok());
        let mut checked = CheckedKeys::new();
        for _ in 0..2 {
            assert!(check_key_value(&good, &mut checked).is_ok());
            assert!(check_key_value(&bad, &mut checked).is_err());
        }
        assert_eq!(checked.len(), 1);
    }

    fn key(n: u8) -> Value {
        crate::metadata::Key::ed25519(
            &ed25519_dalek::SigningKey::from_bytes(&[n; 32])
                .verifying_key()
                .to_bytes(),
        )
        .to_value()
    }

    fn line(project: &str, keys: &[u8], threshold: i64) -> String {
        let mut m = Map::new();
        m.insert("project".into(), project.into());
        m.insert(
            "keys".into(),
            Value::Array(keys.iter().map(|&n| key(n)).collect()),
        );
        m.insert("threshold".into(), Value::Int(threshold));
        String::from_utf8(cjson::to_canonical(&Value::Object(m))).unwrap()
    }

    #[test]
    fn the_simple_shapes_read_as_the_general_reading_reads_them_and_others_go_to_it() {
        let public = |n: u8| {
            hex::encode(
                ed25519_dalek::SigningKey::from_bytes(&[n; 32])
                    .verifying_key()
                    .to_bytes(),
            )
        };
        let written = |name: &str, hex: &str, threshold: &str| {
            format!(
                r#"{{"project":"{name}","keys":[{{"keytype":"ed25519","scheme":"ed25519","keyval":{{"public":"{hex}"}}}}],"threshold":{threshold}}}"#
            )
        };
        let simple = [
            written("Foo_Bar.baz", &public(1), "1"),
            line("requests", &[2], 1),
            line("a", &[3], 1),
        ];
        for text in &simple {
            let mut checked = CheckedKeys::new();
            let fast = simple_line(7, text, &mut checked).expect(text);
            let general = general_line(7, text, &mut CheckedKeys::new()).unwrap();
            assert_eq!(fast, general, "{text}");
        }
        let bad_point = (0u8..=255)
            .map(|b| hex::encode([b; 32]))
            .find(|h| general_line(1, &written("x", h, "1"), &mut CheckedKeys::new()).is_err())
            .unwrap();
        let other = [
            written("x", &public(1).to_uppercase(), "1"),
            written("x", &public(1), "2"),
            written("x", &public(1), "01"),
            written("-x", &public(1), "1"),
            written("x\\u0041", &public(1), "1"),
            written("x", &bad_point, "1"),
            written("x", &public(1)[..62], "1"),
            format!("{} ", written("x", &public(1), "1")),
            line("two", &[1, 2], 1),
            written("x", &public(1), "1").replace(':', ": "),
        ];
        for text in &other {
            assert!(
                simple_line(1, text, &mut CheckedKeys::new()).is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = [
            line("requests", &[1], 1),
            line("Foo_Bar", &[2], 1),
            "{not json".into(),
            line("foo-bar", &[3], 1),
            line("zero", &[4], 0),
            line("toomany", &[5], 2),
            line("requests", &[6], 1),
            r#"{"project": "x", "keys": [{"keytype": "ed25519"}], "threshold": 1}"#.into(),
            String::new(),
            line("-bad", &[7], 1),
        ]
        .join("\n");
        let errors = parse_requests(&text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 10], "{errors:?}");
        assert!(
            errors[1].problem.to_string().contains("normalise alike"),
            "{}",
            errors[1]
        );
        assert!(errors[2].problem.to_string().contains("below 1"));
        assert!(
            errors[3]
                .problem
                .to_string()
                .contains("above the number of keys")
        );
        assert!(
            errors[4]
                .problem
                .to_string()
                .contains("also requested on line 1")
        );
        assert!(errors[5].problem.to_string().contains("malformed"));
    }

    #[test]
    fn requests_stream_into_claim_in_batches_with_crlf_and_bad_bytes_reported() {
        let mut bytes = Vec::new();
        for i in 0..10 {
            bytes.extend_from_slice(line(&format!("p-{i}"), &[i as u8 + 1], 1).as_bytes());
            bytes.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
            if i == 4 {
                bytes.extend_from_slice(b"  \r\n");
            }
        }
        // A batch is three lines in unit tests: these ten cross several.
        let exp = Some(Expires::parse("2100-01-01T00:00:00Z").unwrap());
        let mut stream = RequestStream::new(&bytes[..]);
        let (claimed, review) = claim(None, &mut stream, exp).unwrap();
        assert_eq!(stream.accepted(), 10);
        stream.finish().unwrap();
        assert_eq!(review.added.len(), 10);
        assert_eq!(claimed.delegations.unwrap().keys.len(), 10);

        // Read ahead on another thread: the same requests, the same role.
        let mut ahead = RequestStream::read_ahead(std::io::Cursor::new(bytes.clone()));
        let (claimed_ahead, _) = claim(None, &mut ahead, exp).unwrap();
        assert_eq!(ahead.accepted(), 10);
        ahead.finish().unwrap();
        let mut stream = RequestStream::new(&bytes[..]);
        assert_eq!(claim(None, &mut stream, exp).unwrap().0, claimed_ahead);

        bytes.extend_from_slice(b"{\"project\": \"caf\xe9\"}\n");
        bytes.extend_from_slice(line("P_0", &[3], 1).as_bytes());
        let mut ahead = RequestStream::read_ahead(std::io::Cursor::new(bytes.clone()));
        let _ = claim(None, &mut ahead, exp);
        let Err(RequestsError::Lines(errors_ahead)) = ahead.finish() else {
            panic!("bad lines read ahead were not reported");
        };
        let mut stream = RequestStream::new(&bytes[..]);
        let _ = claim(None, &mut stream, exp);
        let Err(RequestsError::Lines(errors)) = stream.finish() else {
            panic!("bad lines were not reported");
        };
        let text = |e: &[LineError]| -> Vec<String> {
            e.iter().map(|e| format!("{} {e}", e.line)).collect()
        };
        assert_eq!(text(&errors_ahead), text(&errors));
        let got: Vec<(usize, String)> = errors
            .iter()
            .map(|e| (e.line, e.problem.to_string()))
            .collect();
        assert_eq!(got[0], (12, "not UTF-8".to_owned()));
        assert_eq!(got[1].0, 13);
        assert!(got[1].1.contains("normalise alike"), "{}", got[1].1);
    }

    #[test]
    fn a_large_request_file_is_read_in_order_with_every_bad_line() {
        let mut text = String::new();
        for i in 0..12_000 {
            let l = match i {
                5 => "{not json".to_owned(),
                9_000 => line("p-3", &[1], 1),
                11_999 => line("q", &[1], 2),
                _ => line(&format!("p-{i}"), &[(i % 200) as u8 + 1], 1),
            };
            text.push_str(&l);
            text.push('\n');
        }
        let errors = parse_requests(&text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![6, 9_001, 12_000], "{errors:?}");
        assert!(
            errors[1].problem.to_string().contains("line 4"),
            "{}",
            errors[1]
        );
        let good: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| ![5, 9_000, 11_999].contains(i))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let reqs = parse_requests(&good).unwrap();
        assert_eq!(reqs.len(), 11_997);
        assert!(reqs.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn projects_seen_are_found_by_name_even_when_two_names_share_a_hash() {
        let mut seen = Seen::default();
        seen.insert("a-b", "A_B", 3);
        seen.insert("c", "c", 5);
        assert_eq!(seen.get("a-b"), Some((3, "A_B")));
        assert_eq!(seen.get("c"), Some((5, "c")));
        assert_eq!(seen.get("d"), None);
        // Another name under a hash already taken (forced here: 64-bit hashes of real names
        // about never collide) is found through the exact map, and does not hide the first.
        seen.insert("e", "E", 9);
        let e_hash = std::hash::BuildHasher::hash_one(&seen.key, "e");
        seen.by_hash.remove(&e_hash);
        seen.collided.insert("e".into(), 2);
        seen.by_hash.insert(e_hash, 1);
        assert_eq!(seen.get("e"), Some((9, "E")));
        assert_eq!(seen.get("c"), Some((5, "c")));
    }

    #[test]
    fn keyids_sort_in_text_order_whatever_their_form() {
        let texts = [
            "b".to_owned(),
            "abcdefghij".to_owned(),
            "abcdefgh".to_owned(),
            "ff".repeat(32),
            "0f".repeat(32),
            "0F".repeat(32),
            "0f".repeat(31) + "0g",
            "0f".repeat(31),
            "zz".to_owned(),
        ];
        let mut pairs: Vec<(KeyId, Key)> = texts
            .iter()
            .map(|s| (KeyId::new(s).unwrap(), Key::ed25519(&[1; 32])))
            .collect();
        sort_by_keyid(&mut pairs);
        let sorted: Vec<String> = pairs.iter().map(|(id, _)| id.to_raw_string()).collect();
        let mut expected = texts.to_vec();
        expected.sort();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn pairs_sort_by_keyid() {
        let key = Key::ed25519(&[9; 32]);
        let mut pairs: Vec<(KeyId, Key)> = [
            "b",
            "abcdefghij",
            "abcdefgh",
            "a",
            "abcdefghia",
            "zz",
            "abcdefgi",
        ]
        .iter()
        .map(|s| (KeyId::new(s).unwrap(), key.clone()))
        .collect();
        let mut plain = pairs.clone();
        plain.sort_by(|a, b| a.0.cmp(&b.0));
        sort_by_keyid(&mut pairs);
        assert_eq!(pairs, plain);

        // Many keyids in scrambled order: long permutation cycles, duplicates included.
        let mut pairs: Vec<(KeyId, Key)> = (0..2000u32)
            .map(|i| {
                let k = Key::ed25519(&[(i % 251) as u8; 32]);
                let id = format!(
                    "{:016x}",
                    u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) % 1499
                );
                (KeyId::new(&id).unwrap(), k)
            })
            .collect();
        let mut plain = pairs.clone();
        plain.sort_by(|a, b| a.0.cmp(&b.0));
        sort_by_keyid(&mut pairs);
        let ids = |v: &[(KeyId, Key)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&pairs), ids(&plain));
        let mut by_key = pairs.clone();
        by_key.sort_by(|a, b| (&a.0, &*a.1.public()).cmp(&(&b.0, &*b.1.public())));
        plain.sort_by(|a, b| (&a.0, &*a.1.public()).cmp(&(&b.0, &*b.1.public())));
        assert_eq!(by_key, plain, "every pair is kept, none duplicated");
    }

    #[test]
    fn claim_adds_changes_and_keeps_order() {
        let reqs =
            parse_requests(&[line("Alpha", &[1], 1), line("beta", &[2, 3], 2)].join("\n")).unwrap();
        let exp = Expires::parse("2100-01-01T00:00:00Z").unwrap();
        let (v1, r1) = claim(None, &reqs, Some(exp)).unwrap();
        assert_eq!(v1.common.version.get(), 1);
        assert_eq!(r1.added, vec!["alpha", "beta"]);
        assert_eq!(r1.keys_added, 3);
        let reqs2 =
            parse_requests(&[line("beta", &[2], 1), line("gamma", &[1], 1)].join("\n")).unwrap();
        let (v2, r2) = claim(Some(&v1), &reqs2, None).unwrap();
        assert_eq!(v2.common.version.get(), 2);
        assert_eq!(r2.added, vec!["gamma"]);
        assert_eq!(r2.changed.len(), 1);
        assert_eq!(r2.keys_removed, 1);
        assert_eq!(r2.unchanged, 1);
        let d = v2.delegations.as_ref().unwrap();
        let DelegationRoles::List(roles) = &d.roles else {
            panic!()
        };
        let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["alpha", "beta", "gamma"]);
        assert!(roles.iter().all(|r| r.terminating == Some(true)));
        assert_eq!(d.keys.len(), 2);

        let shared = crate::metadata::Key::from_json(key(1)).unwrap().keyid();
        let (v3, r3) = revoke_developer_key(&v2, &shared, None).unwrap();
        assert_eq!(r3.removed.len(), 2, "{r3:?}");
        let (v4, r4) = unclaim(&v3, "BETA", None).unwrap();
        assert_eq!(r4.removed, vec!["beta"]);
        assert_eq!(v4.common.version.get(), 4);
        assert!(unclaim(&v4, "beta", None).is_err());
    }
}
