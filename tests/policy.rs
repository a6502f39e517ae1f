//! One test per rule of the specification, each asserting the exact outcome:
//! the mutated object or the exact message.

mod common;
mod invariants;

use common::Verdict;
use common::*;
use invariants::{Written, assert_keeps_key_order, written};
use serde_json::{Value, json};

const C0: &str = "/spec/containers/0";

/// The fixture sent as written (not re-serialised, which sorts the keys): the
/// mutated object keeps the order of every key of the object.
fn assert_fixture_keeps_key_order(name: &str, settings: Value) {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let payload = format!(r#"{{"request": {text}, "settings": {settings}}}"#);
    let answer = cainjector::answer(payload.as_bytes(), &cainjector::cluster::KubewardenHost);
    let cainjector::Answer::Mutate(result) = answer else {
        panic!("expected a mutation, got {answer:?}");
    };
    let Written::Map(request) = written(&text) else {
        panic!("{name}: not an object");
    };
    let (_, object) = request.iter().find(|(k, _)| k == "object").unwrap();
    assert_keeps_key_order(object, &written(&result), "");
}

#[test]
fn pod_gets_volume_read_only_mount_and_env() {
    assert_injects(
        &pod_request(simple_pod()),
        default_settings(),
        &Injection::default(),
    );
}

#[test]
fn realistic_pod_is_injected_except_excluded_sidecar() {
    let request = fixture("pod-realistic.json");
    let settings = json!({"configMap": "ca-bundle", "excludeContainers": ["istio-*"]});
    let expected = Injection::default().in_containers(&["/spec/initContainers/0", C0]);
    let result = assert_injects(&request, settings, &expected);
    assert_only_adds(&request["object"], &result, "");
    assert_fixture_keeps_key_order(
        "pod-realistic.json",
        json!({"configMap": "ca-bundle", "excludeContainers": ["istio-*"]}),
    );
}

#[test]
fn dotted_config_map_name_gets_a_valid_volume_name() {
    let expected = Injection::config_map("cainjector-my-org-com", "my-org.com");
    let settings = json!({"configMap": "my-org.com"});
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn long_source_name_gets_a_volume_name_of_at_most_63_characters() {
    let name = format!("{}example.com", "trust-bundle-".repeat(15));
    let result = mutated(&pod_request(simple_pod()), json!({"configMap": name}));
    let volume = result["spec"]["volumes"][0]["name"].as_str().unwrap();
    assert!(
        volume.len() <= 63 && cainjector::settings::names::is_dns_label(volume),
        "{volume}"
    );
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"][0]["name"],
        volume
    );
}

#[test]
fn secret_source_mounts_the_whole_secret() {
    let expected = Injection::secret("cainjector-ca-secret", "ca-secret");
    let settings = json!({"secret": "ca-secret"});
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn settings_shape_mount_and_env() {
    let settings = json!({
        "configMap": "ca-bundle",
        "certFile": "bundle.pem",
        "mountPath": "/etc/ssl/certs",
        "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE"],
    });
    let expected = Injection::default().mounted_at("/etc/ssl/certs").env_vars(
        &["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE"],
        "/etc/ssl/certs/bundle.pem",
    );
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn ssl_cert_file_setting_is_the_env_value() {
    let settings = json!({"configMap": "ca-bundle", "sslCertFile": "/cacerts/bundle/all.pem"});
    let expected = Injection::default().env_vars(&["SSL_CERT_FILE"], "/cacerts/bundle/all.pem");
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn set_env_var_false_adds_only_the_mount() {
    let settings = json!({"configMap": "ca-bundle", "setEnvVar": false});
    let expected = Injection::default().no_env();
    assert_injects(&pod_request(simple_pod()), settings, &expected);
}

#[test]
fn excluded_container_is_never_touched() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/containers",
        json!({"name": "istio-proxy", "image": "proxyv2"}),
    );
    let settings = json!({"configMap": "ca-bundle", "excludeContainers": ["istio-proxy"]});
    assert_injects(&pod_request(pod), settings, &Injection::default());
}

#[test]
fn pod_with_every_container_excluded_is_accepted_unchanged() {
    let settings = json!({"configMap": "ca-bundle", "excludeContainers": ["*"]});
    assert_eq!(run(&pod_request(simple_pod()), settings), Verdict::Accept);
}

#[test]
fn init_containers_and_native_sidecars_are_injected() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "proxy", "image": "envoy", "restartPolicy": "Always"}),
    );
    let containers = ["/spec/initContainers/0", "/spec/initContainers/1", C0];
    let expected = Injection::default().in_containers(&containers);
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn inject_init_containers_false_leaves_them_alone() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/initContainers",
        json!({"name": "setup", "image": "busybox"}),
    );
    let settings = json!({"configMap": "ca-bundle", "injectInitContainers": false});
    assert_injects(&pod_request(pod), settings, &Injection::default());
}

