//! The API server's rules on the fields cainjector writes (docs/api-rules.md),
//! each from both sides: a setting or annotation that would break the rule is
//! refused by name, and a pod that would break it after injection is never
//! produced. Exact messages and exact objects throughout.

mod common;

use cainjector::check_settings;
use common::Verdict;
use common::*;
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";

fn settings_refused(settings: Value) -> String {
    check_settings(settings.to_string().as_bytes())
        .unwrap_err()
        .to_string()
}

/// Only SSL_CERT_FILE added: what the policy answers when the mount path is
/// taken in the container.
fn env_only() -> Injection {
    Injection::default().env_only()
}

// ---- volumeMounts and volumeDevices (ValidateVolumeMounts) ----

#[test]
fn pod_device_path_wins_over_mount() {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "block", "devicePath": "/cacerts"}]);
    pod["spec"]["volumes"] =
        json!([{"name": "block", "persistentVolumeClaim": {"claimName": "raw"}}]);
    assert_injects(&pod_request(pod), default_settings(), &env_only());
}

#[test]
fn pod_device_path_spelled_differently_still_wins() {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "block", "devicePath": "//cacerts/."}]);
    assert_injects(&pod_request(pod), default_settings(), &env_only());
}

#[test]
fn device_named_like_our_volume_gets_no_mount_of_that_name() {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "cainjector-ca-bundle", "devicePath": "/dev/xvdb"}]);
    assert_injects(&pod_request(pod), default_settings(), &env_only());
}

#[test]
fn device_elsewhere_leaves_the_mount_to_us() {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "block", "devicePath": "/dev/xvdb"}]);
    assert_injects(&pod_request(pod), default_settings(), &Injection::default());
}

