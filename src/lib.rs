//! cainjector: a Kubewarden mutating policy that injects the enterprise trust
//! bundle into pods. This file is the entry point: it reads the request
//! (from one index of the payload), routes it, reads the settings, selects
//! the namespace, hands the object to the injection and encodes the answer;
//! the rules live in the modules below.
//!
//! The modules, lowest first: each uses only modules above it (checked by
//! `modules_use_only_modules_above_them`); a folder's files come before its
//! mod.rs, which gathers them. The settings half (settings/) reads what the
//! administrator configured and what a pod's annotations may change; the
//! injection half (injection/) applies it to one object.
//!
//!   diag                    where a value is, what kind it is, "did you mean"
//!   settings/names          Kubernetes naming rules, and why a name breaks them
//!   settings/selection      globs, for namespaces and containers
//!   settings/signer         ClusterTrustBundle and signer names, and why they are refused
//!   error                   the parts of messages many modules share
//!   json/notes              what serde_json refuses beyond the grammar, noted
//!   json/error              what cannot be read or written
//!   json/scan               the index: one pass over the document
//!   json/read               values read from the index
//!   json/check              a value refused before any edit goes into it
//!   json/splice             our additions spliced into the object's text
//!   json                    the payload as sent: read in place, the object spliced
//!   fields                  the object's fields as the API types them
//!   request                 decode: the AdmissionRequest read from the payload's index
//!   route                   route: which requests are ours, where their template is
//!   settings/source         the bundle's source, and the volume that mounts it
//!   settings/reader         each setting's value read by its key
//!   settings/trust_bundle   clusterTrustBundle, as the API server checks it
//!   settings/annotation     a pod's annotation of ours, and how annotations are refused
//!   settings                the table of keys, the settings and each pod's values
//!   injection/overrides     the pod's annotations over its values: one plan
//!   injection/template      the pod template, or why it is never injected
//!   injection/inject        the mutation: (pod spec as sent, plan) -> our additions
//!   injection/status        the status annotation
//!   injection/workload      one object's injection: template, plan, mutation, status
//!   injection/require       the answer of `action: require`: what a pod lacks
//!   injection               the injection half, gathered
//!   trust_store             a Java trust store as the JDK reads it without a password
//!   base64_decode           a Secret's data, a ConfigMap's binaryData: base64, fast
//!   cluster                 sourceCheck: the source asked of the cluster
//!   lib                     decode -> route -> settings -> namespace -> injection -> answer
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

mod base64_decode;
pub mod cluster;
mod diag;
mod error;
mod fields;
mod injection;
mod json;
mod request;
mod route;
pub mod settings;
mod trust_store;

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::CallResult;
use kubewarden_policy_sdk::{accept_request, reject_request};
use serde_json::Value;

