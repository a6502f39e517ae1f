//! Decoding the ValidationRequest in one pass. The object is only skimmed
//! (kept as the raw text the host sent); the rules read the few parts of it
//! they need, and a mutation is made by inserting text into it.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::workload::template_path;

/// The waPC `validate` payload: `{"request": ..., "settings": ...}`, and
/// only an object (serde would read a struct from an array by position).
pub struct Payload<'a> {
    pub request: Request<'a>,
    /// Left as text: it is the key of the settings read on an earlier call.
    pub settings: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Payload<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with \"request\" and \"settings\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload<'de>, A::Error> {
                let mut request = None;
                let mut settings = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.0.as_ref() {
                        "request" => request = Some(map.next_value()?),
                        "settings" => settings = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let request = request.ok_or_else(|| de::Error::missing_field("request"))?;
                Ok(Payload { request, settings })
            }
        }
        deserializer.deserialize_map(PayloadVisitor)
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

impl Request<'_> {
    /// Where the pod template is, for the kinds the policy handles.
    pub fn template_path(&self) -> Option<&'static [&'static str]> {
        template_path(&self.kind.group, &self.kind.kind)
    }

    /// `kubectl debug` adding ephemeral containers to a pod.
    pub fn is_debug(&self) -> bool {
        self.kind.group.is_empty()
            && self.kind.kind == "Pod"
            && self.operation == "UPDATE"
            && self.sub_resource == "ephemeralcontainers"
    }

    /// Whether the policy may mutate this request at all.
    pub fn is_mutable(&self) -> bool {
        self.template_path().is_some() && (self.operation == "CREATE" || self.is_debug())
    }
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
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "operation" => request.operation = text(&mut map)?,
                "kind" => request.kind = map.next_value::<Option<Kind>>()?.unwrap_or_default(),
                "namespace" => request.namespace = text(&mut map)?,
                "subResource" => request.sub_resource = text(&mut map)?,
                "object" => request.object = map.next_value()?,
                "oldObject" => request.old_object = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(request)
    }
}

/// A string field where null means empty, as the SDK treats it.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<String, A::Error> {
    Ok(map.next_value::<Option<String>>()?.unwrap_or_default())
}

/// A map key, borrowed from the payload unless it has escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
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
        deserializer.deserialize_str(KeyVisitor)
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
        assert!(request.is_mutable());
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
