//! The policy settings: the keys of the webhook's config.yaml, their defaults,
//! and the checks that refuse a bad configuration with a message naming the key.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::names;
use crate::selection::Glob;
use crate::source::parse_trust_bundle;
pub use crate::source::Source;

pub const DEFAULT_CERT_FILE: &str = "ca.crt";
pub const DEFAULT_MOUNT_PATH: &str = "/cacerts";
pub const DEFAULT_ENV_VAR: &str = "SSL_CERT_FILE";
pub const DEFAULT_ANNOTATION_PREFIX: &str = "cainjector.lestak.sh";
pub const DEFAULT_TRUST_STORE_TYPE: &str = "PKCS12";
/// The conventional trust store password, trust-manager's default for JKS.
pub const DEFAULT_TRUST_STORE_PASSWORD: &str = "changeit";
pub const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";

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
];

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
}

impl Override {
    pub const ALL: [Override; 11] = [
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
        }
    }

    pub fn from_key(key: &str) -> Option<Override> {
        Override::ALL.into_iter().find(|o| o.key() == key)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn all_keys() -> String {
        let keys: Vec<&str> = Override::ALL.iter().map(|o| o.key()).collect();
        keys.join(", ")
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
}

/// How a JSON value is named in messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

struct Reader<'a>(&'a Map<String, Value>);

impl<'a> Reader<'a> {
    /// A present, non-null value.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "setting \"{key}\" must be a string, found {}",
                kind_of(other)
            )),
        }
    }

    fn checked_string(
        &self,
        key: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, String> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => check(s)
                .map(|()| Some(s.to_string()))
                .map_err(|reason| format!("setting \"{key}\": {s:?} {reason}")),
        }
    }

    /// A boolean; the strings "true" and "false" (as Go's ParseBool spells
    /// them) are taken too, as the webhook's config.yaml had them.
    fn boolean(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => names::parse_bool(s)
                .ok_or_else(|| format!("setting \"{key}\": {s:?} must be true or false")),
            Some(other) => Err(format!(
                "setting \"{key}\" must be true or false, found {}",
                kind_of(other)
            )),
        }
    }

    fn list(&self, key: &str) -> Result<Vec<&'a str>, String> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(format!(
                    "setting \"{key}\" must be a list of strings, found {}",
                    kind_of(other)
                ))
            }
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().ok_or_else(|| {
                    format!(
                        "setting \"{key}\"[{i}] must be a string, found {}",
                        kind_of(item)
                    )
                })
            })
            .collect()
    }

    fn globs(&self, key: &str) -> Result<Vec<Glob>, String> {
        self.list(key)?
            .into_iter()
            .map(|p| {
                Glob::parse(p).map_err(|reason| {
                    format!("setting \"{key}\": {p:?} is not a valid glob: {reason}")
                })
            })
            .collect()
    }
}

impl Settings {
    /// The settings in `text` (JSON), read and checked once per text: the host
    /// sends the same settings bytes on every call of one policy instance, so
    /// each call after the first only compares them with the last ones.
    pub fn cached(text: &str) -> Result<Rc<Settings>, String> {
        thread_local! {
            static LAST: RefCell<Option<(Box<str>, Rc<Settings>)>> = const { RefCell::new(None) };
        }
        if let Some(settings) = LAST.with_borrow(|last| {
            last.as_ref()
                .filter(|(key, _)| **key == *text)
                .map(|(_, settings)| Rc::clone(settings))
        }) {
            return Ok(settings);
        }
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let settings = Rc::new(Settings::from_json(&value)?);
        LAST.set(Some((text.into(), Rc::clone(&settings))));
        Ok(settings)
    }

    pub fn from_json(value: &Value) -> Result<Settings, String> {
        let empty = Map::new();
        let map = match value {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => {
                return Err(format!(
                    "settings must be an object of keys and values, found {}",
                    kind_of(other)
                ))
            }
        };
        if let Some(unknown) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(unknown_key_message(unknown));
        }
        let r = Reader(map);

        let config_map = r.checked_string("configMap", names::dns_subdomain)?;
        let secret = r.checked_string("secret", names::dns_subdomain)?;
        let trust_bundle = r
            .get("clusterTrustBundle")
            .map(parse_trust_bundle)
            .transpose()?;
        let source = match (config_map, secret, trust_bundle) {
            (Some(name), None, None) => Source::ConfigMap(name),
            (None, Some(name), None) => Source::Secret(name),
            (None, None, Some(bundle)) => Source::ClusterTrustBundle(bundle),
            (None, None, None) => {
                return Err(
                    "one of the settings \"configMap\" or \"secret\" is required: \
                     the name of the ConfigMap or Secret holding the trust bundle in each \
                     namespace (e.g. configMap: ca-bundle), or \"clusterTrustBundle\""
                        .to_string(),
                )
            }
            _ => {
                return Err("the settings \"configMap\", \"secret\" and \
                     \"clusterTrustBundle\" are mutually exclusive: set only the one that \
                     holds the trust bundle"
                    .to_string())
            }
        };

