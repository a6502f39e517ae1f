//! `sourceCheck`: ask the cluster, through Kubewarden's `kubernetes` host
//! capability, whether the bundle a pod is about to mount exists in its
//! namespace, so that a missing one is reported at admission instead of as a
//! pod stuck in ContainerCreating.

use serde_json::{Value, json};

use crate::base64_decode;
use crate::settings::source::Source;
use crate::trust_store::{self, Contents, Malformed};

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

/// What keeps the JDK from reading a store's certificates without a password.
#[derive(Debug, Clone, PartialEq)]
pub enum Unread {
    /// Parts encrypted (under a password, or to a key).
    Encrypted,
    /// Certificates without the JDK's trusted key usage attribute.
    Unmarked(usize),
    NoCertificate,
    /// Not a PKCS#12 or JKS store.
    Malformed(Malformed),
    /// A ConfigMap's `data` (text), and not a store.
    Text(Malformed),
}

impl Unread {
    /// Why the JDK cannot read `contents`, if it cannot read them all.
    fn of(contents: Contents) -> Option<Unread> {
        match contents {
            Contents { encrypted: 1.., .. } => Some(Unread::Encrypted),
            Contents {
                unmarked: n @ 1.., ..
            } => Some(Unread::Unmarked(n)),
            Contents { trusted: 0, .. } => Some(Unread::NoCertificate),
            Contents { .. } => None,
        }
    }

    /// What the key holds, what the JVM is left with, and the fix.
    fn parts(&self) -> (String, &'static str, &'static str) {
        const LEFT_WITHOUT: &str = "leaves the JVM without them";
        const NO_TRUST: &str = "leaves the JVM trusting no certificate at all";
        const TRUST_MANAGER: &str = "write the store without a password (trust-manager \
                                     additionalFormats.pkcs12.password: \"\")";
        match self {
            Unread::Encrypted => (
                "a PKCS#12 store whose certificates are encrypted, as trust-manager writes it given \
                 a password"
                    .into(),
                LEFT_WITHOUT,
                TRUST_MANAGER,
            ),
            Unread::Unmarked(n) => (
                format!(
                    "a PKCS#12 store with {n} certificate{} not marked trusted for Java (the JDK's \
                     trusted key usage attribute, which openssl pkcs12 -export writes only with \
                     -jdktrust)",
                    if *n == 1 { "" } else { "s" }
                ),
                LEFT_WITHOUT,
                "write the store with trust-manager (additionalFormats.pkcs12.password: \"\") or \
                 keytool -importcert",
            ),
            Unread::NoCertificate => ("a store with no certificate".into(), NO_TRUST, TRUST_MANAGER),
            Unread::Malformed(why) => (
                format!("no PKCS#12 or JKS store ({why})"),
                NO_TRUST,
                "point javaTrustStore.key at trust-manager's additionalFormats.pkcs12 key, written \
                 without a password (password: \"\")",
            ),
            Unread::Text(why) => (
                format!("text (ConfigMap data), no PKCS#12 or JKS store ({why})"),
                NO_TRUST,
                "a binary store goes in binaryData, where trust-manager writes its \
                 additionalFormats.pkcs12 target (password: \"\")",
            ),
        }
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
    pub fn left_out(&self) -> Option<&'static str> {
        match self {
            Lack::Thin { .. } => Some("the system trust store"),
            Lack::Locked { .. } => Some("the JDK's default cacerts"),
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

/// Why `source` cannot serve the pod, which `reads` from it: one problem
/// that keeps the bundle out, or those that keep it off trust store files.
/// A ClusterTrustBundle is cluster-scoped and selected by the kubelet, so
/// it is not checked.
pub fn check_source(
    cluster: &dyn Cluster,
    source: &Source,
    reads: &Reads<'_>,
    namespace: &str,
) -> Vec<Problem> {
    let (kind, name) = match source {
        Source::ConfigMap(name) => ("ConfigMap", name),
        Source::Secret(name) => ("Secret", name),
        Source::ClusterTrustBundle(_) => return Vec::new(),
    };
    let problem = |lack| Problem {
        kind,
        name: name.clone(),
        namespace: namespace.to_string(),
        lack,
    };
    let resource = match cluster.get_resource("v1", kind, namespace, name) {
        Ok(resource) => resource,
        Err(reason) => return vec![problem(Lack::Unreadable(reason))],
    };
    let has = |key: &str| {
        ["data", "binaryData"]
            .iter()
            .any(|f| resource.get(f).and_then(|d| d.get(key)).is_some())
    };
    let absent: Vec<String> = reads.keys.iter().filter(|key| !has(key)).cloned().collect();
    if !absent.is_empty() {
        return vec![problem(Lack::Keys(absent))];
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
        // The JDK opens its default cacerts with no password.
        let store = match trust_store::read(&content.bytes) {
            Ok(contents) => Unread::of(contents)?,
            Err(why) if content.text => Unread::Text(why),
            Err(why) => Unread::Malformed(why),
        };
        Some(Lack::Locked {
            key: key.to_string(),
            store,
        })
    });
    thin.into_iter().chain(locked).map(problem).collect()
}

/// A key's bytes as the kubelet writes them into the volume.
struct Content {
    bytes: Vec<u8>,
    /// From a ConfigMap's `data`: text, written as it is.
    text: bool,
}

impl Content {
    fn of(resource: &Value, kind: &str, key: &str) -> Content {
        let text = |field: &str| resource.get(field)?.get(key)?.as_str();
        match (kind, text("data")) {
            ("ConfigMap", Some(text)) => Content {
                bytes: text.as_bytes().to_vec(),
                text: true,
            },
            (_, Some(encoded)) => Content {
                bytes: base64_decode::decode(encoded),
                text: false,
            },
            (_, None) => Content {
                bytes: base64_decode::decode(text("binaryData").unwrap_or_default()),
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

    /// Any part the JDK cannot read without a password is named, encrypted
    /// parts first; a store it reads whole passes.
    #[test]
    fn a_store_passes_only_when_the_jdk_reads_it_whole() {
        let of = |trusted, unmarked, encrypted| {
            Unread::of(Contents {
                trusted,
                unmarked,
                encrypted,
            })
        };
        assert_eq!(of(2, 0, 0), None);
        assert_eq!(of(2, 1, 1), Some(Unread::Encrypted));
        assert_eq!(of(2, 1, 0), Some(Unread::Unmarked(1)));
        assert_eq!(of(0, 0, 0), Some(Unread::NoCertificate));
    }

    #[test]
    fn certificates_are_counted_by_their_begin_line() {
        let one = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates(one.as_bytes()), 1);
        assert_eq!(certificates(one.repeat(3).as_bytes()), 3);
        assert_eq!(certificates(b"-----BEGIN PRIVATE KEY-----"), 0);
    }
}
