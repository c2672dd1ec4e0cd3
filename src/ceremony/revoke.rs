//! Revoking a compromised key: the blast radius, the drafts, who signs them, and what the
//! online side must do.
//!
//! [`plan`] takes a repository's metadata (as `conclave verify DIR` reads it) and one key,
//! and returns a [`RevocationPlan`] as data:
//!
//! - every role that trusts the key ([`Trust`]): the four top-level roles in the latest root,
//!   every delegation in targets metadata (claimed, recently-claimed, unclaimed, the bins, and
//!   claimed's delegations to projects), with the threshold before and after and whether the
//!   remaining keys can still meet it;
//! - the new versions needed ([`Draft`]), unsigned, version + 1 and with fresh expiry, the key
//!   removed everywhere, drafted with the same functions `root rotate`, `delegation rotate`
//!   and `pypi revoke-developer-key` use; and a role whose current signatures fall below its
//!   threshold once the key no longer counts is re-issued for signing too;
//! - who must sign each draft ([`Requirement`]), never counting the revoked key;
//! - what the online side must do (new snapshot and timestamp; spec 5.3.11 when the
//!   timestamp or snapshot keys change).
//!
//! Nothing here touches the filesystem: the CLI writes the drafts.

use std::collections::{BTreeMap, BTreeSet};

use crate::cjson::{Map, Value};
use crate::display::escape;
use crate::metadata::{
    AnyMetadata, DelegationRoles, Delegations, Expires, Key, KeyId, Metadata, Root,
    TOP_LEVEL_ROLES, Targets,
};
use crate::verify::{self, FileStatus, InputFile, Problem};

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(
        "\"{0}\" is not a keyid: give the key's keyid in hex (all 64 digits, or at least the \
         first 8 as `conclave inspect` and `conclave status` show them)"
    )]
    BadKeyId(String),
    #[error("no role in this repository trusts a key whose keyid starts with {0}")]
    UnknownKey(String),
    #[error("{0} is the start of several keyids ({1}); give more digits")]
    AmbiguousKeyId(String, String),
    #[error(
        "the repository does not verify ({} problem(s)); a revocation must start from metadata \
         that verifies",
        .0.len()
    )]
    Unverified(Vec<Problem>),
    #[error("{0}")]
    Invalid(String),
}

/// What the officers ask for besides removing the key.
#[derive(Clone, Debug)]
pub struct RevokeOptions {
    /// Expiry for every draft. Without it: root and targets a year from `now`, every other
    /// role 90 days (claimed's 3 to 6 months, PEP 458's historical text).
    pub expires: Option<Expires>,
    /// The time the repository is checked against and default expiry counts from.
    pub now: Expires,
    /// Keys to add, by role (a top-level role, or a delegated role's name, or a succinct
    /// delegation's name prefix): the way to keep a threshold meetable.
    pub add: Vec<(String, Key)>,
    /// New thresholds, by role.
    pub thresholds: BTreeMap<String, u32>,
}

/// One place the key is trusted.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The role that trusts the key (for hash bins, the delegation's name prefix).
    pub role: String,
    /// The role that lists the key for it: "root", "targets", "claimed", ...
    pub delegator: String,
    /// The file that lists it.
    pub file: String,
    /// The key's place in the role's key list (1-based), and the list's length before.
    pub position: usize,
    pub keys_before: usize,
    pub keys_after: usize,
    pub threshold_before: u32,
    pub threshold_after: u32,
    /// A project delegated by claimed (or recently-claimed) to developer keys.
    pub project: bool,
    /// Whether the role's current file carries a signature by the key (None: no file here).
    pub signed_current: Option<bool>,
    /// What must happen when the remaining keys cannot meet the threshold.
    pub remedy: Option<String>,
}

impl Trust {
    pub fn meetable(&self) -> bool {
        self.keys_after >= 1 && self.keys_after as u64 >= u64::from(self.threshold_after)
    }
}

/// One set of keys that must reach its threshold on a draft.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// e.g. "root v3 (the current root's root keys)".
    pub label: String,
    pub threshold: u32,
    /// The keys that may sign and count.
    pub eligible: Vec<KeyId>,
    /// The revoked key, where it would have been authorised: it must not sign.
    pub excluded: Vec<KeyId>,
}

impl Requirement {
    pub fn meetable(&self) -> bool {
        self.eligible.len() as u64 >= u64::from(self.threshold)
    }
}

/// Where the keys allowed to sign a draft come from, for `conclave sign/status/merge`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Context {
    /// A root: `--previous FILE` (a file in the repository).
    Previous(String),
    /// `--delegator FILE`, a file in the repository.
    RepoDelegator(String),
    /// `--delegator FILE`, another draft of this plan.
    DraftDelegator(String),
}

/// A new version to sign.
#[derive(Clone, Debug)]
pub struct Draft {
    pub role: String,
    /// The draft's file name: `V.ROLE.json`.
    pub file: String,
    /// The file in the repository it follows.
    pub previous_file: String,
    pub metadata: AnyMetadata,
    /// Why it is needed, and what changed.
    pub changes: Vec<String>,
    pub requirements: Vec<Requirement>,
    pub context: Context,
}

/// Everything a revocation needs, before anyone signs.
#[derive(Clone, Debug, Default)]
pub struct RevocationPlan {
    /// The keyid being revoked, and other keyids naming the same key (TAP 12).
    pub keyid: Option<KeyId>,
    pub aliases: Vec<KeyId>,
    pub trusts: Vec<Trust>,
    pub drafts: Vec<Draft>,
    /// Files of the repository that stay as they are: every root version up to the current
    /// one and the current version of each role that needs no new version. With the drafts
    /// they make up the repository after the revocation (without snapshot and timestamp,
    /// which the online side issues anew).
    pub carried: Vec<String>,
    /// Roles the key signed whose other signatures still meet the threshold.
    pub still_valid: Vec<String>,
    /// Why the drafts cannot be made as asked. Non-empty: nothing should be written.
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
    /// What the online side must do once the drafts are signed.
    pub online: Vec<String>,
    /// Problems in the repository that the drafts repair (expired metadata).
    pub notes: Vec<String>,
}

