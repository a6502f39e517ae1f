//! Property tests on generated requests (tests/generators: every workload
//! kind, settings drawn from valid values, annotations under our prefix with
//! valid and invalid values, names that collide with the ones the policy
//! adds, block devices and odd spellings at the mount path, annotations at
//! the edge of the API server's budget, Windows node selectors and
//! affinities, unreadable old objects of debug updates, and unknown fields at
//! every level). Whatever the request, the policy answers without panicking,
//! and a mutation only adds, keeps the order of every key sent, adds nothing
//! twice, passes the API server's checks of what it wrote, parses as its
//! Kubernetes kind and is accepted unchanged by a second run
//! (tests/invariants/mod.rs).

mod common;
mod generators;
mod invariants;

use common::Verdict;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::FileFailurePersistence;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use common::{admission, run};
use generators::*;
use invariants::{api, evaluate_checked, written};

// ---- strategies: each draws one part of a `generators::Case` ----

fn text(table: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(table).prop_map(str::to_string)
}

fn texts(
    table: &'static [&'static str],
    size: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(table), size)
}

fn leaf_value() -> impl Strategy<Value = Value> {
    (
        0..LEAF_SHAPES,
        any::<bool>(),
        any::<i64>(),
        "[a-z /.-]{0,12}",
    )
        .prop_map(|(shape, flag, number, text)| leaf(shape, flag, number, text))
}

fn unknown() -> impl Strategy<Value = Unknown> {
    prop::collection::vec((text(UNKNOWN_KEYS), leaf_value()), 0..3)
}

/// A list field as a pod may carry it: absent, null, or a list.
fn optional_list<S: Strategy<Value = Value>>(
    item: S,
    max: usize,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        4 => prop::collection::vec(item, 0..=max).prop_map(|v| Some(Value::Array(v))),
    ]
}

fn mount_value() -> impl Strategy<Value = Value> {
    (
        select(VOLUME_NAMES),
        select(POD_MOUNT_PATHS),
        prop::option::of(any::<bool>()),
        unknown(),
    )
        .prop_map(|(name, path, read_only, unknown)| mount(name, path, read_only, &unknown))
}

fn env_value() -> impl Strategy<Value = Value> {
    (
        select(POD_ENV_NAMES),
        prop::option::of(select(POD_ENV_VALUES)),
        unknown(),
    )
        .prop_map(|(name, value, unknown)| env_var(name, value, &unknown))
}

/// A container the API server accepts: mount paths unique, devices clear of
/// the mounts (`unique_by`, `valid_devices`).
fn container() -> impl Strategy<Value = Value> {
    let devices = prop::option::weighted(
        0.2,
        prop::collection::vec((select(DEVICE_NAMES), select(DEVICE_PATHS)), 1..3),
    );
    (
        text(CONTAINER_NAMES),
        optional_list(mount_value(), 3),
        optional_list(env_value(), 3),
        prop::bool::weighted(0.15),
        devices,
        unknown(),
    )
        .prop_map(|(name, mounts, env, sidecar, devices, unknown)| {
            let mounts = unique_by(mounts, "mountPath");
            let devices = devices.map(|d| valid_devices(&d, mounts.as_ref()));
            ContainerSpec {
                name,
                mounts,
                env,
                devices,
                sidecar,
                unknown,
            }
            .to_json()
        })
}

fn volume_value() -> impl Strategy<Value = Value> {
    (
        select(VOLUME_NAMES),
        select(SOURCES),
        select(&VOLUME_SHAPES[..]),
        unknown(),
    )
        .prop_map(|(name, source, shape, unknown)| volume(name, source, shape, &unknown))
}

fn source() -> impl Strategy<Value = SourceSpec> {
    (0..5u8, text(SOURCES)).prop_map(|(kind, name)| match kind {
        0 | 1 => SourceSpec::ConfigMap(name),
        2 | 3 => SourceSpec::Secret(name),
        // A signer needs a domain of two labels: the dotted names have one.
        _ if name.contains('.') => SourceSpec::Signer(name),
        _ => SourceSpec::ClusterTrustBundle(name),
    })
}

