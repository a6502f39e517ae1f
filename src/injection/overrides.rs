//! Per-pod annotations over a copy of the settings' values, and the one
//! derivation of the plan from those values; or a rejection naming the
//! annotation. A skipped pod is decided before anything else is read, so that
//! the policy never blocks a pod it would not touch.

use serde_json::{Map, Value};

use crate::diag::Kind;
use crate::error::{Expected, Subject, ValueError};
pub use crate::settings::annotation::Error;
use crate::settings::annotation::{Annotation, CacertsOverlap, StoreOverlap};
use crate::settings::names;
use crate::settings::selection::{Glob, any_matches};
use crate::settings::{
    MOUNT_PATH, PodValues, SYSTEM_TRUST_STORE, Settings, Source, annotation_keys, overridable,
};

/// The annotation the policy writes on what it injected; pods may carry it
/// (copied from a template or another pod), so it is neither unknown nor an
/// override.
pub const STATUS: &str = "status";

/// What to inject into one pod (or pod template).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<'s> {
    pub source: Source,
    pub cert_file: String,
    pub mount_path: String,
    /// The env vars' value; `None` when `setEnvVar` is false.
    pub env_value: Option<String>,
    pub env_vars: &'s [String],
    /// The `-Djavax.net.ssl.trustStore...` options for JAVA_TOOL_OPTIONS.
    pub java_options: Option<String>,
    /// The key of the Java trust store in the source, when it is injected.
    pub java_key: Option<String>,
    exclude: &'s [Glob],
    extra_exclude: Vec<Glob>,
    pub init_containers: bool,
    /// The system trust store files the bundle is put over (none when off).
    pub system_store: &'s [String],
    /// The `envValues` variables; none when `setEnvVar` is false.
    pub env_values: &'s [(String, String)],
    /// The JDK default trust store files the Java store is put over
    /// (`javaTrustStore.cacerts`; none when off or in the options mode).
    pub cacerts: &'s [String],
}

impl Plan<'_> {
    pub fn excludes(&self, container: &str) -> bool {
        any_matches(self.exclude, container) || any_matches(&self.extra_exclude, container)
    }
}

/// Apply `key` to the pod's values when it is one of our annotations that
/// the settings let pods use; another annotation is left alone.
fn apply<'a>(
    settings: &Settings,
    pod: &mut PodValues<'a>,
    key: &'a str,
    value: &'a Value,
) -> Result<(), Error> {
    let Some(name) = key
        .strip_prefix(settings.annotation_prefix.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return Ok(());
    };
    if name == STATUS {
        return Ok(());
    }
    let (_, rule) = overridable(name).ok_or_else(|| Error::UnknownAnnotation {
        prefix: settings.annotation_prefix.clone(),
        name: name.to_string(),
        known: annotation_keys(),
    })?;
    if !settings.allowed_overrides.allows(rule) {
        return Err(Error::AnnotationNotAllowed {
            key: key.to_string(),
            allowed: settings.allowed_overrides.keys(),
        });
    }
    let value = value.as_str().ok_or_else(|| {
        ValueError::wrong_kind(
            Subject::Annotation(key.to_string()),
            Expected::String,
            Kind::of(value),
        )
    })?;
    (rule.apply)(pod, &Annotation { key, value })
}

/// Decide whether and how to inject, from the settings and the pod's
/// (or template's) annotations; `None` when the pod is skipped.
pub fn plan<'s>(
    settings: &'s Settings,
    annotations: Option<&Map<String, Value>>,
    namespace: &str,
) -> Result<Option<Plan<'s>>, Error> {
    let empty = Map::new();
    let annotations = annotations.unwrap_or(&empty);
    let mut pod = PodValues::new(settings, namespace);
    // `<prefix>/inject` first: a skipped pod's other annotations are not read.
    let inject_key = format!("{}/inject", settings.annotation_prefix);
    if let Some((key, value)) = annotations.get_key_value(inject_key.as_str()) {
        apply(settings, &mut pod, key, value)?;
    }
    if !pod.values.inject {
        return Ok(None);
    }
    for (key, value) in annotations {
        apply(settings, &mut pod, key, value)?;
    }
    derive(settings, pod)
}

