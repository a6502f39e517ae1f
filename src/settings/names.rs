//! The Kubernetes naming rules the policy relies on, so that a bad setting or
//! annotation is refused here instead of producing a pod the API server rejects.
//! Each check returns `Err(reason)`; callers add which key was wrong.

use std::borrow::Cow;

/// A naming rule a value breaks, written after the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rule {
    #[error("must be at most {max} characters, it has {len}")]
    TooLong { max: usize, len: usize },
    #[error(
        "must be a valid Kubernetes object name: lowercase letters, digits, '-' and '.', \
         starting and ending with a letter or digit (e.g. \"ca-bundle\" or \"my-org.com\")"
    )]
    ObjectName,
    #[error("must not be empty")]
    Empty,
    #[error("must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \"ca.crt\")")]
    ConfigMapKey,
    #[error("must not be '.' or '..' nor start with '..'")]
    DotKey,
    #[error(
        "must be a valid environment variable name: letters, digits, '_', '-' and '.', not \
         starting with a digit nor with '..', and not '.' (e.g. \"SSL_CERT_FILE\")"
    )]
    EnvVarName,
    #[error(
        "must be a qualified name: at most 63 letters, digits, '-', '_' and '.', starting and \
         ending with a letter or digit, optionally after a DNS subdomain and '/' (e.g. \"trust\" \
         or \"example.com/trust\")"
    )]
    QualifiedName,
    #[error(
        "must be a label value: empty, or at most 63 letters, digits, '-', '_' and '.', \
         starting and ending with a letter or digit (e.g. \"corp\")"
    )]
    LabelValue,
    #[error("must be an absolute path (starting with '/')")]
    NotAbsolute,
    #[error("must not contain control characters")]
    ControlCharacters,
    /// Not in normal form; what it would be in normal form.
    #[error(
        "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), e.g. \"{0}\""
    )]
    NotNormalised(String),
    /// A directory the mount would hide.
    #[error(
        "must not be {0}: the mount would hide the container's own {0}; use a directory of its \
         own such as \"/cacerts\""
    )]
    HidesDirectory(String),
    /// At or under a tree the container needs.
    #[error(
        "must not be at or under {0}, which the container needs; use a directory of its own \
         such as \"/cacerts\""
    )]
    UnderTree(&'static str),
    /// A system directory, given as a trust store file.
    #[error("must not be {0}: it is a directory the container needs, not a trust store file")]
    NotAFile(String),
    /// A trust store file at or under a tree the container needs.
    #[error("must not be at or under {0}, which the container needs")]
    FileUnderTree(&'static str),
    /// Under another file of the same list (`systemTrustStore`).
    #[error("is under {0:?}, another file of the list")]
    UnderListedFile(String),
    #[error("is listed twice")]
    ListedTwice,
    /// Not one of these annotations.
    #[error("is not an annotation of this policy; the annotations are: {}", .0.join(", "))]
    NotAnnotation(Vec<&'static str>),
    /// A mount path JAVA_TOOL_OPTIONS cannot carry to the trust store `key`.
    #[error(
        "contains whitespace, which JAVA_TOOL_OPTIONS cannot carry (setting javaTrustStore, key \
         {key:?})"
    )]
    Whitespace { key: String },
}

const SUBDOMAIN_MAX: usize = 253;
/// The longest DNS-1123 label (volume names, label values).
pub const LABEL_MAX: usize = 63;

/// Whether `part` is `alnum` bytes and `inner` ones, starting and ending with
/// an `alnum` one.
fn is_label_like(part: &str, alnum: fn(&u8) -> bool, inner: &[u8]) -> bool {
    let bytes = part.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || inner.contains(b))
        }
        _ => false,
    }
}

fn is_label_body(part: &str) -> bool {
    is_label_like(part, |b| b.is_ascii_lowercase() || b.is_ascii_digit(), b"-")
}

/// The values Go's strconv.ParseBool accepts, as the webhook read them.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "True" | "TRUE" | "t" | "T" | "1" => Some(true),
        "false" | "False" | "FALSE" | "f" | "F" | "0" => Some(false),
        _ => None,
    }
}

fn at_most(max: usize, value: &str) -> Result<(), Rule> {
    let len = value.len();
    (len <= max).then_some(()).ok_or(Rule::TooLong { max, len })
}

/// A DNS-1123 subdomain: the rule for ConfigMap, Secret and annotation-prefix names.
pub fn dns_subdomain(value: &str) -> Result<(), Rule> {
    at_most(SUBDOMAIN_MAX, value)?;
    let valid = value.split('.').all(is_label_body);
    valid.then_some(()).ok_or(Rule::ObjectName)
}