fn java_trust_store() -> impl Strategy<Value = JavaTrustStoreSpec> {
    (
        text(TRUST_STORE_KEYS),
        prop::option::of(text(TRUST_STORE_TYPES)),
        prop::option::of(text(TRUST_STORE_PASSWORDS)),
        prop::option::weighted(0.4, cacerts()),
    )
        .prop_map(|(key, store_type, password, cacerts)| JavaTrustStoreSpec {
            key,
            store_type,
            password,
            cacerts,
        })
}

fn cacerts() -> impl Strategy<Value = StoreSpec> {
    prop_oneof![
        any::<bool>().prop_map(StoreSpec::Flag),
        subsequence(CACERTS_FILES, 1..=CACERTS_FILES.len())
            .prop_map(|files| StoreSpec::Files(files.into_iter().map(str::to_string).collect())),
    ]
}

fn env_values() -> impl Strategy<Value = Vec<(String, String)>> {
    let pair = (text(VALUE_NAMES), text(VALUES));
    prop::collection::vec(pair, 0..3)
}

fn store() -> impl Strategy<Value = StoreSpec> {
    prop_oneof![
        any::<bool>().prop_map(StoreSpec::Flag),
        subsequence(STORE_FILES, 1..=STORE_FILES.len())
            .prop_map(|files| StoreSpec::Files(files.into_iter().map(str::to_string).collect())),
    ]
}

/// Settings drawn from valid values only.
fn settings() -> impl Strategy<Value = Value> {
    let files = (
        prop::option::of(text(CERT_FILES)),
        prop::option::of(text(MOUNT_PATHS)),
        prop::option::of(any::<bool>()),
        prop::option::of(text(SSL_CERT_FILES)),
        prop::option::of(
            subsequence(ENV_NAMES, 0..=ENV_NAMES.len())
                .prop_map(|names| names.into_iter().map(str::to_string).collect()),
        ),
    );
    // Scope settings are set now and then: each one set often leaves most
    // cases out of scope, where nothing is left to check.
    let scope = (
        prop::option::weighted(0.3, texts(CONTAINER_GLOBS, 0..3)),
        prop::option::weighted(0.2, texts(NAMESPACE_GLOBS, 0..3)),
        prop::option::weighted(0.2, texts(NAMESPACE_GLOBS, 0..3)),
    );
    let pod_rules = (
        prop::option::weighted(0.3, any::<bool>()),
        prop::option::of(text(PREFIXES)),
        prop::option::of(
            subsequence(OVERRIDES, 0..=OVERRIDES.len())
                .prop_map(|keys| keys.into_iter().map(str::to_string).collect()),
        ),
        prop::option::of(any::<bool>()),
    );
    let extras = (
        prop::option::weighted(0.3, java_trust_store()),
        prop::option::weighted(0.3, any::<bool>()),
        prop::option::weighted(0.4, store()),
        prop::option::weighted(0.3, env_values()),
    );
    (source(), files, scope, pod_rules, extras).prop_map(
        |(
            source,
            (cert_file, mount_path, set_env_var, ssl_cert_file, env_vars),
            (exclude_containers, include_namespaces, exclude_namespaces),
            (inject, annotation_prefix, allowed_overrides, inject_init_containers),
            (java_trust_store, status_annotation, system_trust_store, env_values),
        )| {
            SettingsSpec {
                source,
                java_trust_store,
                status_annotation,
                cert_file,
                mount_path,
                set_env_var,
                ssl_cert_file,
                env_vars,
                exclude_containers,
                include_namespaces,
                exclude_namespaces,
                inject,
                annotation_prefix,
                allowed_overrides,
                inject_init_containers,
                system_trust_store,
                env_values,
            }
            .to_json()
        },
    )
}

fn annotation() -> impl Strategy<Value = AnnotationSpec> {
    let under = prop_oneof![
        12 => Just(Under::Ours),
        3 => Just(Under::Default),
        3 => Just(Under::Other),
        1 => Just(Under::Mirror),
    ];
    let value = prop_oneof![
        12 => select(ANNOTATION_VALUES).prop_map(Value::from),
        2 => "[ -~]{0,16}".prop_map(Value::from),
        1 => leaf_value(),
    ];
    (under, text(ANNOTATION_KEYS), value).prop_map(|(under, key, value)| AnnotationSpec {
        under,
        key,
        value,
    })
}

