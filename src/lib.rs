//! cainjector: a Kubewarden mutating policy that injects the enterprise trust
//! bundle into pods. This file is the entry point: it reads the request
//! (from one index of the payload), routes it, reads the settings, selects
//! the namespace, hands the object to the injection and encodes the answer;
//! the rules live in the modules below.
//!
//! The modules, lowest first: each uses only modules above it (checked by
//! `modules_use_only_modules_above_them`).
//!
//!   diag          where a value is, what kind it is, "did you mean"
//!   error         the parts of messages many modules share
//!   names         Kubernetes naming rules
//!   selection     globs, for namespaces and containers
//!   json          the payload as sent: read in place, the object spliced
//!   fields        the object's fields as the API types them
//!   request       decode: the AdmissionRequest read from the payload's index
//!   route         route: which requests are ours, where their template is
//!   source        the bundle's source, and the volume that mounts it
//!   reader        settings: each value read by its key
//!   trust_bundle  settings: clusterTrustBundle, as the API server checks it
//!   annotation    a pod's annotation of ours, read; how annotations are refused
//!   settings      settings: the typed settings and their defaults
//!   overrides     the pod's annotations over the settings: one plan
//!   template      the pod template, or why it is never injected
//!   inject        the mutation: (pod spec as sent, plan) -> our additions
//!   status        the status annotation
//!   workload      one object's injection: template, plan, mutation, status
//!   require       the answer of `action: require`: what a pod lacks
//!   cluster       sourceCheck: the source asked of the cluster
//!   lib           decode -> route -> settings -> namespace -> injection -> answer
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

mod annotation;
pub mod cluster;
pub mod diag;
pub mod error;
mod fields;
mod inject;
mod json;
pub mod names;
mod overrides;
mod reader;
mod request;
mod require;
mod route;
pub mod selection;
pub mod settings;
pub mod source;
mod status;
mod template;
mod trust_bundle;
mod workload;

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::CallResult;
use kubewarden_policy_sdk::{accept_request, reject_request};
use serde_json::Value;

use crate::cluster::{Cluster, KubewardenHost, Problem, check_source};
use crate::request::{Payload, Request};
use crate::route::Route;
use crate::selection::namespace_selected;
use crate::settings::{Action, Settings, SourceCheck};
use crate::workload::{Injected, Target};

#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    use kubewarden_policy_sdk::wapc_guest::register_function;
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// Why an admission is refused: a module's own error, or the entry point's.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("invalid policy settings: {0}")]
    Settings(#[from] settings::Error),
    #[error("the {kind} {operation} request carries no object")]
    NoObject { kind: String, operation: String },
    /// The object's text, refused before it is read.
    #[error("cannot read the {kind}: {problem}")]
    Unreadable { kind: String, problem: json::Error },
    #[error(transparent)]
    Workload(#[from] workload::Error),
    #[error(transparent)]
    Request(#[from] request::Error),
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
    /// A mutation with a warning for the client (the status annotation left out).
    MutateWarn(String, String),
}

/// `Answer` with the mutated object parsed, as the host reads it: what tests
/// and fuzzing compare.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Accept,
    Warn(String),
    Reject(String),
    Mutate(Value),
    MutateWarn(Value, String),
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
        Answer::Mutate(text) => match parse_mutation(&text) {
            Ok(object) => Verdict::Mutate(object),
            Err(error) => Verdict::Reject(error),
        },
        Answer::MutateWarn(text, warning) => match parse_mutation(&text) {
            Ok(object) => Verdict::MutateWarn(object, warning),
            Err(error) => Verdict::Reject(error),
        },
    }
}

fn parse_mutation(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("the mutated object is not JSON: {e}"))
}

/// Decide one admission request, asking `cluster` when `sourceCheck` needs to.
pub fn answer(payload: &[u8], cluster: &dyn Cluster) -> Answer {
    decide(payload, cluster).unwrap_or_else(|error| Answer::Reject(error.to_string()))
}