/// A DNS-1123 label: the rule for volume names.
pub fn is_dns_label(value: &str) -> bool {
    value.len() <= LABEL_MAX && is_label_body(value)
}

/// A key of a ConfigMap or Secret (`certFile`).
pub fn config_map_key(value: &str) -> Result<(), Rule> {
    if value.is_empty() {
        return Err(Rule::Empty);
    }
    at_most(SUBDOMAIN_MAX, value)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Rule::ConfigMapKey);
    }
    if value == "." || value == ".." || value.starts_with("..") {
        return Err(Rule::DotKey);
    }
    Ok(())
}

/// An environment variable name as the API server accepts it (IsEnvVarName,
/// the rule without the RelaxedEnvironmentVariableValidation gate): `.`, `..`
/// and names starting with `..` are refused as well.
pub fn env_var_name(value: &str) -> Result<(), Rule> {
    let mut bytes = value.bytes();
    let valid = bytes.next().is_some_and(|first| {
        (first.is_ascii_alphabetic() || matches!(first, b'_' | b'-' | b'.'))
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    });
    let valid = valid && value != "." && !value.starts_with("..");
    valid.then_some(()).ok_or(Rule::EnvVarName)
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit (IsValidLabelValue).
fn is_label_value(value: &str) -> bool {
    let label = |v| is_label_like(v, u8::is_ascii_alphanumeric, b"-_.");
    value.is_empty() || (value.len() <= LABEL_MAX && label(value))
}

/// A qualified name, the rule for label keys and annotation keys
/// (IsQualifiedName): an optional DNS subdomain prefix and `/`, then a
/// non-empty label value.
pub fn qualified_name(value: &str) -> Result<(), Rule> {
    let mut parts = value.split('/');
    let (prefix, name) = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, _) => (None, name),
        (Some(prefix), Some(name), None) => (Some(prefix), name),
        _ => (None, ""),
    };
    let prefix_ok = prefix.is_none_or(|p| dns_subdomain(p).is_ok());
    let valid = prefix_ok && !name.is_empty() && is_label_value(name);
    valid.then_some(()).ok_or(Rule::QualifiedName)
}

/// A label value (IsValidLabelValue).
pub fn label_value(value: &str) -> Result<(), Rule> {
    is_label_value(value).then_some(()).ok_or(Rule::LabelValue)
}

/// An absolute path in normal form: `/a/b`, no `.`, `..`, `//` or trailing `/`.
pub fn absolute_path(value: &str) -> Result<(), Rule> {
    let Some(rest) = value.strip_prefix('/') else {
        return Err(Rule::NotAbsolute);
    };
    if value.chars().any(char::is_control) {
        return Err(Rule::ControlCharacters);
    }
    // `/` alone is clean; an empty part elsewhere is a `//` or a trailing `/`.
    let loose = |part: &str| part.is_empty() || part == "." || part == "..";
    if !rest.is_empty() && rest.split('/').any(loose) {
        return Err(Rule::NotNormalised(normalise(value)));
    }
    Ok(())
}

/// What `absolute_path` would accept for a path written loosely: Go's
/// `path.Clean` of the path made absolute, as the kubelet makes a container
/// path (MakeAbsolutePath: `filepath.Clean("/" + path)`).
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
pub fn mount_path(value: &str) -> Result<(), Rule> {
    absolute_path(value)?;
    if HIDDEN_EXACT.contains(&value) {
        return Err(Rule::HidesDirectory(value.to_string()));
    }
    let tree = HIDDEN_TREES.iter().find(|tree| at_or_under(value, tree));
    tree.map_or(Ok(()), |tree| Err(Rule::UnderTree(tree)))
}

/// A file the bundle is put over (`systemTrustStore`): the rules of
/// `mount_path`, worded for a file.
pub fn store_file(value: &str) -> Result<(), Rule> {
    mount_path(value).map_err(|reason| match reason {
        Rule::HidesDirectory(dir) => Rule::NotAFile(dir),
        Rule::UnderTree(tree) => Rule::FileUnderTree(tree),
        other => other,
    })
}

/// Whether two clean paths are one, or one is under the other: a mount at
/// either keeps a mount at the other from working (`/` is above every path).
pub fn overlap(a: &str, b: &str) -> bool {
    let under = |path: &str, dir: &str| dir == "/" || at_or_under(path, dir);
    under(a, b) || under(b, a)
}

