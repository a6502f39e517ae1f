//! Property tests on generated requests: every workload kind, settings drawn
//! from valid values, annotations under our prefix with valid and invalid
//! values, names that collide with the ones the policy adds, block devices and
//! odd spellings at the mount path, annotations at the edge of the API
//! server's budget, Windows node selectors and affinities, unreadable old
//! objects of debug updates, and unknown fields at every level. Whatever the
//! request, the policy answers without panicking, and a mutation only adds,
//! adds nothing twice, passes the API server's checks of what it wrote, parses
//! as its Kubernetes kind and is accepted unchanged by a second run
//! (tests/invariants/mod.rs).

mod common;
mod invariants;

use cainjector::Verdict;
use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};
use proptest::test_runner::FileFailurePersistence;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use common::{admission, run};
use invariants::{api, evaluate_checked, written};

const DEFAULT_PREFIX: &str = "cainjector.lestak.sh";

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
/// ConfigMap and Secret names, and ClusterTrustBundle names.
const SOURCES: &[&str] = &[
    "ca-bundle",
    "my-org.com",
    "a",
    "trust.bundle.example.com",
    "x-y",
];
const CERT_FILES: &[&str] = &["ca.crt", "bundle.pem", ".hidden", "a_b-c.d"];
const MOUNT_PATHS: &[&str] = &["/cacerts", "/etc/ssl/certs", "/a/b", "/cacerts/sub"];
const SSL_CERT_FILES: &[&str] = &["/x/y.pem", "/cacerts/ca.crt"];
const ENV_NAMES: &[&str] = &[
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "node.extra",
    "A",
];
/// The pod's own env vars: ours, and the one `javaTrustStore` appends to.
const POD_ENV_NAMES: &[&str] = &[
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "node.extra",
    "A",
    "JAVA_TOOL_OPTIONS",
];
const CONTAINER_GLOBS: &[&str] = &["istio-*", "app", "*", "[a-c]*", "side?car"];
/// Literal names and `prefix*` only, so that the test's own matcher is exact.
const NAMESPACE_GLOBS: &[&str] = &["team-*", "default", "kube-*", "*", "pay*", "team-a"];
const NAMESPACES: &[&str] = &["default", "team-a", "team-b", "kube-system", "payments"];
const PREFIXES: &[&str] = &[DEFAULT_PREFIX, "trust.example.com"];
const OVERRIDES: &[&str] = &[
    "inject",
    "configMap",
    "secret",
    "certFile",
    "mountPath",
    "sslCertFile",
    "setEnvVar",
    "excludeContainers",
    "javaTrustStore",
];
const CONTAINER_NAMES: &[&str] = &["app", "istio-proxy", "sidecar", "setup", "b", "c-1"];
/// Our own volume names among ordinary ones, to collide with what we add.
const VOLUME_NAMES: &[&str] = &[
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
const POD_MOUNT_PATHS: &[&str] = &[
    "/cacerts",
    "/cacerts/",
    "/etc/ssl/certs",
    "/a/b",
    "/cacerts/sub",
    "/data",
    "//cacerts",
    "/cacerts/.",
    "/cacerts//",
    "/x/../cacerts",
    "cacerts",
];
/// Block devices: at a mount path of ours (however spelled) or elsewhere.
const DEVICE_PATHS: &[&str] = &[
    "/dev/xvdb",
    "/cacerts",
    "//cacerts/",
    "/etc/ssl/certs",
    "/a/b",
];
/// Device names, one of which is the volume name the policy would choose.
const DEVICE_NAMES: &[&str] = &["block", "raw", "cainjector-ca-bundle"];
/// Node selector term expressions, by what they require of the node's OS.
const OS_EXPRESSIONS: &[&str] = &[
    "os-in-windows",
    "beta-os-in-windows",
    "os-in-windows-linux",
    "os-in-linux",
    "os-notin-linux",
    "zone-exists",
];
const ANNOTATIONS_LIMIT: usize = api::ANNOTATIONS_LIMIT;
const FILLER_KEY: &str = "example.com/filler";
const POD_ENV_VALUES: &[&str] = &[
    "/pod/own.pem",
    "",
    "-Xmx512m",
    "-Djavax.net.ssl.trustStore=/own.p12",
];
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
const UNKNOWN_KEYS: &[&str] = &["futureField", "xExtension", "zzz", "nested2"];

/// Unknown fields, each with the position where it goes among the known ones.
type Unknown = Vec<(Index, &'static str, Value)>;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z /.-]{0,12}".prop_map(Value::from),
        (any::<u8>(), "[a-z]{0,4}").prop_map(|(n, s)| json!([n, {"k": s}])),
        any::<bool>().prop_map(|b| json!({"nested": {"deeper": b}})),
    ]
}

