//! Generated admission requests, shared by tests/properties.rs (proptest
//! strategies) and fuzz/fuzz_targets/mutation.rs (libFuzzer bytes, through
//! `arbitrary`): the tables of values both draw from, and the builders that
//! turn one drawn `Case` into a request. A driver only chooses; what each
//! choice means is written here once. Like tests/common and tests/invariants,
//! this file builds with the fuzz crate's dependencies only.
#![allow(dead_code)]

use crate::common::Verdict;
use serde_json::{Map, Value, json};

use crate::common::{admission, run};
use crate::invariants::api;

pub const DEFAULT_PREFIX: &str = "cainjector.lestak.sh";
/// The standard list of `systemTrustStore: true`.
pub const STANDARD_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];
/// The standard list of `javaTrustStore.cacerts: true`.
pub const CACERTS: &[&str] = &[
    "/etc/ssl/certs/java/cacerts",
    "/etc/pki/ca-trust/extracted/java/cacerts",
    "/opt/java/openjdk/lib/security/cacerts",
];

pub const KINDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("", "ReplicationController"),
    ("batch", "Job"),
    ("batch", "CronJob"),
];
pub const OPERATIONS: &[&str] = &["CREATE", "UPDATE", "DELETE", "CONNECT"];
/// ConfigMap and Secret names, and ClusterTrustBundle names.
pub const SOURCES: &[&str] = &[
    "ca-bundle",
    "my-org.com",
    "a",
    "trust.bundle.example.com",
    "x-y",
];
pub const CERT_FILES: &[&str] = &["ca.crt", "bundle.pem", ".hidden", "a_b-c.d"];
pub const MOUNT_PATHS: &[&str] = &["/cacerts", "/etc/ssl/certs", "/a/b", "/cacerts/sub"];
/// Files `systemTrustStore` may list: standard ones, one under a mount path
/// of `MOUNT_PATHS` and one beside the default mount path.
pub const STORE_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/a/b/c.pem",
    "/cacerts.pem",
];
pub const SSL_CERT_FILES: &[&str] = &["/x/y.pem", "/cacerts/ca.crt"];
/// Files `javaTrustStore.cacerts` may list: standard ones (one under a mount
/// path of `MOUNT_PATHS`), one under another mount path, one of its own.
pub const CACERTS_FILES: &[&str] = &[
    "/etc/ssl/certs/java/cacerts",
    "/opt/java/openjdk/lib/security/cacerts",
    "/a/b/cacerts",
    "/usr/lib/jvm/cacerts",
];
/// The variables `envValues` may set: runtime switches, one that `envVars`
/// may list and JAVA_TOOL_OPTIONS (left out beside a Java trust store).
pub const VALUE_NAMES: &[&str] = &[
    "NODE_USE_SYSTEM_CA",
    "UV_NATIVE_TLS",
    "A",
    "JAVA_TOOL_OPTIONS",
];
pub const VALUES: &[&str] = &["1", "system", ""];
pub const TRUST_STORE_KEYS: &[&str] = &["truststore.p12", "trust.jks"];
pub const TRUST_STORE_TYPES: &[&str] = &["PKCS12", "JKS"];
pub const TRUST_STORE_PASSWORDS: &[&str] = &["changeit", "s3cret"];
/// The pod's own env vars: ours (`ENV_NAMES`), and the one `javaTrustStore`
/// appends to.
pub const POD_ENV_NAMES: &[&str] = &[
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "node.extra",
    "A",
    "JAVA_TOOL_OPTIONS",
];
/// The env vars `envVars` may list.
pub const ENV_NAMES: &[&str] = POD_ENV_NAMES.split_at(5).0;
pub const POD_ENV_VALUES: &[&str] = &[
    "/pod/own.pem",
    "",
    "-Xmx512m",
    "-Djavax.net.ssl.trustStore=/own.p12",
];
pub const CONTAINER_GLOBS: &[&str] = &["istio-*", "app", "*", "[a-c]*", "side?car", "x"];
/// Literal names and `prefix*` only, so that the property tests' own matcher
/// is exact.
pub const NAMESPACE_GLOBS: &[&str] = &["team-*", "default", "kube-*", "*", "pay*", "team-a"];
/// Namespace globs with classes, which only the fuzz target draws.
pub const NAMESPACE_CLASS_GLOBS: &[&str] = &["[!d]*"];
pub const NAMESPACES: &[&str] = &["default", "team-a", "team-b", "kube-system", "payments"];
pub const PREFIXES: &[&str] = &[DEFAULT_PREFIX, "trust.example.com"];
pub const CONTAINER_NAMES: &[&str] = &["app", "istio-proxy", "sidecar", "setup", "b", "c-1", "x"];
/// Our own volume names among ordinary ones, to collide with what we add.
pub const VOLUME_NAMES: &[&str] = &[
    "cainjector-ca-bundle",
    "cainjector-my-org-com",
    "cainjector-ca-bundle-2",
    "cainjector-a",
    "cainjector-trust-bundle-example-com",
    "cainjector-x-y",
    "config",
    "data",
];
/// With the default mount path spelled as the API server lets a pod spell it.
pub const POD_MOUNT_PATHS: &[&str] = &[
    "/cacerts",
    "/cacerts/",
    "/etc/ssl/certs",
    "/a/b",
    "/cacerts/sub",
    "/data",
    "/",
    "//cacerts",
    "/cacerts/.",
    "/cacerts//",
    "/x/../cacerts",
    "cacerts",
    "/etc/ssl/cert.pem",
    "/etc/ssl/",
    "/etc/ssl/certs/ca-certificates.crt/x",
    "/a/b/c.pem",
    "/opt/java/",
];
/// Block devices: at a mount path of ours (however spelled) or elsewhere.
pub const DEVICE_PATHS: &[&str] = &[
    "/dev/xvdb",
    "/cacerts",
    "//cacerts/",
    "/etc/ssl/certs",
    "/a/b",
    "/etc/ssl/cert.pem",
    "/usr/lib/jvm/cacerts",
];
/// Device names, one of which is the volume name the policy would choose.
pub const DEVICE_NAMES: &[&str] = &["block", "raw", "cainjector-ca-bundle"];
pub const OS_NAMES: &[&str] = &["windows", "linux"];
/// The node labels an OS requirement is on (the first two), and another.
pub const OS_LABELS: &[&str] = &[
    "kubernetes.io/os",
    "beta.kubernetes.io/os",
    "topology.kubernetes.io/zone",
];
pub const OS_OPERATORS: &[&str] = &["In", "NotIn", "Exists"];
pub const FILLER_KEY: &str = "example.com/filler";
/// The annotations of ours: first those `allowedOverrides` may list
/// (`OVERRIDES`), then the one the policy writes, a misspelling and an
/// unknown one.
pub const ANNOTATION_KEYS: &[&str] = &[
    "inject",
    "configMap",
    "secret",
    "certFile",
    "mountPath",
    "sslCertFile",
    "setEnvVar",
    "excludeContainers",
    "javaTrustStore",
    "systemTrustStore",
    "status",
    "mountpath",
    "unknown",
];
pub const OVERRIDES: &[&str] = ANNOTATION_KEYS.split_at(10).0;
pub const ANNOTATION_VALUES: &[&str] = &[
    "true",
    "false",
    "True",
    "F",
    "0",
    "maybe",
    "",
    "ca-bundle",
    "my-org.com",
    "Bad_Name",
    "/cacerts",
    "/etc/ssl/certs",
    "/proc/x",
    "/etc",
    "relative",
    "/a//b",
    "bundle.pem",
    "../x",
    "app, istio-*",
    "a,[",
    "*",
    "/x/y.pem",
];
/// Field names that no Kubernetes version uses at any level we generate.
pub const UNKNOWN_KEYS: &[&str] = &[
    "futureField",
    "xExtension",
    "x-extension",
    "zzz",
    "nested2",
    "name2",
];

