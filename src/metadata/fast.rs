//! A fast path for reading `signed.delegations` straight from the text into the model.
//!
//! A PyPI claimed role delegates to a million projects. Reading it through a JSON value tree
//! first costs a dozen allocations per project and several times the file's size in memory.
//! This reader takes the shape conclave and python-tuf write (keys in order; only the fields
//! the model knows; every value of the right type and valid for its constructor) and builds
//! the model directly. On anything else it gives up, and the ordinary reader reads the same
//! text and reports what is wrong — so for every input the result is what the ordinary reader
//! gives (a test and the `metadata` fuzz target compare the two).

use std::collections::{BTreeMap, HashSet};

use crate::cjson::{Map, Parser};
use crate::metadata::{
    DelegatedRole, DelegationRoles, Delegations, Key, KeyId, RoleName, RolePaths, SmallStr,
    Threshold,
};

/// Delegations at least this long are read on two threads (see [`keys_and_roles`]).
const PARALLEL_BYTES: usize = 4 << 20;

/// Read a `delegations` object, or `None` to leave it to the ordinary reader.
pub(crate) fn delegations(p: &mut Parser<'_>) -> Option<Delegations> {
    if p.rest().len() >= PARALLEL_BYTES {
        let saved = p.checkpoint();
        if let Some(d) = keys_and_roles(p) {
            return Some(d);
        }
        p.restore(saved);
    }
    delegations_in_order(p)
}

/// `{"keys":{...},"roles":[...]}` read on two threads: this one reads the keys while another
/// reads the roles from where they seem to start (the first `},"roles":[`). The guess is
/// right only if the keys object ends exactly there; otherwise (a string that happens to hold
/// that text) both results are dropped and the caller reads in order.
fn keys_and_roles(p: &mut Parser<'_>) -> Option<Delegations> {
    const KEYS: &[u8] = b"{\"keys\":";
    const ROLES: &[u8] = b"},\"roles\":";
    p.literal_text(KEYS)?;
    let rest = p.rest();
    let split = p.position() + rest.windows(ROLES.len()).position(|w| w == ROLES)?;
    let mut fork = p.fork(split + ROLES.len());
    let (keys, roles) = std::thread::scope(|scope| {
        let roles = scope.spawn(|| {
            let roles = role_list(&mut fork);
            (roles, fork)
        });
        let keys = key_map(p);
        (keys, roles.join().ok())
    });
    let (roles, fork) = roles?;
    // The keys must end exactly where the roles were taken to begin.
    if p.position() != split + 1 {
        return None;
    }
    let (keys, roles) = (keys?, roles?);
    p.join(&fork);
    p.literal_text(b"}")?;
    Some(Delegations {
        keys,
        roles: DelegationRoles::List(roles),
        extra: Map::new(),
    })
}

/// Read a `delegations` object field by field.
fn delegations_in_order(p: &mut Parser<'_>) -> Option<Delegations> {
    let (mut keys, mut roles) = (None, None);
    p.sorted_object(|p, field| {
        match field {
            "keys" => keys = Some(key_map(p)?),
            "roles" => roles = Some(role_list(p)?),
            _ => return None,
        }
        Some(())
    })?;
    Some(Delegations {
        keys: keys?,
        roles: DelegationRoles::List(roles?),
        extra: Map::new(),
    })
}

/// Keys read before they are added to the map, at most: a million keys collected whole would
/// be held twice (as a vector, then as the map) while the map is built. Small in unit tests,
/// so that their large documents cross many batch boundaries.
pub(crate) const KEY_BATCH: usize = if cfg!(test) { 999 } else { 1 << 17 };

/// Whether a batch of `batch` keys read should now be added to a map of `map` keys. Adding
/// rebuilds the whole map (one pass over both), so a batch waits until it is as large as the
/// map: every key is then moved a few times in all, not once per batch after it.
pub(crate) fn batch_full(batch: usize, map: usize) -> bool {
    batch >= KEY_BATCH.max(map)
}

/// Move a batch of keys, in strictly increasing keyid order after every key in `map`, into
/// `map`: the batch is built into a map in one pass (not key by key) and appended, which is
/// again one pass.
pub(crate) fn append_batch(map: &mut BTreeMap<KeyId, Key>, batch: &mut Vec<(KeyId, Key)>) {
    let mut part: BTreeMap<KeyId, Key> = std::mem::take(batch).into_iter().collect();
    map.append(&mut part);
}

