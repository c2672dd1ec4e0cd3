//! SLIP-0039 mnemonic words: the 1,024-word list, the RS1024 checksum, and one share's
//! fields as words.
//!
//! SLIP-0039 "Format of the share mnemonic": identifier (15 bits), extendable backup flag
//! (1), iteration exponent (4), group index (4), group threshold - 1 (4), group count - 1
//! (4), member index (4), member threshold - 1 (4), the share value left-padded with zero
//! bits to a multiple of 10, and a 30-bit RS1024 checksum; 10 bits a word.

use zeroize::Zeroizing;

use super::{Share, ShareError, WordSlip};
use crate::memlock::PageLock;

const LIST: &str = include_str!("wordlist.txt");

/// The SLIP-0039 word list in order (1,024 words, each decided by its first four letters).
pub(crate) fn list() -> &'static [&'static str; 1024] {
    static WORDS: std::sync::OnceLock<[&'static str; 1024]> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = [""; 1024];
        for (slot, word) in words.iter_mut().zip(LIST.lines()) {
            *slot = word;
        }
        words
    })
}

/// The index of `word` (any case), or `None`.
pub(crate) fn index(word: &str) -> Option<u16> {
    let lower = Zeroizing::new(word.to_ascii_lowercase());
    // The list is sorted; the lookup's timing tells only where a word sits in a public list.
    list()
        .binary_search(&lower.as_str())
        .ok()
        .and_then(|i| u16::try_from(i).ok())
}

/// The one word that starts with the same four letters as `typed`, if there is one: SLIP-0039
/// words differ in their first four letters, so that is the word meant.
pub(crate) fn by_prefix(typed: &str) -> Option<&'static str> {
    let lower = typed.to_ascii_lowercase();
    let prefix = lower.get(..4)?;
    list().iter().copied().find(|w| w.starts_with(prefix))
}

const CUSTOMIZATION: &[u8] = b"shamir";
const CUSTOMIZATION_EXTENDABLE: &[u8] = b"shamir_extendable";
/// Words before the share value: identifier and exponent (2), then the share parameters (2).
pub(crate) const PREFIX_WORDS: usize = 4;
/// The checksum's words.
pub(crate) const CHECKSUM_WORDS: usize = 3;
/// The shortest share: 4 + 13 (128 bits of value) + 3.
pub(crate) const MIN_WORDS: usize = 20;

fn customization(extendable: bool) -> &'static [u8] {
    if extendable {
        CUSTOMIZATION_EXTENDABLE
    } else {
        CUSTOMIZATION
    }
}

/// SLIP-0039 "Checksum": the BCH-style polymod over GF(1024).
fn polymod(values: impl IntoIterator<Item = u32>) -> u32 {
    const GEN: [u32; 10] = [
        0x00E0_E040,
        0x01C1_C080,
        0x0383_8100,
        0x0707_0200,
        0x0E0E_0009,
        0x1C0C_2412,
        0x3808_6C24,
        0x3090_FC48,
        0x21B1_F890,
        0x03F3_F120,
    ];
    let mut chk = 1u32;
    for v in values {
        let b = chk >> 20;
        chk = ((chk & 0xF_FFFF) << 10) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            chk ^= g & ((b >> i) & 1).wrapping_neg();
        }
    }
    chk
}

fn extendable_of(indices: &[u16]) -> bool {
    // The flag is bit 4 of the second word (identifier 15 bits, flag, exponent 4 bits).
    indices.get(1).is_some_and(|w| (w >> 4) & 1 == 1)
}

fn checksum_holds(indices: &[u16]) -> bool {
    let custom = customization(extendable_of(indices));
    polymod(
        custom
            .iter()
            .map(|&c| u32::from(c))
            .chain(indices.iter().map(|&i| u32::from(i))),
    ) == 1
}

fn checksum(data: &[u16], extendable: bool) -> [u16; CHECKSUM_WORDS] {
    let custom = customization(extendable);
    let pm = polymod(
        custom
            .iter()
            .map(|&c| u32::from(c))
            .chain(data.iter().map(|&i| u32::from(i)))
            .chain([0; CHECKSUM_WORDS]),
    ) ^ 1;
    [
        (pm >> 20) as u16 & 1023,
        (pm >> 10) as u16 & 1023,
        pm as u16 & 1023,
    ]
}

/// The one word which, put in place of one typed word, makes the checksum hold: where a
/// single slip is (three check words correct any one wrong word). `None` when no single
/// change does, e.g. two words are wrong.
fn locate_slip(indices: &[u16]) -> Option<(usize, u16)> {
    let mut trial = indices.to_vec();
    let mut found = None;
    for position in 0..indices.len() {
        let typed = indices[position];
        for candidate in 0..1024u16 {
            if candidate == typed {
                continue;
            }
            trial[position] = candidate;
            if checksum_holds(&trial) {
                if found.is_some() {
                    return None;
                }
                found = Some((position, candidate));
            }
        }
        trial[position] = typed;
    }
    trial.iter_mut().for_each(|w| *w = 0);
    found
}

/// Bits `[at, at + n)` of the big-endian bit string of 10-bit words `indices`.
fn bits(indices: &[u16], at: usize, n: usize) -> u32 {
    (at..at + n).fold(0u32, |acc, bit| {
        let word = indices[bit / 10];
        (acc << 1) | u32::from((word >> (9 - bit % 10)) & 1)
    })
}

