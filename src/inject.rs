//! The mutation itself: a pure function from a pod spec (as JSON) and a plan
//! to the same spec with only our additions. It never removes, rewrites or
//! reorders anything it finds, and adds nothing that is already there, so a
//! second run changes nothing.

use serde_json::{Map, Value};

use crate::names::{is_dns_label, same_path};
use crate::overrides::Plan;
use crate::settings::{kind_of, JAVA_TOOL_OPTIONS};

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
    let cleaned: String = source_name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = format!("{VOLUME_PREFIX}{}", cleaned.trim_matches('-'));
    let stem = stem.trim_end_matches('-');
    let suffix = if attempt == 0 {
        String::new()
    } else {
        format!("-{}", attempt.saturating_add(1))
    };
    if stem.len().saturating_add(suffix.len()) <= LABEL_MAX {
        return format!("{stem}{suffix}");
    }
    let hash = format!("-{:08x}", fnv1a(source_name));
    let room = LABEL_MAX.saturating_sub(hash.len().saturating_add(suffix.len()));
    let head = stem
        .get(..room)
        .unwrap_or(VOLUME_PREFIX)
        .trim_end_matches('-');
    format!("{head}{hash}{suffix}")
}

/// The volume already carrying our source, if any; else a free name for a new one.
fn choose_volume(
    spec: &Map<String, Value>,
    at: &At,
    plan: &Plan<'_>,
) -> Result<(String, bool), String> {
    let mut taken: Vec<&str> = Vec::new();
    for (i, item) in list(spec, at, "volumes")?.iter().enumerate() {
        let here = at.item("volumes", i);
        let volume = object(item, &here)?;
        let name = string(volume, &here, "name")?;
        if plan.source.carried_by(volume, &plan.cert_file) {
            return Ok((name.to_string(), true));
        }
        taken.push(name);
    }
    let label = plan.source.label();
    let name = (0..=taken.len())
        .map(|attempt| volume_name(label, attempt))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or_else(|| volume_name(label, taken.len().saturating_add(1)));
    debug_assert!(is_dns_label(&name));
    Ok((name, false))
}

fn volume(name: &str, plan: &Plan<'_>) -> Value {
    let (field, source) = plan.source.volume_source(&plan.cert_file);
    let mut volume = Map::new();
    volume.insert("name".into(), Value::String(name.into()));
    volume.insert(field.into(), source);
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

/// What to do with a container's JAVA_TOOL_OPTIONS.
enum Java {
    Leave,
    Add,
    /// Append our options after the container's own literal value, at this index.
    Append(usize, String),
}

/// What one container lacks of the plan.
struct Missing<'p> {
    mount: bool,
    env: Vec<&'p str>,
    java: Java,
}

