//! Enrolment records and attestation certificates: parsing and verification never panic, and
//! nothing verifies against Yubico's root unless its signatures do.
//!
//! The first byte picks the input kind: even, an enrolment record (JSON) checked against the
//! embedded Yubico root; odd, two DER certificates (slot, then device) split at a 2-byte
//! big-endian length.
#![no_main]

use conclave::attestation::{self, Anchor, Certificate, EnrolmentRecord, Which};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    if kind % 2 == 0 {
        if let Ok(record) = EnrolmentRecord::parse(rest) {
            // What is read must be written back the same way.
            let again = EnrolmentRecord::parse(&record.to_bytes()).expect("a parsed record re-parses");
            assert_eq!(again, record);
            let _ = record.verify(&Anchor::Yubico, Some(1), 0);
        }
        return;
    }
    if rest.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
    let (slot, device) = rest[2..].split_at(n);
    let (Ok(slot), Ok(device)) = (
        Certificate::from_der(slot, Which::Slot),
        Certificate::from_der(device, Which::Device),
    ) else {
        return;
    };
    let _ = slot.subject();
    let _ = device.fingerprint();
    let _ = attestation::verify_chain(&slot, &device, &Anchor::Yubico, 0);
});
