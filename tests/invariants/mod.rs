//! The properties every mutation must have, checked on one request. Shared by
//! tests/properties.rs and the fuzz targets (which include this file
//! and tests/common/mod.rs by path), so both prove the same thing.
#![allow(dead_code)]

use cainjector::Answer;
use cainjector::cluster::KubewardenHost;

use crate::common::Verdict;
use serde_json::{Map, Value};

use crate::common::{assert_only_adds, run};

const DEFAULT_PREFIX: &str = "cainjector.lestak.sh";
const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";
const TRUST_STORE_OPTION: &str = "-Djavax.net.ssl.trustStore=";
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// The host's view of one `validate` call on `payload`: it answers (a failed
/// call is an HTTP 500 for the API server) with a ValidationResponse whose
/// `accepted` is a boolean, and a mutated object is an accepted object.
pub fn host_reads_answer(payload: &[u8]) -> Value {
    let response = cainjector::validate(payload).expect("validate must always answer");
    let response: Value =
        serde_json::from_slice(&response).expect("the answer is a ValidationResponse");
    let accepted = response.get("accepted").and_then(Value::as_bool);
    assert!(accepted.is_some(), "{response}");
    match response.get("mutated_object") {
        None | Some(Value::Null) => {}
        Some(object) => assert!(object.is_object() && accepted == Some(true), "{response}"),
    }
    response
}

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
        assert!(api::dns_label(&name), "added volume name {name:?}");
        assert!(
            !names_before.contains(&Some(name.clone())),
            "added volume {name:?} takes a name the pod already uses"
        );
        if let Err(e) = api::volume_source(volume) {
            panic!("added volume {volume}: {e}");
        }
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
            mounts_added += check_container(c_before, c_after, &names_after, field);
        }
    }
    if !added_volumes.is_empty() {
        assert!(mounts_added > 0, "a volume was added that nothing mounts");
    }
    check_annotations(original, result, spec_at);
}

/// The template's annotations never grow over the API server's budget, and
/// every key added is one it accepts.
fn check_annotations(original: &Value, result: &Value, spec_at: &str) {
    let at = format!(
        "{}/metadata/annotations",
        spec_at.strip_suffix("/spec").unwrap_or_default()
    );
    let before = original.pointer(&at).and_then(Value::as_object);
    let after = result.pointer(&at).and_then(Value::as_object);
    let (size_before, size_after) = (api::annotations_size(before), api::annotations_size(after));
    assert!(
        size_after <= api::ANNOTATIONS_LIMIT || size_after <= size_before,
        "annotations grew from {size_before} to {size_after} bytes, over {}",
        api::ANNOTATIONS_LIMIT
    );
    for key in after.into_iter().flat_map(Map::keys) {
        if !before.is_some_and(|b| b.contains_key(key)) {
            assert!(
                api::qualified_name(&key.to_lowercase()),
                "added annotation key {key:?}"
            );
        }
    }
}

