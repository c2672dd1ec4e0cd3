//! A string held inline when it is short: role names and path patterns of a claimed role.
//!
//! A claimed role at PyPI's scale holds a million project names and two million path patterns
//! (`NAME`, `NAME/*`), nearly all shorter than 23 bytes. As `String`s each is a separate heap
//! allocation of at least 32 bytes beside its 24-byte handle; inline they cost only the handle.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;

/// Bytes held inline; longer strings go to the heap.
const INLINE: usize = 22;

/// An immutable string, inline up to 22 bytes. Equality, order and hashing are the text's.
#[derive(Clone)]
pub struct SmallStr(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is valid UTF-8 (the constructor copied it from a `&str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl SmallStr {
    /// A copy of `s`, inline when it fits.
    pub fn new(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            SmallStr(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            SmallStr(Repr::Heap(s.into()))
        }
    }

    /// The text's bytes, without checking them again as UTF-8 (the serialiser writes a
    /// million of these; [`SmallStr::as_str`] checks the inline bytes each time).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str` whole, so this cannot fail.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }
}

impl std::ops::Deref for SmallStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SmallStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SmallStr {
    fn from(s: &str) -> Self {
        SmallStr::new(s)
    }
}

impl From<String> for SmallStr {
    fn from(s: String) -> Self {
        SmallStr::new(&s)
    }
}

impl From<&String> for SmallStr {
    fn from(s: &String) -> Self {
        SmallStr::new(s)
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SmallStr {}

impl PartialEq<str> for SmallStr {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for SmallStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialOrd for SmallStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallStr {
    fn cmp(&self, other: &Self) -> Ordering {
        // UTF-8 byte order is code-point order.
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for SmallStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the `str` it borrows as (`Borrow<str>`) hashes.
        self.as_str().hash(state)
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_strings_read_back_and_compare_as_text() {
        assert_eq!(std::mem::size_of::<SmallStr>(), 24);
        let texts = [
            "",
            "a",
            "project-123456/*",
            "exactly-22-bytes-long!",
            "twenty-three bytes long",
            "ünïcödé-nämé/*",
            "a much longer project name than fits inline/*",
        ];
        let small: Vec<SmallStr> = texts.iter().map(|t| SmallStr::new(t)).collect();
        for (s, t) in small.iter().zip(texts) {
            assert_eq!(s.as_str(), t);
            assert_eq!(s.as_bytes(), t.as_bytes());
            assert_eq!(s, &SmallStr::from(t.to_owned()));
        }
        for (a, ta) in small.iter().zip(texts) {
            for (b, tb) in small.iter().zip(texts) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta:?} vs {tb:?}");
            }
        }
        assert_eq!(["x".into(), SmallStr::new("y")].join(", "), "x, y");
    }
}
