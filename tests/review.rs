//! The review an officer reads before signing (issue 18, class 4), through the real binary:
//! every change is shown (keys by material, delegation order, terminating, paths), the
//! previous version's signatures are checked, and a review too long for the screen is
//! written whole to a file whose digest is read aloud.
//!
//! The review is printed before any key is opened, so these tests sign with a key file that
//! does not exist: the command fails after the review, and nothing is written.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::*;
use conclave::signer::Signer;

/// `conclave sign FILE ... --key missing.key -o sig.json` in `dir`: its stderr.
fn review(dir: &Path, file: &str, extra: &[&str]) -> String {
    let mut args = vec!["sign", file, "--key", "missing.key", "-o", "sig.json"];
    args.extend_from_slice(extra);
    let o = conclave_in(dir, &args, "");
    assert_ne!(
        o.code, 0,
        "signing with a missing key file must fail:\n{}",
        o.stderr
    );
    assert!(
        !dir.join("sig.json").exists(),
        "nothing may be written when signing fails"
    );
    o.stderr
}

/// A root listing `tk` as the targets key, and targets v1 (signed) and v2 (drafted by
/// `change`) delegating to claimed, recently-claimed and unclaimed in that order.
fn targets_pair(dir: &Path, change: impl FnOnce(&mut Targets)) {
    let (rk, tk, sk) = (ed(1), ed(10), ed(11));
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&rk], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&sk], 1),
            ("timestamp", &[&sk], 1),
        ],
    );
    write(dir, "root.json", &signed(r, &[&rk]));
    let mut t = targets(1, FAR);
    let (admin, online) = (ed(20), ed(30));
    delegate(&mut t, "claimed", &[&admin], 1, &["*"], true);
    delegate(&mut t, "recently-claimed", &[&online], 1, &["*"], false);
    delegate(&mut t, "unclaimed", &[&online], 1, &["*"], false);
    write(dir, "1.targets.json", &signed(t.clone(), &[&tk]));
    t.common.version = Version::new(2).unwrap();
    change(&mut t);
    write(dir, "2.targets.json", &Metadata::new(t));
}

fn roles(t: &mut Targets) -> &mut Vec<DelegatedRole> {
    match &mut t.delegations.as_mut().unwrap().roles {
        DelegationRoles::List(r) => r,
        DelegationRoles::Succinct(_) => unreachable!(),
    }
}

#[test]
fn a_reordered_delegation_is_shown_with_the_new_order() {
    let dir = tempfile::tempdir().unwrap();
    // unclaimed before claimed: the online key would decide a claimed project's files.
    targets_pair(dir.path(), |t| {
        let r = roles(t);
        let claimed = r.remove(0);
        r.push(claimed);
    });
    let err = review(
        dir.path(),
        "2.targets.json",
        &["--previous", "1.targets.json", "--delegator", "root.json"],
    );
    assert!(
        err.contains("! delegation order changed (clients ask roles in order) from position 1: claimed, recently-claimed, unclaimed -> recently-claimed, unclaimed, claimed"),
        "{err}"
    );
    // The review names no file (it reads the same on every machine): the heading does.
    assert!(
        err.contains("You are about to sign 2.targets.json (previous version: 1.targets.json):"),
        "{err}"
    );
    assert!(
        err.contains("Version 1 is signed by root v1 targets keys"),
        "{err}"
    );
}

#[test]
fn terminating_paths_and_keys_changes_are_each_shown() {
    let dir = tempfile::tempdir().unwrap();
    targets_pair(dir.path(), |t| {
        let eve = ed(66).public_key().clone();
        let d = t.delegations.as_mut().unwrap();
        d.keys.insert(eve.keyid(), eve.clone());
        let r = roles(t);
        r[0].terminating = Some(false);
        r[0].paths = RolePaths::Patterns(vec!["*".into(), "extra/*".into()]);
        r[0].keyids.push(eve.keyid());
    });
    let err = review(
        dir.path(),
        "2.targets.json",
        &["--previous", "1.targets.json", "--delegator", "root.json"],
    );
    for line in [
        "! role claimed: terminating true -> false",
        "+ role claimed: path extra/* added",
        &format!(
            "+ role claimed: key {} added (ed25519/ed25519)",
            ed(66).public_key().keyid()
        ),
        "version 1 -> 2",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
}

#[test]
fn a_keyid_kept_over_another_public_key_is_shown_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let admin_id = ed(20).public_key().keyid();
    targets_pair(dir.path(), |t| {
        // Eve's key under the admin's keyid.
        let d = t.delegations.as_mut().unwrap();
        d.keys.insert(admin_id.clone(), ed(66).public_key().clone());
    });
    // Refused outright...
    let o = conclave_in(
        dir.path(),
        &[
            "sign",
            "2.targets.json",
            "--key",
            "missing.key",
            "-o",
            "sig.json",
            "--delegator",
            "root.json",
        ],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "keyid {admin_id} is not the keyid of the key under it"
        )),
        "{}",
        o.stderr
    );
    assert!(!dir.path().join("sig.json").exists());
    // ...and with --allow-foreign-keyids the review says what happened.
    let err = review(
        dir.path(),
        "2.targets.json",
        &[
            "--previous",
            "1.targets.json",
            "--delegator",
            "root.json",
            "--allow-foreign-keyids",
        ],
    );
    assert!(
        err.contains("THIS DRAFT'S KEYS ARE NOT WHAT THEIR KEYIDS SAY"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "! role claimed: KEYID {admin_id} NOW HOLDS A DIFFERENT PUBLIC KEY"
        )),
        "{err}"
    );
}

