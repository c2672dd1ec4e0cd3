//! PEP 480 end to end through the real binary: `pypi init`, `pypi claim` with 10,000 projects,
//! two PyPI admins signing claimed, a developer-signed project role; verified by conclave,
//! python-tuf and tuf-js. Then a developer key is revoked and the project re-signed; then the
//! claimed role's admin keys are rotated through `delegation rotate`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use conclave::metadata::*;
use conclave::signer::{Ed25519Signer, Signer};

const PASS: &str = "rehearsal passphrase for tests";

fn cli(args: &[&str], stdin: &str, dir: &Path) -> Outcome {
    conclave_in(dir, args, stdin)
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn keyfile(dir: &Path, name: &str) {
    generate_key_file(dir, name, PASS);
    let o = ok(cli(&["key", "public", &format!("{name}.key")], "", dir));
    std::fs::write(dir.join(format!("{name}.pub")), o.stdout).unwrap();
}

fn pubfile(dir: &Path, name: &str, s: &dyn Signer) {
    std::fs::write(
        dir.join(format!("{name}.pub")),
        conclave::cjson::to_pretty(&s.public_key().to_value()),
    )
    .unwrap();
}

/// Sign FILE as ROLE; DELEGATOR "" for a root version 1 (nothing delegates to a root).
fn sign(dir: &Path, file: &str, role: &str, delegator: &str, key: &str, out: &str) {
    let mut args = vec!["sign", file, "--role", role];
    if !delegator.is_empty() {
        args.extend(["--delegator", delegator]);
    }
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    ok(cli(&args, &format!("{PASS}\n"), dir));
}

fn read_targets(path: &Path) -> Metadata<Targets> {
    Metadata::from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

fn dev(i: u32) -> Ed25519Signer {
    ed(100_000 + i)
}

fn request_line(project: &str, keys: &[&dyn Signer], threshold: u32) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| {
            String::from_utf8(conclave::cjson::to_canonical(&k.public_key().to_value())).unwrap()
        })
        .collect();
    format!(
        "{{\"project\": \"{project}\", \"keys\": [{}], \"threshold\": {threshold}}}",
        keys.join(", ")
    )
}

/// The online side: sign recently-claimed, unclaimed and its bins, then snapshot and
/// timestamp over everything in `repo`.
struct Online {
    rc: Ed25519Signer,
    unclaimed: Ed25519Signer,
    snapshot: Ed25519Signer,
    timestamp: Ed25519Signer,
}

impl Online {
    fn publish(&self, repo: &Path, version: u64) {
        publish(repo, version, &self.snapshot, &self.timestamp);
    }
}

/// Verdicts of conclave, python-tuf and (when `js`) tuf-js. tuf-js needs about a minute to
/// load a claimed role with 10,000 delegations on this machine, so it runs on the first and
/// the last accepted state only; its rejections are covered in tests/interop.rs.
fn verify_all(repo: &Path, targets: &[&str], js: bool) -> (Outcome, Outcome, Option<Outcome>) {
    let c = run(conclave().arg("verify").arg(repo));
    let py = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(repo));
    let js = js.then(|| {
        let (node, script) = node_verifier();
        let mut cmd = Command::new(node);
        cmd.arg(script).arg(repo);
        for t in targets {
            cmd.arg("--target").arg(t);
        }
        run(&mut cmd)
    });
    (c, py, js)
}

fn assert_all_accept(repo: &Path, targets: &[&str], js: bool) {
    let (c, py, js) = verify_all(repo, targets, js);
    assert_eq!(c.code, 0, "conclave:\n{}\n{}", c.stdout, c.stderr);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    if let Some(js) = js {
        assert_eq!(js.code, 0, "tuf-js:\n{}{}", js.stdout, js.stderr);
    }
}