/// How many shapes `leaf` has.
pub const LEAF_SHAPES: u8 = 6;

/// A small JSON value for unknown fields, of one of `LEAF_SHAPES` shapes.
pub fn leaf(shape: u8, flag: bool, number: i64, text: String) -> Value {
    match shape % LEAF_SHAPES {
        0 => Value::Null,
        1 => Value::Bool(flag),
        2 => Value::from(number),
        3 => Value::String(text),
        4 => json!([number, {"k": text}]),
        _ => json!({"nested": {"deeper": flag}}),
    }
}

/// Unknown fields, by name (where they stand among the known ones in the text
/// is `invariants::in_key_order`'s choice).
pub type Unknown = Vec<(String, Value)>;

pub fn with_unknown(mut map: Map<String, Value>, unknown: &Unknown) -> Map<String, Value> {
    for (key, value) in unknown {
        if !map.contains_key(key) {
            map.insert(key.clone(), value.clone());
        }
    }
    map
}

pub fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.into(), value);
    }
}

pub fn mount(name: &str, path: &str, read_only: Option<bool>, unknown: &Unknown) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    m.insert("mountPath".into(), path.into());
    insert_opt(&mut m, "readOnly", read_only.map(Value::from));
    Value::Object(with_unknown(m, unknown))
}

