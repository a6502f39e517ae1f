//! Reading the settings' JSON: each value by its key, of the kind the key
//! needs, refused with a message naming the key.

use serde_json::{Map, Value};

use crate::diag::Kind;
use crate::names;
use crate::selection::Glob;

/// The top-level settings, read by key.
pub struct Reader<'a>(pub &'a Map<String, Value>);

impl<'a> Reader<'a> {
    /// A present, non-null value.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "setting \"{key}\" must be a string, found {}",
                Kind::of(other)
            )),
        }
    }

    pub fn checked_string(
        &self,
        key: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, String> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => check(s)
                .map(|()| Some(s.to_string()))
                .map_err(|reason| format!("setting \"{key}\": {s:?} {reason}")),
        }
    }

    /// A boolean; the strings "true" and "false" (as Go's ParseBool spells
    /// them) are taken too, as the webhook's config.yaml had them.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => names::parse_bool(s)
                .ok_or_else(|| format!("setting \"{key}\": {s:?} must be true or false")),
            Some(other) => Err(format!(
                "setting \"{key}\" must be true or false, found {}",
                Kind::of(other)
            )),
        }
    }

    pub fn list(&self, key: &str) -> Result<Vec<&'a str>, String> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(format!(
                    "setting \"{key}\" must be a list of strings, found {}",
                    Kind::of(other)
                ))
            }
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().ok_or_else(|| {
                    format!(
                        "setting \"{key}\"[{i}] must be a string, found {}",
                        Kind::of(item)
                    )
                })
            })
            .collect()
    }

    pub fn globs(&self, key: &str) -> Result<Vec<Glob>, String> {
        self.list(key)?
            .into_iter()
            .map(|p| {
                Glob::parse(p).map_err(|reason| {
                    format!("setting \"{key}\": {p:?} is not a valid glob: {reason}")
                })
            })
            .collect()
    }
}

/// A setting that is an object of its own fields, each named in messages as
/// `setting.field`.
pub struct Nested<'m> {
    key: &'static str,
    map: &'m Map<String, Value>,
}

impl<'m> Nested<'m> {
    /// `value` as an object with only `fields`; `form` says what it should hold.
    pub fn read(
        value: &'m Value,
        key: &'static str,
        fields: &[&str],
        form: &str,
    ) -> Result<Nested<'m>, String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "setting \"{key}\" must be an object with {form}, found {}",
                Kind::of(value)
            ));
        };
        if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(format!(
                "setting \"{key}.{unknown}\" is not known: use {form}"
            ));
        }
        Ok(Nested { key, map })
    }

    /// A string field; absent or null is `None`.
    pub fn text(&self, field: &str) -> Result<Option<&'m str>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "setting \"{}.{field}\" must be a string, found {}",
                self.key,
                Kind::of(other)
            )),
        }
    }

    pub fn get(&self, field: &str) -> Option<&'m Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }
}
