//! What officers read before they sign: a summary of the metadata, the changes against the
//! previous version, and the payload digest in hex and as PGP words to compare aloud.

use std::collections::BTreeMap;

use crate::cjson::{Map, Value};
use crate::display::escape;
use crate::metadata::{
    AnyMetadata, DelegatedRole, DelegationRoles, Delegations, Key, KeyId, RolePaths, TargetFile,
    Threshold,
};

/// The digest grouped for reading aloud: hex in groups of 8, and PGP words (even/odd lists,
/// so a swapped or dropped word is noticed), 8 words per line.
pub fn digest_for_reading(hex_digest: &str) -> (String, Vec<String>) {
    let groups: Vec<&str> = hex_digest
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect();
    let bytes = hex::decode(hex_digest).unwrap_or_default();
    let words = pgp_words::to_words(&bytes);
    let lines = words.chunks(8).map(|c| c.join(" ")).collect();
    (groups.join(" "), lines)
}

/// The SHA-256 (hex) of a review's text: its lines, each ended by a newline, as the review
/// file beside a signature holds them (`sha256sum` of that file gives the same).
pub fn text_digest(lines: &[String]) -> String {
    let mut d = TextDigest::default();
    for l in lines {
        d.line(l);
    }
    d.finish()
}

/// [`text_digest`] taken a line at a time (the one computation of it).
#[derive(Default)]
pub struct TextDigest(sha2::Sha256);

impl TextDigest {
    /// The next line of the review, without its newline.
    pub fn line(&mut self, line: &str) {
        use sha2::Digest as _;
        self.0.update(line.as_bytes());
        self.0.update(b"\n");
    }

    /// The digest of the lines given, as lowercase hex.
    pub fn finish(self) -> String {
        use sha2::Digest as _;
        hex::encode(self.0.finalize())
    }
}

fn key_kind(k: Option<&Key>) -> String {
    k.map_or("(no such key)".into(), |k| {
        format!("{}/{}", escape(&k.keytype), escape(&k.scheme))
    })
}

/// Role -> (keyids, threshold) for anything with delegated keys.
fn role_table(md: &AnyMetadata) -> BTreeMap<String, (Vec<KeyId>, Threshold)> {
    let mut out = BTreeMap::new();
    match md {
        AnyMetadata::Root(r) => {
            for (name, rk) in &r.signed.roles {
                out.insert(name.clone(), (rk.keyids.clone(), rk.threshold));
            }
        }
        AnyMetadata::Targets(t) => {
            if let Some(d) = &t.signed.delegations {
                match &d.roles {
                    DelegationRoles::List(roles) => {
                        for r in roles {
                            out.insert(r.name.as_str().to_owned(), (r.keyids.clone(), r.threshold));
                        }
                    }
                    DelegationRoles::Succinct(s) => {
                        out.insert(
                            format!("{}-*", s.name_prefix),
                            (s.keyids.clone(), s.threshold),
                        );
                    }
                }
            }
        }
        _ => {}
    }
    out
}

fn all_keys(md: &AnyMetadata) -> &BTreeMap<KeyId, Key> {
    static NONE: BTreeMap<KeyId, Key> = BTreeMap::new();
    match md {
        AnyMetadata::Root(r) => &r.signed.keys,
        AnyMetadata::Targets(t) => t.signed.delegations.as_ref().map_or(&NONE, |d| &d.keys),
        _ => &NONE,
    }
}

/// The first `n` delegated roles of targets metadata in delegation order, without building
/// the whole table.
fn first_roles(md: &AnyMetadata, n: usize) -> Vec<(String, (Vec<KeyId>, Threshold))> {
    match md {
        AnyMetadata::Targets(t) => match t.signed.delegations.as_ref().map(|d| &d.roles) {
            Some(DelegationRoles::List(roles)) => roles
                .iter()
                .take(n)
                .map(|r| (r.name.to_string(), (r.keyids.clone(), r.threshold)))
                .collect(),
            _ => role_table(md).into_iter().take(n).collect(),
        },
        _ => role_table(md).into_iter().take(n).collect(),
    }
}

/// How many roles [`role_table`] would list, without building it (a claimed role delegates
/// to a million).
fn role_count(md: &AnyMetadata) -> usize {
    match md {
        AnyMetadata::Root(r) => r.signed.roles.len(),
        AnyMetadata::Targets(t) => t.signed.delegations.as_ref().map_or(0, |d| match &d.roles {
            DelegationRoles::List(roles) => roles.len(),
            DelegationRoles::Succinct(_) => 1,
        }),
        _ => 0,
    }
}

