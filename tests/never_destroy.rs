//! Never destroy, through the real binary (issue 18, class 10): `sign -o` and `merge -o` never
//! replace a key file (damaged ones included), a signature file, or metadata that is not the
//! same merge target with no fewer signatures; a closed stdout ends a command quietly with
//! exit 141, never a panic; Ctrl-C at a passphrase prompt puts the terminal's echo back;
//! `qr read` refuses a role name a repository cannot hold before writing anything.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use conclave::metadata::{AnyMetadata, Metadata};
use conclave::signer::Signer;

/// The key file and draft of the attack corpus's control case (passphrase below).
const KEY_CASE: &str = "tests/vectors/attacks/control/valid-key-file-signs";
const KEY_PASS: &str = "correct horse battery staple attack";

/// A root draft (root keys 1 and 2, threshold 2) as `1.root.json`, and signatures over it by
/// keys 1 and 2 as `s1.sig` and `s2.sig`. `expires` makes other drafts of the same version.
fn root_round(d: &Path, name: &str, expires: &str) -> (String, String) {
    let (a, b, c) = (ed(1), ed(2), ed(3));
    let r = root(
        1,
        expires,
        &[
            ("root", &[&a as &dyn Signer, &b], 2),
            ("targets", &[&c], 1),
            ("snapshot", &[&c], 1),
            ("timestamp", &[&c], 1),
        ],
    );
    write(d, name, &Metadata::new(r));
    let any = AnyMetadata::from_bytes(&std::fs::read(d.join(name)).unwrap()).unwrap();
    let mut sigs = Vec::new();
    for (i, s) in [(1, &a), (2, &b)] {
        let file = format!("{name}.s{i}.sig");
        let bytes = conclave::ceremony::sign_detached(&any, "root", s, None)
            .unwrap()
            .to_bytes();
        std::fs::write(d.join(&file), bytes).unwrap();
        sigs.push(file);
    }
    (sigs[0].clone(), sigs[1].clone())
}

fn merge(d: &Path, args: &[&str]) -> Outcome {
    let mut all = vec!["merge"];
    all.extend(args);
    conclave_in(d, &all, "")
}

/// Refused with exit 2, `reason` on stderr, and the file at `out` exactly as it was.
fn refused(o: &Outcome, d: &Path, out: &str, before: &[u8], reason: &str) {
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(reason),
        "wanted {reason:?}:\n{}",
        o.stderr
    );
    assert!(o.stderr.contains("nothing was written"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_eq!(
        std::fs::read(d.join(out)).unwrap(),
        before,
        "{out} was changed"
    );
}

/// The control case's key file, damaged three ways, each as its own file.
fn damaged_key_files(d: &Path) -> Vec<(String, Vec<u8>)> {
    let key = std::fs::read(repo_root().join(KEY_CASE).join("key.json")).unwrap();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&key);
    let mut noted = key.clone();
    noted.extend_from_slice(b"\nbackup of alice's root key, made 2026-01-05\n");
    let truncated = key[..key.len() / 2].to_vec();
    let files = vec![
        ("bom.key".to_owned(), bom),
        ("noted.key".to_owned(), noted),
        ("truncated.key".to_owned(), truncated),
        ("whole.key".to_owned(), key),
    ];
    for (name, bytes) in &files {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    files
}

#[test]
fn sign_never_replaces_a_key_file_a_signature_or_anything_else() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let case = repo_root().join(KEY_CASE);
    std::fs::copy(case.join("root.json"), d.join("root.json")).unwrap();
    std::fs::copy(case.join("key.json"), d.join("key.json")).unwrap();
    let sign = |out: &str| {
        conclave_in(
            d,
            &[
                "sign",
                "root.json",
                "--key",
                "key.json",
                "--passphrase-fd",
                "0",
                "-o",
                out,
            ],
            &format!("{KEY_PASS}\n"),
        )
    };
    for (name, bytes) in damaged_key_files(d) {
        let o = sign(&name);
        refused(
            &o,
            d,
            &name,
            &bytes,
            &format!(
                "{name}: cannot write: it is a conclave key file, which conclave never overwrites"
            ),
        );
        // Refused before the key is unlocked: the passphrase is never asked for.
        assert!(!o.stderr.contains("Unlocking"), "{}", o.stderr);
    }
    let o = sign("first.sig");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let first = std::fs::read(d.join("first.sig")).unwrap();
    refused(
        &sign("first.sig"),
        d,
        "first.sig",
        &first,
        "first.sig: cannot write: a conclave signature file is already there",
    );
    std::fs::write(d.join("notes.txt"), b"the ceremony's notes\n").unwrap();
    refused(
        &sign("notes.txt"),
        d,
        "notes.txt",
        b"the ceremony's notes\n",
        "notes.txt: cannot write: it already exists, and a signature goes into a new file",
    );
}

