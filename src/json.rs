//! The object as the host sent it, read only where a rule looks, and changed
//! by inserting text into it. Every byte the policy does not own comes back
//! exactly as it came in (member order, spacing, number spelling included),
//! and nothing is parsed into a tree or written out again but the small
//! pieces the rules read and the additions.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// A JSON value left unparsed, borrowed from the request.
pub type Raw<'a> = &'a RawValue;

/// What kind of JSON value a raw one is, for messages.
pub fn kind_of(raw: Raw<'_>) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    }
}

pub fn is_null(raw: Raw<'_>) -> bool {
    raw.get() == "null"
}

/// How deep an object may nest: serde_json, which the host parses our answer
/// with, refuses a 128th level, and the answer wraps the object in one more.
const DEPTH_LIMIT: usize = 126;

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at.saturating_add(4))?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// What skimming leaves unchecked and the host's parser refuses: nesting
/// deeper than it goes, and `\u` escapes of unpaired UTF-16 surrogates. An
/// object that passes comes back parseable with our insertions in it.
pub fn check(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        i = i.saturating_add(1);
        match (in_string, b) {
            (false, b'"') | (true, b'"') => in_string = !in_string,
            (false, b'[' | b'{') => {
                depth = depth.saturating_add(1);
                if depth > DEPTH_LIMIT {
                    return Err(format!(
                        "recursion limit exceeded: nested deeper than {DEPTH_LIMIT} levels"
                    ));
                }
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            (true, b'\\') => {
                if bytes.get(i) != Some(&b'u') {
                    i = i.saturating_add(1);
                    continue;
                }
                let code = hex4(bytes, i.saturating_add(1)).unwrap_or_default();
                i = i.saturating_add(5);
                if (0xDC00..0xE000).contains(&code) {
                    return Err("lone trailing surrogate in hex escape".to_string());
                }
                if (0xD800..0xDC00).contains(&code) {
                    let paired = bytes.get(i..i.saturating_add(2)) == Some(b"\\u".as_slice())
                        && hex4(bytes, i.saturating_add(2))
                            .is_some_and(|c| (0xDC00..0xE000).contains(&c));
                    if !paired {
                        return Err("lone leading surrogate in hex escape".to_string());
                    }
                    i = i.saturating_add(6);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// An object's members in order, their values left raw.
#[derive(Debug)]
pub struct Object<'a> {
    pub raw: Raw<'a>,
    members: Vec<(Cow<'a, str>, Raw<'a>)>,
}

impl<'a> Object<'a> {
    /// `None` when `raw` is not an object.
    pub fn read(raw: Raw<'a>) -> Option<Object<'a>> {
        if !raw.get().starts_with('{') {
            return None;
        }
        let members = serde_json::from_str::<Members<'a>>(raw.get()).ok()?.0;
        Some(Object { raw, members })
    }

    /// A member's value; with duplicate keys the last one wins, as in
    /// serde_json and Go's decoder.
    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// A member, `None` when absent or null (the API treats both alike).
    pub fn present(&self, key: &str) -> Option<Raw<'a>> {
        self.get(key).filter(|raw| !is_null(raw))
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// An array's items, left raw. `None` when `raw` is not an array.
pub fn items(raw: Raw<'_>) -> Option<Vec<Raw<'_>>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<Raw<'_>>>(raw.get()).ok()
}

/// A string value. `None` when `raw` is not a string.
pub fn string(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Text<'_>>(raw.get())
        .ok()
        .map(|t| t.0)
}

/// A small piece parsed into a tree, for rules that compare whole values.
pub fn value(raw: Raw<'_>) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

struct Members<'a>(Vec<(Cow<'a, str>, Raw<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    members.push((key.0, map.next_value::<Raw<'de>>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A string, borrowed from the request unless it has escapes.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Text<'de>, A::Error> {
                Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One change to the object's text: at byte `at`, drop `remove` bytes and put `text`.
#[derive(Debug)]
struct Edit {
    at: usize,
    remove: usize,
    text: String,
}

/// The additions to one object, applied in one pass over its text.
#[derive(Debug)]
pub struct Edits<'a> {
    base: &'a str,
    list: Vec<Edit>,
}

/// JSON text of one of our additions (plain data, so it cannot fail).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl<'a> Edits<'a> {
    /// Edits to `base`, the object's whole text, of which every raw value is a part.
    pub fn new(base: Raw<'a>) -> Edits<'a> {
        Edits {
            base: base.get(),
            list: Vec::new(),
        }
    }

    /// Where `raw` starts in the object's text.
    fn start(&self, raw: Raw<'_>) -> usize {
        (raw.get().as_ptr() as usize).wrapping_sub(self.base.as_ptr() as usize)
    }

    /// Just before the closing bracket of an array or object.
    fn before_end(&self, raw: Raw<'_>) -> usize {
        self.start(raw)
            .saturating_add(raw.get().len())
            .saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether an insertion at `at` follows content: the container had some,
    /// or an earlier edit already put some there.
    fn follows(&self, at: usize, had_content: bool) -> bool {
        had_content || self.list.iter().any(|e| e.at == at && e.remove == 0)
    }

    /// Append `items` (JSON texts) at the end of the array `raw` of `len` items.
    pub fn append(&mut self, raw: Raw<'_>, len: usize, items: &[String]) {
        let at = self.before_end(raw);
        let mut text = String::new();
        for item in items {
            if !text.is_empty() || self.follows(at, len > 0) {
                text.push(',');
            }
            text.push_str(item);
        }
        if !text.is_empty() {
            self.list.push(Edit {
                at,
                remove: 0,
                text,
            });
        }
    }

    /// Add `key` with `value` (JSON text) at the end of `object`.
    pub fn add_member(&mut self, object: &Object<'_>, key: &str, value: &str) {
        let at = self.before_end(object.raw);
        let mut text = String::new();
        if self.follows(at, !object.is_empty()) {
            text.push(',');
        }
        text.push_str(&to_json(key));
        text.push(':');
        text.push_str(value);
        self.list.push(Edit {
            at,
            remove: 0,
            text,
        });
    }

    /// Put `value` (JSON text) where `raw` is: a null list, a value the policy owns.
    pub fn replace(&mut self, raw: Raw<'_>, value: String) {
        let at = self.start(raw);
        self.list.push(Edit {
            at,
            remove: raw.get().len(),
            text: value,
        });
    }

    /// The object's text with every edit applied.
    pub fn apply(mut self) -> String {
        self.list.sort_by_key(|e| e.at);
        let extra: usize = self.list.iter().map(|e| e.text.len()).sum();
        let mut out = String::with_capacity(self.base.len().saturating_add(extra));
        let mut from = 0;
        for edit in &self.list {
            out.push_str(self.base.get(from..edit.at).unwrap_or_default());
            out.push_str(&edit.text);
            from = edit.at.saturating_add(edit.remove).max(from);
        }
        out.push_str(self.base.get(from..).unwrap_or_default());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn members_keep_order_and_the_last_duplicate_wins() {
        let r = raw(r#"{"b": 1, "a": [2], "b": "x"}"#);
        let o = Object::read(r).unwrap();
        assert_eq!(o.get("a").unwrap().get(), "[2]");
        assert_eq!(o.get("b").unwrap().get(), "\"x\"");
        assert!(Object::read(raw("[1]")).is_none());
    }

    #[test]
    fn append_to_empty_and_full_arrays() {
        let text = r#"{"a": [], "b": [ 1 ,2 ]}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let mut edits = Edits::new(r);
        edits.append(
            o.get("a").unwrap(),
            0,
            &["1".into(), to_json(&json!({"k": "v"}))],
        );
        edits.append(o.get("b").unwrap(), 2, &["3".into()]);
        assert_eq!(edits.apply(), r#"{"a": [1,{"k":"v"}], "b": [ 1 ,2 ,3]}"#);
    }

    #[test]
    fn add_members_to_empty_and_full_objects() {
        let text = r#"{"e": {}, "f": {"x":1.0}}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let e = Object::read(o.get("e").unwrap()).unwrap();
        let f = Object::read(o.get("f").unwrap()).unwrap();
        let mut edits = Edits::new(r);
        edits.add_member(&e, "k", "1");
        edits.add_member(&e, "l", "[]");
        edits.add_member(&f, "y", "\"z\"");
        edits.add_member(&o, "g", "null");
        assert_eq!(
            edits.apply(),
            r#"{"e": {"k":1,"l":[]}, "f": {"x":1.0,"y":"z"},"g":null}"#
        );
    }

    #[test]
    fn replace_swaps_one_value() {
        let text = r#"{"env": null, "n": 1e3}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let mut edits = Edits::new(r);
        edits.replace(o.get("env").unwrap(), to_json(&json!([{"name": "A"}])));
        assert_eq!(edits.apply(), r#"{"env": [{"name":"A"}], "n": 1e3}"#);
    }

    #[test]
    fn strings_with_escapes_are_decoded() {
        assert_eq!(string(raw(r#""a\u0062c""#)).unwrap(), "abc");
        assert_eq!(string(raw("5")), None);
    }

    #[test]
    fn check_refuses_what_the_host_cannot_parse() {
        assert_eq!(check(r#"{"a": "\ud83d\ude00 [{"}"#), Ok(()));
        assert_eq!(check(r#"{"a": "\\u0000", "b": "\"["}"#), Ok(()));
        assert_eq!(
            check(r#"{"a": "\ud800"}"#),
            Err("lone leading surrogate in hex escape".into())
        );
        assert_eq!(
            check(r#"{"a": "\udc00"}"#),
            Err("lone trailing surrogate in hex escape".into())
        );
        let deep = format!("{}{}", "[".repeat(DEPTH_LIMIT), "]".repeat(DEPTH_LIMIT));
        assert_eq!(check(&deep), Ok(()));
        let deeper = format!("[{deep}]");
        assert!(check(&deeper)
            .unwrap_err()
            .starts_with("recursion limit exceeded"));
        // Every answer that passes parses.
        let parsed: Result<Value, _> = serde_json::from_str(&format!("{{\"o\": {deep}}}"));
        assert!(parsed.is_ok());
    }

    #[test]
    fn kinds_for_messages() {
        for (text, kind) in [
            ("{}", "an object"),
            ("[]", "a list"),
            ("\"s\"", "a string"),
            ("null", "null"),
            ("true", "a boolean"),
            ("-1", "a number"),
        ] {
            assert_eq!(kind_of(raw(text)), kind);
        }
    }
}
