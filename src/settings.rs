//! The policy settings: the keys of the webhook's config.yaml, their defaults,
//! and the checks that refuse a bad configuration with a message naming the key.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::diag::{Kind, did_you_mean};
use crate::error::{Expected, Reason, Subject, ValueError};
use crate::names;
use crate::reader::{self, Nested, Reader, invalid};
use crate::selection::Glob;
pub use crate::source::Source;
use crate::trust_bundle::{self, parse_trust_bundle};

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
const SYSTEM_TRUST_STORE: &str = "systemTrustStore";

const KNOWN_KEYS: &[&str] = &[
    "configMap",
    "secret",
    "certFile",
    "mountPath",
    "setEnvVar",
    "sslCertFile",
    "envVars",
    "excludeContainers",
    "includeNamespaces",
    "excludeNamespaces",
    "inject",
    "annotationPrefix",
    "allowedOverrides",
    "injectInitContainers",
    "clusterTrustBundle",
    "javaTrustStore",
    "sourceCheck",
    "statusAnnotation",
    "action",
    "systemTrustStore",
];

/// Settings refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Read(#[from] reader::Error),
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
        known: &'static [&'static str],
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
}

/// A system trust store file and the bundle's mount path overlap; `subject`
/// is what brought them together (a setting, or a pod's annotation).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{subject}: the system trust store file {file} and the mount path {mount_path} overlap (one \
     is at or under the other), and a container cannot mount the bundle at both: use a mountPath \
     apart from the system trust store files, or leave {file} out of systemTrustStore's list"
)]
pub struct StoreOverlap {
    pub subject: Subject,
    pub file: String,
    pub mount_path: String,
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

/// `systemTrustStore`: whether the bundle is put over the system trust
/// store files by default, and which files (the standard list, unless the
/// setting lists its own), which `<prefix>/systemTrustStore: "true"` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemTrustStore {
    pub on: bool,
    pub files: Vec<String>,
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

/// The per-pod annotations, each of which `allowedOverrides` may permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    Inject,
    ConfigMap,
    Secret,
    CertFile,
    MountPath,
    SslCertFile,
    SetEnvVar,
    ExcludeContainers,
    ExcludeNamespaces,
    IncludeNamespaces,
    JavaTrustStore,
    SystemTrustStore,
}

impl Override {
    pub const ALL: [Override; 12] = [
        Override::Inject,
        Override::ConfigMap,
        Override::Secret,
        Override::CertFile,
        Override::MountPath,
        Override::SslCertFile,
        Override::SetEnvVar,
        Override::ExcludeContainers,
        Override::ExcludeNamespaces,
        Override::IncludeNamespaces,
        Override::JavaTrustStore,
        Override::SystemTrustStore,
    ];

    /// The annotation's name after `<prefix>/`.
    pub fn key(self) -> &'static str {
        match self {
            Override::Inject => "inject",
            Override::ConfigMap => "configMap",
            Override::Secret => "secret",
            Override::CertFile => "certFile",
            Override::MountPath => "mountPath",
            Override::SslCertFile => "sslCertFile",
            Override::SetEnvVar => "setEnvVar",
            Override::ExcludeContainers => "excludeContainers",
            Override::ExcludeNamespaces => "excludeNamespaces",
            Override::IncludeNamespaces => "includeNamespaces",
            Override::JavaTrustStore => "javaTrustStore",
            Override::SystemTrustStore => SYSTEM_TRUST_STORE,
        }
    }

    pub fn from_key(key: &str) -> Option<Override> {
        Override::ALL.into_iter().find(|o| o.key() == key)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Every annotation's name, for messages.
    pub fn all_keys() -> Vec<&'static str> {
        Override::ALL.iter().map(|o| o.key()).collect()
    }
}

/// The set of annotations pods may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrides(u16);

impl Overrides {
    pub fn all() -> Overrides {
        Overrides(Override::ALL.iter().fold(0, |acc, o| acc | o.bit()))
    }