use crate::cluster::{Cluster, Files, KubewardenHost, Reads, check_source};
use crate::injection::{InjectedObject, Target};
use crate::request::{Payload, Request};
use crate::route::Route;
use crate::settings::selection::namespace_selected;
use crate::settings::{Action, Settings, SourceCheck};

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
    Workload(#[from] injection::Error),
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
    /// A mutation with a warning for the client (the status annotation left
    /// out, or with `sourceCheck: warn` trust store files).
    MutateWarn(String, String),
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
    let object = object.check().map_err(|e| Error::Unreadable {
        kind: kind.to_string(),
        problem: e,
    })?;
    let target = Target {
        kind,
        object,
        old: request.old_object,
        namespace: &namespace,
        system_store: true,
        cacerts: true,
    };
    let Some(injected) = injection::inject_object(route, &target, &settings)? else {
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
    injected: InjectedObject,
    settings: &Settings,
    route: Route,
    cluster: &dyn Cluster,
    target: &Target<'_>,
) -> Answer {
    // require judges the pod alone: a bundle missing from the namespace is
    // one more reason the pod lacks it, not a reason to accept it.
    if settings.action == Action::Require {
        return Answer::Reject(injection::refusal(
            &injected.source,
            &injected.report,
            route.is_workload(),
        ));
    }
    // Debug containers mount the volume the pod already has: nothing to check.
    let checked = settings.source_check != SourceCheck::Off && route != Route::Debug;
    let problems = || {
        let reads = Reads {
            keys: &injected.keys,
            store_key: injected.store_key.as_deref(),
            cacerts_key: injected.cacerts_key.as_deref(),
        };
        check_source(cluster, &injected.source, &reads, target.namespace)
    };
    let problems = if checked { problems() } else { Ok(Vec::new()) };
    let reject = settings.source_check == SourceCheck::Reject;
    let refused = |problems: &[cluster::Problem]| {
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Answer::Reject(format!(
            "the trust bundle cannot be injected: {} (setting sourceCheck: reject)",
            all.join("; ")
        ))
    };
    match problems {
        Ok(left_out) if left_out.is_empty() => mutation(injected, None),
        Err(problem) if reject => refused(&[problem]),
        Ok(left_out) if reject => refused(&left_out),
        Err(problem) => Answer::Warn(format!(
            "cainjector did not inject the trust bundle: {problem}"
        )),
        Ok(left_out) => without_files(&left_out, settings, route, target),
    }
}

/// `sourceCheck: warn` with `problems` that keep the bundle off trust store
/// files: the rest injected, and a warning for each.
fn without_files(
    problems: &[cluster::Problem],
    settings: &Settings,
    route: Route,
    target: &Target<'_>,
) -> Answer {
    let off = |files| problems.iter().any(|p| p.lack.left_out() == Some(files));
    let without = Target {
        system_store: !off(Files::SystemStore),
        cacerts: !off(Files::Cacerts),
        ..*target
    };
    let warnings: Vec<String> = problems
        .iter()
        .filter_map(|problem| {
            let files = problem.lack.left_out()?;
            Some(format!(
                "cainjector injected the trust bundle but not over {files}: {problem} (setting \
                 sourceCheck: warn)"
            ))
        })
        .collect();
    let warning = warnings.join("; ");
    match injection::inject_object(route, &without, settings) {
        Ok(Some(injected)) => mutation(injected, Some(warning)),
        Ok(None) => Answer::Warn(warning),
        Err(error) => Answer::Reject(error.to_string()),
    }
}

/// The mutation, with the warnings for the client.
fn mutation(injected: InjectedObject, warning: Option<String>) -> Answer {
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
        Answer::Warn(warning) => accepted("null", Some(&warning)),
        Answer::Reject(message) => reject_request(Some(message), None, None, None),
        Answer::Mutate(object) => accepted(&object, None),
        Answer::MutateWarn(object, warning) => accepted(&object, Some(&warning)),
    }
}

