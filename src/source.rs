//! Where the bundle comes from, and the volume that mounts it: a ConfigMap or
//! Secret in the pod's namespace, or a ClusterTrustBundle projection.

use serde_json::{Map, Value};

use crate::names;
use crate::settings::{kind_of, Nested};

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    ConfigMap(String),
    Secret(String),
    ClusterTrustBundle(TrustBundle),
}

/// A ClusterTrustBundle projection picks one bundle by name, or every bundle
/// of a signer that matches a label selector.
#[derive(Debug, Clone, PartialEq)]
pub enum TrustBundle {
    Name(String),
    Signer {
        signer_name: String,
        label_selector: Value,
    },
}

impl Source {
    /// What the volume name is made from.
    pub fn label(&self) -> &str {
        match self {
            Source::ConfigMap(name) | Source::Secret(name) => name,
            Source::ClusterTrustBundle(TrustBundle::Name(name)) => name,
            Source::ClusterTrustBundle(TrustBundle::Signer { signer_name, .. }) => signer_name,
        }
    }

    /// The field of a volume that holds this kind of source.
    pub fn volume_field(&self) -> &'static str {
        match self {
            Source::ConfigMap(_) => "configMap",
            Source::Secret(_) => "secret",
            Source::ClusterTrustBundle(_) => "projected",
        }
    }

    /// The ClusterTrustBundle projection item, which puts the PEM at `path`.
    fn projection(bundle: &TrustBundle, path: &str) -> Value {
        let mut item = Map::new();
        match bundle {
            TrustBundle::Name(name) => {
                item.insert("name".into(), Value::String(name.clone()));
            }
            TrustBundle::Signer {
                signer_name,
                label_selector,
            } => {
                item.insert("signerName".into(), Value::String(signer_name.clone()));
                item.insert("labelSelector".into(), label_selector.clone());
            }
        }
        item.insert("path".into(), Value::String(path.to_string()));
        let mut source = Map::new();
        source.insert("clusterTrustBundle".into(), Value::Object(item));
        Value::Object(source)
    }

    /// The volume source field and its value (`cert_file` is the projected
    /// path of a ClusterTrustBundle).
    pub fn volume_source(&self, cert_file: &str) -> (&'static str, Value) {
        let named = |key: &str, name: &str| {
            let mut map = Map::new();
            map.insert(key.to_string(), Value::String(name.to_string()));
            Value::Object(map)
        };
        match self {
            Source::ConfigMap(name) => ("configMap", named("name", name)),
            Source::Secret(name) => ("secret", named("secretName", name)),
            Source::ClusterTrustBundle(bundle) => {
                let mut projected = Map::new();
                projected.insert(
                    "sources".into(),
                    Value::Array(vec![Source::projection(bundle, cert_file)]),
                );
                ("projected", Value::Object(projected))
            }
        }
    }

    /// Whether an existing volume already carries this whole source, so that
    /// it can be mounted as it is instead of adding a second volume.
    pub fn carried_by(&self, volume: &Map<String, Value>, cert_file: &str) -> bool {
        let (field, ours) = self.volume_source(cert_file);
        let Some(theirs) = volume.get(field).and_then(Value::as_object) else {
            return false;
        };
        match (self, &ours) {
            (Source::ClusterTrustBundle(_), Value::Object(ours)) => {
                theirs.get("sources") == ours.get("sources")
            }
            (_, Value::Object(ours)) => {
                ours.iter().all(|(k, v)| theirs.get(k) == Some(v))
                    && theirs.get("items").is_none_or(Value::is_null)
            }
            _ => false,
        }
    }

    /// How the status annotation names the source.
    pub fn describe(&self) -> Value {
        let mut map = Map::new();
        match self {
            Source::ConfigMap(name) => {
                map.insert("configMap".into(), Value::String(name.clone()));
            }
            Source::Secret(name) => {
                map.insert("secret".into(), Value::String(name.clone()));
            }
            Source::ClusterTrustBundle(bundle) => {
                let mut inner = Map::new();
                match bundle {
                    TrustBundle::Name(name) => {
                        inner.insert("name".into(), Value::String(name.clone()));
                    }
                    TrustBundle::Signer { signer_name, .. } => {
                        inner.insert("signerName".into(), Value::String(signer_name.clone()));
                    }
                }
                map.insert("clusterTrustBundle".into(), Value::Object(inner));
            }
        }
        Value::Object(map)
    }
}

