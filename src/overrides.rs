//! Per-pod annotations merged over the settings into one plan, or a rejection
//! naming the annotation. A skipped pod is decided before anything else is
//! read, so that the policy never blocks a pod it would not touch.

use serde_json::{Map, Value};

use crate::diag::{Kind, did_you_mean};
use crate::error::{Expected, Reason, Subject, ValueError};
use crate::names;
use crate::selection::{Glob, any_matches};
use crate::settings::{Override, Settings, Source, StoreOverlap, trust_store_path};

/// The annotation the policy writes on what it injected; pods may carry it
/// (copied from a template or another pod), so it is neither unknown nor an
/// override.
pub const STATUS: &str = "status";

/// The pod's annotations refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(
        "annotation \"{prefix}/{name}\" is not an annotation of cainjector{}; the annotations \
         are: {}",
        did_you_mean(.known, .name, &format!("{prefix}/")),
        .known.join(", ")
    )]
    UnknownAnnotation {
        prefix: String,
        name: String,
        known: Vec<&'static str>,
    },
    #[error(
        "annotation \"{key}\" is not allowed: the cluster's cainjector policy lets pods use {} \
         (setting allowedOverrides)",
        if .allowed.is_empty() { "none of its annotations".to_string() } else { format!("only {}", .allowed.join(", ")) }
    )]
    AnnotationNotAllowed {
        key: String,
        allowed: Vec<&'static str>,
    },
    #[error(
        "annotations \"{first}\" and \"{second}\" are mutually exclusive: a pod takes its bundle \
         from one ConfigMap or one Secret"
    )]
    SourceAnnotations { first: String, second: String },
    #[error(transparent)]
    StoreOverlap(#[from] StoreOverlap),
}

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
}

impl Plan<'_> {
    pub fn excludes(&self, container: &str) -> bool {
        any_matches(self.exclude, container) || any_matches(&self.extra_exclude, container)
    }
}

struct Annotation<'a> {
    which: Override,
    key: &'a str,
    value: &'a str,
}

impl Annotation<'_> {
    fn invalid(&self, reason: Reason) -> ValueError {
        ValueError::invalid(
            Subject::Annotation(self.key.to_string()),
            self.value,
            reason,
        )
    }

    fn checked(&self, check: fn(&str) -> Result<(), Reason>) -> Result<String, ValueError> {
        check(self.value).map_err(|reason| self.invalid(reason))?;
        Ok(self.value.to_string())
    }

    /// A comma-separated list of globs.
    fn globs(&self) -> Result<Vec<Glob>, ValueError> {
        let glob = |p: &str| {
            Glob::parse(p).map_err(|why| {
                self.invalid(Reason::BadGlob {
                    pattern: p.to_string(),
                    why: Box::new(why),
                })
            })
        };
        let patterns = self.value.split(',').map(str::trim);
        patterns.filter(|p| !p.is_empty()).map(glob).collect()
    }

    fn boolean(&self) -> Result<bool, ValueError> {
        names::parse_bool(self.value).ok_or_else(|| self.invalid(Reason::OneOf(&["true", "false"])))
    }
}

fn our_annotation<'a>(
    settings: &Settings,
    key: &'a str,
    value: &'a Value,
) -> Result<Option<Annotation<'a>>, Error> {
    let Some(name) = key
        .strip_prefix(settings.annotation_prefix.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return Ok(None);
    };
    if name == STATUS {
        return Ok(None);
    }
    let which = Override::from_key(name).ok_or_else(|| Error::UnknownAnnotation {
        prefix: settings.annotation_prefix.clone(),
        name: name.to_string(),
        known: Override::all_keys(),
    })?;
    if !settings.allowed_overrides.allows(which) {
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
    Ok(Some(Annotation { which, key, value }))
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
    if !injects(settings, annotations)? {
        return Ok(None);
    }
    let mut planner = Planner::new(settings);
    for (key, value) in annotations {
        if let Some(a) = our_annotation(settings, key, value)? {
            planner.apply(&a, namespace)?;
        }
    }
    planner.finish()
}

/// Whether the pod is injected at all: `<prefix>/inject`, or the setting.
fn injects(settings: &Settings, annotations: &Map<String, Value>) -> Result<bool, Error> {
    let inject_key = format!("{}/{}", settings.annotation_prefix, Override::Inject.key());
    let Some((key, value)) = annotations.get_key_value(inject_key.as_str()) else {
        return Ok(settings.inject);
    };
    match our_annotation(settings, key, value)? {
        Some(a) => Ok(a.boolean()?),
        None => Ok(settings.inject),
    }
}

