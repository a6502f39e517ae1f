//! Where the pod template lives in each kind the policy handles, and the
//! checks that apply to a pod or template before anything is injected.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::At;
use crate::inject::{self, inject, inject_ephemeral, string, Report, Slot};
use crate::json::{self, to_json, Edits, Object, Raw};
use crate::overrides::{plan, Plan, STATUS};
use crate::settings::{Settings, Source};

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// The node labels that say a node's OS; the kubelet sets both.
const OS_LABELS: [&str; 2] = ["kubernetes.io/os", "beta.kubernetes.io/os"];
const WINDOWS: &str = "windows";
/// The most the keys and values of an object's annotations may take
/// together (ValidateAnnotations: TotalAnnotationSizeLimitB, 256 KiB).
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;

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
    /// For the client, when the status annotation was left out.
    pub warning: Option<String>,
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
            warning: None,
        }
    }
}

/// A pod template, read up to the decision whether to inject it.
struct Template<'a, 's> {
    template: Object<'a>,
    metadata: Option<Object<'a>>,
    annotations: Option<Object<'a>>,
    /// The annotations parsed, to measure them.
    annotation_map: Option<Map<String, Value>>,
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
            Some(raw) => inject::object(raw, &here).map_err(Refusal::Malformed)?,
        };
    }
    let here = At::Root(&at);
    let metadata = match template.present("metadata") {
        None => None,
        Some(raw) => {
            Some(inject::object(raw, &At::Field(&here, "metadata")).map_err(Refusal::Malformed)?)
        }
    };
    let metadata_at = At::Field(&here, "metadata");
    let (annotations, annotation_map) =
        match metadata.as_ref().and_then(|m| m.present("annotations")) {
            None => (None, None),
            Some(raw) => {
                let read = inject::object(raw, &At::Field(&metadata_at, "annotations"))
                    .map_err(Refusal::Malformed)?;
                let map = match json::value(raw) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                (Some(read), Some(map))
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
        Some(raw) => inject::object(raw, &At::Root(spec_at)).map_err(Refusal::Malformed)?,
    };
    if windows_only(&spec, &At::Root(spec_at)).map_err(Refusal::Malformed)? {
        return Ok(None);
    }
    let plan = plan(settings, annotation_map.as_ref(), namespace).map_err(Refusal::Annotation)?;
    Ok(plan.map(|plan| Template {
        template,
        metadata,
        annotations,
        annotation_map,
        spec,
        plan,
    }))
}

/// Whether the pod can only run on Windows nodes: `os.name: windows`, a node
/// selector on the OS label, or a required node affinity of which every term
/// requires Windows (the terms are ORed: one that allows another OS lets the
/// pod run there, and it is injected).
fn windows_only(spec: &Object<'_>, at: &At<'_>) -> Result<bool, String> {
    if let Some(raw) = spec.present("os") {
        let os = inject::object(raw, &At::Field(at, "os"))?;
        if os.get("name").and_then(json::string).as_deref() == Some(WINDOWS) {
            return Ok(true);
        }
    }
    if let Some(raw) = spec.present("nodeSelector") {
        let selector = inject::object(raw, &At::Field(at, "nodeSelector"))?;
        let pinned = OS_LABELS
            .iter()
            .any(|label| selector.get(label).and_then(json::string).as_deref() == Some(WINDOWS));
        if pinned {
            return Ok(true);
        }
    }
    let at = at.to_string();
    let Some((affinity, at)) = child(spec, &at, "affinity")? else {
        return Ok(false);
    };
    let Some((node, at)) = child(&affinity, &at, "nodeAffinity")? else {
        return Ok(false);
    };
    let required = "requiredDuringSchedulingIgnoredDuringExecution";
    let Some((required, at)) = child(&node, &at, required)? else {
        return Ok(false);
    };
    let at = At::Root(&at);
    let terms = Slot::read(&required, &at, "nodeSelectorTerms")?;
    for (i, term) in terms.items().iter().copied().enumerate() {
        if !term_requires_windows(term, &At::Item(&at, "nodeSelectorTerms", i))? {
            return Ok(false);
        }
    }
    Ok(!terms.items().is_empty())
}

