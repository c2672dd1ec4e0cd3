//! PKCS#11 keys through real processes against a real SoftHSM2 (Debian `softhsm2`, installed
//! by `tests/run-all.sh`). Each test makes its own token directory and SoftHSM config, so
//! tests run in parallel without seeing each other's tokens. A missing SoftHSM fails these
//! tests loudly: they are never skipped.

mod common;

use std::process::Command;

use common::softhsm::*;
use common::*;

fn ok(o: &Outcome) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

fn device_error(o: &Outcome, needles: &[&str]) {
    assert_eq!(o.code, 3, "want exit 3:\n{}\n{}", o.stdout, o.stderr);
    for n in needles {
        assert!(o.stderr.contains(n), "want {n:?} in:\n{}", o.stderr);
    }
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    // One error line, and a hint saying what to do.
    assert_eq!(o.stderr.matches("error:").count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("hint:"), "{}", o.stderr);
}

const DERIVED_PASS: &str = "abacus abdomen abdominal abide abiding ability ablaze able";

#[test]
fn root_signed_by_softhsm_ed25519_softhsm_p256_and_a_derived_key() {
    let hsm = Hsm::new();
    let w = hsm.work();
    // Two tokens: the URI's token label picks the right one.
    hsm.init_token("PyPI root A");
    hsm.init_token("PyPI root B");
    let a = hsm.generate("PyPI root A", "alice 2026", "ed25519", "alice.pub");
    assert!(
        a.stdout.contains("\"keytype\": \"ed25519\""),
        "{}",
        a.stdout
    );
    assert!(a.stderr.contains("Fingerprint"), "{}", a.stderr);
    let b = hsm.generate("PyPI root B", "bob", "ecdsa-p256", "bob.pub");
    assert!(
        b.stdout.contains("\"scheme\": \"ecdsa-sha2-nistp256\""),
        "{}",
        b.stdout
    );
    let c = hsm.conclave(
        &[
            "key",
            "derive",
            "--identity",
            "pypi.org/root/carol",
            "--passphrase-fd",
            "0",
        ],
        &format!("{DERIVED_PASS}\n{DERIVED_PASS}\n"),
    );
    ok(&c);
    std::fs::write(w.join("carol.pub"), &c.stdout).unwrap();
    // An outsider key in the token, which the root does not list.
    hsm.generate("PyPI root A", "mallory", "ed25519", "mallory.pub");

    ok(&hsm.conclave(
        &[
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
            "snapshot=bob.pub",
            "--key",
            "timestamp=bob.pub",
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
    ));

    // A key that may not sign is refused before the PIN is asked for: no PIN is given here,
    // so a prompt would fail differently (exit 2, "no line left").
    let before = hsm.listing();
    let m = hsm.sign(&hsm.uri("PyPI root A", "mallory"), "", "mallory.sig");
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(m.stderr.contains("may not sign role root"), "{}", m.stderr);
    assert!(!m.stderr.contains("User PIN"), "{}", m.stderr);
    assert_eq!(hsm.listing(), before);

    let s = hsm.sign(&hsm.uri("PyPI root A", "alice 2026"), PIN, "alice.sig");
    ok(&s);
    assert!(s.stderr.contains("Payload digest"), "{}", s.stderr);
    // The keyid is shown before the PIN is used.
    let alice_id = hsm.conclave(&["key", "id", "alice.pub"], "");
    ok(&alice_id);
    let shown = s.stderr.find(alice_id.stdout.trim()).expect("keyid shown");
    assert!(shown < s.stderr.find("Wrote the signature").unwrap());
    assert!(!s.stderr.contains(PIN) && !s.stdout.contains(PIN));

    // P-256, with the PIN from the URI's pin-source file instead of a prompt.
    std::fs::write(w.join("pin-b"), format!("{PIN}\n")).unwrap();
    let uri_b = format!(
        "{}&pin-source=file:{}",
        hsm.uri("PyPI root B", "bob"),
        w.join("pin-b").display()
    );
    ok(&hsm.conclave(
        &["sign", "draft.json", "--pkcs11", &uri_b, "-o", "bob.sig"],
        "",
    ));

    ok(&hsm.conclave(
        &[
            "sign",
            "draft.json",
            "--derive",
            "pypi.org/root/carol",
            "--passphrase-fd",
            "0",
            "-o",
            "carol.sig",
        ],
        &format!("{DERIVED_PASS}\n"),
    ));

    let repo = w.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let merged = hsm.conclave(
        &[
            "merge",
            "draft.json",
            "alice.sig",
            "bob.sig",
            "carol.sig",
            "-o",
            "repo/1.root.json",
        ],
        "",
    );
    ok(&merged);
    assert_eq!(
        merged.stderr.matches("merged ").count(),
        3,
        "{}",
        merged.stderr
    );
    let v = hsm.conclave(&["verify", "repo"], "");
    ok(&v);
    assert!(
        v.stdout.contains("3 of 3 root v1 keys signed validly"),
        "{}",
        v.stdout
    );

    let py = run(Command::new(python())
        .arg(repo_root().join("tests/interop/python/tuf_verdict.py"))
        .arg(&repo));
    assert_eq!(
        py.code, 0,
        "python-tuf rejects it:\n{}{}",
        py.stdout, py.stderr
    );
}

#[test]
fn wrong_pin_is_a_device_error_and_nothing_is_written() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let before = hsm.listing();
    let o = hsm.sign(&hsm.uri("Root A", "alice"), "0000-wrong", "alice.sig");
    device_error(
        &o,
        &[
            "wrong PIN",
            "Root A",
            "lock",
            "nothing was signed or written",
        ],
    );
    assert_eq!(hsm.listing(), before);
    // The token now reports a failed attempt; the next run warns before the prompt, and the
    // right PIN still works.
    let o = hsm.sign(&hsm.uri("Root A", "alice"), PIN, "alice.sig");
    ok(&o);
    assert!(
        o.stderr.contains("a wrong PIN has been entered"),
        "{}",
        o.stderr
    );
}

