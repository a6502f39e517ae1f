//! The `clusterTrustBundle` setting, checked as the API server checks a
//! projected ClusterTrustBundle volume: a bundle by name, or the bundles of a
//! signer that match a label selector.

use serde_json::{Map, Value};

use crate::diag::{At, Kind};
use crate::error::{Expected, Reason, Subject, ValueError};
use crate::fields::missing;
use crate::settings::names;
use crate::settings::reader::Reader;
use crate::settings::signer::{signer_name, trust_bundle_name};
use crate::settings::source::TrustBundle;

/// `clusterTrustBundle` refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(
        "setting \"clusterTrustBundle.labelSelector\" only goes with \"signerName\", not with \
         \"name\""
    )]
    SelectorWithName,
    #[error(
        "setting \"clusterTrustBundle.labelSelector\" is required with \"signerName\" (an unset \
         selector matches no bundle; {{}} matches every bundle of the signer)"
    )]
    SelectorRequired,
    #[error("setting \"clusterTrustBundle\": \"name\" and \"signerName\" are mutually exclusive")]
    NameAndSigner,
    #[error(
        "setting \"clusterTrustBundle\" needs \"name\", or \"signerName\" and \"labelSelector\""
    )]
    NameOrSigner,
    #[error("setting \"clusterTrustBundle.labelSelector\": {0}")]
    Selector(Selector),
}

/// The label selector refused, as `Error::Selector` names it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Selector {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error("must be a label selector object, found {0}")]
    NotObject(Kind),
    #[error("{0:?} is not part of a label selector (matchLabels, matchExpressions)")]
    UnknownField(String),
    #[error("{at}.{field} is not known: a requirement has {REQUIREMENT_FIELDS}")]
    UnknownRequirementField { at: String, field: String },
    #[error("{at} with In or NotIn needs at least one value")]
    ValuesNeeded { at: String },
    #[error("{at} with Exists or DoesNotExist takes no values")]
    ValuesRefused { at: String },
}

const REQUIREMENT_FIELDS: &str = "\"key\", \"operator\" and \"values\"";

/// The `clusterTrustBundle` setting: `{name}` or `{signerName, labelSelector}`.
pub fn parse_trust_bundle(value: &Value) -> Result<TrustBundle, Error> {
    let nested = Reader::nested(
        value,
        "clusterTrustBundle",
        &["name", "signerName", "labelSelector"],
        "\"name\", or \"signerName\" and \"labelSelector\"",
    )?;
    let selector = nested.get("labelSelector");
    match (nested.string("name")?, nested.string("signerName")?) {
        (Some(name), None) => {
            if selector.is_some() {
                return Err(Error::SelectorWithName);
            }
            trust_bundle_name(name).map_err(|reason| nested.invalid("name", name, reason))?;
            Ok(TrustBundle::Name(name.to_string()))
        }
        (None, Some(signer)) => {
            signer_name(signer).map_err(|reason| nested.invalid("signerName", signer, reason))?;
            let selector = selector.ok_or(Error::SelectorRequired)?;
            label_selector(selector).map_err(Error::Selector)?;
            Ok(TrustBundle::Signer {
                signer_name: signer.to_string(),
                label_selector: selector.clone(),
            })
        }
        (Some(_), Some(_)) => Err(Error::NameAndSigner),
        (None, None) => Err(Error::NameOrSigner),
    }
}

/// `{at} must be {expected}, found` what `found` is.
fn wrong(at: &At<'_>, expected: Expected, found: &Value) -> Selector {
    ValueError::wrong_kind(Subject::path(at), expected, Kind::of(found)).into()
}

/// A metav1.LabelSelector as ValidateLabelSelector checks it, with only the
/// fields of its type (the policy copies it into every pod).
fn label_selector(value: &Value) -> Result<(), Selector> {
    let Value::Object(map) = value else {
        return Err(Selector::NotObject(Kind::of(value)));
    };
    let root = At::Root("");
    for (key, field) in map {
        let at = At::Field(&root, key);
        match (key.as_str(), field) {
            ("matchLabels" | "matchExpressions", Value::Null) => {}
            ("matchLabels", Value::Object(labels)) => match_labels(labels)?,
            ("matchExpressions", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    requirement(item, &At::Item(&root, "matchExpressions", i))?;
                }
            }
            ("matchLabels", other) => return Err(wrong(&at, Expected::Object, other)),
            ("matchExpressions", other) => return Err(wrong(&at, Expected::List, other)),
            (unknown, _) => return Err(Selector::UnknownField(unknown.to_string())),
        }
    }
    Ok(())
}