#[test]
fn same_directory_spelled_differently_gets_no_second_mount() {
    for spelling in [
        "//cacerts",
        "/cacerts/.",
        "/cacerts//",
        "/x/../cacerts",
        "cacerts",
    ] {
        let mut pod = simple_pod();
        pod["spec"]["volumes"] = json!([{"name": "own", "emptyDir": {}}]);
        pod["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "own", "mountPath": spelling}]);
        assert_injects(&pod_request(pod), default_settings(), &env_only());
    }
}

#[test]
fn malformed_volume_devices_are_refused_naming_the_field() {
    let cases = [
        (
            json!("x"),
            "malformed Pod: spec.containers[0].volumeDevices must be a list, found a string",
        ),
        (
            json!([1]),
            "malformed Pod: spec.containers[0].volumeDevices[0] must be an object, found a number",
        ),
        (
            json!([{"name": "b"}]),
            "malformed Pod: spec.containers[0].volumeDevices[0].devicePath is missing: it must be a string",
        ),
        (
            json!([{"devicePath": "/dev/b"}]),
            "malformed Pod: spec.containers[0].volumeDevices[0].name is missing: it must be a string",
        ),
    ];
    for (devices, message) in cases {
        let mut pod = simple_pod();
        pod["spec"]["containers"][0]["volumeDevices"] = devices.clone();
        assert_eq!(
            rejected(&pod_request(pod), default_settings()),
            message,
            "{devices}"
        );
    }
}

#[test]
fn mount_paths_that_are_not_normalised_are_refused_by_name() {
    assert_eq!(
        settings_refused(json!({"configMap": "a", "mountPath": "/cacerts//"})),
        "setting \"mountPath\": \"/cacerts//\" must be a normalised absolute path (no '//', '.', \
         '..' or trailing '/'), e.g. \"/cacerts\""
    );
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/mountPath": "/cacerts/."});
    assert_eq!(
        rejected(&pod_request(pod), default_settings()),
        "annotation \"cainjector.lestak.sh/mountPath\": \"/cacerts/.\" must be a normalised \
         absolute path (no '//', '.', '..' or trailing '/'), e.g. \"/cacerts\""
    );
}

// ---- env (ValidateEnv) ----

#[test]
fn env_var_names_the_api_server_refuses_are_refused_by_name() {
    let reason = "must be a valid environment variable name: letters, digits, '_', '-' and '.', \
                  not starting with a digit nor with '..', and not '.' (e.g. \"SSL_CERT_FILE\")";
    for name in ["..x", ".", "..", "1CA", "CA BUNDLE", "CA=1", ""] {
        assert_eq!(
            settings_refused(json!({"configMap": "a", "envVars": [name]})),
            format!("setting \"envVars\": {name:?} {reason}"),
        );
    }
}

#[test]
fn added_env_vars_carry_only_a_literal_value() {
    let settings = json!({"configMap": "ca-bundle", "envVars": ["SSL_CERT_FILE", "node.extra-CA"]});
    let expected =
        Injection::default().env_vars(&["SSL_CERT_FILE", "node.extra-CA"], "/cacerts/ca.crt");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

// ---- the projected ClusterTrustBundle source (validateProjectionSources) ----

#[test]
fn cluster_trust_bundle_name_is_checked_as_the_api_server_checks_the_volume() {
    let subdomain = "must be a valid Kubernetes object name: lowercase letters, digits, '-' and \
                     '.', starting and ending with a letter or digit (e.g. \"ca-bundle\" or \
                     \"my-org.com\")";
    assert_eq!(
        settings_refused(json!({"clusterTrustBundle": {"name": "a..b"}})),
        format!(
            "setting \"clusterTrustBundle.name\": \"a..b\" is not a ClusterTrustBundle name: it \
             {subdomain}, or a signer's bundle name such as \"example.com:my-signer:root\""
        )
    );
    assert_eq!(
        settings_refused(json!({"clusterTrustBundle": {"name": "example.com:signer:-root"}})),
        format!(
            "setting \"clusterTrustBundle.name\": \"example.com:signer:-root\" is not a \
             ClusterTrustBundle name: after its signer prefix \"example.com:signer:\", \"-root\" \
             {subdomain}"
        )
    );
}

#[test]
fn cluster_trust_bundle_signer_name_is_checked_as_validate_signer_name() {
    assert_eq!(
        settings_refused(
            json!({"clusterTrustBundle": {"signerName": "example/corp", "labelSelector": {}}})
        ),
        "setting \"clusterTrustBundle.signerName\": \"example/corp\" must have a domain of at \
         least two labels separated by dots (e.g. \"example.com/my-signer\")"
    );
    assert_eq!(
        settings_refused(
            json!({"clusterTrustBundle": {"signerName": "example.com/Corp_Signer", "labelSelector": {}}})
        ),
        "setting \"clusterTrustBundle.signerName\": \"example.com/Corp_Signer\" has the path part \
         \"Corp_Signer\", which must be lowercase letters, digits and '-', starting and ending \
         with a letter or digit, at most 253 characters (the path's parts are separated by dots)"
    );
}

#[test]
fn cluster_trust_bundle_label_selector_is_checked_as_validate_label_selector() {
    let selector = |s: Value| json!({"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": s}});
    assert_eq!(
        settings_refused(selector(
            json!({"matchExpressions": [{"key": "Bad Key", "operator": "Exists"}]})
        )),
        "setting \"clusterTrustBundle.labelSelector\": matchExpressions[0].key \"Bad Key\" must be \
         a qualified name: at most 63 letters, digits, '-', '_' and '.', starting and ending with \
         a letter or digit, optionally after a DNS subdomain and '/' (e.g. \"trust\" or \
         \"example.com/trust\")"
    );
    assert_eq!(
        settings_refused(selector(json!({"matchLabels": {"trust": "corp bundle"}}))),
        "setting \"clusterTrustBundle.labelSelector\": matchLabels.trust \"corp bundle\" must be a \
         label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending \
         with a letter or digit (e.g. \"corp\")"
    );
}

#[test]
fn unknown_fields_in_a_selector_requirement_are_refused_not_copied() {
    // Copied into the pod, this field would nest the answer deeper than the
    // host reads (127 levels), though the settings themselves are readable.
    let mut deep = json!(1);
    for _ in 0..115 {
        deep = json!([deep]);
    }
    let settings = json!({"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector":
        {"matchExpressions": [{"key": "trust", "operator": "Exists", "extra": deep}]}}});
    assert_eq!(
        settings_refused(settings),
        "setting \"clusterTrustBundle.labelSelector\": matchExpressions[0].extra is not known: a \
         requirement has \"key\", \"operator\" and \"values\""
    );
}