/// The plan as the annotations change it, one annotation at a time.
struct Planner<'s, 'a> {
    settings: &'s Settings,
    plan: Plan<'s>,
    set_env_var: bool,
    java: bool,
    ssl_cert_file: Option<String>,
    /// The annotation that chose the source, to refuse a second one.
    source_key: Option<&'a str>,
    system_store: bool,
    /// The annotations that set the mount path and turned the system trust
    /// store on, to name the one that made them overlap.
    mount_key: Option<&'a str>,
    store_key: Option<&'a str>,
    skip_namespace: bool,
}

impl<'s, 'a> Planner<'s, 'a> {
    fn new(settings: &'s Settings) -> Planner<'s, 'a> {
        Planner {
            settings,
            plan: Plan {
                source: settings.source.clone(),
                cert_file: settings.cert_file.clone(),
                mount_path: settings.mount_path.clone(),
                env_value: None,
                env_vars: &settings.env_vars,
                java_options: None,
                java_key: None,
                exclude: &settings.exclude_containers,
                extra_exclude: Vec::new(),
                init_containers: settings.inject_init_containers,
                system_store: &[],
            },
            set_env_var: settings.set_env_var,
            java: settings.java_trust_store.is_some(),
            ssl_cert_file: settings.ssl_cert_file.clone(),
            source_key: None,
            system_store: settings.system_trust_store.on,
            mount_key: None,
            store_key: None,
            skip_namespace: false,
        }
    }

    fn apply(&mut self, a: &Annotation<'a>, namespace: &str) -> Result<(), Error> {
        let plan = &mut self.plan;
        match a.which {
            Override::Inject => {}
            Override::ConfigMap | Override::Secret => self.source(a)?,
            Override::CertFile => plan.cert_file = a.checked(names::config_map_key)?,
            Override::MountPath => {
                plan.mount_path = a.checked(names::mount_path)?;
                self.mount_key = Some(a.key);
            }
            Override::SslCertFile => self.ssl_cert_file = Some(a.checked(names::absolute_path)?),
            Override::SetEnvVar => self.set_env_var = a.boolean()?,
            Override::JavaTrustStore => self.java = a.boolean()?,
            Override::SystemTrustStore => {
                self.system_store = a.boolean()?;
                self.store_key = Some(a.key);
            }
            Override::ExcludeContainers => plan.extra_exclude = a.globs()?,
            // A pod can narrow the namespaces it is injected in, never widen them.
            Override::ExcludeNamespaces => {
                self.skip_namespace |= any_matches(&a.globs()?, namespace);
            }
            Override::IncludeNamespaces => {
                let include = a.globs()?;
                self.skip_namespace |= !include.is_empty() && !any_matches(&include, namespace);
            }
        }
        Ok(())
    }

    /// `<prefix>/configMap` or `<prefix>/secret`: only one of them.
    fn source(&mut self, a: &Annotation<'a>) -> Result<(), Error> {
        if let Some(first) = self.source_key {
            return Err(Error::SourceAnnotations {
                first: first.to_string(),
                second: a.key.to_string(),
            });
        }
        self.source_key = Some(a.key);
        let name = a.checked(names::dns_subdomain)?;
        self.plan.source = if a.which == Override::ConfigMap {
            Source::ConfigMap(name)
        } else {
            Source::Secret(name)
        };
        Ok(())
    }

