//! The mutation itself: a pure function from a pod spec (as JSON) and a plan
//! to the same spec with only our additions. It never removes, rewrites or
//! reorders anything it finds, and adds nothing that is already there, so a
//! second run changes nothing.

use serde_json::{Map, Value};

use crate::names::{is_dns_label, same_path};
use crate::overrides::Plan;
use crate::settings::{kind_of, Source};

const VOLUME_PREFIX: &str = "cainjector-";
const LABEL_MAX: usize = 63;

/// The place in the object being read, for messages (`spec.template.spec`).
struct At(String);

impl At {
    fn item(&self, field: &str, index: usize) -> At {
        At(format!("{}.{field}[{index}]", self.0))
    }

    fn wrong(&self, field: &str, expected: &str, found: &Value) -> String {
        format!(
            "{}.{field} must be {expected}, found {}",
            self.0,
            kind_of(found)
        )
    }

    fn missing(&self, field: &str, expected: &str) -> String {
        format!("{}.{field} is missing: it must be {expected}", self.0)
    }
}

/// A list field that may be absent (or null, which the API treats the same).
fn list<'v>(map: &'v Map<String, Value>, at: &At, field: &str) -> Result<&'v [Value], String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(at.wrong(field, "a list", other)),
    }
}

/// The same list, made present so that we can append to it.
fn list_mut<'v>(map: &'v mut Map<String, Value>, field: &str) -> Option<&'v mut Vec<Value>> {
    let slot = map
        .entry(field.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
}

fn object<'v>(item: &'v Value, here: &At) -> Result<&'v Map<String, Value>, String> {
    item.as_object()
        .ok_or_else(|| format!("{} must be an object, found {}", here.0, kind_of(item)))
}

fn string<'v>(map: &'v Map<String, Value>, at: &At, field: &str) -> Result<&'v str, String> {
    match map.get(field) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(at.missing(field, "a string")),
        Some(other) => Err(at.wrong(field, "a string", other)),
    }
}

/// A volume that already carries our whole source can be mounted as it is.
fn carries_source(volume: &Map<String, Value>, source: &Source) -> bool {
    let (field, key, name) = match source {
        Source::ConfigMap(name) => ("configMap", "name", name),
        Source::Secret(name) => ("secret", "secretName", name),
    };
    volume
        .get(field)
        .and_then(Value::as_object)
        .is_some_and(|src| {
            src.get(key).and_then(Value::as_str) == Some(name.as_str())
                && src.get("items").is_none_or(Value::is_null)
        })
}

/// FNV-1a: a stable, dependency-free hash to keep truncated names unique.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// A DNS-1123 label for the volume, whatever the source is called
/// (`my-org.com` → `cainjector-my-org-com`); `attempt` > 0 avoids a name the
/// pod already uses for something else.
pub fn volume_name(source_name: &str, attempt: usize) -> String {
    let stem = format!("{VOLUME_PREFIX}{}", source_name.replace('.', "-"));
    let suffix = if attempt == 0 {
        String::new()
    } else {
        format!("-{}", attempt.saturating_add(1))
    };
    if stem.len().saturating_add(suffix.len()) <= LABEL_MAX {
        return stem + &suffix;
    }
    let hash = format!("-{:08x}", fnv1a(source_name));
    let room = LABEL_MAX.saturating_sub(hash.len().saturating_add(suffix.len()));
    let head = stem
        .get(..room)
        .unwrap_or(VOLUME_PREFIX)
        .trim_end_matches('-');
    format!("{head}{hash}{suffix}")
}

/// The name of the volume to mount, and whether it still has to be added.
fn choose_volume(
    spec: &Map<String, Value>,
    at: &At,
    source: &Source,
) -> Result<(String, bool), String> {
    let mut taken: Vec<&str> = Vec::new();
    for (i, item) in list(spec, at, "volumes")?.iter().enumerate() {
        let here = at.item("volumes", i);
        let volume = object(item, &here)?;
        let name = string(volume, &here, "name")?;
        if carries_source(volume, source) {
            return Ok((name.to_string(), false));
        }
        taken.push(name);
    }
    let (Source::ConfigMap(source_name) | Source::Secret(source_name)) = source;
    let name = (0..=taken.len())
        .map(|attempt| volume_name(source_name, attempt))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or_else(|| volume_name(source_name, taken.len().saturating_add(1)));
    debug_assert!(is_dns_label(&name));
    Ok((name, true))
}

fn volume(name: &str, source: &Source) -> Value {
    let mut volume = Map::new();
    volume.insert("name".into(), Value::String(name.into()));
    let (field, key, source_name) = match source {
        Source::ConfigMap(n) => ("configMap", "name", n),
        Source::Secret(n) => ("secret", "secretName", n),
    };
    let mut src = Map::new();
    src.insert(key.into(), Value::String(source_name.clone()));
    volume.insert(field.into(), Value::Object(src));
    Value::Object(volume)
}

