//! Issue 19: `status` could not take the signature files (`error: unexpected argument`), so
//! the only way to see a round's progress was a trial merge. Now `status FILE [SIGFILE|SIGDIR
//! ...]` counts detached signatures as merge would, writes nothing, and names the files that
//! would be refused; with none named it finds them where `merge` does (beside the draft and in
//! the ceremony directory's signatures/), and `merge` too can be run without naming them.
//! With no signature files around, `status` prints what it always printed.

mod common;

use std::path::Path;

use common::*;

const PASS: &str = "status signatures test passphrase";

fn cli(d: &Path, args: &[&str]) -> Outcome {
    conclave_in(d, args, "")
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn sign(d: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend(ctx);
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    conclave_in(d, &args, &format!("{PASS}\n"))
}

/// Every file under `dir` with its bytes, recursively, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            for (n, b) in snapshot(&p) {
                out.push((format!("{}/{n}", e.file_name().to_string_lossy()), b));
            }
        } else {
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

/// Key files for alice, bob, carol (root, 2 of 3) and a stranger, and the draft of root v1 in
/// the ceremony directory `c` (drafts/, signatures/, repository/, transcript).
fn ceremony(d: &Path) {
    for name in ["alice", "bob", "carol", "stranger"] {
        let o = generate_key_file(d, name, PASS);
        std::fs::write(d.join(format!("{name}.pub")), &o.stdout).unwrap();
    }
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
            "snapshot=stranger.pub",
            "--key",
            "timestamp=stranger.pub",
            "--expires",
            "365d",
            "-o",
            "c/drafts/1.root.json",
        ],
    ));
}

