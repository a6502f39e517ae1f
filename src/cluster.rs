//! `sourceCheck`: ask the cluster, through Kubewarden's `kubernetes` host
//! capability, whether the bundle a pod is about to mount exists in its
//! namespace, so that a missing one is reported at admission instead of as a
//! pod stuck in ContainerCreating.

use serde_json::{Value, json};

use crate::source::Source;

/// Why the source cannot serve the pod.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Missing {
    #[error(
        "{kind} {name:?} could not be read in namespace {namespace:?}{}",
        if .reason.is_empty() { String::new() } else { format!(": {reason}") }
    )]
    Unreadable {
        kind: &'static str,
        name: String,
        namespace: String,
        reason: String,
    },
    #[error(
        "{kind} {name:?} in namespace {namespace:?} has no key {}",
        .keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(" nor ")
    )]
    LacksKeys {
        kind: &'static str,
        name: String,
        namespace: String,
        keys: Vec<String>,
    },
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

/// Why `source` cannot serve the pod, which reads `keys` from it, if it
/// cannot. A ClusterTrustBundle is cluster-scoped and selected by the
/// kubelet, so it is not checked.
pub fn missing_source(
    cluster: &dyn Cluster,
    source: &Source,
    keys: &[String],
    namespace: &str,
) -> Option<Missing> {
    let (kind, name) = match source {
        Source::ConfigMap(name) => ("ConfigMap", name),
        Source::Secret(name) => ("Secret", name),
        Source::ClusterTrustBundle(_) => return None,
    };
    let resource = match cluster.get_resource("v1", kind, namespace, name) {
        Ok(resource) => resource,
        Err(reason) => {
            return Some(Missing::Unreadable {
                kind,
                name: name.clone(),
                namespace: namespace.to_string(),
                reason,
            });
        }
    };
    let has = |key: &str| {
        ["data", "binaryData"]
            .iter()
            .any(|field| resource.get(*field).and_then(|d| d.get(key)).is_some())
    };
    let absent: Vec<String> = keys.iter().filter(|key| !has(key)).cloned().collect();
    if absent.is_empty() {
        return None;
    }
    Some(Missing::LacksKeys {
        kind,
        name: name.clone(),
        namespace: namespace.to_string(),
        keys: absent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_are_joined_with_nor() {
        let lacks = |keys: &[&str]| Missing::LacksKeys {
            kind: "ConfigMap",
            name: "ca".into(),
            namespace: "team-a".into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        };
        assert_eq!(
            lacks(&["ca.crt", "truststore.p12"]).to_string(),
            "ConfigMap \"ca\" in namespace \"team-a\" has no key \"ca.crt\" nor \"truststore.p12\""
        );
    }
}
