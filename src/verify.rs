//! The one verification engine.
//!
//! Every command that verifies anything goes through [`check_threshold`] (the only threshold
//! counter in conclave) and, for whole repositories, [`verify_repository`], which applies the
//! rules of the TUF client workflow (spec §5.3–5.6) to the files present:
//!
//! - root chains (5.3): version N+1 must be signed by a threshold of N's root keys *and* a
//!   threshold of its own; versions exactly consecutive; intermediate expiry ignored; the
//!   final root must be unexpired;
//! - timestamp and snapshot against the final root, with the versions, lengths and hashes
//!   they record for each other and for targets metadata (5.4, 5.5);
//! - targets against the final root, and delegated roles against the role that delegates to
//!   them, recursively in pre-order (5.6);
//! - `_type` and expiry everywhere.
//!
//! Results are data: a [`Report`] of who signed, who is missing and which signatures are bad,
//! plus problems (verification failures) and warnings (compatibility lint).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sha2::{Digest, Sha256, Sha512};

use crate::cjson::{Map, Value};
use crate::display::escape;
use crate::metadata::SignedText;
use crate::metadata::streamed::FileRead;
use crate::metadata::{
    AnyMetadata, DelegationRoles, Delegations, Expires, Key, KeyId, Metadata, RolePaths, Root,
    Signature, SignatureError, Targets, Threshold,
};

// ---------------------------------------------------------------------------------------------
// Threshold counting
// ---------------------------------------------------------------------------------------------

/// Who signed one piece of metadata, measured against one set of authorised keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureReport {
    /// The role whose signatures were counted.
    pub role: String,
    /// Whose keys were used, e.g. "root v1" or "targets" (the delegating role).
    pub keys_from: String,
    /// How many distinct valid keys are needed.
    pub threshold: u32,
    /// The keyids authorised for the role.
    pub authorised: Vec<KeyId>,
    /// Distinct keys with a valid signature. Only these count towards the threshold.
    pub valid: Vec<KeyId>,
    /// Authorised keys with no valid signature.
    pub missing: Vec<KeyId>,
    /// Signatures by authorised keys that do not verify, with the reason.
    pub invalid: Vec<(KeyId, String)>,
    /// Signatures by keyids that are not authorised for this role.
    pub unknown: Vec<KeyId>,
    /// Valid signatures whose key was already counted under another keyid (TAP 12: a key
    /// counts once, however many keyids name it), with the keyid it was counted under.
    pub duplicates: Vec<(KeyId, KeyId)>,
    /// Authorised keyids with no key object: they can never count.
    pub unresolved: Vec<KeyId>,
}

impl SignatureReport {
    /// Whether enough distinct keys signed validly: only [`SignatureReport::valid`] counts.
    pub fn is_met(&self) -> bool {
        self.valid.len() as u64 >= u64::from(self.threshold)
    }

    /// "2 of 3 keys needed, 1 valid" style summary.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} {} keys signed validly, threshold {}",
            self.valid.len(),
            self.authorised.len(),
            self.keys_from,
            self.threshold
        )
    }

    /// The report as JSON, for machine-readable output.
    pub fn to_json(&self) -> Value {
        let ids = |v: &[KeyId]| Value::Array(v.iter().map(|k| Value::from(k.as_str())).collect());
        let mut m = Map::new();
        m.insert("role".into(), Value::from(self.role.as_str()));
        m.insert("keys_from".into(), Value::from(self.keys_from.as_str()));
        m.insert("threshold".into(), Value::Int(i64::from(self.threshold)));
        m.insert("met".into(), Value::Bool(self.is_met()));
        m.insert("authorised".into(), ids(&self.authorised));
        m.insert("valid".into(), ids(&self.valid));
        m.insert("missing".into(), ids(&self.missing));
        m.insert("unknown".into(), ids(&self.unknown));
        m.insert("unresolved".into(), ids(&self.unresolved));
        m.insert(
            "invalid".into(),
            Value::Array(
                self.invalid
                    .iter()
                    .map(|(k, why)| {
                        let mut e = Map::new();
                        e.insert("keyid".into(), Value::from(k.as_str()));
                        e.insert("reason".into(), Value::from(why.as_str()));
                        Value::Object(e)
                    })
                    .collect(),
            ),
        );
        m.insert(
            "duplicates".into(),
            Value::Array(
                self.duplicates
                    .iter()
                    .map(|(k, first)| {
                        let mut e = Map::new();
                        e.insert("keyid".into(), Value::from(k.as_str()));
                        e.insert("same_key_as".into(), Value::from(first.as_str()));
                        Value::Object(e)
                    })
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

/// Keys whose signatures count toward no threshold: the keys a revocation removes
/// ([`crate::ceremony::revoked`]). A revoked key is known by its keyid and, once seen in a
/// list of keys, by its material, so the same key under another keyid (TAP 12) is revoked
/// too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokedKeys {
    keyids: BTreeSet<KeyId>,
}

impl RevokedKeys {
    /// No revoked keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revoke `keyid`.
    pub fn add(&mut self, keyid: KeyId) {
        self.keyids.insert(keyid);
    }

    /// Whether no key is revoked.
    pub fn is_empty(&self) -> bool {
        self.keyids.is_empty()
    }

    /// The revoked keyids, sorted.
    pub fn keyids(&self) -> impl Iterator<Item = &KeyId> {
        self.keyids.iter()
    }

    /// Whether the key `keyid` names in `keys` is revoked: by its keyid, or by the material
    /// of a revoked keyid `keys` also lists.
    pub fn contains(&self, keyid: &KeyId, keys: &BTreeMap<KeyId, Key>) -> bool {
        if self.keyids.contains(keyid) {
            return true;
        }
        let Some(key) = keys.get(keyid) else {
            return false;
        };
        let material = key.material();
        self.keyids
            .iter()
            .filter_map(|r| keys.get(r))
            .any(|k| k.material() == material)
    }

    /// `sigs` without the signatures of revoked keys (keys looked up in `keys`), and the
    /// keyids left out.
    pub fn split(
        &self,
        sigs: &[Signature],
        keys: &BTreeMap<KeyId, Key>,
    ) -> (Vec<Signature>, Vec<KeyId>) {
        let mut counted = Vec::with_capacity(sigs.len());
        let mut revoked = Vec::new();
        for s in sigs {
            if self.contains(&s.keyid, keys) {
                revoked.push(s.keyid.clone());
            } else {
                counted.push(s.clone());
            }
        }
        (counted, revoked)
    }
}

/// Revoked keys and the files they are not counted on ([`verify_repository_revoked`]).
#[derive(Clone, Debug, Default)]
pub struct Revocation {
    /// The revoked keys.
    pub keys: RevokedKeys,
    /// The files (by name) whose signatures by those keys do not count; `None`: every file.
    /// A revocation's record names its drafts: the versions already published before the
    /// revocation (an earlier root a client has already trusted) are not judged again.
    pub files: Option<BTreeSet<String>>,
}

/// Count the signatures over `signed` made by distinct keys among `authorised`.
///
/// This is the only threshold counter in conclave. A key counts once however many
/// signature entries or keyids it appears under; a signature counts only if it verifies
/// with the key's own scheme over exactly these bytes (held, or produced in pieces from a
/// model too large to hold them too: [`SignedText`]).
pub fn check_threshold(
    role: &str,
    keys_from: &str,
    signed: &SignedText<'_>,
    signatures: &[Signature],
    authorised: &[KeyId],
    keys: &BTreeMap<KeyId, Key>,
    threshold: Threshold,
) -> SignatureReport {
    let checks = Checks::new(signed);
    count_threshold(
        role, keys_from, &checks, signatures, authorised, keys, threshold,
    )
}

/// [`check_threshold`], with the signature checks taken from (and added to) `checks`: a
/// signature already checked with the same key over the same bytes is not checked again.
pub fn count_threshold(
    role: &str,
    keys_from: &str,
    checks: &Checks<'_, '_>,
    signatures: &[Signature],
    authorised: &[KeyId],
    keys: &BTreeMap<KeyId, Key>,
    threshold: Threshold,
) -> SignatureReport {
    let mut report = SignatureReport {
        role: role.to_owned(),
        keys_from: keys_from.to_owned(),
        threshold: threshold.get(),
        authorised: authorised.to_vec(),
        valid: Vec::new(),
        missing: Vec::new(),
        invalid: Vec::new(),
        unknown: Vec::new(),
        duplicates: Vec::new(),
        unresolved: authorised
            .iter()
            .filter(|id| !keys.contains_key(id))
            .cloned()
            .collect(),
    };
    // The material of every key already counted ([`Key::material`]), and its keyid.
    let mut counted: Vec<(crate::metadata::KeyMaterial, KeyId)> = Vec::new();
    let candidates: Vec<(&Signature, Option<&Key>)> = signatures
        .iter()
        .map(|sig| {
            let key = authorised
                .contains(&sig.keyid)
                .then(|| keys.get(&sig.keyid))
                .flatten();
            (sig, key)
        })
        .collect();
    let results = checks.results(&candidates);
    for ((sig, key), result) in candidates.iter().zip(results) {
        let (Some(key), Some(result)) = (key, result) else {
            report.unknown.push(sig.keyid.clone());
            continue;
        };
        match result {
            Ok(()) => {
                let identity = key.material();
                if let Some((_, first)) = counted.iter().find(|(id, _)| *id == identity) {
                    report.duplicates.push((sig.keyid.clone(), first.clone()));
                } else {
                    counted.push((identity, sig.keyid.clone()));
                    report.valid.push(sig.keyid.clone());
                }
            }
            Err(e) => report.invalid.push((sig.keyid.clone(), e.to_string())),
        }
    }
    let signed: BTreeSet<&KeyId> = report
        .valid
        .iter()
        .chain(report.duplicates.iter().map(|(k, _)| k))
        .collect();
    report.missing = authorised
        .iter()
        .filter(|id| keys.contains_key(id) && !signed.contains(id))
        .cloned()
        .collect();
    report
}

/// The signature checks made over one signed text, each (key, signature) made once.
///
/// Checking a signature over a million-project claimed role hashes 377 MB; `merge` checks
/// every signature file, then counts every threshold over the same bytes, and a rotation
/// counts two. A result is reused only for the same key (its whole value, not its keyid: a
/// keyid can be claimed by another key) and the same signature text, over the same bytes.
pub struct Checks<'t, 'a> {
    signed: &'t SignedText<'a>,
    done: std::cell::RefCell<Vec<Made>>,
}

/// A check made: the key, the signature's text, and the result.
type Made = (Key, String, Result<(), crate::metadata::SignatureError>);

impl<'t, 'a> Checks<'t, 'a> {
    /// No checks made yet over `signed`.
    pub fn new(signed: &'t SignedText<'a>) -> Self {
        Checks {
            signed,
            done: Default::default(),
        }
    }

    /// Each candidate's signature checked against its key (`None` where there is no key), in
    /// order: the ones not made yet together ([`verify_all`]), the others as they came out.
    pub(crate) fn results(
        &self,
        candidates: &[(&Signature, Option<&Key>)],
    ) -> Vec<Option<Result<(), crate::metadata::SignatureError>>> {
        let mut out: Vec<Option<Result<(), crate::metadata::SignatureError>>> =
            vec![None; candidates.len()];
        let mut missing = Vec::new();
        {
            let done = self.done.borrow();
            for (i, (sig, key)) in candidates.iter().enumerate() {
                let Some(key) = key else { continue };
                match done.iter().find(|(k, s, _)| k == *key && s == &sig.sig) {
                    Some((_, _, r)) => out[i] = Some(r.clone()),
                    None => missing.push(i),
                }
            }
        }
        if missing.is_empty() {
            return out;
        }
        let todo: Vec<(&Signature, Option<&Key>)> =
            missing.iter().map(|&i| candidates[i]).collect();
        let made = verify_all(self.signed, &todo);
        let mut done = self.done.borrow_mut();
        for ((i, (sig, key)), result) in missing.into_iter().zip(&todo).zip(made) {
            if let (Some(key), Some(r)) = (key, &result) {
                done.push(((*key).clone(), sig.sig.clone(), r.clone()));
            }
            out[i] = result;
        }
        out
    }
}

/// Messages at least this long have their signatures checked in parallel: each check hashes
/// the whole message, and a claimed role can be hundreds of megabytes.
const PARALLEL_VERIFY_BYTES: usize = 1 << 20;

/// Each candidate's signature checked against its key (`None` where there is no key), in
/// order; in parallel, up to the machine's cores, for long messages.
fn verify_all(
    signed: &SignedText<'_>,
    candidates: &[(&Signature, Option<&Key>)],
) -> Vec<Option<Result<(), crate::metadata::SignatureError>>> {
    let Some(message) = signed.held() else {
        return verify_all_pieces(signed, candidates);
    };
    let check = |(sig, key): &(&Signature, Option<&Key>)| key.map(|k| k.verify(message, &sig.sig));
    let with_keys = candidates.iter().filter(|(_, k)| k.is_some()).count();
    if message.len() < PARALLEL_VERIFY_BYTES || with_keys < 2 {
        return candidates.iter().map(check).collect();
    }
    crate::par::map_parts(
        candidates,
        2,
        |part| part.iter().map(check).collect(),
        |part| {
            // A panic inside a signature check: nothing from that part counts.
            let failed =
                crate::metadata::SignatureError::Malformed("the signature check failed".into());
            vec![Some(Err(failed)); part.len()]
        },
    )
}

/// Check each signature (hex) against its key over `signed`: in one pass shared by all the
/// checks when the bytes come in pieces.
pub(crate) fn verify_each(
    memo: &Checks<'_, '_>,
    checks: &[(&Key, &str)],
) -> Vec<Result<(), crate::metadata::SignatureError>> {
    let sigs: Vec<Signature> = checks
        .iter()
        .map(|(key, sig)| Signature {
            keyid: key.keyid(),
            sig: (*sig).to_owned(),
            extra: Map::new(),
        })
        .collect();
    let candidates: Vec<(&Signature, Option<&Key>)> = sigs
        .iter()
        .zip(checks)
        .map(|(s, (key, _))| (s, Some(*key)))
        .collect();
    memo.results(&candidates)
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(crate::metadata::SignatureError::Malformed(
                    "no key to check it with".into(),
                ))
            })
        })
        .collect()
}