fn key_map(p: &mut Parser<'_>) -> Option<BTreeMap<KeyId, Key>> {
    let mut map = BTreeMap::new();
    let mut batch = Vec::new();
    p.sorted_object(|p, id| {
        batch.push((KeyId::new(id).ok()?, key(p)?));
        if batch_full(batch.len(), map.len()) {
            append_batch(&mut map, &mut batch);
        }
        Some(())
    })?;
    append_batch(&mut map, &mut batch);
    Some(map)
}

fn key(p: &mut Parser<'_>) -> Option<Key> {
    let (mut keytype, mut scheme, mut public) = (None, None, None);
    p.sorted_object(|p, field| {
        match field {
            "keytype" => keytype = Some(p.str_value()?),
            "scheme" => scheme = Some(p.str_value()?),
            "keyval" => p.sorted_object(|p, field| {
                (field == "public").then_some(())?;
                public = Some(p.str_value()?);
                Some(())
            })?,
            _ => return None,
        }
        Some(())
    })?;
    Some(Key::from_parts(
        crate::metadata::key::label(&keytype?),
        crate::metadata::key::label(&scheme?),
        &public?,
        Map::new(),
        Map::new(),
    ))
}

fn role_list(p: &mut Parser<'_>) -> Option<Vec<DelegatedRole>> {
    let mut roles = Vec::new();
    p.array_of(|p| {
        roles.push(role(p)?);
        Some(())
    })?;
    names_unique(&roles).then_some(())?;
    Some(roles)
}

/// What [`key_entries`] read: the first and last keyid as written, and the keys in order.
pub(crate) struct KeyEntries {
    pub first: String,
    pub last: String,
    pub keys: Vec<(KeyId, Key)>,
}

/// The entries of a `keys` object cut out of a document at entry boundaries (see
/// `streamed.rs`): `"KEYID":{...}` separated by commas, nothing around them. The first and
/// last keyid are for the caller to check the order across pieces. `None` unless the text is exactly such entries in strictly increasing order.
pub(crate) fn key_entries(text: &str) -> Option<KeyEntries> {
    let mut p = Parser::over(text);
    let mut out = Vec::new();
    let mut first: Option<String> = None;
    let mut last: Option<std::borrow::Cow<'_, str>> = None;
    loop {
        let id = p.str_value()?;
        if last.as_ref().is_some_and(|l| *l >= id) {
            return None;
        }
        p.literal_text(b":")?;
        out.push((KeyId::new(&id).ok()?, key(&mut p)?));
        first.get_or_insert_with(|| id.to_string());
        last = Some(id);
        if p.rest().is_empty() {
            return Some(KeyEntries {
                first: first?,
                last: last?.into_owned(),
                keys: out,
            });
        }
        p.literal_text(b",")?;
    }
}

/// The items of a `roles` array cut out of a document at item boundaries: `{...}` separated
/// by commas, nothing around them. `None` unless the text is exactly such items.
pub(crate) fn role_items(text: &str) -> Option<Vec<DelegatedRole>> {
    let mut p = Parser::over(text);
    let mut out = Vec::new();
    loop {
        out.push(role(&mut p)?);
        if p.rest().is_empty() {
            return Some(out);
        }
        p.literal_text(b",")?;
    }
}

/// Whether role names are unique; the ordinary reader says where the second one is.
///
/// A million names go into a set in about 0.2 s on one core. Instead, each name's hash under
/// this process's random key is taken on every core, and the hashes are sorted: no hash twice
/// means no name twice. A hash seen twice (a name repeated, or once in a great while two
/// names with one hash) sends the names to the set, which decides exactly. The key is random,
/// so no file can be written to collide on purpose (it would only cost the set's time).
pub(crate) fn names_unique(roles: &[DelegatedRole]) -> bool {
    const HASHED_MIN: usize = 1 << 14;
    let exact = || {
        let mut names = HashSet::with_capacity(roles.len());
        roles.iter().all(|r| names.insert(r.name.as_bytes()))
    };
    if roles.len() < HASHED_MIN {
        return exact();
    }
    let key = std::collections::hash_map::RandomState::new();
    let hash = |part: &[DelegatedRole], out: &mut [u64]| {
        for (r, h) in part.iter().zip(out) {
            *h = std::hash::BuildHasher::hash_one(&key, r.name.as_bytes());
        }
    };
    // Half the names on another thread, each half into its own part of one vector.
    let mut hashes = vec![0u64; roles.len()];
    let half = roles.len() / 2;
    let (first, second) = hashes.split_at_mut(half);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| hash(&roles[..half], first));
        hash(&roles[half..], second);
        other
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    });
    hashes.sort_unstable();
    hashes.windows(2).all(|w| w[0] != w[1]) || exact()
}

