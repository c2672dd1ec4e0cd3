//! Proof of possession (issue 23): a root rotation that adds a root key is final only once
//! that key has signed it. `merge` refuses to write root v2 while the new key's signature is
//! missing, even with both thresholds met on the old keys, and names the key; `status` lists
//! it under "must sign" and says INCOMPLETE (exit 1 with --check); once the new key has
//! signed, the merge goes through.

mod common;

use common::rotation::*;

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
