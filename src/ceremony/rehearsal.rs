//! `conclave ceremony rehearse`: a complete simulated ceremony on a built-in example.
//!
//! Three root officers (alice, bob, carol) derive their root keys from built-in rehearsal
//! passphrases; they also hold key files for targets and for PEP 480's claimed role. The
//! rehearsal runs, in one process and exactly as officers would at the table:
//!
//! 1. a plan, checked against the policy;
//! 2. genesis from the plan: root v1 (2 of 3) and targets v1 with the PyPI layout, each
//!    officer answering with a detached signature file, merged only after verification;
//! 3. a batch claim of sample projects into claimed v1, signed by two admins;
//! 4. a root rotation planned before anyone signs: carol leaves, dave joins (root v2);
//! 5. a key revocation: bob's root key is compromised; `conclave revoke`'s planner finds
//!    every role that trusts it and drafts root v3 without it, enrolling bob's new key; a
//!    signature by the compromised key alone reaches no threshold;
//! 6. verification of everything, an export bundle (verified again), and the transcript with
//!    a head signature.
//!
//! Every artifact is marked as rehearsal material: the passphrases are printed in this
//! source, so the keys protect nothing. Metadata carries an `x-conclave-rehearsal` field.

mod real_plan;

pub use real_plan::run_plan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ceremony::genesis::{self, Drafts};
use crate::ceremony::plan::Plan;
use crate::ceremony::transcript::{self, Entry, Transcript};
use crate::ceremony::{self, DetachedSignature, export};
use crate::cjson::{self, Map, Value};
use crate::kdf::RFC9106_64MIB;
use crate::keystore::{self, KeyFile, KeyType};
use crate::metadata::{AnyMetadata, Expires, Key, KeyId, Metadata, Root};
use crate::secret::Passphrase;
use crate::signer::{Ed25519Signer, Signer};
use crate::verify::{self, InputFile};

/// The field that marks every piece of rehearsal metadata.
pub(crate) const MARK_FIELD: &str = "x-conclave-rehearsal";
/// The text of the mark: the rehearsal keys come from passphrases printed in this source,
/// so anyone can sign as them; its output must never be deployed.
pub(crate) const MARK: &str =
    "REHEARSAL MATERIAL: signed with keys from published passphrases; never deploy";

/// The domain of the rehearsal's derived-key identities.
const DOMAIN: &str = "rehearsal.conclave.invalid";

/// Officers and their built-in rehearsal passphrases (printed here, so worthless).
const OFFICERS: [(&str, &str, &str); 4] = [
    (
        "alice",
        "Alice (rehearsal)",
        "abacus abdomen abdominal abide abiding ability ablaze able",
    ),
    (
        "bob",
        "Bob (rehearsal)",
        "acid acorn acre acrobat acronym acting action activate",
    ),
    (
        "carol",
        "Carol (rehearsal)",
        "backing backlit backpack backside backspin backstab backstage backtalk",
    ),
    (
        "dave",
        "Dave (rehearsal)",
        "zealous zebra zen zero zesty zigzag zipfile zipping",
    ),
];
/// bob's replacement root key after the revocation.
const BOB_NEW: &str = "cabbage cabdriver cabin cable caboose cacti cactus cadet";

/// Sample projects claimed in the rehearsal (PEP 503 names), each with one developer key.
const PROJECTS: [&str; 5] = ["sampleproject", "requests", "numpy", "django", "attrs"];

/// A line of progress for the officer watching the rehearsal.
pub enum Event<'a> {
    /// A new step begins: its title.
    Step(&'a str),
    /// A detail of the current step: a file written, a signature made, a check passed.
    Detail(String),
}

/// What the rehearsal produced.
#[derive(Debug)]
pub struct Outcome {
    /// The rehearsal directory.
    pub dir: PathBuf,
    /// The export bundle's directory, inside `dir`.
    pub bundle: PathBuf,
    /// How many root versions the repository has (genesis, rotation, revocation).
    pub root_versions: u64,
    /// How many sample projects were claimed into claimed v1.
    pub claimed_projects: usize,
    /// The transcript's last sequence number.
    pub transcript_lines: u64,
    /// The hash of the transcript's last line (the record of the head signature).
    pub transcript_head: String,
}

type Say<'a> = &'a mut dyn FnMut(Event<'_>);

/// The cause of a failure in a step the rehearsal builds on (key derivation, the plan, genesis,
/// a claim, signing, the transcript), whatever error type that step uses.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why the rehearsal stopped. Each message names the step or file; the cause, where there
/// is one, is the `source`.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    #[error(
        "{}: already exists and is not empty; a rehearsal always starts in a new directory",
        crate::display::escape(&.path.display().to_string())
    )]
    /// The rehearsal directory exists and holds files; a rehearsal never mixes with them.
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// Reading or writing a file or directory failed.
    #[error("{}", crate::display::escape(&.path.display().to_string()))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A function the rehearsal calls failed.
    #[error("{step}")]
    Step {
        /// What was being done: "derive key bob-root", "genesis", "sign root v1".
        step: String,
        /// The failure.
        #[source]
        source: Cause,
    },
    /// A key file just written does not unlock to the public key it was made for.
    #[error("keys/{name}.key does not unlock to its own public key")]
    KeyMismatch {
        /// The key's name.
        name: String,
    },
    /// A key the rehearsal names has no signer (a bug in the rehearsal script).
    #[error("no signer for {name}")]
    NoSigner {
        /// The key's name.
        name: String,
    },
    /// [`crate::ceremony::merge`] refused signature files.
    #[error("{role}: {reasons}")]
    Rejected {
        /// The role being signed.
        role: String,
        /// Each refused file with its reason, joined by "; ".
        reasons: String,
    },
    /// The merged signatures do not meet every threshold the role needs.
    #[error("{role}: the threshold is not met after merging")]
    BelowThreshold {
        /// The role being signed.
        role: String,
    },
    /// The rehearsal's plan has policy errors.
    #[error("{file}: the plan fails its policy ({errors} error(s))")]
    PolicyFails {
        /// The plan file.
        file: String,
        /// How many findings are errors.
        errors: usize,
    },
    /// The rehearsal's claim requests do not parse.
    #[error("{file}: {reasons}")]
    ClaimRequests {
        /// The requests file.
        file: String,
        /// Each bad line's reason, joined by "; ".
        reasons: String,
    },
    /// Metadata the rehearsal expects to be a root is of another type.
    #[error("{file} is not a root")]
    NotARoot {
        /// The file.
        file: String,
    },
    /// The revocation planner found the revocation cannot be done as asked.
    #[error("revoke: {}", .blockers.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    RevokeBlocked {
        /// The plan's blockers.
        blockers: Vec<crate::ceremony::revoke::Blocker>,
    },
    /// The revocation of a root key drafted no new root.
    #[error("revoke drafted no new root")]
    RevokeNoRoot,
    /// The revocation drafted more than the new root, which the example does not need.
    #[error("revoke drafted {count} files; the rehearsal expects only the root")]
    RevokeTooMany {
        /// How many drafts it made.
        count: usize,
    },
    /// The revocation's draft for root holds metadata of another type.
    #[error("revoke's root draft is not a root")]
    RevokeDraftNotRoot,
    /// The attack the revocation must stop worked: the stolen key alone met a threshold.
    #[error("the compromised key's signature alone met a threshold")]
    CompromisedKeyCounted,
    /// The rehearsal's repository does not verify with the client rules.
    #[error("{dir}: does not verify: {problems}")]
    Unverified {
        /// The directory.
        dir: String,
        /// Each problem as "file: message", joined by "; ".
        problems: String,
    },
    /// The export bundle, read back, does not verify.
    #[error("bundle/: the exported bundle does not verify")]
    BundleUnverified,
    /// The transcript has no lines after the head was signed.
    #[error("the transcript is empty")]
    EmptyTranscript,
}

