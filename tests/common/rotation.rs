//! A ceremony directory with a root rotation in progress, for the process-level tests of
//! rotations (tests/rotation_context.rs, tests/possession.rs).

use std::path::Path;

use conclave::metadata::{AnyMetadata, KeyId};

use super::*;

pub const PASS: &str = "rotation context test passphrase";

pub fn cli(d: &Path, args: &[&str], stdin: &str) -> Outcome {
    conclave_in(d, args, stdin)
}

pub fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

/// `NAME.key` and `NAME.pub`; returns the keyid.
pub fn keyfile(d: &Path, name: &str) -> KeyId {
    let o = generate_key_file(d, name, PASS);
    std::fs::write(d.join(format!("{name}.pub")), &o.stdout).unwrap();
    KeyId::new(&keyid_in(&o.stderr)).unwrap()
}

pub fn sign(d: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend(ctx);
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    cli(d, &args, &format!("{PASS}\n"))
}

pub fn signers(path: &Path) -> Vec<KeyId> {
    let md = AnyMetadata::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    md.signatures().iter().map(|s| s.keyid.clone()).collect()
}

/// A ceremony directory `c` (transcript, drafts/, signatures/, repository/) holding root v1
/// (alice, bob, carol; 2 of 3) signed by alice and bob, and the draft of root v2 in drafts/
/// where carol leaves and dave joins. Returns the keyids of alice, bob, carol and dave.
pub fn ceremony_with_a_rotation(d: &Path) -> [KeyId; 4] {
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
