//! `javaTrustStore.cacerts`: the Java trust store mounted over the JDK
//! default trust stores instead of JAVA_TOOL_OPTIONS. Exact objects and
//! messages.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
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

// ---- sourceCheck: the store must be readable without a password ----

/// A store of test_data/trust-stores (README.md there says how each was made).
fn store(name: &str) -> Vec<u8> {
    let relative = format!("test_data/trust-stores/{name}");
    std::fs::read(path(&relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The ConfigMap with the PEM bundle in `data` and the store as `field` holds it.
fn config_map(pem: &str, field: &str, store: Value) -> Value {
    let mut map = source("ConfigMap", json!({"data": {"ca.crt": pem}}));
    map[field][KEY] = store;
    map
}

/// The ConfigMap as trust-manager writes it: the store in `binaryData`.
fn with_store(name: &str) -> Value {
    config_map(
        &PEM.repeat(2),
        "binaryData",
        json!(BASE64.encode(store(name))),
    )
}

fn source_check(check: &str) -> Value {
    let mut settings = on();
    settings["sourceCheck"] = json!(check);
    settings
}

/// The message naming the store `key` holds in the ConfigMap, and the fix.
fn locked(holds: &str, left: &str, fix: &str) -> String {
    format!(
        "ConfigMap \"ca-bundle\" in namespace \"default\" holds in key \"truststore.p12\" {holds}: \
         put over the JDK's default cacerts (javaTrustStore.cacerts), which the JDK opens without \
         a password, it {left}; {fix}"
    )
}

const ENCRYPTED: &str =
    "a PKCS#12 store whose certificates are encrypted, as trust-manager writes it given a password";
const NO_TRUST: &str = "leaves the JVM trusting no certificate at all";
const NO_PASSWORD: &str =
    "write the store without a password (trust-manager additionalFormats.pkcs12.password: \"\")";

fn rejected_for(reason: &str) -> Verdict {
    Verdict::Reject(format!(
        "the trust bundle cannot be injected: {reason} (setting sourceCheck: reject)"
    ))
}

#[test]
fn password_less_pkcs12_and_jks_stores_are_put_over_cacerts() {
    let pod = pod_request(simple_pod());
    for name in ["passwordless.p12", "changeit.jks"] {
        let c = cluster(vec![with_store(name)]);
        assert_eq!(
            checked(&pod, source_check("reject"), &c),
            Verdict::Mutate(over_cacerts().applied_to(&simple_pod())),
            "{name}"
        );
        assert_eq!(*c.asked.borrow(), ["v1 ConfigMap default/ca-bundle"]);
    }
    let secret = source(
        "Secret",
        json!({"data": {"ca.crt": BASE64.encode(PEM), KEY: BASE64.encode(store("passwordless.p12"))}}),
    );
    let settings = json!({"secret": "ca-bundle", "sourceCheck": "reject",
        "javaTrustStore": {"key": KEY, "cacerts": true}});
    let expected = Injection::secret("cainjector-ca-bundle", "ca-bundle")
        .java_over(&STANDARD_JAVA_CACERTS, KEY);
    assert_eq!(
        checked(&pod, settings, &cluster(vec![secret])),
        Verdict::Mutate(expected.applied_to(&simple_pod()))
    );
}

#[test]
fn reject_refuses_a_store_under_a_password_naming_key_and_fix() {
    let pod = pod_request(simple_pod());
    for name in ["changeit.p12", "openssl-changeit.p12"] {
        let c = cluster(vec![with_store(name)]);
        assert_eq!(
            checked(&pod, source_check("reject"), &c),
            rejected_for(&locked(ENCRYPTED, NO_TRUST, NO_PASSWORD)),
            "{name}"
        );
    }
}

#[test]
fn warn_injects_a_store_under_a_password_without_the_cacerts_mounts() {
    let c = cluster(vec![with_store("changeit.p12")]);
    let warning = format!(
        "cainjector injected the trust bundle but not over the JDK's default cacerts: {} \
         (setting sourceCheck: warn)",
        locked(ENCRYPTED, NO_TRUST, NO_PASSWORD)
    );
    let rest = Injection::default().applied_to(&simple_pod());
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("warn"), &c),
        Verdict::MutateWarn(rest.clone(), warning.clone())
    );
    // The pod that has the rest is accepted, with the warning again.
    assert_eq!(
        checked(&pod_request(rest), source_check("warn"), &c),
        Verdict::Warn(warning)
    );
}

/// Under `warn`, the status names what the pod got: no Java store.
#[test]
fn warn_leaves_the_store_out_of_the_status_too() {
    let c = cluster(vec![with_store("changeit.p12")]);
    let mut settings = source_check("warn");
    settings["statusAnnotation"] = json!(true);
    let Verdict::MutateWarn(result, _) = checked(&pod_request(simple_pod()), settings, &c) else {
        panic!("not a mutation with a warning");
    };
    assert_eq!(
        result["metadata"]["annotations"]["cainjector.lestak.sh/status"],
        json!(
            r#"{"source":{"configMap":"ca-bundle"},"volume":"cainjector-ca-bundle","mountPath":"/cacerts","containers":["app"],"initContainers":[],"envVars":["SSL_CERT_FILE"]}"#
        )
    );
}

/// A Secret's `data` is base64 of the store, as the API server writes it.
#[test]
fn a_secret_with_a_store_under_a_password_is_named_as_a_secret() {
    let secret = source(
        "Secret",
        json!({"data": {"ca.crt": BASE64.encode(PEM), KEY: BASE64.encode(store("changeit.p12"))}}),
    );
    let c = cluster(vec![secret]);
    let mut settings = json!({"secret": "ca-bundle", "sourceCheck": "reject",
        "javaTrustStore": {"key": KEY, "cacerts": true}});
    let reason = locked(ENCRYPTED, NO_TRUST, NO_PASSWORD).replacen("ConfigMap", "Secret", 1);
    let pod = pod_request(simple_pod());
    assert_eq!(checked(&pod, settings.clone(), &c), rejected_for(&reason));
    settings["sourceCheck"] = json!("warn");
    let rest = Injection::secret("cainjector-ca-bundle", "ca-bundle").applied_to(&simple_pod());
    assert_eq!(
        checked(&pod, settings, &c),
        Verdict::MutateWarn(
            rest,
            format!(
                "cainjector injected the trust bundle but not over the JDK's default cacerts: \
                 {reason} (setting sourceCheck: warn)"
            )
        )
    );
}

/// A JKS store with no entry: the JVM would trust nothing.
#[test]
fn a_store_with_no_certificate_is_named() {
    let empty = [
        &[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0][..],
        &[0; 20],
    ]
    .concat();
    let c = cluster(vec![config_map(
        &PEM.repeat(2),
        "binaryData",
        json!(BASE64.encode(empty)),
    )]);
    let fix = "put the bundle's certificates in it (trust-manager's additionalFormats.pkcs12 \
               target holds the Bundle's sources)";
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        rejected_for(&locked("a store with no certificate", NO_TRUST, fix))
    );
}

