//! How many guesses a passphrase would cost an attacker, and what makes it weak.
//!
//! A derived key's public key is published, so anyone may try passphrases against it offline
//! for as long as they like; a key file's thief can do the same. Counting characters or
//! character classes says nothing about that: "horse horse horse horse horse horse horse
//! horse" is 47 characters and one guess from a list of single words. So the estimate is made
//! the way cracking tools work:
//!
//! - **Repeats are refused outright**, whatever their length: the same word twice (also with a
//!   digit added, other capitals or l33t spelling), a passphrase that is one unit repeated
//!   ("abcabcabc", "hunter2hunter2"), the same character four or more times in a row.
//! - **Generated passphrases** (distinct words of the built-in list separated by single spaces,
//!   as [`super::generate`] and EFF's dice make them) are counted exactly: the n-th word is one
//!   of 7,776 - (n-1) words. That count only holds if the words were drawn at random, so they
//!   must also pass a floor of zxcvbn's estimate ([`DICEWARE_FLOOR`]): seven words a person
//!   picked because they come to mind ("happy sunny garden flower...") do not, while random
//!   draws practically always do (and [`super::generate`] redraws the rare one that does not).
//! - **Anything else** is estimated with zxcvbn (Dropbox's estimator: dictionaries of common
//!   passwords, words and names; keyboard walks; dates and years; l33t; sequences; repeats), and
//!   the estimate is log2 of its guesses. zxcvbn counts guesses in a 64-bit integer, so above
//!   2^64 it only says "at least": the passphrase is then estimated in pieces of at most
//!   [`PIECE`] characters, whitespace-separated words apart and the separators not counted,
//!   cut where the total is lowest. What zxcvbn would find across pieces (a repeat) it finds in
//!   the whole-passphrase run, and the lower of the two estimates is taken.
//!
//! zxcvbn copies what it is given into its own buffers, which are not zeroized when freed;
//! the pieces conclave makes are. The check runs once per prompt, in a process that cannot
//! dump core ([`crate::secret::harden_process`]).

use zeroize::Zeroizing;

use crate::secret::Passphrase;

/// The longest piece given to zxcvbn in one go: 18 characters of random digits are 10^18
/// guesses, below zxcvbn's 64-bit ceiling, so no piece's estimate is cut short.
pub const PIECE: usize = 18;

/// Characters beyond these add nothing to the estimate (they are still checked for repeats).
/// 256 characters already hold far more than any target when they are not a pattern.
pub(crate) const MAX_ESTIMATED_CHARS: usize = 256;

/// The least zxcvbn estimate (in pieces) a passphrase of list words needs before it is counted
/// as drawn at random. Of 20,000 random seven-word draws none scored below 63 bits, while seven
/// common words a person picks score around 55.
pub const DICEWARE_FLOOR: f64 = 60.0;

/// Runs of the same character at least this long are refused.
const RUN: usize = 4;

/// Above this many bits zxcvbn's count may have hit its 64-bit ceiling.
const ZXCVBN_CEILING: f64 = 63.0;

/// Only this many characters are searched for a repeating unit (the search is quadratic).
const MAX_PERIOD_CHARS: usize = 4096;

/// How a passphrase's bits were counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Distinct words of the built-in list, counted as random draws.
    Diceware {
        /// How many words.
        words: usize,
    },
    /// zxcvbn's estimate.
    Estimated,
}

/// A kind of predictable pattern zxcvbn found in the passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pattern {
    /// Common passwords, words or names (also reversed, capitalised or in l33t).
    CommonWords,
    /// Keys next to each other on a keyboard.
    KeyboardPattern,
    /// A repeated character or group of characters.
    Repeat,
    /// A sequence such as "abcd" or "6543".
    Sequence,
    /// A date.
    Date,
    /// A recent year.
    Year,
}

impl Pattern {
    fn describe(self) -> &'static str {
        match self {
            Pattern::CommonWords => "common words or passwords",
            Pattern::KeyboardPattern => "a keyboard pattern",
            Pattern::Repeat => "repeated characters",
            Pattern::Sequence => "a sequence like abcd or 6543",
            Pattern::Date => "a date",
            Pattern::Year => "a year",
        }
    }
}

