#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::{Result, anyhow};
use clap::{Args, Parser, Subcommand, ValueEnum, builder::NonEmptyStringValueParser};
use policy_runner::{
    bench,
    callbacks::HostCallbacks,
    check_settings, evaluate, human,
    kubernetes::Kubernetes,
    metadata,
    policy::{EngineOptions, Policy},
    read_request,
    replay::Replay,
    request::AdmissionRequest,
    scaffold::{self, Manifest, Operation, Scaffold},
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
    Run(RunCommand),
    /// Time repeated evaluations of one request, like `kwctl bench`
    Bench(BenchArgs),
    /// Embed policy metadata in a module, as `kwctl annotate` does (without its checks)
    Annotate(AnnotateArgs),
    /// Scaffold what `kwctl scaffold` does (here only an AdmissionRequest)
    #[command(subcommand)]
    Scaffold(ScaffoldCommand),
}

#[derive(Subcommand)]
enum ScaffoldCommand {
    /// Print the AdmissionRequest `kwctl scaffold admission-request` builds for a manifest
    AdmissionRequest(ScaffoldArgs),
}

#[derive(Args)]
struct ScaffoldArgs {
    /// The manifest (YAML or JSON) the request is about
    #[arg(long, value_name = "PATH")]
    object: PathBuf,

    #[command(flatten)]
    manifest: ManifestOptions,
}

/// How a manifest is wrapped into an AdmissionRequest (`--object`).
#[derive(Args)]
struct ManifestOptions {
    /// Operation of the request [default: CREATE]; a DELETE carries the object as
    /// oldObject
    #[arg(
        short = 'o',
        long,
        value_enum,
        value_name = "TYPE",
        requires = "object"
    )]
    operation: Option<Operation>,

    /// UPDATE only: the object as it was before [default: the --object manifest]
    #[arg(long, value_name = "PATH", requires = "object")]
    old_object: Option<PathBuf>,

    /// The request's namespace, as `kubectl -n` sets it; an object without one is
    /// put in it [default: the manifest's metadata.namespace]
    #[arg(long, value_name = "NAMESPACE", requires = "object", value_parser = NonEmptyStringValueParser::new())]
    namespace: Option<String>,
}

impl ManifestOptions {
    fn scaffold(&self, object: &Path) -> Result<AdmissionRequest> {
        Scaffold {
            operation: self.operation.unwrap_or_default(),
            object: Manifest::read(object)?,
            old_object: self.old_object.as_deref().map(Manifest::read).transpose()?,
            namespace: self.namespace.clone(),
        }
        .admission_request()
    }
}

/// Where the request comes from: a request file, or a manifest to wrap.
#[derive(Args)]
struct RequestArgs {
    /// File containing the Kubernetes admission request object (or an AdmissionReview)
    /// in JSON format; '-' reads stdin
    #[arg(
        short = 'r',
        long,
        value_name = "PATH",
        required_unless_present = "object",
        conflicts_with = "ManifestOptions"
    )]
    request_path: Option<String>,

    /// Manifest (YAML or JSON) to evaluate, sent as the AdmissionRequest
    /// `kwctl scaffold admission-request` builds for it
    #[arg(long, value_name = "PATH", conflicts_with = "request_path")]
    object: Option<PathBuf>,

    #[command(flatten)]
    manifest: ManifestOptions,
}

impl RequestArgs {
    fn read(&self) -> Result<AdmissionRequest> {
        match (&self.object, &self.request_path) {
            (Some(object), _) => self.manifest.scaffold(object),
            (None, Some(path)) => read_request(path),
            (None, None) => Err(anyhow!("--request-path or --object is required")),
        }
    }
}

#[derive(Args)]
struct RunCommand {
    #[command(flatten)]
    run: RunArgs,

    /// How the answer is printed: `json`, the AdmissionResponse as kwctl prints it,
    /// or `human`, the verdict, the decoded patch and the changed part as YAML
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Json)]
    output: OutputFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Json,
    Human,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    request: RequestArgs,

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

    /// Grant access to the Kubernetes resources listed in the module's metadata
    /// (`contextAwareResources`)
    #[arg(long)]
    allow_context_aware: bool,

    /// Answer the policy's host capability calls from this file, recorded by
    /// `kwctl run --record-host-capabilities-interactions`
    #[arg(long, value_name = "FILE")]
    replay_host_capabilities_interactions: Option<PathBuf>,

    /// Policy module (.wasm)
    module: PathBuf,
}

#[derive(Args)]
struct AnnotateArgs {
    /// File containing the metadata
    #[arg(short = 'm', long, value_name = "PATH")]
    metadata_path: PathBuf,

    /// File containing the usage information of the policy
    #[arg(short = 'u', long, value_name = "PATH")]
    usage_path: Option<PathBuf>,

    /// Output file
    #[arg(short = 'o', long, value_name = "PATH")]
    output_path: PathBuf,

    /// Path to WebAssembly module to be annotated
    wasm_path: PathBuf,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    run: RunArgs,

    /// How long the bench 'should' run (tiny-bench's measurement time; kwctl's default 5)
    #[arg(long, value_name = "SECONDS")]
    measurement_time: Option<f64>,

    /// How long the bench should warm up (kwctl's default 3)
    #[arg(long, value_name = "SECONDS")]
    warm_up_time: Option<f64>,

    /// Number of samples (100 by default; kwctl always takes 100)
    #[arg(long, value_name = "NUM")]
    num_samples: Option<usize>,

