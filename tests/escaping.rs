//! Strings from files never reach the terminal (or the text files people read) raw.
//!
//! Keyids and delegated role names may hold any character but controls and path separators
//! (TAP 12; python-tuf accepts them), so metadata can carry bidi overrides, zero-width and tag
//! characters that make a name or keyid read as another. Every command that shows them is run
//! here, through the real binary, on metadata (and plans, transcripts) full of such
//! characters, and none of them may appear raw in stdout, stderr, SUMMARY.txt, PLAN.txt or
//! SIGNING-TASKS.txt.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use conclave::cjson::{Map, Value};
use conclave::metadata::*;
use conclave::signer::Signer;

/// One of each class the escaper covers: bidi override, isolate and marks, zero width space
/// and joiner, BOM, tag character, soft hyphen, line separator, variation selector, Hangul
/// filler, Mongolian vowel separator, combining grapheme joiner, no-break space.
const NASTY: &[char] = &[
    '\u{202e}',
    '\u{2066}',
    '\u{200e}',
    '\u{61c}',
    '\u{200b}',
    '\u{200d}',
    '\u{feff}',
    '\u{e0041}',
    '\u{ad}',
    '\u{2028}',
    '\u{fe0f}',
    '\u{3164}',
    '\u{180e}',
    '\u{34f}',
    '\u{a0}',
];

fn nasty(prefix: &str) -> String {
    let mut s = prefix.to_owned();
    s.extend(NASTY);
    s.push('z');
    s
}

/// `what` holds none of the characters raw.
fn assert_clean(label: &str, what: &str) {
    for c in NASTY {
        assert!(
            !what.contains(*c),
            "{label}: U+{:04X} printed raw:\n{what}",
            u32::from(*c)
        );
    }
}

fn assert_outcome_clean(label: &str, o: &Outcome) {
    assert!(
        !o.stderr.contains("panicked") && o.code != 101,
        "{label}: {}",
        o.stderr
    );
    assert_clean(&format!("{label} (stdout)"), &o.stdout);
    assert_clean(&format!("{label} (stderr)"), &o.stderr);
}

fn other_keyid(prefix: &str) -> KeyId {
    KeyId::new(&nasty(prefix)).unwrap()
}

/// Targets delegating `role` to `keys` (keyid -> key), with an unknown field in its signed
/// part and a target path of the same characters.
fn delegating_targets(role: &str, keys: &[(KeyId, Key)]) -> Targets {
    let mut t = targets(1, FAR);
    t.extra
        .insert(nasty("x-field"), Value::from(nasty("value").as_str()));
    add_target(&mut t, &nasty("file"), b"content");
    t.delegations = Some(Delegations {
        keys: keys.iter().cloned().collect(),
        roles: DelegationRoles::List(vec![DelegatedRole {
            name: RoleName::delegated(role).unwrap(),
            keyids: keys.iter().map(|(id, _)| id.clone()).collect(),
            threshold: th(1),
            terminating: Some(true),
            paths: RolePaths::Patterns(vec![format!("{role}/*").into()]),
            extra: Map::new(),
        }]),
        extra: Map::new(),
    });
    t
}

/// Snapshot and timestamp over `listed` (file name, version, bytes).
fn publish_over(dir: &Path, listed: &[(&str, &[u8])]) {
    let snap = Snapshot {
        common: common(1, FAR),
        meta: listed
            .iter()
            .map(|(name, bytes)| ((*name).to_owned(), meta_for(1, bytes)))
            .collect(),
        extra: Map::new(),
    };
    let sb = write(dir, "snapshot.json", &signed(snap, &[&ed(3)]));
    let ts = Timestamp {
        common: common(1, FAR),
        meta: BTreeMap::from([("snapshot.json".to_owned(), meta_for(1, &sb))]),
        extra: Map::new(),
    };
    write(dir, "timestamp.json", &signed(ts, &[&ed(4)]));
}

/// A repository whose keyids are text full of the characters (TAP 12 allows any text), with
/// a delegated role of such a name; `officer` is a real key that may sign the delegated role.
fn evil_repo(dir: &Path, role: &str, officer: &Key) {
    std::fs::create_dir_all(dir).unwrap();
    let mut r = root(
        1,
        FAR,
        &[
            ("root", &[&ed(1)], 1),
            ("targets", &[&ed(2)], 1),
            ("snapshot", &[&ed(3)], 1),
            ("timestamp", &[&ed(4)], 1),
        ],
    );
    let alias = other_keyid("root-alias");
    r.keys.insert(alias.clone(), ed(5).public_key().clone());
    r.roles.get_mut("targets").unwrap().keyids.push(alias);
    let mut root_md = signed(r, &[&ed(1)]);
    root_md.signatures.push(Signature {
        keyid: other_keyid("sig"),
        sig: "00".repeat(64),
        extra: Map::new(),
    });
    write(dir, "1.root.json", &root_md);

    let delegated = other_keyid("delegated");
    let t = delegating_targets(
        role,
        &[
            (delegated.clone(), ed(6).public_key().clone()),
            (officer.keyid(), officer.clone()),
        ],
    );
    let tb = write(dir, "targets.json", &signed(t, &[&ed(2)]));

    let mut p = targets(1, FAR);
    add_target(&mut p, &format!("{role}/{}", nasty("file")), b"x");
    let mut p = signed(p, &[&ed(6)]);
    p.signatures[0].keyid = delegated;
    let pb = write(dir, &format!("{role}.json"), &p);
    publish_over(
        dir,
        &[("targets.json", &tb), (&format!("{role}.json"), &pb)],
    );
}

