//! The matchConditions of examples/cluster-admission-policy-match-conditions.yaml
//! (the ones docs/cluster-admins.md shows) are parsed and evaluated by a CEL
//! interpreter on sample AdmissionRequests, with the variables the API server
//! gives them (`object`, `oldObject`, `request`). A typo, or a condition that
//! fails on a pod without annotations, fails here instead of in a cluster,
//! where kwctl run cannot show it (it ignores matchConditions).

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use common::Verdict;
use common::*;
use serde_json::{Value, json};

const EXAMPLE: &str = "examples/cluster-admission-policy-match-conditions.yaml";
const DOC: &str = "docs/cluster-admins.md";

fn text(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn yaml(relative: &str) -> Value {
    serde_yaml::from_str(&text(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn example() -> Value {
    yaml(EXAMPLE)
}

/// The conditions' names and expressions, in the order written.
fn conditions() -> Vec<(String, String)> {
    example()["spec"]["matchConditions"]
        .as_array()
        .expect("spec.matchConditions is a list")
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().expect("a string").to_string();
            (field("name"), field("expression"))
        })
        .collect()
}

/// What the API server makes of a condition: true or false, or an error
/// (which, with failurePolicy: Fail, rejects the request).
fn evaluate(expression: &str, request: &Value) -> Result<bool, String> {
    let env = Arc::new(cel::Env::stdlib());
    let program = env
        .compile(expression)
        .map_err(|e| format!("does not parse: {e}"))?;
    let mut context = cel::Context::with_env(env);
    let mut attributes = request.clone();
    if let Some(fields) = attributes.as_object_mut() {
        fields.remove("object");
        fields.remove("oldObject");
    }
    for (name, value) in [
        ("object", request["object"].clone()),
        ("oldObject", request["oldObject"].clone()),
        ("request", attributes),
    ] {
        context
            .add_variable(name, value)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    match program.execute(&context) {
        Ok(cel::Value::Bool(verdict)) => Ok(verdict),
        Ok(other) => Err(format!("is not a bool: {other:?}")),
        Err(e) => Err(format!("fails: {e}")),
    }
}

/// Each condition's outcome on `request`, by name.
fn outcomes(request: &Value) -> Vec<(String, Result<bool, String>)> {
    conditions()
        .into_iter()
        .map(|(name, expression)| {
            let outcome = evaluate(&expression, request);
            (name, outcome)
        })
        .collect()
}

fn expect(opted_in: bool, namespace_kept: bool) -> Vec<(String, Result<bool, String>)> {
    vec![
        ("not-opted-out".to_string(), Ok(opted_in)),
        ("not-in-excluded-namespace".to_string(), Ok(namespace_kept)),
    ]
}

fn with_inject_annotation(value: &str) -> Value {
    let mut request = fixture("pod-simple.json");
    request["object"]["metadata"]["annotations"] =
        json!({"cainjector.lestak.sh/inject": value, "team": "a"});
    request
}

#[test]
fn the_example_has_the_two_documented_conditions() {
    let names: Vec<String> = conditions().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["not-opted-out", "not-in-excluded-namespace"]);
}

#[test]
fn pods_without_the_opt_out_are_sent_to_the_policy() {
    // No annotations at all: has() keeps the index from failing.
    assert_eq!(outcomes(&fixture("pod-simple.json")), expect(true, true));
    // Other annotations only: the `in` test keeps the index from failing.
    assert_eq!(outcomes(&fixture("pod-realistic.json")), expect(true, true));
    assert_eq!(outcomes(&fixture("pod-opt-in.json")), expect(true, true));
    // Only the exact "false" is skipped here; the policy skips the others.
    let spelled_otherwise = with_inject_annotation("False");
    assert_eq!(outcomes(&spelled_otherwise), expect(true, true));
    let settings = example()["spec"]["settings"].clone();
    assert_eq!(run(&spelled_otherwise, settings), Verdict::Accept);
}

#[test]
fn opted_out_pods_are_not_sent_and_the_policy_would_not_have_changed_them() {
    let settings = example()["spec"]["settings"].clone();
    for request in [fixture("pod-opt-out.json"), with_inject_annotation("false")] {
        assert_eq!(outcomes(&request), expect(false, true));
        assert_eq!(run(&request, settings.clone()), Verdict::Accept);
    }
}

#[test]
fn pods_of_the_listed_namespaces_are_not_sent() {
    for (namespace, kept) in [
        ("sandbox", false),
        ("legacy-batch", false),
        ("payments", true),
    ] {
        let mut request = fixture("pod-realistic.json");
        request["namespace"] = json!(namespace);
        request["object"]["metadata"]["namespace"] = json!(namespace);
        assert_eq!(outcomes(&request), expect(true, kept), "{namespace}");
    }
}

#[test]
fn the_example_is_the_cluster_policy_plus_match_conditions() {
    let mut with_conditions = example();
    let spec = with_conditions["spec"]
        .as_object_mut()
        .expect("spec is an object");
    assert!(spec.remove("matchConditions").is_some());
    assert_eq!(
        with_conditions,
        yaml("examples/cluster-admission-policy.yaml")
    );
}

#[test]
fn the_doc_shows_the_tested_conditions() {
    let doc = text(DOC);
    let block = doc
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .find(|block| block.contains("matchConditions:"))
        .unwrap_or_else(|| panic!("{DOC} shows no matchConditions"));
    let shown: Value = serde_yaml::from_str(block).unwrap_or_else(|e| panic!("{DOC}: {e}"));
    assert_eq!(
        shown["spec"]["matchConditions"],
        example()["spec"]["matchConditions"]
    );
}
