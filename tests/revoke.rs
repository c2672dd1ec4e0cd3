//! `conclave revoke KEYID --repo DIR` through the real binary: an officer key in root and
//! claimed is revoked, the drafts are signed by the remaining officers and merged, and the
//! result verifies in conclave and python-tuf, while a signature by the revoked key no longer
//! counts anywhere. Then the refusals: unknown key, bad keyid, an unmeetable threshold, a
//! developer key found only in claimed's project delegations, an existing output directory,
//! and a repository that does not verify.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use conclave::ceremony::DetachedSignature;
use conclave::keystore::KeyFile;
use conclave::metadata::*;
use conclave::secret::Passphrase;
use conclave::signer::SignMetadata;
use conclave::signer::Signer;

const PASS: &str = "rehearsal passphrase for tests";

fn cli(dir: &Path, args: &[&str], stdin: &str) -> Outcome {
    conclave_in(dir, args, stdin)
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// A key file `NAME.key` (fast Argon2 profile) and its public key `NAME.pub`; returns a
/// signer for building the starting repository in-process.
fn keyfile(dir: &Path, name: &str) -> Box<dyn Signer> {
    generate_key_file(dir, name, PASS);
    let o = ok(cli(dir, &["key", "public", &format!("{name}.key")], ""));
    std::fs::write(dir.join(format!("{name}.pub")), o.stdout).unwrap();
    KeyFile::parse(&std::fs::read(dir.join(format!("{name}.key"))).unwrap())
        .unwrap()
        .signer(&Passphrase::new(PASS.into()))
        .unwrap()
}

fn sign_cmd(dir: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend_from_slice(ctx);
    args.extend_from_slice(&["--key", key, "--passphrase-fd", "0", "-o", out]);
    cli(dir, &args, &format!("{PASS}\n"))
}

fn python_verdict(dir: &Path) -> Outcome {
    run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(dir))
}

fn conclave_verify(dir: &Path) -> Outcome {
    run(conclave().arg("verify").arg(dir))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path, only_json: bool) {
    std::fs::create_dir_all(to).unwrap();
    for n in names(from) {
        if !only_json || n.ends_with(".json") {
            std::fs::copy(from.join(&n), to.join(&n)).unwrap();
        }
    }
}

