//! The policy settings: one table of keys (`KEYS`), each declared once with
//! its rule as a setting and, when pods may override it, its rule as a pod's
//! annotation; the settings read by that table, and each pod's copy of the
//! values its annotations may change.

pub(crate) mod annotation;
pub mod names;
mod reader;
pub(crate) mod selection;
pub(crate) mod signer;
pub(crate) mod source;
mod trust_bundle;

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::diag::{Kind, did_you_mean};
use crate::error::{Expected, Reason, Subject, ValueError};
use annotation::{Annotation, CacertsOverlap, StoreOverlap};
use reader::{Reader, invalid, strings, wrong};
use selection::{Glob, any_matches};
pub use source::Source;
use trust_bundle::parse_trust_bundle;

pub const DEFAULT_CERT_FILE: &str = "ca.crt";
pub const DEFAULT_MOUNT_PATH: &str = "/cacerts";
pub const DEFAULT_ENV_VAR: &str = "SSL_CERT_FILE";
pub const DEFAULT_ANNOTATION_PREFIX: &str = "cainjector.lestak.sh";
pub const DEFAULT_TRUST_STORE_TYPE: &str = "PKCS12";
/// The conventional trust store password, trust-manager's default for JKS.
pub const DEFAULT_TRUST_STORE_PASSWORD: &str = "changeit";
pub const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";
/// The files images read their trust store from without any variable
/// (docs/settings.md says which distributions read each).
pub const STANDARD_TRUST_STORE: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];
pub const MOUNT_PATH: &str = "mountPath";
pub const SYSTEM_TRUST_STORE: &str = "systemTrustStore";
pub const ENV_VALUES: &str = "envValues";
pub const JAVA_CACERTS: &str = "javaTrustStore.cacerts";
/// The JDK default trust stores (Debian, Ubuntu, distroless and Wolfi; RHEL
/// and UBI; Temurin images), which the JDK reads without a password.
pub const STANDARD_JAVA_CACERTS: [&str; 3] = [
    "/etc/ssl/certs/java/cacerts",
    "/etc/pki/ca-trust/extracted/java/cacerts",
    "/opt/java/openjdk/lib/security/cacerts",
];

/// One settings key: its name, its rule as a setting (read by that name and
/// checked into the settings that the keys before it filled) and, when pods
/// may override it, its rule as the annotation `<prefix>/<name>`. The table's
/// order is the order keys are read in and listed in the unknown-key hint.
pub struct Key {
    pub name: &'static str,
    read: fn(&Reader<'_>, &'static str, &mut Draft) -> Result<(), Error>,
    pub pod: Option<Pod>,
}

/// How a pod's annotation overrides a key: its place in the list of
/// annotations that messages give, and its rule over the pod's values.
pub struct Pod {
    pub place: u8,
    pub apply: for<'a> fn(&mut PodValues<'a>, &Annotation<'a>) -> Result<(), annotation::Error>,
}

const fn pod(
    place: u8,
    apply: for<'a> fn(&mut PodValues<'a>, &Annotation<'a>) -> Result<(), annotation::Error>,
) -> Option<Pod> {
    Some(Pod { place, apply })
}

/// `*place = value`, the value read or checked (a setting's or an annotation's).
fn set<T, E, F: From<E>>(place: &mut T, value: Result<T, E>) -> Result<(), F> {
    *place = value?;
    Ok(())
}

/// `set`, where an absent setting keeps the default.
fn set_given<T, E, F: From<E>>(place: &mut T, value: Result<Option<T>, E>) -> Result<(), F> {
    if let Some(value) = value? {
        *place = value;
    }
    Ok(())
}

pub const KEYS: &[Key] = &[
    Key {
        name: "configMap",
        read: |r, k, d| d.named_source(r, k, Source::ConfigMap),
        pod: pod(1, |p, a| p.source(a, Source::ConfigMap)),
    },
    Key {
        name: "secret",
        read: |r, k, d| d.named_source(r, k, Source::Secret),
        pod: pod(2, |p, a| p.source(a, Source::Secret)),
    },
    Key {
        name: "certFile",
        read: |r, k, d| {
            let cert_file = r.checked_string(k, names::config_map_key);
            set_given(&mut d.settings.values.cert_file, cert_file)
        },
        pod: pod(3, |p, a| {
            set(&mut p.values.cert_file, a.checked(names::config_map_key))
        }),
    },
    Key {
        name: MOUNT_PATH,
        read: |r, k, d| {
            let mount_path = r.checked_string(k, names::mount_path);
            set_given(&mut d.settings.values.mount_path, mount_path)
        },
        pod: pod(4, |p, a| {
            p.mount_key = Some(a.key);
            set(&mut p.values.mount_path, a.checked(names::mount_path))
        }),
    },
    Key {
        name: "setEnvVar",
        read: |r, k, d| set(&mut d.settings.values.set_env_var, r.boolean(k, true)),
        pod: pod(6, |p, a| set(&mut p.values.set_env_var, a.boolean())),
    },
    Key {
        name: "sslCertFile",
        read: |r, k, d| {
            let ssl_cert_file = r.checked_string(k, names::absolute_path);
            set(&mut d.settings.values.ssl_cert_file, ssl_cert_file)
        },
        pod: pod(5, |p, a| {
            let ssl_cert_file = a.checked(names::absolute_path).map(Some);
            set(&mut p.values.ssl_cert_file, ssl_cert_file)
        }),
    },
    Key {
        name: "envVars",
        read: |r, k, d| {
            let given = r.get(k).map(|_| env_var_list(k, &r.list(k)?));
            set_given(&mut d.settings.env_vars, given.transpose())
        },
        pod: None,
    },
    Key {
        name: "excludeContainers",
        read: |r, k, d| set(&mut d.settings.exclude_containers, r.globs(k)),
        pod: pod(7, |p, a| set(&mut p.exclude_containers, a.globs())),
    },
    // A pod can narrow the namespaces it is injected in, never widen them.
    Key {
        name: "includeNamespaces",
        read: |r, k, d| set(&mut d.settings.include_namespaces, r.globs(k)),
        pod: pod(9, |p, a| {
            let include = a.globs()?;
            p.namespace_out |= !include.is_empty() && !any_matches(&include, p.namespace);
            Ok(())
        }),
    },
    Key {
        name: "excludeNamespaces",
        read: |r, k, d| set(&mut d.settings.exclude_namespaces, r.globs(k)),
        pod: pod(8, |p, a| {
            p.namespace_out |= any_matches(&a.globs()?, p.namespace);
            Ok(())
        }),
    },
    Key {
        name: "inject",
        read: |r, k, d| set(&mut d.settings.values.inject, r.boolean(k, true)),
        pod: pod(0, |p, a| set(&mut p.values.inject, a.boolean())),
    },
    Key {
        name: "annotationPrefix",
        read: |r, k, d| {
            let prefix = r.checked_string(k, names::dns_subdomain);
            set_given(&mut d.settings.annotation_prefix, prefix)
        },
        pod: None,
    },
    Key {
        name: "allowedOverrides",
        read: allowed_overrides,
        pod: None,
    },
    Key {
        name: "injectInitContainers",
        read: |r, k, d| set(&mut d.settings.inject_init_containers, r.boolean(k, true)),
        pod: None,
    },
    Key {
        name: "clusterTrustBundle",
        read: cluster_trust_bundle,
        pod: None,
    },
    Key {
        name: "javaTrustStore",
        read: java_trust_store,
        pod: pod(10, |p, a| set(&mut p.values.java_trust_store, a.boolean())),
    },
    Key {
        name: "sourceCheck",
        read: |r, k, d| set(&mut d.settings.source_check, source_check(r, k)),
        pod: None,
    },
    Key {
        name: "statusAnnotation",
        read: |r, k, d| set(&mut d.settings.status_annotation, r.boolean(k, false)),
        pod: None,
    },
    Key {
        name: "action",
        read: |r, k, d| {
            let actions = [Action::Inject, Action::Require];
            set(
                &mut d.settings.action,
                choice(r, k, &["inject", "require"], actions),
            )
        },
        pod: None,
    },
    Key {
        name: SYSTEM_TRUST_STORE,
        read: |r, k, d| {
            system_trust_store(r, k, d)?;
            cacerts_apart_from_store(r, &d.settings)
        },
        pod: pod(11, |p, a| {
            p.store_key = Some(a.key);
            set(&mut p.values.system_trust_store, a.boolean())
        }),
    },
    Key {
        name: ENV_VALUES,
        read: |r, k, d| {
            let values = env_values(r, k, &d.settings);
            set(&mut d.settings.env_values, values)
        },
        pod: None,
    },
];

