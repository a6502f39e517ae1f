//! Every message the policy writes, worded once. A message is for the person
//! running `kubectl apply`: it names what is wrong (the setting, the
//! annotation, the field's path), why, and what would be valid. The modules
//! return these values; only `Display` below turns them into words.
//!
//! `Error` is a whole message. Its parts are data: `Subject` is what a
//! message is about (written first), `Expected` what a value must be,
//! `Reason` why a value is refused (written after the value).

use std::fmt::{self, Display, Formatter};

use crate::diag::{Kind, suggestion};

/// Why an admission, or a configuration, is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// `{subject} must be {expected}, found {found}`.
    WrongKind {
        subject: Subject,
        expected: Expected,
        found: Kind,
    },
    /// `{subject}: {value:?} {reason}`.
    Invalid {
        subject: Subject,
        value: String,
        reason: Reason,
    },
    /// `{subject} is missing`, and what it must be when that helps.
    Missing {
        subject: Subject,
        needs: Option<Expected>,
    },
    /// `{subject}: {problem}`: a problem inside a value (a label selector).
    In {
        subject: Subject,
        problem: Box<Error>,
    },

    // The request and the object.
    /// The payload, read as the API types it (`request`).
    Request(Box<Error>),
    NoObject {
        kind: String,
        operation: String,
    },
    /// The object's text, refused before it is read.
    Unreadable {
        kind: String,
        problem: Box<Error>,
    },
    /// The object does not have the shape of its kind.
    Malformed {
        kind: String,
        problem: Box<Error>,
    },
    NotJsonObject,
    TooDeep {
        limit: usize,
    },
    LoneSurrogate {
        leading: bool,
    },
    /// An object whose first key is serde_json's raw-value token: serde_json
    /// reads it as the JSON text in the member's string, not as an object.
    RawValueToken,
    /// serde_json's own message, for what the host's parser refuses.
    Json(String),
    /// serde_json reads a payload as JSON that the policy's index does not:
    /// a bug, refused rather than answered from a wrong reading.
    NotJson,
    OldObjectMissing,
    MutationNotJson(String),
    /// The policy's own edits broke the splicer's contract (json/splice.rs): a bug,
    /// refused rather than answered with a broken object.
    Splice(Splice),

    // The settings.
    SettingsJson(String),
    InvalidSettings(Box<Error>),
    UnknownSetting {
        key: String,
        known: &'static [&'static str],
    },
    /// A field that a setting's object does not have.
    UnknownField {
        setting: &'static str,
        field: String,
        form: &'static str,
    },
    NoSource,
    SourcesExclusive,
    OptInLocked,
    JavaKeyRequired,
    JavaPassword,
    JavaNeedsNamedSource,
    JavaOptionsListed,
    SelectorWithName,
    SelectorRequired,
    NameAndSigner,
    NameOrSigner,
    UnknownSelectorField(String),
    UnknownRequirementField {
        at: String,
        field: String,
    },
    ValuesNeeded {
        at: String,
    },
    ValuesRefused {
        at: String,
    },

    // The annotations.
    UnknownAnnotation {
        prefix: String,
        name: String,
        known: Vec<&'static str>,
    },
    AnnotationNotAllowed {
        key: String,
        allowed: Vec<&'static str>,
    },
    SourceAnnotations {
        first: String,
        second: String,
    },

    // sourceCheck.
    SourceUnreadable {
        kind: &'static str,
        name: String,
        namespace: String,
        reason: String,
    },
    SourceLacksKeys {
        kind: &'static str,
        name: String,
        namespace: String,
        keys: Vec<String>,
    },
    SourceRejected(Box<Error>),
    HostAnswer(String),
}

/// How the policy's edits to the object broke the splicer's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splice {
    /// An edit is not at a piece of the object (or not at a closing bracket).
    Outside,
    /// Two edits overlap.
    Overlap,
}

/// What a message is about, as it starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The settings as a whole.
    Settings,
    /// A setting, or a field of one (`javaTrustStore.key`).
    Setting(String),
    /// An item of a list setting.
    SettingItem(&'static str, usize),
    /// An annotation, by its whole key.
    Annotation(String),
    /// A value by its path in the object, or in a setting's value
    /// (`spec.containers[0].env`, `matchExpressions[0].key`).
    Path(String),
    /// The value itself, in an `Error::In`.
    It,
}