/// A node selector requirement the API server accepts: values for `In` and
/// `NotIn`, none for `Exists`.
fn expression() -> impl Strategy<Value = Expression> {
    (text(OS_LABELS), text(OS_OPERATORS), texts(OS_NAMES, 1..3)).prop_map(
        |(key, operator, values)| Expression {
            key,
            operator,
            values,
        },
    )
}

fn template() -> impl Strategy<Value = TemplateSpec> {
    (
        prop::option::of(prop::collection::vec(annotation(), 0..4)),
        unknown(),
        optional_list(container(), 2),
        prop::collection::vec(container(), 1..4),
        optional_list(volume_value(), 3),
        (
            prop::option::weighted(0.1, text(OS_NAMES)),
            prop::option::weighted(0.1, (text(OS_LABELS), text(OS_NAMES))),
            prop::option::weighted(
                0.1,
                prop::collection::vec(prop::collection::vec(expression(), 0..3), 1..3),
            ),
            prop::option::weighted(0.06, 0..500usize),
        ),
        unknown(),
        unknown(),
    )
        .prop_map(
            |(
                annotations,
                metadata_unknown,
                init_containers,
                containers,
                volumes,
                (os, node_selector, affinity, annotation_slack),
                spec_unknown,
                template_unknown,
            )| TemplateSpec {
                annotations,
                metadata_unknown,
                init_containers,
                containers,
                volumes: unique_by(volumes, "name"),
                os,
                node_selector,
                affinity,
                annotation_slack,
                spec_unknown,
                template_unknown,
            },
        )
}

fn old_object() -> impl Strategy<Value = OldObject> {
    prop_oneof![
        12 => Just(OldObject::Readable),
        1 => Just(OldObject::Absent),
        1 => Just(OldObject::Null),
        1 => Just(OldObject::NotAnObject),
        1 => Just(OldObject::ListNotAList),
        1 => Just(OldObject::ItemWithoutName),
    ]
}