fn strings(p: &mut Parser<'_>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    p.array_of(|p| {
        out.push(p.string_value()?);
        Some(())
    })?;
    Some(out)
}

fn small_strings(p: &mut Parser<'_>) -> Option<Vec<SmallStr>> {
    // Room for a claimed project's two paths (`NAME`, `NAME/*`), so they need no other.
    let mut read = Vec::with_capacity(2);
    p.array_of(|p| {
        read.push(SmallStr::new(&p.str_value()?));
        Some(())
    })?;
    Some(exact(read))
}

/// `v` moved into an allocation of exactly its length. A growing vector holds room for four,
/// and a million roles hold one or two each; shrinking it in place instead would leave a
/// small free gap behind each one that the allocator cannot always reuse (at a million
/// projects, 150 MiB more resident than the model itself).
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    if v.len() == v.capacity() {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    out.append(&mut v);
    out
}

fn role(p: &mut Parser<'_>) -> Option<DelegatedRole> {
    let at = p.checkpoint();
    if let Some(role) = canonical_role(p) {
        return Some(role);
    }
    p.restore(at);
    any_role(p)
}

/// A delegation written as conclave writes a claimed project's, in canonical form:
/// `{"keyids":[...],"name":...,"paths":[...],"terminating":...,"threshold":...}`, matched
/// field by field as literal text (a million of them are read in every step). Every value is
/// read by the same functions as in [`any_role`], which reads anything else (the caller
/// comes back to where this one started), so the two give the same delegation.
fn canonical_role(p: &mut Parser<'_>) -> Option<DelegatedRole> {
    p.literal_text(b"{\"keyids\":[")?;
    let mut keyids: Vec<KeyId> = Vec::with_capacity(1);
    if p.literal_text(b"]").is_none() {
        loop {
            let id = KeyId::new(&p.str_value()?).ok()?;
            (!keyids.contains(&id)).then_some(())?;
            keyids.push(id);
            if p.literal_text(b"]").is_some() {
                break;
            }
            p.literal_text(b",")?;
        }
    }
    p.literal_text(b",\"name\":")?;
    let name = RoleName::delegated(&p.str_value()?).ok()?;
    p.literal_text(b",\"paths\":[")?;
    let mut paths = Vec::with_capacity(2);
    if p.literal_text(b"]").is_none() {
        loop {
            paths.push(SmallStr::new(&p.str_value()?));
            if p.literal_text(b"]").is_some() {
                break;
            }
            p.literal_text(b",")?;
        }
    }
    p.literal_text(b",\"terminating\":")?;
    let terminating = p.bool_value()?;
    p.literal_text(b",\"threshold\":")?;
    let threshold = Threshold::from_json(p.int_value()?).ok()?;
    p.literal_text(b"}")?;
    Some(DelegatedRole {
        name,
        keyids: exact(keyids),
        threshold,
        terminating: Some(terminating),
        paths: RolePaths::Patterns(exact(paths)),
        extra: Map::new(),
    })
}

