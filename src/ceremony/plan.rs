//! Ceremony plans: one declarative TOML file as the single input of a ceremony.
//!
//! A plan names the officers, every key (where its public key file is, and how its holder
//! signs: key file, passphrase-derived identity, YubiKey, PKCS#11 token, or an online key of
//! the repository), the top-level roles with their keys, thresholds and expiry, optionally the
//! PyPI (PEP 458 / PEP 480) layout under targets, and a policy. [`Plan::parse`] reads it
//! strictly: an unknown field is an error, because a misspelt `threshold` in a ceremony plan
//! must not silently become the default. [`Plan::check`] applies the policy.
//!
//! The format is described, with an example, in `docs/ceremony-guide.md` ("The ceremony
//! plan").

use std::collections::{BTreeMap, BTreeSet};

use crate::ceremony::expiry::{ExpiryError, ExpiryPolicy};
use crate::display::escape;
use crate::metadata::{Expires, Key, KeyAlgorithm, KeyId, TOP_LEVEL_ROLES, ValueError};
use crate::signer::derived::DeriveError;

/// The plan format this version of conclave reads.
pub const FORMAT: i64 = 1;

/// How a key's holder signs with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// An encrypted key file (`conclave key generate`); the path is where its holder keeps it.
    KeyFile {
        /// The key file's path, when the plan says it.
        path: Option<String>,
    },
    /// A passphrase-derived key (`conclave key derive --identity`).
    Derived {
        /// The identity mixed into the salt, e.g. `pypi.org/root/alice`.
        identity: String,
    },
    /// A key generated on a YubiKey: `SERIAL[:SLOT]`.
    YubiKey {
        /// `SERIAL[:SLOT]`.
        device: String,
    },
    /// A key in a PKCS#11 token: an RFC 7512 `pkcs11:` URI.
    Pkcs11 {
        /// The token and key, as a `pkcs11:` URI.
        uri: String,
    },
    /// An online key of the repository (timestamp, snapshot, recently-claimed, unclaimed):
    /// nobody at the ceremony signs with it.
    Online,
}

impl KeySource {
    /// The word used in the plan's `source` field and in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            KeySource::KeyFile { .. } => "key-file",
            KeySource::Derived { .. } => "derived",
            KeySource::YubiKey { .. } => "yubikey",
            KeySource::Pkcs11 { .. } => "pkcs11",
            KeySource::Online => "online",
        }
    }

    /// The `conclave sign` flags its holder uses.
    pub fn sign_flags(&self) -> Option<String> {
        match self {
            KeySource::KeyFile { path } => Some(format!(
                "--key {}",
                path.as_deref()
                    .map_or("YOUR-KEY-FILE".into(), crate::display::shell_word)
            )),
            KeySource::Derived { identity } => {
                Some(format!("--derive {}", crate::display::shell_word(identity)))
            }
            KeySource::YubiKey { device } => {
                Some(format!("--yubikey {}", crate::display::shell_word(device)))
            }
            KeySource::Pkcs11 { uri } => {
                Some(format!("--pkcs11 {}", crate::display::shell_word(uri)))
            }
            KeySource::Online => None,
        }
    }
}

/// One key of the plan.
#[derive(Clone, Debug)]
pub struct PlanKey {
    /// The key's name in the plan, e.g. `alice-root`.
    pub name: String,
    /// The officer holding it (none for online keys).
    pub officer: Option<String>,
    /// How its holder signs with it.
    pub source: KeySource,
    /// The public key file, as written in the plan (relative to the plan's directory).
    pub public_key_path: String,
    /// The public key read from that file.
    pub key: Key,
    /// A key leaving service: listed so that a rotation plan knows who holds it.
    pub retired: bool,
}

/// Keys, threshold and expiry of one role.
#[derive(Clone, Debug)]
pub struct RolePlan {
    /// Names of the plan's keys (under `[keys]`) that sign for the role.
    pub keys: Vec<String>,
    /// How many of them must sign (1 when the plan does not say).
    pub threshold: u32,
    /// WHEN as written: `YYYY-MM-DD`, a full UTC time, or a duration such as `365d`.
    pub expires: Option<String>,
}

/// The PEP 458 / PEP 480 layout under targets.
#[derive(Clone, Debug)]
pub struct PypiPlan {
    /// PEP 480's claimed: offline, projects that registered their own keys.
    pub claimed: RolePlan,
    /// PEP 480's recently-claimed: online, projects waiting to be moved into claimed.
    pub recently_claimed: RolePlan,
    /// PEP 480's unclaimed (PEP 458's bins role): online; its key also signs the bins.
    pub unclaimed: RolePlan,
    /// Number of hashed bins: a power of two (PEP 458 suggests 16384).
    pub bins: u32,
    /// Name and delegate the bins as python-tuf's hashed-bin example does, rather than
    /// as succinct hash bins (TAP 15).
    pub classic_bins: bool,
}

/// What the plan allows.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The lowest root threshold allowed (default 2: no single root key holder decides).
    pub min_root_threshold: u32,
    /// Let one key sign for several roles (a warning rather than an error).
    pub allow_key_reuse: bool,
    /// Longest expiry allowed per role, in days.
    pub max_expiry_days: BTreeMap<String, u32>,
    /// Refuse (rather than warn) when every root key comes from one kind of source.
    pub require_diversity: bool,
    /// Days before expiry each role's re-signing window opens (`conclave expiry`), by role
    /// (`root`, `targets`, `claimed`, `snapshot`, `timestamp`, and `other` for the rest).
    pub signing_period_days: BTreeMap<String, u32>,
    /// Proof of possession: a root rotation that adds root keys is final only once every
    /// added key has signed it (default true: a key listed by mistake, or one whose holder
    /// cannot use it, is found before the root is published, not at the next rotation).
    pub new_keys_must_sign: bool,
    /// Accept root, targets and claimed keys on YubiKeys Yubico advisory YSA-2024-03 says
    /// can be cloned (ECDSA on firmware below 5.7.0): a warning, with
    /// [`Policy::vulnerable_firmware_reason`] read out and recorded in the transcript, rather
    /// than an error (`crate::ceremony::firmware`).
    pub allow_vulnerable_firmware: bool,
    /// Why the plan accepts such keys; required when `allow_vulnerable_firmware` is set.
    pub vulnerable_firmware_reason: Option<String>,
}

impl Policy {
    /// The re-signing windows: the defaults ([`crate::ceremony::calendar::SigningPeriods`])
    /// with the plan's `[policy.signing_period_days]` over them.
    pub fn signing_periods(&self) -> crate::ceremony::calendar::SigningPeriods {
        let mut p = crate::ceremony::calendar::SigningPeriods::default();
        for (role, days) in &self.signing_period_days {
            if role == "other" {
                p.other = *days;
            } else {
                p.days.insert(role.clone(), *days);
            }
        }
        p
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_root_threshold: 2,
            allow_key_reuse: false,
            // PEP 458: root and targets 1 year (a leap day of slack); pre-split PEP 458 for
            // PEP 480's claimed: 3-6 months. One table, the builders' ([`ExpiryPolicy`]).
            max_expiry_days: ExpiryPolicy::default().max_days,
            require_diversity: false,
            signing_period_days: BTreeMap::new(),
            new_keys_must_sign: true,
            allow_vulnerable_firmware: false,
            vulnerable_firmware_reason: None,
        }
    }
}

/// What the ceremony's output is deployed to: the plan's `ceremony.profile`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// PEP 458 / PEP 480 as written: offline targets delegating to claimed, recently-claimed
    /// and unclaimed (the bins), distinct online keys (the default).
    #[default]
    Pep458,
    /// What RSTUF 1.0 runs: an offline root, and one online key (carrying
    /// `x-rstuf-online-key-uri`) for targets, snapshot and timestamp; PEP 480's claimed as an
    /// offline custom delegation signed through RSTUF's DAS. See docs/rstuf.md.
    Rstuf,
}

