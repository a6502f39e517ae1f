//! What the module answers, and the AdmissionResponse kwctl prints from it.

use std::collections::BTreeMap;

use anyhow::Result;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::sort_keys;

/// The module's answer to `validate` (kubewarden-policy-sdk's `ValidationResponse`).
/// Same field names and types, so a malformed answer fails with the same serde
/// message as in kwctl.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ValidationResponse {
    pub accepted: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    pub mutated_object: Option<Value>,
    /// A HashMap upstream, so kwctl prints these keys in a random order; sorted here.
    pub audit_annotations: Option<BTreeMap<String, String>>,
    pub warnings: Option<Vec<String>>,
}

/// The module's answer to `validate_settings` (the SDK's `SettingsValidationResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SettingsValidationResponse {
    pub valid: bool,
    pub message: Option<String>,
}

/// admission/v1 AdmissionResponse as policy-evaluator serialises it: field order,
/// names and omissions are part of kwctl's output. `auditAnnotations` and
/// `warnings` are written as `null` when absent, as upstream does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<PatchType>,
    /// Base64 of the JSONPatch text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionResponseStatus>,
    pub audit_annotations: Option<BTreeMap<String, String>>,
    pub warnings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PatchType {
    #[serde(rename = "JSONPatch")]
    JsonPatch,
}

/// The part of upstream's status this path ever fills: `status`, `reason` and
/// `details` exist there but stay unset, so they are never printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdmissionResponseStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// Upstream's answer when a policy mutates a request that has no object.
pub const MUTATION_WITHOUT_OBJECT: &str = "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed";

impl AdmissionResponse {
    pub fn reject(uid: String, message: String, code: u16) -> Self {
        Self {
            uid,
            allowed: false,
            status: Some(AdmissionResponseStatus {
                message: Some(message),
                code: Some(code),
            }),
            ..Self::default()
        }
    }

    /// A trap, a guest error or an answer that cannot be read.
    pub fn internal_server_error(uid: String, message: String) -> Self {
        Self::reject(uid, format!("internal server error: {message}"), 500)
    }

    /// Turns the module's answer into the response, as policy-evaluator's
    /// `from_policy_validation_response` does: the mutated object is cloned and
    /// diffed with `json_patch::diff(original, mutated)`, the rest copied.
    /// `original_object` must be the object as the module received it.
    pub fn from_validation_response(
        uid: String,
        original_object: Option<&Value>,
        answer: &ValidationResponse,
    ) -> Result<Self> {
        let patch = match (&answer.mutated_object, original_object) {
            (Some(_), None) => {
                return Ok(Self {
                    uid,
                    allowed: false,
                    status: Some(AdmissionResponseStatus {
                        message: Some(MUTATION_WITHOUT_OBJECT.to_owned()),
                        code: None,
                    }),
                    ..Self::default()
                });
            }
            (Some(mutated), Some(original)) => json_patch_base64(original, mutated.clone())?,
            (None, _) => None,
        };

        let status = if answer.message.is_some() || answer.code.is_some() {
            Some(AdmissionResponseStatus {
                message: answer.message.clone(),
                code: answer.code,
            })
        } else {
            None
        };

        Ok(Self {
            uid,
            allowed: answer.accepted,
            patch_type: patch.as_ref().map(|_| PatchType::JsonPatch),
            patch,
            status,
            audit_annotations: answer.audit_annotations.clone(),
            warnings: answer.warnings.clone(),
        })
    }
}

