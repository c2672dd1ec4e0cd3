//! Newtypes whose constructors enforce the invariants TUF and python-tuf rely on.

use std::fmt;

/// The 32 bytes that exactly 64 lowercase hex digits spell, or `None` for any other text
/// (uppercase hex included: its spelling must be kept). One table lookup per digit: a claimed
/// role for a million projects has three million of these to read.
pub(crate) fn lower_hex32(s: &str) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = s.as_bytes().try_into().ok()?;
    let mut raw = [0u8; 32];
    // Any byte that is not a lowercase hex digit maps to 0xff, so `bad` keeps a high bit.
    let mut bad = 0u8;
    for (out, pair) in raw.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        bad |= hi | lo;
        *out = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(raw)
}

/// The value of each lowercase hex digit; 0xff for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// A value that breaks a newtype's invariant. Its text is the problem alone: callers add
/// where the value was found (a field path, a flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// An empty keyid.
    #[error("keyid must not be empty")]
    EmptyKeyId,
    /// A keyid with control characters, which could rewrite the terminal it is shown on.
    #[error("keyid must not contain control characters")]
    KeyIdControl,
    /// An empty role name.
    #[error("role name must not be empty")]
    EmptyRoleName,
    /// A role name with control characters.
    #[error("role name must not contain control characters")]
    RoleNameControl,
    /// A role name with `/` or `\`, or `.` or `..`: as a file name (`V.NAME.json`) it could
    /// write or read outside the metadata directory.
    #[error("role name must not contain path separators or be . or ..")]
    RoleNamePath,
    /// A delegation to `root`, `targets`, `snapshot` or `timestamp`, whose files it would
    /// shadow.
    #[error("\"{name}\" is a top-level role and cannot be delegated to")]
    TopLevelRole {
        /// The name given.
        name: String,
    },
    /// Version 0 (TUF spec "VERSION": an integer greater than 0).
    #[error("version must be greater than zero")]
    VersionZero,
    /// A version above `i64::MAX`, which JSON readers (python-tuf, canonical JSON) cannot hold.
    #[error("version is too large")]
    VersionTooLarge,
    /// A JSON version below one.
    #[error("must be greater than zero, found {found}")]
    NotPositive {
        /// The number read.
        found: i64,
    },
    /// Threshold 0 (TUF spec "THRESHOLD"): a role no signature is needed for.
    #[error("threshold must be at least 1")]
    ThresholdZero,
    /// A JSON threshold below one.
    #[error("must be at least 1, found {found}")]
    BelowOne {
        /// The number read.
        found: i64,
    },
    /// A JSON threshold above `u32::MAX`.
    #[error("{found} is too large")]
    TooLarge {
        /// The number read.
        found: i64,
    },
    /// A `spec_version` not of the form `MAJOR.MINOR[.PATCH]` in digits.
    #[error("\"{}\" is not of the form 1.MINOR.PATCH", crate::display::escape(.text))]
    SpecVersionForm {
        /// The text read.
        text: String,
    },
    /// A `spec_version` whose major version is not 1 (TUF spec 5.3.4: a client refuses it).
    #[error("major version {major} is not supported (only 1)")]
    SpecVersionMajor {
        /// The major version read.
        major: String,
    },
    /// An expiry not exactly `YYYY-MM-DDTHH:MM:SSZ`, or not a real date and time.
    #[error("\"{}\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ", crate::display::escape(.text))]
    ExpiresForm {
        /// The text read.
        text: String,
    },
    /// A time that cannot be written in the four-digit-year form.
    #[error("date is outside the years 0001-9999")]
    DateOutOfRange,
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A key identifier. conclave computes them as the SHA-256 of the canonical key (TUF spec
/// "KEYID"), but accepts any non-empty identifier on input (TAP 12; python-tuf does the same).
///
/// Keyids spelled as 64 lowercase hex digits (every SHA-256 keyid) are held as the 32 bytes
/// they spell, without a heap allocation: a claimed role holds two per project, a million
/// projects over, and compares them while sorting. The text is always exactly what was read.
#[derive(Clone)]
pub struct KeyId(KeyIdRepr);

#[derive(Clone)]
enum KeyIdRepr {
    /// What 64 lowercase hex digits spell (the constructor puts every such keyid here, so
    /// equal text always means equal representation).
    Sha256([u8; 32]),
    /// Anything else.
    Other(Box<str>),
}

impl KeyId {
    /// A keyid as read: any non-empty text without control characters (TAP 12).
    pub fn new(s: &str) -> Result<Self, ValueError> {
        // The common case first: 64 lowercase hex digits are neither empty nor control.
        if let Some(raw) = lower_hex32(s) {
            return Ok(KeyId(KeyIdRepr::Sha256(raw)));
        }
        if s.is_empty() {
            return Err(ValueError::EmptyKeyId);
        }
        if has_control(s) {
            return Err(ValueError::KeyIdControl);
        }
        Ok(KeyId(KeyIdRepr::Other(s.into())))
    }

    /// A keyid from the 64 lowercase hex digits of a SHA-256 digest.
    pub(crate) fn from_digest(digest: &[u8; 32]) -> Self {
        KeyId(KeyIdRepr::Sha256(*digest))
    }

    /// The keyid as text (spelled out on the stack for a SHA-256 keyid). `&*` of it is the
    /// text as read; its `Display` escapes it for printing.
    pub fn as_str(&self) -> KeyIdText<'_> {
        match &self.0 {
            KeyIdRepr::Sha256(raw) => {
                let mut hex = [0u8; 64];
                hex::encode_to_slice(raw, &mut hex).expect("64 hex digits for 32 bytes");
                KeyIdText::Hex { hex, len: 64 }
            }
            KeyIdRepr::Other(s) => KeyIdText::Text(s),
        }
    }

    /// The keyid's text exactly as read, for data: JSON, transcripts, comparisons. To print it,
    /// use `Display`, which escapes it.
    pub fn to_raw_string(&self) -> String {
        self.as_str().into()
    }

    /// The 32 bytes a keyid of 64 lowercase hex digits spells.
    pub(crate) fn sha256_bytes(&self) -> Option<&[u8; 32]> {
        match &self.0 {
            KeyIdRepr::Sha256(raw) => Some(raw),
            KeyIdRepr::Other(_) => None,
        }
    }

    /// The first 16 characters, for tables meant for humans.
    pub fn short(&self) -> KeyIdText<'_> {
        match self.as_str() {
            KeyIdText::Hex { hex, .. } => KeyIdText::Hex { hex, len: 16 },
            KeyIdText::Text(s) => {
                let end = s.char_indices().nth(16).map_or(s.len(), |(i, _)| i);
                KeyIdText::Text(&s[..end])
            }
        }
    }
}