#[test]
fn valid_selector_is_copied_into_the_projected_source_as_set() {
    let selector = json!({"matchLabels": {"example.com/trust": "corp"}, "matchExpressions":
        [{"key": "tier", "operator": "In", "values": ["root", "Intermediate_1"]}]});
    let settings = json!({"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": selector}});
    let expected = Injection::new(
        "cainjector-example-com-corp",
        json!({"projected": {"sources": [{"clusterTrustBundle":
            {"signerName": "example.com/corp", "labelSelector": selector, "path": "ca.crt"}}]}}),
    );
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn projected_path_is_a_local_path_because_cert_file_is_a_key() {
    let key = "must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \"ca.crt\")";
    let chdir = "must not be '.' or '..' nor start with '..'";
    for (cert_file, reason) in [
        ("../ca.crt", key),
        ("/ca.crt", key),
        ("a/b", key),
        ("..ca", chdir),
        ("..", chdir),
    ] {
        let settings = json!({"clusterTrustBundle": {"name": "corp-root"}, "certFile": cert_file});
        assert_eq!(
            settings_refused(settings),
            format!("setting \"certFile\": {cert_file:?} {reason}")
        );
    }
}

// ---- annotations (ValidateAnnotations) ----

const LIMIT: usize = 262_144;
const STATUS_KEY: &str = "cainjector.lestak.sh/status";

/// A pod whose annotations take `total` bytes (keys and values).
fn pod_with_annotation_bytes(total: usize) -> Value {
    let key = "example.com/notes";
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({ key: "n".repeat(total - key.len()) });
    pod
}

/// The warning when the status annotation is left out: with it, the
/// annotations would take `size` bytes.
fn left_out(size: usize) -> String {
    format!(
        "cainjector injected the trust bundle but left out its annotation \"{STATUS_KEY}\": \
         with it the annotations would take {size} bytes, over the 262144 bytes the API server \
         allows (keys and values together)"
    )
}

fn status_settings() -> Value {
    json!({"configMap": "ca-bundle", "statusAnnotation": true})
}

/// The status value for the default injection into simple_pod.
fn status_value() -> String {
    let result = mutated(&pod_request(simple_pod()), status_settings());
    result["metadata"]["annotations"][STATUS_KEY]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn status_annotation_fills_the_annotation_budget_exactly() {
    let room = STATUS_KEY.len() + status_value().len();
    let pod = pod_with_annotation_bytes(LIMIT - room);
    let result = mutated(&pod_request(pod.clone()), status_settings());
    let mut expected = injected(&pod, &[C0]);
    expected["metadata"]["annotations"][STATUS_KEY] = json!(status_value());
    assert_same(&result, &expected);
}

#[test]
fn status_annotation_never_pushes_annotations_over_256_kib() {
    let room = STATUS_KEY.len() + status_value().len();
    let pod = pod_with_annotation_bytes(LIMIT - room + 1);
    assert_eq!(
        run(&pod_request(pod.clone()), status_settings()),
        Verdict::MutateWarn(injected(&pod, &[C0]), left_out(LIMIT + 1))
    );
}

#[test]
fn status_annotation_budget_counts_bytes_not_characters() {
    // 'é' is two bytes: the API server counts len() of Go strings.
    let room = STATUS_KEY.len() + status_value().len();
    let key = "example.com/notes";
    let mut pod = simple_pod();
    let chars = (LIMIT - room - key.len()) / 2 + 1;
    pod["metadata"]["annotations"] = json!({ key: "é".repeat(chars) });
    let size = key.len() + 2 * chars + room;
    assert_eq!(
        run(&pod_request(pod.clone()), status_settings()),
        Verdict::MutateWarn(injected(&pod, &[C0]), left_out(size))
    );
}

#[test]
fn status_annotation_replacing_an_old_one_counts_only_the_new_value() {
    let room = STATUS_KEY.len() + status_value().len();
    let key = "example.com/notes";
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({
        key: "n".repeat(LIMIT - room - key.len()),
        STATUS_KEY: "stale",
    });
    let result = mutated(&pod_request(pod), status_settings());
    assert_eq!(
        result["metadata"]["annotations"][STATUS_KEY],
        json!(status_value())
    );
}

#[test]
fn status_annotation_key_is_a_qualified_name_because_the_prefix_is_a_subdomain() {
    assert_eq!(
        settings_refused(json!({"configMap": "a", "annotationPrefix": "Trust.Example.com"})),
        "setting \"annotationPrefix\": \"Trust.Example.com\" must be a valid Kubernetes object \
         name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit \
         (e.g. \"ca-bundle\" or \"my-org.com\")"
    );
    let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true, "annotationPrefix": "trust.example.com"});
    let result = mutated(&pod_request(simple_pod()), settings);
    let keys: Vec<&String> = result["metadata"]["annotations"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["trust.example.com/status"]);
}

