//! Structured fuzzing of the mutation: the fuzz data picks settings, a kind, a
//! namespace, annotations (up to the API server's budget) and a pod spec whose
//! names collide with ours, with block devices and odd spellings at the mount
//! path, Windows node selectors and affinities, spoilt oldObjects of debug
//! updates, plus unknown fields at every level. Whenever the policy mutates,
//! the result must only add to the original, add nothing twice, pass the API
//! server's checks of what it wrote, and be accepted unchanged by a second run
//! (the same checks as tests/properties.rs, shared by path).
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const PREFIX: &str = "cainjector.lestak.sh";

const KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("", "ReplicationController"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];
const SOURCES: &[&str] = &[
    "ca-bundle",
    "my-org.com",
    "a",
    "trust.bundle.example.com",
    "x-y",
];
const CERT_FILES: &[&str] = &["ca.crt", "bundle.pem", ".hidden", "a_b-c.d"];
const MOUNT_PATHS: &[&str] = &["/cacerts", "/etc/ssl/certs", "/a/b", "/cacerts/sub"];
const ENV_NAMES: &[&str] = &[
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "node.extra",
    "A",
];
const POD_ENV_NAMES: &[&str] = &[
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "node.extra",
    "A",
    "JAVA_TOOL_OPTIONS",
];
const POD_ENV_VALUES: &[&str] = &[
    "/pod/own.pem",
    "",
    "-Xmx512m",
    "-Djavax.net.ssl.trustStore=/own.p12",
];
const CONTAINER_GLOBS: &[&str] = &["istio-*", "app", "*", "[a-c]*", "side?car", "x"];
const NAMESPACE_GLOBS: &[&str] = &["team-*", "default", "kube-*", "*", "[!d]*"];
const NAMESPACES: &[&str] = &["default", "team-a", "kube-system", "payments", ""];
const CONTAINER_NAMES: &[&str] = &["app", "istio-proxy", "sidecar", "setup", "b", "x"];
const VOLUME_NAMES: &[&str] = &[
    "cainjector-ca-bundle",
    "cainjector-my-org-com",
    "cainjector-ca-bundle-2",
    "cainjector-a",
    "config",
    "data",
];
const POD_MOUNT_PATHS: &[&str] = &[
    "/cacerts",
    "/cacerts/",
    "/etc/ssl/certs",
    "/a/b",
    "/data",
    "/",
    "//cacerts",
    "/cacerts/.",
    "/cacerts//",
    "/x/../cacerts",
    "cacerts",
];
const DEVICE_PATHS: &[&str] = &["/dev/xvdb", "/cacerts", "//cacerts/", "/etc/ssl/certs"];
const DEVICE_NAMES: &[&str] = &["block", "raw", "cainjector-ca-bundle"];
const OS_LABELS: &[&str] = &["kubernetes.io/os", "beta.kubernetes.io/os", "zone"];
const OS_OPERATORS: &[&str] = &["In", "NotIn", "Exists"];
const OS_VALUES: &[&str] = &["windows", "linux"];
const ANNOTATIONS_LIMIT: usize = 262_144;
const ANNOTATION_KEYS: &[&str] = &[
    "inject",
    "configMap",
    "secret",
    "certFile",
    "mountPath",
    "sslCertFile",
    "setEnvVar",
    "excludeContainers",
    "javaTrustStore",
    "status",
    "mountpath",
    "unknown",
];
const ANNOTATION_VALUES: &[&str] = &[
    "true",
    "false",
    "True",
    "0",
    "maybe",
    "",
    "ca-bundle",
    "my-org.com",
    "Bad_Name",
    "/cacerts",
    "/etc/ssl/certs",
    "/proc/x",
    "relative",
    "/a//b",
    "bundle.pem",
    "../x",
    "app, istio-*",
    "a,[",
    "*",
    "/x/y.pem",
];
const UNKNOWN_KEYS: &[&str] = &["futureField", "x-extension", "name2", "zzz"];

/// One of `pool`, or (rarely) any string the fuzzer likes.
fn pick(u: &mut Unstructured, pool: &[&str]) -> Result<String> {
    let i = u.choose_index(pool.len() + 1)?;
    match pool.get(i) {
        Some(s) => Ok((*s).to_string()),
        None => u.arbitrary(),
    }
}

fn some_of(u: &mut Unstructured, pool: &[&str], max: usize) -> Result<Vec<Value>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| pick(u, pool).map(Value::String)).collect()
}

