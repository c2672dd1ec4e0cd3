//! A change review for every role (issue 19): an admin signing a 50,000-project claim days
//! later had no command that reprints what changed. `conclave review OLD NEW` reprints, on any
//! machine, the review `sign NEW --previous OLD` shows, with the same payload digest and the
//! same review digest, whatever the files are called there and whenever it runs.
//!
//! The signers here sign with a key file that does not exist: `sign` shows its review and
//! digests before it opens the key, then fails, and nothing is written but the review file.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::*;
use conclave::signer::Signer;

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

/// `conclave sign ... --key missing.key -o sig.json` in `dir`: its stderr (the review).
fn sign_review(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--key", "missing.key", "-o", "sig.json"]);
    let o = conclave_in(dir, &all, "");
    assert_eq!(
        o.code, 2,
        "signing with a missing key file fails:\n{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("missing.key: cannot read"),
        "{}",
        o.stderr
    );
    o.stderr
}

/// The lines of `text` from the one after `heading` up to the one before `end`.
fn between<'a>(text: &'a str, heading: &str, end: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| !l.starts_with(end))
        .collect()
}

/// The digest lines after `label`: the hex groups (and PGP words for the payload digest).
fn digest_after<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with(label))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect()
}

fn request_line(project: &str, key: &dyn Signer) -> String {
    let k = String::from_utf8(conclave::cjson::to_canonical(&key.public_key().to_value())).unwrap();
    format!("{{\"project\": \"{project}\", \"keys\": [{k}], \"threshold\": 1}}")
}

/// A root, targets delegating claimed to one admin key, claimed v1 (signed, three projects)
/// in `dir`, and claimed v2 drafted by `pypi claim` with `n` more projects.
fn claim_round(dir: &Path, n: usize) {
    let (rk, tk, admin) = (ed(1), ed(10), ed(20));
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&rk], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&rk], 1),
            ("timestamp", &[&rk], 1),
        ],
    );
    write(dir, "1.root.json", &signed(r, &[&rk]));
    let mut t = targets(1, FAR);
    delegate(&mut t, "claimed", &[&admin], 1, &["*"], false);
    write(dir, "1.targets.json", &signed(t, &[&tk]));
    let mut c = targets(1, FAR);
    for i in 0..3 {
        delegate(
            &mut c,
            &format!("old-{i}"),
            &[&ed(100 + i)],
            1,
            &[&format!("old-{i}"), &format!("old-{i}/*")],
            true,
        );
    }
    write(dir, "1.claimed.json", &signed(c, &[&admin]));
    let lines: Vec<String> = (0..n)
        .map(|i| request_line(&format!("new-{i:04}"), &ed(1000 + i as u32)))
        .collect();
    std::fs::write(dir.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let o = conclave_in(
        dir,
        &[
            "pypi",
            "claim",
            "--claimed",
            "1.claimed.json",
            "--requests",
            "requests.jsonl",
            "-o",
            "2.claimed.json",
        ],
        "",
    );
    ok(&o);
    // The admins are told to sign with the version in use as --previous: the change review.
    assert!(
        o.stderr.contains(
            "`conclave sign 2.claimed.json --previous 1.claimed.json --role claimed --delegator TARGETS"
        ),
        "{}",
        o.stderr
    );
}

/// The same files as `dir` holds, under other names in another directory ("another machine").
fn elsewhere(dir: &Path, files: &[(&str, &str)]) -> tempfile::TempDir {
    let other = tempfile::tempdir().unwrap();
    for (from, to) in files {
        std::fs::copy(dir.join(from), other.path().join(to)).unwrap();
    }
    other
}

