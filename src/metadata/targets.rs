//! targets.json and delegated targets roles (TUF spec "File formats: targets.json"; TAP 15).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::cjson::{Map, Value};
use crate::metadata::canonical::Out;
use crate::metadata::fields::{self, Fields};
use crate::metadata::root::RoleKeys;
use crate::metadata::snapshot::{hashes_value, read_hashes};
use crate::metadata::{
    Common, FormatError, Key, KeyId, Role, RoleName, SmallStr, Threshold, keyids_threshold,
    keys_value, read_keys,
};

/// One entry of `targets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetFile {
    /// The target file's length in bytes.
    pub length: u64,
    /// Hex digests of the target file, by hash algorithm name (e.g. `sha256`).
    pub hashes: BTreeMap<String, String>,
    /// Everything else, `custom` included.
    pub extra: Map,
}

impl TargetFile {
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let length = u64::try_from(f.int("length")?)
            .map_err(|_| FormatError::new(&f.path("length"), "must not be negative"))?;
        let hashes_path = f.path("hashes");
        let hashes = read_hashes(f.object("hashes")?, &hashes_path)?;
        Ok(TargetFile {
            length,
            hashes,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        fields::object(
            vec![
                ("length", Value::Int(self.length as i64)),
                ("hashes", hashes_value(&self.hashes)),
            ],
            &self.extra,
        )
    }
}

/// Which targets a delegated role may sign for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolePaths {
    /// Shell-style patterns, matched per `/`-separated component.
    Patterns(Vec<SmallStr>),
    /// Lowercase hex prefixes of SHA-256(target path).
    HashPrefixes(Vec<String>),
    /// Neither field: the spec allows it, python-tuf refuses to load it (a lint warning).
    Unspecified,
}

/// One entry of `delegations.roles`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegatedRole {
    /// The delegated role's name.
    pub name: RoleName,
    /// The keyids allowed to sign the role, resolved in [`Delegations::keys`].
    pub keyids: Vec<KeyId>,
    /// How many distinct allowed keys must sign.
    pub threshold: Threshold,
    /// python-tuf requires the field; conclave always writes it, and keeps its absence on
    /// input so that signatures over such metadata still verify.
    pub terminating: Option<bool>,
    /// Which targets the role may sign for.
    pub paths: RolePaths,
    /// Unknown fields, kept as read.
    pub extra: Map,
}

impl DelegatedRole {
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let name = RoleName::delegated(&f.string("name")?)
            .map_err(|e| FormatError::new(&f.path("name"), e))?;
        let (keyids, threshold) = RoleKeys::read(&mut f)?;
        let terminating = f.opt_bool("terminating")?;
        let patterns = f.opt_string_list("paths")?;
        let prefixes = f.opt_string_list("path_hash_prefixes")?;
        let paths = match (patterns, prefixes) {
            (Some(_), Some(_)) => {
                return Err(FormatError::new(
                    path,
                    "has both \"paths\" and \"path_hash_prefixes\"; exactly one is allowed",
                ));
            }
            (Some(p), None) => RolePaths::Patterns(p.into_iter().map(SmallStr::from).collect()),
            (None, Some(h)) => RolePaths::HashPrefixes(h),
            (None, None) => RolePaths::Unspecified,
        };
        Ok(DelegatedRole {
            name,
            keyids,
            threshold,
            terminating,
            paths,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        let mut known = vec![("name", Value::from(self.name.as_str()))];
        known.extend(keyids_threshold(&self.keyids, self.threshold));
        if let Some(t) = self.terminating {
            known.push(("terminating", Value::Bool(t)));
        }
        let strings =
            |v: &mut dyn Iterator<Item = &str>| Value::Array(v.map(Value::from).collect());
        match &self.paths {
            RolePaths::Patterns(p) => {
                known.push(("paths", strings(&mut p.iter().map(|s| s.as_str()))))
            }
            RolePaths::HashPrefixes(h) => known.push((
                "path_hash_prefixes",
                strings(&mut h.iter().map(String::as_str)),
            )),
            RolePaths::Unspecified => {}
        }
        fields::object(known, &self.extra)
    }

    /// Whether this delegation covers `target` (TUF spec "PATHPATTERN" and
    /// "path_hash_prefixes"; python-tuf `DelegatedRole.is_delegated_path`).
    pub fn covers(&self, target: &str) -> bool {
        match &self.paths {
            RolePaths::Patterns(patterns) => patterns.iter().any(|p| pattern_matches(p, target)),
            RolePaths::HashPrefixes(prefixes) => {
                let digest = hex::encode(Sha256::digest(target.as_bytes()));
                prefixes.iter().any(|p| digest.starts_with(p.as_str()))
            }
            RolePaths::Unspecified => false,
        }
    }
}

/// TAP 15 hashed bins: 2^bit_length roles named `{name_prefix}-{index in hex}`, all with the
/// same keys and threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuccinctRoles {
    /// The keyids allowed to sign every bin.
    pub keyids: Vec<KeyId>,
    /// How many distinct allowed keys must sign each bin.
    pub threshold: Threshold,
    /// 1..=32.
    pub bit_length: u8,
    /// Bins are named `{name_prefix}-{index}`.
    pub name_prefix: String,
    /// Unknown fields, kept as read.
    pub extra: Map,
}