    pub fn none() -> Overrides {
        Overrides(0)
    }

    pub fn with(self, o: Override) -> Overrides {
        Overrides(self.0 | o.bit())
    }

    pub fn allows(self, o: Override) -> bool {
        self.0 & o.bit() != 0
    }

    pub fn keys(self) -> Vec<&'static str> {
        Override::ALL
            .into_iter()
            .filter(|o| self.allows(*o))
            .map(Override::key)
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub source: Source,
    pub cert_file: String,
    pub mount_path: String,
    pub set_env_var: bool,
    /// Explicit value for the env vars; `None` means `<mountPath>/<certFile>`.
    pub ssl_cert_file: Option<String>,
    pub env_vars: Vec<String>,
    pub exclude_containers: Vec<Glob>,
    pub include_namespaces: Vec<Glob>,
    pub exclude_namespaces: Vec<Glob>,
    pub inject: bool,
    pub annotation_prefix: String,
    pub allowed_overrides: Overrides,
    pub inject_init_containers: bool,
    pub java_trust_store: Option<JavaTrustStore>,
    pub source_check: SourceCheck,
    /// Record what was injected in the `<prefix>/status` annotation.
    pub status_annotation: bool,
    pub action: Action,
    pub system_trust_store: SystemTrustStore,
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

    /// The settings, each key read and checked in turn (the first problem
    /// found is the one reported).
    pub fn from_json(value: &Value) -> Result<Settings, Error> {
        let empty = Map::new();
        let r = Reader(keys(value, &empty)?);
        let source = source(&r)?;
        let env_vars = match r.get("envVars") {
            None => vec![DEFAULT_ENV_VAR.to_string()],
            Some(_) => env_var_list(&r.list("envVars")?)?,
        };
        let allowed_overrides = allowed_overrides(&r)?;
        let inject = r.boolean("inject", true)?;
        if !inject && !allowed_overrides.allows(Override::Inject) {
            return Err(Error::OptInLocked);
        }
        let mount_path = r
            .checked_string("mountPath", names::mount_path)?
            .unwrap_or_else(|| DEFAULT_MOUNT_PATH.to_string());
        let java_trust_store = r.get("javaTrustStore").map(parse_java).transpose()?;
        if let Some(java) = &java_trust_store {
            java_conflicts(java, &source, &env_vars, &mount_path)?;
        }
        let source_check = source_check(&r)?;
        let action = action(&r)?;
        let system_trust_store = system_trust_store(&r, &mount_path)?;
        Ok(Settings {
            source,
            cert_file: r
                .checked_string("certFile", names::config_map_key)?
                .unwrap_or_else(|| DEFAULT_CERT_FILE.to_string()),
            mount_path,
            set_env_var: r.boolean("setEnvVar", true)?,
            ssl_cert_file: r.checked_string("sslCertFile", names::absolute_path)?,
            env_vars,
            exclude_containers: r.globs("excludeContainers")?,
            include_namespaces: r.globs("includeNamespaces")?,
            exclude_namespaces: r.globs("excludeNamespaces")?,
            inject,
            annotation_prefix: r
                .checked_string("annotationPrefix", names::dns_subdomain)?
                .unwrap_or_else(|| DEFAULT_ANNOTATION_PREFIX.to_string()),
            allowed_overrides,
            inject_init_containers: r.boolean("injectInitContainers", true)?,
            java_trust_store,
            source_check,
            status_annotation: r.boolean("statusAnnotation", false)?,
            action,
            system_trust_store,
        })
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
    if let Some(unknown) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        return Err(Error::UnknownSetting {
            key: unknown.clone(),
            known: KNOWN_KEYS,
        });
    }
    Ok(map)
}