#[test]
fn a_claim_round_is_reprinted_elsewhere_with_the_digests_sign_showed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    claim_round(d, 250);
    // The admin at the table: the review is too long for the screen, so it goes to a file
    // whose digest is read aloud with the payload digest.
    let signed = sign_review(
        d,
        &[
            "2.claimed.json",
            "--previous",
            "1.claimed.json",
            "--role",
            "claimed",
            "--delegator",
            "1.targets.json",
        ],
    );
    let review_file = std::fs::read(d.join("sig.json.review.txt")).unwrap();
    let sign_payload = digest_after(&signed, "Payload digest");
    let sign_review_digest = digest_after(&signed, "Review file digest");
    assert_eq!(sign_payload.len(), 5, "{signed}");
    assert_eq!(sign_review_digest.len(), 1, "{signed}");

    // Days later, on another machine, with the files under other names.
    let other = elsewhere(
        d,
        &[
            ("1.claimed.json", "current.json"),
            ("2.claimed.json", "next.json"),
            ("1.targets.json", "targets.json"),
        ],
    );
    let o = conclave_in(
        other.path(),
        &[
            "review",
            "current.json",
            "next.json",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
            "-o",
            "review.txt",
        ],
        "",
    );
    ok(&o);
    assert_eq!(digest_after(&o.stdout, "Payload digest"), sign_payload);
    assert_eq!(digest_after(&o.stdout, "Review digest"), sign_review_digest);
    // The review text is byte for byte the file `sign` wrote...
    assert_eq!(
        std::fs::read(other.path().join("review.txt")).unwrap(),
        review_file
    );
    // ...and what `review` prints is that text, with its heading, the expiry's "in N days" and
    // the warnings `sign` shows with it.
    let printed: Vec<&str> = between(
        &o.stdout,
        "Review of next.json against current.json:",
        "Payload digest",
    )
    .into_iter()
    .filter(|l| !l.starts_with("  expiry:") && !l.starts_with("WARNING:"))
    .collect();
    let text = String::from_utf8(review_file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(printed.len(), lines.len(), "{}", o.stdout);
    if let Some(i) = (0..lines.len()).find(|&i| printed[i] != lines[i]) {
        panic!("line {i} differs: {:?} != {:?}", printed[i], lines[i]);
    }
    // Every project the claim adds is there, and it says the current version is verified.
    for i in 0..250 {
        assert!(
            text.contains(&format!("+ role new-{i:04} added: 1 of 1 key(s)")),
            "new-{i:04} is missing from the review"
        );
    }
    assert!(text.contains("Version 1 is signed by"), "{text}");
    assert!(text.contains("Changes since version 1:"), "{text}");

    // --json: the same digests, for a machine.
    let o = conclave_in(
        other.path(),
        &[
            "review",
            "current.json",
            "next.json",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
            "--json",
        ],
        "",
    );
    ok(&o);
    let v = conclave::cjson::parse(o.stdout.as_bytes()).unwrap();
    let review_digest = v.get("review_digest").and_then(|d| d.as_str()).unwrap();
    let file_sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    assert_eq!(review_digest, file_sha);
    let payload = v.get("payload_digest").and_then(|d| d.as_str()).unwrap();
    let grouped: Vec<&str> = payload
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert_eq!(format!("  {}", grouped.join(" ")), sign_payload[0]);
    assert_eq!(v.get("role").and_then(|r| r.as_str()), Some("claimed"));
    assert_eq!(
        match v.get("review") {
            Some(conclave::cjson::Value::Array(a)) => Some(a.len()),
            _ => None,
        },
        Some(text.lines().count())
    );
}

