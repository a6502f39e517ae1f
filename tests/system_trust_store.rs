//! `systemTrustStore`: the bundle file put over the system trust store files
//! that images read without any variable. Exact objects and messages.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cainjector::settings::STANDARD_TRUST_STORE;
use common::Verdict;
use common::*;
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";
const I0: &str = "/spec/initContainers/0";
const ANNOTATION: &str = "cainjector.lestak.sh/systemTrustStore";

fn on() -> Value {
    json!({"configMap": "ca-bundle", "systemTrustStore": true})
}

/// The default injection, with the bundle over the standard list.
fn over_standard() -> Injection {
    Injection::default().over(&STANDARD_TRUST_STORE, "ca.crt")
}

fn pod_with(containers: Value) -> Value {
    let mut pod = simple_pod();
    pod["spec"]["containers"] = containers;
    pod
}

fn annotated(value: &str) -> Value {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({ ANNOTATION: value });
    pod
}

#[test]
fn off_by_default_no_file_is_mounted() {
    assert_injects(
        &pod_request(simple_pod()),
        default_settings(),
        &Injection::default(),
    );
}

#[test]
fn true_mounts_the_bundle_file_over_each_standard_file_read_only() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let result = assert_injects(
        &pod_request(pod),
        on(),
        &over_standard().in_containers(&[C0, I0]),
    );
    // The mounts of one container, as the API server receives them.
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"],
        json!([
            {"name": "cainjector-ca-bundle", "mountPath": "/cacerts", "readOnly": true},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/ssl/certs/ca-certificates.crt", "readOnly": true, "subPath": "ca.crt"},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/pki/tls/certs/ca-bundle.crt", "readOnly": true, "subPath": "ca.crt"},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "readOnly": true, "subPath": "ca.crt"},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/ssl/ca-bundle.pem", "readOnly": true, "subPath": "ca.crt"},
            {"name": "cainjector-ca-bundle", "mountPath": "/etc/ssl/cert.pem", "readOnly": true, "subPath": "ca.crt"}
        ])
    );
    assert_eq!(run(&pod_request(result), on()), Verdict::Accept);
}

