//! The ceremony transcript: a hash-chained JSON Lines file, `transcript.jsonl`, in the
//! ceremony directory.
//!
//! Each line records one step — what was done, by whom, which files went in and came out (by
//! SHA-256), which keys were involved — with the UTC time, the conclave version and the
//! SHA-256 of the binary that ran. Each line carries the hash of the line before it (`prev`)
//! and its own hash (`hash`, SHA-256 over the canonical JSON of the line without `hash`).
//! Editing a line breaks its own hash; deleting, inserting or reordering lines breaks the
//! `prev` links and the sequence numbers. Removing lines from the end leaves a valid, shorter
//! chain: that is what the head signatures are for — officers and witnesses sign the head
//! digest at the end of the ceremony, and the paper record carries it.
//!
//! ```text
//! {"binary_sha256":"…","conclave_version":"0.1.0","hash":"…","inputs":[{"path":"draft/1.root.json","sha256":"…"}],
//!  "keyids":["…"],"note":null,"officer":"alice","outputs":[…],"prev":"000…000","seq":1,"step":"sign","time":"2026-11-22T12:00:00Z"}
//! ```

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ceremony::plan::{KeySource, Plan};
use crate::cjson::{self, Map, Value};
use crate::metadata::{Expires, Key, KeyId, KeyMaterial, Root, Signature, SignatureError};
use crate::signer::{SignError, Signer};

/// The transcript's file name inside a ceremony directory.
pub const FILE_NAME: &str = "transcript.jsonl";
/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Transcripts are small (a line per step); anything larger is refused rather than read.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// One step, as a command (or an officer, with `transcript note`) describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// What was done, e.g. "sign draft/2.root.json" or "alice presented her key".
    pub step: String,
    /// The officer who did it, if one is named.
    pub officer: Option<String>,
    /// Files read: (path as given, lowercase hex SHA-256).
    pub inputs: Vec<(String, String)>,
    /// Files written: (path as given, lowercase hex SHA-256).
    pub outputs: Vec<(String, String)>,
    /// Keys involved (signed, revoked, presented), as keyids.
    pub keyids: Vec<String>,
    /// Free text, e.g. what an officer said or checked.
    pub note: Option<String>,
}

/// A line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1 for the first line, then consecutive.
    pub seq: u64,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// What was done.
    pub entry: Entry,
    /// The version of conclave that wrote the line.
    pub conclave_version: String,
    /// SHA-256 of the running binary, or "unknown" if it could not be read.
    pub binary_sha256: String,
    /// The previous line's `hash` ([`GENESIS`] for the first line).
    pub prev: String,
    /// SHA-256 over the canonical JSON of this line without `hash`.
    pub hash: String,
}

/// Where the chain is broken: a 1-based line number and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ChainProblem {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong there, e.g. "its content does not match its hash: the line was edited".
    pub reason: String,
}