#[test]
fn a_root_rotation_is_reprinted_with_the_same_review_and_payload_digest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (old, new, tk) = (ed(1), ed(2), ed(10));
    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[&old], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&tk], 1),
            ("timestamp", &[&tk], 1),
        ],
    );
    write(d, "1.root.json", &signed(v1, &[&old]));
    let v2 = root(
        2,
        FAR,
        &[
            ("root", &[&new], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&tk], 1),
            ("timestamp", &[&tk], 1),
        ],
    );
    write(d, "2.root.json", &Metadata::new(v2));
    let signed = sign_review(d, &["2.root.json", "--previous", "1.root.json"]);
    let other = elsewhere(d, &[("1.root.json", "a.json"), ("2.root.json", "b.json")]);
    let o = conclave_in(other.path(), &["review", "a.json", "b.json"], "");
    ok(&o);
    assert_eq!(
        digest_after(&o.stdout, "Payload digest"),
        digest_after(&signed, "Payload digest")
    );
    // The whole review, line for line, as `sign` showed it.
    let shown_by_sign = between(
        &signed,
        "You are about to sign 2.root.json",
        "Payload digest",
    );
    let shown_by_review = between(
        &o.stdout,
        "Review of b.json against a.json:",
        "Payload digest",
    );
    assert_eq!(shown_by_review, shown_by_sign);
    let (old_id, new_id) = (old.public_key().keyid(), new.public_key().keyid());
    assert!(
        shown_by_review
            .contains(&format!("  + role root: key {new_id} added (ed25519/ed25519)").as_str()),
        "{}",
        o.stdout
    );
    assert!(
        shown_by_review
            .contains(&format!("  - role root: key {old_id} removed (ed25519/ed25519)").as_str()),
        "{}",
        o.stdout
    );
    // A short review has no review file, but `review` gives its digest anyway.
    assert!(!d.join("sig.json.review.txt").exists());
    assert_eq!(
        digest_after(&o.stdout, "Review digest").len(),
        1,
        "{}",
        o.stdout
    );
}

#[test]
fn a_delegation_rotation_is_reprinted_and_an_unchecked_old_version_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rk, tk, a1, a2) = (ed(1), ed(10), ed(20), ed(21));
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&rk], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&rk], 1),
            ("timestamp", &[&rk], 1),
        ],
    );
    write(d, "1.root.json", &signed(r, &[&rk]));
    let mut t = targets(1, FAR);
    delegate(&mut t, "claimed", &[&a1], 1, &["*"], false);
    write(d, "1.targets.json", &signed(t, &[&tk]));
    std::fs::write(
        d.join("a2.pub.json"),
        conclave::cjson::to_pretty(&a2.public_key().to_value()),
    )
    .unwrap();
    let a1_id = a1.public_key().keyid().to_raw_string();
    ok(&conclave_in(
        d,
        &[
            "delegation",
            "rotate",
            "1.targets.json",
            "--role",
            "claimed",
            "--remove-key",
            &a1_id,
            "--add-key",
            "a2.pub.json",
            "-o",
            "2.targets.json",
        ],
        "",
    ));
    // The targets key holder signs the rotation with its change review.
    let signed = sign_review(
        d,
        &[
            "2.targets.json",
            "--previous",
            "1.targets.json",
            "--delegator",
            "1.root.json",
        ],
    );
    let o = conclave_in(
        d,
        &[
            "review",
            "1.targets.json",
            "2.targets.json",
            "--delegator",
            "1.root.json",
        ],
        "",
    );
    ok(&o);
    assert_eq!(
        digest_after(&o.stdout, "Payload digest"),
        digest_after(&signed, "Payload digest")
    );
    let by_sign = between(&signed, "You are about to sign", "Payload digest");
    let by_review = between(&o.stdout, "Review of", "Payload digest");
    assert_eq!(by_review, by_sign);
    let a2_id = a2.public_key().keyid();
    assert!(
        by_review
            .contains(&format!("  + role claimed: key {a2_id} added (ed25519/ed25519)").as_str()),
        "{}",
        o.stdout
    );
    assert!(
        by_review
            .contains(&format!("  - role claimed: key {a1_id} removed (ed25519/ed25519)").as_str()),
        "{}",
        o.stdout
    );
    assert!(
        o.stderr.is_empty() || !o.stderr.contains("warning"),
        "{}",
        o.stderr
    );

    // Without --delegator the old version's signatures cannot be checked: the review says so
    // (and so its digest is not the signers'), and a warning says what to give.
    let o = conclave_in(d, &["review", "1.targets.json", "2.targets.json"], "");
    ok(&o);
    assert!(
        o.stdout.contains(
            "!!! UNVERIFIED PREVIOUS: version 1 is not signed as it must be (no delegator"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stderr.contains("give --delegator as the signers do"),
        "{}",
        o.stderr
    );
    assert_ne!(
        digest_after(&o.stdout, "Review digest"),
        digest_after(&signed, "Review file digest")
    );
}