#[test]
fn merge_replaces_only_the_same_target_with_no_fewer_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (s1, s2) = root_round(d, "1.root.json", FAR);

    // A key file (whole or damaged) and a signature file are never merge targets.
    for (name, bytes) in damaged_key_files(d) {
        refused(
            &merge(d, &["1.root.json", &s1, &s2, "-o", &name]),
            d,
            &name,
            &bytes,
            "it is a conclave key file, which conclave never overwrites",
        );
    }
    let sig = std::fs::read(d.join(&s1)).unwrap();
    refused(
        &merge(d, &["1.root.json", &s1, &s2, "-o", &s1]),
        d,
        &s1,
        &sig,
        "a conclave signature file is already there",
    );

    // Fully signed, then the same merge again: the same target, as many signatures.
    let o = merge(d, &["1.root.json", &s1, &s2, "-o", "signed.json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let full = std::fs::read(d.join("signed.json")).unwrap();
    let o = merge(d, &["1.root.json", &s1, &s2, "-o", "signed.json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read(d.join("signed.json")).unwrap(), full);

    // --allow-partial never puts a partly signed file in place of a fully signed one.
    let o = merge(
        d,
        &["1.root.json", &s1, "--allow-partial", "-o", "signed.json"],
    );
    refused(
        &o,
        d,
        "signed.json",
        &full,
        "that the merged file would not have (it meets every threshold; the merged file would not)",
    );

    // Signatures are added to a partly signed file by merging into it.
    let o = merge(
        d,
        &["1.root.json", &s1, "--allow-partial", "-o", "partial.json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = merge(d, &["partial.json", &s2, "-o", "partial.json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read(d.join("partial.json")).unwrap(), full);

    // Another draft (other signed bytes) never replaces the signed file.
    let (o1, o2) = root_round(d, "other.root.json", "2099-01-01T00:00:00Z");
    let o = merge(d, &["other.root.json", &o1, &o2, "-o", "signed.json"]);
    refused(
        &o,
        d,
        "signed.json",
        &full,
        "signed.json: cannot write: it holds other signed content",
    );
    // Nor does anything replace a file that is not metadata.
    std::fs::write(d.join("notes.txt"), b"not metadata\n").unwrap();
    let o = merge(d, &["1.root.json", &s1, &s2, "-o", "notes.txt"]);
    refused(
        &o,
        d,
        "notes.txt",
        b"not metadata\n",
        "it holds something that is not metadata",
    );
}

/// Run conclave with a stdout whose reader is already gone.
fn with_closed_stdout(d: &Path, args: &[&str], input: &str) -> Outcome {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = conclave();
    cmd.args(args)
        .current_dir(d)
        .env_remove("RUST_BACKTRACE")
        .stdout(writer);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes());
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_141_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (s1, s2) = root_round(d, "1.root.json", FAR);
    assert_eq!(
        merge(d, &["1.root.json", &s1, &s2, "-o", "signed.json"]).code,
        0
    );
    let case = repo_root().join(KEY_CASE);
    std::fs::copy(case.join("key.json"), d.join("key.json")).unwrap();
    for args in [
        &["passphrase", "generate"][..],
        &["--help"],
        &["sign", "--help"],
        &["key", "public", "key.json"],
        &["status", "signed.json"],
        &["inspect", "signed.json"],
        &["qr", "show", &s1],
    ] {
        let o = with_closed_stdout(d, args, "");
        assert_eq!(o.code, 141, "{args:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
        assert!(
            !o.stderr.contains("error:"),
            "quietly: {args:?}: {}",
            o.stderr
        );
    }
    // A command that writes a file finishes it (and says so by 141 alone).
    let o = with_closed_stdout(
        d,
        &[
            "key",
            "generate",
            "-o",
            "new.key",
            "--profile",
            "rfc9106-64mib",
            "--passphrase-fd",
            "0",
        ],
        &format!("{KEY_PASS}\n{KEY_PASS}\n"),
    );
    assert_eq!(o.code, 141, "{}", o.stderr);
    assert!(o.stderr.contains("Created new.key"), "{}", o.stderr);
    let written = std::fs::read(d.join("new.key")).unwrap();
    conclave::keystore::KeyFile::parse(&written).expect("the key file is whole");
    // A failure keeps its own exit code.
    let o = with_closed_stdout(d, &["status", "missing.json"], "");
    assert_eq!(o.code, 2, "{}", o.stderr);
    // Output to a full device is an I/O error, said once.
    let full = std::fs::File::create("/dev/full");
    if let Ok(full) = full {
        let out = conclave()
            .args(["passphrase", "generate"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error: cannot write to standard output"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Ctrl-C at the passphrase prompt, in a real terminal (a pseudo-terminal from `script`):
/// conclave exits "cancelled" (4), and `stty -a` run in the same terminal right after shows
/// echo, canonical mode and signal keys back on.
#[test]
fn ctrl_c_at_a_passphrase_prompt_restores_the_terminal() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_conclave");
    let shell = format!(
        "'{bin}' key derive --identity pypi.org/root/alice; echo \"rc=$?\"; stty -a; echo done"
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &shell, "/dev/null"])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs the command in a pseudo-terminal");
    let mut out = child.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let text = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let start = std::time::Instant::now();
    while !text().contains("New passphrase for derived key") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no prompt: {}",
            text()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Half a passphrase, then Ctrl-C.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"abacus abd\x03").unwrap();
    stdin.flush().unwrap();
    while !text().contains("done") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no end: {}",
            text()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(stdin);
    let _ = child.wait();
    let _ = reader.join();
    let screen = text();
    assert!(screen.contains("rc=4"), "cancelled: {screen}");
    assert!(screen.contains("error: cancelled"), "{screen}");
    assert!(!screen.contains("abacus"), "echoed: {screen}");
    let flags: Vec<&str> = screen.split_whitespace().collect();
    for on in ["echo", "icanon", "isig"] {
        assert!(flags.contains(&on), "{on} is off after Ctrl-C:\n{screen}");
        assert!(!flags.contains(&&*format!("-{on}")), "{screen}");
    }
}

/// A record as `qr read` takes it: a detached signature for `role` (its other fields valid).
fn signature_record(role: &[u8]) -> String {
    let key = ed(1);
    let mut r = vec![1u8, role.len() as u8];
    r.extend_from_slice(role);
    r.push(1); // version 1
    r.extend_from_slice(&[0x11; 32]); // payload digest
    r.push(0); // flags: Ed25519, keyid is the key's own
    r.extend_from_slice(&hex::decode(&*key.public_key().public()).unwrap());
    r.extend_from_slice(&[0u8; 64]); // R and a canonical S
    conclave::optical::seal_record(&r)
}

fn request_record(role: &[u8]) -> String {
    let mut r = vec![2u8, role.len() as u8];
    r.extend_from_slice(role);
    r.push(1);
    r.extend_from_slice(&[0x11; 32]);
    conclave::optical::seal_record(&r)
}

#[test]
fn qr_read_refuses_a_role_no_repository_can_hold_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The record builder above makes a text qr read accepts.
    let o = conclave_in(
        d,
        &["qr", "read", "-o", "ok.sig"],
        &format!("{}\n", signature_record(b"claimed")),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(d.join("ok.sig").exists());
    for (role, why) in [
        (&b""[..], "role name must not be empty"),
        (
            b"root\x1b[2J",
            "role name must not contain control characters",
        ),
        (
            b"claimed\n",
            "role name must not contain control characters",
        ),
        (b"\x7f", "role name must not contain control characters"),
        (b"../../etc/x", "role name must not contain path separators"),
        (b"..", "role name must not contain path separators"),
    ] {
        let o = conclave_in(
            d,
            &["qr", "read", "-o", "bad.sig"],
            &format!("{}\n", signature_record(role)),
        );
        assert_eq!(o.code, 1, "{role:?}: {}", o.stderr);
        assert!(o.stderr.contains(why), "{role:?}: {}", o.stderr);
        assert!(!d.join("bad.sig").exists(), "{role:?}: a file was written");
        let o = conclave_in(d, &["qr", "read"], &format!("{}\n", request_record(role)));
        assert_eq!(o.code, 1, "{role:?}: {}", o.stderr);
        assert!(o.stderr.contains(why), "{role:?}: {}", o.stderr);
        assert!(o.stdout.is_empty(), "{role:?}: {}", o.stdout);
    }
    // A malformed Ed25519 signature (S not a canonical scalar) is refused too.
    let key = ed(1);
    let mut r = vec![1u8, 7];
    r.extend_from_slice(b"claimed");
    r.push(1);
    r.extend_from_slice(&[0x11; 32]);
    r.push(0);
    r.extend_from_slice(&hex::decode(&*key.public_key().public()).unwrap());
    r.extend_from_slice(&[0xff; 64]);
    let text = conclave::optical::seal_record(&r);
    let o = conclave_in(d, &["qr", "read", "-o", "bad.sig"], &format!("{text}\n"));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("the signature is malformed"),
        "{}",
        o.stderr
    );
    assert!(!d.join("bad.sig").exists());
    // And an existing signature file is never replaced by a scanned one.
    let before = std::fs::read(d.join("ok.sig")).unwrap();
    let o = conclave_in(
        d,
        &["qr", "read", "-o", "ok.sig"],
        &format!("{}\n", signature_record(b"claimed")),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("a conclave signature file is already there"),
        "{}",
        o.stderr
    );
    assert_eq!(std::fs::read(d.join("ok.sig")).unwrap(), before);
}