fn debug() -> impl Strategy<Value = DebugSpec> {
    (
        prop::collection::vec(container(), 1..3),
        0..3usize,
        old_object(),
    )
        .prop_map(|(ephemeral, existing, old_object)| DebugSpec {
            ephemeral,
            existing,
            old_object,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        select(KINDS),
        prop_oneof![
            27 => Just(OPERATIONS[0]),
            1 => Just(OPERATIONS[1]),
            1 => Just(OPERATIONS[2]),
            1 => Just(OPERATIONS[3]),
        ],
        prop_oneof![4 => text(NAMESPACES), 1 => Just(String::new())],
        prop::option::of(text(NAMESPACES)),
        settings(),
        template(),
        unknown(),
        prop::option::weighted(0.4, debug()),
    )
        .prop_map(
            |(
                kind,
                operation,
                request_namespace,
                object_namespace,
                settings,
                template,
                object_unknown,
                debug,
            )| Case {
                kind,
                operation,
                request_namespace,
                object_namespace,
                settings,
                template,
                object_unknown,
                debug: debug.filter(|_| kind == ("", "Pod")),
            },
        )
}

// ---- the oracle: what the specification says of a case ----

/// An OS requirement on a node label the policy reads, `In` only Windows.
fn requires_windows(e: &Expression) -> bool {
    OS_LABELS[..2].contains(&e.key.as_str())
        && e.operator == "In"
        && !e.values.is_empty()
        && e.values.iter().all(|v| v == "windows")
}

impl TemplateSpec {
    /// Whether the pod can only run on Windows: what the policy must skip.
    fn windows_only(&self) -> bool {
        let pinned = |(label, os): &(String, String)| {
            OS_LABELS[..2].contains(&label.as_str()) && os == "windows"
        };
        self.os.as_deref() == Some("windows")
            || self.node_selector.as_ref().is_some_and(pinned)
            || self.affinity.as_ref().is_some_and(|terms| {
                !terms.is_empty() && terms.iter().all(|t| t.iter().any(requires_windows))
            })
    }
}

impl Case {
    fn old_object_spoilt(&self) -> bool {
        self.debug
            .as_ref()
            .is_some_and(|d| d.old_object != OldObject::Readable)
    }

    /// The namespace the policy decides on: the request's, else the object's.
    fn namespace(&self) -> &str {
        if self.request_namespace.is_empty() {
            self.object_namespace.as_deref().unwrap_or("")
        } else {
            &self.request_namespace
        }
    }

    fn namespace_selected(&self) -> bool {
        let globs = |key: &str| -> Vec<String> {
            self.settings
                .get(key)
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let matches = |glob: &String| match glob.strip_suffix('*') {
            Some(prefix) => self.namespace().starts_with(prefix),
            None => glob == self.namespace(),
        };
        let include = globs("includeNamespaces");
        let exclude = globs("excludeNamespaces");
        !exclude.iter().any(matches) && (include.is_empty() || include.iter().any(matches))
    }

    /// The keys under the configured prefix, which the policy reads.
    fn our_annotation_keys(&self) -> Vec<String> {
        let prefix = format!("{}/", self.prefix());
        self.annotations()
            .unwrap_or_default()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn is_mirror(&self) -> bool {
        self.annotations()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
    }
}

fn parses_as<T: DeserializeOwned>(original: &Value, result: &Value) {
    if serde_json::from_value::<T>(original.clone()).is_ok()
        && let Err(e) = serde_json::from_value::<T>(result.clone())
    {
        panic!("the result does not parse as its kind: {e}\n{result:#}");
    }
}

/// The result parses as the k8s-openapi type of its kind whenever the original did.
fn parses_as_its_kind(kind: &str, original: &Value, result: &Value) {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    match kind {
        "Pod" => parses_as::<core::Pod>(original, result),
        "ReplicationController" => parses_as::<core::ReplicationController>(original, result),
        "Deployment" => parses_as::<apps::Deployment>(original, result),
        "StatefulSet" => parses_as::<apps::StatefulSet>(original, result),
        "DaemonSet" => parses_as::<apps::DaemonSet>(original, result),
        "ReplicaSet" => parses_as::<apps::ReplicaSet>(original, result),
        "Job" => parses_as::<batch::Job>(original, result),
        "CronJob" => parses_as::<batch::CronJob>(original, result),
        other => panic!("no Kubernetes type for {other}"),
    }
}

fn volume_names(object: &Value, kind: (&str, &str)) -> Vec<String> {
    let at = invariants::spec_pointer(kind.0, kind.1).expect("a handled kind");
    object
        .pointer(&format!("{at}/volumes"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A failing case is saved next to this file (tests/properties.proptest-regressions)
/// and replayed first on every later run.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let request = case.request();
    let verdict = evaluate_checked(&request, &case.settings);
    let operation_mutates = case.operation == "CREATE" || case.debug.is_some();
    if !operation_mutates || !case.namespace_selected() {
        prop_assert_eq!(&verdict, &Verdict::Accept);
        return Ok(());
    }
    if case.is_mirror() || case.template.windows_only() {
        prop_assert_eq!(&verdict, &Verdict::Accept);
        return Ok(());
    }
    match &verdict {
        Verdict::Reject(message) => {
            // The object is well formed and the settings valid: only one of
            // our annotations can be the reason, and the message names it;
            // or the debug update's oldObject cannot be read.
            let named = case
                .our_annotation_keys()
                .iter()
                .any(|key| message.contains(&format!("\"{key}\"")));
            let old_object = case.old_object_spoilt() && message.contains("oldObject");
            prop_assert!(
                named || old_object,
                "rejection names no annotation: {}",
                message
            );
        }
        Verdict::Mutate(result) | Verdict::MutateWarn(result, _) => {
            prop_assert!(!case.old_object_spoilt(), "a spoilt oldObject was read");
            parses_as_its_kind(case.kind.1, &request["object"], result);
            for name in volume_names(result, case.kind) {
                prop_assert!(api::dns_label(&name), "volume name {:?}", name);
            }
            if matches!(verdict, Verdict::MutateWarn(..)) {
                prop_assert_eq!(&case.settings["statusAnnotation"], &json!(true));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The key order check of `evaluate_checked` sees a reordered object: a
/// `Value` would not (its keys are sorted), the texts do.
#[test]
fn key_order_check_sees_keys_reordered() {
    let object = json!({"a": 1, "b": {"c": [{"d": 1, "e": 2}]}, "f": null});
    let sent = invariants::in_key_order(&object, 7);
    assert_ne!(sent, object.to_string());
    invariants::assert_keeps_key_order(&written(&sent), &written(&sent), "");
    let reordered = std::panic::catch_unwind(|| {
        invariants::assert_keeps_key_order(&written(&sent), &written(&object.to_string()), "")
    });
    assert!(reordered.is_err());
}

proptest! {
    #![proptest_config(config(768))]

    /// Whatever the bytes, the payload is read as serde_json reads it
    /// (`invariants::read_as_serde_json_reads`): generated requests, damaged
    /// a few bytes at a time where JSON's grammar decides (brackets, quotes,
    /// escapes, numbers, control characters, bytes that are not UTF-8).
    #[test]
    fn damaged_payloads_are_read_as_serde_json_reads_them(
        case in case(),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        invariants::read_as_serde_json_reads(&damaged(payload_of(&case), &damages));
    }

    /// Of a key given twice the last one wins (the contract of `json`): a
    /// copy of any object's first key, of any value, put before it changes
    /// no answer.
    #[test]
    fn an_earlier_copy_of_a_key_changes_no_answer(
        case in case(),
        at in 0.0..1.0f64,
        value in select(vec!["null", "0", "\"x\"", "[1]", "{\"a\":{}}"]),
    ) {
        let payload = payload_of(&case);
        let copied = with_earlier_copy(&payload, at, value);
        prop_assert_ne!(&copied, &payload);
        prop_assert_eq!(common::evaluate(&copied), common::evaluate(&payload));
        invariants::read_as_serde_json_reads(&copied);
    }

    /// The main property: any generated request of any kind.
    #[test]
    fn any_request_is_answered_and_a_mutation_only_adds(case in case()) {
        check_case(&case)?;
    }
}

/// The damaged payloads of the property above are checked both ways that
/// matter: of the single damages to one pod's payload, many are not JSON
/// (refused with serde_json's message) and many are compared with their value.
#[test]
fn damaged_payloads_are_both_refused_and_compared() {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]}
    });
    let payload = serde_json::to_vec(&json!({
        "request": admission(("", "Pod"), "CREATE", "default", pod),
        "settings": {"configMap": "ca-bundle"},
    }))
    .unwrap();
    let mut readings = std::collections::BTreeMap::new();
    for at in (0..=200).map(|n| f64::from(n) / 200.0) {
        for damage in ESCAPES
            .iter()
            .map(|e| Damage::Insert(at, e))
            .chain(GRAMMAR_PIECES.iter().map(|b| Damage::Insert(at, b)))
        {
            let reading =
                invariants::read_as_serde_json_reads(&damaged(payload.clone(), &[damage]));
            *readings.entry(format!("{reading:?}")).or_insert(0) += 1;
        }
    }
    let count = |reading: &str| readings.get(reading).copied().unwrap_or(0);
    let all: usize = readings.values().sum();
    assert!(
        count("NotJson") * 4 > all && count("AsItsValue") * 10 > all,
        "{readings:?}"
    );
}

/// The payload the host sends for `case`.
fn payload_of(case: &Case) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": case.request(), "settings": case.settings})).unwrap()
}

/// `payload` with a copy of the first key of one of its objects (chosen by a
/// fraction of their count), of `value`, put before it.
/// Where each object with members has its first key: a `{"` outside strings
/// (a string may end in `{`, as in `"{"`, so the text alone does not say).
fn member_starts(text: &str) -> Vec<usize> {
    let (mut starts, mut in_string, mut escaped) = (Vec::new(), false, false);
    let bytes = text.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (false, _, b'"') => in_string = true,
            (false, _, b'{') if bytes.get(i + 1) == Some(&b'"') => starts.push(i + 1),
            _ => {}
        }
    }
    starts
}

fn with_earlier_copy(payload: &[u8], at: f64, value: &str) -> Vec<u8> {
    let text = std::str::from_utf8(payload).unwrap();
    let objects = member_starts(text);
    let n = ((at * objects.len() as f64) as usize).min(objects.len() - 1);
    let key_at = objects[n];
    let mut key = serde_json::Deserializer::from_str(&text[key_at..]).into_iter::<String>();
    key.next().unwrap().unwrap();
    let key = &text[key_at..key_at + key.byte_offset()];
    let mut copied = text.to_string();
    copied.insert_str(key_at, &format!("{key}:{value},"));
    copied.into_bytes()
}

/// One change to a payload's bytes, at or next to a bracket, colon, comma,
/// quote or backslash (chosen by a fraction of their count): remove some, or
/// put in a byte that matters to JSON's grammar, or one that is not UTF-8 or
/// not allowed in a string, or an escape serde_json refuses to decode.
#[derive(Debug, Clone)]
enum Damage {
    Remove(f64, usize),
    Insert(f64, &'static [u8]),
    Replace(f64, u8),
}

const ESCAPES: &[&[u8]] = &[
    b"\\ud800",
    b"\\udc00",
    b"\\u00e9",
    b"\\ud83d\\ude00",
    b"\\x",
];

const GRAMMAR: &[u8] = b"{}[]:,\"\\u0123456789eE+-.tfn \x00\x1f\xc3\xff$";

/// Each byte of `GRAMMAR` on its own, to insert.
const GRAMMAR_PIECES: [&[u8]; GRAMMAR.len()] = {
    let mut pieces: [&[u8]; GRAMMAR.len()] = [&[]; GRAMMAR.len()];
    let mut i = 0;
    while i < GRAMMAR.len() {
        pieces[i] = GRAMMAR.split_at(i).1.split_at(1).0;
        i += 1;
    }
    pieces
};

fn damage() -> impl Strategy<Value = Damage> {
    let byte = select((0..GRAMMAR.len()).collect::<Vec<_>>());
    prop_oneof![
        (0.0..1.0, 1..3usize).prop_map(|(at, n)| Damage::Remove(at, n)),
        (0.0..1.0, byte.clone()).prop_map(|(at, b)| Damage::Insert(at, GRAMMAR_PIECES[b])),
        (0.0..1.0, select(ESCAPES.to_vec())).prop_map(|(at, e)| Damage::Insert(at, e)),
        (0.0..1.0, byte).prop_map(|(at, b)| Damage::Replace(at, GRAMMAR[b])),
    ]
}

fn damaged(mut payload: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for damage in damages {
        let place = |payload: &[u8], at: f64| {
            // A structural byte, or one next to one: a literal's or a
            // number's last, a string's first or last.
            let structural = |i: usize| payload.get(i).is_some_and(|b| b"{}[]:,\"\\".contains(b));
            let places: Vec<usize> = (0..payload.len())
                .filter(|i| structural(*i) || structural(i + 1) || (*i > 0 && structural(i - 1)))
                .collect();
            let n = ((at * places.len() as f64) as usize).min(places.len().saturating_sub(1));
            places.get(n).copied().unwrap_or(0)
        };
        match *damage {
            Damage::Remove(at, n) => {
                let from = place(&payload, at);
                let to = (from + n).min(payload.len());
                payload.drain(from..to);
            }
            Damage::Insert(at, piece) => {
                let at = place(&payload, at);
                payload.splice(at..at, piece.iter().copied());
            }
            Damage::Replace(at, b) => {
                let at = place(&payload, at);
                if let Some(byte) = payload.get_mut(at) {
                    *byte = b;
                }
            }
        }
    }
    payload
}

/// A pod in a selected namespace with no annotations and at least one
/// container that is not excluded: the policy always injects something.
fn plain_pod() -> impl Strategy<Value = (Value, Value)> {
    (
        prop::collection::vec(container(), 1..4),
        optional_list(volume_value(), 3),
        unknown(),
    )
        .prop_map(|(containers, volumes, unknown)| {
            let mut spec = Map::new();
            spec.insert("containers".into(), Value::Array(containers));
            insert_opt(&mut spec, "volumes", unique_by(volumes, "name"));
            let spec = with_unknown(spec, &unknown);
            let pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": spec,
            });
            let settings = json!({
                "configMap": "ca-bundle",
                "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"],
            });
            (pod, settings)
        })
}