/// Why a transcript could not be read, appended to or signed. `path` is already escaped for
/// printing.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file could not be read or written.
    #[error("{path}")]
    Io {
        /// The transcript file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Larger than [`MAX_FILE_SIZE`].
    #[error("{path}: larger than {MAX_FILE_SIZE} bytes: not a transcript")]
    TooLarge {
        /// The transcript file.
        path: String,
    },
    /// The hash chain does not hold: nothing is appended to it.
    #[error("{path}: the transcript is broken ({} problem(s), first: {})", .problems.len(), .problems[0])]
    Broken {
        /// The transcript file.
        path: String,
        /// Every problem found, at least one.
        problems: Vec<ChainProblem>,
    },
    /// There is no line to sign.
    #[error("the transcript is empty: nothing to sign")]
    Empty,
    /// The signer failed, or its signature did not verify.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Why a line of JSON is not a transcript entry; `&'static str` fields name the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is JSON but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// A field every line has is absent.
    #[error("missing \"{0}\"")]
    Missing(&'static str),
    /// A field that must be a string is not.
    #[error("\"{0}\" is not a string")]
    NotString(&'static str),
    /// A field that must be a string or null is not.
    #[error("\"{0}\" is not a string or null")]
    NotStringOrNull(&'static str),
    /// A field that must be an array is not.
    #[error("\"{0}\" is not an array")]
    NotArray(&'static str),
    /// An inputs or outputs entry that is not exactly `{"path", "sha256"}`.
    #[error("\"{0}\" entries must be {{\"path\", \"sha256\"}} objects")]
    BadFile(&'static str),
    /// `seq` is not a positive integer.
    #[error("\"seq\" is not a positive integer")]
    Seq,
    /// A field outside the hash this reader recomputes.
    #[error("unexpected field \"{}\"", crate::display::escape(.0))]
    UnexpectedField(String),
}

/// Why a head signature file is not one, or does not vouch for a transcript.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// Too large to be a head signature file.
    #[error("larger than 64 KiB: not a head signature file")]
    TooLarge,
    /// Not JSON.
    #[error("not valid JSON")]
    Json(#[source] cjson::ParseError),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// The `format` field is not [`HEAD_FORMAT`].
    #[error("not a {HEAD_FORMAT} file")]
    NotHeadSignature,
    /// A `format_version` this conclave does not read.
    #[error("unsupported \"format_version\" (this conclave reads {HEAD_FORMAT_VERSION})")]
    FormatVersion,
    /// `seq` is not a positive integer.
    #[error("\"seq\" must be a positive integer")]
    Seq,
    /// `head_sha256` is not a SHA-256 in lowercase hex.
    #[error("\"head_sha256\" must be 64 lowercase hex characters")]
    HeadDigest,
    /// The signature, key or field list is wrong (read as in signature files).
    #[error(transparent)]
    File(#[from] crate::ceremony::detached::SignatureFileError),
    /// The signature's keyid is not the keyid of the key in the file.
    #[error("the signature names key {signed_by}, but the public key in the file is {key}")]
    KeyMismatch {
        /// The keyid the signature names.
        signed_by: KeyId,
        /// The keyid of the file's public key.
        key: KeyId,
    },
    /// The signed line is past the end: lines were removed.
    #[error(
        "it signs line {seq}, but the transcript ends at line {last}: lines after line {last} were removed"
    )]
    Truncated {
        /// The signed line.
        seq: u64,
        /// The transcript's last line.
        last: usize,
    },
    /// The signed line has another hash now.
    #[error(
        "it signs line {seq} with hash {signed}, but line {seq} now has hash {now}: the transcript was rewritten"
    )]
    Rewritten {
        /// The signed line.
        seq: u64,
        /// The hash signed.
        signed: String,
        /// The line's hash now.
        now: String,
    },
    /// The signature does not verify with the key.
    #[error("the signature by key {keyid} is invalid")]
    BadSignature {
        /// The signing key.
        keyid: KeyId,
        /// Why it does not verify.
        #[source]
        source: SignatureError,
    },
    /// A valid signature, by a key none of the trusted sources lists: anyone can make a key,
    /// re-chain a rewritten transcript and sign its head.
    #[error(
        "the head is signed by key {keyid}, which is not an officer's key: {} does not list it",
        .sources.join(" nor ")
    )]
    NotAnOfficer {
        /// The signing key.
        keyid: KeyId,
        /// Where the officers' keys were looked for (as given to [`Vouchers`]).
        sources: Vec<String>,
    },
}

