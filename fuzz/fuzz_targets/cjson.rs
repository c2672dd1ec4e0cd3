//! The strict JSON reader and both writers.
//!
//! Whatever the reader accepts, the file writer must write back as JSON the reader accepts
//! and reads as the same value, and the canonical bytes (what is signed) must not change on
//! the way: otherwise re-saving a file would silently invalidate its signatures.
#![no_main]

use conclave::cjson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = cjson::parse(data) else {
        return;
    };
    let canonical = cjson::to_canonical(&value);
    let pretty = cjson::to_pretty(&value);
    let again = cjson::parse(&pretty).expect("what to_pretty writes must parse");
    assert_eq!(again, value, "parse(to_pretty(v)) != v");
    assert_eq!(
        cjson::to_canonical(&again),
        canonical,
        "canonical bytes changed"
    );
    assert_eq!(cjson::to_pretty(&again), pretty, "to_pretty is not stable");
});