/// The `clusterTrustBundle` setting: `{name}` or `{signerName, labelSelector}`.
pub fn parse_trust_bundle(value: &Value) -> Result<TrustBundle, String> {
    const KEY: &str = "clusterTrustBundle";
    let nested = Nested::read(
        value,
        KEY,
        &["name", "signerName", "labelSelector"],
        "\"name\", or \"signerName\" and \"labelSelector\"",
    )?;
    let text = |field: &str| nested.text(field);
    let selector = nested.get("labelSelector");
    match (text("name")?, text("signerName")?) {
        (Some(name), None) => {
            if selector.is_some() {
                return Err(format!(
                    "setting \"{KEY}.labelSelector\" only goes with \"signerName\", not with \
                     \"name\""
                ));
            }
            trust_bundle_name(name)
                .map_err(|reason| format!("setting \"{KEY}.name\": {name:?} {reason}"))?;
            Ok(TrustBundle::Name(name.to_string()))
        }
        (None, Some(signer)) => {
            signer_name(signer)
                .map_err(|reason| format!("setting \"{KEY}.signerName\": {signer:?} {reason}"))?;
            let selector = selector.ok_or_else(|| {
                format!(
                    "setting \"{KEY}.labelSelector\" is required with \"signerName\" (an unset \
                     selector matches no bundle; {{}} matches every bundle of the signer)"
                )
            })?;
            label_selector(selector)
                .map_err(|reason| format!("setting \"{KEY}.labelSelector\": {reason}"))?;
            Ok(TrustBundle::Signer {
                signer_name: signer.to_string(),
                label_selector: selector.clone(),
            })
        }
        (Some(_), Some(_)) => Err(format!(
            "setting \"{KEY}\": \"name\" and \"signerName\" are mutually exclusive"
        )),
        (None, None) => Err(format!(
            "setting \"{KEY}\" needs \"name\", or \"signerName\" and \"labelSelector\""
        )),
    }
}

/// ClusterTrustBundle names: those linked to a signer carry it with ':' for '/'.
fn trust_bundle_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b':')
        })
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(
            "must be a ClusterTrustBundle name: lowercase letters, digits, '-', '.' and ':' \
             (e.g. \"example.com:my-signer:root\"), at most 253 characters"
                .to_string(),
        )
    }
}

/// `<domain>/<name>`, as Kubernetes signer names are.
fn signer_name(value: &str) -> Result<(), String> {
    const FORM: &str = "must be a signer name of the form \"example.com/my-signer\"";
    let (domain, path) = value.split_once('/').ok_or_else(|| FORM.to_string())?;
    let path_ok = !path.is_empty()
        && path.len() <= 253
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if names::dns_subdomain(domain).is_err() || !path_ok {
        return Err(FORM.to_string());
    }
    Ok(())
}

/// A metav1.LabelSelector: `matchLabels` and/or `matchExpressions`.
fn label_selector(value: &Value) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "must be a label selector object, found {}",
            kind_of(value)
        ));
    };
    for (key, field) in map {
        match (key.as_str(), field) {
            ("matchLabels", Value::Object(labels)) => {
                if let Some((k, v)) = labels.iter().find(|(_, v)| !v.is_string()) {
                    return Err(format!(
                        "matchLabels.{k} must be a string, found {}",
                        kind_of(v)
                    ));
                }
            }
            ("matchExpressions", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    requirement(item)
                        .map_err(|reason| format!("matchExpressions[{i}] {reason}"))?;
                }
            }
            ("matchLabels", other) => {
                return Err(format!(
                    "matchLabels must be an object, found {}",
                    kind_of(other)
                ))
            }
            ("matchExpressions", other) => {
                return Err(format!(
                    "matchExpressions must be a list, found {}",
                    kind_of(other)
                ))
            }
            (unknown, _) => {
                return Err(format!(
                    "{unknown:?} is not part of a label selector (matchLabels, matchExpressions)"
                ))
            }
        }
    }
    Ok(())
}

