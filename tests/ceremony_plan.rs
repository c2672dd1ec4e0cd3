//! Whole ceremonies through the CLI: `ceremony check`, `ceremony genesis` and the signing
//! round that follows it (with automatic transcript steps), `ceremony plan-rotation`, and
//! `ceremony rehearse`, whose bundle python-tuf must accept.

mod common;

use std::path::Path;

use common::*;

fn python_tuf_verdict(dir: &Path) -> Outcome {
    run(std::process::Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(dir))
}

#[test]
fn rehearse_produces_a_bundle_conclave_and_python_tuf_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("the rehearsal");
    let o = run(conclave().args(["ceremony", "rehearse", "--out"]).arg(&dir));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("REHEARSAL"), "{}", o.stderr);
    assert!(o.stdout.contains("Rehearsal complete"), "{}", o.stdout);
    // The commands it ends with run as printed (the directory's name has a space in it).
    let printed: Vec<&str> = o
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Next, try:"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(printed.len(), 3, "{}", o.stdout);
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_conclave"))
        .parent()
        .unwrap();
    for cmd in &printed {
        assert!(cmd.starts_with("conclave "), "{cmd}");
        let r = run(std::process::Command::new("sh").arg("-c").arg(cmd).env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        ));
        assert_eq!(r.code, 0, "{cmd}\n{}\n{}", r.stdout, r.stderr);
    }
    let bundle = dir.join("bundle");
    for f in [
        "1.root.json",
        "2.root.json",
        "3.root.json",
        "1.targets.json",
        "1.claimed.json",
        "SHA256SUMS",
        "SUMMARY.txt",
    ] {
        assert!(bundle.join(f).is_file(), "bundle/{f} missing");
    }
    // Every metadata file is marked as rehearsal material.
    for f in [
        "1.root.json",
        "3.root.json",
        "1.targets.json",
        "1.claimed.json",
    ] {
        let text = std::fs::read_to_string(bundle.join(f)).unwrap();
        assert!(text.contains("x-conclave-rehearsal"), "{f} is not marked");
    }
    let o = run(conclave().arg("verify").arg(&bundle));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("root chain v1 -> v3"), "{}", o.stdout);
    let v = python_tuf_verdict(&bundle);
    assert_eq!(v.code, 0, "python-tuf: {}\n{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "valid");

    // The transcript's chain holds, with alice's head signature.
    let o = run(conclave()
        .args(["transcript", "verify"])
        .arg(&dir)
        .arg("--head-sig")
        .arg(dir.join("transcript-head.alice.sig")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);

    // The officers' passphrases are published with the rehearsal, so anyone can go on signing
    // with its keys: alice's targets key file opens with hers.
    let list = std::fs::read_to_string(dir.join("keys/REHEARSAL-PASSPHRASES.txt")).unwrap();
    let lines: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    for k in ["alice-root", "bob-targets", "carol-claimed", "dave-root"] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{k} "))),
            "{k} missing:\n{list}"
        );
    }
    let pass = lines
        .iter()
        .find_map(|l| l.strip_prefix("alice-targets "))
        .unwrap();
    let o = run_with_stdin(
        conclave()
            .arg("sign")
            .arg(dir.join("repository/1.targets.json"))
            .arg("--key")
            .arg(dir.join("keys/alice-targets.key"))
            .args(["--passphrase-fd", "0", "-o"])
            .arg(tmp.path().join("again.sig")),
        &format!("{pass}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    // The compromised key (bob's first root key) is not a key of the last root.
    let bob_old = std::fs::read(dir.join("keys/bob-root.pub.json")).unwrap();
    let o = run(conclave()
        .args(["key", "id"])
        .arg(dir.join("keys/bob-root.pub.json")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let keyid = o.stdout.trim().to_owned();
    assert!(!bob_old.is_empty());
    let root3 = std::fs::read_to_string(bundle.join("3.root.json")).unwrap();
    assert!(
        !root3.contains(&keyid),
        "the revoked key is still in root v3"
    );
    let root2 = std::fs::read_to_string(bundle.join("2.root.json")).unwrap();
    assert!(root2.contains(&keyid));

    // Exporting the same ceremony twice gives identical bytes (the ceremony directory: its
    // repository/ is read; each export is recorded in the transcript, which is not exported).
    let b1 = tmp.path().join("b1");
    let b2 = tmp.path().join("b2");
    for b in [&b1, &b2] {
        let o = run(conclave().arg("export").arg(&dir).arg("-o").arg(b));
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stderr.contains("Recorded as step"), "{}", o.stderr);
    }
    let o = run(conclave().args(["transcript", "verify"]).arg(&dir));
    assert_eq!(o.code, 0, "{}", o.stderr);
    for e in std::fs::read_dir(&b1).unwrap() {
        let name = e.unwrap().file_name();
        assert_eq!(
            std::fs::read(b1.join(&name)).unwrap(),
            std::fs::read(b2.join(&name)).unwrap(),
            "{name:?} differs"
        );
    }

    // A rehearsal never reuses a directory that holds something.
    let o = run(conclave().args(["ceremony", "rehearse", "--out"]).arg(&dir));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("not empty"), "{}", o.stderr);
}

/// Key files (the fast Argon2 profile) for a test plan; returns nothing, writes into `dir`.
fn key_file(dir: &Path, name: &str) {
    let o = generate_key_file(dir, name, &format!("{name} test passphrase"));
    std::fs::write(dir.join(format!("{name}.pub.json")), o.stdout).unwrap();
}

fn plan(root_keys: &[&str], root_threshold: u32, extra_keys: &str) -> String {
    let list = root_keys
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut t = String::from(
        "[ceremony]\nformat = 1\nname = \"test genesis\"\n\n\
         [officers.alice]\nname = \"Alice\"\n[officers.bob]\nname = \"Bob\"\n[officers.carol]\nname = \"Carol\"\n[officers.dave]\nname = \"Dave\"\n\n",
    );
    for o in ["alice", "bob", "carol", "dave"] {
        t.push_str(&format!(
            "[keys.{o}-root]\nofficer = \"{o}\"\nsource = \"key-file\"\nkey_file = \"{o}-root.key\"\npublic_key = \"{o}-root.pub.json\"\n\n"
        ));
    }
    t.push_str(extra_keys);
    t.push_str(
        "[keys.alice-targets]\nofficer = \"alice\"\nsource = \"key-file\"\nkey_file = \"alice-targets.key\"\npublic_key = \"alice-targets.pub.json\"\n\n\
         [keys.bob-targets]\nofficer = \"bob\"\nsource = \"key-file\"\nkey_file = \"bob-targets.key\"\npublic_key = \"bob-targets.pub.json\"\n\n\
         [keys.snapshot]\nsource = \"online\"\npublic_key = \"snapshot.pub.json\"\n\n\
         [keys.timestamp]\nsource = \"online\"\npublic_key = \"timestamp.pub.json\"\n\n",
    );
    t.push_str(&format!(
        "[roles.root]\nkeys = [{list}]\nthreshold = {root_threshold}\nexpires = \"365d\"\n\n\
         [roles.targets]\nkeys = [\"alice-targets\", \"bob-targets\"]\nthreshold = 1\nexpires = \"365d\"\n\n\
         [roles.snapshot]\nkeys = [\"snapshot\"]\n\n[roles.timestamp]\nkeys = [\"timestamp\"]\n"
    ));
    t
}

fn sign_with(dir: &Path, cmd: &str, key: &str) -> Outcome {
    // The command as SIGNING-TASKS.txt prints it, run from the ceremony directory.
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let mut full = args.clone();
    full.extend(["--passphrase-fd", "0"]);
    conclave_in(dir, &full, &format!("{key} test passphrase\n"))
}

#[test]
fn genesis_from_a_plan_then_signing_merging_and_recording() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("plan");
    std::fs::create_dir_all(&keys).unwrap();
    for k in [
        "alice-root",
        "bob-root",
        "carol-root",
        "dave-root",
        "alice-targets",
        "bob-targets",
        "snapshot",
        "timestamp",
    ] {
        key_file(&keys, k);
    }
    std::fs::write(
        keys.join("plan.toml"),
        plan(&["alice-root", "bob-root", "carol-root"], 2, "")
            .replace("[officers.dave]\nname = \"Dave\"\n", "")
            .replace("[keys.dave-root]\nofficer = \"dave\"\nsource = \"key-file\"\nkey_file = \"dave-root.key\"\npublic_key = \"dave-root.pub.json\"\n\n", ""),
    )
    .unwrap();

    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(keys.join("plan.toml")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("root: 2 of 3 key(s)"), "{}", o.stdout);

    let dir = tmp.path().join("ceremony");
    let o = run(conclave()
        .args(["ceremony", "genesis", "--allow-network"])
        .arg(keys.join("plan.toml"))
        .arg("--out")
        .arg(&dir));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let tasks = std::fs::read_to_string(dir.join("SIGNING-TASKS.txt")).unwrap();
    assert!(dir.join("drafts/1.root.json").is_file());
    assert!(dir.join("transcript.jsonl").is_file());

    // Each officer runs exactly the command the task list gives them (key files are where
    // the plan says, relative to the ceremony directory: copy them in as officers would bring them).
    for k in [
        "alice-root",
        "bob-root",
        "carol-root",
        "alice-targets",
        "bob-targets",
    ] {
        std::fs::copy(keys.join(format!("{k}.key")), dir.join(format!("{k}.key"))).unwrap();
    }
    let commands: Vec<&str> = tasks
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("conclave sign"))
        .collect();
    assert_eq!(commands.len(), 5, "{tasks}");
    for cmd in &commands[..2] {
        let key = cmd
            .split("--key ")
            .nth(1)
            .unwrap()
            .split(".key")
            .next()
            .unwrap();
        let o = sign_with(&dir, cmd, key);
        assert_eq!(o.code, 0, "{cmd}\n{}", o.stderr);
        assert!(o.stderr.contains("Recorded as step"), "{}", o.stderr);
    }
    let o = conclave_in(
        &dir,
        &[
            "merge",
            "drafts/1.root.json",
            "signatures/1.root.alice-root.sig",
            "signatures/1.root.bob-root.sig",
            "-o",
            "repository/1.root.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let tcmd = commands
        .iter()
        .find(|c| c.contains("1.targets.json"))
        .unwrap();
    let o = sign_with(&dir, tcmd, "alice-targets");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = conclave_in(
        &dir,
        &[
            "merge",
            "drafts/1.targets.json",
            "signatures/1.targets.alice-targets.sig",
            "--delegator",
            "repository/1.root.json",
            "-o",
            "repository/1.targets.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(conclave().arg("verify").arg(dir.join("repository")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v = python_tuf_verdict(&dir.join("repository"));
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);

    // genesis, 2 root signatures, merge, 1 targets signature, merge: six steps, chain intact.
    let o = run(conclave().args(["transcript", "verify"]).arg(&dir));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("6 step(s)"), "{}", o.stdout);
    let t = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
    assert!(t.contains("\"step\":\"merge root v1\""), "{t}");
    assert!(t.contains("signatures/1.root.bob-root.sig"), "{t}");

    // A tampered transcript stops the next step before it does anything.
    let lines: Vec<&str> = t.lines().collect();
    let tampered = format!("{}\n{}\n", lines[1], lines[0]) + &lines[2..].join("\n") + "\n";
    std::fs::write(dir.join("transcript.jsonl"), tampered).unwrap();
    let o = sign_with(&dir, commands[2], "carol-root");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("transcript is broken"), "{}", o.stderr);
    assert!(!dir.join("signatures/1.root.carol-root.sig").exists());

    // Genesis never reuses a directory.
    let o = run(conclave()
        .args(["ceremony", "genesis", "--allow-network"])
        .arg(keys.join("plan.toml"))
        .arg("--out")
        .arg(&dir));
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn check_refuses_plans_that_break_the_policy_and_names_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for k in [
        "alice-root",
        "bob-root",
        "carol-root",
        "dave-root",
        "alice-targets",
        "bob-targets",
        "snapshot",
        "timestamp",
    ] {
        key_file(d, k);
    }
    std::fs::write(
        d.join("weak.toml"),
        plan(&["alice-root", "bob-root"], 1, ""),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(d.join("weak.toml")));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("below the policy's minimum of 2"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("weak.toml: the plan breaks its policy"),
        "{}",
        o.stderr
    );

    let reuse = plan(&["alice-root", "bob-root", "carol-root"], 2, "").replace(
        "keys = [\"alice-targets\", \"bob-targets\"]",
        "keys = [\"alice-root\", \"bob-targets\"]",
    );
    std::fs::write(d.join("reuse.toml"), reuse).unwrap();
    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(d.join("reuse.toml")));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("used by several roles"), "{}", o.stderr);

    std::fs::write(
        d.join("typo.toml"),
        plan(&["alice-root", "bob-root", "carol-root"], 2, "")
            .replace("threshold = 2", "treshold = 2"),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(d.join("typo.toml")));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("typo.toml: roles.root: unknown field \"treshold\""),
        "{}",
        o.stderr
    );

    std::fs::write(d.join("broken.toml"), "[ceremony\n").unwrap();
    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(d.join("broken.toml")));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("broken.toml: not valid TOML"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("panicked"));

    std::fs::write(
        d.join("nokey.toml"),
        plan(&["alice-root", "bob-root", "carol-root"], 2, "")
            .replace("\"carol-root.pub.json\"", "\"missing.pub.json\""),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "check"])
        .arg(d.join("nokey.toml")));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("keys.carol-root.public_key"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("missing.pub.json"), "{}", o.stderr);
}