/// Returns how many mounts were added to the container (of list `field`).
fn check_container(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    volume_names: &[Option<String>],
    field: &str,
) -> usize {
    let mounts_before = items(before, "volumeMounts");
    let mounts_after = items(after, "volumeMounts");
    let added_mounts = mounts_after.get(mounts_before.len()..).unwrap_or(&[]);
    let whole = added_mounts.iter().filter(|m| m.get("subPath").is_none());
    assert!(
        whole.count() <= 1,
        "more than one mount of the whole volume added"
    );
    let paths_before: Vec<String> = mounts_before
        .iter()
        .filter_map(|m| name_of(m, "mountPath"))
        .collect();
    let devices = items(after, "volumeDevices");
    assert_eq!(
        items(before, "volumeDevices"),
        devices,
        "volumeDevices changed"
    );
    let device_paths: Vec<String> = devices
        .iter()
        .filter_map(|d| name_of(d, "devicePath"))
        .collect();
    let device_names: Vec<String> = devices.iter().filter_map(|d| name_of(d, "name")).collect();
    for mount in added_mounts {
        let path = name_of(mount, "mountPath").expect("added mount has a path");
        let dir = api::clean(&path);
        assert!(
            !paths_before.iter().any(|p| api::clean(p) == dir),
            "mount at {path:?} added where the container already mounts that directory"
        );
        assert!(
            !device_paths.iter().any(|p| api::clean(p) == dir),
            "mount at {path:?} added where the container has a device ({device_paths:?})"
        );
        let volume = name_of(mount, "name").expect("added mount names a volume");
        assert!(
            volume_names.contains(&Some(volume.clone())),
            "added mount uses volume {volume:?}, which the pod does not have"
        );
        assert!(
            !device_names.contains(&volume),
            "added mount named {volume:?}, as a device of the container"
        );
        assert_eq!(mount.get("readOnly"), Some(&Value::Bool(true)));
        if let Some(sub_path) = mount.get("subPath") {
            check_file_mount(mount, sub_path, &paths_before, &device_paths, field);
        }
    }
    let paths_after: Vec<String> = mounts_after
        .iter()
        .filter_map(|m| name_of(m, "mountPath"))
        .collect();
    // The API server's own rule compares the strings.
    if !has_duplicates(&paths_before, |a, b| a == b) {
        assert!(
            !has_duplicates(&paths_after, |a, b| a == b),
            "duplicate mount paths {paths_after:?}"
        );
    }
    check_env(before, after);
    added_mounts.len()
}

/// A mount of the bundle file over a system trust store file: a subPath the
/// API server accepts (ValidateVolumeMounts: a local path; forbidden in
/// ephemeral containers), with no own mount or device of the container at,
/// above or under it, and only the mount's own fields.
fn check_file_mount(
    mount: &Value,
    sub_path: &Value,
    paths_before: &[String],
    device_paths: &[String],
    field: &str,
) {
    assert_ne!(
        field, "ephemeralContainers",
        "subPath mount in an ephemeral container"
    );
    let sub_path = sub_path.as_str().expect("subPath is a string");
    assert!(
        api::local_non_reserved_path(sub_path),
        "subPath {sub_path:?}"
    );
    let path = name_of(mount, "mountPath").expect("added mount has a path");
    assert_eq!(
        api::clean(&path),
        path,
        "file mount path {path:?} not clean"
    );
    for own in paths_before.iter().chain(device_paths) {
        assert!(
            !api::overlap(&api::clean(own), &path),
            "file mount at {path:?} beside the container's own {own:?}"
        );
    }
    let fields: Vec<&String> = mount
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["mountPath", "name", "readOnly", "subPath"],
        "{mount}"
    );
}

fn check_env(before: &Map<String, Value>, after: &Map<String, Value>) {
    let env_before = items(before, "env");
    let env_after = items(after, "env");
    let names_before: Vec<String> = env_before
        .iter()
        .filter_map(|e| name_of(e, "name"))
        .collect();
    let added = env_after.get(env_before.len()..).unwrap_or(&[]);
    let mut added_names = Vec::new();
    for entry in added {
        let name = name_of(entry, "name").expect("added env var has a name");
        assert!(api::env_var_name(&name), "added env var name {name:?}");
        let fields: Vec<&String> = entry
            .as_object()
            .map(|e| e.keys().collect())
            .unwrap_or_default();
        assert!(
            entry.get("value").is_some_and(Value::is_string) && fields.len() == 2,
            "added env var {entry} is not a name and a literal value"
        );
        assert!(
            !names_before.contains(&name),
            "env var {name:?} added where the container already sets it"
        );
        added_names.push(name);
    }
    assert!(
        !has_duplicates(&added_names, |a, b| a == b),
        "env vars added twice: {added_names:?}"
    );
    // A value the policy wrote into the container's own entry: never beside valueFrom.
    for (own, ours) in env_before.iter().zip(env_after) {
        if own != ours {
            let value_from = ours.get("valueFrom").is_some_and(|v| !v.is_null());
            assert!(!value_from, "value written beside valueFrom in {ours}");
        }
    }
}

/// The API server's checks of the values the policy writes, written apart
/// from the policy's own (src/names.rs, src/source.rs) so that a slip in
/// either shows.
pub mod api {
    use serde_json::{Map, Value};