/// A delegation in any form the fast reader takes.
fn any_role(p: &mut Parser<'_>) -> Option<DelegatedRole> {
    let (mut name, mut keyids, mut threshold, mut terminating) = (None, None, None, None);
    let (mut paths, mut prefixes) = (None, None);
    p.sorted_object(|p, field| {
        match field {
            "name" => name = Some(RoleName::delegated(&p.str_value()?).ok()?),
            "keyids" => {
                // Room for one, as most delegations have: allocated once, at its size.
                let mut ids: Vec<KeyId> = Vec::with_capacity(1);
                p.array_of(|p| {
                    let id = KeyId::new(&p.str_value()?).ok()?;
                    (!ids.contains(&id)).then_some(())?;
                    ids.push(id);
                    Some(())
                })?;
                keyids = Some(exact(ids));
            }
            "threshold" => threshold = Some(Threshold::from_json(p.int_value()?).ok()?),
            "terminating" => terminating = Some(p.bool_value()?),
            "paths" => paths = Some(small_strings(p)?),
            "path_hash_prefixes" => prefixes = Some(strings(p)?),
            _ => return None,
        }
        Some(())
    })?;
    let paths = match (paths, prefixes) {
        (Some(_), Some(_)) => return None,
        (Some(p), None) => RolePaths::Patterns(p),
        (None, Some(h)) => RolePaths::HashPrefixes(h),
        (None, None) => RolePaths::Unspecified,
    };
    Some(DelegatedRole {
        name: name?,
        keyids: keyids?,
        threshold: threshold?,
        terminating,
        paths,
        extra: Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use crate::cjson;
    use crate::metadata::{AnyMetadata, Metadata, Targets};

    /// The fast reader and the ordinary one must agree on every input: same model, or the same
    /// error.
    fn same_as_ordinary(text: &str) {
        let fast = AnyMetadata::from_bytes(text.as_bytes()).map(|m| m.to_file_bytes());
        let ordinary = cjson::parse(text.as_bytes())
            .map_err(crate::metadata::LoadError::from)
            .and_then(|v| AnyMetadata::from_value_read(v, None))
            .map(|m| m.to_file_bytes());
        // The typed reader agrees too.
        if let Ok(AnyMetadata::Targets(t)) = AnyMetadata::from_bytes(text.as_bytes()) {
            let typed = Metadata::<Targets>::from_bytes(text.as_bytes()).expect("typed reader");
            assert_eq!(typed, t);
        }
        match (&fast, &ordinary) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            _ => panic!("readers disagree on {text}: {fast:?} / {ordinary:?}"),
        }
    }

    const KEY: &str = r#""k1":{"keytype":"ed25519","keyval":{"public":"aa"},"scheme":"ed25519"}"#;

    fn doc(keys: &str, roles: &str) -> String {
        format!(
            r#"{{"signatures":[],"signed":{{"_type":"targets","delegations":{{"keys":{{{keys}}},"roles":[{roles}]}},"expires":"2030-01-01T00:00:00Z","spec_version":"1.0.31","targets":{{}},"version":1}}}}"#
        )
    }

    const ROLE: &str =
        r#"{"keyids":["k1"],"name":"a","paths":["a","a/*"],"terminating":true,"threshold":1}"#;

    #[test]
    fn a_repeated_name_among_many_is_found_by_the_hashed_check() {
        use crate::metadata::{DelegatedRole, RoleName, RolePaths, Threshold};
        let role = |name: String| DelegatedRole {
            name: RoleName::delegated(&name).expect("name"),
            keyids: Vec::new(),
            threshold: Threshold::new(1).expect("threshold"),
            terminating: Some(true),
            paths: RolePaths::Unspecified,
            extra: cjson::Map::new(),
        };
        // Past the size where names are hashed and sorted, on both sides of a part boundary.
        let mut roles: Vec<DelegatedRole> = (0..40_000).map(|i| role(format!("p-{i}"))).collect();
        assert!(super::names_unique(&roles));
        roles.push(role("p-3".into()));
        assert!(!super::names_unique(&roles));
        roles.pop();
        roles[39_999] = role("p-0".into());
        assert!(!super::names_unique(&roles));
        // Below it: the set alone.
        assert!(super::names_unique(&roles[..100]));
        assert!(!super::names_unique(&[role("x".into()), role("x".into())]));
    }

    #[test]
    fn a_delegation_in_claimed_form_reads_as_any_other_and_near_misses_are_read_generally() {
        let role = |keyids: &str, name: &str, paths: &str, rest: &str| {
            format!(r#"{{"keyids":[{keyids}],"name":{name},"paths":[{paths}]{rest}}}"#)
        };
        let t = r#","terminating":true,"threshold":1"#;
        for r in [
            role(r#""k1""#, r#""a""#, r#""a","a/*""#, t),
            role("", r#""a""#, "", t),
            role(r#""k1","k2""#, r#""a""#, r#""a""#, r#","terminating":false,"threshold":2"#),
            // Near misses: each is refused or read by the general path, as the ordinary
            // reader reads it.
            role(r#""k1","k1""#, r#""a""#, r#""a""#, t),
            role(r#""k1""#, r#""ab""#, r#""a""#, t),
            role(r#""k1""#, r#""a""#, r#""a\/b""#, t),
            role(r#""k1""#, r#""a/b""#, r#""a""#, t),
            role(r#""k1""#, r#""a""#, r#""a""#, r#","threshold":1"#),
            role(r#""k1""#, r#""a""#, r#""a""#, r#","terminating":true,"threshold":0"#),
            role(r#""k1""#, r#""a""#, r#""a""#, r#","terminating":true,"threshold":1.0"#),
            role(r#""k1""#, r#""a""#, r#""a""#, r#","terminating":1,"threshold":1"#),
            role(r#""k1""#, r#""a""#, r#""a""#, r#","terminating":true,"threshold":1,"x":1"#),
            role(r#""k1""#, r#""a""#, r#""a","#, t),
            role(r#""k1""#, r#""a""#, r#""a""#, r#", "terminating":true,"threshold":1"#),
            r#"{"keyids":["k1"],"name":"a","path_hash_prefixes":["ab"],"terminating":true,"threshold":1}"#.into(),
        ] {
            same_as_ordinary(&doc(KEY, &r));
        }
    }

    #[test]
    fn the_fast_path_reads_what_the_ordinary_reader_reads() {
        same_as_ordinary(&doc(KEY, ROLE));
        same_as_ordinary(&doc(KEY, &format!("{ROLE},{}", ROLE.replace("\"a", "\"b"))));
        same_as_ordinary(&doc("", ""));
    }

    #[test]
    fn anything_unusual_goes_to_the_ordinary_reader_with_the_same_result() {
        let cases = [
            // unknown fields, kept as extra
            doc(KEY, &ROLE.replace("\"keyids\"", "\"x-note\":1,\"keyids\"")),
            doc(&KEY.replace("\"keytype\"", "\"x\":[],\"keytype\""), ROLE),
            doc(
                &KEY.replace("{\"public\"", "{\"private\":\"no\",\"public\""),
                ROLE,
            ),
            // out of order, whitespace, escapes
            doc(
                KEY,
                &ROLE.replace(
                    "\"keyids\":[\"k1\"],\"name\":\"a\"",
                    "\"name\":\"a\",\"keyids\":[\"k1\"]",
                ),
            ),
            doc(KEY, &ROLE.replace(",\"name\"", " , \"name\"")),
            doc(KEY, &ROLE.replace("\"a/*\"", "\"a\\/*\"")),
            doc(KEY, &ROLE.replace("\"a/*\"", "\"a\\n*\"")),
            // invalid: each must give the ordinary reader's message
            doc(KEY, &format!("{ROLE},{ROLE}")),
            doc(KEY, &ROLE.replace("\"threshold\":1", "\"threshold\":0")),
            doc(KEY, &ROLE.replace("\"threshold\":1", "\"threshold\":\"1\"")),
            doc(KEY, &ROLE.replace("[\"k1\"]", "[\"k1\",\"k1\"]")),
            doc(KEY, &ROLE.replace("\"name\":\"a\"", "\"name\":\"targets\"")),
            doc(KEY, &ROLE.replace("\"name\":\"a\"", "\"name\":\"a/b\"")),
            doc(KEY, &ROLE.replace("\"name\":\"a\",", "")),
            doc(
                KEY,
                &ROLE.replace("\"paths\"", "\"path_hash_prefixes\":[\"ab\"],\"paths\""),
            ),
            doc(KEY, &ROLE.replace("true", "\"yes\"")),
            doc(&format!("{KEY},{KEY}"), ROLE),
            doc(&KEY.replace("\"k1\"", "\"\""), ROLE),
            doc(&KEY.replace("\"ed25519\",\"keyval\"", "1,\"keyval\""), ROLE),
            doc(KEY, &ROLE.replace("\"threshold\":1", "\"threshold\":1.5")),
            doc(KEY, &ROLE.replace("\"threshold\":1", "\"threshold\":-0")),
            doc(KEY, &ROLE.replace("\"threshold\":1", "\"threshold\":01")),
            doc(KEY, &ROLE.replace("\"a/*\"", "\"a\\q\"")),
            doc(KEY, ROLE).replace("\"roles\"", "\"succinct_roles\":{},\"roles\""),
            doc(KEY, ROLE).replace("\"delegations\":{", "\"delegations\":{\"x\":1,"),
            doc(KEY, ROLE).replace("\"expires\"", "\"delegations\":null,\"expires\""),
            doc(KEY, ROLE).replace("targets\",\"delegations", "root\",\"delegations"),
        ];
        for c in &cases {
            same_as_ordinary(c);
        }
    }

    #[test]
    fn a_root_keeps_a_delegations_field_as_it_was() {
        let root = include_str!("../../examples/pypi-repository/1.root.json");
        let text = root.replacen(
            "\"_type\": \"root\",",
            &format!(
                "\"_type\": \"root\", \"delegations\": {{\"keys\": {{{KEY}}}, \"roles\": [{ROLE}]}},"
            ),
            1,
        );
        assert_ne!(text, root);
        let fast = AnyMetadata::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(fast.type_name(), "root");
        same_as_ordinary(&text);
        assert!(
            String::from_utf8(fast.signed_bytes())
                .unwrap()
                .contains("\"delegations\":{\"keys\"")
        );
    }

    #[test]
    fn every_example_and_vector_reads_alike() {
        let mut seen = 0;
        for dir in [
            "examples/pypi-repository",
            "tests/vectors/repos",
            "tests/vectors/attacks",
        ] {
            let mut stack = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "json") {
                        let text = std::fs::read(&p).unwrap();
                        if let Ok(t) = std::str::from_utf8(&text) {
                            same_as_ordinary(t);
                            seen += 1;
                        }
                    }
                }
            }
        }
        assert!(seen > 50, "only {seen} files compared");
    }

    /// A claimed-like role with `n` projects; key 7's object is `odd_key` if given.
    fn large_doc(n: usize, odd_key: Option<&str>) -> String {
        let mut keys = Vec::new();
        let mut roles = Vec::new();
        for i in 0..n {
            let key = match odd_key {
                Some(k) if i == 7 => k.to_owned(),
                _ => format!(
                    r#"{{"keytype":"ed25519","keyval":{{"public":"{i:064x}"}},"scheme":"ed25519"}}"#
                ),
            };
            keys.push(format!(r#""k{i:08}":{key}"#));
            roles.push(format!(
                r#"{{"keyids":["k{i:08}"],"name":"p{i}","paths":["p{i}","p{i}/*"],"terminating":true,"threshold":1}}"#
            ));
        }
        doc(&keys.join(","), &roles.join(","))
    }

    #[test]
    fn large_delegations_read_on_two_threads_read_alike() {
        let text = large_doc(40_000, None);
        assert!(text.len() > super::PARALLEL_BYTES);
        same_as_ordinary(&text);
        let AnyMetadata::Targets(t) = AnyMetadata::from_bytes(text.as_bytes()).unwrap() else {
            panic!("targets expected");
        };
        let d = t.signed.delegations.unwrap();
        assert_eq!(d.keys.len(), 40_000);
    }

    #[test]
    fn text_that_looks_like_the_start_of_the_roles_inside_a_key_is_read_alike() {
        // The first `},"roles":[` is inside key 7 (an unknown field): the second thread starts
        // in the wrong place, and the result must still be the ordinary reader's.
        let odd = r#"{"keytype":"ed25519","keyval":{"public":"aa"},"roles":[],"scheme":"ed25519"}"#;
        let text = large_doc(40_000, Some(odd));
        same_as_ordinary(&text);
        let AnyMetadata::Targets(t) = AnyMetadata::from_bytes(text.as_bytes()).unwrap() else {
            panic!("targets expected");
        };
        let d = t.signed.delegations.unwrap();
        assert_eq!(d.keys.len(), 40_000);
        assert_eq!(d.keys.values().filter(|k| !k.extra().is_empty()).count(), 1);
    }
}
