//! policy-runner: a host for Kubewarden policy modules that answers as `kwctl run`.
//!
//! Built on the engine crates kwctl uses (wapc, wasmtime-provider, json-patch), with
//! the request, settings and response handling of policy-evaluator mirrored in
//! [`request`], [`settings`] and [`response`]. See the README for what was checked
//! against which upstream file.

// A test host must report every failure, not die on one.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bench;
pub mod callbacks;
pub mod human;
pub mod json;
pub mod kubernetes;
pub mod metadata;
pub mod policy;
pub mod replay;
pub mod request;
pub mod response;
pub mod scaffold;
pub mod settings;

use std::io::Read;

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

use crate::{policy::Policy, request::AdmissionRequest, response::AdmissionResponse};

/// Reads and parses the request file; `-` reads standard input, as kwctl does.
pub fn read_request(path: &str) -> Result<AdmissionRequest> {
    let text = if path == "-" {
        let mut buffer = String::new();
        std::io::stdin()
            .read_to_string(&mut buffer)
            .map_err(|e| anyhow!("Error reading request from stdin: {}", e))?;
        buffer
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow!("Error opening request file {}; {}", path, e))?
    };
    request::parse_request(&text)
}

/// kwctl's evaluation: settings are validated first and, when the module refuses
/// them, the run stops with kwctl's error; otherwise `validate` answers.
pub fn evaluate(
    policy: &Policy,
    request: &AdmissionRequest,
    settings: &Map<String, Value>,
) -> Result<AdmissionResponse> {
    check_settings(policy, settings)?;
    Ok(policy.validate(request, settings))
}

/// Runs `validate_settings` and turns a refusal into kwctl's error.
pub fn check_settings(policy: &Policy, settings: &Map<String, Value>) -> Result<()> {
    let answer = policy.validate_settings(settings);
    if answer.valid {
        Ok(())
    } else {
        Err(anyhow!(
            "Provided settings are not valid: {}",
            answer.message.unwrap_or_default()
        ))
    }
}