#[test]
fn existing_volume_mount_and_env_are_not_added_twice() {
    let pod = injected(&simple_pod(), &[C0]);
    assert_eq!(run(&pod_request(pod), default_settings()), Verdict::Accept);
}

#[test]
fn second_run_on_the_output_changes_nothing() {
    let request = fixture("pod-realistic.json");
    let once = mutated(
        &request,
        json!({"configMap": "my-org.com", "envVars": ["SSL_CERT_FILE", "CURL_CA_BUNDLE"]}),
    );
    let mut again = request.clone();
    again["object"] = once;
    assert_eq!(
        run(
            &again,
            json!({"configMap": "my-org.com", "envVars": ["SSL_CERT_FILE", "CURL_CA_BUNDLE"]})
        ),
        Verdict::Accept
    );
}

#[test]
fn pod_env_value_is_kept() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("SSL_CERT_FILE", "/etc/own.pem"),
    );
    let settings =
        json!({"configMap": "ca-bundle", "envVars": ["SSL_CERT_FILE", "CURL_CA_BUNDLE"]});
    // Only CURL_CA_BUNDLE is added: the container sets SSL_CERT_FILE itself.
    let expected = Injection::default().env_vars(&["CURL_CA_BUNDLE"], "/cacerts/ca.crt");
    assert_injects(&pod_request(pod), settings, &expected);
}

#[test]
fn a_container_setting_one_of_many_env_vars_gets_the_others() {
    // More env vars than the plan keeps a bit for: the 67th is the pod's own.
    let names: Vec<String> = (0..70).map(|i| format!("VAR_{i}")).collect();
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        env("VAR_66", "/etc/own.pem"),
    );
    let settings = json!({"configMap": "ca-bundle", "envVars": names});
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| *name != "VAR_66")
        .collect();
    let expected = Injection::default().env_vars(&others, "/cacerts/ca.crt");
    assert_injects(&pod_request(pod), settings, &expected);
}

#[test]
fn env_from_value_from_is_kept_as_the_pods_own() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/env"),
        json!({"name": "SSL_CERT_FILE", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}),
    );
    let expected = Injection::default().no_env();
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn path_already_mounted_in_a_container_gets_no_second_mount() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/volumes",
        json!({"name": "own", "emptyDir": {}}),
    );
    push(
        &mut pod,
        &format!("{C0}/volumeMounts"),
        json!({"name": "own", "mountPath": "/cacerts/"}),
    );
    push(
        &mut pod,
        "/spec/containers",
        json!({"name": "second", "image": "x"}),
    );
    // The first container keeps its own mount; the second gets ours.
    let own_mount = Injection::default().env_only().applied_to(&pod);
    let result = mutated(&pod_request(pod), default_settings());
    assert_same(&result, &injected(&own_mount, &["/spec/containers/1"]));
}

#[test]
fn volume_is_not_added_when_no_container_mounts_it() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        &format!("{C0}/volumeMounts"),
        json!({"name": "own", "mountPath": "/cacerts"}),
    );
    push(
        &mut pod,
        "/spec/volumes",
        json!({"name": "own", "emptyDir": {}}),
    );
    let expected = Injection::default().env_only();
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn pod_volume_with_the_same_source_is_reused() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/volumes",
        json!({"name": "trust", "configMap": {"name": "ca-bundle", "defaultMode": 420}}),
    );
    let expected = Injection::config_map("trust", "ca-bundle").pod_has_volume();
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn volume_name_taken_by_another_source_gets_a_new_name() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/volumes",
        json!({"name": "cainjector-ca-bundle", "emptyDir": {}}),
    );
    let expected = Injection::config_map("cainjector-ca-bundle-2", "ca-bundle");
    let result = assert_injects(&pod_request(pod), default_settings(), &expected);
    let mut again = pod_request(result);
    again["object"]["metadata"]["name"] = json!("web");
    assert_eq!(run(&again, default_settings()), Verdict::Accept);
}

