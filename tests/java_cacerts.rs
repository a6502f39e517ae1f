//! `javaTrustStore.cacerts`: the Java trust store mounted over the JDK
//! default trust stores instead of JAVA_TOOL_OPTIONS. Exact objects and
//! messages.

mod common;

use cainjector::settings::STANDARD_JAVA_CACERTS;
use common::*;
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";
const I0: &str = "/spec/initContainers/0";
const KEY: &str = "truststore.p12";

fn on() -> Value {
    json!({"configMap": "ca-bundle", "javaTrustStore": {"key": KEY, "cacerts": true}})
}

/// The default injection, with the Java store over the standard JDK files.
fn over_cacerts() -> Injection {
    Injection::default().java_over(&STANDARD_JAVA_CACERTS, KEY)
}

fn pod_with(containers: Value) -> Value {
    let mut pod = simple_pod();
    pod["spec"]["containers"] = containers;
    pod
}

#[test]
fn true_mounts_the_store_over_each_jdk_file_read_only_and_sets_no_jvm_option() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let result = assert_injects(
        &pod_request(pod),
        on(),
        &over_cacerts().in_containers(&[C0, I0]),
    );
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"],
        json!([
            {"name": "cainjector-ca-bundle", "mountPath": "/cacerts", "readOnly": true},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/ssl/certs/java/cacerts", "readOnly": true, "subPath": "truststore.p12"},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/pki/ca-trust/extracted/java/cacerts", "readOnly": true, "subPath": "truststore.p12"},
            {"name": "cainjector-ca-bundle", "mountPath": "/opt/java/openjdk/lib/security/cacerts", "readOnly": true, "subPath": "truststore.p12"}
        ])
    );
    assert_eq!(
        result["spec"]["containers"][0]["env"],
        json!([{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}])
    );
    assert_eq!(run(&pod_request(result), on()), Verdict::Accept);
}

#[test]
fn a_list_replaces_the_standard_files_after_the_system_store() {
    let settings = json!({"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem"],
        "javaTrustStore": {"key": KEY, "cacerts": ["/usr/lib/jvm/jre/lib/security/cacerts"]}});
    let expected = Injection::default()
        .over(&["/etc/ssl/cert.pem"], "ca.crt")
        .java_over(&["/usr/lib/jvm/jre/lib/security/cacerts"], KEY);
    let result = assert_injects(&pod_request(simple_pod()), settings.clone(), &expected);
    assert_eq!(run(&pod_request(result), settings), Verdict::Accept);
}

#[test]
fn the_containers_own_mount_or_device_at_or_above_a_file_wins() {
    let pod = pod_with(json!([
        {"name": "app", "image": "x",
         "volumeMounts": [{"name": "own", "mountPath": "/etc/ssl/certs"}],
         "volumeDevices": [{"name": "disk", "devicePath": "/opt/java"}]}
    ]));
    let expected = over_cacerts().java_over(&["/etc/pki/ca-trust/extracted/java/cacerts"], KEY);
    assert_injects(&pod_request(pod), on(), &expected);
}

#[test]
fn the_containers_own_java_tool_options_is_left_alone() {
    let pod = pod_with(json!([{"name": "app", "image": "x",
        "env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx1g"}]}]));
    assert_injects(&pod_request(pod), on(), &over_cacerts());
}

#[test]
fn the_java_trust_store_annotation_turns_the_mounts_off_per_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/javaTrustStore": "false"});
    assert_injects(&pod_request(pod), on(), &Injection::default());
}

#[test]
fn mount_path_annotation_that_overlaps_a_file_rejects_the_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/mountPath": "/opt/java"});
    assert_eq!(
        rejected(&pod_request(pod), on()),
        "annotation \"cainjector.lestak.sh/mountPath\": the JDK trust store file \
         /opt/java/openjdk/lib/security/cacerts and the mount path /opt/java overlap (one is at \
         or under the other), and a container cannot mount both: keep javaTrustStore.cacerts \
         apart from the mount path and the system trust store files"
    );
}

