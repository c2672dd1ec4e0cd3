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

    pub(crate) fn string(&mut self, field: &str) -> Result<String, FormatError> {
        let path = self.path(field);
        as_string(self.required(field)?, &path)
    }

    pub(crate) fn int(&mut self, field: &str) -> Result<i64, FormatError> {
        let path = self.path(field);
        as_int(self.required(field)?, &path)
    }

    pub(crate) fn opt_int(&mut self, field: &str) -> Result<Option<i64>, FormatError> {
        let path = self.path(field);
        self.take(field).map(|v| as_int(v, &path)).transpose()
    }

    pub(crate) fn opt_bool(&mut self, field: &str) -> Result<Option<bool>, FormatError> {
        let path = self.path(field);
        match self.take(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(FormatError::new(
                &path,
                format!("must be a boolean, found {}", other.kind()),
            )),
        }
    }

    pub(crate) fn object(&mut self, field: &str) -> Result<Map, FormatError> {
        let path = self.path(field);
        as_object(self.required(field)?, &path)
    }

    pub(crate) fn opt_object(&mut self, field: &str) -> Result<Option<Map>, FormatError> {
        let path = self.path(field);
        self.take(field).map(|v| as_object(v, &path)).transpose()
    }

    pub(crate) fn array(&mut self, field: &str) -> Result<Vec<Value>, FormatError> {
        let path = self.path(field);
        as_array(self.required(field)?, &path)
    }

    pub(crate) fn opt_array(&mut self, field: &str) -> Result<Option<Vec<Value>>, FormatError> {
        let path = self.path(field);
        self.take(field).map(|v| as_array(v, &path)).transpose()
    }

    pub(crate) fn string_list(&mut self, field: &str) -> Result<Vec<String>, FormatError> {
        let path = self.path(field);
        strings(self.array(field)?, &path)
    }

    pub(crate) fn opt_string_list(
        &mut self,
        field: &str,
    ) -> Result<Option<Vec<String>>, FormatError> {
        let path = self.path(field);
        self.opt_array(field)?
            .map(|items| strings(items, &path))
            .transpose()
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

pub(crate) fn as_int(value: Value, path: &str) -> Result<i64, FormatError> {
    match value {
        Value::Int(i) => Ok(i),
        other => Err(FormatError::new(
            path,
            format!("must be an integer, found {}", other.kind()),
        )),
    }
}

pub(crate) fn as_object(value: Value, path: &str) -> Result<Map, FormatError> {
    match value {
        Value::Object(m) => Ok(m),
        other => Err(FormatError::new(
            path,
            format!("must be an object, found {}", other.kind()),
        )),
    }
}

pub(crate) fn as_array(value: Value, path: &str) -> Result<Vec<Value>, FormatError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(FormatError::new(
            path,
            format!("must be an array, found {}", other.kind()),
        )),
    }
}

fn strings(items: Vec<Value>, path: &str) -> Result<Vec<String>, FormatError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| as_string(v, &format!("{path}[{i}]")))
        .collect()
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
