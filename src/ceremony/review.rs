//! What officers read before they sign: a summary of the metadata, the changes against the
//! previous version, and the payload digest in hex and as PGP words to compare aloud.

use std::collections::{BTreeMap, BTreeSet};

use crate::display::escape;
use crate::metadata::{AnyMetadata, DelegationRoles, Key, KeyId, RolePaths, Threshold};

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
    let count = role_count(md);
    if count > 20 {
        out.push(format!(
            "delegates to {count} roles (too many to list here; see the review)"
        ));
        return out;
    }
    let keys = all_keys(md);
    let table = role_table(md);
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
    if let AnyMetadata::Targets(t) = md {
        out.push(format!("targets:  {} file(s)", t.signed.targets.len()));
    }
    out
}

/// What changed from `prev` to `cur`, line by line.
pub fn changes(prev: &AnyMetadata, cur: &AnyMetadata) -> Vec<String> {
    let mut out = Vec::new();
    let (pc, cc) = (prev.common(), cur.common());
    if pc.version != cc.version {
        out.push(format!("version {} -> {}", pc.version, cc.version));
    }
    if pc.expires != cc.expires {
        out.push(format!("expires {} -> {}", pc.expires, cc.expires));
    }
    let (pt, ct) = (role_table(prev), role_table(cur));
    let (pk, ck) = (all_keys(prev), all_keys(cur));
    let names: BTreeSet<&String> = pt.keys().chain(ct.keys()).collect();
    for name in names {
        let n = escape(name);
        match (pt.get(name), ct.get(name)) {
            (None, Some((ids, t))) => {
                out.push(format!("+ role {n} added: {t} of {} key(s)", ids.len()))
            }
            (Some(_), None) => out.push(format!("- role {n} removed")),
            (Some((pids, ptr)), Some((cids, ctr))) => {
                if ptr != ctr {
                    out.push(format!("  role {n}: threshold {ptr} -> {ctr}"));
                }
                for id in cids.iter().filter(|i| !pids.contains(i)) {
                    out.push(format!(
                        "+ role {n}: key {id} added ({})",
                        key_kind(ck.get(id))
                    ));
                }
                for id in pids.iter().filter(|i| !cids.contains(i)) {
                    out.push(format!(
                        "- role {n}: key {id} removed ({})",
                        key_kind(pk.get(id))
                    ));
                }
            }
            (None, None) => {}
        }
    }
    if let (AnyMetadata::Targets(p), AnyMetadata::Targets(c)) = (prev, cur) {
        let added = c
            .signed
            .targets
            .keys()
            .filter(|k| !p.signed.targets.contains_key(*k))
            .count();
        let removed = p
            .signed
            .targets
            .keys()
            .filter(|k| !c.signed.targets.contains_key(*k))
            .count();
        let changed = c
            .signed
            .targets
            .iter()
            .filter(|(k, v)| p.signed.targets.get(*k).is_some_and(|o| o != *v))
            .count();
        if added + removed + changed > 0 {
            out.push(format!(
                "targets: {added} added, {removed} removed, {changed} changed"
            ));
        }
        if let (Some(pd), Some(cd)) = (&p.signed.delegations, &c.signed.delegations)
            && let (DelegationRoles::List(pr), DelegationRoles::List(cr)) = (&pd.roles, &cd.roles)
        {
            for r in cr {
                if let Some(o) = pr.iter().find(|o| o.name == r.name) {
                    if o.paths != r.paths {
                        let show = |p: &RolePaths| match p {
                            RolePaths::Patterns(v) => escape(&v.join(", ")).into_owned(),
                            RolePaths::HashPrefixes(v) => format!("{} hash prefixes", v.len()),
                            RolePaths::Unspecified => "none".into(),
                        };
                        out.push(format!(
                            "  role {}: paths {} -> {}",
                            escape(r.name.as_str()),
                            show(&o.paths),
                            show(&r.paths)
                        ));
                    }
                    if o.terminating != r.terminating {
                        out.push(format!(
                            "  role {}: terminating {:?} -> {:?}",
                            escape(r.name.as_str()),
                            o.terminating,
                            r.terminating
                        ));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out.push("no changes to keys, thresholds, expiry or targets".into());
    }
    out
}
