//! `bench` as `kwctl bench` runs it. kwctl (`command/bench.rs`) hands one closure
//! per waPC function to tiny-bench 0.4's `bench_with_configuration_labeled`; this
//! runner calls the same function of the same crate, with the same configuration,
//! on closures that do the same work ([`evaluation`], [`settings_validation`]).
//!
//! What tiny-bench does with a closure: it warms up by running it in batches of
//! 1, 2, 4, ... calls until the warm-up time has passed; the warm-up's mean call
//! time sets a step `d` so that 100 samples of d, 2d, ..., 100d calls fill the
//! measurement time (at least one call per step). Each sample is timed as a whole
//! and divided by its calls; `min`, `mean` and `max` are over those 100 sample
//! averages and `med` is their median. No call is timed on its own.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};
pub use tiny_bench::BenchmarkConfig;

use crate::{policy::Policy, request::AdmissionRequest};

/// The command line's choices; `None` keeps kwctl's default (tiny-bench's: 3 s of
/// warm-up, 5 s of measurement, 100 samples).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Seconds; kwctl takes whole seconds only, fractions are this runner's.
    pub measurement_time: Option<f64>,
    pub warm_up_time: Option<f64>,
    /// kwctl's `--num-samples` sets tiny-bench's `num_resamples` instead (a slip
    /// in `cli/bench.rs`), so kwctl always takes 100 samples. Here it is honoured.
    pub num_samples: Option<usize>,
    /// A fixed number of timed calls in one sample (tiny-bench's `max_iterations`),
    /// for counting instructions; kwctl has no such option.
    pub iterations: Option<u64>,
}

impl Options {
    /// The configuration kwctl's `create_benchmark_config` builds: tiny-bench's
    /// defaults with what was given, results not written to disk.
    pub fn config(&self) -> Result<BenchmarkConfig> {
        let mut config = BenchmarkConfig {
            dump_results_to_disk: false,
            max_iterations: self.iterations,
            ..BenchmarkConfig::default()
        };
        if let Some(seconds) = self.measurement_time {
            config.measurement_time = seconds_to_duration("measurement-time", seconds)?;
        }
        if let Some(seconds) = self.warm_up_time {
            config.warm_up_time = seconds_to_duration("warm-up-time", seconds)?;
        }
        if let Some(samples) = self.num_samples {
            if samples == 0 {
                return Err(anyhow!("'num-samples' must be at least 1"));
            }
            config.num_samples = samples;
        }
        Ok(config)
    }
}

fn seconds_to_duration(option: &str, seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds)
        .map_err(|e| anyhow!("Cannot convert '{option}' to seconds: {e}"))
}

/// One call of kwctl's timed `validate` closure: `Evaluator::evaluate` clones the
/// request, policy-evaluator builds the payload, calls the module and turns its
/// answer into an AdmissionResponse (patch included), which is then dropped.
/// Not inlined, so that an instruction counter can be told to count only this.
#[inline(never)]
pub fn evaluation(policy: &Policy, request: &AdmissionRequest, settings: &Map<String, Value>) {
    let request = request.clone();
    let response = policy.validate(&request, settings);
    drop(response);
}

/// One call of kwctl's timed `validate_settings` closure.
#[inline(never)]
pub fn settings_validation(policy: &Policy, settings: &Map<String, Value>) {
    let response = policy.validate_settings(settings);
    drop(response);
}

/// Benchmarks `validate_settings` then `validate`, printing tiny-bench's report
/// of each on stdout, as kwctl does.
pub fn run(
    config: &BenchmarkConfig,
    policy: &Policy,
    request: &AdmissionRequest,
    settings: &Map<String, Value>,
) {
    tiny_bench::bench_with_configuration_labeled("validate_settings", config, || {
        settings_validation(policy, settings)
    });
    tiny_bench::bench_with_configuration_labeled("validate", config, || {
        evaluation(policy, request, settings)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kwctls() {
        let config = Options::default().config().unwrap();
        assert_eq!(config.measurement_time, Duration::from_secs(5));
        assert_eq!(config.warm_up_time, Duration::from_secs(3));
        assert_eq!(config.num_samples, 100);
        assert_eq!(config.max_iterations, None);
        assert!(!config.dump_results_to_disk);
    }

    #[test]
    fn options_set_the_configuration() {
        let config = Options {
            measurement_time: Some(0.5),
            warm_up_time: Some(0.0),
            num_samples: Some(10),
            iterations: Some(7),
        }
        .config()
        .unwrap();
        assert_eq!(config.measurement_time, Duration::from_millis(500));
        assert_eq!(config.warm_up_time, Duration::ZERO);
        assert_eq!(config.num_samples, 10);
        assert_eq!(config.max_iterations, Some(7));
    }

    #[test]
    fn a_negative_time_is_refused_with_the_option_named() {
        let err = Options {
            warm_up_time: Some(-1.0),
            ..Options::default()
        }
        .config()
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "Cannot convert 'warm-up-time' to seconds: cannot convert float seconds to Duration: value is negative"
        );
    }

    #[test]
    fn no_sample_is_refused() {
        let err = Options {
            num_samples: Some(0),
            ..Options::default()
        }
        .config()
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "'num-samples' must be at least 1");
    }
}