/// An env var with a literal value, or (`None`) one from a ConfigMap key.
pub fn env_var(name: &str, value: Option<&str>, unknown: &Unknown) -> Value {
    let mut e = Map::new();
    e.insert("name".into(), name.into());
    match value {
        Some(value) => e.insert("value".into(), value.into()),
        None => e.insert(
            "valueFrom".into(),
            json!({"configMapKeyRef": {"name": "x", "key": "y"}}),
        ),
    };
    Value::Object(with_unknown(e, unknown))
}

pub fn device(name: &str, path: &str, unknown: &Unknown) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), name.into());
    d.insert("devicePath".into(), path.into());
    Value::Object(with_unknown(d, unknown))
}

/// A container's lists, each absent (`None`), null or a list.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub mounts: Option<Value>,
    pub env: Option<Value>,
    pub devices: Option<Value>,
    /// A native sidecar (`restartPolicy: Always`, in initContainers).
    pub sidecar: bool,
    pub unknown: Unknown,
}

impl ContainerSpec {
    pub fn to_json(&self) -> Value {
        let mut c = Map::new();
        c.insert("name".into(), self.name.as_str().into());
        c.insert("image".into(), "busybox:1.36".into());
        insert_opt(&mut c, "volumeDevices", self.devices.clone());
        insert_opt(&mut c, "volumeMounts", self.mounts.clone());
        insert_opt(&mut c, "env", self.env.clone());
        if self.sidecar {
            c.insert("restartPolicy".into(), "Always".into());
        }
        Value::Object(with_unknown(c, &self.unknown))
    }
}

/// What a pod volume is, beside its name.
#[derive(Debug, Clone, Copy)]
pub enum VolumeShape {
    ConfigMap,
    /// A ConfigMap volume that projects only some keys: never ours to reuse.
    ConfigMapItems,
    Secret,
    EmptyDir,
}

pub const VOLUME_SHAPES: [VolumeShape; 4] = [
    VolumeShape::ConfigMap,
    VolumeShape::ConfigMapItems,
    VolumeShape::Secret,
    VolumeShape::EmptyDir,
];

pub fn volume(name: &str, source: &str, shape: VolumeShape, unknown: &Unknown) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), name.into());
    let (field, value) = match shape {
        VolumeShape::ConfigMap => ("configMap", json!({ "name": source })),
        VolumeShape::ConfigMapItems => (
            "configMap",
            json!({"name": source, "items": [{"key": "ca.crt", "path": "ca.crt"}]}),
        ),
        VolumeShape::Secret => ("secret", json!({ "secretName": source })),
        VolumeShape::EmptyDir => ("emptyDir", json!({})),
    };
    v.insert(field.into(), value);
    Value::Object(with_unknown(v, unknown))
}

/// Keeps the first item of each name (or path): the API server refuses
/// duplicate volume names and duplicate mount paths (compared as strings), so
/// no pod has them.
pub fn unique_by(items: Option<Value>, field: &str) -> Option<Value> {
    let Some(Value::Array(items)) = items else {
        return items;
    };
    let mut seen: Vec<Value> = Vec::new();
    let mut kept = Vec::new();
    for item in items {
        let key = item[field].clone();
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(item);
        }
    }
    Some(Value::Array(kept))
}