        let env_vars = match r.get("envVars") {
            None => vec![DEFAULT_ENV_VAR.to_string()],
            Some(_) => env_var_list(&r.list("envVars")?)?,
        };

        let allowed_overrides = match r.get("allowedOverrides") {
            None => Overrides::all(),
            Some(_) => r.list("allowedOverrides")?.into_iter().try_fold(
                Overrides::none(),
                |set, key| match Override::from_key(key) {
                    Some(o) => Ok(set.with(o)),
                    None => Err(format!(
                        "setting \"allowedOverrides\": {key:?} is not an annotation of this \
                         policy; the annotations are: {}",
                        Override::all_keys()
                    )),
                },
            )?,
        };

        let inject = r.boolean("inject", true)?;
        if !inject && !allowed_overrides.allows(Override::Inject) {
            return Err(
                "setting \"inject\" is false (opt-in mode) but \"allowedOverrides\" does not \
                 list \"inject\", so no pod could ever opt in: add \"inject\" to \
                 \"allowedOverrides\""
                    .to_string(),
            );
        }

        let mount_path = r
            .checked_string("mountPath", names::mount_path)?
            .unwrap_or_else(|| DEFAULT_MOUNT_PATH.to_string());
        let java_trust_store = r.get("javaTrustStore").map(parse_java).transpose()?;
        if let Some(java) = &java_trust_store {
            java_conflicts(java, &source, &env_vars, &mount_path)?;
        }
        // An unquoted `off` reaches us as false from YAML 1.1 readers (kubectl).
        let source_check = match r.get("sourceCheck") {
            None | Some(Value::Bool(false)) => SourceCheck::Off,
            Some(_) => match r.string("sourceCheck")? {
                Some("off") | None => SourceCheck::Off,
                Some("warn") => SourceCheck::Warn,
                Some("reject") => SourceCheck::Reject,
                Some(other) => {
                    return Err(format!(
                        "setting \"sourceCheck\": {other:?} must be \"off\", \"warn\" or \"reject\""
                    ))
                }
            },
        };

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
        })
    }
}

/// A setting that is an object of its own fields, each named in messages as
/// `setting.field`.
pub struct Nested<'m> {
    key: &'static str,
    map: &'m Map<String, Value>,
}

impl<'m> Nested<'m> {
    /// `value` as an object with only `fields`; `form` says what it should hold.
    pub fn read(
        value: &'m Value,
        key: &'static str,
        fields: &[&str],
        form: &str,
    ) -> Result<Nested<'m>, String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "setting \"{key}\" must be an object with {form}, found {}",
                kind_of(value)
            ));
        };
        if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(format!(
                "setting \"{key}.{unknown}\" is not known: use {form}"
            ));
        }
        Ok(Nested { key, map })
    }

    /// A string field; absent or null is `None`.
    pub fn text(&self, field: &str) -> Result<Option<&'m str>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "setting \"{}.{field}\" must be a string, found {}",
                self.key,
                kind_of(other)
            )),
        }
    }

    pub fn get(&self, field: &str) -> Option<&'m Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }
}