/// The JDK reads BER (an indefinite length here), which the check does not
/// walk: the store is put over cacerts unchecked. This very store was
/// measured: JDK 17, opening it as its default cacerts (the default type,
/// no password), trusts its 2 certificates.
#[test]
fn a_store_in_ber_is_let_through() {
    let der = store("passwordless.p12");
    // 30 82 <2 bytes>: the PFX's definite length, made indefinite.
    let ber = [&[0x30, 0x80][..], der.get(4..).unwrap(), &[0, 0]].concat();
    let c = cluster(vec![config_map(
        &PEM.repeat(2),
        "binaryData",
        json!(BASE64.encode(ber)),
    )]);
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        Verdict::Mutate(over_cacerts().applied_to(&simple_pod()))
    );
}

#[test]
fn certificates_not_marked_trusted_for_java_are_named() {
    let c = cluster(vec![with_store("openssl-nokeys.p12")]);
    let holds = "a PKCS#12 store with 2 certificates not marked trusted for Java (the JDK's \
                 trusted key usage attribute, which openssl pkcs12 -export writes only with \
                 -jdktrust)";
    let fix = "write the store with trust-manager (additionalFormats.pkcs12.password: \"\") or \
               keytool -importcert";
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        rejected_for(&locked(holds, NO_TRUST, fix))
    );
}

#[test]
fn a_store_that_is_none_or_cut_short_is_named_with_the_reason() {
    let pod = pod_request(simple_pod());
    let fix = "point javaTrustStore.key at trust-manager's additionalFormats.pkcs12 key, written \
               without a password (password: \"\")";
    let whole = store("passwordless.p12");
    let cases = [
        (whole.get(..500).unwrap().to_vec(), "it ends inside the PFX"),
        (Vec::new(), "it is empty"),
        (
            PEM.as_bytes().to_vec(),
            "it has the DER tag 0x2d where the PFX should be",
        ),
    ];
    for (bytes, why) in cases {
        let c = cluster(vec![config_map(
            PEM,
            "binaryData",
            json!(BASE64.encode(bytes)),
        )]);
        let holds = format!("no PKCS#12 or JKS store ({why})");
        assert_eq!(
            checked(&pod, source_check("reject"), &c),
            rejected_for(&locked(&holds, NO_TRUST, fix))
        );
    }
}

