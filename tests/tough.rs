//! tough (awslabs, 0.24.0; the Rust client Bottlerocket uses) as a third client beside
//! python-tuf and tuf-js, through the checker in tests/interop/tough that `tests/run-all.sh`
//! builds.
//!
//! The PEP 458 / 480 layout as conclave drafts it (`pypi init --classic-bins`, `pypi claim`),
//! signed, with a root rotated from v1 to v2 (one root key revoked and replaced), project roles
//! signed by their developers and the online roles published: tough loads it with expiry
//! enforced, finds every target and downloads one, and python-tuf, tuf-js and conclave agree.
//! With TAP 15 succinct bins (the `pypi init` default) tough refuses the repository, and
//! `conclave verify --clients tough` says so before anyone publishes it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use conclave::cjson::Value;
use conclave::metadata::*;
use conclave::signer::{Ed25519Signer, Signer};

/// Whether a bin covers a target path.
type Covers = Box<dyn Fn(&str) -> bool>;

struct Built {
    repo: PathBuf,
    /// The server's targets directory, laid out as the spec says for consistent snapshots
    /// (DIR/HASH.NAME), as python-tuf's updater downloads it.
    artifacts: PathBuf,
    /// Every target a client must find.
    found: Vec<String>,
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn pubfile(dir: &Path, name: &str, s: &dyn Signer) {
    std::fs::write(
        dir.join(format!("{name}.pub")),
        conclave::cjson::to_pretty(&s.public_key().to_value()),
    )
    .unwrap();
}

fn draft(path: &Path) -> Targets {
    Metadata::<Targets>::from_bytes(&std::fs::read(path).unwrap())
        .unwrap()
        .signed
}

fn request_line(project: &str, key: &dyn Signer) -> String {
    let k = String::from_utf8(conclave::cjson::to_canonical(&key.public_key().to_value())).unwrap();
    format!("{{\"project\": \"{project}\", \"keys\": [{k}], \"threshold\": 1}}")
}

/// Store `content` as the server does for target `path` (consistent snapshots: the file's
/// SHA-256 before its name, in its directory).
fn store(artifacts: &Path, path: &str, content: &[u8]) {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(content));
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let dir = artifacts.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{hash}.{name}")), content).unwrap();
}

