//! The mutation itself: from a pod spec (as the host sent it) and a plan, the
//! insertions that give each container the bundle. It never removes, rewrites
//! or reorders anything it finds, and adds nothing already there, so a second
//! run changes nothing. The only value it may change is JAVA_TOOL_OPTIONS,
//! and only when `javaTrustStore` asks for it.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::diag::At;
use crate::error::{Error, Expected};
use crate::fields::{Slot, object, string, wrong};
use crate::json::{self, Edits, Object, Raw, to_json};
use crate::names::{LABEL_MAX, is_dns_label, same_path};
use crate::overrides::Plan;
use crate::settings::JAVA_TOOL_OPTIONS;

const VOLUME_PREFIX: &str = "cainjector-";

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

/// The pod's volumes, and the one to mount: an existing volume that already
/// carries our whole source, or a free name for a new one.
struct Volumes<'a> {
    slot: Slot<'a>,
    name: String,
    present: bool,
}

fn choose_volume<'a>(
    spec: &Object<'a>,
    at: &At<'_>,
    plan: &Plan<'_>,
) -> Result<Volumes<'a>, Error> {
    let slot = Slot::read(spec, at, "volumes")?;
    // A set: a pod may carry thousands of names that collide with ours.
    let mut taken: BTreeSet<Cow<'a, str>> = BTreeSet::new();
    for (i, item) in slot.items().iter().copied().enumerate() {
        let here = At::Item(at, "volumes", i);
        let volume = object(item, &here)?;
        let name = string(&volume, &here, "name")?;
        if carries(&volume, item, plan)? {
            return Ok(Volumes {
                name: name.into_owned(),
                present: true,
                slot,
            });
        }
        taken.insert(name);
    }
    let label = plan.source.label();
    let name = (0..=taken.len())
        .map(|attempt| volume_name(label, attempt))
        .find(|candidate| !taken.contains(candidate.as_str()))
        .unwrap_or_else(|| volume_name(label, taken.len().saturating_add(1)));
    debug_assert!(is_dns_label(&name));
    Ok(Volumes {
        slot,
        name,
        present: false,
    })
}

/// Whether the volume already carries our whole source. Only a volume of
/// the same kind can: no other is parsed.
fn carries(volume: &Object<'_>, raw: Raw<'_>, plan: &Plan<'_>) -> Result<bool, Error> {
    if volume.present(plan.source.volume_field()).is_none() {
        return Ok(false);
    }
    let Value::Object(parsed) = json::value(raw)? else {
        return Ok(false);
    };
    Ok(plan.source.carried_by(&parsed, &plan.cert_file))
}

