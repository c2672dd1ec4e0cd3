//! Shared test support: building metadata with in-memory keys, writing repositories, and
//! finding the interop clients that `tests/run-all.sh` installs.

#![allow(dead_code)]

pub mod pty;
pub mod rotation;
pub mod softhsm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use conclave::cjson::Map;
use conclave::metadata::*;
use conclave::signer::SignMetadata;
use conclave::signer::{Ed25519Signer, P256Signer, Signer};
use sha2::{Digest, Sha256};

pub const FAR: &str = "2100-01-01T00:00:00Z";
pub const PAST: &str = "2001-01-01T00:00:00Z";

pub fn ed(n: u32) -> Ed25519Signer {
    let seed: [u8; 32] = Sha256::digest(format!("conclave-test-ed25519-{n}")).into();
    Ed25519Signer::from_seed(&seed)
}

pub fn p256(n: u32) -> P256Signer {
    let scalar: [u8; 32] = Sha256::digest(format!("conclave-test-p256-{n}")).into();
    P256Signer::from_scalar(&scalar).expect("a SHA-256 digest is a valid scalar here")
}

pub fn common(version: u64, expires: &str) -> Common {
    Common::new(
        Version::new(version).unwrap(),
        Expires::parse(expires).unwrap(),
    )
}

pub fn th(n: u32) -> Threshold {
    Threshold::new(n).unwrap()
}

/// A root whose four roles use the given signers and thresholds.
pub fn root(version: u64, expires: &str, roles: &[(&str, &[&dyn Signer], u32)]) -> Root {
    let mut keys = BTreeMap::new();
    let mut role_map = BTreeMap::new();
    for (name, signers, threshold) in roles {
        let mut ids = Vec::new();
        for s in *signers {
            let k = s.public_key().clone();
            ids.push(k.keyid());
            keys.insert(k.keyid(), k);
        }
        role_map.insert(name.to_string(), RoleKeys::new(ids, th(*threshold)));
    }
    Root {
        common: common(version, expires),
        consistent_snapshot: Some(true),
        keys,
        roles: role_map,
        extra: Map::new(),
    }
}

pub fn targets(version: u64, expires: &str) -> Targets {
    Targets {
        common: common(version, expires),
        targets: BTreeMap::new(),
        delegations: None,
        extra: Map::new(),
    }
}

pub fn add_target(t: &mut Targets, path: &str, content: &[u8]) {
    t.targets.insert(
        path.to_owned(),
        TargetFile {
            length: content.len() as u64,
            hashes: BTreeMap::from([("sha256".into(), hex::encode(Sha256::digest(content)))]),
            extra: Map::new(),
        },
    );
}

fn delegations(t: &mut Targets) -> &mut Delegations {
    t.delegations.get_or_insert_with(|| Delegations {
        keys: BTreeMap::new(),
        roles: DelegationRoles::List(Vec::new()),
        extra: Map::new(),
    })
}

/// Delegate `paths` to role `name`, with the keys of `signers`.
pub fn delegate(
    t: &mut Targets,
    name: &str,
    signers: &[&dyn Signer],
    threshold: u32,
    paths: &[&str],
    terminating: bool,
) {
    let d = delegations(t);
    let mut ids = Vec::new();
    for s in signers {
        let k = s.public_key().clone();
        ids.push(k.keyid());
        d.keys.insert(k.keyid(), k);
    }
    let DelegationRoles::List(roles) = &mut d.roles else {
        panic!("cannot mix listed and succinct delegations");
    };
    roles.push(DelegatedRole {
        name: RoleName::delegated(name).unwrap(),
        keyids: ids,
        threshold: th(threshold),
        terminating: Some(terminating),
        paths: RolePaths::Patterns(paths.iter().map(|s| (*s).into()).collect()),
        extra: Map::new(),
    });
}