#[test]
fn plan_rotation_reports_feasibility_and_same_officer_new_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for k in [
        "alice-root",
        "bob-root",
        "carol-root",
        "dave-root",
        "alice-root-2",
        "alice-targets",
        "bob-targets",
        "snapshot",
        "timestamp",
    ] {
        key_file(d, k);
    }
    // Current root v1: alice, bob, carol, 2 of 3 (drafted and signed through the CLI).
    std::fs::write(
        d.join("plan.toml"),
        plan(&["alice-root", "bob-root", "carol-root"], 2, ""),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "genesis", "--allow-network"])
        .arg(d.join("plan.toml"))
        .arg("--out")
        .arg(d.join("c")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    for k in ["alice-root", "bob-root"] {
        let o = conclave_in(
            d,
            &[
                "sign",
                "c/drafts/1.root.json",
                "--key",
                &format!("{k}.key"),
                "--passphrase-fd",
                "0",
                "-o",
                &format!("c/signatures/{k}.sig"),
            ],
            &format!("{k} test passphrase\n"),
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let o = conclave_in(
        d,
        &[
            "merge",
            "c/drafts/1.root.json",
            "c/signatures/alice-root.sig",
            "c/signatures/bob-root.sig",
            "-o",
            "c/repository/1.root.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    // v2: carol leaves, dave joins, alice changes to a new key (her old one retired).
    let extra = "[keys.alice-root-2]\nofficer = \"alice\"\nsource = \"key-file\"\nkey_file = \"alice-root-2.key\"\npublic_key = \"alice-root-2.pub.json\"\n\n";
    let p2 = plan(&["alice-root-2", "bob-root", "dave-root"], 2, extra)
        .replace(
            "public_key = \"alice-root.pub.json\"\n",
            "public_key = \"alice-root.pub.json\"\nretired = true\n",
        )
        .replace(
            "public_key = \"carol-root.pub.json\"\n",
            "public_key = \"carol-root.pub.json\"\nretired = true\n",
        );
    std::fs::write(d.join("plan2.toml"), p2).unwrap();
    let o = conclave_in(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "c/repository/1.root.json",
            "--plan",
            "plan2.toml",
            "-o",
            "c/drafts/2.root.json",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("needs 2 of v1's root keys (3 usable) AND 2 of v2's root keys (3 usable)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stderr
            .contains("Alice (alice) changes keys: they sign twice"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("leave at once"), "{}", o.stderr);
    assert!(o.stderr.contains("Recorded as step"), "{}", o.stderr);
    assert!(d.join("c/drafts/2.root.json").is_file());

    // Two of v1's three keys lost: v1's threshold of 2 cannot be met. Exit 1, no draft.
    let ids: Vec<String> = ["bob-root", "carol-root"]
        .iter()
        .map(|k| {
            run(conclave()
                .args(["key", "id"])
                .arg(d.join(format!("{k}.pub.json"))))
            .stdout
            .trim()
            .to_owned()
        })
        .collect();
    let p3 = plan(&["alice-root", "dave-root", "alice-root-2"], 2, extra)
        .replace(
            "public_key = \"bob-root.pub.json\"\n",
            "public_key = \"bob-root.pub.json\"\nretired = true\n",
        )
        .replace(
            "public_key = \"carol-root.pub.json\"\n",
            "public_key = \"carol-root.pub.json\"\nretired = true\n",
        );
    std::fs::write(d.join("plan3.toml"), p3).unwrap();
    let o = conclave_in(
        d,
        &[
            "ceremony",
            "plan-rotation",
            "--root",
            "c/repository/1.root.json",
            "--plan",
            "plan3.toml",
            "--lost",
            &ids[0],
            "--lost",
            &ids[1],
        ],
        "",
    );
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("NOT FEASIBLE"), "{}", o.stderr);
    assert!(o.stdout.contains("LOST: must not sign"), "{}", o.stdout);
}

#[test]
fn genesis_refuses_a_machine_that_is_not_air_gapped_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for k in [
        "alice-root",
        "bob-root",
        "carol-root",
        "dave-root",
        "alice-targets",
        "bob-targets",
        "snapshot",
        "timestamp",
    ] {
        key_file(d, k);
    }
    std::fs::write(
        d.join("plan.toml"),
        plan(&["alice-root", "bob-root", "carol-root"], 2, ""),
    )
    .unwrap();
    let check = run(conclave().arg("airgap-check"));
    let o = run(conclave()
        .args(["ceremony", "genesis"])
        .arg(d.join("plan.toml"))
        .arg("--out")
        .arg(d.join("c")));
    if check.code == 0 {
        // An air-gapped machine (or a network namespace with only loopback): genesis goes on.
        assert_eq!(o.code, 0, "{}", o.stderr);
    } else {
        assert_eq!(check.code, 1, "{}", check.stderr);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(
            o.stderr.contains("not air-gapped; nothing was done"),
            "{}",
            o.stderr
        );
        assert!(!d.join("c").exists(), "genesis wrote something");
        let o = run(conclave()
            .args(["ceremony", "genesis", "--allow-network"])
            .arg(d.join("plan.toml"))
            .arg("--out")
            .arg(d.join("c")));
        assert_eq!(o.code, 0, "{}", o.stderr);
        let t = std::fs::read_to_string(d.join("c/transcript.jsonl")).unwrap();
        assert!(
            t.contains("air-gap") || t.contains("interface"),
            "the check is not recorded: {t}"
        );
    }
}

/// `ceremony rehearse --plan`: the officers' plan (a derived, a PKCS#11 and a YubiKey root
/// officer, key-file targets, online snapshot and timestamp) runs end to end with throwaway
/// keys; the plan is kept as written, the YubiKey's stand-in is P-256, and the bundle is
/// marked and verifies in conclave and python-tuf. Then the built-in rehearsal's own plan.
#[test]
fn rehearse_plan_runs_the_officers_plan_with_throwaway_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let plan = r#"[ceremony]
format = 1
name = "pypi.org root genesis (to rehearse)"

[officers.alice]
name = "Alice"
[officers.bob]
name = "Bob"
[officers.carol]
name = "Carol"

[keys]
alice-root = { officer = "alice", source = "derived", identity = "pypi.org/root/alice", public_key = "keys/alice-root.pub" }
bob-root = { officer = "bob", source = "pkcs11", pkcs11 = "pkcs11:token=bob;object=root", public_key = "keys/bob-root.pub" }
carol-root = { officer = "carol", source = "yubikey", yubikey = "12345678:9c", public_key = "keys/carol-root.pub" }
alice-targets = { officer = "alice", source = "key-file", public_key = "keys/alice-targets.pub" }
bob-targets = { officer = "bob", source = "key-file", public_key = "keys/bob-targets.pub" }
online-snapshot = { source = "online", public_key = "keys/online-snapshot.pub" }
online-timestamp = { source = "online", public_key = "keys/online-timestamp.pub" }

[roles.root]
keys = ["alice-root", "bob-root", "carol-root"]
threshold = 2
expires = "365d"
[roles.targets]
keys = ["alice-targets", "bob-targets"]
threshold = 2
expires = "300d"
[roles.snapshot]
keys = ["online-snapshot"]
[roles.timestamp]
keys = ["online-timestamp"]
"#;
    std::fs::write(real.join("plan.toml"), plan).unwrap();
    let out = tmp.path().join("rehearsal of the real plan");
    let o = run(conclave()
        .args(["ceremony", "rehearse", "--plan"])
        .arg(real.join("plan.toml"))
        .arg("-o")
        .arg(&out));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("REHEARSAL"), "{}", o.stderr);
    assert!(
        o.stderr.contains("carol-root (yubikey, held by carol)"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("plan.toml")).unwrap(),
        plan
    );
    let carol = std::fs::read_to_string(out.join("keys/carol-root.pub")).unwrap();
    assert!(carol.contains("ecdsa"), "{carol}");
    let bundle = out.join("bundle");
    for f in ["1.root.json", "1.targets.json"] {
        let text = std::fs::read_to_string(bundle.join(f)).unwrap();
        assert!(text.contains("x-conclave-rehearsal"), "{f} is not marked");
    }
    let o = run(conclave().arg("verify").arg(&bundle));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v = python_tuf_verdict(&bundle);
    assert_eq!(v.code, 0, "python-tuf: {}\n{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "valid");
    let o = run(conclave()
        .args(["transcript", "verify"])
        .arg(&out)
        .arg("--head-sig")
        .arg(out.join("transcript-head.alice-root.sig")));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);

    // The built-in rehearsal's own plan, rehearsed as an officers' plan.
    let example = tmp.path().join("example");
    let o = run(conclave()
        .args(["ceremony", "rehearse", "-o"])
        .arg(&example));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let again = tmp.path().join("again");
    let o = run(conclave()
        .args(["ceremony", "rehearse", "--plan"])
        .arg(example.join("plan.toml"))
        .arg("-o")
        .arg(&again));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v = python_tuf_verdict(&again.join("bundle"));
    assert_eq!(v.stdout.trim(), "valid", "{}", v.stderr);

    // A plan whose key files lie outside its directory is refused, nothing rehearsed there.
    std::fs::write(
        real.join("outside.toml"),
        plan.replace("keys/alice-root.pub", "../alice-root.pub"),
    )
    .unwrap();
    let o = run(conclave()
        .args(["ceremony", "rehearse", "--plan"])
        .arg(real.join("outside.toml"))
        .arg("-o")
        .arg(tmp.path().join("never")));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("not a relative path inside"),
        "{}",
        o.stderr
    );
}