/// The transcript file for `dir_or_file`: `DIR/transcript.jsonl` for a directory, else the
/// file itself.
pub fn path_for(dir_or_file: &Path) -> PathBuf {
    if dir_or_file.is_dir() {
        dir_or_file.join(FILE_NAME)
    } else {
        dir_or_file.to_path_buf()
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 of a file, for an entry's inputs and outputs: read in pieces, so that recording
/// a claimed role of hundreds of megabytes does not hold a second copy of it.
pub fn file_sha256(path: &Path) -> Result<String, TranscriptError> {
    let hash = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match std::io::Read::read(&mut file, &mut buf) {
                Ok(0) => return Ok(hex::encode(h.finalize())),
                Ok(n) => h.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    };
    hash().map_err(|e| io(path, e))
}

/// The SHA-256 of the running binary: an auditor can compare it with the hash of the
/// reproducible build everyone checked before the ceremony.
pub fn binary_sha256() -> String {
    std::env::current_exe()
        .and_then(std::fs::read)
        .map(|b| sha256_hex(&b))
        .unwrap_or_else(|_| "unknown".into())
}

fn io(path: &Path, source: std::io::Error) -> TranscriptError {
    TranscriptError::Io {
        path: crate::display::escape(&path.display().to_string()).into_owned(),
        source,
    }
}

impl Line {
    fn to_value(&self, with_hash: bool) -> Value {
        let files = |v: &[(String, String)]| {
            Value::Array(
                v.iter()
                    .map(|(p, h)| {
                        let mut m = Map::new();
                        m.insert("path".into(), p.as_str().into());
                        m.insert("sha256".into(), h.as_str().into());
                        Value::Object(m)
                    })
                    .collect(),
            )
        };
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
        let mut m = Map::new();
        m.insert("seq".into(), Value::Int(self.seq as i64));
        m.insert("time".into(), self.time.as_str().into());
        m.insert("step".into(), self.entry.step.as_str().into());
        m.insert("officer".into(), opt(&self.entry.officer));
        m.insert("inputs".into(), files(&self.entry.inputs));
        m.insert("outputs".into(), files(&self.entry.outputs));
        m.insert(
            "keyids".into(),
            Value::Array(
                self.entry
                    .keyids
                    .iter()
                    .map(|k| k.as_str().into())
                    .collect(),
            ),
        );
        m.insert("note".into(), opt(&self.entry.note));
        m.insert(
            "conclave_version".into(),
            self.conclave_version.as_str().into(),
        );
        m.insert("binary_sha256".into(), self.binary_sha256.as_str().into());
        m.insert("prev".into(), self.prev.as_str().into());
        if with_hash {
            m.insert("hash".into(), self.hash.as_str().into());
        }
        Value::Object(m)
    }

    /// The hash this line must carry: SHA-256 of the canonical JSON of everything but `hash`.
    pub(crate) fn compute_hash(&self) -> String {
        sha256_hex(&cjson::to_canonical(&self.to_value(false)))
    }

    /// The line as written: one line of JSON (keys sorted, control characters escaped, so
    /// a note with a line break cannot split the line), with its final `\n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_compact(&self.to_value(true), &mut out);
        out.push(b'\n');
        out
    }

    fn from_value(v: Value) -> Result<Line, LineError> {
        let Value::Object(mut m) = v else {
            return Err(LineError::NotObject);
        };
        let mut take = |name: &'static str| m.remove(name).ok_or(LineError::Missing(name));
        let string = |v: Value, name: &'static str| -> Result<String, LineError> {
            match v {
                Value::String(s) => Ok(s),
                _ => Err(LineError::NotString(name)),
            }
        };
        let opt_string = |v: Value, name: &'static str| -> Result<Option<String>, LineError> {
            match v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s)),
                _ => Err(LineError::NotStringOrNull(name)),
            }
        };
        let files = |v: Value, name: &'static str| -> Result<Vec<(String, String)>, LineError> {
            let Value::Array(items) = v else {
                return Err(LineError::NotArray(name));
            };
            items
                .into_iter()
                .map(|item| {
                    let p = item.get("path").and_then(Value::as_str);
                    let h = item.get("sha256").and_then(Value::as_str);
                    match (p, h, item.as_object().map(Map::len)) {
                        (Some(p), Some(h), Some(2)) => Ok((p.to_owned(), h.to_owned())),
                        _ => Err(LineError::BadFile(name)),
                    }
                })
                .collect()
        };
        let seq = match take("seq")? {
            Value::Int(n) if n > 0 => n as u64,
            _ => return Err(LineError::Seq),
        };
        let keyids = match take("keyids")? {
            Value::Array(items) => items
                .into_iter()
                .map(|k| string(k, "keyids"))
                .collect::<Result<_, _>>()?,
            _ => return Err(LineError::NotArray("keyids")),
        };
        let line = Line {
            seq,
            time: string(take("time")?, "time")?,
            entry: Entry {
                step: string(take("step")?, "step")?,
                officer: opt_string(take("officer")?, "officer")?,
                inputs: files(take("inputs")?, "inputs")?,
                outputs: files(take("outputs")?, "outputs")?,
                keyids,
                note: opt_string(take("note")?, "note")?,
            },
            conclave_version: string(take("conclave_version")?, "conclave_version")?,
            binary_sha256: string(take("binary_sha256")?, "binary_sha256")?,
            prev: string(take("prev")?, "prev")?,
            hash: string(take("hash")?, "hash")?,
        };
        // Unknown fields would be outside the hash this reader recomputes: refuse them.
        if let Some(k) = m.keys().next() {
            return Err(LineError::UnexpectedField(k.clone()));
        }
        Ok(line)
    }
}

