//! Which requests the policy mutates, and where their pod template is.

use crate::request::Request;

/// What the policy does with a request it may mutate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Inject the pod template at this path from the object: empty for a
    /// Pod, which is its own template. Only on CREATE: a pod's volumes are
    /// immutable, and a workload's template is injected when it is created.
    Template(&'static [&'static str]),
    /// `kubectl debug` adding ephemeral containers to a pod: inject the new ones.
    Debug,
}

impl Route {
    /// The route of a request, `None` when the policy leaves it alone.
    pub fn of(request: &Request<'_>) -> Option<Route> {
        let path = template_path(&request.kind.group, &request.kind.kind)?;
        if is_debug(request) {
            Some(Route::Debug)
        } else if request.operation == "CREATE" {
            Some(Route::Template(path))
        } else {
            None
        }
    }

    /// Whether the object is a workload, whose pod template (not a pod) is
    /// injected.
    pub fn is_workload(self) -> bool {
        matches!(self, Route::Template(path) if !path.is_empty())
    }
}

/// The kinds the policy mutates, by API group and kind, with the path from
/// the object to its pod template (empty for a Pod, which is its own template).
pub fn template_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (group, kind) {
        ("", "Pod") => Some(&[]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// An UPDATE of a pod's `ephemeralcontainers` subresource.
fn is_debug(request: &Request<'_>) -> bool {
    request.kind.group.is_empty()
        && request.kind.kind == "Pod"
        && request.operation == "UPDATE"
        && request.sub_resource == "ephemeralcontainers"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Payload, index};

    fn route(request: &str) -> Option<Route> {
        let payload = format!(r#"{{"request": {request}}}"#);
        let index = index(payload.as_bytes()).unwrap();
        Route::of(&Payload::read(&index).unwrap().request)
    }

    /// An UPDATE of a workload's ephemeral containers is not `kubectl debug`.
    #[test]
    fn ephemeral_containers_of_a_workload_are_not_routed() {
        let other = r#"{"kind": {"group": "apps", "kind": "Deployment"}, "operation": "UPDATE", "subResource": "ephemeralcontainers"}"#;
        assert_eq!(route(other), None);
    }

    #[test]
    fn only_templates_of_workloads_are_workloads() {
        assert!(!Route::Template(&[]).is_workload());
        assert!(Route::Template(&["spec", "template"]).is_workload());
        assert!(!Route::Debug.is_workload());
    }

    /// A kind of the core group's name in another group is not a pod.
    #[test]
    fn a_pod_of_another_group_has_no_template() {
        assert_eq!(template_path("apps", "Pod"), None);
    }
}
