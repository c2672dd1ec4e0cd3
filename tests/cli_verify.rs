//! `conclave verify` and `conclave inspect` as real processes: exit codes, one clear line per
//! problem naming the file, never a panic.

mod common;

use std::path::Path;

use common::*;

/// A small valid repository: root v1 (2-of-2, one Ed25519 and one P-256 key) and targets.
fn small_repo(dir: &Path) {
    let (ra, rb, tk) = (ed(1), p256(1), ed(2));
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&ra, &rb], 2),
            ("targets", &[&tk], 1),
            ("snapshot", &[&tk], 1),
            ("timestamp", &[&tk], 1),
        ],
    );
    write(dir, "1.root.json", &signed(r, &[&ra, &rb]));
    let mut t = targets(1, FAR);
    add_target(&mut t, "demo/demo-1.0.tar.gz", b"demo");
    write(dir, "targets.json", &signed(t, &[&tk]));
}

fn verify(args: &[&std::ffi::OsStr]) -> Outcome {
    run(conclave().arg("verify").args(args))
}

fn assert_clean_failure(o: &Outcome, file: &str, needle: &str) {
    assert_eq!(o.code, 1, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line:\n{}", o.stderr);
    assert!(
        errors[0].contains(file),
        "error line does not name {file}: {}",
        errors[0]
    );
    assert!(
        errors[0].contains(needle),
        "error line lacks {needle:?}: {}",
        errors[0]
    );
}

#[test]
fn a_valid_repository_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let o = verify(&[tmp.path().as_os_str()]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("verified: 2 file(s)"), "{}", o.stdout);
    assert!(
        o.stdout.contains("2 of 2 root v1 keys signed validly"),
        "{}",
        o.stdout
    );
}

#[test]
fn json_report_is_machine_readable() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let o = verify(&[tmp.path().as_os_str(), "--json".as_ref()]);
    assert_eq!(o.code, 0);
    let v = conclave::cjson::parse(o.stdout.as_bytes()).expect("--json prints JSON");
    assert_eq!(v.get("ok"), Some(&conclave::cjson::Value::Bool(true)));
    let files = v.get("files").unwrap();
    let conclave::cjson::Value::Array(files) = files else {
        panic!()
    };
    assert_eq!(files.len(), 2);

    std::fs::write(tmp.path().join("targets.json"), b"{}").unwrap();
    let o = verify(&[tmp.path().as_os_str(), "--json".as_ref()]);
    assert_eq!(o.code, 1);
    let v = conclave::cjson::parse(o.stdout.as_bytes()).unwrap();
    assert_eq!(v.get("ok"), Some(&conclave::cjson::Value::Bool(false)));
}

