//! Names beside keyids: which plan key a keyid is, and which officer holds it.
//!
//! People at the ceremony table know "Alice's root key", not `1e05df8b…`. Wherever a plan is
//! at hand, every keyid shown gets the key's name and its officer beside it:
//! `1e05df8b… (root-alice, officer Alice Smith)`. The keyid stays: it is what the metadata
//! says and what counts. A name only says what the plan calls that keyid, so someone who can
//! edit the plan can change the names, never the keys: read the keyids aloud against the
//! paper plan when it matters.

use std::collections::BTreeMap;

use crate::ceremony::plan::Plan;
use crate::display::escape;
use crate::metadata::KeyId;

/// What a plan calls one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyName {
    /// The key's name in the plan, e.g. `root-alice`.
    pub key: String,
    /// The officer holding it, as (officer id, full name): none for an online key. The full
    /// name is the id when the plan gives no name for that officer.
    pub officer: Option<(String, String)>,
}

impl KeyName {
    /// "root-alice, officer Alice Smith" (or "timestamp, online key"), escaped for printing.
    pub fn label(&self) -> String {
        match &self.officer {
            Some((_, name)) => format!("{}, officer {}", escape(&self.key), escape(name)),
            None => format!("{}, online key", escape(&self.key)),
        }
    }
}

/// Keyid -> what the plans call it.
#[derive(Clone, Debug, Default)]
pub struct KeyNames {
    by_id: BTreeMap<KeyId, KeyName>,
    /// Officer id -> full name.
    officers: BTreeMap<String, String>,
}

impl KeyNames {
    /// No names: every keyid is shown alone.
    pub fn new() -> Self {
        KeyNames::default()
    }

    /// Every key of `plan` (retired keys too: a rotation still shows who holds them), by its
    /// keyid.
    pub fn from_plan(plan: &Plan) -> Self {
        let mut names = KeyNames::new();
        names.add_plan(plan);
        names
    }

    /// Add the keys of another plan; a keyid already named keeps its first name (the plans
    /// given first, e.g. the ceremony's own, win).
    pub fn add_plan(&mut self, plan: &Plan) {
        for (id, name) in &plan.officers {
            self.officers
                .entry(id.clone())
                .or_insert_with(|| name.clone());
        }
        for k in plan.keys.values() {
            let officer = k.officer.as_ref().map(|id| {
                let name = plan.officers.get(id).cloned().unwrap_or_else(|| id.clone());
                (id.clone(), name)
            });
            self.by_id.entry(k.key.keyid()).or_insert(KeyName {
                key: k.name.clone(),
                officer,
            });
        }
    }

    /// An officer's full name, by the id the plans give them (as the transcript records the
    /// officer who signed).
    pub fn officer(&self, id: &str) -> Option<&str> {
        self.officers.get(id).map(String::as_str)
    }

    /// Whether no key is named.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// What the plans call `id`, if anything.
    pub fn get(&self, id: &KeyId) -> Option<&KeyName> {
        self.by_id.get(id)
    }

    /// The keyid for printing, with its name and officer when the plans know it:
    /// `1e05… (root-alice, officer Alice Smith)`.
    pub fn with_keyid(&self, id: &KeyId) -> String {
        match self.get(id) {
            Some(n) => format!("{id} ({})", n.label()),
            None => id.to_string(),
        }
    }

    /// `text` with the name and officer put after every full keyid (64 hex digits) the plans
    /// know, for lines that already hold keyids (a review, a report). Nothing else changes.
    pub fn annotate(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(is_hex) {
            let len = rest[start..]
                .find(|c| !is_hex(c))
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + len];
            out.push_str(&rest[..start + len]);
            if len == 64
                && let Ok(id) = KeyId::new(run)
                && let Some(n) = self.get(&id)
            {
                out.push_str(&format!(" ({})", n.label()));
            }
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }
}