/// The layout through the real binary, signed in-process with the keys whose public halves
/// the binary was given.
fn build(d: &Path, classic: bool, projects: u32) -> Built {
    let repo = d.join("repo");
    let artifacts = d.join("artifacts");
    std::fs::create_dir_all(&repo).unwrap();
    let (ra, rb, rc, rd) = (ed(1), ed(2), ed(3), ed(4));
    let (tk, sk, tsk) = (ed(10), ed(11), ed(12));
    let (a1, a2, rck, uk) = (ed(20), ed(21), ed(30), ed(31));

    // Root v1, then v2 with rc revoked and rd in its place: signed by two of v1's keys and
    // two of v2's (spec 5.3.4).
    let top = |v: u64, keys: &[&dyn Signer]| {
        root(
            v,
            FAR,
            &[
                ("root", keys, 2),
                ("targets", &[&tk], 1),
                ("snapshot", &[&sk], 1),
                ("timestamp", &[&tsk], 1),
            ],
        )
    };
    write(
        &repo,
        "1.root.json",
        &signed(top(1, &[&ra, &rb, &rc]), &[&ra, &rb, &rc]),
    );
    write(
        &repo,
        "2.root.json",
        &signed(top(2, &[&ra, &rb, &rd]), &[&ra, &rb, &rd]),
    );

    for (name, k) in [
        ("admin1", &a1),
        ("admin2", &a2),
        ("rc", &rck),
        ("unclaimed", &uk),
    ] {
        pubfile(d, name, k);
    }
    let mut init = vec![
        "pypi",
        "init",
        "--key",
        "claimed=admin1.pub",
        "--key",
        "claimed=admin2.pub",
        "--threshold",
        "claimed=2",
        "--key",
        "recently-claimed=rc.pub",
        "--key",
        "unclaimed=unclaimed.pub",
        "--expires",
        "365d",
        "--bins",
        "16",
        "-o",
        "targets-draft.json",
    ];
    if classic {
        init.push("--classic-bins");
    }
    ok(conclave_in(d, &init, ""));

    let devs: Vec<Ed25519Signer> = (0..projects).map(|i| ed(1000 + i)).collect();
    let lines: Vec<String> = devs
        .iter()
        .enumerate()
        .map(|(i, k)| request_line(&format!("Project_{i}"), k))
        .collect();
    std::fs::write(d.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    ok(conclave_in(
        d,
        &[
            "pypi",
            "claim",
            "--requests",
            "requests.jsonl",
            "--expires",
            "180d",
            "-o",
            "claimed-draft.json",
        ],
        "",
    ));

    write(
        &repo,
        "1.targets.json",
        &signed(draft(&d.join("targets-draft.json")), &[&tk]),
    );
    write(
        &repo,
        "1.claimed.json",
        &signed(draft(&d.join("claimed-draft.json")), &[&a1, &a2]),
    );
    write(
        &repo,
        "1.recently-claimed.json",
        &signed(targets(1, FAR), &[&rck]),
    );

    let mut found = Vec::new();
    // Every project role present and listed in snapshot: tough stops loading a level at the
    // first delegated role snapshot does not list (tests/vectors/compat/).
    for (i, dev) in devs.iter().enumerate() {
        let path = format!("project-{i}/project_{i}-1.0.tar.gz");
        let content = format!("release of project {i}");
        let mut t = targets(1, FAR);
        add_target(&mut t, &path, content.as_bytes());
        write(&repo, &format!("1.project-{i}.json"), &signed(t, &[dev]));
        store(&artifacts, &path, content.as_bytes());
        found.push(path);
    }

    let unclaimed = draft(&d.join("unclaimed.json"));
    write(
        &repo,
        "1.unclaimed.json",
        &signed(unclaimed.clone(), &[&uk]),
    );
    let loose: [(&str, &[u8]); 2] = [
        ("loose-1.0.tar.gz", b"a loose file at the top"),
        (
            "unclaimed-pkg/unclaimed_pkg-1.0.tar.gz",
            b"an unclaimed project's file",
        ),
    ];
    let bins: Vec<(String, Covers)> = match &unclaimed.delegations.as_ref().unwrap().roles {
        DelegationRoles::List(roles) => {
            assert!(
                classic,
                "--classic-bins was not given, yet the bins are listed"
            );
            roles
                .iter()
                .map(|r| {
                    let name = r.name.as_str().to_owned();
                    let r = r.clone();
                    let f: Covers = Box::new(move |p| r.covers(p));
                    (name, f)
                })
                .collect()
        }
        DelegationRoles::Succinct(s) => {
            assert!(
                !classic,
                "--classic-bins was given, yet the bins are succinct"
            );
            (0..s.bin_count())
                .map(|i| {
                    let (s, name) = (s.clone(), s.bin_name(i));
                    let n = name.clone();
                    let f: Covers = Box::new(move |p| s.bin_for(p) == n);
                    (name, f)
                })
                .collect()
        }
    };
    assert_eq!(bins.len(), 16);
    for (name, covers) in &bins {
        let mut t = targets(1, FAR);
        for (path, content) in loose {
            if covers(path) {
                add_target(&mut t, path, content);
            }
        }
        write(&repo, &format!("1.{name}.json"), &signed(t, &[&uk]));
    }
    for (path, content) in loose {
        store(&artifacts, path, content);
        found.push(path.to_owned());
    }
    publish(&repo, 1, &sk, &tsk);
    Built {
        repo,
        artifacts,
        found,
    }
}

fn python_tuf(repo: &Path) -> Outcome {
    run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(repo))
}

/// python-tuf's ngclient finding each target through the delegations.
fn python_tuf_resolves(repo: &Path, targets: &[String]) -> Outcome {
    run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_resolve.py"))
        .arg(repo)
        .args(targets))
}

fn tuf_js(repo: &Path, targets: &[String]) -> Outcome {
    let (node, script) = node_verifier();
    let mut cmd = Command::new(node);
    cmd.arg(script).arg(repo);
    for t in targets {
        cmd.arg("--target").arg(t);
    }
    run(&mut cmd)
}

fn target_entry<'a>(v: &'a Value, path: &str) -> &'a Value {
    let Some(Value::Array(ts)) = v.get("targets") else {
        panic!("no targets in tough's verdict: {v:?}")
    };
    ts.iter()
        .find(|t| t.get("path").and_then(Value::as_str) == Some(path))
        .unwrap_or_else(|| panic!("{path} is not in tough's verdict"))
}

