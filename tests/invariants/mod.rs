//! The properties every mutation must have, checked on one request. Shared by
//! tests/properties.rs and the `mutation` fuzz target (which includes this file
//! and tests/common/mod.rs by path), so both prove the same thing.
#![allow(dead_code)]

use cainjector::names::{is_dns_label, same_path};
use cainjector::Verdict;
use serde_json::{Map, Value};

use crate::common::{assert_only_adds, run};

const DEFAULT_PREFIX: &str = "cainjector.lestak.sh";
const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";
const TRUST_STORE_OPTION: &str = "-Djavax.net.ssl.trustStore=";
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// JSON pointer to the pod spec of each kind the policy handles, by (group, kind).
pub fn spec_pointer(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("", "Pod") => Some("/spec"),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some("/spec/template/spec"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

fn items<'v>(map: &'v Map<String, Value>, field: &str) -> &'v [Value] {
    map.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn name_of(item: &Value, field: &str) -> Option<String> {
    item.get(field).and_then(Value::as_str).map(str::to_string)
}

fn has_duplicates<T: PartialEq>(list: &[T], same: impl Fn(&T, &T) -> bool) -> bool {
    list.iter()
        .enumerate()
        .any(|(i, a)| list.iter().skip(i + 1).any(|b| same(a, b)))
}

/// The original with the two changes the policy may make to what it did not
/// add, taken from the result once they are checked: the `<prefix>/status`
/// annotation it owns (`statusAnnotation`), and the Java trust store options
/// appended to a container's own JAVA_TOOL_OPTIONS (`javaTrustStore`, as the
/// README documents). Everything else must be exactly as it came in.
fn with_allowed_rewrites(original: &Value, result: &Value, spec_at: &str, prefix: &str) -> Value {
    let mut base = original.clone();
    let template_at = spec_at.strip_suffix("/spec").unwrap_or_default();
    let status_at = format!(
        "{template_at}/metadata/annotations/{}",
        format!("{prefix}/status")
            .replace('~', "~0")
            .replace('/', "~1")
    );
    if let (Some(own), Some(ours)) = (base.pointer_mut(&status_at), result.pointer(&status_at)) {
        *own = ours.clone();
    }
    for field in CONTAINER_LISTS {
        let containers = format!("{spec_at}/{field}");
        let count = base
            .pointer(&containers)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for c in 0..count {
            let env_at = format!("{containers}/{c}/env");
            let count = base
                .pointer(&env_at)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for e in 0..count {
                let at = format!("{env_at}/{e}");
                let Some(own) = base.pointer_mut(&at).and_then(Value::as_object_mut) else {
                    continue;
                };
                if own.get("name").and_then(Value::as_str) != Some(JAVA_TOOL_OPTIONS) {
                    continue;
                }
                let ours = result
                    .pointer(&format!("{at}/value"))
                    .and_then(Value::as_str);
                let own_value = own.get("value");
                let (Some(ours), false) = (ours, own_value.and_then(Value::as_str) == ours) else {
                    continue;
                };
                let expected_head = match own_value.and_then(Value::as_str) {
                    Some(v) if !v.trim().is_empty() => format!("{v} {TRUST_STORE_OPTION}"),
                    _ => TRUST_STORE_OPTION.to_string(),
                };
                assert!(
                    ours.starts_with(&expected_head),
                    "JAVA_TOOL_OPTIONS at {at} rewritten from {own_value:?} to {ours:?}, \
                     not only appended to"
                );
                own.insert("value".into(), Value::String(ours.to_string()));
            }
        }
    }
    base
}

/// Checks one mutated object against its original: only additions (but for
/// the two documented rewrites), the added items well-formed and not
/// duplicated, every added mount backed by a volume. `spec_at` is the JSON
/// pointer to the pod spec, `prefix` the annotation prefix of the settings.
pub fn check_additions(original: &Value, result: &Value, spec_at: &str, prefix: &str) {
    let base = with_allowed_rewrites(original, result, spec_at, prefix);
    assert_only_adds(&base, result, "");
    let before = original
        .pointer(spec_at)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no pod spec at {spec_at} in the original"));
    let after = result
        .pointer(spec_at)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no pod spec at {spec_at} in the result"));

    let volumes_before = items(before, "volumes");
    let volumes_after = items(after, "volumes");
    let added_volumes = volumes_after.get(volumes_before.len()..).unwrap_or(&[]);
    assert!(added_volumes.len() <= 1, "more than one volume added");
    let names_before: Vec<Option<String>> =
        volumes_before.iter().map(|v| name_of(v, "name")).collect();
    let names_after: Vec<Option<String>> =
        volumes_after.iter().map(|v| name_of(v, "name")).collect();
    for volume in added_volumes {
        let name = name_of(volume, "name").expect("added volume has a name");
        assert!(is_dns_label(&name), "added volume name {name:?}");
        assert!(
            !names_before.contains(&Some(name.clone())),
            "added volume {name:?} takes a name the pod already uses"
        );
        let sources = ["configMap", "secret", "projected"]
            .iter()
            .filter(|f| volume.get(**f).is_some())
            .count();
        assert_eq!(sources, 1, "added volume {volume} has exactly one source");
    }
    if !has_duplicates(&names_before, |a, b| a == b) {
        assert!(
            !has_duplicates(&names_after, |a, b| a == b),
            "duplicate volume names in {}",
            Value::Array(volumes_after.to_vec())
        );
    }

    let mut mounts_added = 0;
    for field in CONTAINER_LISTS {
        let list_before = items(before, field);
        let list_after = items(after, field);
        assert_eq!(list_before.len(), list_after.len(), "{field} count changed");
        for (c_before, c_after) in list_before.iter().zip(list_after) {
            let (Some(c_before), Some(c_after)) = (c_before.as_object(), c_after.as_object())
            else {
                panic!("a container that is not an object was mutated");
            };
            mounts_added += check_container(c_before, c_after, &names_after);
        }
    }
    if !added_volumes.is_empty() {
        assert!(mounts_added > 0, "a volume was added that nothing mounts");
    }
}

/// Returns how many mounts were added to the container.
fn check_container(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    volume_names: &[Option<String>],
) -> usize {
    let mounts_before = items(before, "volumeMounts");
    let mounts_after = items(after, "volumeMounts");
    let added_mounts = mounts_after.get(mounts_before.len()..).unwrap_or(&[]);
    assert!(added_mounts.len() <= 1, "more than one mount added");
    let paths_before: Vec<String> = mounts_before
        .iter()
        .filter_map(|m| name_of(m, "mountPath"))
        .collect();
    for mount in added_mounts {
        let path = name_of(mount, "mountPath").expect("added mount has a path");
        assert!(
            !paths_before.iter().any(|p| same_path(p, &path)),
            "mount at {path:?} added where the container already mounts it"
        );
        let volume = name_of(mount, "name").expect("added mount names a volume");
        assert!(
            volume_names.contains(&Some(volume.clone())),
            "added mount uses volume {volume:?}, which the pod does not have"
        );
        assert_eq!(mount.get("readOnly"), Some(&Value::Bool(true)));
    }
    let paths_after: Vec<String> = mounts_after
        .iter()
        .filter_map(|m| name_of(m, "mountPath"))
        .collect();
    if !has_duplicates(&paths_before, |a, b| same_path(a, b)) {
        assert!(
            !has_duplicates(&paths_after, |a, b| same_path(a, b)),
            "duplicate mount paths {paths_after:?}"
        );
    }

    let env_before = items(before, "env");
    let env_after = items(after, "env");
    let names_before: Vec<String> = env_before
        .iter()
        .filter_map(|e| name_of(e, "name"))
        .collect();
    let added_env: Vec<String> = env_after
        .get(env_before.len()..)
        .unwrap_or(&[])
        .iter()
        .map(|e| name_of(e, "name").expect("added env var has a name"))
        .collect();
    for name in &added_env {
        assert!(
            !names_before.contains(name),
            "env var {name:?} added where the container already sets it"
        );
    }
    assert!(
        !has_duplicates(&added_env, |a, b| a == b),
        "env vars added twice: {added_env:?}"
    );
    added_mounts.len()
}

/// Runs the policy on `request` with `settings`; when it mutates, checks every
/// property (including that a second run accepts the result unchanged) and
/// returns the mutated object. `action: require` is checked against the same
/// answer (`check_require`).
pub fn evaluate_checked(request: &Value, settings: &Value) -> Verdict {
    let verdict = run(request, settings.clone());
    check_require(request, settings, &verdict);
    if let Verdict::Mutate(result) = &verdict {
        let group = request
            .pointer("/kind/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = request
            .pointer("/kind/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let spec_at = spec_pointer(group, kind).unwrap_or_else(|| {
            panic!("a {group}/{kind} that the policy does not handle was mutated")
        });
        let prefix = settings
            .get("annotationPrefix")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_PREFIX);
        check_additions(&request["object"], result, spec_at, prefix);
        let mut again = request.clone();
        again["object"] = result.clone();
        assert_eq!(
            run(&again, settings.clone()),
            Verdict::Accept,
            "a second run on the result changed it"
        );
    }
    verdict
}

