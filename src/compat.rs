//! Which TUF clients would refuse or misread metadata that conclave accepts, and why.
//!
//! conclave verifies with the rules of the specification, byte-identical to securesystemslib
//! and python-tuf. The clients people run are not all the same: a repository that pip loads
//! may be refused whole by tough (awslabs; Bottlerocket), or loaded by a client that then
//! sees fewer targets, or counts one key twice. An attacker gains from each difference: a
//! client that silently drops a level of delegations can be kept from ever seeing a role's
//! security update, and a client that counts one key under two keyids lets one key holder
//! meet a threshold of two. This module names, for each file, which known client would
//! refuse or misread it, why, and where that client's behaviour is written down
//! ([`Quirk::source`]); docs/verification.md holds the same table for people.
//!
//! Everything here is read from the files only: no client runs. Where a client is in the
//! test suite (python-tuf, tuf-js, tough), tests/vectors/compat/ holds a vector for each
//! quirk with that client's real verdict beside what this module predicts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use unicode_normalization::{UnicodeNormalization, is_nfc};

use crate::cjson::{self, Value};
use crate::display::escape;
use crate::metadata::{AnyMetadata, DelegationRoles, Delegations, Key, KeyId};

/// A TUF client whose behaviour conclave knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Client {
    /// python-tuf (`tuf` on PyPI; what pip vendors), 7.0.
    PythonTuf,
    /// tuf-js (npm; what npm and sigstore-js use), 6.x.
    TufJs,
    /// tough (crates.io; awslabs, used by Bottlerocket), 0.24.
    Tough,
    /// go-tuf (theupdateframework/go-tuf v2).
    GoTuf,
}

impl Client {
    /// Every client conclave knows, in the order reports list them.
    pub const ALL: [Client; 4] = [
        Client::PythonTuf,
        Client::TufJs,
        Client::Tough,
        Client::GoTuf,
    ];

    /// The client's name as `--clients` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Client::PythonTuf => "python-tuf",
            Client::TufJs => "tuf-js",
            Client::Tough => "tough",
            Client::GoTuf => "go-tuf",
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client name conclave does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown client \"{}\" (known: python-tuf, tuf-js, tough, go-tuf)", escape(.name))]
pub struct UnknownClient {
    /// The name as given.
    pub name: String,
}

impl FromStr for Client {
    type Err = UnknownClient;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Client::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownClient { name: s.to_owned() })
    }
}

/// What a client does with the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Loading fails: the client refuses the file, and with it the repository update.
    Refuses,
    /// Loading succeeds, but the client sees something other than what the metadata says
    /// (roles dropped, one key counted twice, a role checked against the wrong delegator).
    Misreads,
}

impl Effect {
    /// `refuses` or `misreads`.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Refuses => "refuses",
            Effect::Misreads => "misreads",
        }
    }
}

/// A difference between a client and the specification that metadata can run into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quirk {
    /// TAP 15 `succinct_roles` in a delegation.
    SuccinctBins,
    /// A string that is not in Unicode Normalization Form C.
    NonNfcString,
    /// Object keys whose order differs when sorted by their serialised bytes, closing quote
    /// included (one key a prefix of another, continued by a byte below `"`).
    KeyOrder,
    /// An unknown field in `delegations` or in a delegated role's entry.
    DroppedField,
    /// A target whose `custom` is an empty object.
    EmptyCustom,
    /// A keyid that is not the SHA-256 of the whole key object, unknown fields included.
    KeyidOverWholeKey,
    /// A key type or scheme the client has no code for.
    UnknownKeyType,
    /// A root naming a role other than root, targets, snapshot and timestamp.
    UnknownRootRole,
    /// A delegated role's entry without `terminating`.
    MissingTerminating,
    /// `hashes` without `sha256`.
    NoSha256,
    /// A root without `consistent_snapshot` (optional in the spec).
    NoConsistentSnapshot,
    /// A delegated role missing from snapshot, with roles after it at the same level.
    MissingFromSnapshot,
    /// One public key listed for a role under two keyids.
    SameKeyTwice,
    /// One role delegated by two parents (or twice by one).
    Diamond,
}

