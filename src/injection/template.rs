//! The pod template of an object read up to the decision whether to inject
//! it: found at its kind's path, skipped when it is a mirror pod or can only
//! run on Windows; and the ephemeral containers a debug update's oldObject had.

use serde_json::{Map, Value};

use crate::diag::At;
use crate::error::ValueError;
use crate::fields::{Slot, missing, object};
use crate::json::{self, Object, Raw};

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// The node labels that say a node's OS; the kubelet sets both.
const OS_LABELS: [&str; 2] = ["kubernetes.io/os", "beta.kubernetes.io/os"];
const WINDOWS: &str = "windows";

/// What makes the object not the shape of its kind: a workload names it
/// (`malformed Deployment: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Malformed {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Json(#[from] json::Error),
    #[error("the object must be a JSON object")]
    NotJsonObject,
    #[error(
        "oldObject is missing: an ephemeralcontainers update must carry the pod as it was, to \
         tell the new debug containers from the existing ones"
    )]
    OldObjectMissing,
}

/// A pod template, read up to the decision whether to inject it.
pub struct Template<'a> {
    pub template: Object<'a>,
    pub metadata: Option<Object<'a>>,
    pub annotations: Option<Annotations<'a>>,
    pub spec: Object<'a>,
    /// Where the spec is, for messages (`spec`, `spec.template.spec`).
    pub spec_at: String,
}

/// The template's annotations as found, and parsed to be looked up and
/// measured.
pub struct Annotations<'a> {
    pub found: Object<'a>,
    pub map: Map<String, Value>,
}

impl Template<'_> {
    /// The annotations parsed, when there are any.
    pub fn annotation_map(&self) -> Option<&Map<String, Value>> {
        self.annotations.as_ref().map(|a| &a.map)
    }
}

/// The template at `path` in `object`, with what the rules read of it;
/// `None` when the pod is one the policy never injects.
pub fn read<'a>(object: Raw<'a>, path: &[&'static str]) -> Result<Option<Template<'a>>, Malformed> {
    let (template, at) = descend(object, path)?;
    let here = At::Root(&at);
    let metadata_at = At::Field(&here, "metadata");
    let metadata = match template.present("metadata") {
        None => None,
        Some(raw) => Some(self::object(raw, &metadata_at)?),
    };
    let annotations = annotations(metadata.as_ref(), &metadata_at)?;
    if annotations
        .as_ref()
        .is_some_and(|a| a.map.contains_key(MIRROR_POD_ANNOTATION))
    {
        return Ok(None);
    }
    let spec_at = At::Field(&here, "spec").to_string();
    let spec_here = At::Root(&spec_at);
    let raw = template
        .present("spec")
        .ok_or_else(|| missing(&spec_here, None))?;
    let spec = self::object(raw, &spec_here)?;
    if windows_only(&spec, &spec_here)? {
        return Ok(None);
    }
    Ok(Some(Template {
        template,
        metadata,
        annotations,
        spec,
        spec_at,
    }))
}

/// The object at `path` in `object`, and where it is (`spec.template`).
fn descend<'a>(object: Raw<'a>, path: &[&'static str]) -> Result<(Object<'a>, String), Malformed> {
    let mut found = Object::read(object).ok_or(Malformed::NotJsonObject)?;
    let mut at = String::new();
    for key in path {
        if !at.is_empty() {
            at.push('.');
        }
        at.push_str(key);
        let here = At::Root(&at);
        let raw = found.present(key).ok_or_else(|| missing(&here, None))?;
        found = self::object(raw, &here)?;
    }
    Ok((found, at))
}

fn annotations<'a>(
    metadata: Option<&Object<'a>>,
    metadata_at: &At<'_>,
) -> Result<Option<Annotations<'a>>, Malformed> {
    let Some(raw) = metadata.and_then(|m| m.present("annotations")) else {
        return Ok(None);
    };
    let found = self::object(raw, &At::Field(metadata_at, "annotations"))?;
    let map = json::map(&found)?;
    Ok(Some(Annotations { found, map }))
}

/// Whether the pod can only run on Windows nodes: `os.name: windows`, a node
/// selector on the OS label, or a required node affinity of which every term
/// requires Windows (the terms are ORed: one that allows another OS lets the
/// pod run there, and it is injected).
fn windows_only(spec: &Object<'_>, at: &At<'_>) -> Result<bool, Malformed> {
    for (field, keys) in [("os", &["name"][..]), ("nodeSelector", &OS_LABELS)] {
        if let Some(raw) = spec.present(field) {
            let found = object(raw, &At::Field(at, field))?;
            let windows = |key| found.get(key).and_then(json::string).as_deref() == Some(WINDOWS);
            if keys.iter().copied().any(windows) {
                return Ok(true);
            }
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
) -> Result<Option<(Object<'a>, String)>, Malformed> {
    let Some(raw) = parent.present(field) else {
        return Ok(None);
    };
    let here = At::Field(&At::Root(at), field).to_string();
    Ok(Some((object(raw, &At::Root(&here))?, here)))
}

/// A node selector term requires Windows when one of its expressions (which
/// are ANDed) is the OS label `In` values that are all `windows`.
fn term_requires_windows(raw: Raw<'_>, at: &At<'_>) -> Result<bool, Malformed> {
    let term = object(raw, at)?;
    let expressions = Slot::read(&term, at, "matchExpressions")?;
    for (i, item) in expressions.items().iter().copied().enumerate() {
        let expression = object(item, &At::Item(at, "matchExpressions", i))?;
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

/// The names of the ephemeral containers the pod had before the update. The
/// API server forbids changing those (ValidatePodEphemeralContainersUpdate),
/// so an `oldObject` that cannot be read is refused: taken as empty, its
/// containers would be injected as new ones.
pub fn existing_ephemeral(old: Option<Raw<'_>>) -> Result<Vec<String>, Malformed> {
    let root = At::Root("oldObject");
    let pod = object(old.ok_or(Malformed::OldObjectMissing)?, &root)?;
    let spec_at = At::Field(&root, "spec");
    let spec = pod.present("spec").ok_or_else(|| missing(&spec_at, None))?;
    let spec = object(spec, &spec_at)?;
    let field = "ephemeralContainers";
    let containers = Slot::read(&spec, &spec_at, field)?;
    let names = containers.named(&spec_at, field, "name");
    names.map(|c| Ok(c?.name.into_owned())).collect()
}
