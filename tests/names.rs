//! Names beside keyids (issue 19): people saw 64-hex keyids everywhere (sign's review,
//! status, merge, the transcript's paper record with no officer), although the ceremony
//! directory's plan has names. Now, where a plan is found (the ceremony directory's plan.toml,
//! or --plan), every keyid shown carries its key's name and officer, and the transcript records
//! the officer who signed.

mod common;

use std::path::Path;

use common::*;

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

const KEYS: [&str; 7] = [
    "alice-root",
    "bob-root",
    "carol-root",
    "alice-targets",
    "bob-targets",
    "snapshot",
    "timestamp",
];

/// Key files (fast Argon2 profile) and their public keys in `dir`; returns each key's keyid.
fn keys(dir: &Path) -> Vec<(String, String)> {
    KEYS.iter()
        .map(|k| {
            let o = generate_key_file(dir, k, &format!("{k} test passphrase"));
            std::fs::write(dir.join(format!("{k}.pub.json")), &o.stdout).unwrap();
            (k.to_string(), keyid_in(&o.stderr))
        })
        .collect()
}

fn plan(root_keys: &[&str]) -> String {
    let mut t = String::from(
        "[ceremony]\nformat = 1\nname = \"names\"\n\n\
         [officers.alice]\nname = \"Alice Smith\"\n[officers.bob]\nname = \"Bob Jones\"\n\
         [officers.carol]\nname = \"Carol Wu\"\n\n",
    );
    for k in KEYS {
        let (officer, source) = match k.split_once('-') {
            Some((o, _)) => (format!("officer = \"{o}\"\n"), "key-file"),
            None => (String::new(), "online"),
        };
        if k.ends_with("-root") && !root_keys.contains(&k) {
            continue;
        }
        t.push_str(&format!(
            "[keys.{k}]\n{officer}source = \"{source}\"\n{}public_key = \"{k}.pub.json\"\n\n",
            if source == "key-file" {
                format!("key_file = \"{k}.key\"\n")
            } else {
                String::new()
            }
        ));
    }
    let list: Vec<String> = root_keys.iter().map(|k| format!("\"{k}\"")).collect();
    t.push_str(&format!(
        "[roles.root]\nkeys = [{}]\nthreshold = 2\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"alice-targets\", \"bob-targets\"]\nthreshold = 1\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n\n[roles.timestamp]\nkeys = [\"timestamp\"]\n",
        list.join(", ")
    ));
    t
}

fn sign(dir: &Path, draft: &str, key: &str, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "sign".to_string(),
        draft.to_string(),
        "--key".into(),
        format!("{key}.key"),
        "-o".into(),
        format!("signatures/{key}.sig"),
        "--passphrase-fd".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    conclave_in(dir, &args, &format!("{key} test passphrase\n"))
}