/// A single line of JSON: like the canonical form (sorted keys, no whitespace) but with
/// control characters, and the other characters [`crate::display::escape`] escapes, written as
/// `\uXXXX` escapes.
fn write_compact(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::String(s) => {
            out.push(b'"');
            for c in s.chars() {
                match c {
                    '"' => out.extend_from_slice(b"\\\""),
                    '\\' => out.extend_from_slice(b"\\\\"),
                    // Controls, as JSON requires; and everything else the terminal escaper
                    // escapes (bidi overrides, zero-width and tag characters, line
                    // separators), so that `cat transcript.jsonl` or a text editor shows
                    // them instead of acting on them. The hash is over the canonical form,
                    // which holds the characters themselves, so it is the same either way.
                    c if crate::display::needs_escape(c) => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.extend_from_slice(format!("\\u{u:04x}").as_bytes());
                        }
                    }
                    c => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(item, out);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(&Value::String(k.clone()), out);
                out.push(b':');
                write_compact(item, out);
            }
            out.push(b'}');
        }
        other => cjson::write_canonical(other, out),
    }
}

/// Check a whole transcript. Returns its lines if the chain holds, else every problem found,
/// each with its 1-based line number. An empty file is an empty (valid) transcript.
///
/// Each line is checked on its own (does its content match its hash?) and against the line
/// before it (does `prev` name that line's hash, does `seq` follow on?), so an edited line is
/// reported where it is, and a deleted, inserted or moved line where the chain breaks.
pub fn verify_chain(bytes: &[u8]) -> Result<Vec<Line>, Vec<ChainProblem>> {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    let mut prev_hash: Option<String> = Some(GENESIS.to_owned());
    let mut prev_seq = 0u64;
    let parts: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let count = parts.len();
    for (i, raw) in parts.into_iter().enumerate() {
        let n = i + 1;
        let last = i + 1 == count;
        if last {
            if !raw.is_empty() {
                problems.push(ChainProblem {
                    line: n,
                    reason: "incomplete (the file does not end with a line end): the \
                             transcript was cut off here"
                        .into(),
                });
            }
            break;
        }
        let problem = |reason: String| ChainProblem { line: n, reason };
        let parsed = match cjson::parse(raw) {
            Err(e) => Err(format!("not valid JSON: {e}")),
            Ok(v) => Line::from_value(v).map_err(|e| e.to_string()),
        };
        let line = match parsed {
            Ok(l) => l,
            Err(why) => {
                problems.push(problem(format!("not a transcript entry: {why}")));
                prev_hash = None;
                continue;
            }
        };
        if line.compute_hash() != line.hash {
            problems.push(problem(
                "its content does not match its hash: the line was edited".into(),
            ));
        }
        if line.seq != n as u64 && line.seq != prev_seq + 1 {
            problems.push(problem(format!(
                "sequence number {} where {n} was expected: lines were deleted, inserted or \
                 reordered",
                line.seq
            )));
        }
        if let Some(expected) = &prev_hash
            && &line.prev != expected
        {
            problems.push(problem(if n == 1 {
                "it does not start the chain (its \"prev\" is not the genesis value): lines \
                 before it were removed"
                    .into()
            } else {
                format!(
                    "it does not follow line {} (its \"prev\" is not that line's hash): a line \
                     was deleted, inserted or moved here",
                    n - 1
                )
            }));
        }
        prev_hash = Some(line.hash.clone());
        prev_seq = line.seq;
        lines.push(line);
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

/// Read and check the transcript at `path` (a missing file is an empty transcript).
pub fn read(path: &Path) -> Result<Vec<Line>, TranscriptError> {
    let bytes = match read_bytes(path)? {
        Some(b) => b,
        None => return Ok(Vec::new()),
    };
    verify_chain(&bytes).map_err(|problems| TranscriptError::Broken {
        path: crate::display::escape(&path.display().to_string()).into_owned(),
        problems,
    })
}

/// The raw bytes of the transcript at `path`; `None` if there is none yet.
pub(crate) fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, TranscriptError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, e)),
        Ok(m) if m.len() > MAX_FILE_SIZE => {
            return Err(TranscriptError::TooLarge {
                path: crate::display::escape(&path.display().to_string()).into_owned(),
            });
        }
        Ok(_) => {}
    }
    std::fs::read(path).map(Some).map_err(|e| io(path, e))
}

