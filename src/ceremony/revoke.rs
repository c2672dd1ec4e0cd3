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
use std::fmt;

use crate::cjson::{Map, Value};
use crate::display::escape;
use crate::metadata::{
    AnyMetadata, DelegationRoles, Delegations, Expires, Key, KeyId, KeyIdLookupError, Metadata,
    Root, TOP_LEVEL_ROLES, Targets, resolve_keyid,
};
use crate::verify::{self, FileStatus, InputFile, Problem};

/// The cause of a failure in a function this module builds on (root rotation, delegation
/// rotation, version numbers, authorities), whatever error type that function uses.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The keyid given is malformed or names several keys ([`crate::metadata::lookup`]).
    #[error(transparent)]
    KeyId(#[from] KeyIdLookupError),
    /// No role in the repository lists a key whose keyid is or starts with the (lowercased)
    /// text given.
    #[error("no role in this repository trusts a key whose keyid starts with {0}")]
    UnknownKey(String),
    /// The repository has problems other than expired metadata; a revocation drafted on top
    /// of metadata clients reject would not repair it.
    #[error(
        "the repository does not verify ({} problem(s)); a revocation must start from metadata \
         that verifies",
        .0.len()
    )]
    Unverified(Vec<Problem>),
    /// The repository has no root metadata in use.
    #[error("no root metadata (N.root.json) in the repository")]
    NoRoot,
    /// The file in use as root holds metadata of another type.
    #[error("the root file is not a root")]
    NotARoot {
        /// The file in use as root.
        file: String,
    },
    /// A key to add for `role` is the key being revoked (or another keyid of it).
    #[error("role {}: the key to add is the key being revoked", escape(.role))]
    AddsRevokedKey {
        /// The role the key was to be added to.
        role: String,
    },
    /// A key to add or a new threshold names a role that does not trust the key: that is
    /// another kind of change (a rotation), not part of this revocation.
    #[error("role {} does not trust the key being revoked, so it cannot be changed here", escape(.role))]
    RoleNotAffected {
        /// The role named in the options.
        role: String,
    },
    /// A role that needs a new version is already at the largest version there is.
    #[error("{}: no next version", escape(.role))]
    Version {
        /// The role to draft.
        role: String,
        /// Why the version has no successor.
        #[source]
        source: Cause,
    },
    /// The keys allowed to sign a role's current metadata cannot be worked out from its
    /// delegator, the role that lists them.
    #[error("{}: cannot tell which keys may sign it", escape(.role))]
    Authorities {
        /// The role whose signers are unknown.
        role: String,
        /// Why they could not be worked out.
        #[source]
        source: Cause,
    },
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
    /// How many keys the role lists now.
    pub keys_before: usize,
    /// How many keys it lists after the revocation (the key and its aliases removed, the
    /// keys to add added).
    pub keys_after: usize,
    /// The role's threshold now.
    pub threshold_before: u32,
    /// Its threshold after the revocation (a new threshold given in the options, or the
    /// same).
    pub threshold_after: u32,
    /// A project delegated by claimed (or recently-claimed) to developer keys.
    pub project: bool,
    /// Whether the role's current file carries a signature by the key (None: no file here).
    pub signed_current: Option<bool>,
    /// What must happen when the remaining keys cannot meet the threshold.
    pub remedy: Option<Remedy>,
}

/// A role whose remaining keys cannot meet its threshold once the key is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooFewKeys {
    /// The role.
    pub role: String,
    /// The role that delegates it; `None` for a top-level role, which the root lists.
    pub delegator: Option<String>,
    /// How many keys it would keep.
    pub keys_after: usize,
    /// Its threshold.
    pub threshold_after: u32,
}

/// How a caller spells the two ways out of [`TooFewKeys`] for a role: adding a key and
/// setting a threshold (the command line passes its flags). `None` in
/// [`TooFewKeys::sentence`] says it in words only.
pub type Spelling<'a> = &'a dyn Fn(&str) -> (String, String);

impl TooFewKeys {
    /// The sentence that tells the officers who must decide what.
    pub fn sentence(&self, how: Option<Spelling<'_>>) -> String {
        let (add, threshold) = match how {
            Some(how) => {
                let (a, t) = how(&self.role);
                (format!("`{a}`, "), format!(" (`{t}`)"))
            }
            None => (String::new(), String::new()),
        };
        match &self.delegator {
            None => format!(
                "without the key, the {role} role would have {} key(s) for a threshold of \
                 {}: it could never be met. The root key holders must decide, in this same \
                 new root: add a new {role} key ({add}generated beforehand by its new holder) \
                 or lower the threshold{threshold}",
                self.keys_after,
                self.threshold_after,
                role = self.role,
            ),
            Some(delegator) => format!(
                "without the key, role {} (delegated by {delegator}) would have {} key(s) \
                 for a threshold of {}: it could never be met. The holders of \
                 {delegator}'s signing keys must decide, in {delegator}'s next version: add a \
                 new key ({add}generated beforehand by its new holder) or lower the \
                 threshold{threshold}",
                escape(&self.role),
                self.keys_after,
                self.threshold_after,
            ),
        }
    }
}

/// What must happen to a role the revoked key leaves short of its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// The delegator's key holders must add a key or lower the threshold (a blocker).
    TooFewKeys(TooFewKeys),
    /// A claimed project is taken out of `role` until it is claimed again.
    ProjectTakenOut {
        /// The project's role name.
        project: String,
        /// The role that delegated it (claimed or recently-claimed).
        role: String,
    },
}

impl Remedy {
    /// The sentence, with `how` as in [`TooFewKeys::sentence`].
    pub fn sentence(&self, how: Option<Spelling<'_>>) -> String {
        match self {
            Remedy::TooFewKeys(t) => t.sentence(how),
            Remedy::ProjectTakenOut { project, role } => format!(
                "project {} is taken out of {role}: it has too few keys left for its \
                 threshold. Its files fall back to the roles after {role} until its \
                 developers register new keys and it is claimed again (`conclave \
                 pypi claim`)",
                escape(project)
            ),
        }
    }
}

