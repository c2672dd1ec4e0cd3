//! A key is its material, not its keyid.
//!
//! TUF names keys by keyid, the SHA-256 of the key object's canonical form, but the key
//! object can be spelled many ways that clients read as the same public key: Ed25519 hex in
//! upper or lower case (securesystemslib reads it with `bytes.fromhex`, which also skips
//! white space), PEM wrapped at any width or with CRLF line ends, the legacy keytype
//! `ecdsa-sha2-nistp256` beside `ecdsa`, an extra field inside `keyval`. Each spelling has
//! its own keyid. python-tuf counts distinct keyids towards a threshold, so one key holder
//! (or one thief) whose key is listed twice meets a threshold of 2 in pip. And a keyid need
//! not be the hash of the key under it: python-tuf trusts whatever key object sits under a
//! keyid, so a draft can keep an officer's exact keyid with another key behind it.
//!
//! [`Key::material`] is the one answer to "which key is this?": the key family, the scheme,
//! and the public key decoded from any spelling a client accepts. [`audit`] checks a map of
//! keys for the three things conclave never writes or signs: a keyid that is not its key's
//! hash, one key under two keyids, and private key material in a public key object.

use std::collections::{BTreeMap, HashMap};

use crate::cjson::Value;
use crate::metadata::{Key, KeyId};

/// The identity of a key: what signatures are checked against, whatever the key object's
/// spelling. Two keys with equal material are one key (TAP 12), whatever their keyids.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyMaterial {
    /// `ed25519`, `ecdsa` (both keytype spellings), or the keytype as written.
    pub family: String,
    /// The signature scheme as written.
    pub scheme: String,
    /// The decoded public key: 32 bytes for Ed25519, the SEC1 uncompressed point for P-256,
    /// or, for a key conclave cannot decode, its public text with all white space removed
    /// (and hex lower-cased).
    pub public: Vec<u8>,
}

impl Key {
    /// This key's material ([`KeyMaterial`]): the same for every spelling of one key that a
    /// client (python-tuf, tuf-js, go-tuf, tough) would accept.
    pub fn material(&self) -> KeyMaterial {
        let family = match &*self.keytype {
            "ecdsa" | "ecdsa-sha2-nistp256" => "ecdsa".to_owned(),
            other => other.to_owned(),
        };
        let public = self.public();
        let decoded = match family.as_str() {
            "ed25519" => decode_hex32(&public).map(|b| b.to_vec()),
            "ecdsa" => decode_p256_pem(&public),
            _ => None,
        };
        KeyMaterial {
            family,
            scheme: self.scheme.to_string(),
            public: decoded.unwrap_or_else(|| normalised_text(&public)),
        }
    }
}

/// 64 hex digits of either case, white space anywhere ignored (as `bytes.fromhex` reads).
fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let digits: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits.as_bytes(), &mut out).ok()?;
    Some(out)
}

/// A PEM SubjectPublicKeyInfo P-256 key, however its base64 is wrapped (any width, CRLF, text
/// before the header): the uncompressed point.
fn decode_p256_pem(s: &str) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::DecodePublicKey;
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let start = s.find(BEGIN)? + BEGIN.len();
    let end = start + s[start..].find(END)?;
    let body: Vec<u8> = s[start..end]
        .bytes()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    // Re-wrapped as RFC 7468 asks (64 columns, LF), for the strict PEM reader.
    let mut pem = format!("{BEGIN}\n");
    for line in body.chunks(64) {
        pem.push_str(std::str::from_utf8(line).ok()?);
        pem.push('\n');
    }
    pem.push_str(END);
    pem.push('\n');
    let key = p256::PublicKey::from_public_key_pem(&pem).ok()?;
    Some(key.to_sec1_point(false).as_bytes().to_vec())
}

/// Text with all white space removed, lower-cased where it is all hex.
fn normalised_text(s: &str) -> Vec<u8> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if t.bytes().all(|b| b.is_ascii_hexdigit()) {
        t.to_ascii_lowercase().into_bytes()
    } else {
        t.into_bytes()
    }
}