/// One admission, step by step: decode, route, settings, namespace,
/// injection, answer.
fn decide(payload: &[u8], cluster: &dyn Cluster) -> Result<Answer, Error> {
    let index = request::index(payload)?;
    let Payload { request, settings } = Payload::read(&index)?;
    let Some(route) = Route::of(&request) else {
        return Ok(Answer::Accept);
    };
    let settings = Settings::cached(settings.unwrap_or("null"))?;
    let Some((object, namespace)) = selected(&request, &settings)? else {
        return Ok(Answer::Accept);
    };
    let kind = request.kind.kind.as_str();
    object.check().map_err(|e| Error::Unreadable {
        kind: kind.to_string(),
        problem: e,
    })?;
    let target = Target {
        kind,
        object,
        old: request.old_object,
        namespace: &namespace,
        system_store: true,
    };
    let Some(injected) = workload::inject_object(route, &target, &settings)? else {
        return Ok(Answer::Accept);
    };
    Ok(respond(injected, &settings, route, cluster, &target))
}

/// The object and its namespace (the request's, or the object's own when
/// the request names none), or `None` when the namespace is not selected.
fn selected<'a>(
    request: &Request<'a>,
    settings: &Settings,
) -> Result<Option<(json::Raw<'a>, String)>, Error> {
    let selected = |namespace: &str| {
        namespace_selected(
            &settings.include_namespaces,
            &settings.exclude_namespaces,
            namespace,
        )
    };
    // An excluded request is accepted before its object is asked for.
    if !request.namespace.is_empty() && !selected(&request.namespace) {
        return Ok(None);
    }
    let object = request.object.ok_or_else(|| Error::NoObject {
        kind: request.kind.kind.clone(),
        operation: request.operation.clone(),
    })?;
    if !request.namespace.is_empty() {
        return Ok(Some((object, request.namespace.clone())));
    }
    let namespace = object_namespace(object);
    Ok(selected(&namespace).then_some((object, namespace)))
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

/// The answer once injection has changed the object: the mutation, or with
/// `action: require` the refusal that names what the pod lacks.
fn respond(
    injected: Injected,
    settings: &Settings,
    route: Route,
    cluster: &dyn Cluster,
    target: &Target<'_>,
) -> Answer {
    // require judges the pod alone: a bundle missing from the namespace is
    // one more reason the pod lacks it, not a reason to accept it.
    if settings.action == Action::Require {
        return Answer::Reject(require::refusal(
            &injected.source,
            &injected.report,
            route.is_workload(),
        ));
    }
    // Debug containers mount the volume the pod already has: nothing to check.
    let checked = settings.source_check != SourceCheck::Off && route != Route::Debug;
    let problem = || {
        let store_key = injected.store_key.as_deref();
        check_source(
            cluster,
            &injected.source,
            &injected.keys,
            store_key,
            target.namespace,
        )
    };
    let reject = settings.source_check == SourceCheck::Reject;
    match checked.then(problem).flatten() {
        None => mutation(injected, None),
        Some(problem) if reject => Answer::Reject(format!(
            "the trust bundle cannot be injected: {problem} (setting sourceCheck: reject)"
        )),
        Some(problem @ Problem::Thin { .. }) => {
            let warning = format!(
                "cainjector injected the trust bundle but not over the system trust store: \
                 {problem} (setting sourceCheck: warn)"
            );
            let without = Target {
                system_store: false,
                ..*target
            };
            match workload::inject_object(route, &without, settings) {
                Ok(Some(injected)) => mutation(injected, Some(warning)),
                Ok(None) => Answer::Warn(warning),
                Err(error) => Answer::Reject(error.to_string()),
            }
        }
        Some(problem) => Answer::Warn(format!(
            "cainjector did not inject the trust bundle: {problem}"
        )),
    }
}

/// The mutation, with the warnings for the client.
fn mutation(injected: Injected, warning: Option<String>) -> Answer {
    let own = injected.warning.map(|w| w.to_string());
    let warnings: Vec<String> = warning.into_iter().chain(own).collect();
    if warnings.is_empty() {
        return Answer::Mutate(injected.object);
    }
    Answer::MutateWarn(injected.object, warnings.join("; "))
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
        Answer::Mutate(object) => mutation_response(&object, None),
        Answer::MutateWarn(object, warning) => mutation_response(&object, Some(&warning)),
    }
}