/// Whether `path` is `dir` or under it.
fn at_or_under(path: &str, dir: &str) -> bool {
    let rest = path.strip_prefix(dir);
    rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The files of a list setting (`systemTrustStore`, `javaTrustStore.cacerts`):
/// each a store file, none twice, none under another; else the first
/// refused, with its place in the list.
pub fn store_files<'a>(files: &[&'a str]) -> Result<(), (usize, &'a str, Rule)> {
    for (i, &file) in files.iter().enumerate() {
        store_file(file).map_err(|reason| (i, file, reason))?;
        if files.iter().take(i).any(|&seen| seen == file) {
            return Err((i, file, Rule::ListedTwice));
        }
    }
    for (i, &file) in files.iter().enumerate() {
        // Different, overlapping and longer: under the other.
        let above = |other: &&&str| file.len() > other.len() && overlap(file, other);
        if let Some(above) = files.iter().find(above) {
            return Err((i, file, Rule::UnderListedFile(above.to_string())));
        }
    }
    Ok(())
}

/// JAVA_TOOL_OPTIONS is split on whitespace, so the path of the trust store
/// `key` under the mount path cannot hold any.
pub fn trust_store_path(mount_path: &str, key: &str) -> Result<(), Rule> {
    if mount_path.contains(char::is_whitespace) {
        return Err(Rule::Whitespace {
            key: key.to_string(),
        });
    }
    Ok(())
}

/// Whether a path surely is in the form `normalise` gives it; one that is
/// but is not seen to be (`/.x`) is normalised to itself.
fn is_clean(value: &str) -> bool {
    // Bytes, not parts: this runs for every mount of every container. A part
    // that only starts with `.` is cleaned too, to the same spelling.
    value.starts_with('/')
        && (value.len() == 1 || !value.ends_with('/'))
        && !value
            .as_bytes()
            .windows(2)
            .any(|pair| matches!(pair, [b'/', b'/' | b'.']))
}

