//! `kubewarden/kubernetes/*`: the Kubernetes host capability, answered as kwctl
//! answers it, with no cluster: `get_resource` from a recorded session.

use std::{collections::BTreeSet, sync::Arc};

use serde::Deserialize;

use crate::{
    callbacks::{Capability, CapabilityResult},
    replay::{CallbackRequest, Replay},
};

/// A Kubernetes resource type a policy may read (`apiVersion`, `kind`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    pub api_version: String,
    pub kind: String,
}

/// The `get_resource` payload, as the policy SDK's `GetResourceRequest`.
#[derive(Debug, Deserialize)]
struct GetResourceRequest {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    disable_cache: bool,
    field_masks: Option<BTreeSet<String>>,
}

impl From<GetResourceRequest> for CallbackRequest {
    fn from(req: GetResourceRequest) -> Self {
        CallbackRequest::KubernetesGetResource {
            api_version: req.api_version,
            kind: req.kind,
            name: req.name,
            namespace: req.namespace,
            disable_cache: req.disable_cache,
            field_masks: req.field_masks,
        }
    }
}

/// The `kubernetes` namespace of host capabilities.
pub struct Kubernetes {
    /// Resource types the policy was granted (`--allow-context-aware`).
    allowed: BTreeSet<ContextAwareResource>,
    /// The recorded session, when one was given.
    replay: Option<Arc<Replay>>,
}

impl Kubernetes {
    pub fn new(allowed: BTreeSet<ContextAwareResource>, replay: Option<Arc<Replay>>) -> Self {
        Self { allowed, replay }
    }

    fn get_resource(&self, payload: &[u8]) -> CapabilityResult {
        let req: GetResourceRequest = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        let wanted = ContextAwareResource {
            api_version: req.api_version.clone(),
            kind: req.kind.clone(),
        };
        if !self.allowed.contains(&wanted) {
            return Err(format!(
                "Policy has not been granted access to Kubernetes {}/{} resources. The violation has been reported.",
                req.api_version, req.kind
            ));
        }
        let Some(replay) = &self.replay else {
            return Err(
                "policy-runner answers 'kubernetes/get_resource' only from a recorded session \
                 (--replay-host-capabilities-interactions): it contacts no cluster"
                    .to_owned(),
            );
        };
        replay
            .answer(&req.into())
            .map_err(|e| format!("Callback evaluation failure: {e}"))
    }
}

impl Capability for Kubernetes {
    fn call(&self, operation: &str, payload: &[u8]) -> CapabilityResult {
        match operation {
            "get_resource" => self.get_resource(payload),
            "list_resources_by_namespace" | "list_resources_all" | "can_i" => Err(format!(
                "policy-runner does not answer the 'kubernetes/{operation}' host capability: \
                 of the kubernetes ones it only answers get_resource, from a recorded session"
            )),
            _ => Err(format!("unknown operation: {operation}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{Exchange, RecordedResponse};

    const PAYLOAD: &[u8] = br#"{"api_version":"v1","kind":"ConfigMap","name":"ca-bundle","namespace":"default","disable_cache":false}"#;

    fn config_maps() -> BTreeSet<ContextAwareResource> {
        BTreeSet::from([ContextAwareResource {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
        }])
    }

    fn recorded(response: RecordedResponse) -> Option<Arc<Replay>> {
        Some(Arc::new(Replay::new(vec![Exchange {
            request: CallbackRequest::KubernetesGetResource {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: "ca-bundle".into(),
                namespace: Some("default".into()),
                disable_cache: false,
                field_masks: None,
            },
            response,
        }])))
    }

    #[test]
    fn a_recorded_resource_is_answered_byte_for_byte() {
        let k8s = Kubernetes::new(
            config_maps(),
            recorded(RecordedResponse::Success {
                payload: r#"{"kind":"ConfigMap"}"#.into(),
            }),
        );
        assert_eq!(
            k8s.call("get_resource", PAYLOAD),
            Ok(br#"{"kind":"ConfigMap"}"#.to_vec())
        );
    }

    #[test]
    fn a_recorded_error_reaches_the_policy_as_policy_evaluator_wraps_it() {
        let k8s = Kubernetes::new(
            config_maps(),
            recorded(RecordedResponse::Error {
                message: "Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'".into(),
            }),
        );
        assert_eq!(
            k8s.call("get_resource", PAYLOAD),
            Err("Callback evaluation failure: Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'".into())
        );
        assert_eq!(
            k8s.call("get_resource", PAYLOAD),
            Err("Callback evaluation failure: the list of recorded responses is empty".into())
        );
    }

    #[test]
    fn a_resource_type_not_granted_is_refused_before_the_session_is_read() {
        let replay = recorded(RecordedResponse::Success {
            payload: "{}".into(),
        });
        let k8s = Kubernetes::new(BTreeSet::new(), replay.clone());
        assert_eq!(
            k8s.call("get_resource", PAYLOAD),
            Err("Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported.".into())
        );
        assert_eq!(replay.map(|r| r.leftovers()), Some(1));
    }

    #[test]
    fn an_unreadable_payload_is_refused_with_serde_s_message() {
        let k8s = Kubernetes::new(config_maps(), None);
        assert_eq!(
            k8s.call("get_resource", br#"{"api_version":"v1"}"#),
            Err("missing field `kind` at line 1 column 20".into())
        );
    }

    #[test]
    fn without_a_session_get_resource_is_refused_by_name() {
        let k8s = Kubernetes::new(config_maps(), None);
        assert_eq!(
            k8s.call("get_resource", PAYLOAD),
            Err("policy-runner answers 'kubernetes/get_resource' only from a recorded session (--replay-host-capabilities-interactions): it contacts no cluster".into())
        );
    }

    #[test]
    fn other_operations_are_refused() {
        let k8s = Kubernetes::new(config_maps(), None);
        assert_eq!(
            k8s.call("can_i", b"{}"),
            Err("policy-runner does not answer the 'kubernetes/can_i' host capability: of the kubernetes ones it only answers get_resource, from a recorded session".into())
        );
        assert_eq!(
            k8s.call("delete", b"{}"),
            Err("unknown operation: delete".into())
        );
    }
}
