//! Metadata that conclave's library builds and signs is loaded and verified by real clients:
//! python-tuf (pinned, what pip vendors) and tuf-js. And `conclave verify` agrees with them,
//! on the good repository and on tampered copies of it.

mod common;

use std::path::Path;

use common::*;
use conclave::signer::Signer;

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
    let found = build_pypi_repo(tmp.path(), 1000);

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
                sigs.retain(|s| {
                    s.get("keyid").and_then(|k| k.as_str()) == Some(&*newcomer.as_str())
                });
            }
            std::fs::write(d.join("2.root.json"), conclave::cjson::to_pretty(&v)).unwrap();
        }),
    ];
    for (name, tamper) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let found = build_pypi_repo(tmp.path(), 20);
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
