//! Where the pod template lives in each kind the policy handles, and the
//! checks that apply to a pod or template before anything is injected.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::inject::{inject, inject_ephemeral, wrong, At, Report};
use crate::json::{self, to_json, Edits, Object, Raw};
use crate::overrides::{plan, Plan, STATUS};
use crate::settings::{Settings, Source};

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

fn not_object(at: &At<'_>, raw: Raw<'_>) -> Refusal {
    Refusal::Malformed(wrong(at, "an object", raw))
}

/// Why a pod (or template) is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The object does not have the shape of its kind; says which field.
    Malformed(String),
    /// One of our annotations is invalid or not allowed; names it.
    Annotation(String),
}

/// What was injected: the object's new text, what to check the source for,
/// and what each container was given.
#[derive(Debug, PartialEq)]
pub struct Injected {
    pub object: String,
    pub source: Source,
    /// The keys the pod will read from the source.
    pub keys: Vec<String>,
    pub report: Report,
}

impl Injected {
    fn new(edits: Edits<'_>, plan: Plan<'_>, report: Report) -> Injected {
        let mut keys = vec![plan.cert_file];
        keys.extend(plan.java_key);
        Injected {
            object: edits.apply(),
            source: plan.source,
            keys,
            report,
        }
    }
}

/// A pod template, read up to the decision whether to inject it.
struct Template<'a, 's> {
    template: Object<'a>,
    metadata: Option<Object<'a>>,
    annotations: Option<Object<'a>>,
    spec: Object<'a>,
    plan: Plan<'s>,
}

/// The template at `path` in `object`, with what the rules read of it.
/// `spec_at` is where its spec is, for messages.
fn read_template<'a, 's>(
    object: Raw<'a>,
    path: &[&'static str],
    settings: &'s Settings,
    namespace: &str,
    spec_at: &mut String,
) -> Result<Option<Template<'a, 's>>, Refusal> {
    let mut template = Object::read(object)
        .ok_or_else(|| Refusal::Malformed("the object must be a JSON object".to_string()))?;
    let mut at = String::new();
    for key in path {
        if !at.is_empty() {
            at.push('.');
        }
        at.push_str(key);
        let here = At::Root(&at);
        template = match template.present(key) {
            None => return Err(Refusal::Malformed(format!("{at} is missing"))),
            Some(raw) => Object::read(raw).ok_or_else(|| not_object(&here, raw))?,
        };
    }
    let here = At::Root(&at);
    let metadata = match template.present("metadata") {
        None => None,
        Some(raw) => {
            Some(Object::read(raw).ok_or_else(|| not_object(&At::Field(&here, "metadata"), raw))?)
        }
    };
    let metadata_at = At::Field(&here, "metadata");
    let (annotations, annotation_map) =
        match metadata.as_ref().and_then(|m| m.present("annotations")) {
            None => (None, None),
            Some(raw) => {
                let object = Object::read(raw)
                    .ok_or_else(|| not_object(&At::Field(&metadata_at, "annotations"), raw))?;
                let map = match json::value(raw) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                (Some(object), Some(map))
            }
        };
    if annotation_map
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION))
    {
        return Ok(None);
    }
    *spec_at = At::Field(&here, "spec").to_string();
    let spec = match template.present("spec") {
        None => return Err(Refusal::Malformed(format!("{spec_at} is missing"))),
        Some(raw) => Object::read(raw).ok_or_else(|| not_object(&At::Root(spec_at), raw))?,
    };
    if let Some(os) = spec.present("os") {
        let os_object =
            Object::read(os).ok_or_else(|| not_object(&At::Field(&At::Root(spec_at), "os"), os))?;
        let name = os_object.get("name").and_then(json::string);
        if name.as_deref() == Some("windows") {
            return Ok(None);
        }
    }
    let plan = plan(settings, annotation_map.as_ref(), namespace).map_err(Refusal::Annotation)?;
    Ok(plan.map(|plan| Template {
        template,
        metadata,
        annotations,
        spec,
        plan,
    }))
}