#[test]
fn pep480_claim_sign_verify_revoke_and_rotate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let online = Online {
        rc: ed(1),
        unclaimed: ed(2),
        snapshot: ed(3),
        timestamp: ed(4),
    };

    // Offline keys in key files: the root/targets officer and three PyPI admins.
    for k in ["officer", "admin1", "admin2", "admin3"] {
        keyfile(d, k);
    }
    pubfile(d, "rc", &online.rc);
    pubfile(d, "unclaimed", &online.unclaimed);
    pubfile(d, "snapshot", &online.snapshot);
    pubfile(d, "timestamp", &online.timestamp);

    // Root.
    ok(cli(
        &[
            "root",
            "init",
            "--key",
            "root=officer.pub",
            "--key",
            "targets=officer.pub",
            "--key",
            "snapshot=snapshot.pub",
            "--key",
            "timestamp=timestamp.pub",
            "--expires",
            "365d",
            "-o",
            "root-draft.json",
        ],
        "",
        d,
    ));
    ok(cli(
        &[
            "sign",
            "root-draft.json",
            "--key",
            "officer.key",
            "--passphrase-fd",
            "0",
            "-o",
            "root.sig",
        ],
        &format!("{PASS}\n"),
        d,
    ));
    ok(cli(
        &[
            "merge",
            "root-draft.json",
            "root.sig",
            "-o",
            "repo/1.root.json",
        ],
        "",
        d,
    ));

    // The PEP 480 layout, 16 succinct bins.
    ok(cli(
        &[
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
        ],
        "",
        d,
    ));
    sign(
        d,
        "targets-draft.json",
        "targets",
        "repo/1.root.json",
        "officer.key",
        "targets.sig",
    );
    ok(cli(
        &[
            "merge",
            "targets-draft.json",
            "targets.sig",
            "--role",
            "targets",
            "--delegator",
            "repo/1.root.json",
            "-o",
            "repo/1.targets.json",
        ],
        "",
        d,
    ));

    // 10,000 projects claimed in one batch; project-42 has two developer keys.
    let devs: Vec<Ed25519Signer> = (0..10_000).map(dev).collect();
    let extra42 = ed(999_999);
    let mut lines = Vec::new();
    for (i, k) in devs.iter().enumerate() {
        let name = format!("Project_{i}");
        lines.push(if i == 42 {
            request_line(&name, &[k, &extra42], 1)
        } else {
            request_line(&name, &[k], 1)
        });
    }
    std::fs::write(d.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let o = ok(cli(
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
        d,
    ));
    assert!(
        o.stderr
            .contains("projects: 10000 added, 0 changed, 0 removed"),
        "{}",
        o.stderr
    );
    sign(
        d,
        "claimed-draft.json",
        "claimed",
        "repo/1.targets.json",
        "admin1.key",
        "claimed.a1.sig",
    );
    sign(
        d,
        "claimed-draft.json",
        "claimed",
        "repo/1.targets.json",
        "admin2.key",
        "claimed.a2.sig",
    );
    let st = ok(cli(
        &[
            "status",
            "claimed-draft.json",
            "--role",
            "claimed",
            "--delegator",
            "repo/1.targets.json",
        ],
        "",
        d,
    ));
    // The signature files beside the draft are counted, not merged.
    assert!(
        st.stdout
            .contains("COMPLETE - every threshold is met with the signature files below"),
        "{}",
        st.stdout
    );
    ok(cli(
        &[
            "merge",
            "claimed-draft.json",
            "claimed.a1.sig",
            "claimed.a2.sig",
            "--role",
            "claimed",
            "--delegator",
            "repo/1.targets.json",
            "-o",
            "repo/1.claimed.json",
        ],
        "",
        d,
    ));

    // project-42's role, signed by one of its developers.
    let target42 = "project-42/project_42-1.0.tar.gz";
    let mut p42 = targets(1, FAR);
    add_target(&mut p42, target42, b"project 42's release");
    write(
        &repo,
        "1.project-42.json",
        &signed(p42.clone(), &[&devs[42]]),
    );

    // The online roles.
    write(
        &repo,
        "1.recently-claimed.json",
        &signed(targets(1, FAR), &[&online.rc]),
    );
    let unclaimed_draft = read_targets(&d.join("unclaimed.json"));
    let bins = match &unclaimed_draft.signed.delegations.as_ref().unwrap().roles {
        DelegationRoles::Succinct(s) => s.clone(),
        _ => panic!("succinct bins expected"),
    };
    write(
        &repo,
        "1.unclaimed.json",
        &signed(unclaimed_draft.signed.clone(), &[&online.unclaimed]),
    );
    let loose = "loose/loose-1.0.tar.gz";
    for i in 0..bins.bin_count() {
        let name = bins.bin_name(i);
        let mut t = targets(1, FAR);
        if bins.bin_for(loose) == name {
            add_target(&mut t, loose, b"unclaimed");
        }
        write(
            &repo,
            &format!("1.{name}.json"),
            &signed(t, &[&online.unclaimed]),
        );
    }
    online.publish(&repo, 1);
    assert_all_accept(&repo, &[target42, loose], false);

    // A signature by one admin only is not enough: python-tuf and conclave must refuse.
    let one_admin = d.join("one-admin");
    std::fs::create_dir(&one_admin).unwrap();
    for e in std::fs::read_dir(&repo).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), one_admin.join(e.file_name())).unwrap();
    }
    let one_admin_merge = [
        "merge",
        "claimed-draft.json",
        "claimed.a1.sig",
        "--allow-partial",
        "--role",
        "claimed",
        "--delegator",
        "repo/1.targets.json",
        "-o",
        "one-admin/1.claimed.json",
    ];
    // conclave never puts the half-signed draft in place of the fully signed copy...
    let o = cli(&one_admin_merge, "", d);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("(it meets every threshold; the merged file would not)"),
        "{}",
        o.stderr
    );
    // ...so the attacker's repository is built without it.
    std::fs::remove_file(one_admin.join("1.claimed.json")).unwrap();
    ok(cli(&one_admin_merge, "", d));
    online.publish(&one_admin, 1);
    let (c, py, _) = verify_all(&one_admin, &[target42], false);
    assert_eq!((c.code, py.code), (1, 1), "{}\n{}", c.stderr, py.stdout);
    assert!(
        c.stderr
            .contains("1.claimed.json: role claimed: threshold: 1 of the threshold 2"),
        "{}",
        c.stderr
    );

    // Developer key compromise: revoke devs[42]'s key; project-42 keeps its other key.
    let revoked = devs[42].public_key().keyid();
    let o = ok(cli(
        &[
            "pypi",
            "revoke-developer-key",
            &revoked.as_str(),
            "--claimed",
            "repo/1.claimed.json",
            "-o",
            "claimed-v2.json",
        ],
        "",
        d,
    ));
    assert!(o.stderr.contains("1 changed"), "{}", o.stderr);
    sign(
        d,
        "claimed-v2.json",
        "claimed",
        "repo/1.targets.json",
        "admin1.key",
        "c2.a1.sig",
    );
    sign(
        d,
        "claimed-v2.json",
        "claimed",
        "repo/1.targets.json",
        "admin2.key",
        "c2.a2.sig",
    );
    ok(cli(
        &[
            "merge",
            "claimed-v2.json",
            "c2.a1.sig",
            "c2.a2.sig",
            "--role",
            "claimed",
            "--delegator",
            "repo/1.targets.json",
            "-o",
            "repo/2.claimed.json",
        ],
        "",
        d,
    ));
    online.publish(&repo, 2);
    // The project role signed by the revoked key no longer verifies anywhere.
    let (c, py, _) = verify_all(&repo, &[target42], false);
    assert_eq!(c.code, 1, "{}", c.stdout);
    assert!(
        c.stderr
            .contains("1.project-42.json: role project-42: threshold"),
        "{}",
        c.stderr
    );
    assert_eq!(py.code, 1, "{}", py.stdout);
    // Re-signed by the remaining developer key, as version 2, it verifies again.
    let mut p42v2 = p42.clone();
    p42v2.common.version = Version::new(2).unwrap();
    write(&repo, "2.project-42.json", &signed(p42v2, &[&extra42]));
    online.publish(&repo, 3);
    assert_all_accept(&repo, &[target42], false);

    // Rotating claimed's admins: admin2 retires, admin3 joins, through targets.
    let admin2 = conclave::keystore::KeyFile::parse(&std::fs::read(d.join("admin2.key")).unwrap())
        .unwrap()
        .public_key()
        .keyid();
    let o = ok(cli(
        &[
            "delegation",
            "rotate",
            "repo/1.targets.json",
            "--role",
            "claimed",
            "--remove-key",
            &admin2.as_str(),
            "--add-key",
            "admin3.pub",
            "-o",
            "targets-v2.json",
        ],
        "",
        d,
    ));
    assert!(
        o.stderr.contains("removed") && o.stderr.contains("added"),
        "{}",
        o.stderr
    );
    sign(
        d,
        "targets-v2.json",
        "targets",
        "repo/1.root.json",
        "officer.key",
        "t2.sig",
    );
    ok(cli(
        &[
            "merge",
            "targets-v2.json",
            "t2.sig",
            "--role",
            "targets",
            "--delegator",
            "repo/1.root.json",
            "-o",
            "repo/2.targets.json",
        ],
        "",
        d,
    ));
    // claimed v3, re-signed by the new admin set (admin1 + admin3).
    let mut c3 = read_targets(&repo.join("2.claimed.json")).signed;
    c3.common.version = Version::new(3).unwrap();
    std::fs::write(d.join("claimed-v3.json"), Metadata::new(c3).to_file_bytes()).unwrap();
    // The retired admin's signature no longer counts.
    sign(
        d,
        "claimed-v3.json",
        "claimed",
        "repo/1.targets.json",
        "admin2.key",
        "c3.a2.sig",
    );
    let o = cli(
        &[
            "merge",
            "claimed-v3.json",
            "c3.a2.sig",
            "--role",
            "claimed",
            "--delegator",
            "repo/2.targets.json",
            "-o",
            "x.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("may not sign role \"claimed\""),
        "{}",
        o.stderr
    );
    sign(
        d,
        "claimed-v3.json",
        "claimed",
        "repo/2.targets.json",
        "admin1.key",
        "c3.a1.sig",
    );
    sign(
        d,
        "claimed-v3.json",
        "claimed",
        "repo/2.targets.json",
        "admin3.key",
        "c3.a3.sig",
    );
    ok(cli(
        &[
            "merge",
            "claimed-v3.json",
            "c3.a1.sig",
            "c3.a3.sig",
            "--role",
            "claimed",
            "--delegator",
            "repo/2.targets.json",
            "-o",
            "repo/3.claimed.json",
        ],
        "",
        d,
    ));
    online.publish(&repo, 4);
    assert_all_accept(&repo, &[target42, loose], true);
}

