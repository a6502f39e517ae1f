//! ClusterTrustBundle and signer names, as the API server checks them, and
//! why a name is refused.

use crate::settings::names::{self, Rule};

/// Why a ClusterTrustBundle name is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleName {
    #[error(
        "is not a ClusterTrustBundle name: it {0}, or a signer's bundle name such as \
         \"example.com:my-signer:root\""
    )]
    NotName(Rule),
    /// The signer that the prefix (`example.com:signer`) names is refused.
    #[error(
        "is not a ClusterTrustBundle name: its signer prefix \"{prefix}:\" names the signer {:?}, \
         which {why}",
        .prefix.replace(':', "/")
    )]
    BadSignerPrefix { prefix: String, why: Signer },
    #[error(
        "is not a ClusterTrustBundle name: after its signer prefix \"{prefix}:\", {rest:?} {why}"
    )]
    BadAfterPrefix {
        prefix: String,
        rest: String,
        why: Rule,
    },
}

/// Why a signer name is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Signer {
    #[error(
        "must be a signer name of the form \"example.com/my-signer\": a domain, one '/' and a path"
    )]
    Form,
    #[error("must have a domain of at most {max} characters, it has {len}")]
    DomainTooLong { max: usize, len: usize },
    #[error(
        "has the domain label {0:?}, which must be at most 63 lowercase letters, digits and '-', \
         starting and ending with a letter or digit"
    )]
    DomainLabel(String),
    #[error(
        "must have a domain of at least two labels separated by dots (e.g. \
         \"example.com/my-signer\")"
    )]
    OneLabelDomain,
    #[error(
        "has the path part {part:?}, which must be lowercase letters, digits and '-', starting \
         and ending with a letter or digit, at most {max} characters (the path's parts are \
         separated by dots)"
    )]
    PathPart { part: String, max: usize },
    /// The whole name too long.
    #[error(transparent)]
    Name(#[from] Rule),
}

/// A ClusterTrustBundle name as the API server checks the projected volume's
/// `name` (validateProjectionSources, ValidateClusterTrustBundleName): a DNS
/// subdomain, or, for a bundle of a signer, `<signer name with ':' for
/// '/'>:<DNS subdomain>`. The signer part is checked as a signer name too:
/// no bundle of an invalid signer can exist (ValidateClusterTrustBundle), so
/// a pod naming one would never start.
pub fn trust_bundle_name(name: &str) -> Result<(), BundleName> {
    let Some((prefix, rest)) = name.rsplit_once(':') else {
        return names::dns_subdomain(name).map_err(BundleName::NotName);
    };
    signer_name(&prefix.replace(':', "/")).map_err(|why| BundleName::BadSignerPrefix {
        prefix: prefix.to_string(),
        why,
    })?;
    names::dns_subdomain(rest).map_err(|why| BundleName::BadAfterPrefix {
        prefix: prefix.to_string(),
        rest: rest.to_string(),
        why,
    })
}

const DOMAIN_MAX: usize = 253;
/// A signer name fits `<domain>/<namespace>.<name>` (ValidateSignerName).
const SIGNER_MAX: usize = 571;

/// `<domain>/<path>`, as ValidateSignerName checks a signer name: a domain
/// of at least two DNS labels, and a path of dot-separated parts each a
/// DNS-1123 subdomain without dots.
pub fn signer_name(value: &str) -> Result<(), Signer> {
    let mut parts = value.split('/');
    let (Some(domain), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Signer::Form);
    };
    if domain.len() > DOMAIN_MAX {
        return Err(Signer::DomainTooLong {
            max: DOMAIN_MAX,
            len: domain.len(),
        });
    }
    if let Some(label) = domain.split('.').find(|l| !names::is_dns_label(l)) {
        return Err(Signer::DomainLabel(label.to_string()));
    }
    if !domain.contains('.') {
        return Err(Signer::OneLabelDomain);
    }
    if let Some(part) = path.split('.').find(|p| names::dns_subdomain(p).is_err()) {
        return Err(Signer::PathPart {
            part: part.to_string(),
            max: DOMAIN_MAX,
        });
    }
    if value.len() > SIGNER_MAX {
        return Err(Rule::TooLong {
            max: SIGNER_MAX,
            len: value.len(),
        }
        .into());
    }
    Ok(())
}
