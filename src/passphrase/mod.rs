//! Diceware passphrases and the strength check for passphrases ([`strength`]).
//!
//! The word list is the EFF large word list (7,776 words, 12.9 bits each), by the Electronic
//! Frontier Foundation, CC BY 3.0 US, shipped inside the binary so that an air-gapped machine
//! needs nothing else. `eff_large_wordlist.txt` keeps EFF's dice numbers so officers can check
//! it against a printed copy, or roll physical dice instead of trusting the machine.

use std::sync::OnceLock;

use crate::secret::{Passphrase, random};

pub mod strength;

pub use strength::{Strength, Weakness, assess};

const WORDLIST: &str = include_str!("eff_large_wordlist.txt");

/// Default number of words: 8 words is about 103 bits.
pub const DEFAULT_WORDS: usize = 8;

/// Estimated bits a passphrase-derived key needs ([`assess`]). The public key is public, so
/// anyone can guess passphrases offline for as long as they like; Argon2id at 2 GiB per guess
/// slows that, but only a long random passphrase stops it. 7 diceware words is about 90 bits.
pub const MIN_DERIVED_BITS: f64 = 90.0;

/// Below this many bits a key file's new passphrase draws a warning (a key file is also
/// protected by being hard to get at; a derived key is not).
pub const WARN_KEY_FILE_BITS: f64 = 60.0;

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

/// A random diceware passphrase of `n` distinct words separated by spaces.
///
/// Each word is drawn uniformly from the words not yet used, so the passphrase has exactly
/// [`strength::diceware_bits`]`(n)` bits. A draw that the strength check would refuse anyway
/// (zxcvbn finds it far more guessable than its count, [`strength::DICEWARE_FLOOR`]; or it
/// holds both "yo-yo" and "yoyo") is drawn again; that happens for practically none and costs
/// a negligible fraction of a bit.
pub fn generate(n: usize) -> Result<Passphrase, crate::secret::RandomError> {
    loop {
        let p = draw(n)?;
        let s = strength::assess(&p);
        // Too few words are reported by the caller; a draw the check refuses is drawn again.
        let counted = s.basis == (strength::Basis::Diceware { words: n });
        if s.repeat.is_none() && (counted || (s.bits < MIN_DERIVED_BITS && n < 7)) {
            return Ok(p);
        }
    }
}

fn draw(n: usize) -> Result<Passphrase, crate::secret::RandomError> {
    let list = words();
    let mut out = String::new();
    let mut used: Vec<usize> = Vec::with_capacity(n);
    while used.len() < n.min(list.len()) {
        // Rejection sampling: 7776 does not divide 2^32, so draw until below the largest
        // multiple of 7776 to keep every word exactly equally likely.
        let limit = u32::MAX - (u32::MAX % list.len() as u32);
        let mut b = [0u8; 4];
        random(&mut b)?;
        let r = u32::from_le_bytes(b);
        if r >= limit {
            continue;
        }
        let index = r as usize % list.len();
        // Each word once: a repeated word is refused by the strength check.
        if used.contains(&index) {
            continue;
        }
        if !used.is_empty() {
            out.push(' ');
        }
        out.push_str(list[index]);
        used.push(index);
    }
    used.fill(0);
    Ok(Passphrase::new(out))
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
    fn generated_passphrases_have_distinct_words() {
        for n in [1, 7, DEFAULT_WORDS, 64] {
            let p = generate(n).unwrap();
            let w: Vec<&str> = p.expose().split(' ').collect();
            assert_eq!(w.len(), n);
            let mut sorted = w.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), n, "{n} words, each once");
            assert!(w.iter().all(|x| words().binary_search(x).is_ok()));
        }
    }
}
