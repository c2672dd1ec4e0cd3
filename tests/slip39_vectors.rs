//! The official SLIP-0039 test vectors (vectors.json of trezor/python-shamir-mnemonic, at
//! commit 17fcce14, in tests/vectors/slip39/): each valid set gives its master secret with the
//! passphrase "TREZOR", each invalid one is refused, whether by a share's words (checksum,
//! padding, length) or by the set (mismatched parameters, too few shares, a bad digest).

use conclave::cjson::{self, Value};
use conclave::slip39::{self, Share};

fn text(v: &Value) -> &str {
    v.as_str().expect("a string in vectors.json")
}

#[test]
fn official_slip39_vectors() {
    let bytes = std::fs::read("tests/vectors/slip39/vectors.json").unwrap();
    let Value::Array(vectors) = cjson::parse(&bytes).unwrap() else {
        panic!("vectors.json is an array")
    };
    assert_eq!(vectors.len(), 45, "the whole official set");
    let (mut valid, mut invalid) = (0, 0);
    for v in &vectors {
        let Value::Array(fields) = v else { panic!() };
        let name = text(&fields[0]);
        let Value::Array(mnemonics) = &fields[1] else {
            panic!()
        };
        let expected = text(&fields[2]);
        let shares: Result<Vec<Share>, _> =
            mnemonics.iter().map(|m| Share::parse(text(m))).collect();
        let result = shares
            .map_err(|e| e.to_string())
            .and_then(|s| slip39::combine(&s, b"TREZOR").map_err(|e| e.to_string()));
        if expected.is_empty() {
            assert!(result.is_err(), "{name}: an invalid set was accepted");
            invalid += 1;
        } else {
            let secret = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(hex::encode(secret.expose()), expected, "{name}");
            valid += 1;
        }
    }
    assert_eq!((valid, invalid), (15, 30));
}

#[test]
fn a_mistyped_word_in_an_official_share_is_named() {
    // Vector 4's first share with its 9th word changed to another list word.
    let good = "shadow pistol academic always adequate wildlife fancy gross oasis cylinder \
                mustang wrist rescue view short owner flip making coding armed";
    let words: Vec<&str> = good.split(' ').collect();
    let mut bad = words.clone();
    bad[8] = "acid";
    match Share::parse(&bad.join(" ")) {
        Err(slip39::ShareError::Checksum(Some(slip))) => {
            assert_eq!(slip.position, 9);
            assert_eq!(slip.suggestion, Some(words[8]));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a changed word was accepted"),
    }
}
