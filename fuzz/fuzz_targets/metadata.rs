//! The metadata model: whatever loads must re-serialise to a file that loads again with the
//! same signed bytes (unknown fields included), so signatures survive a round trip.
#![no_main]

use conclave::metadata::AnyMetadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(md) = AnyMetadata::from_bytes(data) else {
        return;
    };
    let signed = md.signed_bytes();
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
