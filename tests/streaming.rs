//! Large roles written and signed in pieces (`Metadata::write_file`,
//! `Metadata::sign_all_into_file`) give exactly the bytes of the whole-buffer path, and a
//! signature that does not verify leaves nothing written.

mod common;

use common::*;
use conclave::cjson::Value;
use conclave::metadata::{Expires, Key, Metadata, PRETTY_LIMIT, Targets, WriteSignedError};
use conclave::pypi::{ClaimRequest, claim_each};
use conclave::signer::{SignError, Signer};

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
    claim_each(None, requests, Some(Expires::parse(FAR).unwrap()))
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

#[test]
fn streamed_files_are_the_bytes_of_the_whole_buffer_writer() {
    let dir = tempfile::tempdir().unwrap();
    let large = awkward_large();
    let small = signed(targets(3, FAR), &[&ed(1)]);
    assert!(large.signed_bytes().len() > 2 * PRETTY_LIMIT);
    assert!(small.signed_bytes().len() < PRETTY_LIMIT);
    let p = dir.path().join("large.json");
    large.write_file(&p).unwrap();
    let file = std::fs::read(&p).unwrap();
    assert!(file == large.to_file_bytes());
    // Compact (one newline, at the end), and it reads back to the same metadata, whose
    // signed text in the file is its canonical bytes with control characters escaped.
    assert_eq!(file.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(file.ends_with(b"}\n"));
    let (back, span) = Metadata::<Targets>::from_bytes_with_span(&file).unwrap();
    assert!(back == large);
    let signed = conclave::cjson::canonical_of_span(&file, &span.unwrap())
        .expect("the signed text is canonical as written");
    assert!(*signed == *large.signed_bytes());
    let p = dir.path().join("small.json");
    small.write_file(&p).unwrap();
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
    fn sign_message(
        &self,
        message: &dyn conclave::signer::stream::Message,
    ) -> Result<Vec<u8>, SignError> {
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
