//! Printing strings that came from untrusted files.
//!
//! Role names, target paths, custom fields, keyids and transcript text were written by someone
//! else, possibly an attacker on the online side or a malicious coordinator. Printed raw, they
//! can fool the officer reading the screen:
//!
//! - control characters move the cursor, rewrite earlier lines of a review on screen, or change
//!   the terminal's title;
//! - bidi overrides, isolates and marks reorder what is shown, so `claimed` followed by a
//!   right-to-left override can display as another name, and a keyid can show its digits in
//!   another order;
//! - invisible characters (zero-width spaces and joiners, the byte order mark, tag characters,
//!   variation selectors, Hangul fillers, ...) make two different role names or keyids look the
//!   same, so "this role is unchanged" or "this is the officer's keyid" is read off a string
//!   that is not the one in the file;
//! - line and paragraph separators start a new line in some terminals and viewers, so one
//!   field can forge what looks like the next line of a review.
//!
//! Everything printed from a file goes through [`escape`], which replaces each such character
//! by a visible escape such as `\u{202e}`. The same function serves the terminal and the text
//! files people read (SUMMARY.txt, transcripts shown by `transcript show`).

use std::borrow::Cow;

/// `s` with every character a reader could be fooled by replaced by a visible escape such as
/// `\u{1b}` or `\u{202e}`: see [`needs_escape`] for the list and why each class is there.
/// Printable text, including letters and marks of any script, is left as it is.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// True for a character [`escape`] replaces.
///
/// The set is the union of:
///
/// - **Cc, control** (C0, DEL, C1): terminal commands.
/// - **Cf, format** (Unicode 15): characters that change how their neighbours are shown and
///   have no glyph of their own: soft hyphen U+00AD; Arabic number signs U+0600-0605, U+06DD,
///   U+0890-0891, U+08E2 and Syriac U+070F, which swallow the digits after them; the Arabic
///   letter mark U+061C; the Mongolian vowel separator U+180E; zero-width space, non-joiner,
///   joiner U+200B-200D; the bidi marks LRM/RLM U+200E-200F, embeddings and overrides
///   U+202A-202E, isolates U+2066-2069; word joiner and invisible operators U+2060-2064 and the
///   deprecated format characters U+206A-206F; the byte order mark U+FEFF; interlinear
///   annotation U+FFF9-FFFB; Kaithi and Egyptian format controls U+110BD, U+110CD,
///   U+13430-1343F; shorthand format controls U+1BCA0-1BCA3; musical format characters
///   U+1D173-1D17A; language tag U+E0001 and tag characters U+E0020-E007F.
/// - **Zl, Zp**: the line separator U+2028 and paragraph separator U+2029 end a line in some
///   terminals and viewers, so one field could forge the next line of a review.
/// - **Default_Ignorable_Code_Point** characters that are not Cf: fonts draw nothing for them,
///   so they hide inside names: the combining grapheme joiner U+034F; Hangul fillers U+115F,
///   U+1160, U+3164, U+FFA0; Khmer inherent vowels U+17B4-17B5; Mongolian free variation
///   selectors U+180B-180D, U+180F; variation selectors U+FE00-FE0F and U+E0100-E01EF; the
///   reserved ignorable blocks U+2065, U+FFF0-FFF8 and all of U+E0000-E0FFF (tags included), so
///   a character assigned there later is already escaped.
/// - **Zs other than the ASCII space**: no-break, en, em, thin, hair, ideographic and the other
///   spaces look like U+0020 but are different text, so `a b` and `a\u{a0}b` would be two role
///   names or two paths that read the same; the Braille blank U+2800 is drawn as a space too.
/// - **Co, private use** (U+E000-F8FF, planes 15 and 16), whose look depends on the font, and
///   **noncharacters** (U+FDD0-FDEF and the last two code points of every plane), which have
///   none.
///
/// Left as they are: letters, digits, punctuation and symbols of every script, and combining
/// marks in general, which are visible (they change the character they sit on, and names in
/// non-Latin scripts need them). Look-alike letters (Cyrillic `а` for Latin `a`) are visible
/// characters and are not escaped; conclave never identifies a key or role by how its name
/// looks, but by keyid and key material, and the review prints both.
pub fn needs_escape(c: char) -> bool {
    // Printable ASCII, the whole of well-formed metadata and keyids, is never escaped.
    if (' '..='~').contains(&c) {
        return false;
    }
    if c.is_control() {
        return true;
    }
    matches!(c,
        // Zs: spaces that are not U+0020
        '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
        // Cf and default-ignorable, in code point order
        | '\u{ad}'
        | '\u{34f}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{890}'..='\u{891}'
        | '\u{8e2}'
        | '\u{115f}'..='\u{1160}'
        | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}'
        // Zl, Zp, bidi embeddings and overrides
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{2800}'
        | '\u{3164}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}'
        | '\u{ffa0}'
        | '\u{fff0}'..='\u{fffb}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}'
        // Co, private use
        | '\u{e000}'..='\u{f8ff}'
        | '\u{f0000}'..='\u{10ffff}'
        // noncharacters
        | '\u{fdd0}'..='\u{fdef}'
    ) || (u32::from(c) & 0xfffe) == 0xfffe
}

