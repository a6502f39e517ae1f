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
use kubewarden_policy_sdk::{accept_request, mutate_request, reject_request};
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
pub enum Verdict {
    Accept,
    /// Accepted unchanged, with a warning for the client (`sourceCheck: warn`).
    Warn(String),
    Reject(String),
    Mutate(Value),
}

fn object_namespace(object: &Value) -> &str {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Decide one admission request (the waPC `validate` payload).
pub fn evaluate(payload: &[u8]) -> Verdict {
    evaluate_with(payload, &KubewardenHost)
}

/// `evaluate`, asking `cluster` when `sourceCheck` needs to.
pub fn evaluate_with(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    let payload: Payload<'_> = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(e) => return Verdict::Reject(format!("cannot read the admission request: {e}")),
    };
    let mut request = payload.request;
    // A pod's volumes are immutable, and templates are injected when created;
    // other kinds are not ours.
    let Some(path) = request.template_path().filter(|_| request.is_mutable()) else {
        return Verdict::Accept;
    };
    let kind = &request.kind.kind;
    let debug = request.is_debug();
    let settings = match Settings::from_json(&payload.settings) {
        Ok(settings) => settings,
        Err(e) => return Verdict::Reject(format!("invalid policy settings: {e}")),
    };
    let selected = |namespace: &str| {
        namespace_selected(
            &settings.include_namespaces,
            &settings.exclude_namespaces,
            namespace,
        )
    };
    if !request.namespace.is_empty() && !selected(&request.namespace) {
        return Verdict::Accept;
    }
    let mut object = match std::mem::take(&mut request.object).into_value() {
        Ok(Some(object)) => object,
        Ok(None) => {
            return Verdict::Reject(format!(
                "the {kind} {} request carries no object",
                request.operation
            ))
        }
        Err(e) => return Verdict::Reject(format!("cannot read the {kind}: {e}")),
    };
    let namespace = if request.namespace.is_empty() {
        object_namespace(&object).to_string()
    } else {
        request.namespace.clone()
    };
    if !selected(&namespace) {
        return Verdict::Accept;
    }
    let refused = |refusal| match refusal {
        Refusal::Malformed(e) => Verdict::Reject(format!("malformed {kind}: {e}")),
        Refusal::Annotation(e) => Verdict::Reject(e),
    };

    if debug {
        // The old pod only names the ephemeral containers that already exist.
        let old = request
            .old_object
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok());
        return match workload::inject_debug_containers(&mut object, old.as_ref(), &settings) {
            Ok(true) => Verdict::Mutate(object),
            Ok(false) => Verdict::Accept,
            Err(refusal) => refused(refusal),
        };
    }
    let injected = match workload::inject_template(&mut object, path, &settings) {
        Ok(Some(injected)) => injected,
        Ok(None) => return Verdict::Accept,
        Err(refusal) => return refused(refusal),
    };
    if settings.source_check != SourceCheck::Off {
        if let Some(problem) = missing_source(cluster, &injected, &namespace) {
            return match settings.source_check {
                SourceCheck::Reject => Verdict::Reject(format!(
                    "the trust bundle cannot be injected: {problem} (setting sourceCheck: reject)"
                )),
                _ => Verdict::Warn(format!(
                    "cainjector did not inject the trust bundle: {problem}"
                )),
            };
        }
    }
    Verdict::Mutate(object)
}

/// waPC `validate`: evaluate, then encode the verdict as the SDK does.
pub fn validate(payload: &[u8]) -> CallResult {
    match evaluate(payload) {
        Verdict::Accept => accept_request(),
        Verdict::Warn(warning) => Ok(serde_json::to_vec(&ValidationResponse {
            accepted: true,
            message: None,
            code: None,
            mutated_object: None,
            audit_annotations: None,
            warnings: Some(vec![warning]),
        })?),
        Verdict::Reject(message) => reject_request(Some(message), None, None, None),
        Verdict::Mutate(object) => mutate_request(object),
    }
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
