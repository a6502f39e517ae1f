//! A manifest wrapped into the AdmissionRequest kwctl would send for it.
//!
//! Mirrors `kwctl scaffold admission-request` (kwctl `scaffold/admission_request.rs`)
//! as it runs without a cluster: the manifest is read with yaml_serde into kube's
//! `DynamicObject`, whose `metadata` is k8s-openapi's `ObjectMeta` (so unknown
//! metadata fields are dropped and timestamps rewritten, as in kwctl), and the
//! resource catalog is empty, so `resource` is kwctl's fallback plural name and the
//! namespace is only the manifest's own. kwctl scaffolds CREATE only; UPDATE and
//! DELETE here place the objects where Kubernetes does, and `namespace` sets the
//! request's namespace as `kubectl apply -n` would.

use std::{fmt, path::Path};

use anyhow::{Result, anyhow, bail};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    json::sort_keys,
    request::{AdmissionRequest, GroupVersionKind, GroupVersionResource, UserInfo},
};

/// kwctl's hard-coded request uid.
pub const UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";

/// kwctl's `resource` when it cannot ask an API server for the plural name.
pub const FALLBACK_RESOURCE: &str = "this-is-the-plural-name-of-the-resource-this-information-is-not-used-by-policies-and-requires-a-connection-to-an-api-server-to-be-obtained";

/// The Kubernetes API server's refusal of an object whose namespace is not the
/// request's (apiserver `registry/rest/meta.go`).
pub const NAMESPACE_MISMATCH: &str =
    "the namespace of the provided object does not match the namespace sent on the request";

/// The operations a request can be scaffolded for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Operation {
    #[default]
    Create,
    Update,
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        })
    }
}

/// kube-core's `DynamicObject`, field for field: the type fields and `metadata` are
/// taken out, everything else is kept as it was written.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DynamicObject {
    #[serde(flatten, default)]
    types: Option<TypeMeta>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(flatten)]
    data: Value,
}

/// kube-core's `TypeMeta`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    api_version: String,
    kind: String,
}

/// One manifest file, read as kwctl reads it.
#[derive(Clone, Debug)]
pub struct Manifest {
    path: String,
    kind: GroupVersionKind,
    object: DynamicObject,
}

impl Manifest {
    /// Reads a YAML (or JSON) manifest. The error texts are kwctl's.
    pub fn read(path: &Path) -> Result<Self> {
        let shown = path.to_string_lossy().into_owned();
        let file = std::fs::File::open(path)
            .map_err(|e| anyhow!("failed to open object file {shown}: {e}"))?;
        let object: DynamicObject = yaml_serde::from_reader(file)
            .map_err(|e| anyhow!("failed to parse object file {shown}: {e}"))?;
        Self::from_object(shown, object)
    }

    fn from_object(path: String, object: DynamicObject) -> Result<Self> {
        let types = object.types.clone().ok_or_else(|| {
            anyhow!(
                "object defined inside of {path} is missing types (apiVersion and kind); \
                 an AdmissionRequest or AdmissionReview is read with --request-path"
            )
        })?;
        if types.kind == "AdmissionReview" {
            bail!(
                "{path} holds an AdmissionReview, not an object to admit: read it with --request-path"
            );
        }
        // kube-core's `GroupVersion::from_str`: "v1" is the core group.
        let (group, version) = types
            .api_version
            .split_once('/')
            .unwrap_or(("", &types.api_version));
        let kind = GroupVersionKind {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: types.kind,
        };
        Ok(Self { path, kind, object })
    }

    pub fn kind(&self) -> &GroupVersionKind {
        &self.kind
    }

    pub fn name(&self) -> Option<&str> {
        self.object.metadata.name.as_deref()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object.metadata.namespace.as_deref()
    }

    /// Puts the object in the request's namespace as the API server does before
    /// admission: an object without one gets it, one with another is refused.
    fn place_in(&mut self, namespace: &str) -> Result<()> {
        match self.object.metadata.namespace.as_deref() {
            None | Some("") => {
                self.object.metadata.namespace = Some(namespace.to_owned());
                Ok(())
            }
            Some(own) if own == namespace => Ok(()),
            Some(own) => Err(anyhow!(
                "{}: metadata.namespace is {own:?} but the request's namespace is {namespace:?}: \
                 {NAMESPACE_MISMATCH}",
                self.path
            )),
        }
    }

    /// The object as kwctl puts it in the request: `DynamicObject` serialised
    /// again, keys sorted (kwctl's serde_json keeps no insertion order).
    fn to_value(&self) -> Result<Value> {
        Ok(sort_keys(serde_json::to_value(&self.object)?))
    }
}

