//! SLIP-0039 (Shamir's Secret-Sharing for Mnemonic Codes): a key's private bytes split into
//! shares written as words, any M of which give the key back and fewer give nothing.
//!
//! This is the standard hardware-wallet recovery tools use, so a backup made by conclave can
//! be recovered with the reference implementation (`shamir-mnemonic`) and the other way
//! round; `tests/slip39_vectors.rs` checks the official test vectors and `tests/key_shares.rs`
//! both directions against the reference.
//!
//! What an attacker could do, and what stops it:
//! - fewer than M shares: every value of the secret is equally likely (Shamir's scheme over
//!   GF(2^8)); the 4-byte digest kept at x = 254 is of the secret keyed with random bytes, so
//!   it says nothing either.
//! - a share mistyped or damaged: the RS1024 checksum catches up to three wrong words in a
//!   share and names the word when one is wrong; a set of shares that does not belong
//!   together fails the digest instead of giving a wrong key.
//! - timing: share bytes go only through the constant-time field arithmetic in `field`.
//!
//! conclave writes one group (group threshold 1 of 1) of M-of-N member shares, with the
//! extendable flag and iteration exponent 1 (the reference implementation's defaults) and an
//! empty SLIP-0039 passphrase: the shares alone are the backup. Reading, it takes any valid
//! SLIP-0039 set, groups included.

mod cipher;
mod field;
mod words;

pub use words::SecretBuf;

use field::Point;
use zeroize::Zeroizing;

/// The most shares a group (or groups a secret) can have.
pub const MAX_SHARES: u8 = 16;
/// The shortest secret SLIP-0039 shares (128 bits).
pub const MIN_SECRET_BYTES: usize = 16;
const DIGEST_INDEX: u8 = 254;
const SECRET_INDEX: u8 = 255;
const DIGEST_BYTES: usize = 4;

/// A word that is wrong in one share: its position (from 1) and, where one can be told, the
/// word meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordSlip {
    /// The word's position in the share, from 1.
    pub position: usize,
    /// The SLIP-0039 word probably meant.
    pub suggestion: Option<&'static str>,
}

impl std::fmt::Display for WordSlip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "word {}", self.position)?;
        if let Some(s) = self.suggestion {
            write!(f, " (did you mean \"{s}\"?)")?;
        }
        Ok(())
    }
}

/// Why one share's words are not a share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// A word that is not in the SLIP-0039 word list.
    #[error("{0} is not a SLIP-0039 word")]
    UnknownWord(WordSlip),
    /// The checksum fails; when one wrong word explains it, which.
    #[error("the checksum fails: {}", match .0 {
        Some(slip) => format!("{slip} is wrong"),
        None => "more than one word is wrong".to_string(),
    })]
    Checksum(Option<WordSlip>),
    /// Not a length any share can have (20 or 33 words for a 16- or 32-byte secret).
    #[error("{0} words is not the length of a share (20 for a 128-bit secret, 33 for 256 bits)")]
    Length(usize),
    /// The value's padding bits are not zero.
    #[error("the share's padding is not zero (a damaged share)")]
    Padding,
    /// The group threshold is above the group count.
    #[error("the group threshold is greater than the group count")]
    GroupThreshold,
}

/// Why a set of shares does not give a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    /// No shares at all.
    #[error("no shares were given")]
    Empty,
    /// Share `share` (from 1, in the order given) is of another secret or another split: its
    /// first words (identifier, exponent, group parameters) differ from the first share's.
    #[error("share {share} is not from the same backup as share 1 ({what} differs)")]
    Mismatch {
        /// The share, from 1.
        share: usize,
        /// Which parameter differs.
        what: &'static str,
    },
    /// Two shares with the same index in one group: one share given twice.
    #[error("share {share} is the same share as share {first} (member index {index})")]
    Duplicate {
        /// The repeated share, from 1.
        share: usize,
        /// The one it repeats, from 1.
        first: usize,
        /// The member index both carry.
        index: u8,
    },
    /// Fewer groups or shares than the threshold.
    #[error("{have} share(s) given, {need} needed")]
    TooFew {
        /// How many were given (in the short group).
        have: usize,
        /// How many are needed.
        need: usize,
    },
    /// More groups or shares than the threshold (SLIP-0039 takes exactly the threshold).
    #[error("{have} share(s) given where exactly {need} are needed")]
    TooMany {
        /// How many were given.
        have: usize,
        /// How many are needed.
        need: usize,
    },
    /// The shares' values have different lengths.
    #[error("the shares' values have different lengths")]
    Lengths,
    /// The recovered secret does not match its digest: the shares do not belong together
    /// (or one was made to look as if it did).
    #[error("the shares do not belong together (the recovered secret fails its digest)")]
    Digest,
    /// A secret of odd length or below 128 bits.
    #[error("the secret must be an even number of bytes, at least 16")]
    SecretLength,
}

