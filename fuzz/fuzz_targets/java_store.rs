//! Raw bytes as the Java store a ConfigMap's `binaryData` holds, read by
//! `sourceCheck` for `javaTrustStore.cacerts`: whatever the bytes, the policy
//! answers. With `reject` it mutates exactly as without the check, or refuses
//! naming the key; with `warn` it mutates the same, or injects the rest without
//! the `cacerts` mounts and says why. The two modes agree on the store.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cainjector::settings::STANDARD_JAVA_CACERTS;
use common::{Injection, PEM, Verdict, checked, cluster, pod_request, simple_pod, source};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const KEY: &str = "truststore.p12";

fuzz_target!(|data: &[u8]| {
    let map = source(
        "ConfigMap",
        json!({"data": {"ca.crt": PEM}, "binaryData": {KEY: BASE64.encode(data)}}),
    );
    let c = cluster(vec![map]);
    let pod = simple_pod();
    let settings = |check: &str| {
        json!({"configMap": "ca-bundle", "sourceCheck": check,
            "javaTrustStore": {"key": KEY, "cacerts": true}})
    };
    let whole = Injection::default()
        .java_over(&STANDARD_JAVA_CACERTS, KEY)
        .applied_to(&pod);
    let rest = Injection::default().applied_to(&pod);
    let named = "ConfigMap \"ca-bundle\" in namespace \"default\" holds in key \"truststore.p12\" ";
    let rejected = checked(&pod_request(pod.clone()), settings("reject"), &c);
    let warned = checked(&pod_request(pod), settings("warn"), &c);
    match (rejected, warned) {
        (Verdict::Mutate(r), Verdict::Mutate(w)) => {
            assert_eq!(r, whole);
            assert_eq!(w, whole);
        }
        (Verdict::Reject(refusal), Verdict::MutateWarn(w, warning)) => {
            let reason = refusal
                .strip_prefix("the trust bundle cannot be injected: ")
                .and_then(|r| r.strip_suffix(" (setting sourceCheck: reject)"))
                .unwrap_or_else(|| panic!("{refusal}"));
            assert!(reason.starts_with(named), "{reason}");
            assert_eq!(w, rest);
            assert_eq!(
                warning,
                format!(
                    "cainjector injected the trust bundle but not over the JDK's default \
                     cacerts: {reason} (setting sourceCheck: warn)"
                )
            );
        }
        other => panic!("reject and warn disagree: {other:?}"),
    }
});