/// Why a passphrase is weak. The text never quotes the passphrase, only positions and kinds.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Weakness {
    /// The same word twice, also with small changes (case, a digit added, l33t).
    #[error("it uses the same word twice (words {first} and {second}), which adds almost nothing")]
    RepeatedWord {
        /// 1-based position of the first use, counting whitespace-separated words.
        first: usize,
        /// 1-based position of the repeat.
        second: usize,
    },
    /// The whole passphrase is one unit repeated.
    #[error("it is the same {} repeated, which is as easy to guess as one of them",
        if *.period == 1 { "character" } else { "group of characters" })]
    RepeatedCharacters {
        /// The length of the repeated unit, in characters.
        period: usize,
    },
    /// The same character many times in a row.
    #[error("it has the same character {run} times in a row")]
    CharacterRun {
        /// How many times.
        run: usize,
    },
    /// Below the target.
    #[error("{}", low_message(*.bits, *.needed, .basis, .patterns, .warning.as_deref()))]
    Low {
        /// The estimate.
        bits: f64,
        /// The target.
        needed: f64,
        /// How the estimate was made.
        basis: Basis,
        /// What zxcvbn found.
        patterns: Vec<Pattern>,
        /// zxcvbn's own warning, when it gave one.
        warning: Option<String>,
    },
}

fn low_message(
    bits: f64,
    needed: f64,
    basis: &Basis,
    patterns: &[Pattern],
    warning: Option<&str>,
) -> String {
    let mut s = match basis {
        Basis::Diceware { words } => format!(
            "{words} random words from the list are about {bits:.0} bits; at least {needed:.0} are needed"
        ),
        Basis::Estimated => format!(
            "the zxcvbn estimator puts it at about {bits:.0} bits; at least {needed:.0} are needed"
        ),
    };
    // What zxcvbn found in random words is beside the point: their count is exact.
    if !patterns.is_empty() && *basis == Basis::Estimated {
        let kinds: Vec<&str> = patterns.iter().map(|p| p.describe()).collect();
        s.push_str(&format!(" (it found {})", kinds.join(", ")));
    }
    if let Some(w) = warning {
        s.push_str(&format!(". zxcvbn: {}", w.trim_end_matches('.')));
    }
    s
}

/// What the estimate of one passphrase found.
#[derive(Clone, Debug)]
pub struct Strength {
    /// Estimated bits: log2 of the guesses an attacker needs.
    pub bits: f64,
    /// How `bits` was counted.
    pub basis: Basis,
    /// A repeat that makes the passphrase weak whatever its length.
    pub repeat: Option<Weakness>,
    /// The kinds of pattern zxcvbn found, in a fixed order, each once.
    pub patterns: Vec<Pattern>,
    /// zxcvbn's warning, for weak passphrases.
    pub warning: Option<String>,
    /// zxcvbn's suggestions, for weak passphrases.
    pub suggestions: Vec<String>,
}

impl Strength {
    /// `Ok` when the passphrase has no repeat and at least `needed` bits.
    pub fn check(&self, needed: f64) -> Result<(), Weakness> {
        if let Some(r) = &self.repeat {
            return Err(r.clone());
        }
        if self.bits < needed {
            return Err(Weakness::Low {
                bits: self.bits,
                needed,
                basis: self.basis,
                patterns: self.patterns.clone(),
                warning: self.warning.clone(),
            });
        }
        Ok(())
    }
}

/// Estimate `p` (see the module docs).
pub fn assess(p: &Passphrase) -> Strength {
    let text = p.expose();
    let whole = zxcvbn::zxcvbn(text, &[]);
    let whole_bits = bits_of(&whole);
    let mut patterns = patterns_in(whole.sequence());
    let feedback = whole.feedback();
    let warning = feedback.and_then(|f| f.warning()).map(|w| w.to_string());
    let suggestions = feedback
        .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    // Words first: "horse horse horse" is better told as a word than as a repeated group.
    let repeat = repeated_word(text)
        .or_else(|| repeated_unit(text))
        .or_else(|| character_run(text));

    // Below the ceiling zxcvbn's count is exact, and below any target: no need for pieces.
    let (mut bits, basis) = if whole_bits < ZXCVBN_CEILING {
        (whole_bits, Basis::Estimated)
    } else {
        let (pieces, found) = estimate_in_pieces(text);
        patterns.extend(found);
        match diceware_words(text) {
            Some(n) if pieces >= DICEWARE_FLOOR => (diceware_bits(n), Basis::Diceware { words: n }),
            _ => (pieces, Basis::Estimated),
        }
    };
    if repeat.is_some() {
        // A repeat is refused whatever the count; say how little it is worth.
        bits = bits.min(whole_bits);
    }
    patterns.sort();
    patterns.dedup();
    Strength {
        bits,
        basis,
        repeat,
        patterns,
        warning,
        suggestions,
    }
}

/// log2 of zxcvbn's guesses.
fn bits_of(e: &zxcvbn::Entropy) -> f64 {
    if e.guesses() == 0 {
        return 0.0;
    }
    (e.guesses_log10() * std::f64::consts::LOG2_10).max(0.0)
}