/// Any small JSON value, for unknown fields.
fn leaf(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => Value::String(u.arbitrary()?),
        4 => json!([u.arbitrary::<u8>()?, {"k": u.arbitrary::<String>()?}]),
        _ => json!({"nested": {"deeper": u.arbitrary::<bool>()?}}),
    })
}

/// Adds unknown fields, each at a position the fuzzer chooses (where serde_json
/// keeps key order; otherwise keys are sorted anyway).
fn unknown_fields(u: &mut Unstructured, map: &mut Map<String, Value>) -> Result<()> {
    let n = u.int_in_range(0..=2)?;
    for _ in 0..n {
        let key = pick(u, UNKNOWN_KEYS)?;
        let value = leaf(u)?;
        if !map.contains_key(&key) {
            let at = u.choose_index(map.len() + 1)?;
            insert_at(map, at, key, value);
        }
    }
    Ok(())
}

fn insert_at(map: &mut Map<String, Value>, at: usize, key: String, value: Value) {
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    entries.insert(at.min(entries.len()), (key, value));
    *map = entries.into_iter().collect();
}

/// An optional list field: absent, null, or a list of `item`s.
fn list_field(
    u: &mut Unstructured,
    map: &mut Map<String, Value>,
    field: &str,
    max: usize,
    item: fn(&mut Unstructured) -> Result<Value>,
) -> Result<()> {
    match u.int_in_range(0..=5)? {
        0 => {}
        1 => {
            map.insert(field.into(), Value::Null);
        }
        _ => {
            let n = u.int_in_range(0..=max)?;
            let list = (0..n).map(|_| item(u)).collect::<Result<Vec<_>>>()?;
            map.insert(field.into(), Value::Array(list));
        }
    }
    Ok(())
}

fn mount(u: &mut Unstructured) -> Result<Value> {
    let mut m = Map::new();
    m.insert("name".into(), pick(u, VOLUME_NAMES)?.into());
    m.insert("mountPath".into(), pick(u, POD_MOUNT_PATHS)?.into());
    if u.arbitrary()? {
        m.insert("readOnly".into(), u.arbitrary::<bool>()?.into());
    }
    unknown_fields(u, &mut m)?;
    Ok(Value::Object(m))
}

fn env_var(u: &mut Unstructured) -> Result<Value> {
    let mut e = Map::new();
    e.insert("name".into(), pick(u, POD_ENV_NAMES)?.into());
    if u.arbitrary()? {
        e.insert("value".into(), pick(u, POD_ENV_VALUES)?.into());
    } else {
        e.insert(
            "valueFrom".into(),
            json!({"configMapKeyRef": {"name": "x", "key": "y"}}),
        );
    }
    unknown_fields(u, &mut e)?;
    Ok(Value::Object(e))
}

fn device(u: &mut Unstructured) -> Result<Value> {
    let mut d = Map::new();
    d.insert("name".into(), pick(u, DEVICE_NAMES)?.into());
    d.insert("devicePath".into(), pick(u, DEVICE_PATHS)?.into());
    unknown_fields(u, &mut d)?;
    Ok(Value::Object(d))
}

fn container(u: &mut Unstructured) -> Result<Value> {
    let mut c = Map::new();
    c.insert("name".into(), pick(u, CONTAINER_NAMES)?.into());
    c.insert("image".into(), "busybox".into());
    list_field(u, &mut c, "volumeMounts", 3, mount)?;
    list_field(u, &mut c, "env", 3, env_var)?;
    if u.ratio(1, 5)? {
        list_field(u, &mut c, "volumeDevices", 2, device)?;
    }
    if u.ratio(1, 8)? {
        c.insert("restartPolicy".into(), "Always".into());
    }
    unknown_fields(u, &mut c)?;
    Ok(Value::Object(c))
}

fn volume(u: &mut Unstructured) -> Result<Value> {
    let mut v = Map::new();
    v.insert("name".into(), pick(u, VOLUME_NAMES)?.into());
    let source = pick(u, SOURCES)?;
    match u.int_in_range(0..=3)? {
        0 => v.insert("configMap".into(), json!({"name": source})),
        1 => v.insert(
            "configMap".into(),
            json!({"name": source, "items": [{"key": "ca.crt", "path": "ca.crt"}]}),
        ),
        2 => v.insert("secret".into(), json!({"secretName": source})),
        _ => v.insert("emptyDir".into(), json!({})),
    };
    unknown_fields(u, &mut v)?;
    Ok(Value::Object(v))
}