fn mount(volume: &str, path: &str) -> Value {
    let mut mount = Map::new();
    mount.insert("name".into(), Value::String(volume.into()));
    mount.insert("mountPath".into(), Value::String(path.into()));
    mount.insert("readOnly".into(), Value::Bool(true));
    Value::Object(mount)
}

fn env_var(name: &str, value: &str) -> Value {
    let mut env = Map::new();
    env.insert("name".into(), Value::String(name.into()));
    env.insert("value".into(), Value::String(value.into()));
    Value::Object(env)
}

/// What one container lacks of the plan.
struct Missing<'p> {
    mount: bool,
    env: Vec<&'p str>,
}

fn missing<'p>(
    container: &Map<String, Value>,
    at: &At,
    plan: &'p Plan<'_>,
) -> Result<Missing<'p>, String> {
    let mut mounted = false;
    for (i, item) in list(container, at, "volumeMounts")?.iter().enumerate() {
        let here = at.item("volumeMounts", i);
        mounted |= same_path(
            string(object(item, &here)?, &here, "mountPath")?,
            &plan.mount_path,
        );
    }
    let mut present: Vec<&str> = Vec::new();
    for (i, item) in list(container, at, "env")?.iter().enumerate() {
        let here = at.item("env", i);
        present.push(string(object(item, &here)?, &here, "name")?);
    }
    let env = match plan.env_value {
        Some(_) => plan
            .env_vars
            .iter()
            .map(String::as_str)
            .filter(|name| !present.contains(name))
            .collect(),
        None => Vec::new(),
    };
    Ok(Missing {
        mount: !mounted,
        env,
    })
}

/// Add the bundle to a pod spec. `at` names the spec in messages (`spec`,
/// `spec.template.spec`). Returns whether anything was added; on a malformed
/// spec, returns a message naming the field, and the caller drops the copy.
pub fn inject(spec: &mut Map<String, Value>, at: &str, plan: &Plan<'_>) -> Result<bool, String> {
    let at = At(at.to_string());
    let (volume_name, volume_missing) = choose_volume(spec, &at, &plan.source)?;
    let mut changed = false;
    let mut volume_used = false;

    let lists: &[&str] = if plan.init_containers {
        &["containers", "initContainers"]
    } else {
        &["containers"]
    };
    for field in lists {
        let Some(items) = spec.get_mut(*field) else {
            continue;
        };
        let items = match items {
            Value::Null => continue,
            Value::Array(items) => items,
            other => return Err(at.wrong(field, "a list", other)),
        };
        for (i, item) in items.iter_mut().enumerate() {
            let here = at.item(field, i);
            object(item, &here)?;
            let Some(container) = item.as_object_mut() else {
                continue;
            };
            if plan.excludes(string(container, &here, "name")?) {
                continue;
            }
            let missing = missing(container, &here, plan)?;
            if missing.mount {
                if let Some(mounts) = list_mut(container, "volumeMounts") {
                    mounts.push(mount(&volume_name, &plan.mount_path));
                    volume_used = true;
                    changed = true;
                }
            }
            if let (Some(value), false) = (&plan.env_value, missing.env.is_empty()) {
                if let Some(env) = list_mut(container, "env") {
                    for name in &missing.env {
                        env.push(env_var(name, value));
                    }
                    changed = true;
                }
            }
        }
    }

    if volume_used && volume_missing {
        if let Some(volumes) = list_mut(spec, "volumes") {
            volumes.push(volume(&volume_name, &plan.source));
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_name_is_a_label_for_dotted_sources() {
        assert_eq!(volume_name("my-org.com", 0), "cainjector-my-org-com");
        assert_eq!(volume_name("ca-bundle", 1), "cainjector-ca-bundle-2");
    }

    #[test]
    fn volume_name_of_a_long_source_fits_63_characters() {
        let long = format!("{}.{}", "a".repeat(120), "b".repeat(120));
        for attempt in 0..12 {
            let name = volume_name(&long, attempt);
            assert!(is_dns_label(&name), "{name}");
        }
        assert_ne!(volume_name(&long, 0), volume_name(&format!("{long}c"), 0));
    }

    #[test]
    fn volume_name_truncation_never_ends_in_a_dash() {
        // The cut falls right after a '.', which became '-'.
        let source = format!("{}.{}", "x".repeat(41), "y".repeat(30));
        let name = volume_name(&source, 0);
        assert!(is_dns_label(&name), "{name}");
    }
}
