//! `action: require`: never mutate; refuse a pod that injection would change,
//! naming exactly what it lacks; accept every pod injection would leave alone.

mod common;

use cainjector::cluster::Cluster;
use common::*;
use common::{Verdict, evaluate_with};
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";

/// `settings` with `action: require`.
fn require(settings: Value) -> Value {
    let mut settings = settings;
    settings["action"] = json!("require");
    settings
}

fn required() -> Value {
    require(default_settings())
}

fn refused(request: &Value, settings: Value) -> String {
    rejected(request, require(settings))
}

/// A pod with the containers `(list, name)` and nothing of ours.
fn pod_with(containers: &[(&str, &str)]) -> Value {
    let mut pod = simple_pod();
    pod["spec"] = json!({});
    for (list, name) in containers {
        push(
            &mut pod,
            &format!("/spec/{list}"),
            json!({"name": name, "image": "busybox"}),
        );
    }
    pod
}

#[test]
fn pod_without_the_bundle_is_refused_naming_the_mount_and_env() {
    assert_eq!(
        refused(&pod_request(simple_pod()), default_settings()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts and SSL_CERT_FILE"
    );
}

#[test]
fn injected_pod_is_accepted() {
    let pod = injected(&simple_pod(), &[C0]);
    assert_eq!(run(&pod_request(pod), required()), Verdict::Accept);
}

#[test]
fn require_accepts_what_inject_produced() {
    let request = fixture("pod-realistic.json");
    let settings = json!({"configMap": "ca-bundle", "excludeContainers": ["istio-*"],
        "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"], "statusAnnotation": true});
    let mut again = request.clone();
    again["object"] = mutated(&request, settings.clone());
    assert_eq!(run(&again, require(settings)), Verdict::Accept);
}

#[test]
fn each_container_is_named_in_order_init_containers_after() {
    let pod = pod_with(&[
        ("initContainers", "setup"),
        ("containers", "app"),
        ("containers", "worker"),
    ]);
    let mut pod = pod;
    // The worker has the mount already, the init container the env var.
    push(
        &mut pod,
        "/spec/containers/1/volumeMounts",
        bundle_mount("own", "/cacerts"),
    );
    push(
        &mut pod,
        "/spec/initContainers/0/env",
        env("SSL_CERT_FILE", "/own.pem"),
    );
    assert_eq!(
        refused(&pod_request(pod), default_settings()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts and SSL_CERT_FILE; container \"worker\" lacks SSL_CERT_FILE; init container \
         \"setup\" lacks the mount at /cacerts"
    );
}

#[test]
fn neighbouring_containers_that_lack_the_same_are_named_together() {
    let pod = pod_with(&[
        ("containers", "app"),
        ("containers", "worker"),
        ("containers", "cache"),
        ("initContainers", "setup"),
    ]);
    assert_eq!(
        refused(&pod_request(pod), default_settings()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): containers \"app\", \"worker\" and \
         \"cache\" lack the mount at /cacerts and SSL_CERT_FILE; init container \"setup\" lacks \
         the mount at /cacerts and SSL_CERT_FILE"
    );
}

#[test]
fn only_the_env_vars_a_container_lacks_are_named_in_the_settings_order() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/volumeMounts"),
        bundle_mount("cainjector-ca-bundle", "/cacerts"),
    );
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("NODE_EXTRA_CA_CERTS", "/x"),
    );
    let settings = json!({"configMap": "ca-bundle",
        "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE"]});
    assert_eq!(
        refused(&pod_request(pod), settings),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks \
         SSL_CERT_FILE, REQUESTS_CA_BUNDLE and AWS_CA_BUNDLE"
    );
}

#[test]
fn with_set_env_var_false_only_the_mount_is_required() {
    let settings = json!({"secret": "team-ca", "setEnvVar": false, "mountPath": "/etc/ssl/team"});
    assert_eq!(
        refused(&pod_request(simple_pod()), settings.clone()),
        "pod lacks the trust bundle (Secret \"team-ca\"): container \"app\" lacks the mount at \
         /etc/ssl/team"
    );
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/volumeMounts"),
        bundle_mount("anything", "/etc/ssl/team/"),
    );
    assert_eq!(run(&pod_request(pod), require(settings)), Verdict::Accept);
}