#[test]
fn unknown_token_label_names_the_tokens_present() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let before = hsm.listing();
    let o = hsm.sign(&hsm.uri("Root Z", "alice"), PIN, "alice.sig");
    device_error(
        &o,
        &["no token matches token=\"Root Z\"", "\"Root A (serial "],
    );
    assert!(!o.stderr.contains("User PIN"), "{}", o.stderr);
    assert_eq!(hsm.listing(), before);
    let o = hsm.generate_fails("Root Z", "new");
    device_error(&o, &["no token matches"]);
}

#[test]
fn several_tokens_with_one_label_must_be_told_apart() {
    let hsm = Hsm::new();
    hsm.init_token("Twin");
    hsm.init_token("Twin");
    let o = hsm.generate_fails("Twin", "k");
    device_error(&o, &["2 tokens match token=\"Twin\"", "serial="]);
}

#[test]
fn missing_object_label_is_named() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let before = hsm.listing();
    let o = hsm.sign(&hsm.uri("Root A", "nobody"), PIN, "nobody.sig");
    device_error(
        &o,
        &[
            "no key labelled \"nobody\"",
            "Root A",
            "key generate --pkcs11",
        ],
    );
    assert!(!o.stderr.contains("User PIN"), "{}", o.stderr);
    assert_eq!(hsm.listing(), before);
}

#[test]
fn module_path_that_does_not_exist_names_the_path_and_the_packages() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let uri = "pkcs11:token=Root%20A;object=alice?module-path=/nonexistent/libpkcs11-none.so";
    let o = hsm.sign(uri, PIN, "alice.sig");
    device_error(
        &o,
        &["/nonexistent/libpkcs11-none.so", "softhsm2", "opensc"],
    );
    assert!(!hsm.work().join("alice.sig").exists());
    let o = hsm.conclave(&["key", "generate", "--pkcs11", uri], "");
    device_error(&o, &["/nonexistent/libpkcs11-none.so"]);
    assert!(o.stdout.is_empty());
    // A directory, and a shared library that is not a PKCS#11 module.
    let uri = "pkcs11:token=Root%20A;object=alice?module-path=/tmp";
    device_error(&hsm.sign(uri, PIN, "alice.sig"), &["/tmp: not a file"]);
    let uri = format!(
        "pkcs11:token=Root%20A;object=alice?module-path={}",
        std::env::current_exe().unwrap().display()
    );
    device_error(&hsm.sign(&uri, PIN, "alice.sig"), &["cannot be loaded"]);
    assert!(!hsm.work().join("alice.sig").exists());
}

#[test]
fn a_module_that_cannot_start_says_where_to_look() {
    let hsm = Hsm::new();
    hsm.with_draft();
    std::fs::write(&hsm.conf, "directories.tokendir = /nonexistent/tokens\n").unwrap();
    let o = hsm.sign(&hsm.uri("Root A", "alice"), PIN, "alice.sig");
    device_error(&o, &["failed to start", "SOFTHSM2_CONF"]);
    assert!(!hsm.work().join("alice.sig").exists());
}