proptest! {
    #![proptest_config(config(256))]

    /// Every container ends up with the bundle mounted at /cacerts (ours or
    /// its own mount there, however spelled; or its own device there, which
    /// wins) and both env vars set (ours or its own).
    #[test]
    fn every_container_ends_up_with_the_bundle((pod, settings) in plain_pod()) {
        let request = admission(("", "Pod"), "CREATE", "default", pod.clone());
        let result = match evaluate_checked(&request, &settings) {
            Verdict::Mutate(result) => result,
            Verdict::Reject(message) => return Err(TestCaseError::fail(message)),
            _ => pod,
        };
        let at_cacerts = |p: &Value| p.as_str().map(api::clean).as_deref() == Some("/cacerts");
        for container in result["spec"]["containers"].as_array().expect("containers") {
            let mounted = container["volumeMounts"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| at_cacerts(&m["mountPath"])));
            let device = container["volumeDevices"].as_array().is_some_and(|d| {
                d.iter().any(|d| at_cacerts(&d["devicePath"]) || d["name"] == "cainjector-ca-bundle")
            });
            prop_assert!(mounted || device, "{}", container);
            for name in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
                let set = container["env"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["name"] == name));
                prop_assert!(set, "{} missing in {}", name, container);
            }
        }
    }

    /// A pod whose annotations are just short of the API server's budget:
    /// with statusAnnotation the policy writes the status only where it fits,
    /// and says so where it does not.
    #[test]
    fn status_annotation_never_pushes_the_annotations_over_the_budget(
        (pod, _) in plain_pod(),
        slack in 0..600usize,
        prefix in select(PREFIXES),
    ) {
        let mut pod = pod;
        let filler = api::ANNOTATIONS_LIMIT - FILLER_KEY.len() - slack;
        pod["metadata"]["annotations"] = json!({ FILLER_KEY: "f".repeat(filler) });
        let settings = json!({"configMap": "ca-bundle", "statusAnnotation": true, "annotationPrefix": prefix});
        let request = admission(("", "Pod"), "CREATE", "default", pod);
        let status_key = format!("{prefix}/status");
        match evaluate_checked(&request, &settings) {
            Verdict::Mutate(result) => {
                let status = result["metadata"]["annotations"][&status_key].as_str().map_or(0, str::len);
                prop_assert!(status > 0 && status + status_key.len() <= slack);
            }
            Verdict::MutateWarn(result, _) => {
                prop_assert!(result["metadata"]["annotations"].get(&status_key).is_none());
            }
            Verdict::Accept => {}
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }

    /// An annotation of ours with any string value: the policy answers, and a
    /// rejection names the annotation.
    #[test]
    fn any_annotation_value_is_answered_naming_the_annotation(
        key in select(ANNOTATION_KEYS),
        value in prop_oneof![select(ANNOTATION_VALUES).prop_map(str::to_string), "\\PC{0,24}"],
    ) {
        let key = format!("{DEFAULT_PREFIX}/{key}");
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "annotations": {&key: value}},
            "spec": {"containers": [{"name": "app", "image": "x"}]},
        });
        let request = admission(("", "Pod"), "CREATE", "default", pod);
        if let Verdict::Reject(message) = evaluate_checked(&request, &json!({"configMap": "ca-bundle"})) {
            prop_assert!(message.contains(&format!("\"{key}\"")), "{}", message);
        }
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// `action: require` accepts exactly the requests that `action: inject`
    /// leaves unchanged: when it refuses a request inject accepts, or accepts
    /// one inject would change, coverage reports would lie. A refusal names
    /// the bundle; a refusal inject also makes (a bad annotation, a malformed
    /// pod) has inject's own message.
    #[test]
    fn require_accepts_exactly_what_inject_leaves_unchanged(case in case()) {
        let request = case.request();
        let inject = run(&request, case.settings.clone());
        let mut settings = case.settings.clone();
        settings["action"] = json!("require");
        let require = run(&request, settings);
        match (&inject, &require) {
            (Verdict::Accept, Verdict::Accept) => {}
            (Verdict::Mutate(_) | Verdict::MutateWarn(..), Verdict::Reject(message)) => {
                prop_assert!(message.contains(" lacks the trust bundle ("), "{}", message);
            }
            (Verdict::Reject(own), Verdict::Reject(message)) => prop_assert_eq!(own, message),
            (inject, require) => {
                return Err(TestCaseError::fail(format!(
                    "inject answered {inject:?}, require {require:?}"
                )));
            }
        }
    }
}

