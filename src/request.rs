//! Decoding the ValidationRequest. The payload is read once into an index
//! (`json::Index`), and the few fields the policy needs are taken from it;
//! the object is kept as the raw text the host sent. The rules read the
//! parts of it they need, and a mutation is made by inserting text into it.
//!
//! What the host sends always reads so. Anything else (a payload that is
//! not JSON, or fields of another type, or a field given twice) goes to
//! serde_json, whose decoding is the reference: it either gives the exact
//! message, or decodes what the index reading left to it.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::{self, Index, Object, Raw};

/// The waPC `validate` payload: `{"request": ..., "settings": ...}`, and
/// only an object (serde would read a struct from an array by position).
/// `V` is how the object is kept: a `Raw` read from an index, or the
/// `RawValue` serde_json decoded.
pub struct Payload<'a, V> {
    pub request: Request<V>,
    /// Left as text: the key under which the settings read on an earlier call
    /// are kept (the host sends the same bytes on every call).
    pub settings: Option<&'a str>,
}

impl<'a> Payload<'a, Raw<'a>> {
    /// The payload read from its index, or `None` when it is not as the host
    /// writes it, and serde_json must decide. serde_json decodes the keys of
    /// the payload, the request and its kind: each must read.
    pub fn read(index: &'a Index<'a>) -> Option<Payload<'a, Raw<'a>>> {
        let payload = Object::read(index.root()?).filter(Object::keys_read)?;
        let request = Object::read(payload.unique("request")??).filter(Object::keys_read)?;
        let settings = payload.unique_present("settings")?;
        Some(Payload {
            request: Request::read(&request)?,
            settings: settings.map(Raw::get),
        })
    }
}

/// The payload refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("cannot read the admission request: {0}")]
    Request(String),
    /// serde_json decoded a value that the policy's index does not read as
    /// JSON: a bug, refused rather than answered from a wrong reading.
    #[error("the policy cannot index a value serde_json decoded (a bug in the policy)")]
    NotJson,
}

/// The payload as serde_json decodes it, each value it keeps raw indexed on
/// its own, handed to `then`: the reading of what the index reading leaves
/// to serde_json, and the reference that reading is tested against.
pub fn decoded<T, E: From<Error>>(
    payload: &[u8],
    then: impl FnOnce(Payload<'_, Raw<'_>>) -> Result<T, E>,
) -> Result<T, E> {
    let decoded: Payload<'_, &RawValue> =
        serde_json::from_slice(payload).map_err(|e| Error::Request(e.to_string()))?;
    // The indexes first, then the values read from them: a value borrows its index.
    let mut indexes = Vec::new();
    let places = decoded.try_map(|raw| {
        indexes.push(Index::build(raw.get(), 0).map_err(|_| Error::NotJson)?);
        Ok::<_, Error>(indexes.len().saturating_sub(1))
    })?;
    let read = places.try_map(|n| indexes.get(n).and_then(Index::root).ok_or(Error::NotJson))?;
    then(read)
}

