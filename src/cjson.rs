//! JSON for TUF metadata: a strict reader, the canonical encoder that signatures and keyids
//! are computed over, and the plain writer used for files.
//!
//! The canonical form is the one securesystemslib's `encode_canonical` produces, because that
//! is what python-tuf (and so pip) signs and verifies:
//! - object keys sorted by code point (a `BTreeMap<String, _>` orders UTF-8 bytes, which is the
//!   same order), no whitespace, `,` and `:` separators;
//! - strings escape only `"` and `\`; control characters and non-ASCII are written raw as
//!   UTF-8, and nothing is Unicode-normalised;
//! - integers in decimal; floats do not exist.
//!
//! The reader is deliberately stricter than most JSON parsers. A parser that keeps the last of
//! two duplicate keys lets an attacker show one value to a human reviewer (who reads the first)
//! and another to the signer, so duplicate keys, floats, trailing data, invalid UTF-8, raw
//! control characters in strings and lone surrogates are all errors.

use std::collections::BTreeMap;
use std::fmt;

/// A JSON object with keys in canonical (code point) order.
pub type Map = BTreeMap<String, Value>;

/// A JSON value as TUF metadata can hold it: no floats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer; TUF metadata has no other numbers (floats are refused on input).
    Int(i64),
    /// A string, as decoded (nothing is Unicode-normalised).
    String(String),
    /// An array, in order.
    Array(Vec<Value>),
    /// An object; a key may appear only once on input.
    Object(Map),
}

impl Value {
    /// A short name for the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The text of a string, or `None` for other values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The fields of an object, or `None` for other values.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The field `key` of an object, or `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical encoding
// ---------------------------------------------------------------------------------------------

/// The canonical bytes of `value`: what is hashed for keyids and signed in metadata.
pub fn to_canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

/// Append the canonical bytes of `value` to `out`.
pub(crate) fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => write_int(*i, out),
        Value::String(s) => write_canonical_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(k, out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
    }
}

// securesystemslib escapes exactly these two characters and nothing else: a raw LF inside a
// PEM key must stay a raw LF, or every keyid and signature over it differs from python-tuf's.
/// Append `s` as a canonical JSON string: quoted, with only `"` and `\` escaped.
pub(crate) fn write_canonical_str(s: &str, out: &mut Vec<u8>) {
    write_canonical_bytes(s.as_bytes(), out);
}

/// [`write_canonical_str`] for the bytes of a string that is already known to be UTF-8.
pub(crate) fn write_canonical_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings need no backslash at all (two memchr scans say so); the others are copied
    // in runs between the characters that do. A claimed role is hundreds of megabytes of them.
    if !bytes.contains(&b'"') && !bytes.contains(&b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            start = i;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Append 32 bytes as a string of 64 lowercase hex digits (a SHA-256 keyid, an Ed25519
/// public key): the canonical form of that text, which needs no escaping.
pub(crate) fn write_hex32(raw: &[u8; 32], out: &mut Vec<u8>) {
    let mut text = [b'"'; 66];
    hex::encode_to_slice(raw, &mut text[1..65]).expect("64 hex digits for 32 bytes");
    out.extend_from_slice(&text);
}

/// Append the decimal form of `i` without allocating.
pub(crate) fn write_int(i: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

// ---------------------------------------------------------------------------------------------
// Plain (RFC 8259) writer for files
// ---------------------------------------------------------------------------------------------

/// `value` as standard JSON for a file: sorted keys, two-space indentation, control characters
/// escaped (canonical JSON's raw control characters are not valid JSON, so files can't be
/// canonical), non-ASCII as UTF-8, and a final newline.
pub fn to_pretty(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_pretty(value, 0, &mut out);
    out.push(b'\n');
    out
}

fn write_pretty(value: &Value, indent: usize, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.extend_from_slice(b"[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",\n");
                }
                pad(indent + 1, out);
                write_pretty(item, indent + 1, out);
            }
            out.push(b'\n');
            pad(indent, out);
            out.push(b']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.extend_from_slice(b"{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",\n");
                }
                pad(indent + 1, out);
                write_escaped_str(k, out);
                out.extend_from_slice(b": ");
                write_pretty(v, indent + 1, out);
            }
            out.push(b'\n');
            pad(indent, out);
            out.push(b'}');
        }
        Value::Array(_) => out.extend_from_slice(b"[]"),
        Value::Object(_) => out.extend_from_slice(b"{}"),
        Value::String(s) => write_escaped_str(s, out),
        scalar => write_canonical(scalar, out),
    }
}

