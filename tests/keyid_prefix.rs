//! Issue 19: one keyid resolver for every command that takes a keyid. Keyid prefixes used to
//! work in `revoke` only; `delegation rotate --remove-key 36ee7ffc`, `root rotate --remove-key
//! root=1e05df8b`, `pypi revoke-developer-key 6ca5a5d1` and `plan-rotation --lost` answered
//! that the key was not there. Now each takes the whole keyid or a unique prefix of at least 8
//! hex digits, says when a prefix is too short, and lists the candidates of an ambiguous one.

mod common;

use std::path::Path;

use common::*;
use conclave::metadata::*;
use conclave::signer::Signer;

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    o
}

fn prefix(s: &dyn Signer, n: usize) -> String {
    s.public_key().keyid().to_raw_string()[..n].to_owned()
}

fn keyids_of(path: &Path, role: &str) -> Vec<KeyId> {
    match AnyMetadata::from_bytes(&std::fs::read(path).unwrap()).unwrap() {
        AnyMetadata::Targets(t) => {
            let d = t.signed.delegations.unwrap();
            d.find(role).unwrap().keyids.to_vec()
        }
        AnyMetadata::Root(r) => r.signed.role(role).unwrap().keyids.clone(),
        other => panic!("{}", other.type_name()),
    }
}

/// ed(12519) and ed(73884) are two different keys whose keyids share their first 8 hex
/// digits (found by search; the test checks it).
fn colliding() -> (Box<dyn Signer>, Box<dyn Signer>) {
    let (a, b) = (ed(12519), ed(73884));
    assert_eq!(prefix(&a, 8), prefix(&b, 8));
    assert_ne!(prefix(&a, 9), prefix(&b, 9));
    (Box::new(a), Box::new(b))
}

#[test]
fn delegation_rotate_removes_a_key_named_by_a_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (a, b) = colliding();
    let (k1, k2) = (ed(1), ed(2));
    let mut t = targets(1, FAR);
    delegate(&mut t, "claimed", &[&k1, &k2], 1, &["*/*"], false);
    delegate(&mut t, "other", &[&*a, &*b], 1, &["other/*"], true);
    write(d, "1.targets.json", &Metadata::new(t));

    let rotate = |role: &str, keyid: &str, out: &str| {
        conclave_in(
            d,
            &[
                "delegation",
                "rotate",
                "1.targets.json",
                "--role",
                role,
                "--remove-key",
                keyid,
                "-o",
                out,
            ],
            "",
        )
    };
    // The 8 digits a person reads off a screen.
    ok(rotate("claimed", &prefix(&k1, 8), "2.targets.json"));
    assert_eq!(
        keyids_of(&d.join("2.targets.json"), "claimed"),
        vec![k2.public_key().keyid()]
    );
    // Upper case, as read aloud and typed, is the same keyid.
    ok(rotate(
        "claimed",
        &prefix(&k2, 12).to_ascii_uppercase(),
        "2b.targets.json",
    ));

    // Too short: said so, nothing written.
    let o = rotate("claimed", &prefix(&k1, 7), "short.json");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is too short for a keyid"),
        "{}",
        o.stderr
    );
    assert!(!d.join("short.json").exists());

    // Ambiguous: both candidates listed in full, nothing written; a ninth digit settles it.
    let o = rotate("other", &prefix(&*a, 8), "amb.json");
    assert_eq!(o.code, 2, "{}", o.stderr);
    for k in [&a, &b] {
        assert!(
            o.stderr.contains(&k.public_key().keyid().to_raw_string()),
            "{}",
            o.stderr
        );
    }
    assert!(o.stderr.contains("give more digits"), "{}", o.stderr);
    assert!(!d.join("amb.json").exists());
    ok(rotate("other", &prefix(&*b, 9), "3.targets.json"));
    assert_eq!(
        keyids_of(&d.join("3.targets.json"), "other"),
        vec![a.public_key().keyid()]
    );

    // A key the parent does not list at all.
    let o = rotate("claimed", &prefix(&ed(77), 10), "none.json");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("no key here has a keyid starting with"),
        "{}",
        o.stderr
    );
}

