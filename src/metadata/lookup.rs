//! The one way a keyid typed by a person is matched to a key: all of it, or a unique prefix.
//!
//! People copy keyids from screens that show 16 digits (`status`, `inspect`), read them
//! aloud in groups, or paste all 64. Every command that takes a keyid (`revoke`,
//! `root rotate --remove-key`, `delegation rotate --remove-key`, `pypi revoke-developer-key`,
//! `ceremony plan-rotation --lost`, `--revoked`) resolves it here against the keys it is about
//! to act on, so a prefix that works in one works in all, and none of them acts on a key the
//! officer did not mean:
//!
//! - a keyid given whole matches only itself (any text, for the non-hex keyids TAP 12
//!   allows);
//! - otherwise at least [`MIN_PREFIX`] hex digits, of either case, that start exactly one
//!   key's keyid. Several keyids that name one key (the same material spelled twice) are that
//!   one key, not an ambiguity; two different keys are refused with both listed, since
//!   guessing would revoke or remove the wrong one.

use std::collections::BTreeMap;

use crate::display::escape;
use crate::metadata::{Key, KeyId};

/// The fewest hex digits a keyid prefix may have: 32 bits, so a prefix chosen by an officer
/// matches another key by chance about once in four billion.
pub const MIN_PREFIX: usize = 8;

/// Why a keyid given by a person names no single key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdLookupError {
    /// Not hex, and not the whole of any keyid here (the text as given, escaped).
    #[error(
        "\"{given}\" is not a keyid: give the key's keyid in hex, all 64 digits or at least \
         the first {MIN_PREFIX}"
    )]
    NotHex {
        /// The text given, escaped for the terminal.
        given: String,
    },
    /// Hex, but fewer than [`MIN_PREFIX`] digits.
    #[error(
        "\"{given}\" is too short for a keyid: give at least the first {MIN_PREFIX} of its 64 \
         hex digits"
    )]
    TooShort {
        /// The text given.
        given: String,
    },
    /// No key's keyid is or starts with it.
    #[error("no key here has a keyid starting with {given}")]
    NotFound {
        /// The prefix, lower-cased.
        given: String,
    },
    /// It starts the keyids of several different keys.
    #[error(
        "{given} is the start of the keyids of {} different keys ({}); give more digits",
        candidates.len(),
        candidates.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Ambiguous {
        /// The prefix, lower-cased.
        given: String,
        /// Every keyid it starts, sorted.
        candidates: Vec<KeyId>,
    },
}

/// `given` as a prefix to match: lower-cased hex of [`MIN_PREFIX`] to 64 digits. Checks only
/// the text, so a command can refuse a malformed keyid before it reads anything.
pub fn keyid_prefix(given: &str) -> Result<String, KeyIdLookupError> {
    let s = given.trim().to_ascii_lowercase();
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyIdLookupError::NotHex {
            given: escape(given).into_owned(),
        });
    }
    if s.len() < MIN_PREFIX {
        return Err(KeyIdLookupError::TooShort { given: s });
    }
    Ok(s)
}

/// Whether `id` is a keyid `given` could name: `given` whole, or a prefix of it (of any
/// length: [`resolve_keyid`] checks the length). For a caller that gathers the candidates
/// from many files before resolving among them.
pub fn keyid_matches(given: &str, id: &KeyId) -> bool {
    let text = id.as_str();
    if *given == *text {
        return true;
    }
    let prefix = given.trim().to_ascii_lowercase();
    !prefix.is_empty() && text.to_ascii_lowercase().starts_with(&prefix)
}