/// The `javaTrustStore` setting: `{key, type, password}`.
fn parse_java(value: &Value) -> Result<JavaTrustStore, String> {
    const KEY: &str = "javaTrustStore";
    let nested = Nested::read(
        value,
        KEY,
        &["key", "type", "password"],
        "\"key\" and optionally \"type\" and \"password\"",
    )?;
    let text = |field: &str| nested.text(field);
    let key = text("key")?.ok_or_else(|| {
        format!(
            "setting \"{KEY}.key\" is required: the key of the trust store in the bundle \
             (e.g. trust-manager's additionalFormats output \"truststore.p12\")"
        )
    })?;
    names::config_map_key(key)
        .map_err(|reason| format!("setting \"{KEY}.key\": {key:?} {reason}"))?;
    let store_type = match text("type")? {
        None => DEFAULT_TRUST_STORE_TYPE,
        Some(t @ ("PKCS12" | "JKS")) => t,
        Some(other) => {
            return Err(format!(
                "setting \"{KEY}.type\": {other:?} must be \"PKCS12\" or \"JKS\""
            ))
        }
    };
    let password = text("password")?.unwrap_or(DEFAULT_TRUST_STORE_PASSWORD);
    if password
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
    {
        return Err(format!(
            "setting \"{KEY}.password\" must be without spaces or quotes: JAVA_TOOL_OPTIONS \
             is split on spaces"
        ));
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
) -> Result<(), String> {
    if matches!(source, Source::ClusterTrustBundle(_)) {
        return Err(
            "setting \"javaTrustStore\" needs a ConfigMap or Secret source: a \
             ClusterTrustBundle projects only the PEM bundle"
                .to_string(),
        );
    }
    if env_vars.iter().any(|v| v == JAVA_TOOL_OPTIONS) {
        return Err(format!(
            "setting \"envVars\" must not list {JAVA_TOOL_OPTIONS} when \"javaTrustStore\" \
             is set: the policy adds the trust store options to it"
        ));
    }
    trust_store_path(mount_path, java).map_err(|reason| format!("setting \"mountPath\": {reason}"))
}

/// JAVA_TOOL_OPTIONS is split on whitespace, so the store's path cannot hold any.
pub fn trust_store_path(mount_path: &str, java: &JavaTrustStore) -> Result<(), String> {
    if mount_path.contains(char::is_whitespace) {
        return Err(format!(
            "{mount_path:?} contains whitespace, which JAVA_TOOL_OPTIONS cannot carry (setting \
             javaTrustStore, key {:?})",
            java.key
        ));
    }
    Ok(())
}

fn env_var_list(names_in: &[&str]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(names_in.len());
    for name in names_in {
        names::env_var_name(name)
            .map_err(|reason| format!("setting \"envVars\": {name:?} {reason}"))?;
        if out.iter().any(|seen| seen == name) {
            return Err(format!("setting \"envVars\": {name:?} is listed twice"));
        }
        out.push((*name).to_string());
    }
    Ok(out)
}

fn unknown_key_message(unknown: &str) -> String {
    let hint = KNOWN_KEYS
        .iter()
        .find(|k| is_near(k, unknown))
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    format!(
        "setting \"{unknown}\" is not a known setting{hint}; the settings are: {}",
        KNOWN_KEYS.join(", ")
    )
}

/// Whether `typed` is likely a typo of `known`: the same but for case, or
/// at most two edits away (compared only when the lengths allow it, so that a
/// huge key costs nothing).
pub fn is_near(known: &str, typed: &str) -> bool {
    known.eq_ignore_ascii_case(typed)
        || (known.len().abs_diff(typed.len()) <= 2 && edit_distance(known, typed) <= 2)
}

/// Levenshtein distance, for "did you mean" hints on short keys.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            let delete = row
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = next.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            diagonal = row.get(j + 1).copied().unwrap_or(usize::MAX);
            next.push(substitute.min(delete).min(insert));
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Settings, String> {
        Settings::from_json(&v)
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
        let message = "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" are mutually exclusive: set only the one that holds the trust bundle";
        assert_eq!(Settings::cached(text).err().unwrap(), message);
        assert_eq!(Settings::cached(text).err().unwrap(), message);
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

    #[test]
    fn invalid_values_name_the_key_and_the_problem() {
        let cases = [
            (
                json!({"configMap": "My_Bundle"}),
                "setting \"configMap\": \"My_Bundle\" must be",
            ),
            (
                json!({"secret": "-x"}),
                "setting \"secret\": \"-x\" must be",
            ),
            (
                json!({"configMap": "a", "certFile": "a/b"}),
                "setting \"certFile\": \"a/b\" must be",
            ),
            (
                json!({"configMap": "a", "mountPath": "certs"}),
                "setting \"mountPath\": \"certs\" must be an absolute path",
            ),
            (
                json!({"configMap": "a", "mountPath": "/etc"}),
                "setting \"mountPath\": \"/etc\" must not be /etc",
            ),
            (
                json!({"configMap": "a", "mountPath": "/certs/"}),
                "setting \"mountPath\": \"/certs/\" must be a normalised",
            ),
            (
                json!({"configMap": "a", "sslCertFile": "ca.crt"}),
                "setting \"sslCertFile\": \"ca.crt\" must be an absolute path",
            ),
            (
                json!({"configMap": "a", "envVars": ["1BAD"]}),
                "setting \"envVars\": \"1BAD\" must be a valid environment variable name",
            ),
            (
                json!({"configMap": "a", "envVars": ["A", "A"]}),
                "setting \"envVars\": \"A\" is listed twice",
            ),
            (
                json!({"configMap": "a", "includeNamespaces": ["team-["]}),
                "setting \"includeNamespaces\": \"team-[\" is not a valid glob",
            ),
            (
                json!({"configMap": "a", "annotationPrefix": "Not Valid"}),
                "setting \"annotationPrefix\": \"Not Valid\" must be",
            ),
            (
                json!({"configMap": "a", "allowedOverrides": ["mountpath"]}),
                "setting \"allowedOverrides\": \"mountpath\" is not an annotation of this policy",
            ),
        ];
        for (settings, start) in cases {
            let err = parse(settings.clone()).unwrap_err();
            assert!(err.starts_with(start), "{settings}: {err}");
        }
    }

    #[test]
    fn opt_in_mode_needs_inject_override() {
        assert!(
            parse(json!({"configMap": "a", "inject": false, "allowedOverrides": []}))
                .unwrap_err()
                .starts_with("setting \"inject\" is false (opt-in mode) but \"allowedOverrides\"")
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
    fn yaml_off_reads_as_source_check_off() {
        let s = parse(json!({"configMap": "a", "sourceCheck": false})).unwrap();
        assert_eq!(s.source_check, SourceCheck::Off);
        assert_eq!(
            parse(json!({"configMap": "a", "sourceCheck": true})).unwrap_err(),
            "setting \"sourceCheck\" must be a string, found a boolean"
        );
    }

    #[test]
    fn typos_are_near_and_huge_keys_are_not_compared() {
        assert!(is_near("excludeNamespaces", "excludeNamespace"));
        assert!(is_near("mountPath", "mountpath"));
        assert!(!is_near("mountPath", &"m".repeat(1_000_000)));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