impl Profile {
    /// The word in the plan: `pep458` or `rstuf`.
    pub fn word(self) -> &'static str {
        match self {
            Profile::Pep458 => "pep458",
            Profile::Rstuf => "rstuf",
        }
    }
}

/// A parsed ceremony plan.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The ceremony's name, as `ceremony.name` gives it.
    pub name: String,
    /// A rehearsal plan: what it produces must never be deployed.
    pub rehearsal: bool,
    /// What the output is deployed to (`ceremony.profile`; pep458 when the plan does not say).
    pub profile: Profile,
    /// Officer id -> full name.
    pub officers: BTreeMap<String, String>,
    /// Key name -> key.
    pub keys: BTreeMap<String, PlanKey>,
    /// root, targets, snapshot, timestamp.
    pub roles: BTreeMap<String, RolePlan>,
    /// The PyPI layout under targets, if the plan has one.
    pub pypi: Option<PypiPlan>,
    /// What the plan allows; [`Plan::check`] applies it.
    pub policy: Policy,
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A description of the plan, e.g. the kinds of its root keys.
    Info,
    /// Read out and accepted at the ceremony.
    Warning,
    /// Must be fixed before genesis.
    Error,
}

impl Level {
    /// How the level is printed before a finding: "note", "warning", "error".
    pub fn word(self) -> &'static str {
        match self {
            Level::Info => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One result of applying the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub level: Level,
    /// What was found, e.g. "role root: threshold 1 is below the policy's minimum of 2 ...".
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a WHEN (an expiry as written in a plan or given on the command line) is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// `Nd` with N not between 1 and 36500.
    #[error("\"{text}\" is not a number of days between 1d and 36500d")]
    Days {
        /// The WHEN as written.
        text: String,
    },
    /// Neither a date, a UTC time nor a duration.
    #[error(
        "\"{}\" is not a date (YYYY-MM-DD), a UTC time (YYYY-MM-DDTHH:MM:SSZ) or a duration (365d)",
        escape(.text)
    )]
    NotAWhen {
        /// The WHEN as written.
        text: String,
    },
    /// The duration leads past what an expiry can hold.
    #[error(transparent)]
    Range(#[from] ValueError),
}

/// Why a plan could not be read. `at` is the dotted place in the plan, e.g. `roles.root`
/// (empty for the top level); `key` and `role` name a plan key and a role.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The text is not TOML; `detail` is toml's report (line, column and a caret).
    #[error("not valid TOML: {detail}")]
    Toml {
        /// toml's report, trailing newline removed.
        detail: String,
    },
    /// A field that must be a table is something else.
    #[error("{at}: must be a table, not {found}")]
    NotTable {
        /// Where the table was expected.
        at: String,
        /// The TOML type found.
        found: &'static str,
    },
    /// A field of the wrong TOML type.
    #[error("{at}.{field}: must {expected}, not {found}")]
    WrongType {
        /// The table holding the field.
        at: String,
        /// The field's name.
        field: String,
        /// What it must be, e.g. "be a string", "list strings".
        expected: &'static str,
        /// The TOML type found.
        found: &'static str,
    },
    /// A required field is absent.
    #[error("{at}: missing \"{field}\"")]
    Missing {
        /// The table lacking the field.
        at: String,
        /// The missing field.
        field: String,
    },
    /// A number beyond the field's bounds.
    #[error("{at}.{field}: {value} is out of range (0 to {max})")]
    OutOfRange {
        /// The table holding the field.
        at: String,
        /// The field's name.
        field: String,
        /// The number written.
        value: i64,
        /// The largest allowed.
        max: u32,
    },
    /// A field the format does not have: refused, since it is most likely a typo.
    #[error(
        "{}: unknown field \"{}\" (misspelt?)",
        if .at.is_empty() { "plan" } else { .at },
        escape(.field)
    )]
    UnknownField {
        /// The table holding the field.
        at: String,
        /// The unknown field's name.
        field: String,
    },
    /// An officer or key name that is not short, readable aloud and safe in file names.
    #[error(
        "{what} \"{}\": names must be 1-64 characters of letters, digits, '-', '_' and '.'",
        escape(.name)
    )]
    BadName {
        /// "officer" or "key".
        what: &'static str,
        /// The name as written.
        name: String,
    },
    /// A role with an empty `keys` list.
    #[error("{at}.keys: the role has no keys")]
    NoKeys {
        /// The role's table.
        at: String,
    },
    /// An offline role without `expires`.
    #[error("{at}: missing \"expires\" (a date YYYY-MM-DD or a duration such as 365d)")]
    MissingExpires {
        /// The role's table.
        at: String,
    },
    /// A role's `expires` is not a WHEN.
    #[error("{at}.expires")]
    Expires {
        /// The role's table.
        at: String,
        /// Why it is not a time.
        #[source]
        source: WhenError,
    },
    /// No `[ceremony]` table.
    #[error("missing the [ceremony] table (with name and format)")]
    NoCeremony,
    /// A plan format this conclave does not read.
    #[error("ceremony.format: this conclave reads plan format {FORMAT}, not {found}")]
    Format {
        /// The value written, as TOML debug text.
        found: String,
    },
    /// No `ceremony.format`.
    #[error("ceremony: missing \"format\" (= {FORMAT})")]
    NoFormat,
    /// A name shown to officers holds control characters.
    #[error("{at}: must not contain control characters")]
    ControlCharacters {
        /// The field, e.g. `ceremony.name`.
        at: String,
    },
    /// No `[keys.NAME]` tables.
    #[error("missing the [keys.NAME] tables (one per key)")]
    NoKeysTable,
    /// A key's `source` is not a known kind.
    #[error(
        "keys.{key}.source: \"{}\" is not one of key-file, derived, yubikey, pkcs11, online",
        escape(.word)
    )]
    UnknownSource {
        /// The key's name.
        key: String,
        /// The source as written.
        word: String,
    },
    /// `ceremony.profile` is not a profile conclave knows.
    #[error(
        "ceremony.profile: \"{}\" is not a profile (pep458: PEP 458/480 as written; rstuf: \
         what RSTUF 1.0 runs)",
        escape(.0)
    )]
    UnknownProfile(String),
    /// A derived key's identity is not one an officer can read aloud.
    #[error("keys.{key}.identity")]
    Identity {
        /// The key's name.
        key: String,
        /// What is wrong with it.
        #[source]
        source: DeriveError,
    },
    /// An online key with an officer.
    #[error("keys.{key}: an online key has no officer (remove \"officer\")")]
    OnlineWithOfficer {
        /// The key's name.
        key: String,
    },
    /// An officer's key without an officer.
    #[error("keys.{key}: missing \"officer\" (who holds this key)")]
    NoOfficer {
        /// The key's name.
        key: String,
    },
    /// A key's officer is not under `[officers]`.
    #[error("keys.{key}.officer: \"{}\" is not listed under [officers]", escape(.officer))]
    UnknownOfficer {
        /// The key's name.
        key: String,
        /// The officer as written.
        officer: String,
    },
    /// The public key file could not be read (the cause is the caller's reader's).
    #[error("keys.{key}.public_key")]
    PublicKey {
        /// The key's name.
        key: String,
        /// Why the file gives no key.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No `[roles.*]` tables.
    #[error(
        "missing the [roles.root], [roles.targets], [roles.snapshot] and [roles.timestamp] tables"
    )]
    NoRoles,
    /// A top-level role's table is missing.
    #[error("missing the [roles.{role}] table")]
    NoRole {
        /// The role.
        role: String,
    },
    /// A PyPI role's table is missing.
    #[error("pypi: missing the [pypi.{role}] table")]
    NoPypiRole {
        /// The role.
        role: String,
    },
    /// A bin count PEP 458 cannot use.
    #[error("pypi.bins: {bins} is not a power of two of at least 2 (PEP 458: 16384)")]
    Bins {
        /// The count written.
        bins: u32,
    },
    /// A role names a key the plan does not define.
    #[error("role {role}: key \"{}\" is not defined under [keys]", escape(.key))]
    UndefinedKey {
        /// The role.
        role: String,
        /// The key name as written.
        key: String,
    },
    /// A role names a retired key.
    #[error("role {role}: key \"{key}\" is marked retired and cannot be in a role")]
    RetiredKey {
        /// The role.
        role: String,
        /// The key's name.
        key: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

type Table = toml::Table;

/// Take the fields of a table one by one, so that leftovers (typos) can be reported.
struct Fields {
    at: String,
    table: Table,
}

impl Fields {
    fn new(at: impl Into<String>, value: toml::Value) -> Result<Self, PlanError> {
        let at = at.into();
        match value {
            toml::Value::Table(table) => Ok(Fields { at, table }),
            other => Err(PlanError::NotTable {
                at,
                found: other.type_str(),
            }),
        }
    }

    fn wrong(&self, name: &str, expected: &'static str, v: &toml::Value) -> PlanError {
        PlanError::WrongType {
            at: self.at.clone(),
            field: name.to_owned(),
            expected,
            found: v.type_str(),
        }
    }

    fn take(&mut self, name: &str) -> Option<toml::Value> {
        self.table.remove(name)
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, PlanError> {
        match self.take(name) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(name, "be a string", &v)),
        }
    }

    fn required_string(&mut self, name: &str) -> Result<String, PlanError> {
        self.string(name)?.ok_or_else(|| PlanError::Missing {
            at: self.at.clone(),
            field: name.to_owned(),
        })
    }

    fn boolean(&mut self, name: &str) -> Result<Option<bool>, PlanError> {
        match self.take(name) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(b)),
            Some(v) => Err(self.wrong(name, "be true or false", &v)),
        }
    }

    fn number(&mut self, name: &str, max: u32) -> Result<Option<u32>, PlanError> {
        match self.take(name) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if (0..=i64::from(max)).contains(&n) => {
                Ok(Some(n as u32))
            }
            Some(toml::Value::Integer(n)) => Err(PlanError::OutOfRange {
                at: self.at.clone(),
                field: name.to_owned(),
                value: n,
                max,
            }),
            Some(v) => Err(self.wrong(name, "be a whole number", &v)),
        }
    }

    fn strings(&mut self, name: &str) -> Result<Option<Vec<String>>, PlanError> {
        match self.take(name) {
            None => Ok(None),
            Some(toml::Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s),
                    v => Err(self.wrong(name, "list strings", &v)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(self.wrong(name, "be a list", &v)),
        }
    }

    fn table(&mut self, name: &str) -> Result<Option<Fields>, PlanError> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => {
                Fields::new(format!("{}.{name}", self.at).trim_start_matches('.'), v).map(Some)
            }
        }
    }

    /// Every field must have been taken.
    fn done(self) -> Result<(), PlanError> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(k) => Err(PlanError::UnknownField {
                at: self.at.clone(),
                field: k.clone(),
            }),
        }
    }
}