#[test]
fn officer_key_in_root_and_claimed_is_revoked_and_the_result_verifies_in_python_tuf() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();

    // Three officers hold root (2 of 3) and claimed (2 of 3); dave holds targets.
    let alice = keyfile(d, "alice");
    let bob = keyfile(d, "bob");
    let carol = keyfile(d, "carol");
    let dave = keyfile(d, "dave");
    let (sk, tsk, dev) = (ed(11), p256(12), ed(1000));
    let alice_id = alice.public_key().keyid();
    let (a, b, c, t) = (&*alice, &*bob, &*carol, &*dave);

    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[a, b, c], 2),
            ("targets", &[t], 1),
            ("snapshot", &[&sk], 1),
            ("timestamp", &[&tsk], 1),
        ],
    );
    write(&repo, "1.root.json", &signed(v1, &[a, b, c]));
    let mut top = targets(1, FAR);
    delegate(&mut top, "claimed", &[a, b, c], 2, &["*/*"], false);
    write(&repo, "1.targets.json", &signed(top, &[t]));
    let mut claimed = targets(1, FAR);
    delegate(
        &mut claimed,
        "project-0",
        &[&dev],
        1,
        &["project-0/*"],
        true,
    );
    write(&repo, "1.claimed.json", &signed(claimed, &[a, b]));
    let mut project = targets(1, FAR);
    add_target(&mut project, "project-0/project-0-1.0.tar.gz", b"a release");
    write(&repo, "1.project-0.json", &signed(project, &[&dev]));
    publish(&repo, 1, &sk, &tsk);
    let before = names(&repo);
    ok(conclave_verify(&repo));

    // The plan: root and claimed trust alice; targets changes for claimed's keys; claimed
    // v1 (signed by alice and bob) falls below 2 of 2 and is re-issued.
    let o = ok(cli(
        d,
        &[
            "revoke",
            &alice_id.as_str(),
            "--repo",
            "repo",
            "--out",
            "rev",
        ],
        "",
    ));
    assert!(
        o.stdout.contains("BLAST RADIUS: 2 place(s) trust this key"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("root (top-level role): listed by root in 1.root.json, key 1 of 3")
    );
    assert!(
        o.stdout
            .contains("role claimed: listed by targets in 1.targets.json")
    );
    assert!(
        o.stdout
            .contains("threshold 2 of 3 -> 2 of 2: the remaining keys can still meet it")
    );
    assert!(
        o.stdout
            .contains(&format!("NOT {alice_id} (the revoked key)"))
    );
    assert!(o.stdout.contains("conclave merge"));
    assert_eq!(names(&repo), before, "revoke must not touch the repository");
    let rev = d.join("rev");
    assert_eq!(
        names(&rev),
        vec![
            "1.project-0.json",
            "1.root.json",
            "2.claimed.json",
            "2.root.json",
            "2.targets.json",
            "PLAN.txt",
            "REVOKED.record"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(rev.join("PLAN.txt")).unwrap(),
        o.stdout
    );
    let draft_root: Metadata<Root> =
        Metadata::from_bytes(&std::fs::read(rev.join("2.root.json")).unwrap()).unwrap();
    assert!(!draft_root.signed.keys.contains_key(&alice_id));
    assert!(draft_root.signatures.is_empty());
    // Running it again refuses the existing output directory and writes nothing.
    let again = cli(
        d,
        &[
            "revoke",
            &alice_id.as_str(),
            "--repo",
            "repo",
            "--out",
            "rev",
        ],
        "",
    );
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // The remaining officers sign, in order: root, targets, claimed.
    let prev = ["--previous", "repo/1.root.json"];
    for who in ["bob", "carol"] {
        ok(sign_cmd(
            d,
            "rev/2.root.json",
            &prev,
            &format!("{who}.key"),
            &format!("rev/2.root.json.{who}.sig"),
        ));
    }
    ok(cli(
        d,
        &[
            "merge",
            "rev/2.root.json",
            "rev/2.root.json.bob.sig",
            "rev/2.root.json.carol.sig",
            "--previous",
            "repo/1.root.json",
            "-o",
            "rev/2.root.json",
        ],
        "",
    ));
    let by_root = ["--delegator", "rev/2.root.json"];
    ok(sign_cmd(
        d,
        "rev/2.targets.json",
        &by_root,
        "dave.key",
        "rev/t.dave.sig",
    ));
    ok(cli(
        d,
        &[
            "merge",
            "rev/2.targets.json",
            "rev/t.dave.sig",
            "--delegator",
            "rev/2.root.json",
            "-o",
            "rev/2.targets.json",
        ],
        "",
    ));
    let by_targets = ["--delegator", "rev/2.targets.json"];
    // sign itself refuses alice's key: the revocation record beside the draft names it...
    let refused = sign_cmd(
        d,
        "rev/2.claimed.json",
        &by_targets,
        "alice.key",
        "rev/c.alice.sig",
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("is revoked"), "{}", refused.stderr);
    assert!(!rev.join("c.alice.sig").exists());
    // ...and so does a copy of the draft elsewhere, once it can see the delegation...
    std::fs::create_dir(d.join("elsewhere")).unwrap();
    std::fs::copy(
        rev.join("2.claimed.json"),
        d.join("elsewhere/2.claimed.json"),
    )
    .unwrap();
    let refused = sign_cmd(
        d,
        "elsewhere/2.claimed.json",
        &by_targets,
        "alice.key",
        "elsewhere/c.alice.sig",
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("may not sign"),
        "{}",
        refused.stderr
    );
    // ...and without --delegator her signature is made (there), but merge does not take it.
    ok(sign_cmd(
        d,
        "elsewhere/2.claimed.json",
        &[],
        "alice.key",
        "rev/c.alice.sig",
    ));
    for who in ["bob", "carol"] {
        ok(sign_cmd(
            d,
            "rev/2.claimed.json",
            &by_targets,
            &format!("{who}.key"),
            &format!("rev/c.{who}.sig"),
        ));
    }
    let draft_bytes = std::fs::read(rev.join("2.claimed.json")).unwrap();
    let m = cli(
        d,
        &[
            "merge",
            "rev/2.claimed.json",
            "rev/c.alice.sig",
            "rev/c.bob.sig",
            "--delegator",
            "rev/2.targets.json",
            "-o",
            "rev/2.claimed.json",
        ],
        "",
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(
        m.stderr
            .contains(&format!("not counted: key {alice_id} is revoked")),
        "{}",
        m.stderr
    );
    assert!(m.stderr.contains("threshold is not met"), "{}", m.stderr);
    assert_eq!(
        std::fs::read(rev.join("2.claimed.json")).unwrap(),
        draft_bytes
    );
    ok(cli(
        d,
        &[
            "merge",
            "rev/2.claimed.json",
            "rev/c.bob.sig",
            "rev/c.carol.sig",
            "--delegator",
            "rev/2.targets.json",
            "-o",
            "rev/2.claimed.json",
        ],
        "",
    ));

    // The repository after the revocation verifies in conclave and python-tuf: the root
    // chain v1 -> v2, targets v2, claimed v2 and the untouched project role.
    // The output directory itself is that repository (signature files and PLAN.txt are
    // not metadata): verify it and export it as the plan says.
    ok(conclave_verify(&rev));
    ok(cli(d, &["export", "rev", "-o", "bundle"], ""));
    let after = d.join("after");
    copy_dir(&rev, &after, true);
    let v = ok(conclave_verify(&after));
    assert!(v.stdout.contains("root chain v1 -> v2"), "{}", v.stdout);
    let py = python_verdict(&after);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    // And as published, with the online side's new snapshot and timestamp naming them.
    let published = d.join("published");
    copy_dir(&after, &published, true);
    publish(&published, 2, &sk, &tsk);
    ok(conclave_verify(&published));
    let py = python_verdict(&published);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    // tough (tests/interop/tough) loads it as well, from the first root through the new one,
    // with expiry enforced.
    let (o, _) = tough(&published, &[], None);
    assert_eq!(o.code, 0, "tough:\n{}\n{}", o.stdout, o.stderr);
    // The key is gone: revoking it again finds nothing and writes nothing.
    let gone = cli(
        d,
        &["revoke", &alice_id.as_str(), "--repo", "published"],
        "",
    );
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("no role in this repository trusts"),
        "{}",
        gone.stderr
    );
    assert!(!names(&published).iter().any(|n| n.starts_with("revoke-")));

    // A signature by the revoked key no longer counts. claimed signed by alice and bob:
    let bad = d.join("bad-claimed");
    copy_dir(&after, &bad, true);
    let mut cl: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(rev.join("2.claimed.json")).unwrap()).unwrap();
    let alice_sig =
        DetachedSignature::parse(&std::fs::read(rev.join("c.alice.sig")).unwrap()).unwrap();
    let bob_id = bob.public_key().keyid();
    cl.signatures.retain(|s| s.keyid == bob_id);
    cl.signatures.push(alice_sig.signature.clone());
    // It is a good signature over these exact bytes, just not by a key that may sign.
    alice
        .public_key()
        .verify(&cl.signed_bytes(), &alice_sig.signature.sig)
        .unwrap();
    write(&bad, "2.claimed.json", &cl);
    let v = conclave_verify(&bad);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stderr.contains("not authorised"), "{}", v.stderr);
    assert!(v.stderr.contains(&*alice_id.short()), "{}", v.stderr);
    assert_eq!(python_verdict(&bad).code, 1);
    // The new root signed by alice and bob: root v1's threshold is met (alice was a v1 key),
    // but v2's own is not, so the chain stops.
    let bad = d.join("bad-root");
    copy_dir(&after, &bad, true);
    let mut r2: Metadata<Root> =
        Metadata::from_bytes(&std::fs::read(rev.join("2.root.json")).unwrap()).unwrap();
    r2.signatures.retain(|s| s.keyid == bob_id);
    r2.sign(a).unwrap();
    write(&bad, "2.root.json", &r2);
    let v = conclave_verify(&bad);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stderr.contains("root-chain-new-threshold"),
        "{}",
        v.stderr
    );
    assert_eq!(python_verdict(&bad).code, 1);
}