    /// The plan, once every annotation is read; `None` when one of them
    /// keeps the pod's namespace out.
    fn finish(mut self) -> Result<Option<Plan<'s>>, Error> {
        if self.skip_namespace {
            return Ok(None);
        }
        if self.system_store {
            self.plan.system_store = self.store_files()?;
        }
        let (settings, mut plan) = (self.settings, self.plan);
        // Settings refuse a trust store with a ClusterTrustBundle, and annotations
        // can only switch to a ConfigMap or Secret, so the store is in the source.
        if let (true, Some(store)) = (self.java, &settings.java_trust_store) {
            trust_store_path(&plan.mount_path, store).map_err(|reason| {
                let key = format!(
                    "{}/{}",
                    settings.annotation_prefix,
                    Override::MountPath.key()
                );
                ValueError::invalid(Subject::Annotation(key), &plan.mount_path, reason)
            })?;
            plan.java_options = Some(store.options(&plan.mount_path));
            plan.java_key = Some(store.key.clone());
        }
        if self.set_env_var {
            let own = || format!("{}/{}", plan.mount_path, plan.cert_file);
            plan.env_value = Some(self.ssl_cert_file.unwrap_or_else(own));
        }
        Ok(Some(plan))
    }

    /// The settings' system trust store files, when none overlaps the mount
    /// path. The settings alone were checked, so an overlap is an
    /// annotation's doing: the mount path's, or the one that turned them on.
    fn store_files(&self) -> Result<&'s [String], Error> {
        let (settings, mount_path) = (self.settings, &self.plan.mount_path);
        let files = &settings.system_trust_store.files;
        let Some(file) = files.iter().find(|f| names::overlap(f, mount_path)) else {
            return Ok(files);
        };
        let own = || {
            format!(
                "{}/{}",
                settings.annotation_prefix,
                Override::SystemTrustStore.key()
            )
        };
        let key = self
            .mount_key
            .or(self.store_key)
            .map_or_else(own, str::to_string);
        Err(Error::from(StoreOverlap {
            subject: Subject::Annotation(key),
            file: file.clone(),
            mount_path: mount_path.clone(),
        }))
    }
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

    #[test]
    fn no_annotations_use_the_settings() {
        let s = settings(json!({"configMap": "ca-bundle"}));
        let p = injected(&s, json!({}));
        assert_eq!(p.source, Source::ConfigMap("ca-bundle".into()));
        assert_eq!(p.mount_path, "/cacerts");
        assert_eq!(p.cert_file, "ca.crt");
        assert_eq!(p.env_value.as_deref(), Some("/cacerts/ca.crt"));
        assert!(p.init_containers);
    }

    #[test]
    fn inject_false_annotation_skips_the_pod() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/inject": "false"})),
            Ok(None)
        );
    }

    #[test]
    fn opt_in_mode_skips_pods_without_inject_true() {
        let s = settings(json!({"configMap": "a", "inject": false}));
        assert_eq!(decide(&s, json!({})), Ok(None));
        assert!(matches!(
            decide(&s, json!({"cainjector.lestak.sh/inject": "true"})),
            Ok(Some(_))
        ));
    }

    #[test]
    fn skipped_pod_is_not_checked_further() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(
                &s,
                json!({"cainjector.lestak.sh/inject": "false", "cainjector.lestak.sh/mountPath": "rel"})
            ),
            Ok(None)
        );
    }

    #[test]
    fn inject_annotation_accepts_go_booleans_only() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/inject": "False"})),
            Ok(None)
        );
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/inject": "maybe"})),
            Err("annotation \"cainjector.lestak.sh/inject\": \"maybe\" must be \"true\" or \"false\"".into())
        );
    }

    #[test]
    fn every_annotation_overrides_its_setting() {
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
    }

    #[test]
    fn ssl_cert_file_annotation_sets_the_env_value() {
        let s = settings(json!({"configMap": "a"}));
        let p = injected(&s, json!({"cainjector.lestak.sh/sslCertFile": "/x/y.pem"}));
        assert_eq!(p.env_value.as_deref(), Some("/x/y.pem"));
    }

    #[test]
    fn set_env_var_false_annotation_sets_no_env() {
        let s = settings(json!({"configMap": "a"}));
        let p = injected(&s, json!({"cainjector.lestak.sh/setEnvVar": "false"}));
        assert_eq!(p.env_value, None);
    }

    #[test]
    fn exclude_containers_annotation_adds_to_the_settings_list() {
        let s = settings(json!({"configMap": "a", "excludeContainers": ["istio-proxy"]}));
        let p = injected(
            &s,
            json!({"cainjector.lestak.sh/excludeContainers": "debug"}),
        );
        assert!(p.excludes("istio-proxy"));
        assert!(p.excludes("debug"));
    }

    #[test]
    fn both_source_annotations_are_refused() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/configMap": "x", "cainjector.lestak.sh/secret": "y"})),
            Err("annotations \"cainjector.lestak.sh/configMap\" and \"cainjector.lestak.sh/secret\" \
                 are mutually exclusive: a pod takes its bundle from one ConfigMap or one Secret"
                .into())
        );
    }

    #[test]
    fn invalid_annotation_values_name_the_annotation() {
        let s = settings(json!({"configMap": "a"}));
        let cases = [
            (
                "configMap",
                "Bad_Name",
                "\"Bad_Name\" must be a valid Kubernetes object name: lowercase letters, digits, \
                 '-' and '.', starting and ending with a letter or digit (e.g. \"ca-bundle\" or \
                 \"my-org.com\")",
            ),
            (
                "mountPath",
                "certs",
                "\"certs\" must be an absolute path (starting with '/')",
            ),
            (
                "mountPath",
                "/proc/x",
                "\"/proc/x\" must not be at or under /proc, which the container needs; use a \
                 directory of its own such as \"/cacerts\"",
            ),
            (
                "certFile",
                "../x",
                "\"../x\" must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \
                 \"ca.crt\")",
            ),
            (
                "setEnvVar",
                "maybe",
                "\"maybe\" must be \"true\" or \"false\"",
            ),
            (
                "sslCertFile",
                "x.pem",
                "\"x.pem\" must be an absolute path (starting with '/')",
            ),
            (
                "excludeContainers",
                "a,[",
                "\"a,[\" has \"[\", which is not a valid glob: '[' opens a character class that \
                 is never closed with ']'",
            ),
        ];
        for (key, value, problem) in cases {
            let key = format!("cainjector.lestak.sh/{key}");
            assert_eq!(
                decide(&s, json!({ key.clone(): value })),
                Err(format!("annotation \"{key}\": {problem}")),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn unknown_annotation_under_prefix_is_refused_with_a_hint() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/mountpath": "/x"})).unwrap_err(),
            format!(
                "annotation \"cainjector.lestak.sh/mountpath\" is not an annotation of cainjector \
                 (did you mean \"cainjector.lestak.sh/mountPath\"?); the annotations are: {}",
                Override::all_keys().join(", ")
            )
        );
    }

    #[test]
    fn disallowed_override_is_rejected_naming_it() {
        let s = settings(json!({"configMap": "a", "allowedOverrides": ["inject"]}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/mountPath": "/x"})).unwrap_err(),
            "annotation \"cainjector.lestak.sh/mountPath\" is not allowed: the cluster's cainjector \
             policy lets pods use only inject (setting allowedOverrides)"
        );
        let locked = settings(json!({"configMap": "a", "allowedOverrides": []}));
        assert_eq!(
            decide(&locked, json!({"cainjector.lestak.sh/inject": "false"})).unwrap_err(),
            "annotation \"cainjector.lestak.sh/inject\" is not allowed: the cluster's cainjector \
             policy lets pods use none of its annotations (setting allowedOverrides)"
        );
    }

    #[test]
    fn annotation_prefix_is_configurable() {
        let s = settings(json!({"configMap": "a", "annotationPrefix": "trust.example.com"}));
        assert_eq!(
            decide(&s, json!({"trust.example.com/inject": "false"})),
            Ok(None)
        );
        // The default prefix means nothing under another prefix.
        assert!(matches!(
            decide(&s, json!({"cainjector.lestak.sh/inject": "false"})),
            Ok(Some(_))
        ));
    }

    #[test]
    fn other_annotations_are_ignored() {
        let s = settings(json!({"configMap": "a"}));
        assert!(matches!(
            decide(
                &s,
                json!({"example.com/x": 1, "cainjector.lestak.sh.other/y": "z"})
            ),
            Ok(Some(_))
        ));
    }

    #[test]
    fn system_trust_store_annotation_turns_the_settings_files_on_or_off() {
        const KEY: &str = "cainjector.lestak.sh/systemTrustStore";
        let standard = crate::settings::STANDARD_TRUST_STORE.map(String::from);
        let off = settings(json!({"configMap": "a"}));
        assert!(injected(&off, json!({})).system_store.is_empty());
        assert_eq!(
            injected(&off, json!({ KEY: "true" })).system_store,
            standard
        );
        let own = settings(json!({"configMap": "a", "systemTrustStore": ["/opt/ca.pem"]}));
        assert_eq!(injected(&own, json!({})).system_store, ["/opt/ca.pem"]);
        assert_eq!(
            injected(&own, json!({ KEY: "true" })).system_store,
            ["/opt/ca.pem"]
        );
        assert!(
            injected(&own, json!({ KEY: "false" }))
                .system_store
                .is_empty()
        );
        assert_eq!(
            decide(&own, json!({ KEY: "yes" })).unwrap_err(),
            "annotation \"cainjector.lestak.sh/systemTrustStore\": \"yes\" must be \"true\" or \
             \"false\""
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
                "annotation \"{key}\": the system trust store file {file} and the mount path \
                 {mount_path} overlap (one is at or under the other), and a container cannot \
                 mount the bundle at both: use a mountPath apart from the system trust store \
                 files, or leave {file} out of systemTrustStore's list"
            )
        };
        let on = settings(json!({"configMap": "a", "systemTrustStore": true}));
        assert_eq!(
            decide(&on, json!({"cainjector.lestak.sh/mountPath": "/etc/pki"})).unwrap_err(),
            overlap(
                "cainjector.lestak.sh/mountPath",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/pki"
            )
        );
        let off = settings(json!({"configMap": "a", "mountPath": "/etc/ssl"}));
        assert_eq!(
            decide(
                &off,
                json!({"cainjector.lestak.sh/systemTrustStore": "true"})
            )
            .unwrap_err(),
            overlap(
                "cainjector.lestak.sh/systemTrustStore",
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
    fn non_string_annotation_value_is_refused() {
        let s = settings(json!({"configMap": "a"}));
        assert_eq!(
            decide(&s, json!({"cainjector.lestak.sh/certFile": 5})).unwrap_err(),
            "annotation \"cainjector.lestak.sh/certFile\" must be a string, found a number"
        );
    }
}