/// The one source of `configMap`, `secret` and `clusterTrustBundle`.
fn source(r: &Reader<'_>) -> Result<Source, Error> {
    let config_map = r.checked_string("configMap", names::dns_subdomain)?;
    let secret = r.checked_string("secret", names::dns_subdomain)?;
    let trust_bundle = r
        .get("clusterTrustBundle")
        .map(parse_trust_bundle)
        .transpose()?;
    match (config_map, secret, trust_bundle) {
        (Some(name), None, None) => Ok(Source::ConfigMap(name)),
        (None, Some(name), None) => Ok(Source::Secret(name)),
        (None, None, Some(bundle)) => Ok(Source::ClusterTrustBundle(bundle)),
        (None, None, None) => Err(Error::NoSource),
        _ => Err(Error::SourcesExclusive),
    }
}

/// `allowedOverrides`: every annotation when it is absent.
fn allowed_overrides(r: &Reader<'_>) -> Result<Overrides, Error> {
    if r.get("allowedOverrides").is_none() {
        return Ok(Overrides::all());
    }
    let allow = |set: Overrides, key: &str| match Override::from_key(key) {
        Some(o) => Ok(set.with(o)),
        None => Err(invalid(
            "allowedOverrides",
            key,
            Reason::NotAnnotation(Override::all_keys()),
        )),
    };
    let list = r.list("allowedOverrides")?;
    Ok(list.into_iter().try_fold(Overrides::none(), allow)?)
}

fn source_check(r: &Reader<'_>) -> Result<SourceCheck, Error> {
    // An unquoted `off` reaches us as false from YAML 1.1 readers (kubectl).
    if matches!(r.get("sourceCheck"), None | Some(Value::Bool(false))) {
        return Ok(SourceCheck::Off);
    }
    match r.string("sourceCheck")? {
        Some("off") | None => Ok(SourceCheck::Off),
        Some("warn") => Ok(SourceCheck::Warn),
        Some("reject") => Ok(SourceCheck::Reject),
        Some(other) => Err(Error::from(invalid(
            "sourceCheck",
            other,
            Reason::OneOf(&["off", "warn", "reject"]),
        ))),
    }
}

/// `systemTrustStore`: false, true (the standard list) or a list of files;
/// when on, no file may overlap the mount path.
fn system_trust_store(r: &Reader<'_>, mount_path: &str) -> Result<SystemTrustStore, Error> {
    let standard = || STANDARD_TRUST_STORE.map(String::from).to_vec();
    let store = match r.get(SYSTEM_TRUST_STORE) {
        None => SystemTrustStore {
            on: false,
            files: standard(),
        },
        Some(Value::Array(_)) => SystemTrustStore {
            on: true,
            files: store_files(&r.list(SYSTEM_TRUST_STORE)?)?,
        },
        Some(Value::String(text)) => SystemTrustStore {
            on: names::parse_bool(text).ok_or_else(|| {
                invalid(
                    SYSTEM_TRUST_STORE,
                    text,
                    Reason::MustBe(Expected::StoreFiles),
                )
            })?,
            files: standard(),
        },
        Some(Value::Bool(on)) => SystemTrustStore {
            on: *on,
            files: standard(),
        },
        Some(other) => {
            return Err(Error::from(ValueError::wrong_kind(
                Subject::setting(SYSTEM_TRUST_STORE),
                Expected::StoreFiles,
                Kind::of(other),
            )));
        }
    };
    if !store.on {
        return Ok(store);
    }
    let listed = matches!(r.get(SYSTEM_TRUST_STORE), Some(Value::Array(_)));
    let overlapping = store
        .files
        .iter()
        .enumerate()
        .find(|(_, f)| names::overlap(f, mount_path));
    if let Some((i, file)) = overlapping {
        return Err(Error::from(StoreOverlap {
            subject: if listed {
                Subject::SettingItem(SYSTEM_TRUST_STORE, i)
            } else {
                Subject::setting(SYSTEM_TRUST_STORE)
            },
            file: file.clone(),
            mount_path: mount_path.to_string(),
        }));
    }
    Ok(store)
}