fn settings(u: &mut Unstructured) -> Result<Value> {
    let mut s = Map::new();
    let source = pick(u, SOURCES)?;
    let projected = match u.int_in_range(0..=4)? {
        0 | 1 => s.insert("configMap".into(), source.into()).is_some(),
        2 | 3 => s.insert("secret".into(), source.into()).is_some(),
        _ => {
            let bundle = if u.arbitrary()? {
                json!({"name": source})
            } else {
                json!({"signerName": format!("{source}/signer"), "labelSelector": {}})
            };
            s.insert("clusterTrustBundle".into(), bundle);
            true
        }
    };
    if !projected && u.ratio(1, 4)? {
        let key = pick(u, &["truststore.p12", "trust.jks"])?;
        s.insert("javaTrustStore".into(), json!({ "key": key }));
    }
    if u.ratio(1, 4)? {
        s.insert("statusAnnotation".into(), u.arbitrary::<bool>()?.into());
    }
    if u.arbitrary()? {
        s.insert("certFile".into(), pick(u, CERT_FILES)?.into());
    }
    if u.arbitrary()? {
        s.insert("mountPath".into(), pick(u, MOUNT_PATHS)?.into());
    }
    if u.arbitrary()? {
        s.insert("setEnvVar".into(), u.arbitrary::<bool>()?.into());
    }
    if u.ratio(1, 4)? {
        s.insert("sslCertFile".into(), "/x/y.pem".into());
    }
    if u.arbitrary()? {
        s.insert("envVars".into(), Value::Array(some_of(u, ENV_NAMES, 4)?));
    }
    if u.arbitrary()? {
        let globs = some_of(u, CONTAINER_GLOBS, 2)?;
        s.insert("excludeContainers".into(), Value::Array(globs));
    }
    if u.arbitrary()? {
        let globs = some_of(u, NAMESPACE_GLOBS, 2)?;
        s.insert("includeNamespaces".into(), Value::Array(globs));
    }
    if u.arbitrary()? {
        let globs = some_of(u, NAMESPACE_GLOBS, 2)?;
        s.insert("excludeNamespaces".into(), Value::Array(globs));
    }
    if u.ratio(1, 4)? {
        s.insert("inject".into(), false.into());
    }
    if u.ratio(1, 4)? {
        let keys = some_of(u, &ANNOTATION_KEYS[..9], 4)?;
        s.insert("allowedOverrides".into(), Value::Array(keys));
    }
    if u.ratio(1, 4)? {
        s.insert("injectInitContainers".into(), u.arbitrary::<bool>()?.into());
    }
    Ok(Value::Object(s))
}

/// A node affinity term of expressions on the OS label (and another).
fn affinity_term(u: &mut Unstructured) -> Result<Value> {
    let n = u.int_in_range(0..=2)?;
    let expressions = (0..n)
        .map(|_| {
            let operator = pick(u, OS_OPERATORS)?;
            let mut e = json!({"key": pick(u, OS_LABELS)?, "operator": operator});
            if operator != "Exists" {
                e["values"] = Value::Array(some_of(u, OS_VALUES, 2)?);
            }
            Ok(e)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({ "matchExpressions": expressions }))
}

/// Fills the annotations to a few bytes short of the API server's budget.
fn fill_annotations(u: &mut Unstructured, annotations: &mut Value) -> Result<()> {
    let Some(map) = annotations.as_object_mut() else {
        return Ok(());
    };
    let key = "example.com/filler";
    let taken: usize = map
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    let slack = u.int_in_range(0..=600)?;
    let room = ANNOTATIONS_LIMIT.saturating_sub(taken + key.len() + slack);
    map.insert(key.into(), "f".repeat(room).into());
    Ok(())
}

fn annotations(u: &mut Unstructured) -> Result<Value> {
    let mut a = Map::new();
    let n = u.int_in_range(0..=4)?;
    for _ in 0..n {
        let key = match u.int_in_range(0..=9)? {
            0 => "example.com/other".to_string(),
            1 => "kubernetes.io/config.mirror".to_string(),
            _ => format!("{PREFIX}/{}", pick(u, ANNOTATION_KEYS)?),
        };
        let value = if u.ratio(1, 16)? {
            leaf(u)?
        } else {
            pick(u, ANNOTATION_VALUES)?.into()
        };
        a.insert(key, value);
    }
    Ok(Value::Object(a))
}

/// A pod template (metadata + spec), or the pod itself without apiVersion/kind.
fn template(u: &mut Unstructured, namespace: &str) -> Result<Map<String, Value>> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), "web".into());
    if !namespace.is_empty() {
        metadata.insert("namespace".into(), namespace.into());
    }
    if u.int_in_range(0..=4)? > 0 {
        let mut a = annotations(u)?;
        if u.ratio(1, 20)? {
            fill_annotations(u, &mut a)?;
        }
        metadata.insert("annotations".into(), a);
    }
    unknown_fields(u, &mut metadata)?;

    let mut spec = Map::new();
    list_field(u, &mut spec, "initContainers", 2, container)?;
    let n = u.int_in_range(0..=3)?;
    let containers = (0..n).map(|_| container(u)).collect::<Result<Vec<_>>>()?;
    spec.insert("containers".into(), Value::Array(containers));
    list_field(u, &mut spec, "volumes", 3, volume)?;
    if u.ratio(1, 10)? {
        spec.insert(
            "os".into(),
            json!({"name": pick(u, &["windows", "linux"])?}),
        );
    }
    if u.ratio(1, 10)? {
        let label = pick(u, OS_LABELS)?;
        spec.insert("nodeSelector".into(), json!({ label: pick(u, OS_VALUES)? }));
    }
    if u.ratio(1, 10)? {
        let n = u.int_in_range(0..=2)?;
        let terms = (0..n).map(|_| affinity_term(u)).collect::<Result<Vec<_>>>()?;
        spec.insert(
            "affinity".into(),
            json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": terms}}}),
        );
    }
    unknown_fields(u, &mut spec)?;

    let mut t = Map::new();
    t.insert("metadata".into(), Value::Object(metadata));
    t.insert("spec".into(), Value::Object(spec));
    unknown_fields(u, &mut t)?;
    Ok(t)
}

