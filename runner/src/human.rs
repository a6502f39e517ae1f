//! The answer written for a person (`run --output human`).
//!
//! ```text
//! accepted, with a patch of 2 operations:
//!   {"op":"add","path":"/spec/containers/0/env","value":[{"name":"SSL_CERT_FILE","value":"/cacerts/ca.crt"}]}
//!   {"op":"add","path":"/spec/volumes","value":[{"configMap":{"name":"ca-bundle"},"name":"cainjector-ca-bundle"}]}
//! changed part of the Pod, as patched:
//!   spec:
//!     containers:
//!     - name: app
//!       env:
//!       - name: SSL_CERT_FILE
//!         value: /cacerts/ca.crt
//!     volumes:
//!     - name: cainjector-ca-bundle
//!       configMap:
//!         name: ca-bundle
//! ```
//!
//! The patch lines are the JSONPatch operations exactly as in the response. The
//! YAML is the patched object cut down to what the operations touched: in maps only
//! the touched keys, in lists only the touched items, each list item keeping its
//! `name` so that it can be told apart. `name` comes first, the other keys sorted.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::{request::AdmissionRequest, response::AdmissionResponse};

/// The whole human answer, ending with a newline.
pub fn render(request: &AdmissionRequest, response: &AdmissionResponse) -> Result<String> {
    let mut first = verdict(response);
    let mut lines = Vec::new();
    if let Some(patch) = &response.patch {
        let operations = decode(patch)?;
        let count = operations.len();
        let plural = if count == 1 { "" } else { "s" };
        first.push_str(&format!(", with a patch of {count} operation{plural}:"));
        lines.push(first);
        lines.extend(patch_section(request, &operations)?);
    } else {
        if response.allowed {
            first.push_str(", unchanged");
        }
        lines.push(first);
    }
    for warning in response.warnings.iter().flatten() {
        lines.push(format!("warning: {warning}"));
    }
    for (key, value) in response.audit_annotations.iter().flatten() {
        lines.push(format!("audit annotation {key}: {value}"));
    }
    Ok(lines.join("\n") + "\n")
}

/// One line per operation, then the changed part of the object.
fn patch_section(request: &AdmissionRequest, operations: &[Value]) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for operation in operations {
        lines.push(format!("  {}", serde_json::to_string(operation)?));
    }
    let object = request
        .object
        .as_ref()
        .ok_or_else(|| anyhow!("the answer has a patch but the request has no object"))?;
    let kind = match request.kind.kind.as_str() {
        "" => "object",
        kind => kind,
    };
    lines.push(format!("changed part of the {kind}, as patched:"));
    lines.extend(indented(&changed_part(object, operations)?)?);
    Ok(lines)
}

/// `accepted` or `rejected`, then the status code and message when there are any.
fn verdict(response: &AdmissionResponse) -> String {
    let mut line = if response.allowed {
        "accepted"
    } else {
        "rejected"
    }
    .to_owned();
    if let Some(status) = &response.status {
        if let Some(code) = status.code {
            line.push_str(&format!(" (code {code})"));
        }
        if let Some(message) = &status.message {
            line.push_str(&format!(": {message}"));
        }
    }
    line
}

/// The JSONPatch operations of the response's base64 `patch`.
fn decode(patch: &str) -> Result<Vec<Value>> {
    let text = STANDARD
        .decode(patch)
        .map_err(|e| anyhow!("the answer's patch is not base64: {e}"))?;
    serde_json::from_slice(&text).map_err(|e| anyhow!("the answer's patch is not a JSONPatch: {e}"))
}

/// The patched object cut down to what `operations` touched.
fn changed_part(object: &Value, operations: &[Value]) -> Result<Value> {
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(operations.to_vec()))
        .map_err(|e| anyhow!("the answer's patch is not a JSONPatch: {e}"))?;
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch)
        .map_err(|e| anyhow!("the answer's patch does not apply to the object: {e}"))?;
    let touched: Vec<Vec<String>> = operations.iter().flat_map(touched_paths).collect();
    let paths: Vec<&[String]> = touched.iter().map(Vec::as_slice).collect();
    Ok(cut(&patched, &paths, false))
}