/// The base64 JSONPatch from `original` to `mutated`, or `None` when they are equal.
fn json_patch_base64(original: &Value, mutated: Value) -> Result<Option<String>> {
    // kwctl diffs maps whose keys iterate sorted; the order of the operations follows it.
    let diff = json_patch::diff(original, &sort_keys(mutated));
    if diff.0.is_empty() {
        return Ok(None);
    }
    Ok(Some(STANDARD.encode(serde_json::to_string(&diff)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(json: Value) -> ValidationResponse {
        serde_json::from_value(json).unwrap()
    }

    fn decoded_patch(response: &AdmissionResponse) -> String {
        String::from_utf8(STANDARD.decode(response.patch.as_ref().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn accepted_without_anything_prints_nulls_for_annotations_and_warnings() {
        let response = AdmissionResponse::from_validation_response(
            "uid-1".into(),
            Some(&json!({"a": 1})),
            &answer(json!({"accepted": true})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"uid":"uid-1","allowed":true,"auditAnnotations":null,"warnings":null}"#
        );
    }

    #[test]
    fn rejection_keeps_message_and_code_and_omits_what_is_empty() {
        let with_both = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&json!({})),
            &answer(json!({"accepted": false, "message": "no", "code": 400})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&with_both).unwrap(),
            r#"{"uid":"u","allowed":false,"status":{"message":"no","code":400},"auditAnnotations":null,"warnings":null}"#
        );

        let message_only = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&json!({})),
            &answer(json!({"accepted": false, "message": "no"})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&message_only).unwrap(),
            r#"{"uid":"u","allowed":false,"status":{"message":"no"},"auditAnnotations":null,"warnings":null}"#
        );

        let bare = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&json!({})),
            &answer(json!({"accepted": false})),
        )
        .unwrap();
        assert_eq!(bare.status, None);
    }

    #[test]
    fn mutation_becomes_a_base64_json_patch() {
        let original = json!({"spec": {"containers": [{"name": "app"}]}});
        let mutated = json!({"spec": {"volumes": [{"name": "ca"}], "containers": [{"name": "app", "env": [{"name": "X", "value": "1"}]}]}});
        let response = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&original),
            &answer(json!({"accepted": true, "mutated_object": mutated})),
        )
        .unwrap();
        assert_eq!(response.patch_type, Some(PatchType::JsonPatch));
        // Operations follow sorted key order, whatever order the module wrote.
        assert_eq!(
            decoded_patch(&response),
            r#"[{"op":"add","path":"/spec/containers/0/env","value":[{"name":"X","value":"1"}]},{"op":"add","path":"/spec/volumes","value":[{"name":"ca"}]}]"#
        );
        let json = serde_json::to_string(&response).unwrap();
        assert!(json.starts_with(r#"{"uid":"u","allowed":true,"patchType":"JSONPatch","patch":""#));
    }

    #[test]
    fn a_mutated_object_equal_to_the_original_gives_no_patch() {
        let original = json!({"a": {"b": [1, 2]}});
        let response = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&original),
            &answer(json!({"accepted": true, "mutated_object": original.clone()})),
        )
        .unwrap();
        assert_eq!(response.patch, None);
        assert_eq!(response.patch_type, None);
    }

    #[test]
    fn mutating_a_request_without_object_is_rejected_without_code() {
        let response = AdmissionResponse::from_validation_response(
            "u".into(),
            None,
            &answer(json!({"accepted": true, "mutated_object": {"a": 1}})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            format!(
                r#"{{"uid":"u","allowed":false,"status":{{"message":"{MUTATION_WITHOUT_OBJECT}"}},"auditAnnotations":null,"warnings":null}}"#
            )
        );
    }

    #[test]
    fn warnings_and_audit_annotations_are_passed_through() {
        let response = AdmissionResponse::from_validation_response(
            "u".into(),
            Some(&json!({})),
            &answer(json!({"accepted": true, "warnings": ["w1"], "audit_annotations": {"z": "1", "a": "2"}})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"uid":"u","allowed":true,"auditAnnotations":{"a":"2","z":"1"},"warnings":["w1"]}"#
        );
    }

    #[test]
    fn internal_server_error_has_code_500() {
        let response = AdmissionResponse::internal_server_error("u".into(), "boom".into());
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"uid":"u","allowed":false,"status":{"message":"internal server error: boom","code":500},"auditAnnotations":null,"warnings":null}"#
        );
    }
}