#[test]
fn a_list_replaces_the_standard_files() {
    let settings = json!({"configMap": "ca-bundle", "certFile": "bundle.pem",
        "systemTrustStore": ["/etc/ssl/cert.pem", "/opt/app/ca.pem"]});
    let expected = Injection::default()
        .env_vars(&["SSL_CERT_FILE"], "/cacerts/bundle.pem")
        .over(&["/etc/ssl/cert.pem", "/opt/app/ca.pem"], "bundle.pem");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn annotation_turns_the_files_on_and_off_per_pod() {
    let pod = pod_request(annotated("true"));
    assert_injects(&pod, default_settings(), &over_standard());
    assert_injects(
        &pod_request(annotated("false")),
        on(),
        &Injection::default(),
    );
    // "true" turns on the settings' own list, not the standard one.
    let own = json!({"configMap": "ca-bundle", "systemTrustStore": ["/opt/ca.pem"]});
    let expected = Injection::default().over(&["/opt/ca.pem"], "ca.crt");
    assert_injects(&pod, own, &expected);
}

#[test]
fn invalid_or_locked_annotation_rejects_the_pod_naming_it() {
    assert_eq!(
        rejected(&pod_request(annotated("on")), default_settings()),
        "annotation \"cainjector.lestak.sh/systemTrustStore\": \"on\" must be \"true\" or \"false\""
    );
    let locked =
        json!({"configMap": "ca-bundle", "allowedOverrides": ["inject", "excludeContainers"]});
    assert_eq!(
        rejected(&pod_request(annotated("true")), locked),
        "annotation \"cainjector.lestak.sh/systemTrustStore\" is not allowed: the cluster's \
         cainjector policy lets pods use only inject, excludeContainers (setting allowedOverrides)"
    );
}

#[test]
fn the_containers_own_mount_at_above_or_under_a_file_wins() {
    let own = |path: &str| json!({"name": "own", "mountPath": path});
    let pod = pod_with(json!([
        {"name": "at", "image": "x", "volumeMounts": [own("/etc/ssl/cert.pem")]},
        {"name": "above", "image": "x", "volumeMounts": [own("/etc/ssl/")]},
        {"name": "under", "image": "x", "volumeMounts": [own("/etc/pki/tls/certs/ca-bundle.crt/x")]},
        {"name": "device", "image": "x", "volumeDevices": [{"name": "raw", "devicePath": "/etc/ssl//ca-bundle.pem"}]},
        {"name": "root", "image": "x", "volumeMounts": [own("/")]}
    ]));
    let result = mutated(&pod_request(pod.clone()), on());
    let all = STANDARD_TRUST_STORE;
    let but = |skipped: &[&str]| -> Vec<&str> {
        all.iter()
            .copied()
            .filter(|f| !skipped.contains(f))
            .collect()
    };
    let mut expected = pod.clone();
    let cases: [(&str, Vec<&str>); 5] = [
        ("/spec/containers/0", but(&["/etc/ssl/cert.pem"])),
        (
            "/spec/containers/1",
            but(&[
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/ssl/ca-bundle.pem",
                "/etc/ssl/cert.pem",
            ]),
        ),
        (
            "/spec/containers/2",
            but(&["/etc/pki/tls/certs/ca-bundle.crt"]),
        ),
        ("/spec/containers/3", but(&["/etc/ssl/ca-bundle.pem"])),
        ("/spec/containers/4", vec![]),
    ];
    for (at, files) in &cases {
        expected = Injection::default()
            .pod_has_volume()
            .over(files, "ca.crt")
            .in_containers(&[at])
            .applied_to(&expected);
    }
    push(
        &mut expected,
        "/spec/volumes",
        config_map_volume("cainjector-ca-bundle", "ca-bundle"),
    );
    assert_same(&result, &expected);
    assert_eq!(run(&pod_request(result), on()), Verdict::Accept);
}

#[test]
fn container_with_its_own_mount_path_still_gets_the_files_and_the_volume() {
    let pod = pod_with(json!([{"name": "app", "image": "x",
        "volumeMounts": [{"name": "mine", "mountPath": "/cacerts"}]}]));
    let settings = json!({"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem"]});
    let mut expected = pod.clone();
    push(
        &mut expected,
        "/spec/containers/0/volumeMounts",
        store_mount("cainjector-ca-bundle", "/etc/ssl/cert.pem", "ca.crt"),
    );
    push(
        &mut expected,
        "/spec/containers/0/env",
        env("SSL_CERT_FILE", "/cacerts/ca.crt"),
    );
    push(
        &mut expected,
        "/spec/volumes",
        config_map_volume("cainjector-ca-bundle", "ca-bundle"),
    );
    assert_same(&mutated(&pod_request(pod), settings), &expected);
}

#[test]
fn device_named_as_the_volume_gets_no_mount_of_it() {
    let pod = pod_with(json!([{"name": "app", "image": "x",
        "volumeDevices": [{"name": "cainjector-ca-bundle", "devicePath": "/dev/xvdb"}]}]));
    assert_injects(&pod_request(pod), on(), &Injection::default().env_only());
}

#[test]
fn excluded_and_init_containers_follow_the_settings() {
    let mut pod =
        pod_with(json!([{"name": "app", "image": "x"}, {"name": "istio-proxy", "image": "y"}]));
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let settings = json!({"configMap": "ca-bundle", "systemTrustStore": true,
        "excludeContainers": ["istio-*"], "injectInitContainers": false});
    assert_injects(&pod_request(pod), settings, &over_standard());
}