#[test]
fn mutation_with_a_warning_is_answered_with_the_object_and_the_warning() {
    let room = STATUS_KEY.len() + status_value().len();
    let pod = pod_with_annotation_bytes(LIMIT - room + 1);
    let payload = json!({"request": pod_request(pod.clone()), "settings": status_settings()});
    let response = cainjector::validate(payload.to_string().as_bytes()).unwrap();
    let response: Value = serde_json::from_slice(&response).unwrap();
    assert_eq!(response["accepted"], json!(true));
    assert_eq!(response["mutated_object"], injected(&pod, &[C0]));
    assert_eq!(response["warnings"], json!([left_out(LIMIT + 1)]));
}

// ---- kubectl debug (ValidatePodEphemeralContainersUpdate) ----

fn debug_pod() -> Value {
    let mut pod = injected(&simple_pod(), &[C0]);
    pod["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": "busybox"}]);
    pod
}

#[test]
fn unreadable_old_object_is_refused_instead_of_read_as_empty() {
    let old_with = |ephemeral: Value| {
        let mut old = injected(&simple_pod(), &[C0]);
        old["spec"]["ephemeralContainers"] = ephemeral;
        old
    };
    let cases = [
        (
            Value::Null,
            "malformed Pod: oldObject is missing: an ephemeralcontainers update must carry the pod as it was, to tell the new debug containers from the existing ones",
        ),
        (
            json!("pod"),
            "malformed Pod: oldObject must be an object, found a string",
        ),
        (
            json!({"metadata": {}}),
            "malformed Pod: oldObject.spec is missing",
        ),
        (
            json!({"spec": []}),
            "malformed Pod: oldObject.spec must be an object, found a list",
        ),
        (
            old_with(json!({"debugger": {}})),
            "malformed Pod: oldObject.spec.ephemeralContainers must be a list, found an object",
        ),
        (
            old_with(json!(["debugger"])),
            "malformed Pod: oldObject.spec.ephemeralContainers[0] must be an object, found a string",
        ),
        (
            old_with(json!([{"image": "busybox"}])),
            "malformed Pod: oldObject.spec.ephemeralContainers[0].name is missing: it must be a string",
        ),
        (
            old_with(json!([{"name": 7}])),
            "malformed Pod: oldObject.spec.ephemeralContainers[0].name must be a string, found a number",
        ),
    ];
    for (old, message) in cases {
        assert_eq!(
            rejected(&debug_request(&old, &debug_pod()), default_settings()),
            message,
            "{old}"
        );
    }
    let mut request = debug_request(&Value::Null, &debug_pod());
    request.as_object_mut().unwrap().remove("oldObject");
    assert_eq!(
        rejected(&request, default_settings()),
        "malformed Pod: oldObject is missing: an ephemeralcontainers update must carry the pod as \
         it was, to tell the new debug containers from the existing ones"
    );
}

#[test]
fn old_object_without_ephemeral_containers_has_none() {
    let old = injected(&simple_pod(), &[C0]);
    let expected = Injection::default()
        .pod_has_volume()
        .in_containers(&["/spec/ephemeralContainers/0"]);
    assert_injects(
        &debug_request(&old, &debug_pod()),
        default_settings(),
        &expected,
    );
}