#[test]
fn bad_request_lines_are_reported_with_numbers_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = ed(1);
    let good = request_line("alpha", &[&a], 1);
    let text = [
        good.clone(),
        request_line("Alpha", &[&a], 1),
        "{\"project\": \"beta\"".to_owned(),
        request_line("gamma", &[&a], 0),
        request_line("delta", &[&a], 3),
        "{\"project\": \"eps\", \"keys\": [{\"keytype\": \"rsa\", \"scheme\": \"rsassa-pss-sha256\", \"keyval\": {\"public\": \"x\"}}], \"threshold\": 1}".to_owned(),
        request_line("alpha", &[&a], 1),
    ]
    .join("\n");
    std::fs::write(d.join("req.jsonl"), text).unwrap();
    let o = cli(
        &[
            "pypi",
            "claim",
            "--requests",
            "req.jsonl",
            "--expires",
            "30d",
            "-o",
            "out.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    for needle in [
        "req.jsonl: line 2: \"Alpha\" and \"alpha\" (line 1) normalise alike",
        "req.jsonl: line 3: not valid JSON",
        "req.jsonl: line 4: threshold 0 is below 1",
        "req.jsonl: line 5: threshold 3 is above the number of keys",
        "req.jsonl: line 6: keys[0] has keytype \"rsa\"",
        "req.jsonl: line 7: project \"alpha\" is also requested on line 1",
    ] {
        assert!(
            o.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            o.stderr
        );
    }
    assert!(!d.join("out.json").exists());
}