/// The PEP 480 repository of tests/common, in a fresh directory.
fn pypi_repo() -> (tempfile::TempDir, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("repo")).unwrap();
    let found = build_pypi_repo(&tmp.path().join("repo"), 4);
    (tmp, found)
}

#[test]
fn unknown_and_malformed_keyids_write_nothing() {
    let (tmp, _) = pypi_repo();
    let d = tmp.path();
    let before = names(&d.join("repo"));
    let unknown = ed(4242).public_key().keyid();
    for (keyid, code, says) in [
        (
            &*unknown.as_str(),
            2,
            "no role in this repository trusts a key whose keyid starts with",
        ),
        ("0123abcd", 2, "no role in this repository trusts"),
        ("xyz", 2, "is not a keyid"),
        ("12ab", 2, "is too short for a keyid"),
        ("not-hex-at-all-zzzz", 2, "is not a keyid"),
    ] {
        let o = cli(d, &["revoke", keyid, "--repo", "repo"], "");
        assert_eq!(o.code, code, "{keyid}: {}", o.stderr);
        assert!(o.stderr.contains(says), "{keyid}: {}", o.stderr);
        assert!(o.stderr.contains("nothing was written"), "{}", o.stderr);
        assert_eq!(names(&d.join("repo")), before);
        assert_eq!(names(d), vec!["repo"]);
    }
    let o = cli(d, &["revoke", &unknown.as_str(), "--repo", "missing"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("missing: cannot list"), "{}", o.stderr);
}

#[test]
fn a_developer_key_only_changes_claimed() {
    let (tmp, found) = pypi_repo();
    let d = tmp.path();
    // project-0's only developer key: the project leaves claimed.
    let dev = ed(1000).public_key().keyid();
    let o = ok(cli(
        d,
        &[
            "revoke",
            &dev.as_str()[..16],
            "--repo",
            "repo",
            "--out",
            "rev",
            "--json",
        ],
        "",
    ));
    let plan = conclave::cjson::parse(o.stdout.as_bytes()).unwrap();
    let trusted = plan.get("trusted_by").unwrap();
    let conclave::cjson::Value::Array(trusted) = trusted else {
        panic!()
    };
    assert_eq!(trusted.len(), 1);
    assert_eq!(trusted[0].get("role").unwrap().as_str(), Some("project-0"));
    assert_eq!(
        trusted[0].get("delegator").unwrap().as_str(),
        Some("claimed")
    );
    assert_eq!(
        trusted[0].get("project").unwrap(),
        &conclave::cjson::Value::Bool(true)
    );
    assert_eq!(
        trusted[0].get("meetable").unwrap(),
        &conclave::cjson::Value::Bool(false)
    );
    assert!(
        o.stderr
            .contains("project project-0 is taken out of claimed"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("remove its metadata"), "{}", o.stderr);
    let rev = d.join("rev");
    let files = names(&rev);
    assert!(files.contains(&"2.claimed.json".to_owned()), "{files:?}");
    assert!(
        !files
            .iter()
            .any(|f| f.ends_with("root.json") && f.starts_with('3'))
    );
    assert!(!files.contains(&"2.targets.json".to_owned()), "{files:?}");
    assert!(!files.contains(&"1.project-0.json".to_owned()), "{files:?}");
    assert!(files.contains(&"1.project-3.json".to_owned()), "{files:?}");

    // The PyPI admins (2 of 3, in tests/common) sign claimed v2.
    let mut cl: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(rev.join("2.claimed.json")).unwrap()).unwrap();
    assert!(
        cl.signed
            .delegations
            .as_ref()
            .unwrap()
            .find("project-0")
            .is_none()
    );
    cl.sign(&ed(20)).unwrap();
    cl.sign(&p256(20)).unwrap();
    write(&rev, "2.claimed.json", &cl);
    std::fs::remove_file(rev.join("PLAN.txt")).unwrap();
    ok(conclave_verify(&rev));
    let py = python_verdict(&rev);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
    let _ = found;
}

#[test]
fn an_unmeetable_threshold_writes_nothing_until_a_key_is_added() {
    let (tmp, _) = pypi_repo();
    let d = tmp.path();
    // The only timestamp key (p256(12) in tests/common).
    let ts = p256(12).public_key().keyid();
    let o = cli(d, &["revoke", &ts.as_str(), "--repo", "repo"], "");
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("the remaining keys CANNOT meet it"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("--add-key timestamp=PUBFILE"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("CANNOT PROCEED"), "{}", o.stdout);
    assert!(o.stderr.contains("nothing was written"), "{}", o.stderr);
    assert!(
        !names(&d.join("repo"))
            .iter()
            .any(|n| n.starts_with("revoke-"))
    );

    // With a replacement timestamp key from the online side, the new root can be drafted;
    // the plan says clients drop their trusted timestamp and snapshot (spec 5.3.11).
    let new_ts = ed(77);
    std::fs::write(
        d.join("new-ts.pub"),
        conclave::cjson::to_pretty(&new_ts.public_key().to_value()),
    )
    .unwrap();
    let o = ok(cli(
        d,
        &[
            "revoke",
            &ts.as_str(),
            "--repo",
            "repo",
            "--add-key",
            "timestamp=new-ts.pub",
            "--expires",
            "2099-01-01",
            "--out",
            "rev",
        ],
        "",
    ));
    assert!(o.stdout.contains("5.3.11"), "{}", o.stdout);
    assert!(o.stdout.contains("fast-forward"), "{}", o.stdout);
    let r3: Metadata<Root> =
        Metadata::from_bytes(&std::fs::read(d.join("rev/3.root.json")).unwrap()).unwrap();
    let tk = r3.signed.role("timestamp").unwrap();
    assert_eq!(tk.keyids, vec![new_ts.public_key().keyid()]);
    assert_eq!(r3.signed.common.expires.to_string(), "2099-01-01T00:00:00Z");
    // Only the root changes: targets is signed by the targets key, which stays.
    assert!(!d.join("rev/2.targets.json").exists());
    // Root v2's keys (ra, rb, rd in tests/common) sign v3: 2 of 3 for both thresholds.
    let mut signed3 = r3.clone();
    signed3.sign(&ed(1)).unwrap();
    signed3.sign(&p256(1)).unwrap();
    write(&d.join("rev"), "3.root.json", &signed3);
    std::fs::remove_file(d.join("rev/PLAN.txt")).unwrap();
    ok(conclave_verify(&d.join("rev")));
    let py = python_verdict(&d.join("rev"));
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);

    // --add-key and --threshold may only name roles that trust the key.
    let o = cli(
        d,
        &[
            "revoke",
            &ts.as_str(),
            "--repo",
            "repo",
            "--add-key",
            "timestamp=new-ts.pub",
            "--threshold",
            "claimed=1",
            "--dry-run",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("role claimed does not trust the key"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_repository_that_does_not_verify_is_refused() {
    let (tmp, _) = pypi_repo();
    let d = tmp.path();
    // claimed re-signed by one admin only: below its 2-of-3 threshold.
    let path = d.join("repo/1.claimed.json");
    let mut cl: Metadata<Targets> = Metadata::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    cl.signatures.truncate(1);
    write(&d.join("repo"), "1.claimed.json", &cl);
    let dev = ed(1001).public_key().keyid();
    let o = cli(d, &["revoke", &dev.as_str(), "--repo", "repo"], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("1.claimed.json"), "{}", o.stderr);
    assert!(o.stderr.contains("does not verify"), "{}", o.stderr);
    assert!(
        !names(&d.join("repo"))
            .iter()
            .any(|n| n.starts_with("revoke-"))
    );
}

#[test]
fn the_online_unclaimed_key_is_replaced_in_targets_and_the_bins() {
    let (tmp, _) = pypi_repo();
    let d = tmp.path();
    // ed(31) is unclaimed's online key in tests/common; the TAP 15 bins share it.
    let uk = ed(31).public_key().keyid();
    let o = cli(
        d,
        &["revoke", &uk.as_str(), "--repo", "repo", "--dry-run"],
        "",
    );
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("role unclaimed: listed by targets"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("role bins: listed by unclaimed"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("--add-key unclaimed=PUBFILE"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("--add-key bins=PUBFILE"), "{}", o.stdout);

    let new = ed(131);
    std::fs::write(
        d.join("new-unclaimed.pub"),
        conclave::cjson::to_pretty(&new.public_key().to_value()),
    )
    .unwrap();
    let o = ok(cli(
        d,
        &[
            "revoke",
            &uk.as_str()[..8],
            "--repo",
            "repo",
            "--add-key",
            "unclaimed=new-unclaimed.pub",
            "--add-key",
            "bins=new-unclaimed.pub",
            "--out",
            "rev",
        ],
        "",
    ));
    assert!(
        o.stdout.contains("online roles in PEP 458/480"),
        "{}",
        o.stdout
    );
    let rev = d.join("rev");
    let files = names(&rev);
    for f in [
        "2.targets.json",
        "2.unclaimed.json",
        "2.bins-0.json",
        "2.bins-7.json",
    ] {
        assert!(files.contains(&f.to_owned()), "{f} missing: {files:?}");
    }
    // Sign as the plan says: targets by the targets key (ed(10)), unclaimed and every bin by
    // the new online key.
    for f in &files {
        let Some((role, Some(_))) = conclave::verify::classify(f) else {
            continue;
        };
        if role == "root" || !f.starts_with("2.") {
            continue;
        }
        let mut md: Metadata<Targets> =
            Metadata::from_bytes(&std::fs::read(rev.join(f)).unwrap()).unwrap();
        assert!(md.signatures.is_empty(), "{f} is a draft");
        if role == "targets" {
            md.sign(&ed(10)).unwrap();
        } else {
            md.sign(&new).unwrap();
        }
        write(&rev, f, &md);
    }
    let t2: Metadata<Targets> =
        Metadata::from_bytes(&std::fs::read(rev.join("2.targets.json")).unwrap()).unwrap();
    let dl = t2.signed.delegations.as_ref().unwrap();
    assert_eq!(
        dl.find("unclaimed").unwrap().keyids,
        &[new.public_key().keyid()]
    );
    assert!(!dl.keys.contains_key(&uk));
    std::fs::remove_file(rev.join("PLAN.txt")).unwrap();
    ok(conclave_verify(&rev));
    let py = python_verdict(&rev);
    assert_eq!(py.code, 0, "python-tuf:\n{}{}", py.stdout, py.stderr);
}