#[test]
fn java_tool_options_absent_or_without_the_trust_store_is_named() {
    let settings = json!({"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12"}});
    assert_eq!(
        refused(&pod_request(simple_pod()), settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts, SSL_CERT_FILE and JAVA_TOOL_OPTIONS"
    );
    // The container sets its own JAVA_TOOL_OPTIONS and SSL_CERT_FILE.
    let request = fixture("pod-java.json");
    assert_eq!(
        refused(&request, settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts and the trust store in JAVA_TOOL_OPTIONS"
    );
    let mut again = request.clone();
    again["object"] = mutated(&request, settings.clone());
    assert_eq!(run(&again, require(settings)), Verdict::Accept);
}

#[test]
fn the_source_a_pod_annotation_chose_is_named() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({
        "cainjector.lestak.sh/configMap": "team-a.example.com",
        "cainjector.lestak.sh/mountPath": "/etc/ssl/team-a",
    });
    assert_eq!(
        refused(&pod_request(pod), default_settings()),
        "pod lacks the trust bundle (ConfigMap \"team-a.example.com\"): container \"app\" lacks \
         the mount at /etc/ssl/team-a and SSL_CERT_FILE"
    );
}

#[test]
fn cluster_trust_bundle_sources_are_named() {
    let by_name = json!({"clusterTrustBundle": {"name": "example.com:corp:root"}});
    assert_eq!(
        refused(&pod_request(simple_pod()), by_name),
        "pod lacks the trust bundle (ClusterTrustBundle \"example.com:corp:root\"): container \
         \"app\" lacks the mount at /cacerts and SSL_CERT_FILE"
    );
    let by_signer = json!({"clusterTrustBundle": {"signerName": "example.com/corp",
        "labelSelector": {"matchLabels": {"trust": "corp"}}}});
    assert_eq!(
        refused(&pod_request(simple_pod()), by_signer),
        "pod lacks the trust bundle (ClusterTrustBundles of signer \"example.com/corp\"): \
         container \"app\" lacks the mount at /cacerts and SSL_CERT_FILE"
    );
}

#[test]
fn workload_template_is_required_the_same_way() {
    let request = fixture("deployment.json");
    assert_eq!(
        refused(&request, default_settings()),
        "pod template lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks \
         the mount at /cacerts and SSL_CERT_FILE"
    );
    let mut again = request.clone();
    again["object"] = mutated(&request, default_settings());
    assert_eq!(run(&again, required()), Verdict::Accept);
}

#[test]
fn pods_injection_skips_are_accepted() {
    let opted_out = {
        let mut pod = simple_pod();
        pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/inject": "false"});
        pod
    };
    let mirror = {
        let mut pod = simple_pod();
        pod["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc"});
        pod
    };
    let windows = {
        let mut pod = simple_pod();
        pod["spec"]["os"] = json!({"name": "windows"});
        pod
    };
    let cases = [
        ("opt-out", pod_request(opted_out), default_settings()),
        ("mirror pod", pod_request(mirror), default_settings()),
        ("Windows pod", pod_request(windows), default_settings()),
        (
            "excluded namespace",
            pod_request(simple_pod()),
            json!({"configMap": "ca-bundle", "excludeNamespaces": ["default"]}),
        ),
        (
            "namespace not included",
            pod_request(simple_pod()),
            json!({"configMap": "ca-bundle", "includeNamespaces": ["team-*"]}),
        ),
        (
            "excluded container",
            pod_request(simple_pod()),
            json!({"configMap": "ca-bundle", "excludeContainers": ["app"]}),
        ),
        (
            "opt-in mode, pod not opted in",
            pod_request(simple_pod()),
            json!({"configMap": "ca-bundle", "inject": false}),
        ),
        (
            "init containers not injected",
            pod_request(pod_with(&[("initContainers", "setup")])),
            json!({"configMap": "ca-bundle", "injectInitContainers": false}),
        ),
        (
            "UPDATE",
            admission(("", "Pod"), "UPDATE", "default", simple_pod()),
            default_settings(),
        ),
        (
            "DELETE",
            admission(("", "Pod"), "DELETE", "default", simple_pod()),
            default_settings(),
        ),
        (
            "a kind not handled",
            admission(("", "ConfigMap"), "CREATE", "default", json!({"data": {}})),
            default_settings(),
        ),
    ];
    for (case, request, settings) in cases {
        assert_eq!(run(&request, require(settings)), Verdict::Accept, "{case}");
    }
}