/// Where an operation leaves something to see: the added or replaced value, and
/// for a removal the list or map it was removed from.
fn touched_paths(operation: &Value) -> Vec<Vec<String>> {
    let pointer = |field: &str| operation.get(field).and_then(Value::as_str).map(tokens);
    let parent = |mut path: Vec<String>| {
        path.pop();
        path
    };
    match operation.get("op").and_then(Value::as_str) {
        Some("add" | "replace" | "copy") => pointer("path").into_iter().collect(),
        Some("remove") => pointer("path").map(parent).into_iter().collect(),
        Some("move") => [pointer("from").map(parent), pointer("path")]
            .into_iter()
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

/// The reference tokens of a JSON pointer (RFC 6901).
fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// `value` with only what the paths lead to; a list item keeps its `name`.
fn cut(value: &Value, paths: &[&[String]], list_item: bool) -> Value {
    if paths.iter().any(|path| path.is_empty()) {
        return value.clone();
    }
    match value {
        Value::Object(map) => {
            let mut kept = Map::new();
            for (key, tails) in group(paths, |token| Some(token.to_owned())) {
                if let Some(child) = map.get(&key) {
                    kept.insert(key, cut(child, &tails, false));
                }
            }
            if let (true, Some(name)) = (list_item, map.get("name")) {
                kept.entry("name").or_insert_with(|| name.clone());
            }
            Value::Object(kept)
        }
        Value::Array(items) => {
            // "-" (past the end) is where an added item now is: the last one.
            let index = |token: &str| match token {
                "-" => items.len().checked_sub(1),
                _ => token.parse::<usize>().ok(),
            };
            let kept = group(paths, index)
                .into_iter()
                .filter_map(|(at, tails)| items.get(at).map(|item| cut(item, &tails, true)))
                .collect();
            Value::Array(kept)
        }
        scalar => scalar.clone(),
    }
}

/// The paths grouped by their first token (as `key` reads it), with their tails.
fn group<'p, K: Ord>(
    paths: &[&'p [String]],
    key: impl Fn(&str) -> Option<K>,
) -> BTreeMap<K, Vec<&'p [String]>> {
    let mut groups: BTreeMap<K, Vec<&'p [String]>> = BTreeMap::new();
    for path in paths {
        if let Some((first, tail)) = path.split_first()
            && let Some(key) = key(first)
        {
            groups.entry(key).or_default().push(tail);
        }
    }
    groups
}

/// The YAML text, two spaces in.
fn indented(value: &Value) -> Result<Vec<String>> {
    let yaml = yaml_serde::to_string(&NameFirst(value))?;
    Ok(yaml.lines().map(|line| format!("  {line}")).collect())
}

/// Serialises a JSON value with each map's `name` first and its other keys sorted,
/// whatever order the map keeps.
struct NameFirst<'a>(&'a Value);