fn object(u: &mut Unstructured, kind: (&str, &str), namespace: &str) -> Result<Value> {
    let template = Value::Object(template(u, namespace)?);
    let api_version = if kind.0.is_empty() {
        "v1".to_string()
    } else {
        format!("{}/v1", kind.0)
    };
    let mut object = match kind.1 {
        "Pod" => template,
        "CronJob" => json!({
            "metadata": {"name": "w", "namespace": namespace},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
        }),
        _ => json!({
            "metadata": {"name": "w", "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": "w"}}, "template": template}
        }),
    };
    if let Some(map) = object.as_object_mut() {
        insert_at(map, 0, "apiVersion".into(), api_version.into());
        insert_at(map, 1, "kind".into(), kind.1.into());
    }
    Ok(object)
}

/// `kubectl debug`: the pod as created (injected when the policy did) gets
/// ephemeral containers, of which the old pod has the first `existing`.
fn debug_request(
    u: &mut Unstructured,
    namespace: &str,
    object: Value,
    settings: &Value,
) -> Result<Value> {
    let create = common::admission(("", "Pod"), "CREATE", namespace, object.clone());
    let mut old = match common::run(&create, settings.clone()) {
        cainjector::Verdict::Mutate(created) => created,
        _ => object,
    };
    let n = u.int_in_range(1..=2)?;
    let ephemeral = (0..n).map(|_| container(u)).collect::<Result<Vec<_>>>()?;
    let existing = u.int_in_range(0..=n)?;
    let mut object = old.clone();
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert(
            "ephemeralContainers".into(),
            Value::Array(ephemeral.clone()),
        );
    }
    if let Some(spec) = old.get_mut("spec").and_then(Value::as_object_mut) {
        let before = ephemeral.into_iter().take(existing).collect();
        spec.insert("ephemeralContainers".into(), Value::Array(before));
    }
    let mut request = common::admission(("", "Pod"), "UPDATE", namespace, object);
    request["subResource"] = "ephemeralcontainers".into();
    request["oldObject"] = old;
    // An oldObject the policy cannot read, which it must refuse.
    if u.ratio(1, 8)? {
        let spoilt = match u.int_in_range(0..=3)? {
            0 => Value::Null,
            1 => json!(["spec"]),
            2 => json!({"spec": {"ephemeralContainers": {"debugger": {}}}}),
            _ => json!({"spec": {"ephemeralContainers": [{"image": "busybox"}]}}),
        };
        request["oldObject"] = spoilt;
    }
    Ok(request)
}

fn run(u: &mut Unstructured) -> Result<()> {
    let kind = *u.choose(KINDS)?;
    let namespace = pick(u, NAMESPACES)?;
    let settings = settings(u)?;
    let object = object(u, kind, &namespace)?;
    let request = if kind.1 == "Pod" && u.ratio(1, 4)? {
        debug_request(u, &namespace, object, &settings)?
    } else {
        let operation = if u.ratio(1, 10)? { "UPDATE" } else { "CREATE" };
        common::admission(kind, operation, &namespace, object)
    };
    invariants::evaluate_checked(&request, &settings);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