/// The plan from one pod's values; `None` when an annotation keeps the
/// pod's namespace out.
fn derive<'s>(settings: &'s Settings, pod: PodValues<'_>) -> Result<Option<Plan<'s>>, Error> {
    if pod.namespace_out {
        return Ok(None);
    }
    let system_store = match pod.values.system_trust_store {
        true => store_files(settings, &pod)?,
        false => &[],
    };
    let values = pod.values;
    let mut plan = Plan {
        source: values.source,
        cert_file: values.cert_file,
        mount_path: values.mount_path,
        env_value: None,
        env_vars: &settings.env_vars,
        java_options: None,
        java_key: None,
        exclude: &settings.exclude_containers,
        extra_exclude: pod.exclude_containers,
        init_containers: settings.inject_init_containers,
        system_store,
        env_values: &[],
        cacerts: &[],
    };
    // Settings refuse a trust store with a ClusterTrustBundle, and annotations
    // can only switch to a ConfigMap or Secret, so the store is in the source.
    if let (true, Some(store)) = (values.java_trust_store, &settings.java_trust_store) {
        if settings.java_cacerts.is_empty() {
            names::trust_store_path(&plan.mount_path, &store.key).map_err(|reason| {
                let key = format!("{}/{MOUNT_PATH}", settings.annotation_prefix);
                ValueError::invalid(Subject::Annotation(key), &plan.mount_path, reason)
            })?;
            plan.java_options = Some(store.options(&plan.mount_path));
        } else {
            plan.cacerts = cacerts_files(settings, pod.mount_key, &plan.mount_path)?;
        }
        plan.java_key = Some(store.key.clone());
    }
    if values.set_env_var {
        plan.env_values = &settings.env_values;
        let own = || format!("{}/{}", plan.mount_path, plan.cert_file);
        plan.env_value = Some(values.ssl_cert_file.unwrap_or_else(own));
    }
    Ok(Some(plan))
}

/// The settings' JDK trust store files, when none overlaps the mount path
/// that the pod's annotation `mount_key` chose (the settings' own was checked).
fn cacerts_files<'s>(
    settings: &'s Settings,
    mount_key: Option<&str>,
    mount_path: &str,
) -> Result<&'s [String], Error> {
    let files = &settings.java_cacerts;
    let Some(key) = mount_key else {
        return Ok(files);
    };
    let Some(file) = files.iter().find(|f| names::overlap(f, mount_path)) else {
        return Ok(files);
    };
    Err(Error::from(CacertsOverlap {
        subject: Subject::Annotation(key.to_string()),
        file: file.clone(),
        other: format!("the mount path {mount_path}"),
    }))
}

