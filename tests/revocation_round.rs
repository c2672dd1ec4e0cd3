//! Issue 19: revocation rounds know what is revoked. In a revocation round `merge` used to
//! count the revoked key's signature toward the old root's threshold (one honest officer plus
//! the thief "met" 2 of 3), although `revoke` said not to count it, and revoke's printed merge
//! command globbed that signature file in. Now `revoke` leaves a record of the revoked key
//! (REVOKED.record) in its directory; `merge`, `status` and `verify` there (or anywhere with
//! `--revoked KEYID`) never count the key and say so; and the printed NEXT STEPS run as
//! printed, which the last test does.

mod common;

use std::path::Path;

use common::*;
use conclave::ceremony::sign_detached;
use conclave::keystore::KeyFile;
use conclave::metadata::*;
use conclave::secret::Passphrase;
use conclave::signer::Signer;

const PASS: &str = "revocation round test passphrase";

fn cli(d: &Path, args: &[&str]) -> Outcome {
    conclave_in(d, args, "")
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn keyfile(d: &Path, name: &str) -> Box<dyn Signer> {
    let o = generate_key_file(d, name, PASS);
    std::fs::write(d.join(format!("{name}.pub")), &o.stdout).unwrap();
    KeyFile::parse(&std::fs::read(d.join(format!("{name}.key"))).unwrap())
        .unwrap()
        .signer(&Passphrase::new(PASS.into()))
        .unwrap()
}

fn sign(d: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend(ctx);
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    conclave_in(d, &args, &format!("{PASS}\n"))
}

/// A detached signature by `signer` over `file` (what a thief with a copy of the key makes).
fn forge(d: &Path, file: &str, role: &str, signer: &dyn Signer, out: &str) {
    let md = AnyMetadata::from_bytes(&std::fs::read(d.join(file)).unwrap()).unwrap();
    let sig = sign_detached(&md, role, signer, None).unwrap();
    std::fs::write(d.join(out), sig.to_bytes()).unwrap();
}

struct Officers {
    alice: Box<dyn Signer>,
}

/// repo/: root v1 (alice, bob, carol; 2 of 3; dave holds targets), targets delegating claimed
/// to alice, bob, carol (2 of 3), claimed v1 signed by alice and bob. Then `revoke` of alice's
/// key, dave joining root, into rev/. Returns revoke's stdout and alice's signer.
fn revocation(d: &Path) -> (Outcome, Officers) {
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let alice = keyfile(d, "alice");
    let bob = keyfile(d, "bob");
    let carol = keyfile(d, "carol");
    let dave = keyfile(d, "dave");
    let (sk, tsk) = (ed(11), ed(12));
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
    write(&repo, "1.claimed.json", &signed(targets(1, FAR), &[a, b]));
    publish(&repo, 1, &sk, &tsk);
    ok(run(conclave().arg("verify").arg(&repo)));
    let alice_id = a.public_key().keyid().to_raw_string();
    let o = ok(cli(
        d,
        &[
            "revoke",
            &alice_id[..8],
            "--repo",
            "repo",
            "--out",
            "rev",
            "--add-key",
            "root=dave.pub",
            "--reason",
            "laptop stolen",
        ],
    ));
    (o, Officers { alice })
}

#[test]
fn the_revoked_key_counts_toward_no_threshold_in_its_round() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, o) = revocation(d);
    let alice = o.alice.public_key().keyid();

    // The record names the key, the roles that trusted it, the reason and the drafts.
    let rec = conclave::ceremony::revoked::Revoked::parse(
        &std::fs::read(d.join("rev/REVOKED.record")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.keys.len(), 1);
    assert_eq!(rec.keys[0].keyid, alice);
    assert_eq!(rec.keys[0].roles, ["root", "claimed"]);
    assert_eq!(rec.reason.as_deref(), Some("laptop stolen"));
    assert_eq!(
        rec.drafts,
        ["2.root.json", "2.targets.json", "2.claimed.json"]
    );

    // The thief cannot sign in the round with conclave...
    let o = sign(
        d,
        "rev/2.root.json",
        &[],
        "alice.key",
        "rev/2.root.json.alice.sig",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("key {alice} is revoked")),
        "{}",
        o.stderr
    );
    // ...but makes the signature anyway, and it lands beside the draft.
    forge(
        d,
        "rev/2.root.json",
        "root",
        &*o_alice(d),
        "rev/2.root.json.alice.sig",
    );
    ok(sign(
        d,
        "rev/2.root.json",
        &[],
        "bob.key",
        "rev/2.root.json.bob.sig",
    ));
    ok(sign(
        d,
        "rev/2.root.json",
        &[],
        "dave.key",
        "rev/2.root.json.dave.sig",
    ));

    // Bob (honest) and the thief "meet" root v1's 2 of 3; bob and dave meet v2's 2 of 3.
    // Merge, as revoke's old printed command did, with every signature file:
    let before = std::fs::read(d.join("rev/2.root.json")).unwrap();
    let all = [
        "rev/2.root.json.alice.sig",
        "rev/2.root.json.bob.sig",
        "rev/2.root.json.dave.sig",
    ];
    for ctx in [vec![], vec!["--previous", "repo/1.root.json"]] {
        let mut args = vec!["merge", "rev/2.root.json"];
        args.extend(all);
        args.extend(ctx);
        args.extend(["-o", "rev/2.root.json"]);
        let o = cli(d, &args);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(
            o.stderr
                .contains(&format!("not counted: key {alice} is revoked")),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr
                .contains("root v1 (previous root's keys): 1 of 2 needed have signed - NOT YET"),
            "{}",
            o.stderr
        );
        assert_eq!(std::fs::read(d.join("rev/2.root.json")).unwrap(), before);
    }
    let o = ok(cli(d, &["status", "rev/2.root.json"]));
    assert!(o.stdout.contains("INCOMPLETE"), "{}", o.stdout);
    assert!(
        o.stdout.contains(&format!("not counted  {alice}")),
        "{}",
        o.stdout
    );
    assert!(o.stderr.contains("laptop stolen"), "{}", o.stderr);

    // Away from the round (no record), --revoked does the same, by prefix.
    std::fs::create_dir(d.join("away")).unwrap();
    for f in [
        "2.root.json",
        "1.root.json",
        "2.root.json.alice.sig",
        "2.root.json.bob.sig",
        "2.root.json.dave.sig",
    ] {
        std::fs::copy(d.join("rev").join(f), d.join("away").join(f)).unwrap();
    }
    let o = ok(cli(d, &["status", "away/2.root.json", "--check"]));
    assert!(
        o.stdout.contains("COMPLETE - every threshold is met"),
        "{}",
        o.stdout
    );
    let prefix = &alice.to_raw_string()[..8];
    let o = cli(
        d,
        &["status", "away/2.root.json", "--revoked", prefix, "--check"],
    );
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("not counted"), "{}", o.stdout);

    // What that merge would have written: clients accept it (they know nothing of the
    // revocation), but verify in the round does not count the thief, and says so.
    let o = ok(cli(
        d,
        &["merge", "away/2.root.json", "-o", "away/merged.json"],
    ));
    assert!(o.stderr.contains("every threshold is met"), "{}", o.stderr);
    let bad = d.join("bad");
    std::fs::create_dir(&bad).unwrap();
    for f in std::fs::read_dir(d.join("rev")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") || name == "REVOKED.record" {
            std::fs::copy(f.path(), bad.join(&name)).unwrap();
        }
    }
    std::fs::copy(d.join("away/merged.json"), bad.join("2.root.json")).unwrap();
    let v = run(conclave().arg("verify").arg(&bad));
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stderr.contains("root-chain-old-threshold"),
        "{}",
        v.stderr
    );
    assert!(
        v.stderr
            .contains(&format!("not counted: key {alice} is revoked")),
        "{}",
        v.stderr
    );
    std::fs::remove_file(bad.join("REVOKED.record")).unwrap();
    let v = run(conclave().arg("verify").arg(&bad));
    assert!(
        !v.stderr.contains("root-chain-old-threshold"),
        "{}",
        v.stderr
    );
    let v = run(conclave()
        .arg("verify")
        .arg(&bad)
        .args(["--revoked", prefix]));
    assert!(
        v.stderr.contains("root-chain-old-threshold"),
        "{}",
        v.stderr
    );

    // carol signs: two honest old-root keys; merged without the thief's signature.
    ok(sign(
        d,
        "rev/2.root.json",
        &[],
        "carol.key",
        "rev/2.root.json.carol.sig",
    ));
    let o = ok(cli(
        d,
        &["merge", "rev/2.root.json", "-o", "rev/2.root.json"],
    ));
    assert!(o.stderr.contains("every threshold is met"), "{}", o.stderr);
    let merged =
        AnyMetadata::from_bytes(&std::fs::read(d.join("rev/2.root.json")).unwrap()).unwrap();
    assert!(!merged.signatures().iter().any(|s| s.keyid == alice));
    assert_eq!(merged.signatures().len(), 3);
}

