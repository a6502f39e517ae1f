//! Where the pod template lives in each kind the policy handles, and the
//! checks that apply to a pod or template before anything is injected.

use serde_json::{Map, Value};

use crate::inject::{inject, inject_ephemeral, Report};
use crate::overrides::{plan, Plan, STATUS};
use crate::settings::{kind_of, Settings, Source};

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The kinds the policy mutates, by API group and kind, with the path from
/// the object to its pod template (empty for a Pod, which is its own template).
pub fn template_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (group, kind) {
        ("", "Pod") => Some(&[]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

fn descend<'v>(
    object: &'v mut Value,
    path: &[&str],
) -> Result<(&'v mut Map<String, Value>, String), String> {
    let mut at = String::new();
    let mut here = object
        .as_object_mut()
        .ok_or_else(|| "the object must be a JSON object".to_string())?;
    for key in path {
        if !at.is_empty() {
            at.push('.');
        }
        at.push_str(key);
        here = match here.get_mut(*key) {
            Some(Value::Object(map)) => map,
            None | Some(Value::Null) => return Err(format!("{at} is missing")),
            Some(other) => return Err(format!("{at} must be an object, found {}", kind_of(other))),
        };
    }
    Ok((here, at))
}

fn join(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_string()
    } else {
        format!("{at}.{field}")
    }
}

fn child<'v>(
    map: &'v Map<String, Value>,
    at: &str,
    field: &str,
) -> Result<Option<&'v Map<String, Value>>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(format!(
            "{} must be an object, found {}",
            join(at, field),
            kind_of(other)
        )),
    }
}

/// Why a pod (or template) is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The object does not have the shape of its kind; says which field.
    Malformed(String),
    /// One of our annotations is invalid or not allowed; names it.
    Annotation(String),
}

/// What was injected, for checking that the source exists.
#[derive(Debug, PartialEq)]
pub struct Injected {
    pub source: Source,
    /// The keys the pod will read from the source.
    pub keys: Vec<String>,
}

/// A pod template, read up to the decision whether to inject it.
struct Template<'o, 's> {
    map: &'o mut Map<String, Value>,
    spec_at: String,
    plan: Plan<'s>,
}

fn read_template<'o, 's>(
    object: &'o mut Value,
    path: &[&str],
    settings: &'s Settings,
) -> Result<Option<Template<'o, 's>>, Refusal> {
    let (map, at) = descend(object, path).map_err(Refusal::Malformed)?;
    let metadata_at = join(&at, "metadata");
    let annotations = match child(map, &at, "metadata").map_err(Refusal::Malformed)? {
        Some(m) => child(m, &metadata_at, "annotations").map_err(Refusal::Malformed)?,
        None => None,
    };
    if annotations.is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)) {
        return Ok(None);
    }
    let spec_at = join(&at, "spec");
    let spec = match map.get("spec") {
        Some(Value::Object(spec)) => spec,
        None | Some(Value::Null) => {
            return Err(Refusal::Malformed(format!("{spec_at} is missing")))
        }
        Some(other) => {
            return Err(Refusal::Malformed(format!(
                "{spec_at} must be an object, found {}",
                kind_of(other)
            )))
        }
    };
    let os = child(spec, &spec_at, "os").map_err(Refusal::Malformed)?;
    if os.and_then(|os| os.get("name")).and_then(Value::as_str) == Some("windows") {
        return Ok(None);
    }
    let plan = plan(settings, annotations).map_err(Refusal::Annotation)?;
    Ok(plan.map(|plan| Template { map, spec_at, plan }))
}

fn spec_of(map: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    map.get_mut("spec").and_then(Value::as_object_mut)
}

/// Inject into the pod template found at `path` in `object`, and record what
/// was injected in the `<prefix>/status` annotation.
pub fn inject_template(
    object: &mut Value,
    path: &[&str],
    settings: &Settings,
) -> Result<Option<Injected>, Refusal> {
    let Some(template) = read_template(object, path, settings)? else {
        return Ok(None);
    };
    let Template { map, spec_at, plan } = template;
    let Some(spec) = spec_of(map) else {
        return Ok(None);
    };
    let Some(report) = inject(spec, &spec_at, &plan).map_err(Refusal::Malformed)? else {
        return Ok(None);
    };
    if settings.status_annotation {
        let key = format!("{}/{}", settings.annotation_prefix, STATUS);
        set_annotation(map, key, status(&plan, &report).to_string());
    }
    let mut keys = vec![plan.cert_file.clone()];
    keys.extend(plan.java_key.clone());
    Ok(Some(Injected {
        source: plan.source,
        keys,
    }))
}

/// `kubectl debug` adds ephemeral containers with an UPDATE of the
/// `ephemeralcontainers` subresource: inject the new ones (not in `old`).
pub fn inject_debug_containers(
    object: &mut Value,
    old: Option<&Value>,
    settings: &Settings,
) -> Result<bool, Refusal> {
    let existing: Vec<String> = old
        .and_then(|o| o.pointer("/spec/ephemeralContainers"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let Some(template) = read_template(object, &[], settings)? else {
        return Ok(false);
    };
    let Template { map, spec_at, plan } = template;
    match spec_of(map) {
        Some(spec) => {
            inject_ephemeral(spec, &spec_at, &plan, &existing).map_err(Refusal::Malformed)
        }
        None => Ok(false),
    }
}

fn set_annotation(template: &mut Map<String, Value>, key: String, value: String) {
    let metadata = template
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if metadata.is_null() {
        *metadata = Value::Object(Map::new());
    }
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if annotations.is_null() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key, Value::String(value));
    }
}

/// The `<prefix>/status` annotation: what this pod was given.
fn status(plan: &Plan<'_>, report: &Report) -> Value {
    let names = |list: &[String]| Value::Array(list.iter().cloned().map(Value::String).collect());
    let mut status = Map::new();
    status.insert("source".into(), plan.source.describe());
    status.insert("volume".into(), Value::String(report.volume.clone()));
    status.insert("mountPath".into(), Value::String(plan.mount_path.clone()));
    status.insert("containers".into(), names(&report.containers));
    status.insert("initContainers".into(), names(&report.init_containers));
    let env_vars: &[String] = match plan.env_value {
        Some(_) => plan.env_vars,
        None => &[],
    };
    status.insert("envVars".into(), names(env_vars));
    if let Some(key) = &plan.java_key {
        status.insert(
            "javaTrustStore".into(),
            Value::String(format!("{}/{key}", plan.mount_path)),
        );
    }
    Value::Object(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_is_its_own_template() {
        assert_eq!(template_path("", "Pod"), Some(&[][..]));
    }

    #[test]
    fn workload_templates_by_kind() {
        for kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] {
            assert_eq!(template_path("apps", kind), Some(&["spec", "template"][..]));
        }
        assert_eq!(
            template_path("", "ReplicationController"),
            Some(&["spec", "template"][..])
        );
        assert_eq!(
            template_path("batch", "Job"),
            Some(&["spec", "template"][..])
        );
        assert_eq!(
            template_path("batch", "CronJob"),
            Some(&["spec", "jobTemplate", "spec", "template"][..])
        );
    }

    #[test]
    fn other_kinds_and_groups_are_not_handled() {
        assert_eq!(template_path("", "ConfigMap"), None);
        assert_eq!(template_path("example.com", "Deployment"), None);
        assert_eq!(template_path("apps", "Pod"), None);
    }
}