/// The key of that name, with its annotation's rule when pods may use it.
pub fn overridable(name: &str) -> Option<(&'static Key, &'static Pod)> {
    let key = KEYS.iter().find(|k| k.name == name)?;
    Some((key, key.pod.as_ref()?))
}

/// The annotations' names, in their place in messages.
pub fn annotation_keys() -> Vec<&'static str> {
    Overrides::all().keys()
}

/// Settings refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    TrustBundle(#[from] trust_bundle::Error),
    /// serde_json's own message, for settings that are not JSON.
    #[error("{0}")]
    Json(String),
    #[error("settings must be an object of keys and values, found {0}")]
    NotObject(Kind),
    #[error(
        "setting \"{key}\" is not a known setting{}; the settings are: {}",
        did_you_mean(.known, .key, ""),
        .known.join(", ")
    )]
    UnknownSetting {
        key: String,
        known: Vec<&'static str>,
    },
    #[error(
        "one of the settings \"configMap\" or \"secret\" is required: the name of the ConfigMap \
         or Secret holding the trust bundle in each namespace (e.g. configMap: ca-bundle), or \
         \"clusterTrustBundle\""
    )]
    NoSource,
    #[error(
        "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" are mutually \
         exclusive: set only the one that holds the trust bundle"
    )]
    SourcesExclusive,
    #[error(
        "setting \"inject\" is false (opt-in mode) but \"allowedOverrides\" does not list \
         \"inject\", so no pod could ever opt in: add \"inject\" to \"allowedOverrides\""
    )]
    OptInLocked,
    #[error(
        "setting \"javaTrustStore.key\" is required: the key of the trust store in the bundle \
         (e.g. trust-manager's additionalFormats output \"truststore.p12\")"
    )]
    JavaKeyRequired,
    #[error(
        "setting \"javaTrustStore.password\" must be without spaces or quotes: \
         JAVA_TOOL_OPTIONS is split on spaces"
    )]
    JavaPassword,
    #[error(
        "setting \"javaTrustStore\" needs a ConfigMap or Secret source: a ClusterTrustBundle \
         projects only the PEM bundle"
    )]
    JavaNeedsNamedSource,
    #[error(
        "setting \"envVars\" must not list JAVA_TOOL_OPTIONS when \"javaTrustStore\" is set: \
         the policy adds the trust store options to it"
    )]
    JavaOptionsListed,
    #[error(
        "setting \"systemTrustStore\" is an empty list, which puts the bundle over no file: list \
         the files, or set true for the standard list or false for none"
    )]
    StoreListEmpty,
    #[error(transparent)]
    StoreOverlap(#[from] StoreOverlap),
    #[error(transparent)]
    CacertsOverlap(#[from] CacertsOverlap),
    #[error(
        "setting \"javaTrustStore.cacerts\" is an empty list, which puts the Java trust store \
         over no file: list the files, or set true for the standard list or false for none"
    )]
    CacertsListEmpty,
    #[error(
        "setting \"javaTrustStore.password\" cannot be used with \"cacerts\": the JDK reads its \
         default trust store without a password, so the store must be readable without one \
         (trust-manager's PKCS#12 target with password \"\", or JKS): leave the password out"
    )]
    CacertsPassword,
    #[error(
        "setting \"envValues\" sets {0}, which \"envVars\" also sets to the bundle's path: keep \
         it in one of them"
    )]
    EnvValueListed(String),
    #[error(
        "setting \"envValues\" must not set JAVA_TOOL_OPTIONS when \"javaTrustStore\" is set: \
         the policy adds the trust store options to it, or mounts the store over the JDK's \
         default one, which trustStore options there would hide"
    )]
    JavaOptionsValue,
}

/// A Java trust store in the bundle, for `JAVA_TOOL_OPTIONS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaTrustStore {
    pub key: String,
    pub store_type: String,
    pub password: String,
}

impl JavaTrustStore {
    /// The JVM options that point at the store under `mount_path`; an empty
    /// password (a PKCS12 store written without one) sets no password option.
    pub fn options(&self, mount_path: &str) -> String {
        let mut options = format!(
            "-Djavax.net.ssl.trustStore={mount_path}/{} -Djavax.net.ssl.trustStoreType={}",
            self.key, self.store_type
        );
        if !self.password.is_empty() {
            options.push_str(" -Djavax.net.ssl.trustStorePassword=");
            options.push_str(&self.password);
        }
        options
    }
}

/// What to do when the bundle is missing in the pod's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceCheck {
    Off,
    Warn,
    Reject,
}

/// What the policy does with a pod that lacks the bundle: add it, or refuse
/// the pod naming what it lacks (coverage audit and guard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Inject,
    Require,
}