/// Names of officers and keys: short, readable aloud, safe in file names.
fn check_name(what: &'static str, name: &str) -> Result<(), PlanError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(PlanError::BadName {
            what,
            name: name.to_owned(),
        })
    }
}

fn role_plan(mut f: Fields, offline: bool) -> Result<RolePlan, PlanError> {
    let keys = f.strings("keys")?.ok_or_else(|| PlanError::Missing {
        at: f.at.clone(),
        field: "keys".into(),
    })?;
    if keys.is_empty() {
        return Err(PlanError::NoKeys { at: f.at });
    }
    let threshold = f.number("threshold", 1_000)?.unwrap_or(1);
    let expires = f.string("expires")?;
    if offline && expires.is_none() {
        return Err(PlanError::MissingExpires { at: f.at });
    }
    if let Some(e) = &expires {
        resolve_when(e, Expires::from_unix(0).expect("epoch")).map_err(|source| {
            PlanError::Expires {
                at: f.at.clone(),
                source,
            }
        })?;
    }
    f.done()?;
    Ok(RolePlan {
        keys,
        threshold,
        expires,
    })
}

/// WHEN as a point in time: `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM:SSZ`, or `Nd` days
/// after `now`.
pub fn resolve_when(s: &str, now: Expires) -> Result<Expires, WhenError> {
    if let Some(days) = s.strip_suffix('d') {
        let days: i64 = days
            .parse()
            .ok()
            .filter(|d| *d > 0 && *d <= 36_500)
            .ok_or_else(|| WhenError::Days { text: s.to_owned() })?;
        return Ok(Expires::from_unix(now.unix() + days * 86_400)?);
    }
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Expires::parse(&full).map_err(|_| WhenError::NotAWhen { text: s.to_owned() })
}

impl Plan {
    /// Parse a plan. `public_key` reads the public key file a key entry names (a path
    /// relative to the plan's directory) and returns the key or why it cannot.
    pub fn parse<E>(
        text: &str,
        public_key: &mut dyn FnMut(&str) -> Result<Key, E>,
    ) -> Result<Plan, PlanError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let table: Table = text.parse().map_err(|e: toml::de::Error| PlanError::Toml {
            // toml's message carries the line, column and a caret under the problem.
            detail: e.to_string().trim_end().to_owned(),
        })?;
        let mut top = Fields {
            at: String::new(),
            table,
        };

        let mut c = top.table("ceremony")?.ok_or(PlanError::NoCeremony)?;
        let format = c.take("format");
        match format {
            Some(toml::Value::Integer(FORMAT)) => {}
            Some(v) => {
                return Err(PlanError::Format {
                    found: format!("{v:?}"),
                });
            }
            None => return Err(PlanError::NoFormat),
        }
        let name = c.required_string("name")?;
        if name.chars().any(char::is_control) {
            return Err(PlanError::ControlCharacters {
                at: "ceremony.name".into(),
            });
        }
        let rehearsal = c.boolean("rehearsal")?.unwrap_or(false);
        let profile = match c.string("profile")?.as_deref() {
            None | Some("pep458") => Profile::Pep458,
            Some("rstuf") => Profile::Rstuf,
            Some(other) => return Err(PlanError::UnknownProfile(other.to_owned())),
        };
        c.done()?;

        let mut policy = Policy::default();
        if let Some(mut p) = top.table("policy")? {
            if let Some(n) = p.number("min_root_threshold", 1_000)? {
                policy.min_root_threshold = n;
            }
            if let Some(b) = p.boolean("allow_key_reuse")? {
                policy.allow_key_reuse = b;
            }
            if let Some(b) = p.boolean("require_diversity")? {
                policy.require_diversity = b;
            }
            if let Some(b) = p.boolean("new_keys_must_sign")? {
                policy.new_keys_must_sign = b;
            }
            if let Some(b) = p.boolean("allow_vulnerable_firmware")? {
                policy.allow_vulnerable_firmware = b;
            }
            if let Some(reason) = p.string("vulnerable_firmware_reason")? {
                if reason.chars().any(char::is_control) {
                    return Err(PlanError::ControlCharacters {
                        at: "policy.vulnerable_firmware_reason".into(),
                    });
                }
                policy.vulnerable_firmware_reason = Some(reason);
            }
            if let Some(mut m) = p.table("max_expiry_days")? {
                for role in ["root", "targets", "claimed"] {
                    if let Some(d) = m.number(role, 36_500)? {
                        policy.max_expiry_days.insert(role.into(), d);
                    }
                }
                m.done()?;
            }
            if let Some(mut m) = p.table("signing_period_days")? {
                for role in [
                    "root",
                    "targets",
                    "claimed",
                    "snapshot",
                    "timestamp",
                    "other",
                ] {
                    if let Some(d) = m.number(role, 36_500)? {
                        policy.signing_period_days.insert(role.into(), d);
                    }
                }
                m.done()?;
            }
            p.done()?;
        }

