//! Proof of possession (issue 23): a root rotation that adds a root key is final only once
//! that key has signed it. `merge` refuses to write root v2 while the new key's signature is
//! missing, even with both thresholds met on the old keys, and names the key; `status` lists
//! it under "must sign" and says INCOMPLETE (exit 1 with --check); once the new key has
//! signed, the merge goes through.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::{AnyMetadata, KeyId};

const PASS: &str = "rotation context test passphrase";

fn cli(d: &Path, args: &[&str], stdin: &str) -> Outcome {
    conclave_in(d, args, stdin)
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// `NAME.key` and `NAME.pub`; returns the keyid.
fn keyfile(d: &Path, name: &str) -> KeyId {
    let o = generate_key_file(d, name, PASS);
    std::fs::write(d.join(format!("{name}.pub")), &o.stdout).unwrap();
    KeyId::new(&keyid_in(&o.stderr)).unwrap()
}

fn sign(d: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend(ctx);
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    cli(d, &args, &format!("{PASS}\n"))
}

fn signers(path: &Path) -> Vec<KeyId> {
    let md = AnyMetadata::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    md.signatures().iter().map(|s| s.keyid.clone()).collect()
}

/// A ceremony directory `c` (transcript, drafts/, signatures/, repository/) holding root v1
/// (alice, bob, carol; 2 of 3) signed by alice and bob, and the draft of root v2 in drafts/
/// where carol leaves and dave joins. Returns the keyids of alice, bob, carol and dave.
fn ceremony_with_a_rotation(d: &Path) -> [KeyId; 4] {
    let ids = ["alice", "bob", "carol", "dave"].map(|n| keyfile(d, n));
    for sub in ["drafts", "signatures", "repository"] {
        std::fs::create_dir_all(d.join("c").join(sub)).unwrap();
    }
    ok(cli(
        d,
        &[
            "--ceremony-dir",
            "c",
            "root",
            "init",
            "--key",
            "root=alice.pub",
            "--key",
            "root=bob.pub",
            "--key",
            "root=carol.pub",
            "--threshold",
            "root=2",
            "--key",
            "targets=alice.pub",
            "--key",
            "snapshot=dave.pub",
            "--key",
            "timestamp=dave.pub",
            "--expires",
            "365d",
            "-o",
            "c/drafts/1.root.json",
        ],
        "",
    ));
    assert!(d.join("c/transcript.jsonl").is_file());
    for who in ["alice", "bob"] {
        ok(sign(
            d,
            "c/drafts/1.root.json",
            &[],
            &format!("{who}.key"),
            &format!("c/signatures/1.root.{who}.sig"),
        ));
    }
    ok(cli(
        d,
        &[
            "merge",
            "c/drafts/1.root.json",
            "c/signatures/1.root.alice.sig",
            "c/signatures/1.root.bob.sig",
            "-o",
            "c/repository/1.root.json",
        ],
        "",
    ));
    ok(cli(
        d,
        &[
            "root",
            "rotate",
            "c/repository/1.root.json",
            "--remove-key",
            &format!("root={}", &ids[2].to_raw_string()[..8]),
            "--add-key",
            "root=dave.pub",
            "-o",
            "c/drafts/2.root.json",
        ],
        "",
    ));
    ids
}

#[test]
fn attack_a_rotation_adding_a_key_that_never_signed_is_not_finalised() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let [_alice, _bob, _carol, dave] = ceremony_with_a_rotation(d);
    let draft = "c/drafts/2.root.json";
    // alice and bob are in both roots: 2 of 3 old, 2 of 3 new. dave (added) has not signed.
    for who in ["alice", "bob"] {
        ok(sign(
            d,
            draft,
            &[],
            &format!("{who}.key"),
            &format!("c/signatures/2.root.{who}.sig"),
        ));
    }
    let o = cli(
        d,
        &["merge", draft, "-o", "c/repository/2.root.json", "--json"],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("not yet signed by new key {dave}")),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("every threshold is met, but 1 new root key(s) have not signed"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.contains("\"new_keys_not_signed\""), "{}", o.stdout);
    assert!(o.stdout.contains(&dave.to_raw_string()), "{}", o.stdout);
    assert!(!d.join("c/repository/2.root.json").exists());

    let o = cli(d, &["status", draft, "--check"], "");
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("INCOMPLETE"), "{}", o.stdout);
    assert!(o.stdout.contains("proof of possession"), "{}", o.stdout);
    assert!(
        o.stdout.contains(&format!("must sign    {dave}")),
        "{}",
        o.stdout
    );

    // --allow-partial saves progress, marked partial.
    let o = ok(cli(
        d,
        &[
            "merge",
            draft,
            "--allow-partial",
            "-o",
            "c/drafts/2.root.partial.json",
        ],
        "",
    ));
    assert!(o.stderr.contains("with partial signatures"), "{}", o.stderr);

    // dave proves possession: now it is final.
    ok(sign(
        d,
        draft,
        &[],
        "dave.key",
        "c/signatures/2.root.dave.sig",
    ));
    let o = ok(cli(
        d,
        &["merge", draft, "-o", "c/repository/2.root.json"],
        "",
    ));
    assert!(o.stderr.contains("every threshold is met"), "{}", o.stderr);
    assert!(signers(&d.join("c/repository/2.root.json")).contains(&dave));
    let o = cli(d, &["status", "c/repository/2.root.json", "--check"], "");
    assert_eq!(o.code, 0, "{}", o.stdout);
}