fn strings_of(list: Option<&Value>, field: &str) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i[field].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The devices the API server lets a container have beside its mounts:
/// unique names and paths, none a mount's name or exact path
/// (ValidateVolumeDevices).
pub fn valid_devices(devices: &[(&str, &str)], mounts: Option<&Value>) -> Value {
    let mount_names = strings_of(mounts, "name");
    let mount_paths = strings_of(mounts, "mountPath");
    let mut kept: Vec<(&str, &str)> = Vec::new();
    for &(name, path) in devices {
        let clash = kept.iter().any(|(n, p)| *n == name || *p == path)
            || mount_names.iter().any(|n| n == name)
            || mount_paths.iter().any(|p| p == path);
        if !clash {
            kept.push((name, path));
        }
    }
    kept.iter()
        .map(|(name, path)| device(name, path, &Unknown::new()))
        .collect()
}

/// Where the trust bundle comes from.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    ConfigMap(String),
    Secret(String),
    ClusterTrustBundle(String),
    /// The ClusterTrustBundles of the signer `<name>/signer`, any labels.
    Signer(String),
}

#[derive(Debug, Clone)]
pub struct JavaTrustStoreSpec {
    pub key: String,
    pub store_type: Option<String>,
    pub password: Option<String>,
    /// `cacerts`: true or false, or a list of `CACERTS_FILES`.
    pub cacerts: Option<StoreSpec>,
}

/// `systemTrustStore`: true or false, or a list of `STORE_FILES`.
#[derive(Debug, Clone)]
pub enum StoreSpec {
    Flag(bool),
    Files(Vec<String>),
}

/// Settings: each `None` is a setting left out.
#[derive(Debug, Clone)]
pub struct SettingsSpec {
    pub source: SourceSpec,
    pub java_trust_store: Option<JavaTrustStoreSpec>,
    pub status_annotation: Option<bool>,
    pub cert_file: Option<String>,
    pub mount_path: Option<String>,
    pub set_env_var: Option<bool>,
    pub ssl_cert_file: Option<String>,
    pub env_vars: Option<Vec<String>>,
    pub exclude_containers: Option<Vec<String>>,
    pub include_namespaces: Option<Vec<String>>,
    pub exclude_namespaces: Option<Vec<String>>,
    pub inject: Option<bool>,
    pub annotation_prefix: Option<String>,
    pub allowed_overrides: Option<Vec<String>>,
    pub inject_init_containers: Option<bool>,
    pub system_trust_store: Option<StoreSpec>,
    /// `envValues`, as name and value.
    pub env_values: Option<Vec<(String, String)>>,
}

fn strings(list: &Option<Vec<String>>) -> Option<Value> {
    list.as_ref().map(|l| Value::from(l.clone()))
}

