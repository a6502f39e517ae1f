//! Manifests as input: `scaffold admission-request`, `run --object` and
//! `run --output human`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use common::{OnValidate, SETTINGS_VALID, runner, temp_dir, text, write_module};
use serde_json::{Value, json};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// Writes `content` as `name` in a fresh directory for `test`.
fn manifest_file(test: &str, name: &str, content: &str) -> String {
    let path: PathBuf = temp_dir(test).join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `scaffold admission-request` with these arguments: exit 0, stdout as JSON.
fn scaffold(args: &[&str]) -> Value {
    let mut all = vec!["scaffold", "admission-request"];
    all.extend_from_slice(args);
    let output = runner(&all);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `scaffold admission-request` refused: exit 1, nothing on stdout, the stderr.
fn scaffold_error(args: &[&str]) -> String {
    let mut all = vec!["scaffold", "admission-request"];
    all.extend_from_slice(args);
    let output = runner(&all);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert_eq!(text(&output.stdout), "");
    text(&output.stderr)
}

const UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";
const FALLBACK: &str = "this-is-the-plural-name-of-the-resource-this-information-is-not-used-by-policies-and-requires-a-connection-to-an-api-server-to-be-obtained";

/// tests/data/pod.yaml as kwctl puts it in the request: `creationTimestamp: null`
/// dropped by ObjectMeta, every key sorted.
fn pod_object() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": {"run": "web"}, "name": "web", "namespace": "team-a"},
        "spec": {
            "containers": [{
                "env": [{"name": "MODE", "value": "prod"}],
                "image": "nginx:1.27",
                "name": "web",
                "ports": [{"containerPort": 80}]
            }],
            "restartPolicy": "Always"
        },
        "status": {}
    })
}

/// The request kwctl's `scaffold_create` builds offline, for any object.
fn expected_request(
    kind: (&str, &str, &str),
    name: Option<&str>,
    namespace: Option<&str>,
    operation: &str,
) -> Value {
    let (group, version, kind) = kind;
    let mut request = json!({
        "uid": UID,
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": FALLBACK},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": FALLBACK},
        "operation": operation,
        "userInfo": {"groups": ["system:masters"], "username": "test-user"}
    });
    if let Some(name) = name {
        request["name"] = json!(name);
    }
    if let Some(namespace) = namespace {
        request["namespace"] = json!(namespace);
    }
    request
}

#[test]
fn a_yaml_pod_is_scaffolded_byte_for_byte_as_kwctl_prints_it() {
    let output = runner(&[
        "scaffold",
        "admission-request",
        "--operation",
        "CREATE",
        "--object",
        &data("pod.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let expected = r#"{
  "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
  "kind": {
    "group": "",
    "version": "v1",
    "kind": "Pod"
  },
  "resource": {
    "group": "",
    "version": "v1",
    "resource": "this-is-the-plural-name-of-the-resource-this-information-is-not-used-by-policies-and-requires-a-connection-to-an-api-server-to-be-obtained"
  },
  "requestKind": {
    "group": "",
    "version": "v1",
    "kind": "Pod"
  },
  "requestResource": {
    "group": "",
    "version": "v1",
    "resource": "this-is-the-plural-name-of-the-resource-this-information-is-not-used-by-policies-and-requires-a-connection-to-an-api-server-to-be-obtained"
  },
  "name": "web",
  "namespace": "team-a",
  "operation": "CREATE",
  "userInfo": {
    "groups": [
      "system:masters"
    ],
    "username": "test-user"
  },
  "object": {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
      "labels": {
        "run": "web"
      },
      "name": "web",
      "namespace": "team-a"
    },
    "spec": {
      "containers": [
        {
          "env": [
            {
              "name": "MODE",
              "value": "prod"
            }
          ],
          "image": "nginx:1.27",
          "name": "web",
          "ports": [
            {
              "containerPort": 80
            }
          ]
        }
      ],
      "restartPolicy": "Always"
    },
    "status": {}
  }
}
"#;
    assert_eq!(text(&output.stdout), expected);
}

#[test]
fn a_json_pod_gives_the_same_request_as_the_yaml_one() {
    let from_yaml = runner(&[
        "scaffold",
        "admission-request",
        "--object",
        &data("pod.yaml"),
    ]);
    let from_json = runner(&[
        "scaffold",
        "admission-request",
        "--object",
        &data("pod.json"),
    ]);
    assert_eq!(
        from_json.status.code(),
        Some(0),
        "{}",
        text(&from_json.stderr)
    );
    assert_eq!(text(&from_json.stdout), text(&from_yaml.stdout));
}

#[test]
fn a_deployment_keeps_its_group_and_has_no_namespace_unless_given() {
    let mut expected = expected_request(("apps", "v1", "Deployment"), Some("api"), None, "CREATE");
    expected["object"] = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": {"app": "api"}, "name": "api"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"image": "registry.example.com/api:2.1", "name": "api"}]}
            }
        }
    });
    assert_eq!(scaffold(&["--object", &data("deployment.yaml")]), expected);
}

