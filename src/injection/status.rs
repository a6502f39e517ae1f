//! The `<prefix>/status` annotation: what a pod was given, written on the
//! template when `statusAnnotation` asks, unless it would take the
//! annotations over the API server's budget.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::injection::inject::{List, SpecChanges};
use crate::injection::overrides::{Plan, STATUS};
use crate::injection::template::Template;
use crate::json::{Edits, Error, to_json};
use crate::settings::Settings;

/// The most the keys and values of an object's annotations may take
/// together (ValidateAnnotations: TotalAnnotationSizeLimitB, 256 KiB).
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// The warning for the client when the status annotation would take the
/// annotations over the budget.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "cainjector injected the trust bundle but left out its annotation \"{key}\": with it the \
     annotations would take {size} bytes, over the {limit} bytes the API server allows (keys and \
     values together)"
)]
pub struct LeftOut {
    key: String,
    size: usize,
    limit: usize,
}

/// Write the status annotation on the template; when it does not fit, the
/// warning for the client instead.
pub fn annotate(
    edits: &mut Edits<'_>,
    t: &Template<'_>,
    settings: &Settings,
    plan: &Plan<'_>,
    report: &SpecChanges,
) -> Result<Option<LeftOut>, Error> {
    let key = format!("{}/{}", settings.annotation_prefix, STATUS);
    let value = status(plan, report)?;
    let size = annotations_size(t.annotation_map(), &key, &value);
    if size <= ANNOTATIONS_LIMIT {
        set_annotation(edits, t, &key, &value)?;
        return Ok(None);
    }
    Ok(Some(LeftOut {
        key,
        size,
        limit: ANNOTATIONS_LIMIT,
    }))
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

/// Set one annotation on the template, making `metadata` and `annotations`
/// when they are absent; the value replaces an older one of the same key.
fn set_annotation(
    edits: &mut Edits<'_>,
    t: &Template<'_>,
    key: &str,
    value: &str,
) -> Result<(), Error> {
    let text = to_json(value)?;
    let (object, key, text) = match (&t.annotations, &t.metadata) {
        (Some(annotations), _) => (&annotations.found, key, text),
        (None, metadata) => {
            let annotations = format!("{{{}:{text}}}", to_json(key)?);
            match metadata {
                Some(metadata) => (metadata, "annotations", annotations),
                None => (
                    &t.template,
                    "metadata",
                    format!("{{\"annotations\":{annotations}}}"),
                ),
            }
        }
    };
    match object.get(key) {
        Some(old) => edits.replace(old, text),
        None => edits.add_member(object, key, &text),
    }
    Ok(())
}

/// The `<prefix>/status` annotation's value: what this pod was given, as JSON
/// with its members in a fixed order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'p> {
    source: Value,
    volume: &'p str,
    mount_path: &'p str,
    containers: Changed<'p>,
    init_containers: Changed<'p>,
    env_vars: &'p [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    java_trust_store: Option<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    system_trust_store: &'p [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env_values: Vec<&'p str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    java_cacerts: &'p [String],
}

/// The names of the containers of one list that were changed, as a list.
struct Changed<'p>(&'p SpecChanges, List);

impl Serialize for Changed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.changed(self.1))
    }
}

fn status(plan: &Plan<'_>, report: &SpecChanges) -> Result<String, Error> {
    let status = Status {
        source: plan.source.describe(),
        volume: &report.volume,
        mount_path: &plan.mount_path,
        containers: Changed(report, List::Containers),
        init_containers: Changed(report, List::InitContainers),
        env_vars: match plan.env_value {
            Some(_) => plan.env_vars,
            None => &[],
        },
        java_trust_store: plan
            .java_key
            .as_ref()
            .map(|key| format!("{}/{key}", plan.mount_path)),
        system_trust_store: plan.system_store,
        env_values: plan
            .env_values
            .iter()
            .map(|(name, _)| name.as_str())
            .collect(),
        java_cacerts: plan.cacerts,
    };
    to_json(&status)
}