#[test]
fn cluster_trust_bundle_mounts_the_projected_file() {
    let settings = json!({"clusterTrustBundle": {"name": "example.com:corp:root"},
        "systemTrustStore": ["/etc/ssl/cert.pem"]});
    let expected = Injection::new(
        "cainjector-example-com-corp-root",
        json!({"projected": {"sources": [{"clusterTrustBundle": {"name": "example.com:corp:root", "path": "ca.crt"}}]}}),
    )
    .over(&["/etc/ssl/cert.pem"], "ca.crt");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn workload_template_gets_the_files() {
    let object =
        json!({"spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "app"}]}}}});
    let request = admission(("apps", "Deployment"), "CREATE", "default", object);
    let settings = json!({"secret": "ca", "systemTrustStore": ["/etc/ssl/cert.pem"]});
    let expected = Injection::secret("cainjector-ca", "ca")
        .over(&["/etc/ssl/cert.pem"], "ca.crt")
        .in_containers(&["/spec/template/spec/containers/0"]);
    assert_injects(&request, settings, &expected);
}

#[test]
fn debug_containers_get_the_mount_but_no_file_as_subpath_is_refused_there() {
    let old = over_standard().applied_to(&simple_pod());
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
fn windows_and_mirror_pods_are_left_alone() {
    let mut windows = simple_pod();
    windows["spec"]["os"] = json!({"name": "windows"});
    assert_eq!(run(&pod_request(windows), on()), Verdict::Accept);
    let mut mirror = simple_pod();
    mirror["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"});
    assert_eq!(run(&pod_request(mirror), on()), Verdict::Accept);
}

#[test]
fn status_annotation_lists_the_files() {
    let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true,
        "systemTrustStore": ["/etc/ssl/cert.pem", "/opt/ca.pem"]});
    let result = mutated(&pod_request(simple_pod()), settings);
    assert_eq!(
        result["metadata"]["annotations"]["cainjector.lestak.sh/status"],
        json!(
            r#"{"source":{"configMap":"ca-bundle"},"volume":"cainjector-ca-bundle","mountPath":"/cacerts","containers":["app"],"initContainers":[],"envVars":["SSL_CERT_FILE"],"systemTrustStore":["/etc/ssl/cert.pem","/opt/ca.pem"]}"#
        )
    );
}

#[test]
fn require_names_the_files_a_container_lacks() {
    let pod = pod_with(json!([
        {"name": "app", "image": "x", "volumeMounts": [{"name": "own", "mountPath": "/etc/ssl/cert.pem"}]},
        {"name": "bare", "image": "x"}
    ]));
    let settings = json!({"configMap": "ca-bundle", "action": "require",
        "systemTrustStore": ["/etc/ssl/cert.pem", "/etc/ssl/certs/ca-certificates.crt"]});
    assert_eq!(
        rejected(&pod_request(pod), settings.clone()),
        "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): container \"app\" lacks the mount \
         at /cacerts, the bundle over the system trust store file \
         /etc/ssl/certs/ca-certificates.crt and SSL_CERT_FILE; container \"bare\" lacks the \
         mount at /cacerts, the bundle over the system trust store files /etc/ssl/cert.pem, \
         /etc/ssl/certs/ca-certificates.crt and SSL_CERT_FILE"
    );
    let inject = json!({"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem"]});
    let done = mutated(&pod_request(simple_pod()), inject);
    let settings = json!({"configMap": "ca-bundle", "action": "require",
        "systemTrustStore": ["/etc/ssl/cert.pem"]});
    assert_eq!(run(&pod_request(done), settings), Verdict::Accept);
}

#[test]
fn mount_path_annotation_that_overlaps_a_file_rejects_the_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/mountPath": "/etc/ssl"});
    assert_eq!(
        rejected(&pod_request(pod), on()),
        "annotation \"cainjector.lestak.sh/mountPath\": the system trust store file \
         /etc/ssl/certs/ca-certificates.crt and the mount path /etc/ssl overlap (one is at or \
         under the other), and a container cannot mount the bundle at both: use a mountPath \
         apart from the system trust store files, or leave /etc/ssl/certs/ca-certificates.crt \
         out of systemTrustStore's list"
    );
}

// ---- sourceCheck: a bundle too thin to be put over the system store ----

fn config_map(field: &str, key: &str, value: &str) -> Value {
    source("ConfigMap", json!({field: {key: value}}))
}

fn secret(key: &str, value: &str) -> Value {
    source("Secret", json!({"data": {key: BASE64.encode(value)}}))
}

fn source_check(check: &str) -> Value {
    json!({"configMap": "ca-bundle", "systemTrustStore": true, "sourceCheck": check})
}

