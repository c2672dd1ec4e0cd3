//! Real repositories made by other tools: conclave's verdict equals python-tuf's.
//!
//! tests/vectors/conformance/ holds the static repositories theupdateframework/tuf-conformance
//! keeps as data (sigstore's root-signing as served by its CDN, and one made by tuf-on-ci
//! 0.11), each with `initial_root.json`, `faketime` and `targetpath`. For each, and for the
//! same repository judged at another time or from another trust anchor, `conclave verify
//! metadata --trusted-root ANCHOR --at TIME` must say what python-tuf's ngclient says when it
//! starts from the same root at the same time and downloads the target
//! (tests/interop/python/tuf_client_at.py). Roots older than the anchor are never loaded by
//! a client (sigstore's roots 1 to 3 have expiry times python-tuf cannot read): conclave
//! reports them as not loaded, not as failures.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Case {
    /// The repository under tests/vectors/conformance/.
    repo: &'static str,
    /// The trust anchor, relative to the repository.
    anchor: &'static str,
    /// The client's time: the repository's `faketime`, or another.
    at: Option<&'static str>,
    /// What both clients must say.
    ok: bool,
    /// Roots conclave reports as not loaded (older than the anchor).
    not_loaded: usize,
}

const CASES: [Case; 6] = [
    // As served, from the root sigstore's clients ship (v12): loads.
    Case {
        repo: "sigstore-root-signing",
        anchor: "initial_root.json",
        at: None,
        ok: true,
        not_loaded: 11,
    },
    // Three weeks later: timestamp has expired.
    Case {
        repo: "sigstore-root-signing",
        anchor: "initial_root.json",
        at: Some("2025-03-01T00:00:00Z"),
        ok: false,
        not_loaded: 11,
    },
    // From root v1: roots 1-3 are loaded, and their expiry is not a TUF time.
    Case {
        repo: "sigstore-root-signing",
        anchor: "metadata/1.root.json",
        at: None,
        ok: false,
        not_loaded: 0,
    },
    // From v11 (keyids that are not spec compliant on paper; clients load it).
    Case {
        repo: "sigstore-root-signing",
        anchor: "metadata/11.root.json",
        at: None,
        ok: true,
        not_loaded: 10,
    },
    Case {
        repo: "tuf-on-ci-0.11",
        anchor: "initial_root.json",
        at: None,
        ok: true,
        not_loaded: 0,
    },
    // tuf-on-ci's repository is valid until 2044.
    Case {
        repo: "tuf-on-ci-0.11",
        anchor: "initial_root.json",
        at: Some("2045-01-01T00:00:00Z"),
        ok: false,
        not_loaded: 0,
    },
];

fn vectors() -> PathBuf {
    repo_root().join("tests/vectors/conformance")
}

/// `faketime` (`2025-02-09 12:02:08+00:00`) as a UTC time conclave reads.
fn faketime(repo: &Path) -> String {
    let t = std::fs::read_to_string(repo.join("faketime")).unwrap();
    let t = t.trim();
    let utc = t
        .strip_suffix("+00:00")
        .unwrap_or_else(|| panic!("{}: not a UTC time: {t}", repo.display()));
    format!("{}Z", utc.replace(' ', "T"))
}

fn python_tuf(repo: &Path, anchor: &Path, at: &str) -> (bool, String) {
    let target = std::fs::read_to_string(repo.join("targetpath")).unwrap();
    let o = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_client_at.py"))
        .arg(repo)
        .arg(anchor)
        .arg(at)
        .arg(target.trim()));
    assert!(
        o.code == 0 || o.code == 1,
        "tuf_client_at.py crashed:\n{}\n{}",
        o.stdout,
        o.stderr
    );
    (o.code == 0, o.stdout)
}

#[test]
fn conclave_judges_real_repositories_as_python_tuf_does() {
    for c in CASES {
        let repo = vectors().join(c.repo);
        let anchor = repo.join(c.anchor);
        let at = c.at.map_or_else(|| faketime(&repo), str::to_owned);
        let label = format!("{} from {} at {at}", c.repo, c.anchor);
        let (py_ok, py_out) = python_tuf(&repo, &anchor, &at);
        assert_eq!(py_ok, c.ok, "python-tuf on {label}: {py_out}");
        let o = run(conclave()
            .arg("verify")
            .arg(repo.join("metadata"))
            .arg("--trusted-root")
            .arg(&anchor)
            .arg("--at")
            .arg(&at)
            .arg("--json"));
        assert_eq!(
            o.code == 0,
            c.ok,
            "conclave verify on {label} (python-tuf: {py_out}):\n{}\n{}",
            o.stdout,
            o.stderr
        );
        let v = conclave::cjson::parse(o.stdout.as_bytes())
            .unwrap_or_else(|e| panic!("{label}: --json is not JSON: {e}\n{}", o.stdout));
        let Some(conclave::cjson::Value::Array(files)) = v.get("files") else {
            panic!("{label}: no files in {}", o.stdout)
        };
        let not_loaded: Vec<String> = files
            .iter()
            .filter(|f| f.get("status").and_then(|s| s.as_str()) == Some("not-loaded"))
            .filter_map(|f| f.get("file").and_then(|s| s.as_str()).map(str::to_owned))
            .collect();
        assert_eq!(not_loaded.len(), c.not_loaded, "{label}: {not_loaded:?}");
        // No problem is reported against a root that is not loaded.
        let Some(conclave::cjson::Value::Array(problems)) = v.get("problems") else {
            panic!("{label}: no problems list in {}", o.stdout)
        };
        for p in problems {
            let file = p.get("file").and_then(|s| s.as_str()).unwrap_or_default();
            assert!(
                !not_loaded.iter().any(|n| n == file),
                "{label}: {file} is not loaded but judged: {p:?}"
            );
        }
    }
}

/// The human report says which roots were not loaded and why that is not a failure.
#[test]
fn roots_older_than_the_anchor_are_shown_as_not_loaded() {
    let repo = vectors().join("sigstore-root-signing");
    let o = run(conclave()
        .arg("verify")
        .arg(repo.join("metadata"))
        .arg("--trusted-root")
        .arg(repo.join("initial_root.json"))
        .arg("--at")
        .arg(faketime(&repo)));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("not loaded  1.root.json"), "{}", o.stdout);
    assert!(!o.stdout.contains("FAILED"), "{}", o.stdout);
}
