//! `sourceCheck`: ask the cluster, through Kubewarden's `kubernetes` host
//! capability, whether the bundle a pod is about to mount exists in its
//! namespace, so that a missing one is reported at admission instead of as a
//! pod stuck in ContainerCreating.

use serde_json::{Value, json};

use crate::settings::source::Source;

/// Why the source cannot serve the pod: the resource, and what it lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} {name:?} {}", .lack.in_namespace(.namespace))]
pub struct Problem {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub lack: Lack,
}

/// Missing, unreadable or without a key the pod reads (nothing is injected),
/// or `Thin`.
#[derive(Debug, Clone, PartialEq)]
pub enum Lack {
    /// The host's reason, when it gave one.
    Unreadable(String),
    Keys(Vec<String>),
    /// The bundle, to be put over the system trust store, holds too few
    /// certificates to be more than the private CA: the rest is injected.
    Thin {
        key: String,
        count: usize,
    },
}

impl Lack {
    fn in_namespace(&self, namespace: &str) -> String {
        match self {
            Lack::Unreadable(reason) => {
                let colon = if reason.is_empty() { "" } else { ": " };
                format!("could not be read in namespace {namespace:?}{colon}{reason}")
            }
            Lack::Keys(keys) => {
                let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
                format!(
                    "in namespace {namespace:?} has no key {}",
                    keys.join(" nor ")
                )
            }
            Lack::Thin { key, count } => format!(
                "in namespace {namespace:?} holds {count} PEM certificate{} in key {key:?}: put \
                 over the system trust store (systemTrustStore), a bundle of the private CA alone \
                 makes every public site untrusted; build it with the public roots (trust-manager \
                 useDefaultCAs: true)",
                if *count == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Read access to cluster resources.
pub trait Cluster {
    /// The resource as JSON, or why it could not be had.
    fn get_resource(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String>;
}

/// The policy-server (or kwctl) answering the `kubewarden/kubernetes/get_resource` call.
pub struct KubewardenHost;

impl Cluster for KubewardenHost {
    fn get_resource(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let request = json!({
            "api_version": api_version,
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "disable_cache": false,
        });
        let payload = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        let answer = kubewarden_policy_sdk::wapc_guest::host_call(
            "kubewarden",
            "kubernetes",
            "get_resource",
            &payload,
        )
        .map_err(|e| e.to_string())?;
        serde_json::from_slice(&answer).map_err(|e| format!("the host's answer is not JSON: {e}"))
    }
}

/// Why `source` cannot serve the pod, which reads `keys` from it and has
/// `store_key` put over its system trust store files, if it cannot. A
/// ClusterTrustBundle is cluster-scoped and selected by the kubelet, so it
/// is not checked.
pub fn check_source(
    cluster: &dyn Cluster,
    source: &Source,
    keys: &[String],
    store_key: Option<&str>,
    namespace: &str,
) -> Option<Problem> {
    let (kind, name) = match source {
        Source::ConfigMap(name) => ("ConfigMap", name),
        Source::Secret(name) => ("Secret", name),
        Source::ClusterTrustBundle(_) => return None,
    };
    let problem = |lack| Problem {
        kind,
        name: name.clone(),
        namespace: namespace.to_string(),
        lack,
    };
    let resource = match cluster.get_resource("v1", kind, namespace, name) {
        Ok(resource) => resource,
        Err(reason) => return Some(problem(Lack::Unreadable(reason))),
    };
    let value = |field: &str, key: &str| resource.get(field)?.get(key);
    let has = |key: &str| {
        ["data", "binaryData"]
            .iter()
            .any(|f| value(f, key).is_some())
    };
    let absent: Vec<String> = keys.iter().filter(|key| !has(key)).cloned().collect();
    if !absent.is_empty() {
        return Some(problem(Lack::Keys(absent)));
    }
    let key = store_key?;
    let text = |field: &str| value(field, key).and_then(Value::as_str);
    let count = match (kind, text("data")) {
        ("ConfigMap", Some(pem)) => certificates(pem.as_bytes()),
        (_, Some(encoded)) => certificates(&base64(encoded)),
        (_, None) => certificates(&base64(text("binaryData").unwrap_or_default())),
    };
    // The private CA alone, put over the system store, untrusts every public site.
    (count < 2).then(|| {
        problem(Lack::Thin {
            key: key.to_string(),
            count,
        })
    })
}

const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// How many PEM certificates `pem` holds.
fn certificates(pem: &[u8]) -> usize {
    pem.windows(PEM_CERTIFICATE.len())
        .filter(|w| *w == PEM_CERTIFICATE)
        .count()
}

/// The bytes of base64 `text` (a Secret's `data`, a ConfigMap's
/// `binaryData`); what is not of the alphabet (padding, line breaks) is skipped.
fn base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for sextet in text.bytes().filter_map(sextet) {
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let [.., byte] = (acc >> bits).to_be_bytes();
            out.push(byte);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_are_joined_with_nor() {
        let lacks = |keys: &[&str]| Problem {
            kind: "ConfigMap",
            name: "ca".into(),
            namespace: "team-a".into(),
            lack: Lack::Keys(keys.iter().map(|k| k.to_string()).collect()),
        };
        assert_eq!(
            lacks(&["ca.crt", "truststore.p12"]).to_string(),
            "ConfigMap \"ca\" in namespace \"team-a\" has no key \"ca.crt\" nor \"truststore.p12\""
        );
    }

    /// A Secret's base64 decodes with and without padding and line breaks.
    #[test]
    fn certificates_are_counted_by_their_begin_line_in_pem_or_base64() {
        assert_eq!(base64("aGVsbG8="), b"hello");
        assert_eq!(base64("aGVs\nbG8"), b"hello");
        assert_eq!(base64("YQ=="), b"a");
        assert_eq!(base64(""), b"");
        let one = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates(one.as_bytes()), 1);
        assert_eq!(certificates(one.repeat(3).as_bytes()), 3);
        assert_eq!(certificates(b"-----BEGIN PRIVATE KEY-----"), 0);
    }
}