#[test]
fn an_unsigned_previous_version_is_marked_unverified() {
    let dir = tempfile::tempdir().unwrap();
    targets_pair(dir.path(), |_| {});
    // Replace the signed v1 by an unsigned forgery that hides nothing in particular.
    let forged = std::fs::read(dir.path().join("1.targets.json")).unwrap();
    let mut md = AnyMetadata::from_bytes(&forged).unwrap();
    md.signatures_mut().clear();
    std::fs::write(dir.path().join("1.targets.json"), md.to_file_bytes()).unwrap();
    let err = review(
        dir.path(),
        "2.targets.json",
        &["--previous", "1.targets.json", "--delegator", "root.json"],
    );
    assert!(
        err.contains("!!! UNVERIFIED PREVIOUS: version 1 is not signed as it must be"),
        "{err}"
    );
    assert!(err.contains("0 of 1 needed"), "{err}");
}

#[test]
fn an_unsigned_previous_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (rk, eve) = (ed(1), ed(66));
    let roles: &[(&str, &[&dyn Signer], u32)] = &[
        ("root", &[&rk, &eve], 1),
        ("targets", &[&rk], 1),
        ("snapshot", &[&rk], 1),
        ("timestamp", &[&rk], 1),
    ];
    write(
        dir.path(),
        "1.root.json",
        &Metadata::new(root(1, FAR, roles)),
    );
    write(
        dir.path(),
        "2.root.json",
        &Metadata::new(root(2, FAR, roles)),
    );
    let o = conclave_in(
        dir.path(),
        &[
            "sign",
            "2.root.json",
            "--previous",
            "1.root.json",
            "--key",
            "missing.key",
            "-o",
            "sig.json",
        ],
        "",
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("the previous root (version 1) is not signed by its own root keys"),
        "{}",
        o.stderr
    );
    assert!(!dir.path().join("sig.json").exists());
}

#[test]
fn a_long_review_is_written_whole_and_its_digest_read_aloud() {
    let dir = tempfile::tempdir().unwrap();
    targets_pair(dir.path(), |t| {
        let dev = ed(40);
        for i in 0..300 {
            delegate(t, &format!("project-{i:03}"), &[&dev], 1, &["*"], true);
        }
    });
    let err = review(
        dir.path(),
        "2.targets.json",
        &["--previous", "1.targets.json", "--delegator", "root.json"],
    );
    let file = dir.path().join("sig.json.review.txt");
    let text = std::fs::read_to_string(&file).expect("the review file is written");
    for i in 0..300 {
        assert!(
            text.contains(&format!("+ role project-{i:03} added: 1 of 1 key(s)")),
            "project-{i:03} missing from the review file"
        );
    }
    assert!(
        err.contains("all of them are in sig.json.review.txt"),
        "{err}"
    );
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    let grouped: Vec<&str> = digest
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert!(
        err.contains("Review file digest") && err.contains(&grouped.join(" ")),
        "{err}"
    );
    // Signing again (say after a mistyped passphrase) reads the same review file...
    let again = review(
        dir.path(),
        "2.targets.json",
        &["--previous", "1.targets.json", "--delegator", "root.json"],
    );
    assert!(!again.contains("already exists"), "{again}");
    assert!(again.contains(&grouped.join(" ")), "{again}");
    // ...but a different file in its place is never replaced.
    std::fs::write(&file, "something else\n").unwrap();
    let o = conclave_in(
        dir.path(),
        &[
            "sign",
            "2.targets.json",
            "--previous",
            "1.targets.json",
            "--delegator",
            "root.json",
            "--key",
            "missing.key",
            "-o",
            "sig.json",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("sig.json.review.txt: already exists"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "something else\n");
}