fn match_labels(labels: &Map<String, Value>) -> Result<(), Selector> {
    let root = At::Root("matchLabels");
    for (key, value) in labels {
        names::qualified_name(key)
            .map_err(|reason| ValueError::invalid(Subject::path("matchLabels key"), key, reason))?;
        label_value(value, &At::Field(&root, key))?;
    }
    Ok(())
}

/// A label value, named `at` in messages.
fn label_value(value: &Value, at: &At<'_>) -> Result<(), Selector> {
    let Value::String(text) = value else {
        return Err(wrong(at, Expected::String, value));
    };
    names::label_value(text)
        .map_err(|reason| ValueError::invalid(Subject::path(at), text, reason).into())
}

/// One item of `matchExpressions`, named `at` in messages.
fn requirement(item: &Value, at: &At<'_>) -> Result<(), Selector> {
    let Value::Object(fields) = item else {
        return Err(wrong(at, Expected::ObjectWith(REQUIREMENT_FIELDS), item));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "key" | "operator" | "values"))
    {
        return Err(Selector::UnknownRequirementField {
            at: at.to_string(),
            field: unknown.clone(),
        });
    }
    let key_at = At::Field(at, "key");
    let key = fields.get("key");
    let key = required(key, &key_at, Expected::LabelKey, Expected::String)?;
    names::qualified_name(key)
        .map_err(|reason| ValueError::invalid(Subject::path(key_at), key, reason))?;
    let values = requirement_values(fields.get("values"), at)?;
    requirement_operator(fields.get("operator"), at, values)
}

/// A requirement's string field, named `at` in messages: missing, it must
/// be `needs`; of another kind, `kind`.
fn required<'v>(
    value: Option<&'v Value>,
    at: &At<'_>,
    needs: Expected,
    kind: Expected,
) -> Result<&'v str, Selector> {
    match value {
        None | Some(Value::Null) => Err(missing(at, Some(needs)).into()),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(wrong(at, kind, other)),
    }
}