/// Something wrong with a map of keys that conclave never writes or signs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// The keyid is not the SHA-256 of the key object under it: the key may have been swapped
    /// under a trusted keyid (python-tuf trusts the key object, not the keyid).
    #[error("keyid {keyid} is not the keyid of the key under it (that key's keyid is {actual})")]
    KeyidNotItsKey {
        /// The keyid as listed.
        keyid: KeyId,
        /// The keyid of the key object under it.
        actual: KeyId,
    },
    /// One public key under two keyids: python-tuf and go-tuf count it twice towards a
    /// threshold.
    #[error(
        "keyids {first} and {second} hold the same public key, so a client would count it twice"
    )]
    SameKeyTwice {
        /// The first keyid, in keyid order.
        first: KeyId,
        /// The other keyid.
        second: KeyId,
    },
    /// A field of a public key object that looks like private key material.
    #[error("key {keyid} carries a field \"{field}\" that looks like private key material")]
    PrivateMaterial {
        /// The key's keyid.
        keyid: KeyId,
        /// Where, e.g. `keyval.private`.
        field: String,
    },
}

/// Every [`KeyProblem`] of `keys`: keyids that are not their key's, keys listed twice, and
/// private material, in that order and each in keyid order.
///
/// A claimed role lists a key per project, a million of them: the keyids are recomputed on
/// every core, and plain Ed25519 keys are compared by their 32 bytes without building a
/// [`KeyMaterial`].
pub fn audit(keys: &BTreeMap<KeyId, Key>) -> Vec<KeyProblem> {
    let entries: Vec<(&KeyId, &Key)> = keys.iter().collect();
    let mut problems = keyids_not_their_keys(&entries);
    // Two plain Ed25519 keys (lower-case hex, nothing else) with the same 32 bytes have the
    // same key object, so the same keyid: under keyids that are their keys' (checked above)
    // they are one entry. A key listed twice therefore always involves a key spelled
    // another way, or a keyid that is not its key's; only those are held in a table, and the
    // plain keys (a million in a claimed role) are looked up in it, not added to it.
    let wrong: std::collections::BTreeSet<&KeyId> = problems
        .iter()
        .filter_map(|p| match p {
            KeyProblem::KeyidNotItsKey { keyid, .. } => Some(keyid),
            _ => None,
        })
        .collect();
    let wrong: std::collections::BTreeSet<KeyId> = wrong.into_iter().cloned().collect();
    let mut spelled: HashMap<[u8; 32], &KeyId> = HashMap::new();
    let mut other: BTreeMap<KeyMaterial, &KeyId> = BTreeMap::new();
    let mut twice: Vec<(&KeyId, &KeyId)> = Vec::new();
    for (id, key) in &entries {
        if plain_ed25519(key).is_some() && !wrong.contains(*id) {
            continue;
        }
        let m = key.material();
        let first = match <[u8; 32]>::try_from(m.public.as_slice()) {
            Ok(raw) if m.family == "ed25519" && m.scheme == "ed25519" => spelled.insert(raw, id),
            _ => other.insert(m, id),
        };
        if let Some(first) = first {
            twice.push((first, id));
        }
    }
    if !spelled.is_empty() {
        for (id, key) in &entries {
            if let Some(raw) = plain_ed25519(key).filter(|_| !wrong.contains(*id))
                && let Some(&first) = spelled.get(&raw)
            {
                twice.push((first, id));
            }
        }
    }
    // In keyid order of the later entry, each pair named first-to-second in keyid order.
    twice.sort_by(|a, b| a.0.max(a.1).cmp(b.0.max(b.1)));
    for (a, b) in twice {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        problems.push(KeyProblem::SameKeyTwice {
            first: first.clone(),
            second: second.clone(),
        });
    }
    for (id, key) in &entries {
        for field in private_fields(key) {
            problems.push(KeyProblem::PrivateMaterial {
                keyid: (*id).clone(),
                field,
            });
        }
    }
    problems
}

/// One or more [`KeyProblem`]s: why conclave will not write or sign a set of keys.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct KeyProblems(pub Vec<KeyProblem>);