const THIN: &str = "ConfigMap \"ca-bundle\" in namespace \"default\" holds 1 PEM certificate in \
    key \"ca.crt\": put over the system trust store (systemTrustStore), a bundle of the private \
    CA alone makes every public site untrusted; build it with the public roots (trust-manager \
    useDefaultCAs: true)";

#[test]
fn bundle_with_the_public_roots_is_put_over_the_system_store() {
    let c = cluster(vec![config_map("data", "ca.crt", &PEM.repeat(2))]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        Verdict::Mutate(over_standard().applied_to(&simple_pod()))
    );
    assert_eq!(*c.asked.borrow(), ["v1 ConfigMap default/ca-bundle"]);
}

#[test]
fn warn_injects_a_thin_bundle_without_the_system_store_mounts() {
    let c = cluster(vec![config_map("data", "ca.crt", PEM)]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("warn"), &c),
        Verdict::MutateWarn(
            injected(&simple_pod(), &[C0]),
            format!(
                "cainjector injected the trust bundle but not over the system trust store: \
                 {THIN} (setting sourceCheck: warn)"
            )
        )
    );
}

#[test]
fn warn_accepts_with_the_warning_a_pod_that_has_the_rest() {
    let done = injected(&simple_pod(), &[C0]);
    let c = cluster(vec![config_map("data", "ca.crt", PEM)]);
    assert_eq!(
        checked(&pod_request(done), source_check("warn"), &c),
        Verdict::Warn(format!(
            "cainjector injected the trust bundle but not over the system trust store: {THIN} \
             (setting sourceCheck: warn)"
        ))
    );
}

#[test]
fn reject_refuses_a_thin_bundle_naming_source_key_and_count() {
    let c = cluster(vec![config_map("data", "ca.crt", PEM)]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        Verdict::Reject(format!(
            "the trust bundle cannot be injected: {THIN} (setting sourceCheck: reject)"
        ))
    );
}

#[test]
fn secret_data_and_binary_data_are_decoded_before_counting() {
    let settings =
        json!({"secret": "ca-bundle", "systemTrustStore": true, "sourceCheck": "reject"});
    let c = cluster(vec![secret("ca.crt", &PEM.repeat(3))]);
    let expected = Injection::secret("cainjector-ca-bundle", "ca-bundle")
        .over(&STANDARD_TRUST_STORE, "ca.crt");
    assert_eq!(
        checked(&pod_request(simple_pod()), settings.clone(), &c),
        Verdict::Mutate(expected.applied_to(&simple_pod()))
    );
    let c = cluster(vec![secret("ca.crt", "not a certificate")]);
    assert_eq!(
        checked(&pod_request(simple_pod()), settings, &c),
        Verdict::Reject(
            "the trust bundle cannot be injected: Secret \"ca-bundle\" in namespace \"default\" \
             holds 0 PEM certificates in key \"ca.crt\": put over the system trust store \
             (systemTrustStore), a bundle of the private CA alone makes every public site \
             untrusted; build it with the public roots (trust-manager useDefaultCAs: true) \
             (setting sourceCheck: reject)"
                .into()
        )
    );
    let c = cluster(vec![config_map(
        "binaryData",
        "ca.crt",
        &BASE64.encode(PEM.repeat(2)),
    )]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        Verdict::Mutate(over_standard().applied_to(&simple_pod()))
    );
}

#[test]
fn a_missing_key_is_reported_before_the_count() {
    let c = cluster(vec![config_map("data", "other.pem", PEM)]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        Verdict::Reject(
            "the trust bundle cannot be injected: ConfigMap \"ca-bundle\" in namespace \
             \"default\" has no key \"ca.crt\" (setting sourceCheck: reject)"
                .into()
        )
    );
}

#[test]
fn files_off_for_the_pod_are_not_counted() {
    let c = cluster(vec![config_map("data", "ca.crt", PEM)]);
    let pod = annotated("false");
    assert_eq!(
        checked(&pod_request(pod.clone()), source_check("reject"), &c),
        Verdict::Mutate(injected(&pod, &[C0]))
    );
}
