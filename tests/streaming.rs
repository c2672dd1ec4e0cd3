//! Large roles written and signed in pieces (`Metadata::write_file`,
//! `Metadata::sign_all_into_file`) give exactly the bytes of the whole-buffer path, and a
//! signature that does not verify leaves nothing written.

mod common;

use common::*;
use conclave::cjson::Value;
use conclave::metadata::{Expires, Key, Metadata, PRETTY_LIMIT, Targets};
use conclave::pypi::{ClaimRequest, claim};
use conclave::signer::{SignError, Signer};
use conclave::signer::{SignMetadata, WriteSignedError};

/// A claimed role with `n` projects (one developer key each): delegation keys and roles, the
/// lists the writer hands on in pieces.
fn claimed(n: usize) -> Targets {
    let requests = (0..n).map(|i| {
        let name = format!("project-{i}");
        let mut public = [0u8; 32];
        public[..8].copy_from_slice(&(i as u64).to_le_bytes());
        ClaimRequest {
            line: i + 1,
            original: name.clone(),
            project: name,
            keys: vec![Key::ed25519(&public)],
            threshold: th(1),
        }
    });
    claim(None, requests, Some(Expires::parse(FAR).unwrap()))
        .unwrap()
        .0
}

/// Large metadata with control characters to escape, unknown fields in `signed` and in the
/// envelope (one sorting before `signatures`, one after `signed`).
fn awkward_large() -> Metadata<Targets> {
    let mut t = claimed(6_000);
    for i in 0..200 {
        add_target(&mut t, &format!("odd\n\t\u{1}\"\\é-{i}.tar.gz"), b"x");
    }
    t.extra
        .insert("custom\u{7}".into(), Value::String("a\u{0}b".into()));
    let mut md = Metadata::new(t);
    md.extra.insert("aaa".into(), Value::String("\u{2}".into()));
    md.extra.insert("zzz".into(), Value::from(7i64));
    md
}

/// Write metadata to `path` as conclave does: atomically, streamed.
fn write_file(md: &Metadata<Targets>, path: &std::path::Path) {
    conclave::fsutil::write_atomic_with(path, &mut |out| md.write_to(out)).unwrap();
}

#[test]
fn streamed_files_are_the_bytes_of_the_whole_buffer_writer() {
    let dir = tempfile::tempdir().unwrap();
    let large = awkward_large();
    let small = signed(targets(3, FAR), &[&ed(1)]);
    assert!(large.signed_bytes().len() > 2 * PRETTY_LIMIT);
    assert!(small.signed_bytes().len() < PRETTY_LIMIT);
    let p = dir.path().join("large.json");
    write_file(&large, &p);
    let file = std::fs::read(&p).unwrap();
    assert!(file == large.to_file_bytes());
    // Compact (one newline, at the end), and it reads back to the same metadata, whose
    // signed text in the file is its canonical bytes with control characters escaped.
    assert_eq!(file.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(file.ends_with(b"}\n"));
    let back = Metadata::<Targets>::from_bytes(&file).unwrap();
    assert!(back == large);
    let (_, span) = conclave::cjson::parse_with_signed(&file).unwrap();
    let signed = conclave::cjson::canonical_of_span(&file, &span.unwrap())
        .expect("the signed text is canonical as written");
    assert!(*signed == *large.signed_bytes());
    let p = dir.path().join("small.json");
    write_file(&small, &p);
    assert_eq!(std::fs::read(&p).unwrap(), small.to_file_bytes());
}

#[test]
fn signing_in_passes_writes_what_signing_the_whole_message_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (ed(1), p256(2));
    for (name, md) in [
        ("large", awkward_large()),
        ("small", Metadata::new(targets(3, FAR))),
    ] {
        // An old signature by `a` is replaced; one by another key is kept.
        let mut whole = md.clone();
        whole.sign(&ed(3)).unwrap();
        whole.sign(&a).unwrap();
        let mut passes = whole.clone();
        whole.sign(&a).unwrap();
        whole.sign(&b).unwrap();
        let p = dir.path().join(format!("{name}.json"));
        passes.sign_all_into_file(&[&a, &b], &p).unwrap();
        assert!(passes == whole, "{name}: the signatures differ");
        assert!(
            std::fs::read(&p).unwrap() == whole.to_file_bytes(),
            "{name}"
        );
        let back = Metadata::<Targets>::from_bytes(&std::fs::read(&p).unwrap()).unwrap();
        for s in [&a as &dyn Signer, &b] {
            let sig = back
                .signatures
                .iter()
                .find(|x| x.keyid == s.public_key().keyid())
                .unwrap();
            s.public_key()
                .verify(&back.signed_bytes(), &sig.sig)
                .unwrap();
        }
    }
}

/// A signer whose key material does not belong to the public key it claims.
struct Mismatched {
    real: conclave::signer::Ed25519Signer,
    claimed: Key,
}

