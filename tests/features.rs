//! Beyond the webhook: Java trust stores, ClusterTrustBundle sources, the
//! status annotation, the missing-bundle check and debug containers.

mod common;

use common::Verdict;
use common::*;
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";
const JAVA_OPTIONS: &str = "-Djavax.net.ssl.trustStore=/cacerts/truststore.p12 \
    -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=changeit";

fn java_settings() -> Value {
    json!({"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12"}})
}

#[test]
fn java_tool_options_is_added_when_absent() {
    let expected = Injection::default().also_env("JAVA_TOOL_OPTIONS", JAVA_OPTIONS);
    assert_injects(&pod_request(simple_pod()), java_settings(), &expected);
}

#[test]
fn java_tool_options_is_added_to_a_container_setting_the_other_env_vars() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("SSL_CERT_FILE", "/etc/own.pem"),
    );
    let expected = Injection::default()
        .no_env()
        .also_env("JAVA_TOOL_OPTIONS", JAVA_OPTIONS);
    assert_injects(&pod_request(pod), java_settings(), &expected);
}

#[test]
fn java_options_follow_the_containers_own_literal_value() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("JAVA_TOOL_OPTIONS", "-Xmx512m -XX:+UseG1GC"),
    );
    let result = mutated(&pod_request(pod.clone()), java_settings());
    let mut appended = pod;
    appended["spec"]["containers"][0]["env"][0]["value"] =
        json!(format!("-Xmx512m -XX:+UseG1GC {JAVA_OPTIONS}"));
    assert_same(&result, &injected(&appended, &[C0]));
}

#[test]
fn java_options_already_naming_a_trust_store_are_left_alone() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStore=/own.jks"),
    );
    assert_injects(&pod_request(pod), java_settings(), &Injection::default());
}

#[test]
fn java_options_from_value_from_are_left_alone() {
    let mut pod = simple_pod();
    let from = json!({"name": "JAVA_TOOL_OPTIONS", "valueFrom": {"configMapKeyRef": {"name": "jvm", "key": "opts"}}});
    push(&mut pod, &format!("{C0}/env"), from);
    assert_injects(&pod_request(pod), java_settings(), &Injection::default());
}

#[test]
fn java_trust_store_type_password_and_mount_path_are_used() {
    let settings = json!({"configMap": "ca-bundle", "mountPath": "/etc/ssl/corp",
        "javaTrustStore": {"key": "truststore.jks", "type": "JKS", "password": "s3cret"}});
    let expected = Injection::default()
        .mounted_at("/etc/ssl/corp")
        .env_vars(&["SSL_CERT_FILE"], "/etc/ssl/corp/ca.crt")
        .also_env(
            "JAVA_TOOL_OPTIONS",
            "-Djavax.net.ssl.trustStore=/etc/ssl/corp/truststore.jks \
            -Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword=s3cret",
        );
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn java_trust_store_annotation_false_skips_it() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/javaTrustStore": "false"});
    assert_injects(&pod_request(pod), java_settings(), &Injection::default());
}

#[test]
fn java_injection_is_idempotent() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("JAVA_TOOL_OPTIONS", "-Xmx1g"),
    );
    let once = mutated(&pod_request(pod), java_settings());
    assert_eq!(run(&pod_request(once), java_settings()), Verdict::Accept);
}

#[test]
fn java_settings_are_checked() {
    let cases = [
        (
            json!({"configMap": "a", "javaTrustStore": {}}),
            "setting \"javaTrustStore.key\" is required: the key of the trust store in the bundle \
             (e.g. trust-manager's additionalFormats output \"truststore.p12\")",
        ),
        (
            json!({"configMap": "a", "javaTrustStore": {"key": "t.p12", "type": "pem"}}),
            "setting \"javaTrustStore.type\": \"pem\" must be \"PKCS12\" or \"JKS\"",
        ),
        (
            json!({"configMap": "a", "javaTrustStore": {"key": "t.p12", "password": "a b"}}),
            "setting \"javaTrustStore.password\" must be without spaces or quotes: \
             JAVA_TOOL_OPTIONS is split on spaces",
        ),
        (
            json!({"configMap": "a", "javaTrustStore": {"key": "t.p12", "pass": "x"}}),
            "setting \"javaTrustStore.pass\" is not known: use \"key\" and optionally \"type\", \
             \"password\" and \"cacerts\"",
        ),
        (
            json!({"configMap": "a", "javaTrustStore": "t.p12"}),
            "setting \"javaTrustStore\" must be an object with \"key\" and optionally \"type\", \
             \"password\" and \"cacerts\", found a string",
        ),
        (
            json!({"configMap": "a", "envVars": ["JAVA_TOOL_OPTIONS"], "javaTrustStore": {"key": "t.p12"}}),
            "setting \"envVars\" must not list JAVA_TOOL_OPTIONS when \"javaTrustStore\" is set: \
             the policy adds the trust store options to it",
        ),
        (
            json!({"clusterTrustBundle": {"name": "b"}, "javaTrustStore": {"key": "t.p12"}}),
            "setting \"javaTrustStore\" needs a ConfigMap or Secret source: a ClusterTrustBundle \
             projects only the PEM bundle",
        ),
        (
            json!({"configMap": "a", "mountPath": "/ca certs", "javaTrustStore": {"key": "t.p12"}}),
            "setting \"mountPath\": \"/ca certs\" contains whitespace, which JAVA_TOOL_OPTIONS \
             cannot carry (setting javaTrustStore, key \"t.p12\")",
        ),
    ];
    for (settings, message) in cases {
        let err = cainjector::check_settings(settings.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), message, "{settings}");
    }
}