impl Quirk {
    /// A short stable identifier, e.g. `succinct-bins`.
    pub fn id(self) -> &'static str {
        match self {
            Quirk::SuccinctBins => "succinct-bins",
            Quirk::NonNfcString => "non-nfc-string",
            Quirk::KeyOrder => "key-order",
            Quirk::DroppedField => "dropped-field",
            Quirk::EmptyCustom => "empty-custom",
            Quirk::KeyidOverWholeKey => "keyid-over-whole-key",
            Quirk::UnknownKeyType => "unknown-key-type",
            Quirk::UnknownRootRole => "unknown-root-role",
            Quirk::MissingTerminating => "missing-terminating",
            Quirk::NoSha256 => "no-sha256",
            Quirk::NoConsistentSnapshot => "no-consistent-snapshot",
            Quirk::MissingFromSnapshot => "missing-from-snapshot",
            Quirk::SameKeyTwice => "same-key-twice",
            Quirk::Diamond => "diamond-delegation",
        }
    }

    /// The clients affected, and how.
    pub fn clients(self) -> &'static [(Client, Effect)] {
        use Client::*;
        use Effect::*;
        match self {
            Quirk::SuccinctBins
            | Quirk::NonNfcString
            | Quirk::KeyOrder
            | Quirk::DroppedField
            | Quirk::EmptyCustom
            | Quirk::KeyidOverWholeKey
            | Quirk::UnknownKeyType
            | Quirk::NoSha256
            | Quirk::NoConsistentSnapshot => &[(Tough, Refuses)],
            Quirk::UnknownRootRole | Quirk::MissingTerminating => {
                &[(PythonTuf, Refuses), (Tough, Refuses)]
            }
            Quirk::MissingFromSnapshot => &[(Tough, Misreads)],
            Quirk::SameKeyTwice => &[(PythonTuf, Misreads), (Tough, Misreads), (GoTuf, Misreads)],
            Quirk::Diamond => &[(PythonTuf, Misreads), (Tough, Misreads), (GoTuf, Misreads)],
        }
    }

    /// Where the clients' behaviour is written down: source files at the versions the test
    /// suite pins, or the issue that reports it.
    pub fn source(self) -> &'static str {
        match self {
            Quirk::SuccinctBins => {
                "tough 0.24.0 src/schema/mod.rs: Delegations has a required `roles` and no \
                 `succinct_roles` (\"missing field `roles`\")"
            }
            Quirk::NonNfcString => {
                "olpc-cjson 0.1.4 src/lib.rs write_string_fragment (NFC), used by tough 0.24.0 \
                 src/schema/verify.rs to rebuild the signed bytes"
            }
            Quirk::KeyOrder => {
                "olpc-cjson 0.1.4 src/lib.rs end_object: members sorted as serialised bytes \
                 (BTreeMap<Vec<u8>, _>), closing quote included"
            }
            Quirk::DroppedField => {
                "tough 0.24.0 src/schema/mod.rs: Delegations and DelegatedRole keep no unknown \
                 fields, so the bytes tough verifies lack them"
            }
            Quirk::EmptyCustom => {
                "tough 0.24.0 src/schema/mod.rs: Target.custom is skipped when empty, so the \
                 bytes tough verifies lack \"custom\": {}"
            }
            Quirk::KeyidOverWholeKey => {
                "tough 0.24.0 src/schema/de.rs deserialize_keys and src/schema/key.rs key_id: \
                 SHA-256 over the whole key object (\"Invalid key ID\")"
            }
            Quirk::UnknownKeyType => {
                "tough 0.24.0 src/schema/key.rs: Key is rsa, ed25519, ecdsa or \
                 ecdsa-sha2-nistp256 with one scheme each; anything else fails to parse"
            }
            Quirk::UnknownRootRole => {
                "python-tuf 7.0.1 tuf/api/_payload.py Root.__init__ (\"Role names must be the \
                 top-level metadata roles\"); tough 0.24.0 src/schema/mod.rs RoleType"
            }
            Quirk::MissingTerminating => {
                "python-tuf 7.0.1 tuf/api/_payload.py DelegatedRole.from_dict; tough 0.24.0 \
                 src/schema/mod.rs DelegatedRole.terminating (a required bool)"
            }
            Quirk::NoSha256 => "tough 0.24.0 src/schema/mod.rs: Hashes has a required `sha256`",
            Quirk::NoConsistentSnapshot => {
                "tough 0.24.0 src/schema/mod.rs: Root.consistent_snapshot is a required bool"
            }
            Quirk::MissingFromSnapshot => {
                "tough 0.24.0 src/lib.rs load_delegations: returns at the first delegated role \
                 missing from snapshot, leaving the roles after it unloaded"
            }
            Quirk::SameKeyTwice => {
                "python-tuf 7.0.1 tuf/api/_payload.py get_verification_result and tough 0.24.0 \
                 src/schema/verify.rs count keyids, not keys; go-tuf#733"
            }
            Quirk::Diamond => {
                "theupdateframework/tuf-conformance#405, python-tuf#2977, go-tuf#759; tough \
                 0.24.0 src/lib.rs load_delegations loads a role once, under the first parent"
            }
        }
    }
}