#[test]
fn a_root_is_never_reviewed_against_an_unsigned_or_non_root_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = ed(1);
    let roles: &[(&str, &[&dyn Signer], u32)] = &[
        ("root", &[&k], 1),
        ("targets", &[&k], 1),
        ("snapshot", &[&k], 1),
        ("timestamp", &[&k], 1),
    ];
    write(d, "1.root.json", &Metadata::new(root(1, FAR, roles)));
    write(d, "2.root.json", &Metadata::new(root(2, FAR, roles)));
    write(d, "t.json", &signed(targets(1, FAR), &[&k]));
    let o = conclave_in(d, &["review", "1.root.json", "2.root.json"], "");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "error: 1.root.json: the previous root (version 1) is not signed by its own root keys"
        ),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    let o = conclave_in(d, &["review", "t.json", "2.root.json"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "error: t.json: a root is reviewed against the root it follows, not targets metadata"
        ),
        "{}",
        o.stderr
    );
    // -o never replaces a file.
    write(d, "1.root.json", &signed(root(1, FAR, roles), &[&k]));
    std::fs::write(d.join("taken.txt"), "mine\n").unwrap();
    let o = conclave_in(
        d,
        &["review", "1.root.json", "2.root.json", "-o", "taken.txt"],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("taken.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_revocations_draft_is_reprinted_with_the_digest_revoke_and_sign_show() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_pypi_repo(&repo, 3);
    // Root v2's keys are ra, rb and rd (2 of 3); rd is revoked.
    let rd = p256(2).public_key().keyid().to_raw_string();
    let o = conclave_in(
        dir.path(),
        &["revoke", &rd, "--repo", "repo", "--out", "out"],
        "",
    );
    ok(&o);
    let signed = sign_review(
        dir.path(),
        &["out/3.root.json", "--previous", "repo/2.root.json"],
    );
    let o = conclave_in(
        dir.path(),
        &["review", "repo/2.root.json", "out/3.root.json"],
        "",
    );
    ok(&o);
    let payload = digest_after(&o.stdout, "Payload digest");
    assert_eq!(payload, digest_after(&signed, "Payload digest"));
    assert_eq!(
        between(&o.stdout, "Review of", "Payload digest"),
        between(&signed, "You are about to sign", "Payload digest")
    );
    assert!(
        o.stdout.contains(&format!(
            "  - role root: key {rd} removed (ecdsa/ecdsa-sha2-nistp256)"
        )),
        "{}",
        o.stdout
    );
    // The same payload digest revoke printed in its plan for this draft.
    let plan = std::fs::read_to_string(dir.path().join("out/PLAN.txt")).unwrap();
    assert!(plan.contains(payload[0].trim()), "{plan}");
}

/// Claimed in two bins: the hub and the bins in use in `dir/repo` (signed), and the next
/// version of both bins in the round directory `dir/next`: bin 0 gains `n` projects, bin 1
/// gains one and loses one.
fn bins_round(dir: &Path, n: usize) {
    let (admin, dev) = (ed(20), ed(30));
    let repo = dir.join("repo");
    let next = dir.join("next");
    std::fs::create_dir(&repo).unwrap();
    std::fs::create_dir(&next).unwrap();
    let mut hub = targets(1, FAR);
    for b in 0..2 {
        delegate(
            &mut hub,
            &format!("claimed-bins-{b}"),
            &[&admin],
            1,
            &["*"],
            false,
        );
    }
    write(&repo, "1.claimed.json", &signed(hub, &[&admin]));
    for b in 0..2 {
        let mut bin = targets(1, FAR);
        delegate(
            &mut bin,
            &format!("old-{b}"),
            &[&dev],
            1,
            &[&format!("old-{b}")],
            true,
        );
        write(
            &repo,
            &format!("1.claimed-bins-{b}.json"),
            &signed(bin.clone(), &[&admin]),
        );
        bin.common.version = Version::new(2).unwrap();
        if b == 0 {
            for i in 0..n {
                let name = format!("new-{i:04}");
                delegate(&mut bin, &name, &[&ed(1000 + i as u32)], 1, &[&name], true);
            }
        } else {
            let DelegationRoles::List(roles) = &mut bin.delegations.as_mut().unwrap().roles else {
                unreachable!()
            };
            roles.clear();
            delegate(&mut bin, "moved-in", &[&dev], 1, &["moved-in"], true);
        }
        write(
            &next,
            &format!("2.claimed-bins-{b}.json"),
            &Metadata::new(bin),
        );
    }
}

#[test]
fn a_round_of_claimed_bins_is_reviewed_in_sign_and_reprinted_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bins_round(d, 120);
    // sign on the round directory, with --previous the directory of the versions in use.
    let o = conclave_in(
        d,
        &[
            "sign",
            "next",
            "--previous",
            "repo",
            "--delegator",
            "repo/1.claimed.json",
            "--key",
            "missing.key",
            "-o",
            "sigs",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let signed = o.stderr;
    assert!(
        signed.contains("Changes against the versions in use in repo:"),
        "{signed}"
    );
    assert!(
        signed.contains("Draft 2.claimed-bins-0.json (previous version: 1.claimed-bins-0.json):"),
        "{signed}"
    );
    assert!(
        signed.contains("all of them are in sigs.review.txt"),
        "{signed}"
    );
    let review_file = std::fs::read(d.join("sigs.review.txt")).expect("a long review is written");
    let text = String::from_utf8(review_file.clone()).unwrap();
    assert!(
        text.contains("Draft 2.claimed-bins-1.json (previous version: 1.claimed-bins-1.json):"),
        "{text}"
    );
    assert!(
        text.contains("+ role new-0119 added: 1 of 1 key(s)"),
        "{text}"
    );
    assert!(text.contains("- role old-1 removed"), "{text}");
    assert!(
        text.contains("+ role moved-in added: 1 of 1 key(s)"),
        "{text}"
    );
    assert_eq!(text.matches("Version 1 is signed by").count(), 2, "{text}");
    let round_digest = digest_after(&signed, "Round digest");
    let review_digest = digest_after(&signed, "Review file digest");
    assert_eq!(review_digest.len(), 1, "{signed}");

    // Elsewhere, the directories under other names.
    let other = tempfile::tempdir().unwrap();
    for (from, to) in [("repo", "in-use"), ("next", "drafts")] {
        std::fs::create_dir(other.path().join(to)).unwrap();
        for e in std::fs::read_dir(d.join(from)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), other.path().join(to).join(e.file_name())).unwrap();
        }
    }
    let o = conclave_in(
        other.path(),
        &[
            "review",
            "in-use",
            "drafts",
            "--delegator",
            "in-use/1.claimed.json",
            "-o",
            "review.txt",
        ],
        "",
    );
    ok(&o);
    assert_eq!(digest_after(&o.stdout, "Round digest"), round_digest);
    assert_eq!(digest_after(&o.stdout, "Review digest"), review_digest);
    assert_eq!(
        std::fs::read(other.path().join("review.txt")).unwrap(),
        review_file
    );
    // A round needs its delegator, and a directory as OLD.
    let o = conclave_in(other.path(), &["review", "in-use", "drafts"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("needs --delegator"), "{}", o.stderr);
    let o = conclave_in(
        other.path(),
        &[
            "review",
            "in-use/1.claimed-bins-0.json",
            "drafts",
            "--delegator",
            "in-use/1.claimed.json",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    // sign refuses a file as a round's --previous.
    let o = conclave_in(
        d,
        &[
            "sign",
            "next",
            "--previous",
            "repo/1.claimed.json",
            "--delegator",
            "repo/1.claimed.json",
            "--key",
            "missing.key",
            "-o",
            "sigs2",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("--previous for a round is the directory of the versions in use"),
        "{}",
        o.stderr
    );
}
