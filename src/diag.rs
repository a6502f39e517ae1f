//! What a message says about a value: where it is in the object (`At`), what
//! kind of JSON value it is (`Kind`), and which known key a mistyped one was
//! meant to be (`suggestion`). Every module may use this one; it uses none.

use std::fmt;

use serde_json::Value;

/// Where a value is in the object (`spec.containers[0].env`), for messages;
/// only written out when there is something to say.
#[derive(Clone, Copy)]
pub enum At<'p> {
    Root(&'p str),
    Field(&'p At<'p>, &'p str),
    Item(&'p At<'p>, &'p str, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent = |f: &mut fmt::Formatter<'_>, p: &At<'_>| match p {
            At::Root("") => Ok(()),
            other => write!(f, "{other}."),
        };
        match self {
            At::Root(path) => f.write_str(path),
            At::Field(p, field) => {
                parent(f, p)?;
                f.write_str(field)
            }
            At::Item(p, field, index) => {
                parent(f, p)?;
                write!(f, "{field}[{index}]")
            }
        }
    }
}

/// The kind of a JSON value, as messages name it ("found a list").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Number,
    String,
    List,
    Object,
}

impl Kind {
    pub fn of(value: &Value) -> Kind {
        match value {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Object,
        }
    }

    /// The kind of well-formed JSON text, told by its first byte.
    pub fn of_text(text: &str) -> Kind {
        match text.as_bytes().first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::List,
            Some(b'"') => Kind::String,
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Boolean,
            _ => Kind::Number,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Null => "null",
            Kind::Boolean => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::List => "a list",
            Kind::Object => "an object",
        })
    }
}

/// ` (did you mean "{prefix}{near}"?)` when `typed` looks like a typo of one
/// of `known`; nothing otherwise.
pub fn did_you_mean(known: &[&str], typed: &str, prefix: &str) -> String {
    known
        .iter()
        .find(|k| is_near(k, typed))
        .map(|near| format!(" (did you mean \"{prefix}{near}\"?)"))
        .unwrap_or_default()
}

/// Whether `typed` is likely a typo of `known`: the same but for case, or
/// at most two edits away (compared only when the lengths allow it, so that a
/// huge key costs nothing).
fn is_near(known: &str, typed: &str) -> bool {
    known.eq_ignore_ascii_case(typed)
        || (known.len().abs_diff(typed.len()) <= 2 && edit_distance(known, typed) <= 2)
}

/// Levenshtein distance, for "did you mean" hints on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let delete = above.saturating_add(1);
            let insert = next.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            diagonal = above;
            next.push(substitute.min(delete).min(insert));
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_in_messages() {
        let root = At::Root("spec.template.spec");
        let item = At::Item(&root, "containers", 2);
        let env = At::Field(&item, "env");
        assert_eq!(env.to_string(), "spec.template.spec.containers[2].env");
        let top = At::Root("");
        assert_eq!(At::Field(&top, "metadata").to_string(), "metadata");
    }

    #[test]
    fn kinds_of_values_and_of_text_agree() {
        for (value, kind) in [
            (json!({}), "an object"),
            (json!([]), "a list"),
            (json!("s"), "a string"),
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(false), "a boolean"),
            (json!(-1), "a number"),
        ] {
            assert_eq!(Kind::of(&value).to_string(), kind, "{value}");
            let text = value.to_string();
            assert_eq!(Kind::of_text(&text), Kind::of(&value), "{value}");
        }
    }

    /// Near is at most two edits apart.
    #[test]
    fn typos_are_near_and_huge_keys_are_not_compared() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert!(is_near("excludeNamespaces", "excludeNamespace"));
        assert!(is_near("mountPath", "mountpath"));
        assert!(!is_near("mountPath", &"m".repeat(1_000_000)));
        let known = ["inject", "mountPath"];
        let hint = " (did you mean \"p/mountPath\"?)";
        assert_eq!(did_you_mean(&known, "mountpat", "p/"), hint);
        assert_eq!(did_you_mean(&known, "zzz", "p/"), "");
    }
}