impl<'a, V> Payload<'a, V> {
    /// The same payload, with its object kept another way.
    pub fn try_map<W, E>(self, keep: impl FnMut(V) -> Result<W, E>) -> Result<Payload<'a, W>, E> {
        Ok(Payload {
            request: self.request.try_map(keep)?,
            settings: self.settings,
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Payload<'a, &'a RawValue> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PayloadVisitor)
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Payload<'de, &'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with \"request\" and \"settings\"")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<Payload<'de, &'de RawValue>, A::Error> {
        let mut request = None;
        let mut settings: Option<Option<&'de RawValue>> = None;
        each_member(&mut map, |key, map| {
            match key {
                "request" => request = Some(map.next_value()?),
                "settings" => settings = Some(map.next_value()?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        let request = request.ok_or_else(|| de::Error::missing_field("request"))?;
        let settings = settings.flatten().map(RawValue::get);
        Ok(Payload { request, settings })
    }
}

#[derive(Deserialize, Default, Debug, PartialEq)]
pub struct Kind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
}

impl Kind {
    /// `{"group": ..., "kind": ...}`, each a string when present, once.
    fn read(raw: Raw<'_>) -> Option<Kind> {
        let kind = Object::read(raw).filter(Object::keys_read)?;
        let field = |key: &str| match kind.unique(key)? {
            None => Some(String::new()),
            Some(raw) => json::string(raw).map(Cow::into_owned),
        };
        Some(Kind {
            group: field("group")?,
            kind: field("kind")?,
        })
    }
}

/// The fields of the AdmissionRequest the policy reads.
#[derive(Debug, PartialEq)]
pub struct Request<V> {
    pub operation: String,
    pub kind: Kind,
    pub namespace: String,
    pub sub_resource: String,
    pub object: Option<V>,
    pub old_object: Option<V>,
}

impl<V> Default for Request<V> {
    fn default() -> Self {
        Request {
            operation: String::new(),
            kind: Kind::default(),
            namespace: String::new(),
            sub_resource: String::new(),
            object: None,
            old_object: None,
        }
    }
}

impl<V> Request<V> {
    fn try_map<W, E>(self, mut keep: impl FnMut(V) -> Result<W, E>) -> Result<Request<W>, E> {
        Ok(Request {
            operation: self.operation,
            kind: self.kind,
            namespace: self.namespace,
            sub_resource: self.sub_resource,
            object: self.object.map(&mut keep).transpose()?,
            old_object: self.old_object.map(&mut keep).transpose()?,
        })
    }
}

impl<'a> Request<Raw<'a>> {
    /// The fields as serde_json would decode them, or `None` when one is not
    /// of its type or given twice.
    fn read(request: &Object<'a>) -> Option<Request<Raw<'a>>> {
        let kind = match request.unique_present("kind")? {
            Some(raw) => Kind::read(raw)?,
            None => Kind::default(),
        };
        Some(Request {
            operation: string_field(request, "operation")?,
            kind,
            namespace: string_field(request, "namespace")?,
            sub_resource: string_field(request, "subResource")?,
            object: request.unique_present("object")?,
            old_object: request.unique_present("oldObject")?,
        })
    }
}

/// A string field read once; absent or null is empty, as the SDK treats it.
fn string_field(object: &Object<'_>, key: &str) -> Option<String> {
    match object.unique_present(key)? {
        Some(raw) => json::string(raw).map(Cow::into_owned),
        None => Some(String::new()),
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Request<&'a RawValue> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestVisitor)
    }
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Request<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AdmissionRequest object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Request<&'de RawValue>, A::Error> {
        let mut request = Request::default();
        each_member(&mut map, |key, map| {
            match key {
                "operation" => request.operation = text(map)?,
                "kind" => request.kind = map.next_value::<Option<Kind>>()?.unwrap_or_default(),
                "namespace" => request.namespace = text(map)?,
                "subResource" => request.sub_resource = text(map)?,
                "object" => request.object = map.next_value()?,
                "oldObject" => request.old_object = map.next_value()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(request)
    }
}

/// Each member of the map, handed to `read` with its key; one that `read`
/// does not take (it returns false) is skipped.
fn each_member<'de, A: MapAccess<'de>>(
    map: &mut A,
    mut read: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if !read(&key.0, map)? {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

/// A string field where null means empty, as the SDK treats it.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<String, A::Error> {
    Ok(map.next_value::<Option<String>>()?.unwrap_or_default())
}

/// A map key, borrowed from the payload unless it has escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(v.to_string().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text of a value, or None.
    type Texts = Request<String>;

    fn by_index(payload: &str) -> Option<(Texts, Option<String>)> {
        let index = Index::build(payload, 2).ok()?;
        let read = Payload::read(&index)?;
        let read = read
            .try_map(|raw| Ok::<_, ()>(raw.get().to_string()))
            .ok()?;
        Some((read.request, read.settings.map(str::to_string)))
    }

    fn by_serde(payload: &str) -> Result<(Texts, Option<String>), String> {
        let decoded: Payload<'_, &RawValue> =
            serde_json::from_str(payload).map_err(|e| e.to_string())?;
        let decoded = decoded.try_map(|raw| Ok::<_, String>(raw.get().to_string()))?;
        Ok((decoded.request, decoded.settings.map(str::to_string)))
    }

    /// The request read from the index, checked against serde_json's decoding.
    fn decode(payload: &str) -> Texts {
        let read = by_index(payload).expect("read from the index");
        assert_eq!(Ok(&read), by_serde(payload).as_ref());
        read.0
    }

    #[test]
    fn object_is_kept_as_sent() {
        let payload = r#"{"request": {"kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"b": 1.0, "a": [ ]}}}"#;
        let request = decode(payload);
        assert_eq!(
            (request.kind.kind.as_str(), request.operation.as_str()),
            ("Pod", "CREATE")
        );
        assert_eq!(request.object.unwrap(), r#"{"b": 1.0, "a": [ ]}"#);
    }

    #[test]
    fn null_fields_read_as_absent() {
        let payload = r#"{"request": {"kind": null, "operation": null, "namespace": null, "object": null, "oldObject": null}, "settings": null}"#;
        let request = decode(payload);
        assert_eq!(request, Request::default());
    }

    #[test]
    fn escaped_keys_are_read() {
        let payload = r#"{"request": {"oper\u0061tion": "CREATE"}}"#;
        assert_eq!(decode(payload).operation, "CREATE");
    }

    /// serde_json decodes no key deeper than the request's kind: a lone
    /// surrogate there is read past as it reads past it.
    #[test]
    fn keys_below_the_request_are_not_decoded() {
        let payload = r#"{"request": {"userInfo": {"\ud800": 1}, "object": {"\ud800": 2}}, "settings": {"\ud800": 3}}"#;
        assert_eq!(decode(payload).object.as_deref(), Some(r#"{"\ud800": 2}"#));
    }

    #[test]
    fn settings_are_kept_as_text() {
        let payload = r#"{"settings": {"configMap": "a"}, "request": {}}"#;
        let read = by_index(payload).unwrap();
        assert_eq!(read.1.as_deref(), Some(r#"{"configMap": "a"}"#));
        assert_eq!(Ok(read), by_serde(payload));
    }

    /// What the index reading leaves to serde_json: it decodes some (a kind
    /// given as a list, a field twice), and refuses the rest with its message.
    #[test]
    fn other_shapes_are_left_to_serde_json() {
        let cases = [
            (r#"{"request": {"kind": ["", "Pod"]}}"#, Ok("Pod")),
            (
                r#"{"request": {"kind": {"kind": "Pod"}, "kind": {"kind": "Job"}}}"#,
                Ok("Job"),
            ),
            (
                r#"{"request": 5, "request": {"kind": {"kind": "Pod"}}}"#,
                Err(
                    "invalid type: integer `5`, expected an AdmissionRequest object at line 1 column 13",
                ),
            ),
            (
                r#"{"request": {"kind": {"kind": "Pod", "kind": "Pod"}}}"#,
                Err("duplicate field `kind` at line 1 column 43"),
            ),
            (
                r#"{"request": {"operation": 1}}"#,
                Err("invalid type: integer `1`, expected a string at line 1 column 27"),
            ),
            (
                r#"{"settings": {}}"#,
                Err("missing field `request` at line 1 column 16"),
            ),
            // Keys serde_json decodes: of the payload, the request, its kind.
            (
                r#"{"request": {"\ud800x": 1}}"#,
                Err("unexpected end of hex escape at line 1 column 21"),
            ),
            (
                r#"{"request": {}, "\udc00": 1}"#,
                Err("lone leading surrogate in hex escape at line 1 column 23"),
            ),
            (
                r#"{"request": {"kind": {"\ud800": 1, "kind": "Pod"}}}"#,
                Err("unexpected end of hex escape at line 1 column 30"),
            ),
            (
                r#"[{"request": {}}]"#,
                Err(
                    "invalid type: sequence, expected an object with \"request\" and \"settings\" at line 1 column 0",
                ),
            ),
        ];
        for (payload, expected) in cases {
            assert!(by_index(payload).is_none(), "{payload}");
            let decoded = by_serde(payload).map(|(request, _)| request.kind.kind);
            assert_eq!(
                decoded.as_deref(),
                expected.map_err(str::to_string).as_deref(),
                "{payload}"
            );
        }
    }
}
