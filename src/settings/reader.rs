//! Reading the settings' JSON: each value by its key, of the kind the key
//! needs, refused with a message naming the key.

use serde_json::{Map, Value};

use crate::diag::Kind;
use crate::error::{Expected, Reason, Subject, ValueError};
use crate::settings::names;
use crate::settings::selection::Glob;

/// A setting's object refused as it is read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    /// A field that the setting's object does not have.
    #[error("setting \"{setting}.{field}\" is not known: use {form}")]
    UnknownField {
        setting: &'static str,
        field: String,
        form: &'static str,
    },
}

/// The top-level settings, read by key.
pub struct Reader<'a>(pub &'a Map<String, Value>);

/// `setting "{key}" must be {expected}, found` what `found` is.
pub fn wrong(key: &str, expected: Expected, found: &Value) -> ValueError {
    ValueError::wrong_kind(Subject::setting(key), expected, Kind::of(found))
}

/// `setting "{key}": {value:?} {reason}`.
pub fn invalid(key: &str, value: &str, reason: impl Into<Reason>) -> ValueError {
    ValueError::invalid(Subject::setting(key), value, reason)
}

impl<'a> Reader<'a> {
    /// A present, non-null value.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>, ValueError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong(key, Expected::String, other)),
        }
    }

    /// A string that `check` accepts.
    pub fn checked_string<R: Into<Reason>>(
        &self,
        key: &str,
        check: fn(&str) -> Result<(), R>,
    ) -> Result<Option<String>, ValueError> {
        let Some(s) = self.string(key)? else {
            return Ok(None);
        };
        check(s).map_err(|reason| invalid(key, s, reason))?;
        Ok(Some(s.to_string()))
    }

    /// A boolean; the strings "true" and "false" (as Go's ParseBool spells
    /// them) are taken too, as the webhook's config.yaml had them.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, ValueError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => names::parse_bool(s)
                .ok_or_else(|| invalid(key, s, Reason::MustBe(Expected::Boolean))),
            Some(other) => Err(wrong(key, Expected::Boolean, other)),
        }
    }

    pub fn list(&self, key: &'static str) -> Result<Vec<&'a str>, ValueError> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong(key, Expected::StringList, other)),
        };
        strings(key, items)
    }

    pub fn globs(&self, key: &'static str) -> Result<Vec<Glob>, ValueError> {
        let glob =
            |p: &str| Glob::parse(p).map_err(|reason| invalid(key, p, Reason::NotGlob(reason)));
        self.list(key)?.into_iter().map(glob).collect()
    }
}

/// The items of the list setting `key`, each a string.
pub fn strings<'v>(key: &'static str, items: &'v [Value]) -> Result<Vec<&'v str>, ValueError> {
    let item = |(i, item): (usize, &'v Value)| {
        let subject = Subject::SettingItem(key, i);
        item.as_str()
            .ok_or_else(|| ValueError::wrong_kind(subject, Expected::String, Kind::of(item)))
    };
    items.iter().enumerate().map(item).collect()
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
        form: &'static str,
    ) -> Result<Nested<'m>, Error> {
        let Value::Object(map) = value else {
            return Err(wrong(key, Expected::ObjectWith(form), value).into());
        };
        if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(Error::UnknownField {
                setting: key,
                field: unknown.clone(),
                form,
            });
        }
        Ok(Nested { key, map })
    }

    /// A string field; absent or null is `None`.
    pub fn text(&self, field: &str) -> Result<Option<&'m str>, ValueError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong(&self.name(field), Expected::String, other)),
        }
    }

    pub fn get(&self, field: &str) -> Option<&'m Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// `setting "{key}.{field}": {value:?} {reason}`.
    pub fn invalid(&self, field: &str, value: &str, reason: impl Into<Reason>) -> ValueError {
        invalid(&self.name(field), value, reason)
    }

    fn name(&self, field: &str) -> String {
        format!("{}.{field}", self.key)
    }
}