/// `step`, as context for a failure in a function the rehearsal calls.
fn step<E: Into<Cause>>(step: impl Into<String>) -> impl FnOnce(E) -> RehearsalError {
    let step = step.into();
    move |e| RehearsalError::Step {
        step,
        source: e.into(),
    }
}

type Result<T, E = RehearsalError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RehearsalError {
    let path = path.to_path_buf();
    move |source| RehearsalError::Io { path, source }
}

struct Rehearsal<'a> {
    dir: PathBuf,
    say: Say<'a>,
    now: Expires,
    ctx: transcript::Context,
    /// Officer signers by plan key name, unlocked once (the rehearsal plays every officer).
    signers: BTreeMap<String, Box<dyn Signer>>,
    /// Each officer key's rehearsal passphrase, by plan key name, for
    /// [`PASSPHRASES_FILE`].
    passphrases: BTreeMap<String, String>,
}

/// The rehearsal officers' passphrases, under `keys/`: one line `KEYNAME PASSPHRASE` per key
/// (a derived key's identity is `rehearsal.conclave.invalid/root/KEYNAME`; a key file is
/// `keys/KEYNAME.key`), so anyone can go on signing with the rehearsal's keys. They are
/// published rehearsal material, printed in conclave's source.
pub const PASSPHRASES_FILE: &str = "keys/REHEARSAL-PASSPHRASES.txt";

fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("conclave rehearsal/{label}").as_bytes()).into()
}

fn mark(extra: &mut Map) {
    extra.insert(MARK_FIELD.into(), MARK.into());
}

impl<'a> Rehearsal<'a> {
    /// A rehearsal in `dir`, as of now, with no keys yet.
    fn new(dir: &Path, say: Say<'a>) -> Self {
        Rehearsal {
            dir: dir.to_path_buf(),
            say,
            now: Expires::now(),
            ctx: transcript::Context::current(),
            signers: BTreeMap::new(),
            passphrases: BTreeMap::new(),
        }
    }
}

