//! Reading a scanned document: values left raw, objects by key, arrays by
//! item, strings decoded only when they have escapes. Nothing is scanned
//! again: every step goes from the index.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::Error;
use super::scan::Index;
use crate::diag::Kind;

/// A JSON value left unparsed: its text, borrowed from the document, and its
/// place in the document's index.
#[derive(Clone, Copy)]
pub struct Raw<'a> {
    pub(super) text: &'a str,
    pub(super) index: &'a Index<'a>,
    pub(super) at: usize,
}

impl std::fmt::Debug for Raw<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({})", self.text)
    }
}

impl<'a> Raw<'a> {
    pub fn get(self) -> &'a str {
        self.text
    }

    /// What kind of value this is, for messages.
    pub fn kind(self) -> Kind {
        Kind::of_text(self.text)
    }

    /// Where this value is in its document.
    pub(super) fn span(self) -> std::ops::Range<usize> {
        self.index
            .tokens
            .get(self.at)
            .map_or(0..0, |t| t.start..t.end)
    }

    /// Whether this is a string with escapes.
    fn escaped(self) -> bool {
        self.index.tokens.get(self.at).is_some_and(|t| t.escaped)
    }
}

impl<'a> Index<'a> {
    /// The document's value.
    pub fn root(&self) -> Option<Raw<'_>> {
        self.raw(0)
    }

    pub(super) fn raw(&self, at: usize) -> Option<Raw<'_>> {
        let token = self.tokens.get(at)?;
        let text = self.text.get(token.start..token.end)?;
        Some(Raw {
            text,
            index: self,
            at,
        })
    }

    /// Whether the key at `at` spells `key`, compared in place.
    fn key_is(&self, at: usize, key: &str) -> bool {
        let Some(token) = self.tokens.get(at) else {
            return false;
        };
        if token.escaped {
            return self.raw(at).is_some_and(|raw| key_is(raw, key.as_bytes()));
        }
        // Its length without the quotes first: most keys differ in it.
        let len = token.end.wrapping_sub(token.start).wrapping_sub(2);
        len == key.len()
            && self
                .text
                .as_bytes()
                .get(token.start.wrapping_add(1)..token.end.wrapping_sub(1))
                == Some(key.as_bytes())
    }

    /// The place in the index past the last descendant of the value at `at`.
    pub(super) fn next(&self, at: usize) -> usize {
        self.tokens.get(at).map_or(at, |t| t.next)
    }
}

/// An object's members in order, their values left raw: read from the
/// index as they are asked for, nothing copied.
#[derive(Debug)]
pub struct Object<'a> {
    pub raw: Raw<'a>,
}

impl<'a> Object<'a> {
    /// `None` when `raw` is not an object.
    pub fn read(raw: Raw<'a>) -> Option<Object<'a>> {
        raw.text.starts_with('{').then_some(Object { raw })
    }

    /// A member's value: of duplicate keys, the last (see the contract in `json`).
    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        let Raw { index, at, .. } = self.raw;
        let end = index.next(at);
        let mut found = None;
        let mut key_at = at.saturating_add(1);
        while key_at < end {
            let value = key_at.saturating_add(1);
            if index.key_is(key_at, key) {
                found = Some(value);
            }
            key_at = index.next(value);
        }
        index.raw(found?)
    }

    /// A member, `None` when absent or null (the API treats both alike).
    pub fn present(&self, key: &str) -> Option<Raw<'a>> {
        self.get(key).filter(|raw| !is_null(*raw))
    }

    pub fn is_empty(&self) -> bool {
        let Raw { index, at, .. } = self.raw;
        index.next(at) <= at.saturating_add(1)
    }
}

/// Whether the raw key (with its quotes, maybe escaped) spells `key`.
pub(super) fn key_is(raw: Raw<'_>, key: &[u8]) -> bool {
    let text = raw.text.as_bytes();
    let inner = text
        .get(1..text.len().saturating_sub(1))
        .unwrap_or_default();
    inner == key || (raw.escaped() && string(raw).is_some_and(|k| k.as_bytes() == key))
}

/// An array's items, left raw. `None` when `raw` is not an array.
pub fn items(raw: Raw<'_>) -> Option<Vec<Raw<'_>>> {
    if !raw.text.starts_with('[') {
        return None;
    }
    let Raw { index, at, .. } = raw;
    let end = index.next(at);
    // Most lists of a pod have a few items: room for them.
    let mut items = Vec::with_capacity(8);
    let mut item = at.saturating_add(1);
    while let Some(value) = index.raw(item).filter(|_| item < end) {
        items.push(value);
        item = index.next(item);
    }
    Some(items)
}

/// A string value. `None` when `raw` is not a string, or (only with an
/// escape of a lone surrogate, which `Raw::check` names) does not decode.
pub fn string(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    let inner = raw.text.strip_prefix('"')?.strip_suffix('"')?;
    if raw.escaped() {
        serde_json::from_str::<String>(raw.text)
            .ok()
            .map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

pub fn is_null(raw: Raw<'_>) -> bool {
    raw.text == "null"
}

/// A small object parsed into a map, for rules that compare whole values.
pub fn map(object: &Object<'_>) -> Result<Map<String, Value>, Error> {
    serde_json::from_str(object.raw.text).map_err(|e| Error::Json(e.to_string()))
}

/// The JSON text of one of our additions.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::raw;
    use super::*;

    /// The contract's rule for duplicate keys, as serde_json's `Value` reads them.
    #[test]
    fn members_keep_order_and_the_last_duplicate_wins() {
        let text = r#"{"b": 1, "a": [2], "b": "x", "\u0062": {"c": 3}, "n": 1, "n": null}"#;
        let o = Object::read(raw(text)).unwrap();
        assert_eq!(o.get("a").unwrap().get(), "[2]");
        assert_eq!(o.get("b").unwrap().get(), r#"{"c": 3}"#);
        assert_eq!(o.get("n").unwrap().get(), "null");
        assert!(o.present("n").is_none());
        let serde: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde["b"], serde_json::json!({"c": 3}));
        assert_eq!(serde["n"], Value::Null);
        assert!(Object::read(raw("[1]")).is_none());
    }

    #[test]
    fn strings_are_decoded_and_scanning_finds_values_across_strings_escapes_and_nesting() {
        assert_eq!(string(raw(r#""a\u0062c""#)).unwrap(), "abc");
        assert_eq!(string(raw("5")), None);
        assert_eq!(string(raw(r#""\ud800""#)), None);
        let text = "{ \"a\\\"]}\" : \"x\\\\\",\n \"n\":-1.5e3 ,\"l\":[ [1,{\"k\":\"]\"}], \"}\" ,true],\"na\\u006de\":\"v\"\t}";
        let o = Object::read(raw(text)).unwrap();
        assert_eq!(o.get("a\"]}").unwrap().get(), "\"x\\\\\"");
        assert_eq!(o.get("n").unwrap().get(), "-1.5e3");
        let l = items(o.get("l").unwrap()).unwrap();
        let l: Vec<&str> = l.iter().map(|r| r.get()).collect();
        assert_eq!(l, vec!["[1,{\"k\":\"]\"}]", "\"}\"", "true"]);
        assert_eq!(o.get("name").unwrap().get(), "\"v\"");
        assert!(items(raw("[]")).unwrap().is_empty());
        assert!(Object::read(raw("{ }")).unwrap().is_empty());
        assert!(!Object::read(raw(r#"{"a": {}}"#)).unwrap().is_empty());
    }
}