/// The set of annotations pods may use, by their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrides(u32);

impl Overrides {
    pub fn all() -> Overrides {
        let places = KEYS.iter().filter_map(|k| k.pod.as_ref());
        Overrides(places.fold(0, |set, pod| set | 1 << pod.place))
    }

    pub fn none() -> Overrides {
        Overrides(0)
    }

    pub fn allows(self, pod: &Pod) -> bool {
        self.0 & 1 << pod.place != 0
    }

    /// The names of the annotations in the set, in their place.
    pub fn keys(self) -> Vec<&'static str> {
        let mut keys: Vec<(u8, &'static str)> = KEYS
            .iter()
            .filter_map(|k| k.pod.as_ref().map(|pod| (pod.place, k.name)))
            .filter(|(place, _)| self.0 & 1 << place != 0)
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|(_, name)| name).collect()
    }
}

/// The values a pod's annotations may change: the settings' own, copied for
/// each pod (`PodValues`).
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub inject: bool,
    pub source: Source,
    pub cert_file: String,
    pub mount_path: String,
    pub set_env_var: bool,
    /// Explicit value for the env vars; `None` means `<mountPath>/<certFile>`.
    pub ssl_cert_file: Option<String>,
    /// Whether the settings' Java trust store is injected.
    pub java_trust_store: bool,
    /// Whether the bundle is put over the system trust store files.
    pub system_trust_store: bool,
}

/// One pod's values: the settings' values as its annotations change them.
pub struct PodValues<'a> {
    pub values: Values,
    /// Containers the pod's annotation excludes, besides the settings' list.
    pub exclude_containers: Vec<Glob>,
    pub namespace: &'a str,
    /// Whether an annotation keeps the pod's namespace out.
    pub namespace_out: bool,
    /// The annotations that chose the source (only one may), set the mount
    /// path and turned the system trust store on: messages name them.
    pub source_key: Option<&'a str>,
    pub mount_key: Option<&'a str>,
    pub store_key: Option<&'a str>,
}

impl<'a> PodValues<'a> {
    pub fn new(settings: &Settings, namespace: &'a str) -> PodValues<'a> {
        PodValues {
            values: settings.values.clone(),
            exclude_containers: Vec::new(),
            namespace,
            namespace_out: false,
            source_key: None,
            mount_key: None,
            store_key: None,
        }
    }

    /// `<prefix>/configMap` or `<prefix>/secret`: only one of them.
    fn source(
        &mut self,
        a: &Annotation<'a>,
        source: fn(String) -> Source,
    ) -> Result<(), annotation::Error> {
        if let Some(first) = self.source_key {
            return Err(annotation::Error::SourceAnnotations {
                first: first.to_string(),
                second: a.key.to_string(),
            });
        }
        self.source_key = Some(a.key);
        self.values.source = source(a.checked(names::dns_subdomain)?);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub values: Values,
    pub env_vars: Vec<String>,
    pub exclude_containers: Vec<Glob>,
    pub include_namespaces: Vec<Glob>,
    pub exclude_namespaces: Vec<Glob>,
    pub annotation_prefix: String,
    pub allowed_overrides: Overrides,
    pub inject_init_containers: bool,
    pub java_trust_store: Option<JavaTrustStore>,
    pub source_check: SourceCheck,
    /// Record what was injected in the `<prefix>/status` annotation.
    pub status_annotation: bool,
    pub action: Action,
    /// The system trust store files: the setting's list, or the standard one
    /// (which `<prefix>/systemTrustStore: "true"` uses when the setting is off).
    pub system_trust_store: Vec<String>,
    /// `envValues`: each variable with its literal value.
    pub env_values: Vec<(String, String)>,
    /// The JDK default trust store files the Java store is mounted over
    /// (`javaTrustStore.cacerts`); none for the JAVA_TOOL_OPTIONS mode.
    pub java_cacerts: Vec<String>,
}

/// The settings as the keys read so far leave them, and the sources named.
struct Draft {
    settings: Settings,
    sources: Vec<Source>,
}

impl Draft {
    fn named_source(
        &mut self,
        r: &Reader<'_>,
        key: &str,
        source: fn(String) -> Source,
    ) -> Result<(), Error> {
        let name = r.checked_string(key, names::dns_subdomain)?;
        self.sources.extend(name.map(source));
        Ok(())
    }
}

impl Settings {
    /// The settings in `text` (JSON), read and checked once per text: the host
    /// sends the same settings bytes on every call of one policy instance, so
    /// each call after the first only compares them with the last ones read.
    pub fn cached(text: &str) -> Result<Rc<Settings>, Error> {
        thread_local! {
            static LAST: RefCell<Option<(Box<str>, Rc<Settings>)>> = const { RefCell::new(None) };
        }
        let hit = LAST.with_borrow(|last| {
            last.as_ref()
                .filter(|(key, _)| **key == *text)
                .map(|(_, settings)| Rc::clone(settings))
        });
        if let Some(settings) = hit {
            return Ok(settings);
        }
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Json(e.to_string()))?;
        let settings = Rc::new(Settings::from_json(&value)?);
        LAST.set(Some((text.into(), Rc::clone(&settings))));
        Ok(settings)
    }

    /// The settings, each key read and checked in the table's order (the
    /// first problem found is the one reported).
    pub fn from_json(value: &Value) -> Result<Settings, Error> {
        let empty = Map::new();
        let r = Reader::new(keys(value, &empty)?);
        let mut draft = Draft {
            settings: Settings::defaults(),
            sources: Vec::new(),
        };
        for key in KEYS {
            (key.read)(&r, key.name, &mut draft)?;
        }
        Ok(draft.settings)
    }

    /// The defaults of the webhook's config.yaml; the source is the one key
    /// without a default (`cluster_trust_bundle` sets it or refuses).
    fn defaults() -> Settings {
        Settings {
            values: Values {
                inject: true,
                source: Source::ConfigMap(String::new()),
                cert_file: DEFAULT_CERT_FILE.to_string(),
                mount_path: DEFAULT_MOUNT_PATH.to_string(),
                set_env_var: true,
                ssl_cert_file: None,
                java_trust_store: false,
                system_trust_store: false,
            },
            env_vars: vec![DEFAULT_ENV_VAR.to_string()],
            exclude_containers: Vec::new(),
            include_namespaces: Vec::new(),
            exclude_namespaces: Vec::new(),
            annotation_prefix: DEFAULT_ANNOTATION_PREFIX.to_string(),
            allowed_overrides: Overrides::all(),
            inject_init_containers: true,
            java_trust_store: None,
            source_check: SourceCheck::Off,
            status_annotation: false,
            action: Action::Inject,
            system_trust_store: STANDARD_TRUST_STORE.map(String::from).to_vec(),
            env_values: Vec::new(),
            java_cacerts: Vec::new(),
        }
    }
}

/// The settings' keys and values (none when the settings are null), each key
/// one of the policy's.
fn keys<'a>(
    value: &'a Value,
    empty: &'a Map<String, Value>,
) -> Result<&'a Map<String, Value>, Error> {
    let map = match value {
        Value::Object(map) => map,
        Value::Null => empty,
        other => return Err(Error::NotObject(Kind::of(other))),
    };
    let known = |name: &String| KEYS.iter().any(|k| k.name == name);
    if let Some(unknown) = map.keys().find(|k| !known(k)) {
        return Err(Error::UnknownSetting {
            key: unknown.clone(),
            known: KEYS.iter().map(|k| k.name).collect(),
        });
    }
    Ok(map)
}