/// [`verify_all`] over signed bytes produced in pieces: one pass over them, shared by every
/// check, each on a thread of its own ([`crate::pieces::broadcast`]).
fn verify_all_pieces(
    pieces: &SignedText<'_>,
    candidates: &[(&Signature, Option<&Key>)],
) -> Vec<Option<Result<(), crate::metadata::SignatureError>>> {
    use crate::metadata::SignatureError;
    use crate::pieces::{Consumer, Message, broadcast};
    let with_keys: Vec<(&Signature, &Key)> = candidates
        .iter()
        .filter_map(|(s, k)| k.map(|k| (*s, k)))
        .collect();
    let consumers: Vec<Consumer<'_, Result<(), SignatureError>>> = with_keys
        .iter()
        .map(|&(sig, key)| {
            Box::new(move |m: &dyn Message| {
                key.verify_pieces(&sig.sig, |sink| m.feed(sink))
                    .unwrap_or_else(|e| {
                        Err(SignatureError::Malformed(format!(
                            "the signed bytes could not be produced: {e}"
                        )))
                    })
            }) as Consumer<'_, _>
        })
        .collect();
    let (results, _) = broadcast(consumers, 1, &mut |_, sink| pieces.feed(sink));
    let mut results = results.into_iter();
    candidates
        .iter()
        .map(|(_, key)| key.and_then(|_| results.next()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

/// A broken rule (a verification failure) or a compatibility warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file's name in the repository layout.
    pub file: String,
    /// The role the file holds, by its name.
    pub role: String,
    /// A short stable identifier of the rule, e.g. `root-chain-old-threshold`.
    pub rule: &'static str,
    /// What is wrong. It may quote untrusted text: print it escaped, as `Display` does.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: role {}: {}: {}",
            escape(&self.file),
            escape(&self.role),
            self.rule,
            escape(&self.message)
        )
    }
}

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileStatus {
    /// Every rule that applies to it holds.
    Verified,
    /// It broke at least one rule (see the problems).
    Failed,
    /// An older version of a role whose current version was checked instead.
    Superseded,
    /// A root older than the trust anchor: no client starting from the anchor loads it, so
    /// it is not read (it may be in a form today's clients refuse) and not judged.
    NotLoaded,
}

/// What verification found for one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file's name in the repository layout.
    pub file: String,
    /// The role, from the file name.
    pub role: String,
    /// The metadata's version; `None` when the file could not be read.
    pub version: Option<u64>,
    /// The metadata's expiry; `None` when the file could not be read.
    pub expires: Option<String>,
    /// Whether the file verified.
    pub status: FileStatus,
    /// Each set of keys the file's signatures were counted against (a new root is counted
    /// against its own keys and the previous root's, spec 5.3.4).
    pub signatures: Vec<SignatureReport>,
}

/// The outcome of verifying a set of metadata files.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One entry per given file whose name is a metadata file name ([`classify`]).
    pub files: Vec<FileReport>,
    /// Broken rules: the files verify only if there are none.
    pub problems: Vec<Problem>,
    /// Compatibility lint: accepted here, but may trouble some clients.
    pub warnings: Vec<Problem>,
    /// The version of the root that was trusted at the start, and of the last one reached.
    pub trusted_root: Option<u64>,
    /// The version of the last root reached along the chain.
    pub final_root: Option<u64>,
    /// The time expiry was checked against.
    pub checked_at: String,
}

impl Report {
    /// True when no rule was broken (warnings do not count).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as JSON, for machine-readable output.
    pub fn to_json(&self) -> Value {
        let problem = |p: &Problem| {
            let mut m = Map::new();
            m.insert("file".into(), Value::from(p.file.as_str()));
            m.insert("role".into(), Value::from(p.role.as_str()));
            m.insert("rule".into(), Value::from(p.rule));
            m.insert("message".into(), Value::from(p.message.as_str()));
            Value::Object(m)
        };
        let files = self
            .files
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("file".into(), Value::from(f.file.as_str()));
                m.insert("role".into(), Value::from(f.role.as_str()));
                m.insert(
                    "version".into(),
                    f.version.map_or(Value::Null, |v| Value::Int(v as i64)),
                );
                m.insert(
                    "expires".into(),
                    f.expires.as_deref().map_or(Value::Null, Value::from),
                );
                m.insert(
                    "status".into(),
                    Value::from(match f.status {
                        FileStatus::Verified => "verified",
                        FileStatus::Failed => "failed",
                        FileStatus::Superseded => "superseded",
                        FileStatus::NotLoaded => "not-loaded",
                    }),
                );
                m.insert(
                    "signatures".into(),
                    Value::Array(f.signatures.iter().map(SignatureReport::to_json).collect()),
                );
                Value::Object(m)
            })
            .collect();
        let opt = |v: Option<u64>| v.map_or(Value::Null, |v| Value::Int(v as i64));
        let mut m = Map::new();
        m.insert("ok".into(), Value::Bool(self.is_ok()));
        m.insert("checked_at".into(), Value::from(self.checked_at.as_str()));
        m.insert("trusted_root_version".into(), opt(self.trusted_root));
        m.insert("final_root_version".into(), opt(self.final_root));
        m.insert("files".into(), Value::Array(files));
        m.insert(
            "problems".into(),
            Value::Array(self.problems.iter().map(problem).collect()),
        );
        m.insert(
            "warnings".into(),
            Value::Array(self.warnings.iter().map(problem).collect()),
        );
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Repositories
// ---------------------------------------------------------------------------------------------

/// A metadata file handed to the verifier: its name in the repository layout and its bytes.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// The file's name in the repository layout, e.g. `2.root.json`.
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A file handed to [`verify_repository`]: its bytes ([`InputFile`]), or a reading the caller
/// made of it ([`ReadInput`]: a large targets role read in pieces, only its model held).
pub enum Given<'a> {
    /// A file given as its bytes.
    Bytes(&'a InputFile),
    /// A file the caller has read already.
    Read(&'a ReadInput),
}

impl Given<'_> {
    /// The file's name in the repository layout.
    pub fn name(&self) -> &str {
        match self {
            Given::Bytes(f) => &f.name,
            Given::Read(r) => &r.name,
        }
    }
}

impl<'a> From<&'a InputFile> for Given<'a> {
    fn from(f: &'a InputFile) -> Self {
        Given::Bytes(f)
    }
}

impl<'a> From<&'a ReadInput> for Given<'a> {
    fn from(r: &'a ReadInput) -> Self {
        Given::Read(r)
    }
}

/// How a file name maps to a role: `N.root.json`, `root.json`, `V.NAME.json`, `NAME.json`.
pub fn classify(name: &str) -> Option<(String, Option<u64>)> {
    let stem = name.strip_suffix(".json")?;
    if let Some((prefix, rest)) = stem.split_once('.')
        && !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
    {
        return prefix.parse().ok().map(|v| (rest.to_owned(), Some(v)));
    }
    (!stem.is_empty()).then(|| (stem.to_owned(), None))
}

/// A metadata file the caller has already read, with [`crate::fsutil::read_metadata`]: a large
/// targets role is read in pieces, and only its model is held.
pub struct ReadInput {
    /// The file's name in the repository layout.
    pub name: String,
    /// The file as read.
    pub read: FileRead,
}

struct Loaded<'a> {
    name: String,
    role: String,
    source: Source<'a>,
    meta: std::borrow::Cow<'a, AnyMetadata>,
    /// The signed bytes, when they are held ([`SignedText::of_metadata`] decides).
    held: Option<Vec<u8>>,
    version: u64,
}