#[test]
fn volume_with_items_is_not_reused() {
    let mut pod = simple_pod();
    push(
        &mut pod,
        "/spec/volumes",
        json!({"name": "part", "configMap": {"name": "ca-bundle", "items": [{"key": "other", "path": "o"}]}}),
    );
    assert_injects(&pod_request(pod), default_settings(), &Injection::default());
}

#[test]
fn unknown_fields_come_back_untouched() {
    let request = fixture("pod-unknown-fields.json");
    let result = assert_injects(&request, default_settings(), &Injection::default());
    assert_eq!(
        result["spec"]["futureSpecField"],
        json!({"nested": [1, 2, {"deep": true}]})
    );
    assert_eq!(
        result["spec"]["containers"][0]["futureContainerField"],
        json!("keep me")
    );
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"][0]["futureMountField"],
        json!(7)
    );
    assert_eq!(
        result["spec"]["volumes"][0]["futureVolumeField"],
        json!(null)
    );
    assert_only_adds(&request["object"], &result, "");
    assert_fixture_keeps_key_order("pod-unknown-fields.json", default_settings());
}

#[test]
fn result_parses_as_a_kubernetes_pod() {
    let result = mutated(&fixture("pod-realistic.json"), default_settings());
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(result).unwrap();
    let spec = pod.spec.unwrap();
    let mount = spec.containers[0]
        .volume_mounts
        .as_ref()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(mount.mount_path, "/cacerts");
    assert_eq!(mount.read_only, Some(true));
}

#[test]
fn update_delete_and_connect_are_accepted_unchanged() {
    for operation in ["UPDATE", "DELETE", "CONNECT"] {
        let request = admission(("", "Pod"), operation, "default", simple_pod());
        assert_eq!(
            run(&request, default_settings()),
            Verdict::Accept,
            "{operation}"
        );
    }
}

#[test]
fn windows_pod_is_accepted_unchanged() {
    let mut pod = simple_pod();
    pod["spec"]["os"] = json!({"name": "windows"});
    assert_eq!(run(&pod_request(pod), default_settings()), Verdict::Accept);
}

#[test]
fn linux_os_pod_is_injected() {
    let mut pod = simple_pod();
    pod["spec"]["os"] = json!({"name": "linux"});
    assert_injects(&pod_request(pod), default_settings(), &Injection::default());
}

#[test]
fn mirror_pod_is_accepted_unchanged() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc"});
    assert_eq!(run(&pod_request(pod), default_settings()), Verdict::Accept);
}

#[test]
fn kinds_that_are_not_handled_are_accepted_unchanged() {
    let request = admission(
        ("", "ConfigMap"),
        "CREATE",
        "default",
        json!({"data": {"a": "b"}}),
    );
    assert_eq!(run(&request, default_settings()), Verdict::Accept);
    let crd = admission(
        ("example.com", "Deployment"),
        "CREATE",
        "default",
        json!({"spec": 1}),
    );
    assert_eq!(run(&crd, default_settings()), Verdict::Accept);
}

fn template(annotations: Value) -> Value {
    json!({
        "metadata": {"labels": {"app": "web"}, "annotations": annotations},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]}
    })
}

#[test]
fn workload_templates_are_injected() {
    let cases = [
        ("apps", "Deployment", "/spec/template"),
        ("apps", "StatefulSet", "/spec/template"),
        ("apps", "DaemonSet", "/spec/template"),
        ("apps", "ReplicaSet", "/spec/template"),
        ("", "ReplicationController", "/spec/template"),
        ("batch", "Job", "/spec/template"),
        ("batch", "CronJob", "/spec/jobTemplate/spec/template"),
    ];
    for (group, kind, at) in cases {
        let mut object =
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "web"}, "spec": {}});
        if kind == "CronJob" {
            object["spec"] = json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template(json!({}))}}});
        } else {
            object["spec"]["template"] = template(json!({}));
        }
        let request = admission((group, kind), "CREATE", "default", object);
        let expected = Injection::default().in_containers(&[&format!("{at}/spec/containers/0")]);
        assert_injects(&request, default_settings(), &expected);
    }
}