/// Parse one share from its words (any case, separated by whitespace).
pub(crate) fn parse(text: &str) -> Result<Share, ShareError> {
    let mut indices: Zeroizing<Vec<u16>> = Zeroizing::new(Vec::new());
    for (n, typed) in text.split_whitespace().enumerate() {
        match index(typed) {
            Some(i) => indices.push(i),
            None => {
                return Err(ShareError::UnknownWord(WordSlip {
                    position: n + 1,
                    suggestion: by_prefix(typed),
                }));
            }
        }
    }
    let count = indices.len();
    if count < MIN_WORDS {
        return Err(ShareError::Length(count));
    }
    let value_words = count - PREFIX_WORDS - CHECKSUM_WORDS;
    let padding = (10 * value_words) % 16;
    if padding > 8 {
        return Err(ShareError::Length(count));
    }
    if !checksum_holds(&indices) {
        return Err(ShareError::Checksum(locate_slip(&indices).map(
            |(position, word)| WordSlip {
                position: position + 1,
                suggestion: Some(list()[usize::from(word)]),
            },
        )));
    }
    let id_exp = bits(&indices, 0, 20);
    let params = bits(&indices, 20, 20);
    let nibble = |shift: u32| ((params >> shift) & 0xf) as u8;
    let value_bits = 10 * value_words;
    let start = 10 * PREFIX_WORDS;
    if bits(&indices, start, padding) != 0 {
        return Err(ShareError::Padding);
    }
    let len = (value_bits - padding) / 8;
    let mut value = SecretBuf::zeroed(len);
    for (k, byte) in value.bytes.iter_mut().enumerate() {
        *byte = bits(&indices, start + padding + 8 * k, 8) as u8;
    }
    let share = Share {
        identifier: (id_exp >> 5) as u16,
        extendable: (id_exp >> 4) & 1 == 1,
        iteration_exponent: (id_exp & 0xf) as u8,
        group_index: nibble(16),
        group_threshold: nibble(12) + 1,
        group_count: nibble(8) + 1,
        index: nibble(4),
        member_threshold: nibble(0) + 1,
        value,
    };
    if share.group_threshold > share.group_count {
        return Err(ShareError::GroupThreshold);
    }
    Ok(share)
}

/// The share's words, space-separated, in a buffer that is zeroized when dropped.
pub(crate) fn to_words(share: &Share) -> Zeroizing<String> {
    let id_exp = (u32::from(share.identifier) << 5)
        | (u32::from(share.extendable) << 4)
        | u32::from(share.iteration_exponent);
    let params = (u32::from(share.group_index) << 16)
        | (u32::from(share.group_threshold - 1) << 12)
        | (u32::from(share.group_count - 1) << 8)
        | (u32::from(share.index) << 4)
        | u32::from(share.member_threshold - 1);
    let value = share.value.expose();
    let value_words = (value.len() * 8).div_ceil(10);
    let padding = value_words * 10 - value.len() * 8;
    let mut indices: Zeroizing<Vec<u16>> = Zeroizing::new(Vec::with_capacity(
        PREFIX_WORDS + value_words + CHECKSUM_WORDS,
    ));
    for v in [id_exp, params] {
        indices.push((v >> 10) as u16 & 1023);
        indices.push(v as u16 & 1023);
    }
    for w in 0..value_words {
        let mut word = 0u16;
        for b in 0..10 {
            let bit = (w * 10 + b)
                .checked_sub(padding)
                .map_or(0, |at| (value[at / 8] >> (7 - at % 8)) & 1);
            word = (word << 1) | u16::from(bit);
        }
        indices.push(word);
    }
    let check = checksum(&indices, share.extendable);
    indices.extend_from_slice(&check);
    let mut text = Zeroizing::new(String::with_capacity(indices.len() * 9));
    for (n, &i) in indices.iter().enumerate() {
        if n > 0 {
            text.push(' ');
        }
        text.push_str(list()[usize::from(i)]);
    }
    text
}

/// Secret bytes on the heap, their pages locked where the operating system allows (see
/// [`crate::memlock`]), zeroized on drop. The length is fixed at creation, so the buffer is
/// never moved by a reallocation that would leave a copy behind.
pub struct SecretBuf {
    // Dropped after `Drop::drop` has zeroized the bytes, before they are freed.
    lock: PageLock,
    bytes: Vec<u8>,
}

impl SecretBuf {
    /// `len` zero bytes, locked.
    pub(crate) fn zeroed(len: usize) -> SecretBuf {
        let bytes = vec![0u8; len];
        SecretBuf {
            lock: PageLock::new(&bytes),
            bytes,
        }
    }

    /// A locked copy of `bytes`; the caller zeroizes its own.
    pub fn copy_of(bytes: &[u8]) -> SecretBuf {
        let mut buf = SecretBuf::zeroed(bytes.len());
        buf.bytes.copy_from_slice(bytes);
        buf
    }

    /// The bytes. Do not copy them anywhere that is not zeroized.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Whether the pages are locked (false where the OS refused).
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }
}

impl Drop for SecretBuf {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_list_is_sorted_and_decided_by_four_letters() {
        let words = list();
        assert_eq!(words[0], "academic");
        assert_eq!(words[1023], "zero");
        assert!(words.windows(2).all(|w| w[0] < w[1]));
        for w in words {
            assert_eq!(by_prefix(w), Some(*w));
            assert!((4..=8).contains(&w.len()), "{w}");
        }
        assert_eq!(index("ACADEMIC"), Some(0));
        assert_eq!(index("academi"), None);
    }
}
