//! A pod's annotation of ours (`<prefix>/<key>`): its value read as the key's
//! rule needs it, and the ways a pod's annotations are refused.

use crate::diag::did_you_mean;
use crate::error::{Reason, Subject, ValueError};
use crate::settings::names;
use crate::settings::selection::Glob;

/// The pod's annotations refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(
        "annotation \"{prefix}/{name}\" is not an annotation of cainjector{}; the annotations \
         are: {}",
        did_you_mean(.known, .name, &format!("{prefix}/")),
        .known.join(", ")
    )]
    UnknownAnnotation {
        prefix: String,
        name: String,
        known: Vec<&'static str>,
    },
    #[error(
        "annotation \"{key}\" is not allowed: the cluster's cainjector policy lets pods use {} \
         (setting allowedOverrides)",
        if .allowed.is_empty() { "none of its annotations".to_string() } else { format!("only {}", .allowed.join(", ")) }
    )]
    AnnotationNotAllowed {
        key: String,
        allowed: Vec<&'static str>,
    },
    #[error(
        "annotations \"{first}\" and \"{second}\" are mutually exclusive: a pod takes its bundle \
         from one ConfigMap or one Secret"
    )]
    SourceAnnotations { first: String, second: String },
    /// A system trust store file and the bundle's mount path overlap.
    #[error(transparent)]
    StoreOverlap(#[from] StoreOverlap),
    /// A JDK trust store file and the pod's mount path overlap.
    #[error(transparent)]
    CacertsOverlap(#[from] CacertsOverlap),
}

/// A JDK default trust store file (`javaTrustStore.cacerts`) and another of
/// the bundle's mounts (`other`: the mount path, or a system trust store
/// file) overlap; `subject` is what brought them together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{subject}: the JDK trust store file {file} and {other} overlap (one is at or under the \
     other), and a container cannot mount both: keep javaTrustStore.cacerts apart from the mount \
     path and the system trust store files"
)]
pub struct CacertsOverlap {
    pub subject: Subject,
    pub file: String,
    pub other: String,
}

/// A system trust store file and the bundle's mount path overlap; `subject`
/// is what brought them together (a setting, or a pod's annotation).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{subject}: the system trust store file {file} and the mount path {mount_path} overlap (one \
     is at or under the other), and a container cannot mount the bundle at both: use a mountPath \
     apart from the system trust store files, or leave {file} out of systemTrustStore's list"
)]
pub struct StoreOverlap {
    pub subject: Subject,
    pub file: String,
    pub mount_path: String,
}

/// One of our annotations: its whole key and its value.
pub struct Annotation<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

impl Annotation<'_> {
    pub fn invalid(&self, reason: impl Into<Reason>) -> ValueError {
        ValueError::invalid(
            Subject::Annotation(self.key.to_string()),
            self.value,
            reason,
        )
    }

    pub fn checked<R: Into<Reason>>(
        &self,
        check: fn(&str) -> Result<(), R>,
    ) -> Result<String, ValueError> {
        check(self.value).map_err(|reason| self.invalid(reason))?;
        Ok(self.value.to_string())
    }

    /// A comma-separated list of globs.
    pub fn globs(&self) -> Result<Vec<Glob>, ValueError> {
        let glob = |p: &str| {
            Glob::parse(p).map_err(|why| {
                self.invalid(Reason::BadGlob {
                    pattern: p.to_string(),
                    why,
                })
            })
        };
        let patterns = self.value.split(',').map(str::trim);
        patterns.filter(|p| !p.is_empty()).map(glob).collect()
    }

    pub fn boolean(&self) -> Result<bool, ValueError> {
        names::parse_bool(self.value).ok_or_else(|| self.invalid(Reason::OneOf(&["true", "false"])))
    }
}