impl Signer for Mismatched {
    fn public_key(&self) -> &Key {
        &self.claimed
    }
    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.real.sign_raw(message)
    }
    fn sign_message(&self, message: &dyn conclave::pieces::Message) -> Result<Vec<u8>, SignError> {
        self.real.sign_message(message)
    }
}

#[test]
fn a_signature_that_does_not_verify_leaves_the_file_and_the_metadata_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("claimed.json");
    std::fs::write(&p, b"the previous version").unwrap();
    let bad = Mismatched {
        real: ed(5),
        claimed: ed(6).public_key().clone(),
    };
    let good = ed(1);
    for md in [awkward_large(), Metadata::new(targets(3, FAR))] {
        let mut md = md;
        let before = md.clone();
        let err = md.sign_all_into_file(&[&good, &bad], &p).unwrap_err();
        assert!(
            matches!(
                err,
                WriteSignedError::Sign(SignError::SelfCheckFailed { .. })
            ),
            "{err}"
        );
        assert!(md == before);
        assert_eq!(std::fs::read(&p).unwrap(), b"the previous version");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

/// A repository whose claimed role (two admins, threshold 2) is large enough for
/// `conclave verify` to read it in pieces; snapshot records its length and sha256. Returns
/// the claimed file's path.
fn large_repo(dir: &std::path::Path) -> std::path::PathBuf {
    use conclave::metadata::{Snapshot, Timestamp, streamed::STREAM_MIN};
    let (rk, tk, a1, a2) = (ed(1), ed(2), ed(3), ed(4));
    let r = root(
        1,
        FAR,
        &[
            ("root", &[&rk], 1),
            ("targets", &[&tk], 1),
            ("snapshot", &[&tk], 1),
            ("timestamp", &[&tk], 1),
        ],
    );
    write(dir, "1.root.json", &signed(r, &[&rk]));
    let mut t = targets(1, FAR);
    delegate(&mut t, "claimed", &[&a1, &a2], 2, &["*/*"], true);
    let targets_bytes = write(dir, "targets.json", &signed(t, &[&tk]));
    let mut claimed = Metadata::new(claimed(48_000));
    let path = dir.join("claimed.json");
    claimed.sign_all_into_file(&[&a1, &a2], &path).unwrap();
    let claimed_bytes = std::fs::read(&path).unwrap();
    assert!(claimed_bytes.len() as u64 >= STREAM_MIN);
    let mut s = Snapshot {
        common: common(1, FAR),
        meta: Default::default(),
        extra: Default::default(),
    };
    s.meta
        .insert("targets.json".into(), meta_for(1, &targets_bytes));
    s.meta
        .insert("claimed.json".into(), meta_for(1, &claimed_bytes));
    let snapshot_bytes = write(dir, "snapshot.json", &signed(s, &[&tk]));
    let mut ts = Timestamp {
        common: common(1, FAR),
        meta: Default::default(),
        extra: Default::default(),
    };
    ts.meta
        .insert("snapshot.json".into(), meta_for(1, &snapshot_bytes));
    write(dir, "timestamp.json", &signed(ts, &[&tk]));
    path
}

fn verify_dir(dir: &std::path::Path) -> Outcome {
    run(conclave().arg("verify").arg(dir))
}

#[test]
fn conclave_verify_reads_a_large_claimed_role_in_pieces_with_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let claimed = large_repo(dir.path());
    let o = verify_dir(dir.path());
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("2 of 2"), "{}", o.stdout);
    // The file on its own, too.
    let o = run(conclave().arg("verify").arg(&claimed));
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);

    let original = std::fs::read(&claimed).unwrap();
    // One project's path pattern changed, same length and shape: read in pieces, the
    // admins' signatures no longer verify and snapshot's hash no longer matches.
    let at = original
        .windows(16)
        .position(|w| w == b"\"project-4711/*\"")
        .unwrap();
    let mut tampered = original.clone();
    tampered[at + 9] = b'2';
    std::fs::write(&claimed, &tampered).unwrap();
    let o = verify_dir(dir.path());
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("hash-mismatch"), "{}", o.stderr);
    assert!(
        o.stderr
            .lines()
            .any(|l| l.contains("claimed.json") && l.contains("threshold")),
        "{}",
        o.stderr
    );

    // A space added between two entries: no longer the shape read in pieces, so it is read
    // whole; the signatures still verify over the canonical form, but snapshot's length
    // and hash do not match.
    let at = original.windows(3).position(|w| w == b"},{").unwrap();
    let mut spaced = original[..=at].to_vec();
    spaced.push(b' ');
    spaced.extend_from_slice(&original[at + 1..]);
    std::fs::write(&claimed, &spaced).unwrap();
    let o = verify_dir(dir.path());
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("length-mismatch"), "{}", o.stderr);
    assert!(!o.stderr.contains("threshold"), "{}", o.stderr);

    // Cut short: one clear error naming the file.
    std::fs::write(&claimed, &original[..original.len() / 2]).unwrap();
    let o = verify_dir(dir.path());
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .lines()
            .any(|l| l.contains("claimed.json") && l.contains("malformed")),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