impl SettingsSpec {
    /// The settings as the policy reads them, with the combinations
    /// validate_settings refuses left out: a Java trust store beside a
    /// ClusterTrustBundle (which projects only the PEM), opt-in mode
    /// (`inject: false`) with an `allowedOverrides` that lacks `inject`, and
    /// system trust store files that overlap the mount path; likewise the JDK
    /// trust store files, a password beside them, and `envValues` variables
    /// that `envVars` sets or JAVA_TOOL_OPTIONS beside a Java trust store.
    pub fn to_json(&self) -> Value {
        let mut s = Map::new();
        let (key, source) = match &self.source {
            SourceSpec::ConfigMap(name) => ("configMap", json!(name)),
            SourceSpec::Secret(name) => ("secret", json!(name)),
            SourceSpec::ClusterTrustBundle(name) => ("clusterTrustBundle", json!({ "name": name })),
            SourceSpec::Signer(name) => (
                "clusterTrustBundle",
                json!({"signerName": format!("{name}/signer"), "labelSelector": {}}),
            ),
        };
        s.insert(key.into(), source);
        if key != "clusterTrustBundle" {
            let java = self.java_trust_store.as_ref().map(|j| {
                let mut m = Map::new();
                m.insert("key".into(), j.key.as_str().into());
                insert_opt(&mut m, "type", j.store_type.clone().map(Value::from));
                let cacerts = j
                    .cacerts
                    .as_ref()
                    .and_then(|c| self.files_apart(c, CACERTS));
                let password = j.password.clone().filter(|_| cacerts.is_none());
                insert_opt(&mut m, "password", password.map(Value::from));
                insert_opt(&mut m, "cacerts", cacerts);
                Value::Object(m)
            });
            insert_opt(&mut s, "javaTrustStore", java);
        }
        let flag = |b: Option<bool>| b.map(Value::from);
        let text = |t: &Option<String>| t.clone().map(Value::from);
        insert_opt(&mut s, "statusAnnotation", flag(self.status_annotation));
        insert_opt(&mut s, "certFile", text(&self.cert_file));
        insert_opt(&mut s, "mountPath", text(&self.mount_path));
        insert_opt(&mut s, "setEnvVar", flag(self.set_env_var));
        insert_opt(&mut s, "sslCertFile", text(&self.ssl_cert_file));
        insert_opt(&mut s, "envVars", strings(&self.env_vars));
        insert_opt(
            &mut s,
            "excludeContainers",
            strings(&self.exclude_containers),
        );
        insert_opt(
            &mut s,
            "includeNamespaces",
            strings(&self.include_namespaces),
        );
        insert_opt(
            &mut s,
            "excludeNamespaces",
            strings(&self.exclude_namespaces),
        );
        insert_opt(&mut s, "inject", flag(self.inject));
        insert_opt(&mut s, "annotationPrefix", text(&self.annotation_prefix));
        let allowed = self.allowed_overrides.clone().map(|mut keys| {
            if self.inject == Some(false) && !keys.iter().any(|k| k == "inject") {
                keys.push("inject".into());
            }
            keys
        });
        insert_opt(&mut s, "allowedOverrides", strings(&allowed));
        insert_opt(
            &mut s,
            "injectInitContainers",
            flag(self.inject_init_containers),
        );
        insert_opt(&mut s, "systemTrustStore", self.store());
        let java = s.contains_key("javaTrustStore");
        insert_opt(&mut s, "envValues", self.values(java));
        Value::Object(s)
    }

    /// `envValues`, without the names `envVars` sets, nor JAVA_TOOL_OPTIONS
    /// beside a Java trust store.
    fn values(&self, java: bool) -> Option<Value> {
        let default = ["SSL_CERT_FILE".to_string()];
        let listed = self.env_vars.as_deref().unwrap_or(&default);
        let kept =
            self.env_values.as_ref()?.iter().filter(|(name, _)| {
                !listed.contains(name) && (!java || name != "JAVA_TOOL_OPTIONS")
            });
        Some(Value::Object(
            kept.map(|(name, value)| (name.clone(), Value::from(value.as_str())))
                .collect(),
        ))
    }

    /// A `StoreSpec` of `standard` as the setting's value, without the files
    /// that overlap the mount path; `None` when none is left.
    fn files_apart(&self, spec: &StoreSpec, standard: &[&str]) -> Option<Value> {
        let mount_path = self.mount_path.as_deref().unwrap_or("/cacerts");
        let apart = |file: &&str| !api::overlap(file, mount_path);
        match spec {
            StoreSpec::Flag(true) if !standard.iter().all(apart) => None,
            StoreSpec::Flag(on) => Some(Value::Bool(*on)),
            StoreSpec::Files(files) => {
                let kept: Vec<&str> = files.iter().map(String::as_str).filter(apart).collect();
                (!kept.is_empty()).then(|| Value::from(kept))
            }
        }
    }

    /// `systemTrustStore`, without the files that overlap the mount path.
    fn store(&self) -> Option<Value> {
        let spec = self.system_trust_store.as_ref()?;
        self.files_apart(spec, STANDARD_FILES)
    }
}

/// Which prefix an annotation key is written under.
#[derive(Debug, Clone, Copy)]
pub enum Under {
    /// The prefix the settings configure (the default one when unset).
    Ours,
    /// The default prefix, which means nothing when the settings white-label.
    Default,
    /// Someone else's.
    Other,
    /// The annotation that marks a mirror pod.
    Mirror,
}