/// The keyid among `keys` that `given` names: the whole keyid, or a unique prefix of at
/// least [`MIN_PREFIX`] hex digits. When several keyids with that prefix name one key (the
/// same material), the first of them in keyid order is returned.
pub fn resolve_keyid(given: &str, keys: &BTreeMap<KeyId, Key>) -> Result<KeyId, KeyIdLookupError> {
    if let Ok(exact) = KeyId::new(given)
        && keys.contains_key(&exact)
    {
        return Ok(exact);
    }
    let prefix = keyid_prefix(given)?;
    let matches: Vec<(&KeyId, &Key)> = keys
        .iter()
        .filter(|(id, _)| keyid_matches(&prefix, id))
        .collect();
    let Some((first, key)) = matches.first() else {
        return Err(KeyIdLookupError::NotFound { given: prefix });
    };
    let material = key.material();
    if matches.iter().any(|(_, k)| k.material() != material) {
        return Err(KeyIdLookupError::Ambiguous {
            given: prefix,
            candidates: matches.iter().map(|(id, _)| (*id).clone()).collect(),
        });
    }
    Ok((*first).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Key {
        Key::ed25519(&[n; 32])
    }

    fn keys(ns: &[u8]) -> BTreeMap<KeyId, Key> {
        ns.iter().map(|&n| (key(n).keyid(), key(n))).collect()
    }

    #[test]
    fn a_whole_keyid_or_a_unique_prefix_of_eight_digits_names_a_key() {
        let ks = keys(&[1, 2, 3]);
        for k in ks.keys() {
            let full = k.to_raw_string();
            assert_eq!(&resolve_keyid(&full, &ks).unwrap(), k);
            assert_eq!(&resolve_keyid(&full[..8], &ks).unwrap(), k);
            assert_eq!(&resolve_keyid(&full[..16], &ks).unwrap(), k);
            // Either case, and surrounding white space from a paste.
            let upper = format!(" {} ", full[..12].to_ascii_uppercase());
            assert_eq!(&resolve_keyid(&upper, &ks).unwrap(), k);
        }
    }

    #[test]
    fn too_short_not_hex_and_unknown_are_told_apart() {
        let ks = keys(&[1]);
        let full = ks.keys().next().unwrap().to_raw_string();
        assert_eq!(
            resolve_keyid(&full[..7], &ks),
            Err(KeyIdLookupError::TooShort {
                given: full[..7].to_owned()
            })
        );
        let e = resolve_keyid("xyz", &ks).unwrap_err();
        assert!(matches!(e, KeyIdLookupError::NotHex { .. }), "{e:?}");
        assert!(e.to_string().contains("\"xyz\" is not a keyid"), "{e}");
        // 65 digits is no keyid either.
        assert!(matches!(
            resolve_keyid(&format!("{full}0"), &ks),
            Err(KeyIdLookupError::NotHex { .. })
        ));
        let other = key(9).keyid().to_raw_string();
        assert!(matches!(
            resolve_keyid(&other[..10], &ks),
            Err(KeyIdLookupError::NotFound { given }) if given == other[..10]
        ));
        // A control character is escaped in the message.
        let e = resolve_keyid("ab\u{1b}[2J", &ks).unwrap_err();
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        // The text check alone, before anything is read.
        assert_eq!(
            keyid_prefix(&full[..9].to_ascii_uppercase()).unwrap(),
            full[..9]
        );
        assert!(keyid_prefix("12ab").is_err());
    }

    #[test]
    fn a_prefix_of_two_different_keys_lists_both_and_one_key_under_two_keyids_is_one() {
        // Two keys whose keyids share 8 digits: give them keyids that do (TAP 12 allows any).
        let a = KeyId::new(&format!("{}{}", "deadbeef", "0".repeat(56))).unwrap();
        let b = KeyId::new(&format!("{}{}", "deadbeef", "1".repeat(56))).unwrap();
        let two = BTreeMap::from([(a.clone(), key(1)), (b.clone(), key(2))]);
        let e = resolve_keyid("DEADBEEF", &two).unwrap_err();
        assert_eq!(
            e,
            KeyIdLookupError::Ambiguous {
                given: "deadbeef".into(),
                candidates: vec![a.clone(), b.clone()]
            }
        );
        assert!(e.to_string().contains(&a.to_raw_string()), "{e}");
        assert!(e.to_string().contains("give more digits"), "{e}");
        // More digits settle it.
        assert_eq!(resolve_keyid("deadbeef1", &two).unwrap(), b);
        // The same key under both keyids is one key: the first keyid names it.
        let alias = BTreeMap::from([(a.clone(), key(1)), (b, key(1))]);
        assert_eq!(resolve_keyid("deadbeef", &alias).unwrap(), a);
    }

    #[test]
    fn a_keyid_that_is_not_hex_matches_only_whole() {
        let odd = KeyId::new("officer-alice").unwrap();
        let ks = BTreeMap::from([(odd.clone(), key(1))]);
        assert_eq!(resolve_keyid("officer-alice", &ks).unwrap(), odd);
        assert!(resolve_keyid("officer", &ks).is_err());
        assert!(keyid_matches("officer-alice", &odd));
        let hex = key(1).keyid();
        assert!(keyid_matches(
            &hex.to_raw_string()[..9].to_ascii_uppercase(),
            &hex
        ));
        assert!(!keyid_matches("", &hex));
    }
}
