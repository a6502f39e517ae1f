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
use crate::fields::{Named, Slot, required_string, wrong};
use crate::injection::overrides::Plan;
use crate::injection::template::Malformed;
use crate::json::{self, Edits, Object, to_json};
use crate::settings::JAVA_TOOL_OPTIONS;
use crate::settings::names::{LABEL_MAX, clean_path, is_dns_label, overlap};

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
    let suffix = match attempt {
        0 => String::new(),
        _ => format!("-{}", attempt.saturating_add(1)),
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
    let mut carrier = None;
    for volume in slot.named(at, "volumes", "name") {
        let Named { object, name, .. } = volume?;
        if carries(&object, plan)? {
            carrier = Some(name.into_owned());
            break;
        }
        taken.insert(name);
    }
    let present = carrier.is_some();
    let label = plan.source.label();
    let name = carrier.unwrap_or_else(|| {
        (0..=taken.len())
            .map(|attempt| volume_name(label, attempt))
            .find(|candidate| !taken.contains(candidate.as_str()))
            .unwrap_or_else(|| volume_name(label, taken.len().saturating_add(1)))
    });
    // A name we choose is a label; the pod's own carrier keeps the name it has.
    debug_assert!(present || is_dns_label(&name));
    Ok(Volumes {
        slot,
        name,
        present,
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
    let Some(value) = entry.get("value") else {
        edits.add_member(entry, "value", &to_json(options)?);
        return Ok(true);
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

/// Places in one of the plan's short lists (its env vars, its system trust
/// store files) that a container has: few or none, so a plain list.
type Places = Vec<usize>;

/// What a container may be given from one of the plan's lists: the JSON
/// text of each entry with its name, in the plan's order, written once per
/// pod; and, as most containers lack every entry, all the texts as one
/// comma-separated run and all the names, shared by every such container
/// (an `Rc`: a list of names per container cost 4% of the waPC call on a
/// 60-container pod, BENCHMARKS.md).
struct Entries<'p> {
    list: Vec<(&'p str, String)>,
    every: String,
    every_name: Rc<[String]>,
}

impl<'p> Entries<'p> {
    fn new(list: Vec<(&'p str, String)>) -> Entries<'p> {
        let texts: Vec<&str> = list.iter().map(|(_, text)| text.as_str()).collect();
        Entries {
            every: texts.join(","),
            every_name: list.iter().map(|(name, _)| name.to_string()).collect(),
            list,
        }
    }

    /// Add with `add`, after `lead` (a text, or empty for none), the texts
    /// of the entries not at the places the container has; their names.
    fn add_lacking(&self, has: &[usize], lead: &str, add: impl FnOnce(&[&str])) -> Rc<[String]> {
        if has.is_empty() {
            // One run of entries appends as the entries one by one would.
            add(&[lead, &self.every]);
            return Rc::clone(&self.every_name);
        }
        let lacking = self
            .list
            .iter()
            .enumerate()
            .filter(|(n, _)| !has.contains(n));
        let (texts, names): (Vec<&str>, Vec<String>) = lacking
            .map(|(_, (name, text))| (text.as_str(), name.to_string()))
            .unzip();
        add(&[&[lead], texts.as_slice()].concat());
        names.into()
    }
}

/// The JSON texts every container may get, written once per pod.
struct PodTexts<'p> {
    volume: &'p str,
    mount: String,
    /// The mount path as the kubelet cleans it, to compare the pod's paths with.
    mount_dir: Cow<'p, str>,
    /// The mounts at the system trust store files, then at the JDK trust
    /// store files (one list: the container's list gets one run), named by
    /// the file.
    store: Entries<'p>,
    /// The env vars, then the `envValues` variables, JAVA_TOOL_OPTIONS last
    /// when the plan sets it.
    env: Entries<'p>,
}

impl<'p> PodTexts<'p> {
    /// `store`: whether the containers get the system and JDK trust store
    /// mounts, which ephemeral containers cannot (the API server refuses
    /// their `subPath`).
    fn new(plan: &'p Plan<'_>, volume: &'p str, store: bool) -> Result<PodTexts<'p>, Malformed> {
        let (files, cacerts): (&'p [String], &'p [String]) = match store {
            true => (plan.system_store, plan.cacerts),
            false => (&[], &[]),
        };
        let java_key = plan.java_key.as_deref().unwrap_or_default();
        let files = files.iter().map(|file| (file, plan.cert_file.as_str()));
        let store = files
            .chain(cacerts.iter().map(|file| (file, java_key)))
            .map(|(file, key)| Ok((file.as_str(), mount(volume, file, Some(key))?)))
            .collect::<Result<_, Malformed>>()?;
        let value = plan.env_value.as_deref();
        let vars = plan
            .env_vars
            .iter()
            .filter_map(|name| Some((name.as_str(), value?)));
        let java = plan.java_options.as_deref().map(|o| (JAVA_TOOL_OPTIONS, o));
        let values = plan.env_values.iter();
        let env = vars
            .chain(values.map(|(name, value)| (name.as_str(), value.as_str())))
            .chain(java)
            .map(|(name, value)| Ok((name, env_var(name, value)?)))
            .collect::<Result<_, Malformed>>()?;
        Ok(PodTexts {
            volume,
            mount: mount(volume, &plan.mount_path, None)?,
            mount_dir: clean_path(&plan.mount_path),
            store: Entries::new(store),
            env: Entries::new(env),
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
    /// The system trust store files the container mounts or has a device
    /// at, above or under.
    blocked: Places,
}

impl Taken {
    fn read(
        container: &Object<'_>,
        at: &At<'_>,
        mounts: &Slot<'_>,
        pod_texts: &PodTexts<'_>,
    ) -> Result<Taken, Malformed> {
        let mut taken = Taken {
            occupied: false,
            blocked: Places::default(),
        };
        for mount in mounts.named(at, "volumeMounts", "mountPath") {
            taken.mark(&mount?.name, pod_texts);
        }
        let devices = Slot::read(container, at, "volumeDevices")?;
        let store = &pod_texts.store.list;
        for device in devices.named(at, "volumeDevices", "devicePath") {
            let device = device?;
            let at_dir = taken.mark(&device.name, pod_texts);
            // A device named as our volume refuses every mount of it.
            let named = (!at_dir || !store.is_empty())
                && required_string(&device.object, &device.at, "name")? == pod_texts.volume;
            if named {
                taken.occupied = true;
                taken.blocked = (0..store.len()).collect();
            }
        }
        Ok(taken)
    }

    /// Mark what the container's own `path` takes; whether it is the mount path.
    fn mark(&mut self, path: &str, pod_texts: &PodTexts<'_>) -> bool {
        let path = clean_path(path);
        let at_dir = path == pod_texts.mount_dir;
        self.occupied |= at_dir;
        for (n, (file, _)) in pod_texts.store.list.iter().enumerate() {
            if overlap(&path, file) {
                self.blocked.push(n);
            }
        }
        at_dir
    }
}

/// A container's env as found: the list, which of the plan's env vars it
/// sets, and its own JAVA_TOOL_OPTIONS entry.
struct Env<'a, 's> {
    slot: Slot<'a>,
    set: Places,
    java: Option<Named<'a, 's>>,
}

impl<'a, 's> Env<'a, 's> {
    fn read(
        container: &Object<'a>,
        at: &'s At<'s>,
        pod_texts: &PodTexts<'_>,
    ) -> Result<Env<'a, 's>, Malformed> {
        let slot = Slot::read(container, at, "env")?;
        let mut set = Places::default();
        let mut java = None;
        for entry in slot.named(at, "env", "name") {
            let entry = entry?;
            for (n, (var, _)) in pod_texts.env.list.iter().enumerate() {
                if *var == entry.name {
                    set.push(n);
                }
            }
            if entry.name == JAVA_TOOL_OPTIONS {
                java = Some(entry);
            }
        }
        Ok(Env { slot, set, java })
    }
}

/// Add to one container, unless excluded, what it lacks of the plan; what
/// it got, when it got anything.
fn inject_container(
    edits: &mut Edits<'_>,
    list: List,
    container: &Named<'_, '_>,
    plan: &Plan<'_>,
    pod_texts: &PodTexts<'_>,
) -> Result<Option<Given>, Malformed> {
    let Named { at, object, name } = container;
    if plan.excludes(name) {
        return Ok(None);
    }
    let mounts = Slot::read(object, at, "volumeMounts")?;
    let taken = Taken::read(object, at, &mounts, pod_texts)?;
    let env = Env::read(object, at, pod_texts)?;

    let mut java_options = false;
    if let (Some(options), Some(entry)) = (&plan.java_options, &env.java) {
        java_options = extend_java_options(edits, &entry.object, &entry.at, options)?;
    }
    let lead = if taken.occupied { "" } else { &pod_texts.mount };
    let store = pod_texts.store.add_lacking(&taken.blocked, lead, |texts| {
        mounts.extend(edits, object, "volumeMounts", texts);
    });
    let env_names = pod_texts.env.add_lacking(&env.set, "", |texts| {
        env.slot.extend(edits, object, "env", texts);
    });

    let mount = !taken.occupied;
    let changed = mount || !store.is_empty() || java_options || !env_names.is_empty();
    Ok(changed.then(|| Given {
        list,
        name: name.to_string(),
        mount,
        store,
        env: env_names,
        java_options,
    }))
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
pub struct Given {
    pub list: List,
    pub name: String,
    /// The read-only mount at the plan's mount path.
    pub mount: bool,
    /// The system trust store files the bundle was mounted at, then the JDK
    /// trust store files the Java store was mounted at, in the plan's order.
    pub store: Rc<[String]>,
    /// The env vars added, in the plan's order (the `envValues` variables
    /// after the others, JAVA_TOOL_OPTIONS last).
    pub env: Rc<[String]>,
    /// The trust store options appended to the container's own JAVA_TOOL_OPTIONS.
    pub java_options: bool,
}

/// What was injected into a pod spec: for the status annotation, and for
/// `action: require`, which names what a pod lacks.
#[derive(Debug, Default, PartialEq)]
pub struct SpecChanges {
    pub volume: String,
    pub mount_path: String,
    /// The JDK trust store files of the plan, which `Given::store` may hold.
    pub cacerts: Vec<String>,
    /// Each container changed, in the order injection visits them (containers,
    /// then init containers).
    pub added: Vec<Given>,
}

impl SpecChanges {
    /// Give the containers of `lists` of the spec what they lack, but those
    /// named in `existing`; what they got.
    fn new(
        edits: &mut Edits<'_>,
        spec: &Object<'_>,
        at: &At<'_>,
        plan: &Plan<'_>,
        volume: String,
        lists: &[List],
        existing: &[String],
    ) -> Result<SpecChanges, Malformed> {
        // Ephemeral containers cannot get the system trust store mounts.
        let store = !lists.contains(&List::EphemeralContainers);
        let pod_texts = PodTexts::new(plan, &volume, store)?;
        let mut added = Vec::new();
        for list in lists {
            let slot = Slot::read(spec, at, list.field())?;
            added.reserve(slot.items().len());
            for container in slot.named(at, list.field(), "name") {
                let container = container?;
                if !existing.iter().any(|e| *e == container.name) {
                    let given = inject_container(edits, *list, &container, plan, &pod_texts)?;
                    added.extend(given);
                }
            }
        }
        Ok(SpecChanges {
            volume,
            mount_path: plan.mount_path.clone(),
            cacerts: plan.cacerts.to_vec(),
            added,
        })
    }

    /// Whether a file of `Given::store` is one of the JDK trust store files.
    pub fn is_cacerts(&self, file: &str) -> bool {
        self.cacerts.iter().any(|f| f == file)
    }

    /// The names of the containers of `list` that were changed, in order.
    pub fn changed(&self, list: List) -> impl Iterator<Item = &str> {
        let of_list = move |added: &&Given| added.list == list;
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
) -> Result<Option<SpecChanges>, Malformed> {
    let volumes = choose_volume(spec, at, plan)?;
    let lists: &[List] = if plan.init_containers {
        &[List::Containers, List::InitContainers]
    } else {
        &[List::Containers]
    };
    let report = SpecChanges::new(edits, spec, at, plan, volumes.name, lists, &[])?;
    let used = report.added.iter().any(|a| a.mount || !a.store.is_empty());
    if used && !volumes.present {
        let volume = volume(&report.volume, plan)?;
        volumes
            .slot
            .extend(edits, spec, "volumes", &[volume.as_str()]);
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
) -> Result<Option<SpecChanges>, Malformed> {
    let volumes = choose_volume(spec, at, plan)?;
    if !volumes.present {
        return Ok(None);
    }
    let lists = [List::EphemeralContainers];
    let report = SpecChanges::new(edits, spec, at, plan, volumes.name, &lists, existing)?;
    Ok((!report.added.is_empty()).then_some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries<'p>(names: &[&'p str]) -> Entries<'p> {
        Entries::new(names.iter().map(|n| (*n, format!("<{n}>"))).collect())
    }

    fn lacking(entries: &Entries<'_>, has: &[usize]) -> (Vec<String>, Vec<String>) {
        let mut added = Vec::new();
        let names = entries.add_lacking(has, "lead", |texts| {
            // Slot::extend adds nothing for an empty text.
            let texts = texts.iter().filter(|t| !t.is_empty());
            added = texts.map(|t| t.to_string()).collect();
        });
        (added, names.to_vec())
    }

    /// What a container lacking the entries at places other than `has` gets
    /// (after the lead): one run of them all when it has none.
    #[test]
    fn a_container_gets_the_entries_it_lacks_in_order() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let abc: &[&str] = &["A", "B", "C"];
        let check = |names: &[&str], has: &[usize], texts: &[&str], added: &[&str]| {
            let expected = (strings(texts), strings(added));
            assert_eq!(lacking(&entries(names), has), expected, "{names:?} {has:?}");
        };
        check(abc, &[], &["lead", "<A>,<B>,<C>"], abc);
        check(abc, &[1], &["lead", "<A>", "<C>"], &["A", "C"]);
        check(abc, &[0, 1, 2], &["lead"], &[]);
        check(&[], &[], &["lead"], &[]);
        // The names of a container lacking every entry are shared.
        let all = entries(abc);
        let names = all.add_lacking(&Places::default(), "", |_| {});
        assert!(Rc::ptr_eq(&names, &all.every_name));
    }

    #[test]
    fn volume_name_is_a_label_for_dotted_sources() {
        assert_eq!(
            volume_name("example.com/corp-signer", 0),
            "cainjector-example-com-corp-signer"
        );
    }

    #[test]
    fn volume_name_of_a_long_source_is_a_label() {
        let long = format!("{}.{}", "a".repeat(120), "b".repeat(120));
        // This one's cut falls right after a '.', which became '-': no dash at the end.
        let cut_at_dot = format!("{}.{}", "x".repeat(41), "y".repeat(30));
        let names = (0..12).map(|attempt| volume_name(&long, attempt));
        for name in names.chain([volume_name(&cut_at_dot, 0)]) {
            assert!(is_dns_label(&name), "{name}");
        }
        assert_ne!(volume_name(&long, 0), volume_name(&format!("{long}c"), 0));
    }
}