/// One client's trouble with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file's name in the repository layout.
    pub file: String,
    /// The role the file holds.
    pub role: String,
    /// The client.
    pub client: Client,
    /// What the client does with the file.
    pub effect: Effect,
    /// Which difference it runs into.
    pub quirk: Quirk,
    /// What in the file triggers it. It may quote untrusted text: print it escaped.
    pub message: String,
}

impl Finding {
    /// The finding as JSON, for machine-readable output.
    pub fn to_json(&self) -> Value {
        let mut m = cjson::Map::new();
        m.insert("file".into(), self.file.as_str().into());
        m.insert("role".into(), self.role.as_str().into());
        m.insert("client".into(), self.client.name().into());
        m.insert("effect".into(), self.effect.name().into());
        m.insert("quirk".into(), self.quirk.id().into());
        m.insert("message".into(), self.message.as_str().into());
        m.insert("source".into(), self.quirk.source().into());
        Value::Object(m)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: role {}: {} {} it: {}: {}",
            escape(&self.file),
            escape(&self.role),
            self.client,
            self.effect.name(),
            self.quirk.id(),
            escape(&self.message)
        )
    }
}

/// A metadata file to check: its name in the repository layout and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct File<'a> {
    /// e.g. `3.claimed.json`.
    pub name: &'a str,
    /// The file as read.
    pub bytes: &'a [u8],
}

struct Parsed<'a> {
    name: &'a str,
    role: String,
    version: u64,
    value: Value,
    meta: Option<AnyMetadata>,
}