#[test]
fn usage_errors_exit_2() {
    let o = run(conclave().arg("verify"));
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = run(conclave().args(["verify", "--no-such-flag", "."]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = run(conclave().args(["verify", "/nonexistent/repo"]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("/nonexistent/repo: no such file or directory"),
        "{}",
        o.stderr
    );
    let o = run(conclave().args(["verify", ".", "--at", "tomorrow"]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = run(conclave().arg("frobnicate"));
    assert_eq!(o.code, 2);
    // A device is not a metadata file (and would otherwise be read until memory runs out).
    let o = run(conclave().args(["verify", "/dev/zero"]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("/dev/zero: cannot read: not a regular file"),
        "{}",
        o.stderr
    );
}

/// Every malformed file: exit 1, one error line naming the file and the problem.
#[test]
fn malformed_metadata_gets_one_clear_line() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("not-json", b"this is not json", "not valid JSON"),
        ("truncated", b"{\"signed\": {\"_type\": \"targ", "unexpected end of input"),
        ("duplicate-key", br#"{"signed": {}, "signed": {}, "signatures": []}"#, "duplicate object key \"signed\""),
        ("float", br#"{"signatures": [], "signed": {"_type": "targets", "version": 1.0}}"#, "floating-point"),
        ("trailing-data", b"{} {}", "trailing data"),
        ("invalid-utf8", b"{\"a\": \"\xff\"}", "invalid UTF-8"),
        ("not-an-object", b"[]", "must be an object"),
        ("missing-signed", br#"{"signatures": []}"#, "missing field \"signed\""),
        ("threshold-zero", br#"{"signatures": [], "signed": {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": "2100-01-01T00:00:00Z", "targets": {}, "delegations": {"keys": {}, "roles": [{"name": "a", "keyids": [], "threshold": 0, "terminating": true, "paths": ["*"]}]}}}"#, "threshold: must be at least 1"),
        ("bad-expires", br#"{"signatures": [], "signed": {"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": "2100-01-01T00:00:00+00:00", "targets": {}}}"#, "expires"),
        ("version-zero", br#"{"signatures": [], "signed": {"_type": "targets", "spec_version": "1.0.31", "version": 0, "expires": "2100-01-01T00:00:00Z", "targets": {}}}"#, "version: must be greater than zero"),
        ("unknown-type", br#"{"signatures": [], "signed": {"_type": "mirrors"}}"#, "unknown role type"),
        ("empty", b"", "unexpected end of input"),
    ];
    for (name, bytes, needle) in cases {
        let tmp = tempfile::tempdir().unwrap();
        small_repo(tmp.path());
        std::fs::write(tmp.path().join("targets.json"), bytes).unwrap();
        let o = verify(&[tmp.path().as_os_str()]);
        assert_clean_failure(&o, "targets.json", needle);
        assert!(o.stderr.contains("role targets"), "{name}: {}", o.stderr);
    }
}

#[test]
fn a_single_targets_file_needs_a_root() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let t = tmp.path().join("targets.json");
    let o = verify(&[t.as_os_str()]);
    assert_clean_failure(&o, "targets.json", "no trusted root");
    let r = tmp.path().join("1.root.json");
    let o = verify(&[t.as_os_str(), "--trusted-root".as_ref(), r.as_os_str()]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
}

#[test]
fn a_single_root_file_is_checked_against_its_own_keys() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let draft = tmp.path().join("draft-root.json");
    std::fs::copy(tmp.path().join("1.root.json"), &draft).unwrap();
    let o = verify(&[draft.as_os_str()]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
}

#[test]
fn expiry_can_be_checked_at_a_given_time() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let o = verify(&[
        tmp.path().as_os_str(),
        "--at".as_ref(),
        "2100-01-01".as_ref(),
    ]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("1.root.json: role root: expired"),
        "{}",
        o.stderr
    );
}

#[test]
fn control_characters_from_files_are_escaped_on_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let evil = br#"{"signatures": [], "signed": {"_type": "evil\u001b[2J"}}"#;
    std::fs::write(tmp.path().join("targets.json"), evil).unwrap();
    let o = verify(&[tmp.path().as_os_str()]);
    assert_eq!(o.code, 1);
    assert!(
        !o.stderr.contains('\u{1b}'),
        "raw escape reached the terminal"
    );
    assert!(o.stderr.contains("\\u{1b}"), "{}", o.stderr);
}

#[test]
fn inspect_summarises_a_root() {
    let tmp = tempfile::tempdir().unwrap();
    small_repo(tmp.path());
    let o = run(conclave()
        .args(["inspect", "--at", "2099-12-01"])
        .arg(tmp.path().join("1.root.json")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("role:     root"));
    assert!(
        o.stdout
            .contains("expires:  2100-01-01T00:00:00Z (in 31 days)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("threshold 2 of 2 key(s)"), "{}", o.stdout);
    assert!(o.stdout.contains("threshold met"), "{}", o.stdout);

    let o = run(conclave()
        .arg("inspect")
        .arg(tmp.path().join("targets.json"))
        .arg("--delegator")
        .arg(tmp.path().join("1.root.json")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("demo/demo-1.0.tar.gz"));
    assert!(
        o.stdout.contains("1 of 1 root v1 keys signed validly"),
        "{}",
        o.stdout
    );

    std::fs::write(tmp.path().join("bad.json"), b"{").unwrap();
    let o = run(conclave().arg("inspect").arg(tmp.path().join("bad.json")));
    assert_eq!(o.code, 1);
    assert!(o.stderr.starts_with("error: "), "{}", o.stderr);
    assert!(o.stderr.contains("bad.json"), "{}", o.stderr);
}