#[test]
fn the_checker_is_built_and_refuses_what_is_not_a_repository() {
    // Fails, loudly, when tests/run-all.sh did not build the checker.
    let checker = tough_checker();
    let tmp = tempfile::tempdir().unwrap();
    let (o, v) = tough(tmp.path(), &[], None);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(v.get("verdict").and_then(Value::as_str), Some("invalid"));
    assert_eq!(v.get("version").and_then(Value::as_str), Some("0.24.0"));
    let usage = run(Command::new(checker).arg("--bogus"));
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

#[test]
fn classic_bins_claimed_projects_and_a_rotated_root_load_in_tough_python_tuf_and_tuf_js() {
    let tmp = tempfile::tempdir().unwrap();
    let b = build(tmp.path(), true, 40);

    let c = run(conclave().args(["verify", "--clients", "all"]).arg(&b.repo));
    assert_eq!(c.code, 0, "conclave:\n{}\n{}", c.stdout, c.stderr);
    assert!(
        c.stdout
            .contains("clients: python-tuf, tuf-js, tough, go-tuf: none would refuse"),
        "{}",
        c.stdout
    );
    assert!(!c.stderr.contains("compat:"), "{}", c.stderr);

    let py = python_tuf(&b.repo);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    let py = python_tuf_resolves(&b.repo, &b.found);
    assert_eq!(
        py.code, 0,
        "python-tuf ngclient:\n{}{}",
        py.stdout, py.stderr
    );
    let js = tuf_js(&b.repo, &b.found);
    assert_eq!(js.code, 0, "tuf-js:\n{}{}", js.stdout, js.stderr);

    // tough: the whole chain with expiry enforced, every target found through claimed ->
    // project and unclaimed -> bin.
    let found: Vec<&str> = b.found.iter().map(String::as_str).collect();
    let (o, v) = tough(&b.repo, &found, None);
    assert_eq!(o.code, 0, "tough:\n{}\n{}", o.stdout, o.stderr);
    for t in &found {
        assert_eq!(
            target_entry(&v, t).get("found"),
            Some(&Value::Bool(true)),
            "{t}"
        );
    }

    // Downloaded from the server's targets directory and checked against the metadata.
    let (o, v) = tough(&b.repo, &["loose-1.0.tar.gz"], Some(&b.artifacts));
    assert_eq!(o.code, 0, "tough download:\n{}\n{}", o.stdout, o.stderr);
    assert_eq!(
        target_entry(&v, "loose-1.0.tar.gz").get("downloaded"),
        Some(&Value::Bool(true))
    );
    // With consistent snapshots tough asks for DIR/NAME as HASH.DIR/NAME, where the spec and
    // python-tuf use DIR/HASH.NAME: from a server laid out by the spec it gets nothing.
    let nested = "project-0/project_0-1.0.tar.gz";
    let (o, v) = tough(&b.repo, &[nested], Some(&b.artifacts));
    assert_eq!(
        o.code, 1,
        "tough found {nested} laid out by the spec:\n{}",
        o.stdout
    );
    assert_eq!(
        target_entry(&v, nested).get("downloaded"),
        Some(&Value::Bool(false))
    );
    // Laid out tough's way, the same file downloads and checks.
    let tough_way = tmp.path().join("tough-way");
    {
        use sha2::Digest;
        let content = b"release of project 0";
        let hash = hex::encode(sha2::Sha256::digest(content));
        let file = tough_way.join(format!("{hash}.{nested}"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let (o, v) = tough(&b.repo, &[nested], Some(&tough_way));
    assert_eq!(o.code, 0, "tough download:\n{}\n{}", o.stdout, o.stderr);
    assert_eq!(
        target_entry(&v, nested).get("downloaded"),
        Some(&Value::Bool(true))
    );
    // A tampered file on the server is refused.
    let tampered = tmp.path().join("tampered");
    copy_tree(&b.artifacts, &tampered);
    for e in std::fs::read_dir(&tampered).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".loose-1.0.tar.gz") {
            std::fs::write(&p, b"a loose file at the toq").unwrap();
        }
    }
    let (o, v) = tough(&b.repo, &["loose-1.0.tar.gz"], Some(&tampered));
    assert_eq!(o.code, 1, "tough took a tampered download:\n{}", o.stdout);
    assert_eq!(
        target_entry(&v, "loose-1.0.tar.gz").get("downloaded"),
        Some(&Value::Bool(false))
    );
}

/// A repository tough must refuse is refused: the checker is not an "accept everything".
#[test]
fn tough_refuses_a_tampered_claimed_role_and_an_expired_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    let b = build(tmp.path(), true, 3);
    let good = std::fs::read_to_string(b.repo.join("1.claimed.json")).unwrap();
    let bad = good.replacen("\"terminating\": true", "\"terminating\": false", 1);
    assert_ne!(good, bad);
    std::fs::write(b.repo.join("1.claimed.json"), bad).unwrap();
    publish(&b.repo, 2, &ed(11), &ed(12));
    let (o, v) = tough(&b.repo, &[], None);
    assert_eq!(
        o.code, 1,
        "tough accepted a tampered claimed:\n{}",
        o.stdout
    );
    let err = v.get("error").and_then(Value::as_str).unwrap_or_default();
    assert!(err.contains("Signature threshold"), "{err}");

    // The other side of the `dropped-field` quirk: tough keeps no unknown fields in a
    // delegated role's entry, so one added after signing goes unnoticed there (conclave,
    // python-tuf and tuf-js refuse it: tests/interop.rs).
    let tmp = tempfile::tempdir().unwrap();
    let b = build(tmp.path(), true, 3);
    let good = std::fs::read_to_string(b.repo.join("1.claimed.json")).unwrap();
    let added = good.replacen("\"threshold\": 1", "\"threshold\": 1, \"x\": 1", 1);
    assert_ne!(good, added);
    std::fs::write(b.repo.join("1.claimed.json"), added).unwrap();
    publish(&b.repo, 2, &ed(11), &ed(12));
    let (o, _) = tough(&b.repo, &[], None);
    assert_eq!(
        o.code, 0,
        "tough now notices unsigned fields:\n{}",
        o.stdout
    );
    assert_eq!(run(conclave().arg("verify").arg(&b.repo)).code, 1);

    let tmp = tempfile::tempdir().unwrap();
    let b = build(tmp.path(), true, 3);
    let ts = Timestamp {
        common: common(2, PAST),
        meta: std::collections::BTreeMap::from([(
            "snapshot.json".into(),
            meta_for(1, &std::fs::read(b.repo.join("1.snapshot.json")).unwrap()),
        )]),
        extra: Default::default(),
    };
    write(&b.repo, "timestamp.json", &signed(ts, &[&ed(12)]));
    let (o, v) = tough(&b.repo, &[], None);
    assert_eq!(
        o.code, 1,
        "tough accepted an expired timestamp:\n{}",
        o.stdout
    );
    let err = v.get("error").and_then(Value::as_str).unwrap_or_default();
    assert!(err.contains("expired"), "{err}");
}

/// `pypi init` without --classic-bins drafts TAP 15 succinct bins, which tough 0.24 cannot
/// read: the lint names it, tough refuses, python-tuf and tuf-js load it.
#[test]
fn succinct_bins_are_refused_by_tough_as_the_lint_predicts() {
    let tmp = tempfile::tempdir().unwrap();
    let b = build(tmp.path(), false, 3);

    let (o, v) = tough(&b.repo, &[], None);
    assert_eq!(o.code, 1, "tough loaded succinct bins:\n{}", o.stdout);
    let err = v.get("error").and_then(Value::as_str).unwrap_or_default();
    assert!(err.contains("missing field `roles`"), "{err}");

    let c = run(conclave()
        .args(["verify", "--clients", "tough"])
        .arg(&b.repo));
    assert_eq!(c.code, 1, "{}\n{}", c.stdout, c.stderr);
    assert!(
        c.stderr
            .contains("1.unclaimed.json: role unclaimed: tough refuses it: succinct-bins"),
        "{}",
        c.stderr
    );
    let c = run(conclave()
        .args(["verify", "--clients", "python-tuf,tuf-js", "--json"])
        .arg(&b.repo));
    assert_eq!(c.code, 0, "{}\n{}", c.stdout, c.stderr);
    let report = conclave::cjson::parse(c.stdout.as_bytes()).unwrap();
    assert_eq!(
        report.get("compat").and_then(|c| c.get("findings")),
        Some(&Value::Array(Vec::new()))
    );

    let py = python_tuf_resolves(&b.repo, &b.found);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    let js = tuf_js(&b.repo, &b.found);
    assert_eq!(js.code, 0, "tuf-js:\n{}{}", js.stdout, js.stderr);

    // Told that tough must load the result, `pypi init` drafts no succinct bins.
    let init = |extra: &[&str], out: &str| {
        let mut args = vec![
            "pypi",
            "init",
            "--key",
            "claimed=admin1.pub",
            "--key",
            "recently-claimed=rc.pub",
            "--key",
            "unclaimed=unclaimed.pub",
            "--expires",
            "365d",
            "--bins",
            "16",
            "--unclaimed-out",
            "unclaimed-again.json",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        conclave_in(tmp.path(), &args, "")
    };
    let o = init(&["--clients", "python-tuf,tough"], "again.json");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("tough 0.24 cannot read TAP 15 succinct bins")
            && o.stderr.contains("hint: add --classic-bins"),
        "{}",
        o.stderr
    );
    assert!(!tmp.path().join("again.json").exists());
    let o = init(&["--clients", "all", "--classic-bins"], "again.json");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("Note:"), "{}", o.stderr);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
