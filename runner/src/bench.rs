//! Timing of repeated calls, printed in the spirit of `kwctl bench` (tiny-bench).

use std::{
    fmt,
    time::{Duration, Instant},
};

/// Summary of the timed calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub iterations: usize,
    pub total: Duration,
    pub min: Duration,
    pub median: Duration,
    pub mean: Duration,
    pub max: Duration,
}

impl Stats {
    /// `None` when there is no sample.
    pub fn from_samples(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        let iterations = samples.len();
        let min = *samples.first()?;
        let max = *samples.last()?;
        let middle = iterations / 2;
        let median = if iterations % 2 == 1 {
            *samples.get(middle)?
        } else {
            (*samples.get(middle - 1)? + *samples.get(middle)?) / 2
        };
        let total: Duration = samples.iter().sum();
        let mean = total.div_f64(iterations as f64);
        Some(Self {
            iterations,
            total,
            min,
            median,
            mean,
            max,
        })
    }
}

/// Runs `call` `warmup` times untimed, then `iterations` times timed one by one.
pub fn measure<T>(warmup: u32, iterations: u32, mut call: impl FnMut() -> T) -> Option<Stats> {
    for _ in 0..warmup {
        std::hint::black_box(call());
    }
    let samples = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(call());
            start.elapsed()
        })
        .collect();
    Stats::from_samples(samples)
}

/// One benchmark's report.
pub struct Report<'a> {
    pub label: &'a str,
    pub warmup: u32,
    pub stats: &'a Stats,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        writeln!(
            f,
            "{} [{} iterations in {:.3} ms after {} warm-up]:",
            self.label,
            s.iterations,
            s.total.as_secs_f64() * 1e3,
            self.warmup
        )?;
        write!(
            f,
            "\telapsed\t[min median mean max]:\t[{} {} {} {}]",
            Micros(s.min),
            Micros(s.median),
            Micros(s.mean),
            Micros(s.max)
        )
    }
}

struct Micros(Duration);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} µs", self.0.as_secs_f64() * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn stats_of_an_odd_number_of_samples() {
        let stats = Stats::from_samples(vec![us(30), us(10), us(20)]).unwrap();
        assert_eq!(
            stats,
            Stats {
                iterations: 3,
                total: us(60),
                min: us(10),
                median: us(20),
                mean: us(20),
                max: us(30),
            }
        );
    }

    #[test]
    fn median_of_an_even_number_of_samples_is_the_middle_mean() {
        let stats = Stats::from_samples(vec![us(40), us(10), us(20), us(30)]).unwrap();
        assert_eq!(stats.median, us(25));
        assert_eq!(stats.mean, us(25));
    }

    #[test]
    fn no_sample_no_stats() {
        assert_eq!(Stats::from_samples(Vec::new()), None);
    }

    #[test]
    fn measure_calls_warmup_plus_iterations_times() {
        let mut calls = 0;
        let stats = measure(2, 5, || calls += 1).unwrap();
        assert_eq!(calls, 7);
        assert_eq!(stats.iterations, 5);
    }

    #[test]
    fn report_format() {
        let stats = Stats::from_samples(vec![us(10), us(20), us(30)]).unwrap();
        let report = Report {
            label: "validate",
            warmup: 4,
            stats: &stats,
        };
        assert_eq!(
            report.to_string(),
            "validate [3 iterations in 0.060 ms after 4 warm-up]:\n\telapsed\t[min median mean max]:\t[10.000 µs 20.000 µs 20.000 µs 30.000 µs]"
        );
    }
}