/// The files of `systemTrustStore`'s list: each a file path, none twice,
/// none under another.
fn store_files(files: &[&str]) -> Result<Vec<String>, Error> {
    if files.is_empty() {
        return Err(Error::StoreListEmpty);
    }
    let item = |i: usize, file: &str, reason| {
        Error::from(ValueError::invalid(
            Subject::SettingItem(SYSTEM_TRUST_STORE, i),
            file,
            reason,
        ))
    };
    for (i, file) in files.iter().enumerate() {
        names::store_file(file).map_err(|reason| item(i, file, reason))?;
        if files.iter().take(i).any(|seen| seen == file) {
            return Err(item(i, file, Reason::ListedTwice));
        }
    }
    for (i, file) in files.iter().enumerate() {
        // Different, overlapping and longer: under the other.
        let above = |other: &&&str| file.len() > other.len() && names::overlap(file, other);
        if let Some(above) = files.iter().find(above) {
            return Err(item(i, file, Reason::UnderListedFile(above.to_string())));
        }
    }
    Ok(files.iter().map(|f| f.to_string()).collect())
}

fn action(r: &Reader<'_>) -> Result<Action, Error> {
    match r.string("action")? {
        None | Some("inject") => Ok(Action::Inject),
        Some("require") => Ok(Action::Require),
        Some(other) => Err(Error::from(invalid(
            "action",
            other,
            Reason::OneOf(&["inject", "require"]),
        ))),
    }
}

/// The `javaTrustStore` setting: `{key, type, password}`.
fn parse_java(value: &Value) -> Result<JavaTrustStore, Error> {
    const KEY: &str = "javaTrustStore";
    let nested = Nested::read(
        value,
        KEY,
        &["key", "type", "password"],
        "\"key\" and optionally \"type\" and \"password\"",
    )?;
    let text = |field: &str| nested.text(field);
    let key = text("key")?.ok_or(Error::JavaKeyRequired)?;
    names::config_map_key(key).map_err(|reason| nested.invalid("key", key, reason))?;
    let store_type = match text("type")? {
        None => DEFAULT_TRUST_STORE_TYPE,
        Some(t @ ("PKCS12" | "JKS")) => t,
        Some(other) => {
            return Err(nested
                .invalid("type", other, Reason::OneOf(&["PKCS12", "JKS"]))
                .into());
        }
    };
    let password = text("password")?.unwrap_or(DEFAULT_TRUST_STORE_PASSWORD);
    if password
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
    {
        return Err(Error::JavaPassword);
    }
    Ok(JavaTrustStore {
        key: key.to_string(),
        store_type: store_type.to_string(),
        password: password.to_string(),
    })
}

fn java_conflicts(
    java: &JavaTrustStore,
    source: &Source,
    env_vars: &[String],
    mount_path: &str,
) -> Result<(), Error> {
    if matches!(source, Source::ClusterTrustBundle(_)) {
        return Err(Error::JavaNeedsNamedSource);
    }
    if env_vars.iter().any(|v| v == JAVA_TOOL_OPTIONS) {
        return Err(Error::JavaOptionsListed);
    }
    trust_store_path(mount_path, java)
        .map_err(|reason| invalid("mountPath", mount_path, reason))?;
    Ok(())
}

/// JAVA_TOOL_OPTIONS is split on whitespace, so the store's path cannot hold any.
pub fn trust_store_path(mount_path: &str, java: &JavaTrustStore) -> Result<(), Reason> {
    if mount_path.contains(char::is_whitespace) {
        return Err(Reason::Whitespace {
            key: java.key.clone(),
        });
    }
    Ok(())
}