#[test]
fn a_kind_the_policy_does_not_handle_is_scaffolded_alike() {
    let mut expected = expected_request(
        ("", "v1", "ConfigMap"),
        Some("settings"),
        Some("team-a"),
        "CREATE",
    );
    expected["object"] = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "team-a"},
        "data": {"mode": "prod"}
    });
    assert_eq!(scaffold(&["--object", &data("configmap.yaml")]), expected);
}

#[test]
fn namespace_option_puts_an_object_without_namespace_in_it() {
    let request = scaffold(&[
        "--object",
        &data("deployment.yaml"),
        "--namespace",
        "payments",
    ]);
    assert_eq!(request["namespace"], "payments");
    assert_eq!(
        request["object"]["metadata"],
        json!({"labels": {"app": "api"}, "name": "api", "namespace": "payments"})
    );
}

#[test]
fn namespace_option_equal_to_the_manifests_changes_nothing() {
    let given = scaffold(&["--object", &data("pod.yaml"), "--namespace", "team-a"]);
    let own = scaffold(&["--object", &data("pod.yaml")]);
    assert_eq!(given, own);
}

#[test]
fn namespace_option_against_the_manifests_namespace_is_refused_as_the_api_server_does() {
    let pod = data("pod.yaml");
    assert_eq!(
        scaffold_error(&["--object", &pod, "--namespace", "team-b"]),
        format!(
            "Error: {pod}: metadata.namespace is \"team-a\" but the request's namespace is \"team-b\": the namespace of the provided object does not match the namespace sent on the request\n"
        )
    );
}

#[test]
fn update_carries_the_old_object_and_defaults_it_to_the_manifest() {
    let mut expected = expected_request(("", "v1", "Pod"), Some("web"), Some("team-a"), "UPDATE");
    expected["object"] = pod_object();
    expected["oldObject"] = pod_object();
    assert_eq!(
        scaffold(&["--operation", "UPDATE", "--object", &data("pod.yaml")]),
        expected
    );

    let old = manifest_file(
        "manifest-update",
        "old.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  containers: []\n",
    );
    expected["oldObject"] = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {"containers": []}
    });
    assert_eq!(
        scaffold(&[
            "-o",
            "UPDATE",
            "--object",
            &data("pod.yaml"),
            "--old-object",
            &old
        ]),
        expected
    );
}

#[test]
fn update_of_another_object_is_refused() {
    let pod = data("pod.yaml");
    let deployment = data("deployment.yaml");
    assert_eq!(
        scaffold_error(&[
            "-o",
            "UPDATE",
            "--object",
            &pod,
            "--old-object",
            &deployment
        ]),
        format!(
            "Error: an UPDATE changes one object, but {pod} is v1 Pod team-a/web and {deployment} is apps/v1 Deployment api\n"
        )
    );
}

#[test]
fn delete_carries_the_manifest_as_old_object_only() {
    let mut expected = expected_request(("", "v1", "Pod"), Some("web"), Some("team-a"), "DELETE");
    expected["oldObject"] = pod_object();
    assert_eq!(
        scaffold(&["--operation", "DELETE", "--object", &data("pod.yaml")]),
        expected
    );
}