fn patterns_in(sequence: &[zxcvbn::matching::Match]) -> Vec<Pattern> {
    use zxcvbn::matching::patterns::MatchPattern as M;
    sequence
        .iter()
        .filter_map(|m| match &m.pattern {
            M::Dictionary(_) => Some(Pattern::CommonWords),
            M::Spatial(_) => Some(Pattern::KeyboardPattern),
            M::Repeat(_) => Some(Pattern::Repeat),
            M::Sequence(_) => Some(Pattern::Sequence),
            M::Regex(_) => Some(Pattern::Year),
            M::Date(_) => Some(Pattern::Date),
            M::BruteForce => None,
        })
        .collect()
}

/// zxcvbn's estimate, made in pieces so that no piece reaches its 64-bit ceiling: each
/// whitespace-separated word is cut into pieces of at most [`PIECE`] characters where the sum
/// of their estimates is lowest (the separators are not counted). Also the patterns found in
/// the chosen pieces.
fn estimate_in_pieces(text: &str) -> (f64, Vec<Pattern>) {
    let mut total = 0.0;
    let mut patterns = Vec::new();
    let mut budget = MAX_ESTIMATED_CHARS;
    for word in text.split_whitespace() {
        if budget == 0 {
            break;
        }
        let chars: Zeroizing<Vec<char>> = Zeroizing::new(word.chars().take(budget).collect());
        budget -= chars.len();
        let (bits, found) = cheapest_cut(&chars);
        total += bits;
        patterns.extend(found);
    }
    (total, patterns)
}

/// The cut of `chars` into pieces of at most [`PIECE`] characters whose zxcvbn estimates add
/// up to the least (a shortest path over the cut points), and the patterns in those pieces.
fn cheapest_cut(chars: &[char]) -> (f64, Vec<Pattern>) {
    let n = chars.len();
    // best[j]: the least total for chars[..j], and where its last piece starts.
    let mut best: Vec<(f64, usize)> = vec![(f64::INFINITY, 0); n + 1];
    best[0] = (0.0, 0);
    for j in 1..=n {
        for i in j.saturating_sub(PIECE)..j {
            let piece: Zeroizing<String> = Zeroizing::new(chars[i..j].iter().collect());
            let cost = best[i].0 + bits_of(&zxcvbn::zxcvbn(&piece, &[]));
            if cost < best[j].0 {
                best[j] = (cost, i);
            }
        }
    }
    let mut patterns = Vec::new();
    let mut j = n;
    while j > 0 {
        let i = best[j].1;
        let piece: Zeroizing<String> = Zeroizing::new(chars[i..j].iter().collect());
        patterns.extend(patterns_in(zxcvbn::zxcvbn(&piece, &[]).sequence()));
        j = i;
    }
    (best[n].0, patterns)
}

/// The number of words, when `text` is distinct words of the built-in list separated by
/// single spaces (the form [`super::generate`] writes).
fn diceware_words(text: &str) -> Option<usize> {
    let list = super::words();
    let words: Vec<&str> = text.split(' ').collect();
    let mut seen = std::collections::BTreeSet::new();
    words
        .iter()
        .all(|w| list.binary_search(w).is_ok() && seen.insert(*w))
        .then_some(words.len())
}

/// Exact bits of `n` distinct words drawn at random from the list: log2(7776 * 7775 * ...).
pub fn diceware_bits(n: usize) -> f64 {
    let list = super::words().len();
    (0..n.min(list)).map(|i| ((list - i) as f64).log2()).sum()
}

/// Characters that people put in words for letters (l33t), and what they stand for; any other
/// non-alphanumeric character separates words.
fn unl33t(c: char) -> Option<char> {
    Some(match c {
        '4' | '@' => 'a',
        '8' => 'b',
        '(' | '{' | '[' | '<' => 'c',
        '3' => 'e',
        '6' | '9' => 'g',
        '1' | '!' | '|' => 'i',
        '0' => 'o',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '%' => 'x',
        '2' => 'z',
        _ => return None,
    })
}

/// A word as a guesser would try it: lower case, digits and symbols around it dropped, l33t
/// inside it read as letters.
fn normalise(word: &str) -> Zeroizing<String> {
    let trimmed = word.trim_matches(|c: char| !c.is_alphabetic());
    let mut out = Zeroizing::new(String::new());
    for c in trimmed.chars() {
        if c.is_alphabetic() {
            out.extend(c.to_lowercase());
        } else if let Some(l) = unl33t(c) {
            out.push(l);
        }
    }
    out
}