impl RevocationPlan {
    /// Whether every draft could be made and every threshold can be met without the key.
    pub fn is_feasible(&self) -> bool {
        self.blockers.is_empty()
    }

    /// Whether `id` names the revoked key.
    pub fn is_revoked(&self, id: &KeyId) -> bool {
        self.keyid.as_ref() == Some(id) || self.aliases.contains(id)
    }

    pub fn to_json(&self) -> Value {
        let ids = |v: &[KeyId]| Value::Array(v.iter().map(|k| Value::from(k.as_str())).collect());
        let strs = |v: &[String]| Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect());
        let trusts = self
            .trusts
            .iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("role".into(), t.role.as_str().into());
                m.insert("delegator".into(), t.delegator.as_str().into());
                m.insert("file".into(), t.file.as_str().into());
                m.insert("position".into(), Value::Int(t.position as i64));
                m.insert("keys_before".into(), Value::Int(t.keys_before as i64));
                m.insert("keys_after".into(), Value::Int(t.keys_after as i64));
                m.insert(
                    "threshold_before".into(),
                    Value::Int(i64::from(t.threshold_before)),
                );
                m.insert(
                    "threshold_after".into(),
                    Value::Int(i64::from(t.threshold_after)),
                );
                m.insert("meetable".into(), Value::Bool(t.meetable()));
                m.insert("project".into(), Value::Bool(t.project));
                m.insert(
                    "signed_current".into(),
                    t.signed_current.map_or(Value::Null, Value::Bool),
                );
                m.insert(
                    "remedy".into(),
                    t.remedy.as_deref().map_or(Value::Null, Value::from),
                );
                Value::Object(m)
            })
            .collect();
        let drafts = self
            .drafts
            .iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("role".into(), d.role.as_str().into());
                m.insert("file".into(), d.file.as_str().into());
                m.insert("previous_file".into(), d.previous_file.as_str().into());
                m.insert(
                    "version".into(),
                    Value::Int(d.metadata.common().version.as_json()),
                );
                m.insert(
                    "expires".into(),
                    d.metadata.common().expires.to_string().into(),
                );
                m.insert("changes".into(), strs(&d.changes));
                let (kind, file) = match &d.context {
                    Context::Previous(f) => ("previous", f),
                    Context::RepoDelegator(f) => ("delegator", f),
                    Context::DraftDelegator(f) => ("delegator_draft", f),
                };
                let mut c = Map::new();
                c.insert("kind".into(), kind.into());
                c.insert("file".into(), file.as_str().into());
                m.insert("context".into(), Value::Object(c));
                m.insert(
                    "requirements".into(),
                    Value::Array(
                        d.requirements
                            .iter()
                            .map(|r| {
                                let mut q = Map::new();
                                q.insert("label".into(), r.label.as_str().into());
                                q.insert("threshold".into(), Value::Int(i64::from(r.threshold)));
                                q.insert("eligible".into(), ids(&r.eligible));
                                q.insert("excluded".into(), ids(&r.excluded));
                                q.insert("meetable".into(), Value::Bool(r.meetable()));
                                Value::Object(q)
                            })
                            .collect(),
                    ),
                );
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert(
            "keyid".into(),
            self.keyid
                .as_ref()
                .map_or(Value::Null, |k| k.as_str().into()),
        );
        m.insert("aliases".into(), ids(&self.aliases));
        m.insert("feasible".into(), Value::Bool(self.is_feasible()));
        m.insert("trusted_by".into(), Value::Array(trusts));
        m.insert("drafts".into(), Value::Array(drafts));
        m.insert("carried".into(), strs(&self.carried));
        m.insert("still_valid".into(), strs(&self.still_valid));
        m.insert("blockers".into(), strs(&self.blockers));
        m.insert("warnings".into(), strs(&self.warnings));
        m.insert("online".into(), strs(&self.online));
        m.insert("notes".into(), strs(&self.notes));
        Value::Object(m)
    }
}

/// The metadata in use for one role.
struct InUse {
    file: String,
    md: AnyMetadata,
}

fn parse_keyid(given: &str) -> Result<String, RevokeError> {
    let s = given.trim().to_ascii_lowercase();
    if s.len() < 8 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RevokeError::BadKeyId(escape(given).into_owned()));
    }
    Ok(s)
}

/// The default lifetime of a fresh version, by role.
fn default_expiry(role: &str, now: Expires) -> Expires {
    let days = if matches!(role, "root" | "targets") {
        365
    } else {
        90
    };
    Expires::from_unix(now.unix() + days * 86_400).unwrap_or(now)
}

/// The files a client would use, one per role, from a verification report.
fn in_use(files: &[InputFile], report: &verify::Report) -> BTreeMap<String, InUse> {
    let mut out: BTreeMap<String, (u64, bool, InUse)> = BTreeMap::new();
    for fr in &report.files {
        if fr.status == FileStatus::Superseded {
            continue;
        }
        if fr.role == "root" && fr.version != report.final_root {
            continue;
        }
        let Some(f) = files.iter().find(|f| f.name == fr.file) else {
            continue;
        };
        let Ok(md) = AnyMetadata::from_bytes(&f.bytes) else {
            continue;
        };
        let version = md.common().version.get();
        let versioned = verify::classify(&f.name).is_some_and(|(_, v)| v.is_some());
        let better = match out.get(&fr.role) {
            None => true,
            Some((v, ver, _)) => (version, versioned) > (*v, *ver),
        };
        if better {
            out.insert(
                fr.role.clone(),
                (
                    version,
                    versioned,
                    InUse {
                        file: f.name.clone(),
                        md,
                    },
                ),
            );
        }
    }
    out.into_iter().map(|(k, (_, _, u))| (k, u)).collect()
}