/// [`audit`] as a result: `Ok` when `keys` have no problem.
pub fn check(keys: &BTreeMap<KeyId, Key>) -> Result<(), KeyProblems> {
    let problems = audit(keys);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(KeyProblems(problems))
    }
}

/// Every [`KeyProblem`] of the keys `md` lists (a root's keys, a targets role's delegation
/// keys; none for snapshot and timestamp).
pub fn audit_metadata(md: &crate::metadata::AnyMetadata) -> Vec<KeyProblem> {
    use crate::metadata::AnyMetadata;
    match md {
        AnyMetadata::Root(r) => audit(&r.signed.keys),
        AnyMetadata::Targets(t) => t
            .signed
            .delegations
            .as_ref()
            .map(|d| audit(&d.keys))
            .unwrap_or_default(),
        AnyMetadata::Snapshot(_) | AnyMetadata::Timestamp(_) => Vec::new(),
    }
}

/// The raw key of a plain Ed25519 key object (lower-case hex, no extra fields).
fn plain_ed25519(key: &Key) -> Option<[u8; 32]> {
    if key.is_plain() && &*key.keytype == "ed25519" && &*key.scheme == "ed25519" {
        key.public_hex32().copied()
    } else {
        None
    }
}

/// [`KeyProblem::KeyidNotItsKey`] for each entry whose keyid is not its key's, on every core
/// for a large map.
fn keyids_not_their_keys(entries: &[(&KeyId, &Key)]) -> Vec<KeyProblem> {
    fn check(chunk: &[(&KeyId, &Key)]) -> Vec<KeyProblem> {
        chunk
            .iter()
            .filter_map(|(id, key)| {
                let actual = key.keyid();
                (&actual != *id).then(|| KeyProblem::KeyidNotItsKey {
                    keyid: (*id).clone(),
                    actual,
                })
            })
            .collect()
    }
    const PER_THREAD: usize = 65_536;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if entries.len() < 2 * PER_THREAD || threads < 2 {
        return check(entries);
    }
    let size = entries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(size)
            .map(|c| scope.spawn(move || check(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Member names that hold private key material in the formats TUF tools use
/// (securesystemslib's `keyval.private`, JWK's `d`, PKCS#8 PEM).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "d"
        || ["private", "secret", "seed", "passphrase", "password"]
            .iter()
            .any(|w| n.contains(w))
}

/// The fields of `key` (inside `keyval` or beside it) that look like private material: a
/// secret-looking name, or a value holding a PEM private key.
pub fn private_fields(key: &Key) -> Vec<String> {
    let mut out = Vec::new();
    if key.is_plain() && key.public_hex32().is_some() {
        // 64 hex digits and nothing else: the common case, a million times in a claimed role.
        return out;
    }
    let public_is_private = key.public().contains("PRIVATE KEY-----");
    if public_is_private {
        out.push("keyval.public".to_owned());
    }
    for (prefix, map) in [("keyval.", key.keyval_extra()), ("", key.extra())] {
        for (name, value) in map {
            if secret_name(name) || holds_private_pem(value) {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    out
}

fn holds_private_pem(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("PRIVATE KEY-----"),
        Value::Array(items) => items.iter().any(holds_private_pem),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| secret_name(k) || holds_private_pem(v)),
        _ => false,
    }
}

/// Why the keys and threshold given for a role cannot make a usable, safe role (the one check
/// every builder applies: roots, PyPI layouts).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoleKeysError {
    /// A role would be left without keys (given none, or all of them removed).
    #[error("the {role} role has no keys")]
    NoKeys {
        /// The role.
        role: String,
    },
    /// The same key is given twice for one role; it would count once towards the threshold.
    #[error("key {keyid} is given twice for the {role} role")]
    KeyTwice {
        /// The key.
        keyid: KeyId,
        /// The role.
        role: String,
    },
    /// One public key given under two keyids (spelled two ways): a client would count it
    /// twice towards the threshold.
    #[error(
        "keys {first} and {second} given for the {role} role are the same public key spelled \
         two ways: a client would count it twice; give it once"
    )]
    SameKeySpelledTwice {
        /// The first keyid.
        first: KeyId,
        /// The other spelling's keyid.
        second: KeyId,
        /// The role.
        role: String,
    },
    /// A threshold of 0, which any metadata, even unsigned, would meet.
    #[error("the {role} threshold must be at least 1")]
    ThresholdZero {
        /// The role.
        role: String,
    },
    /// A threshold larger than the role's number of keys, which no set of signatures meets.
    #[error(
        "the {role} threshold is {threshold}, but the role has only {keys} key(s): it could never be met"
    )]
    ThresholdAboveKeys {
        /// The role.
        role: String,
        /// The threshold given.
        threshold: u32,
        /// How many keys the role has.
        keys: usize,
    },
}