#[test]
fn pypi_init_refuses_bad_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    pubfile(d, "a", &ed(1));
    pubfile(d, "b", &ed(2));
    let base = [
        "pypi",
        "init",
        "--key",
        "claimed=a.pub",
        "--key",
        "recently-claimed=b.pub",
        "--key",
        "unclaimed=b.pub",
        "--expires",
        "30d",
        "-o",
        "t.json",
    ];
    for (extra, needle) in [
        (vec!["--bins", "1000"], "power of two"),
        (
            vec!["--claimed-bins", "1000"],
            "--claimed-bins must be a power of two",
        ),
        (vec!["--threshold", "claimed=2"], "could never be met"),
        (
            vec!["--key", "bins=a.pub"],
            "not claimed, recently-claimed or unclaimed",
        ),
        (
            vec!["--key", "unclaimed=a.pub"],
            "both an (offline) claimed key and an online key",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let o = cli(&args, "", d);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{args:?}: {}", o.stderr);
        assert!(
            !d.join("t.json").exists()
                && !d.join("unclaimed.json").exists()
                && !d.join("claimed").exists()
        );
    }
    // Classic bins: python-tuf's range names.
    let mut args = base.to_vec();
    args.extend(["--classic-bins", "--bins", "256"]);
    ok(cli(&args, "", d));
    let u = read_targets(&d.join("unclaimed.json"));
    let DelegationRoles::List(roles) = &u.signed.delegations.as_ref().unwrap().roles else {
        panic!()
    };
    assert_eq!(roles.len(), 256);
    assert_eq!(roles[0].name.as_str(), "00");
    let t = read_targets(&d.join("t.json"));
    let DelegationRoles::List(top) = &t.signed.delegations.as_ref().unwrap().roles else {
        panic!()
    };
    let names: Vec<&str> = top.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["claimed", "recently-claimed", "unclaimed"]);
}