/// Why a secret could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// Threshold or count out of range (2 <= M <= N <= 16).
    #[error(
        "the threshold must be at least 2 and at most the number of shares, which is at most 16"
    )]
    Counts,
    /// A secret of odd length or below 128 bits.
    #[error("the secret must be an even number of bytes, at least 16")]
    SecretLength,
    /// The operating system's random source failed.
    #[error(transparent)]
    Random(#[from] crate::secret::RandomError),
}

/// One share: its parameters (public, the same on every share of a backup but the index) and
/// its value (secret).
pub struct Share {
    identifier: u16,
    extendable: bool,
    iteration_exponent: u8,
    group_index: u8,
    group_threshold: u8,
    group_count: u8,
    index: u8,
    member_threshold: u8,
    value: SecretBuf,
}

impl Share {
    /// Parse a share's words (any case, whitespace between words).
    pub fn parse(words: &str) -> Result<Share, ShareError> {
        words::parse(words)
    }

    /// The share's words, space-separated; zeroized when dropped.
    pub fn words(&self) -> Zeroizing<String> {
        words::to_words(self)
    }

    /// The member index (0-based, as stored; people count from 1).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The number of shares of this share's group needed (M).
    pub fn member_threshold(&self) -> u8 {
        self.member_threshold
    }

    /// The number of groups needed.
    pub fn group_threshold(&self) -> u8 {
        self.group_threshold
    }

    /// The group this share belongs to.
    pub fn group_index(&self) -> u8 {
        self.group_index
    }

    /// The backup's 15-bit identifier (random, public: the same on every share).
    pub fn identifier(&self) -> u16 {
        self.identifier
    }

    /// Whether `other` belongs to the same backup (identifier, flag, exponent, groups);
    /// `None` when it does, else the first parameter that differs.
    pub fn mismatch(&self, other: &Share) -> Option<&'static str> {
        if self.identifier != other.identifier {
            Some("the identifier")
        } else if self.extendable != other.extendable {
            Some("the extendable flag")
        } else if self.iteration_exponent != other.iteration_exponent {
            Some("the iteration exponent")
        } else if (self.group_threshold, self.group_count)
            != (other.group_threshold, other.group_count)
        {
            Some("the group threshold or count")
        } else if self.group_index == other.group_index
            && self.member_threshold != other.member_threshold
        {
            Some("the member threshold")
        } else {
            None
        }
    }
}

fn digest(random: &[u8], secret: &[u8]) -> [u8; DIGEST_BYTES] {
    use pbkdf2::hmac::{KeyInit, Mac};
    let mut mac = <pbkdf2::hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(random)
        .expect("HMAC takes a key of any length");
    mac.update(secret);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; DIGEST_BYTES];
    out.copy_from_slice(&full[..DIGEST_BYTES]);
    out
}

/// SLIP-0039 "Sharing a secret": `count` shares of `secret`, any `threshold` of which give it
/// back (threshold >= 2: the random polynomial's points at 0..threshold-2, the digest at 254,
/// the secret at 255).
fn split_secret(
    threshold: u8,
    count: u8,
    secret: &[u8],
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), crate::secret::RandomError>,
) -> Result<Vec<(u8, SecretBuf)>, SplitError> {
    let random_count = threshold - 2;
    let mut base: Vec<(u8, SecretBuf)> = Vec::new();
    for x in 0..random_count {
        let mut y = SecretBuf::zeroed(secret.len());
        fill(y.expose_mut())?;
        base.push((x, y));
    }
    let mut digest_share = SecretBuf::zeroed(secret.len());
    fill(&mut digest_share.expose_mut()[DIGEST_BYTES..])?;
    let d = digest(&digest_share.expose()[DIGEST_BYTES..], secret);
    digest_share.expose_mut()[..DIGEST_BYTES].copy_from_slice(&d);
    let mut points: Vec<Point<'_>> = base
        .iter()
        .map(|(x, y)| Point {
            x: *x,
            y: y.expose(),
        })
        .collect();
    points.push(Point {
        x: DIGEST_INDEX,
        y: digest_share.expose(),
    });
    points.push(Point {
        x: SECRET_INDEX,
        y: secret,
    });
    let mut shares = Vec::with_capacity(usize::from(count));
    for x in 0..count {
        let y = field::interpolate(&points, x);
        shares.push((x, SecretBuf::copy_of(&y)));
    }
    Ok(shares)
}

