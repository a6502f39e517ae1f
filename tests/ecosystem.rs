//! The files that make cainjector a Kubewarden policy like the others
//! (metadata.yml, questions-ui.yml, policy-settings/, examples/) stay in step
//! with each other and with the code: every settings object they carry is
//! checked by the policy's own `check_settings`. artifacthub-pkg.yml is not
//! in the repository: the release generates it from metadata.yml and
//! questions-ui.yml (docs/releasing.md), whose annotations are checked here.

use std::collections::BTreeSet;
use std::fs;

use cainjector::check_settings;
use cainjector::settings::{
    Action, DEFAULT_TRUST_STORE_PASSWORD, DEFAULT_TRUST_STORE_TYPE, Overrides, Settings, Source,
};
use serde_json::{Map, Value, json};

mod common;

use common::{path, text, yaml};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The keys of the mapping at `path` in the YAML file, in the order written
/// (serde_yaml's mapping keeps it; serde_json's map sorts its keys).
fn written_keys(relative: &str, path: &[&str]) -> Vec<String> {
    let mut node: serde_yaml::Value =
        serde_yaml::from_str(&text(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    for key in path {
        node = node[*key].clone();
    }
    let mapping = node
        .as_mapping()
        .unwrap_or_else(|| panic!("{relative}: no mapping at {path:?}"));
    mapping
        .keys()
        .map(|k| k.as_str().expect("string keys").to_string())
        .collect()
}

/// The settings' refusal as its message.
fn check(settings: &Value) -> Result<(), String> {
    check_settings(&serde_json::to_vec(settings).unwrap()).map_err(|e| e.to_string())
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} is not a string in {value}"))
}

fn metadata() -> Value {
    yaml("metadata.yml")
}

fn annotation<'v>(metadata: &'v Value, key: &str) -> &'v str {
    metadata["annotations"][key]
        .as_str()
        .unwrap_or_else(|| panic!("metadata.yml has no annotation {key}"))
}

/// `io.artifacthub.keywords` split as kwctl splits it.
fn keywords(metadata: &Value) -> Vec<String> {
    annotation(metadata, "io.artifacthub.keywords")
        .split(',')
        .map(|k| k.trim_matches(' ').to_string())
        .collect()
}

/// The OCI reference kwctl derives from `io.kubewarden.policy.ociUrl`.
fn oci_reference(metadata: &Value) -> String {
    format!(
        "{}:v{VERSION}",
        annotation(metadata, "io.kubewarden.policy.ociUrl")
    )
}

fn questions() -> Vec<Value> {
    match yaml("questions-ui.yml")["questions"].clone() {
        Value::Array(questions) => questions,
        other => panic!("questions-ui.yml: questions must be a list, found {other}"),
    }
}

fn variable(question: &Value) -> &str {
    str_at(question, "/variable")
}