// ---- the answer corpus: the same inputs for two builds (scripts/answer-corpus.sh) ----

/// Settings keys (two of them misspelt) and values that break them, to reach
/// the settings' refusals as well as their defaults.
const SETTING_KEYS: &[&str] = &[
    "configMap",
    "secret",
    "certFile",
    "mountPath",
    "setEnvVar",
    "sslCertFile",
    "envVars",
    "excludeContainers",
    "includeNamespaces",
    "excludeNamespaces",
    "inject",
    "annotationPrefix",
    "allowedOverrides",
    "injectInitContainers",
    "clusterTrustBundle",
    "javaTrustStore",
    "sourceCheck",
    "statusAnnotation",
    "action",
    "systemTrustStore",
    "envValues",
    "excludeNamespace",
    "x",
];
const SETTING_VALUES: &[&str] = &[
    "null",
    "1",
    "true",
    "false",
    "\"false\"",
    "\"\"",
    "\"x\"",
    "\"/etc\"",
    "\"/a b\"",
    "\"My_Bundle\"",
    "\"require\"",
    "\"warn\"",
    "[]",
    "[\"a\",\"a\"]",
    "[\"[\"]",
    "[\"/etc/ssl/cert.pem\",\"/cacerts\"]",
    "{}",
    "{\"key\":\"t.p12\",\"type\":\"JKS\"}",
    "{\"key\":\"t.p12\",\"cacerts\":true}",
    "{\"NODE_USE_SYSTEM_CA\":\"1\"}",
    "{\"name\":\"x\"}",
    "{\"signerName\":\"example.com/s\"}",
];