impl SuccinctRoles {
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let (keyids, threshold) = RoleKeys::read(&mut f)?;
        let bits = f.int("bit_length")?;
        let bit_length = u8::try_from(bits)
            .ok()
            .filter(|b| (1..=32).contains(b))
            .ok_or_else(|| {
                FormatError::new(
                    &f.path("bit_length"),
                    format!("must be 1 to 32, found {bits}"),
                )
            })?;
        let name_prefix = f.string("name_prefix")?;
        // The bin names must be valid role names.
        RoleName::delegated(&format!("{name_prefix}-0"))
            .map_err(|e| FormatError::new(&f.path("name_prefix"), e))?;
        Ok(SuccinctRoles {
            keyids,
            threshold,
            bit_length,
            name_prefix,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        let mut known = Vec::from(keyids_threshold(&self.keyids, self.threshold));
        known.push(("bit_length", Value::Int(i64::from(self.bit_length))));
        known.push(("name_prefix", Value::from(self.name_prefix.as_str())));
        fields::object(known, &self.extra)
    }

    /// How many bins there are: 2^bit_length.
    pub fn bin_count(&self) -> u64 {
        1u64 << self.bit_length
    }

    /// Hex digits in a bin suffix: the length of `2^bit_length - 1` in hex.
    fn suffix_width(&self) -> usize {
        usize::from(self.bit_length).div_ceil(4)
    }

    /// The name of bin `index`: the prefix, `-`, and the index in lowercase hex, zero-padded to
    /// the width of the largest index (TAP 15).
    pub fn bin_name(&self, index: u64) -> String {
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            index,
            width = self.suffix_width()
        )
    }

    /// The bin a target belongs in: the first `bit_length` bits of SHA-256(path).
    pub fn bin_for(&self, target: &str) -> String {
        let digest = Sha256::digest(target.as_bytes());
        let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        self.bin_name(u64::from(first >> (32 - u32::from(self.bit_length))))
    }

    /// If `name` is one of these bins, its index.
    pub(crate) fn index_of(&self, name: &str) -> Option<u64> {
        let suffix = name.strip_prefix(&self.name_prefix)?.strip_prefix('-')?;
        if suffix.len() != self.suffix_width()
            || !suffix
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let index = u64::from_str_radix(suffix, 16).ok()?;
        (index < self.bin_count()).then_some(index)
    }
}

/// `delegations.roles` or (TAP 15) `delegations.succinct_roles`: exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DelegationRoles {
    /// `roles`: delegated roles listed one by one, in order.
    List(Vec<DelegatedRole>),
    /// `succinct_roles` (TAP 15): hashed bins described by one entry.
    Succinct(SuccinctRoles),
}

/// The `delegations` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegations {
    /// The keys the delegated roles use, by keyid.
    pub keys: BTreeMap<KeyId, Key>,
    /// The delegated roles.
    pub roles: DelegationRoles,
    /// Unknown fields, kept as read.
    pub extra: Map,
}

/// A delegation as the verifier needs it, whether listed or succinct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegationRef<'a> {
    /// The delegated role's name (a bin's name for succinct roles).
    pub name: String,
    /// The keyids allowed to sign the role.
    pub keyids: &'a [KeyId],
    /// How many distinct allowed keys must sign.
    pub threshold: Threshold,
}