/// alice's signer again (the thief's copy).
fn o_alice(d: &Path) -> Box<dyn Signer> {
    KeyFile::parse(&std::fs::read(d.join("alice.key")).unwrap())
        .unwrap()
        .signer(&Passphrase::new(PASS.into()))
        .unwrap()
}

/// The commands revoke prints under NEXT STEPS: the `cd` line, then each draft's sign, status
/// and merge lines, as printed.
fn printed_steps(stdout: &str) -> (String, Vec<String>) {
    let section = stdout
        .split("NEXT STEPS")
        .nth(1)
        .unwrap_or_else(|| panic!("no NEXT STEPS in:\n{stdout}"));
    let mut cd = None;
    let mut cmds = Vec::new();
    for line in section.lines() {
        let line = line.trim();
        if let Some(dir) = line.strip_prefix("cd ") {
            cd = Some(dir.to_owned());
        } else if line.starts_with("conclave ") {
            cmds.push(line.to_owned());
        }
    }
    (cd.expect("a cd line"), cmds)
}

#[test]
fn revokes_printed_next_steps_run_as_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (o, officers) = revocation(d);
    let (cd, cmds) = printed_steps(&o.stdout);
    assert_eq!(cd, "rev");
    assert!(!o.stdout.contains('*'), "a glob in:\n{}", o.stdout);
    // A signature made with the stolen key, where a glob would have picked it up.
    forge(
        d,
        "rev/2.root.json",
        "root",
        &*officers.alice,
        "rev/2.root.json.alice.sig",
    );

    // Who signs what: root needs 2 of bob, carol (v1 without alice) and 2 of bob, carol,
    // dave (v2); dave holds targets; claimed is bob and carol's.
    let signers = |cmd: &str| -> &[&str] {
        if cmd.starts_with("conclave sign 2.root.json ") {
            &["bob", "carol", "dave"]
        } else if cmd.starts_with("conclave sign 2.targets.json ") {
            &["dave"]
        } else {
            &["bob", "carol"]
        }
    };
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_conclave"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sh = |line: &str, stdin: &str| {
        run_with_stdin(
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("cd {cd} && {line}"))
                .current_dir(d)
                .env("PATH", &path),
            stdin,
        )
    };
    let mut ran = 0;
    for cmd in &cmds {
        if cmd.starts_with("conclave sign ") {
            assert!(
                cmd.contains("--key KEYFILE") && cmd.contains(".NAME.sig"),
                "{cmd}"
            );
            for who in signers(cmd) {
                let line = cmd
                    .replace(
                        "--key KEYFILE",
                        &format!("--key {}/{who}.key --passphrase-fd 0", d.display()),
                    )
                    .replace(".NAME.sig", &format!(".{who}.sig"));
                let o = sh(&line, &format!("{PASS}\n"));
                assert_eq!(o.code, 0, "{line}\n{}", o.stderr);
                ran += 1;
            }
        } else {
            let o = sh(cmd, "");
            assert_eq!(o.code, 0, "{cmd}\n{}{}", o.stdout, o.stderr);
            if cmd.starts_with("conclave merge 2.root.json") {
                assert!(
                    o.stderr.contains("not counted: key"),
                    "the stolen key's signature was not set aside:\n{}",
                    o.stderr
                );
            }
            ran += 1;
        }
    }
    assert_eq!(ran, 3 * 2 + 3 + 1 + 2);
    // The closing advice, as printed: verify and export the directory.
    let o = sh("conclave verify .", "");
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("root chain v1 -> v2"), "{}", o.stdout);
    let o = sh("conclave export . -o ../bundle", "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let root = AnyMetadata::from_bytes(&std::fs::read(d.join("rev/2.root.json")).unwrap()).unwrap();
    let alice = officers.alice.public_key().keyid();
    assert!(!root.signatures().iter().any(|s| s.keyid == alice));
}
