//! Metadata that conclave's library builds and signs is loaded and verified by real clients:
//! python-tuf (pinned, what pip vendors) and tuf-js. And `conclave verify` agrees with them,
//! on the good repository and on tampered copies of it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use conclave::metadata::*;
use conclave::signer::Signer;

/// A PEP 480-style repository in consistent-snapshot layout: root v1 -> v2 (one root key
/// replaced), timestamp, snapshot, targets delegating to claimed (offline admins, 2-of-3,
/// terminating), recently-claimed and unclaimed (TAP 15 bins); claimed delegates to
/// `projects` projects, each to its own developer key; two project roles are signed by their
/// developers. Returns target paths a client must find.
fn build_repo(dir: &Path, projects: usize) -> Vec<String> {
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
    delegate(&mut top, "claimed", &[&a1, &a2, &a3], 2, &["*/*"], true);
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

fn python_tuf(dir: &Path) -> Outcome {
    run(std::process::Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(dir))
}

fn tuf_js(dir: &Path, found: &[String]) -> Outcome {
    let (node, script) = node_verifier();
    let mut cmd = std::process::Command::new(node);
    cmd.arg(script).arg(dir);
    for t in found {
        cmd.arg("--target").arg(t);
    }
    run(&mut cmd)
}

fn conclave_verify(dir: &Path) -> Outcome {
    run(conclave().arg("verify").arg(dir))
}

#[test]
fn conclave_built_repository_verifies_in_conclave_python_tuf_and_tuf_js() {
    let tmp = tempfile::tempdir().unwrap();
    let found = build_repo(tmp.path(), 1000);

    let c = conclave_verify(tmp.path());
    assert_eq!(c.code, 0, "conclave verify:\n{}\n{}", c.stdout, c.stderr);
    assert!(
        !c.stderr.contains("warning"),
        "unexpected warnings:\n{}",
        c.stderr
    );

    let py = python_tuf(tmp.path());
    assert_eq!(py.code, 0, "python-tuf:\n{}\n{}", py.stdout, py.stderr);

    let js = tuf_js(tmp.path(), &found);
    assert_eq!(js.code, 0, "tuf-js:\n{}\n{}", js.stdout, js.stderr);
}

/// Each tampering must be caught by all three verifiers.
#[test]
fn tampering_is_rejected_by_every_client() {
    type Tamper = fn(&Path);
    let cases: &[(&str, Tamper)] = &[
        ("claimed-unsigned-field-added", |d| {
            edit(d, "1.claimed.json", |s| {
                s.replacen("\"threshold\": 1", "\"threshold\": 1, \"x\": 1", 1)
            })
        }),
        ("project-target-hash-changed", |d| {
            edit(d, "1.project-0.json", |s| {
                s.replacen("\"length\": ", "\"length\": 1", 1)
            })
        }),
        ("root-v2-old-signatures-removed", |d| {
            // Keep only the signature of the key that joined in v2: the old root's threshold
            // is no longer met.
            let text = std::fs::read_to_string(d.join("2.root.json")).unwrap();
            let mut v = conclave::cjson::parse(text.as_bytes()).unwrap();
            let newcomer = p256(2).public_key().keyid();
            if let conclave::cjson::Value::Object(m) = &mut v
                && let Some(conclave::cjson::Value::Array(sigs)) = m.get_mut("signatures")
            {
                sigs.retain(|s| s.get("keyid").and_then(|k| k.as_str()) == Some(newcomer.as_str()));
            }
            std::fs::write(d.join("2.root.json"), conclave::cjson::to_pretty(&v)).unwrap();
        }),
    ];
    for (name, tamper) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let found = build_repo(tmp.path(), 20);
        tamper(tmp.path());
        let c = conclave_verify(tmp.path());
        assert_eq!(c.code, 1, "{name}: conclave accepted it:\n{}", c.stdout);
        let py = python_tuf(tmp.path());
        assert_eq!(py.code, 1, "{name}: python-tuf accepted it:\n{}", py.stdout);
        let js = tuf_js(tmp.path(), &found);
        assert_eq!(js.code, 1, "{name}: tuf-js accepted it:\n{}", js.stdout);
    }
}

fn edit(dir: &Path, name: &str, f: impl Fn(&str) -> String) {
    let path = dir.join(name);
    let before = std::fs::read_to_string(&path).unwrap();
    let after = f(&before);
    assert_ne!(before, after, "the tampering of {name} changed nothing");
    std::fs::write(path, after).unwrap();
}