fn pad(indent: usize, out: &mut Vec<u8>) {
    out.extend(std::iter::repeat_n(b' ', indent * 2));
}

fn write_escaped_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

// ---------------------------------------------------------------------------------------------
// Strict reader
// ---------------------------------------------------------------------------------------------

/// Nesting deeper than this is refused: real metadata is a handful of levels deep, and an
/// unbounded recursive parser can be made to overflow its stack.
pub const MAX_DEPTH: usize = 128;

/// Why a document is not acceptable JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line} column {column}")]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// The line of the offending byte, from 1.
    pub line: usize,
    /// The column of the offending byte, from 1, in characters (not bytes).
    pub column: usize,
}

/// What [`parse`] refuses; the module docs say why each is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The input, or a string in it, is not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// The input starts with a UTF-8 byte order mark.
    #[error("byte order mark is not allowed")]
    ByteOrderMark,
    /// The input ends inside a value, a string or an escape.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A character that cannot start or continue a value where it stands.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// Something other than whitespace follows the document's one value.
    #[error("trailing data after the JSON value")]
    TrailingData,
    /// An object holds this key twice: a reader keeping the first and one keeping the last
    /// would see two different documents.
    #[error("duplicate object key {0:?}")]
    DuplicateKey(String),
    /// A number with a fraction or exponent, or `NaN`/`Infinity`: canonical JSON has no floats.
    #[error("floating-point numbers are not allowed in TUF metadata")]
    Float,
    /// An integer outside the `i64` range.
    #[error("integer out of range")]
    IntegerOutOfRange,
    /// A number with a leading zero, such as `012`.
    #[error("numbers must not have leading zeros")]
    LeadingZero,
    /// A `-` without digits, or another malformed number.
    #[error("invalid number")]
    InvalidNumber,
    /// A raw control character (below U+0020) inside a string; JSON requires it escaped.
    #[error("unescaped control character U+{0:04X} in string")]
    ControlCharacter(u32),
    /// A backslash escape JSON does not define, or `\u` without four hex digits.
    #[error("invalid escape sequence")]
    InvalidEscape,
    /// A `\u` escape of half a UTF-16 surrogate pair without the other half: no UTF-8 spells it.
    #[error("unpaired surrogate \\u{0:04x} in string")]
    LoneSurrogate(u32),
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Parse one JSON document strictly (see the module docs for what is refused).
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    parse_hooked(bytes, None).map(|(v, _, _)| v)
}

/// Parse a metadata file and also find where its `"signed"` value lies (see [`SignedSpan`]).
pub fn parse_with_signed(bytes: &[u8]) -> Result<(Value, Option<SignedSpan>), ParseError> {
    parse_hooked(bytes, None).map(|(v, span, _)| (v, span))
}

/// What [`parse_hooked`] returns: the tree, where `signed` lies, what the hook read.
pub(crate) type Hooked = (
    Value,
    Option<SignedSpan>,
    Option<Box<dyn std::any::Any + Send>>,
);

/// [`parse_with_signed`], with a [`Hook`] for `signed.delegations`. When the hook reads that
/// value, the returned tree holds `null` in its place.
pub(crate) fn parse_hooked(bytes: &[u8], hook: Option<Hook>) -> Result<Hooked, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(position_error(
                bytes,
                e.valid_up_to(),
                ParseErrorKind::InvalidUtf8,
            ));
        }
    };
    if text.starts_with('\u{feff}') {
        return Err(position_error(bytes, 0, ParseErrorKind::ByteOrderMark));
    }
    let mut parser = Parser::new(text, 0, hook);
    match parser.document() {
        Ok(v) => Ok((v, parser.signed, parser.hooked)),
        Err(kind) => Err(position_error(bytes, parser.pos, kind)),
    }
}