/// The names of the containers whose entry differs between `original` and
/// `result`, each as the policy's messages quote it.
fn changed_containers(original: &Value, result: &Value, spec_at: &str) -> Vec<String> {
    let mut names = Vec::new();
    for field in CONTAINER_LISTS {
        let at = format!("{spec_at}/{field}");
        let before = original.pointer(&at).and_then(Value::as_array);
        let after = result.pointer(&at).and_then(Value::as_array);
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        for (b, a) in before.iter().zip(after) {
            if b != a {
                names.extend(name_of(a, "name").map(|n| format!("{n:?}")));
            }
        }
    }
    names
}

/// `action: require` with the same settings answers from `inject`'s own
/// answer on the request: it accepts exactly what inject leaves unchanged,
/// refuses with inject's message what inject refuses (but for sourceCheck,
/// which require does not apply), refuses naming the bundle and every
/// container inject would change, never mutates, and accepts inject's result.
pub fn check_require(request: &Value, settings: &Value, inject: &Verdict) {
    let Some(map) = settings.as_object() else {
        return;
    };
    if map.contains_key("action") {
        return;
    }
    let mut required = map.clone();
    required.insert("action".into(), Value::from("require"));
    let required = Value::Object(required);
    let verdict = run(request, required.clone());
    const LACKS: &str = " lacks the trust bundle (";
    const SOURCE_CHECK: &str = "the trust bundle cannot be injected: ";
    match (inject, &verdict) {
        (Verdict::Accept, Verdict::Accept) => {}
        (Verdict::Reject(own), Verdict::Reject(message)) if !own.starts_with(SOURCE_CHECK) => {
            assert_eq!(message, own, "require refused otherwise than inject");
        }
        (Verdict::Reject(_) | Verdict::Warn(_), Verdict::Reject(message)) => {
            assert!(message.contains(LACKS), "require: {message}");
        }
        (Verdict::Mutate(result), Verdict::Reject(message)) => {
            assert!(message.contains(LACKS), "require: {message}");
            let group = request.pointer("/kind/group").and_then(Value::as_str);
            let kind = request.pointer("/kind/kind").and_then(Value::as_str);
            let spec_at = spec_pointer(group.unwrap_or(""), kind.unwrap_or("")).unwrap_or("/spec");
            for name in changed_containers(&request["object"], result, spec_at) {
                assert!(
                    message.contains(&name),
                    "require does not name {name}: {message}"
                );
            }
            let mut again = request.clone();
            again["object"] = result.clone();
            assert_eq!(
                run(&again, required),
                Verdict::Accept,
                "require refused what inject produced"
            );
        }
        (inject, require) => panic!("inject answered {inject:?} but require {require:?}"),
    }
}
