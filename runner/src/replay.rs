//! Recorded host-capability sessions, read and answered as kwctl's replay proxy
//! (`--replay-host-capabilities-interactions`) does.
//!
//! A session file is a YAML list of exchanges, each a recorded request and the
//! host's answer:
//!
//! ```yaml
//! - type: Exchange
//!   request: |
//!     !KubernetesGetResource
//!     api_version: v1
//!     kind: ConfigMap
//!     name: ca-bundle
//!     namespace: default
//!     disable_cache: false
//!     field_masks: null
//!   response:
//!     type: Success
//!     payload: '{"apiVersion":"v1","kind":"ConfigMap",...}'
//! ```
//!
//! `request` is itself a YAML document (a string) holding the request as
//! policy-evaluator's `CallbackRequestType` serialises it; a failed lookup is
//! recorded as `response: {type: Error, message: ...}`. Exchanges are answered in
//! order, one per host call, whatever the call: the next one is taken off the
//! list and must be that very request.

use std::{
    collections::{BTreeSet, VecDeque},
    fmt,
    path::Path,
    sync::Mutex,
};

use anyhow::{Result, anyhow};
use serde::Deserialize;

/// The host's recorded answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub enum RecordedResponse {
    /// The payload handed back to the module, byte for byte.
    Success { payload: String },
    /// The error the host reported.
    Error { message: String },
}

/// One exchange as written in the file. kwctl writes `type: Exchange` on each;
/// when reading, serde ignores it, so it may be left out.
#[derive(Debug, Deserialize)]
struct RecordedExchange {
    request: String,
    response: RecordedResponse,
}

/// A host request, as policy-evaluator's `CallbackRequestType` names and compares
/// it. Only the Kubernetes `get_resource` request is modelled field by field (the
/// runner answers no other); the other kinds are read so that a session holding
/// them loads, and compare as their YAML contents.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum CallbackRequest {
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<BTreeSet<String>>,
    },
    OciManifestDigest(yaml_serde::Value),
    OciManifest(yaml_serde::Value),
    OciManifestAndConfig(yaml_serde::Value),
    SigstorePubKeyVerify(yaml_serde::Value),
    SigstoreKeylessVerify(yaml_serde::Value),
    SigstoreKeylessPrefixVerify(yaml_serde::Value),
    SigstoreGithubActionsVerify(yaml_serde::Value),
    SigstoreCertificateVerify(yaml_serde::Value),
    DNSLookupHost(yaml_serde::Value),
    KubernetesListResourceNamespace(yaml_serde::Value),
    KubernetesListResourceAll(yaml_serde::Value),
    KubernetesGetResourcePluralName(yaml_serde::Value),
    HasKubernetesListResourceAllResultChangedSinceInstant(yaml_serde::Value),
    KubernetesCanI(yaml_serde::Value),
    CryptoIsCertificateTrusted(yaml_serde::Value),
}

/// One exchange, its request read.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub request: CallbackRequest,
    pub response: RecordedResponse,
}

/// Why a request got no recorded answer, worded as kwctl's replay proxy words it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayError {
    /// The recorded host error.
    Recorded(String),
    /// Every exchange has been used.
    Exhausted,
    /// The next exchange is for another request (it is used up all the same).
    Unexpected {
        expected: Box<CallbackRequest>,
        got: Box<CallbackRequest>,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Recorded(message) => f.write_str(message),
            Self::Exhausted => f.write_str("the list of recorded responses is empty"),
            Self::Unexpected { expected, got } => write!(
                f,
                "Replay error: unexpected request. Was expecting {expected:?}, got {got:?} instead"
            ),
        }
    }
}

/// Parses a session file's text. Every recorded request is read here, so a bad
/// one is reported before the module runs.
pub fn parse_session(text: &str) -> Result<Vec<Exchange>> {
    let recorded: Vec<RecordedExchange> = yaml_serde::from_str(text)?;
    recorded
        .into_iter()
        .enumerate()
        .map(|(index, exchange)| {
            let request = yaml_serde::from_str(&exchange.request).map_err(|e| {
                anyhow!(
                    "exchange {} (counting from 1): cannot deserialize recorded request into `CallbackRequestType`: {e}",
                    index + 1
                )
            })?;
            Ok(Exchange {
                request,
                response: exchange.response,
            })
        })
        .collect()
}