/// The same word twice: whitespace-separated words, each split further at separators
/// (characters that are neither letters, digits nor l33t) unless it is a word of the list
/// ("drop-down" stays one word), compared once normalised ([`normalise`]). Words shorter than
/// three letters ("a", "I") are not compared.
fn repeated_word(text: &str) -> Option<Weakness> {
    let list = super::words();
    let mut seen: Vec<(Zeroizing<String>, usize)> = Vec::new();
    for (index, token) in text.split_whitespace().enumerate() {
        let position = index + 1;
        let parts: Vec<&str> = if list.binary_search(&token).is_ok() {
            vec![token]
        } else {
            token
                .split(|c: char| !c.is_alphanumeric() && unl33t(c).is_none())
                .collect()
        };
        for part in parts {
            let norm = normalise(part);
            if norm.chars().count() < 3 {
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(w, _)| *w == norm) {
                return Some(Weakness::RepeatedWord {
                    first: *first,
                    second: position,
                });
            }
            seen.push((norm, position));
        }
    }
    None
}

/// The whole passphrase (case aside) is one unit repeated, the last copy possibly cut short:
/// "abcabcab", "Hunter2hunter2".
fn repeated_unit(text: &str) -> Option<Weakness> {
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(
        text.chars()
            .take(MAX_PERIOD_CHARS)
            .flat_map(char::to_lowercase)
            .collect(),
    );
    let n = chars.len();
    (1..=n / 2)
        .find(|&p| (p..n).all(|i| chars[i] == chars[i - p]))
        .map(|period| Weakness::RepeatedCharacters { period })
}

