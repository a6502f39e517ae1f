//! The Kubernetes naming rules the policy relies on, so that a bad setting or
//! annotation is refused here instead of producing a pod the API server rejects.
//! Each check returns `Err(reason)`; callers add which key was wrong.

const SUBDOMAIN_MAX: usize = 253;
const LABEL_MAX: usize = 63;

fn is_label_body(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// The values Go's strconv.ParseBool accepts, as the webhook read them.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "True" | "TRUE" | "t" | "T" | "1" => Some(true),
        "false" | "False" | "FALSE" | "f" | "F" | "0" => Some(false),
        _ => None,
    }
}

/// A DNS-1123 subdomain: the rule for ConfigMap, Secret and annotation-prefix names.
pub fn dns_subdomain(value: &str) -> Result<(), String> {
    if value.len() > SUBDOMAIN_MAX {
        return Err(format!(
            "must be at most {SUBDOMAIN_MAX} characters, it has {}",
            value.len()
        ));
    }
    if value.split('.').all(is_label_body) {
        Ok(())
    } else {
        Err(
            "must be a valid Kubernetes object name: lowercase letters, digits, '-' and '.', \
             starting and ending with a letter or digit (e.g. \"ca-bundle\" or \"my-org.com\")"
                .to_string(),
        )
    }
}

/// A DNS-1123 label: the rule for volume names.
pub fn is_dns_label(value: &str) -> bool {
    value.len() <= LABEL_MAX && is_label_body(value)
}

/// A key of a ConfigMap or Secret (`certFile`).
pub fn config_map_key(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".to_string());
    }
    if value.len() > SUBDOMAIN_MAX {
        return Err(format!(
            "must be at most {SUBDOMAIN_MAX} characters, it has {}",
            value.len()
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(
            "must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \"ca.crt\")"
                .to_string(),
        );
    }
    if value == "." || value == ".." || value.starts_with("..") {
        return Err("must not be '.' or '..' nor start with '..'".to_string());
    }
    Ok(())
}

/// An environment variable name as the API server accepts it.
pub fn env_var_name(value: &str) -> Result<(), String> {
    let mut bytes = value.bytes();
    let valid = match bytes.next() {
        Some(first) => {
            (first.is_ascii_alphabetic() || matches!(first, b'_' | b'-' | b'.'))
                && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(
            "must be a valid environment variable name: letters, digits, '_', '-' and '.', \
             not starting with a digit (e.g. \"SSL_CERT_FILE\")"
                .to_string(),
        )
    }
}

/// An absolute path in normal form: `/a/b`, no `.`, `..`, `//` or trailing `/`.
pub fn absolute_path(value: &str) -> Result<(), String> {
    let Some(rest) = value.strip_prefix('/') else {
        return Err("must be an absolute path (starting with '/')".to_string());
    };
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".to_string());
    }
    if rest.is_empty() {
        return Ok(());
    }
    if rest
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), e.g. \"{}\"",
            normalise(value)
        ));
    }
    Ok(())
}

/// What `absolute_path` would accept for a path written loosely.
fn normalise(value: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Directories that a mount would hide from the container, breaking it.
const HIDDEN_EXACT: &[&str] = &["/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64"];
const HIDDEN_TREES: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/var/run/secrets/kubernetes.io/serviceaccount",
    "/run/secrets/kubernetes.io/serviceaccount",
];

/// The directory where the bundle is mounted: absolute, normalised, and not a
/// system directory the mount would hide.
pub fn mount_path(value: &str) -> Result<(), String> {
    absolute_path(value)?;
    if HIDDEN_EXACT.contains(&value) {
        return Err(format!(
            "must not be {value}: the mount would hide the container's own {value}; \
             use a directory of its own such as \"/cacerts\""
        ));
    }
    for tree in HIDDEN_TREES {
        let under = value
            .strip_prefix(tree)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under {
            return Err(format!(
                "must not be at or under {tree}, which the container needs; \
                 use a directory of its own such as \"/cacerts\""
            ));
        }
    }
    Ok(())
}

/// Two mount paths name the same directory (the API server compares them as
/// strings, but a trailing slash still collides at run time).
pub fn same_path(a: &str, b: &str) -> bool {
    fn trimmed(path: &str) -> &str {
        match path.trim_end_matches('/') {
            "" => path,
            rest => rest,
        }
    }
    trimmed(a) == trimmed(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_accepts_dotted_names() {
        assert!(dns_subdomain("my-org.com").is_ok());
        assert!(dns_subdomain("ca-bundle").is_ok());
        assert!(dns_subdomain("a").is_ok());
    }

    #[test]
    fn subdomain_refuses_bad_names() {
        for bad in ["", "Upper", "-a", "a-", "a..b", ".a", "a.", "a_b", "a b"] {
            assert!(dns_subdomain(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            dns_subdomain(&"a".repeat(254)),
            Err("must be at most 253 characters, it has 254".to_string())
        );
    }

    #[test]
    fn label_has_no_dots_and_at_most_63_characters() {
        assert!(is_dns_label(&"a".repeat(63)));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label("my-org.com"));
    }

    #[test]
    fn config_map_key_rules() {
        for good in ["ca.crt", "bundle.pem", "trust_bundle-1.pem", ".hidden"] {
            assert!(config_map_key(good).is_ok(), "{good:?}");
        }
        for bad in ["", ".", "..", "..data", "a/b", "a b"] {
            assert!(config_map_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_var_name_rules() {
        for good in ["SSL_CERT_FILE", "_x", "node.extra", "a-b"] {
            assert!(env_var_name(good).is_ok(), "{good:?}");
        }
        for bad in ["", "1ABC", "A=B", "A B", "Ä"] {
            assert!(env_var_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn absolute_path_must_be_normalised() {
        assert!(absolute_path("/cacerts").is_ok());
        assert!(absolute_path("/etc/ssl/certs").is_ok());
        assert_eq!(
            absolute_path("cacerts"),
            Err("must be an absolute path (starting with '/')".to_string())
        );
        assert_eq!(
            absolute_path("/a//b/./c/../d/"),
            Err(
                "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), \
                 e.g. \"/a/b/d\""
                    .to_string()
            )
        );
    }

    #[test]
    fn mount_path_refuses_system_directories() {
        for bad in [
            "/",
            "/etc",
            "/usr",
            "/bin",
            "/lib",
            "/proc",
            "/proc/x",
            "/sys/fs",
            "/dev",
            "/var/run/secrets/kubernetes.io/serviceaccount",
            "/var/run/secrets/kubernetes.io/serviceaccount/ca",
        ] {
            assert!(mount_path(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            "/cacerts",
            "/etc/ssl/certs",
            "/etc/pki",
            "/usr/local/share/ca-certificates",
            "/procfs",
            "/var/run/secrets/other",
        ] {
            assert!(mount_path(good).is_ok(), "{good:?} should be allowed");
        }
    }

    #[test]
    fn same_path_ignores_trailing_slashes() {
        assert!(same_path("/cacerts", "/cacerts/"));
        assert!(same_path("/", "/"));
        assert!(!same_path("/cacerts", "/cacerts2"));
    }
}
