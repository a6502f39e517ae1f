//! `sourceCheck`: ask the cluster, through Kubewarden's `kubernetes` host
//! capability, whether the bundle a pod is about to mount exists in its
//! namespace with the keys the pod reads, so that a missing one is reported
//! at admission instead of as a pod stuck in ContainerCreating; and whether
//! the keys put over trust store files can serve there (a bundle with the
//! public roots, a Java store the JDK reads without a password).

use std::borrow::Cow;
use std::fmt;

use serde_json::{Value, json};

use crate::base64_decode;
use crate::settings::source::Source;
use crate::trust_store::{self, Unread};

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
/// or `Thin` or `Locked` (the rest is injected).
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
    /// The Java store, to be put over the JDK's default trust stores, which
    /// the JDK opens without a password, is not all readable without one:
    /// the rest is injected.
    Locked {
        key: String,
        store: Unread,
    },
}

/// Trust store files a lack keeps the bundle off while the rest is injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    SystemStore,
    Cacerts,
}

impl fmt::Display for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Files::SystemStore => "the system trust store",
            Files::Cacerts => "the JDK's default cacerts",
        })
    }
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
            Lack::Locked { key, store } => {
                let (holds, left, fix) = store.parts();
                format!(
                    "in namespace {namespace:?} holds in key {key:?} {holds}: put over the JDK's \
                     default cacerts (javaTrustStore.cacerts), which the JDK opens without a \
                     password, it {left}; {fix}"
                )
            }
        }
    }

    /// The files a lack keeps the bundle off while the rest is injected;
    /// `None` for the lacks that keep it out of the pod.
    pub fn left_out(&self) -> Option<Files> {
        match self {
            Lack::Thin { .. } => Some(Files::SystemStore),
            Lack::Locked { .. } => Some(Files::Cacerts),
            Lack::Unreadable(_) | Lack::Keys(_) => None,
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

/// What the pod reads from the source: every key, and the keys put over
/// trust store files when a container got them.
pub struct Reads<'a> {
    pub keys: &'a [String],
    /// Put over the system trust store files.
    pub store_key: Option<&'a str>,
    /// Put over the JDK's default trust stores (`javaTrustStore.cacerts`).
    pub cacerts_key: Option<&'a str>,
}

/// Why `source` cannot serve the pod, which `reads` from it: the problem
/// that keeps the bundle out of the pod (`Err`), or those that keep it off
/// trust store files (`Ok`, each `left_out`; none when it serves). A
/// ClusterTrustBundle is cluster-scoped and selected by the kubelet, so it is
/// not checked.
pub fn check_source(
    cluster: &dyn Cluster,
    source: &Source,
    reads: &Reads<'_>,
    namespace: &str,
) -> Result<Vec<Problem>, Problem> {
    let (kind, name) = match source {
        Source::ConfigMap(name) => ("ConfigMap", name),
        Source::Secret(name) => ("Secret", name),
        Source::ClusterTrustBundle(_) => return Ok(Vec::new()),
    };
    let problem = |lack| Problem {
        kind,
        name: name.clone(),
        namespace: namespace.to_string(),
        lack,
    };
    let resource = match cluster.get_resource("v1", kind, namespace, name) {
        Ok(resource) => resource,
        Err(reason) => return Err(problem(Lack::Unreadable(reason))),
    };
    let has = |key: &str| {
        ["data", "binaryData"]
            .iter()
            .any(|f| resource.get(f).and_then(|d| d.get(key)).is_some())
    };
    let absent: Vec<String> = reads.keys.iter().filter(|key| !has(key)).cloned().collect();
    if !absent.is_empty() {
        return Err(problem(Lack::Keys(absent)));
    }
    let thin = reads.store_key.and_then(|key| {
        let count = certificates(&Content::of(&resource, kind, key).bytes);
        // The private CA alone, put over the system store, untrusts every public site.
        (count < 2).then(|| Lack::Thin {
            key: key.to_string(),
            count,
        })
    });
    let locked = reads.cacerts_key.and_then(|key| {
        let content = Content::of(&resource, kind, key);
        let store = trust_store::unread(&content.bytes, content.text)?;
        Some(Lack::Locked {
            key: key.to_string(),
            store,
        })
    });
    Ok(thin.into_iter().chain(locked).map(problem).collect())
}

/// A key's bytes as the kubelet writes them into the volume.
struct Content<'r> {
    /// A ConfigMap's text as it is (a bundle of the public roots is some
    /// 200 KB, not copied); base64 decoded.
    bytes: Cow<'r, [u8]>,
    /// From a ConfigMap's `data`: text, written as it is.
    text: bool,
}

impl<'r> Content<'r> {
    fn of(resource: &'r Value, kind: &str, key: &str) -> Content<'r> {
        let text = |field: &str| resource.get(field)?.get(key)?.as_str();
        match (kind, text("data")) {
            ("ConfigMap", Some(text)) => Content {
                bytes: Cow::Borrowed(text.as_bytes()),
                text: true,
            },
            (_, Some(encoded)) => Content {
                bytes: Cow::Owned(base64_decode::decode(encoded)),
                text: false,
            },
            (_, None) => Content {
                bytes: Cow::Owned(base64_decode::decode(
                    text("binaryData").unwrap_or_default(),
                )),
                text: false,
            },
        }
    }
}

const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// How many PEM certificates `pem` holds.
fn certificates(pem: &[u8]) -> usize {
    pem.windows(PEM_CERTIFICATE.len())
        .filter(|w| *w == PEM_CERTIFICATE)
        .count()
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

    #[test]
    fn certificates_are_counted_by_their_begin_line() {
        let one = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates(one.as_bytes()), 1);
        assert_eq!(certificates(one.repeat(3).as_bytes()), 3);
        assert_eq!(certificates(b"-----BEGIN PRIVATE KEY-----"), 0);
    }
}