#[derive(Debug, Clone)]
pub struct AnnotationSpec {
    pub under: Under,
    pub key: String,
    pub value: Value,
}

/// A node selector requirement (matchExpressions item).
#[derive(Debug, Clone)]
pub struct Expression {
    pub key: String,
    pub operator: String,
    /// Left out of the JSON for `Exists`.
    pub values: Vec<String>,
}

impl Expression {
    pub fn to_json(&self) -> Value {
        let mut e = json!({"key": self.key, "operator": self.operator});
        if self.operator != "Exists" {
            e["values"] = Value::from(self.values.clone());
        }
        e
    }
}

#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub annotations: Option<Vec<AnnotationSpec>>,
    pub metadata_unknown: Unknown,
    pub init_containers: Option<Value>,
    pub containers: Vec<Value>,
    pub volumes: Option<Value>,
    pub os: Option<String>,
    /// The label and value of an OS requirement in `spec.nodeSelector`.
    pub node_selector: Option<(String, String)>,
    /// Required node affinity terms.
    pub affinity: Option<Vec<Vec<Expression>>>,
    /// How many bytes short of the API server's budget the annotations are.
    pub annotation_slack: Option<usize>,
    pub spec_unknown: Unknown,
    pub template_unknown: Unknown,
}

/// The oldObject of a debug update: as the API server sends it, or spoilt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OldObject {
    Readable,
    Absent,
    Null,
    NotAnObject,
    ListNotAList,
    ItemWithoutName,
}

/// `kubectl debug` on a pod: its ephemeral containers, how many of them the
/// old pod already had, and how its oldObject is spoilt.
#[derive(Debug, Clone)]
pub struct DebugSpec {
    pub ephemeral: Vec<Value>,
    pub existing: usize,
    pub old_object: OldObject,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub kind: (&'static str, &'static str),
    pub operation: &'static str,
    pub request_namespace: String,
    pub object_namespace: Option<String>,
    pub settings: Value,
    pub template: TemplateSpec,
    pub object_unknown: Unknown,
    /// Only on a Pod (`request` ignores it on other kinds).
    pub debug: Option<DebugSpec>,
}