/// Writes CORPUS_OUT (default target/answer-corpus/payloads): CORPUS_CASES
/// generated cases (default 3000), each as sent, and every other one with a
/// setting broken, with `action: require`, or damaged a few bytes; each
/// settings object also as `validate_settings` receives it.
#[test]
#[ignore = "run by scripts/answer-corpus.sh"]
fn write_answer_corpus() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::fmt::Write as _;
    let cases: usize = std::env::var("CORPUS_CASES").map_or(3000, |n| n.parse().unwrap());
    let out = std::env::var("CORPUS_OUT").unwrap_or("target/answer-corpus/payloads".into());
    let mut runner = TestRunner::deterministic();
    let mut lines = String::new();
    let mut add = |op: char, bytes: &[u8]| {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(lines, "{op} {hex}").unwrap();
    };
    let strategy = (
        case(),
        prop::collection::vec(damage(), 1..4),
        select(SETTING_KEYS),
        select(SETTING_VALUES),
        0..6u8,
    );
    for _ in 0..cases {
        let (mut case, damages, key, value, variant) =
            strategy.new_tree(&mut runner).unwrap().current();
        match variant {
            0 | 1 => case.settings[key] = serde_json::from_str(value).unwrap(),
            2 => case.settings["action"] = json!("require"),
            _ => {}
        }
        let payload = payload_of(&case);
        add('v', &payload);
        add('s', case.settings.to_string().as_bytes());
        if variant == 3 {
            add('v', &damaged(payload, &damages));
        }
    }
    std::fs::create_dir_all(std::path::Path::new(&out).parent().unwrap()).unwrap();
    std::fs::write(&out, lines).unwrap();
}
