//! The transcript records what was done to its ceremony directory, and only officers vouch for
//! its head.
//!
//! - A command that writes into a ceremony directory is recorded in that directory's
//!   transcript, however deep the file and whatever `--ceremony-dir` names.
//! - `transcript verify --head-sig` counts a head signature only when its key is an officer's
//!   (the plan's, or a root or targets key of the root) or a witness key the verifier names: a
//!   rewritten, re-chained transcript signed with a fresh key is refused.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::Key;

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

fn lines_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("transcript.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn note(dir: &Path, step: &str) {
    ok(&conclave_in(
        dir,
        &["transcript", "note", ".", "--step", step],
        "",
    ));
}

/// A key file `NAME.key` and its public key `NAME.pub.json` in `dir`; returns the key.
fn key_pair(dir: &Path, name: &str) -> Key {
    let o = generate_key_file(dir, name, &format!("{name} test passphrase"));
    std::fs::write(dir.join(format!("{name}.pub.json")), &o.stdout).unwrap();
    Key::from_json(conclave::cjson::parse(o.stdout.as_bytes()).unwrap()).unwrap()
}

fn sign_head(cwd: &Path, dir: &str, name: &str, out: &str) -> Outcome {
    conclave_in(
        cwd,
        &[
            "transcript",
            "sign-head",
            dir,
            "--key",
            &format!("{name}.key"),
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ],
        &format!("{name} test passphrase\n"),
    )
}

