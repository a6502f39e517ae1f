//! Decoding the ValidationRequest. The payload is read once into an index
//! (`json::Index`), and the few fields the policy needs are taken from it;
//! the object is kept as the raw text the host sent. The rules read the
//! parts of it they need, and a mutation is made by inserting text into it.
//!
//! A payload that is not JSON is refused with serde_json's own message; a
//! field of another type than the API's, with a message naming its path
//! (`request.namespace`). A key given twice reads as `json` says (the last).

use std::borrow::Cow;

use crate::diag::{At, Kind};
use crate::error::{Expected, ValueError};
use crate::fields;
use crate::json::{self, Index, Object, Raw};

/// The payload refused, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot read the admission request: {0}")]
pub struct Error(Fault);

/// Why the payload is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum Fault {
    /// serde_json's own message: the payload is not JSON.
    #[error("{0}")]
    NotJson(String),
    /// serde_json reads a payload as JSON that the policy's index does not:
    /// a bug, refused rather than answered from a wrong reading.
    #[error("the policy cannot index a payload serde_json reads (a bug in the policy)")]
    Unindexed,
    /// A field of another type than the API's, or missing.
    #[error(transparent)]
    Field(#[from] ValueError),
    /// A string with an escape serde_json refuses.
    #[error("{at}: {problem}")]
    String { at: String, problem: json::Error },
}

/// The payload's index, or serde_json's words for why it is not JSON.
pub fn index(payload: &[u8]) -> Result<Index<'_>, Error> {
    // The object and the old object sit two levels into the payload.
    let indexed = std::str::from_utf8(payload).map(|text| Index::build(text, 2));
    let Ok(Ok(index)) = indexed else {
        // One call, on the failing path only: its message says where and what.
        // Read as a `Value`, which (unlike `IgnoredAny`) checks UTF-8 in strings.
        let refused = serde_json::from_slice::<serde_json::Value>(payload).err();
        let problem = refused.map_or(Fault::Unindexed, |e| Fault::NotJson(e.to_string()));
        return Err(Error(problem));
    };
    Ok(index)
}

/// The waPC `validate` payload: `{"request": ..., "settings": ...}`.
pub struct Payload<'a> {
    pub request: Request<'a>,
    /// Left as text: the key under which the settings read on an earlier call
    /// are kept (the host sends the same bytes on every call).
    pub settings: Option<&'a str>,
}

impl<'a> Payload<'a> {
    /// The payload read from its index.
    pub fn read(index: &'a Index<'a>) -> Result<Payload<'a>, Error> {
        Payload::fields(index).map_err(Error)
    }

    fn fields(index: &'a Index<'a>) -> Result<Payload<'a>, Fault> {
        let payload = index.root().ok_or(Fault::Unindexed)?;
        let payload = fields::object(payload, &At::Root("payload"))?;
        let at = At::Root("request");
        let request = payload
            .get("request")
            .ok_or_else(|| fields::missing(&at, Some(Expected::Object)))?;
        Ok(Payload {
            request: Request::read(&fields::object(request, &at)?, &at)?,
            settings: payload.present("settings").map(Raw::get),
        })
    }
}

/// The fields of the AdmissionRequest the policy reads. Absent or null
/// reads as empty, as the SDK's defaults have it; so does the kind, but not
/// its group and kind, which are strings when present.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub operation: String,
    pub kind: GroupKind,
    pub namespace: String,
    pub sub_resource: String,
    pub object: Option<Raw<'a>>,
    pub old_object: Option<Raw<'a>>,
}

#[derive(Default, Debug)]
/// The request's `kind`: the group and kind of its object.
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl<'a> Request<'a> {
    fn read(request: &Object<'a>, at: &At<'_>) -> Result<Request<'a>, Fault> {
        let text = |field| optional(request.present(field), &At::Field(at, field));
        Ok(Request {
            operation: text("operation")?,
            kind: GroupKind::read(request, at)?,
            namespace: text("namespace")?,
            sub_resource: text("subResource")?,
            object: request.present("object"),
            old_object: request.present("oldObject"),
        })
    }
}

impl GroupKind {
    fn read(request: &Object<'_>, at: &At<'_>) -> Result<GroupKind, Fault> {
        let Some(kind) = request.present("kind") else {
            return Ok(GroupKind::default());
        };
        let at = At::Field(at, "kind");
        let kind = fields::object(kind, &at)?;
        let text = |field| optional(kind.get(field), &At::Field(&at, field));
        Ok(GroupKind {
            group: text("group")?,
            kind: text("kind")?,
        })
    }
}

/// A string when there is a value, empty when there is none.
fn optional(raw: Option<Raw<'_>>, at: &At<'_>) -> Result<String, Fault> {
    raw.map_or(Ok(String::new()), |raw| string(raw, at))
}

