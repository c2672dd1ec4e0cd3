//! Detached signature files: whatever parses must write back to a file that parses to the
//! same signature.
#![no_main]

use conclave::ceremony::detached::DetachedSignature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sig) = DetachedSignature::parse(data) else {
        return;
    };
    let bytes = sig.to_bytes();
    let again = DetachedSignature::parse(&bytes).expect("what conclave writes must parse");
    assert_eq!(again, sig, "a signature file changed on a round trip");
});
