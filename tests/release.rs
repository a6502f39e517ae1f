//! The release workflow publishes what the Makefile builds, under the version
//! that Cargo.toml and metadata.yml agree on, with the least privileges each
//! job needs. actionlint and zizmor (`make workflow-lint`) check the
//! workflows' syntax and security; this checks what they mean for cainjector.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

mod common;

use common::{path, text, yaml};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn workflow(name: &str) -> Value {
    yaml(&format!(".github/workflows/{name}"))
}

const WORKFLOWS: [&str; 3] = ["ci.yml", "release.yml", "release-drafter.yml"];

fn oci_url() -> String {
    yaml("metadata.yml")["annotations"]["io.kubewarden.policy.ociUrl"]
        .as_str()
        .expect("metadata.yml has io.kubewarden.policy.ociUrl")
        .to_string()
}

/// The steps of a job, by their name (or their `uses` when they have none).
fn steps(workflow: &Value, job: &str) -> BTreeMap<String, Value> {
    workflow["jobs"][job]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
        .iter()
        .map(|step| {
            let key = step["name"].as_str().or_else(|| step["uses"].as_str());
            (key.expect("a named step").to_string(), step.clone())
        })
        .collect()
}

fn run_of<'s>(steps: &'s BTreeMap<String, Value>, name: &str) -> &'s str {
    steps
        .get(name)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name:?} with a run script"))
}

fn bash(script: &str, env: &[(&str, &str)]) -> Output {
    Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(path(""))
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("bash cannot run: {e}"))
}