/// A keyid's text: see [`KeyId::as_str`].
#[derive(Clone, Copy)]
pub enum KeyIdText<'a> {
    /// `hex[..len]`.
    Hex {
        /// The 64 hex digits of a SHA-256 keyid.
        hex: [u8; 64],
        /// How many of them to show (64, or 16 for [`KeyId::short`]).
        len: u8,
    },
    /// A keyid of any other form, borrowed.
    Text(&'a str),
}

impl std::ops::Deref for KeyIdText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            // Hex digits are ASCII, so this cannot fail.
            KeyIdText::Hex { hex, len } => {
                std::str::from_utf8(&hex[..usize::from(*len)]).unwrap_or_default()
            }
            KeyIdText::Text(s) => s,
        }
    }
}

impl AsRef<str> for KeyIdText<'_> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl std::borrow::Borrow<str> for KeyIdText<'_> {
    fn borrow(&self) -> &str {
        self
    }
}

impl From<KeyIdText<'_>> for crate::cjson::Value {
    fn from(text: KeyIdText<'_>) -> Self {
        crate::cjson::Value::from(&*text)
    }
}

impl PartialEq<String> for KeyIdText<'_> {
    fn eq(&self, other: &String) -> bool {
        **self == **other
    }
}

impl PartialEq<&str> for KeyIdText<'_> {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl PartialEq<str> for KeyIdText<'_> {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

/// For people: escaped with [`crate::display::escape`], since a keyid of any other form than
/// hex is text from a file. The text itself is `&*text` (see [`Deref`](std::ops::Deref)).
impl fmt::Display for KeyIdText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::display::escape(self))
    }
}

