//! Where the bundle comes from, and the volume that mounts it: a ConfigMap or
//! Secret in the pod's namespace, or a ClusterTrustBundle projection.

use serde_json::{Map, Value};

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
        one("clusterTrustBundle", Value::Object(item))
    }

    /// The volume source field and its value (`cert_file` is the projected
    /// path of a ClusterTrustBundle).
    pub fn volume_source(&self, cert_file: &str) -> (&'static str, Value) {
        let named = |key: &str, name: &str| one(key, Value::String(name.to_string()));
        match self {
            Source::ConfigMap(name) => ("configMap", named("name", name)),
            Source::Secret(name) => ("secret", named("secretName", name)),
            Source::ClusterTrustBundle(bundle) => {
                let sources = vec![Source::projection(bundle, cert_file)];
                ("projected", one("sources", Value::Array(sources)))
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
        let name = Value::String(self.label().to_string());
        match self {
            Source::ConfigMap(_) | Source::Secret(_) => one(self.volume_field(), name),
            Source::ClusterTrustBundle(TrustBundle::Name(_)) => {
                one("clusterTrustBundle", one("name", name))
            }
            Source::ClusterTrustBundle(TrustBundle::Signer { .. }) => {
                one("clusterTrustBundle", one("signerName", name))
            }
        }
    }
}

/// `{key: value}`.
fn one(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
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
}
