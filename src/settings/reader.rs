//! Reading the settings' JSON: each value by its key, of the kind the key
//! needs, refused with a message naming the key.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::diag::Kind;
use crate::error::{Expected, Reason, Subject, ValueError};
use crate::settings::names;
use crate::settings::selection::Glob;

/// The settings read by key: the top-level ones, or the fields of the
/// setting `within`, which messages name `setting.field`.
pub struct Reader<'a> {
    map: &'a Map<String, Value>,
    within: Option<&'static str>,
}

/// `setting "{key}" must be {expected}, found` what `found` is.
pub fn wrong(key: &str, expected: Expected, found: &Value) -> ValueError {
    ValueError::wrong_kind(Subject::setting(key), expected, Kind::of(found))
}

/// `setting "{key}": {value:?} {reason}`.
pub fn invalid(key: &str, value: &str, reason: impl Into<Reason>) -> ValueError {
    ValueError::invalid(Subject::setting(key), value, reason)
}

impl<'a> Reader<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Reader<'a> {
        Reader { map, within: None }
    }

    /// `value` as the object of the setting `key` with only `fields`; `form`
    /// says what it should hold.
    pub fn nested(
        value: &'a Value,
        key: &'static str,
        fields: &[&str],
        form: &'static str,
    ) -> Result<Reader<'a>, ValueError> {
        let Value::Object(map) = value else {
            return Err(wrong(key, Expected::ObjectWith(form), value));
        };
        if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            let subject = Subject::Setting(format!("{key}.{unknown}"));
            return Err(ValueError::UnknownField { subject, form });
        }
        Ok(Reader {
            map,
            within: Some(key),
        })
    }

    /// How messages name the setting `key`.
    fn name<'k>(&self, key: &'k str) -> Cow<'k, str> {
        match self.within {
            None => Cow::Borrowed(key),
            Some(setting) => Cow::Owned(format!("{setting}.{key}")),
        }
    }

    /// `setting "{key}": {value:?} {reason}`.
    pub fn invalid(&self, key: &str, value: &str, reason: impl Into<Reason>) -> ValueError {
        invalid(&self.name(key), value, reason)
    }

    /// A present, non-null value.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>, ValueError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong(&self.name(key), Expected::String, other)),
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
        check(s).map_err(|reason| self.invalid(key, s, reason))?;
        Ok(Some(s.to_string()))
    }

    /// A boolean; the strings "true" and "false" (as Go's ParseBool spells
    /// them) are taken too, as the webhook's config.yaml had them.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, ValueError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => names::parse_bool(s)
                .ok_or_else(|| self.invalid(key, s, Reason::MustBe(Expected::Boolean))),
            Some(other) => Err(wrong(&self.name(key), Expected::Boolean, other)),
        }
    }

    /// A list of strings (of a top-level setting: messages name its items).
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