#[test]
fn every_keyid_shown_in_a_ceremony_carries_its_name_and_officer() {
    let tmp = tempfile::tempdir().unwrap();
    let plan_dir = tmp.path().join("plan");
    std::fs::create_dir(&plan_dir).unwrap();
    let ids = keys(&plan_dir);
    let id = |k: &str| ids.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let named = |k: &str, officer: &str| format!("{} ({k}, officer {officer})", id(k));
    std::fs::write(
        plan_dir.join("plan.toml"),
        plan(&["alice-root", "bob-root", "carol-root"]),
    )
    .unwrap();
    let dir = tmp.path().join("ceremony");
    ok(&run(conclave()
        .args(["ceremony", "genesis", "--allow-network"])
        .arg(plan_dir.join("plan.toml"))
        .arg("--out")
        .arg(&dir)));
    for k in ["alice-root", "bob-root", "alice-targets"] {
        std::fs::copy(
            plan_dir.join(format!("{k}.key")),
            dir.join(format!("{k}.key")),
        )
        .unwrap();
    }

    // sign: the review lists every key with its name; the key used is named before the
    // passphrase is asked for, and in the line saying what was written.
    let o = sign(&dir, "drafts/1.root.json", "alice-root", &[]);
    ok(&o);
    let alice = named("alice-root", "Alice Smith");
    assert!(
        o.stderr.contains(&format!(
            "Signing with key file alice-root.key (keyid {alice})."
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!(
            "{}  ed25519/ed25519",
            named("bob-root", "Bob Jones")
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!(
            "{} (snapshot, online key)  ed25519/ed25519",
            id("snapshot")
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains(&format!("Wrote the signature by {alice} to")),
        "{}",
        o.stderr
    );
    // The transcript records who signed.
    let t = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
    let sign_line = t
        .lines()
        .find(|l| l.contains("\"step\":\"sign root v1\""))
        .unwrap();
    assert!(sign_line.contains("\"officer\":\"alice\""), "{sign_line}");

    // status: who must sign, by name.
    let o = conclave_in(&dir, &["status", "drafts/1.root.json"], "");
    ok(&o);
    assert!(
        o.stdout
            .contains(&format!("must sign    {}", named("carol-root", "Carol Wu"))),
        "{}",
        o.stdout
    );

    // merge: each signature merged, by name.
    ok(&sign(&dir, "drafts/1.root.json", "bob-root", &[]));
    let o = conclave_in(
        &dir,
        &[
            "merge",
            "drafts/1.root.json",
            "signatures/alice-root.sig",
            "signatures/bob-root.sig",
            "-o",
            "repository/1.root.json",
        ],
        "",
    );
    ok(&o);
    assert!(
        o.stderr.contains(&format!("merged      {alice}  from")),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains(&format!("not signed {}", named("carol-root", "Carol Wu"))),
        "{}",
        o.stderr
    );
    // ...and who signed.
    let o = conclave_in(&dir, &["status", "repository/1.root.json"], "");
    ok(&o);
    assert!(
        o.stdout.contains(&format!("signed       {alice}")),
        "{}",
        o.stdout
    );
    ok(&sign(
        &dir,
        "drafts/1.targets.json",
        "alice-targets",
        &["--delegator", "repository/1.root.json"],
    ));
    ok(&conclave_in(
        &dir,
        &[
            "merge",
            "drafts/1.targets.json",
            "signatures/alice-targets.sig",
            "--delegator",
            "repository/1.root.json",
            "-o",
            "repository/1.targets.json",
        ],
        "",
    ));

    // The paper record: the officer who signed, and every key by name.
    let o = run(conclave().args(["transcript", "print"]).arg(&dir));
    ok(&o);
    assert!(
        o.stdout.contains("officer: Alice Smith (alice)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("officer: Bob Jones (bob)"),
        "{}",
        o.stdout
    );
    let short_alice: String = id("alice-root")
        .as_bytes()
        .chunks(4)
        .take(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        o.stdout.contains(&format!(
            "key: {short_alice} (alice-root, officer Alice Smith)"
        )),
        "{}",
        o.stdout
    );

    // The export's SUMMARY.txt names every key.
    ok(&run(conclave()
        .arg("export")
        .arg(&dir)
        .arg("-o")
        .arg(tmp.path().join("bundle"))));
    let summary = std::fs::read_to_string(tmp.path().join("bundle/SUMMARY.txt")).unwrap();
    assert!(
        summary.contains(&format!(
            "{}  ed25519/ed25519  alice-root, officer Alice Smith",
            id("alice-root")
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "{}  ed25519/ed25519  timestamp, online key",
            id("timestamp")
        )),
        "{summary}"
    );

    // revoke: the key revoked and every key that must sign, by name.
    let carol = id("carol-root");
    let o = conclave_in(
        &dir,
        &["revoke", &carol[..8], "--repo", "repository", "--dry-run"],
        "",
    );
    ok(&o);
    assert!(
        o.stdout
            .contains(&format!("REVOKING KEY {}", named("carol-root", "Carol Wu"))),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&format!("         {alice}")),
        "{}",
        o.stdout
    );

    // plan-rotation: a key leaving service that the new plan no longer lists is named from
    // the ceremony's own plan.
    std::fs::write(
        plan_dir.join("plan-v2.toml"),
        plan(&["alice-root", "bob-root"]).replace("threshold = 2", "threshold = 1"),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "plan-rotation", "--root"])
        .arg(dir.join("repository/1.root.json"))
        .arg("--plan")
        .arg(plan_dir.join("plan-v2.toml")));
    assert!(
        o.stdout.contains(&format!("{carol} carol-root")) && o.stdout.contains("Carol Wu (carol)"),
        "{}\n{}",
        o.stdout,
        o.stderr
    );

    // Outside a ceremony directory there is no plan to read: keyids alone, unless --plan.
    let away = tmp.path().join("away");
    std::fs::create_dir(&away).unwrap();
    std::fs::copy(dir.join("drafts/1.root.json"), away.join("1.root.json")).unwrap();
    let o = conclave_in(&away, &["status", "1.root.json"], "");
    ok(&o);
    assert!(
        o.stdout
            .contains(&format!("must sign    {}\n", id("alice-root"))),
        "{}",
        o.stdout
    );
    let o = run(conclave()
        .arg("status")
        .arg(away.join("1.root.json"))
        .arg("--plan")
        .arg(plan_dir.join("plan.toml")));
    ok(&o);
    assert!(
        o.stdout.contains(&format!("must sign    {alice}")),
        "{}",
        o.stdout
    );
}

#[test]
fn a_plan_that_cannot_be_read_is_an_error_with_plan_and_a_warning_from_the_ceremony() {
    let dir = tempfile::tempdir().unwrap();
    let k = ed(1);
    write(
        dir.path(),
        "1.root.json",
        &conclave::metadata::Metadata::new(root(
            1,
            FAR,
            &[
                ("root", &[&k], 1),
                ("targets", &[&k], 1),
                ("snapshot", &[&k], 1),
                ("timestamp", &[&k], 1),
            ],
        )),
    );
    std::fs::write(dir.path().join("broken.toml"), "not a plan").unwrap();
    let o = conclave_in(
        dir.path(),
        &["status", "1.root.json", "--plan", "broken.toml"],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("error: --plan: broken.toml:"),
        "{}",
        o.stderr
    );
    // In a ceremony directory whose plan.toml is broken, the command goes on without names.
    std::fs::write(dir.path().join("transcript.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("plan.toml"), "not a plan").unwrap();
    let o = conclave_in(dir.path(), &["status", "1.root.json"], "");
    ok(&o);
    assert!(
        o.stderr.contains("warning:") && o.stderr.contains("plan.toml"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.contains("must sign"), "{}", o.stdout);
}
