//! Helpers shared by the integration tests: build ValidationRequest payloads,
//! run the policy, and describe expected objects as "the original plus".
#![allow(dead_code)]

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use cainjector::Answer;
use cainjector::cluster::{Cluster, KubewardenHost};
use serde_json::{Value, json};

/// The policy's `Answer` with the mutated object parsed, as the host reads
/// it: what tests and fuzzing compare.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Accept,
    Warn(String),
    Reject(String),
    Mutate(Value),
    MutateWarn(Value, String),
}

/// Decide one admission request (the waPC `validate` payload).
pub fn evaluate(payload: &[u8]) -> Verdict {
    evaluate_with(payload, &KubewardenHost)
}

/// `evaluate`, asking `cluster` when `sourceCheck` needs to.
pub fn evaluate_with(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    let parsed = |text: &str| serde_json::from_str::<Value>(text);
    let not_json = |e| Verdict::Reject(format!("the mutated object is not JSON: {e}"));
    match cainjector::answer(payload, cluster) {
        Answer::Accept => Verdict::Accept,
        Answer::Warn(warning) => Verdict::Warn(warning),
        Answer::Reject(message) => Verdict::Reject(message),
        Answer::Mutate(text) => parsed(&text).map_or_else(not_json, Verdict::Mutate),
        Answer::MutateWarn(text, warning) => {
            parsed(&text).map_or_else(not_json, |object| Verdict::MutateWarn(object, warning))
        }
    }
}

