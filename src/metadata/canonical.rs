//! Canonical bytes straight from the model, without building a JSON value tree first.
//!
//! A claimed role with a million projects is hundreds of megabytes of canonical JSON; going
//! through [`crate::cjson::Value`] would copy every string once more and double the memory.
//! These writers produce exactly the bytes `cjson::to_canonical(&x.to_value())` would — a
//! test checks that on every kind of metadata — and are what signatures are computed over.

use crate::cjson::{self, Map, Value};
use crate::metadata::{
    DelegatedRole, DelegationRoles, Delegations, Key, KeyId, RolePaths, SmallStr, SuccinctRoles,
    TargetFile, Targets,
};

/// Where canonical bytes are written: a buffer, and, when streaming, a sink that takes the
/// buffer's contents whenever it has grown past [`CHUNK`] at the end of a list element. A
/// claimed role of hundreds of megabytes then never exists whole in memory.
pub(crate) struct Out<'a> {
    buf: &'a mut Vec<u8>,
    sink: Option<&'a mut crate::pieces::Sink<'a>>,
}

/// How much a streaming [`Out`] holds before handing it on.
pub(crate) const CHUNK: usize = 1 << 20;

impl<'a> Out<'a> {
    /// Write into `buf`, all of it.
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Self {
        Out { buf, sink: None }
    }

    /// Write in pieces of about [`CHUNK`] bytes to `sink`; [`Out::finish`] hands on the rest.
    pub(crate) fn streaming(buf: &'a mut Vec<u8>, sink: &'a mut crate::pieces::Sink<'a>) -> Self {
        Out {
            buf,
            sink: Some(sink),
        }
    }

    /// A place where the bytes so far may be handed on.
    #[inline]
    fn boundary(&mut self) {
        if self.buf.len() >= CHUNK
            && let Some(sink) = self.sink.as_mut()
        {
            sink(self.buf);
            self.buf.clear();
        }
    }

    /// Hand on whatever is left (streaming only).
    pub(crate) fn finish(mut self) {
        if let Some(sink) = self.sink.as_mut()
            && !self.buf.is_empty()
        {
            sink(self.buf);
            self.buf.clear();
        }
    }
}

impl std::ops::Deref for Out<'_> {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        self.buf
    }
}

impl std::ops::DerefMut for Out<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        self.buf
    }
}

/// Something that can write its canonical form.
pub(crate) trait Canon {
    fn canon(&self, out: &mut Out<'_>);
}

impl Canon for Value {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical(self, out);
    }
}

impl Canon for str {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical_str(self, out);
    }
}

impl Canon for String {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical_str(self, out);
    }
}

impl Canon for i64 {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_int(*self, out);
    }
}

impl Canon for bool {
    fn canon(&self, out: &mut Out<'_>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl Canon for KeyId {
    fn canon(&self, out: &mut Out<'_>) {
        match self.sha256_bytes() {
            Some(raw) => cjson::write_hex32(raw, out),
            None => cjson::write_canonical_str(&self.as_str(), out),
        }
    }
}

impl Canon for crate::metadata::key::Label {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical_str(self, out);
    }
}

impl Canon for SmallStr {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical_bytes(self.as_bytes(), out);
    }
}

impl<T: Canon> Canon for Vec<T> {
    fn canon(&self, out: &mut Out<'_>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.canon(out);
            out.boundary();
        }
        out.push(b']');
    }
}

/// Write an object whose known fields are `fields` and whose unknown ones are `extra`, in
/// code-point order of the keys. Known fields win over an `extra` entry of the same name,
/// as in [`super::fields::object`].
pub(crate) fn object(out: &mut Out<'_>, fields: &mut [(&str, &dyn Canon)], extra: &Map) {
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    let mut first = true;
    let mut sep = |out: &mut Out<'_>| {
        if !first {
            out.push(b',');
        }
        first = false;
    };
    let mut known = fields.iter().peekable();
    let mut unknown = extra
        .iter()
        .filter(|(k, _)| !fields.iter().any(|(n, _)| n == k))
        .peekable();
    loop {
        let take_known = match (known.peek(), unknown.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((k, _)), Some((u, _))) => k.as_bytes() < u.as_bytes(),
        };
        sep(out);
        if take_known {
            let (k, v) = known.next().expect("peeked");
            cjson::write_canonical_str(k, out);
            out.push(b':');
            v.canon(out);
        } else {
            let (k, v) = unknown.next().expect("peeked");
            cjson::write_canonical_str(k, out);
            out.push(b':');
            cjson::write_canonical(v, out);
        }
    }
    out.push(b'}');
}

struct KeyVal<'a>(&'a Key);

