//! Key custody and threshold signing through real processes: the ceremony scripts, and every
//! way an officer's input can be wrong.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn with_stdin(args: &[&str], input: &str, dir: &Path) -> Outcome {
    conclave_in(dir, args, input)
}

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = if e.path().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                vec![]
            };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_ceremony_script_runs_and_python_tuf_accepts_the_result() {
    let scripts = repo_root().join("ceremony-scripts");
    let mut ran = 0;
    for e in std::fs::read_dir(&scripts).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "sh") {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let o = run(Command::new("bash")
            .arg(&path)
            .arg(tmp.path())
            .env("CONCLAVE", env!("CARGO_BIN_EXE_conclave"))
            .stdin(Stdio::null()));
        assert_eq!(o.code, 0, "{}:\n{}\n{}", path.display(), o.stdout, o.stderr);
        let repo = tmp.path().join("repo");
        let py = run(Command::new(python())
            .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
            .arg(&repo));
        assert_eq!(
            py.code,
            0,
            "{}: python-tuf rejects the result:\n{}{}",
            path.display(),
            py.stdout,
            py.stderr
        );
        let v = run(conclave().arg("verify").arg(&repo));
        assert_eq!(v.code, 0, "{}", v.stderr);
        if path.file_name().unwrap() == "root-genesis-and-rotation.sh" {
            // Before anyone signed v2, status listed both thresholds as missing.
            assert!(
                o.stdout
                    .contains("draft/2.root.json (role root, version 2): INCOMPLETE"),
                "{}",
                o.stdout
            );
            assert!(
                o.stdout
                    .contains("root v1 (previous root's keys): 0 of 2 needed"),
                "{}",
                o.stdout
            );
            assert!(
                o.stdout.contains("root v2 (its own keys): 0 of 2 needed"),
                "{}",
                o.stdout
            );
            assert!(v.stdout.contains("root chain v1 -> v2"), "{}", v.stdout);
        }
        ran += 1;
    }
    assert!(ran >= 1, "no ceremony scripts found");
}

const PASS: &str = "rehearsal passphrase for tests";

/// A key file, its public key, and a draft root (1-of-1 everywhere) it may sign.
fn setup(dir: &Path) {
    ok(&with_stdin(
        &[
            "key",
            "generate",
            "-o",
            "k.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\n{PASS}\n"),
        dir,
    ));
    let o = with_stdin(&["key", "public", "k.key"], "", dir);
    ok(&o);
    std::fs::write(dir.join("k.pub"), &o.stdout).unwrap();
    ok(&with_stdin(
        &[
            "root",
            "init",
            "--key",
            "root=k.pub",
            "--key",
            "targets=k.pub",
            "--key",
            "snapshot=k.pub",
            "--key",
            "timestamp=k.pub",
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
        dir,
    ));
}

fn sign(dir: &Path, keyfile: &str, pass: &str, out: &str) -> Outcome {
    with_stdin(
        &[
            "sign",
            "draft.json",
            "--key",
            keyfile,
            "--passphrase-fd",
            "0",
            "-o",
            out,
        ],
        &format!("{pass}\n"),
        dir,
    )
}

#[test]
fn sign_merge_verify_with_a_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    // The signature may not replace the draft it signs.
    let before = std::fs::read(d.join("draft.json")).unwrap();
    let o = sign(d, "k.key", PASS, "draft.json");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("that is an input of this command"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read(d.join("draft.json")).unwrap(), before);
    let o = sign(d, "k.key", PASS, "k.sig");
    ok(&o);
    assert!(o.stderr.contains("Payload digest"), "{}", o.stderr);
    assert!(!o.stderr.contains(PASS) && !o.stdout.contains(PASS));
    ok(&with_stdin(
        &["merge", "draft.json", "k.sig", "-o", "1.root.json"],
        "",
        d,
    ));
    let first = std::fs::read(d.join("1.root.json")).unwrap();
    // Idempotent: merging the same signature again changes nothing.
    ok(&with_stdin(
        &["merge", "1.root.json", "k.sig", "-o", "1.root.json"],
        "",
        d,
    ));
    assert_eq!(std::fs::read(d.join("1.root.json")).unwrap(), first);
    std::fs::remove_file(d.join("draft.json")).unwrap();
    ok(&with_stdin(&["verify", "."], "", d));
}

