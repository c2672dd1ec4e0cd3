//! SLIP-0039 shares (`key combine --from-shares`): parsing words and combining sets never
//! panics, and a share that parses writes back to the same words (lower-cased, single spaces).
//!
//! The input is text: shares one a line; every line is parsed, and the parsed ones combined.
#![no_main]

use conclave::slip39::{self, Share};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut shares = Vec::new();
    for line in text.lines() {
        if let Ok(share) = Share::parse(line) {
            let normal = line.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
            assert_eq!(share.words().as_str(), normal.as_str());
            shares.push(share);
        }
    }
    let _ = slip39::shares_missing(&shares);
    let _ = slip39::combine_encrypted(&shares);
});