        let mut officers = BTreeMap::new();
        if let Some(o) = top.table("officers")? {
            for (id, v) in o.table {
                check_name("officer", &id)?;
                let mut f = Fields::new(format!("officers.{id}"), v)?;
                let full = f.required_string("name")?;
                if full.chars().any(char::is_control) {
                    return Err(PlanError::ControlCharacters {
                        at: format!("officers.{id}.name"),
                    });
                }
                f.done()?;
                officers.insert(id, full);
            }
        }

        let mut keys = BTreeMap::new();
        let k = top.table("keys")?.ok_or(PlanError::NoKeysTable)?;
        for (kname, v) in k.table {
            check_name("key", &kname)?;
            let mut f = Fields::new(format!("keys.{kname}"), v)?;
            let officer = f.string("officer")?;
            let source_word = f.required_string("source")?;
            let source = match source_word.as_str() {
                "key-file" => KeySource::KeyFile {
                    path: f.string("key_file")?,
                },
                "derived" => KeySource::Derived {
                    identity: f.required_string("identity")?,
                },
                "yubikey" => KeySource::YubiKey {
                    device: f.required_string("yubikey")?,
                },
                "pkcs11" => KeySource::Pkcs11 {
                    uri: f.required_string("pkcs11")?,
                },
                "online" => KeySource::Online,
                other => {
                    return Err(PlanError::UnknownSource {
                        key: kname,
                        word: other.to_owned(),
                    });
                }
            };
            if let KeySource::Derived { identity } = &source {
                crate::signer::derived::check_identity(identity).map_err(|source| {
                    PlanError::Identity {
                        key: kname.clone(),
                        source,
                    }
                })?;
            }
            let path = f.required_string("public_key")?;
            let retired = f.boolean("retired")?.unwrap_or(false);
            f.done()?;
            match (&source, &officer) {
                (KeySource::Online, Some(_)) => {
                    return Err(PlanError::OnlineWithOfficer { key: kname });
                }
                (KeySource::Online, None) => {}
                (_, None) => {
                    return Err(PlanError::NoOfficer { key: kname });
                }
                (_, Some(o)) if !officers.contains_key(o) => {
                    return Err(PlanError::UnknownOfficer {
                        key: kname,
                        officer: o.clone(),
                    });
                }
                _ => {}
            }
            let key = public_key(&path).map_err(|e| PlanError::PublicKey {
                key: kname.clone(),
                source: e.into(),
            })?;
            keys.insert(
                kname.clone(),
                PlanKey {
                    name: kname,
                    officer,
                    source,
                    public_key_path: path,
                    key,
                    retired,
                },
            );
        }

        let mut roles = BTreeMap::new();
        let mut r = top.table("roles")?.ok_or(PlanError::NoRoles)?;
        for role in TOP_LEVEL_ROLES {
            let f = r.table(role)?.ok_or_else(|| PlanError::NoRole {
                role: role.to_owned(),
            })?;
            // In the rstuf profile targets is signed online, with RSTUF's expiry policy.
            let offline = role == "root" || (role == "targets" && profile == Profile::Pep458);
            roles.insert(role.to_owned(), role_plan(f, offline)?);
        }
        r.done()?;

        let pypi = match top.table("pypi")? {
            None => None,
            Some(mut p) => {
                let mut part = |name: &str, offline: bool| -> Result<RolePlan, PlanError> {
                    let f = p.table(name)?.ok_or_else(|| PlanError::NoPypiRole {
                        role: name.to_owned(),
                    })?;
                    role_plan(f, offline)
                };
                let claimed = part("claimed", true)?;
                let recently_claimed = part("recently-claimed", false)?;
                let unclaimed = part("unclaimed", false)?;
                let bins = p.number("bins", 1 << 20)?.unwrap_or(16_384);
                if !bins.is_power_of_two() || bins < 2 {
                    return Err(PlanError::Bins { bins });
                }
                let classic_bins = p.boolean("classic_bins")?.unwrap_or(false);
                p.done()?;
                Some(PypiPlan {
                    claimed,
                    recently_claimed,
                    unclaimed,
                    bins,
                    classic_bins,
                })
            }
        };
        top.done()?;

