//! Answers to the module's waPC host calls (binding / namespace / operation).
//!
//! Kubewarden policies call the host with binding `kubewarden` and a namespace per
//! capability (`tracing`, `kubernetes`, `oci`, `net`, `crypto`). Each namespace the
//! runner can answer is a [`Capability`] registered in [`HostCallbacks`]: `tracing`
//! always, `kubernetes` by the command line (see [`crate::kubernetes`]).

use std::{collections::BTreeMap, error::Error};

/// What a capability answers: the reply payload, or an error message that the
/// module receives through waPC's host error.
pub type CapabilityResult = Result<Vec<u8>, String>;

/// One namespace of host capabilities.
pub trait Capability: Send + Sync {
    fn call(&self, operation: &str, payload: &[u8]) -> CapabilityResult;
}

/// Binding under which Kubewarden policies make every host call.
pub const KUBEWARDEN_BINDING: &str = "kubewarden";

/// Namespaces kwctl knows but this runner does not answer (unless registered).
const KNOWN_NAMESPACES: &[&str] = &["kubernetes", "oci", "net", "crypto"];

/// The host-call dispatcher handed to waPC.
pub struct HostCallbacks {
    namespaces: BTreeMap<String, Box<dyn Capability>>,
    verbose: bool,
}

impl HostCallbacks {
    /// Dispatcher answering `kubewarden/tracing/log`; policy log lines go to
    /// stderr only when `verbose`.
    pub fn new(verbose: bool) -> Self {
        let mut callbacks = Self {
            namespaces: BTreeMap::new(),
            verbose,
        };
        callbacks.register("tracing", Tracing { verbose });
        callbacks
    }

    /// Answers `namespace` with `capability` from now on.
    pub fn register(&mut self, namespace: &str, capability: impl Capability + 'static) {
        self.namespaces
            .insert(namespace.to_owned(), Box::new(capability));
    }

    /// Answers one host call. Errors use kwctl's wording where kwctl has one.
    pub fn dispatch(
        &self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> CapabilityResult {
        let result = if binding != KUBEWARDEN_BINDING {
            Err(format!("unknown binding: {binding}"))
        } else if let Some(capability) = self.namespaces.get(namespace) {
            capability.call(operation, payload)
        } else if KNOWN_NAMESPACES.contains(&namespace) {
            Err(format!(
                "policy-runner does not answer the '{namespace}/{operation}' host capability: \
                 it answers kubewarden/tracing/log and, from a recorded session, \
                 kubewarden/kubernetes/get_resource"
            ))
        } else {
            Err(format!("unknown namespace: {namespace}"))
        };
        if self.verbose
            && let Err(message) = &result
        {
            eprintln!("host call {binding}/{namespace}/{operation} refused: {message}");
        }
        result
    }

    /// The closure waPC calls; its error type is waPC's.
    pub fn into_wapc_callback(self) -> Box<wapc::HostCallback> {
        Box::new(
            move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
                self.dispatch(binding, namespace, operation, payload)
                    .map_err(|message| -> Box<dyn Error + Send + Sync> { message.into() })
            },
        )
    }
}

/// `kubewarden/tracing/log`: the policy's log lines. Always succeeds, as in kwctl,
/// even when the line cannot be read.
struct Tracing {
    verbose: bool,
}

impl Capability for Tracing {
    fn call(&self, operation: &str, payload: &[u8]) -> CapabilityResult {
        match operation {
            "log" => {
                if self.verbose {
                    eprintln!("policy log: {}", String::from_utf8_lossy(payload));
                }
                Ok(Vec::new())
            }
            _ => Err(format!("unknown operation: {operation}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl Capability for Echo {
        fn call(&self, operation: &str, payload: &[u8]) -> CapabilityResult {
            Ok([operation.as_bytes(), payload].concat())
        }
    }

    #[test]
    fn tracing_log_succeeds_with_an_empty_answer() {
        let callbacks = HostCallbacks::new(false);
        assert_eq!(
            callbacks.dispatch("kubewarden", "tracing", "log", br#"{"level":"info"}"#),
            Ok(Vec::new())
        );
    }

    #[test]
    fn other_tracing_operations_are_unknown() {
        let callbacks = HostCallbacks::new(false);
        assert_eq!(
            callbacks.dispatch("kubewarden", "tracing", "span", b""),
            Err("unknown operation: span".to_owned())
        );
    }

    #[test]
    fn another_binding_is_refused() {
        let callbacks = HostCallbacks::new(false);
        assert_eq!(
            callbacks.dispatch("other", "tracing", "log", b""),
            Err("unknown binding: other".to_owned())
        );
    }

    #[test]
    fn unanswered_capabilities_are_refused_by_name() {
        let callbacks = HostCallbacks::new(false);
        assert_eq!(
            callbacks.dispatch("kubewarden", "oci", "v1/manifest_digest", b"{}"),
            Err("policy-runner does not answer the 'oci/v1/manifest_digest' host capability: it answers kubewarden/tracing/log and, from a recorded session, kubewarden/kubernetes/get_resource".to_owned())
        );
        assert_eq!(
            callbacks.dispatch("kubewarden", "nosuch", "op", b""),
            Err("unknown namespace: nosuch".to_owned())
        );
    }

    #[test]
    fn a_registered_namespace_is_answered() {
        let mut callbacks = HostCallbacks::new(false);
        callbacks.register("kubernetes", Echo);
        assert_eq!(
            callbacks.dispatch("kubewarden", "kubernetes", "get_resource", b"!"),
            Ok(b"get_resource!".to_vec())
        );
    }
}