/// The settings' system trust store files, when none overlaps the mount
/// path. The settings alone were checked, so an overlap is an annotation's
/// doing: the mount path's, or the one that turned them on.
fn store_files<'s>(settings: &'s Settings, pod: &PodValues<'_>) -> Result<&'s [String], Error> {
    let (files, mount_path) = (&settings.system_trust_store, &pod.values.mount_path);
    let Some(file) = files.iter().find(|f| names::overlap(f, mount_path)) else {
        return Ok(files);
    };
    let own = || format!("{}/{SYSTEM_TRUST_STORE}", settings.annotation_prefix);
    let key = pod
        .mount_key
        .or(pod.store_key)
        .map_or_else(own, str::to_string);
    Err(Error::from(StoreOverlap {
        subject: Subject::Annotation(key),
        file: file.clone(),
        mount_path: mount_path.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Settings {
        Settings::from_json(&v).unwrap()
    }

    fn decide(s: &Settings, annotations: Value) -> Result<Option<Plan<'_>>, String> {
        plan(s, annotations.as_object(), "default").map_err(|e| e.to_string())
    }

    fn injected<'s>(s: &'s Settings, annotations: Value) -> Plan<'s> {
        decide(s, annotations).unwrap().expect("expected injection")
    }

    /// What a value that is not one of Go's booleans is refused with.
    const BOOLEAN: &str = "must be \"true\" or \"false\"";

    /// The pod's annotations: `key`, under the default prefix, set to `value`.
    fn one(key: &str, value: impl Into<Value>) -> Value {
        json!({ format!("cainjector.lestak.sh/{key}"): value.into() })
    }

    /// Every annotation overrides its setting, and excludeContainers adds to
    /// the settings' list.
    #[test]
    fn annotations_override_the_settings() {
        let s = settings(json!({"configMap": "a"}));
        let p = injected(
            &s,
            json!({
                "cainjector.lestak.sh/secret": "other",
                "cainjector.lestak.sh/certFile": "bundle.pem",
                "cainjector.lestak.sh/mountPath": "/etc/ssl/custom",
                "cainjector.lestak.sh/excludeContainers": "sidecar, log-*",
            }),
        );
        assert_eq!(p.source, Source::Secret("other".into()));
        assert_eq!(p.cert_file, "bundle.pem");
        assert_eq!(p.mount_path, "/etc/ssl/custom");
        assert_eq!(p.env_value.as_deref(), Some("/etc/ssl/custom/bundle.pem"));
        assert!(p.excludes("sidecar"));
        assert!(p.excludes("log-shipper"));
        assert!(!p.excludes("app"));
        let s = settings(json!({"configMap": "a", "excludeContainers": ["istio-proxy"]}));
        let p = injected(&s, one("excludeContainers", "debug"));
        assert!(p.excludes("istio-proxy"));
        assert!(p.excludes("debug"));
    }

    /// Whether the pod is injected: the `inject` annotation under the
    /// settings' prefix, Go's booleans only (other values are refused, see
    /// `invalid_annotation_values_name_the_annotation`), read before the others.
    #[test]
    fn inject_annotation_decides_whether_the_pod_is_injected() {
        const INJECT: &str = "cainjector.lestak.sh/inject";
        const MOUNT: &str = "cainjector.lestak.sh/mountPath";
        let default = json!({"configMap": "a"});
        let prefixed = json!({"configMap": "a", "annotationPrefix": "trust.example.com"});
        let cases = [
            (&default, json!({ INJECT: "False" }), false),
            // A skipped pod is not checked further.
            (&default, json!({ INJECT: "false", MOUNT: "rel" }), false),
            // The default prefix means nothing under another prefix.
            (&prefixed, json!({ INJECT: "false" }), true),
            // Other annotations are ignored.
            (
                &default,
                json!({"example.com/x": 1, "cainjector.lestak.sh.other/y": "z"}),
                true,
            ),
        ];
        for (s, annotations, expected) in cases {
            let injected = decide(&settings(s.clone()), annotations.clone()).map(|p| p.is_some());
            assert_eq!(injected, Ok(expected), "{s} {annotations}");
        }
    }

    /// A value that is not valid, or not a string, is refused naming the
    /// annotation.
    #[test]
    fn invalid_annotation_values_name_the_annotation() {
        const ABSOLUTE: &str = "must be an absolute path (starting with '/')";
        let s = settings(json!({"configMap": "a"}));
        let cases = [
            ("inject", "maybe", BOOLEAN),
            (
                "configMap",
                "Bad_Name",
                "must be a valid Kubernetes object name: lowercase letters, digits, '-' and '.', \
                 starting and ending with a letter or digit (e.g. \"ca-bundle\" or \"my-org.com\")",
            ),
            (
                "mountPath",
                "/proc/x",
                "must not be at or under /proc, which the container needs; use a directory of its \
                 own such as \"/cacerts\"",
            ),
            (
                "certFile",
                "../x",
                "must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \
                 \"ca.crt\")",
            ),
            ("sslCertFile", "x.pem", ABSOLUTE),
            (
                "excludeContainers",
                "a,[",
                "has \"[\", which is not a valid glob: '[' opens a character class that is never \
                 closed with ']'",
            ),
        ];
        for (key, value, problem) in cases {
            assert_eq!(
                decide(&s, one(key, value)).unwrap_err(),
                format!("annotation \"cainjector.lestak.sh/{key}\": \"{value}\" {problem}"),
                "{key}={value}"
            );
        }
        assert_eq!(
            decide(&s, one("certFile", 5)).unwrap_err(),
            "annotation \"cainjector.lestak.sh/certFile\" must be a string, found a number"
        );
    }

    #[test]
    fn both_source_annotations_are_refused() {
        let s = settings(json!({"configMap": "a"}));
        let both =
            json!({"cainjector.lestak.sh/configMap": "x", "cainjector.lestak.sh/secret": "y"});
        assert_eq!(
            decide(&s, both).unwrap_err(),
            "annotations \"cainjector.lestak.sh/configMap\" and \"cainjector.lestak.sh/secret\" \
             are mutually exclusive: a pod takes its bundle from one ConfigMap or one Secret"
        );
    }

    #[test]
    fn unknown_annotation_under_prefix_is_refused_with_a_hint() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, one("mountpath", "/x")).unwrap_err(),
            format!(
                "annotation \"cainjector.lestak.sh/mountpath\" is not an annotation of cainjector \
                 (did you mean \"cainjector.lestak.sh/mountPath\"?); the annotations are: {}",
                annotation_keys().join(", ")
            )
        );
    }

    #[test]
    fn disallowed_override_is_rejected_naming_it() {
        let s = settings(json!({"configMap": "a", "allowedOverrides": ["inject"]}));
        assert_eq!(
            decide(&s, one("mountPath", "/x")).unwrap_err(),
            "annotation \"cainjector.lestak.sh/mountPath\" is not allowed: the cluster's cainjector \
             policy lets pods use only inject (setting allowedOverrides)"
        );
        let locked = settings(json!({"configMap": "a", "allowedOverrides": []}));
        assert_eq!(
            decide(&locked, one("inject", "false")).unwrap_err(),
            "annotation \"cainjector.lestak.sh/inject\" is not allowed: the cluster's cainjector \
             policy lets pods use none of its annotations (setting allowedOverrides)"
        );
    }

    #[test]
    fn system_trust_store_annotation_turns_the_settings_files_on_or_off() {
        const KEY: &str = "cainjector.lestak.sh/systemTrustStore";
        fn store(s: &Settings, annotations: Value) -> &[String] {
            injected(s, annotations).system_store
        }
        let own = settings(json!({"configMap": "a", "systemTrustStore": ["/opt/ca.pem"]}));
        assert_eq!(store(&own, json!({})), ["/opt/ca.pem"]);
        assert!(store(&own, json!({ KEY: "false" })).is_empty());
        assert_eq!(
            decide(&own, json!({ KEY: "yes" })).unwrap_err(),
            format!("annotation \"{KEY}\": \"yes\" {BOOLEAN}")
        );
        let locked = settings(json!({"configMap": "a", "allowedOverrides": ["inject"]}));
        assert_eq!(
            decide(&locked, json!({ KEY: "true" })).unwrap_err(),
            "annotation \"cainjector.lestak.sh/systemTrustStore\" is not allowed: the cluster's \
             cainjector policy lets pods use only inject (setting allowedOverrides)"
        );
    }

    #[test]
    fn annotation_that_makes_the_files_overlap_the_mount_path_is_named() {
        let overlap = |key: &str, file: &str, mount_path: &str| {
            format!(
                "annotation \"cainjector.lestak.sh/{key}\": the system trust store file {file} and \
                 the mount path {mount_path} overlap (one is at or under the other), and a \
                 container cannot mount the bundle at both: use a mountPath apart from the system \
                 trust store files, or leave {file} out of systemTrustStore's list"
            )
        };
        let on = settings(json!({"configMap": "a", "systemTrustStore": true}));
        assert_eq!(
            decide(&on, one("mountPath", "/etc/pki")).unwrap_err(),
            overlap("mountPath", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki")
        );
        let off = settings(json!({"configMap": "a", "mountPath": "/etc/ssl"}));
        assert_eq!(
            decide(&off, one("systemTrustStore", "true")).unwrap_err(),
            overlap(
                "systemTrustStore",
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/ssl"
            )
        );
        // Off for this pod, the files are not mounted, so nothing overlaps.
        let p = injected(
            &on,
            json!({"cainjector.lestak.sh/mountPath": "/etc/pki",
                   "cainjector.lestak.sh/systemTrustStore": "false"}),
        );
        assert!(p.system_store.is_empty());
    }

    #[test]
    fn java_cacerts_mode_mounts_the_store_without_java_tool_options() {
        let s = settings(json!({"configMap": "a",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": ["/opt/j/cacerts"]}}));
        let p = injected(&s, json!({}));
        assert_eq!(p.cacerts, ["/opt/j/cacerts"]);
        assert_eq!(p.java_key.as_deref(), Some("truststore.p12"));
        assert_eq!(p.java_options, None);
        let off = injected(&s, one("javaTrustStore", "false"));
        assert!(off.cacerts.is_empty());
        assert_eq!(off.java_key, None);
        assert_eq!(
            decide(&s, one("mountPath", "/opt/j")).unwrap_err(),
            "annotation \"cainjector.lestak.sh/mountPath\": the JDK trust store file \
             /opt/j/cacerts and the mount path /opt/j overlap (one is at or under the other), \
             and a container cannot mount both: keep javaTrustStore.cacerts apart from the \
             mount path and the system trust store files"
        );
    }

    #[test]
    fn env_annotations_set_the_env_value_and_values() {
        let s = settings(json!({"configMap": "a", "envValues": {"UV_NATIVE_TLS": "1"}}));
        let pair = ("UV_NATIVE_TLS".to_string(), "1".to_string());
        assert_eq!(injected(&s, json!({})).env_values, [pair]);
        let p = injected(&s, one("sslCertFile", "/x/y.pem"));
        assert_eq!(p.env_value.as_deref(), Some("/x/y.pem"));
        let off = injected(&s, one("setEnvVar", "false"));
        assert_eq!(off.env_value, None);
        assert!(off.env_values.is_empty());
    }
}
