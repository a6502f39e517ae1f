//! A policy module instantiated under waPC, called the way policy-evaluator calls it.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde_json::{Map, Value};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, wasmtime};

use crate::{
    callbacks::HostCallbacks,
    request::{AdmissionRequest, request_value, settings_payload, validate_payload},
    response::{AdmissionResponse, SettingsValidationResponse, ValidationResponse},
};

/// How the engine is set up.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// Cache compiled modules on disk, as kwctl does unless `--disable-wasmtime-cache`.
    pub wasmtime_cache: bool,
    /// Report engine set-up problems that do not stop the run (e.g. no cache).
    pub verbose: bool,
    /// Write /tmp/perf-PID.map, naming the module's compiled functions for perf
    /// and for profiles read with it (not something kwctl does).
    pub perf_map: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            wasmtime_cache: true,
            verbose: false,
            perf_map: false,
        }
    }
}

/// One instance of a policy module. `validate_settings` and `validate` run in the
/// same instance, one after the other, as in kwctl.
pub struct Policy {
    host: WapcHost,
}

impl Policy {
    /// Loads and instantiates the module at `path`.
    pub fn load(path: &Path, callbacks: HostCallbacks, options: EngineOptions) -> Result<Self> {
        // Read here rather than by wasmtime, whose error leaves out the I/O cause.
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow!("cannot read policy module {}: {e}", path.display()))?;
        let engine = engine(options)?;
        let module = wasmtime::Module::new(&engine, bytes)
            .map_err(|e| anyhow!("cannot load policy module {}: {e:#}", path.display()))?;
        Self::instantiate(engine, module, callbacks)
    }

    /// Instantiates a module given as wasm bytes or WAT text.
    pub fn from_bytes(
        bytes: &[u8],
        callbacks: HostCallbacks,
        options: EngineOptions,
    ) -> Result<Self> {
        let engine = engine(options)?;
        let module = wasmtime::Module::new(&engine, bytes)
            .map_err(|e| anyhow!("cannot compile policy module: {e:#}"))?;
        Self::instantiate(engine, module, callbacks)
    }

    fn instantiate(
        engine: wasmtime::Engine,
        module: wasmtime::Module,
        callbacks: HostCallbacks,
    ) -> Result<Self> {
        // No WASI parameters: policy-evaluator gives the module none either (no
        // arguments, no environment, no directories; stdio inherited).
        let provider = WasmtimeEngineProviderBuilder::new()
            .engine(engine)
            .module(module)
            .build()
            .context("cannot prepare the policy module")?;
        let host = WapcHost::new(Box::new(provider), Some(callbacks.into_wapc_callback()))
            .context("cannot start the policy module")?;
        Ok(Self { host })
    }

    /// Calls the guest function `operation` with `payload` as it is and returns
    /// its answer's bytes (for comparing two builds of a module answer for answer).
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
        self.host
            .call(operation, payload)
            .map_err(|e| anyhow!("{operation}: {e}"))
    }

    /// Calls `validate_settings`. Failures become an invalid answer whose message
    /// is worded as policy-evaluator words it.
    pub fn validate_settings(&self, settings: &Map<String, Value>) -> SettingsValidationResponse {
        let payload = match settings_payload(settings) {
            Ok(payload) => payload,
            Err(e) => {
                return SettingsValidationResponse {
                    valid: false,
                    message: Some(format!("could not marshal settings: {e}")),
                };
            }
        };
        match self.host.call("validate_settings", payload.as_bytes()) {
            Ok(answer) => serde_json::from_slice(&answer).unwrap_or_else(|e| {
                SettingsValidationResponse {
                    valid: false,
                    // Upstream prints its error enum with `{:?}`.
                    message: Some(format!("error: InvalidResponseWithError({e:?})")),
                }
            }),
            Err(e) => SettingsValidationResponse {
                valid: false,
                message: Some(format!(
                    "Error invoking settings validation callback: {e:?}"
                )),
            },
        }
    }

    /// Calls `validate` and builds the AdmissionResponse, step for step as
    /// policy-evaluator's waPC `Runtime::validate` does (the request turned into a
    /// JSON value for the diff, then again with the settings for the payload; the
    /// answer decoded, its object cloned and diffed). A trap, a guest error or an
    /// unreadable answer gives a code 500 rejection, as in kwctl.
    pub fn validate(
        &self,
        request: &AdmissionRequest,
        settings: &Map<String, Value>,
    ) -> AdmissionResponse {
        let uid = request.uid.as_str();
        let request_value = match request_value(request) {
            Ok(value) => value,
            Err(e) => {
                return AdmissionResponse::internal_server_error(uid.to_owned(), e.to_string());
            }
        };
        // Absent for DELETE.
        let original_object = request_value.get("object");
        let payload = match validate_payload(request, settings) {
            Ok(payload) => payload,
            Err(e) => {
                return AdmissionResponse::internal_server_error(uid.to_owned(), e.to_string());
            }
        };
        let answer = match self.host.call("validate", payload.as_bytes()) {
            Ok(answer) => answer,
            Err(e) => {
                return AdmissionResponse::internal_server_error(uid.to_owned(), e.to_string());
            }
        };
        let answer: ValidationResponse = match serde_json::from_slice(&answer) {
            Ok(answer) => answer,
            Err(e) => {
                return AdmissionResponse::internal_server_error(
                    uid.to_owned(),
                    format!("invalid response from policy: {e}"),
                );
            }
        };
        AdmissionResponse::from_validation_response(uid.to_owned(), original_object, &answer)
            .unwrap_or_else(|e| {
                AdmissionResponse::internal_server_error(
                    uid.to_owned(),
                    format!("invalid response format: {e}"),
                )
            })
    }
}

/// The engine configuration policy-evaluator builds for kwctl.
fn engine(options: EngineOptions) -> Result<wasmtime::Engine> {
    let mut config = wasmtime::Config::new();
    if options.wasmtime_cache {
        // kwctl fails when the cache cannot be set up; a test host is better off
        // compiling without it.
        match wasmtime::Cache::new(wasmtime::CacheConfig::new()) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(e) if options.verbose => eprintln!("wasmtime cache disabled: {e}"),
            Err(_) => {}
        }
    }
    // Required by modules built by Go >= 1.26; policy-evaluator always enables it.
    config.wasm_function_references(true);
    if options.perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    wasmtime::Engine::new(&config).map_err(|e| anyhow!("cannot build the wasmtime engine: {e:#}"))
}
