//! Reading a JSON object field by field, keeping whatever is left over.
//!
//! Every metadata struct is read through [`Fields`]: known fields are taken out with a
//! type check, and the rest is kept verbatim as the struct's `extra` so that it is written
//! back and signed exactly as it was (TUF spec, "File formats: general principles").

use crate::cjson::{Map, Value};
use crate::metadata::FormatError;

pub(crate) struct Fields {
    map: Map,
    path: String,
}

impl Fields {
    pub(crate) fn new(value: Value, path: &str) -> Result<Self, FormatError> {
        match value {
            Value::Object(map) => Ok(Fields {
                map,
                path: path.to_owned(),
            }),
            other => Err(FormatError::new(
                path,
                format!("must be an object, found {}", other.kind()),
            )),
        }
    }

    pub(crate) fn path(&self, field: &str) -> String {
        join(&self.path, field)
    }

    pub(crate) fn take(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field)
    }

    pub(crate) fn required(&mut self, field: &str) -> Result<Value, FormatError> {
        self.take(field)
            .ok_or_else(|| FormatError::new(&self.path, format!("missing field \"{field}\"")))
    }

    // Paths are built only when there is an error to report: a claimed role reads millions of
    // fields, and formatting each one's path was a large part of reading it.

    pub(crate) fn string(&mut self, field: &str) -> Result<String, FormatError> {
        match self.required(field)? {
            Value::String(s) => Ok(s),
            other => Err(self.wrong_type(field, "a string", &other)),
        }
    }

    pub(crate) fn int(&mut self, field: &str) -> Result<i64, FormatError> {
        match self.required(field)? {
            Value::Int(i) => Ok(i),
            other => Err(self.wrong_type(field, "an integer", &other)),
        }
    }

    pub(crate) fn opt_int(&mut self, field: &str) -> Result<Option<i64>, FormatError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(i)),
            Some(other) => Err(self.wrong_type(field, "an integer", &other)),
        }
    }

    pub(crate) fn opt_bool(&mut self, field: &str) -> Result<Option<bool>, FormatError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(field, "a boolean", &other)),
        }
    }

    pub(crate) fn object(&mut self, field: &str) -> Result<Map, FormatError> {
        match self.required(field)? {
            Value::Object(m) => Ok(m),
            other => Err(self.wrong_type(field, "an object", &other)),
        }
    }

    pub(crate) fn opt_object(&mut self, field: &str) -> Result<Option<Map>, FormatError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.wrong_type(field, "an object", &other)),
        }
    }

    pub(crate) fn array(&mut self, field: &str) -> Result<Vec<Value>, FormatError> {
        match self.required(field)? {
            Value::Array(items) => Ok(items),
            other => Err(self.wrong_type(field, "an array", &other)),
        }
    }

    pub(crate) fn opt_array(&mut self, field: &str) -> Result<Option<Vec<Value>>, FormatError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.wrong_type(field, "an array", &other)),
        }
    }

    pub(crate) fn string_list(&mut self, field: &str) -> Result<Vec<String>, FormatError> {
        let items = self.array(field)?;
        strings(items, || self.path(field))
    }

    pub(crate) fn opt_string_list(
        &mut self,
        field: &str,
    ) -> Result<Option<Vec<String>>, FormatError> {
        match self.opt_array(field)? {
            None => Ok(None),
            Some(items) => strings(items, || self.path(field)).map(Some),
        }
    }

    fn wrong_type(&self, field: &str, expected: &str, found: &Value) -> FormatError {
        FormatError::new(
            &self.path(field),
            format!("must be {expected}, found {}", found.kind()),
        )
    }

    /// The fields nobody asked for: kept and signed as they are.
    pub(crate) fn rest(self) -> Map {
        self.map
    }
}

pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

pub(crate) fn as_string(value: Value, path: &str) -> Result<String, FormatError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(FormatError::new(
            path,
            format!("must be a string, found {}", other.kind()),
        )),
    }
}

fn strings(items: Vec<Value>, path: impl Fn() -> String) -> Result<Vec<String>, FormatError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.into_iter().enumerate() {
        match v {
            Value::String(s) => out.push(s),
            other => {
                return Err(FormatError::new(
                    &format!("{}[{i}]", path()),
                    format!("must be a string, found {}", other.kind()),
                ));
            }
        }
    }
    Ok(out)
}

/// Build an object from known fields plus the kept unknown ones. Known fields win: the model
/// never lets an `extra` entry shadow a field it understands.
pub(crate) fn object(known: Vec<(&str, Value)>, extra: &Map) -> Value {
    let mut map = extra.clone();
    for (k, v) in known {
        map.insert(k.to_owned(), v);
    }
    Value::Object(map)
}