/// A ConfigMap's `data` is text, which the kubelet writes as it is: base64
/// there is no store, and a binary store cannot be written there at all.
#[test]
fn a_store_in_config_map_data_is_text() {
    let encoded = BASE64.encode(store("passwordless.p12"));
    let c = cluster(vec![config_map(PEM, "data", json!(encoded))]);
    let holds = "text (ConfigMap data), no PKCS#12 or JKS store (it has the DER tag 0x4d where \
                 the PFX should be)";
    let fix = "a binary store goes in binaryData, where trust-manager writes its \
               additionalFormats.pkcs12 target (password: \"\")";
    assert_eq!(
        checked(&pod_request(simple_pod()), source_check("reject"), &c),
        rejected_for(&locked(holds, NO_TRUST, fix))
    );
}

#[test]
fn a_thin_bundle_and_a_locked_store_are_both_named_and_both_left_out() {
    let mut settings = source_check("warn");
    settings["systemTrustStore"] = json!(["/etc/ssl/cert.pem"]);
    let c = cluster(vec![config_map(
        PEM,
        "binaryData",
        json!(BASE64.encode(store("changeit.p12"))),
    )]);
    let thin = "ConfigMap \"ca-bundle\" in namespace \"default\" holds 1 PEM certificate in key \
                \"ca.crt\": put over the system trust store (systemTrustStore), a bundle of the \
                private CA alone makes every public site untrusted; build it with the public roots \
                (trust-manager useDefaultCAs: true)";
    let store = locked(ENCRYPTED, NO_TRUST, NO_PASSWORD);
    assert_eq!(
        checked(&pod_request(simple_pod()), settings.clone(), &c),
        Verdict::MutateWarn(
            Injection::default().applied_to(&simple_pod()),
            format!(
                "cainjector injected the trust bundle but not over the system trust store: {thin} \
                 (setting sourceCheck: warn); cainjector injected the trust bundle but not over \
                 the JDK's default cacerts: {store} (setting sourceCheck: warn)"
            )
        )
    );
    settings["sourceCheck"] = json!("reject");
    assert_eq!(
        checked(&pod_request(simple_pod()), settings, &c),
        rejected_for(&format!("{thin}; {store}"))
    );
}

#[test]
fn source_check_asks_for_the_store_key() {
    let mut lacking = config_map(PEM, "data", json!(PEM));
    lacking["data"].as_object_mut().unwrap().remove(KEY);
    assert_eq!(
        checked(
            &pod_request(simple_pod()),
            source_check("reject"),
            &cluster(vec![lacking])
        ),
        Verdict::Reject(
            "the trust bundle cannot be injected: ConfigMap \"ca-bundle\" in namespace \
             \"default\" has no key \"truststore.p12\" (setting sourceCheck: reject)"
                .into()
        )
    );
}

/// With the store off for the pod, in the JAVA_TOOL_OPTIONS mode (the
/// password given), or where the container's own mounts hold every JDK file,
/// the store is not read.
#[test]
fn a_store_not_over_cacerts_is_not_read() {
    let c = cluster(vec![with_store("changeit.p12")]);
    let mut pod = simple_pod();
    pod["metadata"]["annotations"] = json!({"cainjector.lestak.sh/javaTrustStore": "false"});
    assert_eq!(
        checked(&pod_request(pod.clone()), source_check("reject"), &c),
        Verdict::Mutate(Injection::default().applied_to(&pod))
    );
    let mut options = json!({"configMap": "ca-bundle",
        "javaTrustStore": {"key": KEY, "password": "changeit"}});
    let unchecked = mutated(&pod_request(simple_pod()), options.clone());
    options["sourceCheck"] = json!("reject");
    assert_eq!(
        checked(&pod_request(simple_pod()), options, &c),
        Verdict::Mutate(unchecked)
    );
    let own = |path: &str| json!({"name": "jdk", "mountPath": path});
    let mounted = pod_with(json!([{"name": "app", "image": "x", "volumeMounts": [
        own("/etc/ssl/certs/java"), own("/etc/pki/ca-trust"), own("/opt/java")]}]));
    let unchecked = mutated(&pod_request(mounted.clone()), on());
    assert_eq!(
        checked(&pod_request(mounted), source_check("reject"), &c),
        Verdict::Mutate(unchecked)
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