impl Delegations {
    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let keys_path = f.path("keys");
        let keys = read_keys(f.object("keys")?, &keys_path)?;
        let roles_path = f.path("roles");
        let list = f.opt_array("roles")?;
        let succinct_path = f.path("succinct_roles");
        let succinct = f.take("succinct_roles");
        let roles = match (list, succinct) {
            (Some(_), Some(_)) => {
                return Err(FormatError::new(
                    path,
                    "has both \"roles\" and \"succinct_roles\"; exactly one is allowed",
                ));
            }
            (None, None) => {
                return Err(FormatError::new(
                    path,
                    "needs \"roles\" or \"succinct_roles\"",
                ));
            }
            (Some(items), None) => {
                let mut roles: Vec<DelegatedRole> = Vec::with_capacity(items.len());
                let mut names = std::collections::HashSet::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let p = format!("{roles_path}[{i}]");
                    let role = DelegatedRole::from_value(item, &p)?;
                    // TUF spec: role names MUST be unique within one delegations object.
                    if !names.insert(role.name.as_str().to_owned()) {
                        return Err(FormatError::new(
                            &p,
                            format!(
                                "role \"{}\" is delegated twice",
                                crate::display::escape(role.name.as_str())
                            ),
                        ));
                    }
                    roles.push(role);
                }
                DelegationRoles::List(roles)
            }
            (None, Some(v)) => {
                DelegationRoles::Succinct(SuccinctRoles::from_value(v, &succinct_path)?)
            }
        };
        Ok(Delegations {
            keys,
            roles,
            extra: f.rest(),
        })
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut known = vec![("keys", keys_value(&self.keys))];
        match &self.roles {
            DelegationRoles::List(roles) => known.push((
                "roles",
                Value::Array(roles.iter().map(DelegatedRole::to_value).collect()),
            )),
            DelegationRoles::Succinct(s) => known.push(("succinct_roles", s.to_value())),
        }
        fields::object(known, &self.extra)
    }

    /// The delegation for role `name`, if this object delegates to it.
    pub fn find(&self, name: &str) -> Option<DelegationRef<'_>> {
        match &self.roles {
            DelegationRoles::List(roles) => {
                roles
                    .iter()
                    .find(|r| r.name.as_str() == name)
                    .map(|r| DelegationRef {
                        name: r.name.as_str().to_owned(),
                        keyids: &r.keyids,
                        threshold: r.threshold,
                    })
            }
            DelegationRoles::Succinct(s) => s.index_of(name).map(|_| DelegationRef {
                name: name.to_owned(),
                keyids: &s.keyids,
                threshold: s.threshold,
            }),
        }
    }

    /// The keys of a delegation that resolve in `keys`.
    pub fn keys_for(&self, keyids: &[KeyId]) -> BTreeMap<KeyId, Key> {
        keyids
            .iter()
            .filter_map(|id| self.keys.get(id).map(|k| (id.clone(), k.clone())))
            .collect()
    }
}

/// The `signed` part of targets metadata, top-level or delegated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    /// The fields every role has.
    pub common: Common,
    /// The target files this role signs for, by target path.
    pub targets: BTreeMap<String, TargetFile>,
    /// The roles this one delegates to, if any.
    pub delegations: Option<Delegations>,
    /// Unknown fields of `signed`, kept as read: they are signed too.
    pub extra: Map,
}

impl Role for Targets {
    const TYPE: &'static str = "targets";

    fn from_value(value: Value, path: &str) -> Result<Self, FormatError> {
        Self::from_value_read(value, path, None)
    }

    fn from_value_read(
        value: Value,
        path: &str,
        read: Option<Delegations>,
    ) -> Result<Self, FormatError> {
        let mut f = Fields::new(value, path)?;
        let common = Common::read(&mut f, Self::TYPE)?;
        let targets_path = f.path("targets");
        let mut targets = BTreeMap::new();
        for (name, v) in f.object("targets")? {
            let p = fields::join(&targets_path, &name);
            targets.insert(name, TargetFile::from_value(v, &p)?);
        }
        let delegations_path = f.path("delegations");
        let delegations = match (f.take("delegations"), read) {
            // The fast reader read them; the tree holds null in their place.
            (_, Some(d)) => Some(d),
            (v, None) => v
                .map(|v| Delegations::from_value(v, &delegations_path))
                .transpose()?,
        };
        Ok(Targets {
            common,
            targets,
            delegations,
            extra: f.rest(),
        })
    }