/// The canonical bytes of a regular [`SignedSpan`]'s text: the text itself, or with its
/// escaped control characters written raw. `None` when the text was not regular.
pub fn canonical_of_span<'a>(
    bytes: &'a [u8],
    span: &SignedSpan,
) -> Option<std::borrow::Cow<'a, [u8]>> {
    if !span.regular {
        return None;
    }
    let text = &bytes[span.start..span.end];
    if !span.control_escapes {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = Vec::with_capacity(text.len());
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            i += 1;
            continue;
        }
        // A regular span holds only \" \\ and control-character escapes.
        let (raw, len) = match text.get(i + 1) {
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b't') => (b'\t', 2),
            Some(b'b') => (0x08, 2),
            Some(b'f') => (0x0c, 2),
            Some(b'u') => {
                let hex = std::str::from_utf8(text.get(i + 2..i + 6)?).ok()?;
                (u8::from_str_radix(hex, 16).ok()?, 6)
            }
            _ => {
                i += 2;
                continue;
            }
        };
        out.extend_from_slice(&text[start..i]);
        out.push(raw);
        i += len;
        start = i;
    }
    out.extend_from_slice(&text[start..]);
    Some(std::borrow::Cow::Owned(out))
}

fn position_error(bytes: &[u8], offset: usize, kind: ParseErrorKind) -> ParseError {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    // Columns count characters, not bytes; continuation bytes don't start a character.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    ParseError { kind, line, column }
}

/// The strict reader. Metadata code can read parts of a document itself through a [`Hook`].
pub(crate) struct Parser<'a> {
    /// The whole input, checked to be UTF-8 once: a string between two ASCII delimiters is
    /// then a slice of it, without checking its bytes again.
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    /// True while the value of the top-level `"signed"` key is read.
    in_signed: bool,
    /// Reads the value of `signed.delegations` itself, if it can (see [`Hook`]).
    hook: Option<Hook>,
    /// What the hook read.
    hooked: Option<Box<dyn std::any::Any + Send>>,
    /// Places where the text differs from canonical form in a way decoding cannot undo by
    /// itself (whitespace, unsorted keys, `\/`, `\u0041`, `-0`): counted, so a caller can tell
    /// whether a value's text was canonical.
    irregular: usize,
    /// Escaped control characters (`\n`, `\u0001`): canonical form has them raw.
    control_escapes: usize,
    /// Where the top-level object's `"signed"` value lies, and how regular it was.
    signed: Option<SignedSpan>,
}

/// Reads the value of `signed.delegations` straight into a model, leaving the parser after it;
/// or returns `None`, and the parser reads it as an ordinary value (the parser restores its
/// position). Metadata uses it to read a million delegations without building a JSON tree for
/// them first.
pub(crate) type Hook = fn(&mut Parser<'_>) -> Option<Box<dyn std::any::Any + Send>>;

/// The text of the top-level `"signed"` value and whether it is canonical JSON as written
/// (`regular`), possibly with control characters escaped (`control_escapes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedSpan {
    /// Byte offset of the value's first byte in the input.
    pub start: usize,
    /// Byte offset just past the value's last byte.
    pub end: usize,
    /// True when the text is canonical as written, apart from escaped control characters.
    pub regular: bool,
    /// True when the text escapes control characters that canonical form writes raw.
    pub control_escapes: bool,
}

type PResult<T> = Result<T, ParseErrorKind>;

impl<'a> Parser<'a> {
    fn new(text: &'a str, pos: usize, hook: Option<Hook>) -> Self {
        Parser {
            text,
            src: text.as_bytes(),
            pos,
            irregular: 0,
            control_escapes: 0,
            signed: None,
            in_signed: false,
            hook,
            hooked: None,
        }
    }

    fn document(&mut self) -> PResult<Value> {
        self.skip_ws();
        let value = self.value(0)?;
        self.skip_ws();
        if self.pos < self.src.len() {
            return Err(ParseErrorKind::TrailingData);
        }
        Ok(value)
    }