impl Case {
    pub fn prefix(&self) -> &str {
        self.settings
            .get("annotationPrefix")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_PREFIX)
    }

    fn annotation_key(&self, a: &AnnotationSpec) -> String {
        match a.under {
            Under::Ours => format!("{}/{}", self.prefix(), a.key),
            Under::Default => format!("{DEFAULT_PREFIX}/{}", a.key),
            Under::Other => format!("example.com/{}", a.key),
            Under::Mirror => "kubernetes.io/config.mirror".to_string(),
        }
    }

    /// The annotations as the pod carries them (a later duplicate key wins),
    /// with a filler that leaves them `annotation_slack` bytes short of the
    /// API server's budget.
    pub fn annotations(&self) -> Option<Map<String, Value>> {
        let mut map: Option<Map<String, Value>> = self.template.annotations.as_ref().map(|list| {
            list.iter()
                .map(|a| (self.annotation_key(a), a.value.clone()))
                .collect()
        });
        if let Some(slack) = self.template.annotation_slack {
            let map = map.get_or_insert_with(Map::new);
            let taken = api::annotations_size(Some(map)) + FILLER_KEY.len() + slack;
            let filler = "f".repeat(api::ANNOTATIONS_LIMIT.saturating_sub(taken));
            map.insert(FILLER_KEY.into(), filler.into());
        }
        map
    }

    /// A workload's template carries no namespace: its object's metadata does.
    fn metadata(&self, name: &str) -> Map<String, Value> {
        let mut metadata = Map::new();
        metadata.insert("name".into(), name.into());
        if let Some(ns) = &self.object_namespace {
            metadata.insert("namespace".into(), ns.as_str().into());
        }
        metadata
    }

    fn pod_spec(&self) -> Map<String, Value> {
        let t = &self.template;
        let mut spec = Map::new();
        insert_opt(&mut spec, "initContainers", t.init_containers.clone());
        spec.insert("containers".into(), Value::Array(t.containers.clone()));
        insert_opt(&mut spec, "volumes", t.volumes.clone());
        insert_opt(
            &mut spec,
            "os",
            t.os.as_ref().map(|name| json!({ "name": name })),
        );
        insert_opt(
            &mut spec,
            "nodeSelector",
            t.node_selector
                .as_ref()
                .map(|(label, value)| json!({ label: value, "disktype": "ssd" })),
        );
        insert_opt(
            &mut spec,
            "affinity",
            t.affinity.as_ref().map(|terms| {
                let terms: Vec<Value> = terms
                    .iter()
                    .map(|term| {
                        let expressions: Vec<Value> =
                            term.iter().map(Expression::to_json).collect();
                        json!({ "matchExpressions": expressions })
                    })
                    .collect();
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": terms}}})
            }),
        );
        with_unknown(spec, &t.spec_unknown)
    }

    fn pod_template(&self) -> Map<String, Value> {
        let t = &self.template;
        let mut metadata = if self.kind.1 == "Pod" {
            self.metadata("web")
        } else {
            Map::new()
        };
        insert_opt(
            &mut metadata,
            "annotations",
            self.annotations().map(Value::Object),
        );
        let mut template = Map::new();
        template.insert(
            "metadata".into(),
            Value::Object(with_unknown(metadata, &t.metadata_unknown)),
        );
        template.insert("spec".into(), Value::Object(self.pod_spec()));
        with_unknown(template, &t.template_unknown)
    }

    pub fn object(&self) -> Value {
        let (group, kind) = self.kind;
        let api_version = if group.is_empty() {
            "v1".to_string()
        } else {
            format!("{group}/v1")
        };
        let template = self.pod_template();
        let mut object = Map::new();
        object.insert("apiVersion".into(), api_version.into());
        object.insert("kind".into(), kind.into());
        let selector = json!({"matchLabels": {"app": "web"}});
        match kind {
            "Pod" => object.extend(template),
            "CronJob" => {
                object.insert("metadata".into(), Value::Object(self.metadata("nightly")));
                object.insert(
                    "spec".into(),
                    json!({"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}),
                );
            }
            "Job" | "ReplicationController" => {
                object.insert("metadata".into(), Value::Object(self.metadata("w")));
                object.insert("spec".into(), json!({ "template": template }));
            }
            _ => {
                object.insert("metadata".into(), Value::Object(self.metadata("w")));
                object.insert(
                    "spec".into(),
                    json!({"selector": selector, "template": template}),
                );
            }
        }
        Value::Object(with_unknown(object, &self.object_unknown))
    }

    pub fn request(&self) -> Value {
        let object = self.object();
        match &self.debug {
            Some(debug) if self.kind == ("", "Pod") => self.debug_request(object, debug),
            _ => admission(self.kind, self.operation, &self.request_namespace, object),
        }
    }

    /// The pod as it was created, injected or not, gets debug containers.
    fn debug_request(&self, object: Value, debug: &DebugSpec) -> Value {
        let create = admission(self.kind, "CREATE", &self.request_namespace, object.clone());
        let mut old = match run(&create, self.settings.clone()) {
            Verdict::Mutate(created) => created,
            _ => object,
        };
        let mut object = old.clone();
        let existing = debug.existing.min(debug.ephemeral.len());
        object["spec"]["ephemeralContainers"] = Value::Array(debug.ephemeral.clone());
        old["spec"]["ephemeralContainers"] = Value::Array(debug.ephemeral[..existing].to_vec());
        let mut request = admission(self.kind, "UPDATE", &self.request_namespace, object);
        request["subResource"] = "ephemeralcontainers".into();
        match debug.old_object {
            OldObject::Readable => request["oldObject"] = old,
            OldObject::Absent => {}
            OldObject::Null => request["oldObject"] = Value::Null,
            OldObject::NotAnObject => request["oldObject"] = json!(["spec"]),
            OldObject::ListNotAList => {
                old["spec"]["ephemeralContainers"] = json!({"debugger": {}});
                request["oldObject"] = old;
            }
            OldObject::ItemWithoutName => {
                old["spec"]["ephemeralContainers"] = json!([{"image": "busybox"}]);
                request["oldObject"] = old;
            }
        }
        request
    }
}