/// SLIP-0039 "Recovering the secret" for one level: the secret at 255, checked against the
/// digest at 254.
fn recover_secret(threshold: u8, points: &[Point<'_>]) -> Result<SecretBuf, CombineError> {
    if threshold == 1 {
        return Ok(SecretBuf::copy_of(points[0].y));
    }
    let secret = field::interpolate(points, SECRET_INDEX);
    let digest_share = field::interpolate(points, DIGEST_INDEX);
    if digest_share.len() < DIGEST_BYTES {
        return Err(CombineError::Lengths);
    }
    let expected = digest(&digest_share[DIGEST_BYTES..], &secret);
    let differs = expected
        .iter()
        .zip(&digest_share[..DIGEST_BYTES])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if differs != 0 {
        return Err(CombineError::Digest);
    }
    Ok(SecretBuf::copy_of(&secret))
}

/// Split `secret` (an even number of bytes, at least 16) into `count` shares, any `threshold`
/// of which recover it, as one SLIP-0039 group with an empty passphrase. `fill` is the random
/// source (the operating system's in [`split`]).
pub fn split_with(
    secret: &[u8],
    threshold: u8,
    count: u8,
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), crate::secret::RandomError>,
) -> Result<Vec<Share>, SplitError> {
    if threshold < 2 || threshold > count || count > MAX_SHARES {
        return Err(SplitError::Counts);
    }
    if secret.len() < MIN_SECRET_BYTES || !secret.len().is_multiple_of(2) {
        return Err(SplitError::SecretLength);
    }
    let mut id = [0u8; 2];
    fill(&mut id)?;
    let identifier = u16::from_be_bytes(id) & 0x7fff;
    let (extendable, iteration_exponent) = (true, 1);
    let encrypted = cipher::encrypt(secret, b"", iteration_exponent, identifier, extendable);
    // One group, 1 of 1: the group "secret" is the encrypted master secret itself.
    let members = split_secret(threshold, count, encrypted.expose(), fill)?;
    Ok(members
        .into_iter()
        .map(|(index, value)| Share {
            identifier,
            extendable,
            iteration_exponent,
            group_index: 0,
            group_threshold: 1,
            group_count: 1,
            index,
            member_threshold: threshold,
            value,
        })
        .collect())
}

/// [`split_with`] from the operating system's random source.
pub fn split(secret: &[u8], threshold: u8, count: u8) -> Result<Vec<Share>, SplitError> {
    split_with(secret, threshold, count, &mut crate::secret::random)
}

/// Check `shares` could belong together, naming the first that does not (shares count from
/// 1 in the order given). Does not need a full set: callers check each share as it comes.
pub fn check_set(shares: &[Share]) -> Result<(), CombineError> {
    let Some(first) = shares.first() else {
        return Err(CombineError::Empty);
    };
    for (n, s) in shares.iter().enumerate().skip(1) {
        if let Some(what) = first.mismatch(s) {
            return Err(CombineError::Mismatch { share: n + 1, what });
        }
        for (m, earlier) in shares[..n].iter().enumerate() {
            if let Some(what) = earlier.mismatch(s) {
                return Err(CombineError::Mismatch { share: n + 1, what });
            }
            if earlier.group_index == s.group_index && earlier.index == s.index {
                return Err(CombineError::Duplicate {
                    share: n + 1,
                    first: m + 1,
                    index: s.index,
                });
            }
        }
        if s.value.expose().len() != first.value.expose().len() {
            return Err(CombineError::Lengths);
        }
    }
    Ok(())
}

/// How many more shares `shares` needs before [`combine`] can run: zero when complete. For
/// a one-group backup this is M minus the shares given.
pub fn shares_missing(shares: &[Share]) -> usize {
    let Some(first) = shares.first() else {
        return 1;
    };
    let mut groups: Vec<(u8, u8, usize)> = Vec::new();
    for s in shares {
        match groups.iter_mut().find(|g| g.0 == s.group_index) {
            Some(g) => g.2 += 1,
            None => groups.push((s.group_index, s.member_threshold, 1)),
        }
    }
    let mut short: Vec<usize> = groups
        .iter()
        .map(|&(_, m, have)| usize::from(m).saturating_sub(have))
        .collect();
    short.sort_unstable();
    let need_groups = usize::from(first.group_threshold);
    let complete = short.iter().filter(|&&s| s == 0).count();
    if complete >= need_groups {
        return 0;
    }
    // The cheapest groups still open, then whole new groups (of at least 1 share each).
    let open: usize = short
        .iter()
        .filter(|&&s| s > 0)
        .take(need_groups - complete)
        .sum();
    let from_open = short
        .iter()
        .filter(|&&s| s > 0)
        .count()
        .min(need_groups - complete);
    open + (need_groups - complete - from_open)
}