/// The keyids of `keys` for `role`, refusing a key given twice.
///
/// A key is compared by its material ([`Key::material`]): the same public key spelled two
/// ways (upper-case hex, the legacy ECDSA keytype, PEM wrapped differently) has two keyids,
/// and a client would count it twice towards the threshold.
pub fn keyids_once(role: &str, keys: &[Key]) -> Result<Vec<KeyId>, RoleKeysError> {
    let mut out: Vec<KeyId> = Vec::new();
    let mut seen: Vec<KeyMaterial> = Vec::new();
    for k in keys {
        let id = k.keyid();
        let material = k.material();
        if let Some(i) = seen.iter().position(|m| *m == material) {
            let first = out[i].clone();
            return Err(if first == id {
                RoleKeysError::KeyTwice {
                    keyid: id,
                    role: role.to_owned(),
                }
            } else {
                RoleKeysError::SameKeySpelledTwice {
                    first,
                    second: id,
                    role: role.to_owned(),
                }
            });
        }
        out.push(id);
        seen.push(material);
    }
    Ok(out)
}

/// Threshold `t` for `role` with `keys`: at least one key, at least 1, at most the keys.
pub fn role_threshold(
    role: &str,
    keys: &[Key],
    t: u32,
) -> Result<crate::metadata::Threshold, RoleKeysError> {
    let role = role.to_owned();
    if keys.is_empty() {
        return Err(RoleKeysError::NoKeys { role });
    }
    if t as usize > keys.len() {
        return Err(RoleKeysError::ThresholdAboveKeys {
            role,
            threshold: t,
            keys: keys.len(),
        });
    }
    crate::metadata::Threshold::new(t).map_err(|_| RoleKeysError::ThresholdZero { role })
}

