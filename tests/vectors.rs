//! The committed vectors made by pinned python-tuf / securesystemslib (tests/vectors/README.md):
//! keyids, signatures, and whole repositories, each named after the situation or attack it
//! represents, with the verdict conclave must give.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use conclave::cjson::{self, Value};
use conclave::metadata::Key;

fn load(path: &str) -> Vec<Value> {
    let bytes = std::fs::read(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    match cjson::parse(&bytes).unwrap() {
        Value::Array(items) => items,
        _ => panic!("{path} is not an array"),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {k}"))
}

#[test]
fn keyids_match_securesystemslib() {
    let cases = load("tests/vectors/keys/keyids.json");
    assert!(cases.len() >= 10);
    for c in &cases {
        let key = Key::from_json(c.get("key").unwrap().clone()).unwrap();
        assert_eq!(key.keyid().as_str(), s(c, "keyid"), "{}", s(c, "name"));
    }
}

#[test]
fn signatures_verify_exactly_when_securesystemslib_says() {
    let cases = load("tests/vectors/keys/signatures.json");
    assert!(cases.len() >= 20);
    for c in &cases {
        let key = Key::from_json(c.get("key").unwrap().clone()).unwrap();
        let payload = hex::decode(s(c, "payload_hex")).unwrap();
        let valid = c.get("valid") == Some(&Value::Bool(true));
        let got = key.verify(&payload, s(c, "sig"));
        assert_eq!(got.is_ok(), valid, "{}: {got:?}", s(c, "name"));
    }
}

fn scenarios() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/vectors/repos");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(out.len() >= 40, "only {} repository vectors", out.len());
    out
}

/// The metadata of a scenario, without its expected.json, in a fresh directory.
fn metadata_copy(scenario: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(scenario).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "expected.json" {
            std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
        }
    }
    tmp
}

fn expected(scenario: &Path) -> Value {
    cjson::parse(&std::fs::read(scenario.join("expected.json")).unwrap()).unwrap()
}

#[test]
fn conclave_verify_gives_the_expected_verdict_on_every_repository_vector() {
    let mut wrong = Vec::new();
    for sc in scenarios() {
        let name = sc.file_name().unwrap().to_string_lossy().into_owned();
        let want = s(&expected(&sc), "verdict").to_owned();
        let tmp = metadata_copy(&sc);
        let o = run(conclave().arg("verify").arg(tmp.path()));
        assert!(!o.stderr.contains("panicked"), "{name}: {}", o.stderr);
        let got = match o.code {
            0 => "valid",
            1 => "invalid",
            c => panic!("{name}: exit {c}: {}", o.stderr),
        };
        if got == "invalid" {
            assert!(
                o.stderr
                    .lines()
                    .any(|l| l.starts_with("error: ") && l.contains(".json: role ")),
                "{name}: no error line naming a file and role:\n{}",
                o.stderr
            );
        }
        if got != want {
            wrong.push(format!(
                "{name}: expected {want}, conclave says {got}\n{}",
                o.stderr
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The python_tuf_verdict recorded in each vector is what the pinned python-tuf says today.
#[test]
fn python_tuf_still_gives_the_recorded_verdicts() {
    let dirs = scenarios();
    let mut code = String::from(
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport tuf_verdict\nfor d in sys.argv[2:]:\n    print(tuf_verdict.verdict(d).verdict)\n",
    );
    code.push('\n');
    let o = run(std::process::Command::new(python())
        .arg("-c")
        .arg(&code)
        .arg(repo_root().join("tests/interop/python"))
        .args(&dirs));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let got: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(got.len(), dirs.len());
    for (d, g) in dirs.iter().zip(got) {
        assert_eq!(s(&expected(d), "python_tuf_verdict"), g, "{}", d.display());
    }
}

/// The direct canonical writer for targets metadata gives exactly the bytes of the generic
/// path (model -> JSON value -> canonical), on every targets file in the vectors.
#[test]
fn direct_canonical_writer_matches_the_generic_one() {
    use conclave::metadata::{AnyMetadata, Role};
    let mut checked = 0;
    for sc in scenarios() {
        for e in std::fs::read_dir(&sc).unwrap() {
            let path = e.unwrap().path();
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Ok(AnyMetadata::Targets(m)) = AnyMetadata::from_bytes(&bytes) {
                assert_eq!(
                    m.signed_bytes(),
                    cjson::to_canonical(&m.signed.to_value()),
                    "{}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} targets files");
}

/// Large metadata is written compact; it must read back identically, control characters in
/// strings included, and its signatures must still verify.
#[test]
fn large_metadata_round_trips_through_the_compact_writer() {
    use conclave::metadata::Metadata;
    let mut t = targets(1, FAR);
    for i in 0..10_000 {
        add_target(
            &mut t,
            &format!("proj-{i}/file\n\t\u{1}\"\\é-{i}.tar.gz"),
            b"x",
        );
    }
    t.extra
        .insert("custom\u{7}".into(), Value::String("a\u{0}b".into()));
    let s = ed(5);
    let md = signed(t, &[&s]);
    let bytes = md.to_file_bytes();
    assert!(bytes.len() > conclave::metadata::PRETTY_LIMIT);
    assert!(!bytes.contains(&b'\n') || bytes.iter().filter(|&&b| b == b'\n').count() == 1);
    let back = Metadata::<conclave::metadata::Targets>::from_bytes(&bytes).unwrap();
    assert_eq!(back, md);
    let key = conclave::signer::Signer::public_key(&s);
    key.verify(&back.signed_bytes(), &back.signatures[0].sig)
        .unwrap();
}