#[test]
fn workload_annotations_are_read_from_the_template() {
    let object = json!({"metadata": {"annotations": {"cainjector.lestak.sh/inject": "false"}},
                        "spec": {"template": template(json!({}))}});
    let request = admission(("apps", "Deployment"), "CREATE", "default", object);
    let expected = Injection::default().in_containers(&["/spec/template/spec/containers/0"]);
    assert_injects(&request, default_settings(), &expected);
    let object =
        json!({"spec": {"template": template(json!({"cainjector.lestak.sh/inject": "false"}))}});
    let request = admission(("apps", "Deployment"), "CREATE", "default", object);
    assert_eq!(run(&request, default_settings()), Verdict::Accept);
}

#[test]
fn workload_update_is_accepted_unchanged() {
    let object = json!({"spec": {"template": template(json!({}))}});
    let request = admission(("apps", "Deployment"), "UPDATE", "default", object);
    assert_eq!(run(&request, default_settings()), Verdict::Accept);
}

#[test]
fn exclude_namespace_wins_over_include() {
    let settings = json!({"configMap": "ca-bundle", "includeNamespaces": ["team-*"], "excludeNamespaces": ["team-legacy"]});
    let in_team = admission(("", "Pod"), "CREATE", "team-a", simple_pod());
    assert_injects(&in_team, settings.clone(), &Injection::default());
    let legacy = admission(("", "Pod"), "CREATE", "team-legacy", simple_pod());
    assert_eq!(run(&legacy, settings.clone()), Verdict::Accept);
    let other = admission(("", "Pod"), "CREATE", "default", simple_pod());
    assert_eq!(run(&other, settings), Verdict::Accept);
}

#[test]
fn excluded_namespace_pod_is_accepted_unchanged() {
    let settings = json!({"configMap": "ca-bundle", "excludeNamespaces": ["kube-*"]});
    let request = admission(("", "Pod"), "CREATE", "kube-system", simple_pod());
    assert_eq!(run(&request, settings), Verdict::Accept);
}

#[test]
fn namespace_comes_from_the_object_when_the_request_has_none() {
    let settings = json!({"configMap": "ca-bundle", "excludeNamespaces": ["default"]});
    let request = admission(("", "Pod"), "CREATE", "", simple_pod());
    assert_eq!(run(&request, settings), Verdict::Accept);
}

#[test]
fn opt_out_annotation_skips_the_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/inject": "false"});
    assert_eq!(run(&pod_request(pod), default_settings()), Verdict::Accept);
}

#[test]
fn opt_in_mode_injects_only_annotated_pods() {
    let settings = json!({"configMap": "ca-bundle", "inject": false});
    assert_eq!(
        run(&pod_request(simple_pod()), settings.clone()),
        Verdict::Accept
    );
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/inject": "true"});
    assert_injects(&pod_request(pod), settings, &Injection::default());
}

#[test]
fn annotations_override_the_settings_for_one_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({
        "cainjector.lestak.sh/configMap": "team-bundle",
        "cainjector.lestak.sh/certFile": "bundle.pem",
        "cainjector.lestak.sh/mountPath": "/etc/team-ca",
        "cainjector.lestak.sh/sslCertFile": "/etc/team-ca/bundle.pem",
        "cainjector.lestak.sh/setEnvVar": "true",
    });
    push(
        &mut pod,
        "/spec/containers",
        json!({"name": "debug", "image": "busybox"}),
    );
    pod["metadata"]["annotations"]["cainjector.lestak.sh/excludeContainers"] = json!("debug");
    let expected = Injection::config_map("cainjector-team-bundle", "team-bundle")
        .mounted_at("/etc/team-ca")
        .env_vars(&["SSL_CERT_FILE"], "/etc/team-ca/bundle.pem");
    let settings = json!({"secret": "cluster-bundle"});
    assert_injects(&pod_request(pod), settings, &expected);
}

#[test]
fn secret_annotation_replaces_the_config_map_source() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/secret": "team-ca"});
    let expected = Injection::secret("cainjector-team-ca", "team-ca");
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn set_env_var_annotation_false_adds_no_env() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/setEnvVar": "false"});
    let expected = Injection::default().no_env();
    assert_injects(&pod_request(pod), default_settings(), &expected);
}