/// The running binary's facts, recorded in every line (overridable for tests).
#[derive(Clone, Debug)]
pub struct Context {
    /// When the step is recorded.
    pub time: Expires,
    /// This conclave's version.
    pub conclave_version: String,
    /// SHA-256 of the running binary ("unknown" if unreadable).
    pub binary_sha256: String,
}

impl Context {
    /// The facts of this process: now, this version, this binary.
    pub fn current() -> Self {
        Context {
            time: Expires::now(),
            conclave_version: env!("CARGO_PKG_VERSION").into(),
            binary_sha256: binary_sha256(),
        }
    }
}

/// The ceremony transcript of a directory.
pub struct Transcript;

impl Transcript {
    /// Append `entry` to `dir/transcript.jsonl` (created if missing), with the current time,
    /// version and binary hash. The existing chain is checked first: a step is never chained
    /// onto a transcript that has been tampered with.
    pub fn append(dir: &Path, entry: Entry) -> Result<Line, TranscriptError> {
        Self::append_with(dir, entry, &Context::current())
    }

    /// [`Transcript::append`] with the time, version and binary hash given (tests, and the
    /// rehearsal, which hashes its binary once).
    pub(crate) fn append_with(
        dir: &Path,
        entry: Entry,
        ctx: &Context,
    ) -> Result<Line, TranscriptError> {
        let path = dir.join(FILE_NAME);
        let old = read_bytes(&path)?.unwrap_or_default();
        let lines = verify_chain(&old).map_err(|problems| TranscriptError::Broken {
            path: crate::display::escape(&path.display().to_string()).into_owned(),
            problems,
        })?;
        let mut line = Line {
            seq: lines.last().map_or(1, |l| l.seq + 1),
            time: ctx.time.to_string(),
            entry,
            conclave_version: ctx.conclave_version.clone(),
            binary_sha256: ctx.binary_sha256.clone(),
            prev: lines
                .last()
                .map_or_else(|| GENESIS.to_owned(), |l| l.hash.clone()),
            hash: String::new(),
        };
        line.hash = line.compute_hash();
        // Old content plus the new line, replaced in one step: a crash leaves the old
        // transcript or the new one, never a half-written line.
        let mut bytes = old;
        bytes.extend_from_slice(&line.to_bytes());
        crate::fsutil::write_atomic(&path, &bytes).map_err(|e| io(&path, e))?;
        Ok(line)
    }
}

// ---------------------------------------------------------------------------------------------
// Head signatures
// ---------------------------------------------------------------------------------------------

/// The `format` field of a head signature file.
pub const HEAD_FORMAT: &str = "conclave-transcript-head";
/// The `format_version` this conclave writes and reads.
pub(crate) const HEAD_FORMAT_VERSION: i64 = 1;

/// An officer's or witness's signature over the transcript's head: "I saw the ceremony up
/// to line `seq`, whose hash is `head_sha256`". Because every line hashes the one before, it
/// vouches for every line up to the head, and shows when lines after it were removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadSignature {
    /// The signed line's sequence number.
    pub seq: u64,
    /// The signed line's hash.
    pub head_sha256: String,
    /// The signature over [`head_message`].
    pub signature: Signature,
    /// The key that made it; a verifier decides whether it trusts that key.
    pub public_key: Key,
}

