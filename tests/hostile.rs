//! Malformed and hostile requests: each gets a clear rejection (or is accepted
//! where the policy never reads the object), never a panic and never a failed
//! call. Wrong types are generated systematically: every field the policy
//! reads gets a value of each JSON type.

mod common;
mod invariants;

use cainjector::validate;
use common::{Verdict, evaluate};
use serde_json::{Value, json};

use common::{
    Injection, admission, assert_injects, config_map_volume, default_settings, pod_request, push,
    run, simple_pod,
};
use invariants::evaluate_checked;

/// One value of each JSON type.
fn each_type() -> [Value; 6] {
    [
        Value::Null,
        json!(false),
        json!(7),
        json!("x"),
        json!([1]),
        json!({"a": 1}),
    ]
}

/// How the policy's messages name the type it found.
fn found(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    found(a) == found(b)
}

/// What a request must get.
#[derive(Debug, Clone)]
enum Expect {
    /// A mutation that passes every check of tests/invariants.
    Mutate,
    Accept,
    Reject(String),
    /// A rejection from the JSON decoder: this whole message, then where
    /// serde_json says the error is (" at line L column C") when it says so.
    /// The words are fixed; the place depends on how the test lays out the
    /// payload (fixed payloads are `Reject`ed with the place).
    Undecodable(String),
}

/// `got` is `message`, or `message` and serde_json's " at line L column C".
fn is_decoder_message(got: &str, message: &str) -> bool {
    let Some(place) = got.strip_prefix(message) else {
        return false;
    };
    let number = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    place.is_empty()
        || place
            .strip_prefix(" at line ")
            .and_then(|p| p.split_once(" column "))
            .is_some_and(|(line, column)| number(line) && number(column))
}

const UNREADABLE: &str = "cannot read the admission request: ";

fn check(label: &str, payload: &[u8], outcome: Verdict, expect: &Expect) {
    match (expect, &outcome) {
        (Expect::Mutate, Verdict::Mutate(_)) | (Expect::Accept, Verdict::Accept) => {}
        (Expect::Reject(message), Verdict::Reject(got)) => {
            assert_eq!(got, message, "{label}");
        }
        (Expect::Undecodable(message), Verdict::Reject(got)) => {
            assert!(
                is_decoder_message(got, message),
                "{label}: {got:?} is not {message:?} (and where)"
            );
        }
        _ => panic!("{label}: expected {expect:?}, got {outcome:?}"),
    }
    // The host's view: the call answers with a ValidationResponse.
    let response = validate(payload).unwrap_or_else(|e| panic!("{label}: call failed: {e}"));
    let response: Value = serde_json::from_slice(&response).expect("a ValidationResponse");
    let accepted = !matches!(expect, Expect::Reject(_) | Expect::Undecodable(_));
    assert_eq!(response["accepted"], json!(accepted), "{label}");
}

fn payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": request, "settings": settings})).expect("JSON")
}

/// Runs `request` (mutations are checked against every invariant).
fn expect(label: &str, request: &Value, settings: &Value, expect: &Expect) {
    let outcome = match expect {
        Expect::Mutate => evaluate_checked(request, settings),
        _ => run(request, settings.clone()),
    };
    check(label, &payload(request, settings), outcome, expect);
}

fn expect_raw(label: &str, payload: &[u8], expected: &Expect) {
    invariants::read_as_serde_json_reads(payload);
    check(label, payload, evaluate(payload), expected);
}

/// A pod with every field the policy reads present and of the right type.
fn full_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "annotations": {"cainjector.lestak.sh/mountPath": "/cacerts"}
        },
        "spec": {
            "os": {"name": "linux"},
            "initContainers": [{
                "name": "setup",
                "image": "busybox",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "env": [{"name": "A", "value": "1"}]
            }],
            "containers": [{
                "name": "app",
                "image": "nginx",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "env": [{"name": "A", "value": "1"}]
            }],
            "volumes": [{"name": "data", "configMap": {"name": "other", "items": [{"key": "k", "path": "p"}]}}]
        }
    })
}

fn settings() -> Value {
    json!({"configMap": "ca-bundle"})
}

/// What a wrong value of a field leads to: one row of a hostile table is a
/// JSON pointer to the field and its rule.
enum Rule {
    /// Refused as "<path> must be <expected>, found <type>" (a value of the
    /// type `expected` names is right); null as `null`; `except` gives the
    /// values that get something else (`None`: a right value).
    Typed {
        path: String,
        expected: &'static str,
        null: Null,
        except: Vec<(Value, Option<Expect>)>,
    },
    /// Not something the policy depends on: the pod is still injected.
    Ignored,
}