/// The same character [`RUN`] or more times in a row (spaces aside).
fn character_run(text: &str) -> Option<Weakness> {
    let mut longest = 0;
    let mut run = 0;
    let mut last = None;
    for c in text.chars() {
        if c.is_whitespace() {
            run = 0;
            last = None;
            continue;
        }
        run = if last == Some(c) { run + 1 } else { 1 };
        last = Some(c);
        longest = longest.max(run);
    }
    (longest >= RUN).then_some(Weakness::CharacterRun { run: longest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passphrase::{DEFAULT_WORDS, MIN_DERIVED_BITS, generate, words};

    fn strength(s: &str) -> Strength {
        assess(&Passphrase::new(s.to_owned()))
    }

    fn refused(s: &str) -> Weakness {
        match strength(s).check(MIN_DERIVED_BITS) {
            Err(w) => w,
            Ok(()) => panic!("{s:?} was accepted ({:.1} bits)", strength(s).bits),
        }
    }

    #[test]
    fn a_word_repeated_eight_times_is_refused() {
        for s in [
            "horse horse horse horse horse horse horse horse",
            "abacus abacus abacus abacus abacus abacus abacus abacus",
            "Horse horse1 h0rse HORSE! horse2 horse3 horse4 horse5",
            "staple-battery staple-battery staple-battery staple-battery",
        ] {
            assert!(
                matches!(
                    refused(s),
                    Weakness::RepeatedWord {
                        first: 1,
                        second: 2
                    }
                ),
                "{s}: {}",
                refused(s)
            );
        }
        assert_eq!(
            refused("horse horse horse").to_string(),
            "it uses the same word twice (words 1 and 2), which adds almost nothing"
        );
    }

    #[test]
    fn repeated_characters_are_refused() {
        for (s, period) in [
            (&*"a".repeat(60), 1),
            ("correcthorsecorrecthorsecorrecthorsecorrecthorse", 12),
            ("Zq7Wv3Kp9Tx2zq7wv3kp9tx2Zq7Wv3Kp9Tx2", 12),
            ("abcabcabcabcabcabcabcabcabcabcabcab", 3),
        ] {
            assert_eq!(refused(s), Weakness::RepeatedCharacters { period }, "{s}");
        }
        // A run inside an otherwise random string.
        assert_eq!(
            refused("Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq0000jH6*"),
            Weakness::CharacterRun { run: 4 }
        );
    }

    #[test]
    fn keyboard_walks_are_refused() {
        for s in [
            "qwertyuiopasdfghjklzxcvbnm1234567890",
            "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
            "zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/",
        ] {
            // zxcvbn knows the commonest walks ("qwertyuiop") as passwords, the rest as walks.
            let w = refused(s);
            assert!(
                matches!(&w, Weakness::Low { patterns, .. }
                    if patterns.contains(&Pattern::KeyboardPattern)
                        || patterns.contains(&Pattern::CommonWords)),
                "{s}: {w}"
            );
        }
        let w = refused("1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/");
        assert!(
            matches!(&w, Weakness::Low { patterns, .. } if patterns.contains(&Pattern::KeyboardPattern)),
            "{w}"
        );
    }

    #[test]
    fn dates_are_refused() {
        let w = refused("19850719 1990-03-14 2001/12/25 07.04.1776 24-12-1999");
        assert!(
            matches!(&w, Weakness::Low { patterns, .. } if patterns.contains(&Pattern::Date)),
            "{w}"
        );
    }

    #[test]
    fn l33t_common_words_are_refused() {
        for s in [
            "P@ssw0rd M0nk3y Dr@g0n L3tm31n Sh@d0w F00tb@ll B@s3b@ll",
            "P@ssw0rd",
            "F00tb@llM0nk3yDr@g0nSh@d0wTr0ub4dor",
        ] {
            let w = refused(s);
            assert!(
                matches!(&w, Weakness::Low { patterns, .. } if patterns.contains(&Pattern::CommonWords)),
                "{s}: {w}"
            );
        }
        assert!(matches!(refused("Tr0ub4dor&3"), Weakness::Low { .. }));
    }

    #[test]
    fn short_and_common_passphrases_are_refused() {
        for s in [
            "password",
            "correct horse battery staple",
            "happy sunny garden flower yellow orange purple",
            "hunter2",
        ] {
            assert!(
                matches!(refused(s), Weakness::Low { .. }),
                "{s}: {}",
                refused(s)
            );
        }
        // zxcvbn's own warning is passed on for the weakest.
        assert!(
            refused("password")
                .to_string()
                .contains("zxcvbn: This is a top-10 common password")
        );
    }

    #[test]
    fn generated_passphrases_pass_with_their_exact_entropy() {
        for _ in 0..20 {
            let p = generate(DEFAULT_WORDS).unwrap();
            let s = assess(&p);
            assert_eq!(s.basis, Basis::Diceware { words: 8 }, "{:?}", s.patterns);
            assert!((s.bits - diceware_bits(8)).abs() < 1e-9);
            assert!(s.check(MIN_DERIVED_BITS).is_ok());
        }
        // 7 words clear 90 bits (90.47), 6 do not.
        assert!(diceware_bits(7) >= MIN_DERIVED_BITS);
        assert!(diceware_bits(6) < MIN_DERIVED_BITS);
        let six = generate(6).unwrap();
        assert!(matches!(
            assess(&six).check(MIN_DERIVED_BITS),
            Err(Weakness::Low {
                basis: Basis::Diceware { words: 6 },
                ..
            })
        ));
        // log2(7776) per word, less a little for drawing each word once.
        assert!((diceware_bits(1) - 7776f64.log2()).abs() < 1e-12);
        assert!(diceware_bits(8) < 8.0 * 7776f64.log2());
    }

    #[test]
    fn long_random_strings_pass_and_short_ones_do_not() {
        // zxcvbn counts an unguessable character as 10 guesses (3.3 bits): about 28 are needed.
        let long = "Xk9#mP2$vL5@nQ8&wR3!a7%bT4^Zq";
        assert!(
            strength(long).check(MIN_DERIVED_BITS).is_ok(),
            "{}",
            strength(long).bits
        );
        assert!(matches!(
            refused("Xk9#mP2$vL5@nQ8&wR3!"),
            Weakness::Low { .. }
        ));
    }

    #[test]
    fn list_words_are_distinct_once_normalised_but_one_pair() {
        // A generated passphrase could otherwise be refused as a repeated word; the one pair
        // (yo-yo, yoyo) is refused when drawn together, and `generate` draws again.
        let mut seen = std::collections::BTreeMap::new();
        let mut same = Vec::new();
        for w in words() {
            if let Some(first) = seen.insert(normalise(w).to_string(), *w) {
                same.push((first, *w));
            }
        }
        assert_eq!(same, [("yo-yo", "yoyo")]);
        assert!(matches!(
            refused("yo-yo yoyo abacus zoom ladder tonic shrubbery"),
            Weakness::RepeatedWord {
                first: 1,
                second: 2
            }
        ));
    }

    #[test]
    fn messages_never_quote_the_passphrase() {
        for s in [
            "secretword secretword",
            "zebrazebrazebrazebra",
            "qwertyuiopasdfghjkl",
            "mysecret",
        ] {
            let w = refused(s);
            assert!(!w.to_string().contains("secret"), "{w}");
            assert!(!w.to_string().contains("zebra"), "{w}");
            assert!(!w.to_string().contains("qwerty"), "{w}");
        }
    }

    #[test]
    fn huge_input_is_estimated_quickly() {
        let long: String = (0..10_000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let start = std::time::Instant::now();
        let _ = strength(&long);
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
    }
}