/// The keys whose head signatures count, each with whose it is: the officers' keys of the
/// ceremony plan and the keys the current root trusts for its offline roles. A head signature
/// proves only that someone holding the key saw the transcript up to the head; the key must be
/// an officer's, or a rewritten and re-chained transcript signed with a fresh key would pass.
/// Keys are compared by their material ([`Key::material`]), not by keyid.
#[derive(Clone, Debug, Default)]
pub struct Vouchers {
    keys: Vec<(KeyMaterial, String)>,
    sources: Vec<String>,
}

impl Vouchers {
    /// No keys yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The plan's keys held by officers (not the online keys), labelled with the officer and
    /// the plan's name for the key. `source` names the plan for messages.
    pub fn add_plan(&mut self, plan: &Plan, source: &str) {
        for k in plan.keys.values() {
            if k.source == KeySource::Online {
                continue;
            }
            let officer = match &k.officer {
                Some(o) => format!("officer {}", plan.officer_label(o)),
                None => "no officer".to_owned(),
            };
            self.keys.push((
                k.key.material(),
                format!("{officer}, key {} of plan {source}", k.name),
            ));
        }
        self.sources.push(format!("plan {source}"));
    }

    /// The keys `root` lists for its root and targets roles (the offline roles; the online
    /// snapshot and timestamp keys are held by a server, not by anyone at the ceremony).
    /// `source` names the root's file for messages.
    pub fn add_root(&mut self, root: &Root, source: &str) {
        let version = root.common.version;
        for role in ["root", "targets"] {
            let Some(rk) = root.role(role) else { continue };
            for id in &rk.keyids {
                if let Some(key) = root.keys.get(id) {
                    self.keys.push((
                        key.material(),
                        format!("{role} key of root version {version} ({source})"),
                    ));
                }
            }
        }
        self.sources
            .push(format!("root version {version} ({source})"));
    }

    /// A witness's key, which the verifier chose to trust (it is in neither plan nor root).
    /// `source` names where it was read from.
    pub fn add_witness(&mut self, key: &Key, source: &str) {
        self.keys
            .push((key.material(), format!("witness key given as {source}")));
        self.sources.push(format!("witness key {source}"));
    }

    /// True when no source was added.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Where the keys were looked for, as added.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Whose `key` is, once per source that lists it; empty when none does.
    pub fn whose(&self, key: &Key) -> Vec<&str> {
        let material = key.material();
        self.keys
            .iter()
            .filter(|(m, _)| *m == material)
            .map(|(_, who)| who.as_str())
            .collect()
    }
}

/// The bytes a head signature covers. They begin with a fixed label, never with `{`, so a
/// head signature can never be mistaken for a signature over TUF metadata (whose signed
/// bytes are canonical JSON objects) made by the same key.
pub fn head_message(seq: u64, head_sha256: &str) -> Vec<u8> {
    format!("conclave-transcript-head/v1\nseq {seq}\nsha256 {head_sha256}\n").into_bytes()
}

/// Sign the head (the last line) of `lines`.
pub fn sign_head(lines: &[Line], signer: &dyn Signer) -> Result<HeadSignature, TranscriptError> {
    let head = lines.last().ok_or(TranscriptError::Empty)?;
    let signature = crate::signer::sign_checked(signer, &head_message(head.seq, &head.hash))?;
    Ok(HeadSignature {
        seq: head.seq,
        head_sha256: head.hash.clone(),
        signature,
        public_key: signer.public_key().clone(),
    })
}