#[test]
fn wrong_passphrase_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    let before = listing(d);
    let o = sign(d, "k.key", "not the passphrase", "k.sig");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("k.key: wrong passphrase, or the key file is damaged"),
        "{}",
        o.stderr
    );
    assert_eq!(listing(d), before);
}

#[test]
fn damaged_key_files_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    let good = std::fs::read(d.join("k.key")).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("truncated".into(), good[..good.len() / 2].to_vec()),
        ("empty".into(), vec![]),
        (
            "kdf-outside-allowlist".into(),
            text.replace("\"m_cost_kib\": 65536", "\"m_cost_kib\": 4194304")
                .into_bytes(),
        ),
        ("ciphertext-flipped".into(), {
            let i = text.find("\"ciphertext\": \"").unwrap() + 20;
            let mut b = good.clone();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            b
        }),
        ("nonce-flipped".into(), {
            let i = text.find("\"nonce\": \"").unwrap() + 12;
            let mut b = good.clone();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            b
        }),
    ];
    cases.push(("salt-flipped".into(), {
        let i = text.find("\"salt\": \"").unwrap() + 11;
        let mut b = good.clone();
        b[i] = if b[i] == b'a' { b'b' } else { b'a' };
        b
    }));
    for (name, bytes) in cases {
        std::fs::write(d.join("bad.key"), &bytes).unwrap();
        let before = listing(d);
        let o = sign(d, "bad.key", PASS, "bad.sig");
        assert_ne!(o.code, 0, "{name}: accepted");
        assert!(!o.stderr.contains("panicked"), "{name}: {}", o.stderr);
        assert!(
            o.stderr.starts_with("error: bad.key: ") || o.stderr.contains("\nerror: bad.key: "),
            "{name}: {}",
            o.stderr
        );
        assert_eq!(listing(d), before, "{name}: something was written");
    }
}