/// What a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    String,
    Boolean,
    StringList,
    Object,
    List,
    /// What the settings are.
    KeysAndValues,
    /// An object with these fields (their description).
    ObjectWith(&'static str),
    LabelSelector,
    LabelKey,
    Operator,
}

/// Why a value is refused, written after the value.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// One of `expected`, in words.
    MustBe(Expected),
    /// One of these strings, quoted.
    OneOf(&'static [&'static str]),
    TooLong {
        max: usize,
        len: usize,
    },
    ObjectName,
    Empty,
    ConfigMapKey,
    DotKey,
    EnvVarName,
    QualifiedName,
    LabelValue,
    NotAbsolute,
    ControlCharacters,
    /// Not in normal form; what it would be in normal form.
    NotNormalised(String),
    /// A directory the mount would hide.
    HidesDirectory(String),
    /// At or under a tree the container needs.
    UnderTree(&'static str),
    ListedTwice,
    /// Not one of these annotations.
    NotAnnotation(Vec<&'static str>),
    /// A path JAVA_TOOL_OPTIONS cannot carry to the trust store `key`.
    Whitespace {
        key: String,
    },
    NotGlob(Box<Reason>),
    /// A comma-separated list with a pattern that is not a glob.
    BadGlob {
        pattern: String,
        why: Box<Reason>,
    },
    EmptyPattern,
    TrailingEscape,
    UnclosedClass,
    ClassStart(char),
    OpenRange(char),
    BackwardsRange(char, char),
    NotBundleName(Box<Reason>),
    /// The signer that the prefix (`example.com:signer`) names is refused.
    BadSignerPrefix {
        prefix: String,
        why: Box<Reason>,
    },
    BadAfterPrefix {
        prefix: String,
        rest: String,
        why: Box<Reason>,
    },
    SignerForm,
    DomainTooLong {
        max: usize,
        len: usize,
    },
    DomainLabel(String),
    OneLabelDomain,
    PathPart {
        part: String,
        max: usize,
    },
}

/// What the policy tells the client while it still answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// `sourceCheck: warn` found the source missing, so nothing was injected.
    NotInjected(Error),
    /// The status annotation would take the annotations over the budget.
    StatusLeftOut {
        key: String,
        size: usize,
        limit: usize,
    },
}

impl Error {
    pub fn wrong_kind(subject: Subject, expected: Expected, found: Kind) -> Error {
        Error::WrongKind {
            subject,
            expected,
            found,
        }
    }