/// Inject into the pod template found at `path` in `object`, and record what
/// was injected in the `<prefix>/status` annotation when the settings ask.
pub fn inject_template(
    object: Raw<'_>,
    path: &[&'static str],
    settings: &Settings,
    namespace: &str,
) -> Result<Option<Injected>, Refusal> {
    let mut spec_at = String::new();
    let Some(t) = read_template(object, path, settings, namespace, &mut spec_at)? else {
        return Ok(None);
    };
    let mut edits = Edits::new(object);
    let Some(report) =
        inject(&mut edits, &t.spec, &At::Root(&spec_at), &t.plan).map_err(Refusal::Malformed)?
    else {
        return Ok(None);
    };
    if settings.status_annotation {
        let key = format!("{}/{}", settings.annotation_prefix, STATUS);
        set_annotation(&mut edits, &t, &key, &status(&t.plan, &report));
    }
    Ok(Some(Injected::new(edits, t.plan, report)))
}

/// `kubectl debug` adds ephemeral containers with an UPDATE of the
/// `ephemeralcontainers` subresource: inject the new ones (not in `old`).
/// Returns what was injected, if anything.
pub fn inject_debug_containers(
    object: Raw<'_>,
    old: Option<Raw<'_>>,
    settings: &Settings,
    namespace: &str,
) -> Result<Option<Injected>, Refusal> {
    let existing: Vec<String> = old
        .map(json::value)
        .as_ref()
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
    let mut spec_at = String::new();
    let Some(t) = read_template(object, &[], settings, namespace, &mut spec_at)? else {
        return Ok(None);
    };
    let mut edits = Edits::new(object);
    let report = inject_ephemeral(&mut edits, &t.spec, &At::Root(&spec_at), &t.plan, &existing)
        .map_err(Refusal::Malformed)?;
    Ok(report.map(|report| Injected::new(edits, t.plan, report)))
}

/// Set one annotation on the template, making `metadata` and `annotations`
/// when they are absent; the value replaces an older one of the same key.
fn set_annotation(edits: &mut Edits<'_>, t: &Template<'_, '_>, key: &str, value: &str) {
    let text = to_json(value);
    if let Some(annotations) = &t.annotations {
        match annotations.get(key) {
            Some(old) => edits.replace(old, text),
            None => edits.add_member(annotations, key, &text),
        }
        return;
    }
    let annotations = format!("{{{}:{text}}}", to_json(key));
    match (&t.metadata, t.template.get("metadata")) {
        (Some(metadata), _) => match metadata.get("annotations") {
            Some(null) => edits.replace(null, annotations),
            None => edits.add_member(metadata, "annotations", &annotations),
        },
        (None, Some(null)) => edits.replace(null, format!("{{\"annotations\":{annotations}}}")),
        (None, None) => edits.add_member(
            &t.template,
            "metadata",
            &format!("{{\"annotations\":{annotations}}}"),
        ),
    }
}

/// The `<prefix>/status` annotation's value: what this pod was given, as JSON
/// with its members in a fixed order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'p> {
    source: Value,
    volume: &'p str,
    mount_path: &'p str,
    containers: &'p [String],
    init_containers: &'p [String],
    env_vars: &'p [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    java_trust_store: Option<String>,
}

fn status(plan: &Plan<'_>, report: &Report) -> String {
    let status = Status {
        source: plan.source.describe(),
        volume: &report.volume,
        mount_path: &plan.mount_path,
        containers: &report.containers,
        init_containers: &report.init_containers,
        env_vars: match plan.env_value {
            Some(_) => plan.env_vars,
            None => &[],
        },
        java_trust_store: plan
            .java_key
            .as_ref()
            .map(|key| format!("{}/{key}", plan.mount_path)),
    };
    serde_json::to_string(&status).unwrap_or_default()
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