/// The settings keys the policy knows, as it lists them when it refuses an
/// unknown key.
fn known_settings() -> BTreeSet<String> {
    let message = check(&json!({"configMap": "ca-bundle", "notASetting": true}))
        .expect_err("an unknown key must be refused");
    let (_, list) = message
        .split_once("the settings are: ")
        .unwrap_or_else(|| panic!("the refusal does not list the settings: {message}"));
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn metadata_version_is_the_crate_version() {
    assert_eq!(
        annotation(&metadata(), "io.kubewarden.policy.version"),
        VERSION
    );
}

/// The fields of kwctl's `Metadata` (policy-evaluator's policy_metadata.rs):
/// kwctl ignores any other key silently, so one there would be a setting
/// that does nothing.
const KWCTL_METADATA_FIELDS: [&str; 10] = [
    "protocolVersion",
    "rules",
    "annotations",
    "mutating",
    "backgroundAudit",
    "executionMode",
    "policyType",
    "contextAwareResources",
    "hostCapabilities",
    "minimumKubewardenVersion",
];

#[test]
fn metadata_has_only_fields_kwctl_reads() {
    let fields = written_keys("metadata.yml", &[]);
    let unknown: Vec<&String> = fields
        .iter()
        .filter(|f| !KWCTL_METADATA_FIELDS.contains(&f.as_str()))
        .collect();
    assert!(unknown.is_empty(), "kwctl does not read {unknown:?}");
}

#[test]
fn metadata_has_what_kwctl_requires() {
    let m = metadata();
    assert_eq!(
        m["rules"],
        json!([{
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "resources": ["pods"],
            "operations": ["CREATE"]
        }])
    );
    assert_eq!(m["mutating"], json!(true));
    // With `action: require` the policy's audit answers are meaningful;
    // `kwctl scaffold manifest` copies this into the policy resource.
    assert_eq!(m["backgroundAudit"], json!(true));
    // The default settings read nothing from the cluster, so the metadata grants
    // nothing: `kwctl scaffold manifest --allow-context-aware` copies this list
    // into the policy resource. sourceCheck's read of the bundle (ConfigMap or
    // Secret) is granted by the resource that turns it on.
    assert_eq!(m.get("contextAwareResources"), None);
    assert_eq!(m["hostCapabilities"], json!(["kubernetes/get_resource"]));
    assert_eq!(m["executionMode"], json!("kubewarden-wapc"));
    assert_eq!(annotation(&m, "io.kubewarden.policy.title"), "cainjector");
    assert_eq!(annotation(&m, "io.kubewarden.policy.license"), "Apache-2.0");
    assert_eq!(
        annotation(&m, "io.kubewarden.policy.author"),
        "cainjector maintainers <maintainers@cainjector.dev>"
    );
    for key in ["io.kubewarden.policy.url", "io.kubewarden.policy.source"] {
        assert_eq!(
            annotation(&m, key),
            "https://github.com/cainjector/cainjector"
        );
    }
    // kwctl appends ":v<version>" itself: the annotation carries no tag.
    assert_eq!(
        annotation(&m, "io.kubewarden.policy.ociUrl"),
        "ghcr.io/cainjector/policies/cainjector"
    );
    assert_eq!(annotation(&m, "io.artifacthub.resources"), "Pod");
    assert!(
        !annotation(&m, "io.kubewarden.policy.description").is_empty()
            && !annotation(&m, "io.artifacthub.displayName").is_empty()
    );
    // kwctl refuses an empty keyword (",," or a trailing comma).
    let words = keywords(&m);
    assert!(words.iter().all(|w| !w.is_empty()), "{words:?}");
    assert!(
        ["info", "low", "medium", "high", "critical"]
            .contains(&annotation(&m, "io.kubewarden.policy.severity"))
    );
    assert!(!annotation(&m, "io.kubewarden.policy.category").is_empty());
}

#[test]
fn every_settings_file_is_accepted() {
    let mut names: Vec<String> = fs::read_dir(path("policy-settings"))
        .expect("policy-settings/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    names.sort();
    for expected in [
        "default.yaml",
        "language-env.yaml",
        "locked-overrides.yaml",
        "opt-in.yaml",
        "secret-source.yaml",
        "trust-manager.yaml",
        "webhook-migration.yaml",
        "require.yaml",
        "system-trust-store.yaml",
        "every-runtime.yaml",
        "java-cacerts.yaml",
        "env-values.yaml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    for name in &names {
        let relative = format!("policy-settings/{name}");
        assert!(
            text(&relative).starts_with('#'),
            "{relative} has no header comment"
        );
        assert_eq!(check(&yaml(&relative)), Ok(()), "{relative}");
    }
}

fn settings_file(name: &str) -> Settings {
    Settings::from_json(&yaml(&format!("policy-settings/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn settings_files_configure_what_their_names_say() {
    assert_eq!(
        settings_file("language-env.yaml").env_vars,
        [
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "GIT_SSL_CAINFO",
            "AWS_CA_BUNDLE"
        ]
    );
    assert_eq!(
        settings_file("locked-overrides.yaml")
            .allowed_overrides
            .keys(),
        ["inject", "excludeContainers"]
    );
    // Both Java modes read the example Bundle's one pkcs12 target, which is written
    // without a password: the JDK opens it with none, over its cacerts and through
    // JAVA_TOOL_OPTIONS alike (a store with a password over cacerts gives the JVM no
    // trusted certificate: docs/trust-matrix.md, "Java without a JVM option").
    let bundle = example("trust-manager-bundle.yaml");
    let pkcs12 = &bundle["spec"]["target"]["additionalFormats"]["pkcs12"];
    assert_eq!(*pkcs12, json!({"key": "truststore.p12", "password": ""}));
    let java = settings_file("language-env.yaml")
        .java_trust_store
        .expect("a Java trust store");
    assert_eq!(
        java.options("/cacerts"),
        "-Djavax.net.ssl.trustStore=/cacerts/truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12"
    );
    assert!(!settings_file("opt-in.yaml").values.inject);
    let cacerts = settings_file("java-cacerts.yaml");
    assert_eq!(
        cacerts.java_cacerts,
        cainjector::settings::STANDARD_JAVA_CACERTS
    );
    assert_eq!(
        cacerts.java_trust_store.map(|j| j.key).as_deref(),
        Some(str_at(pkcs12, "/key"))
    );
    let values = settings_file("env-values.yaml").env_values;
    let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["DENO_TLS_CA_STORE", "NODE_USE_SYSTEM_CA", "UV_NATIVE_TLS"]
    );
    let store = settings_file("system-trust-store.yaml");
    assert!(store.values.system_trust_store);
    assert_eq!(
        store.system_trust_store,
        cainjector::settings::STANDARD_TRUST_STORE
    );
    // every-runtime.yaml is language-env.yaml plus `systemTrustStore: true`, nothing else.
    let mut every = yaml("policy-settings/every-runtime.yaml");
    assert_eq!(
        every
            .as_object_mut()
            .and_then(|s| s.remove("systemTrustStore")),
        Some(json!(true))
    );
    assert_eq!(every, yaml("policy-settings/language-env.yaml"));
    // require.yaml is trust-manager.yaml plus `action: require`, nothing else.
    let mut require = yaml("policy-settings/require.yaml");
    assert_eq!(
        require.as_object_mut().and_then(|s| s.remove("action")),
        Some(json!("require"))
    );
    assert_eq!(require, yaml("policy-settings/trust-manager.yaml"));
    assert_eq!(settings_file("require.yaml").action, Action::Require);
    assert_eq!(
        settings_file("secret-source.yaml").values.source,
        Source::Secret("ca-bundle".into())
    );
    let trust_manager = settings_file("trust-manager.yaml");
    assert_eq!(
        trust_manager.values.source,
        Source::ConfigMap("ca-bundle".into())
    );
    assert_eq!(
        (
            trust_manager.values.cert_file.as_str(),
            trust_manager.values.mount_path.as_str()
        ),
        ("ca.crt", "/cacerts")
    );
}

#[test]
fn webhook_migration_uses_only_the_webhook_config_keys() {
    let keys: BTreeSet<String> = yaml("policy-settings/webhook-migration.yaml")
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let webhook_keys: BTreeSet<String> = [
        "inject",
        "secret",
        "configMap",
        "certFile",
        "mountPath",
        "setEnvVar",
        "includeNamespaces",
        "excludeContainers",
        "excludeNamespaces",
    ]
    .map(String::from)
    .into();
    assert!(keys.is_subset(&webhook_keys), "{keys:?}");
    // A dotted ConfigMap name, as in the webhook's own example, is valid.
    assert_eq!(
        settings_file("webhook-migration.yaml").values.source,
        Source::ConfigMap("my-org.com".into())
    );
}

#[test]
fn questions_cover_exactly_the_known_settings() {
    let known = known_settings();
    assert!(known.contains("configMap") && known.len() > 1, "{known:?}");
    let asked: Vec<String> = questions()
        .iter()
        .map(|q| variable(q).to_string())
        .collect();
    let asked_set: BTreeSet<String> = asked.iter().cloned().collect();
    assert_eq!(asked_set.len(), asked.len(), "a setting is asked twice");
    assert_eq!(asked_set, known);
    // Each one is accepted on its own (null means "the default").
    for key in &asked {
        let mut settings = Map::new();
        settings.insert("configMap".into(), json!("ca-bundle"));
        if key != "configMap" {
            settings.insert(key.clone(), Value::Null);
        }
        assert_eq!(check(&Value::Object(settings)), Ok(()), "{key}");
    }
}

fn subquestions(question: &Value) -> &[Value] {
    question["subquestions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The fields of an object setting, as the policy lists them when it
/// refuses an unknown one.
fn known_fields(setting: &str) -> BTreeSet<String> {
    let message = check(&json!({"configMap": "ca-bundle", setting: {"notAField": "x"}}))
        .expect_err("an unknown field must be refused");
    let (_, list) = message
        .split_once("is not known: ")
        .unwrap_or_else(|| panic!("the refusal does not list the fields: {message}"));
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn subquestions_cover_exactly_the_known_fields() {
    let with_fields: Vec<Value> = questions()
        .into_iter()
        .filter(|q| !subquestions(q).is_empty())
        .collect();
    let names: Vec<&str> = with_fields.iter().map(variable).collect();
    assert_eq!(names, ["clusterTrustBundle", "javaTrustStore"]);
    for q in &with_fields {
        let parent = variable(q);
        let fields: BTreeSet<String> = subquestions(q)
            .iter()
            .map(|sub| {
                let path = variable(sub)
                    .strip_prefix(&format!("{parent}."))
                    .unwrap_or_else(|| panic!("{} is not under {parent}", variable(sub)));
                path.split('.').next().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(fields, known_fields(parent), "{parent}");
    }
}

#[test]
fn questions_have_what_the_rancher_ui_needs() {
    let questions = questions();
    let booleans: BTreeSet<&str> = questions
        .iter()
        .filter(|q| q["type"] == "boolean")
        .map(variable)
        .collect();
    let all = questions
        .iter()
        .flat_map(|q| std::iter::once(q).chain(subquestions(q)));
    for q in all {
        let name = variable(q);
        for field in ["label", "type", "group", "description"] {
            assert!(
                q[field].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: {field}"
            );
        }
        assert!(q.get("default").is_some(), "{name}: default");
        let kind = str_at(q, "/type");
        assert!(
            ["string", "boolean", "array[", "enum", "map["].contains(&kind),
            "{name}: type {kind}"
        );
        // A top-level object has its fields as subquestions, or is a map of
        // names to values (envValues).
        let top_level = name.split('.').count() == 1;
        assert_eq!(
            kind == "map[" && top_level,
            !subquestions(q).is_empty() || (top_level && q["default"] == json!({})),
            "{name}: subquestions"
        );
        if kind == "enum" {
            let options = q["options"].as_array().cloned().unwrap_or_default();
            assert!(!options.is_empty(), "{name}: options");
            assert!(
                q["default"] == "" || options.contains(&q["default"]),
                "{name}: default not among the options"
            );
        }
        if let Some(condition) = q.get("show_if") {
            let condition = condition.as_str().unwrap_or_default();
            let (other, _) = condition.split_once('=').unwrap_or_default();
            assert!(booleans.contains(other), "{name}: show_if {condition}");
        }
    }
}

fn set_dotted(settings: &mut Map<String, Value>, variable: &str, value: Value) {
    match variable.split_once('.') {
        None => {
            settings.insert(variable.to_string(), value);
        }
        Some((head, rest)) => {
            let child = settings
                .entry(head.to_string())
                .or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Value::Object(child) = child {
                set_dotted(child, rest, value);
            }
        }
    }
}

/// Nulls, empty strings, empty lists and empty objects are dropped before the
/// kubewarden UI submits a policy.
fn drop_empty(settings: &mut Map<String, Value>) {
    for value in settings.values_mut() {
        if let Value::Object(child) = value {
            drop_empty(child);
        }
    }
    settings.retain(|_, value| match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    });
}

/// The settings the kubewarden UI submits when the questions are left at
/// their defaults, with `filled` typed in.
fn ui_settings(filled: &[(&str, Value)]) -> Value {
    let mut settings = Map::new();
    for q in questions() {
        let leaves = match subquestions(&q) {
            [] => vec![q.clone()],
            subs => subs.to_vec(),
        };
        for leaf in leaves {
            set_dotted(&mut settings, variable(&leaf), leaf["default"].clone());
        }
    }
    for (name, value) in filled {
        set_dotted(&mut settings, name, value.clone());
    }
    drop_empty(&mut settings);
    Value::Object(settings)
}

#[test]
fn question_defaults_are_the_policy_defaults() {
    let submitted = ui_settings(&[]);
    let from_ui = Settings::from_json(&submitted).expect("defaults are valid");
    let from_code = Settings::from_json(&json!({"configMap": "ca-bundle"})).expect("valid");
    assert_eq!(from_ui.values.source, from_code.values.source);
    assert_eq!(from_ui.values.cert_file, from_code.values.cert_file);
    assert_eq!(from_ui.values.mount_path, from_code.values.mount_path);
    assert_eq!(from_ui.values.set_env_var, from_code.values.set_env_var);
    assert_eq!(from_ui.values.ssl_cert_file, from_code.values.ssl_cert_file);
    assert_eq!(from_ui.env_vars, from_code.env_vars);
    assert_eq!(from_ui.exclude_containers, from_code.exclude_containers);
    assert_eq!(from_ui.include_namespaces, from_code.include_namespaces);
    assert_eq!(from_ui.exclude_namespaces, from_code.exclude_namespaces);
    assert_eq!(from_ui.values.inject, from_code.values.inject);
    assert_eq!(from_ui.annotation_prefix, from_code.annotation_prefix);
    assert_eq!(from_ui.allowed_overrides, Overrides::all());
    assert_eq!(
        from_ui.inject_init_containers,
        from_code.inject_init_containers
    );
    assert_eq!(from_ui.java_trust_store, None);
    assert_eq!(from_ui.source_check, from_code.source_check);
    assert_eq!(from_ui.status_annotation, from_code.status_annotation);
    assert_eq!(from_ui.action, Action::Inject);
    assert_eq!(from_ui.system_trust_store, from_code.system_trust_store);
    assert_eq!(from_ui.values, from_code.values);
}

#[test]
fn java_trust_store_question_defaults_are_the_policy_defaults() {
    let submitted = ui_settings(&[("javaTrustStore.key", json!("truststore.p12"))]);
    assert_eq!(
        submitted["javaTrustStore"],
        json!({"key": "truststore.p12"})
    );
    let java = Settings::from_json(&submitted)
        .expect("valid")
        .java_trust_store
        .expect("a Java trust store");
    assert_eq!(
        (java.store_type.as_str(), java.password.as_str()),
        (DEFAULT_TRUST_STORE_TYPE, DEFAULT_TRUST_STORE_PASSWORD)
    );
}

fn example(name: &str) -> Value {
    yaml(&format!("examples/{name}"))
}

/// The coverage policies next to the injecting one.
const REQUIRE_EXAMPLES: [&str; 2] = [
    "cluster-admission-policy-audit.yaml",
    "cluster-admission-policy-guard.yaml",
];

#[test]
fn example_policies_carry_accepted_settings() {
    let injecting = ["cluster-admission-policy.yaml", "admission-policy.yaml"];
    for name in injecting.into_iter().chain(REQUIRE_EXAMPLES) {
        let policy = example(name);
        assert_eq!(check(&policy["spec"]["settings"]), Ok(()), "{name}");
    }
}

#[test]
fn example_policies_match_metadata() {
    let m = metadata();
    let module = format!("registry://{}", oci_reference(&m));
    for (name, kind) in [
        ("cluster-admission-policy.yaml", "ClusterAdmissionPolicy"),
        ("admission-policy.yaml", "AdmissionPolicy"),
    ] {
        let policy = example(name);
        assert_eq!(policy["apiVersion"], "policies.kubewarden.io/v1", "{name}");
        assert_eq!(policy["kind"], kind, "{name}");
        let spec = &policy["spec"];
        assert_eq!(spec["module"], json!(module), "{name}");
        assert_eq!(spec["mutating"], m["mutating"], "{name}");
        // Every audit result of an injecting policy would be "pass".
        assert_eq!(spec["backgroundAudit"], json!(false), "{name}");
        assert_eq!(spec["rules"], m["rules"], "{name}");
        assert!(
            ["Fail", "Ignore"].contains(&str_at(spec, "/failurePolicy")),
            "{name}"
        );
    }
}

#[test]
fn audit_and_guard_examples_are_the_cluster_policy_with_action_require() {
    let m = metadata();
    let main = example("cluster-admission-policy.yaml");
    for (name, mode, failure_policy) in [
        (REQUIRE_EXAMPLES[0], "monitor", "Ignore"),
        (REQUIRE_EXAMPLES[1], "protect", "Fail"),
    ] {
        let policy = example(name);
        assert_eq!(policy["kind"], "ClusterAdmissionPolicy", "{name}");
        let spec = &policy["spec"];
        // A validating webhook: it runs after every mutating one, and sends no patch.
        assert_eq!(spec["mutating"], json!(false), "{name}");
        // The scanner skips a policy whose resource says false.
        assert_eq!(spec["backgroundAudit"], json!(true), "{name}");
        assert_eq!(spec["backgroundAudit"], m["backgroundAudit"], "{name}");
        assert_eq!(spec["mode"], json!(mode), "{name}");
        assert_eq!(spec["failurePolicy"], json!(failure_policy), "{name}");
        for same in ["module", "policyServer", "rules", "namespaceSelector"] {
            assert_eq!(spec[same], main["spec"][same], "{name}: {same}");
        }
        // The same settings as the injecting policy, plus action: require.
        let mut settings = spec["settings"].clone();
        assert_eq!(
            settings.as_object_mut().and_then(|s| s.remove("action")),
            Some(json!("require")),
            "{name}"
        );
        assert_eq!(settings, main["spec"]["settings"], "{name}");
        // The scanner audits the resources of the rules with a CREATE.
        assert!(
            spec["rules"]
                .as_array()
                .is_some_and(|rules| rules.iter().any(|r| r["operations"]
                    .as_array()
                    .is_some_and(|ops| ops.contains(&json!("CREATE")))))
        );
        let severity = str_at(
            &policy,
            "/metadata/annotations/io.kubewarden.policy.severity",
        );
        assert!(["info", "low", "medium", "high", "critical"].contains(&severity));
    }
}

#[test]
fn cluster_policy_keeps_system_namespaces_out() {
    let policy = example("cluster-admission-policy.yaml");
    let selector = &policy["spec"]["namespaceSelector"];
    // The controller merges only matchExpressions with its own exclusion.
    assert!(selector.get("matchLabels").is_none());
    assert_eq!(
        selector["matchExpressions"],
        json!([{
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["kube-system", "kubewarden", "cert-manager"]
        }])
    );
}

#[test]
fn trust_manager_bundle_produces_what_the_cluster_policy_mounts() {
    let bundle = example("trust-manager-bundle.yaml");
    assert_eq!(bundle["apiVersion"], "trust.cert-manager.io/v1alpha1");
    assert_eq!(bundle["kind"], "Bundle");
    assert_eq!(
        bundle["spec"]["sources"][0],
        json!({"useDefaultCAs": true}),
        "the public roots must stay in a bundle that replaces the default store"
    );
    assert!(bundle["spec"]["sources"][1]["secret"]["name"].is_string());
    let policy = example("cluster-admission-policy.yaml");
    let settings = Settings::from_json(&policy["spec"]["settings"]).expect("valid");
    // trust-manager names the target ConfigMap after the Bundle.
    assert_eq!(
        settings.values.source,
        Source::ConfigMap(str_at(&bundle, "/metadata/name").to_string())
    );
    assert_eq!(
        settings.values.cert_file,
        str_at(&bundle, "/spec/target/configMap/key")
    );
}

/// The reads a policy resource must grant for its settings: only `sourceCheck`
/// reads the cluster, and only the kind of its source (docs/cluster-admins.md,
/// "What the policy may read from the cluster").
fn reads_needed(settings: &Value) -> Value {
    let checks = !matches!(settings.get("sourceCheck"), None | Some(Value::Bool(false)))
        && settings["sourceCheck"] != "off";
    if !checks || settings["action"] == "require" {
        return Value::Null;
    }
    let kinds: Vec<Value> = [("configMap", "ConfigMap"), ("secret", "Secret")]
        .into_iter()
        .filter(|(key, _)| settings.get(*key).is_some())
        .map(|(_, kind)| json!({"apiVersion": "v1", "kind": kind}))
        .collect();
    if kinds.is_empty() {
        Value::Null
    } else {
        Value::Array(kinds)
    }
}

#[test]
fn example_policies_grant_only_the_reads_their_settings_make() {
    let policies = [
        "cluster-admission-policy.yaml",
        "cluster-admission-policy-match-conditions.yaml",
        "admission-policy.yaml",
    ]
    .into_iter()
    .chain(REQUIRE_EXAMPLES);
    for name in policies {
        let spec = &example(name)["spec"];
        assert_eq!(
            spec["contextAwareResources"],
            reads_needed(&spec["settings"]),
            "{name}"
        );
    }
    // The rule itself, on the settings the docs name.
    let config_map = json!([{"apiVersion": "v1", "kind": "ConfigMap"}]);
    for (settings, reads) in [
        (json!({"configMap": "a"}), Value::Null),
        (json!({"configMap": "a", "sourceCheck": "off"}), Value::Null),
        (json!({"configMap": "a", "sourceCheck": false}), Value::Null),
        (json!({"configMap": "a", "sourceCheck": "warn"}), config_map),
        (
            json!({"secret": "a", "sourceCheck": "reject"}),
            json!([{"apiVersion": "v1", "kind": "Secret"}]),
        ),
        (
            json!({"configMap": "a", "sourceCheck": "reject", "action": "require"}),
            Value::Null,
        ),
        (
            json!({"clusterTrustBundle": {"name": "a"}, "sourceCheck": "warn"}),
            Value::Null,
        ),
    ] {
        assert_eq!(reads_needed(&settings), reads, "{settings}");
    }
}

/// The fenced blocks of a Markdown text, in order: (language, body).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(language)) => open = Some((language.to_string(), String::new())),
            (Some(block), Some(_)) => blocks.push(block),
            (Some((language, mut body)), None) => {
                body.push_str(line);
                body.push('\n');
                open = Some((language, body));
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The namespaces the policy must never block (docs/cluster-admins.md).
const NEVER_BLOCKED: [&str; 3] = ["kube-system", "kubewarden", "cert-manager"];

#[test]
fn readme_gives_an_admin_the_install_path_within_300_lines() {
    let readme = text("README.md");
    assert!(readme.lines().count() <= 300, "README.md is over 300 lines");
    let blocks = fenced_blocks(&readme);
    // The two commands first.
    let first: Vec<&str> = blocks[0].1.lines().collect();
    assert_eq!(blocks[0].0, "sh");
    assert!(
        first.len() == 2 && first[0].starts_with("make run ") && first[1].starts_with("make test ")
    );
    let install = &readme[readme
        .find("## Install in a cluster")
        .expect("an install section")..];
    let install = &install[..install[3..].find("\n## ").expect("a next section") + 3];
    let reference = format!("registry://{}", oci_reference(&metadata()));
    let shell: String = fenced_blocks(install)
        .iter()
        .filter(|(language, _)| language == "sh")
        .map(|(_, body)| body.as_str())
        .collect();
    for command in [
        "kwctl run ",
        "kwctl verify ",
        "kubectl exec ",
        "kubectl get pod ",
    ] {
        assert!(
            shell.contains(command),
            "the install path lacks {command:?}"
        );
    }
    assert!(shell.contains(&reference), "{reference}");
    let (_, policy) = fenced_blocks(install)
        .into_iter()
        .find(|(language, _)| language == "yaml")
        .expect("the policy to apply");
    let policy: Value = serde_yaml::from_str(&policy).expect("the README's policy is YAML");
    let spec = &policy["spec"];
    assert_eq!(spec["module"], json!(reference));
    let selected = &spec["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(selected["operator"], "NotIn");
    assert_eq!(selected["values"], json!(NEVER_BLOCKED));
    assert_eq!(spec["settings"]["excludeNamespaces"], json!(NEVER_BLOCKED));
    assert_eq!(check(&spec["settings"]), Ok(()));
    assert_eq!(
        spec["contextAwareResources"],
        reads_needed(&spec["settings"])
    );
}