/// Every key named anywhere in the metadata in use.
fn all_keys(used: &BTreeMap<String, InUse>) -> BTreeMap<KeyId, Key> {
    let mut out = BTreeMap::new();
    for u in used.values() {
        match &u.md {
            AnyMetadata::Root(r) => out.extend(r.signed.keys.clone()),
            AnyMetadata::Targets(t) => {
                if let Some(d) = &t.signed.delegations {
                    out.extend(d.keys.clone());
                }
            }
            _ => {}
        }
    }
    out
}

fn signed_by(md: &AnyMetadata, ids: &[KeyId]) -> bool {
    md.signatures().iter().any(|s| ids.contains(&s.keyid))
}

/// PEP 480's roles that delegate projects to developer keys.
fn delegates_projects(role: &str, d: &Delegations) -> bool {
    matches!(role, "claimed" | "recently-claimed") && matches!(d.roles, DelegationRoles::List(_))
}

/// Rotate one listed delegation inside `d` through [`crate::pypi::rotate_delegation`], on a
/// metadata holding only that delegation (so a delegator with 16,384 classic bins is not
/// copied once per bin).
fn rotate_listed(
    d: &mut Delegations,
    common: &crate::metadata::Common,
    i: usize,
    name: &str,
    add: &[Key],
    remove: &[KeyId],
    threshold: Option<u32>,
) -> Result<Vec<String>, String> {
    let DelegationRoles::List(roles) = &mut d.roles else {
        return Err("not a listed delegation".into());
    };
    // The caller found the role at `i`; look it up by name only if that is stale.
    let i = match roles.get(i) {
        Some(r) if r.name.as_str() == name => i,
        _ => roles
            .iter()
            .position(|r| r.name.as_str() == name)
            .ok_or_else(|| format!("no delegation to role \"{}\"", escape(name)))?,
    };
    let keys = roles[i]
        .keyids
        .iter()
        .filter_map(|id| d.keys.get(id).map(|k| (id.clone(), k.clone())))
        .collect();
    let one = Targets {
        common: common.clone(),
        targets: BTreeMap::new(),
        delegations: Some(Delegations {
            keys,
            roles: DelegationRoles::List(vec![roles[i].clone()]),
            extra: Map::new(),
        }),
        extra: Map::new(),
    };
    let (next, review) = crate::pypi::rotate_delegation(&one, name, add, remove, threshold, None)?;
    let nd = next.delegations.expect("rotation keeps the delegations");
    if let DelegationRoles::List(mut r) = nd.roles
        && let Some(role) = r.pop()
    {
        roles[i] = role;
    }
    for (id, k) in nd.keys {
        d.keys.entry(id).or_insert(k);
    }
    Ok(review)
}

