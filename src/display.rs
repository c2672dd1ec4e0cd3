//! Printing strings that came from untrusted files.
//!
//! Role names, target paths, custom fields and keyids in metadata were written by someone
//! else, possibly an attacker on the online side. Printed raw, control characters in them
//! could move the cursor, rewrite earlier lines of a ceremony transcript on screen, or change
//! the terminal's title. Everything printed from a file goes through [`escape`].

use std::borrow::Cow;

/// `s` with control characters (C0, DEL, C1, and the bidi overrides that can reorder what a
/// reader sees) replaced by visible escapes such as `\u{1b}`.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(escape("claimed"), "claimed");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(escape("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(escape("é"), "é");
    }
}