/// A human summary: role, version, expiry, and keys with thresholds per role.
pub fn summary(md: &AnyMetadata, role: &str) -> Vec<String> {
    let c = md.common();
    let mut out = vec![
        format!("role:     {}", escape(role)),
        format!("version:  {}", c.version),
        format!("expires:  {}", c.expires),
    ];
    const SHOWN: usize = 20;
    let count = role_count(md);
    let keys = all_keys(md);
    let table: Vec<(String, (Vec<KeyId>, Threshold))> = if count > SHOWN {
        out.push(format!(
            "delegates to {count} roles with {} key(s); the first {SHOWN} in delegation order \
             (`conclave inspect` lists them all; the changes list every role that changed):",
            keys.len()
        ));
        first_roles(md, SHOWN)
    } else {
        role_table(md).into_iter().collect()
    };
    for (name, (ids, threshold)) in &table {
        out.push(format!(
            "  {:<18} needs {} of {} key(s)",
            escape(name),
            threshold,
            ids.len()
        ));
        for id in ids {
            out.push(format!("      {}  {}", id, key_kind(keys.get(id))));
        }
    }
    if count > SHOWN {
        out.push(format!("  ... and {} more role(s)", count - SHOWN));
    }
    if let AnyMetadata::Targets(t) = md {
        let files = &t.signed.targets;
        out.push(format!("targets:  {} file(s)", files.len()));
        for (path, f) in files.iter().take(SHOWN) {
            let sha = f
                .hashes
                .get("sha256")
                .map_or_else(|| "no sha256".to_owned(), |h| format!("sha256 {h}"));
            out.push(format!(
                "  {}  {} bytes, {}",
                escape(path),
                f.length,
                escape(&sha)
            ));
        }
        if files.len() > SHOWN {
            out.push(format!(
                "  ... and {} more file(s) (`conclave inspect --all` lists them)",
                files.len() - SHOWN
            ));
        }
    }
    out
}

/// What changed from `prev` to `cur`, line by line: version, expiry, spec version,
/// `consistent_snapshot`, unknown fields, and for each role its threshold and its keys
/// compared by material (a keyid kept over another public key is shown as such, loudly),
/// then for targets metadata the delegations (order, `terminating`, paths, hash prefixes,
/// bins) and every target file added, removed or changed. Nothing is summarised away: a
/// caller with too many lines for a screen writes them to a file.
pub fn changes(prev: &AnyMetadata, cur: &AnyMetadata) -> Vec<String> {
    let mut out = Vec::new();
    let (pc, cc) = (prev.common(), cur.common());
    if pc.version != cc.version {
        out.push(format!("version {} -> {}", pc.version, cc.version));
    }
    if pc.expires != cc.expires {
        out.push(format!("expires {} -> {}", pc.expires, cc.expires));
    }
    if pc.spec_version != cc.spec_version {
        out.push(format!(
            "spec_version {} -> {}",
            escape(pc.spec_version.as_str()),
            escape(cc.spec_version.as_str())
        ));
    }
    if prev.type_name() != cur.type_name() {
        out.push(format!(
            "! the metadata type changed: {} -> {}",
            prev.type_name(),
            cur.type_name()
        ));
    }
    if let (AnyMetadata::Root(p), AnyMetadata::Root(c)) = (prev, cur) {
        if p.signed.consistent_snapshot != c.signed.consistent_snapshot {
            out.push(format!(
                "consistent_snapshot {:?} -> {:?}",
                p.signed.consistent_snapshot, c.signed.consistent_snapshot
            ));
        }
        fields("signed", &p.signed.extra, &c.signed.extra, &mut out);
        for (name, rk) in &c.signed.roles {
            if let Some(o) = p.signed.roles.get(name) {
                fields(
                    &format!("role {}", escape(name)),
                    &o.extra,
                    &rk.extra,
                    &mut out,
                );
            }
        }
    }
    role_changes(prev, cur, &mut out);
    if let (AnyMetadata::Targets(p), AnyMetadata::Targets(c)) = (prev, cur) {
        fields("signed", &p.signed.extra, &c.signed.extra, &mut out);
        delegation_changes(
            p.signed.delegations.as_ref(),
            c.signed.delegations.as_ref(),
            &mut out,
        );
        target_changes(&p.signed.targets, &c.signed.targets, &mut out);
    }
    if out.is_empty() {
        out.push("no changes".into());
    }
    out
}