/// Which of `clients` would refuse or misread each of `files`, in file order. Files that are
/// not metadata by name or do not parse are left to the verifier, which reports them.
pub fn check(files: &[File<'_>], clients: &[Client]) -> Vec<Finding> {
    let parsed: Vec<Parsed> = files
        .iter()
        .filter_map(|f| {
            let (role, v) = crate::verify::classify(f.name)?;
            let value = cjson::parse(f.bytes).ok()?;
            let meta = AnyMetadata::from_bytes(f.bytes).ok();
            let version = v
                .or_else(|| meta.as_ref().map(|m| m.common().version.get()))
                .unwrap_or(0);
            Some(Parsed {
                name: f.name,
                role,
                version,
                value,
                meta,
            })
        })
        .collect();
    let mut raw: Vec<(usize, Quirk, String)> = Vec::new();
    for (i, p) in parsed.iter().enumerate() {
        let mut note = |q: Quirk, msg: String| raw.push((i, q, msg));
        if let Some(signed) = p.value.get("signed") {
            file_quirks(signed, &mut note);
        }
        if let Some(meta) = &p.meta {
            same_key_twice(meta, &mut note);
        }
    }
    repository_quirks(&parsed, &mut |i, q, msg| raw.push((i, q, msg)));
    raw.sort_by_key(|(i, q, _)| (*i, *q));
    let mut out = Vec::new();
    for (i, quirk, message) in raw {
        for &(client, effect) in quirk.clients() {
            if clients.contains(&client) {
                out.push(Finding {
                    file: parsed[i].name.to_owned(),
                    role: parsed[i].role.clone(),
                    client,
                    effect,
                    quirk,
                    message: message.clone(),
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// One file
// ---------------------------------------------------------------------------------------------

/// Quirks visible in one file's `signed` object.
fn file_quirks(signed: &Value, note: &mut impl FnMut(Quirk, String)) {
    if let Some(s) = first_non_nfc(signed) {
        note(
            Quirk::NonNfcString,
            format!(
                "\"{}\" is not in Unicode NFC; tough normalises it before checking signatures, \
                 so no signature matches",
                escape(&s)
            ),
        );
    }
    if let Some((a, b)) = first_order_difference(signed) {
        note(
            Quirk::KeyOrder,
            format!(
                "keys \"{}\" and \"{}\" sort the other way in tough's canonical JSON, so no \
                 signature matches",
                escape(&a),
                escape(&b)
            ),
        );
    }
    match signed.get("_type").and_then(Value::as_str) {
        Some("root") => {
            if signed.get("consistent_snapshot").is_none() {
                note(
                    Quirk::NoConsistentSnapshot,
                    "root has no \"consistent_snapshot\" (the spec makes it optional)".to_owned(),
                );
            }
            if let Some(keys) = signed.get("keys").and_then(Value::as_object) {
                key_quirks(keys, note);
            }
            if let Some(roles) = signed.get("roles").and_then(Value::as_object) {
                for name in roles.keys() {
                    if !crate::metadata::TOP_LEVEL_ROLES.contains(&name.as_str()) {
                        note(
                            Quirk::UnknownRootRole,
                            format!("root names role \"{}\"", escape(name)),
                        );
                    }
                }
            }
        }
        Some("targets") => targets_quirks(signed, note),
        Some("snapshot" | "timestamp") => {
            if let Some(meta) = signed.get("meta").and_then(Value::as_object) {
                for (path, mf) in meta {
                    if mf.get("hashes").is_some_and(|h| h.get("sha256").is_none()) {
                        note(
                            Quirk::NoSha256,
                            format!("the hashes of {} have no sha256", escape(path)),
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

fn targets_quirks(signed: &Value, note: &mut impl FnMut(Quirk, String)) {
    if let Some(targets) = signed.get("targets").and_then(Value::as_object) {
        for (path, t) in targets {
            if t.get("hashes").is_some_and(|h| h.get("sha256").is_none()) {
                note(
                    Quirk::NoSha256,
                    format!("the hashes of target \"{}\" have no sha256", escape(path)),
                );
            }
            if t.get("custom")
                .and_then(Value::as_object)
                .is_some_and(|c| c.is_empty())
            {
                note(
                    Quirk::EmptyCustom,
                    format!(
                        "target \"{}\" has \"custom\": {{}}, which tough leaves out of the \
                         bytes it checks, so no signature matches",
                        escape(path)
                    ),
                );
            }
        }
    }
    let Some(d) = signed.get("delegations").and_then(Value::as_object) else {
        return;
    };
    if let Some(keys) = d.get("keys").and_then(Value::as_object) {
        key_quirks(keys, note);
    }
    if d.contains_key("succinct_roles") {
        note(
            Quirk::SuccinctBins,
            "the delegation uses TAP 15 succinct_roles, which tough cannot read \
             (\"missing field `roles`\")"
                .to_owned(),
        );
    }
    for field in d
        .keys()
        .filter(|k| !["keys", "roles", "succinct_roles"].contains(&k.as_str()))
    {
        note(
            Quirk::DroppedField,
            format!(
                "delegations carries \"{}\", which tough drops before checking signatures",
                escape(field)
            ),
        );
    }
    let known = [
        "name",
        "keyids",
        "threshold",
        "paths",
        "path_hash_prefixes",
        "terminating",
    ];
    for r in d.get("roles").and_then(as_array).unwrap_or_default() {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
        let Some(entry) = r.as_object() else { continue };
        for field in entry.keys().filter(|k| !known.contains(&k.as_str())) {
            note(
                Quirk::DroppedField,
                format!(
                    "the delegation to \"{}\" carries \"{}\", which tough drops before checking \
                     signatures",
                    escape(name),
                    escape(field)
                ),
            );
        }
        if !entry.contains_key("terminating") {
            note(
                Quirk::MissingTerminating,
                format!(
                    "the delegation to \"{}\" has no \"terminating\" field",
                    escape(name)
                ),
            );
        }
    }
}

fn as_array(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

/// tough recomputes every keyid over the whole key object as it re-serialises it, and knows
/// a fixed set of key types.
fn key_quirks(keys: &cjson::Map, note: &mut impl FnMut(Quirk, String)) {
    for (keyid, key) in keys {
        let keytype = key.get("keytype").and_then(Value::as_str).unwrap_or("");
        let scheme = key.get("scheme").and_then(Value::as_str).unwrap_or("");
        let known = matches!(
            (keytype, scheme),
            ("ed25519", "ed25519")
                | ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256")
                | ("rsa", "rsassa-pss-sha256")
        );
        if !known {
            note(
                Quirk::UnknownKeyType,
                format!(
                    "key {} has keytype \"{}\" and scheme \"{}\"; tough cannot parse the file",
                    short(keyid),
                    escape(keytype),
                    escape(scheme)
                ),
            );
            continue;
        }
        let mut bytes = Vec::new();
        olpc_canonical(key, &mut bytes);
        let computed = hex::encode(Sha256::digest(&bytes));
        if &computed != keyid {
            let extra: Vec<&String> = key
                .as_object()
                .map(|o| {
                    o.keys()
                        .filter(|k| !["keytype", "scheme", "keyval"].contains(&k.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            let why = match extra.first() {
                Some(f) => format!(
                    " (the key carries \"{}\", which tough counts in the keyid)",
                    escape(f)
                ),
                None => String::new(),
            };
            note(
                Quirk::KeyidOverWholeKey,
                format!(
                    "keyid {} is not the SHA-256 of the whole key object ({}){why}; tough \
                     refuses the file (\"Invalid key ID\")",
                    short(keyid),
                    &computed[..computed.len().min(16)]
                ),
            );
        }
    }
}

fn short(keyid: &str) -> String {
    escape(&keyid.chars().take(16).collect::<String>()).into_owned()
}

/// The first string (key or value, depth first) that is not in NFC.
fn first_non_nfc(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => (!is_nfc(s)).then(|| s.clone()),
        Value::Array(a) => a.iter().find_map(first_non_nfc),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            if is_nfc(k) {
                first_non_nfc(v)
            } else {
                Some(k.clone())
            }
        }),
        _ => None,
    }
}

/// The first pair of object keys (depth first) that securesystemslib and olpc-cjson order
/// differently.
fn first_order_difference(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Array(a) => a.iter().find_map(first_order_difference),
        Value::Object(m) => {
            // `m` iterates in code point order, securesystemslib's.
            let mut olpc: Vec<(Vec<u8>, &String)> = m
                .keys()
                .map(|k| {
                    let mut b = Vec::new();
                    olpc_string(k, &mut b);
                    (b, k)
                })
                .collect();
            olpc.sort();
            for ((_, a), b) in olpc.iter().zip(m.keys()) {
                if *a != b {
                    return Some((a.to_string(), b.to_string()));
                }
            }
            m.values().find_map(first_order_difference)
        }
        _ => None,
    }
}

/// A string as olpc-cjson 0.1.4 writes it: quoted, only `"` and `\` escaped, each run between
/// escaped or control characters normalised to NFC on its own (serde_json hands it the
/// string in those pieces).
fn olpc_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut rest = s;
    while !rest.is_empty() {
        let cut = rest
            .find(|c: char| c == '"' || c == '\\' || (c as u32) < 0x20)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(cut);
        out.extend(run.nfc().collect::<String>().as_bytes());
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            if c == '"' || c == '\\' {
                out.push(b'\\');
            }
            out.push(c as u8);
        }
        rest = chars.as_str();
    }
    out.push(b'"');
}

/// A value as olpc-cjson 0.1.4 writes it: members sorted by their serialised keys, bytes
/// compared, closing quote included; members whose keys serialise alike collapse to one.
fn olpc_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let members: BTreeMap<Vec<u8>, &Value> = m
                .iter()
                .map(|(k, v)| {
                    let mut b = Vec::new();
                    olpc_string(k, &mut b);
                    (b, v)
                })
                .collect();
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(&k);
                out.push(b':');
                olpc_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                olpc_canonical(v, out);
            }
            out.push(b']');
        }
        Value::String(s) => olpc_string(s, out),
        other => cjson::write_canonical(other, out),
    }
}

/// One public key under two keyids for the same role: clients that count keyids count it
/// twice.
fn same_key_twice(meta: &AnyMetadata, note: &mut impl FnMut(Quirk, String)) {
    let mut check = |role: &str, keyids: &[KeyId], keys: &BTreeMap<KeyId, Key>| {
        let mut seen: BTreeMap<crate::metadata::KeyMaterial, &KeyId> = BTreeMap::new();
        for k in keyids {
            let Some(key) = keys.get(k) else { continue };
            if let Some(first) = seen.insert(key.material(), k) {
                note(
                    Quirk::SameKeyTwice,
                    format!(
                        "role \"{}\" lists keyids {} and {}, which hold the same public key; \
                         it counts twice towards the threshold",
                        escape(role),
                        first.short(),
                        k.short()
                    ),
                );
            }
        }
    };
    match meta {
        AnyMetadata::Root(m) => {
            for (name, rk) in &m.signed.roles {
                check(name.as_str(), rk.keyids.as_slice(), &m.signed.keys);
            }
        }
        AnyMetadata::Targets(m) => match m.signed.delegations.as_ref().map(|d| (d, &d.roles)) {
            Some((d, DelegationRoles::List(roles))) => {
                for r in roles {
                    check(r.name.as_str(), r.keyids.as_slice(), &d.keys);
                }
            }
            Some((d, DelegationRoles::Succinct(s))) => {
                let bins = format!("{}-*", s.name_prefix);
                check(bins.as_str(), s.keyids.as_slice(), &d.keys);
            }
            None => {}
        },
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The repository
// ---------------------------------------------------------------------------------------------

/// Quirks that show only across files: roles missing from snapshot, and roles with two
/// parents. The current (highest) version of each role is what a client would load.
fn repository_quirks(parsed: &[Parsed], note: &mut impl FnMut(usize, Quirk, String)) {
    let mut current: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in parsed.iter().enumerate() {
        if p.meta.is_none() {
            continue;
        }
        let slot = current.entry(p.role.as_str()).or_insert(i);
        if parsed[*slot].version < p.version {
            *slot = i;
        }
    }
    let snapshot_meta = current
        .get("snapshot")
        .and_then(|&i| match &parsed[i].meta {
            Some(AnyMetadata::Snapshot(s)) => Some(&s.signed.meta),
            _ => None,
        });
    // Parents of each delegated role, in the order the delegating files are met.
    let mut parents: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    for (&role, &i) in &current {
        let Some(AnyMetadata::Targets(m)) = &parsed[i].meta else {
            continue;
        };
        let Some(Delegations {
            roles: DelegationRoles::List(roles),
            ..
        }) = &m.signed.delegations
        else {
            continue;
        };
        for r in roles {
            parents.entry(r.name.as_str()).or_default().push((i, role));
        }
        if let Some(meta) = snapshot_meta
            && let Some(gap) = roles
                .iter()
                .position(|r| !meta.contains_key(&format!("{}.json", r.name.as_str())))
            && gap + 1 < roles.len()
        {
            let dropped: Vec<String> = roles[gap + 1..]
                .iter()
                .take(3)
                .map(|r| format!("\"{}\"", escape(r.name.as_str())))
                .collect();
            note(
                i,
                Quirk::MissingFromSnapshot,
                format!(
                    "the delegation to \"{}\" is not listed in snapshot, and tough then loads \
                     none of the {} role(s) delegated after it ({}{}): their targets are \
                     invisible to it",
                    escape(roles[gap].name.as_str()),
                    roles.len() - gap - 1,
                    dropped.join(", "),
                    if roles.len() - gap - 1 > 3 {
                        ", ..."
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    for (child, ps) in parents {
        if ps.len() < 2 {
            continue;
        }
        let names: BTreeSet<&str> = ps.iter().map(|(_, p)| *p).collect();
        let listed: Vec<String> = names.iter().map(|p| format!("\"{}\"", escape(p))).collect();
        let how = if names.len() == 1 {
            format!("{} times by {}", ps.len(), listed[0])
        } else {
            format!("by {} parents, {}", names.len(), listed.join(" and "))
        };
        let at = current.get(child).copied().unwrap_or(ps[1].0);
        note(
            at,
            Quirk::Diamond,
            format!(
                "role \"{}\" is delegated {how}; clients disagree on which delegation it is \
                 checked against",
                escape(child)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn olpc(v: &Value) -> String {
        let mut b = Vec::new();
        olpc_canonical(v, &mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn olpc_order_and_nfc_as_the_reference_note_says() {
        // tuf-pypi-facts.md §1.2: olpc-cjson gives {"a!":4,"a":3,"docs/a b":2,"docs/a":1}.
        let v = cjson::parse(br#"{"a":3,"a!":4,"docs/a":1,"docs/a b":2}"#).unwrap();
        assert_eq!(olpc(&v), r#"{"a!":4,"a":3,"docs/a b":2,"docs/a":1}"#);
        assert_eq!(
            first_order_difference(&v),
            Some(("a!".to_owned(), "a".to_owned()))
        );
        let v = cjson::parse("{\"b\":\"e\u{301}\"}".as_bytes()).unwrap();
        assert_eq!(olpc(&v), "{\"b\":\"\u{e9}\"}");
        assert_eq!(first_non_nfc(&v), Some("e\u{301}".to_owned()));
        // Only `"` and `\` are escaped; control characters are written raw.
        let v = Value::String("a\"b\\c\nd".into());
        assert_eq!(olpc(&v), "\"a\\\"b\\\\c\nd\"");
    }

    #[test]
    fn plain_metadata_orders_alike() {
        let v =
            cjson::parse(br#"{"keys":{"x":1},"roles":[{"name":"a","paths":["a/*"]}]}"#).unwrap();
        assert_eq!(first_order_difference(&v), None);
        assert_eq!(first_non_nfc(&v), None);
        assert_eq!(olpc(&v).into_bytes(), cjson::to_canonical(&v));
    }

    const KEY: &str = r#""keys": {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {"keytype": "ed25519", "scheme": "ed25519",
        "keyval": {"public": "0000000000000000000000000000000000000000000000000000000000000000"}}}"#;

    fn targets_file(delegated: &[&str]) -> Vec<u8> {
        let roles: Vec<String> = delegated
            .iter()
            .map(|n| {
                format!(
                    r#"{{"name": "{n}", "keyids": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "threshold": 1,
                       "paths": ["{n}/*"], "terminating": false}}"#
                )
            })
            .collect();
        format!(
            r#"{{"signed": {{"_type": "targets", "spec_version": "1.0.31", "version": 1,
                "expires": "2100-01-01T00:00:00Z", "targets": {{}},
                "delegations": {{{KEY}, "roles": [{}]}}}}, "signatures": []}}"#,
            roles.join(", ")
        )
        .into_bytes()
    }

    fn snapshot_file(listed: &[&str]) -> Vec<u8> {
        let meta: Vec<String> = listed
            .iter()
            .map(|n| format!(r#""{n}.json": {{"version": 1}}"#))
            .collect();
        format!(
            r#"{{"signed": {{"_type": "snapshot", "spec_version": "1.0.31", "version": 1,
                "expires": "2100-01-01T00:00:00Z", "meta": {{{}}}}}, "signatures": []}}"#,
            meta.join(", ")
        )
        .into_bytes()
    }

    fn quirks(files: &[(&str, Vec<u8>)], clients: &[Client]) -> Vec<(String, Client, Quirk)> {
        let files: Vec<File> = files
            .iter()
            .map(|(name, bytes)| File { name, bytes })
            .collect();
        check(&files, clients)
            .into_iter()
            .map(|f| (f.file, f.client, f.quirk))
            .collect()
    }

    #[test]
    fn a_role_missing_from_snapshot_before_others_is_a_tough_misread() {
        let files = [
            ("1.targets.json", targets_file(&["a", "b", "c"])),
            ("1.snapshot.json", snapshot_file(&["targets", "b", "c"])),
        ];
        let got = quirks(&files, &Client::ALL);
        assert!(
            got.contains(&(
                "1.targets.json".into(),
                Client::Tough,
                Quirk::MissingFromSnapshot
            )),
            "{got:?}"
        );
        // The last role missing drops nothing after it; python-tuf is not named.
        let files = [
            ("1.targets.json", targets_file(&["a", "b", "c"])),
            ("1.snapshot.json", snapshot_file(&["targets", "a", "b"])),
        ];
        assert!(
            quirks(&files, &Client::ALL)
                .iter()
                .all(|(_, _, q)| *q != Quirk::MissingFromSnapshot)
        );
    }

    #[test]
    fn a_role_with_two_parents_is_a_diamond_for_the_clients_that_misread_it() {
        let files = [
            ("1.targets.json", targets_file(&["a", "b"])),
            ("1.a.json", targets_file(&["c"])),
            ("1.b.json", targets_file(&["c"])),
        ];
        let got = quirks(&files, &[Client::TufJs, Client::GoTuf]);
        assert_eq!(
            got,
            vec![("1.b.json".into(), Client::GoTuf, Quirk::Diamond)],
            "the role has no file: the finding is on the second parent"
        );
        assert!(quirks(&files, &[Client::TufJs]).is_empty());
    }

    #[test]
    fn keys_with_unknown_fields_and_unknown_types_are_named_for_tough() {
        let mut key = cjson::parse(
            br#"{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00"},
                 "x-rstuf-online-key-uri": "fn:x"}"#,
        )
        .unwrap();
        let mut bytes = Vec::new();
        olpc_canonical(&key, &mut bytes);
        let whole = hex::encode(Sha256::digest(&bytes));
        let mut found = Vec::new();
        let mut keys = cjson::Map::new();
        keys.insert(whole.clone(), key.clone());
        key_quirks(&keys, &mut |q, m| found.push((q, m)));
        assert!(found.is_empty(), "a keyid over the whole object: {found:?}");
        keys.clear();
        keys.insert("0".repeat(64), key.clone());
        key_quirks(&keys, &mut |q, m| found.push((q, m)));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Quirk::KeyidOverWholeKey);
        assert!(
            found[0].1.contains("x-rstuf-online-key-uri"),
            "{}",
            found[0].1
        );
        if let Value::Object(o) = &mut key {
            o.insert("keytype".into(), "sigstore-oidc".into());
        }
        keys.clear();
        keys.insert(whole, key);
        found.clear();
        key_quirks(&keys, &mut |q, m| found.push((q, m)));
        assert_eq!(found[0].0, Quirk::UnknownKeyType);
    }

    #[test]
    fn client_names_round_trip_and_unknown_names_are_refused() {
        for c in Client::ALL {
            assert_eq!(c.name().parse::<Client>().unwrap(), c);
        }
        let e = "pip".parse::<Client>().unwrap_err();
        assert!(e.to_string().contains("unknown client \"pip\""), "{e}");
    }

    #[test]
    fn every_quirk_names_a_client_and_a_source() {
        use Quirk::*;
        for q in [
            SuccinctBins,
            NonNfcString,
            KeyOrder,
            DroppedField,
            EmptyCustom,
            KeyidOverWholeKey,
            UnknownKeyType,
            UnknownRootRole,
            MissingTerminating,
            NoSha256,
            NoConsistentSnapshot,
            MissingFromSnapshot,
            SameKeyTwice,
            Diamond,
        ] {
            assert!(!q.clients().is_empty(), "{q:?}");
            assert!(!q.source().is_empty(), "{q:?}");
        }
    }
}