/// Where a file came from: its bytes, or a reading the caller made.
enum Source<'a> {
    Bytes(&'a [u8]),
    Read(&'a FileRead),
}

impl<'a> Loaded<'a> {
    fn new(
        name: String,
        role: String,
        source: Source<'a>,
        meta: std::borrow::Cow<'a, AnyMetadata>,
    ) -> Self {
        let held = SignedText::of_metadata(&meta).held().map(<[u8]>::to_vec);
        let version = meta.common().version.get();
        Loaded {
            name,
            role,
            source,
            meta,
            held,
            version,
        }
    }

    /// The bytes this file's signatures cover: always the canonical form of the model read
    /// from it ([`crate::metadata::SignedText`]), never the file's own text.
    fn signed(&self) -> SignedText<'_> {
        match &self.held {
            Some(b) => SignedText::of(b),
            None => SignedText::Pieces(&self.meta),
        }
    }

    /// The file's length in bytes.
    fn len(&self) -> u64 {
        match self.source {
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::Read(read) => read.len,
        }
    }
}

struct State {
    report: Report,
    now: Expires,
    /// Index into `report.files` by file name.
    index: BTreeMap<String, usize>,
    /// Keys whose signatures do not count, and on which files.
    revocations: Vec<Revocation>,
}

impl State {
    /// `sigs` on `file` (role `role`) without those of keys revoked for that file (keys
    /// looked up in `keys`); a warning names each key left out.
    fn counted(
        &mut self,
        file: &str,
        role: &str,
        sigs: &[Signature],
        keys: &BTreeMap<KeyId, Key>,
    ) -> Vec<Signature> {
        let mut sigs = sigs.to_vec();
        let applying: Vec<RevokedKeys> = self
            .revocations
            .iter()
            .filter(|r| r.files.as_ref().is_none_or(|f| f.contains(file)))
            .map(|r| r.keys.clone())
            .collect();
        for keys_revoked in applying {
            let (counted, left_out) = keys_revoked.split(&sigs, keys);
            for k in left_out {
                let message = format!("not counted: key {k} is revoked");
                let said = self
                    .report
                    .warnings
                    .iter()
                    .any(|w| w.file == file && w.message == message);
                if !said {
                    self.warn(file, role, "revoked-key", message);
                }
            }
            sigs = counted;
        }
        sigs
    }

    fn problem(&mut self, file: &str, role: &str, rule: &'static str, message: String) {
        if let Some(&i) = self.index.get(file) {
            self.report.files[i].status = FileStatus::Failed;
        }
        self.report.problems.push(Problem {
            file: file.to_owned(),
            role: role.to_owned(),
            rule,
            message,
        });
    }

    fn warn(&mut self, file: &str, role: &str, rule: &'static str, message: String) {
        self.report.warnings.push(Problem {
            file: file.to_owned(),
            role: role.to_owned(),
            rule,
            message,
        });
    }

    fn file_mut(&mut self, file: &str) -> Option<&mut FileReport> {
        self.index.get(file).map(|&i| &mut self.report.files[i])
    }

    fn add_signature_report(&mut self, file: &str, sr: SignatureReport) {
        if let Some(f) = self.file_mut(file) {
            f.signatures.push(sr);
        }
    }