/// What a request is scaffolded from.
#[derive(Clone, Debug)]
pub struct Scaffold {
    pub operation: Operation,
    /// The manifest the request is about: `object` for CREATE and UPDATE, the
    /// object being deleted (`oldObject`) for DELETE.
    pub object: Manifest,
    /// UPDATE only: the object as it was; the same manifest when absent (a
    /// re-apply that changes nothing).
    pub old_object: Option<Manifest>,
    /// The request's namespace (`kubectl -n`); the manifest's own when absent.
    pub namespace: Option<String>,
}

impl Scaffold {
    /// The AdmissionRequest, with kwctl's uid, user and (offline) resource.
    pub fn admission_request(self) -> Result<AdmissionRequest> {
        let Scaffold {
            operation,
            object,
            old_object,
            namespace,
        } = self;
        let mut object = object;
        if let Some(namespace) = &namespace {
            object.place_in(namespace)?;
        }
        let old_object = match (operation, old_object) {
            (Operation::Update, Some(mut old)) => {
                if let Some(namespace) = &namespace {
                    old.place_in(namespace)?;
                }
                same_object(&object, &old)?;
                Some(old)
            }
            (Operation::Update, None) => Some(object.clone()),
            (_, Some(old)) => bail!(
                "{operation} operation does not take an old object ({}): only UPDATE has one; \
                 for DELETE, --object is the object being deleted",
                old.path
            ),
            (_, None) => None,
        };
        build(operation, object, old_object)
    }
}

/// An UPDATE changes one object: same kind, name and namespace before and after.
fn same_object(object: &Manifest, old: &Manifest) -> Result<()> {
    let identity = |m: &Manifest| {
        (
            m.kind.clone(),
            m.name().map(str::to_owned),
            m.namespace().map(str::to_owned),
        )
    };
    if identity(object) == identity(old) {
        return Ok(());
    }
    let describe = |m: &Manifest| {
        format!(
            "{} is {}{} {}{}",
            m.path,
            if m.kind.group.is_empty() {
                String::new()
            } else {
                format!("{}/", m.kind.group)
            },
            m.kind.version,
            m.kind.kind,
            match (m.namespace(), m.name()) {
                (Some(ns), Some(name)) => format!(" {ns}/{name}"),
                (None, Some(name)) => format!(" {name}"),
                (_, None) => " without a name".to_owned(),
            }
        )
    };
    bail!(
        "an UPDATE changes one object, but {} and {}",
        describe(object),
        describe(old)
    )
}

/// kwctl's `scaffold_create` with an empty resource catalog, for any operation.
fn build(
    operation: Operation,
    manifest: Manifest,
    old_object: Option<Manifest>,
) -> Result<AdmissionRequest> {
    let kind = manifest.kind.clone();
    let resource = GroupVersionResource {
        group: kind.group.clone(),
        version: kind.version.clone(),
        resource: FALLBACK_RESOURCE.to_owned(),
    };
    let (object, old_object) = match operation {
        // Kubernetes sends a DELETE with the stored object as oldObject only.
        Operation::Delete => (None, Some(manifest.to_value()?)),
        _ => (
            Some(manifest.to_value()?),
            old_object.map(|old| old.to_value()).transpose()?,
        ),
    };
    Ok(AdmissionRequest {
        uid: UID.to_owned(),
        kind: kind.clone(),
        resource: resource.clone(),
        sub_resource: None,
        request_kind: Some(kind),
        request_resource: Some(resource),
        request_sub_resource: None,
        name: manifest.name().map(str::to_owned),
        namespace: manifest.namespace().map(str::to_owned),
        operation: operation.to_string(),
        user_info: UserInfo {
            username: Some("test-user".to_owned()),
            groups: Some(vec!["system:masters".to_owned()]),
            ..UserInfo::default()
        },
        object,
        old_object,
        dry_run: None,
        options: None,
    })
}