#[derive(Clone, Copy)]
enum Null {
    /// Null is a wrong type like the others.
    Wrong,
    /// Null means absent, and absent is fine.
    Absent,
    /// Null means absent, and the field is required: "<path> is missing<suffix>".
    Missing(&'static str),
}

fn typed(path: impl Into<String>, expected: &'static str, null: Null) -> Rule {
    Rule::Typed {
        path: path.into(),
        expected,
        null,
        except: Vec::new(),
    }
}

impl Rule {
    /// `value` gets `outcome` instead (`None`: it is a right value).
    fn except(mut self, value: Value, outcome: Option<Expect>) -> Self {
        if let Rule::Typed { except, .. } = &mut self {
            except.push((value, outcome));
        }
        self
    }

    /// What `value` gets, the message starting with `subject`; `None` when
    /// the value is a right one.
    fn outcome(&self, subject: &str, value: &Value) -> Option<Expect> {
        let Rule::Typed {
            path,
            expected,
            null,
            except,
        } = self
        else {
            return Some(Expect::Mutate);
        };
        if let Some((_, outcome)) = except.iter().find(|(v, _)| v == value) {
            return outcome.clone();
        }
        if found(value) == *expected {
            return None;
        }
        Some(match (value, null) {
            (Value::Null, Null::Absent) => Expect::Mutate,
            (Value::Null, Null::Missing(suffix)) => {
                Expect::Reject(format!("{subject}{path} is missing{suffix}"))
            }
            _ => Expect::Reject(format!(
                "{subject}{path} must be {expected}, found {}",
                found(value)
            )),
        })
    }
}

/// The one runner of the hostile tables: each row's field, at `at` + its
/// pointer in `payload` (`{"request": ..., "settings": ...}`), set in turn to a
/// value of each JSON type but the one it has, gets what the row's rule says
/// (messages start with `subject`). Returns how many cases ran.
fn each_wrong_type(payload: &Value, at: &str, subject: &str, rows: Vec<(String, Rule)>) -> usize {
    let mut cases = 0;
    for (pointer, rule) in rows {
        let pointer = format!("{at}{pointer}");
        let original = payload.pointer(&pointer);
        for value in each_type() {
            if original.is_some_and(|o| same_type(o, &value)) {
                continue;
            }
            let Some(expected) = rule.outcome(subject, &value) else {
                continue;
            };
            let payload = with(payload, &pointer, &value);
            let (request, settings) = (&payload["request"], &payload["settings"]);
            expect(
                &format!("{pointer} = {value}"),
                request,
                settings,
                &expected,
            );
            cases += 1;
        }
    }
    cases
}

/// Sets the field at `pointer` (whose parent must exist) in a copy of `object`.
fn with(object: &Value, pointer: &str, value: &Value) -> Value {
    let mut object = object.clone();
    if let Some(slot) = object.pointer_mut(pointer) {
        *slot = value.clone();
        return object;
    }
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = object.pointer_mut(parent);
    parent.unwrap_or_else(|| panic!("no {pointer}"))[key] = value.clone();
    object
}

/// Every field under `/spec` of a pod (or template) spec that the policy reads.
fn spec_rules(spec: &str) -> Vec<(String, Rule)> {
    let dotted = spec.trim_start_matches('/').replace('/', ".");
    let path = |rest: &str| format!("{dotted}.{rest}");
    let mut rules = vec![
        (
            format!("{spec}/os"),
            typed(path("os"), "an object", Null::Absent),
        ),
        (format!("{spec}/os/name"), Rule::Ignored),
        (
            format!("{spec}/volumes"),
            typed(path("volumes"), "a list", Null::Absent),
        ),
        (
            format!("{spec}/volumes/0"),
            typed(path("volumes[0]"), "an object", Null::Wrong),
        ),
        (
            format!("{spec}/volumes/0/name"),
            typed(
                path("volumes[0].name"),
                "a string",
                Null::Missing(": it must be a string"),
            ),
        ),
        (format!("{spec}/volumes/0/configMap"), Rule::Ignored),
        (format!("{spec}/volumes/0/configMap/name"), Rule::Ignored),
        (format!("{spec}/volumes/0/configMap/items"), Rule::Ignored),
    ];
    for list in ["containers", "initContainers"] {
        let at = |rest: &str| format!("{spec}/{list}{rest}");
        let named = |rest: &str| path(&format!("{list}{rest}"));
        rules.extend([
            (at(""), typed(named(""), "a list", Null::Absent)),
            (at("/0"), typed(named("[0]"), "an object", Null::Wrong)),
            (
                at("/0/name"),
                typed(
                    named("[0].name"),
                    "a string",
                    Null::Missing(": it must be a string"),
                ),
            ),
            (
                at("/0/volumeMounts"),
                typed(named("[0].volumeMounts"), "a list", Null::Absent),
            ),
            (
                at("/0/volumeMounts/0"),
                typed(named("[0].volumeMounts[0]"), "an object", Null::Wrong),
            ),
            (
                at("/0/volumeMounts/0/mountPath"),
                typed(
                    named("[0].volumeMounts[0].mountPath"),
                    "a string",
                    Null::Missing(": it must be a string"),
                ),
            ),
            (at("/0/volumeMounts/0/name"), Rule::Ignored),
            (
                at("/0/env"),
                typed(named("[0].env"), "a list", Null::Absent),
            ),
            (
                at("/0/env/0"),
                typed(named("[0].env[0]"), "an object", Null::Wrong),
            ),
            (
                at("/0/env/0/name"),
                typed(
                    named("[0].env[0].name"),
                    "a string",
                    Null::Missing(": it must be a string"),
                ),
            ),
            (at("/0/env/0/value"), Rule::Ignored),
        ]);
    }
    rules
}

#[test]
fn every_pod_field_of_every_wrong_type_is_named_in_the_rejection() {
    let mut rules = vec![
        (
            "/metadata".to_string(),
            typed("metadata", "an object", Null::Absent),
        ),
        (
            "/metadata/annotations".to_string(),
            typed("metadata.annotations", "an object", Null::Absent),
        ),
        ("/metadata/namespace".to_string(), Rule::Ignored),
        (
            "/spec".to_string(),
            typed("spec", "an object", Null::Missing("")),
        ),
    ];
    rules.extend(spec_rules("/spec"));
    let payload = json!({"request": pod_request(full_pod()), "settings": settings()});
    let cases = each_wrong_type(&payload, "/request/object", "malformed Pod: ", rules);
    assert!(cases > 150, "{cases} cases");
}

#[test]
fn our_annotation_of_every_wrong_type_is_refused_naming_it() {
    let key = "cainjector.lestak.sh/mountPath";
    let rule = typed(format!("annotation \"{key}\""), "a string", Null::Wrong);
    let row = (
        "/metadata/annotations/cainjector.lestak.sh~1mountPath".into(),
        rule,
    );
    let payload = json!({"request": pod_request(full_pod()), "settings": settings()});
    each_wrong_type(&payload, "/request/object", "", vec![row]);
    // Someone else's annotation is none of our business, whatever its type.
    for value in each_type() {
        let object = with(
            &full_pod(),
            "/metadata/annotations",
            &json!({"example.com/x": value}),
        );
        expect(
            "example.com/x",
            &pod_request(object),
            &settings(),
            &Expect::Mutate,
        );
    }
}

#[test]
fn the_object_of_every_wrong_type_is_refused() {
    for value in each_type() {
        let expected = match value {
            Value::Null => Expect::Reject("the Pod CREATE request carries no object".into()),
            Value::Object(_) => continue,
            _ => Expect::Reject("malformed Pod: the object must be a JSON object".into()),
        };
        expect(
            &format!("object = {value}"),
            &pod_request(value.clone()),
            &settings(),
            &expected,
        );
    }
}

/// A workload of `kind` whose template is the full pod.
fn workload(kind: (&str, &str), template_at: &str) -> Value {
    let pod = full_pod();
    let template = json!({"metadata": pod["metadata"], "spec": pod["spec"]});
    let mut object = json!({"apiVersion": format!("{}/v1", kind.0), "kind": kind.1, "metadata": {"name": "w", "namespace": "default"}});
    let mut here = &mut object;
    for key in template_at.trim_start_matches('/').split('/') {
        here = &mut here[key];
    }
    *here = template;
    object
}

#[test]
fn every_workload_template_field_of_every_wrong_type_is_named_in_the_rejection() {
    let kinds = [
        (("apps", "Deployment"), "/spec/template"),
        (("batch", "CronJob"), "/spec/jobTemplate/spec/template"),
    ];
    for (kind, template_at) in kinds {
        let object = workload(kind, template_at);
        let spec_at = format!("{template_at}/spec");
        // Each object on the way to the template: `/spec`, `/spec/template`...
        let segments: Vec<&str> = template_at.trim_start_matches('/').split('/').collect();
        let mut rules: Vec<(String, Rule)> = (1..=segments.len())
            .map(|n| {
                (
                    format!("/{}", segments[..n].join("/")),
                    typed(segments[..n].join("."), "an object", Null::Missing("")),
                )
            })
            .collect();
        let dotted_template = segments.join(".");
        rules.push((
            format!("{template_at}/metadata"),
            typed(
                format!("{dotted_template}.metadata"),
                "an object",
                Null::Absent,
            ),
        ));
        rules.push((
            spec_at.clone(),
            typed(
                format!("{dotted_template}.spec"),
                "an object",
                Null::Missing(""),
            ),
        ));
        rules.extend(spec_rules(&spec_at));
        let request = admission(kind, "CREATE", "default", object);
        let payload = json!({"request": request, "settings": settings()});
        let subject = format!("malformed {}: ", kind.1);
        each_wrong_type(&payload, "/request/object", &subject, rules);
    }
}

#[test]
fn every_request_field_of_every_wrong_type_is_refused_by_its_path() {
    let request = pod_request(full_pod());
    // operation, group, kind and namespace are strings, kind an object. Null is
    // left out here: kwctl never forwards a null field (see the next test).
    for pointer in [
        "/operation",
        "/kind",
        "/kind/group",
        "/kind/kind",
        "/namespace",
    ] {
        let original = request.pointer(pointer).expect("the request has the field");
        for value in each_type() {
            if value.is_null() || same_type(original, &value) {
                continue;
            }
            let body = payload(&with(&request, pointer, &value), &settings());
            let path = format!("request{}", pointer.replace('/', "."));
            let expected = if pointer == "/kind" {
                "an object"
            } else {
                "a string"
            };
            let message = format!("{path} must be {expected}, found {}", found(&value));
            expect_raw(
                &format!("{path} = {value}"),
                &body,
                &Expect::Reject(format!("{UNREADABLE}{message}")),
            );
        }
    }
    for value in each_type() {
        if value.is_object() {
            continue;
        }
        let body = serde_json::to_vec(&json!({"request": value, "settings": settings()})).unwrap();
        let message = format!(
            "{UNREADABLE}request must be an object, found {}",
            found(&value)
        );
        expect_raw(
            &format!("request = {value}"),
            &body,
            &Expect::Reject(message),
        );
    }
    expect_raw(
        "no request",
        br#"{"settings": {"configMap": "ca-bundle"}}"#,
        &Expect::Reject(format!(
            "{UNREADABLE}request is missing: it must be an object"
        )),
    );
}

/// A null envelope field reads as absent (an operation or kind the policy
/// does not handle, the object's own namespace) or, where the field is a
/// string of a kind the request has, as a wrong type; either way the call
/// answers and never fails.
#[test]
fn null_request_fields_are_answered() {
    let request = pod_request(full_pod());
    let null_string =
        |path: &str| Expect::Reject(format!("{UNREADABLE}{path} must be a string, found null"));
    for (pointer, expected) in [
        ("/operation", Expect::Accept),
        ("/kind", Expect::Accept),
        ("/kind/group", null_string("request.kind.group")),
        ("/kind/kind", null_string("request.kind.kind")),
        ("/namespace", Expect::Mutate),
    ] {
        let body = payload(&with(&request, pointer, &Value::Null), &settings());
        expect_raw(pointer, &body, &expected);
    }
}

#[test]
fn settings_of_every_wrong_type_are_refused_naming_the_key() {
    let required = Some(Expect::Reject(
        "invalid policy settings: one of the settings \"configMap\" or \"secret\" is \
         required: the name of the ConfigMap or Secret holding the trust bundle in each \
         namespace (e.g. configMap: ca-bundle), or \"clusterTrustBundle\""
            .into(),
    ));
    let setting = |key: &str, expected| {
        let rule = typed(format!("setting \"{key}\""), expected, Null::Absent);
        (format!("/{key}"), rule)
    };
    let mut rows = vec![
        (
            String::new(),
            typed("settings", "an object of keys and values", Null::Absent)
                .except(Value::Null, required.clone()),
        ),
        // The source itself: configMap must be a string.
        (
            "/configMap".into(),
            typed("setting \"configMap\"", "a string", Null::Absent).except(Value::Null, required),
        ),
    ];
    for key in [
        "certFile",
        "mountPath",
        "sslCertFile",
        "annotationPrefix",
        "action",
    ] {
        rows.push(setting(key, "a string"));
    }
    let (key, rule) = setting("sourceCheck", "a string");
    // YAML 1.1 (kubectl) reads an unquoted `off` as false.
    rows.push((key, rule.except(json!(false), Some(Expect::Mutate))));
    for key in [
        "setEnvVar",
        "inject",
        "injectInitContainers",
        "statusAnnotation",
    ] {
        let (pointer, rule) = setting(key, "true or false");
        // The webhook's config.yaml spelled booleans as strings.
        let string =
            format!("invalid policy settings: setting \"{key}\": \"x\" must be true or false");
        let rule = rule.except(json!(false), None);
        rows.push((
            pointer,
            rule.except(json!("x"), Some(Expect::Reject(string))),
        ));
    }
    let lists = [
        "envVars",
        "excludeContainers",
        "includeNamespaces",
        "excludeNamespaces",
        "allowedOverrides",
    ];
    for key in lists {
        let (pointer, rule) = setting(key, "a list of strings");
        let item = format!(
            "invalid policy settings: setting \"{key}\"[0] must be a string, found a number"
        );
        rows.push((pointer, rule.except(json!([1]), Some(Expect::Reject(item)))));
    }
    let files = "true, false or a list of absolute file paths";
    let (pointer, rule) = setting("systemTrustStore", files);
    let string =
        format!("invalid policy settings: setting \"systemTrustStore\": \"x\" must be {files}");
    let item =
        "invalid policy settings: setting \"systemTrustStore\"[0] must be a string, found a number";
    let rule = rule
        .except(json!(false), None)
        .except(json!("x"), Some(Expect::Reject(string)))
        .except(json!([1]), Some(Expect::Reject(item.into())));
    rows.push((pointer, rule));
    let objects = [
        (
            "clusterTrustBundle",
            "an object with \"name\", or \"signerName\" and \"labelSelector\"",
        ),
        (
            "javaTrustStore",
            "an object with \"key\" and optionally \"type\", \"password\" and \"cacerts\"",
        ),
    ];
    for (key, shape) in objects {
        let (pointer, rule) = setting(key, shape);
        rows.push((pointer, rule.except(json!({"a": 1}), None)));
    }
    let payload = json!({"request": pod_request(full_pod()), "settings": settings()});
    each_wrong_type(&payload, "/settings", "invalid policy settings: ", rows);
}

#[test]
fn env_values_and_java_cacerts_of_every_wrong_type_are_refused_naming_the_key() {
    const PREFIX: &str = "invalid policy settings: ";
    let values = "an object with variable names and their values as strings (e.g. \
                  NODE_USE_SYSTEM_CA: \"1\")";
    let files = "true, false or a list of absolute file paths";
    let cacerts = typed("setting \"javaTrustStore.cacerts\"", files, Null::Absent)
        .except(json!(false), None)
        .except(
            json!("x"),
            Some(Expect::Reject(format!(
                "{PREFIX}setting \"javaTrustStore.cacerts\": \"x\" must be {files}"
            ))),
        )
        .except(
            json!([1]),
            Some(Expect::Reject(format!(
                "{PREFIX}setting \"javaTrustStore.cacerts\"[0] must be a string, found a number"
            ))),
        );
    let rows = vec![
        (
            "/envValues".to_string(),
            typed("setting \"envValues\"", values, Null::Absent).except(
                json!({"a": 1}),
                Some(Expect::Reject(format!(
                    "{PREFIX}setting \"envValues.a\" must be a string, found a number"
                ))),
            ),
        ),
        (
            "/envValues/NODE_USE_SYSTEM_CA".to_string(),
            typed(
                "setting \"envValues.NODE_USE_SYSTEM_CA\"",
                "a string",
                Null::Wrong,
            ),
        ),
        ("/javaTrustStore/cacerts".to_string(), cacerts),
    ];
    let settings = json!({"configMap": "ca-bundle", "envValues": {"NODE_USE_SYSTEM_CA": "1"},
        "javaTrustStore": {"key": "truststore.p12", "cacerts": true}});
    let payload = json!({"request": pod_request(full_pod()), "settings": settings});
    assert_eq!(each_wrong_type(&payload, "/settings", PREFIX, rows), 15);
}

#[test]
fn object_of_a_kind_the_policy_does_not_handle_is_never_read() {
    for value in each_type() {
        let request = admission(("", "ConfigMap"), "CREATE", "default", value.clone());
        expect(
            &format!("ConfigMap {value}"),
            &request,
            &settings(),
            &Expect::Accept,
        );
    }
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(
        r#"{{"request": {{"kind": {{"group": "", "kind": "ConfigMap"}}, "operation": "CREATE", "object": {nested}}}, "settings": {{"configMap": "ca-bundle"}}}}"#
    );
    expect_raw("deeply nested ConfigMap", body.as_bytes(), &Expect::Accept);
}

/// A payload that is not JSON gets serde_json's message; one that is JSON
/// but not an object (an array is not read by position) is refused as any
/// field of the wrong type is.
#[test]
fn empty_and_non_object_payloads_are_refused() {
    let not_an_object = |found: &str| format!("payload must be an object, found {found}");
    let request = serde_json::to_string(&pod_request(full_pod())).unwrap();
    let array = format!("[{request}, {{\"configMap\": \"ca-bundle\"}}]");
    for (body, message) in [
        (
            &b""[..],
            "EOF while parsing a value at line 1 column 0".to_string(),
        ),
        (b" ", "EOF while parsing a value at line 1 column 1".into()),
        (b"null", not_an_object("null")),
        (b"true", not_an_object("a boolean")),
        (b"0", not_an_object("a number")),
        (b"\"request\"", not_an_object("a string")),
        (b"[]", not_an_object("a list")),
        (b"[{\"request\": {}}]", not_an_object("a list")),
        (array.as_bytes(), not_an_object("a list")),
        (
            b"{",
            "EOF while parsing an object at line 1 column 1".into(),
        ),
        (
            b"{\"request\": {\"operation\": \"CREATE\"}",
            "EOF while parsing an object at line 1 column 35".into(),
        ),
        (
            b"{\"request\": {}} trailing",
            "trailing characters at line 1 column 17".into(),
        ),
    ] {
        expect_raw(
            &String::from_utf8_lossy(body),
            body,
            &Expect::Reject(format!("{UNREADABLE}{message}")),
        );
    }
}

/// A fixture as the host sends it, wrapped in a payload without parsing it
/// (serde_json would read these two differently, or not at all).
fn raw_fixture_payload(name: &str) -> Vec<u8> {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    let request = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    format!(r#"{{"request": {request}, "settings": {{"configMap": "ca-bundle"}}}}"#).into_bytes()
}

/// Found by fuzzing (validate_payload): an object whose first member is
/// serde_json's raw-value token is echoed back in `mutated_object`, which
/// serde_json with its `raw_value` feature (as this crate, and possibly the
/// host, builds it) then reads as the JSON text in the member's value: here
/// not JSON at all, so the host could not read the answer. Now refused.
#[test]
fn raw_value_token_in_the_object_is_refused() {
    expect_raw(
        "hostile-raw-value-key.json",
        &raw_fixture_payload("hostile-raw-value-key.json"),
        &Expect::Reject("cannot read the Pod: expected ident at line 1 column 2".into()),
    );
}

/// The same token with its `$` written as `\u0024`: serde_json compares the
/// key once decoded, so any escape spells it. Found reviewing the fix for the
/// case above; an object with any `\u` escape is now read in full before it
/// is answered.
#[test]
fn escaped_raw_value_token_in_the_object_is_refused() {
    expect_raw(
        "hostile-raw-value-key-escaped.json",
        &raw_fixture_payload("hostile-raw-value-key-escaped.json"),
        &Expect::Reject("cannot read the Pod: expected ident at line 1 column 2".into()),
    );
}

/// The token with a string that is JSON: serde_json reads the map without a
/// fault, as that JSON, and once the status annotation is added to it, not at
/// all (the host's 500). Found reviewing the index; refused like the others.
#[test]
fn raw_value_token_naming_json_is_refused() {
    let annotations = json!({"$serde_json::private::RawValue": "{}"});
    let pod = with(&full_pod(), "/metadata/annotations", &annotations);
    expect(
        "token naming JSON",
        &pod_request(pod),
        &json!({"configMap": "ca-bundle", "statusAnnotation": true}),
        &Expect::Reject(
            "cannot read the Pod: an object's first key is \"$serde_json::private::RawValue\", \
             which the host's JSON parser reads as the text in its string, not as a key"
                .into(),
        ),
    );
}

/// Found while fuzzing (validate_payload): a number beyond f64 in a field the
/// policy does not read was echoed back in `mutated_object`, which serde_json
/// then refuses ("number out of range"). Now refused.
#[test]
fn number_out_of_range_in_the_object_is_refused() {
    expect_raw(
        "hostile-number-out-of-range.json",
        &raw_fixture_payload("hostile-number-out-of-range.json"),
        &Expect::Reject("cannot read the Pod: number out of range at line 5 column 33".into()),
    );
}

/// Found by fuzzing (validate_payload, a seed with one bit flipped, kept in
/// fuzz/regressions): the pod's own volume carries the bundle, but its name,
/// `cain*ector-ca-bundle`, is not a DNS label, which the API server refuses
/// whatever the policy adds. The policy reuses that volume rather than add a
/// second one of the same source; a debug assertion claimed that every volume
/// it mounts has a label for a name. Here /cacerts is mounted already and
/// `setEnvVar` is off, so nothing is added.
#[test]
fn own_volume_named_otherwise_than_a_label_is_reused() {
    let payload: Value = serde_json::from_str(&common::text(
        "fuzz/regressions/validate_payload/volume-name-not-a-label.json",
    ))
    .unwrap();
    let settings = payload["settings"].clone();
    assert_eq!(run(&payload["request"], settings), Verdict::Accept);

    let mut pod = simple_pod();
    let volume = config_map_volume("cain*ector-ca-bundle", "ca-bundle");
    push(&mut pod, "/spec/volumes", volume);
    let reused = Injection::config_map("cain*ector-ca-bundle", "ca-bundle").pod_has_volume();
    assert_injects(&pod_request(pod), default_settings(), &reused);
}

/// Found by fuzzing (validate_payload, run 19, kept in fuzz/regressions): a
/// containerPort of 65 digits, more than a double holds. The policy keeps the
/// number's text as sent; serde_json without `float_roundtrip` reads that
/// text and the shortest spelling of what it read as two doubles one unit
/// apart, so the check that the policy answers as it answers to the payload's
/// `Value` written out failed on the harness's reading, not on the policy's.
/// The tests and the fuzz targets read with `float_roundtrip` (Cargo.toml).
#[test]
fn a_number_longer_than_a_double_is_kept_as_sent() {
    let text = common::text("fuzz/regressions/validate_payload/number-beyond-f64-digits.json");
    let digits = "80804444444444464444444444444444444444444444444444444444444444444";
    assert_eq!(
        invariants::read_as_serde_json_reads(text.as_bytes()),
        invariants::Reading::AsItsValue
    );
    let answer = validate(text.as_bytes()).expect("an answer");
    let answer = String::from_utf8(answer).expect("UTF-8");
    assert!(
        answer.contains(&format!("\"containerPort\":{digits}}}")),
        "{answer}"
    );
}

#[test]
fn non_utf8_bytes_are_undecodable() {
    expect_raw(
        "bytes",
        &[0xff, 0xfe, 0x00, 0x80],
        &Expect::Reject(format!("{UNREADABLE}expected value at line 1 column 1")),
    );
    let body = payload(&pod_request(full_pod()), &settings());
    // A byte that is not UTF-8 inside a string of the object ("nginx").
    let at = body.windows(5).position(|w| w == b"nginx").expect("image");
    let mut bad = body.clone();
    bad[at + 2] = 0xff;
    expect_raw(
        "invalid UTF-8 in the object",
        &bad,
        &Expect::Undecodable(format!("{UNREADABLE}invalid unicode code point")),
    );
    // A lone surrogate escape in the pod's name.
    let text = String::from_utf8(body).unwrap();
    let lone = text.replacen("\"web\"", "\"\\ud800\"", 1);
    expect_raw(
        "lone surrogate",
        lone.as_bytes(),
        &Expect::Reject("cannot read the Pod: lone leading surrogate in hex escape".into()),
    );
}

#[test]
fn null_spec_is_refused() {
    let pod = with(&full_pod(), "/spec", &Value::Null);
    expect(
        "spec null",
        &pod_request(pod),
        &settings(),
        &Expect::Reject("malformed Pod: spec is missing".into()),
    );
}

/// `[` nested 100 000 times, closed.
fn deeply_nested() -> String {
    format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))
}