    /// Accepted as kwctl does; used only when comparing with saved results, which
    /// this runner does not do
    #[arg(long, value_name = "NUM")]
    num_resamples: Option<usize>,

    /// Time exactly NUM calls, in one sample, after the warm-up (for counting
    /// instructions; not a kwctl option)
    #[arg(long, value_name = "NUM", value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,

    /// Write /tmp/perf-PID.map naming the module's compiled functions, for
    /// profilers (not a kwctl option)
    #[arg(long)]
    perf_map: bool,
}

/// Everything one evaluation needs, loaded in kwctl's order: settings, request, module.
struct Loaded {
    settings: Map<String, Value>,
    request: AdmissionRequest,
    policy: Policy,
    /// The recorded session, to tell what was left unused.
    replay: Option<Arc<Replay>>,
}

impl RunArgs {
    fn load(&self, verbose: bool, perf_map: bool) -> Result<Loaded> {
        let source = match (&self.settings_path, &self.settings_json) {
            (Some(path), _) => SettingsSource::File(path),
            (None, Some(json)) => SettingsSource::Json(json),
            (None, None) => SettingsSource::None,
        };
        let settings = settings::load(source)?;
        let request = self.request.read()?;
        let options = EngineOptions {
            wasmtime_cache: !self.disable_wasmtime_cache,
            verbose,
            perf_map,
        };
        let replay = self
            .replay_host_capabilities_interactions
            .as_deref()
            .map(Replay::load)
            .transpose()?
            .map(Arc::new);
        let mut callbacks = HostCallbacks::new(verbose);
        let granted = self.granted_resources(verbose)?;
        callbacks.register("kubernetes", Kubernetes::new(granted, replay.clone()));
        let policy = Policy::load(&self.module, callbacks, options)?;
        Ok(Loaded {
            settings,
            request,
            policy,
            replay,
        })
    }

    /// What `--allow-context-aware` grants: the resources of the module's metadata,
    /// none when the module carries no metadata.
    fn granted_resources(
        &self,
        verbose: bool,
    ) -> Result<BTreeSet<policy_runner::kubernetes::ContextAwareResource>> {
        if !self.allow_context_aware {
            return Ok(BTreeSet::new());
        }
        let module = std::fs::read(&self.module)
            .map_err(|e| anyhow!("cannot read policy module {}: {e}", self.module.display()))?;
        let resources = metadata::context_aware_resources(&module).map_err(|e| {
            anyhow!(
                "cannot read the metadata of policy module {}: {e}",
                self.module.display()
            )
        })?;
        Ok(resources.unwrap_or_else(|| {
            if verbose {
                eprintln!("Policy is not annotated, access to Kubernetes resources is not allowed");
            }
            BTreeSet::new()
        }))
    }
}

impl Loaded {
    /// kwctl warns about recorded exchanges that were not used (with `--verbose` here).
    fn report_leftovers(&self, verbose: bool) {
        if let Some(replay) = &self.replay {
            let leftovers = replay.leftovers();
            if verbose && leftovers > 0 {
                eprintln!(
                    "Some of the recorded exchanges have not been replayed: {leftovers} left"
                );
            }
        }
    }
}

// Like kwctl, an error ends the process with "Error: ..." on stderr and exit code 1.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(command) => run(command, cli.verbose),
        Command::Bench(args) => bench(args, cli.verbose),
        Command::Annotate(args) => metadata::annotate_file(
            &args.wasm_path,
            &args.metadata_path,
            args.usage_path.as_deref(),
            &args.output_path,
        ),
        Command::Scaffold(ScaffoldCommand::AdmissionRequest(args)) => scaffold_request(args),
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

fn run(command: &RunCommand, verbose: bool) -> Result<()> {
    let loaded = command.run.load(verbose, false)?;
    let response = evaluate(&loaded.policy, &loaded.request, &loaded.settings)?;
    match command.output {
        OutputFormat::Json => println!("{}", serde_json::to_string(&response)?),
        OutputFormat::Human => print!("{}", human::render(&loaded.request, &response)?),
    }
    loaded.report_leftovers(verbose);
    Ok(())
}

/// kwctl prints the scaffolded request as pretty JSON.
fn scaffold_request(args: &ScaffoldArgs) -> Result<()> {
    let request = args.manifest.scaffold(&args.object)?;
    println!("{}", scaffold::to_pretty_json(&request)?);
    Ok(())
}

fn bench(args: &BenchArgs, verbose: bool) -> Result<()> {
    // kwctl times on a tokio worker thread, not on the main one: the C
    // allocator serves such a thread from an arena of its own, which does not
    // behave like the main one (it trims and consolidates differently).
    std::thread::scope(|scope| {
        scope
            .spawn(|| bench_on_this_thread(args, verbose))
            .join()
            .unwrap_or_else(|_| Err(anyhow!("the benchmark thread panicked")))
    })
}

fn bench_on_this_thread(args: &BenchArgs, verbose: bool) -> Result<()> {
    let config = bench::Options {
        measurement_time: args.measurement_time,
        warm_up_time: args.warm_up_time,
        num_samples: args.num_samples,
        iterations: args.iterations,
    }
    .config()?;
    let loaded = args.run.load(verbose, args.perf_map)?;
    // kwctl refuses invalid settings before timing anything.
    check_settings(&loaded.policy, &loaded.settings)?;
    bench::run(&config, &loaded.policy, &loaded.request, &loaded.settings);
    loaded.report_leftovers(verbose);
    Ok(())
}
