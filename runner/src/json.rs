//! JSON key order as kwctl produces it.
//!
//! kwctl's serde_json is built without the `preserve_order` feature, so every JSON
//! object it re-serialises (the request, the settings, the mutated object it diffs)
//! comes out with its keys sorted. Cargo unifies features across a workspace's
//! members (and a dependency may enable `preserve_order` any day), so the runner
//! does not rely on how serde_json happens to be built: it sorts explicitly when needed.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Whether this build's `serde_json::Map` already keeps keys sorted (no
/// `preserve_order`), in which case sorting is a costly no-op and is skipped.
pub fn maps_are_sorted() -> bool {
    static SORTED: OnceLock<bool> = OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut probe = Map::new();
        probe.insert("b".to_owned(), Value::Null);
        probe.insert("a".to_owned(), Value::Null);
        probe.keys().next().map(String::as_str) == Some("a")
    })
}

/// Returns `value` with the keys of every object, at every depth, in sorted order.
pub fn sort_keys(value: Value) -> Value {
    if maps_are_sorted() {
        return value;
    }
    sort_recursively(value)
}

/// Same as [`sort_keys`] for an object's map.
pub fn sort_map_keys(map: Map<String, Value>) -> Map<String, Value> {
    if maps_are_sorted() {
        return map;
    }
    sort_map(map)
}

fn sort_recursively(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(sort_map(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(sort_recursively).collect()),
        scalar => scalar,
    }
}

fn sort_map(map: Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.cmp(b));
    entries
        .into_iter()
        .map(|(key, value)| (key, sort_recursively(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_come_out_sorted_at_every_depth() {
        let value: Value =
            serde_json::from_str(r#"{"z":1,"a":{"y":[{"d":1,"c":2}],"b":null},"m":"x"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&sort_keys(value.clone())).unwrap(),
            r#"{"a":{"b":null,"y":[{"c":2,"d":1}]},"m":"x","z":1}"#
        );
        // The sorting itself, whether or not this build needs it.
        assert_eq!(
            serde_json::to_string(&sort_recursively(value)).unwrap(),
            r#"{"a":{"b":null,"y":[{"c":2,"d":1}]},"m":"x","z":1}"#
        );
    }

    #[test]
    fn scalars_and_arrays_keep_their_order() {
        let value = json!([3, "b", "a", 1.5, true, null]);
        assert_eq!(sort_keys(value.clone()), value);
    }
}
