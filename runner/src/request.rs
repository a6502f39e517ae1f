//! The request as kwctl reads it and re-serialises it for the policy.
//!
//! kwctl does not forward the request file as it is: it deserialises it into
//! policy-evaluator's `AdmissionRequest` and serialises that struct again. Fields the
//! struct does not model, and `null` ones, never reach the module. The types here
//! mirror that struct field for field so the module receives the same bytes.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::json::{maps_are_sorted, sort_keys, sort_map_keys};

/// admission/v1 AdmissionRequest, as policy-evaluator models it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub resource: GroupVersionResource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub operation: String,
    pub user_info: UserInfo,
    /// A RawExtension upstream: any JSON value, `null` meaning absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    pub group: String,
    pub version: String,
    pub resource: String,
}

/// authentication/v1 UserInfo as k8s-openapi models it (every field optional,
/// absent ones not written, unknown ones dropped, `extra` keys sorted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "UserInfo")]
pub struct UserInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Reads a request file's text the way kwctl does: an AdmissionReview (an object
/// whose `kind` is the string "AdmissionReview") is unwrapped to its `request`;
/// anything else is taken as the AdmissionRequest itself. The error texts are
/// kwctl's.
pub fn parse_request(text: &str) -> Result<AdmissionRequest> {
    let document: Value = serde_json::from_str(text)?;
    let object = document
        .as_object()
        .ok_or_else(|| anyhow!("Invalid request object"))?;

    let request = if object.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
        object
            .get("request")
            .cloned()
            .ok_or_else(|| anyhow!("invalid AdmissionReview object"))?
    } else {
        document.clone()
    };

    serde_json::from_value(request)
        .map_err(|e| anyhow!("cannot build AdmissionRequest object from given input: {e}"))
}

/// `request` as a JSON value, the form policy-evaluator diffs the answer against
/// (`serde_json::to_value`, so in kwctl every object's keys sorted). Its `object`
/// member is the object as the module received it.
pub fn request_value(request: &AdmissionRequest) -> Result<Value> {
    Ok(sort_keys(serde_json::to_value(request)?))
}

/// The `validate` payload as policy-evaluator builds it: the request and the
/// settings turned into JSON values and wrapped as `{"request", "settings"}`.
pub fn validate_payload(
    request: &AdmissionRequest,
    settings: &Map<String, Value>,
) -> Result<String> {
    Ok(serde_json::to_string(&sort_keys(json!({
        "request": request,
        "settings": settings,
    })))?)
}

/// The `validate_settings` payload: the settings object alone.
pub fn settings_payload(settings: &Map<String, Value>) -> Result<String> {
    if maps_are_sorted() {
        return Ok(serde_json::to_string(settings)?);
    }
    Ok(serde_json::to_string(&sort_map_keys(settings.clone()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"{
        "uid": "1299d386-525b-4032-98ae-1949f69f9cfc",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "name": "nginx",
        "namespace": "default",
        "operation": "CREATE",
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"], "extra": {"b": ["2"], "a": ["1"]}, "futureField": 1},
        "object": {"metadata": {"name": "nginx"}, "apiVersion": "v1", "kind": "Pod"},
        "oldObject": null,
        "dryRun": false,
        "options": null,
        "unknownTopLevel": "dropped"
    }"#;

    #[test]
    fn a_bare_admission_request_is_read_as_is() {
        let request = parse_request(REQUEST).unwrap();
        assert_eq!(request.uid, "1299d386-525b-4032-98ae-1949f69f9cfc");
        assert_eq!(request.operation, "CREATE");
        assert_eq!(request.old_object, None);
        assert_eq!(request.options, None);
    }

    #[test]
    fn an_admission_review_is_unwrapped_to_its_request() {
        let review = format!(
            r#"{{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {REQUEST}}}"#
        );
        assert_eq!(
            parse_request(&review).unwrap(),
            parse_request(REQUEST).unwrap()
        );
    }

    #[test]
    fn a_review_without_request_is_refused_with_kwctls_message() {
        let err = parse_request(r#"{"kind": "AdmissionReview"}"#).unwrap_err();
        assert_eq!(err.to_string(), "invalid AdmissionReview object");
    }

    #[test]
    fn a_review_whose_request_is_null_cannot_be_built() {
        let err = parse_request(r#"{"kind": "AdmissionReview", "request": null}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot build AdmissionRequest object from given input: invalid type: null, expected struct AdmissionRequest"
        );
    }

    #[test]
    fn a_document_that_is_not_an_object_is_refused() {
        let err = parse_request("[1, 2]").unwrap_err();
        assert_eq!(err.to_string(), "Invalid request object");
    }

    #[test]
    fn missing_required_fields_are_reported_like_kwctl() {
        let err = parse_request(r#"{"uid": "x"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot build AdmissionRequest object from given input: missing field `kind`"
        );
    }

    #[test]
    fn a_user_info_of_the_wrong_type_names_user_info() {
        let text = REQUEST.replace(
            r#""userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"], "extra": {"b": ["2"], "a": ["1"]}, "futureField": 1}"#,
            r#""userInfo": "admin""#,
        );
        let err = parse_request(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot build AdmissionRequest object from given input: invalid type: string \"admin\", expected UserInfo"
        );
    }

    #[test]
    fn payload_drops_unknown_and_null_fields_and_sorts_keys() {
        let request = parse_request(REQUEST).unwrap();
        let mut settings = Map::new();
        settings.insert("secret".into(), Value::from("bundle"));
        settings.insert("certFile".into(), Value::from("ca.crt"));

        let payload = validate_payload(&request, &settings).unwrap();
        assert_eq!(
            payload,
            concat!(
                r#"{"request":{"dryRun":false,"kind":{"group":"","kind":"Pod","version":"v1"},"#,
                r#""name":"nginx","namespace":"default","#,
                r#""object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx"}},"#,
                r#""operation":"CREATE","requestKind":{"group":"","kind":"Pod","version":"v1"},"#,
                r#""resource":{"group":"","resource":"pods","version":"v1"},"#,
                r#""uid":"1299d386-525b-4032-98ae-1949f69f9cfc","#,
                r#""userInfo":{"extra":{"a":["1"],"b":["2"]},"groups":["system:masters"],"username":"kubernetes-admin"}},"#,
                r#""settings":{"certFile":"ca.crt","secret":"bundle"}}"#
            )
        );
        assert_eq!(
            serde_json::to_string(&request_value(&request).unwrap()["object"]).unwrap(),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx"}}"#
        );
    }

    #[test]
    fn a_null_object_is_absent_for_the_diff() {
        let text = REQUEST.replace(
            r#""object": {"metadata": {"name": "nginx"}, "apiVersion": "v1", "kind": "Pod"}"#,
            r#""object": null"#,
        );
        let request = parse_request(&text).unwrap();
        assert_eq!(request_value(&request).unwrap().get("object"), None);
        let payload = validate_payload(&request, &Map::new()).unwrap();
        assert!(!payload.contains("\"object\""));
        assert!(payload.ends_with(r#""settings":{}}"#));
    }

    #[test]
    fn settings_payload_is_the_sorted_object() {
        let mut settings = Map::new();
        settings.insert("z".into(), Value::from(1));
        settings.insert("a".into(), Value::from(2));
        assert_eq!(settings_payload(&settings).unwrap(), r#"{"a":2,"z":1}"#);
        assert_eq!(settings_payload(&Map::new()).unwrap(), "{}");
    }
}
