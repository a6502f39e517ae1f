//! The parts of messages that many modules share. A message is for the
//! person running `kubectl apply`: it names what is wrong (the setting, the
//! annotation, the field's path), why, and what would be valid. Each is
//! written once, in the `#[error]` of its variant (thiserror writes the
//! `Display`), in the module that raises it; lib's `Error` wraps them.
//!
//! `ValueError` is a value refused: `Subject` is what it is about (written
//! first), `Expected` what it must be, `Reason` why it is refused (written
//! after the value).

use std::fmt::{self, Display, Formatter};

use crate::diag::Kind;

/// A value refused where many modules read values: of the wrong kind,
/// invalid, or missing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("{subject} must be {expected}, found {found}")]
    WrongKind {
        subject: Subject,
        expected: Expected,
        found: Kind,
    },
    /// After a path the value follows with a space, after a key with a colon.
    #[error("{subject}{} {value:?} {reason}", if matches!(.subject, Subject::Path(_)) { "" } else { ":" })]
    Invalid {
        subject: Subject,
        value: String,
        reason: Reason,
    },
    #[error("{subject} is missing{}", .needs.map(|n| format!(": it must be {n}")).unwrap_or_default())]
    Missing {
        subject: Subject,
        needs: Option<Expected>,
    },
}

/// What a message is about, as it starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A setting, or a field of one (`javaTrustStore.key`).
    Setting(String),
    /// An item of a list setting.
    SettingItem(&'static str, usize),
    /// An annotation, by its whole key.
    Annotation(String),
    /// A value by its path in the object, or in a setting's value
    /// (`spec.containers[0].env`, `matchExpressions[0].key`).
    Path(String),
}

/// What a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    String,
    Boolean,
    StringList,
    Object,
    List,
    /// An object with these fields (their description).
    ObjectWith(&'static str),
    LabelKey,
    /// What `systemTrustStore` is.
    StoreFiles,
    Operator,
}

/// Why a value is refused, written after the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Reason {
    #[error("must be {0}")]
    MustBe(Expected),
    /// One of these strings, quoted: `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
    #[error("must be {}", one_of(.0))]
    OneOf(&'static [&'static str]),
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
    /// A path JAVA_TOOL_OPTIONS cannot carry to the trust store `key`.
    #[error(
        "contains whitespace, which JAVA_TOOL_OPTIONS cannot carry (setting javaTrustStore, key \
         {key:?})"
    )]
    Whitespace { key: String },
    #[error("is not a valid glob: {0}")]
    NotGlob(Box<Reason>),
    /// A comma-separated list with a pattern that is not a glob.
    #[error("has {pattern:?}, which is not a valid glob: {why}")]
    BadGlob { pattern: String, why: Box<Reason> },
    #[error("an empty pattern matches nothing")]
    EmptyPattern,
    #[error("a '\\' at the end escapes nothing")]
    TrailingEscape,
    #[error("'[' opens a character class that is never closed with ']'")]
    UnclosedClass,
    #[error("'{0}' cannot start a character class item")]
    ClassStart(char),
    #[error("the range '{0}-' has no end")]
    OpenRange(char),
    #[error("the range '{0}-{1}' is backwards")]
    BackwardsRange(char, char),
    #[error(
        "is not a ClusterTrustBundle name: it {0}, or a signer's bundle name such as \
         \"example.com:my-signer:root\""
    )]
    NotBundleName(Box<Reason>),
    /// The signer that the prefix (`example.com:signer`) names is refused.
    #[error(
        "is not a ClusterTrustBundle name: its signer prefix \"{prefix}:\" names the signer {:?}, \
         which {why}",
        .prefix.replace(':', "/")
    )]
    BadSignerPrefix { prefix: String, why: Box<Reason> },
    #[error(
        "is not a ClusterTrustBundle name: after its signer prefix \"{prefix}:\", {rest:?} {why}"
    )]
    BadAfterPrefix {
        prefix: String,
        rest: String,
        why: Box<Reason>,
    },
    #[error(
        "must be a signer name of the form \"example.com/my-signer\": a domain, one '/' and a path"
    )]
    SignerForm,
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
}

impl ValueError {
    pub fn wrong_kind(subject: Subject, expected: Expected, found: Kind) -> ValueError {
        ValueError::WrongKind {
            subject,
            expected,
            found,
        }
    }

    pub fn invalid(subject: Subject, value: &str, reason: Reason) -> ValueError {
        ValueError::Invalid {
            subject,
            value: value.to_string(),
            reason,
        }
    }
}

impl Subject {
    pub fn setting(key: &str) -> Subject {
        Subject::Setting(key.to_string())
    }

    pub fn path(at: impl Display) -> Subject {
        Subject::Path(at.to_string())
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

impl Display for Subject {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Setting(key) => write!(f, "setting \"{key}\""),
            Subject::SettingItem(key, i) => write!(f, "setting \"{key}\"[{i}]"),
            Subject::Annotation(key) => write!(f, "annotation \"{key}\""),
            Subject::Path(path) => f.write_str(path),
        }
    }
}

impl Display for Expected {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expected::String => f.write_str("a string"),
            Expected::Boolean => f.write_str("true or false"),
            Expected::StringList => f.write_str("a list of strings"),
            Expected::Object => f.write_str("an object"),
            Expected::List => f.write_str("a list"),
            Expected::ObjectWith(form) => write!(f, "an object with {form}"),
            Expected::LabelKey => f.write_str("a label key (e.g. \"trust\")"),
            Expected::Operator => f.write_str("In, NotIn, Exists or DoesNotExist"),
            Expected::StoreFiles => f.write_str("true, false or a list of absolute file paths"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_quotes_and_joins_the_words() {
        let reason = |words: &'static [&'static str]| Reason::OneOf(words).to_string();
        assert_eq!(reason(&["off"]), "must be \"off\"");
        assert_eq!(reason(&["true", "false"]), "must be \"true\" or \"false\"");
        assert_eq!(
            reason(&["off", "warn", "reject"]),
            "must be \"off\", \"warn\" or \"reject\""
        );
    }

    #[test]
    fn a_value_is_quoted_after_a_key_and_a_colon_or_after_a_path() {
        assert_eq!(
            ValueError::invalid(Subject::setting("certFile"), "a/b", Reason::ConfigMapKey)
                .to_string(),
            "setting \"certFile\": \"a/b\" must be a valid ConfigMap key: letters, digits, '-', \
             '_' and '.' (e.g. \"ca.crt\")"
        );
        assert_eq!(
            ValueError::invalid(Subject::path("matchLabels.tier"), "x y", Reason::LabelValue)
                .to_string(),
            "matchLabels.tier \"x y\" must be a label value: empty, or at most 63 letters, \
             digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. \"corp\")"
        );
    }
}