impl Serialize for NameFirst<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|key| (key.as_str() != "name", key.as_str()));
                let mut out = serializer.serialize_map(Some(keys.len()))?;
                for key in keys {
                    if let Some(value) = map.get(key) {
                        out.serialize_entry(key, &NameFirst(value))?;
                    }
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&NameFirst(item))?;
                }
                out.end()
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        request::parse_request,
        response::{AdmissionResponseStatus, PatchType},
    };
    use serde_json::json;

    fn request(object: Value) -> AdmissionRequest {
        parse_request(
            &json!({
                "uid": "u",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "operation": "CREATE",
                "userInfo": {},
                "object": object,
            })
            .to_string(),
        )
        .unwrap()
    }

    fn mutated(patch: Value) -> AdmissionResponse {
        AdmissionResponse {
            uid: "u".into(),
            allowed: true,
            patch_type: Some(PatchType::JsonPatch),
            patch: Some(STANDARD.encode(patch.to_string())),
            ..AdmissionResponse::default()
        }
    }

    const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
        "spec":{"containers":[{"name":"app","image":"nginx","env":[{"name":"A","value":"1"}]},
        {"name":"sidecar","image":"proxy"}],"volumes":[{"name":"data","emptyDir":{}}]}}"#;

    #[test]
    fn an_accepted_request_without_patch_is_unchanged() {
        let response = AdmissionResponse {
            uid: "u".into(),
            allowed: true,
            warnings: Some(vec!["w1".into(), "w2".into()]),
            ..AdmissionResponse::default()
        };
        assert_eq!(
            render(&request(json!({})), &response).unwrap(),
            "accepted, unchanged\nwarning: w1\nwarning: w2\n"
        );
    }

    #[test]
    fn a_rejection_shows_code_and_message() {
        let response = AdmissionResponse {
            uid: "u".into(),
            allowed: false,
            status: Some(AdmissionResponseStatus {
                message: Some("no bundle".into()),
                code: Some(400),
            }),
            audit_annotations: Some([("k".to_owned(), "v".to_owned())].into()),
            ..AdmissionResponse::default()
        };
        assert_eq!(
            render(&request(json!({})), &response).unwrap(),
            "rejected (code 400): no bundle\naudit annotation k: v\n"
        );
        let bare = AdmissionResponse {
            uid: "u".into(),
            ..AdmissionResponse::default()
        };
        assert_eq!(render(&request(json!({})), &bare).unwrap(), "rejected\n");
    }

    #[test]
    fn a_mutation_shows_each_operation_and_only_what_it_touched() {
        let pod: Value = serde_json::from_str(POD).unwrap();
        let response = mutated(json!([
            {"op": "add", "path": "/spec/containers/0/env/1", "value": {"name": "B", "value": "2"}},
            {"op": "add", "path": "/spec/volumes/1", "value": {"name": "ca", "configMap": {"name": "ca-bundle"}}},
            {"op": "add", "path": "/metadata/annotations", "value": {"x/y": "done"}}
        ]));
        assert_eq!(
            render(&request(pod), &response).unwrap(),
            concat!(
                "accepted, with a patch of 3 operations:\n",
                r#"  {"op":"add","path":"/spec/containers/0/env/1","value":{"name":"B","value":"2"}}"#,
                "\n",
                r#"  {"op":"add","path":"/spec/volumes/1","value":{"configMap":{"name":"ca-bundle"},"name":"ca"}}"#,
                "\n",
                r#"  {"op":"add","path":"/metadata/annotations","value":{"x/y":"done"}}"#,
                "\n",
                "changed part of the Pod, as patched:\n",
                "  metadata:\n",
                "    annotations:\n",
                "      x/y: done\n",
                "  spec:\n",
                "    containers:\n",
                "    - name: app\n",
                "      env:\n",
                "      - name: B\n",
                "        value: '2'\n",
                "    volumes:\n",
                "    - name: ca\n",
                "      configMap:\n",
                "        name: ca-bundle\n",
            )
        );
    }

    #[test]
    fn a_removal_shows_what_is_left_where_it_was() {
        let pod: Value = serde_json::from_str(POD).unwrap();
        let response = mutated(json!([
            {"op": "remove", "path": "/spec/containers/1/image"},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:2"}
        ]));
        let text = render(&request(pod), &response).unwrap();
        assert!(
            text.ends_with(concat!(
                "changed part of the Pod, as patched:\n",
                "  spec:\n",
                "    containers:\n",
                "    - name: app\n",
                "      image: nginx:2\n",
                "    - name: sidecar\n",
            )),
            "{text}"
        );
    }

    #[test]
    fn pointer_tokens_are_unescaped() {
        assert_eq!(tokens("/a~1b/c~0d/0"), vec!["a/b", "c~d", "0"]);
        assert_eq!(tokens(""), Vec::<String>::new());
    }

    #[test]
    fn a_patch_that_does_not_apply_is_an_error_not_a_panic() {
        let response = mutated(json!([{"op": "remove", "path": "/nope"}]));
        let err = render(&request(json!({})), &response).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the answer's patch does not apply to the object: ")
        );
    }
}