    /// TotalAnnotationSizeLimitB.
    pub const ANNOTATIONS_LIMIT: usize = 262_144;

    fn label_chars(s: &str, extra: &[u8]) -> bool {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
    }

    fn ends_alnum(s: &str, any_case: bool) -> bool {
        let ok = |b: Option<u8>| {
            b.is_some_and(|b| {
                b.is_ascii_digit() || b.is_ascii_lowercase() || (any_case && b.is_ascii_uppercase())
            })
        };
        ok(s.bytes().next()) && ok(s.bytes().last())
    }

    /// IsDNS1123Label.
    pub fn dns_label(s: &str) -> bool {
        s.len() <= 63 && label_chars(s, b"-") && ends_alnum(s, false)
    }

    /// IsDNS1123Subdomain.
    pub fn dns_subdomain(s: &str) -> bool {
        s.len() <= 253
            && s.split('.')
                .all(|l| label_chars(l, b"-") && ends_alnum(l, false))
    }

    /// IsValidLabelValue.
    pub fn label_value(s: &str) -> bool {
        s.is_empty()
            || (s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && ends_alnum(s, true))
    }

    /// IsQualifiedName.
    pub fn qualified_name(s: &str) -> bool {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [name] => !name.is_empty() && label_value(name),
            [prefix, name] => {
                !prefix.is_empty() && dns_subdomain(prefix) && !name.is_empty() && label_value(name)
            }
            _ => false,
        }
    }

    /// IsEnvVarName.
    pub fn env_var_name(s: &str) -> bool {
        let first_ok = s
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b"-._".contains(&b));
        first_ok
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
            && s != "."
            && !s.starts_with("..")
    }

    /// ValidateSignerName.
    pub fn signer_name(s: &str) -> bool {
        let Some((domain, path)) = s.split_once('/') else {
            return false;
        };
        let labels: Vec<&str> = domain.split('.').collect();
        !path.contains('/')
            && domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| dns_label(l))
            && path.split('.').all(dns_subdomain)
            && s.len() <= 571
    }

    /// The projected source's `name` (ValidateClusterTrustBundleName, with
    /// the signer taken from the name as the API server takes it).
    pub fn trust_bundle_name(s: &str) -> bool {
        match s.rfind(':') {
            Some(at) => s.get(at + 1..).is_some_and(dns_subdomain),
            None => !s.is_empty() && dns_subdomain(s),
        }
    }

    /// ValidateLocalNonReservedPath, and non-empty.
    pub fn local_non_reserved_path(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with('/')
            && !s.split('/').any(|p| p == "..")
            && !s.starts_with("..")
    }

    fn strings(value: Option<&Value>) -> Result<Vec<&str>, String> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or(format!("{v} is not a string")))
                .collect(),
            Some(other) => Err(format!("{other} is not a list")),
        }
    }

    /// ValidateLabelSelector, on a selector with only its own fields.
    pub fn label_selector(selector: &Value) -> Result<(), String> {
        let map = selector.as_object().ok_or("not an object")?;
        for (field, value) in map {
            match (field.as_str(), value) {
                (_, Value::Null) => {}
                ("matchLabels", Value::Object(labels)) => {
                    for (k, v) in labels {
                        let v = v.as_str().ok_or(format!("label {k} is not a string"))?;
                        if !qualified_name(k) || !label_value(v) {
                            return Err(format!("label {k}={v}"));
                        }
                    }
                }
                ("matchExpressions", Value::Array(items)) => {
                    for item in items {
                        requirement(item)?;
                    }
                }
                _ => return Err(format!("field {field}")),
            }
        }
        Ok(())
    }

    fn requirement(item: &Value) -> Result<(), String> {
        let map = item.as_object().ok_or("requirement not an object")?;
        if let Some(k) = map
            .keys()
            .find(|k| !["key", "operator", "values"].contains(&k.as_str()))
        {
            return Err(format!("requirement field {k}"));
        }
        let key = map.get("key").and_then(Value::as_str).unwrap_or("");
        let values = strings(map.get("values"))?;
        let count_ok = match map.get("operator").and_then(Value::as_str) {
            Some("In" | "NotIn") => !values.is_empty(),
            Some("Exists" | "DoesNotExist") => values.is_empty(),
            _ => false,
        };
        if !qualified_name(key) || !count_ok || !values.iter().all(|v| label_value(v)) {
            return Err(format!("requirement {item}"));
        }
        Ok(())
    }

    fn only(map: &Map<String, Value>, fields: &[&str]) -> Result<(), String> {
        match map.keys().find(|k| !fields.contains(&k.as_str())) {
            Some(k) => Err(format!("unexpected field {k}")),
            None => Ok(()),
        }
    }

    /// The source of a volume the policy adds: exactly one, and as
    /// validateVolumeSource / validateProjectionSources accept it.
    pub fn volume_source(volume: &Value) -> Result<(), String> {
        let map = volume.as_object().ok_or("not an object")?;
        only(map, &["name", "configMap", "secret", "projected"])?;
        if map.len() != 2 {
            return Err("not exactly one source".into());
        }
        let named = |source: &Value, field: &str| {
            let source = source.as_object().ok_or("source not an object")?;
            only(source, &[field])?;
            match source.get(field).and_then(Value::as_str) {
                Some(name) if dns_subdomain(name) => Ok(()),
                other => Err(format!("{field} {other:?}")),
            }
        };
        if let Some(source) = map.get("configMap") {
            return named(source, "name");
        }
        if let Some(source) = map.get("secret") {
            return named(source, "secretName");
        }
        let projected = map
            .get("projected")
            .and_then(Value::as_object)
            .ok_or("no source")?;
        only(projected, &["sources"])?;
        let sources = projected
            .get("sources")
            .and_then(Value::as_array)
            .ok_or("no sources")?;
        let [source] = sources.as_slice() else {
            return Err("not one projected source".into());
        };
        let source = source.as_object().ok_or("source not an object")?;
        only(source, &["clusterTrustBundle"])?;
        let ctb = source
            .get("clusterTrustBundle")
            .and_then(Value::as_object)
            .ok_or("no clusterTrustBundle")?;
        only(ctb, &["name", "signerName", "labelSelector", "path"])?;
        let path = ctb.get("path").and_then(Value::as_str).unwrap_or("");
        if !local_non_reserved_path(path) {
            return Err(format!("path {path:?}"));
        }
        match (ctb.get("name"), ctb.get("signerName")) {
            (Some(Value::String(name)), None) if trust_bundle_name(name) => {
                match ctb.get("labelSelector") {
                    None => Ok(()),
                    Some(_) => Err("labelSelector with name".into()),
                }
            }
            (None, Some(Value::String(signer))) if signer_name(signer) => {
                ctb.get("labelSelector").map_or(Ok(()), label_selector)
            }
            _ => Err(format!("name and signerName in {ctb:?}")),
        }
    }

    /// ValidateAnnotationsSize's count (string values; others cannot be annotations).
    pub fn annotations_size(annotations: Option<&Map<String, Value>>) -> usize {
        annotations
            .into_iter()
            .flatten()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum()
    }

    /// Whether two clean paths are one, or one is under the other.
    pub fn overlap(a: &str, b: &str) -> bool {
        let under = |p: &str, d: &str| d == "/" || p == d || p.starts_with(&format!("{d}/"));
        under(a, b) || under(b, a)
    }

    /// Go's `path.Clean` of the path made absolute, as the kubelet makes a
    /// container path.
    pub fn clean(path: &str) -> String {
        let mut out: Vec<&str> = Vec::new();
        for part in path.split('/') {
            if part == ".." {
                out.pop();
            } else if !part.is_empty() && part != "." {
                out.push(part);
            }
        }
        format!("/{}", out.join("/"))
    }
}