/// The digits of a keyid as conclave computes them.
fn is_hex(c: char) -> bool {
    c.is_ascii_digit() || ('a'..='f').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Key;

    fn key(n: u8) -> Key {
        use crate::signer::{Ed25519Signer, Signer};
        Ed25519Signer::from_seed(&[n; 32]).public_key().clone()
    }

    /// A plan whose keys are read from `keys` by path name.
    fn plan(text: &str, keys: &[(&str, Key)]) -> Plan {
        Plan::parse(text, &mut |p: &str| {
            keys.iter()
                .find(|(n, _)| *n == p)
                .map(|(_, k)| k.clone())
                .ok_or_else(|| format!("no key {p}"))
        })
        .unwrap()
    }

    const PLAN: &str = r#"
[ceremony]
format = 1
name = "names"
[officers.alice]
name = "Alice Smith"
[officers.bob]
name = "Bob \u202eJones"
[keys.root-alice]
officer = "alice"
source = "key-file"
public_key = "a"
[keys.root-bob]
officer = "bob"
source = "key-file"
public_key = "b"
[keys.ts]
source = "online"
public_key = "t"
[roles.root]
keys = ["root-alice", "root-bob"]
threshold = 2
expires = "365d"
[roles.targets]
keys = ["root-alice"]
expires = "365d"
[roles.snapshot]
keys = ["ts"]
[roles.timestamp]
keys = ["ts"]
"#;

    #[test]
    fn a_plan_names_each_keyid_with_its_officer() {
        let p = plan(PLAN, &[("a", key(1)), ("b", key(2)), ("t", key(3))]);
        let names = KeyNames::from_plan(&p);
        let alice = key(1).keyid();
        assert_eq!(
            names.get(&alice),
            Some(&KeyName {
                key: "root-alice".into(),
                officer: Some(("alice".into(), "Alice Smith".into())),
            })
        );
        assert_eq!(
            names.with_keyid(&alice),
            format!("{alice} (root-alice, officer Alice Smith)")
        );
        assert_eq!(
            names.with_keyid(&key(3).keyid()),
            format!("{} (ts, online key)", key(3).keyid())
        );
        // A key the plan does not have is shown alone.
        assert_eq!(
            names.with_keyid(&key(9).keyid()),
            key(9).keyid().to_string()
        );
    }

    #[test]
    fn names_from_the_plan_are_escaped() {
        let p = plan(PLAN, &[("a", key(1)), ("b", key(2)), ("t", key(3))]);
        let label = KeyNames::from_plan(&p).with_keyid(&key(2).keyid());
        assert!(!label.contains('\u{202e}'), "{label:?}");
        assert!(label.contains("officer Bob \\u{202e}Jones"), "{label}");
    }

    #[test]
    fn annotate_names_only_whole_known_keyids() {
        let p = plan(PLAN, &[("a", key(1)), ("b", key(2)), ("t", key(3))]);
        let names = KeyNames::from_plan(&p);
        let (a, b, x) = (key(1).keyid(), key(2).keyid(), key(9).keyid());
        let line = format!(
            "+ role root: key {a} added, {b}  ed25519/ed25519; {x}; {}",
            &*a.short()
        );
        assert_eq!(
            names.annotate(&line),
            format!(
                "+ role root: key {a} (root-alice, officer Alice Smith) added, {b} (root-bob, \
                 officer Bob \\u{{202e}}Jones)  ed25519/ed25519; {x}; {}",
                &*a.short()
            )
        );
        // A longer hex run that happens to start with a keyid is not that keyid.
        let longer = format!("{a}00");
        assert_eq!(names.annotate(&longer), longer);
        assert_eq!(KeyNames::new().annotate(&line), line);
    }

    #[test]
    fn the_first_plan_keeps_its_names() {
        let first = plan(PLAN, &[("a", key(1)), ("b", key(2)), ("t", key(3))]);
        let second = plan(
            &PLAN.replace("root-alice", "renamed"),
            &[("a", key(1)), ("b", key(2)), ("t", key(3))],
        );
        let mut names = KeyNames::from_plan(&first);
        names.add_plan(&second);
        assert_eq!(names.get(&key(1).keyid()).unwrap().key, "root-alice");
    }
}
