//! Key file headers: parsing never panics, allocates by the file's say-so or runs the KDF.
//! (Unsealing is not fuzzed: every attempt would run Argon2id over 64 MiB or more.)
#![no_main]

use conclave::keystore::KeyFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(kf) = KeyFile::parse(data) {
        let _ = kf.public_key().keyid();
        let p = kf.profile();
        assert!(
            conclave::kdf::Profile::matching(
                i64::from(p.t_cost),
                i64::from(p.m_cost_kib),
                i64::from(p.p_cost)
            )
            .is_some(),
            "a key file was accepted with parameters outside the allowlist"
        );
    }
});