    /// Let the hook read the value here; restore everything if it declines. Only the first
    /// occurrence is offered (a second one is a duplicate key, which the caller reports).
    fn hooked(&mut self) -> bool {
        let Some(hook) = self.hook.filter(|_| self.hooked.is_none()) else {
            return false;
        };
        let saved = (self.pos, self.irregular, self.control_escapes);
        match hook(self) {
            Some(v) => {
                self.hooked = Some(v);
                true
            }
            None => {
                (self.pos, self.irregular, self.control_escapes) = saved;
                false
            }
        }
    }

    /// Read an object whose entries `entry` reads, given each key; keys must come in strictly
    /// increasing order (as canonical JSON has them), or the read fails. `None` on anything
    /// unexpected: callers fall back to the ordinary reader, which says what is wrong.
    pub(crate) fn sorted_object(
        &mut self,
        mut entry: impl FnMut(&mut Self, &str) -> Option<()>,
    ) -> Option<()> {
        self.expect(b'{').ok()?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(());
        }
        let mut last: Option<std::borrow::Cow<'a, str>> = None;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.key()?;
            if last.as_ref().is_some_and(|l| *l >= key) {
                return None;
            }
            self.skip_ws();
            self.expect(b':').ok()?;
            self.skip_ws();
            entry(self, &key)?;
            last = Some(key);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Read an array whose items `item` reads.
    pub(crate) fn array_of(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[').ok()?;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            item(self)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The text from the current position on.
    pub(crate) fn rest(&self) -> &'a [u8] {
        let src: &'a [u8] = self.src;
        &src[self.pos..]
    }

    /// The current position.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Step over `text` if it comes next.
    pub(crate) fn literal_text(&mut self, text: &[u8]) -> Option<()> {
        self.src[self.pos..]
            .starts_with(text)
            .then(|| self.pos += text.len())
    }

    /// A reader over a piece of a document (see `metadata::streamed`), without a hook.
    pub(crate) fn over(text: &'a str) -> Parser<'a> {
        Parser::new(text, 0, None)
    }

    /// A second reader over the same text from `pos`, to read part of it on another thread.
    pub(crate) fn fork(&self, pos: usize) -> Parser<'a> {
        Parser::new(self.text, pos, None)
    }

    /// Where the reader is, to come back to with [`Parser::restore`].
    pub(crate) fn checkpoint(&self) -> (usize, usize, usize) {
        (self.pos, self.irregular, self.control_escapes)
    }

    pub(crate) fn restore(&mut self, at: (usize, usize, usize)) {
        (self.pos, self.irregular, self.control_escapes) = at;
    }

    /// Continue after what a fork read, counting what it saw.
    pub(crate) fn join(&mut self, fork: &Parser<'a>) {
        self.pos = fork.pos;
        self.irregular += fork.irregular;
        self.control_escapes += fork.control_escapes;
    }

    /// An object key: borrowed from the text when it has no escapes (nearly always).
    fn key(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let src: &'a [u8] = self.src;
        let start = self.pos + 1;
        let rest = src.get(start..)?;
        // The closing quote or a backslash, found a word at a time; a control character before
        // it (not allowed in JSON text) sends the string to the exact reader below, which
        // reports it.
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        let plain = rest[..len].iter().fold(true, |ok, &b| ok & (b >= 0x20));
        if plain && src[start + len] == b'"' {
            self.pos = start + len + 1;
            return self
                .text
                .get(start..start + len)
                .map(std::borrow::Cow::Borrowed);
        }
        self.string().ok().map(std::borrow::Cow::Owned)
    }

    /// A string value borrowed from the text when it has no escapes (nearly always), or
    /// `None`.
    pub(crate) fn str_value(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        (self.peek() == Some(b'"')).then(|| self.key()).flatten()
    }

    /// A string value, or `None`.
    pub(crate) fn string_value(&mut self) -> Option<String> {
        (self.peek() == Some(b'"'))
            .then(|| self.string().ok())
            .flatten()
    }

    /// An integer value, or `None`.
    pub(crate) fn int_value(&mut self) -> Option<i64> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => match self.number().ok()? {
                Value::Int(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }

    /// `true` or `false`, or `None`.
    pub(crate) fn bool_value(&mut self) -> Option<bool> {
        match self.peek() {
            Some(b't') => self.literal("true", Value::Bool(true)).ok().map(|_| true),
            Some(b'f') => self
                .literal("false", Value::Bool(false))
                .ok()
                .map(|_| false),
            _ => None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        let start = self.pos;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
        if self.pos != start {
            self.irregular += 1;
        }
    }

    fn unexpected(&self) -> ParseErrorKind {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => ParseErrorKind::UnexpectedChar(c),
            None => ParseErrorKind::UnexpectedEnd,
        }
    }

    fn expect(&mut self, b: u8) -> PResult<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn value(&mut self, depth: usize) -> PResult<Value> {
        if depth >= MAX_DEPTH {
            return Err(ParseErrorKind::TooDeep);
        }
        match self.peek() {
            None => Err(ParseErrorKind::UnexpectedEnd),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            // NaN and Infinity are floats by another name.
            Some(b'N' | b'I') => Err(ParseErrorKind::Float),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> PResult<Value> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.unexpected())
        }
    }

    fn object(&mut self, depth: usize) -> PResult<Value> {
        self.pos += 1; // '{'
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key_pos = self.pos;
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value_start = self.pos;
            let before = (self.irregular, self.control_escapes);
            let top_signed = depth == 0 && key == "signed";
            let value = if depth == 1 && self.in_signed && key == "delegations" && self.hooked() {
                Value::Null
            } else {
                self.in_signed |= top_signed;
                let v = self.value(depth + 1);
                self.in_signed &= !top_signed;
                v?
            };
            if top_signed {
                self.signed = Some(SignedSpan {
                    start: value_start,
                    end: self.pos,
                    regular: self.irregular == before.0,
                    control_escapes: self.control_escapes != before.1,
                });
            }
            if map.contains_key(&key) {
                self.pos = key_pos;
                return Err(ParseErrorKind::DuplicateKey(key));
            }
            if map.last_key_value().is_some_and(|(last, _)| *last > key) {
                self.irregular += 1;
            }
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> PResult<Value> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let digits = &self.src[digits_start..self.pos];
        if digits.is_empty() {
            return Err(match self.peek() {
                Some(b'I' | b'N') => ParseErrorKind::Float,
                _ => ParseErrorKind::InvalidNumber,
            });
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            self.pos = start;
            return Err(ParseErrorKind::Float);
        }
        if digits.len() > 1 && digits[0] == b'0' {
            self.pos = start;
            return Err(ParseErrorKind::LeadingZero);
        }
        if digits == b"0" && start != digits_start {
            self.irregular += 1; // -0 is written 0
        }
        // Only ASCII digits and '-' were consumed, so this is valid UTF-8.
        let text = std::str::from_utf8(&self.src[start..self.pos])
            .map_err(|_| ParseErrorKind::InvalidNumber)?;
        text.parse::<i64>().map(Value::Int).map_err(|_| {
            self.pos = start;
            ParseErrorKind::IntegerOutOfRange
        })
    }

    fn string(&mut self) -> PResult<String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the longest run of ordinary characters at once.
            let run_start = self.pos;
            let rest = &self.src[self.pos..];
            self.pos += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            // The input is valid UTF-8 and the run stops only at ASCII bytes, so it is too.
            out.push_str(
                self.text
                    .get(run_start..self.pos)
                    .ok_or(ParseErrorKind::InvalidUtf8)?,
            );
            match self.peek() {
                None => return Err(ParseErrorKind::UnexpectedEnd),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(b) => return Err(ParseErrorKind::ControlCharacter(u32::from(b))),
            }
        }
    }

    fn escape(&mut self) -> PResult<char> {
        let Some(b) = self.peek() else {
            return Err(ParseErrorKind::UnexpectedEnd);
        };
        self.pos += 1;
        match b {
            b'"' | b'\\' => {}
            b'b' | b'f' | b'n' | b'r' | b't' => self.control_escapes += 1,
            b'u' if self
                .src
                .get(self.pos..self.pos + 4)
                .is_some_and(|h| h[..2] == *b"00" && matches!(h[2], b'0' | b'1')) =>
            {
                self.control_escapes += 1
            }
            _ => self.irregular += 1,
        }
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if self.src[self.pos..].starts_with(b"\\u") {
                            self.pos += 2;
                            let second = self.hex4()?;
                            if !(0xDC00..=0xDFFF).contains(&second) {
                                return Err(ParseErrorKind::LoneSurrogate(first));
                            }
                            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                            char::from_u32(code).ok_or(ParseErrorKind::InvalidEscape)?
                        } else {
                            return Err(ParseErrorKind::LoneSurrogate(first));
                        }
                    }
                    0xDC00..=0xDFFF => return Err(ParseErrorKind::LoneSurrogate(first)),
                    code => char::from_u32(code).ok_or(ParseErrorKind::InvalidEscape)?,
                }
            }
            _ => {
                self.pos -= 1;
                return Err(ParseErrorKind::InvalidEscape);
            }
        })
    }

    fn hex4(&mut self) -> PResult<u32> {
        let Some(digits) = self.src.get(self.pos..self.pos + 4) else {
            return Err(ParseErrorKind::InvalidEscape);
        };
        let mut value = 0u32;
        for &d in digits {
            let nibble = (d as char)
                .to_digit(16)
                .ok_or(ParseErrorKind::InvalidEscape)?;
            value = value * 16 + nibble;
        }
        self.pos += 4;
        Ok(value)
    }
}

