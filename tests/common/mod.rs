//! Helpers shared by the integration tests: build ValidationRequest payloads,
//! run the policy, and describe expected objects as "the original plus".
#![allow(dead_code)]

use cainjector::{evaluate, Verdict};
use serde_json::{json, Value};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
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

/// `original` with the default injection of `ca-bundle` into the listed
/// containers (JSON pointers to each container).
pub fn injected(original: &Value, containers: &[&str]) -> Value {
    let mut expected = original.clone();
    for c in containers {
        push(
            &mut expected,
            &format!("{c}/volumeMounts"),
            bundle_mount("cainjector-ca-bundle", "/cacerts"),
        );
        push(
            &mut expected,
            &format!("{c}/env"),
            env("SSL_CERT_FILE", "/cacerts/ca.crt"),
        );
    }
    push(
        &mut expected,
        "/spec/volumes",
        config_map_volume("cainjector-ca-bundle", "ca-bundle"),
    );
    expected
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