#[test]
fn deeply_nested_json_is_refused_wherever_it_is_read() {
    let nested = deeply_nested();
    let request = serde_json::to_string(&pod_request(full_pod())).unwrap();
    let wrap =
        |request: &str| format!(r#"{{"request": {request}, "settings": {{"configMap": "a"}}}}"#);
    let settings_too_deep =
        Expect::Undecodable("invalid policy settings: recursion limit exceeded".into());
    let too_deep = Expect::Reject(
        "cannot read the Pod: recursion limit exceeded: nested deeper than 126 levels".into(),
    );
    let places = [
        (
            "payload",
            nested.clone(),
            Expect::Reject(format!(
                "{UNREADABLE}payload must be an object, found a list"
            )),
        ),
        // Settings are read on their own (once per instance, keyed by their text).
        (
            "settings",
            format!(r#"{{"request": {request}, "settings": {nested}}}"#),
            settings_too_deep.clone(),
        ),
        (
            "pod object",
            wrap(&request.replacen("\"spec\":", &format!("\"deep\": {nested}, \"spec\":"), 1)),
            too_deep.clone(),
        ),
        (
            "annotation value",
            wrap(&request.replacen("\"/cacerts\"", &nested, 1)),
            too_deep,
        ),
        // A request field the policy never reads is skipped without recursion.
        (
            "userInfo",
            wrap(&request.replacen(
                "\"userInfo\":",
                &format!("\"userInfo\": {nested}, \"x\":"),
                1,
            )),
            Expect::Mutate,
        ),
    ];
    for (label, body, expected) in places {
        assert!(body.len() >= 200_000, "{label}");
        expect_raw(label, body.as_bytes(), &expected);
    }
    // Objects nested as deep: `{"a":{"a":...}}`.
    let objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let body = format!(r#"{{"request": {request}, "settings": {objects}}}"#);
    expect_raw("nested objects", body.as_bytes(), &settings_too_deep);
}

#[test]
fn ten_megabyte_pod_is_injected() {
    let mut pod = full_pod();
    let container = pod["spec"]["containers"][0].clone();
    let filler = "x".repeat(5_000);
    let containers: Vec<Value> = (0..2_000)
        .map(|i| {
            let mut c = container.clone();
            c["name"] = json!(format!("c{i}"));
            c["env"][0]["value"] = json!(filler);
            c
        })
        .collect();
    pod["spec"]["containers"] = Value::Array(containers);
    let request = pod_request(pod);
    let body = payload(&request, &settings());
    assert!(body.len() > 10_000_000, "{}", body.len());
    let Verdict::Mutate(result) = evaluate_checked(&request, &settings()) else {
        panic!("expected a mutation");
    };
    let mounted = result["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["volumeMounts"][1]["mountPath"] == "/cacerts")
        .count();
    assert_eq!(mounted, 2_000);
    check("10 MB", &body, Verdict::Mutate(result), &Expect::Mutate);
}

#[test]
fn megabyte_annotation_values_are_refused_or_used() {
    let megabyte = "a".repeat(1 << 20);
    let annotated = |key: &str, value: &str| {
        with(
            &full_pod(),
            "/metadata/annotations",
            &json!({ format!("cainjector.lestak.sh/{key}"): value }),
        )
    };
    // A relative path: refused, naming the annotation (and quoting it whole).
    assert_refused(
        run(&pod_request(annotated("mountPath", &megabyte)), settings()),
        &format!(
            "annotation \"cainjector.lestak.sh/mountPath\": \"{megabyte}\" must be an absolute \
             path (starting with '/')"
        ),
    );
    // A boolean that is not one.
    assert_refused(
        run(&pod_request(annotated("setEnvVar", &megabyte)), settings()),
        &format!(
            "annotation \"cainjector.lestak.sh/setEnvVar\": \"{megabyte}\" must be \"true\" or \
             \"false\""
        ),
    );
    // A megabyte of container names to exclude: none matches, every container is injected.
    let names = vec!["sidecar"; 1 << 17].join(",");
    expect(
        "excludeContainers",
        &pod_request(annotated("excludeContainers", &names)),
        &settings(),
        &Expect::Mutate,
    );
    // Someone else's megabyte annotation is carried through untouched.
    let object = with(
        &full_pod(),
        "/metadata/annotations",
        &json!({"example.com/blob": megabyte}),
    );
    expect(
        "other annotation",
        &pod_request(object),
        &settings(),
        &Expect::Mutate,
    );
    // An unknown key under our prefix, 64 KiB long (the "did you mean" hint
    // compares it with every key, which takes long in a debug build).
    let key = format!("cainjector.lestak.sh/{}", "q".repeat(1 << 16));
    let object = with(&full_pod(), "/metadata/annotations", &json!({ &key: "x" }));
    assert_refused(
        run(&pod_request(object), settings()),
        &format!("annotation \"{key}\" is not an annotation of cainjector; {ANNOTATIONS}"),
    );
}

/// What the policy says after an unknown annotation of ours.
const ANNOTATIONS: &str = "the annotations are: inject, configMap, secret, certFile, \
    mountPath, sslCertFile, setEnvVar, excludeContainers, excludeNamespaces, \
    includeNamespaces, javaTrustStore, systemTrustStore";

/// A rejection with this very message, shown by its ends when it is long.
fn assert_refused(outcome: Verdict, message: &str) {
    let Verdict::Reject(got) = outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    let ends = |m: &str| {
        let head: String = m.chars().take(80).collect();
        let tail: String = m
            .chars()
            .rev()
            .take(120)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{head}…{tail} ({} bytes)", m.len())
    };
    assert!(got == message, "got {}\nnot {}", ends(&got), ends(message));
}

#[test]
fn a_thousand_system_store_files_in_two_hundred_containers_are_each_mounted_once() {
    let files: Vec<String> = (0..1000).map(|i| format!("/trust/{i}/ca.pem")).collect();
    let containers: Vec<Value> = (0..200)
        .map(|i| json!({"name": format!("c{i}"), "image": "x"}))
        .collect();
    let mut pod = common::simple_pod();
    pod["spec"]["containers"] = Value::Array(containers);
    let settings = json!({"configMap": "ca-bundle", "systemTrustStore": files});
    let result = evaluate_checked(&pod_request(pod), &settings);
    let Verdict::Mutate(result) = result else {
        panic!("expected a mutation, got {result:?}");
    };
    for container in result["spec"]["containers"].as_array().unwrap() {
        let mounts = container["volumeMounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 1001);
        assert_eq!(mounts[1000]["mountPath"], "/trust/999/ca.pem");
    }
}