fn merge_into(dir: &Path, draft: &str, sigs: &[&str], role: &str, delegator: &str, out: &str) {
    let mut args = vec!["merge", draft];
    args.extend(sigs);
    args.extend(["--role", role, "--delegator", delegator, "-o", out]);
    ok(cli(&args, "", dir));
}

/// Sign `draft` with both admins and merge it into `out`.
fn admins_sign(dir: &Path, draft: &str, role: &str, delegator: &str, out: &str) {
    let (s1, s2) = (format!("{draft}.a1.sig"), format!("{draft}.a2.sig"));
    sign(dir, draft, role, delegator, "admin1.key", &s1);
    sign(dir, draft, role, delegator, "admin2.key", &s2);
    merge_into(dir, draft, &[&s1, &s2], role, delegator, out);
}

/// A whole claim round signed as a directory: each admin signs every draft in `round` with one
/// `sign` (one passphrase, one round digest to compare), and one `merge` writes them all into
/// repo/. Refusals along the way: a key that may not sign the bins, a merge below threshold,
/// a signature directory from another round; each leaves nothing written.
fn sign_and_merge_round(d: &Path, round: &str, delegator: &str, drafts: usize) {
    let sign_round = |key: &str, out: &str| {
        cli(
            &[
                "sign",
                round,
                "--delegator",
                delegator,
                "--key",
                key,
                "--passphrase-fd",
                "0",
                "-o",
                out,
            ],
            &format!("{PASS}\n"),
            d,
        )
    };
    let digest_line = |stderr: &str| {
        let mut lines = stderr.lines();
        lines.find(|l| l.starts_with("Round digest"));
        lines.next().unwrap_or_default().to_owned()
    };
    // The root officer's key does not sign claimed's bins: refused before the passphrase is
    // used, nothing written.
    let o = sign_round("officer.key", &format!("{round}-officer"));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("may not sign {drafts} of the {drafts} drafts")),
        "{}",
        o.stderr
    );
    assert!(!d.join(format!("{round}-officer")).exists());

    let a1 = ok(sign_round("admin1.key", &format!("{round}-a1")));
    let a2 = ok(sign_round("admin2.key", &format!("{round}-a2")));
    assert_eq!(digest_line(&a1.stderr), digest_line(&a2.stderr));
    assert_eq!(digest_line(&a1.stderr).len(), 2 + 64 + 7, "{}", a1.stderr);
    let sigs = files_in(&d.join(format!("{round}-a1")));
    assert_eq!(sigs.len(), drafts);
    assert!(sigs.iter().all(|s| s.ends_with(".json.sig")), "{sigs:?}");
    // Signing into an existing directory is refused.
    let o = sign_round("admin1.key", &format!("{round}-a1"));
    assert_eq!(o.code, 2, "{}", o.stderr);

    // One admin's signatures are below claimed's threshold of 2: status says so, merge refuses.
    let merge_round = |sigs: &[&str]| {
        let mut args = vec!["merge", round];
        args.extend(sigs);
        args.extend(["--delegator", delegator, "-o", "repo"]);
        cli(&args, "", d)
    };
    let before = files_in(&d.join("repo"));
    let o = merge_round(&[&format!("{round}-a1")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("{drafts} draft(s) are below")),
        "{}",
        o.stderr
    );
    assert_eq!(files_in(&d.join("repo")), before);
    let o = cli(
        &["status", round, "--delegator", delegator, "--check"],
        "",
        d,
    );
    assert_eq!(o.code, 1, "--check: not complete\n{}", o.stderr);
    assert!(
        o.stdout
            .contains(&format!("0 of {drafts} drafts meet every threshold")),
        "{}",
        o.stdout
    );

    // A signature directory holding a signature for a file that is not in this round.
    let stray = d.join(format!("{round}-stray"));
    std::fs::create_dir(&stray).unwrap();
    std::fs::write(stray.join("9.claimed-bins-0.json.sig"), b"{}").unwrap();
    let o = merge_round(&[&format!("{round}-a1"), &format!("{round}-stray")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("which is not in this round"),
        "{}",
        o.stderr
    );
    assert_eq!(files_in(&d.join("repo")), before);

    let o = ok(merge_round(&[
        &format!("{round}-a1"),
        &format!("{round}-a2"),
    ]));
    assert!(
        o.stderr
            .contains(&format!("{drafts} of {drafts} drafts meet every threshold")),
        "{}",
        o.stderr
    );
    for f in files_in(&d.join(round)) {
        assert!(d.join("repo").join(&f).exists(), "{f} was not merged");
    }
}

