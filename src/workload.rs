//! Where the pod template lives in each kind the policy handles, and the
//! checks that apply to a pod or template before anything is injected.

use serde_json::{Map, Value};

use crate::inject::inject;
use crate::overrides::{plan, Decision};
use crate::settings::{kind_of, Settings};

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

/// Inject into the pod template found at `path` in `object`. Returns whether
/// the object changed.
pub fn inject_template(
    object: &mut Value,
    path: &[&str],
    settings: &Settings,
) -> Result<bool, Refusal> {
    let (template, at) = descend(object, path).map_err(Refusal::Malformed)?;
    let metadata_at = join(&at, "metadata");
    let annotations = match child(template, &at, "metadata").map_err(Refusal::Malformed)? {
        Some(m) => child(m, &metadata_at, "annotations").map_err(Refusal::Malformed)?,
        None => None,
    };
    if annotations.is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)) {
        return Ok(false);
    }
    let spec_at = join(&at, "spec");
    let spec = match template.get("spec") {
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
        return Ok(false);
    }

    let plan = match plan(settings, annotations).map_err(Refusal::Annotation)? {
        Decision::Skip => return Ok(false),
        Decision::Inject(plan) => plan,
    };
    match template.get_mut("spec") {
        Some(Value::Object(spec)) => inject(spec, &spec_at, &plan).map_err(Refusal::Malformed),
        _ => Ok(false),
    }
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
