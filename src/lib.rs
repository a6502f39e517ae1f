//! cainjector: a Kubewarden mutating policy that injects the enterprise trust
//! bundle into pods. This file decodes the request once, routes it, and
//! encodes the answer; the rules live in the modules below.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice,
        clippy::cast_possible_truncation,
        clippy::exit
    )
)]

pub mod cluster;
pub mod inject;
pub mod json;
pub mod names;
pub mod overrides;
pub mod request;
pub mod selection;
pub mod settings;
pub mod source;
pub mod workload;

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::CallResult;
use kubewarden_policy_sdk::{accept_request, reject_request};
use serde_json::Value;

use crate::cluster::{missing_source, Cluster, KubewardenHost};
use crate::request::Payload;
use crate::selection::namespace_selected;
use crate::settings::{Settings, SourceCheck};
use crate::workload::Refusal;

#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn wapc_init() {
    use kubewarden_policy_sdk::wapc_guest::register_function;
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// The outcome of one admission, before it is encoded for the host.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Accept,
    /// Accepted unchanged, with a warning for the client (`sourceCheck: warn`).
    Warn(String),
    Reject(String),
    /// The object's text with our additions.
    Mutate(String),
}

/// `Answer` with the mutated object parsed, as the host reads it: what tests
/// and fuzzing compare.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Accept,
    Warn(String),
    Reject(String),
    Mutate(Value),
}

/// `metadata.namespace` of the object, when the request names none.
fn object_namespace(object: json::Raw<'_>) -> String {
    json::Object::read(object)
        .and_then(|o| o.present("metadata"))
        .and_then(json::Object::read)
        .and_then(|m| m.present("namespace"))
        .and_then(json::string)
        .map(|n| n.into_owned())
        .unwrap_or_default()
}

/// Decide one admission request (the waPC `validate` payload).
pub fn evaluate(payload: &[u8]) -> Verdict {
    evaluate_with(payload, &KubewardenHost)
}

/// `evaluate`, asking `cluster` when `sourceCheck` needs to.
pub fn evaluate_with(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    match answer(payload, cluster) {
        Answer::Accept => Verdict::Accept,
        Answer::Warn(warning) => Verdict::Warn(warning),
        Answer::Reject(message) => Verdict::Reject(message),
        Answer::Mutate(text) => match serde_json::from_str(&text) {
            Ok(object) => Verdict::Mutate(object),
            Err(e) => Verdict::Reject(format!("the mutated object is not JSON: {e}")),
        },
    }
}

/// Decide one admission request, asking `cluster` when `sourceCheck` needs to.
pub fn answer(payload: &[u8], cluster: &dyn Cluster) -> Answer {
    let payload: Payload<'_> = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(e) => return Answer::Reject(format!("cannot read the admission request: {e}")),
    };
    let request = payload.request;
    // A pod's volumes are immutable, and templates are injected when created;
    // other kinds are not ours.
    let Some(path) = request.template_path().filter(|_| request.is_mutable()) else {
        return Answer::Accept;
    };
    let kind = &request.kind.kind;
    let settings_text = payload.settings.map_or("null", |raw| raw.get());
    let settings = match Settings::cached(settings_text) {
        Ok(settings) => settings,
        Err(e) => return Answer::Reject(format!("invalid policy settings: {e}")),
    };
    let selected = |namespace: &str| {
        namespace_selected(
            &settings.include_namespaces,
            &settings.exclude_namespaces,
            namespace,
        )
    };
    if !request.namespace.is_empty() && !selected(&request.namespace) {
        return Answer::Accept;
    }
    let Some(object) = request.object.map(json::Raw::from) else {
        return Answer::Reject(format!(
            "the {kind} {} request carries no object",
            request.operation
        ));
    };
    let namespace = if request.namespace.is_empty() {
        object_namespace(object)
    } else {
        request.namespace.clone()
    };
    if !selected(&namespace) {
        return Answer::Accept;
    }
    let index = match json::Index::build(object.get()) {
        Ok(index) => index,
        Err(e) => return Answer::Reject(format!("cannot read the {kind}: {e}")),
    };
    let object = json::Raw::indexed(object.get(), &index);
    let refused = |refusal| match refusal {
        Refusal::Malformed(e) => Answer::Reject(format!("malformed {kind}: {e}")),
        Refusal::Annotation(e) => Answer::Reject(e),
    };

    if request.is_debug() {
        return match workload::inject_debug_containers(
            object,
            request.old_object.map(json::Raw::from),
            &settings,
            &namespace,
        ) {
            Ok(Some(text)) => Answer::Mutate(text),
            Ok(None) => Answer::Accept,
            Err(refusal) => refused(refusal),
        };
    }
    let injected = match workload::inject_template(object, path, &settings, &namespace) {
        Ok(Some(injected)) => injected,
        Ok(None) => return Answer::Accept,
        Err(refusal) => return refused(refusal),
    };
    if settings.source_check != SourceCheck::Off {
        if let Some(problem) = missing_source(cluster, &injected, &namespace) {
            return match settings.source_check {
                SourceCheck::Reject => Answer::Reject(format!(
                    "the trust bundle cannot be injected: {problem} (setting sourceCheck: reject)"
                )),
                _ => Answer::Warn(format!(
                    "cainjector did not inject the trust bundle: {problem}"
                )),
            };
        }
    }
    Answer::Mutate(injected.object)
}

/// waPC `validate`: decide, then encode the answer as the SDK does.
pub fn validate(payload: &[u8]) -> CallResult {
    match answer(payload, &KubewardenHost) {
        Answer::Accept => accept_request(),
        Answer::Warn(warning) => Ok(serde_json::to_vec(&ValidationResponse {
            accepted: true,
            message: None,
            code: None,
            mutated_object: None,
            audit_annotations: None,
            warnings: Some(vec![warning]),
        })?),
        Answer::Reject(message) => reject_request(Some(message), None, None, None),
        Answer::Mutate(object) => Ok(mutation_response(&object)),
    }
}

/// The SDK's ValidationResponse for a mutation, written around the object's
/// text so that the object is never parsed into a tree or re-serialised.
fn mutation_response(object: &str) -> Vec<u8> {
    const HEAD: &str = r#"{"accepted":true,"message":null,"code":null,"mutated_object":"#;
    const TAIL: &str = r#","audit_annotations":null,"warnings":null}"#;
    let mut out = Vec::with_capacity(HEAD.len() + object.len() + TAIL.len());
    out.extend_from_slice(HEAD.as_bytes());
    out.extend_from_slice(object.as_bytes());
    out.extend_from_slice(TAIL.as_bytes());
    out
}

/// Check settings as the host's `validate_settings` call sends them.
pub fn check_settings(payload: &[u8]) -> Result<(), String> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the settings are not valid JSON: {e}"))?;
    Settings::from_json(&value).map(|_| ())
}

/// waPC `validate_settings`.
pub fn validate_settings(payload: &[u8]) -> CallResult {
    let outcome = check_settings(payload);
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: outcome.is_ok(),
        message: outcome.err(),
    })?)
}