/// `clusterTrustBundle`, the last of the three sources: exactly one is set.
fn cluster_trust_bundle(r: &Reader<'_>, key: &str, d: &mut Draft) -> Result<(), Error> {
    let bundle = r.get(key).map(parse_trust_bundle);
    d.sources
        .extend(bundle.transpose()?.map(Source::ClusterTrustBundle));
    if d.sources.len() > 1 {
        return Err(Error::SourcesExclusive);
    }
    d.settings.values.source = d.sources.pop().ok_or(Error::NoSource)?;
    Ok(())
}

/// `allowedOverrides`: every annotation when it is absent; it must allow
/// `inject` in opt-in mode.
fn allowed_overrides(r: &Reader<'_>, key: &'static str, d: &mut Draft) -> Result<(), Error> {
    if r.get(key).is_some() {
        let allow = |set: Overrides, name: &str| match overridable(name) {
            Some((_, pod)) => Ok(Overrides(set.0 | 1 << pod.place)),
            None => Err(invalid(
                key,
                name,
                names::Rule::NotAnnotation(annotation_keys()),
            )),
        };
        let list = r.list(key)?;
        d.settings.allowed_overrides = list.into_iter().try_fold(Overrides::none(), allow)?;
    }
    let inject = overridable("inject").map(|(_, pod)| pod);
    let can_opt_in = inject.is_some_and(|pod| d.settings.allowed_overrides.allows(pod));
    if !d.settings.values.inject && !can_opt_in {
        return Err(Error::OptInLocked);
    }
    Ok(())
}

fn source_check(r: &Reader<'_>, key: &str) -> Result<SourceCheck, Error> {
    // An unquoted `off` reaches us as false from YAML 1.1 readers (kubectl).
    if matches!(r.get(key), None | Some(Value::Bool(false))) {
        return Ok(SourceCheck::Off);
    }
    let checks = [SourceCheck::Off, SourceCheck::Warn, SourceCheck::Reject];
    choice(r, key, &["off", "warn", "reject"], checks)
}

/// The string setting `key` as the value of its word in `words` (of the
/// first when it is absent).
fn choice<T, const N: usize>(
    r: &Reader<'_>,
    key: &str,
    words: &'static [&'static str; N],
    values: [T; N],
) -> Result<T, Error> {
    let given = r.string(key)?;
    let mut pairs = words.iter().zip(values);
    let chosen = pairs.find(|(word, _)| given.is_none_or(|g| g == **word));
    let refused = || invalid(key, given.unwrap_or_default(), Reason::OneOf(words)).into();
    chosen.map(|(_, value)| value).ok_or_else(refused)
}

/// `systemTrustStore`: false, true (the standard list) or a list of files;
/// when on, no file may overlap the mount path.
fn system_trust_store(r: &Reader<'_>, key: &'static str, d: &mut Draft) -> Result<(), Error> {
    let on = match r.get(key) {
        None => false,
        Some(Value::Array(_)) => {
            let files = r.list(key)?;
            d.settings.system_trust_store = listed_files(key, &files, Error::StoreListEmpty)?;
            true
        }
        Some(value) => store_switch(key, value)?,
    };
    d.settings.values.system_trust_store = on;
    let mount_path = &d.settings.values.mount_path;
    let mut files = d.settings.system_trust_store.iter().enumerate();
    match files.find(|(_, f)| on && names::overlap(f, mount_path)) {
        None => Ok(()),
        Some((i, file)) => Err(Error::from(StoreOverlap {
            subject: file_subject(key, r.get(key), i),
            file: file.clone(),
            mount_path: mount_path.clone(),
        })),
    }
}

/// A store setting given as a switch: true or false, or Go's spellings of them.
fn store_switch(key: &str, value: &Value) -> Result<bool, ValueError> {
    match value {
        Value::Bool(on) => Ok(*on),
        Value::String(text) => names::parse_bool(text)
            .ok_or_else(|| invalid(key, text, Reason::MustBe(Expected::StoreFiles))),
        other => Err(wrong(key, Expected::StoreFiles, other)),
    }
}

/// The files of a list setting (`systemTrustStore`, `javaTrustStore.cacerts`):
/// `empty` when there are none, else by `names::store_files`' rules.
fn listed_files(key: &'static str, files: &[&str], empty: Error) -> Result<Vec<String>, Error> {
    if files.is_empty() {
        return Err(empty);
    }
    names::store_files(files).map_err(|(i, file, reason)| {
        ValueError::invalid(Subject::SettingItem(key, i), file, reason)
    })?;
    Ok(files.iter().map(|f| f.to_string()).collect())
}

/// `javaTrustStore`: the store, which the source, the env vars and the mount
/// path read before must allow.
fn java_trust_store(r: &Reader<'_>, key: &str, d: &mut Draft) -> Result<(), Error> {
    let Some(given) = r.get(key) else {
        return Ok(());
    };
    let java = parse_java(given)?;
    let s = &mut d.settings;
    if matches!(s.values.source, Source::ClusterTrustBundle(_)) {
        return Err(Error::JavaNeedsNamedSource);
    }
    if s.env_vars.iter().any(|v| v == JAVA_TOOL_OPTIONS) {
        return Err(Error::JavaOptionsListed);
    }
    let cacerts = java_cacerts(given)?;
    let mount_path = &s.values.mount_path;
    // Only JAVA_TOOL_OPTIONS carries the mount path to the JVM.
    if cacerts.is_empty() {
        names::trust_store_path(mount_path, &java.key)
            .map_err(|reason| invalid(MOUNT_PATH, mount_path, reason))?;
    }
    let mut files = cacerts.iter().enumerate();
    if let Some((i, file)) = files.find(|(_, f)| names::overlap(f, mount_path)) {
        return Err(Error::from(CacertsOverlap {
            subject: cacerts_subject(r, i),
            file: file.clone(),
            other: format!("the mount path {mount_path}"),
        }));
    }
    s.java_cacerts = cacerts;
    s.java_trust_store = Some(java);
    s.values.java_trust_store = true;
    Ok(())
}