#[test]
fn cluster_trust_bundle_by_name_is_a_projected_volume() {
    let settings = json!({"clusterTrustBundle": {"name": "example.com:corp:root"}});
    let expected = Injection::new(
        "cainjector-example-com-corp-root",
        json!({"projected": {"sources": [{"clusterTrustBundle":
            {"name": "example.com:corp:root", "path": "ca.crt"}}]}}),
    );
    let result = assert_injects(&pod_request(simple_pod()), settings.clone(), &expected);
    assert_eq!(run(&pod_request(result.clone()), settings), Verdict::Accept);
    let _: k8s_openapi::api::core::v1::Pod = serde_json::from_value(result).unwrap();
}

#[test]
fn cluster_trust_bundle_by_signer_and_selector() {
    let settings = json!({"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": {"matchLabels": {"trust": "corp"}}}, "certFile": "bundle.pem"});
    let expected = Injection::new(
        "cainjector-example-com-corp",
        json!({"projected": {"sources": [{"clusterTrustBundle": {"signerName": "example.com/corp",
            "labelSelector": {"matchLabels": {"trust": "corp"}}, "path": "bundle.pem"}}]}}),
    )
    .env_vars(&["SSL_CERT_FILE"], "/cacerts/bundle.pem");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn cluster_trust_bundle_is_exclusive_with_config_map_and_secret() {
    let err =
        cainjector::check_settings(br#"{"configMap": "a", "clusterTrustBundle": {"name": "b"}}"#)
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the settings \"configMap\", \"secret\" and \"clusterTrustBundle\" are mutually exclusive: set only the one that holds the trust bundle"
    );
}

fn status_of(object: &Value, at: &str) -> Value {
    let text = object
        .pointer(&format!(
            "{at}/metadata/annotations/cainjector.lestak.sh~1status"
        ))
        .unwrap();
    serde_json::from_str(text.as_str().unwrap()).unwrap()
}

#[test]
fn status_annotation_says_what_was_injected() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true, "envVars": ["SSL_CERT_FILE", "CURL_CA_BUNDLE"],
        "javaTrustStore": {"key": "truststore.p12"}});
    let result = mutated(&pod_request(pod), settings.clone());
    assert_eq!(
        result["metadata"]["annotations"]["cainjector.lestak.sh/status"],
        json!(
            r#"{"source":{"configMap":"ca-bundle"},"volume":"cainjector-ca-bundle","mountPath":"/cacerts","containers":["app"],"initContainers":["setup"],"envVars":["SSL_CERT_FILE","CURL_CA_BUNDLE"],"javaTrustStore":"/cacerts/truststore.p12"}"#
        )
    );
    // The pod may carry the annotation, and the second run changes nothing.
    assert_eq!(run(&pod_request(result), settings), Verdict::Accept);
}

#[test]
fn status_annotation_goes_on_the_template_of_a_workload() {
    let object = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "app"}]}}}});
    let request = admission(("apps", "Deployment"), "CREATE", "default", object);
    let result = mutated(
        &request,
        json!({"secret": "ca", "statusAnnotation": true, "setEnvVar": false}),
    );
    assert_eq!(
        status_of(&result, "/spec/template"),
        json!({"source": {"secret": "ca"}, "volume": "cainjector-ca", "mountPath": "/cacerts", "containers": ["app"], "initContainers": [], "envVars": []})
    );
    assert_eq!(result["metadata"], Value::Null);
}

#[test]
fn status_annotation_is_off_by_default_so_the_patch_stays_minimal() {
    let result = mutated(&pod_request(simple_pod()), default_settings());
    assert_eq!(result["metadata"], simple_pod()["metadata"]);
}

fn bundle(kind: &str, keys: &[&str]) -> Value {
    let data: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.to_string(), json!("x"))).collect();
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "ca-bundle", "namespace": "default"}, "data": data})
}