        let plan = Plan {
            name,
            rehearsal,
            profile,
            officers,
            keys,
            roles,
            pypi,
            policy,
        };
        for (role, rp) in plan.all_roles() {
            for k in &rp.keys {
                let Some(pk) = plan.keys.get(k) else {
                    return Err(PlanError::UndefinedKey {
                        role: role.to_owned(),
                        key: k.clone(),
                    });
                };
                if pk.retired {
                    return Err(PlanError::RetiredKey {
                        role: role.to_owned(),
                        key: k.clone(),
                    });
                }
            }
        }
        Ok(plan)
    }

    /// Every role the plan gives keys to, top-level roles first.
    pub fn all_roles(&self) -> Vec<(&str, &RolePlan)> {
        let mut out: Vec<(&str, &RolePlan)> = TOP_LEVEL_ROLES
            .iter()
            .filter_map(|r| self.roles.get(*r).map(|p| (*r, p)))
            .collect();
        if let Some(p) = &self.pypi {
            out.push(("claimed", &p.claimed));
            out.push(("recently-claimed", &p.recently_claimed));
            out.push(("unclaimed", &p.unclaimed));
        }
        out
    }

    /// The re-signing windows for this plan: [`Policy::signing_periods`], except that a role
    /// every key of which is online (`source = "online"`) has none (0 days: the online
    /// repository renews it; it is reported only once expired) unless
    /// `[policy.signing_period_days]` names it.
    pub fn signing_periods(&self) -> crate::ceremony::calendar::SigningPeriods {
        let mut periods = self.policy.signing_periods();
        for (role, plan) in self.all_roles() {
            let keys = self.role_keys(plan);
            let online = !keys.is_empty() && keys.iter().all(|k| k.source == KeySource::Online);
            if online && !self.policy.signing_period_days.contains_key(role) {
                periods.days.insert(role.to_owned(), 0);
            }
        }
        periods
    }

    /// The keys of a role, in plan order.
    pub fn role_keys(&self, role: &RolePlan) -> Vec<&PlanKey> {
        role.keys.iter().filter_map(|k| self.keys.get(k)).collect()
    }

    /// The plan key with this keyid, if any.
    pub(crate) fn key_by_id(&self, id: &KeyId) -> Option<&PlanKey> {
        self.keys.values().find(|k| &k.key.keyid() == id)
    }

    /// An officer's display name: "Alice Example (alice)".
    pub fn officer_label(&self, id: &str) -> String {
        match self.officers.get(id) {
            Some(n) => format!("{} ({})", escape(n), id),
            None => id.to_owned(),
        }
    }

    /// Apply the policy. Errors must be fixed before genesis; warnings are read out and
    /// accepted; notes describe the plan (key diversity).
    pub fn check(&self, now: Expires) -> Vec<Finding> {
        let mut out = Vec::new();
        self.check_key_material(&mut out);
        self.check_thresholds(&mut out);
        self.check_expiry(&mut out, now);
        let uses = self.check_key_reuse(&mut out);
        self.check_unused(&mut out, &uses);
        self.check_root_diversity(&mut out);
        if self.profile == Profile::Rstuf {
            self.check_rstuf(&mut out);
        }
        out.sort_by_key(|f| std::cmp::Reverse(f.level));
        out
    }

    /// Two named keys holding one public key, and public key files carrying private material.
    fn check_key_material(&self, out: &mut Vec<Finding>) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // A key is its material: two named keys holding one public key would count twice in
        // a client, and a public key file must not carry private material.
        let named: Vec<(&String, &PlanKey)> = self.keys.iter().collect();
        for (i, (a, ka)) in named.iter().enumerate() {
            let m = ka.key.material();
            for (b, kb) in &named[i + 1..] {
                if kb.key.material() == m {
                    push(
                        Level::Error,
                        format!(
                            "keys \"{a}\" and \"{b}\" are the same public key (keyids {} and \
                             {}): a client would count its one holder twice",
                            ka.key.keyid(),
                            kb.key.keyid()
                        ),
                    );
                }
            }
            for field in crate::metadata::keyset::private_fields(&ka.key) {
                push(
                    Level::Error,
                    format!(
                        "key \"{a}\": its public key carries {field}, which looks like private key material"
                    ),
                );
            }
        }
    }

    /// Thresholds between 1 and the number of keys, offline keys where PEP 458/480 want them, and the policy's root minimum.
    fn check_thresholds(&self, out: &mut Vec<Finding>) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // Thresholds: 1 <= t <= n; t = n locks the role when one key is lost.
        for (role, rp) in self.all_roles() {
            let n = rp.keys.len() as u32;
            let mut seen = BTreeSet::new();
            for k in &rp.keys {
                if !seen.insert(k) {
                    push(
                        Level::Error,
                        format!("role {role}: key \"{k}\" is listed twice"),
                    );
                }
            }
            if rp.threshold == 0 {
                push(
                    Level::Error,
                    format!(
                        "role {role}: threshold 0 would let anyone sign; it must be at least 1"
                    ),
                );
            } else if rp.threshold > n {
                push(
                    Level::Error,
                    format!(
                        "role {role}: threshold {} but only {n} key(s): it could never be met",
                        rp.threshold
                    ),
                );
            } else if rp.threshold == n && n > 1 {
                push(
                    Level::Warning,
                    format!(
                        "role {role}: threshold {} equals its number of keys: one lost key \
                         locks the role until a higher role re-delegates it",
                        rp.threshold
                    ),
                );
            }
            let online = self
                .role_keys(rp)
                .iter()
                .filter(|k| k.source == KeySource::Online)
                .count();
            // The rstuf profile signs targets online ([`Plan::check_rstuf`] says so).
            let must_be_offline = matches!(role, "root" | "claimed")
                || (role == "targets" && self.profile == Profile::Pep458);
            if must_be_offline && online > 0 {
                push(
                    Level::Error,
                    format!(
                        "role {role}: must be signed with offline keys (PEP 458/480), but \
                         {online} of its keys are online keys"
                    ),
                );
            }
            if !must_be_offline && online < rp.keys.len() {
                push(
                    Level::Warning,
                    format!(
                        "role {role}: is signed by the online repository, but {} of its keys \
                         are officers' keys",
                        rp.keys.len() - online
                    ),
                );
            }
        }
        if let Some(root) = self.roles.get("root")
            && root.threshold < self.policy.min_root_threshold
        {
            push(
                Level::Error,
                format!(
                    "role root: threshold {} is below the policy's minimum of {} (PEP 458: \
                     more than one root key holder must agree)",
                    root.threshold, self.policy.min_root_threshold
                ),
            );
        }
    }

    /// Each role's expiry within the policy's bounds.
    fn check_expiry(&self, out: &mut Vec<Finding>, now: Expires) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // Expiry within bounds: the builders' check ([`ExpiryPolicy::check`]) under the
        // plan's policy, where beyond the bound is an error to fix before genesis.
        let expiry_policy = ExpiryPolicy {
            max_days: self.policy.max_expiry_days.clone(),
            ..ExpiryPolicy::default()
        };
        for (role, rp) in self.all_roles() {
            let Some(w) = &rp.expires else { continue };
            let Ok(at) = resolve_when(w, now) else {
                continue;
            };
            match expiry_policy.check(role, at, now, false) {
                Err(ExpiryError::NotInFuture { .. }) => push(
                    Level::Error,
                    format!("role {role}: expires {at}, which is already past"),
                ),
                Err(e @ ExpiryError::BeyondCeiling { .. }) => push(Level::Error, e.to_string()),
                Ok(l) if l.beyond_bound() => push(
                    Level::Error,
                    format!(
                        "role {role}: expires in {} days ({at}), beyond the policy's {} days \
                         ({})",
                        l.days(),
                        l.bound.days,
                        l.bound.basis
                    ),
                ),
                Ok(l) if l.days() < 30 && matches!(role, "root" | "targets") => push(
                    Level::Warning,
                    format!(
                        "role {role}: expires in {} days ({at}): another ceremony will be \
                         needed very soon",
                        l.days()
                    ),
                ),
                Ok(_) => {}
            }
        }
    }

    /// One key under two names or in two roles; returns where each key is used.
    fn check_key_reuse(&self, out: &mut Vec<Finding>) -> BTreeMap<KeyId, Vec<(String, &str)>> {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // A key in two roles: a compromise of one role is then a compromise of both.
        let mut uses: BTreeMap<KeyId, Vec<(String, &str)>> = BTreeMap::new();
        for (role, rp) in self.all_roles() {
            for k in self.role_keys(rp) {
                uses.entry(k.key.keyid())
                    .or_default()
                    .push((k.name.clone(), role));
            }
        }
        for (id, list) in &uses {
            let names: BTreeSet<&String> = list.iter().map(|(n, _)| n).collect();
            if names.len() > 1 {
                push(
                    Level::Error,
                    format!(
                        "keys {} are the same key ({id})",
                        names
                            .iter()
                            .map(|n| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                );
            }
            let roles: BTreeSet<&str> = list.iter().map(|(_, r)| *r).collect();
            // The bins share unclaimed's key by design; that is one role here. In the rstuf
            // profile, RSTUF's one online key signs every online role by design.
            let rstuf_online = self.profile == Profile::Rstuf
                && self
                    .key_by_id(id)
                    .is_some_and(|k| k.source == KeySource::Online);
            if roles.len() > 1 && !rstuf_online {
                let level = if self.policy.allow_key_reuse {
                    Level::Warning
                } else {
                    Level::Error
                };
                push(
                    level,
                    format!(
                        "key \"{}\" is used by several roles ({}): a compromise of it is a \
                         compromise of all of them{}",
                        list[0].0,
                        roles.into_iter().collect::<Vec<_>>().join(", "),
                        if self.policy.allow_key_reuse {
                            " (allowed by the policy)"
                        } else {
                            "; set policy.allow_key_reuse = true to allow it"
                        }
                    ),
                );
            }
        }
        uses
    }

    /// Officers who hold no key and keys in no role.
    fn check_unused(&self, out: &mut Vec<Finding>, uses: &BTreeMap<KeyId, Vec<(String, &str)>>) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // Unused officers and keys.
        for id in self.officers.keys() {
            if !self.keys.values().any(|k| k.officer.as_deref() == Some(id)) {
                push(
                    Level::Warning,
                    format!(
                        "officer {} holds no key in this plan",
                        self.officer_label(id)
                    ),
                );
            }
        }
        for k in self.keys.values() {
            if !k.retired && !uses.contains_key(&k.key.keyid()) {
                push(
                    Level::Warning,
                    format!(
                        "key \"{}\" is in no role (mark it retired = true if it is leaving)",
                        k.name
                    ),
                );
            }
        }
    }

    /// The root keys' holders, storage kinds and algorithms, and the rehearsal marker.
    fn check_root_diversity(&self, out: &mut Vec<Finding>) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        // Diversity of the root keys: sources (vendors) and key types.
        if let Some(root) = self.roles.get("root") {
            let keys = self.role_keys(root);
            let sources: BTreeSet<&str> = keys.iter().map(|k| k.source.kind()).collect();
            let types: BTreeSet<&str> = keys.iter().map(|k| key_type(&k.key)).collect();
            let holders: BTreeSet<Option<&String>> =
                keys.iter().map(|k| k.officer.as_ref()).collect();
            push(Level::Info, format!("root keys: {}", diversity(&keys)));
            if keys.len() > 1 && holders.len() < keys.len() {
                push(
                    Level::Error,
                    "root: one officer holds several root keys, so fewer people than the \
                     threshold could sign"
                        .into(),
                );
            }
            if keys.len() > 1 && sources.len() == 1 {
                let level = if self.policy.require_diversity {
                    Level::Error
                } else {
                    Level::Warning
                };
                push(
                    level,
                    format!(
                        "root: every key is of one kind ({}); a flaw in that kind of key \
                         storage would affect all of them",
                        sources.iter().next().copied().unwrap_or_default()
                    ),
                );
            }
            if keys.len() > 1 && types.len() == 1 {
                push(
                    Level::Info,
                    format!(
                        "root: every key uses one algorithm ({})",
                        types.iter().next().copied().unwrap_or_default()
                    ),
                );
            }
        }
        if self.rehearsal {
            push(
                Level::Info,
                "this is a REHEARSAL plan: what it produces must never be deployed".into(),
            );
        }
    }
}