#[test]
fn debug_of_a_skipped_pod_does_not_read_the_old_object() {
    let mut pod = debug_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/inject": "false"});
    assert_eq!(
        run(
            &debug_request(&json!("unreadable"), &pod),
            default_settings()
        ),
        Verdict::Accept
    );
}

// ---- Windows pods: nothing of ours would work there ----

fn with_spec(field: &str, value: Value) -> Value {
    let mut pod = simple_pod();
    pod["spec"][field] = value;
    pod
}

fn required_affinity(terms: Value) -> Value {
    json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})
}

fn os_in(values: Value) -> Value {
    json!({"key": "kubernetes.io/os", "operator": "In", "values": values})
}

#[test]
fn windows_node_selector_pod_is_accepted_unchanged() {
    for label in ["kubernetes.io/os", "beta.kubernetes.io/os"] {
        let pod = with_spec("nodeSelector", json!({"app": "web", label: "windows"}));
        assert_eq!(
            run(&pod_request(pod), default_settings()),
            Verdict::Accept,
            "{label}"
        );
    }
}

#[test]
fn linux_node_selector_pod_is_injected() {
    let pod = with_spec("nodeSelector", json!({"kubernetes.io/os": "linux"}));
    assert_injects(&pod_request(pod), default_settings(), &Injection::default());
}

#[test]
fn pod_whose_every_required_affinity_term_requires_windows_is_accepted_unchanged() {
    let zone = json!({"key": "zone", "operator": "In", "values": ["a"]});
    let terms = json!([
        {"matchExpressions": [os_in(json!(["windows"]))]},
        {"matchExpressions": [zone, os_in(json!(["windows"]))]},
    ]);
    let pod = with_spec("affinity", required_affinity(terms));
    assert_eq!(run(&pod_request(pod), default_settings()), Verdict::Accept);
}

#[test]
fn pod_with_a_required_affinity_term_that_allows_linux_is_injected() {
    let cases = [
        // One term of two allows any OS: the terms are ORed.
        json!([{"matchExpressions": [os_in(json!(["windows"]))]}, {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}]),
        json!([{"matchExpressions": [os_in(json!(["windows", "linux"]))]}]),
        json!([{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "NotIn", "values": ["linux"]}]}]),
        json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]),
        json!([]),
    ];
    for terms in cases {
        let pod = with_spec("affinity", required_affinity(terms.clone()));
        assert_injects(&pod_request(pod), default_settings(), &Injection::default());
    }
}

#[test]
fn preferred_windows_affinity_is_injected() {
    let affinity = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution":
        [{"weight": 1, "preference": {"matchExpressions": [os_in(json!(["windows"]))]}}]}});
    let pod = with_spec("affinity", affinity);
    assert_injects(&pod_request(pod), default_settings(), &Injection::default());
}

#[test]
fn windows_template_of_a_workload_is_accepted_unchanged() {
    let object = json!({"spec": {"template": {"spec": {
        "nodeSelector": {"kubernetes.io/os": "windows"},
        "containers": [{"name": "app", "image": "mcr.microsoft.com/windows/servercore"}]}}}});
    let request = admission(("apps", "Deployment"), "CREATE", "default", object);
    assert_eq!(run(&request, default_settings()), Verdict::Accept);
}