#[test]
fn an_old_object_is_refused_outside_update() {
    let pod = data("pod.yaml");
    assert_eq!(
        scaffold_error(&["-o", "DELETE", "--object", &pod, "--old-object", &pod]),
        format!(
            "Error: DELETE operation does not take an old object ({pod}): only UPDATE has one; for DELETE, --object is the object being deleted\n"
        )
    );
}

#[test]
fn an_unknown_operation_is_a_usage_error() {
    let output = runner(&[
        "scaffold",
        "admission-request",
        "-o",
        "CONNECT",
        "--object",
        &data("pod.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: invalid value 'CONNECT' for '--operation <TYPE>'\n  [possible values: CREATE, UPDATE, DELETE]\n\n\
         For more information, try '--help'.\n"
    );
}

#[test]
fn malformed_yaml_is_reported_with_the_file_and_the_place() {
    let broken = data("broken.yaml");
    assert_eq!(
        scaffold_error(&["--object", &broken]),
        format!(
            "Error: failed to parse object file {broken}: did not find expected node content at line 7 column 1, while parsing a flow node\n"
        )
    );
}

#[test]
fn a_metadata_field_of_the_wrong_type_is_named() {
    let path = manifest_file(
        "manifest-labels",
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n  - app\n",
    );
    assert_eq!(
        scaffold_error(&["--object", &path]),
        format!(
            "Error: failed to parse object file {path}: metadata.labels: invalid type: sequence, expected a map at line 6 column 3\n"
        )
    );
}

#[test]
fn a_manifest_without_kind_is_refused_naming_the_file() {
    let path = manifest_file(
        "manifest-kind",
        "pod.yaml",
        "apiVersion: v1\nmetadata:\n  name: web\n",
    );
    assert_eq!(
        scaffold_error(&["--object", &path]),
        format!(
            "Error: object defined inside of {path} is missing types (apiVersion and kind); an AdmissionRequest or AdmissionReview is read with --request-path\n"
        )
    );
}

#[test]
fn a_file_of_several_documents_is_refused() {
    let path = manifest_file(
        "manifest-multi",
        "all.yaml",
        "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n",
    );
    assert_eq!(
        scaffold_error(&["--object", &path]),
        format!(
            "Error: failed to parse object file {path}: deserializing from YAML containing more than one document is not supported\n"
        )
    );
}

#[test]
fn a_missing_manifest_is_named() {
    assert_eq!(
        scaffold_error(&["--object", "/nonexistent/pod.yaml"]),
        "Error: failed to open object file /nonexistent/pod.yaml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_pod_given_as_request_path_keeps_kwctls_error() {
    let output = runner(&[
        "run",
        "--request-path",
        &data("pod.json"),
        "/nonexistent/module.wasm",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "Error: cannot build AdmissionRequest object from given input: invalid type: string \"Pod\", expected struct GroupVersionKind\n"
    );
}

#[test]
fn manifest_options_do_not_go_with_request_path() {
    let output = runner(&[
        "run",
        "--request-path",
        &data("pod_create_request.json"),
        "--namespace",
        "team-a",
        "/nonexistent/module.wasm",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: the argument '--request-path <PATH>' cannot be used with:\n  --operation <TYPE>\n  \
         --old-object <PATH>\n  --namespace <NAMESPACE>\n\n\
         Usage: policy-runner run --request-path <PATH> <MODULE>\n\n\
         For more information, try '--help'.\n"
    );
}

/// A module that logs its payload (seen with `--verbose`) and accepts.
fn payload_module(test: &str) -> String {
    let module = write_module(
        &temp_dir(test),
        SETTINGS_VALID,
        &OnValidate::ForwardPayload {
            namespace: "tracing",
            operation: "log",
            answer: r#"{"accepted":true}"#,
        },
    );
    module.to_str().unwrap().to_owned()
}

#[test]
fn run_object_sends_what_run_request_path_sends_for_the_scaffolded_request() {
    let module = payload_module("manifest-same-payload");
    for operation in ["CREATE", "UPDATE", "DELETE"] {
        let scaffolded = runner(&[
            "scaffold",
            "admission-request",
            "-o",
            operation,
            "--object",
            &data("pod.yaml"),
        ]);
        let request = manifest_file(
            "manifest-same-payload",
            "request.json",
            &text(&scaffolded.stdout),
        );
        let via_file = runner(&["run", "-v", "--request-path", &request, &module]);
        let via_object = runner(&[
            "run",
            "-v",
            "--object",
            &data("pod.yaml"),
            "--operation",
            operation,
            &module,
        ]);
        assert_eq!(
            via_object.status.code(),
            Some(0),
            "{}",
            text(&via_object.stderr)
        );
        assert!(text(&via_object.stderr).starts_with("policy log: {\"request\":"));
        assert_eq!(
            text(&via_object.stderr),
            text(&via_file.stderr),
            "{operation}"
        );
        assert_eq!(
            text(&via_object.stdout),
            text(&via_file.stdout),
            "{operation}"
        );
        assert_eq!(
            text(&via_object.stdout),
            format!(r#"{{"uid":"{UID}","allowed":true,"auditAnnotations":null,"warnings":null}}"#)
                + "\n"
        );
    }
}

/// `run --object tests/data/pod.yaml --output human` against a module giving `answer`.
fn human(test: &str, answer: &str) -> Output {
    let module = write_module(&temp_dir(test), SETTINGS_VALID, &OnValidate::Answer(answer));
    runner(&[
        "run",
        "--object",
        &data("pod.yaml"),
        "--output",
        "human",
        module.to_str().unwrap(),
    ])
}

#[test]
fn human_output_of_an_acceptance_says_unchanged_and_lists_warnings() {
    let output = human(
        "human-accept",
        r#"{"accepted":true,"warnings":["image tag is not pinned"]}"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "accepted, unchanged\nwarning: image tag is not pinned\n"
    );
}

#[test]
fn human_output_of_a_rejection_gives_code_and_message() {
    let output = human(
        "human-reject",
        r#"{"accepted":false,"message":"annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')","code":400}"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "rejected (code 400): annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')\n"
    );
}

#[test]
fn human_output_of_a_mutation_gives_the_operations_and_the_changed_part() {
    let mutated = r#"{"accepted":true,"mutated_object":{"apiVersion":"v1","kind":"Pod",
        "metadata":{"labels":{"run":"web"},"name":"web","namespace":"team-a"},
        "spec":{"containers":[{"env":[{"name":"MODE","value":"prod"},{"name":"SSL_CERT_FILE","value":"/cacerts/ca.crt"}],
        "image":"nginx:1.27","name":"web","ports":[{"containerPort":80}],
        "volumeMounts":[{"mountPath":"/cacerts","name":"cainjector-ca-bundle","readOnly":true}]}],
        "restartPolicy":"Always","volumes":[{"configMap":{"name":"ca-bundle"},"name":"cainjector-ca-bundle"}]},
        "status":{}}}"#;
    let output = human("human-mutate", mutated);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        r#"accepted, with a patch of 3 operations:
  {"op":"add","path":"/spec/containers/0/env/1","value":{"name":"SSL_CERT_FILE","value":"/cacerts/ca.crt"}}
  {"op":"add","path":"/spec/containers/0/volumeMounts","value":[{"mountPath":"/cacerts","name":"cainjector-ca-bundle","readOnly":true}]}
  {"op":"add","path":"/spec/volumes","value":[{"configMap":{"name":"ca-bundle"},"name":"cainjector-ca-bundle"}]}
changed part of the Pod, as patched:
  spec:
    containers:
    - name: web
      env:
      - name: SSL_CERT_FILE
        value: /cacerts/ca.crt
      volumeMounts:
      - name: cainjector-ca-bundle
        mountPath: /cacerts
        readOnly: true
    volumes:
    - name: cainjector-ca-bundle
      configMap:
        name: ca-bundle
"#
    );
}

#[test]
fn human_output_reads_request_files_too() {
    let module = write_module(
        &temp_dir("human-request-path"),
        SETTINGS_VALID,
        &OnValidate::Answer(r#"{"accepted":true}"#),
    );
    let output = runner(&[
        "run",
        "--request-path",
        &data("pod_create_request.json"),
        "--output",
        "human",
        module.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "accepted, unchanged\n");
}