#[test]
fn an_invalid_annotation_is_refused_as_inject_refuses_it() {
    let request = fixture("pod-bad-annotation.json");
    let message = rejected(&request, default_settings());
    assert_eq!(refused(&request, default_settings()), message);
}

/// A cluster that must not be asked.
struct Unasked;

impl Cluster for Unasked {
    fn get_resource(&self, _: &str, kind: &str, _: &str, name: &str) -> Result<Value, String> {
        panic!("require asked the cluster for {kind} {name}")
    }
}

#[test]
fn require_never_reads_the_cluster_whatever_source_check_says() {
    for check in ["warn", "reject"] {
        let settings = require(json!({"configMap": "ca-bundle", "sourceCheck": check}));
        let payload = |pod: Value| {
            serde_json::to_vec(&json!({"request": pod_request(pod), "settings": settings})).unwrap()
        };
        assert_eq!(
            evaluate_with(&payload(simple_pod()), &Unasked),
            Verdict::Reject(
                "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks \
                 the mount at /cacerts and SSL_CERT_FILE"
                    .into()
            ),
            "{check}"
        );
        let done = injected(&simple_pod(), &[C0]);
        assert_eq!(evaluate_with(&payload(done), &Unasked), Verdict::Accept);
    }
}

#[test]
fn a_new_debug_container_without_the_bundle_is_refused() {
    let old = injected(&simple_pod(), &[C0]);
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger-abc", "image": "busybox"}),
    );
    let request = debug_request(&old, &new);
    assert_eq!(
        refused(&request, default_settings()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): ephemeral container \
         \"debugger-abc\" lacks the mount at /cacerts and SSL_CERT_FILE"
    );
    let mut again = request.clone();
    again["object"] = mutated(&request, default_settings());
    assert_eq!(run(&again, required()), Verdict::Accept);
    // Without the bundle's volume injection cannot help, so neither refuses.
    let mut bare = simple_pod();
    push(
        &mut bare,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    assert_eq!(
        run(&debug_request(&simple_pod(), &bare), required()),
        Verdict::Accept
    );
}

/// test_data/audit-pod-running.json is the request the audit scanner builds
/// for a pod that was running before the policy
/// (internal/audit-scanner/scanner/admission_request.go): CREATE, the object
/// as listed (status, managedFields, defaults), no oldObject, no user.
#[test]
fn a_running_pod_as_the_audit_scanner_sends_it() {
    let request = fixture("audit-pod-running.json");
    let settings = json!({"configMap": "ca-bundle", "excludeContainers": ["istio-proxy"]});
    assert_eq!(
        refused(&request, settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"api\" lacks the mount \
         at /cacerts and SSL_CERT_FILE; init container \"migrate\" lacks the mount at /cacerts \
         and SSL_CERT_FILE"
    );
    let mut again = request.clone();
    again["object"] = mutated(&request, settings.clone());
    assert_eq!(run(&again, require(settings)), Verdict::Accept);
}

#[test]
fn require_never_mutates_even_with_the_status_annotation() {
    let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true});
    assert_eq!(
        run(&pod_request(simple_pod()), require(settings)),
        Verdict::Reject(
            "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the \
             mount at /cacerts and SSL_CERT_FILE"
                .into()
        )
    );
}

#[test]
fn bad_action_is_refused_naming_the_key_and_the_values() {
    let settings = json!({"configMap": "ca-bundle", "action": "audit"});
    assert_eq!(
        rejected(&pod_request(simple_pod()), settings),
        "invalid policy settings: setting \"action\": \"audit\" must be \"inject\" or \"require\""
    );
    let payload = br#"{"configMap": "ca-bundle", "action": ["require"]}"#;
    assert_eq!(
        cainjector::check_settings(payload).unwrap_err().to_string(),
        "setting \"action\" must be a string, found a list"
    );
}

#[test]
fn action_inject_is_the_default() {
    let pod = simple_pod();
    let explicit = json!({"configMap": "ca-bundle", "action": "inject"});
    assert_eq!(
        mutated(&pod_request(pod.clone()), explicit),
        mutated(&pod_request(pod), default_settings())
    );
}