/// Work out the revocation of `keyid` (the full keyid or a unique prefix of at least 8 hex
/// digits) from the repository `files`.
pub fn plan(
    files: &[InputFile],
    keyid: &str,
    opts: &RevokeOptions,
) -> Result<RevocationPlan, RevokeError> {
    let prefix = parse_keyid(keyid)?;
    let report = verify::verify_repository(files, None, opts.now);
    let mut plan = RevocationPlan::default();
    let mut hard = Vec::new();
    for p in &report.problems {
        if p.rule == "expired" {
            plan.notes.push(format!(
                "{}: {} (new versions drafted here get a fresh expiry; others must be renewed \
                 as usual)",
                escape(&p.file),
                escape(&p.message)
            ));
        } else {
            hard.push(p.clone());
        }
    }
    if !hard.is_empty() {
        return Err(RevokeError::Unverified(hard));
    }
    let used = in_use(files, &report);
    let Some(root_use) = used.get("root") else {
        return Err(RevokeError::Invalid(
            "no root metadata (N.root.json) in the repository".into(),
        ));
    };
    let AnyMetadata::Root(root) = &root_use.md else {
        return Err(RevokeError::Invalid("the root file is not a root".into()));
    };

    // Which key: match the prefix, then every keyid naming the same key.
    let keys = all_keys(&used);
    let matches: Vec<&KeyId> = keys
        .keys()
        .filter(|id| id.as_str().starts_with(&prefix))
        .collect();
    let first = match matches.as_slice() {
        [] => return Err(RevokeError::UnknownKey(prefix)),
        [one] => (*one).clone(),
        many => {
            let identity = keys[many[0]].identity().ok();
            if identity.is_none() || many.iter().any(|id| keys[*id].identity().ok() != identity) {
                return Err(RevokeError::AmbiguousKeyId(
                    prefix,
                    many.iter()
                        .map(|k| k.short())
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
            many[0].clone()
        }
    };
    let identity = keys[&first].identity().ok();
    let revoked: Vec<KeyId> = keys
        .iter()
        .filter(|(id, k)| **id == first || (identity.is_some() && k.identity().ok() == identity))
        .map(|(id, _)| id.clone())
        .collect();
    plan.aliases = revoked.iter().filter(|k| **k != first).cloned().collect();
    plan.keyid = Some(first.clone());
    for (role, k) in &opts.add {
        if revoked.contains(&k.keyid()) {
            return Err(RevokeError::Invalid(format!(
                "--add-key {}: that is the key being revoked",
                escape(role)
            )));
        }
    }
    let expiry = |role: &str| opts.expires.unwrap_or(default_expiry(role, opts.now));
    let adds_for = |role: &str| -> Vec<Key> {
        opts.add
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, k)| k.clone())
            .collect()
    };
    let mut option_roles_used: BTreeSet<String> = BTreeSet::new();

    // 1. The root (spec 5.3): the four top-level roles.
    let root_v = root.signed.common.version.get();
    let mut root_trusts = Vec::new();
    for role in TOP_LEVEL_ROLES {
        let rk = root.signed.role(role).expect("parsed roots have all four");
        let Some(pos) = rk.keyids.iter().position(|k| revoked.contains(k)) else {
            continue;
        };
        let removed = rk.keyids.iter().filter(|k| revoked.contains(k)).count();
        let added = adds_for(role).len();
        let threshold_after = opts
            .thresholds
            .get(role)
            .copied()
            .unwrap_or(rk.threshold.get());
        option_roles_used.insert(role.to_owned());
        let current = used.get(role).map(|u| signed_by(&u.md, &revoked));
        let mut t = Trust {
            role: role.to_owned(),
            delegator: "root".into(),
            file: root_use.file.clone(),
            position: pos + 1,
            keys_before: rk.keyids.len(),
            keys_after: rk.keyids.len() - removed + added,
            threshold_before: rk.threshold.get(),
            threshold_after,
            project: false,
            signed_current: current,
            remedy: None,
        };
        if !t.meetable() {
            let msg = format!(
                "without the key, the {role} role would have {} key(s) for a threshold of {}: \
                 it could never be met. The root key holders must decide, in this same new \
                 root: add a new {role} key (`--add-key {role}=PUBFILE`, generated beforehand by \
                 its new holder) or lower the threshold (`--threshold {role}=N`)",
                t.keys_after, t.threshold_after
            );
            t.remedy = Some(msg.clone());
            plan.blockers.push(msg);
        } else if t.keys_after as u32 == t.threshold_after && t.keys_after > 0 {
            plan.warnings.push(format!(
                "the {role} role will need all {} of its remaining key(s): one more lost key \
                 locks it; add a key when you can",
                t.keys_after
            ));
        }
        root_trusts.push(t);
    }
    let mut new_root: Option<Metadata<Root>> = None;
    if !root_trusts.is_empty() && root_trusts.iter().all(Trust::meetable) {
        let add: Vec<(String, Key)> = opts
            .add
            .iter()
            .filter(|(r, _)| TOP_LEVEL_ROLES.contains(&r.as_str()))
            .cloned()
            .collect();
        let mut remove = Vec::new();
        for role in TOP_LEVEL_ROLES {
            let rk = root.signed.role(role).expect("present");
            for id in rk.keyids.iter().filter(|k| revoked.contains(k)) {
                remove.push((role.to_owned(), id.clone()));
            }
        }
        let thresholds: BTreeMap<String, u32> = opts
            .thresholds
            .iter()
            .filter(|(r, _)| TOP_LEVEL_ROLES.contains(&r.as_str()))
            .map(|(r, t)| (r.clone(), *t))
            .collect();
        match super::root::rotate(
            &root.signed,
            &add,
            &remove,
            &thresholds,
            Some(expiry("root")),
        ) {
            Ok(next) => new_root = Some(Metadata::new(next)),
            Err(e) => plan.blockers.push(format!("the new root: {e}")),
        }
    }
    plan.trusts.extend(root_trusts.iter().cloned());
    if let Some(next) = &new_root {
        let old = root.signed.role("root").expect("present");
        let new = next.signed.role("root").expect("present");
        let next_any = AnyMetadata::Root(next.clone());
        let mut changes = vec![format!(
            "the revoked key is removed from the root's {} role(s)",
            root_trusts
                .iter()
                .map(|t| t.role.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )];
        changes.extend(super::review::changes(&root_use.md, &next_any));
        let previous = Requirement {
            label: format!("root v{root_v} (the current root's root keys; spec 5.3.4)"),
            threshold: old.threshold.get(),
            eligible: old
                .keyids
                .iter()
                .filter(|k| !revoked.contains(k))
                .cloned()
                .collect(),
            excluded: old
                .keyids
                .iter()
                .filter(|k| revoked.contains(k))
                .cloned()
                .collect(),
        };
        if !previous.meetable() {
            plan.warnings.push(format!(
                "root v{root_v} needs {} signature(s) from its own root keys on the new root, \
                 and only {} remain besides the revoked key. The revoked key's signature still \
                 counts for v{root_v} (spec 5.3.4), so if its holder still has it (it was \
                 copied, not lost) they sign with it as well; if it is lost, the chain cannot \
                 move on and clients must be given a new root out of band (PEP 458)",
                previous.threshold,
                previous.eligible.len()
            ));
        }
        let own = Requirement {
            label: format!("root v{} (its own root keys)", root_v + 1),
            threshold: new.threshold.get(),
            eligible: new.keyids.clone(),
            excluded: Vec::new(),
        };
        plan.drafts.push(Draft {
            role: "root".into(),
            file: format!("{}.root.json", root_v + 1),
            previous_file: root_use.file.clone(),
            metadata: next_any,
            changes,
            requirements: vec![previous, own],
            context: Context::Previous(root_use.file.clone()),
        });
    }
    let root_now: AnyMetadata = AnyMetadata::Root(new_root.clone().unwrap_or_else(|| root.clone()));
    let root_file_ctx = if new_root.is_some() {
        Context::DraftDelegator(format!("{}.root.json", root_v + 1))
    } else {
        Context::RepoDelegator(root_use.file.clone())
    };

    // Every root up to the current one stays: clients walk the chain one version at a time.
    for f in files {
        if let Some((r, v)) = verify::classify(&f.name)
            && r == "root"
            && (f.name == root_use.file || v.is_some_and(|v| v <= root_v))
        {
            plan.carried.push(f.name.clone());
        }
    }

    // 2. targets and every delegated role below it, parents before children (spec 5.6.7).
    // Each entry: (role, its delegator's metadata after the revocation, where that comes from,
    // the delegator's metadata before it).
    let mut stack: Vec<(String, AnyMetadata, Context, AnyMetadata)> = Vec::new();
    if used.contains_key("targets") {
        stack.push((
            "targets".into(),
            root_now.clone(),
            root_file_ctx,
            root_use.md.clone(),
        ));
    }
    let mut visited = BTreeSet::new();
    let mut removed_projects = Vec::new();
    let mut online_roles_with_key = Vec::new();
    while let Some((role, delegator_now, delegator_ctx, delegator_before)) = stack.pop() {
        if !visited.insert(role.clone()) {
            continue;
        }
        let Some(u) = used.get(&role) else { continue };
        let AnyMetadata::Targets(current) = &u.md else {
            continue;
        };
        let version = current.signed.common.version.get();
        let mut next: Option<Targets> = None;
        let mut changes = Vec::new();
        let mut project_mode = false;

        if let Some(d) = &current.signed.delegations {
            // (role name, its keyids, threshold, succinct?, index in the list)
            let listing: Vec<(String, Vec<KeyId>, u32, bool, usize)> = match &d.roles {
                DelegationRoles::List(roles) => roles
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.keyids.iter().any(|k| revoked.contains(k)))
                    .map(|(i, r)| {
                        (
                            r.name.to_string(),
                            r.keyids.clone(),
                            r.threshold.get(),
                            false,
                            i,
                        )
                    })
                    .collect(),
                DelegationRoles::Succinct(s) if s.keyids.iter().any(|k| revoked.contains(k)) => {
                    vec![(
                        s.name_prefix.clone(),
                        s.keyids.clone(),
                        s.threshold.get(),
                        true,
                        0,
                    )]
                }
                DelegationRoles::Succinct(_) => Vec::new(),
            };
            let projects = delegates_projects(&role, d);
            project_mode = projects && !listing.is_empty();
            let mut draft = current.signed.clone();
            let mut all_meetable = true;
            for (name, ids, threshold, succinct, _) in &listing {
                let pos = ids.iter().position(|k| revoked.contains(k)).unwrap_or(0);
                let removed = ids.iter().filter(|k| revoked.contains(k)).count();
                let (added, threshold_after) = if projects {
                    (0, *threshold)
                } else {
                    option_roles_used.insert(name.clone());
                    (
                        adds_for(name).len(),
                        opts.thresholds.get(name).copied().unwrap_or(*threshold),
                    )
                };
                let mut t = Trust {
                    role: name.clone(),
                    delegator: role.clone(),
                    file: u.file.clone(),
                    position: pos + 1,
                    keys_before: ids.len(),
                    keys_after: ids.len() - removed + added,
                    threshold_before: *threshold,
                    threshold_after,
                    project: projects,
                    signed_current: used.get(name).map(|c| signed_by(&c.md, &revoked)),
                    remedy: None,
                };
                if !t.meetable() {
                    if projects {
                        t.remedy = Some(format!(
                            "project {} is taken out of {role}: it has too few keys left for its \
                             threshold. Its files fall back to the roles after {role} until its \
                             developers register new keys and it is claimed again (`conclave \
                             pypi claim`)",
                            escape(name)
                        ));
                        removed_projects.push((name.clone(), role.clone()));
                    } else {
                        all_meetable = false;
                        let msg = format!(
                            "without the key, role {} (delegated by {role}) would have {} key(s) \
                             for a threshold of {}: it could never be met. The holders of \
                             {role}'s signing keys must decide, in {role}'s next version: add a \
                             new key (`--add-key {}=PUBFILE`, generated beforehand by its new \
                             holder) or lower the threshold (`--threshold {}=N`)",
                            escape(name),
                            t.keys_after,
                            t.threshold_after,
                            escape(name),
                            escape(name)
                        );
                        t.remedy = Some(msg.clone());
                        plan.blockers.push(msg);
                    }
                } else if !projects && t.keys_after as u32 == t.threshold_after && t.keys_after > 0
                {
                    plan.warnings.push(format!(
                        "role {} will need all {} of its remaining key(s): one more lost key \
                         locks it; add a key when you can",
                        escape(name),
                        t.keys_after
                    ));
                }
                if matches!(name.as_str(), "recently-claimed" | "unclaimed") || *succinct {
                    online_roles_with_key.push(name.clone());
                }
                plan.trusts.push(t);
            }
            if !listing.is_empty() && all_meetable {
                if projects {
                    for id in revoked.iter() {
                        match crate::pypi::revoke_developer_key(&draft, id, None) {
                            Ok((n, review)) => {
                                draft = n;
                                changes.extend(review.lines(20));
                            }
                            Err(_) => continue, // this alias is not listed here
                        }
                    }
                } else {
                    for (name, ids, _, succinct, index) in &listing {
                        let listed: Vec<KeyId> = ids
                            .iter()
                            .filter(|k| revoked.contains(k))
                            .cloned()
                            .collect();
                        let result = if *succinct {
                            crate::pypi::rotate_delegation(
                                &draft,
                                name,
                                &adds_for(name),
                                &listed,
                                opts.thresholds.get(name).copied(),
                                None,
                            )
                            .map(|(n, review)| {
                                draft = n;
                                review
                            })
                            .map_err(String::from)
                        } else {
                            let common = draft.common.clone();
                            let dd = draft.delegations.as_mut().expect("has delegations");
                            rotate_listed(
                                dd,
                                &common,
                                *index,
                                name,
                                &adds_for(name),
                                &listed,
                                opts.thresholds.get(name).copied(),
                            )
                        };
                        match result {
                            Ok(_) => changes.push(format!(
                                "the revoked key is removed from the keys of role {}",
                                escape(name)
                            )),
                            Err(e) => {
                                plan.blockers.push(format!("{}: {e}", escape(&role)));
                            }
                        }
                    }
                    if let Some(dd) = draft.delegations.as_mut() {
                        crate::pypi::garbage_collect_keys(dd);
                    }
                }
                draft.common.version = current
                    .signed
                    .common
                    .version
                    .next()
                    .map_err(|e| RevokeError::Invalid(e.to_string()))?;
                draft.common.expires = expiry(&role);
                next = Some(draft);
            }
        }

        // Does the role's current version still carry enough signatures once the key no
        // longer counts? If not, it is re-issued for signing even if nothing in it changed.
        let auths = super::authorities(&u.md, &role, None, Some(&delegator_now))
            .map_err(|e| RevokeError::Invalid(e.to_string()))?;
        let still_met = super::status(&u.md, &role, &auths)
            .iter()
            .all(crate::verify::SignatureReport::is_met);
        if next.is_none() && !still_met {
            let mut t = current.signed.clone();
            t.common.version = t
                .common
                .version
                .next()
                .map_err(|e| RevokeError::Invalid(e.to_string()))?;
            t.common.expires = expiry(&role);
            changes.push(format!(
                "re-issued unchanged: the signatures on version {version} no longer meet the \
                 threshold once the revoked key does not count"
            ));
            next = Some(t);
        } else if next.is_none() && signed_by(&u.md, &revoked) {
            plan.still_valid.push(format!(
                "{} ({}): signed by the revoked key, but its other signatures still meet the \
                 threshold; no new version is needed",
                escape(&role),
                escape(&u.file)
            ));
        }

        let before_auth = super::authorities(&u.md, &role, None, Some(&delegator_before))
            .ok()
            .and_then(|a| a.into_iter().next());
        let excluded: Vec<KeyId> = before_auth
            .map(|a| {
                a.keyids
                    .into_iter()
                    .filter(|k| revoked.contains(k))
                    .collect()
            })
            .unwrap_or_default();
        let after_md: AnyMetadata;
        let ctx_for_children: Context;
        if let Some(n) = next {
            let file = format!("{}.{role}.json", n.common.version);
            let md = AnyMetadata::Targets(Metadata::new(n));
            if changes.is_empty() {
                changes.push("no changes".into());
            }
            // For claimed, the project review above says it better than one line per role.
            changes.extend(
                super::review::changes(&u.md, &md).into_iter().filter(|l| {
                    !project_mode || l.starts_with("version") || l.starts_with("expires")
                }),
            );
            let requirements = auths
                .iter()
                .map(|a| Requirement {
                    label: delegator_label(&role, &delegator_ctx, &delegator_now),
                    threshold: a.threshold.get(),
                    eligible: a
                        .keyids
                        .iter()
                        .filter(|k| !revoked.contains(k))
                        .cloned()
                        .collect(),
                    excluded: excluded.clone(),
                })
                .collect::<Vec<_>>();
            for r in &requirements {
                if !r.meetable() {
                    plan.blockers.push(format!(
                        "{file} needs {} signature(s) from {} but only {} key(s) may sign it",
                        r.threshold,
                        r.label,
                        r.eligible.len()
                    ));
                }
            }
            plan.drafts.push(Draft {
                role: role.clone(),
                file: file.clone(),
                previous_file: u.file.clone(),
                metadata: md.clone(),
                changes,
                requirements,
                context: delegator_ctx.clone(),
            });
            after_md = md;
            ctx_for_children = Context::DraftDelegator(file);
        } else {
            after_md = u.md.clone();
            ctx_for_children = Context::RepoDelegator(u.file.clone());
            plan.carried.push(u.file.clone());
        }

        // Children, pushed in reverse so they are visited in delegation order.
        if let Some(d) = &current.signed.delegations {
            let mut children: Vec<String> = match &d.roles {
                DelegationRoles::List(roles) => roles
                    .iter()
                    .map(|r| r.name.to_string())
                    .filter(|n| used.contains_key(n))
                    .collect(),
                DelegationRoles::Succinct(s) => used
                    .keys()
                    .filter(|n| s.index_of(n).is_some())
                    .cloned()
                    .collect(),
            };
            // A project taken out of claimed has no delegator any more.
            children.retain(|c| !removed_projects.iter().any(|(p, by)| p == c && *by == role));
            for c in children.into_iter().rev() {
                stack.push((c, after_md.clone(), ctx_for_children.clone(), u.md.clone()));
            }
        }
    }

    // Options must name roles that trust the key: anything else is another kind of change.
    for role in opts
        .add
        .iter()
        .map(|(r, _)| r)
        .chain(opts.thresholds.keys())
    {
        if !option_roles_used.contains(role) {
            return Err(RevokeError::Invalid(format!(
                "role {} does not trust the key being revoked, so --add-key and --threshold \
                 cannot name it here (use `conclave root rotate` or `conclave delegation \
                 rotate` for other changes)",
                escape(role)
            )));
        }
    }
    if plan.trusts.is_empty() {
        return Err(RevokeError::UnknownKey(prefix));
    }

    // 3. The online side.
    let ts_snap: Vec<&str> = root_trusts
        .iter()
        .map(|t| t.role.as_str())
        .filter(|r| matches!(*r, "timestamp" | "snapshot"))
        .collect();
    if !ts_snap.is_empty() {
        plan.online.push(format!(
            "the key is a {} key, held by the online service: stop using it at once, and sign \
             {} with the replacement key(s) in the new root from the moment it is published",
            ts_snap.join(" and "),
            ts_snap.join(" and ")
        ));
        plan.online.push(
            "because the timestamp/snapshot keys change, clients delete their trusted timestamp \
             and snapshot when they load the new root (spec 5.3.11). This is how clients \
             recover from a fast-forward attack: if an attacker pushed the timestamp or \
             snapshot version numbers up with the stolen key, the online side may start them \
             again from a normal number"
                .into(),
        );
    }
    if !online_roles_with_key.is_empty() {
        online_roles_with_key.sort();
        online_roles_with_key.dedup();
        plan.online.push(format!(
            "the key signs for {} (online roles in PEP 458/480): the online service must stop \
             using it at once and sign with the replacement key(s) once the drafts are \
             published",
            online_roles_with_key.join(", ")
        ));
    }
    for (p, by) in &removed_projects {
        plan.online.push(format!(
            "project {} is no longer delegated by {by}: remove its metadata from the \
             repository's current snapshot (or re-claim it with new developer keys)",
            escape(p)
        ));
    }
    if !plan.drafts.is_empty() {
        let roots: Vec<&str> = plan
            .drafts
            .iter()
            .filter(|d| d.role == "root")
            .map(|d| d.file.as_str())
            .collect();
        if !roots.is_empty() {
            plan.online.push(format!(
                "publish {} beside every earlier N.root.json (never delete old roots: clients \
                 walk the chain one version at a time)",
                roots.join(", ")
            ));
        }
        let others: Vec<String> = plan
            .drafts
            .iter()
            .filter(|d| d.role != "root")
            .map(|d| format!("{} version {}", d.role, d.metadata.common().version))
            .collect();
        if others.is_empty() {
            plan.online.push(
                "issue a new snapshot and timestamp signed with the keys of the new root".into(),
            );
        } else {
            plan.online.push(format!(
                "publish the signed {} and issue a new snapshot that lists {}, then a new \
                 timestamp for that snapshot; until then clients keep using the old versions",
                plan.drafts
                    .iter()
                    .filter(|d| d.role != "root")
                    .map(|d| d.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                others.join(", ")
            ));
        }
    }
    Ok(plan)
}

fn delegator_label(role: &str, ctx: &Context, delegator: &AnyMetadata) -> String {
    let v = delegator.common().version;
    let file = match ctx {
        Context::Previous(f) | Context::RepoDelegator(f) | Context::DraftDelegator(f) => f,
    };
    match delegator {
        AnyMetadata::Root(_) => format!("the {role} keys of root v{v} ({})", escape(file)),
        _ => format!(
            "the keys {} v{v} delegates {} to ({})",
            escape(&crate::ceremony::role_name(delegator, Some(file))),
            escape(role),
            escape(file)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{
        Common, DelegatedRole, RoleKeys, RoleName, RolePaths, SPEC_VERSION, SpecVersion, Threshold,
        Version,
    };
    use crate::signer::{Ed25519Signer, Signer};

    const FAR: &str = "2100-01-01T00:00:00Z";

    fn s(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    fn common(v: u64) -> Common {
        Common {
            spec_version: SpecVersion::new(SPEC_VERSION).unwrap(),
            version: Version::new(v).unwrap(),
            expires: Expires::parse(FAR).unwrap(),
        }
    }

    fn file<T: crate::metadata::Role>(name: &str, t: T, signers: &[&Ed25519Signer]) -> InputFile {
        let mut md = Metadata::new(t);
        for s in signers {
            md.sign(*s).unwrap();
        }
        InputFile {
            name: name.into(),
            bytes: md.to_file_bytes(),
        }
    }

    fn delegated(name: &str, keys: &[&Ed25519Signer], t: u32, terminating: bool) -> DelegatedRole {
        DelegatedRole {
            name: RoleName::delegated(name).unwrap(),
            keyids: keys.iter().map(|k| k.public_key().keyid()).collect(),
            threshold: Threshold::new(t).unwrap(),
            terminating: Some(terminating),
            paths: RolePaths::Patterns(vec![format!("{name}/*").into()]),
            extra: Map::new(),
        }
    }

    fn delegations(roles: Vec<DelegatedRole>, keys: &[&Ed25519Signer]) -> Delegations {
        Delegations {
            keys: keys
                .iter()
                .map(|k| (k.public_key().keyid(), k.public_key().clone()))
                .collect(),
            roles: DelegationRoles::List(roles),
            extra: Map::new(),
        }
    }

    /// Officers 1..3 hold root (2 of 3) and claimed (2 of 3); 4 is targets; 5 and 6 are
    /// timestamp and snapshot; 7 is project alpha's developer, 8 and 9 project beta's (1 of 2).
    fn repo() -> Vec<InputFile> {
        let (a, b, c, t, ts, sn, d1, d2, d3) =
            (s(1), s(2), s(3), s(4), s(5), s(6), s(7), s(8), s(9));
        let ids = |v: &[&Ed25519Signer]| v.iter().map(|k| k.public_key().keyid()).collect();
        let mut keys = BTreeMap::new();
        for k in [&a, &b, &c, &t, &ts, &sn] {
            keys.insert(k.public_key().keyid(), k.public_key().clone());
        }
        let th = |n| Threshold::new(n).unwrap();
        let root = Root {
            common: common(1),
            consistent_snapshot: Some(true),
            keys,
            roles: BTreeMap::from([
                ("root".into(), RoleKeys::new(ids(&[&a, &b, &c]), th(2))),
                ("targets".into(), RoleKeys::new(ids(&[&t]), th(1))),
                ("timestamp".into(), RoleKeys::new(ids(&[&ts]), th(1))),
                ("snapshot".into(), RoleKeys::new(ids(&[&sn]), th(1))),
            ]),
            extra: Map::new(),
        };
        let targets = Targets {
            common: common(1),
            targets: BTreeMap::new(),
            delegations: Some(delegations(
                vec![delegated("claimed", &[&a, &b, &c], 2, false)],
                &[&a, &b, &c],
            )),
            extra: Map::new(),
        };
        let claimed = Targets {
            common: common(1),
            targets: BTreeMap::new(),
            delegations: Some(delegations(
                vec![
                    delegated("alpha", &[&d1], 1, true),
                    delegated("beta", &[&d2, &d3], 1, true),
                ],
                &[&d1, &d2, &d3],
            )),
            extra: Map::new(),
        };
        let empty = || Targets {
            common: common(1),
            targets: BTreeMap::new(),
            delegations: None,
            extra: Map::new(),
        };
        vec![
            file("1.root.json", root, &[&a, &b, &c]),
            file("1.targets.json", targets, &[&t]),
            file("1.claimed.json", claimed, &[&a, &b]),
            file("1.alpha.json", empty(), &[&d1]),
            file("1.beta.json", empty(), &[&d2]),
        ]
    }

    fn opts() -> RevokeOptions {
        RevokeOptions {
            expires: None,
            now: Expires::parse("2030-01-01T00:00:00Z").unwrap(),
            add: Vec::new(),
            thresholds: BTreeMap::new(),
        }
    }

    fn id(n: u8) -> String {
        s(n).public_key().keyid().to_string()
    }

    #[test]
    fn officer_in_root_and_claimed() {
        let p = plan(&repo(), &id(1), &opts()).unwrap();
        assert!(p.is_feasible(), "{:?}", p.blockers);
        let roles: Vec<(&str, &str)> = p
            .trusts
            .iter()
            .map(|t| (t.role.as_str(), t.delegator.as_str()))
            .collect();
        assert_eq!(roles, vec![("root", "root"), ("claimed", "targets")]);
        let files: Vec<&str> = p.drafts.iter().map(|d| d.file.as_str()).collect();
        // claimed v1 was signed by officers 1 and 2: with 1 revoked it falls below 2 of 3.
        assert_eq!(
            files,
            vec!["2.root.json", "2.targets.json", "2.claimed.json"]
        );
        let root = &p.drafts[0];
        assert_eq!(root.requirements.len(), 2);
        for r in &root.requirements {
            assert!(!r.eligible.iter().any(|k| k.as_str() == id(1)));
        }
        assert_eq!(root.requirements[0].excluded.len(), 1);
        assert_eq!(root.context, Context::Previous("1.root.json".into()));
        assert_eq!(
            p.drafts[2].context,
            Context::DraftDelegator("2.targets.json".into())
        );
        assert_eq!(p.drafts[2].requirements[0].eligible.len(), 2);
        let AnyMetadata::Root(r) = &root.metadata else {
            panic!()
        };
        assert!(!r.signed.keys.keys().any(|k| k.as_str() == id(1)));
        // Prefixes work; the online side is told to publish a new snapshot.
        let short = plan(&repo(), &id(1)[..12], &opts()).unwrap();
        assert_eq!(short.drafts.len(), 3);
        assert!(p.online.iter().any(|l| l.contains("new snapshot")));
        assert_eq!(
            p.carried,
            vec!["1.root.json", "1.alpha.json", "1.beta.json"]
        );
    }

    #[test]
    fn developer_key_touches_only_claimed() {
        let p = plan(&repo(), &id(7), &opts()).unwrap();
        assert!(p.is_feasible());
        assert_eq!(p.trusts.len(), 1);
        assert!(p.trusts[0].project && !p.trusts[0].meetable());
        let files: Vec<&str> = p.drafts.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files, vec!["2.claimed.json"]);
        assert!(p.online.iter().any(|l| l.contains("project alpha")));
        // alpha is no longer delegated: its file is not carried over.
        assert_eq!(
            p.carried,
            vec!["1.root.json", "1.targets.json", "1.beta.json"]
        );
        // beta keeps its second key: still delegated, but its file was signed by the key.
        let p = plan(&repo(), &id(8), &opts()).unwrap();
        let files: Vec<&str> = p.drafts.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files, vec!["2.claimed.json", "2.beta.json"]);
    }

    #[test]
    fn unmeetable_threshold_blocks_until_a_key_is_added() {
        let p = plan(&repo(), &id(5), &opts()).unwrap();
        assert!(!p.is_feasible());
        assert!(p.blockers[0].contains("--add-key timestamp=PUBFILE"));
        assert!(p.drafts.is_empty());
        let mut o = opts();
        o.add.push(("timestamp".into(), s(10).public_key().clone()));
        let p = plan(&repo(), &id(5), &o).unwrap();
        assert!(p.is_feasible(), "{:?}", p.blockers);
        assert!(p.online.iter().any(|l| l.contains("5.3.11")));
        // A role that does not trust the key cannot be changed here.
        let mut o = opts();
        o.thresholds.insert("targets".into(), 1);
        assert!(matches!(
            plan(&repo(), &id(5), &o),
            Err(RevokeError::Invalid(_))
        ));
    }

    #[test]
    fn bad_and_unknown_keyids() {
        assert!(matches!(
            plan(&repo(), "xyz", &opts()),
            Err(RevokeError::BadKeyId(_))
        ));
        assert!(matches!(
            plan(&repo(), "1234", &opts()),
            Err(RevokeError::BadKeyId(_))
        ));
        let unknown = s(42).public_key().keyid().to_string();
        assert!(matches!(
            plan(&repo(), &unknown, &opts()),
            Err(RevokeError::UnknownKey(_))
        ));
    }
}