#[test]
fn malformed_node_selector_or_affinity_is_refused_naming_the_field() {
    let cases = [
        (
            with_spec("nodeSelector", json!(["windows"])),
            "malformed Pod: spec.nodeSelector must be an object, found a list",
        ),
        (
            with_spec("affinity", json!("windows")),
            "malformed Pod: spec.affinity must be an object, found a string",
        ),
        (
            with_spec("affinity", json!({"nodeAffinity": []})),
            "malformed Pod: spec.affinity.nodeAffinity must be an object, found a list",
        ),
        (
            with_spec(
                "affinity",
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": 1}}),
            ),
            "malformed Pod: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution must be an object, found a number",
        ),
        (
            with_spec("affinity", required_affinity(json!({}))),
            "malformed Pod: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms must be a list, found an object",
        ),
        (
            with_spec("affinity", required_affinity(json!(["windows"]))),
            "malformed Pod: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0] must be an object, found a string",
        ),
        (
            with_spec(
                "affinity",
                required_affinity(json!([{"matchExpressions": "os"}])),
            ),
            "malformed Pod: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions must be a list, found a string",
        ),
        (
            with_spec(
                "affinity",
                required_affinity(json!([{"matchExpressions": [true]}])),
            ),
            "malformed Pod: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0] must be an object, found a boolean",
        ),
    ];
    for (pod, message) in cases {
        assert_eq!(
            rejected(&pod_request(pod.clone()), default_settings()),
            message,
            "{}",
            pod["spec"]
        );
    }
}

// ---- volumes (ValidateVolumes) ----

#[test]
fn volume_name_is_a_dns_label_whatever_the_source_is_called() {
    let long = format!("{}.example.com", "trust-bundle".repeat(20));
    let cases = [
        (json!({"configMap": "my-org.com"}), "cainjector-my-org-com"),
        (
            json!({"clusterTrustBundle": {"name": "example.com:corp:root"}}),
            "cainjector-example-com-corp-root",
        ),
        (
            json!({"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": {}}}),
            "cainjector-example-com-corp",
        ),
        (
            json!({"secret": long}),
            "cainjector-trust-bundletrust-bundletrust-bundletrust-b-c1c96982",
        ),
    ];
    for (settings, volume) in cases {
        let result = mutated(&pod_request(simple_pod()), settings.clone());
        assert_eq!(
            result["spec"]["volumes"][0]["name"],
            json!(volume),
            "{settings}"
        );
        assert!(cainjector::settings::names::is_dns_label(volume));
    }
}

#[test]
fn source_names_that_cannot_name_an_object_are_refused_by_name() {
    let reason = "must be a valid Kubernetes object name: lowercase letters, digits, '-' and '.', \
                  starting and ending with a letter or digit (e.g. \"ca-bundle\" or \"my-org.com\")";
    assert_eq!(
        settings_refused(json!({"configMap": "Ca_Bundle"})),
        format!("setting \"configMap\": \"Ca_Bundle\" {reason}")
    );
    assert_eq!(
        settings_refused(json!({"secret": ""})),
        format!("setting \"secret\": \"\" {reason}")
    );
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/secret": "-ca"});
    assert_eq!(
        rejected(&pod_request(pod), default_settings()),
        format!("annotation \"cainjector.lestak.sh/secret\": \"-ca\" {reason}")
    );
}

// ---- systemTrustStore's file mounts (ValidateVolumeMounts, validateEphemeralContainers) ----