/// A mutation with a warning is one whose status annotation was left out:
/// the warning says so, and no annotation changed.
fn check_left_out_status(request: &Value, result: &Value, warning: &str) {
    assert!(
        warning.starts_with("cainjector injected the trust bundle but left out its annotation"),
        "{warning}"
    );
    let group = request.pointer("/kind/group").and_then(Value::as_str);
    let kind = request.pointer("/kind/kind").and_then(Value::as_str);
    let spec_at = spec_pointer(group.unwrap_or(""), kind.unwrap_or("")).unwrap_or("/spec");
    let at = format!(
        "{}/metadata/annotations",
        spec_at.strip_suffix("/spec").unwrap_or_default()
    );
    assert_eq!(
        request["object"].pointer(&at),
        result.pointer(&at),
        "annotations changed though the status was left out"
    );
}

/// Runs the policy on `request` with `settings`, sent with the keys of every
/// object in an order of their own (`in_key_order`); when it mutates, checks
/// every property (including that the text keeps the order of every key sent
/// and that a second run accepts the result unchanged) and returns the mutated
/// object. `action: require` is checked against the same answer
/// (`check_require`).
pub fn evaluate_checked(request: &Value, settings: &Value) -> Verdict {
    let (verdict, text) = run_in_key_order(request, settings);
    check_require(request, settings, &verdict);
    if let Some(text) = text {
        let sent = in_key_order(&request["object"], key_order(request));
        assert_keeps_key_order(&written(&sent), &written(&text), "");
    }
    let mutated = match &verdict {
        Verdict::Mutate(result) => Some(result),
        Verdict::MutateWarn(result, warning) => {
            check_left_out_status(request, result, warning);
            Some(result)
        }
        _ => None,
    };
    if let Some(result) = mutated {
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
    let (verdict, _) = run_in_key_order(request, &required);
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
        (Verdict::Mutate(result) | Verdict::MutateWarn(result, _), Verdict::Reject(message)) => {
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

/// How `evaluate_checked` orders the keys of `request` (and its settings):
/// an order drawn from the request itself, so that it differs from one
/// generated request to the next but is the same on every run of one.
fn key_order(request: &Value) -> u64 {
    fnv(0, request.to_string().as_bytes())
}

fn fnv(salt: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325 ^ salt, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `value` as JSON text with the keys of each object in an order fixed by
/// `salt`, not sorted as serde_json writes a `Value`: kwctl sends sorted keys,
/// but a client may send any order and the policy must keep it.
pub fn in_key_order(value: &Value, salt: u64) -> String {
    let mut text = String::new();
    write_in_key_order(value, salt, &mut text);
    text
}

fn write_in_key_order(value: &Value, salt: u64, text: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by_key(|(key, _)| fnv(salt, key.as_bytes()));
            text.push('{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(&Value::from(key.as_str()).to_string());
                text.push(':');
                write_in_key_order(member, salt, text);
            }
            text.push('}');
        }
        Value::Array(items) => {
            text.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                write_in_key_order(item, salt, text);
            }
            text.push(']');
        }
        scalar => text.push_str(&scalar.to_string()),
    }
}

/// Runs the policy on the payload of `request` and `settings` in `key_order`,
/// and answers as `evaluate` does, with the text of a mutated object.
fn run_in_key_order(request: &Value, settings: &Value) -> (Verdict, Option<String>) {
    let salt = key_order(request);
    let payload = format!(
        "{{\"request\":{},\"settings\":{}}}",
        in_key_order(request, salt),
        in_key_order(settings, salt)
    );
    let parse = |text: &str| -> Value {
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the mutated object is not JSON: {e}\n{text}"))
    };
    let answer = cainjector::answer(payload.as_bytes(), &KubewardenHost);
    match answer {
        Answer::Accept => (Verdict::Accept, None),
        Answer::Warn(warning) => (Verdict::Warn(warning), None),
        Answer::Reject(message) => (Verdict::Reject(message), None),
        Answer::Mutate(text) => (Verdict::Mutate(parse(&text)), Some(text)),
        Answer::MutateWarn(text, warning) => {
            (Verdict::MutateWarn(parse(&text), warning), Some(text))
        }
    }
}

/// How `read_as_serde_json_reads` checked a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Not JSON: refused with serde_json's message.
    NotJson,
    /// Answered as the payload serde_json's `Value` reads, written plainly.
    AsItsValue,
    /// JSON that serde_json's `Value` refuses, or reads as something else
    /// (its raw-value token): the policy's own checks refuse it or pass it.
    Unchecked,
}