fn unknown() -> impl Strategy<Value = Unknown> {
    prop::collection::vec((any::<Index>(), select(UNKNOWN_KEYS), leaf()), 0..3)
}

/// The unknown fields land among the known ones (in the text, where the key
/// order `evaluate_checked` sends puts them).
fn with_unknown(map: Map<String, Value>, unknown: Unknown) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    for (at, key, value) in unknown {
        if !entries.iter().any(|(k, _)| k == key) {
            let at = at.index(entries.len() + 1);
            entries.insert(at, (key.to_string(), value));
        }
    }
    entries.into_iter().collect()
}

/// A list field as a pod may carry it: absent, null, or a list.
fn optional_list<S: Strategy<Value = Value>>(
    item: S,
    max: usize,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        4 => prop::collection::vec(item, 0..=max).prop_map(|v| Some(Value::Array(v))),
    ]
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.into(), value);
    }
}

/// Keeps the first item of each name (or path): the API server refuses
/// duplicate volume names and duplicate mount paths (compared as strings), so
/// no pod has them.
fn unique_by(items: Option<Value>, field: &str) -> Option<Value> {
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
fn valid_devices(devices: Vec<(&'static str, &'static str)>, mounts: Option<&Value>) -> Value {
    let mount_names = strings_of(mounts, "name");
    let mount_paths = strings_of(mounts, "mountPath");
    let mut kept: Vec<(&str, &str)> = Vec::new();
    for (name, path) in devices {
        let clash = kept.iter().any(|(n, p)| *n == name || *p == path)
            || mount_names.iter().any(|n| n == name)
            || mount_paths.iter().any(|p| p == path);
        if !clash {
            kept.push((name, path));
        }
    }
    kept.iter()
        .map(|(name, path)| json!({"name": name, "devicePath": path}))
        .collect()
}

fn mount() -> impl Strategy<Value = Value> {
    (
        select(VOLUME_NAMES),
        select(POD_MOUNT_PATHS),
        prop::option::of(any::<bool>()),
        unknown(),
    )
        .prop_map(|(name, path, read_only, unknown)| {
            let mut m = Map::new();
            m.insert("name".into(), name.into());
            m.insert("mountPath".into(), path.into());
            insert_opt(&mut m, "readOnly", read_only.map(Value::from));
            Value::Object(with_unknown(m, unknown))
        })
}

fn env_var() -> impl Strategy<Value = Value> {
    (
        select(POD_ENV_NAMES),
        prop::option::of(select(POD_ENV_VALUES)),
        unknown(),
    )
        .prop_map(|(name, value, unknown)| {
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
        })
}

fn container() -> impl Strategy<Value = Value> {
    let devices = prop::option::weighted(
        0.2,
        prop::collection::vec((select(DEVICE_NAMES), select(DEVICE_PATHS)), 1..3),
    );
    (
        select(CONTAINER_NAMES),
        optional_list(mount(), 3),
        optional_list(env_var(), 3),
        prop::bool::weighted(0.15),
        devices,
        unknown(),
    )
        .prop_map(|(name, mounts, env, sidecar, devices, unknown)| {
            let mut c = Map::new();
            c.insert("name".into(), name.into());
            c.insert("image".into(), "busybox:1.36".into());
            let mounts = unique_by(mounts, "mountPath");
            if let Some(devices) = devices {
                c.insert(
                    "volumeDevices".into(),
                    valid_devices(devices, mounts.as_ref()),
                );
            }
            insert_opt(&mut c, "volumeMounts", mounts);
            insert_opt(&mut c, "env", env);
            if sidecar {
                c.insert("restartPolicy".into(), "Always".into());
            }
            Value::Object(with_unknown(c, unknown))
        })
}

fn volume() -> impl Strategy<Value = Value> {
    (select(VOLUME_NAMES), select(SOURCES), 0..4u8, unknown()).prop_map(
        |(name, source, shape, unknown)| {
            let mut v = Map::new();
            v.insert("name".into(), name.into());
            match shape {
                0 => v.insert("configMap".into(), json!({"name": source})),
                1 => v.insert(
                    "configMap".into(),
                    json!({"name": source, "items": [{"key": "ca.crt", "path": "ca.crt"}]}),
                ),
                2 => v.insert("secret".into(), json!({"secretName": source})),
                _ => v.insert("emptyDir".into(), json!({})),
            };
            Value::Object(with_unknown(v, unknown))
        },
    )
}

/// Settings drawn from valid values only.
fn settings() -> impl Strategy<Value = Value> {
    let source = (0..5u8, select(SOURCES));
    let files = (
        prop::option::of(select(CERT_FILES)),
        prop::option::of(select(MOUNT_PATHS)),
        prop::option::of(any::<bool>()),
        prop::option::of(select(SSL_CERT_FILES)),
        prop::option::of(subsequence(ENV_NAMES, 0..=ENV_NAMES.len())),
    );
    // Scope settings are set now and then: each one set often leaves most
    // cases out of scope, where nothing is left to check.
    let scope = (
        prop::option::weighted(0.3, prop::collection::vec(select(CONTAINER_GLOBS), 0..3)),
        prop::option::weighted(0.2, prop::collection::vec(select(NAMESPACE_GLOBS), 0..3)),
        prop::option::weighted(0.2, prop::collection::vec(select(NAMESPACE_GLOBS), 0..3)),
    );
    let pod_rules = (
        prop::option::weighted(0.3, any::<bool>()),
        prop::option::of(select(PREFIXES)),
        prop::option::of(subsequence(OVERRIDES, 0..=OVERRIDES.len())),
        prop::option::of(any::<bool>()),
    );
    let extras = (
        prop::option::weighted(0.3, java_trust_store()),
        prop::option::weighted(0.3, any::<bool>()),
    );
    (source, files, scope, pod_rules, extras).prop_map(
        |(
            (source_kind, source),
            (cert_file, mount_path, set_env_var, ssl_cert_file, env_vars),
            (exclude_containers, include_ns, exclude_ns),
            (inject, prefix, allowed, init),
            (java, status),
        )| {
            let mut s = Map::new();
            match source_kind {
                0 | 1 => s.insert("configMap".into(), source.into()),
                2 | 3 => s.insert("secret".into(), source.into()),
                _ if source.contains('.') => s.insert(
                    "clusterTrustBundle".into(),
                    json!({"signerName": format!("{source}/signer"), "labelSelector": {}}),
                ),
                _ => s.insert("clusterTrustBundle".into(), json!({ "name": source })),
            };
            // A ClusterTrustBundle projects only the PEM: no Java trust store.
            if source_kind < 4 {
                insert_opt(&mut s, "javaTrustStore", java);
            }
            insert_opt(&mut s, "statusAnnotation", status.map(Value::from));
            insert_opt(&mut s, "certFile", cert_file.map(Value::from));
            insert_opt(&mut s, "mountPath", mount_path.map(Value::from));
            insert_opt(&mut s, "setEnvVar", set_env_var.map(Value::from));
            insert_opt(&mut s, "sslCertFile", ssl_cert_file.map(Value::from));
            insert_opt(&mut s, "envVars", env_vars.map(Value::from));
            insert_opt(
                &mut s,
                "excludeContainers",
                exclude_containers.map(Value::from),
            );
            insert_opt(&mut s, "includeNamespaces", include_ns.map(Value::from));
            insert_opt(&mut s, "excludeNamespaces", exclude_ns.map(Value::from));
            insert_opt(&mut s, "inject", inject.map(Value::from));
            insert_opt(&mut s, "annotationPrefix", prefix.map(Value::from));
            // Opt-in mode needs the inject annotation (validate_settings refuses it otherwise).
            let allowed = allowed.map(|mut keys| {
                if inject == Some(false) && !keys.contains(&"inject") {
                    keys.push("inject");
                }
                keys
            });
            insert_opt(&mut s, "allowedOverrides", allowed.map(Value::from));
            insert_opt(&mut s, "injectInitContainers", init.map(Value::from));
            Value::Object(s)
        },
    )
}

fn java_trust_store() -> impl Strategy<Value = Value> {
    (
        select(&["truststore.p12", "trust.jks"][..]),
        prop::option::of(select(&["PKCS12", "JKS"][..])),
        prop::option::of(select(&["changeit", "s3cret"][..])),
    )
        .prop_map(|(key, store_type, password)| {
            let mut j = Map::new();
            j.insert("key".into(), key.into());
            insert_opt(&mut j, "type", store_type.map(Value::from));
            insert_opt(&mut j, "password", password.map(Value::from));
            Value::Object(j)
        })
}

/// Which prefix an annotation key is written under.
#[derive(Debug, Clone, Copy)]
enum Under {
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
struct AnnotationSpec {
    under: Under,
    key: &'static str,
    value: Value,
}

fn annotation() -> impl Strategy<Value = AnnotationSpec> {
    let under = prop_oneof![
        12 => Just(Under::Ours),
        3 => Just(Under::Default),
        3 => Just(Under::Other),
        1 => Just(Under::Mirror),
    ];
    let value = prop_oneof![
        12 => select(ANNOTATION_VALUES).prop_map(Value::from),
        2 => "[ -~]{0,16}".prop_map(Value::from),
        1 => leaf(),
    ];
    (under, select(ANNOTATION_KEYS), value).prop_map(|(under, key, value)| AnnotationSpec {
        under,
        key,
        value,
    })
}

#[derive(Debug, Clone)]
struct TemplateSpec {
    annotations: Option<Vec<AnnotationSpec>>,
    metadata_unknown: Unknown,
    init_containers: Option<Value>,
    containers: Vec<Value>,
    volumes: Option<Value>,
    os: Option<&'static str>,
    /// The OS label's value in `spec.nodeSelector`.
    node_selector: Option<&'static str>,
    /// Required node affinity terms, each a list of OS_EXPRESSIONS.
    affinity: Option<Vec<Vec<&'static str>>>,
    /// How many bytes short of the API server's budget the annotations are.
    annotation_slack: Option<usize>,
    spec_unknown: Unknown,
    template_unknown: Unknown,
}

impl TemplateSpec {
    /// Whether the pod can only run on Windows: what the policy must skip.
    fn windows_only(&self) -> bool {
        let requires_windows = |term: &Vec<&str>| {
            term.iter()
                .any(|e| matches!(*e, "os-in-windows" | "beta-os-in-windows"))
        };
        self.os == Some("windows")
            || self.node_selector == Some("windows")
            || self
                .affinity
                .as_ref()
                .is_some_and(|terms| !terms.is_empty() && terms.iter().all(requires_windows))
    }
}

fn os_expression(name: &str) -> Value {
    let os = |key: &str, operator: &str, values: &[&str]| json!({"key": key, "operator": operator, "values": values});
    match name {
        "os-in-windows" => os("kubernetes.io/os", "In", &["windows"]),
        "beta-os-in-windows" => os("beta.kubernetes.io/os", "In", &["windows"]),
        "os-in-windows-linux" => os("kubernetes.io/os", "In", &["windows", "linux"]),
        "os-in-linux" => os("kubernetes.io/os", "In", &["linux"]),
        "os-notin-linux" => os("kubernetes.io/os", "NotIn", &["linux"]),
        _ => json!({"key": "topology.kubernetes.io/zone", "operator": "Exists"}),
    }
}

fn template() -> impl Strategy<Value = TemplateSpec> {
    (
        prop::option::of(prop::collection::vec(annotation(), 0..4)),
        unknown(),
        optional_list(container(), 2),
        prop::collection::vec(container(), 1..4),
        optional_list(volume(), 3),
        (
            prop::option::weighted(0.1, select(&["windows", "linux"][..])),
            prop::option::weighted(0.1, select(&["windows", "linux"][..])),
            prop::option::weighted(
                0.1,
                prop::collection::vec(prop::collection::vec(select(OS_EXPRESSIONS), 0..3), 1..3),
            ),
            prop::option::weighted(0.06, 0..500usize),
        ),
        unknown(),
        unknown(),
    )
        .prop_map(
            |(
                annotations,
                metadata_unknown,
                init_containers,
                containers,
                volumes,
                (os, node_selector, affinity, annotation_slack),
                spec_unknown,
                template_unknown,
            )| TemplateSpec {
                annotations,
                metadata_unknown,
                init_containers,
                containers,
                volumes: unique_by(volumes, "name"),
                os,
                node_selector,
                affinity,
                annotation_slack,
                spec_unknown,
                template_unknown,
            },
        )
}

#[derive(Debug, Clone)]
struct Case {
    kind: (&'static str, &'static str),
    operation: &'static str,
    request_namespace: &'static str,
    object_namespace: Option<&'static str>,
    settings: Value,
    template: TemplateSpec,
    object_unknown: Unknown,
    /// `kubectl debug` on a pod: its ephemeral containers, how many of
    /// them the old pod already had, and how its oldObject is spoilt.
    debug: Option<(Vec<Value>, Index, OldObject)>,
}

/// The oldObject of a debug update: as the API server sends it, or spoilt.
#[derive(Debug, Clone, Copy, PartialEq)]
enum OldObject {
    Readable,
    Absent,
    NotAnObject,
    ListNotAList,
    ItemWithoutName,
}

fn old_object() -> impl Strategy<Value = OldObject> {
    prop_oneof![
        12 => Just(OldObject::Readable),
        1 => Just(OldObject::Absent),
        1 => Just(OldObject::NotAnObject),
        1 => Just(OldObject::ListNotAList),
        1 => Just(OldObject::ItemWithoutName),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        select(KINDS),
        prop_oneof![
            27 => Just("CREATE"),
            1 => Just("UPDATE"),
            1 => Just("DELETE"),
            1 => Just("CONNECT"),
        ],
        prop_oneof![4 => select(NAMESPACES), 1 => Just("")],
        prop::option::of(select(NAMESPACES)),
        settings(),
        template(),
        unknown(),
        prop::option::weighted(
            0.4,
            (
                prop::collection::vec(container(), 1..3),
                any::<Index>(),
                old_object(),
            ),
        ),
    )
        .prop_map(
            |(
                kind,
                operation,
                request_namespace,
                object_namespace,
                settings,
                template,
                object_unknown,
                debug,
            )| Case {
                kind,
                operation,
                request_namespace,
                object_namespace,
                settings,
                template,
                object_unknown,
                debug: debug.filter(|_| kind == ("", "Pod")),
            },
        )
}

impl Case {
    fn prefix(&self) -> &str {
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
    fn annotations(&self) -> Option<Map<String, Value>> {
        let mut map: Option<Map<String, Value>> = self.template.annotations.as_ref().map(|list| {
            list.iter()
                .map(|a| (self.annotation_key(a), a.value.clone()))
                .collect()
        });
        if let Some(slack) = self.template.annotation_slack {
            let map = map.get_or_insert_with(Map::new);
            let taken = api::annotations_size(Some(map)) + FILLER_KEY.len() + slack;
            let filler = "f".repeat(ANNOTATIONS_LIMIT.saturating_sub(taken));
            map.insert(FILLER_KEY.into(), filler.into());
        }
        map
    }

    /// A workload's template carries no namespace: its object's metadata does.
    fn metadata(&self, name: &str) -> Map<String, Value> {
        let mut metadata = Map::new();
        metadata.insert("name".into(), name.into());
        if let Some(ns) = self.object_namespace {
            metadata.insert("namespace".into(), ns.into());
        }
        metadata
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
        let metadata = with_unknown(metadata, t.metadata_unknown.clone());

        let mut spec = Map::new();
        insert_opt(&mut spec, "initContainers", t.init_containers.clone());
        spec.insert("containers".into(), Value::Array(t.containers.clone()));
        insert_opt(&mut spec, "volumes", t.volumes.clone());
        insert_opt(&mut spec, "os", t.os.map(|name| json!({ "name": name })));
        insert_opt(
            &mut spec,
            "nodeSelector",
            t.node_selector
                .map(|os| json!({"kubernetes.io/os": os, "disktype": "ssd"})),
        );
        insert_opt(
            &mut spec,
            "affinity",
            t.affinity.as_ref().map(|terms| {
                let terms: Vec<Value> = terms
                    .iter()
                    .map(|term| {
                        let expressions: Vec<Value> =
                            term.iter().map(|e| os_expression(e)).collect();
                        json!({ "matchExpressions": expressions })
                    })
                    .collect();
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": terms}}})
            }),
        );
        let spec = with_unknown(spec, t.spec_unknown.clone());

        let mut template = Map::new();
        template.insert("metadata".into(), Value::Object(metadata));
        template.insert("spec".into(), Value::Object(spec));
        with_unknown(template, t.template_unknown.clone())
    }

    fn object(&self) -> Value {
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
        Value::Object(with_unknown(object, self.object_unknown.clone()))
    }

    fn request(&self) -> Value {
        let object = self.object();
        let Some((ephemeral, existing, old_object)) = &self.debug else {
            return admission(self.kind, self.operation, self.request_namespace, object);
        };
        // The pod as it was created, injected or not, gets debug containers.
        let create = admission(self.kind, "CREATE", self.request_namespace, object.clone());
        let mut old = match run(&create, self.settings.clone()) {
            Verdict::Mutate(created) => created,
            _ => object,
        };
        let mut object = old.clone();
        let existing = existing.index(ephemeral.len() + 1);
        object["spec"]["ephemeralContainers"] = Value::Array(ephemeral.clone());
        old["spec"]["ephemeralContainers"] = Value::Array(ephemeral[..existing].to_vec());
        let mut request = admission(self.kind, "UPDATE", self.request_namespace, object);
        request["subResource"] = "ephemeralcontainers".into();
        match old_object {
            OldObject::Readable => request["oldObject"] = old,
            OldObject::Absent => {}
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

    fn old_object_spoilt(&self) -> bool {
        self.debug
            .as_ref()
            .is_some_and(|(_, _, old)| *old != OldObject::Readable)
    }

    /// The namespace the policy decides on: the request's, else the object's.
    fn namespace(&self) -> &str {
        if self.request_namespace.is_empty() {
            self.object_namespace.unwrap_or("")
        } else {
            self.request_namespace
        }
    }

    fn namespace_selected(&self) -> bool {
        let globs = |key: &str| -> Vec<String> {
            self.settings
                .get(key)
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let matches = |glob: &String| match glob.strip_suffix('*') {
            Some(prefix) => self.namespace().starts_with(prefix),
            None => glob == self.namespace(),
        };
        let include = globs("includeNamespaces");
        let exclude = globs("excludeNamespaces");
        !exclude.iter().any(matches) && (include.is_empty() || include.iter().any(matches))
    }

    /// The keys under the configured prefix, which the policy reads.
    fn our_annotation_keys(&self) -> Vec<String> {
        let prefix = format!("{}/", self.prefix());
        self.annotations()
            .unwrap_or_default()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn is_mirror(&self) -> bool {
        self.annotations()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
    }
}

fn parses_as<T: DeserializeOwned>(original: &Value, result: &Value) {
    if serde_json::from_value::<T>(original.clone()).is_ok() {
        if let Err(e) = serde_json::from_value::<T>(result.clone()) {
            panic!("the result does not parse as its kind: {e}\n{result:#}");
        }
    }
}

/// The result parses as the k8s-openapi type of its kind whenever the original did.
fn parses_as_its_kind(kind: &str, original: &Value, result: &Value) {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    match kind {
        "Pod" => parses_as::<core::Pod>(original, result),
        "ReplicationController" => parses_as::<core::ReplicationController>(original, result),
        "Deployment" => parses_as::<apps::Deployment>(original, result),
        "StatefulSet" => parses_as::<apps::StatefulSet>(original, result),
        "DaemonSet" => parses_as::<apps::DaemonSet>(original, result),
        "ReplicaSet" => parses_as::<apps::ReplicaSet>(original, result),
        "Job" => parses_as::<batch::Job>(original, result),
        "CronJob" => parses_as::<batch::CronJob>(original, result),
        other => panic!("no Kubernetes type for {other}"),
    }
}

fn volume_names(object: &Value, kind: (&str, &str)) -> Vec<String> {
    let at = invariants::spec_pointer(kind.0, kind.1).expect("a handled kind");
    object
        .pointer(&format!("{at}/volumes"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A failing case is saved next to this file (tests/properties.proptest-regressions)
/// and replayed first on every later run.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let request = case.request();
    let verdict = evaluate_checked(&request, &case.settings);
    let operation_mutates = case.operation == "CREATE" || case.debug.is_some();
    if !operation_mutates || !case.namespace_selected() {
        prop_assert_eq!(&verdict, &Verdict::Accept);
        return Ok(());
    }
    if case.is_mirror() || case.template.windows_only() {
        prop_assert_eq!(&verdict, &Verdict::Accept);
        return Ok(());
    }
    match &verdict {
        Verdict::Reject(message) => {
            // The object is well formed and the settings valid: only one of
            // our annotations can be the reason, and the message names it;
            // or the debug update's oldObject cannot be read.
            let named = case
                .our_annotation_keys()
                .iter()
                .any(|key| message.contains(&format!("\"{key}\"")));
            let old_object = case.old_object_spoilt() && message.contains("oldObject");
            prop_assert!(
                named || old_object,
                "rejection names no annotation: {}",
                message
            );
        }
        Verdict::Mutate(result) | Verdict::MutateWarn(result, _) => {
            prop_assert!(!case.old_object_spoilt(), "a spoilt oldObject was read");
            parses_as_its_kind(case.kind.1, &request["object"], result);
            for name in volume_names(result, case.kind) {
                prop_assert!(api::dns_label(&name), "volume name {:?}", name);
            }
            if matches!(verdict, Verdict::MutateWarn(..)) {
                prop_assert_eq!(&case.settings["statusAnnotation"], &json!(true));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The key order check of `evaluate_checked` sees a reordered object: a
/// `Value` would not (its keys are sorted), the texts do.
#[test]
fn key_order_check_sees_keys_reordered() {
    let object = json!({"a": 1, "b": {"c": [{"d": 1, "e": 2}]}, "f": null});
    let sent = invariants::in_key_order(&object, 7);
    assert_ne!(sent, object.to_string());
    invariants::assert_keeps_key_order(&written(&sent), &written(&sent), "");
    let reordered = std::panic::catch_unwind(|| {
        invariants::assert_keeps_key_order(&written(&sent), &written(&object.to_string()), "")
    });
    assert!(reordered.is_err());
}

proptest! {
    #![proptest_config(config(768))]

    /// The main property: any generated request of any kind.
    #[test]
    fn any_request_is_answered_and_a_mutation_only_adds(case in case()) {
        check_case(&case)?;
    }
}

/// A pod in a selected namespace with no annotations and at least one
/// container that is not excluded: the policy always injects something.
fn plain_pod() -> impl Strategy<Value = (Value, Value)> {
    (
        prop::collection::vec(container(), 1..4),
        optional_list(volume(), 3),
        unknown(),
    )
        .prop_map(|(containers, volumes, unknown)| {
            let mut spec = Map::new();
            spec.insert("containers".into(), Value::Array(containers));
            insert_opt(&mut spec, "volumes", unique_by(volumes, "name"));
            let spec = with_unknown(spec, unknown);
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": spec,
            });
            let settings = json!({
                "configMap": "ca-bundle",
                "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"],
            });
            (pod, settings)
        })
}

proptest! {
    #![proptest_config(config(256))]

    /// Every container ends up with the bundle mounted at /cacerts (ours or
    /// its own mount there, however spelled; or its own device there, which
    /// wins) and both env vars set (ours or its own).
    #[test]
    fn every_container_ends_up_with_the_bundle((pod, settings) in plain_pod()) {
        let request = admission(("", "Pod"), "CREATE", "default", pod.clone());
        let result = match evaluate_checked(&request, &settings) {
            Verdict::Mutate(result) => result,
            Verdict::Reject(message) => return Err(TestCaseError::fail(message)),
            _ => pod,
        };
        let at_cacerts = |p: &Value| p.as_str().map(api::clean).as_deref() == Some("/cacerts");
        for container in result["spec"]["containers"].as_array().expect("containers") {
            let mounted = container["volumeMounts"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| at_cacerts(&m["mountPath"])));
            let device = container["volumeDevices"].as_array().is_some_and(|d| {
                d.iter().any(|d| at_cacerts(&d["devicePath"]) || d["name"] == "cainjector-ca-bundle")
            });
            prop_assert!(mounted || device, "{}", container);
            for name in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
                let set = container["env"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["name"] == name));
                prop_assert!(set, "{} missing in {}", name, container);
            }
        }
    }

    /// A pod whose annotations are just short of the API server's budget:
    /// with statusAnnotation the policy writes the status only where it fits,
    /// and says so where it does not.
    #[test]
    fn status_annotation_never_pushes_the_annotations_over_the_budget(
        (pod, _) in plain_pod(),
        slack in 0..600usize,
        prefix in select(PREFIXES),
    ) {
        let mut pod = pod;
        let filler = ANNOTATIONS_LIMIT - FILLER_KEY.len() - slack;
        pod["metadata"]["annotations"] = json!({ FILLER_KEY: "f".repeat(filler) });
        let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true, "annotationPrefix": prefix});
        let request = admission(("", "Pod"), "CREATE", "default", pod);
        let status_key = format!("{prefix}/status");
        match evaluate_checked(&request, &settings) {
            Verdict::Mutate(result) => {
                let status = result["metadata"]["annotations"][&status_key].as_str().map_or(0, str::len);
                prop_assert!(status > 0 && status + status_key.len() <= slack);
            }
            Verdict::MutateWarn(result, _) => {
                prop_assert!(result["metadata"]["annotations"].get(&status_key).is_none());
            }
            Verdict::Accept => {}
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }

    /// An annotation of ours with any string value: the policy answers, and a
    /// rejection names the annotation.
    #[test]
    fn any_annotation_value_is_answered_naming_the_annotation(
        key in select(ANNOTATION_KEYS),
        value in prop_oneof![select(ANNOTATION_VALUES).prop_map(str::to_string), "\\PC{0,24}"],
    ) {
        let key = format!("{DEFAULT_PREFIX}/{key}");
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "annotations": {&key: value}},
            "spec": {"containers": [{"name": "app", "image": "x"}]},
        });
        let request = admission(("", "Pod"), "CREATE", "default", pod);
        if let Verdict::Reject(message) = evaluate_checked(&request, &json!({"configMap": "ca-bundle"})) {
            prop_assert!(message.contains(&format!("\"{key}\"")), "{}", message);
        }
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// `action: require` accepts exactly the requests that `action: inject`
    /// leaves unchanged: when it refuses a request inject accepts, or accepts
    /// one inject would change, coverage reports would lie. A refusal names
    /// the bundle; a refusal inject also makes (a bad annotation, a malformed
    /// pod) has inject's own message.
    #[test]
    fn require_accepts_exactly_what_inject_leaves_unchanged(case in case()) {
        let request = case.request();
        let inject = run(&request, case.settings.clone());
        let mut settings = case.settings.clone();
        settings["action"] = json!("require");
        let require = run(&request, settings);
        match (&inject, &require) {
            (Verdict::Accept, Verdict::Accept) => {}
            (Verdict::Mutate(_), Verdict::Reject(message)) => {
                prop_assert!(message.contains(" lacks the trust bundle ("), "{}", message);
            }
            (Verdict::Reject(own), Verdict::Reject(message)) => prop_assert_eq!(own, message),
            (inject, require) => {
                return Err(TestCaseError::fail(format!(
                    "inject answered {inject:?}, require {require:?}"
                )));
            }
        }
    }
}