#[test]
fn source_check_injects_when_the_bundle_is_there() {
    let c = cluster(vec![bundle("ConfigMap", &["ca.crt"])]);
    let verdict = checked(
        &pod_request(simple_pod()),
        json!({"configMap": "ca-bundle", "sourceCheck": "reject"}),
        &c,
    );
    assert_eq!(verdict, Verdict::Mutate(injected(&simple_pod(), &[C0])));
    assert_eq!(*c.asked.borrow(), vec!["v1 ConfigMap default/ca-bundle"]);
}

#[test]
fn source_check_warn_accepts_unchanged_with_a_warning() {
    let c = cluster(vec![]);
    let verdict = checked(
        &pod_request(simple_pod()),
        json!({"configMap": "ca-bundle", "sourceCheck": "warn"}),
        &c,
    );
    assert_eq!(
        verdict,
        Verdict::Warn("cainjector did not inject the trust bundle: ConfigMap \"ca-bundle\" could not be read in namespace \"default\": ConfigMaps \"ca-bundle\" not found".into())
    );
}

#[test]
fn source_check_reject_names_the_missing_key() {
    let c = cluster(vec![bundle("Secret", &["other.pem"])]);
    let verdict = checked(
        &pod_request(simple_pod()),
        json!({"secret": "ca-bundle", "sourceCheck": "reject"}),
        &c,
    );
    assert_eq!(
        verdict,
        Verdict::Reject("the trust bundle cannot be injected: Secret \"ca-bundle\" in namespace \"default\" has no key \"ca.crt\" (setting sourceCheck: reject)".into())
    );
}

#[test]
fn source_check_looks_for_the_java_trust_store_in_binary_data() {
    let mut cm = bundle("ConfigMap", &["ca.crt"]);
    cm["binaryData"] = json!({"truststore.p12": "AAAA"});
    let settings = json!({"configMap": "ca-bundle", "sourceCheck": "reject", "javaTrustStore": {"key": "truststore.p12"}});
    let java = Injection::default().also_env("JAVA_TOOL_OPTIONS", JAVA_OPTIONS);
    assert_eq!(
        checked(
            &pod_request(simple_pod()),
            settings.clone(),
            &cluster(vec![cm])
        ),
        Verdict::Mutate(java.applied_to(&simple_pod()))
    );
    let verdict = checked(
        &pod_request(simple_pod()),
        settings,
        &cluster(vec![bundle("ConfigMap", &["ca.crt"])]),
    );
    assert_eq!(
        verdict,
        Verdict::Reject("the trust bundle cannot be injected: ConfigMap \"ca-bundle\" in namespace \"default\" has no key \"truststore.p12\" (setting sourceCheck: reject)".into())
    );
}

#[test]
fn source_check_off_and_unchanged_pods_ask_nothing() {
    let c = cluster(vec![]);
    assert_eq!(
        checked(&pod_request(simple_pod()), default_settings(), &c),
        Verdict::Mutate(injected(&simple_pod(), &[C0]))
    );
    let done = pod_request(injected(&simple_pod(), &[C0]));
    assert_eq!(
        checked(
            &done,
            json!({"configMap": "ca-bundle", "sourceCheck": "reject"}),
            &c
        ),
        Verdict::Accept
    );
    assert!(c.asked.borrow().is_empty());
}

#[test]
fn source_check_setting_values() {
    let err =
        cainjector::check_settings(br#"{"configMap": "a", "sourceCheck": "strict"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "setting \"sourceCheck\": \"strict\" must be \"off\", \"warn\" or \"reject\""
    );
}

#[test]
fn new_debug_container_gets_the_mount_and_env() {
    let old = injected(&simple_pod(), &[C0]);
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger-abc", "image": "busybox", "targetContainerName": "app"}),
    );
    let expected = Injection::default()
        .pod_has_volume()
        .in_containers(&["/spec/ephemeralContainers/0"]);
    assert_injects(&debug_request(&old, &new), default_settings(), &expected);
}

#[test]
fn existing_debug_containers_are_never_touched() {
    let mut old = injected(&simple_pod(), &[C0]);
    push(
        &mut old,
        "/spec/ephemeralContainers",
        json!({"name": "first", "image": "busybox"}),
    );
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "second", "image": "busybox"}),
    );
    // Only the second, new one is injected.
    let expected = Injection::default()
        .pod_has_volume()
        .in_containers(&["/spec/ephemeralContainers/1"]);
    assert_injects(&debug_request(&old, &new), default_settings(), &expected);
}

#[test]
fn debug_container_without_the_bundle_volume_is_accepted_unchanged() {
    let old = simple_pod();
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    assert_eq!(
        run(&debug_request(&old, &new), default_settings()),
        Verdict::Accept
    );
}

#[test]
fn other_pod_updates_are_accepted_unchanged() {
    let old = injected(&simple_pod(), &[C0]);
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    let mut request = debug_request(&old, &new);
    request["subResource"] = json!("status");
    assert_eq!(run(&request, default_settings()), Verdict::Accept);
}
