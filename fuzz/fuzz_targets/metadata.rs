//! The metadata model: whatever loads must re-serialise to a file that loads again with the
//! same signed bytes (unknown fields included), so signatures survive a round trip. The fast
//! path for delegations and the reader of large files in pieces must read exactly what the
//! ordinary reader reads, and the signed bytes handed on in pieces must be the bytes held
//! whole.
#![no_main]

use conclave::cjson;
use conclave::metadata::{AnyMetadata, SignedText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fast = AnyMetadata::from_bytes(data);
    let ordinary = cjson::parse(data)
        .map_err(conclave::metadata::LoadError::from)
        .and_then(AnyMetadata::from_value);
    match (&fast, &ordinary) {
        (Ok(a), Ok(b)) => assert_eq!(a.to_file_bytes(), b.to_file_bytes()),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("the fast and ordinary readers disagree"),
    }
    // The reader of large files in pieces, with small blocks so that pieces are cut: when it
    // reads the bytes at all, it reads what the ordinary reader reads.
    let block = data.first().map_or(1, |&b| usize::from(b % 64) + 1);
    if let Some(pieces) = conclave::metadata::streamed::read_bytes_in_pieces(data, block) {
        match &ordinary {
            Ok(b) => assert_eq!(pieces.to_file_bytes(), b.to_file_bytes()),
            Err(e) => panic!("read in pieces, but the ordinary reader says {e}"),
        }
    }
    let Ok(md) = fast else {
        return;
    };
    let signed = md.signed_bytes();
    assert_eq!(
        *SignedText::of_metadata(&md).whole(),
        *signed,
        "the signed text differs from the model's canonical bytes"
    );
    // The writer that hands large roles on in pieces gives the same bytes.
    if let AnyMetadata::Targets(t) = &md {
        use conclave::metadata::Role;
        let mut pieces = Vec::new();
        t.signed
            .stream_canonical(&mut |p| pieces.extend_from_slice(p));
        assert_eq!(pieces, signed, "streamed signed bytes differ");
    }
    let file = md.to_file_bytes();
    let again = AnyMetadata::from_bytes(&file).expect("what conclave writes must load");
    assert_eq!(again.type_name(), md.type_name());
    assert_eq!(
        again.signed_bytes(),
        signed,
        "signed bytes changed on a round trip"
    );
    assert_eq!(again.signatures(), md.signatures());
    assert_eq!(again.to_file_bytes(), file, "file bytes are not stable");
    // Exercised for panics only: keyids and key identities of whatever keys a root holds.
    if let AnyMetadata::Root(r) = &md {
        for key in r.signed.keys.values() {
            let _ = key.keyid();
            let _ = key.identity();
        }
    }
});