impl Canon for KeyVal<'_> {
    fn canon(&self, out: &mut Out<'_>) {
        let public: &str = &self.0.public();
        object(out, &mut [("public", &public)], self.0.keyval_extra());
    }
}

impl Canon for Key {
    fn canon(&self, out: &mut Out<'_>) {
        if self.is_plain() {
            return plain_key(self, out);
        }
        let kv = KeyVal(self);
        object(
            out,
            &mut [
                ("keytype", &self.keytype),
                ("scheme", &self.scheme),
                ("keyval", &kv),
            ],
            self.extra(),
        );
    }
}

/// A key without unknown fields (the common case), written straight out in canonical order.
fn plain_key(key: &Key, out: &mut Out<'_>) {
    out.extend_from_slice(b"{\"keytype\":");
    cjson::write_canonical_str(&key.keytype, out);
    out.extend_from_slice(b",\"keyval\":{\"public\":");
    match key.public_hex32() {
        Some(raw) => cjson::write_hex32(raw, out),
        None => cjson::write_canonical_str(&key.public(), out),
    }
    out.extend_from_slice(b"},\"scheme\":");
    cjson::write_canonical_str(&key.scheme, out);
    out.push(b'}');
}

/// The canonical `{keytype, scheme, keyval}` a keyid is the SHA-256 of (securesystemslib's
/// `compute_default_keyid`): the key object without its own unknown fields.
pub(crate) fn keyid_form(key: &Key, out: &mut Vec<u8>) {
    let out = &mut Out::new(out);
    if key.keyval_extra().is_empty() {
        // The key's own unknown fields are not part of the keyid.
        return plain_key(key, out);
    }
    let kv = KeyVal(key);
    object(
        out,
        &mut [
            ("keytype", &key.keytype),
            ("scheme", &key.scheme),
            ("keyval", &kv),
        ],
        &Map::new(),
    );
}

struct Keys<'a>(&'a std::collections::BTreeMap<KeyId, Key>);

impl Canon for Keys<'_> {
    fn canon(&self, out: &mut Out<'_>) {
        // BTreeMap order on KeyId (a String) is code-point order.
        out.push(b'{');
        for (i, (id, k)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            id.canon(out);
            out.push(b':');
            k.canon(out);
            out.boundary();
        }
        out.push(b'}');
    }
}

impl Canon for DelegatedRole {
    fn canon(&self, out: &mut Out<'_>) {
        if self.extra.is_empty() {
            // The common case (a million of them in a claimed role), written straight out in
            // canonical key order: keyids, name, path_hash_prefixes | paths, terminating,
            // threshold.
            out.extend_from_slice(b"{\"keyids\":");
            self.keyids.canon(out);
            out.extend_from_slice(b",\"name\":");
            cjson::write_canonical_bytes(self.name.as_bytes(), out);
            match &self.paths {
                RolePaths::HashPrefixes(h) => {
                    out.extend_from_slice(b",\"path_hash_prefixes\":");
                    h.canon(out);
                }
                RolePaths::Patterns(p) => {
                    out.extend_from_slice(b",\"paths\":");
                    p.canon(out);
                }
                RolePaths::Unspecified => {}
            }
            if let Some(t) = self.terminating {
                out.extend_from_slice(b",\"terminating\":");
                t.canon(out);
            }
            out.extend_from_slice(b",\"threshold\":");
            cjson::write_int(i64::from(self.threshold.get()), out);
            out.push(b'}');
            return;
        }
        let name = self.name.as_str();
        let threshold = i64::from(self.threshold.get());
        let mut fields: Vec<(&str, &dyn Canon)> = vec![
            ("name", &name as &dyn Canon),
            ("keyids", &self.keyids),
            ("threshold", &threshold),
        ];
        let terminating;
        if let Some(t) = self.terminating {
            terminating = t;
            fields.push(("terminating", &terminating));
        }
        match &self.paths {
            RolePaths::Patterns(p) => fields.push(("paths", p)),
            RolePaths::HashPrefixes(h) => fields.push(("path_hash_prefixes", h)),
            RolePaths::Unspecified => {}
        }
        object(out, &mut fields, &self.extra);
    }
}

impl Canon for &str {
    fn canon(&self, out: &mut Out<'_>) {
        cjson::write_canonical_str(self, out);
    }
}

impl Canon for SuccinctRoles {
    fn canon(&self, out: &mut Out<'_>) {
        let threshold = i64::from(self.threshold.get());
        let bits = i64::from(self.bit_length);
        object(
            out,
            &mut [
                ("keyids", &self.keyids),
                ("threshold", &threshold),
                ("bit_length", &bits),
                ("name_prefix", &self.name_prefix),
            ],
            &self.extra,
        );
    }
}