/// Why a revocation cannot be drafted as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// A role's remaining keys cannot meet its threshold.
    TooFewKeys(TooFewKeys),
    /// Anything else (a draft that cannot be built, a signature requirement nobody can
    /// meet), one sentence.
    Other(String),
}

impl Blocker {
    /// The sentence, with `how` as in [`TooFewKeys::sentence`].
    pub fn sentence(&self, how: Option<Spelling<'_>>) -> String {
        match self {
            Blocker::TooFewKeys(t) => t.sentence(how),
            Blocker::Other(s) => s.clone(),
        }
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence(None))
    }
}

/// Whether `keys` signers can reach `threshold`.
fn enough(keys: usize, threshold: u32) -> bool {
    keys as u64 >= u64::from(threshold)
}

impl Trust {
    /// Whether the keys left after the revocation can still meet the role's threshold (a
    /// role with no keys at all never can).
    pub fn meetable(&self) -> bool {
        self.keys_after >= 1 && enough(self.keys_after, self.threshold_after)
    }

    /// Meetable, but only with every remaining key: one more lost key locks the role.
    fn no_spare_key(&self) -> bool {
        self.keys_after > 0 && self.keys_after as u64 == u64::from(self.threshold_after)
    }
}

/// One set of keys that must reach its threshold on a draft.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// e.g. "root v3 (the current root's root keys)".
    pub label: String,
    /// How many distinct eligible keys must sign.
    pub threshold: u32,
    /// The keys that may sign and count.
    pub eligible: Vec<KeyId>,
    /// The revoked key, where it would have been authorised: it must not sign.
    pub excluded: Vec<KeyId>,
}

impl Requirement {
    /// Whether the eligible keys alone can reach the threshold.
    pub fn meetable(&self) -> bool {
        enough(self.eligible.len(), self.threshold)
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
    /// The role the draft is a new version of.
    pub role: String,
    /// The draft's file name: `V.ROLE.json`.
    pub file: String,
    /// The file in the repository it follows.
    pub previous_file: String,
    /// The unsigned new version.
    pub metadata: AnyMetadata,
    /// Why it is needed, and what changed.
    pub changes: Vec<String>,
    /// The thresholds the draft's signatures must meet; a root draft has two, the previous
    /// root's and its own (TUF spec §5.3.4).
    pub requirements: Vec<Requirement>,
    /// Where `conclave sign/status/merge` find the keys allowed to sign it.
    pub context: Context,
}

/// Everything a revocation needs, before anyone signs.
#[derive(Clone, Debug, Default)]
pub struct RevocationPlan {
    /// The keyid being revoked, and other keyids naming the same key (TAP 12).
    pub keyid: Option<KeyId>,
    /// Other keyids of the same key: removed too, or they would keep counting.
    pub aliases: Vec<KeyId>,
    /// Every role that trusts the key.
    pub trusts: Vec<Trust>,
    /// The new versions to sign, unsigned.
    pub drafts: Vec<Draft>,
    /// Files of the repository that stay as they are: every root version up to the current
    /// one and the current version of each role that needs no new version. With the drafts
    /// they make up the repository after the revocation (without snapshot and timestamp,
    /// which the online side issues anew).
    pub carried: Vec<String>,
    /// Roles the key signed whose other signatures still meet the threshold.
    pub still_valid: Vec<String>,
    /// Why the drafts cannot be made as asked. Non-empty: nothing should be written.
    pub blockers: Vec<Blocker>,
    /// Risks the officers should know about that do not stop the plan (a threshold left
    /// with no spare key, for one), one sentence each.
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