#[test]
fn invalid_annotation_rejects_the_pod_naming_it() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/mountPath": "certs"});
    assert_eq!(
        rejected(&pod_request(pod), default_settings()),
        "annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')"
    );
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/setEnvVar": "maybe"});
    assert_eq!(
        rejected(&pod_request(pod), default_settings()),
        "annotation \"cainjector.lestak.sh/setEnvVar\": \"maybe\" must be \"true\" or \"false\""
    );
}

#[test]
fn annotation_not_in_allowed_overrides_rejects_the_pod() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/configMap": "other"});
    let settings =
        json!({"configMap": "ca-bundle", "allowedOverrides": ["inject", "excludeContainers"]});
    assert_eq!(
        rejected(&pod_request(pod), settings),
        "annotation \"cainjector.lestak.sh/configMap\" is not allowed: the cluster's cainjector \
         policy lets pods use only inject, excludeContainers (setting allowedOverrides)"
    );
}

#[test]
fn white_labelled_prefix_is_honoured() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"trust.example.com/inject": "false"});
    let settings = json!({"configMap": "ca-bundle", "annotationPrefix": "trust.example.com"});
    assert_eq!(run(&pod_request(pod), settings), Verdict::Accept);
}

#[test]
fn malformed_requests_are_rejected_with_a_clear_message() {
    assert_eq!(
        common::evaluate(b"not json"),
        Verdict::Reject(
            "cannot read the admission request: expected ident at line 1 column 2".into()
        )
    );
    assert_eq!(
        common::evaluate(b"{\"request\": {\"operation\": 5}}"),
        Verdict::Reject(
            "cannot read the admission request: request.operation must be a string, found a number"
                .into()
        )
    );
    let cases: Vec<(Value, &str)> = vec![
        (json!({"metadata": {}}), "malformed Pod: spec is missing"),
        (
            json!({"spec": []}),
            "malformed Pod: spec must be an object, found a list",
        ),
        (
            json!({"spec": {"containers": "app"}}),
            "malformed Pod: spec.containers must be a list, found a string",
        ),
        (
            json!({"spec": {"containers": [7]}}),
            "malformed Pod: spec.containers[0] must be an object, found a number",
        ),
        (
            json!({"spec": {"containers": [{"image": "x"}]}}),
            "malformed Pod: spec.containers[0].name is missing: it must be a string",
        ),
        (
            json!({"spec": {"containers": [{"name": "a", "env": {}}]}}),
            "malformed Pod: spec.containers[0].env must be a list, found an object",
        ),
        (
            json!({"spec": {"containers": [{"name": "a", "env": [{"value": "x"}]}]}}),
            "malformed Pod: spec.containers[0].env[0].name is missing: it must be a string",
        ),
        (
            json!({"spec": {"containers": [{"name": "a", "volumeMounts": [{"name": "v", "mountPath": 1}]}]}}),
            "malformed Pod: spec.containers[0].volumeMounts[0].mountPath must be a string, found a number",
        ),
        (
            json!({"spec": {"volumes": [{"name": true}], "containers": []}}),
            "malformed Pod: spec.volumes[0].name must be a string, found a boolean",
        ),
        (
            json!({"spec": {"initContainers": {}, "containers": []}}),
            "malformed Pod: spec.initContainers must be a list, found an object",
        ),
        (
            json!({"metadata": {"annotations": []}, "spec": {}}),
            "malformed Pod: metadata.annotations must be an object, found a list",
        ),
        (
            json!({"metadata": "x", "spec": {}}),
            "malformed Pod: metadata must be an object, found a string",
        ),
        (
            json!("pod"),
            "malformed Pod: the object must be a JSON object",
        ),
    ];
    for (object, message) in cases {
        assert_eq!(
            rejected(&pod_request(object.clone()), default_settings()),
            message,
            "{object}"
        );
    }
    let deployment = admission(
        ("apps", "Deployment"),
        "CREATE",
        "default",
        json!({"spec": {}}),
    );
    assert_eq!(
        rejected(&deployment, default_settings()),
        "malformed Deployment: spec.template is missing"
    );
    let no_object =
        json!({"kind": {"group": "", "kind": "Pod"}, "operation": "CREATE", "namespace": "a"});
    assert_eq!(
        rejected(&no_object, default_settings()),
        "the Pod CREATE request carries no object"
    );
}