/// A list of delegated roles. Streamed and long (a claimed role's million), it is written by
/// two threads: a helper writes every other block of roles while this thread writes the
/// others and hands everything on in order, so the bytes are the same as one thread's.
/// Producing the canonical form is what limits writing the role to a file and taking its
/// payload digest.
struct RoleList<'a>(&'a [DelegatedRole]);

/// Roles per block written by one thread (about 700 KB of a claimed role).
const ROLES_PER_BLOCK: usize = 4096;

impl Canon for RoleList<'_> {
    fn canon(&self, out: &mut Out<'_>) {
        let roles = self.0;
        if out.sink.is_none() || roles.len() < 4 * ROLES_PER_BLOCK {
            return write_roles(roles, out, true);
        }
        out.push(b'[');
        let blocks: Vec<&[DelegatedRole]> = roles.chunks(ROLES_PER_BLOCK).collect();
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let odd = &blocks;
            let helper = scope.spawn(move || {
                for block in odd.iter().skip(1).step_by(2) {
                    let mut buf = Vec::with_capacity(CHUNK);
                    write_roles(block, &mut Out::new(&mut buf), false);
                    if tx.send(buf).is_err() {
                        return;
                    }
                }
            });
            for (i, block) in blocks.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if i % 2 == 0 {
                    write_roles(block, out, false);
                } else {
                    match rx.recv() {
                        Ok(written) => out.extend_from_slice(&written),
                        // The helper stopped early: only a panic does that; pass it on.
                        Err(_) => break,
                    }
                }
                out.boundary();
            }
            drop(rx);
            if let Err(e) = helper.join() {
                std::panic::resume_unwind(e);
            }
        });
        out.push(b']');
    }
}

/// `roles` written one after another, with commas between them; inside `[` `]` if
/// `bracketed`.
fn write_roles(roles: &[DelegatedRole], out: &mut Out<'_>, bracketed: bool) {
    if bracketed {
        out.push(b'[');
    }
    for (i, role) in roles.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        role.canon(out);
        out.boundary();
    }
    if bracketed {
        out.push(b']');
    }
}

impl Canon for Delegations {
    fn canon(&self, out: &mut Out<'_>) {
        let keys = Keys(&self.keys);
        match &self.roles {
            DelegationRoles::List(roles) => {
                let roles = RoleList(roles);
                object(out, &mut [("keys", &keys), ("roles", &roles)], &self.extra)
            }
            DelegationRoles::Succinct(s) => object(
                out,
                &mut [("keys", &keys), ("succinct_roles", s)],
                &self.extra,
            ),
        }
    }
}

impl Canon for TargetFile {
    fn canon(&self, out: &mut Out<'_>) {
        let length = self.length as i64;
        let hashes = StrMap(&self.hashes);
        object(
            out,
            &mut [("length", &length), ("hashes", &hashes)],
            &self.extra,
        );
    }
}

/// A map with string keys, in code-point order (what `BTreeMap<String, _>` iterates in).
struct StrMap<'a, V>(&'a std::collections::BTreeMap<String, V>);

impl<V: Canon> Canon for StrMap<'_, V> {
    fn canon(&self, out: &mut Out<'_>) {
        out.push(b'{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            k.canon(out);
            out.push(b':');
            v.canon(out);
            out.boundary();
        }
        out.push(b'}');
    }
}

impl Canon for Targets {
    fn canon(&self, out: &mut Out<'_>) {
        let ty = "targets";
        let spec = self.common.spec_version.as_str();
        let version = self.common.version.as_json();
        let expires = self.common.expires.to_string();
        let targets = StrMap(&self.targets);
        let mut fields: Vec<(&str, &dyn Canon)> = vec![
            ("_type", &ty),
            ("spec_version", &spec),
            ("version", &version),
            ("expires", &expires),
            ("targets", &targets),
        ];
        if let Some(d) = &self.delegations {
            fields.push(("delegations", d));
        }
        object(out, &mut fields, &self.extra);
    }
}

/// Whether `bytes` hold a byte below 0x20 (only inside strings, in canonical JSON), checked
/// in blocks the compiler turns into vector instructions: hundreds of megabytes pass here.
pub(crate) fn has_control(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .any(|block| block.iter().fold(0u8, |seen, &b| seen | u8::from(b < 0x20)) != 0)
}

/// Append canonical bytes to `out` as valid JSON: canonical JSON has no whitespace outside
/// strings, so every byte below 0x20 is inside a string and is escaped here.
pub(crate) fn escape_into(canonical: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in canonical.iter().enumerate() {
        if b < 0x20 {
            out.extend_from_slice(&canonical[start..i]);
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
            }
            start = i + 1;
        }
    }
    out.extend_from_slice(&canonical[start..]);
}