#[test]
fn key_files_are_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    let before = std::fs::read(d.join("k.key")).unwrap();
    let o = with_stdin(
        &[
            "key",
            "generate",
            "-o",
            "k.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\n{PASS}\n"),
        d,
    );
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("already exists"), "{}", o.stderr);
    assert_eq!(std::fs::read(d.join("k.key")).unwrap(), before);
    let o = with_stdin(
        &[
            "key",
            "change-passphrase",
            "k.key",
            "-o",
            "k.key",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\nnew one\nnew one\n"),
        d,
    );
    assert_eq!(o.code, 2);
    assert_eq!(std::fs::read(d.join("k.key")).unwrap(), before);
    // A real passphrase change writes a new file that works with the new passphrase.
    ok(&with_stdin(
        &[
            "key",
            "change-passphrase",
            "k.key",
            "-o",
            "k2.key",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\nnew passphrase here\nnew passphrase here\n"),
        d,
    ));
    ok(&sign(d, "k2.key", "new passphrase here", "k2.sig"));
    assert_eq!(std::fs::read(d.join("k.key")).unwrap(), before);
}

#[test]
fn signatures_over_other_bytes_or_by_other_keys_are_refused_by_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    ok(&sign(d, "k.key", PASS, "k.sig"));
    // A second, unrelated key and draft.
    ok(&with_stdin(
        &[
            "key",
            "generate",
            "-o",
            "other.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\n{PASS}\n"),
        d,
    ));
    let o = with_stdin(&["key", "public", "other.key"], "", d);
    std::fs::write(d.join("other.pub"), &o.stdout).unwrap();

    // The root in use: the draft merged with its one signature (a --previous must be signed).
    ok(&with_stdin(
        &["merge", "draft.json", "k.sig", "-o", "v1.json"],
        "",
        d,
    ));
    // 1. A signature made for an earlier draft: the draft is edited after signing.
    ok(&with_stdin(
        &[
            "root",
            "rotate",
            "draft.json",
            "--expires",
            "400d",
            "-o",
            "edited.json",
        ],
        "",
        d,
    ));
    let o = with_stdin(
        &[
            "merge",
            "edited.json",
            "k.sig",
            "--previous",
            "v1.json",
            "-o",
            "out.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("k.sig: it signs version 1 of root, but this is version 2"),
        "{}",
        o.stderr
    );
    assert!(!d.join("out.json").exists());

    // 2. Same version, other bytes: a tampered signature file digest.
    let sig = std::fs::read_to_string(d.join("k.sig")).unwrap();
    let v = conclave::cjson::parse(sig.as_bytes()).unwrap();
    let digest = v
        .get("payload_sha256")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = format!(
        "{}{}",
        if digest.starts_with('0') { '1' } else { '0' },
        &digest[1..]
    );
    std::fs::write(d.join("stale.sig"), sig.replace(&digest, &flipped)).unwrap();
    let o = with_stdin(
        &["merge", "draft.json", "stale.sig", "-o", "out.json"],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("stale.sig: it signs other content"),
        "{}",
        o.stderr
    );
    assert!(!d.join("out.json").exists());

    // 3. A key outside the role: sign refuses before asking for the passphrase...
    let o = with_stdin(
        &[
            "sign",
            "draft.json",
            "--key",
            "other.key",
            "--passphrase-fd",
            "0",
            "-o",
            "other.sig",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("may not sign role root"), "{}", o.stderr);
    assert!(!d.join("other.sig").exists());
    // ...and merge refuses a signature file made for the role by an outside key.
    ok(&with_stdin(
        &[
            "root",
            "init",
            "--key",
            "root=other.pub",
            "--key",
            "targets=other.pub",
            "--key",
            "snapshot=other.pub",
            "--key",
            "timestamp=other.pub",
            "--expires",
            "365d",
            "-o",
            "other-draft.json",
        ],
        "",
        d,
    ));
    ok(&with_stdin(
        &[
            "sign",
            "other-draft.json",
            "--key",
            "other.key",
            "--passphrase-fd",
            "0",
            "-o",
            "other.sig",
        ],
        &format!("{PASS}\n"),
        d,
    ));
    let mut forged = conclave::cjson::parse(&std::fs::read(d.join("other.sig")).unwrap()).unwrap();
    if let conclave::cjson::Value::Object(m) = &mut forged {
        m.insert("payload_sha256".into(), digest.as_str().into());
    }
    std::fs::write(d.join("forged.sig"), conclave::cjson::to_pretty(&forged)).unwrap();
    let o = with_stdin(
        &["merge", "draft.json", "forged.sig", "-o", "out.json"],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("forged.sig: key "), "{}", o.stderr);
    assert!(
        o.stderr.contains("may not sign role \"root\""),
        "{}",
        o.stderr
    );
    assert!(!d.join("out.json").exists());

    // 4. A garbage signature file.
    std::fs::write(d.join("junk.sig"), b"{\"format\": 1}").unwrap();
    let o = with_stdin(
        &["merge", "draft.json", "junk.sig", "-o", "out.json"],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("junk.sig: "), "{}", o.stderr);
    assert!(!d.join("out.json").exists());
}

#[test]
fn merge_refuses_to_write_below_threshold_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    // Make the root 1-of-1 for root, but merge with no signatures at all.
    ok(&sign(d, "k.key", PASS, "k.sig"));
    ok(&with_stdin(
        &["merge", "draft.json", "k.sig", "-o", "v1.json"],
        "",
        d,
    ));
    ok(&with_stdin(
        &["root", "rotate", "v1.json", "-o", "v2.json"],
        "",
        d,
    ));
    let o = with_stdin(
        &[
            "merge",
            "v2.json",
            "k.sig",
            "--previous",
            "v1.json",
            "-o",
            "out.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("the threshold is not met yet")
            || o.stderr.contains("it signs version 1 of root"),
        "{}",
        o.stderr
    );
    assert!(!d.join("out.json").exists());
}

#[test]
fn root_init_and_rotate_refuse_bad_thresholds_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    let base = [
        "root",
        "init",
        "--key",
        "root=k.pub",
        "--key",
        "targets=k.pub",
        "--key",
        "snapshot=k.pub",
        "--key",
        "timestamp=k.pub",
        "--expires",
        "365d",
        "-o",
        "x.json",
    ];
    for (extra, needle) in [
        (
            vec!["--threshold", "root=0"],
            "threshold must be at least 1",
        ),
        (vec!["--threshold", "root=2"], "could never be met"),
        (vec!["--threshold", "mirrors=1"], "not a top-level role"),
        (vec!["--threshold", "root"], "ROLE=VALUE"),
        (
            vec!["--key", "root=missing.pub"],
            "missing.pub: cannot read",
        ),
        (vec!["--key", "bogus=k.pub"], "not a top-level role"),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let o = with_stdin(&args, "", d);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{args:?}: {}", o.stderr);
        assert!(!d.join("x.json").exists());
    }
    let o = with_stdin(
        &[
            "root",
            "init",
            "--key",
            "root=k.pub",
            "--expires",
            "365d",
            "-o",
            "x.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("the targets role has no keys"),
        "{}",
        o.stderr
    );
    let o = with_stdin(
        &[
            "root",
            "rotate",
            "draft.json",
            "--remove-key",
            "root=abc",
            "-o",
            "x.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("--remove-key root=abc") && o.stderr.contains("too short for a keyid"),
        "{}",
        o.stderr
    );
    let o = with_stdin(
        &[
            "root",
            "init",
            "--key",
            "root=k.pub",
            "--expires",
            "someday",
            "-o",
            "x.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2);
}

#[test]
fn derived_keys_are_reproducible_and_weak_passphrases_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = "abacus abdomen abdominal abide abiding ability ablaze able";
    let a = with_stdin(
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/alice",
            "--passphrase-fd",
            "0",
        ],
        &format!("{p}\n{p}\n"),
        d,
    );
    ok(&a);
    let b = with_stdin(
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/alice",
            "--passphrase-fd",
            "0",
        ],
        &format!("{p}\n{p}\n"),
        d,
    );
    ok(&b);
    assert_eq!(a.stdout, b.stdout);
    // The known-answer vector in docs/keys.md, and an independent implementation
    // (argon2-cffi, i.e. the reference C Argon2, plus pyca/cryptography) agrees.
    assert!(a.stdout.contains(DERIVED_KAT_PUBLIC), "{}", a.stdout);
    let mut child = Command::new(python())
        .arg(repo_root().join("tests/interop/python/derive_kat.py"))
        .arg("pypi.org/root/alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{p}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        DERIVED_KAT_PUBLIC
    );
    let other = with_stdin(
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/bob",
            "--passphrase-fd",
            "0",
        ],
        &format!("{p}\n{p}\n"),
        d,
    );
    ok(&other);
    assert_ne!(a.stdout, other.stdout);
    // Mismatched entries and weak passphrases.
    let o = with_stdin(
        &["key", "derive", "--identity", "x/y", "--passphrase-fd", "0"],
        &format!("{p}\n{p} \n"),
        d,
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("the two passphrases differ"),
        "{}",
        o.stderr
    );
    let o = with_stdin(
        &["key", "derive", "--identity", "x/y", "--passphrase-fd", "0"],
        "Tr0ub4dor&3\nTr0ub4dor&3\n",
        d,
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("too weak for a derived key"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("offline"), "{}", o.stderr);
    assert!(o.stdout.is_empty());
    // No passphrase on a closed stdin and no terminal: a clear refusal, not a hang.
    let o = with_stdin(&["key", "derive", "--identity", "x/y"], "", d);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--passphrase-fd"), "{}", o.stderr);
}

/// Documented in docs/keys.md: identity pypi.org/root/alice, passphrase
/// "abacus abdomen abdominal abide abiding ability ablaze able".
const DERIVED_KAT_PUBLIC: &str = "24406e823444aecc9e71d3c6bb2f1cb8159f3a89e05667f5f905de61ae120376";

#[test]
fn passphrase_generate_gives_diceware_words() {
    let tmp = tempfile::tempdir().unwrap();
    let o = with_stdin(&["passphrase", "generate"], "", tmp.path());
    ok(&o);
    assert_eq!(o.stdout.trim().split(' ').count(), 8);
    let o = with_stdin(&["passphrase", "generate", "--words", "5"], "", tmp.path());
    ok(&o);
    assert!(o.stderr.contains("too few for a passphrase-derived key"));
}

/// Targets and a delegated role go through the same round with --delegator: the root names
/// the targets keys; the targets metadata names the delegated role's keys.
#[test]
fn targets_and_delegated_roles_are_signed_and_merged_against_their_delegator() {
    use conclave::metadata::Metadata;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d);
    ok(&sign(d, "k.key", PASS, "root.sig"));
    ok(&with_stdin(
        &["merge", "draft.json", "root.sig", "-o", "1.root.json"],
        "",
        d,
    ));

    // An admin key for a delegated role "claimed".
    ok(&with_stdin(
        &[
            "key",
            "generate",
            "-o",
            "admin.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PASS}\n{PASS}\n"),
        d,
    ));
    let admin_pub = with_stdin(&["key", "public", "admin.key"], "", d).stdout;
    let admin =
        conclave::metadata::Key::from_json(conclave::cjson::parse(admin_pub.as_bytes()).unwrap())
            .unwrap();

    let mut t = targets(1, FAR);
    let admin_id = admin.keyid();
    t.delegations = Some(conclave::metadata::Delegations {
        keys: std::collections::BTreeMap::from([(admin_id.clone(), admin)]),
        roles: conclave::metadata::DelegationRoles::List(vec![conclave::metadata::DelegatedRole {
            name: conclave::metadata::RoleName::delegated("claimed").unwrap(),
            keyids: vec![admin_id],
            threshold: th(1),
            terminating: Some(false),
            paths: conclave::metadata::RolePaths::Patterns(vec!["*/*".into()]),
            extra: Default::default(),
        }]),
        extra: Default::default(),
    });
    write(d, "targets-draft.json", &Metadata::new(t));
    let mut c = targets(1, FAR);
    add_target(&mut c, "demo/demo-1.0.tar.gz", b"demo");
    write(d, "claimed-draft.json", &Metadata::new(c));

    // Without --delegator, merge cannot know the keys: a usage error, nothing written.
    let o = with_stdin(
        &[
            "merge",
            "targets-draft.json",
            "root.sig",
            "-o",
            "targets.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--delegator"), "{}", o.stderr);

    ok(&with_stdin(
        &[
            "sign",
            "targets-draft.json",
            "--role",
            "targets",
            "--delegator",
            "1.root.json",
            "--key",
            "k.key",
            "--passphrase-fd",
            "0",
            "-o",
            "targets.sig",
        ],
        &format!("{PASS}\n"),
        d,
    ));
    // The admin key may not sign targets.
    let o = with_stdin(
        &[
            "sign",
            "targets-draft.json",
            "--role",
            "targets",
            "--delegator",
            "1.root.json",
            "--key",
            "admin.key",
            "--passphrase-fd",
            "0",
            "-o",
            "bad.sig",
        ],
        &format!("{PASS}\n"),
        d,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("may not sign role targets"),
        "{}",
        o.stderr
    );
    ok(&with_stdin(
        &[
            "merge",
            "targets-draft.json",
            "targets.sig",
            "--role",
            "targets",
            "--delegator",
            "1.root.json",
            "-o",
            "targets.json",
        ],
        "",
        d,
    ));
    ok(&with_stdin(
        &[
            "sign",
            "claimed-draft.json",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
            "--key",
            "admin.key",
            "--passphrase-fd",
            "0",
            "-o",
            "claimed.sig",
        ],
        &format!("{PASS}\n"),
        d,
    ));
    // A targets signature is refused for claimed (other role, other bytes).
    let o = with_stdin(
        &[
            "merge",
            "claimed-draft.json",
            "targets.sig",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
            "-o",
            "claimed.json",
        ],
        "",
        d,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("it signs role \"targets\", but this is role \"claimed\""),
        "{}",
        o.stderr
    );
    ok(&with_stdin(
        &[
            "merge",
            "claimed-draft.json",
            "claimed.sig",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
            "-o",
            "claimed.json",
        ],
        "",
        d,
    ));
    let st = with_stdin(
        &[
            "status",
            "claimed.json",
            "--delegator",
            "targets.json",
            "--check",
        ],
        "",
        d,
    );
    ok(&st);
    assert!(st.stdout.contains("COMPLETE"), "{}", st.stdout);

    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    for f in ["1.root.json", "targets.json", "claimed.json"] {
        std::fs::copy(d.join(f), repo.join(f)).unwrap();
    }
    ok(&run(conclave().arg("verify").arg(&repo)));
    let py = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(&repo));
    assert_eq!(py.code, 0, "{}{}", py.stdout, py.stderr);
}