fn requirement(item: &Value) -> Result<(), String> {
    let key_ok = item.get("key").is_some_and(Value::is_string);
    let operator = item.get("operator").and_then(Value::as_str);
    let values: Option<Vec<&Value>> = match item.get("values") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(values)) if values.iter().all(Value::is_string) => {
            Some(values.iter().collect())
        }
        Some(_) => None,
    };
    match (key_ok, operator, values) {
        (false, _, _) => Err("needs a string \"key\"".to_string()),
        (_, _, None) => Err("\"values\" must be a list of strings".to_string()),
        (_, Some("In" | "NotIn"), Some(v)) if v.is_empty() => {
            Err("with In or NotIn needs at least one value".to_string())
        }
        (_, Some("Exists" | "DoesNotExist"), Some(v)) if !v.is_empty() => {
            Err("with Exists or DoesNotExist takes no values".to_string())
        }
        (_, Some("In" | "NotIn" | "Exists" | "DoesNotExist"), Some(_)) => Ok(()),
        _ => Err("needs \"operator\": In, NotIn, Exists or DoesNotExist".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_map_volume_is_reused_with_extra_fields_but_not_with_items() {
        let source = Source::ConfigMap("ca".into());
        let with_mode = json!({"name": "v", "configMap": {"name": "ca", "defaultMode": 420}});
        assert!(source.carried_by(with_mode.as_object().unwrap(), "ca.crt"));
        let with_items =
            json!({"name": "v", "configMap": {"name": "ca", "items": [{"key": "a", "path": "a"}]}});
        assert!(!source.carried_by(with_items.as_object().unwrap(), "ca.crt"));
        let secret = json!({"name": "v", "secret": {"secretName": "ca"}});
        assert!(!source.carried_by(secret.as_object().unwrap(), "ca.crt"));
    }

    #[test]
    fn trust_bundle_projection_puts_the_pem_at_cert_file() {
        let source =
            Source::ClusterTrustBundle(TrustBundle::Name("example.com:signer:root".into()));
        assert_eq!(
            source.volume_source("ca.crt"),
            (
                "projected",
                json!({"sources": [{"clusterTrustBundle": {"name": "example.com:signer:root", "path": "ca.crt"}}]})
            )
        );
        let (_, projected) = source.volume_source("ca.crt");
        let volume = json!({"name": "x", "projected": projected});
        assert!(source.carried_by(volume.as_object().unwrap(), "ca.crt"));
        assert!(!source.carried_by(volume.as_object().unwrap(), "other.pem"));
    }

    #[test]
    fn trust_bundle_setting_forms() {
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
    }

    #[test]
    fn trust_bundle_setting_errors_name_the_field() {
        let cases = [
            (json!("x"), "setting \"clusterTrustBundle\" must be an object"),
            (json!({}), "setting \"clusterTrustBundle\" needs \"name\""),
            (json!({"name": "a", "signerName": "a.com/b"}), "setting \"clusterTrustBundle\": \"name\" and \"signerName\" are mutually exclusive"),
            (json!({"signerName": "a.com/b"}), "setting \"clusterTrustBundle.labelSelector\" is required"),
            (json!({"signerName": "nodomain", "labelSelector": {}}), "setting \"clusterTrustBundle.signerName\": \"nodomain\" must be a signer name"),
            (json!({"name": "Bad Name"}), "setting \"clusterTrustBundle.name\": \"Bad Name\" must be a ClusterTrustBundle name"),
            (json!({"nam": "a"}), "setting \"clusterTrustBundle.nam\" is not known"),
            (json!({"signerName": "a.com/b", "labelSelector": {"matchLabel": {}}}), "setting \"clusterTrustBundle.labelSelector\": \"matchLabel\" is not part of a label selector"),
            (json!({"signerName": "a.com/b", "labelSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}}), "setting \"clusterTrustBundle.labelSelector\": matchExpressions[0] with In or NotIn needs at least one value"),
            (json!({"name": "a", "labelSelector": {}}), "setting \"clusterTrustBundle.labelSelector\" only goes with \"signerName\""),
        ];
        for (value, start) in cases {
            let err = parse_trust_bundle(&value).unwrap_err();
            assert!(err.starts_with(start), "{value}: {err}");
        }
    }
}