fn java_edit(env: &[Value]) -> Java {
    let Some((index, entry)) = env
        .iter()
        .enumerate()
        .find(|(_, e)| e.get("name").and_then(Value::as_str) == Some(JAVA_TOOL_OPTIONS))
    else {
        return Java::Add;
    };
    if entry.get("valueFrom").is_some_and(|v| !v.is_null()) {
        return Java::Leave;
    }
    match entry.get("value") {
        Some(Value::String(own)) if own.contains("javax.net.ssl.trustStore") => Java::Leave,
        Some(Value::String(own)) => Java::Append(index, own.clone()),
        _ => Java::Append(index, String::new()),
    }
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
    let env_list = list(container, at, "env")?;
    let mut present: Vec<&str> = Vec::with_capacity(env_list.len());
    for (i, item) in env_list.iter().enumerate() {
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
    let java = match plan.java_options {
        Some(_) => java_edit(env_list),
        None => Java::Leave,
    };
    Ok(Missing {
        mount: !mounted,
        env,
        java,
    })
}

/// What one container got.
#[derive(Default)]
struct Touched {
    changed: bool,
    mounted: bool,
}

/// Add to one container (not excluded) what it lacks.
fn inject_container(
    item: &mut Value,
    here: &At,
    plan: &Plan<'_>,
    volume: &str,
) -> Result<Touched, String> {
    object(item, here)?;
    let Some(container) = item.as_object_mut() else {
        return Ok(Touched::default());
    };
    if plan.excludes(string(container, here, "name")?) {
        return Ok(Touched::default());
    }
    let missing = missing(container, here, plan)?;
    let mut touched = Touched::default();
    if missing.mount {
        if let Some(mounts) = list_mut(container, "volumeMounts") {
            mounts.push(mount(volume, &plan.mount_path));
            touched = Touched {
                changed: true,
                mounted: true,
            };
        }
    }
    let java = match (&plan.java_options, missing.java) {
        (Some(options), Java::Add) => Some((None, options.clone())),
        (Some(options), Java::Append(index, own)) if own.trim().is_empty() => {
            Some((Some(index), options.clone()))
        }
        (Some(options), Java::Append(index, own)) => {
            Some((Some(index), format!("{own} {options}")))
        }
        _ => None,
    };
    let value = plan.env_value.as_deref().unwrap_or_default();
    if missing.env.is_empty() && java.is_none() {
        return Ok(touched);
    }
    if let Some(env) = list_mut(container, "env") {
        env.extend(missing.env.iter().map(|name| env_var(name, value)));
        match java {
            Some((None, options)) => env.push(env_var(JAVA_TOOL_OPTIONS, &options)),
            Some((Some(index), options)) => {
                if let Some(Value::Object(entry)) = env.get_mut(index) {
                    entry.insert("value".into(), Value::String(options));
                }
            }
            None => {}
        }
        touched.changed = true;
    }
    Ok(touched)
}

/// What was injected into a pod spec, for the status annotation.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub volume: String,
    pub containers: Vec<String>,
    pub init_containers: Vec<String>,
}

fn container_name(item: &Value) -> String {
    item.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Add the bundle to a pod spec. `at` names the spec in messages (`spec`,
/// `spec.template.spec`). Returns what was added, if anything; on a malformed
/// spec, returns a message naming the field, and the caller drops the copy.
pub fn inject(
    spec: &mut Map<String, Value>,
    at: &str,
    plan: &Plan<'_>,
) -> Result<Option<Report>, String> {
    let at = At(at.to_string());
    let (volume_name, volume_present) = choose_volume(spec, &at, plan)?;
    let mut report = Report {
        volume: volume_name,
        ..Report::default()
    };
    let mut volume_used = false;

    let lists: &[&str] = if plan.init_containers {
        &["containers", "initContainers"]
    } else {
        &["containers"]
    };
    for field in lists {
        let items = match spec.get_mut(*field) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(other) => return Err(at.wrong(field, "a list", other)),
        };
        for (i, item) in items.iter_mut().enumerate() {
            let touched = inject_container(item, &at.item(field, i), plan, &report.volume)?;
            volume_used |= touched.mounted;
            if touched.changed {
                let names = if *field == "containers" {
                    &mut report.containers
                } else {
                    &mut report.init_containers
                };
                names.push(container_name(item));
            }
        }
    }

    if volume_used && !volume_present {
        if let Some(volumes) = list_mut(spec, "volumes") {
            volumes.push(volume(&report.volume, plan));
        }
    }
    let changed = !report.containers.is_empty() || !report.init_containers.is_empty();
    Ok(changed.then_some(report))
}

/// Add the bundle to the ephemeral (debug) containers that `kubectl debug`
/// adds, those not in `existing`. A pod's volumes cannot change, so this only
/// works when the pod already has a volume with the bundle.
pub fn inject_ephemeral(
    spec: &mut Map<String, Value>,
    at: &str,
    plan: &Plan<'_>,
    existing: &[String],
) -> Result<bool, String> {
    let at = At(at.to_string());
    let (volume_name, volume_present) = choose_volume(spec, &at, plan)?;
    if !volume_present {
        return Ok(false);
    }
    let field = "ephemeralContainers";
    let items = match spec.get_mut(field) {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(at.wrong(field, "a list", other)),
    };
    let mut changed = false;
    for (i, item) in items.iter_mut().enumerate() {
        if existing.contains(&container_name(item)) {
            continue;
        }
        changed |= inject_container(item, &at.item(field, i), plan, &volume_name)?.changed;
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