/// [`keyids_once`] and [`role_threshold`] together, in that order.
pub fn role_keys(
    role: &str,
    keys: &[Key],
    t: u32,
) -> Result<(Vec<KeyId>, crate::metadata::Threshold), RoleKeysError> {
    let ids = keyids_once(role, keys)?;
    Ok((ids, role_threshold(role, keys, t)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cjson::Map;
    use crate::metadata::key::label;

    /// An Ed25519 key whose hex has letters (so that its upper-case spelling differs).
    fn ed(seed: u8) -> Key {
        Key::ed25519(&[0xa0 | seed; 32])
    }

    fn with_public(key: &Key, keytype: &str, public: &str) -> Key {
        Key::from_parts(
            label(keytype),
            label(&key.scheme),
            public,
            Map::new(),
            Map::new(),
        )
    }

    fn p256() -> Key {
        let secret = p256::SecretKey::from_slice(&[5; 32]).unwrap();
        Key::ecdsa_p256(&secret.public_key())
    }

    #[test]
    fn every_spelling_of_one_ed25519_key_is_one_key() {
        let key = ed(1);
        let upper = with_public(&key, "ed25519", &key.public().to_ascii_uppercase());
        let spaced = with_public(&key, "ed25519", &format!(" {} ", &*key.public()));
        let mut extra = Map::new();
        extra.insert("note".into(), Value::from("x"));
        let with_extra = Key::from_parts(
            label("ed25519"),
            label("ed25519"),
            &key.public(),
            extra,
            Map::new(),
        );
        for alias in [&upper, &spaced, &with_extra] {
            assert_ne!(alias.keyid(), key.keyid(), "an alias has its own keyid");
            assert_eq!(alias.material(), key.material());
        }
        assert_ne!(ed(2).material(), key.material());
    }

    #[test]
    fn every_spelling_of_one_p256_key_is_one_key() {
        let key = p256();
        let pem = key.public().to_string();
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let one_line = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
        let crlf = pem.replace('\n', "\r\n");
        let narrow: String = body
            .as_bytes()
            .chunks(16)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let narrow = format!("-----BEGIN PUBLIC KEY-----\n{narrow}-----END PUBLIC KEY-----\n");
        let legacy = with_public(&key, "ecdsa-sha2-nistp256", &pem);
        for alias in [
            with_public(&key, "ecdsa", &one_line),
            with_public(&key, "ecdsa", &crlf),
            with_public(&key, "ecdsa", &narrow),
            legacy,
        ] {
            assert_ne!(alias.keyid(), key.keyid());
            assert_eq!(alias.material(), key.material(), "{:?}", &*alias.public());
        }
    }

    #[test]
    fn audit_finds_every_second_listing_of_a_plain_key() {
        let b = ed(2);
        let upper = with_public(&b, "ed25519", &b.public().to_ascii_uppercase());
        let spaced = with_public(&b, "ed25519", &format!(" {} ", &*b.public()));
        let keys = BTreeMap::from([
            (ed(1).keyid(), ed(1)),
            (b.keyid(), b.clone()),
            (upper.keyid(), upper),
            (spaced.keyid(), spaced),
        ]);
        let twice = |keys: &BTreeMap<KeyId, Key>| {
            audit(keys)
                .into_iter()
                .filter(|p| matches!(p, KeyProblem::SameKeyTwice { .. }))
                .count()
        };
        // Three spellings of b: two second listings, whichever of them is plain.
        assert_eq!(twice(&keys), 2, "{:?}", audit(&keys));
        // The plain b under a keyid that is not its own, beside b under its own: the keyid
        // is wrong, and the key is listed twice.
        let mut wrong = KeyId::new(&"ab".repeat(32)).unwrap();
        if wrong == b.keyid() {
            wrong = KeyId::new(&"cd".repeat(32)).unwrap();
        }
        let keys = BTreeMap::from([
            (ed(1).keyid(), ed(1)),
            (b.keyid(), b.clone()),
            (wrong.clone(), b.clone()),
        ]);
        let found = audit(&keys);
        assert!(
            found
                .iter()
                .any(|p| matches!(p, KeyProblem::KeyidNotItsKey { keyid, .. } if *keyid == wrong)),
            "{found:?}"
        );
        assert_eq!(twice(&keys), 1, "{found:?}");
    }

    #[test]
    fn audit_finds_a_swapped_key_an_alias_and_private_material() {
        let (a, b) = (ed(1), ed(2));
        let mut keys = BTreeMap::from([(a.keyid(), a.clone()), (b.keyid(), b.clone())]);
        assert!(audit(&keys).is_empty());
        // Another key under a's keyid.
        keys.insert(a.keyid(), ed(3));
        assert!(matches!(
            &audit(&keys)[..],
            [KeyProblem::KeyidNotItsKey { keyid, .. }] if *keyid == a.keyid()
        ));
        // b again, in upper case: one key under two keyids.
        keys.insert(a.keyid(), a.clone());
        let alias = with_public(&b, "ed25519", &b.public().to_ascii_uppercase());
        keys.insert(alias.keyid(), alias.clone());
        assert!(
            audit(&keys)
                .iter()
                .any(|p| matches!(p, KeyProblem::SameKeyTwice { .. })),
            "{:?}",
            audit(&keys)
        );
        // A private field inside keyval.
        let mut kv = Map::new();
        kv.insert("private".into(), Value::from("00".repeat(32)));
        let leaky = Key::from_parts(
            label("ed25519"),
            label("ed25519"),
            &a.public(),
            kv,
            Map::new(),
        );
        let keys = BTreeMap::from([(leaky.keyid(), leaky)]);
        assert!(matches!(
            &audit(&keys)[..],
            [KeyProblem::PrivateMaterial { field, .. }] if field == "keyval.private"
        ));
    }
}