fn resolve(repo: &Path, targets: &[&str]) -> Outcome {
    let mut cmd = Command::new(python());
    cmd.arg(repo_root().join("tests/interop/python/tuf_resolve.py"))
        .arg(repo);
    cmd.args(targets);
    run(&mut cmd)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Claimed in 8 hash bins: `pypi init --claimed-bins`, 300 projects claimed into the bins by
/// `pypi claim`, every bin and claimed signed by two admins through `sign` and
/// `merge --delegator`; conclave verify and python-tuf accept the repository, and python-tuf's
/// ngclient finds a claimed project's target through claimed -> its bin -> the project, finds
/// an unclaimed target through unclaimed's bins, and refuses a claimed project's target that
/// only the online unclaimed key vouches for. A later round drafts only the bins that change;
/// revoking a developer key re-drafts only that project's bin.
#[test]
fn claimed_in_bins_claim_sign_verify_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let online = Online {
        rc: ed(1),
        unclaimed: ed(2),
        snapshot: ed(3),
        timestamp: ed(4),
    };
    for k in ["officer", "admin1", "admin2"] {
        keyfile(d, k);
    }
    pubfile(d, "rc", &online.rc);
    pubfile(d, "unclaimed", &online.unclaimed);
    pubfile(d, "snapshot", &online.snapshot);
    pubfile(d, "timestamp", &online.timestamp);
    ok(cli(
        &[
            "root",
            "init",
            "--key",
            "root=officer.pub",
            "--key",
            "targets=officer.pub",
            "--key",
            "snapshot=snapshot.pub",
            "--key",
            "timestamp=timestamp.pub",
            "--expires",
            "365d",
            "-o",
            "root-draft.json",
        ],
        "",
        d,
    ));
    sign(d, "root-draft.json", "root", "", "officer.key", "root.sig");
    ok(cli(
        &[
            "merge",
            "root-draft.json",
            "root.sig",
            "-o",
            "repo/1.root.json",
        ],
        "",
        d,
    ));

    let o = ok(cli(
        &[
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
            "--claimed-bins",
            "8",
            "-o",
            "targets-draft.json",
        ],
        "",
        d,
    ));
    assert!(o.stderr.contains("over 8 hash bins"), "{}", o.stderr);
    let mut expected: Vec<String> = (0..8).map(|i| format!("1.claimed-bins-{i}.json")).collect();
    expected.push("1.claimed.json".into());
    expected.sort();
    assert_eq!(files_in(&d.join("claimed")), expected);
    let hub = read_targets(&d.join("claimed/1.claimed.json")).signed;
    let DelegationRoles::List(bins) = &hub.delegations.as_ref().unwrap().roles else {
        panic!("claimed must list its bins")
    };
    assert_eq!(bins.len(), 8);
    assert!(bins.iter().all(|b| b.terminating == Some(false)
        && matches!(b.paths, RolePaths::HashPrefixes(_))
        && b.threshold.get() == 2));
    sign(
        d,
        "targets-draft.json",
        "targets",
        "repo/1.root.json",
        "officer.key",
        "t.sig",
    );
    merge_into(
        d,
        "targets-draft.json",
        &["t.sig"],
        "targets",
        "repo/1.root.json",
        "repo/1.targets.json",
    );
    admins_sign(
        d,
        "claimed/1.claimed.json",
        "claimed",
        "repo/1.targets.json",
        "repo/1.claimed.json",
    );

    // Round 1: 300 projects into the bins (read from claimed/, beside the hub draft).
    let devs: Vec<Ed25519Signer> = (0..300).map(dev).collect();
    let lines: Vec<String> = devs
        .iter()
        .enumerate()
        .map(|(i, k)| request_line(&format!("Project_{i}"), &[k], 1))
        .collect();
    std::fs::write(d.join("round1.jsonl"), lines.join("\n")).unwrap();
    let o = ok(cli(
        &[
            "pypi",
            "claim",
            "--claimed",
            "claimed/1.claimed.json",
            "--requests",
            "round1.jsonl",
            "--expires",
            "180d",
            "-o",
            "round1",
        ],
        "",
        d,
    ));
    assert!(
        o.stderr
            .contains("projects: 300 added, 0 changed, 0 removed"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("claimed bins: 8 of 8 change"),
        "{}",
        o.stderr
    );
    // stderr is not a terminal here: no progress line, not even a carriage return.
    assert!(!o.stderr.contains('\r') && !o.stderr.contains("done in"));
    let drafted = files_in(&d.join("round1"));
    assert_eq!(
        drafted,
        (0..8)
            .map(|i| format!("2.claimed-bins-{i}.json"))
            .collect::<Vec<_>>()
    );
    let mut total = 0;
    for f in &drafted {
        let b = read_targets(&d.join("round1").join(f)).signed;
        let DelegationRoles::List(projects) = &b.delegations.as_ref().unwrap().roles else {
            panic!()
        };
        assert!(projects.iter().all(|p| p.terminating == Some(true)
            && p.paths == RolePaths::Patterns(vec![p.name.as_str().into()])));
        total += projects.len();
    }
    sign_and_merge_round(d, "round1", "repo/1.claimed.json", drafted.len());
    assert_eq!(total, 300);

    // Project roles: project-7 lists its target; project-9 lists nothing.
    let mut p7 = targets(1, FAR);
    add_target(&mut p7, "project-7", b"project 7's simple page");
    write(&repo, "1.project-7.json", &signed(p7, &[&devs[7]]));
    write(
        &repo,
        "1.project-9.json",
        &signed(targets(1, FAR), &[&devs[9]]),
    );
    // The online side: an unclaimed project's target, and a forged target for the claimed
    // project-9 that only the online unclaimed key vouches for.
    write(
        &repo,
        "1.recently-claimed.json",
        &signed(targets(1, FAR), &[&online.rc]),
    );
    let unclaimed_draft = read_targets(&d.join("unclaimed.json"));
    let DelegationRoles::Succinct(ubins) =
        &unclaimed_draft.signed.delegations.as_ref().unwrap().roles
    else {
        panic!()
    };
    write(
        &repo,
        "1.unclaimed.json",
        &signed(unclaimed_draft.signed.clone(), &[&online.unclaimed]),
    );
    for i in 0..ubins.bin_count() {
        let name = ubins.bin_name(i);
        let mut t = targets(1, FAR);
        for (path, content) in [
            ("loose", &b"unclaimed"[..]),
            ("project-9", b"forged by the online key"),
        ] {
            if ubins.bin_for(path) == name {
                add_target(&mut t, path, content);
            }
        }
        write(
            &repo,
            &format!("1.{name}.json"),
            &signed(t, &[&online.unclaimed]),
        );
    }
    online.publish(&repo, 1);
    // tuf-js too: claimed's bins are classic path_hash_prefixes, unclaimed's TAP 15 succinct.
    assert_all_accept(&repo, &["project-7", "loose"], true);
    let r = resolve(&repo, &["project-7", "loose"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let p7_bin = drafted
        .iter()
        .map(|f| f.trim_start_matches("2.").trim_end_matches(".json"))
        .find(|b| r.stdout.contains(&format!("roles: claimed {b} project-7")))
        .unwrap_or_else(|| {
            panic!(
                "project-7 not reached through claimed -> a bin:\n{}",
                r.stdout
            )
        });
    assert!(r.stdout.contains("found: loose length=9"), "{}", r.stdout);
    // claimed's bins are not terminating: after the bin, the search goes on to the online roles.
    assert!(
        r.stdout.contains(" recently-claimed unclaimed bins-"),
        "{}",
        r.stdout
    );
    let r = resolve(&repo, &["project-9"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("not found: project-9"), "{}", r.stdout);

    // Round 2: only the bins of the requested projects change.
    let newcomer = ed(777);
    std::fs::write(
        d.join("round2.jsonl"),
        [
            request_line("Project_3", &[&devs[3]], 1),
            request_line("newcomer", &[&newcomer], 1),
        ]
        .join("\n"),
    )
    .unwrap();
    let o = ok(cli(
        &[
            "pypi",
            "claim",
            "--claimed",
            "repo/1.claimed.json",
            "--requests",
            "round2.jsonl",
            "-o",
            "round2",
        ],
        "",
        d,
    ));
    assert!(
        o.stderr.contains("projects: 1 added, 0 changed, 0 removed"),
        "{}",
        o.stderr
    );
    let round2 = files_in(&d.join("round2"));
    assert_eq!(round2.len(), 1, "{round2:?}");
    assert!(round2[0].starts_with("3.claimed-bins-"));
    // Nothing to change: refused, nothing written.
    std::fs::write(
        d.join("same.jsonl"),
        request_line("Project_3", &[&devs[3]], 1),
    )
    .unwrap();
    let o = cli(
        &[
            "pypi",
            "claim",
            "--claimed",
            "repo/1.claimed.json",
            "--requests",
            "same.jsonl",
            "-o",
            "same",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no claimed bin changes"), "{}", o.stderr);
    assert!(!d.join("same").exists());

    // Revoking project-7's only key: only its bin is re-drafted; once signed and published,
    // project-7's role no longer verifies and its target is no longer found.
    let revoked = devs[7].public_key().keyid();
    let o = ok(cli(
        &[
            "pypi",
            "revoke-developer-key",
            &revoked.as_str(),
            "--claimed",
            "repo/1.claimed.json",
            "-o",
            "revoke",
        ],
        "",
        d,
    ));
    assert!(
        o.stderr.contains("claimed bins: 1 of 8 change"),
        "{}",
        o.stderr
    );
    assert_eq!(
        files_in(&d.join("revoke")),
        vec![format!("3.{p7_bin}.json")]
    );
    admins_sign(
        d,
        &format!("revoke/3.{p7_bin}.json"),
        p7_bin,
        "repo/1.claimed.json",
        &format!("repo/3.{p7_bin}.json"),
    );
    std::fs::remove_file(repo.join("1.project-7.json")).unwrap();
    online.publish(&repo, 2);
    assert_all_accept(&repo, &[], false);
    let r = resolve(&repo, &["project-7"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);

    // A bin missing beside claimed: named, exit 2, nothing written.
    for f in files_in(&repo) {
        if f.ends_with(".claimed-bins-0.json") {
            std::fs::remove_file(repo.join(f)).unwrap();
        }
    }
    let o = cli(
        &[
            "pypi",
            "revoke-developer-key",
            &devs[1].public_key().keyid().as_str(),
            "--claimed",
            "repo/1.claimed.json",
            "-o",
            "revoke2",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("has no file for claimed bin claimed-bins-0"),
        "{}",
        o.stderr
    );
    assert!(!d.join("revoke2").exists());
}