/// `s` as one word of a POSIX shell command line: as it is when it holds only characters no
/// shell treats specially, otherwise in single quotes (a `'` inside written `'\''`). For the
/// command lines conclave prints for people to run as printed (signing tasks, next steps):
/// a key file path or identity with a space in it must not become two arguments. Characters
/// [`escape`] replaces are escaped first, so the command shown can be read; such a command
/// does not run as printed, which is the point. A leading `~/` is left outside the quotes, so
/// that a path written for the holder's home directory still means it.
pub fn shell_word(s: &str) -> Cow<'_, str> {
    if let Some(rest) = s.strip_prefix("~/")
        && !rest.is_empty()
    {
        return Cow::Owned(format!("~/{}", shell_word(rest)));
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return Cow::Borrowed(s);
    }
    let shown = escape(s);
    Cow::Owned(format!("'{}'", shown.replace('\'', "'\\''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character of `class` is escaped, alone and between letters, and the escaped text
    /// contains no character that would need escaping.
    fn all_escaped(class: &str, chars: impl IntoIterator<Item = char>) {
        for c in chars {
            assert!(
                needs_escape(c),
                "{class}: U+{:04X} not escaped",
                u32::from(c)
            );
            let shown = escape(&format!("a{c}b")).into_owned();
            assert_eq!(shown, format!("a\\u{{{:x}}}b", u32::from(c)), "{class}");
            assert!(!shown.chars().any(needs_escape), "{class}");
        }
    }

    fn range(a: u32, b: u32) -> impl Iterator<Item = char> {
        (a..=b).filter_map(char::from_u32)
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(escape("claimed"), "claimed");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(escape("evil\u{202e}txt"), "evil\\u{202e}txt");
        all_escaped("C0", range(0, 0x1f));
        all_escaped("DEL and C1", range(0x7f, 0x9f));
    }

    #[test]
    fn bidi_controls_are_made_visible() {
        all_escaped("LRM, RLM", ['\u{200e}', '\u{200f}']);
        all_escaped("ALM", ['\u{61c}']);
        all_escaped("embeddings, overrides", range(0x202a, 0x202e));
        all_escaped("isolates", range(0x2066, 0x2069));
    }

    #[test]
    fn invisible_characters_are_made_visible() {
        all_escaped("zero width space, joiners", range(0x200b, 0x200d));
        all_escaped("word joiner, invisible operators", range(0x2060, 0x2064));
        all_escaped("deprecated format", range(0x206a, 0x206f));
        all_escaped("reserved U+2065", ['\u{2065}']);
        all_escaped("BOM", ['\u{feff}']);
        all_escaped("soft hyphen", ['\u{ad}']);
        all_escaped("combining grapheme joiner", ['\u{34f}']);
        all_escaped(
            "Hangul fillers",
            ['\u{115f}', '\u{1160}', '\u{3164}', '\u{ffa0}'],
        );
        all_escaped("Khmer inherent vowels", ['\u{17b4}', '\u{17b5}']);
        all_escaped("Mongolian FVS, MVS", range(0x180b, 0x180f));
        all_escaped("Braille blank", ['\u{2800}']);
    }

    #[test]
    fn tags_and_variation_selectors_are_made_visible() {
        all_escaped("language tag, tags", range(0xe0000, 0xe007f));
        all_escaped("variation selectors", range(0xfe00, 0xfe0f));
        all_escaped("variation selectors supplement", range(0xe0100, 0xe01ef));
        all_escaped("reserved ignorable plane 14", range(0xe01f0, 0xe0fff));
    }

    #[test]
    fn separators_and_look_alike_spaces_are_made_visible() {
        all_escaped("Zl, Zp", ['\u{2028}', '\u{2029}']);
        all_escaped(
            "Zs",
            ['\u{a0}', '\u{1680}', '\u{202f}', '\u{205f}', '\u{3000}'],
        );
        all_escaped("Zs", range(0x2000, 0x200a));
        assert_eq!(escape("a b"), "a b");
    }

    #[test]
    fn other_format_characters_are_made_visible() {
        all_escaped("Arabic number signs", range(0x600, 0x605));
        all_escaped(
            "Arabic, Syriac",
            ['\u{6dd}', '\u{70f}', '\u{890}', '\u{891}', '\u{8e2}'],
        );
        all_escaped("interlinear annotation", range(0xfff9, 0xfffb));
        all_escaped("specials reserved", range(0xfff0, 0xfff8));
        all_escaped("Kaithi", ['\u{110bd}', '\u{110cd}']);
        all_escaped("Egyptian format", range(0x13430, 0x1343f));
        all_escaped("shorthand format", range(0x1bca0, 0x1bca3));
        all_escaped("musical format", range(0x1d173, 0x1d17a));
    }

    #[test]
    fn private_use_and_noncharacters_are_made_visible() {
        all_escaped("private use", range(0xe000, 0xf8ff));
        all_escaped(
            "private use planes",
            ['\u{f0000}', '\u{ffffd}', '\u{100000}', '\u{10fffd}'],
        );
        all_escaped("noncharacters", range(0xfdd0, 0xfdef));
        for plane in 0..=0x10u32 {
            all_escaped(
                "plane end noncharacters",
                range(plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff),
            );
        }
    }

    #[test]
    fn printable_text_of_any_script_is_kept() {
        for s in [
            "claimed",
            "é",
            "Grüße",
            "नमस्ते",
            "עברית",
            "العربية",
            "日本語",
            "한국어",
            "emoji 🔑",
            "\\u{202e}",
            "0123456789abcdef",
            "~!@#$%^&*()_+`-=[]{}|;':\",./<>?",
        ] {
            assert_eq!(escape(s), s);
            assert!(matches!(escape(s), Cow::Borrowed(_)));
        }
        // The neighbours of each escaped range stay as they are.
        for c in [
            '\u{a1}', '\u{ae}', '\u{34e}', '\u{350}', '\u{2027}', '\u{2030}', '\u{fffc}',
        ] {
            assert!(!needs_escape(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn shell_words_are_quoted_only_when_a_shell_would_split_or_expand_them() {
        assert_eq!(shell_word("keys/alice-root.key"), "keys/alice-root.key");
        assert_eq!(shell_word("pypi.org/root/alice"), "pypi.org/root/alice");
        assert_eq!(shell_word("my keys/a.key"), "'my keys/a.key'");
        assert_eq!(shell_word("$HOME/*.key"), "'$HOME/*.key'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("~/keys/a.key"), "~/keys/a.key");
        assert_eq!(shell_word("~/my keys/a.key"), "~/'my keys/a.key'");
        assert_eq!(
            shell_word("pkcs11:token=a;object=b?module-path=/x.so"),
            "'pkcs11:token=a;object=b?module-path=/x.so'"
        );
    }
}