impl Plan {
    /// The rstuf profile: what RSTUF 1.0 runs, and what it gives up against PEP 458.
    ///
    /// RSTUF 1.0's worker signs targets, snapshot, timestamp and every online delegated role
    /// with one online key (the first timestamp key), found only through
    /// `x-rstuf-online-key-uri` in that key's object in the signed root. A plan RSTUF would
    /// refuse or fail on is an error here, with the reason, before anything is drafted.
    fn check_rstuf(&self, out: &mut Vec<Finding>) {
        let mut push = |level, message: String| out.push(Finding { level, message });
        push(
            Level::Warning,
            "profile rstuf: targets is signed online by RSTUF's one online key (RSTUF 1.0 has \
             no offline targets, upstream issue #244): whoever controls the online side can \
             sign any target until the root keys rotate the online key, where PEP 458 keeps \
             targets offline"
                .into(),
        );
        let mut online_roles = vec!["targets", "snapshot", "timestamp"];
        if self.pypi.is_some() {
            online_roles.extend(["recently-claimed", "unclaimed"]);
        }
        let all = self.all_roles();
        let online = self.roles.get("timestamp").and_then(|r| r.keys.first());
        for role in online_roles {
            let Some((_, rp)) = all.iter().find(|(r, _)| *r == role) else {
                continue;
            };
            if rp.keys.len() != 1 || rp.threshold != 1 {
                push(
                    Level::Error,
                    format!(
                        "role {role}: {} key(s) with threshold {}; RSTUF 1.0 signs it with its \
                         one online key alone (threshold 1)",
                        rp.keys.len(),
                        rp.threshold
                    ),
                );
            } else if Some(&rp.keys[0]) != online {
                push(
                    Level::Error,
                    format!(
                        "role {role}: key \"{}\" is not RSTUF's online key (timestamp's \
                         \"{}\"); RSTUF 1.0 signs every online role with that one key",
                        rp.keys[0],
                        online.map_or("", String::as_str)
                    ),
                );
            }
        }
        if let Some(k) = online.and_then(|n| self.keys.get(n)) {
            if k.source != KeySource::Online {
                push(
                    Level::Error,
                    format!(
                        "key \"{}\": RSTUF's online key must have source = \"online\" (the \
                         worker holds it; nobody at the ceremony signs with it)",
                        k.name
                    ),
                );
            }
            if !crate::ceremony::rstuf::online_key_uri(&k.key)
                .is_some_and(crate::ceremony::rstuf::usable_uri)
            {
                push(
                    Level::Error,
                    format!(
                        "key \"{}\": its public key file {} carries no usable \
                         x-rstuf-online-key-uri, so RSTUF's worker could not sign with it, and \
                         the field cannot be added once the root is signed; add it to the \
                         public key file first (conclave rstuf online-key)",
                        k.name,
                        escape(&k.public_key_path)
                    ),
                );
            }
        }
        if let Some(p) = &self.pypi {
            if p.bins > 16_384 {
                push(
                    Level::Error,
                    format!(
                        "pypi.bins: {} hash bins; RSTUF 1.0 runs at most 16,384",
                        p.bins
                    ),
                );
            }
            push(
                Level::Warning,
                format!(
                    "profile rstuf: claimed, recently-claimed and unclaimed are deployed as \
                     RSTUF custom delegations, claimed signed offline through RSTUF's DAS \
                     (conclave rstuf sign); RSTUF 1.0 runs either its hash bins or custom \
                     delegations, so unclaimed is one role, not {} bins; RSTUF 1.0 puts every \
                     new artifact into the first role whose paths match, claimed, so each \
                     upload waits for the claimed keys' signatures, and claimed v1 is made \
                     already expired (clients find no target until the first claimed with an \
                     artifact is signed); pre-signed later versions of claimed have no upload \
                     path in RSTUF 1.0 (upstream issue #647)",
                    p.bins
                ),
            );
        }
    }
}

fn key_type(k: &Key) -> &'static str {
    match k.algorithm() {
        Some(KeyAlgorithm::Ed25519) => "ed25519",
        Some(KeyAlgorithm::EcdsaP256) => "ecdsa-p256",
        None => "unsupported",
    }
}

/// "2 derived, 1 yubikey; ed25519 x2, ecdsa-p256 x1".
pub fn diversity(keys: &[&PlanKey]) -> String {
    let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for k in keys {
        *sources.entry(k.source.kind()).or_default() += 1;
        *types.entry(key_type(&k.key)).or_default() += 1;
    }
    let s = sources
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let t = types
        .iter()
        .map(|(k, n)| format!("{k} x{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{s}; {t}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Key {
        let s = crate::signer::Ed25519Signer::from_seed(&[n; 32]);
        crate::signer::Signer::public_key(&s).clone()
    }

    type Cause = Box<dyn std::error::Error + Send + Sync>;

    fn resolver() -> impl FnMut(&str) -> Result<Key, Cause> {
        |p: &str| {
            let n: u8 = p
                .trim_start_matches("k")
                .parse()
                .map_err(|_| format!("{p}: no such file"))?;
            Ok(key(n))
        }
    }

    pub const GOOD: &str = r#"
[ceremony]
format = 1
name = "test ceremony"

[officers.alice]
name = "Alice"
[officers.bob]
name = "Bob"
[officers.carol]
name = "Carol"

[keys]
alice-root = { officer = "alice", source = "derived", identity = "example.org/root/alice", public_key = "k1" }
bob-root = { officer = "bob", source = "key-file", public_key = "k2" }
carol-root = { officer = "carol", source = "yubikey", yubikey = "12345678:9c", public_key = "k3" }
alice-targets = { officer = "alice", source = "key-file", public_key = "k4" }
bob-targets = { officer = "bob", source = "key-file", public_key = "k5" }
carol-targets = { officer = "carol", source = "key-file", public_key = "k9" }
online = { source = "online", public_key = "k6" }
online-ts = { source = "online", public_key = "k7" }

[roles.root]
keys = ["alice-root", "bob-root", "carol-root"]
threshold = 2
expires = "365d"
[roles.targets]
keys = ["alice-targets", "bob-targets", "carol-targets"]
threshold = 2
expires = "300d"
[roles.snapshot]
keys = ["online"]
[roles.timestamp]
keys = ["online-ts"]
"#;

    fn parse(text: &str) -> Result<Plan, PlanError> {
        Plan::parse(text, &mut resolver())
    }

    /// The error of a plan that must fail, with its causes, as the CLI shows it.
    fn fails(text: &str) -> String {
        let e = parse(text).unwrap_err();
        let mut s = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            s = format!("{s}: {c}");
            cause = c.source();
        }
        s
    }

    fn errors(p: &Plan) -> Vec<String> {
        p.check(Expires::parse("2026-01-01T00:00:00Z").unwrap())
            .into_iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| f.message)
            .collect()
    }

    /// A plan in the rstuf profile: two root officers and RSTUF's online key (`k6-uri`: key 6
    /// carrying its x-rstuf-online-key-uri) for targets, snapshot and timestamp.
    const RSTUF: &str = r#"