    /// The plan as JSON, for `conclave revoke --json`; `how` as in [`TooFewKeys::sentence`].
    pub fn to_json(&self, how: Option<Spelling<'_>>) -> Value {
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
                    t.remedy
                        .as_ref()
                        .map_or(Value::Null, |r| r.sentence(how).into()),
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
        m.insert(
            "blockers".into(),
            Value::Array(
                self.blockers
                    .iter()
                    .map(|b| b.sentence(how).into())
                    .collect(),
            ),
        );
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
        if matches!(fr.status, FileStatus::Superseded | FileStatus::NotLoaded) {
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

/// Why [`rotate_listed`] could not find the delegation it was asked to rotate.
#[derive(Debug, thiserror::Error)]
enum ListedError {
    #[error("not a listed delegation")]
    NotListed,
    #[error("no delegation to role \"{}\"", escape(.role))]
    NoSuchRole { role: String },
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
) -> Result<(), Cause> {
    let DelegationRoles::List(roles) = &mut d.roles else {
        return Err(ListedError::NotListed.into());
    };
    // The caller found the role at `i`; look it up by name only if that is stale.
    let i = match roles.get(i) {
        Some(r) if r.name.as_str() == name => i,
        _ => roles
            .iter()
            .position(|r| r.name.as_str() == name)
            .ok_or_else(|| ListedError::NoSuchRole {
                role: name.to_owned(),
            })?,
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
    let (next, _review) = crate::pypi::rotate_delegation(&one, name, add, remove, threshold, None)?;
    let nd = next.delegations.expect("rotation keeps the delegations");
    if let DelegationRoles::List(mut r) = nd.roles
        && let Some(role) = r.pop()
    {
        roles[i] = role;
    }
    for (id, k) in nd.keys {
        d.keys.entry(id).or_insert(k);
    }
    Ok(())
}

/// Work out the revocation of `keyid` (the full keyid or a unique prefix of at least 8 hex
/// digits) from the repository `files`.
///
/// The steps follow the order a client trusts metadata in: the root first (spec 5.3), then
/// targets and every delegated role below it, parents before children (spec 5.6.7), so that
/// each draft knows whether its delegator is itself a draft.
pub fn plan(
    files: &[InputFile],
    keyid: &str,
    opts: &RevokeOptions,
) -> Result<RevocationPlan, RevokeError> {
    let report = verify::verify_repository(files, None, opts.now);
    let notes = expiry_notes(&report)?;
    let used = in_use(files, &report);
    let Some(root_use) = used.get("root") else {
        return Err(RevokeError::NoRoot);
    };
    let AnyMetadata::Root(root) = &root_use.md else {
        return Err(RevokeError::NotARoot {
            file: root_use.file.clone(),
        });
    };
    let (first, revoked) = find_key(&used, keyid)?;
    refuse_adding_the_revoked_key(opts, &revoked)?;

    let mut p = Planner::new(opts, &used, revoked);
    p.plan.notes = notes;
    p.plan.aliases = p.revoked.iter().filter(|k| **k != first).cloned().collect();
    p.plan.keyid = Some(first);

    let root_trusts = p.assess_root(root, &root_use.file);
    let new_root = p.rotate_root(root, &root_trusts);
    p.plan.trusts.extend(root_trusts.iter().cloned());
    if let Some(next) = &new_root {
        p.draft_root(root_use, root, next, &root_trusts);
    }
    p.carry_roots(files, &root_use.file, root.signed.common.version.get());
    p.walk_targets(root_use, new_root)?;

    p.check_options_name_affected_roles()?;
    if p.plan.trusts.is_empty() {
        return Err(RevokeError::UnknownKey(escape(keyid).to_lowercase()));
    }
    p.tell_online_side(&root_trusts);
    Ok(p.plan)
}

/// Expired metadata is no reason to stop (the drafts renew what they touch), so it becomes
/// a note; any other problem means the plan would build on metadata clients reject.
fn expiry_notes(report: &verify::Report) -> Result<Vec<String>, RevokeError> {
    let mut notes = Vec::new();
    let mut hard = Vec::new();
    for p in &report.problems {
        if p.rule == "expired" {
            notes.push(format!(
                "{}: {} (new versions drafted here get a fresh expiry; others must be renewed \
                 as usual)",
                escape(&p.file),
                escape(&p.message)
            ));
        } else {
            hard.push(p.clone());
        }
    }
    if hard.is_empty() {
        Ok(notes)
    } else {
        Err(RevokeError::Unverified(hard))
    }
}

/// The keyid `given` names ([`resolve_keyid`]), and every keyid naming the same key (TAP 12):
/// a key listed under two keyids must be removed under both, or the other one keeps counting.
fn find_key(
    used: &BTreeMap<String, InUse>,
    given: &str,
) -> Result<(KeyId, Vec<KeyId>), RevokeError> {
    let keys = all_keys(used);
    let first = resolve_keyid(given, &keys).map_err(|e| match e {
        KeyIdLookupError::NotFound { given } => RevokeError::UnknownKey(given),
        other => RevokeError::KeyId(other),
    })?;
    // Every spelling of the key a client accepts ([`Key::material`]), even those conclave
    // itself cannot verify with: a client that reads one would still trust it.
    let identity = keys[&first].material();
    let revoked = keys
        .iter()
        .filter(|(id, k)| **id == first || k.material() == identity)
        .map(|(id, _)| id.clone())
        .collect();
    Ok((first, revoked))
}

/// Adding the revoked key back (under any of its keyids) would undo the revocation.
fn refuse_adding_the_revoked_key(
    opts: &RevokeOptions,
    revoked: &[KeyId],
) -> Result<(), RevokeError> {
    match opts.add.iter().find(|(_, k)| revoked.contains(&k.keyid())) {
        Some((role, _)) => Err(RevokeError::AddsRevokedKey { role: role.clone() }),
        None => Ok(()),
    }
}

/// One delegation in a targets role's list that trusts the revoked key.
struct Listed {
    name: String,
    keyids: Vec<KeyId>,
    threshold: u32,
    /// A succinct hash-bin delegation (TAP 15): `name` is its name prefix.
    succinct: bool,
    /// Its index in the delegator's list of roles.
    index: usize,
}

/// The delegations in `d` that trust one of `revoked`, in delegation order.
fn listing(d: &Delegations, revoked: &[KeyId]) -> Vec<Listed> {
    let trusts = |ids: &[KeyId]| ids.iter().any(|k| revoked.contains(k));
    match &d.roles {
        DelegationRoles::List(roles) => roles
            .iter()
            .enumerate()
            .filter(|(_, r)| trusts(&r.keyids))
            .map(|(index, r)| Listed {
                name: r.name.as_str().to_owned(),
                keyids: r.keyids.clone(),
                threshold: r.threshold.get(),
                succinct: false,
                index,
            })
            .collect(),
        DelegationRoles::Succinct(s) if trusts(&s.keyids) => vec![Listed {
            name: s.name_prefix.clone(),
            keyids: s.keyids.clone(),
            threshold: s.threshold.get(),
            succinct: true,
            index: 0,
        }],
        DelegationRoles::Succinct(_) => Vec::new(),
    }
}

/// A targets role still to visit, with its delegator as it will be after the revocation
/// (a draft, or the file in the repository) and as it is now: the draft's signers come from
/// the former, the keys that must not count from the latter.
struct Pending {
    role: String,
    delegator_now: AnyMetadata,
    delegator_ctx: Context,
    delegator_before: AnyMetadata,
}

/// What removing the key from a role's delegations produced.
#[derive(Default)]
struct Revision {
    /// The role's next version, when one is needed.
    next: Option<Targets>,
    changes: Vec<String>,
    /// The role delegates projects (PEP 480) and one of them trusted the key: its review
    /// says what changed better than a line per delegation.
    project_mode: bool,
}

/// The revocation being worked out: the options, the roles in use, the key, and the plan
/// so far.
struct Planner<'a> {
    opts: &'a RevokeOptions,
    used: &'a BTreeMap<String, InUse>,
    /// The revoked key under every keyid naming it.
    revoked: Vec<KeyId>,
    plan: RevocationPlan,
    /// Roles that trust the key, the only ones options may name.
    affected: BTreeSet<String>,
    /// Projects taken out of their delegator: (project, delegator).
    removed_projects: Vec<(String, String)>,
    /// Online roles (PEP 458/480) that trust the key.
    online_roles: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(
        opts: &'a RevokeOptions,
        used: &'a BTreeMap<String, InUse>,
        revoked: Vec<KeyId>,
    ) -> Self {
        Planner {
            opts,
            used,
            revoked,
            plan: RevocationPlan::default(),
            affected: BTreeSet::new(),
            removed_projects: Vec::new(),
            online_roles: Vec::new(),
        }
    }

    fn is_revoked(&self, id: &KeyId) -> bool {
        self.revoked.contains(id)
    }

    /// `ids` without the revoked key, and the revoked key's keyids among them.
    fn split(&self, ids: &[KeyId]) -> (Vec<KeyId>, Vec<KeyId>) {
        ids.iter().cloned().partition(|k| !self.is_revoked(k))
    }

    fn expiry(&self, role: &str) -> Expires {
        self.opts
            .expires
            .unwrap_or(default_expiry(role, self.opts.now))
    }

    fn adds_for(&self, role: &str) -> Vec<Key> {
        self.opts
            .add
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The key's place in one role's key list, and the list and threshold once the key is
    /// gone and the officers' additions and new threshold apply. A project's delegation is
    /// only ever kept or taken out, so options never apply to it.
    fn trust(
        &mut self,
        role: &str,
        delegator: &str,
        file: &str,
        keyids: &[KeyId],
        threshold: u32,
        project: bool,
    ) -> Trust {
        let position = keyids.iter().position(|k| self.is_revoked(k)).unwrap_or(0) + 1;
        let removed = keyids.iter().filter(|k| self.is_revoked(k)).count();
        let (added, threshold_after) = if project {
            (0, threshold)
        } else {
            self.affected.insert(role.to_owned());
            (
                self.adds_for(role).len(),
                self.opts.thresholds.get(role).copied().unwrap_or(threshold),
            )
        };
        Trust {
            role: role.to_owned(),
            delegator: delegator.to_owned(),
            file: file.to_owned(),
            position,
            keys_before: keyids.len(),
            keys_after: keyids.len() - removed + added,
            threshold_before: threshold,
            threshold_after,
            project,
            signed_current: self.used.get(role).map(|u| signed_by(&u.md, &self.revoked)),
            remedy: None,
        }
    }

    /// Step 1a: the top-level roles in the root that trust the key (spec 5.3). A threshold
    /// the remaining keys cannot meet blocks the plan: only the root key holders can fix it,
    /// in the same new root.
    fn assess_root(&mut self, root: &Metadata<Root>, file: &str) -> Vec<Trust> {
        let mut trusts = Vec::new();
        for role in TOP_LEVEL_ROLES {
            let rk = root.signed.role(role).expect("parsed roots have all four");
            if !rk.keyids.iter().any(|k| self.is_revoked(k)) {
                continue;
            }
            let mut t = self.trust(role, "root", file, &rk.keyids, rk.threshold.get(), false);
            if !t.meetable() {
                let short = TooFewKeys {
                    role: role.to_owned(),
                    delegator: None,
                    keys_after: t.keys_after,
                    threshold_after: t.threshold_after,
                };
                t.remedy = Some(Remedy::TooFewKeys(short.clone()));
                self.plan.blockers.push(Blocker::TooFewKeys(short));
            } else if t.no_spare_key() {
                self.plan.warnings.push(format!(
                    "the {role} role will need all {} of its remaining key(s): one more lost \
                     key locks it; add a key when you can",
                    t.keys_after
                ));
            }
            trusts.push(t);
        }
        trusts
    }

    /// Step 1b: the next root without the key, through `root rotate`'s own function. Only
    /// when every top-level threshold stays meetable: a root nobody can sign is no draft.
    fn rotate_root(&mut self, root: &Metadata<Root>, trusts: &[Trust]) -> Option<Metadata<Root>> {
        if trusts.is_empty() || !trusts.iter().all(Trust::meetable) {
            return None;
        }
        let top_level = |r: &str| TOP_LEVEL_ROLES.contains(&r);
        let add: Vec<(String, Key)> = self
            .opts
            .add
            .iter()
            .filter(|(r, _)| top_level(r))
            .cloned()
            .collect();
        let mut remove = Vec::new();
        for role in TOP_LEVEL_ROLES {
            let rk = root.signed.role(role).expect("present");
            for id in rk.keyids.iter().filter(|k| self.is_revoked(k)) {
                remove.push((role.to_owned(), id.clone()));
            }
        }
        let thresholds: BTreeMap<String, u32> = self
            .opts
            .thresholds
            .iter()
            .filter(|(r, _)| top_level(r))
            .map(|(r, t)| (r.clone(), *t))
            .collect();
        match super::root::rotate(
            &root.signed,
            &add,
            &remove,
            &thresholds,
            Some(self.expiry("root")),
        ) {
            Ok(next) => Some(Metadata::new(next)),
            Err(e) => {
                self.plan
                    .blockers
                    .push(Blocker::Other(format!("the new root: {e}")));
                None
            }
        }
    }

    /// Step 1c: the root draft and its two signing requirements: the current root's root
    /// keys (spec 5.3.4) and the new root's own, neither counting the revoked key.
    fn draft_root(
        &mut self,
        root_use: &InUse,
        root: &Metadata<Root>,
        next: &Metadata<Root>,
        trusts: &[Trust],
    ) {
        let root_v = root.signed.common.version.get();
        let old = root.signed.role("root").expect("present");
        let new = next.signed.role("root").expect("present");
        let next_any = AnyMetadata::Root(next.clone());
        let mut changes = vec![format!(
            "the revoked key is removed from the root's {} role(s)",
            trusts
                .iter()
                .map(|t| t.role.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )];
        changes.extend(super::review::changes(&root_use.md, &next_any));
        let (eligible, excluded) = self.split(&old.keyids);
        let previous = Requirement {
            label: format!("root v{root_v} (the current root's root keys; spec 5.3.4)"),
            threshold: old.threshold.get(),
            eligible,
            excluded,
        };
        if !previous.meetable() {
            self.plan.warnings.push(format!(
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
        self.plan.drafts.push(Draft {
            role: "root".into(),
            file: format!("{}.root.json", root_v + 1),
            previous_file: root_use.file.clone(),
            metadata: next_any,
            changes,
            requirements: vec![previous, own],
            context: Context::Previous(root_use.file.clone()),
        });
    }

    /// Every root up to the current one stays: clients walk the chain one version at a time.
    fn carry_roots(&mut self, files: &[InputFile], root_file: &str, root_v: u64) {
        for f in files {
            if let Some((r, v)) = verify::classify(&f.name)
                && r == "root"
                && (f.name == root_file || v.is_some_and(|v| v <= root_v))
            {
                self.plan.carried.push(f.name.clone());
            }
        }
    }

    /// Step 2: targets and every delegated role below it, parents before children (spec
    /// 5.6.7), each either drafted anew or carried over unchanged.
    fn walk_targets(
        &mut self,
        root_use: &InUse,
        new_root: Option<Metadata<Root>>,
    ) -> Result<(), RevokeError> {
        let used = self.used;
        let mut stack: Vec<Pending> = Vec::new();
        if used.contains_key("targets") {
            let (delegator_now, delegator_ctx) = match new_root {
                Some(next) => {
                    let root_v = root_use.md.common().version.get();
                    let file = format!("{}.root.json", root_v + 1);
                    (AnyMetadata::Root(next), Context::DraftDelegator(file))
                }
                None => (
                    root_use.md.clone(),
                    Context::RepoDelegator(root_use.file.clone()),
                ),
            };
            stack.push(Pending {
                role: "targets".into(),
                delegator_now,
                delegator_ctx,
                delegator_before: root_use.md.clone(),
            });
        }
        let mut visited = BTreeSet::new();
        while let Some(p) = stack.pop() {
            if !visited.insert(p.role.clone()) {
                continue;
            }
            let Some(u) = used.get(&p.role) else { continue };
            let AnyMetadata::Targets(current) = &u.md else {
                continue;
            };
            let (after, ctx) = self.revise_role(&p, u, current)?;
            // Pushed in reverse so they are visited in delegation order.
            for role in self.children(&p.role, current).into_iter().rev() {
                stack.push(Pending {
                    role,
                    delegator_now: after.clone(),
                    delegator_ctx: ctx.clone(),
                    delegator_before: u.md.clone(),
                });
            }
        }
        Ok(())
    }

    /// One targets role: remove the key from its delegations, re-issue it if its own
    /// signatures no longer suffice, then draft it or carry it over. Returns the role as its
    /// children's delegator will be, and where that comes from.
    fn revise_role(
        &mut self,
        p: &Pending,
        u: &InUse,
        current: &Metadata<Targets>,
    ) -> Result<(AnyMetadata, Context), RevokeError> {
        let mut revision = self.remove_from_delegations(&p.role, u, current)?;
        let auths =
            super::authorities(&u.md, &p.role, None, Some(&p.delegator_now)).map_err(|e| {
                RevokeError::Authorities {
                    role: p.role.clone(),
                    source: e.into(),
                }
            })?;
        self.reissue_if_below_threshold(&p.role, u, current, &auths, &mut revision)?;
        Ok(self.draft_or_carry(p, u, revision, &auths))
    }

    /// Step 2a: every delegation in `current` that trusts the key, assessed, and (when all
    /// stay meetable) the next version without it. A project in claimed left below its
    /// threshold is taken out instead (PEP 480: its files fall back to later roles).
    fn remove_from_delegations(
        &mut self,
        role: &str,
        u: &InUse,
        current: &Metadata<Targets>,
    ) -> Result<Revision, RevokeError> {
        let Some(d) = &current.signed.delegations else {
            return Ok(Revision::default());
        };
        let listing = listing(d, &self.revoked);
        let projects = delegates_projects(role, d);
        let project_mode = projects && !listing.is_empty();
        let all_meetable = self.assess_delegations(role, &u.file, projects, &listing);
        if listing.is_empty() || !all_meetable {
            return Ok(Revision {
                project_mode,
                ..Revision::default()
            });
        }
        let mut changes = Vec::new();
        let mut draft = if projects {
            self.take_out_developer_key(&current.signed, &mut changes)
        } else {
            self.rotate_delegations(role, &current.signed, &listing, &mut changes)
        };
        draft.common.version = self.next_version(role, current.signed.common.version)?;
        draft.common.expires = self.expiry(role);
        Ok(Revision {
            next: Some(draft),
            changes,
            project_mode,
        })
    }

    /// The trusts of one delegator's delegations, with their blockers and warnings. Returns
    /// whether every threshold (projects aside) stays meetable.
    fn assess_delegations(
        &mut self,
        role: &str,
        file: &str,
        projects: bool,
        listing: &[Listed],
    ) -> bool {
        let mut all_meetable = true;
        for l in listing {
            let name = &l.name;
            let mut t = self.trust(name, role, file, &l.keyids, l.threshold, projects);
            if !t.meetable() {
                if projects {
                    t.remedy = Some(Remedy::ProjectTakenOut {
                        project: name.clone(),
                        role: role.to_owned(),
                    });
                    self.removed_projects.push((name.clone(), role.to_owned()));
                } else {
                    all_meetable = false;
                    let short = TooFewKeys {
                        role: name.clone(),
                        delegator: Some(role.to_owned()),
                        keys_after: t.keys_after,
                        threshold_after: t.threshold_after,
                    };
                    t.remedy = Some(Remedy::TooFewKeys(short.clone()));
                    self.plan.blockers.push(Blocker::TooFewKeys(short));
                }
            } else if !projects && t.no_spare_key() {
                self.plan.warnings.push(format!(
                    "role {} will need all {} of its remaining key(s): one more lost key \
                     locks it; add a key when you can",
                    escape(name),
                    t.keys_after
                ));
            }
            if matches!(name.as_str(), "recently-claimed" | "unclaimed") || l.succinct {
                self.online_roles.push(name.clone());
            }
            self.plan.trusts.push(t);
        }
        all_meetable
    }

    /// A developer key comes out through `pypi revoke-developer-key`'s own function, once
    /// per keyid naming it (an alias not listed here is skipped).
    fn take_out_developer_key(&self, current: &Targets, changes: &mut Vec<String>) -> Targets {
        let mut draft = current.clone();
        for id in &self.revoked {
            if let Ok((n, review)) = crate::pypi::revoke_developer_key(&draft, id, None) {
                draft = n;
                changes.extend(review.lines(20));
            }
        }
        draft
    }

    /// Any other delegation is rotated through `delegation rotate`'s own function, with the
    /// officers' additions and thresholds; keys no delegation uses any more are dropped.
    fn rotate_delegations(
        &mut self,
        role: &str,
        current: &Targets,
        listing: &[Listed],
        changes: &mut Vec<String>,
    ) -> Targets {
        let mut draft = current.clone();
        for l in listing {
            let (_, listed) = self.split(&l.keyids);
            let add = self.adds_for(&l.name);
            let threshold = self.opts.thresholds.get(&l.name).copied();
            let result = if l.succinct {
                crate::pypi::rotate_delegation(&draft, &l.name, &add, &listed, threshold, None)
                    .map(|(n, _)| draft = n)
                    .map_err(Cause::from)
            } else {
                let common = draft.common.clone();
                let dd = draft.delegations.as_mut().expect("has delegations");
                rotate_listed(dd, &common, l.index, &l.name, &add, &listed, threshold)
            };
            match result {
                Ok(()) => changes.push(format!(
                    "the revoked key is removed from the keys of role {}",
                    escape(&l.name)
                )),
                Err(e) => self
                    .plan
                    .blockers
                    .push(Blocker::Other(format!("{}: {e}", escape(role)))),
            }
        }
        if let Some(dd) = draft.delegations.as_mut() {
            crate::pypi::garbage_collect_keys(dd);
        }
        draft
    }

    fn next_version(
        &self,
        role: &str,
        v: crate::metadata::Version,
    ) -> Result<crate::metadata::Version, RevokeError> {
        v.next().map_err(|e| RevokeError::Version {
            role: role.to_owned(),
            source: e.into(),
        })
    }

    /// Step 2b: does the role's current version still carry enough signatures once the key
    /// no longer counts? If not, it is re-issued for signing even if nothing in it changed:
    /// otherwise clients would reject it the moment the new delegator is published.
    fn reissue_if_below_threshold(
        &mut self,
        role: &str,
        u: &InUse,
        current: &Metadata<Targets>,
        auths: &[super::Authority],
        revision: &mut Revision,
    ) -> Result<(), RevokeError> {
        if revision.next.is_some() {
            return Ok(());
        }
        let still_met = super::status(&u.md, role, auths)
            .iter()
            .all(crate::verify::SignatureReport::is_met);
        if !still_met {
            let mut t = current.signed.clone();
            t.common.version = self.next_version(role, t.common.version)?;
            t.common.expires = self.expiry(role);
            revision.changes.push(format!(
                "re-issued unchanged: the signatures on version {} no longer meet the \
                 threshold once the revoked key does not count",
                current.signed.common.version.get()
            ));
            revision.next = Some(t);
        } else if signed_by(&u.md, &self.revoked) {
            self.plan.still_valid.push(format!(
                "{} ({}): signed by the revoked key, but its other signatures still meet the \
                 threshold; no new version is needed",
                escape(role),
                escape(&u.file)
            ));
        }
        Ok(())
    }

    /// Step 2c: the draft with who must sign it, or the current file carried over as it is.
    fn draft_or_carry(
        &mut self,
        p: &Pending,
        u: &InUse,
        revision: Revision,
        auths: &[super::Authority],
    ) -> (AnyMetadata, Context) {
        let Some(n) = revision.next else {
            self.plan.carried.push(u.file.clone());
            return (u.md.clone(), Context::RepoDelegator(u.file.clone()));
        };
        let role = &p.role;
        let file = format!("{}.{role}.json", n.common.version);
        let md = AnyMetadata::Targets(Metadata::new(n));
        let mut changes = revision.changes;
        if changes.is_empty() {
            changes.push("no changes".into());
        }
        // For claimed, the project review above says it better than one line per role.
        changes.extend(super::review::changes(&u.md, &md).into_iter().filter(|l| {
            !revision.project_mode || l.starts_with("version") || l.starts_with("expires")
        }));
        let requirements = self.requirements(p, u, auths);
        for r in &requirements {
            if !r.meetable() {
                self.plan.blockers.push(Blocker::Other(format!(
                    "{file} needs {} signature(s) from {} but only {} key(s) may sign it",
                    r.threshold,
                    r.label,
                    r.eligible.len()
                )));
            }
        }
        self.plan.drafts.push(Draft {
            role: role.clone(),
            file: file.clone(),
            previous_file: u.file.clone(),
            metadata: md.clone(),
            changes,
            requirements,
            context: p.delegator_ctx.clone(),
        });
        (md, Context::DraftDelegator(file))
    }

    /// Who must sign a delegated role's draft: the keys its delegator (as it will be)
    /// names, never the revoked key, which is shown as excluded where the delegator (as it
    /// is now) authorised it.
    fn requirements(&self, p: &Pending, u: &InUse, auths: &[super::Authority]) -> Vec<Requirement> {
        let before = super::authorities(&u.md, &p.role, None, Some(&p.delegator_before))
            .ok()
            .and_then(|a| a.into_iter().next());
        let excluded = before.map_or_else(Vec::new, |a| self.split(&a.keyids).1);
        auths
            .iter()
            .map(|a| Requirement {
                label: delegator_label(&p.role, &p.delegator_ctx, &p.delegator_now),
                threshold: a.threshold.get(),
                eligible: self.split(&a.keyids).0,
                excluded: excluded.clone(),
            })
            .collect()
    }

    /// The roles `current` delegates to that this repository holds. A project taken out of
    /// claimed has no delegator any more, so it is not visited (nor carried).
    fn children(&self, role: &str, current: &Metadata<Targets>) -> Vec<String> {
        let Some(d) = &current.signed.delegations else {
            return Vec::new();
        };
        let mut children: Vec<String> = match &d.roles {
            DelegationRoles::List(roles) => roles
                .iter()
                .map(|r| r.name.as_str().to_owned())
                .filter(|n| self.used.contains_key(n))
                .collect(),
            DelegationRoles::Succinct(s) => self
                .used
                .keys()
                .filter(|n| s.index_of(n).is_some())
                .cloned()
                .collect(),
        };
        children.retain(|c| {
            !self
                .removed_projects
                .iter()
                .any(|(p, by)| p == c && by == role)
        });
        children
    }

    /// Options must name roles that trust the key: anything else is another kind of change.
    fn check_options_name_affected_roles(&self) -> Result<(), RevokeError> {
        let named = self.opts.add.iter().map(|(r, _)| r);
        match named
            .chain(self.opts.thresholds.keys())
            .find(|r| !self.affected.contains(*r))
        {
            Some(role) => Err(RevokeError::RoleNotAffected { role: role.clone() }),
            None => Ok(()),
        }
    }

    /// Step 3: what the online side must do once the drafts are signed.
    fn tell_online_side(&mut self, root_trusts: &[Trust]) {
        self.online_keys(root_trusts);
        for (p, by) in &self.removed_projects {
            self.plan.online.push(format!(
                "project {} is no longer delegated by {by}: remove its metadata from the \
                 repository's current snapshot (or re-claim it with new developer keys)",
                escape(p)
            ));
        }
        self.publishing();
    }

    /// The online service holds timestamp, snapshot and the online PEP 458/480 roles' keys:
    /// it must stop using the key at once.
    fn online_keys(&mut self, root_trusts: &[Trust]) {
        let ts_snap: Vec<&str> = root_trusts
            .iter()
            .map(|t| t.role.as_str())
            .filter(|r| matches!(*r, "timestamp" | "snapshot"))
            .collect();
        if !ts_snap.is_empty() {
            self.plan.online.push(format!(
                "the key is a {} key, held by the online service: stop using it at once, and \
                 sign {} with the replacement key(s) in the new root from the moment it is \
                 published",
                ts_snap.join(" and "),
                ts_snap.join(" and ")
            ));
            self.plan.online.push(
                "because the timestamp/snapshot keys change, clients delete their trusted \
                 timestamp and snapshot when they load the new root (spec 5.3.11). This is how \
                 clients recover from a fast-forward attack: if an attacker pushed the \
                 timestamp or snapshot version numbers up with the stolen key, the online side \
                 may start them again from a normal number"
                    .into(),
            );
        }
        if !self.online_roles.is_empty() {
            let mut roles = self.online_roles.clone();
            roles.sort();
            roles.dedup();
            self.plan.online.push(format!(
                "the key signs for {} (online roles in PEP 458/480): the online service must \
                 stop using it at once and sign with the replacement key(s) once the drafts \
                 are published",
                roles.join(", ")
            ));
        }
    }

    /// New roots are published beside the old ones; every other draft reaches clients only
    /// through a new snapshot and timestamp.
    fn publishing(&mut self) {
        if self.plan.drafts.is_empty() {
            return;
        }
        let (roots, others): (Vec<&Draft>, Vec<&Draft>) =
            self.plan.drafts.iter().partition(|d| d.role == "root");
        let mut lines = Vec::new();
        if !roots.is_empty() {
            lines.push(format!(
                "publish {} beside every earlier N.root.json (never delete old roots: clients \
                 walk the chain one version at a time)",
                roots
                    .iter()
                    .map(|d| d.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if others.is_empty() {
            lines.push(
                "issue a new snapshot and timestamp signed with the keys of the new root".into(),
            );
        } else {
            lines.push(format!(
                "publish the signed {} and issue a new snapshot that lists {}, then a new \
                 timestamp for that snapshot; until then clients keep using the old versions",
                others
                    .iter()
                    .map(|d| d.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                others
                    .iter()
                    .map(|d| format!("{} version {}", d.role, d.metadata.common().version))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.plan.online.extend(lines);
    }
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
        Common, DelegatedRole, RoleKeys, RoleName, RolePaths, Threshold, Version,
    };
    use crate::signer::{Ed25519Signer, Signer};

    const FAR: &str = "2100-01-01T00:00:00Z";

    fn s(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32])
    }

    fn common(v: u64) -> Common {
        Common::new(Version::new(v).unwrap(), Expires::parse(FAR).unwrap())
    }

    fn file<T: crate::metadata::Role>(name: &str, t: T, signers: &[&Ed25519Signer]) -> InputFile {
        use crate::signer::SignMetadata;
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
        match &p.blockers[0] {
            Blocker::TooFewKeys(t) => {
                assert_eq!(
                    (t.role.as_str(), t.delegator.as_deref()),
                    ("timestamp", None)
                );
            }
            other => panic!("expected too few keys, got {other}"),
        }
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
            Err(RevokeError::RoleNotAffected { .. })
        ));
    }

    #[test]
    fn bad_and_unknown_keyids() {
        assert!(matches!(
            plan(&repo(), "xyz", &opts()),
            Err(RevokeError::KeyId(KeyIdLookupError::NotHex { .. }))
        ));
        assert!(matches!(
            plan(&repo(), "1234", &opts()),
            Err(RevokeError::KeyId(KeyIdLookupError::TooShort { .. }))
        ));
        let unknown = s(42).public_key().keyid().to_string();
        assert!(matches!(
            plan(&repo(), &unknown, &opts()),
            Err(RevokeError::UnknownKey(_))
        ));
    }

    fn trust<'p>(p: &'p RevocationPlan, role: &str) -> &'p Trust {
        p.trusts.iter().find(|t| t.role == role).unwrap()
    }

    #[test]
    fn thresholds_before_and_after_are_reported_per_role() {
        let p = plan(&repo(), &id(2), &opts()).unwrap();
        let root = trust(&p, "root");
        assert_eq!(
            (root.delegator.as_str(), root.file.as_str()),
            ("root", "1.root.json")
        );
        assert_eq!(
            (root.position, root.keys_before, root.keys_after),
            (2, 3, 2)
        );
        assert_eq!((root.threshold_before, root.threshold_after), (2, 2));
        assert_eq!(root.signed_current, Some(true));
        let claimed = trust(&p, "claimed");
        assert_eq!(claimed.delegator, "targets");
        assert_eq!(claimed.file, "1.targets.json");
        assert_eq!((claimed.keys_after, claimed.threshold_after), (2, 2));
        assert!(root.meetable() && claimed.meetable() && !claimed.project);
        // 2 of the 2 keys left: one more lost key locks the role.
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("the root role will need all 2"))
        );
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("role claimed will need all 2"))
        );
        // A new threshold applies to the role it names only.
        let mut o = opts();
        o.thresholds.insert("claimed".into(), 1);
        let p = plan(&repo(), &id(2), &o).unwrap();
        assert_eq!(trust(&p, "claimed").threshold_after, 1);
        assert_eq!(trust(&p, "root").threshold_after, 2);
    }

    #[test]
    fn who_must_sign_each_draft() {
        let p = plan(&repo(), &id(1), &opts()).unwrap();
        let ids = |v: &[KeyId]| v.iter().map(KeyId::to_raw_string).collect::<Vec<_>>();
        let root = &p.drafts[0];
        // The current root's root keys (spec 5.3.4), then the new root's own.
        assert_eq!(root.requirements[0].threshold, 2);
        assert_eq!(ids(&root.requirements[0].eligible), vec![id(2), id(3)]);
        assert_eq!(ids(&root.requirements[0].excluded), vec![id(1)]);
        assert_eq!(root.requirements[1].threshold, 2);
        let mut own = ids(&root.requirements[1].eligible);
        own.sort();
        let mut want = vec![id(2), id(3)];
        want.sort();
        assert_eq!(own, want);
        // targets is re-drafted because claimed's keys change; its signer is the targets key
        // of the new root, and claimed is signed by the keys targets v2 names.
        let targets = &p.drafts[1];
        assert_eq!(targets.role, "targets");
        assert_eq!(ids(&targets.requirements[0].eligible), vec![id(4)]);
        assert_eq!(
            targets.context,
            Context::DraftDelegator("2.root.json".into())
        );
        let claimed = &p.drafts[2];
        assert!(
            claimed
                .changes
                .iter()
                .any(|c| c.starts_with("re-issued unchanged"))
        );
        assert_eq!(claimed.requirements[0].threshold, 2);
        assert_eq!(ids(&claimed.requirements[0].excluded), vec![id(1)]);
        assert!(claimed.requirements.iter().all(Requirement::meetable));
    }

    /// An attacker who holds the revoked key gains nothing: it is listed by no draft, no
    /// requirement counts it, and asking to add it back is refused.
    #[test]
    fn the_revoked_key_is_never_counted() {
        for n in 1..=9 {
            let gone = s(n).public_key().keyid();
            let mut o = opts();
            if n == 5 {
                o.add.push(("timestamp".into(), s(10).public_key().clone()));
            }
            if n == 6 {
                o.add.push(("snapshot".into(), s(10).public_key().clone()));
            }
            if n == 4 {
                o.add.push(("targets".into(), s(10).public_key().clone()));
            }
            let p = plan(&repo(), &gone.as_str(), &o).unwrap();
            assert!(p.is_feasible(), "key {n}: {:?}", p.blockers);
            assert!(p.is_revoked(&gone));
            for d in &p.drafts {
                for r in &d.requirements {
                    assert!(!r.eligible.contains(&gone), "key {n}: {}", d.file);
                }
                let listed = match &d.metadata {
                    AnyMetadata::Root(r) => r.signed.keys.contains_key(&gone),
                    AnyMetadata::Targets(t) => t
                        .signed
                        .delegations
                        .as_ref()
                        .is_some_and(|d| d.keys.contains_key(&gone)),
                    _ => false,
                };
                assert!(!listed, "key {n} still listed in {}", d.file);
            }
        }
        // Re-adding the key under the guise of a replacement.
        let mut o = opts();
        o.add.push(("root".into(), s(1).public_key().clone()));
        assert!(matches!(
            plan(&repo(), &id(1), &o),
            Err(RevokeError::AddsRevokedKey { role }) if role == "root"
        ));
        // A role signed by the revoked key and one other key (2 of 3) is re-issued: the
        // revoked key's signature must not keep the old version valid.
        let p = plan(&repo(), &id(1), &opts()).unwrap();
        assert!(p.drafts.iter().any(|d| d.role == "claimed"));
        assert!(p.still_valid.is_empty());
    }
}