/// The payload is read as serde_json reads it. A text that is not JSON is
/// refused with serde_json's own message. Otherwise, where serde_json's
/// `Value` reads it, the answer is the one to that `Value` written out
/// plainly: so escapes, spacing, number spellings and duplicate keys (the
/// last one wins) change nothing the policy decides.
pub fn read_as_serde_json_reads(payload: &[u8]) -> Reading {
    verdict_read_as_serde_json_reads(payload).0
}

/// `read_as_serde_json_reads`, with the policy's verdict on `payload`, so
/// that a caller that needs it (the `validate_payload` fuzz target) does not
/// run the policy on it again.
pub fn verdict_read_as_serde_json_reads(payload: &[u8]) -> (Reading, Verdict) {
    let verdict = crate::common::evaluate(payload);
    let json = std::str::from_utf8(payload)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok());
    let value = serde_json::from_slice::<Value>(payload);
    if !json {
        let e = value.expect_err("serde_json reads no Value from a text that is not JSON");
        let message = format!("cannot read the admission request: {e}");
        assert_eq!(
            verdict,
            Verdict::Reject(message),
            "{}",
            String::from_utf8_lossy(payload)
        );
        return (Reading::NotJson, verdict);
    }
    let Ok(value) = value else {
        return (Reading::Unchecked, verdict);
    };
    if names_raw_value(&serde_json::from_slice(payload).expect("JSON within the depth limit")) {
        return (Reading::Unchecked, verdict);
    }
    let plain = serde_json::to_vec(&value).expect("a Value writes");
    assert_eq!(
        verdict,
        crate::common::evaluate(&plain),
        "answered otherwise than as its value:\n{}\n{}",
        String::from_utf8_lossy(payload),
        String::from_utf8_lossy(&plain)
    );
    (Reading::AsItsValue, verdict)
}

