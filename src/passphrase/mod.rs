//! Diceware passphrases and the strength check for passphrase-derived keys.
//!
//! The word list is the EFF large word list (7,776 words, 12.9 bits each), by the Electronic
//! Frontier Foundation, CC BY 3.0 US, shipped inside the binary so that an air-gapped machine
//! needs nothing else. `eff_large_wordlist.txt` keeps EFF's dice numbers so officers can check
//! it against a printed copy, or roll physical dice instead of trusting the machine.

use std::sync::OnceLock;

use crate::secret::{Passphrase, random};

const WORDLIST: &str = include_str!("eff_large_wordlist.txt");

/// Default number of words: 8 words is about 103 bits.
pub const DEFAULT_WORDS: usize = 8;

/// Estimated bits a passphrase-derived key needs. The public key is public, so anyone can
/// guess passphrases offline for as long as they like; Argon2id at 2 GiB per guess slows
/// that, but only a long random passphrase stops it. 7 diceware words is about 90 bits.
pub const MIN_DERIVED_BITS: f64 = 90.0;

/// The 7,776 words, in dice order.
pub fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        WORDLIST
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(_, w)| w.trim()))
            .collect()
    })
}

/// A uniformly random diceware passphrase of `n` words separated by spaces.
pub fn generate(n: usize) -> Result<Passphrase, crate::secret::RandomError> {
    let list = words();
    let mut out = String::new();
    for i in 0..n {
        // Rejection sampling: 7776 does not divide 2^32, so draw until below the largest
        // multiple of 7776 to keep every word exactly equally likely.
        let limit = u32::MAX - (u32::MAX % list.len() as u32);
        let index = loop {
            let mut b = [0u8; 4];
            random(&mut b)?;
            let r = u32::from_le_bytes(b);
            if r < limit {
                break r as usize % list.len();
            }
        };
        if i > 0 {
            out.push(' ');
        }
        out.push_str(list[index]);
    }
    Ok(Passphrase::new(out))
}

/// A conservative estimate of a passphrase's entropy in bits.
///
/// - Words from the list (separated by spaces or hyphens): 12.9 bits per word.
/// - Other space-separated words: about 14 bits per word, as if each were drawn at random from
///   a 20,000-word vocabulary — generous for human-chosen phrases, which is why derived keys
///   should use generated ones.
/// - Anything else: log2 of the size of the character classes used, per character, at three
///   quarters: human-chosen strings are less random than their alphabet suggests.
pub fn estimate_bits(p: &Passphrase) -> f64 {
    let text = p.expose();
    let list = words();
    let parts: Vec<&str> = text.split([' ', '-']).filter(|w| !w.is_empty()).collect();
    if !parts.is_empty() && parts.iter().all(|w| list.binary_search(w).is_ok()) {
        return parts.len() as f64 * (list.len() as f64).log2();
    }
    let spaced: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    if spaced.len() > 1
        && spaced.iter().all(|w| {
            w.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        })
    {
        return spaced.len() as f64 * 20_000f64.log2();
    }
    let mut alphabet = 0u32;
    let chars: Vec<char> = text.chars().collect();
    if chars.iter().any(char::is_ascii_lowercase) {
        alphabet += 26;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        alphabet += 26;
    }
    if chars.iter().any(char::is_ascii_digit) {
        alphabet += 10;
    }
    if chars.iter().any(|c| c.is_ascii_punctuation() || *c == ' ') {
        alphabet += 33;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        alphabet += 100;
    }
    if alphabet == 0 {
        return 0.0;
    }
    chars.len() as f64 * f64::from(alphabet).log2() * 0.75
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_eff_large_list() {
        let w = words();
        assert_eq!(w.len(), 7776);
        assert_eq!(w[0], "abacus");
        assert_eq!(w[7775], "zoom");
        assert!(
            w.windows(2).all(|p| p[0] < p[1]),
            "sorted, so binary search works"
        );
    }

    #[test]
    fn long_random_strings_are_strong_enough() {
        // 20 random printable characters: about 131 bits in truth.
        let p = Passphrase::new("Xk9#mP2$vL5@nQ8&wR3!".into());
        assert!(estimate_bits(&p) >= MIN_DERIVED_BITS);
    }

    #[test]
    fn generated_passphrases_are_strong_enough() {
        let p = generate(DEFAULT_WORDS).unwrap();
        assert_eq!(p.expose().split(' ').count(), 8);
        assert!(estimate_bits(&p) > 100.0);
        assert!(estimate_bits(&generate(7).unwrap()) >= MIN_DERIVED_BITS);
        assert!(estimate_bits(&generate(6).unwrap()) < MIN_DERIVED_BITS);
    }

    #[test]
    fn weak_passphrases_score_low() {
        for weak in [
            "password",
            "correct horse battery staple",
            "Tr0ub4dor&3",
            "hunter2hunter2hunter2",
            "passwordpasswordpassword",
            "",
        ] {
            assert!(
                estimate_bits(&Passphrase::new(weak.into())) < MIN_DERIVED_BITS,
                "{weak}"
            );
        }
    }
}