fn env_var_list(names_in: &[&str]) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::with_capacity(names_in.len());
    for name in names_in {
        names::env_var_name(name).map_err(|reason| invalid("envVars", name, reason))?;
        if out.iter().any(|seen| seen == name) {
            return Err(invalid("envVars", name, Reason::ListedTwice).into());
        }
        out.push((*name).to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Settings, String> {
        Settings::from_json(&v).map_err(|e| e.to_string())
    }

    #[test]
    fn settings_are_read_once_per_text() {
        let first = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        let again = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        assert!(Rc::ptr_eq(&first, &again));
        let other = Settings::cached(r#"{"configMap":"other"}"#).unwrap();
        assert_eq!(other.source, Source::ConfigMap("other".into()));
        let back = Settings::cached(r#"{"configMap":"ca-bundle"}"#).unwrap();
        assert!(!Rc::ptr_eq(&first, &back));
        assert_eq!(back.source, Source::ConfigMap("ca-bundle".into()));
    }

    #[test]
    fn refused_settings_are_refused_on_every_call() {
        let text = r#"{"configMap":"ca-bundle","secret":"x"}"#;
        let message = "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" are \
                       mutually exclusive: set only the one that holds the trust bundle";
        for _ in 0..2 {
            assert_eq!(Settings::cached(text).err().unwrap().to_string(), message);
        }
    }

    #[test]
    fn defaults_follow_the_webhook_config() {
        let s = parse(json!({"configMap": "ca-bundle"})).unwrap();
        assert_eq!(s.source, Source::ConfigMap("ca-bundle".into()));
        assert_eq!(s.cert_file, "ca.crt");
        assert_eq!(s.mount_path, "/cacerts");
        assert!(s.set_env_var);
        assert_eq!(s.ssl_cert_file, None);
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE".to_string()]);
        assert!(s.exclude_containers.is_empty());
        assert!(s.include_namespaces.is_empty());
        assert!(s.exclude_namespaces.is_empty());
        assert!(s.inject);
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
        assert_eq!(s.source, Source::Secret("bundle".into()));
        assert_eq!(s.cert_file, "bundle.pem");
        assert_eq!(s.mount_path, "/etc/ssl/certs");
        assert!(!s.set_env_var);
        assert_eq!(
            s.ssl_cert_file.as_deref(),
            Some("/etc/ssl/certs/bundle.pem")
        );
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"]);
        assert_eq!(s.exclude_containers.len(), 2);
        assert_eq!(s.include_namespaces.len(), 1);
        assert_eq!(s.exclude_namespaces.len(), 1);
        assert!(!s.inject);
        assert_eq!(s.annotation_prefix, "trust.example.com");
        assert_eq!(
            s.allowed_overrides.keys(),
            vec!["inject", "excludeContainers"]
        );
        assert!(!s.inject_init_containers);
    }

    #[test]
    fn null_settings_need_a_source() {
        assert_eq!(
            parse(Value::Null).unwrap_err(),
            "one of the settings \"configMap\" or \"secret\" is required: the name of the \
             ConfigMap or Secret holding the trust bundle in each namespace (e.g. configMap: \
             ca-bundle), or \"clusterTrustBundle\""
        );
    }

    #[test]
    fn config_map_and_secret_are_exclusive() {
        assert_eq!(
            parse(json!({"configMap": "a", "secret": "b"})).unwrap_err(),
            "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" are mutually \
             exclusive: set only the one that holds the trust bundle"
        );
    }

    #[test]
    fn unknown_key_is_refused_with_a_hint() {
        assert_eq!(
            parse(json!({"configMap": "a", "excludeNamespace": ["x"]})).unwrap_err(),
            format!(
                "setting \"excludeNamespace\" is not a known setting (did you mean \
                 \"excludeNamespaces\"?); the settings are: {}",
                KNOWN_KEYS.join(", ")
            )
        );
        assert_eq!(
            parse(json!({"configMap": "a", "zzz": 1})).unwrap_err(),
            format!(
                "setting \"zzz\" is not a known setting; the settings are: {}",
                KNOWN_KEYS.join(", ")
            )
        );
    }

    #[test]
    fn wrong_types_name_the_key() {
        assert_eq!(
            parse(json!({"configMap": 3})).unwrap_err(),
            "setting \"configMap\" must be a string, found a number"
        );
        assert_eq!(
            parse(json!({"configMap": "a", "setEnvVar": "yes"})).unwrap_err(),
            "setting \"setEnvVar\": \"yes\" must be true or false"
        );
        assert_eq!(
            parse(json!({"configMap": "a", "inject": 1})).unwrap_err(),
            "setting \"inject\" must be true or false, found a number"
        );
        assert_eq!(
            parse(json!({"configMap": "a", "envVars": "SSL_CERT_FILE"})).unwrap_err(),
            "setting \"envVars\" must be a list of strings, found a string"
        );
        assert_eq!(
            parse(json!({"configMap": "a", "excludeContainers": ["ok", 1]})).unwrap_err(),
            "setting \"excludeContainers\"[1] must be a string, found a number"
        );
        assert_eq!(
            parse(json!(["configMap"])).unwrap_err(),
            "settings must be an object of keys and values, found a list"
        );
    }

    const OBJECT_NAME: &str = "must be a valid Kubernetes object name: lowercase letters, \
         digits, '-' and '.', starting and ending with a letter or digit (e.g. \"ca-bundle\" or \
         \"my-org.com\")";

    #[test]
    fn invalid_values_name_the_key_and_the_problem() {
        let cases = [
            (
                json!({"configMap": "My_Bundle"}),
                format!("setting \"configMap\": \"My_Bundle\" {OBJECT_NAME}"),
            ),
            (
                json!({"secret": "-x"}),
                format!("setting \"secret\": \"-x\" {OBJECT_NAME}"),
            ),
            (
                json!({"configMap": "a", "certFile": "a/b"}),
                "setting \"certFile\": \"a/b\" must be a valid ConfigMap key: letters, digits, \
                 '-', '_' and '.' (e.g. \"ca.crt\")"
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "mountPath": "certs"}),
                "setting \"mountPath\": \"certs\" must be an absolute path (starting with '/')"
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "mountPath": "/etc"}),
                "setting \"mountPath\": \"/etc\" must not be /etc: the mount would hide the \
                 container's own /etc; use a directory of its own such as \"/cacerts\""
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "mountPath": "/certs/"}),
                "setting \"mountPath\": \"/certs/\" must be a normalised absolute path (no '//', \
                 '.', '..' or trailing '/'), e.g. \"/certs\""
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "sslCertFile": "ca.crt"}),
                "setting \"sslCertFile\": \"ca.crt\" must be an absolute path (starting with '/')"
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "envVars": ["1BAD"]}),
                "setting \"envVars\": \"1BAD\" must be a valid environment variable name: \
                 letters, digits, '_', '-' and '.', not starting with a digit nor with '..', and \
                 not '.' (e.g. \"SSL_CERT_FILE\")"
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "envVars": ["A", "A"]}),
                "setting \"envVars\": \"A\" is listed twice".to_string(),
            ),
            (
                json!({"configMap": "a", "includeNamespaces": ["team-["]}),
                "setting \"includeNamespaces\": \"team-[\" is not a valid glob: '[' opens a \
                 character class that is never closed with ']'"
                    .to_string(),
            ),
            (
                json!({"configMap": "a", "annotationPrefix": "Not Valid"}),
                format!("setting \"annotationPrefix\": \"Not Valid\" {OBJECT_NAME}"),
            ),
            (
                json!({"configMap": "a", "allowedOverrides": ["mountpath"]}),
                "setting \"allowedOverrides\": \"mountpath\" is not an annotation of this policy; \
                 the annotations are: inject, configMap, secret, certFile, mountPath, \
                 sslCertFile, setEnvVar, excludeContainers, excludeNamespaces, \
                 includeNamespaces, javaTrustStore, systemTrustStore"
                    .to_string(),
            ),
        ];
        for (settings, message) in cases {
            assert_eq!(parse(settings.clone()).unwrap_err(), message, "{settings}");
        }
    }

    #[test]
    fn opt_in_mode_needs_inject_override() {
        assert_eq!(
            parse(json!({"configMap": "a", "inject": false, "allowedOverrides": []})).unwrap_err(),
            "setting \"inject\" is false (opt-in mode) but \"allowedOverrides\" does not list \
             \"inject\", so no pod could ever opt in: add \"inject\" to \"allowedOverrides\""
        );
        assert!(
            parse(json!({"configMap": "a", "inject": false, "allowedOverrides": ["inject"]}))
                .is_ok()
        );
    }

    #[test]
    fn empty_allowed_overrides_locks_every_annotation() {
        let s = parse(json!({"configMap": "a", "allowedOverrides": []})).unwrap();
        assert_eq!(s.allowed_overrides, Overrides::none());
    }

    #[test]
    fn null_values_mean_the_default() {
        let s = parse(json!({"configMap": "a", "mountPath": null, "envVars": null})).unwrap();
        assert_eq!(s.mount_path, "/cacerts");
        assert_eq!(s.env_vars, vec!["SSL_CERT_FILE"]);
    }

    #[test]
    fn webhook_string_booleans_are_read() {
        let s = parse(json!({"configMap": "a", "setEnvVar": "false", "inject": "true"})).unwrap();
        assert!(!s.set_env_var);
        assert!(s.inject);
    }

    #[test]
    fn action_is_inject_unless_require_is_asked() {
        let action = |v: Value| parse(v).map(|s| s.action);
        assert_eq!(action(json!({"configMap": "a"})), Ok(Action::Inject));
        assert_eq!(
            action(json!({"configMap": "a", "action": null})),
            Ok(Action::Inject)
        );
        assert_eq!(
            action(json!({"configMap": "a", "action": "inject"})),
            Ok(Action::Inject)
        );
        assert_eq!(
            action(json!({"configMap": "a", "action": "require"})),
            Ok(Action::Require)
        );
    }

    #[test]
    fn action_other_than_inject_or_require_is_refused() {
        assert_eq!(
            parse(json!({"configMap": "a", "action": "audit"})).unwrap_err(),
            "setting \"action\": \"audit\" must be \"inject\" or \"require\""
        );
        assert_eq!(
            parse(json!({"configMap": "a", "action": "Require"})).unwrap_err(),
            "setting \"action\": \"Require\" must be \"inject\" or \"require\""
        );
        assert_eq!(
            parse(json!({"configMap": "a", "action": true})).unwrap_err(),
            "setting \"action\" must be a string, found a boolean"
        );
    }

    #[test]
    fn system_trust_store_is_off_true_or_a_list() {
        let store = |v: Value| parse(v).map(|s| s.system_trust_store);
        let standard: Vec<String> = STANDARD_TRUST_STORE.map(String::from).to_vec();
        let off = SystemTrustStore {
            on: false,
            files: standard.clone(),
        };
        assert_eq!(store(json!({"configMap": "a"})), Ok(off.clone()));
        for value in [json!(false), json!("false"), Value::Null] {
            let settings = json!({"configMap": "a", "systemTrustStore": value});
            assert_eq!(store(settings), Ok(off.clone()), "{value}");
        }
        for value in [json!(true), json!("true")] {
            let settings = json!({"configMap": "a", "systemTrustStore": value});
            let on = SystemTrustStore {
                on: true,
                files: standard.clone(),
            };
            assert_eq!(store(settings), Ok(on), "{value}");
        }
        let own =
            json!({"configMap": "a", "systemTrustStore": ["/etc/ssl/cert.pem", "/opt/ca.pem"]});
        assert_eq!(
            store(own),
            Ok(SystemTrustStore {
                on: true,
                files: vec!["/etc/ssl/cert.pem".into(), "/opt/ca.pem".into()],
            })
        );
    }

    #[test]
    fn system_trust_store_values_are_refused_naming_the_setting() {
        let refused =
            |value: Value| parse(json!({"configMap": "a", "systemTrustStore": value})).unwrap_err();
        assert_eq!(
            refused(json!(1)),
            "setting \"systemTrustStore\" must be true, false or a list of absolute file paths, \
             found a number"
        );
        assert_eq!(
            refused(json!({"files": []})),
            "setting \"systemTrustStore\" must be true, false or a list of absolute file paths, \
             found an object"
        );
        assert_eq!(
            refused(json!("yes")),
            "setting \"systemTrustStore\": \"yes\" must be true, false or a list of absolute \
             file paths"
        );
        assert_eq!(
            refused(json!([])),
            "setting \"systemTrustStore\" is an empty list, which puts the bundle over no file: \
             list the files, or set true for the standard list or false for none"
        );
        assert_eq!(
            refused(json!(["/etc/ssl/cert.pem", 2])),
            "setting \"systemTrustStore\"[1] must be a string, found a number"
        );
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
            assert_eq!(
                refused(json!(["/etc/ssl/cert.pem", "/opt/x.pem", file])),
                format!("setting \"systemTrustStore\"[2]: {file:?} {reason}"),
                "{file}"
            );
        }
    }

    #[test]
    fn system_trust_store_files_are_listed_once_and_never_nested() {
        let refused =
            |files: Value| parse(json!({"configMap": "a", "systemTrustStore": files})).unwrap_err();
        assert_eq!(
            refused(json!(["/etc/ssl/cert.pem", "/a.pem", "/etc/ssl/cert.pem"])),
            "setting \"systemTrustStore\"[2]: \"/etc/ssl/cert.pem\" is listed twice"
        );
        assert_eq!(
            refused(json!(["/etc/ssl/cert.pem/x", "/etc/ssl/cert.pem"])),
            "setting \"systemTrustStore\"[0]: \"/etc/ssl/cert.pem/x\" is under \
             \"/etc/ssl/cert.pem\", another file of the list"
        );
    }

    #[test]
    fn system_trust_store_files_never_overlap_the_mount_path() {
        let overlap = |subject: &str, file: &str, mount_path: &str| {
            format!(
                "{subject}: the system trust store file {file} and the mount path {mount_path} \
                 overlap (one is at or under the other), and a container cannot mount the bundle \
                 at both: use a mountPath apart from the system trust store files, or leave \
                 {file} out of systemTrustStore's list"
            )
        };
        assert_eq!(
            parse(
                json!({"configMap": "a", "mountPath": "/etc/ssl/certs", "systemTrustStore": true})
            )
            .unwrap_err(),
            overlap(
                "setting \"systemTrustStore\"",
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/ssl/certs"
            )
        );
        assert_eq!(
            parse(json!({"configMap": "a", "systemTrustStore": ["/x.pem", "/cacerts"]}))
                .unwrap_err(),
            overlap("setting \"systemTrustStore\"[1]", "/cacerts", "/cacerts")
        );
        assert_eq!(
            parse(
                json!({"configMap": "a", "mountPath": "/x.pem/in", "systemTrustStore": ["/x.pem"]})
            )
            .unwrap_err(),
            overlap("setting \"systemTrustStore\"[0]", "/x.pem", "/x.pem/in")
        );
        // Off, the standard list may overlap: only an annotation could turn it on.
        let off = parse(json!({"configMap": "a", "mountPath": "/etc/ssl/certs"})).unwrap();
        assert!(!off.system_trust_store.on);
        // The list form drops the overlapping file.
        let listed = json!({"configMap": "a", "mountPath": "/etc/ssl/certs",
            "systemTrustStore": ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]});
        assert!(parse(listed).is_ok());
    }

    #[test]
    fn yaml_off_reads_as_source_check_off() {
        let s = parse(json!({"configMap": "a", "sourceCheck": false})).unwrap();
        assert_eq!(s.source_check, SourceCheck::Off);
        assert_eq!(
            parse(json!({"configMap": "a", "sourceCheck": true})).unwrap_err(),
            "setting \"sourceCheck\" must be a string, found a boolean"
        );
    }
}