impl From<KeyIdText<'_>> for String {
    /// The keyid's text exactly as read, for data (JSON, file contents, comparisons).
    fn from(text: KeyIdText<'_>) -> Self {
        (*text).to_owned()
    }
}

impl fmt::Debug for KeyIdText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

// Equality and order are the text's (byte order is code-point order for UTF-8), whatever the
// representation. Lowercase hex digits sort as the nibbles they spell, so two SHA-256 keyids
// compare as their bytes; a SHA-256 keyid never equals another kind (the constructor puts every
// 64-digit lowercase hex text in the first).
impl PartialEq for KeyId {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (KeyIdRepr::Sha256(a), KeyIdRepr::Sha256(b)) => a == b,
            (KeyIdRepr::Other(a), KeyIdRepr::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for KeyId {}

impl PartialOrd for KeyId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (&self.0, &other.0) {
            (KeyIdRepr::Sha256(a), KeyIdRepr::Sha256(b)) => a.cmp(b),
            (KeyIdRepr::Other(a), KeyIdRepr::Other(b)) => a.cmp(b),
            _ => (*self.as_str()).cmp(&*other.as_str()),
        }
    }
}

impl std::hash::Hash for KeyId {
    // Consistent with equality: the two representations are never equal.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0 {
            KeyIdRepr::Sha256(raw) => raw.hash(state),
            KeyIdRepr::Other(s) => s.hash(state),
        }
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyId").field(&&*self.as_str()).finish()
    }
}

/// For people: the keyid escaped with [`crate::display::escape`]. A keyid is any non-empty
/// text without control characters (TAP 12), so one read from a file can hold bidi overrides,
/// zero-width or tag characters that would make it look like an officer's keyid on screen.
/// The text as read, for data, is [`KeyId::to_raw_string`] or `&*id.as_str()`.
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_str(), f)
    }
}

/// The name of a role. Names of delegated roles become file names (`V.NAME.json`) and URL
/// path segments, so control characters, `/` and empty names are refused outright.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(super::SmallStr);

/// The four roles root delegates to, which no delegation may reuse.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];

impl RoleName {
    /// A delegated role's name.
    pub fn delegated(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::EmptyRoleName);
        }
        if has_control(s) {
            return Err(ValueError::RoleNameControl);
        }
        if s.contains('/') || s.contains('\\') || s == "." || s == ".." {
            return Err(ValueError::RoleNamePath);
        }
        if TOP_LEVEL_ROLES.contains(&s) {
            return Err(ValueError::TopLevelRole { name: s.to_owned() });
        }
        Ok(RoleName(s.into()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name's bytes (UTF-8), without checking them again.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// True when python-tuf would write the name unchanged in a file name and URL.
    pub(crate) fn is_url_safe(&self) -> bool {
        self.0
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    }
}

/// For people: the name escaped with [`crate::display::escape`] (a delegated role's name is
/// text from a file; only control characters and path separators are refused when it is read).
/// The name as read, for file names and comparisons, is [`RoleName::as_str`].
impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::display::escape(&self.0))
    }
}

