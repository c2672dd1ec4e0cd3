//! Issue 18, class 5, through the real binary: a root draft slipped into a round of claimed
//! bins. A coordinator drafts the next root listing an admin's key as the root key, drops it
//! into the directory `pypi claim` wrote, and hands the round to the admins. Before the fix the
//! root draft was checked against its own keys only (the admin's signature met its threshold)
//! and `merge` wrote it into the repository as `N.root.json`, even over the trust anchor.
//! Now every step of the round refuses it, and nothing in the repository changes.

mod common;

use std::path::Path;

use common::*;
use conclave::signer::Signer;

const PASS: &str = "round attack test passphrase";

fn cli(d: &Path, args: &[&str], stdin: &str) -> Outcome {
    conclave_in(d, args, stdin)
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn keyfile(d: &Path, name: &str) {
    let o = generate_key_file(d, name, PASS);
    std::fs::write(d.join(format!("{name}.pub")), o.stdout).unwrap();
}

fn sign(d: &Path, file: &str, ctx: &[&str], key: &str, out: &str) -> Outcome {
    let mut args = vec!["sign", file];
    args.extend(ctx);
    args.extend(["--key", key, "--passphrase-fd", "0", "-o", out]);
    cli(d, &args, &format!("{PASS}\n"))
}

fn merge(d: &Path, file: &str, sigs: &[&str], ctx: &[&str], out: &str) -> Outcome {
    let mut args = vec!["merge", file];
    args.extend(sigs);
    args.extend(ctx);
    args.extend(["-o", out]);
    cli(d, &args, "")
}

/// Every file of `dir` with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A repository with root v1 (the officer's key), targets v1 and claimed v1 over 4 hash bins
/// (two admins, threshold 1 so one admin's signature completes a bin), and a claim round in
/// `round/` drafting the bins that change.
fn repository_with_a_claim_round(d: &Path) {
    std::fs::create_dir(d.join("repo")).unwrap();
    for k in ["officer", "admin1", "admin2"] {
        keyfile(d, k);
    }
    for (name, n) in [("online", 1), ("dev", 2)] {
        std::fs::write(
            d.join(format!("{name}.pub")),
            conclave::cjson::to_pretty(&ed(n).public_key().to_value()),
        )
        .unwrap();
    }
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
        "",
    ));
    ok(sign(d, "root-draft.json", &[], "officer.key", "root.sig"));
    ok(merge(
        d,
        "root-draft.json",
        &["root.sig"],
        &[],
        "repo/1.root.json",
    ));
    ok(cli(
        d,
        &[
            "pypi",
            "init",
            "--key",
            "claimed=admin1.pub",
            "--key",
            "claimed=admin2.pub",
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
        "",
    ));
    let to_root = ["--role", "targets", "--delegator", "repo/1.root.json"];
    ok(sign(
        d,
        "targets-draft.json",
        &to_root,
        "officer.key",
        "t.sig",
    ));
    ok(merge(
        d,
        "targets-draft.json",
        &["t.sig"],
        &to_root,
        "repo/1.targets.json",
    ));
    let to_targets = ["--role", "claimed", "--delegator", "repo/1.targets.json"];
    ok(sign(
        d,
        "claimed/1.claimed.json",
        &to_targets,
        "admin1.key",
        "c.sig",
    ));
    ok(merge(
        d,
        "claimed/1.claimed.json",
        &["c.sig"],
        &to_targets,
        "repo/1.claimed.json",
    ));
    std::fs::write(
        d.join("requests.jsonl"),
        "{\"project\": \"demo\", \"keys\": [".to_owned()
            + &String::from_utf8(conclave::cjson::to_canonical(
                &ed(2).public_key().to_value(),
            ))
            .unwrap()
            + "], \"threshold\": 1}\n",
    )
    .unwrap();
    ok(cli(
        d,
        &[
            "pypi",
            "claim",
            "--claimed",
            "claimed/1.claimed.json",
            "--requests",
            "requests.jsonl",
            "--expires",
            "90d",
            "-o",
            "round",
        ],
        "",
    ));
}