/// The `javaTrustStore` setting: `{key, type, password}`.
fn parse_java(value: &Value) -> Result<JavaTrustStore, Error> {
    let nested = Reader::nested(
        value,
        "javaTrustStore",
        &["key", "type", "password", "cacerts"],
        "\"key\" and optionally \"type\", \"password\" and \"cacerts\"",
    )?;
    let key = nested.checked_string("key", names::config_map_key)?;
    let key = key.ok_or(Error::JavaKeyRequired)?;
    let store_type = match nested.string("type")? {
        None => DEFAULT_TRUST_STORE_TYPE,
        Some(t @ ("PKCS12" | "JKS")) => t,
        Some(other) => {
            return Err(nested
                .invalid("type", other, Reason::OneOf(&["PKCS12", "JKS"]))
                .into());
        }
    };
    let password = nested.string("password")?;
    let password = password.unwrap_or(DEFAULT_TRUST_STORE_PASSWORD);
    if password
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
    {
        return Err(Error::JavaPassword);
    }
    Ok(JavaTrustStore {
        key,
        store_type: store_type.to_string(),
        password: password.to_string(),
    })
}

/// `javaTrustStore.cacerts`: false (none), true (the standard list) or a
/// list of files under `systemTrustStore`'s rules. The JDK reads those files
/// without a password, so a password is refused with them.
fn java_cacerts(java: &Value) -> Result<Vec<String>, Error> {
    let standard = || STANDARD_JAVA_CACERTS.map(String::from).to_vec();
    let files = match java.get("cacerts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let files = strings(JAVA_CACERTS, items)?;
            listed_files(JAVA_CACERTS, &files, Error::CacertsListEmpty)?
        }
        Some(value) => store_switch(JAVA_CACERTS, value)?
            .then(standard)
            .unwrap_or_default(),
    };
    let password = java.get("password").and_then(Value::as_str);
    if !files.is_empty() && password.is_some_and(|p| !p.is_empty()) {
        return Err(Error::CacertsPassword);
    }
    Ok(files)
}

/// The `i`th file of a list setting given as `given`, in messages: an item of
/// the admin's list, or the setting when it is the standard list.
fn file_subject(key: &'static str, given: Option<&Value>, i: usize) -> Subject {
    match given {
        Some(Value::Array(_)) => Subject::SettingItem(key, i),
        _ => Subject::setting(key),
    }
}

/// The `i`th file of `javaTrustStore.cacerts` in messages.
fn cacerts_subject(r: &Reader<'_>, i: usize) -> Subject {
    let given = r.get("javaTrustStore").and_then(|j| j.get("cacerts"));
    file_subject(JAVA_CACERTS, given, i)
}

/// No file of `javaTrustStore.cacerts` overlaps the system trust store
/// files, which `<prefix>/systemTrustStore: "true"` may turn on when the
/// setting is off: a container could not get both mounts.
fn cacerts_apart_from_store(r: &Reader<'_>, s: &Settings) -> Result<(), Error> {
    for (i, file) in s.java_cacerts.iter().enumerate() {
        let mut store = s.system_trust_store.iter();
        if let Some(other) = store.find(|f| names::overlap(f, file)) {
            return Err(Error::from(CacertsOverlap {
                subject: cacerts_subject(r, i),
                file: file.clone(),
                other: format!("the system trust store file {other}"),
            }));
        }
    }
    Ok(())
}