/// The volume, as JSON: `{"name": ..., "<source field>": ...}`.
fn volume(name: &str, plan: &Plan<'_>) -> Result<String, Error> {
    let (field, source) = plan.source.volume_source(&plan.cert_file);
    Ok(format!(
        "{{\"name\":{},{}:{}}}",
        to_json(name)?,
        to_json(field)?,
        to_json(&source)?
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Mount<'p> {
    name: &'p str,
    mount_path: &'p str,
    read_only: bool,
}

fn mount(volume: &str, path: &str) -> Result<String, Error> {
    to_json(&Mount {
        name: volume,
        mount_path: path,
        read_only: true,
    })
}

#[derive(Serialize)]
struct EnvVar<'p> {
    name: &'p str,
    value: &'p str,
}

fn env_var(name: &str, value: &str) -> Result<String, Error> {
    to_json(&EnvVar { name, value })
}

/// Add the trust store options to the container's own JAVA_TOOL_OPTIONS: after
/// its literal value, unless it comes from `valueFrom` or already names a
/// trust store. Returns whether anything changed.
fn extend_java_options(
    edits: &mut Edits<'_>,
    entry: &Object<'_>,
    at: &At<'_>,
    options: &str,
) -> Result<bool, Error> {
    if entry.present("valueFrom").is_some() {
        return Ok(false);
    }
    let value = match entry.get("value") {
        None => {
            edits.add_member(entry, "value", &to_json(options)?);
            return Ok(true);
        }
        Some(raw) => raw,
    };
    let own = if json::is_null(value) {
        Cow::Borrowed("")
    } else {
        json::string(value)
            .ok_or_else(|| wrong(&At::Field(at, "value"), Expected::String, value))?
    };
    if own.contains("javax.net.ssl.trustStore") {
        return Ok(false);
    }
    let combined = if own.trim().is_empty() {
        options.to_string()
    } else {
        format!("{own} {options}")
    };
    edits.replace(value, to_json(&combined)?);
    Ok(true)
}

/// What one container got.
#[derive(Default)]
struct Touched {
    changed: bool,
    mounted: bool,
    /// The env vars added, JAVA_TOOL_OPTIONS included when it was absent.
    env: Vec<String>,
    /// The trust store options appended to the container's own JAVA_TOOL_OPTIONS.
    java_options: bool,
}

/// The JSON texts every container may get, written once per pod.
struct Additions<'p> {
    volume: &'p str,
    mount: String,
    /// Env var names with the text of their entries.
    env: Vec<(&'p str, String)>,
    java: Option<String>,
}

impl<'p> Additions<'p> {
    fn new(plan: &'p Plan<'_>, volume: &'p str) -> Result<Additions<'p>, Error> {
        let env = match &plan.env_value {
            Some(value) => plan
                .env_vars
                .iter()
                .map(|name| Ok((name.as_str(), env_var(name, value)?)))
                .collect::<Result<_, Error>>()?,
            None => Vec::new(),
        };
        let java = plan.java_options.as_ref();
        Ok(Additions {
            volume,
            mount: mount(volume, &plan.mount_path)?,
            env,
            java: java
                .map(|options| env_var(JAVA_TOOL_OPTIONS, options))
                .transpose()?,
        })
    }
}

/// Whether the container already has the mount path: its own mount of that
/// directory, however spelled, or a block device there (ValidateVolumeMounts
/// refuses a mount at a device's path, or named as a device). The pod's own
/// wins: the container gets the env vars, not a second mount.
fn mount_path_taken(
    container: &Object<'_>,
    at: &At<'_>,
    mounts: &Slot<'_>,
    plan: &Plan<'_>,
    volume: &str,
) -> Result<bool, Error> {
    let mut taken = false;
    for (i, item) in mounts.items().iter().copied().enumerate() {
        let here = At::Item(at, "volumeMounts", i);
        taken |= same_path(
            &string(&object(item, &here)?, &here, "mountPath")?,
            &plan.mount_path,
        );
    }
    let devices = Slot::read(container, at, "volumeDevices")?;
    for (i, item) in devices.items().iter().copied().enumerate() {
        let here = At::Item(at, "volumeDevices", i);
        let device = object(item, &here)?;
        taken |= same_path(&string(&device, &here, "devicePath")?, &plan.mount_path)
            || string(&device, &here, "name")? == volume;
    }
    Ok(taken)
}

/// A container's env as found: the list, the names it sets, and its own
/// JAVA_TOOL_OPTIONS entry with its index.
struct Env<'a> {
    slot: Slot<'a>,
    names: Vec<Cow<'a, str>>,
    java: Option<(Object<'a>, usize)>,
}

impl<'a> Env<'a> {
    fn read(container: &Object<'a>, at: &At<'_>) -> Result<Env<'a>, Error> {
        let slot = Slot::read(container, at, "env")?;
        let mut names = Vec::with_capacity(slot.items().len());
        let mut java = None;
        for (i, item) in slot.items().iter().copied().enumerate() {
            let here = At::Item(at, "env", i);
            let entry = object(item, &here)?;
            let name = string(&entry, &here, "name")?;
            if name == JAVA_TOOL_OPTIONS {
                java = Some((entry, i));
            }
            names.push(name);
        }
        Ok(Env { slot, names, java })
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// Add to one container, unless excluded, what it lacks of the plan.
fn inject_container(
    edits: &mut Edits<'_>,
    raw: Raw<'_>,
    at: &At<'_>,
    plan: &Plan<'_>,
    additions: &Additions<'_>,
) -> Result<(Touched, String), Error> {
    let container = object(raw, at)?;
    let name = string(&container, at, "name")?.into_owned();
    if plan.excludes(&name) {
        return Ok((Touched::default(), name));
    }
    let mounts = Slot::read(&container, at, "volumeMounts")?;
    let occupied = mount_path_taken(&container, at, &mounts, plan, additions.volume)?;
    let env = Env::read(&container, at)?;

    let mut touched = Touched::default();
    let mut added: Vec<&str> = Vec::new();
    for (var, text) in additions.env.iter().filter(|(var, _)| !env.has(var)) {
        added.push(text);
        touched.env.push((*var).to_string());
    }
    match (&plan.java_options, &env.java, &additions.java) {
        (Some(options), Some((entry, i)), _) => {
            let here = At::Item(at, "env", *i);
            touched.java_options = extend_java_options(edits, entry, &here, options)?;
            touched.changed |= touched.java_options;
        }
        (Some(_), None, Some(java)) => {
            added.push(java);
            touched.env.push(JAVA_TOOL_OPTIONS.to_string());
        }
        _ => {}
    }
    if !occupied {
        let mount = [additions.mount.as_str()];
        mounts.extend(edits, &container, "volumeMounts", &mount);
        touched.changed = true;
        touched.mounted = true;
    }
    if !added.is_empty() {
        env.slot.extend(edits, &container, "env", &added);
        touched.changed = true;
    }
    Ok((touched, name))
}

/// The lists of containers of a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl List {
    /// The field of the pod spec.
    pub fn field(self) -> &'static str {
        match self {
            List::Containers => "containers",
            List::InitContainers => "initContainers",
            List::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// What one container was given, in the order it was added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub list: List,
    pub name: String,
    /// The read-only mount at the plan's mount path.
    pub mount: bool,
    /// The env vars added, in the plan's order (JAVA_TOOL_OPTIONS last).
    pub env: Vec<String>,
    /// The trust store options appended to the container's own JAVA_TOOL_OPTIONS.
    pub java_options: bool,
}

impl Added {
    fn new(list: List, name: String, touched: Touched) -> Added {
        Added {
            list,
            name,
            mount: touched.mounted,
            env: touched.env,
            java_options: touched.java_options,
        }
    }
}

/// What was injected into a pod spec: for the status annotation, and for
/// `action: require`, which names what a pod lacks.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub volume: String,
    pub mount_path: String,
    pub containers: Vec<String>,
    pub init_containers: Vec<String>,
    /// Each container changed, in the order injection visits them (containers,
    /// then init containers).
    pub added: Vec<Added>,
}

impl Report {
    /// What a container of `list` was given, when it was given anything.
    fn record(&mut self, list: List, name: String, touched: Touched) {
        if !touched.changed {
            return;
        }
        match list {
            List::Containers => self.containers.push(name.clone()),
            List::InitContainers => self.init_containers.push(name.clone()),
            List::EphemeralContainers => {}
        }
        self.added.push(Added::new(list, name, touched));
    }
}

/// Add the bundle to a pod spec. `at` names the spec in messages (`spec`,
/// `spec.template.spec`). Returns what was added, if anything; on a malformed
/// spec, a message naming the field (and the caller drops the edits).
pub fn inject(
    edits: &mut Edits<'_>,
    spec: &Object<'_>,
    at: &At<'_>,
    plan: &Plan<'_>,
) -> Result<Option<Report>, Error> {
    let volumes = choose_volume(spec, at, plan)?;
    let mut report = Report {
        volume: volumes.name.clone(),
        mount_path: plan.mount_path.clone(),
        ..Report::default()
    };
    let mut volume_used = false;
    let additions = Additions::new(plan, &volumes.name)?;

    let lists: &[List] = if plan.init_containers {
        &[List::Containers, List::InitContainers]
    } else {
        &[List::Containers]
    };
    for list in lists {
        let field = list.field();
        let slot = Slot::read(spec, at, field)?;
        for (i, item) in slot.items().iter().copied().enumerate() {
            let (touched, name) =
                inject_container(edits, item, &At::Item(at, field, i), plan, &additions)?;
            volume_used |= touched.mounted;
            report.record(*list, name, touched);
        }
    }

    if volume_used && !volumes.present {
        volumes.slot.extend(
            edits,
            spec,
            "volumes",
            &[volume(&report.volume, plan)?.as_str()],
        );
    }
    let changed = !report.containers.is_empty() || !report.init_containers.is_empty();
    Ok(changed.then_some(report))
}

/// Add the bundle to the ephemeral (debug) containers that `kubectl debug`
/// adds, those not in `existing`. A pod's volumes cannot change, so this only
/// works when the pod already has a volume with the bundle. Returns what was
/// added, if anything.
pub fn inject_ephemeral(
    edits: &mut Edits<'_>,
    spec: &Object<'_>,
    at: &At<'_>,
    plan: &Plan<'_>,
    existing: &[String],
) -> Result<Option<Report>, Error> {
    let volumes = choose_volume(spec, at, plan)?;
    if !volumes.present {
        return Ok(None);
    }
    let list = List::EphemeralContainers;
    let field = list.field();
    let slot = Slot::read(spec, at, field)?;
    let additions = Additions::new(plan, &volumes.name)?;
    let mut report = Report {
        volume: volumes.name.clone(),
        mount_path: plan.mount_path.clone(),
        ..Report::default()
    };
    for (i, item) in slot.items().iter().copied().enumerate() {
        let here = At::Item(at, field, i);
        let name = string(&object(item, &here)?, &here, "name")?;
        if existing.iter().any(|e| *e == name) {
            continue;
        }
        let (touched, name) = inject_container(edits, item, &here, plan, &additions)?;
        report.record(list, name, touched);
    }
    Ok((!report.added.is_empty()).then_some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_name_is_a_label_for_dotted_sources() {
        assert_eq!(volume_name("my-org.com", 0), "cainjector-my-org-com");
        assert_eq!(volume_name("ca-bundle", 1), "cainjector-ca-bundle-2");
        assert_eq!(
            volume_name("example.com/corp-signer", 0),
            "cainjector-example-com-corp-signer"
        );
        assert_eq!(
            volume_name("example.com:corp:root", 0),
            "cainjector-example-com-corp-root"
        );
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