/// Unknown fields added, removed or changed between two maps of them.
fn fields(what: &str, prev: &Map, cur: &Map, out: &mut Vec<String>) {
    for (k, v) in cur {
        match prev.get(k) {
            None => out.push(format!(
                "+ {what}: field {} added: {}",
                escape(k),
                shown_value(v)
            )),
            Some(o) if o != v => out.push(format!(
                "~ {what}: field {} {} -> {}",
                escape(k),
                shown_value(o),
                shown_value(v)
            )),
            Some(_) => {}
        }
    }
    for k in prev.keys().filter(|k| !cur.contains_key(*k)) {
        out.push(format!("- {what}: field {} removed", escape(k)));
    }
}

/// A field's value as one escaped line.
fn shown_value(v: &Value) -> String {
    let text = String::from_utf8_lossy(&crate::cjson::to_canonical(v)).into_owned();
    escape(&text).into_owned()
}

/// Each role's threshold and keys, compared by material.
fn role_changes(prev: &AnyMetadata, cur: &AnyMetadata, out: &mut Vec<String>) {
    let (pt, ct) = (role_table(prev), role_table(cur));
    let (pk, ck) = (all_keys(prev), all_keys(cur));
    // Roles in the new order, then those removed.
    let names: Vec<&String> = ct
        .keys()
        .chain(pt.keys().filter(|n| !ct.contains_key(*n)))
        .collect();
    for name in names {
        let n = escape(name);
        match (pt.get(name), ct.get(name)) {
            (None, Some((ids, t))) => {
                out.push(format!("+ role {n} added: {t} of {} key(s)", ids.len()));
                for id in ids {
                    out.push(format!("+ role {n}: key {id} ({})", key_kind(ck.get(id))));
                }
            }
            (Some(_), None) => out.push(format!("- role {n} removed")),
            (Some((pids, ptr)), Some((cids, ctr))) => {
                if ptr != ctr {
                    out.push(format!("  role {n}: threshold {ptr} -> {ctr}"));
                }
                key_changes(&n, (pids, pk), (cids, ck), out);
            }
            (None, None) => {}
        }
    }
}

/// One role's keys before and after, compared by material: added, removed, the same key
/// under a new keyid, and a keyid now holding another public key.
fn key_changes(
    role: &str,
    (pids, pk): (&[KeyId], &BTreeMap<KeyId, Key>),
    (cids, ck): (&[KeyId], &BTreeMap<KeyId, Key>),
    out: &mut Vec<String>,
) {
    let material = |keys: &BTreeMap<KeyId, Key>, id: &KeyId| keys.get(id).map(Key::material);
    let before: Vec<_> = pids.iter().map(|i| material(pk, i)).collect();
    let after: Vec<_> = cids.iter().map(|i| material(ck, i)).collect();
    for (id, m) in cids.iter().zip(&after) {
        if let Some(i) = pids.iter().position(|p| p == id)
            && before[i] != *m
        {
            out.push(format!(
                "! role {role}: KEYID {id} NOW HOLDS A DIFFERENT PUBLIC KEY ({} -> {}): whoever \
                 holds the new key signs as that key's holder",
                key_kind(pk.get(id)),
                key_kind(ck.get(id))
            ));
        } else if pids.contains(id) {
        } else if let Some(i) = before.iter().position(|b| b.is_some() && b == m) {
            out.push(format!(
                "~ role {role}: key {} is now listed as {id} (the same public key)",
                pids[i]
            ));
        } else {
            out.push(format!(
                "+ role {role}: key {id} added ({})",
                key_kind(ck.get(id))
            ));
        }
    }
    for (id, m) in pids.iter().zip(&before) {
        if !cids.contains(id) && !after.iter().any(|a| a.is_some() && a == m) {
            out.push(format!(
                "- role {role}: key {id} removed ({})",
                key_kind(pk.get(id))
            ));
        }
    }
}

/// Delegation order, `terminating`, paths and hash prefixes, bins and unknown fields.
fn delegation_changes(
    prev: Option<&Delegations>,
    cur: Option<&Delegations>,
    out: &mut Vec<String>,
) {
    let (p, c) = match (prev, cur) {
        (None, None) => return,
        (None, Some(_)) => {
            out.push("+ delegations added".into());
            return;
        }
        (Some(_), None) => {
            out.push("- delegations removed (every delegated role)".into());
            return;
        }
        (Some(p), Some(c)) => (p, c),
    };
    fields("delegations", &p.extra, &c.extra, out);
    match (&p.roles, &c.roles) {
        (DelegationRoles::List(pr), DelegationRoles::List(cr)) => list_changes(pr, cr, out),
        (DelegationRoles::Succinct(ps), DelegationRoles::Succinct(cs)) => {
            if ps.bit_length != cs.bit_length {
                out.push(format!(
                    "  bins: {} -> {} bins (bit_length {} -> {})",
                    1u64 << ps.bit_length,
                    1u64 << cs.bit_length,
                    ps.bit_length,
                    cs.bit_length
                ));
            }
            if ps.name_prefix != cs.name_prefix {
                out.push(format!(
                    "  bins: name prefix {} -> {}",
                    escape(&ps.name_prefix),
                    escape(&cs.name_prefix)
                ));
            }
            fields("succinct_roles", &ps.extra, &cs.extra, out);
        }
        _ => {
            out.push("! delegations changed between a list of roles and succinct hash bins".into())
        }
    }
}