#[test]
fn generate_refuses_a_label_in_use_and_needs_exactly_one_destination() {
    let hsm = Hsm::new();
    hsm.init_token("Root A");
    hsm.generate("Root A", "alice", "ecdsa-p256", "alice.pub");
    let o = hsm.generate_fails("Root A", "alice");
    device_error(&o, &["an object labelled \"alice\" already exists"]);
    assert!(o.stdout.is_empty(), "{}", o.stdout);

    let uri = hsm.uri("Root A", "other");
    let both = hsm.conclave(&["key", "generate", "-o", "x.key", "--pkcs11", &uri], "");
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    let neither = hsm.conclave(&["key", "generate"], "");
    assert_eq!(neither.code, 2, "{}", neither.stderr);
    assert!(!hsm.work().join("x.key").exists());

    // No object label in the URI: a usage error before anything is touched.
    let uri = format!("pkcs11:token=Root%20A?module-path={}", hsm.module.display());
    let o = hsm.conclave(&["key", "generate", "--pkcs11", &uri], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("object=LABEL"), "{}", o.stderr);
}

#[test]
fn bad_uris_and_signer_choices_are_usage_errors() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let before = hsm.listing();
    for (uri, needle) in [
        (
            "pkcs11:token=Root%20A;object=alice;flavour=x",
            "unknown attribute \"flavour\"",
        ),
        (
            "pkcs11:token=Root%20A;object=alice?pin-value=1234",
            "pin-value",
        ),
        ("pkcs11:token=%zz;object=alice", "percent-encoding"),
        ("pkcs11:token=Root%20A;object=alice", "module-path"),
    ] {
        let o = hsm.sign(uri, PIN, "x.sig");
        assert_eq!(o.code, 2, "{uri}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{uri}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
    let uri = hsm.uri("Root A", "alice");
    let o = hsm.conclave(
        &[
            "sign",
            "draft.json",
            "--derive",
            "x/y",
            "--pkcs11",
            &uri,
            "-o",
            "x.sig",
        ],
        "",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = hsm.conclave(&["sign", "draft.json", "-o", "x.sig"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(hsm.listing(), before);
}

impl Hsm {
    fn generate_fails(&self, token: &str, object: &str) -> Outcome {
        let uri = self.uri(token, object);
        let o = self.conclave(
            &["key", "generate", "--pkcs11", &uri, "--passphrase-fd", "0"],
            &format!("{PIN}\n"),
        );
        assert_ne!(o.code, 0, "{}", o.stderr);
        o
    }
}

/// A key generated in a token with --ceremony-dir is recorded in the ceremony's transcript:
/// the token, the label and the keyid, never the PIN.
#[test]
fn token_key_generation_is_recorded_in_the_ceremony_transcript() {
    let hsm = Hsm::new();
    hsm.init_token("PyPI root A");
    let ceremony = tempfile::tempdir().unwrap();
    ok(&conclave_in(
        ceremony.path(),
        &[
            "transcript",
            "note",
            ".",
            "--step",
            "step 1: alice presented her token",
            "--officer",
            "alice",
        ],
        "",
    ));
    let uri = hsm.uri("PyPI root A", "alice 2026");
    let o = hsm.conclave(
        &[
            "--ceremony-dir",
            ceremony.path().to_str().unwrap(),
            "key",
            "generate",
            "--pkcs11",
            &uri,
            "--passphrase-fd",
            "0",
        ],
        &format!("{PIN}\n"),
    );
    ok(&o);
    let keyid = keyid_in(&o.stderr);
    let transcript = std::fs::read_to_string(ceremony.path().join("transcript.jsonl")).unwrap();
    let lines: Vec<&str> = transcript.lines().collect();
    assert_eq!(lines.len(), 2, "{transcript}");
    assert!(
        lines[1].contains("key generate --pkcs11")
            && lines[1].contains("alice 2026")
            && lines[1].contains(&keyid),
        "{}",
        lines[1]
    );
    assert!(!transcript.contains(PIN), "the PIN reached the transcript");
    ok(&conclave_in(
        ceremony.path(),
        &["transcript", "verify", "."],
        "",
    ));
}

// --- issue 19: every kind of key signs the transcript head; a wrong PIN is asked again --------

#[test]
fn a_softhsm_key_signs_the_transcript_head_through_the_same_code_as_sign() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let w = hsm.work();
    let o = hsm.conclave(
        &[
            "transcript",
            "note",
            ".",
            "--step",
            "alice presented her token",
        ],
        "",
    );
    ok(&o);
    let uri = hsm.uri("Root A", "alice");
    // The key's keyid is shown before the PIN is asked for, as `sign` shows it.
    let o = hsm.conclave(
        &[
            "transcript",
            "sign-head",
            ".",
            "--pkcs11",
            &uri,
            "--passphrase-fd",
            "0",
            "-o",
            "head.alice.sig",
        ],
        &format!("{PIN}\n"),
    );
    ok(&o);
    assert!(
        o.stderr
            .contains("Signing with key \"alice\" in token \"Root A\" (keyid"),
        "{}",
        o.stderr
    );
    assert!(w.join("head.alice.sig").is_file());
    // The head signature verifies, made with the token's key (named as the witness key here:
    // no plan lists it).
    let o = hsm.conclave(
        &[
            "transcript",
            "verify",
            ".",
            "--head-sig",
            "head.alice.sig",
            "--witness-key",
            "alice.pub",
        ],
        "",
    );
    ok(&o);
    assert!(
        o.stdout.contains("signed the head at line 1"),
        "{}",
        o.stdout
    );
    // A wrong PIN from --passphrase-fd is the same device error as in `sign`: at once, exit 3.
    let o = hsm.conclave(
        &[
            "transcript",
            "sign-head",
            ".",
            "--pkcs11",
            &uri,
            "--passphrase-fd",
            "0",
            "-o",
            "head.again.sig",
        ],
        &format!("0000-wrong\n{PIN}\n"),
    );
    device_error(&o, &["wrong PIN", "Root A"]);
    assert!(!w.join("head.again.sig").exists());
}

#[test]
fn a_wrong_pin_at_the_terminal_is_asked_again_with_what_the_token_says_of_its_tries() {
    let hsm = Hsm::new();
    hsm.with_draft();
    let uri = hsm.uri("Root A", "alice");
    let mut t = common::pty::Terminal::start_with(
        &hsm.work(),
        &format!(
            "{} sign draft.json --pkcs11 '{uri}' -o alice.sig",
            env!("CARGO_BIN_EXE_conclave")
        ),
        &[("SOFTHSM2_CONF", &hsm.conf)],
    );
    let prompt = "User PIN for token \"Root A\": ";
    t.wait_for(prompt, 1);
    t.type_keys("0000-wrong\r");
    t.wait_for(prompt, 2);
    let screen = t.screen();
    // What the token reports of its tries (SoftHSM2: only that they are low) comes before the
    // second prompt; the wrong PIN is never tried again by itself.
    assert!(
        screen.contains(
            "token \"Root A\": wrong PIN (the token reports its PIN tries are low, not how many \
             are left; tokens lock after repeated wrong PINs). Try again (2 more tries"
        ),
        "{screen}"
    );
    t.type_keys(&format!("{PIN}\r"));
    let (code, screen) = t.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains(PIN), "{screen}");
    assert!(hsm.work().join("alice.sig").is_file());
}

/// A key named by its CKA_ID alone (how Yubico's ykcs11 must be addressed: its public and
/// private objects carry different labels) is found and signs; an id no key has is refused,
/// named, before the PIN is asked for; a URI naming neither label nor id is a usage error.
#[test]
fn a_key_named_by_id_alone_signs_and_an_unknown_id_is_refused_before_the_pin() {
    let hsm = Hsm::new();
    hsm.init_token("Root A");
    let module = hsm.module.display().to_string();
    let gen_uri = format!("pkcs11:token=Root%20A;object=bob;id=%0B?module-path={module}");
    let g = hsm.conclave(
        &[
            "key",
            "generate",
            "--pkcs11",
            &gen_uri,
            "--type",
            "ecdsa-p256",
            "--passphrase-fd",
            "0",
        ],
        &format!("{PIN}\n"),
    );
    ok(&g);
    std::fs::write(hsm.work().join("bob.pub"), &g.stdout).unwrap();
    let k = |r: &str| format!("{r}=bob.pub");
    ok(&hsm.conclave(
        &[
            "root",
            "init",
            "--key",
            &k("root"),
            "--key",
            &k("targets"),
            "--key",
            &k("snapshot"),
            "--key",
            &k("timestamp"),
            "--expires",
            "365d",
            "-o",
            "draft.json",
        ],
        "",
    ));
    let o = hsm.sign(
        &format!("pkcs11:token=Root%20A;id=%0B?module-path={module}"),
        PIN,
        "bob.sig",
    );
    ok(&o);
    assert!(o.stderr.contains("key \"id=%0B\""), "{}", o.stderr);
    assert!(hsm.work().join("bob.sig").exists());

    let before = hsm.listing();
    let o = hsm.sign(
        &format!("pkcs11:token=Root%20A;id=%0C?module-path={module}"),
        PIN,
        "none.sig",
    );
    device_error(&o, &["no key labelled \"id=%0C\"", "Root A"]);
    assert!(!o.stderr.contains("User PIN"), "{}", o.stderr);
    assert_eq!(hsm.listing(), before);

    let o = hsm.sign(
        &format!("pkcs11:token=Root%20A?module-path={module}"),
        PIN,
        "none.sig",
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("id=%XX"), "{}", o.stderr);
    assert_eq!(hsm.listing(), before);
}