    pub fn invalid(subject: Subject, value: &str, reason: Reason) -> Error {
        Error::Invalid {
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

// The fixed wordings, named so that the tables below stay one line a message.
const NO_SOURCE: &str = "one of the settings \"configMap\" or \"secret\" is required: the name \
    of the ConfigMap or Secret holding the trust bundle in each namespace (e.g. configMap: \
    ca-bundle), or \"clusterTrustBundle\"";
const SOURCES_EXCLUSIVE: &str = "the settings \"configMap\", \"secret\" and \
    \"clusterTrustBundle\" are mutually exclusive: set only the one that holds the trust bundle";
const OPT_IN_LOCKED: &str = "setting \"inject\" is false (opt-in mode) but \"allowedOverrides\" \
    does not list \"inject\", so no pod could ever opt in: add \"inject\" to \"allowedOverrides\"";
const JAVA_KEY_REQUIRED: &str = "setting \"javaTrustStore.key\" is required: the key of the \
    trust store in the bundle (e.g. trust-manager's additionalFormats output \"truststore.p12\")";
const JAVA_PASSWORD: &str = "setting \"javaTrustStore.password\" must be without spaces or \
    quotes: JAVA_TOOL_OPTIONS is split on spaces";
const JAVA_NEEDS_NAMED_SOURCE: &str = "setting \"javaTrustStore\" needs a ConfigMap or Secret \
    source: a ClusterTrustBundle projects only the PEM bundle";
const JAVA_OPTIONS_LISTED: &str = "setting \"envVars\" must not list JAVA_TOOL_OPTIONS when \
    \"javaTrustStore\" is set: the policy adds the trust store options to it";
const SELECTOR_WITH_NAME: &str = "setting \"clusterTrustBundle.labelSelector\" only goes with \
    \"signerName\", not with \"name\"";
const SELECTOR_REQUIRED: &str = "setting \"clusterTrustBundle.labelSelector\" is required with \
    \"signerName\" (an unset selector matches no bundle; {} matches every bundle of the signer)";
const NAME_AND_SIGNER: &str =
    "setting \"clusterTrustBundle\": \"name\" and \"signerName\" are mutually exclusive";
const NAME_OR_SIGNER: &str =
    "setting \"clusterTrustBundle\" needs \"name\", or \"signerName\" and \"labelSelector\"";
const OLD_OBJECT_MISSING: &str = "oldObject is missing: an ephemeralcontainers update must carry \
    the pod as it was, to tell the new debug containers from the existing ones";
const NOT_JSON_OBJECT: &str = "the object must be a JSON object";
const SPLICE: &str = "cainjector could not write its additions into the object (please report \
    this bug)";
const NOT_ALLOWED: &str = "is not allowed: the cluster's cainjector policy lets pods use";
const OWN_DIRECTORY: &str = "use a directory of its own such as \"/cacerts\"";

/// One match for every message, so that the compiler checks none lacks words.
impl Display for Error {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongKind {
                subject: Subject::It,
                expected,
                found,
            } => {
                write!(f, "must be {expected}, found {found}")
            }
            Error::WrongKind {
                subject,
                expected,
                found,
            } => {
                write!(f, "{subject} must be {expected}, found {found}")
            }
            Error::Invalid {
                subject: subject @ Subject::Path(_),
                value,
                reason,
            } => {
                write!(f, "{subject} {value:?} {reason}")
            }
            Error::Invalid {
                subject,
                value,
                reason,
            } => write!(f, "{subject}: {value:?} {reason}"),
            Error::Missing {
                subject,
                needs: None,
            } => write!(f, "{subject} is missing"),
            Error::Missing {
                subject,
                needs: Some(needs),
            } => {
                write!(f, "{subject} is missing: it must be {needs}")
            }
            Error::In { subject, problem } => write!(f, "{subject}: {problem}"),
            Error::Request(e) => write!(f, "cannot read the admission request: {e}"),
            Error::NoObject { kind, operation } => {
                write!(f, "the {kind} {operation} request carries no object")
            }
            Error::Unreadable { kind, problem } => write!(f, "cannot read the {kind}: {problem}"),
            Error::Malformed { kind, problem } => write!(f, "malformed {kind}: {problem}"),
            Error::NotJsonObject => f.write_str(NOT_JSON_OBJECT),
            Error::TooDeep { limit } => {
                write!(
                    f,
                    "recursion limit exceeded: nested deeper than {limit} levels"
                )
            }
            Error::LoneSurrogate { leading: true } => {
                f.write_str("lone leading surrogate in hex escape")
            }
            Error::LoneSurrogate { leading: false } => {
                f.write_str("lone trailing surrogate in hex escape")
            }
            Error::RawValueToken => f.write_str(
                "an object's first key is \"$serde_json::private::RawValue\", which the host's \
                 JSON parser reads as the text in its string, not as a key",
            ),
            Error::Json(e) => f.write_str(e),
            Error::NotJson => f.write_str(
                "the policy cannot index a payload serde_json reads (a bug in the policy)",
            ),
            Error::OldObjectMissing => f.write_str(OLD_OBJECT_MISSING),
            Error::MutationNotJson(e) => write!(f, "the mutated object is not JSON: {e}"),
            Error::Splice(Splice::Outside) => write!(f, "{SPLICE}: an edit is outside the object"),
            Error::Splice(Splice::Overlap) => write!(f, "{SPLICE}: two edits overlap"),
            Error::SettingsJson(e) => write!(f, "the settings are not valid JSON: {e}"),
            Error::InvalidSettings(e) => write!(f, "invalid policy settings: {e}"),
            Error::UnknownSetting { key, known } => unknown_setting(f, key, known),
            Error::UnknownField {
                setting,
                field,
                form,
            } => {
                write!(f, "setting \"{setting}.{field}\" is not known: use {form}")
            }
            Error::NoSource => f.write_str(NO_SOURCE),
            Error::SourcesExclusive => f.write_str(SOURCES_EXCLUSIVE),
            Error::OptInLocked => f.write_str(OPT_IN_LOCKED),
            Error::JavaKeyRequired => f.write_str(JAVA_KEY_REQUIRED),
            Error::JavaPassword => f.write_str(JAVA_PASSWORD),
            Error::JavaNeedsNamedSource => f.write_str(JAVA_NEEDS_NAMED_SOURCE),
            Error::JavaOptionsListed => f.write_str(JAVA_OPTIONS_LISTED),
            Error::SelectorWithName => f.write_str(SELECTOR_WITH_NAME),
            Error::SelectorRequired => f.write_str(SELECTOR_REQUIRED),
            Error::NameAndSigner => f.write_str(NAME_AND_SIGNER),
            Error::NameOrSigner => f.write_str(NAME_OR_SIGNER),
            Error::UnknownSelectorField(field) => {
                write!(
                    f,
                    "{field:?} is not part of a label selector (matchLabels, matchExpressions)"
                )
            }
            Error::UnknownRequirementField { at, field } => write!(
                f,
                "{at}.{field} is not known: a requirement has {}",
                Expected::REQUIREMENT_FIELDS
            ),
            Error::ValuesNeeded { at } => {
                write!(f, "{at} with In or NotIn needs at least one value")
            }
            Error::ValuesRefused { at } => {
                write!(f, "{at} with Exists or DoesNotExist takes no values")
            }
            Error::UnknownAnnotation {
                prefix,
                name,
                known,
            } => unknown_annotation(f, prefix, name, known),
            Error::AnnotationNotAllowed { key, allowed } if allowed.is_empty() => write!(
                f,
                "annotation \"{key}\" {NOT_ALLOWED} none of its annotations (setting allowedOverrides)"
            ),
            Error::AnnotationNotAllowed { key, allowed } => write!(
                f,
                "annotation \"{key}\" {NOT_ALLOWED} only {} (setting allowedOverrides)",
                allowed.join(", ")
            ),
            Error::SourceAnnotations { first, second } => write!(
                f,
                "annotations \"{first}\" and \"{second}\" are mutually exclusive: a pod takes its \
                 bundle from one ConfigMap or one Secret"
            ),
            Error::SourceUnreadable {
                kind,
                name,
                namespace,
                reason,
            } if reason.is_empty() => {
                write!(
                    f,
                    "{kind} {name:?} could not be read in namespace {namespace:?}"
                )
            }
            Error::SourceUnreadable {
                kind,
                name,
                namespace,
                reason,
            } => {
                write!(
                    f,
                    "{kind} {name:?} could not be read in namespace {namespace:?}: {reason}"
                )
            }
            Error::SourceLacksKeys {
                kind,
                name,
                namespace,
                keys,
            } => {
                write!(f, "{kind} {name:?} in namespace {namespace:?} has no key ")?;
                joined(f, keys, " nor ", |f, key| write!(f, "{key:?}"))
            }
            Error::SourceRejected(problem) => write!(
                f,
                "the trust bundle cannot be injected: {problem} (setting sourceCheck: reject)"
            ),
            Error::HostAnswer(e) => write!(f, "the host's answer is not JSON: {e}"),
        }
    }
}

fn unknown_setting(f: &mut Formatter<'_>, key: &str, known: &[&str]) -> fmt::Result {
    write!(f, "setting \"{key}\" is not a known setting")?;
    if let Some(near) = suggestion(known.iter().copied(), key) {
        write!(f, " (did you mean \"{near}\"?)")?;
    }
    write!(f, "; the settings are: {}", known.join(", "))
}

fn unknown_annotation(
    f: &mut Formatter<'_>,
    prefix: &str,
    name: &str,
    known: &[&str],
) -> fmt::Result {
    write!(
        f,
        "annotation \"{prefix}/{name}\" is not an annotation of cainjector"
    )?;
    if let Some(near) = suggestion(known.iter().copied(), name) {
        write!(f, " (did you mean \"{prefix}/{near}\"?)")?;
    }
    write!(f, "; the annotations are: {}", known.join(", "))
}

/// `items`, each written by `item`, with `joint` between them.
fn joined<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    joint: &str,
    item: impl Fn(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, each) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(joint)?;
        }
        item(f, each)?;
    }
    Ok(())
}