/// The exchanges still to be replayed, shared by every host call of the run.
#[derive(Debug)]
pub struct Replay {
    exchanges: Mutex<VecDeque<Exchange>>,
}

impl Replay {
    pub fn new(exchanges: Vec<Exchange>) -> Self {
        Self {
            exchanges: Mutex::new(exchanges.into()),
        }
    }

    /// Reads a session file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow!("Cannot open host capabilities interactions file {path:?}: {e}")
        })?;
        let exchanges = parse_session(&text)
            .map_err(|e| anyhow!("cannot deserialize contents of {path:?}: {e}"))?;
        Ok(Self::new(exchanges))
    }

    /// Answers `request` with the next exchange, which is used up whatever the
    /// outcome.
    pub fn answer(&self, request: &CallbackRequest) -> Result<Vec<u8>, ReplayError> {
        // A poisoned lock only means another call panicked; the list is still whole.
        let mut exchanges = self
            .exchanges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let exchange = exchanges.pop_front().ok_or(ReplayError::Exhausted)?;
        if exchange.request != *request {
            return Err(ReplayError::Unexpected {
                expected: Box::new(exchange.request),
                got: Box::new(request.clone()),
            });
        }
        match exchange.response {
            RecordedResponse::Success { payload } => Ok(payload.into_bytes()),
            RecordedResponse::Error { message } => Err(ReplayError::Recorded(message)),
        }
    }

    /// How many exchanges have not been replayed.
    pub fn leftovers(&self) -> usize {
        self.exchanges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_resource(kind: &str, name: &str, namespace: Option<&str>) -> CallbackRequest {
        CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            disable_cache: false,
            field_masks: None,
        }
    }

    const FOUND: &str = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: ConfigMap
    name: ca-bundle
    namespace: default
    disable_cache: false
    field_masks: null
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"ConfigMap","data":{"ca.crt":"pem"}}'
"#;

    #[test]
    fn a_recorded_success_is_read_as_kwctl_writes_it() {
        assert_eq!(
            parse_session(FOUND).unwrap(),
            vec![Exchange {
                request: get_resource("ConfigMap", "ca-bundle", Some("default")),
                response: RecordedResponse::Success {
                    payload: r#"{"apiVersion":"v1","kind":"ConfigMap","data":{"ca.crt":"pem"}}"#
                        .into()
                },
            }]
        );
    }

    #[test]
    fn a_recorded_error_and_older_recordings_without_field_masks_are_read() {
        // As kwctl's own test session context-aware-demo-namespace-not-found.yml.
        let text = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: test-policy
    namespace: null
    disable_cache: false
  response:
    type: Error
    message: Cannot find v1/Namespace named 'test-policy' inside of namespace 'None'
"#;
        assert_eq!(
            parse_session(text).unwrap(),
            vec![Exchange {
                request: get_resource("Namespace", "test-policy", None),
                response: RecordedResponse::Error {
                    message:
                        "Cannot find v1/Namespace named 'test-policy' inside of namespace 'None'"
                            .into()
                },
            }]
        );
    }

    #[test]
    fn field_masks_are_read_and_only_the_tagged_form_names_the_request() {
        let text = r#"- request: |
    !KubernetesGetResource
    api_version: v1
    kind: Secret
    name: s
    namespace: ns
    disable_cache: true
    field_masks: [data, metadata.name]
  response: {type: Success, payload: "{}"}
"#;
        // yaml_serde, which kwctl reads sessions with, takes an enum only as a tag.
        let map_form = "- request: |\n    KubernetesGetResource: {}\n  response: {type: Success, payload: ''}\n";
        assert_eq!(
            parse_session(map_form).unwrap_err().to_string(),
            "exchange 1 (counting from 1): cannot deserialize recorded request into `CallbackRequestType`: invalid type: map, expected a YAML tag starting with '!'"
        );
        assert_eq!(
            parse_session(text).unwrap()[0].request,
            CallbackRequest::KubernetesGetResource {
                api_version: "v1".into(),
                kind: "Secret".into(),
                name: "s".into(),
                namespace: Some("ns".into()),
                disable_cache: true,
                field_masks: Some(BTreeSet::from(["data".into(), "metadata.name".into()])),
            }
        );
    }

    #[test]
    fn other_request_kinds_load() {
        let text = r#"- type: Exchange
  request: |
    !OciManifestDigest
    image: busybox
  response:
    type: Success
    payload: '"sha256:0"'
"#;
        let exchanges = parse_session(text).unwrap();
        assert!(matches!(
            exchanges[0].request,
            CallbackRequest::OciManifestDigest(_)
        ));
    }

    #[test]
    fn a_request_that_is_no_callback_request_is_refused_by_exchange() {
        let text = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: ConfigMap
  response: {type: Success, payload: ""}
"#;
        let err = parse_session(text).unwrap_err().to_string();
        assert!(
            err.starts_with("exchange 1 (counting from 1): cannot deserialize recorded request into `CallbackRequestType`: missing field `name`"),
            "{err}"
        );
        let text = "- request: '!NoSuchRequest {}'\n  response: {type: Success, payload: ''}\n";
        let err = parse_session(text).unwrap_err().to_string();
        assert!(err.contains("unknown variant `NoSuchRequest`"), "{err}");
    }

    #[test]
    fn a_response_needs_its_type() {
        let text = "- request: x\n  response: {payload: ''}\n";
        assert_eq!(
            parse_session(text).unwrap_err().to_string(),
            ".[0].response: missing field `type` at line 2 column 13"
        );
    }

    #[test]
    fn exchanges_answer_in_order_then_the_list_is_empty() {
        let replay = Replay::new(vec![
            Exchange {
                request: get_resource("ConfigMap", "a", Some("ns")),
                response: RecordedResponse::Success {
                    payload: "{}".into(),
                },
            },
            Exchange {
                request: get_resource("ConfigMap", "a", Some("ns")),
                response: RecordedResponse::Error {
                    message: "gone".into(),
                },
            },
        ]);
        let request = get_resource("ConfigMap", "a", Some("ns"));
        assert_eq!(replay.answer(&request), Ok(b"{}".to_vec()));
        assert_eq!(
            replay.answer(&request),
            Err(ReplayError::Recorded("gone".into()))
        );
        assert_eq!(replay.answer(&request), Err(ReplayError::Exhausted));
        assert_eq!(
            ReplayError::Exhausted.to_string(),
            "the list of recorded responses is empty"
        );
        assert_eq!(replay.leftovers(), 0);
    }

    #[test]
    fn every_field_must_match_and_a_mismatch_uses_the_exchange_up() {
        let recorded = get_resource("ConfigMap", "ca-bundle", Some("default"));
        let mut asked = recorded.clone();
        if let CallbackRequest::KubernetesGetResource { disable_cache, .. } = &mut asked {
            *disable_cache = true;
        }
        let replay = Replay::new(vec![
            Exchange {
                request: recorded.clone(),
                response: RecordedResponse::Success {
                    payload: "{}".into(),
                },
            },
            Exchange {
                request: recorded,
                response: RecordedResponse::Success {
                    payload: "{}".into(),
                },
            },
        ]);
        let err = replay.answer(&asked).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Replay error: unexpected request. Was expecting KubernetesGetResource { api_version: \"v1\", kind: \"ConfigMap\", name: \"ca-bundle\", namespace: Some(\"default\"), disable_cache: false, field_masks: None }, got KubernetesGetResource { api_version: \"v1\", kind: \"ConfigMap\", name: \"ca-bundle\", namespace: Some(\"default\"), disable_cache: true, field_masks: None } instead"
        );
        assert_eq!(replay.leftovers(), 1);
        assert_eq!(
            replay.answer(&get_resource("ConfigMap", "ca-bundle", None)),
            Err(ReplayError::Unexpected {
                expected: Box::new(get_resource("ConfigMap", "ca-bundle", Some("default"))),
                got: Box::new(get_resource("ConfigMap", "ca-bundle", None)),
            })
        );
    }
}