/// `envValues`: variables with a literal value, under the rules of
/// `envVars` (read before), and never JAVA_TOOL_OPTIONS when the policy
/// owns the Java trust store.
fn env_values(r: &Reader<'_>, key: &str, s: &Settings) -> Result<Vec<(String, String)>, Error> {
    let map = match r.get(key) {
        None => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            let expected = Expected::ObjectWith(
                "variable names and their values as strings (e.g. NODE_USE_SYSTEM_CA: \"1\")",
            );
            return Err(wrong(key, expected, other).into());
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        names::env_var_name(name).map_err(|reason| invalid(key, name, reason))?;
        let Value::String(value) = value else {
            let subject = Subject::Setting(format!("{key}.{name}"));
            return Err(ValueError::wrong_kind(subject, Expected::String, Kind::of(value)).into());
        };
        if s.env_vars.iter().any(|v| v == name) {
            return Err(Error::EnvValueListed(name.clone()));
        }
        if name == JAVA_TOOL_OPTIONS && s.java_trust_store.is_some() {
            return Err(Error::JavaOptionsValue);
        }
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}

fn env_var_list(key: &str, names_in: &[&str]) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::with_capacity(names_in.len());
    for name in names_in {
        names::env_var_name(name).map_err(|reason| invalid(key, name, reason))?;
        if out.iter().any(|seen| seen == name) {
            return Err(invalid(key, name, names::Rule::ListedTwice).into());
        }
        out.push((*name).to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The messages of the object name and variable name rules, which
    /// trust_bundle.rs's and names.rs's tests use too.
    pub(super) const OBJECT_NAME: &str = "must be a valid Kubernetes object name: lowercase \
         letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. \
         \"ca-bundle\" or \"my-org.com\")";
    const EXCLUSIVE: &str = "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" \
         are mutually exclusive: set only the one that holds the trust bundle";
    pub(super) const ENV_NAME: &str = "must be a valid environment variable name: letters, \
         digits, '_', '-' and '.', not starting with a digit nor with '..', and not '.' (e.g. \
         \"SSL_CERT_FILE\")";
    const FILES: &str = "must be true, false or a list of absolute file paths";

    fn parse(v: Value) -> Result<Settings, String> {
        Settings::from_json(&v).map_err(|e| e.to_string())
    }

    fn java(cacerts: Value) -> Result<Settings, String> {
        parse(json!({"configMap": "a",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": cacerts}}))
    }

    /// Each `(value, rest)` at `key`, a setting beside configMap "a" or
    /// javaTrustStore.cacerts in `java`'s store, is refused with
    /// `setting "<key>"` and then `rest`.
    fn refusals(key: &str, cases: &[(Value, &str)]) {
        for (value, rest) in cases {
            let settings = match key {
                JAVA_CACERTS => java(value.clone()),
                _ => parse(json!({"configMap": "a", key: value})),
            };
            let message = format!("setting {key:?}{rest}");
            assert_eq!(settings.unwrap_err(), message, "{value}");
        }
    }

    #[test]
    fn annotation_places_are_distinct_and_fit_the_set() {
        let mut places: Vec<u8> = KEYS
            .iter()
            .filter_map(|k| Some(k.pod.as_ref()?.place))
            .collect();
        places.sort_unstable();
        let expected: Vec<u8> = (0..).take(places.len()).collect();
        assert_eq!(places, expected, "each annotation its own place, from 0");
        assert!(places.len() <= 32, "Overrides is a u32 set");
    }

    #[test]
    fn settings_are_read_once_per_text_and_refused_on_every_call() {
        let first = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        let again = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        assert!(Rc::ptr_eq(&first, &again));
        let other = Settings::cached(r#"{"configMap":"other"}"#).unwrap();
        assert_eq!(other.values.source, Source::ConfigMap("other".into()));
        let back = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        assert!(!Rc::ptr_eq(&first, &back));
        assert_eq!(back.values.source, Source::ConfigMap("ca-bundle".into()));
        // Refused settings are not kept: each call refuses them again.
        let text = r#"{"configMap":"ca-bundle","secret":"x"}"#;
        for _ in 0..2 {
            assert_eq!(Settings::cached(text).err().unwrap().to_string(), EXCLUSIVE);
        }
    }

    #[test]
    fn defaults_follow_the_webhook_config() {
        let s = parse(json!({"configMap": "ca-bundle"})).unwrap();
        assert_eq!(s.values.source, Source::ConfigMap("ca-bundle".into()));
        assert_eq!(s.values.cert_file, "ca.crt");
        assert_eq!(s.values.mount_path, "/cacerts");
        assert!(s.values.set_env_var);
        assert_eq!(s.values.ssl_cert_file, None);
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE".to_string()]);
        assert!(s.exclude_containers.is_empty());
        assert!(s.include_namespaces.is_empty());
        assert!(s.exclude_namespaces.is_empty());
        assert!(s.values.inject);
        assert_eq!(s.annotation_prefix, "cainjector.lestak.sh");
        assert_eq!(s.allowed_overrides, Overrides::all());
        assert!(s.inject_init_containers);
    }

    #[test]
    fn every_key_is_read() {
        let s = parse(json!({
            "secret": "bundle",
            "certFile": "bundle.pem",
            "mountPath": "/etc/ssl/certs",
            "setEnvVar": false,
            "sslCertFile": "/etc/ssl/certs/bundle.pem",
            "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"],
            "excludeContainers": ["istio-proxy", "linkerd-*"],
            "includeNamespaces": ["team-*"],
            "excludeNamespaces": ["kube-system"],
            "inject": false,
            "annotationPrefix": "trust.example.com",
            "allowedOverrides": ["inject", "excludeContainers"],
            "injectInitContainers": false
        }))
        .unwrap();
        assert_eq!(s.values.source, Source::Secret("bundle".into()));
        assert_eq!(s.values.cert_file, "bundle.pem");
        assert_eq!(s.values.mount_path, "/etc/ssl/certs");
        assert!(!s.values.set_env_var);
        assert_eq!(
            s.values.ssl_cert_file.as_deref(),
            Some("/etc/ssl/certs/bundle.pem")
        );
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"]);
        assert_eq!(s.exclude_containers.len(), 2);
        assert_eq!(s.include_namespaces.len(), 1);
        assert_eq!(s.exclude_namespaces.len(), 1);
        assert!(!s.values.inject);
        assert_eq!(s.annotation_prefix, "trust.example.com");
        assert_eq!(
            s.allowed_overrides.keys(),
            vec!["inject", "excludeContainers"]
        );
        assert!(!s.inject_init_containers);
    }

    #[test]
    fn refused_values_name_the_key_and_the_problem() {
        let known = KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
        let cases: &[(Value, &str)] = &[
            (
                json!({"configMap": "a", "excludeNamespace": ["x"]}),
                &format!(
                    "setting \"excludeNamespace\" is not a known setting (did you mean \
                     \"excludeNamespaces\"?); the settings are: {known}"
                ),
            ),
            (
                json!({"configMap": "a", "zzz": 1}),
                &format!("setting \"zzz\" is not a known setting; the settings are: {known}"),
            ),
            (json!({"configMap": "a", "secret": "b"}), EXCLUSIVE),
            (
                json!({"configMap": 3}),
                "setting \"configMap\" must be a string, found a number",
            ),
            (
                json!({"configMap": "a", "setEnvVar": "yes"}),
                "setting \"setEnvVar\": \"yes\" must be true or false",
            ),
            (
                json!({"configMap": "a", "inject": 1}),
                "setting \"inject\" must be true or false, found a number",
            ),
            (
                json!({"configMap": "a", "excludeContainers": ["ok", 1]}),
                "setting \"excludeContainers\"[1] must be a string, found a number",
            ),
            (
                json!(["configMap"]),
                "settings must be an object of keys and values, found a list",
            ),
            (
                json!({"configMap": "a", "mountPath": "certs"}),
                "setting \"mountPath\": \"certs\" must be an absolute path (starting with '/')",
            ),
            (
                json!({"configMap": "a", "mountPath": "/etc"}),
                "setting \"mountPath\": \"/etc\" must not be /etc: the mount would hide the \
                 container's own /etc; use a directory of its own such as \"/cacerts\"",
            ),
            (
                json!({"configMap": "a", "mountPath": "/certs/"}),
                "setting \"mountPath\": \"/certs/\" must be a normalised absolute path (no '//', \
                 '.', '..' or trailing '/'), e.g. \"/certs\"",
            ),
            (
                json!({"configMap": "a", "sslCertFile": "ca.crt"}),
                "setting \"sslCertFile\": \"ca.crt\" must be an absolute path (starting with '/')",
            ),
            (
                json!({"configMap": "a", "includeNamespaces": ["team-["]}),
                "setting \"includeNamespaces\": \"team-[\" is not a valid glob: '[' opens a \
                 character class that is never closed with ']'",
            ),
            (
                json!({"configMap": "a", "allowedOverrides": ["mountpath"]}),
                "setting \"allowedOverrides\": \"mountpath\" is not an annotation of this policy; \
                 the annotations are: inject, configMap, secret, certFile, mountPath, \
                 sslCertFile, setEnvVar, excludeContainers, excludeNamespaces, \
                 includeNamespaces, javaTrustStore, systemTrustStore",
            ),
            (
                json!({"configMap": "a", "sourceCheck": true}),
                "setting \"sourceCheck\" must be a string, found a boolean",
            ),
            (
                json!({"configMap": "My_Bundle"}),
                &format!("setting \"configMap\": \"My_Bundle\" {OBJECT_NAME}"),
            ),
            (
                json!({"secret": "-x"}),
                &format!("setting \"secret\": \"-x\" {OBJECT_NAME}"),
            ),
            (
                json!({"configMap": "a", "annotationPrefix": "Not Valid"}),
                &format!("setting \"annotationPrefix\": \"Not Valid\" {OBJECT_NAME}"),
            ),
        ];
        for (settings, message) in cases {
            assert_eq!(&parse(settings.clone()).unwrap_err(), message, "{settings}");
        }
        let cases: &[(Value, &str)] = &[
            (
                json!("SSL_CERT_FILE"),
                " must be a list of strings, found a string",
            ),
            (json!(["1BAD"]), &format!(": \"1BAD\" {ENV_NAME}")),
            (json!(["A", "A"]), ": \"A\" is listed twice"),
        ];
        refusals("envVars", cases);
    }

    #[test]
    fn opt_in_mode_needs_inject_override_and_an_empty_list_allows_none() {
        assert_eq!(
            parse(json!({"configMap": "a", "inject": false, "allowedOverrides": []})).unwrap_err(),
            "setting \"inject\" is false (opt-in mode) but \"allowedOverrides\" does not list \
             \"inject\", so no pod could ever opt in: add \"inject\" to \"allowedOverrides\""
        );
        assert!(
            parse(json!({"configMap": "a", "inject": false, "allowedOverrides": ["inject"]}))
                .is_ok()
        );
        // An empty list locks every annotation.
        let s = parse(json!({"configMap": "a", "allowedOverrides": []})).unwrap();
        assert_eq!(s.allowed_overrides, Overrides::none());
    }

    #[test]
    fn null_values_mean_the_default_and_yaml_forms_are_read() {
        let s = parse(json!({"configMap": "a", "mountPath": null, "envVars": null})).unwrap();
        assert_eq!(s.values.mount_path, "/cacerts");
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE"]);
        // The webhook's string booleans, and YAML's off for sourceCheck.
        let s = parse(json!({"configMap": "a", "setEnvVar": "false", "inject": "true"})).unwrap();
        assert!(!s.values.set_env_var);
        assert!(s.values.inject);
        let s = parse(json!({"configMap": "a", "sourceCheck": false})).unwrap();
        assert_eq!(s.source_check, SourceCheck::Off);
    }

    #[test]
    fn action_is_inject_unless_require_is_asked() {
        let action = |v: Value| parse(json!({"configMap": "a", "action": v})).map(|s| s.action);
        let unset = parse(json!({"configMap": "a"})).unwrap();
        assert_eq!(unset.action, Action::Inject);
        assert_eq!(action(Value::Null), Ok(Action::Inject));
        assert_eq!(action(json!("inject")), Ok(Action::Inject));
        assert_eq!(action(json!("require")), Ok(Action::Require));
        let choice = "must be \"inject\" or \"require\"";
        let cases: &[(Value, &str)] = &[
            (json!("Require"), &format!(": \"Require\" {choice}")),
            (json!(true), " must be a string, found a boolean"),
        ];
        refusals("action", cases);
    }

    #[test]
    fn system_trust_store_is_off_true_or_a_list() {
        let store =
            |v: Value| parse(v).map(|s| (s.values.system_trust_store, s.system_trust_store));
        let standard: Vec<String> = STANDARD_TRUST_STORE.map(String::from).to_vec();
        assert_eq!(
            store(json!({"configMap": "a"})),
            Ok((false, standard.clone()))
        );
        for value in [json!(false), json!("false"), Value::Null] {
            let settings = json!({"configMap": "a", "systemTrustStore": value});
            assert_eq!(store(settings), Ok((false, standard.clone())), "{value}");
        }
        for value in [json!(true), json!("true")] {
            let settings = json!({"configMap": "a", "systemTrustStore": value});
            assert_eq!(store(settings), Ok((true, standard.clone())), "{value}");
        }
        let own =
            json!({"configMap": "a", "systemTrustStore": ["/etc/ssl/cert.pem", "/opt/ca.pem"]});
        let files = vec!["/etc/ssl/cert.pem".into(), "/opt/ca.pem".into()];
        assert_eq!(store(own), Ok((true, files)));
    }

    #[test]
    fn system_trust_store_values_and_overlaps_are_refused_naming_the_setting() {
        let cases: &[(Value, &str)] = &[
            (json!(1), &format!(" {FILES}, found a number")),
            (json!({"files": []}), &format!(" {FILES}, found an object")),
            (json!("yes"), &format!(": \"yes\" {FILES}")),
            (
                json!([]),
                " is an empty list, which puts the bundle over no file: list the files, or \
                 set true for the standard list or false for none",
            ),
            (
                json!(["/etc/ssl/cert.pem", 2]),
                "[1] must be a string, found a number",
            ),
            // Each file is listed once, and never under another.
            (
                json!(["/etc/ssl/cert.pem", "/a.pem", "/etc/ssl/cert.pem"]),
                "[2]: \"/etc/ssl/cert.pem\" is listed twice",
            ),
            (
                json!(["/etc/ssl/cert.pem/x", "/etc/ssl/cert.pem"]),
                "[0]: \"/etc/ssl/cert.pem/x\" is under \"/etc/ssl/cert.pem\", another file of \
                 the list",
            ),
        ];
        refusals(SYSTEM_TRUST_STORE, cases);
        let cases = [
            (
                "etc/ssl/cert.pem",
                "must be an absolute path (starting with '/')",
            ),
            (
                "/etc/ssl//cert.pem",
                "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), e.g. \
                 \"/etc/ssl/cert.pem\"",
            ),
            (
                "/etc/ssl/certs/",
                "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), e.g. \
                 \"/etc/ssl/certs\"",
            ),
            (
                "/etc",
                "must not be /etc: it is a directory the container needs, not a trust store file",
            ),
            (
                "/",
                "must not be /: it is a directory the container needs, not a trust store file",
            ),
            (
                "/proc/certs.pem",
                "must not be at or under /proc, which the container needs",
            ),
            (
                "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                "must not be at or under /var/run/secrets/kubernetes.io/serviceaccount, which the \
                 container needs",
            ),
        ];
        for (file, reason) in cases {
            let list = json!(["/etc/ssl/cert.pem", "/opt/x.pem", file]);
            refusals(
                SYSTEM_TRUST_STORE,
                &[(list, &format!("[2]: {file:?} {reason}"))],
            );
        }
        // The files never overlap the mount path.
        let overlap = |index: &str, file: &str, mount_path: &str| {
            format!(
                "setting \"systemTrustStore\"{index}: the system trust store file {file} and the \
                 mount path {mount_path} overlap (one is at or under the other), and a container \
                 cannot mount the bundle at both: use a mountPath apart from the system trust \
                 store files, or leave {file} out of systemTrustStore's list"
            )
        };
        for (settings, message) in [
            (
                json!({"configMap": "a", "mountPath": "/etc/ssl/certs", "systemTrustStore": true}),
                overlap("", "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs"),
            ),
            (
                json!({"configMap": "a", "systemTrustStore": ["/x.pem", "/cacerts"]}),
                overlap("[1]", "/cacerts", "/cacerts"),
            ),
            (
                json!({"configMap": "a", "mountPath": "/x.pem/in", "systemTrustStore": ["/x.pem"]}),
                overlap("[0]", "/x.pem", "/x.pem/in"),
            ),
        ] {
            assert_eq!(parse(settings.clone()).unwrap_err(), message, "{settings}");
        }
        // Off, the standard list may overlap: only an annotation could turn it on.
        let off = parse(json!({"configMap": "a", "mountPath": "/etc/ssl/certs"})).unwrap();
        assert!(!off.values.system_trust_store);
        // The list form drops the overlapping file.
        let listed = json!({"configMap": "a", "mountPath": "/etc/ssl/certs",
            "systemTrustStore": ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]});
        assert!(parse(listed).is_ok());
    }

    #[test]
    fn env_values_are_read_in_order_and_leave_java_options_to_the_store() {
        let s = parse(json!({"configMap": "a",
            "envValues": {"NODE_USE_SYSTEM_CA": "1", "DENO_TLS_CA_STORE": "system"}}))
        .unwrap();
        let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert_eq!(
            s.env_values,
            [
                pair("DENO_TLS_CA_STORE", "system"),
                pair("NODE_USE_SYSTEM_CA", "1")
            ]
        );
        let unset = parse(json!({"configMap": "a"})).unwrap();
        assert!(unset.env_values.is_empty());
        let cases: &[(Value, &str)] = &[
            (
                json!(["NODE_USE_SYSTEM_CA=1"]),
                " must be an object with variable names and their values as strings (e.g. \
                 NODE_USE_SYSTEM_CA: \"1\"), found a list",
            ),
            (json!({"1NODE": "1"}), &format!(": \"1NODE\" {ENV_NAME}")),
        ];
        refusals(ENV_VALUES, cases);
        assert_eq!(
            parse(json!({"configMap": "a", "envValues": {"NODE_USE_SYSTEM_CA": 1}})).unwrap_err(),
            "setting \"envValues.NODE_USE_SYSTEM_CA\" must be a string, found a number"
        );
        // JAVA_TOOL_OPTIONS is left to the Java trust store.
        let values = json!({"JAVA_TOOL_OPTIONS": "-Xmx1g"});
        assert!(parse(json!({"configMap": "a", "envValues": values})).is_ok());
        for java in [
            json!({"key": "truststore.p12"}),
            json!({"key": "truststore.p12", "cacerts": true}),
        ] {
            let s = json!({"configMap": "a", "javaTrustStore": java, "envValues": values});
            assert_eq!(
                parse(s).unwrap_err(),
                "setting \"envValues\" must not set JAVA_TOOL_OPTIONS when \"javaTrustStore\" is \
                 set: the policy adds the trust store options to it, or mounts the store over \
                 the JDK's default one, which trustStore options there would hide"
            );
        }
    }

    #[test]
    fn java_cacerts_true_is_the_standard_list_and_a_list_replaces_it() {
        for on in [json!(true), json!("true")] {
            assert_eq!(java(on).unwrap().java_cacerts, STANDARD_JAVA_CACERTS);
        }
        for off in [json!(false), json!("false"), Value::Null] {
            let s = java(off).unwrap();
            assert!(s.java_cacerts.is_empty());
            assert!(s.java_trust_store.is_some());
        }
        let own = java(json!(["/usr/lib/jvm/jre/lib/security/cacerts"])).unwrap();
        assert_eq!(own.java_cacerts, ["/usr/lib/jvm/jre/lib/security/cacerts"]);
        // Without JAVA_TOOL_OPTIONS the mount path may hold whitespace.
        let spaced = json!({"configMap": "a", "mountPath": "/ca certs",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": true}});
        assert!(parse(spaced).is_ok());
        // The JDK reads its default trust store without a password: only "" goes with cacerts.
        let unlocked = json!({"configMap": "a",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": true, "password": ""}});
        assert!(parse(unlocked).is_ok());
    }

    #[test]
    fn java_cacerts_files_follow_the_store_rules_and_keep_apart() {
        let cases: &[(Value, &str)] = &[
            (
                json!(["/etc/ssl/certs/java/cacerts", "/proc/cacerts"]),
                "[1]: \"/proc/cacerts\" must not be at or under /proc, which the container \
                 needs",
            ),
            (
                json!(["/x/cacerts", "/x/cacerts"]),
                "[1]: \"/x/cacerts\" is listed twice",
            ),
            (
                json!(["etc/cacerts"]),
                "[0]: \"etc/cacerts\" must be an absolute path (starting with '/')",
            ),
            (
                json!([]),
                " is an empty list, which puts the Java trust store over no file: list the \
                 files, or set true for the standard list or false for none",
            ),
            (json!([true]), "[0] must be a string, found a boolean"),
            (json!(3), &format!(" {FILES}, found a number")),
            (json!("yes"), &format!(": \"yes\" {FILES}")),
        ];
        refusals(JAVA_CACERTS, cases);
        // They keep apart from the mount path and the system store.
        let overlap = |index: &str, file: &str, other: &str| {
            format!(
                "setting \"javaTrustStore.cacerts\"{index}: the JDK trust store file {file} and \
                 {other} overlap (one is at or under the other), and a container cannot mount \
                 both: keep javaTrustStore.cacerts apart from the mount path and the system \
                 trust store files"
            )
        };
        let mounted = json!({"configMap": "a", "mountPath": "/etc/ssl/certs",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": true}});
        let mount = "the mount path /etc/ssl/certs";
        // The system store files count even when off: an annotation may turn them on.
        let stored = json!({"configMap": "a",
            "javaTrustStore": {"key": "truststore.p12", "cacerts": ["/opt/j/cacerts", "/etc/ssl/cert.pem"]}});
        let store = "the system trust store file /etc/ssl/cert.pem";
        for (settings, message) in [
            (mounted, overlap("", "/etc/ssl/certs/java/cacerts", mount)),
            (stored, overlap("[1]", "/etc/ssl/cert.pem", store)),
        ] {
            assert_eq!(parse(settings.clone()).unwrap_err(), message, "{settings}");
        }
        let both = json!({"configMap": "a", "systemTrustStore": true,
            "javaTrustStore": {"key": "truststore.p12", "cacerts": true}});
        assert!(parse(both).is_ok());
    }
}