impl Display for Subject {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Settings => f.write_str("settings"),
            Subject::Setting(key) => write!(f, "setting \"{key}\""),
            Subject::SettingItem(key, i) => write!(f, "setting \"{key}\"[{i}]"),
            Subject::Annotation(key) => write!(f, "annotation \"{key}\""),
            Subject::Path(path) => f.write_str(path),
            Subject::It => Ok(()),
        }
    }
}

impl Expected {
    pub const REQUIREMENT_FIELDS: &'static str = "\"key\", \"operator\" and \"values\"";
}

impl Display for Expected {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expected::String => f.write_str("a string"),
            Expected::Boolean => f.write_str("true or false"),
            Expected::StringList => f.write_str("a list of strings"),
            Expected::Object => f.write_str("an object"),
            Expected::List => f.write_str("a list"),
            Expected::KeysAndValues => f.write_str("an object of keys and values"),
            Expected::ObjectWith(form) => write!(f, "an object with {form}"),
            Expected::LabelSelector => f.write_str("a label selector object"),
            Expected::LabelKey => f.write_str("a label key (e.g. \"trust\")"),
            Expected::Operator => f.write_str("In, NotIn, Exists or DoesNotExist"),
        }
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn one_of(f: &mut Formatter<'_>, words: &[&str]) -> fmt::Result {
    let Some((last, rest)) = words.split_last() else {
        return Ok(());
    };
    joined(f, rest, ", ", |f, word| write!(f, "\"{word}\""))?;
    if !rest.is_empty() {
        f.write_str(" or ")?;
    }
    write!(f, "\"{last}\"")
}

