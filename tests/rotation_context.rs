//! Issue 19: rotation context is never optional. `merge` of root v2 without `--previous` used
//! to print "every threshold is met" on the new keys alone and drop the old root's signatures,
//! `status` said COMPLETE, and an officer whose key is only in the old root was told "may not
//! sign". Now `sign`, `merge` and `status` find the previous root themselves (`N-1.root.json`
//! in the ceremony directory's repository, or beside the draft), count both thresholds, keep
//! the old root's signatures, and without it refuse with the `--previous` to add.

mod common;

use common::rotation::*;
use common::*;

#[test]
fn in_a_ceremony_directory_the_previous_root_is_found_and_both_thresholds_count() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let [alice, _bob, carol, dave] = ceremony_with_a_rotation(d);
    let draft = "c/drafts/2.root.json";
    let found = "repository/1.root.json (found in the ceremony directory's repository";

    // carol's key is only in root v1: she signs without --previous (the unsigned v1 draft
    // beside the draft in drafts/ is not taken for the root in use).
    let o = ok(sign(
        d,
        draft,
        &[],
        "carol.key",
        "c/signatures/2.root.carol.sig",
    ));
    assert!(o.stderr.contains(found), "{}", o.stderr);
    assert!(!o.stderr.contains("may not sign"), "{}", o.stderr);
    assert!(o.stderr.contains("Changes since"), "{}", o.stderr);
    ok(sign(
        d,
        draft,
        &[],
        "dave.key",
        "c/signatures/2.root.dave.sig",
    ));

    // One old key and one new key: neither threshold is met, whatever the new root says.
    let sigs = [
        "c/signatures/2.root.carol.sig",
        "c/signatures/2.root.dave.sig",
    ];
    let mut args = vec!["merge", draft];
    args.extend(sigs);
    args.extend(["-o", "c/repository/2.root.json"]);
    let o = cli(d, &args, "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains(found), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("root v1 (previous root's keys): 1 of 2 needed have signed - NOT YET"),
        "{}",
        o.stderr
    );
    assert!(!d.join("c/repository/2.root.json").exists());

    // Status counts both and never says complete.
    let o = ok(cli(d, &["status", draft], ""));
    assert!(o.stdout.contains("INCOMPLETE"), "{}", o.stdout);
    assert!(
        o.stdout.contains("root v1 (previous root's keys)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("root v2 (its own keys)"), "{}", o.stdout);

    // alice is in both: with her, both thresholds are met; the old root's signature (carol's)
    // stays in the file, and the repository verifies.
    ok(sign(
        d,
        draft,
        &[],
        "alice.key",
        "c/signatures/2.root.alice.sig",
    ));
    let mut args = vec!["merge", draft, "c/signatures/2.root.alice.sig"];
    args.extend(sigs);
    args.extend(["-o", "c/repository/2.root.json"]);
    let o = ok(cli(d, &args, ""));
    assert!(o.stderr.contains("every threshold is met"), "{}", o.stderr);
    let mut got = signers(&d.join("c/repository/2.root.json"));
    got.sort();
    let mut want = vec![alice, carol, dave];
    want.sort();
    assert_eq!(got, want);
    ok(run(conclave().arg("verify").arg(d.join("c/repository"))));
}

#[test]
fn without_its_previous_root_a_rotation_is_never_complete_and_the_flag_to_add_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ceremony_with_a_rotation(d);
    // The draft handed over on a stick, away from the repository.
    std::fs::create_dir(d.join("loose")).unwrap();
    std::fs::copy(d.join("c/drafts/2.root.json"), d.join("loose/2.root.json")).unwrap();
    let draft = "loose/2.root.json";

    // carol (old root only) is told to add --previous, not that she "may not sign".
    let o = sign(d, draft, &[], "carol.key", "loose/carol.sig");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is not a root key of version 2")
            && o.stderr.contains("loose/1.root.json"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("add --previous REPO/1.root.json"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("may not sign"), "{}", o.stderr);
    assert!(!d.join("loose/carol.sig").exists());

    // The new keys alone (alice and dave meet root v2's own 2 of 3): signed, but never
    // merged or called complete without root v1.
    for who in ["alice", "dave"] {
        let o = ok(sign(
            d,
            draft,
            &[],
            &format!("{who}.key"),
            &format!("loose/{who}.sig"),
        ));
        assert!(o.stderr.contains("add --previous"), "{}", o.stderr);
    }
    let merge = |ctx: &[&str]| {
        let mut args = vec!["merge", draft, "loose/alice.sig", "loose/dave.sig"];
        args.extend(ctx);
        args.extend(["-o", "loose/merged.json"]);
        cli(d, &args, "")
    };
    let o = merge(&[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("root version 2 can only be merged or counted with its previous root"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("add --previous REPO/1.root.json"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("every threshold is met"), "{}", o.stderr);
    assert!(!d.join("loose/merged.json").exists());
    for args in [vec!["status", draft], vec!["status", draft, "--json"]] {
        let o = cli(d, &args, "");
        assert_eq!(o.code, 2, "{}", o.stderr);
        assert!(!o.stdout.contains("COMPLETE"), "{}", o.stdout);
        assert!(o.stderr.contains("--previous"), "{}", o.stderr);
    }

    // Given, the old root's threshold counts: alice alone is 1 of 2.
    let o = merge(&["--previous", "c/repository/1.root.json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("root v1 (previous root's keys): 1 of 2 needed have signed - NOT YET"),
        "{}",
        o.stderr
    );

    // Beside the draft (as revoke's output directory carries it), it is found.
    std::fs::copy(
        d.join("c/repository/1.root.json"),
        d.join("loose/1.root.json"),
    )
    .unwrap();
    let o = cli(d, &["status", draft], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("loose/1.root.json (found beside the draft"),
        "{}",
        o.stderr
    );
    // (alice's and dave's signature files beside it are counted: alice is in both roots.)
    assert!(
        o.stdout.contains("root v1 (previous root's keys): 1 of 2"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("INCOMPLETE"), "{}", o.stdout);
    ok(sign(d, draft, &[], "carol.key", "loose/carol.sig"));

    // An unsigned root beside the draft is not taken for the root in use.
    std::fs::copy(d.join("c/drafts/1.root.json"), d.join("loose/1.root.json")).unwrap();
    let o = cli(d, &["status", draft], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("is not signed by its own root keys"),
        "{}",
        o.stderr
    );
}