/// The SDK's ValidationResponse accepting the request, written around the
/// mutated object's text (`null` for none) so that the object is never parsed
/// into a tree or re-serialised.
fn accepted(object: &str, warning: Option<&str>) -> CallResult {
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
    use std::path::Path;

    const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

    /// The module order written at the top of this file: `module`, or
    /// `folder/module` for a file of a folder (`folder` is its mod.rs).
    fn order() -> Vec<&'static str> {
        include_str!("lib.rs")
            .lines()
            .skip_while(|line| !line.starts_with("//! The modules, lowest first"))
            .skip_while(|line| !line.starts_with("//!   "))
            .map_while(|line| line.strip_prefix("//!   "))
            .filter_map(|line| line.split_whitespace().next())
            .collect()
    }

    /// What `path` (`a::b::c`, read in `folder` or at the top) names: the
    /// folder's file `b` when there is one, else the module `a` itself.
    fn resolve(folder: Option<&str>, path: &str) -> String {
        let path = path.trim_start();
        let end = path.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
        let mut segments = path[..end.unwrap_or(path.len())].split("::");
        let first = folder.or_else(|| segments.next()).unwrap_or("").to_string();
        let child = segments.next().unwrap_or("");
        if !child.is_empty() && Path::new(&format!("{SRC}/{first}/{child}.rs")).is_file() {
            return format!("{first}/{child}");
        }
        first
    }

    /// The modules `text` (of `module`) names as `crate::x`, `crate::{x, y::z}`,
    /// `crate::folder::{x, y}`, or `super::x` in a folder's file; its tests
    /// may use anything.
    fn uses(text: &str, module: &str) -> BTreeSet<String> {
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let parent = module.split_once('/').map(|(folder, _)| folder);
        let mut found = BTreeSet::new();
        let mut scan = |prefix: &str, folder: Option<&str>| {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + prefix.len()..];
                let head = resolve(folder, rest);
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
                let (path, after) = rest.split_at(end.unwrap_or(rest.len()));
                let (group, within) = match after.strip_prefix('{') {
                    Some(group) if path.is_empty() => (group, folder),
                    Some(group) if folder.is_none() && !head.contains('/') => {
                        (group, Some(head.as_str()))
                    }
                    _ => {
                        found.insert(head);
                        continue;
                    }
                };
                let items = group.split('}').next().unwrap().split(',');
                found.extend(items.map(|item| resolve(within, item)));
            }
        };
        scan("crate::", None);
        if let Some(folder) = parent {
            scan("super::", Some(folder));
        }
        found.remove(module);
        found
    }

    /// The text of `module`: its file, or its folder's mod.rs.
    fn source(module: &str) -> String {
        std::fs::read_to_string(format!("{SRC}/{module}.rs"))
            .or_else(|_| std::fs::read_to_string(format!("{SRC}/{module}/mod.rs")))
            .unwrap()
    }

    /// Every file of src/, as the order names it.
    fn modules(dir: &Path, folder: Option<&str>, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                found.insert(name.clone());
                modules(&path, Some(&name), found);
            } else if name != "mod" {
                found.insert(folder.map_or(name.clone(), |f| format!("{f}/{name}")));
            }
        }
    }

    /// The order names every file of src/, and each module uses only the
    /// modules above it.
    #[test]
    fn modules_use_only_modules_above_them() {
        let order = order();
        assert_eq!(order.last(), Some(&"lib"), "{order:?}");
        let mut files = BTreeSet::new();
        modules(Path::new(SRC), None, &mut files);
        let listed: BTreeSet<String> = order.iter().map(|m| m.to_string()).collect();
        assert_eq!(files, listed);
        for (place, module) in order.iter().enumerate().filter(|(_, m)| **m != "lib") {
            for used in uses(&source(module), module) {
                let above = order.iter().position(|m| *m == used);
                assert!(
                    above.is_some_and(|above| above < place),
                    "{module} uses {used}, which is not above it in lib.rs's order"
                );
            }
        }
    }

    /// `accepted` writes the SDK's `ValidationResponse` by hand around the
    /// object's text: byte for byte what the SDK would write.
    #[test]
    fn accepted_is_the_sdks_serialisation() {
        use kubewarden_policy_sdk::response::ValidationResponse;
        for object in [r#"{"a":[1,true,null],"b":{"c":"d\"e"}}"#, "null"] {
            for warning in [None, Some("left out \"x\"")] {
                let sdk = serde_json::to_vec(&ValidationResponse {
                    accepted: true,
                    message: None,
                    code: None,
                    mutated_object: serde_json::from_str(object).unwrap(),
                    audit_annotations: None,
                    warnings: warning.map(|w| vec![w.to_string()]),
                })
                .unwrap();
                assert_eq!(super::accepted(object, warning).unwrap(), sdk);
            }
        }
    }

    #[test]
    fn an_error_fits_in_a_small_result() {
        // Every step of the mutation returns one: clippy's result_large_err
        // bound, with room to spare for a new variant.
        let size = std::mem::size_of::<super::Error>();
        assert!(size <= 128, "{size}");
    }

    #[test]
    fn uses_reads_single_grouped_and_folder_imports() {
        let text = "use crate::diag::At;\nuse crate::{error::Error, json};\n\
                    let x = crate::names::f();\nuse super::scan::Index;\n\
                    use crate::settings::{reader, Settings};";
        let found: Vec<String> = uses(text, "json/read").into_iter().collect();
        let expected = "diag error json json/scan names settings settings/reader";
        assert_eq!(found, expected.split(' ').collect::<Vec<_>>());
    }
}