/// A file of the repository, by its path from the top.
pub fn path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn text(relative: &str) -> String {
    fs::read_to_string(path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn yaml(relative: &str) -> Value {
    serde_yaml::from_str(&text(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn fixture(name: &str) -> Value {
    let relative = format!("test_data/{name}");
    serde_json::from_str(&text(&relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// An AdmissionRequest for `object`, as kwctl would forward it.
pub fn admission(kind: (&str, &str), operation: &str, namespace: &str, object: Value) -> Value {
    json!({
        "uid": "1299d386-525b-4032-98ae-1949f69f9cfc",
        "kind": {"group": kind.0, "version": "v1", "kind": kind.1},
        "resource": {"group": kind.0, "version": "v1", "resource": format!("{}s", kind.1.to_lowercase())},
        "name": "x",
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "alice", "uid": "u", "groups": ["system:authenticated"]},
        "object": object,
    })
}

pub fn pod_request(object: Value) -> Value {
    admission(("", "Pod"), "CREATE", "default", object)
}

pub fn run(request: &Value, settings: Value) -> Verdict {
    let payload = json!({"request": request, "settings": settings});
    evaluate(&serde_json::to_vec(&payload).unwrap())
}

pub fn mutated(request: &Value, settings: Value) -> Value {
    match run(request, settings) {
        Verdict::Mutate(object) => object,
        other => panic!("expected a mutation, got {other:?}"),
    }
}

pub fn rejected(request: &Value, settings: Value) -> String {
    match run(request, settings) {
        Verdict::Reject(message) => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

pub fn default_settings() -> Value {
    json!({"configMap": "ca-bundle"})
}

/// Append `item` to the list at `pointer`, creating the list when absent.
pub fn push(object: &mut Value, pointer: &str, item: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = object
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"))
        .as_object_mut()
        .unwrap();
    let slot = parent.entry(key).or_insert_with(|| json!([]));
    if slot.is_null() {
        *slot = json!([]);
    }
    slot.as_array_mut().unwrap().push(item);
}

pub fn bundle_mount(volume: &str, path: &str) -> Value {
    json!({"name": volume, "mountPath": path, "readOnly": true})
}

/// The mount of the bundle file `key` over the system trust store file `path`.
pub fn store_mount(volume: &str, path: &str, key: &str) -> Value {
    json!({"name": volume, "mountPath": path, "readOnly": true, "subPath": key})
}

/// A cluster that answers from a fixed set of resources and records what it
/// was asked.
pub struct FakeCluster {
    pub resources: Vec<Value>,
    pub asked: RefCell<Vec<String>>,
}

impl Cluster for FakeCluster {
    fn get_resource(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        self.asked
            .borrow_mut()
            .push(format!("{api_version} {kind} {namespace}/{name}"));
        self.resources
            .iter()
            .find(|r| {
                r["kind"] == kind
                    && r["metadata"]["namespace"] == namespace
                    && r["metadata"]["name"] == name
            })
            .cloned()
            .ok_or_else(|| format!("{kind}s \"{name}\" not found"))
    }
}

/// A certificate as a PEM bundle holds it (sourceCheck counts its first line).
pub const PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

/// The bundle source `ca-bundle` in namespace `default` as the cluster
/// returns it: a ConfigMap or Secret (`kind`) with `fields` (`data`,
/// `binaryData`).
pub fn source(kind: &str, fields: Value) -> Value {
    let mut resource = json!({"apiVersion": "v1", "kind": kind,
        "metadata": {"name": "ca-bundle", "namespace": "default"}});
    for (field, value) in fields.as_object().into_iter().flatten() {
        resource[field] = value.clone();
    }
    resource
}

pub fn cluster(resources: Vec<Value>) -> FakeCluster {
    FakeCluster {
        resources,
        asked: RefCell::new(Vec::new()),
    }
}

/// `run`, asking `cluster` when `sourceCheck` needs to.
pub fn checked(request: &Value, settings: Value, cluster: &FakeCluster) -> Verdict {
    let payload = json!({"request": request, "settings": settings});
    evaluate_with(&serde_json::to_vec(&payload).unwrap(), cluster)
}

pub fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

pub fn config_map_volume(volume: &str, config_map: &str) -> Value {
    json!({"name": volume, "configMap": {"name": config_map}})
}

/// A small pod with one container and nothing of ours.
pub fn simple_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    })
}

/// A `kubectl debug` update: `new` adds ephemeral containers to the pod `old`.
pub fn debug_request(old: &Value, new: &Value) -> Value {
    let mut request = admission(("", "Pod"), "UPDATE", "default", new.clone());
    request["subResource"] = json!("ephemeralcontainers");
    request["oldObject"] = old.clone();
    request
}

/// What the policy adds for one trust bundle, stated once: the volume (unless
/// the pod has it already) and, in each container it injects, the read-only
/// mount and the env vars.
#[derive(Debug, Clone)]
pub struct Injection {
    volume: String,
    /// The volume's source; `None` when the pod has the volume already.
    source: Option<Value>,
    /// The mount's path; `None` when the containers have the path mounted.
    mount_path: Option<String>,
    /// The system trust store files the bundle file is mounted at, and its key.
    store: Vec<String>,
    key: String,
    /// The JDK trust store files the Java store `java_key` is mounted at.
    cacerts: Vec<String>,
    java_key: String,
    env: Vec<Value>,
    /// JSON pointers to the containers injected, all in one pod spec.
    containers: Vec<String>,
}

impl Default for Injection {
    /// The default settings' injection (`default_settings`).
    fn default() -> Self {
        Injection::config_map("cainjector-ca-bundle", "ca-bundle")
    }
}

impl Injection {
    /// Volume `volume` from `source` (the volume's source field, e.g.
    /// `{"secret": {"secretName": "ca"}}`), mounted at /cacerts in the pod's
    /// first container, with SSL_CERT_FILE naming ca.crt there.
    pub fn new(volume: &str, source: Value) -> Self {
        Injection {
            volume: volume.into(),
            source: Some(source),
            mount_path: Some("/cacerts".into()),
            store: Vec::new(),
            key: "ca.crt".into(),
            cacerts: Vec::new(),
            java_key: String::new(),
            env: vec![env("SSL_CERT_FILE", "/cacerts/ca.crt")],
            containers: vec!["/spec/containers/0".into()],
        }
    }

    pub fn config_map(volume: &str, name: &str) -> Self {
        Injection::new(volume, json!({"configMap": {"name": name}}))
    }

    pub fn secret(volume: &str, name: &str) -> Self {
        Injection::new(volume, json!({"secret": {"secretName": name}}))
    }

    /// Into these containers instead (JSON pointers to each, all in one pod
    /// spec, which gets the volume).
    pub fn in_containers(mut self, containers: &[&str]) -> Self {
        self.containers = containers.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Mounted at `path` (the env vars are set apart, with `env_vars`).
    pub fn mounted_at(mut self, path: &str) -> Self {
        self.mount_path = Some(path.into());
        self
    }

    /// Each container gets these env vars, all set to `value`, and no other.
    pub fn env_vars(mut self, names: &[&str], value: &str) -> Self {
        self.env = names.iter().map(|name| env(name, value)).collect();
        self
    }

    /// Each container also gets the bundle file `key` mounted at these system
    /// trust store files, after the mount.
    pub fn over(mut self, files: &[&str], key: &str) -> Self {
        self.store = files.iter().map(|f| f.to_string()).collect();
        self.key = key.into();
        self
    }

    /// Each container also gets the Java store `key` mounted at these JDK
    /// trust store files, after the system trust store mounts.
    pub fn java_over(mut self, files: &[&str], key: &str) -> Self {
        self.cacerts = files.iter().map(|f| f.to_string()).collect();
        self.java_key = key.into();
        self
    }

    /// No env var is added (`setEnvVar: false`, or the containers set them).
    pub fn no_env(mut self) -> Self {
        self.env.clear();
        self
    }

    /// Each container also gets this env var, after the others.
    pub fn also_env(mut self, name: &str, value: &str) -> Self {
        self.env.push(env(name, value));
        self
    }

    /// No volume is added: the pod has it already (its own volume of the
    /// same source, or ours from an earlier injection).
    pub fn pod_has_volume(mut self) -> Self {
        self.source = None;
        self
    }

    /// Only the env vars are added: the containers have the path mounted (or
    /// a device there), so no container mounts the volume and it is not added.
    pub fn env_only(mut self) -> Self {
        self.mount_path = None;
        self.source = None;
        self
    }

    /// `original` with this injection.
    pub fn applied_to(&self, original: &Value) -> Value {
        let mut expected = original.clone();
        for c in &self.containers {
            if let Some(path) = &self.mount_path {
                push(
                    &mut expected,
                    &format!("{c}/volumeMounts"),
                    bundle_mount(&self.volume, path),
                );
            }
            for file in &self.store {
                push(
                    &mut expected,
                    &format!("{c}/volumeMounts"),
                    store_mount(&self.volume, file, &self.key),
                );
            }
            for file in &self.cacerts {
                push(
                    &mut expected,
                    &format!("{c}/volumeMounts"),
                    store_mount(&self.volume, file, &self.java_key),
                );
            }
            for var in &self.env {
                push(&mut expected, &format!("{c}/env"), var.clone());
            }
        }
        if let Some(source) = &self.source {
            let spec = spec_of(&self.containers);
            let mut volume = json!({ "name": self.volume });
            volume
                .as_object_mut()
                .unwrap()
                .extend(source.as_object().unwrap().clone());
            push(&mut expected, &format!("{spec}/volumes"), volume);
        }
        expected
    }
}

/// The pod spec that holds the containers at `containers`
/// ("/spec/containers/0" is in "/spec").
fn spec_of(containers: &[String]) -> &str {
    fn spec(c: &String) -> &str {
        c.rsplitn(3, '/').nth(2).unwrap_or_else(|| panic!("{c}"))
    }
    let first = containers.first().map(spec).expect("a container");
    assert!(
        containers.iter().all(|c| spec(c) == first),
        "containers of more than one pod spec: {containers:?}"
    );
    first
}

/// `original` with the default injection of `ca-bundle` into the listed
/// containers (JSON pointers to each container).
pub fn injected(original: &Value, containers: &[&str]) -> Value {
    Injection::default()
        .in_containers(containers)
        .applied_to(original)
}

/// "This request, sent with these settings, gets exactly this injection":
/// the whole mutated object is compared with the request's object plus
/// `injection`. Returns the mutated object.
#[track_caller]
pub fn assert_injects(request: &Value, settings: Value, injection: &Injection) -> Value {
    let result = mutated(request, settings.clone());
    let (object, expected) = (&request["object"], injection.applied_to(&request["object"]));
    let sent = format!("sent {object}\nwith the settings {settings}");
    assert!(result == expected, "{}\n{sent}", diff(&result, &expected));
    result
}

/// `got` equals `expected` (the whole value), or a diff of the two.
#[track_caller]
pub fn assert_same(got: &Value, expected: &Value) {
    assert!(got == expected, "{}", diff(got, expected));
}

/// Each place `got` and `expected` differ: a JSON pointer and both values.
fn diff(got: &Value, expected: &Value) -> String {
    let mut lines = vec!["the object is not as expected:".to_string()];
    differences(got, expected, String::new(), &mut lines);
    lines.join("\n")
}

fn differences(got: &Value, expected: &Value, at: String, lines: &mut Vec<String>) {
    let show = |v: Option<&Value>| v.map_or("nothing".to_string(), Value::to_string);
    let mut pair = |at: String, g: Option<&Value>, e: Option<&Value>| match (g, e) {
        (Some(g), Some(e)) => differences(g, e, at, lines),
        _ => lines.push(format!("{at}: got {}, expected {}", show(g), show(e))),
    };
    match (got, expected) {
        (Value::Object(g), Value::Object(e)) => {
            let extra = g.keys().filter(|k| !e.contains_key(*k));
            for key in e.keys().chain(extra) {
                let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                pair(at, g.get(key), e.get(key));
            }
        }
        (Value::Array(g), Value::Array(e)) => {
            for i in 0..g.len().max(e.len()) {
                pair(format!("{at}/{i}"), g.get(i), e.get(i));
            }
        }
        _ if got != expected => lines.push(format!("{at}: got {got}, expected {expected}")),
        _ => {}
    }
}

/// Everything in `original` is in `result`, unchanged; arrays may only have
/// grown at their end. This is "the patch only adds". (A `Value` keeps no key
/// order: `invariants::assert_keeps_key_order` checks it on the texts.)
pub fn assert_only_adds(original: &Value, result: &Value, at: &str) {
    match (original, result) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let kept = b.get(k).unwrap_or_else(|| panic!("{at}/{k} removed"));
                assert_only_adds(v, kept, &format!("{at}/{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert!(b.len() >= a.len(), "items removed at {at}");
            for (i, v) in a.iter().enumerate() {
                assert_only_adds(v, &b[i], &format!("{at}/{i}"));
            }
        }
        (Value::Null, Value::Array(_)) => {}
        (a, b) => assert_eq!(a, b, "value changed at {at}"),
    }
}