impl fmt::Display for Value {
    /// Canonical form, lossily decoded for display (it is always valid UTF-8).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&to_canonical(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        String::from_utf8(to_canonical(&parse(text.as_bytes()).unwrap())).unwrap()
    }

    #[test]
    fn facts_sheet_example_is_reproduced() {
        // {"b":"é<LF>\"\\","a":[1,true,null]} -> raw LF and raw é, only " and \ escaped.
        let v = parse(br#"{"b":"\u00e9\n\"\\","a":[1,true,null]}"#).unwrap();
        assert_eq!(
            to_canonical(&v),
            "{\"a\":[1,true,null],\"b\":\"é\n\\\"\\\\\"}".as_bytes()
        );
    }

    #[test]
    fn hex_and_known_utf8_strings_write_as_ordinary_strings() {
        for raw in [
            [0u8; 32],
            [0xff; 32],
            std::array::from_fn(|i| (i * 37 + 5) as u8),
        ] {
            let (mut fast, mut plain) = (Vec::new(), Vec::new());
            write_hex32(&raw, &mut fast);
            write_canonical_str(&hex::encode(raw), &mut plain);
            assert_eq!(fast, plain);
        }
        for s in ["", "a\"b", "back\\slash", "ünï\ncödé"] {
            let (mut bytes, mut text) = (Vec::new(), Vec::new());
            write_canonical_bytes(s.as_bytes(), &mut bytes);
            write_canonical_str(s, &mut text);
            assert_eq!(bytes, text);
        }
    }

    #[test]
    fn prefix_sharing_keys_sort_by_code_point() {
        assert_eq!(
            canon(r#"{"docs/a b":2,"a!":4,"docs/a":1,"a":3}"#),
            r#"{"a":3,"a!":4,"docs/a":1,"docs/a b":2}"#
        );
    }

    #[test]
    fn no_unicode_normalisation() {
        assert_eq!(canon(r#""e\u0301""#), "\"e\u{301}\"");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::DuplicateKey("a".into()));
        // Duplicates are compared after unescaping.
        let err = parse(br#"{"a":1,"\u0061":2}"#).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::DuplicateKey("a".into()));
    }

    #[test]
    fn floats_and_their_disguises_are_rejected() {
        for text in [
            "1.0",
            "1e3",
            "1E3",
            "-0.5",
            "NaN",
            "Infinity",
            "-Infinity",
            "[1.5]",
        ] {
            let err = parse(text.as_bytes()).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::Float, "{text}");
        }
    }

    #[test]
    fn malformed_documents_are_rejected_with_a_position() {
        let cases: &[(&[u8], ParseErrorKind)] = &[
            (b"{} {}", ParseErrorKind::TrailingData),
            (b"{\"a\":1", ParseErrorKind::UnexpectedEnd),
            (b"\"\xff\"", ParseErrorKind::InvalidUtf8),
            (b"\xef\xbb\xbf{}", ParseErrorKind::ByteOrderMark),
            (b"\"a\nb\"", ParseErrorKind::ControlCharacter(10)),
            (b"\"\\ud800\"", ParseErrorKind::LoneSurrogate(0xd800)),
            (b"\"\\udc00\"", ParseErrorKind::LoneSurrogate(0xdc00)),
            (b"\"\\x\"", ParseErrorKind::InvalidEscape),
            (b"012", ParseErrorKind::LeadingZero),
            (b"99999999999999999999", ParseErrorKind::IntegerOutOfRange),
            (b"[1,]", ParseErrorKind::UnexpectedChar(']')),
            (b"{\"a\" 1}", ParseErrorKind::UnexpectedChar('1')),
            (b"", ParseErrorKind::UnexpectedEnd),
            (b"-", ParseErrorKind::InvalidNumber),
            (b"tru", ParseErrorKind::UnexpectedChar('t')),
        ];
        for (text, kind) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(&err.kind, kind, "{:?}", String::from_utf8_lossy(text));
        }
        let err = parse(b"{\n  \"a\": 1,\n  \"a\": 2\n}").unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        assert_eq!(
            parse(text.as_bytes()).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
    }

    #[test]
    fn surrogate_pairs_decode_to_one_character() {
        assert_eq!(
            parse(br#""\ud83d\ude00""#).unwrap(),
            Value::String("\u{1F600}".into())
        );
    }

    #[test]
    fn pretty_output_reparses_to_the_same_value() {
        let v = parse("{\"k\":[\"a\\u0001\\n\\\"\\\\é\",{},[],-3,null,false]}".as_bytes()).unwrap();
        let pretty = to_pretty(&v);
        assert_eq!(parse(&pretty).unwrap(), v);
    }

    #[test]
    fn integers_are_written_in_decimal_without_allocating() {
        for i in [0, 1, -1, 9, 10, 1234567890, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_int(i, &mut out);
            assert_eq!(out, i.to_string().into_bytes());
        }
    }

    #[test]
    fn only_quote_and_backslash_are_escaped() {
        let mut out = Vec::new();
        write_canonical_str("a\"b\\c\nd\u{e9}", &mut out);
        assert_eq!(out, "\"a\\\"b\\\\c\nd\u{e9}\"".as_bytes());
    }

    fn span_canonical(text: &str) -> Option<Vec<u8>> {
        let (_, span) = parse_with_signed(text.as_bytes()).unwrap();
        canonical_of_span(text.as_bytes(), &span.unwrap()).map(|c| c.into_owned())
    }

    #[test]
    fn a_canonical_signed_text_is_used_as_it_is() {
        let text = r#"{"signatures":[],"signed":{"a":"x\"y\\z","b":[1,-2,true,null]}}"#;
        let canon = span_canonical(text).unwrap();
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(canon, to_canonical(value.get("signed").unwrap()));
    }

    #[test]
    fn escaped_control_characters_are_written_raw() {
        let text = r#"{"signed":{"pem":"-----\nKEY\u0001\t\r\b\f-\\n"}}"#;
        let canon = span_canonical(text).unwrap();
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(canon, to_canonical(value.get("signed").unwrap()));
    }

    #[test]
    fn non_canonical_signed_texts_are_not_used() {
        for text in [
            r#"{"signed":{"b":1,"a":2}}"#,
            r#"{"signed":{"a": 1}}"#,
            r#"{"signed":{"a":"\/"}}"#,
            r#"{"signed":{"a":"\u0041"}}"#,
            r#"{"signed":{"a":"\u00e9"}}"#,
            r#"{"signed":{"a":-0}}"#,
            r#"{"signed":[ 1]}"#,
            r#"{"signed":{"a":{"d":1,"c":2}}}"#,
        ] {
            assert_eq!(span_canonical(text), None, "{text}");
        }
        // Whitespace around the signed value, or elsewhere in the envelope, does not matter.
        assert!(span_canonical(r#"{ "signatures" : [ ] , "signed" : {"a":1} }"#).is_some());
    }
}