#[test]
fn a_root_planted_in_a_round_of_claimed_bins_is_refused_at_every_step() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repository_with_a_claim_round(d);
    let drafted: Vec<String> = contents(&d.join("round"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(drafted.len(), 1, "{drafted:?}");
    let bin = drafted[0].clone();
    let delegator = ["--delegator", "repo/1.claimed.json"];

    // Control: the round as drafted signs and would merge.
    ok(sign(d, "round", &delegator, "admin1.key", "honest-a1"));

    // The coordinator's root: the next version, with admin1 as the only root key.
    let officer_id = {
        let o = cli(d, &["key", "public", "officer.key"], "");
        let k = conclave::metadata::Key::from_json(
            conclave::cjson::parse(o.stdout.as_bytes()).unwrap(),
        )
        .unwrap();
        k.keyid().to_string()
    };
    ok(cli(
        d,
        &[
            "root",
            "rotate",
            "repo/1.root.json",
            "--add-key",
            "root=admin1.pub",
            "--remove-key",
            &format!("root={officer_id}"),
            "-o",
            "evil-2.root.json",
        ],
        "",
    ));
    std::fs::copy(d.join("evil-2.root.json"), d.join("round/2.root.json")).unwrap();
    let repo_before = contents(&d.join("repo"));

    // 1. The admin signing the round of bins: refused before the key is unlocked.
    let o = sign(d, "round", &delegator, "admin1.key", "round-a1");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("round/2.root.json: a root (version 2) cannot be part of a round"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("Passphrase"), "{}", o.stderr);
    assert!(!d.join("round-a1").exists());

    // 2. Status does not count the planted root as a draft of the round.
    let o = cli(
        d,
        &["status", "round", "--delegator", "repo/1.claimed.json"],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot be part of a round"),
        "{}",
        o.stderr
    );

    // 3. Merge, with a signature on the root obtained elsewhere (the admin signing the root
    //    file alone, not knowing what it is) put beside the honest round signatures: refused,
    //    and the repository is exactly as it was.
    ok(sign(
        d,
        "round/2.root.json",
        &[],
        "admin1.key",
        "honest-a1/2.root.json.sig",
    ));
    let o = merge(d, "round", &["honest-a1"], &delegator, "repo");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot be part of a round") && o.stderr.contains("--previous"),
        "{}",
        o.stderr
    );
    assert_eq!(contents(&d.join("repo")), repo_before);

    // 4. The same root merged on its own: refused without its previous root, and with it the
    //    officer's (previous root key's) signature is missing.
    let o = merge(
        d,
        "evil-2.root.json",
        &["honest-a1/2.root.json.sig"],
        &[],
        "repo/2.root.json",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "root version 2 can only be merged or counted with its previous root (version 1)"
        ),
        "{}",
        o.stderr
    );
    let o = merge(
        d,
        "evil-2.root.json",
        &["honest-a1/2.root.json.sig"],
        &["--previous", "repo/1.root.json"],
        "repo/2.root.json",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("root v1 (previous root's keys): 0 of 1"),
        "{}",
        o.stderr
    );
    assert_eq!(contents(&d.join("repo")), repo_before);

    // 5. The trust anchor itself: a root version 1 under admin1's key, planted as
    //    1.root.json, is refused as well; repo/1.root.json keeps its bytes.
    std::fs::remove_file(d.join("round/2.root.json")).unwrap();
    std::fs::remove_file(d.join("honest-a1/2.root.json.sig")).unwrap();
    ok(cli(
        d,
        &[
            "root",
            "init",
            "--key",
            "root=admin1.pub",
            "--key",
            "targets=admin1.pub",
            "--key",
            "snapshot=admin1.pub",
            "--key",
            "timestamp=admin1.pub",
            "--expires",
            "365d",
            "-o",
            "round/1.root.json",
        ],
        "",
    ));
    ok(sign(
        d,
        "round/1.root.json",
        &[],
        "admin1.key",
        "honest-a1/1.root.json.sig",
    ));
    let o = merge(d, "round", &["honest-a1"], &delegator, "repo");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("round/1.root.json: a root (version 1) cannot be part of a round"),
        "{}",
        o.stderr
    );
    assert_eq!(contents(&d.join("repo")), repo_before);

    // 6. Targets metadata named as the root file: its name would put it over repo/1.root.json.
    std::fs::remove_file(d.join("round/1.root.json")).unwrap();
    std::fs::remove_file(d.join("honest-a1/1.root.json.sig")).unwrap();
    std::fs::rename(d.join("round").join(&bin), d.join("round/1.root.json")).unwrap();
    std::fs::rename(
        d.join("honest-a1").join(format!("{bin}.sig")),
        d.join("honest-a1/1.root.json.sig"),
    )
    .unwrap();
    let o = merge(d, "round", &["honest-a1"], &delegator, "repo");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("1.root.json would hold version 1 of role root"),
        "{}",
        o.stderr
    );
    assert_eq!(contents(&d.join("repo")), repo_before);

    std::fs::rename(d.join("round/1.root.json"), d.join("round").join(&bin)).unwrap();
    std::fs::rename(
        d.join("honest-a1/1.root.json.sig"),
        d.join("honest-a1").join(format!("{bin}.sig")),
    )
    .unwrap();
    // Control: the honest round merges into the repository.
    let o = ok(merge(d, "round", &["honest-a1"], &delegator, "repo"));
    assert!(
        o.stderr.contains("1 of 1 drafts meet every threshold"),
        "{}",
        o.stderr
    );
    assert!(d.join("repo").join(&bin).exists());
    assert_eq!(
        std::fs::read(d.join("repo/1.root.json")).unwrap(),
        repo_before
            .iter()
            .find(|(n, _)| n == "1.root.json")
            .unwrap()
            .1
    );
}