/// A repository that verifies: hex keyids, one delegated role with the characters in its name.
fn valid_repo(dir: &Path, role: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&ed(1)], 1),
            ("targets", &[&ed(2)], 1),
            ("snapshot", &[&ed(3)], 1),
            ("timestamp", &[&ed(4)], 1),
        ],
    );
    write(dir, "1.root.json", &signed(r, &[&ed(1)]));
    let k = ed(6).public_key().clone();
    let t = delegating_targets(role, &[(k.keyid(), k)]);
    let tb = write(dir, "targets.json", &signed(t, &[&ed(2)]));
    let mut p = targets(1, FAR);
    add_target(&mut p, &format!("{role}/{}", nasty("file")), b"x");
    let pb = write(dir, &format!("{role}.json"), &signed(p, &[&ed(6)]));
    publish_over(
        dir,
        &[("targets.json", &tb), (&format!("{role}.json"), &pb)],
    );
}

#[test]
fn review_status_inspect_verify_and_merge_escape_keyids_and_role_names() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let role = nasty("proj");
    let officer = generate_key_file(d, "officer", "officer test passphrase");
    let officer_key =
        Key::from_json(conclave::cjson::parse(officer.stdout.as_bytes()).unwrap()).unwrap();
    let repo = d.join("repo");
    evil_repo(&repo, &role, &officer_key);
    let delegated = format!("repo/{role}.json");

    let runs: Vec<(&str, Vec<String>, &str)> = vec![
        ("verify", vec!["verify".into(), "repo".into()], ""),
        (
            "inspect root",
            vec!["inspect".into(), "repo/1.root.json".into()],
            "",
        ),
        (
            "inspect targets",
            vec![
                "inspect".into(),
                "repo/targets.json".into(),
                "--delegator".into(),
                "repo/1.root.json".into(),
            ],
            "",
        ),
        (
            "inspect delegated",
            vec![
                "inspect".into(),
                delegated.clone(),
                "--delegator".into(),
                "repo/targets.json".into(),
            ],
            "",
        ),
        (
            "sign review (targets)",
            vec![
                "sign".into(),
                "repo/targets.json".into(),
                "--previous".into(),
                "repo/targets.json".into(),
                "--delegator".into(),
                "repo/1.root.json".into(),
                "--key".into(),
                "officer.key".into(),
                "--passphrase-fd".into(),
                "0".into(),
                "-o".into(),
                "targets.sig".into(),
            ],
            "officer test passphrase\n",
        ),
        (
            "sign (delegated)",
            vec![
                "sign".into(),
                delegated.clone(),
                "--delegator".into(),
                "repo/targets.json".into(),
                "--key".into(),
                "officer.key".into(),
                "--passphrase-fd".into(),
                "0".into(),
                "-o".into(),
                "delegated.sig".into(),
            ],
            "officer test passphrase\n",
        ),
        (
            "status",
            vec![
                "status".into(),
                delegated.clone(),
                "--delegator".into(),
                "repo/targets.json".into(),
            ],
            "",
        ),
        (
            "merge",
            vec![
                "merge".into(),
                delegated.clone(),
                "delegated.sig".into(),
                "--delegator".into(),
                "repo/targets.json".into(),
                "-o".into(),
                "merged.json".into(),
            ],
            "",
        ),
    ];
    for (label, args, input) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = conclave_in(d, &args, input);
        assert_outcome_clean(label, &o);
        // Each of them does show the role or a keyid, escaped.
        assert!(
            o.stdout.contains("\\u{202e}") || o.stderr.contains("\\u{202e}"),
            "{label}: nothing escaped shown\n{}\n{}",
            o.stdout,
            o.stderr
        );
    }
    assert!(d.join("delegated.sig").is_file(), "the officer may sign");
}

