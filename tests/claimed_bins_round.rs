//! Issue 19: the directory `pypi init --claimed-bins` writes could not be signed as one round
//! (claimed and its bins have different delegators: the bins were refused against targets).
//! Now the round's drafts are each checked against their own delegator, the signed targets for
//! claimed and the claimed draft beside them for the bins: the admins sign, status-check and
//! merge the directory as one round, and the repository verifies. A claim round follows.

mod common;

use std::path::Path;

use common::*;
use conclave::signer::Signer;

const PASS: &str = "claimed bins round test passphrase";

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

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn claimed_and_its_bins_are_signed_checked_and_merged_as_one_round() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("repo")).unwrap();
    for k in ["officer", "admin1", "admin2", "stranger"] {
        let o = generate_key_file(d, k, PASS);
        std::fs::write(d.join(format!("{k}.pub")), &o.stdout).unwrap();
    }
    std::fs::write(
        d.join("online.pub"),
        conclave::cjson::to_pretty(&ed(1).public_key().to_value()),
    )
    .unwrap();
    ok(cli(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=officer.pub",
            "--key",
            "targets=officer.pub",
            "--key",
            "snapshot=online.pub",
            "--key",
            "timestamp=online.pub",
            "--expires",
            "365d",
            "-o",
            "root-draft.json",
        ],
    ));
    ok(sign(d, "root-draft.json", &[], "officer.key", "root.sig"));
    ok(cli(
        d,
        &[
            "merge",
            "root-draft.json",
            "root.sig",
            "-o",
            "repo/1.root.json",
        ],
    ));
    let o = ok(cli(
        d,
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
            "recently-claimed=online.pub",
            "--key",
            "unclaimed=online.pub",
            "--expires",
            "365d",
            "--bins",
            "16",
            "--claimed-bins",
            "4",
            "-o",
            "targets-draft.json",
        ],
    ));
    assert!(o.stderr.contains("one signing round"), "{}", o.stderr);
    let to_root = ["--role", "targets", "--delegator", "repo/1.root.json"];
    ok(sign(
        d,
        "targets-draft.json",
        &to_root,
        "officer.key",
        "t.sig",
    ));
    ok(cli(
        d,
        &[
            "merge",
            "targets-draft.json",
            "t.sig",
            "--role",
            "targets",
            "--delegator",
            "repo/1.root.json",
            "-o",
            "repo/1.targets.json",
        ],
    ));
    assert_eq!(names(&d.join("claimed")).len(), 5);

    // The admins sign the whole directory, against the signed targets.
    let ctx = ["--delegator", "repo/1.targets.json"];
    let o = ok(sign(d, "claimed", &ctx, "admin1.key", "sigs-a1"));
    assert!(
        o.stderr.contains("You are about to sign the 5 drafts"),
        "{}",
        o.stderr
    );
    assert_eq!(
        o.stderr
            .matches("(delegated by this round's 1.claimed.json)")
            .count(),
        4,
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("Round digest"), "{}", o.stderr);
    // The round's rate, which decides whether a round is practical on a token.
    assert!(
        o.stderr.contains("Signed 5 drafts in ") && o.stderr.contains(" signatures per second)."),
        "{}",
        o.stderr
    );
    // A key neither targets nor claimed names is refused before it is unlocked.
    let o = sign(d, "claimed", &ctx, "stranger.key", "sigs-x");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("may not sign 5 of the 5 drafts"),
        "{}",
        o.stderr
    );
    assert!(!d.join("sigs-x").exists());

    // Status with one admin's signatures: nothing complete (2 of 2 needed), nothing written.
    let o = ok(cli(
        d,
        &[
            "status",
            "claimed",
            "sigs-a1",
            "--delegator",
            "repo/1.targets.json",
        ],
    ));
    assert!(
        o.stdout
            .contains("0 of 5 drafts meet every threshold with the signature directories"),
        "{}",
        o.stdout
    );
    ok(sign(d, "claimed", &ctx, "admin2.key", "sigs-a2"));
    let o = ok(cli(
        d,
        &[
            "status",
            "claimed",
            "sigs-a1",
            "sigs-a2",
            "--delegator",
            "repo/1.targets.json",
            "--check",
        ],
    ));
    assert!(
        o.stdout
            .contains("5 of 5 drafts meet every threshold - COMPLETE"),
        "{}",
        o.stdout
    );
    assert_eq!(names(&d.join("repo")), ["1.root.json", "1.targets.json"]);

    // One admin short: nothing is merged.
    let o = cli(
        d,
        &[
            "merge",
            "claimed",
            "sigs-a1",
            "--delegator",
            "repo/1.targets.json",
            "-o",
            "repo",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(names(&d.join("repo")), ["1.root.json", "1.targets.json"]);
    let o = ok(cli(
        d,
        &[
            "merge",
            "claimed",
            "sigs-a1",
            "sigs-a2",
            "--delegator",
            "repo/1.targets.json",
            "-o",
            "repo",
        ],
    ));
    assert!(
        o.stderr.contains("5 of 5 drafts meet every threshold"),
        "{}",
        o.stderr
    );
    assert_eq!(names(&d.join("repo")).len(), 7);
    let v = ok(run(conclave().arg("verify").arg(d.join("repo"))));
    assert!(v.stdout.contains("verified: 7 file(s)"), "{}", v.stdout);

    // The bins are ready for claim rounds, against the merged claimed.
    let key = String::from_utf8(conclave::cjson::to_canonical(
        &ed(2).public_key().to_value(),
    ))
    .unwrap();
    std::fs::write(
        d.join("requests.jsonl"),
        format!("{{\"project\": \"demo\", \"keys\": [{key}], \"threshold\": 1}}\n"),
    )
    .unwrap();
    ok(cli(
        d,
        &[
            "pypi",
            "claim",
            "--claimed",
            "repo/1.claimed.json",
            "--requests",
            "requests.jsonl",
            "-o",
            "round",
        ],
    ));
    let by_claimed = ["--delegator", "repo/1.claimed.json"];
    ok(sign(d, "round", &by_claimed, "admin1.key", "r-a1"));
    // The second admin reviews the round against the versions in use: the bin's version 1
    // is checked against the signed claimed that delegates it.
    let reviewed = [by_claimed[0], by_claimed[1], "--previous", "repo"];
    let o = ok(sign(d, "round", &reviewed, "admin2.key", "r-a2"));
    assert!(
        o.stderr.contains("Changes against the versions in use"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("Version 1 is signed by"), "{}", o.stderr);
    assert!(!o.stderr.contains("UNVERIFIED PREVIOUS"), "{}", o.stderr);
    ok(cli(
        d,
        &[
            "merge",
            "round",
            "r-a1",
            "r-a2",
            "--delegator",
            "repo/1.claimed.json",
            "-o",
            "repo",
        ],
    ));
    ok(run(conclave().arg("verify").arg(d.join("repo"))));
}