/// Delegate to TAP 15 succinct hash bins.
pub fn delegate_bins(
    t: &mut Targets,
    prefix: &str,
    bit_length: u8,
    signer: &dyn Signer,
) -> SuccinctRoles {
    let k = signer.public_key().clone();
    let s = SuccinctRoles {
        keyids: vec![k.keyid()],
        threshold: th(1),
        bit_length,
        name_prefix: prefix.into(),
        extra: Map::new(),
    };
    t.delegations = Some(Delegations {
        keys: BTreeMap::from([(k.keyid(), k)]),
        roles: DelegationRoles::Succinct(s.clone()),
        extra: Map::new(),
    });
    s
}

pub fn signed<T: Role>(role: T, signers: &[&dyn Signer]) -> Metadata<T> {
    let mut md = Metadata::new(role);
    for s in signers {
        md.sign(*s).unwrap();
    }
    md
}

/// Write `md` as `dir/name` and return the bytes written.
pub fn write<T: Role>(dir: &Path, name: &str, md: &Metadata<T>) -> Vec<u8> {
    let bytes = md.to_file_bytes();
    std::fs::write(dir.join(name), &bytes).unwrap();
    bytes
}

pub fn meta_for(version: u64, bytes: &[u8]) -> MetaFile {
    MetaFile {
        version: Version::new(version).unwrap(),
        length: Some(bytes.len() as u64),
        hashes: Some(BTreeMap::from([(
            "sha256".into(),
            hex::encode(Sha256::digest(bytes)),
        )])),
        extra: Map::new(),
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn conclave() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
}

/// The Python interpreter of the interop venv. A missing venv fails the test, loudly: the
/// interop checks are never skipped.
pub fn python() -> PathBuf {
    let p = std::env::var_os("CONCLAVE_INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/interop-venv/bin/python"));
    assert!(
        p.exists(),
        "the interop Python venv is missing at {} — run `bash tests/run-all.sh` (it installs \
         pinned python-tuf), or set CONCLAVE_INTEROP_PYTHON",
        p.display()
    );
    p
}

/// `node` with tuf-js installed under tests/interop/js.
pub fn node_verifier() -> (PathBuf, PathBuf) {
    let dir = repo_root().join("tests/interop/js");
    assert!(
        dir.join("node_modules/tuf-js").exists(),
        "tuf-js is not installed in {} — run `bash tests/run-all.sh` (it runs `npm ci` there)",
        dir.display()
    );
    (PathBuf::from("node"), dir.join("verify.mjs"))
}

/// The tough checker (tests/interop/tough, tough 0.24.0), which `tests/run-all.sh` builds once
/// into target/tough-checker. A missing checker fails the test, loudly: tough's verdicts are
/// never skipped.
pub fn tough_checker() -> PathBuf {
    let p = std::env::var_os("CONCLAVE_TOUGH_CHECKER")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/tough-checker/debug/tough-check"));
    assert!(
        p.exists(),
        "the tough checker is missing at {} — run `bash tests/run-all.sh` (it builds \
         tests/interop/tough), or build it with `cargo build --locked --manifest-path \
         tests/interop/tough/Cargo.toml --target-dir target/tough-checker` and set \
         CONCLAVE_TOUGH_CHECKER",
        p.display()
    );
    p
}