    /// Record a threshold check and turn a failure into a problem. Returns whether it was met.
    fn threshold(&mut self, l: &Loaded, rule: &'static str, sr: SignatureReport) -> bool {
        let met = sr.is_met();
        if !met {
            let mut why = Vec::new();
            if !sr.invalid.is_empty() {
                why.push(format!(
                    "invalid: {}",
                    sr.invalid
                        .iter()
                        .map(|(k, e)| format!("{} ({e})", k.short()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !sr.duplicates.is_empty() {
                why.push(format!(
                    "counted once: {}",
                    sr.duplicates
                        .iter()
                        .map(|(k, first)| format!(
                            "{} is the same key as {}",
                            k.short(),
                            first.short()
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !sr.unknown.is_empty() {
                why.push(format!(
                    "not authorised: {}",
                    sr.unknown
                        .iter()
                        .map(KeyId::short)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if sr.authorised.len() < sr.threshold as usize {
                why.push(format!(
                    "only {} keys are authorised, so the threshold can never be met",
                    sr.authorised.len()
                ));
            }
            let detail = if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            };
            self.problem(
                &l.name,
                &l.role,
                rule,
                format!(
                    "{} of the threshold {} of {} keys signed validly{detail}",
                    sr.valid.len(),
                    sr.threshold,
                    sr.keys_from
                ),
            );
        }
        self.add_signature_report(&l.name.clone(), sr);
        met
    }

    fn check_expiry(&mut self, l: &Loaded) {
        let expires = l.meta.common().expires;
        if expires.is_expired_at(self.now) {
            self.problem(
                &l.name,
                &l.role,
                "expired",
                format!(
                    "expired at {expires} (checked at {}); clients refuse expired metadata",
                    self.now
                ),
            );
        }
    }
}

/// Verify a set of metadata files as a TUF client would.
///
/// `files` are [`InputFile`]s (bytes) or [`ReadInput`]s (files the caller read in pieces), as
/// [`Given`]. `trusted_root`, if given, is the trust anchor; otherwise the lowest
/// `N.root.json` among `files` is. `now` is the time expiry is checked against.
pub fn verify_repository<'a, G: Into<Given<'a>>>(
    files: impl IntoIterator<Item = G>,
    trusted_root: Option<&InputFile>,
    now: Expires,
) -> Report {
    verify_repository_revoked(files, trusted_root, now, &[])
}

/// [`verify_repository`], where the signatures of revoked keys count toward no threshold on
/// the files each [`Revocation`] names; each one left out is a `revoked-key` warning.
pub fn verify_repository_revoked<'a, G: Into<Given<'a>>>(
    files: impl IntoIterator<Item = G>,
    trusted_root: Option<&InputFile>,
    now: Expires,
    revocations: &[Revocation],
) -> Report {
    let mut st = State {
        report: Report {
            checked_at: now.to_string(),
            ..Report::default()
        },
        now,
        index: BTreeMap::new(),
        revocations: revocations.to_vec(),
    };
    // Roots older than a given trust anchor are never loaded by a client starting from it.
    let anchor = trusted_root
        .and_then(|t| AnyMetadata::from_bytes(&t.bytes).ok())
        .map(|m| m.common().version.get());
    let given = files.into_iter().map(Into::into).filter(|g: &Given<'_>| {
        let name = g.name();
        match (anchor, classify(name)) {
            (Some(a), Some((role, Some(v)))) if role == "root" && v < a => {
                st.report.files.push(FileReport {
                    file: name.to_owned(),
                    role,
                    version: Some(v),
                    expires: None,
                    status: FileStatus::NotLoaded,
                    signatures: Vec::new(),
                });
                false
            }
            _ => true,
        }
    });
    let given: Vec<Given<'_>> = given.collect();
    let loaded = load_all(&mut st, given.into_iter());
    // Which files end up checked against something; anything left over is an orphan.
    let mut checked: BTreeSet<String> = BTreeSet::new();
    // The root chain (spec 5.2, 5.3).
    let Some(root) = verify_root_chain(&mut st, &loaded, trusted_root, &mut checked) else {
        for l in loaded.iter().filter(|l| !checked.contains(&l.name)) {
            st.problem(
                &l.name,
                &l.role,
                "no-root",
                "there is no trusted root to verify it against (give the repository's \
                 N.root.json files, or the root you trust)"
                    .into(),
            );
        }
        return st.report;
    };
    let mut walk = Walk {
        loaded: &loaded,
        snapshot_meta: None,
        checked,
    };
    walk.timestamp_and_snapshot(&mut st, &root);
    walk.targets(&mut st, &root);
    sort_files(&mut st);
    walk.leftovers(&mut st);
    st.report
}

/// Step 1: parse everything; every file present must at least be well-formed metadata whose
/// name matches its `_type` and version. The files that pass, ready to check.
fn load_all<'a>(st: &mut State, given: impl Iterator<Item = Given<'a>>) -> Vec<Loaded<'a>> {
    let mut loaded = Vec::new();
    for given in given {
        let name = match given {
            Given::Bytes(f) => &f.name,
            Given::Read(r) => &r.name,
        };
        let Some((role, name_version)) = classify(name) else {
            continue;
        };
        st.index.insert(name.clone(), st.report.files.len());
        st.report.files.push(FileReport {
            file: name.clone(),
            role: role.clone(),
            version: None,
            expires: None,
            status: FileStatus::Verified,
            signatures: Vec::new(),
        });
        let (meta, source) = match given {
            Given::Bytes(f) => match AnyMetadata::from_bytes(&f.bytes) {
                Ok(meta) => (std::borrow::Cow::Owned(meta), Source::Bytes(&f.bytes)),
                Err(e) => {
                    st.problem(name, &role, "malformed", e.to_string());
                    continue;
                }
            },
            Given::Read(r) => (
                std::borrow::Cow::Borrowed(&r.read.meta),
                Source::Read(&r.read),
            ),
        };
        let version = meta.common().version.get();
        if let Some(fr) = st.file_mut(name) {
            fr.version = Some(version);
            fr.expires = Some(meta.common().expires.to_string());
        }
        let expected_type = match role.as_str() {
            "root" | "snapshot" | "timestamp" => role.as_str(),
            _ => "targets",
        };
        if meta.type_name() != expected_type {
            st.problem(
                name,
                &role,
                "wrong-type",
                format!(
                    "holds _type \"{}\" but a file of this name must hold \"{expected_type}\"",
                    meta.type_name()
                ),
            );
            continue;
        }
        if let Some(v) = name_version
            && v != version
        {
            st.problem(
                name,
                &role,
                "version-mismatch",
                format!("the file name says version {v} but the metadata is version {version}"),
            );
            continue;
        }
        lint(st, name, &role, &meta);
        loaded.push(Loaded::new(name.clone(), role, source, meta));
    }
    loaded
}

/// The client's walk from the final root through timestamp, snapshot, targets and the
/// delegated roles (spec 5.4-5.6), over the files loaded.
struct Walk<'l, 'a> {
    loaded: &'l [Loaded<'a>],
    /// What a verified snapshot lists, once it has been checked.
    snapshot_meta: Option<BTreeMap<String, crate::metadata::MetaFile>>,
    /// Files checked against something; anything left over is an orphan.
    checked: BTreeSet<String>,
}

impl<'l, 'a> Walk<'l, 'a> {
    /// The file of `role` at version `want`, or its highest version.
    fn current(&self, role: &str, want: Option<u64>) -> Option<&'l Loaded<'a>> {
        let mut candidates: Vec<&Loaded> = self.loaded.iter().filter(|l| l.role == role).collect();
        candidates.sort_by_key(|l| l.version);
        match want {
            Some(v) => candidates.into_iter().find(|l| l.version == v),
            None => candidates.pop(),
        }
    }

    /// Steps 3 and 4: timestamp (5.4), then the snapshot it names (5.5).
    fn timestamp_and_snapshot(&mut self, st: &mut State, root: &Metadata<Root>) {
        let mut snapshot_want: Option<(u64, crate::metadata::MetaFile)> = None;
        if let Some(ts) = self.current("timestamp", None) {
            self.checked.insert(ts.name.clone());
            if let AnyMetadata::Timestamp(m) = &*ts.meta {
                verify_top_level(st, ts, root, "timestamp", &m.signatures);
                let sm = m.signed.snapshot_meta().clone();
                snapshot_want = Some((sm.version.get(), sm));
            }
        }
        let snap = match &snapshot_want {
            Some((v, _)) => self.current("snapshot", Some(*v)),
            None => self.current("snapshot", None),
        };
        if let Some((v, _)) = &snapshot_want
            && snap.is_none()
            && let Some(other) = self.current("snapshot", None)
        {
            st.problem(
                &other.name,
                "snapshot",
                "snapshot-version",
                format!(
                    "timestamp names snapshot version {v}, but this is version {}",
                    other.version
                ),
            );
            self.checked.insert(other.name.clone());
        }
        if let Some(s) = snap {
            self.checked.insert(s.name.clone());
            if let AnyMetadata::Snapshot(m) = &*s.meta {
                if let Some((_, mf)) = &snapshot_want {
                    check_meta_file(st, s, mf, "timestamp");
                }
                if verify_top_level(st, s, root, "snapshot", &m.signatures) {
                    self.snapshot_meta = Some(m.signed.meta.clone());
                }
            }
        }
    }

    /// The file to check for a targets role: the version snapshot names, else the highest.
    fn pick(&mut self, st: &mut State, role: &str) -> Option<&'l Loaded<'a>> {
        let listed = self
            .snapshot_meta
            .as_ref()
            .and_then(|m| m.get(&format!("{role}.json")))
            .cloned();
        let Some(mf) = listed else {
            let found = self.current(role, None);
            // 5.6.1 / 5.6.7: with a snapshot, clients load only what it lists.
            if let (Some(l), Some(_)) = (found, &self.snapshot_meta) {
                self.checked.insert(l.name.clone());
                st.problem(
                    &l.name,
                    role,
                    "not-in-snapshot",
                    format!("the snapshot does not list {role}.json, so clients will not load it"),
                );
                return None;
            }
            return found;
        };
        if let Some(l) = self.current(role, Some(mf.version.get())) {
            check_meta_file(st, l, &mf, "snapshot");
            return Some(l);
        }
        if let Some(other) = self.current(role, None) {
            self.checked.insert(other.name.clone());
            st.problem(
                &other.name,
                role,
                "snapshot-version",
                format!(
                    "snapshot names {role} version {}, but this is version {}",
                    mf.version, other.version
                ),
            );
        }
        None
    }

    /// Steps 5 and 6: top-level targets (5.6), then delegated roles, pre-order depth first,
    /// each against its delegator's keys (5.6.7).
    fn targets(&mut self, st: &mut State, root: &Metadata<Root>) {
        let mut first: Option<&'l Delegations> = None;
        if let Some(t) = self.pick(st, "targets") {
            self.checked.insert(t.name.clone());
            if let AnyMetadata::Targets(m) = &*t.meta
                && verify_top_level(st, t, root, "targets", &m.signatures)
                && let Some(d) = &m.signed.delegations
            {
                first = Some(d);
            }
        }
        let Some(first) = first else {
            return;
        };
        // Every role the search has reached (this is its "visited" set), with its first
        // delegator and whether a second one was reported. The delegator's name is shared,
        // not copied: a claimed role can delegate to a million projects.
        let mut parents: BTreeMap<String, (Rc<str>, bool)> =
            BTreeMap::from([("targets".to_owned(), (Rc::from(""), false))]);
        // An explicit stack of (delegator, its delegations, children present, index of the
        // next child to visit). Borrowed from the files loaded, never cloned: a claimed role's
        // delegations are hundreds of megabytes.
        let present: BTreeSet<&str> = self.loaded.iter().map(|l| l.role.as_str()).collect();
        let children = children_present(first, &present);
        let mut stack: Vec<SearchFrame<'l>> = vec![(Rc::from("targets"), first, children, 0)];
        while let Some(top) = stack.last_mut() {
            let (parent, delegations, children, next) = top;
            if *next >= children.len() {
                stack.pop();
                continue;
            }
            let child = children[*next].clone();
            *next += 1;
            let parent = Rc::clone(parent);
            if parents.contains_key(&child) {
                // A role delegating back up its own path is a cycle, which the search
                // simply stops; a second delegator elsewhere is a diamond.
                if !stack.iter().any(|(name, ..)| **name == *child) {
                    self.diamond(st, &mut parents, &child, &parent);
                }
                continue;
            }
            parents.insert(child.clone(), (Rc::clone(&parent), false));
            let delegations: &'l Delegations = delegations;
            if let Some(d) = self.delegated(st, &parent, delegations, &child) {
                let children = children_present(d, &present);
                stack.push((Rc::from(child.as_str()), d, children, 0));
            }
        }
    }

    /// `child`, met again under `parent` after the search reached it first elsewhere.
    ///
    /// The spec's pre-order search checks a role against the first delegation that reaches
    /// it, but clients do not agree: python-tuf (#2977) and go-tuf (#759) have accepted such
    /// a role signed for one parent when a search came through the other, and tough loads it
    /// under the first parent only. A role with two delegators is refused here, once.
    fn diamond(
        &self,
        st: &mut State,
        parents: &mut BTreeMap<String, (Rc<str>, bool)>,
        child: &str,
        parent: &str,
    ) {
        let (file, first) = match parents.get_mut(child) {
            Some((first, reported)) if !*reported && !first.is_empty() => {
                *reported = true;
                let file = self
                    .current(child, None)
                    .map_or_else(|| format!("{child}.json"), |l| l.name.clone());
                (file, first.to_string())
            }
            // Already reported, or a cycle back to targets (reported by its own rule).
            _ => return,
        };
        let how = if first == parent {
            format!("twice by \"{}\"", escape(parent))
        } else {
            format!("by \"{}\" and by \"{}\"", escape(&first), escape(parent))
        };
        st.problem(
            &file,
            child,
            "diamond-delegation",
            format!(
                "role \"{}\" is delegated {how}; a role must have one delegator, because \
                 clients disagree on which delegation to check it against (it was checked \
                 against \"{}\", the first the search reached)",
                escape(child),
                escape(&first)
            ),
        );
    }

    /// One delegated role `child` against `parent`'s `delegations`; its own delegations,
    /// when it verified and has any.
    fn delegated(
        &mut self,
        st: &mut State,
        parent: &str,
        delegations: &Delegations,
        child: &str,
    ) -> Option<&'l Delegations> {
        let l = self.pick(st, child)?;
        self.checked.insert(l.name.clone());
        let AnyMetadata::Targets(m) = &*l.meta else {
            return None;
        };
        let dref = delegations.find(child)?;
        let keys = delegations.keys_for(dref.keyids);
        let sigs = st.counted(&l.name, child, &m.signatures, &keys);
        let sr = check_threshold(
            child,
            parent,
            &l.signed(),
            &sigs,
            dref.keyids,
            &keys,
            dref.threshold,
        );
        let ok = st.threshold(l, "threshold", sr);
        st.check_expiry(l);
        lint_paths(st, l, delegations, m);
        if ok {
            m.signed.delegations.as_ref()
        } else {
            None
        }
    }

    /// Step 7: everything else present: copies, older versions, and files nothing vouches
    /// for.
    fn leftovers(&self, st: &mut State) {
        for l in self.loaded {
            if self.checked.contains(&l.name) {
                continue;
            }
            let same_role_checked: Vec<&Loaded> = self
                .loaded
                .iter()
                .filter(|o| o.role == l.role && self.checked.contains(&o.name))
                .collect();
            if let Some(twin) = same_role_checked.iter().find(|o| o.version == l.version) {
                // e.g. root.json beside N.root.json, or targets.json beside V.targets.json:
                // the two must say the same thing.
                if twin.signed().whole() != l.signed().whole()
                    || twin.meta.signatures() != l.meta.signatures()
                {
                    st.problem(
                        &l.name,
                        &l.role,
                        "conflicting-copy",
                        format!("differs from {}, which holds the same version", twin.name),
                    );
                }
            } else if let Some(in_use) = same_role_checked.first() {
                let note = if l.version < in_use.version {
                    "an older version"
                } else {
                    "not the version in use"
                };
                if let Some(f) = st.file_mut(&l.name) {
                    f.status = FileStatus::Superseded;
                }
                st.warn(
                    &l.name,
                    &l.role,
                    "not-checked",
                    format!(
                        "{note}: {} (version {}) was checked instead",
                        in_use.name, in_use.version
                    ),
                );
            } else {
                st.problem(
                    &l.name,
                    &l.role,
                    "not-delegated",
                    format!(
                        "no verified metadata delegates to role \"{}\", so nothing vouches for this file",
                        escape(&l.role)
                    ),
                );
            }
        }
    }
}

/// One level of the delegation search: the delegator, its delegations, the children that
/// have a file present, and the index of the next child to visit.
type SearchFrame<'l> = (Rc<str>, &'l Delegations, Vec<String>, usize);

/// Present the files in the order a client meets them: roots by version, timestamp,
/// snapshot, targets, then delegated roles.
fn sort_files(st: &mut State) {
    let rank = |role: &str| match role {
        "root" => 0,
        "timestamp" => 1,
        "snapshot" => 2,
        "targets" => 3,
        _ => 4,
    };
    st.report.files.sort_by(|a, b| {
        (rank(&a.role), &a.role, a.version, &a.file).cmp(&(
            rank(&b.role),
            &b.role,
            b.version,
            &b.file,
        ))
    });
    st.index = st
        .report
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.file.clone(), i))
        .collect();
}

/// The names of the roles `d` delegates to that have a file present, in delegation order.
fn children_present(d: &Delegations, present: &BTreeSet<&str>) -> Vec<String> {
    match &d.roles {
        DelegationRoles::List(roles) => roles
            .iter()
            .filter(|r| present.contains(r.name.as_str()))
            .map(|r| r.name.as_str().to_owned())
            .collect(),
        DelegationRoles::Succinct(s) => {
            let mut bins: Vec<(u64, &str)> = present
                .iter()
                .filter_map(|name| s.index_of(name).map(|i| (i, *name)))
                .collect();
            bins.sort();
            bins.into_iter().map(|(_, n)| n.to_owned()).collect()
        }
    }
}

/// Check timestamp, snapshot or targets against the final root's keys for that role.
fn verify_top_level(
    st: &mut State,
    l: &Loaded,
    root: &Metadata<Root>,
    role: &str,
    signatures: &[Signature],
) -> bool {
    let role_keys = root
        .signed
        .role(role)
        .expect("root always has the four roles");
    let signatures = st.counted(&l.name, role, signatures, &root.signed.keys);
    let sr = check_threshold(
        role,
        &format!("root v{} {role}", root.signed.common.version),
        &l.signed(),
        &signatures,
        &role_keys.keyids,
        &root.signed.keys,
        role_keys.threshold,
    );
    let ok = st.threshold(l, "threshold", sr);
    st.check_expiry(l);
    ok
}

/// Check a file against the version, length and hashes its parent metadata records for it.
fn check_meta_file(st: &mut State, l: &Loaded, mf: &crate::metadata::MetaFile, parent: &str) {
    if mf.version.get() != l.version {
        st.problem(
            &l.name,
            &l.role,
            "version-mismatch",
            format!(
                "{parent} names version {}, but this file is version {}",
                mf.version, l.version
            ),
        );
    }
    if let Some(len) = mf.length
        && len != l.len()
    {
        st.problem(
            &l.name,
            &l.role,
            "length-mismatch",
            format!(
                "{parent} says it is {len} bytes long, but it is {} bytes",
                l.len()
            ),
        );
    }
    for (algo, expected) in mf.hashes.iter().flatten() {
        let actual = match l.source {
            Source::Bytes(bytes) => digest_hex(algo, bytes),
            Source::Read(read) => match read.digests.get(algo.as_str()) {
                Some(d) => Some(d.clone()),
                None if digest_hex(algo, b"").is_some() => {
                    st.problem(
                        &l.name,
                        &l.role,
                        "hash-not-computed",
                        format!(
                            "{parent} records a {algo} hash, but the file was read without \
                             computing it (a fault in conclave)"
                        ),
                    );
                    continue;
                }
                None => None,
            },
        };
        match actual {
            Some(actual) if actual == *expected => {}
            Some(actual) => st.problem(
                &l.name,
                &l.role,
                "hash-mismatch",
                format!("{parent} records {algo} {expected}, but the file's {algo} is {actual}"),
            ),
            None => st.warn(
                &l.name,
                &l.role,
                "unknown-hash",
                format!("{parent} records a {algo} hash, which conclave cannot compute"),
            ),
        }
    }
}

/// Hex digest of `bytes` with a securesystemslib hash name, if conclave supports it.
pub(crate) fn digest_hex(algo: &str, bytes: &[u8]) -> Option<String> {
    match algo {
        "sha256" => Some(hex::encode(Sha256::digest(bytes))),
        "sha512" => Some(hex::encode(Sha512::digest(bytes))),
        _ => None,
    }
}

/// Walk the root chain from the anchor. Returns the final trusted root.
fn verify_root_chain(
    st: &mut State,
    loaded: &[Loaded],
    trusted: Option<&InputFile>,
    checked: &mut BTreeSet<String>,
) -> Option<Metadata<Root>> {
    let mut roots: BTreeMap<u64, &Loaded> = BTreeMap::new();
    // Prefer N.root.json; root.json is a copy that is compared against it afterwards.
    for l in loaded.iter().filter(|l| l.role == "root") {
        let versioned = l.name != "root.json";
        match roots.get(&l.version) {
            Some(existing) if existing.name != "root.json" || !versioned => {}
            _ => {
                roots.insert(l.version, l);
            }
        }
    }

    // The anchor (5.2). Even a trusted root must be signed by a threshold of its own keys;
    // python-tuf checks this when it loads one.
    let (mut current, anchor_name): (Metadata<Root>, String) = match trusted {
        Some(t) => match Metadata::<Root>::from_bytes(&t.bytes) {
            Ok(m) => (m, t.name.clone()),
            Err(e) => {
                st.problem(&t.name, "root", "malformed", format!("trusted root: {e}"));
                return None;
            }
        },
        None => {
            let (_, first) = roots.iter().next()?;
            match &*first.meta {
                AnyMetadata::Root(m) => (m.clone(), first.name.clone()),
                _ => return None,
            }
        }
    };
    let anchor_version = current.signed.common.version.get();
    st.report.trusted_root = Some(anchor_version);
    {
        let rk = current.signed.role("root").expect("root role present");
        let sr = check_threshold(
            "root",
            &format!("root v{anchor_version}"),
            &SignedText::of(&current.signed_bytes()),
            &current.signatures,
            &rk.keyids,
            &current.signed.keys,
            rk.threshold,
        );
        match roots.get(&anchor_version) {
            Some(l) if trusted.is_none() => {
                checked.insert(l.name.clone());
                if !st.threshold(l, "root-self-threshold", sr) {
                    return None;
                }
            }
            Some(l) => {
                checked.insert(l.name.clone());
                if *l.signed().whole() != *current.signed_bytes() {
                    st.problem(
                        &l.name,
                        "root",
                        "conflicting-copy",
                        format!(
                            "differs from the trusted root {anchor_name}, which has the same version"
                        ),
                    );
                }
                st.add_signature_report(&l.name.clone(), sr.clone());
                if !sr.is_met() {
                    st.problem(&anchor_name, "root", "root-self-threshold", sr.summary());
                    return None;
                }
            }
            None => {
                if !sr.is_met() {
                    st.problem(&anchor_name, "root", "root-self-threshold", sr.summary());
                    return None;
                }
            }
        }
    }
    for (v, l) in &roots {
        if *v < anchor_version {
            checked.insert(l.name.clone());
            if let Some(f) = st.file_mut(&l.name) {
                f.status = FileStatus::Superseded;
            }
        }
    }

    // The update loop (5.3): N+1 must exist to move on; stop at the first gap.
    let mut broken = false;
    let mut expected = anchor_version + 1;
    for (&v, l) in roots.range(anchor_version + 1..) {
        checked.insert(l.name.clone());
        if broken {
            st.problem(
                &l.name,
                "root",
                "root-chain-broken",
                format!("cannot be reached: the chain of trust stops before version {v}"),
            );
            continue;
        }
        if v != expected {
            // 5.3.5: the new root must be exactly N+1. Publishing vN+2 without vN+1 would
            // strand every client that trusts vN.
            st.problem(
                &l.name,
                "root",
                "root-version-skip",
                format!(
                    "version {v} follows version {} with no {expected}.root.json between; \
                     root versions must be consecutive",
                    expected - 1
                ),
            );
            broken = true;
            continue;
        }
        let AnyMetadata::Root(next) = &*l.meta else {
            continue;
        };
        let bytes = l.signed();
        let old = current.signed.role("root").expect("root role present");
        let by_old_sigs = st.counted(&l.name, "root", &next.signatures, &current.signed.keys);
        let by_old = check_threshold(
            "root",
            &format!("root v{}", v - 1),
            &bytes,
            &by_old_sigs,
            &old.keyids,
            &current.signed.keys,
            old.threshold,
        );
        let new = next.signed.role("root").expect("root role present");
        let by_new_sigs = st.counted(&l.name, "root", &next.signatures, &next.signed.keys);
        let by_new = check_threshold(
            "root",
            &format!("root v{v} (its own)"),
            &bytes,
            &by_new_sigs,
            &new.keyids,
            &next.signed.keys,
            new.threshold,
        );
        let ok_old = st.threshold(l, "root-chain-old-threshold", by_old);
        let ok_new = st.threshold(l, "root-chain-new-threshold", by_new);
        if !(ok_old && ok_new) {
            broken = true;
            continue;
        }
        // 5.3.11: rotating timestamp or snapshot keys resets the client's trusted versions.
        for role in ["timestamp", "snapshot"] {
            let before: BTreeSet<_> = current
                .signed
                .role(role)
                .map(|r| r.keyids.iter().collect())
                .unwrap_or_default();
            let after: BTreeSet<_> = next
                .signed
                .role(role)
                .map(|r| r.keyids.iter().collect())
                .unwrap_or_default();
            if before != after {
                st.warn(
                    &l.name,
                    "root",
                    "online-keys-rotated",
                    format!(
                        "the {role} keys change in this version: clients discard their trusted \
                         timestamp and snapshot (spec 5.3.11)"
                    ),
                );
            }
        }
        current = next.clone();
        expected = v + 1;
    }
    let final_version = current.signed.common.version.get();
    st.report.final_root = Some(final_version);

    // 5.3.10: the final root must be unexpired. Intermediate roots may have expired.
    let expires = current.signed.common.expires;
    if expires.is_expired_at(st.now) {
        let file = roots
            .get(&final_version)
            .map_or(anchor_name.clone(), |l| l.name.clone());
        st.problem(
            &file,
            "root",
            "expired",
            format!(
                "the final root (version {final_version}) expired at {expires} (checked at {}); \
                 clients refuse to go on (a freeze attack, or a root that must be renewed)",
                st.now
            ),
        );
    }
    Some(current)
}

// ---------------------------------------------------------------------------------------------
// Compatibility lint
// ---------------------------------------------------------------------------------------------

fn lint(st: &mut State, file: &str, role: &str, meta: &AnyMetadata) {
    for sig in meta.signatures() {
        if sig.sig.bytes().any(|b| b.is_ascii_uppercase()) {
            st.warn(
                file,
                role,
                "uppercase-signature",
                format!(
                    "the signature by keyid {} is uppercase hex; the spec's form is lowercase",
                    sig.keyid.short()
                ),
            );
        }
        if sig.sig.is_empty() {
            st.warn(
                file,
                role,
                "empty-signature",
                format!(
                    "an empty signature placeholder for keyid {} (it counts for nothing)",
                    sig.keyid.short()
                ),
            );
        }
    }
    match meta {
        AnyMetadata::Root(m) => {
            lint_keys(st, file, role, &m.signed.keys);
            let keys = KeyIndex::of(&m.signed.keys);
            for (name, rk) in &m.signed.roles {
                if !crate::metadata::TOP_LEVEL_ROLES.contains(&name.as_str()) {
                    st.warn(
                        file,
                        role,
                        "python-tuf-refuses",
                        format!(
                            "root names role \"{}\"; python-tuf refuses roots with roles other \
                             than root, targets, snapshot and timestamp",
                            escape(name)
                        ),
                    );
                }
                lint_role_keys(st, file, role, name, &rk.keyids, rk.threshold, &keys);
            }
        }
        AnyMetadata::Targets(m) => {
            if let Some(d) = &m.signed.delegations {
                lint_keys(st, file, role, &d.keys);
                let keys = KeyIndex::of(&d.keys);
                match &d.roles {
                    DelegationRoles::List(roles) => {
                        for r in roles {
                            let name = r.name.as_str();
                            if r.terminating.is_none() {
                                st.warn(
                                    file,
                                    role,
                                    "missing-terminating",
                                    format!(
                                        "the delegation to \"{}\" has no \"terminating\" field; \
                                         python-tuf refuses to load it",
                                        escape(name)
                                    ),
                                );
                            }
                            if r.paths == RolePaths::Unspecified {
                                st.warn(
                                    file,
                                    role,
                                    "python-tuf-refuses",
                                    format!(
                                        "the delegation to \"{}\" has neither \"paths\" nor \
                                         \"path_hash_prefixes\"; python-tuf refuses it",
                                        escape(name)
                                    ),
                                );
                            }
                            if let RolePaths::HashPrefixes(h) = &r.paths
                                && h.iter().any(|p| p.bytes().any(|b| b.is_ascii_uppercase()))
                            {
                                st.warn(
                                    file,
                                    role,
                                    "uppercase-hash-prefix",
                                    format!(
                                        "the delegation to \"{}\" has uppercase hash prefixes, \
                                         which never match (hex digests are lowercase)",
                                        escape(name)
                                    ),
                                );
                            }
                            if !r.name.is_url_safe() {
                                st.warn(
                                    file,
                                    role,
                                    "role-name-not-url-safe",
                                    format!(
                                        "role name \"{}\" has characters outside [A-Za-z0-9._-], \
                                         which clients percent-encode in file names",
                                        escape(name)
                                    ),
                                );
                            }
                            lint_role_keys(st, file, role, name, &r.keyids, r.threshold, &keys);
                        }
                    }
                    DelegationRoles::Succinct(s) => {
                        lint_role_keys(
                            st,
                            file,
                            role,
                            &format!("{}-*", s.name_prefix),
                            &s.keyids,
                            s.threshold,
                            &keys,
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

fn lint_keys(st: &mut State, file: &str, role: &str, keys: &BTreeMap<KeyId, Key>) {
    for (id, key) in keys {
        if key.algorithm().is_none() {
            st.warn(
                file,
                role,
                "unsupported-key",
                format!(
                    "key {} has keytype \"{}\" and scheme \"{}\", which conclave cannot verify",
                    id.short(),
                    escape(&key.keytype),
                    escape(&key.scheme)
                ),
            );
            continue;
        }
        if key.is_legacy_keytype() {
            st.warn(
                file,
                role,
                "legacy-keytype",
                format!(
                    "key {} uses the legacy keytype \"ecdsa-sha2-nistp256\"; the spec's \
                     spelling is \"ecdsa\"",
                    id.short()
                ),
            );
        }
        if let Err(SignatureError::MalformedKey(why)) = key.identity() {
            st.warn(
                file,
                role,
                "malformed-key",
                format!("key {}: {why}; it can never sign validly", id.short()),
            );
        }
        for field in crate::metadata::keyset::private_fields(key) {
            st.problem(
                file,
                role,
                "private-key-material",
                format!(
                    "key {} carries \"{}\", which looks like private key material: anyone \
                     who reads this file may hold the key",
                    id.short(),
                    escape(&field)
                ),
            );
        }
        let computed = key.keyid();
        if &computed != id {
            st.warn(
                file,
                role,
                "keyid-not-canonical",
                format!(
                    "keyid {} is not the SHA-256 of the canonical key ({}); python-tuf \
                     accepts it, but the spec asks clients to recompute keyids",
                    id.short(),
                    computed.short()
                ),
            );
        }
    }
}

/// Keys by keyid, hashed: a claimed role's million delegations each look up their keyids,
/// and a search of the ordered map for each took about 0.4 s at a million projects.
struct KeyIndex<'k>(std::collections::HashMap<&'k KeyId, &'k Key>);

impl<'k> KeyIndex<'k> {
    fn of(keys: &'k BTreeMap<KeyId, Key>) -> Self {
        KeyIndex(keys.iter().collect())
    }

    fn get(&self, keyid: &KeyId) -> Option<&'k Key> {
        self.0.get(keyid).copied()
    }
}

fn lint_role_keys(
    st: &mut State,
    file: &str,
    role: &str,
    delegated: &str,
    keyids: &[KeyId],
    threshold: Threshold,
    keys: &KeyIndex<'_>,
) {
    // Each keyid is looked up once.
    let mut resolved = 0;
    // One key under two listed keyids: python-tuf and go-tuf count it twice, so one key
    // holder (or one thief) meets a threshold of 2 in pip. conclave counts it once, but the
    // metadata is unsafe for the clients people run: an error, not a lint.
    let mut seen: BTreeMap<crate::metadata::KeyMaterial, &KeyId> = BTreeMap::new();
    for k in keyids {
        let Some(key) = keys.get(k) else { continue };
        resolved += 1;
        if keyids.len() < 2 {
            continue;
        }
        if let Some(first) = seen.insert(key.material(), k) {
            st.problem(
                file,
                role,
                "same-key-twice",
                format!(
                    "role \"{}\" lists keyids {} and {}, which hold the same public key: \
                     python-tuf and go-tuf would count it twice towards the threshold",
                    escape(delegated),
                    first.short(),
                    k.short()
                ),
            );
        }
    }
    if resolved < keyids.len() {
        for k in keyids.iter().filter(|k| keys.get(k).is_none()) {
            st.warn(
                file,
                role,
                "unresolved-keyid",
                format!(
                    "role \"{}\" lists keyid {} but no such key is defined",
                    escape(delegated),
                    k.short()
                ),
            );
        }
    }
    if (threshold.get() as usize) > resolved {
        st.warn(
            file,
            role,
            "threshold-unreachable",
            format!(
                "role \"{}\" needs {} signatures but has only {resolved} keys",
                escape(delegated),
                threshold
            ),
        );
    }
}

/// Targets a delegated role lists outside the paths it was delegated are ignored by clients.
fn lint_paths(st: &mut State, l: &Loaded, parent: &Delegations, m: &Metadata<Targets>) {
    let outside: Vec<&String> = match &parent.roles {
        DelegationRoles::List(roles) => match roles.iter().find(|r| r.name.as_str() == l.role) {
            Some(r) => m.signed.targets.keys().filter(|t| !r.covers(t)).collect(),
            None => Vec::new(),
        },
        DelegationRoles::Succinct(s) => m
            .signed
            .targets
            .keys()
            .filter(|t| s.bin_for(t) != l.role)
            .collect(),
    };
    if let Some(first) = outside.first() {
        st.warn(
            &l.name,
            &l.role,
            "target-outside-delegation",
            format!(
                "{} target(s) lie outside the paths this role was delegated (e.g. \"{}\"); \
                 clients will not trust it for them",
                outside.len(),
                escape(first)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{
        DelegatedRole, MetaFile, PIECES_MIN_ENTRIES, Role, RoleKeys, RoleName, Snapshot, Timestamp,
        Version,
    };

    const FAR: &str = "2100-01-01T00:00:00Z";
    const PAST: &str = "2020-01-01T00:00:00Z";

    // Officers 1..3 hold root (2 of 3); 4 is targets, 5 timestamp, 6 snapshot; 7 is the
    // developer project "proj" is delegated to; 9 is nobody's key.
    const ROOT: [u8; 3] = [1, 2, 3];
    const TARGETS: u8 = 4;
    const TIMESTAMP: u8 = 5;
    const SNAPSHOT: u8 = 6;
    const DEV: u8 = 7;
    const NOBODY: u8 = 9;

    fn now() -> Expires {
        Expires::parse("2030-01-01T00:00:00Z").unwrap()
    }

    /// A test key: the verifier is tested without the signer module (verify must not depend
    /// on what signs), with ed25519-dalek signing directly.
    struct TestKey {
        secret: ed25519_dalek::SigningKey,
        public: Key,
    }

    impl TestKey {
        fn public_key(&self) -> &Key {
            &self.public
        }

        fn sign_into<T: Role>(&self, md: &mut Metadata<T>) {
            use ed25519_dalek::Signer as _;
            let sig = self.secret.sign(&md.signed_bytes());
            let keyid = self.public.keyid();
            md.signatures.retain(|s| s.keyid != keyid);
            md.signatures.push(Signature {
                keyid,
                sig: hex::encode(sig.to_bytes()),
                extra: Map::new(),
            });
        }
    }

    fn s(n: u8) -> TestKey {
        let secret = ed25519_dalek::SigningKey::from_bytes(&[n; 32]);
        let public = Key::ed25519(&secret.verifying_key().to_bytes());
        TestKey { secret, public }
    }

    fn kid(n: u8) -> KeyId {
        s(n).public_key().keyid()
    }

    use crate::metadata::testkit::{common, th};

    fn root(v: u64, root_keys: &[u8], threshold: u32, expires: &str) -> Root {
        let ids = |v: &[u8]| v.iter().map(|&n| kid(n)).collect();
        Root {
            common: common(v, expires),
            consistent_snapshot: Some(true),
            keys: root_keys
                .iter()
                .chain(&[TARGETS, TIMESTAMP, SNAPSHOT])
                .map(|&n| (kid(n), s(n).public_key().clone()))
                .collect(),
            roles: BTreeMap::from([
                ("root".into(), RoleKeys::new(ids(root_keys), th(threshold))),
                ("targets".into(), RoleKeys::new(ids(&[TARGETS]), th(1))),
                ("timestamp".into(), RoleKeys::new(ids(&[TIMESTAMP]), th(1))),
                ("snapshot".into(), RoleKeys::new(ids(&[SNAPSHOT]), th(1))),
            ]),
            extra: Map::new(),
        }
    }

    fn signed<T: Role>(t: T, by: &[u8]) -> Metadata<T> {
        let mut md = Metadata::new(t);
        for &n in by {
            s(n).sign_into(&mut md);
        }
        md
    }

    fn file<T: Role>(name: &str, md: &Metadata<T>) -> InputFile {
        InputFile {
            name: name.into(),
            bytes: md.to_file_bytes(),
        }
    }

    fn delegation(name: &str, keys: &[u8], threshold: u32) -> DelegatedRole {
        DelegatedRole {
            name: RoleName::delegated(name).unwrap(),
            keyids: keys.iter().map(|&n| kid(n)).collect(),
            threshold: th(threshold),
            terminating: Some(true),
            paths: RolePaths::Patterns(vec![format!("{name}/*").into()]),
            extra: Map::new(),
        }
    }

    fn delegations(roles: Vec<DelegatedRole>, keys: &[u8]) -> Delegations {
        Delegations {
            keys: keys
                .iter()
                .map(|&n| (kid(n), s(n).public_key().clone()))
                .collect(),
            roles: DelegationRoles::List(roles),
            extra: Map::new(),
        }
    }

    fn targets(v: u64, delegations: Option<Delegations>) -> Targets {
        Targets {
            common: common(v, FAR),
            targets: BTreeMap::new(),
            delegations,
            extra: Map::new(),
        }
    }

    /// Top-level targets, delegating "proj" to the developer.
    fn top_targets() -> Targets {
        targets(
            1,
            Some(delegations(vec![delegation("proj", &[DEV], 1)], &[DEV])),
        )
    }

    /// What a parent records for `f`: its version, length and SHA-256.
    fn meta_file(f: &InputFile) -> MetaFile {
        let md = AnyMetadata::from_bytes(&f.bytes).unwrap();
        MetaFile {
            version: md.common().version,
            length: Some(f.bytes.len() as u64),
            hashes: Some(BTreeMap::from([(
                "sha256".to_owned(),
                digest_hex("sha256", &f.bytes).unwrap(),
            )])),
            extra: Map::new(),
        }
    }

    fn snapshot_over(listed: &[(&str, InputFile)]) -> Snapshot {
        Snapshot {
            common: common(1, FAR),
            meta: listed
                .iter()
                .map(|(role, f)| (format!("{role}.json"), meta_file(f)))
                .collect(),
            extra: Map::new(),
        }
    }

    fn timestamp_over(snapshot: &InputFile) -> Timestamp {
        Timestamp {
            common: common(1, FAR),
            meta: BTreeMap::from([("snapshot.json".to_owned(), meta_file(snapshot))]),
            extra: Map::new(),
        }
    }

    /// `roots`, then a snapshot listing the targets roles `listed` (by role name) and a
    /// timestamp over it, both signed by the online keys, then the `listed` files.
    fn publish(roots: Vec<InputFile>, listed: Vec<(&str, InputFile)>) -> Vec<InputFile> {
        let snap = file(
            "1.snapshot.json",
            &signed(snapshot_over(&listed), &[SNAPSHOT]),
        );
        let ts = file(
            "timestamp.json",
            &signed(timestamp_over(&snap), &[TIMESTAMP]),
        );
        let mut files = roots;
        files.push(ts);
        files.push(snap);
        files.extend(listed.into_iter().map(|(_, f)| f));
        files
    }

    fn root_v1() -> InputFile {
        file("1.root.json", &signed(root(1, &ROOT, 2, FAR), &ROOT))
    }

    fn listed_targets() -> Vec<(&'static str, InputFile)> {
        vec![
            (
                "targets",
                file("1.targets.json", &signed(top_targets(), &[TARGETS])),
            ),
            (
                "proj",
                file("1.proj.json", &signed(targets(1, None), &[DEV])),
            ),
        ]
    }

    fn repo() -> Vec<InputFile> {
        publish(vec![root_v1()], listed_targets())
    }

    fn verify(files: &[InputFile]) -> Report {
        verify_repository(files, None, now())
    }

    /// (file, rule) of every problem, in the order found.
    fn problems(r: &Report) -> Vec<(&str, &str)> {
        r.problems
            .iter()
            .map(|p| (p.file.as_str(), p.rule))
            .collect()
    }

    fn status_of<'r>(r: &'r Report, file: &str) -> &'r FileReport {
        r.files.iter().find(|f| f.file == file).unwrap()
    }

    /// check_threshold over `md`'s signed bytes against its root keys.
    fn count(
        md: &Metadata<Root>,
        sigs: &[Signature],
        authorised: &[KeyId],
        threshold: u32,
    ) -> SignatureReport {
        check_threshold(
            "root",
            "test keys",
            &SignedText::of(&md.signed_bytes()),
            sigs,
            authorised,
            &md.signed.keys,
            th(threshold),
        )
    }

    fn root_ids() -> Vec<KeyId> {
        ROOT.iter().map(|&n| kid(n)).collect()
    }

    // --- check_threshold -------------------------------------------------------------------

    #[test]
    fn threshold_counts_distinct_keys_not_signature_entries() {
        let md = signed(root(1, &ROOT, 2, FAR), &[1]);
        let one = md.signatures[0].clone();
        // Three entries of the same keyid and signature: one key, one count.
        let r = count(
            &md,
            &[one.clone(), one.clone(), one.clone()],
            &root_ids(),
            2,
        );
        assert_eq!(r.valid, vec![kid(1)]);
        assert_eq!(r.duplicates, vec![(kid(1), kid(1)), (kid(1), kid(1))]);
        assert!(!r.is_met());
        let md = signed(root(1, &ROOT, 2, FAR), &[1, 2]);
        let r = count(&md, &md.signatures, &root_ids(), 2);
        assert_eq!(r.valid, vec![kid(1), kid(2)]);
        assert_eq!(r.missing, vec![kid(3)]);
        assert!(r.is_met());
    }

    #[test]
    fn duplicate_keyids_for_one_key_count_once() {
        // Key 1 listed under its own keyid and under an alias: the attacker holding key 1
        // signs "twice" to meet a threshold of 2 alone.
        let alias = KeyId::new("alias-of-key-1").unwrap();
        let mut r = root(1, &ROOT, 2, FAR);
        r.keys.insert(alias.clone(), s(1).public_key().clone());
        r.roles.get_mut("root").unwrap().keyids = vec![kid(1), alias.clone()];
        let mut md = signed(r, &[1]);
        let mut again = md.signatures[0].clone();
        again.keyid = alias.clone();
        md.signatures.push(again);
        let authorised = vec![kid(1), alias.clone()];
        let sr = count(&md, &md.signatures, &authorised, 2);
        assert_eq!(sr.valid, vec![kid(1)]);
        assert_eq!(sr.duplicates, vec![(alias.clone(), kid(1))]);
        assert!(sr.missing.is_empty());
        assert!(!sr.is_met());

        // The repository verifier refuses such a root as its own anchor, and reports the
        // alias itself: python-tuf would count the key twice.
        let report = verify(&[file("1.root.json", &md)]);
        assert_eq!(
            problems(&report),
            vec![
                ("1.root.json", "same-key-twice"),
                ("1.root.json", "root-self-threshold")
            ]
        );
        assert!(report.problems[1].message.contains("counted once"));
        assert_eq!(report.final_root, None);
    }

    #[test]
    fn a_signature_by_an_unauthorised_key_is_not_counted() {
        // Key 4 is in the root's key list (for targets) but not authorised for root; key 9
        // is nobody's.
        let md = signed(root(1, &ROOT, 2, FAR), &[1, TARGETS, NOBODY]);
        let r = count(&md, &md.signatures, &root_ids(), 2);
        assert_eq!(r.valid, vec![kid(1)]);
        assert_eq!(r.unknown, vec![kid(TARGETS), kid(NOBODY)]);
        assert!(!r.is_met());
        // An authorised keyid with no key object can never count.
        let ghost = KeyId::new("no-such-key").unwrap();
        let r = count(&md, &md.signatures, &[kid(1), ghost.clone()], 2);
        assert_eq!(r.unresolved, vec![ghost]);
        assert!(!r.is_met());
    }

    #[test]
    fn a_signature_relabelled_with_an_authorised_keyid_is_invalid() {
        let mut md = signed(root(1, &ROOT, 2, FAR), &[1, NOBODY]);
        md.signatures[1].keyid = kid(2);
        let r = count(&md, &md.signatures, &root_ids(), 2);
        assert_eq!(r.valid, vec![kid(1)]);
        assert_eq!(r.invalid.len(), 1);
        assert_eq!(r.invalid[0].0, kid(2));
        assert_eq!(r.invalid[0].1, SignatureError::Mismatch.to_string());
        assert_eq!(r.missing, vec![kid(2), kid(3)]);
        assert!(!r.is_met());
    }

    #[test]
    fn a_tampered_signed_field_invalidates_every_signature() {
        let mut md = signed(root(1, &ROOT, 2, FAR), &ROOT);
        assert!(count(&md, &md.signatures, &root_ids(), 2).is_met());
        md.signed.common.expires = Expires::parse("2200-01-01T00:00:00Z").unwrap();
        let r = count(&md, &md.signatures, &root_ids(), 2);
        assert!(r.valid.is_empty());
        assert_eq!(r.invalid.len(), 3);
        assert!(!r.is_met());
    }

    // --- whole repositories ----------------------------------------------------------------

    #[test]
    fn a_complete_repository_verifies() {
        let r = verify(&repo());
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!((r.trusted_root, r.final_root), (Some(1), Some(1)));
        assert!(r.files.iter().all(|f| f.status == FileStatus::Verified));
        let order: Vec<&str> = r.files.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(
            order,
            vec![
                "1.root.json",
                "timestamp.json",
                "1.snapshot.json",
                "1.targets.json",
                "1.proj.json"
            ]
        );
    }

    #[test]
    fn a_tampered_targets_file_fails_and_vouches_for_nothing() {
        let mut t = signed(top_targets(), &[TARGETS]);
        t.signed.common.expires = Expires::parse("2200-01-01T00:00:00Z").unwrap();
        let mut listed = listed_targets();
        listed[0].1 = file("1.targets.json", &t);
        let r = verify(&publish(vec![root_v1()], listed));
        assert_eq!(
            problems(&r),
            vec![
                ("1.targets.json", "threshold"),
                ("1.proj.json", "not-delegated")
            ]
        );
    }

    #[test]
    fn a_new_root_signed_only_by_its_own_keys_is_refused() {
        let v2 = file(
            "2.root.json",
            &signed(root(2, &[10, 11, 12], 2, FAR), &[10, 11]),
        );
        let r = verify(&publish(vec![root_v1(), v2], listed_targets()));
        assert_eq!(
            problems(&r),
            vec![("2.root.json", "root-chain-old-threshold")]
        );
        assert_eq!(r.final_root, Some(1));
        // One old signature is not enough either.
        let v2 = file(
            "2.root.json",
            &signed(root(2, &[10, 11, 12], 2, FAR), &[1, 10, 11]),
        );
        let r = verify(&publish(vec![root_v1(), v2], listed_targets()));
        assert_eq!(
            problems(&r),
            vec![("2.root.json", "root-chain-old-threshold")]
        );
    }

    #[test]
    fn a_new_root_not_signed_by_its_own_threshold_is_refused() {
        let v2 = file(
            "2.root.json",
            &signed(root(2, &[10, 11, 12], 2, FAR), &[1, 2, 10]),
        );
        let r = verify(&publish(vec![root_v1(), v2], listed_targets()));
        assert_eq!(
            problems(&r),
            vec![("2.root.json", "root-chain-new-threshold")]
        );
        assert_eq!(r.final_root, Some(1));
    }

    #[test]
    fn a_rotation_signed_by_both_thresholds_is_followed() {
        let v2 = file(
            "2.root.json",
            &signed(root(2, &[10, 11, 12], 2, FAR), &[1, 2, 10, 11]),
        );
        let r = verify(&publish(vec![root_v1(), v2], listed_targets()));
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!((r.trusted_root, r.final_root), (Some(1), Some(2)));
        let sigs = &status_of(&r, "2.root.json").signatures;
        assert_eq!(sigs.len(), 2, "checked against both roots");
        assert!(sigs.iter().all(SignatureReport::is_met));
    }

    #[test]
    fn root_versions_must_be_consecutive() {
        let v3 = file("3.root.json", &signed(root(3, &ROOT, 2, FAR), &ROOT));
        let v4 = file("4.root.json", &signed(root(4, &ROOT, 2, FAR), &ROOT));
        let r = verify(&publish(vec![root_v1(), v3, v4], listed_targets()));
        assert_eq!(
            problems(&r),
            vec![
                ("3.root.json", "root-version-skip"),
                ("4.root.json", "root-chain-broken")
            ]
        );
        assert_eq!(r.final_root, Some(1));
    }

    #[test]
    fn an_expired_intermediate_root_is_ignored() {
        let v1 = file("1.root.json", &signed(root(1, &ROOT, 2, PAST), &ROOT));
        let v2 = file("2.root.json", &signed(root(2, &ROOT, 2, FAR), &ROOT));
        let r = verify(&publish(vec![v1, v2], listed_targets()));
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!(r.final_root, Some(2));
    }

    #[test]
    fn freeze_attack_an_expired_final_root_fails() {
        let v1 = file("1.root.json", &signed(root(1, &ROOT, 2, FAR), &ROOT));
        let v2 = file("2.root.json", &signed(root(2, &ROOT, 2, PAST), &ROOT));
        let r = verify(&publish(vec![v1, v2], listed_targets()));
        assert_eq!(problems(&r), vec![("2.root.json", "expired")]);
        assert_eq!(r.final_root, Some(2));
    }

    #[test]
    fn freeze_attack_an_expired_timestamp_fails() {
        let listed = listed_targets();
        let snap = file(
            "1.snapshot.json",
            &signed(snapshot_over(&listed), &[SNAPSHOT]),
        );
        let mut ts = timestamp_over(&snap);
        ts.common.expires = Expires::parse(PAST).unwrap();
        let mut files = vec![root_v1(), file("timestamp.json", &signed(ts, &[TIMESTAMP]))];
        files.push(snap);
        files.extend(listed.into_iter().map(|(_, f)| f));
        let r = verify(&files);
        assert_eq!(problems(&r), vec![("timestamp.json", "expired")]);
    }

    /// The repository with the timestamp's record of the snapshot changed by `tweak`.
    fn with_timestamp_record(tweak: impl FnOnce(&mut MetaFile)) -> Vec<InputFile> {
        let listed = listed_targets();
        let snap = file(
            "1.snapshot.json",
            &signed(snapshot_over(&listed), &[SNAPSHOT]),
        );
        let mut ts = timestamp_over(&snap);
        tweak(ts.meta.get_mut("snapshot.json").unwrap());
        let mut files = vec![root_v1(), file("timestamp.json", &signed(ts, &[TIMESTAMP]))];
        files.push(snap);
        files.extend(listed.into_iter().map(|(_, f)| f));
        files
    }

    #[test]
    fn mix_and_match_a_snapshot_other_than_the_timestamp_names_fails() {
        let r = verify(&with_timestamp_record(|m| {
            m.version = Version::new(2).unwrap()
        }));
        assert_eq!(problems(&r), vec![("1.snapshot.json", "snapshot-version")]);
    }

    #[test]
    fn a_snapshot_whose_length_differs_from_the_timestamps_record_fails() {
        let r = verify(&with_timestamp_record(|m| {
            m.length = m.length.map(|l| l + 1)
        }));
        assert_eq!(problems(&r), vec![("1.snapshot.json", "length-mismatch")]);
    }

    #[test]
    fn a_snapshot_whose_hash_differs_from_the_timestamps_record_fails() {
        let r = verify(&with_timestamp_record(|m| {
            m.hashes = Some(BTreeMap::from([(
                "sha256".to_owned(),
                digest_hex("sha256", b"another snapshot").unwrap(),
            )]));
        }));
        assert_eq!(problems(&r), vec![("1.snapshot.json", "hash-mismatch")]);
    }

    #[test]
    fn a_timestamp_signed_by_the_snapshot_key_fails() {
        let listed = listed_targets();
        let snap = file(
            "1.snapshot.json",
            &signed(snapshot_over(&listed), &[SNAPSHOT]),
        );
        let ts = file(
            "timestamp.json",
            &signed(timestamp_over(&snap), &[SNAPSHOT]),
        );
        let mut files = vec![root_v1(), ts, snap];
        files.extend(listed.into_iter().map(|(_, f)| f));
        let r = verify(&files);
        assert_eq!(problems(&r), vec![("timestamp.json", "threshold")]);
        assert!(r.problems[0].message.contains("not authorised"));
    }

    /// The repository with the snapshot's record of targets.json changed by `tweak`.
    fn with_snapshot_record(tweak: impl FnOnce(&mut MetaFile)) -> Vec<InputFile> {
        let listed = listed_targets();
        let mut snap = snapshot_over(&listed);
        tweak(snap.meta.get_mut("targets.json").unwrap());
        let snap = file("1.snapshot.json", &signed(snap, &[SNAPSHOT]));
        let ts = file(
            "timestamp.json",
            &signed(timestamp_over(&snap), &[TIMESTAMP]),
        );
        let mut files = vec![root_v1(), ts, snap];
        files.extend(listed.into_iter().map(|(_, f)| f));
        files
    }

    #[test]
    fn rollback_targets_other_than_the_snapshot_names_are_not_loaded() {
        let r = verify(&with_snapshot_record(|m| {
            m.version = Version::new(2).unwrap()
        }));
        assert_eq!(
            problems(&r),
            vec![
                ("1.targets.json", "snapshot-version"),
                ("1.proj.json", "not-delegated")
            ]
        );
    }

    #[test]
    fn targets_whose_length_or_hash_differ_from_the_snapshots_record_fail() {
        let r = verify(&with_snapshot_record(|m| m.length = Some(1)));
        assert_eq!(problems(&r), vec![("1.targets.json", "length-mismatch")]);
        let r = verify(&with_snapshot_record(|m| {
            m.hashes = Some(BTreeMap::from([(
                "sha256".to_owned(),
                digest_hex("sha256", b"other targets").unwrap(),
            )]));
        }));
        assert_eq!(problems(&r), vec![("1.targets.json", "hash-mismatch")]);
    }

    #[test]
    fn a_delegated_role_signed_by_a_key_its_delegator_did_not_name_fails() {
        // The targets key is trusted by root, but targets delegated "proj" to key 7 only.
        let mut listed = listed_targets();
        listed[1].1 = file("1.proj.json", &signed(targets(1, None), &[TARGETS]));
        let r = verify(&publish(vec![root_v1()], listed));
        assert_eq!(problems(&r), vec![("1.proj.json", "threshold")]);
        assert_eq!(r.problems[0].role, "proj");
        assert!(r.problems[0].message.contains("not authorised"));
        let sr = &status_of(&r, "1.proj.json").signatures[0];
        assert_eq!(sr.keys_from, "targets");
        assert_eq!(sr.unknown, vec![kid(TARGETS)]);
        // An extra signature beside the right one does no harm.
        let mut listed = listed_targets();
        listed[1].1 = file("1.proj.json", &signed(targets(1, None), &[TARGETS, DEV]));
        let r = verify(&publish(vec![root_v1()], listed));
        assert!(r.is_ok(), "{:?}", r.problems);
    }

    #[test]
    fn a_role_missing_from_the_snapshot_is_not_loaded() {
        let mut listed = listed_targets();
        let proj = listed.pop().unwrap().1;
        let mut files = publish(vec![root_v1()], listed);
        files.push(proj);
        let r = verify(&files);
        assert_eq!(problems(&r), vec![("1.proj.json", "not-in-snapshot")]);
    }

    #[test]
    fn a_file_nothing_delegates_to_is_reported() {
        let mut listed = listed_targets();
        listed.push((
            "stray",
            file("1.stray.json", &signed(targets(1, None), &[DEV])),
        ));
        let r = verify(&publish(vec![root_v1()], listed));
        assert_eq!(problems(&r), vec![("1.stray.json", "not-delegated")]);
        assert_eq!(status_of(&r, "1.stray.json").status, FileStatus::Failed);
    }

    #[test]
    fn a_root_json_copy_must_equal_the_versioned_root() {
        let same = InputFile {
            name: "root.json".into(),
            ..root_v1()
        };
        let r = verify(&publish(vec![root_v1(), same], listed_targets()));
        assert!(r.is_ok(), "{:?}", r.problems);

        // The same version with other signatures, and with other content validly signed.
        let fewer = file("root.json", &signed(root(1, &ROOT, 2, FAR), &[1, 2]));
        let other = file("root.json", &signed(root(1, &ROOT, 1, FAR), &ROOT));
        for copy in [fewer, other] {
            let r = verify(&publish(vec![root_v1(), copy], listed_targets()));
            assert_eq!(problems(&r), vec![("root.json", "conflicting-copy")]);
            assert_eq!(r.final_root, Some(1));
        }
    }

    #[test]
    fn attack_a_check_made_with_one_key_is_not_reused_for_another_key_under_the_same_keyid() {
        let t = signed(targets(1, None), &[TARGETS]);
        let bytes = t.signed_bytes();
        let text = SignedText::of(&bytes);
        let checks = Checks::new(&text);
        let id = kid(TARGETS);
        let genuine = BTreeMap::from([(id.clone(), s(TARGETS).public_key().clone())]);
        // The attacker's key listed under the genuine keyid.
        let swapped = BTreeMap::from([(id.clone(), s(NOBODY).public_key().clone())]);
        let ids = [id.clone()];
        let first = count_threshold("t", "a", &checks, &t.signatures, &ids, &genuine, th(1));
        assert_eq!(first.valid, vec![id.clone()]);
        let second = count_threshold("t", "b", &checks, &t.signatures, &ids, &swapped, th(1));
        assert!(second.valid.is_empty(), "{second:?}");
        assert_eq!(second.invalid.len(), 1);
        // The genuine key again: the same count as a fresh check.
        let third = count_threshold("t", "a", &checks, &t.signatures, &ids, &genuine, th(1));
        assert_eq!(third, first);
        assert_eq!(
            checks.done.borrow().len(),
            2,
            "one check per key and signature"
        );
        // A signature changed after the first check is checked anew, and fails.
        let mut forged = t.signatures.clone();
        forged[0].sig = forged[0].sig.replace('0', "1").replace('a', "b");
        let fourth = count_threshold("t", "a", &checks, &forged, &ids, &genuine, th(1));
        assert!(fourth.valid.is_empty(), "{fourth:?}");
    }

    // --- large roles -----------------------------------------------------------------------

    /// Targets delegating to PIECES_MIN_ENTRIES projects p0, p1, ..., all to the developer:
    /// large enough that its signed bytes are produced in pieces, never held.
    fn large_targets() -> Targets {
        let roles = (0..PIECES_MIN_ENTRIES)
            .map(|i| delegation(&format!("p{i}"), &[DEV], 1))
            .collect();
        targets(1, Some(delegations(roles, &[DEV])))
    }

    fn large_repo(t: &Metadata<Targets>) -> Vec<InputFile> {
        publish(
            vec![root_v1()],
            vec![
                ("targets", file("1.targets.json", t)),
                ("p0", file("1.p0.json", &signed(targets(1, None), &[DEV]))),
            ],
        )
    }

    #[test]
    fn a_large_role_verifies_like_a_small_one_and_a_tampered_one_fails() {
        let t = signed(large_targets(), &[TARGETS]);
        let any = AnyMetadata::Targets(t.clone());
        let pieces = SignedText::of_metadata(&any);
        assert!(pieces.held().is_none(), "the large role is not held");

        // The same count, held or in pieces.
        let bytes = t.signed_bytes();
        let root = signed(root(1, &ROOT, 2, FAR), &ROOT);
        let ids = [kid(TARGETS)];
        let by_pieces = check_threshold(
            "targets",
            "root",
            &pieces,
            &t.signatures,
            &ids,
            &root.signed.keys,
            th(1),
        );
        let held = check_threshold(
            "targets",
            "root",
            &SignedText::of(&bytes),
            &t.signatures,
            &ids,
            &root.signed.keys,
            th(1),
        );
        assert_eq!(by_pieces, held);
        assert_eq!(by_pieces.valid, vec![kid(TARGETS)]);

        let r = verify(&large_repo(&t));
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!(status_of(&r, "1.p0.json").status, FileStatus::Verified);

        // Re-delegate one project, deep inside, to the attacker's key after signing.
        let mut tampered = t.clone();
        let d = tampered.signed.delegations.as_mut().unwrap();
        d.keys.insert(kid(NOBODY), s(NOBODY).public_key().clone());
        let DelegationRoles::List(roles) = &mut d.roles else {
            unreachable!()
        };
        roles[PIECES_MIN_ENTRIES / 2].keyids = vec![kid(NOBODY)];
        let r = verify(&large_repo(&tampered));
        assert_eq!(
            problems(&r),
            vec![
                ("1.targets.json", "threshold"),
                ("1.p0.json", "not-delegated")
            ]
        );
        let invalid = &status_of(&r, "1.targets.json").signatures[0].invalid;
        assert_eq!(invalid.len(), 1);
        assert_eq!(invalid[0].1, SignatureError::Mismatch.to_string());
    }
}