/// A string, decoded; one with an escape serde_json refuses is named so.
fn string(raw: Raw<'_>, at: &At<'_>) -> Result<String, Fault> {
    if raw.kind() == Kind::String {
        raw.check().map_err(|problem| Fault::String {
            at: at.to_string(),
            problem,
        })?;
    }
    json::string(raw)
        .map(Cow::into_owned)
        .ok_or_else(|| fields::wrong(at, Expected::String, raw).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the policy reads of `payload`: the request's fields, with the
    /// texts of its object and old object, and the settings' text.
    fn read(payload: impl AsRef<[u8]>) -> Result<(Request<'static>, Option<&'static str>), String> {
        let payload: &'static [u8] = Box::leak(payload.as_ref().into());
        let index = index(payload).map_err(|e| e.to_string())?;
        let read = Payload::read(Box::leak(Box::new(index))).map_err(|e| e.to_string())?;
        Ok((read.request, read.settings))
    }

    fn request(payload: &str) -> Request<'static> {
        read(payload).unwrap().0
    }

    #[test]
    fn object_and_settings_are_kept_as_sent() {
        let payload = r#"{"request": {"kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"b": 1.0, "a": [ ]}}}"#;
        let request = request(payload);
        assert_eq!(request.kind.kind, "Pod");
        assert_eq!(request.operation, "CREATE");
        assert_eq!(request.object.unwrap().get(), r#"{"b": 1.0, "a": [ ]}"#);
        let payload = r#"{"settings": {"configMap": "a"}, "request": {}}"#;
        assert_eq!(read(payload).unwrap().1, Some(r#"{"configMap": "a"}"#));
    }

    #[test]
    fn null_fields_read_as_absent() {
        let payload = r#"{"request": {"kind": null, "operation": null, "namespace": null, "object": null, "oldObject": null}, "settings": null}"#;
        let (request, settings) = read(payload).unwrap();
        assert_eq!(format!("{request:?}"), format!("{:?}", Request::default()));
        assert_eq!(settings, None);
    }

    #[test]
    fn escaped_keys_are_read() {
        let payload = r#"{"request": {"oper\u0061tion": "CRE\u0041TE"}}"#;
        assert_eq!(request(payload).operation, "CREATE");
    }

    /// A key with an escape of a lone surrogate is no field's name: it is
    /// read past, wherever it is.
    #[test]
    fn keys_that_do_not_decode_name_no_field() {
        let payload = r#"{"\ud800": 1, "request": {"\udc00": 2, "kind": {"\ud800": 3, "kind": "Pod"}, "object": {"\ud800": 4}}}"#;
        let request = request(payload);
        assert_eq!(request.kind.kind, "Pod");
        assert_eq!(request.object.unwrap().get(), r#"{"\ud800": 4}"#);
    }

    /// The contract's rule for duplicate keys holds in the payload, the
    /// request and its kind: the last one wins, the others are not read.
    #[test]
    fn a_field_given_twice_reads_as_the_last() {
        let payload = r#"{"request": 5, "request": {"kind": {"kind": 1, "kind": "Pod"}, "kind": {"kind": "Job", "group": "batch"}, "namespace": 7, "namespace": "a"}}"#;
        let request = request(payload);
        assert_eq!(request.kind.group, "batch");
        assert_eq!(request.kind.kind, "Job");
        assert_eq!(request.namespace, "a");
    }

    /// A payload that is not JSON gets serde_json's message; a field of
    /// another type is named by its path.
    #[test]
    fn unread_payloads_are_refused_saying_why() {
        let refused = |payload: &[u8]| read(payload).map(|_| ()).unwrap_err();
        let unreadable = "cannot read the admission request:";
        let cases: [(&[u8], &str); 8] = [
            (
                br#"{"request": {}"#,
                "EOF while parsing an object at line 1 column 14",
            ),
            (
                b"{\"request\": \"\xff\"}",
                "invalid unicode code point at line 1 column 14",
            ),
            (
                br#"{"settings": {}}"#,
                "request is missing: it must be an object",
            ),
            (
                br#"{"request": null}"#,
                "request must be an object, found null",
            ),
            (
                br#"{"request": {"operation": 1}}"#,
                "request.operation must be a string, found a number",
            ),
            (
                br#"{"request": {"kind": ["", "Pod"]}}"#,
                "request.kind must be an object, found a list",
            ),
            (
                br#"{"request": {"kind": {"group": null}}}"#,
                "request.kind.group must be a string, found null",
            ),
            (
                br#"{"request": {"namespace": "\ud800"}}"#,
                "request.namespace: lone leading surrogate in hex escape",
            ),
        ];
        for (payload, message) in cases {
            let shown = String::from_utf8_lossy(payload);
            let message = format!("{unreadable} {message}");
            assert_eq!(refused(payload), message, "{shown}");
        }
    }
}