[ceremony]
format = 1
name = "rstuf ceremony"
profile = "rstuf"

[officers.alice]
name = "Alice"
[officers.bob]
name = "Bob"

[keys]
alice-root = { officer = "alice", source = "key-file", public_key = "k1" }
bob-root = { officer = "bob", source = "yubikey", yubikey = "12345678", public_key = "k2" }
online = { source = "online", public_key = "k6-uri" }

[roles.root]
keys = ["alice-root", "bob-root"]
threshold = 2
expires = "365d"
[roles.targets]
keys = ["online"]
[roles.snapshot]
keys = ["online"]
[roles.timestamp]
keys = ["online"]
"#;

    fn parse_rstuf(text: &str) -> Result<Plan, PlanError> {
        Plan::parse(text, &mut |p: &str| -> Result<Key, Cause> {
            match p.strip_suffix("-uri") {
                Some(n) => Ok(crate::ceremony::rstuf::with_online_key_uri(
                    &resolver()(n)?,
                    "fn:online",
                    Some("online"),
                )?),
                None => resolver()(p),
            }
        })
    }

    /// RSTUF's bootstrap settings from a plan: its periods, RSTUF's bins without [pypi], and
    /// PEP 480's roles as custom delegations with x-rstuf-expire-policy with it.
    #[test]
    fn rstuf_settings_come_from_the_plan() {
        use crate::ceremony::rstuf::{Settings, SettingsError, TargetsLayout};
        let now = Expires::parse("2026-01-01T00:00:00Z").unwrap();
        let p = parse_rstuf(RSTUF).unwrap();
        let s = Settings::from_plan(&p, now).unwrap();
        let periods: Vec<(&str, i64)> =
            s.expiration.iter().map(|(r, d)| (r.as_str(), *d)).collect();
        assert_eq!(
            periods,
            [
                ("root", 365),
                ("targets", 365),
                ("snapshot", 1),
                ("timestamp", 1)
            ]
        );
        assert_eq!(
            s.layout,
            TargetsLayout::Bins {
                expiration: 1,
                count: 256
            }
        );
        let claimed_keys = [
            "online = { source = \"online\", public_key = \"k6-uri\" }",
            "alice-claimed = { officer = \"alice\", source = \"key-file\", public_key = \"k3\" }",
            "bob-claimed = { officer = \"bob\", source = \"key-file\", public_key = \"k4\" }",
        ];
        let pypi = [
            "[pypi]",
            "bins = 256",
            "[pypi.claimed]",
            "keys = [\"alice-claimed\", \"bob-claimed\"]",
            "threshold = 2",
            "expires = \"2026-03-01\"",
            "[pypi.recently-claimed]",
            "keys = [\"online\"]",
            "[pypi.unclaimed]",
            "keys = [\"online\"]",
            "expires = \"2d\"",
        ];
        let with_pypi =
            RSTUF.replace(claimed_keys[0], &claimed_keys.join("\n")) + &pypi.join("\n") + "\n";
        let p = parse_rstuf(&with_pypi).unwrap();
        assert_eq!(errors(&p), Vec::<String>::new());
        let s = Settings::from_plan(&p, now).unwrap();
        let TargetsLayout::Custom(d) = &s.layout else {
            panic!("{:?}", s.layout)
        };
        let v = crate::cjson::to_canonical(&s.to_value());
        let text = String::from_utf8(v).unwrap();
        assert!(
            !text.contains("\"bins\"") && text.contains("\"delegations\""),
            "{text}"
        );
        let crate::metadata::DelegationRoles::List(roles) = &d.roles else {
            panic!("succinct")
        };
        let got: Vec<(&str, u32, usize, bool)> = roles
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.threshold.get(),
                    r.keyids.len(),
                    r.terminating == Some(false),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("claimed", 2, 2, true),
                ("recently-claimed", 1, 1, true),
                ("unclaimed", 1, 1, true)
            ]
        );
        // 2026-01-01 to 2026-03-01 is 59 days; recently-claimed takes the online default.
        for (role, days) in [("claimed", 59), ("recently-claimed", 1), ("unclaimed", 2)] {
            assert!(
                text.contains(&format!("\"name\":\"{role}\",\"paths\":[\"*\",\"*/*\"]")),
                "{text}"
            );
            let r = roles.iter().find(|r| r.name.as_str() == role).unwrap();
            assert_eq!(
                r.extra.get(crate::ceremony::rstuf::EXPIRE_POLICY),
                Some(&crate::cjson::Value::Int(days)),
                "{role}"
            );
        }
        let online = p.keys["online"].key.keyid();
        assert_eq!(s.offline_delegations(&online), ["claimed"]);
        assert_eq!(s.online_key, Some(online));
        // A period already over, and a plan in the other profile, are refused.
        let past = with_pypi.replace("expires = \"2026-03-01\"", "expires = \"2025-12-01\"");
        assert!(matches!(
            Settings::from_plan(&parse_rstuf(&past).unwrap(), now),
            Err(SettingsError::Period { role, .. }) if role == "claimed"
        ));
        let mut pep = parse_rstuf(RSTUF).unwrap();
        pep.profile = Profile::Pep458;
        assert!(matches!(
            Settings::from_plan(&pep, now),
            Err(SettingsError::NotRstuf { .. })
        ));
    }

    #[test]
    fn the_rstuf_profile_runs_what_rstuf_runs_and_says_what_it_gives_up() {
        let p = parse_rstuf(RSTUF).unwrap();
        assert_eq!(p.profile, Profile::Rstuf);
        assert_eq!(errors(&p), Vec::<String>::new());
        let all = p.check(Expires::parse("2026-01-01T00:00:00Z").unwrap());
        assert!(
            all.iter()
                .any(|f| f.level == Level::Warning && f.message.contains("#244")),
            "{all:?}"
        );
        // The same layout for PEP 458: targets is offline there, so it needs an expiry, and
        // online keys for it are refused.
        let pep458 = RSTUF.replace("profile = \"rstuf\"", "profile = \"pep458\"");
        assert!(parse_rstuf(&pep458).is_err());
        let p = parse_rstuf(&pep458.replace(
            "[roles.targets]\nkeys = [\"online\"]",
            "[roles.targets]\nkeys = [\"online\"]\nexpires = \"300d\"",
        ))
        .unwrap();
        assert!(
            errors(&p)
                .iter()
                .any(|e| e.contains("role targets: must be signed with offline keys")),
            "{:?}",
            errors(&p)
        );
        assert!(
            fails(&RSTUF.replace("profile = \"rstuf\"", "profile = \"tuf\""))
                .contains("ceremony.profile: \"tuf\" is not a profile")
        );
    }

    #[test]
    fn the_rstuf_profile_refuses_plans_rstuf_cannot_run_with_the_reason() {
        // PEP 458's layout (offline targets, distinct online keys, no URI) in the rstuf profile.
        let p = parse(&GOOD.replace(
            "name = \"test ceremony\"",
            "name = \"test ceremony\"\nprofile = \"rstuf\"",
        ))
        .unwrap();
        let e = errors(&p);
        for want in [
            "role targets: 3 key(s) with threshold 2; RSTUF 1.0 signs it with its one online key",
            "role snapshot: key \"online\" is not RSTUF's online key (timestamp's \"online-ts\")",
            "key \"online-ts\": its public key file k7 carries no usable x-rstuf-online-key-uri",
        ] {
            assert!(e.iter().any(|m| m.contains(want)), "{want}: {e:?}");
        }
        // An officer's key as the online key, and too many bins for RSTUF.
        let text = RSTUF
            .replace(
                "online = { source = \"online\", public_key = \"k6-uri\" }",
                "online = { officer = \"alice\", source = \"key-file\", public_key = \"k6-uri\" }",
            )
            .replace(
                "[roles.targets]",
                "[pypi]\nbins = 32768\n[pypi.claimed]\nkeys = [\"alice-root\"]\nexpires = \"90d\"\n\
                 [pypi.recently-claimed]\nkeys = [\"online\"]\n[pypi.unclaimed]\nkeys = \
                 [\"online\"]\n[roles.targets]",
            );
        let p = parse_rstuf(&text).unwrap();
        let e = errors(&p);
        for want in [
            "key \"online\": RSTUF's online key must have source = \"online\"",
            "pypi.bins: 32768 hash bins; RSTUF 1.0 runs at most 16,384",
        ] {
            assert!(e.iter().any(|m| m.contains(want)), "{want}: {e:?}");
        }
    }

    #[test]
    fn a_good_plan_passes() {
        let p = parse(GOOD).unwrap();
        assert_eq!(p.keys.len(), 8);
        assert_eq!(p.roles["root"].threshold, 2);
        assert_eq!(errors(&p), Vec::<String>::new());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let bad = GOOD.replace(
            "threshold = 2\nexpires = \"365d\"",
            "treshold = 2\nexpires = \"365d\"",
        );
        let e = fails(&bad);
        assert!(e.contains("unknown field \"treshold\""), "{e}");
    }

    #[test]
    fn root_threshold_below_policy_is_an_error() {
        let p = parse(&GOOD.replace(
            "threshold = 2\nexpires = \"365d\"",
            "threshold = 1\nexpires = \"365d\"",
        ))
        .unwrap();
        assert!(errors(&p).iter().any(|e| e.contains("below the policy")));
    }

    #[test]
    fn threshold_equal_to_keys_is_a_warning() {
        let p = parse(&GOOD.replace(
            "threshold = 2\nexpires = \"300d\"",
            "threshold = 3\nexpires = \"300d\"",
        ))
        .unwrap();
        let f = p.check(Expires::parse("2026-01-01T00:00:00Z").unwrap());
        assert!(
            f.iter()
                .any(|f| f.level == Level::Warning && f.message.contains("one lost key"))
        );
    }

    #[test]
    fn key_reuse_across_roles_is_refused_unless_allowed() {
        let reuse = GOOD.replace("public_key = \"k9\"", "public_key = \"k3\"");
        let p = parse(&reuse).unwrap();
        assert!(
            errors(&p).iter().any(|e| e.contains("same key")),
            "{:?}",
            errors(&p)
        );
        let same_name = GOOD.replace(
            "keys = [\"alice-targets\", \"bob-targets\", \"carol-targets\"]",
            "keys = [\"alice-targets\", \"bob-targets\", \"carol-root\"]",
        );
        let p = parse(&same_name).unwrap();
        assert!(errors(&p).iter().any(|e| e.contains("several roles")));
        let allowed = same_name.replace(
            "[officers.alice]",
            "[policy]\nallow_key_reuse = true\n\n[officers.alice]",
        );
        let p = parse(&allowed).unwrap();
        assert!(!errors(&p).iter().any(|e| e.contains("several roles")));
    }

    #[test]
    fn roles_signed_only_online_have_no_re_signing_window() {
        let offline = parse(GOOD).unwrap().signing_periods();
        assert_eq!(offline.of("targets"), 60);
        let online_targets = GOOD.replace(
            "keys = [\"alice-targets\", \"bob-targets\", \"carol-targets\"]\nthreshold = 2",
            "keys = [\"online\"]\nthreshold = 1",
        );
        let p = parse(&online_targets).unwrap();
        assert_eq!(p.signing_periods().of("targets"), 0);
        assert_eq!(p.signing_periods().of("root"), 60);
        // A window the plan names is kept, online or not.
        let named = parse(&online_targets.replace(
            "[officers.alice]",
            "[policy]\nsigning_period_days = { targets = 10 }\n\n[officers.alice]",
        ))
        .unwrap();
        assert_eq!(named.signing_periods().of("targets"), 10);
    }

    #[test]
    fn new_keys_must_sign_is_on_unless_the_plan_turns_it_off() {
        assert!(parse(GOOD).unwrap().policy.new_keys_must_sign);
        let off = parse(&GOOD.replace(
            "[officers.alice]",
            "[policy]\nnew_keys_must_sign = false\n\n[officers.alice]",
        ))
        .unwrap();
        assert!(!off.policy.new_keys_must_sign);
    }

    #[test]
    fn signing_periods_come_from_the_policy_over_the_defaults() {
        let p = parse(&GOOD.replace(
            "[officers.alice]",
            "[policy]\nsigning_period_days = { root = 90, other = 14 }\n\n[officers.alice]",
        ))
        .unwrap();
        let periods = p.policy.signing_periods();
        assert_eq!(periods.of("root"), 90);
        assert_eq!(periods.of("targets"), 60, "the default stays");
        assert_eq!(periods.of("some-project"), 14);
        let bad = GOOD.replace(
            "[officers.alice]",
            "[policy]\nsigning_period_days = { rooot = 90 }\n\n[officers.alice]",
        );
        assert!(
            parse(&bad).is_err(),
            "an unknown role is refused, not ignored"
        );
    }

    #[test]
    fn expiry_beyond_pep_458_is_an_error() {
        let p = parse(&GOOD.replace("\"365d\"", "\"800d\"")).unwrap();
        assert!(errors(&p).iter().any(|e| e.contains("beyond the policy")));
    }

    #[test]
    fn online_keys_cannot_sign_root() {
        let p = parse(&GOOD.replace(
            "keys = [\"alice-root\", \"bob-root\", \"carol-root\"]",
            "keys = [\"alice-root\", \"bob-root\", \"online\"]",
        ))
        .unwrap();
        assert!(errors(&p).iter().any(|e| e.contains("offline keys")));
    }

    #[test]
    fn undefined_keys_and_officers_are_named() {
        let e = fails(&GOOD.replace("keys = [\"online\"]", "keys = [\"nope\"]"));
        assert!(e.contains("\"nope\" is not defined"), "{e}");
        let e = fails(&GOOD.replace(
            "officer = \"bob\", source = \"key-file\", public_key = \"k2\"",
            "officer = \"bobby\", source = \"key-file\", public_key = \"k2\"",
        ));
        assert!(e.contains("\"bobby\" is not listed"), "{e}");
        let e = fails(&GOOD.replace("\"k2\"", "\"missing\""));
        assert!(
            e.contains("keys.bob-root.public_key: missing: no such file"),
            "{e}"
        );
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let e = fails("[ceremony\nformat = 1");
        assert!(e.contains("line 1"), "{e}");
        let e = fails(&GOOD.replace("format = 1", "format = 2"));
        assert!(e.contains("plan format 1"), "{e}");
    }
}