/// Whether a map in `written` has serde_json's raw-value token as its first
/// key, which serde_json's `Value` reads as the text in its string.
fn names_raw_value(written: &Written) -> bool {
    match written {
        Written::Scalar => false,
        Written::List(items) => items.iter().any(names_raw_value),
        Written::Map(members) => {
            members
                .first()
                .is_some_and(|(key, _)| key == "$serde_json::private::RawValue")
                || members.iter().any(|(_, member)| names_raw_value(member))
        }
    }
}

/// The shape of a JSON text as written: each object's keys in their order.
/// (serde_json's `Value` sorts them; its `preserve_order` feature is left off
/// so that the policy's maps iterate in tests as they do in the module.)
#[derive(Debug)]
pub enum Written {
    Scalar,
    List(Vec<Written>),
    Map(Vec<(String, Written)>),
}

pub fn written(text: &str) -> Written {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}"))
}

impl<'de> serde::Deserialize<'de> for Written {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WrittenVisitor)
    }
}

struct WrittenVisitor;

impl<'de> serde::de::Visitor<'de> for WrittenVisitor {
    type Value = Written;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_str<E>(self, _: &str) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_unit<E>(self) -> Result<Written, E> {
        Ok(Written::Scalar)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Written, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Written::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Written, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Written::Map(members))
    }
}

/// Every key of `sent` is in `result` in the same order among its siblings
/// (the policy's keys may come anywhere); what the values are is
/// `assert_only_adds`'s to check.
pub fn assert_keeps_key_order(sent: &Written, result: &Written, at: &str) {
    match (sent, result) {
        (Written::Map(sent), Written::Map(result)) => {
            let sent_keys: Vec<&String> = sent.iter().map(|(k, _)| k).collect();
            let kept: Vec<&String> = result
                .iter()
                .map(|(k, _)| k)
                .filter(|k| sent_keys.contains(k))
                .collect();
            assert_eq!(sent_keys, kept, "keys reordered or removed at {at}");
            for ((key, sent), (_, result)) in sent
                .iter()
                .zip(result.iter().filter(|(k, _)| sent_keys.contains(&k)))
            {
                assert_keeps_key_order(sent, result, &format!("{at}/{key}"));
            }
        }
        (Written::List(sent), Written::List(result)) => {
            for (i, (sent, result)) in sent.iter().zip(result).enumerate() {
                assert_keeps_key_order(sent, result, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}