/// tough's verdict on the repository in `dir` (trust anchor `dir/1.root.json`): the process
/// outcome and the JSON it printed. Each of `targets` must be found; with `artifacts` (the
/// server's targets directory) each is also downloaded and checked.
pub fn tough(
    dir: &Path,
    targets: &[&str],
    artifacts: Option<&Path>,
) -> (Outcome, conclave::cjson::Value) {
    let mut cmd = Command::new(tough_checker());
    cmd.arg(dir);
    for t in targets {
        cmd.arg("--target").arg(t);
    }
    if let Some(a) = artifacts {
        cmd.arg("--artifacts").arg(a);
    }
    let o = run(&mut cmd);
    let v = conclave::cjson::parse(o.stdout.trim().as_bytes()).unwrap_or_else(|e| {
        panic!(
            "the tough checker printed no verdict ({e}):\n{}\n{}",
            o.stdout, o.stderr
        )
    });
    (o, v)
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` with `input` on stdin (passphrases and PINs go in via `--passphrase-fd 0`).
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Outcome {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The process may exit before reading (e.g. refusing bad flags): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run conclave in `dir` with `input` on stdin.
/// The keyid a key command printed on stderr (`Keyid:    ...`).
pub fn keyid_in(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Keyid:"))
        .unwrap_or_else(|| panic!("no keyid in:\n{stderr}"))
        .trim()
        .to_owned()
}

/// `conclave key generate -o NAME.key` in `dir` with the fast Argon2 profile, the passphrase
/// given twice on stdin; the outcome's stdout is the public key. Fails the test if it fails.
pub fn generate_key_file(dir: &Path, name: &str, passphrase: &str) -> Outcome {
    let o = conclave_in(
        dir,
        &[
            "key",
            "generate",
            "-o",
            &format!("{name}.key"),
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{passphrase}\n{passphrase}\n"),
    );
    assert_eq!(o.code, 0, "key generate {name}: {}", o.stderr);
    o
}

pub fn conclave_in(dir: &Path, args: &[&str], input: &str) -> Outcome {
    run_with_stdin(conclave().args(args).current_dir(dir), input)
}

pub fn run(cmd: &mut Command) -> Outcome {
    let out = cmd.output().expect("failed to start process");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A PEP 480-style repository in consistent-snapshot layout: root v1 -> v2 (one root key
/// replaced), timestamp, snapshot, targets delegating to claimed (offline admins, 2-of-3,
/// terminating), recently-claimed and unclaimed (TAP 15 bins); claimed delegates to
/// `projects` projects, each to its own developer key; two project roles are signed by their
/// developers. Returns target paths a client must find.
pub fn build_pypi_repo(dir: &Path, projects: usize) -> Vec<String> {
    let (ra, rb, rc, rd) = (ed(1), p256(1), ed(2), p256(2));
    let (tk, sk, tsk) = (ed(10), ed(11), p256(12));
    let (a1, a2, a3) = (ed(20), p256(20), ed(21));
    let (rck, uk) = (ed(30), ed(31));

    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[&ra, &rb, &rc], 2),
            ("targets", &[&tk], 1),
            ("snapshot", &[&sk], 1),
            ("timestamp", &[&tsk], 1),
        ],
    );
    write(dir, "1.root.json", &signed(v1, &[&ra, &rb, &rc]));
    // v2: rc leaves, rd joins; signed by two of v1's keys and two of v2's.
    let v2 = root(
        2,
        FAR,
        &[
            ("root", &[&ra, &rb, &rd], 2),
            ("targets", &[&tk], 1),
            ("snapshot", &[&sk], 1),
            ("timestamp", &[&tsk], 1),
        ],
    );
    write(dir, "2.root.json", &signed(v2, &[&ra, &rb, &rd]));

    let mut snapshot_meta = BTreeMap::new();
    let mut found = Vec::new();

    // Project roles, each signed by its developer.
    let mut claimed = targets(1, FAR);
    let devs: Vec<_> = (0..projects as u32).map(|i| ed(1000 + i)).collect();
    for (i, dev) in devs.iter().enumerate() {
        let name = format!("project-{i}");
        delegate(
            &mut claimed,
            &name,
            &[dev],
            1,
            &[&format!("{name}/*")],
            true,
        );
    }
    for i in [0, projects - 1] {
        let name = format!("project-{i}");
        let mut t = targets(1, FAR);
        let path = format!("{name}/{name}-1.0.tar.gz");
        add_target(&mut t, &path, format!("release of {name}").as_bytes());
        let bytes = write(dir, &format!("1.{name}.json"), &signed(t, &[&devs[i]]));
        snapshot_meta.insert(format!("{name}.json"), meta_for(1, &bytes));
        found.push(path);
    }
    let bytes = write(dir, "1.claimed.json", &signed(claimed, &[&a1, &a2]));
    snapshot_meta.insert("claimed.json".into(), meta_for(1, &bytes));

    let rc_md = targets(1, FAR);
    let bytes = write(dir, "1.recently-claimed.json", &signed(rc_md, &[&rck]));
    snapshot_meta.insert(
        "recently-claimed.json".into(),
        MetaFile::new(Version::new(1).unwrap()),
    );
    let _ = bytes;

    let mut unclaimed = targets(1, FAR);
    let bins = delegate_bins(&mut unclaimed, "bins", 3, &uk);
    write(dir, "1.unclaimed.json", &signed(unclaimed, &[&uk]));
    snapshot_meta.insert(
        "unclaimed.json".into(),
        MetaFile::new(Version::new(1).unwrap()),
    );
    let loose = "unclaimed-pkg/unclaimed_pkg-1.0.tar.gz";
    for i in 0..bins.bin_count() {
        let name = bins.bin_name(i);
        let mut t = targets(1, FAR);
        if bins.bin_for(loose) == name {
            add_target(&mut t, loose, b"an unclaimed project's file");
        }
        let bytes = write(dir, &format!("1.{name}.json"), &signed(t, &[&uk]));
        snapshot_meta.insert(format!("{name}.json"), meta_for(1, &bytes));
    }
    found.push(loose.to_owned());

    let mut top = targets(1, FAR);
    // claimed is searched first; each claimed project is terminating (below), which ends the
    // search for its files there. claimed itself must not be terminating, or nothing after it
    // (recently-claimed, unclaimed) could ever be reached.
    delegate(&mut top, "claimed", &[&a1, &a2, &a3], 2, &["*/*"], false);
    delegate(&mut top, "recently-claimed", &[&rck], 1, &["*/*"], false);
    delegate(&mut top, "unclaimed", &[&uk], 1, &["*/*"], false);
    let bytes = write(dir, "1.targets.json", &signed(top, &[&tk]));
    snapshot_meta.insert("targets.json".into(), meta_for(1, &bytes));

    let snap = Snapshot {
        common: common(1, FAR),
        meta: snapshot_meta,
        extra: Default::default(),
    };
    let snap_bytes = write(dir, "1.snapshot.json", &signed(snap, &[&sk]));
    let ts = Timestamp {
        common: common(1, FAR),
        meta: BTreeMap::from([("snapshot.json".into(), meta_for(1, &snap_bytes))]),
        extra: Default::default(),
    };
    write(dir, "timestamp.json", &signed(ts, &[&tsk]));
    found
}

/// Snapshot and timestamp over the newest version of every targets-type role in `repo`, as
/// the online side issues them.
pub fn publish(repo: &Path, version: u64, snapshot: &dyn Signer, timestamp: &dyn Signer) {
    let mut meta: BTreeMap<String, MetaFile> = BTreeMap::new();
    for entry in std::fs::read_dir(repo).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some((role, Some(v))) = conclave::verify::classify(&name)
            && !matches!(role.as_str(), "root" | "snapshot" | "timestamp")
        {
            let bytes = std::fs::read(repo.join(&name)).unwrap();
            let key = format!("{role}.json");
            if meta.get(&key).is_none_or(|m| m.version.get() < v) {
                meta.insert(key, meta_for(v, &bytes));
            }
        }
    }
    let snap = Snapshot {
        common: common(version, FAR),
        meta,
        extra: Default::default(),
    };
    let snap_bytes = write(
        repo,
        &format!("{version}.snapshot.json"),
        &signed(snap, &[snapshot]),
    );
    let ts = Timestamp {
        common: common(version, FAR),
        meta: BTreeMap::from([("snapshot.json".into(), meta_for(version, &snap_bytes))]),
        extra: Default::default(),
    };
    write(repo, "timestamp.json", &signed(ts, &[timestamp]));
}
