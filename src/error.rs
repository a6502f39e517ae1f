//! The parts of messages that many modules share. A message is for the
//! person running `kubectl apply`: it names what is wrong (the setting, the
//! annotation, the field's path), why, and what would be valid. Each is
//! written once, in the `#[error]` of its variant (thiserror writes the
//! `Display`), in the module that raises it; lib's `Error` wraps them.
//!
//! `ValueError` is a value refused: `Subject` is what it is about (written
//! first), `Expected` what it must be, `Reason` why it is refused (written
//! after the value): its own variants are raised by several modules; a rule
//! of one module (a name or a path, a glob, a signer) keeps its reasons there.

use std::fmt::Display;

use crate::diag::Kind;
use crate::settings::names::Rule;
use crate::settings::selection::GlobError;
use crate::settings::signer::{BundleName, Signer};

/// A value refused where many modules read values: of the wrong kind,
/// invalid, missing, or with a field it does not have.
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
    /// A field that a setting's object does not have; `form` says what it has.
    #[error("{subject} is not known: use {form}")]
    UnknownField {
        subject: Subject,
        form: &'static str,
    },
}

/// What a message is about, as it starts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Subject {
    /// A setting, or a field of one (`javaTrustStore.key`).
    #[error("setting \"{0}\"")]
    Setting(String),
    /// An item of a list setting.
    #[error("setting \"{0}\"[{1}]")]
    SettingItem(&'static str, usize),
    /// An annotation, by its whole key.
    #[error("annotation \"{0}\"")]
    Annotation(String),
    /// A value by its path in the object, or in a setting's value
    /// (`spec.containers[0].env`, `matchExpressions[0].key`).
    #[error("{0}")]
    Path(String),
}

/// What a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Expected {
    #[error("a string")]
    String,
    #[error("true or false")]
    Boolean,
    #[error("a list of strings")]
    StringList,
    #[error("an object")]
    Object,
    #[error("a list")]
    List,
    /// An object with these fields (their description).
    #[error("an object with {0}")]
    ObjectWith(&'static str),
    #[error("a label key (e.g. \"trust\")")]
    LabelKey,
    /// What `systemTrustStore` is.
    #[error("true, false or a list of absolute file paths")]
    StoreFiles,
    #[error("In, NotIn, Exists or DoesNotExist")]
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
    #[error(transparent)]
    Name(#[from] Rule),
    #[error("is not a valid glob: {0}")]
    NotGlob(GlobError),
    /// A comma-separated list with a pattern that is not a glob.
    #[error("has {pattern:?}, which is not a valid glob: {why}")]
    BadGlob { pattern: String, why: GlobError },
    #[error(transparent)]
    Signer(#[from] Signer),
    /// Boxed: the largest reason, kept out of every `Result`'s size.
    #[error(transparent)]
    BundleName(Box<BundleName>),
}

impl From<BundleName> for Reason {
    fn from(why: BundleName) -> Reason {
        Reason::BundleName(Box::new(why))
    }
}

impl ValueError {
    pub fn wrong_kind(subject: Subject, expected: Expected, found: Kind) -> ValueError {
        ValueError::WrongKind {
            subject,
            expected,
            found,
        }
    }

    pub fn invalid(subject: Subject, value: &str, reason: impl Into<Reason>) -> ValueError {
        ValueError::Invalid {
            subject,
            value: value.to_string(),
            reason: reason.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_quotes_and_joins_the_words_and_values_are_quoted() {
        let reason = |words: &'static [&'static str]| Reason::OneOf(words).to_string();
        assert_eq!(reason(&["off"]), "must be \"off\"");
        assert_eq!(reason(&["true", "false"]), "must be \"true\" or \"false\"");
        assert_eq!(
            reason(&["off", "warn", "reject"]),
            "must be \"off\", \"warn\" or \"reject\""
        );
        // A value is quoted after a key and a colon, or after a path.
        let invalid = |subject, value, rule: Rule| ValueError::invalid(subject, value, rule);
        assert_eq!(
            invalid(Subject::setting("certFile"), "a/b", Rule::ConfigMapKey).to_string(),
            "setting \"certFile\": \"a/b\" must be a valid ConfigMap key: letters, digits, '-', \
             '_' and '.' (e.g. \"ca.crt\")"
        );
        assert_eq!(
            invalid(Subject::path("matchLabels.tier"), "x y", Rule::LabelValue).to_string(),
            "matchLabels.tier \"x y\" must be a label value: empty, or at most 63 letters, \
             digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. \"corp\")"
        );
    }
}