#[test]
fn status_counts_signature_files_and_directories_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ceremony(d);
    let draft = "c/drafts/1.root.json";
    std::fs::create_dir(d.join("in")).unwrap();
    ok(sign(d, draft, &[], "alice.key", "in/alice.sig"));
    // A signature by a key that may not sign (sign itself refuses to make one).
    let stranger =
        conclave::keystore::KeyFile::parse(&std::fs::read(d.join("stranger.key")).unwrap())
            .unwrap()
            .signer(&conclave::secret::Passphrase::new(PASS.into()))
            .unwrap();
    let md = conclave::metadata::AnyMetadata::from_bytes(&std::fs::read(d.join(draft)).unwrap())
        .unwrap();
    let sig = conclave::ceremony::sign_detached(&md, "root", &*stranger, None).unwrap();
    std::fs::write(d.join("in/stranger.sig"), sig.to_bytes()).unwrap();

    // Before: `status FILE SIGFILE` was a usage error. Now it counts.
    let before = snapshot(d);
    let o = ok(cli(d, &["status", draft, "in/alice.sig"]));
    assert!(
        o.stdout.contains(
            "INCOMPLETE with the signature files below (counted, not merged: nothing was written)"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("root v1 (its own keys): 1 of 2 needed"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("adds "), "{}", o.stdout);
    assert_eq!(snapshot(d), before, "status wrote something");
    // --check: still below the threshold.
    assert_eq!(
        cli(d, &["status", draft, "in/alice.sig", "--check"]).code,
        1
    );

    // A key that may not sign is named, and the rest still counted; nothing refused stops it.
    ok(sign(d, draft, &[], "bob.key", "in/bob.sig"));
    let o = ok(cli(
        d,
        &[
            "status",
            draft,
            "in/alice.sig",
            "in/bob.sig",
            "in/stranger.sig",
            "--check",
        ],
    ));
    assert!(
        o.stdout.contains("COMPLETE - every threshold is met"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("refused      in/stranger.sig: key"),
        "{}",
        o.stdout
    );
    // The same through the directory, and as JSON.
    let o = ok(cli(d, &["status", draft, "in", "--json"]));
    assert!(o.stdout.contains("\"met\": true"), "{}", o.stdout);
    // A signature for an earlier draft in the directory is set aside and named.
    ok(cli(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=alice.pub",
            "--key",
            "targets=alice.pub",
            "--key",
            "snapshot=alice.pub",
            "--key",
            "timestamp=alice.pub",
            "--expires",
            "300d",
            "-o",
            "other.json",
        ],
    ));
    ok(sign(d, "other.json", &[], "alice.key", "in/old.sig"));
    let o = ok(cli(d, &["status", draft, "in"]));
    assert!(
        o.stderr
            .contains("skipped     in/old.sig (it signs other content"),
        "{}",
        o.stderr
    );
    assert_eq!(snapshot(d).len(), before.len() + 3);
}

#[test]
fn in_a_ceremony_directory_status_and_merge_find_the_signatures_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ceremony(d);
    let draft = "c/drafts/1.root.json";

    // Nothing signed yet, nothing around: the old output, byte for byte the same form.
    let o = ok(cli(d, &["status", draft]));
    assert_eq!(
        o.stdout.lines().next().unwrap(),
        "c/drafts/1.root.json (role root, version 1): INCOMPLETE"
    );
    assert!(!o.stdout.contains("signature files"), "{}", o.stdout);
    assert_eq!(o.stderr, "");

    for who in ["alice", "bob"] {
        ok(sign(
            d,
            draft,
            &[],
            &format!("{who}.key"),
            &format!("c/signatures/1.root.{who}.sig"),
        ));
    }
    let before = snapshot(&d.join("c"));
    let o = ok(cli(d, &["status", draft, "--check"]));
    assert!(
        o.stdout.contains("COMPLETE - every threshold is met"),
        "{}",
        o.stdout
    );
    assert!(o.stderr.contains("signatures: 2"), "{}", o.stderr);
    // Run from inside the ceremony directory, as SIGNING-TASKS.txt says.
    ok(conclave_in(
        &d.join("c"),
        &["status", "drafts/1.root.json", "--check"],
        "",
    ));
    assert_eq!(snapshot(&d.join("c")), before, "status wrote something");

    // merge with no SIGFILE takes the same files.
    let o = ok(cli(d, &["merge", draft, "-o", "c/repository/1.root.json"]));
    assert!(o.stderr.contains("every threshold is met"), "{}", o.stderr);
    ok(run(conclave().arg("verify").arg(d.join("c/repository"))));
    // The merged file: the ceremony's signature files are already in it.
    let o = ok(cli(d, &["status", "c/repository/1.root.json", "--check"]));
    assert!(
        o.stdout
            .starts_with("c/repository/1.root.json (role root, version 1): COMPLETE"),
        "{}",
        o.stdout
    );
    assert_eq!(o.stdout.matches("already in ").count(), 2, "{}", o.stdout);
    // Copied out of the ceremony, with no signature files around: its own, as ever.
    std::fs::create_dir(d.join("copy")).unwrap();
    std::fs::copy(
        d.join("c/repository/1.root.json"),
        d.join("copy/1.root.json"),
    )
    .unwrap();
    let o = ok(cli(d, &["status", "copy/1.root.json", "--check"]));
    assert_eq!(
        o.stdout.lines().next().unwrap(),
        "copy/1.root.json (role root, version 1): COMPLETE - every threshold is met"
    );
    assert!(!o.stdout.contains("signature files"), "{}", o.stdout);

    // A draft with no signature anywhere: merge says where it looked.
    std::fs::create_dir(d.join("lonely")).unwrap();
    std::fs::copy(d.join(draft), d.join("lonely/1.root.json")).unwrap();
    let o = cli(d, &["merge", "lonely/1.root.json", "-o", "lonely/out.json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("none for this draft were found in lonely"),
        "{}",
        o.stderr
    );
    assert!(!d.join("lonely/out.json").exists());
}

#[test]
fn a_round_is_status_checked_with_the_officers_signature_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for name in ["admin1", "admin2"] {
        let o = generate_key_file(d, name, PASS);
        std::fs::write(d.join(format!("{name}.pub")), &o.stdout).unwrap();
    }
    // Claimed delegating two roles to the admins (2 of 2), and a round of both drafts.
    let signer = |n: &str| {
        conclave::keystore::KeyFile::parse(&std::fs::read(d.join(format!("{n}.key"))).unwrap())
            .unwrap()
            .signer(&conclave::secret::Passphrase::new(PASS.into()))
            .unwrap()
    };
    let (a1, a2) = (signer("admin1"), signer("admin2"));
    let mut claimed = targets(1, FAR);
    for name in ["p1", "p2"] {
        delegate(
            &mut claimed,
            name,
            &[&*a1, &*a2],
            2,
            &[&format!("{name}/*")],
            true,
        );
    }
    write(
        d,
        "claimed.json",
        &conclave::metadata::Metadata::new(claimed),
    );
    std::fs::create_dir(d.join("round")).unwrap();
    for name in ["p1", "p2"] {
        write(
            &d.join("round"),
            &format!("1.{name}.json"),
            &conclave::metadata::Metadata::new(targets(1, FAR)),
        );
    }
    let ctx = ["--delegator", "claimed.json"];
    ok(sign(d, "round", &ctx, "admin1.key", "sigs-a1"));
    let before = snapshot(d);
    let o = ok(cli(
        d,
        &["status", "round", "sigs-a1", "--delegator", "claimed.json"],
    ));
    assert!(
        o.stdout
            .contains("0 of 2 drafts meet every threshold with the signature directories given"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(": 1 of 2 needed; must sign: "),
        "{}",
        o.stdout
    );
    ok(sign(d, "round", &ctx, "admin2.key", "sigs-a2"));
    let o = ok(cli(
        d,
        &[
            "status",
            "round",
            "sigs-a1",
            "sigs-a2",
            "--delegator",
            "claimed.json",
            "--check",
        ],
    ));
    assert!(
        o.stdout
            .contains("2 of 2 drafts meet every threshold - COMPLETE"),
        "{}",
        o.stdout
    );
    assert_eq!(snapshot(d).len(), before.len() + 2);
    // Without the directories: the drafts' own (none) signatures, as before.
    let o = cli(
        d,
        &["status", "round", "--delegator", "claimed.json", "--check"],
    );
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("0 of 2 drafts meet every threshold\n"),
        "{}",
        o.stdout
    );
    // A round merge still needs the directories named.
    let o = cli(
        d,
        &["merge", "round", "--delegator", "claimed.json", "-o", "out"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("signature directories"), "{}", o.stderr);
}