/// A metadata version: an integer greater than zero (TUF spec "VERSION").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// Version 1, a role's first.
    pub(crate) const FIRST: Version = Version(1);

    /// A version from 1 to `i64::MAX`.
    pub fn new(v: u64) -> Result<Self, ValueError> {
        if v == 0 {
            Err(ValueError::VersionZero)
        } else if v > i64::MAX as u64 {
            Err(ValueError::VersionTooLarge)
        } else {
            Ok(Version(v))
        }
    }

    /// A version read from JSON; zero and negative numbers are refused.
    pub fn from_json(v: i64) -> Result<Self, ValueError> {
        if v <= 0 {
            return Err(ValueError::NotPositive { found: v });
        }
        Version::new(v as u64)
    }

    /// The version as a number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The version as JSON writes it (never negative: see [`Version::new`]).
    pub(crate) fn as_json(self) -> i64 {
        self.0 as i64
    }

    /// The next version, for a new revision of a role.
    pub fn next(self) -> Result<Self, ValueError> {
        Version::new(self.0 + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A signature threshold: at least one (TUF spec "THRESHOLD"). That it does not exceed the
/// number of keys is checked where both are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u32);

impl Threshold {
    /// A threshold of at least 1.
    pub fn new(t: u32) -> Result<Self, ValueError> {
        if t == 0 {
            Err(ValueError::ThresholdZero)
        } else {
            Ok(Threshold(t))
        }
    }

    /// A threshold read from JSON; below 1 or above `u32::MAX` is refused.
    pub fn from_json(t: i64) -> Result<Self, ValueError> {
        if t < 1 {
            return Err(ValueError::BelowOne { found: t });
        }
        u32::try_from(t)
            .map_err(|_| ValueError::TooLarge { found: t })
            .and_then(Threshold::new)
    }

    /// The threshold as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A `spec_version`: `MAJOR.MINOR[.PATCH]`, all digits, major 1 — what python-tuf accepts
/// (TUF spec 5.3.4 asks clients to check it; TAP 6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecVersion(String);

impl SpecVersion {
    /// Check `s` is `1.MINOR[.PATCH]`; the text is kept as written.
    pub fn new(s: &str) -> Result<Self, ValueError> {
        let parts: Vec<&str> = s.split('.').collect();
        let digits = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !(parts.len() == 2 || parts.len() == 3) || !parts.iter().all(digits) {
            return Err(ValueError::SpecVersionForm { text: s.to_owned() });
        }
        if parts[0] != "1" {
            return Err(ValueError::SpecVersionMajor {
                major: parts[0].to_owned(),
            });
        }
        Ok(SpecVersion(s.to_owned()))
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An expiry time in exactly the form `YYYY-MM-DDTHH:MM:SSZ` (UTC). python-tuf parses it with
/// `strptime("%Y-%m-%dT%H:%M:%SZ")`, so fractions and offsets are refused here too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expires {
    /// Seconds since the Unix epoch (negative before 1970).
    unix: i64,
}

impl Expires {
    /// Parse exactly `YYYY-MM-DDTHH:MM:SSZ` (TUF spec "EXPIRES", ISO 8601 in UTC), with a real
    /// calendar date.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::ExpiresForm { text: s.to_owned() };
        let b = s.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, ValueError> {
            let part = &b[r];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if year < 1
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(bad());
        }
        Ok(Expires {
            unix: days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second,
        })
    }

    /// A time from Unix seconds; refused outside the years 0001-9999.
    pub(crate) fn from_unix(unix: i64) -> Result<Self, ValueError> {
        let e = Expires { unix };
        let (y, ..) = e.parts();
        if (1..=9999).contains(&y) {
            Ok(e)
        } else {
            Err(ValueError::DateOutOfRange)
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.unix
    }

    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Expires { unix: secs }
    }

    /// python-tuf: metadata is expired when `now >= expires`.
    pub(crate) fn is_expired_at(self, now: Expires) -> bool {
        now.unix >= self.unix
    }

    fn parts(self) -> (i64, i64, i64, i64, i64, i64) {
        let days = self.unix.div_euclid(86_400);
        let secs = self.unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

impl fmt::Display for Expires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.parts();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_hex32_reads_exactly_64_lowercase_hex_digits() {
        for seed in 0u8..=255 {
            let raw: [u8; 32] =
                std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7));
            let text = hex::encode(raw);
            assert_eq!(lower_hex32(&text), Some(raw));
            let upper = text.to_uppercase();
            assert_eq!(lower_hex32(&upper), (upper == text).then_some(raw));
        }
        let ok = "0123456789abcdef".repeat(4);
        assert!(lower_hex32(&ok).is_some());
        for bad in [
            "",
            &ok[..63],
            &format!("{ok}0"),
            &ok.replacen('a', "A", 1),
            &ok.replacen('f', "g", 1),
            &ok.replacen('0', "/", 1),
            &ok.replacen('9', ":", 1),
            &ok.replacen('a', "`", 1),
            &ok.replacen('0', "\u{0}", 1),
            &format!("{}é", &ok[..62]),
        ] {
            assert_eq!(lower_hex32(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn keyids_read_back_exactly_and_compare_as_text() {
        let lower = "0a".repeat(32);
        let upper = "0A".repeat(32);
        let texts = [lower.as_str(), upper.as_str(), "short", "0a", "ü-keyid"];
        let ids: Vec<KeyId> = texts.iter().map(|t| KeyId::new(t).unwrap()).collect();
        for (id, t) in ids.iter().zip(texts) {
            assert_eq!(&*id.as_str(), t);
            assert_eq!(id.to_string(), t);
            assert_eq!(*id, KeyId::new(t).unwrap());
        }
        assert!(ids[0].sha256_bytes().is_some() && ids[1].sha256_bytes().is_none());
        assert_eq!(KeyId::from_digest(&[0x0a; 32]), ids[0]);
        assert_ne!(ids[0], ids[1]);
        for (a, ta) in ids.iter().zip(texts) {
            for (b, tb) in ids.iter().zip(texts) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta} vs {tb}");
                assert_eq!(a == b, ta == tb);
            }
        }
        assert_eq!(&*ids[0].short(), &lower[..16]);
        assert_eq!(&*ids[4].short(), "ü-keyid");
    }

    #[test]
    fn expires_round_trips_and_rejects_near_misses() {
        for s in [
            "2030-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "1969-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(Expires::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Expires::parse("1970-01-01T00:00:00Z").unwrap().unix(), 0);
        for s in [
            "2030-01-01T00:00:00.5Z",
            "2030-01-01T00:00:00+00:00",
            "2030-01-01 00:00:00Z",
            "2030-1-01T00:00:00Z",
            "2030-02-30T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2030-01-01T24:00:00Z",
            "2030-01-01T00:00:00z",
            "+030-01-01T00:00:00Z",
        ] {
            assert!(Expires::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn expiry_is_inclusive_like_python_tuf() {
        let e = Expires::parse("2030-01-01T00:00:00Z").unwrap();
        assert!(e.is_expired_at(e));
        assert!(!e.is_expired_at(Expires::from_unix(e.unix() - 1).unwrap()));
    }

    #[test]
    fn spec_version_rules() {
        for ok in ["1.0.31", "1.0", "1.10.0"] {
            SpecVersion::new(ok).unwrap();
        }
        for bad in ["2.0.0", "1.0.0-rc", "1", "1.a.0", "", "1..0", "v1.0.0"] {
            assert!(SpecVersion::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names() {
        RoleName::delegated("claimed").unwrap();
        for bad in ["", "root", "targets", "a/b", "..", "bad\nname"] {
            assert!(RoleName::delegated(bad).is_err(), "{bad:?}");
        }
        assert!(!RoleName::delegated("a b").unwrap().is_url_safe());
    }

    #[test]
    fn numbers() {
        assert!(Version::from_json(0).is_err());
        assert!(Version::from_json(-1).is_err());
        assert!(Threshold::from_json(0).is_err());
        assert!(Threshold::from_json(1 << 40).is_err());
        assert_eq!(Threshold::from_json(3).unwrap().get(), 3);
    }
}
