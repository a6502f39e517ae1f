//! Decoding the ValidationRequest in one pass. The object is only skimmed
//! (kept as the raw text the host sent); the rules read the few parts of it
//! they need, and a mutation is made by inserting text into it.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The waPC `validate` payload: `{"request": ..., "settings": ...}`, and
/// only an object (serde would read a struct from an array by position).
pub struct Payload<'a> {
    pub request: Request<'a>,
    /// Left as text: the key under which the settings read on an earlier call
    /// are kept (the host sends the same bytes on every call).
    pub settings: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Payload<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PayloadVisitor)
    }
}

struct PayloadVisitor;

impl<'de> Visitor<'de> for PayloadVisitor {
    type Value = Payload<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with \"request\" and \"settings\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload<'de>, A::Error> {
        let mut request = None;
        let mut settings = None;
        each_member(&mut map, |key, map| {
            match key {
                "request" => request = Some(map.next_value()?),
                "settings" => settings = Some(map.next_value()?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        let request = request.ok_or_else(|| de::Error::missing_field("request"))?;
        Ok(Payload { request, settings })
    }
}

#[derive(Deserialize, Default)]
pub struct Kind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
}

/// The fields of the AdmissionRequest the policy reads.
#[derive(Default)]
pub struct Request<'a> {
    pub operation: String,
    pub kind: Kind,
    pub namespace: String,
    pub sub_resource: String,
    pub object: Option<&'a RawValue>,
    pub old_object: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Request<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestVisitor)
    }
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Request<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AdmissionRequest object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Request<'de>, A::Error> {
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

    fn decode(payload: &str) -> Request<'_> {
        serde_json::from_str::<Payload<'_>>(payload)
            .unwrap()
            .request
    }

    #[test]
    fn object_is_kept_as_sent() {
        let payload = r#"{"request": {"kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"b": 1.0, "a": [ ]}}}"#;
        let request = decode(payload);
        assert_eq!(
            (request.kind.kind.as_str(), request.operation.as_str()),
            ("Pod", "CREATE")
        );
        assert_eq!(request.object.unwrap().get(), r#"{"b": 1.0, "a": [ ]}"#);
    }

    #[test]
    fn null_fields_read_as_absent() {
        let payload = r#"{"request": {"kind": null, "operation": null, "namespace": null, "object": null, "oldObject": null}}"#;
        let request = decode(payload);
        assert_eq!(request.operation, "");
        assert!(request.old_object.is_none());
        assert!(request.object.is_none());
    }

    #[test]
    fn escaped_keys_are_read() {
        let payload = r#"{"request": {"oper\u0061tion": "CREATE"}}"#;
        assert_eq!(decode(payload).operation, "CREATE");
    }
}