#[test]
fn a_write_into_a_ceremony_directory_is_recorded_there_whatever_ceremony_dir_names() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir(d).unwrap();
        note(d, "opened");
    }
    // Four levels down: further than the old three-level search looked.
    std::fs::create_dir_all(a.join("w/x/y/z")).unwrap();
    let o = conclave_in(
        tmp.path(),
        &[
            "--ceremony-dir",
            "b",
            "key",
            "generate",
            "-o",
            "a/w/x/y/z/k.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        "k test passphrase\nk test passphrase\n",
    );
    ok(&o);
    let (la, lb) = (lines_of(&a), lines_of(&b));
    assert_eq!(la.len(), 2, "{la:?}");
    assert!(
        la[1].contains("key generate") && la[1].contains("w/x/y/z/k.key"),
        "{}",
        la[1]
    );
    assert_eq!(lb.len(), 2, "{lb:?}");
    assert!(lb[1].contains("key generate"), "{}", lb[1]);
    assert!(o.stderr.contains("a/transcript.jsonl"), "{}", o.stderr);
    assert!(o.stderr.contains("b/transcript.jsonl"), "{}", o.stderr);

    // A command that records itself in one transcript (sign-head: b's) but writes into another
    // ceremony directory (a) is recorded in a too.
    std::fs::copy(a.join("w/x/y/z/k.key"), tmp.path().join("k.key")).unwrap();
    let o = sign_head(tmp.path(), "b", "k", "a/w/x/head.sig");
    ok(&o);
    let la = lines_of(&a);
    assert_eq!(la.len(), 3, "{la:?}");
    assert!(
        la[2].contains("sign-head") && la[2].contains("w/x/head.sig"),
        "{}",
        la[2]
    );
    assert_eq!(
        lines_of(&b).len(),
        3,
        "b records the signing as its own step"
    );

    // A broken transcript in the directory written to stops the command before it does
    // anything, even with --ceremony-dir naming an intact one.
    let broken: Vec<String> = lines_of(&a).into_iter().rev().collect();
    std::fs::write(a.join("transcript.jsonl"), broken.join("\n") + "\n").unwrap();
    let o = conclave_in(
        tmp.path(),
        &[
            "--ceremony-dir",
            "b",
            "key",
            "generate",
            "-o",
            "a/w/k2.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        "k test passphrase\nk test passphrase\n",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("transcript is broken"), "{}", o.stderr);
    assert!(!a.join("w/k2.key").exists());
    assert_eq!(lines_of(&b).len(), 3);
}

/// A plan for `ceremony genesis` in `dir`: alice and bob hold root keys (alice's is the key
/// file `alice-root.key`), alice a targets key; snapshot and timestamp are online.
fn plan_with_key_files(dir: &Path) -> Key {
    let alice = key_pair(dir, "alice-root");
    for (i, n) in ["bob-root", "alice-targets", "snapshot", "timestamp"]
        .iter()
        .enumerate()
    {
        std::fs::write(
            dir.join(format!("{n}.pub.json")),
            conclave::cjson::to_pretty(
                &conclave::signer::Signer::public_key(&ed(40 + i as u32)).to_value(),
            ),
        )
        .unwrap();
    }
    let plan = "[ceremony]\nformat = 1\nname = \"trust test\"\n\n\
         [officers.alice]\nname = \"Alice Example\"\n[officers.bob]\nname = \"Bob\"\n\n\
         [keys.alice-root]\nofficer = \"alice\"\nsource = \"key-file\"\nkey_file = \"alice-root.key\"\npublic_key = \"alice-root.pub.json\"\n\n\
         [keys.bob-root]\nofficer = \"bob\"\nsource = \"key-file\"\npublic_key = \"bob-root.pub.json\"\n\n\
         [keys.alice-targets]\nofficer = \"alice\"\nsource = \"key-file\"\npublic_key = \"alice-targets.pub.json\"\n\n\
         [keys.snapshot]\nsource = \"online\"\npublic_key = \"snapshot.pub.json\"\n\n\
         [keys.timestamp]\nsource = \"online\"\npublic_key = \"timestamp.pub.json\"\n\n\
         [roles.root]\nkeys = [\"alice-root\", \"bob-root\"]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"alice-targets\"]\nthreshold = 1\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n\n[roles.timestamp]\nkeys = [\"timestamp\"]\n";
    std::fs::write(dir.join("plan.toml"), plan).unwrap();
    alice
}

#[test]
fn a_head_signature_counts_only_from_an_officers_key() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let keys = t.join("plan");
    std::fs::create_dir(&keys).unwrap();
    let alice = plan_with_key_files(&keys);
    ok(&conclave_in(
        t,
        &[
            "ceremony",
            "genesis",
            "--allow-network",
            "plan/plan.toml",
            "--out",
            "ceremony",
        ],
        "",
    ));
    let verify = |extra: &[&str]| {
        let mut args = vec!["transcript", "verify", "ceremony"];
        args.extend_from_slice(extra);
        conclave_in(t, &args, "")
    };

    // Alice signs the head with her root key: the plan in the ceremony directory names her.
    std::fs::copy(keys.join("alice-root.key"), t.join("alice-root.key")).unwrap();
    ok(&sign_head(
        t,
        "ceremony",
        "alice-root",
        "ceremony/head.alice.sig",
    ));
    let o = verify(&["--head-sig", "ceremony/head.alice.sig"]);
    ok(&o);
    assert!(
        o.stdout
            .contains("officer Alice Example (alice), key alice-root of plan"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&alice.keyid().to_raw_string()),
        "{}",
        o.stdout
    );

    // The attack: the whole transcript rewritten and re-chained (a valid chain), its head
    // signed with a key the attacker just made.
    let eve = key_pair(t, "eve");
    let forged = t.join("forged");
    std::fs::create_dir(&forged).unwrap();
    for step in ["ceremony genesis (nothing to see)", "merge root v1"] {
        note(&forged, step);
    }
    std::fs::copy(
        forged.join("transcript.jsonl"),
        t.join("ceremony/transcript.jsonl"),
    )
    .unwrap();
    ok(&conclave_in(t, &["transcript", "verify", "ceremony"], ""));
    ok(&sign_head(t, "ceremony", "eve", "ceremony/head.eve.sig"));
    let o = verify(&["--head-sig", "ceremony/head.eve.sig"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "the head is signed by key {}, which is not an officer's key",
            eve.keyid().to_raw_string()
        )),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("ceremony/plan.toml"), "{}", o.stderr);
    // Alice's signature no longer matches the rewritten transcript.
    let o = verify(&["--head-sig", "ceremony/head.alice.sig"]);
    assert_eq!(o.code, 1, "{}", o.stderr);

    // With the officer's own copy of the plan, only it is used: eve is still refused.
    let o = verify(&[
        "--head-sig",
        "ceremony/head.eve.sig",
        "--plan",
        "plan/plan.toml",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("not an officer's key"), "{}", o.stderr);

    // A witness's key counts when the verifier names it, and is shown as a witness's.
    let o = verify(&[
        "--head-sig",
        "ceremony/head.eve.sig",
        "--plan",
        "plan/plan.toml",
        "--witness-key",
        "eve.pub.json",
    ]);
    ok(&o);
    assert!(
        o.stdout.contains("witness key given as eve.pub.json"),
        "{}",
        o.stdout
    );

    // A root whose root and targets keys are alice's vouches for her, and names the roles.
    let root = conclave::metadata::Root {
        keys: [(alice.keyid(), alice.clone())].into_iter().collect(),
        roles: ["root", "targets", "snapshot", "timestamp"]
            .into_iter()
            .map(|r| {
                let ids = vec![alice.keyid()];
                (r.to_owned(), conclave::metadata::RoleKeys::new(ids, th(1)))
            })
            .collect(),
        ..root(1, FAR, &[])
    };
    write(t, "1.root.json", &conclave::metadata::Metadata::new(root));
    ok(&sign_head(
        t,
        "ceremony",
        "alice-root",
        "ceremony/head.alice2.sig",
    ));
    let o = verify(&[
        "--head-sig",
        "ceremony/head.alice2.sig",
        "--root",
        "1.root.json",
    ]);
    ok(&o);
    assert!(
        o.stdout.contains("targets key of root version 1"),
        "{}",
        o.stdout
    );
    let o = verify(&[
        "--head-sig",
        "ceremony/head.eve.sig",
        "--root",
        "1.root.json",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("root version 1 (1.root.json)"),
        "{}",
        o.stderr
    );
}

#[test]
fn without_a_plan_or_root_no_head_signature_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    note(t, "one");
    key_pair(t, "eve");
    ok(&sign_head(t, ".", "eve", "head.sig"));
    let o = conclave_in(
        t,
        &["transcript", "verify", ".", "--head-sig", "head.sig"],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot tell whose keys may sign"),
        "{}",
        o.stderr
    );
    // The chain alone still verifies.
    ok(&conclave_in(t, &["transcript", "verify", "."], ""));
}