#[test]
fn file_mount_is_never_at_a_path_the_container_mounts_or_has_a_device_at_however_spelled() {
    let mut pod = simple_pod();
    pod["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "own", "mountPath": "//etc/ssl/cert.pem/."}]);
    pod["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "raw", "devicePath": "/opt/ca.pem/"}]);
    let settings = json!({"configMap": "ca-bundle",
        "systemTrustStore": ["/etc/ssl/cert.pem", "/opt/ca.pem", "/srv/ca.pem"]});
    let expected = Injection::default().over(&["/srv/ca.pem"], "ca.crt");
    assert_injects(&pod_request(pod), settings, &expected);
}

#[test]
fn file_mount_sub_path_is_a_local_path_because_cert_file_is_a_key() {
    let settings = json!({"configMap": "ca-bundle", "certFile": ".bundle..pem",
        "systemTrustStore": ["/etc/ssl/cert.pem"]});
    let result = mutated(&pod_request(simple_pod()), settings);
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"][1],
        store_mount("cainjector-ca-bundle", "/etc/ssl/cert.pem", ".bundle..pem")
    );
    let refused = settings_refused(json!({"configMap": "ca-bundle", "certFile": "../ca.crt",
        "systemTrustStore": true}));
    assert_eq!(
        refused,
        "setting \"certFile\": \"../ca.crt\" must be a valid ConfigMap key: letters, digits, '-', \
         '_' and '.' (e.g. \"ca.crt\")"
    );
}

#[test]
fn ephemeral_containers_never_get_a_sub_path() {
    let settings = json!({"configMap": "ca-bundle", "systemTrustStore": true});
    let old = mutated(&pod_request(simple_pod()), settings.clone());
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    let result = mutated(&debug_request(&old, &new), settings);
    assert_eq!(
        result["spec"]["ephemeralContainers"][0]["volumeMounts"],
        json!([bundle_mount("cainjector-ca-bundle", "/cacerts")])
    );
}

// ---- envValues (ValidateEnv) and javaTrustStore.cacerts' file mounts ----

#[test]
fn env_values_names_the_api_server_refuses_are_refused_by_name() {
    let reason = "must be a valid environment variable name: letters, digits, '_', '-' and '.', \
                  not starting with a digit nor with '..', and not '.' (e.g. \"SSL_CERT_FILE\")";
    for name in ["..x", ".", "..", "1CA", "CA BUNDLE", "CA=1", ""] {
        assert_eq!(
            settings_refused(json!({"configMap": "a", "envValues": {name: "1"}})),
            format!("setting \"envValues\": {name:?} {reason}"),
        );
    }
}

#[test]
fn env_values_carry_only_a_literal_value_whatever_it_holds() {
    let settings = json!({"configMap": "ca-bundle",
        "envValues": {"node.use-CA": "", "X": "$(SSL_CERT_FILE) \"quoted\"\n"}});
    let expected = Injection::default()
        .also_env("X", "$(SSL_CERT_FILE) \"quoted\"\n")
        .also_env("node.use-CA", "");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn cacerts_mount_sub_path_is_the_store_key_a_local_path() {
    let settings = json!({"configMap": "ca-bundle",
        "javaTrustStore": {"key": ".store..p12", "cacerts": ["/opt/cacerts"]}});
    let result = mutated(&pod_request(simple_pod()), settings);
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"][1],
        store_mount("cainjector-ca-bundle", "/opt/cacerts", ".store..p12")
    );
    let refused = settings_refused(json!({"configMap": "ca-bundle",
        "javaTrustStore": {"key": "../store.p12", "cacerts": true}}));
    assert_eq!(
        refused,
        "setting \"javaTrustStore.key\": \"../store.p12\" must be a valid ConfigMap key: letters, \
         digits, '-', '_' and '.' (e.g. \"ca.crt\")"
    );
}

#[test]
fn cacerts_mounts_never_go_to_ephemeral_containers() {
    let settings = json!({"configMap": "ca-bundle",
        "javaTrustStore": {"key": "truststore.p12", "cacerts": true}});
    let old = mutated(&pod_request(simple_pod()), settings.clone());
    let mut new = old.clone();
    push(
        &mut new,
        "/spec/ephemeralContainers",
        json!({"name": "debugger", "image": "busybox"}),
    );
    let result = mutated(&debug_request(&old, &new), settings);
    assert_eq!(
        result["spec"]["ephemeralContainers"][0]["volumeMounts"],
        json!([bundle_mount("cainjector-ca-bundle", "/cacerts")])
    );
}

// ---- the table itself ----

/// The tests that docs/api-rules.md cites by name (`snake_case` with at least
/// three underscores) all exist as test functions in src/ or tests/, so that
/// merging or renaming a test cannot leave the table citing nothing.
#[test]
fn the_table_cites_only_tests_that_exist() {
    let mut code = String::new();
    for dir in ["src", "tests"] {
        read_rust_files(&path(dir), &mut code);
    }
    let table = text("docs/api-rules.md");
    let missing: Vec<&str> = table
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|name| is_test_name(name) && !code.contains(&format!("fn {name}(")))
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
}

fn is_test_name(name: &str) -> bool {
    name.matches('_').count() >= 3
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn read_rust_files(dir: &std::path::Path, code: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.unwrap().path();
        if entry.is_dir() {
            read_rust_files(&entry, code);
        } else if entry.extension().is_some_and(|e| e == "rs") {
            code.push_str(&std::fs::read_to_string(&entry).unwrap());
        }
    }
}