#[test]
fn invalid_settings_at_validation_time_reject_naming_the_key() {
    assert_eq!(
        rejected(
            &pod_request(simple_pod()),
            json!({"configMap": "ca-bundle", "mountPath": "rel"})
        ),
        "invalid policy settings: setting \"mountPath\": \"rel\" must be an absolute path (starting with '/')"
    );
}

#[test]
fn validate_settings_answers_valid_or_the_reason() {
    let answer = |payload: &[u8]| -> Value {
        serde_json::from_slice(&cainjector::validate_settings(payload).unwrap()).unwrap()
    };
    assert_eq!(
        answer(br#"{"configMap": "ca-bundle"}"#),
        json!({"valid": true, "message": null})
    );
    assert_eq!(
        answer(br#"{"configMap": "ca-bundle", "excludeNamespace": []}"#)["message"],
        json!(format!(
            "setting \"excludeNamespace\" is not a known setting (did you mean \"excludeNamespaces\"?); the settings are: {}",
            "configMap, secret, certFile, mountPath, setEnvVar, sslCertFile, envVars, excludeContainers, includeNamespaces, excludeNamespaces, inject, annotationPrefix, allowedOverrides, injectInitContainers, clusterTrustBundle, javaTrustStore, sourceCheck, statusAnnotation, action, systemTrustStore, envValues"
        ))
    );
    assert_eq!(answer(b"{oops")["valid"], json!(false));
}

#[test]
fn validate_encodes_the_verdict_for_the_host() {
    let payload = json!({"request": pod_request(simple_pod()), "settings": default_settings()});
    let answer: Value = serde_json::from_slice(
        &cainjector::validate(&serde_json::to_vec(&payload).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(answer["accepted"], json!(true));
    assert_eq!(answer["mutated_object"], injected(&simple_pod(), &[C0]));
}

#[test]
fn webhook_exclude_namespaces_annotation_skips_the_pod_in_those_namespaces() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] =
        json!({"cainjector.lestak.sh/excludeNamespaces": "kube-system, default"});
    assert_eq!(
        run(&pod_request(pod.clone()), default_settings()),
        Verdict::Accept
    );
    let elsewhere = admission(("", "Pod"), "CREATE", "team-a", pod);
    assert_injects(&elsewhere, default_settings(), &Injection::default());
}

#[test]
fn include_namespaces_annotation_only_narrows() {
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/includeNamespaces": "team-*"});
    assert_eq!(
        run(&pod_request(pod.clone()), default_settings()),
        Verdict::Accept
    );
    let in_team = admission(("", "Pod"), "CREATE", "team-a", pod.clone());
    assert_injects(&in_team, default_settings(), &Injection::default());
    // It cannot bring back a namespace the settings exclude.
    let settings = json!({"configMap": "ca-bundle", "excludeNamespaces": ["team-a"]});
    assert_eq!(run(&in_team, settings), Verdict::Accept);
}

#[test]
fn untouched_bytes_come_back_exactly() {
    let object = r#"{"kind" : "Pod", "metadata":{"name":"caf\u00e9","namespace":"default","annotations":{"ratio":"1.50"}},
      "spec": {"priority": 1.0e3, "x-future": [ 1 , {"b":2,"a":1} ],
               "containers": [ {"name":"app","image":"nginx",  "env": [ ] } ] } }"#;
    let payload = format!(
        r#"{{"request": {{"kind": {{"group": "", "version": "v1", "kind": "Pod"}}, "namespace": "default", "operation": "CREATE", "object": {object}}}, "settings": {{"configMap": "ca-bundle"}}}}"#
    );
    let answer = cainjector::answer(payload.as_bytes(), &cainjector::cluster::KubewardenHost);
    // Insertions go right before the closing bracket; all else is as sent.
    let expected = object
        .replace(
            r#""env": [ ] }"#,
            r#""env": [ {"name":"SSL_CERT_FILE","value":"/cacerts/ca.crt"}] ,"volumeMounts":[{"name":"cainjector-ca-bundle","mountPath":"/cacerts","readOnly":true}]}"#,
        )
        .replace(
            "} ] } }",
            r#"} ] ,"volumes":[{"name":"cainjector-ca-bundle","configMap":{"name":"ca-bundle"}}]} }"#,
        );
    assert_eq!(answer, cainjector::Answer::Mutate(expected));
}
