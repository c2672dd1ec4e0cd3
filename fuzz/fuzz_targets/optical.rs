//! The CONCLAVE1: text reader (what a barcode scanner or a person types into `qr read`): no
//! panic on any input, and whatever decodes encodes again to a text that decodes to the same
//! signature file or request digest. Inputs starting with a 0 byte are raw records, given a
//! correct checksum first, so the fuzzer also reaches the record reader behind the checksum.
#![no_main]

use conclave::optical::{self, Transfer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sealed;
    let text = match data.split_first() {
        Some((0, record)) => {
            sealed = optical::seal_record(record);
            sealed.as_str()
        }
        _ => match std::str::from_utf8(data) {
            Ok(t) => t,
            Err(_) => return,
        },
    };
    let Ok(transfer) = optical::decode(text) else {
        return;
    };
    let again = match &transfer {
        Transfer::Signature(sig) => {
            let bytes = sig.to_bytes();
            let text = optical::encode_signature(&bytes).expect("a decoded signature encodes");
            let back = optical::decode(&text).expect("what conclave encodes must decode");
            if let Transfer::Signature(s) = &back {
                assert_eq!(s.to_bytes(), bytes, "a signature file changed on a round trip");
            }
            back
        }
        Transfer::Request(req) => {
            let text = optical::encode_request(req).expect("a decoded request encodes");
            optical::decode(&text).expect("what conclave encodes must decode")
        }
    };
    assert_eq!(again, transfer, "a record changed on a round trip");
});