/// The object at `field` of `parent` (named `at`) when present, with its name.
fn child<'a>(
    parent: &Object<'a>,
    at: &str,
    field: &str,
) -> Result<Option<(Object<'a>, String)>, String> {
    let Some(raw) = parent.present(field) else {
        return Ok(None);
    };
    let here = At::Field(&At::Root(at), field).to_string();
    inject::object(raw, &At::Root(&here)).map(|o| Some((o, here)))
}

/// A node selector term requires Windows when one of its expressions (which
/// are ANDed) is the OS label `In` values that are all `windows`.
fn term_requires_windows(raw: Raw<'_>, at: &At<'_>) -> Result<bool, String> {
    let term = inject::object(raw, at)?;
    let expressions = Slot::read(&term, at, "matchExpressions")?;
    for (i, item) in expressions.items().iter().copied().enumerate() {
        let expression = inject::object(item, &At::Item(at, "matchExpressions", i))?;
        let key = expression.get("key").and_then(json::string);
        let operator = expression.get("operator").and_then(json::string);
        let values = expression.get("values").and_then(json::items);
        let windows = values.is_some_and(|values| {
            !values.is_empty()
                && values
                    .iter()
                    .all(|v| json::string(*v).as_deref() == Some(WINDOWS))
        });
        if key.is_some_and(|k| OS_LABELS.contains(&k.as_ref()))
            && operator.as_deref() == Some("In")
            && windows
        {
            return Ok(true);
        }
    }
    Ok(false)
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
    let mut warning = None;
    if settings.status_annotation {
        let key = format!("{}/{}", settings.annotation_prefix, STATUS);
        let value = status(&t.plan, &report);
        let size = annotations_size(t.annotation_map.as_ref(), &key, &value);
        if size <= ANNOTATIONS_LIMIT {
            set_annotation(&mut edits, &t, &key, &value);
        } else {
            warning = Some(format!(
                "cainjector injected the trust bundle but left out its annotation \"{key}\": \
                 with it the annotations would take {size} bytes, over the {ANNOTATIONS_LIMIT} \
                 bytes the API server allows (keys and values together)"
            ));
        }
    }
    let mut injected = Injected::new(edits, t.plan, report);
    injected.warning = warning;
    Ok(Some(injected))
}

/// The bytes of the annotations' keys and values, as ValidateAnnotations
/// counts them, with `key` set to `value`.
fn annotations_size(annotations: Option<&Map<String, Value>>, key: &str, value: &str) -> usize {
    let others = annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != key)
        .map(|(k, v)| k.len().saturating_add(v.as_str().map_or(0, str::len)))
        .fold(0usize, usize::saturating_add);
    others.saturating_add(key.len()).saturating_add(value.len())
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
    let mut spec_at = String::new();
    let Some(t) = read_template(object, &[], settings, namespace, &mut spec_at)? else {
        return Ok(None);
    };
    let existing = existing_ephemeral(old).map_err(Refusal::Malformed)?;
    let mut edits = Edits::new(object);
    let report = inject_ephemeral(&mut edits, &t.spec, &At::Root(&spec_at), &t.plan, &existing)
        .map_err(Refusal::Malformed)?;
    Ok(report.map(|report| Injected::new(edits, t.plan, report)))
}

/// The names of the ephemeral containers the pod had before the update. The
/// API server forbids changing those (ValidatePodEphemeralContainersUpdate),
/// so an `oldObject` that cannot be read is refused: taken as empty, its
/// containers would be injected as new ones.
fn existing_ephemeral(old: Option<Raw<'_>>) -> Result<Vec<String>, String> {
    let root = At::Root("oldObject");
    let Some(old) = old.filter(|raw| !json::is_null(*raw)) else {
        return Err(
            "oldObject is missing: an ephemeralcontainers update must carry the pod \
             as it was, to tell the new debug containers from the existing ones"
                .to_string(),
        );
    };
    let pod = inject::object(old, &root)?;
    let spec_at = At::Field(&root, "spec");
    let Some(spec) = pod.present("spec") else {
        return Err(format!("{spec_at} is missing"));
    };
    let spec = inject::object(spec, &spec_at)?;
    let field = "ephemeralContainers";
    let containers = Slot::read(&spec, &spec_at, field)?;
    containers
        .items()
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let here = At::Item(&spec_at, field, i);
            string(&inject::object(*item, &here)?, &here, "name").map(|n| n.into_owned())
        })
        .collect()
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