fn version_check(dir: &Path, tag: &str) -> (bool, String, String) {
    let out = Command::new(dir.join("scripts/release-version.sh"))
        .arg(tag)
        .output()
        .unwrap_or_else(|e| panic!("scripts/release-version.sh cannot run: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tags_v_version_release_the_version_of_cargo_toml_and_metadata() {
    let release = workflow("release.yml");
    assert_eq!(release["on"]["push"]["tags"], json!(["v*"]));
    assert_eq!(release["on"]["push"]["branches"], json!(["main"]));
    let module = steps(&release, "module");
    let check = &module["The tag is v<version> of Cargo.toml and metadata.yml"];
    assert_eq!(check["if"], json!("github.ref_type == 'tag'"));
    assert_eq!(
        check["run"],
        json!("scripts/release-version.sh \"$GITHUB_REF_NAME\"")
    );
    let root = path("");
    assert_eq!(
        version_check(&root, &format!("v{VERSION}")),
        (true, format!("{VERSION}\n"), String::new())
    );
    assert_eq!(
        version_check(&root, VERSION),
        (
            false,
            String::new(),
            format!(
                "error: the tag '{VERSION}' is not v<version> for Cargo.toml's version {VERSION}\n"
            )
        )
    );
    assert_eq!(
        version_check(&root, "v99.0.0"),
        (
            false,
            String::new(),
            format!(
                "error: the tag 'v99.0.0' is not v<version> for Cargo.toml's version {VERSION}\n"
            )
        )
    );
}

#[test]
fn version_check_refuses_metadata_of_another_version() {
    let dir = std::env::temp_dir().join(format!("cainjector-release-{}", std::process::id()));
    fs::create_dir_all(dir.join("scripts")).expect("temp dir");
    fs::copy(
        path("scripts/release-version.sh"),
        dir.join("scripts/release-version.sh"),
    )
    .expect("copy the script");
    fs::copy(path("Cargo.toml"), dir.join("Cargo.toml")).expect("copy Cargo.toml");
    let needle = format!("io.kubewarden.policy.version: {VERSION}\n");
    let metadata = text("metadata.yml");
    assert!(metadata.contains(&needle), "metadata.yml lacks {needle:?}");
    fs::write(
        dir.join("metadata.yml"),
        metadata.replace(&needle, "io.kubewarden.policy.version: \"9.9.9\"\n"),
    )
    .expect("write metadata.yml");
    let outcome = version_check(&dir, &format!("v{VERSION}"));
    fs::remove_dir_all(&dir).expect("remove the temp dir");
    assert_eq!(
        outcome,
        (
            false,
            String::new(),
            format!(
                "error: metadata.yml's io.kubewarden.policy.version '9.9.9' is not Cargo.toml's version {VERSION}\n"
            )
        )
    );
}

/// The module's push target, as the workflow's step computes it.
fn pushed_reference(ref_type: &str, ref_name: &str) -> String {
    let module = steps(&workflow("release.yml"), "module");
    let output = std::env::temp_dir().join(format!(
        "cainjector-release-output-{}-{ref_type}",
        std::process::id()
    ));
    let out = bash(
        run_of(&module, "Where the module goes"),
        &[
            ("GITHUB_REF_TYPE", ref_type),
            ("GITHUB_REF_NAME", ref_name),
            ("GITHUB_OUTPUT", output.to_str().expect("a UTF-8 path")),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let written = fs::read_to_string(&output).expect("the step's output");
    fs::remove_file(&output).expect("remove the output file");
    written
}

#[test]
fn module_goes_to_the_oci_url_of_metadata_as_v_version_or_latest() {
    let oci = oci_url();
    assert_eq!(
        pushed_reference("tag", &format!("v{VERSION}")),
        format!("reference=registry://{oci}:v{VERSION}\n")
    );
    assert_eq!(
        pushed_reference("branch", "main"),
        format!("reference=registry://{oci}:latest\n")
    );
    // What the README and the examples install is what a release pushes.
    let installed = format!("module: registry://{oci}:v{VERSION}");
    assert!(text("README.md").contains(&installed), "{installed}");
    assert!(text("examples/cluster-admission-policy.yaml").contains(&installed));
}

/// The recipe of a Makefile target: its prerequisites and its command lines.
fn make_rule(target: &str) -> (Vec<String>, Vec<String>) {
    let makefile = text("Makefile");
    let mut lines = makefile.lines();
    let head = format!("{target}:");
    let prerequisites = lines
        .by_ref()
        .find_map(|line| line.strip_prefix(&head))
        .unwrap_or_else(|| panic!("the Makefile has no rule for {target}"));
    let recipe = lines
        .take_while(|line| line.starts_with('\t'))
        .map(|line| line.trim().to_string())
        .collect();
    (
        prerequisites
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        recipe,
    )
}

#[test]
fn release_builds_through_the_makefile() {
    let module = steps(&workflow("release.yml"), "module");
    assert_eq!(
        run_of(&module, "make annotated-policy.wasm"),
        "make annotated-policy.wasm"
    );
    assert!(
        run_of(&module, "Push").contains(" annotated-policy.wasm \"$REFERENCE\""),
        "the release pushes the annotated module"
    );
    let (needs, recipe) = make_rule("annotated-policy.wasm");
    assert_eq!(needs[0], "policy.wasm");
    assert!(recipe.iter().any(|l| l.starts_with("kwctl annotate")));
    let (_, recipe) = make_rule("policy.wasm");
    assert_eq!(
        recipe,
        [
            "cargo build --locked --release --target wasm32-wasip1 -p cainjector",
            "wasm-opt $(WASM_OPT_FLAGS) target/wasm32-wasip1/release/cainjector.wasm -o policy.wasm"
        ]
    );
    // No workflow builds a module any other way: no run line starts cargo,
    // rustc or wasm-opt itself.
    for name in WORKFLOWS {
        for job in workflow(name)["jobs"].as_object().expect("jobs").keys() {
            for (step, body) in steps(&workflow(name), job) {
                let run = body["run"].as_str().unwrap_or_default();
                for line in run.lines() {
                    let mut words = line.split_whitespace().skip_while(|w| *w == "sudo");
                    let command = words.next().unwrap_or_default();
                    assert!(
                        !["cargo", "rustc", "wasm-opt"].contains(&command),
                        "{name}: {job}: {step} builds outside the Makefile: {line}"
                    );
                }
            }
        }
    }
}

/// The prefix that runs a command as root with the runner's own Rust toolchain.
const AS_ROOT: &str = "sudo env \"PATH=$PATH\" \"RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}\" \"CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}\" ";

#[test]
fn ci_runs_make_test_as_root_as_ci_run_does() {
    let ci = steps(&workflow("ci.yml"), "test");
    assert_eq!(
        run_of(&ci, "make test").trim_end(),
        format!("{AS_ROOT}make test")
    );
    assert!(text(".ci/run").lines().any(|l| l == "make test"));
    // e2e-registry needs kwctl and policy-server, which a fresh machine lacks.
    let (needs, _) = make_rule("test");
    assert!(
        !needs.iter().any(|n| n.starts_with("e2e-registry")),
        "{needs:?}"
    );
}

/// The names of a job's steps, in their order.
fn step_names(workflow: &Value, job: &str) -> Vec<String> {
    workflow["jobs"][job]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
        .iter()
        .map(|step| {
            let key = step["name"].as_str().or_else(|| step["uses"].as_str());
            key.expect("a named step").to_string()
        })
        .collect()
}

const KWCTL_INSTALLER: &str = "kubewarden/github-actions/kwctl-installer@";
const KUBEWARDEN_STEP: &str = "The Kubewarden release of the Makefile";

/// The Kubewarden release the Makefile names, and what `make` prints for it.
fn kubewarden_version() -> String {
    let makefile = text("Makefile");
    let lines: Vec<&str> = makefile
        .lines()
        .filter(|l| l.contains("KUBEWARDEN_VERSION :="))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let version = lines[0]
        .strip_prefix("KUBEWARDEN_VERSION := v")
        .expect("KUBEWARDEN_VERSION := v<semver>");
    let parts: Vec<&str> = version.splitn(3, '.').collect();
    assert!(
        parts.len() == 3 && parts[..2].iter().all(|p| p.parse::<u32>().is_ok()),
        "{version} is not semver"
    );
    version.to_string()
}

#[test]
fn kwctl_and_policy_server_versions_are_written_once_in_the_makefile() {
    let version = kubewarden_version();
    let printed = Command::new("make")
        .args(["-s", "kubewarden-version"])
        .current_dir(path(""))
        .output()
        .expect("make runs");
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        format!("v{version}\n")
    );
    let mut installers = 0;
    for name in WORKFLOWS {
        let w = workflow(name);
        // Nowhere else: no workflow writes the version itself.
        assert!(!text(&format!(".github/workflows/{name}")).contains(&version));
        for job in w["jobs"].as_object().expect("jobs").keys() {
            let names = step_names(&w, job);
            let all = steps(&w, job);
            for (index, step) in names.iter().enumerate() {
                let body = &all[step];
                let installer = body["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with(KWCTL_INSTALLER));
                let script = body["run"]
                    .as_str()
                    .is_some_and(|r| r.contains("scripts/policy-server-image.sh"));
                if !installer && !script {
                    continue;
                }
                installers += usize::from(installer);
                let from = names.iter().position(|n| n == KUBEWARDEN_STEP);
                assert!(
                    from.is_some_and(|from| from < index),
                    "{name}: {job}: {step} comes before the version step"
                );
                assert_eq!(
                    run_of(&all, KUBEWARDEN_STEP),
                    "echo \"version=$(make -s kubewarden-version)\" >>\"$GITHUB_OUTPUT\""
                );
                let given = if installer {
                    &body["with"]["kwctl-version"]
                } else {
                    &body["env"]["VERSION"]
                };
                assert_eq!(
                    given,
                    &json!("${{ steps.kubewarden.outputs.version }}"),
                    "{name}: {job}: {step}"
                );
            }
        }
    }
    // ci.yml's kwctl job, and the release's module and publish jobs.
    assert_eq!(installers, 3);
    let development = text("docs/development.md");
    assert!(development.contains("KUBEWARDEN_VERSION"));
}

/// The make steps that check the module under the real kwctl and policy-server.
const REAL_HOST_CHECKS: [&str; 3] = [
    "make annotated-policy.wasm",
    "make e2e-tests",
    "make e2e-registry",
];

#[test]
fn release_runs_ci_kwctl_checks_on_the_module_before_pushing_it() {
    let ci = workflow("ci.yml");
    let release = workflow("release.yml");
    let (ci_steps, module) = (steps(&ci, "kwctl"), steps(&release, "module"));
    assert_eq!(
        run_of(&ci_steps, "make e2e-tests"),
        "make e2e-tests POLICY=annotated-policy.wasm KWCTL=kwctl"
    );
    for check in REAL_HOST_CHECKS {
        assert_eq!(run_of(&ci_steps, check), run_of(&module, check), "{check}");
    }
    // Only what make installs with apt-get runs as root, told of the registry service.
    for job in [&ci_steps, &module] {
        assert_eq!(
            run_of(job, "Packages make would install as root").trim_end(),
            format!("{AS_ROOT}\"REGISTRY=$REGISTRY\" make e2e-registry-tools")
        );
    }
    // Both push to the same registry service, pinned by digest, on loopback only.
    let (ci_job, module_job) = (&ci["jobs"]["kwctl"], &release["jobs"]["module"]);
    let registry = &ci_job["services"]["registry"];
    assert_eq!(registry, &module_job["services"]["registry"]);
    let image = registry["image"].as_str().unwrap();
    let (_, digest) = image.split_once("@sha256:").expect("a digest");
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{image}"
    );
    assert_eq!(registry["ports"], json!(["127.0.0.1:5000:5000"]));
    for job in [ci_job, module_job] {
        assert_eq!(job["env"]["REGISTRY"], json!("127.0.0.1:5000"));
    }
    let order = step_names(&release, "module");
    let at = |name: &str| {
        order
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no step {name:?}"))
    };
    let push = at("Push");
    let mut last = 0;
    for check in REAL_HOST_CHECKS {
        assert!(
            at(check) > last && at(check) < push,
            "{check} after the push"
        );
        last = at(check);
    }
    assert!(at("Sign the pushed digest") > push);
}

#[test]
fn publish_job_generates_the_artifact_hub_package_at_release() {
    let release = workflow("release.yml");
    assert_eq!(release["jobs"]["publish"]["if"], "github.ref_type == 'tag'");
    let publish = steps(&release, "publish");
    assert_eq!(
        run_of(&publish, "make artifacthub-pkg.yml"),
        "make artifacthub-pkg.yml"
    );
    assert!(
        run_of(&publish, "Publish on the artifacthub branch")
            .contains("cp artifacthub-pkg.yml artifacthub-repo.yml README.md \"$hub/\"")
    );
    let (_, recipe) = make_rule("artifacthub-pkg.yml");
    assert!(
        recipe.iter().all(|l| !l.contains("--version")),
        "kwctl takes the version from metadata.yml; --version is deprecated"
    );
    // Artifact Hub's owner is the policy's author.
    let author = yaml("metadata.yml")["annotations"]["io.kubewarden.policy.author"].clone();
    let owner = &yaml("artifacthub-repo.yml")["owners"][0];
    assert_eq!(
        json!(format!(
            "{} <{}>",
            owner["name"].as_str().unwrap(),
            owner["email"].as_str().unwrap()
        )),
        author
    );
}

#[test]
fn each_job_gets_only_the_write_permissions_it_uses() {
    let expected: BTreeMap<(&str, &str), Value> = [
        (("ci.yml", "test"), json!({})),
        (("ci.yml", "kwctl"), json!({})),
        (
            ("release.yml", "module"),
            json!({"contents": "read", "packages": "write", "id-token": "write"}),
        ),
        (("release.yml", "publish"), json!({"contents": "write"})),
        (
            ("release-drafter.yml", "draft"),
            json!({"contents": "write", "pull-requests": "read"}),
        ),
    ]
    .into();
    for name in WORKFLOWS {
        let w = workflow(name);
        let top = &w["permissions"];
        assert!(
            *top == json!({}) || *top == json!({"contents": "read"}),
            "{name}: workflow permissions {top}"
        );
        for job in w["jobs"].as_object().expect("jobs").keys() {
            let granted = match &w["jobs"][job]["permissions"] {
                Value::Null => json!({}),
                p => p.clone(),
            };
            assert_eq!(
                Some(&granted),
                expected.get(&(name, job.as_str())),
                "{name}: {job}"
            );
        }
    }
}

#[test]
fn every_action_is_pinned_by_commit_with_its_version_beside_it() {
    for name in WORKFLOWS {
        for line in text(&format!(".github/workflows/{name}")).lines() {
            let Some((_, uses)) = line.split_once("uses: ") else {
                continue;
            };
            let (reference, comment) = uses.split_once(" # ").unwrap_or((uses, ""));
            let (_, sha) = reference
                .split_once('@')
                .unwrap_or_else(|| panic!("{name}: {line}"));
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}: {line}: not pinned by commit"
            );
            assert!(comment.starts_with('v'), "{name}: {line}: no version");
        }
    }
}

#[test]
fn release_drafter_config_uses_no_key_release_drafter_7_deprecates() {
    let config = yaml(".github/release-drafter.yml");
    for key in [
        "exclude-labels",
        "include-labels",
        "exclude-paths",
        "include-paths",
        "version-resolver",
    ] {
        assert!(config.get(key).is_none(), "top-level {key} is deprecated");
    }
    let categories = config["categories"].as_array().expect("categories");
    for category in categories {
        for key in ["label", "labels"] {
            assert!(
                category.get(key).is_none(),
                "{category}: a category's {key} is deprecated (use when)"
            );
        }
        assert!(category["when"]["labels"].is_array(), "{category}");
    }
    let skipped: Vec<&Value> = categories
        .iter()
        .filter(|c| c["type"] == "pre-exclude")
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        skipped[0]["when"]["labels"],
        json!(["release/skip-changelog"])
    );
}