impl Rehearsal<'_> {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn step(&mut self, title: &str) {
        (self.say)(Event::Step(title));
    }

    fn detail(&mut self, line: String) {
        (self.say)(Event::Detail(line));
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let p = self.path(rel);
        crate::fsutil::write_atomic(&p, bytes).map_err(io(&p))
    }

    fn sha(&self, rel: &str) -> Result<(String, String)> {
        let p = self.path(rel);
        let d = transcript::file_sha256(&p).map_err(step("transcript"))?;
        Ok((rel.to_owned(), d))
    }

    fn record(
        &mut self,
        step_name: &str,
        inputs: &[&str],
        outputs: &[&str],
        keyids: Vec<String>,
        note: Option<String>,
    ) -> Result<()> {
        let entry = Entry {
            step: step_name.to_owned(),
            officer: None,
            inputs: inputs.iter().map(|r| self.sha(r)).collect::<Result<_>>()?,
            outputs: outputs.iter().map(|r| self.sha(r)).collect::<Result<_>>()?,
            keyids,
            note,
        };
        let mut ctx = self.ctx.clone();
        ctx.time = Expires::now();
        Transcript::append_with(&self.dir, entry, &ctx).map_err(step("transcript"))?;
        Ok(())
    }

    fn public(&self, name: &str, key: &Key) -> Result<String> {
        let rel = format!("keys/{name}.pub.json");
        self.write(&rel, &cjson::to_pretty(&key.to_value()))?;
        Ok(rel)
    }

    /// A derived root key: Argon2id with 2 GiB, as at a real ceremony.
    fn derive(&mut self, name: &str, officer: &str, passphrase: &str) -> Result<String> {
        let identity = format!("{DOMAIN}/root/{name}");
        self.detail(format!(
            "{officer} derives key {name} from their passphrase (identity {identity}; Argon2id, 2 GiB)"
        ));
        let s = crate::signer::derived::derive(&identity, &Passphrase::new(passphrase.into()))
            .map_err(step(format!("derive key {name}")))?;
        let rel = self.public(name, s.public_key())?;
        self.signers.insert(name.to_owned(), Box::new(s));
        self.note_passphrase(name, passphrase)?;
        Ok(rel)
    }

    /// Add a key's passphrase to [`PASSPHRASES_FILE`] (rewritten whole each time).
    fn note_passphrase(&mut self, name: &str, passphrase: &str) -> Result<()> {
        self.passphrases
            .insert(name.to_owned(), passphrase.to_owned());
        let mut text = String::from(
            "# REHEARSAL MATERIAL: the rehearsal officers' passphrases, published in conclave's\n\
             # source. Lines: KEYNAME PASSPHRASE. Never use these keys for anything real.\n",
        );
        for (k, p) in &self.passphrases {
            text.push_str(&format!("{k} {p}\n"));
        }
        self.write(PASSPHRASES_FILE, text.as_bytes())
    }

    /// A key file (Argon2id 64 MiB profile, the rehearsal passphrase), unlocked once.
    fn key_file(&mut self, name: &str, passphrase: &str) -> Result<String> {
        let ctx = format!("keys/{name}.key");
        let pass = Passphrase::new(passphrase.into());
        let secret = keystore::generate_secret(KeyType::Ed25519).map_err(step(ctx.clone()))?;
        let (bytes, public) = keystore::seal(KeyType::Ed25519, &secret, RFC9106_64MIB, &pass)
            .map_err(step(ctx.clone()))?;
        let p = self.path(&format!("keys/{name}.key"));
        crate::fsutil::create_new_private(&p, &bytes).map_err(io(&p))?;
        let kf = KeyFile::parse(&bytes).map_err(step(ctx.clone()))?;
        let signer = kf.signer(&pass).map_err(step(ctx.clone()))?;
        if signer.public_key() != &public {
            return Err(RehearsalError::KeyMismatch {
                name: name.to_owned(),
            });
        }
        self.signers.insert(name.to_owned(), signer);
        self.note_passphrase(name, passphrase)?;
        self.public(name, &public)
    }

    /// Every named key signs `md`; each signature is written as a detached file.
    fn sign_all(
        &mut self,
        md: &AnyMetadata,
        role: &str,
        stem: &str,
        keys: &[&str],
    ) -> Result<Vec<(String, DetachedSignature)>> {
        let mut out = Vec::new();
        for k in keys {
            let signer = self
                .signers
                .get(*k)
                .ok_or_else(|| RehearsalError::NoSigner {
                    name: (*k).to_owned(),
                })?;
            let d = ceremony::sign_detached(md, role, signer.as_ref(), None)
                .map_err(step(format!("{k} signs {role}")))?;
            let rel = format!("signatures/{stem}.{k}.sig");
            self.write(&rel, &d.to_bytes())?;
            self.detail(format!(
                "{k} signs {role} v{} -> {rel}",
                md.common().version
            ));
            out.push((rel, d));
        }
        Ok(out)
    }

    /// Merge detached signatures after checking each one; write the result to `out`.
    fn merge(
        &mut self,
        md: &AnyMetadata,
        role: &str,
        sigs: &[(String, DetachedSignature)],
        previous: Option<&Metadata<Root>>,
        delegator: Option<&AnyMetadata>,
        out: &str,
    ) -> Result<AnyMetadata> {
        let auths = ceremony::authorities(md, role, previous, delegator)
            .map_err(step(format!("{role}: who may sign")))?;
        let outcome =
            ceremony::merge(md, role, sigs, &auths).map_err(|rej| RehearsalError::Rejected {
                role: role.to_owned(),
                reasons: rej
                    .iter()
                    .map(|r| format!("{}: {}", r.file, r.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
        if !outcome.complete() {
            return Err(RehearsalError::BelowThreshold {
                role: role.to_owned(),
            });
        }
        for r in &outcome.reports {
            self.detail(format!(
                "{role} v{}: {} valid signature(s), {} needed ({})",
                md.common().version,
                r.valid.len(),
                r.threshold,
                r.keys_from
            ));
        }
        let mut merged = md.clone();
        outcome.apply(&mut merged);
        self.write(out, &merged.to_file_bytes())?;
        let inputs: Vec<&str> = sigs.iter().map(|(f, _)| f.as_str()).collect();
        let keyids = outcome
            .added
            .iter()
            .map(|(k, _)| k.to_raw_string())
            .collect();
        self.record(
            &format!("merge {role} v{}", md.common().version),
            &inputs,
            &[out],
            keyids,
            None,
        )?;
        Ok(merged)
    }

    fn load_plan(&self, rel: &str) -> Result<Plan> {
        let text = std::fs::read_to_string(self.path(rel)).map_err(io(&self.path(rel)))?;
        let dir = self.dir.clone();
        Plan::parse(&text, &mut |p: &str| {
            let bytes = std::fs::read(dir.join(p)).map_err(|e| format!("{p}: {e}"))?;
            let v = cjson::parse(&bytes).map_err(|e| format!("{p}: {e}"))?;
            Key::from_json(v).map_err(|e| format!("{p}: {e}"))
        })
        .map_err(step(rel))
    }

    fn check_plan(&mut self, plan: &Plan, rel: &str) -> Result<()> {
        let findings = plan.check(self.now);
        for f in &findings {
            self.detail(format!("{}: {}", f.level.word(), f.message));
        }
        let errors = findings
            .iter()
            .filter(|f| f.level == crate::ceremony::plan::Level::Error)
            .count();
        if errors > 0 {
            return Err(RehearsalError::PolicyFails {
                file: rel.to_owned(),
                errors,
            });
        }
        self.record(
            &format!("ceremony check {rel}: policy holds"),
            &[rel],
            &[],
            vec![],
            None,
        )
    }
}

/// A rehearsal plan's text for these root keys (and retired ones).
type PlanText = fn(&[&str], &[&str]) -> String;

fn plan_text(root_keys: &[&str], retired: &[&str]) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "# REHEARSAL plan written by `conclave ceremony rehearse`. {MARK}\n\
         [ceremony]\nformat = 1\nname = \"conclave rehearsal (PyPI layout)\"\nrehearsal = true\n\n"
    ));
    for (id, name, _) in OFFICERS {
        // Only officers holding a key in this plan (dave joins at the rotation).
        if id == "dave" && !root_keys.contains(&"dave-root") {
            continue;
        }
        t.push_str(&format!("[officers.{id}]\nname = \"{name}\"\n"));
    }
    t.push('\n');
    let derived: Vec<(&str, &str)> = vec![
        ("alice-root", "alice"),
        ("bob-root", "bob"),
        ("carol-root", "carol"),
        ("dave-root", "dave"),
    ];
    for (k, officer) in derived {
        if !root_keys.contains(&k) && !retired.contains(&k) {
            continue;
        }
        t.push_str(&format!(
            "[keys.{k}]\nofficer = \"{officer}\"\nsource = \"derived\"\nidentity = \"{DOMAIN}/root/{k}\"\npublic_key = \"keys/{k}.pub.json\"\n"
        ));
        if retired.contains(&k) {
            t.push_str("retired = true\n");
        }
        t.push('\n');
    }
    for officer in ["alice", "bob", "carol"] {
        for role in ["targets", "claimed"] {
            t.push_str(&format!(
                "[keys.{officer}-{role}]\nofficer = \"{officer}\"\nsource = \"key-file\"\nkey_file = \"keys/{officer}-{role}.key\"\npublic_key = \"keys/{officer}-{role}.pub.json\"\n\n"
            ));
        }
    }
    for online in ["timestamp", "snapshot", "recently-claimed", "unclaimed"] {
        t.push_str(&format!(
            "[keys.online-{online}]\nsource = \"online\"\npublic_key = \"keys/online-{online}.pub.json\"\n\n"
        ));
    }
    let list = |v: &[&str]| {
        v.iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t.push_str(&format!(
        "[roles.root]\nkeys = [{}]\nthreshold = 2\nexpires = \"365d\"\n\n",
        list(root_keys)
    ));
    t.push_str(
        "[roles.targets]\nkeys = [\"alice-targets\", \"bob-targets\", \"carol-targets\"]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"online-snapshot\"]\n\n\
         [roles.timestamp]\nkeys = [\"online-timestamp\"]\n\n\
         [pypi]\nbins = 16384\n\n\
         [pypi.claimed]\nkeys = [\"alice-claimed\", \"bob-claimed\", \"carol-claimed\"]\nthreshold = 2\nexpires = \"90d\"\n\n\
         [pypi.recently-claimed]\nkeys = [\"online-recently-claimed\"]\n\n\
         [pypi.unclaimed]\nkeys = [\"online-unclaimed\"]\n",
    );
    t
}

const README: &str = "\
REHEARSAL MATERIAL - made by `conclave ceremony rehearse`.

Every key here comes from a passphrase printed in conclave's source code, or from a key file
whose passphrase is printed there too. Nothing here protects anything. Never copy any of it
to a real repository.

What is here:
  plan.toml, plan-v2.toml   the ceremony plans (genesis, rotation)
  keys/          public keys (*.pub.json), rehearsal key files (*.key) and
                 REHEARSAL-PASSPHRASES.txt (KEYNAME PASSPHRASE per officer key, to go on
                 signing with them: --key keys/KEYNAME.key, or --derive
                 rehearsal.conclave.invalid/root/KEYNAME for a root key)
  drafts/        the unsigned drafts each signing round started from (the requests)
  signatures/    one detached signature file per officer and draft (the responses)
  claims/        the batch of claim requests (JSON Lines)
  repository/    the signed metadata: 1-3.root.json, 1.targets.json, 1.claimed.json
  bundle/        the export for the online repository (SHA256SUMS, SUMMARY.txt)
  transcript.jsonl          the hash-chained record of every step
  transcript-head.alice.sig alice's signature over the transcript's head

With --online rstuf (profile rstuf): repository/ holds 1-2.root.json only (RSTUF makes its own
targets, snapshot and timestamp), bundle/rstuf/ the bootstrap and update payloads, and
rstuf-online-keys/online the online private key RSTUF's worker signs with
(RSTUF_ONLINE_KEY_DIR=DIR/rstuf-online-keys; the root names it fn:online).

Try:
  conclave verify DIR/bundle
  conclave transcript verify DIR --head-sig DIR/transcript-head.alice.sig
  conclave transcript print DIR
  conclave inspect DIR/repository/3.root.json
";

/// Run the rehearsal into `dir`, which must not exist or be empty.
///
/// The steps are the ceremony's own, in its order; each one records itself in the
/// transcript as it goes, so a rehearsal that stops half-way still shows how far it got.
pub fn run(dir: &Path, say: Say<'_>) -> Result<Outcome> {
    prepare(dir)?;
    let mut r = Rehearsal::new(dir, say);
    r.begin()?;
    r.generate_keys()?;
    let (root1, targets1) = r.genesis()?;
    r.claim(&targets1)?;
    let root2 = r.rotate_root(&root1, plan_text)?;
    r.revoke_compromised_key(&root2)?;
    let bundle = r.verify_and_export(export::Format::Plain)?;
    let (transcript_lines, transcript_head) = r.sign_transcript_head()?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        bundle,
        root_versions: 3,
        claimed_projects: PROJECTS.len(),
        transcript_lines,
        transcript_head,
    })
}

