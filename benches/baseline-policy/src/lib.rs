//! A Kubewarden policy that does the least a mutating policy can: decode the
//! request with the SDK and hand the object back unchanged. cainjector's
//! benchmarks report their cost as a ratio to this one. It takes no settings,
//! so it does not build them: decoding them as a `serde_json::Value` would add
//! about 2% to its own work.

use kubewarden_policy_sdk::request::ValidationRequest;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::CallResult;
use serde::Deserialize;

#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    use kubewarden_policy_sdk::wapc_guest::register_function;
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// Settings skipped unread.
#[derive(Deserialize, Default)]
pub struct NoSettings {}

pub fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<NoSettings>::new(payload)?;
    kubewarden_policy_sdk::mutate_request(request.request.object)
}

pub fn validate_settings(_payload: &[u8]) -> CallResult {
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: true,
        message: None,
    })?)
}