#[test]
fn export_summary_revoke_plan_and_verify_escape_role_names() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let role = nasty("proj");
    valid_repo(&d.join("repo"), &role);
    let o = conclave_in(d, &["verify", "repo"], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("verify", &o);
    let o = conclave_in(d, &["export", "repo", "-o", "bundle"], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("export", &o);
    let summary = std::fs::read_to_string(d.join("bundle/SUMMARY.txt")).unwrap();
    assert!(summary.contains("proj\\u{202e}"), "{summary}");
    assert_clean("SUMMARY.txt", &summary);
    let keyid = ed(6).public_key().keyid().to_raw_string();
    std::fs::write(
        d.join("new.pub.json"),
        conclave::cjson::to_pretty(&ed(7).public_key().to_value()),
    )
    .unwrap();
    let add = format!("{role}=new.pub.json");
    let o = conclave_in(
        d,
        &[
            "revoke",
            &keyid,
            "--repo",
            "repo",
            "--out",
            "revoked",
            "--add-key",
            &add,
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("revoke", &o);
    let plan = std::fs::read_to_string(d.join("revoked/PLAN.txt")).unwrap();
    assert!(plan.contains("proj\\u{202e}"), "{plan}");
    assert_clean("PLAN.txt", &plan);
}

#[test]
fn transcript_text_is_printed_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = conclave_in(
        d,
        &[
            "transcript",
            "note",
            ".",
            "--step",
            &nasty("step"),
            "--officer",
            &nasty("officer"),
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("transcript note", &o);
    // A file written into the ceremony directory under such a name is recorded with it.
    let role = nasty("proj");
    valid_repo(&d.join("repo"), &role);
    let o = conclave_in(d, &["export", "repo", "-o", &nasty("bundle")], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("export", &o);
    for args in [
        &["transcript", "print", "."][..],
        &["transcript", "verify", "."][..],
    ] {
        let o = conclave_in(d, args, "");
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_outcome_clean(&args.join(" "), &o);
    }
    let o = conclave_in(d, &["transcript", "print", "."], "");
    assert!(o.stdout.contains("step\\u{202e}"), "{}", o.stdout);
    assert!(o.stdout.contains("officer\\u{202e}"), "{}", o.stdout);
    assert!(o.stdout.contains("bundle\\u{202e}"), "{}", o.stdout);
}

#[test]
fn plan_text_is_escaped_in_check_genesis_and_signing_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let names = [
        "alice-root",
        "bob-root",
        "alice-targets",
        "snapshot",
        "timestamp",
    ];
    for (i, n) in names.iter().enumerate() {
        let key = ed(10 + i as u32).public_key().to_value();
        std::fs::write(
            d.join(format!("{n}.pub.json")),
            conclave::cjson::to_pretty(&key),
        )
        .unwrap();
    }
    let q = |s: String| s.replace('\\', "\\\\");
    let plan = format!(
        "[ceremony]\nformat = 1\nname = \"{}\"\n\n\
         [officers.alice]\nname = \"{}\"\n[officers.bob]\nname = \"Bob\"\n\n\
         [keys.alice-root]\nofficer = \"alice\"\nsource = \"key-file\"\nkey_file = \"{}\"\npublic_key = \"alice-root.pub.json\"\n\n\
         [keys.bob-root]\nofficer = \"bob\"\nsource = \"derived\"\nidentity = \"pypi.org/root/bob\"\npublic_key = \"bob-root.pub.json\"\n\n\
         [keys.alice-targets]\nofficer = \"alice\"\nsource = \"key-file\"\npublic_key = \"alice-targets.pub.json\"\n\n\
         [keys.snapshot]\nsource = \"online\"\npublic_key = \"snapshot.pub.json\"\n\n\
         [keys.timestamp]\nsource = \"online\"\npublic_key = \"timestamp.pub.json\"\n\n\
         [roles.root]\nkeys = [\"alice-root\", \"bob-root\"]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"alice-targets\"]\nthreshold = 1\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n\n[roles.timestamp]\nkeys = [\"timestamp\"]\n",
        q(nasty("ceremony")),
        q(nasty("Alice")),
        q(nasty("alice-root.key")),
    );
    std::fs::write(d.join("plan.toml"), plan).unwrap();
    let o = conclave_in(d, &["ceremony", "check", "plan.toml"], "");
    assert_outcome_clean("ceremony check", &o);
    let o = conclave_in(
        d,
        &[
            "ceremony",
            "genesis",
            "--allow-network",
            "plan.toml",
            "--out",
            "ceremony",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("ceremony genesis", &o);
    let tasks = std::fs::read_to_string(d.join("ceremony/SIGNING-TASKS.txt")).unwrap();
    assert!(tasks.contains("ceremony\\u{202e}"), "{tasks}");
    assert!(tasks.contains("alice-root.key\\u{202e}"), "{tasks}");
    assert_clean("SIGNING-TASKS.txt", &tasks);
    let o = conclave_in(d, &["transcript", "print", "ceremony"], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_outcome_clean("transcript print", &o);
}