const OBJECT_NAME: &str = "must be a valid Kubernetes object name: lowercase letters, digits, \
    '-' and '.', starting and ending with a letter or digit (e.g. \"ca-bundle\" or \"my-org.com\")";
const CONFIG_MAP_KEY: &str =
    "must be a valid ConfigMap key: letters, digits, '-', '_' and '.' (e.g. \"ca.crt\")";
const ENV_VAR_NAME: &str = "must be a valid environment variable name: letters, digits, '_', '-' \
    and '.', not starting with a digit nor with '..', and not '.' (e.g. \"SSL_CERT_FILE\")";
const QUALIFIED_NAME: &str = "must be a qualified name: at most 63 letters, digits, '-', '_' and \
    '.', starting and ending with a letter or digit, optionally after a DNS subdomain and '/' \
    (e.g. \"trust\" or \"example.com/trust\")";
const LABEL_VALUE: &str = "must be a label value: empty, or at most 63 letters, digits, '-', '_' \
    and '.', starting and ending with a letter or digit (e.g. \"corp\")";
const NOT_NORMALISED: &str =
    "must be a normalised absolute path (no '//', '.', '..' or trailing '/'), e.g.";
const NOT_BUNDLE_NAME: &str = "is not a ClusterTrustBundle name:";
const SIGNER_FORM: &str = "must be a signer name of the form \"example.com/my-signer\": a \
    domain, one '/' and a path";
const DOMAIN_LABEL: &str = "which must be at most 63 lowercase letters, digits and '-', starting \
    and ending with a letter or digit";
const ONE_LABEL_DOMAIN: &str = "must have a domain of at least two labels separated by dots (e.g. \
    \"example.com/my-signer\")";
const PATH_PART: &str =
    "which must be lowercase letters, digits and '-', starting and ending with a letter or digit";