/// SLIP-0039 "Recovering the master secret": the secret from exactly a threshold of groups,
/// each with exactly its member threshold of shares, decrypted with `passphrase` (conclave's
/// own shares use the empty passphrase).
pub fn combine(shares: &[Share], passphrase: &[u8]) -> Result<SecretBuf, CombineError> {
    let encrypted = combine_encrypted(shares)?;
    let first = &shares[0];
    Ok(cipher::decrypt(
        encrypted.expose(),
        passphrase,
        first.iteration_exponent,
        first.identifier,
        first.extendable,
    ))
}

/// [`combine`] without the decryption: the encrypted master secret. Cheap (no PBKDF2), so
/// a split can check every subset of its shares with it.
pub fn combine_encrypted(shares: &[Share]) -> Result<SecretBuf, CombineError> {
    check_set(shares)?;
    let first = &shares[0];
    let mut groups: Vec<(u8, Vec<&Share>)> = Vec::new();
    for s in shares {
        match groups.iter_mut().find(|g| g.0 == s.group_index) {
            Some(g) => g.1.push(s),
            None => groups.push((s.group_index, vec![s])),
        }
    }
    let need = usize::from(first.group_threshold);
    if groups.len() < need {
        return Err(CombineError::TooFew {
            have: groups.len(),
            need,
        });
    }
    if groups.len() > need {
        return Err(CombineError::TooMany {
            have: groups.len(),
            need,
        });
    }
    let mut group_secrets: Vec<(u8, SecretBuf)> = Vec::new();
    for (gi, members) in &groups {
        let m = usize::from(members[0].member_threshold);
        if members.len() < m {
            return Err(CombineError::TooFew {
                have: members.len(),
                need: m,
            });
        }
        if members.len() > m {
            return Err(CombineError::TooMany {
                have: members.len(),
                need: m,
            });
        }
        let points: Vec<Point<'_>> = members
            .iter()
            .map(|s| Point {
                x: s.index,
                y: s.value.expose(),
            })
            .collect();
        group_secrets.push((*gi, recover_secret(members[0].member_threshold, &points)?));
    }
    let points: Vec<Point<'_>> = group_secrets
        .iter()
        .map(|(x, y)| Point {
            x: *x,
            y: y.expose(),
        })
        .collect();
    let encrypted = recover_secret(first.group_threshold, &points)?;
    let len = encrypted.expose().len();
    if len < MIN_SECRET_BYTES || !len.is_multiple_of(2) {
        return Err(CombineError::SecretLength);
    }
    Ok(encrypted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut(&mut [u8]) -> Result<(), crate::secret::RandomError> {
        let mut n = 0u8;
        move |buf: &mut [u8]| {
            for b in buf {
                n = n.wrapping_mul(31).wrapping_add(17);
                *b = n;
            }
            Ok(())
        }
    }

    #[test]
    fn every_threshold_subset_recovers_and_fewer_do_not() {
        let secret = [0x42u8; 32];
        let shares = split_with(&secret, 3, 5, &mut counter()).unwrap();
        assert_eq!(shares.len(), 5);
        let parsed: Vec<Share> = shares
            .iter()
            .map(|s| Share::parse(&s.words()).unwrap())
            .collect();
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let set = [&parsed[a], &parsed[b], &parsed[c]];
                    let copies: Vec<Share> = set
                        .iter()
                        .map(|s| Share::parse(&s.words()).unwrap())
                        .collect();
                    assert_eq!(combine(&copies, b"").unwrap().expose(), &secret);
                }
            }
        }
        let two: Vec<Share> = parsed[..2]
            .iter()
            .map(|s| Share::parse(&s.words()).unwrap())
            .collect();
        assert_eq!(shares_missing(&two), 1);
        assert!(matches!(
            combine(&two, b""),
            Err(CombineError::TooFew { have: 2, need: 3 })
        ));
    }

    #[test]
    fn a_single_wrong_word_is_named() {
        let shares = split_with(&[7u8; 16], 2, 3, &mut counter()).unwrap();
        let words = shares[1].words();
        let mut list: Vec<&str> = words.split(' ').collect();
        let original = list[6];
        list[6] = if original == "academic" {
            "acid"
        } else {
            "academic"
        };
        let typed = list.join(" ");
        assert_eq!(
            Share::parse(&typed).err(),
            Some(ShareError::Checksum(Some(WordSlip {
                position: 7,
                suggestion: Some(words::list()[words::index(original).unwrap() as usize]),
            })))
        );
        list[6] = "zzzz";
        assert!(matches!(
            Share::parse(&list.join(" ")),
            Err(ShareError::UnknownWord(WordSlip { position: 7, .. }))
        ));
    }
}