/// The directory a container path names at run time: the kubelet makes it
/// absolute and clean, so `//cacerts`, `/cacerts/.`, `/cacerts//` and
/// `cacerts` all name `/cacerts`.
pub fn clean_path(value: &str) -> Cow<'_, str> {
    if is_clean(value) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(normalise(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::ENV_NAME;

    #[test]
    fn dns_subdomain_and_label_rules() {
        for good in ["my-org.com", "ca-bundle", "a"] {
            assert!(dns_subdomain(good).is_ok(), "{good:?}");
        }
        for bad in ["", "Upper", "-a", "a-", "a..b", ".a", "a.", "a_b", "a b"] {
            assert_eq!(dns_subdomain(bad), Err(Rule::ObjectName), "{bad:?}");
        }
        assert_eq!(
            dns_subdomain(&"a".repeat(254)).map_err(|r| r.to_string()),
            Err("must be at most 253 characters, it has 254".to_string())
        );
        // A label has no dots and at most 63 characters.
        assert!(is_dns_label(&"a".repeat(63)));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label("my-org.com"));
    }

    #[test]
    fn config_map_key_rules() {
        for good in ["ca.crt", "bundle.pem", "trust_bundle-1.pem", ".hidden"] {
            assert!(config_map_key(good).is_ok(), "{good:?}");
        }
        for (bad, reason) in [
            ("", Rule::Empty),
            (".", Rule::DotKey),
            ("..", Rule::DotKey),
            ("..data", Rule::DotKey),
            ("a/b", Rule::ConfigMapKey),
            ("a b", Rule::ConfigMapKey),
        ] {
            assert_eq!(config_map_key(bad), Err(reason), "{bad:?}");
        }
    }

    #[test]
    fn env_var_name_rules() {
        for good in ["SSL_CERT_FILE", "_x", "node.extra", "a-b", ".x"] {
            assert!(env_var_name(good).is_ok(), "{good:?}");
        }
        // Among the refused: the names that would change directory.
        for bad in ["", "1ABC", "A=B", "A B", "Ä", ".", "..", "..x"] {
            assert_eq!(env_var_name(bad), Err(Rule::EnvVarName), "{bad:?}");
        }
        assert_eq!(Rule::EnvVarName.to_string(), ENV_NAME);
    }

    #[test]
    fn overlap_is_the_same_path_or_one_under_the_other() {
        assert!(overlap("/etc/ssl/cert.pem", "/etc/ssl/cert.pem"));
        assert!(overlap("/etc/ssl/cert.pem", "/etc/ssl"));
        assert!(overlap("/etc/ssl", "/etc/ssl/cert.pem"));
        assert!(overlap("/", "/etc/ssl/cert.pem"));
        assert!(!overlap("/etc/ssl/cert.pem", "/etc/ssl/cert"));
        assert!(!overlap("/etc/ssl/certs", "/etc/ssl/cert.pem"));
        assert!(!overlap("/cacerts", "/etc/ssl/cert.pem"));
    }

    #[test]
    fn mount_path_and_store_file_refuse_system_directories() {
        for hidden in ["/", "/etc", "/usr", "/bin", "/lib"] {
            assert_eq!(
                mount_path(hidden),
                Err(Rule::HidesDirectory(hidden.to_string()))
            );
        }
        let account = "/var/run/secrets/kubernetes.io/serviceaccount";
        for (under, tree) in [
            ("/proc", "/proc"),
            ("/proc/x", "/proc"),
            ("/sys/fs", "/sys"),
            ("/dev", "/dev"),
            (account, account),
            ("/var/run/secrets/kubernetes.io/serviceaccount/ca", account),
        ] {
            assert_eq!(mount_path(under), Err(Rule::UnderTree(tree)), "{under:?}");
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
        // store_file is mount_path's rule, worded for a file.
        assert_eq!(store_file("/etc/ssl/cert.pem"), Ok(()));
        assert_eq!(store_file("/etc"), Err(Rule::NotAFile("/etc".into())));
        assert_eq!(store_file("/proc/x"), Err(Rule::FileUnderTree("/proc")));
        assert_eq!(store_file("etc/ssl/cert.pem"), Err(Rule::NotAbsolute));
        assert_eq!(
            store_file("/etc/ssl//cert.pem"),
            Err(Rule::NotNormalised("/etc/ssl/cert.pem".into()))
        );
    }

    #[test]
    fn spellings_clean_as_go_cleans_them_and_absolute_path_wants_them_clean() {
        for spelling in [
            "/cacerts",
            "/cacerts/",
            "//cacerts",
            "/cacerts/.",
            "/cacerts//",
            "/./cacerts",
            "/x/../cacerts",
            "/../cacerts",
            "cacerts",
        ] {
            assert_eq!(clean_path(spelling), "/cacerts", "{spelling:?}");
        }
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("//."), "/");
        // Dot files are names like any other, cleaned or not.
        assert_eq!(clean_path("/.hidden/x"), "/.hidden/x");
        assert_eq!(clean_path("/a/..b"), "/a/..b");
        assert_ne!(clean_path("/cacerts2"), "/cacerts");
        assert_ne!(clean_path("/cacerts/sub"), "/cacerts");
        assert_ne!(clean_path("/etc/cacerts"), "/cacerts");
        // Go's path.Clean of the rooted path; a clean one is borrowed.
        assert!(matches!(clean_path("/a/b"), Cow::Borrowed(_)));
        assert_eq!(clean_path("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(clean_path(""), "/");
        assert_eq!(clean_path("a/b"), "/a/b");
        assert_eq!(clean_path("/.."), "/");
        // absolute_path refuses a spelling that cleans to another, naming that one.
        assert!(absolute_path("/cacerts").is_ok());
        assert!(absolute_path("/etc/ssl/certs").is_ok());
        assert_eq!(
            absolute_path("cacerts").map_err(|r| r.to_string()),
            Err("must be an absolute path (starting with '/')".to_string())
        );
        assert_eq!(
            absolute_path("/a//b/./c/../d/").map_err(|r| r.to_string()),
            Err(
                "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), \
                 e.g. \"/a/b/d\""
                    .to_string()
            )
        );
    }

    #[test]
    fn qualified_name_and_label_value_rules() {
        for good in [
            "trust",
            "example.com/trust",
            "a",
            "A_b.c-D",
            &"x".repeat(63),
        ] {
            assert!(qualified_name(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "Bad Key",
            "/trust",
            "example.com/",
            "a/b/c",
            "Example.com/trust",
            "-trust",
            "trust_",
            &"x".repeat(64),
        ] {
            assert_eq!(qualified_name(bad), Err(Rule::QualifiedName), "{bad:?}");
        }
        for good in ["", "corp", "Corp_1.x-y", &"v".repeat(63)] {
            assert!(label_value(good).is_ok(), "{good:?}");
        }
        for bad in ["x y", "-a", "a.", "a/b", &"v".repeat(64)] {
            assert_eq!(label_value(bad), Err(Rule::LabelValue), "{bad:?}");
        }
    }
}