impl HeadSignature {
    /// The head signature file: pretty-printed canonical JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("format".into(), HEAD_FORMAT.into());
        m.insert("format_version".into(), Value::Int(HEAD_FORMAT_VERSION));
        m.insert("seq".into(), Value::Int(self.seq as i64));
        m.insert("head_sha256".into(), self.head_sha256.as_str().into());
        m.insert("signature".into(), self.signature.to_value());
        m.insert("public_key".into(), self.public_key.to_value());
        cjson::to_pretty(&Value::Object(m))
    }

    /// Read a head signature file strictly (unknown fields refused). The signature is not
    /// checked here; see [`HeadSignature::check`].
    pub fn parse(bytes: &[u8]) -> Result<Self, HeadError> {
        if bytes.len() > 64 * 1024 {
            return Err(HeadError::TooLarge);
        }
        let v = cjson::parse(bytes).map_err(HeadError::Json)?;
        let Value::Object(m) = v else {
            return Err(HeadError::NotObject);
        };
        if m.get("format").and_then(Value::as_str) != Some(HEAD_FORMAT) {
            return Err(HeadError::NotHeadSignature);
        }
        if m.get("format_version") != Some(&Value::Int(HEAD_FORMAT_VERSION)) {
            return Err(HeadError::FormatVersion);
        }
        let seq = match m.get("seq") {
            Some(Value::Int(n)) if *n > 0 => *n as u64,
            _ => return Err(HeadError::Seq),
        };
        let head = m
            .get("head_sha256")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .ok_or(HeadError::HeadDigest)?;
        let (signature, public_key) = crate::ceremony::detached::read_signature_and_key(&m)?;
        crate::ceremony::detached::refuse_unknown_fields(
            &m,
            &[
                "format",
                "format_version",
                "seq",
                "head_sha256",
                "signature",
                "public_key",
            ],
        )?;
        Ok(HeadSignature {
            seq,
            head_sha256: head.to_owned(),
            signature,
            public_key,
        })
    }

    /// [`HeadSignature::check`], and then that the key is one of `vouchers`: whose it is, or
    /// [`HeadError::NotAnOfficer`].
    pub fn check_vouched<'v>(
        &self,
        lines: &[Line],
        vouchers: &'v Vouchers,
    ) -> Result<Vec<&'v str>, HeadError> {
        self.check(lines)?;
        let whose = vouchers.whose(&self.public_key);
        if whose.is_empty() {
            return Err(HeadError::NotAnOfficer {
                keyid: self.signature.keyid.clone(),
                sources: vouchers.sources.clone(),
            });
        }
        Ok(whose)
    }

    /// Check this signature against a verified transcript's lines: the signed line must be
    /// there with the signed hash, and the signature must verify with the key it names. Who
    /// holds the key is not checked here: see [`HeadSignature::check_vouched`].
    pub fn check(&self, lines: &[Line]) -> Result<(), HeadError> {
        if self.public_key.keyid() != self.signature.keyid {
            return Err(HeadError::KeyMismatch {
                signed_by: self.signature.keyid.clone(),
                key: self.public_key.keyid(),
            });
        }
        let Some(line) = lines.iter().find(|l| l.seq == self.seq) else {
            return Err(HeadError::Truncated {
                seq: self.seq,
                last: lines.len(),
            });
        };
        if line.hash != self.head_sha256 {
            return Err(HeadError::Rewritten {
                seq: self.seq,
                signed: self.head_sha256.clone(),
                now: line.hash.clone(),
            });
        }
        self.public_key
            .verify(
                &head_message(self.seq, &self.head_sha256),
                &self.signature.sig,
            )
            .map_err(|source| HeadError::BadSignature {
                keyid: self.signature.keyid.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            time: Expires::parse("2026-11-22T12:00:00Z").unwrap(),
            conclave_version: "0.0.0-test".into(),
            binary_sha256: sha256_hex(b"binary"),
        }
    }

    fn entry(step: &str) -> Entry {
        Entry {
            step: step.into(),
            officer: Some("alice".into()),
            inputs: vec![("in.json".into(), sha256_hex(b"in"))],
            outputs: vec![],
            keyids: vec![],
            note: Some("a note\nwith a line break".into()),
        }
    }

    #[test]
    fn appended_lines_chain_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for s in ["one", "two", "three"] {
            Transcript::append_with(dir.path(), entry(s), &ctx()).unwrap();
        }
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 3);
        let lines = verify_chain(&bytes).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].prev, lines[0].hash);
        assert_eq!(
            lines[2].entry.note.as_deref(),
            Some("a note\nwith a line break")
        );
        let rewritten: Vec<u8> = lines.iter().flat_map(Line::to_bytes).collect();
        assert_eq!(rewritten, bytes);
    }

    #[test]
    fn invisible_and_reordering_characters_are_written_as_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let step = "a\u{202e}b\u{200b}c\u{feff}d\u{e0041}e\u{2028}f\u{1b}g";
        Transcript::append_with(dir.path(), entry(step), &ctx()).unwrap();
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let line = text.strip_suffix('\n').unwrap();
        assert!(!line.chars().any(crate::display::needs_escape), "{text:?}");
        assert!(
            text.contains(r"a\u202eb\u200bc\ufeffd\udb40\udc41e\u2028f\u001bg"),
            "{text}"
        );
        // Read back as the characters themselves, and the hash still holds.
        let lines = verify_chain(&bytes).unwrap();
        assert_eq!(lines[0].entry.step, step);
    }

    #[test]
    fn a_broken_transcript_is_not_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        Transcript::append_with(dir.path(), entry("one"), &ctx()).unwrap();
        let p = dir.path().join(FILE_NAME);
        let bytes = std::fs::read(&p).unwrap();
        let edited = String::from_utf8(bytes)
            .unwrap()
            .replace("alice", "mallory");
        std::fs::write(&p, &edited).unwrap();
        let err = Transcript::append_with(dir.path(), entry("two"), &ctx()).unwrap_err();
        assert!(matches!(err, TranscriptError::Broken { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), edited);
    }

    #[test]
    fn head_signatures_bind_the_line() {
        let dir = tempfile::tempdir().unwrap();
        for s in ["one", "two"] {
            Transcript::append_with(dir.path(), entry(s), &ctx()).unwrap();
        }
        let lines = read(&dir.path().join(FILE_NAME)).unwrap();
        let signer = crate::signer::Ed25519Signer::from_seed(&[7; 32]);
        let h = sign_head(&lines, &signer).unwrap();
        let parsed = HeadSignature::parse(&h.to_bytes()).unwrap();
        assert_eq!(parsed, h);
        parsed.check(&lines).unwrap();
        let err = parsed.check(&lines[..1]).unwrap_err();
        assert!(
            matches!(err, HeadError::Truncated { seq: 2, last: 1 }),
            "{err}"
        );
        assert!(err.to_string().contains("removed"), "{err}");
        let mut other = parsed.clone();
        other.signature.sig = h.signature.sig.replace('a', "b").replace('0', "1");
        assert!(other.check(&lines).is_err());
    }

    #[test]
    fn only_an_officers_key_vouches_for_the_head() {
        use crate::ceremony::request::tests::{officer, root};
        let dir = tempfile::tempdir().unwrap();
        Transcript::append_with(dir.path(), entry("one"), &ctx()).unwrap();
        let lines = read(&dir.path().join(FILE_NAME)).unwrap();
        let crate::metadata::AnyMetadata::Root(r) = root() else {
            unreachable!()
        };
        let mut vouchers = Vouchers::new();
        assert!(vouchers.is_empty());
        vouchers.add_root(&r.signed, "1.root.json");

        // officer(1) holds root's root key; officer(2) its targets key.
        let by_root = sign_head(&lines, &officer(1)).unwrap();
        assert_eq!(
            by_root.check_vouched(&lines, &vouchers).unwrap(),
            ["root key of root version 1 (1.root.json)"]
        );
        let by_targets = sign_head(&lines, &officer(2)).unwrap();
        assert_eq!(
            by_targets.check_vouched(&lines, &vouchers).unwrap(),
            ["targets key of root version 1 (1.root.json)"]
        );

        // A valid signature by anyone else's key is refused, naming the key.
        let stranger = sign_head(&lines, &officer(9)).unwrap();
        stranger.check(&lines).unwrap();
        let err = stranger.check_vouched(&lines, &vouchers).unwrap_err();
        assert!(matches!(err, HeadError::NotAnOfficer { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&officer(9).public_key().keyid().to_raw_string()));
        assert!(msg.contains("not an officer's key"), "{msg}");
        assert!(msg.contains("root version 1 (1.root.json)"), "{msg}");
    }
}
