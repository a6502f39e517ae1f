//! `envValues`: variables set to a literal value in each injected container,
//! under the rules of `envVars`. Exact objects and messages.

mod common;

use common::*;
use serde_json::{Value, json};

fn on() -> Value {
    json!({"configMap": "ca-bundle",
        "envValues": {"NODE_USE_SYSTEM_CA": "1", "DENO_TLS_CA_STORE": "system"}})
}

/// The default injection with the variables, after SSL_CERT_FILE (in the
/// order the settings' map gives them: by name).
fn with_values() -> Injection {
    Injection::default()
        .also_env("DENO_TLS_CA_STORE", "system")
        .also_env("NODE_USE_SYSTEM_CA", "1")
}

fn pod_with_env(env: Value) -> Value {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["env"] = env;
    pod
}

#[test]
fn each_injected_container_gets_the_variables_once() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let expected = with_values().in_containers(&["/spec/containers/0", "/spec/initContainers/0"]);
    let result = assert_injects(&pod_request(pod), on(), &expected);
    assert_eq!(run(&pod_request(result), on()), Verdict::Accept);
}

#[test]
fn the_containers_own_value_wins_literal_or_value_from() {
    let own = json!([
        {"name": "NODE_USE_SYSTEM_CA", "value": "0"},
        {"name": "DENO_TLS_CA_STORE", "valueFrom": {"configMapKeyRef": {"name": "deno", "key": "store"}}}
    ]);
    let pod = pod_with_env(own);
    assert_injects(&pod_request(pod), on(), &Injection::default());
}

#[test]
fn set_env_var_false_sets_none_in_the_settings_or_the_pods_annotation() {
    let mut off = on();
    off["setEnvVar"] = json!(false);
    assert_injects(
        &pod_request(simple_pod()),
        off,
        &Injection::default().no_env(),
    );
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/setEnvVar": "false"});
    assert_injects(&pod_request(pod), on(), &Injection::default().no_env());
}

#[test]
fn they_come_before_the_java_trust_store_options() {
    let settings = json!({"configMap": "ca-bundle", "envValues": {"UV_NATIVE_TLS": "1"},
        "javaTrustStore": {"key": "truststore.p12"}});
    let expected = Injection::default()
        .also_env("UV_NATIVE_TLS", "1")
        .also_env(
            "JAVA_TOOL_OPTIONS",
            "-Djavax.net.ssl.trustStore=/cacerts/truststore.p12 \
         -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=changeit",
        );
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn status_annotation_names_them() {
    let mut settings = on();
    settings["statusAnnotation"] = json!(true);
    let result = mutated(&pod_request(simple_pod()), settings);
    assert_eq!(
        result["metadata"]["annotations"]["cainjector.lestak.sh/status"],
        json!(
            r#"{"source":{"configMap":"ca-bundle"},"volume":"cainjector-ca-bundle","mountPath":"/cacerts","containers":["app"],"initContainers":[],"envVars":["SSL_CERT_FILE"],"envValues":["DENO_TLS_CA_STORE","NODE_USE_SYSTEM_CA"]}"#
        )
    );
}

#[test]
fn require_names_the_variables_a_container_lacks() {
    let mut settings = on();
    settings["action"] = json!("require");
    let pod = pod_with_env(json!([{"name": "DENO_TLS_CA_STORE", "value": "mozilla"}]));
    assert_eq!(
        rejected(&pod_request(pod), settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts, SSL_CERT_FILE and NODE_USE_SYSTEM_CA"
    );
    let done = mutated(&pod_request(simple_pod()), on());
    assert_eq!(run(&pod_request(done), settings), Verdict::Accept);
}

#[test]
fn settings_refusals_name_the_setting() {
    let refused = |values: Value| {
        let settings = json!({"configMap": "ca-bundle", "envValues": values});
        rejected(&pod_request(simple_pod()), settings)
    };
    assert_eq!(
        refused(json!({"UV_NATIVE_TLS": true})),
        "invalid policy settings: setting \"envValues.UV_NATIVE_TLS\" must be a string, found a boolean"
    );
    assert_eq!(
        refused(json!({"SSL_CERT_FILE": "/x"})),
        "invalid policy settings: setting \"envValues\" sets SSL_CERT_FILE, which \"envVars\" also sets \
         to the bundle's path: keep it in one of them"
    );
}