#[test]
fn root_rotate_removes_a_root_key_named_by_a_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (r1, r2, r3, t) = (ed(1), ed(2), ed(3), ed(4));
    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[&r1, &r2, &r3], 2),
            ("targets", &[&t], 1),
            ("snapshot", &[&t], 1),
            ("timestamp", &[&t], 1),
        ],
    );
    write(d, "1.root.json", &signed(v1, &[&r1, &r2]));
    let o = ok(conclave_in(
        d,
        &[
            "root",
            "rotate",
            "1.root.json",
            "--remove-key",
            &format!("root={}", prefix(&r3, 8)),
            "-o",
            "2.root.json",
        ],
        "",
    ));
    assert_eq!(
        keyids_of(&d.join("2.root.json"), "root"),
        vec![r1.public_key().keyid(), r2.public_key().keyid()]
    );
    assert!(
        o.stderr.contains(&r3.public_key().keyid().to_raw_string()),
        "{}",
        o.stderr
    );
    let o = conclave_in(
        d,
        &[
            "root",
            "rotate",
            "1.root.json",
            "--remove-key",
            "root=1e05",
            "-o",
            "x.json",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--remove-key root=1e05"), "{}", o.stderr);
    assert!(o.stderr.contains("too short"), "{}", o.stderr);
}

#[test]
fn revoke_developer_key_takes_a_prefix_in_claimed_and_in_its_bins() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (dev1, dev2) = (ed(1000), ed(1001));
    let mut claimed = targets(1, FAR);
    delegate(
        &mut claimed,
        "p1",
        &[&dev1, &dev2],
        1,
        &["p1", "p1/*"],
        true,
    );
    write(d, "1.claimed.json", &Metadata::new(claimed));
    ok(conclave_in(
        d,
        &[
            "pypi",
            "revoke-developer-key",
            &prefix(&dev1, 8),
            "--claimed",
            "1.claimed.json",
            "-o",
            "2.claimed.json",
        ],
        "",
    ));
    assert_eq!(
        keyids_of(&d.join("2.claimed.json"), "p1"),
        vec![dev2.public_key().keyid()]
    );
    let o = conclave_in(
        d,
        &[
            "pypi",
            "revoke-developer-key",
            &prefix(&ed(5), 8),
            "--claimed",
            "1.claimed.json",
            "-o",
            "x.json",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("no project in claimed trusts a key whose keyid starts with"),
        "{}",
        o.stderr
    );

    // Claimed in bins: the prefix is resolved among every bin's keys.
    std::fs::write(
        d.join("admin.pub"),
        conclave::cjson::to_pretty(&ed(20).public_key().to_value()),
    )
    .unwrap();
    std::fs::write(
        d.join("online.pub"),
        conclave::cjson::to_pretty(&ed(21).public_key().to_value()),
    )
    .unwrap();
    ok(conclave_in(
        d,
        &[
            "pypi",
            "init",
            "--key",
            "claimed=admin.pub",
            "--key",
            "recently-claimed=online.pub",
            "--key",
            "unclaimed=online.pub",
            "--expires",
            "90d",
            "--bins",
            "16",
            "--claimed-bins",
            "4",
            "-o",
            "targets.json",
        ],
        "",
    ));
    let key = |s: &dyn Signer| {
        String::from_utf8(conclave::cjson::to_canonical(&s.public_key().to_value())).unwrap()
    };
    std::fs::write(
        d.join("requests.jsonl"),
        format!(
            "{{\"project\": \"demo\", \"keys\": [{}, {}], \"threshold\": 1}}\n",
            key(&dev1),
            key(&dev2)
        ),
    )
    .unwrap();
    ok(conclave_in(
        d,
        &[
            "pypi",
            "claim",
            "--claimed",
            "claimed/1.claimed.json",
            "--requests",
            "requests.jsonl",
            "-o",
            "round",
        ],
        "",
    ));
    // The round's bin beside claimed, as the repository would hold it (the highest version
    // of each bin is read).
    for e in std::fs::read_dir(d.join("round")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.join("claimed").join(e.file_name())).unwrap();
    }
    let o = ok(conclave_in(
        d,
        &[
            "pypi",
            "revoke-developer-key",
            &prefix(&dev2, 10),
            "--claimed",
            "claimed/1.claimed.json",
            "-o",
            "revoke",
        ],
        "",
    ));
    assert!(o.stderr.contains("1 of 4 change"), "{}", o.stderr);
}

#[test]
fn plan_rotation_takes_a_lost_key_by_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (a, b, c, t) = (ed(1), ed(2), ed(3), ed(4));
    for (name, s) in [("a", &a), ("b", &b), ("c", &c), ("t", &t)] {
        std::fs::write(
            d.join(format!("{name}.pub.json")),
            conclave::cjson::to_pretty(&s.public_key().to_value()),
        )
        .unwrap();
    }
    let v1 = root(
        1,
        FAR,
        &[
            ("root", &[&a, &b, &c], 2),
            ("targets", &[&t], 1),
            ("snapshot", &[&t], 1),
            ("timestamp", &[&t], 1),
        ],
    );
    write(d, "1.root.json", &signed(v1, &[&a, &b]));
    let mut plan = String::from(
        "[ceremony]\nformat = 1\nname = \"prefix test\"\n\n\
         [officers.alice]\nname = \"Alice\"\n[officers.bob]\nname = \"Bob\"\n\
         [officers.carol]\nname = \"Carol\"\n\n",
    );
    for (k, o) in [("a", "alice"), ("b", "bob"), ("c", "carol")] {
        plan.push_str(&format!(
            "[keys.{k}]\nofficer = \"{o}\"\nsource = \"key-file\"\nkey_file = \"{k}.key\"\npublic_key = \"{k}.pub.json\"\n\n"
        ));
    }
    plan.push_str(
        "[keys.t]\nsource = \"online\"\npublic_key = \"t.pub.json\"\n\n\
         [roles.root]\nkeys = [\"a\", \"b\"]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"t\"]\nexpires = \"365d\"\n\n[roles.snapshot]\nkeys = [\"t\"]\n\n\
         [roles.timestamp]\nkeys = [\"t\"]\n",
    );
    let plan = plan.replace(
        "public_key = \"c.pub.json\"\n",
        "public_key = \"c.pub.json\"\nretired = true\n",
    );
    std::fs::write(d.join("plan.toml"), plan).unwrap();
    let o = ok(conclave_in(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "1.root.json",
            "--plan",
            "plan.toml",
            "--lost",
            &prefix(&c, 8),
        ],
        "",
    ));
    let line = o
        .stdout
        .lines()
        .find(|l| l.contains(&c.public_key().keyid().to_raw_string()))
        .unwrap_or_else(|| panic!("{}", o.stdout));
    assert!(line.contains("LOST: must not sign"), "{line}");
    let o = conclave_in(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "1.root.json",
            "--plan",
            "plan.toml",
            "--lost",
            &prefix(&ed(99), 8),
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("that key is not a root key of version 1 nor of the plan"),
        "{}",
        o.stderr
    );
}
