#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, process::ExitCode};

use anyhow::{anyhow, Result};
use clap::{Args, Parser, Subcommand};
use policy_runner::{
    bench::{measure, Report},
    callbacks::HostCallbacks,
    check_settings, evaluate,
    policy::{EngineOptions, Policy},
    read_request,
    request::AdmissionRequest,
    settings::{self, SettingsSource},
};
use serde_json::{Map, Value};

/// Runs a Kubewarden policy module the way `kwctl run` does.
#[derive(Parser)]
#[command(name = "policy-runner", version)]
struct Cli {
    /// Print the policy's log lines and refused host calls on stderr
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one request and print the AdmissionResponse on stdout, as `kwctl run`
    Run(RunArgs),
    /// Time repeated evaluations of one request, like `kwctl bench`
    Bench(BenchArgs),
}

#[derive(Args)]
struct RunArgs {
    /// File containing the Kubernetes admission request object (or an AdmissionReview)
    /// in JSON format; '-' reads stdin
    #[arg(short = 'r', long, value_name = "PATH")]
    request_path: String,

    /// File containing the settings for this policy (YAML or JSON)
    #[arg(
        short = 's',
        long,
        value_name = "PATH",
        conflicts_with = "settings_json"
    )]
    settings_path: Option<PathBuf>,

    /// JSON string containing the settings for this policy
    #[arg(long, value_name = "VALUE")]
    settings_json: Option<String>,

    /// Turn off usage of wasmtime cache
    #[arg(long)]
    disable_wasmtime_cache: bool,

    /// Policy module (.wasm)
    module: PathBuf,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    run: RunArgs,

    /// Number of timed calls
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,

    /// Number of untimed calls before timing
    #[arg(long, default_value_t = 100)]
    warmup: u32,
}

/// Everything one evaluation needs, loaded in kwctl's order: settings, request, module.
struct Loaded {
    settings: Map<String, Value>,
    request: AdmissionRequest,
    policy: Policy,
}

impl RunArgs {
    fn load(&self, verbose: bool) -> Result<Loaded> {
        let source = match (&self.settings_path, &self.settings_json) {
            (Some(path), _) => SettingsSource::File(path),
            (None, Some(json)) => SettingsSource::Json(json),
            (None, None) => SettingsSource::None,
        };
        let settings = settings::load(source)?;
        let request = read_request(&self.request_path)?;
        let options = EngineOptions {
            wasmtime_cache: !self.disable_wasmtime_cache,
            verbose,
        };
        let policy = Policy::load(&self.module, HostCallbacks::new(verbose), options)?;
        Ok(Loaded {
            settings,
            request,
            policy,
        })
    }
}

// Like kwctl, an error ends the process with "Error: ..." on stderr and exit code 1.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run(args, cli.verbose),
        Command::Bench(args) => bench(args, cli.verbose),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {}", error_report(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error as kwctl's `main` prints it (anyhow's `{:?}`), but never with a
/// backtrace: output must not depend on RUST_BACKTRACE.
fn error_report(error: &anyhow::Error) -> String {
    let mut report = error.to_string();
    let causes: Vec<String> = error.chain().skip(1).map(ToString::to_string).collect();
    match causes.as_slice() {
        [] => {}
        [cause] => report.push_str(&format!("\n\nCaused by:\n    {cause}")),
        _ => {
            report.push_str("\n\nCaused by:");
            for (index, cause) in causes.iter().enumerate() {
                report.push_str(&format!("\n    {index}: {cause}"));
            }
        }
    }
    report
}

fn run(args: &RunArgs, verbose: bool) -> Result<()> {
    let loaded = args.load(verbose)?;
    let response = evaluate(&loaded.policy, &loaded.request, &loaded.settings)?;
    println!("{}", serde_json::to_string(&response)?);
    Ok(())
}

fn bench(args: &BenchArgs, verbose: bool) -> Result<()> {
    let loaded = args.run.load(verbose)?;
    let Loaded {
        settings,
        request,
        policy,
    } = &loaded;
    check_settings(policy, settings)?;

    let settings_stats = measure(args.warmup, args.iterations, || {
        policy.validate_settings(settings)
    })
    .ok_or_else(|| anyhow!("no iteration was timed"))?;
    println!(
        "{}",
        Report {
            label: "validate_settings",
            warmup: args.warmup,
            stats: &settings_stats,
        }
    );

    let validate_stats = measure(args.warmup, args.iterations, || {
        policy.validate(request, settings)
    })
    .ok_or_else(|| anyhow!("no iteration was timed"))?;
    println!(
        "{}",
        Report {
            label: "validate",
            warmup: args.warmup,
            stats: &validate_stats,
        }
    );
    Ok(())
}