/// A requirement's operator, which decides how many `values` it takes.
fn requirement_operator(
    operator: Option<&Value>,
    at: &At<'_>,
    values: usize,
) -> Result<(), Selector> {
    let here = At::Field(at, "operator");
    match required(operator, &here, Expected::Operator, Expected::Operator)? {
        "In" | "NotIn" if values == 0 => Err(Selector::ValuesNeeded { at: at.to_string() }),
        "Exists" | "DoesNotExist" if values > 0 => {
            Err(Selector::ValuesRefused { at: at.to_string() })
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" => Ok(()),
        other => Err(Selector::Value(ValueError::invalid(
            Subject::path(here),
            other,
            Reason::MustBe(Expected::Operator),
        ))),
    }
}

/// How many values the requirement at `at` has, each a valid label value.
fn requirement_values(values: Option<&Value>, at: &At<'_>) -> Result<usize, Selector> {
    let items = match values {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(wrong(&At::Field(at, "values"), Expected::StringList, other)),
    };
    for (i, value) in items.iter().enumerate() {
        label_value(value, &At::Item(at, "values", i))?;
    }
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::OBJECT_NAME;
    use serde_json::json;

    fn refused(value: Value) -> String {
        parse_trust_bundle(&value).unwrap_err().to_string()
    }

    #[test]
    fn trust_bundle_setting_forms_and_errors_naming_the_field() {
        assert_eq!(
            parse_trust_bundle(&json!({"name": "root-bundle"})),
            Ok(TrustBundle::Name("root-bundle".into()))
        );
        assert_eq!(
            parse_trust_bundle(
                &json!({"signerName": "example.com/corp", "labelSelector": {"matchLabels": {"trust": "corp"}}})
            ),
            Ok(TrustBundle::Signer {
                signer_name: "example.com/corp".into(),
                label_selector: json!({"matchLabels": {"trust": "corp"}})
            })
        );
        let cases = [
            (
                json!("x"),
                "setting \"clusterTrustBundle\" must be an object with \"name\", or \"signerName\" and \"labelSelector\", found a string",
            ),
            (
                json!({}),
                "setting \"clusterTrustBundle\" needs \"name\", or \"signerName\" and \"labelSelector\"",
            ),
            (
                json!({"name": "a", "signerName": "a.com/b"}),
                "setting \"clusterTrustBundle\": \"name\" and \"signerName\" are mutually exclusive",
            ),
            (
                json!({"signerName": "a.com/b"}),
                "setting \"clusterTrustBundle.labelSelector\" is required with \"signerName\" (an unset selector matches no bundle; {} matches every bundle of the signer)",
            ),
            (
                json!({"nam": "a"}),
                "setting \"clusterTrustBundle.nam\" is not known: use \"name\", or \"signerName\" and \"labelSelector\"",
            ),
            (
                json!({"name": "a", "labelSelector": {}}),
                "setting \"clusterTrustBundle.labelSelector\" only goes with \"signerName\", not with \"name\"",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(refused(value.clone()), message, "{value}");
        }
    }

    #[test]
    fn trust_bundle_name_is_a_subdomain_after_its_signer_prefix() {
        for good in [
            "root-bundle",
            "a.b",
            "example.com:corp:root",
            "example.com:corp.team:v1.root",
        ] {
            assert_eq!(trust_bundle_name(good), Ok(()), "{good:?}");
        }
        // A bundle of a signer may be longer than 253 characters in all.
        let long = format!("{}.com:{}:root", "d".repeat(60), "p".repeat(200));
        assert_eq!(trust_bundle_name(&long), Ok(()));
        let either = format!(
            "it {OBJECT_NAME}, or a signer's bundle name such as \"example.com:my-signer:root\""
        );
        let r = "r".repeat(254);
        let cases = [
            (
                "corp:root",
                "its signer prefix \"corp:\" names the signer \"corp\", which must be a signer \
                 name of the form \"example.com/my-signer\": a domain, one '/' and a path"
                    .to_string(),
            ),
            ("Bad Name", either),
            (
                &format!("a:b:{r}"),
                "its signer prefix \"a:b:\" names the signer \"a/b\", which must have a domain \
                 of at least two labels separated by dots (e.g. \"example.com/my-signer\")"
                    .to_string(),
            ),
            (
                &format!("a.com:b:{r}"),
                format!(
                    "after its signer prefix \"a.com:b:\", \"{r}\" must be at most 253 \
                     characters, it has 254"
                ),
            ),
        ];
        for (name, problem) in cases {
            assert_eq!(
                refused(json!({"name": name})),
                format!(
                    "setting \"clusterTrustBundle.name\": {name:?} is not a ClusterTrustBundle \
                     name: {problem}"
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn signer_name_follows_validate_signer_name() {
        for good in [
            "example.com/corp",
            "a.b/c",
            "example.com/team.corp-signer",
            &format!(
                "{}.com/{}.{}",
                "d".repeat(63),
                "n".repeat(63),
                "p".repeat(253)
            ),
        ] {
            assert_eq!(signer_name(good), Ok(()), "{good:?}");
        }
        let form = "must be a signer name of the form \"example.com/my-signer\": a domain, \
             one '/' and a path";
        let label = |label: &str| {
            format!(
                "has the domain label {label:?}, which must be at most 63 lowercase letters, \
                 digits and '-', starting and ending with a letter or digit"
            )
        };
        let part = |part: &str| {
            format!(
                "has the path part {part:?}, which must be lowercase letters, digits and '-', \
                 starting and ending with a letter or digit, at most 253 characters (the path's \
                 parts are separated by dots)"
            )
        };
        let cases = [
            ("nodomain", form.to_string()),
            ("a.com/b/c", form.to_string()),
            ("Example.com/corp", label("Example")),
            ("example..com/corp", label("")),
            ("example.com/", part("")),
            ("example.com/corp.", part("")),
        ];
        for (signer, reason) in cases {
            assert_eq!(
                refused(json!({"signerName": signer, "labelSelector": {}})),
                format!("setting \"clusterTrustBundle.signerName\": {signer:?} {reason}"),
            );
        }
        let long_domain = format!("{}.com/corp", "d.".repeat(126));
        assert_eq!(
            signer_name(&long_domain).map_err(|r| r.to_string()),
            Err("must have a domain of at most 253 characters, it has 256".to_string())
        );
        let long = format!(
            "{}.com/{}.{}.{}",
            "d".repeat(63),
            "p".repeat(253),
            "p".repeat(253),
            "p".repeat(10)
        );
        assert_eq!(
            signer_name(&long).map_err(|r| r.to_string()),
            Err(format!(
                "must be at most 571 characters, it has {}",
                long.len()
            ))
        );
    }

    const QUALIFIED: &str = "must be a qualified name: at most 63 letters, digits, '-', '_' and \
         '.', starting and ending with a letter or digit, optionally after a DNS subdomain and '/' \
         (e.g. \"trust\" or \"example.com/trust\")";
    const LABEL_VALUE: &str = "must be a label value: empty, or at most 63 letters, digits, '-', \
         '_' and '.', starting and ending with a letter or digit (e.g. \"corp\")";

    #[test]
    fn label_selector_follows_validate_label_selector() {
        for good in [
            json!({}),
            json!({"matchLabels": null, "matchExpressions": null}),
            json!({"matchLabels": {"trust": "corp", "example.com/tier": ""}}),
            json!({"matchExpressions": [
                {"key": "trust", "operator": "In", "values": ["corp", "Corp_2"]},
                {"key": "example.com/x", "operator": "DoesNotExist"},
                {"key": "y", "operator": "Exists", "values": null},
                {"key": "z", "operator": "NotIn", "values": [""]}
            ]}),
        ] {
            assert_eq!(label_selector(&good), Ok(()), "{good}");
        }
        let cases = [
            (json!([]), "must be a label selector object, found a list".to_string()),
            (json!({"matchLabel": {}}), "\"matchLabel\" is not part of a label selector (matchLabels, matchExpressions)".to_string()),
            (json!({"matchLabels": []}), "matchLabels must be an object, found a list".to_string()),
            (json!({"matchLabels": {"Bad Key": "x"}}), format!("matchLabels key \"Bad Key\" {QUALIFIED}")),
            (json!({"matchLabels": {"trust": 1}}), "matchLabels.trust must be a string, found a number".to_string()),
            (json!({"matchLabels": {"trust": "Bad Value"}}), format!("matchLabels.trust \"Bad Value\" {LABEL_VALUE}")),
            (json!({"matchLabels": {"trust": "v".repeat(64)}}), format!("matchLabels.trust \"{}\" {LABEL_VALUE}", "v".repeat(64))),
            (json!({"matchExpressions": {}}), "matchExpressions must be a list, found an object".to_string()),
            (json!({"matchExpressions": ["trust"]}), "matchExpressions[0] must be an object with \"key\", \"operator\" and \"values\", found a string".to_string()),
            (json!({"matchExpressions": [{"operator": "Exists"}]}), "matchExpressions[0].key is missing: it must be a label key (e.g. \"trust\")".to_string()),
            (json!({"matchExpressions": [{"key": 1, "operator": "Exists"}]}), "matchExpressions[0].key must be a string, found a number".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "Exists", "nested": {"deeper": [1]}}]}), "matchExpressions[0].nested is not known: a requirement has \"key\", \"operator\" and \"values\"".to_string()),
            (json!({"matchExpressions": [{"key": "k"}]}), "matchExpressions[0].operator is missing: it must be In, NotIn, Exists or DoesNotExist".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "Equals"}]}), "matchExpressions[0].operator \"Equals\" must be In, NotIn, Exists or DoesNotExist".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": true}]}), "matchExpressions[0].operator must be In, NotIn, Exists or DoesNotExist, found a boolean".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "In"}]}), "matchExpressions[0] with In or NotIn needs at least one value".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "Exists", "values": ["a"]}]}), "matchExpressions[0] with Exists or DoesNotExist takes no values".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "In", "values": "a"}]}), "matchExpressions[0].values must be a list of strings, found a string".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["a", 2]}]}), "matchExpressions[0].values[1] must be a string, found a number".to_string()),
            (json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["a"]}, {"key": "k", "operator": "In", "values": ["a", "x y"]}]}), format!("matchExpressions[1].values[1] \"x y\" {LABEL_VALUE}")),
        ];
        for (selector, message) in cases {
            let settings = json!({"signerName": "example.com/corp", "labelSelector": selector});
            let message = format!("setting \"clusterTrustBundle.labelSelector\": {message}");
            assert_eq!(refused(settings), message, "{selector}");
        }
    }
}