const PASS: &str = "large role passphrase for tests";

/// An admin key file `NAME.key` (passphrase [`PASS`]) and its public key.
fn admin_key(dir: &std::path::Path, name: &str) -> Key {
    generate_key_file(dir, name, PASS);
    let o = conclave_in(dir, &["key", "public", &format!("{name}.key")], "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    Key::from_json(conclave::cjson::parse(o.stdout.as_bytes()).unwrap()).unwrap()
}

/// `sign`, `status` and `merge` on a claimed role large enough to be read in pieces: the
/// signatures verify over the canonical bytes computed whole, by the library, independently
/// of the pieces; a signature over another draft is refused.
#[test]
fn the_signing_round_on_a_large_claimed_role_reads_it_in_pieces() {
    use conclave::metadata::streamed::STREAM_MIN;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a1, a2) = (admin_key(dir, "admin1"), admin_key(dir, "admin2"));
    let tk = ed(2);
    let mut t = targets(1, FAR);
    use conclave::metadata::{DelegatedRole, DelegationRoles, Delegations, RoleName, RolePaths};
    t.delegations = Some(Delegations {
        keys: [(a1.keyid(), a1.clone()), (a2.keyid(), a2.clone())].into(),
        roles: DelegationRoles::List(vec![DelegatedRole {
            name: RoleName::delegated("claimed").unwrap(),
            keyids: vec![a1.keyid(), a2.keyid()],
            threshold: th(2),
            terminating: Some(true),
            paths: RolePaths::Patterns(vec!["*/*".into()]),
            extra: Default::default(),
        }]),
        extra: Default::default(),
    });
    write(dir, "targets.json", &signed(t, &[&tk]));
    let draft = Metadata::new(claimed(48_000));
    write_file(&draft, &dir.join("draft.json"));
    assert!(std::fs::metadata(dir.join("draft.json")).unwrap().len() >= STREAM_MIN);
    let whole = draft.signed_bytes();

    let sign = |key: &str, out: &str| {
        conclave_in(
            dir,
            &[
                "sign",
                "draft.json",
                "--role",
                "claimed",
                "--delegator",
                "targets.json",
                "--key",
                key,
                "--passphrase-fd",
                "0",
                "-o",
                out,
            ],
            &format!("{PASS}\n"),
        )
    };
    for (key, out) in [("admin1.key", "a1.sig"), ("admin2.key", "a2.sig")] {
        let o = sign(key, out);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let sig1 =
        conclave::ceremony::DetachedSignature::parse(&std::fs::read(dir.join("a1.sig")).unwrap())
            .unwrap();
    assert_eq!(
        sig1.payload_sha256,
        conclave::ceremony::detached::payload_digest(&whole)
    );
    a1.verify(&whole, &sig1.signature.sig).unwrap();

    let o = conclave_in(
        dir,
        &[
            "status",
            "draft.json",
            "--role",
            "claimed",
            "--delegator",
            "targets.json",
        ],
        "",
    );
    // The two signature files beside the draft are counted (not merged).
    assert!(
        o.stdout.contains("2 of 2 needed") && o.stdout.contains("counted, not merged"),
        "{}\n{}",
        o.stdout,
        o.stderr
    );

    let merge = |out: &str| {
        conclave_in(
            dir,
            &[
                "merge",
                "draft.json",
                "a1.sig",
                "a2.sig",
                "--role",
                "claimed",
                "--delegator",
                "targets.json",
                "-o",
                out,
            ],
            "",
        )
    };
    let o = merge("claimed.json");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let merged =
        Metadata::<Targets>::from_bytes(&std::fs::read(dir.join("claimed.json")).unwrap()).unwrap();
    assert_eq!(merged.signed, draft.signed);
    assert_eq!(merged.signatures.len(), 2);
    for s in &merged.signatures {
        let key = if s.keyid == a1.keyid() { &a1 } else { &a2 };
        key.verify(&whole, &s.sig).unwrap();
    }

    // The draft changed after signing (one project's path): both signatures are refused
    // and nothing is written.
    let mut text = std::fs::read(dir.join("draft.json")).unwrap();
    let at = text
        .windows(16)
        .position(|w| w == b"\"project-4711/*\"")
        .unwrap();
    text[at + 9] = b'2';
    std::fs::write(dir.join("draft.json"), &text).unwrap();
    let o = merge("again.json");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("signs other content"), "{}", o.stderr);
    assert!(!dir.join("again.json").exists());
}
