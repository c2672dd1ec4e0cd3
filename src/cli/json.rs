//! `--json` output: one JSON document on stdout, nothing else there (messages, reviews and
//! progress stay on stderr). Strings are the data as read, escaped as JSON requires (control
//! characters as `\uXXXX`), not as the terminal shows them: whoever displays them escapes them
//! for their own screen. The fields of each command are listed in docs/formats.md; new fields
//! may be added, existing ones keep their names and meaning.

use std::path::Path;

pub use conclave::cjson::Value;

/// An object from (name, value) pairs.
pub fn obj<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A path as given on the command line (lossily UTF-8).
pub fn path(p: &Path) -> Value {
    Value::String(p.display().to_string())
}

/// A value, or `null`.
pub fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// An array of strings.
pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::Array(items.into_iter().map(|s| Value::from(s.as_ref())).collect())
}

/// An unsigned count or version.
pub fn int(n: impl TryInto<i64>) -> Value {
    // Counts and versions conclave prints are far below i64::MAX; saturate rather than panic.
    Value::Int(n.try_into().unwrap_or(i64::MAX))
}

/// Print `v` as the command's one JSON document on stdout.
pub fn print(v: &Value) {
    print!(
        "{}",
        String::from_utf8_lossy(&conclave::cjson::to_pretty(v))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_strings_are_escaped_as_json_requires() {
        let v = obj([("role", Value::from("a\u{1b}[2J\"b\n"))]);
        let text = String::from_utf8(conclave::cjson::to_pretty(&v)).unwrap();
        assert!(text.contains(r#""a\u001b[2J\"b\n""#), "{text}");
        assert_eq!(conclave::cjson::parse(text.as_bytes()).unwrap(), v);
    }
}