    fn to_value(&self) -> Value {
        let mut known = self.common.fields(Self::TYPE);
        known.push((
            "targets",
            Value::Object(
                self.targets
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        ));
        if let Some(d) = &self.delegations {
            known.push(("delegations", d.to_value()));
        }
        fields::object(known, &self.extra)
    }

    common_in_field!();

    fn write_canonical(&self, out: &mut Vec<u8>) {
        crate::metadata::canonical::Canon::canon(self, &mut Out::new(out));
    }

    fn stream_canonical(&self, sink: &mut dyn FnMut(&[u8])) {
        let mut buf = Vec::with_capacity(2 * crate::metadata::canonical::CHUNK);
        let mut out = Out::streaming(&mut buf, sink);
        crate::metadata::canonical::Canon::canon(self, &mut out);
        out.finish();
    }
}

/// A TUF path pattern against a target path: both are split on `/`, the component counts
/// must be equal, and each component matches with shell-glob rules (`*`, `?`, `[seq]`,
/// `[!seq]`), case-sensitively (python-tuf `_is_target_in_pathpattern`, with `fnmatchcase`
/// semantics so the answer does not depend on the client's operating system).
pub(crate) fn pattern_matches(pattern: &str, target: &str) -> bool {
    let pats: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = target.split('/').collect();
    pats.len() == parts.len()
        && pats.iter().zip(&parts).all(|(p, t)| {
            glob_component(
                &p.chars().collect::<Vec<_>>(),
                &t.chars().collect::<Vec<_>>(),
            )
        })
}

fn glob_component(p: &[char], t: &[char]) -> bool {
    // Iterative matcher with single-star backtracking: linear in practice, no recursion.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        // An unclosed '[' is a literal, as in fnmatch.
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Match `c` against the bracket class starting at `p[start] == '['`. Returns whether it
/// matched and the index after the class, or `None` if the class is not closed.
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = p[i + 2];
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_the_spec_examples() {
        assert!(pattern_matches("targets/*.tgz", "targets/foo.tgz"));
        assert!(!pattern_matches("targets/*.tgz", "targets/foo.txt"));
        assert!(!pattern_matches("*.tgz", "targets/foo.tgz"));
        assert!(pattern_matches("foo-version-?.tgz", "foo-version-2.tgz"));
        assert!(!pattern_matches(
            "foo-version-?.tgz",
            "foo-version-alpha.tgz"
        ));
        assert!(pattern_matches("*", "anything"));
        assert!(!pattern_matches("*", "a/b"));
        assert!(pattern_matches("demo/*", "demo/demo-1.0.tar.gz"));
        assert!(pattern_matches("[a-c]x", "bx"));
        assert!(!pattern_matches("[!a-c]x", "bx"));
        assert!(pattern_matches("a[x", "a[x"));
        assert!(!pattern_matches("Demo/*", "demo/x"));
        assert!(pattern_matches("*a*b*c", "xxaxxbxxc"));
    }

    #[test]
    fn succinct_bins_follow_tap15() {
        let s = SuccinctRoles {
            keyids: vec![],
            threshold: Threshold::new(1).unwrap(),
            bit_length: 14,
            name_prefix: "bins".into(),
            extra: Map::new(),
        };
        assert_eq!(s.bin_name(0), "bins-0000");
        assert_eq!(s.bin_name(0x3fff), "bins-3fff");
        assert_eq!(s.index_of("bins-3fff"), Some(0x3fff));
        assert_eq!(s.index_of("bins-4000"), None);
        assert_eq!(s.index_of("bins-03ff0"), None);
        let s3 = SuccinctRoles {
            bit_length: 3,
            ..s.clone()
        };
        assert_eq!(s3.bin_name(7), "bins-7");
        // The bin is the top bits of SHA-256(path).
        let d = Sha256::digest(b"foo");
        assert_eq!(s3.bin_for("foo"), format!("bins-{:x}", d[0] >> 5));
    }
}