/// One match for every reason, so that the compiler checks none lacks words.
impl Display for Reason {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MustBe(expected) => write!(f, "must be {expected}"),
            Reason::OneOf(words) => {
                f.write_str("must be ")?;
                one_of(f, words)
            }
            Reason::TooLong { max, len } => {
                write!(f, "must be at most {max} characters, it has {len}")
            }
            Reason::ObjectName => f.write_str(OBJECT_NAME),
            Reason::Empty => f.write_str("must not be empty"),
            Reason::ConfigMapKey => f.write_str(CONFIG_MAP_KEY),
            Reason::DotKey => f.write_str("must not be '.' or '..' nor start with '..'"),
            Reason::EnvVarName => f.write_str(ENV_VAR_NAME),
            Reason::QualifiedName => f.write_str(QUALIFIED_NAME),
            Reason::LabelValue => f.write_str(LABEL_VALUE),
            Reason::NotAbsolute => f.write_str("must be an absolute path (starting with '/')"),
            Reason::ControlCharacters => f.write_str("must not contain control characters"),
            Reason::NotNormalised(clean) => write!(f, "{NOT_NORMALISED} \"{clean}\""),
            Reason::HidesDirectory(dir) => write!(
                f,
                "must not be {dir}: the mount would hide the container's own {dir}; {OWN_DIRECTORY}"
            ),
            Reason::UnderTree(tree) => {
                write!(
                    f,
                    "must not be at or under {tree}, which the container needs; {OWN_DIRECTORY}"
                )
            }
            Reason::ListedTwice => f.write_str("is listed twice"),
            Reason::NotAnnotation(known) => write!(
                f,
                "is not an annotation of this policy; the annotations are: {}",
                known.join(", ")
            ),
            Reason::Whitespace { key } => write!(
                f,
                "contains whitespace, which JAVA_TOOL_OPTIONS cannot carry (setting javaTrustStore, \
                 key {key:?})"
            ),
            Reason::NotGlob(why) => write!(f, "is not a valid glob: {why}"),
            Reason::BadGlob { pattern, why } => {
                write!(f, "has {pattern:?}, which is not a valid glob: {why}")
            }
            Reason::EmptyPattern => f.write_str("an empty pattern matches nothing"),
            Reason::TrailingEscape => f.write_str("a '\\' at the end escapes nothing"),
            Reason::UnclosedClass => {
                f.write_str("'[' opens a character class that is never closed with ']'")
            }
            Reason::ClassStart(c) => write!(f, "'{c}' cannot start a character class item"),
            Reason::OpenRange(lo) => write!(f, "the range '{lo}-' has no end"),
            Reason::BackwardsRange(lo, hi) => write!(f, "the range '{lo}-{hi}' is backwards"),
            Reason::NotBundleName(why) => write!(
                f,
                "{NOT_BUNDLE_NAME} it {why}, or a signer's bundle name such as \
                 \"example.com:my-signer:root\""
            ),
            Reason::BadSignerPrefix { prefix, why } => write!(
                f,
                "{NOT_BUNDLE_NAME} its signer prefix \"{prefix}:\" names the signer {:?}, which {why}",
                prefix.replace(':', "/")
            ),
            Reason::BadAfterPrefix { prefix, rest, why } => {
                write!(
                    f,
                    "{NOT_BUNDLE_NAME} after its signer prefix \"{prefix}:\", {rest:?} {why}"
                )
            }
            Reason::SignerForm => f.write_str(SIGNER_FORM),
            Reason::DomainTooLong { max, len } => {
                write!(
                    f,
                    "must have a domain of at most {max} characters, it has {len}"
                )
            }
            Reason::DomainLabel(label) => {
                write!(f, "has the domain label {label:?}, {DOMAIN_LABEL}")
            }
            Reason::OneLabelDomain => f.write_str(ONE_LABEL_DOMAIN),
            Reason::PathPart { part, max } => write!(
                f,
                "has the path part {part:?}, {PATH_PART}, at most {max} characters (the path's \
                 parts are separated by dots)"
            ),
        }
    }
}

impl Display for Warning {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NotInjected(problem) => {
                write!(f, "cainjector did not inject the trust bundle: {problem}")
            }
            Warning::StatusLeftOut { key, size, limit } => write!(
                f,
                "cainjector injected the trust bundle but left out its annotation \"{key}\": \
                 with it the annotations would take {size} bytes, over the {limit} bytes the \
                 API server allows (keys and values together)"
            ),
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
            Error::invalid(Subject::setting("certFile"), "a/b", Reason::ConfigMapKey).to_string(),
            "setting \"certFile\": \"a/b\" must be a valid ConfigMap key: letters, digits, '-', \
             '_' and '.' (e.g. \"ca.crt\")"
        );
        assert_eq!(
            Error::invalid(Subject::path("matchLabels.tier"), "x y", Reason::LabelValue)
                .to_string(),
            "matchLabels.tier \"x y\" must be a label value: empty, or at most 63 letters, \
             digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. \"corp\")"
        );
    }

    #[test]
    fn wrong_kind_of_the_value_itself_names_no_subject() {
        let inner = Error::wrong_kind(Subject::It, Expected::LabelSelector, Kind::List);
        assert_eq!(
            Error::In {
                subject: Subject::setting("clusterTrustBundle.labelSelector"),
                problem: Box::new(inner),
            }
            .to_string(),
            "setting \"clusterTrustBundle.labelSelector\": must be a label selector object, \
             found a list"
        );
    }

    #[test]
    fn missing_keys_are_joined_with_nor() {
        let lacks = |keys: &[&str]| Error::SourceLacksKeys {
            kind: "ConfigMap",
            name: "ca".into(),
            namespace: "team-a".into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        };
        assert_eq!(
            lacks(&["ca.crt", "truststore.p12"]).to_string(),
            "ConfigMap \"ca\" in namespace \"team-a\" has no key \"ca.crt\" nor \"truststore.p12\""
        );
    }

    #[test]
    fn an_error_fits_in_a_small_result() {
        // Every step of the mutation returns one: clippy's result_large_err
        // bound, with room to spare for a new variant.
        assert!(
            std::mem::size_of::<Error>() <= 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