/// Changes within a list of delegated roles, order first: a client asks them in order, and
/// the first terminating role that covers a path decides it.
fn list_changes(pr: &[DelegatedRole], cr: &[DelegatedRole], out: &mut Vec<String>) {
    let kept_p: Vec<&str> = pr
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| cr.iter().any(|c| c.name.as_str() == *n))
        .collect();
    let kept_c: Vec<&str> = cr
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| pr.iter().any(|p| p.name.as_str() == *n))
        .collect();
    if kept_p != kept_c {
        let first = kept_p
            .iter()
            .zip(&kept_c)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let window = |v: &[&str]| {
            let end = (first + 5).min(v.len());
            let names: Vec<String> = v[first..end]
                .iter()
                .map(|n| escape(n).into_owned())
                .collect();
            format!(
                "{}{}",
                names.join(", "),
                if end < v.len() { ", ..." } else { "" }
            )
        };
        out.push(format!(
            "! delegation order changed (clients ask roles in order) from position {}: {} -> {}",
            first + 1,
            window(&kept_p),
            window(&kept_c)
        ));
    }
    let index: std::collections::HashMap<&str, &DelegatedRole> =
        pr.iter().map(|r| (r.name.as_str(), r)).collect();
    for r in cr {
        let Some(o) = index.get(r.name.as_str()) else {
            continue;
        };
        let n = escape(r.name.as_str());
        if o.terminating != r.terminating {
            out.push(format!(
                "! role {n}: terminating {} -> {}",
                shown_flag(o.terminating),
                shown_flag(r.terminating)
            ));
        }
        if o.paths != r.paths {
            path_changes(&n, &o.paths, &r.paths, out);
        }
        fields(&format!("role {n}"), &o.extra, &r.extra, out);
    }
}

fn shown_flag(f: Option<bool>) -> &'static str {
    match f {
        Some(true) => "true",
        Some(false) => "false",
        None => "(absent)",
    }
}

/// Paths or hash prefixes added and removed, each one.
fn path_changes(role: &str, p: &RolePaths, c: &RolePaths, out: &mut Vec<String>) {
    let (pv, cv, what): (Vec<&str>, Vec<&str>, &str) = match (p, c) {
        (RolePaths::Patterns(a), RolePaths::Patterns(b)) => (
            a.iter().map(|s| &**s).collect(),
            b.iter().map(|s| &**s).collect(),
            "path",
        ),
        (RolePaths::HashPrefixes(a), RolePaths::HashPrefixes(b)) => (
            a.iter().map(String::as_str).collect(),
            b.iter().map(String::as_str).collect(),
            "hash prefix",
        ),
        _ => {
            out.push(format!(
                "! role {role}: paths {} -> {}",
                paths_kind(p),
                paths_kind(c)
            ));
            return;
        }
    };
    for x in cv.iter().filter(|x| !pv.contains(x)) {
        out.push(format!("+ role {role}: {what} {} added", escape(x)));
    }
    for x in pv.iter().filter(|x| !cv.contains(x)) {
        out.push(format!("- role {role}: {what} {} removed", escape(x)));
    }
    if pv.len() == cv.len() && pv.iter().all(|x| cv.contains(x)) {
        out.push(format!("~ role {role}: {what}s reordered"));
    }
}

fn paths_kind(p: &RolePaths) -> String {
    match p {
        RolePaths::Patterns(v) => format!("{} path pattern(s)", v.len()),
        RolePaths::HashPrefixes(v) => format!("{} hash prefix(es)", v.len()),
        RolePaths::Unspecified => "none".into(),
    }
}

/// Every target file added, removed or changed.
fn target_changes(
    p: &BTreeMap<String, TargetFile>,
    c: &BTreeMap<String, TargetFile>,
    out: &mut Vec<String>,
) {
    for (k, v) in c {
        match p.get(k) {
            None => out.push(format!("+ target {} added ({} bytes)", escape(k), v.length)),
            Some(o) if o != v => out.push(format!("~ target {} changed", escape(k))),
            Some(_) => {}
        }
    }
    for k in p.keys().filter(|k| !c.contains_key(*k)) {
        out.push(format!("- target {} removed", escape(k)));
    }
}