/// The request as `kwctl scaffold admission-request` prints it (pretty JSON).
pub fn to_pretty_json(request: &AdmissionRequest) -> Result<String> {
    Ok(serde_json::to_string_pretty(request)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(path: &str, yaml: &str) -> Result<Manifest> {
        let object: DynamicObject = yaml_serde::from_str(yaml)
            .map_err(|e| anyhow!("failed to parse object file {path}: {e}"))?;
        Manifest::from_object(path.to_owned(), object)
    }

    fn create(object: Manifest) -> Scaffold {
        Scaffold {
            operation: Operation::Create,
            object,
            old_object: None,
            namespace: None,
        }
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n";

    #[test]
    fn the_core_group_is_empty_and_others_are_split_off() {
        assert_eq!(
            manifest("p.yaml", POD).unwrap().kind(),
            &GroupVersionKind {
                group: String::new(),
                version: "v1".into(),
                kind: "Pod".into()
            }
        );
        let deployment = manifest("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n").unwrap();
        assert_eq!(deployment.kind().group, "apps");
        assert_eq!(deployment.kind().version, "v1");
    }

    #[test]
    fn unknown_metadata_fields_are_dropped_and_timestamps_rewritten_as_kwctl_does() {
        let pod = manifest(
            "p.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  creationTimestamp: 2024-05-01T12:00:00.250+02:00\n  futureField: x\n  labels: null\nspec: {}\nstatus: {}\n",
        )
        .unwrap();
        assert_eq!(
            pod.to_value().unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"creationTimestamp": "2024-05-01T10:00:00Z", "name": "web"},
                "spec": {},
                "status": {}
            })
        );
    }

    #[test]
    fn a_manifest_without_metadata_gets_an_empty_one() {
        let value = manifest("p.yaml", "apiVersion: v1\nkind: Pod\n")
            .unwrap()
            .to_value()
            .unwrap();
        assert_eq!(
            value,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}})
        );
    }

    #[test]
    fn a_manifest_without_kind_is_refused_naming_the_file() {
        let err = manifest("p.yaml", "apiVersion: v1\nmetadata: {name: web}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "object defined inside of p.yaml is missing types (apiVersion and kind); an AdmissionRequest or AdmissionReview is read with --request-path"
        );
    }

    #[test]
    fn an_admission_review_is_pointed_to_request_path() {
        let err = manifest(
            "r.json",
            r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.json holds an AdmissionReview, not an object to admit: read it with --request-path"
        );
    }

    #[test]
    fn create_without_namespace_leaves_it_out_as_kwctl_offline() {
        let request = create(manifest("p.yaml", POD).unwrap())
            .admission_request()
            .unwrap();
        assert_eq!(request.namespace, None);
        assert_eq!(request.name.as_deref(), Some("web"));
        assert_eq!(request.resource.resource, FALLBACK_RESOURCE);
        assert_eq!(request.object.unwrap()["metadata"], json!({"name": "web"}));
    }

    #[test]
    fn the_namespace_option_fills_the_objects_namespace() {
        let request = Scaffold {
            namespace: Some("team-a".into()),
            ..create(manifest("p.yaml", POD).unwrap())
        }
        .admission_request()
        .unwrap();
        assert_eq!(request.namespace.as_deref(), Some("team-a"));
        assert_eq!(
            request.object.unwrap()["metadata"],
            json!({"name": "web", "namespace": "team-a"})
        );
    }

    #[test]
    fn a_namespace_option_that_contradicts_the_manifest_is_refused() {
        let pod = POD.replace("  name: web\n", "  name: web\n  namespace: team-b\n");
        let err = Scaffold {
            namespace: Some("team-a".into()),
            ..create(manifest("p.yaml", &pod).unwrap())
        }
        .admission_request()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"p.yaml: metadata.namespace is "team-b" but the request's namespace is "team-a": the namespace of the provided object does not match the namespace sent on the request"#
        );
    }

    #[test]
    fn delete_sends_the_manifest_as_old_object_only() {
        let request = Scaffold {
            operation: Operation::Delete,
            ..create(manifest("p.yaml", POD).unwrap())
        }
        .admission_request()
        .unwrap();
        assert_eq!(request.operation, "DELETE");
        assert_eq!(request.object, None);
        assert_eq!(request.old_object.unwrap()["kind"], "Pod");
    }

    #[test]
    fn update_without_old_object_reapplies_the_same_manifest() {
        let request = Scaffold {
            operation: Operation::Update,
            ..create(manifest("p.yaml", POD).unwrap())
        }
        .admission_request()
        .unwrap();
        assert_eq!(request.operation, "UPDATE");
        assert_eq!(request.object, request.old_object);
        assert!(request.object.is_some());
    }

    #[test]
    fn update_of_another_object_is_refused() {
        let other = POD.replace("name: web", "name: api");
        let err = Scaffold {
            operation: Operation::Update,
            object: manifest("new.yaml", POD).unwrap(),
            old_object: Some(manifest("old.yaml", &other).unwrap()),
            namespace: Some("team-a".into()),
        }
        .admission_request()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "an UPDATE changes one object, but new.yaml is v1 Pod team-a/web and old.yaml is v1 Pod team-a/api"
        );
    }

    #[test]
    fn an_old_object_outside_update_is_refused() {
        for operation in [Operation::Create, Operation::Delete] {
            let err = Scaffold {
                operation,
                object: manifest("p.yaml", POD).unwrap(),
                old_object: Some(manifest("old.yaml", POD).unwrap()),
                namespace: None,
            }
            .admission_request()
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{operation} operation does not take an old object (old.yaml): only UPDATE has one; for DELETE, --object is the object being deleted"
                )
            );
        }
    }
}