#[test]
fn debug_containers_get_the_mount_but_no_file_as_subpath_is_refused_there() {
    let old = over_cacerts().applied_to(&simple_pod());
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    let expected = Injection::default()
        .pod_has_volume()
        .in_containers(&["/spec/ephemeralContainers/0"]);
    assert_injects(&debug_request(&old, &new), on(), &expected);
}

#[test]
fn status_annotation_lists_the_files() {
    let mut settings = on();
    settings["statusAnnotation"] = json!(true);
    let result = mutated(&pod_request(simple_pod()), settings);
    assert_eq!(
        result["metadata"]["annotations"]["cainjector.lestak.sh/status"],
        json!(
            r#"{"source":{"configMap":"ca-bundle"},"volume":"cainjector-ca-bundle","mountPath":"/cacerts","containers":["app"],"initContainers":[],"envVars":["SSL_CERT_FILE"],"javaTrustStore":"/cacerts/truststore.p12","javaCacerts":["/etc/ssl/certs/java/cacerts","/etc/pki/ca-trust/extracted/java/cacerts","/opt/java/openjdk/lib/security/cacerts"]}"#
        )
    );
}

#[test]
fn require_names_the_files_a_container_lacks() {
    let pod = pod_with(json!([
        {"name": "app", "image": "x", "volumeMounts": [{"name": "own", "mountPath": "/etc/ssl/certs"}]},
        {"name": "bare", "image": "x"}
    ]));
    let mut settings = on();
    settings["action"] = json!("require");
    settings["systemTrustStore"] = json!(["/etc/ssl/cert.pem"]);
    assert_eq!(
        rejected(&pod_request(pod), settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts, the bundle over the system trust store file /etc/ssl/cert.pem, the Java \
         trust store over the JDK trust store files /etc/pki/ca-trust/extracted/java/cacerts, \
         /opt/java/openjdk/lib/security/cacerts and SSL_CERT_FILE; container \"bare\" lacks the \
         mount at /cacerts, the bundle over the system trust store file /etc/ssl/cert.pem, the \
         Java trust store over the JDK trust store files /etc/ssl/certs/java/cacerts, \
         /etc/pki/ca-trust/extracted/java/cacerts, /opt/java/openjdk/lib/security/cacerts and \
         SSL_CERT_FILE"
    );
    let mut inject = settings.clone();
    inject["action"] = json!("inject");
    let done = mutated(&pod_request(simple_pod()), inject);
    assert_eq!(run(&pod_request(done), settings), Verdict::Accept);
}

fn bundle(keys: &[&str]) -> Value {
    let data: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.to_string(), json!("x"))).collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "ca-bundle", "namespace": "default"}, "data": data})
}

#[test]
fn source_check_asks_for_the_store_key_and_counts_no_pem_for_it() {
    let mut settings = on();
    settings["sourceCheck"] = json!("reject");
    let pod = pod_request(simple_pod());
    let whole = cluster(vec![bundle(&["ca.crt", KEY])]);
    assert_eq!(
        checked(&pod, settings.clone(), &whole),
        Verdict::Mutate(over_cacerts().applied_to(&simple_pod()))
    );
    let lacking = cluster(vec![bundle(&["ca.crt"])]);
    assert_eq!(
        checked(&pod, settings, &lacking),
        Verdict::Reject(
            "the trust bundle cannot be injected: ConfigMap \"ca-bundle\" in namespace \
             \"default\" has no key \"truststore.p12\" (setting sourceCheck: reject)"
                .into()
        )
    );
}

#[test]
fn settings_refusals_name_the_setting() {
    let with = |java: Value| json!({"configMap": "ca-bundle", "javaTrustStore": java});
    assert_eq!(
        rejected(
            &pod_request(simple_pod()),
            with(json!({"key": KEY, "cacerts": true, "password": "changeit"}))
        ),
        "invalid policy settings: setting \"javaTrustStore.password\" cannot be used with \"cacerts\": \
         the JDK reads its default trust store without a password, so the store must be \
         readable without one (trust-manager's PKCS#12 target with password \"\", or JKS): \
         leave the password out"
    );
}