/// A rehearsal never mixes with earlier files: `dir` must be new or empty.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty {
            return Err(RehearsalError::NotEmpty {
                path: dir.to_path_buf(),
            });
        }
    }
    for sub in ["keys", "drafts", "signatures", "claims", "repository"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(io(&dir.join(sub)))?;
    }
    Ok(())
}

impl Rehearsal<'_> {
    /// The README marking the directory as rehearsal material, and the air-gap check:
    /// a rehearsal runs anywhere, so the check is reported and recorded, never enforced.
    fn begin(&mut self) -> Result<()> {
        self.write("REHEARSAL-README.txt", README.as_bytes())?;
        self.record(
            "rehearsal begins",
            &["REHEARSAL-README.txt"],
            &[],
            vec![],
            Some(MARK.into()),
        )?;
        let airgap = crate::airgap::check();
        self.step("Air-gap check (reported; a real ceremony refuses to go on)");
        for f in airgap.findings() {
            self.detail(f);
        }
        self.detail(airgap.summary());
        self.record("air-gap check", &[], &[], vec![], Some(airgap.summary()))
    }

    /// Three officers derive root keys and make key files for targets and claimed; the
    /// online roles' public keys come from fixed seeds (the online service is not played).
    fn generate_keys(&mut self) -> Result<()> {
        self.step("Key generation: three officers derive root keys and make key files");
        let mut made = Vec::new();
        for (id, _, pass) in &OFFICERS[..3] {
            made.push(self.derive(&format!("{id}-root"), id, pass)?);
            for role in ["targets", "claimed"] {
                made.push(self.key_file(&format!("{id}-{role}"), &format!("{pass} {role}"))?);
            }
        }
        for online in ["timestamp", "snapshot", "recently-claimed", "unclaimed"] {
            let s = Ed25519Signer::from_seed(&seed(&format!("online/{online}")));
            made.push(self.public(&format!("online-{online}"), s.public_key())?);
        }
        let made_refs: Vec<&str> = made.iter().map(String::as_str).collect();
        let ids: Vec<String> = self
            .signers
            .values()
            .map(|s| s.public_key().keyid().to_raw_string())
            .collect();
        self.record(
            "keys generated (derived root keys, key files, online public keys)",
            &[],
            &made_refs,
            ids,
            None,
        )
    }

    /// Root v1, targets v1 and (with the PyPI layout) unclaimed v1 drafted from `plan`,
    /// marked as rehearsal material, written under drafts/ and recorded in the transcript.
    pub(super) fn draft_genesis(&mut self, plan: &Plan) -> Result<(AnyMetadata, AnyMetadata)> {
        let Drafts {
            mut root,
            mut targets,
            unclaimed,
        } = genesis::draft(plan, self.now).map_err(step("genesis from plan.toml"))?;
        mark(&mut root.extra);
        mark(&mut targets.extra);
        let root1 = AnyMetadata::Root(Metadata::new(root));
        let targets1 = AnyMetadata::Targets(Metadata::new(targets));
        self.write("drafts/1.root.json", &root1.to_file_bytes())?;
        self.write("drafts/1.targets.json", &targets1.to_file_bytes())?;
        let mut outs = vec!["drafts/1.root.json", "drafts/1.targets.json"];
        if let Some(mut u) = unclaimed {
            mark(&mut u.extra);
            self.write("drafts/1.unclaimed.json", &Metadata::new(u).to_file_bytes())?;
            outs.push("drafts/1.unclaimed.json");
        }
        self.record(
            "ceremony genesis from plan.toml",
            &["plan.toml"],
            &outs,
            vec![],
            None,
        )?;
        Ok((root1, targets1))
    }

    /// The genesis plan checked against its policy, then root v1 and targets v1 drafted
    /// from it, signed by detached signature files and merged only after verification.
    fn genesis(&mut self) -> Result<(AnyMetadata, AnyMetadata)> {
        self.step("Genesis plan: check the policy");
        self.write(
            "plan.toml",
            plan_text(&["alice-root", "bob-root", "carol-root"], &[]).as_bytes(),
        )?;
        let plan = self.load_plan("plan.toml")?;
        self.check_plan(&plan, "plan.toml")?;

        self.step("Genesis: draft root v1 and targets v1 (PyPI layout), sign, merge");
        let (root1, targets1) = self.draft_genesis(&plan)?;

        let root_keys = ["alice-root", "bob-root", "carol-root"];
        let sigs = self.sign_all(&root1, "root", "1.root", &root_keys)?;
        let root1 = self.merge(&root1, "root", &sigs, None, None, "repository/1.root.json")?;
        let sigs = self.sign_all(
            &targets1,
            "targets",
            "1.targets",
            &["alice-targets", "bob-targets"],
        )?;
        let targets1 = self.merge(
            &targets1,
            "targets",
            &sigs,
            None,
            Some(&root1),
            "repository/1.targets.json",
        )?;
        Ok((root1, targets1))
    }

    /// A batch of claim requests (one developer key per project) moves the sample projects
    /// into claimed v1 (PEP 480), signed by two claimed admins.
    fn claim(&mut self, targets1: &AnyMetadata) -> Result<()> {
        self.step("Claim: move sample projects into claimed v1 (PEP 480)");
        let lines = claim_requests();
        self.write("claims/batch-1.jsonl", lines.as_bytes())?;
        let requests =
            crate::pypi::parse_requests(&lines).map_err(|errs| RehearsalError::ClaimRequests {
                file: "claims/batch-1.jsonl".into(),
                reasons: errs
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
        let claimed_expires =
            crate::ceremony::plan::resolve_when("90d", self.now).map_err(step("claimed expiry"))?;
        let (mut claimed, review) = crate::pypi::claim(None, &requests, Some(claimed_expires))
            .map_err(step("pypi claim claims/batch-1.jsonl"))?;
        for l in review.lines(10) {
            self.detail(l);
        }
        mark(&mut claimed.extra);
        let claimed1 = AnyMetadata::Targets(Metadata::new(claimed));
        self.write("drafts/1.claimed.json", &claimed1.to_file_bytes())?;
        self.record(
            "pypi claim claims/batch-1.jsonl",
            &["claims/batch-1.jsonl"],
            &["drafts/1.claimed.json"],
            vec![],
            None,
        )?;
        let sigs = self.sign_all(
            &claimed1,
            "claimed",
            "1.claimed",
            &["alice-claimed", "carol-claimed"],
        )?;
        self.merge(
            &claimed1,
            "claimed",
            &sigs,
            None,
            Some(targets1),
            "repository/1.claimed.json",
        )?;
        Ok(())
    }

    /// Root v2, planned before anyone signs: carol leaves, dave joins. v1's keys and v2's
    /// both sign (spec 5.3.4).
    fn rotate_root(&mut self, root1: &AnyMetadata, plan: PlanText) -> Result<AnyMetadata> {
        self.step("Root rotation: carol leaves, dave joins (planned before signing)");
        self.derive("dave-root", "dave", OFFICERS[3].2)?;
        self.write(
            "plan-v2.toml",
            plan(&["alice-root", "bob-root", "dave-root"], &["carol-root"]).as_bytes(),
        )?;
        let plan2 = self.load_plan("plan-v2.toml")?;
        self.check_plan(&plan2, "plan-v2.toml")?;
        let root1m = as_root(root1, "repository/1.root.json")?;
        let rot = genesis::plan_rotation(&root1m.signed, &plan2, &BTreeSet::new(), self.now)
            .map_err(step("ceremony plan-rotation plan-v2.toml"))?;
        self.say_rotation(&rot);
        let mut next = rot.next.clone();
        mark(&mut next.extra);
        let root2 = AnyMetadata::Root(Metadata::new(next));
        self.write("drafts/2.root.json", &root2.to_file_bytes())?;
        self.record(
            "ceremony plan-rotation plan-v2.toml",
            &["plan-v2.toml", "repository/1.root.json"],
            &["drafts/2.root.json"],
            vec![],
            None,
        )?;
        let sigs = self.sign_all(
            &root2,
            "root",
            "2.root",
            &["alice-root", "bob-root", "dave-root"],
        )?;
        self.merge(
            &root2,
            "root",
            &sigs,
            Some(root1m),
            None,
            "repository/2.root.json",
        )
    }

    fn say_rotation(&mut self, rot: &genesis::RotationPlan) {
        self.detail(format!(
            "root v{} -> v{}: needs {} of v{}'s keys ({} usable) and {} of v{}'s ({} usable): {}",
            rot.old_version,
            rot.new_version,
            rot.old_threshold,
            rot.old_version,
            rot.old_available,
            rot.new_threshold,
            rot.new_version,
            rot.new_available,
            if rot.feasible {
                "feasible"
            } else {
                "NOT FEASIBLE"
            }
        ));
        for a in &rot.advice {
            self.detail(a.clone());
        }
    }

    /// bob's root key is compromised: `conclave revoke`'s planner drafts root v3 without
    /// it, the stolen key's signature alone is refused, and the remaining officers (with
    /// bob's new key) sign root v3.
    fn revoke_compromised_key(&mut self, root2: &AnyMetadata) -> Result<()> {
        self.step("Revocation: bob's root key is compromised; root v3 drops it");
        let root2m = as_root(root2, "repository/2.root.json")?;
        let compromised = self.signers["bob-root"].public_key().keyid();
        self.detail(format!(
            "compromised: bob-root ({compromised}); it must not count towards any threshold"
        ));
        let root3 = self.draft_root_without(&compromised)?;
        self.refuse_the_stolen_key(&root3, root2m)?;
        let sigs = self.sign_all(
            &root3,
            "root",
            "3.root",
            &["alice-root", "dave-root", "bob-root-2"],
        )?;
        self.merge(
            &root3,
            "root",
            &sigs,
            Some(root2m),
            None,
            "repository/3.root.json",
        )?;
        Ok(())
    }

    /// `conclave revoke`'s planner: every role that trusts the key, and the drafts without
    /// it. bob enrols a new key at the same time, so root stays 2 of 3; the rehearsal's
    /// repository has the key in root only, so root v3 must be the one draft.
    fn draft_root_without(&mut self, compromised: &KeyId) -> Result<AnyMetadata> {
        self.derive("bob-root-2", "bob", BOB_NEW)?;
        let bob_new = self.signers["bob-root-2"].public_key().clone();
        let files = read_dir_json(&self.path("repository"))?;
        let opts = crate::ceremony::revoke::RevokeOptions {
            expires: Some(
                crate::ceremony::plan::resolve_when("365d", self.now)
                    .map_err(step("revoke expiry"))?,
            ),
            now: self.now,
            add: vec![("root".into(), bob_new)],
            thresholds: Default::default(),
        };
        let rplan = crate::ceremony::revoke::plan(&files, &compromised.as_str(), &opts)
            .map_err(step("revoke"))?;
        for t in &rplan.trusts {
            self.detail(format!(
                "trusted by: {} (listed by {} in {}; threshold {} of {} keys before, {} of {} after)",
                t.role,
                t.delegator,
                t.file,
                t.threshold_before,
                t.keys_before,
                t.threshold_after,
                t.keys_after
            ));
        }
        if !rplan.blockers.is_empty() {
            return Err(RehearsalError::RevokeBlocked {
                blockers: rplan.blockers,
            });
        }
        let draft = rplan
            .drafts
            .iter()
            .find(|d| d.role == "root")
            .ok_or(RehearsalError::RevokeNoRoot)?;
        if rplan.drafts.len() != 1 {
            return Err(RehearsalError::RevokeTooMany {
                count: rplan.drafts.len(),
            });
        }
        for c in &draft.changes {
            self.detail(c.clone());
        }
        let AnyMetadata::Root(mut next) = draft.metadata.clone() else {
            return Err(RehearsalError::RevokeDraftNotRoot);
        };
        mark(&mut next.signed.extra);
        let root3 = AnyMetadata::Root(Metadata::new(next.signed));
        self.write("drafts/3.root.json", &root3.to_file_bytes())?;
        self.record(
            &format!("revoke {compromised}: root v3 drafted without it"),
            &[
                "repository/1.root.json",
                "repository/2.root.json",
                "repository/1.targets.json",
                "repository/1.claimed.json",
            ],
            &["drafts/3.root.json"],
            vec![compromised.to_raw_string()],
            Some(format!(
                "compromised key {compromised} (bob-root) removed; bob enrols bob-root-2"
            )),
        )?;
        Ok(root3)
    }

    /// The attacker's signature is refused: the compromised key no longer counts. Its
    /// signature file is removed so nobody merges it by mistake later.
    fn refuse_the_stolen_key(
        &mut self,
        root3: &AnyMetadata,
        root2m: &Metadata<Root>,
    ) -> Result<()> {
        let stolen = self.sign_all(root3, "root", "3.root", &["bob-root"])?;
        let auths = ceremony::authorities(root3, "root", Some(root2m), None)
            .map_err(step("root: who may sign"))?;
        let refused = match ceremony::merge(root3, "root", &stolen, &auths) {
            Ok(o) if o.complete() => return Err(RehearsalError::CompromisedKeyCounted),
            Ok(o) => o
                .reports
                .iter()
                .map(|rep| {
                    format!(
                        "{}: {} of {}",
                        rep.keys_from,
                        rep.valid.len(),
                        rep.threshold
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(rej) => rej
                .iter()
                .map(|x| x.reason.clone())
                .collect::<Vec<_>>()
                .join("; "),
        };
        self.detail(format!(
            "a signature by the compromised key alone reaches no threshold ({refused}); it is not merged"
        ));
        let _ = std::fs::remove_file(self.path("signatures/3.root.bob-root.sig"));
        Ok(())
    }

    /// Everything verifies with the client rules, then the export bundle, which must
    /// verify again as it will be published.
    fn verify_and_export(&mut self, format: export::Format) -> Result<PathBuf> {
        self.step("Verify the repository and export the bundle");
        let files = read_dir_json(&self.path("repository"))?;
        let report = verify::verify_repository(&files, None, Expires::now());
        if !report.is_ok() {
            return Err(RehearsalError::Unverified {
                dir: "repository/".into(),
                problems: report
                    .problems
                    .iter()
                    .map(|p| format!("{}: {}", p.file, p.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        self.detail(format!(
            "repository/: {} file(s) verify with the client rules",
            files.len()
        ));
        self.record(
            "verify repository/: every check holds",
            &[],
            &[],
            vec![],
            None,
        )?;
        // SUMMARY.txt names each key as the plans do (the genesis plan, then the rotation's).
        let mut names = crate::ceremony::names::KeyNames::from_plan(&self.load_plan("plan.toml")?);
        names.add_plan(&self.load_plan("plan-v2.toml")?);
        let format_name = format.name();
        let bundle = export::build(&files, Expires::now(), format, &names)
            .map_err(step("export repository/"))?;
        let bundle_dir = self.path("bundle");
        export::write_bundle(&bundle_dir, &bundle).map_err(io(&bundle_dir))?;
        let outs: Vec<String> = bundle.files.keys().map(|n| format!("bundle/{n}")).collect();
        let out_refs: Vec<&str> = outs.iter().map(String::as_str).collect();
        self.record(
            &format!("export repository/ -o bundle ({format_name})"),
            &[],
            &out_refs,
            vec![],
            None,
        )?;
        let exported = read_dir_json(&bundle_dir)?;
        let report = verify::verify_repository(&exported, None, Expires::now());
        if !report.is_ok() {
            return Err(RehearsalError::BundleUnverified);
        }
        Ok(bundle_dir)
    }

    /// The transcript's chain is checked and its head signed by alice; returns the last
    /// line's number and hash.
    fn sign_transcript_head(&mut self) -> Result<(u64, String)> {
        self.step("Transcript: check the chain and sign its head");
        let file = self.path(transcript::FILE_NAME);
        let lines = transcript::read(&file).map_err(step("transcript"))?;
        let head = transcript::sign_head(&lines, self.signers["alice-root"].as_ref())
            .map_err(step("transcript head"))?;
        self.write("transcript-head.alice.sig", &head.to_bytes())?;
        self.record(
            &format!("transcript head (line {}) signed by alice", head.seq),
            &[],
            &["transcript-head.alice.sig"],
            vec![head.signature.keyid.to_raw_string()],
            None,
        )?;
        let lines = transcript::read(&file).map_err(step("transcript"))?;
        let last = lines.last().ok_or(RehearsalError::EmptyTranscript)?;
        Ok((last.seq, last.hash.clone()))
    }
}

/// One claim request per sample project, each with one developer key (JSON Lines).
fn claim_requests() -> String {
    let mut lines = String::new();
    for p in PROJECTS {
        let dev = Ed25519Signer::from_seed(&seed(&format!("developer/{p}")));
        let mut m = Map::new();
        m.insert("project".into(), p.into());
        m.insert(
            "keys".into(),
            Value::Array(vec![dev.public_key().to_value()]),
        );
        m.insert("threshold".into(), Value::Int(1));
        lines.push_str(&String::from_utf8_lossy(&cjson::to_canonical(
            &Value::Object(m),
        )));
        lines.push('\n');
    }
    lines
}

fn as_root<'m>(md: &'m AnyMetadata, file: &str) -> Result<&'m Metadata<Root>> {
    match md {
        AnyMetadata::Root(r) => Ok(r),
        _ => Err(RehearsalError::NotARoot {
            file: file.to_owned(),
        }),
    }
}

fn read_dir_json(dir: &Path) -> Result<Vec<InputFile>> {
    let names: Vec<String> = super::repository::list(dir, ".json")
        .map_err(|e| io(dir)(e.source))?
        .into_iter()
        .map(|e| e.name)
        .collect();
    names
        .into_iter()
        .map(|name| {
            let p = dir.join(&name);
            Ok(InputFile {
                bytes: std::fs::read(&p).map_err(io(&p))?,
                name,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The rehearsal for RSTUF (`--online rstuf`)
// ---------------------------------------------------------------------------------------------

/// Which online side the rehearsal is deployed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Online {
    /// PEP 458/480 as written (the plan's pep458 profile): [`run`].
    #[default]
    Pep458,
    /// RSTUF 1.0 (the plan's rstuf profile): [`run_rstuf`].
    Rstuf,
}

/// Where the rstuf rehearsal leaves its online private key, under the name its root's
/// `fn:` URI gives: point RSTUF's worker's `RSTUF_ONLINE_KEY_DIR` here.
pub const RSTUF_KEY_DIR: &str = "rstuf-online-keys";
/// The online key's file name in [`RSTUF_KEY_DIR`] (the root says `fn:online`).
const RSTUF_KEY_NAME: &str = "online";

/// Run the rehearsal for `online` ([`run`] or [`run_rstuf`]).
pub fn run_for(dir: &Path, say: Say<'_>, online: Online) -> Result<Outcome> {
    match online {
        Online::Pep458 => run(dir, say),
        Online::Rstuf => run_rstuf(dir, say),
    }
}

/// The rehearsal in the plan's rstuf profile, into `dir` (new or empty): the three officers'
/// root keys and RSTUF's one online key (its private key in `dir/rstuf-online-keys/online`,
/// its public key carrying `x-rstuf-online-key-uri: fn:online`), a plan checked in the rstuf
/// profile, root v1 (2 of 3) signed and merged, root v2 (carol leaves, dave joins), and an
/// export in RSTUF's format: `bundle/rstuf/bootstrap.json` and `bundle/rstuf/update-2.json`,
/// which RSTUF's worker runs with `RSTUF_ONLINE_KEY_DIR` at `dir/rstuf-online-keys`.
pub fn run_rstuf(dir: &Path, say: Say<'_>) -> Result<Outcome> {
    prepare(dir)?;
    let keys = dir.join(RSTUF_KEY_DIR);
    std::fs::create_dir_all(&keys).map_err(io(&keys))?;
    let mut r = Rehearsal::new(dir, say);
    r.begin()?;
    r.rstuf_keys()?;
    let root1 = r.rstuf_genesis()?;
    r.rotate_root(&root1, rstuf_plan_text)?;
    let plan = r.load_plan("plan.toml")?;
    let settings = crate::ceremony::rstuf::Settings::from_plan(&plan, r.now)
        .map_err(step("RSTUF's settings from plan.toml"))?;
    let bundle = r.verify_and_export(export::Format::Rstuf(Box::new(settings)))?;
    r.detail(format!(
        "bundle/rstuf/bootstrap.json and bundle/rstuf/update-2.json for RSTUF; its worker \
         signs with the key in {RSTUF_KEY_DIR}/"
    ));
    let (transcript_lines, transcript_head) = r.sign_transcript_head()?;
    Ok(Outcome {
        dir: dir.to_path_buf(),
        bundle,
        root_versions: 2,
        claimed_projects: 0,
        transcript_lines,
        transcript_head,
    })
}

/// An Ed25519 private key as the unencrypted PKCS#8 PEM RSTUF's `fn:` signer loads (RFC 8410:
/// the fixed DER prefix, then the 32-byte seed).
fn ed25519_pkcs8_pem(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = hex::decode("302e020100300506032b657004220420").expect("constant hex");
    der.extend_from_slice(seed);
    let b64 = base64(&der);
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n").into_bytes()
}

/// Standard base64 with padding (the 64 bytes of a PEM body fit one line).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn rstuf_plan_text(root_keys: &[&str], retired: &[&str]) -> String {
    let mut t = format!(
        "# REHEARSAL plan written by `conclave ceremony rehearse --online rstuf`. {MARK}\n\
         [ceremony]\nformat = 1\nname = \"conclave rehearsal (RSTUF)\"\nrehearsal = true\n\
         profile = \"rstuf\"\n\n"
    );
    for (id, name, _) in OFFICERS {
        let k = format!("{id}-root");
        if !root_keys.contains(&k.as_str()) && !retired.contains(&k.as_str()) {
            continue;
        }
        t.push_str(&format!("[officers.{id}]\nname = \"{name}\"\n"));
        t.push_str(&format!(
            "[keys.{k}]\nofficer = \"{id}\"\nsource = \"derived\"\nidentity = \"{DOMAIN}/root/{k}\"\npublic_key = \"keys/{k}.pub.json\"\n"
        ));
        if retired.contains(&k.as_str()) {
            t.push_str("retired = true\n");
        }
        t.push('\n');
    }
    t.push_str("[keys.online]\nsource = \"online\"\npublic_key = \"keys/online.pub.json\"\n\n");
    let list = root_keys
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // PEP 480's claimed: two officers' key files, signed through RSTUF's DAS; recently-claimed
    // and unclaimed are RSTUF custom delegations signed with its online key.
    for officer in RSTUF_CLAIMED {
        t.push_str(&format!(
            "[keys.{officer}-claimed]\nofficer = \"{officer}\"\nsource = \"key-file\"\nkey_file = \"keys/{officer}-claimed.key\"\npublic_key = \"keys/{officer}-claimed.pub.json\"\n\n"
        ));
    }
    t.push_str(&format!(
        "[roles.root]\nkeys = [{list}]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"online\"]\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"online\"]\n\n[roles.timestamp]\nkeys = [\"online\"]\n\n\
         [pypi]\nbins = 256\n\n\
         [pypi.claimed]\nkeys = [\"alice-claimed\", \"bob-claimed\"]\nthreshold = 1\nexpires = \"90d\"\n\n\
         [pypi.recently-claimed]\nkeys = [\"online\"]\nexpires = \"1d\"\n\n\
         [pypi.unclaimed]\nkeys = [\"online\"]\nexpires = \"1d\"\n"
    ));
    t
}

/// The officers holding a claimed key file in the rstuf rehearsal.
const RSTUF_CLAIMED: [&str; 2] = ["alice", "bob"];

impl Rehearsal<'_> {
    /// Three officers derive root keys; RSTUF's online key is made from a fixed seed, its
    /// private key written where RSTUF's worker loads it, its public key marked with the URI.
    fn rstuf_keys(&mut self) -> Result<()> {
        self.step("Key generation: three officers derive root keys; RSTUF's online key");
        let mut made = Vec::new();
        for (id, _, pass) in &OFFICERS[..3] {
            made.push(self.derive(&format!("{id}-root"), id, pass)?);
            if RSTUF_CLAIMED.contains(id) {
                made.push(self.key_file(&format!("{id}-claimed"), &format!("{pass} claimed"))?);
            }
        }
        let seed = seed("online/rstuf");
        let online = Ed25519Signer::from_seed(&seed);
        let uri = format!("fn:{RSTUF_KEY_NAME}");
        let marked =
            crate::ceremony::rstuf::with_online_key_uri(online.public_key(), &uri, Some("online"))
                .map_err(step("the online key's URI"))?;
        let pem = format!("{RSTUF_KEY_DIR}/{RSTUF_KEY_NAME}");
        let p = self.path(&pem);
        crate::fsutil::create_new_private(&p, &ed25519_pkcs8_pem(&seed)).map_err(io(&p))?;
        self.detail(format!(
            "RSTUF's online key {} ({uri}): private key in {pem} (point RSTUF_ONLINE_KEY_DIR there)",
            marked.keyid()
        ));
        made.push(self.public("online", &marked)?);
        let made_refs: Vec<&str> = made.iter().map(String::as_str).collect();
        let ids = self
            .signers
            .values()
            .map(|s| s.public_key().keyid().to_raw_string())
            .chain([marked.keyid().to_raw_string()])
            .collect();
        self.record(
            "keys generated (derived root keys, RSTUF's online key)",
            &[],
            &made_refs,
            ids,
            None,
        )
    }

    /// The rstuf plan checked; root v1 drafted from it, signed and merged.
    fn rstuf_genesis(&mut self) -> Result<AnyMetadata> {
        self.step("Genesis plan (profile rstuf): check the policy");
        let roots = ["alice-root", "bob-root", "carol-root"];
        self.write("plan.toml", rstuf_plan_text(&roots, &[]).as_bytes())?;
        let plan = self.load_plan("plan.toml")?;
        self.check_plan(&plan, "plan.toml")?;
        self.step("Genesis: draft root v1 (targets, snapshot, timestamp: RSTUF's online key)");
        let Drafts { mut root, .. } =
            genesis::draft(&plan, self.now).map_err(step("genesis from plan.toml"))?;
        mark(&mut root.extra);
        let root1 = AnyMetadata::Root(Metadata::new(root));
        self.write("drafts/1.root.json", &root1.to_file_bytes())?;
        self.record(
            "ceremony genesis from plan.toml (root only: RSTUF makes its own targets)",
            &["plan.toml"],
            &["drafts/1.root.json"],
            vec![],
            None,
        )?;
        let sigs = self.sign_all(&root1, "root", "1.root", &roots)?;
        self.merge(&root1, "root", &sigs, None, None, "repository/1.root.json")
    }
}

#[cfg(test)]
mod rstuf_tests {
    #[test]
    fn the_online_key_pem_is_rfc_8410_pkcs8() {
        assert_eq!(super::base64(b"Man"), "TWFu");
        assert_eq!(super::base64(b"Ma"), "TWE=");
        assert_eq!(super::base64(b"M"), "TQ==");
        let pem = String::from_utf8(super::ed25519_pkcs8_pem(&[0u8; 32])).unwrap();
        // RFC 8410's example layout: 48 bytes of DER, 64 characters of base64.
        let body = pem.lines().nth(1).unwrap();
        assert_eq!(body.len(), 64);
        assert!(body.starts_with("MC4CAQAwBQYDK2VwBCIEI"), "{body}");
    }
}
