//! The mutation itself: from a pod spec (as the host sent it) and a plan, the
//! insertions that give each container the bundle. It never removes, rewrites
//! or reorders anything it finds, and adds nothing already there, so a second
//! run changes nothing. The only value it may change is JAVA_TOOL_OPTIONS,
//! and only when `javaTrustStore` asks for it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;

use serde::Serialize;

use crate::diag::At;
use crate::error::Expected;
use crate::fields::{Slot, object, string, wrong};
use crate::json::{self, Edits, Object, Raw, to_json};
use crate::names::{LABEL_MAX, clean_path, is_dns_label, overlap};
use crate::overrides::Plan;
use crate::settings::JAVA_TOOL_OPTIONS;
use crate::template::Malformed;

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
) -> Result<Volumes<'a>, Malformed> {
    let slot = Slot::read(spec, at, "volumes")?;
    // A set: a pod may carry thousands of names that collide with ours.
    let mut taken: BTreeSet<Cow<'a, str>> = BTreeSet::new();
    for (i, item) in slot.items().iter().copied().enumerate() {
        let here = At::Item(at, "volumes", i);
        let volume = object(item, &here)?;
        let name = string(&volume, &here, "name")?;
        if carries(&volume, plan)? {
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
fn carries(volume: &Object<'_>, plan: &Plan<'_>) -> Result<bool, Malformed> {
    if volume.present(plan.source.volume_field()).is_none() {
        return Ok(false);
    }
    let parsed = json::map(volume)?;
    Ok(plan.source.carried_by(&parsed, &plan.cert_file))
}

/// The volume, as JSON: `{"name": ..., "<source field>": ...}`.
fn volume(name: &str, plan: &Plan<'_>) -> Result<String, Malformed> {
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
    /// The one file of the volume mounted at a system trust store file.
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_path: Option<&'p str>,
}

fn mount(volume: &str, path: &str, sub_path: Option<&str>) -> Result<String, Malformed> {
    Ok(to_json(&Mount {
        name: volume,
        mount_path: path,
        read_only: true,
        sub_path,
    })?)
}

#[derive(Serialize)]
struct EnvVar<'p> {
    name: &'p str,
    value: &'p str,
}

fn env_var(name: &str, value: &str) -> Result<String, Malformed> {
    Ok(to_json(&EnvVar { name, value })?)
}

/// Add the trust store options to the container's own JAVA_TOOL_OPTIONS: after
/// its literal value, unless it comes from `valueFrom` or already names a
/// trust store. Returns whether anything changed.
fn extend_java_options(
    edits: &mut Edits<'_>,
    entry: &Object<'_>,
    at: &At<'_>,
    options: &str,
) -> Result<bool, Malformed> {
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

/// What one container got, when it got anything.
struct Touched {
    mounted: bool,
    /// The system trust store files the bundle was mounted at.
    store: Rc<[String]>,
    /// The env vars added, JAVA_TOOL_OPTIONS included when it was absent.
    env: Rc<[String]>,
    /// The trust store options appended to the container's own JAVA_TOOL_OPTIONS.
    java_options: bool,
}

/// The JSON texts every container may get, written once per pod.
struct Additions<'p> {
    volume: &'p str,
    mount: String,
    /// The mount path as the kubelet cleans it, to compare the pod's paths with.
    mount_dir: Cow<'p, str>,
    /// The system trust store files with the text of their mounts.
    store: Vec<(&'p str, String)>,
    /// Every system trust store file, as most containers get them.
    every_store: Rc<[String]>,
    /// Env var names with the text of their entries.
    env: Vec<(&'p str, String)>,
    java: Option<String>,
    /// What a container that lacks every env var (JAVA_TOOL_OPTIONS
    /// included, when the plan sets it) gets, as most do: the entries as one
    /// comma-separated run, and their names, shared by every such container.
    every: String,
    every_name: Rc<[String]>,
    /// The names of a container given no env var.
    no_name: Rc<[String]>,
}

impl<'p> Additions<'p> {
    /// `store`: whether the containers get the system trust store mounts,
    /// which ephemeral containers cannot (the API server refuses their
    /// `subPath`).
    fn new(plan: &'p Plan<'_>, volume: &'p str, store: bool) -> Result<Additions<'p>, Malformed> {
        let files: &'p [String] = if store { plan.system_store } else { &[] };
        let store = files
            .iter()
            .map(|file| Ok((file.as_str(), mount(volume, file, Some(&plan.cert_file))?)))
            .collect::<Result<_, Malformed>>()?;
        let env: Vec<(&'p str, String)> = match &plan.env_value {
            Some(value) => plan
                .env_vars
                .iter()
                .map(|name| Ok((name.as_str(), env_var(name, value)?)))
                .collect::<Result<_, Malformed>>()?,
            None => Vec::new(),
        };
        let java = plan
            .java_options
            .as_ref()
            .map(|options| env_var(JAVA_TOOL_OPTIONS, options))
            .transpose()?;
        let texts = env.iter().map(|(_, text)| text).chain(&java);
        let every = texts.map(String::as_str).collect::<Vec<_>>().join(",");
        let names = env.iter().map(|(name, _)| *name);
        let every_name = names
            .chain(java.as_ref().map(|_| JAVA_TOOL_OPTIONS))
            .map(str::to_string)
            .collect();
        let no_name: Rc<[String]> = Rc::from([]);
        let every_store = match files {
            [] => Rc::clone(&no_name),
            files => files.into(),
        };
        Ok(Additions {
            volume,
            mount: mount(volume, &plan.mount_path, None)?,
            mount_dir: clean_path(&plan.mount_path),
            store,
            every_store,
            env,
            java,
            every,
            every_name,
            no_name,
        })
    }
}

/// Which of the bundle's mounts the container already has a place for.
/// The pod's own wins: where it mounts or has a device, the container gets
/// no mount of ours.
struct Taken {
    /// The mount path: the container's own mount of that directory, however
    /// spelled, or a block device there (ValidateVolumeMounts refuses a
    /// mount at a device's path, or named as a device).
    occupied: bool,
    /// For each system trust store file, whether the container mounts or has
    /// a device at it, above it or under it.
    blocked: Vec<bool>,
}

impl Taken {
    fn read(
        container: &Object<'_>,
        at: &At<'_>,
        mounts: &Slot<'_>,
        additions: &Additions<'_>,
    ) -> Result<Taken, Malformed> {
        let mut taken = Taken {
            occupied: false,
            blocked: match additions.store.len() {
                0 => Vec::new(),
                files => vec![false; files],
            },
        };
        for (i, item) in mounts.items().iter().copied().enumerate() {
            let here = At::Item(at, "volumeMounts", i);
            taken.mark(
                &string(&object(item, &here)?, &here, "mountPath")?,
                additions,
            );
        }
        let devices = Slot::read(container, at, "volumeDevices")?;
        for (i, item) in devices.items().iter().copied().enumerate() {
            let here = At::Item(at, "volumeDevices", i);
            let device = object(item, &here)?;
            let at_dir = taken.mark(&string(&device, &here, "devicePath")?, additions);
            // A device named as our volume refuses every mount of it.
            let named = (!at_dir || !additions.store.is_empty())
                && string(&device, &here, "name")? == additions.volume;
            if named {
                taken.occupied = true;
                taken.blocked.fill(true);
            }
        }
        Ok(taken)
    }

    /// Mark what the container's own `path` takes; whether it is the mount path.
    fn mark(&mut self, path: &str, additions: &Additions<'_>) -> bool {
        let path = clean_path(path);
        let at_dir = path == additions.mount_dir;
        self.occupied |= at_dir;
        for (blocked, (file, _)) in self.blocked.iter_mut().zip(&additions.store) {
            *blocked |= overlap(&path, file);
        }
        at_dir
    }
}

/// Add the mounts the container lacks: the bundle's directory, then the
/// system trust store files; the files it got.
fn add_mounts(
    edits: &mut Edits<'_>,
    container: &Object<'_>,
    mounts: &Slot<'_>,
    taken: &Taken,
    additions: &Additions<'_>,
) -> Rc<[String]> {
    if additions.store.is_empty() {
        if !taken.occupied {
            let mount = [additions.mount.as_str()];
            mounts.extend(edits, container, "volumeMounts", &mount);
        }
        return Rc::clone(&additions.no_name);
    }
    let mut texts: Vec<&str> = Vec::with_capacity(additions.store.len().saturating_add(1));
    if !taken.occupied {
        texts.push(&additions.mount);
    }
    let mut files: Vec<String> = Vec::new();
    for ((file, text), blocked) in additions.store.iter().zip(&taken.blocked) {
        if !blocked {
            texts.push(text);
            files.push((*file).to_string());
        }
    }
    mounts.extend(edits, container, "volumeMounts", &texts);
    if files.len() == additions.store.len() {
        Rc::clone(&additions.every_store)
    } else {
        Rc::from(files)
    }
}

/// A container's env as found: the list, which of the plan's env vars it
/// sets, and its own JAVA_TOOL_OPTIONS entry with its index.
struct Env<'a> {
    slot: Slot<'a>,
    /// A bit for each of the plan's first 64 env vars the container sets (a
    /// plan has a few), the places of the others it sets.
    set: u64,
    set_beyond: Vec<usize>,
    java: Option<(Object<'a>, usize)>,
}

impl<'a> Env<'a> {
    fn read(
        container: &Object<'a>,
        at: &At<'_>,
        additions: &Additions<'_>,
    ) -> Result<Env<'a>, Malformed> {
        let slot = Slot::read(container, at, "env")?;
        let mut env = Env {
            slot: Slot::Absent,
            set: 0,
            set_beyond: Vec::new(),
            java: None,
        };
        for (i, item) in slot.items().iter().copied().enumerate() {
            let here = At::Item(at, "env", i);
            let entry = object(item, &here)?;
            let name = string(&entry, &here, "name")?;
            for (n, (var, _)) in additions.env.iter().enumerate() {
                if *var == name {
                    env.mark(n);
                }
            }
            if name == JAVA_TOOL_OPTIONS {
                env.java = Some((entry, i));
            }
        }
        env.slot = slot;
        Ok(env)
    }

    fn mark(&mut self, n: usize) {
        match bit(n) {
            Some(bit) => self.set |= bit,
            None => self.set_beyond.push(n),
        }
    }

    /// Whether the container sets the plan's `n`th env var.
    fn sets(&self, n: usize) -> bool {
        match bit(n) {
            Some(bit) => self.set & bit != 0,
            None => self.set_beyond.contains(&n),
        }
    }

    /// Whether the container sets none of the plan's env vars.
    fn sets_none(&self) -> bool {
        self.set == 0 && self.set_beyond.is_empty()
    }
}

/// The `n`th env var's bit in `Env::set`, for the first 64.
fn bit(n: usize) -> Option<u64> {
    u32::try_from(n).ok().and_then(|n| 1u64.checked_shl(n))
}

/// Add to one container, unless excluded, what it lacks of the plan; its
/// name, with what it got when it got anything.
fn inject_container<'a>(
    edits: &mut Edits<'_>,
    raw: Raw<'a>,
    at: &At<'_>,
    plan: &Plan<'_>,
    additions: &Additions<'_>,
) -> Result<(Cow<'a, str>, Option<Touched>), Malformed> {
    let container = object(raw, at)?;
    let name = string(&container, at, "name")?;
    if plan.excludes(&name) {
        return Ok((name, None));
    }
    let mounts = Slot::read(&container, at, "volumeMounts")?;
    let taken = Taken::read(&container, at, &mounts, additions)?;
    let occupied = taken.occupied;
    let env = Env::read(&container, at, additions)?;

    let mut java_options = false;
    if let (Some(options), Some((entry, i))) = (&plan.java_options, &env.java) {
        let here = At::Item(at, "env", *i);
        java_options = extend_java_options(edits, entry, &here, options)?;
    }
    let store = add_mounts(edits, &container, &mounts, &taken, additions);
    let java_added = env.java.is_none() && additions.java.is_some();
    let env_names = if env.sets_none() && (java_added || additions.java.is_none()) {
        every_env(edits, &container, &env, additions)
    } else {
        some_env(edits, &container, &env, additions, java_added)
    };
    let changed = !occupied || !store.is_empty() || java_options || !env_names.is_empty();
    let touched = changed.then_some(Touched {
        mounted: !occupied,
        store,
        env: env_names,
        java_options,
    });
    Ok((name, touched))
}

/// Add every env var of the plan, JAVA_TOOL_OPTIONS included; their names.
fn every_env(
    edits: &mut Edits<'_>,
    container: &Object<'_>,
    env: &Env<'_>,
    additions: &Additions<'_>,
) -> Rc<[String]> {
    // With no names there is no text: an empty item would write a bare `,`.
    if !additions.every_name.is_empty() {
        // One run of entries appends as the entries one by one would.
        let every = [additions.every.as_str()];
        env.slot.extend(edits, container, "env", &every);
    }
    Rc::clone(&additions.every_name)
}

/// Add the env vars the container lacks, when it sets some of them or has
/// its own JAVA_TOOL_OPTIONS; their names.
fn some_env(
    edits: &mut Edits<'_>,
    container: &Object<'_>,
    env: &Env<'_>,
    additions: &Additions<'_>,
    java_added: bool,
) -> Rc<[String]> {
    let mut texts: Vec<&str> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (n, (var, text)) in additions.env.iter().enumerate() {
        if !env.sets(n) {
            texts.push(text);
            names.push((*var).to_string());
        }
    }
    if let (true, Some(java)) = (java_added, &additions.java) {
        texts.push(java);
        names.push(JAVA_TOOL_OPTIONS.to_string());
    }
    if names.is_empty() {
        return Rc::clone(&additions.no_name);
    }
    env.slot.extend(edits, container, "env", &texts);
    Rc::from(names)
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
    /// The system trust store files the bundle was mounted at, in the plan's order.
    pub store: Rc<[String]>,
    /// The env vars added, in the plan's order (JAVA_TOOL_OPTIONS last).
    pub env: Rc<[String]>,
    /// The trust store options appended to the container's own JAVA_TOOL_OPTIONS.
    pub java_options: bool,
}

/// What was injected into a pod spec: for the status annotation, and for
/// `action: require`, which names what a pod lacks.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub volume: String,
    pub mount_path: String,
    /// Each container changed, in the order injection visits them (containers,
    /// then init containers).
    pub added: Vec<Added>,
}

impl Report {
    /// What a container of `list` was given, when it was given anything.
    fn record(&mut self, list: List, name: Cow<'_, str>, touched: Option<Touched>) {
        if let Some(touched) = touched {
            self.added.push(Added {
                list,
                name: name.into_owned(),
                mount: touched.mounted,
                store: touched.store,
                env: touched.env,
                java_options: touched.java_options,
            });
        }
    }

    /// The names of the containers of `list` that were changed, in order.
    pub fn changed(&self, list: List) -> impl Iterator<Item = &str> {
        let of_list = move |added: &&Added| added.list == list;
        self.added
            .iter()
            .filter(of_list)
            .map(|added| added.name.as_str())
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
) -> Result<Option<Report>, Malformed> {
    let volumes = choose_volume(spec, at, plan)?;
    let mut report = Report {
        volume: volumes.name.clone(),
        mount_path: plan.mount_path.clone(),
        ..Report::default()
    };
    let mut volume_used = false;
    let additions = Additions::new(plan, &volumes.name, true)?;

    let lists: &[List] = if plan.init_containers {
        &[List::Containers, List::InitContainers]
    } else {
        &[List::Containers]
    };
    for list in lists {
        let field = list.field();
        let slot = Slot::read(spec, at, field)?;
        report.added.reserve(slot.items().len());
        for (i, item) in slot.items().iter().copied().enumerate() {
            let (name, touched) =
                inject_container(edits, item, &At::Item(at, field, i), plan, &additions)?;
            volume_used |= touched
                .as_ref()
                .is_some_and(|t| t.mounted || !t.store.is_empty());
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
    Ok((!report.added.is_empty()).then_some(report))
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
) -> Result<Option<Report>, Malformed> {
    let volumes = choose_volume(spec, at, plan)?;
    if !volumes.present {
        return Ok(None);
    }
    let list = List::EphemeralContainers;
    let field = list.field();
    let slot = Slot::read(spec, at, field)?;
    let additions = Additions::new(plan, &volumes.name, false)?;
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
        let (name, touched) = inject_container(edits, item, &here, plan, &additions)?;
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