/// The SDK's ValidationResponse for a mutation, written around the object's
/// text so that the object is never parsed into a tree or re-serialised.
fn mutation_response(object: &str, warning: Option<&str>) -> CallResult {
    const HEAD: &str = r#"{"accepted":true,"message":null,"code":null,"mutated_object":"#;
    const TAIL: &str = r#","audit_annotations":null,"warnings":"#;
    let warnings = match warning.map(json::to_json).transpose() {
        Ok(Some(warning)) => format!("[{warning}]}}"),
        Ok(None) => "null}".to_string(),
        Err(error) => return reject_request(Some(error.to_string()), None, None, None),
    };
    let mut out = Vec::with_capacity(HEAD.len() + object.len() + TAIL.len() + warnings.len());
    out.extend_from_slice(HEAD.as_bytes());
    out.extend_from_slice(object.as_bytes());
    out.extend_from_slice(TAIL.as_bytes());
    out.extend_from_slice(warnings.as_bytes());
    Ok(out)
}

/// Check settings as the host's `validate_settings` call sends them.
pub fn check_settings(payload: &[u8]) -> Result<(), String> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the settings are not valid JSON: {e}"))?;
    Settings::from_json(&value)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// waPC `validate_settings`.
pub fn validate_settings(payload: &[u8]) -> CallResult {
    let outcome = check_settings(payload);
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: outcome.is_ok(),
        message: outcome.err(),
    })?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The module order written at the top of this file.
    fn order() -> Vec<&'static str> {
        include_str!("lib.rs")
            .lines()
            .skip_while(|line| !line.starts_with("//! The modules, lowest first"))
            .skip_while(|line| !line.starts_with("//!   "))
            .map_while(|line| line.strip_prefix("//!   "))
            .filter_map(|line| line.split_whitespace().next())
            .collect()
    }

    /// The modules `text` names as `crate::x` or `crate::{x, y::z}`.
    fn uses(text: &str) -> BTreeSet<String> {
        let first = |path: &str| -> String {
            let path = path.trim_start();
            let end = path.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            path[..end.unwrap_or(path.len())].to_string()
        };
        let mut found = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            match rest.strip_prefix('{') {
                Some(group) => found.extend(group.split('}').next().unwrap().split(',').map(first)),
                None => {
                    found.insert(first(rest));
                }
            }
        }
        found
    }

    #[test]
    fn modules_use_only_modules_above_them() {
        let order = order();
        assert_eq!(order.last(), Some(&"lib"), "{order:?}");
        for (place, module) in order.iter().enumerate().filter(|(_, m)| **m != "lib") {
            for used in uses(&source(module)) {
                let above = order.iter().position(|m| *m == used);
                assert!(
                    above.is_some_and(|above| above < place),
                    "{module} uses {used}, which is not above it in lib.rs's order"
                );
            }
        }
    }

    /// The text of `module`: its file, or each file of its folder.
    fn source(module: &str) -> String {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let Ok(dir) = std::fs::read_dir(format!("{src}/{module}")) else {
            return std::fs::read_to_string(format!("{src}/{module}.rs")).unwrap();
        };
        let file = |entry: std::io::Result<std::fs::DirEntry>| entry.unwrap().path();
        dir.map(file)
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect()
    }

    #[test]
    fn every_module_is_in_the_order() {
        let order: BTreeSet<&str> = order().into_iter().collect();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let files: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter_map(|path| match path.extension() {
                Some(rs) if rs == "rs" => Some(path.with_extension("")),
                Some(_) => None,
                None => Some(path),
            })
            .map(|path| path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            files,
            order.iter().map(|m| m.to_string()).collect::<BTreeSet<_>>()
        );
    }

    #[test]
    fn an_error_fits_in_a_small_result() {
        // Every step of the mutation returns one: clippy's result_large_err
        // bound, with room to spare for a new variant.
        assert!(
            std::mem::size_of::<super::Error>() <= 128,
            "{}",
            std::mem::size_of::<super::Error>()
        );
    }

    #[test]
    fn uses_reads_single_and_grouped_imports() {
        let text =
            "use crate::diag::At;\nuse crate::{error::Error, json};\nlet x = crate::names::f();";
        let found: Vec<String> = uses(text).into_iter().collect();
        assert_eq!(found, ["diag", "error", "json", "names"]);
    }
}
